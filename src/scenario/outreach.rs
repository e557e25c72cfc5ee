//! Who sellers and distributors reach: distributor networks (DIST-7) and seller Target invitation policies (TARGET-8).

use crate::model::CreatorId;

/// The creators a distributor hands its links to, offline (DIST-7, seed 003 Step 3).
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// `false`: the distributor works with every creator (neither `creators` nor
    /// `network_share` given).
    pub restricted: bool,
    /// Named creators it works with.
    pub creators: Vec<CreatorId>,
    /// Share of generated creators it works with, drawn per replication.
    pub share: f64,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            restricted: false,
            creators: Vec::new(),
            share: 1.0,
        }
    }
}

/// A recommendation reason (TARGET-8, seed 001's "Find creators" page).
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The creator promoted similar products: its showcase holds a product of the category.
    Promoted,
    /// The creator's followers bought similar products: its content sold a product of the
    /// category in the run.
    Bought,
    /// The creator's followers viewed similar products: it posted about a product of the
    /// category in the run.
    Viewed,
    /// The creator's followers' profile matches the seller's customers' profile (seed 001's
    /// fourth reason): the same main age band, and a female share within `profile_tolerance`
    /// points of the customers' (rules::target::CustomerProfile).
    Profile,
}

/// The follower-gender filter (TARGET-8, seed 004: 粉丝性别).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gender {
    #[default]
    Any,
    /// At least half of the followers are female.
    Female,
    /// Fewer than half of the followers are female.
    Male,
}

/// A seller's Target invitation policy (TARGET-8): a behaviour model, run by the simulator
/// (sim/target_policy.rs). Every `every` minutes the seller picks its `products` most popular
/// eligible products, examines `candidates` creators, keeps those that pass the filters and
/// match at least `min_reasons` of `reasons` for the products' categories, and invites the
/// best `creators` of them (most reasons, then most followers, then lowest id), each at the
/// product's base rate + `rate_premium` + `reason_premium` per reason beyond the first
/// (TARGET-9).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetPolicy {
    /// The named seller (`[[target_policies]]`); `None` for generated sellers.
    pub seller: Option<crate::model::SellerId>,
    /// Minutes between reviews; the first is one period after the start.
    pub every: u32,
    pub creators: u32,
    pub candidates: u32,
    pub products: u32,
    pub days: u32,
    pub rate_premium: crate::money::Rate,
    pub reason_premium: crate::money::Rate,
    pub reasons: Vec<Reason>,
    pub min_reasons: u32,
    pub min_followers: u32,
    pub max_followers: u32,
    /// Bitmask of accepted age bands (`model::AGE_BANDS`); 0: any.
    pub ages: u8,
    pub gender: Gender,
    /// `profile`: the largest gap, in percentage points, between the creator's and the
    /// customers' female shares that still matches.
    pub profile_tolerance: u8,
}
