//! The bad-input catalogue: invalid scenarios, each a small fixture whose `$0` marks where the
//! error must be reported, with a message fragment and the rule ID (or none). One data-driven
//! helper checks every case through the library (`affsim::scenario::parse`); a handful also go
//! through `affsim validate` (exit code 2, `file:line:column`, snippet).
//!
//! The fixtures are edits of small valid bases (checked valid first, so every edit is what makes
//! a fixture invalid). Should a fixture expose a library bug (a wrong place, a panic, a hang),
//! add it as its own test stating the correct behaviour, marked `#[ignore = "library bug: …"]`
//! until it is fixed; none is open today.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use affsim::scenario::ScenarioError;

use crate::util::*;

// ------------------------------------------------------------------------------------- bases

/// An Open plan for the one product of [`MINIMAL`].
const OPEN: &str = r#"
[[open_plans]]
id = "open"
seller = "s"
products = ["p"]
rate = "10%"
"#;

/// A scripted timeline over [`MINIMAL`] + [`OPEN`]: an application, a rate change, an order
/// with its lifecycle, a return and expectations.
const SCRIPT: &str = r#"
[[script.applications]]
at = "2025-10-01 09:00"
creator = "c"
product = "p"

[[script.rate_changes]]
at = "2025-10-03 00:00"
plan = "open"
rate = "12%"

[[script.orders]]
id = "o1"
at = "2025-10-02 10:00"
creator = "c"
product = "p"
quantity = 2
shipped = "2025-10-02 12:00"
delivered = "2025-10-04 10:00"

[[script.returns]]
at = "2025-10-05 10:00"
order = "o1"
quantity = 1

[[expect]]
metric = "orders"
equals = "1"

[[expect]]
fired = "OPEN-1"
"#;

/// A Target invitation over [`MINIMAL`].
const TARGET: &str = r#"
[[target_invitations]]
id = "inv"
seller = "s"
creators = ["c"]
sent = "2025-10-02 10:00"
days = 7
products = [{ product = "p", rate = "15%" }]

[[script.target_responses]]
at = "2025-10-03 10:00"
invitation = "inv"
creator = "c"
accept = true
"#;

/// A distributor campaign and a registration over [`MINIMAL`].
const DIST: &str = r#"
[[distributors]]
id = "d"

[[distributor_campaigns]]
id = "camp"
distributor = "d"
open_to_all = true
registration_start = "2025-10-01"
registration_end = "2025-10-03"
promotion_start = "2025-10-04"
promotion_end = "2025-10-09"
min_creator_rate = "8%"
min_distributor_rate = "2%"

[[script.registrations]]
at = "2025-10-01 10:00"
campaign = "camp"
product = "p"
creator_rate = "10%"
distributor_rate = "3%"
"#;

/// A Collaboration Plus Task for a Plus-enabled seller whose product is in an Open plan at 10%.
const PLUS: &str = r#"[scenario]
name = "plus"
region = "ID"
start = "2025-10-01"
days = 30

[[sellers]]
id = "s"
plus_enabled = true

[[products]]
id = "p"
seller = "s"
price = "1000"

[[creators]]
id = "c"
followers = 5000

[[open_plans]]
id = "open"
seller = "s"
products = ["p"]
rate = "10%"

[[creator_groups]]
id = "g"
seller = "s"

[[plus_campaigns]]
id = "task"
seller = "s"
type = "task"
group = "g"
products = ["p"]
confirmed = "2025-10-01 10:00"
paid = "2025-10-01 16:00"
start = "2025-10-03"
end = "2025-10-17"
budget = "20000"
service_fee = "2000"
rate = "13%"
reward = "1500"
tasks = [{ objective = "orders", target = "1" }]

[[script.plus_joins]]
at = "2025-10-03 10:00"
campaign = "task"
creator = "c"
"#;

fn open() -> String {
    format!("{MINIMAL}{OPEN}")
}
fn script() -> String {
    format!("{MINIMAL}{OPEN}{SCRIPT}")
}
fn target() -> String {
    format!("{MINIMAL}{TARGET}")
}
/// [`target`] with a flat fee.
fn flat_target() -> String {
    edit(&target(), "days = 7\n", "days = 7\nflat_fee = \"500\"\n")
}
/// A scripted order by `c` of `p` from the Target video `video` (a TOML value), to append.
fn video_order(traffic: &str, video: &str) -> String {
    format!(
        "\n[[script.orders]]\nid = \"o\"\nat = \"2025-10-04 10:00\"\ncreator = \"c\"\nproduct = \"p\"\ntraffic = \"{traffic}\"\ntarget_video = {video}\n"
    )
}
fn dist() -> String {
    format!("{MINIMAL}{DIST}")
}
fn plus() -> String {
    PLUS.to_string()
}

/// `n` extra named creators `k1` … `kn`, to append to a base.
fn many_creators(n: usize) -> String {
    (1..=n)
        .map(|i| format!("\n[[creators]]\nid = \"k{i}\"\nfollowers = 100\n"))
        .collect()
}

