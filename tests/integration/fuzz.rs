//! Fuzzing without cargo-fuzz: proptest feeds scenario parsing and validation
//!
//! - arbitrary bytes (made text with `from_utf8_lossy`) and arbitrary UTF-8 strings;
//! - a "token soup" of TOML pieces and scenario keys, which gets past the TOML syntax far more
//!   often and so reaches validation;
//! - mutations of the real scenario files (`scenarios/demo.toml` and a few `scenarios/rules/`):
//!   lines deleted or duplicated, numbers replaced by huge, negative or fractional ones, quoted
//!   strings swapped for bare words, the text truncated at a random byte;
//!
//! and checks that `affsim::scenario::parse` never panics, returns within [`PARSE_LIMIT`], and
//! that every error has a non-empty message, names the file, and has a line (and column) within
//! the text, with the line's snippet. A mutated scenario that still validates is run for one
//! replication, capped at [`RUN_DAYS`] simulated days without drain and skipped when its
//! populations are large; the run must complete or return an error, never panic, within
//! [`RUN_LIMIT`].
//!
//! About 300 cases in all, under a minute, from a fixed seed so CI is reproducible. To fuzz
//! longer and elsewhere, set the case count (per property) and a seed:
//!
//! ```text
//! PROPTEST_CASES=20000 PROPTEST_RNG_SEED=$RANDOM \
//!     cargo test --test integration fuzz -- --nocapture
//! ```
//!
//! A failure prints the input that caused it (shrunk where proptest can).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};

use affsim::scenario::{Scenario, ScenarioError};
use affsim::sim::{RunOptions, run_replication};

use crate::util::repo_root;

/// Longest a parse may take.
const PARSE_LIMIT: Duration = Duration::from_secs(2);
/// Longest a capped replication may take.
const RUN_LIMIT: Duration = Duration::from_secs(10);
/// Simulated days a mutated scenario is run for at most.
const RUN_DAYS: u32 = 30;
/// Agents (sellers + products + creators) above which a mutated scenario is not run.
const RUN_AGENTS: u64 = 10_000;

/// The files mutated: the demo and rules scenarios covering every section of the format.
const CORPUS: &[&str] = &[
    "scenarios/demo.toml",
    "scenarios/rules/attr-4-product-in-open-and-two-targets.toml",
    "scenarios/rules/dist-6-split-commission-partial-refund.toml",
    "scenarios/rules/h-9-distributor-sets-creator-part.toml",
    "scenarios/rules/h-8-flat-fee-refunded-on-decline.toml",
    "scenarios/rules/h-7-refundable-sample-goal-two-sales.toml",
    "scenarios/rules/open-3-sample-requirements.toml",
    "scenarios/rules/settle-3-partial-refund-pro-rata.toml",
    "scenarios/rules/time-1-settlement-before-return-same-minute.toml",
];

fn corpus() -> &'static [(String, String)] {
    static C: OnceLock<Vec<(String, String)>> = OnceLock::new();
    C.get_or_init(|| {
        CORPUS
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(repo_root().join(p))
                    .unwrap_or_else(|e| panic!("cannot read the fuzz corpus file {p}: {e}"));
                (p.to_string(), text)
            })
            .collect()
    })
}

fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        // shrinking re-runs the (cheap) parser; keep it bounded
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x5eed_a11f);
    }
    c
}

/// The message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs `f` on a thread of its own: its value and how long it took, or why there is none (a
/// panic, or no answer within `limit`; the thread is then left behind).
fn bounded<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<(T, Duration), String> {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::Builder::new()
        .name("fuzz-case".into())
        .spawn(move || {
            let r = catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p));
            let _ = tx.send(r);
        })
        .expect("cannot spawn a thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => Ok((v, started.elapsed())),
        Ok(Err(msg)) => Err(format!("panicked: {msg}")),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("no answer within {limit:?}")),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err("the thread died".to_string()),
    }
}

