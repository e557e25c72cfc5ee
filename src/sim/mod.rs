//! The simulator: owns time, the event queue and the random streams, and asks the rules engine.
//!
//! [`run_replication`] builds the world for (scenario, replication), pops events in
//! (time, phase, sequence) order, lets behaviour models choose, lets the rules engine decide and
//! pay, and aggregates as it goes: settled lines are folded into tallies and freed.

pub mod behaviour;
pub(crate) mod incentives;
mod memo;
pub mod policy;
pub mod population;
pub mod queue;
pub mod rng;
pub mod seller_policy;
mod showcase;
pub mod uncertainty;

use rand::Rng;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::metrics::{EndMetric, Metric};
use crate::model::{Agents, ContentKind, CreatorId, ProductId, Traffic};
use crate::money::Money;
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::ledger::{Account, Entry, LedgerError};
use crate::rules::orders::OrderRecord;
use crate::rules::{Names2, OrderRequest, Platform, Refusal};
use crate::scenario::dist::unit;
use crate::scenario::{AccountRef, Action, ReturnAmount, Scenario};
use crate::time::{DAY, SimTime};
use queue::{EventQueue, Phase};
use rng::{AgentStream, Streams};

/// An event. Small and `Copy`: the queue holds them inline, nothing is boxed.
#[derive(Copy, Clone, Debug)]
enum Ev {
    /// The scripted event with this index.
    Script(u32),
    /// A seller policy's review (`[[seller_policies]]`, sim/seller_policy.rs).
    SellerPolicy(u32),
    /// A creator acts (searches for a product or posts).
    Wake(CreatorId),
    /// A seller's decision on an Open application.
    Decide {
        creator: CreatorId,
        listing: u32,
        approve: bool,
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
        key: u32,
        deliver: SimTime,
    },
    Deliver(u32),
    Settle(u32),
    Cancel(u32),
    /// A buyer returns `percent` of a line.
    Return {
        key: u32,
        percent: u8,
    },
    SampleArrive(u32),
    SampleDeadline(u32),
    /// Warning before an H-4 lock ends.
    LockWarning {
        listing: u32,
        changed: SimTime,
    },
    /// An invited creator answers (behaviour model).
    TargetRespond {
        slot: u32,
        accept: bool,
    },
    /// A flat-fee invitation's acceptance window closes (H-8).
    TargetExpire(u32),
    /// A creator submits a flat-fee video (behaviour model).
    VideoSubmit(u32),
    /// A flat-fee video is reviewed (behaviour model).
    VideoReview {
        slot: u32,
        approve: bool,
    },
    /// A flat-fee video deadline.
    VideoDeadline {
        slot: u32,
        deadline: SimTime,
    },
    /// A seller registers a product in a campaign (behaviour model).
    CampaignRegister {
        campaign: u32,
        product: ProductId,
    },
    /// The distributor reviews a registration (behaviour model).
    RegReview {
        reg: u32,
        approve: bool,
    },
    /// Creators holding a campaign's links are told they will soon expire (DIST-5).
    CampaignNotice(u32),
    /// A campaign's promotion window ends (DIST-5).
    CampaignExpire(u32),
    /// The 24-hour payment window of a Plus collaboration closes (PLUS-15).
    PlusPayDeadline(u32),
    /// A selected creator joins a Plus collaboration (behaviour model).
    PlusJoin {
        campaign: u32,
        creator: CreatorId,
    },
    /// The excess Plus service fee is refunded (PLUS-16).
    PlusRefund(u32),
}

