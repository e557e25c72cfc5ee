//! Behaviour settings: `[behaviour.*]` (defaults from the resolved types' `Default` impls) and
//! the order-volume estimate, made with the behaviour model's own `mean_orders`.

use std::ops::Range;

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, money_checked};

/// Resolves `[behaviour]` table by table, then refuses a behaviour whose order volume could
/// not finish (per post, and over the run). `whole` is the span errors point at when no key
/// is to blame (the `[scenario]` table).
pub(super) fn resolve(
    v: &mut V,
    b: &BehaviourRaw,
    minor_unit: u32,
    days: u32,
    named: &Named,
    populations: &Populations,
    whole: Range<usize>,
) -> Behaviour {
    let plus = plus(v, &b.plus);
    let distributors = distributors(v, &b.distributors);
    let target = target(v, &b.target);
    let creators = creators(v, &b.creators);
    let buyers = buyers(v, &b.buyers, minor_unit);
    let incentives = incentives(v, &b.incentives, minor_unit);
    let volume = Volume {
        buyers: &buyers,
        incentives_on: incentives.enabled,
        actions_per_day: creators.actions_per_day,
        days,
    };
    volume.check(v, &b.buyers, named, populations, whole);
    let orders = orders(v, &b.orders);
    Behaviour {
        target,
        distributors,
        plus,
        creators,
        buyers,
        orders,
        incentives,
    }
}

/// `v.CHECK(&raw.KEY, "KEY", default.KEY, …)`: a key checked under its own name, with its default.
macro_rules! key {
    ($v:ident.dist($raw:ident.$key:ident, $d:ident)) => {
        $v.dist($raw.$key.as_ref(), stringify!($key), $d.$key)
    };
    ($v:ident.$check:ident($raw:ident.$key:ident, $d:ident $(, $extra:expr)*)) => {
        $v.$check(&$raw.$key, stringify!($key), $d.$key $(, $extra)*)
    };
}

fn plus(v: &mut V, pb: &PlusBehaviourRaw) -> PlusBehaviour {
    let d = PlusBehaviour::default();
    PlusBehaviour {
        join_probability: key!(v.prob(pb.join_probability, d)),
        join_delay: key!(v.dist(pb.join_delay, d)),
        sample_request_probability: key!(v.prob(pb.sample_request_probability, d)),
        risk_cancel_probability: key!(v.prob(pb.risk_cancel_probability, d)),
        prompted_authorise_probability: key!(v.prob(pb.prompted_authorise_probability, d)),
    }
}

fn distributors(v: &mut V, db: &DistributorBehaviourRaw) -> DistributorBehaviour {
    let d = DistributorBehaviour::default();
    DistributorBehaviour {
        register_probability: key!(v.prob(db.register_probability, d)),
        extra_creator_rate: db
            .extra_creator_rate
            .as_ref()
            .map_or(d.extra_creator_rate, |r| *r.get_ref()),
        register_delay: key!(v.dist(db.register_delay, d)),
        approve_probability: key!(v.prob(db.approve_probability, d)),
        review_delay: key!(v.dist(db.review_delay, d)),
        link_probability: key!(v.prob(db.link_probability, d)),
        lower_link_choice: db.lower_link_choice.unwrap_or(d.lower_link_choice),
    }
}

fn target(v: &mut V, tb: &TargetBehaviourRaw) -> TargetBehaviour {
    let d = TargetBehaviour::default();
    let shared = Review::default();
    // Each reviewer's settings default to the shared ones (TARGET-4 model).
    let approval = key!(v.prob(tb.approval_probability, shared));
    let review_delay = v.dist(tb.review_delay.as_ref(), "review_delay", shared.delay);
    TargetBehaviour {
        accept_probability: key!(v.prob(tb.accept_probability, d)),
        accept_delay: key!(v.dist(tb.accept_delay, d)),
        video_probability: key!(v.prob(tb.video_probability, d)),
        video_delay: key!(v.dist(tb.video_delay, d)),
        seller_review: Review {
            approval_probability: v.prob(
                &tb.seller_approval_probability,
                "seller_approval_probability",
                approval,
            ),
            delay: v.dist(
                tb.seller_review_delay.as_ref(),
                "seller_review_delay",
                review_delay.clone(),
            ),
        },
        platform_review: Review {
            approval_probability: v.prob(
                &tb.platform_approval_probability,
                "platform_approval_probability",
                approval,
            ),
            delay: v.dist(
                tb.platform_review_delay.as_ref(),
                "platform_review_delay",
                review_delay,
            ),
        },
        approved_video_posts: tb.approved_video_posts,
    }
}

