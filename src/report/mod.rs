//! Report output: `summary.json`, `timeseries.csv`, `ledger.csv`, written atomically.
//!
//! Everything is written into a temporary sibling folder that is renamed into place only when
//! complete, so a failed or interrupted run never leaves a half-written report.

pub mod charts;
pub mod output;

pub use output::Staged;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::experiment::summary::summary_json;
use crate::metrics::Metric;
use crate::scenario::Scenario;
use crate::sim::Replication;

/// The throughput of a run, for `affsim run --timing FILE`: per replication its events, the
/// wall-clock seconds it took and events per second; for the run, the simulation's wall-clock
/// time (replications in parallel) and the report's. Wall-clock figures differ from run to run,
/// which is why they are kept out of the report folder, whose files depend on the scenario and
/// seed only.
pub fn timing_json(
    sc: &Scenario,
    seed: u64,
    threads: usize,
    outcome: &crate::experiment::Outcome,
    simulation_seconds: f64,
    report_seconds: f64,
) -> serde_json::Value {
    let per_second = |events: u64, secs: f64| {
        if secs > 0.0 {
            (events as f64 / secs).round() as u64
        } else {
            0
        }
    };
    let per: Vec<serde_json::Value> = outcome
        .replications
        .iter()
        .zip(&outcome.seconds)
        .map(|(r, &secs)| {
            serde_json::json!({
                "replication": r.index,
                "events": r.events,
                "seconds": secs,
                "events_per_second": per_second(r.events, secs),
            })
        })
        .collect();
    let events: u64 = outcome.replications.iter().map(|r| r.events).sum();
    serde_json::json!({
        "scenario": sc.name,
        "seed": seed,
        "replications": outcome.replications.len(),
        "threads": threads,
        "events": events,
        "simulation_seconds": simulation_seconds,
        "events_per_second": per_second(events, simulation_seconds),
        "report_seconds": report_seconds,
        "per_replication": per,
    })
}

/// The default report folder for a scenario: `reports/<name>-seed<seed>`, numbered if taken.
pub fn default_out(sc: &Scenario, seed: u64) -> PathBuf {
    let slug: String = sc
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let base = PathBuf::from("reports").join(format!("{slug}-seed{seed}"));
    if !base.exists() {
        return base;
    }
    (2..)
        .map(|i| PathBuf::from("reports").join(format!("{slug}-seed{seed}-{i}")))
        .find(|p| !p.exists())
        .unwrap_or(base)
}

/// Writes `summary.json`.
pub fn write_summary(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    reps: &[Replication],
) -> Result<serde_json::Value> {
    let doc = summary_json(sc, seed, reps);
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    fs::write(dir.join("summary.json"), text)?;
    Ok(doc)
}

