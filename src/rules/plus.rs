//! Collaboration Plus: Task and Challenge collaborations, creator groups, deposits, rewards,
//! service fees and statuses (PLUS-1..20).
//!
//! The seller confirms, pays within 24 hours (deposit of the reward budget and the service
//! fee), and the collaboration runs from `start` to `end`. The platform policy (a behaviour
//! model, `sim::policy`) picks the creators and final rewards; creators who join earn the Plus
//! rate on its products during the period (PLUS-11). Task rewards are paid the moment the last
//! task completes (PLUS-3); Challenge rewards by final rank after the end (PLUS-5). Rewards come
//! only from the reward budget, never commissions (PLUS-13); unspent budget returns to the seller.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::metrics::Metric;
use crate::model::{ContentKind, Creator, CreatorId, ProductId, SellerId, Traffic};
use crate::money::{Money, Rate};
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::choices::{AdsPrompt, RiskCheck};
use crate::rules::ids::*;
use crate::rules::ledger::{Account, EntryKind, Provenance};
use crate::rules::plans::PlanRef;
use crate::rules::{Platform, Refusal};
use crate::time::{HOUR, SimTime};

/// Minutes a seller has to pay after confirming (PLUS-15).
pub(crate) const PAY_WINDOW: u32 = 24 * HOUR;

/// A creator group: creators defined by attributes (PLUS-6).
#[derive(Clone, Debug, PartialEq)]
pub struct CreatorGroup {
    pub name: String,
    pub seller: SellerId,
    /// Category bitmask; a creator matches if it shares one (0 = any).
    pub categories: u64,
    pub(crate) min_level: u8,
    pub(crate) max_level: u8,
    pub min_followers: u32,
    pub(crate) max_followers: u32,
    /// Only LIVE-capable creators.
    pub(crate) live_only: bool,
}

impl CreatorGroup {
    pub fn matches(&self, c: &Creator) -> bool {
        (self.categories == 0 || self.categories & c.categories != 0)
            && (self.min_level..=self.max_level).contains(&c.level)
            && (self.min_followers..=self.max_followers).contains(&c.followers)
            && (!self.live_only || c.live)
    }
}

/// Which content counts towards a task or a challenge (PLUS-4, PLUS-5).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentFilter {
    Any,
    Video,
    Live,
}

/// What a task or challenge measures.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Sales: GMV of the creator's orders of the collaboration's products.
    Gmv,
    Orders,
    /// Content: posts (videos or LIVEs) about the collaboration's products.
    Posts,
}

/// One task (PLUS-4).
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub content: ContentFilter,
    pub objective: Objective,
    pub target: Decimal,
}

/// Task or Challenge (PLUS-2).
#[derive(Clone, Debug, PartialEq)]
pub enum PlusKind {
    /// Preferred reward per creator completing all tasks (PLUS-3).
    Task { reward: Money, tasks: Vec<Task> },
    /// Rewards by rank on a leaderboard of GMV or orders (PLUS-5).
    Challenge {
        objective: Objective,
        content: ContentFilter,
        rank_rewards: Vec<Money>,
        min_value: Decimal,
    },
}

/// Which platform policy decides creators and rewards (PLUS-7 model).
#[derive(Clone, Debug, PartialEq)]
pub enum PolicySpec {
    /// Take the seller's preferences as given: every group member, the preferred rewards.
    AsGiven,
    /// Fit the budget: for a Task, the most-followed members the budget can pay in full; for a
    /// Challenge, rank rewards scaled down to the budget.
    Budget,
}

/// A Collaboration Plus as the scenario defines it.
#[derive(Clone, Debug, PartialEq)]
pub struct PlusCampaign {
    pub name: String,
    pub seller: SellerId,
    pub group: GroupId,
    pub products: Vec<ProductId>,
    pub confirmed: SimTime,
    /// When the seller pays, if at all.
    pub paid: Option<SimTime>,
    pub start: SimTime,
    pub end: SimTime,
    pub budget: Money,
    pub service_fee: Money,
    /// Plus-exclusive standard rate (PLUS-9), if any.
    pub rate: Option<Rate>,
    pub shop_ads_rate: Option<Rate>,
    /// Free samples set per selected product, parallel to `products` (PLUS-14, PLUS-21): they
    /// apply only to this collaboration.
    pub samples: Vec<u32>,
    /// The Step 1 toggle: joining creators are prompted to authorise their videos for ads
    /// (PLUS-22).
    pub(crate) ads_prompt: bool,
    pub kind: PlusKind,
    pub policy: PolicySpec,
    /// At most this many creators (a policy parameter), if set.
    pub max_creators: Option<u32>,
    /// Days after the end that the excess service fee is refunded (PLUS-16: within 7).
    pub(crate) refund_days: u32,
    pub scripted: bool,
}

/// Where a collaboration is (PLUS-15).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlusStatus {
    Draft,
    PendingPayment,
    /// Not paid within 24 hours: never starts.
    Unpaid,
    Paid,
    Ongoing,
    Ended,
    Cancelled,
}

