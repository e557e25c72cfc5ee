//! Mid-campaign changes (issue 14, item 5): rates computed during the run checked against RATE-1
//! and H-3, Shop plan rate changes that can be refused, edits of a distributor registration's
//! parts (`rules.registration_edit`) and of a Collaboration Plus's rates (PLUS-15).
//!
//! What the seeds allow: Open rates change at any time (OPEN-4) and so does a Shop plan's one
//! rate (SHOP-1, seed 004: the seller sets it in the seller centre); Target rates change under
//! `rules.target_rate_change` (rules/target.rs); a Collaboration Plus can be edited only before
//! it is confirmed (seed 000: "You can still make edits on the confirmation page … Once the
//! collaboration is live, the details can no longer be edited", PLUS-15); seed 003 is silent on a
//! distributor registration's parts once registered, so `rules.registration_edit` decides.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::metrics::Metric;
use crate::model::SellerId;
use crate::money::Rate;
use crate::rules::catalogue::RuleId;
use crate::rules::distributor::RegStatus;
use crate::rules::ids::{PlusId, RegistrationId};
use crate::rules::plus::PlusStatus;
use crate::rules::{Platform, Refusal};
use crate::time::SimTime;

/// Whether a seller may edit a distributor registration's parts after registering
/// (`rules.registration_edit`; seed 003 is silent).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationEdit {
    /// Default: while the registration awaits the distributor's review and the registration
    /// window is open — what the distributor reviews is what the link pays (DIST-3).
    #[default]
    Pending,
    /// Never: the parts registered are final.
    Never,
}

/// New parts of a registration (`None` keeps the part).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationParts {
    pub creator_rate: Option<Rate>,
    pub distributor_rate: Option<Rate>,
    pub shop_ads_rate: Option<Rate>,
    /// Under the H-9 split: the total.
    pub total: Option<Rate>,
}

/// New rates of a Collaboration Plus (`None` keeps the rate).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PlusParts {
    pub rate: Option<Rate>,
    pub shop_ads_rate: Option<Rate>,
}

impl Platform {
    /// A rate computed during the run (a relative scripted change, a policy's step): 1%–80%
    /// (RATE-1) in 0.01% steps (H-3).
    // rule: RATE-1
    pub fn check_rate(&self, rate: Rate) -> Result<(), Refusal> {
        rate.check_affiliate()
            .map_err(|e| Refusal::new(e.rule().unwrap_or(RuleId::Rate1), e.to_string()))
    }

    /// A seller's Shop plan rate changes from `t` (SHOP-1; later orders, as OPEN-4): refused
    /// when the seller has no Shop plan or the rate is outside RATE-1.
    // rule: SHOP-1 — the one shop-wide rate, set by the seller at any time (seed 004)
    pub fn change_shop_rate_checked(
        &mut self,
        seller: SellerId,
        rate: Rate,
        t: SimTime,
    ) -> Result<(), Refusal> {
        self.check_rate(rate)?;
        if self.books.shop[seller.idx()].is_none() {
            return Err(Refusal::new(
                RuleId::Shop1,
                "the seller has no Shop plan to change",
            ));
        }
        self.change_shop_rate(seller, rate, t);
        self.fired.insert(RuleId::Shop1);
        Ok(())
    }

    /// A seller edits a registration's parts (DIST-2). Under `rules.registration_edit =
    /// "pending"` (default) allowed while the distributor has not reviewed it (DIST-3) and the
    /// registration window is open (DIST-2); the new parts meet the campaign's requirements in
    /// force and add up to at most 80% (RATE-1). Under `"never"` always refused (DIST-2).
    // rule: DIST-2 — the parts are the seller's, registered in the registration window
    // rule: DIST-3 — what the distributor reviewed is what the link pays
    pub fn edit_registration(
        &mut self,
        reg: RegistrationId,
        parts: RegistrationParts,
        t: SimTime,
    ) -> Result<(), Refusal> {
        if self.opts.registration_edit == RegistrationEdit::Never {
            return Err(Refusal::new(
                RuleId::Dist2,
                "a registration's parts cannot be edited (rules.registration_edit = \"never\")",
            ));
        }
        let r = &self.books.dist.registrations[reg.index()];
        let c = &self.books.dist.campaigns[r.campaign.index()];
        if r.status != RegStatus::Pending {
            return Err(Refusal::new(
                RuleId::Dist3,
                "the distributor has reviewed the registration: its parts can no longer change",
            ));
        }
        if t < c.registration.0 || t >= c.registration.1 {
            return Err(Refusal::new(
                RuleId::Dist2,
                "registration is closed: a registration's parts change only in the registration window",
            ));
        }
        for x in [
            parts.creator_rate,
            parts.distributor_rate,
            parts.shop_ads_rate,
            parts.total,
        ]
        .into_iter()
        .flatten()
        {
            self.check_rate(x)?;
        }
        let creator = parts.creator_rate.unwrap_or(r.creator_rate);
        let dist = parts.distributor_rate.unwrap_or(r.distributor_rate);
        let eighty = Decimal::from(80);
        if let Some(total) = parts.total.or(r.total) {
            // rule: H-9 — under the split the seller registers a total only
            if parts.creator_rate.is_some() || parts.distributor_rate.is_some() {
                return Err(Refusal::new(
                    RuleId::H9,
                    "under the distributor split, the seller edits the total only",
                ));
            }
            if total.0 < c.min_creator_rate.0 + c.min_distributor_rate.0 {
                return Err(Refusal::new(
                    RuleId::Dist2,
                    "the total does not meet the campaign's minimum parts",
                ));
            }
        } else {
            c.check_parts(creator, dist)?;
        }
        if let Some(sa) = parts.shop_ads_rate.or(r.shop_ads_rate)
            && sa.0 + dist.0 > eighty
        {
            return Err(Refusal::new(
                RuleId::Rate1,
                format!("the Shop Ads part {sa} and distributor part {dist} exceed 80%"),
            ));
        }
        let r = &mut self.books.dist.registrations[reg.index()];
        if r.total.is_some() {
            r.total = parts.total.or(r.total);
        } else {
            r.creator_rate = creator;
            r.distributor_rate = dist;
        }
        r.shop_ads_rate = parts.shop_ads_rate.or(r.shop_ads_rate);
        self.fired.insert(RuleId::Dist2);
        self.tally.count(Metric::RateChanges);
        Ok(())
    }

    /// A seller edits a Collaboration Plus's rates: only before confirmation (seed 000: edits on
    /// the confirmation page; none from pending payment on, PLUS-15). PLUS-9 is checked at
    /// confirmation against the edited rates.
    // rule: PLUS-15
    pub fn plus_edit_parts(&mut self, c: PlusId, parts: PlusParts) -> Result<(), Refusal> {
        self.plus_edit(c)?;
        for x in [parts.rate, parts.shop_ads_rate].into_iter().flatten() {
            self.check_rate(x)?;
        }
        let camp = &mut self.books.plus.campaigns[c.index()];
        camp.rate = parts.rate.or(camp.rate);
        camp.shop_ads_rate = parts.shop_ads_rate.or(camp.shop_ads_rate);
        if parts.rate.is_some() || parts.shop_ads_rate.is_some() {
            self.tally.count(Metric::RateChanges);
        }
        self.fired.insert(RuleId::Plus15);
        Ok(())
    }

    /// Whether a collaboration can still be edited (before confirmation).
    pub fn plus_editable(&self, c: PlusId) -> bool {
        self.books.plus.state[c.index()].status == PlusStatus::Draft
    }
}
