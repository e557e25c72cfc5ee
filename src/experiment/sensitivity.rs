//! `affsim sensitivity`: paired −step/+step arms per policy lever, measuring the model's implied arc elasticities of GMV, participation, content, actions and expected earnings.
//!
//! For each lever present in the scenario, every instance of it is scaled by (1 − step) in one
//! arm and (1 + step) in the other (rates kept within 1–80%, money rounded to the currency's
//! minor unit, quantities to whole units); both arms run with the same seed, so replication `i`
//! of each uses the same random streams. Per replication the arc elasticity of a response Y is
//! ((Y₊ − Y₋) / ((Y₊ + Y₋)/2)) / ((X₊ − X₋) / ((X₊ + X₋)/2)), with the lever's realised change
//! averaged over its instances; the mean over replications gets a Student-t interval.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::experiment::stats::{self, MeanDoc};
use crate::experiment::summary::Figure;
use crate::experiment::{RunConfig, run};
use crate::metrics::Metric;
use crate::money::{Money, Rate};
use crate::rules::plus::PlusKind;
use crate::rules::target::Fee;
use crate::scenario::{Action, Scenario};
use crate::sim::shares::LeverWeights;
use crate::sim::shares::{LeverShares, ShareResponse};
use crate::sim::{Replication, RunError};

/// A policy lever the sensitivity report can move: the behaviour model's own lever type, so the
/// configured elasticities are asked about the same levers the report varies.
pub use crate::sim::behaviour::Lever as SensLever;

/// A response the report measures.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SensResponse {
    Gmv,
    Participation,
    Content,
    /// Creators' actions (`Replication::activity`): what the closed form describes.
    Actions,
    /// Creators' expected earnings per post at their actions (mean ln E*/O): its elasticity
    /// is the share of the lever in what creators expect to earn.
    Earnings,
}

impl SensLever {
    pub const ALL: [SensLever; 9] = [
        SensLever::OpenRate,
        SensLever::ShopPlanRate,
        SensLever::TargetRate,
        SensLever::TargetFlatFee,
        SensLever::PlusRate,
        SensLever::PlusTaskReward,
        SensLever::PlusChallengePrizes,
        SensLever::Samples,
        SensLever::DistributorFee,
    ];
    /// The lever's name in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            SensLever::OpenRate => "open_rate",
            SensLever::ShopPlanRate => "shop_plan_rate",
            SensLever::TargetRate => "target_rate",
            SensLever::TargetFlatFee => "target_flat_fee",
            SensLever::PlusRate => "plus_rate",
            SensLever::PlusTaskReward => "plus_task_reward",
            SensLever::PlusChallengePrizes => "plus_challenge_prizes",
            SensLever::Samples => "samples",
            SensLever::DistributorFee => "distributor_fee",
        }
    }
    /// The participation figure that fits the lever: its metric name and how to read it.
    pub fn participation(self) -> &'static str {
        match self {
            SensLever::OpenRate => "approvals",
            SensLever::ShopPlanRate => "showcase_adds",
            SensLever::TargetRate | SensLever::TargetFlatFee => "targets_accepted",
            SensLever::PlusRate | SensLever::PlusTaskReward | SensLever::PlusChallengePrizes => {
                "plus_participants"
            }
            SensLever::Samples => "samples_shipped",
            SensLever::DistributorFee => "links_added",
        }
    }
}

impl SensResponse {
    pub const ALL: [SensResponse; 5] = [
        SensResponse::Gmv,
        SensResponse::Participation,
        SensResponse::Content,
        SensResponse::Actions,
        SensResponse::Earnings,
    ];
    pub fn name(self) -> &'static str {
        match self {
            SensResponse::Gmv => "gmv",
            SensResponse::Participation => "participation",
            SensResponse::Content => "content",
            SensResponse::Actions => "actions",
            SensResponse::Earnings => "earnings",
        }
    }
}

/// The elasticity the behaviour model is configured with, if it states one
/// ([`crate::sim::behaviour::configured_elasticity`]; content is compared with its posts figure).
fn configured(s: &Scenario, lever: SensLever, response: SensResponse) -> Option<f64> {
    use crate::sim::behaviour::{Response, configured_elasticity};
    let response = match response {
        SensResponse::Gmv => Response::Gmv,
        SensResponse::Participation => Response::Participants,
        SensResponse::Content => Response::Posts,
        SensResponse::Actions => Response::Actions,
        SensResponse::Earnings => Response::Earnings,
    };
    configured_elasticity(s, lever, response)
}

fn scale_rate(r: Rate, k: f64) -> Rate {
    let v = r.0 * Decimal::from_f64(k).unwrap_or(Decimal::ONE);
    Rate(
        v.round_dp(2)
            .clamp(Decimal::ONE, Decimal::from(80))
            .normalize(),
    )
}

fn scale_money(m: Money, k: f64, minor: u32) -> Money {
    Money((m.0 * Decimal::from_f64(k).unwrap_or(Decimal::ONE)).round_dp(minor))
}

fn scale_count(n: u32, k: f64) -> u32 {
    (f64::from(n) * k).round().max(0.0) as u32
}

