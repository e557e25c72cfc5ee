//! Target collaboration orchestration: invitations sent, creators' answers, flat-fee videos
//! submitted and reviewed (with the reviewer's settings), approved videos posted (TARGET-4).

use crate::model::{ContentKind, ProductId};
use crate::rules::choices::{Answer, Review};
use crate::rules::ids::*;
use crate::scenario::dist::unit;
use crate::sim::queue::Phase;
use crate::sim::rng::AgentStream;
use crate::sim::{By, Ev, World, behaviour};
use crate::time::SimTime;

impl World<'_> {
    pub(in crate::sim) fn slot_scripted(&self, slot: SlotId) -> bool {
        let inv = self.pf.books().target.slots[slot.index()].invitation;
        self.pf.books().target.invitations[inv.index()].scripted
    }

    pub(in crate::sim) fn send_invitation(&mut self, t: SimTime, inv: InvitationId) {
        self.pf.send_invitation(inv, t);
        let i = &self.pf.books().target.invitations[inv.index()];
        let (flat, scripted) = (
            matches!(i.fee, crate::rules::target::Fee::Flat(_)),
            i.scripted,
        );
        let slots: Vec<SlotId> = (0..self.pf.books().target.slots.len())
            .map(SlotId::at)
            .filter(|&s| self.pf.books().target.slots[s.index()].invitation == inv)
            .collect();
        let tb = &self.sc.behaviour.target;
        for s in slots {
            if flat {
                let close = t.plus_days(crate::rules::target::ACCEPT_DAYS);
                self.q.push(close, Phase::Control, Ev::TargetExpire(s));
            }
            if !scripted {
                let creator = self.pf.books().target.slots[s.index()].creator;
                let p_accept = if self.inc.on {
                    let e = self.target_earnings(creator, inv, t);
                    behaviour::choice_probability(
                        tb.accept_probability,
                        self.sc.behaviour.incentives.earnings_weight,
                        e,
                        f64::from(self.pf.creator_sim(creator.idx()).state.outside),
                    )
                } else {
                    tb.accept_probability
                };
                self.enter(AgentStream::Decision, creator);
                let r = &mut self.rng.agent;
                let answer = Answer::accept_if(unit(r) < p_accept);
                let d = behaviour::delay(&tb.accept_delay, r);
                self.q.push(
                    t.plus_minutes(d),
                    Phase::Agent,
                    Ev::TargetRespond { slot: s, answer },
                );
            }
        }
    }

    pub(in crate::sim) fn target_respond(
        &mut self,
        t: SimTime,
        slot: SlotId,
        answer: Answer,
        by: By,
    ) {
        match self.pf.respond_target(&self.agents, slot, answer, t) {
            Ok(samples) => {
                let creator = self.pf.books().target.slots[slot.index()].creator;
                self.note_terms(creator, t);
                for s in samples {
                    let ob = &self.sc.behaviour.orders;
                    let d = behaviour::delay(&ob.ship_delay, &mut self.rng.logistics)
                        + behaviour::delay(&ob.delivery_delay, &mut self.rng.logistics);
                    self.q
                        .push(t.plus_minutes(d), Phase::Logistics, Ev::SampleArrive(s));
                }
                let deadline = self.pf.books().target.slots[slot.index()].deadline;
                if answer.accepted() && deadline != SimTime::NEVER {
                    self.q
                        .push(deadline, Phase::Agent, Ev::VideoDeadline { slot, deadline });
                    if !self.slot_scripted(slot) {
                        self.model_video(t, slot);
                    }
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The behaviour model: the creator submits a video with some probability, after a delay.
    pub(in crate::sim) fn model_video(&mut self, t: SimTime, slot: SlotId) {
        self.enter(
            AgentStream::Decision,
            self.pf.books().target.slots[slot.index()].creator,
        );
        let tb = &self.sc.behaviour.target;
        let r = &mut self.rng.agent;
        if unit(r) < tb.video_probability {
            let d = behaviour::delay(&tb.video_delay, r);
            self.q
                .push(t.plus_minutes(d), Phase::Agent, Ev::VideoSubmit(slot));
        }
    }

    pub(in crate::sim) fn video_submit(&mut self, t: SimTime, slot: SlotId, by: By) {
        match self.pf.submit_video(slot, t) {
            Ok(()) => {
                if !self.slot_scripted(slot) {
                    // The invitation's reviewer — the seller or the platform — reviews with its
                    // own probability and delay (TARGET-4 model), drawn from the sellers stream.
                    let inv = self.pf.books().target.slots[slot.index()].invitation;
                    let reviewer = self.pf.books().target.invitations[inv.index()].reviewer;
                    let rv = self.sc.behaviour.target.review(reviewer);
                    let r = &mut self.rng.sellers;
                    let review = Review::approve_if(unit(r) < rv.approval_probability);
                    let d = behaviour::delay(&rv.delay, r);
                    self.q.push(
                        t.plus_minutes(d),
                        Phase::Agent,
                        Ev::VideoReview { slot, review },
                    );
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    pub(in crate::sim) fn video_review(
        &mut self,
        t: SimTime,
        slot: SlotId,
        review: Review,
        by: By,
    ) {
        match self.pf.review_video(slot, review, t) {
            Ok(Some(deadline)) => {
                self.q
                    .push(deadline, Phase::Agent, Ev::VideoDeadline { slot, deadline });
                if !self.slot_scripted(slot) {
                    self.model_video(t, slot);
                }
            }
            Ok(None) => {
                if review.approved() && self.sc.behaviour.target.approved_video_posts {
                    self.post_target_video(t, slot);
                }
            }
            Err(r) if by.scripted() => self.refuse(r),
            Err(_) => {}
        }
    }

    /// The opt-in video model (`behaviour.target.approved_video_posts`): an approved flat-fee
    /// video is posted, as one video about each product of the invitation, and brings orders like
    /// any post. It is authorised for ads when the seller asked for it (TARGET-4); otherwise as an
    /// ordinary video: drawn with `creators.authorise_probability`, or not authorised on a
    /// `scripted` invitation (as a scripted post by default).
    pub(in crate::sim) fn post_target_video(&mut self, t: SimTime, slot: SlotId) {
        let s = &self.pf.books().target.slots[slot.index()];
        let inv = &self.pf.books().target.invitations[s.invitation.index()];
        let (creator, scripted) = (s.creator, inv.scripted);
        let products: Vec<ProductId> = inv.products.iter().map(|p| p.product).collect();
        // rule: TARGET-4 — submitted videos are authorised for ads if the seller asks
        let asked = self.pf.books().target.video_authorised(slot, t);
        for p in products {
            self.enter(AgentStream::Decision, creator);
            let authorised = asked
                || (!scripted
                    && unit(&mut self.rng.agent)
                        < self.sc.behaviour.creators.authorise_probability);
            self.post(t, creator, p, ContentKind::Video, authorised, Some(slot));
        }
    }
}
