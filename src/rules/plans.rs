//! Plan books: what each plan offers, as the platform records it (SHOP-1, OPEN-1..4, H-4).
//!
//! The books hold rate histories rather than current rates, so "which rate applied at time t"
//! is a pure lookup. Target, Collaboration Plus and distributor campaigns plug in beside Open
//! through [`PlanRef`] and the candidate list of the attribution engine.

use serde::Serialize;

use crate::model::{ProductId, SellerId};
use crate::money::Rate;
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::ids::{CampaignId, InvitationId, ListingId, OpenPlanId, PlusId};
use crate::time::{DAY, SimTime};

/// Which plan an amount or a rate came from.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "plan", content = "index", rename_all = "kebab-case")]
pub enum PlanRef {
    /// No plan (money movements that are not commissions).
    #[default]
    None,
    /// A seller's Shop plan (the index is the seller).
    Shop(SellerId),
    /// An Open collaboration plan (the index is the plan).
    Open(OpenPlanId),
    /// A Target collaboration invitation.
    Target(InvitationId),
    /// A Collaboration Plus campaign.
    Plus(PlusId),
    /// A distributor campaign.
    Distributor(CampaignId),
}

impl PlanRef {
    pub fn kind(self) -> &'static str {
        match self {
            PlanRef::None => "none",
            PlanRef::Shop(_) => "shop",
            PlanRef::Open(_) => "open",
            PlanRef::Target(_) => "target",
            PlanRef::Plus(_) => "plus",
            PlanRef::Distributor(_) => "distributor",
        }
    }
}

/// A rate and the times from which it applies. The first change is the initial rate, kept
/// inline: most rates never change, and a lookup of one then reads no second cache line (the
/// Open and Shop plan rates are read at every order line and every search).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateHistory {
    first: (SimTime, Rate),
    later: Vec<(SimTime, Rate)>,
}

impl RateHistory {
    pub fn new(at: SimTime, rate: Rate) -> RateHistory {
        RateHistory {
            first: (at, rate),
            later: Vec::new(),
        }
    }
    /// Records a change at `at` (changes arrive in time order).
    pub fn change(&mut self, at: SimTime, rate: Rate) {
        self.later.push((at, rate));
    }
    /// The rate in force at `t` and when it took effect (OPEN-4: a change applies to orders
    /// placed after it).
    // rule: OPEN-4
    #[inline]
    pub fn at(&self, t: SimTime) -> Option<(Rate, SimTime)> {
        let (c, r) = self.first;
        if c > t {
            return None;
        }
        let mut cur = (r, c);
        for &(c, r) in &self.later {
            if c > t {
                break;
            }
            cur = (r, c);
        }
        Some(cur)
    }
    /// The rate at `t` for a creator promoting since `joined`, under the H-4 decrease lock: a
    /// change that lowers the creator's rate reaches a creator already promoting only `lock`
    /// minutes after it; increases, and creators joining after the change, get it at once.
    // rule: H-4
    pub(crate) fn at_locked(
        &self,
        t: SimTime,
        joined: SimTime,
        lock: u32,
    ) -> Option<(Rate, SimTime, bool)> {
        let mut cur: Option<(Rate, SimTime)> = None;
        let mut locked = false;
        for &(c, r) in self.changes() {
            if c > t {
                break;
            }
            match cur {
                Some((prev, _)) if r < prev && joined < c && t < c.plus_minutes(lock) => {
                    locked = true;
                }
                _ => {
                    cur = Some((r, c));
                    locked = false;
                }
            }
        }
        cur.map(|(r, c)| (r, c, locked))
    }
    /// The changes in time order, the initial rate first.
    pub fn changes(&self) -> impl Iterator<Item = &(SimTime, Rate)> {
        std::iter::once(&self.first).chain(&self.later)
    }
    /// Whether the rate was ever changed after it was set.
    pub fn changed(&self) -> bool {
        !self.later.is_empty()
    }
    pub fn initial(&self) -> Rate {
        self.first.1
    }
}

/// Options of the H-4 decrease lock.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DecreaseLock {
    /// Days before a decrease reaches creators already promoting (30).
    pub days: u32,
    /// Days before the end of the lock that creators are warned (2).
    pub(crate) warn_days: u32,
}

impl DecreaseLock {
    pub fn minutes(self) -> u32 {
        self.days * DAY
    }
}

