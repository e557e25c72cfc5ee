//! Behaviour models: what creators, buyers, sellers and logistics choose. Separate from the rules.
//!
//! Each function draws from the stream it is given and returns a choice; none touches the
//! platform's books. A product team swaps a model here without touching `rules`.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Poisson};

use crate::model::{ContentKind, Creator, Product};
use crate::scenario::dist::unit;
use crate::scenario::{
    Approval, ApprovalPolicy, BuyerBehaviour, CreatorBehaviour, Dist, IncentiveBehaviour,
};
use crate::time::DAY;

/// Converts a delay in days to whole minutes (at least `min`): the nearest minute, halves
/// away from zero ([`f64::round`]).
///
/// Called for nearly every event (order gaps, shipping and delivery delays, wake gaps), so the
/// usual case does not call `round`, a library function without SSE4.1 (about 24 instructions
/// a call, 4 million calls in mid): for 0 ≤ x < 2^31 − 2 minutes the truncation `i` is exact
/// and so is the fraction x − i, and round(x) = i + (fraction ≥ ½). A test checks it against
/// [`days_to_minutes_by_round`], the definition, which takes everything else (negative, huge,
/// NaN).
#[inline]
pub(crate) fn days_to_minutes(days: f64, min: u32) -> u32 {
    let x = days * f64::from(DAY);
    if (0.0..2_147_483_646.0).contains(&x) {
        let i = x as u32;
        let m = if x - f64::from(i) >= 0.5 { i + 1 } else { i };
        return m.max(min);
    }
    days_to_minutes_by_round(days, min)
}

/// [`days_to_minutes`] by its definition: `f64::round`, then bounded.
fn days_to_minutes_by_round(days: f64, min: u32) -> u32 {
    let m = (days * f64::from(DAY)).round();
    if m.is_finite() && m < f64::from(u32::MAX / 2) {
        (m as u32).max(min)
    } else {
        u32::MAX / 2
    }
}

/// Minutes until a creator's next action (exponential with `actions_per_day`).
pub(crate) fn next_action<R: Rng + ?Sized>(b: &CreatorBehaviour, rng: &mut R) -> Option<u32> {
    if b.actions_per_day <= 0.0 {
        return None;
    }
    let e: f64 = Exp1.sample(rng);
    Some(days_to_minutes(e / b.actions_per_day, 1))
}

/// Minutes until a creator's next action, from a standard exponential draw `e`: the rate is
/// `actions_per_day` × `intensity`; None when it is not positive.
pub(crate) fn action_gap(b: &CreatorBehaviour, intensity: f64, e: f64) -> Option<u32> {
    let rate = b.actions_per_day * intensity;
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    Some(days_to_minutes(e / rate, 1))
}

/// A creator's score for a product: commission (percentage points × weight) plus category fit,
/// plus Gumbel noise, so that the best-scoring candidate is a logit choice.
pub(crate) fn product_score<R: Rng + ?Sized>(
    b: &CreatorBehaviour,
    c: &Creator,
    p: &Product,
    rate_percent: f64,
    rng: &mut R,
) -> f64 {
    let fit = if c.has_category(p.category) { 1.0 } else { 0.0 };
    let u = unit(rng).max(1e-12);
    b.commission_weight * rate_percent + b.fit_weight * fit - (-u.ln()).ln()
}

/// The seller's decision on an Open application (OPEN-2 model): approve?, and after how many
/// minutes.
pub(crate) fn decide_application<R: Rng + ?Sized>(
    a: &Approval,
    c: &Creator,
    rng: &mut R,
) -> (bool, u32) {
    let approve = match a.policy {
        ApprovalPolicy::Auto => true,
        ApprovalPolicy::Probability(p) => unit(rng) < p,
        ApprovalPolicy::Criteria {
            min_followers,
            min_level,
        } => c.followers >= min_followers && c.level >= min_level,
    };
    (approve, days_to_minutes(a.delay.sample(rng), 0))
}

