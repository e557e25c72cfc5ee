//! Report output: `summary.json`, `timeseries.csv`, `ledger.csv`, written atomically.
//!
//! Everything is written into a temporary sibling folder that is renamed into place only when
//! complete, so a failed or interrupted run never leaves a half-written report.

pub mod calibration;
pub mod campaigns;
pub mod charts;
pub mod format;
pub mod output;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod rows;
pub mod spill;
pub mod sweep;

pub use output::Staged;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::experiment::daily::DailyAgg;
use crate::experiment::summary::{MetricStats, Summary};
use crate::experiment::totals::Totals;
use crate::metrics::Metric;
use crate::scenario::Scenario;
use crate::sim::Replication;

/// The throughput of a run, for `affsim run --timing FILE`: per replication its events, the
/// wall-clock seconds it took, events per second and the events it had waiting; for the run, the simulation's wall-clock
/// time (replications in parallel) and the report's, and the peak resident memory. Wall-clock figures differ from run to run,
/// which is why they are kept out of the report folder, whose files depend on the scenario and
/// seed only.
pub fn timing_json(
    sc: &Scenario,
    seed: u64,
    threads: usize,
    outcome: &crate::experiment::Outcome,
    simulation_seconds: f64,
    report_seconds: f64,
) -> Timing {
    let per_second = |events: u64, secs: f64| {
        if secs > 0.0 {
            (events as f64 / secs).round() as u64
        } else {
            0
        }
    };
    let per = outcome
        .ran
        .iter()
        .zip(&outcome.seconds)
        .map(|(r, &secs)| ReplicationTiming {
            replication: r.index,
            events: r.events,
            seconds: secs,
            events_per_second: per_second(r.events, secs),
            pending_events_mean: r.pending.mean,
            pending_events_peak: r.pending.peak,
        })
        .collect();
    let events: u64 = outcome.ran.iter().map(|r| r.events).sum();
    Timing {
        scenario: sc.name.clone(),
        seed,
        replications: outcome.ran.len(),
        threads,
        events,
        simulation_seconds,
        events_per_second: per_second(events, simulation_seconds),
        report_seconds,
        peak_rss_bytes: peak_rss_bytes(),
        per_replication: per,
    }
}

/// The timing file of `affsim run --timing FILE` (see [`timing_json`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    pub scenario: String,
    pub seed: u64,
    pub replications: usize,
    pub threads: usize,
    pub events: u64,
    pub simulation_seconds: f64,
    pub events_per_second: u64,
    pub report_seconds: f64,
    pub peak_rss_bytes: Option<u64>,
    pub per_replication: Vec<ReplicationTiming>,
}

/// One replication's throughput in a [`Timing`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReplicationTiming {
    pub replication: u32,
    pub events: u64,
    pub seconds: f64,
    pub events_per_second: u64,
    /// Events waiting (in the queue, and settlement lines behind their batch event), sampled
    /// every 65,536 events: the mean and the largest sample (0 when the run had fewer events).
    /// What a bare heap must hold to be compared with the run (benches/README.md).
    #[serde(default)]
    pub pending_events_mean: u64,
    #[serde(default)]
    pub pending_events_peak: u64,
}

/// The process's peak resident memory so far (Linux `/proc/self/status` `VmHWM`), in bytes;
/// `None` where it cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()?;
    Some(kib * 1024)
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

/// Writes `summary.json`, byte for byte the document [`crate::experiment::summary::summary`] gives, its per-replication
/// rows written one at a time ([`rows::splice`]) so that they are never all held at once. The
/// document returned has every `per_replication` empty (the statistics are of every
/// replication); `summary.json` has them all.
pub fn write_summary(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    reps: &[Replication],
) -> Result<Summary> {
    write_summary_of(dir, sc, seed, &Totals::of(reps.to_vec()), Rows::Of(reps))
}