/// A content item still bringing orders.
#[derive(Copy, Clone, Debug)]
struct Content {
    creator: CreatorId,
    product: ProductId,
    kind: ContentKind,
    authorised: bool,
    posted: SimTime,
    remaining: u32,
    /// The Target slot whose approved flat-fee video this is, if it is one (TARGET-4).
    video: Option<u32>,
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
pub type LedgerSinks =
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
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("record_ledger", &self.record_ledger)
            .field("ledger_sink", &self.ledger_sink.is_some())
            .field("track", &self.track)
            .field("interrupt", &self.interrupt.is_some())
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
    pub ledger_entries: u64,
    pub fired: RuleSet,
    /// Scripted refusals by rule, and their messages.
    pub refusals: Vec<(RuleId, String)>,
    /// Per scripted order: its record, or why it was refused.
    #[serde(skip)]
    pub scripted: Vec<Result<OrderRecord, Refusal>>,
    /// Tracked (explained) orders by number.
    #[serde(skip)]
    pub tracked: Vec<OrderRecord>,
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
    pub rewards_cancelled: Money,
    pub service_fee_charged: Money,
    pub service_fee_refunded: Money,
    pub budget_returned: Money,
    pub tax_document: Option<String>,
    pub participants: u32,
    pub selected: u32,
    /// Per participant: creator, reward paid, status (PLUS-17).
    pub creators: Vec<(CreatorId, Money, &'static str)>,
    /// The rewarded Challenge participants in rank order (PLUS-5): rank 1 first.
    pub ranks: Vec<CreatorId>,
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
    plus_ranks: Vec<Vec<u32>>,
    sample_ship: Vec<Option<crate::scenario::Dist>>,
    content: Vec<Content>,
    content_free: Vec<u32>,
    product_pick: Option<rand_distr::weighted::WeightedAliasIndex<f64>>,
    end: SimTime,
    script_keys: Vec<Option<u32>>,
    script_refused: Vec<Option<Refusal>>,
    refusals: Vec<(RuleId, String)>,
    track: Vec<u64>,
    events: u64,
    last_time: SimTime,
    /// Approved distributor links, for creators' searches.
    links: Vec<u32>,
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The run stopped on an interrupt.
    stopped: bool,
    /// Where recorded ledger entries stream to, if anywhere.
    sink: Option<Box<dyn LedgerSink>>,
    /// The first error the sink reported (the run stops at once).
    sink_error: Option<std::io::Error>,
    /// The incentive-response model's per-creator and per-product state (docs/behaviour.md).
    inc: Incentives,
    /// Per creator, the next episode of each of its own streams (wake, decision, post; rng.rs).
    episodes: Vec<[u32; 3]>,
    /// Per seller policy, (seller GMV, plan Open GMV) at its last review.
    policy_marks: Vec<(Decimal, Decimal)>,
    /// The replication's seller policies: the named ones and those drawn for generated plans.
    policies: Vec<crate::scenario::SellerPolicy>,
}

/// Per-creator state of the incentive model, in flat vectors indexed by creator (and live
/// content counts by product). Empty when the model is off.
#[derive(Default)]
struct Incentives {
    on: bool,
    /// O_c: outside option per post (money as f64, behaviour scoring only).
    outside: Vec<f32>,
    /// Smoothed expected earnings per post of what the creator posts (its showcase), or the
    /// value of a search while its showcase is empty.
    earned: Vec<f32>,
    /// Extra expected earnings per post from a Plus it joined, until `bonus_until`.
    bonus: Vec<f32>,
    bonus_until: Vec<SimTime>,
    active: Vec<bool>,
    review_at: Vec<SimTime>,
    /// Live content items (still bringing orders) per product: saturation.
    live_on: Vec<u32>,
    /// The parts of expected orders and earnings that do not change per post.
    memo: memo::EarningsMemo,
    /// The effort of a video and of a LIVE, money per post (sim/showcase.rs).
    effort: [f64; 2],
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

impl<'s> World<'s> {
    fn new(sc: &'s Scenario, index: u32, opts: &RunOptions) -> World<'s> {
        let mut rng = Streams::new(sc.seed, u64::from(index));
        let built = population::build(sc, &mut rng.population);
        let pf = Platform::new(
            sc.opts,
            sc.calendar,
            &built.agents,
            built.books,
            opts.record_ledger || opts.ledger_sink.is_some(),
        );
        let weights: Vec<f64> = built
            .agents
            .products
            .iter()
            .map(|p| if p.eligible { p.popularity } else { 0.0 })
            .collect();
        let product_pick = rand_distr::weighted::WeightedAliasIndex::new(weights).ok();
        let n_creators = built.agents.creators.len();
        let mut w = World {
            sc,
            agents: built.agents,
            pf,
            q: EventQueue::with_capacity(n_creators + sc.script.len() + 1024),
            rng,
            approvals: built.approvals,
            plus_ranks: vec![Vec::new(); sc.plus.len()],
            sample_ship: built.sample_shipping,
            content: Vec::new(),
            content_free: Vec::new(),
            product_pick,
            end: SimTime::start_of_day(sc.days),
            script_keys: vec![None; sc.orders.len()],
            script_refused: vec![None; sc.orders.len()],
            refusals: Vec::new(),
            track: opts.track.clone(),
            events: 0,
            last_time: SimTime::ZERO,
            links: Vec::new(),
            interrupt: None,
            stopped: false,
            sink: None,
            sink_error: None,
            inc: Incentives::default(),
            episodes: vec![[0; 3]; n_creators],
            policy_marks: Vec::new(),
            policies: Vec::new(),
        };
        w.init_seller_policies();
        if sc.behaviour.incentives.enabled {
            w.init_incentives();
        }
        for (i, s) in sc.script.iter().enumerate() {
            let phase = match s.action {
                Action::OpenRate { .. }
                | Action::ShopRate { .. }
                | Action::SendInvitation(_)
                | Action::OpenCampaign(_)
                | Action::EditCampaign { .. }
                | Action::Terminate { .. }
                | Action::PlusConfirm(_)
                | Action::PlusPay(_)
                | Action::PlusStart(_)
                | Action::PlusEnd(_)
                | Action::PlusEdit(_)
                | Action::PlusCancel(_) => Phase::Control,
                Action::Order(_) => Phase::Order,
                Action::Return { .. } => Phase::AfterSales,
                _ => Phase::Agent,
            };
            w.q.push(s.at, phase, Ev::Script(i as u32));
        }
        for c in 0..n_creators {
            // The first wake is episode 0 of the creator's wake stream's, drawn alone.
            w.enter(AgentStream::Wake, CreatorId(c as u32));
            let m = if w.inc.on {
                let k = w.intensity(CreatorId(c as u32), SimTime::ZERO);
                behaviour::next_action_scaled(&sc.behaviour.creators, k, &mut w.rng.agent)
            } else {
                behaviour::next_action(&sc.behaviour.creators, &mut w.rng.agent)
            };
            if let Some(m) = m {
                w.q.push(SimTime(m), Phase::Agent, Ev::Wake(CreatorId(c as u32)));
            }
        }
        w
    }

    /// The loop: pop, dispatch; snapshot tallies at each day boundary. Stops after the last
    /// event at or before `stop`, if given.
    fn run(&mut self, stop: Option<SimTime>, daily: &mut Vec<Vec<Decimal>>) {
        let w = self;
        let sc = w.sc;
        let mut last = vec![Decimal::ZERO; Metric::COUNT];
        let mut day = 0u32;
        while let Some(t) = w.q.peek_time() {
            if (!sc.drain && t >= w.end) || stop.is_some_and(|s| t > s) {
                break;
            }
            let Some((t, ev)) = w.q.pop() else { break };
            if w.events > 0 && t == w.last_time {
                // rule: TIME-1 — same-minute events pop in (phase, sequence) order
                w.pf.fired.insert(RuleId::Time1);
            }
            w.last_time = t;
            while t.day() > day {
                snapshot(&w.pf, &mut last, daily);
                day += 1;
            }
            w.events += 1;
            if w.events & 0xFFFF == 0 {
                if w.sink.is_some() {
                    w.flush_ledger();
                    if w.sink_error.is_some() {
                        w.stopped = true;
                        break;
                    }
                }
                if let Some(f) = &w.interrupt
                    && f.load(std::sync::atomic::Ordering::Relaxed)
                {
                    w.stopped = true;
                    break;
                }
            }
            if let Some(next) = w.q.ahead(PREFETCH_FAR) {
                w.prefetch_far(next);
            }
            if let Some(next) = w.q.ahead(PREFETCH_NEAR) {
                w.prefetch_near(next);
            }
            w.dispatch(t, ev);
            if !w.pf.plus_done.is_empty() {
                w.pay_due_rewards(t);
            }
        }
        while daily.len() < sc.days.max(day + 1) as usize {
            snapshot(&w.pf, &mut last, daily);
        }
    }

    /// Hands the entries recorded so far to the sink (if any) and forgets them; at the end of the
    /// run, also finishes the sink. An error stops the run (reported by `run_replication`).
    fn flush_ledger(&mut self) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.sink_error.is_some() {
            return;
        }
        let written = sink.write(&self.agents, self.pf.ledger.entries());
        self.pf.ledger.clear_entries();
        if let Err(e) = written {
            self.sink_error = Some(e);
        }
    }

