//! Past one machine: a run split into deterministic shards (`--shard K/N`), each writing a
//! partial result, and `affsim merge` combining partials into the report a single run gives.
//!
//! A partial carries the scenario's source text, the seed and the replication count, so a merge
//! can check that its partials belong together and re-create the scenario exactly.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::rules::catalogue::{RuleId, RuleSet};
use crate::scenario::{self, Scenario};
use crate::sim::Replication;

/// The partial-result format version.
pub const FORMAT: u32 = 1;

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

/// The checks every partial passes, of a run or a sweep: this affsim's format, no shard twice.
fn admit(format: u32, shard: (u32, u32), seen: &mut Vec<u32>) -> Result<(), String> {
    if format != FORMAT {
        return Err(format!(
            "a partial has format {format}, this affsim reads {FORMAT}"
        ));
    }
    if seen.contains(&shard.0) {
        return Err(format!("shard {}/{} is given twice", shard.0, shard.1));
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

/// Merges partials: checks they come from one run (same scenario text, seed, replication count,
/// shard count and `--ledger`; no shard twice; every replication present).
pub fn merge(mut partials: Vec<Partial>) -> Result<Merged, String> {
    if partials.is_empty() {
        return Err("nothing to merge".into());
    }
    let with_ledger = partials.iter().filter(|p| p.ledger).count();
    if with_ledger != 0 && with_ledger != partials.len() {
        return Err(format!(
            "{with_ledger} of {} shard(s) ran with --ledger; run every shard with it, or none",
            partials.len()
        ));
    }
    let mut seen = Vec::new();
    let mut reps: Vec<Replication> = Vec::new();
    for i in 0..partials.len() {
        let (p, first) = (&partials[i], &partials[0]);
        admit(p.format, p.shard, &mut seen)?;
        if p.scenario_source != first.scenario_source
            || p.seed != first.seed
            || p.replications != first.replications
            || p.shard.1 != first.shard.1
        {
            return Err(format!(
                "shard {}/{} does not belong with shard {}/{}: scenario, seed, replications or shard count differ",
                p.shard.0, p.shard.1, first.shard.0, first.shard.1
            ));
        }
        let runs = std::mem::take(&mut partials[i].runs);
        reps.extend(runs.into_iter().map(RepData::into_replication));
    }
    let first = &partials[0];
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
}

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

/// Merges sweep partials: the same checks as [`merge`], per arm. Returns the scenario source,
/// file name, `--set` arguments, seed and each arm's replications in index order.
#[allow(clippy::type_complexity)]
pub fn merge_sweep(
    mut partials: Vec<SweepPartial>,
) -> Result<(String, String, Vec<String>, u64, Vec<Vec<Replication>>), String> {
    if partials.is_empty() {
        return Err("nothing to merge".into());
    }
    let mut seen = Vec::new();
    let mut arms: Vec<Vec<Replication>> = (0..partials[0].arms).map(|_| Vec::new()).collect();
    for i in 0..partials.len() {
        let (p, first) = (&partials[i], &partials[0]);
        admit(p.format, p.shard, &mut seen)?;
        if p.scenario_source != first.scenario_source
            || p.sets != first.sets
            || p.seed != first.seed
            || p.replications != first.replications
            || p.arms != first.arms
            || p.shard.1 != first.shard.1
        {
            return Err(format!(
                "sweep shard {}/{} does not belong with shard {}/{}",
                p.shard.0, p.shard.1, first.shard.0, first.shard.1
            ));
        }
        for (a, r) in std::mem::take(&mut partials[i].runs) {
            let arm = arms
                .get_mut(a as usize)
                .ok_or("a partial names an arm the sweep does not have")?;
            arm.push(r.into_replication());
        }
    }
    let first = partials.swap_remove(0);
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