/// One product's entry in an Open plan.
#[derive(Clone, Debug)]
pub struct OpenListing {
    pub plan: OpenPlanId,
    pub product: ProductId,
    pub rate: RateHistory,
    /// The optional Open Shop Ads rate (H-5).
    pub shop_ads: Option<RateHistory>,
    /// Free samples left (OPEN-3).
    pub(crate) samples_left: u32,
}

/// An Open rate in force, since when, and the rules that decided it ([`Books::open_rate`]).
pub(crate) type RateAt = (Rate, SimTime, RuleSet);

/// A product's Open listing, with the listing's plan and, while its rate never changed, that
/// rate and since when (copies of `OpenListing::plan` and `RateHistory`'s first change): what
/// resolving a line of the product reads of its listing (`Books::open_rate_of`), in the
/// product's entry that the resolution reads anyway — the `OpenListing` (another line on
/// another page, after this one) is read only once the rate has changed, or for its Shop Ads
/// rate (session 16). 32 bytes, aligned: one line.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
#[repr(C, align(32))]
pub(crate) struct ProductOpen {
    listing: Option<ListingId>,
    plan: OpenPlanId,
    /// When `rate` took effect; [`SimTime::NEVER`] once the listing's rate changed (then the
    /// listing's history answers).
    since: SimTime,
    rate: Rate,
}

const _: () = assert!(size_of::<ProductOpen>() == 32);

impl ProductOpen {
    /// The entry of a product in listing `id`, which is `l`.
    pub(crate) fn of(id: ListingId, l: &OpenListing) -> ProductOpen {
        let (since, rate) = if l.rate.changed() {
            (SimTime::NEVER, Rate::ZERO)
        } else {
            l.rate.first
        };
        ProductOpen {
            listing: Some(id),
            plan: l.plan,
            since,
            rate,
        }
    }
    /// The product's Open listing, if it is in an Open plan.
    #[inline]
    pub(crate) fn listing(&self) -> Option<ListingId> {
        self.listing
    }
    /// Whether resolving a line reads the listing itself (its rate changed).
    #[inline]
    pub(crate) fn reads_listing(&self) -> bool {
        self.listing.is_some() && self.since == SimTime::NEVER
    }
}

/// The sample terms of an Open plan (OPEN-3).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleTerms {
    /// Samples available per product.
    pub quantity: u32,
    pub min_followers: u32,
    pub(crate) min_level: u8,
    /// Minimum fulfilment rate (share of earlier samples the creator posted about, H-6).
    pub(crate) min_fulfilment: f64,
}

/// An Open collaboration plan (OPEN-1).
#[derive(Clone, Debug)]
pub struct OpenPlan {
    pub seller: SellerId,
    pub samples: Option<SampleTerms>,
}

/// Plan memberships by (creator, product) — Target slots, Plus participants — with a bit per
/// creator that has any. Most creators have none, and most lookups come from order lines and
/// product searches of those creators: the bit answers them without hashing.
#[derive(Clone, Debug)]
pub(crate) struct PairIndex<V> {
    map: std::collections::HashMap<(u32, u32), Vec<V>>,
    creators: Vec<u64>,
}

impl<V> Default for PairIndex<V> {
    fn default() -> Self {
        PairIndex {
            map: Default::default(),
            creators: Vec::new(),
        }
    }
}

impl<V> PairIndex<V> {
    /// Appends `v` to the list of (creator, product).
    pub fn push(&mut self, creator: u32, product: u32, v: V) {
        let w = (creator / 64) as usize;
        if self.creators.len() <= w {
            self.creators.resize(w + 1, 0);
        }
        self.creators[w] |= 1 << (creator % 64);
        self.map.entry((creator, product)).or_default().push(v);
    }
    /// The bitset word that holds `creator`'s bit (for prefetching).
    #[inline]
    pub fn creator_word(&self, creator: u32) -> Option<&u64> {
        self.creators.get((creator / 64) as usize)
    }
    /// Whether `creator` has any entry (its bit): when not, [`PairIndex::get`] is `None` for
    /// every product.
    #[inline]
    pub fn has_creator(&self, creator: u32) -> bool {
        self.creators
            .get((creator / 64) as usize)
            .is_some_and(|w| w & (1 << (creator % 64)) != 0)
    }
    /// The list of (creator, product), in the order pushed.
    #[inline]
    pub fn get(&self, creator: u32, product: u32) -> Option<&Vec<V>> {
        let w = self.creators.get((creator / 64) as usize)?;
        if w & (1 << (creator % 64)) == 0 {
            return None;
        }
        self.map.get(&(creator, product))
    }
}

