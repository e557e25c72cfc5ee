//! The kernel of the simulator: builds the world, runs the event loop (interrupt checks, ledger
//! flushes, prefetch hints, day snapshots) and dispatches each event to its handler.

use rust_decimal::Decimal;

use super::queue::{EventQueue, Phase};
use super::rng::{self, AgentStream, Streams};
use super::{By, Ev, Incentives, RunOptions, World, behaviour, population};
use crate::metrics::Metric;
use crate::model::CreatorId;
use crate::rules::choices::{Notice, Recording};
use crate::rules::ids::LineKey;
use crate::rules::ledger::Account;
use crate::rules::orders::ReturnPart;
use crate::rules::{Platform, Refusal};
use crate::scenario::{Action, Scenario};
use crate::time::SimTime;

impl<'s> World<'s> {
    pub(super) fn new(sc: &'s Scenario, index: u32, opts: &RunOptions) -> World<'s> {
        let mut rng = Streams::new(sc.seed, u64::from(index));
        let built = population::build(sc, &mut rng.population);
        let pf = Platform::new(
            sc.opts,
            sc.calendar,
            &built.agents,
            built.books,
            Recording::on_if(opts.record_ledger || opts.ledger_sink.is_some()),
        );
        let product_pick =
            super::alias::AliasPick::new(&super::alias::pick_weights(&built.agents.products));
        let n_creators = built.agents.creators.len();
        let nets = super::distributors::Nets::draw(sc, index, n_creators);
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
            pending: (0, 0, 0),
            last_time: SimTime::ZERO,
            links: Vec::new(),
            interrupt: None,
            stopped: false,
            sink: None,
            sink_error: None,
            inc: Incentives::default(),
            policy_marks: Default::default(),
            policies: Vec::new(),
            nets,
            outreach: super::target_policy::Outreach::default(),
            activity: super::Activity::default(),
            settlements: Default::default(),
            refused: Default::default(),
        };
        // What a wake reads of its creator's model data, copied into the record it reads anyway
        // (`CreatorState`'s `live` and `categories`).
        for (i, cr) in w.agents.creators.iter().enumerate() {
            let s = &mut w.pf.creator_sim_mut(i).state;
            s.live = cr.live;
            s.categories = cr.categories;
        }
        w.init_seller_policies();
        w.init_outreach(index);
        if sc.behaviour.incentives.enabled {
            w.init_incentives();
            if opts.lever_shares {
                w.init_shares(opts.lever_weights.clone());
            }
        }
        for (i, s) in sc.script.iter().enumerate() {
            let phase = match s.action {
                Action::OpenRate { .. }
                | Action::ShopRate { .. }
                | Action::SendInvitation(_)
                | Action::OpenCampaign(_)
                | Action::EditCampaign { .. }
                | Action::TargetRate { .. }
                | Action::Terminate { .. }
                | Action::Resume { .. }
                | Action::PlusConfirm(_)
                | Action::PlusPay(_)
                | Action::PlusStart(_)
                | Action::PlusEnd(_)
                | Action::PlusEdit { .. }
                | Action::GeneratedRate { .. }
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
    pub(super) fn run(&mut self, stop: Option<SimTime>, daily: &mut Vec<Vec<Decimal>>) {
        let w = self;
        let sc = w.sc;
        let mut last = vec![Decimal::ZERO; Metric::COUNT];
        let mut day = 0u32;
        let end = w.end;
        while let Some((t, ev)) =
            w.q.pop_if(|t| (sc.drain || t < end) && stop.is_none_or(|s| t <= s))
        {
            if let Ev::SettleBatch(b) = ev {
                // Each line of the batch is one event, as if it had its own (settlements.rs).
                let keys = w.settlements.take(b);
                let mut go_on = true;
                for (i, &k) in keys.iter().enumerate() {
                    if !w.begin_event(t, &mut day, &mut last, daily) {
                        go_on = false;
                        break;
                    }
                    if let Some(&n) = keys.get(i + PREFETCH_FAR as usize) {
                        w.prefetch_line(n);
                    }
                    if let Some(&n) = keys.get(i + PREFETCH_NEAR as usize) {
                        w.prefetch_settle(n);
                    }
                    if let Some(&n) = keys.get(i + PREFETCH_NEXT as usize) {
                        w.prefetch_settle_sums(n);
                    }
                    let _ = w.pf.settle(k, t);
                    if w.pf.rewards_due() {
                        w.pay_due_rewards(t);
                    }
                }
                w.settlements.recycle(b, keys);
                if go_on {
                    continue;
                }
                break;
            }
            if !w.begin_event(t, &mut day, &mut last, daily) {
                break;
            }
            let ahead = w.q.lookahead();
            if let Some(next) = ahead.get(PREFETCH_FAR) {
                w.prefetch_far(next);
            }
            if let Some(next) = ahead.get(PREFETCH_NEAR) {
                w.prefetch_near(next);
            }
            if let Some(next) = ahead.get(PREFETCH_NEXT) {
                w.prefetch_next(next);
            }
            if let Some(next) = ahead.get(PREFETCH_LAST) {
                w.prefetch_last(next);
            }
            w.dispatch(t, ev);
            if w.pf.rewards_due() {
                w.pay_due_rewards(t);
            }
        }
        while daily.len() < sc.days.max(day + 1) as usize {
            snapshot(&w.pf, &mut last, daily);
        }
    }

    /// What the loop does for every event before handling it: the same-minute note (TIME-1),
    /// the day snapshots, the event count and, every 65,536 events, the ledger flush and the
    /// interrupt check. False: stop now.
    #[inline(always)]
    fn begin_event(
        &mut self,
        t: SimTime,
        day: &mut u32,
        last: &mut [Decimal],
        daily: &mut Vec<Vec<Decimal>>,
    ) -> bool {
        if self.events > 0 && t == self.last_time {
            // rule: TIME-1 — same-minute events pop in (phase, sequence) order
            self.pf.note_same_minute();
        }
        self.last_time = t;
        while t.day() > *day {
            snapshot(&self.pf, last, daily);
            *day += 1;
        }
        self.events += 1;
        if self.events & 0xFFFF == 0 {
            self.sample_pending();
            if self.sink.is_some() {
                self.flush_ledger();
                if self.sink_error.is_some() {
                    self.stopped = true;
                    return false;
                }
            }
            if let Some(f) = &self.interrupt
                && f.load(std::sync::atomic::Ordering::Relaxed)
            {
                self.stopped = true;
                return false;
            }
        }
        true
    }

    /// Adds one sample to the pending-events figure ([`super::Pending`]; `--timing` only).
    #[cold]
    fn sample_pending(&mut self) {
        let n = (self.q.len() as i64 + self.settlements.events_beyond_queue()).max(0) as u64;
        self.pending.0 += n;
        self.pending.1 += 1;
        self.pending.2 = self.pending.2.max(n);
    }

    /// Hands the entries recorded so far to the sink (if any) and forgets them; at the end of the
    /// run, also finishes the sink. An error stops the run (reported by `run_replication`).
    pub(super) fn flush_ledger(&mut self) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.sink_error.is_some() {
            return;
        }
        let written = sink.write(&self.agents, self.pf.ledger().entries());
        self.pf.clear_recorded_entries();
        if let Err(e) = written {
            self.sink_error = Some(e);
        }
    }
}

/// How many events ahead the loop prefetches the state an event touches first (the content
/// item, the order line, the showcase), and then, once that has arrived, what it points to (the
/// product, the creator's showcase and approvals, the creator's ledger account).
const PREFETCH_FAR: u32 = 10;
const PREFETCH_NEAR: u32 = 4;
/// And a third step for what the second brought: a content item's Open listing.
const PREFETCH_NEXT: u32 = 2;
/// And a fourth for what the third brought: the campaign sums of the plan a line resolves to.
const PREFETCH_LAST: u32 = 1;

pub(super) use crate::hint::prefetch;

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
                if let Some((h, _)) = self.pf.orders().slot_refs(k) {
                    prefetch(h);
                }
            }
            Ev::Deliver(k) | Ev::Cancel(k) | Ev::Return { key: k, .. } => self.prefetch_line(k),
            Ev::Wake(c) => {
                // Its whole record, one page: approvals and showcase, episode counters and
                // incentive state, kept rates (rules::CreatorRecord).
                if let Some(r) = self.pf.creator_ref(c) {
                    prefetch(r);
                }
            }
            _ => {}
        }
    }

    /// A line's status byte and the line.
    #[inline]
    fn prefetch_line(&self, k: LineKey) {
        if let Some((h, l)) = self.pf.orders().slot_refs(k) {
            prefetch(h);
            prefetch(l);
        }
    }

    /// What settling a line touches once the line is in cache: its creator's ledger balance.
    #[inline]
    fn prefetch_settle(&self, k: LineKey) {
        if let Some((_, l)) = self.pf.orders().slot_refs(k) {
            if let Some(b) = self.pf.ledger().balance_ref(Account::creator(l.creator())) {
                prefetch(b);
            }
            self.pf.orders().prefetch_resolution(l.resolution());
            if let Some(s) = self.pf.orders().seller_of_ref(l.product()) {
                prefetch(s);
            }
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
                    // The creator's approvals and showcase: one record.
                    if let Some(s) = self.pf.showcase_ref(c.creator) {
                        prefetch(s);
                    }
                    let (plus, listing) = self.pf.order_refs(c.creator, c.product);
                    if let Some(w) = plus {
                        prefetch(w);
                    }
                    if let Some(l) = listing {
                        prefetch(l);
                    }
                    // (Not the book's per-product seller: placement takes the product's own.)
                    self.pf.orders().prefetch_memo(c.product);
                    self.pf.campaign_tally().prefetch_creator(c.creator);
                }
            }
            Ev::Wake(c) => {
                // (The approvals came with the showcase, `prefetch_far`.) With the incentive
                // model a wake reads nothing of `agents.creators` (its `live` and `categories`
                // are in the record); without, the post's orders and the search's scores do.
                if !self.inc.on
                    && let Some(cr) = self.agents.creators.get(c.idx())
                {
                    prefetch(cr);
                }
            }
            _ => {}
        }
    }
}

