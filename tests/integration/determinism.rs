//! Determinism: results depend on the seed and replication index only — not on threads, on the
//! number of replications run, or on the run.

use affsim::experiment::summary::figures;
use affsim::experiment::{self, RunConfig};

use crate::util::*;

/// Runs the demo into `dir/name` and returns the report's files by name.
fn run_demo(dir: &TempDir, name: &str, extra: &[&str]) -> Vec<(String, Vec<u8>)> {
    let out_dir = dir.join(name);
    let mut args = vec!["run", "--out", arg(&out_dir), "--quiet"];
    args.extend_from_slice(extra);
    let out = affsim(&args);
    assert_eq!(out.code, 0, "{out}");
    entries(&out_dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(out_dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(f, _)| f == name)
        .unwrap_or_else(|| panic!("{name} not written"))
        .1
}

#[test]
fn thread_count_does_not_change_the_report() {
    let dir = TempDir::new("det-threads");
    let one = run_demo(&dir, "t1", &["--threads", "1", "--replications", "4"]);
    let two = run_demo(&dir, "t2", &["--threads", "2", "--replications", "4"]);
    let summary = file(&one, "summary.json");
    assert!(
        summary == file(&two, "summary.json"),
        "summary.json differs between --threads 1 and --threads 2"
    );
    assert!(
        file(&one, "timeseries.csv") == file(&two, "timeseries.csv"),
        "timeseries.csv differs between --threads 1 and --threads 2"
    );
    // and the four replications are four different ones, in index order
    let doc = json(std::str::from_utf8(summary).unwrap());
    let per = doc["per_replication"].as_array().unwrap();
    assert_eq!(per.len(), 4);
    let mut gmv: Vec<String> = Vec::new();
    for (i, r) in per.iter().enumerate() {
        assert_eq!(r["replication"], i);
        gmv.push(r["gmv"].to_string());
    }
    gmv.sort();
    gmv.dedup();
    assert_eq!(gmv.len(), 4, "each replication has its own random streams");
}

#[test]
fn same_seed_same_files() {
    let dir = TempDir::new("det-same");
    let a = run_demo(&dir, "a", &["--seed", "7", "--replications", "2"]);
    let b = run_demo(&dir, "b", &["--seed", "7", "--replications", "2"]);
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between two runs with the same seed");
    }
}

#[test]
fn different_seed_different_summary() {
    let dir = TempDir::new("det-seed");
    let a = run_demo(&dir, "a", &["--seed", "7"]);
    let b = run_demo(&dir, "b", &["--seed", "8"]);
    let da = json(std::str::from_utf8(file(&a, "summary.json")).unwrap());
    let db = json(std::str::from_utf8(file(&b, "summary.json")).unwrap());
    assert_eq!(da["seed"], 7);
    assert_eq!(db["seed"], 8);
    // not just the seed field: the simulated market itself differs
    assert_ne!(
        da["per_replication"], db["per_replication"],
        "a different --seed gives different results"
    );
    assert_ne!(da["metrics"]["gmv"], db["metrics"]["gmv"]);
}

/// Replication `i` depends on (seed, i) only: running 3 replications or 1 gives the same
/// replication 0, and running with a different thread count gives the same replications.
#[test]
fn replications_do_not_depend_on_how_many_run() {
    let sc = affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO).unwrap();
    let run = |n: u32, threads: usize| {
        experiment::run(
            &sc,
            &RunConfig {
                seed: Some(99),
                replications: Some(n),
                threads: Some(threads),
                ..Default::default()
            },
        )
        .expect("the demo runs")
    };
    let three = run(3, 2);
    let one = run(1, 1);
    assert_eq!(three.seed, 99);
    assert_eq!(three.replications.len(), 3);
    let idx: Vec<u32> = three.replications.iter().map(|r| r.index).collect();
    assert_eq!(idx, vec![0, 1, 2]);
    assert_eq!(
        figures(&one.replications[0]),
        figures(&three.replications[0])
    );
    assert_eq!(one.replications[0].daily, three.replications[0].daily);
    assert_eq!(one.replications[0].events, three.replications[0].events);
    assert_ne!(
        figures(&three.replications[0]),
        figures(&three.replications[1])
    );
}

