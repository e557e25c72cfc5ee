//! The rules engine: what the platform allows and pays. Pure — no randomness, clock or I/O.
//!
//! [`Platform`] holds the platform's books (plans, showcases, samples, order lines, ledger) and
//! changes them only through operations that check the rules and post ledger entries with their
//! provenance. Every operation takes the simulated time as an argument; none draws a random
//! number. Behaviour models (in `sim::behaviour`) decide what agents try; this module decides
//! what happens when they do.

pub mod attribution;
pub mod catalogue;
pub mod changes;
pub mod choices;
pub mod distributor;
mod headlist;
pub mod ids;
pub mod ledger;
pub mod orders;
pub mod packed;
pub mod plans;
pub mod plus;
mod queries;
pub mod target;

use std::collections::HashMap;

use serde::Serialize;

use crate::metrics::{Metric, Tally};
use crate::model::{Agents, CreatorId, ProductId, SellerId, Traffic};
use crate::money::{Money, Rate, Rounding, Term};
use crate::rules::attribution::{Query, ShowcaseEntry, Via};
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::choices::{Extension, ListingRate, Recording, Review, Standing};
use crate::rules::ids::{LineKey, ListingId, ParticipantId, SampleId, SlotId};
use crate::rules::ledger::{Account, EntryKind, Ledger, LedgerError, Provenance};
use crate::rules::orders::{
    Authorisation, NewLine, OrderBook, OrderLine, OrderRecord, Payout, ReturnPart, Status,
};
use crate::rules::plans::{Books, DecreaseLock, PlanRef};
use crate::time::{Calendar, SimTime};
pub(crate) use headlist::HeadList;

/// What happens to a refund after settlement (SETTLE-3 model).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LateRefund {
    /// The seller refunds the buyer; the creator keeps the commission (default).
    #[default]
    Keep,
    /// The seller refunds the buyer and the commission is reduced pro rata, taken back from the
    /// creator.
    ClawBack,
    /// Refunds after settlement are refused.
    Refuse,
}

/// What an Open rate raised to or above the rate of a running Collaboration Plus does
/// (`rules.open_raise_during_plus`; the seeds are silent, PLUS-9 is checked at confirmation).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpenRaiseDuringPlus {
    /// The change applies to Open; Plus participants keep the Plus rate during the period
    /// (seed 000: participants "will receive the Collaboration Plus commission rate during the
    /// collaboration period"). Default.
    #[default]
    PlusRate,
    /// The platform refuses an Open change that would bring the Open rate to or above the Plus
    /// rate of a confirmed, not yet ended collaboration with the product (PLUS-9 kept true).
    Refuse,
}

/// The rule-set options of a scenario (`[rules]`).
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct RuleOptions {
    pub rounding: Rounding,
    /// After-sales period in days after delivery (SETTLE-2, H-10).
    pub after_sales_days: u32,
    pub(crate) late_refund: LateRefund,
    /// The H-4 decrease lock, when on.
    pub(crate) decrease_lock: Option<DecreaseLock>,
    /// Days to post after receiving a free sample outside Plus (H-6).
    pub(crate) sample_post_days: u32,
    /// Length of the one extension of that deadline (H-6).
    pub(crate) sample_extension_days: u32,
    /// The region's settlement period comes from the help centre's table (US, VN: H-10).
    pub(crate) help_centre_region: bool,
    /// Distributor campaigns use the help centre's split: the seller registers a total and the
    /// distributor sets the creator's part (H-9 option; default: the seller sets both, DIST-2).
    pub(crate) distributor_sets_split: bool,
    /// Which rate an authorised-ad order earns (ATTR-2 by default; H-5 option).
    pub(crate) ad_precedence: attribution::AdPrecedence,
    /// An Open raise over a running Plus (PLUS-9 model).
    pub(crate) open_raise_during_plus: OpenRaiseDuringPlus,
    /// What a showcase entry from an ended Target or Plus pays (PLUS-12 option).
    pub(crate) ended_plan_entry: attribution::EndedPlanEntry,
    /// Whether Target rates may change for creators who accepted (issue 14 option).
    pub(crate) target_rate_change: target::TargetRateChange,
    /// What the Plus service fee is charged by (PLUS-16 model).
    pub(crate) plus_fee_measure: plus::PlusFeeMeasure,
    /// Whether a distributor registration's parts may be edited (issue 14 option).
    pub(crate) registration_edit: changes::RegistrationEdit,
}

/// A refusal by the rules: the rule and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub rule: RuleId,
    /// What was wrong: fixed text where possible, so that refusing (which behaviour models do
    /// often, e.g. sample requests) does not allocate in the event loop.
    pub message: std::borrow::Cow<'static, str>,
}

impl Refusal {
    pub fn new(rule: RuleId, message: impl Into<std::borrow::Cow<'static, str>>) -> Refusal {
        Refusal {
            rule,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.rule)
    }
}

/// An order line as the buyer places it.
#[derive(Copy, Clone, Debug)]
pub(crate) struct OrderRequest {
    pub creator: CreatorId,
    pub product: ProductId,
    pub quantity: u32,
    pub traffic: Traffic,
    /// For ad traffic: the video is creator-authorised.
    pub authorised: bool,
    /// The Target slot whose flat-fee video the line comes from, if it does: the video is also
    /// authorised once approved when the seller asked for it (TARGET-4).
    pub target_video: Option<SlotId>,
    pub seller_coupon: Money,
    pub platform_coupon: Money,
    pub shipping: Money,
}

/// Where a free sample is (OPEN-3, H-6).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleStatus {
    Shipped,
    Delivered,
    Fulfilled,
    Unfulfilled,
}

/// A free sample sent to a creator.
#[derive(Copy, Clone, Debug, Serialize)]
pub struct Sample {
    pub creator: CreatorId,
    pub product: ProductId,
    pub status: SampleStatus,
    pub delivered: SimTime,
    pub deadline: SimTime,
    pub(crate) extended: bool,
    pub posted: bool,
    /// The Plus participant it was sent to, for Plus samples (PLUS-14).
    pub plus: Option<ParticipantId>,
}

/// The platform's books and the operations that change them.
#[derive(Clone, Debug)]
pub struct Platform {
    opts: RuleOptions,
    calendar: Calendar,
    books: Books,
    ledger: Ledger,
    orders: OrderBook,
    /// Per creator, one record of four cache lines on one page ([`CreatorRecord`]): the Open
    /// approvals and the showcase ([`CreatorLists`]), then the simulator's state of the
    /// creator, which the rules engine stores but never reads.
    creators: Vec<CreatorRecord>,
    /// Units left per product.
    stock: Vec<u32>,
    samples: Vec<Sample>,
    /// Samples awaiting a post, by creator (looked up, never iterated).
    /// Inline up to four, so that a delivered sample does not allocate (a creator who keeps
    /// searching keeps receiving samples: ARCHITECTURE invariant 11).
    open_samples: HashMap<u32, ShortList<SampleId, 4>>,
    /// Per creator: samples received and samples fulfilled (H-6 fulfilment rate).
    fulfilment: Vec<(u16, u16)>,
    tally: Tally,
    /// GMV, orders and order costs by plan and seller (per-campaign results).
    campaigns: crate::metrics::campaigns::CampaignTally,
    /// Rule IDs that fired in this run (coverage).
    fired: RuleSet,
    /// Plus participants whose tasks just completed: their rewards are due (PLUS-3). The
    /// simulator drains this after each event and asks the risk policy (PLUS-18).
    plus_done: Vec<ParticipantId>,
}

