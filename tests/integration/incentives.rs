//! The incentive model's done-when properties (issue 15), with paired replications: every arm of
//! a comparison runs replication i on the same random streams (common random numbers), and the
//! paired differences get a Student-t 95% interval.

use affsim::metrics::Metric;
use affsim::scenario::{self, Scenario};
use affsim::sim::behaviour::{Lever, Response, configured_elasticity};
use affsim::sim::{RunOptions, run_replication};
use rust_decimal::prelude::ToPrimitive;

/// The 97.5% quantile of Student's t with `df` degrees of freedom (Cornish–Fisher expansion;
/// within 0.002 of the exact value from 10 degrees of freedom on).
fn t975(df: f64) -> f64 {
    let z: f64 = 1.959_964;
    z + (z.powi(3) + z) / (4.0 * df)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z.powi(7) + 19.0 * z.powi(5) + 17.0 * z.powi(3) - 15.0 * z) / (384.0 * df.powi(3))
}

/// Mean and 95% half-width of a sample.
fn interval(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, t975(n - 1.0) * (var / n).sqrt())
}

fn parse(text: &str) -> Scenario {
    scenario::parse("arm.toml", text).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The sample standard deviation.
fn sd(x: &[f64]) -> f64 {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Per replication, the metrics of each arm.
fn run_arms(arms: &[Scenario], reps: u32, metrics: &[Metric]) -> Vec<Vec<Vec<f64>>> {
    arms.iter()
        .map(|sc| {
            (0..reps)
                .map(|i| {
                    let r = run_replication(sc, i, &RunOptions::default()).expect("balanced");
                    metrics
                        .iter()
                        .map(|&m| r.total(m).to_f64().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The paired differences (arm b − arm a) of metric `k`.
fn diffs(runs: &[Vec<Vec<f64>>], a: usize, b: usize, k: usize) -> Vec<f64> {
    runs[b]
        .iter()
        .zip(&runs[a])
        .map(|(y, x)| y[k] - x[k])
        .collect()
}

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "the scenario no longer contains {from:?}"
    );
    text.replacen(from, to, 1)
}

#[test]
fn demo_higher_task_reward_raises_participation_and_gmv() {
    // Under the demo's `budget` policy a higher reward at the same budget selects fewer creators
    // (PLUS-7), so the budget rises with the reward: the same creators are selected and asked.
    let base = scenario::DEMO;
    let hi = replace(base, "budget = \"20000000\"", "budget = \"60000000\"");
    let hi = replace(&hi, "reward = \"150000\"", "reward = \"450000\"");
    // Total GMV as well as the Plus part: creators' draws are synchronised per creator and
    // episode (src/sim/rng.rs), so the arms differ by what the reward changes, not by streams
    // shifted market-wide after the first creator who decides differently.
    let metrics = [Metric::PlusParticipants, Metric::GmvPlus, Metric::Gmv];
    let runs = run_arms(&[parse(base), parse(&hi)], 30, &metrics);
    for (k, m) in metrics.iter().enumerate() {
        let (mean, half) = interval(&diffs(&runs, 0, 1, k));
        assert!(
            mean - half > 0.0,
            "{}: paired difference {mean} ± {half} is not above zero",
            m.name()
        );
    }
}

#[test]
fn a_creators_draws_do_not_depend_on_other_creators_choices() {
    // Synchronised common random numbers (src/sim/rng.rs): every creator draws from its own
    // stream, one window per wake, decision and post, so a change that moves a few hundred
    // Plus participants leaves the other creators' draws where they were. The paired posts
    // difference then spreads far less than posts do from one replication to the next (sd 23
    // against 428 on 30 replications; with one shared stream, where the first creator who
    // decided differently shifted the draws of everyone after it, 196 against 424).
    let base = scenario::DEMO;
    let hi = replace(base, "budget = \"20000000\"", "budget = \"60000000\"");
    let hi = replace(&hi, "reward = \"150000\"", "reward = \"450000\"");
    let runs = run_arms(&[parse(base), parse(&hi)], 12, &[Metric::Posts]);
    let level: Vec<f64> = runs[0].iter().map(|r| r[0]).collect();
    let d = diffs(&runs, 0, 1, 0);
    assert!(
        sd(&d) < 0.2 * sd(&level),
        "paired posts differences spread {} against {} across replications",
        sd(&d),
        sd(&level)
    );
}

#[test]
fn demo_higher_open_rates_raise_posts_and_gmv() {
    let base = scenario::DEMO;
    // Every seller raises its Open rates: the generated sellers by 50%, glow (whose Plus rate
    // of 13% must stay above its Open rates, PLUS-9) to 12% and 12.9%.
    let hi = replace(
        base,
        "rate = \"10%\"\nproduct_rates = { serum = \"12%\" }",
        "rate = \"12%\"\nproduct_rates = { serum = \"12.9%\" }",
    );
    let hi = replace(
        &hi,
        "open_rate = { min = \"5%\", max = \"20%\" }",
        "open_rate = { min = \"7.5%\", max = \"30%\" }",
    );
    let metrics = [Metric::Posts, Metric::Gmv];
    let runs = run_arms(&[parse(base), parse(&hi)], 24, &metrics);
    for (k, m) in metrics.iter().enumerate() {
        let (mean, half) = interval(&diffs(&runs, 0, 1, k));
        assert!(
            mean - half > 0.0,
            "{}: paired difference {mean} ± {half} is not above zero",
            m.name()
        );
    }
}

/// A seller inviting 50 creators with a flat fee (H-8 allows 50 per flat-fee invitation).
fn flat_fee_market(fee: &str) -> String {
    let mut s = String::from(
        r#"[scenario]
name = "flat-fee"
region = "ID"
start = "2025-10-01"
days = 10
seed = 11

[[sellers]]
id = "glow"
shop_plan_rate = "5%"

[[products]]
id = "serum"
seller = "glow"
price = "150000"
category = "beauty"
"#,
    );
    let mut names = Vec::new();
    for i in 0..50 {
        s.push_str(&format!(
            "\n[[creators]]\nid = \"c{i}\"\nfollowers = {}\ncategories = [\"beauty\"]\n",
            1000 + 400 * i
        ));
        names.push(format!("\"c{i}\""));
    }
    s.push_str(&format!(
        r#"
[[target_invitations]]
id = "launch"
seller = "glow"
creators = [{}]
sent = "2025-10-01 00:00"
days = 9
fee = "flat"
flat_fee = "{fee}"
products = [{{ product = "serum", rate = "8%" }}]

[behaviour.target]
accept_probability = 0.3
"#,
        names.join(", ")
    ));
    s
}

#[test]
fn bigger_flat_fee_raises_target_acceptance() {
    let fees = ["10000", "100000", "1000000"];
    let arms: Vec<Scenario> = fees.iter().map(|f| parse(&flat_fee_market(f))).collect();
    let runs = run_arms(&arms, 20, &[Metric::TargetsAccepted]);
    for a in 0..fees.len() - 1 {
        let d = diffs(&runs, a, a + 1, 0);
        // the same draws decide each slot in every arm, so a bigger fee never loses a creator
        assert!(d.iter().all(|x| *x >= 0.0), "fee {}: {d:?}", fees[a + 1]);
        let (mean, half) = interval(&d);
        assert!(
            mean - half > 0.0,
            "flat fee {} → {}: accepted {mean} ± {half}",
            fees[a],
            fees[a + 1]
        );
    }
}

#[test]
fn higher_reward_never_lowers_participation() {
    // The sweep example under `as-given`: every group member is asked, whatever the reward.
    let base = std::fs::read_to_string("scenarios/examples/plus-task-reward-sweep.toml")
        .expect("the sweep example");
    let rewards = ["50000", "100000", "200000", "400000"];
    let arms: Vec<Scenario> = rewards
        .iter()
        .map(|r| {
            parse(&replace(
                &base,
                "reward = \"100000\"",
                &format!("reward = \"{r}\""),
            ))
        })
        .collect();
    let runs = run_arms(&arms, 6, &[Metric::PlusParticipants]);
    for a in 0..rewards.len() - 1 {
        for (i, (x, y)) in runs[a].iter().zip(&runs[a + 1]).enumerate() {
            assert!(
                y[0] >= x[0],
                "replication {i}: reward {} has {} participants, reward {} has {}",
                rewards[a],
                x[0],
                rewards[a + 1],
                y[0]
            );
        }
    }
}

/// A market of Open plans only, without saturation: the closed form holds exactly there.
fn open_market(scale: f64) -> String {
    let pct = |x: f64| format!("{:.2}%", x * scale);
    format!(
        r#"[scenario]
name = "open-market"
region = "ID"
start = "2025-10-01"
days = 30
seed = 5

[populations.sellers]
count = 30
shop_plan_share = 0.0
open_plan_share = 1.0
open_rate = {{ min = "{}", max = "{}" }}

[populations.products]
count = 200
price = {{ dist = "lognormal", median = 80000.0, sigma = 0.6 }}
categories = ["beauty", "fashion"]

[populations.creators]
count = 1500
followers = {{ dist = "lognormal", median = 3000.0, sigma = 1.0 }}
categories_per_creator = 1

[behaviour.creators]
actions_per_day = 0.5

[behaviour.buyers]
saturation_exponent = 0.0
"#,
        pct(8.0),
        pct(16.0)
    )
}

#[test]
fn measured_open_rate_elasticities_match_configured() {
    let (lo, hi) = (0.9, 1.1);
    let base = parse(&open_market(1.0));
    let metrics = [Metric::Posts, Metric::Gmv];
    let runs = run_arms(
        &[parse(&open_market(lo)), parse(&open_market(hi))],
        20,
        &metrics,
    );
    let span = (hi / lo).ln();
    for (k, (m, resp)) in metrics
        .iter()
        .zip([Response::Posts, Response::Gmv])
        .enumerate()
    {
        let el: Vec<f64> = runs[1]
            .iter()
            .zip(&runs[0])
            .map(|(y, x)| (y[k] / x[k]).ln() / span)
            .collect();
        let (mean, half) = interval(&el);
        let configured =
            configured_elasticity(&base, Lever::OpenRate, resp).expect("a closed form");
        // The closed form counts the direct margins only (intensive and extensive, at the
        // start); more actions also fill showcases sooner, which turns more actions into posts,
        // so the measured response is at least the configured one (docs/behaviour.md).
        assert!(
            mean + half >= configured,
            "{}: measured {mean} ± {half} is below the configured {configured}",
            m.name()
        );
        assert!(
            mean - half <= configured + 0.5,
            "{}: measured {mean} ± {half} is far above the configured {configured}",
            m.name()
        );
        assert!(configured > 0.0);
    }
    assert_eq!(
        configured_elasticity(&base, Lever::PlusTaskReward, Response::Participants),
        None
    );
}

#[test]
fn without_the_showcase_filling_the_measured_posts_elasticity_is_the_configured_one() {
    // The gap between measured and configured posts elasticities is the showcase filling
    // (docs/behaviour.md §6): with `explore_probability = 0` a creator searches once and then
    // only posts, so posts per action no longer rise with actions, and the interval of the
    // measured elasticity covers the configured one.
    let arm = |scale: f64| {
        let m = open_market(scale);
        parse(&replace(
            &m,
            "actions_per_day = 0.5\n",
            "actions_per_day = 0.5\nexplore_probability = 0.0\n",
        ))
    };
    let (lo, hi) = (0.9, 1.1);
    let runs = run_arms(&[arm(lo), arm(hi)], 12, &[Metric::Posts]);
    let el: Vec<f64> = runs[1]
        .iter()
        .zip(&runs[0])
        .map(|(y, x)| (y[0] / x[0]).ln() / (hi / lo).ln())
        .collect();
    let (mean, half) = interval(&el);
    let configured = configured_elasticity(&arm(1.0), Lever::OpenRate, Response::Posts).unwrap();
    assert!(
        (mean - configured).abs() <= half,
        "measured {mean} ± {half}, configured {configured}"
    );
}

#[test]
fn uncertain_parameters_are_drawn_per_replication_and_shared_by_arms() {
    // A degenerate range is the fixed value: the run is the one with the parameter set.
    let base = open_market(1.0);
    let fixed = parse(&format!(
        "{base}\n[behaviour.incentives]\npost_elasticity = 0.9\n"
    ));
    let point = parse(&format!(
        "{base}\n[behaviour.incentives.uncertainty]\npost_elasticity = [0.9, 0.9]\n"
    ));
    let wide = parse(&format!(
        "{base}\n[behaviour.incentives.uncertainty]\npost_elasticity = [0.0, 2.0]\n"
    ));
    let m = [Metric::Posts, Metric::Gmv];
    let runs = run_arms(&[fixed, point, wide.clone()], 4, &m);
    assert_eq!(
        runs[0], runs[1],
        "a [x, x] range must equal the fixed value x"
    );
    assert_ne!(runs[1], runs[2], "the wide range draws other values");
    // The draw depends on (seed, replication) only: a sweep arm that changes a rate draws the
    // same elasticity, so the arms' posts move together (the elasticity's spread across
    // replications dominates both arms alike).
    let hi = parse(&format!(
        "{}\n[behaviour.incentives.uncertainty]\npost_elasticity = [0.0, 2.0]\n",
        open_market(1.1)
    ));
    let pair = run_arms(&[wide, hi], 8, &[Metric::Posts]);
    let level: Vec<f64> = pair[0].iter().map(|r| r[0]).collect();
    let d = diffs(&pair, 0, 1, 0);
    assert!(
        sd(&d) < 0.5 * sd(&level),
        "paired spread {} against {} across replications",
        sd(&d),
        sd(&level)
    );
}

#[test]
fn a_bad_uncertainty_range_is_refused() {
    let text = format!(
        "{}\n[behaviour.incentives.uncertainty]\nactive_share = [0.9, 0.2]\n",
        open_market(1.0)
    );
    let err = scenario::parse("arm.toml", &text).expect_err("low above high");
    let msg = format!("{err:?}");
    assert!(msg.contains("uncertainty.active_share"), "{msg}");
}

/// The Open market of [`open_market`] with one more seller, `star`, whose popular product's
/// Open plan pays 20%, `cut` on day 10 to `to` (or never, when `to` is None); `extra` is
/// appended (more `[behaviour.incentives]` keys).
fn cut_market(to: Option<&str>, extra: &str) -> String {
    let cut = to.map_or(String::new(), |r| {
        format!("\n[[script.rate_changes]]\nat = \"2025-10-11 00:00\"\nplan = \"star-open\"\nrate = \"{r}\"\n")
    });
    format!(
        r#"{}
[[sellers]]
id = "star"

[[products]]
id = "star-serum"
seller = "star"
price = "80000"
category = "beauty"
popularity = 60.0

[[open_plans]]
id = "star-open"
seller = "star"
products = ["star-serum"]
rate = "20%"
{cut}
[behaviour.incentives]
{extra}
"#,
        open_market(1.0)
    )
}

/// Per replication: orders of the star plan's product (what its posts bring: buyers do not see
/// the rate, so its orders follow the posts about it), showcase drops, and posts per day.
fn star_runs(sc: &Scenario, reps: u32) -> Vec<(f64, f64, Vec<f64>)> {
    (0..reps)
        .map(|i| {
            let r = run_replication(sc, i, &RunOptions::default()).expect("balanced");
            let star = r
                .campaigns
                .campaigns
                .iter()
                .find(|c| c.id == "open:star-open")
                .map_or(0, |c| c.orders) as f64;
            let drops = r.total(Metric::ShowcaseDrops).to_f64().unwrap();
            let posts = Metric::ALL
                .iter()
                .position(|m| *m == Metric::Posts)
                .unwrap();
            let daily = r.daily.iter().map(|d| d[posts].to_f64().unwrap()).collect();
            (star, drops, daily)
        })
        .collect()
}

#[test]
fn a_rate_cut_makes_creators_drop_the_product() {
    // Three paired arms: no cut; the star plan cut from 20% to 4% on day 11 with creators
    // dropping products whose terms fell (drop_weight 1, the default); the same cut without
    // dropping (drop_weight 0: only the intensive and extensive margins respond).
    let reps = 12;
    let none = star_runs(&parse(&cut_market(None, "")), reps);
    let cut = star_runs(&parse(&cut_market(Some("4%"), "")), reps);
    let kept = star_runs(&parse(&cut_market(Some("4%"), "drop_weight = 0.0")), reps);
    for i in 0..reps as usize {
        // Synchronised streams: nothing differs before the cut.
        assert_eq!(none[i].2[..10], cut[i].2[..10], "replication {i}");
        assert_eq!(cut[i].2[..10], kept[i].2[..10], "replication {i}");
    }
    let d = |a: &[(f64, f64, Vec<f64>)],
             b: &[(f64, f64, Vec<f64>)],
             f: fn(&(f64, f64, Vec<f64>)) -> f64| {
        b.iter()
            .zip(a)
            .map(|(y, x)| f(y) - f(x))
            .collect::<Vec<f64>>()
    };
    // More drops with the cut than without.
    let (m, h) = interval(&d(&none, &cut, |r| r.1));
    assert!(m - h > 0.0, "drops: {m} ± {h}");
    // Fewer orders of the cut product (fewer posts of it) than without the cut ...
    let (m, h) = interval(&d(&none, &cut, |r| r.0));
    assert!(m + h < 0.0, "star orders, cut − none: {m} ± {h}");
    // ... and than with the same cut but no dropping: dropping is what removes its posts.
    let (m, h) = interval(&d(&kept, &cut, |r| r.0));
    assert!(
        m + h < 0.0,
        "star orders, cut − cut without dropping: {m} ± {h}"
    );
}

#[test]
fn a_full_showcase_replaces_its_worst_entry_only_for_a_better_one() {
    // Without rate changes no terms fall, so every drop is a replacement in a full showcase:
    // the smaller the margin a product must clear, the more replacements (paired, each step's
    // interval above zero), and with the incentive model off a full showcase never searches.
    let reps = 8;
    let margins = ["replace_margin = 0.0", "", "replace_margin = 2.0"];
    let runs: Vec<_> = margins
        .iter()
        .map(|m| star_runs(&parse(&cut_market(None, m)), reps))
        .collect();
    for a in 0..2 {
        let d: Vec<f64> = runs[a + 1]
            .iter()
            .zip(&runs[a])
            .map(|(y, x)| y.1 - x.1)
            .collect();
        let (m, h) = interval(&d);
        assert!(
            m + h < 0.0,
            "drops, {} against {}: {m} ± {h}",
            margins[a + 1],
            margins[a]
        );
    }
    let off = star_runs(&parse(&cut_market(None, "enabled = false")), 2);
    assert!(
        off.iter().all(|r| r.1 == 0.0),
        "a drop with the incentive model off"
    );
}

#[test]
fn a_larger_effort_cost_lowers_posts_and_lives() {
    // The open market's videos earn about IDR 10,000 in commission each; effort is subtracted
    // from expected earnings wherever they meet the outside option.
    let base = open_market(1.0);
    let live = "\n[populations.creators]\n";
    assert!(base.contains(live));
    let base = base.replacen(live, "\n[populations.creators]\nlive_share = 0.5\n", 1);
    let arm = |video: &str, live: &str| {
        parse(&format!(
            "{base}\n[behaviour.incentives]\nvideo_effort = \"{video}\"\nlive_effort = \"{live}\"\n"
        ))
    };
    let arms = [
        arm("0", "0"),
        arm("2000", "0"),
        arm("4000", "0"),
        arm("4000", "20000"),
    ];
    let metrics = [Metric::Posts, Metric::Lives];
    let runs = run_arms(&arms, 12, &metrics);
    // Each step of the video effort lowers posts (paired, interval below zero) ...
    for a in 0..2 {
        let (m, h) = interval(&diffs(&runs, a, a + 1, 0));
        assert!(m + h < 0.0, "posts, arm {} − arm {a}: {m} ± {h}", a + 1);
    }
    // ... and a LIVE's effort lowers LIVEs.
    let (m, h) = interval(&diffs(&runs, 2, 3, 1));
    assert!(m + h < 0.0, "lives with a LIVE effort: {m} ± {h}");
}

#[test]
fn the_demos_measured_elasticities_agree_with_the_configured_ones() {
    // `affsim sensitivity` on the demo (docs/behaviour.md §6), for the levers with a closed
    // form: per replication, the measured arc elasticity minus the configured one (the closed
    // form on the base arm's state, the same seeds); the paired interval must cover zero and be
    // narrow enough that a noisier model could not pass by noise. The configured figure of the
    // market at the start (`configured_elasticity`, 0.600 for Open-rate actions, share 0.865)
    // fails this (0.600 against 0.43 measured), and so does the closed form without its
    // substitution and time-path terms (Open-rate actions 0.0135 [0.0022, 0.0249]). The widths
    // hold since the generated sellers' rates are paired across the arms (unpaired, they were
    // two to three times as wide). The base arm's recorder is told how far each rate moves
    // in the arms (`base_weights`: PLUS-9 holds glow's serum). Since session 13 (step 1d: the
    // sample videos that added searches bring; step 2a: the extensive margin answers to E* at
    // the review that opened the spell; step 3a: saturation by product group) every row
    // covers zero, at 30 replications and at 12, the Shop plan earnings too (before: within
    // 20% only, 0.017 [0.003, 0.032] at 12 replications); the Shop plan actions against the
    // model are still held to within 20% (actions ÷ earnings 0.74 configured, 0.69 measured).
    use affsim::experiment::sensitivity::{
        BaseState, LeverRun, SensLever, base_weights, scaled, sensitivity_doc,
    };
    let demo = parse(scenario::DEMO);
    let reps = 12;
    let opts = RunOptions {
        lever_shares: true,
        lever_weights: Some(base_weights(&demo, 0.1)),
        ..RunOptions::default()
    };
    let base: Vec<BaseState> = (0..reps)
        .map(|i| {
            let r = run_replication(&demo, i, &opts).expect("balanced");
            BaseState::of(&r).expect("recorded")
        })
        .collect();
    // The factor of `model`: per lever, the closed form's actions ÷ earnings elasticity on the
    // base arm (mean over replications), not d ln actions ÷ d ln E* at the start (0.693).
    let factor = |k: usize| {
        use affsim::sim::shares::ShareResponse;
        let conf = |b: &BaseState, r| b.shares.configured(k, r, b.content).expect("a figure");
        base.iter()
            .map(|b| conf(b, ShareResponse::Actions) / conf(b, ShareResponse::Earnings))
            .sum::<f64>()
            / base.len() as f64
    };
    let start = affsim::sim::behaviour::actions_per_log_earnings(&demo).expect("model on");
    // Step 1d (docs/behaviour.md §6a): the sample videos the added searches bring, ÷ content.
    // glow-open and the generated Open plans give free samples, so the Open rate's V is about
    // 0.008 (an Open content elasticity 0.006 higher); the Shop plan rate's is a seventh of it.
    let v = |k: usize| {
        base.iter()
            .map(|b| b.shares.sample_searches[k] / b.content)
            .sum::<f64>()
            / base.len() as f64
    };
    assert!(
        v(0) > 0.004 && v(0) < 0.015 && v(1).abs() < v(0) / 4.0,
        "sample searches: Open {}, Shop plan {}",
        v(0),
        v(1)
    );
    // Step 3a: each lever's content goes to its own products, whose live items respond more
    // than the other group's (docs/behaviour.md §6a; on the demo Open products ≈ 0.65 and
    // Shop plan products ≈ 0.34 for the Open rate, ≈ −0.06 and ≈ 0.47 for the Shop plan rate).
    for b in &base {
        let (open, shop) = (
            b.shares.live_by_group(0).expect("posts in every group"),
            b.shares.live_by_group(1).expect("posts in every group"),
        );
        assert!(open[0] > open[1] && shop[1] > shop[0], "{open:?} {shop:?}");
    }
    let mut runs = Vec::new();
    for lever in [SensLever::OpenRate, SensLever::ShopPlanRate] {
        let (lo, lv) = scaled(&demo, lever, 0.9);
        let (hi, hv) = scaled(&demo, lever, 1.1);
        let ch: Vec<f64> = lv
            .iter()
            .zip(&hv)
            .map(|(a, b)| (b - a) / ((a + b) / 2.0))
            .collect();
        let arm = |sc: &Scenario| -> Vec<_> {
            (0..reps)
                .map(|i| run_replication(sc, i, &RunOptions::default()).expect("balanced"))
                .collect()
        };
        let (minus, plus) = (arm(&lo), arm(&hi));
        let change = ch.iter().sum::<f64>() / ch.len() as f64;
        // PLUS-9 holds in both arms: glow's Task runs in each (the Open rates stay under 13%).
        for r in minus.iter().chain(&plus) {
            assert!(r.total(Metric::PlusParticipants) > 0.into());
            assert_eq!(r.plus[0].status, "ended", "{}", lever.name());
        }
        runs.push(LeverRun {
            lever,
            change,
            instances: ch.len(),
            minus,
            plus,
            base: base.clone(),
        });
    }
    // As `sensitivity.json` writes it.
    let doc = serde_json::to_value(sensitivity_doc(&demo, demo.seed, 0.1, &runs)).unwrap();
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or_else(|| panic!("a number: {v}"));
    for l in doc["levers"].as_array().unwrap() {
        let lever = l["lever"].as_str().unwrap();
        for (name, width) in [("actions", 0.04), ("content", 0.04), ("earnings", 0.06)] {
            let r = &l["responses"][name];
            let (measured, conf) = (f(&r["elasticity"]["mean"]), f(&r["configured"]));
            let v = &r["versus_configured"];
            let (mean, lo, hi) = (f(&v["mean"]), f(&v["ci95"][0]), f(&v["ci95"][1]));
            assert!(
                hi - lo <= width,
                "{lever}: {name} measured − configured {mean} [{lo}, {hi}]: too wide to tell"
            );
            assert!(
                lo <= 0.0 && 0.0 <= hi,
                "{lever}: {name} measured {measured} − configured {conf} = {mean} [{lo}, {hi}]"
            );
        }
        // the decomposition: actions against a (on the base arm) × the earnings creators saw
        let a = &l["responses"]["actions"];
        let (e, model) = (&a["elasticity"], &a["model"]);
        let inside = |x: &serde_json::Value, ci: &serde_json::Value| {
            let x = f(x);
            f(&ci[0]) <= x && x <= f(&ci[1])
        };
        if lever == "shop_plan_rate" {
            // the same gap: actions ÷ earnings 0.69 measured against 0.78 configured
            let (x, y) = (f(&e["mean"]), f(&model["mean"]));
            assert!(
                (x - y).abs() <= 0.2 * y,
                "{lever}: actions {e} against the model {model}"
            );
        } else {
            assert!(
                inside(&e["mean"], &model["ci95"]) && inside(&model["mean"], &e["ci95"]),
                "{lever}: actions {e} against the model {model}"
            );
        }
        let m = factor(usize::from(lever == "shop_plan_rate"));
        assert_eq!(
            f(&a["actions_per_log_earnings"]),
            affsim::experiment::stats::round(m)
        );
        if lever == "shop_plan_rate" {
            // (the Open rate's factor on the base arm, ≈ 0.66, lies near the start's 0.693)
            assert!(
                (m - start).abs() > 0.03,
                "{lever}: {m} against the start {start}"
            );
        }
        // The substitution part of E* (docs/behaviour.md §6a): a higher Open rate moves
        // creators' choices toward Open products, which pay more than the others on the demo
        // (U > 0); a higher Shop plan rate toward Shop plan products, which pay less (U < 0).
        // The time path lowers the Open rate's earnings response (the actions added come late
        // in creators' sequences, at lower expected earnings than their average).
        let cf = &l["closed_form"];
        let (u, p) = (f(&cf["substitution"]), f(&cf["time_path"]));
        match lever {
            "open_rate" => assert!(u > 0.002 && p < -0.01, "{lever}: U {u}, P {p}"),
            _ => assert!(u < -0.002 && p.abs() < 0.01, "{lever}: U {u}, P {p}"),
        }
        // sensitivity.json reports steps 1d and 3a as the recorder computed them (checked on
        // the base states above): V, and the live items by product group, means over the
        // replications (rounded to 10 significant digits)
        let k = usize::from(lever != "open_rate");
        let close = |x: f64, want: f64| (x - want).abs() <= 1e-9 * want.abs().max(1e-3);
        assert!(
            close(f(&cf["sample_searches"]), v(k)),
            "{lever}: V {}",
            cf["sample_searches"]
        );
        let groups = cf["live_by_group"].as_array().expect("solved on the demo");
        for (g, x) in groups.iter().enumerate() {
            let want = base
                .iter()
                .map(|b| b.shares.live_by_group(k).unwrap()[g])
                .sum::<f64>()
                / base.len() as f64;
            assert!(close(f(x), want), "{lever}: group {g}: {x} against {want}");
        }
    }
}

#[test]
fn sensitivity_arms_stay_on_plus9s_side() {
    // ±10% of the demo's Open rates would put glow's serum (12%) at 13.2%, at its Plus Task's
    // 13%: PLUS-9 would cancel the Task in one arm. The arms hold it one hundredth of a point
    // below; a Plus rate scaled down stays above its products' Open rates.
    use affsim::experiment::sensitivity::{SensLever, scaled};
    use rust_decimal::Decimal;
    let demo = parse(scenario::DEMO);
    let plus = demo.plus[0].rate.expect("a Plus rate").0;
    let (hi, _) = scaled(&demo, SensLever::OpenRate, 1.1);
    let glow = hi
        .open_plans
        .iter()
        .find(|p| p.name == "glow-open")
        .unwrap();
    let top = glow.listings.iter().map(|l| l.1.0).max().unwrap();
    assert_eq!(top, plus - Decimal::new(1, 2));
    assert!(glow.listings.iter().any(|l| l.1.0 == Decimal::from(11)));
    let (lo, _) = scaled(&demo, SensLever::PlusRate, 0.9);
    assert_eq!(lo.plus[0].rate.unwrap().0, Decimal::new(1201, 2));
}

/// One seller: `open` in an Open plan at 20% whose criteria refuse every creator (nobody has
/// a billion followers) or, with `probability`, a seller that refuses every application by
/// chance; `shop` under the Shop plan at 5%. 200 creators act once a day for 20 days.
fn refusing_market(policy: &str, remember: &str) -> String {
    format!(
        r#"[scenario]
name = "refusing"
region = "ID"
start = "2025-10-01"
days = 20
seed = 11

[[sellers]]
id = "s"
shop_plan_rate = "5%"

[[products]]
id = "open"
seller = "s"
price = "100000"
category = "beauty"
popularity = 10.0

[[products]]
id = "shop"
seller = "s"
price = "100000"
category = "beauty"
popularity = 10.0

[[open_plans]]
id = "o"
seller = "s"
products = ["open"]
rate = "20%"
approval = {policy}

[populations.creators]
count = 200
followers = {{ dist = "lognormal", median = 3000.0, sigma = 1.0 }}

[behaviour.creators]
actions_per_day = 1.0
refused_applications = "{remember}"
"#
    )
}

#[test]
fn a_creator_refused_by_criteria_stops_applying() {
    // docs/behaviour.md §3, "Refused applications": the criteria read followers, which do not
    // change, so under "avoid" a creator applies at most once (the decision is immediate: no
    // delay) and takes up the Shop plan product; under "retry" it keeps finding the 20%
    // product, applying and being refused. A refusal by chance is never remembered.
    let criteria = r#"{ policy = "criteria", min_followers = 1000000000 }"#;
    let chance = r#"{ policy = "probability", probability = 0.0 }"#;
    let metrics = [Metric::Applications, Metric::Approvals, Metric::Posts];
    let runs = run_arms(
        &[
            parse(&refusing_market(criteria, "avoid")),
            parse(&refusing_market(criteria, "retry")),
            parse(&refusing_market(chance, "avoid")),
        ],
        4,
        &metrics,
    );
    for ((avoid, retry), chance) in runs[0].iter().zip(&runs[1]).zip(&runs[2]) {
        assert_eq!(avoid[1], 0.0, "nobody is approved");
        assert!(
            avoid[0] > 50.0 && avoid[0] <= 200.0,
            "avoid: {} applications from 200 creators",
            avoid[0]
        );
        assert!(
            retry[0] > 3.0 * avoid[0],
            "retry: {} applications against {} under avoid",
            retry[0],
            avoid[0]
        );
        assert!(
            chance[0] > 3.0 * avoid[0],
            "a refusal by chance is remembered: {} applications",
            chance[0]
        );
        // Both post the Shop plan product. (Under "retry" they post more: every find of the
        // 20% product counts in their expected earnings, which they never earn, so they act
        // more — the overrating "avoid" removes.)
        assert!(avoid[2] > 0.0 && retry[2] > 0.0);
    }
}
