//! Hardening (issue 13), through the real binary: nothing deleted that affsim did not write,
//! no half-written output however the process is stopped, a merge that cannot be fooled,
//! limits checked before the work, a command line that checks its arithmetic and outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// A small scenario (four replications, a few days) whose ledger has entries: an Open plan,
/// an application and a delivered order.
fn small(dir: &TempDir) -> PathBuf {
    let text = format!(
        "{}{}",
        MINIMAL.replace("days = 10", "days = 5\nreplications = 4"),
        r#"
[[open_plans]]
id = "open"
seller = "s"
products = ["p"]
rate = "10%"

[[script.applications]]
at = "2025-10-01 09:00"
creator = "c"
product = "p"

[[script.orders]]
id = "o1"
at = "2025-10-02 10:00"
creator = "c"
product = "p"
quantity = 2
shipped = "2025-10-02 12:00"
delivered = "2025-10-03 10:00"
"#
    );
    dir.write("s.toml", &text)
}

/// A scenario whose run takes long enough to be stopped (many days, many replications).
fn slow(dir: &TempDir) -> PathBuf {
    let demo = std::fs::read_to_string(repo_root().join("scenarios/demo.toml")).unwrap();
    dir.write("slow.toml", &demo)
}

fn run_ok(dir: &Path, args: &[&str]) -> Output {
    let o = affsim_in(Some(dir), args);
    assert_eq!(o.code, 0, "{o}");
    o
}

/// Hidden staging folders or asides left beside the outputs.
fn leftovers(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|e| e.contains(".partial") || e.contains(".old") || e.contains(".affsim-"))
        .collect()
}

// ---------------------------------------------------------------- 1. deletes nothing it did not write

