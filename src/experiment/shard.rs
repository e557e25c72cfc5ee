//! Past one machine: a run split into deterministic shards (`--shard K/N`), each writing a
//! partial result, and `affsim merge` combining partials into the report a single run gives.
//!
//! A partial carries the scenario's source text, the seed and the replication count, so a merge
//! can check that its partials belong together and re-create the scenario exactly; and, since
//! issue 13, the format and engine version, a SHA-256 checksum of its own content, and for each
//! ledger part its row count, size and SHA-256, so that a merge refuses (naming the file and
//! what differs) a partial or part that is missing, empty, truncated, edited or swapped.
//!
//! A shard's daily rows are not in its partial (format 3): the shard streams them to its
//! folder's `timeseries.part.csv` as replications arrive (its size, rows and SHA-256 in the
//! partial) and folds them into a [`DailyAgg`], which the partial carries; a merge splices the
//! parts and merges the aggregates. A partial's size, and the memory of a shard and of a merge,
//! do not grow by the daily rows × replications.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::experiment::daily::DailyAgg;
use crate::metrics::Metric;

use crate::rules::catalogue::{RuleId, RuleSet};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::Replication;

/// Why partials cannot be merged: each names the file (partial, part or folder) and what
/// differs. The messages are the ones `affsim merge` prints (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge")]
    Nothing,
    #[error(
        "{with_ledger} of {shards} shard(s) ran with --ledger; run every shard with it, or none"
    )]
    MixedLedger { with_ledger: usize, shards: usize },
    #[error(
        "{file}: partial format {format}, this affsim reads {FORMAT} (re-run the shard with this affsim)"
    )]
    Format { file: String, format: u32 },
    #[error(
        "{file}: written by affsim {engine:?}, this is affsim {ENGINE} (re-run the shard with this affsim)"
    )]
    Engine { file: String, engine: String },
    #[error("{file}: the checksum does not match the content (the partial was edited or damaged)")]
    Checksum { file: String },
    #[error("{file}: a run of 0 replications")]
    NoReplications { file: String },
    #[error("{file}: a sweep of 0 arms")]
    NoArms { file: String },
    /// The first partial's scenario no longer validates.
    #[error("{file}: the partial's scenario does not validate: {error}")]
    Scenario {
        file: String,
        error: Box<ScenarioError>,
    },
    /// The merged partials' scenario no longer validates.
    #[error("the partials' scenario no longer validates: {0}")]
    MergedScenario(Box<ScenarioError>),
    #[error("{file}: shard {}/{} is not a shard", shard.0, shard.1)]
    NotAShard { file: String, shard: (u32, u32) },
    #[error("{file}: shard {}/{} is given twice", shard.0, shard.1)]
    ShardTwice { file: String, shard: (u32, u32) },
    /// A partial is not of the same run (or sweep) as the first: `what` differs.
    #[error(
        "{file}: {}shard {}/{} does not belong with {first_file} (shard {}/{}): the {what} differs",
        if *sweep { "sweep " } else { "" }, shard.0, shard.1, first_shard.0, first_shard.1
    )]
    Foreign {
        file: String,
        sweep: bool,
        shard: (u32, u32),
        first_file: String,
        first_shard: (u32, u32),
        what: &'static str,
    },
    /// A run's shard holds other replications than its own (the first ten of each).
    #[error("{file}: shard {}/{} holds replications {got:?}, expected {want:?}", shard.0, shard.1)]
    WrongReplications {
        file: String,
        shard: (u32, u32),
        got: Vec<u32>,
        want: Vec<u32>,
    },
    /// A sweep's shard holds other (arm, replication) pairs than its own.
    #[error(
        "{file}: sweep shard {}/{} does not hold exactly its replications (missing, duplicated or foreign indices)",
        shard.0, shard.1
    )]
    WrongSweepReplications { file: String, shard: (u32, u32) },
    #[error("{file}: arm {arm} is out of range (the sweep has {arms} arms)")]
    ArmOutOfRange { file: String, arm: u32, arms: u32 },
    #[error(
        "{file}: replication {index}: index out of range (the run has {replications} replications)"
    )]
    IndexOutOfRange {
        file: String,
        index: u32,
        replications: u32,
    },
    #[error(
        "{file}: replication {index}: {totals} totals, expected {}",
        Metric::COUNT
    )]
    Totals {
        file: String,
        index: u32,
        totals: usize,
    },
    #[error(
        "{file}: replication {index}: {days} daily rows, expected at least {scenario_days} (the scenario's days)"
    )]
    Days {
        file: String,
        index: u32,
        days: u32,
        scenario_days: u32,
    },
    #[error("{file}: replication {index}: an unknown rule `{rule}` fired")]
    UnknownRule {
        file: String,
        index: u32,
        rule: String,
    },
    /// The partial's daily aggregate does not fit its replications.
    #[error("{file}: {problem}")]
    Daily {
        file: String,
        problem: crate::experiment::daily::DailyError,
    },
    /// The partial's aggregate of totals is not the one its replications give.
    #[error(
        "{file}: the aggregate of totals is not the one its replications give (the partial was edited or damaged)"
    )]
    TotalsAgg { file: String },
    #[error("{file}: the time-series part's sum says {sum_rows} rows, its replications ran {rows}")]
    TimeseriesRows {
        file: String,
        sum_rows: u64,
        rows: u64,
    },
    /// Shards missing from a run (the first ten) and the replications they hold.
    #[error(
        "the partials do not cover the run: missing shard(s) {shards:?} ({replications} replication(s) missing)"
    )]
    Incomplete {
        shards: Vec<u32>,
        replications: usize,
    },
    /// Shards missing from a sweep (the first ten).
    #[error("the partials do not cover the sweep: missing shard(s) {0:?}")]
    SweepIncomplete(Vec<u32>),
    #[error("{}: a ledger part of replication {index}, which this shard did not run", path.display())]
    ForeignLedgerPart { path: PathBuf, index: u32 },
    #[error("{file}: no ledger part sum for replication {index}")]
    NoPartSum { file: String, index: u32 },
    #[error(
        "{file}: replication {index} has {entries} ledger entries but its part sum says {rows} rows"
    )]
    PartSumRows {
        file: String,
        index: u32,
        entries: u64,
        rows: u64,
    },
    /// A shard's part (its time series or a ledger part) cannot be read.
    #[error("{}: {part} cannot be read: {source}", path.display())]
    PartUnreadable {
        path: PathBuf,
        part: Part,
        source: std::io::Error,
    },
    /// A shard's part is not what the shard wrote.
    #[error(
        "{}: {part} differs from what the shard wrote ({} bytes and {} rows, expected {} bytes and \
         {} rows{}): truncated, edited or swapped",
        path.display(), found.bytes, found.rows, expected.bytes, expected.rows,
        if found.sha256 != expected.sha256 { ", another SHA-256" } else { "" }
    )]
    PartDiffers {
        path: PathBuf,
        part: Part,
        found: Box<FileSum>,
        expected: Box<FileSum>,
    },
}

