//! Distributor campaigns: registration, review, links, the showcase rule, expiry, and the split
//! commission (DIST-1..6, H-9).
//!
//! A distributor's campaign has a registration window and a promotion window. Sellers register
//! products with a creator part and a distributor part (DIST-2); the distributor approves or
//! rejects each (DIST-3); an approved registration is a link creators add to their showcase
//! (DIST-4). A link pays only within the promotion window and until the seller terminates
//! (DIST-5); orders through it pay both parts (DIST-6).

use serde::Serialize;

use crate::metrics::Metric;
use crate::model::{Agents, CreatorId, DistributorId, ProductId, SellerId};
use crate::money::Rate;
use crate::rules::attribution::{ShowcaseEntry, Via};
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::choices::{Notice, Review};
use crate::rules::ids::*;
use crate::rules::{Platform, Refusal};
use crate::time::SimTime;

/// Campaign status (H-9): ready → upcoming → ongoing → closed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CampaignStatus {
    /// Created; registration not open yet.
    Ready,
    /// Registration open or promotion not started.
    Upcoming,
    /// In its promotion window.
    Ongoing,
    Closed,
}

/// A distributor campaign (DIST-1).
#[derive(Clone, Debug, PartialEq)]
pub struct Campaign {
    pub name: String,
    pub distributor: DistributorId,
    /// Targeted sellers (at most 100, H-9), or `None` when open to all.
    pub sellers: Option<Vec<SellerId>>,
    pub registration: (SimTime, SimTime),
    pub promotion: (SimTime, SimTime),
    /// Minimum creator part (DIST-2).
    pub min_creator_rate: Rate,
    /// Minimum distributor part (DIST-2).
    pub min_distributor_rate: Rate,
    /// Days before the promotion ends that creators are notified (DIST-5).
    pub(crate) notice_days: u32,
}

impl Campaign {
    /// A creator and a distributor part meet the campaign's requirements (DIST-2) and add up to
    /// at most 80% (RATE-1).
    pub fn check_parts(&self, creator_rate: Rate, distributor_rate: Rate) -> Result<(), Refusal> {
        if creator_rate < self.min_creator_rate || distributor_rate < self.min_distributor_rate {
            return Err(Refusal::new(
                RuleId::Dist2,
                format!(
                    "the parts {creator_rate} (creator) + {distributor_rate} (distributor) do not meet the requirements of at least {} + {}",
                    self.min_creator_rate, self.min_distributor_rate
                ),
            ));
        }
        // rule: RATE-1
        if creator_rate.0 + distributor_rate.0 > rust_decimal::Decimal::from(80) {
            return Err(Refusal::new(
                RuleId::Rate1,
                format!("the parts {creator_rate} + {distributor_rate} exceed 80%"),
            ));
        }
        Ok(())
    }

    /// The status at `t` (H-9).
    pub fn status(&self, t: SimTime) -> CampaignStatus {
        if t < self.registration.0 {
            CampaignStatus::Ready
        } else if t < self.promotion.0 {
            CampaignStatus::Upcoming
        } else if t < self.promotion.1 {
            CampaignStatus::Ongoing
        } else {
            CampaignStatus::Closed
        }
    }
}

/// Where a registration is (DIST-3).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegStatus {
    Pending,
    Approved,
    Rejected,
}

/// A product registered in a campaign; once approved, a link.
#[derive(Clone, Debug, Serialize)]
pub struct Registration {
    pub campaign: CampaignId,
    pub seller: SellerId,
    pub product: ProductId,
    pub creator_rate: Rate,
    pub distributor_rate: Rate,
    /// The creator part for orders from ads on authorised videos (H-5), if any.
    pub shop_ads_rate: Option<Rate>,
    pub status: RegStatus,
    /// Under the H-9 split, the total the seller registered; the distributor sets the creator's
    /// part on approval and the distributor keeps the rest.
    pub total: Option<Rate>,
    pub reason: String,
    /// When the seller terminated it early (DIST-5), or never.
    pub(crate) terminated: SimTime,
    /// When a temporary termination is lifted (DIST-8), or never: a permanent termination.
    pub(crate) resumes: SimTime,
}

/// What a creator does when a link pays less than what the showcase has (DIST-4 model).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LowerLinkChoice {
    /// Keep whichever pays more (default).
    #[default]
    KeepHigher,
    /// Add the link anyway.
    TakeLink,
}

