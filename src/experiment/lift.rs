//! `affsim lift`: each campaign's incremental effect against the same scenario without it, paired by common random numbers.
//!
//! The baseline runs the scenario as written; each campaign's counterfactual runs the same
//! scenario with that campaign removed (its scripted lifecycle dropped, or its listings or Shop
//! plan withdrawn) and the same seed, so replication `i` of both uses the same random streams.
//! Per replication the differences (with − without) of market GMV, marketing cost and GMV by
//! plan type are paired; docs/statistics.md gives the intervals and the ratio method.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::experiment::stats::{self, RatioDoc};
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

/// A money statistic over replications: the exact mean (a decimal string), the t interval
/// (floats) or `null`, and the warning for a difference whose interval includes zero.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoneyStat {
    pub mean: Decimal,
    pub ci95: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The [`MoneyStat`] of `vals`; `diff`: they are differences (warn when the interval includes
/// zero).
pub fn money_stat(vals: &[Decimal], diff: bool) -> MoneyStat {
    let n = vals.len().max(1);
    let mean = (vals.iter().copied().sum::<Decimal>() / Decimal::from(n as u64))
        .round_dp(6)
        .normalize();
    let m = stats::mean_ci(&vals.iter().map(|&v| f(v)).collect::<Vec<_>>());
    MoneyStat {
        mean,
        ci95: stats::ci_doc(m.ci),
        warning: (diff && m.spans_zero()).then(|| stats::SPANS_ZERO.to_string()),
    }
}

/// The `lift.json` document, typed; its fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiftDoc {
    pub scenario: String,
    pub currency: String,
    pub seed: u64,
    pub replications: usize,
    /// How the arms are paired, in words.
    pub pairing: String,
    pub campaigns: Vec<CampaignLift>,
}

/// One campaign's lift: its own figures, the paired differences with and without it, and the
/// GMV of each plan type both ways.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignLift {
    pub id: String,
    pub kind: String,
    pub seller: Option<String>,
    pub own_gmv: MoneyStat,
    pub own_cost: MoneyStat,
    pub incremental_gmv: MoneyStat,
    pub incremental_cost: MoneyStat,
    pub incremental_gmv_per_incremental_cost: RatioDoc,
    pub cost_per_incremental_gmv: RatioDoc,
    pub cannibalised_gmv: MoneyStat,
    /// By plan type ([`PLAN_GMV`] order).
    #[serde(with = "crate::experiment::summary::ordered_map")]
    pub gmv_by_plan: Vec<(String, PlanGmv)>,
    pub per_replication: Vec<LiftReplication>,
}

/// A plan type's GMV with and without the campaign, and the difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGmv {
    pub with: MoneyStat,
    pub without: MoneyStat,
    pub difference: MoneyStat,
}

/// One pair of replications: the figures with and without the campaign (decimal strings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiftReplication {
    pub replication: u32,
    pub gmv_with: Decimal,
    pub gmv_without: Decimal,
    pub cost_with: Decimal,
    pub cost_without: Decimal,
    pub own_gmv: Decimal,
    pub own_cost: Decimal,
    /// `gmv_<plan>_with`, `gmv_<plan>_without` per plan type ([`PLAN_GMV`] order).
    #[serde(flatten, with = "crate::experiment::summary::ordered_map")]
    pub gmv_by_plan: Vec<(String, Decimal)>,
}

impl LiftReplication {
    /// The row's cells in `lift.csv`'s column order (after the campaign).
    fn cells(&self) -> Vec<String> {
        let mut v = vec![
            self.replication.to_string(),
            self.gmv_with.to_string(),
            self.gmv_without.to_string(),
            self.cost_with.to_string(),
            self.cost_without.to_string(),
            self.own_gmv.to_string(),
            self.own_cost.to_string(),
        ];
        v.extend(self.gmv_by_plan.iter().map(|(_, d)| d.to_string()));
        v
    }
}

fn own(r: &Replication, id: &str) -> (Decimal, Decimal) {
    r.campaigns
        .campaigns
        .iter()
        .find(|c| c.id == id)
        .map_or((Decimal::ZERO, Decimal::ZERO), |c| (c.gmv, c.cost()))
}

/// The `lift.json` document.
pub fn lift_doc(o: &LiftOutcome) -> LiftDoc {
    let campaigns = o
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
            let mut by_plan = Vec::new();
            for (name, m) in PLAN_GMV {
                let with: Vec<Decimal> = pairs.iter().map(|(a, _)| a.total(m)).collect();
                let wo: Vec<Decimal> = pairs.iter().map(|(_, b)| b.total(m)).collect();
                let diff: Vec<Decimal> = with.iter().zip(&wo).map(|(a, b)| a - b).collect();
                by_plan.push((
                    name.to_string(),
                    PlanGmv {
                        with: money_stat(&with, false),
                        without: money_stat(&wo, false),
                        difference: money_stat(&diff, true),
                    },
                ));
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
            let per = pairs
                .iter()
                .enumerate()
                .map(|(i, (a, b))| LiftReplication {
                    replication: a.index,
                    gmv_with: a.total(Metric::Gmv).normalize(),
                    gmv_without: b.total(Metric::Gmv).normalize(),
                    cost_with: marketing_cost(a).normalize(),
                    cost_without: marketing_cost(b).normalize(),
                    own_gmv: own_gmv[i].normalize(),
                    own_cost: own_cost[i].normalize(),
                    gmv_by_plan: PLAN_GMV
                        .iter()
                        .flat_map(|(name, m)| {
                            [
                                (format!("gmv_{name}_with"), a.total(*m).normalize()),
                                (format!("gmv_{name}_without"), b.total(*m).normalize()),
                            ]
                        })
                        .collect(),
                })
                .collect();
            CampaignLift {
                id: id.clone(),
                kind,
                seller,
                own_gmv: money_stat(&own_gmv, false),
                own_cost: money_stat(&own_cost, false),
                incremental_gmv: money_stat(&d_gmv, true),
                incremental_cost: money_stat(&d_cost, true),
                incremental_gmv_per_incremental_cost: RatioDoc::of(&per_cost),
                cost_per_incremental_gmv: RatioDoc::of(&cost_per),
                cannibalised_gmv: money_stat(&cannibalised, true),
                gmv_by_plan: by_plan,
                per_replication: per,
            }
        })
        .collect();
    LiftDoc {
        scenario: o.scenario.clone(),
        currency: o.currency.clone(),
        seed: o.seed,
        replications: o.baseline.len(),
        pairing: "common random numbers: replication i of the baseline and of each counterfactual use the same random streams (seed, i)".to_string(),
        campaigns,
    }
}

