//! Behaviour models: what creators, buyers, sellers and logistics choose. Separate from the rules.
//!
//! Each function draws from the stream it is given and returns a choice; none touches the
//! platform's books. A product team swaps a model here without touching `rules`.

use rand::Rng;
use rand_distr::{Distribution, Exp1, Poisson};

use crate::model::{ContentKind, Creator, Product};
use crate::scenario::dist::unit;
use crate::scenario::{Approval, ApprovalPolicy, BuyerBehaviour, CreatorBehaviour, Dist};
use crate::time::DAY;

/// Converts a delay in days to whole minutes (at least `min`).
pub fn days_to_minutes(days: f64, min: u32) -> u32 {
    let m = (days * f64::from(DAY)).round();
    if m.is_finite() && m < f64::from(u32::MAX / 2) {
        (m as u32).max(min)
    } else {
        u32::MAX / 2
    }
}

/// Minutes until a creator's next action (exponential with `actions_per_day`).
pub fn next_action<R: Rng + ?Sized>(b: &CreatorBehaviour, rng: &mut R) -> Option<u32> {
    if b.actions_per_day <= 0.0 {
        return None;
    }
    let e: f64 = Exp1.sample(rng);
    Some(days_to_minutes(e / b.actions_per_day, 1))
}

/// A creator's score for a product: commission (percentage points × weight) plus category fit,
/// plus Gumbel noise, so that the best-scoring candidate is a logit choice.
pub fn product_score<R: Rng + ?Sized>(
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
pub fn decide_application<R: Rng + ?Sized>(a: &Approval, c: &Creator, rng: &mut R) -> (bool, u32) {
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

/// How many orders a piece of content brings, drawn from views × conversion.
pub fn orders_for_content<R: Rng + ?Sized>(
    b: &BuyerBehaviour,
    c: &Creator,
    p: &Product,
    kind: ContentKind,
    rng: &mut R,
) -> u32 {
    let (per_follower, conv) = match kind {
        ContentKind::Video => (b.views_per_follower, b.conversion_rate),
        ContentKind::Live => (b.live_views_per_follower, b.live_conversion_rate),
    };
    let noise = if b.views_sigma > 0.0 {
        let z: f64 = rand_distr::StandardNormal.sample(rng);
        (b.views_sigma * z - b.views_sigma * b.views_sigma / 2.0).exp()
    } else {
        1.0
    };
    let fit = if c.has_category(p.category) {
        b.fit_multiplier
    } else {
        1.0
    };
    let lambda = f64::from(c.followers) * per_follower * noise * conv * fit;
    if lambda.is_nan() || lambda <= 0.0 || !lambda.is_finite() {
        return 0;
    }
    // Validation bounds the mean per post; a heavy-tailed population draw is capped here.
    Poisson::new(lambda.min(1e6))
        .map(|d| d.sample(rng).min(1e7) as u32)
        .unwrap_or(0)
}

/// Minutes until the next of `remaining` orders of a content item, given `elapsed` minutes since
/// it was posted: video orders decay exponentially (half-life), LIVE orders fall uniformly within
/// the LIVE.
pub fn next_order_gap<R: Rng + ?Sized>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

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