fn creators(v: &mut V, cb: &CreatorBehaviourRaw) -> CreatorBehaviour {
    let d = CreatorBehaviour::default();
    CreatorBehaviour {
        actions_per_day: key!(v.nonneg(cb.actions_per_day, d)),
        explore_probability: key!(v.prob(cb.explore_probability, d)),
        max_products: cb.max_products.unwrap_or(d.max_products).max(1),
        candidates: cb.candidates.unwrap_or(d.candidates).max(1),
        commission_weight: key!(v.nonneg(cb.commission_weight, d)),
        fit_weight: key!(v.nonneg(cb.fit_weight, d)),
        live_probability: key!(v.prob(cb.live_probability, d)),
        authorise_probability: key!(v.prob(cb.authorise_probability, d)),
        sample_request_probability: key!(v.prob(cb.sample_request_probability, d)),
        sample_post_probability: key!(v.prob(cb.sample_post_probability, d)),
        sample_extension_probability: key!(v.prob(cb.sample_extension_probability, d)),
        ended_entries: cb.ended_entries.unwrap_or(d.ended_entries),
        refused_applications: cb.refused_applications.unwrap_or(d.refused_applications),
    }
}

/// A coupon rate: a share of the price from 0% to 100% (ORDER-1).
fn coupon(v: &mut V, r: &Option<Spanned<Rate>>, default: Rate) -> Rate {
    match r {
        Some(s) => {
            let x = *s.get_ref();
            if x.percent() < Decimal::ZERO || x.percent() > Decimal::ONE_HUNDRED {
                v.err(
                    s.span(),
                    "a coupon is a share of the price from 0% to 100%",
                    Some(RuleId::Order1),
                );
            }
            x
        }
        None => default,
    }
}

fn buyers(v: &mut V, bb: &BuyerBehaviourRaw, minor_unit: u32) -> BuyerBehaviour {
    let d = BuyerBehaviour::default();
    let quantity_weights = match &bb.quantity_weights {
        Some(w) if v.weights(w, "quantity_weights") => w.get_ref().clone(),
        Some(_) => vec![1.0],
        None => d.quantity_weights.clone(),
    };
    BuyerBehaviour {
        views_per_follower: key!(v.nonneg(bb.views_per_follower, d)),
        live_views_per_follower: key!(v.nonneg(bb.live_views_per_follower, d)),
        views_sigma: key!(v.nonneg(bb.views_sigma, d)),
        conversion_rate: key!(v.prob(bb.conversion_rate, d)),
        live_conversion_rate: key!(v.prob(bb.live_conversion_rate, d)),
        fit_multiplier: key!(v.nonneg(bb.fit_multiplier, d)),
        order_half_life_days: match key!(v.nonneg(bb.order_half_life_days, d)) {
            x if x > 0.0 => x,
            _ => d.order_half_life_days,
        },
        live_hours: match key!(v.nonneg(bb.live_hours, d)) {
            x if x > 0.0 => x,
            _ => d.live_hours,
        },
        quantity_weights,
        ad_share: key!(v.prob(bb.ad_share, d)),
        showcase_share: key!(v.prob(bb.showcase_share, d)),
        seller_coupon_probability: key!(v.prob(bb.seller_coupon_probability, d)),
        seller_coupon: coupon(v, &bb.seller_coupon, d.seller_coupon),
        platform_coupon_probability: key!(v.prob(bb.platform_coupon_probability, d)),
        platform_coupon: coupon(v, &bb.platform_coupon, d.platform_coupon),
        shipping: bb
            .shipping
            .as_ref()
            .map_or(d.shipping, |m| money_checked(v, m, "shipping", minor_unit)),
        follower_exponent: key!(v.within(bb.follower_exponent, d, (0.0, 1.5))),
        saturation_k: key!(v.positive_within(bb.saturation_k, d, 1e9)),
        saturation_exponent: key!(v.within(bb.saturation_exponent, d, (0.0, 5.0))),
        price_elasticity: key!(v.within(bb.price_elasticity, d, (-20.0, 0.0))),
    }
}

