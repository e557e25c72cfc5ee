//! Scenario files: parsing, validation with precise spans, and the resolved [`Scenario`].
//!
//! `format` mirrors the TOML; [`load`] and [`parse`] check it and resolve names to dense ids,
//! producing a [`Scenario`] the simulator runs. Every problem is reported with file, line,
//! column and, where one applies, the rule ID.

pub mod builtin;
pub mod dist;
pub mod error;
pub mod format;
pub mod outreach;
pub mod source;
mod validate;

use std::path::Path;

use serde::Serialize;

use crate::metrics::{EndMetric, Metric};
use crate::model::{ContentKind, CreatorId, ProductId, SellerId, Traffic};
use crate::money::{Money, Rate};
use crate::rules::RuleOptions;
use crate::rules::catalogue::RuleId;
use crate::rules::ids::{CampaignId, InvitationId, OpenPlanId, PlusId};
use crate::rules::plans::SampleTerms;
use crate::time::{Calendar, SimTime};

pub use dist::Dist;
pub use error::ScenarioError;

/// The built-in demo scenario: every implemented plan type, a few scripted events, behaviour.
pub const DEMO: &str = include_str!("../../scenarios/demo.toml");
/// The name under which the demo's errors are reported.
pub const DEMO_NAME: &str = "<built-in demo>";

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, Vec<ScenarioError>> {
    load_source(path).map(|(sc, _)| sc)
}

/// Reads and validates a scenario file, and returns its text too (a shard's partial result
/// carries it, so that `affsim merge` re-creates exactly the scenario that ran).
pub fn load_source(path: &Path) -> Result<(Scenario, String), Vec<ScenarioError>> {
    let file = path.display().to_string();
    let src = source::read(path).map_err(|e| vec![e])?;
    parse(&file, &src).map(|sc| (sc, src))
}

/// Validates scenario source text; `file` names it in errors.
pub fn parse(file: &str, src: &str) -> Result<Scenario, Vec<ScenarioError>> {
    validate::parse(file, src)
}

/// Reads only the `[expect_invalid]` table of a file that may not validate.
pub fn expected_rejection(src: &str) -> Option<ExpectInvalid> {
    validate::expected_rejection(src)
}

/// A region's currency and settlement period (SETTLE-2, H-10).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Region {
    pub code: String,
    pub currency: String,
    pub minor_unit: u32,
}

/// A validated scenario, with names resolved to dense ids. Named agents take the first ids;
/// generated populations follow them.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub file: String,
    pub region: Region,
    pub calendar: Calendar,
    pub days: u32,
    pub seed: u64,
    pub replications: u32,
    pub opts: RuleOptions,
    /// Run settlements and other follow-ups after the last day (no new demand).
    pub drain: bool,
    pub categories: Vec<String>,
    pub named: Named,
    pub populations: Populations,
    pub open_plans: Vec<OpenPlanSpec>,
    pub invitations: Vec<crate::rules::target::Invitation>,
    pub campaigns: Vec<CampaignSpec>,
    pub groups: Vec<crate::rules::plus::CreatorGroup>,
    pub plus: Vec<crate::rules::plus::PlusCampaign>,
    pub behaviour: Behaviour,
    pub script: Vec<Scripted>,
    /// Sellers' rate-setting policies (`[[seller_policies]]`, sim/seller_policy.rs).
    pub seller_policies: Vec<SellerPolicy>,
    /// Per named distributor, the creators it hands its links to (DIST-7).
    pub networks: Vec<outreach::Network>,
    /// Named sellers' Target invitation policies (`[[target_policies]]`, TARGET-8).
    pub target_policies: Vec<outreach::TargetPolicy>,
    pub orders: Vec<ScriptOrder>,
    pub expectations: Vec<Expectation>,
    /// Problems worth a warning that do not stop the run (e.g. TARGET-7 stock).
    pub warnings: Vec<ScenarioError>,
}