/// A creator's status in a collaboration (PLUS-17).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum CreatorStatus {
    #[serde(rename = "unfinished")]
    Unfinished,
    #[serde(rename = "haven't fulfilled")]
    HaventFulfilled,
    #[serde(rename = "finished")]
    Finished,
}

impl CreatorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CreatorStatus::Unfinished => "unfinished",
            CreatorStatus::HaventFulfilled => "haven't fulfilled",
            CreatorStatus::Finished => "finished",
        }
    }
}

/// A creator taking part.
#[derive(Clone, Debug, Serialize)]
pub struct Participant {
    pub campaign: PlusId,
    pub creator: CreatorId,
    pub joined: SimTime,
    /// Posts, orders and GMV during the period, by content: [video, live, other].
    pub posts: [u32; 3],
    pub orders: [u32; 3],
    pub gmv: [Money; 3],
    /// When the measured value last changed (Challenge tie-break).
    pub(crate) last_change: SimTime,
    pub(crate) sample_received: bool,
    pub posted: bool,
    pub finished: bool,
    pub reward: Money,
    pub(crate) reward_cancelled: bool,
    /// Authorised its videos for ads when the collaboration prompted it on joining (PLUS-22).
    pub(crate) ads_authorised: bool,
    /// The status fixed when the collaboration ended (PLUS-17).
    pub(crate) final_status: Option<CreatorStatus>,
}

impl Participant {
    /// The participant's measured value of `objective` for `content` (PLUS-4, PLUS-5).
    pub(crate) fn value_of(&self, objective: Objective, content: ContentFilter) -> Decimal {
        self.value(objective, content)
    }

    fn value(&self, objective: Objective, content: ContentFilter) -> Decimal {
        let pick = |a: [Decimal; 3]| match content {
            ContentFilter::Video => a[0],
            ContentFilter::Live => a[1],
            ContentFilter::Any => a[0] + a[1] + a[2],
        };
        match objective {
            Objective::Gmv => pick(self.gmv.map(|m| m.0)),
            Objective::Orders => pick(self.orders.map(Decimal::from)),
            Objective::Posts => pick(self.posts.map(Decimal::from)),
        }
    }
}

/// How the achievement that the service fee is charged by is measured (PLUS-16 model,
/// `rules.plus_fee_measure`; the seed says only "if the objectives are not achieved or only
/// achieved partially, you will only be charged partially").
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlusFeeMeasure {
    /// Rewards earned (paid or cancelled by risk control) over the rewards full achievement would
    /// earn: `reward` × creators selected (Task), the sum of the rank rewards (Challenge).
    #[default]
    Rewards,
    /// Progress on the objectives: per selected creator, the mean over its tasks of
    /// min(value ÷ target, 1), averaged over the creators selected (Task); per rewarded rank, the
    /// ranked value's progress towards `min_value` (1 for any value above 0 when `min_value` is
    /// 0), averaged over the ranks (Challenge).
    Objectives,
}

/// The achievement behind a service fee (PLUS-16): `achieved` out of `full`, the share charged
/// (`achieved ÷ full`, at most 1; 0 when `full` is 0).
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct Achievement {
    pub measure: PlusFeeMeasure,
    pub achieved: Decimal,
    pub full: Decimal,
    pub share: Decimal,
}

/// One row of a Challenge leaderboard (PLUS-5): a participant, its measured value and when that
/// value last changed (the tie-break).
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct Standing {
    pub(crate) participant: ParticipantId,
    pub creator: CreatorId,
    pub value: Decimal,
    pub(crate) last_change: SimTime,
    /// Ranked: the value is above 0 and at least `min_value`.
    pub eligible: bool,
}

/// A collaboration's state.
#[derive(Clone, Debug, Serialize)]
pub struct PlusState {
    pub status: PlusStatus,
    /// The reward per finishing creator (Task) as the policy set it.
    pub reward: Money,
    /// Rank rewards as the policy set them (Challenge).
    pub(crate) rank_rewards: Vec<Money>,
    pub selected: Vec<CreatorId>,
    pub(crate) budget_left: Money,
    pub(crate) fee_held: Money,
    pub fee_charged: Money,
    pub fee_refunded: Money,
    pub rewards_paid: Money,
    pub(crate) rewards_cancelled: Money,
    pub(crate) budget_returned: Money,
    /// Free samples left per product, parallel to the collaboration's `products` (PLUS-21).
    pub(crate) samples_left: Vec<u32>,
    pub(crate) tax_document: Option<NaiveDate>,
    pub participants: Vec<ParticipantId>,
}

/// The Plus book.
#[derive(Clone, Debug, Default)]
pub struct PlusBook {
    pub groups: Vec<CreatorGroup>,
    pub campaigns: Vec<PlusCampaign>,
    pub state: Vec<PlusState>,
    pub participants: Vec<Participant>,
    /// Participants by (creator, product): looked up, never iterated.
    pub(crate) by_pair: crate::rules::plans::PairIndex<ParticipantId>,
}

