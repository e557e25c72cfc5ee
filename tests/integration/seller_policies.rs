//! Seller rate-setting policies (`[[seller_policies]]`, issue 15): each moves its plan's rates
//! in the direction its rule says, through the rules engine's rate change.

use affsim::scenario::{self, Scenario};
use affsim::sim::state_at;
use affsim::time::SimTime;

fn example() -> String {
    std::fs::read_to_string("scenarios/examples/seller-policies.toml").expect("the example")
}

fn parse(text: &str) -> Scenario {
    scenario::parse("policies.toml", text).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The Open rate (percent) of the listing of named plan `plan` at the end of replication 0.
fn end_rate(sc: &Scenario, plan: u32) -> f64 {
    let end = SimTime(SimTime::start_of_day(sc.days).0 - 1);
    let st = state_at(sc, 0, end);
    let l = st
        .platform
        .books()
        .open_listings
        .iter()
        .find(|l| l.plan == affsim::rules::ids::OpenPlanId(plan))
        .expect("a listing of the plan");
    l.rate.at(end).expect("a rate").0.percent_f64()
}

#[test]
fn match_competitors_raises_a_rate_below_the_category_toward_it() {
    // rival starts at 6%, below every generated seller's 8-20%: following the highest, it rises
    // one point a week (4 reviews in 28 days) and never past its bound.
    let sc = parse(&example());
    let r = end_rate(&sc, 1);
    assert!(r > 6.0, "rival's rate {r}% did not rise");
    assert!(
        r <= 10.0 + 1e-9,
        "rival's rate {r}% rose more than 4 steps of 1%"
    );
    // Following the median of the same market also moves it up, never above the highest.
    let median = parse(&example().replace("follow = \"max\"", "follow = \"median\""));
    let m = end_rate(&median, 1);
    assert!(m > 6.0 && m <= r + 1e-9, "median {m}% vs max {r}%");
}

#[test]
fn target_return_moves_the_rate_against_the_gap_to_its_target() {
    // A low target (the return is above it): the rate rises; a high target: it falls to its
    // bound.
    let low = parse(&example().replace("target_return = 20.0", "target_return = 1.0"));
    let high = parse(&example().replace("target_return = 20.0", "target_return = 100000.0"));
    let (l, h) = (end_rate(&low, 0), end_rate(&high, 0));
    assert!(
        l > 10.0,
        "a return above a target of 1 must raise the rate: {l}%"
    );
    assert!(
        (5.0 - 1e-9..10.0).contains(&h),
        "a target of 100000 must lower the rate to >= 5%: {h}%"
    );
}

#[test]
fn a_bad_policy_is_refused_with_its_place() {
    let text = example().replace("policy = \"match-competitors\"", "policy = \"undercut\"");
    let err = format!(
        "{:?}",
        scenario::parse("policies.toml", &text).expect_err("unknown")
    );
    assert!(err.contains("unknown seller policy `undercut`"), "{err}");
    let text = example().replace("max_rate = \"25%\"", "max_rate = \"4%\"");
    let err = format!(
        "{:?}",
        scenario::parse("policies.toml", &text).expect_err("min > max")
    );
    assert!(err.contains("min_rate"), "{err}");
}

#[test]
fn generated_sellers_follow_their_rate_policy() {
    // Every generated Open plan follows the highest rate of the other sellers in its category:
    // all but the category leaders rise (a leader follows the runner-up down); with share 0
    // none moves.
    let follow_max = example().replace(
        "rate_policy = { policy = \"match-competitors\", share = 0.5, follow = \"median\"",
        "rate_policy = { policy = \"match-competitors\", share = 1.0, follow = \"max\"",
    );
    assert_ne!(
        follow_max,
        example(),
        "the example's rate_policy line changed"
    );
    let changes = |text: &str| {
        let sc = parse(text);
        let end = SimTime(SimTime::start_of_day(sc.days).0 - 1);
        let st = state_at(&sc, 0, end);
        let named = sc.open_plans.len() as u32;
        st.platform
            .books()
            .open_listings
            .iter()
            .filter(|l| l.plan >= affsim::rules::ids::OpenPlanId(named))
            .map(|l| {
                let a = l.rate.at(SimTime::ZERO).expect("a rate").0.percent_f64();
                let b = l.rate.at(end).expect("a rate").0.percent_f64();
                (l.plan, b - a)
            })
            .collect::<Vec<_>>()
    };
    let up = changes(&follow_max);
    let rose = up.iter().filter(|d| d.1 > 0.0).count();
    // the listings that fell are the leaders' (at most one plan per category, two categories)
    let mut fell: Vec<_> = up.iter().filter(|d| d.1 < 0.0).map(|d| d.0).collect();
    fell.sort_by_key(|p| p.0);
    fell.dedup();
    assert!(
        rose > 0 && fell.len() <= 2,
        "{rose} rose, plans fell {fell:?}: {up:?}"
    );
    let none = changes(&follow_max.replace("share = 1.0", "share = 0.0"));
    assert!(none.iter().all(|d| d.1 == 0.0), "{none:?}");
}