/// The mean number of orders a post brings: the one formula behind [`orders_for_content`]'s
/// draw, creators' expected earnings and validation's capacity estimate. `response` switches on
/// the buyer responses of the incentive model (docs/behaviour.md): views grow as followers^η,
/// orders per post fall as (1 + live items on the product ÷ K)^−σ, and coupons raise demand
/// through the price elasticity. Off, it is followers × views × conversion × fit, as before.
pub(crate) fn mean_orders(
    b: &BuyerBehaviour,
    response: bool,
    followers: f64,
    fit: bool,
    kind: ContentKind,
    live_on_product: u32,
) -> f64 {
    if !response {
        let (per_follower, conv) = per_view(b, kind);
        let fit = if fit { b.fit_multiplier } else { 1.0 };
        return followers * per_follower * conv * fit;
    }
    mean_orders_of(
        b,
        kind,
        fit,
        reach(b, followers),
        saturation(b, live_on_product),
        coupon_demand(b),
    )
}

/// Views per follower and conversion rate of a kind of content.
fn per_view(b: &BuyerBehaviour, kind: ContentKind) -> (f64, f64) {
    match kind {
        ContentKind::Video => (b.views_per_follower, b.conversion_rate),
        ContentKind::Live => (b.live_views_per_follower, b.live_conversion_rate),
    }
}

/// [`mean_orders`] with the buyer responses on, from its parts: [`reach`], [`saturation`] and
/// [`coupon_demand`] (the simulator keeps the parts that do not change per post precomputed).
pub(crate) fn mean_orders_of(
    b: &BuyerBehaviour,
    kind: ContentKind,
    fit: bool,
    reach: f64,
    saturation: f64,
    coupon_demand: f64,
) -> f64 {
    let (per_follower, conv) = per_view(b, kind);
    let fit = if fit { b.fit_multiplier } else { 1.0 };
    reach * per_follower * conv * fit * saturation * coupon_demand
}

/// The followers a post reaches, as followers^η scaled to be neutral at `REACH_UNIT`.
pub fn reach(b: &BuyerBehaviour, followers: f64) -> f64 {
    REACH_UNIT * (followers.max(0.0) / REACH_UNIT).powf(b.follower_exponent)
}

/// The saturation multiplier of a product with `live_on_product` live content items.
pub fn saturation(b: &BuyerBehaviour, live_on_product: u32) -> f64 {
    (1.0 + f64::from(live_on_product) / b.saturation_k).powf(-b.saturation_exponent)
}

/// Followers at which the follower-size effect is neutral (views = followers × views per
/// follower at exactly this size).
pub(crate) const REACH_UNIT: f64 = 1000.0;

/// The demand multiplier of coupons: E[(price paid ÷ list price)^elasticity] over the coupon
/// draws (seller coupon, then platform coupon, independently).
pub(crate) fn coupon_demand(b: &BuyerBehaviour) -> f64 {
    let e = b.price_elasticity;
    let ds = rate_f64(b.seller_coupon);
    let dp = rate_f64(b.platform_coupon);
    let (ps, pp) = (b.seller_coupon_probability, b.platform_coupon_probability);
    let f = |d: f64| (1.0 - d).max(0.01).powf(e);
    (1.0 - ps) * (1.0 - pp)
        + ps * (1.0 - pp) * f(ds)
        + (1.0 - ps) * pp * f(dp)
        + ps * pp * f(1.0 - (1.0 - ds) * (1.0 - dp))
}

/// A rate as a fraction (behaviour scoring only: money becomes f64 nowhere else).
pub(crate) fn rate_f64(r: crate::money::Rate) -> f64 {
    r.percent_f64() / 100.0
}

/// How many orders a piece of content brings: Poisson around [`mean_orders`] × lognormal views
/// noise (mean 1).
pub(crate) fn orders_for_content<R: Rng + ?Sized>(
    b: &BuyerBehaviour,
    response: bool,
    c: &Creator,
    p: &Product,
    kind: ContentKind,
    live_on_product: u32,
    rng: &mut R,
) -> u32 {
    let mean = mean_orders(
        b,
        response,
        f64::from(c.followers),
        c.has_category(p.category),
        kind,
        live_on_product,
    );
    orders_around(b, mean, rng)
}

