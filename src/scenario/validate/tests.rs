//! Unit tests of the validation parts: small raw TOML snippets → resolved value or located error.

use super::super::*;

const BASE: &str = "[scenario]\nname = \"t\"\nregion = \"ID\"\nstart = \"2025-10-01\"\ndays = 5\n";

/// Two sellers (one Plus-enabled with a Shop plan), three products, two creators, a distributor.
const AGENTS: &str = r#"
[[sellers]]
id = "glow"
shop_plan_rate = "5%"
plus_enabled = true

[[sellers]]
id = "threads"

[[products]]
id = "serum"
seller = "glow"
price = "150000"
category = "beauty"

[[products]]
id = "lipstick"
seller = "glow"
price = "89000"
category = "beauty"

[[products]]
id = "scarf"
seller = "threads"
price = "120000"

[[creators]]
id = "ayu"
followers = 25000
categories = ["beauty"]
live = true

[[creators]]
id = "budi"
followers = 8000

[[distributors]]
id = "kol-hub"
"#;

fn text(extra: &str) -> String {
    format!("{BASE}{AGENTS}{extra}")
}

fn ok(extra: &str) -> Scenario {
    parse("t.toml", &text(extra)).unwrap_or_else(|e| panic!("expected valid, got {e:?}"))
}

/// The first error, and the 1-based line of the last occurrence of `at` in the text.
fn first_err(extra: &str, at: &str) -> (ScenarioError, usize) {
    let src = text(extra);
    let errs = parse("t.toml", &src).expect_err("expected an error");
    let pos = src
        .rfind(at)
        .unwrap_or_else(|| panic!("`{at}` not in the text"));
    (errs[0].clone(), src[..pos].matches('\n').count() + 1)
}

fn pct(s: &str) -> Rate {
    s.parse().expect("a rate")
}

/// Asserts the first error: its message contains `msg`, it is on the line of `at`, with `rule`.
fn assert_err(extra: &str, at: &str, msg: &str, rule: Option<RuleId>) {
    let (e, line) = first_err(extra, at);
    assert!(e.message.contains(msg), "message: {}", e.message);
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.rule, rule, "{e}");
}

// ---- region, calendar, rules

#[test]
fn region_defaults_come_from_the_built_in_table() {
    let sc = ok("");
    assert_eq!(sc.region.currency, "IDR");
    assert_eq!(sc.region.minor_unit, 0);
    assert_eq!(sc.opts.after_sales_days, 6);
    assert_eq!(sc.replications, 1);
    assert!(sc.opts.decrease_lock.is_none());
    assert_eq!(sc.opts.sample_post_days, 14);
    let lock = ok("[rules]\nopen_decrease_lock = true\n")
        .opts
        .decrease_lock
        .expect("lock on");
    assert_eq!((lock.days, lock.warn_days), (30, 2));
}

#[test]
fn region_errors_are_located() {
    let src = "[scenario]\nname = \"t\"\nregion = \"XX\"\nstart = \"2025-10-01\"\ndays = 5\n";
    let e = &parse("t.toml", src).expect_err("unknown region")[0];
    assert_eq!(e.line, Some(3));
    assert_eq!(e.rule, Some(RuleId::Settle2));
    assert!(e.message.contains("region `XX` has no built-in settings"));
    assert_err(
        "[rules]\nopen_decrease_lock_days = 3\nopen_decrease_warning_days = 3\n",
        "open_decrease_warning_days",
        "the warning must come before the lock ends",
        Some(RuleId::H4),
    );
}

// ---- named agents

#[test]
fn named_agents_take_the_first_ids_and_intern_categories() {
    let sc = ok("");
    assert_eq!(sc.named.sellers.len(), 2);
    assert_eq!(sc.named.products[2].seller, SellerId(1));
    // categories in order of first mention; a product without one is "general"
    assert_eq!(sc.categories, vec!["beauty", "general"]);
    assert_eq!(sc.named.creators[0].categories, 1);
    assert_eq!(sc.named.creators[1].level, 1);
    assert_eq!(sc.named.distributors, vec!["kol-hub"]);
}

#[test]
fn an_unknown_seller_is_located_and_lists_the_known_ones() {
    assert_err(
        "[[products]]\nid = \"x\"\nseller = \"nobody\"\nprice = \"1\"\n",
        "seller = \"nobody\"",
        "unknown seller `nobody` (known sellers: glow, threads)",
        None,
    );
    assert_err(
        "[[sellers]]\nid = \"glow\"\n",
        "id = \"glow\"",
        "duplicate seller id `glow` (first defined on line 8)",
        None,
    );
}

// ---- populations

#[test]
fn population_defaults_and_limits() {
    let sc = ok("[populations.sellers]\ncount = 3\n");
    let s = sc.populations.sellers.expect("sellers");
    assert_eq!(s.shop_plan_share, 0.5);
    assert_eq!(s.shop_plan_rate, (pct("5%"), pct("10%")));
    assert_eq!(s.approval, Approval::default());
    assert_err(
        "[populations.creators]\ncount = 60000000\nfollowers = { dist = \"fixed\", value = 10 }\n",
        "count = 60000000",
        "at most 50000000 creators are supported",
        None,
    );
}

