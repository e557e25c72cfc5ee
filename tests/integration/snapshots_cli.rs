//! insta snapshots through the real binary: the errors a person sees for representative bad inputs (stderr and exit code), and the demo's `report.md` at two replications, paths redacted.

use crate::util::{TempDir, affsim, arg};

const STARTER: &str = include_str!("../../scenarios/examples/starter.toml");

/// The exit code and stderr of `affsim args`, the temporary folder's path redacted to `[dir]`.
fn rendered(dir: &TempDir, args: &[&str]) -> String {
    let out = affsim(args);
    let root = dir.path().display().to_string();
    format!(
        "exit code {}\n{}",
        out.code,
        out.stderr.replace(&root, "[dir]")
    )
}

/// The starter scenario with `from` replaced by `to` (which must occur).
fn starter_with(from: &str, to: &str) -> String {
    assert!(STARTER.contains(from), "the starter has no `{from}`");
    STARTER.replacen(from, to, 1)
}

#[test]
fn rendered_errors_of_bad_inputs() {
    let dir = TempDir::new("snap-errors");
    let cases: Vec<(&str, String)> = vec![
        (
            "rate_outside_bounds",
            starter_with("shop_plan_rate = \"5%\"", "shop_plan_rate = \"85%\""),
        ),
        (
            "rate_off_the_step",
            starter_with("shop_plan_rate = \"5%\"", "shop_plan_rate = \"5.005%\""),
        ),
        (
            "unquoted_money",
            starter_with("price = \"150000\"", "price = 150000.5"),
        ),
        (
            "unknown_key",
            starter_with("followers = 20000", "followers = 20000\nfollower = 3"),
        ),
        (
            "toml_syntax",
            starter_with("category = \"fashion\"", "category = \"fashion"),
        ),
        (
            "unknown_seller",
            starter_with("seller = \"shop\"", "seller = \"shpo\""),
        ),
    ];
    for (name, src) in &cases {
        let file = dir.write(&format!("{name}.toml"), src);
        let text = rendered(&dir, &["validate", arg(&file)]);
        assert!(text.starts_with("exit code 2\n"), "{name}: {text}");
        insta::assert_snapshot!(format!("error_{name}"), text);
    }
    // errors of arguments, not files
    let starter = dir.write("starter.toml", STARTER);
    let cli: [(&str, Vec<&str>); 4] = [
        (
            "sweep_set_without_equals",
            vec!["sweep", arg(&starter), "--set", "sellers.0.shop_plan_rate"],
        ),
        (
            "sweep_set_unknown_entry",
            vec![
                "sweep",
                arg(&starter),
                "--set",
                "sellers.zz.shop_plan_rate=6%",
            ],
        ),
        (
            "explain_unknown_order",
            vec!["explain", arg(&starter), "--order", "o9"],
        ),
        ("lift_unknown_campaign", {
            vec!["lift", arg(&starter), "--campaign", "plus:nope"]
        }),
    ];
    for (name, args) in &cli {
        let text = rendered(&dir, args);
        assert!(text.starts_with("exit code 2\n"), "{name}: {text}");
        insta::assert_snapshot!(format!("error_{name}"), text);
    }
}

#[test]
fn demo_report_md() {
    let dir = TempDir::new("snap-report");
    let out = dir.join("demo");
    let r = affsim(&[
        "run",
        "--replications",
        "2",
        "--seed",
        "42",
        "--threads",
        "1",
        "-q",
        "--out",
        arg(&out),
    ]);
    assert_eq!(r.code, 0, "{r}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    // the report depends on the seed only: nothing to redact but the folder, should it appear
    let md = md.replace(&dir.path().display().to_string(), "[dir]");
    assert!(md.starts_with("# demo\n"), "{md}");
    insta::assert_snapshot!("demo_report_md_seed42_2reps", md);
}