/// Every base is valid, so each case below is invalid because of its one edit.
#[test]
fn bases_are_valid() {
    let bases = [
        ("minimal", MINIMAL.to_string()),
        ("open", open()),
        ("script", script()),
        ("target", target()),
        (
            "target-video",
            format!("{}{}", flat_target(), video_order("ad", "\"inv\"")),
        ),
        ("dist", dist()),
        ("plus", plus()),
        (
            "target-50",
            replace_once(
                &format!("{}{}", target(), many_creators(49)),
                "creators = [\"c\"]",
                &format!(
                    "creators = [\"c\", {}]",
                    (1..=49)
                        .map(|i| format!("\"k{i}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        ),
    ];
    for (name, text) in bases {
        if let Err(errs) = affsim::scenario::parse(name, &text) {
            let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            panic!(
                "base `{name}` must be valid:\n{}\n---\n{text}",
                msgs.join("\n")
            );
        }
    }
}

// ------------------------------------------------------------------------------------- cases

/// Where the expected error stands among the errors.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    /// It is the first error (what `validate` shows first).
    First,
    /// It is one of the errors (others come first).
    Among,
}

/// One invalid scenario and the error it must produce.
struct Case {
    name: &'static str,
    /// The scenario with a `$0` where the error must point (no marker: no line/column).
    fixture: String,
    /// Fragments the message must contain.
    contains: &'static [&'static str],
    /// The rule ID the error must name; `None`: it must name none.
    rule: Option<&'static str>,
    which: Which,
}

fn case(
    name: &'static str,
    fixture: String,
    contains: &'static [&'static str],
    rule: Option<&'static str>,
) -> Case {
    Case {
        name,
        fixture,
        contains,
        rule,
        which: Which::First,
    }
}

/// Edits `base`: the one occurrence of `from` becomes `to` (which carries the `$0`).
fn edit(base: &str, from: &str, to: &str) -> String {
    replace_once(base, from, to)
}

fn cases() -> Vec<Case> {
    let m = MINIMAL;
    let mut v = vec![
        // ---- unknown keys
        case(
            "unknown-key-top-level",
            format!("# a comment first\n$0colour = \"red\"\n{m}"),
            &["unknown field `colour`", "`scenario`"],
            None,
        ),
        case(
            "unknown-key-in-scenario",
            edit(m, "days = 10\n", "days = 10\n$0timezone = \"UTC\"\n"),
            &["unknown field `timezone`", "`days`"],
            None,
        ),
        case(
            "unknown-key-in-products",
            edit(
                m,
                "price = \"1000\"\n",
                "price = \"1000\"\n$0colour = \"red\"\n",
            ),
            &["unknown field `colour`", "`price`"],
            None,
        ),
        case(
            "unknown-key-in-nested-inline-table",
            edit(
                &target(),
                "{ product = \"p\", rate = \"15%\" }",
                "{ product = \"p\", rate = \"15%\", $0bonus = \"5%\" }",
            ),
            &["unknown field `bonus`", "`rate`"],
            None,
        ),
        // ---- wrong types
        case(
            "string-for-days",
            edit(m, "days = 10", "days = $0\"10\""),
            &["invalid type: string \"10\"", "u32"],
            None,
        ),
        case(
            "array-for-price",
            edit(m, "price = \"1000\"", "price = $0[\"1000\"]"),
            &["invalid type: sequence", "quoted decimal string"],
            None,
        ),
        case(
            "negative-days",
            edit(m, "days = 10", "days = $0-3"),
            &["-3", "u32"],
            None,
        ),
        // ---- money
        case(
            "negative-money",
            edit(m, "price = \"1000\"", "price = $0\"-5\""),
            &["`price` must not be negative", "-5"],
            Some("MONEY-1"),
        ),
        case(
            "negative-coupon",
            edit(
                &script(),
                "quantity = 2\n",
                "quantity = 2\nseller_coupon = $0\"-1\"\n",
            ),
            &["`seller_coupon` must not be negative"],
            Some("MONEY-1"),
        ),
        case(
            "unquoted-money-float",
            edit(m, "price = \"1000\"", "price = $019.99"),
            &["quoted string", "float 19.99", "write \"19.99\""],
            Some("MONEY-1"),
        ),
        case(
            "unquoted-money-integer",
            edit(m, "price = \"1000\"", "price = $01000"),
            &["quoted string", "write \"1000\""],
            Some("MONEY-1"),
        ),
        case(
            "money-too-many-decimals-idr",
            edit(m, "price = \"1000\"", "price = $0\"1000.5\""),
            &["`price` = 1000.5", "minor unit (0)"],
            Some("MONEY-1"),
        ),
        case(
            "money-too-many-decimals-usd",
            edit(
                &edit(m, "region = \"ID\"", "region = \"US\""),
                "price = \"1000\"",
                "price = $0\"19.999\"",
            ),
            &["`price` = 19.999", "minor unit (2)"],
            Some("MONEY-1"),
        ),
        case(
            "money-not-a-number",
            edit(m, "price = \"1000\"", "price = $0\"12,50\""),
            &["`12,50` is not a decimal amount"],
            None,
        ),
        // ---- rates
        case(
            "rate-half-percent",
            edit(
                m,
                "id = \"s\"\n",
                "id = \"s\"\nshop_plan_rate = $0\"0.5%\"\n",
            ),
            &["0.5%", "outside 1%–80%"],
            Some("RATE-1"),
        ),
        case(
            "rate-85-percent",
            edit(&open(), "rate = \"10%\"", "rate = $0\"85%\""),
            &["85%", "outside 1%–80%"],
            Some("RATE-1"),
        ),
        case(
            "rate-without-percent",
            edit(&open(), "rate = \"10%\"", "rate = $0\"10\""),
            &["`10` is not a rate", "\"10%\""],
            None,
        ),
        case(
            "rate-as-number",
            edit(&open(), "rate = \"10%\"", "rate = $00.1"),
            &["quoted percentage", "0.1"],
            None,
        ),
        case(
            "rate-three-decimals",
            edit(&target(), "rate = \"15%\"", "rate = $0\"15.125%\""),
            &["15.125%", "0.01% steps"],
            Some("H-3"),
        ),
        case(
            "rate-change-out-of-range",
            edit(&script(), "rate = \"12%\"", "rate = $0\"81%\""),
            &["81%", "outside 1%–80%"],
            Some("RATE-1"),
        ),
        // ---- windows that end before they start
        case(
            "target-zero-days",
            edit(&target(), "days = 7", "days = $00"),
            &["collaboration's duration", "from 1 to 3650"],
            Some("TARGET-1"),
        ),
        case(
            "distributor-promotion-ends-before-start",
            edit(
                &dist(),
                "promotion_end = \"2025-10-09\"",
                "promotion_end = $0\"2025-10-03\"",
            ),
            &["promotion window ends before it starts"],
            Some("DIST-1"),
        ),
        case(
            "plus-ends-before-start",
            edit(&plus(), "end = \"2025-10-17\"", "end = $0\"2025-10-02\""),
            &["ends before it starts"],
            Some("PLUS-15"),
        ),
        // ---- references to unknown things
        case(
            "unknown-seller",
            edit(m, "seller = \"s\"", "seller = $0\"nobody\""),
            &["unknown seller `nobody`", "known sellers: s"],
            None,
        ),
        case(
            "unknown-product",
            edit(&open(), "products = [\"p\"]", "products = [\"p\", $0\"q\"]"),
            &["unknown product `q`", "known products: p"],
            None,
        ),
        case(
            "unknown-creator",
            edit(
                &script(),
                "at = \"2025-10-01 09:00\"\ncreator = \"c\"",
                "at = \"2025-10-01 09:00\"\ncreator = $0\"maya\"",
            ),
            &["unknown creator `maya`", "known creators: c"],
            None,
        ),
        case(
            "unknown-distributor",
            edit(&dist(), "distributor = \"d\"", "distributor = $0\"kol\""),
            &["unknown distributor `kol`", "known distributors: d"],
            None,
        ),
        case(
            "unknown-plan",
            edit(&script(), "plan = \"open\"", "plan = $0\"closed\""),
            &["unknown open plan `closed`", "known open plans: open"],
            None,
        ),
        case(
            "unknown-campaign",
            edit(&dist(), "campaign = \"camp\"", "campaign = $0\"payday\""),
            &["unknown distributor campaign `payday`"],
            None,
        ),
        case(
            "unknown-invitation",
            edit(
                &target(),
                "invitation = \"inv\"",
                "invitation = $0\"invite\"",
            ),
            &["unknown Target invitation `invite`"],
            None,
        ),
        case(
            "unknown-group",
            edit(&plus(), "group = \"g\"", "group = $0\"beauty\""),
            &["unknown creator group `beauty`", "known creator groups: g"],
            None,
        ),
        case(
            "unknown-plus-campaign",
            edit(&plus(), "campaign = \"task\"", "campaign = $0\"challenge\""),
            &["unknown Collaboration Plus `challenge`"],
            None,
        ),
        case(
            "unknown-order-in-return",
            edit(&script(), "order = \"o1\"", "order = $0\"o2\""),
            &["unknown order `o2`", "known orders: o1"],
            None,
        ),
        // ---- duplicated ids (reported at the second one, naming the first's line)
        case(
            "duplicate-seller",
            format!("{m}\n[[sellers]]\nid = $0\"s\"\n"),
            &["duplicate seller id `s`", "first defined on line 8"],
            None,
        ),
        case(
            "duplicate-product",
            format!("{m}\n[[products]]\nid = $0\"p\"\nseller = \"s\"\nprice = \"5\"\n"),
            &["duplicate product id `p`", "first defined on line 11"],
            None,
        ),
        case(
            "duplicate-order",
            format!(
                "{}\n[[script.orders]]\nid = $0\"o1\"\nat = \"2025-10-03 10:00\"\ncreator = \"c\"\nproduct = \"p\"\n",
                script()
            ),
            &["duplicate order id `o1`", "first defined on line"],
            None,
        ),
        case(
            "duplicate-key",
            edit(m, "days = 10\n", "days = 10\n$0days = 12\n"),
            &["duplicate key"],
            None,
        ),
        // ---- impossible durations
        case(
            "zero-days",
            edit(m, "days = 10", "days = $00"),
            &["`days` must be from 1 to 3650, got 0"],
            None,
        ),
        case(
            "days-4000",
            edit(m, "days = 10", "days = $04000"),
            &["`days` must be from 1 to 3650, got 4000"],
            None,
        ),
        case(
            "days-beyond-u32",
            edit(m, "days = 10", "days = $099999999999"),
            &["99999999999", "u32"],
            None,
        ),
        case(
            "after-sales-too-long",
            edit(
                m,
                "days = 10\n",
                "days = 10\n\n[rules]\nafter_sales_days = $0366\n",
            ),
            &["after_sales_days must be at most 365"],
            Some("SETTLE-2"),
        ),
        // ---- too-large populations
        case(
            "population-60-million",
            format!(
                "{m}\n[populations.creators]\ncount = $060000000\nfollowers = {{ dist = \"fixed\", value = 10.0 }}\n"
            ),
            &["at most 50000000 creators are supported"],
            None,
        ),
        // ---- times
        case(
            "event-before-start",
            edit(
                &script(),
                "at = \"2025-10-02 10:00\"",
                "at = $0\"2025-09-30 10:00\"",
            ),
            &["before the scenario starts (2025-10-01)"],
            Some("TIME-1"),
        ),
        case(
            "not-a-date-time",
            edit(
                &script(),
                "at = \"2025-10-02 10:00\"",
                "at = $0\"2025-10-32 10:00\"",
            ),
            &["`2025-10-32 10:00` is not a date-time"],
            Some("TIME-1"),
        ),
        case(
            "start-not-a-date",
            edit(m, "start = \"2025-10-01\"", "start = $0\"01/10/2025\""),
            &["`01/10/2025` is not a date", "YYYY-MM-DD"],
            None,
        ),
        case(
            "unknown-region",
            edit(m, "region = \"ID\"", "region = $0\"FR\""),
            &["region `FR` has no built-in settings", "scenario.currency"],
            Some("SETTLE-2"),
        ),
        // ---- Target
        case(
            "target-flash-sale-in-bulk-invite",
            edit(
                &edit(
                    &format!("{}{}", target(), many_creators(1)),
                    "creators = [\"c\"]",
                    "creators = [\"c\", \"k1\"]",
                ),
                "days = 7\n",
                "days = 7\nflash_sale = $0true\n",
            ),
            &["LIVE flash sale", "not 2", "no bulk flash sales"],
            Some("TARGET-6"),
        ),
        case(
            "target-flat-fee-without-amount",
            edit(&target(), "days = 7\n", "days = 7\nfee = $0\"flat\"\n"),
            &["`fee = \"flat\"` needs `flat_fee`"],
            Some("TARGET-3"),
        ),
        case(
            "target-video-of-commission-only-invitation",
            format!("{}{}", target(), video_order("ad", "$0\"inv\"")),
            &[
                "`inv` is a commission-only invitation",
                "needs a flat-fee invitation",
            ],
            Some("TARGET-4"),
        ),
        case(
            "target-video-showcase-traffic",
            format!("{}{}", flat_target(), video_order("showcase", "$0\"inv\"")),
            &["`traffic` must be \"video\" or \"ad\", not \"showcase\""],
            Some("TARGET-4"),
        ),
        case(
            "target-video-creator-not-invited",
            edit(
                &format!(
                    "{}{}{}",
                    flat_target(),
                    many_creators(1),
                    video_order("ad", "$0\"inv\"")
                ),
                "creator = \"c\"\nproduct = \"p\"\ntraffic",
                "creator = \"k1\"\nproduct = \"p\"\ntraffic",
            ),
            &["creator `k1` is not invited by `inv`"],
            Some("TARGET-1"),
        ),
        case(
            "target-video-unknown-invitation",
            format!("{}{}", flat_target(), video_order("ad", "$0\"nope\"")),
            &["nope"],
            None,
        ),
        // ---- Collaboration Plus
        case(
            "plus-seller-not-enabled",
            edit(
                &edit(&plus(), "plus_enabled = true\n", ""),
                "seller = \"s\"\ntype",
                "seller = $0\"s\"\ntype",
            ),
            &["seller `s` is not enabled for Collaboration Plus"],
            Some("PLUS-1"),
        ),
        case(
            "plus-rate-not-above-open",
            edit(&plus(), "rate = \"13%\"", "rate = $0\"10%\""),
            &["Plus rate 10% must be higher than the Open rate 10%"],
            Some("PLUS-9"),
        ),
        case(
            "plus-paid-before-confirmed",
            edit(
                &plus(),
                "paid = \"2025-10-01 16:00\"",
                "paid = $0\"2025-10-01 09:00\"",
            ),
            &["payment comes after confirmation"],
            Some("PLUS-15"),
        ),
        case(
            "plus-task-without-reward",
            edit(
                &edit(&plus(), "reward = \"1500\"\n", ""),
                "id = \"task\"",
                "id = $0\"task\"",
            ),
            &["a Task needs `reward`"],
            Some("PLUS-3"),
        ),
        // ---- orders
        case(
            "cancel-after-shipping",
            edit(
                &script(),
                "delivered = \"2025-10-04 10:00\"\n",
                "cancelled = $0\"2025-10-02 13:00\"\n",
            ),
            &["an order can be cancelled only before it ships"],
            Some("ORDER-2"),
        ),
        case(
            "quantity-zero",
            edit(&script(), "quantity = 2", "quantity = $00"),
            &["`quantity` must be at least 1"],
            Some("ORDER-1"),
        ),
        case(
            "coupons-exceed-price",
            edit(
                &edit(
                    &script(),
                    "quantity = 2\n",
                    "quantity = 2\nseller_coupon = \"1500\"\nplatform_coupon = \"600\"\n",
                ),
                "id = \"o1\"",
                "id = $0\"o1\"",
            ),
            &["coupons (2100) exceed the line's price × quantity (2000)"],
            Some("ORDER-1"),
        ),
        case(
            "return-more-than-ordered",
            edit(&script(), "quantity = 1\n", "quantity = $03\n"),
            &["`quantity` must be from 1 to the order's 2"],
            Some("SETTLE-3"),
        ),
        // ---- behaviour
        case(
            "probability-above-one",
            format!("{m}\n[behaviour.buyers]\nconversion_rate = $01.5\n"),
            &["`conversion_rate` is a probability", "1.5"],
            None,
        ),
        case(
            "distribution-max-below-min",
            format!(
                "{m}\n[behaviour.orders]\nship_delay = $0{{ dist = \"uniform\", min = 3.0, max = 1.0 }}\n"
            ),
            &["`ship_delay`", "`max` (1) is below `min` (3)"],
            None,
        ),
        // ---- inside distribution tables: at the key or value at fault, not at the table's `{`
        case(
            "unknown-key-in-distribution",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\napproval = { policy = \"auto\", delay = { dist = \"uniform\", min = 0.0, max = 1.0, $0mode = 0.5 } }\n",
            ),
            &[
                "`delay`",
                "unknown key \"mode\" in a uniform distribution; expected one of: dist, min, max",
            ],
            None,
        ),
        case(
            // reported before the `sigma` it lacks, which the typo was meant to be
            "misspelt-key-in-distribution",
            format!(
                "{m}\n[behaviour.target]\naccept_delay = {{ dist = \"lognormal\", median = 2.0, $0sigmaa = 0.5 }}\n"
            ),
            &[
                "`accept_delay`",
                "unknown key \"sigmaa\" in a lognormal distribution; expected one of: dist, median, sigma",
            ],
            None,
        ),
        case(
            "unknown-key-in-distribution-table-header",
            format!(
                "{m}\n[behaviour.orders.delivery_delay]\ndist = \"uniform\"\nmin = 1\nmax = 2\n$0median = 3\n"
            ),
            &[
                "`delivery_delay`",
                "unknown key \"median\" in a uniform distribution; expected one of: dist, min, max",
            ],
            None,
        ),
        case(
            "string-in-distribution",
            format!(
                "{m}\n[populations.products]\ncount = 10\nprice = {{ dist = \"lognormal\", median = $0\"2\", sigma = 0.5 }}\n"
            ),
            &[
                "`price`",
                "\"median\" in a lognormal distribution must be a number, not a string \"2\"",
            ],
            None,
        ),
        case(
            "missing-key-in-distribution",
            format!(
                "{m}\n[populations.creators]\ncount = 10\nfollowers = $0{{ dist = \"lognormal\", median = 2.0 }}\n"
            ),
            &[
                "`followers`",
                "missing key \"sigma\" in a lognormal distribution; expected: dist, median, sigma",
            ],
            None,
        ),
        case(
            "missing-dist-in-distribution",
            format!("{m}\n[behaviour.orders]\nship_delay = $0{{ min = 1.0, max = 2.0 }}\n"),
            &[
                "`ship_delay`",
                "missing key \"dist\" naming the distribution; expected one of: fixed, uniform, normal, lognormal, exponential, triangular",
            ],
            None,
        ),
        case(
            "unknown-distribution",
            format!(
                "{m}\n[behaviour.orders]\nship_delay = {{ dist = $0\"gamma\", shape = 2.0 }}\n"
            ),
            &[
                "`ship_delay`",
                "unknown distribution \"gamma\"; expected one of: fixed, uniform, normal, lognormal, exponential, triangular",
            ],
            None,
        ),
        case(
            "number-for-distribution",
            format!("{m}\n[behaviour.orders]\nship_delay = $02.5\n"),
            &[
                "invalid type: floating point `2.5`",
                "expected a distribution table such as { dist = \"uniform\", min = 1, max = 3 }",
            ],
            None,
        ),
        // ---- expectations
        case(
            "expect-unknown-metric",
            edit(&script(), "metric = \"orders\"", "metric = $0\"profit\""),
            &["unknown metric `profit`"],
            None,
        ),
        case(
            "expect-unknown-rule-in-fired",
            edit(&script(), "fired = \"OPEN-1\"", "fired = $0\"OPEN-99\""),
            &["`OPEN-99` is not a rule ID of the catalogue"],
            None,
        ),
        case(
            "expect-without-check",
            edit(
                &edit(
                    &script(),
                    "metric = \"orders\"\nequals = \"1\"\n",
                    "metric = \"orders\"\n",
                ),
                "[[expect]]\nmetric",
                "$0[[expect]]\nmetric",
            ),
            &["an expectation needs `equals`"],
            None,
        ),
        // ---- not a scenario at all
        case(
            "empty-file",
            String::new(),
            &["the scenario file is empty"],
            None,
        ),
        case(
            "blank-file",
            " \n\t\n   \n".to_string(),
            &["the scenario file is empty", "[scenario]"],
            None,
        ),
        case(
            "broken-toml-unterminated-string",
            edit(m, "name = \"minimal\"", "name = \"minimal$0"),
            &["string"],
            None,
        ),
        case(
            "broken-toml-header",
            edit(m, "[[creators]]", "[[creators]$0"),
            &["expected `]`"],
            None,
        ),
        case(
            "missing-scenario-table",
            format!("$0{}", &m[m.find("[[sellers]]").unwrap()..]),
            &["missing field `scenario`"],
            None,
        ),
    ];

    // H-8: 51 creators in one invitation (reported at the list)
    let names: Vec<String> = std::iter::once("\"c\"".to_string())
        .chain((1..=50).map(|i| format!("\"k{i}\"")))
        .collect();
    v.push(case(
        "target-51-creators",
        edit(
            &format!("{}{}", target(), many_creators(50)),
            "creators = [\"c\"]",
            &format!("creators = $0[{}]", names.join(", ")),
        ),
        &["an invitation goes to at most 50 creators, this one to 51"],
        Some("H-8"),
    ));

    // ---- no silent leniency (issue 13)
    v.extend([
        case(
            "control-character-in-id",
            edit(m, "id = \"c\"", "id = $0\"c\\u0007\""),
            &["must not contain control characters", "U+0007"],
            None,
        ),
        case(
            "control-character-in-name",
            edit(m, "name = \"minimal\"", "name = $0\"mini\\nmal\""),
            &["scenario name must not contain control characters"],
            None,
        ),
        case(
            "empty-currency",
            edit(m, "region = \"ID\"", "region = \"ID\"\ncurrency = $0\"\""),
            &["is not a currency code"],
            Some("SETTLE-2"),
        ),
        case(
            "expect-min-above-max",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nmin = \"5\"\nmax = $0\"2\"\n"),
            &["`max` 2 is below `min` 5", "could never pass"],
            None,
        ),
        case(
            "expect-mean-min-above-mean-max",
            format!("{m}\n[[expect]]\nmetric = \"gmv\"\nmean_min = \"5\"\nmean_max = $0\"2\"\n"),
            &["`mean_max` 2 is below `mean_min` 5"],
            None,
        ),
        case(
            "expect-equals-not-a-number",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nequals = $0\"three\"\n"),
            &["`equals` = \"three\" is not a number", "could never pass"],
            None,
        ),
        // ---- [[expect_ledger]] and the new expectation keys (issue 14)
        case(
            "expect-ledger-unknown-kind",
            format!("{m}\n[[expect_ledger]]\nkind = $0\"reward\"\n"),
            &["unknown ledger entry kind `reward`", "reward-paid"],
            None,
        ),
        case(
            "expect-ledger-bad-account",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\nto = $0\"wallet\"\n"),
            &["`wallet` is not an account", "reward-budget"],
            None,
        ),
        case(
            "expect-ledger-unknown-creator",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\nto = $0\"creator:zed\"\n"),
            &["unknown creator `zed`"],
            None,
        ),
        case(
            "expect-ledger-bad-time",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\nat = $0\"10 October\"\n"),
            &["is not a date-time"],
            Some("TIME-1"),
        ),
        case(
            "expect-ledger-at-and-between",
            format!(
                "{m}\n[[expect_ledger]]\nkind = \"commission\"\nat = \"2025-10-02\"\nbetween = $0[\"2025-10-01\", \"2025-10-03\"]\n"
            ),
            &["`at` with `between`"],
            None,
        ),
        case(
            "expect-ledger-between-one-time",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\nbetween = $0[\"2025-10-01\"]\n"),
            &["`between` takes two times", "both included"],
            None,
        ),
        case(
            "expect-ledger-between-backwards",
            format!(
                "{m}\n[[expect_ledger]]\nkind = \"commission\"\nbetween = [\"2025-10-03\", $0\"2025-10-01\"]\n"
            ),
            &["`between` ends", "could never pass"],
            None,
        ),
        case(
            "expect-ledger-negative-amount",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\namount = $0\"-5\"\n"),
            &["never negative"],
            None,
        ),
        case(
            "expect-ledger-unknown-key",
            format!("{m}\n[[expect_ledger]]\nkind = \"commission\"\n$0when = \"2025-10-01\"\n"),
            &["unknown field `when`"],
            None,
        ),
        case(
            "expect-message-without-refusal",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nequals = \"0\"\nmessage = $0\"x\"\n"),
            &["`message` is for `refusal` expectations"],
            None,
        ),
        case(
            "expect-plus-rank-without-creator",
            format!("{}\n[[expect]]\nplus = \"task\"\nfield = $0\"rank\"\n", plus()),
            &["`rank` need `creator`"],
            None,
        ),
        case(
            "expect-equals-with-min",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nequals = \"1\"\nmin = $0\"0\"\n"),
            &["`min` with `equals`"],
            None,
        ),
        case(
            "invitation-product-twice",
            edit(
                &target(),
                "products = [{ product = \"p\", rate = \"15%\" }]",
                "products = [{ product = \"p\", rate = \"15%\" }, { product = $0\"p\", rate = \"20%\" }]",
            ),
            &["product `p` is listed twice in this invitation"],
            Some("TARGET-1"),
        ),
        case(
            "open-plan-all-products-with-products",
            edit(&open(), "products = [\"p\"]", "all_products = true\nproducts = [$0\"p\"]"),
            &["`all_products = true` with `products`"],
            Some("OPEN-1"),
        ),
        case(
            "open-plan-product-in-two-groups-at-two-rates",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\ngroups = [{ products = [\"p\"], rate = \"12%\" }, { products = [$0\"p\"], rate = \"14%\" }]\n",
            ),
            &["product `p` is in two groups of this plan"],
            Some("OPEN-1"),
        ),
        case(
            "approval-key-the-policy-ignores",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\napproval = { policy = \"auto\", min_followers = $0500 }\n",
            ),
            &["`min_followers` has no effect with `policy = \"auto\"`"],
            None,
        ),
        case(
            "seconds-in-a-time",
            edit(&script(), "at = \"2025-10-01 09:00\"", "at = $0\"2025-10-01 09:00:30\""),
            &["has seconds", "whole minutes"],
            Some("TIME-1"),
        ),
        case(
            "unquoted-date",
            edit(m, "start = \"2025-10-01\"", "start = $02025-10-01"),
            &["unquoted TOML date", "\"2025-10-01\""],
            None,
        ),
        case(
            "return-before-its-order",
            edit(&script(), "at = \"2025-10-05 10:00\"\norder = \"o1\"", "at = $0\"2025-10-01 10:00\"\norder = \"o1\""),
            &["the return is dated before order `o1` is placed (2025-10-02 10:00)"],
            Some("ORDER-2"),
        ),
    ]);

    // ---- no silent leniency, the class re-attacked (issue 13, round 2): neighbours of the above
    v.extend([
        case(
            "open-plan-product-twice",
            edit(&open(), "products = [\"p\"]", "products = [\"p\", $0\"p\"]"),
            &["product `p` is listed twice in `products`"],
            Some("OPEN-1"),
        ),
        case(
            "open-plan-product-in-two-groups-at-one-rate",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\ngroups = [{ products = [\"p\"], rate = \"12%\" }, { products = [$0\"p\"], rate = \"12%\" }]\n",
            ),
            &["product `p` is listed twice in the groups of this plan"],
            Some("OPEN-1"),
        ),
        case(
            "expect-equals-a-fraction-of-a-count",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nequals = $0\"1.5\"\n"),
            &["`equals` = \"1.5\", but `orders` is a count", "could never pass"],
            None,
        ),
        case(
            "expect-count-max-below-zero",
            format!("{m}\n[[expect]]\nmetric = \"orders\"\nmax = $0\"-1\"\n"),
            &["`max` = \"-1\", but `orders` is a count", "could never pass"],
            None,
        ),
        case(
            "unquoted-time",
            edit(&script(), "at = \"2025-10-01 09:00\"", "at = $009:00:00"),
            &["`09:00:00` is an unquoted TOML time", "\"2025-10-01 09:00\""],
            None,
        ),
        case(
            "empty-scenario-name",
            edit(m, "name = \"minimal\"", "name = $0\"  \""),
            &["the scenario name must not be empty"],
            None,
        ),
    ]);

    // ---- mid-campaign changes and audiences (issue 14, items 5 and 6)
    v.extend([
        case(
            "generated-plus-rate-change",
            format!("{m}\n[[script.rate_changes]]\nat = \"2025-10-02 00:00\"\ngenerated = $0\"plus\"\nrate = \"12%\"\n"),
            &["`generated` is \"open\", \"shop\" or \"target\", got \"plus\""],
            None,
        ),
        case(
            "by-without-generated",
            edit(&script(), "plan = \"open\"\nrate = \"12%\"", "plan = \"open\"\nrate = \"12%\"\nby = $0\"+1%\""),
            &["`by` belongs to a change of generated plans"],
            Some("OPEN-4"),
        ),
        case(
            "generated-by-three-decimals",
            format!("{m}\n[[script.rate_changes]]\nat = \"2025-10-02 00:00\"\ngenerated = \"open\"\nby = $0\"+1.005%\"\n"),
            &["`by` is a non-zero change of at most 79 rate points in 0.01% steps"],
            Some("H-3"),
        ),
        case(
            "generated-unknown-category",
            format!("{m}\n[[script.rate_changes]]\nat = \"2025-10-02 00:00\"\ngenerated = \"shop\"\ncategory = $0\"toys\"\nrate = \"7%\"\n"),
            &["unknown category `toys`"],
            None,
        ),
        case(
            "seller-policy-unknown-plan-kind",
            format!("{m}\n[[seller_policies]]\nseller = \"s\"\nplans = [\"shop\", $0\"ads\"]\npolicy = \"target-return\"\n"),
            &["unknown plan kind `ads`"],
            None,
        ),
        case(
            "seller-policy-plan-with-other-kinds",
            format!("{}\n[[seller_policies]]\nplan = \"open\"\nplans = $0[\"open\", \"shop\"]\npolicy = \"target-return\"\n", open()),
            &["sets that plan's rates only: name the `seller`"],
            None,
        ),
        case(
            "registration-edit-total-without-split",
            format!("{}\n[[script.registration_edits]]\nat = \"2025-10-02 10:00\"\ncampaign = \"camp\"\nproduct = \"p\"\ntotal_rate = $0\"12%\"\n", dist()),
            &["`total_rate` belongs to rules.distributor_split = \"distributor\""],
            Some("H-9"),
        ),
        case(
            "plus-join-with-rate",
            edit(&plus(), "[[script.plus_joins]]\n", "[[script.plus_joins]]\nrate = $0\"20%\"\n"),
            &["`rate` and `shop_ads_rate` belong to plus_edits"],
            Some("PLUS-15"),
        ),
        case(
            "audience-age-weights-three",
            format!("{m}\n[populations.creators]\ncount = 10\nfollowers = {{ dist = \"fixed\", value = 100.0 }}\naudience_age_weights = $0[1.0, 1.0, 1.0]\n"),
            &["`audience_age_weights` gives 4 non-negative weights"],
            Some("TARGET-8"),
        ),
        case(
            "audience-female-above-one",
            format!("{m}\n[populations.creators]\ncount = 10\nfollowers = {{ dist = \"fixed\", value = 100.0 }}\naudience_female = $0{{ dist = \"uniform\", min = 0.2, max = 1.5 }}\n"),
            &["`audience_female` is a share of followers"],
            Some("TARGET-8"),
        ),
        case(
            "profile-tolerance-above-100",
            format!("{m}\n[[target_policies]]\nseller = \"s\"\nprofile_tolerance = $0101\n"),
            &["profile_tolerance"],
            Some("TARGET-8"),
        ),
    ]);

    // Counts beyond the limit whose combination also exceeds the memory estimate: the
    // estimate is reported (at the [scenario] table) after the per-count errors.
    v.push(Case {
        which: Which::Among,
        ..case(
            "population-memory-estimate",
            format!(
                "$0{m}\n[populations.products]\ncount = 4000000000\nprice = {{ dist = \"fixed\", value = 10.0 }}\n\n[populations.creators]\ncount = 4000000000\nfollowers = {{ dist = \"fixed\", value = 10.0 }}\n"
            ),
            &[
                "the populations would need about",
                "GiB per replication",
                "products 4000000001, creators 4000000001",
                "the limit is 16 GiB",
            ],
            None,
        )
    });
    v
}

