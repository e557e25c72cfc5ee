//! Collaboration Plus orchestration: the platform policy's selection at the start (PLUS-7), joins
//! and sample requests, Task rewards paid as they fall due and Challenge ranks at the end, each
//! after the risk-control draw (PLUS-18).

use rand::Rng as _;

use crate::model::CreatorId;
use crate::rules::choices::{AdsPrompt, RiskCheck};
use crate::rules::ids::*;
use crate::scenario::dist::unit;
use crate::sim::queue::Phase;
use crate::sim::rng::AgentStream;
use crate::sim::{By, Ev, World, behaviour, policy};
use crate::time::SimTime;

impl World<'_> {
    pub(in crate::sim) fn ship_plus_sample(&mut self, t: SimTime, s: SampleId) {
        let ob = &self.sc.behaviour.orders;
        let d = behaviour::delay(&ob.ship_delay, &mut self.rng.logistics)
            + behaviour::delay(&ob.delivery_delay, &mut self.rng.logistics);
        self.q
            .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
    }

    /// The period starts: the platform policy selects creators (PLUS-7); with the behaviour
    /// model, selected creators join with some probability after a delay.
    pub(in crate::sim) fn plus_start(&mut self, t: SimTime, c: PlusId) {
        let camp = self.pf.books().plus.campaigns[c.index()].clone();
        let group = &self.pf.books().plus.groups[camp.group.index()];
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
                    f64::from(self.pf.creator_sim(creator.idx()).state.outside),
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

    /// A selected creator joins; `answer` is a scripted answer to the collaboration's ads prompt
    /// (PLUS-22), drawn when `None` and the collaboration prompts.
    pub(in crate::sim) fn plus_join(
        &mut self,
        t: SimTime,
        c: PlusId,
        creator: CreatorId,
        by: By,
        answer: Option<bool>,
    ) {
        // rule: PLUS-22 — the answer to the ads prompt, drawn from the creator's decision stream
        let prompt = self.pf.books().plus.campaigns[c.index()].ads_prompt;
        let entered = prompt && answer.is_none();
        if entered {
            self.enter(AgentStream::Decision, creator);
        }
        let authorises = answer.unwrap_or_else(|| {
            entered
                && unit(&mut self.rng.agent) < self.sc.behaviour.plus.prompted_authorise_probability
        });
        match self
            .pf
            .plus_join(c, creator, t, AdsPrompt::authorise_if(authorises))
        {
            Ok(part) => {
                if self.inc.on
                    && !by.scripted()
                    && !self.pf.books().plus.campaigns[c.index()].scripted
                {
                    self.commit_to_plus(t, c, creator);
                }
                self.note_terms(creator, t);
                if !entered {
                    self.enter(AgentStream::Decision, creator);
                }
                let camp = &self.pf.books().plus.campaigns[c.index()];
                if !by.scripted()
                    && !camp.scripted
                    && camp.samples.iter().any(|&n| n > 0)
                    && unit(&mut self.rng.agent) < self.sc.behaviour.plus.sample_request_probability
                {
                    // rule: PLUS-21 — the creator asks for the product it will promote: one of
                    // the collaboration's products with samples left, drawn uniformly
                    let left = &self.pf.books().plus.state[c.index()].samples_left;
                    let n = left.iter().filter(|&&k| k > 0).count();
                    let pick = if n > 1 {
                        (self.rng.agent.next_u64() % n as u64) as usize
                    } else {
                        0
                    };
                    let product = left
                        .iter()
                        .zip(&camp.products)
                        .filter(|(k, _)| **k > 0)
                        .nth(pick)
                        .map(|(_, p)| *p);
                    if let Some(p) = product
                        && let Ok(s) = self.pf.plus_request_sample(part, Some(p), t)
                    {
                        self.ship_plus_sample(t, s);
                    }
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    /// Pays Task rewards that fell due, asking risk control first (PLUS-3, PLUS-18).
    pub(in crate::sim) fn pay_due_rewards(&mut self, t: SimTime) {
        while let Some((part, reward)) = self.pf.next_due_reward() {
            let risk = RiskCheck::cancel_if(
                unit(&mut self.rng.platform) < self.sc.behaviour.plus.risk_cancel_probability,
            );
            self.pf.plus_pay_reward(part, reward, risk, t);
        }
    }

    /// The period ends: Challenge ranks are final and paid (PLUS-5), the service fee is settled
    /// (PLUS-16), statuses are fixed (PLUS-17).
    pub(in crate::sim) fn plus_end(&mut self, t: SimTime, c: PlusId) {
        let winners = self.pf.plus_ranking(c);
        for &(part, amount) in &winners {
            let risk = RiskCheck::cancel_if(
                unit(&mut self.rng.platform) < self.sc.behaviour.plus.risk_cancel_probability,
            );
            self.pf.plus_pay_reward(part, amount, risk, t);
        }
        let w: Vec<ParticipantId> = winners.iter().map(|x| x.0).collect();
        if let Some(r) = self.plus_ranks.get_mut(c.index()) {
            r.clone_from(&w);
        }
        if let Some(at) = self.pf.plus_end(c, &w, t) {
            // Lines due to settle at `at` from now on pop after this refund (settlements.rs).
            self.settlements.seal(at);
            self.q.push(at, Phase::Settlement, Ev::PlusRefund(c));
        }
    }
}
