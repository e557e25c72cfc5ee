//! Issue 14's precision for `affsim check`: ledger expectations (`[[expect_ledger]]`), refusals
//! matched by message, Plus ranks, money in the currency's format in failure messages, the
//! structured `check --json` (validated against docs/schema/check.schema.json) and expected
//! rejections matched among all errors. Through the real binary; the text output is an insta
//! snapshot (it holds no timings; the file is named relative to the run's folder).

use crate::schema::check_schema;
use crate::util::{TempDir, affsim, affsim_in, arg, json, line_col, replace_once};

/// A UK order (GBP, two decimals): 3 × 59.90 = 179.70, less the 15.00 and 6.00 coupons = 158.70
/// commission base; 9% of it = 14.283 → 14.28. Delivered 4 October: settled after the UK's
/// 15-day after-sales period (SETTLE-2, H-10).
const UK: &str = r#"[scenario]
name = "uk-precision"
region = "UK"
start = "2025-10-01"
days = 30

[[sellers]]
id = "knits"
shop_plan_rate = "9%"

[[products]]
id = "cardigan"
seller = "knits"
price = "59.90"

[[creators]]
id = "cara"
followers = 12000

[behaviour.creators]
actions_per_day = 0.0

[[script.orders]]
id = "cardigans"
at = "2025-10-02 12:00"
creator = "cara"
product = "cardigan"
quantity = 3
seller_coupon = "15.00"
platform_coupon = "6.00"
delivered = "2025-10-04 12:00"
"#;

/// Expectations that hold for [`UK`]: the commission, and its ledger entry at settlement.
const UK_PASSING: &str = r#"
[[expect]]
order = "cardigans"
field = "commission"
equals = "14.28"

[[expect_ledger]]
kind = "commission"
from = "escrow"
to = "creator:cara"
amount = "14.28"
between = ["2025-10-19 00:00", "2025-10-21 00:00"]
count = 1

[[expect_ledger]]
kind = "commission"
between = ["2025-10-01 00:00", "2025-10-18 23:59"]
count = 0
"#;

/// Expectations that fail for [`UK`], each in a different way.
const UK_FAILING: &str = r#"
[[expect]]
order = "cardigans"
field = "commission"
equals = "14.30"
note = "9% of 158.70 rounded up by mistake"

[[expect]]
account = "seller:knits"
min = "200"

[[expect_ledger]]
kind = "commission"
to = "creator:cara"
amount = "14.28"
at = "2025-10-04 12:00"

[[expect_ledger]]
kind = "reward-paid"
count = 1

[[expect]]
metric = "orders"
equals = "2"
"#;

#[test]
fn passing_ledger_expectations_pass_and_can_fail() {
    let dir = TempDir::new("check-ledger-pass");
    let good = dir.write("good.toml", &format!("{UK}{UK_PASSING}"));
    let out = affsim(&["check", arg(&good)]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.contains("3 expectation(s)"), "{out}");
    // the same table one day early fails: the window is what is checked
    let early = replace_once(
        UK_PASSING,
        "between = [\"2025-10-19 00:00\", \"2025-10-21 00:00\"]",
        "between = [\"2025-10-18 00:00\", \"2025-10-18 23:59\"]",
    );
    let bad = dir.write("early.toml", &format!("{UK}{early}"));
    let out = affsim(&["check", arg(&bad)]);
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stdout.contains("expected 1, got 0"), "{out}");
}

#[test]
fn failure_messages_show_money_and_ledger_entries() {
    let dir = TempDir::new("check-precision-text");
    dir.write("uk.toml", &format!("{UK}{UK_FAILING}"));
    let out = affsim_in(Some(dir.path()), &["check", "uk.toml"]);
    assert_eq!(out.code, 1, "{out}");
    // the properties the snapshot must show, checked on their own
    assert!(
        out.stdout
            .contains("expected GBP 14.30, got GBP 14.28 (replication 0)"),
        "{out}"
    );
    assert!(out.stdout.contains("outside [GBP 200.00, …]"), "{out}");
    assert!(
        out.stdout.contains("the run has no reward-paid entries"),
        "{out}"
    );
    insta::assert_snapshot!("check_failures_text", out.stdout);
}

