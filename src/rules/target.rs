//! Target collaboration: invitations, acceptance, flat fees, samples (TARGET-1..7, H-7, H-8).
//!
//! An invitation goes to one or more creators; each (invitation, creator) pair is a *slot* with
//! its own state. A Target rate applies to a creator only from acceptance to the end of the
//! collaboration (TARGET-2, ATTR-2). Flat fees are deposited by the seller when the invitation
//! is sent, held by the platform and paid on video approval or refunded (TARGET-4, H-8). An
//! approved video is authorised for ads from its approval when the seller asked for it
//! (`authorise_ads`, TARGET-4, PLUS-10).

use serde::Serialize;

use crate::model::{ContentKind, CreatorId, ProductId, SellerId};
use crate::money::{Money, Rate};
use crate::rules::choices::{Answer, Review};
use crate::rules::ids::{InvitationId, SampleId, SlotId};
use crate::time::SimTime;

/// What a seller offers a creator per product besides the rate (TARGET-5).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleOffer {
    None,
    /// A free sample, shipped on acceptance.
    Free,
    /// The creator buys the product and is refunded when the sales goal is met (H-7).
    RefundOnFirstSale,
}

/// One product of an invitation.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct TargetProduct {
    pub product: ProductId,
    pub rate: Rate,
    pub shop_ads_rate: Option<Rate>,
    pub sample: SampleOffer,
    /// Sales needed for the refundable sample's refund, 1–3 (H-7).
    pub(crate) sales_goal: u32,
}

/// The fee structure (TARGET-3).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fee {
    CommissionOnly,
    /// A flat fee per creator, held by the platform until the video is approved (TARGET-4).
    Flat(Money),
}

/// Whether a seller may change a Target rate mid-campaign (`rules.target_rate_change`; the
/// seeds are silent).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetRateChange {
    /// Default: the change applies to orders placed after it (as OPEN-4 for Open rates), for
    /// every creator of the invitation, accepted or not.
    #[default]
    LaterOrders,
    /// Only creators who have not accepted yet get the new rate; once any named creator has
    /// accepted, the change is refused for them (TARGET-2: they accepted the terms).
    PendingOnly,
}

/// Who reviews flat-fee videos (TARGET-4: the seller or the platform, per the review setting).
/// The rules treat both alike; how each reviews is a behaviour model (`[behaviour.target]`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reviewer {
    Seller,
    Platform,
}

/// A Target invitation as sent (TARGET-1).
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    pub name: String,
    pub seller: SellerId,
    pub creators: Vec<CreatorId>,
    pub products: Vec<TargetProduct>,
    pub sent: SimTime,
    /// End of the collaboration (exclusive).
    pub ends: SimTime,
    pub content: Vec<ContentKind>,
    /// The seller's message (TARGET-1): informational, shown by `affsim explain`.
    pub message: String,
    pub fee: Fee,
    pub(crate) reviewer: Reviewer,
    /// Days after acceptance to submit the video (flat fee).
    pub(crate) submit_days: u32,
    pub(crate) flash_sale: bool,
    /// The seller asks for the creators' flat-fee videos to be authorised for ads: each is from
    /// its approval (TARGET-4, PLUS-10).
    pub authorise_ads: bool,
    /// Driven only by the script (no behaviour model acts on it).
    pub scripted: bool,
    /// Rates set for one creator (TARGET-9): (creator, product or all products, rate). The most
    /// specific applies: the creator's rate on the product, else on all products, else the
    /// product's rate.
    pub creator_rates: Vec<(CreatorId, Option<ProductId>, Rate)>,
}

impl Invitation {
    /// The rate creator `c` is offered on `tp` (TARGET-9: per creator as well as per product).
    // rule: TARGET-9 — the creator's own rate on the product, else on all products, else the
    // product's rate
    pub(crate) fn rate_for(&self, c: CreatorId, tp: &TargetProduct) -> Rate {
        let mut all = None;
        for &(rc, rp, rate) in &self.creator_rates {
            if rc != c {
                continue;
            }
            match rp {
                Some(p) if p == tp.product => return rate,
                None => all = Some(rate),
                Some(_) => {}
            }
        }
        all.unwrap_or(tp.rate)
    }

