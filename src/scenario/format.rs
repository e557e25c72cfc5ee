//! The scenario file as written: serde structs mirroring the TOML, with spans for validation.
//!
//! Every table denies unknown keys. Values that later checks need to point at are wrapped in
//! [`Spanned`]. Distribution tables are read as [`DistRaw`], keeping the span of each key and
//! value inside them, and checked in validation. `docs/scenario-format.md` documents every key,
//! its unit and its default.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::model::{ContentKind, Traffic};
use crate::money::{Money, Rate, RoundingMode};
use crate::rules::LateRefund;
use crate::scenario::dist::DistRaw;

type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub scenario: S<ScenarioSection>,
    #[serde(default)]
    pub rules: RulesSection,
    #[serde(default)]
    pub sellers: Vec<SellerRaw>,
    #[serde(default)]
    pub products: Vec<ProductRaw>,
    #[serde(default)]
    pub creators: Vec<CreatorRaw>,
    #[serde(default)]
    pub distributors: Vec<DistributorRaw>,
    #[serde(default)]
    pub populations: PopulationsRaw,
    #[serde(default)]
    pub open_plans: Vec<OpenPlanRaw>,
    #[serde(default)]
    pub target_invitations: Vec<S<InvitationRaw>>,
    #[serde(default)]
    pub distributor_campaigns: Vec<S<CampaignRaw>>,
    #[serde(default)]
    pub creator_groups: Vec<GroupRaw>,
    #[serde(default)]
    pub plus_campaigns: Vec<S<PlusRaw>>,
    #[serde(default)]
    pub behaviour: BehaviourRaw,
    #[serde(default)]
    pub script: ScriptRaw,
    #[serde(default)]
    pub seller_policies: Vec<S<SellerPolicyRaw>>,
    #[serde(default)]
    pub target_policies: Vec<S<TargetPolicyRaw>>,
    #[serde(default)]
    pub expect: Vec<S<ExpectRaw>>,
    #[serde(default)]
    pub expect_ledger: Vec<S<ExpectLedgerRaw>>,
    pub expect_invalid: Option<ExpectInvalidRaw>,
    /// Read by `affsim sweep`; other commands run the baseline values written in the file.
    pub sweep: Option<SweepRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRaw {
    #[serde(default)]
    pub parameters: Vec<SweepParamRaw>,
    #[serde(default)]
    pub arms: Vec<SweepArmRaw>,
}