/// Which of a shard's parts a [`MergeError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    TimeSeries,
    /// The ledger part of a replication.
    Ledger(u32),
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::TimeSeries => f.write_str("the shard's time series"),
            Part::Ledger(i) => write!(f, "the ledger part of replication {i}"),
        }
    }
}

/// A `--shard` argument that is not `K/N` with 1 ≤ K ≤ N.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--shard `{0}`: expected K/N with 1 ≤ K ≤ N, e.g. 2/4")]
pub struct ShardArgError(pub String);

/// The partial-result format version (2: engine version, checksums, ledger part sums; 3: the
/// daily rows as an aggregate and a time-series part instead of every replication's rows).
pub const FORMAT: u32 = 4;
/// The engine that wrote a partial: a merge accepts only partials of this same version.
pub const ENGINE: &str = env!("CARGO_PKG_VERSION");

/// A replication's ledger part, as the shard wrote it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartSum {
    pub index: u32,
    /// Rows (entries) in the part: its number of lines.
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// A shard's time-series part ([`crate::report::TIMESERIES_PART`]), as the shard wrote it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileSum {
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl FileSum {
    /// The sum of the file at `path`.
    pub fn of(path: &Path) -> std::io::Result<FileSum> {
        let (bytes, rows, sha256) = file_sum(path)?;
        Ok(FileSum {
            rows,
            bytes,
            sha256,
        })
    }
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a text, in hex.
fn sha256_text(t: &str) -> String {
    hex(&Sha256::digest(t.as_bytes()))
}

/// The size, line count and SHA-256 of a file, read once.
fn file_sum(path: &Path) -> std::io::Result<(u64, u64, String)> {
    use std::io::Read as _;
    // a device or FIFO in place of a part would be read forever
    crate::input::regular_file(path).map_err(std::io::Error::other)?;
    let mut f = std::fs::File::open(path)?;
    let (mut h, mut bytes, mut lines) = (Sha256::new(), 0u64, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok((bytes, lines, hex(&h.finalize())))
}

/// The sums of the ledger parts of `indices` in `dir` (written by a shard run with `--ledger`).
pub fn part_sums(dir: &Path, indices: &[u32]) -> std::io::Result<Vec<PartSum>> {
    indices
        .iter()
        .map(|&index| {
            let (bytes, rows, sha256) = file_sum(&crate::report::ledger_part(dir, index))?;
            Ok(PartSum {
                index,
                rows,
                bytes,
                sha256,
            })
        })
        .collect()
}

/// What a partial's ledger parts are checked against (kept from the partial before a merge
/// consumes it): its file, each replication's index and ledger entries, the part sums.
pub struct PartCheck {
    file: String,
    runs: Vec<(u32, u64)>,
    sums: Vec<PartSum>,
    timeseries: FileSum,
}

impl PartCheck {
    pub fn of((file, p): &(String, Partial)) -> PartCheck {
        PartCheck {
            file: file.clone(),
            runs: p.runs.iter().map(|r| (r.index, r.ledger_entries)).collect(),
            sums: p.ledger_parts.clone(),
            timeseries: p.timeseries.clone(),
        }
    }

    /// Checks the time-series part in the shard's folder `dir` against its sum (present, with
    /// the recorded size, rows and SHA-256); its path.
    pub fn verify_timeseries(&self, dir: &Path) -> Result<PathBuf, MergeError> {
        let part = dir.join(crate::report::TIMESERIES_PART);
        let sum = match FileSum::of(&part) {
            Ok(sum) => sum,
            Err(source) => {
                return Err(MergeError::PartUnreadable {
                    path: part,
                    part: Part::TimeSeries,
                    source,
                });
            }
        };
        if sum != self.timeseries {
            return Err(MergeError::PartDiffers {
                path: part,
                part: Part::TimeSeries,
                found: Box::new(sum),
                expected: Box::new(self.timeseries.clone()),
            });
        }
        Ok(part)
    }

    /// Checks the ledger parts in the shard's folder `dir` against the sums: each one present,
    /// with the recorded size, rows (the replication's ledger entries) and SHA-256, and no part
    /// of a replication the shard did not run (it would be joined in place of the right one).
    pub fn verify(&self, dir: &Path) -> Result<(), MergeError> {
        let file = &self.file;
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let index = name
                    .strip_prefix("ledger.part-")
                    .and_then(|n| n.strip_suffix(".csv"))
                    .and_then(|n| n.parse::<u32>().ok());
                if let Some(index) = index
                    && !self.runs.iter().any(|r| r.0 == index)
                {
                    return Err(MergeError::ForeignLedgerPart {
                        path: e.path(),
                        index,
                    });
                }
            }
        }
        for &(index, entries) in &self.runs {
            let Some(sum) = self.sums.iter().find(|s| s.index == index) else {
                return Err(MergeError::NoPartSum {
                    file: file.clone(),
                    index,
                });
            };
            if sum.rows != entries {
                return Err(MergeError::PartSumRows {
                    file: file.clone(),
                    index,
                    entries,
                    rows: sum.rows,
                });
            }
            let path = crate::report::ledger_part(dir, index);
            let part = Part::Ledger(index);
            let found = match FileSum::of(&path) {
                Ok(found) => found,
                Err(source) => return Err(MergeError::PartUnreadable { path, part, source }),
            };
            let expected = FileSum {
                rows: sum.rows,
                bytes: sum.bytes,
                sha256: sum.sha256.clone(),
            };
            if found != expected {
                return Err(MergeError::PartDiffers {
                    path,
                    part,
                    found: Box::new(found),
                    expected: Box::new(expected),
                });
            }
        }
        Ok(())
    }
}

