//! The calibration report: a fit chart per metric (observed against the simulated median and
//! p5–p95 band at the estimate), `report.md` and `report.html`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{both, e, human, register_font};
use crate::calibrate::{Calibration, CalibrationDoc, Observed};
use crate::metrics::{Metric, Unit};
use crate::scenario::Scenario;

/// One fit chart's data: run days `first..first + observed.len()`.
struct Fit<'a> {
    title: String,
    y_label: String,
    first: usize,
    observed: &'a [f64],
    p5: Vec<f64>,
    p50: Vec<f64>,
    p95: Vec<f64>,
    /// First hold-out day (run day), if any.
    split: Option<usize>,
}

fn fit_chart<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, f: &Fit) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let days = f.first + f.observed.len();
    let ymax = f
        .p95
        .iter()
        .chain(f.observed)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let mut chart = daily_frame(&root, &f.title, &f.y_label, days, ymax)?;
    let pts = |v: &[f64]| {
        v.iter()
            .enumerate()
            .map(|(d, y)| ((f.first + d) as f64, *y))
            .collect::<Vec<_>>()
    };
    if let Some(s) = f.split {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(s as f64 - 0.5, 0.0), (s as f64 - 0.5, ymax)],
                BLACK.stroke_width(2),
            )))
            .map_err(e)?
            .label("start of the hold-out")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.stroke_width(2)));
    }
    let mut poly = pts(&f.p95);
    poly.extend(pts(&f.p5).into_iter().rev());
    chart
        .draw_series(std::iter::once(Polygon::new(poly, BLUE.mix(0.18))))
        .map_err(e)?
        .label("simulated p5–p95")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], BLUE.mix(0.18).filled()));
    chart
        .draw_series(LineSeries::new(pts(&f.p50), BLUE.stroke_width(2)))
        .map_err(e)?
        .label("simulated median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    let red = RGBColor(200, 40, 40);
    chart
        .draw_series(LineSeries::new(pts(f.observed), red.stroke_width(2)))
        .map_err(e)?
        .label("observed")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], red.stroke_width(2)));
    chart
        .draw_series(
            pts(f.observed)
                .into_iter()
                .map(|p| Circle::new(p, 3, red.filled())),
        )
        .map_err(e)?;
    legend_and_present(&mut chart, &root)
}

/// Writes `fit_<metric>.png` and `.svg` for every observed metric; their names and titles.
pub fn write_fit_charts(
    dir: &Path,
    sc: &Scenario,
    obs: &Observed,
    cal: &Calibration,
) -> Result<Vec<(String, String)>> {
    register_font();
    let first = obs.first_day as usize;
    let n = obs.days as usize;
    let split = cal.holdout.as_ref().map(|h| h.first_day as usize);
    let mut out = Vec::new();
    let daily = crate::experiment::daily::DailyAgg::of(
        &obs.metrics,
        cal.replications.iter().map(|r| &r.daily[..]),
    );
    for (k, &m) in obs.metrics.iter().enumerate() {
        let b = daily.band(m);
        let slice = |v: &[f64]| {
            (first..first + n)
                .map(|d| v.get(d).copied().unwrap_or(0.0))
                .collect()
        };
        let f = Fit {
            title: format!("{}: observed and simulated at the estimate", m.name()),
            y_label: unit_label(sc, m),
            first,
            observed: &obs.values[k],
            p5: slice(&b.p5),
            p50: slice(&b.p50),
            p95: slice(&b.p95),
            split,
        };
        let name = format!("fit_{}", m.name());
        both(dir, &name, &|a| fit_chart(a, &f), &|a| fit_chart(a, &f))?;
        out.push((name, f.title.clone()));
    }
    Ok(out)
}

fn unit_label(sc: &Scenario, m: Metric) -> String {
    match m.unit() {
        Unit::Money => format!("{} per day ({})", m.name(), sc.region.currency),
        Unit::Count => format!("{} per day", m.name()),
    }
}

/// A statistic as the tables show it: as JSON writes it, whole above 10⁴; `—` when it is not
/// a number.
fn num(x: f64) -> String {
    match serde_json::Number::from_f64(x) {
        None => "—".into(),
        Some(_) if x.abs() >= 1e4 => format!("{x:.0}"),
        Some(n) => n.to_string(),
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("—".into(), num)
}

/// The parameter table, the fit table and the hold-out table as Markdown.
fn tables(doc: &CalibrationDoc) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| parameter | estimate | 95% interval | std. error | variance ratio | range | identifiable |\n|---|---:|---:|---:|---:|---:|---|"
    );
    for (path, p) in &doc.parameters {
        let _ = writeln!(
            s,
            "| `{path}` | {} | {} – {} | {} | {} | {} – {} | {} |",
            num(p.estimate),
            num(p.ci95.0),
            num(p.ci95.1),
            opt(p.std_error),
            num(p.variance_ratio),
            num(p.bounds.0),
            num(p.bounds.1),
            if p.identifiable { "yes" } else { "**no**" }
        );
    }
    for (title, w) in [
        ("Fit window", Some(&doc.fit)),
        ("Hold-out", doc.holdout.as_ref()),
    ] {
        let Some(w) = w else {
            continue;
        };
        let _ = writeln!(
            s,
            "\n### {title}: {} to {} ({} days)\n\nObjective (−2 log synthetic likelihood) {}; discrepancy {} over {} summaries, {} per summary (about 1 when the model fits, much more when it does not).\n",
            w.first_date,
            w.last_date,
            w.days,
            num(w.objective),
            num(w.discrepancy),
            w.summaries,
            num(w.discrepancy_per_summary),
        );
        let _ = writeln!(
            s,
            "| metric | observed total | simulated median | simulated p5 – p95 | relative error | days in the p5–p95 band |\n|---|---:|---:|---:|---:|---:|"
        );
        for (m, v) in &w.metrics {
            let rel = v
                .relative_error
                .filter(|r| r.is_finite())
                .map_or("—".to_string(), |r| format!("{:+.1}%", r * 100.0));
            let band = if v.days_in_band.is_finite() {
                v.days_in_band
            } else {
                0.0
            };
            let _ = writeln!(
                s,
                "| {m} | {} | {} | {} – {} | {rel} | {:.0}% |",
                num(v.observed_total),
                num(v.simulated_median),
                num(v.simulated_p5),
                num(v.simulated_p95),
                band * 100.0
            );
        }
    }
    s
}