/// Runs `parse` on `text`, turning a panic into an `Err` with the panic's message.
pub fn parse_no_panic(
    file: &str,
    text: &str,
) -> Result<Result<affsim::scenario::Scenario, Vec<ScenarioError>>, String> {
    catch_unwind(AssertUnwindSafe(|| affsim::scenario::parse(file, text))).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

/// Checks one case through the library; returns what is wrong, if anything.
fn check_case(c: &Case) -> Result<(), String> {
    let (text, cursor) = extract_cursor(&c.fixture);
    let file = format!("{}.toml", c.name);
    let errs = match parse_no_panic(&file, &text) {
        Err(panic) => return Err(format!("parse panicked: {panic}")),
        Ok(Ok(_)) => return Err("the scenario was accepted".to_string()),
        Ok(Err(errs)) => errs,
    };
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let all = || format!("errors:\n  {}", shown.join("\n  "));
    if errs.is_empty() {
        return Err("Err with no errors".to_string());
    }
    let at = |e: &ScenarioError| match cursor {
        Some((l, col)) => e.line == Some(l) && e.column == Some(col),
        None => e.line.is_none() && e.column.is_none(),
    };
    let e = match c.which {
        Which::First => &errs[0],
        Which::Among => errs
            .iter()
            .find(|e| at(e))
            .ok_or_else(|| format!("no error at {cursor:?} (line, column); {}", all()))?,
    };
    let mut problems = Vec::new();
    if e.file != file {
        problems.push(format!("names the file {:?}, not {file:?}", e.file));
    }
    if !at(e) {
        problems.push(format!(
            "is at {:?}:{:?}, expected {cursor:?}",
            e.line, e.column
        ));
    }
    for frag in c.contains {
        if !e.message.contains(frag) {
            problems.push(format!("message lacks {frag:?}"));
        }
    }
    let rule = e.rule.map(|r| r.as_str());
    if rule != c.rule {
        problems.push(format!("names rule {rule:?}, expected {:?}", c.rule));
    }
    // the display: `file:line:col: message [RULE]` and, with a place, the snippet of that line
    let d = e.to_string();
    let head = match cursor {
        Some((l, col)) => format!("{file}:{l}:{col}: "),
        None => format!("{file}: "),
    };
    if !d.starts_with(&head) {
        problems.push(format!("displays as {d:?}, not starting with {head:?}"));
    }
    if let Some((l, _)) = cursor {
        let src_line = text.lines().nth(l - 1).unwrap_or_default();
        if e.snippet.as_deref() != Some(src_line.trim_end_matches('\r')) {
            problems.push(format!("snippet {:?}, expected {src_line:?}", e.snippet));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("the error {}; {}", problems.join("; "), all()))
    }
}

/// Checks every case of a table; fails with every mismatch, each with its fixture.
fn check_table(cases: &[Case]) {
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            check_case(c).err().map(|e| {
                format!(
                    "- {}: {e}\n  fixture:\n    {}",
                    c.name,
                    c.fixture.replace('\n', "\n    ")
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} bad inputs are not rejected as expected:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn catalogue_through_the_library() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    check_table(&cases);
}

/// Every key that takes a distribution reports a problem inside its table at the key at fault.
#[test]
fn every_distribution_key_points_inside_its_table() {
    let m = MINIMAL;
    let bad = "{ dist = \"uniform\", min = 0.0, max = 1.0, $0mode = 0.5 }";
    // (the key, a fixture where `@` stands for the key's distribution)
    let sites: Vec<(&str, String)> = vec![
        (
            "price",
            format!("{m}\n[populations.products]\ncount = 10\nprice = @\n"),
        ),
        (
            "followers",
            format!("{m}\n[populations.creators]\ncount = 10\nfollowers = @\n"),
        ),
        (
            "delay",
            format!("{m}\n[populations.sellers]\ncount = 2\napproval = {{ delay = @ }}\n"),
        ),
        (
            "delay",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\napproval = { delay = @ }\n",
            ),
        ),
        (
            "shipping_delay",
            edit(
                &open(),
                "rate = \"10%\"\n",
                "rate = \"10%\"\nsamples = { quantity = 1, shipping_delay = @ }\n",
            ),
        ),
        (
            "join_delay",
            format!("{m}\n[behaviour.plus]\njoin_delay = @\n"),
        ),
        (
            "register_delay",
            format!("{m}\n[behaviour.distributors]\nregister_delay = @\n"),
        ),
        (
            "review_delay",
            format!("{m}\n[behaviour.distributors]\nreview_delay = @\n"),
        ),
        (
            "accept_delay",
            format!("{m}\n[behaviour.target]\naccept_delay = @\n"),
        ),
        (
            "video_delay",
            format!("{m}\n[behaviour.target]\nvideo_delay = @\n"),
        ),
        (
            "review_delay",
            format!("{m}\n[behaviour.target]\nreview_delay = @\n"),
        ),
        (
            "seller_review_delay",
            format!("{m}\n[behaviour.target]\nseller_review_delay = @\n"),
        ),
        (
            "platform_review_delay",
            format!("{m}\n[behaviour.target]\nplatform_review_delay = @\n"),
        ),
        (
            "cancel_delay",
            format!("{m}\n[behaviour.orders]\ncancel_delay = @\n"),
        ),
        (
            "ship_delay",
            format!("{m}\n[behaviour.orders]\nship_delay = @\n"),
        ),
        (
            "delivery_delay",
            format!("{m}\n[behaviour.orders]\ndelivery_delay = @\n"),
        ),
    ];
    let good = "{ dist = \"uniform\", min = 0.0, max = 1.0 }";
    let mut failures = Vec::new();
    for (key, site) in &sites {
        let valid = replace_once(site, "@", good);
        if let Err(errs) = affsim::scenario::parse("valid.toml", &valid) {
            failures.push(format!(
                "- `{key}` with a valid distribution is rejected: {}",
                errs[0]
            ));
            continue;
        }
        let c = Case {
            name: "unknown-key-at-a-distribution-site",
            fixture: replace_once(site, "@", bad),
            contains: &["unknown key \"mode\" in a uniform distribution"],
            rule: None,
            which: Which::First,
        };
        if let Err(e) = check_case(&c) {
            failures.push(format!(
                "- `{key}`: {e}\n  fixture:\n    {}",
                c.fixture.replace('\n', "\n    ")
            ));
            continue;
        }
        let errs = affsim::scenario::parse("x.toml", &extract_cursor(&c.fixture).0).unwrap_err();
        if !errs[0].message.starts_with(&format!("`{key}`: ")) {
            failures.push(format!(
                "- `{key}`: the message does not name the key: {}",
                errs[0]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A handful of the cases through the real binary: exit code 2, `error: FILE:LINE:COL: …`,
/// the rule and the snippet (the shared `check_invalid` helper).
#[test]
fn catalogue_through_the_binary() {
    let chosen = [
        "unknown-key-in-nested-inline-table",
        "unknown-key-in-distribution",
        "string-for-days",
        "unquoted-money-float",
        "rate-three-decimals",
        "unknown-group",
        "duplicate-order",
        "population-60-million",
        "target-51-creators",
        "plus-paid-before-confirmed",
        "cancel-after-shipping",
        "expect-unknown-rule-in-fired",
        "empty-file",
    ];
    let cases = cases();
    for name in chosen {
        let c = cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        assert_eq!(c.which, Which::First);
        check_invalid(
            &format!("bad-{name}"),
            &c.fixture,
            Expect {
                contains: c.contains,
                rule: c.rule,
            },
        );
    }
}

/// Issue 13's class 6 (no silent leniency) through the real binary, every case tried and every
/// miss reported: this is the test docs/reliability.md runs against the build before issue 13
/// (`AFFSIM_TEST_BIN`), where each of these scenarios was accepted.
#[test]
fn no_silent_leniency_through_the_binary() {
    let cases = cases();
    let start = cases
        .iter()
        .position(|c| c.name == "control-character-in-id")
        .expect("the issue 13 cases");
    let end = cases
        .iter()
        .position(|c| c.name == "return-before-its-order")
        .expect("the issue 13 cases");
    let mut missed = Vec::new();
    for c in &cases[start..=end] {
        let r = catch_unwind(AssertUnwindSafe(|| {
            check_invalid(
                &format!("lenient-{}", c.name),
                &c.fixture,
                Expect {
                    contains: c.contains,
                    rule: c.rule,
                },
            )
        }));
        if let Err(p) = r {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "a failed check".to_string());
            missed.push(format!(
                "- {}: {}",
                c.name,
                why.lines().next().unwrap_or("")
            ));
        }
    }
    // an encoding error is placed at its line and column
    let dir = TempDir::new("lenient-encoding");
    let file = dir.join("latin1.toml");
    std::fs::write(&file, b"[scenario]\nname = \"a\xffb\"\n").unwrap();
    let o = affsim(&["validate", arg(&file)]);
    let want = format!(
        "error: {}:2:10: the scenario file is not UTF-8",
        file.display()
    );
    if o.code != 2 || !o.stderr.contains(&want) {
        missed.push(format!(
            "- not-utf8: expected {want:?}; got exit {} {}",
            o.code,
            o.stderr.trim()
        ));
    }
    assert!(
        missed.is_empty(),
        "{} of {} lenient inputs not refused:\n{}",
        missed.len(),
        end - start + 2,
        missed.join("\n")
    );
}

// ------------------------------------------------------------- inputs the library mishandles
//
// Each test states the correct behaviour. While the library gets it wrong the test is ignored
// with the reason; run them with `cargo test --test integration bad_inputs -- --ignored`.

/// The largest amount `rust_decimal` holds (its `MAX`): a valid `Money` on its own.
const DECIMAL_MAX: &str = "79228162514264337593543950335";

/// Runs `affsim` with `args`, killing it after `limit`: `None` when it had to be killed.
pub fn affsim_bounded(args: &[&str], limit: Duration) -> Option<Output> {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_affsim"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot start the affsim binary");
    // drain the pipes on threads so a chatty child cannot block on a full pipe
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("cannot wait for affsim") {
            break Some(st);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    status.map(|st| Output {
        code: st.code().unwrap_or(-1),
        stdout,
        stderr,
    })
}

/// `affsim run FILE` must end within `limit` with 0 (it ran) or 2 (it was refused): never a
/// panic (101), a signal, or no end. Returns the output.
fn run_ends_cleanly(test: &str, text: &str, limit: Duration) -> Output {
    let dir = TempDir::new(test);
    let file = dir.write("scenario.toml", text);
    let out_dir = dir.join("report");
    let out = affsim_bounded(
        &[
            "run",
            arg(&file),
            "--out",
            arg(&out_dir),
            "--quiet",
            "--threads",
            "1",
        ],
        limit,
    )
    .unwrap_or_else(|| {
        panic!("`affsim run` did not finish within {limit:?} (killed)\n---\n{text}")
    });
    assert!(
        out.code == 0 || out.code == 2,
        "`affsim run` must exit 0 or 2, not crash\n{out}\n---\n{text}"
    );
    assert!(!out.stderr.contains("panicked"), "{out}");
    out
}

/// Price × quantity of a scripted order beyond what a decimal holds: validation must report it
/// (at the price or the quantity), not panic with "Multiplication overflowed".
#[test]
fn huge_price_times_quantity_is_an_error() {
    let text = format!(
        "{}\n[[script.orders]]\nid = \"o\"\nat = \"2025-10-02\"\ncreator = \"c\"\nproduct = \"p\"\nquantity = 2\n",
        replace_once(
            MINIMAL,
            "price = \"1000\"",
            &format!("price = \"{DECIMAL_MAX}\"")
        )
    );
    let errs = match parse_no_panic("huge.toml", &text) {
        Err(panic) => panic!("parse panicked: {panic}"),
        Ok(Ok(_)) => panic!("a line whose price × quantity overflows was accepted"),
        Ok(Err(errs)) => errs,
    };
    let price_line = line_col(&text, text.find(DECIMAL_MAX).unwrap()).0;
    let qty_line = line_col(&text, text.find("quantity = 2").unwrap()).0;
    assert!(
        errs[0].line == Some(price_line) || errs[0].line == Some(qty_line),
        "the error points at the price or the quantity: {}",
        errs[0]
    );
    let file = TempDir::new("huge-price-validate");
    let path = file.write("s.toml", &text);
    let out = affsim(&["validate", arg(&path)]);
    assert_eq!(out.code, 2, "{out}");
}

/// A price that validates but overflows once shipping is added: the run must not panic
/// ("Addition overflowed"); either validation bounds amounts or the run copes.
#[test]
fn huge_price_plus_shipping_does_not_crash_the_run() {
    let text = format!(
        "{}{OPEN}\n[[script.orders]]\nid = \"o\"\nat = \"2025-10-02\"\ncreator = \"c\"\nproduct = \"p\"\nshipping = \"1\"\n",
        replace_once(
            MINIMAL,
            "price = \"1000\"",
            &format!("price = \"{DECIMAL_MAX}\"")
        )
    );
    run_ends_cleanly("huge-price-run", &text, Duration::from_secs(30));
}

/// A start date that chrono can hold but whose run goes past chrono's last date: validation
/// must refuse it (or the run must work), not panic with "`NaiveDate + TimeDelta` overflowed".
#[test]
fn start_date_at_the_end_of_the_calendar() {
    let text = replace_once(
        MINIMAL,
        "start = \"2025-10-01\"",
        "start = \"+262142-12-20\"",
    );
    run_ends_cleanly("calendar-end", &text, Duration::from_secs(30));
}

/// A scripted event dated thousands of years after the end: the docs allow events after the
/// last day (drained), but a run must not then snapshot millions of days — it must be refused
/// up front or finish promptly.
#[test]
fn event_far_after_the_end_does_not_hang() {
    let text = format!(
        "{MINIMAL}\n[[script.orders]]\nid = \"o\"\nat = \"9999-12-31 10:00\"\ncreator = \"c\"\nproduct = \"p\"\n"
    );
    run_ends_cleanly("far-event", &text, Duration::from_secs(20));
}

/// One post whose expected orders are in the billions (4 294 967 295 followers, every view
/// converts): the scenario must be refused up front, as oversized populations are, or run in
/// bounded time and memory.
#[test]
fn order_volume_is_bounded() {
    let text = format!(
        "{}{OPEN}\n[behaviour.buyers]\nviews_per_follower = 1.0\nconversion_rate = 1.0\n\n\
         [[script.applications]]\nat = \"2025-10-01\"\ncreator = \"c\"\nproduct = \"p\"\n\n\
         [[script.posts]]\nat = \"2025-10-02\"\ncreator = \"c\"\nproduct = \"p\"\n",
        replace_once(MINIMAL, "followers = 1000", "followers = 4294967295")
    );
    run_ends_cleanly("order-volume", &text, Duration::from_secs(20));
}

/// A generated price the money type cannot hold (1e30 units) must be refused at validation;
/// today every such product silently costs one minor unit.
#[test]
fn population_price_beyond_money_is_refused() {
    let text = format!(
        "{MINIMAL}\n[populations.products]\ncount = 10\nprice = {{ dist = \"fixed\", value = 1e30 }}\n"
    );
    let errs = match parse_no_panic("price-pop.toml", &text) {
        Err(panic) => panic!("parse panicked: {panic}"),
        Ok(Ok(_)) => panic!("a price distribution of 1e30 (beyond the money type) was accepted"),
        Ok(Err(errs)) => errs,
    };
    let line = line_col(&text, text.find("price = {").unwrap()).0;
    assert_eq!(errs[0].line, Some(line), "{}", errs[0]);
}

/// Views per follower so large that views × conversion overflow to infinity: the model then
/// yields zero orders, silently. The scenario must be refused at validation, naming the key.
#[test]
fn overflowing_views_do_not_silently_give_zero_orders() {
    let text = format!(
        "{}{OPEN}\n[behaviour.buyers]\nviews_per_follower = 1e300\nconversion_rate = 1.0\n\n\
         [[script.applications]]\nat = \"2025-10-01\"\ncreator = \"c\"\nproduct = \"p\"\n\n\
         [[script.posts]]\nat = \"2025-10-02\"\ncreator = \"c\"\nproduct = \"p\"\n",
        replace_once(MINIMAL, "followers = 1000", "followers = 4294967295")
    );
    let out = run_ends_cleanly("views-overflow", &text, Duration::from_secs(20));
    if out.code == 0 {
        panic!("the scenario ran; it must be refused (it gave 0 orders before)\n{out}");
    }
    assert!(
        out.stderr.contains("views_per_follower"),
        "the refusal names the key\n{out}"
    );
}

/// Deeply nested arrays and inline tables are refused with an error, not a stack overflow
/// (which would abort the process): through the library on a thread with the default 2 MiB
/// stack, and through the binary.
#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    for (name, nested) in [
        (
            "arrays",
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        ),
        (
            "tables",
            format!("{}1{}", "{a = ".repeat(depth), "}".repeat(depth)),
        ),
    ] {
        let text = format!("{MINIMAL}x = {nested}\n");
        let t = text.clone();
        let res = std::thread::spawn(move || {
            affsim::scenario::parse("deep.toml", &t)
                .map(|_| ())
                .map_err(|errs| {
                    errs.into_iter()
                        .map(|e| (e.line, e.message))
                        .collect::<Vec<_>>()
                })
        })
        .join()
        .unwrap_or_else(|_| panic!("parse panicked on nested {name}"));
        let errs = res.expect_err("nesting in an unknown key is refused");
        let line = MINIMAL.lines().count() + 1;
        assert_eq!(errs[0].0, Some(line), "{name}: {:?}", errs[0]);
        let dir = TempDir::new(&format!("deep-{name}"));
        let file = dir.write("deep.toml", &text);
        let out = affsim(&["validate", arg(&file)]);
        assert_eq!(out.code, 2, "{name}: exit {}", out.code);
        assert!(
            out.stderr
                .starts_with(&format!("error: {}:{line}:", file.display())),
            "{name}: {}",
            &out.stderr[..out.stderr.len().min(300)]
        );
    }
}

/// The populations' memory estimate is reachable only with counts already over their limit:
/// at 64 + 96 + 112 bytes per seller, product and creator, the largest allowed populations
/// (50 000 000 of each) are estimated at 12.7 GiB, under the 16 GiB limit. Measured (the
/// binary this suite builds, peak RSS by `/usr/bin/time`, 1 000 000 of each, one replication,
/// one day, default behaviour): 391 952 KiB, i.e. about 400 bytes per seller + product +
/// creator, so 50 000 000 of each needs about 18.6 GiB per replication (more than the machine's
/// 24 GiB with two replications in parallel). Such a
/// scenario must be refused up front with the estimate, as the docs promise ("the populations
/// must fit an estimated 16 GiB per replication").
#[test]
fn largest_allowed_populations_are_refused_by_the_memory_estimate() {
    let text = format!(
        "$0{MINIMAL}\n[populations.sellers]\ncount = 50000000\n\n[populations.products]\ncount = 50000000\n\
         price = {{ dist = \"fixed\", value = 10.0 }}\n\n[populations.creators]\ncount = 50000000\n\
         followers = {{ dist = \"fixed\", value = 10.0 }}\n"
    );
    check_table(&[case(
        "largest-populations",
        text,
        &["GiB per replication", "the limit is 16 GiB"],
        None,
    )]);
}