    /// Checks the ledger and gathers the replication's results.
    fn finish(
        mut self,
        index: u32,
        daily: Vec<Vec<Decimal>>,
        opts: &RunOptions,
    ) -> Result<Replication, RunError> {
        let w = &mut self;
        let sc = w.sc;

        w.pf.check_ledger().map_err(|error| RunError::Ledger {
            replication: index,
            error,
        })?;
        let sellers: Decimal = (0..w.agents.sellers.len())
            .map(|s| w.pf.ledger.balance(Account::Seller(s as u32)).0)
            .sum();
        let end = [
            sellers,
            w.pf.ledger.balance(Account::Platform).0,
            w.pf.commissions_pending().0,
        ];
        let accounts = sc
            .expectations
            .iter()
            .filter_map(|e| match e.subject {
                crate::scenario::Subject::Account(a) => Some(a),
                _ => None,
            })
            .map(|a| {
                let acct = match a {
                    AccountRef::Seller(s) => Account::seller(s),
                    AccountRef::Creator(c) => Account::creator(c),
                    AccountRef::Distributor(d) => Account::Distributor(d),
                    AccountRef::Platform => Account::Platform,
                    AccountRef::Buyers => Account::Buyers,
                    AccountRef::Escrow => Account::Escrow,
                };
                (a, w.pf.ledger.balance(acct))
            })
            .collect();
        let scripted = (0..sc.orders.len())
            .map(|i| match (&w.script_refused[i], w.script_keys[i]) {
                (Some(r), _) => Err(r.clone()),
                (None, Some(k)) => {
                    let rec = w.pf.orders.get(k).record;
                    Ok(w.pf.orders.records[rec as usize].clone())
                }
                (None, None) => Err(Refusal::new(
                    RuleId::Order2,
                    "the order was never placed (its time is after the run)",
                )),
            })
            .collect();
        let book = &w.pf.books.plus;
        let plus = book
            .state
            .iter()
            .enumerate()
            .map(|(i, st)| PlusRecord {
                status: serde_json::to_value(st.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                rewards_paid: st.rewards_paid,
                rewards_cancelled: st.rewards_cancelled,
                service_fee_charged: st.fee_charged,
                service_fee_refunded: st.fee_refunded,
                budget_returned: st.budget_returned,
                tax_document: st.tax_document.map(|d| d.to_string()),
                participants: st.participants.len() as u32,
                selected: st.selected.len() as u32,
                creators: st
                    .participants
                    .iter()
                    .map(|&p| {
                        let part = &book.participants[p as usize];
                        (part.creator, part.reward, book.creator_status(p).as_str())
                    })
                    .collect(),
                ranks: w
                    .plus_ranks
                    .get(i)
                    .map(|r| {
                        r.iter()
                            .map(|&p| book.participants[p as usize].creator)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let tracked =
            w.pf.orders
                .records
                .iter()
                .filter(|r| w.track.contains(&r.no))
                .cloned()
                .collect();
        Ok(Replication {
            index,
            totals: w.pf.tally.values().to_vec(),
            end,
            daily,
            events: w.events,
            ledger_entries: w.pf.ledger.posted(),
            fired: w.pf.fired,
            refusals: std::mem::take(&mut w.refusals),
            scripted,
            tracked,
            accounts,
            plus,
            campaigns: crate::metrics::campaigns::collect(sc, &w.pf, &w.agents),
            entries: w.pf.ledger.entries().to_vec(),
            agents: opts
                .record_ledger
                .then(|| std::sync::Arc::new(std::mem::take(&mut w.agents))),
        })
    }
}

/// How many events ahead the loop prefetches the state an event touches first (the content
/// item, the order line, the showcase), and then, once that has arrived, what it points to (the
/// product, the creator's showcase and approvals, the creator's ledger account).
const PREFETCH_FAR: u32 = 10;
const PREFETCH_NEAR: u32 = 4;

/// Asks the CPU to start loading the cache lines of `r` (a hint: no effect on results).
#[inline(always)]
fn prefetch<T>(r: &T) {
    let start = (r as *const T).cast::<i8>();
    let mut off = 0;
    while off < size_of::<T>().max(1) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint that never faults and changes no memory; the addresses
        // are within `*r` anyway.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(off));
        }
        off += 64;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = start;
}

/// Event processing is bound by memory latency: each event first touches state of one agent or
/// order line among millions. The queue knows the next events of the current minute, so the loop
/// prefetches their state while it processes this one. Hints only: nothing here changes what an
/// event does.
impl World<'_> {
    #[inline]
    fn prefetch_far(&self, ev: Ev) {
        match ev {
            Ev::Demand(ci) => {
                if let Some(c) = self.content.get(ci as usize) {
                    prefetch(c);
                }
            }
            Ev::Ship { key: k, .. } => {
                if let Some((h, _)) = self.pf.orders.slot_refs(k) {
                    prefetch(h);
                }
            }
            Ev::Deliver(k) | Ev::Settle(k) | Ev::Cancel(k) | Ev::Return { key: k, .. } => {
                if let Some((h, l)) = self.pf.orders.slot_refs(k) {
                    prefetch(h);
                    prefetch(l);
                }
            }
            Ev::Wake(c) => {
                if let Some(s) = self.pf.showcase.get(c.idx()) {
                    prefetch(s);
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn prefetch_near(&self, ev: Ev) {
        match ev {
            Ev::Demand(ci) => {
                if let Some(c) = self.content.get(ci as usize) {
                    if let Some(p) = self.agents.products.get(c.product.idx()) {
                        prefetch(p);
                    }
                    if let Some(s) = self.pf.showcase.get(c.creator.idx()) {
                        prefetch(s);
                    }
                    if let Some(a) = self.pf.approvals_ref(c.creator) {
                        prefetch(a);
                    }
                }
            }
            Ev::Settle(k) => {
                if let Some((_, l)) = self.pf.orders.slot_refs(k)
                    && let Some(b) = self.pf.ledger.balance_ref(Account::creator(l.creator))
                {
                    prefetch(b);
                }
            }
            Ev::Wake(c) => {
                if let Some(a) = self.pf.approvals_ref(c) {
                    prefetch(a);
                }
                if let Some(cr) = self.agents.creators.get(c.idx()) {
                    prefetch(cr);
                }
            }
            _ => {}
        }
    }
}

fn snapshot(pf: &Platform, last: &mut [Decimal], daily: &mut Vec<Vec<Decimal>>) {
    let now = &pf.tally.values();
    daily.push(now.iter().zip(last.iter()).map(|(a, b)| *a - *b).collect());
    last.copy_from_slice(now);
}

impl World<'_> {
    /// Positions the agent stream at `c`'s next episode of stream `tag` (rng.rs): the draws that
    /// follow belong to that creator and episode alone.
    fn enter(&mut self, tag: AgentStream, c: CreatorId) {
        let k = match tag {
            AgentStream::Wake => 0,
            AgentStream::Decision => 1,
            AgentStream::Post => 2,
        };
        let e = &mut self.episodes[c.idx()][k];
        rng::seek(&mut self.rng.agent, tag, c.0, *e);
        *e = e.wrapping_add(1);
    }

    /// Changes a listing's Open rate (OPEN-4) — a scripted change or a seller policy's — and
    /// schedules the H-4 lock warning when the rules engine asks for one.
    fn change_listing_rate(
        &mut self,
        l: u32,
        rate: crate::money::Rate,
        shop_ads: bool,
        t: SimTime,
    ) {
        let warn = match self.pf.change_open_rate(l, rate, shop_ads, t) {
            Ok(w) => w,
            Err(r) => {
                // rule: PLUS-9 — option rules.open_raise_during_plus = "refuse"
                self.refuse(r);
                None
            }
        };
        if let Some(warn) = warn {
            self.q.push(
                warn,
                Phase::Control,
                Ev::LockWarning {
                    listing: l,
                    changed: t,
                },
            );
        }
    }

    fn refuse(&mut self, r: Refusal) {
        self.pf.tally.count(Metric::Refusals);
        self.pf.fired.insert(r.rule);
        self.refusals.push((r.rule, r.message.into_owned()));
    }

    fn dispatch(&mut self, t: SimTime, ev: Ev) {
        match ev {
            Ev::Script(i) => self.script(t, i),
            Ev::SellerPolicy(i) => self.seller_policy(t, i),
            Ev::Wake(c) => self.wake(t, c),
            Ev::Decide {
                creator,
                listing,
                approve,
            } => self.pf.decide_application(creator, listing, approve, t),
            Ev::Post {
                creator,
                product,
                kind,
                authorised,
            } => self.post(t, creator, product, kind, authorised, None),
            Ev::Demand(ci) => self.demand(t, ci),
            Ev::Ship { key, deliver } => {
                if self.pf.ship(key, t).is_ok() {
                    let at = if deliver == SimTime::NEVER {
                        t.plus_minutes(behaviour::delay(
                            &self.sc.behaviour.orders.delivery_delay,
                            &mut self.rng.logistics,
                        ))
                    } else {
                        deliver
                    };
                    self.q.push(at, Phase::Logistics, Ev::Deliver(key));
                }
            }
            Ev::Deliver(k) => self.deliver(t, k),
            Ev::Settle(k) => {
                let _ = self.pf.settle(k, t);
            }
            Ev::Cancel(k) => {
                let _ = self.pf.cancel(k, t);
            }
            Ev::Return { key, percent } => {
                let line = self.pf.orders.get(key);
                let left = line.paid - line.refunded;
                let amount = if percent >= 100 {
                    left
                } else {
                    self.pf
                        .opts
                        .rounding
                        .share(line.paid, u32::from(percent), 100)
                        .min(left)
                };
                if !amount.is_zero() {
                    let _ = self.pf.refund(key, amount, t);
                }
            }
            Ev::SampleArrive(s) => {
                let deadline = self.pf.sample_delivered(s, t);
                let smp = self.pf.samples[s as usize];
                self.enter(AgentStream::Decision, smp.creator);
                let b = &self.sc.behaviour.creators;
                if unit(&mut self.rng.agent) < b.sample_post_probability {
                    let window = deadline.since(t).max(1);
                    let at = t.plus_minutes((unit(&mut self.rng.agent) * f64::from(window)) as u32);
                    self.q.push(
                        at,
                        Phase::Agent,
                        Ev::Post {
                            creator: smp.creator,
                            product: smp.product,
                            kind: ContentKind::Video,
                            authorised: false,
                        },
                    );
                }
                self.q.push(deadline, Phase::Agent, Ev::SampleDeadline(s));
            }
            Ev::SampleDeadline(s) => {
                self.enter(AgentStream::Decision, self.pf.samples[s as usize].creator);
                let extend = unit(&mut self.rng.agent)
                    < self.sc.behaviour.creators.sample_extension_probability;
                if let Some(d) = self.pf.sample_deadline(s, extend) {
                    self.q.push(d, Phase::Agent, Ev::SampleDeadline(s));
                }
            }
            Ev::LockWarning { listing, changed } => {
                self.pf.lock_warning(listing, changed);
            }
            Ev::TargetRespond { slot, accept } => self.target_respond(t, slot, accept, false),
            Ev::TargetExpire(slot) => self.pf.expire_target(slot, t),
            Ev::VideoSubmit(slot) => self.video_submit(t, slot, false),
            Ev::VideoReview { slot, approve } => self.video_review(t, slot, approve, false),
            Ev::VideoDeadline { slot, deadline } => self.pf.video_deadline(slot, deadline, t),
            Ev::CampaignRegister { campaign, product } => {
                let c = &self.pf.books.dist.campaigns[campaign as usize];
                let db = &self.sc.behaviour.distributors;
                let creator_rate =
                    crate::money::Rate(c.min_creator_rate.0 + db.extra_creator_rate.0);
                let dist_rate = c.min_distributor_rate;
                if self.pf.opts.distributor_sets_split {
                    let total = crate::money::Rate(creator_rate.0 + dist_rate.0);
                    if let Ok(reg) =
                        self.pf
                            .register_total(&self.agents, campaign, product, total, t)
                    {
                        self.schedule_review(t, campaign, reg);
                    }
                } else {
                    self.register(t, campaign, product, creator_rate, dist_rate, None, false);
                }
            }
            Ev::RegReview { reg, approve } => {
                // Under the H-9 split the distributor keeps its minimum and gives the creator the rest.
                let part = self.pf.books.dist.registrations[reg as usize]
                    .total
                    .map(|total| {
                        let c = &self.pf.books.dist.campaigns
                            [self.pf.books.dist.registrations[reg as usize].campaign as usize];
                        crate::money::Rate(total.0 - c.min_distributor_rate.0)
                    });
                self.review_registration(reg, approve, "", part, false)
            }
            Ev::CampaignNotice(c) => {
                self.pf.campaign_notice(c, false, t);
            }
            Ev::CampaignExpire(c) => {
                self.pf.campaign_notice(c, true, t);
            }
            Ev::PlusPayDeadline(c) => self.pf.plus_payment_deadline(c),
            Ev::PlusJoin { campaign, creator } => self.plus_join(t, campaign, creator, false),
            Ev::PlusRefund(c) => self.pf.plus_refund_fee(c, t),
        }
    }

    fn ship_plus_sample(&mut self, t: SimTime, s: u32) {
        let ob = &self.sc.behaviour.orders;
        let d = behaviour::delay(&ob.ship_delay, &mut self.rng.logistics)
            + behaviour::delay(&ob.delivery_delay, &mut self.rng.logistics);
        self.q
            .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
    }

    /// The period starts: the platform policy selects creators (PLUS-7); with the behaviour
    /// model, selected creators join with some probability after a delay.
    fn plus_start(&mut self, t: SimTime, c: u32) {
        let camp = self.pf.books.plus.campaigns[c as usize].clone();
        let group = &self.pf.books.plus.groups[camp.group as usize];
        let members: Vec<CreatorId> = (0..self.agents.creators.len() as u32)
            .map(CreatorId)
            .filter(|id| group.matches(&self.agents.creators[id.idx()]))
            .collect();
        let d = policy::policy_for(&camp.policy).decide(
            &camp,
            &members,
            &self.agents,
            self.sc.region.minor_unit,
        );
        let selected = d.creators.clone();
        if !self
            .pf
            .plus_start(c, d.creators.clone(), d.reward, d.rank_rewards.clone())
            || camp.scripted
        {
            return;
        }
        let pb = &self.sc.behaviour.plus;
        let n_selected = selected.len();
        for creator in selected {
            let p_join = if self.inc.on {
                // Expected earnings per post of joining, reward or prizes included.
                let (e, _) =
                    self.plus_join_earnings(creator, c, t, d.reward, &d.rank_rewards, n_selected);
                behaviour::choice_probability(
                    pb.join_probability,
                    self.sc.behaviour.incentives.earnings_weight,
                    e,
                    f64::from(self.inc.outside[creator.idx()]),
                )
            } else {
                pb.join_probability
            };
            self.enter(AgentStream::Decision, creator);
            let r = &mut self.rng.agent;
            if unit(r) < p_join {
                let at = t.plus_minutes(behaviour::delay(&pb.join_delay, r));
                if at < camp.end {
                    self.q.push(
                        at,
                        Phase::Agent,
                        Ev::PlusJoin {
                            campaign: c,
                            creator,
                        },
                    );
                }
            }
        }
    }

    fn plus_join(&mut self, t: SimTime, c: u32, creator: CreatorId, scripted: bool) {
        match self.pf.plus_join(c, creator, t) {
            Ok(part) => {
                if self.inc.on && !scripted && !self.pf.books.plus.campaigns[c as usize].scripted {
                    self.commit_to_plus(t, c, creator);
                }
                self.enter(AgentStream::Decision, creator);
                let camp = &self.pf.books.plus.campaigns[c as usize];
                if !scripted
                    && !camp.scripted
                    && camp.samples > 0
                    && unit(&mut self.rng.agent) < self.sc.behaviour.plus.sample_request_probability
                    && let Ok(s) = self.pf.plus_request_sample(part, t)
                {
                    self.ship_plus_sample(t, s);
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    /// Pays Task rewards that fell due, asking risk control first (PLUS-3, PLUS-18).
    fn pay_due_rewards(&mut self, t: SimTime) {
        while let Some(part) = self.pf.plus_done.pop() {
            let c = self.pf.books.plus.participants[part as usize].campaign;
            let reward = self.pf.books.plus.state[c as usize].reward;
            let cancel =
                unit(&mut self.rng.platform) < self.sc.behaviour.plus.risk_cancel_probability;
            self.pf.plus_pay_reward(part, reward, cancel, t);
        }
    }

    /// The period ends: Challenge ranks are final and paid (PLUS-5), the service fee is settled
    /// (PLUS-16), statuses are fixed (PLUS-17).
    fn plus_end(&mut self, t: SimTime, c: u32) {
        let winners = self.pf.plus_ranking(c);
        for &(part, amount) in &winners {
            let cancel =
                unit(&mut self.rng.platform) < self.sc.behaviour.plus.risk_cancel_probability;
            self.pf.plus_pay_reward(part, amount, cancel, t);
        }
        let w: Vec<u32> = winners.iter().map(|x| x.0).collect();
        if let Some(r) = self.plus_ranks.get_mut(c as usize) {
            r.clone_from(&w);
        }
        if let Some(at) = self.pf.plus_end(c, &w, t) {
            self.q.push(at, Phase::Settlement, Ev::PlusRefund(c));
        }
    }

    fn open_campaign(&mut self, t: SimTime, campaign: u32) {
        let c = self.pf.books.dist.campaigns[campaign as usize].clone();
        let end = c.promotion.1;
        let notice = SimTime(end.0.saturating_sub(c.notice_days * DAY));
        if notice > t && c.notice_days > 0 {
            self.q
                .push(notice, Phase::Control, Ev::CampaignNotice(campaign));
        }
        self.q
            .push(end, Phase::Control, Ev::CampaignExpire(campaign));
        if self.sc.campaigns[campaign as usize].scripted {
            return;
        }
        let db = &self.sc.behaviour.distributors;
        for (i, p) in self.agents.products.iter().enumerate() {
            let targeted = c.sellers.as_ref().is_none_or(|s| s.contains(&p.seller));
            if !(targeted && p.eligible) || unit(&mut self.rng.sellers) >= db.register_probability {
                continue;
            }
            let d = behaviour::delay(&db.register_delay, &mut self.rng.sellers);
            let at = t.plus_minutes(d);
            if at < c.registration.1 {
                self.q.push(
                    at,
                    Phase::Agent,
                    Ev::CampaignRegister {
                        campaign,
                        product: ProductId(i as u32),
                    },
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn register(
        &mut self,
        t: SimTime,
        campaign: u32,
        product: ProductId,
        creator_rate: crate::money::Rate,
        dist_rate: crate::money::Rate,
        shop_ads: Option<crate::money::Rate>,
        scripted: bool,
    ) {
        match self.pf.register_product(
            &self.agents,
            campaign,
            product,
            creator_rate,
            dist_rate,
            shop_ads,
            t,
        ) {
            Ok(reg) => {
                if !scripted {
                    self.schedule_review(t, campaign, reg);
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The behaviour model: the distributor reviews a registration after a delay.
    fn schedule_review(&mut self, t: SimTime, campaign: u32, reg: u32) {
        if self.sc.campaigns[campaign as usize].scripted {
            return;
        }
        let db = &self.sc.behaviour.distributors;
        let r = &mut self.rng.sellers;
        let approve = unit(r) < db.approve_probability;
        let d = behaviour::delay(&db.review_delay, r);
        self.q.push(
            t.plus_minutes(d),
            Phase::Agent,
            Ev::RegReview { reg, approve },
        );
    }

    fn review_registration(
        &mut self,
        reg: u32,
        approve: bool,
        reason: &str,
        creator_part: Option<crate::money::Rate>,
        scripted: bool,
    ) {
        let reason = if reason.is_empty() && !approve {
            "not a fit for the campaign"
        } else {
            reason
        };
        match self
            .pf
            .review_registration(reg, approve, reason, creator_part)
        {
            Ok(()) => {
                if approve {
                    self.links.push(reg);
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    fn slot_scripted(&self, slot: u32) -> bool {
        let inv = self.pf.books.target.slots[slot as usize].invitation;
        self.pf.books.target.invitations[inv as usize].scripted
    }

    fn send_invitation(&mut self, t: SimTime, inv: u32) {
        self.pf.send_invitation(inv, t);
        let i = &self.pf.books.target.invitations[inv as usize];
        let (flat, scripted) = (
            matches!(i.fee, crate::rules::target::Fee::Flat(_)),
            i.scripted,
        );
        let slots: Vec<u32> = (0..self.pf.books.target.slots.len() as u32)
            .filter(|&s| self.pf.books.target.slots[s as usize].invitation == inv)
            .collect();
        let tb = &self.sc.behaviour.target;
        for s in slots {
            if flat {
                let close = t.plus_days(crate::rules::target::ACCEPT_DAYS);
                self.q.push(close, Phase::Control, Ev::TargetExpire(s));
            }
            if !scripted {
                let creator = self.pf.books.target.slots[s as usize].creator;
                let p_accept = if self.inc.on {
                    let e = self.target_earnings(creator, inv, t);
                    behaviour::choice_probability(
                        tb.accept_probability,
                        self.sc.behaviour.incentives.earnings_weight,
                        e,
                        f64::from(self.inc.outside[creator.idx()]),
                    )
                } else {
                    tb.accept_probability
                };
                self.enter(AgentStream::Decision, creator);
                let r = &mut self.rng.agent;
                let accept = unit(r) < p_accept;
                let d = behaviour::delay(&tb.accept_delay, r);
                self.q.push(
                    t.plus_minutes(d),
                    Phase::Agent,
                    Ev::TargetRespond { slot: s, accept },
                );
            }
        }
    }

    fn target_respond(&mut self, t: SimTime, slot: u32, accept: bool, scripted: bool) {
        match self.pf.respond_target(&self.agents, slot, accept, t) {
            Ok(samples) => {
                for s in samples {
                    let ob = &self.sc.behaviour.orders;
                    let d = behaviour::delay(&ob.ship_delay, &mut self.rng.logistics)
                        + behaviour::delay(&ob.delivery_delay, &mut self.rng.logistics);
                    self.q
                        .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
                }
                let deadline = self.pf.books.target.slots[slot as usize].deadline;
                if accept && deadline != SimTime::NEVER {
                    self.q
                        .push(deadline, Phase::Agent, Ev::VideoDeadline { slot, deadline });
                    if !self.slot_scripted(slot) {
                        self.model_video(t, slot);
                    }
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The behaviour model: the creator submits a video with some probability, after a delay.
    fn model_video(&mut self, t: SimTime, slot: u32) {
        self.enter(
            AgentStream::Decision,
            self.pf.books.target.slots[slot as usize].creator,
        );
        let tb = &self.sc.behaviour.target;
        let r = &mut self.rng.agent;
        if unit(r) < tb.video_probability {
            let d = behaviour::delay(&tb.video_delay, r);
            self.q
                .push(t.plus_minutes(d), Phase::Agent, Ev::VideoSubmit(slot));
        }
    }

    fn video_submit(&mut self, t: SimTime, slot: u32, scripted: bool) {
        match self.pf.submit_video(slot, t) {
            Ok(()) => {
                if !self.slot_scripted(slot) {
                    // The invitation's reviewer — the seller or the platform — reviews with its
                    // own probability and delay (TARGET-4 model), drawn from the sellers stream.
                    let inv = self.pf.books.target.slots[slot as usize].invitation;
                    let reviewer = self.pf.books.target.invitations[inv as usize].reviewer;
                    let rv = self.sc.behaviour.target.review(reviewer);
                    let r = &mut self.rng.sellers;
                    let approve = unit(r) < rv.approval_probability;
                    let d = behaviour::delay(&rv.delay, r);
                    self.q.push(
                        t.plus_minutes(d),
                        Phase::Agent,
                        Ev::VideoReview { slot, approve },
                    );
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    fn video_review(&mut self, t: SimTime, slot: u32, approve: bool, scripted: bool) {
        match self.pf.review_video(slot, approve, t) {
            Ok(Some(deadline)) => {
                self.q
                    .push(deadline, Phase::Agent, Ev::VideoDeadline { slot, deadline });
                if !self.slot_scripted(slot) {
                    self.model_video(t, slot);
                }
            }
            Ok(None) => {
                if approve && self.sc.behaviour.target.approved_video_posts {
                    self.post_target_video(t, slot);
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The opt-in video model (`behaviour.target.approved_video_posts`): an approved flat-fee
    /// video is posted, as one video about each product of the invitation, and brings orders like
    /// any post. It is authorised for ads when the seller asked for it (TARGET-4); otherwise as an
    /// ordinary video: drawn with `creators.authorise_probability`, or not authorised on a
    /// `scripted` invitation (as a scripted post by default).
    fn post_target_video(&mut self, t: SimTime, slot: u32) {
        let s = &self.pf.books.target.slots[slot as usize];
        let inv = &self.pf.books.target.invitations[s.invitation as usize];
        let (creator, scripted) = (s.creator, inv.scripted);
        let products: Vec<ProductId> = inv.products.iter().map(|p| p.product).collect();
        // rule: TARGET-4 — submitted videos are authorised for ads if the seller asks
        let asked = self.pf.books.target.video_authorised(slot, t);
        for p in products {
            self.enter(AgentStream::Decision, creator);
            let authorised = asked
                || (!scripted
                    && unit(&mut self.rng.agent)
                        < self.sc.behaviour.creators.authorise_probability);
            self.post(t, creator, p, ContentKind::Video, authorised, Some(slot));
        }
    }

    fn script(&mut self, t: SimTime, i: u32) {
        let sc = self.sc;
        match &sc.script[i as usize].action {
            Action::OpenRate {
                plan,
                product,
                rate,
                shop_ads,
            } => {
                let listings: Vec<u32> = (0..self.pf.books.open_listings.len() as u32)
                    .filter(|&l| {
                        let x = &self.pf.books.open_listings[l as usize];
                        x.plan == *plan && product.is_none_or(|p| p == x.product)
                    })
                    .collect();
                for l in listings {
                    self.change_listing_rate(l, *rate, *shop_ads, t);
                }
            }
            Action::ShopRate { seller, rate } => self.pf.change_shop_rate(seller.0, *rate, t),
            Action::Apply { creator, product } => self.apply(t, *creator, *product, true),
            Action::ShowcaseAdd { creator, product } => {
                if let Err(r) = self
                    .pf
                    .add_shop_product(&self.agents, *creator, *product, t)
                {
                    self.refuse(r);
                }
            }
            Action::SampleRequest { creator, product } => {
                self.request_sample(t, *creator, *product, true)
            }
            Action::Post {
                creator,
                product,
                kind,
                authorised,
            } => self.post(t, *creator, *product, *kind, *authorised, None),
            Action::Order(oi) => {
                let o = &sc.orders[*oi as usize];
                let req = OrderRequest {
                    creator: o.creator,
                    product: o.product,
                    quantity: o.quantity,
                    traffic: o.traffic,
                    authorised: o.authorised,
                    target_video: o
                        .target_video
                        .and_then(|inv| self.pf.books.target.slot_of(inv, o.creator)),
                    seller_coupon: o.seller_coupon,
                    platform_coupon: o.platform_coupon,
                    shipping: o.shipping,
                };
                let names = Names2 {
                    creator: self.agents.names.creator(o.creator),
                    product: self.agents.names.product(o.product),
                };
                match self
                    .pf
                    .place_order(&self.agents, &req, t, Some((o.name.clone(), names)))
                {
                    Ok(k) => {
                        self.script_keys[*oi as usize] = Some(k);
                        if let Some(c) = o.cancelled {
                            self.q.push(c, Phase::AfterSales, Ev::Cancel(k));
                        } else {
                            let ship = o.shipped.unwrap_or(t);
                            let deliver = o.delivered.unwrap_or(SimTime::NEVER);
                            self.q
                                .push(ship, Phase::Logistics, Ev::Ship { key: k, deliver });
                        }
                    }
                    Err(r) => {
                        self.script_refused[*oi as usize] = Some(r.clone());
                        self.refuse(r);
                    }
                }
            }
            Action::SendInvitation(inv) => self.send_invitation(t, *inv),
            Action::TargetResponse {
                invitation,
                creator,
                accept,
            } => {
                if let Some(s) = self.pf.books.target.slot_of(*invitation, *creator) {
                    self.target_respond(t, s, *accept, true);
                }
            }
            Action::VideoSubmission {
                invitation,
                creator,
            } => {
                if let Some(s) = self.pf.books.target.slot_of(*invitation, *creator) {
                    self.video_submit(t, s, true);
                }
            }
            Action::VideoReview {
                invitation,
                creator,
                approve,
            } => {
                if let Some(s) = self.pf.books.target.slot_of(*invitation, *creator) {
                    self.video_review(t, s, *approve, true);
                }
            }
            Action::OpenCampaign(c) => self.open_campaign(t, *c),
            Action::PlusConfirm(c) => {
                if let Err(r) = self.pf.plus_confirm(*c, t) {
                    self.refuse(r); // PLUS-9 at confirmation (issue 14)
                }
                self.q.push(
                    t.plus_minutes(crate::rules::plus::PAY_WINDOW),
                    Phase::Control,
                    Ev::PlusPayDeadline(*c),
                );
            }
            Action::PlusPay(c) => {
                if let Err(r) = self.pf.plus_pay(*c, t) {
                    self.refuse(r);
                }
            }
            Action::PlusStart(c) => self.plus_start(t, *c),
            Action::PlusEnd(c) => self.plus_end(t, *c),
            Action::PlusJoin { campaign, creator } => self.plus_join(t, *campaign, *creator, true),
            Action::PlusSampleRequest { campaign, creator } => {
                let res = match self.pf.books.plus.participant_of(*campaign, *creator) {
                    Some(part) => self.pf.plus_request_sample(part, t),
                    None => Err(Refusal::new(
                        RuleId::Plus14,
                        "the creator has not joined the collaboration",
                    )),
                };
                match res {
                    Ok(s) => self.ship_plus_sample(t, s),
                    Err(r) => self.refuse(r),
                }
            }
            Action::PlusEdit(c) => {
                if let Err(r) = self.pf.plus_edit(*c) {
                    self.refuse(r);
                }
            }
            Action::PlusCancel(c) => {
                if let Err(r) = self.pf.plus_cancel(*c, t) {
                    self.refuse(r);
                }
            }
            Action::Register {
                campaign,
                product,
                creator_rate,
                distributor_rate,
                shop_ads_rate,
            } => self.register(
                t,
                *campaign,
                *product,
                *creator_rate,
                *distributor_rate,
                *shop_ads_rate,
                true,
            ),
            Action::RegisterTotal {
                campaign,
                product,
                total,
            } => {
                if let Err(r) = self
                    .pf
                    .register_total(&self.agents, *campaign, *product, *total, t)
                {
                    self.refuse(r);
                }
            }
            Action::ReviewRegistration {
                campaign,
                product,
                approve,
                reason,
                creator_part,
            } => match self.pf.registration_of(*campaign, *product) {
                Some(reg) => self.review_registration(reg, *approve, reason, *creator_part, true),
                None => self.refuse(Refusal::new(
                    RuleId::Dist3,
                    "the product was never registered in the campaign",
                )),
            },
            Action::AddLink {
                campaign,
                creator,
                product,
                choice,
            } => {
                let choice = choice.unwrap_or(self.sc.behaviour.distributors.lower_link_choice);
                let res = match self.pf.registration_of(*campaign, *product) {
                    Some(reg) => self
                        .pf
                        .add_link(&self.agents, *creator, reg, choice, t)
                        .map(|_| ()),
                    None => Err(Refusal::new(
                        RuleId::Dist3,
                        "the product has no link in this campaign",
                    )),
                };
                if let Err(r) = res {
                    self.refuse(r);
                }
            }
            Action::Terminate { campaign, seller } => {
                if let Err(r) = self.pf.terminate_campaign(*campaign, *seller, t) {
                    self.refuse(r);
                }
            }
            Action::EditCampaign {
                campaign,
                promotion_start,
            } => {
                if let Err(r) = self.pf.edit_campaign(*campaign, *promotion_start, t) {
                    self.refuse(r);
                }
            }
            Action::Return { order, amount } => {
                let Some(k) = self.script_keys[*order as usize] else {
                    return;
                };
                let line = self.pf.orders.get(k);
                let record = line.record;
                let amt = match amount {
                    ReturnAmount::All => line.paid - line.refunded,
                    ReturnAmount::Amount(a) => *a,
                    ReturnAmount::Quantity(q) => {
                        self.pf.opts.rounding.share(line.paid, *q, line.quantity)
                    }
                };
                if let Err(r) = self.pf.refund(k, amt, t) {
                    if let Some(rec) = self.pf.orders.records.get_mut(record as usize) {
                        rec.refused = Some(r.to_string());
                    }
                    self.refuse(r);
                }
            }
        }
    }

    fn deliver(&mut self, t: SimTime, k: u32) {
        if let Ok(settles) = self.pf.deliver(k, t) {
            let tracked = self.pf.orders.tracked(k);
            let ob = &self.sc.behaviour.orders;
            if !tracked && unit(&mut self.rng.buyers) < ob.return_probability {
                let window = settles.since(t).saturating_sub(1).max(1);
                let at = t.plus_minutes((unit(&mut self.rng.buyers) * f64::from(window)) as u32);
                let partial = unit(&mut self.rng.buyers) < ob.partial_return_share;
                let percent = if partial { 50 } else { 100 };
                self.q
                    .push(at, Phase::AfterSales, Ev::Return { key: k, percent });
            }
            self.q.push(settles, Phase::Settlement, Ev::Settle(k));
        }
    }

    fn apply(&mut self, t: SimTime, c: CreatorId, p: ProductId, scripted: bool) {
        match self.pf.apply_open(&self.agents, c, p) {
            Ok(listing) => {
                let plan = self.pf.books.open_listings[listing as usize].plan as usize;
                let (approve, delay) = behaviour::decide_application(
                    &self.approvals[plan],
                    &self.agents.creators[c.idx()],
                    &mut self.rng.sellers,
                );
                if delay == 0 {
                    self.pf.decide_application(c, listing, approve, t);
                } else {
                    self.q.push(
                        t.plus_minutes(delay),
                        Phase::Agent,
                        Ev::Decide {
                            creator: c,
                            listing,
                            approve,
                        },
                    );
                }
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    fn request_sample(&mut self, t: SimTime, c: CreatorId, p: ProductId, scripted: bool) {
        match self.pf.request_sample(&self.agents, c, p) {
            Ok(s) => {
                let listing = self.pf.books.open_by_product[p.idx()].unwrap_or(0);
                let plan = self.pf.books.open_listings[listing as usize].plan as usize;
                let d = self.sample_ship[plan]
                    .as_ref()
                    .map_or(0, |d| behaviour::delay(d, &mut self.rng.logistics));
                self.q
                    .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
            }
            Err(r) if scripted => self.refuse(r),
            Err(_) => {}
        }
    }

    fn wake(&mut self, t: SimTime, c: CreatorId) {
        if t >= self.end {
            return;
        }
        use rand_distr::Distribution;
        self.enter(AgentStream::Wake, c);
        let b = &self.sc.behaviour.creators;
        // The gap's exponential is the episode's first draw, whatever the review decides.
        let gap: f64 = rand_distr::Exp1.sample(&mut self.rng.agent);
        let next = if self.inc.on {
            if !self.review(t, c) {
                return;
            }
            let k = self.intensity(c, t);
            behaviour::action_gap(b, k, gap)
        } else {
            behaviour::action_gap(b, 1.0, gap)
        };
        if let Some(m) = next {
            self.q.push(t.plus_minutes(m), Phase::Agent, Ev::Wake(c));
        }
        let n = self.pf.showcase[c.idx()].len() as u32;
        // With the incentive model a full showcase searches too, for a better product to
        // replace its worst (sim/showcase.rs); without, it only posts.
        let explore = n == 0
            || ((self.inc.on || n < b.max_products)
                && unit(&mut self.rng.agent) < b.explore_probability);
        if explore && n < b.max_products {
            self.explore(t, c);
        } else if !(explore && self.replace_worst(t, c)) {
            let e = self.pf.showcase[c.idx()][(self.rng.agent.next_u64() % u64::from(n)) as usize];
            let cr = &self.agents.creators[c.idx()];
            let kind = if cr.live && unit(&mut self.rng.agent) < b.live_probability {
                ContentKind::Live
            } else {
                ContentKind::Video
            };
            let authorised =
                kind == ContentKind::Video && unit(&mut self.rng.agent) < b.authorise_probability;
            if self.inc.on {
                // What the posted product pays now (a rate cut or an ended plan shows here);
                // terms that fell since it was added may make the creator drop it and search.
                let rate = self.pf.current_rate(&self.agents, c, e.product, t);
                if self.drops(c, e, rate) {
                    self.explore(t, c);
                    return;
                }
                let e = rate.map_or(-self.effort(kind), |r| {
                    self.net_earnings(c, e.product, r, kind)
                });
                self.observe_earnings(c, e);
            }
            self.post(t, c, e.product, kind, authorised, None);
        }
    }

    fn explore(&mut self, t: SimTime, c: CreatorId) {
        let db = &self.sc.behaviour.distributors;
        if !self.links.is_empty() && self.inc.on {
            // The link's creator part × price × expected orders against the outside option.
            let u = unit(&mut self.rng.agent);
            let reg = self.links[(self.rng.agent.next_u64() % self.links.len() as u64) as usize];
            let r = &self.pf.books.dist.registrations[reg as usize];
            let e = self.commission_per_post(c, r.product, r.creator_rate)
                - self.effort(ContentKind::Video);
            let p = behaviour::choice_probability(
                db.link_probability,
                self.sc.behaviour.incentives.earnings_weight,
                e,
                f64::from(self.inc.outside[c.idx()]),
            );
            if u < p && self.pf.books.dist.valid(reg, t) {
                let _ = self
                    .pf
                    .add_link(&self.agents, c, reg, db.lower_link_choice, t);
                return;
            }
        } else if !self.links.is_empty() && unit(&mut self.rng.agent) < db.link_probability {
            let reg = self.links[(self.rng.agent.next_u64() % self.links.len() as u64) as usize];
            if self.pf.books.dist.valid(reg, t) {
                let _ = self
                    .pf
                    .add_link(&self.agents, c, reg, db.lower_link_choice, t);
                return;
            }
        }
        if let Some((p, e)) = self.search(t, c) {
            self.take_up(t, c, p, e);
        }
    }

    /// A creator posts; `video` is the Target slot when the post is its approved flat-fee video.
    fn post(
        &mut self,
        t: SimTime,
        c: CreatorId,
        p: ProductId,
        kind: ContentKind,
        authorised: bool,
        video: Option<u32>,
    ) {
        self.pf.note_post(c, p, kind, t);
        self.pf.tally.count(if kind == ContentKind::Live {
            Metric::Lives
        } else {
            Metric::Posts
        });
        if t >= self.end {
            return;
        }
        self.enter(AgentStream::Post, c);
        let n = if self.inc.on {
            let mean = self.expected_orders(c, p, kind);
            behaviour::orders_around(&self.sc.behaviour.buyers, mean, &mut self.rng.agent)
        } else {
            behaviour::orders_for_content(
                &self.sc.behaviour.buyers,
                false,
                &self.agents.creators[c.idx()],
                &self.agents.products[p.idx()],
                kind,
                0,
                &mut self.rng.agent,
            )
        };
        if n == 0 {
            return;
        }
        if let Some(x) = self.inc.live_on.get_mut(p.idx()) {
            *x += 1;
        }
        let item = Content {
            creator: c,
            product: p,
            kind,
            authorised,
            posted: t,
            remaining: n,
            video,
        };
        let ci = match self.content_free.pop() {
            Some(i) => {
                self.content[i as usize] = item;
                i
            }
            None => {
                self.content.push(item);
                (self.content.len() - 1) as u32
            }
        };
        let gap =
            behaviour::next_order_gap(&self.sc.behaviour.buyers, kind, n, 0, &mut self.rng.agent);
        self.q
            .push(t.plus_minutes(gap), Phase::Order, Ev::Demand(ci));
    }

    fn demand(&mut self, t: SimTime, ci: u32) {
        let item = self.content[ci as usize];
        let bb = &self.sc.behaviour.buyers;
        if t < self.end {
            let r = &mut self.rng.buyers;
            let traffic = if unit(r) < bb.showcase_share {
                Traffic::Showcase
            } else if item.kind == ContentKind::Live {
                Traffic::Live
            } else if item.authorised && unit(r) < bb.ad_share {
                Traffic::Ad
            } else {
                Traffic::Video
            };
            let quantity = behaviour::quantity(&bb.quantity_weights, r);
            let price = self.agents.products[item.product.idx()]
                .price
                .times(quantity);
            let rd = self.pf.opts.rounding;
            let seller_coupon = if unit(r) < bb.seller_coupon_probability {
                rd.apply(price.0 * bb.seller_coupon.fraction())
            } else {
                Money::ZERO
            };
            let platform_coupon = if unit(r) < bb.platform_coupon_probability {
                rd.apply(price.0 * bb.platform_coupon.fraction())
                    .min(price - seller_coupon)
            } else {
                Money::ZERO
            };
            let req = OrderRequest {
                creator: item.creator,
                product: item.product,
                quantity,
                traffic,
                authorised: item.authorised,
                // showcase orders come from the showcase, not from the video
                target_video: item
                    .video
                    .filter(|_| matches!(traffic, Traffic::Video | Traffic::Ad)),
                seller_coupon,
                platform_coupon,
                shipping: bb.shipping,
            };
            let track = (!self.track.is_empty()
                && self.track.contains(&(self.pf.orders.issued() + 1)))
            .then(|| {
                let no = self.pf.orders.issued() + 1;
                (
                    format!("#{no}"),
                    Names2 {
                        creator: self.agents.names.creator(item.creator),
                        product: self.agents.names.product(item.product),
                    },
                )
            });
            if let Ok(k) = self.pf.place_order(&self.agents, &req, t, track) {
                let ob = &self.sc.behaviour.orders;
                let lr = &mut self.rng.logistics;
                if unit(lr) < ob.cancel_probability {
                    let d = behaviour::delay(&ob.cancel_delay, lr);
                    self.q
                        .push(t.plus_minutes(d), Phase::AfterSales, Ev::Cancel(k));
                } else {
                    let d = behaviour::delay(&ob.ship_delay, lr);
                    self.q.push(
                        t.plus_minutes(d),
                        Phase::Logistics,
                        Ev::Ship {
                            key: k,
                            deliver: SimTime::NEVER,
                        },
                    );
                }
            }
        }
        let c = &mut self.content[ci as usize];
        c.remaining -= 1;
        if c.remaining == 0 || t >= self.end {
            if c.remaining == 0
                && let Some(x) = self.inc.live_on.get_mut(c.product.idx())
            {
                *x = x.saturating_sub(1);
            }
            self.content_free.push(ci);
            return;
        }
        let (kind, remaining, elapsed) = (c.kind, c.remaining, t.since(c.posted));
        let gap = behaviour::next_order_gap(bb, kind, remaining, elapsed, &mut self.rng.buyers);
        self.q
            .push(t.plus_minutes(gap), Phase::Order, Ev::Demand(ci));
    }
}

/// Minutes per day, for callers converting report days.
pub const MINUTES_PER_DAY: u32 = DAY;
