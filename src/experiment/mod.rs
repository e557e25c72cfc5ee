//! Experiments: replications in parallel (rayon), collected in index order, and their aggregates.
//!
//! Replication `i` uses random streams derived from (seed, i) only, so results are identical for
//! any number of threads and any completion order.

pub mod daily;
pub mod lift;
pub mod memory;
pub mod sensitivity;
pub mod shard;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod totals;

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
    /// Handed each finished replication in index order as soon as those before it have
    /// finished (a streaming report); replications finished early wait, at most a few per
    /// thread (see [`run_indices`]).
    pub arrivals: Option<std::sync::Arc<std::sync::Mutex<dyn Arrivals>>>,
}

/// What takes replications as they arrive, in index order (e.g. writes their daily rows and
/// folds them into a [`daily::DailyAgg`], then drops the rows): the replication to keep in the
/// [`Outcome`], or `None` when the sink keeps what it needs (a whole run's report).
pub trait Arrivals: Send {
    fn arrive(&mut self, r: Replication) -> Option<Replication>;
}

/// The replications of one run, in index order.
pub struct Outcome {
    pub seed: u64,
    /// The replications kept (none when an [`Arrivals`] sink took them all).
    pub replications: Vec<Replication>,
    /// Every replication that ran, kept or not, in index order.
    pub ran: Vec<Ran>,
    /// Wall-clock seconds each replication took, in index order (as `ran`). Timings vary from
    /// run to run: they are for throughput figures (`--timing`), never part of `summary.json`.
    pub seconds: Vec<f64>,
}

/// What is known of every replication that ran, kept or not (for `--timing` and the progress
/// line): its index, events and the events it had waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ran {
    pub index: u32,
    pub events: u64,
    pub pending: crate::sim::Pending,
}

impl Ran {
    fn of(r: &Replication) -> Ran {
        Ran {
            index: r.index,
            events: r.events,
            pending: r.pending,
        }
    }
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
    if let Some(sink) = &cfg.arrivals {
        let sink = sink.clone();
        return pooled(cfg, || ordered(&sc, cfg, indices, &*sink)).map(
            |(replications, (ran, seconds))| Outcome {
                seed: sc.seed,
                replications,
                ran,
                seconds,
            },
        );
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
    let (replications, seconds) = pooled(cfg, || {
        job().map(|v| v.into_iter().unzip::<_, _, Vec<_>, Vec<_>>())
    })?;
    Ok(Outcome {
        seed: sc.seed,
        ran: replications.iter().map(Ran::of).collect(),
        replications,
        seconds,
    })
}

/// Runs `job` on `cfg.threads` threads (rayon's global pool when `None`).
fn pooled<T: Send>(
    cfg: &RunConfig,
    job: impl FnOnce() -> Result<T, RunError> + Send,
) -> Result<T, RunError> {
    Ok(match cfg.threads {
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
    })
}

/// The replications kept, and every one's (index, events) and seconds.
type Finished = (Vec<Replication>, (Vec<Ran>, Vec<f64>));

/// Runs `indices` with one worker per thread, each taking the next index in order, and hands
/// each replication to `sink` in index order. A worker does not start a replication more than
/// two per thread ahead of the oldest unfinished one, so at most that many finished ones wait.
fn ordered(
    sc: &Scenario,
    cfg: &RunConfig,
    indices: &[u32],
    sink: &std::sync::Mutex<dyn Arrivals>,
) -> Result<Finished, RunError> {
    use std::collections::BTreeMap;
    use std::sync::{Condvar, Mutex};
    struct State {
        taken: usize,
        flushed: usize,
        early: BTreeMap<usize, (Replication, f64)>,
        done: Vec<Replication>,
        ran: (Vec<Ran>, Vec<f64>),
        failed: Option<(usize, RunError)>,
    }
    let workers = rayon::current_num_threads().clamp(1, indices.len().max(1));
    let ahead = 2 * workers;
    let state = Mutex::new(State {
        taken: 0,
        flushed: 0,
        early: BTreeMap::new(),
        done: Vec::new(),
        ran: (Vec::new(), Vec::new()),
        failed: None,
    });
    let turn = Condvar::new();
    fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                loop {
                    let pos = {
                        let mut st = lock(&state);
                        while st.failed.is_none()
                            && st.taken < indices.len()
                            && st.taken - st.flushed >= ahead
                        {
                            st = turn.wait(st).unwrap_or_else(|e| e.into_inner());
                        }
                        if st.failed.is_some() || st.taken >= indices.len() {
                            return;
                        }
                        st.taken += 1;
                        st.taken - 1
                    };
                    let started = std::time::Instant::now();
                    let r = run_replication(sc, indices[pos], &cfg.options);
                    let secs = started.elapsed().as_secs_f64();
                    let mut st = lock(&state);
                    match r {
                        Ok(r) => {
                            if let Some(cb) = &cfg.on_done {
                                cb();
                            }
                            st.early.insert(pos, (r, secs));
                            let mut sink = lock(sink);
                            while let Some((next, secs)) = {
                                let f = st.flushed;
                                st.early.remove(&f)
                            } {
                                st.ran.0.push(Ran::of(&next));
                                st.ran.1.push(secs);
                                if let Some(kept) = sink.arrive(next) {
                                    st.done.push(kept);
                                }
                                st.flushed += 1;
                            }
                        }
                        Err(e) => {
                            if st.failed.as_ref().is_none_or(|(p, _)| pos < *p) {
                                st.failed = Some((pos, e));
                            }
                        }
                    }
                    drop(st);
                    turn.notify_all();
                }
            });
        }
    });
    let st = state.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some((_, e)) = st.failed {
        return Err(e);
    }
    Ok((st.done, st.ran))
}
