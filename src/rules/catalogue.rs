//! The rule catalogue: every rule ID the engine enforces, with its summary, source and whether it is a modelling choice.
//!
//! Every rule the engine enforces has a stable ID such as `PLUS-11`. Code that enforces a rule
//! names it in a `// rule: ID` comment, decisions record the rules that fired in a [`RuleSet`],
//! and the user-facing catalogue in `docs/rules.md` describes each rule in full. [`CATALOGUE`]
//! holds one [`RuleInfo`] per ID, in the same order as [`RuleId::ALL`].

use std::fmt;

use serde::{Serialize, Serializer};

/// Declares [`RuleId`] together with its ID strings, so that the variant list, [`RuleId::ALL`],
/// [`RuleId::as_str`] and [`RuleId::parse`] cannot drift apart.
macro_rules! rule_ids {
    ($( $(#[$doc:meta])* $variant:ident => $id:literal, )*) => {
        /// A stable rule identifier from the rule catalogue.
        ///
        /// Variants are in catalogue order; the discriminant is the position in [`RuleId::ALL`]
        /// and in [`CATALOGUE`].
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        impl RuleId {
            /// Every rule ID, in catalogue order (`ALL[i].index() == i`).
            pub const ALL: [RuleId; Self::COUNT] = [ $( RuleId::$variant, )* ];

            /// The ID as written in the catalogue and in `// rule:` comments, e.g. `"PLUS-11"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( RuleId::$variant => $id, )*
                }
            }

            /// Parses an ID string; the exact, case-sensitive inverse of [`RuleId::as_str`].
            pub fn parse(s: &str) -> Option<RuleId> {
                match s {
                    $( $id => Some(RuleId::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

rule_ids! {
    /// `MONEY-1`: exact decimal money; commission rounded per order line (**model**: rounding mode).
    Money1 => "MONEY-1",
    /// `MONEY-2`: every money movement is a ledger entry and the ledger always balances.
    Money2 => "MONEY-2",
    /// `TIME-1`: simultaneous events are processed in a fixed, documented order.
    Time1 => "TIME-1",
    /// `ORDER-1`: commissionable amount of an order line.
    Order1 => "ORDER-1",
    /// `ORDER-2`: order lifecycle.
    Order2 => "ORDER-2",
    /// `SETTLE-1`: commission is the commissionable amount times the applicable rate.
    Settle1 => "SETTLE-1",
    /// `SETTLE-2`: commission is paid the day after the after-sales period ends.
    Settle2 => "SETTLE-2",
    /// `SETTLE-3`: no commission on cancelled or refunded lines (**model**: refunds after settlement).
    Settle3 => "SETTLE-3",
    /// `SHOP-1`: Shop plan, one shop-wide rate.
    Shop1 => "SHOP-1",
    /// `OPEN-1`: Open collaboration, seller-chosen products and rates.
    Open1 => "OPEN-1",
    /// `OPEN-2`: creators apply to Open products and start once approved (**model**: approval policy).
    Open2 => "OPEN-2",
    /// `OPEN-3`: optional Open free samples with a quantity limit.
    Open3 => "OPEN-3",
    /// `OPEN-4`: Open rate changes apply to orders placed after the change.
    Open4 => "OPEN-4",
    /// `RATE-1`: every commission rate is between 1% and 80% inclusive.
    Rate1 => "RATE-1",
    /// `TARGET-1`: Target invitations.
    Target1 => "TARGET-1",
    /// `TARGET-2`: a Target applies only once accepted (**model**: acceptance behaviour).
    Target2 => "TARGET-2",
    /// `TARGET-3`: Target fee structure, commission-only or flat fee.
    Target3 => "TARGET-3",
    /// `TARGET-4`: flat fee paid through the platform after video approval (**model**: late delivery).
    Target4 => "TARGET-4",
    /// `TARGET-5`: Target free sample or refund-on-first-sale.
    Target5 => "TARGET-5",
    /// `TARGET-6`: LIVE flash sales only in single-creator invitations.
    Target6 => "TARGET-6",
    /// `TARGET-7`: stock for Target collaborations (**model**: warning and stock-outs).
    Target7 => "TARGET-7",
    /// `TARGET-8`: sellers find creators by recommendation reason and audience filters (**model**: invitation policy).
    Target8 => "TARGET-8",
    /// `TARGET-9`: commission rates per creator as well as per product.
    Target9 => "TARGET-9",
    /// `PLUS-1`: Collaboration Plus only for enabled sellers.
    Plus1 => "PLUS-1",
    /// `PLUS-2`: Plus types, Task and Challenge.
    Plus2 => "PLUS-2",
    /// `PLUS-3`: Task reward only for completing all tasks within the period.
    Plus3 => "PLUS-3",
    /// `PLUS-4`: Task criteria per content type and objective.
    Plus4 => "PLUS-4",
    /// `PLUS-5`: Challenge leaderboard rewards paid after the end (**model**: tie-breaking).
    Plus5 => "PLUS-5",
    /// `PLUS-6`: creator groups, at most 100, one per collaboration.
    Plus6 => "PLUS-6",
    /// `PLUS-7`: the platform decides final creators, tasks and rewards (**model**: platform policy).
    Plus7 => "PLUS-7",
    /// `PLUS-8`: Plus products must be affiliate-eligible; no minimum stock.
    Plus8 => "PLUS-8",
    /// `PLUS-9`: Plus rates must be higher than the Open rate.
    Plus9 => "PLUS-9",
    /// `PLUS-10`: Shop Ads commission only on ads using creator-authorised videos.
    Plus10 => "PLUS-10",
    /// `PLUS-11`: Plus rate during the period, current Open rate afterwards.
    Plus11 => "PLUS-11",
    /// `PLUS-12`: with no Plus rate, the Open rate applies.
    Plus12 => "PLUS-12",
    /// `PLUS-13`: Plus commissions settle normally and never come from the reward budget.
    Plus13 => "PLUS-13",
    /// `PLUS-14`: Plus samples are pre-approved; content is due within the period.
    Plus14 => "PLUS-14",
    /// `PLUS-15`: 24 hours to pay; no edits from pending payment, no cancellation once ongoing.
    Plus15 => "PLUS-15",
    /// `PLUS-16`: service fee charged by results, excess refunded.
    Plus16 => "PLUS-16",
    /// `PLUS-17`: creator statuses Unfinished, Haven't fulfilled, Finished.
    Plus17 => "PLUS-17",
    /// `PLUS-18`: rewards may be cancelled for risk control (**model**: risk policy).
    Plus18 => "PLUS-18",
    /// `PLUS-19`: no limit on the number of Plus collaborations.
    Plus19 => "PLUS-19",
    /// `PLUS-20`: tax document on the 7th of the month after payment.
    Plus20 => "PLUS-20",
    /// `PLUS-21`: free samples set per selected product, for this collaboration only (**model**).
    Plus21 => "PLUS-21",
    /// `PLUS-22`: the Step 1 prompt for creators to authorise videos for ads (**model**).
    Plus22 => "PLUS-22",
    /// `DIST-1`: distributor campaign audience, windows and requirements.
    Dist1 => "DIST-1",
    /// `DIST-2`: sellers register products with a two-part rate.
    Dist2 => "DIST-2",
    /// `DIST-3`: the distributor reviews products and issues links.
    Dist3 => "DIST-3",
    /// `DIST-4`: adding a distribution link to a showcase (**model**: creator's choice on warning).
    Dist4 => "DIST-4",
    /// `DIST-5`: links valid only in the promotion window.
    Dist5 => "DIST-5",
    /// `DIST-6`: distribution-link orders pay the creator and the distributor.
    Dist6 => "DIST-6",
    /// `DIST-7`: distributors hand links offline to the creators they work with (**model**: network).
    Dist7 => "DIST-7",
    /// `DIST-8`: a seller may temporarily terminate its distribution plan (**model**: lifting it).
    Dist8 => "DIST-8",
    /// `ATTR-1`: exactly one commission per order line.
    Attr1 => "ATTR-1",
    /// `ATTR-2`: Target supersedes Open.
    Attr2 => "ATTR-2",
    /// `ATTR-3`: Plus supersedes Open during the Plus period.
    Attr3 => "ATTR-3",
    /// `ATTR-4`: a product may be in several collaborations at once.
    Attr4 => "ATTR-4",
    /// `ATTR-5`: documented precedence table and rate provenance (**model**).
    Attr5 => "ATTR-5",
    /// `H-1`: commission base excludes coupons and shipping.
    H1 => "H-1",
    /// `H-2`: no commission on cancelled, refunded or fraudulent orders.
    H2 => "H-2",
    /// `H-3`: rates are set in steps of 0.01%.
    H3 => "H-3",
    /// `H-4`: optional 30-day lock on Open rate decreases.
    H4 => "H-4",
    /// `H-5`: separate Shop Ads rate and its fallback order.
    H5 => "H-5",
    /// `H-6`: free-sample posting obligation outside Plus.
    H6 => "H-6",
    /// `H-7`: refundable sample, refunded once the sales goal is met.
    H7 => "H-7",
    /// `H-8`: Target invitation limits and flat-fee deadlines.
    H8 => "H-8",
    /// `H-9`: distributor campaign details from the help centre.
    H9 => "H-9",
    /// `H-10`: settlement periods by region.
    H10 => "H-10",
}

impl RuleId {
    /// The number of rule IDs in the catalogue.
    pub const COUNT: usize = 68;

    /// The catalogue entry for this ID.
    pub fn info(self) -> &'static RuleInfo {
        &CATALOGUE[self.index()]
    }

    /// The position of this ID in [`RuleId::ALL`] and [`CATALOGUE`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One entry of the rule catalogue.
#[derive(Debug)]
pub struct RuleInfo {
    /// The rule's ID.
    pub id: RuleId,
    /// The catalogue group the rule belongs to, e.g. `"Collaboration Plus"`.
    pub group: &'static str,
    /// A short title (at most 60 characters).
    pub title: &'static str,
    /// One or two sentences: what the engine enforces.
    pub summary: &'static str,
    /// Where the rule comes from: a seed document, the help centre, or the project's own design.
    pub source: &'static str,
    /// Whether the rule (or part of it) is a modelling choice where the sources are silent; such
    /// parts are configurable in a scenario.
    pub model: bool,
}

const G_MONEY: &str = "Money and time";
const G_ORDERS: &str = "Orders and settlement";
const G_PLANS: &str = "Plan types";
const G_TARGET: &str = "Target collaboration";
const G_PLUS: &str = "Collaboration Plus";
const G_DIST: &str = "Distributor campaigns";
const G_ATTR: &str = "Attribution";
const G_HELP: &str = "Help centre";

const S_PLUS: &str = "seed 000 (Collaboration Plus help page)";
const S_TARGET: &str = "seed 001 (Target collaboration help page)";
const S_OPEN_GUIDE: &str = "seed 002 (Open and Target collaboration guide)";
const S_DIST: &str = "seed 003 (distributor campaign article, Chinese)";
const S_SETTLE: &str = "seed 004 (plan types and settlement article, Chinese)";
const S_HELP: &str = "help centre";

/// Builds a catalogue entry (keeps the table below compact).
const fn rule(
    id: RuleId,
    group: &'static str,
    title: &'static str,
    summary: &'static str,
    source: &'static str,
    model: bool,
) -> RuleInfo {
    RuleInfo {
        id,
        group,
        title,
        summary,
        source,
        model,
    }
}

/// The rule catalogue: one entry per [`RuleId`], in catalogue order (`CATALOGUE[i].id.index() == i`).
pub static CATALOGUE: [RuleInfo; RuleId::COUNT] = [
    // Money and time
    rule(
        RuleId::Money1,
        G_MONEY,
        "Exact decimal money; commission rounded per order line",
        "Amounts are exact decimals in the scenario's currency and rates are percentages with at \
         most two decimals. Commission is computed per order line and rounded to the currency's \
         minor unit, half-up unless the scenario sets another rounding mode.",
        "project design; model",
        true,
    ),
    rule(
        RuleId::Money2,
        G_MONEY,
        "Balanced double-entry ledger",
        "Every movement of money is a ledger entry between two accounts (buyer, seller, creator, \
         distributor, platform, reward budget). A run whose ledger does not balance ends in an \
         error, not a result.",
        "project design",
        false,
    ),
    rule(
        RuleId::Time1,
        G_MONEY,
        "Deterministic order of simultaneous events",
        "Time is discrete; events at the same instant are processed in a fixed phase order and \
         then in the order they were scheduled, so a run depends only on the scenario and seed.",
        "project design",
        false,
    ),
    // Orders and settlement
    rule(
        RuleId::Order1,
        G_ORDERS,
        "Commissionable amount of an order line",
        "An order line's commissionable amount is price × quantity less the platform-funded and \
         seller-funded coupons on that line; shipping and tax are excluded.",
        "help centre (see H-1)",
        false,
    ),
    rule(
        RuleId::Order2,
        G_ORDERS,
        "Order lifecycle",
        "An order line moves placed → shipped → delivered → after-sales window → settled; it may \
         instead be cancelled before shipping, or refunded in full or in part within the \
         after-sales window.",
        S_SETTLE,
        false,
    ),
    rule(
        RuleId::Settle1,
        G_ORDERS,
        "Commission is commissionable amount × applicable rate",
        "Commission is the line's commissionable amount times the rate that attribution selects \
         for it; it is taken from the seller's revenue and paid to the creator (and, for a \
         distribution link, the distributor's share to the distributor).",
        S_SETTLE,
        false,
    ),
    rule(
        RuleId::Settle2,
        G_ORDERS,
        "Paid the day after the after-sales period",
        "Commission is paid on the day after the region's after-sales period following delivery \
         ends: Indonesia 6 days (delivered day D, paid D+7), United Kingdom 14 days (paid D+15); \
         other regions are scenario settings.",
        S_SETTLE,
        false,
    ),
    rule(
        RuleId::Settle3,
        G_ORDERS,
        "No commission on cancelled or refunded lines",
        "A line cancelled before delivery or fully refunded within the after-sales window earns no \
         commission, and a partial refund reduces it pro rata. A refund after settlement does not \
         claw back commission unless the scenario says so.",
        "help centre (see H-2); model",
        true,
    ),
    // Plan types
    rule(
        RuleId::Shop1,
        G_PLANS,
        "Shop plan: one shop-wide rate",
        "A Shop plan sets one commission rate for all of a shop's affiliate-eligible products and \
         is open to every eligible creator.",
        S_SETTLE,
        false,
    ),
    rule(
        RuleId::Open1,
        G_PLANS,
        "Open collaboration: seller-chosen products and rates",
        "In an Open collaboration the seller picks products and sets a rate per product, per group \
         of products or for all chosen products; it is visible to every affiliate-eligible creator.",
        "seeds 002, 004 (Open and Target guide; plan types article)",
        false,
    ),
    rule(
        RuleId::Open2,
        G_PLANS,
        "Open: creators apply and start once approved",
        "A creator applies to promote an Open product and earns Open commission on it only after \
         the seller approves. The seller's approval policy (automatic, by probability or by \
         criteria, with a delay) is a scenario setting.",
        "seed 004 (plan types article); model",
        true,
    ),
    rule(
        RuleId::Open3,
        G_PLANS,
        "Open: optional free samples with a quantity limit",
        "An Open plan may offer free samples with a quantity and requirements for creators; \
         creators request them and requests beyond the available quantity are refused.",
        S_OPEN_GUIDE,
        false,
    ),
    rule(
        RuleId::Open4,
        G_PLANS,
        "Open rate changes apply to later orders",
        "A change to an Open rate applies to orders placed after the change. A creator returning \
         to Open after another plan ends earns the Open rate current at that moment.",
        "seed 000 (Collaboration Plus help page, FAQ)",
        false,
    ),
    rule(
        RuleId::Rate1,
        G_PLANS,
        "Commission rates between 1% and 80%",
        "Every affiliate commission rate is between 1% and 80% inclusive; a scenario setting one \
         outside that range is rejected with an error naming where it was set.",
        "seeds 001, 002 (Target help page; Open and Target guide)",
        false,
    ),
    // Target collaboration
    rule(
        RuleId::Target1,
        G_TARGET,
        "Target invitations",
        "The seller invites chosen creators, one at a time or in bulk, to promote chosen products \
         for a set duration, with requested content types, a per-product rate and an optional \
         message.",
        "seeds 001, 002 (Target help page; Open and Target guide)",
        false,
    ),
    rule(
        RuleId::Target2,
        G_TARGET,
        "A Target applies only once accepted",
        "An invitation has no effect until the creator accepts it. Whether and when creators \
         accept is a behaviour setting of the scenario.",
        "seed 001 (Target collaboration help page); model",
        true,
    ),
    rule(
        RuleId::Target3,
        G_TARGET,
        "Target fee structure: commission-only or flat fee",
        "A Target collaboration is either commission-only (no content review, any format) or flat \
         fee.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Target4,
        G_TARGET,
        "Flat fee paid through the platform after approval",
        "Under a flat fee the seller pays the platform up front and the platform pays the creator \
         once the creator's video, submitted within the agreed time, is approved by the seller or \
         the platform (the review setting). If the seller asks, the video is authorised for ads \
         (from its approval). A creator who does not deliver in time is not paid and the \
         seller's fee is refunded (configurable).",
        "seed 001 (Target collaboration help page); model",
        true,
    ),
    rule(
        RuleId::Target5,
        G_TARGET,
        "Target free sample or refund-on-first-sale",
        "Per product the seller may offer a free sample, or refund-on-first-sale: the creator buys \
         the product and is refunded when they make their first sale of it.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Target6,
        G_TARGET,
        "LIVE flash sales only in single-creator invitations",
        "A LIVE flash-sale request may only be part of an invitation to a single creator who can \
         go LIVE; a bulk invitation with a flash sale is rejected.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Target7,
        G_TARGET,
        "Stock for Target collaborations",
        "Insufficient stock for a Target collaboration is a warning at set-up; running out of \
         stock during the run stops further orders of that product.",
        "seed 001 (Target collaboration help page); model",
        true,
    ),
    rule(
        RuleId::Target8,
        G_TARGET,
        "Finding creators: recommendation reasons and filters",
        "Sellers choose whom to invite from recommended creators by reason (promoted similar \
         products, followers bought or viewed similar products) and by filters on follower count, \
         age and gender; creators carry an audience profile and a seller invitation policy \
         chooses, so Target runs at population scale.",
        "seeds 001 (Target help page) and 004 (plan types article); model",
        true,
    ),
    rule(
        RuleId::Target9,
        G_TARGET,
        "Commission rates per creator",
        "Commission rates are set for each creator as well as each product: one invitation may \
         give different creators different rates.",
        "seeds 002 (Open and Target guide) and 001 (Target help page)",
        false,
    ),
    // Collaboration Plus
    rule(
        RuleId::Plus1,
        G_PLUS,
        "Collaboration Plus only for enabled sellers",
        "Collaboration Plus is by invitation only; a scenario that gives one to a seller not \
         enabled for it is rejected.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus2,
        G_PLUS,
        "Plus types: Task and Challenge",
        "A Plus collaboration is either a Task or a Challenge.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus3,
        G_PLUS,
        "Task reward only for completing all tasks",
        "A Task reward is earned only by completing every assigned task within the period and is \
         paid when the last one is completed; partial completion earns nothing.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus4,
        G_PLUS,
        "Task criteria by content type and objective",
        "Each task is defined by a content type and an objective: sales (GMV), orders or content \
         (posting).",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus5,
        G_PLUS,
        "Challenge leaderboard rewards paid after the end",
        "Eligible creators are ranked by GMV or orders per content type and rewards are allocated \
         by rank, paid after the collaboration ends. Ties are broken deterministically (default: \
         earlier time of reaching the final value, then the creator listed first in the scenario).",
        "seed 000 (Collaboration Plus help page); model",
        true,
    ),
    rule(
        RuleId::Plus6,
        G_PLUS,
        "Creator groups: at most 100, one per collaboration",
        "A seller has at most 100 creator groups, defined by creator attributes; each \
         collaboration uses exactly one group, and a group may be reused.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus7,
        G_PLUS,
        "Platform decides final creators, tasks and rewards",
        "The seller states preferences and the platform decides the final creators, tasks and \
         rewards; the seller cannot set the number of creators. The platform policy is pluggable \
         (at least: take preferences as given, or budget-driven).",
        "seed 000 (Collaboration Plus help page); model",
        true,
    ),
    rule(
        RuleId::Plus8,
        G_PLUS,
        "Plus products must be affiliate-eligible",
        "Only affiliate-eligible products may be in a Plus collaboration; there is no minimum \
         stock.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus9,
        G_PLUS,
        "Plus rates must be higher than the Open rate",
        "A Plus-exclusive rate is optional; if the product is in an Open collaboration, both the \
         Plus standard rate and the Plus Shop Ads rate must be higher than the Open rate in force \
         at confirmation. An Open raise over a running Plus: option \
         `rules.open_raise_during_plus`.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus10,
        G_PLUS,
        "Shop Ads commission only on authorised-video ads",
        "The Shop Ads rate applies only to orders from ads that use creator-authorised videos.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus11,
        G_PLUS,
        "Plus rate during the period, current Open rate after",
        "A participating creator earns the Plus rate on the collaboration's products during the \
         period, and afterwards the Open rate current at that time.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus12,
        G_PLUS,
        "No Plus rate: the Open rate applies",
        "If the Plus collaboration sets no rate for a product, creators earn its Open rate.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus13,
        G_PLUS,
        "Plus commissions settle normally, not from rewards",
        "Commissions earned in a Plus collaboration are settled like any affiliate commission and \
         never come out of the reward budget, which pays rewards only.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus14,
        G_PLUS,
        "Plus samples pre-approved; content due in the period",
        "Plus free samples ship without seller review; the creator must post content with the \
         sample within the collaboration period, which a late delivery does not extend.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus15,
        G_PLUS,
        "24 hours to pay; no edits or cancellation after",
        "After confirmation the seller has 24 hours to pay or the collaboration never starts. From \
         pending payment on, details cannot be edited, and an ongoing collaboration cannot be \
         cancelled.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus16,
        G_PLUS,
        "Service fee charged by results, excess refunded",
        "The service fee depends on traffic and creator performance; if objectives are only partly \
         achieved only part is charged and the excess is refunded within 7 days after the end.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus17,
        G_PLUS,
        "Creator statuses: Unfinished, Haven't fulfilled, Finished",
        "Each participating creator is Unfinished (tasks not done), Haven't fulfilled (received a \
         sample, posted no video or LIVE) or Finished (all done).",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus18,
        G_PLUS,
        "Rewards may be cancelled for risk control",
        "A reward can be cancelled for account-security or risk-control reasons; the scenario's \
         risk policy cancels rewards at a configurable rate (default 0).",
        "seed 000 (Collaboration Plus help page); model",
        true,
    ),
    rule(
        RuleId::Plus19,
        G_PLUS,
        "No limit on the number of Plus collaborations",
        "A seller may create any number of Plus collaborations and run any number at once.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus20,
        G_PLUS,
        "Tax document on the 7th of the following month",
        "The tax document for a payment becomes available on the 7th of the month after the \
         payment.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Plus21,
        G_PLUS,
        "Free samples per selected product, for this collaboration",
        "Free samples are set with each selected product in Step 3 and apply only to this \
         collaboration: a quantity per product; a participant requests the product it will \
         promote, and a product with none set or none left is refused.",
        "seed 000 (Collaboration Plus help page); model",
        true,
    ),
    rule(
        RuleId::Plus22,
        G_PLUS,
        "Prompt creators to authorise their videos for ads",
        "A Step 1 toggle prompts joining creators to authorise their videos for ads; a participant \
         who authorises has the ads on its collaboration videos authorised during the period \
         (PLUS-10); the share who authorise when prompted is a behaviour setting.",
        "seed 000 (Collaboration Plus help page); model",
        true,
    ),
    // Distributor campaigns
    rule(
        RuleId::Dist1,
        G_DIST,
        "Distributor campaign: audience, windows, requirements",
        "A distributor creates a campaign aimed at chosen sellers or open to all, with a \
         registration window, a promotion window and commission requirements.",
        S_DIST,
        false,
    ),
    rule(
        RuleId::Dist2,
        G_DIST,
        "Sellers register products with a two-part rate",
        "During the registration window a seller registers products with a rate in two parts, \
         creator commission and distributor commission, both meeting the campaign's requirements.",
        S_DIST,
        false,
    ),
    rule(
        RuleId::Dist3,
        G_DIST,
        "Distributor reviews products and issues links",
        "The distributor reviews registered products; approved products get distribution links.",
        S_DIST,
        false,
    ),
    rule(
        RuleId::Dist4,
        G_DIST,
        "Adding a distribution link: higher commission wins",
        "A creator adding a link to a showcase or LIVE product set gets it if the product is new \
         to them or the link's creator commission is higher; otherwise they are warned, and by \
         default keep the higher commission.",
        "seed 003 (distributor campaign article, Chinese); model",
        true,
    ),
    rule(
        RuleId::Dist5,
        G_DIST,
        "Links valid only in the promotion window",
        "A link is valid only during the promotion window and ends early if the seller terminates \
         the campaign; creators are notified, and orders after expiry earn no campaign commission.",
        S_DIST,
        false,
    ),
    rule(
        RuleId::Dist6,
        G_DIST,
        "Distribution-link orders pay creator and distributor",
        "An order through a distribution link is attributed to the distributor: the creator earns \
         the creator commission and the distributor earns the distributor commission.",
        S_DIST,
        false,
    ),
    rule(
        RuleId::Dist7,
        G_DIST,
        "Links handed offline to the distributor's creators",
        "The distributor hands approved links to the creators it works with, offline, without a \
         binding relationship; only creators in its network receive its links.",
        "seed 003 (distributor campaign article, Chinese); model",
        true,
    ),
    rule(
        RuleId::Dist8,
        G_DIST,
        "Temporary termination of a distribution plan",
        "A seller may temporarily terminate its distribution plan: its links show as invalid and \
         pay nothing, creators are notified, and the termination may be lifted before the \
         promotion ends.",
        "seed 003 (distributor campaign article, Chinese); model",
        true,
    ),
    // Attribution
    rule(
        RuleId::Attr1,
        G_ATTR,
        "One commission per order line",
        "A creator earns exactly one commission per order line, never the sum of several plans.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Attr2,
        G_ATTR,
        "Target supersedes Open",
        "While an accepted Target applies, its rate replaces the Open rate for the invited creator \
         and product.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Attr3,
        G_ATTR,
        "Plus supersedes Open during the Plus period",
        "During the Plus period the Plus rate replaces the Open rate for a participating creator.",
        S_PLUS,
        false,
    ),
    rule(
        RuleId::Attr4,
        G_ATTR,
        "A product may be in several collaborations",
        "A product may be in several collaborations at the same time; ATTR-1 still allows only \
         one commission per line.",
        S_TARGET,
        false,
    ),
    rule(
        RuleId::Attr5,
        G_ATTR,
        "Documented precedence and rate provenance",
        "Precedence between Target, Plus, distributor link, Open and Shop plan follows one \
         documented table, and every resolved rate records its plan, rule IDs and effective time.",
        "model (from seeds 000, 001, 003)",
        true,
    ),
    // Help centre
    rule(
        RuleId::H1,
        G_HELP,
        "Commission base excludes coupons and shipping",
        "The commission base is (price − platform coupons − seller coupons) × quantity; shipping \
         is excluded.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H2,
        G_HELP,
        "No commission on cancelled, refunded or fraud orders",
        "Orders cancelled before delivery, fully refunded in the after-sales window or flagged as \
         fraud earn no commission; a partial refund cuts commission pro rata.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H3,
        G_HELP,
        "Rates in steps of 0.01%",
        "Commission rates are set in steps of 0.01 percentage points.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H4,
        G_HELP,
        "Optional 30-day lock on Open rate decreases",
        "Option, off by default: an Open rate decrease reaches creators already promoting the \
         product only after 30 days (warning 2 days before); increases and new joiners are \
         immediate; removing the product or deleting the content ends the lock.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H5,
        G_HELP,
        "Separate Shop Ads rate and its fallback order",
        "An optional Shop Ads rate (1–80%) sits beside the standard rate; with none set, ad orders \
         earn the standard rate. Option `rules.ad_precedence`: by default (the seeds) an ad order \
         stays with the plan the standard precedence picks, at its Shop Ads rate if set; with \
         \"shop-ads-first\" it earns the first that exists of: distributor, Target, Plus, Open \
         Shop Ads rate, then the standard rates.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H6,
        G_HELP,
        "Free-sample posting obligation outside Plus",
        "Outside Plus a creator must post within 14 days of receiving a sample, with one 7-day \
         extension; not posting lowers their fulfilment rate but costs no money.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H7,
        G_HELP,
        "Refundable sample: refund once the sales goal is met",
        "The creator buys one unit at full price; if they reach the seller's goal of 1–3 sales \
         (own purchases excluded) within 90 days, the price is refunded after the return window.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H8,
        G_HELP,
        "Target invitation limits and flat-fee deadlines",
        "At most 50 creators and 100 products per invitation. Flat fee: accept within 7 days; \
         revise rejected content within 7 days, at most 3 review rounds; unaccepted or cancelled \
         invitations refund the fee.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H9,
        G_HELP,
        "Distributor campaign details",
        "Total rate registered by the seller with the creator's part set by the distributor; end \
         under 360 days after start; statuses ready → upcoming → ongoing → closed; at most 100 \
         targeted sellers; per-product approval or rejection with a reason.",
        S_HELP,
        false,
    ),
    rule(
        RuleId::H10,
        G_HELP,
        "Settlement periods by region",
        "Default after-sales periods, all editable: United States 15 days, Vietnam 14 days, \
         Indonesia 6 days and United Kingdom 14 days (SETTLE-2).",
        S_HELP,
        false,
    ),
];

// Compile-time checks: the bitset is wide enough and the table is in catalogue order.
const _: () = {
    assert!(
        RuleId::COUNT <= u128::BITS as usize,
        "RuleSet cannot hold every ID"
    );
    let mut i = 0;
    while i < RuleId::COUNT {
        assert!(CATALOGUE[i].id as usize == i, "CATALOGUE is out of order");
        i += 1;
    }
};

/// A set of rule IDs as a bitset (`u128`), `Copy` and cheap: used to record which rules fired.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RuleSet(u128);

impl RuleSet {
    /// The empty set.
    pub const EMPTY: RuleSet = RuleSet(0);

    /// The set of the given IDs (usable in `const` contexts).
    pub const fn of(ids: &[RuleId]) -> RuleSet {
        let mut bits = 0u128;
        let mut i = 0;
        while i < ids.len() {
            bits |= 1u128 << (ids[i] as u8);
            i += 1;
        }
        RuleSet(bits)
    }

    /// This set with `id` added (usable in `const` contexts).
    pub const fn with(self, id: RuleId) -> RuleSet {
        RuleSet(self.0 | (1u128 << (id as u8)))
    }

    /// Adds `id` to the set.
    pub fn insert(&mut self, id: RuleId) {
        self.0 |= 1u128 << (id as u8);
    }

    /// Adds every ID of `other` to the set.
    pub fn extend(&mut self, other: RuleSet) {
        self.0 |= other.0;
    }

    /// Whether `id` is in the set.
    pub fn contains(self, id: RuleId) -> bool {
        self.0 & (1u128 << (id as u8)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of IDs in the set.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The IDs in the set, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = RuleId> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(RuleId::ALL[i])
        })
    }
}

impl fmt::Display for RuleSet {
    /// The IDs in catalogue order joined by `+`, e.g. `SETTLE-1+OPEN-4`; empty for the empty set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, id) in self.iter().enumerate() {
            if n > 0 {
                f.write_str("+")?;
            }
            f.write_str(id.as_str())?;
        }
        Ok(())
    }
}

impl Serialize for RuleSet {
    /// A sequence of ID strings in catalogue order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn count_matches_all_and_catalogue() {
        assert_eq!(RuleId::ALL.len(), RuleId::COUNT);
        assert_eq!(CATALOGUE.len(), RuleId::COUNT);
        assert_eq!(RuleId::COUNT, 68);
    }

    #[test]
    fn as_str_parse_round_trip() {
        for id in RuleId::ALL {
            assert_eq!(RuleId::parse(id.as_str()), Some(id), "{id:?}");
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!(RuleId::parse("PLUS-11"), Some(RuleId::Plus11));
        assert_eq!(RuleId::parse("H-10"), Some(RuleId::H10));
        assert_eq!(RuleId::parse("plus-11"), None);
        assert_eq!(RuleId::parse("PLUS-11 "), None);
        assert_eq!(RuleId::parse("PLUS-21"), Some(RuleId::Plus21));
        assert_eq!(RuleId::parse("PLUS-23"), None);
        assert_eq!(RuleId::parse("H-0"), None);
        assert_eq!(RuleId::parse(""), None);
    }

    #[test]
    fn all_is_unique_and_in_index_order() {
        let mut seen_ids = HashSet::new();
        let mut seen_strs = HashSet::new();
        for (i, id) in RuleId::ALL.into_iter().enumerate() {
            assert_eq!(id.index(), i);
            assert!(seen_ids.insert(id), "duplicate {id:?}");
            assert!(seen_strs.insert(id.as_str()), "duplicate {}", id.as_str());
        }
        assert!(RuleId::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(RuleId::ALL[0], RuleId::Money1);
        assert_eq!(RuleId::ALL[RuleId::COUNT - 1], RuleId::H10);
    }

    #[test]
    fn id_strings_have_the_catalogue_shape() {
        // Shape `[A-Z]+-[0-9]+`, checked by hand.
        for id in RuleId::ALL {
            let s = id.as_str();
            let (prefix, number) = s
                .split_once('-')
                .unwrap_or_else(|| panic!("no dash in {s}"));
            assert!(
                !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_uppercase()),
                "{s}"
            );
            assert!(
                !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
                "{s}"
            );
            assert!(!number.starts_with('0'), "{s}");
        }
    }

    #[test]
    fn catalogue_entries_are_consistent() {
        const GROUPS: [&str; 8] = [
            G_MONEY, G_ORDERS, G_PLANS, G_TARGET, G_PLUS, G_DIST, G_ATTR, G_HELP,
        ];
        let mut last_group = 0;
        for (i, info) in CATALOGUE.iter().enumerate() {
            assert_eq!(info.id.index(), i);
            assert!(std::ptr::eq(info.id.info(), info));
            let group = GROUPS
                .iter()
                .position(|g| *g == info.group)
                .unwrap_or_else(|| panic!("unknown group {:?}", info.group));
            assert!(group >= last_group, "{} is out of group order", info.id);
            last_group = group;
            assert!(
                !info.title.is_empty() && info.title.chars().count() <= 60,
                "{}",
                info.id
            );
            assert!(!info.summary.is_empty(), "{}", info.id);
            assert!(!info.source.is_empty(), "{}", info.id);
            assert!(!info.summary.contains("  "), "{}: double space", info.id);
        }
        let models: Vec<&str> = CATALOGUE
            .iter()
            .filter(|r| r.model)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            models,
            [
                "MONEY-1", "SETTLE-3", "OPEN-2", "TARGET-2", "TARGET-4", "TARGET-7", "TARGET-8",
                "PLUS-5", "PLUS-7", "PLUS-18", "PLUS-21", "PLUS-22", "DIST-4", "DIST-7", "DIST-8",
                "ATTR-5"
            ]
        );
    }

    #[test]
    fn rule_set_operations() {
        let empty = RuleSet::EMPTY;
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty, RuleSet::default());
        assert_eq!(empty.iter().count(), 0);
        assert_eq!(empty.to_string(), "");

        const FIRED: RuleSet = RuleSet::of(&[RuleId::Open4, RuleId::Settle1]);
        assert_eq!(FIRED.len(), 2);
        assert!(FIRED.contains(RuleId::Settle1));
        assert!(FIRED.contains(RuleId::Open4));
        assert!(!FIRED.contains(RuleId::Settle2));
        // Iteration and display are in catalogue order, not insertion order.
        assert_eq!(
            FIRED.iter().collect::<Vec<_>>(),
            [RuleId::Settle1, RuleId::Open4]
        );
        assert_eq!(FIRED.to_string(), "SETTLE-1+OPEN-4");

        const WITH: RuleSet = RuleSet::EMPTY.with(RuleId::H10).with(RuleId::Money1);
        assert_eq!(WITH, RuleSet::of(&[RuleId::Money1, RuleId::H10]));
        assert_eq!(WITH.to_string(), "MONEY-1+H-10");

        let mut s = RuleSet::EMPTY;
        s.insert(RuleId::Plus11);
        s.insert(RuleId::Plus11);
        assert_eq!(s.len(), 1);
        s.extend(FIRED);
        assert_eq!(s.len(), 3);
        assert_eq!(s.to_string(), "SETTLE-1+OPEN-4+PLUS-11");
        s.extend(RuleSet::EMPTY);
        assert_eq!(s.len(), 3);

        let all = RuleSet::of(&RuleId::ALL);
        assert_eq!(all.len(), RuleId::COUNT);
        assert_eq!(all.iter().collect::<Vec<_>>(), RuleId::ALL);
        assert!(RuleId::ALL.into_iter().all(|id| all.contains(id)));
        assert!(
            RuleId::ALL
                .into_iter()
                .all(|id| RuleSet::EMPTY.with(id).len() == 1)
        );
    }

    #[test]
    fn serializes_as_id_strings() {
        assert_eq!(
            serde_json::to_string(&RuleId::Plus11).unwrap(),
            r#""PLUS-11""#
        );
        assert_eq!(serde_json::to_string(&RuleId::H4).unwrap(), r#""H-4""#);
        let set = RuleSet::of(&[RuleId::Open4, RuleId::Settle1]);
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"["SETTLE-1","OPEN-4"]"#
        );
        assert_eq!(serde_json::to_string(&RuleSet::EMPTY).unwrap(), "[]");
    }
}