/// How many orders a piece of content with mean `mean` ([`mean_orders`]) brings: Poisson
/// around it × lognormal views noise (mean 1).
pub(crate) fn orders_around<R: Rng + ?Sized>(b: &BuyerBehaviour, mean: f64, rng: &mut R) -> u32 {
    let noise = if b.views_sigma > 0.0 {
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        (b.views_sigma * z - b.views_sigma * b.views_sigma / 2.0).exp()
    } else {
        1.0
    };
    let lambda = mean * noise;
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    // Validation bounds the mean per post; a heavy-tailed population draw is capped here.
    Poisson::new(lambda.min(1e6))
        .map(|d| d.sample(rng).min(1e7) as u32)
        .unwrap_or(0)
}

/// The logistic function.
pub(crate) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The log-odds of `p` (±∞ at 0 and 1, so certain choices stay certain).
pub(crate) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The smallest earnings ratio a choice considers (log earnings need a floor).
pub(crate) const EARNINGS_FLOOR: f64 = 1e-3;

/// The probability of a yes/no choice whose base probability `p0` applies when the opportunity's
/// expected earnings per post `e` equal the outside option `o`: logistic(logit(p0) + β·ln(e/o)).
/// `p0` of 0 or 1 stays 0 or 1 (scripted certainties stay certain).
pub(crate) fn choice_probability(p0: f64, beta: f64, e: f64, o: f64) -> f64 {
    if p0 <= 0.0 || p0 >= 1.0 || o.is_nan() || o <= 0.0 {
        return p0.clamp(0.0, 1.0);
    }
    choice_probability_with(p0, logit(p0), beta, e, o)
}

/// [`choice_probability`] given `logit_p0` = [`logit`]`(p0)`, for the simulator's hot
/// choices, whose base probabilities are fixed for a replication and whose log-odds it keeps
/// (`sim/memo.rs`, `ChoiceLogits`): the same formula on the same bits, one `ln` fewer.
pub(crate) fn choice_probability_with(p0: f64, logit_p0: f64, beta: f64, e: f64, o: f64) -> f64 {
    if p0 <= 0.0 || p0 >= 1.0 || o.is_nan() || o <= 0.0 {
        return p0.clamp(0.0, 1.0);
    }
    logistic(logit_p0 + beta * earnings_ratio(e, o).ln())
}

/// e/o, floored at [`EARNINGS_FLOOR`].
pub(crate) fn earnings_ratio(e: f64, o: f64) -> f64 {
    if o > 0.0 && e.is_finite() {
        (e / o).max(EARNINGS_FLOOR)
    } else {
        1.0
    }
}

/// The intensive margin: actions per day × (E*/O)^ε, the multiplier bounded to [1/max, max].
pub(crate) fn intensity(ib: &IncentiveBehaviour, best: f64, outside: f64) -> f64 {
    let m = earnings_ratio(best, outside).powf(ib.post_elasticity);
    m.clamp(1.0 / ib.max_intensity, ib.max_intensity)
}

/// The extensive margin: P(active) = logistic(logit(active share) + κ·ln(E*/O)).
pub(crate) fn active_probability(ib: &IncentiveBehaviour, best: f64, outside: f64) -> f64 {
    choice_probability(ib.active_share, ib.participation_weight, best, outside)
}

/// [`active_probability`] given `logit_active` = [`logit`]`(active_share)` and `log_ratio` =
/// `earnings_ratio(best, outside).ln()` (a wake computes it once for the review and the
/// action's tally, [`log_earnings_ratio`]).
pub(crate) fn active_probability_with(
    ib: &IncentiveBehaviour,
    logit_active: f64,
    log_ratio: f64,
    outside: f64,
) -> f64 {
    let p0 = ib.active_share;
    if p0 <= 0.0 || p0 >= 1.0 || outside.is_nan() || outside <= 0.0 {
        return p0.clamp(0.0, 1.0);
    }
    logistic(logit_active + ib.participation_weight * log_ratio)
}

/// ln(E/O), E/O floored ([`earnings_ratio`]).
pub(crate) fn log_earnings_ratio(e: f64, o: f64) -> f64 {
    earnings_ratio(e, o).ln()
}

/// P(X ≥ k) for X ~ Poisson(λ).
pub(crate) fn poisson_at_least(lambda: f64, k: u32) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    let mut term = (-lambda).exp();
    let mut below = term;
    for i in 1..k {
        term *= lambda / f64::from(i);
        below += term;
    }
    (1.0 - below).clamp(0.0, 1.0)
}