/// The outcome of adding a link (DIST-4).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum LinkAdd {
    /// New product, or the link pays more: added.
    Added,
    /// The existing commission is higher: the creator was warned and kept the existing one.
    WarnedKept,
    /// The existing commission is higher: warned, and the creator took the link anyway.
    WarnedTaken,
}

/// The distributor book.
#[derive(Clone, Debug, Default)]
pub struct DistBook {
    pub campaigns: Vec<Campaign>,
    pub registrations: Vec<Registration>,
    /// (campaign, product) → its registration (at most one: a second one is refused). Looked up,
    /// never iterated.
    pub(crate) by_product: std::collections::HashMap<(CampaignId, u32), RegistrationId>,
}

impl DistBook {
    /// The window in which a link pays: the promotion window, cut short by a permanent
    /// termination (a temporary one, DIST-8, only pauses it: see [`DistBook::paused`]).
    pub(crate) fn valid_until(&self, reg: RegistrationId) -> SimTime {
        let r = &self.registrations[reg.index()];
        let c = &self.campaigns[r.campaign.index()];
        if r.resumes == SimTime::NEVER {
            c.promotion.1.min(r.terminated)
        } else {
            c.promotion.1
        }
    }
    /// The link is inside a termination at `t`: from the termination until it is lifted
    /// (DIST-8), or for good (DIST-5).
    // rule: DIST-8 — a temporarily terminated link shows as invalid until the termination ends
    pub(crate) fn paused(&self, reg: RegistrationId, t: SimTime) -> bool {
        let r = &self.registrations[reg.index()];
        r.terminated <= t && t < r.resumes
    }
    /// A link pays at `t` (DIST-5, DIST-8).
    pub fn valid(&self, reg: RegistrationId, t: SimTime) -> bool {
        let r = &self.registrations[reg.index()];
        let c = &self.campaigns[r.campaign.index()];
        r.status == RegStatus::Approved
            && t >= c.promotion.0
            && t < self.valid_until(reg)
            && !self.paused(reg, t)
    }
}

impl Platform {
    /// A seller registers a product in a campaign during its registration window, with a creator
    /// and a distributor part that meet the campaign's requirements (DIST-1, DIST-2).
    // rule: DIST-1
    // rule: DIST-2
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn register_product(
        &mut self,
        agents: &Agents,
        campaign: CampaignId,
        product: ProductId,
        creator_rate: Rate,
        distributor_rate: Rate,
        shop_ads_rate: Option<Rate>,
        t: SimTime,
    ) -> Result<RegistrationId, Refusal> {
        let c = &self.books.dist.campaigns[campaign.index()];
        let p = &agents.products[product.idx()];
        if let Some(s) = &c.sellers
            && !s.contains(&p.seller)
        {
            return Err(Refusal::new(
                RuleId::Dist1,
                "the campaign does not target this seller",
            ));
        }
        if t < c.registration.0 || t >= c.registration.1 {
            return Err(Refusal::new(
                RuleId::Dist2,
                "registration is closed: outside the campaign's registration window",
            ));
        }
        if !p.eligible {
            return Err(Refusal::new(
                RuleId::Dist2,
                "the product is not affiliate-eligible",
            ));
        }
        c.check_parts(creator_rate, distributor_rate)?;
        if self
            .books
            .dist
            .by_product
            .contains_key(&(campaign, product.0))
        {
            return Err(Refusal::new(
                RuleId::Dist2,
                "the product is already registered in this campaign",
            ));
        }
        self.fired
            .extend(RuleSet::of(&[RuleId::Dist1, RuleId::Dist2]));
        self.tally.count(Metric::Registrations);
        self.books.dist.registrations.push(Registration {
            campaign,
            seller: p.seller,
            product,
            creator_rate,
            distributor_rate,
            shop_ads_rate,
            status: RegStatus::Pending,
            total: None,
            reason: String::new(),
            terminated: SimTime::NEVER,
            resumes: SimTime::NEVER,
        });
        let reg = RegistrationId::at(self.books.dist.registrations.len() - 1);
        self.books
            .dist
            .by_product
            .insert((campaign, product.0), reg);
        Ok(reg)
    }

    /// Under the H-9 split, the creator's part when the distributor keeps the campaign's minimum
    /// distributor rate and gives the creator the rest of the total; `None` for a registration
    /// made with fixed rates.
    pub(crate) fn creator_part_at_minimum(&self, reg: RegistrationId) -> Option<Rate> {
        let r = &self.books.dist.registrations[reg.index()];
        let c = &self.books.dist.campaigns[r.campaign.index()];
        r.total
            .map(|total| Rate(total.0 - c.min_distributor_rate.0))
    }

