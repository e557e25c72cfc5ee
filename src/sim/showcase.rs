//! Creators' showcases under the incentive model: search, take up, drop, replace; effort per post.
//!
//! Behaviour decides; the rules engine's showcase operations (`Platform::add_shop_product`,
//! `apply_open`/`decide_application`, `remove_showcase_product`) make the change and decide
//! what it pays (docs/behaviour.md §3). Every draw here comes from the creator's own wake
//! episode (`rng.rs`, `seek`), so the arms of a sweep stay synchronised.

use rand_distr::Distribution;

use super::{By, World, behaviour};
use crate::model::{ContentKind, CreatorId, ProductId};
use crate::money::Rate;
use crate::rules::attribution::ShowcaseEntry;
use crate::scenario::dist::unit;
use crate::time::SimTime;

impl World<'_> {
    /// The effort a post of `kind` takes, in money per post (behaviour scoring only).
    pub(super) fn effort(&self, kind: ContentKind) -> f64 {
        match kind {
            ContentKind::Video => self.inc.effort[0],
            ContentKind::Live => self.inc.effort[1],
        }
    }

    /// Expected earnings per post of `c` posting `kind` about `p` at `rate`, net of the effort.
    pub(super) fn net_earnings(
        &self,
        c: CreatorId,
        p: ProductId,
        rate: Rate,
        kind: ContentKind,
    ) -> f64 {
        let price = self.inc.memo.price(p.idx(), &self.agents.products[p.idx()]);
        price * behaviour::rate_f64(rate) * self.expected_orders(c, p, kind) - self.effort(kind)
    }

    /// A search: `candidates` products drawn by popularity, those already in the showcase or
    /// paying nothing skipped, the best by score kept. Returns the product and, with the
    /// incentive model on, its expected earnings per video net of effort (0 off).
    pub(super) fn search(&mut self, t: SimTime, c: CreatorId) -> Option<(ProductId, f64)> {
        let pick = self.product_pick.as_ref()?;
        let b = &self.sc.behaviour.creators;
        let ib = &self.sc.behaviour.incentives;
        let mut best: Option<(f64, ProductId, f64)> = None;
        for _ in 0..b.candidates {
            let p = ProductId(pick.sample(&mut self.rng.agent) as u32);
            if self.pf.showcase_entry(c, p).is_some() {
                continue;
            }
            let Some(rate) = self.pf.offered_rate(&self.agents, c, p, t) else {
                continue;
            };
            let (s, e) = if self.inc.on {
                let e = self.candidate_earnings(c, p, rate) - self.effort(ContentKind::Video);
                let fit = self.agents.creators[c.idx()]
                    .has_category(self.agents.products[p.idx()].category);
                let o = f64::from(self.inc.outside[c.idx()]);
                (
                    behaviour::earnings_score(ib, b, e, o, fit, &mut self.rng.agent),
                    e,
                )
            } else {
                let s = behaviour::product_score(
                    b,
                    &self.agents.creators[c.idx()],
                    &self.agents.products[p.idx()],
                    rate.percent_f64(),
                    &mut self.rng.agent,
                );
                (s, 0.0)
            };
            if best.is_none_or(|(bs, _, _)| s > bs) {
                best = Some((s, p, e));
            }
        }
        best.map(|(_, p, e)| (p, e))
    }

    /// Takes up the product a search found (`e`: its net expected earnings per post): applies
    /// to its Open plan (and perhaps requests a free sample), or adds it under the Shop plan.
    pub(super) fn take_up(&mut self, t: SimTime, c: CreatorId, p: ProductId, e: f64) {
        if self.inc.on {
            self.observe_earnings(c, e);
        }
        let Some(listing) = self.pf.books().open_by_product[p.idx()] else {
            let _ = self.pf.add_shop_product(&self.agents, c, p, t);
            return;
        };
        self.apply(t, c, p, By::Model);
        let b = &self.sc.behaviour.creators;
        let ib = &self.sc.behaviour.incentives;
        let plan = self.pf.books().open_listings[listing.index()].plan.index();
        let p_sample = if self.inc.on {
            // A free sample adds its value (a share of the price) to one post's earnings.
            let price = self.inc.memo.price(p.idx(), &self.agents.products[p.idx()]);
            behaviour::choice_probability(
                b.sample_request_probability,
                ib.earnings_weight,
                e + price * ib.sample_value,
                f64::from(self.inc.outside[c.idx()]),
            )
        } else {
            b.sample_request_probability
        };
        if self.pf.books().open_plans[plan].samples.is_some()
            && unit(&mut self.rng.agent) < p_sample
        {
            self.request_sample(t, c, p, By::Model);
        }
    }

    /// At a post of showcase entry `entry`, whose product pays `now` (None: nothing): whether
    /// the creator drops it instead. ρ = the rate now ÷ the rate when it was added (the same
    /// resolution that pays, at the entry's `since`); the product is kept with probability
    /// ρ^δ (`drop_weight`), so terms that did not fall are always kept and a plan that ended
    /// with nothing in its place is always dropped. One uniform is drawn whatever the terms,
    /// so the episode's later draws do not depend on them. A dropped product is removed through
    /// the rules engine.
    pub(super) fn drops(&mut self, c: CreatorId, entry: ShowcaseEntry, now: Option<Rate>) -> bool {
        let u = unit(&mut self.rng.agent);
        let Some(then) = self
            .pf
            .rate_with_entry(&self.agents, c, entry.product, entry.since, Some(entry))
            .map(|r| behaviour::rate_f64(r.rate))
            .filter(|r| *r > 0.0)
        else {
            return false;
        };
        let rho = now.map_or(0.0, behaviour::rate_f64) / then;
        if rho >= 1.0 || u < rho.powf(self.sc.behaviour.incentives.drop_weight) {
            return false;
        }
        self.pf.remove_showcase_product(c, entry.product).is_some()
    }

    /// A search by a creator whose showcase is full: the product found replaces the entry
    /// that earns least per post when it earns more than (1 + `replace_margin`) times as much
    /// (expected commission per video; the effort is the same for both). Returns whether it
    /// did; if not, the creator posts instead.
    pub(super) fn replace_worst(&mut self, t: SimTime, c: CreatorId) -> bool {
        let Some((p, e)) = self.search(t, c) else {
            return false;
        };
        let mut worst: Option<(f64, ProductId)> = None;
        for entry in self.pf.showcase(c) {
            let w = self
                .pf
                .current_rate(&self.agents, c, entry.product, t)
                .map_or(0.0, |r| self.commission_per_post(c, entry.product, r));
            if worst.is_none_or(|(x, _)| w < x) {
                worst = Some((w, entry.product));
            }
        }
        let Some((w, wp)) = worst else { return false };
        let found = e + self.effort(ContentKind::Video);
        if found <= (1.0 + self.sc.behaviour.incentives.replace_margin) * w {
            return false;
        }
        if self.pf.remove_showcase_product(c, wp).is_none() {
            return false;
        }
        self.take_up(t, c, p, e);
        true
    }
}
