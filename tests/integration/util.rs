//! Helpers shared by the integration tests: running the real binary, temporary folders,
//! scenario text, and the data-driven `check_invalid` helper for validation errors.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The binary under test: this build's, or the one named by `AFFSIM_TEST_BIN` — set it to run
/// the CLI tests against another build (docs/reliability.md records the hardening tests run
/// against the build before issue 13, to show that each of them can fail).
pub fn bin() -> PathBuf {
    std::env::var_os("AFFSIM_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_affsim")))
}

/// Runs `affsim` with `args` in the current directory.
pub fn affsim(args: &[&str]) -> Output {
    affsim_in(None, args)
}

/// Runs `affsim` with `args`, in `dir` when given.
pub fn affsim_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().expect("cannot start the affsim binary");
    Output {
        // a process killed by a signal has no code: report it as -1 so assertions fail clearly
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Converts a path argument for the command line.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// A temporary folder, unique per process and test, removed on drop.
pub struct TempDir {
    dir: tempfile::TempDir,
}

impl TempDir {
    /// A new empty folder under the system's temp dir, removed when dropped (tempfile).
    pub fn new(test: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("affsim-it-{test}-"))
            .tempdir()
            .expect("cannot create a temp dir");
        TempDir { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// Writes `text` to `name` (folders created as needed) and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("cannot create a fixture folder");
        }
        std::fs::write(&p, text).expect("cannot write a fixture");
        p
    }
    /// Names of the entries directly in the folder, sorted.
    pub fn entries(&self) -> Vec<String> {
        entries(self.dir.path())
    }
}

/// Names of the entries directly in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// 1-based line and column (in characters) of byte offset `at` in `src`.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..at].chars().count() + 1)
}

/// The marker that fixtures use for "the error is reported here".
pub const CURSOR: &str = "$0";

/// Removes the single [`CURSOR`] from `fixture`; returns the text and the marker's line/column.
pub fn extract_cursor(fixture: &str) -> (String, Option<(usize, usize)>) {
    match fixture.find(CURSOR) {
        None => (fixture.to_string(), None),
        Some(at) => {
            assert_eq!(
                fixture.matches(CURSOR).count(),
                1,
                "a fixture has at most one {CURSOR} marker"
            );
            let text = format!("{}{}", &fixture[..at], &fixture[at + CURSOR.len()..]);
            (text, Some(line_col(fixture, at)))
        }
    }
}

/// What `affsim validate` should say about a fixture.
pub struct Expect<'a> {
    /// Fragments the first error message must contain.
    pub contains: &'a [&'a str],
    /// The rule ID the error must name as `[RULE]`, if any.
    pub rule: Option<&'a str>,
}

/// Data-driven validation check, in the manner of rust-analyzer's fixtures: `fixture` is a
/// scenario with a `$0` marking where the first error must be reported. The fixture is written
/// to a file, `affsim validate` must exit 2, and the first `error:` line must be
/// `error: FILE:LINE:COLUMN: …` with the marker's line and column, contain every fragment, and
/// name the rule. Without a marker, the error must carry no line/column at all.
pub fn check_invalid(test: &str, fixture: &str, expect: Expect) {
    let dir = TempDir::new(test);
    let (text, cursor) = extract_cursor(fixture);
    let file = dir.write("scenario.toml", &text);
    let out = affsim(&["validate", arg(&file)]);
    assert_eq!(out.code, 2, "validate must reject the fixture\n{out}");
    assert!(
        out.stdout.is_empty(),
        "validate prints errors on stderr only\n{out}"
    );
    let first = out
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no `error:` line\n{out}"));
    let place = match cursor {
        Some((l, c)) => format!("error: {}:{l}:{c}: ", file.display()),
        None => format!("error: {}: ", file.display()),
    };
    assert!(
        first.starts_with(&place),
        "expected the error to start with {place:?}, got {first:?}\n{out}"
    );
    for frag in expect.contains {
        assert!(
            first.contains(frag),
            "expected {frag:?} in {first:?}\n{out}"
        );
    }
    if let Some(rule) = expect.rule {
        assert!(
            first.ends_with(&format!("[{rule}]")),
            "expected the error to name [{rule}]: {first:?}\n{out}"
        );
    }
    if let Some((line, _)) = cursor {
        // the snippet below the message shows the offending line and a caret under the column
        let src_line = text.lines().nth(line - 1).unwrap();
        assert!(
            out.stderr.contains(&format!("{line} | {src_line}")),
            "expected the snippet of line {line} ({src_line:?})\n{out}"
        );
    }
}