/// One hundredth of a percentage point: the precision scaled rates are rounded to.
const RATE_TICK: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// PLUS-9's bound on the Open rate of product `p` of Open plan `plan`: below the lowest Plus
/// rate of the collaborations with `p` (their Shop Ads rate as well when the plan has no Open
/// Shop Ads rate), or None.
fn plus9_ceiling(sc: &Scenario, plan: usize, p: crate::model::ProductId) -> Option<Decimal> {
    let no_open_ads = sc.open_plans[plan].shop_ads_rate.is_none();
    sc.plus
        .iter()
        .filter(|c| c.products.contains(&p))
        .flat_map(|c| [c.rate, c.shop_ads_rate.filter(|_| no_open_ads)])
        .flatten()
        .map(|r| r.0)
        .min()
}

/// PLUS-9's bound on Plus collaboration `c`'s rate: above the highest Open rate of its products.
fn plus9_floor(sc: &Scenario, c: usize) -> Option<Decimal> {
    let camp = &sc.plus[c];
    sc.open_plans
        .iter()
        .flat_map(|p| &p.listings)
        .filter(|(p, _)| camp.products.contains(p))
        .map(|(_, r)| r.0)
        .max()
}

/// Holds a scaled rate on PLUS-9's side of `bound` when the unscaled `was` is on it: an
/// Open rate below the Plus rate (`below`), a Plus rate above the Open rate. Crossing it would
/// cancel the collaboration at its confirmation (a discrete change, not an elasticity).
fn hold(r: &mut Rate, was: Rate, bound: Option<Decimal>, below: bool) {
    let Some(b) = bound else { return };
    if below && was.0 < b && r.0 >= b {
        *r = Rate((b - RATE_TICK).normalize());
    } else if !below && was.0 > b && r.0 <= b {
        *r = Rate((b + RATE_TICK).normalize());
    }
}

/// The scenario with every instance of `lever` scaled by `k`, and the values of the instances
/// after scaling (in a fixed order, to measure the realised change). An empty list: the lever
/// is not in the scenario. Open and Plus rates stay on their side of PLUS-9 (an Open rate held
/// one hundredth of a point below the Plus rate of a collaboration with its product, a Plus
/// rate above its products' Open rates) where the scenario has them so.
pub fn scaled(sc: &Scenario, lever: SensLever, k: f64) -> (Scenario, Vec<f64>) {
    let mut s = sc.clone();
    let mut vals: Vec<f64> = Vec::new();
    let minor = sc.region.minor_unit;
    let rate = |r: &mut Rate, vals: &mut Vec<f64>| {
        *r = scale_rate(*r, k);
        vals.push(r.0.to_f64().unwrap_or(0.0));
    };
    match lever {
        SensLever::OpenRate => {
            for (i, p) in s.open_plans.iter_mut().enumerate() {
                for l in &mut p.listings {
                    let was = l.1;
                    l.1 = scale_rate(l.1, k);
                    hold(&mut l.1, was, plus9_ceiling(sc, i, l.0), true);
                    vals.push(l.1.0.to_f64().unwrap_or(0.0));
                }
            }
            if let Some(sp) = &mut s.populations.sellers
                && sp.open_plan_share > 0.0
            {
                rate(&mut sp.open_rate.0, &mut vals);
                rate(&mut sp.open_rate.1, &mut vals);
            }
            for a in &mut s.script {
                if let Action::OpenRate {
                    plan,
                    product,
                    rate: r,
                    shop_ads: false,
                } = &mut a.action
                {
                    let was = *r;
                    *r = scale_rate(*r, k);
                    if let Some(p) = *product {
                        hold(r, was, plus9_ceiling(sc, plan.index(), p), true);
                    }
                    vals.push(r.0.to_f64().unwrap_or(0.0));
                }
            }
        }
        SensLever::ShopPlanRate => {
            for x in &mut s.named.sellers {
                if let Some(r) = &mut x.shop_plan_rate {
                    rate(r, &mut vals);
                }
            }
            if let Some(sp) = &mut s.populations.sellers
                && sp.shop_plan_share > 0.0
            {
                rate(&mut sp.shop_plan_rate.0, &mut vals);
                rate(&mut sp.shop_plan_rate.1, &mut vals);
            }
            for a in &mut s.script {
                if let Action::ShopRate { rate: r, .. } = &mut a.action {
                    rate(r, &mut vals);
                }
            }
        }
        SensLever::TargetRate => {
            for inv in &mut s.invitations {
                for p in &mut inv.products {
                    rate(&mut p.rate, &mut vals);
                }
                for (_, _, r) in &mut inv.creator_rates {
                    rate(r, &mut vals);
                }
            }
        }
        SensLever::TargetFlatFee => {
            for inv in &mut s.invitations {
                if let Fee::Flat(m) = &mut inv.fee {
                    *m = scale_money(*m, k, minor);
                    vals.push(m.0.to_f64().unwrap_or(0.0));
                }
            }
        }
        SensLever::PlusRate => {
            for (i, c) in s.plus.iter_mut().enumerate() {
                if let Some(r) = &mut c.rate {
                    let was = *r;
                    *r = scale_rate(*r, k);
                    hold(r, was, plus9_floor(sc, i), false);
                    vals.push(r.0.to_f64().unwrap_or(0.0));
                }
            }
        }
        SensLever::PlusTaskReward => {
            for c in &mut s.plus {
                if let PlusKind::Task { reward, .. } = &mut c.kind {
                    *reward = scale_money(*reward, k, minor);
                    vals.push(reward.0.to_f64().unwrap_or(0.0));
                }
            }
        }
        SensLever::PlusChallengePrizes => {
            for c in &mut s.plus {
                if let PlusKind::Challenge { rank_rewards, .. } = &mut c.kind {
                    for m in rank_rewards {
                        *m = scale_money(*m, k, minor);
                        vals.push(m.0.to_f64().unwrap_or(0.0));
                    }
                }
            }
        }
        SensLever::Samples => {
            for p in &mut s.open_plans {
                if let Some((terms, _)) = &mut p.samples {
                    terms.quantity = scale_count(terms.quantity, k);
                    vals.push(f64::from(terms.quantity));
                }
            }
            if let Some(sp) = &mut s.populations.sellers
                && sp.open_samples > 0
            {
                sp.open_samples = scale_count(sp.open_samples, k);
                vals.push(f64::from(sp.open_samples));
            }
            for c in &mut s.plus {
                for n in c.samples.iter_mut().filter(|n| **n > 0) {
                    *n = scale_count(*n, k);
                    vals.push(f64::from(*n));
                }
            }
        }
        SensLever::DistributorFee => {
            for c in &mut s.campaigns {
                rate(&mut c.campaign.min_distributor_rate, &mut vals);
            }
            for a in &mut s.script {
                if let Action::Register {
                    distributor_rate, ..
                } = &mut a.action
                {
                    rate(distributor_rate, &mut vals);
                }
            }
        }
    }
    (s, vals)
}

