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

fn plus(v: &mut V, pb: &PlusBehaviourRaw) -> PlusBehaviour {
    let d = PlusBehaviour::default();
    PlusBehaviour {
        join_probability: v.prob(&pb.join_probability, "join_probability", d.join_probability),
        join_delay: v.dist(pb.join_delay.as_ref(), "join_delay", d.join_delay),
        sample_request_probability: v.prob(
            &pb.sample_request_probability,
            "sample_request_probability",
            d.sample_request_probability,
        ),
        risk_cancel_probability: v.prob(
            &pb.risk_cancel_probability,
            "risk_cancel_probability",
            d.risk_cancel_probability,
        ),
        prompted_authorise_probability: v.prob(
            &pb.prompted_authorise_probability,
            "prompted_authorise_probability",
            d.prompted_authorise_probability,
        ),
    }
}

fn distributors(v: &mut V, db: &DistributorBehaviourRaw) -> DistributorBehaviour {
    let d = DistributorBehaviour::default();
    DistributorBehaviour {
        register_probability: v.prob(
            &db.register_probability,
            "register_probability",
            d.register_probability,
        ),
        extra_creator_rate: db
            .extra_creator_rate
            .as_ref()
            .map_or(d.extra_creator_rate, |r| *r.get_ref()),
        register_delay: v.dist(
            db.register_delay.as_ref(),
            "register_delay",
            d.register_delay,
        ),
        approve_probability: v.prob(
            &db.approve_probability,
            "approve_probability",
            d.approve_probability,
        ),
        review_delay: v.dist(db.review_delay.as_ref(), "review_delay", d.review_delay),
        link_probability: v.prob(&db.link_probability, "link_probability", d.link_probability),
        lower_link_choice: db.lower_link_choice.unwrap_or(d.lower_link_choice),
    }
}

