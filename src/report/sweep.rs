//! A sweep's report folder: sweep.json, per-replication sweep.csv, sweep-summary.csv, charts of
//! paired differences with their intervals, report.md and a self-contained report.html.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;

use super::charts::{both, e, human, register_font};
use super::{esc, figure_html};
use crate::scenario::Scenario;

/// The metrics the table, notes and charts show, with their titles.
const SHOWN: [(&str, &str); 4] = [
    ("gmv", "GMV"),
    ("marketing_cost", "Marketing cost"),
    ("rewards_paid", "Plus rewards paid"),
    ("seller_net", "Seller net"),
];

/// A figure of sweep.json (a decimal string or a number) as a number.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        v => v.as_f64(),
    }
}

/// A figure of sweep.json as its exact text (strings unquoted).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

fn arms(doc: &Value) -> &[Value] {
    doc["arms"].as_array().map_or(&[], Vec::as_slice)
}

/// `mean [lo, hi]` of a difference, short (B/M/k); `mean (no CI)` for one replication.
fn diff_cell(d: &Value) -> String {
    let m = human(num(&d["mean"]).unwrap_or(0.0));
    match (num(&d["ci95"][0]), num(&d["ci95"][1])) {
        (Some(lo), Some(hi)) => format!("{m} [{}, {}]", human(lo), human(hi)),
        _ => format!("{m} (no CI)"),
    }
}