/// The levers present in `sc`.
pub fn levers(sc: &Scenario) -> Vec<SensLever> {
    SensLever::ALL
        .into_iter()
        .filter(|&l| !scaled(sc, l, 1.0).1.is_empty())
        .collect()
}

fn participation(r: &Replication, lever: SensLever) -> f64 {
    let m = Metric::parse(lever.participation());
    m.map_or(0.0, |m| r.total(m).to_f64().unwrap_or(0.0))
}

fn response(r: &Replication, lever: SensLever, resp: SensResponse) -> f64 {
    let t = |m: Metric| r.total(m).to_f64().unwrap_or(0.0);
    match resp {
        SensResponse::Gmv => t(Metric::Gmv),
        SensResponse::Participation => participation(r, lever),
        SensResponse::Content => t(Metric::Posts) + t(Metric::Lives),
        SensResponse::Actions => r.activity.actions as f64,
        SensResponse::Earnings => r.activity.mean_log_earnings().unwrap_or(f64::NAN),
    }
}

/// A response as `per_replication` writes it: GMV exactly, as a string; counts as numbers;
/// the mean log earnings ratio as a number (0 with the incentive model off, when no earnings
/// are scored: its elasticity then says so).
fn exact(r: &Replication, lever: SensLever, resp: SensResponse) -> Figure {
    match resp {
        SensResponse::Gmv => Figure::money(r.total(Metric::Gmv)),
        SensResponse::Earnings => Figure::Count(
            r.activity
                .mean_log_earnings()
                .and_then(|x| serde_json::Number::from_f64(stats::round(x)))
                .unwrap_or_else(|| 0.into()),
        ),
        _ => Figure::count(response(r, lever, resp).round() as u64),
    }
}

/// A response's change between the arms of one replication: the arc change of a level, or the
/// difference of the mean log earnings (already a log change).
fn change_of(resp: SensResponse, lo: f64, hi: f64) -> f64 {
    match resp {
        SensResponse::Earnings => hi - lo,
        _ => arc(lo, hi),
    }
}

fn arc(lo: f64, hi: f64) -> f64 {
    let mid = (lo + hi) / 2.0;
    if mid == 0.0 { 0.0 } else { (hi - lo) / mid }
}

/// One lever's arms.
pub struct LeverRun {
    pub lever: SensLever,
    /// The lever's realised arc change, averaged over its instances.
    pub change: f64,
    pub instances: usize,
    pub minus: Vec<Replication>,
    pub plus: Vec<Replication>,
    /// The base arm's state per replication (same seeds), for a lever whose elasticities have
    /// a closed form on it (Open and Shop plan rates under the incentive model); else empty.
    pub base: Vec<BaseState>,
}

/// What the closed forms of docs/behaviour.md §6 need from one replication of the unscaled
/// scenario: its lever shares and its content (posts and LIVEs).
#[derive(Copy, Clone, Debug)]
pub struct BaseState {
    pub shares: LeverShares,
    pub content: f64,
}

impl BaseState {
    /// The base state of a replication run with `RunOptions::lever_shares`, if recorded.
    pub fn of(r: &Replication) -> Option<BaseState> {
        let t = |m: Metric| r.total(m).to_f64().unwrap_or(0.0);
        r.activity.shares.map(|shares| BaseState {
            shares,
            content: t(Metric::Posts) + t(Metric::Lives),
        })
    }
}

/// The lever's index in [`LeverShares`] (0: Open rates, 1: Shop plan rates), if it has one.
fn share_index(lever: SensLever) -> Option<usize> {
    match lever {
        SensLever::OpenRate => Some(0),
        SensLever::ShopPlanRate => Some(1),
        _ => None,
    }
}

