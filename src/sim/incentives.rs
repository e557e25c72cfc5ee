//! The incentive model inside the simulator: creators' expected earnings per post, outside
//! options, intensive and extensive margins, and the choices that use them (docs/behaviour.md).

use rand_distr::Distribution;

use super::{By, EARNED_WEIGHT, Incentives, World, behaviour};
use crate::model::{ContentKind, CreatorId, ProductId};
use crate::rules::choices::Standing;
use crate::rules::ids::*;
use crate::rules::plus::{Objective, PlusKind};
use crate::scenario::dist::unit;
use crate::time::SimTime;

/// The popularity-weighted median price of eligible products (the outside option's scale).
pub(crate) fn median_price(agents: &crate::model::Agents) -> f64 {
    let mut prices: Vec<(f64, f64)> = agents
        .products
        .iter()
        .filter(|p| p.eligible)
        .map(|p| (p.price.0.try_into().unwrap_or(0.0), p.popularity))
        .collect();
    prices.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = prices.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for (price, wt) in &prices {
        acc += wt;
        if acc >= total / 2.0 {
            return *price;
        }
    }
    prices.last().map_or(1.0, |x| x.0)
}

/// The value per order of a product search: Σ popularity × price × rate ÷ Σ popularity over
/// eligible products, where the rate is the product's Open rate at `t`, else its seller's Shop
/// plan rate, else nothing; each term times `weight(lever, product, rate)` (lever 0: Open, 1:
/// Shop plan; the sensitivity recorder's `LeverWeights`, else 1). Returns the Open part, the
/// Shop plan part and their sum. Also used by `configured_elasticity`.
pub(crate) fn search_value(
    agents: &crate::model::Agents,
    books: &crate::rules::plans::Books,
    t: SimTime,
    weight: impl Fn(usize, crate::model::ProductId, crate::money::Rate) -> f64,
) -> (f64, f64, f64) {
    let (mut open, mut shop, mut wsum) = (0.0, 0.0, 0.0);
    for (i, p) in agents.products.iter().enumerate() {
        if !p.eligible {
            continue;
        }
        wsum += p.popularity;
        let price: f64 = p.price.0.try_into().unwrap_or(0.0);
        let id = crate::model::ProductId(i as u32);
        if let Some(l) = books.listing_of(id)
            && let Some((r, _)) = books.open_listings[l.index()].rate.at(t)
        {
            open += p.popularity * price * behaviour::rate_f64(r) * weight(0, id, r);
            continue;
        }
        if let Some(Some(h)) = books.shop.get(p.seller.idx())
            && let Some((r, _)) = h.at(t)
        {
            shop += p.popularity * price * behaviour::rate_f64(r) * weight(1, id, r);
        }
    }
    if wsum > 0.0 {
        (open / wsum, shop / wsum, (open + shop) / wsum)
    } else {
        (0.0, 0.0, 0.0)
    }
}

/// A creator's expectations at a wake ([`World::expectation`]).
#[derive(Copy, Clone, Debug)]
pub(super) struct Expectation {
    /// E*: what it expects to earn per post ([`World::best_earnings`]).
    best: f64,
    /// O: its outside option.
    outside: f64,
    /// ln(E*/O), the ratio floored ([`behaviour::log_earnings_ratio`]).
    log_ratio: f64,
}

