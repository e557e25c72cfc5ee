//! Creators' showcases under the incentive model: search, take up, drop, replace; effort per post.
//!
//! Behaviour decides; the rules engine's showcase operations (`Platform::add_shop_product`,
//! `apply_open`/`decide_application`, `remove_showcase_product`) make the change and decide
//! what it pays (docs/behaviour.md §3). Every draw here comes from the creator's own wake
//! episode (`rng.rs`, `seek`), so the arms of a sweep stay synchronised.

use super::shares::LeverPart;
use super::{By, World, behaviour};
use crate::model::{ContentKind, CreatorId, ProductId};
use crate::money::Rate;
use crate::rules::attribution::ShowcaseEntry;
use crate::rules::choices::Standing;
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

    /// Expected commission per post of `c` posting `kind` about `p` at `rate` (before effort).
    pub(super) fn gross_earnings(
        &self,
        c: CreatorId,
        p: ProductId,
        rate: Rate,
        kind: ContentKind,
    ) -> f64 {
        let price = self.inc.memo.price(p.idx(), &self.agents.products[p.idx()]);
        price * behaviour::rate_f64(rate) * self.expected_orders(c, p, kind)
    }

    /// A search: `candidates` products drawn by popularity, those already in the showcase or
    /// paying nothing skipped, the best by score kept. Returns the product and, with the
    /// incentive model on, its expected earnings per video net of effort (0 off) and the
    /// plan whose rate pays it.
    pub(super) fn search(&mut self, t: SimTime, c: CreatorId) -> Option<Found> {
        let pick = self.product_pick.as_ref()?;
        // A hint: what taking a product up reads of the creator's model record (the seller's
        // criteria, OPEN-2; the sample terms, OPEN-3), its only read in a wake under the
        // incentive model, arrives while the candidates are examined.
        if let Some(cr) = self.agents.creators.get(c.idx()) {
            crate::hint::prefetch(cr);
        }
        let b = &self.sc.behaviour.creators;
        let ib = &self.sc.behaviour.incentives;
        let mut best: Option<(f64, Found)> = None;
        // The recorder's candidates (sim/shares.rs; only in a run that records lever shares).
        let mut seen = self.inc.parts.as_deref_mut().map(|x| x.take_candidates());
        let mut chosen = 0;
        for i in 1..=b.candidates {
            let p = ProductId(pick.sample(&mut self.rng.agent) as u32);
            self.prefetch_candidate(p);
            if i < b.candidates {
                pick.prefetch_next(&self.rng.agent);
            }
            if self.pf.showcase_entry(c, p).is_some() || self.refused_before(c, p) {
                continue;
            }
            let Some(res) = self.resolution_as(c, p, t, Standing::OnceApproved) else {
                continue;
            };
            let rate = res.rate;
            let (s, e) = if self.inc.on {
                let e = self.candidate_earnings(c, p, rate) - self.effort(ContentKind::Video);
                let s = &self.pf.creator_sim(c.idx()).state;
                let fit = s.has_category(self.product_terms(p).2);
                let o = f64::from(s.outside);
                if let Some(seen) = &mut seen {
                    let gross = e + self.effort(ContentKind::Video);
                    let lever = LeverPart::of(Some(&res));
                    let moved = self
                        .inc
                        .parts
                        .as_deref()
                        .map_or(1.0, |x| x.weight(lever, p, rate));
                    seen.push(super::shares::Candidate::new(
                        ib,
                        b,
                        e,
                        gross,
                        o,
                        fit,
                        (lever, moved),
                    ));
                }
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
            if best.as_ref().is_none_or(|(bs, _)| s > *bs) {
                let lever = LeverPart::of(Some(&res));
                chosen = seen.as_ref().map_or(0, |x| x.len().saturating_sub(1));
                best = Some((
                    s,
                    Found {
                        product: p,
                        earnings: e,
                        lever,
                        rate,
                        score: [0.0; 2],
                    },
                ));
            }
        }
        let mut found = best.map(|(_, f)| f);
        if let Some(seen) = seen {
            if let Some(f) = &mut found {
                f.score = super::shares::choice_score(&seen, chosen);
            }
            if let Some(x) = self.inc.parts.as_deref_mut() {
                x.put_candidates(seen);
            }
        }
        found
    }

    /// Asks the CPU for what a search reads of candidate `p` (a hint: no effect on results):
    /// its Open listing, its record and its earnings memo. With 100,000 products each misses
    /// the cache, and read in turn (the listing by `refused_before`, the record by the rules
    /// engine's query, the memo by the earnings) each miss waited for the one before.
    #[inline]
    fn prefetch_candidate(&self, p: ProductId) {
        if let Some(l) = self.pf.books().open_by_product.get(p.idx()) {
            crate::hint::prefetch(l);
        }
        // With the incentive model the memo's line holds what a search reads of the product
        // (`World::product_terms`); without, the product's record.
        if self.inc.on {
            self.inc.memo.prefetch(p.idx());
        } else if let Some(x) = self.agents.products.get(p.idx()) {
            crate::hint::prefetch(x);
        }
    }

    /// Takes up the product a search found: applies to its Open plan (and perhaps requests a
    /// free sample), or adds it under the Shop plan.
    pub(super) fn take_up(&mut self, t: SimTime, c: CreatorId, found: Found) {
        let (p, e) = (found.product, found.earnings);
        if self.inc.on {
            self.observe_earnings(c, e);
            let gross = e + self.effort(ContentKind::Video);
            self.choose_parts(c, p, found.score);
            self.observe_parts(c, gross, found.lever, Some(p), Some(found.rate));
        }
        let Some(listing) = self.pf.books().listing_of(p) else {
            let _ = self.pf.add_shop_product(&self.agents, c, p, t);
            self.note_terms(c, t);
            return;
        };
        self.apply(t, c, p, By::Model);
        let b = &self.sc.behaviour.creators;
        let ib = &self.sc.behaviour.incentives;
        let plan = self.pf.books().open_listings[listing.index()].plan.index();
        // A free sample adds its value (a share of the price) to one post's earnings.
        let value = if self.inc.on {
            self.inc.memo.price(p.idx(), &self.agents.products[p.idx()]) * ib.sample_value
        } else {
            0.0
        };
        let p_sample = if self.inc.on {
            behaviour::choice_probability_with(
                b.sample_request_probability,
                self.inc.logits.sample_request,
                ib.earnings_weight,
                e + value,
                f64::from(self.pf.creator_sim(c.idx()).state.outside),
            )
        } else {
            b.sample_request_probability
        };
        if self.pf.books().open_plans[plan].samples.is_some()
            && unit(&mut self.rng.agent) < p_sample
        {
            if self.inc.parts.is_some() {
                let gross = e + self.effort(ContentKind::Video);
                self.sample_parts(c, p, (p_sample, e, gross, value), found.lever, found.rate);
            }
            self.request_sample(t, c, p, By::Model);
        }
    }

    /// The rate the creator holds showcase entry `entry` at: the rate it paid when it was
    /// added ([`World::note_terms`]), or when the creator last re-evaluated it after its terms
    /// changed. An entry added where no note was taken gets the rate the rules engine
    /// resolves at the entry's `since`.
    fn kept_rate(&mut self, c: CreatorId, entry: ShowcaseEntry) -> f32 {
        let key = (entry.product, entry.since);
        if let Some(k) = self
            .pf
            .creator_sim(c.idx())
            .kept
            .0
            .iter()
            .find(|k| k.key() == key)
        {
            return k.rate;
        }
        let then = self
            .pf
            .rate_with_entry(&self.agents, c, entry.product, entry.since, Some(entry))
            .map_or(0.0, |r| behaviour::rate_f64(r.rate) as f32);
        self.keep(c, entry, then);
        then
    }

    /// Sets the rate creator `c` holds `entry` at, forgetting entries no longer in its showcase.
    fn keep(&mut self, c: CreatorId, entry: ShowcaseEntry, rate: f32) {
        let (showcase, sim) = self.pf.creator_sim_with_showcase(c.idx());
        let kept = &mut sim.kept.0;
        match kept
            .iter_mut()
            .find(|k| k.key() == (entry.product, entry.since))
        {
            Some(k) => k.rate = rate,
            None => {
                kept.retain(|k| {
                    showcase
                        .iter()
                        .any(|e| (e.product, e.since) == (k.product, k.since))
                });
                kept.push(Kept {
                    product: entry.product,
                    since: entry.since,
                    rate,
                });
            }
        }
    }

    /// Notes the rate each entry added to `c`'s showcase at `t` pays now: the terms the
    /// creator took it up at (called after every showcase addition the simulator makes).
    pub(super) fn note_terms(&mut self, c: CreatorId, t: SimTime) {
        if !self.inc.on {
            return;
        }
        let added: crate::rules::ShortList<ShowcaseEntry, 5> = self
            .pf
            .showcase(c)
            .iter()
            .filter(|e| e.since == t)
            .copied()
            .collect();
        for e in added {
            let rate = self
                .pf
                .rate_as(&self.agents, c, e.product, t, Standing::Now)
                .map_or(0.0, |r| behaviour::rate_f64(r) as f32);
            self.keep(c, e, rate);
        }
    }

    /// At a post of showcase entry `entry`, whose product pays `now` (None: nothing): whether
    /// the creator drops it instead. ρ = the rate now ÷ the rate the creator holds the entry
    /// at ([`World::kept_rate`]: the rate at its addition, or at the creator's last
    /// re-evaluation). Where the terms fell the product is kept with probability ρ^δ
    /// (`drop_weight`) and, if kept, held at the new rate from then on: one decision per change
    /// of terms, not one per post. Terms that rose are held at the new rate (a later return to
    /// the old terms is a fall); a plan that ended with nothing in its place (ρ = 0) is always
    /// dropped. One uniform is drawn whatever the terms, so the episode's later draws do not
    /// depend on them. A dropped product is removed through the rules engine.
    pub(super) fn drops(&mut self, c: CreatorId, entry: ShowcaseEntry, now: Option<Rate>) -> bool {
        let u = unit(&mut self.rng.agent);
        let then = self.kept_rate(c, entry);
        // in f32 as kept, so that unchanged terms give ρ = 1 exactly
        let now = now.map_or(0.0, |r| behaviour::rate_f64(r) as f32);
        if now == then {
            return false;
        }
        let rho = if then > 0.0 {
            f64::from(now) / f64::from(then)
        } else {
            1.0
        };
        if rho >= 1.0 || u < rho.powf(self.sc.behaviour.incentives.drop_weight) {
            self.keep(c, entry, now);
            return false;
        }
        self.pf.remove_showcase_product(c, entry.product).is_some()
    }

    /// A search by a creator whose showcase is full ([`World::replace_worst`]), counted for
    /// the lever shares.
    pub(super) fn replace_full(&mut self, t: SimTime, c: CreatorId) -> bool {
        self.count_shares(super::shares::ShareEvent::FullSearch);
        let replaced = self.replace_worst(t, c);
        if replaced {
            self.count_shares(super::shares::ShareEvent::Replaced);
        }
        replaced
    }

    /// A search by a creator whose showcase is full: the product found replaces the entry
    /// that earns least per post when it earns more than (1 + `replace_margin`) times as much
    /// (expected commission per video; the effort is the same for both). Returns whether it
    /// did; if not, the creator posts instead.
    pub(super) fn replace_worst(&mut self, t: SimTime, c: CreatorId) -> bool {
        let Some(found) = self.search(t, c) else {
            return false;
        };
        let e = found.earnings;
        let mut worst: Option<(f64, ProductId)> = None;
        for entry in self.pf.showcase(c) {
            let w = self
                .pf
                .rate_as(&self.agents, c, entry.product, t, Standing::Now)
                .map_or(0.0, |r| self.commission_per_post(c, entry.product, r));
            if worst.is_none_or(|(x, _)| w < x) {
                worst = Some((w, entry.product));
            }
        }
        let Some((w, wp)) = worst else { return false };
        let gross = e + self.effort(ContentKind::Video);
        if gross <= (1.0 + self.sc.behaviour.incentives.replace_margin) * w {
            return false;
        }
        if self.pf.remove_showcase_product(c, wp).is_none() {
            return false;
        }
        self.take_up(t, c, found);
        true
    }
}

