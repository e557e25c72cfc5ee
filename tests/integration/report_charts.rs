//! The run report's charts on the built-in demo: the payout stack adds up to total payouts,
//! GMV by plan type adds up to GMV, every axis of the demo has distinct labels, and the
//! daily charts mark the demo's campaign windows and scripted changes.

use std::collections::HashSet;

use affsim::experiment::{self, RunConfig};
use affsim::metrics::Metric;
use affsim::report::charts::{self, PAYOUTS, Timeline};
use affsim::report::format::Currency;
use affsim::scenario::Scenario;
use affsim::sim::Replication;
use rust_decimal::prelude::ToPrimitive;

fn demo(replications: u32) -> (Scenario, Vec<Replication>) {
    let sc = affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO)
        .expect("the built-in demo validates");
    let out = experiment::run(
        &sc,
        &RunConfig {
            seed: Some(42),
            replications: Some(replications),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("a replication failed: {e}"));
    (sc, out.replications)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn assert_distinct(what: &str, labels: &[String]) {
    let set: HashSet<&String> = labels.iter().collect();
    assert_eq!(
        set.len(),
        labels.len(),
        "{what}: repeated labels {labels:?}"
    );
    assert!(labels.len() >= 3, "{what}: too few ticks {labels:?}");
}

#[test]
fn payout_stack_adds_up_to_total_payouts() {
    let (sc, reps) = demo(3);
    // The stacked kinds are exactly the payouts.
    let kinds: HashSet<Metric> = PAYOUTS.iter().map(|(m, _)| *m).collect();
    let expected: HashSet<Metric> = [
        Metric::Commissions,
        Metric::ShopAdsCommissions,
        Metric::DistributorFees,
        Metric::FlatFeesPaid,
        Metric::RewardsPaid,
        Metric::ServiceFeesCharged,
    ]
    .into();
    assert_eq!(kinds, expected);

    let (layers, total) = charts::payout_layers(&affsim::report::daily_of(&reps));
    assert_eq!(layers.len(), PAYOUTS.len());
    for (d, t) in total.iter().enumerate() {
        let stacked: f64 = layers.iter().map(|l| l.values[d]).sum();
        assert!(close(stacked, *t), "day {d}: stack {stacked} ≠ total {t}");
    }
    // Over the run, the daily totals add up to the mean of each replication's total payouts.
    let n = reps.len() as f64;
    let mean_total: f64 = reps
        .iter()
        .map(|r| {
            PAYOUTS
                .iter()
                .map(|(m, _)| r.total(*m).to_f64().unwrap())
                .sum::<f64>()
        })
        .sum::<f64>()
        / n;
    assert!(mean_total > 0.0);
    assert!(
        close(total.iter().sum::<f64>(), mean_total),
        "daily totals {} ≠ mean total payouts {mean_total}",
        total.iter().sum::<f64>()
    );
    // The chart drops only an empty tail.
    let timeline = Timeline::of(&sc);
    let charts = charts::daily_charts(&sc, &affsim::report::daily_of(&reps), &timeline);
    let (_, payouts) = charts.iter().find(|(n, _)| *n == "payouts").unwrap();
    let shown: f64 = payouts.layers.iter().flat_map(|l| &l.values).sum();
    assert!(
        close(shown, mean_total),
        "chart shows {shown} of {mean_total}"
    );
}

#[test]
fn gmv_by_plan_type_adds_up_to_gmv() {
    let (sc, reps) = demo(3);
    let bars = charts::gmv_by_plan(&reps, &Currency::of(&sc.region));
    let mean_gmv = reps
        .iter()
        .map(|r| r.total(Metric::Gmv).to_f64().unwrap())
        .sum::<f64>()
        / reps.len() as f64;
    let sum: f64 = bars.iter().map(|b| b.value).sum();
    assert!(close(sum, mean_gmv), "plan types {sum} ≠ GMV {mean_gmv}");
    assert!(bars.iter().all(|b| b.interval.is_some()));
    assert!(bars[1].note.starts_with("IDR ") && bars[1].note.ends_with("%)"));
}

#[test]
fn demo_axes_have_distinct_labels() {
    for n in [1, 3] {
        let (sc, reps) = demo(n);
        let timeline = Timeline::of(&sc);
        for (name, c) in charts::daily_charts(&sc, &affsim::report::daily_of(&reps), &timeline) {
            let what = format!("{name} ({n} replication(s))");
            let y = c.y_ticks();
            assert_distinct(&format!("{what} y"), &y.labels());
            let x: Vec<String> = c.axis.ticks().iter().map(|d| c.axis.label(*d)).collect();
            assert_distinct(&format!("{what} x"), &x);
            assert_eq!(x[0], "1 Oct", "{what}: dates from the scenario's start");
            assert!(y.range().1 > 0.0);
        }
        let bars = charts::gmv_by_plan(&reps, &Currency::of(&sc.region));
        assert_distinct(
            &format!("gmv_by_plan ({n})"),
            &charts::hbar_ticks(&bars).labels(),
        );
        assert_distinct(
            &format!("seller_net ({n})"),
            &charts::histogram_ticks(&charts::seller_nets(&reps)).labels(),
        );
    }
}

#[test]
fn daily_charts_mark_the_demos_windows_and_changes() {
    let (sc, _) = demo(1);
    let t = Timeline::of(&sc);
    let labels: Vec<&str> = t.spans.iter().map(|s| s.label.as_str()).collect();
    for want in [
        "Plus Task glow-task",
        "Plus Challenge glow-challenge",
        "distributor campaign payday",
        "Target invitation glow-ayu",
        "Target invitation threads-budi",
    ] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    let marks: Vec<(&str, String)> = t
        .marks
        .iter()
        .map(|m| (m.label.as_str(), sc.calendar.stamp(m.at).to_string()))
        .collect();
    assert!(
        marks.contains(&("glow-open serum → 9%", "2025-10-10 00:00".into())),
        "{marks:?}"
    );
    assert!(
        marks
            .iter()
            .any(|(l, _)| l.contains("threads leaves payday")),
        "{marks:?}"
    );
    assert_eq!(t.demand_ends, Some(30));
}