/// Per replication, the elasticity of `resp` to `lever` that the parameters imply on the base
/// arm's state (docs/behaviour.md §6), or None where there is no closed form. GMV has the
/// content figure when saturation is off (as `configured_elasticity` says), none with it on.
fn configured_on_base(sc: &Scenario, lr: &LeverRun, resp: SensResponse) -> Option<Vec<f64>> {
    let k = share_index(lr.lever)?;
    if lr.base.is_empty() || !sc.behaviour.incentives.enabled {
        return None;
    }
    let r = match resp {
        SensResponse::Actions => ShareResponse::Actions,
        SensResponse::Content => ShareResponse::Content,
        SensResponse::Earnings => ShareResponse::Earnings,
        SensResponse::Gmv if sc.behaviour.buyers.saturation_exponent == 0.0 => {
            ShareResponse::Content
        }
        _ => return None,
    };
    lr.base
        .iter()
        .map(|b| b.shares.configured(k, r, b.content))
        .collect()
}

/// What the base arm's recorder needs to know of the arms (`RunOptions::lever_weights`): per
/// rate lever (Open, Shop plan), how far each of its rates moves relative to the lever's mean
/// realised change at ±`step`.
pub fn base_weights(sc: &Scenario, step: f64) -> std::sync::Arc<[LeverWeights; 2]> {
    let weights = |lever: SensLever| {
        let (lo, lv) = scaled(sc, lever, 1.0 - step);
        let (hi, hv) = scaled(sc, lever, 1.0 + step);
        if lv.is_empty() {
            return LeverWeights::default();
        }
        let change = lv.iter().zip(&hv).map(|(&a, &b)| arc(a, b)).sum::<f64>() / lv.len() as f64;
        lever_weights(sc, (&lo, &hi), lever, step, change)
    };
    std::sync::Arc::new([
        weights(SensLever::OpenRate),
        weights(SensLever::ShopPlanRate),
    ])
}

/// How far each rate of `lever` moves in its arms relative to the lever's mean realised change
/// `change` (docs/behaviour.md §6a, step 0): a named Open plan's listing rates and scripted
/// Open rate changes, each by its own realised change (PLUS-9 holds some below a Plus rate);
/// every other rate by the nominal change.
fn lever_weights(
    sc: &Scenario,
    (lo, hi): (&Scenario, &Scenario),
    lever: SensLever,
    step: f64,
    change: f64,
) -> LeverWeights {
    if change <= 0.0 {
        return LeverWeights::default();
    }
    let of =
        |a: Rate, b: Rate| arc(a.0.to_f64().unwrap_or(0.0), b.0.to_f64().unwrap_or(0.0)) / change;
    let mut by_rate = Vec::new();
    if lever == SensLever::OpenRate {
        for (i, plan) in sc.open_plans.iter().enumerate() {
            for (j, &(p, r)) in plan.listings.iter().enumerate() {
                by_rate.push((
                    p,
                    r,
                    of(
                        lo.open_plans[i].listings[j].1,
                        hi.open_plans[i].listings[j].1,
                    ),
                ));
            }
        }
        for ((a, l), h) in sc.script.iter().zip(&lo.script).zip(&hi.script) {
            if let (
                Action::OpenRate {
                    plan,
                    product,
                    rate,
                    shop_ads: false,
                },
                Action::OpenRate { rate: rl, .. },
                Action::OpenRate { rate: rh, .. },
            ) = (&a.action, &l.action, &h.action)
            {
                let w = of(*rl, *rh);
                let listings = &sc.open_plans[plan.index()].listings;
                for &(p, _) in listings
                    .iter()
                    .filter(|(p, _)| product.is_none_or(|q| q == *p))
                {
                    by_rate.push((p, *rate, w));
                }
            }
        }
    }
    LeverWeights {
        by_rate,
        other: arc(1.0 - step, 1.0 + step) / change,
    }
}

/// Runs the −step and +step arms of every lever present in `sc`.
pub fn run_sensitivity(
    sc: &Scenario,
    step: f64,
    cfg: &RunConfig,
    progress: &dyn Fn(&str),
) -> Result<Vec<LeverRun>, RunError> {
    let present = levers(sc);
    let mut out = Vec::new();
    for (i, lever) in present.iter().copied().enumerate() {
        progress(&format!(
            "{} ±{step} ({}/{})",
            lever.name(),
            i + 1,
            present.len()
        ));
        let (lo_sc, lo) = scaled(sc, lever, 1.0 - step);
        let (hi_sc, hi) = scaled(sc, lever, 1.0 + step);
        let changes: Vec<f64> = lo.iter().zip(&hi).map(|(&a, &b)| arc(a, b)).collect();
        let change = changes.iter().sum::<f64>() / changes.len().max(1) as f64;
        out.push(LeverRun {
            lever,
            change,
            instances: lo.len(),
            minus: run(&lo_sc, cfg)?.replications,
            plus: run(&hi_sc, cfg)?.replications,
            base: Vec::new(),
        });
    }
    // The base arm (the scenario as given, the same seeds), recording the state the closed
    // forms of the rate levers need; only when one of them is present and the model is on.
    if sc.behaviour.incentives.enabled && present.iter().any(|&l| share_index(l).is_some()) {
        progress("base arm (the state behind the configured figures)");
        let mut base_cfg = cfg.clone();
        base_cfg.options.lever_shares = true;
        base_cfg.options.lever_weights = Some(base_weights(sc, step));
        let base: Vec<BaseState> = run(sc, &base_cfg)?
            .replications
            .iter()
            .filter_map(BaseState::of)
            .collect();
        for lr in out.iter_mut().filter(|lr| share_index(lr.lever).is_some()) {
            lr.base = base.clone();
        }
    }
    Ok(out)
}