/// Writes `timeseries.csv`: one row per replication × day × metric (the day's flow).
pub fn write_timeseries(dir: &Path, sc: &Scenario, reps: &[Replication]) -> Result<()> {
    let mut w = csv::Writer::from_path(dir.join("timeseries.csv"))?;
    w.write_record(["replication", "day", "date", "metric", "value"])?;
    for r in reps {
        for (d, row) in r.daily.iter().enumerate() {
            let date = sc
                .calendar
                .date(crate::time::SimTime::start_of_day(d as u32))
                .to_string();
            for &m in Metric::ALL {
                w.write_record([
                    r.index.to_string(),
                    d.to_string(),
                    date.clone(),
                    m.name().to_string(),
                    row[m as usize].normalize().to_string(),
                ])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

const LEDGER_HEADER: [&str; 12] = [
    "replication",
    "seq",
    "time",
    "kind",
    "from",
    "to",
    "amount",
    "order",
    "plan",
    "rate",
    "rate_since",
    "rules",
];

/// One row of `ledger.csv`.
fn ledger_row(
    index: u32,
    e: &crate::rules::ledger::Entry,
    names: Option<&crate::model::Agents>,
    calendar: &crate::time::Calendar,
) -> [String; 12] {
    let acct = |a: crate::rules::ledger::Account| a.named(names);
    [
        index.to_string(),
        e.seq.to_string(),
        calendar.stamp(e.at).to_string(),
        e.kind.as_str().to_string(),
        acct(e.from),
        acct(e.to),
        e.amount.to_string(),
        e.prov.order.map(|o| o.to_string()).unwrap_or_default(),
        e.prov.plan.kind().to_string(),
        e.prov.rate.map(|r| r.to_string()).unwrap_or_default(),
        e.prov
            .rate_since
            .map(|t| calendar.stamp(t).to_string())
            .unwrap_or_default(),
        e.prov.rules.to_string(),
    ]
}

/// Where replication `index` streams its ledger rows (no header) inside a report folder, until
/// [`write_ledger`] joins the parts, in index order, into `ledger.csv`.
pub fn ledger_part(dir: &Path, index: u32) -> PathBuf {
    dir.join(format!("ledger.part-{index:06}.csv"))
}

/// A replication's ledger rows, streamed to its part file as the run posts them.
struct PartSink {
    index: u32,
    calendar: crate::time::Calendar,
    w: csv::Writer<std::io::BufWriter<fs::File>>,
}

impl crate::sim::LedgerSink for PartSink {
    fn write(
        &mut self,
        agents: &crate::model::Agents,
        entries: &[crate::rules::ledger::Entry],
    ) -> std::io::Result<()> {
        for e in entries {
            self.w
                .write_record(ledger_row(self.index, e, Some(agents), &self.calendar))?;
        }
        Ok(())
    }
    fn finish(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// Sinks that stream each replication's ledger to its part file in `dir` (see [`ledger_part`]):
/// memory stays flat however many entries a run posts, and the parts do not depend on the
/// number of threads.
pub fn ledger_sinks(dir: &Path, sc: &Scenario) -> crate::sim::LedgerSinks {
    let dir = dir.to_path_buf();
    let calendar = sc.calendar;
    std::sync::Arc::new(move |index| {
        let f = fs::File::create(ledger_part(&dir, index))?;
        let w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
        Ok(Box::new(PartSink { index, calendar, w }) as Box<dyn crate::sim::LedgerSink>)
    })
}

/// Writes `ledger.csv`: every entry of every replication, with its provenance, in replication
/// order. A replication's rows come from its part file when one of `parts` holds it (streamed
/// runs and shards; parts inside `dir` are removed once copied), else from its recorded entries.
pub fn write_ledger(
    dir: &Path,
    sc: &Scenario,
    reps: &[Replication],
    parts: &[PathBuf],
) -> Result<()> {
    let f = fs::File::create(dir.join("ledger.csv"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(LEDGER_HEADER)?;
        w.flush()?;
    }
    for r in reps {
        let part = parts
            .iter()
            .map(|d| ledger_part(d, r.index))
            .find(|p| p.is_file());
        if let Some(part) = part {
            let mut src =
                fs::File::open(&part).with_context(|| format!("cannot read {}", part.display()))?;
            std::io::copy(&mut src, &mut out)?;
            if part.parent() == Some(dir) {
                fs::remove_file(&part)?;
            }
            continue;
        }
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(&mut out);
        for e in &r.entries {
            w.write_record(ledger_row(r.index, e, r.agents.as_deref(), &sc.calendar))?;
        }
        w.flush()?;
    }
    out.flush()?;
    Ok(())
}

/// Writes `report.md`: the headline figures as a table.
pub fn write_markdown(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    doc: &serde_json::Value,
    charts: &[(String, String)],
) -> Result<()> {
    let mut f = fs::File::create(dir.join("report.md"))?;
    writeln!(f, "# {}\n", sc.name)?;
    if !sc.description.is_empty() {
        writeln!(f, "{}\n", sc.description.trim())?;
    }
    writeln!(
        f,
        "Region {} ({}), {} days from {}, seed {seed}, {} replication(s). Ledger balanced in every replication.\n",
        sc.region.code, sc.region.currency, sc.days, sc.calendar.start, doc["replications"]
    )?;
    writeln!(
        f,
        "| metric | mean | 95% CI of the mean | sd | p5 | p50 | p95 |\n|---|---:|---:|---:|---:|---:|---:|"
    )?;
    for (name, c) in metric_rows(doc) {
        writeln!(
            f,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )?;
    }
    if !charts.is_empty() {
        writeln!(f, "\n## Charts\n")?;
        for (file, title) in charts {
            writeln!(f, "![{title}]({file}.png)\n")?;
        }
    }
    writeln!(
        f,
        "\n## Rule-set settings\n\n```json\n{}\n```",
        serde_json::to_string_pretty(&doc["rules"]).unwrap_or_default()
    )?;
    Ok(())
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Headline metrics shown first in the reports.
const HEADLINE: [&str; 12] = [
    "gmv",
    "orders",
    "refunds",
    "commissions",
    "shop_ads_commissions",
    "distributor_fees",
    "flat_fees_paid",
    "rewards_paid",
    "service_fees_charged",
    "service_fees_refunded",
    "seller_net",
    "platform_net",
];

fn metric_rows(doc: &serde_json::Value) -> Vec<(String, [String; 6])> {
    let txt = |v: &serde_json::Value| match v {
        serde_json::Value::String(x) => x.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" – "),
        v => v.to_string(),
    };
    let Some(m) = doc["metrics"].as_object() else {
        return Vec::new();
    };
    let mut names: Vec<&String> = HEADLINE
        .iter()
        .filter_map(|h| m.keys().find(|k| k == h))
        .collect();
    names.extend(m.keys().filter(|k| !HEADLINE.contains(&k.as_str())));
    names
        .into_iter()
        .map(|k| {
            let s = &m[k];
            (
                k.clone(),
                [
                    txt(&s["mean"]),
                    txt(&s["ci95"]),
                    txt(&s["sd"]),
                    txt(&s["p5"]),
                    txt(&s["p50"]),
                    txt(&s["p95"]),
                ],
            )
        })
        .collect()
}

/// Writes `report.html`: one self-contained file (charts inlined as SVG, no remote resources).
pub fn write_html(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    doc: &serde_json::Value,
    charts: &[(String, String)],
) -> Result<()> {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str(&format!("<title>affsim — {}</title>\n", esc(&sc.name)));
    h.push_str("<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:0.9em}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}svg{max-width:100%;height:auto}code{background:#f4f4f4;padding:1px 4px}</style>\n</head><body>\n");
    h.push_str(&format!("<h1>{}</h1>\n", esc(&sc.name)));
    if !sc.description.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", esc(sc.description.trim())));
    }
    h.push_str(&format!(
        "<p>Region {} ({}), {} days from {}, seed <code>{seed}</code>, {} replication(s). The ledger balanced in every replication.</p>\n",
        esc(&sc.region.code), esc(&sc.region.currency), sc.days, sc.calendar.start, doc["replications"]
    ));
    h.push_str("<h2>Headline metrics</h2>\n<table><tr><th>metric</th><th>mean</th><th>95% CI of the mean</th><th>sd</th><th>p5</th><th>p50</th><th>p95</th></tr>\n");
    for (name, cells) in metric_rows(doc).iter().take(HEADLINE.len()) {
        h.push_str(&format!("<tr><td>{}</td>", esc(name)));
        for c in cells {
            h.push_str(&format!("<td>{}</td>", esc(c)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Charts</h2>\n");
    for (file, title) in charts {
        let svg = fs::read_to_string(dir.join(format!("{file}.svg")))?;
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        h.push_str(&format!(
            "<figure>{body}<figcaption>{}</figcaption></figure>\n",
            esc(title)
        ));
    }
    h.push_str("<h2>All metrics</h2>\n<table><tr><th>metric</th><th>mean</th><th>95% CI of the mean</th><th>sd</th><th>p5</th><th>p50</th><th>p95</th></tr>\n");
    for (name, cells) in metric_rows(doc) {
        h.push_str(&format!("<tr><td>{}</td>", esc(&name)));
        for c in cells {
            h.push_str(&format!("<td>{}</td>", esc(&c)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Rule-set settings</h2>\n<pre>");
    h.push_str(&esc(
        &serde_json::to_string_pretty(&doc["rules"]).unwrap_or_default()
    ));
    h.push_str("</pre>\n</body></html>\n");
    fs::write(dir.join("report.html"), h)?;
    Ok(())
}

/// The sweep's headline table, one line per arm: GMV, marketing cost and seller net, each with
/// the paired difference against the baseline and its 95% interval, and the cost per
/// incremental unit of GMV.
pub fn sweep_table(doc: &serde_json::Value) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<4} {:<44} {:>16} {:>30} {:>30} {:>14}",
        "arm", "settings", "GMV (mean)", "ΔGMV [95% CI]", "Δcost [95% CI]", "Δcost/ΔGMV"
    )];
    for a in doc["arms"].as_array().into_iter().flatten() {
        let m = &a["metrics"];
        let diff = |k: &str| {
            let d = &m[k]["diff_vs_baseline"];
            format!(
                "{} [{}, {}]",
                charts::human(d["mean"].as_f64().unwrap_or(0.0)),
                charts::human(d["ci95"][0].as_f64().unwrap_or(0.0)),
                charts::human(d["ci95"][1].as_f64().unwrap_or(0.0))
            )
        };
        let gmv: f64 = m["gmv"]["mean"]
            .as_str()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0.0);
        let per = a["cost_per_incremental_gmv"]
            .as_f64()
            .map_or_else(|| "—".to_string(), |x| format!("{x:.4}"));
        let label: String = a["label"].as_str().unwrap_or("").chars().take(44).collect();
        let (dg, dc) = if a["baseline"].as_bool() == Some(true) {
            ("baseline".to_string(), "baseline".to_string())
        } else {
            (diff("gmv"), diff("marketing_cost"))
        };
        lines.push(format!(
            "{:<4} {:<44} {:>16} {:>30} {:>30} {:>14}",
            a["arm"],
            label,
            charts::human(gmv),
            dg,
            dc,
            per
        ));
    }
    lines
}

/// Writes the sweep's `report.md`.
pub fn write_sweep_markdown(
    dir: &Path,
    sc: &Scenario,
    doc: &serde_json::Value,
    charts: &[(String, String)],
) -> Result<()> {
    let mut f = fs::File::create(dir.join("report.md"))?;
    writeln!(f, "# Sweep: {}\n", sc.name)?;
    writeln!(
        f,
        "{} arm(s) × {} replication(s), seed {}. Every arm uses the same random streams per replication (common random numbers), so differences against the baseline (arm 0) are paired. Marketing cost = commissions + Shop Ads commissions + distributor fees + flat fees + Plus rewards + service fees.\n",
        doc["arms"].as_array().map_or(0, Vec::len),
        doc["replications"],
        doc["seed"]
    )?;
    writeln!(f, "```text")?;
    for line in sweep_table(doc) {
        writeln!(f, "{line}")?;
    }
    writeln!(f, "```\n")?;
    for (file, title) in charts {
        writeln!(f, "![{title}]({file}.png)\n")?;
    }
    Ok(())
}

/// Writes a run's report folder: summary, time series, charts, report.md and report.html, and
/// `ledger.csv` when `ledger` says where the replications' streamed parts are (see
/// [`write_ledger`]). `affsim run` and `affsim merge` both write through here, so a merge
/// of shards gives the same files as one run.
pub fn write_run(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    reps: &[Replication],
    ledger: Option<&[PathBuf]>,
) -> Result<serde_json::Value> {
    let doc = write_summary(dir, sc, seed, reps)?;
    write_timeseries(dir, sc, reps)?;
    let charts = charts::write_charts(dir, sc, reps)?;
    write_markdown(dir, sc, seed, &doc, &charts)?;
    write_html(dir, sc, seed, &doc, &charts)?;
    if let Some(parts) = ledger {
        write_ledger(dir, sc, reps, parts)?;
    }
    Ok(doc)
}

/// Writes a sweep's report folder: sweep.json, sweep.csv, per-arm charts and report.md.
/// `affsim sweep` and `affsim merge` both write through here.
pub fn write_sweep(dir: &Path, sc: &Scenario, doc: &serde_json::Value) -> Result<()> {
    fs::write(
        dir.join("sweep.json"),
        serde_json::to_string_pretty(doc)? + "\n",
    )?;
    crate::experiment::sweep::write_csv(&dir.join("sweep.csv"), doc)?;
    let charts = charts::write_sweep_charts(dir, doc, &sc.region.currency)?;
    write_sweep_markdown(dir, sc, doc, &charts)?;
    Ok(())
}