/// Minutes until a creator's next action: exponential with `actions_per_day` × `intensity`.
pub(crate) fn next_action_scaled<R: Rng + ?Sized>(
    b: &CreatorBehaviour,
    intensity: f64,
    rng: &mut R,
) -> Option<u32> {
    let rate = b.actions_per_day * intensity;
    if rate <= 0.0 || !rate.is_finite() {
        return None;
    }
    let e: f64 = Exp1.sample(rng);
    Some(days_to_minutes(e / rate, 1))
}

/// A creator's utility for a product by expected earnings: β·ln(E/O) + fit + Gumbel noise.
pub(crate) fn earnings_score<R: Rng + ?Sized>(
    ib: &IncentiveBehaviour,
    b: &CreatorBehaviour,
    e: f64,
    outside: f64,
    fit: bool,
    rng: &mut R,
) -> f64 {
    let u = unit(rng).max(1e-12);
    earnings_utility(ib, b, e, outside, fit) - (-u.ln()).ln()
}

/// The deterministic part of [`earnings_score`]: β ln(E/O) + the category fit's weight.
pub(crate) fn earnings_utility(
    ib: &IncentiveBehaviour,
    b: &CreatorBehaviour,
    e: f64,
    outside: f64,
    fit: bool,
) -> f64 {
    ib.earnings_weight * earnings_ratio(e, outside).ln() + if fit { b.fit_weight } else { 0.0 }
}

/// Minutes until the next of `remaining` orders of a content item, given `elapsed` minutes since
/// it was posted: video orders decay exponentially (half-life), LIVE orders fall uniformly within
/// the LIVE. Inline: it runs at every order line's demand event.
#[inline(always)]
pub(crate) fn next_order_gap<R: Rng + ?Sized>(
    b: &BuyerBehaviour,
    kind: ContentKind,
    remaining: u32,
    elapsed: u32,
    rng: &mut R,
) -> u32 {
    let n = f64::from(remaining.max(1));
    match kind {
        ContentKind::Video => {
            let mean_days = b.order_half_life_days / std::f64::consts::LN_2;
            let e: f64 = Exp1.sample(rng);
            days_to_minutes(e * mean_days / n, 0)
        }
        ContentKind::Live => {
            let total = b.live_hours * 60.0;
            let left = (total - f64::from(elapsed)).max(0.0);
            // the minimum of n uniforms on [0, left]
            let u = unit(rng);
            (left * (1.0 - (1.0 - u).powf(1.0 / n))).round() as u32
        }
    }
}

/// The quantity of an order line (1, 2, 3, … by weight).
pub fn quantity<R: Rng + ?Sized>(weights: &[f64], rng: &mut R) -> u32 {
    let total: f64 = weights.iter().sum();
    let mut x = unit(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i as u32 + 1;
        }
        x -= w;
    }
    weights.len() as u32
}

/// Draws a delay in minutes from a distribution in days.
pub fn delay<R: Rng + ?Sized>(d: &Dist, rng: &mut R) -> u32 {
    days_to_minutes(d.sample(rng), 0)
}

/// A policy lever a product team can move (the sensitivity report's rows).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Lever {
    OpenRate,
    ShopPlanRate,
    TargetRate,
    TargetFlatFee,
    PlusRate,
    PlusTaskReward,
    PlusChallengePrizes,
    Samples,
    DistributorFee,
}

/// A market-wide response to a lever.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    Gmv,
    /// Posts and LIVEs: actions × posts per action; the closed form is that of `Actions`
    /// (posts per action rise as showcases fill, which has no closed form: docs/behaviour.md §6).
    Posts,
    Participants,
    /// Creators' actions (wakes at which an active creator searches or posts).
    Actions,
    /// Creators' expected earnings per post E*, as the mean ln(E*/O) over their actions: the
    /// elasticity is the lever's share in what creators expect to earn.
    Earnings,
}

