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