/// A creator's Open approvals and showcase, together: placing a line reads both (OPEN-2's
/// approval, the showcase entry), and so does a wake's choice. Two cache lines, aligned: the
/// approvals (40 bytes: their length, then four inline) first, then the showcase's length and
/// first entry fill the first line, its other four entries the second. A `Demand` for the
/// first entry's product and a wake's read of the showcase's length touch the first line only
/// ([`HeadList`] keeps its length before its items; `smallvec` kept it after them, at byte 120).
/// Two separate vectors touched about four lines.
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub(crate) struct CreatorLists {
    /// (listing, when approved) (OPEN-2), apart from the showcase. Looked up by (creator,
    /// listing); iterated only to count (H-4 warnings).
    pub(crate) approvals: HeadList<(ListingId, SimTime), 4>,
    /// The products in the showcase (inline up to the default `max_products`, so that looking
    /// one up costs no second memory access).
    pub(crate) showcase: HeadList<ShowcaseEntry, 5>,
}

/// Everything a creator's wake or a `Demand` for its content touches of its own, in one record
/// of four cache lines aligned to 256 bytes, so that it never straddles a page: its
/// [`CreatorLists`] (the first two lines) and the simulator's per-creator state
/// ([`crate::sim::CreatorSim`]: episode counters, incentive state, kept rates; the last two
/// lines). Three vectors indexed by creator put a wake's lines on three pages: three page walks
/// and three misses where the loop waited on the first (session 15).
///
/// The rules engine stores `sim` and never reads or writes it (ARCHITECTURE invariant 1): what
/// the rules decide does not depend on it; the simulator reaches it through
/// [`Platform::creator_sim`] and [`Platform::creator_sim_mut`].
#[derive(Clone, Debug, Default)]
#[repr(C, align(256))]
pub(crate) struct CreatorRecord {
    pub(crate) lists: CreatorLists,
    /// The simulator's part (opaque to the rules).
    sim: crate::sim::CreatorSim,
}

impl Platform {
    pub fn new(
        opts: RuleOptions,
        calendar: Calendar,
        agents: &Agents,
        books: Books,
        record: Recording,
    ) -> Platform {
        let campaigns = crate::metrics::campaigns::CampaignTally::new(
            agents.sellers.len(),
            agents.creators.len(),
            &books,
        );
        Platform {
            opts,
            calendar,
            books,
            ledger: Ledger::new(
                agents.sellers.len() as u32,
                agents.creators.len() as u32,
                agents.distributors.len() as u32,
                record,
            ),
            orders: OrderBook::new(
                agents.products.iter().map(|p| p.seller).collect(),
                opts.after_sales_days,
            ),
            creators: vec![CreatorRecord::default(); agents.creators.len()],
            stock: agents.products.iter().map(|p| p.stock).collect(),
            samples: Vec::new(),
            open_samples: HashMap::new(),
            fulfilment: vec![(0, 0); agents.creators.len()],
            tally: Tally::default(),
            campaigns,
            fired: RuleSet::EMPTY,
            plus_done: Vec::new(),
        }
    }

    fn rounding(&self) -> Rounding {
        self.opts.rounding
    }

    /// The simulator's state of creator `i` (stored here, never read by the rules:
    /// [`CreatorRecord`]).
    #[inline]
    pub(crate) fn creator_sim(&self, i: usize) -> &crate::sim::CreatorSim {
        &self.creators[i].sim
    }

    /// The simulator's state of creator `i`, to change ([`CreatorRecord`]).
    #[inline]
    pub(crate) fn creator_sim_mut(&mut self, i: usize) -> &mut crate::sim::CreatorSim {
        &mut self.creators[i].sim
    }

    /// Creator `i`'s showcase and the simulator's state of it, the latter to change (one
    /// record: the simulator's kept rates follow the showcase).
    #[inline]
    pub(crate) fn creator_sim_with_showcase(
        &mut self,
        i: usize,
    ) -> (&[ShowcaseEntry], &mut crate::sim::CreatorSim) {
        let r = &mut self.creators[i];
        (&r.lists.showcase, &mut r.sim)
    }

    /// When `c` was approved for `p`'s Open listing, if ever (OPEN-2).
    pub fn open_since(&self, c: CreatorId, p: ProductId) -> Option<SimTime> {
        let l = self.books.listing_of(p)?;
        self.creators[c.idx()]
            .lists
            .approvals
            .iter()
            .find(|a| a.0 == l)
            .map(|a| a.1)
    }

    /// The creator's Open approvals.
    pub(crate) fn approvals_ref(&self, c: CreatorId) -> Option<&HeadList<(ListingId, SimTime), 4>> {
        self.creators.get(c.idx()).map(|r| &r.lists.approvals)
    }

    pub(crate) fn showcase_entry(&self, c: CreatorId, p: ProductId) -> Option<ShowcaseEntry> {
        self.creators[c.idx()]
            .lists
            .showcase
            .iter()
            .find(|e| e.product == p)
            .copied()
    }

    /// Whether `e` came from a Target or Plus that has ended by `t` (issue 14: what the entry
    /// pays then is `rules.ended_plan_entry`; whether the creator keeps it is behaviour).
    pub(crate) fn plan_ended(&self, e: ShowcaseEntry, t: SimTime) -> bool {
        match e.via {
            Via::Target(i) => t >= self.books.target.invitations[i.index()].ends,
            Via::Plus(c) => t >= self.books.plus.campaigns[c.index()].end,
            _ => false,
        }
    }

    /// The creator removes `p` from its showcase (its own choice; an Open approval is kept
    /// apart and stays, docs/attribution.md).
    pub(crate) fn remove_from_showcase(&mut self, c: CreatorId, p: ProductId, _t: SimTime) {
        self.creators[c.idx()]
            .lists
            .showcase
            .retain(|e| e.product != p);
    }

    fn set_showcase(&mut self, c: CreatorId, entry: ShowcaseEntry) {
        let list = &mut self.creators[c.idx()].lists.showcase;
        match list.iter_mut().find(|e| e.product == entry.product) {
            Some(e) => *e = entry,
            None => list.push(entry),
        }
    }

    /// The rate `c` earns on `p` at `t` with its Open approval as `standing` says: `Now` (DIST-4
    /// compares a link with it; a showcase entry's terms), `OnceApproved` (what a creator weighs
    /// when choosing a product).
    pub(crate) fn rate_as(
        &self,
        agents: &Agents,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
        standing: Standing,
    ) -> Option<Rate> {
        self.resolution_as(agents, c, p, t, standing)
            .map(|r| r.rate)
    }

    /// [`Platform::rate_as`] with the plan it comes from (the behaviour model's lever shares,
    /// `sim/shares.rs`).
    pub(crate) fn resolution_as(
        &self,
        agents: &Agents,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
        standing: Standing,
    ) -> Option<attribution::Resolution> {
        let prod = &agents.products[p.idx()];
        self.resolution_of(c, p, (prod.seller, prod.eligible), t, standing)
    }

    /// [`Platform::resolution_as`] with the product's seller and eligibility given (the
    /// simulator keeps copies of them beside what else a search reads of the product,
    /// `sim/memo.rs`: the same values as `agents.products`, fixed for the run).
    pub(crate) fn resolution_of(
        &self,
        c: CreatorId,
        p: ProductId,
        (seller, eligible): (SellerId, bool),
        t: SimTime,
        standing: Standing,
    ) -> Option<attribution::Resolution> {
        let mut q = self.query_of(c, p, seller, eligible, t);
        if standing == Standing::OnceApproved {
            q.open_since = q.open_since.or(Some(t));
        }
        attribution::resolve(&self.books, &q)
    }

    /// The attribution question for a (video) line of `p` by `c` at `t`, with the creator's
    /// showcase entry and Open approval as they are: what [`Platform::place_order`] asks.
    pub(crate) fn query(&self, agents: &Agents, c: CreatorId, p: ProductId, t: SimTime) -> Query {
        let prod = &agents.products[p.idx()];
        self.query_of(c, p, prod.seller, prod.eligible, t)
    }