impl PlusBook {
    pub fn add(&mut self, c: PlusCampaign) {
        self.state.push(PlusState {
            status: PlusStatus::Draft,
            reward: Money::ZERO,
            rank_rewards: Vec::new(),
            selected: Vec::new(),
            budget_left: Money::ZERO,
            fee_held: Money::ZERO,
            fee_charged: Money::ZERO,
            fee_refunded: Money::ZERO,
            rewards_paid: Money::ZERO,
            rewards_cancelled: Money::ZERO,
            budget_returned: Money::ZERO,
            samples_left: c.samples.clone(),
            tax_document: None,
            participants: Vec::new(),
        });
        self.campaigns.push(c);
    }

    /// The participant of `creator` in `campaign`.
    pub(crate) fn participant_of(&self, campaign: PlusId, c: CreatorId) -> Option<ParticipantId> {
        self.state[campaign.index()]
            .participants
            .iter()
            .copied()
            .find(|&p| self.participants[p.index()].creator == c)
    }

    /// The Plus terms for (creator, product) at `t`: a participant of an ongoing collaboration
    /// in its period (ATTR-3, PLUS-11). Returns the participant and campaign.
    pub(crate) fn active(
        &self,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
    ) -> Option<(ParticipantId, &PlusCampaign)> {
        let parts = self.by_pair.get(c.0, p.0)?;
        parts.iter().rev().find_map(|&i| {
            let part = &self.participants[i.index()];
            let camp = &self.campaigns[part.campaign.index()];
            let st = &self.state[part.campaign.index()];
            (st.status == PlusStatus::Ongoing
                && part.joined <= t
                && t >= camp.start
                && t < camp.end)
                .then_some((i, camp))
        })
    }

    /// The participant of an ongoing collaboration with product `p`, in its period at `t`, that
    /// prompted for ads authorisation and whose creator authorised (PLUS-22): ads on `creator`'s
    /// videos of `p` are then authorised.
    pub(crate) fn prompt_authorised(
        &self,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
    ) -> Option<ParticipantId> {
        let parts = self.by_pair.get(c.0, p.0)?;
        parts.iter().rev().copied().find(|&i| {
            let part = &self.participants[i.index()];
            let camp = &self.campaigns[part.campaign.index()];
            part.ads_authorised
                && camp.ads_prompt
                && self.state[part.campaign.index()].status == PlusStatus::Ongoing
                && part.joined <= t
                && t >= camp.start
                && t < camp.end
        })
    }

    /// The Challenge leaderboard (PLUS-5): every participant by measured value, highest first;
    /// ties by the earlier time the value last changed, then by creator id — the order in which
    /// the scenario lists its named creators (then generated creators by number). Participants
    /// who are not eligible (a value of 0 or below `min_value`) come last, in the same order.
    /// Empty for a Task.
    // rule: PLUS-5
    pub fn leaderboard(&self, c: PlusId) -> Vec<Standing> {
        let PlusKind::Challenge {
            objective,
            content,
            min_value,
            ..
        } = &self.campaigns[c.index()].kind
        else {
            return Vec::new();
        };
        let mut rows: Vec<Standing> = self.state[c.index()]
            .participants
            .iter()
            .map(|&i| {
                let p = &self.participants[i.index()];
                let value = p.value(*objective, *content);
                Standing {
                    participant: i,
                    creator: p.creator,
                    value,
                    last_change: p.last_change,
                    eligible: value >= *min_value && value > Decimal::ZERO,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.eligible
                .cmp(&a.eligible)
                .then(b.value.cmp(&a.value))
                .then(a.last_change.cmp(&b.last_change))
                .then(a.creator.0.cmp(&b.creator.0))
        });
        rows
    }

    /// How much of a collaboration's objective was achieved, by `measure` (PLUS-16).
    // rule: PLUS-16
    pub fn achievement(&self, c: PlusId, measure: PlusFeeMeasure) -> Achievement {
        let camp = &self.campaigns[c.index()];
        let st = &self.state[c.index()];
        let (achieved, full) = match (measure, &camp.kind) {
            (PlusFeeMeasure::Rewards, PlusKind::Task { .. }) => (
                st.rewards_paid.0 + st.rewards_cancelled.0,
                st.reward.0 * Decimal::from(st.selected.len() as u64),
            ),
            (PlusFeeMeasure::Rewards, PlusKind::Challenge { .. }) => (
                st.rewards_paid.0 + st.rewards_cancelled.0,
                st.rank_rewards.iter().map(|m| m.0).sum(),
            ),
            (PlusFeeMeasure::Objectives, PlusKind::Task { tasks, .. }) => {
                // Selected creators who never joined made no progress.
                let progress: Decimal = st
                    .participants
                    .iter()
                    .map(|&i| {
                        let p = &self.participants[i.index()];
                        let sum: Decimal = tasks
                            .iter()
                            .map(|task| {
                                progress(p.value(task.objective, task.content), task.target)
                            })
                            .sum();
                        if tasks.is_empty() {
                            Decimal::ZERO
                        } else {
                            sum / Decimal::from(tasks.len() as u64)
                        }
                    })
                    .sum();
                (progress, Decimal::from(st.selected.len() as u64))
            }
            (PlusFeeMeasure::Objectives, PlusKind::Challenge { min_value, .. }) => {
                let ranks = st.rank_rewards.len();
                let progress: Decimal = self
                    .leaderboard(c)
                    .iter()
                    .take(ranks)
                    .map(|row| {
                        if min_value.is_zero() {
                            if row.value > Decimal::ZERO {
                                Decimal::ONE
                            } else {
                                Decimal::ZERO
                            }
                        } else {
                            progress(row.value, *min_value)
                        }
                    })
                    .sum();
                (progress, Decimal::from(ranks as u64))
            }
        };
        // With nothing to achieve (no creator selected, no reward) nothing was achieved.
        let share = if full.is_zero() {
            Decimal::ZERO
        } else {
            (achieved / full).min(Decimal::ONE)
        };
        Achievement {
            measure,
            achieved,
            full,
            share,
        }
    }

    /// Reward budgets and service fees the platform holds now.
    pub fn held(&self) -> (Money, Money) {
        self.state
            .iter()
            .fold((Money::ZERO, Money::ZERO), |(b, f), s| {
                (b + s.budget_left, f + s.fee_held)
            })
    }

    /// A participant's status (PLUS-17).
    // rule: PLUS-17
    pub(crate) fn creator_status(&self, part: ParticipantId) -> CreatorStatus {
        let p = &self.participants[part.index()];
        if let Some(s) = p.final_status {
            return s;
        }
        if p.finished {
            CreatorStatus::Finished
        } else if p.sample_received && !p.posted {
            CreatorStatus::HaventFulfilled
        } else {
            CreatorStatus::Unfinished
        }
    }
}

/// Progress of `value` towards `target`: min(value ÷ target, 1); a target of 0 is reached.
fn progress(value: Decimal, target: Decimal) -> Decimal {
    if target <= Decimal::ZERO {
        Decimal::ONE
    } else {
        (value / target).min(Decimal::ONE)
    }
}

/// What a participant did, for Plus progress.
#[derive(Copy, Clone)]
enum Progress {
    Post(ContentKind),
    Order(Traffic, Money),
}

fn slot(traffic: Traffic) -> usize {
    match traffic {
        Traffic::Video | Traffic::Ad => 0,
        Traffic::Live => 1,
        Traffic::Showcase => 2,
    }
}

impl Platform {
    fn plus_prov(&self, c: PlusId, rules: RuleSet) -> Provenance {
        Provenance {
            plan: PlanRef::Plus(c),
            rules,
            rate: None,
            order: None,
            rate_since: None,
        }
    }