/// The platform's plan books.
#[derive(Clone, Debug, Default)]
pub struct Books {
    /// Shop plan rate history per seller (SHOP-1); `None` when the seller has no Shop plan.
    pub shop: Vec<Option<RateHistory>>,
    pub open_plans: Vec<OpenPlan>,
    pub open_listings: Vec<OpenListing>,
    /// Per product, its Open listing (a product is in at most one Open plan) and what resolving
    /// a line reads of it ([`ProductOpen`]).
    pub(crate) open_by_product: Vec<ProductOpen>,
    /// The H-4 lock, when the rule-set option is on.
    pub(crate) decrease_lock: Option<DecreaseLock>,
    /// Which rate an authorised-ad order earns (`rules.ad_precedence`: ATTR-2 / H-5 option).
    pub(crate) ad_precedence: crate::rules::attribution::AdPrecedence,
    /// What an entry from an ended Target or Plus pays (`rules.ended_plan_entry`, PLUS-12 option).
    pub(crate) ended_plan_entry: crate::rules::attribution::EndedPlanEntry,
    /// Target invitations and their per-creator slots.
    pub target: crate::rules::target::TargetBook,
    /// Distributor campaigns and their registrations (links).
    pub dist: crate::rules::distributor::DistBook,
    /// Collaboration Plus: groups, collaborations, participants.
    pub plus: crate::rules::plus::PlusBook,
}

impl Books {
    /// The Open rate for a creator promoting `p` since `joined`, at `t`, and the rules that
    /// decided it.
    pub fn open_rate(
        &self,
        listing: ListingId,
        t: SimTime,
        joined: SimTime,
    ) -> Option<(Rate, SimTime, RuleSet)> {
        let l = &self.open_listings[listing.index()];
        let mut rules = RuleSet::of(&[RuleId::Open1]);
        if l.rate.changed() {
            rules.insert(RuleId::Open4);
        }
        match self.decrease_lock {
            Some(lock) => {
                let (r, since, locked) = l.rate.at_locked(t, joined, lock.minutes())?;
                if locked {
                    rules.insert(RuleId::H4);
                }
                Some((r, since, rules))
            }
            None => l.rate.at(t).map(|(r, s)| (r, s, rules)),
        }
    }

    /// The Open Shop Ads rate for a listing at `t`, if one is set (H-5).
    /// [`Books::open_rate`] for the product whose entry is `e` (its listing, `e.listing()`), and
    /// the listing's plan: from the entry while the rate never changed — the same answer, since
    /// one rate with no change is in force from its time on and no decrease can lock it (H-4) —
    /// else from the listing. None when the product is in no Open plan.
    #[inline]
    pub(crate) fn open_rate_of(
        &self,
        e: &ProductOpen,
        t: SimTime,
        joined: SimTime,
    ) -> Option<(OpenPlanId, Option<RateAt>)> {
        let l = e.listing?;
        if e.since == SimTime::NEVER {
            return Some((
                self.open_listings[l.index()].plan,
                self.open_rate(l, t, joined),
            ));
        }
        let rate = (e.since <= t).then(|| (e.rate, e.since, RuleSet::of(&[RuleId::Open1])));
        Some((e.plan, rate))
    }

    /// The entry of product `p` (default: in no Open plan).
    #[inline]
    pub(crate) fn product_open(&self, p: crate::model::ProductId) -> ProductOpen {
        self.open_by_product
            .get(p.idx())
            .copied()
            .unwrap_or_default()
    }

    /// The listing of product `p`, if it is in an Open plan.
    #[inline]
    pub(crate) fn listing_of(&self, p: crate::model::ProductId) -> Option<ListingId> {
        self.open_by_product.get(p.idx()).and_then(|e| e.listing)
    }

    /// Records that listing `l`'s rate changed: its product's entry stops answering for it.
    pub(crate) fn open_rate_changed(&mut self, l: ListingId) {
        let p = self.open_listings[l.index()].product;
        if let Some(e) = self.open_by_product.get_mut(p.idx())
            && e.listing == Some(l)
        {
            e.since = SimTime::NEVER;
            e.rate = Rate::ZERO;
        }
    }