    /// [`Platform::query`] with the product's seller and eligibility given.
    #[inline]
    fn query_of(
        &self,
        c: CreatorId,
        p: ProductId,
        seller: SellerId,
        eligible: bool,
        t: SimTime,
    ) -> Query {
        Query {
            creator: c,
            product: p,
            seller,
            at: t,
            traffic: Traffic::Video,
            authorised: false,
            eligible,
            entry: self.showcase_entry(c, p),
            open_since: self.open_since(c, p),
        }
    }

    /// What a line of `p` by `c` at `t` would pay if the showcase entry were `entry`, by the
    /// same resolution that pays orders (DIST-4 decides the showcase with it, so the decision
    /// and the payment agree).
    pub(crate) fn rate_with_entry(
        &self,
        agents: &Agents,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
        entry: Option<ShowcaseEntry>,
    ) -> Option<attribution::Resolution> {
        let q = Query {
            entry,
            ..self.query(agents, c, p, t)
        };
        attribution::resolve(&self.books, &q)
    }

    // ---------------------------------------------------------------- Shop plan and Open

    /// A creator adds a Shop-plan product to the showcase (SHOP-1: open to every eligible
    /// creator, no application).
    // rule: SHOP-1
    pub(crate) fn add_shop_product(
        &mut self,
        agents: &Agents,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
    ) -> Result<(), Refusal> {
        let prod = &agents.products[p.idx()];
        if !prod.eligible {
            return Err(Refusal::new(
                RuleId::Shop1,
                "the product is not affiliate-eligible",
            ));
        }
        if self.books.listing_of(p).is_some() {
            return Err(Refusal::new(
                RuleId::Open2,
                "the product is in an Open plan: apply instead",
            ));
        }
        if self.books.shop[prod.seller.idx()].is_none() {
            return Err(Refusal::new(RuleId::Shop1, "the seller has no Shop plan"));
        }
        self.fired.insert(RuleId::Shop1);
        self.set_showcase(
            c,
            ShowcaseEntry {
                product: p,
                via: Via::Shop,
                since: t,
            },
        );
        self.tally.count(Metric::ShowcaseAdds);
        Ok(())
    }

    /// A creator removes a product from its showcase (the behaviour model decides when:
    /// `sim/showcase.rs`). Returns the entry removed, or None when the product was not there.
    /// Only the showcase changes: an Open approval stays (OPEN-2, kept apart from the
    /// showcase), so the Open rate still pays lines of content already posted; a removed
    /// distributor link no longer pays (the link was the entry, DIST-4, DIST-5); Target and
    /// Plus terms follow the invitation and the participation, not the showcase (ATTR-2,
    /// ATTR-3). Adding the product again is the ordinary add (SHOP-1, OPEN-2, DIST-4).
    pub(crate) fn remove_showcase_product(
        &mut self,
        c: CreatorId,
        p: ProductId,
    ) -> Option<ShowcaseEntry> {
        let list = &mut self.creators[c.idx()].lists.showcase;
        let i = list.iter().position(|e| e.product == p)?;
        let entry = list.remove(i);
        self.tally.count(Metric::ShowcaseDrops);
        Some(entry)
    }

    /// A creator applies to promote an Open product (OPEN-2). Returns the listing; the seller's
    /// decision comes later through [`Platform::decide_application`].
    // rule: OPEN-2
    pub(crate) fn apply_open(
        &mut self,
        agents: &Agents,
        _c: CreatorId,
        p: ProductId,
    ) -> Result<ListingId, Refusal> {
        let Some(l) = self.books.listing_of(p) else {
            return Err(Refusal::new(
                RuleId::Open2,
                "the product is not in an Open plan",
            ));
        };
        if !agents.products[p.idx()].eligible {
            return Err(Refusal::new(
                RuleId::Open1,
                "the product is not affiliate-eligible",
            ));
        }
        self.fired.insert(RuleId::Open2);
        self.tally.count(Metric::Applications);
        Ok(l)
    }

    /// The seller decides an application; approved creators may start promoting (OPEN-2).
    pub(crate) fn decide_application(
        &mut self,
        c: CreatorId,
        listing: ListingId,
        review: Review,
        t: SimTime,
    ) {
        if review.approved() {
            let product = self.books.open_listings[listing.index()].product;
            let mine = &mut self.creators[c.idx()].lists.approvals;
            if !mine.iter().any(|a| a.0 == listing) {
                mine.push((listing, t));
            }
            // The showcase keeps a distributor link or other entry it already has (DIST-4).
            if self.showcase_entry(c, product).is_none() {
                self.set_showcase(
                    c,
                    ShowcaseEntry {
                        product,
                        via: Via::Open(listing),
                        since: t,
                    },
                );
            }
            self.tally.count(Metric::Approvals);
        }
    }

    /// Changes the Open rate of a listing from `t` on (OPEN-4). Returns, when the H-4 lock is on
    /// and this is a decrease, when creators already promoting must be warned.
    // rule: OPEN-4
    pub(crate) fn change_open_rate(
        &mut self,
        listing: ListingId,
        rate: Rate,
        which: ListingRate,
        t: SimTime,
    ) -> Result<Option<SimTime>, Refusal> {
        let shop_ads = which.is_shop_ads();
        if self.opts.open_raise_during_plus == OpenRaiseDuringPlus::Refuse {
            // rule: PLUS-9 — option: no Open change that would reach a running Plus's rate
            let product = self.books.open_listings[listing.index()].product;
            let open = self.books.open_listings[listing.index()]
                .rate
                .at(t)
                .map(|r| r.0);
            let has_ads = self.books.open_listings[listing.index()].shop_ads.is_some();
            for (i, camp) in self.books.plus.campaigns.iter().enumerate() {
                let live = matches!(
                    self.books.plus.state[i].status,
                    plus::PlusStatus::PendingPayment
                        | plus::PlusStatus::Paid
                        | plus::PlusStatus::Ongoing
                ) && t < camp.end;
                if !live || !camp.products.contains(&product) {
                    continue;
                }
                // What the new Open rates would be, and the Plus rate each must stay below.
                let (std, ads) = if shop_ads {
                    (open, Some(rate))
                } else {
                    (Some(rate), None)
                };
                let ads = ads.or(if has_ads { None } else { std });
                let clash = matches!((camp.rate, std), (Some(p), Some(o)) if o >= p && !shop_ads)
                    || matches!((camp.shop_ads_rate, ads), (Some(p), Some(o)) if o >= p);
                if clash {
                    self.fired.insert(RuleId::Plus9);
                    return Err(Refusal::new(
                        RuleId::Plus9,
                        "the Open rate would reach the rate of a running Collaboration Plus with the product (rules.open_raise_during_plus = \"refuse\")",
                    ));
                }
            }
        }
        let l = &mut self.books.open_listings[listing.index()];
        let before = l.rate.at(t).map(|r| r.0);
        if shop_ads {
            match &mut l.shop_ads {
                Some(h) => h.change(t, rate),
                None => l.shop_ads = Some(plans::RateHistory::new(t, rate)),
            }
        } else {
            l.rate.change(t, rate);
            self.books.open_rate_changed(listing);
        }
        self.fired.insert(RuleId::Open4);
        self.tally.count(Metric::RateChanges);
        Ok(match (self.books.decrease_lock, before) {
            (Some(lock), Some(b)) if !shop_ads && rate < b => {
                self.fired.insert(RuleId::H4);
                Some(t.plus_days(lock.days.saturating_sub(lock.warn_days)))
            }
            _ => None,
        })
    }

    /// Changes a seller's Shop plan rate from `t` on.
    pub(crate) fn change_shop_rate(&mut self, seller: SellerId, rate: Rate, t: SimTime) {
        if let Some(h) = &mut self.books.shop[seller.idx()] {
            h.change(t, rate);
            self.tally.count(Metric::RateChanges);
        }
    }