    /// The seller confirms: the collaboration is pending payment and can no longer be edited
    /// (PLUS-15).
    // rule: PLUS-15
    ///
    /// PLUS-9 is checked here, against the Open rates in force at `t` (a scripted change before
    /// confirmation counts): a Plus rate not above them is refused and the collaboration is
    /// cancelled before it reaches pending payment (it never starts).
    pub(crate) fn plus_confirm(&mut self, c: PlusId, t: SimTime) -> Result<(), Refusal> {
        // A collaboration cancelled (or otherwise moved on) before confirmation stays so.
        if self.books.plus.state[c.index()].status != PlusStatus::Draft {
            return Ok(());
        }
        if let Some(msg) = self.plus9_conflict(c, t) {
            self.fired.insert(RuleId::Plus9);
            self.books.plus.state[c.index()].status = PlusStatus::Cancelled;
            return Err(Refusal::new(RuleId::Plus9, msg));
        }
        self.books.plus.state[c.index()].status = PlusStatus::PendingPayment;
        self.fired
            .extend(RuleSet::of(&[RuleId::Plus1, RuleId::Plus2, RuleId::Plus15]));
        Ok(())
    }

    /// PLUS-9 against the Open rates in force at `t`: the first product whose Plus standard or
    /// Shop Ads rate is not above its Open rate (Shop Ads like for like where Open sets one).
    // rule: PLUS-9
    pub(crate) fn plus9_conflict(&self, c: PlusId, t: SimTime) -> Option<String> {
        let camp = &self.books.plus.campaigns[c.index()];
        for &p in &camp.products {
            let Some(l) = self.books.listing_of(p) else {
                continue;
            };
            let Some((open, _, _)) = self.books.open_rate(l, t, t) else {
                continue;
            };
            let open_ads = self.books.open_shop_ads(l, t).map(|x| x.0);
            for (plus, against, what) in [
                (camp.rate, open, "Open rate"),
                (
                    camp.shop_ads_rate,
                    open_ads.unwrap_or(open),
                    if open_ads.is_some() {
                        "Open Shop Ads rate"
                    } else {
                        "Open rate"
                    },
                ),
            ] {
                if let Some(r) = plus
                    && r <= against
                {
                    return Some(format!(
                        "the Plus rate {r} must be higher than the {what} {against} in force for product #{}",
                        p.0
                    ));
                }
            }
        }
        None
    }

