//! A sweep's report folder: sweep.json, per-replication sweep.csv, sweep-summary.csv, charts of
//! paired differences with their intervals, report.md and a self-contained report.html.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::charts::{both, e, human, register_font};
use super::{esc, figure_html};
use crate::experiment::summary::Figure;
use crate::experiment::sweep::{Diff, SweepArm, SweepDoc};
use crate::scenario::Scenario;

/// The metrics the table, notes and charts show, with their titles.
const SHOWN: [(&str, &str); 4] = [
    ("gmv", "GMV"),
    ("marketing_cost", "Marketing cost"),
    ("rewards_paid", "Plus rewards paid"),
    ("seller_net", "Seller net"),
];

/// An interval's bounds as exact text; empty cells where there is none.
fn bounds(ci: &Option<(Figure, Figure)>) -> [String; 2] {
    ci.as_ref()
        .map_or([String::new(), String::new()], |(lo, hi)| {
            [lo.to_string(), hi.to_string()]
        })
}

/// `mean [lo, hi]` of a difference, short (B/M/k); `mean (no CI)` for one replication.
fn diff_cell(d: Option<&Diff>) -> String {
    let m = human(d.map_or(0.0, |d| d.mean.f64()));
    match d.and_then(|d| d.ci95.as_ref()) {
        Some((lo, hi)) => format!("{m} [{}, {}]", human(lo.f64()), human(hi.f64())),
        None => format!("{m} (no CI)"),
    }
}

/// An arm's metric's paired difference, if the arm has the metric and is not the baseline.
fn diff<'a>(a: &'a SweepArm, metric: &str) -> Option<&'a Diff> {
    a.metric(metric).and_then(|m| m.diff_vs_baseline.as_ref())
}

