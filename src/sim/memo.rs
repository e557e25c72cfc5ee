//! Precomputed parts of the incentive model's expected orders and earnings, so that the event loop does not recompute powers, prices and coupon sums per candidate (same values, same bits).
//!
//! Every value here is the result of the same function on the same input as the uncached
//! formula in `behaviour` (`reach`, `saturation`, `coupon_demand`) or `incentives` (a product's
//! price as `f64`), computed once per replication instead of once per post or candidate; a
//! test checks the cached mean against [`behaviour::mean_orders`] bit for bit.

use crate::model::{Agents, CategoryId, ContentKind, Product, SellerId};
use crate::scenario::BuyerBehaviour;

use super::behaviour;

/// Live-item counts up to this bound have their saturation multiplier in a table; beyond it
/// the multiplier is computed (rare: thousands of live items on one product).
const SATURATION_TABLE: usize = 4096;

/// The parts of [`behaviour::mean_orders`] (buyer responses on) that do not change per post,
/// and per product its price as `f64` and its live content items.
#[derive(Default)]
pub(super) struct EarningsMemo {
    /// Per live-item count: [`behaviour::saturation`].
    saturation: Vec<f64>,
    /// [`behaviour::coupon_demand`].
    coupon: f64,
    /// Per product: what a search candidate's expected earnings read of it.
    products: Vec<ProductMemo>,
}

/// What a search candidate and a post read of a product, together: its price as `f64` (fixed),
/// its live content items (changing), and copies of its seller, eligibility and category (the
/// model's, fixed for the run), so that neither reads `agents.products` — one line on one page
/// per candidate where there were two of each (session 16). 32 bytes, aligned: one line.
#[derive(Copy, Clone, Debug, Default)]
#[repr(C, align(32))]
struct ProductMemo {
    /// [`price_f64`] (behaviour scoring only).
    price: f64,
    /// Content items still bringing orders (saturation).
    live_on: u32,
    /// `Product::seller`.
    seller: SellerId,
    /// `Product::category`.
    category: CategoryId,
    /// `Product::eligible`.
    eligible: bool,
}

const _: () = assert!(size_of::<ProductMemo>() == 32);

impl EarningsMemo {
    pub(super) fn new(b: &BuyerBehaviour, agents: &Agents) -> EarningsMemo {
        EarningsMemo {
            saturation: (0..SATURATION_TABLE as u32)
                .map(|n| behaviour::saturation(b, n))
                .collect(),
            coupon: behaviour::coupon_demand(b),
            products: agents
                .products
                .iter()
                .map(|p| ProductMemo {
                    price: price_f64(p),
                    live_on: 0,
                    seller: p.seller,
                    category: p.category,
                    eligible: p.eligible,
                })
                .collect(),
        }
    }

    /// [`behaviour::mean_orders`] with buyer responses on, for a creator whose
    /// [`behaviour::reach`] is `reach` (kept per creator in `CreatorState`) and whose audience
    /// cares about the product's category when `fit`.
    #[inline]
    pub(super) fn mean_orders(
        &self,
        b: &BuyerBehaviour,
        reach: f64,
        fit: bool,
        kind: ContentKind,
        live_on_product: u32,
    ) -> f64 {
        let saturation = match self.saturation.get(live_on_product as usize) {
            Some(&s) => s,
            None => behaviour::saturation(b, live_on_product),
        };
        behaviour::mean_orders_of(b, kind, fit, reach, saturation, self.coupon)
    }

    /// Product index `p`'s price as `f64`.
    #[inline]
    pub(super) fn price(&self, p: usize, product: &Product) -> f64 {
        match self.products.get(p) {
            Some(m) => m.price,
            None => price_f64(product),
        }
    }

    /// Product index `p`'s seller and eligibility (what the rules engine's attribution query
    /// reads of it) and category, or `product`'s own when out of range.
    #[inline]
    pub(super) fn terms(&self, p: usize, product: &Product) -> (SellerId, bool, CategoryId) {
        match self.products.get(p) {
            Some(m) => (m.seller, m.eligible, m.category),
            None => (product.seller, product.eligible, product.category),
        }
    }

    /// Asks the CPU for product index `p`'s line (a hint; nothing when the model is off).
    #[inline]
    pub(super) fn prefetch(&self, p: usize) {
        if let Some(m) = self.products.get(p) {
            crate::hint::prefetch(m);
        }
    }

    /// Product index `p`'s category and live content items, from one read of its line (what
    /// the expected orders read of it); out of range, the category `fallback` gives (the
    /// model's record: [`EarningsMemo::terms`]) and no live items.
    #[inline]
    pub(super) fn category_and_live(
        &self,
        p: usize,
        fallback: impl FnOnce() -> Option<CategoryId>,
    ) -> (CategoryId, u32) {
        match self.products.get(p) {
            Some(m) => (m.category, m.live_on),
            None => (fallback().unwrap_or_default(), 0),
        }
    }