    /// The invitation's terms on `p` for creator `c`, with the creator's rate (TARGET-9).
    pub(crate) fn terms_for(&self, c: CreatorId, p: ProductId) -> Option<TargetProduct> {
        let tp = self.products.iter().find(|x| x.product == p)?;
        Some(TargetProduct {
            rate: self.rate_for(c, tp),
            ..*tp
        })
    }
}

/// Where a slot is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SlotStatus {
    Pending,
    Accepted,
    Declined,
    /// Not accepted in time (H-8).
    Expired,
}

/// Where a flat fee is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FeeStatus {
    None,
    Held,
    Paid,
    Refunded,
}

/// One creator's part of an invitation.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Slot {
    pub invitation: InvitationId,
    pub creator: CreatorId,
    pub status: SlotStatus,
    pub accepted: SimTime,
    pub fee: FeeStatus,
    /// A video awaits review.
    pub(crate) submitted: bool,
    /// Review rounds used (H-8: at most 3).
    pub(crate) rounds: u32,
    /// The video must be (re)submitted by then.
    pub deadline: SimTime,
    /// When the flat-fee video was approved, or `SimTime::NEVER`.
    pub approved: SimTime,
    /// Refundable samples bought: (product, when, price paid, qualifying sales so far, refunded).
    pub(crate) refundables: Vec<(ProductId, SimTime, Money, u32, bool)>,
}

/// The Target book.
#[derive(Clone, Debug, Default)]
pub struct TargetBook {
    pub invitations: Vec<Invitation>,
    pub(crate) slots: Vec<Slot>,
    /// Slots by (creator, product): looked up, never iterated.
    pub(crate) by_pair: crate::rules::plans::PairIndex<SlotId>,
}

impl TargetBook {
    /// Adds an invitation and its slots.
    pub fn add(&mut self, inv: Invitation) -> InvitationId {
        let i = InvitationId::at(self.invitations.len());
        for &c in &inv.creators {
            let s = SlotId::at(self.slots.len());
            self.slots.push(Slot {
                invitation: i,
                creator: c,
                status: SlotStatus::Pending,
                accepted: SimTime::NEVER,
                fee: FeeStatus::None,
                submitted: false,
                rounds: 0,
                deadline: SimTime::NEVER,
                approved: SimTime::NEVER,
                refundables: Vec::new(),
            });
            for p in &inv.products {
                self.by_pair.push(c.0, p.product.0, s);
            }
        }
        self.invitations.push(inv);
        i
    }

    /// The slot of `creator` in invitation `inv`.
    pub(crate) fn slot_of(&self, inv: InvitationId, c: CreatorId) -> Option<SlotId> {
        self.slots
            .iter()
            .position(|s| s.invitation == inv && s.creator == c)
            .map(SlotId::at)
    }

    /// The Target terms that apply to (creator, product) at `t`: the slot accepted most recently
    /// among those whose collaboration is running (ATTR-2 needs acceptance, TARGET-2).
    pub(crate) fn active(
        &self,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
    ) -> Option<(SlotId, TargetProduct, SimTime)> {
        let slots = self.by_pair.get(c.0, p.0)?;
        let mut best: Option<(SlotId, TargetProduct, SimTime)> = None;
        for &s in slots {
            let slot = &self.slots[s.index()];
            let inv = &self.invitations[slot.invitation.index()];
            if slot.status == SlotStatus::Accepted && slot.accepted <= t && t < inv.ends {
                let tp = inv.terms_for(c, p)?;
                if best.is_none_or(|(_, _, a)| slot.accepted >= a) {
                    best = Some((s, tp, slot.accepted));
                }
            }
        }
        best
    }