/// Four shards of a run, merged, give the same summary, time series and charts as the run on one
/// machine; a missing or repeated shard is refused.
#[test]
fn four_shards_merged_equal_one_run() {
    let tmp = TempDir::new("shards");
    for k in 1..=4 {
        let out = affsim(&[
            "run",
            "--replications",
            "6",
            "--seed",
            "5",
            "--shard",
            &format!("{k}/4"),
            "--quiet",
            "--out",
            arg(&tmp.join(&format!("s{k}"))),
        ]);
        assert_eq!(out.code, 0, "{out}");
        assert!(tmp.join(&format!("s{k}")).join("partial.json").exists());
    }
    let one = tmp.join("one");
    let out = affsim(&[
        "run",
        "--replications",
        "6",
        "--seed",
        "5",
        "--quiet",
        "--out",
        arg(&one),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let merged = tmp.join("merged");
    let (s1, s2, s3, s4) = (
        tmp.join("s1"),
        tmp.join("s2"),
        tmp.join("s3"),
        tmp.join("s4"),
    );
    // shards may come in any order
    let out = affsim(&[
        "merge",
        arg(&s3),
        arg(&s1),
        arg(&s4),
        arg(&s2),
        "--quiet",
        "--out",
        arg(&merged),
    ]);
    assert_eq!(out.code, 0, "{out}");
    for f in [
        "summary.json",
        "timeseries.csv",
        "report.md",
        "gmv.svg",
        "payouts.svg",
    ] {
        let a = std::fs::read(one.join(f)).unwrap();
        let b = std::fs::read(merged.join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs between the merged shards and the single run"
        );
    }
    let missing = affsim(&[
        "merge",
        arg(&s1),
        arg(&s2),
        arg(&s4),
        "--quiet",
        "--out",
        arg(&tmp.join("m2")),
    ]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("missing shard(s) [3]"), "{missing}");
    let twice = affsim(&[
        "merge",
        arg(&s1),
        arg(&s1),
        "--quiet",
        "--out",
        arg(&tmp.join("m3")),
    ]);
    assert_eq!(twice.code, 2);
    assert!(twice.stderr.contains("given twice"), "{twice}");
    assert_eq!(
        affsim(&[
            "run",
            "--shard",
            "5/4",
            "--quiet",
            "--out",
            arg(&tmp.join("bad"))
        ])
        .code,
        2
    );
}

/// A sweep split into three shards of its (arm, replication) space and merged gives the same
/// sweep.json and sweep.csv as the sweep on one machine.
#[test]
fn sweep_shards_merged_equal_one_sweep() {
    let tmp = TempDir::new("sweep-shards");
    let scenario = "scenarios/examples/plus-task-reward-sweep.toml";
    let set = "plus_campaigns.glow-task.reward=\"100000\",\"300000\"";
    let mut parts = Vec::new();
    for k in 1..=3 {
        let dir = tmp.join(&format!("p{k}"));
        let out = affsim(&[
            "sweep",
            scenario,
            "--set",
            set,
            "--replications",
            "3",
            "--shard",
            &format!("{k}/3"),
            "--quiet",
            "--out",
            arg(&dir),
        ]);
        assert_eq!(out.code, 0, "{out}");
        parts.push(dir);
    }
    let one = tmp.join("one");
    let out = affsim(&[
        "sweep",
        scenario,
        "--set",
        set,
        "--replications",
        "3",
        "--quiet",
        "--out",
        arg(&one),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let merged = tmp.join("merged");
    let out = affsim(&[
        "merge",
        arg(&parts[2]),
        arg(&parts[0]),
        arg(&parts[1]),
        "--quiet",
        "--out",
        arg(&merged),
    ]);
    assert_eq!(out.code, 0, "{out}");
    for f in [
        "sweep.json",
        "sweep.csv",
        "sweep-summary.csv",
        "report.md",
        "report.html",
    ] {
        assert!(
            std::fs::read(one.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// `--ledger` streams each replication's entries to disk while it runs and joins them in
/// replication order: the same `ledger.csv` for any number of threads, one row per posted entry,
/// no part files left behind; shards run with `--ledger` merge into the same file.
#[test]
fn streamed_ledger_is_the_same_for_any_threads_and_shards() {
    let tmp = TempDir::new("ledger-stream");
    let sc = repo_root().join("scenarios/examples/starter.toml");
    let run = |name: &str, extra: &[&str]| {
        let out_dir = tmp.join(name);
        let mut args = vec![
            "run",
            arg(&sc),
            "--replications",
            "3",
            "--seed",
            "11",
            "--ledger",
            "--quiet",
            "--out",
            arg(&out_dir),
        ];
        args.extend_from_slice(extra);
        let out = affsim(&args);
        assert_eq!(out.code, 0, "{out}");
        out_dir
    };
    let one = run("t1", &["--threads", "1"]);
    let two = run("t2", &["--threads", "2"]);
    let ledger = std::fs::read(one.join("ledger.csv")).unwrap();
    assert!(
        ledger == std::fs::read(two.join("ledger.csv")).unwrap(),
        "ledger.csv differs between --threads 1 and --threads 2"
    );
    assert!(
        entries(&one).iter().all(|f| !f.starts_with("ledger.part")),
        "part files left in the report: {:?}",
        entries(&one)
    );
    // rows: one per posted entry, replications in order, each replication's entries in order
    let summary = json(&std::fs::read_to_string(one.join("summary.json")).unwrap());
    let text = String::from_utf8(ledger.clone()).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let mut last = (0u64, 0u64);
    let mut per_rep = [0u64; 3];
    for row in rows.records() {
        let row = row.unwrap();
        let (rep, seq): (u64, u64) = (row[0].parse().unwrap(), row[1].parse().unwrap());
        // seq starts at 1, so the first row is after (0, 0) too
        assert!(
            (rep, seq) > last,
            "rows out of order: {last:?} then {:?}",
            (rep, seq)
        );
        last = (rep, seq);
        per_rep[rep as usize] += 1;
    }
    for (i, n) in per_rep.iter().enumerate() {
        assert!(*n > 0, "replication {i} has ledger rows");
        assert_eq!(
            rust_decimal::Decimal::from(*n),
            dec(&summary["per_replication"][i]["ledger_entries"]),
            "replication {i}: ledger.csv rows vs ledger_entries"
        );
    }
    // two shards with --ledger, merged: the same ledger.csv
    let s1 = run("s1", &["--shard", "1/2"]);
    let s2 = run("s2", &["--shard", "2/2"]);
    let merged = tmp.join("merged");
    let out = affsim(&[
        "merge",
        arg(&s2),
        arg(&s1),
        "--quiet",
        "--out",
        arg(&merged),
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        ledger == std::fs::read(merged.join("ledger.csv")).unwrap(),
        "ledger.csv of the merged shards differs from the single run's"
    );
    // shards that disagree on --ledger are refused
    let plain = tmp.join("plain");
    let out = affsim(&[
        "run",
        arg(&sc),
        "--replications",
        "3",
        "--seed",
        "11",
        "--shard",
        "2/2",
        "--quiet",
        "--out",
        arg(&plain),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let out = affsim(&[
        "merge",
        arg(&s1),
        arg(&plain),
        "--quiet",
        "--out",
        arg(&tmp.join("m")),
    ]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("--ledger"), "{out}");
}

/// `--timing FILE` writes wall-clock throughput outside the report folder; the event counts in
/// it are the ones the summary reports.
#[test]
fn timing_file_reports_events_per_second() {
    let tmp = TempDir::new("timing");
    let out_dir = tmp.join("r");
    let timing = tmp.join("timing.json");
    let out = affsim(&[
        "run",
        "--replications",
        "2",
        "--quiet",
        "--out",
        arg(&out_dir),
        "--timing",
        arg(&timing),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let t = json(&std::fs::read_to_string(&timing).unwrap());
    let s = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    let per = t["per_replication"].as_array().unwrap();
    assert_eq!(per.len(), 2);
    let mut total = 0;
    for (i, r) in per.iter().enumerate() {
        assert_eq!(r["replication"], i);
        assert_eq!(r["events"], s["per_replication"][i]["events"]);
        assert!(r["events_per_second"].as_f64().unwrap() > 0.0, "{t}");
        // the demo's ~390,000 events give five samples of the events waiting
        let (mean, peak) = (
            r["pending_events_mean"].as_u64().unwrap(),
            r["pending_events_peak"].as_u64().unwrap(),
        );
        assert!(mean > 0 && peak >= mean, "{t}");
        total += r["events"].as_u64().unwrap();
    }
    assert!(total > 0);
    assert_eq!(t["events"].as_u64().unwrap(), total);
    assert!(t["simulation_seconds"].as_f64().unwrap() > 0.0, "{t}");
    assert!(
        !entries(&out_dir).iter().any(|f| f.contains("timing")),
        "timings stay out of the report folder"
    );
}

/// The streamed ledger is the recorded ledger: the demo (≈190,000 events, so three batches of
/// 65,536 events are streamed) written from part files equals the same replication's entries
/// kept in memory, byte for byte — nothing lost or repeated at a batch boundary.
#[test]
fn streamed_ledger_equals_the_recorded_one() {
    use affsim::report;
    use affsim::sim::{RunOptions, run_replication};
    let tmp = TempDir::new("ledger-streamed-vs-recorded");
    let sc = affsim::scenario::parse("demo.toml", affsim::scenario::DEMO).expect("the demo");
    let (kept, streamed) = (tmp.join("kept"), tmp.join("streamed"));
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::create_dir_all(&streamed).unwrap();
    let recorded = run_replication(
        &sc,
        1,
        &RunOptions {
            record_ledger: true,
            ..Default::default()
        },
    )
    .expect("balanced");
    assert!(
        recorded.events > 2 * 65_536,
        "several batches: {} events",
        recorded.events
    );
    assert_eq!(recorded.entries.len() as u64, recorded.ledger_entries);
    report::write_ledger(&kept, &sc, std::slice::from_ref(&recorded), &[]).unwrap();
    let sinks = report::ledger_sinks(&streamed, &sc);
    let run = run_replication(
        &sc,
        1,
        &RunOptions {
            ledger_sink: Some(sinks),
            ..Default::default()
        },
    )
    .expect("balanced");
    assert!(run.entries.is_empty(), "streamed entries are not kept");
    assert!(report::ledger_part(&streamed, 1).is_file());
    report::write_ledger(
        &streamed,
        &sc,
        std::slice::from_ref(&run),
        std::slice::from_ref(&streamed),
    )
    .unwrap();
    assert!(
        !report::ledger_part(&streamed, 1).exists(),
        "the part is removed once joined"
    );
    let a = std::fs::read(kept.join("ledger.csv")).unwrap();
    let b = std::fs::read(streamed.join("ledger.csv")).unwrap();
    assert_eq!(
        a.iter().filter(|&&c| c == b'\n').count() as u64,
        recorded.ledger_entries + 1,
        "a header and one row per entry"
    );
    assert!(
        a == b,
        "the streamed ledger.csv differs from the recorded one"
    );
}