/// Agents named in the file.
#[derive(Clone, Debug, Default)]
pub struct Named {
    pub sellers: Vec<SellerSpec>,
    pub products: Vec<ProductSpec>,
    pub creators: Vec<CreatorSpec>,
    pub distributors: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct SellerSpec {
    pub name: String,
    pub plus_enabled: bool,
    pub shop_plan_rate: Option<Rate>,
}

#[derive(Clone, Debug)]
pub struct ProductSpec {
    pub name: String,
    pub seller: SellerId,
    pub price: Money,
    pub category: u8,
    pub eligible: bool,
    pub stock: u32,
    pub popularity: f64,
}

#[derive(Clone, Debug)]
pub struct CreatorSpec {
    pub name: String,
    pub followers: u32,
    pub level: u8,
    pub categories: u64,
    pub live: bool,
    /// `audience_age`, `audience_female` (TARGET-8).
    pub audience: crate::model::Audience,
}

/// Synthetic populations, drawn per replication.
#[derive(Clone, Debug, Default)]
pub struct Populations {
    pub sellers: Option<SellerPop>,
    pub products: Option<ProductPop>,
    pub creators: Option<CreatorPop>,
}

#[derive(Clone, Debug)]
pub struct SellerPop {
    pub count: u32,
    pub shop_plan_share: f64,
    pub shop_plan_rate: (Rate, Rate),
    pub open_plan_share: f64,
    pub open_rate: (Rate, Rate),
    pub open_samples: u32,
    pub plus_enabled_share: f64,
    pub approval: Approval,
    /// `rate_policy`: the share of generated Open plans whose rates a policy sets, and the
    /// policy (its `plan` is filled in per replication, sim/seller_policy.rs).
    pub rate_policy: Option<(f64, SellerPolicy)>,
    /// `target_policy`: the share of generated sellers that invite creators to Target
    /// collaborations by a policy (TARGET-8), and the policy.
    pub target_policy: Option<(f64, outreach::TargetPolicy)>,
}

#[derive(Clone, Debug)]
pub struct ProductPop {
    pub count: u32,
    pub price: Dist,
    pub categories: Vec<u8>,
    pub eligible_share: f64,
    pub stock: u32,
    pub zipf_exponent: f64,
}

#[derive(Clone, Debug)]
pub struct CreatorPop {
    pub count: u32,
    pub followers: Dist,
    pub level_weights: Vec<f64>,
    pub categories_per_creator: u32,
    pub live_share: f64,
    /// Weights of the audience age bands (`model::AGE_BANDS`); `None`: uniform (TARGET-8).
    pub audience_age_weights: Option<Vec<f64>>,
    /// The share of female followers (0–1, kept in whole percent); `None`: uniform (TARGET-8).
    pub audience_female: Option<Dist>,
}

/// How a seller decides Open applications (OPEN-2 model).
#[derive(Clone, Debug, PartialEq)]
pub struct Approval {
    pub policy: ApprovalPolicy,
    /// Days from application to decision.
    pub delay: Dist,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ApprovalPolicy {
    /// Approve every application.
    Auto,
    /// Approve with a probability.
    Probability(f64),
    /// Approve creators meeting minimum followers and level.
    Criteria { min_followers: u32, min_level: u8 },
}

impl Default for Approval {
    fn default() -> Approval {
        Approval {
            policy: ApprovalPolicy::Auto,
            delay: Dist::fixed(0.0),
        }
    }
}

/// An Open plan as the scenario defines it (OPEN-1).
#[derive(Clone, Debug)]
pub struct OpenPlanSpec {
    pub name: String,
    pub seller: SellerId,
    /// Products and their rates (per product, per group or the plan's rate).
    pub listings: Vec<(ProductId, Rate)>,
    pub shop_ads_rate: Option<Rate>,
    pub approval: Approval,
    pub samples: Option<(SampleTerms, Dist)>,
}

/// Behaviour models: what agents choose. Units are in each field's doc.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviour {
    pub target: TargetBehaviour,
    pub distributors: DistributorBehaviour,
    pub plus: PlusBehaviour,
    pub creators: CreatorBehaviour,
    pub buyers: BuyerBehaviour,
    pub orders: OrderBehaviour,
    /// How creators and buyers respond to money (`[behaviour.incentives]`, docs/behaviour.md).
    pub incentives: IncentiveBehaviour,
}

/// The incentive-response model (docs/behaviour.md): creators choose by expected earnings per
/// post against an outside option; buyers saturate and respond to price. Off, the fixed
/// probabilities of the other behaviour tables apply as before.
#[derive(Clone, Debug, PartialEq)]
pub struct IncentiveBehaviour {
    pub enabled: bool,
    /// β: logit weight of ln(expected earnings per post ÷ outside option) in every choice.
    pub earnings_weight: f64,
    /// ε: elasticity of a creator's actions per day to its best expected earnings per post.
    pub post_elasticity: f64,
    /// Bounds of the intensive multiplier (E*/O)^ε: [1/max, max].
    pub max_intensity: f64,
    /// Share of creators active when their best expected earnings equal their outside option.
    pub active_share: f64,
    /// κ: logit weight of ln(E*/O) in the active/idle decision.
    pub participation_weight: f64,
    /// Days between a creator's active/idle re-evaluations.
    pub review_days: f64,
    /// The commission rate the outside option is worth, per post, on the market's median price.
    pub reference_rate: Rate,
    /// Log-space standard deviation of the outside option across creators.
    pub outside_sigma: f64,
    /// Expected Task finishing probability floor / Challenge: posts a participant expects to make.
    pub plus_posts: f64,
    /// Value of a free sample to the creator, as a share of the product's price.
    pub sample_value: f64,
    /// The effort a video takes, in money per post, subtracted from its expected earnings
    /// wherever they are compared with the outside option.
    pub video_effort: crate::money::Money,
    /// The effort a LIVE takes, in money per LIVE.
    pub live_effort: crate::money::Money,
    /// δ: a showcase product whose terms fell to a share ρ of those it was added on is kept at
    /// a post with probability ρ^δ (dropped otherwise).
    pub drop_weight: f64,
    /// A search in a full showcase replaces the entry earning least per post when the product
    /// found earns more than (1 + this) times as much.
    pub replace_margin: f64,
    /// Parameters drawn per replication from a range (`[behaviour.incentives.uncertainty]`):
    /// (parameter, low, high), in [`UncertainParam::ALL`] order; empty without uncertainty.
    pub uncertainty: Vec<(UncertainParam, f64, f64)>,
}

/// A response parameter that `[behaviour.incentives.uncertainty]` can draw per replication.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum UncertainParam {
    EarningsWeight,
    PostElasticity,
    ParticipationWeight,
    ActiveShare,
    OutsideSigma,
    SampleValue,
    PriceElasticity,
    SaturationExponent,
}

