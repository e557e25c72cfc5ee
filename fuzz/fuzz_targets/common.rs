//! Shared by the fuzz targets: the checks every run must pass (MONEY-2, RATE-1, ATTR-1, determinism).

use std::collections::HashMap;

use affsim::rules::ledger::{Account, EntryKind};
use affsim::scenario::{Scenario, ScenarioError};
use affsim::sim::{Replication, RunOptions, run_replication};
use rust_decimal::Decimal;

/// Simulated days a fuzzed scenario is run for at most.
pub const MAX_DAYS: u32 = 20;
/// Agents (named and generated) above which a fuzzed scenario is not run.
pub const MAX_AGENTS: u64 = 400;

/// Every error names the file, has a message and, when it has a place, one inside the text.
pub fn check_errors(file: &str, text: &str, errs: &[ScenarioError]) {
    assert!(!errs.is_empty(), "a rejection without an error");
    let lines = text.matches('\n').count() + 1;
    for e in errs {
        assert!(!e.message.trim().is_empty(), "an empty message: {e:?}");
        assert_eq!(e.file, file, "the error names another file: {e:?}");
        if let Some(line) = e.line {
            assert!(
                line >= 1 && line <= lines,
                "line {line} outside the {lines} lines: {e:?}"
            );
            let src = text.split('\n').nth(line - 1).unwrap_or_default();
            if let Some(col) = e.column {
                let chars = src.chars().count();
                assert!(
                    col >= 1 && col <= chars + 1,
                    "column {col} outside line {line} ({chars} chars): {e:?}"
                );
            }
        }
        // rendering must not panic either
        let _ = e.to_string();
    }
}

/// Whether the scenario is small enough to run under the fuzzer's time limit; caps its days.
pub fn shrink(mut sc: Scenario) -> Option<Scenario> {
    let p = &sc.populations;
    let agents = sc.named.sellers.len() as u64
        + sc.named.products.len() as u64
        + sc.named.creators.len() as u64
        + p.sellers.as_ref().map_or(0, |s| u64::from(s.count))
        + p.products.as_ref().map_or(0, |s| u64::from(s.count))
        + p.creators.as_ref().map_or(0, |s| u64::from(s.count));
    if agents > MAX_AGENTS {
        return None;
    }
    sc.days = sc.days.min(MAX_DAYS);
    Some(sc)
}

fn run(sc: &Scenario, index: u32) -> Replication {
    let opts = RunOptions {
        record_ledger: true,
        ..Default::default()
    };
    match run_replication(sc, index, &opts) {
        Ok(r) => r,
        Err(e) => panic!("replication {index} must complete with a balanced ledger: {e}"),
    }
}

/// Runs replication 0 twice and checks the invariants of the ledger and determinism.
pub fn run_and_check(sc: &Scenario) {
    let r = run(sc, 0);
    let bad = ledger_invariants(&r);
    assert!(
        bad.is_empty(),
        "{} violation(s):\n  {}",
        bad.len(),
        bad.join("\n  ")
    );
    let again = run(sc, 0);
    assert!(
        r.totals == again.totals,
        "totals differ between two runs of one seed"
    );
    assert!(
        r.daily == again.daily,
        "daily flows differ between two runs of one seed"
    );
    assert!(
        r.entries == again.entries,
        "ledger entries differ between two runs of one seed"
    );
    assert_eq!(
        r.events, again.events,
        "event counts differ between two runs of one seed"
    );
}

/// Balances sum to zero, every commission rate within 1 %–80 %, one commission per order line.
pub fn ledger_invariants(r: &Replication) -> Vec<String> {
    let mut bad = Vec::new();
    let (one, eighty) = (Decimal::ONE, Decimal::from(80));
    let mut bal: HashMap<Account, Decimal> = HashMap::new();
    let mut paid: HashMap<u64, Vec<u64>> = HashMap::new();
    for e in &r.entries {
        if e.amount.0 <= Decimal::ZERO {
            bad.push(format!("entry #{} of {} is not positive", e.seq, e.amount));
        }
        *bal.entry(e.from).or_default() -= e.amount.0;
        *bal.entry(e.to).or_default() += e.amount.0;
        if !matches!(e.kind, EntryKind::Commission | EntryKind::ShopAdsCommission) {
            continue;
        }
        match e.prov.order {
            Some(no) => paid.entry(no).or_default().push(e.seq),
            None => bad.push(format!(
                "{} #{} has no order number",
                e.kind.as_str(),
                e.seq
            )),
        }
        match e.prov.rate {
            Some(rate) if rate.percent() < one || rate.percent() > eighty => bad.push(format!(
                "{} #{} at {rate}: outside 1%–80%",
                e.kind.as_str(),
                e.seq
            )),
            Some(_) => {}
            None => bad.push(format!("{} #{} has no rate", e.kind.as_str(), e.seq)),
        }
    }
    let sum: Decimal = bal.values().copied().sum();
    if !sum.is_zero() {
        bad.push(format!("balances sum to {sum}"));
    }
    for (no, seqs) in paid {
        if seqs.len() > 1 {
            bad.push(format!(
                "order {no} has {} commission entries: {seqs:?}",
                seqs.len()
            ));
        }
    }
    bad
}