/// A named arm of a sweep: settings by path (checked by `affsim sweep`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepArmRaw {
    pub name: String,
    #[serde(default)]
    pub set: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepParamRaw {
    pub key: String,
    pub values: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSection {
    pub name: S<String>,
    #[serde(default)]
    pub description: String,
    pub region: S<String>,
    pub currency: Option<S<String>>,
    pub minor_unit: Option<S<u32>>,
    pub start: S<String>,
    pub days: S<u32>,
    #[serde(default = "one_u64")]
    pub seed: u64,
    pub replications: Option<S<u32>>,
    /// A reference load run by hand: `affsim check` skips it when walking a folder.
    #[serde(default)]
    pub manual: bool,
}

fn one_u64() -> u64 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesSection {
    #[serde(default)]
    pub rounding: RoundingMode,
    pub after_sales_days: Option<S<u32>>,
    #[serde(default)]
    pub refund_after_settlement: LateRefund,
    #[serde(default)]
    pub open_decrease_lock: bool,
    pub open_decrease_lock_days: Option<S<u32>>,
    pub open_decrease_warning_days: Option<S<u32>>,
    pub sample_post_days: Option<S<u32>>,
    pub sample_extension_days: Option<S<u32>>,
    pub drain: Option<bool>,
    pub distributor_split: Option<SplitRaw>,
    // ---- wt-rules (issue 14): attribution and Plus options
    #[serde(default)]
    pub ad_precedence: crate::rules::attribution::AdPrecedence,
    #[serde(default)]
    pub open_raise_during_plus: crate::rules::OpenRaiseDuringPlus,
    #[serde(default)]
    pub ended_plan_entry: crate::rules::attribution::EndedPlanEntry,
    #[serde(default)]
    pub target_rate_change: crate::rules::target::TargetRateChange,
    #[serde(default)]
    pub registration_edit: crate::rules::changes::RegistrationEdit,
    // ---- end wt-rules
    /// What the Plus service fee is charged by (PLUS-16 model; wt-plus).
    #[serde(default)]
    pub plus_fee_measure: crate::rules::plus::PlusFeeMeasure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitRaw {
    /// The seller sets both parts (DIST-2, the seed's behaviour).
    Seller,
    /// The seller registers a total; the distributor sets the creator's part (H-9).
    Distributor,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerRaw {
    pub id: S<String>,
    #[serde(default)]
    pub plus_enabled: bool,
    pub shop_plan_rate: Option<S<Rate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductRaw {
    pub id: S<String>,
    pub seller: S<String>,
    pub price: S<Money>,
    pub category: Option<S<String>>,
    #[serde(default = "yes")]
    pub affiliate_eligible: bool,
    pub stock: Option<u32>,
    pub popularity: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorRaw {
    pub id: S<String>,
    pub followers: u32,
    pub level: Option<S<u8>>,
    #[serde(default)]
    pub categories: Vec<S<String>>,
    #[serde(default)]
    pub live: bool,
    /// The followers' main age band (TARGET-8).
    pub audience_age: Option<S<String>>,
    /// Share of female followers, 0–1 (TARGET-8).
    pub audience_female: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributorRaw {
    pub id: S<String>,
    /// Named creators the distributor works with (DIST-7).
    pub creators: Option<S<Vec<S<String>>>>,
    /// Share of generated creators the distributor works with (DIST-7).
    pub network_share: Option<S<f64>>,
}

/// A rate range: each value drawn uniformly in 0.01 % steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateRange {
    pub min: S<Rate>,
    pub max: S<Rate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationsRaw {
    pub sellers: Option<S<SellerPopRaw>>,
    pub products: Option<S<ProductPopRaw>>,
    pub creators: Option<S<CreatorPopRaw>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerPopRaw {
    pub count: S<u32>,
    pub shop_plan_share: Option<S<f64>>,
    pub shop_plan_rate: Option<RateRange>,
    pub open_plan_share: Option<S<f64>>,
    pub open_rate: Option<RateRange>,
    pub open_samples: Option<u32>,
    pub plus_enabled_share: Option<S<f64>>,
    pub approval: Option<ApprovalRaw>,
    /// A rate-setting policy for a share of the generated sellers' Open plans.
    pub rate_policy: Option<S<SellerPolicyRaw>>,
    /// A Target invitation policy for a share of the generated sellers (TARGET-8).
    pub target_policy: Option<S<TargetPolicyRaw>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPopRaw {
    pub count: S<u32>,
    pub price: S<DistRaw>,
    #[serde(default)]
    pub categories: Vec<String>,
    pub eligible_share: Option<S<f64>>,
    pub stock: Option<u32>,
    pub zipf_exponent: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorPopRaw {
    pub count: S<u32>,
    pub followers: S<DistRaw>,
    pub level_weights: Option<S<Vec<f64>>>,
    pub categories_per_creator: Option<S<u32>>,
    pub live_share: Option<S<f64>>,
    /// Relative weights of the audience age bands (TARGET-8; issue 14).
    pub audience_age_weights: Option<S<Vec<f64>>>,
    /// The share of female followers, a distribution over 0–1 (TARGET-8; issue 14).
    pub audience_female: Option<S<DistRaw>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenPlanRaw {
    pub id: S<String>,
    pub seller: S<String>,
    #[serde(default)]
    pub products: Vec<S<String>>,
    #[serde(default)]
    pub all_products: bool,
    pub rate: Option<S<Rate>>,
    pub shop_ads_rate: Option<S<Rate>>,
    #[serde(default)]
    pub product_rates: BTreeMap<String, S<Rate>>,
    #[serde(default)]
    pub groups: Vec<OpenGroupRaw>,
    pub approval: Option<ApprovalRaw>,
    pub samples: Option<SamplesRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenGroupRaw {
    pub products: Vec<S<String>>,
    pub rate: S<Rate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRaw {
    #[serde(default)]
    pub policy: ApprovalPolicyRaw,
    pub probability: Option<S<f64>>,
    pub min_followers: Option<S<u32>>,
    pub min_level: Option<S<u8>>,
    pub delay: Option<S<DistRaw>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicyRaw {
    #[default]
    Auto,
    Probability,
    Criteria,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplesRaw {
    pub quantity: u32,
    #[serde(default)]
    pub min_followers: u32,
    #[serde(default)]
    pub min_level: u8,
    pub min_fulfilment: Option<S<f64>>,
    pub shipping_delay: Option<S<DistRaw>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationRaw {
    pub id: S<String>,
    pub seller: S<String>,
    pub creators: S<Vec<S<String>>>,
    pub products: S<Vec<TargetProductRaw>>,
    pub sent: S<String>,
    pub days: S<u32>,
    pub content: Option<S<Vec<ContentKind>>>,
    #[serde(default)]
    pub message: String,
    pub fee: Option<S<FeeRaw>>,
    pub flat_fee: Option<S<Money>>,
    pub review: Option<S<crate::rules::target::Reviewer>>,
    pub submit_days: Option<S<u32>>,
    pub flash_sale: Option<S<bool>>,
    pub authorise_ads: Option<S<bool>>,
    #[serde(default)]
    pub scripted: bool,
    /// Rates set for each creator (TARGET-9), over the products' rates.
    #[serde(default)]
    pub creator_rates: Vec<CreatorRateRaw>,
}

/// `[[target_invitations.creator_rates]]`: a rate for one creator, on one product or on all of
/// the invitation's products (TARGET-9).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorRateRaw {
    pub creator: S<String>,
    pub product: Option<S<String>>,
    pub rate: S<Rate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRaw {
    pub id: S<String>,
    pub seller: S<String>,
    #[serde(default)]
    pub categories: Vec<S<String>>,
    pub min_level: Option<u8>,
    pub max_level: Option<u8>,
    pub min_followers: Option<u32>,
    pub max_followers: Option<u32>,
    #[serde(default)]
    pub live_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlusTypeRaw {
    Task,
    Challenge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyRaw {
    AsGiven,
    Budget,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskRaw {
    #[serde(default = "any_content")]
    pub content: crate::rules::plus::ContentFilter,
    pub objective: crate::rules::plus::Objective,
    pub target: S<String>,
}

fn any_content() -> crate::rules::plus::ContentFilter {
    crate::rules::plus::ContentFilter::Any
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlusRaw {
    pub id: S<String>,
    pub seller: S<String>,
    #[serde(rename = "type")]
    pub kind: PlusTypeRaw,
    pub group: S<String>,
    pub products: S<Vec<S<String>>>,
    pub confirmed: S<String>,
    pub paid: Option<S<String>>,
    pub start: S<String>,
    pub end: S<String>,
    pub budget: S<Money>,
    pub service_fee: S<Money>,
    pub rate: Option<S<Rate>>,
    pub shop_ads_rate: Option<S<Rate>>,
    /// Free samples per selected product (PLUS-21): one count for each, or a table by product.
    pub samples: Option<S<PlusSamplesRaw>>,
    /// The Step 1 toggle prompting joining creators to authorise their videos for ads (PLUS-22).
    #[serde(default)]
    pub ads_prompt: bool,
    pub policy: Option<PolicyRaw>,
    pub max_creators: Option<u32>,
    pub refund_days: Option<S<u32>>,
    #[serde(default)]
    pub scripted: bool,
    pub reward: Option<S<Money>>,
    #[serde(default)]
    pub tasks: Vec<TaskRaw>,
    pub objective: Option<S<crate::rules::plus::Objective>>,
    pub content: Option<crate::rules::plus::ContentFilter>,
    #[serde(default)]
    pub rank_rewards: Vec<S<Money>>,
    pub min_value: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlusBehaviourRaw {
    pub join_probability: Option<S<f64>>,
    pub join_delay: Option<S<DistRaw>>,
    pub sample_request_probability: Option<S<f64>>,
    pub risk_cancel_probability: Option<S<f64>>,
    pub prompted_authorise_probability: Option<S<f64>>,
}

/// A Plus collaboration's `samples` (PLUS-21): `samples = 5` sets 5 for each selected product,
/// `samples = { serum = 5, lipstick = 2 }` a quantity per product (products not named get none).
#[derive(Debug, Clone, PartialEq)]
pub enum PlusSamplesRaw {
    Each(u32),
    PerProduct(Vec<(String, u32)>),
}

impl<'de> Deserialize<'de> for PlusSamplesRaw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PlusSamplesRaw;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a count for each product (e.g. 5) or a table of counts by product (e.g. { serum = 5 })",
                )
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<PlusSamplesRaw, E> {
                u32::try_from(n)
                    .map(PlusSamplesRaw::Each)
                    .map_err(|_| E::custom(format!("a sample count must be 0 or more, not {n}")))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<PlusSamplesRaw, E> {
                u32::try_from(n)
                    .map(PlusSamplesRaw::Each)
                    .map_err(|_| E::custom(format!("sample count {n} is too large")))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<PlusSamplesRaw, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    out.push((k, m.next_value::<u32>()?));
                }
                Ok(PlusSamplesRaw::PerProduct(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlusActRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub creator: Option<S<String>>,
    /// Sample requests only: the product requested (PLUS-21).
    pub product: Option<S<String>>,
    /// Joins only, in a collaboration with `ads_prompt`: the creator's answer (PLUS-22).
    pub authorises_ads: Option<S<bool>>,
    /// Edits only: new Plus rates (allowed before confirmation, PLUS-15).
    pub rate: Option<S<Rate>>,
    pub shop_ads_rate: Option<S<Rate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRaw {
    pub id: S<String>,
    pub distributor: S<String>,
    pub sellers: Option<S<Vec<S<String>>>>,
    #[serde(default)]
    pub open_to_all: bool,
    pub registration_start: S<String>,
    pub registration_end: S<String>,
    pub promotion_start: S<String>,
    pub promotion_end: S<String>,
    pub min_creator_rate: S<Rate>,
    pub min_distributor_rate: S<Rate>,
    pub notice_days: Option<S<u32>>,
    #[serde(default)]
    pub scripted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeeRaw {
    Commission,
    Flat,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetProductRaw {
    pub product: S<String>,
    pub rate: S<Rate>,
    pub shop_ads_rate: Option<S<Rate>>,
    pub sample: Option<crate::rules::target::SampleOffer>,
    pub sales_goal: Option<S<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourRaw {
    #[serde(default)]
    pub target: TargetBehaviourRaw,
    #[serde(default)]
    pub distributors: DistributorBehaviourRaw,
    #[serde(default)]
    pub plus: PlusBehaviourRaw,
    #[serde(default)]
    pub creators: CreatorBehaviourRaw,
    #[serde(default)]
    pub buyers: BuyerBehaviourRaw,
    #[serde(default)]
    pub orders: OrderBehaviourRaw,
    #[serde(default)]
    pub incentives: IncentiveBehaviourRaw,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncentiveBehaviourRaw {
    pub enabled: Option<bool>,
    pub earnings_weight: Option<S<f64>>,
    pub post_elasticity: Option<S<f64>>,
    pub max_intensity: Option<S<f64>>,
    pub active_share: Option<S<f64>>,
    pub participation_weight: Option<S<f64>>,
    pub review_days: Option<S<f64>>,
    pub reference_rate: Option<S<Rate>>,
    pub outside_sigma: Option<S<f64>>,
    pub plus_posts: Option<S<f64>>,
    pub sample_value: Option<S<f64>>,
    pub video_effort: Option<S<Money>>,
    pub live_effort: Option<S<Money>>,
    pub drop_weight: Option<S<f64>>,
    pub replace_margin: Option<S<f64>>,
    #[serde(default)]
    pub uncertainty: UncertaintyRaw,
}

/// `[behaviour.incentives.uncertainty]`: per response parameter, a range `[low, high]` drawn
/// uniformly once per replication (docs/behaviour.md, "Parameter uncertainty").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncertaintyRaw {
    pub earnings_weight: Option<S<Vec<f64>>>,
    pub post_elasticity: Option<S<Vec<f64>>>,
    pub participation_weight: Option<S<Vec<f64>>>,
    pub active_share: Option<S<Vec<f64>>>,
    pub outside_sigma: Option<S<Vec<f64>>>,
    pub sample_value: Option<S<Vec<f64>>>,
    pub price_elasticity: Option<S<Vec<f64>>>,
    pub saturation_exponent: Option<S<Vec<f64>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributorBehaviourRaw {
    pub register_probability: Option<S<f64>>,
    pub extra_creator_rate: Option<S<Rate>>,
    pub register_delay: Option<S<DistRaw>>,
    pub approve_probability: Option<S<f64>>,
    pub review_delay: Option<S<DistRaw>>,
    pub link_probability: Option<S<f64>>,
    pub lower_link_choice: Option<crate::rules::distributor::LowerLinkChoice>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetBehaviourRaw {
    pub accept_probability: Option<S<f64>>,
    pub accept_delay: Option<S<DistRaw>>,
    pub video_probability: Option<S<f64>>,
    pub video_delay: Option<S<DistRaw>>,
    pub approval_probability: Option<S<f64>>,
    pub review_delay: Option<S<DistRaw>>,
    pub seller_approval_probability: Option<S<f64>>,
    pub seller_review_delay: Option<S<DistRaw>>,
    pub platform_approval_probability: Option<S<f64>>,
    pub platform_review_delay: Option<S<DistRaw>>,
    #[serde(default)]
    pub approved_video_posts: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatorBehaviourRaw {
    pub actions_per_day: Option<S<f64>>,
    pub explore_probability: Option<S<f64>>,
    pub max_products: Option<u32>,
    pub candidates: Option<u32>,
    pub commission_weight: Option<S<f64>>,
    pub fit_weight: Option<S<f64>>,
    pub live_probability: Option<S<f64>>,
    pub authorise_probability: Option<S<f64>>,
    pub sample_request_probability: Option<S<f64>>,
    pub sample_post_probability: Option<S<f64>>,
    pub sample_extension_probability: Option<S<f64>>,
    pub ended_entries: Option<crate::scenario::EndedEntries>,
    pub refused_applications: Option<crate::scenario::RefusedApplications>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerBehaviourRaw {
    pub views_per_follower: Option<S<f64>>,
    pub live_views_per_follower: Option<S<f64>>,
    pub views_sigma: Option<S<f64>>,
    pub conversion_rate: Option<S<f64>>,
    pub live_conversion_rate: Option<S<f64>>,
    pub fit_multiplier: Option<S<f64>>,
    pub order_half_life_days: Option<S<f64>>,
    pub live_hours: Option<S<f64>>,
    pub quantity_weights: Option<S<Vec<f64>>>,
    pub ad_share: Option<S<f64>>,
    pub showcase_share: Option<S<f64>>,
    pub seller_coupon_probability: Option<S<f64>>,
    pub seller_coupon: Option<S<Rate>>,
    pub platform_coupon_probability: Option<S<f64>>,
    pub platform_coupon: Option<S<Rate>>,
    pub shipping: Option<S<Money>>,
    pub follower_exponent: Option<S<f64>>,
    pub saturation_k: Option<S<f64>>,
    pub saturation_exponent: Option<S<f64>>,
    pub price_elasticity: Option<S<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderBehaviourRaw {
    pub cancel_probability: Option<S<f64>>,
    pub cancel_delay: Option<S<DistRaw>>,
    pub ship_delay: Option<S<DistRaw>>,
    pub delivery_delay: Option<S<DistRaw>>,
    pub return_probability: Option<S<f64>>,
    pub partial_return_share: Option<S<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptRaw {
    #[serde(default)]
    pub rate_changes: Vec<RateChangeRaw>,
    #[serde(default)]
    pub applications: Vec<ActRaw>,
    #[serde(default)]
    pub showcase_adds: Vec<ActRaw>,
    #[serde(default)]
    pub sample_requests: Vec<ActRaw>,
    #[serde(default)]
    pub posts: Vec<PostRaw>,
    #[serde(default)]
    pub orders: Vec<OrderRaw>,
    #[serde(default)]
    pub returns: Vec<ReturnRaw>,
    #[serde(default)]
    pub target_responses: Vec<TargetResponseRaw>,
    #[serde(default)]
    pub video_submissions: Vec<TargetActRaw>,
    #[serde(default)]
    pub video_reviews: Vec<TargetResponseRaw>,
    #[serde(default)]
    pub registrations: Vec<RegistrationRaw>,
    #[serde(default)]
    pub registration_reviews: Vec<RegistrationReviewRaw>,
    #[serde(default)]
    pub link_adds: Vec<LinkAddRaw>,
    #[serde(default)]
    pub terminations: Vec<TerminationRaw>,
    /// A seller lifts its temporary termination (DIST-8): `at`, `campaign`, `seller`.
    #[serde(default)]
    pub resumptions: Vec<TerminationRaw>,
    #[serde(default)]
    pub campaign_edits: Vec<CampaignEditRaw>,
    #[serde(default)]
    pub target_rate_changes: Vec<TargetRateChangeRaw>,
    #[serde(default)]
    pub plus_joins: Vec<PlusActRaw>,
    #[serde(default)]
    pub plus_sample_requests: Vec<PlusActRaw>,
    #[serde(default)]
    pub plus_edits: Vec<PlusActRaw>,
    #[serde(default)]
    pub plus_cancellations: Vec<PlusActRaw>,
    /// A seller edits a registration's parts (issue 14, `rules.registration_edit`).
    #[serde(default)]
    pub registration_edits: Vec<RegistrationRaw>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub product: S<String>,
    pub creator_rate: Option<S<Rate>>,
    pub distributor_rate: Option<S<Rate>>,
    pub total_rate: Option<S<Rate>>,
    pub shop_ads_rate: Option<S<Rate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationReviewRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub product: S<String>,
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
    pub creator_rate: Option<S<Rate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkAddRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub creator: S<String>,
    pub product: S<String>,
    pub choice: Option<crate::rules::distributor::LowerLinkChoice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerminationRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub seller: S<String>,
    /// A temporary termination (DIST-8) ends then.
    pub until: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignEditRaw {
    pub at: S<String>,
    pub campaign: S<String>,
    pub promotion_start: Option<S<String>>,
    /// New minimum parts (DIST-2, H-9): for later registrations.
    pub min_creator_rate: Option<S<Rate>>,
    pub min_distributor_rate: Option<S<Rate>>,
}

/// `[[script.target_rate_changes]]`: a seller changes a Target invitation's rate mid-campaign
/// (issue 14): on one product or all, for one creator or all.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRateChangeRaw {
    pub at: S<String>,
    pub invitation: S<String>,
    pub product: Option<S<String>>,
    pub creator: Option<S<String>>,
    pub rate: S<Rate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetResponseRaw {
    pub at: S<String>,
    pub invitation: S<String>,
    pub creator: S<String>,
    /// `accept` for responses, `approve` for reviews.
    pub accept: Option<bool>,
    pub approve: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetActRaw {
    pub at: S<String>,
    pub invitation: S<String>,
    pub creator: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChangeRaw {
    pub at: S<String>,
    pub plan: Option<S<String>>,
    pub product: Option<S<String>>,
    pub seller: Option<S<String>>,
    /// Required unless `by` is given.
    pub rate: Option<S<Rate>>,
    #[serde(default)]
    pub shop_ads: bool,
    /// Every generated plan of a kind: `"open"`, `"shop"` or `"target"` (issue 14).
    pub generated: Option<S<String>>,
    /// With `generated`: only plans with a product of this category.
    pub category: Option<S<String>>,
    /// With `generated`: a relative change in rate points (e.g. `"-1.5%"`) instead of `rate`.
    pub by: Option<S<Rate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActRaw {
    pub at: S<String>,
    pub creator: S<String>,
    pub product: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostRaw {
    pub at: S<String>,
    pub creator: S<String>,
    pub product: S<String>,
    pub kind: Option<ContentKind>,
    #[serde(default)]
    pub authorised: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRaw {
    pub id: S<String>,
    pub at: S<String>,
    pub creator: S<String>,
    pub product: S<String>,
    pub quantity: Option<S<u32>>,
    pub traffic: Option<Traffic>,
    #[serde(default)]
    pub authorised: bool,
    pub target_video: Option<S<String>>,
    pub seller_coupon: Option<S<Money>>,
    pub platform_coupon: Option<S<Money>>,
    pub shipping: Option<S<Money>>,
    pub shipped: Option<S<String>>,
    pub delivered: Option<S<String>>,
    pub cancelled: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRaw {
    pub at: S<String>,
    pub order: S<String>,
    pub quantity: Option<S<u32>>,
    pub amount: Option<S<Money>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRaw {
    pub metric: Option<S<String>>,
    pub order: Option<S<String>>,
    pub field: Option<S<String>>,
    pub account: Option<S<String>>,
    pub refusal: Option<S<String>>,
    pub fired: Option<S<String>>,
    pub plus: Option<S<String>>,
    pub creator: Option<S<String>>,
    pub equals: Option<S<String>>,
    pub min: Option<S<String>>,
    pub max: Option<S<String>>,
    pub mean_min: Option<S<String>>,
    pub mean_max: Option<S<String>>,
    pub count: Option<u64>,
    /// With `refusal`: only refusals whose message contains this text are counted.
    pub message: Option<S<String>>,
    #[serde(default)]
    pub note: String,
}

/// `[[expect_ledger]]`: ledger entries expected (or not) of a kind, accounts, amount and time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectLedgerRaw {
    pub kind: S<String>,
    pub from: Option<S<String>>,
    pub to: Option<S<String>>,
    pub amount: Option<S<Money>>,
    pub at: Option<S<String>>,
    pub between: Option<S<Vec<S<String>>>>,
    pub count: Option<S<u64>>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectInvalidRaw {
    pub rule: Option<String>,
    pub message: Option<String>,
    pub line: Option<usize>,
}

/// `[[seller_policies]]`: a seller's rate-setting policy for one of its Open plans
/// (docs/scenario-format.md, docs/behaviour.md "Seller policies").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerPolicyRaw {
    /// `[[seller_policies]]` only: the Open plan (or `seller`).
    pub plan: Option<S<String>>,
    /// `[[seller_policies]]` only: the seller whose plans of the `plans` kinds it sets.
    pub seller: Option<S<String>>,
    /// The plan kinds it sets: `"open"`, `"shop"`, `"target"`, `"distributor"`, `"plus"`
    /// (default `["open"]`; issue 14).
    pub plans: Option<S<Vec<S<String>>>>,
    /// `[populations.sellers] rate_policy` only: the share of generated Open plans it sets.
    pub share: Option<S<f64>>,
    pub policy: S<String>,
    pub every_days: Option<S<f64>>,
    pub min_rate: Option<S<Rate>>,
    pub max_rate: Option<S<Rate>>,
    pub step: Option<S<Rate>>,
    pub target_return: Option<S<f64>>,
    pub follow: Option<S<String>>,
}

/// `[[target_policies]]` and `[populations.sellers] target_policy`: how a seller chooses whom
/// to invite to a Target collaboration (TARGET-8; docs/scenario-format.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetPolicyRaw {
    /// `[[target_policies]]` only (required there).
    pub seller: Option<S<String>>,
    /// `[populations.sellers] target_policy` only: the share of generated sellers it applies to.
    pub share: Option<S<f64>>,
    pub every_days: Option<S<f64>>,
    pub creators: Option<S<u32>>,
    pub candidates: Option<S<u32>>,
    pub products: Option<S<u32>>,
    pub days: Option<S<u32>>,
    pub rate_premium: Option<S<Rate>>,
    pub reason_premium: Option<S<Rate>>,
    pub reasons: Option<S<Vec<crate::scenario::outreach::Reason>>>,
    pub min_reasons: Option<S<u32>>,
    pub min_followers: Option<u32>,
    pub max_followers: Option<u32>,
    pub audience_age: Option<S<Vec<S<String>>>>,
    pub audience_gender: Option<crate::scenario::outreach::Gender>,
    /// The `profile` reason's tolerance on the female share (percentage points, issue 14).
    pub profile_tolerance: Option<S<u32>>,
}