/// Checks one replication's figures: arrays of the right lengths, the index in range and in the
/// shard, every fired rule known, and (a run's partial: `days`) its days at least the
/// scenario's.
fn check_rep(
    file: &str,
    r: &RepData,
    replications: u32,
    days: Option<u32>,
) -> Result<(), MergeError> {
    let (file, index) = (file.to_string(), r.index);
    if index >= replications {
        return Err(MergeError::IndexOutOfRange {
            file,
            index,
            replications,
        });
    }
    if r.totals.len() != Metric::COUNT {
        return Err(MergeError::Totals {
            file,
            index,
            totals: r.totals.len(),
        });
    }
    if let Some(scenario_days) = days
        && r.days < scenario_days
    {
        return Err(MergeError::Days {
            file,
            index,
            days: r.days,
            scenario_days,
        });
    }
    if let Some(f) = r.fired.iter().find(|f| RuleId::parse(f).is_none()) {
        return Err(MergeError::UnknownRule {
            file,
            index,
            rule: f.clone(),
        });
    }
    Ok(())
}

/// The checksum and [`Sealed`] of a partial type (`seal` sets the engine and the checksum, the
/// last step before writing; the checksum covers everything else in the partial).
macro_rules! sealed {
    ($t:ident) => {
        impl Sealed for $t {
            fn header(&self) -> (u32, &str, u32, &str) {
                (self.format, &self.engine, self.replications, &self.checksum)
            }
            fn content_sum(&self) -> String {
                let mut c = self.clone();
                c.checksum.clear();
                sha256_text(&serde_json::to_string(&c).unwrap_or_default())
            }
            fn scenario(&self) -> (&str, &str) {
                (&self.scenario_file, &self.scenario_source)
            }
        }

        impl $t {
            /// Sets the engine version and the checksum; the last step before writing.
            pub fn seal(&mut self) {
                self.engine = ENGINE.to_string();
                self.checksum = Sealed::content_sum(self);
            }
        }
    };
}