/// The `sensitivity.json` document, typed; its fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensitivityDoc {
    pub scenario: String,
    pub currency: String,
    pub seed: u64,
    pub replications: usize,
    pub step: f64,
    pub levers: Vec<LeverDoc>,
}

/// One lever: its realised change and each response's elasticity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeverDoc {
    pub lever: String,
    pub instances: usize,
    pub lever_change: f64,
    /// By response ([`SensResponse::ALL`] order).
    #[serde(with = "crate::experiment::summary::ordered_map")]
    pub responses: Vec<(String, ResponseDoc)>,
    /// The terms of the closed form on the base arm's state (means over replications), for a
    /// lever that has one (docs/behaviour.md §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_form: Option<ClosedFormDoc>,
    pub per_replication: Vec<LeverReplication>,
}

/// The terms of docs/behaviour.md §6's closed form on the base arm's state, means over
/// replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClosedFormDoc {
    /// S: the lever's share of creators' expected earnings E*, mean over their actions.
    pub share: f64,
    /// Sσ: the saturation part of E* (σ·L/(K + L) × commission ÷ E*), mean over actions.
    pub saturation: f64,
    /// d ln actions ÷ d ln E*, mean over actions (a).
    pub actions_per_log_earnings: f64,
    /// A = mean of a × share; Aσ = mean of a × saturation part.
    pub a_share: f64,
    pub a_saturation: f64,
    /// U: the substitution part of E* (creators' choices at searches shifting toward the
    /// lever's products), mean over actions; S and A above leave it out.
    #[serde(default)]
    pub substitution: f64,
    /// P: the time path of the earnings measure (added actions come at the end of each
    /// creator's sequence), before saturation.
    #[serde(default)]
    pub time_path: f64,
    /// d ln content ÷ d ln actions: π (1 + f).
    pub content_per_action: f64,
    /// V: the sample videos the added actions' searches bring, ÷ content, before saturation
    /// (step 1d).
    #[serde(default)]
    pub sample_searches: f64,
    /// d ln (live items) of the Open, Shop plan and other products' content (step 3a:
    /// saturation by product group), mean over the replications where the group system has a
    /// solution; null when none has (the aggregate form is used then).
    #[serde(default)]
    pub live_by_group: Option<[f64; 3]>,
}

fn closed_form_doc(lr: &LeverRun) -> Option<ClosedFormDoc> {
    let k = share_index(lr.lever)?;
    if lr.base.is_empty() {
        return None;
    }
    let n = lr.base.len() as f64;
    let mean = |f: &dyn Fn(&BaseState) -> f64| stats::round(lr.base.iter().map(f).sum::<f64>() / n);
    Some(ClosedFormDoc {
        share: mean(&|b| b.shares.terms(k)[0]),
        saturation: mean(&|b| b.shares.terms(k)[1]),
        actions_per_log_earnings: mean(&|b| b.shares.actions_per_log_earnings().unwrap_or(0.0)),
        a_share: mean(&|b| b.shares.terms(k)[2]),
        a_saturation: mean(&|b| b.shares.terms(k)[3]),
        substitution: mean(&|b| b.shares.terms(k)[4]),
        time_path: mean(&|b| b.shares.terms(k)[5]),
        content_per_action: mean(&|b| b.shares.content_per_action_elasticity(b.content)),
        sample_searches: mean(&|b| b.shares.sample_searches[k] / b.content),
        live_by_group: {
            let solved: Vec<[f64; 3]> = lr
                .base
                .iter()
                .filter_map(|b| b.shares.live_by_group(k))
                .collect();
            (!solved.is_empty()).then(|| {
                let m = solved.len() as f64;
                std::array::from_fn(|g| stats::round(solved.iter().map(|e| e[g]).sum::<f64>() / m))
            })
        },
    })
}

/// How one response moved: the arc elasticity, the configured one, both arms and their paired
/// difference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseDoc {
    pub elasticity: Elasticity,
    /// The elasticity the parameters imply: for the Open and Shop plan rates under the
    /// incentive model, the closed form on the base arm's state (mean over replications,
    /// docs/behaviour.md §6); 0 with the model off; null where there is no closed form.
    pub configured: Option<f64>,
    /// The closed form on the base arm's state, per replication: its mean and interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_interval: Option<MeanDoc>,
    /// Measured − configured, paired by replication (the arms and the base arm share seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versus_configured: Option<MeanDoc>,
    /// The closed form on the market at the start (`configured_elasticity`: the lever's share
    /// of the value of a search, without saturation or the posting margin), for comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_at_start: Option<f64>,
    pub minus: MeanDoc,
    pub plus: MeanDoc,
    pub difference: MeanDoc,
    /// The participation metric measured (the participation response only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<String>,
    /// Actions, for a lever with a closed form: per replication, the closed form's actions ÷
    /// earnings elasticity on its base arm × its measured earnings elasticity: the actions
    /// response the closed form implies for the earnings creators saw (docs/behaviour.md §6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<MeanDoc>,
    /// Actions, for a lever with a closed form: the closed form's actions ÷ earnings
    /// elasticity on the base arm's state (mean over replications), the factor of `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_per_log_earnings: Option<f64>,
    /// Content, for a lever with a closed form: content − actions elasticity per replication
    /// (posts per action: the showcase filling, measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posts_per_action: Option<MeanDoc>,
}