fn incentives(v: &mut V, ib: &IncentiveBehaviourRaw, minor_unit: u32) -> IncentiveBehaviour {
    let d = IncentiveBehaviour::default();
    let reference_rate = match &ib.reference_rate {
        Some(r) if !(r.get_ref().0 > Decimal::ZERO && r.get_ref().0 <= Decimal::ONE_HUNDRED) => {
            v.err(
                r.span(),
                "`reference_rate` is a commission rate above 0% and at most 100%",
                None,
            );
            d.reference_rate
        }
        Some(r) => *r.get_ref(),
        None => d.reference_rate,
    };
    IncentiveBehaviour {
        enabled: ib.enabled.unwrap_or(d.enabled),
        earnings_weight: key!(v.within(ib.earnings_weight, d, (0.0, 20.0))),
        post_elasticity: key!(v.within(ib.post_elasticity, d, (0.0, 5.0))),
        max_intensity: key!(v.within(ib.max_intensity, d, (1.0, 1000.0))),
        active_share: key!(v.within(ib.active_share, d, (0.0, 1.0))),
        participation_weight: key!(v.within(ib.participation_weight, d, (0.0, 20.0))),
        review_days: key!(v.positive_within(ib.review_days, d, 3650.0)),
        reference_rate,
        outside_sigma: key!(v.within(ib.outside_sigma, d, (0.0, 5.0))),
        plus_posts: key!(v.within(ib.plus_posts, d, (1.0, 1000.0))),
        sample_value: key!(v.within(ib.sample_value, d, (0.0, 10.0))),
        video_effort: ib.video_effort.as_ref().map_or(d.video_effort, |m| {
            money_checked(v, m, "video_effort", minor_unit)
        }),
        live_effort: ib.live_effort.as_ref().map_or(d.live_effort, |m| {
            money_checked(v, m, "live_effort", minor_unit)
        }),
        drop_weight: key!(v.within(ib.drop_weight, d, (0.0, 20.0))),
        replace_margin: key!(v.within(ib.replace_margin, d, (0.0, 10.0))),
        uncertainty: super::policies::uncertainty_ranges(v, &ib.uncertainty),
    }
}

fn orders(v: &mut V, ob: &OrderBehaviourRaw) -> OrderBehaviour {
    let d = OrderBehaviour::default();
    OrderBehaviour {
        cancel_probability: key!(v.prob(ob.cancel_probability, d)),
        cancel_delay: key!(v.dist(ob.cancel_delay, d)),
        ship_delay: key!(v.dist(ob.ship_delay, d)),
        delivery_delay: key!(v.dist(ob.delivery_delay, d)),
        return_probability: key!(v.prob(ob.return_probability, d)),
        partial_return_share: key!(v.prob(ob.partial_return_share, d)),
    }
}

/// The order-volume estimate: the same mean the draw uses (`sim::behaviour::mean_orders`).
struct Volume<'a> {
    buyers: &'a BuyerBehaviour,
    incentives_on: bool,
    actions_per_day: f64,
    days: u32,
}

impl Volume<'_> {
    /// Mean orders of one post by a creator with `followers`: the largest over the content
    /// kinds, with fit and without saturation — an upper bound per post.
    fn per_post_at(&self, followers: f64) -> f64 {
        use crate::sim::behaviour::mean_orders;
        let (b, on) = (self.buyers, self.incentives_on);
        [ContentKind::Video, ContentKind::Live]
            .into_iter()
            .map(|k| mean_orders(b, on, followers, true, k, 0))
            .fold(0.0, f64::max)
            .max(mean_orders(b, on, followers, false, ContentKind::Video, 0))
    }

    /// Refuses a post that could bring more than 1e6 orders, or a run of more than 2e9 lines.
    fn check(
        &self,
        v: &mut V,
        bb: &BuyerBehaviourRaw,
        named: &Named,
        populations: &Populations,
        whole: Range<usize>,
    ) {
        let named_max = named
            .creators
            .iter()
            .map(|c| f64::from(c.followers))
            .fold(0.0, f64::max);
        let pop = populations.creators.as_ref();
        let pop_mean = pop.map_or(0.0, |p| p.followers.mean());
        let per_post = self.per_post_at(named_max.max(pop_mean));
        let sp = bb
            .views_per_follower
            .as_ref()
            .map(|x| x.span())
            .or(bb.conversion_rate.as_ref().map(|x| x.span()))
            .unwrap_or(whole);
        if !per_post.is_finite() || per_post > 1e6 {
            v.err(sp, format!(
                "a post could bring about {per_post:.3e} orders (followers × views_per_follower × conversion_rate × fit_multiplier); at most 1000000 per post are supported"
            ), None);
        } else {
            let n = named.creators.len() as f64 + pop.map_or(0.0, |p| f64::from(p.count));
            let mean_followers = (named
                .creators
                .iter()
                .map(|c| f64::from(c.followers))
                .sum::<f64>()
                + pop.map_or(0.0, |p| p.followers.mean() * f64::from(p.count)))
                / n.max(1.0);
            let posts = n * self.actions_per_day * f64::from(self.days);
            let orders = posts * self.per_post_at(mean_followers);
            if orders > 2e9 {
                v.err(sp, format!(
                    "the behaviour would place about {orders:.3e} order lines ({posts:.3e} actions × {:.3e} orders each); at most 2e9 per replication are supported",
                    self.per_post_at(mean_followers)
                ), None);
            }
        }
    }
}