    /// The warning two days before an H-4 lock ends: counts the creators who were promoting
    /// the product before the decrease at `changed`.
    // rule: H-4
    pub(crate) fn lock_warning(&mut self, listing: ListingId, changed: SimTime) -> u32 {
        let n = self
            .creators
            .iter()
            .flat_map(|mine| mine.lists.approvals.iter())
            .filter(|(l, since)| *l == listing && *since < changed)
            .count() as u32;
        self.tally.add(Metric::LockWarnings, n.into());
        n
    }

    /// A creator requests a free sample from an Open listing (OPEN-3): refused beyond the
    /// quantity or when the creator does not meet the requirements.
    // rule: OPEN-3
    pub(crate) fn request_sample(
        &mut self,
        agents: &Agents,
        c: CreatorId,
        p: ProductId,
    ) -> Result<SampleId, Refusal> {
        self.tally.count(Metric::SamplesRequested);
        let refuse = |me: &mut Platform, msg: &'static str| {
            me.tally.count(Metric::SamplesRefused);
            me.fired.insert(RuleId::Open3);
            Err(Refusal::new(RuleId::Open3, msg))
        };
        let Some(l) = self.books.listing_of(p) else {
            return refuse(self, "the product is not in an Open plan");
        };
        let plan = self.books.open_listings[l.index()].plan;
        let Some(terms) = self.books.open_plans[plan.index()].samples.clone() else {
            return refuse(self, "the Open plan offers no free samples");
        };
        let cr = &agents.creators[c.idx()];
        let (got, done) = self.fulfilment[c.idx()];
        let rate = if got == 0 {
            1.0
        } else {
            f64::from(done) / f64::from(got)
        };
        if cr.followers < terms.min_followers || cr.level < terms.min_level {
            return refuse(self, "the creator does not meet the sample requirements");
        }
        if rate < terms.min_fulfilment {
            // rule: H-6
            self.tally.count(Metric::SamplesRefused);
            self.fired.extend(RuleSet::of(&[RuleId::H6, RuleId::Open3]));
            return Err(Refusal::new(
                RuleId::H6,
                format!(
                    "the creator's fulfilment rate {:.0}% is below the seller's requirement of {:.0}%",
                    rate * 100.0,
                    terms.min_fulfilment * 100.0
                ),
            ));
        }
        if self.books.open_listings[l.index()].samples_left == 0 {
            return refuse(self, "no free samples left");
        }
        self.books.open_listings[l.index()].samples_left -= 1;
        self.fired.insert(RuleId::Open3);
        Ok(self.ship_sample(c, p))
    }

    /// Ships a free sample to a creator; returns its index.
    pub(crate) fn ship_sample(&mut self, c: CreatorId, p: ProductId) -> SampleId {
        self.samples.push(Sample {
            creator: c,
            product: p,
            status: SampleStatus::Shipped,
            delivered: SimTime::NEVER,
            deadline: SimTime::NEVER,
            extended: false,
            posted: false,
            plus: None,
        });
        self.tally.count(Metric::SamplesShipped);
        SampleId::at(self.samples.len() - 1)
    }

    /// A sample arrives: the creator must post within the H-6 period. Returns the deadline.
    // rule: H-6
    pub(crate) fn sample_delivered(&mut self, s: SampleId, t: SimTime) -> SimTime {
        let days = self.opts.sample_post_days;
        let smp = &mut self.samples[s.index()];
        smp.status = SampleStatus::Delivered;
        smp.delivered = t;
        smp.deadline = t.plus_days(days);
        if let Some(part) = smp.plus {
            // rule: PLUS-14 — content is due within the period; a late delivery does not extend it
            let c = self.books.plus.participants[part.index()].campaign;
            let end = self.books.plus.campaigns[c.index()].end;
            let smp = &mut self.samples[s.index()];
            smp.deadline = end.max(t);
            self.books.plus.participants[part.index()].sample_received = true;
            self.fired.insert(RuleId::Plus14);
            return self.samples[s.index()].deadline;
        }
        let c = smp.creator;
        self.open_samples.entry(c.0).or_default().push(s);
        self.fired.insert(RuleId::H6);
        self.samples[s.index()].deadline
    }

    /// The posting deadline of a sample passes. With an extension requested and none used yet,
    /// the deadline moves by the extension (once); returns the new deadline in that case.
    pub(crate) fn sample_deadline(&mut self, s: SampleId, extend: Extension) -> Option<SimTime> {
        let extend = extend == Extension::Requested;
        if let Some(part) = self.samples[s.index()].plus {
            // A Plus sample's obligation is PLUS-14's (content within the period), not H-6's:
            // it does not touch the creator's H-6 fulfilment rate.
            if self.samples[s.index()].status != SampleStatus::Delivered {
                return None;
            }
            let posted = self.books.plus.participants[part.index()].posted;
            self.samples[s.index()].status = if posted {
                SampleStatus::Fulfilled
            } else {
                SampleStatus::Unfulfilled
            };
            self.tally.count(if posted {
                Metric::SamplesFulfilled
            } else {
                Metric::SamplesUnfulfilled
            });
            return None;
        }
        let ext = self.opts.sample_extension_days;
        let smp = &mut self.samples[s.index()];
        if smp.status != SampleStatus::Delivered {
            return None;
        }
        if !smp.posted && extend && !smp.extended && smp.plus.is_none() {
            smp.extended = true;
            smp.deadline = smp.deadline.plus_days(ext);
            self.tally.count(Metric::SampleExtensions);
            return Some(smp.deadline);
        }
        let c = smp.creator;
        // The fulfilment rate counts concluded obligations only: one still running, posted or
        // not, does not count against the creator (H-6).
        self.fulfilment[c.idx()].0 = self.fulfilment[c.idx()].0.saturating_add(1);
        if smp.posted {
            smp.status = SampleStatus::Fulfilled;
            self.fulfilment[c.idx()].1 = self.fulfilment[c.idx()].1.saturating_add(1);
            self.tally.count(Metric::SamplesFulfilled);
        } else {
            // No money penalty; the creator's fulfilment rate drops (H-6).
            smp.status = SampleStatus::Unfulfilled;
            self.tally.count(Metric::SamplesUnfulfilled);
        }
        if let Some(list) = self.open_samples.get_mut(&c.0) {
            list.retain(|x| *x != s);
            if list.is_empty() {
                self.open_samples.remove(&c.0);
            }
        }
        None
    }

    /// A creator posted content about `p` at `t`: meets any sample obligation for it.
    pub(crate) fn note_post(
        &mut self,
        c: CreatorId,
        p: ProductId,
        kind: crate::model::ContentKind,
        t: SimTime,
    ) {
        let mut done = std::mem::take(&mut self.plus_done);
        self.plus_note_post(c, p, kind, t, &mut done);
        self.plus_done = done;
        self.tally
            .count(if kind == crate::model::ContentKind::Live {
                Metric::Lives
            } else {
                Metric::Posts
            });
        if let Some(list) = self.open_samples.get(&c.0) {
            for &s in list {
                let smp = &mut self.samples[s.index()];
                if smp.product == p && t >= smp.delivered && t <= smp.deadline {
                    smp.posted = true;
                }
            }
        }
    }

    // ---------------------------------------------------------------- orders

    /// The value of a percentage coupon on `price`, rounded by the run's rounding rule (MONEY-1).
    #[inline]
    pub(crate) fn coupon_value(&self, price: Money, coupon: Rate) -> Money {
        self.rounding()
            .apply(crate::money::mul_exact(price.0, coupon.fraction()))
    }

    /// Places an order line: resolves the rate, takes the buyer's payment into escrow. A line from
    /// an approved Target video whose seller asked for ads authorisation counts as authorised
    /// (TARGET-4, PLUS-10).
    // rule: ORDER-1
    // rule: H-1
    pub(crate) fn place_order(
        &mut self,
        agents: &Agents,
        req: &OrderRequest,
        t: SimTime,
        record: Option<(String, Names2)>,
    ) -> Result<LineKey, Refusal> {
        let prod = &agents.products[req.product.idx()];
        // A product's running stock is unlimited exactly when its initial stock is (a limited
        // stock only falls, and a cancellation gives back no more than was taken): the product,
        // in cache already, answers for most lines without touching `self.stock`.
        let stock = &mut self.stock[req.product.idx()];
        if prod.stock != crate::model::UNLIMITED && *stock != crate::model::UNLIMITED {
            if *stock < req.quantity {
                self.tally.count(Metric::OrdersRefusedStock);
                self.fired.insert(RuleId::Target7);
                return Err(Refusal::new(RuleId::Target7, "the product is out of stock"));
            }
            *stock -= req.quantity;
        }
        // The gross prepared for the sums in the same step (session 17).
        let gross_term = Term::of_times(prod.price.0, req.quantity);
        let gross = Money(gross_term.amount());
        // `g − 0 − 0` is `g` itself for a non-zero `g` (`sub_exact`'s zero rule): most lines
        // have no coupon (session 16).
        let base = if req.seller_coupon.is_zero()
            && req.platform_coupon.is_zero()
            && !gross_term.is_zero()
        {
            gross
        } else {
            gross - req.seller_coupon - req.platform_coupon
        };
        if base.is_negative() {
            return Err(Refusal::new(
                RuleId::Order1,
                "coupons exceed the line's price",
            ));
        }
        // rule: TARGET-4 — an approved Target video is authorised for ads if the seller asked
        let authorisation = if req
            .target_video
            .is_some_and(|s| self.books.target.video_authorised(s, t))
        {
            Authorisation::SellerRequest
        } else if req.authorised {
            Authorisation::Creator
        } else if req.traffic == Traffic::Ad
            && self
                .books
                .plus
                .prompt_authorised(req.creator, req.product, t)
                .is_some()
        {
            // rule: PLUS-22 — the creator authorised its videos at the collaboration's prompt
            Authorisation::PlusPrompt
        } else {
            Authorisation::No
        };
        let q = Query {
            traffic: req.traffic,
            authorised: authorisation.yes(),
            ..self.query(agents, req.creator, req.product, t)
        };
        let mut candidates = Vec::new();
        let resolution = if record.is_some() {
            attribution::resolve_with(&self.books, &q, &mut |c| candidates.push(c))
        } else {
            attribution::resolve(&self.books, &q)
        };
        let no = self.orders.next_no();
        let mut rules = RuleSet::of(&[RuleId::Order1, RuleId::Order2, RuleId::H1]);
        if let Some(r) = &resolution {
            rules.extend(r.rules);
        }
        if req.traffic == Traffic::Ad && authorisation == Authorisation::SellerRequest {
            // rule: TARGET-4 — the ad's video is authorised because the seller asked
            rules.insert(RuleId::Target4);
        }
        if authorisation == Authorisation::PlusPrompt {
            rules.insert(RuleId::Plus22);
        }
        self.fired.extend(rules);
        let prov = Provenance {
            plan: resolution.map(|r| r.plan).unwrap_or_default(),
            rules,
            rate: None,
            order: Some(no),
            rate_since: None,
        };
        // base + shipping prepared for the sums in the same step (session 16).
        self.ledger.post_term(
            t,
            EntryKind::OrderPayment,
            Account::Buyers,
            Account::Escrow,
            &Term::of_sum(base.0, req.shipping.0, false),
            prov,
        );
        // Each amount is prepared once for all the sums it goes to (session 15).
        let coupon = Term::of(req.platform_coupon.0);
        self.ledger.post_term(
            t,
            EntryKind::PlatformCoupon,
            Account::Platform,
            Account::Escrow,
            &coupon,
            prov,
        );
        self.tally.add_term(Metric::Gmv, &gross_term);
        let (gm, om) = match resolution.map(|r| r.plan) {
            Some(PlanRef::Shop(_)) => (Metric::GmvShop, Metric::OrdersShop),
            Some(PlanRef::Open(_)) => (Metric::GmvOpen, Metric::OrdersOpen),
            Some(PlanRef::Target(_)) => (Metric::GmvTarget, Metric::OrdersTarget),
            Some(PlanRef::Plus(_)) => (Metric::GmvPlus, Metric::OrdersPlus),
            Some(PlanRef::Distributor(_)) => (Metric::GmvDistributor, Metric::OrdersDistributor),
            Some(PlanRef::None) | None => (Metric::GmvUnattributed, Metric::OrdersUnattributed),
        };
        self.tally.add_term(gm, &gross_term);
        self.tally.count(om);
        let plan = resolution.map(|r| r.plan).unwrap_or_default();
        self.campaigns
            .order(plan, prod.seller, req.creator, &gross_term);
        let mut done = std::mem::take(&mut self.plus_done);
        self.plus_note_order(req.creator, req.product, req.traffic, gross, t, &mut done);
        self.plus_done = done;
        self.tally.count(Metric::Orders);
        // Units are whole: counted as an integer (the tally reads a count back as the same
        // `Decimal` as the sum of the quantities, scale 0).
        self.tally.count_n(Metric::Units, req.quantity.into());
        self.tally.add_term(Metric::PlatformCoupons, &coupon);
        let rec = record.map(|(name, names)| {
            self.record_placed(
                req,
                t,
                Placed {
                    name,
                    names,
                    no,
                    gross,
                    base,
                    resolution,
                    rules,
                    authorisation,
                    candidates,
                },
            )
        });
        let resolution = self.orders.intern(resolution, req.product);
        // Nothing refunded, escrow holding `held_at_placement(base, shipping, coupon)`: the book
        // derives that amount when it is read (session 16).
        Ok(self.orders.insert_placed(NewLine {
            no,
            creator: req.creator,
            product: req.product,
            seller: prod.seller,
            quantity: req.quantity,
            traffic: req.traffic,
            placed: t,
            paid: base,
            shipping: req.shipping,
            platform_coupon: req.platform_coupon,
            resolution,
            record: rec.unwrap_or(u32::MAX),
        }))
    }

    /// Keeps the record of a tracked line just placed; returns its index. Out of line and
    /// marked cold: `place_order`'s code for the millions of untracked lines stays short.
    #[cold]
    #[inline(never)]
    fn record_placed(&mut self, req: &OrderRequest, t: SimTime, p: Placed) -> u32 {
        let Placed {
            name,
            names,
            no,
            gross,
            base,
            resolution,
            rules,
            authorisation,
            candidates,
        } = p;
        self.orders.records.push(OrderRecord {
            name,
            no,
            creator: names.creator,
            product: names.product,
            quantity: req.quantity,
            traffic: req.traffic,
            status: Status::Placed,
            placed: Some(self.calendar.stamp(t)),
            shipped: None,
            delivered: None,
            settled: None,
            cancelled: None,
            gross,
            base,
            refunded: Money::ZERO,
            rate: resolution.map(|r| r.rate),
            plan: resolution
                .map(|r| r.plan.kind())
                .unwrap_or("none")
                .to_string(),
            rules,
            rate_since: resolution.map(|r| self.calendar.stamp(r.since)),
            commission: Money::ZERO,
            distributor_fee: Money::ZERO,
            shop_ads: resolution.is_some_and(|r| r.shop_ads),
            authorised: authorisation,
            target_video: req.target_video.map(|s| {
                let inv = self.books.target.slots[s.index()].invitation;
                self.books.target.invitations[inv.index()].name.clone()
            }),
            refused: None,
            candidates,
        });
        (self.orders.records.len() - 1) as u32
    }

    fn record_mut(&mut self, k: LineKey) -> Option<&mut OrderRecord> {
        let r = self.orders.record_of(k);
        self.orders.records.get_mut(r as usize)
    }

    /// Updates a tracked line's record with the time `t` as a stamp: out of line and marked
    /// cold, so that the lifecycle steps' code for the millions of untracked lines stays short
    /// (fewer instruction cache lines per event).
    #[cold]
    #[inline(never)]
    fn stamp_record(
        &mut self,
        k: LineKey,
        t: SimTime,
        f: impl FnOnce(&mut OrderRecord, crate::time::Stamp),
    ) {
        let stamp = self.calendar.stamp(t);
        if let Some(r) = self.record_mut(k) {
            f(r, stamp);
        }
    }

    /// Ships a placed line.
    pub fn ship(&mut self, k: LineKey, t: SimTime) -> Result<(), Refusal> {
        let status = self.orders.status(k);
        if status != Status::Placed {
            return Err(wrong_status(
                RuleId::Order2,
                "only a placed line can ship",
                status,
            ));
        }
        self.orders.set_status(k, Status::Shipped);
        if self.orders.tracked(k) {
            self.stamp_record(k, t, |r, stamp| {
                r.status = Status::Shipped;
                r.shipped = Some(stamp);
            });
        }
        Ok(())
    }

    /// Delivers a shipped line; returns when it settles: 00:00 of the day after the
    /// after-sales period (SETTLE-2: delivered on day D, period N days → paid on day D+N+1).
    // rule: SETTLE-2
    // rule: H-10
    pub fn deliver(&mut self, k: LineKey, t: SimTime) -> Result<SimTime, Refusal> {
        let status = self.orders.status(k);
        if status != Status::Shipped {
            return Err(wrong_status(
                RuleId::Order2,
                "only a shipped line can be delivered",
                status,
            ));
        }
        self.orders.set_status(k, Status::Delivered);
        let tracked = self.orders.tracked(k);
        let settles = self.orders.settles_after(t);
        self.orders.set_delivered(k, t);
        self.fired.insert(RuleId::Settle2);
        if self.opts.help_centre_region {
            self.fired.insert(RuleId::H10);
        }
        if tracked {
            self.stamp_record(k, t, |r, stamp| {
                r.status = Status::Delivered;
                r.delivered = Some(stamp);
            });
        }
        Ok(settles)
    }

    /// Cancels a line before it ships: everything is returned, no commission (ORDER-2,
    /// SETTLE-3). The line is freed unless tracked.
    // rule: ORDER-2
    // rule: SETTLE-3
    pub fn cancel(&mut self, k: LineKey, t: SimTime) -> Result<(), Refusal> {
        let status = self.orders.status(k);
        if status != Status::Placed {
            return Err(wrong_status(
                RuleId::Order2,
                "a line can be cancelled only before it ships",
                status,
            ));
        }
        let line = self.orders.get(k);
        let prov = self.order_prov(&line);
        self.ledger.post(
            t,
            EntryKind::Refund,
            Account::Escrow,
            Account::Buyers,
            line.paid + line.shipping,
            prov,
        );
        self.ledger.post(
            t,
            EntryKind::CouponReturn,
            Account::Escrow,
            Account::Platform,
            line.platform_coupon,
            prov,
        );
        let stock = &mut self.stock[line.product.idx()];
        if *stock != crate::model::UNLIMITED {
            *stock += line.quantity;
        }
        self.tally.count(Metric::OrdersCancelled);
        self.tally.add(Metric::Refunds, line.paid.0);
        self.fired
            .extend(RuleSet::of(&[RuleId::Order2, RuleId::Settle3, RuleId::H2]));
        self.orders.set_status(k, Status::Cancelled);
        self.orders.set_held(k, Money::ZERO);
        let tracked = self.orders.tracked(k);
        if tracked {
            let stamp = self.calendar.stamp(t);
            if let Some(r) = self.record_mut(k) {
                r.status = Status::Cancelled;
                r.cancelled = Some(stamp);
            }
        } else {
            self.orders.free(k);
        }
        Ok(())
    }

    fn order_prov(&self, line: &OrderLine) -> Provenance {
        let res = self.orders.resolution(line);
        Provenance {
            plan: res.map(|r| r.plan).unwrap_or_default(),
            rules: res.map(|r| r.rules).unwrap_or_default(),
            rate: res.map(|r| r.rate),
            order: Some(line.no),
            rate_since: res.map(|r| r.since),
        }
    }

    /// Refunds `amount` of a line's goods (a return). Within the after-sales window the
    /// commission falls pro rata at settlement (SETTLE-3, H-2); after settlement the
    /// [`LateRefund`] option decides.
    /// A buyer returns part of line `k`: the amount is computed here with the run's rounding (a
    /// quantity's or a percentage's share of what was paid; a percentage is capped at what is
    /// left, and a percentage that comes to nothing refunds nothing), then refunded as by
    /// [`Platform::refund`]. A refusal is also kept on the line's record, if it has one.
    pub(crate) fn return_part(
        &mut self,
        k: LineKey,
        part: ReturnPart,
        t: SimTime,
    ) -> Result<(), Refusal> {
        let line = self.orders.get(k);
        let (record, left) = (line.record, line.paid - line.refunded);
        let amount = match part {
            ReturnPart::All => left,
            ReturnPart::Amount(a) => a,
            ReturnPart::Quantity(q) => self.rounding().share(line.paid, q, line.quantity),
            ReturnPart::Percent(p) => {
                let a = if p >= 100 {
                    left
                } else {
                    self.rounding()
                        .share(line.paid, u32::from(p), 100)
                        .min(left)
                };
                if a.is_zero() {
                    return Ok(());
                }
                a
            }
        };
        let res = self.refund(k, amount, t);
        if let Err(r) = &res
            && let Some(rec) = self.orders.records.get_mut(record as usize)
        {
            rec.refused = Some(r.to_string());
        }
        res
    }

    pub fn refund(&mut self, k: LineKey, amount: Money, t: SimTime) -> Result<(), Refusal> {
        let line = self.orders.get(k);
        let left = line.paid - line.refunded;
        if amount.is_negative() || amount.is_zero() {
            return Err(Refusal::new(
                RuleId::Settle3,
                format!("a refund must be more than zero, not {amount}"),
            ));
        }
        if amount > left {
            return Err(Refusal::new(
                RuleId::Settle3,
                format!("refund of {amount} exceeds the {left} left to refund"),
            ));
        }
        let prov = self.order_prov(&line);
        self.fired
            .extend(RuleSet::of(&[RuleId::Settle3, RuleId::H2, RuleId::Order2]));
        match self.orders.status(k) {
            Status::Delivered if t < line.settles => {
                let coupon_back = if amount == left {
                    // the last refund returns whatever is left of the coupon
                    line.platform_coupon
                        - self.rounding().share(line.platform_coupon, 0, 1)
                        - self.coupon_returned(&line)
                } else {
                    self.rounding()
                        .apply(line.platform_coupon.0 * amount.0 / line.paid.0)
                };
                self.ledger.post(
                    t,
                    EntryKind::Refund,
                    Account::Escrow,
                    Account::Buyers,
                    amount,
                    prov,
                );
                self.ledger.post(
                    t,
                    EntryKind::CouponReturn,
                    Account::Escrow,
                    Account::Platform,
                    coupon_back,
                    prov,
                );
                let full = self.orders.update(k, |l| {
                    l.refunded += amount;
                    l.held -= amount + coupon_back;
                    l.refunded == l.paid
                });
                if full {
                    self.orders.set_status(k, Status::Refunded);
                }
                self.tally.add(Metric::Refunds, amount.0);
                if full {
                    self.tally.count(Metric::OrdersRefunded);
                } else if line.refunded.is_zero() {
                    self.tally.count(Metric::OrdersPartiallyRefunded);
                }
                if let Some(r) = self.record_mut(k) {
                    r.refunded += amount;
                    if full {
                        r.status = Status::Refunded;
                    }
                }
                Ok(())
            }
            Status::Settled => {
                // rule: SETTLE-3
                match self.opts.late_refund {
                    LateRefund::Refuse => Err(Refusal::new(
                        RuleId::Settle3,
                        "refunds after settlement are refused by the rule set",
                    )),
                    mode => {
                        self.ledger.post(
                            t,
                            EntryKind::LateRefund,
                            Account::seller(line.seller),
                            Account::Buyers,
                            amount,
                            prov,
                        );
                        self.tally.add(Metric::Refunds, amount.0);
                        let mut clawed = Money::ZERO;
                        if mode == LateRefund::ClawBack
                            && let Some(res) = self.orders.resolution(&line)
                        {
                            let rd = self.rounding();
                            let before = rd.commission(line.base(), res.rate, left, line.paid);
                            let after =
                                rd.commission(line.base(), res.rate, left - amount, line.paid);
                            clawed = before - after;
                            if let Some((d, drate)) = res.distributor {
                                // the distributor part settles like any commission (DIST-6)
                                let dbefore = rd.commission(line.base(), drate, left, line.paid);
                                let dafter =
                                    rd.commission(line.base(), drate, left - amount, line.paid);
                                self.ledger.post(
                                    t,
                                    EntryKind::CommissionClawback,
                                    Account::distributor(d),
                                    Account::seller(line.seller),
                                    dbefore - dafter,
                                    prov,
                                );
                                self.tally
                                    .add(Metric::CommissionsClawedBack, (dbefore - dafter).0);
                                self.campaigns
                                    .clawed_back(res.plan, line.seller, dbefore - dafter);
                                if let Some(r) = self.orders.records.get_mut(line.record as usize) {
                                    r.distributor_fee -= dbefore - dafter;
                                }
                            }
                            self.ledger.post(
                                t,
                                EntryKind::CommissionClawback,
                                Account::creator(line.creator),
                                Account::seller(line.seller),
                                clawed,
                                prov,
                            );
                            self.tally.add(Metric::CommissionsClawedBack, clawed.0);
                            self.campaigns.clawed_back(res.plan, line.seller, clawed);
                        }
                        self.orders.update(k, |l| l.refunded += amount);
                        if let Some(r) = self.record_mut(k) {
                            r.refunded += amount;
                            r.commission -= clawed;
                        }
                        Ok(())
                    }
                }
            }
            s => Err(wrong_status(
                RuleId::Order2,
                "a line can be returned only after delivery, within the after-sales window",
                s,
            )),
        }
    }

    fn coupon_returned(&self, line: &OrderLine) -> Money {
        // Held = paid + shipping + coupon − refunds − coupon returned so far.
        line.paid + line.shipping + line.platform_coupon - line.refunded - line.held
    }

    /// Settles a delivered line on its settlement day: pays the commission (pro rata to what
    /// was not refunded) and releases the rest to the seller (SETTLE-1..3, PLUS-13, DIST-6).
    // rule: SETTLE-1
    pub fn settle(&mut self, k: LineKey, t: SimTime) -> Result<Payout, Refusal> {
        // The fields settlement needs, copied out (not the whole line).
        let status = self.orders.status(k);
        if !matches!(status, Status::Delivered | Status::Refunded) {
            return Err(wrong_status(
                RuleId::Settle1,
                "only a delivered line settles",
                status,
            ));
        }
        // Only the fields settlement needs, read straight from the slot (session 15).
        let line = self.orders.settling(k);
        let resolution = self.orders.resolution_at(line.resolution);
        let prov = Provenance {
            plan: resolution.map(|r| r.plan).unwrap_or_default(),
            rules: resolution.map(|r| r.rules).unwrap_or_default(),
            rate: resolution.map(|r| r.rate),
            order: Some(line.no),
            rate_since: resolution.map(|r| r.since),
        };
        let line = Settling {
            creator: line.creator,
            product: line.product,
            seller: line.seller,
            placed: line.placed,
            paid: line.paid,
            base: line.paid, // the commissionable amount (H-1, `SettlingLine::paid`)
            refunded: line.refunded,
            held: line.held,
            resolution,
            fractions: self.orders.fractions_at(line.resolution),
        };
        let rd = self.rounding();
        // Nothing refunded: the commission on the whole base (`commission_at` with
        // kept = total, without comparing them).
        let whole = line.refunded.is_zero();
        // With nothing refunded only whether `kept` is zero is read, and `paid − 0` is zero
        // exactly when `paid` is: the subtraction is skipped (session 16).
        let kept = if whole {
            line.paid
        } else {
            line.paid - line.refunded
        };
        let mut pay = Payout::default();
        // The distributor fee prepared for the sums (zero without a distributor).
        let mut fee = Term::ZERO;
        if let (Some(res), Some((rate, drate))) = (line.resolution, line.fractions) {
            // rule: MONEY-1
            self.fired.insert(RuleId::Money1);
            // Each prepared for the ledger, the tally and the campaign sums (session 15), with
            // nothing refunded inside the multiply and the rounding (session 17).
            let commission = if whole {
                rd.commission_whole_term(line.base, rate)
            } else {
                Term::of(rd.commission_at(line.base, rate, kept, line.paid).0)
            };
            pay.commission = Money(commission.amount());
            if let (Some((d, _)), Some(drate)) = (res.distributor, drate) {
                fee = if whole {
                    rd.commission_whole_term(line.base, drate)
                } else {
                    Term::of(rd.commission_at(line.base, drate, kept, line.paid).0)
                };
                pay.distributor_fee = Money(fee.amount());
                self.ledger.post_term(
                    t,
                    EntryKind::DistributorFee,
                    Account::Escrow,
                    Account::distributor(d),
                    &fee,
                    prov,
                );
                self.tally.add_term(Metric::DistributorFees, &fee);
            }
            let (kind, metric) = if res.shop_ads {
                (EntryKind::ShopAdsCommission, Metric::ShopAdsCommissions)
            } else {
                (EntryKind::Commission, Metric::Commissions)
            };
            self.ledger.post_term(
                t,
                kind,
                Account::Escrow,
                Account::creator(line.creator),
                &commission,
                prov,
            );
            self.tally.add_term(metric, &commission);
            self.campaigns
                .settled(res.plan, line.seller, res.shop_ads, &commission, &fee);
        }
        // held − commission − fee, prepared for the sums in the same step when there is no
        // fee and held − commission is not zero (session 16): `x − 0` is `x` itself then.
        let revenue = match Term::of_sum(line.held.0, pay.commission.0, true) {
            r if fee.is_zero() && !r.is_zero() => r,
            _ => Term::of((line.held - pay.commission - pay.distributor_fee).0),
        };
        pay.seller_revenue = Money(revenue.amount());
        self.ledger.post_term(
            t,
            EntryKind::SellerRevenue,
            Account::Escrow,
            Account::seller(line.seller),
            &revenue,
            prov,
        );
        self.tally.add_term(Metric::SellerRevenue, &revenue);
        self.tally.count(Metric::OrdersSettled);
        if let (Some(res), false) = (line.resolution, kept.is_zero()) {
            if let PlanRef::Plus(_) = res.plan {
                // rule: PLUS-13 — settled like any commission, never from the reward budget
                self.fired.insert(RuleId::Plus13);
            }
            if let crate::rules::plans::PlanRef::Target(inv) = res.plan
                && let Some(slot) = self.books.target.slot_of(inv, line.creator)
            {
                self.target_sale_settled(slot, line.product, line.placed, t);
            }
        }
        let mut rules = RuleSet::of(&[RuleId::Settle1, RuleId::Settle2]);
        if !line.refunded.is_zero() {
            rules.insert(RuleId::Settle3);
            rules.insert(RuleId::H2);
        }
        self.fired.extend(rules);
        self.orders.set_status(k, Status::Settled);
        let tracked = self.orders.tracked(k);
        if tracked {
            // Escrow holds nothing for it now. (An untracked line is freed instead: what a freed
            // slot held is never read, and freeing drops its side entries either way.)
            self.orders.set_held(k, Money::ZERO);
            self.stamp_record(k, t, |r, stamp| {
                r.status = Status::Settled;
                r.settled = Some(stamp);
                r.commission = pay.commission;
                r.distributor_fee = pay.distributor_fee;
            });
        } else {
            self.orders.free(k);
        }
        Ok(pay)
    }

    /// The commission accrued on lines not yet settled (at the end of a run).
    pub fn commissions_pending(&self) -> Money {
        let rd = self.rounding();
        self.orders
            .live_lines()
            .filter(|(status, _)| {
                matches!(status, Status::Placed | Status::Shipped | Status::Delivered)
            })
            .filter_map(|(_, l)| {
                self.orders
                    .resolution(&l)
                    .map(|r| rd.commission(l.base(), r.rate, l.paid - l.refunded, l.paid))
            })
            .sum()
    }

    /// The end-of-run ledger check (MONEY-2), with escrow checked against the open lines.
    pub(crate) fn check_ledger(&mut self) -> Result<(), LedgerError> {
        let escrow: Money = self.orders.live_lines().map(|(_, l)| l.held).sum();
        self.fired.insert(RuleId::Money2);
        let res = self.ledger.check(&[
            (Account::Escrow, escrow),
            (Account::RewardBudget, self.books.plus.held().0),
            (Account::FlatFeeHold, self.books.target.fees_held()),
            (Account::ServiceFeeHold, self.books.plus.held().1),
        ]);
        // Metric tallies must agree with the ledger's totals by kind.
        let mut problems = Vec::new();
        for (m, k) in [
            (Metric::Commissions, EntryKind::Commission),
            (Metric::ShopAdsCommissions, EntryKind::ShopAdsCommission),
            (Metric::DistributorFees, EntryKind::DistributorFee),
            (Metric::SellerRevenue, EntryKind::SellerRevenue),
            (Metric::FlatFeesPaid, EntryKind::FlatFeePaid),
            (Metric::FlatFeesRefunded, EntryKind::FlatFeeRefund),
            (Metric::RewardsPaid, EntryKind::RewardPaid),
            (Metric::ServiceFeesCharged, EntryKind::ServiceFeeCharged),
            (Metric::ServiceFeesRefunded, EntryKind::ServiceFeeRefund),
            (Metric::SampleRefunds, EntryKind::SampleRefund),
        ] {
            if self.tally.get(m) != self.ledger.total(k).0 {
                problems.push(format!(
                    "{} tallied {} but the ledger posted {}",
                    m.name(),
                    self.tally.get(m),
                    self.ledger.total(k)
                ));
            }
        }
        match (res, problems.is_empty()) {
            (Ok(()), true) => Ok(()),
            (Ok(()), false) => Err(LedgerError {
                problems,
                entries: Vec::new(),
            }),
            (Err(mut e), _) => {
                e.problems.extend(problems);
                Err(e)
            }
        }
    }
}