    /// The distributor approves (a link is issued) or rejects a registration, with a reason
    /// (DIST-3, H-9).
    // rule: DIST-3
    pub(crate) fn review_registration(
        &mut self,
        reg: RegistrationId,
        review: Review,
        reason: &str,
        creator_part: Option<Rate>,
    ) -> Result<(), Refusal> {
        let approve = review.approved();
        if let (Some(total), true) = (self.books.dist.registrations[reg.index()].total, approve) {
            // rule: H-9 — the distributor sets the creator's part (≤ total) when it makes the link
            let c = &self.books.dist.campaigns
                [self.books.dist.registrations[reg.index()].campaign.index()];
            let Some(part) = creator_part else {
                return Err(Refusal::new(
                    RuleId::H9,
                    "under the distributor split, approving sets `creator_rate` (the creator's part of the total)",
                ));
            };
            let rest = Rate(total.0 - part.0);
            if part > total || part < c.min_creator_rate || rest < c.min_distributor_rate {
                return Err(Refusal::new(
                    RuleId::H9,
                    format!(
                        "creator part {part} of the total {total} leaves {rest} for the distributor; the campaign requires at least {} + {}",
                        c.min_creator_rate, c.min_distributor_rate
                    ),
                ));
            }
            let r = &mut self.books.dist.registrations[reg.index()];
            r.creator_rate = part;
            r.distributor_rate = rest;
        }
        let r = &mut self.books.dist.registrations[reg.index()];
        if r.status != RegStatus::Pending {
            return Err(Refusal::new(
                RuleId::Dist3,
                "the registration was already reviewed",
            ));
        }
        r.status = if approve {
            RegStatus::Approved
        } else {
            RegStatus::Rejected
        };
        r.reason = reason.to_string();
        self.fired.insert(RuleId::Dist3);
        self.fired.insert(RuleId::H9);
        if approve {
            self.tally.count(Metric::LinksIssued);
        }
        Ok(())
    }

    /// A creator adds a link to the showcase or a LIVE product set (DIST-4): added when new or
    /// paying more; otherwise the creator is warned and `choice` decides.
    // rule: DIST-4
    pub(crate) fn add_link(
        &mut self,
        agents: &Agents,
        c: CreatorId,
        reg: RegistrationId,
        choice: LowerLinkChoice,
        t: SimTime,
    ) -> Result<LinkAdd, Refusal> {
        let r = self.books.dist.registrations[reg.index()].clone();
        if r.status != RegStatus::Approved {
            return Err(Refusal::new(
                RuleId::Dist3,
                "the product has no approved link in this campaign",
            ));
        }
        if t >= self.books.dist.valid_until(reg) {
            return Err(Refusal::new(
                RuleId::Dist5,
                "the link has expired or was terminated",
            ));
        }
        if self.books.dist.paused(reg, t) {
            return Err(Refusal::new(
                RuleId::Dist8,
                "the link is temporarily terminated by the seller",
            ));
        }
        self.fired.insert(RuleId::Dist4);
        let existing = self.showcase_entry(c, r.product);
        let outcome = match existing {
            None => LinkAdd::Added,
            Some(e) if e.via == Via::Link(reg) => return Ok(LinkAdd::Added),
            Some(e) => {
                // rule: DIST-4 — "pays more than the current entry" is decided by the resolution
                // that pays orders: the line with the link as the entry against the line as it
                // is (a Target or Plus that supersedes the link keeps paying, so the link would
                // not pay more; issue 14).
                let at = t.max(self.books.dist.campaigns[r.campaign.index()].promotion.0);
                let link = ShowcaseEntry {
                    product: r.product,
                    via: Via::Link(reg),
                    since: t,
                };
                let current = self
                    .rate_with_entry(agents, c, r.product, at, Some(e))
                    .map(|x| x.rate);
                let with_link = self
                    .rate_with_entry(agents, c, r.product, at, Some(link))
                    .map(|x| x.rate);
                match (current, with_link) {
                    (Some(cur), Some(new)) if cur >= new => {
                        self.tally.count(Metric::LinkWarnings);
                        match choice {
                            LowerLinkChoice::KeepHigher => LinkAdd::WarnedKept,
                            LowerLinkChoice::TakeLink => LinkAdd::WarnedTaken,
                        }
                    }
                    _ => LinkAdd::Added,
                }
            }
        };
        if outcome != LinkAdd::WarnedKept {
            let entry = ShowcaseEntry {
                product: r.product,
                via: Via::Link(reg),
                since: t,
            };
            let list = &mut self.creators[c.idx()].lists.showcase;
            match list.iter_mut().find(|e| e.product == r.product) {
                Some(e) => *e = entry,
                None => list.push(entry),
            }
            self.tally.count(Metric::LinksAdded);
        }
        Ok(outcome)
    }

