//! Past one machine: a run split into deterministic shards (`--shard K/N`), each writing a
//! partial result, and `affsim merge` combining partials into the report a single run gives.
//!
//! A partial carries the scenario's source text, the seed and the replication count, so a merge
//! can check that its partials belong together and re-create the scenario exactly; and, since
//! issue 13, the format and engine version, a SHA-256 checksum of its own content, and for each
//! ledger part its row count, size and SHA-256, so that a merge refuses (naming the file and
//! what differs) a partial or part that is missing, empty, truncated, edited or swapped.

use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::metrics::Metric;

use crate::rules::catalogue::{RuleId, RuleSet};
use crate::scenario::{self, Scenario};
use crate::sim::Replication;

/// The partial-result format version (2: engine version, checksums, ledger part sums).
pub const FORMAT: u32 = 2;
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
}

impl PartCheck {
    pub fn of((file, p): &(String, Partial)) -> PartCheck {
        PartCheck {
            file: file.clone(),
            runs: p.runs.iter().map(|r| (r.index, r.ledger_entries)).collect(),
            sums: p.ledger_parts.clone(),
        }
    }

    /// Checks the ledger parts in the shard's folder `dir` against the sums: each one present,
    /// with the recorded size, rows (the replication's ledger entries) and SHA-256, and no part
    /// of a replication the shard did not run (it would be joined in place of the right one).
    pub fn verify(&self, dir: &Path) -> Result<(), String> {
        let file = &self.file;
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let index = name
                    .strip_prefix("ledger.part-")
                    .and_then(|n| n.strip_suffix(".csv"))
                    .and_then(|n| n.parse::<u32>().ok());
                if let Some(i) = index
                    && !self.runs.iter().any(|r| r.0 == i)
                {
                    return Err(format!(
                        "{}: a ledger part of replication {i}, which this shard did not run",
                        e.path().display()
                    ));
                }
            }
        }
        for &(index, entries) in &self.runs {
            let Some(sum) = self.sums.iter().find(|s| s.index == index) else {
                return Err(format!(
                    "{file}: no ledger part sum for replication {index}"
                ));
            };
            if sum.rows != entries {
                return Err(format!(
                    "{file}: replication {index} has {entries} ledger entries but its part sum says {} rows",
                    sum.rows
                ));
            }
            let part = crate::report::ledger_part(dir, index);
            let (bytes, rows, sha) = file_sum(&part).map_err(|e| {
                format!(
                    "{}: the ledger part of replication {index} cannot be read: {e}",
                    part.display()
                )
            })?;
            if (bytes, rows) != (sum.bytes, sum.rows) || sha != sum.sha256 {
                return Err(format!(
                    "{}: the ledger part of replication {index} differs from what the shard wrote \
                     ({bytes} bytes and {rows} rows, expected {} bytes and {} rows{}): truncated, \
                     edited or swapped",
                    part.display(),
                    sum.bytes,
                    sum.rows,
                    if sha != sum.sha256 {
                        ", another SHA-256"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok(())
    }
}

/// Checks one replication's figures: arrays of the right lengths, the index in range and in the
/// shard, every fired rule known.
fn check_rep(file: &str, r: &RepData, replications: u32, days: u32) -> Result<(), String> {
    let at = |what: String| format!("{file}: replication {}: {what}", r.index);
    if r.index >= replications {
        return Err(at(format!(
            "index out of range (the run has {replications} replications)"
        )));
    }
    if r.totals.len() != Metric::COUNT {
        return Err(at(format!(
            "{} totals, expected {}",
            r.totals.len(),
            Metric::COUNT
        )));
    }
    if (r.daily.len() as u64) < u64::from(days) {
        return Err(at(format!(
            "{} daily rows, expected at least {days} (the scenario's days)",
            r.daily.len()
        )));
    }
    if let Some((d, row)) = r
        .daily
        .iter()
        .enumerate()
        .find(|(_, row)| row.len() != Metric::COUNT)
    {
        return Err(at(format!(
            "day {d} has {} figures, expected {}",
            row.len(),
            Metric::COUNT
        )));
    }
    if let Some(f) = r.fired.iter().find(|f| RuleId::parse(f).is_none()) {
        return Err(at(format!("an unknown rule `{f}` fired")));
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
fn check_sealed(file: &str, p: &impl Sealed) -> Result<(), String> {
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
fn scenario_days(file: &str, p: &impl Sealed) -> Result<u32, String> {
    let (name, source) = p.scenario();
    scenario::parse(name, source)
        .map(|sc| sc.days)
        .map_err(|e| format!("{file}: the partial's scenario does not validate: {}", e[0]))
}

/// Checks a partial's header against this affsim: format, engine, checksum, a non-empty run.
fn check_header(
    file: &str,
    format: u32,
    engine: &str,
    replications: u32,
    checksum: &str,
    recomputed: String,
) -> Result<(), String> {
    if format != FORMAT {
        return Err(format!(
            "{file}: partial format {format}, this affsim reads {FORMAT} (re-run the shard with this affsim)"
        ));
    }
    if engine != ENGINE {
        return Err(format!(
            "{file}: written by affsim {engine:?}, this is affsim {ENGINE} (re-run the shard with this affsim)"
        ));
    }
    if checksum != recomputed {
        return Err(format!(
            "{file}: the checksum does not match the content (the partial was edited or damaged)"
        ));
    }
    if replications == 0 {
        return Err(format!("{file}: a run of 0 replications"));
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
    /// and text, as read), from the replications it ran and, with `--ledger`, the sums of
    /// their ledger parts ([`part_sums`]).
    pub fn new(
        scenario: (&str, String),
        seed: u64,
        replications: u32,
        shard: (u32, u32),
        runs: &[crate::sim::Replication],
        ledger_parts: Option<Vec<PartSum>>,
    ) -> Partial {
        let mut p = Partial {
            format: FORMAT,
            scenario_file: scenario.0.to_string(),
            scenario_source: scenario.1,
            seed,
            replications,
            shard,
            ledger: ledger_parts.is_some(),
            runs: runs.iter().map(RepData::of).collect(),
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
    /// Daily flows, one row per day indexed like `totals`.
    #[serde(with = "by_unit_rows")]
    pub daily: Vec<Vec<Decimal>>,
    pub events: u64,
    pub ledger_entries: u64,
    pub fired: Vec<String>,
    #[serde(default)]
    pub campaigns: crate::metrics::campaigns::CampaignResults,
}

impl RepData {
    pub fn of(r: &Replication) -> RepData {
        RepData {
            index: r.index,
            totals: r.totals.clone(),
            end: r.end,
            daily: r.daily.clone(),
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
            daily: self.daily,
            events: self.events,
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

mod by_unit_rows {
    use super::*;
    pub fn serialize<S: serde::Serializer>(v: &[Vec<Decimal>], s: S) -> Result<S::Ok, S::Error> {
        v.iter().map(|r| cells(r)).collect::<Vec<_>>().serialize(s)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<Vec<Decimal>>, D::Error> {
        Vec::<Vec<Cell>>::deserialize(d).map(|rows| rows.into_iter().map(decimals).collect())
    }
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--shard `{s}`: expected K/N with 1 ≤ K ≤ N, e.g. 2/4");
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
fn admit(file: &str, shard: (u32, u32), seen: &mut Vec<u32>) -> Result<(), String> {
    if shard.0 == 0 || shard.0 > shard.1 {
        return Err(format!(
            "{file}: shard {}/{} is not a shard",
            shard.0, shard.1
        ));
    }
    if seen.contains(&shard.0) {
        return Err(format!(
            "{file}: shard {}/{} is given twice",
            shard.0, shard.1
        ));
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
    pub replications: Vec<Replication>,
    pub ledger: bool,
}

/// Merges partials, each with the file it was read from: checks each one (format, engine,
/// checksum, figures, indices) and that they come from one run (same scenario text, seed,
/// replication count, shard count and `--ledger`; no shard twice; every replication present).
/// The ledger parts are checked separately ([`PartCheck::verify`]), against the shards' folders.
pub fn merge(mut partials: Vec<(String, Partial)>) -> Result<Merged, String> {
    if partials.is_empty() {
        return Err("nothing to merge".into());
    }
    let with_ledger = partials.iter().filter(|(_, p)| p.ledger).count();
    if with_ledger != 0 && with_ledger != partials.len() {
        return Err(format!(
            "{with_ledger} of {} shard(s) ran with --ledger; run every shard with it, or none",
            partials.len()
        ));
    }
    let days = {
        let (file, first) = &partials[0];
        check_sealed(file, first)?;
        scenario_days(file, first)?
    };
    let mut seen = Vec::new();
    let mut reps: Vec<Replication> = Vec::new();
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
            return Err(format!(
                "{file}: shard {}/{} does not belong with {ffile} (shard {}/{}): the {what} differs",
                p.shard.0, p.shard.1, first.shard.0, first.shard.1
            ));
        }
        let want = super::shard_indices(p.replications, p.shard.0, p.shard.1);
        let got: Vec<u32> = p.runs.iter().map(|r| r.index).collect();
        for r in &p.runs {
            check_rep(file, r, p.replications, days)?;
        }
        if got != want {
            return Err(format!(
                "{file}: shard {}/{} holds replications {:?}, expected {:?}",
                p.shard.0,
                p.shard.1,
                &got[..got.len().min(10)],
                &want[..want.len().min(10)]
            ));
        }
        let runs = std::mem::take(&mut partials[i].1.runs);
        reps.extend(runs.into_iter().map(RepData::into_replication));
    }
    let first = &partials[0].1;
    reps.sort_by_key(|r| r.index);
    let complete = reps.len() == first.replications as usize
        && reps.iter().enumerate().all(|(i, r)| r.index as usize == i);
    if !complete {
        let present = reps.iter().filter(|r| r.index < first.replications).count();
        return Err(format!(
            "the partials do not cover the run: missing shard(s) {:?} ({} replication(s) missing)",
            missing_shards(first.shard.1, &seen),
            (first.replications as usize).saturating_sub(present)
        ));
    }
    let scenario = scenario::parse(&first.scenario_file, &first.scenario_source)
        .map_err(|e| format!("the partials' scenario no longer validates: {}", e[0]))?;
    Ok(Merged {
        scenario,
        seed: first.seed,
        replications: reps,
        ledger: with_ledger != 0,
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
) -> Result<(String, String, Vec<String>, u64, Vec<Vec<Replication>>), String> {
    if partials.is_empty() {
        return Err("nothing to merge".into());
    }
    let days = {
        let (file, first) = &partials[0];
        check_sealed(file, first)?;
        if first.arms == 0 {
            return Err(format!("{file}: a sweep of 0 arms"));
        }
        scenario_days(file, first)?
    };
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
            return Err(format!(
                "{file}: sweep shard {}/{} does not belong with {ffile} (shard {}/{}): the {what} differs",
                p.shard.0, p.shard.1, first.shard.0, first.shard.1
            ));
        }
        let want = sweep_shard_indices(p.arms, p.replications, p.shard.0, p.shard.1);
        let mut got: Vec<Vec<u32>> = vec![Vec::new(); p.arms as usize];
        for (a, r) in &p.runs {
            let slot = got.get_mut(*a as usize).ok_or_else(|| {
                format!(
                    "{file}: arm {a} is out of range (the sweep has {} arms)",
                    p.arms
                )
            })?;
            check_rep(file, r, p.replications, days)?;
            slot.push(r.index);
        }
        if got != want {
            return Err(format!(
                "{file}: sweep shard {}/{} does not hold exactly its replications (missing, duplicated or foreign indices)",
                p.shard.0, p.shard.1
            ));
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
            return Err(format!(
                "the partials do not cover the sweep: missing shard(s) {:?}",
                missing_shards(first.shard.1, &seen)
            ));
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