/// A lifecycle step's refusal of a line in another status: `what` and the status, formatted
/// out of line (cold: the event loop's lines are in the right status).
#[cold]
#[inline(never)]
fn wrong_status(rule: RuleId, what: &'static str, status: Status) -> Refusal {
    Refusal::new(rule, format!("{what}; it is {}", status.as_str()))
}

/// A short list kept inline up to `N` items and on the heap beyond (`smallvec` with its `union`
/// layout): a creator's samples awaiting a post and a search's added entries cost one memory
/// access for the usual few items, not a pointer chase into a separate allocation. Reads as a
/// slice. (The per-creator records read on the hot path, where the length's place matters,
/// use [`HeadList`], which keeps it before the items.)
pub(crate) type ShortList<T, const N: usize> = smallvec::SmallVec<[T; N]>;

/// The fields of a line that settlement reads.
struct Settling {
    creator: CreatorId,
    product: ProductId,
    seller: crate::model::SellerId,
    placed: SimTime,
    paid: Money,
    base: Money,
    refunded: Money,
    held: Money,
    resolution: Option<attribution::Resolution>,
    /// The resolution's rates as fractions (`OrderBook::fractions_at`).
    fractions: Option<(rust_decimal::Decimal, Option<rust_decimal::Decimal>)>,
}

