//! `affsim lift`: each campaign's incremental effect against the same scenario without it, paired by common random numbers.
//!
//! The baseline runs the scenario as written; each campaign's counterfactual runs the same
//! scenario with that campaign removed (its scripted lifecycle dropped, or its listings or Shop
//! plan withdrawn) and the same seed, so replication `i` of both uses the same random streams.
//! Per replication the differences (with − without) of market GMV, marketing cost and GMV by
//! plan type are paired; docs/statistics.md gives the intervals and the ratio method.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use crate::experiment::stats::{self, MeanCi};
use crate::experiment::{RunConfig, run};
use crate::metrics::Metric;
use crate::rules::ids::{CampaignId, InvitationId, OpenPlanId, PlusId};
use crate::scenario::{Action, Scenario};
use crate::sim::{Replication, RunError};

/// Market GMV by the plan type that paid commission, in report order.
pub const PLAN_GMV: [(&str, Metric); 6] = [
    ("shop", Metric::GmvShop),
    ("open", Metric::GmvOpen),
    ("target", Metric::GmvTarget),
    ("plus", Metric::GmvPlus),
    ("distributor", Metric::GmvDistributor),
    ("unattributed", Metric::GmvUnattributed),
];

/// The market's marketing cost in a replication: commissions, Shop Ads commissions,
/// distributor fees, flat fees paid, Plus rewards paid and service fees kept, less claw-backs.
pub fn marketing_cost(r: &Replication) -> Decimal {
    [
        Metric::Commissions,
        Metric::ShopAdsCommissions,
        Metric::DistributorFees,
        Metric::FlatFeesPaid,
        Metric::RewardsPaid,
        Metric::ServiceFeesCharged,
    ]
    .iter()
    .map(|&m| r.total(m))
    .sum::<Decimal>()
        - r.total(Metric::CommissionsClawedBack)
}

/// The campaigns `lift` can remove: the scenario's named plans, by the ids `summary.json` uses.
pub fn campaign_ids(sc: &Scenario) -> Vec<String> {
    let mut ids: Vec<String> = sc
        .named
        .sellers
        .iter()
        .filter(|s| s.shop_plan_rate.is_some())
        .map(|s| format!("shop:{}", s.name))
        .collect();
    ids.extend(sc.open_plans.iter().map(|p| format!("open:{}", p.name)));
    ids.extend(sc.invitations.iter().map(|i| format!("target:{}", i.name)));
    ids.extend(sc.plus.iter().map(|p| format!("plus:{}", p.name)));
    ids.extend(
        sc.campaigns
            .iter()
            .map(|c| format!("distributor:{}", c.campaign.name)),
    );
    ids
}