/// The elasticity of `response` to a small proportional change of `lever` (applied to every
/// instance of it in the scenario) that the configured parameters imply, or None where there is
/// no closed form.
///
/// With `[behaviour.incentives]` off, behaviour ignores money: every figure is 0. With it on,
/// the closed forms are for the rates of the market's search (docs/behaviour.md, "Configured
/// elasticities"): scaling every Open rate (or every Shop plan rate) by s scales a creator's
/// expected earnings per post by s^share, where share is the lever's part of the
/// popularity-weighted value of a search (price × rate) at the start. Posts then respond with
///   share × E[P·m·(ε·[m unclamped] + κ·(1 − P))] ÷ E[P·m],
/// the expectation over creators' outside options (E*/O = r0·e^(−σz), z standard normal;
/// P = P(active), m = intensive multiplier) at the start, where E* is the value of a search
/// (less a video's effort: then the expectation runs over creators as well, and the lever moves
/// ln E* by share × gross ÷ net). The showcase filling is left out (docs/behaviour.md §6).
/// GMV responds as posts do when saturation is off (`saturation_exponent = 0`; product shares
/// are unchanged by a uniform scaling); with saturation on there is no closed form (None).
/// `Actions` has the posts figure; `Earnings` is the share (× gross ÷ net with an effort,
/// averaged over actions).
pub fn configured_elasticity(
    scenario: &crate::scenario::Scenario,
    lever: Lever,
    response: Response,
) -> Option<f64> {
    if !scenario.behaviour.incentives.enabled {
        // Behaviour ignores money; creators' expected earnings are not scored at all.
        return (response != Response::Earnings).then_some(0.0);
    }
    if response == Response::Participants {
        return None;
    }
    if response == Response::Gmv && scenario.behaviour.buyers.saturation_exponent > 0.0 {
        return None;
    }
    if !matches!(lever, Lever::OpenRate | Lever::ShopPlanRate) {
        return None;
    }
    let x = closed_form(scenario)?;
    let share = match lever {
        Lever::OpenRate => x.open_share,
        _ => x.shop_share,
    };
    Some(match response {
        Response::Earnings => share * x.earnings_per_share,
        _ => share * x.actions_per_share,
    })
}

/// The elasticity of creators' actions to their expected earnings E* (d ln actions ÷ d ln E*,
/// both margins) that the configured parameters imply at the start, or None where there is no
/// closed form (the model off: actions ignore money). `configured_elasticity`'s actions figure
/// is the lever's share in E* times this (without a video's effort); applied to a measured
/// earnings response (`affsim sensitivity`) it gives the actions response the parameters imply
/// for the earnings creators actually saw.
pub fn actions_per_log_earnings(scenario: &crate::scenario::Scenario) -> Option<f64> {
    if !scenario.behaviour.incentives.enabled {
        return None;
    }
    closed_form(scenario).map(|x| x.actions_per_log_earnings)
}

/// The parts of the closed forms (docs/behaviour.md §6).
struct ClosedForm {
    /// The Open and Shop plan shares of the popularity-weighted value of a search at the start.
    open_share: f64,
    shop_share: f64,
    /// d ln actions ÷ d ln s per unit of share (with effort: E[P·m·g·(ε + κ(1 − P))] ÷ E[P·m],
    /// g = gross ÷ net).
    actions_per_share: f64,
    /// d ln E* ÷ d ln s per unit of share, averaged over actions: E[P·m·g] ÷ E[P·m].
    earnings_per_share: f64,
    /// d ln actions ÷ d ln E*: E[P·m·(ε + κ(1 − P))] ÷ E[P·m].
    actions_per_log_earnings: f64,
}

