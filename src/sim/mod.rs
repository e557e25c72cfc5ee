//! The simulator: owns time, the event queue and the random streams, and asks the rules engine.
//!
//! [`run_replication`] builds the world for (scenario, replication), pops events in
//! (time, phase, sequence) order, lets behaviour models choose, lets the rules engine decide and
//! pay, and aggregates as it goes: settled lines are folded into tallies and freed.

//!
//! The `World` of a replication is split the way `rules/` is: `kernel.rs` (building the world, the
//! loop, dispatch), `script.rs` (scripted events), `outcome.rs` (the `Replication`), `creators.rs`
//! and `orders.rs` (creators' and buyers' behaviour around posts and orders), and one file per plan
//! type's orchestration under `plans/`.

mod alias;
pub mod behaviour;
mod creators;
mod distributors;
pub(crate) mod incentives;
mod kernel;
mod memo;
mod orders;
mod outcome;
mod plan_changes;
mod plans;
pub(crate) mod policy;
pub(crate) mod population;
pub mod queue;
pub(crate) mod rng;
mod script;
pub(crate) mod seller_policy;
mod settlements;
pub mod shares;
mod showcase;
mod target_policy;
pub(crate) mod uncertainty;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::metrics::{EndMetric, Metric};
use crate::model::{Agents, ContentKind, CreatorId, ProductId};
use crate::money::Money;
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::choices::{Answer, Review};
use crate::rules::ids::{
    CampaignId, LineKey, ListingId, ParticipantId, PlusId, RegistrationId, SampleId, SlotId,
};
use crate::rules::ledger::{Entry, LedgerError};
use crate::rules::orders::OrderRecord;
use crate::rules::{Platform, Refusal};
use crate::scenario::{AccountRef, Scenario};
use crate::time::SimTime;
use queue::EventQueue;
use rng::Streams;

/// An event. Small and `Copy`: the queue holds them inline, nothing is boxed.
#[derive(Copy, Clone, Debug)]
enum Ev {
    /// The scripted event with this index.
    Script(u32),
    /// A seller policy's review (`[[seller_policies]]`, sim/seller_policy.rs).
    SellerPolicy(u32),
    /// A seller's Target invitation policy reviews (TARGET-8, sim/target_policy.rs).
    TargetPolicy(u32),
    /// A creator acts (searches for a product or posts).
    Wake(CreatorId),
    /// A seller's decision on an Open application.
    Decide {
        creator: CreatorId,
        listing: ListingId,
        review: Review,
    },
    /// A creator posts.
    Post {
        creator: CreatorId,
        product: ProductId,
        kind: ContentKind,
        authorised: bool,
    },
    /// The next order of a content item.
    Demand(u32),
    /// Ships a line; it is delivered at `deliver` or, when that is `SimTime::NEVER`, after the
    /// logistics model's delay.
    Ship {
        key: LineKey,
        deliver: SimTime,
    },
    Deliver(LineKey),
    /// The lines of a settlement batch settle, in order (`settlements.rs`; the loop runs them).
    SettleBatch(u32),
    Cancel(LineKey),
    /// A buyer returns `percent` of a line.
    Return {
        key: LineKey,
        percent: u8,
    },
    SampleArrive(SampleId),
    SampleDeadline(SampleId),
    /// Warning before an H-4 lock ends.
    LockWarning {
        listing: ListingId,
        changed: SimTime,
    },
    /// An invited creator answers (behaviour model).
    TargetRespond {
        slot: SlotId,
        answer: Answer,
    },
    /// A flat-fee invitation's acceptance window closes (H-8).
    TargetExpire(SlotId),
    /// A creator submits a flat-fee video (behaviour model).
    VideoSubmit(SlotId),
    /// A flat-fee video is reviewed (behaviour model).
    VideoReview {
        slot: SlotId,
        review: Review,
    },
    /// A flat-fee video deadline.
    VideoDeadline {
        slot: SlotId,
        deadline: SimTime,
    },
    /// A seller registers a product in a campaign (behaviour model).
    CampaignRegister {
        campaign: CampaignId,
        product: ProductId,
    },
    /// The distributor reviews a registration (behaviour model).
    RegReview {
        reg: RegistrationId,
        review: Review,
    },
    /// Creators holding a campaign's links are told they will soon expire (DIST-5).
    CampaignNotice(CampaignId),
    /// A campaign's promotion window ends (DIST-5).
    CampaignExpire(CampaignId),
    /// The 24-hour payment window of a Plus collaboration closes (PLUS-15).
    PlusPayDeadline(PlusId),
    /// A selected creator joins a Plus collaboration (behaviour model).
    PlusJoin {
        campaign: PlusId,
        creator: CreatorId,
    },
    /// The excess Plus service fee is refunded (PLUS-16).
    PlusRefund(PlusId),
}