/// Where the per-replication rows of `summary.json` come from.
pub enum Rows<'a> {
    /// The replications themselves (a merge's; a test's), in index order.
    Of(&'a [Replication]),
    /// Set aside as a whole run's replications arrived ([`spill::RowSpill`]).
    Spilled(spill::RowSpill),
}

/// [`write_summary`] of a run's totals (exact statistics up to the exact limit, the
/// aggregate's beyond: see `experiment::totals`), its rows from `rows`.
pub fn write_summary_of(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    totals: &Totals,
    rows: Rows,
) -> Result<Summary> {
    use crate::metrics::campaigns::{campaign_replication, seller_replication};
    let doc = crate::experiment::summary::summary_head_of(sc, seed, totals);
    let head = serde_json::to_string_pretty(&doc)?;
    let f = fs::File::create(dir.join("summary.json"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    let (campaigns, sellers) = (doc.campaigns.len(), doc.sellers.len());
    match rows {
        Rows::Of(reps) => rows::splice(&mut out, &head, |k, emit| {
            for r in reps {
                let row = match k {
                    0 => text(&crate::experiment::summary::replication_row(r))?,
                    k if k <= campaigns => {
                        text(&campaign_replication(r, &doc.campaigns[k - 1].id))?
                    }
                    k if k <= campaigns + sellers => text(&seller_replication(
                        r,
                        &doc.sellers[k - 1 - campaigns].seller,
                    ))?,
                    _ => return Ok(()),
                };
                emit(&row)?;
            }
            Ok(())
        })?,
        Rows::Spilled(mut spill) => {
            let ids: Vec<&str> = doc.campaigns.iter().map(|c| c.id.as_str()).collect();
            let names: Vec<&str> = doc.sellers.iter().map(|s| s.seller.as_str()).collect();
            rows::splice(&mut out, &head, |k, emit| spill.emit(k, &ids, &names, emit))?;
            spill.remove()?;
        }
    }
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(doc)
}

/// A value as `to_string_pretty` prints it.
fn text<T: serde::Serialize>(v: &T) -> std::io::Result<String> {
    serde_json::to_string_pretty(v).map_err(std::io::Error::other)
}

/// The metrics whose per-day p5/p50/p95 the daily charts draw (kept per replication up to
/// [`EXACT_LIMIT`](crate::experiment::daily::EXACT_LIMIT), sketched beyond).
pub const BANDED: [Metric; 3] = [Metric::Gmv, Metric::Orders, Metric::Refunds];

/// The daily flows of replications that keep their rows (a merge's, a test's), aggregated as a
/// streaming run aggregates them.
pub fn daily_of(reps: &[Replication]) -> DailyAgg {
    DailyAgg::of(&BANDED, reps.iter().map(|r| &r.daily[..]))
}

/// `timeseries.csv` written and the daily flows aggregated as replications arrive, in index
/// order: one row per replication × day × metric (the day's flow). A replication handed over
/// as an [`Arrivals`](crate::experiment::Arrivals) loses its daily rows once written, so a
/// run's memory does not grow with its replication count.
pub struct Streamed {
    calendar: crate::time::Calendar,
    w: csv::Writer<std::io::BufWriter<fs::File>>,
    dates: Vec<String>,
    daily: DailyAgg,
    /// (replication index, days) of each replication written, in order.
    days: Vec<(u32, u32)>,
    /// The replications' totals: a whole run's kept while exact, then aggregated (the run
    /// keeps no replication); a shard's aggregated only (it keeps its replications for its
    /// partial).
    totals: Totals,
    /// A whole run's rows of `summary.json`, set aside as replications arrive.
    spill: Option<spill::RowSpill>,
    err: Option<anyhow::Error>,
}

/// The header of `timeseries.csv`.
const TIMESERIES_HEADER: [&str; 5] = ["replication", "day", "date", "metric", "value"];

/// Where a shard streams its replications' time-series rows (no header), in index order, for
/// `affsim merge` to splice into `timeseries.csv` ([`splice_timeseries`]).
pub const TIMESERIES_PART: &str = "timeseries.part.csv";

impl Streamed {
    /// Starts `timeseries.csv` in `dir`.
    pub fn new(dir: &Path, sc: &Scenario) -> Result<Streamed> {
        let mut s = Streamed::to(dir.join("timeseries.csv"), sc, true)?;
        s.spill = Some(spill::RowSpill::new(dir)?);
        Ok(s)
    }

    /// Starts a shard's [`TIMESERIES_PART`] in `dir`.
    pub fn part(dir: &Path, sc: &Scenario) -> Result<Streamed> {
        Streamed::to(dir.join(TIMESERIES_PART), sc, false)
    }

    /// The replications' totals (taken: a second call has none).
    pub fn take_totals(&mut self) -> Totals {
        std::mem::take(&mut self.totals)
    }

    fn to(file: PathBuf, sc: &Scenario, header: bool) -> Result<Streamed> {
        let f = fs::File::create(file)?;
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(std::io::BufWriter::new(f));
        if header {
            w.write_record(TIMESERIES_HEADER)?;
        }
        Ok(Streamed {
            calendar: sc.calendar,
            w,
            dates: Vec::new(),
            daily: DailyAgg::new(&BANDED),
            days: Vec::new(),
            totals: Totals::new(),
            spill: None,
            err: None,
        })
    }

    /// (replication index, days) of each replication written so far, in order.
    pub fn days(&self) -> &[(u32, u32)] {
        &self.days
    }

    fn rows(&mut self, r: &Replication) -> Result<()> {
        for (d, row) in r.daily.iter().enumerate() {
            while self.dates.len() <= d {
                let day = self.dates.len() as u32;
                let t = crate::time::SimTime::start_of_day(day);
                self.dates.push(self.calendar.date(t).to_string());
            }
            for &m in Metric::ALL {
                self.w.write_record([
                    r.index.to_string(),
                    d.to_string(),
                    self.dates[d].clone(),
                    m.name().to_string(),
                    row[m as usize].normalize().to_string(),
                ])?;
            }
        }
        Ok(())
    }

    /// Writes a replication's rows and folds them in (replications in index order).
    pub fn add(&mut self, r: &Replication) {
        if self.err.is_none()
            && let Err(e) = self.rows(r)
        {
            self.err = Some(e);
        }
        self.days.push((r.index, r.daily.len() as u32));
        self.daily.add(&r.daily);
    }

    /// Finishes `timeseries.csv`; the aggregate (the first write error, if any).
    pub fn finish(&mut self) -> Result<DailyAgg> {
        if let Some(e) = self.err.take() {
            return Err(e.context("cannot write timeseries.csv"));
        }
        self.w.flush()?;
        Ok(std::mem::replace(&mut self.daily, DailyAgg::new(&BANDED)))
    }
}

/// Writes `timeseries.csv` in `dir` from shards' [`TIMESERIES_PART`] files: `parts[k]` is shard
/// `k + 1`'s, holding its replications (`i % parts.len() == k`) in index order (a shard without
/// replications is never opened); `days` gives each replication's days (in index order, from
/// 0), so its rows are `days × metrics` lines. The parts must have been checked against their
/// partials' sums first.
pub fn splice_timeseries(dir: &Path, parts: &[PathBuf], days: &[u32]) -> Result<()> {
    use std::io::BufRead;
    let f = fs::File::create(dir.join("timeseries.csv"))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(TIMESERIES_HEADER)?;
        w.flush()?;
    }
    let mut readers: Vec<Option<std::io::BufReader<fs::File>>> =
        parts.iter().map(|_| None).collect();
    let mut line = Vec::new();
    for (i, d) in days.iter().enumerate() {
        let k = i % parts.len().max(1);
        let reader = match &mut readers[k] {
            Some(r) => r,
            slot => slot.insert(
                fs::File::open(&parts[k])
                    .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
                    .with_context(|| format!("cannot read {}", parts[k].display()))?,
            ),
        };
        let prefix = format!("{i},");
        for _ in 0..u64::from(*d) * Metric::COUNT as u64 {
            line.clear();
            reader.read_until(b'\n', &mut line)?;
            // a partial's day counts that do not match its part's rows
            if !line.starts_with(prefix.as_bytes()) {
                anyhow::bail!(
                    "{}: the rows of replication {i} are not where its partial says",
                    parts[k].display()
                );
            }
            out.write_all(&line)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Takes each replication's daily rows away as it arrives (a sweep's or a paired experiment's
/// arms, whose reports use only totals): memory does not grow by the rows × replications.
pub struct DropDaily;

impl crate::experiment::Arrivals for DropDaily {
    fn arrive(&mut self, mut r: Replication) -> Option<Replication> {
        r.daily = Vec::new();
        Some(r)
    }
}

impl crate::experiment::Arrivals for Streamed {
    /// A whole run keeps nothing of the replication here: its rows are written or set aside,
    /// its totals folded in. A shard keeps it (without its daily rows) for its partial.
    fn arrive(&mut self, mut r: Replication) -> Option<Replication> {
        self.add(&r);
        r.daily = Vec::new();
        // what a run's report does not read (`check` and `explain` keep them: not streamed)
        r.refusals = Vec::new();
        r.scripted = Vec::new();
        r.tracked = Vec::new();
        r.accounts = Vec::new();
        r.plus = Vec::new();
        match &mut self.spill {
            Some(spill) => {
                if let (None, Err(e)) = (&self.err, spill.add(&r)) {
                    self.err = Some(e);
                }
                self.totals.push(r);
                None
            }
            None => {
                self.totals.fold(&r);
                Some(r)
            }
        }
    }
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
    write_ledger_of(dir, sc, reps.iter().map(|r| r.index), reps, parts)
}

/// [`write_ledger`] of the replications `indices` (a whole run's, which it did not keep: their
/// parts are in `parts`; `reps` holds those whose entries were recorded).
fn write_ledger_of(
    dir: &Path,
    sc: &Scenario,
    indices: impl Iterator<Item = u32>,
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
    for index in indices {
        let part = parts
            .iter()
            .map(|d| ledger_part(d, index))
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
        let found = reps.get(index as usize).filter(|r| r.index == index);
        let Some(r) = found.or_else(|| reps.iter().find(|r| r.index == index)) else {
            anyhow::bail!("the ledger of replication {index} was neither recorded nor streamed");
        };
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

/// Writes `report.md`: the headline figures as a table, the charts and the rule-set settings.
pub fn write_markdown(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    doc: &Summary,
    charts: &[(String, String)],
) -> Result<()> {
    let cur = format::Currency::of(&sc.region);
    let mut f = fs::File::create(dir.join("report.md"))?;
    writeln!(f, "# {}\n", sc.name)?;
    if !sc.description.is_empty() {
        writeln!(f, "{}\n", sc.description.trim())?;
    }
    writeln!(f, "{}\n", run_line(sc, seed, doc))?;
    writeln!(
        f,
        "| metric | mean | 95% CI of the mean | sd | p5 | p50 | p95 | key |\n|---|---:|---:|---:|---:|---:|---:|---|"
    )?;
    for row in metric_rows(doc, &cur) {
        let c = &row.cells;
        writeln!(
            f,
            "| {} | {} | {} | {} | {} | {} | {} | `{}` |",
            row.label, c[0], c[1], c[2], c[3], c[4], c[5], row.key
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
        serde_json::to_string_pretty(&doc.rules).unwrap_or_default()
    )?;
    Ok(())
}

/// The sentence under a report's title: region, currency, calendar, seed, replications.
fn run_line(sc: &Scenario, seed: u64, doc: &Summary) -> String {
    let cur = format::Currency::of(&sc.region);
    let end = sc.calendar.start + chrono::Duration::days(i64::from(sc.days.max(1)) - 1);
    let money = match cur.minor_unit {
        0 => format!("whole {}", cur.code),
        d => format!("{} with {d} decimals", cur.code),
    };
    format!(
        "Region {} ({}), {} days from {} to {}, seed {seed}, {} replication(s). Money in {money} (exact amounts in `summary.json`). The ledger balanced in every replication.",
        sc.region.code,
        cur.code,
        sc.days,
        sc.calendar.start.format("%-d %b %Y"),
        end.format("%-d %b %Y"),
        format::fmt_count(doc.replications),
    )
}

/// The stderr line after a run: the headline means in the currency's format.
pub fn summary_line(sc: &Scenario, replications: usize, seed: u64, doc: &Summary) -> String {
    let cur = format::Currency::of(&sc.region);
    let mean = |k: &str| doc.metric(k).and_then(|s| s.mean.decimal());
    let money = |k: &str| mean(k).map_or("?".into(), |d| format::fmt_money(d, &cur));
    let count = |k: &str| mean(k).map_or("?".into(), format::fmt_count);
    format!(
        "{} — {} replication(s), seed {seed}: mean GMV {}, orders {}, commissions {}, refunds {}, seller net {}; ledger balanced",
        sc.name,
        format::fmt_count(replications),
        money("gmv"),
        count("orders"),
        money("commissions"),
        money("refunds"),
        money("seller_net"),
    )
}

/// Escapes text for HTML.
pub(crate) fn esc(s: &str) -> String {
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

/// A metric's row in the report tables: its label (with the currency for money), its key in
/// `summary.json`, and mean, 95% CI, sd, p5, p50 and p95 formatted for people.
struct MetricRow {
    label: String,
    key: String,
    cells: [String; 6],
}

fn metric_rows(doc: &Summary, cur: &format::Currency) -> Vec<MetricRow> {
    let m = &doc.metrics;
    let mut names: Vec<&(String, MetricStats)> = HEADLINE
        .iter()
        .filter_map(|h| m.iter().find(|(k, _)| k == h))
        .collect();
    names.extend(m.iter().filter(|(k, _)| !HEADLINE.contains(&k.as_str())));
    names
        .into_iter()
        .map(|(k, s)| {
            let unit = s.unit.as_str();
            let label = format::metric_label(k);
            let label = match unit {
                "money" => format!("{label} ({})", cur.code),
                _ => label.into_owned(),
            };
            let f = |v| format::fmt_stat(v, unit, cur);
            MetricRow {
                label,
                key: k.clone(),
                cells: [
                    f(&s.mean),
                    format::fmt_interval(s.ci95.as_ref(), unit, cur),
                    f(&s.sd),
                    f(&s.p5),
                    f(&s.p50),
                    f(&s.p95),
                ],
            }
        })
        .collect()
}

/// A chart of the report folder inlined as an HTML figure: its SVG and its caption.
fn figure_html(dir: &Path, file: &str, title: &str) -> Result<String> {
    let svg = fs::read_to_string(dir.join(format!("{file}.svg")))?;
    let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
    Ok(format!(
        "<figure>{body}<figcaption>{}</figcaption></figure>\n",
        esc(title)
    ))
}

/// The stylesheet of `report.html`: readable tables that fit the page, charts scaled to it.
const HTML_STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1060px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}\
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #e4e4e4;padding-bottom:.2em}\
.table-wrap{overflow-x:auto}\
table{border-collapse:collapse;font-size:.85em;width:100%}\
td,th{border-bottom:1px solid #e4e4e4;padding:4px 7px;text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
th{background:#f6f6f6;font-weight:600}\
td:first-child,th:first-child{text-align:left;white-space:normal}\
td.ci{white-space:normal;min-width:9em}\
code.key{color:#666;font-size:.85em;background:none;padding:0}\
figure{margin:1.5em 0}figcaption{color:#555;font-size:.9em}svg,img{max-width:100%;height:auto;display:block}\
code{background:#f4f4f4;padding:1px 4px}pre{background:#f7f7f7;padding:.8em;overflow-x:auto}\
.note{color:#555;font-size:.9em}\
table.wide{font-size:.74em}table.wide td,table.wide th{white-space:normal;padding:3px 4px}";

fn html_table(h: &mut String, rows: &[MetricRow], with_key: bool) {
    h.push_str("<div class=\"table-wrap\"><table><thead><tr><th>metric</th><th>mean</th><th>95% CI of the mean</th><th>sd</th><th>p5</th><th>p50</th><th>p95</th>");
    h.push_str("</tr></thead><tbody>\n");
    for r in rows {
        // The key under the label, so the column is as wide as the longer of the two.
        let key = if with_key {
            format!("<br><code class=\"key\">{}</code>", esc(&r.key))
        } else {
            String::new()
        };
        h.push_str(&format!("<tr><td>{}{key}</td>", esc(&r.label)));
        for (i, c) in r.cells.iter().enumerate() {
            let class = if i == 1 { " class=\"ci\"" } else { "" };
            h.push_str(&format!("<td{class}>{}</td>", esc(c)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
}

/// Writes `report.html`: one self-contained file (charts inlined as SVG, no remote resources).
pub fn write_html(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    doc: &Summary,
    charts: &[(String, String)],
) -> Result<()> {
    let cur = format::Currency::of(&sc.region);
    let rows = metric_rows(doc, &cur);
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!("<title>affsim — {}</title>\n", esc(&sc.name)));
    h.push_str(&format!("<style>{HTML_STYLE}</style>\n</head><body>\n"));
    h.push_str(&format!("<h1>{}</h1>\n", esc(&sc.name)));
    if !sc.description.is_empty() {
        h.push_str(&format!("<p>{}</p>\n", esc(sc.description.trim())));
    }
    h.push_str(&format!(
        "<p class=\"note\">{}</p>\n",
        esc(&run_line(sc, seed, doc)).replace("`summary.json`", "<code>summary.json</code>")
    ));
    h.push_str("<h2>Headline metrics</h2>\n");
    html_table(&mut h, &rows[..HEADLINE.len().min(rows.len())], false);
    h.push_str("<h2>Charts</h2>\n");
    for (file, title) in charts {
        let svg = fs::read_to_string(dir.join(format!("{file}.svg")))?;
        let body = svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..]);
        // The title is drawn in the chart; the figure carries it for screen readers.
        h.push_str(&format!(
            "<figure id=\"chart-{}\" aria-label=\"{}\">{body}</figure>\n",
            esc(file),
            esc(title)
        ));
    }
    h.push_str("<h2>All metrics</h2>\n");
    html_table(&mut h, &rows, true);
    h.push_str("<h2>Rule-set settings</h2>\n<pre>");
    h.push_str(&esc(
        &serde_json::to_string_pretty(&doc.rules).unwrap_or_default()
    ));
    h.push_str("</pre>\n</body></html>\n");
    fs::write(dir.join("report.html"), h)?;
    Ok(())
}

/// Writes a run's report folder from its replications (kept whole): summary, time series,
/// charts, report.md and report.html, and `ledger.csv` when `ledger` says where the
/// replications' streamed parts are (see [`write_ledger`]).
pub fn write_run(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    reps: &[Replication],
    ledger: Option<&[PathBuf]>,
) -> Result<Summary> {
    let mut ts = Streamed::to(dir.join("timeseries.csv"), sc, true)?;
    for r in reps {
        ts.add(r);
    }
    let daily = ts.finish()?;
    write_run_kept(
        dir,
        sc,
        seed,
        reps,
        Totals::of(reps.to_vec()),
        daily,
        ledger,
    )
}

/// [`write_run`] for a merge: `timeseries.csv` spliced from the shards' parts (`parts`, `days`:
/// see [`splice_timeseries`]), the daily charts from the shards' aggregates merged (`daily`),
/// the statistics from their totals' aggregates merged (`totals`; exact statistics from
/// `reps` up to the exact limit), the rows of `summary.json` from `reps`.
pub fn write_run_merged(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    (reps, totals): (&[Replication], crate::experiment::totals::TotalsAgg),
    (daily, parts, days): (DailyAgg, &[PathBuf], &[u32]),
    ledger: Option<&[PathBuf]>,
) -> Result<Summary> {
    splice_timeseries(dir, parts, days)?;
    let totals = Totals::merged(totals, reps);
    write_run_kept(dir, sc, seed, reps, totals, daily, ledger)
}

/// [`write_run`] for a whole run whose replications were handed to `ts` as they arrived (their
/// daily rows written to `timeseries.csv`, their rows of `summary.json` set aside, their totals
/// folded in: the run kept none of them).
pub fn write_run_streamed(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    ts: &mut Streamed,
    ledger: Option<&[PathBuf]>,
) -> Result<Summary> {
    let daily = ts.finish()?;
    let totals = ts.take_totals();
    let spill = ts
        .spill
        .take()
        .context("the rows of summary.json were not set aside")?;
    write_run_with(
        dir,
        sc,
        seed,
        (&totals, Rows::Spilled(spill)),
        daily,
        ledger,
        &[],
    )
}

/// [`write_run_with`] for replications kept whole: `reps` give the rows of `summary.json` and
/// the ledger entries they recorded ([`write_run`] and [`write_run_merged`]).
fn write_run_kept(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    reps: &[Replication],
    totals: Totals,
    daily: DailyAgg,
    ledger: Option<&[PathBuf]>,
) -> Result<Summary> {
    write_run_with(
        dir,
        sc,
        seed,
        (&totals, Rows::Of(reps)),
        daily,
        ledger,
        reps,
    )
}

/// The rest of a run's report once `timeseries.csv` is written and its rows aggregated
/// (`reps`: the replications kept whole, for ledger entries recorded rather than streamed).
fn write_run_with(
    dir: &Path,
    sc: &Scenario,
    seed: u64,
    (totals, rows): (&Totals, Rows),
    daily: DailyAgg,
    ledger: Option<&[PathBuf]>,
    reps: &[Replication],
) -> Result<Summary> {
    let doc = write_summary_of(dir, sc, seed, totals, rows)?;
    let charts = charts::write_charts(dir, sc, totals, &daily)?;
    write_markdown(dir, sc, seed, &doc, &charts)?;
    write_html(dir, sc, seed, &doc, &charts)?;
    campaigns::append(dir, &doc)?;
    if let Some(parts) = ledger {
        write_ledger_of(dir, sc, 0..totals.count() as u32, reps, parts)?;
    }
    Ok(doc)
}

/// Whether this build writes Parquet (the `parquet` Cargo feature).
pub const PARQUET: bool = cfg!(feature = "parquet");
/// Why `--parquet` is refused by a build without the feature.
pub const NO_PARQUET: &str = "this affsim was built without Parquet support; rebuild with `cargo build --release --features parquet`";

/// With `--parquet`: `timeseries.parquet`, and `ledger.parquet` when the folder has a
/// `ledger.csv`, converted from the finished CSV files. Needs the `parquet` Cargo feature.
pub fn write_parquet(dir: &Path) -> Result<()> {
    #[cfg(feature = "parquet")]
    {
        parquet::write_timeseries(dir)?;
        if dir.join("ledger.csv").is_file() {
            parquet::write_ledger(dir)?;
        }
        Ok(())
    }
    #[cfg(not(feature = "parquet"))]
    {
        let _ = dir;
        anyhow::bail!(NO_PARQUET)
    }
}