/// A sealed partial, of a run or a sweep.
trait Sealed {
    /// (format, engine, replications, checksum).
    fn header(&self) -> (u32, &str, u32, &str);
    fn content_sum(&self) -> String;
    /// (scenario file name, scenario source).
    fn scenario(&self) -> (&str, &str);
}

/// Checks a sealed partial read from `file` (see [`check_header`]); the first one also gives
/// the scenario's days (its scenario must validate).
fn check_sealed(file: &str, p: &impl Sealed) -> Result<(), MergeError> {
    let (format, engine, replications, checksum) = p.header();
    check_header(
        file,
        format,
        engine,
        replications,
        checksum,
        p.content_sum(),
    )
}

/// The days of the partials' scenario (which must still validate).
fn scenario_days(file: &str, p: &impl Sealed) -> Result<u32, MergeError> {
    let (name, source) = p.scenario();
    scenario::parse(name, source)
        .map(|sc| sc.days)
        .map_err(|e| MergeError::Scenario {
            file: file.to_string(),
            error: first_error(e),
        })
}

/// The first of a scenario's errors (there is at least one).
fn first_error(e: Vec<ScenarioError>) -> Box<ScenarioError> {
    Box::new(e.into_iter().next().unwrap_or_else(|| {
        // validation always says why; should it not, the refusal still is one
        ScenarioError::whole("the partial's scenario", "refused without a reason")
    }))
}

/// Checks a partial's header against this affsim: format, engine, checksum, a non-empty run.
fn check_header(
    file: &str,
    format: u32,
    engine: &str,
    replications: u32,
    checksum: &str,
    recomputed: String,
) -> Result<(), MergeError> {
    let file = file.to_string();
    if format != FORMAT {
        return Err(MergeError::Format { file, format });
    }
    if engine != ENGINE {
        return Err(MergeError::Engine {
            file,
            engine: engine.to_string(),
        });
    }
    if checksum != recomputed {
        return Err(MergeError::Checksum { file });
    }
    if replications == 0 {
        return Err(MergeError::NoReplications { file });
    }
    Ok(())
}

/// What one shard computed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Partial {
    pub format: u32,
    /// The scenario as its file reads (or the built-in demo's text) and the name errors use.
    pub scenario_file: String,
    pub scenario_source: String,
    pub seed: u64,
    /// Replications of the whole run.
    pub replications: u32,
    /// This shard: `k` of `n` (1-based).
    pub shard: (u32, u32),
    pub runs: Vec<RepData>,
    /// The daily rows of `runs`, aggregated as they arrived (the rows themselves are in the
    /// shard's time-series part).
    pub daily: DailyAgg,
    /// The shard's time-series part: its rows, size and SHA-256.
    pub timeseries: FileSum,
    /// The totals of `runs`, aggregated as they arrived (format 4): what a merge's statistics
    /// are computed from beyond the exact limit; checked against `runs`.
    #[serde(default)]
    pub totals: crate::experiment::totals::TotalsAgg,
    /// The shard ran with `--ledger`: its folder holds each replication's ledger part, which
    /// `affsim merge` joins into `ledger.csv`.
    #[serde(default)]
    pub ledger: bool,
    /// The affsim version that ran the shard ([`ENGINE`]).
    #[serde(default)]
    pub engine: String,
    /// With `ledger`: each replication's part, its rows, size and SHA-256.
    #[serde(default)]
    pub ledger_parts: Vec<PartSum>,
    /// SHA-256 of the partial's JSON with this field empty (see [`Partial::seal`]).
    #[serde(default)]
    pub checksum: String,
}