/// Who asks for a plan action: the scenario's script (a refusal is reported, and no behaviour
/// model follows up) or a behaviour model (a refusal is silent).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum By {
    Script,
    Model,
}

impl By {
    fn scripted(self) -> bool {
        self == By::Script
    }
}

/// A content item still bringing orders. Aligned to 32 bytes (28 would do) so that none
/// straddles two cache lines: a `Demand` reads one line, not two.
#[derive(Copy, Clone, Debug)]
#[repr(align(32))]
struct Content {
    creator: CreatorId,
    product: ProductId,
    kind: ContentKind,
    authorised: bool,
    posted: SimTime,
    remaining: u32,
    /// The Target slot whose approved flat-fee video this is, if it is one (TARGET-4).
    video: Option<SlotId>,
}

/// Receives a replication's ledger entries while it runs, in batches and in posting order, so
/// that `ledger.csv` streams to disk instead of growing with the run (the entries of one batch
/// are forgotten once written).
pub trait LedgerSink: Send {
    /// Writes one batch. `agents` names the accounts.
    fn write(&mut self, agents: &Agents, entries: &[Entry]) -> std::io::Result<()>;
    /// Called once after the last batch.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Opens the ledger sink of replication `index` (called on the worker thread running it).
pub(crate) type LedgerSinks =
    std::sync::Arc<dyn Fn(u32) -> std::io::Result<Box<dyn LedgerSink>> + Send + Sync>;

/// Options of one replication run.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Keep every ledger entry (for `ledger.csv` and `explain`).
    pub record_ledger: bool,
    /// Stream the ledger entries to a sink per replication instead of keeping them (implies
    /// recording them); [`Replication::entries`] then stays empty.
    pub ledger_sink: Option<LedgerSinks>,
    /// Track these order numbers in detail (for `explain`).
    pub track: Vec<u64>,
    /// Set from outside (Ctrl-C) to stop: the replication ends with [`RunError::Interrupted`].
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Under the incentive model, record the state the closed-form elasticities need
    /// ([`Activity::shares`]; `affsim sensitivity`'s base arm). No effect on results.
    pub lever_shares: bool,
    /// With `lever_shares`: how far each rate of the Open and the Shop plan lever moves in the
    /// arms the closed form is compared with, relative to the lever's mean change (None: every
    /// rate alike). No effect on results.
    pub lever_weights: Option<std::sync::Arc<[shares::LeverWeights; 2]>>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("record_ledger", &self.record_ledger)
            .field("ledger_sink", &self.ledger_sink.is_some())
            .field("track", &self.track)
            .field("interrupt", &self.interrupt.is_some())
            .field("lever_shares", &self.lever_shares)
            .field("lever_weights", &self.lever_weights)
            .finish()
    }
}

impl RunOptions {
    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// How many events a replication had waiting — in the queue, and the settlement lines behind
/// their batch events, each counted as the event it stands for — sampled every 65,536 events:
/// the mean and the largest sample. For throughput figures (`--timing`, and comparing the event
/// loop with a bare heap holding as many events); never part of the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending {
    pub mean: u64,
    pub peak: u64,
}