/// The scenario without campaign `id`: a Shop plan withdrawn (and its scripted rate changes), an
/// Open plan's listings withdrawn (its products fall back to the Shop plan), or a Target
/// invitation, Plus or distributor campaign whose scripted lifecycle is dropped, so it is never
/// sent, confirmed or opened. Indices of other plans are unchanged.
pub fn without(sc: &Scenario, id: &str) -> Result<Scenario, String> {
    let mut out = sc.clone();
    let (kind, name) = id.split_once(':').unwrap_or(("", id));
    let unknown = || {
        format!(
            "no campaign `{id}` in {}; campaigns: {}",
            sc.file,
            campaign_ids(sc).join(", ")
        )
    };
    let find = |names: Vec<&str>| names.iter().position(|n| *n == name).map(|i| i as u32);
    let keep: Box<dyn Fn(&Action) -> bool> = match kind {
        "shop" => {
            let s = find(sc.named.sellers.iter().map(|s| s.name.as_str()).collect())
                .filter(|&s| sc.named.sellers[s as usize].shop_plan_rate.is_some())
                .ok_or_else(unknown)?;
            out.named.sellers[s as usize].shop_plan_rate = None;
            Box::new(move |a| !matches!(a, Action::ShopRate { seller, .. } if seller.0 == s))
        }
        "open" => {
            let p = find(sc.open_plans.iter().map(|p| p.name.as_str()).collect())
                .ok_or_else(unknown)?;
            out.open_plans[p as usize].listings.clear();
            Box::new(move |a| !matches!(a, Action::OpenRate { plan, .. } if *plan == OpenPlanId(p)))
        }
        "target" => {
            let i = find(sc.invitations.iter().map(|i| i.name.as_str()).collect())
                .ok_or_else(unknown)?;
            Box::new(move |a| {
                !matches!(a,
                    Action::SendInvitation(x) if *x == InvitationId(i))
                    && !matches!(a,
                    Action::TargetResponse { invitation, .. }
                    | Action::VideoSubmission { invitation, .. }
                    | Action::VideoReview { invitation, .. } if *invitation == InvitationId(i))
            })
        }
        "plus" => {
            let i = find(sc.plus.iter().map(|p| p.name.as_str()).collect()).ok_or_else(unknown)?;
            Box::new(move |a| {
                !matches!(a,
                    Action::PlusConfirm(x) | Action::PlusPay(x) | Action::PlusStart(x)
                    | Action::PlusEnd(x) | Action::PlusEdit(x) | Action::PlusCancel(x) if *x == PlusId(i))
                    && !matches!(a,
                    Action::PlusJoin { campaign, .. }
                    | Action::PlusSampleRequest { campaign, .. } if *campaign == PlusId(i))
            })
        }
        "distributor" => {
            let i = find(
                sc.campaigns
                    .iter()
                    .map(|c| c.campaign.name.as_str())
                    .collect(),
            )
            .ok_or_else(unknown)?;
            Box::new(move |a| {
                !matches!(a, Action::OpenCampaign(x) if *x == CampaignId(i))
                    && !matches!(a,
                    Action::Register { campaign, .. }
                    | Action::RegisterTotal { campaign, .. }
                    | Action::ReviewRegistration { campaign, .. }
                    | Action::AddLink { campaign, .. }
                    | Action::Terminate { campaign, .. }
                    | Action::Resume { campaign, .. }
                    | Action::EditCampaign { campaign, .. } if *campaign == CampaignId(i))
            })
        }
        _ => return Err(unknown()),
    };
    out.script.retain(|s| keep(&s.action));
    Ok(out)
}

/// A baseline and one counterfactual per campaign, replication by replication.
pub struct LiftOutcome {
    pub scenario: String,
    pub currency: String,
    pub seed: u64,
    pub baseline: Vec<Replication>,
    /// (campaign id, replications without it).
    pub without: Vec<(String, Vec<Replication>)>,
}

/// Runs the baseline and, for each of `ids` (all named campaigns when empty), the scenario
/// without it, with the same seed and replication indices. `progress` hears each step.
pub fn run_lift(
    sc: &Scenario,
    ids: &[String],
    cfg: &RunConfig,
    progress: &dyn Fn(&str),
) -> Result<LiftOutcome, LiftError> {
    let ids: Vec<String> = if ids.is_empty() {
        campaign_ids(sc)
    } else {
        ids.to_vec()
    };
    let variants: Vec<(String, Scenario)> = ids
        .iter()
        .map(|id| without(sc, id).map(|s| (id.clone(), s)))
        .collect::<Result<_, _>>()
        .map_err(LiftError::Campaign)?;
    progress("baseline (every campaign)");
    let base = run(sc, cfg)?;
    let mut out = Vec::new();
    for (k, (id, v)) in variants.iter().enumerate() {
        progress(&format!("without {id} ({}/{})", k + 1, variants.len()));
        out.push((id.clone(), run(v, cfg)?.replications));
    }
    Ok(LiftOutcome {
        scenario: sc.name.clone(),
        currency: sc.region.currency.clone(),
        seed: base.seed,
        baseline: base.replications,
        without: out,
    })
}