    /// The seller pays: the reward budget and the service fee are deposited (PLUS-15, PLUS-16);
    /// the tax document is dated the 7th of the next month (PLUS-20). Refused after the 24-hour
    /// window.
    // rule: PLUS-16
    // rule: PLUS-20
    pub(crate) fn plus_pay(&mut self, c: PlusId, t: SimTime) -> Result<(), Refusal> {
        let camp = self.books.plus.campaigns[c.index()].clone();
        let st = &self.books.plus.state[c.index()];
        if st.status != PlusStatus::PendingPayment {
            return Err(Refusal::new(
                RuleId::Plus15,
                format!("the collaboration is not pending payment ({:?})", st.status),
            ));
        }
        if t >= camp.start {
            return Err(Refusal::new(
                RuleId::Plus15,
                "payment after the start: the collaboration never starts",
            ));
        }
        if t.since(camp.confirmed) > PAY_WINDOW {
            return Err(Refusal::new(
                RuleId::Plus15,
                "the 24-hour payment window has passed: the collaboration never starts",
            ));
        }
        let prov = self.plus_prov(c, RuleSet::of(&[RuleId::Plus15, RuleId::Plus16]));
        let seller = Account::seller(camp.seller);
        self.ledger.post(
            t,
            EntryKind::RewardDeposit,
            seller,
            Account::RewardBudget,
            camp.budget,
            prov,
        );
        self.ledger.post(
            t,
            EntryKind::ServiceFeeDeposit,
            seller,
            Account::ServiceFeeHold,
            camp.service_fee,
            prov,
        );
        let tax = self.calendar.seventh_of_next_month(t);
        let st = &mut self.books.plus.state[c.index()];
        st.status = PlusStatus::Paid;
        st.budget_left = camp.budget;
        st.fee_held = camp.service_fee;
        st.tax_document = Some(tax);
        self.fired.extend(RuleSet::of(&[
            RuleId::Plus15,
            RuleId::Plus16,
            RuleId::Plus20,
        ]));
        Ok(())
    }

    /// The payment window closes: an unpaid collaboration never starts (PLUS-15).
    pub(crate) fn plus_payment_deadline(&mut self, c: PlusId) {
        let st = &mut self.books.plus.state[c.index()];
        if st.status == PlusStatus::PendingPayment {
            st.status = PlusStatus::Unpaid;
            self.fired.insert(RuleId::Plus15);
        }
    }

    /// An edit of the details: refused from pending payment on (PLUS-15).
    pub(crate) fn plus_edit(&mut self, c: PlusId) -> Result<(), Refusal> {
        let st = &self.books.plus.state[c.index()];
        if st.status == PlusStatus::Draft {
            return Ok(());
        }
        self.fired.insert(RuleId::Plus15);
        Err(Refusal::new(
            RuleId::Plus15,
            "details cannot be edited from pending payment on",
        ))
    }

    /// A cancellation: refused once ongoing (PLUS-15); before the start it returns the deposits.
    pub(crate) fn plus_cancel(&mut self, c: PlusId, t: SimTime) -> Result<(), Refusal> {
        let st = self.books.plus.state[c.index()].clone();
        self.fired.insert(RuleId::Plus15);
        match st.status {
            PlusStatus::Ongoing | PlusStatus::Ended => Err(Refusal::new(
                RuleId::Plus15,
                "an ongoing collaboration cannot be cancelled",
            )),
            PlusStatus::Cancelled | PlusStatus::Unpaid => Err(Refusal::new(
                RuleId::Plus15,
                "the collaboration is not active",
            )),
            _ => {
                let seller = Account::seller(self.books.plus.campaigns[c.index()].seller);
                let prov = self.plus_prov(c, RuleSet::of(&[RuleId::Plus15]));
                self.ledger.post(
                    t,
                    EntryKind::RewardReturn,
                    Account::RewardBudget,
                    seller,
                    st.budget_left,
                    prov,
                );
                self.ledger.post(
                    t,
                    EntryKind::ServiceFeeRefund,
                    Account::ServiceFeeHold,
                    seller,
                    st.fee_held,
                    prov,
                );
                self.tally.add(Metric::ServiceFeesRefunded, st.fee_held.0);
                let s = &mut self.books.plus.state[c.index()];
                s.budget_returned += s.budget_left;
                s.fee_refunded += s.fee_held;
                s.budget_left = Money::ZERO;
                s.fee_held = Money::ZERO;
                s.status = PlusStatus::Cancelled;
                Ok(())
            }
        }
    }

    /// The period starts: a paid collaboration goes live with the platform's selection
    /// (PLUS-7). Returns false if it never started (unpaid, cancelled).
    // rule: PLUS-7
    // rule: PLUS-19
    pub(crate) fn plus_start(
        &mut self,
        c: PlusId,
        selected: Vec<CreatorId>,
        reward: Money,
        rank_rewards: Vec<Money>,
    ) -> bool {
        if self.books.plus.state[c.index()].status != PlusStatus::Paid {
            return false;
        }
        // Concurrent: another paid collaboration of the seller whose period overlaps this one's.
        let me = &self.books.plus.campaigns[c.index()];
        let concurrent = (0..self.books.plus.campaigns.len()).any(|o| {
            let other = &self.books.plus.campaigns[o];
            o != c.index()
                && other.seller == me.seller
                && matches!(
                    self.books.plus.state[o].status,
                    PlusStatus::Paid | PlusStatus::Ongoing | PlusStatus::Ended
                )
                && other.start < me.end
                && me.start < other.end
        });
        if concurrent {
            self.fired.insert(RuleId::Plus19);
        }
        let st = &mut self.books.plus.state[c.index()];
        st.status = PlusStatus::Ongoing;
        st.selected = selected;
        st.reward = reward;
        st.rank_rewards = rank_rewards;
        self.fired.extend(RuleSet::of(&[
            RuleId::Plus2,
            RuleId::Plus6,
            RuleId::Plus7,
            RuleId::Plus8,
        ]));
        true
    }

