//! Answers for product teams: per-campaign results add up to the market, no interval for one replication, `affsim lift` and `affsim sensitivity` through the real binary.

use rust_decimal::Decimal;
use serde_json::Value;

use affsim::experiment::{self, RunConfig};
use affsim::metrics::Metric;

use crate::util::{TempDir, affsim, arg, json};

fn demo() -> affsim::scenario::Scenario {
    affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO).unwrap()
}

/// Every `ci95` in a document, at any depth.
fn intervals<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "ci95" {
                    out.push(x);
                }
                intervals(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| intervals(x, out)),
        _ => {}
    }
}

#[test]
fn campaigns_and_the_unattributed_rest_add_up_to_the_market() {
    let out = experiment::run(
        &demo(),
        &RunConfig {
            replications: Some(2),
            threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    for r in &out.replications {
        let c = &r.campaigns;
        assert!(c.campaigns.len() >= 8, "{:?}", c.campaigns.len());
        let sum = |f: &dyn Fn(&affsim::metrics::campaigns::CampaignRow) -> Decimal| {
            c.campaigns.iter().map(f).sum::<Decimal>()
        };
        assert_eq!(sum(&|x| x.gmv) + c.unattributed_gmv, r.total(Metric::Gmv));
        assert_eq!(
            c.campaigns.iter().map(|x| x.orders).sum::<u64>() + c.unattributed_orders,
            r.total(Metric::Orders).try_into().unwrap_or(0u64)
        );
        assert_eq!(sum(&|x| x.commissions), r.total(Metric::Commissions));
        assert_eq!(
            sum(&|x| x.shop_ads_commissions),
            r.total(Metric::ShopAdsCommissions)
        );
        assert_eq!(
            sum(&|x| x.distributor_fees),
            r.total(Metric::DistributorFees)
        );
        assert_eq!(sum(&|x| x.flat_fees), r.total(Metric::FlatFeesPaid));
        assert_eq!(sum(&|x| x.rewards), r.total(Metric::RewardsPaid));
        assert_eq!(
            sum(&|x| x.service_fees),
            r.total(Metric::ServiceFeesCharged)
        );
        assert_eq!(
            sum(&|x| x.commissions_clawed_back),
            r.total(Metric::CommissionsClawedBack)
        );
        // sellers: GMV and orders add up, and their nets are the market's seller net
        let s = &c.sellers;
        assert_eq!(
            s.iter().map(|x| x.gmv).sum::<Decimal>(),
            r.total(Metric::Gmv)
        );
        assert_eq!(
            s.iter().map(|x| x.net).sum::<Decimal>(),
            r.end_metric(affsim::metrics::EndMetric::SellerNet)
        );
        // a seller's cost is the cost of the campaigns it pays for (distributor fees are paid
        // by the sellers whose lines they are on, so compare the market totals)
        let cost: Decimal = c.campaigns.iter().map(|x| x.cost()).sum();
        assert_eq!(s.iter().map(|x| x.cost).sum::<Decimal>(), cost);
        assert!(cost > Decimal::ZERO);
    }
}

#[test]
fn one_replication_has_no_interval_anywhere() {
    let dir = TempDir::new("answers-one-rep");
    let rep = dir.join("rep");
    let o = affsim(&["run", "--replications", "1", "--out", arg(&rep), "-q"]);
    assert_eq!(o.code, 0, "{o:?}");
    let doc = json(&std::fs::read_to_string(rep.join("summary.json")).unwrap());
    let mut cis = Vec::new();
    intervals(&doc, &mut cis);
    assert!(cis.len() > 50, "{}", cis.len());
    assert!(
        cis.iter().all(|c| c.is_null()),
        "an interval from one replication"
    );
    assert!(doc["campaigns"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(doc["sellers"].as_array().is_some_and(|c| !c.is_empty()));
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    let gmv = md
        .lines()
        .find(|l| l.starts_with("| GMV (") && l.contains("`gmv`"))
        .unwrap();
    assert_eq!(gmv.split('|').nth(3).map(str::trim), Some("—"), "{gmv}");
    assert!(md.contains("## Campaigns") && md.contains("## Sellers"));
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(html.contains("<h2>Campaigns</h2>") && html.contains("<td>—</td>"));
    assert!(rep.join("campaign_gmv_per_cost.svg").is_file());
}

#[test]
fn summary_intervals_use_student_t() {
    let out = experiment::run(
        &demo(),
        &RunConfig {
            replications: Some(3),
            threads: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let doc = affsim::experiment::summary::summary_json(&demo(), out.seed, &out.replications);
    let g = &doc["metrics"]["gmv"];
    // money figures are decimal strings in summary.json
    let num = |v: &serde_json::Value| -> f64 {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap()
    };
    let (lo, hi) = (num(&g["ci95"][0]), num(&g["ci95"][1]));
    let sd = num(&g["sd"]);
    // half-width = t(0.975, 2) · sd / √3 = 4.303 · sd / √3, not 1.96 · sd / √3
    let half = (hi - lo) / 2.0;
    assert!(
        (half / (sd / 3f64.sqrt()) - 4.3027).abs() < 1e-3,
        "{half} {sd}"
    );
}

/// A scripted market: one seller sells by script; a second seller has a Shop plan and no
/// products, so it cannot sell anything.
const IDLE: &str = r#"
[scenario]
name = "idle-shop-plan"
region = "ID"
start = "2025-10-01"
days = 10
replications = 3

[[sellers]]
id = "glow"
shop_plan_rate = "5%"

[[sellers]]
id = "idle"
shop_plan_rate = "20%"

[[products]]
id = "serum"
seller = "glow"
price = "150000"

[[creators]]
id = "ayu"
followers = 25000

[behaviour.creators]
actions_per_day = 0.0

[behaviour.buyers]
conversion_rate = 0.0

[[script.orders]]
id = "serum-video"
at = "2025-10-02 12:00"
creator = "ayu"
product = "serum"
quantity = 2
delivered = "2025-10-03 12:00"
"#;

#[test]
fn lift_of_a_campaign_that_cannot_sell_is_zero_and_said_so() {
    let dir = TempDir::new("answers-lift-idle");
    let file = dir.write("idle.toml", IDLE);
    let out = dir.join("lift");
    let o = affsim(&[
        "lift",
        arg(&file),
        "--campaign",
        "shop:idle",
        "--campaign",
        "shop:glow",
        "--json",
        "--out",
        arg(&out),
        "-q",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let doc = json(&o.stdout);
    assert_eq!(doc["replications"], 3);
    let c = &doc["campaigns"];
    assert_eq!(c[0]["id"], "shop:idle");
    for k in ["incremental_gmv", "incremental_cost", "cannibalised_gmv"] {
        assert_eq!(c[0][k]["mean"], "0", "{k}");
        assert!(
            c[0][k]["ci95"].is_null() || c[0][k]["ci95"] == serde_json::json!([0.0, 0.0]),
            "{k}: {}",
            c[0][k]
        );
    }
    let r = &c[0]["incremental_gmv_per_incremental_cost"];
    assert!(r["value"].is_null() && r["ci95"].is_null(), "{r}");
    assert!(r["note"].as_str().unwrap().contains("zero"));
    // the seller that sells: without its Shop plan the line is unattributed, GMV unchanged
    assert_eq!(c[1]["id"], "shop:glow");
    assert_eq!(c[1]["incremental_gmv"]["mean"], "0");
    assert_eq!(c[1]["own_gmv"]["mean"], "300000");
    assert_eq!(c[1]["cannibalised_gmv"]["mean"], "300000");
    assert_eq!(c[1]["incremental_cost"]["mean"], "15000");
    assert_eq!(
        c[1]["gmv_by_plan"]["unattributed"]["without"]["mean"],
        "300000"
    );
    for f in ["lift.json", "lift.csv", "report.md"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let csv = std::fs::read_to_string(out.join("lift.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 3, "{csv}");
    // an unknown campaign is a clear error
    let bad = affsim(&["lift", arg(&file), "--campaign", "open:nope"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(
        bad.stderr.contains("no campaign `open:nope`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn lift_json_of_the_demo_has_the_documented_fields() {
    let o = affsim(&[
        "lift",
        "--campaign",
        "plus:glow-task",
        "--replications",
        "2",
        "--json",
        "-q",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let doc = json(&o.stdout);
    for k in [
        "scenario",
        "currency",
        "seed",
        "replications",
        "pairing",
        "campaigns",
    ] {
        assert!(!doc[k].is_null(), "{k}");
    }
    let c = &doc["campaigns"][0];
    for k in [
        "id",
        "kind",
        "own_gmv",
        "own_cost",
        "incremental_gmv",
        "incremental_cost",
        "incremental_gmv_per_incremental_cost",
        "cost_per_incremental_gmv",
        "cannibalised_gmv",
        "gmv_by_plan",
        "per_replication",
    ] {
        assert!(!c[k].is_null(), "{k}");
    }
    assert_eq!(c["kind"], "plus-task");
    assert_eq!(c["per_replication"].as_array().unwrap().len(), 2);
    assert!(c["gmv_by_plan"]["plus"]["difference"]["mean"].is_string());
}

#[test]
fn sensitivity_lists_the_demo_levers() {
    let dir = TempDir::new("answers-sensitivity");
    let out = dir.join("sens");
    let o = affsim(&[
        "sensitivity",
        "--replications",
        "2",
        "--step",
        "0.2",
        "--out",
        arg(&out),
        "-q",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    for lever in [
        "open_rate",
        "shop_plan_rate",
        "target_rate",
        "plus_task_reward",
        "samples",
    ] {
        assert!(o.stdout.contains(lever), "{lever}\n{}", o.stdout);
    }
    let doc = json(&std::fs::read_to_string(out.join("sensitivity.json")).unwrap());
    assert_eq!(doc["step"], 0.2);
    let levers = doc["levers"].as_array().unwrap();
    assert!(levers.len() >= 5);
    for l in levers {
        for r in ["gmv", "participation", "content"] {
            let x = &l["responses"][r];
            // the behaviour model states a closed form for some pairs only (docs/behaviour.md)
            assert!(
                x["configured"].is_null() || x["configured"].is_number(),
                "{x}"
            );
            assert!(x["elasticity"].is_object());
        }
    }
    // wired to the behaviour model: the market-wide Open rate has a configured content elasticity
    let open = levers
        .iter()
        .find(|l| l.to_string().contains("\"open_rate\""))
        .expect("open_rate lever");
    assert!(
        open["responses"]["content"]["configured"].is_number(),
        "{open}"
    );
    assert!(out.join("sensitivity.csv").is_file() && out.join("report.md").is_file());
    // the demo's `budget` Plus policy selects fewer creators at a higher Task reward: a negative
    // participation figure is explained in the report, not left to read as creators shunning money
    let task = levers
        .iter()
        .find(|l| l["lever"] == "plus_task_reward")
        .expect("plus_task_reward lever");
    let part = task["responses"]["participation"]["elasticity"]["mean"]
        .as_f64()
        .expect("a participation elasticity");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let explained = md.contains("plus_task_reward: participation: participation falls");
    assert_eq!(part < 0.0, explained, "participation {part}\n{md}");
    let bad = affsim(&["sensitivity", "--step", "1.5"]);
    assert_eq!(bad.code, 2, "{bad:?}");
}