#[test]
fn check_json_has_structured_failures_matching_its_schema() {
    let dir = TempDir::new("check-precision-json");
    let text = format!("{UK}{UK_FAILING}");
    let file = dir.write("uk.toml", &text);
    let good = dir.write("vv-good.toml", &format!("{UK}{UK_PASSING}"));
    let out = affsim(&["check", "--json", "--coverage", arg(&file), arg(&good)]);
    assert_eq!(out.code, 1, "{out}");
    let doc = json(&out.stdout);
    check_schema(&doc, "check.schema.json").unwrap_or_else(|e| panic!("{e}\n{out}"));
    let failures = doc["scenarios"][0]["failures"]
        .as_array()
        .expect("failures");
    assert_eq!(failures.len(), 5, "{out}");
    // in file order, each placed on its expectation's line
    let line_of = |needle: &str| line_col(&text, text.find(needle).unwrap()).0;
    let first = &failures[0];
    assert_eq!(first["file"], file.display().to_string());
    assert_eq!(first["line"], line_of("[[expect]]\norder = \"cardigans\""));
    assert_eq!(first["expectation"], "order cardigans commission");
    assert_eq!(first["expected"], "14.30");
    assert_eq!(first["actual"], "14.28");
    assert_eq!(first["replication"], 0);
    assert_eq!(first["note"], "9% of 158.70 rounded up by mistake");
    assert_eq!(failures[1]["expected"], "[200, …]");
    let ledger = &failures[2];
    assert_eq!(
        ledger["line"],
        line_of("[[expect_ledger]]\nkind = \"commission\"")
    );
    assert_eq!(ledger["expected"], "[1, …]");
    assert_eq!(ledger["actual"], "0");
    assert_eq!(failures[3]["expected"], "1");
    assert_eq!(
        failures[4]["line"],
        line_of("[[expect]]\nmetric = \"orders\"")
    );
    // the passing file has no failures; coverage lists rules
    assert_eq!(doc["scenarios"][1]["passed"], true);
    assert!(doc["coverage"].as_array().is_some_and(|c| !c.is_empty()));
    // a document the schema forbids: a line written as text
    let mut broken = doc.clone();
    *broken
        .pointer_mut("/scenarios/0/failures/0/line")
        .expect("a line") = serde_json::Value::String("12".into());
    assert!(check_schema(&broken, "check.schema.json").is_err());
}

/// An expected rejection matches any of the file's errors; its `line` is optional.
#[test]
fn expected_rejection_matches_any_error_by_rule_and_message() {
    let dir = TempDir::new("check-precision-invalid");
    // two errors: RATE-1 on the seller first, then an unknown product in the order
    let two = replace_once(UK, "shop_plan_rate = \"9%\"", "shop_plan_rate = \"85%\"");
    let two = replace_once(
        &two,
        "product = \"cardigan\"\nquantity",
        "product = \"jumper\"\nquantity",
    );
    let second = dir.write(
        "second.toml",
        &format!("{two}\n[expect_invalid]\nmessage = \"unknown product `jumper`\"\n"),
    );
    let first = dir.write(
        "first.toml",
        &format!("{two}\n[expect_invalid]\nrule = \"RATE-1\"\nmessage = \"85%\"\n"),
    );
    let neither = dir.write(
        "neither.toml",
        &format!("{two}\n[expect_invalid]\nrule = \"OPEN-3\"\n"),
    );
    let out = affsim(&["check", arg(&second), arg(&first)]);
    assert_eq!(out.code, 0, "{out}");
    let out = affsim(&["check", "--json", arg(&neither)]);
    assert_eq!(out.code, 1, "{out}");
    let doc = json(&out.stdout);
    check_schema(&doc, "check.schema.json").unwrap_or_else(|e| panic!("{e}\n{out}"));
    let f = &doc["scenarios"][0]["failures"][0];
    assert_eq!(f["expectation"], "expect_invalid rule");
    assert_eq!(f["expected"], "OPEN-3");
    assert_eq!(f["actual"], "RATE-1", "reported against the first error");
    assert!(f["line"].is_null());
}

/// `refusal` with `message` counts only the refusals whose message contains the text.
#[test]
fn refusals_are_matched_by_message() {
    let dir = TempDir::new("check-precision-refusal");
    // a return on 3 October, before the 4 October delivery: refused naming ORDER-2
    let early_return =
        format!("{UK}\n[[script.returns]]\nat = \"2025-10-03 10:00\"\norder = \"cardigans\"\n");
    let with = |msg: &str, n: u32| {
        format!(
            "{early_return}\n[[expect]]\nrefusal = \"ORDER-2\"\nmessage = \"{msg}\"\ncount = {n}\n"
        )
    };
    let right = dir.write("right.toml", &with("returned only after delivery", 1));
    let out = affsim(&["check", arg(&right)]);
    assert_eq!(out.code, 0, "{out}");
    let other = dir.write("other.toml", &with("cancelled only before", 0));
    let out = affsim(&["check", arg(&other)]);
    assert_eq!(out.code, 0, "{out}");
    let wrong = dir.write("wrong.toml", &with("cancelled only before", 1));
    let out = affsim(&["check", arg(&wrong)]);
    assert_eq!(out.code, 1, "{out}");
    // the failure lists the refusals naming the rule, with their messages
    assert!(
        out.stdout
            .contains("refusals naming ORDER-2: a line can be returned only after delivery"),
        "{out}"
    );
}