fn target(v: &mut V, tb: &TargetBehaviourRaw) -> TargetBehaviour {
    let d = TargetBehaviour::default();
    let shared = Review::default();
    // Each reviewer's settings default to the shared ones (TARGET-4 model).
    let approval = v.prob(
        &tb.approval_probability,
        "approval_probability",
        shared.approval_probability,
    );
    let review_delay = v.dist(tb.review_delay.as_ref(), "review_delay", shared.delay);
    TargetBehaviour {
        accept_probability: v.prob(
            &tb.accept_probability,
            "accept_probability",
            d.accept_probability,
        ),
        accept_delay: v.dist(tb.accept_delay.as_ref(), "accept_delay", d.accept_delay),
        video_probability: v.prob(
            &tb.video_probability,
            "video_probability",
            d.video_probability,
        ),
        video_delay: v.dist(tb.video_delay.as_ref(), "video_delay", d.video_delay),
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
        actions_per_day: v.nonneg(&cb.actions_per_day, "actions_per_day", d.actions_per_day),
        explore_probability: v.prob(
            &cb.explore_probability,
            "explore_probability",
            d.explore_probability,
        ),
        max_products: cb.max_products.unwrap_or(d.max_products).max(1),
        candidates: cb.candidates.unwrap_or(d.candidates).max(1),
        commission_weight: v.nonneg(
            &cb.commission_weight,
            "commission_weight",
            d.commission_weight,
        ),
        fit_weight: v.nonneg(&cb.fit_weight, "fit_weight", d.fit_weight),
        live_probability: v.prob(&cb.live_probability, "live_probability", d.live_probability),
        authorise_probability: v.prob(
            &cb.authorise_probability,
            "authorise_probability",
            d.authorise_probability,
        ),
        sample_request_probability: v.prob(
            &cb.sample_request_probability,
            "sample_request_probability",
            d.sample_request_probability,
        ),
        sample_post_probability: v.prob(
            &cb.sample_post_probability,
            "sample_post_probability",
            d.sample_post_probability,
        ),
        sample_extension_probability: v.prob(
            &cb.sample_extension_probability,
            "sample_extension_probability",
            d.sample_extension_probability,
        ),
        ended_entries: cb.ended_entries.unwrap_or(d.ended_entries),
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
        Some(w) => {
            if w.get_ref().is_empty()
                || w.get_ref().iter().any(|x| !(x.is_finite() && *x >= 0.0))
                || w.get_ref().iter().sum::<f64>() <= 0.0
            {
                v.err(
                    w.span(),
                    "`quantity_weights` must be non-negative numbers with a positive sum",
                    None,
                );
                vec![1.0]
            } else {
                w.get_ref().clone()
            }
        }
        None => d.quantity_weights.clone(),
    };
    BuyerBehaviour {
        views_per_follower: v.nonneg(
            &bb.views_per_follower,
            "views_per_follower",
            d.views_per_follower,
        ),
        live_views_per_follower: v.nonneg(
            &bb.live_views_per_follower,
            "live_views_per_follower",
            d.live_views_per_follower,
        ),
        views_sigma: v.nonneg(&bb.views_sigma, "views_sigma", d.views_sigma),
        conversion_rate: v.prob(&bb.conversion_rate, "conversion_rate", d.conversion_rate),
        live_conversion_rate: v.prob(
            &bb.live_conversion_rate,
            "live_conversion_rate",
            d.live_conversion_rate,
        ),
        fit_multiplier: v.nonneg(&bb.fit_multiplier, "fit_multiplier", d.fit_multiplier),
        order_half_life_days: match v.nonneg(
            &bb.order_half_life_days,
            "order_half_life_days",
            d.order_half_life_days,
        ) {
            x if x > 0.0 => x,
            _ => d.order_half_life_days,
        },
        live_hours: match v.nonneg(&bb.live_hours, "live_hours", d.live_hours) {
            x if x > 0.0 => x,
            _ => d.live_hours,
        },
        quantity_weights,
        ad_share: v.prob(&bb.ad_share, "ad_share", d.ad_share),
        showcase_share: v.prob(&bb.showcase_share, "showcase_share", d.showcase_share),
        seller_coupon_probability: v.prob(
            &bb.seller_coupon_probability,
            "seller_coupon_probability",
            d.seller_coupon_probability,
        ),
        seller_coupon: coupon(v, &bb.seller_coupon, d.seller_coupon),
        platform_coupon_probability: v.prob(
            &bb.platform_coupon_probability,
            "platform_coupon_probability",
            d.platform_coupon_probability,
        ),
        platform_coupon: coupon(v, &bb.platform_coupon, d.platform_coupon),
        shipping: bb
            .shipping
            .as_ref()
            .map_or(d.shipping, |m| money_checked(v, m, "shipping", minor_unit)),
        follower_exponent: v.within(
            &bb.follower_exponent,
            "follower_exponent",
            d.follower_exponent,
            (0.0, 1.5),
        ),
        saturation_k: match v.within(&bb.saturation_k, "saturation_k", d.saturation_k, (0.0, 1e9)) {
            x if x > 0.0 => x,
            _ => {
                if let Some(s) = &bb.saturation_k {
                    v.err(s.span(), "`saturation_k` must be greater than 0", None);
                }
                d.saturation_k
            }
        },
        saturation_exponent: v.within(
            &bb.saturation_exponent,
            "saturation_exponent",
            d.saturation_exponent,
            (0.0, 5.0),
        ),
        price_elasticity: v.within(
            &bb.price_elasticity,
            "price_elasticity",
            d.price_elasticity,
            (-20.0, 0.0),
        ),
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
        earnings_weight: v.within(
            &ib.earnings_weight,
            "earnings_weight",
            d.earnings_weight,
            (0.0, 20.0),
        ),
        post_elasticity: v.within(
            &ib.post_elasticity,
            "post_elasticity",
            d.post_elasticity,
            (0.0, 5.0),
        ),
        max_intensity: v.within(
            &ib.max_intensity,
            "max_intensity",
            d.max_intensity,
            (1.0, 1000.0),
        ),
        active_share: v.within(&ib.active_share, "active_share", d.active_share, (0.0, 1.0)),
        participation_weight: v.within(
            &ib.participation_weight,
            "participation_weight",
            d.participation_weight,
            (0.0, 20.0),
        ),
        review_days: match v.within(&ib.review_days, "review_days", d.review_days, (0.0, 3650.0)) {
            x if x > 0.0 => x,
            _ => {
                if let Some(s) = &ib.review_days {
                    v.err(s.span(), "`review_days` must be greater than 0", None);
                }
                d.review_days
            }
        },
        reference_rate,
        outside_sigma: v.within(
            &ib.outside_sigma,
            "outside_sigma",
            d.outside_sigma,
            (0.0, 5.0),
        ),
        plus_posts: v.within(&ib.plus_posts, "plus_posts", d.plus_posts, (1.0, 1000.0)),
        sample_value: v.within(
            &ib.sample_value,
            "sample_value",
            d.sample_value,
            (0.0, 10.0),
        ),
        video_effort: ib.video_effort.as_ref().map_or(d.video_effort, |m| {
            money_checked(v, m, "video_effort", minor_unit)
        }),
        live_effort: ib.live_effort.as_ref().map_or(d.live_effort, |m| {
            money_checked(v, m, "live_effort", minor_unit)
        }),
        drop_weight: v.within(&ib.drop_weight, "drop_weight", d.drop_weight, (0.0, 20.0)),
        replace_margin: v.within(
            &ib.replace_margin,
            "replace_margin",
            d.replace_margin,
            (0.0, 10.0),
        ),
        uncertainty: super::policies::uncertainty_ranges(v, &ib.uncertainty),
    }
}

fn orders(v: &mut V, ob: &OrderBehaviourRaw) -> OrderBehaviour {
    let d = OrderBehaviour::default();
    OrderBehaviour {
        cancel_probability: v.prob(
            &ob.cancel_probability,
            "cancel_probability",
            d.cancel_probability,
        ),
        cancel_delay: v.dist(ob.cancel_delay.as_ref(), "cancel_delay", d.cancel_delay),
        ship_delay: v.dist(ob.ship_delay.as_ref(), "ship_delay", d.ship_delay),
        delivery_delay: v.dist(
            ob.delivery_delay.as_ref(),
            "delivery_delay",
            d.delivery_delay,
        ),
        return_probability: v.prob(
            &ob.return_probability,
            "return_probability",
            d.return_probability,
        ),
        partial_return_share: v.prob(
            &ob.partial_return_share,
            "partial_return_share",
            d.partial_return_share,
        ),
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