/// Why `lift` could not run.
#[derive(Debug, thiserror::Error)]
pub enum LiftError {
    #[error("{0}")]
    Campaign(String),
    #[error(transparent)]
    Run(#[from] RunError),
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// A money statistic over replications: exact mean as a string, t interval (floats) or `null`,
/// and the warning when `diff` and the interval includes zero.
pub fn money_stat(vals: &[Decimal], diff: bool) -> (Value, MeanCi) {
    let n = vals.len().max(1);
    let mean = (vals.iter().copied().sum::<Decimal>() / Decimal::from(n as u64))
        .round_dp(6)
        .normalize();
    let m = stats::mean_ci(&vals.iter().map(|&v| f(v)).collect::<Vec<_>>());
    let mut v = json!({ "mean": mean.to_string(), "ci95": stats::ci_json(m.ci) });
    if diff && m.spans_zero() {
        v["warning"] = json!(stats::SPANS_ZERO);
    }
    (v, m)
}

fn own(r: &Replication, id: &str) -> (Decimal, Decimal) {
    r.campaigns
        .campaigns
        .iter()
        .find(|c| c.id == id)
        .map_or((Decimal::ZERO, Decimal::ZERO), |c| (c.gmv, c.cost()))
}

/// The `lift.json` document.
pub fn lift_json(o: &LiftOutcome) -> Value {
    let campaigns: Vec<Value> = o
        .without
        .iter()
        .map(|(id, wo)| {
            let pairs: Vec<(&Replication, &Replication)> = o.baseline.iter().zip(wo).collect();
            let d_gmv: Vec<Decimal> = pairs
                .iter()
                .map(|(a, b)| a.total(Metric::Gmv) - b.total(Metric::Gmv))
                .collect();
            let d_cost: Vec<Decimal> = pairs
                .iter()
                .map(|(a, b)| marketing_cost(a) - marketing_cost(b))
                .collect();
            let own_gmv: Vec<Decimal> = pairs.iter().map(|(a, _)| own(a, id).0).collect();
            let own_cost: Vec<Decimal> = pairs.iter().map(|(a, _)| own(a, id).1).collect();
            let cannibalised: Vec<Decimal> =
                own_gmv.iter().zip(&d_gmv).map(|(o, d)| o - d).collect();
            let fl = |v: &[Decimal]| v.iter().map(|&x| f(x)).collect::<Vec<f64>>();
            let per_cost = stats::ratio_ci(&fl(&d_gmv), &fl(&d_cost));
            let cost_per = stats::ratio_ci(&fl(&d_cost), &fl(&d_gmv));
            let mut by_plan = serde_json::Map::new();
            for (name, m) in PLAN_GMV {
                let with: Vec<Decimal> = pairs.iter().map(|(a, _)| a.total(m)).collect();
                let wo: Vec<Decimal> = pairs.iter().map(|(_, b)| b.total(m)).collect();
                let diff: Vec<Decimal> = with.iter().zip(&wo).map(|(a, b)| a - b).collect();
                by_plan.insert(
                    name.to_string(),
                    json!({
                        "with": money_stat(&with, false).0,
                        "without": money_stat(&wo, false).0,
                        "difference": money_stat(&diff, true).0,
                    }),
                );
            }
            let head = o.baseline.first().and_then(|r| {
                r.campaigns
                    .campaigns
                    .iter()
                    .find(|c| c.id == *id)
                    .map(|c| (c.kind.clone(), c.seller.clone()))
            });
            let (kind, seller) = head.unwrap_or_else(|| {
                (
                    id.split(':').next().unwrap_or("").to_string(),
                    None::<String>,
                )
            });
            let per: Vec<Value> = pairs
                .iter()
                .enumerate()
                .map(|(i, (a, b))| {
                    let mut row = json!({
                        "replication": a.index,
                        "gmv_with": a.total(Metric::Gmv).normalize().to_string(),
                        "gmv_without": b.total(Metric::Gmv).normalize().to_string(),
                        "cost_with": marketing_cost(a).normalize().to_string(),
                        "cost_without": marketing_cost(b).normalize().to_string(),
                        "own_gmv": own_gmv[i].normalize().to_string(),
                        "own_cost": own_cost[i].normalize().to_string(),
                    });
                    for (name, m) in PLAN_GMV {
                        row[format!("gmv_{name}_with")] = json!(a.total(m).normalize().to_string());
                        row[format!("gmv_{name}_without")] =
                            json!(b.total(m).normalize().to_string());
                    }
                    row
                })
                .collect();
            json!({
                "id": id,
                "kind": kind,
                "seller": seller,
                "own_gmv": money_stat(&own_gmv, false).0,
                "own_cost": money_stat(&own_cost, false).0,
                "incremental_gmv": money_stat(&d_gmv, true).0,
                "incremental_cost": money_stat(&d_cost, true).0,
                "incremental_gmv_per_incremental_cost": stats::ratio_json(&per_cost),
                "cost_per_incremental_gmv": stats::ratio_json(&cost_per),
                "cannibalised_gmv": money_stat(&cannibalised, true).0,
                "gmv_by_plan": Value::Object(by_plan),
                "per_replication": per,
            })
        })
        .collect();
    json!({
        "scenario": o.scenario,
        "currency": o.currency,
        "seed": o.seed,
        "replications": o.baseline.len(),
        "pairing": "common random numbers: replication i of the baseline and of each counterfactual use the same random streams (seed, i)",
        "campaigns": campaigns,
    })
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        v => v.as_f64(),
    }
}

fn stat_text(v: &Value) -> String {
    let h = |x: f64| crate::report::charts::human(x);
    let mean = num(&v["mean"]).map_or("—".into(), h);
    let ci = match (&v["ci95"][0], &v["ci95"][1]) {
        (a, b) if a.is_number() => format!(
            "[{}, {}]",
            h(a.as_f64().unwrap_or(0.0)),
            h(b.as_f64().unwrap_or(0.0))
        ),
        _ => "—".into(),
    };
    format!("{mean} {ci}")
}

fn ratio_text(v: &Value) -> String {
    let val = v["value"]
        .as_f64()
        .map_or("—".into(), |x| format!("{x:.2}"));
    let ci = match v["ci95"].as_array() {
        Some(a) => format!(
            "[{:.2}, {:.2}]",
            a[0].as_f64().unwrap_or(0.0),
            a[1].as_f64().unwrap_or(0.0)
        ),
        None => "—".into(),
    };
    format!("{val} {ci}")
}

/// The result table (stdout) and the warnings and notes that go with it (stderr).
pub fn table(doc: &Value) -> (Vec<String>, Vec<String>) {
    let mut lines = vec![format!(
        "{:<28} {:>10} {:>24} {:>24} {:>20} {:>24}",
        "campaign",
        "own GMV",
        "ΔGMV [95% CI]",
        "Δcost [95% CI]",
        "ΔGMV/Δcost [95% CI]",
        "cannibalised [95% CI]"
    )];
    let mut notes = Vec::new();
    for c in doc["campaigns"].as_array().into_iter().flatten() {
        let id = c["id"].as_str().unwrap_or("");
        lines.push(format!(
            "{:<28} {:>10} {:>24} {:>24} {:>20} {:>24}",
            id.chars().take(28).collect::<String>(),
            num(&c["own_gmv"]["mean"]).map_or("—".into(), crate::report::charts::human),
            stat_text(&c["incremental_gmv"]),
            stat_text(&c["incremental_cost"]),
            ratio_text(&c["incremental_gmv_per_incremental_cost"]),
            stat_text(&c["cannibalised_gmv"]),
        ));
        for (k, label) in [("incremental_gmv", "ΔGMV"), ("incremental_cost", "Δcost")] {
            if let Some(w) = c[k]["warning"].as_str() {
                notes.push(format!("{id}: {label}: {w}"));
            }
        }
        if let Some(n) = c["incremental_gmv_per_incremental_cost"]["note"].as_str() {
            notes.push(format!("{id}: ΔGMV/Δcost: {n}"));
        }
    }
    lines.push(String::new());
    lines.push(format!(
        "{} replication(s), paired by common random numbers; money in {}. \"—\": no interval.",
        doc["replications"],
        doc["currency"].as_str().unwrap_or("")
    ));
    (lines, notes)
}

/// Writes `lift.csv`: one row per campaign and replication, every figure the statistics use.
pub fn write_csv(path: &std::path::Path, doc: &Value) -> anyhow::Result<()> {
    let mut header: Vec<String> = [
        "campaign",
        "replication",
        "gmv_with",
        "gmv_without",
        "cost_with",
        "cost_without",
        "own_gmv",
        "own_cost",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (name, _) in PLAN_GMV {
        header.push(format!("gmv_{name}_with"));
        header.push(format!("gmv_{name}_without"));
    }
    per_replication_csv(
        path,
        &header,
        doc["campaigns"].as_array(),
        ("campaign", "id"),
    )
}

/// Writes one CSV row per group (a campaign, a lever) and replication: `key` names the first
/// column and the group field it comes from; the other columns are the `per_replication` fields
/// named by `header` (strings unquoted). Shared by `lift.csv` and `sensitivity.csv`.
pub(crate) fn per_replication_csv(
    path: &std::path::Path,
    header: &[String],
    groups: Option<&Vec<Value>>,
    (column, field): (&str, &str),
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(header)?;
    for g in groups.into_iter().flatten() {
        for r in g["per_replication"].as_array().into_iter().flatten() {
            let row: Vec<String> = header
                .iter()
                .map(|h| match &r[h.as_str()] {
                    _ if h == column => g[field].as_str().unwrap_or("").to_string(),
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                })
                .collect();
            w.write_record(&row)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes `report.md`: the table and, per campaign, GMV by plan type with and without it.
pub fn write_markdown(path: &std::path::Path, doc: &Value) -> anyhow::Result<()> {
    let mut s = format!(
        "# Lift: {}\n\nEach campaign against the same scenario without it, {} paired replication(s) (common random numbers), seed {}. Money in {}; 95% Student-t intervals; \"—\" means no interval. See docs/statistics.md.\n\n```text\n",
        doc["scenario"].as_str().unwrap_or(""),
        doc["replications"],
        doc["seed"],
        doc["currency"].as_str().unwrap_or("")
    );
    let (lines, notes) = table(doc);
    for l in lines.iter().chain(&notes) {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("```\n");
    for c in doc["campaigns"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n## {}\n\nGMV by the plan type that paid commission, with and without it (cannibalisation: other plans' GMV falls when it is present).\n\n| plan | with | without | difference [95% CI] |\n|---|---:|---:|---:|\n",
            c["id"].as_str().unwrap_or("")
        ));
        for (name, _) in PLAN_GMV {
            let p = &c["gmv_by_plan"][name];
            let h = |v: &Value| num(&v["mean"]).map_or("—".into(), crate::report::charts::human);
            s.push_str(&format!(
                "| {name} | {} | {} | {} |\n",
                h(&p["with"]),
                h(&p["without"]),
                stat_text(&p["difference"])
            ));
        }
    }
    std::fs::write(path, s)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_a_campaign_drops_its_lifecycle_and_unknown_ids_are_errors() {
        let sc = crate::scenario::parse(crate::scenario::DEMO_NAME, crate::scenario::DEMO).unwrap();
        let ids = campaign_ids(&sc);
        assert!(ids.iter().any(|i| i.starts_with("plus:")), "{ids:?}");
        for id in &ids {
            let w = without(&sc, id).unwrap();
            assert!(w.script.len() <= sc.script.len());
        }
        let plus = ids.iter().find(|i| i.starts_with("plus:")).unwrap();
        let w = without(&sc, plus).unwrap();
        assert!(
            !w.script
                .iter()
                .any(|s| matches!(s.action, Action::PlusConfirm(PlusId(0))))
        );
        let e = without(&sc, "plus:nope").unwrap_err();
        assert!(e.contains("no campaign `plus:nope`"), "{e}");
    }
}