/// Checks one error against the text it is about.
fn check_error(file: &str, text: &str, e: &ScenarioError) -> Result<(), String> {
    if e.message.trim().is_empty() {
        return Err(format!("an error with an empty message: {e:?}"));
    }
    if e.file != file {
        return Err(format!("the error names {:?}, not {file:?}", e.file));
    }
    match (e.line, e.column) {
        (None, None) => {}
        (Some(line), Some(col)) => {
            // a place at the very end of a text ending in a newline is on the line after it
            let lines = text.matches('\n').count() + 1;
            if line == 0 || line > lines {
                return Err(format!(
                    "line {line} is outside the text's {lines} lines: {e}"
                ));
            }
            let src = text.split('\n').nth(line - 1).unwrap_or_default();
            let chars = src.chars().count();
            if col == 0 || col > chars + 1 {
                return Err(format!(
                    "column {col} is outside line {line} ({chars} characters): {e}"
                ));
            }
            if e.snippet.as_deref() != Some(src.trim_end_matches('\r')) {
                return Err(format!(
                    "the snippet {:?} is not line {line} ({src:?})",
                    e.snippet
                ));
            }
        }
        _ => return Err(format!("a line without a column or the reverse: {e:?}")),
    }
    // displaying it must work too
    let shown = e.to_string();
    if !shown.starts_with(&e.location()) {
        return Err(format!("displayed as {shown:?}"));
    }
    Ok(())
}

/// Parses `text` under the time limit and checks the answer; returns the scenario if valid.
fn parse_checked(text: &str) -> Result<Option<Scenario>, String> {
    let file = "fuzz.toml";
    let owned = text.to_string();
    let (res, took) = bounded(PARSE_LIMIT, move || affsim::scenario::parse(file, &owned))
        .map_err(|e| format!("parse {e}"))?;
    if took > PARSE_LIMIT {
        return Err(format!("parse took {took:?}"));
    }
    match res {
        Ok(sc) => Ok(Some(sc)),
        Err(errs) if errs.is_empty() => Err("parse returned Err with no error".to_string()),
        Err(errs) => {
            for e in &errs {
                check_error(file, text, e)?;
            }
            Ok(None)
        }
    }
}

/// Runs one capped replication of a valid scenario (unless its populations are large).
fn run_capped(mut sc: Scenario) -> Result<(), String> {
    let (s, p, c) = sc.agent_counts();
    if s + p + c > RUN_AGENTS {
        return Ok(());
    }
    sc.days = sc.days.min(RUN_DAYS);
    sc.drain = false;
    let (res, _) = bounded(RUN_LIMIT, move || {
        run_replication(&sc, 0, &RunOptions::default()).map(|r| r.events)
    })
    .map_err(|e| format!("the replication {e}"))?;
    match res {
        Ok(_) => Ok(()),
        Err(e) if e.to_string().trim().is_empty() => {
            Err("the replication failed with an empty message".to_string())
        }
        // a replication whose ledger does not balance is refused with an error: allowed here
        Err(_) => Ok(()),
    }
}

// ------------------------------------------------------------------------------- mutations

/// Numbers put in place of a number of the file.
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0.5",
    "0.5",
    "1.5",
    "1e308",
    "-1e308",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551616",
    "79228162514264337593543950335",
    "792281625142643375935439503350",
    "0.000000000000000000000000000001",
    "99999",
];

/// Bare words put in place of a quoted string.
const WORDS: &[&str] = &[
    "banana",
    "true",
    "false",
    "inf",
    "nan",
    "-inf",
    "1e999",
    "1979-05-27",
    "[]",
    "{}",
];

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceNumber(usize, usize),
    /// Swap a quoted string for its content unquoted (`None`) or for a bare word.
    Unquote(usize, Option<usize>),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::DeleteLine),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        4 => (any::<usize>(), 0..NUMBERS.len()).prop_map(|(i, n)| Mutation::ReplaceNumber(i, n)),
        2 => (any::<usize>(), proptest::option::of(0..WORDS.len()))
            .prop_map(|(i, w)| Mutation::Unquote(i, w)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Byte ranges of the numbers in `text`: maximal runs of digits, with a `-` and a fraction.
fn numbers(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(start..i);
        } else {
            i += 1;
        }
    }
    out
}

