//! Golden results: the built-in demo's `summary.json` at a fixed seed with two replications,
//! compared with a reviewed insta snapshot (`snapshots/integration__golden__*.snap`). A
//! dependency upgrade that changes the random streams (rand, rand_chacha, rand_distr) or the
//! arithmetic (rust_decimal) changes the figures and fails this test.
//!
//! Nothing is redacted: `summary.json` holds no timings or paths, only results of the seed.
//! On a mismatch insta writes `….snap.new` beside the snapshot (not in CI, where `CI=true`);
//! review it and, if the change is intended, rename it over the `.snap` (or use
//! `cargo insta review` where cargo-insta is installed). A snapshot is never accepted
//! silently: insta's default `INSTA_UPDATE=auto` only writes `.snap.new` files.

use affsim::experiment::summary::summary_json;
use affsim::experiment::{self, RunConfig};

/// The seed and replications of the golden run.
const SEED: u64 = 42;
const REPLICATIONS: u32 = 2;

#[test]
fn demo_summary_is_golden() {
    let sc = affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO)
        .expect("the built-in demo validates");
    let out = experiment::run(
        &sc,
        &RunConfig {
            seed: Some(SEED),
            replications: Some(REPLICATIONS),
            // results do not depend on threads (see `determinism`); one keeps this cheap
            threads: Some(1),
            ..Default::default()
        },
    )
    .expect("the demo runs with a balanced ledger");
    let doc = summary_json(&sc, out.seed, &out.replications);

    // what the snapshot is of, checked independently of it
    assert_eq!(doc["scenario"], "demo");
    assert_eq!(doc["seed"], SEED);
    assert_eq!(doc["replications"], REPLICATIONS);
    assert_eq!(doc["ledger_balanced"], true);
    let per = doc["per_replication"].as_array().expect("per_replication");
    assert_eq!(per.len(), REPLICATIONS as usize);
    assert_ne!(
        per[0]["gmv"], per[1]["gmv"],
        "two replications, two different random streams"
    );

    insta::assert_json_snapshot!("demo_summary_seed42_2reps", doc);
}