// ---- Open plans

#[test]
fn open_listings_take_product_then_group_then_plan_rates() {
    let sc = ok(
        "[[open_plans]]\nid = \"o\"\nseller = \"glow\"\nall_products = true\nrate = \"10%\"\nproduct_rates = { serum = \"12%\" }\n",
    );
    let plan = &sc.open_plans[0];
    assert_eq!(plan.seller, SellerId(0));
    assert_eq!(
        plan.listings,
        vec![(ProductId(0), pct("12%")), (ProductId(1), pct("10%"))]
    );
    assert_err(
        "[[open_plans]]\nid = \"o\"\nseller = \"glow\"\nproducts = [\"scarf\"]\nrate = \"10%\"\n",
        "products = [\"scarf\"]",
        "product `scarf` belongs to another seller",
        Some(RuleId::Open1),
    );
}

// ---- Target invitations

const INVITATION: &str = "[[target_invitations]]\nid = \"inv\"\nseller = \"glow\"\ncreators = [\"ayu\"]\nsent = \"2025-10-02\"\ndays = 7\n";

#[test]
fn target_invitation_resolves_into_the_rules_type() {
    let sc = ok(&format!(
        "{INVITATION}products = [{{ product = \"serum\", rate = \"15%\" }}]\n"
    ));
    let inv = &sc.invitations[0];
    assert_eq!(inv.creators, vec![CreatorId(0)]);
    assert_eq!(inv.submit_days, 7);
    assert_eq!(inv.fee, crate::rules::target::Fee::CommissionOnly);
    assert_eq!(inv.ends, inv.sent.plus_days(7));
}

#[test]
fn target_errors_name_their_rule() {
    assert_err(
        &format!(
            "{INVITATION}products = [{{ product = \"serum\", rate = \"15%\", sales_goal = 4, sample = \"refund-on-first-sale\" }}]\n"
        ),
        "sales_goal = 4",
        "`sales_goal` of a refundable sample is 1 to 3 sales",
        Some(RuleId::H7),
    );
    assert_err(
        &format!(
            "{INVITATION}content = [\"live\"]\nflat_fee = \"1000\"\nproducts = [{{ product = \"serum\", rate = \"15%\" }}]\n"
        ),
        "content = [\"live\"]",
        "a flat-fee collaboration is for video only",
        Some(RuleId::Target4),
    );
}

// ---- distributor campaigns

const CAMPAIGN: &str = "[[distributor_campaigns]]\nid = \"c\"\ndistributor = \"kol-hub\"\nregistration_start = \"2025-10-01\"\nregistration_end = \"2025-10-03\"\npromotion_start = \"2025-10-03\"\npromotion_end = \"2025-10-05\"\nmin_creator_rate = \"8%\"\nmin_distributor_rate = \"2%\"\n";

#[test]
fn distributor_campaign_defaults_and_errors() {
    let sc = ok(&format!("{CAMPAIGN}open_to_all = true\n"));
    let c = &sc.campaigns[0].campaign;
    assert_eq!(c.notice_days, 3);
    assert!(c.sellers.is_none());
    assert_err(
        &format!("{CAMPAIGN}open_to_all = true\nsellers = [\"glow\"]\n"),
        "sellers = [\"glow\"]",
        "a campaign is either open to all or aimed at chosen `sellers`, not both",
        Some(RuleId::Dist1),
    );
}

// ---- Collaboration Plus

const PLUS: &str = "[[creator_groups]]\nid = \"g\"\nseller = \"glow\"\n\n[[plus_campaigns]]\nid = \"p\"\ngroup = \"g\"\nproducts = [\"serum\"]\nconfirmed = \"2025-10-01\"\nstart = \"2025-10-02\"\nend = \"2025-10-04\"\nbudget = \"1000\"\nservice_fee = \"100\"\n";

#[test]
fn plus_task_resolves_and_a_missing_reward_is_located() {
    let sc = ok(&format!(
        "{PLUS}seller = \"glow\"\ntype = \"task\"\nreward = \"10\"\ntasks = [{{ objective = \"posts\", target = \"2\" }}]\n"
    ));
    let p = &sc.plus[0];
    assert_eq!(p.refund_days, 7);
    assert_eq!(sc.groups[0].max_level, u8::MAX);
    assert!(matches!(p.kind, crate::rules::plus::PlusKind::Task { .. }));
    assert_err(
        &format!(
            "{PLUS}seller = \"glow\"\ntype = \"task\"\ntasks = [{{ objective = \"posts\", target = \"2\" }}]\n"
        ),
        "id = \"p\"",
        "a Task needs `reward`",
        Some(RuleId::Plus3),
    );
}