impl World<'_> {
    /// The Open listing's rate of a content item's product and the resolution its last line
    /// was given (the listing id and that resolution's index were prefetched by
    /// [`World::prefetch_near`]).
    #[inline]
    fn prefetch_next(&self, ev: Ev) {
        if let Ev::Demand(ci) = ev
            && let Some(c) = self.content.get(ci as usize)
        {
            // The listing itself only when its rate changed: else its product's entry answers.
            if let (_, Some(e)) = self.pf.order_refs(c.creator, c.product)
                && e.reads_listing()
                && let Some(l) = e.listing()
                && let Some(r) = self.pf.listing_ref(l)
            {
                prefetch(r);
            }
            self.pf.orders().prefetch_memoed(c.product);
            if let Some(p) = self.agents.products.get(c.product.idx())
                && let Some(s) = self.pf.shop_ref(p.seller)
            {
                prefetch(s);
            }
        }
    }

    /// The campaign sums a content item's next line will add to: its seller's and those of the
    /// plan its product's last line resolved to (that resolution was prefetched by
    /// [`World::prefetch_next`]).
    #[inline]
    fn prefetch_last(&self, ev: Ev) {
        if let Ev::Demand(ci) = ev
            && let Some(c) = self.content.get(ci as usize)
            && let Some(p) = self.agents.products.get(c.product.idx())
        {
            let plan = self.pf.orders().memoed_plan(c.product).unwrap_or_default();
            self.pf.campaign_tally().prefetch(plan, p.seller);
        }
    }

    /// What settling a line touches once its resolution and seller are in cache: the plan's and
    /// the seller's campaign sums and the seller's ledger balance.
    #[inline]
    fn prefetch_settle_sums(&self, k: LineKey) {
        if let Some((_, l)) = self.pf.orders().slot_refs(k)
            && let Some(&s) = self.pf.orders().seller_of_ref(l.product())
        {
            let plan = self
                .pf
                .orders()
                .resolution_plan(l.resolution())
                .unwrap_or_default();
            self.pf.campaign_tally().prefetch(plan, s);
            if let Some(b) = self.pf.ledger().balance_ref(Account::seller(s)) {
                prefetch(b);
            }
        }
    }
}