impl UncertainParam {
    /// Every parameter, in the fixed order of the draws (each takes one draw whether or not it
    /// is uncertain, so adding a range never moves another parameter's draw).
    pub const ALL: [UncertainParam; 8] = [
        UncertainParam::EarningsWeight,
        UncertainParam::PostElasticity,
        UncertainParam::ParticipationWeight,
        UncertainParam::ActiveShare,
        UncertainParam::OutsideSigma,
        UncertainParam::SampleValue,
        UncertainParam::PriceElasticity,
        UncertainParam::SaturationExponent,
    ];

    /// The scenario key under `[behaviour.incentives.uncertainty]`.
    pub fn key(self) -> &'static str {
        match self {
            UncertainParam::EarningsWeight => "earnings_weight",
            UncertainParam::PostElasticity => "post_elasticity",
            UncertainParam::ParticipationWeight => "participation_weight",
            UncertainParam::ActiveShare => "active_share",
            UncertainParam::OutsideSigma => "outside_sigma",
            UncertainParam::SampleValue => "sample_value",
            UncertainParam::PriceElasticity => "price_elasticity",
            UncertainParam::SaturationExponent => "saturation_exponent",
        }
    }

    /// The values the parameter may take (the same bounds as its own key).
    pub fn bounds(self) -> (f64, f64) {
        match self {
            UncertainParam::EarningsWeight | UncertainParam::ParticipationWeight => (0.0, 20.0),
            UncertainParam::PostElasticity
            | UncertainParam::OutsideSigma
            | UncertainParam::SaturationExponent => (0.0, 5.0),
            UncertainParam::ActiveShare => (0.0, 1.0),
            UncertainParam::SampleValue => (0.0, 10.0),
            UncertainParam::PriceElasticity => (-20.0, 0.0),
        }
    }
}

impl IncentiveBehaviour {
    /// The model switched off (legacy fixed probabilities).
    pub fn off() -> IncentiveBehaviour {
        IncentiveBehaviour {
            enabled: false,
            ..IncentiveBehaviour::default()
        }
    }
}

/// `[behaviour.incentives]` when a key is absent: on, with these values.
impl Default for IncentiveBehaviour {
    fn default() -> IncentiveBehaviour {
        IncentiveBehaviour {
            enabled: true,
            earnings_weight: 1.0,
            post_elasticity: 0.5,
            max_intensity: 10.0,
            active_share: 0.8,
            participation_weight: 1.0,
            review_days: 7.0,
            reference_rate: Rate(rust_decimal::Decimal::TEN),
            outside_sigma: 0.5,
            plus_posts: 3.0,
            sample_value: 0.5,
            video_effort: crate::money::Money::ZERO,
            live_effort: crate::money::Money::ZERO,
            drop_weight: 1.0,
            replace_margin: 0.25,
            uncertainty: Vec::new(),
        }
    }
}

/// How selected creators and the platform's risk control act in Collaboration Plus.
#[derive(Clone, Debug, PartialEq)]
pub struct PlusBehaviour {
    /// Probability that a selected creator joins.
    pub join_probability: f64,
    /// Days from the start to joining.
    pub join_delay: Dist,
    /// Probability that a participant requests a free sample (PLUS-14).
    pub sample_request_probability: f64,
    /// Probability that risk control cancels a reward (PLUS-18 model).
    pub risk_cancel_probability: f64,
    /// Probability that a creator joining a collaboration with `ads_prompt` authorises its
    /// videos for ads at the prompt (PLUS-22 model).
    pub prompted_authorise_probability: f64,
}

/// `[behaviour.plus]` when a key is absent.
impl Default for PlusBehaviour {
    fn default() -> PlusBehaviour {
        PlusBehaviour {
            join_probability: 0.7,
            join_delay: Dist::uniform(0.0, 2.0),
            sample_request_probability: 0.5,
            risk_cancel_probability: 0.0,
            prompted_authorise_probability: 0.6,
        }
    }
}

/// A distributor campaign as the scenario defines it (DIST-1).
#[derive(Clone, Debug, PartialEq)]
pub struct CampaignSpec {
    pub campaign: crate::rules::distributor::Campaign,
    /// Driven only by the script: no behavioural registrations or reviews.
    pub scripted: bool,
}

/// How sellers, distributors and creators act around distributor campaigns.
#[derive(Clone, Debug, PartialEq)]
pub struct DistributorBehaviour {
    /// Probability that a seller registers each eligible product when registration opens.
    pub register_probability: f64,
    /// Creator part above the campaign's minimum that sellers offer.
    pub extra_creator_rate: Rate,
    /// Days from registration opening to a registration.
    pub register_delay: Dist,
    /// Probability that the distributor approves a registration (DIST-3).
    pub approve_probability: f64,
    /// Days from registration to review.
    pub review_delay: Dist,
    /// Probability that a creator's product search picks up a distributor link instead.
    pub link_probability: f64,
    /// What a creator does after the lower-commission warning (DIST-4 model).
    pub lower_link_choice: crate::rules::distributor::LowerLinkChoice,
}