    /// Slots for (creator, product) that exist but do not apply at `t`, for explanations.
    pub(crate) fn inactive(
        &self,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
    ) -> impl Iterator<Item = (SlotId, &'static str)> + '_ {
        self.by_pair
            .get(c.0, p.0)
            .into_iter()
            .flatten()
            .filter_map(move |&s| {
                let slot = &self.slots[s.index()];
                let inv = &self.invitations[slot.invitation.index()];
                let why = match slot.status {
                    SlotStatus::Pending => "invitation not accepted (TARGET-2)",
                    SlotStatus::Declined => "invitation declined",
                    SlotStatus::Expired => "invitation expired unaccepted (H-8)",
                    SlotStatus::Accepted if t < slot.accepted => "accepted after this time",
                    SlotStatus::Accepted if t >= inv.ends => "collaboration ended",
                    SlotStatus::Accepted => return None,
                };
                Some((s, why))
            })
    }

    /// Whether the flat-fee video of `slot` is authorised for ads at `t`: the seller asked for it
    /// (`authorise_ads`) and the video was approved at or before `t`. Without the seller's
    /// request the video is authorised only if its creator authorised it, as any other video
    /// (decided by the caller).
    // rule: TARGET-4 — if the seller asks, the creator's videos are authorised for ads
    // rule: PLUS-10 — a Shop Ads rate needs an ad on a creator-authorised video
    pub(crate) fn video_authorised(&self, slot: SlotId, t: SimTime) -> bool {
        let s = &self.slots[slot.index()];
        s.approved <= t && self.invitations[s.invitation.index()].authorise_ads
    }

    /// Flat fees the platform holds now.
    pub(crate) fn fees_held(&self) -> Money {
        self.slots
            .iter()
            .filter(|s| s.fee == FeeStatus::Held)
            .map(|s| match self.invitations[s.invitation.index()].fee {
                Fee::Flat(m) => m,
                Fee::CommissionOnly => Money::ZERO,
            })
            .sum()
    }
}

use crate::metrics::Metric;
use crate::model::Agents;
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::ledger::{Account, EntryKind, Provenance};
use crate::rules::plans::PlanRef;
use crate::rules::{Platform, Refusal};
use crate::time::DAY;

/// Days a flat-fee invitation may wait for acceptance (H-8).
pub(crate) const ACCEPT_DAYS: u32 = 7;
/// Days to revise a rejected video (H-8).
pub(crate) const REVISE_DAYS: u32 = 7;
/// Review rounds at most (H-8).
pub(crate) const MAX_ROUNDS: u32 = 3;
/// Days within which a refundable sample's sales goal must be met (H-7).
pub(crate) const REFUNDABLE_DAYS: u32 = 90;

impl Platform {
    fn target_prov(&self, inv: InvitationId, rules: RuleSet) -> Provenance {
        Provenance {
            plan: PlanRef::Target(inv),
            rules,
            rate: None,
            order: None,
            rate_since: None,
        }
    }

    /// Sends an invitation: for a flat fee, the seller pays the platform up front, per creator
    /// (TARGET-4).
    // rule: TARGET-1
    // rule: TARGET-3
    pub(crate) fn send_invitation(&mut self, inv: InvitationId, t: SimTime) {
        let (seller, fee) = {
            let i = &self.books.target.invitations[inv.index()];
            (i.seller, i.fee)
        };
        self.fired
            .extend(RuleSet::of(&[RuleId::Target1, RuleId::Target3]));
        if self.books.target.invitations[inv.index()].flash_sale {
            // rule: TARGET-6 — validated at set-up: a single LIVE-capable creator
            self.fired.insert(RuleId::Target6);
        }
        if let Fee::Flat(amount) = fee {
            // rule: TARGET-4
            let prov = self.target_prov(inv, RuleSet::of(&[RuleId::Target4]));
            let slots: Vec<usize> = (0..self.books.target.slots.len())
                .filter(|&s| self.books.target.slots[s].invitation == inv)
                .collect();
            for s in slots {
                self.ledger.post(
                    t,
                    EntryKind::FlatFeeDeposit,
                    Account::seller(seller),
                    Account::FlatFeeHold,
                    amount,
                    prov,
                );
                self.books.target.slots[s].fee = FeeStatus::Held;
            }
            self.fired.insert(RuleId::Target4);
        }
    }