/// An arc elasticity with its interval; `mean` and `ci95` null, with a note, when the lever did
/// not move.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Elasticity {
    pub mean: Option<f64>,
    pub ci95: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One pair of replications: each response in the −step and +step arms
/// (`<response>_minus`, `<response>_plus`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeverReplication {
    pub replication: u32,
    #[serde(flatten, with = "crate::experiment::summary::ordered_map")]
    pub responses: Vec<(String, Figure)>,
}

/// The `sensitivity.json` document.
pub fn sensitivity_doc(sc: &Scenario, seed: u64, step: f64, runs: &[LeverRun]) -> SensitivityDoc {
    let levers = runs
        .iter()
        .map(|lr| {
            let mut responses = Vec::new();
            // Per replication, each response's elasticity (None: no change of the lever, or no
            // earnings scored).
            let per_rep = |resp: SensResponse| -> Option<Vec<f64>> {
                let lo = lr.minus.iter().map(|r| response(r, lr.lever, resp));
                let hi = lr.plus.iter().map(|r| response(r, lr.lever, resp));
                let e: Vec<f64> = lo
                    .zip(hi)
                    .map(|(a, b)| change_of(resp, a, b) / lr.change)
                    .collect();
                (lr.change != 0.0 && e.iter().all(|x| x.is_finite())).then_some(e)
            };
            // The actions response per unit of the earnings response per replication: the
            // closed form's actions ÷ its earnings on the base arm's state (the lever's
            // share-weighted a, with saturation), else d ln actions ÷ d ln E* at the start.
            let a_per_rep: Option<Vec<f64>> = match (
                configured_on_base(sc, lr, SensResponse::Actions),
                configured_on_base(sc, lr, SensResponse::Earnings),
            ) {
                (Some(a), Some(e)) => a
                    .iter()
                    .zip(&e)
                    .map(|(a, e)| (*e != 0.0).then(|| a / e))
                    .collect(),
                _ => crate::sim::behaviour::actions_per_log_earnings(sc)
                    .map(|m| vec![m; lr.minus.len()]),
            };
            let closed = configured(sc, lr.lever, SensResponse::Actions).is_some();
            let none = |note: &str| Elasticity {
                mean: None,
                ci95: None,
                warning: None,
                note: Some(note.into()),
            };
            for resp in SensResponse::ALL {
                let lo: Vec<f64> = lr
                    .minus
                    .iter()
                    .map(|r| response(r, lr.lever, resp))
                    .collect();
                let hi: Vec<f64> = lr
                    .plus
                    .iter()
                    .map(|r| response(r, lr.lever, resp))
                    .collect();
                let elasticity = match per_rep(resp) {
                    _ if lr.change == 0.0 => {
                        none("no interval: rounding leaves the lever unchanged at this step")
                    }
                    None => none("no expected earnings: the incentive model is off"),
                    Some(e) => {
                        let m = MeanDoc::of(&stats::mean_ci(&e), true);
                        Elasticity {
                            // a non-finite mean is written `null` either way
                            mean: Some(m.mean).filter(|x| x.is_finite()),
                            ci95: m.ci95,
                            warning: m.warning,
                            note: None,
                        }
                    }
                };
                let at_start = configured(sc, lr.lever, resp);
                let on_base = configured_on_base(sc, lr, resp);
                let versus = match (&on_base, per_rep(resp)) {
                    (Some(c), Some(e)) if c.len() == e.len() => {
                        let d: Vec<f64> = e.iter().zip(c).map(|(e, c)| e - c).collect();
                        Some(MeanDoc::of(&stats::mean_ci(&d), true))
                    }
                    _ => None,
                };
                let on_base = on_base.map(|c| MeanDoc::of(&stats::mean_ci(&c), true));
                let mut doc = ResponseDoc {
                    elasticity,
                    configured: on_base
                        .as_ref()
                        .map(|m| m.mean)
                        .or(at_start)
                        .map(stats::round),
                    configured_at_start: at_start.filter(|_| on_base.is_some()).map(stats::round),
                    configured_interval: on_base,
                    versus_configured: versus,
                    minus: MeanDoc::of(&stats::mean_ci(&lo), false),
                    plus: MeanDoc::of(&stats::mean_ci(&hi), false),
                    difference: MeanDoc::of(&stats::paired_diff_ci(&hi, &lo), true),
                    measure: (resp == SensResponse::Participation)
                        .then(|| lr.lever.participation().to_string()),
                    model: None,
                    actions_per_log_earnings: None,
                    posts_per_action: None,
                };
                // The decomposition of docs/behaviour.md §6, where the lever has a closed form:
                // actions = the closed form's d ln actions ÷ d ln E* (on the base arm's state,
                // by replication) × the measured earnings response ("model"); content =
                // actions + posts per action (the showcase filling, measured: no closed form).
                match (resp, &a_per_rep, per_rep(SensResponse::Earnings)) {
                    (SensResponse::Actions, Some(a), Some(earn))
                        if closed && a.len() == earn.len() =>
                    {
                        let model: Vec<f64> = earn.iter().zip(a).map(|(x, a)| a * x).collect();
                        doc.model = Some(MeanDoc::of(&stats::mean_ci(&model), true));
                        let m = a.iter().sum::<f64>() / a.len().max(1) as f64;
                        doc.actions_per_log_earnings = Some(stats::round(m));
                    }
                    (SensResponse::Content, _, _) if closed => {
                        if let (Some(c), Some(a)) = (
                            per_rep(SensResponse::Content),
                            per_rep(SensResponse::Actions),
                        ) {
                            let ppa: Vec<f64> = c.iter().zip(&a).map(|(c, a)| c - a).collect();
                            doc.posts_per_action = Some(MeanDoc::of(&stats::mean_ci(&ppa), true));
                        }
                    }
                    _ => {}
                }
                responses.push((resp.name().to_string(), doc));
            }
            let per_replication = lr
                .minus
                .iter()
                .zip(&lr.plus)
                .map(|(a, b)| LeverReplication {
                    replication: a.index,
                    responses: SensResponse::ALL
                        .iter()
                        .flat_map(|&resp| {
                            [
                                (format!("{}_minus", resp.name()), exact(a, lr.lever, resp)),
                                (format!("{}_plus", resp.name()), exact(b, lr.lever, resp)),
                            ]
                        })
                        .collect(),
                })
                .collect();
            LeverDoc {
                lever: lr.lever.name().to_string(),
                instances: lr.instances,
                lever_change: stats::round(lr.change),
                responses,
                closed_form: closed_form_doc(lr),
                per_replication,
            }
        })
        .collect();
    SensitivityDoc {
        scenario: sc.name.clone(),
        currency: sc.region.currency.clone(),
        seed,
        replications: runs.first().map_or(0, |r| r.minus.len()),
        step,
        levers,
    }
}