/// A minimal valid scenario: one seller, one product, one creator, no behaviour.
pub const MINIMAL: &str = r#"[scenario]
name = "minimal"
region = "ID"
start = "2025-10-01"
days = 10

[[sellers]]
id = "s"

[[products]]
id = "p"
seller = "s"
price = "1000"

[[creators]]
id = "c"
followers = 1000
"#;

/// Replaces the one occurrence of `from` in `text` (panics if it is not there exactly once,
/// so a fixture cannot silently stop exercising what it should).
pub fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} must occur exactly once in the fixture"
    );
    text.replacen(from, to, 1)
}

/// A scenario with one scripted order on an Open plan: the creator applies (approved at once),
/// the order is placed, shipped and delivered, then settles after the region's after-sales
/// period. Money values are written as given (already formatted for the region).
pub struct SingleOrder<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub price: &'a str,
    pub rate: &'a str,
    pub quantity: u32,
    pub seller_coupon: Option<&'a str>,
    /// Refund this amount the day after delivery.
    pub refund: Option<&'a str>,
    /// `[[expect]]` tables appended verbatim.
    pub expect: &'a str,
}

impl SingleOrder<'_> {
    pub fn toml(&self) -> String {
        let mut s = format!(
            r#"[scenario]
name = "{name}"
region = "{region}"
start = "2025-10-01"
days = 30
seed = 7

[behaviour.creators]
actions_per_day = 0.0

[[sellers]]
id = "shop"

[[products]]
id = "item"
seller = "shop"
price = "{price}"

[[creators]]
id = "maya"
followers = 5000

[[open_plans]]
id = "open"
seller = "shop"
products = ["item"]
rate = "{rate}"

[[script.applications]]
at = "2025-10-01 09:00"
creator = "maya"
product = "item"

[[script.orders]]
id = "o1"
at = "2025-10-02 10:00"
creator = "maya"
product = "item"
quantity = {quantity}
shipped = "2025-10-03 10:00"
delivered = "2025-10-05 10:00"
"#,
            name = self.name,
            region = self.region,
            price = self.price,
            rate = self.rate,
            quantity = self.quantity,
        );
        if let Some(c) = self.seller_coupon {
            s.push_str(&format!("seller_coupon = \"{c}\"\n"));
        }
        if let Some(a) = self.refund {
            s.push_str(&format!(
                "\n[[script.returns]]\nat = \"2025-10-06 10:00\"\norder = \"o1\"\namount = \"{a}\"\n"
            ));
        }
        s.push('\n');
        s.push_str(self.expect);
        s
    }
}

/// Parses a JSON document, failing the test with the text when it is not JSON.
pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Reads a JSON number or numeric string as an exact decimal.
pub fn dec(v: &serde_json::Value) -> rust_decimal::Decimal {
    let s = match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        other => panic!("not a number: {other}"),
    };
    rust_decimal::Decimal::from_str_exact(&s).unwrap_or_else(|e| panic!("not a decimal {s:?}: {e}"))
}

/// Rounds `num / den` (both ≥ 0, den > 0) half up to an integer: the oracle for MONEY-1 half-up
/// rounding, in integers so it shares no code with the library.
pub fn div_round_half_up(num: u128, den: u128) -> u128 {
    assert!(den > 0);
    (2 * num + den) / (2 * den)
}

/// An amount in minor units as an exact decimal with `minor` decimals.
pub fn minor_to_dec(units: u128, minor: u32) -> rust_decimal::Decimal {
    rust_decimal::Decimal::from_i128_with_scale(units as i128, minor)
}

/// Formats an amount in minor units as scenario text, e.g. 1999 with 2 decimals → "19.99".
pub fn minor_to_text(units: u128, minor: u32) -> String {
    minor_to_dec(units, minor).to_string()
}

/// The repository root (for `scenarios/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
