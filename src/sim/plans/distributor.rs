//! Distributor campaign orchestration: a campaign opens (notice and expiry scheduled), sellers
//! register products, the distributor reviews registrations, approved links become searchable.

use crate::model::ProductId;
use crate::rules::choices::Review;
use crate::rules::ids::*;
use crate::scenario::dist::unit;
use crate::sim::queue::Phase;
use crate::sim::{By, Ev, World, behaviour};
use crate::time::{DAY, SimTime};

impl World<'_> {
    pub(in crate::sim) fn open_campaign(&mut self, t: SimTime, campaign: CampaignId) {
        let c = self.pf.books().dist.campaigns[campaign.index()].clone();
        let end = c.promotion.1;
        let notice = SimTime(end.0.saturating_sub(c.notice_days * DAY));
        if notice > t && c.notice_days > 0 {
            self.q
                .push(notice, Phase::Control, Ev::CampaignNotice(campaign));
        }
        self.q
            .push(end, Phase::Control, Ev::CampaignExpire(campaign));
        if self.sc.campaigns[campaign.index()].scripted {
            return;
        }
        let db = &self.sc.behaviour.distributors;
        for (i, p) in self.agents.products.iter().enumerate() {
            let targeted = c.sellers.as_ref().is_none_or(|s| s.contains(&p.seller));
            if !(targeted && p.eligible) || unit(&mut self.rng.sellers) >= db.register_probability {
                continue;
            }
            let d = behaviour::delay(&db.register_delay, &mut self.rng.sellers);
            let at = t.plus_minutes(d);
            if at < c.registration.1 {
                self.q.push(
                    at,
                    Phase::Agent,
                    Ev::CampaignRegister {
                        campaign,
                        product: ProductId(i as u32),
                    },
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(in crate::sim) fn register(
        &mut self,
        t: SimTime,
        campaign: CampaignId,
        product: ProductId,
        creator_rate: crate::money::Rate,
        dist_rate: crate::money::Rate,
        shop_ads: Option<crate::money::Rate>,
        by: By,
    ) {
        match self.pf.register_product(
            &self.agents,
            campaign,
            product,
            creator_rate,
            dist_rate,
            shop_ads,
            t,
        ) {
            Ok(reg) => {
                if !by.scripted() {
                    self.schedule_review(t, campaign, reg);
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The behaviour model: the distributor reviews a registration after a delay.
    pub(in crate::sim) fn schedule_review(
        &mut self,
        t: SimTime,
        campaign: CampaignId,
        reg: RegistrationId,
    ) {
        if self.sc.campaigns[campaign.index()].scripted {
            return;
        }
        let db = &self.sc.behaviour.distributors;
        let r = &mut self.rng.sellers;
        let review = Review::approve_if(unit(r) < db.approve_probability);
        let d = behaviour::delay(&db.review_delay, r);
        self.q.push(
            t.plus_minutes(d),
            Phase::Agent,
            Ev::RegReview { reg, review },
        );
    }

    pub(in crate::sim) fn review_registration(
        &mut self,
        reg: RegistrationId,
        review: Review,
        reason: &str,
        creator_part: Option<crate::money::Rate>,
        by: By,
    ) {
        let reason = if reason.is_empty() && !review.approved() {
            "not a fit for the campaign"
        } else {
            reason
        };
        match self
            .pf
            .review_registration(reg, review, reason, creator_part)
        {
            Ok(()) => {
                if review.approved() {
                    self.links.push(reg);
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }
}

impl World<'_> {
    /// The behaviour model: a seller registers a product at the campaign's minimum rates plus the
    /// configured extra for creators (as a total under the H-9 split).
    pub(in crate::sim) fn campaign_register(
        &mut self,
        t: SimTime,
        campaign: CampaignId,
        product: ProductId,
    ) {
        let c = &self.pf.books().dist.campaigns[campaign.index()];
        let db = &self.sc.behaviour.distributors;
        let creator_rate = crate::money::Rate(c.min_creator_rate.0 + db.extra_creator_rate.0);
        let dist_rate = c.min_distributor_rate;
        if self.pf.opts().distributor_sets_split {
            let total = crate::money::Rate(creator_rate.0 + dist_rate.0);
            if let Ok(reg) = self
                .pf
                .register_total(&self.agents, campaign, product, total, t)
            {
                self.schedule_review(t, campaign, reg);
            }
        } else {
            self.register(
                t,
                campaign,
                product,
                creator_rate,
                dist_rate,
                None,
                By::Model,
            );
        }
    }

    /// The behaviour model's review of a registration.
    pub(in crate::sim) fn reg_review(&mut self, reg: RegistrationId, review: Review) {
        // Under the H-9 split the distributor keeps its minimum and gives the creator the rest.
        let part = self.pf.creator_part_at_minimum(reg);
        self.review_registration(reg, review, "", part, By::Model)
    }
}