#[test]
fn plus_needs_an_enabled_seller() {
    assert_err(
        "[[creator_groups]]\nid = \"g\"\nseller = \"threads\"\n\n[[plus_campaigns]]\nid = \"p\"\ngroup = \"g\"\nproducts = [\"scarf\"]\nconfirmed = \"2025-10-01\"\nstart = \"2025-10-02\"\nend = \"2025-10-04\"\nbudget = \"1000\"\nservice_fee = \"100\"\nseller = \"threads\"\ntype = \"challenge\"\nrank_rewards = [\"10\"]\n",
        "seller = \"threads\"",
        "is not enabled for Collaboration Plus",
        Some(RuleId::Plus1),
    );
}

// ---- behaviour

#[test]
fn behaviour_defaults_are_the_default_impls() {
    let b = ok("").behaviour;
    assert_eq!(b.plus, PlusBehaviour::default());
    assert_eq!(b.distributors, DistributorBehaviour::default());
    assert_eq!(b.target, TargetBehaviour::default());
    assert_eq!(b.creators, CreatorBehaviour::default());
    assert_eq!(b.buyers, BuyerBehaviour::default());
    assert_eq!(b.orders, OrderBehaviour::default());
    assert_eq!(b.incentives, IncentiveBehaviour::default());
    assert!(!IncentiveBehaviour::off().enabled);
}

#[test]
fn behaviour_keys_override_and_bad_values_are_located() {
    let b = ok("[behaviour.buyers]\nconversion_rate = 0.01\nseller_coupon = \"20%\"\n").behaviour;
    assert_eq!(b.buyers.conversion_rate, 0.01);
    assert_eq!(b.buyers.seller_coupon, pct("20%"));
    assert_eq!(
        b.buyers.views_per_follower,
        BuyerBehaviour::default().views_per_follower
    );
    assert_err(
        "[behaviour.orders]\ncancel_probability = 1.5\n",
        "cancel_probability",
        "`cancel_probability` is a probability",
        None,
    );
}

#[test]
fn order_volume_uses_the_behaviour_models_mean() {
    // one creator with 1e9 followers converting everything: far above 1e6 orders per post
    assert_err(
        "[[creators]]\nid = \"huge\"\nfollowers = 1000000000\n\n[behaviour.buyers]\nviews_per_follower = 1000.0\nconversion_rate = 1.0\n",
        "views_per_follower = 1000.0",
        "orders (followers × views_per_follower × conversion_rate × fit_multiplier)",
        None,
    );
}

// ---- script

#[test]
fn script_ties_keep_file_order_and_errors_are_located() {
    let sc = ok(
        "[[script.showcase_adds]]\nat = \"2025-10-02\"\ncreator = \"budi\"\nproduct = \"scarf\"\n\n[[script.applications]]\nat = \"2025-10-02\"\ncreator = \"ayu\"\nproduct = \"serum\"\n",
    );
    // applications are read before showcase adds; the same time keeps that order
    assert!(matches!(sc.script[0].action, Action::Apply { .. }));
    assert!(matches!(sc.script[1].action, Action::ShowcaseAdd { .. }));
    assert_err(
        "[[script.rate_changes]]\nat = \"2025-10-02\"\nseller = \"threads\"\nrate = \"6%\"\n",
        "seller = \"threads\"",
        "seller `threads` has no Shop plan to change",
        Some(RuleId::Shop1),
    );
}

#[test]
fn scripted_orders_resolve_with_their_lifecycle() {
    let sc = ok(
        "[[script.orders]]\nid = \"o1\"\nat = \"2025-10-02\"\ncreator = \"ayu\"\nproduct = \"serum\"\nquantity = 2\ndelivered = \"2025-10-03\"\n",
    );
    let o = &sc.orders[0];
    assert_eq!((o.quantity, o.traffic), (2, Traffic::Video));
    assert!(o.delivered.is_some() && o.shipped.is_none());
    assert_err(
        "[[script.orders]]\nid = \"o1\"\nat = \"2025-10-02\"\ncreator = \"ayu\"\nproduct = \"serum\"\nshipped = \"2025-10-01\"\n",
        "shipped = \"2025-10-01\"",
        "an order ships after it is placed",
        Some(RuleId::Order2),
    );
}

// ---- expectations

#[test]
fn expectations_resolve_subject_and_check() {
    let sc = ok(
        "[[expect]]\nfired = \"OPEN-4\"\n\n[[expect]]\nmetric = \"ledger_balanced\"\nequals = \"true\"\n",
    );
    assert_eq!(sc.expectations[0].subject, Subject::Fired(RuleId::Open4));
    assert_eq!(sc.expectations[0].check, Check::Count(1));
    assert_eq!(sc.expectations[1].subject, Subject::LedgerBalanced);
    assert_err(
        "[[expect]]\nrefusal = \"OPEN-9\"\ncount = 1\n",
        "refusal = \"OPEN-9\"",
        "`OPEN-9` is not a rule ID of the catalogue",
        None,
    );
    assert_err(
        "[[expect]]\nmetric = \"gmv\"\nmin = \"5\"\nmax = \"1\"\n",
        "max = \"1\"",
        "`max` 1 is below `min` 5",
        None,
    );
}