fn intro(doc: &CalibrationDoc) -> String {
    format!(
        "Scenario `{}` fitted to `{}` ({}) by Gaussian synthetic likelihood on {}-day sums, {} replications per candidate with common random numbers (seed {}), COBYLA, {} evaluations. Intervals: profile likelihood, each key's threshold scaled by its variance ratio (the estimate's variance over {} fresh simulated worlds against the profile's curvature; Student-t), widened to any bound the data cannot reject. See docs/calibration.md.",
        doc.scenario_file,
        doc.observed_file,
        doc.metrics.join(", "),
        doc.method.block_days,
        doc.replications,
        doc.seed,
        doc.objective.evaluations,
        doc.method.fresh_worlds,
    )
}

/// Writes `report.md` and `report.html` of a calibration.
pub fn write_reports(
    dir: &Path,
    sc: &Scenario,
    doc: &CalibrationDoc,
    charts: &[(String, String)],
    fitted_file: &str,
) -> Result<()> {
    let warnings: Vec<&str> = doc.warnings.iter().map(String::as_str).collect();
    let mut md = format!("# Calibration: {}\n\n{}\n\n", sc.name, intro(doc));
    for w in &warnings {
        let _ = writeln!(md, "> **Warning:** {w}\n");
    }
    let _ = writeln!(md, "## Estimates\n\n{}", tables(doc));
    let _ = writeln!(
        md,
        "\nThe scenario with the fitted values: [`{fitted_file}`]({fitted_file}).\n\n## Fit charts\n"
    );
    for (file, title) in charts {
        let _ = writeln!(md, "![{title}]({file}.png)\n");
    }
    fs::write(dir.join("report.md"), md)?;

    let esc = super::esc;
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(h, "<title>affsim calibration — {}</title>", esc(&sc.name));
    h.push_str("<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:0.9em}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:1px 4px}.warn{background:#fff4e0;padding:0.5em 1em;border-left:4px solid #e90}</style>\n</head><body>\n");
    let _ = writeln!(
        h,
        "<h1>Calibration: {}</h1>\n<p>{}</p>",
        esc(&sc.name),
        esc(&intro(doc))
    );
    for w in &warnings {
        let _ = writeln!(h, "<p class=\"warn\">Warning: {}</p>", esc(w));
    }
    // The Markdown tables, as HTML tables.
    h.push_str("<h2>Estimates</h2>\n");
    let mut in_table = false;
    for line in tables(doc).lines() {
        if let Some(t) = line.strip_prefix("### ") {
            let _ = writeln!(h, "<h3>{}</h3>", esc(t));
        } else if line.starts_with("|---") {
            continue;
        } else if let Some(row) = line.strip_prefix('|') {
            if !in_table {
                h.push_str("<table>\n");
                in_table = true;
            }
            h.push_str("<tr>");
            for cell in row.trim_end_matches('|').split('|') {
                let c = cell.trim().replace("**", "").replace('`', "");
                let _ = write!(h, "<td>{}</td>", esc(&c));
            }
            h.push_str("</tr>\n");
        } else {
            if in_table {
                h.push_str("</table>\n");
                in_table = false;
            }
            if !line.trim().is_empty() {
                let _ = writeln!(h, "<p>{}</p>", esc(line));
            }
        }
    }
    if in_table {
        h.push_str("</table>\n");
    }
    let _ = writeln!(
        h,
        "<p>The scenario with the fitted values: <code>{}</code>.</p>\n<h2>Fit charts</h2>",
        esc(fitted_file)
    );
    for (file, title) in charts {
        let svg = fs::read_to_string(dir.join(format!("{file}.svg")))?;
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        let _ = writeln!(
            h,
            "<figure>{body}<figcaption>{}</figcaption></figure>",
            esc(title)
        );
    }
    h.push_str("</body></html>\n");
    fs::write(dir.join("report.html"), h)?;
    Ok(())
}

/// Writes a calibration's folder: calibration.json, the fitted scenario, fit charts and the
/// two reports.
pub fn write_calibration(
    dir: &Path,
    sc: &Scenario,
    obs: &Observed,
    cal: &Calibration,
    doc: &CalibrationDoc,
    fitted: (&str, &str),
) -> Result<()> {
    super::output::write_json(dir, "calibration.json", doc)?;
    fs::write(dir.join(fitted.0), fitted.1)?;
    let charts = write_fit_charts(dir, sc, obs, cal)?;
    write_reports(dir, sc, doc, &charts, fitted.0)
}

/// The frame of a per-day chart: caption, axes with the days and amounts, grid.
fn daily_frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    days: usize,
    ymax: f64,
) -> Result<
    ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(92)
        .build_cartesian_2d(0f64..(days as f64 - 1.0).max(1.0), 0f64..ymax)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("day of the run")
        .y_desc(y_label)
        .label_style(("sans-serif", 14))
        .y_label_formatter(&|v| human(*v))
        .draw()
        .map_err(e)?;
    Ok(chart)
}

/// Draws a daily chart's legend (upper right) and writes the file.
fn legend_and_present<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    root: &'a DrawingArea<DB, Shift>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}