/// Everything a replication reports.
#[derive(Clone, Debug, Serialize)]
pub struct Replication {
    pub index: u32,
    /// Metric totals, indexed like [`Metric::ALL`].
    #[serde(skip)]
    pub totals: Vec<Decimal>,
    /// End-state metrics: seller net, platform net, commissions pending.
    #[serde(skip)]
    pub end: [Decimal; 3],
    /// Per day, per metric: the day's flow.
    #[serde(skip)]
    pub daily: Vec<Vec<Decimal>>,
    pub events: u64,
    /// The events waiting, sampled every 65,536 events (for `--timing`; not in shard files).
    #[serde(skip)]
    pub pending: Pending,
    pub ledger_entries: u64,
    pub fired: RuleSet,
    /// Scripted refusals by rule, and their messages.
    pub refusals: Vec<(RuleId, String)>,
    /// Per scripted order: its record, or why it was refused.
    #[serde(skip)]
    pub scripted: Vec<Result<OrderRecord, Refusal>>,
    /// Tracked (explained) orders by number.
    #[serde(skip)]
    pub(crate) tracked: Vec<OrderRecord>,
    /// Balances of the accounts that expectations ask about.
    #[serde(skip)]
    pub accounts: Vec<(AccountRef, Money)>,
    /// Ledger entries, when recorded.
    #[serde(skip)]
    pub entries: Vec<Entry>,
    /// Per Collaboration Plus: its outcome.
    #[serde(skip)]
    pub plus: Vec<PlusRecord>,
    /// Per campaign and per seller: GMV, orders, costs, participants.
    #[serde(skip)]
    pub campaigns: crate::metrics::campaigns::CampaignResults,
    /// Display names of the agents (for ledger.csv and explanations).
    #[serde(skip)]
    pub agents: Option<std::sync::Arc<Agents>>,
    /// Creators' actions and, under the incentive model, their expected earnings at each
    /// action (the quantities `configured_elasticity` describes; `affsim sensitivity`).
    #[serde(skip)]
    pub activity: Activity,
}

/// What creators did at their wakes: actions (wakes at which a creator searched or posted,
/// idle wakes excluded) and, under the incentive model, the sum of ln(E*_c ÷ O_c) over those
/// actions (docs/behaviour.md §3, §6).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Activity {
    pub actions: u64,
    /// Actions at which the incentive model scored expected earnings (all of them when it is on).
    pub scored: u64,
    /// Σ ln(E*_c ÷ O_c) over the scored actions (E* floored as in choices).
    pub log_earnings: f64,
    /// The state behind the closed-form elasticities of the rate levers, when asked for
    /// ([`RunOptions::lever_shares`]; `sim/shares.rs`, docs/behaviour.md §6).
    pub shares: Option<shares::LeverShares>,
}

impl Activity {
    /// The mean ln(E* ÷ O) over scored actions, if any.
    pub fn mean_log_earnings(&self) -> Option<f64> {
        (self.scored > 0).then(|| self.log_earnings / self.scored as f64)
    }
}

impl Replication {
    pub fn total(&self, m: Metric) -> Decimal {
        self.totals[m as usize]
    }
    pub fn end_metric(&self, m: EndMetric) -> Decimal {
        match m {
            EndMetric::SellerNet => self.end[0],
            EndMetric::PlatformNet => self.end[1],
            EndMetric::CommissionsPending => self.end[2],
        }
    }
}

/// The outcome of one Collaboration Plus in a replication.
#[derive(Clone, Debug, Serialize)]
pub struct PlusRecord {
    pub status: String,
    pub rewards_paid: Money,
    pub(crate) rewards_cancelled: Money,
    pub(crate) service_fee_charged: Money,
    pub(crate) service_fee_refunded: Money,
    pub(crate) budget_returned: Money,
    pub(crate) tax_document: Option<String>,
    /// The share of the objective achieved, by `rules.plus_fee_measure` (PLUS-16).
    pub achievement: Decimal,
    pub participants: u32,
    pub selected: u32,
    /// Per participant: creator, reward paid, status (PLUS-17).
    pub creators: Vec<(CreatorId, Money, &'static str)>,
    /// The rewarded Challenge participants in rank order (PLUS-5): rank 1 first.
    pub ranks: Vec<CreatorId>,
    /// The Plus free samples shipped, in request order: creator and product name (PLUS-21).
    pub samples: Vec<(CreatorId, String)>,
}

/// Why a replication could not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("replication {replication}: {error}")]
    Ledger {
        replication: u32,
        error: LedgerError,
    },
    #[error("replication {replication}: interrupted")]
    Interrupted { replication: u32 },
    #[error("replication {replication}: cannot write the ledger: {message}")]
    LedgerOutput { replication: u32, message: String },
    #[error("cannot start {threads} worker thread(s): {message}")]
    Threads { threads: usize, message: String },
}

