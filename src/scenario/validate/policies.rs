//! Issue 15's settings: `[behaviour.incentives.uncertainty]` (ranges of response parameters drawn
//! per replication) and sellers' rate-setting policies (`[[seller_policies]]`,
//! `[populations.sellers] rate_policy`).

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::*;
use super::context::V;

// ---- [behaviour.incentives.uncertainty] (issue 15): ranges of response parameters drawn per
// replication. Kept in this one function so that it can move with the validation modules.

/// The `[low, high]` ranges of `[behaviour.incentives.uncertainty]`, each within its parameter's
/// own bounds and low ≤ high, in [`UncertainParam::ALL`] order.
pub(super) fn uncertainty_ranges(
    v: &mut V,
    u: &crate::scenario::format::UncertaintyRaw,
) -> Vec<(crate::scenario::UncertainParam, f64, f64)> {
    use crate::scenario::UncertainParam as P;
    let mut out = Vec::new();
    for p in P::ALL {
        let raw = match p {
            P::EarningsWeight => &u.earnings_weight,
            P::PostElasticity => &u.post_elasticity,
            P::ParticipationWeight => &u.participation_weight,
            P::ActiveShare => &u.active_share,
            P::OutsideSigma => &u.outside_sigma,
            P::SampleValue => &u.sample_value,
            P::PriceElasticity => &u.price_elasticity,
            P::SaturationExponent => &u.saturation_exponent,
        };
        let Some(r) = raw else { continue };
        let (lo, hi) = p.bounds();
        let ok = |x: f64| x.is_finite() && (lo..=hi).contains(&x);
        match r.get_ref().as_slice() {
            [a, b] if ok(*a) && ok(*b) && a <= b => out.push((p, *a, *b)),
            _ => v.err(
                r.span(),
                format!(
                    "`uncertainty.{}` must be a range [low, high] of two numbers from {lo} to {hi} with low ≤ high, got {:?}",
                    p.key(),
                    r.get_ref()
                ),
                None,
            ),
        }
    }
    out
}
// ---- end of [behaviour.incentives.uncertainty]

// ---- [[seller_policies]] and [populations.sellers] rate_policy (issue 15): sellers'
// rate-setting policies. Kept in these functions so that they can move with the validation
// modules.

/// The `[[seller_policies]]` tables: an Open plan by name and the policy's rule.
pub(super) fn seller_policies(
    v: &mut V,
    raw: &[Spanned<crate::scenario::format::SellerPolicyRaw>],
    plan_names: &super::names::Names,
) -> Vec<crate::scenario::SellerPolicy> {
    use crate::scenario::SellerPolicy;
    let mut out = Vec::new();
    for r in raw {
        let sp = r.get_ref();
        let plan = match &sp.plan {
            Some(p) => plan_names.get(v, p),
            None => {
                v.err(r.span(), "a seller policy names its Open `plan`", None);
                None
            }
        };
        if let Some(s) = &sp.share {
            v.err(
                s.span(),
                "`share` belongs to `[populations.sellers] rate_policy`",
                None,
            );
        }
        let Some((kind, every, min, max, step)) = policy_rule(v, r) else {
            continue;
        };
        if let Some(plan) = plan {
            out.push(SellerPolicy {
                plan: OpenPlanId(plan),
                kind,
                every,
                min,
                max,
                step,
            });
        }
    }
    out
}

/// `[populations.sellers] rate_policy`: a share of the generated Open plans get this policy.
pub(super) fn generated_rate_policy(
    v: &mut V,
    raw: &Option<Spanned<crate::scenario::format::SellerPolicyRaw>>,
) -> Option<(f64, crate::scenario::SellerPolicy)> {
    let r = raw.as_ref()?;
    let sp = r.get_ref();
    if let Some(p) = &sp.plan {
        v.err(
            p.span(),
            "a generated seller's policy sets its own Open plan: no `plan`",
            None,
        );
    }
    let share = v.prob(&sp.share, "share", 1.0);
    let (kind, every, min, max, step) = policy_rule(v, r)?;
    Some((
        share,
        crate::scenario::SellerPolicy {
            plan: OpenPlanId(u32::MAX),
            kind,
            every,
            min,
            max,
            step,
        },
    ))
}

/// A seller policy's rule: a known policy with its parameters, a cadence above 0 (days), rates
/// within RATE-1 with `min_rate` ≤ `max_rate`. Returns (kind, cadence in minutes, min, max,
/// step).
fn policy_rule(
    v: &mut V,
    r: &Spanned<crate::scenario::format::SellerPolicyRaw>,
) -> Option<(crate::scenario::SellerPolicyKind, u32, Rate, Rate, Rate)> {
    use crate::scenario::SellerPolicyKind;
    let sp = r.get_ref();
    let rate_or = |v: &mut V, x: &Option<Spanned<Rate>>, d: &str| match x {
        Some(x) => v.rate(x),
        None => d.parse::<Rate>().unwrap_or_default(),
    };
    let min = rate_or(v, &sp.min_rate, "1%");
    let max = rate_or(v, &sp.max_rate, "80%");
    if min > max {
        v.err(
            r.span(),
            "`min_rate` must not be above `max_rate`",
            Some(RuleId::Rate1),
        );
    }
    let step = match &sp.step {
        Some(s) if !(s.get_ref().0 > Decimal::ZERO && s.get_ref().0 <= Decimal::ONE_HUNDRED) => {
            v.err(s.span(), "`step` is a rate above 0% and at most 100%", None);
            Rate(Decimal::ONE)
        }
        Some(s) => *s.get_ref(),
        None => Rate(Decimal::ONE),
    };
    let days = v.within(&sp.every_days, "every_days", 7.0, (0.0, 3650.0));
    if days <= 0.0
        && let Some(d) = &sp.every_days
    {
        v.err(d.span(), "`every_days` must be greater than 0", None);
    }
    let every = crate::sim::behaviour::days_to_minutes(days.max(1.0 / 1440.0), 1);
    let kind = match sp.policy.get_ref().as_str() {
        "target-return" => {
            if sp.follow.is_some() {
                v.err(
                    sp.policy.span(),
                    "`follow` belongs to `match-competitors`",
                    None,
                );
            }
            let target = v.within(&sp.target_return, "target_return", 10.0, (0.0, 1e6));
            SellerPolicyKind::TargetReturn { target }
        }
        "match-competitors" => {
            if sp.target_return.is_some() {
                v.err(
                    sp.policy.span(),
                    "`target_return` belongs to `target-return`",
                    None,
                );
            }
            let max = match sp.follow.as_ref().map(|f| f.get_ref().as_str()) {
                None | Some("median") => false,
                Some("max") => true,
                Some(other) => {
                    let f = sp.follow.as_ref().map(|f| f.span()).unwrap_or(r.span());
                    v.err(
                        f,
                        format!("`follow` is `median` or `max`, got `{other}`"),
                        None,
                    );
                    false
                }
            };
            SellerPolicyKind::MatchCompetitors { max }
        }
        other => {
            v.err(
                sp.policy.span(),
                format!(
                    "unknown seller policy `{other}`: expected `target-return` or `match-competitors`"
                ),
                None,
            );
            return None;
        }
    };
    Some((kind, every, min, max, step))
}
// ---- end of [[seller_policies]]