    /// A selected creator joins (PLUS-7: only creators the platform selected). When the
    /// collaboration prompts for ads authorisation (PLUS-22), `authorises_ads` is the creator's
    /// answer (a behaviour draw or the script); otherwise it is ignored.
    pub(crate) fn plus_join(
        &mut self,
        c: PlusId,
        creator: CreatorId,
        t: SimTime,
        ads: AdsPrompt,
    ) -> Result<ParticipantId, Refusal> {
        let authorises_ads = ads == AdsPrompt::Authorise;
        let camp = &self.books.plus.campaigns[c.index()];
        let st = &self.books.plus.state[c.index()];
        if st.status != PlusStatus::Ongoing || t >= camp.end {
            return Err(Refusal::new(
                RuleId::Plus15,
                "the collaboration is not ongoing",
            ));
        }
        if !st.selected.contains(&creator) {
            return Err(Refusal::new(
                RuleId::Plus7,
                "the platform did not select this creator",
            ));
        }
        if self.books.plus.participant_of(c, creator).is_some() {
            return Err(Refusal::new(
                RuleId::Plus7,
                "the creator has already joined",
            ));
        }
        let products = camp.products.clone();
        // rule: PLUS-22 — the prompt is shown only where the seller turned it on in Step 1
        let ads_authorised = camp.ads_prompt && authorises_ads;
        if camp.ads_prompt {
            self.fired.insert(RuleId::Plus22);
        }
        let i = ParticipantId::at(self.books.plus.participants.len());
        self.books.plus.participants.push(Participant {
            campaign: c,
            creator,
            joined: t,
            posts: [0; 3],
            orders: [0; 3],
            gmv: [Money::ZERO; 3],
            last_change: t,
            sample_received: false,
            posted: false,
            finished: false,
            reward: Money::ZERO,
            reward_cancelled: false,
            ads_authorised,
            final_status: None,
        });
        self.books.plus.state[c.index()].participants.push(i);
        for p in products {
            self.books.plus.by_pair.push(creator.0, p.0, i);
            if self.showcase_entry(creator, p).is_none() {
                let e = crate::rules::attribution::ShowcaseEntry {
                    product: p,
                    via: crate::rules::attribution::Via::Plus(c),
                    since: t,
                };
                self.creators[creator.idx()].lists.showcase.push(e);
            }
        }
        self.tally.count(Metric::PlusParticipants);
        Ok(i)
    }

    /// A participant requests a free sample of `product` (the product it will promote; `None`:
    /// the first of the collaboration's products with samples left): pre-approved, shipped
    /// without seller review (PLUS-14). Samples are set per product and apply only to this
    /// collaboration (PLUS-21). Returns the sample.
    // rule: PLUS-14
    // rule: PLUS-21
    pub(crate) fn plus_request_sample(
        &mut self,
        part: ParticipantId,
        product: Option<ProductId>,
        t: SimTime,
    ) -> Result<SampleId, Refusal> {
        let (c, creator) = {
            let p = &self.books.plus.participants[part.index()];
            (p.campaign, p.creator)
        };
        if self.books.plus.state[c.index()].status != PlusStatus::Ongoing
            || t >= self.books.plus.campaigns[c.index()].end
        {
            return Err(Refusal::new(
                RuleId::Plus14,
                "samples can be requested only while the collaboration is ongoing",
            ));
        }
        let camp = &self.books.plus.campaigns[c.index()];
        let st = &self.books.plus.state[c.index()];
        let k = match product {
            Some(p) => {
                let Some(k) = camp.products.iter().position(|&x| x == p) else {
                    return Err(Refusal::new(
                        RuleId::Plus21,
                        "the product is not in this collaboration: its free samples apply only to its own products",
                    ));
                };
                if camp.samples[k] == 0 {
                    return Err(Refusal::new(
                        RuleId::Plus21,
                        "the collaboration sets no free samples for this product",
                    ));
                }
                if st.samples_left[k] == 0 {
                    return Err(Refusal::new(
                        RuleId::Plus21,
                        "no Plus samples of this product left",
                    ));
                }
                k
            }
            None => match st.samples_left.iter().position(|&n| n > 0) {
                Some(k) => k,
                None => return Err(Refusal::new(RuleId::Plus14, "no Plus samples left")),
            },
        };
        let product = camp.products[k];
        self.books.plus.state[c.index()].samples_left[k] -= 1;
        self.fired
            .extend(RuleSet::of(&[RuleId::Plus14, RuleId::Plus21]));
        let s = self.ship_sample(creator, product);
        self.samples[s.index()].plus = Some(part);
        Ok(s)
    }

