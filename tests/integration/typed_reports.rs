//! The typed report documents read back what affsim wrote, byte for byte: `summary.json` from the library, `sweep.json`, `lift.json` and `sensitivity.json` through the real binary.

use affsim::experiment::summary::{Figure, Summary, summary};
use affsim::experiment::{self, RunConfig};

use crate::util::{TempDir, affsim, arg};

/// `text` parses into `T` and serializes back to the same pretty JSON.
fn reads_back<T: serde::Serialize + serde::de::DeserializeOwned>(text: &str) -> T {
    let doc: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("does not read back: {e}"));
    let again = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    assert_eq!(again.trim_end(), text.trim_end(), "written differently");
    doc
}

#[test]
fn summary_json_reads_back_into_the_typed_summary() {
    let sc = affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO).unwrap();
    let out = experiment::run(
        &sc,
        &RunConfig {
            replications: Some(2),
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let doc = summary(&sc, out.seed, &out.replications);
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let back: Summary = reads_back(&text);
    assert_eq!(back, doc);
    // money as strings, counts as numbers
    let gmv = back.metric("gmv").unwrap();
    assert!(matches!(gmv.mean, Figure::Money(_)), "{:?}", gmv.mean);
    assert!(matches!(
        back.metric("orders").unwrap().mean,
        Figure::Count(_)
    ));
    assert_eq!(back.per_replication.len(), 2);
    assert!(!back.campaigns.is_empty());
}

#[test]
fn sweep_lift_and_sensitivity_documents_read_back() {
    let dir = TempDir::new("typed-reports");
    let out = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let o = affsim(args);
        assert_eq!(o.code, 0, "{}", o.stderr);
    };
    run(&[
        "sweep",
        "scenarios/examples/plus-task-reward-sweep.toml",
        "--replications",
        "2",
        "-q",
        "--out",
        arg(&out("sweep")),
    ]);
    let text = std::fs::read_to_string(out("sweep").join("sweep.json")).unwrap();
    let sweep: affsim::experiment::sweep::SweepDoc = reads_back(&text);
    assert!(sweep.arms.len() > 1 && sweep.arms[0].baseline);
    run(&[
        "lift",
        "--replications",
        "2",
        "-q",
        "--out",
        arg(&out("lift")),
    ]);
    let text = std::fs::read_to_string(out("lift").join("lift.json")).unwrap();
    let _: affsim::experiment::lift::LiftDoc = reads_back(&text);
    run(&[
        "sensitivity",
        "--replications",
        "2",
        "-q",
        "--out",
        arg(&out("sens")),
    ]);
    let text = std::fs::read_to_string(out("sens").join("sensitivity.json")).unwrap();
    let _: affsim::experiment::sensitivity::SensitivityDoc = reads_back(&text);
}