    fn refund_flat_fee(&mut self, slot: SlotId, t: SimTime, rules: RuleSet) {
        let s = &self.books.target.slots[slot.index()];
        if s.fee != FeeStatus::Held {
            return;
        }
        let inv = &self.books.target.invitations[s.invitation.index()];
        let (seller, Fee::Flat(amount)) = (inv.seller, inv.fee) else {
            return;
        };
        let prov = self.target_prov(s.invitation, rules);
        self.ledger.post(
            t,
            EntryKind::FlatFeeRefund,
            Account::FlatFeeHold,
            Account::seller(seller),
            amount,
            prov,
        );
        self.tally.add(Metric::FlatFeesRefunded, amount.0);
        self.books.target.slots[slot.index()].fee = FeeStatus::Refunded;
        self.fired.extend(rules);
    }

    /// A creator answers an invitation (TARGET-2). On acceptance, free samples ship and
    /// refundable samples are bought (TARGET-5, H-7); returns the free samples to ship. A
    /// declined flat-fee invitation refunds the fee (H-8).
    // rule: TARGET-2
    // rule: TARGET-5
    pub(crate) fn respond_target(
        &mut self,
        agents: &Agents,
        slot: SlotId,
        answer: Answer,
        t: SimTime,
    ) -> Result<Vec<SampleId>, Refusal> {
        let s = self.books.target.slots[slot.index()].clone();
        let inv = self.books.target.invitations[s.invitation.index()].clone();
        if t < inv.sent {
            return Err(Refusal::new(
                RuleId::Target2,
                "the invitation has not been sent yet",
            ));
        }
        if s.status == SlotStatus::Expired {
            // rule: H-8
            return Err(Refusal::new(
                RuleId::H8,
                "a flat-fee invitation must be accepted within 7 days",
            ));
        }
        if s.status != SlotStatus::Pending {
            return Err(Refusal::new(
                RuleId::Target2,
                format!("the invitation was already answered ({:?})", s.status),
            ));
        }
        if t >= inv.ends {
            return Err(Refusal::new(RuleId::Target2, "the collaboration has ended"));
        }
        if matches!(inv.fee, Fee::Flat(_)) && t >= inv.sent.plus_days(ACCEPT_DAYS) {
            // rule: H-8
            return Err(Refusal::new(
                RuleId::H8,
                "a flat-fee invitation must be accepted within 7 days",
            ));
        }
        self.fired.insert(RuleId::Target2);
        if answer == Answer::Decline {
            self.books.target.slots[slot.index()].status = SlotStatus::Declined;
            self.refund_flat_fee(slot, t, RuleSet::of(&[RuleId::H8, RuleId::Target4]));
            return Ok(Vec::new());
        }
        {
            let sl = &mut self.books.target.slots[slot.index()];
            sl.status = SlotStatus::Accepted;
            sl.accepted = t;
            self.tally.count(Metric::TargetsAccepted);
            if matches!(inv.fee, Fee::Flat(_)) {
                sl.deadline = t.plus_days(inv.submit_days);
            }
        }
        let mut ship = Vec::new();
        for tp in &inv.products {
            // The creator now promotes the product (for the posting behaviour).
            if self.showcase_entry(s.creator, tp.product).is_none() {
                let e = crate::rules::attribution::ShowcaseEntry {
                    product: tp.product,
                    via: crate::rules::attribution::Via::Target(s.invitation),
                    since: t,
                };
                self.creators[s.creator.idx()].lists.showcase.push(e);
            }
            match tp.sample {
                SampleOffer::None => {}
                SampleOffer::Free => {
                    self.fired.insert(RuleId::Target5);
                    ship.push(self.ship_sample(s.creator, tp.product));
                }
                SampleOffer::RefundOnFirstSale => {
                    // rule: H-7
                    let price = agents.products[tp.product.idx()].price;
                    // The creator buys the product: it takes a unit of stock (TARGET-7).
                    let stock = &mut self.stock[tp.product.idx()];
                    if *stock != crate::model::UNLIMITED {
                        *stock = stock.saturating_sub(1);
                    }
                    let prov =
                        self.target_prov(s.invitation, RuleSet::of(&[RuleId::Target5, RuleId::H7]));
                    self.ledger.post(
                        t,
                        EntryKind::SamplePurchase,
                        Account::creator(s.creator),
                        Account::seller(inv.seller),
                        price,
                        prov,
                    );
                    self.books.target.slots[slot.index()]
                        .refundables
                        .push((tp.product, t, price, 0, false));
                    self.fired
                        .extend(RuleSet::of(&[RuleId::Target5, RuleId::H7]));
                }
            }
        }
        Ok(ship)
    }