/// The sweep's headline table, one line per arm (names in full): GMV, the paired differences of GMV and
/// marketing cost against the baseline with their 95% intervals, and Δcost ÷ ΔGMV (`*` when a
/// note below qualifies it).
pub fn table(doc: &Value) -> Vec<String> {
    let w = arms(doc)
        .iter()
        .map(|a| a["name"].as_str().unwrap_or("").chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut lines = vec![format!(
        "{:<4} {:<w$} {:>12} {:>28} {:>28} {:>12}",
        "arm", "name", "GMV (mean)", "ΔGMV [95% CI]", "Δcost [95% CI]", "Δcost/ΔGMV"
    )];
    for a in arms(doc) {
        let m = &a["metrics"];
        let name = a["name"].as_str().unwrap_or("");
        let (dg, dc, per) = if a["baseline"].as_bool() == Some(true) {
            ("baseline".into(), "baseline".into(), "—".into())
        } else {
            let c = &a["cost_per_incremental_gmv"];
            let per = match (c["estimate"].as_str(), c["note"].is_string()) {
                (Some(x), true) => format!("{x}*"),
                (Some(x), false) => x.to_string(),
                (None, _) => "—".to_string(),
            };
            (
                diff_cell(&m["gmv"]["diff_vs_baseline"]),
                diff_cell(&m["marketing_cost"]["diff_vs_baseline"]),
                per,
            )
        };
        lines.push(format!(
            "{:<4} {:<w$} {:>12} {:>28} {:>28} {:>12}",
            a["arm"].as_u64().unwrap_or(0),
            name,
            human(num(&m["gmv"]["mean"]).unwrap_or(0.0)),
            dg,
            dc,
            per
        ));
    }
    lines
}

/// The title line above the table.
pub fn heading(doc: &Value) -> String {
    format!(
        "{} — sweep of {} arm(s) × {} replication(s), seed {}, common random numbers; differences are paired against arm 0 ({}), 95% Student-t intervals",
        text(&doc["scenario"]),
        arms(doc).len(),
        doc["replications"],
        doc["seed"],
        arms(doc)
            .first()
            .and_then(|a| a["name"].as_str())
            .unwrap_or("baseline")
    )
}

/// Plain notes that qualify the table: no intervals for one replication, Δcost ÷ ΔGMV where
/// ΔGMV's interval spans zero or there is no GMV difference.
pub fn notes(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if doc["replications"].as_u64() == Some(1) {
        out.push(
            "one replication: no intervals (an interval needs at least two replications)".into(),
        );
    }
    for a in arms(doc) {
        if let Some(n) = a["cost_per_incremental_gmv"]["note"].as_str() {
            out.push(format!(
                "arm {} ({}): Δcost/ΔGMV — {n}",
                a["arm"],
                a["name"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

/// Writes `sweep.csv`: one row per arm × replication × metric, the replication's value, so any
/// statistic can be recomputed.
fn write_rows(path: &Path, doc: &Value) -> Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(["arm", "arm_name", "replication", "metric", "value"])?;
    for a in arms(doc) {
        let name = a["name"].as_str().unwrap_or("");
        for r in a["per_replication"].as_array().into_iter().flatten() {
            let Some(fields) = r.as_object() else {
                continue;
            };
            for (metric, v) in fields.iter().filter(|(k, _)| *k != "replication") {
                w.write_record([
                    a["arm"].to_string(),
                    name.to_string(),
                    r["replication"].to_string(),
                    metric.clone(),
                    text(v),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `sweep-summary.csv`: one row per arm × metric: mean, interval, paired difference and
/// its interval (empty cells where there is none).
fn write_summary(path: &Path, doc: &Value) -> Result<()> {
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
    for a in arms(doc) {
        for (name, m) in a["metrics"].as_object().into_iter().flatten() {
            let d = &m["diff_vs_baseline"];
            w.write_record([
                a["arm"].to_string(),
                a["name"].as_str().unwrap_or("").to_string(),
                name.clone(),
                text(&m["unit"]),
                text(&m["mean"]),
                text(&m["ci95"][0]),
                text(&m["ci95"][1]),
                text(&d["mean"]),
                text(&d["ci95"][0]),
                text(&d["ci95"][1]),
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
fn write_charts(dir: &Path, doc: &Value, currency: &str) -> Result<Vec<(String, String)>> {
    register_font();
    let mut out = Vec::new();
    if arms(doc).len() < 2 {
        return Ok(out);
    }
    for (metric, title) in SHOWN {
        let pts: Vec<DiffPoint> = arms(doc)
            .iter()
            .skip(1)
            .map(|a| {
                let d = &a["metrics"][metric]["diff_vs_baseline"];
                let ci = num(&d["ci95"][0]).zip(num(&d["ci95"][1]));
                // the arm's name where it fits under its bar, else its number
                let name = a["name"].as_str().unwrap_or("");
                let label = if name.chars().count() <= 24 {
                    name.to_string()
                } else {
                    format!("arm {}", a["arm"])
                };
                (label, num(&d["mean"]).unwrap_or(0.0), ci)
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
fn arm_rows(doc: &Value) -> Vec<(String, String, String)> {
    arms(doc)
        .iter()
        .map(|a| {
            let settings = a["settings"]
                .as_array()
                .filter(|s| !s.is_empty())
                .map_or_else(
                    || "the file as written".to_string(),
                    |s| {
                        s.iter()
                            .map(|x| format!("{} = {}", text(&x["path"]), text(&x["value"])))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                );
            (
                a["arm"].to_string(),
                a["name"].as_str().unwrap_or("").to_string(),
                settings,
            )
        })
        .collect()
}

/// Per metric of [`SHOWN`], one row per arm: mean [CI] and paired difference [CI], exact.
fn detail_rows(doc: &Value, metric: &str) -> Vec<[String; 4]> {
    let cell = |v: &Value| {
        let m = text(&v["mean"]);
        match (v["ci95"][0].is_null(), v["ci95"].is_array()) {
            (false, true) => format!("{m} [{}, {}]", text(&v["ci95"][0]), text(&v["ci95"][1])),
            _ => m,
        }
    };
    arms(doc)
        .iter()
        .map(|a| {
            let m = &a["metrics"][metric];
            let d = &m["diff_vs_baseline"];
            [
                a["arm"].to_string(),
                a["name"].as_str().unwrap_or("").to_string(),
                cell(m),
                if d.is_null() {
                    "baseline".into()
                } else {
                    cell(d)
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
    doc: &Value,
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
        arms(doc).len(),
        doc["replications"],
        doc["seed"]
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
fn write_html(dir: &Path, sc: &Scenario, doc: &Value, charts: &[(String, String)]) -> Result<()> {
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
        arms(doc).len(),
        doc["replications"],
        doc["seed"],
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
pub fn write_sweep(dir: &Path, sc: &Scenario, doc: &Value) -> Result<()> {
    fs::write(
        dir.join("sweep.json"),
        serde_json::to_string_pretty(doc)? + "\n",
    )?;
    write_rows(&dir.join("sweep.csv"), doc)?;
    write_summary(&dir.join("sweep-summary.csv"), doc)?;
    let charts = write_charts(dir, doc, &sc.region.currency)?;
    write_markdown(dir, sc, doc, &charts)?;
    write_html(dir, sc, doc, &charts)?;
    Ok(())
}
