//! Open plan orchestration: rate changes (scripted or a seller policy's) with the H-4 lock warning,
//! applications decided by the seller's approval model, free-sample requests.

use crate::model::{CreatorId, ProductId};
use crate::rules::choices::{ListingRate, Review};
use crate::rules::ids::*;
use crate::sim::queue::Phase;
use crate::sim::{By, Ev, World, behaviour};
use crate::time::SimTime;

impl World<'_> {
    /// Changes a listing's Open rate (OPEN-4) — a scripted change or a seller policy's — and
    /// schedules the H-4 lock warning when the rules engine asks for one.
    pub(in crate::sim) fn change_listing_rate(
        &mut self,
        l: ListingId,
        rate: crate::money::Rate,
        which: ListingRate,
        t: SimTime,
    ) {
        let warn = match self.pf.change_open_rate(l, rate, which, t) {
            Ok(w) => w,
            Err(r) => {
                // rule: PLUS-9 — option rules.open_raise_during_plus = "refuse"
                self.refuse(r);
                None
            }
        };
        if let Some(warn) = warn {
            self.q.push(
                warn,
                Phase::Control,
                Ev::LockWarning {
                    listing: l,
                    changed: t,
                },
            );
        }
    }

    pub(in crate::sim) fn apply(&mut self, t: SimTime, c: CreatorId, p: ProductId, by: By) {
        match self.pf.apply_open(&self.agents, c, p) {
            Ok(listing) => {
                let plan = self.pf.books().open_listings[listing.index()].plan.index();
                let (approve, delay) = behaviour::decide_application(
                    &self.approvals[plan],
                    &self.agents.creators[c.idx()],
                    &mut self.rng.sellers,
                );
                let review = Review::approve_if(approve);
                if delay == 0 {
                    self.decided(t, c, listing, review);
                } else {
                    self.q.push(
                        t.plus_minutes(delay),
                        Phase::Agent,
                        Ev::Decide {
                            creator: c,
                            listing,
                            review,
                        },
                    );
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The seller's decision on `c`'s application reaches the rules engine (OPEN-2). A refusal
    /// by criteria is remembered when `refused_applications = "avoid"`: the creator's searches
    /// pass over the product from then on ([`World::refused_before`]).
    pub(in crate::sim) fn decided(
        &mut self,
        t: SimTime,
        c: CreatorId,
        listing: ListingId,
        review: Review,
    ) {
        self.pf.decide_application(c, listing, review, t);
        self.note_terms(c, t);
        if review.approved() {
            return;
        }
        let l = &self.pf.books().open_listings[listing.index()];
        let (product, plan) = (l.product, l.plan.index());
        self.refused_parts(c, product);
        if matches!(
            self.approvals[plan].policy,
            crate::scenario::ApprovalPolicy::Criteria { .. }
        ) && self.sc.behaviour.creators.refused_applications
            == crate::scenario::RefusedApplications::Avoid
        {
            self.refused.insert(c, listing);
        }
    }

    /// Whether `c` was refused by the criteria of the Open plan listing `p` and remembers it.
    pub(in crate::sim) fn refused_before(&self, c: CreatorId, p: ProductId) -> bool {
        !self.refused.is_empty()
            && self
                .pf
                .books()
                .listing_of(p)
                .is_some_and(|l| self.refused.contains(c, l))
    }

    pub(in crate::sim) fn request_sample(
        &mut self,
        t: SimTime,
        c: CreatorId,
        p: ProductId,
        by: By,
    ) {
        match self.pf.request_sample(&self.agents, c, p) {
            Ok(s) => {
                let listing = self.pf.books().listing_of(p).unwrap_or(ListingId(0));
                let plan = self.pf.books().open_listings[listing.index()].plan.index();
                let d = self.sample_ship[plan]
                    .as_ref()
                    .map_or(0, |d| behaviour::delay(d, &mut self.rng.logistics));
                self.q
                    .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }
}

/// The (creator, Open listing) pairs whose application the seller's criteria refused, as
/// `creator << 32 | listing`, with a bit per creator and a bit per listing that has at least
/// one: a search asks for every Open candidate, and the bits (the creator's word is read once
/// per search and stays in cache; the listings' words are a few kilobytes) spare the set's
/// probe, a cache miss in a large set, for creators never refused and listings nobody was
/// refused. Only looked up, never iterated, so the set's order does not matter; Fx-hashed
/// (one multiply per key).
#[derive(Default)]
pub(in crate::sim) struct Refusals {
    pairs: std::collections::HashSet<u64, rustc_hash::FxBuildHasher>,
    creators: Vec<u64>,
    listings: Vec<u64>,
}

/// Sets bit `i` of `bits`, growing it as needed.
fn set_bit(bits: &mut Vec<u64>, i: usize) {
    let w = i / 64;
    if bits.len() <= w {
        bits.resize(w + 1, 0);
    }
    bits[w] |= 1 << (i % 64);
}

/// Bit `i` of `bits` (unset beyond its end).
fn bit(bits: &[u64], i: usize) -> bool {
    bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

impl Refusals {
    fn insert(&mut self, c: CreatorId, l: ListingId) {
        set_bit(&mut self.creators, c.idx());
        set_bit(&mut self.listings, l.index());
        self.pairs.insert(refusal_key(c, l));
    }

    fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn contains(&self, c: CreatorId, l: ListingId) -> bool {
        bit(&self.creators, c.idx())
            && bit(&self.listings, l.index())
            && self.pairs.contains(&refusal_key(c, l))
    }
}

/// The key of a remembered refusal: creator and listing in one `u64`.
fn refusal_key(c: CreatorId, l: ListingId) -> u64 {
    (u64::from(c.0) << 32) | l.index() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_hold_exactly_the_pairs_inserted() {
        let mut r = Refusals::default();
        assert!(r.is_empty());
        assert!(!r.contains(CreatorId(1), ListingId(2)));
        r.insert(CreatorId(1), ListingId(2));
        r.insert(CreatorId(7), ListingId(130));
        r.insert(CreatorId(300), ListingId(2));
        assert!(!r.is_empty());
        for c in 0..400 {
            for l in 0..200 {
                let want = [(1, 2), (7, 130), (300, 2)].contains(&(c, l));
                assert_eq!(r.contains(CreatorId(c), ListingId(l)), want, "{c} {l}");
            }
        }
    }
}