fn fmt_e(v: &Elasticity) -> String {
    v.mean.map_or("—".into(), |x| format!("{x:.3}"))
}

/// A number as JSON writes it (`1e-5`, not `0.00001`).
fn json_number(x: f64) -> String {
    serde_json::to_string(&x).unwrap_or_default()
}

/// A mean with its interval, "0.123 [0.100, 0.150]".
fn fmt_ci(mean: Option<f64>, ci: Option<(f64, f64)>) -> String {
    let m = mean.map_or("—".into(), |x| format!("{x:.3}"));
    match ci {
        Some((lo, hi)) => format!("{m} [{lo:.3}, {hi:.3}]"),
        None => m,
    }
}

fn fmt_el(e: &Elasticity) -> String {
    fmt_ci(e.mean, e.ci95)
}

fn fmt_mean(m: Option<&MeanDoc>) -> String {
    m.map_or("—".into(), |m| {
        fmt_ci(Some(m.mean).filter(|x| x.is_finite()), m.ci95)
    })
}

/// The decomposition note of a lever with a closed form (docs/behaviour.md §6).
fn decomposition(l: &LeverDoc) -> Option<String> {
    let get = |name: &str| l.responses.iter().find(|(n, _)| n == name).map(|(_, r)| r);
    let (content, actions, earnings) = (get("content")?, get("actions")?, get("earnings")?);
    let m = actions.actions_per_log_earnings?;
    let num = |x: Option<f64>| x.map_or("—".into(), |x| format!("{x:.3}"));
    let configured = match (&actions.configured_interval, &content.configured_interval) {
        (Some(a), Some(c)) => format!(
            " Configured on the base arm's state (docs/behaviour.md §6): actions {}, content {}, earnings {}; at the start (the lever's share of the value of a search, without saturation or the posting margin) actions would be {}.",
            fmt_mean(Some(a)),
            fmt_mean(Some(c)),
            fmt_mean(earnings.configured_interval.as_ref()),
            num(actions.configured_at_start),
        ),
        _ => String::new(),
    };
    Some(format!(
        "{}: content {} = actions {} + posts per action {} (measured). Actions on the earnings creators saw: {m:.3} (configured actions / configured earnings, on the base arm's state) × earnings {} = {}.{configured}",
        l.lever,
        fmt_el(&content.elasticity),
        fmt_el(&actions.elasticity),
        fmt_mean(content.posts_per_action.as_ref()),
        fmt_el(&earnings.elasticity),
        fmt_mean(actions.model.as_ref()),
    ))
}

/// Why a Plus reward lever's participation can fall as the reward rises: the platform's
/// selection, not the creators (a `budget` policy picks fewer creators when each costs more,
/// PLUS-7), so the table is not read as creators shunning money.
fn selection_note(lever: &str, response: &str, e: &Elasticity) -> Option<&'static str> {
    let reward = [
        SensLever::PlusTaskReward.name(),
        SensLever::PlusChallengePrizes.name(),
    ];
    (reward.contains(&lever) && response == "participation" && e.mean.is_some_and(|m| m < 0.0))
        .then_some(
            "participation falls as the reward rises because the Plus selection policy works to a budget (`budget`: fewer creators fit the same budget when each costs more, PLUS-7); creators' willingness to join rises with the reward (docs/behaviour.md).",
        )
}

