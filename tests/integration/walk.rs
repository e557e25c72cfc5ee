//! The scenario-folder walk of `affsim check` (walkdir): symbolic-link loops neither hang nor
//! repeat files.

use std::time::Duration;

use crate::bad_inputs::affsim_bounded;
use crate::util::{TempDir, arg};

const SCENARIO: &str = "[scenario]\nname = \"walk\"\nregion = \"ID\"\nstart = \"2025-10-01\"\ndays = 1\n\n[[expect]]\nmetric = \"ledger_balanced\"\nequals = \"true\"\n";

#[cfg(unix)]
#[test]
fn a_folder_with_two_self_links_is_walked_once() {
    let tmp = TempDir::new("walk-self-links");
    let file = tmp.write("s/one.toml", SCENARIO);
    let dir = tmp.join("s");
    std::os::unix::fs::symlink(".", dir.join("loop-a")).expect("symlink");
    std::os::unix::fs::symlink(".", dir.join("loop-b")).expect("symlink");
    // through the library: the one file, once
    let found = affsim::check::collect(std::slice::from_ref(&dir)).expect("walk");
    assert_eq!(found, vec![file]);
    // through the binary: finishes, one scenario checked
    let out = affsim_bounded(&["check", arg(&dir)], Duration::from_secs(120))
        .expect("`affsim check` over a folder with link loops did not finish");
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("1 passed, 0 failed"), "{out}");
}

/// A `manual = true` scenario (a reference load run by hand, such as scenarios/bench/country.toml)
/// is skipped by a folder walk, said so, and checked when named on its own.
#[test]
fn a_manual_scenario_is_skipped_by_the_folder_walk_and_checked_when_named() {
    let tmp = TempDir::new("walk-manual");
    let plain = tmp.write("s/plain.toml", SCENARIO);
    let manual_src = SCENARIO.replace("days = 1\n", "days = 1\nmanual = true\n");
    let manual = tmp.write("s/sub/manual.toml", &manual_src);
    let dir = tmp.join("s");
    let (found, skipped) =
        affsim::check::collect_with_skipped(std::slice::from_ref(&dir)).expect("walk");
    assert_eq!(
        (found, skipped),
        (vec![plain.clone()], vec![manual.clone()])
    );
    assert_eq!(
        affsim::check::collect(std::slice::from_ref(&manual)).expect("named"),
        vec![manual.clone()]
    );
    let out = affsim_bounded(&["check", arg(&dir)], Duration::from_secs(120)).expect("check");
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("1 passed, 0 failed"), "{out}");
    assert!(
        out.stdout.contains("SKIP") && out.stdout.contains("manual.toml"),
        "{out}"
    );
    let out = affsim_bounded(&["check", arg(&manual)], Duration::from_secs(120)).expect("check");
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("PASS") && out.stdout.contains("manual.toml"),
        "{out}"
    );
}