struct World<'s> {
    sc: &'s Scenario,
    agents: Agents,
    pf: Platform,
    q: EventQueue<Ev>,
    rng: Streams,
    approvals: Vec<crate::scenario::Approval>,
    /// Per Collaboration Plus: the rewarded participants in rank order (PLUS-5), for `rank`
    /// expectations.
    plus_ranks: Vec<Vec<ParticipantId>>,
    sample_ship: Vec<Option<crate::scenario::Dist>>,
    content: Vec<Content>,
    content_free: Vec<u32>,
    product_pick: Option<alias::AliasPick>,
    end: SimTime,
    script_keys: Vec<Option<LineKey>>,
    script_refused: Vec<Option<Refusal>>,
    refusals: Vec<(RuleId, String)>,
    track: Vec<u64>,
    events: u64,
    /// Sum, count and largest of the pending-events samples ([`Pending`]).
    pending: (u64, u64, u64),
    last_time: SimTime,
    /// Approved distributor links, for creators' searches.
    links: Vec<RegistrationId>,
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The run stopped on an interrupt.
    stopped: bool,
    /// Where recorded ledger entries stream to, if anywhere.
    sink: Option<Box<dyn LedgerSink>>,
    /// The first error the sink reported (the run stops at once).
    sink_error: Option<std::io::Error>,
    /// The incentive-response model's per-creator and per-product state (docs/behaviour.md).
    inc: Incentives,
    /// Per seller policy, (seller GMV, plan Open GMV) at its last review.
    policy_marks: seller_policy::Marks,
    /// The replication's seller policies: the named ones and those drawn for generated plans.
    policies: Vec<crate::scenario::SellerPolicy>,
    /// Who receives each distributor's links (DIST-7, sim/distributors.rs).
    nets: distributors::Nets,
    /// Sellers' Target invitation policies (TARGET-8, sim/target_policy.rs).
    outreach: target_policy::Outreach,
    /// Creators' actions and expected earnings at them (`Replication::activity`).
    activity: Activity,
    /// Lines waiting to settle, batched per settlement time (`settlements.rs`).
    settlements: settlements::Settlements,
    /// (creator, Open listing) pairs whose application the seller's criteria refused: what
    /// `refused_applications = "avoid"` remembers (sim/plans/open.rs).
    refused: plans::open::Refusals,
}

/// The simulator's per-creator state, two cache lines kept in the rules engine's per-creator
/// record beside the creator's showcase and approvals (`rules::CreatorRecord`: one record, one
/// page, for all a wake touches of its own). The rules engine stores it and never reads it;
/// the simulator reaches it through `Platform::creator_sim` / `creator_sim_mut`.
#[derive(Clone, Debug, Default)]
#[repr(C, align(64))]
pub(crate) struct CreatorSim {
    /// Episode counters and incentive state: what every wake reads.
    state: CreatorState,
    /// The rates its showcase entries are held at (the incentive model, sim/showcase.rs):
    /// read at each post. Empty while the model is off.
    kept: showcase::KeptRates,
}

const _: () = assert!(size_of::<CreatorSim>() == 128);

/// What a creator's wake reads and writes of its own, in one cache line (a wake used to touch
/// one line in each of six vectors): the episode counters of its streams and, under the
/// incentive model, its outside option, expectations, Plus bonus and review state.
#[derive(Copy, Clone, Debug, Default)]
#[repr(C, align(64))]
struct CreatorState {
    /// The next episode of each of the creator's own streams (wake, decision, post; rng.rs).
    episodes: [u32; 3],
    /// O_c: outside option per post (money as f64, behaviour scoring only).
    outside: f32,
    /// Smoothed expected earnings per post of what the creator posts (its showcase), or the
    /// value of a search while its showcase is empty.
    earned: f32,
    /// Extra expected earnings per post from a Plus it joined, until `bonus_until`.
    bonus: f32,
    bonus_until: SimTime,
    review_at: SimTime,
    active: bool,
    /// `Creator::live`, copied at the start (agents do not change during a run): a wake's post
    /// reads it here, in the line it reads anyway, not in `agents.creators` on another page.
    live: bool,
    /// [`behaviour::reach`] of its followers, set with the incentive model (expected orders).
    reach: Option<f64>,
    /// `Creator::categories`, copied at the start like `live`: a search candidate's category fit
    /// and the expected orders of a post read it (session 16: `agents.creators` was a page walk
    /// of its own per wake).
    categories: u64,
}

