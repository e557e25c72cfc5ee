//! The memory a run will need, estimated before it starts: the results kept per replication × replications, plus the working state of the replications running at once.

use crate::metrics::Metric;
use crate::scenario::Scenario;

/// The environment variable overriding the memory cap (bytes).
pub const MAX_MEMORY_ENV: &str = "AFFSIM_MAX_MEMORY_BYTES";
/// The cap when the machine's memory cannot be read: 16 GiB.
const FALLBACK_CAP: u64 = 16 << 30;

/// What the allocator and the report's transient copies (the per-replication rows of
/// `summary.json` as JSON values and text, chart columns) add to the figures a replication
/// keeps, as a factor: measured on the demo (30 days, 60 metrics), peak RSS grows by 169 KB per
/// replication (40 against 400 replications, one thread) for 63 KB of figures counted below.
const OVERHEAD: u64 = 3;

/// Bytes a replication holds until the report is written: its totals, its daily rows (the
/// scenario's days and a drain margin), its scripted orders' records, its per-campaign and
/// per-seller rows, times [`OVERHEAD`].
pub fn kept_per_replication(sc: &Scenario) -> u64 {
    let figures = Metric::COUNT as u64 * 16;
    let rows = u64::from(sc.days) + 32;
    let (sellers, _, _) = sc.agent_counts();
    let kept = rows * (24 + figures)
        + figures
        + sc.orders.len() as u64 * 256
        + sellers.saturating_mul(160)
        + 1024;
    kept.saturating_mul(OVERHEAD)
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

/// The estimate for `replications` kept and `threads` running at once.
pub fn estimate(sc: &Scenario, replications: u64, threads: usize) -> u64 {
    kept_per_replication(sc)
        .saturating_mul(replications)
        .saturating_add(working_per_replication(sc).saturating_mul(threads.max(1) as u64))
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
/// (`replications`: all those kept, e.g. a sweep's arms × replications).
pub fn check(sc: &Scenario, replications: u64, threads: usize) -> Result<(), MemoryError> {
    let need = estimate(sc, replications, threads);
    let cap = cap()?;
    if need > cap {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(MemoryError::TooLarge {
            need_gib: gib(need),
            replications,
            kept_kib: kept_per_replication(sc) as f64 / 1024.0,
            threads,
            cap_gib: gib(cap),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate is not below what the demo was measured to use per replication (169 KB).
    #[test]
    fn the_estimate_covers_the_measured_demo() {
        let b = &crate::scenario::builtin::BUILTINS[0];
        let sc = crate::scenario::parse("demo.toml", b.source).unwrap();
        let kept = kept_per_replication(&sc);
        assert!(kept >= 169_000, "{kept}");
        assert!(kept <= 400_000, "{kept}: far above the measurement");
    }
}
