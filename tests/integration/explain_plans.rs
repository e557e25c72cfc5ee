//! `affsim explain --plus` and `--target` through the library and the binary: a Challenge's
//! leaderboard with its ties (PLUS-5), a Task's progress and the service fee by achievement
//! (PLUS-16), a Target invitation's flat fees (TARGET-4, H-8), and the Open line only where an
//! Open plan exists (PLUS-11).

use affsim::explain;

use crate::util::affsim;

fn rules_scenario(file: &str) -> affsim::scenario::Scenario {
    let path = format!("{}/scenarios/rules/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the rules scenario exists");
    affsim::scenario::parse(&path, &text).expect("the rules scenario validates")
}

#[test]
fn plus_challenge_explanation_shows_the_leaderboard_and_its_ties() {
    let sc = rules_scenario("plus-5-challenge-tie-break.toml");
    let e = explain::explain_plus(&sc, 0, "gmv-race").expect("explained");
    let order: Vec<&str> = e.participants.iter().map(|r| r.creator.as_str()).collect();
    assert_eq!(order, ["dewi", "citra", "ayu", "eka", "fajar"]);
    let ranks: Vec<Option<u32>> = e.participants.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, [Some(1), Some(2), Some(3), Some(4), None]);
    let note = |i: usize| e.participants[i].note.clone().unwrap_or_default();
    assert!(note(1).contains("reached it earlier"), "{}", note(1));
    assert!(note(3).contains("listed first"), "{}", note(3));
    assert!(note(4).contains("below min_value 100000"), "{}", note(4));
    assert_eq!(e.fee_charged.to_string(), "60000");
    assert!(e.after_period.is_empty(), "no Open plan, no Open line");
    let text = explain::plus_text(&e);
    assert!(!text.contains("after the period"), "{text}");
    insta::assert_snapshot!("explain_plus_challenge_tie_break", text);
}

#[test]
fn plus_task_explanation_shows_progress_and_the_fee_by_objectives() {
    let sc = rules_scenario("plus-16-fee-measure-objectives.toml");
    let e = explain::explain_plus(&sc, 0, "progress-task").expect("explained");
    // (1 + 3/8 + 1/2 + 0) ÷ 4 selected = 0.46875 of 80000 = 37500
    assert_eq!(e.achievement.achieved.normalize().to_string(), "1.875");
    assert_eq!(e.achievement.full.normalize().to_string(), "4");
    assert_eq!(e.achievement.share.normalize().to_string(), "0.46875");
    assert_eq!(e.fee_charged.to_string(), "37500");
    assert_eq!(e.fee_refunded.to_string(), "42500");
    assert_eq!(e.fee_refunded_at.as_deref(), Some("2025-10-24 00:00"));
    assert_eq!(e.participants[1].progress, ["1/2", "1/4"]);
    insta::assert_snapshot!("explain_plus_task_objectives", explain::plus_text(&e));
}

#[test]
fn the_open_line_appears_only_for_products_in_an_open_plan() {
    let sc = rules_scenario("plus-10-shop-ads-rate-only-authorised-ads.toml");
    let e = explain::explain_plus(&sc, 0, "ads-plus").expect("explained");
    assert_eq!(e.after_period.len(), 1, "{:?}", e.after_period);
    assert_eq!(e.after_period[0].0, "serum");
    assert_eq!(e.after_period[0].2, "10%");
    assert!(explain::plus_text(&e).contains("after the period, serum returns to open plan"));
}

#[test]
fn target_explanation_says_where_each_flat_fee_went_and_why() {
    let sc = rules_scenario("h-8-flat-fee-refunded-after-3-rejections.toml");
    let e = explain::explain_target(&sc, 0, "threads-video").expect("explained");
    let fees: Vec<(&str, &str)> = e
        .creators
        .iter()
        .map(|r| (r.creator.as_str(), r.fee.as_str()))
        .collect();
    assert_eq!(fees, [("budi", "refunded"), ("dewi", "paid")]);
    assert!(
        e.creators[0].why.contains("third time"),
        "{}",
        e.creators[0].why
    );
    let kinds: Vec<&str> = e.entries.iter().map(|x| x.kind).collect();
    assert_eq!(
        kinds,
        [
            "flat-fee-deposit",
            "flat-fee-deposit",
            "flat-fee-refund",
            "flat-fee-paid"
        ]
    );
    insta::assert_snapshot!("explain_target_flat_fees", explain::target_text(&e));
}

#[test]
fn the_binary_explains_plans_and_refuses_unknown_ones() {
    let path = format!(
        "{}/scenarios/rules/plus-5-tie-goes-to-creator-listed-first.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = affsim(&["explain", &path, "--plus", "order-race", "--json"]);
    assert_eq!(out.code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(doc["participants"][0]["creator"], "zara");
    assert_eq!(doc["participants"][0]["rank"], 1);
    assert_eq!(doc["fee_charged"], "30000");
    let out = affsim(&["explain", &path, "--plus", "nope"]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("no Collaboration Plus `nope`"), "{out}");
    let out = affsim(&["explain", &path, "--target", "nope"]);
    assert_eq!(out.code, 2, "{out}");
}