    /// Product index `p`'s live content items (0 out of range).
    #[inline]
    pub(super) fn live_on(&self, p: usize) -> u32 {
        self.products.get(p).map_or(0, |m| m.live_on)
    }

    /// Product index `p`'s live content items, to count one posted or run out.
    #[inline]
    pub(super) fn live_on_mut(&mut self, p: usize) -> Option<&mut u32> {
        self.products.get_mut(p).map(|m| &mut m.live_on)
    }
}

/// The log-odds ([`behaviour::logit`]) of the base probabilities of the incentive model's
/// frequent yes/no choices, fixed for a replication: computed once, where each review, sample
/// request and link decision took a logarithm for it (the same function of the same input,
/// so the same bits; a test checks them).
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct ChoiceLogits {
    /// Of `active_share` (the active/idle review).
    pub(super) active: f64,
    /// Of the creators' `sample_request_probability` (taking up an Open plan's product).
    pub(super) sample_request: f64,
    /// Of the distributors' `link_probability` (a creator exploring with links offered).
    pub(super) link: f64,
}

impl ChoiceLogits {
    pub(super) fn new(sc: &crate::scenario::Scenario) -> ChoiceLogits {
        let b = &sc.behaviour;
        ChoiceLogits {
            active: behaviour::logit(b.incentives.active_share),
            sample_request: behaviour::logit(b.creators.sample_request_probability),
            link: behaviour::logit(b.distributors.link_probability),
        }
    }
}

/// A product's price as `f64`, the conversion the incentive model uses (0 when out of range).
pub(super) fn price_f64(p: &Product) -> f64 {
    p.price.0.try_into().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_mean_is_the_formula_bit_for_bit() {
        let sc = crate::scenario::parse("x", crate::scenario::DEMO).unwrap();
        let mut streams = crate::sim::rng::Streams::new(sc.seed, 0);
        let built = crate::sim::population::build(&sc, &mut streams.population);
        let mut b = sc.behaviour.buyers.clone();
        b.follower_exponent = 0.85;
        b.saturation_exponent = 0.7;
        b.saturation_k = 3.0;
        let memo = EarningsMemo::new(&b, &built.agents);
        let agents = &built.agents;
        for (c, cr) in agents.creators.iter().enumerate().step_by(7) {
            for (p, pr) in agents.products.iter().enumerate().step_by(5) {
                for kind in [ContentKind::Video, ContentKind::Live] {
                    for live in [0, 1, 2, 17, 4095, 4096, 100_000] {
                        let want = behaviour::mean_orders(
                            &b,
                            true,
                            f64::from(cr.followers),
                            cr.has_category(pr.category),
                            kind,
                            live,
                        );
                        let reach = behaviour::reach(&b, f64::from(cr.followers));
                        let fit = cr.has_category(pr.category);
                        let got = memo.mean_orders(&b, reach, fit, kind, live);
                        assert_eq!(got.to_bits(), want.to_bits(), "{c} {p} {live}");
                    }
                }
                assert_eq!(memo.price(p, pr).to_bits(), price_f64(pr).to_bits());
                assert_eq!(memo.terms(p, pr), (pr.seller, pr.eligible, pr.category));
                assert_eq!(memo.live_on(p), 0);
                assert_eq!(memo.category_and_live(p, || None), (pr.category, 0));
            }
        }
        let out = agents.products.len();
        assert_eq!(memo.category_and_live(out, || Some(7)), (7, 0));
    }

    /// The kept log-odds give the choice probabilities `choice_probability` computes, bit for
    /// bit, at base probabilities inside (0, 1) and at the certainties 0 and 1.
    #[test]
    fn kept_logits_give_the_same_choice_probabilities() {
        let mut sc = crate::scenario::parse("x", crate::scenario::DEMO).unwrap();
        for p0 in [0.0, 1e-9, 0.05, 0.3, 0.8, 0.999, 1.0] {
            sc.behaviour.incentives.active_share = p0;
            sc.behaviour.creators.sample_request_probability = (p0 + 0.1).min(1.0);
            sc.behaviour.distributors.link_probability = p0 / 2.0;
            let l = ChoiceLogits::new(&sc);
            let b = &sc.behaviour;
            let ib = &b.incentives;
            for (e, o) in [
                (1.0, 2.0),
                (5.0, 0.5),
                (-1.0, 3.0),
                (2.0, 0.0),
                (f64::NAN, 1.0),
            ] {
                for (p, lp) in [
                    (b.creators.sample_request_probability, l.sample_request),
                    (b.distributors.link_probability, l.link),
                ] {
                    assert_eq!(
                        behaviour::choice_probability_with(p, lp, 1.7, e, o).to_bits(),
                        behaviour::choice_probability(p, 1.7, e, o).to_bits()
                    );
                }
                let log_ratio = behaviour::log_earnings_ratio(e, o);
                assert_eq!(
                    behaviour::active_probability_with(ib, l.active, log_ratio, o).to_bits(),
                    behaviour::active_probability(ib, e, o).to_bits()
                );
            }
        }
    }
}
