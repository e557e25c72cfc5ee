//! The actors and things of the simulated market: sellers, products, creators, distributors, content.
//!
//! Agents live in flat vectors indexed by dense ids; the ids are newtypes over `u32` so that a
//! creator id cannot be passed where a product id is meant.

use serde::Serialize;

use crate::money::Money;

macro_rules! dense_id {
    ($(#[$m:meta])* $name:ident, $prefix:literal) => {
        $(#[$m])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub u32);
        impl $name {
            pub fn idx(self) -> usize {
                self.0 as usize
            }
            /// The name a generated agent gets when it has none of its own.
            pub(crate) fn generated_name(self) -> String {
                format!(concat!($prefix, "#{}"), self.0)
            }
        }
    };
}

dense_id!(
    /// A seller (shop).
    SellerId, "seller");
dense_id!(
    /// A product listed by a seller.
    ProductId, "product");
dense_id!(
    /// A creator (affiliate).
    CreatorId, "creator");
dense_id!(
    /// A distributor (分销团长): a third-party matchmaker running distributor campaigns.
    DistributorId, "distributor");

/// A category, interned per scenario (at most 64, so a creator's categories fit a bitmask).
pub type CategoryId = u8;

/// A seller.
#[derive(Clone, Debug)]
pub struct Seller {
    /// Enabled for Collaboration Plus (invitation only, PLUS-1).
    pub plus_enabled: bool,
}

/// Unlimited stock.
pub(crate) const UNLIMITED: u32 = u32::MAX;

/// A product.
#[derive(Clone, Debug)]
pub struct Product {
    pub seller: SellerId,
    pub price: Money,
    pub category: CategoryId,
    /// Eligible for affiliate marketing (SHOP-1, PLUS-8).
    pub eligible: bool,
    /// Units in stock at the start, or [`UNLIMITED`].
    pub(crate) stock: u32,
    /// Relative popularity: the weight with which creators come across this product.
    pub popularity: f64,
}

/// A creator.
#[derive(Clone, Debug)]
pub struct Creator {
    pub followers: u32,
    /// Creator level (1 = entry); used by approval criteria, sample requirements and Plus groups.
    pub level: u8,
    /// Bitmask of [`CategoryId`]s the creator's audience cares about.
    pub categories: u64,
    /// Can go LIVE.
    pub live: bool,
    /// Who the creator's followers are (TARGET-8 filters).
    pub(crate) audience: Audience,
}

/// A creator's audience profile (TARGET-8: sellers filter by follower age and gender).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Audience {
    /// The followers' main age band: an index into [`AGE_BANDS`].
    pub(crate) age: u8,
    /// Share of female followers, in percent (0–100).
    pub(crate) female: u8,
}

/// The follower age bands a seller filters by (seed 004: 粉丝年龄).
pub(crate) const AGE_BANDS: [&str; 4] = ["18-24", "25-34", "35-44", "45+"];

impl Default for Audience {
    /// 25–34, half female.
    fn default() -> Audience {
        Audience { age: 1, female: 50 }
    }
}

impl Creator {
    pub(crate) fn has_category(&self, c: CategoryId) -> bool {
        self.categories & (1u64 << c) != 0
    }
}

/// A distributor.
#[derive(Clone, Debug)]
pub struct Distributor {}

/// The kind of a piece of content.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentKind {
    Video,
    Live,
}

/// Where an order came from: it decides which rate applies (H-5, PLUS-10).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Traffic {
    /// A buyer watching a creator's video.
    Video,
    /// A buyer in a creator's LIVE.
    Live,
    /// A buyer in the creator's showcase.
    Showcase,
    /// A buyer reached by a Shop Ads ad that uses a creator-authorised video.
    Ad,
}

impl Traffic {
    pub fn as_str(self) -> &'static str {
        match self {
            Traffic::Video => "video",
            Traffic::Live => "live",
            Traffic::Showcase => "showcase",
            Traffic::Ad => "ad",
        }
    }
}

/// The agents of one replication: named agents first, then generated populations.
#[derive(Clone, Debug, Default)]
pub struct Agents {
    pub sellers: Vec<Seller>,
    pub products: Vec<Product>,
    pub creators: Vec<Creator>,
    pub distributors: Vec<Distributor>,
    /// Names of the named agents (generated agents have none and use `generated_name`).
    pub names: Names,
}

/// Names given in the scenario file, indexed like the agents they name.
#[derive(Clone, Debug, Default)]
pub struct Names {
    pub sellers: Vec<String>,
    pub products: Vec<String>,
    pub creators: Vec<String>,
    pub distributors: Vec<String>,
}

impl Names {
    pub fn seller(&self, id: SellerId) -> String {
        self.sellers
            .get(id.idx())
            .cloned()
            .unwrap_or_else(|| id.generated_name())
    }
    pub fn product(&self, id: ProductId) -> String {
        self.products
            .get(id.idx())
            .cloned()
            .unwrap_or_else(|| id.generated_name())
    }
    pub fn creator(&self, id: CreatorId) -> String {
        self.creators
            .get(id.idx())
            .cloned()
            .unwrap_or_else(|| id.generated_name())
    }
    pub fn distributor(&self, id: DistributorId) -> String {
        self.distributors
            .get(id.idx())
            .cloned()
            .unwrap_or_else(|| id.generated_name())
    }
}