    /// The acceptance window of a flat-fee invitation closes: an unanswered slot expires and
    /// the fee is refunded (H-8).
    pub(crate) fn expire_target(&mut self, slot: SlotId, t: SimTime) {
        if self.books.target.slots[slot.index()].status == SlotStatus::Pending {
            self.books.target.slots[slot.index()].status = SlotStatus::Expired;
            self.refund_flat_fee(slot, t, RuleSet::of(&[RuleId::H8, RuleId::Target4]));
        }
    }

    /// A creator submits a flat-fee video for review (TARGET-4: video only, within the time).
    pub(crate) fn submit_video(&mut self, slot: SlotId, t: SimTime) -> Result<(), Refusal> {
        let s = &self.books.target.slots[slot.index()];
        let inv = &self.books.target.invitations[s.invitation.index()];
        if !matches!(inv.fee, Fee::Flat(_)) {
            return Err(Refusal::new(
                RuleId::Target3,
                "a commission-only collaboration has no video review",
            ));
        }
        if s.status != SlotStatus::Accepted || s.fee != FeeStatus::Held {
            return Err(Refusal::new(
                RuleId::Target4,
                "no accepted flat-fee collaboration awaits a video",
            ));
        }
        if t > s.deadline {
            return Err(Refusal::new(RuleId::Target4, "the video is late"));
        }
        if s.submitted {
            return Err(Refusal::new(
                RuleId::Target4,
                "a video is already under review",
            ));
        }
        self.books.target.slots[slot.index()].submitted = true;
        self.fired.insert(RuleId::Target4);
        Ok(())
    }

    /// The seller or platform reviews a submitted video (who, and how, is for the caller: the
    /// rules are the same). Approval pays the flat fee to the creator and, when the seller asked
    /// for it, authorises the video for ads from now (TARGET-4); a rejection opens a 7-day
    /// revision, and the third rejection refunds the seller (H-8). Returns the new deadline after
    /// a rejection that leaves a round.
    // rule: TARGET-4
    pub(crate) fn review_video(
        &mut self,
        slot: SlotId,
        review: Review,
        t: SimTime,
    ) -> Result<Option<SimTime>, Refusal> {
        let s = self.books.target.slots[slot.index()].clone();
        if !s.submitted {
            return Err(Refusal::new(RuleId::Target4, "no video awaits review"));
        }
        let inv = self.books.target.invitations[s.invitation.index()].clone();
        let sl = &mut self.books.target.slots[slot.index()];
        sl.submitted = false;
        sl.rounds += 1;
        if review.approved() {
            if let Fee::Flat(amount) = inv.fee {
                let prov = self.target_prov(s.invitation, RuleSet::of(&[RuleId::Target4]));
                self.ledger.post(
                    t,
                    EntryKind::FlatFeePaid,
                    Account::FlatFeeHold,
                    Account::creator(s.creator),
                    amount,
                    prov,
                );
                self.tally.add(Metric::FlatFeesPaid, amount.0);
                self.books.target.slots[slot.index()].fee = FeeStatus::Paid;
            }
            self.books.target.slots[slot.index()].approved = t;
            self.fired.insert(RuleId::Target4);
            return Ok(None);
        }
        self.fired.insert(RuleId::H8);
        if sl.rounds >= MAX_ROUNDS {
            self.refund_flat_fee(slot, t, RuleSet::of(&[RuleId::H8, RuleId::Target4]));
            return Ok(None);
        }
        sl.deadline = t.plus_days(REVISE_DAYS);
        Ok(Some(sl.deadline))
    }