/// The sweep's headline table, one line per arm (names in full): GMV, the paired differences of GMV and
/// marketing cost against the baseline with their 95% intervals, and Δcost ÷ ΔGMV (`*` when a
/// note below qualifies it).
pub fn table(doc: &SweepDoc) -> Vec<String> {
    let w = doc
        .arms
        .iter()
        .map(|a| a.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut lines = vec![format!(
        "{:<4} {:<w$} {:>12} {:>28} {:>28} {:>12}",
        "arm", "name", "GMV (mean)", "ΔGMV [95% CI]", "Δcost [95% CI]", "Δcost/ΔGMV"
    )];
    for a in &doc.arms {
        let (dg, dc, per) = if a.baseline {
            ("baseline".into(), "baseline".into(), "—".into())
        } else {
            let c = a.cost_per_incremental_gmv.as_ref();
            let per = match c.map(|c| (&c.estimate, c.note.is_some())) {
                Some((Some(x), true)) => format!("{x}*"),
                Some((Some(x), false)) => x.to_string(),
                _ => "—".to_string(),
            };
            (
                diff_cell(diff(a, "gmv")),
                diff_cell(diff(a, "marketing_cost")),
                per,
            )
        };
        lines.push(format!(
            "{:<4} {:<w$} {:>12} {:>28} {:>28} {:>12}",
            a.arm,
            a.name,
            human(a.metric("gmv").map_or(0.0, |m| m.mean.f64())),
            dg,
            dc,
            per
        ));
    }
    lines
}

/// The title line above the table.
pub fn heading(doc: &SweepDoc) -> String {
    format!(
        "{} — sweep of {} arm(s) × {} replication(s), seed {}, common random numbers; differences are paired against arm 0 ({}), 95% Student-t intervals",
        doc.scenario,
        doc.arms.len(),
        doc.replications,
        doc.seed,
        doc.arms.first().map_or("baseline", |a| a.name.as_str())
    )
}

/// Plain notes that qualify the table: no intervals for one replication, Δcost ÷ ΔGMV where
/// ΔGMV's interval spans zero or there is no GMV difference.
pub fn notes(doc: &SweepDoc) -> Vec<String> {
    let mut out = Vec::new();
    if doc.replications == 1 {
        out.push(
            "one replication: no intervals (an interval needs at least two replications)".into(),
        );
    }
    for a in &doc.arms {
        if let Some(n) = a
            .cost_per_incremental_gmv
            .as_ref()
            .and_then(|c| c.note.as_ref())
        {
            out.push(format!("arm {} ({}): Δcost/ΔGMV — {n}", a.arm, a.name));
        }
    }
    out
}

/// Writes `sweep.csv`: one row per arm × replication × metric, the replication's value, so any
/// statistic can be recomputed.
fn write_rows(path: &Path, doc: &SweepDoc) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["arm", "arm_name", "replication", "metric", "value"])?;
    for a in &doc.arms {
        for r in &a.per_replication {
            for (metric, v) in &r.figures {
                w.write_record([
                    a.arm.to_string(),
                    a.name.clone(),
                    r.replication.to_string(),
                    metric.clone(),
                    v.to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `sweep-summary.csv`: one row per arm × metric: mean, interval, paired difference and
/// its interval (empty cells where there is none).
fn write_summary(path: &Path, doc: &SweepDoc) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "arm",
        "arm_name",
        "metric",
        "unit",
        "mean",
        "ci95_low",
        "ci95_high",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
    ])?;
    for a in &doc.arms {
        for (name, m) in &a.metrics {
            let d = m.diff_vs_baseline.as_ref();
            let [lo, hi] = bounds(&m.ci95);
            let [dlo, dhi] = d.map_or([String::new(), String::new()], |d| bounds(&d.ci95));
            w.write_record([
                a.arm.to_string(),
                a.name.clone(),
                name.clone(),
                m.unit.clone(),
                m.mean.to_string(),
                lo,
                hi,
                d.map_or(String::new(), |d| d.mean.to_string()),
                dlo,
                dhi,
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

/// One arm's paired difference: its name, mean and interval (if any).
type DiffPoint = (String, f64, Option<(f64, f64)>);

/// Charts of the paired differences against the baseline: per non-baseline arm the mean
/// difference with its 95% interval as an error bar, around a line at zero.
fn write_charts(dir: &Path, doc: &SweepDoc, currency: &str) -> Result<Vec<(String, String)>> {
    register_font();
    let mut out = Vec::new();
    if doc.arms.len() < 2 {
        return Ok(out);
    }
    for (metric, title) in SHOWN {
        let pts: Vec<DiffPoint> = doc
            .arms
            .iter()
            .skip(1)
            .map(|a| {
                let d = diff(a, metric);
                let ci = d
                    .and_then(|d| d.ci95.as_ref())
                    .map(|(lo, hi)| (lo.f64(), hi.f64()));
                // the arm's name where it fits under its bar, else its number
                let label = if a.name.chars().count() <= 24 {
                    a.name.clone()
                } else {
                    format!("arm {}", a.arm)
                };
                (label, d.map_or(0.0, |d| d.mean.f64()), ci)
            })
            .collect();
        let title = format!("Δ {title} against the baseline");
        let y_label = format!("paired difference per replication ({currency}), 95% CI");
        let name = format!("sweep_diff_{metric}");
        both(
            dir,
            &name,
            &|root| diff_chart(root, &title, &y_label, &pts),
            &|root| diff_chart(root, &title, &y_label, &pts),
        )?;
        out.push((name, title));
    }
    Ok(out)
}

fn diff_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    pts: &[DiffPoint],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(e)?;
    let lows = pts.iter().map(|p| p.2.map_or(p.1, |c| c.0));
    let highs = pts.iter().map(|p| p.2.map_or(p.1, |c| c.1));
    let lo = lows.fold(0.0f64, f64::min);
    let hi = highs.fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.1).max(1.0);
    let n = pts.len().max(1);
    let labels: Vec<String> = pts.iter().map(|p| p.0.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(92)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo - pad)..(hi + pad))
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc("arm (names and settings: see the table)")
        .y_desc(y_label)
        .label_style(("sans-serif", 12))
        .y_label_formatter(&|v| human(*v))
        .disable_x_mesh()
        .draw()
        .map_err(e)?;
    chart
        .draw_series(LineSeries::new(
            [(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(e)?;
    chart
        .draw_series(pts.iter().enumerate().filter_map(|(i, p)| {
            p.2.map(|(l, h)| ErrorBar::new_vertical(i as f64, l, p.1, h, BLUE.filled(), 12))
        }))
        .map_err(e)?;
    chart
        .draw_series(
            pts.iter()
                .enumerate()
                .map(|(i, p)| Circle::new((i as f64, p.1), 5, BLUE.filled())),
        )
        .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The arms with their settings, as (arm, name, settings) text.
fn arm_rows(doc: &SweepDoc) -> Vec<(String, String, String)> {
    doc.arms
        .iter()
        .map(|a| {
            let settings = if a.settings.is_empty() {
                "the file as written".to_string()
            } else {
                a.settings
                    .iter()
                    .map(|x| format!("{} = {}", x.path, x.value))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            (a.arm.to_string(), a.name.clone(), settings)
        })
        .collect()
}

/// Per metric of [`SHOWN`], one row per arm: mean [CI] and paired difference [CI], exact.
fn detail_rows(doc: &SweepDoc, metric: &str) -> Vec<[String; 4]> {
    let cell = |mean: &Figure, ci: &Option<(Figure, Figure)>| match ci {
        Some((lo, hi)) => format!("{mean} [{lo}, {hi}]"),
        None => mean.to_string(),
    };
    doc.arms
        .iter()
        .map(|a| {
            let m = a.metric(metric);
            [
                a.arm.to_string(),
                a.name.clone(),
                m.map_or(String::new(), |m| cell(&m.mean, &m.ci95)),
                match m.and_then(|m| m.diff_vs_baseline.as_ref()) {
                    None => "baseline".into(),
                    Some(d) => cell(&d.mean, &d.ci95),
                },
            ]
        })
        .collect()
}

const INTRO: &str = "Every arm uses the same random streams per replication (common random numbers), so differences against the baseline (arm 0) are paired: each replication's difference is taken, then averaged. Intervals are Student-t 95% intervals of the mean; one replication gives none. Marketing cost = commissions + Shop Ads commissions + distributor fees + flat fees + Plus rewards + service fees.";

/// Writes the sweep's `report.md`.
fn write_markdown(
    dir: &Path,
    sc: &Scenario,
    doc: &SweepDoc,
    charts: &[(String, String)],
) -> Result<()> {
    let mut f = String::new();
    writeln!(f, "# Sweep: {}\n", sc.name)?;
    if !sc.description.is_empty() {
        writeln!(f, "{}\n", sc.description.trim())?;
    }
    writeln!(
        f,
        "Region {} ({}), {} arm(s) × {} replication(s), seed {}. {INTRO}\n",
        sc.region.code,
        sc.region.currency,
        doc.arms.len(),
        doc.replications,
        doc.seed
    )?;
    writeln!(f, "## Arms\n\n| arm | name | settings |\n|---:|---|---|")?;
    for (a, n, s) in arm_rows(doc) {
        writeln!(f, "| {a} | {n} | `{s}` |")?;
    }
    writeln!(f, "\n## Result\n\n```text\n{}", heading(doc))?;
    for line in table(doc) {
        writeln!(f, "{line}")?;
    }
    writeln!(f, "```\n")?;
    for n in notes(doc) {
        writeln!(f, "- {n}")?;
    }
    for (metric, title) in SHOWN {
        writeln!(
            f,
            "\n### {title} ({})\n\n| arm | name | mean [95% CI] | paired difference [95% CI] |\n|---:|---|---:|---:|",
            sc.region.currency
        )?;
        for r in detail_rows(doc, metric) {
            writeln!(f, "| {} | {} | {} | {} |", r[0], r[1], r[2], r[3])?;
        }
    }
    if !charts.is_empty() {
        writeln!(f, "\n## Paired differences\n")?;
        for (file, title) in charts {
            writeln!(f, "![{title}]({file}.png)\n")?;
        }
    }
    writeln!(
        f,
        "\nEvery replication's figures are in `sweep.csv` (arm, arm_name, replication, metric, value); the summary rows in `sweep-summary.csv`."
    )?;
    fs::write(dir.join("report.md"), f)?;
    Ok(())
}

/// Writes the sweep's `report.html`: one self-contained page (charts inlined as SVG).
fn write_html(
    dir: &Path,
    sc: &Scenario,
    doc: &SweepDoc,
    charts: &[(String, String)],
) -> Result<()> {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>affsim sweep — {}</title>\n",
        esc(&sc.name)
    ));
    h.push_str("<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:0.9em}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}td:nth-child(2),th:nth-child(2),td:nth-child(3){text-align:left}figure{margin:1.5em 0}svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:1px 4px}pre{overflow-x:auto}</style>\n</head><body>\n");
    h.push_str(&format!("<h1>Sweep: {}</h1>\n", esc(&sc.name)));
    if !sc.description.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", esc(sc.description.trim())));
    }
    h.push_str(&format!(
        "<p>Region {} ({}), {} arm(s) × {} replication(s), seed <code>{}</code>. {}</p>\n",
        esc(&sc.region.code),
        esc(&sc.region.currency),
        doc.arms.len(),
        doc.replications,
        doc.seed,
        esc(INTRO)
    ));
    h.push_str("<h2>Arms</h2>\n<table><tr><th>arm</th><th>name</th><th>settings</th></tr>\n");
    for (a, n, s) in arm_rows(doc) {
        h.push_str(&format!(
            "<tr><td>{a}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            esc(&n),
            esc(&s)
        ));
    }
    h.push_str("</table>\n<h2>Result</h2>\n<pre>");
    h.push_str(&esc(&heading(doc)));
    h.push('\n');
    for line in table(doc) {
        h.push_str(&esc(&line));
        h.push('\n');
    }
    h.push_str("</pre>\n");
    let notes = notes(doc);
    if !notes.is_empty() {
        h.push_str("<ul>\n");
        for n in notes {
            h.push_str(&format!("<li>{}</li>\n", esc(&n)));
        }
        h.push_str("</ul>\n");
    }
    for (metric, title) in SHOWN {
        h.push_str(&format!(
            "<h3>{} ({})</h3>\n<table><tr><th>arm</th><th>name</th><th>mean [95% CI]</th><th>paired difference [95% CI]</th></tr>\n",
            esc(title),
            esc(&sc.region.currency)
        ));
        for r in detail_rows(doc, metric) {
            h.push_str("<tr>");
            for c in r {
                h.push_str(&format!("<td>{}</td>", esc(&c)));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    if !charts.is_empty() {
        h.push_str("<h2>Paired differences</h2>\n");
    }
    for (file, title) in charts {
        h.push_str(&figure_html(dir, file, title)?);
    }
    h.push_str("<p>Every replication's figures: <code>sweep.csv</code>; summary rows: <code>sweep-summary.csv</code>; everything: <code>sweep.json</code>.</p>\n</body></html>\n");
    fs::write(dir.join("report.html"), h)?;
    Ok(())
}

/// Writes a sweep's report folder: sweep.json, sweep.csv (per replication), sweep-summary.csv,
/// charts of paired differences, report.md and report.html. `affsim sweep` and `affsim merge`
/// both write through here.
pub fn write_sweep(dir: &Path, sc: &Scenario, doc: &SweepDoc) -> Result<()> {
    super::output::write_json(dir, "sweep.json", doc)?;
    write_rows(&dir.join("sweep.csv"), doc)?;
    write_summary(&dir.join("sweep-summary.csv"), doc)?;
    let charts = write_charts(dir, doc, &sc.region.currency)?;
    write_markdown(dir, sc, doc, &charts)?;
    write_html(dir, sc, doc, &charts)?;
    Ok(())
}