impl World<'_> {
    /// Draws outside options and sets every creator's starting expectations.
    pub(super) fn init_incentives(&mut self) {
        let ib = &self.sc.behaviour.incentives;
        let n = self.agents.creators.len();
        let (_, _, sv) = search_value(&self.agents, self.pf.books(), SimTime::ZERO, |_, _, _| 1.0);
        let scale = behaviour::rate_f64(ib.reference_rate) * median_price(&self.agents);
        let inc = Incentives {
            on: true,
            memo: super::memo::EarningsMemo::new(&self.sc.behaviour.buyers, &self.agents),
            logits: super::memo::ChoiceLogits::new(self.sc),
            effort: [ib.video_effort, ib.live_effort].map(|m| m.0.try_into().unwrap_or(0.0)),
            parts: None,
        };
        let b = &self.sc.behaviour.buyers;
        for c in 0..n {
            // `base_orders` from its parts: the reach (one power, kept below) and the memo's
            // saturation at no live items and coupon factor — the same function of the same
            // inputs, where `mean_orders` computed all five powers per creator.
            let followers = f64::from(self.agents.creators[c].followers);
            let reach = behaviour::reach(b, followers);
            let q = inc.memo.mean_orders(b, reach, false, ContentKind::Video, 0);
            let z: f64 = rand_distr::StandardNormal.sample(&mut self.rng.incentives);
            let noise = (ib.outside_sigma * z).exp();
            let cs = &mut self.pf.creator_sim_mut(c).state;
            cs.outside = (scale * q * noise).max(1e-9) as f32;
            cs.earned = (q * sv - inc.effort[0]) as f32;
            cs.bonus = 0.0;
            cs.bonus_until = SimTime::ZERO;
            cs.active = true;
            cs.review_at = SimTime::ZERO;
            cs.reach = Some(reach);
        }
        self.inc = inc;
    }

    /// Expected orders of a video by `c` with no category fit and no saturation.
    pub(super) fn base_orders(&self, c: CreatorId) -> f64 {
        behaviour::mean_orders(
            &self.sc.behaviour.buyers,
            true,
            f64::from(self.agents.creators[c.idx()].followers),
            false,
            ContentKind::Video,
            0,
        )
    }

    /// Expected orders per post of `c` about `p` (the same mean the draw uses). Inline: a
    /// search calls it per candidate and a post once (1.2 million calls in mid).
    #[inline]
    pub(super) fn expected_orders(&self, c: CreatorId, p: ProductId, kind: ContentKind) -> f64 {
        let b = &self.sc.behaviour.buyers;
        let s = &self.pf.creator_sim(c.idx()).state;
        // (`reach` is set for every creator when the model starts; computed otherwise.)
        let reach = match s.reach {
            Some(r) => r,
            None => behaviour::reach(b, f64::from(self.agents.creators[c.idx()].followers)),
        };
        let (category, live_on) = self.inc.memo.category_and_live(p.idx(), || {
            self.agents.products.get(p.idx()).map(|x| x.category)
        });
        self.inc
            .memo
            .mean_orders(b, reach, s.has_category(category), kind, live_on)
    }

    /// Product `p`'s seller, eligibility and category: from the incentive model's per-product
    /// line when it is on (what a search and a post read of the product, one line), else from
    /// `agents.products` (the same values).
    #[inline]
    pub(super) fn product_terms(&self, p: ProductId) -> (crate::model::SellerId, bool, u8) {
        self.inc.memo.terms(p.idx(), &self.agents.products[p.idx()])
    }

    /// [`Platform::resolution_as`] with the product's terms from [`World::product_terms`]:
    /// a search's and a post's question to the rules engine.
    #[inline]
    pub(super) fn resolution_as(
        &self,
        c: CreatorId,
        p: ProductId,
        t: SimTime,
        standing: crate::rules::choices::Standing,
    ) -> Option<crate::rules::attribution::Resolution> {
        let (seller, eligible, _) = self.product_terms(p);
        self.pf.resolution_of(c, p, (seller, eligible), t, standing)
    }

    /// E(c, p): price × the rate the rules engine would pay `c` on `p` at `t` × expected orders.
    #[inline]
    pub(super) fn commission_per_post(
        &self,
        c: CreatorId,
        p: ProductId,
        rate: crate::money::Rate,
    ) -> f64 {
        let price = self.inc.memo.price(p.idx(), &self.agents.products[p.idx()]);
        price * behaviour::rate_f64(rate) * self.expected_orders(c, p, ContentKind::Video)
    }

    /// E*_c: what the creator expects to earn per post now.
    pub(super) fn best_earnings(&self, c: CreatorId, t: SimTime) -> f64 {
        let i = c.idx();
        let s = &self.pf.creator_sim(i).state;
        let bonus = if t < s.bonus_until {
            f64::from(s.bonus)
        } else {
            0.0
        };
        f64::from(s.earned) + bonus
    }

    /// The intensive multiplier of `c`'s actions per day.
    pub(super) fn intensity(&self, c: CreatorId, t: SimTime) -> f64 {
        behaviour::intensity(
            &self.sc.behaviour.incentives,
            self.best_earnings(c, t),
            f64::from(self.pf.creator_sim(c.idx()).state.outside),
        )
    }

    /// What a wake of `c` at `t` reads of its expectations: E*, O and ln(E*/O), the last
    /// computed once for the review and the action's tally (neither changes them).
    pub(super) fn expectation(&self, c: CreatorId, t: SimTime) -> Expectation {
        let best = self.best_earnings(c, t);
        let outside = f64::from(self.pf.creator_sim(c.idx()).state.outside);
        Expectation {
            best,
            outside,
            log_ratio: behaviour::log_earnings_ratio(best, outside),
        }
    }

    /// An action of `c` at `t` (it is active) with expectation `x` ([`World::expectation`]):
    /// counts it with its ln(E*/O) in [`super::Activity`] and returns its intensive multiplier.
    pub(super) fn note_action(&mut self, c: CreatorId, t: SimTime, x: Expectation) -> f64 {
        let (best, outside) = (x.best, x.outside);
        let a = &mut self.activity;
        a.actions += 1;
        a.scored += 1;
        a.log_earnings += x.log_ratio;
        if self.inc.parts.is_some() {
            self.action_shares(c, t, best, outside);
        }
        behaviour::intensity(&self.sc.behaviour.incentives, best, outside)
    }

    /// Folds an observed expected earnings per post into the creator's smoothed value.
    pub(super) fn observe_earnings(&mut self, c: CreatorId, e: f64) {
        let x = &mut self.pf.creator_sim_mut(c.idx()).state.earned;
        *x += EARNED_WEIGHT * (e as f32 - *x);
    }

    /// The extensive margin at a wake, with the creator's expectation `x`
    /// ([`World::expectation`]): re-evaluates active/idle when due. Returns whether the
    /// creator acts now; an idle creator's next wake is its next review.
    pub(super) fn review(&mut self, t: SimTime, c: CreatorId, x: Expectation) -> bool {
        let i = c.idx();
        if t >= self.pf.creator_sim(i).state.review_at {
            let ib = &self.sc.behaviour.incentives;
            let p = behaviour::active_probability_with(
                ib,
                self.inc.logits.active,
                x.log_ratio,
                x.outside,
            );
            let active = unit(&mut self.rng.agent) < p;
            let s = &mut self.pf.creator_sim_mut(i).state;
            s.active = active;
            s.review_at = t.plus_minutes(behaviour::days_to_minutes(ib.review_days, 1));
        }
        let s = &self.pf.creator_sim(i).state;
        let (active, at) = (s.active, s.review_at);
        if !active {
            self.q
                .push(at, super::queue::Phase::Agent, super::Ev::Wake(c));
        }
        active
    }

    /// Utility-scored value of a candidate product for `c`, or None when it pays nothing.
    pub(super) fn candidate_earnings(
        &self,
        c: CreatorId,
        p: ProductId,
        rate: crate::money::Rate,
    ) -> f64 {
        self.commission_per_post(c, p, rate)
    }

    /// Expected earnings per post of joining Plus collaboration `camp` for `c`: commission on
    /// its products at the Plus rate (or the rate the rules engine offers) plus the Task reward
    /// × P(finish) ÷ posts, or a Challenge's prizes ÷ selected creators ÷ posts, less a video's
    /// effort. Also returns the
    /// part that comes from the reward or prizes (the bonus while the collaboration runs).
    pub(super) fn plus_join_earnings(
        &self,
        c: CreatorId,
        camp: PlusId,
        t: SimTime,
        reward: crate::money::Money,
        rank_rewards: &[crate::money::Money],
        selected: usize,
    ) -> (f64, f64) {
        let ib = &self.sc.behaviour.incentives;
        let cp = &self.pf.books().plus.campaigns[camp.index()];
        let n = cp.products.len().max(1) as f64;
        let (mut comm, mut q, mut price) = (0.0, 0.0, 0.0);
        for &p in &cp.products {
            let rate = cp
                .rate
                .or_else(|| {
                    self.pf
                        .rate_as(&self.agents, c, p, t, Standing::OnceApproved)
                })
                .unwrap_or_default();
            comm += self.commission_per_post(c, p, rate) / n;
            q += self.expected_orders(c, p, ContentKind::Video) / n;
            let pr: f64 = self.agents.products[p.idx()]
                .price
                .0
                .try_into()
                .unwrap_or(0.0);
            price += pr / n;
        }
        let extra = match &cp.kind {
            PlusKind::Task { tasks, .. } => {
                let posts = tasks
                    .iter()
                    .filter(|k| k.objective == Objective::Posts)
                    .map(|k| k.target.try_into().unwrap_or(1.0f64))
                    .fold(0.0f64, f64::max);
                let posts = if posts >= 1.0 { posts } else { ib.plus_posts };
                let mut finish = 1.0;
                for k in tasks {
                    let target: f64 = k.target.try_into().unwrap_or(0.0);
                    let need = match k.objective {
                        Objective::Posts => continue,
                        Objective::Orders => target,
                        Objective::Gmv => target / price.max(1e-9),
                    };
                    finish *= behaviour::poisson_at_least(posts * q, need.ceil().max(0.0) as u32);
                }
                let r: f64 = reward.0.try_into().unwrap_or(0.0);
                r * finish / posts
            }
            PlusKind::Challenge { .. } => {
                let total: f64 = rank_rewards
                    .iter()
                    .map(|m| f64::try_from(m.0).unwrap_or(0.0))
                    .sum();
                total / selected.max(1) as f64 / ib.plus_posts
            }
        };
        (comm + extra - self.effort(ContentKind::Video), extra)
    }
}