    /// The free samples shipped for collaboration `c`, in request order: (creator, product)
    /// (PLUS-21).
    pub(crate) fn plus_samples(
        &self,
        c: PlusId,
    ) -> impl Iterator<Item = (CreatorId, ProductId)> + '_ {
        self.samples.iter().filter_map(move |s| {
            let part = &self.books.plus.participants[s.plus?.index()];
            (part.campaign == c).then_some((part.creator, s.product))
        })
    }

    /// Records a post for Plus progress (PLUS-4) and sample fulfilment (PLUS-14, PLUS-17).
    /// Participants whose tasks just completed are pushed to `done`.
    pub(crate) fn plus_note_post(
        &mut self,
        creator: CreatorId,
        p: ProductId,
        kind: ContentKind,
        t: SimTime,
        done: &mut Vec<ParticipantId>,
    ) {
        self.plus_progress(creator, p, t, done, Progress::Post(kind));
    }

    /// Records an order for Plus progress (PLUS-4, PLUS-5).
    pub(crate) fn plus_note_order(
        &mut self,
        creator: CreatorId,
        p: ProductId,
        traffic: Traffic,
        gross: Money,
        t: SimTime,
        done: &mut Vec<ParticipantId>,
    ) {
        self.plus_progress(creator, p, t, done, Progress::Order(traffic, gross));
    }

    /// Adds a post or an order to every participation of `creator` in an ongoing collaboration
    /// with product `p`, from joining and within the period.
    fn plus_progress(
        &mut self,
        creator: CreatorId,
        p: ProductId,
        t: SimTime,
        done: &mut Vec<ParticipantId>,
        what: Progress,
    ) {
        // Index, not clone: no allocation per event (the list does not change here).
        let key = (creator.0, p.0);
        let n = self
            .books
            .plus
            .by_pair
            .get(key.0, key.1)
            .map_or(0, Vec::len);
        for k in 0..n {
            let i = self
                .books
                .plus
                .by_pair
                .get(key.0, key.1)
                .map_or(ParticipantId(0), |l| l[k]);
            let part = &self.books.plus.participants[i.index()];
            let camp = &self.books.plus.campaigns[part.campaign.index()];
            if self.books.plus.state[part.campaign.index()].status != PlusStatus::Ongoing
                || t < camp.start
                || t >= camp.end
                || t < part.joined
            {
                continue;
            }
            // The Challenge tie-break: when the measured value last changed (PLUS-5).
            let measured = match (&camp.kind, what) {
                (PlusKind::Challenge { content, .. }, Progress::Order(traffic, _)) => match content
                {
                    ContentFilter::Any => true,
                    ContentFilter::Video => slot(traffic) == 0,
                    ContentFilter::Live => slot(traffic) == 1,
                },
                _ => false,
            };
            let part = &mut self.books.plus.participants[i.index()];
            match what {
                Progress::Post(kind) => {
                    part.posts[if kind == ContentKind::Live { 1 } else { 0 }] += 1;
                    part.posted = true;
                }
                Progress::Order(traffic, gross) => {
                    part.orders[slot(traffic)] += 1;
                    part.gmv[slot(traffic)] += gross;
                }
            }
            if measured {
                part.last_change = t;
            }
            self.plus_check_tasks(i, done);
        }
    }

    // rule: PLUS-3
    // rule: PLUS-4
    fn plus_check_tasks(&mut self, i: ParticipantId, done: &mut Vec<ParticipantId>) {
        let part = &self.books.plus.participants[i.index()];
        if part.finished {
            return;
        }
        let PlusKind::Task { tasks, .. } = &self.books.plus.campaigns[part.campaign.index()].kind
        else {
            return;
        };
        if tasks
            .iter()
            .all(|task| part.value(task.objective, task.content) >= task.target)
        {
            self.books.plus.participants[i.index()].finished = true;
            self.fired
                .extend(RuleSet::of(&[RuleId::Plus3, RuleId::Plus4]));
            done.push(i);
        }
    }

    /// Pays a participant's reward from the reward budget, unless risk control cancels it
    /// (PLUS-18). A reward the remaining budget cannot cover is not paid: budgets are never
    /// overdrawn. Returns the amount paid.
    // rule: PLUS-18
    pub(crate) fn plus_pay_reward(
        &mut self,
        part: ParticipantId,
        amount: Money,
        risk: RiskCheck,
        t: SimTime,
    ) -> Money {
        let (c, creator) = {
            let p = &self.books.plus.participants[part.index()];
            (p.campaign, p.creator)
        };
        if amount.is_zero() {
            return Money::ZERO;
        }
        if risk == RiskCheck::Cancel {
            let st = &mut self.books.plus.state[c.index()];
            st.rewards_cancelled += amount;
            self.books.plus.participants[part.index()].reward_cancelled = true;
            self.tally.add(Metric::RewardsCancelled, amount.0);
            self.fired.insert(RuleId::Plus18);
            return Money::ZERO;
        }
        let st = &self.books.plus.state[c.index()];
        if st.budget_left < amount {
            self.fired.insert(RuleId::Plus16);
            return Money::ZERO;
        }
        let prov = self.plus_prov(
            c,
            RuleSet::of(&[RuleId::Plus3, RuleId::Plus5, RuleId::Plus13]),
        );
        self.ledger.post(
            t,
            EntryKind::RewardPaid,
            Account::RewardBudget,
            Account::creator(creator),
            amount,
            prov,
        );
        let st = &mut self.books.plus.state[c.index()];
        st.budget_left -= amount;
        st.rewards_paid += amount;
        self.books.plus.participants[part.index()].reward = amount;
        self.tally.add(Metric::RewardsPaid, amount.0);
        self.fired.insert(RuleId::Plus13);
        amount
    }