sealed!(Partial);

impl Partial {
    /// The sealed partial of shard `shard` of a run of `replications` (the scenario's file name
    /// and text, as read), from the replications it ran, their daily rows as they were streamed
    /// (the aggregate, each replication's (index, days), the time-series part's sum) and, with
    /// `--ledger`, the sums of their ledger parts ([`part_sums`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        scenario: (&str, String),
        seed: u64,
        replications: u32,
        shard: (u32, u32),
        runs: &[crate::sim::Replication],
        (daily, days, timeseries): (DailyAgg, &[(u32, u32)], FileSum),
        totals: crate::experiment::totals::TotalsAgg,
        ledger_parts: Option<Vec<PartSum>>,
    ) -> Partial {
        let days_of = |i: u32| days.iter().find(|d| d.0 == i).map_or(0, |d| d.1);
        let mut p = Partial {
            format: FORMAT,
            scenario_file: scenario.0.to_string(),
            scenario_source: scenario.1,
            seed,
            replications,
            shard,
            ledger: ledger_parts.is_some(),
            runs: runs
                .iter()
                .map(|r| RepData::of(r, days_of(r.index)))
                .collect(),
            daily,
            timeseries,
            totals,
            engine: String::new(),
            ledger_parts: ledger_parts.unwrap_or_default(),
            checksum: String::new(),
        };
        p.seal();
        p
    }
}

/// One replication's figures: what summaries, time series and charts need.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepData {
    pub index: u32,
    /// Metric totals, indexed like `Metric::ALL`: counts as JSON numbers, money as strings.
    #[serde(with = "by_unit")]
    pub totals: Vec<Decimal>,
    pub end: [Decimal; 3],
    /// Days of daily flows the replication ran (its rows are in the shard's time-series part;
    /// 0 in a sweep's partial, which has none).
    #[serde(default)]
    pub days: u32,
    pub events: u64,
    pub ledger_entries: u64,
    pub fired: Vec<String>,
    #[serde(default)]
    pub campaigns: crate::metrics::campaigns::CampaignResults,
}

impl RepData {
    /// The figures of `r`, which ran `days` days of daily flows.
    pub fn of(r: &Replication, days: u32) -> RepData {
        RepData {
            index: r.index,
            totals: r.totals.clone(),
            end: r.end,
            days,
            events: r.events,
            ledger_entries: r.ledger_entries,
            fired: r.fired.iter().map(|x| x.to_string()).collect(),
            campaigns: r.campaigns.clone(),
        }
    }

    fn into_replication(self) -> Replication {
        let mut fired = RuleSet::EMPTY;
        for f in &self.fired {
            if let Some(id) = RuleId::parse(f) {
                fired.insert(id);
            }
        }
        Replication {
            index: self.index,
            totals: self.totals,
            end: self.end,
            daily: Vec::new(),
            events: self.events,
            pending: crate::sim::Pending::default(),
            ledger_entries: self.ledger_entries,
            fired,
            refusals: Vec::new(),
            scripted: Vec::new(),
            tracked: Vec::new(),
            accounts: Vec::new(),
            plus: Vec::new(),
            campaigns: self.campaigns,
            entries: Vec::new(),
            agents: None,
            activity: crate::sim::Activity::default(),
        }
    }
}

/// A value of a metric row in JSON: a count as a number, money as a decimal string.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Cell {
    Count(i64),
    Money(Decimal),
}

fn cells(row: &[Decimal]) -> Vec<Cell> {
    use crate::metrics::{Metric, Unit};
    use rust_decimal::prelude::ToPrimitive;
    row.iter()
        .enumerate()
        .map(|(i, d)| {
            let count = Metric::ALL.get(i).map(|m| m.unit()) == Some(Unit::Count);
            match d.to_i64().filter(|_| count && d.fract().is_zero()) {
                Some(n) => Cell::Count(n),
                None => Cell::Money(*d),
            }
        })
        .collect()
}