impl World<'_> {
    /// A creator who joined Plus collaboration `camp` (behaviour model): the reward or prizes
    /// count in its expected earnings until the end, it stays active through the period, and it
    /// takes up the collaboration's products (applying to their Open plans, or adding them
    /// under the Shop plan) so that its posts can earn the Plus terms.
    pub(super) fn commit_to_plus(&mut self, t: SimTime, camp: PlusId, c: CreatorId) {
        let st = &self.pf.books().plus.state[camp.index()];
        let (reward, ranks, selected) = (st.reward, st.rank_rewards.clone(), st.selected.len());
        let (_, extra) = self.plus_join_earnings(c, camp, t, reward, &ranks, selected);
        let end = self.pf.books().plus.campaigns[camp.index()].end;
        let i = c.idx();
        let s = &mut self.pf.creator_sim_mut(i).state;
        s.bonus = extra as f32;
        s.bonus_until = end;
        s.active = true;
        if s.review_at < end {
            s.review_at = end;
        }
        let products = self.pf.books().plus.campaigns[camp.index()]
            .products
            .clone();
        for p in products {
            if self.pf.showcase_entry(c, p).is_some() {
                continue;
            }
            if self.pf.books().listing_of(p).is_some() {
                self.apply(t, c, p, By::Model);
            } else {
                let _ = self.pf.add_shop_product(&self.agents, c, p, t);
            }
        }
    }

    /// Expected earnings per post of accepting Target invitation `inv`: the mean commission
    /// per post over its products at the invited rates, plus the flat fee (one video is asked
    /// for) and the value of free samples, less a video's effort.
    pub(super) fn target_earnings(&self, c: CreatorId, inv: InvitationId, _t: SimTime) -> f64 {
        let ib = &self.sc.behaviour.incentives;
        let i = &self.pf.books().target.invitations[inv.index()];
        let n = i.products.len().max(1) as f64;
        let mut e = 0.0;
        for tp in &i.products {
            e += self.commission_per_post(c, tp.product, i.rate_for(c, tp)) / n;
            if tp.sample == crate::rules::target::SampleOffer::Free {
                let price: f64 = self.agents.products[tp.product.idx()]
                    .price
                    .0
                    .try_into()
                    .unwrap_or(0.0);
                e += price * ib.sample_value;
            }
        }
        if let crate::rules::target::Fee::Flat(fee) = i.fee {
            e += f64::try_from(fee.0).unwrap_or(0.0);
        }
        e - self.effort(ContentKind::Video)
    }
}
