//! Script interpretation: carries out the scenario's scripted events (`[[script]]`, scripted
//! orders and returns) through the `Platform` and the plan orchestration, recording refusals.

use super::queue::Phase;
use super::{By, Ev, World};
use crate::model::{CreatorId, ProductId};
use crate::rules::catalogue::RuleId;
use crate::rules::choices::{Answer, ListingRate, Review};
use crate::rules::distributor::LowerLinkChoice;
use crate::rules::ids::*;
use crate::rules::orders::ReturnPart;
use crate::rules::{Names2, OrderRequest, Refusal};
use crate::scenario::{Action, ReturnAmount};
use crate::time::SimTime;

impl World<'_> {
    pub(super) fn script(&mut self, t: SimTime, i: u32) {
        let sc = self.sc;
        match &sc.script[i as usize].action {
            Action::OpenRate {
                plan,
                product,
                rate,
                shop_ads,
            } => {
                let listings: Vec<ListingId> = (0..self.pf.books().open_listings.len())
                    .map(ListingId::at)
                    .filter(|&l| {
                        let x = &self.pf.books().open_listings[l.index()];
                        x.plan == *plan && product.is_none_or(|p| p == x.product)
                    })
                    .collect();
                for l in listings {
                    self.change_listing_rate(l, *rate, ListingRate::shop_ads_if(*shop_ads), t);
                }
            }
            Action::ShopRate { seller, rate } => self.pf.change_shop_rate(*seller, *rate, t),
            Action::Apply { creator, product } => self.apply(t, *creator, *product, By::Script),
            Action::ShowcaseAdd { creator, product } => {
                if let Err(r) = self
                    .pf
                    .add_shop_product(&self.agents, *creator, *product, t)
                {
                    self.refuse(r);
                }
                self.note_terms(*creator, t);
            }
            Action::SampleRequest { creator, product } => {
                self.request_sample(t, *creator, *product, By::Script)
            }
            Action::Post {
                creator,
                product,
                kind,
                authorised,
            } => self.post(t, *creator, *product, *kind, *authorised, None),
            Action::Order(oi) => self.script_order(t, *oi),
            Action::SendInvitation(inv) => self.send_invitation(t, *inv),
            Action::TargetResponse {
                invitation,
                creator,
                accept,
            } => {
                if let Some(s) = self.pf.books().target.slot_of(*invitation, *creator) {
                    self.target_respond(t, s, Answer::accept_if(*accept), By::Script);
                }
            }
            Action::VideoSubmission {
                invitation,
                creator,
            } => {
                if let Some(s) = self.pf.books().target.slot_of(*invitation, *creator) {
                    self.video_submit(t, s, By::Script);
                }
            }
            Action::VideoReview {
                invitation,
                creator,
                approve,
            } => {
                if let Some(s) = self.pf.books().target.slot_of(*invitation, *creator) {
                    self.video_review(t, s, Review::approve_if(*approve), By::Script);
                }
            }
            Action::OpenCampaign(c) => self.open_campaign(t, *c),
            Action::PlusConfirm(c) => {
                if let Err(r) = self.pf.plus_confirm(*c, t) {
                    self.refuse(r); // PLUS-9 at confirmation (issue 14)
                }
                self.q.push(
                    t.plus_minutes(crate::rules::plus::PAY_WINDOW),
                    Phase::Control,
                    Ev::PlusPayDeadline(*c),
                );
            }
            Action::PlusPay(c) => {
                if let Err(r) = self.pf.plus_pay(*c, t) {
                    self.refuse(r);
                }
            }
            Action::PlusStart(c) => self.plus_start(t, *c),
            Action::PlusEnd(c) => self.plus_end(t, *c),
            Action::PlusJoin {
                campaign,
                creator,
                authorises_ads,
            } => self.plus_join(t, *campaign, *creator, By::Script, *authorises_ads),
            Action::PlusSampleRequest {
                campaign,
                creator,
                product,
            } => {
                let res = match self.pf.books().plus.participant_of(*campaign, *creator) {
                    Some(part) => self.pf.plus_request_sample(part, *product, t),
                    None => Err(Refusal::new(
                        RuleId::Plus14,
                        "the creator has not joined the collaboration",
                    )),
                };
                match res {
                    Ok(s) => self.ship_plus_sample(t, s),
                    Err(r) => self.refuse(r),
                }
            }
            Action::PlusEdit { campaign, parts } => {
                if let Err(r) = self.pf.plus_edit_parts(*campaign, *parts) {
                    self.refuse(r);
                }
            }
            Action::EditRegistration {
                campaign,
                product,
                parts,
            } => {
                let res = match self.pf.registration_of(*campaign, *product) {
                    Some(reg) => self.pf.edit_registration(reg, *parts, t),
                    None => Err(Refusal::new(
                        RuleId::Dist2,
                        "the product was never registered in the campaign",
                    )),
                };
                if let Err(r) = res {
                    self.refuse(r);
                }
            }
            Action::GeneratedRate {
                kind,
                category,
                change,
                shop_ads,
            } => self.generated_rate(t, *kind, *category, *change, *shop_ads),
            Action::PlusCancel(c) => {
                if let Err(r) = self.pf.plus_cancel(*c, t) {
                    self.refuse(r);
                }
            }
            Action::Register {
                campaign,
                product,
                creator_rate,
                distributor_rate,
                shop_ads_rate,
            } => self.register(
                t,
                *campaign,
                *product,
                *creator_rate,
                *distributor_rate,
                *shop_ads_rate,
                By::Script,
            ),
            Action::RegisterTotal {
                campaign,
                product,
                total,
            } => {
                if let Err(r) = self
                    .pf
                    .register_total(&self.agents, *campaign, *product, *total, t)
                {
                    self.refuse(r);
                }
            }
            Action::ReviewRegistration {
                campaign,
                product,
                approve,
                reason,
                creator_part,
            } => match self.pf.registration_of(*campaign, *product) {
                Some(reg) => self.review_registration(
                    reg,
                    Review::approve_if(*approve),
                    reason,
                    *creator_part,
                    By::Script,
                ),
                None => self.refuse(Refusal::new(
                    RuleId::Dist3,
                    "the product was never registered in the campaign",
                )),
            },
            Action::AddLink {
                campaign,
                creator,
                product,
                choice,
            } => self.script_add_link(t, *campaign, *creator, *product, *choice),
            Action::Terminate {
                campaign,
                seller,
                until,
            } => {
                let until = until.unwrap_or(SimTime::NEVER);
                if let Err(r) = self.pf.terminate_campaign(*campaign, *seller, until, t) {
                    self.refuse(r);
                }
            }
            Action::Resume {
                campaign,
                seller,
                due,
            } => self.resume(t, *campaign, *seller, *due),
            Action::EditCampaign {
                campaign,
                promotion_start,
                min_rates,
            } => {
                if let Err(r) = self
                    .pf
                    .edit_campaign(*campaign, *promotion_start, *min_rates, t)
                {
                    self.refuse(r);
                }
            }
            Action::TargetRate {
                invitation,
                product,
                creator,
                rate,
            } => {
                if let Err(r) =
                    self.pf
                        .change_target_rate(*invitation, *product, *creator, *rate, t)
                {
                    self.refuse(r);
                }
            }
            Action::Return { order, amount } => self.script_return(t, *order, amount),
        }
    }

    /// A scripted order: placed under its name and tracked; shipped, delivered or cancelled at
    /// its scripted times.
    fn script_order(&mut self, t: SimTime, oi: u32) {
        let o = &self.sc.orders[oi as usize];
        let req = OrderRequest {
            creator: o.creator,
            product: o.product,
            quantity: o.quantity,
            traffic: o.traffic,
            authorised: o.authorised,
            target_video: o
                .target_video
                .and_then(|inv| self.pf.books().target.slot_of(inv, o.creator)),
            seller_coupon: o.seller_coupon,
            platform_coupon: o.platform_coupon,
            shipping: o.shipping,
        };
        let names = Names2 {
            creator: self.agents.names.creator(o.creator),
            product: self.agents.names.product(o.product),
        };
        match self
            .pf
            .place_order(&self.agents, &req, t, Some((o.name.clone(), names)))
        {
            Ok(k) => {
                self.note_outreach(o.creator, o.product, super::target_policy::Seen::Sold);
                self.script_keys[oi as usize] = Some(k);
                if let Some(c) = o.cancelled {
                    self.q.push(c, Phase::AfterSales, Ev::Cancel(k));
                } else {
                    let ship = o.shipped.unwrap_or(t);
                    let deliver = o.delivered.unwrap_or(SimTime::NEVER);
                    self.q
                        .push(ship, Phase::Logistics, Ev::Ship { key: k, deliver });
                }
            }
            Err(r) => {
                self.script_refused[oi as usize] = Some(r.clone());
                self.refuse(r);
            }
        }
    }

    /// A scripted return of a scripted order (all, an amount or a quantity of it).
    fn script_return(&mut self, t: SimTime, order: u32, amount: &ReturnAmount) {
        let Some(k) = self.script_keys[order as usize] else {
            return;
        };
        let part = match *amount {
            ReturnAmount::All => ReturnPart::All,
            ReturnAmount::Amount(a) => ReturnPart::Amount(a),
            ReturnAmount::Quantity(q) => ReturnPart::Quantity(q),
        };
        if let Err(r) = self.pf.return_part(k, part, t) {
            self.refuse(r);
        }
    }

    /// A creator adds a campaign's link for a product to its showcase (DIST-4).
    fn script_add_link(
        &mut self,
        t: SimTime,
        campaign: CampaignId,
        creator: CreatorId,
        product: ProductId,
        choice: Option<LowerLinkChoice>,
    ) {
        let choice = choice.unwrap_or(self.sc.behaviour.distributors.lower_link_choice);
        let res = match self.pf.registration_of(campaign, product) {
            Some(reg) => self
                .pf
                .add_link(&self.agents, creator, reg, choice, t)
                .map(|_| self.note_terms(creator, t)),
            None => Err(Refusal::new(
                RuleId::Dist3,
                "the product has no link in this campaign",
            )),
        };
        if let Err(r) = res {
            self.refuse(r);
        }
    }
}
