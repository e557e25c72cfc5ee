//! Two-way choices passed to the rules engine's operations, named instead of `bool` arguments.
//!
//! `pf.review_video(slot, Review::Approve, t)` reads where `pf.review_video(slot, true, t)` did
//! not. Each is a plain one-byte `Copy` enum; `…_if(bool)` builds one from a behaviour draw or
//! a scenario field.

/// A decision on something submitted for review: an Open application (OPEN-2), a Target
/// flat-fee video (TARGET-4), a distributor registration (DIST-3).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Review {
    Approve,
    Reject,
}

impl Review {
    /// `Approve` when `approve` holds.
    pub(crate) fn approve_if(approve: bool) -> Review {
        if approve {
            Review::Approve
        } else {
            Review::Reject
        }
    }
    pub fn approved(self) -> bool {
        self == Review::Approve
    }
}

/// A creator's answer to a Target invitation (TARGET-2).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    Accept,
    Decline,
}

impl Answer {
    /// `Accept` when `accept` holds.
    pub(crate) fn accept_if(accept: bool) -> Answer {
        if accept {
            Answer::Accept
        } else {
            Answer::Decline
        }
    }
    pub fn accepted(self) -> bool {
        self == Answer::Accept
    }
}

/// Which rate of an Open listing a change sets: its standard rate or its Open Shop Ads rate
/// (OPEN-4, H-5).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListingRate {
    Standard,
    ShopAds,
}

impl ListingRate {
    /// `ShopAds` when `shop_ads` holds.
    pub(crate) fn shop_ads_if(shop_ads: bool) -> ListingRate {
        if shop_ads {
            ListingRate::ShopAds
        } else {
            ListingRate::Standard
        }
    }
    pub(crate) fn is_shop_ads(self) -> bool {
        self == ListingRate::ShopAds
    }
}

/// Whether a creator asks to extend a sample's posting deadline when it passes (H-6).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Extension {
    Requested,
    NotRequested,
}

impl Extension {
    /// `Requested` when `requested` holds.
    pub(crate) fn requested_if(requested: bool) -> Extension {
        if requested {
            Extension::Requested
        } else {
            Extension::NotRequested
        }
    }
}

/// A creator's answer to a Collaboration Plus's prompt to authorise its videos for ads
/// (PLUS-22); ignored when the collaboration does not prompt.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum AdsPrompt {
    Authorise,
    Decline,
}

impl AdsPrompt {
    /// `Authorise` when `authorise` holds.
    pub(crate) fn authorise_if(authorise: bool) -> AdsPrompt {
        if authorise {
            AdsPrompt::Authorise
        } else {
            AdsPrompt::Decline
        }
    }
}

/// Risk control's decision on a Collaboration Plus reward (PLUS-18).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum RiskCheck {
    Pay,
    Cancel,
}

impl RiskCheck {
    /// `Cancel` when `cancel` holds.
    pub(crate) fn cancel_if(cancel: bool) -> RiskCheck {
        if cancel {
            RiskCheck::Cancel
        } else {
            RiskCheck::Pay
        }
    }
}

/// Which DIST-5 notification creators holding a campaign's links receive: the advance notice
/// before the promotion ends, or the expiry at its end.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    Advance,
    Expired,
}

/// Whether a replication keeps its ledger entries and the records of tracked order lines (for
/// `--ledger`, `explain` and `[[expect_ledger]]`), or only balances and totals.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Recording {
    Off,
    On,
}

impl Recording {
    /// `On` when `on` holds.
    pub(crate) fn on_if(on: bool) -> Recording {
        if on { Recording::On } else { Recording::Off }
    }
    pub(crate) fn is_on(self) -> bool {
        self == Recording::On
    }
}

/// Whose Open approval a rate question assumes: the creator's as it is `Now`, or as if it were
/// approved at that moment (`OnceApproved`: what a creator weighs before applying; OPEN-2).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    Now,
    OnceApproved,
}