    /// A video deadline passes: with no approved video and none under review, the creator is
    /// not paid and the seller's fee is refunded (TARGET-4 model).
    pub(crate) fn video_deadline(&mut self, slot: SlotId, deadline: SimTime, t: SimTime) {
        let s = &self.books.target.slots[slot.index()];
        if s.deadline == deadline && s.fee == FeeStatus::Held && !s.submitted {
            self.refund_flat_fee(slot, t, RuleSet::of(&[RuleId::Target4]));
        }
    }

    /// A Target-attributed line settled with something kept: counts towards a refundable
    /// sample's goal, refunding the sample once met within 90 days of purchase (H-7).
    pub(crate) fn target_sale_settled(
        &mut self,
        slot: SlotId,
        product: ProductId,
        placed: SimTime,
        t: SimTime,
    ) {
        let inv_i = self.books.target.slots[slot.index()].invitation;
        let inv = &self.books.target.invitations[inv_i.index()];
        let goal = inv
            .products
            .iter()
            .find(|p| p.product == product)
            .map_or(1, |p| p.sales_goal);
        let seller = inv.seller;
        let creator = self.books.target.slots[slot.index()].creator;
        let mut refund = None;
        for r in &mut self.books.target.slots[slot.index()].refundables {
            if r.0 == product && !r.4 && placed >= r.1 && placed.since(r.1) < REFUNDABLE_DAYS * DAY
            {
                r.3 += 1;
                if r.3 >= goal {
                    r.4 = true;
                    refund = Some(r.2);
                }
            }
        }
        if let Some(agents_price) = refund {
            // rule: H-7
            let prov = self.target_prov(inv_i, RuleSet::of(&[RuleId::H7, RuleId::Target5]));
            self.ledger.post(
                t,
                EntryKind::SampleRefund,
                Account::seller(seller),
                Account::creator(creator),
                agents_price,
                prov,
            );
            self.tally.add(Metric::SampleRefunds, agents_price.0);
            self.fired.insert(RuleId::H7);
        }
    }
}

/// Why the platform recommends a creator to a seller (TARGET-8, seed 001's "Find creators"):
/// `[promoted similar products, followers bought similar products, followers viewed similar
/// products]`, for the categories in `cats` (a bitmask of `CategoryId`s).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reasons {
    pub(crate) promoted: bool,
    pub bought: bool,
    pub(crate) viewed: bool,
    /// The followers' profile matches the seller's customers' profile.
    pub(crate) profile: bool,
}

/// A seller's customers' profile (TARGET-8, seed 001's fourth reason), as the caller observed
/// it: the buyers' main age band (an index into `model::AGE_BANDS`) and their female share in
/// whole percent.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CustomerProfile {
    pub age: u8,
    pub female: u8,
}

impl CustomerProfile {
    /// Whether an audience matches: the same main age band and a female share at most
    /// `tolerance` points away.
    // rule: TARGET-8 — "Followers' profile matches customers' profile" (seed 001)
    pub fn matches(self, a: crate::model::Audience, tolerance: u8) -> bool {
        a.age == self.age && a.female.abs_diff(self.female) <= tolerance
    }
}

impl Platform {
    /// The recommendation reasons for creator `c` and products of the categories `cats`: its
    /// showcase holds a product of one of them (promoted); its content sold one (`sold`, the
    /// categories its lines were placed in) or was posted about one (`viewed`), as the
    /// simulator observed them; its followers' profile matches the seller's `customers`
    /// (profile; none without a profile). Pure: the caller passes what it observed.
    // rule: TARGET-8 — recommended creators by reason: promoted similar products, followers
    // bought similar products, followers viewed similar products, followers' profile matches
    // customers' profile
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn recommend(
        &self,
        agents: &Agents,
        c: CreatorId,
        cats: u64,
        sold: u64,
        viewed: u64,
        customers: Option<CustomerProfile>,
        tolerance: u8,
    ) -> Reasons {
        let promoted = self.creators[c.idx()]
            .lists
            .showcase
            .iter()
            .any(|e| cats & (1u64 << agents.products[e.product.idx()].category) != 0);
        Reasons {
            promoted,
            bought: sold & cats != 0,
            viewed: viewed & cats != 0,
            profile: customers
                .is_some_and(|p| p.matches(agents.creators[c.idx()].audience, tolerance)),
        }
    }