#[test]
fn force_never_deletes_files_affsim_did_not_write() {
    let dir = TempDir::new("h-force-foreign");
    let sc = small(&dir);
    // a user's folder that happens to hold a summary.json
    dir.write("out/summary.json", "{}");
    dir.write("out/thesis.tex", "my thesis");
    dir.write("out/src/main.tex", "chapter 1");
    let o = affsim_in(
        Some(dir.path()),
        &["run", arg(&sc), "--out", "out", "--force", "-q"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("affsim-manifest.json"), "{o}");
    assert_eq!(
        std::fs::read_to_string(dir.join("out/thesis.tex")).unwrap(),
        "my thesis"
    );
    assert!(dir.join("out/src/main.tex").is_file());

    // a real report with a user's file added later: refused too, the file named
    run_ok(dir.path(), &["run", arg(&sc), "--out", "rep", "-q"]);
    assert!(dir.join("rep/affsim-manifest.json").is_file());
    dir.write("rep/notes.txt", "mine");
    let o = affsim_in(
        Some(dir.path()),
        &["run", arg(&sc), "--out", "rep", "--force", "-q"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("notes.txt"), "{o}");
    assert_eq!(
        std::fs::read_to_string(dir.join("rep/notes.txt")).unwrap(),
        "mine"
    );
    // a manifest naming a file outside the folder is refused, never followed
    dir.write(
        "evil/affsim-manifest.json",
        r#"{"affsim":"0.1.0","format":1,"files":["../victim.txt"]}"#,
    );
    dir.write("victim.txt", "keep");
    let o = affsim_in(
        Some(dir.path()),
        &["run", arg(&sc), "--out", "evil", "--force", "-q"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert_eq!(
        std::fs::read_to_string(dir.join("victim.txt")).unwrap(),
        "keep"
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn force_replaces_reports_shards_and_sweeps_affsim_wrote() {
    let dir = TempDir::new("h-force-own");
    let sc = small(&dir);
    for args in [
        vec!["run", arg(&sc), "--out", "r", "-q"],
        vec!["run", arg(&sc), "--shard", "1/2", "--out", "sh", "-q"],
    ] {
        run_ok(dir.path(), &args);
        let mut again = args.clone();
        again.push("--force");
        run_ok(dir.path(), &again);
    }
    let sw = dir.write(
        "sw.toml",
        &MINIMAL.replace("days = 10", "days = 3\nreplications = 2"),
    );
    let sweep = |extra: &[&str]| {
        let mut a = vec![
            "sweep",
            arg(&sw),
            "--set",
            "scenario.days=2,3",
            "--out",
            "sweep",
            "-q",
        ];
        a.extend_from_slice(extra);
        affsim_in(Some(dir.path()), &a)
    };
    assert_eq!(sweep(&[]).code, 0);
    let o = sweep(&["--force"]);
    assert_eq!(o.code, 0, "{o}");
    assert!(dir.join("sweep/affsim-manifest.json").is_file());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn concurrent_runs_to_one_folder_or_the_default_folder_all_succeed() {
    let dir = TempDir::new("h-race");
    let sc = small(&dir);
    run_ok(dir.path(), &["run", arg(&sc), "--out", "same", "-q"]);
    let spawn = |args: &[&str]| {
        Command::new(bin())
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let forced: Vec<_> = (0..4)
        .map(|_| spawn(&["run", arg(&sc), "--out", "same", "--force", "-q"]))
        .collect();
    let defaults: Vec<_> = (0..4).map(|_| spawn(&["run", arg(&sc), "-q"])).collect();
    for c in forced.into_iter().chain(defaults) {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert!(dir.join("same/summary.json").is_file());
    let reports = entries(&dir.join("reports"));
    assert_eq!(
        reports.iter().filter(|e| !e.starts_with('.')).count(),
        4,
        "{reports:?}"
    );
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
    assert!(leftovers(&dir.join("reports")).is_empty(), "{reports:?}");
}

#[test]
fn long_output_names_work() {
    let dir = TempDir::new("h-long");
    let sc = small(&dir);
    let name = "r".repeat(250);
    run_ok(dir.path(), &["run", arg(&sc), "--out", &name, "-q"]);
    run_ok(
        dir.path(),
        &["run", arg(&sc), "--out", &name, "--force", "-q"],
    );
    assert!(dir.join(&name).join("summary.json").is_file());
}

// ---------------------------------------------------------------- 2. every way of stopping

/// Starts a slow run, waits until it has begun writing, sends `signal`, and checks that it
/// exits 130 leaving neither the report nor a staging folder.
fn stopped_by(signal: &str) {
    let dir = TempDir::new(&format!("h-sig-{signal}"));
    let sc = slow(&dir);
    let mut child = Command::new(bin())
        .args([
            "run",
            arg(&sc),
            "--replications",
            "400",
            "--threads",
            "1",
            "--ledger",
            "--out",
            "r",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait for the staging folder to appear (the run has started)
    let started = Instant::now();
    while leftovers(dir.path()).is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the run did not stop after SIG{signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(130), "SIG{signal}: {err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(!dir.join("r").exists());
    assert!(
        leftovers(dir.path()).is_empty(),
        "SIG{signal}: {:?}",
        leftovers(dir.path())
    );
}

#[test]
fn sigterm_leaves_nothing_half_written() {
    stopped_by("TERM");
}

#[test]
fn sighup_leaves_nothing_half_written() {
    stopped_by("HUP");
}

#[test]
fn staging_folders_of_dead_processes_are_cleaned_up() {
    let dir = TempDir::new("h-stale");
    let sc = small(&dir);
    // a staging folder and an aside of a process that no longer runs (pid 4194303 is above
    // every Linux pid_max default) and a look-alike folder affsim did not write
    let dead = 4_194_303;
    dir.write(&format!(".r.affsim-{dead}-0.partial/.affsim-staging"), "x");
    dir.write(&format!(".r.affsim-{dead}-0.partial/summary.json"), "{}");
    dir.write(
        &format!(".r.affsim-{dead}-1.partial/user.txt"),
        "not affsim's",
    );
    run_ok(dir.path(), &["run", arg(&sc), "--out", "r", "-q"]);
    let left = leftovers(dir.path());
    assert_eq!(
        left,
        vec![format!(".r.affsim-{dead}-1.partial")],
        "{left:?}"
    );
}

// ---------------------------------------------------------------- 3. merge cannot be fooled

/// Runs `command` (e.g. `run SCENARIO --ledger`) as shards 1/2 and 2/2 into the folders `outs`,
/// made afresh.
fn shards_of(dir: &TempDir, command: &[&str], outs: [&str; 2]) {
    for (k, out) in [("1/2", outs[0]), ("2/2", outs[1])] {
        let _ = std::fs::remove_dir_all(dir.join(out));
        let mut args = command.to_vec();
        args.extend(["--shard", k, "--out", out, "-q"]);
        run_ok(dir.path(), &args);
    }
}

/// Merges the shard folders `ins` into `out`, made afresh.
fn merge_into(dir: &TempDir, ins: [&str; 2], out: &str) -> Output {
    let _ = std::fs::remove_dir_all(dir.join(out));
    affsim_in(
        Some(dir.path()),
        &["merge", ins[0], ins[1], "--out", out, "-q"],
    )
}

/// Two shards of a run with `--ledger`, in `a` and `b`.
fn two_shards(dir: &TempDir) {
    let sc = small(dir);
    shards_of(dir, &["run", arg(&sc), "--ledger"], ["a", "b"]);
}

fn merge(dir: &TempDir) -> Output {
    merge_into(dir, ["a", "b"], "m")
}

/// A partial that can be sealed again after an edit.
trait Reseal: serde::Serialize + serde::de::DeserializeOwned {
    fn seal_again(&mut self);
}

impl Reseal for affsim::experiment::shard::Partial {
    fn seal_again(&mut self) {
        self.seal()
    }
}

impl Reseal for affsim::experiment::shard::SweepPartial {
    fn seal_again(&mut self) {
        self.seal()
    }
}

/// Edits a partial through the library and seals it again (a valid checksum), so that the
/// checks behind the checksum are what must catch the edit.
fn reseal_any<P: Reseal>(path: &Path, f: impl FnOnce(&mut P)) {
    let mut p: P = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut p);
    p.seal_again();
    std::fs::write(path, serde_json::to_string(&p).unwrap()).unwrap();
}

/// Edits a run's partial as JSON (where its types keep fields private) and seals it again.
fn reseal_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    reseal(path, |p| {
        let mut j = serde_json::to_value(&*p).unwrap();
        f(&mut j);
        *p = serde_json::from_value(j).unwrap();
    })
}

/// [`reseal_any`] for a run's partial.
fn reseal(path: &Path, f: impl FnOnce(&mut affsim::experiment::shard::Partial)) {
    reseal_any(path, f)
}

fn edit_json(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut doc = json(&std::fs::read_to_string(path).unwrap());
    f(&mut doc);
    std::fs::write(path, serde_json::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn merge_refuses_every_tampered_partial_naming_the_file() {
    let dir = TempDir::new("h-merge");
    two_shards(&dir);
    let o = merge(&dir);
    assert_eq!(o.code, 0, "the honest merge works: {o}");

    type Tamper = Box<dyn Fn(&TempDir)>;
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "edited total",
            Box::new(|d| {
                edit_json(&d.join("a/partial.json"), |j| {
                    j["runs"][0]["totals"][0] = "123456".into()
                })
            }),
            "checksum",
        ),
        (
            "malformed figures (resealed)",
            Box::new(|d| {
                reseal_json(&d.join("a/partial.json"), |j| {
                    j["daily"]["sums"][0] = serde_json::json!([])
                });
            }),
            "a/partial.json: day 0 of the daily aggregate has 0 figures",
        ),
        (
            "a daily aggregate of other replications (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| {
                    p.daily = affsim::experiment::daily::DailyAgg::new(&affsim::report::BANDED)
                });
            }),
            "a/partial.json: the daily aggregate counts 0 replication(s)",
        ),
        (
            "an edited aggregate of totals (resealed)",
            Box::new(|d| {
                reseal_json(&d.join("a/partial.json"), |j| {
                    j["totals"]["figures"][0]["moments"]["sum"] = "123456".into()
                });
            }),
            "a/partial.json: the aggregate of totals is not the one its replications give",
        ),
        (
            "a replication's total edited, its aggregate left (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| {
                    p.runs[0].totals[0] += rust_decimal::Decimal::ONE
                });
            }),
            "a/partial.json: the aggregate of totals is not the one its replications give",
        ),
        (
            // refused as it is read, before its checksum (a malformed limb cannot be typed)
            "a malformed aggregate of totals",
            Box::new(|d| {
                edit_json(&d.join("a/partial.json"), |j| {
                    j["totals"]["figures"][0]["moments"]["squares"] = serde_json::json!([[0, -5]])
                });
            }),
            "a/partial.json: not a partial result",
        ),
        (
            "missing totals (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| p.runs[0].totals.truncate(2));
            }),
            "a/partial.json: replication 0",
        ),
        (
            "missing daily rows (resealed)",
            Box::new(|d| reseal(&d.join("a/partial.json"), |p| p.runs[0].days = 1)),
            "daily rows, expected at least",
        ),
        (
            "missing time-series part",
            Box::new(|d| std::fs::remove_file(d.join("a/timeseries.part.csv")).unwrap()),
            "a/timeseries.part.csv",
        ),
        (
            "truncated time-series part",
            Box::new(|d| {
                let p = d.join("a/timeseries.part.csv");
                let t = std::fs::read(&p).unwrap();
                std::fs::write(&p, &t[..t.len() / 2]).unwrap();
            }),
            "a/timeseries.part.csv",
        ),
        (
            "altered time-series part",
            Box::new(|d| {
                let p = d.join("a/timeseries.part.csv");
                let t = std::fs::read_to_string(&p)
                    .unwrap()
                    .replacen("gmv", "GMV", 1);
                std::fs::write(&p, t).unwrap();
            }),
            "a/timeseries.part.csv",
        ),
        (
            "time-series parts swapped between shards",
            Box::new(|d| {
                let (x, y) = (
                    d.join("a/timeseries.part.csv"),
                    d.join("b/timeseries.part.csv"),
                );
                let (tx, ty) = (std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap());
                std::fs::write(&x, ty).unwrap();
                std::fs::write(&y, tx).unwrap();
            }),
            "timeseries.part.csv",
        ),
        (
            "zero replications (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| {
                    p.replications = 0;
                    p.runs.clear();
                })
            }),
            "a/partial.json: a run of 0 replications",
        ),
        (
            "duplicated index (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| {
                    let r = p.runs[0].clone();
                    p.runs.push(r);
                })
            }),
            "a/partial.json: shard 1/2 holds replications",
        ),
        (
            "out-of-range index (resealed)",
            Box::new(|d| reseal(&d.join("a/partial.json"), |p| p.runs[1].index = 1000)),
            "index out of range",
        ),
        (
            "another scenario (resealed)",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |p| {
                    p.scenario_source = p.scenario_source.replace("days = 5", "days = 6")
                })
            }),
            "the scenario differs",
        ),
        (
            "another build",
            Box::new(|d| {
                reseal(&d.join("a/partial.json"), |_| {});
                edit_json(&d.join("a/partial.json"), |j| j["engine"] = "0.0.1".into());
            }),
            "a/partial.json: written by affsim \"0.0.1\"",
        ),
        (
            "missing ledger part",
            Box::new(|d| std::fs::remove_file(d.join("a/ledger.part-000000.csv")).unwrap()),
            "ledger.part-000000.csv",
        ),
        (
            "empty ledger part",
            Box::new(|d| std::fs::write(d.join("a/ledger.part-000000.csv"), "").unwrap()),
            "ledger.part-000000.csv",
        ),
        (
            "truncated ledger part",
            Box::new(|d| {
                let p = d.join("a/ledger.part-000000.csv");
                let t = std::fs::read(&p).unwrap();
                std::fs::write(&p, &t[..t.len() / 2]).unwrap();
            }),
            "ledger.part-000000.csv",
        ),
        (
            "altered ledger part",
            Box::new(|d| {
                let p = d.join("a/ledger.part-000000.csv");
                let t = std::fs::read_to_string(&p).unwrap().replacen('1', "2", 1);
                std::fs::write(&p, t).unwrap();
            }),
            "ledger.part-000000.csv",
        ),
        (
            "swapped ledger parts",
            Box::new(|d| {
                let (x, y) = (
                    d.join("a/ledger.part-000000.csv"),
                    d.join("a/ledger.part-000002.csv"),
                );
                let (tx, ty) = (std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap());
                std::fs::write(&x, ty).unwrap();
                std::fs::write(&y, tx).unwrap();
            }),
            "ledger.part-00000",
        ),
        (
            "a part of another shard",
            Box::new(|d| {
                std::fs::copy(
                    d.join("b/ledger.part-000001.csv"),
                    d.join("a/ledger.part-000001.csv"),
                )
                .unwrap();
            }),
            "did not run",
        ),
    ];
    // every case is tried and every miss reported (not only the first)
    let mut missed = Vec::new();
    for (what, tamper, names) in cases {
        // a tampering that cannot even be applied (another partial format) is a miss too
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tamper(&dir)));
        let o = merge(&dir);
        if applied.is_err() {
            missed.push(format!("{what}: the tampering could not be applied"));
        } else if o.code != 2 || !o.stderr.contains(names) || o.stderr.contains("panicked") {
            missed.push(format!("{what}: expected exit 2 naming {names:?}; {o}"));
        }
        // restore: the shards written again
        two_shards(&dir);
        assert_eq!(merge(&dir).code, 0, "restored after {what}");
    }
    assert!(
        missed.is_empty(),
        "{} tamperings not refused:\n{}",
        missed.len(),
        missed.join("\n")
    );
}

