//! The memory a run will need, estimated before it starts: the results kept per replication × replications, plus the working state of the replications running at once.

use crate::metrics::Metric;
use crate::scenario::Scenario;

/// The environment variable overriding the memory cap (bytes).
pub const MAX_MEMORY_ENV: &str = "AFFSIM_MAX_MEMORY_BYTES";
/// The cap when the machine's memory cannot be read: 16 GiB.
const FALLBACK_CAP: u64 = 16 << 30;

/// What the allocator and the report's transient copies (the per-replication rows of
/// `summary.json` as JSON values and text, chart columns) add to the figures a replication
/// keeps, as a factor: measured on the demo (30 days, 60 metrics), peak RSS grew by 169 KB per
/// replication (40 against 400 replications, one thread) when every replication's daily rows
/// were kept, for 63 KB of figures counted below.
const OVERHEAD: u64 = 3;

/// Bytes of one replication's daily rows: the scenario's days and a drain margin, per metric.
fn daily_rows(sc: &Scenario) -> u64 {
    (u64::from(sc.days) + 32) * (24 + Metric::COUNT as u64 * 16)
}

/// Bytes a replication holds until the report is written besides its daily rows: its totals,
/// its scripted orders' records, its per-campaign and per-seller rows, and its values of the
/// charted metrics' days while quantiles are exact, times [`OVERHEAD`], and its row of
/// `summary.json` ([`SUMMARY_ROW`]). Per seller 800 bytes: the demo's 20 sellers and campaigns
/// add 50 KB a replication to the one-seller figure (79 KB measured with the rows streamed).
pub fn kept_per_replication(sc: &Scenario) -> u64 {
    let figures = Metric::COUNT as u64 * 16;
    let (sellers, _, _) = sc.agent_counts();
    let banded = (u64::from(sc.days) + 32) * crate::report::BANDED.len() as u64 * 8;
    let kept = figures + sc.orders.len() as u64 * 256 + sellers.saturating_mul(800) + 1024 + banded;
    kept.saturating_mul(OVERHEAD).saturating_add(SUMMARY_ROW)
}

/// A replication's row of `summary.json` while the report is written (typed, as a JSON value
/// and as text, with the allocator's share): measured 29 KB a replication on a one-seller
/// scenario whose rows are streamed (40 against 1 000 replications, one thread).
const SUMMARY_ROW: u64 = 30_000;

/// [`kept_per_replication`] with the daily rows: what a replication holds when its rows are
/// kept until the end (a sweep's or a paired run's arms, a shard's partial, a merge).
pub fn kept_with_rows(sc: &Scenario) -> u64 {
    kept_per_replication(sc).saturating_add(daily_rows(sc).saturating_mul(OVERHEAD))
}

/// Bytes of working state of one running replication: its agents with their books and streams
/// (about 100 bytes a seller, 150 a product, 200 a creator), and a floor for the queue.
pub fn working_per_replication(sc: &Scenario) -> u64 {
    let (s, p, c) = sc.agent_counts();
    s.saturating_mul(100)
        .saturating_add(p.saturating_mul(150))
        .saturating_add(c.saturating_mul(200))
        .saturating_add(1 << 20)
}

/// The estimate for `replications` kept and `threads` running at once. `streamed`: the daily
/// rows are written and aggregated as replications arrive (a whole `affsim run`), so only
/// those running or waiting for an earlier one (three per thread) hold them, plus the
/// aggregate's per-day sums; otherwise every replication keeps its rows.
pub fn estimate(sc: &Scenario, replications: u64, threads: usize, streamed: bool) -> u64 {
    let threads = threads.max(1) as u64;
    let working = working_per_replication(sc).saturating_mul(threads);
    if !streamed {
        return kept_with_rows(sc)
            .saturating_mul(replications)
            .saturating_add(working);
    }
    let in_flight = daily_rows(sc)
        .saturating_mul(OVERHEAD)
        .saturating_mul(3 * threads + 1);
    kept_per_replication(sc)
        .saturating_mul(replications)
        .saturating_add(working)
        .saturating_add(in_flight)
}

/// Why a run is refused before it starts.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("{MAX_MEMORY_ENV}=`{0}`: expected a number of bytes")]
    BadCap(String),
    #[error(
        "this run would need about {need_gib:.1} GiB of memory ({replications} replication(s) × {kept_kib:.1} KiB of results kept, plus {threads} running at once), above the cap of {cap_gib:.1} GiB: run fewer replications, split the run with --shard K/N, or set {MAX_MEMORY_ENV} to a larger number of bytes"
    )]
    TooLarge {
        need_gib: f64,
        replications: u64,
        kept_kib: f64,
        threads: usize,
        cap_gib: f64,
    },
}

/// The cap: [`MAX_MEMORY_ENV`] when set, else three quarters of the machine's memory (Linux
/// `/proc/meminfo`), else 16 GiB.
pub fn cap() -> Result<u64, MemoryError> {
    if let Ok(v) = std::env::var(MAX_MEMORY_ENV) {
        return v
            .trim()
            .parse::<u64>()
            .map_err(|_| MemoryError::BadCap(v.clone()));
    }
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
    });
    Ok(total_kib.map_or(FALLBACK_CAP, |k| k.saturating_mul(1024) / 4 * 3))
}

/// Refuses a run whose estimate exceeds the cap, with the figure and the way out
/// (`replications`: all those kept, e.g. a sweep's arms × replications; `streamed` as in
/// [`estimate`]).
pub fn check(
    sc: &Scenario,
    replications: u64,
    threads: usize,
    streamed: bool,
) -> Result<(), MemoryError> {
    let need = estimate(sc, replications, threads, streamed);
    let cap = cap()?;
    if need > cap {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(MemoryError::TooLarge {
            need_gib: gib(need),
            replications,
            kept_kib: if streamed {
                kept_per_replication(sc)
            } else {
                kept_with_rows(sc)
            } as f64
                / 1024.0,
            threads,
            cap_gib: gib(cap),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate is not below what the demo was measured to use per replication: 169 KB
    /// when every replication kept its daily rows, 79 KB with the rows streamed (peak RSS,
    /// 40 against 400 replications, one thread).
    #[test]
    fn the_estimate_covers_the_measured_demo() {
        let b = &crate::scenario::builtin::BUILTINS[0];
        let sc = crate::scenario::parse("demo.toml", b.source).unwrap();
        let with_rows = kept_with_rows(&sc);
        assert!(with_rows >= 169_000, "{with_rows}");
        assert!(
            with_rows <= 400_000,
            "{with_rows}: far above the measurement"
        );
        let streamed = kept_per_replication(&sc);
        assert!(streamed >= 79_000, "{streamed}");
        assert!(
            streamed < with_rows / 2,
            "{streamed}: the rows are no longer counted"
        );
        // a streamed run's estimate grows by the kept figures only
        let (a, b) = (estimate(&sc, 40, 1, true), estimate(&sc, 400, 1, true));
        assert_eq!(b - a, 360 * streamed);
    }
}