fn decimals(row: Vec<Cell>) -> Vec<Decimal> {
    row.into_iter()
        .map(|c| match c {
            Cell::Count(n) => Decimal::from(n),
            Cell::Money(d) => d,
        })
        .collect()
}

mod by_unit {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[Decimal], s: S) -> Result<S::Ok, S::Error> {
        cells(v).serialize(s)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Decimal>, D::Error> {
        Vec::<Cell>::deserialize(d).map(decimals)
    }
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(u32, u32), ShardArgError> {
    let bad = || ShardArgError(s.to_string());
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The checks every partial passes, of a run or a sweep: no shard twice.
fn admit(file: &str, shard: (u32, u32), seen: &mut Vec<u32>) -> Result<(), MergeError> {
    let file = file.to_string();
    if shard.0 == 0 || shard.0 > shard.1 {
        return Err(MergeError::NotAShard { file, shard });
    }
    if seen.contains(&shard.0) {
        return Err(MergeError::ShardTwice { file, shard });
    }
    seen.push(shard.0);
    Ok(())
}

/// The shards of `1..=n` not among `seen` (at most ten, for a message).
fn missing_shards(n: u32, seen: &[u32]) -> Vec<u32> {
    (1..=n).filter(|k| !seen.contains(k)).take(10).collect()
}

/// A merged run: the scenario, the seed, the replications in index order, and whether the
/// shards ran with `--ledger` (their folders then hold the replications' ledger parts).
pub struct Merged {
    pub scenario: Scenario,
    pub seed: u64,
    /// Without their daily rows (see `daily`, `days`).
    pub replications: Vec<Replication>,
    pub ledger: bool,
    /// The partials' daily aggregates merged.
    pub daily: DailyAgg,
    /// The partials' aggregates of totals merged.
    pub totals: crate::experiment::totals::TotalsAgg,
    /// Each replication's days, in index order (its rows in its shard's time-series part).
    pub days: Vec<u32>,
    /// The shard (`k`, 1-based) of each partial, in the order given, and the shard count.
    pub shards: (Vec<u32>, u32),
}

/// Merges partials, each with the file it was read from: checks each one (format, engine,
/// checksum, figures, indices) and that they come from one run (same scenario text, seed,
/// replication count, shard count and `--ledger`; no shard twice; every replication present).
/// The ledger parts are checked separately ([`PartCheck::verify`]), against the shards' folders.
pub fn merge(mut partials: Vec<(String, Partial)>) -> Result<Merged, MergeError> {
    if partials.is_empty() {
        return Err(MergeError::Nothing);
    }
    let with_ledger = partials.iter().filter(|(_, p)| p.ledger).count();
    if with_ledger != 0 && with_ledger != partials.len() {
        return Err(MergeError::MixedLedger {
            with_ledger,
            shards: partials.len(),
        });
    }
    let days = {
        let (file, first) = &partials[0];
        check_sealed(file, first)?;
        scenario_days(file, first)?
    };
    let mut seen = Vec::new();
    let mut reps: Vec<Replication> = Vec::new();
    let mut days_of: Vec<(u32, u32)> = Vec::new();
    let mut daily = DailyAgg::new(&crate::report::BANDED);
    let mut totals = crate::experiment::totals::TotalsAgg::default();
    for i in 0..partials.len() {
        let ((file, p), (ffile, first)) = (&partials[i], &partials[0]);
        check_sealed(file, p)?;
        admit(file, p.shard, &mut seen)?;
        let differs = [
            (p.scenario_source != first.scenario_source, "scenario"),
            (p.seed != first.seed, "seed"),
            (p.replications != first.replications, "replication count"),
            (p.shard.1 != first.shard.1, "shard count"),
        ];
        if let Some((_, what)) = differs.iter().find(|(d, _)| *d) {
            return Err(MergeError::Foreign {
                file: file.clone(),
                sweep: false,
                shard: p.shard,
                first_file: ffile.clone(),
                first_shard: first.shard,
                what,
            });
        }
        let want = super::shard_indices(p.replications, p.shard.0, p.shard.1);
        let got: Vec<u32> = p.runs.iter().map(|r| r.index).collect();
        for r in &p.runs {
            check_rep(file, r, p.replications, Some(days))?;
        }
        if got != want {
            return Err(MergeError::WrongReplications {
                file: file.clone(),
                shard: p.shard,
                got: got[..got.len().min(10)].to_vec(),
                want: want[..want.len().min(10)].to_vec(),
            });
        }
        let ran = p.runs.iter().map(|r| r.days).max().unwrap_or(0);
        p.daily
            .check(&crate::report::BANDED, p.runs.len() as u64, ran as usize)
            .map_err(|problem| MergeError::Daily {
                file: file.clone(),
                problem,
            })?;
        let rows: u64 =
            p.runs.iter().map(|r| u64::from(r.days)).sum::<u64>() * Metric::COUNT as u64;
        if p.timeseries.rows != rows {
            return Err(MergeError::TimeseriesRows {
                file: file.clone(),
                sum_rows: p.timeseries.rows,
                rows,
            });
        }
        daily.merge(&p.daily);
        let runs = std::mem::take(&mut partials[i].1.runs);
        days_of.extend(runs.iter().map(|r| (r.index, r.days)));
        let from = reps.len();
        reps.extend(runs.into_iter().map(RepData::into_replication));
        let p = &partials[i].1;
        if crate::experiment::totals::TotalsAgg::of(&reps[from..]) != p.totals {
            return Err(MergeError::TotalsAgg {
                file: partials[i].0.clone(),
            });
        }
        totals.merge(&p.totals);
    }
    days_of.sort_unstable();
    let first = &partials[0].1;
    reps.sort_by_key(|r| r.index);
    let complete = reps.len() == first.replications as usize
        && reps.iter().enumerate().all(|(i, r)| r.index as usize == i);
    if !complete {
        let present = reps.iter().filter(|r| r.index < first.replications).count();
        return Err(MergeError::Incomplete {
            shards: missing_shards(first.shard.1, &seen),
            replications: (first.replications as usize).saturating_sub(present),
        });
    }
    let scenario = scenario::parse(&first.scenario_file, &first.scenario_source)
        .map_err(|e| MergeError::MergedScenario(first_error(e)))?;
    Ok(Merged {
        scenario,
        seed: first.seed,
        replications: reps,
        ledger: with_ledger != 0,
        daily,
        totals,
        days: days_of.into_iter().map(|d| d.1).collect(),
        shards: (
            partials.iter().map(|(_, p)| p.shard.0).collect(),
            first.shard.1,
        ),
    })
}

/// What one shard of a sweep computed: its slice of the (arm, replication) index space, where
/// the flat index of replication `r` of arm `a` is `a × replications + r`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepPartial {
    pub format: u32,
    pub scenario_file: String,
    pub scenario_source: String,
    /// The `--set` arguments of the sweep.
    pub sets: Vec<String>,
    pub seed: u64,
    pub replications: u32,
    pub arms: u32,
    pub shard: (u32, u32),
    /// (arm, replication data).
    pub runs: Vec<(u32, RepData)>,
    #[serde(default)]
    pub engine: String,
    #[serde(default)]
    pub checksum: String,
}

sealed!(SweepPartial);

/// For each arm, the replication indices shard `k` of `n` runs.
pub fn sweep_shard_indices(arms: u32, replications: u32, k: u32, n: u32) -> Vec<Vec<u32>> {
    (0..arms)
        .map(|a| {
            (0..replications)
                .filter(|r| {
                    (u64::from(a) * u64::from(replications) + u64::from(*r)) % u64::from(n)
                        == u64::from(k - 1)
                })
                .collect()
        })
        .collect()
}

/// Merges sweep partials (each with its file): the same checks as [`merge`], per arm. Returns
/// the scenario source, file name, `--set` arguments, seed and each arm's replications in index
/// order.
#[allow(clippy::type_complexity)]
pub fn merge_sweep(
    mut partials: Vec<(String, SweepPartial)>,
) -> Result<(String, String, Vec<String>, u64, Vec<Vec<Replication>>), MergeError> {
    if partials.is_empty() {
        return Err(MergeError::Nothing);
    }
    {
        let (file, first) = &partials[0];
        check_sealed(file, first)?;
        if first.arms == 0 {
            return Err(MergeError::NoArms { file: file.clone() });
        }
        // its scenario must still validate
        scenario_days(file, first)?;
    }
    let mut seen = Vec::new();
    let mut arms: Vec<Vec<Replication>> = (0..partials[0].1.arms).map(|_| Vec::new()).collect();
    for i in 0..partials.len() {
        let ((file, p), (ffile, first)) = (&partials[i], &partials[0]);
        check_sealed(file, p)?;
        admit(file, p.shard, &mut seen)?;
        let differs = [
            (p.scenario_source != first.scenario_source, "scenario"),
            (p.sets != first.sets, "--set list"),
            (p.seed != first.seed, "seed"),
            (p.replications != first.replications, "replication count"),
            (p.arms != first.arms, "arm count"),
            (p.shard.1 != first.shard.1, "shard count"),
        ];
        if let Some((_, what)) = differs.iter().find(|(d, _)| *d) {
            return Err(MergeError::Foreign {
                file: file.clone(),
                sweep: true,
                shard: p.shard,
                first_file: ffile.clone(),
                first_shard: first.shard,
                what,
            });
        }
        let want = sweep_shard_indices(p.arms, p.replications, p.shard.0, p.shard.1);
        let mut got: Vec<Vec<u32>> = vec![Vec::new(); p.arms as usize];
        for (a, r) in &p.runs {
            let slot = got
                .get_mut(*a as usize)
                .ok_or_else(|| MergeError::ArmOutOfRange {
                    file: file.clone(),
                    arm: *a,
                    arms: p.arms,
                })?;
            check_rep(file, r, p.replications, None)?;
            slot.push(r.index);
        }
        if got != want {
            return Err(MergeError::WrongSweepReplications {
                file: file.clone(),
                shard: p.shard,
            });
        }
        for (a, r) in std::mem::take(&mut partials[i].1.runs) {
            arms[a as usize].push(r.into_replication());
        }
    }
    let first = partials.swap_remove(0).1;
    for arm in &mut arms {
        arm.sort_by_key(|r| r.index);
        let complete = arm.len() == first.replications as usize
            && arm.iter().enumerate().all(|(i, r)| r.index as usize == i);
        if !complete {
            return Err(MergeError::SweepIncomplete(missing_shards(
                first.shard.1,
                &seen,
            )));
        }
    }
    Ok((
        first.scenario_source,
        first.scenario_file,
        first.sets,
        first.seed,
        arms,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed errors print the messages `affsim merge` printed when they were strings.
    #[test]
    fn merge_errors_keep_their_messages() {
        let sum = |bytes, rows, sha: &str| {
            Box::new(FileSum {
                rows,
                bytes,
                sha256: sha.into(),
            })
        };
        let cases = [
            (
                MergeError::PartDiffers {
                    path: "d/ledger.part-3.csv".into(),
                    part: Part::Ledger(3),
                    found: sum(10, 2, "a"),
                    expected: sum(12, 2, "b"),
                },
                "d/ledger.part-3.csv: the ledger part of replication 3 differs from what the shard \
                 wrote (10 bytes and 2 rows, expected 12 bytes and 2 rows, another SHA-256): \
                 truncated, edited or swapped",
            ),
            (
                MergeError::PartDiffers {
                    path: "d/t.csv".into(),
                    part: Part::TimeSeries,
                    found: sum(10, 2, "a"),
                    expected: sum(10, 3, "a"),
                },
                "d/t.csv: the shard's time series differs from what the shard wrote (10 bytes and \
                 2 rows, expected 10 bytes and 3 rows): truncated, edited or swapped",
            ),
            (
                MergeError::Foreign {
                    file: "b".into(),
                    sweep: true,
                    shard: (2, 3),
                    first_file: "a".into(),
                    first_shard: (1, 3),
                    what: "seed",
                },
                "b: sweep shard 2/3 does not belong with a (shard 1/3): the seed differs",
            ),
            (
                MergeError::Foreign {
                    file: "b".into(),
                    sweep: false,
                    shard: (2, 3),
                    first_file: "a".into(),
                    first_shard: (1, 3),
                    what: "scenario",
                },
                "b: shard 2/3 does not belong with a (shard 1/3): the scenario differs",
            ),
            (
                MergeError::WrongReplications {
                    file: "p".into(),
                    shard: (1, 2),
                    got: vec![0, 1],
                    want: vec![0, 2],
                },
                "p: shard 1/2 holds replications [0, 1], expected [0, 2]",
            ),
            (
                MergeError::Incomplete {
                    shards: vec![2],
                    replications: 3,
                },
                "the partials do not cover the run: missing shard(s) [2] (3 replication(s) missing)",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
        assert_eq!(
            parse_shard("3/2").unwrap_err().to_string(),
            "--shard `3/2`: expected K/N with 1 ≤ K ≤ N, e.g. 2/4"
        );
    }
}