    /// The seller terminates its products in a campaign early (DIST-5): for good, or until
    /// `resumes` when it is a temporary termination (DIST-8; `SimTime::NEVER`: for good).
    /// Returns the creators notified (those holding one of the links).
    // rule: DIST-5
    pub(crate) fn terminate_campaign(
        &mut self,
        campaign: CampaignId,
        seller: SellerId,
        resumes: SimTime,
        t: SimTime,
    ) -> Result<u32, Refusal> {
        if resumes != SimTime::NEVER
            && resumes >= self.books.dist.campaigns[campaign.index()].promotion.1
        {
            // rule: DIST-8 — a temporary termination ends before the promotion does
            return Err(Refusal::new(
                RuleId::Dist8,
                "a temporary termination must end before the promotion ends",
            ));
        }
        let mut any = false;
        for r in self.books.dist.registrations.iter_mut() {
            // A registration is live when it was never terminated, or its temporary termination
            // has been lifted by now (it may be terminated again).
            let live = r.terminated == SimTime::NEVER || (r.resumes <= t);
            if r.campaign == campaign && r.seller == seller && live {
                r.terminated = t;
                r.resumes = resumes.max(t);
                any = true;
            }
        }
        if !any {
            return Err(Refusal::new(
                if resumes == SimTime::NEVER {
                    RuleId::Dist5
                } else {
                    RuleId::Dist8
                },
                "the seller has no live registrations in this campaign",
            ));
        }
        self.fired.insert(RuleId::Dist5);
        if resumes != SimTime::NEVER {
            self.fired.insert(RuleId::Dist8);
        }
        let n = self.link_holders(|r| r.campaign == campaign && r.seller == seller);
        self.tally.add(Metric::LinksTerminated, n.into());
        Ok(n)
    }

    /// The seller lifts its temporary termination in a campaign (DIST-8): its links pay again
    /// until the promotion ends, and creators holding them are notified (`links_resumed`).
    /// Refused when nothing of the seller's is terminated, or after the promotion. A termination
    /// given for good (DIST-5) may be lifted the same way while the promotion runs.
    // rule: DIST-8
    pub(crate) fn resume_campaign(
        &mut self,
        campaign: CampaignId,
        seller: SellerId,
        t: SimTime,
    ) -> Result<u32, Refusal> {
        if t >= self.books.dist.campaigns[campaign.index()].promotion.1 {
            return Err(Refusal::new(
                RuleId::Dist8,
                "the promotion has ended: there is nothing to resume",
            ));
        }
        let mut any = false;
        for r in self.books.dist.registrations.iter_mut() {
            if r.campaign == campaign && r.seller == seller && r.terminated <= t && t < r.resumes {
                r.resumes = t;
                any = true;
            }
        }
        if !any {
            return Err(Refusal::new(
                RuleId::Dist8,
                "the seller has no terminated registrations in this campaign to resume",
            ));
        }
        Ok(self.note_resumed(campaign, seller))
    }

    /// A temporary termination reaches its end time (`until`, DIST-8): the links pay again and
    /// creators holding them are notified. Nothing happens when the seller already lifted it by
    /// script, or terminated again since.
    pub(crate) fn resume_due(&mut self, campaign: CampaignId, seller: SellerId, t: SimTime) -> u32 {
        let due = self.books.dist.registrations.iter().any(|r| {
            r.campaign == campaign && r.seller == seller && r.resumes == t && r.terminated < t
        });
        if due && t < self.books.dist.campaigns[campaign.index()].promotion.1 {
            self.note_resumed(campaign, seller)
        } else {
            0
        }
    }

    /// A creator received a link from a distributor that works with it (DIST-7; the choice of
    /// who receives links is the simulator's, the platform records that the rule applied).
    // rule: DIST-7 — links reach creators offline, without a binding (none is checked here)
    pub(crate) fn note_network_link(&mut self) {
        self.fired.insert(RuleId::Dist7);
    }

