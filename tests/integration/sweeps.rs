//! `affsim sweep` end to end: named arms in every output, the table on stdout when redirected,
//! one row per arm × replication × metric in sweep.csv, no intervals for one replication, and
//! `--set` values and errors.

use crate::util::{TempDir, affsim, affsim_in, arg, json, repo_root};

const EXAMPLE: &str = "scenarios/examples/plus-task-reward-sweep.toml";

/// The example with its grid replaced by two named arms.
fn named_arms_file(tmp: &TempDir) -> std::path::PathBuf {
    let text: String = std::fs::read_to_string(repo_root().join(EXAMPLE))
        .unwrap()
        .lines()
        .filter(|l| {
            *l != "[[sweep.parameters]]"
                && !l.starts_with("key = \"plus_campaigns")
                && !l.starts_with("values = [")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    tmp.write(
        "named.toml",
        &format!(
            "{text}\n[[sweep.arms]]\nname = \"baseline\"\n\n[[sweep.arms]]\nname = \"double reward\"\nset = {{ \"plus_campaigns.glow-task.reward\" = \"200000\" }}\n"
        ),
    )
}

#[test]
fn named_arms_appear_on_stdout_and_in_every_file() {
    let tmp = TempDir::new("sweep-named");
    let file = named_arms_file(&tmp);
    // stdout is a pipe here, as with `> out.txt`: the table must still be on it
    let out = affsim(&[
        "sweep",
        arg(&file),
        "--replications",
        "2",
        "--out",
        arg(&tmp.join("s")),
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("ΔGMV [95% CI]"),
        "the table on stdout: {out}"
    );
    assert!(
        out.stdout.contains("baseline") && out.stdout.contains("double reward"),
        "{out}"
    );
    assert!(out.stderr.contains("report: "), "notes on stderr: {out}");
    assert!(
        !out.stderr.contains("ΔGMV [95% CI]"),
        "the table only once: {out}"
    );
    let dir = tmp.join("s");
    let doc = json(&std::fs::read_to_string(dir.join("sweep.json")).unwrap());
    let arms = doc["arms"].as_array().unwrap();
    let names: Vec<&str> = arms.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["baseline", "double reward"]);
    assert_eq!(doc["scenario"], "plus-task-reward-sweep");
    assert_eq!(
        (doc["region"].as_str(), doc["currency"].as_str()),
        (Some("ID"), Some("IDR"))
    );
    // the named arm's setting and the grid's are both written in
    let settings = arms[1]["settings"].as_array().unwrap();
    assert!(
        settings
            .iter()
            .any(|s| s["path"] == "plus_campaigns.glow-task.reward" && s["value"] == "\"200000\"")
    );
    assert!(
        crate::util::dec(&arms[1]["metrics"]["rewards_paid"]["diff_vs_baseline"]["mean"])
            > rust_decimal::Decimal::ZERO,
        "double the reward pays more"
    );
    // sweep.csv: one row per arm × replication × metric
    let metrics = arms[0]["metrics"].as_object().unwrap().len();
    let csv = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        ["arm", "arm_name", "replication", "metric", "value"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * 2 * metrics, "arms × replications × metrics");
    assert!(
        rows.iter()
            .any(|r| &r[1] == names[1] && &r[2] == "1" && &r[3] == "gmv")
    );
    // the rows reproduce the JSON's per-replication figures
    let gmv1: Vec<&str> = rows
        .iter()
        .filter(|r| &r[0] == "1" && &r[3] == "gmv")
        .map(|r| r.get(4).unwrap())
        .collect();
    let want: Vec<&str> = arms[1]["per_replication"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["gmv"].as_str().unwrap())
        .collect();
    assert_eq!(gmv1, want);
    let summary = std::fs::read_to_string(dir.join("sweep-summary.csv")).unwrap();
    assert_eq!(
        summary.lines().count(),
        1 + 2 * metrics,
        "header + arms × metrics"
    );
    for f in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(text.contains("double reward"), "{f} names the arms");
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("<svg") && !html.contains("src=\"http"),
        "self-contained"
    );
}

#[test]
fn one_replication_gives_no_intervals() {
    let tmp = TempDir::new("sweep-one");
    let out = affsim(&[
        "sweep",
        EXAMPLE,
        // unquoted numbers for a money key
        "--set",
        "plus_campaigns.glow-task.reward=100000,200000",
        "--set",
        "plus_campaigns.glow-task.policy=budget",
        "--replications",
        "1",
        "--json",
        "--out",
        arg(&tmp.join("s")),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let doc = json(&out.stdout);
    for arm in doc["arms"].as_array().unwrap() {
        for (name, m) in arm["metrics"].as_object().unwrap() {
            assert!(
                m["ci95"].is_null(),
                "{name}: no interval from one replication"
            );
            if arm["arm"] != 0 {
                assert!(m["diff_vs_baseline"]["ci95"].is_null(), "{name}");
            }
        }
    }
    assert_eq!(
        doc["arms"][1]["settings"][1],
        serde_json::json!({"path": "plus_campaigns.glow-task.reward", "value": "\"200000\""}),
        "the number written as the money string the file wants"
    );
    assert!(
        out.stderr.contains("(no CI)"),
        "the table on stderr with --json: {out}"
    );
    assert!(
        out.stderr.contains("note: one replication: no intervals"),
        "{out}"
    );
}

#[test]
fn an_unknown_key_is_refused_before_running_naming_it() {
    let tmp = TempDir::new("sweep-unknown");
    let out = affsim_in(
        Some(tmp.path()),
        &[
            "sweep",
            arg(&repo_root().join(EXAMPLE)),
            "--set",
            "behaviour.creators.actions_per_dy=0.2,0.4",
        ],
    );
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr
            .contains("--set `behaviour.creators.actions_per_dy=0.2,0.4`")
            && out.stderr.contains("unknown field `actions_per_dy`")
            && out.stderr.contains("actions_per_day"),
        "names the argument, the key and what was expected: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        !tmp.join("reports").exists(),
        "nothing ran, no folder written"
    );
    // the same in a named arm of the file: at the file's line and column
    let text = std::fs::read_to_string(repo_root().join(EXAMPLE)).unwrap();
    let file = tmp.write(
        "bad.toml",
        &format!("{text}\n[[sweep.arms]]\nname = \"typo\"\nset = {{ \"behaviour.buyers.conversion_rat\" = 0.01 }}\n"),
    );
    let line = text.lines().count() + 4;
    let out = affsim_in(Some(tmp.path()), &["sweep", arg(&file)]);
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains(&format!(
            "bad.toml:{line}:9: sweep setting `behaviour.buyers.conversion_rat`"
        )),
        "{out}"
    );
}

#[test]
fn an_unquoted_number_is_accepted() {
    let tmp = TempDir::new("sweep-number");
    let out = affsim(&[
        "sweep",
        EXAMPLE,
        "--set",
        "behaviour.creators.actions_per_day=0.2,0.4",
        "--set",
        "plus_campaigns.glow-task.policy=as-given",
        "--set",
        "plus_campaigns.glow-task.reward=150000",
        "--replications",
        "1",
        "--quiet",
        "--out",
        arg(&tmp.join("s")),
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("actions_per_day=0.4"), "{out}");
}

#[test]
fn too_many_arms_are_refused_without_overflow() {
    // 64 keys of 2 values: 2^64 arms, which a wrapping product would count as 0
    let sets: Vec<String> = (0..64)
        .map(|i| format!("behaviour.creators.k{i}=1,2"))
        .collect();
    let mut args = vec!["sweep", EXAMPLE];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let out = affsim(&args);
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr.contains("more than") && out.stderr.contains("at most 1000"),
        "{out}"
    );
}