/// `[behaviour.distributors]` when a key is absent.
impl Default for DistributorBehaviour {
    fn default() -> DistributorBehaviour {
        DistributorBehaviour {
            register_probability: 0.5,
            extra_creator_rate: Rate::ZERO,
            register_delay: Dist::uniform(0.0, 2.0),
            approve_probability: 0.8,
            review_delay: Dist::uniform(0.0, 1.0),
            link_probability: 0.2,
            lower_link_choice: crate::rules::distributor::LowerLinkChoice::default(),
        }
    }
}

/// How invited creators, reviewers and sellers act in Target collaborations (TARGET-2 model).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetBehaviour {
    /// Probability that an invited creator accepts.
    pub accept_probability: f64,
    /// Days from invitation to answer.
    pub accept_delay: Dist,
    /// Probability that a creator submits each flat-fee video (first or revised) in time.
    pub video_probability: f64,
    /// Days from acceptance (or rejection) to submission.
    pub video_delay: Dist,
    /// How the seller reviews the videos of invitations with `review = "seller"` (TARGET-4 model).
    pub seller_review: Review,
    /// How the platform reviews the videos of invitations with `review = "platform"`.
    pub platform_review: Review,
    /// An approved flat-fee video is posted and brings orders (TARGET-4 model; off by default).
    pub approved_video_posts: bool,
}

/// `[behaviour.target]` when a key is absent (each reviewer: the shared review settings).
impl Default for TargetBehaviour {
    fn default() -> TargetBehaviour {
        TargetBehaviour {
            accept_probability: 0.7,
            accept_delay: Dist::uniform(0.0, 3.0),
            video_probability: 0.8,
            video_delay: Dist::uniform(1.0, 5.0),
            seller_review: Review::default(),
            platform_review: Review::default(),
            approved_video_posts: false,
        }
    }
}

/// How one reviewer (the seller or the platform) reviews flat-fee videos (TARGET-4 model).
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    /// Probability that a review approves the video.
    pub approval_probability: f64,
    /// Days from submission to review.
    pub delay: Dist,
}

/// The shared review settings (`approval_probability`, `review_delay`) when absent.
impl Default for Review {
    fn default() -> Review {
        Review {
            approval_probability: 0.8,
            delay: Dist::uniform(0.0, 2.0),
        }
    }
}