impl CreatorState {
    /// `Creator::has_category` on the copy.
    #[inline]
    fn has_category(&self, c: crate::model::CategoryId) -> bool {
        self.categories & (1u64 << c) != 0
    }
}

// One cache line per creator: a field added beyond it would add a line to every wake.
const _: () = assert!(size_of::<CreatorState>() == 64);

/// Per-product state of the incentive model (the per-creator state lives in [`CreatorSim`]).
/// Empty when the model is off.
#[derive(Default)]
struct Incentives {
    on: bool,
    /// The parts of expected orders and earnings that do not change per post, and per
    /// product its live content items (saturation) beside its price.
    memo: memo::EarningsMemo,
    /// The log-odds of the frequent choices' base probabilities.
    logits: memo::ChoiceLogits,
    /// The effort of a video and of a LIVE, money per post (sim/showcase.rs).
    effort: [f64; 2],
    /// The parts of creators' smoothed expected earnings per rate lever, when recorded
    /// (`sim/shares.rs`).
    parts: Option<Box<shares::Parts>>,
}

/// Weight of a new observation in a creator's smoothed expected earnings.
const EARNED_WEIGHT: f32 = 0.3;

/// The platform's books and the agents of a replication at some time, for explanations.
pub struct State {
    pub platform: Platform,
    pub agents: Agents,
}

/// Runs replication `index` up to and including time `at`, and returns its state then.
pub fn state_at(sc: &Scenario, index: u32, at: SimTime) -> State {
    let drawn = uncertainty::draw(sc, index);
    let sc = drawn.as_ref().unwrap_or(sc);
    let mut w = World::new(sc, index, &RunOptions::default());
    let mut daily = Vec::new();
    w.run(Some(at), &mut daily);
    State {
        platform: w.pf,
        agents: w.agents,
    }
}

/// Runs replication `index` to its end with the ledger recorded, and returns its final state
/// (for explanations of plans: Plus rankings, rewards and fees, Target flat fees). The ledger
/// check is not run here; `run_replication` runs it.
pub(crate) fn final_state(sc: &Scenario, index: u32) -> State {
    let drawn = uncertainty::draw(sc, index);
    let sc = drawn.as_ref().unwrap_or(sc);
    let opts = RunOptions {
        record_ledger: true,
        ..RunOptions::default()
    };
    let mut w = World::new(sc, index, &opts);
    let mut daily = Vec::new();
    w.run(None, &mut daily);
    State {
        platform: w.pf,
        agents: w.agents,
    }
}

/// Runs replication `index` of a scenario.
pub fn run_replication(
    sc: &Scenario,
    index: u32,
    opts: &RunOptions,
) -> Result<Replication, RunError> {
    if opts.interrupted() {
        return Err(RunError::Interrupted { replication: index });
    }
    // Uncertain response parameters, drawn for this replication (the same in every arm).
    let drawn = uncertainty::draw(sc, index);
    let sc = drawn.as_ref().unwrap_or(sc);
    let mut w = World::new(sc, index, opts);
    w.interrupt = opts.interrupt.clone();
    if let Some(open) = &opts.ledger_sink {
        w.sink = Some(open(index).map_err(|e| RunError::LedgerOutput {
            replication: index,
            message: e.to_string(),
        })?);
    }
    let mut daily: Vec<Vec<Decimal>> = Vec::with_capacity(sc.days as usize + 32);
    w.run(None, &mut daily);
    w.flush_ledger();
    if let (Some(sink), None) = (w.sink.as_mut(), &w.sink_error)
        && let Err(e) = sink.finish()
    {
        w.sink_error = Some(e);
    }
    if let Some(e) = w.sink_error.take() {
        return Err(RunError::LedgerOutput {
            replication: index,
            message: e.to_string(),
        });
    }
    if w.stopped {
        return Err(RunError::Interrupted { replication: index });
    }
    w.finish(index, daily, opts)
}