// ---------------------------------------------------------------- 4. limits before the work

#[test]
fn scenario_size_is_capped_and_overridable() {
    let dir = TempDir::new("h-cap");
    let sc = small(&dir);
    // (under a memory limit: a build without the cap reads until memory runs out)
    let o = limited_env(
        dir.path(),
        &[("AFFSIM_MAX_SCENARIO_BYTES", "100000")],
        &["validate", "/dev/zero"],
        60,
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("AFFSIM_MAX_SCENARIO_BYTES"), "{o}");
    let o = Command::new(bin())
        .args(["validate", arg(&sc)])
        .env("AFFSIM_MAX_SCENARIO_BYTES", "10")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = affsim(&["validate", arg(&sc)]);
    assert_eq!(o.code, 0, "{o}");
}

#[test]
fn validation_is_linear_in_the_names() {
    // 40 000 named creators: quadratic line counting took tens of seconds here
    let mut text = MINIMAL.to_string();
    for i in 0..40_000 {
        text.push_str(&format!("\n[[creators]]\nid = \"k{i}\"\nfollowers = 10\n"));
    }
    let dir = TempDir::new("h-linear");
    let file = dir.write("many.toml", &text);
    let started = Instant::now();
    // killed after 30 s (quadratic validation took about two minutes here)
    let o = limited(dir.path(), &["validate", arg(&file)], 30);
    assert_eq!(o.code, 0, "{o}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "validation took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_run_too_large_for_memory_is_refused_before_it_starts() {
    let dir = TempDir::new("h-memory");
    let sc = small(&dir);
    // (under a memory limit and a time limit: a build without the estimate starts the run)
    let o = limited(
        dir.path(),
        &[
            "run",
            arg(&sc),
            "--replications",
            "4000000000",
            "--out",
            "r",
            "-q",
        ],
        60,
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("GiB") && o.stderr.contains("AFFSIM_MAX_MEMORY_BYTES"),
        "{o}"
    );
    assert!(!dir.join("r").exists());
    // the cap is overridable: a tiny cap refuses even a small run, naming it
    let o = Command::new(bin())
        .args(["run", arg(&sc), "--out", "r", "-q"])
        .current_dir(dir.path())
        .env("AFFSIM_MAX_MEMORY_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn zero_threads_is_a_clear_error() {
    let dir = TempDir::new("h-threads");
    let sc = small(&dir);
    for cmd in [
        vec!["run", arg(&sc), "--threads", "0", "--out", "x", "-q"],
        vec!["check", arg(&sc), "--threads", "0"],
    ] {
        let o = affsim_in(Some(dir.path()), &cmd);
        assert_eq!(o.code, 2, "{o}");
        assert!(o.stderr.contains("--threads"), "{o}");
    }
}

// ---------------------------------------------------------------- 5. arithmetic and outputs

#[test]
fn sweep_arm_count_cannot_overflow() {
    let dir = TempDir::new("h-arms");
    let sc = small(&dir);
    let mut args = vec!["sweep".to_string(), arg(&sc).to_string()];
    for i in 0..64 {
        args.push("--set".into());
        args.push(format!("x{i}.y=1,2"));
    }
    args.extend(["--out".into(), "sw".into(), "-q".into()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = affsim_in(Some(dir.path()), &a);
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("arms"), "{o}");
    assert!(!dir.join("sw").exists());
}

#[test]
fn timing_never_overwrites_other_files() {
    let dir = TempDir::new("h-timing");
    let sc = small(&dir);
    let before = std::fs::read_to_string(&sc).unwrap();
    let o = affsim_in(
        Some(dir.path()),
        &["run", arg(&sc), "--timing", arg(&sc), "--out", "r", "-q"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert_eq!(std::fs::read_to_string(&sc).unwrap(), before);
    dir.write("notes.json", "{\"mine\": true}");
    let o = affsim_in(
        Some(dir.path()),
        &[
            "run",
            arg(&sc),
            "--timing",
            "notes.json",
            "--out",
            "r",
            "-q",
        ],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(!dir.join("r").exists(), "refused before the run");
    // a new file, then the same file again (an earlier timing file), and with --shard
    run_ok(
        dir.path(),
        &["run", arg(&sc), "--timing", "t.json", "--out", "r", "-q"],
    );
    run_ok(
        dir.path(),
        &[
            "run",
            arg(&sc),
            "--timing",
            "t.json",
            "--out",
            "r",
            "--force",
            "-q",
        ],
    );
    run_ok(
        dir.path(),
        &[
            "run",
            arg(&sc),
            "--timing",
            "t.json",
            "--shard",
            "1/2",
            "--out",
            "s",
            "-q",
        ],
    );
    assert!(
        json(&std::fs::read_to_string(dir.join("t.json")).unwrap())["per_replication"].is_array()
    );
    // --json with --shard is refused (a shard has no summary), not silently ignored
    let o = affsim_in(
        Some(dir.path()),
        &[
            "run",
            arg(&sc),
            "--json",
            "--shard",
            "1/2",
            "--out",
            "s2",
            "-q",
        ],
    );
    assert_eq!(o.code, 2, "{o}");
    let o = affsim_in(
        Some(dir.path()),
        &[
            "sweep",
            arg(&sc),
            "--set",
            "scenario.days=2,3",
            "--json",
            "--shard",
            "1/2",
            "--out",
            "sw",
            "-q",
        ],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(!dir.join("sw").exists());
}

#[test]
fn a_full_or_closed_stdout_is_an_error() {
    let dir = TempDir::new("h-stdout");
    let sc = small(&dir);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(bin())
        .args(["run", arg(&sc), "--json", "--out", "r", "-q"])
        .current_dir(dir.path())
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // a full stderr: no panic (exit 101), exit 2
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(bin())
        .args(["validate", "missing.toml"])
        .current_dir(dir.path())
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    // a pipe whose reader has gone (`affsim … | head` after head exits): the reader is closed
    // before the child starts, so the first write fails with EPIPE
    #[allow(clippy::incompatible_msrv)]
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(bin())
        .args(["completions", "bash"])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("standard output"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

// ---------------------------------------------------------------- round 2: the classes re-attacked

/// Runs the binary in `dir` under a 4 GiB address-space limit, killed after `secs`: a binary
/// that reads a device until memory runs out fails here instead of taking the machine down.
fn limited(dir: &Path, args: &[&str], secs: u64) -> Output {
    limited_env(dir, &[], args, secs)
}

/// [`limited`] with environment variables set.
fn limited_env(dir: &Path, env: &[(&str, &str)], args: &[&str], secs: u64) -> Output {
    use std::io::Read as _;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 4194304; exec \"$0\" \"$@\"")
        .arg(bin())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let _ = child.stdout.take().unwrap().read_to_string(&mut stdout);
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    Output {
        code,
        stdout,
        stderr,
    }
}

/// Class 4: every file affsim is handed is read within a limit known before reading — a
/// device, or a link to one, in place of a timing file, a partial, a manifest, a ledger part or
/// an observed history is refused by its type (exit 2), never read until memory runs out.
#[test]
fn devices_in_place_of_files_are_refused_not_read_forever() {
    let dir = TempDir::new("h-devices");
    let sc = small(&dir);
    let mut missed = Vec::new();
    // refused by its type, naming the file — not read until the memory limit ends it
    let expect_refusal = |missed: &mut Vec<String>, what: &str, o: Output, names: &str| {
        if o.code != 2
            || !o.stderr.contains(names)
            || !o.stderr.contains("not a regular file")
            || o.stderr.contains("panicked")
        {
            missed.push(format!(
                "{what}: expected exit 2 naming {names:?}, not a regular file; {o}"
            ));
        }
    };
    // --timing /dev/full (exists, not an earlier timing file): refused before the run
    let o = limited(
        dir.path(),
        &["run", arg(&sc), "--timing", "/dev/full", "--out", "r", "-q"],
        60,
    );
    if o.code != 2 || !o.stderr.contains("/dev/full") || dir.join("r").exists() {
        missed.push(format!(
            "--timing /dev/full: expected a refusal before the run; {o}"
        ));
    }
    // a shard's partial.json replaced by a link to /dev/zero
    two_shards(&dir);
    std::fs::remove_file(dir.join("b/partial.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("b/partial.json")).unwrap();
    let o = limited(dir.path(), &["merge", "a", "b", "--out", "m", "-q"], 60);
    expect_refusal(
        &mut missed,
        "partial.json -> /dev/zero",
        o,
        "b/partial.json",
    );
    // a ledger part replaced by a link to /dev/zero (the partials themselves intact)
    two_shards(&dir);
    let part = dir.join("a/ledger.part-000000.csv");
    std::fs::remove_file(&part).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &part).unwrap();
    let o = limited(dir.path(), &["merge", "a", "b", "--out", "m", "-q"], 60);
    expect_refusal(
        &mut missed,
        "ledger part -> /dev/zero",
        o,
        "ledger.part-000000.csv",
    );
    // a report's manifest replaced by a link to /dev/zero
    run_ok(dir.path(), &["run", arg(&sc), "--out", "rep", "-q"]);
    // (a build without manifests has none to replace: the link stands in its place)
    let _ = std::fs::remove_file(dir.join("rep/affsim-manifest.json"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("rep/affsim-manifest.json")).unwrap();
    let o = limited(
        dir.path(),
        &["run", arg(&sc), "--out", "rep", "--force", "-q"],
        60,
    );
    expect_refusal(
        &mut missed,
        "manifest -> /dev/zero",
        o,
        "affsim-manifest.json",
    );
    // calibrate's observed history from /dev/zero
    let o = limited(
        dir.path(),
        &[
            "calibrate",
            arg(&sc),
            "--observed",
            "/dev/zero",
            "--fit",
            "behaviour.creators.actions_per_day=0.1..1",
            "--out",
            "cal",
            "-q",
        ],
        60,
    );
    expect_refusal(&mut missed, "--observed /dev/zero", o, "/dev/zero");
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

/// Class 5: an output option never lands in, or replaces, another output or an input: a
/// `--timing` file inside the report folder (which `--force` later replaces as a whole) and a
/// merge whose `--out` is one of the shard folders it reads are refused before any work.
#[test]
fn outputs_never_land_in_or_replace_other_outputs_or_inputs() {
    let dir = TempDir::new("h-outputs");
    let sc = small(&dir);
    let o = affsim_in(
        Some(dir.path()),
        &["run", arg(&sc), "--timing", "r/t.json", "--out", "r", "-q"],
    );
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("inside the output folder"), "{o}");
    assert!(!dir.join("r").exists(), "refused before the run");
    two_shards(&dir);
    let before = std::fs::read(dir.join("a/partial.json")).unwrap();
    for out in ["a", "b", "."] {
        let o = affsim_in(
            Some(dir.path()),
            &["merge", "a", "b", "--out", out, "--force", "-q"],
        );
        assert_eq!(o.code, 2, "--out {out}: {o}");
        assert!(o.stderr.contains("being merged"), "--out {out}: {o}");
    }
    assert_eq!(std::fs::read(dir.join("a/partial.json")).unwrap(), before);
    assert!(dir.join("b/partial.json").is_file());
}

/// Class 3, sweeps: a sweep partial's arm count, sealed consistently in every shard, must still
/// be the sweep's own (its scenario and `--set` list): fewer arms are refused, not merged as a
/// smaller sweep; a duplicated run is refused too.
#[test]
fn merge_refuses_tampered_sweep_partials() {
    let dir = TempDir::new("h-merge-sweep");
    let sc = small(&dir);
    let shards = || {
        shards_of(
            &dir,
            &["sweep", arg(&sc), "--set", "scenario.days=2,3"],
            ["sa", "sb"],
        )
    };
    let merge = || merge_into(&dir, ["sa", "sb"], "sm");
    type Sweep = affsim::experiment::shard::SweepPartial;
    shards();
    assert_eq!(merge().code, 0, "the honest merge works");
    // both shards made a one-arm sweep
    for s in ["sa", "sb"] {
        reseal_any(&dir.join(s).join("sweep-partial.json"), |p: &mut Sweep| {
            p.arms = 1;
            p.runs.retain(|(a, _)| *a == 0);
        });
    }
    let o = merge();
    assert_eq!(o.code, 2, "{o}");
    assert!(
        o.stderr.contains("sa/sweep-partial.json") && o.stderr.contains("arm"),
        "{o}"
    );
    assert!(!dir.join("sm").exists());
    // a run given twice
    shards();
    reseal_any(&dir.join("sa/sweep-partial.json"), |p: &mut Sweep| {
        let r = p.runs[0].clone();
        p.runs.push(r);
    });
    let o = merge();
    assert_eq!(o.code, 2, "{o}");
    assert!(o.stderr.contains("sa/sweep-partial.json"), "{o}");
}

/// Runs `command` with one thread into `out` under a memory cap of `cap` bytes
/// (`AFFSIM_MAX_MEMORY_BYTES`).
fn capped(dir: &TempDir, cap: &str, command: &[&str], out: &str) -> Output {
    let mut args = command.to_vec();
    args.extend(["--threads", "1", "--out", out, "-q"]);
    limited_env(dir.path(), &[("AFFSIM_MAX_MEMORY_BYTES", cap)], &args, 600)
}

/// Class 4: a sweep keeps every arm's replications, so its memory estimate counts arms ×
/// replications — one arm fits under the cap, two arms of the same size are refused before any
/// work (the estimate counted one arm's replications before round 2).
#[test]
fn a_sweep_is_estimated_over_all_its_arms() {
    let dir = TempDir::new("h-sweep-memory");
    let sc = small(&dir);
    // about 41 KB kept per replication here (the arms' daily rows dropped as they arrive):
    // one arm of 400 fits in 26 MiB, two arms of 400 do not
    let sweep = |values: &str, out: &str| {
        capped(
            &dir,
            "27262976",
            &["sweep", arg(&sc), "--set", values, "--replications", "400"],
            out,
        )
    };
    let one = sweep("scenario.days=3", "one");
    assert_eq!(one.code, 0, "{one}");
    let two = sweep("scenario.days=2,3", "two");
    assert_eq!(two.code, 2, "{two}");
    assert!(two.stderr.contains("800 replication(s)"), "{two}");
    assert!(!dir.join("two").exists());
}

/// Class 4: `sensitivity` keeps the baseline and two arms per lever, so its estimate counts
/// them all: a run of the same replications fits under the cap, the sensitivity does not.
#[test]
fn a_sensitivity_is_estimated_over_all_its_arms() {
    let dir = TempDir::new("h-sens-memory");
    let sc = small(&dir);
    // about 41 KB kept per replication: 200 fit in 16 MiB, three arms of 200 do not
    let cmd = |what: &str, out: &str| {
        capped(
            &dir,
            "16777216",
            &[what, arg(&sc), "--replications", "200"],
            out,
        )
    };
    let run = cmd("run", "r");
    assert_eq!(run.code, 0, "{run}");
    let sens = cmd("sensitivity", "s");
    assert_eq!(sens.code, 2, "{sens}");
    assert!(sens.stderr.contains("of memory"), "{sens}");
    assert!(!dir.join("s").exists());
}

/// Issue 13 item 4: a run's daily rows are written and aggregated as replications arrive, and
/// `summary.json`'s per-replication rows (of the run, of each campaign and seller) are printed
/// one at a time as the file is written, so memory grows with the replication count only by
/// what the statistics keep exact up to 1 000 replications: each replication's 63 totals
/// (1 KB), its seller and campaign rows, and its values of the three charted metrics per day
/// (71 days × 3 × 8 bytes here), with the allocator's share — 12 KB a replication measured on a
/// release build. The bound, 16 KB, fails every earlier build: 90 KB when every replication
/// kept its daily rows, 32 KB when the rows of `summary.json` were all built before writing.
/// Peak RSS comes from `--timing`'s `peak_rss_bytes`.
#[test]
fn memory_does_not_grow_with_the_daily_rows_of_every_replication() {
    let dir = TempDir::new("h-stream");
    let sc = dir.write("s.toml", &MINIMAL.replace("days = 10", "days = 60"));
    let peak = |n: u32| -> u64 {
        let (out, timing) = (format!("r{n}"), dir.join(&format!("t{n}.json")));
        let n = n.to_string();
        let o = affsim_in(
            Some(dir.path()),
            &[
                "run",
                arg(&sc),
                "--replications",
                &n,
                "--threads",
                "1",
                "--timing",
                arg(&timing),
                "--out",
                &out,
                "-q",
            ],
        );
        assert_eq!(o.code, 0, "{o}");
        let t = json(&std::fs::read_to_string(&timing).unwrap());
        t["peak_rss_bytes"]
            .as_u64()
            .expect("peak_rss_bytes on Linux")
    };
    let (small, large) = (peak(40), peak(600));
    let per = large.saturating_sub(small) / 560;
    assert!(
        per < 16_000,
        "peak RSS grew by {per} bytes per replication ({small} at 40, {large} at 600)"
    );
    // the time series is still complete: every replication × day × metric
    let rows = std::fs::read_to_string(dir.join("r600").join("timeseries.csv"))
        .unwrap()
        .lines()
        .count();
    assert!(rows > 600 * 60 * 60, "{rows}");
}

/// Issue 13 item 4: `summary.json` is written with its per-replication rows (the run's, each
/// campaign's and each seller's) printed one at a time; the file is byte for byte the whole
/// document, and `--json` prints the file.
#[test]
fn summary_json_written_row_by_row_is_the_whole_document() {
    use affsim::experiment::{self, RunConfig};
    let dir = TempDir::new("h-rows");
    let sc = affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO).unwrap();
    let out = experiment::run(
        &sc,
        &RunConfig {
            replications: Some(3),
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let whole = affsim::experiment::summary::summary(&sc, out.seed, &out.replications);
    assert!(!whole.campaigns.is_empty() && !whole.sellers.is_empty());
    let head = affsim::report::write_summary(dir.path(), &sc, out.seed, &out.replications).unwrap();
    assert!(head.per_replication.is_empty());
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert_eq!(text, serde_json::to_string_pretty(&whole).unwrap() + "\n");
    let o = affsim_in(
        Some(dir.path()),
        &["run", "--replications", "3", "--json", "-q", "--out", "r"],
    );
    assert_eq!(o.code, 0, "{o}");
    let file = std::fs::read_to_string(dir.join("r/summary.json")).unwrap();
    assert_eq!(o.stdout, file);
    // the binary sets each replication's rows aside as it arrives and splices them back: the
    // same document
    assert_eq!(file, serde_json::to_string_pretty(&whole).unwrap() + "\n");
}