/// What a search found: the product, its expected earnings per video net of effort (0 with the
/// incentive model off) and the lever whose rate pays it.
pub(super) struct Found {
    pub(super) product: ProductId,
    pub(super) earnings: f64,
    pub(super) lever: LeverPart,
    /// The rate that pays it (the recorder's weight, sim/shares.rs).
    pub(super) rate: Rate,
    /// The choice's score per lever (Open, Shop plan): d ln P(this product chosen) ÷ d ln
    /// every rate of the lever, when lever shares are recorded (sim/shares.rs), else 0.
    pub(super) score: [f64; 2],
}

/// A creator's [`Kept`] rates: one cache line, aligned, the list's length first (a
/// `SmallVec` of 72 bytes, its length last, spanned two or three lines), read at each post
/// (`drops`) and prefetched with the creator's state at a wake.
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub(super) struct KeptRates(crate::rules::HeadList<Kept, 5>);

const _: () = assert!(size_of::<KeptRates>() == 64);

/// The rate a creator holds a showcase entry at (the entry is its product and `since`).
#[derive(Copy, Clone, Debug)]
pub(super) struct Kept {
    product: ProductId,
    since: SimTime,
    rate: f32,
}

impl Kept {
    fn key(&self) -> (ProductId, SimTime) {
        (self.product, self.since)
    }
}