fn closed_form(scenario: &crate::scenario::Scenario) -> Option<ClosedForm> {
    let ib = &scenario.behaviour.incentives;
    let mut streams = crate::sim::rng::Streams::new(scenario.seed, 0);
    let built = crate::sim::population::build(scenario, &mut streams.population);
    let (open, shop, total) = crate::sim::incentives::search_value(
        &built.agents,
        &built.books,
        crate::time::SimTime::ZERO,
        |_, _, _| 1.0,
    );
    let outside = rate_f64(ib.reference_rate) * crate::sim::incentives::median_price(&built.agents);
    if outside.is_nan() || outside <= 0.0 || total.is_nan() || total <= 0.0 {
        return Some(ClosedForm {
            open_share: 0.0,
            shop_share: 0.0,
            actions_per_share: 0.0,
            earnings_per_share: 0.0,
            actions_per_log_earnings: 0.0,
        });
    }
    // A video's effort f is subtracted from E* (docs/behaviour.md §1): with f > 0, E*/O depends
    // on the creator's expected orders per post q (E* = q × total − f, O ∝ q), so the
    // expectation runs over creators as well (up to 2,000 of them, evenly spaced), and the lever
    // moves ln E* by share × q·total ÷ (q·total − f).
    let f: f64 = ib.video_effort.0.try_into().unwrap_or(0.0);
    let qs: Vec<f64> = if f > 0.0 {
        let n = built.agents.creators.len();
        let stride = n.div_ceil(2000).max(1);
        built
            .agents
            .creators
            .iter()
            .step_by(stride)
            .map(|c| {
                mean_orders(
                    &scenario.behaviour.buyers,
                    true,
                    f64::from(c.followers),
                    false,
                    ContentKind::Video,
                    0,
                )
            })
            .collect()
    } else {
        vec![1.0]
    };
    // E over z ~ N(0, 1) by the trapezoid rule on [−8, 8].
    let (mut num, mut earn, mut per_log, mut den) = (0.0, 0.0, 0.0, 0.0);
    let steps = if qs.len() > 1 { 400 } else { 1600 };
    for &q in &qs {
        let gross = q * total;
        let net = gross - f;
        for k in 0..=steps {
            let z = -8.0 + 16.0 * f64::from(k) / f64::from(steps);
            let wz = (-z * z / 2.0).exp();
            let o = q * outside * (ib.outside_sigma * z).exp();
            let ratio = net / o;
            let floored = ratio <= EARNINGS_FLOOR;
            let raw = earnings_ratio(net, o).powf(ib.post_elasticity);
            let clamped = raw > ib.max_intensity || raw < 1.0 / ib.max_intensity;
            let m = raw.clamp(1.0 / ib.max_intensity, ib.max_intensity);
            let p = active_probability(ib, net, o);
            let eps = if clamped { 0.0 } else { ib.post_elasticity };
            let g = if floored { 0.0 } else { gross / net };
            let dlog = if floored {
                0.0
            } else {
                eps + ib.participation_weight * (1.0 - p)
            };
            num += wz * p * m * g * dlog;
            earn += wz * p * m * g;
            per_log += wz * p * m * dlog;
            den += wz * p * m;
        }
    }
    let ratio = |x: f64| if den > 0.0 { x / den } else { 0.0 };
    Some(ClosedForm {
        open_share: open / total,
        shop_share: shop / total,
        actions_per_share: ratio(num),
        earnings_per_share: ratio(earn),
        actions_per_log_earnings: ratio(per_log),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The fast path of `days_to_minutes` gives the minutes `f64::round` gives, at halves,
    /// just below and above them, at the bounds of the fast path and outside it.
    #[test]
    fn days_to_minutes_is_round_to_the_minute() {
        let day = f64::from(DAY);
        let mut xs: Vec<f64> = vec![
            0.0,
            -0.0,
            -0.2,
            -0.5,
            -1.0,
            0.49,
            0.5,
            0.51,
            1.5,
            2.5,
            1e-300,
            2_147_483_645.5,
            2_147_483_646.0,
            2_147_483_646.5,
            2_147_483_647.0,
            4.3e9,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for k in 0..5000u32 {
            let h = f64::from(k) + 0.5;
            xs.extend([h, h.next_down(), h.next_up(), f64::from(k)]);
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        for _ in 0..20_000 {
            xs.push(crate::scenario::dist::unit(&mut rng) * 30.0 * day);
        }
        for x in xs {
            for (days, min) in [(x / day, 0), (x / day, 1), (x, 0)] {
                assert_eq!(
                    days_to_minutes(days, min),
                    days_to_minutes_by_round(days, min),
                    "{days} days, min {min}"
                );
            }
        }
    }

    #[test]
    fn quantities_follow_weights() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let w = [0.0, 1.0, 0.0];
        for _ in 0..100 {
            assert_eq!(quantity(&w, &mut rng), 2);
        }
    }

    #[test]
    fn live_orders_fall_within_the_live() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let b = crate::scenario::parse("x", crate::scenario::DEMO)
            .unwrap()
            .behaviour
            .buyers;
        let total = (b.live_hours * 60.0) as u32;
        let mut elapsed = 0;
        for left in (1..=20).rev() {
            elapsed += next_order_gap(&b, ContentKind::Live, left, elapsed, &mut rng);
            assert!(elapsed <= total);
        }
    }
}