impl TargetBehaviour {
    /// How `reviewer` reviews flat-fee videos.
    pub fn review(&self, reviewer: crate::rules::target::Reviewer) -> &Review {
        match reviewer {
            crate::rules::target::Reviewer::Seller => &self.seller_review,
            crate::rules::target::Reviewer::Platform => &self.platform_review,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreatorBehaviour {
    /// Actions (a post or a product search) per creator per day.
    pub actions_per_day: f64,
    /// Probability that an action is a product search rather than a post.
    pub explore_probability: f64,
    /// Products a creator promotes at most.
    pub max_products: u32,
    /// Products a creator looks at in one search.
    pub candidates: u32,
    /// Weight of the offered commission (per percentage point) in the choice.
    pub commission_weight: f64,
    /// Weight of category fit in the choice.
    pub fit_weight: f64,
    /// Probability that a LIVE-capable creator's post is a LIVE.
    pub live_probability: f64,
    /// Probability that a creator authorises a video for Shop Ads.
    pub authorise_probability: f64,
    /// Probability of requesting a free sample when applying to an Open plan that offers them.
    pub sample_request_probability: f64,
    /// Probability of posting about a received sample before its deadline.
    pub sample_post_probability: f64,
    /// Probability of using the one extension when the deadline comes without a post.
    pub sample_extension_probability: f64,
    /// Whether creators keep promoting a product whose Target or Plus has ended (issue 14).
    pub ended_entries: EndedEntries,
    /// What a creator does with an Open product whose seller's criteria refused it (OPEN-2).
    pub refused_applications: RefusedApplications,
}

/// What a creator does with a showcase entry whose Target or Plus has ended (behaviour; what
/// it then pays is `rules.ended_plan_entry`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndedEntries {
    /// Keeps it and may post about it, as about any entry (default).
    #[default]
    Keep,
    /// Drops it from the showcase the next time it would post about it, and searches instead.
    Drop,
}

/// What a creator does after a seller's approval criteria (followers, level) refused its Open
/// application (OPEN-2 model; docs/behaviour.md §3). A criterion reads the creator's followers
/// and level, which do not change within a run, so applying again is refused again.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusedApplications {
    /// Remembers the refusal: its searches pass over that product from then on (default).
    #[default]
    Avoid,
    /// Forgets it: a search weighs the product as if the creator would be approved, and the
    /// creator may apply again and be refused again (the behaviour before session 11).
    Retry,
}

/// `[behaviour.creators]` when a key is absent.
impl Default for CreatorBehaviour {
    fn default() -> CreatorBehaviour {
        CreatorBehaviour {
            actions_per_day: 0.3,
            explore_probability: 0.3,
            max_products: 5,
            candidates: 5,
            commission_weight: 0.2,
            fit_weight: 1.0,
            live_probability: 0.3,
            authorise_probability: 0.3,
            sample_request_probability: 0.3,
            sample_post_probability: 0.8,
            sample_extension_probability: 0.3,
            ended_entries: EndedEntries::Keep,
            refused_applications: RefusedApplications::Avoid,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BuyerBehaviour {
    /// Mean views of a video per follower.
    pub views_per_follower: f64,
    /// Mean viewers of a LIVE per follower.
    pub live_views_per_follower: f64,
    /// Log-space standard deviation of views around the mean.
    pub views_sigma: f64,
    /// Orders per video view.
    pub conversion_rate: f64,
    /// Orders per LIVE viewer.
    pub live_conversion_rate: f64,
    /// Conversion multiplier when the product's category is one of the creator's.
    pub fit_multiplier: f64,
    /// Half-life of a video's order stream, days.
    pub order_half_life_days: f64,
    /// Length of a LIVE, hours.
    pub live_hours: f64,
    /// Weights of quantities 1, 2, 3, …
    pub quantity_weights: Vec<f64>,
    /// Share of a video's orders that come from Shop Ads (on authorised videos only).
    pub ad_share: f64,
    /// Share of orders placed from the creator's showcase.
    pub showcase_share: f64,
    pub seller_coupon_probability: f64,
    pub seller_coupon: Rate,
    pub platform_coupon_probability: f64,
    pub platform_coupon: Rate,
    /// Shipping charged per order line (excluded from commission, H-1).
    pub shipping: Money,
    /// η: views grow as followers^η (η < 1: engagement per follower falls with size). Used only
    /// with `[behaviour.incentives]` on.
    pub follower_exponent: f64,
    /// K: live content items per product at which per-post orders fall by 2^−σ.
    pub saturation_k: f64,
    /// σ: per-post orders × (1 + live items on the product ÷ K)^−σ.
    pub saturation_exponent: f64,
    /// Price elasticity of demand, applied to coupon discounts (negative).
    pub price_elasticity: f64,
}

/// `[behaviour.buyers]` when a key is absent.
impl Default for BuyerBehaviour {
    fn default() -> BuyerBehaviour {
        BuyerBehaviour {
            views_per_follower: 0.2,
            live_views_per_follower: 0.05,
            views_sigma: 1.0,
            conversion_rate: 0.002,
            live_conversion_rate: 0.01,
            fit_multiplier: 1.5,
            order_half_life_days: 1.0,
            live_hours: 2.0,
            quantity_weights: vec![0.85, 0.1, 0.05],
            ad_share: 0.0,
            showcase_share: 0.1,
            seller_coupon_probability: 0.0,
            seller_coupon: Rate(rust_decimal::Decimal::TEN),
            platform_coupon_probability: 0.0,
            platform_coupon: Rate(rust_decimal::Decimal::from(5)),
            shipping: Money::ZERO,
            follower_exponent: 0.9,
            saturation_k: 50.0,
            saturation_exponent: 0.3,
            price_elasticity: -2.62,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct OrderBehaviour {
    /// Probability that a line is cancelled before it ships.
    pub cancel_probability: f64,
    /// Days from placement to cancellation.
    pub cancel_delay: Dist,
    /// Days from placement to shipping.
    pub ship_delay: Dist,
    /// Days from shipping to delivery.
    pub delivery_delay: Dist,
    /// Probability that a delivered line is returned within the after-sales window.
    pub return_probability: f64,
    /// Share of returns that are partial (part of the quantity or amount).
    pub partial_return_share: f64,
}

/// `[behaviour.orders]` when a key is absent.
impl Default for OrderBehaviour {
    fn default() -> OrderBehaviour {
        OrderBehaviour {
            cancel_probability: 0.02,
            cancel_delay: Dist::uniform(0.0, 0.5),
            ship_delay: Dist::uniform(0.5, 2.0),
            delivery_delay: Dist::uniform(2.0, 5.0),
            return_probability: 0.05,
            partial_return_share: 0.3,
        }
    }
}

/// Which generated plans a scripted rate change addresses (`generated`, issue 14).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum GeneratedKind {
    /// Open plans of generated sellers.
    Open,
    /// Shop plans of generated sellers.
    Shop,
    /// Target invitations made during the run by a seller's invitation policy (TARGET-8).
    Target,
}

/// A rate change: to a rate, or by rate points (a relative change, which may land outside
/// RATE-1 and then is refused for that plan).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RateStep {
    To(Rate),
    By(Rate),
}

impl RateStep {
    /// The new rate from `r`.
    pub fn from(self, r: Rate) -> Rate {
        match self {
            RateStep::To(x) => x,
            RateStep::By(d) => Rate(r.0 + d.0),
        }
    }
}

/// A scripted event of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Scripted {
    pub at: SimTime,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    OpenRate {
        plan: OpenPlanId,
        product: Option<ProductId>,
        rate: Rate,
        shop_ads: bool,
    },
    ShopRate {
        seller: SellerId,
        rate: Rate,
    },
    Apply {
        creator: CreatorId,
        product: ProductId,
    },
    ShowcaseAdd {
        creator: CreatorId,
        product: ProductId,
    },
    SampleRequest {
        creator: CreatorId,
        product: ProductId,
    },
    Post {
        creator: CreatorId,
        product: ProductId,
        kind: ContentKind,
        authorised: bool,
    },
    /// Places the scripted order with this index in [`Scenario::orders`].
    Order(u32),
    Return {
        order: u32,
        amount: ReturnAmount,
    },
    /// Sends Target invitation `i` (scheduled at its `sent` time).
    SendInvitation(InvitationId),
    /// Opens registration of distributor campaign `i` (scheduled at its registration start).
    OpenCampaign(CampaignId),
    Register {
        campaign: CampaignId,
        product: ProductId,
        creator_rate: Rate,
        distributor_rate: Rate,
        shop_ads_rate: Option<Rate>,
    },
    /// H-9 split: the seller registers a total.
    RegisterTotal {
        campaign: CampaignId,
        product: ProductId,
        total: Rate,
    },
    ReviewRegistration {
        campaign: CampaignId,
        product: ProductId,
        approve: bool,
        reason: String,
        creator_part: Option<Rate>,
    },
    AddLink {
        campaign: CampaignId,
        creator: CreatorId,
        product: ProductId,
        choice: Option<crate::rules::distributor::LowerLinkChoice>,
    },
    Terminate {
        campaign: CampaignId,
        seller: SellerId,
        /// A temporary termination ends then (DIST-8); `None`: for good (DIST-5).
        until: Option<SimTime>,
    },
    /// The seller lifts its temporary termination (DIST-8); `due`: scheduled at a termination's
    /// `until`, not a scripted resumption.
    Resume {
        campaign: CampaignId,
        seller: SellerId,
        due: bool,
    },
    /// A seller changes a Target invitation's rate (issue 14): `product`/`creator` `None` for
    /// all of the invitation's.
    TargetRate {
        invitation: InvitationId,
        product: Option<ProductId>,
        creator: Option<CreatorId>,
        rate: Rate,
    },
    EditCampaign {
        campaign: CampaignId,
        promotion_start: Option<SimTime>,
        /// New minimum creator and distributor parts (DIST-2), if changed.
        min_rates: (Option<Rate>, Option<Rate>),
    },
    /// Collaboration Plus lifecycle (scheduled from the campaign's own times).
    PlusConfirm(PlusId),
    PlusPay(PlusId),
    PlusStart(PlusId),
    PlusEnd(PlusId),
    PlusJoin {
        campaign: PlusId,
        creator: CreatorId,
        /// The answer to the collaboration's ads prompt (PLUS-22); `None`: drawn from
        /// `behaviour.plus.prompted_authorise_probability`.
        authorises_ads: Option<bool>,
    },
    PlusSampleRequest {
        campaign: PlusId,
        creator: CreatorId,
        /// The product requested (PLUS-21); `None`: the first with samples left.
        product: Option<ProductId>,
    },
    /// The seller edits the collaboration (PLUS-15), with new rates if given.
    PlusEdit {
        campaign: PlusId,
        parts: crate::rules::changes::PlusParts,
    },
    PlusCancel(PlusId),
    /// The seller edits a registration's parts (issue 14; `rules.registration_edit`).
    EditRegistration {
        campaign: CampaignId,
        product: ProductId,
        parts: crate::rules::changes::RegistrationParts,
    },
    /// A rate change of every generated plan of a kind (issue 14): Open plans and Shop plans of
    /// generated sellers, Target invitations made by policies; optionally only those with a
    /// product of `category`.
    GeneratedRate {
        kind: GeneratedKind,
        category: Option<u8>,
        change: RateStep,
        shop_ads: bool,
    },
    TargetResponse {
        invitation: InvitationId,
        creator: CreatorId,
        accept: bool,
    },
    VideoSubmission {
        invitation: InvitationId,
        creator: CreatorId,
    },
    VideoReview {
        invitation: InvitationId,
        creator: CreatorId,
        approve: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReturnAmount {
    Quantity(u32),
    Amount(Money),
    All,
}

/// A scripted order line and its scripted lifecycle.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOrder {
    pub name: String,
    pub at: SimTime,
    pub creator: CreatorId,
    pub product: ProductId,
    pub quantity: u32,
    pub traffic: Traffic,
    pub authorised: bool,
    /// The Target invitation whose flat-fee video (by this order's creator) the order comes from.
    pub target_video: Option<InvitationId>,
    pub seller_coupon: Money,
    pub platform_coupon: Money,
    pub shipping: Money,
    pub shipped: Option<SimTime>,
    pub delivered: Option<SimTime>,
    pub cancelled: Option<SimTime>,
}

/// An expected outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    pub subject: Subject,
    pub check: Check,
    /// Where it is written, for failure messages: `file:line`.
    pub place: String,
    /// The line it is written on (1-based), for `check --json`.
    pub line: usize,
    pub note: String,
}

/// A `[[expect_ledger]]` query: ledger entries of one kind, optionally between two accounts,
/// of one amount, within a time window (both ends included). Unset parts match anything.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerQuery {
    pub kind: crate::rules::ledger::EntryKind,
    pub from: Option<crate::rules::ledger::Account>,
    pub to: Option<crate::rules::ledger::Account>,
    pub amount: Option<Money>,
    /// First and last minute, inclusive (`at` gives the same minute twice).
    pub window: Option<(SimTime, SimTime)>,
}

impl LedgerQuery {
    /// Whether a ledger entry matches every part of the query that is set.
    pub fn matches(&self, e: &crate::rules::ledger::Entry) -> bool {
        e.kind == self.kind
            && self.from.is_none_or(|a| a == e.from)
            && self.to.is_none_or(|a| a == e.to)
            && self.amount.is_none_or(|m| m.0 == e.amount.0)
            && self.window.is_none_or(|(lo, hi)| lo <= e.at && e.at <= hi)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    Metric(Metric),
    End(EndMetric),
    /// `ledger_balanced`: always true in a completed run; a failed check is an error.
    LedgerBalanced,
    Order {
        order: u32,
        field: OrderField,
    },
    Account(AccountRef),
    /// Scripted actions refused, naming this rule.
    Refusals(RuleId),
    /// Scripted actions refused naming this rule whose message contains the text.
    RefusalsWith(RuleId, String),
    /// `[[expect_ledger]]`: the number of ledger entries matching the query.
    Ledger(LedgerQuery),
    /// This rule fired in the run.
    Fired(RuleId),
    /// A Collaboration Plus figure, or a participant's (with `creator`).
    Plus {
        campaign: PlusId,
        creator: Option<CreatorId>,
        field: PlusField,
    },
}

/// What a Plus expectation looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlusField {
    Status,
    RewardsPaid,
    RewardsCancelled,
    ServiceFeeCharged,
    ServiceFeeRefunded,
    BudgetReturned,
    TaxDocument,
    Participants,
    Selected,
    Reward,
    CreatorStatus,
    /// A participant's final Challenge rank among the rewarded ranks (PLUS-5).
    Rank,
    /// Plus free samples shipped: a count, or with `creator` the products shipped to it (PLUS-21).
    Samples,
    /// The share of the objective achieved that the service fee is charged by (PLUS-16).
    Achievement,
}

impl PlusField {
    pub const NAMES: &'static [&'static str] = &[
        "status",
        "rewards_paid",
        "rewards_cancelled",
        "service_fee_charged",
        "service_fee_refunded",
        "budget_returned",
        "tax_document",
        "participants",
        "selected",
        "reward",
        "creator_status",
        "rank",
        "samples",
        "achievement",
    ];
    pub fn parse(s: &str) -> Option<PlusField> {
        use PlusField::*;
        Some(match s {
            "status" => Status,
            "rewards_paid" => RewardsPaid,
            "rewards_cancelled" => RewardsCancelled,
            "service_fee_charged" => ServiceFeeCharged,
            "service_fee_refunded" => ServiceFeeRefunded,
            "budget_returned" => BudgetReturned,
            "tax_document" => TaxDocument,
            "participants" => Participants,
            "selected" => Selected,
            "reward" => Reward,
            "creator_status" => CreatorStatus,
            "rank" => Rank,
            "samples" => Samples,
            "achievement" => Achievement,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderField {
    Status,
    Commission,
    DistributorFee,
    Rate,
    Plan,
    Base,
    Gross,
    Refunded,
    Placed,
    Delivered,
    Settled,
    RateSince,
    ShopAds,
    Authorised,
    Rules,
    Refused,
}

impl OrderField {
    pub const NAMES: &'static [&'static str] = &[
        "status",
        "commission",
        "distributor_fee",
        "rate",
        "plan",
        "base",
        "gross",
        "refunded",
        "placed",
        "delivered",
        "settled",
        "rate_since",
        "shop_ads",
        "authorised",
        "rules",
        "refused",
    ];
    pub fn parse(s: &str) -> Option<OrderField> {
        use OrderField::*;
        Some(match s {
            "status" => Status,
            "commission" => Commission,
            "distributor_fee" => DistributorFee,
            "rate" => Rate,
            "plan" => Plan,
            "base" => Base,
            "gross" => Gross,
            "refunded" => Refunded,
            "placed" => Placed,
            "delivered" => Delivered,
            "settled" => Settled,
            "rate_since" => RateSince,
            "shop_ads" => ShopAds,
            "authorised" => Authorised,
            "rules" => Rules,
            "refused" => Refused,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountRef {
    Seller(SellerId),
    Creator(CreatorId),
    Distributor(u32),
    Platform,
    Buyers,
    Escrow,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Exactly this value in every replication (decimal equality for numbers; text otherwise).
    Equals(String),
    /// Within `[min, max]` in every replication.
    Range {
        min: Option<rust_decimal::Decimal>,
        max: Option<rust_decimal::Decimal>,
    },
    /// The mean over replications within `[min, max]`.
    Mean {
        min: Option<rust_decimal::Decimal>,
        max: Option<rust_decimal::Decimal>,
    },
    /// Exactly this many (refusals).
    Count(u64),
}

/// The expected rejection of an invalid scenario (`[expect_invalid]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectInvalid {
    pub rule: Option<String>,
    pub message: Option<String>,
    pub line: Option<usize>,
}

impl Scenario {
    /// Agents in a replication: named plus populations.
    pub fn agent_counts(&self) -> (u64, u64, u64) {
        let p = &self.populations;
        (
            self.named.sellers.len() as u64 + p.sellers.as_ref().map_or(0, |s| u64::from(s.count)),
            self.named.products.len() as u64
                + p.products.as_ref().map_or(0, |s| u64::from(s.count)),
            self.named.creators.len() as u64
                + p.creators.as_ref().map_or(0, |s| u64::from(s.count)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "[scenario]\nname = \"t\"\nregion = \"ID\"\nstart = \"2025-10-01\"\ndays = 5\n";

    fn target_behaviour(extra: &str) -> TargetBehaviour {
        parse("t.toml", &format!("{BASE}{extra}"))
            .expect("valid")
            .behaviour
            .target
    }

    #[test]
    fn each_reviewer_defaults_to_the_shared_review_settings() {
        // no settings: today's defaults for both (0.8, uniform 0–2 days)
        let d = target_behaviour("");
        let shared = Review {
            approval_probability: 0.8,
            delay: Dist::uniform(0.0, 2.0),
        };
        assert_eq!(d.seller_review, shared);
        assert_eq!(d.platform_review, shared);
        assert!(!d.approved_video_posts);
        // shared keys set: both follow them
        let b = target_behaviour(
            "[behaviour.target]\napproval_probability = 0.3\nreview_delay = { dist = \"fixed\", value = 1 }\n",
        );
        let shared = Review {
            approval_probability: 0.3,
            delay: Dist::Fixed { value: 1.0 },
        };
        assert_eq!(b.seller_review, shared);
        assert_eq!(b.platform_review, shared);
        // a reviewer's own keys override the shared ones for that reviewer only
        let p = target_behaviour(
            "[behaviour.target]\napproval_probability = 0.3\nplatform_approval_probability = 1\nplatform_review_delay = { dist = \"fixed\", value = 2 }\n",
        );
        assert_eq!(p.seller_review.approval_probability, 0.3);
        assert_eq!(p.seller_review.delay, Dist::uniform(0.0, 2.0));
        assert_eq!(p.platform_review.approval_probability, 1.0);
        assert_eq!(p.platform_review.delay, Dist::Fixed { value: 2.0 });
        assert_eq!(
            p.review(crate::rules::target::Reviewer::Platform),
            &p.platform_review
        );
    }

    #[test]
    fn a_reviewer_probability_outside_0_1_is_rejected() {
        let errs = parse(
            "t.toml",
            &format!("{BASE}[behaviour.target]\nseller_approval_probability = 1.5\n"),
        )
        .expect_err("invalid");
        assert!(
            errs[0]
                .to_string()
                .contains("`seller_approval_probability` is a probability"),
            "{}",
            errs[0]
        );
    }
}

/// A seller's rate-setting policy for one of its Open plans (`[[seller_policies]]`): every
/// `every_days` it moves each listing's rate by at most `step`, within [`min`, `max`], through the
/// same rate-change path as a scripted change (OPEN-4, H-4).
#[derive(Clone, Debug, PartialEq)]
pub struct SellerPolicy {
    /// The Open plan it was named by (`plan`; index into the books' Open plans), if any: then its
    /// Open rates are that plan's only.
    pub plan: Option<OpenPlanId>,
    /// The seller whose plans it sets; `None` in `[populations.sellers] rate_policy` (filled in
    /// per replication).
    pub seller: Option<SellerId>,
    /// The plan kinds it sets (`plans`, issue 14).
    pub plans: PolicyPlans,
    pub kind: SellerPolicyKind,
    /// Minutes between reviews (the first one `every` after the start).
    pub every: u32,
    pub min: Rate,
    pub max: Rate,
    pub step: Rate,
}

/// The plan kinds a seller policy sets (`plans`): a bit set of [`PolicyPlans::OPEN`] ….
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyPlans(pub u8);

impl PolicyPlans {
    pub const OPEN: u8 = 1;
    pub const SHOP: u8 = 2;
    pub const TARGET: u8 = 4;
    pub const DISTRIBUTOR: u8 = 8;
    pub const PLUS: u8 = 16;
    /// The kinds' names in `plans`, with their bits.
    pub const NAMES: [(&'static str, u8); 5] = [
        ("open", Self::OPEN),
        ("shop", Self::SHOP),
        ("target", Self::TARGET),
        ("distributor", Self::DISTRIBUTOR),
        ("plus", Self::PLUS),
    ];
    pub fn has(self, kind: u8) -> bool {
        self.0 & kind != 0
    }
}

impl Default for PolicyPlans {
    fn default() -> PolicyPlans {
        PolicyPlans(Self::OPEN)
    }
}

/// What a seller policy steers by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SellerPolicyKind {
    /// Toward a return: the seller's GMV over the last review period ÷ the Open commission it
    /// implies (the plan's Open-attributed GMV × the rate). Above the target the rate rises (the
    /// seller can pay more per unit of GMV), below it falls.
    TargetReturn { target: f64 },
    /// Toward the median (or the maximum) current Open rate of the other sellers' listings in the
    /// plan's products' categories.
    MatchCompetitors { max: bool },
}
