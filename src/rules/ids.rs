//! Plan-level ids: dense indices into the rules engine's books, one newtype per kind of thing.
//!
//! Like the agent ids of `model` (`SellerId`, `CreatorId`, …), each is a `#[repr(transparent)]`
//! newtype over `u32`, so that a Target slot cannot be passed where a Plus participant is meant,
//! at no runtime cost. The books keep their records in flat vectors; `.index()` is the position.
//! They serialise as the bare number, as the `u32`s they replace did.

/// Declares a plan-level id: `Copy`, ordered, hashable, printed as its number.
macro_rules! plan_id {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[derive(
            Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        #[repr(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The position in the book's vector.
            #[inline(always)]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
            /// The id of the record at position `i` of its book's vector.
            #[inline(always)]
            pub const fn at(i: usize) -> $name {
                $name(i as u32)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}

plan_id! {
    /// An Open collaboration plan (`Books::open_plans`).
    OpenPlanId;
    /// One product's entry in an Open plan (`Books::open_listings`).
    ListingId;
    /// A Target collaboration invitation (`TargetBook::invitations`).
    InvitationId;
    /// A (Target invitation, creator) slot (`TargetBook::slots`).
    SlotId;
    /// A distributor campaign (`DistBook::campaigns`).
    CampaignId;
    /// A product's registration in a distributor campaign, a link once approved
    /// (`DistBook::registrations`).
    RegistrationId;
    /// A creator group (`PlusBook::groups`).
    GroupId;
    /// A Collaboration Plus campaign (`PlusBook::campaigns`).
    PlusId;
    /// A creator's participation in a Collaboration Plus (`PlusBook::participants`).
    ParticipantId;
    /// A free sample sent to a creator (`Platform::sample`).
    SampleId;
    /// A live order line's slot in the `OrderBook` (reused once the line is settled or cancelled).
    LineKey;
}