    pub(crate) fn open_shop_ads(&self, listing: ListingId, t: SimTime) -> Option<(Rate, SimTime)> {
        self.open_listings[listing.index()].shop_ads.as_ref()?.at(t)
    }

    /// The Shop plan rate of `seller` at `t` (SHOP-1).
    pub(crate) fn shop_rate(&self, seller: SellerId, t: SimTime) -> Option<(Rate, SimTime)> {
        self.shop[seller.idx()].as_ref()?.at(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rate {
        s.parse().unwrap()
    }

    /// A product's Open entry answers exactly as its listing's history while the rate never
    /// changed (with and without the H-4 lock, before and after the rate's time), and hands
    /// over to the listing once it changes.
    #[test]
    fn product_open_entry_answers_as_the_listing() {
        let p = ProductId(1);
        for lock in [
            None,
            Some(DecreaseLock {
                days: 30,
                warn_days: 2,
            }),
        ] {
            let mut b = Books {
                decrease_lock: lock,
                open_by_product: vec![ProductOpen::default(); 2],
                ..Books::default()
            };
            b.open_listings.push(OpenListing {
                plan: OpenPlanId(3),
                product: p,
                rate: RateHistory::new(SimTime(100), r("12.5%")),
                shop_ads: None,
                samples_left: 0,
            });
            b.open_by_product[1] = ProductOpen::of(ListingId(0), &b.open_listings[0]);
            assert_eq!(b.listing_of(p), Some(ListingId(0)));
            assert_eq!(b.listing_of(ProductId(0)), None);
            assert_eq!(
                b.open_rate_of(&b.product_open(ProductId(0)), SimTime(5), SimTime(5)),
                None
            );
            let check = |b: &Books, reads: bool| {
                let e = b.product_open(p);
                assert_eq!(e.reads_listing(), reads);
                for t in [0, 99, 100, 101, 5 * DAY, 40 * DAY] {
                    for joined in [0, 100, 2 * DAY, t] {
                        let (t, joined) = (SimTime(t), SimTime(joined));
                        assert_eq!(
                            b.open_rate_of(&e, t, joined),
                            Some((OpenPlanId(3), b.open_rate(ListingId(0), t, joined))),
                            "{t:?} {joined:?} {lock:?}"
                        );
                    }
                }
            };
            check(&b, false);
            assert!(
                b.open_rate_of(&b.product_open(p), SimTime(99), SimTime(99))
                    .unwrap()
                    .1
                    .is_none()
            );
            b.open_listings[0].rate.change(SimTime(DAY), r("8%"));
            // Not yet told: the entry would answer with the old rate after the change.
            assert_ne!(
                b.open_rate_of(&b.product_open(p), SimTime(2 * DAY), SimTime(2 * DAY)),
                Some((
                    OpenPlanId(3),
                    b.open_rate(ListingId(0), SimTime(2 * DAY), SimTime(2 * DAY))
                ))
            );
            b.open_rate_changed(ListingId(0));
            check(&b, true);
        }
    }

    #[test]
    fn changes_apply_from_their_time() {
        let mut h = RateHistory::new(SimTime(0), r("10%"));
        h.change(SimTime(100), r("8%"));
        assert_eq!(h.at(SimTime(99)).unwrap().0, r("10%"));
        assert_eq!(h.at(SimTime(100)).unwrap(), (r("8%"), SimTime(100)));
    }

    #[test]
    fn decrease_lock_holds_old_rate_for_promoting_creators_only() {
        let lock = 30 * DAY;
        let mut h = RateHistory::new(SimTime(0), r("10%"));
        h.change(SimTime(DAY), r("8%"));
        // promoting since before the decrease: locked for 30 days
        assert_eq!(
            h.at_locked(SimTime(2 * DAY), SimTime(0), lock).unwrap().0,
            r("10%")
        );
        assert!(h.at_locked(SimTime(2 * DAY), SimTime(0), lock).unwrap().2);
        assert_eq!(
            h.at_locked(SimTime(31 * DAY), SimTime(0), lock).unwrap().0,
            r("8%")
        );
        // joined after the change: new rate at once
        assert_eq!(
            h.at_locked(SimTime(2 * DAY), SimTime(DAY + 1), lock)
                .unwrap()
                .0,
            r("8%")
        );
        // increases apply at once
        h.change(SimTime(3 * DAY), r("12%"));
        assert_eq!(
            h.at_locked(SimTime(3 * DAY), SimTime(0), lock).unwrap().0,
            r("12%")
        );
    }
}
