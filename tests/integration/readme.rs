//! The README stays true: the demo figures it quotes are compared with the binary's output.
//! The test reads the README and runs what it shows, so it never hard-codes a figure: when the
//! model changes, refresh the README's text (the failure shows the line to paste).

use crate::util::{TempDir, affsim, arg, repo_root};

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("README.md")
}

/// A failure message that shows the README's text and the binary's, line by line.
fn diff(what: &str, readme: &[String], binary: &[String]) -> String {
    let mut m = format!("README.md is stale: {what}\n");
    for i in 0..readme.len().max(binary.len()) {
        let (a, b) = (readme.get(i), binary.get(i));
        if a != b {
            m.push_str(&format!(
                "  line {}:\n    README: {}\n    binary: {}\n",
                i + 1,
                a.map_or("(none)", String::as_str),
                b.map_or("(none)", String::as_str)
            ));
        }
    }
    m
}

/// `demo — 1 replication(s), seed 42: …` in the README equals the summary line of
/// `affsim run --replications 1 --seed 42`.
#[test]
fn the_readme_demo_summary_is_the_binarys() {
    let text = readme();
    let quoted: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("demo — 1 replication(s), seed 42: "))
        .map(str::to_string)
        .collect();
    assert!(
        !quoted.is_empty(),
        "the README quotes the demo's summary line"
    );
    let tmp = TempDir::new("readme-demo");
    let out = affsim(&[
        "run",
        "--replications",
        "1",
        "--seed",
        "42",
        "--out",
        arg(&tmp.join("r")),
    ]);
    assert_eq!(out.code, 0, "{out}");
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("demo — "))
        .unwrap_or_else(|| panic!("no summary line on stderr:\n{out}"))
        .to_string();
    for q in &quoted {
        assert!(
            *q == line,
            "{}",
            diff(
                "the demo's summary line",
                std::slice::from_ref(q),
                std::slice::from_ref(&line)
            )
        );
    }
}

/// Commands whose complete output the README shows in ```console blocks.
const RUN: [&str; 3] = ["validate", "explain", "scenarios"];

/// Every ```console block's `$ affsim validate|explain|scenarios …` with its output shown in
/// full (not abridged with `…`) prints exactly that output.
#[test]
fn the_readme_console_examples_are_the_binarys() {
    let text = readme();
    let mut checked = 0;
    let mut in_block = false;
    let mut current: Option<(String, Vec<String>)> = None;
    let mut cases = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block && line == "```console";
            if let Some(c) = current.take() {
                cases.push(c);
            }
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            if let Some(c) = current.take() {
                cases.push(c);
            }
            current = Some((cmd.to_string(), Vec::new()));
        } else if let Some((_, out)) = current.as_mut() {
            out.push(line.to_string());
        }
    }
    for (cmd, expected) in cases {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let runnable = words.first() == Some(&"affsim")
            && words.get(1).is_some_and(|w| RUN.contains(w))
            && !words.contains(&"#")
            && !expected.is_empty()
            && !expected.iter().any(|l| l.contains('…'));
        if !runnable {
            continue;
        }
        let out = affsim(&words[1..]);
        assert_eq!(out.code, 0, "`{cmd}`: {out}");
        let got: Vec<String> = out
            .stdout
            .lines()
            .chain(out.stderr.lines())
            .map(str::to_string)
            .collect();
        assert!(
            got == expected,
            "{}",
            diff(&format!("`{cmd}`"), &expected, &got)
        );
        checked += 1;
    }
    assert!(
        checked >= 3,
        "validate, explain and scenarios examples are checked ({checked})"
    );
}