    /// The final Challenge ranking (PLUS-5): the eligible rows of the leaderboard
    /// ([`PlusBook::leaderboard`]) matched with the rank rewards. Returns (participant, reward)
    /// for the rewarded ranks.
    // rule: PLUS-5
    pub(crate) fn plus_ranking(&mut self, c: PlusId) -> Vec<(ParticipantId, Money)> {
        if !matches!(
            self.books.plus.campaigns[c.index()].kind,
            PlusKind::Challenge { .. }
        ) {
            return Vec::new();
        }
        let board = self.books.plus.leaderboard(c);
        self.fired.insert(RuleId::Plus5);
        board
            .iter()
            .filter(|r| r.eligible)
            .zip(self.books.plus.state[c.index()].rank_rewards.iter())
            .map(|(r, m)| (r.participant, *m))
            .collect()
    }

    /// The period ends: winners are marked finished, the service fee is charged by how much of
    /// the objective was achieved (PLUS-16), and the unspent budget returns to the seller.
    /// Returns the time the excess fee is refunded, if any.
    pub(crate) fn plus_end(
        &mut self,
        c: PlusId,
        winners: &[ParticipantId],
        t: SimTime,
    ) -> Option<SimTime> {
        if self.books.plus.state[c.index()].status != PlusStatus::Ongoing {
            return None;
        }
        for &w in winners {
            self.books.plus.participants[w.index()].finished = true;
        }
        let camp = self.books.plus.campaigns[c.index()].clone();
        let st = self.books.plus.state[c.index()].clone();
        // Achievement by the rule set's measure (rules.plus_fee_measure); with nothing to achieve
        // (no creator selected, a full reward of 0) nothing was achieved and nothing is charged.
        let share = self
            .books
            .plus
            .achievement(c, self.opts.plus_fee_measure)
            .share;
        let charged = self.opts.rounding.apply(camp.service_fee.0 * share);
        let prov = self.plus_prov(c, RuleSet::of(&[RuleId::Plus16]));
        let seller = Account::seller(camp.seller);
        self.ledger.post(
            t,
            EntryKind::ServiceFeeCharged,
            Account::ServiceFeeHold,
            Account::Platform,
            charged,
            prov,
        );
        self.ledger.post(
            t,
            EntryKind::RewardReturn,
            Account::RewardBudget,
            seller,
            st.budget_left,
            prov,
        );
        self.tally.add(Metric::ServiceFeesCharged, charged.0);
        let s = &mut self.books.plus.state[c.index()];
        s.fee_charged = charged;
        s.fee_held -= charged;
        s.budget_returned += s.budget_left;
        s.budget_left = Money::ZERO;
        s.status = PlusStatus::Ended;
        self.fired.insert(RuleId::Plus16);
        // Statuses at the end (PLUS-17).
        let parts = s.participants.clone();
        for p in parts {
            let status = self.books.plus.creator_status(p);
            self.books.plus.participants[p.index()].final_status = Some(status);
            let m = match status {
                CreatorStatus::Finished => Metric::PlusFinished,
                CreatorStatus::HaventFulfilled => Metric::PlusNotFulfilled,
                CreatorStatus::Unfinished => Metric::PlusUnfinished,
            };
            self.tally.count(m);
        }
        self.fired.insert(RuleId::Plus17);
        let left = self.books.plus.state[c.index()].fee_held;
        (!left.is_zero()).then(|| t.plus_days(camp.refund_days))
    }

    /// Refunds the excess service fee to the seller's original payment (PLUS-16).
    pub(crate) fn plus_refund_fee(&mut self, c: PlusId, t: SimTime) {
        let s = &self.books.plus.state[c.index()];
        let amount = s.fee_held;
        let seller = Account::seller(self.books.plus.campaigns[c.index()].seller);
        let prov = self.plus_prov(c, RuleSet::of(&[RuleId::Plus16]));
        self.ledger.post(
            t,
            EntryKind::ServiceFeeRefund,
            Account::ServiceFeeHold,
            seller,
            amount,
            prov,
        );
        self.tally.add(Metric::ServiceFeesRefunded, amount.0);
        let s = &mut self.books.plus.state[c.index()];
        s.fee_refunded += amount;
        s.fee_held = Money::ZERO;
    }
}