/// The result table (stdout): one line per lever and response; and its notes (stderr).
pub fn table(doc: &SensitivityDoc) -> (Vec<String>, Vec<String>) {
    let mut lines = vec![format!(
        "{:<22} {:<34} {:>10} {:>22} {:>10} {:>30}",
        "lever", "response", "measured", "95% CI", "configured", "measured − configured (CI)"
    )];
    let mut notes = Vec::new();
    for l in &doc.levers {
        let lever = l.lever.as_str();
        for (name, r) in &l.responses {
            let label = match &r.measure {
                Some(m) => format!("{name} ({m})"),
                None => name.clone(),
            };
            let e = &r.elasticity;
            let ci = match e.ci95 {
                Some((lo, hi)) => format!("[{lo:.3}, {hi:.3}]"),
                None => "—".into(),
            };
            let conf = r.configured.map_or("—".into(), |x| format!("{x:.3}"));
            let versus = fmt_mean(r.versus_configured.as_ref());
            lines.push(format!(
                "{lever:<22} {label:<34} {:>10} {ci:>22} {conf:>10} {versus:>30}",
                fmt_e(e)
            ));
            if let Some(n) = &e.note {
                notes.push(format!("{lever}: {name}: {n}"));
            }
            if let Some(n) = selection_note(lever, name, e) {
                notes.push(format!("{lever}: {name}: {n}"));
            }
        }
        notes.extend(decomposition(l));
    }
    lines.push(String::new());
    lines.push(format!(
        "Arc elasticities over paired ±{} arms, {} replication(s) each (common random numbers); earnings: the change of creators' mean ln(E*/O) at their actions; configured: the closed form the parameters imply (for the Open and Shop plan rates, on the base arm's state: docs/behaviour.md §6), paired with the measured figure by replication; \"—\": no interval, or no closed form for that lever and response.",
        json_number(doc.step),
        doc.replications
    ));
    (lines, notes)
}

/// Writes a sensitivity analysis's output folder: `sensitivity.json`, `sensitivity.csv` and
/// `report.md`.
pub fn write_folder(dir: &std::path::Path, doc: &SensitivityDoc) -> anyhow::Result<()> {
    crate::report::output::write_json(dir, "sensitivity.json", doc)?;
    write_csv(&dir.join("sensitivity.csv"), doc)?;
    write_markdown(&dir.join("report.md"), doc)
}

/// Writes `sensitivity.csv`: one row per lever and replication, each response in both arms.
pub fn write_csv(path: &std::path::Path, doc: &SensitivityDoc) -> anyhow::Result<()> {
    let mut header = vec!["lever".to_string(), "replication".to_string()];
    for resp in SensResponse::ALL {
        header.push(format!("{}_minus", resp.name()));
        header.push(format!("{}_plus", resp.name()));
    }
    let rows = doc.levers.iter().flat_map(|l| {
        l.per_replication.iter().map(|r| {
            let mut row = vec![l.lever.clone(), r.replication.to_string()];
            row.extend(r.responses.iter().map(|(_, v)| v.to_string()));
            row
        })
    });
    super::lift::per_replication_csv(path, &header, rows)
}

/// Writes `report.md`: the table with its method.
pub fn write_markdown(path: &std::path::Path, doc: &SensitivityDoc) -> anyhow::Result<()> {
    let mut s = format!(
        "# Sensitivity: {}\n\nEach lever present in the scenario scaled by 1 − {step} and 1 + {step} (every instance together; rates kept within 1–80%, money rounded to the minor unit), {} paired replication(s) per arm, seed {}. Arc elasticities with 95% Student-t intervals; \"configured\" is the elasticity the behaviour model's parameters imply (for the Open and Shop plan rates, its closed form on the base arm's state: docs/behaviour.md §6), \"—\" where it has none. See docs/statistics.md.\n\n```text\n",
        doc.scenario,
        doc.replications,
        doc.seed,
        step = json_number(doc.step),
    );
    let (lines, notes) = table(doc);
    for l in lines.iter().chain(&notes) {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("```\n");
    std::fs::write(path, s)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_stay_in_bounds_and_money_is_rounded() {
        assert_eq!(
            scale_rate(Rate(Decimal::from(79)), 1.1).0,
            Decimal::from(80)
        );
        assert_eq!(scale_rate(Rate(Decimal::ONE), 0.9).0, Decimal::ONE);
        assert_eq!(
            scale_rate(Rate(Decimal::from(10)), 1.1).0,
            Decimal::from(11)
        );
        assert_eq!(
            scale_money(Money(Decimal::new(1005, 2)), 1.1, 0).0,
            Decimal::from(11)
        );
        assert_eq!(scale_count(3, 1.1), 3);
        assert_eq!(scale_count(10, 0.9), 9);
    }

    #[test]
    fn the_demo_has_levers_and_scaling_moves_them() {
        let sc = crate::scenario::parse(crate::scenario::DEMO_NAME, crate::scenario::DEMO).unwrap();
        let ls = levers(&sc);
        assert!(ls.contains(&SensLever::OpenRate), "{ls:?}");
        assert!(ls.contains(&SensLever::PlusTaskReward), "{ls:?}");
        let (_, lo) = scaled(&sc, SensLever::OpenRate, 0.9);
        let (_, hi) = scaled(&sc, SensLever::OpenRate, 1.1);
        assert!(lo.iter().zip(&hi).all(|(a, b)| a <= b));
        assert!(lo.iter().zip(&hi).any(|(a, b)| a < b));
        assert_eq!(
            configured(&sc, SensLever::OpenRate, SensResponse::Gmv),
            None
        );
    }
}