/// Byte ranges of the `"…"` strings of `text` (on one line, no escapes considered).
fn quoted(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let mut open = None;
        for (i, ch) in line.char_indices() {
            if ch == '#' && open.is_none() {
                break;
            }
            if ch == '"' {
                match open.take() {
                    None => open = Some(i),
                    Some(s) => out.push(offset + s..offset + i + 1),
                }
            }
        }
        offset += line.len();
    }
    out
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match *m {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            let k = i % lines.len();
            lines
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, l)| *l)
                .collect()
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let k = i % lines.len();
            let mut out = String::new();
            for (j, l) in lines.iter().enumerate() {
                out.push_str(l);
                if j == k {
                    if !l.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(l);
                }
            }
            out
        }
        Mutation::ReplaceNumber(i, n) => {
            let nums = numbers(text);
            if nums.is_empty() {
                return text.to_string();
            }
            let r = nums[i % nums.len()].clone();
            format!("{}{}{}", &text[..r.start], NUMBERS[n], &text[r.end..])
        }
        Mutation::Unquote(i, w) => {
            let qs = quoted(text);
            if qs.is_empty() {
                return text.to_string();
            }
            let r = qs[i % qs.len()].clone();
            let with = match w {
                Some(w) => WORDS[w].to_string(),
                None => text[r.start + 1..r.end - 1].to_string(),
            };
            format!("{}{}{}", &text[..r.start], with, &text[r.end..])
        }
        Mutation::Truncate(at) => {
            let b = text.as_bytes();
            String::from_utf8_lossy(&b[..at % (b.len() + 1)]).into_owned()
        }
        _ => text.to_string(),
    }
}

// ------------------------------------------------------------------------------ token soup

/// Pieces of scenario files: headers, keys, values, punctuation.
const TOKENS: &[&str] = &[
    "[scenario]\n",
    "[rules]\n",
    "[[sellers]]\n",
    "[[products]]\n",
    "[[creators]]\n",
    "[[open_plans]]\n",
    "[[target_invitations]]\n",
    "[[distributor_campaigns]]\n",
    "[[plus_campaigns]]\n",
    "[[creator_groups]]\n",
    "[[distributors]]\n",
    "[populations.creators]\n",
    "[populations.products]\n",
    "[behaviour.buyers]\n",
    "[[script.orders]]\n",
    "[[script.returns]]\n",
    "[[script.rate_changes]]\n",
    "[[expect]]\n",
    "name = \"x\"\n",
    "region = \"ID\"\n",
    "region = \"US\"\n",
    "start = \"2025-10-01\"\n",
    "days = 10\n",
    "id = \"a\"\n",
    "id = \"b\"\n",
    "seller = \"a\"\n",
    "product = \"a\"\n",
    "creator = \"a\"\n",
    "price = \"1000\"\n",
    "followers = 100\n",
    "count = 5\n",
    "rate = \"10%\"\n",
    "shop_plan_rate = \"10%\"\n",
    "products = [\"a\"]\n",
    "creators = [\"a\"]\n",
    "at = \"2025-10-02 10:00\"\n",
    "sent = \"2025-10-02\"\n",
    "quantity = 2\n",
    "metric = \"gmv\"\n",
    "equals = \"0\"\n",
    "fired = \"OPEN-1\"\n",
    "order = \"a\"\n",
    "followers = { dist = \"fixed\", value = 1.0 }\n",
    "price = { dist = \"lognormal\", median = 1.0, sigma = 1.0 }\n",
    "= ",
    "\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\n",
    "#",
    "'",
    "1e400",
    "-0",
    "nan",
    "\u{0}",
    "\u{feff}",
    "é",
    "💥",
];

fn soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(0..TOKENS.len(), 0..60)
        .prop_map(|ix| ix.into_iter().map(|i| TOKENS[i]).collect::<String>())
}

// ------------------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(config(60))]

    #[test]
    fn arbitrary_bytes_never_crash_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Err(e) = parse_checked(&text) {
            prop_assert!(false, "{}\n--- input ---\n{:?}", e, text);
        }
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn arbitrary_utf8_never_crashes_the_parser(text in any::<String>()) {
        if let Err(e) = parse_checked(&text) {
            prop_assert!(false, "{}\n--- input ---\n{:?}", e, text);
        }
    }
}