fn snapshot(pf: &Platform, last: &mut [Decimal], daily: &mut Vec<Vec<Decimal>>) {
    let now = &pf.tally().values();
    daily.push(now.iter().zip(last.iter()).map(|(a, b)| *a - *b).collect());
    last.copy_from_slice(now);
}
impl World<'_> {
    /// Positions the agent stream at `c`'s next episode of stream `tag` (rng.rs): the draws that
    /// follow belong to that creator and episode alone.
    #[inline]
    pub(super) fn enter(&mut self, tag: AgentStream, c: CreatorId) {
        let k = match tag {
            AgentStream::Wake => 0,
            AgentStream::Decision => 1,
            AgentStream::Post => 2,
        };
        let e = &mut self.pf.creator_sim_mut(c.idx()).state.episodes[k];
        rng::seek(&mut self.rng.agent, tag, c.0, *e);
        *e = e.wrapping_add(1);
    }

    pub(super) fn refuse(&mut self, r: Refusal) {
        self.pf.note_refusal(r.rule);
        self.refusals.push((r.rule, r.message.into_owned()));
    }

    pub(super) fn dispatch(&mut self, t: SimTime, ev: Ev) {
        match ev {
            Ev::Script(i) => self.script(t, i),
            Ev::SellerPolicy(i) => self.seller_policy(t, i),
            Ev::TargetPolicy(i) => self.target_policy(t, i),
            Ev::Wake(c) => self.wake(t, c),
            Ev::Decide {
                creator,
                listing,
                review,
            } => self.decided(t, creator, listing, review),
            Ev::Post {
                creator,
                product,
                kind,
                authorised,
            } => {
                self.sample_post_parts(creator, product);
                self.post(t, creator, product, kind, authorised, None)
            }
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
            // Settled line by line by the loop (`run`), never dispatched.
            Ev::SettleBatch(_) => {}
            Ev::Cancel(k) => {
                let _ = self.pf.cancel(k, t);
            }
            Ev::Return { key, percent } => {
                let _ = self.pf.return_part(key, ReturnPart::Percent(percent), t);
            }
            Ev::SampleArrive(s) => self.sample_arrive(t, s),
            Ev::SampleDeadline(s) => self.sample_deadline(s),
            Ev::LockWarning { listing, changed } => {
                self.pf.lock_warning(listing, changed);
            }
            Ev::TargetRespond { slot, answer } => self.target_respond(t, slot, answer, By::Model),
            Ev::TargetExpire(slot) => self.pf.expire_target(slot, t),
            Ev::VideoSubmit(slot) => self.video_submit(t, slot, By::Model),
            Ev::VideoReview { slot, review } => self.video_review(t, slot, review, By::Model),
            Ev::VideoDeadline { slot, deadline } => self.pf.video_deadline(slot, deadline, t),
            Ev::CampaignRegister { campaign, product } => {
                self.campaign_register(t, campaign, product)
            }
            Ev::RegReview { reg, review } => self.reg_review(reg, review),
            Ev::CampaignNotice(c) => {
                self.pf.campaign_notice(c, Notice::Advance, t);
            }
            Ev::CampaignExpire(c) => {
                self.pf.campaign_notice(c, Notice::Expired, t);
            }
            Ev::PlusPayDeadline(c) => self.pf.plus_payment_deadline(c),
            Ev::PlusJoin { campaign, creator } => {
                self.plus_join(t, campaign, creator, By::Model, None);
            }
            Ev::PlusRefund(c) => self.pf.plus_refund_fee(c, t),
        }
    }
}
