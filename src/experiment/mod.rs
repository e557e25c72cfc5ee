//! Experiments: replications in parallel (rayon), collected in index order, and their aggregates.
//!
//! Replication `i` uses random streams derived from (seed, i) only, so results are identical for
//! any number of threads and any completion order.

pub mod lift;
pub mod memory;
pub mod sensitivity;
pub mod shard;
pub mod stats;
pub mod summary;
pub mod sweep;

use rayon::prelude::*;

use crate::scenario::Scenario;
use crate::sim::{Replication, RunError, RunOptions, run_replication};

/// How to run a scenario.
#[derive(Clone, Default)]
pub struct RunConfig {
    /// Replications to run (the scenario's count when `None`).
    pub replications: Option<u32>,
    /// Worker threads (all cores when `None`).
    pub threads: Option<usize>,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    pub options: RunOptions,
    /// Called once per finished replication (progress bars).
    pub on_done: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
}

/// The replications of one run, in index order.
pub struct Outcome {
    pub seed: u64,
    pub replications: Vec<Replication>,
    /// Wall-clock seconds each replication took, in index order. Timings vary from run to run:
    /// they are for throughput figures (`--timing`), never part of `summary.json`.
    pub seconds: Vec<f64>,
}

/// Runs every replication of `sc` in parallel; the first failing replication's error is returned.
pub fn run(sc: &Scenario, cfg: &RunConfig) -> Result<Outcome, RunError> {
    let n = cfg.replications.unwrap_or(sc.replications);
    run_indices(sc, cfg, &(0..n).collect::<Vec<_>>())
}

/// The replication indices of shard `k` (1-based) of `n`: every index `i` with `i % n == k − 1`.
/// Shards are disjoint and together cover every index, whatever the number of replications.
pub fn shard_indices(replications: u32, k: u32, n: u32) -> Vec<u32> {
    (0..replications).filter(|i| i % n == k - 1).collect()
}

/// Runs the given replication indices only (a shard), in parallel, collected in index order.
pub fn run_indices(sc: &Scenario, cfg: &RunConfig, indices: &[u32]) -> Result<Outcome, RunError> {
    let mut sc = std::borrow::Cow::Borrowed(sc);
    if let Some(seed) = cfg.seed {
        sc.to_mut().seed = seed;
    }
    let job = || {
        indices
            .par_iter()
            .copied()
            .map(|i| {
                let started = std::time::Instant::now();
                let r = run_replication(&sc, i, &cfg.options);
                let secs = started.elapsed().as_secs_f64();
                // only finished replications count (the interrupt message reports them)
                if let (Some(cb), true) = (&cfg.on_done, r.is_ok()) {
                    cb();
                }
                r.map(|r| (r, secs))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let replications = match cfg.threads {
        // no silent substitute: 0 threads or a pool that cannot start is an error
        Some(t) => match rayon::ThreadPoolBuilder::new().num_threads(t).build() {
            Ok(pool) if t > 0 => pool.install(job)?,
            Ok(_) => {
                return Err(RunError::Threads {
                    threads: t,
                    message: "at least one is needed".into(),
                });
            }
            Err(e) => {
                return Err(RunError::Threads {
                    threads: t,
                    message: e.to_string(),
                });
            }
        },
        None => job()?,
    };
    let (replications, seconds) = replications.into_iter().unzip();
    Ok(Outcome {
        seed: sc.seed,
        replications,
        seconds,
    })
}