fn stat_text(v: &MoneyStat) -> String {
    let h = crate::report::charts::human;
    let mean = h(v.mean.to_string().parse().unwrap_or(0.0));
    let ci = match v.ci95 {
        Some((lo, hi)) => format!("[{}, {}]", h(lo), h(hi)),
        None => "—".into(),
    };
    format!("{mean} {ci}")
}

fn ratio_text(v: &RatioDoc) -> String {
    let val = v.value.map_or("—".into(), |x| format!("{x:.2}"));
    let ci = match v.ci95 {
        Some((lo, hi)) => format!("[{lo:.2}, {hi:.2}]"),
        None => "—".into(),
    };
    format!("{val} {ci}")
}

/// The result table (stdout) and the warnings and notes that go with it (stderr).
pub fn table(doc: &LiftDoc) -> (Vec<String>, Vec<String>) {
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
    for c in &doc.campaigns {
        let id = c.id.as_str();
        lines.push(format!(
            "{:<28} {:>10} {:>24} {:>24} {:>20} {:>24}",
            id.chars().take(28).collect::<String>(),
            crate::report::charts::human(c.own_gmv.mean.to_string().parse().unwrap_or(0.0)),
            stat_text(&c.incremental_gmv),
            stat_text(&c.incremental_cost),
            ratio_text(&c.incremental_gmv_per_incremental_cost),
            stat_text(&c.cannibalised_gmv),
        ));
        for (stat, label) in [(&c.incremental_gmv, "ΔGMV"), (&c.incremental_cost, "Δcost")] {
            if let Some(w) = &stat.warning {
                notes.push(format!("{id}: {label}: {w}"));
            }
        }
        if let Some(n) = &c.incremental_gmv_per_incremental_cost.note {
            notes.push(format!("{id}: ΔGMV/Δcost: {n}"));
        }
    }
    lines.push(String::new());
    lines.push(format!(
        "{} replication(s), paired by common random numbers; money in {}. \"—\": no interval.",
        doc.replications, doc.currency
    ));
    (lines, notes)
}

/// Writes a lift's output folder: `lift.json`, `lift.csv` and `report.md`.
pub fn write_folder(dir: &std::path::Path, doc: &LiftDoc) -> anyhow::Result<()> {
    crate::report::output::write_json(dir, "lift.json", doc)?;
    write_csv(&dir.join("lift.csv"), doc)?;
    write_markdown(&dir.join("report.md"), doc)
}

/// Writes `lift.csv`: one row per campaign and replication, every figure the statistics use.
pub fn write_csv(path: &std::path::Path, doc: &LiftDoc) -> anyhow::Result<()> {
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
        doc.campaigns.iter().flat_map(|c| {
            c.per_replication.iter().map(|r| {
                let mut row = vec![c.id.clone()];
                row.extend(r.cells());
                row
            })
        }),
    )
}

/// Writes a CSV: `header`, then `rows` (one per group — a campaign, a lever — and
/// replication). Shared by `lift.csv` and `sensitivity.csv`.
pub(crate) fn per_replication_csv(
    path: &std::path::Path,
    header: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(header)?;
    for row in rows {
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

/// Writes `report.md`: the table and, per campaign, GMV by plan type with and without it.
pub fn write_markdown(path: &std::path::Path, doc: &LiftDoc) -> anyhow::Result<()> {
    let mut s = format!(
        "# Lift: {}\n\nEach campaign against the same scenario without it, {} paired replication(s) (common random numbers), seed {}. Money in {}; 95% Student-t intervals; \"—\" means no interval. See docs/statistics.md.\n\n```text\n",
        doc.scenario, doc.replications, doc.seed, doc.currency
    );
    let (lines, notes) = table(doc);
    for l in lines.iter().chain(&notes) {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("```\n");
    for c in &doc.campaigns {
        s.push_str(&format!(
            "\n## {}\n\nGMV by the plan type that paid commission, with and without it (cannibalisation: other plans' GMV falls when it is present).\n\n| plan | with | without | difference [95% CI] |\n|---|---:|---:|---:|\n",
            c.id
        ));
        for (name, p) in &c.gmv_by_plan {
            let h = |v: &MoneyStat| {
                crate::report::charts::human(v.mean.to_string().parse().unwrap_or(0.0))
            };
            s.push_str(&format!(
                "| {name} | {} | {} | {} |\n",
                h(&p.with),
                h(&p.without),
                stat_text(&p.difference)
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