/// What a tracked line's record keeps from its placement (`Platform::record_placed`).
struct Placed {
    name: String,
    names: Names2,
    no: u64,
    gross: Money,
    base: Money,
    resolution: Option<attribution::Resolution>,
    rules: RuleSet,
    authorisation: Authorisation,
    candidates: Vec<attribution::Candidate>,
}

/// Display names for a tracked order's record.
#[derive(Clone, Debug)]
pub(crate) struct Names2 {
    pub creator: String,
    pub product: String,
}

#[cfg(test)]
mod tests {
    use super::ShortList;

    #[test]
    fn short_lists_keep_order_inline_and_beyond() {
        let mut l: ShortList<u32, 3> = ShortList::new();
        assert!(l.is_empty());
        for i in 0..10 {
            l.push(i);
            assert_eq!(&l[..], &(0..=i).collect::<Vec<_>>()[..]);
        }
        l[4] = 40;
        assert_eq!(l.iter().find(|&&x| x == 40), Some(&40));
        assert!(l.spilled());
        let mut m: ShortList<u32, 3> = ShortList::new();
        m.push(7);
        m.push(8);
        assert!(!m.spilled());
        assert_eq!(m.len(), 2);
        assert_eq!((&m).into_iter().count(), 2);
    }

    #[test]
    fn per_creator_lists_stay_small() {
        use super::HeadList;
        use crate::rules::attribution::ShowcaseEntry;
        use crate::time::SimTime;
        eprintln!(
            "showcase {} B, approvals {} B",
            size_of::<HeadList<ShowcaseEntry, 5>>(),
            size_of::<HeadList<(crate::rules::ids::ListingId, SimTime), 4>>()
        );
        assert!(size_of::<HeadList<ShowcaseEntry, 5>>() <= 88);
        assert!(size_of::<HeadList<(crate::rules::ids::ListingId, SimTime), 4>>() <= 40);
        assert_eq!(size_of::<super::CreatorLists>(), 128);
        assert_eq!(align_of::<super::CreatorLists>(), 64);
        // One record per creator, four lines on one page: the lists first, the simulator's
        // part in the other two lines.
        assert_eq!(size_of::<super::CreatorRecord>(), 256);
        assert_eq!(align_of::<super::CreatorRecord>(), 256);
        assert_eq!(std::mem::offset_of!(super::CreatorRecord, sim), 128);
        // The showcase's length (its tag and length lead it) and first entry in the first line.
        let mut l = super::CreatorLists::default();
        let e = ShowcaseEntry {
            product: crate::model::ProductId(0),
            via: crate::rules::attribution::Via::Shop,
            since: SimTime::ZERO,
        };
        l.showcase.push(e);
        let base = (&l as *const super::CreatorLists) as usize;
        let first = l.showcase.as_ptr() as usize;
        assert!(first + size_of::<ShowcaseEntry>() - base <= 64);
        assert!((&l.showcase as *const HeadList<ShowcaseEntry, 5>) as usize - base < 64);
    }
}
