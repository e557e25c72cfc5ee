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
    pub totals: Vec<Decimal>,
    pub end: [Decimal; 3],
    pub daily: Vec<Vec<Decimal>>,
    pub events: u64,
    pub ledger_entries: u64,
    pub fired: Vec<String>,
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
            entries: Vec::new(),
            agents: None,
        }
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

/// Merges partials: checks they come from one run (same scenario text, seed, replication count
/// and shard count, no shard twice, every replication present) and returns the scenario and the
/// replications in index order.
pub fn merge(partials: Vec<Partial>) -> Result<(Scenario, u64, Vec<Replication>), String> {
    // The first partial's header, to compare the others with (not its runs: they can be large).
    let Some(first) = partials.first().map(|p| Partial {
        format: p.format,
        scenario_file: p.scenario_file.clone(),
        scenario_source: p.scenario_source.clone(),
        seed: p.seed,
        replications: p.replications,
        shard: p.shard,
        runs: Vec::new(),
        ledger: p.ledger,
    }) else {
        return Err("nothing to merge".into());
    };
    let mut seen_shards = Vec::new();
    let mut reps: Vec<Replication> = Vec::new();
    for p in partials {
        if p.format != FORMAT {
            return Err(format!(
                "a partial has format {}, this affsim reads {FORMAT}",
                p.format
            ));
        }
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
        if seen_shards.contains(&p.shard.0) {
            return Err(format!("shard {}/{} is given twice", p.shard.0, p.shard.1));
        }
        seen_shards.push(p.shard.0);
        reps.extend(p.runs.into_iter().map(RepData::into_replication));
    }
    reps.sort_by_key(|r| r.index);
    let missing: Vec<u32> = (0..first.replications)
        .filter(|i| reps.binary_search_by_key(i, |r| r.index).is_err())
        .collect();
    if !missing.is_empty() || reps.len() != first.replications as usize {
        let mut shards: Vec<u32> = (1..=first.shard.1)
            .filter(|k| !seen_shards.contains(k))
            .collect();
        shards.truncate(10);
        return Err(format!(
            "the partials do not cover the run: missing shard(s) {shards:?} ({} replication(s) missing)",
            missing.len()
        ));
    }
    let sc = scenario::parse(&first.scenario_file, &first.scenario_source)
        .map_err(|e| format!("the partials' scenario no longer validates: {}", e[0]))?;
    Ok((sc, first.seed, reps))
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
    partials: Vec<SweepPartial>,
) -> Result<(String, String, Vec<String>, u64, Vec<Vec<Replication>>), String> {
    let Some(first) = partials.first().map(|p| SweepPartial {
        format: p.format,
        scenario_file: p.scenario_file.clone(),
        scenario_source: p.scenario_source.clone(),
        sets: p.sets.clone(),
        seed: p.seed,
        replications: p.replications,
        arms: p.arms,
        shard: p.shard,
        runs: Vec::new(),
    }) else {
        return Err("nothing to merge".into());
    };
    let mut seen = Vec::new();
    let mut arms: Vec<Vec<Replication>> = (0..first.arms).map(|_| Vec::new()).collect();
    for p in partials {
        if p.format != FORMAT {
            return Err(format!(
                "a partial has format {}, this affsim reads {FORMAT}",
                p.format
            ));
        }
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
        if seen.contains(&p.shard.0) {
            return Err(format!("shard {}/{} is given twice", p.shard.0, p.shard.1));
        }
        seen.push(p.shard.0);
        for (a, r) in p.runs {
            let arm = arms
                .get_mut(a as usize)
                .ok_or("a partial names an arm the sweep does not have")?;
            arm.push(r.into_replication());
        }
    }
    for arm in &mut arms {
        arm.sort_by_key(|r| r.index);
        let complete = arm.len() == first.replications as usize
            && arm.iter().enumerate().all(|(i, r)| r.index as usize == i);
        if !complete {
            let shards: Vec<u32> = (1..=first.shard.1).filter(|k| !seen.contains(k)).collect();
            return Err(format!(
                "the partials do not cover the sweep: missing shard(s) {shards:?}"
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
