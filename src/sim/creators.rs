//! Creators' orchestration: a creator wakes, searches for a product (an Open plan, a Shop plan or a
//! distributor link) or posts from its showcase, and posts bring content that brings orders.
//! The search itself, taking a product up, dropping and replacing are in `showcase.rs`.

use rand::Rng as _;

use super::queue::Phase;
use super::rng::AgentStream;
use super::shares::{LeverPart, ShareEvent};
use super::{Content, Ev, World, behaviour};
use crate::model::{ContentKind, CreatorId, ProductId};
use crate::rules::choices::{Extension, Standing};
use crate::rules::ids::*;
use crate::scenario::dist::unit;
use crate::time::SimTime;

impl World<'_> {
    pub(super) fn wake(&mut self, t: SimTime, c: CreatorId) {
        if t >= self.end {
            return;
        }
        use rand_distr::Distribution;
        self.enter(AgentStream::Wake, c);
        let b = &self.sc.behaviour.creators;
        // The gap's exponential is the episode's first draw, whatever the review decides.
        let gap: f64 = rand_distr::Exp1.sample(&mut self.rng.agent);
        let next = if self.inc.on {
            let x = self.expectation(c, t);
            if !self.review(t, c, x) {
                return;
            }
            let k = self.note_action(c, t, x);
            behaviour::action_gap(b, k, gap)
        } else {
            self.activity.actions += 1;
            behaviour::action_gap(b, 1.0, gap)
        };
        if let Some(m) = next {
            self.q.push(t.plus_minutes(m), Phase::Agent, Ev::Wake(c));
        }
        let n = self.pf.showcase(c).len() as u32;
        // With the incentive model a full showcase searches too, for a better product to
        // replace its worst (sim/showcase.rs); without, it only posts.
        let explore = n == 0
            || ((self.inc.on || n < b.max_products)
                && unit(&mut self.rng.agent) < b.explore_probability);
        if explore && n < b.max_products {
            self.explore(t, c);
        } else if !(explore && self.replace_full(t, c)) {
            let e = self.pf.showcase(c)[(self.rng.agent.next_u64() % u64::from(n)) as usize];
            self.count_shares(ShareEvent::PostTry);
            if b.ended_entries == crate::scenario::EndedEntries::Drop && self.pf.plan_ended(e, t) {
                // The creator stops promoting a product whose Target or Plus has ended.
                self.pf.remove_from_showcase(c, e.product, t);
                self.count_shares(ShareEvent::Dropped);
                self.explore(t, c);
                return;
            }
            let live = self.pf.creator_sim(c.idx()).state.live;
            let kind = if live && unit(&mut self.rng.agent) < b.live_probability {
                ContentKind::Live
            } else {
                ContentKind::Video
            };
            let authorised =
                kind == ContentKind::Video && unit(&mut self.rng.agent) < b.authorise_probability;
            if self.inc.on {
                // What the posted product pays now (a rate cut or an ended plan shows here);
                // terms that fell since it was added may make the creator drop it and search.
                let res = self.resolution_as(c, e.product, t, Standing::Now);
                let rate = res.map(|r| r.rate);
                if self.drops(c, e, rate) {
                    self.count_shares(ShareEvent::Dropped);
                    self.explore(t, c);
                    return;
                }
                let gross = rate.map_or(0.0, |r| self.gross_earnings(c, e.product, r, kind));
                self.observe_earnings(c, gross - self.effort(kind));
                self.observe_parts(c, gross, LeverPart::of(res.as_ref()), Some(e.product), rate);
            }
            self.count_shares(ShareEvent::Posted(c));
            self.post(t, c, e.product, kind, authorised, None);
        }
    }

    pub(super) fn explore(&mut self, t: SimTime, c: CreatorId) {
        let db = &self.sc.behaviour.distributors;
        if self.has_links(c) && self.inc.on {
            // The link's creator part × price × expected orders against the outside option.
            let u = unit(&mut self.rng.agent);
            let reg = self.pick_link(c);
            let r = &self.pf.books().dist.registrations[reg.index()];
            let e = self.commission_per_post(c, r.product, r.creator_rate)
                - self.effort(ContentKind::Video);
            let p = behaviour::choice_probability_with(
                db.link_probability,
                self.inc.logits.link,
                self.sc.behaviour.incentives.earnings_weight,
                e,
                f64::from(self.pf.creator_sim(c.idx()).state.outside),
            );
            if u < p && self.pf.books().dist.valid(reg, t) {
                let _ = self
                    .pf
                    .add_link(&self.agents, c, reg, db.lower_link_choice, t);
                self.note_terms(c, t);
                return;
            }
        } else if self.has_links(c) && unit(&mut self.rng.agent) < db.link_probability {
            let reg = self.pick_link(c);
            if self.pf.books().dist.valid(reg, t) {
                let _ = self
                    .pf
                    .add_link(&self.agents, c, reg, db.lower_link_choice, t);
                self.note_terms(c, t);
                return;
            }
        }
        if let Some(found) = self.search(t, c) {
            self.take_up(t, c, found);
        }
    }

    /// A creator posts; `video` is the Target slot when the post is its approved flat-fee video.
    pub(super) fn post(
        &mut self,
        t: SimTime,
        c: CreatorId,
        p: ProductId,
        kind: ContentKind,
        authorised: bool,
        video: Option<SlotId>,
    ) {
        // rule: PLUS-22 — a participant who authorised at the collaboration's prompt has its
        // videos of the collaboration's products authorised for ads during the period
        let authorised = authorised
            || (kind == ContentKind::Video
                && self.pf.books().plus.prompt_authorised(c, p, t).is_some());
        self.pf.note_post(c, p, kind, t);
        self.note_outreach(c, p, super::target_policy::Seen::Posted);
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
        if let Some(x) = self.inc.memo.live_on_mut(p.idx()) {
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
}

impl World<'_> {
    /// A free sample arrives: the creator posts about it with some probability before its
    /// deadline (OPEN-3), and answers the deadline when it comes.
    pub(super) fn sample_arrive(&mut self, t: SimTime, s: SampleId) {
        let deadline = self.pf.sample_delivered(s, t);
        let smp = self.pf.sample(s);
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

    /// A sample's posting deadline: the creator asks for an extension with some probability.
    pub(super) fn sample_deadline(&mut self, s: SampleId) {
        self.enter(AgentStream::Decision, self.pf.sample(s).creator);
        let extend = Extension::requested_if(
            unit(&mut self.rng.agent) < self.sc.behaviour.creators.sample_extension_probability,
        );
        if let Some(d) = self.pf.sample_deadline(s, extend) {
            self.q.push(d, Phase::Agent, Ev::SampleDeadline(s));
        }
    }
}
