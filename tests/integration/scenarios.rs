//! Data-driven: every scenario file under `scenarios/` must pass `affsim check`'s engine —
//! except the reference loads in `scenarios/bench/` (millions of orders: seconds to minutes in a
//! release build), which CI checks with the release binary (`affsim check scenarios`).

use std::path::{Path, PathBuf};

use crate::util::repo_root;

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let rd =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in rd {
        let p = entry.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "bench") {
                continue;
            }
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn every_scenario_file_passes_its_expectations() {
    let root = repo_root();
    let mut files = Vec::new();
    toml_files(&root.join("scenarios"), &mut files);
    files.sort();
    assert!(
        files.iter().any(|f| f.ends_with("scenarios/demo.toml")),
        "scenarios/demo.toml is found: {files:?}"
    );
    let mut report = Vec::new();
    for f in &files {
        let v = affsim::check::check_file(f, None);
        let shown = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        if !v.passed {
            report.push(format!(
                "{shown} ({}):\n  - {}",
                v.name,
                v.failures
                    .iter()
                    .map(|f| f.message.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            ));
        } else if v.checked == 0 {
            report.push(format!(
                "{shown} ({}): passed without checking anything",
                v.name
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} scenario files fail:\n{}",
        report.len(),
        files.len(),
        report.join("\n")
    );
}