    /// Adds an invitation made during the run (a seller's invitation policy, TARGET-8): at most
    /// 50 creators and 100 products (H-8), each rate within RATE-1, products of the seller and
    /// affiliate-eligible (TARGET-1). Returns its index; the caller sends it.
    pub(crate) fn create_invitation(
        &mut self,
        agents: &Agents,
        inv: Invitation,
    ) -> Result<InvitationId, Refusal> {
        if inv.creators.is_empty() || inv.creators.len() > 50 || inv.products.len() > 100 {
            // rule: H-8
            return Err(Refusal::new(
                RuleId::H8,
                "an invitation goes to 1–50 creators and names at most 100 products",
            ));
        }
        let rates = inv
            .products
            .iter()
            .map(|p| p.rate)
            .chain(inv.creator_rates.iter().map(|x| x.2));
        for r in rates {
            if r.check_affiliate().is_err() {
                // rule: RATE-1
                return Err(Refusal::new(
                    RuleId::Rate1,
                    "a Target rate is outside 1%–80%",
                ));
            }
        }
        if inv.products.iter().any(|p| {
            let pr = &agents.products[p.product.idx()];
            pr.seller != inv.seller || !pr.eligible
        }) {
            return Err(Refusal::new(
                RuleId::Target1,
                "an invitation names affiliate-eligible products of its seller",
            ));
        }
        self.fired.insert(RuleId::Target8);
        if !inv.creator_rates.is_empty() {
            self.fired.insert(RuleId::Target9);
        }
        Ok(self.books.target.add(inv))
    }
}

impl Platform {
    /// A seller changes a Target invitation's rate mid-campaign: on `product` or all of its
    /// products, for `creator` or all of its creators (issue 14). It applies to orders placed
    /// after the change (the rate is fixed at placement, like OPEN-4). Refused once the
    /// collaboration has ended (TARGET-1), and under `rules.target_rate_change = "pending-only"`
    /// for creators who already accepted (TARGET-2).
    // rule: TARGET-9 — the change may name one creator: its own rate (Invitation::rate_for)
    pub(crate) fn change_target_rate(
        &mut self,
        inv: InvitationId,
        product: Option<ProductId>,
        creator: Option<CreatorId>,
        rate: Rate,
        t: SimTime,
    ) -> Result<(), Refusal> {
        let i = &self.books.target.invitations[inv.index()];
        if t >= i.ends {
            return Err(Refusal::new(
                RuleId::Target1,
                "the collaboration has ended: its rates can no longer change",
            ));
        }
        let named: Vec<CreatorId> = match creator {
            Some(c) => vec![c],
            None => i.creators.clone(),
        };
        let accepted = |c: CreatorId| {
            self.books
                .target
                .slot_of(inv, c)
                .is_some_and(|s| self.books.target.slots[s.index()].status == SlotStatus::Accepted)
        };
        if self.opts.target_rate_change == TargetRateChange::PendingOnly
            && named.iter().any(|&c| accepted(c))
        {
            // rule: TARGET-2 — an accepted creator accepted the terms (option)
            return Err(Refusal::new(
                RuleId::Target2,
                "a creator has accepted these terms: the rate cannot change for them (rules.target_rate_change = \"pending-only\")",
            ));
        }
        let i = &mut self.books.target.invitations[inv.index()];
        // a change counts once per product it reaches (as an Open plan change, issue 14)
        let n = i
            .products
            .iter()
            .filter(|tp| product.is_none_or(|p| p == tp.product))
            .count();
        self.tally
            .add(crate::metrics::Metric::RateChanges, (n as u64).into());
        match creator {
            None => {
                for tp in i.products.iter_mut() {
                    if product.is_none_or(|p| p == tp.product) {
                        tp.rate = rate;
                    }
                }
                // creators' own rates (TARGET-9) stay: change them by naming the creator
            }
            Some(c) => {
                i.creator_rates
                    .retain(|x| !(x.0 == c && (product.is_none() || x.1 == product)));
                i.creator_rates.push((c, product, rate));
                self.fired.insert(RuleId::Target9);
            }
        }
        self.fired.insert(RuleId::Target1);
        Ok(())
    }
}