proptest! {
    #![proptest_config(config(80))]

    #[test]
    fn token_soup_never_crashes_the_parser(text in soup()) {
        if let Err(e) = parse_checked(&text) {
            prop_assert!(false, "{}\n--- input ---\n{}", e, text);
        }
    }
}

proptest! {
    #![proptest_config(config(120))]

    #[test]
    fn mutated_scenarios_never_crash(
        file in 0..CORPUS.len(),
        edits in proptest::collection::vec(mutation(), 1..=3),
    ) {
        let (name, original) = &corpus()[file];
        let mut text = original.clone();
        for m in &edits {
            text = apply(&text, m);
        }
        let sc = match parse_checked(&text) {
            Err(e) => {
                return Err(TestCaseError::fail(format!("{name}: {edits:?}: {e}\n--- input ---\n{text}")));
            }
            Ok(sc) => sc,
        };
        if let Some(sc) = sc
            && let Err(e) = run_capped(sc) {
                prop_assert!(false, "{}: {:?}: {}\n--- input ---\n{}", name, edits, e, text);
            }
    }
}

/// The harness itself: its mutations do what they say, and it reports what it must.
#[test]
fn the_fuzz_harness_detects_problems() {
    // the mutations
    let t = "a = \"x\"\nb = 12.5\nc = -3 # \"not a string\"\n";
    assert_eq!(numbers(t).len(), 2);
    assert_eq!(&t[numbers(t)[1].clone()], "-3");
    assert_eq!(quoted(t).len(), 1, "strings in comments are not strings");
    assert_eq!(
        apply(t, &Mutation::DeleteLine(1)),
        "a = \"x\"\nc = -3 # \"not a string\"\n"
    );
    assert_eq!(
        apply(t, &Mutation::DuplicateLine(0))
            .matches("a = \"x\"\n")
            .count(),
        2
    );
    assert_eq!(
        apply(t, &Mutation::ReplaceNumber(0, 1)),
        t.replace("12.5", "-1")
    );
    assert_eq!(
        apply(t, &Mutation::Unquote(0, None)),
        t.replace("\"x\"", "x")
    );
    assert_eq!(
        apply(t, &Mutation::Unquote(0, Some(0))),
        t.replace("\"x\"", "banana")
    );
    assert_eq!(apply(t, &Mutation::Truncate(4)), "a = ");
    assert_eq!(
        apply("é", &Mutation::Truncate(1)),
        "\u{fffd}",
        "a cut character is replaced"
    );

    // every corpus file is valid before mutation, so mutations are what make inputs invalid
    for (name, text) in corpus() {
        assert!(
            matches!(parse_checked(text), Ok(Some(_))),
            "{name} must validate: {:?}",
            affsim::scenario::parse(name, text).err()
        );
    }

    // a panic and a hang are reported, not propagated
    let p = bounded(Duration::from_secs(5), || -> u8 { panic!("boom") });
    assert!(matches!(&p, Err(m) if m.contains("boom")), "{p:?}");
    let h = bounded(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_secs(1))
    });
    assert!(matches!(&h, Err(m) if m.contains("no answer")), "{h:?}");

    // errors outside the text are caught
    let text = "a\nb\n";
    let mut e = ScenarioError::at("fuzz.toml", text, Some(2..3), "bad", None);
    assert!(
        check_error("fuzz.toml", text, &e).is_ok(),
        "a good error passes"
    );
    e.line = Some(4);
    assert!(check_error("fuzz.toml", text, &e).is_err(), "line 4 of 3");
    let mut e = ScenarioError::at("fuzz.toml", text, Some(2..3), "  ", None);
    assert!(
        check_error("fuzz.toml", text, &e).is_err(),
        "an empty message"
    );
    e.message = "bad".into();
    e.column = None;
    assert!(
        check_error("fuzz.toml", text, &e).is_err(),
        "a line without a column"
    );
}