    /// Notices for links whose temporary termination ended (by script or at its time, DIST-8).
    fn note_resumed(&mut self, campaign: CampaignId, seller: SellerId) -> u32 {
        self.fired.insert(RuleId::Dist8);
        let n = self.link_holders(|r| {
            r.campaign == campaign && r.seller == seller && r.status == RegStatus::Approved
        });
        self.tally.add(Metric::LinksResumed, n.into());
        n
    }

    /// Creators holding a link matching `f` in their showcase.
    fn link_holders(&self, f: impl Fn(&Registration) -> bool) -> u32 {
        self.creators
            .iter()
            .map(|s| s.lists.showcase.iter().filter(|e| matches!(e.via, Via::Link(r) if f(&self.books.dist.registrations[r.index()]))).count() as u32)
            .sum()
    }

    /// Notifications before the promotion ends and at its end (DIST-5); counts the links
    /// concerned.
    pub(crate) fn campaign_notice(
        &mut self,
        campaign: CampaignId,
        notice: Notice,
        t: SimTime,
    ) -> u32 {
        let n = self.link_holders(|r| {
            r.campaign == campaign
                && r.status == RegStatus::Approved
                && (r.terminated > t || r.resumes <= t)
        });
        self.fired.insert(RuleId::Dist5);
        self.tally.add(
            if notice == Notice::Expired {
                Metric::LinksExpired
            } else {
                Metric::LinkNotices
            },
            n.into(),
        );
        n
    }
}

impl Platform {
    /// Edits a campaign: its promotion start and its minimum creator and distributor parts
    /// (DIST-1, DIST-2); allowed only before the campaign is ongoing (H-9: start times are
    /// editable only before ongoing; the requirements follow the same rule, the seeds being
    /// silent). New minimums apply to later registrations; registrations already made keep
    /// their parts.
    // rule: H-9
    pub(crate) fn edit_campaign(
        &mut self,
        campaign: CampaignId,
        promotion_start: Option<SimTime>,
        min_rates: (Option<Rate>, Option<Rate>),
        t: SimTime,
    ) -> Result<(), Refusal> {
        let c = &mut self.books.dist.campaigns[campaign.index()];
        match c.status(t) {
            CampaignStatus::Ongoing | CampaignStatus::Closed => Err(Refusal::new(
                RuleId::H9,
                if promotion_start.is_some() {
                    "start times can be edited only before the campaign is ongoing"
                } else {
                    "a campaign's commission requirements can be edited only before it is ongoing"
                },
            )),
            _ => {
                if let Some(ps) = promotion_start {
                    c.promotion.0 = ps;
                }
                if let Some(r) = min_rates.0 {
                    c.min_creator_rate = r;
                }
                if let Some(r) = min_rates.1 {
                    c.min_distributor_rate = r;
                }
                self.fired.insert(RuleId::H9);
                if min_rates.0.is_some() || min_rates.1.is_some() {
                    self.fired.insert(RuleId::Dist2);
                }
                Ok(())
            }
        }
    }

    /// Under the H-9 split option: the seller registers a total rate (distributor + creator);
    /// the distributor sets the creator's part on approval (see `review_registration`).
    // rule: H-9
    pub(crate) fn register_total(
        &mut self,
        agents: &Agents,
        campaign: CampaignId,
        product: ProductId,
        total: Rate,
        t: SimTime,
    ) -> Result<RegistrationId, Refusal> {
        let c = &self.books.dist.campaigns[campaign.index()];
        let (min_c, min_d) = (c.min_creator_rate, c.min_distributor_rate);
        if total.0 < min_c.0 + min_d.0 {
            return Err(Refusal::new(
                RuleId::Dist2,
                format!(
                    "the total {total} is below the campaign's requirements of {min_c} + {min_d}"
                ),
            ));
        }
        // Register with the minimum parts for the checks; the distributor sets the real split.
        let reg = self.register_product(
            agents,
            campaign,
            product,
            min_c,
            Rate(total.0 - min_c.0),
            None,
            t,
        )?;
        self.books.dist.registrations[reg.index()].total = Some(total);
        self.fired.insert(RuleId::H9);
        Ok(reg)
    }

    /// The registration of `product` in `campaign`, if any.
    pub(crate) fn registration_of(
        &self,
        campaign: CampaignId,
        product: ProductId,
    ) -> Option<RegistrationId> {
        self.books
            .dist
            .by_product
            .get(&(campaign, product.0))
            .copied()
    }
}
