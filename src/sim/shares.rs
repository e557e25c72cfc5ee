//! The state behind the closed-form elasticities of the rate levers: each creator's expected earnings split by the plan whose rate pays them, the substitution of products at searches, saturation, the showcase's posting margin and the earnings measure's time path (docs/behaviour.md §6a).
//!
//! Recorded only when a run asks for it ([`super::RunOptions::lever_shares`]: `affsim
//! sensitivity`'s base arm); it draws nothing and changes no decision, so results are the same
//! with and without it.

use super::{EARNED_WEIGHT, World, behaviour};
use crate::model::{CreatorId, ProductId};
use crate::money::Rate;
use crate::rules::attribution::Resolution;
use crate::rules::plans::PlanRef;
use crate::time::SimTime;

/// Which rate lever moves an observed expected earnings: the Open listing rates, the Shop plan
/// rates, or neither (Target, Plus, distributor links, Shop Ads rates, nothing).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum LeverPart {
    Open,
    Shop,
    Other,
}

/// Where `Parts::path` keeps a creator's a·σ̄_g (three groups from here), its last ℓ and the
/// day of its last action; its length.
const SAT: usize = 2;
const L_END: usize = 5;
const DAY: usize = 6;
const PATH: usize = 7;

impl LeverPart {
    /// The index of the group of products the lever pays (0: Open, 1: Shop plan, 2: other).
    pub(crate) fn group(self) -> usize {
        match self {
            LeverPart::Open => 0,
            LeverPart::Shop => 1,
            LeverPart::Other => 2,
        }
    }

    /// The lever behind the rate the resolution pays.
    pub(crate) fn of(r: Option<&Resolution>) -> LeverPart {
        match r {
            Some(r) if r.shop_ads => LeverPart::Other,
            Some(Resolution {
                plan: PlanRef::Open(_),
                ..
            }) => LeverPart::Open,
            Some(Resolution {
                plan: PlanRef::Shop(_),
                ..
            }) => LeverPart::Shop,
            _ => LeverPart::Other,
        }
    }
}

/// How far the rates of one lever move in the arms of a sensitivity, relative to the lever's
/// mean change (docs/behaviour.md §6a, step 0): an Open rate held below a Plus rate by PLUS-9
/// moves less than the others, and the measured elasticity divides by the mean change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeverWeights {
    /// (product, rate in force, its arc change ÷ the lever's mean change).
    pub by_rate: Vec<(ProductId, Rate, f64)>,
    /// The weight of every other rate of the lever (the nominal change ÷ the mean change).
    pub other: f64,
}

impl LeverWeights {
    /// The weight of `rate` paid on `p`.
    fn of(&self, p: ProductId, rate: Rate) -> f64 {
        self.by_rate
            .iter()
            .find(|(q, r, _)| *q == p && r.0 == rate.0)
            .map_or(self.other, |x| x.2)
    }
}

/// Per creator, the parts of its smoothed expected earnings E* (smoothed with the same weight
/// as E* itself): the gross commission paid at Open rates, at Shop plan rates, the commission
/// × the score of the search that chose the observed product (per lever), and the commission
/// × the saturation elasticity σ·L ÷ (K + L) of the product when observed; its actions; and
/// what the time path of the earnings measure needs (per creator and per day).
pub(super) struct Parts {
    open: Vec<f32>,
    shop: Vec<f32>,
    /// The saturation part by the group of the product observed (Open, Shop plan, other).
    sat: Vec<[f32; 3]>,
    sub: Vec<[f32; 2]>,
    /// The score of the search that put each showcase entry there, by (creator, product).
    scores: std::collections::HashMap<(u32, u32), [f32; 2]>,
    /// A search's candidates (one buffer for every search).
    candidates: Vec<Candidate>,
    /// Per creator: Σ over its scored actions of a·(s + u) per lever (0, 1) and of a·σ̄_g per
    /// product group (`SAT + g`); ℓ (`L_END`) and the day (`DAY`) at its last action.
    path: Vec<[f64; PATH]>,
    /// Per day: actions, Σ ℓ, Σ a·(s + u) per lever (2, 3), Σ a·σ̄_g per group (4 + g).
    days: Vec<[f64; 7]>,

    actions: Vec<u32>,
    weights: Option<std::sync::Arc<[LeverWeights; 2]>>,
    /// Per creator: the score of a choice whose Open application was refused, carried to the
    /// product that next fills the showcase slot it left empty.
    pending: Vec<[f32; 2]>,
    /// The score of a free sample's request by (creator, product): the choice that found the
    /// product plus the request's own (its probability rises with the product's earnings).
    samples: std::collections::HashMap<(u32, u32), [f32; 2]>,
    /// Per creator: posts made at actions, and videos made about free samples (step 1d).
    posts_at: Vec<u32>,
    sample_videos: Vec<u32>,
    /// Per creator: s (Open, Shop plan), u (Open, Shop plan) and σ̄ at the review that opened
    /// its active spell (step 2a: the extensive margin responds to E* there).
    at_review: Vec<[f32; 7]>,
    /// The group and the entry's score of the last observation (a post's, when it is posted).
    last_obs: (usize, [f32; 2]),
    sums: LeverShares,
}

/// Sums over a replication's scored actions (docs/behaviour.md §6). For action i of creator c,
/// with E* its expected earnings and O its outside option: s = the lever's part of E* ÷ E*,
/// σ̄ = the saturation part ÷ E*, a = d ln actions ÷ d ln E* at that E* (ε where the intensive
/// multiplier is not clamped, plus κ(1 − P(active)) where the creator is not held active by a
/// Plus it joined); s and σ̄ are 0 where E*/O is at the floor.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct LeverShares {
    pub actions: u64,
    /// Σ s, per lever (Open, Shop plan).
    pub share: [f64; 2],
    /// Σ u, Σ a·u and Σ a·u·ℓ per lever: the substitution part of E*, u = the smoothed
    /// commission × the score of the search that chose the observed product, ÷ E* (a higher
    /// rate of the lever makes its products likelier choices).
    pub sub: [f64; 2],
    pub a_sub: [f64; 2],
    pub a_sub_log: [f64; 2],
    /// The time path of the earnings measure, per lever and for saturation: Σ over creators of
    /// (Σ a·(s + u) over its actions) × its ℓ at its last action net of the day's mean ℓ, plus
    /// Σ over actions of a·(s + u) × the day's mean ℓ, minus Σ a·(s + u)·ℓ; likewise with a·σ̄.
    pub path: [f64; 2],
    /// Σ a·s, per lever; here and in every a-weighted sum the extensive part of a multiplies
    /// s (u, σ̄) at the review that opened the creator's active spell, the intensive part s
    /// at the action (step 2a).
    pub a_share: [f64; 2],
    /// Σ a.
    pub a: f64,

    /// Σ ℓ = ln(E*/O) and Σ a·s·ℓ per lever: the reweighting of the earnings measure (a mean
    /// over actions) as actions respond unevenly.
    pub log_earnings: f64,
    pub a_share_log: [f64; 2],

    /// Posts and LIVEs made at actions.
    pub action_posts: u64,
    /// Searches by a creator whose showcase was full, and those that replaced an entry.
    pub full_searches: u64,
    pub replaced: u64,
    /// Posts about to be made and those dropped instead (terms fell, or an ended plan).
    pub post_tries: u64,
    pub dropped: u64,
    /// Σ over creators of actions × the probability that the next action would not be a post
    /// (at the showcase the creator holds at the end): the posting margin of more actions.
    pub marginal_non_posts: f64,
    /// Σ over actions of a creator whose showcase a refused application left empty of
    /// (1 − explore_probability) × the refused choice's score, per lever: the posts the
    /// refusals cost.
    pub refused_non_posts: [f64; 2],
    /// Σ over the videos made about free samples of the score of the sample's request, per
    /// lever: the change of this content outside actions.
    pub sample_posts: [f64; 2],
    /// Σ over creators of (videos made about free samples ÷ non-post actions) × P(the next
    /// action is not a post) × Σ a·(s + u) over its actions, per lever: the sample videos that
    /// more actions bring, as more of them are searches (step 1d).
    pub sample_searches: [f64; 2],
    /// Saturation by the group of products carrying it (0: Open, 1: Shop plan, 2: other):
    /// Σ σ̄_g, Σ a·σ̄_g, Σ a·σ̄_g·ℓ and its time path over actions (as `path`), step 1d's Vσ
    /// by group. The aggregate saturation terms (σ̄, a·σ̄, …) are their sums over groups.
    pub sat_by: [f64; 3],
    pub a_sat_by: [f64; 3],
    pub a_sat_log_by: [f64; 3],
    pub path_sat_by: [f64; 3],
    pub sample_searches_sat_by: [f64; 3],
    /// Posts made at actions about each group's products, and Σ over them of the posted
    /// entry's choice score per lever.
    pub posts_by: [f64; 3],
    pub post_score_by: [[f64; 2]; 3],
    /// Σ over creators of (1 − P(the next action is not a post)) × the share of the group in
    /// its final showcase × Σ a·(s + u) per lever (and × Σ a·σ̄_h): the posts more actions add
    /// to each group's products.
    pub mix_a: [[f64; 2]; 3],
    pub mix_sat: [[f64; 3]; 3],
}

/// A response of [`LeverShares::configured`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ShareResponse {
    Actions,
    Content,
    Earnings,
}

impl LeverShares {
    /// The elasticity of `response` to every rate of `lever` (0: Open, 1: Shop plan) that the
    /// parameters imply on this replication's state (docs/behaviour.md §6a), given its content
    /// (posts and LIVEs, all of them). With means over actions S = s + u (u the substitution
    /// part), A = a·(s + u), Sσ = σ̄, Aσ = a·σ̄, the share π of content made at actions and the
    /// posting margin f = (non-post actions − Σ actions × marginal non-post probability) ÷
    /// posts at actions, and R = (the sample videos' scores − the posts refusals cost) ÷
    /// content (steps 1b, 1c), V and Vσ the sample videos that added searches bring ÷ content
    /// (step 1d), K = π·(1 + f) ÷ (1 + Vσ) and R′ = (R + V) ÷ (1 + Vσ):
    ///   actions  e_A = (A − Aσ·R′) ÷ (1 + Aσ·K),
    ///   content  e_C = K·e_A + R′,
    ///   earnings e_E = S − Sσ·e_C + cov(a·(s + u), ℓ) − cov(a·σ̄, ℓ)·e_C + P − Pσ·e_C,
    /// the covariances over actions with ℓ = ln(E*/O): the earnings measure is a mean over
    /// actions, and creators whose actions respond more carry more weight in it; P and Pσ its
    /// time path (the added actions come at the end of each creator's sequence, `path`).
    pub fn configured(&self, lever: usize, response: ShareResponse, content: f64) -> Option<f64> {
        if self.actions == 0 || content <= 0.0 || self.action_posts == 0 {
            return None;
        }
        let n = self.actions as f64;
        let a = (self.a_share[lever] + self.a_sub[lever]) / n;
        let s = (self.share[lever] + self.sub[lever]) / n;
        let l = self.log_earnings / n;
        let cov_s = (self.a_share_log[lever] + self.a_sub_log[lever]) / n - a * l;
        // Saturation by group (step 3a): each group's live items respond by their own e_g.
        if let Some(e_g) = self.live_by_group(lever) {
            let mut e_a = a;
            let mut e_e = s + cov_s + self.path[lever] / n;
            let mut videos = self.sample_searches[lever];
            for (g, e) in e_g.iter().enumerate() {
                let a_sat_g = self.a_sat_by[g] / n;
                let cov_g = self.a_sat_log_by[g] / n - a_sat_g * l;
                e_a -= a_sat_g * e;
                e_e -= (self.sat_by[g] / n + cov_g + self.path_sat_by[g] / n) * e;
                videos -= self.sample_searches_sat_by[g] * e;
            }
            let pi_f = self.content_per_action_elasticity(content);
            let e_c = pi_f * e_a
                + (self.sample_posts[lever] - self.refused_non_posts[lever] + videos) / content;
            return Some(match response {
                ShareResponse::Actions => e_a,
                ShareResponse::Content => e_c,
                ShareResponse::Earnings => e_e,
            });
        }
        // One saturation term for all products (a group without posts): content outside the
        // posting margin — the posts refusals cost, the sample videos (their requests' scores,
        // and those added searches request: e_C = π(1 + f)·e_A + R + V − Vσ·e_C)
        let total = |x: [f64; 3]| x.iter().sum::<f64>();
        let (a_sat, s_sat) = (total(self.a_sat_by) / n, total(self.sat_by) / n);
        let (v, v_sat) = (
            self.sample_searches[lever] / content,
            total(self.sample_searches_sat_by) / content,
        );
        let k = self.content_per_action_elasticity(content) / (1.0 + v_sat);
        let r = ((self.sample_posts[lever] - self.refused_non_posts[lever]) / content + v)
            / (1.0 + v_sat);
        let e_a = (a - a_sat * r) / (1.0 + a_sat * k);
        let cov_sat = total(self.a_sat_log_by) / n - a_sat * l;
        let (path, path_sat) = (self.path[lever] / n, total(self.path_sat_by) / n);
        let e_c = k * e_a + r;
        Some(match response {
            ShareResponse::Actions => e_a,
            ShareResponse::Content => e_c,
            ShareResponse::Earnings => {
                s - s_sat * e_c + cov_s - cov_sat * e_c + path - path_sat * e_c
            }
        })
    }

    /// d ln (live items) of the Open, Shop plan and other products ÷ d ln(every rate of
    /// `lever`) (docs/behaviour.md §6a, step 3a): the posts more actions add to group g are
    /// each creator's added actions Σ a·(s + u − Σ_h σ̄_h·e_h) × (1 − P(the next action is not
    /// a post)) × the group's share of its final showcase, plus the posted entries' choice
    /// scores, plus (Open products) the sample videos of step 1d:
    ///   posts_g·e_g = X_g − Σ_h Xσ_gh·e_h + score_g [+ V − Σ_h Vσ_h·e_h],
    /// a 3 × 3 linear system. None when a group has no posts or the system is singular.
    pub fn live_by_group(&self, lever: usize) -> Option<[f64; 3]> {
        let mut m = [[0.0f64; 4]; 3];
        for (g, row) in m.iter_mut().enumerate() {
            let posts = self.posts_by[g];
            if posts <= 0.0 {
                return None;
            }
            for (h, v) in row.iter_mut().take(3).enumerate() {
                *v = self.mix_sat[g][h] + if g == h { posts } else { 0.0 };
            }
            row[3] = self.mix_a[g][lever] + self.post_score_by[g][lever];
        }
        for (v, s) in m[0].iter_mut().zip(self.sample_searches_sat_by) {
            *v += s;
        }
        m[0][3] += self.sample_searches[lever];
        // Gauss–Jordan elimination with partial pivoting
        for col in 0..3 {
            let piv = (col..3).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
            m.swap(col, piv);
            if m[col][col].abs() < 1e-12 {
                return None;
            }
            let pivot = m[col];
            for (r, row) in m.iter_mut().enumerate() {
                if r != col {
                    let q = row[col] / pivot[col];
                    for (v, p) in row.iter_mut().zip(pivot).skip(col) {
                        *v -= q * p;
                    }
                }
            }
        }
        Some(std::array::from_fn(|g| m[g][3] / m[g][g]))
    }

    /// d ln content ÷ d ln actions: π·(1 + f).
    pub fn content_per_action_elasticity(&self, content: f64) -> f64 {
        let posts = self.action_posts as f64;
        let non_posts = self.actions as f64 - posts;
        let f = (non_posts - self.marginal_non_posts) / posts;
        (posts / content).min(1.0) * (1.0 + f)
    }

    /// The mean of a over actions (the configured d ln actions ÷ d ln E* on this state).
    pub fn actions_per_log_earnings(&self) -> Option<f64> {
        (self.actions > 0).then(|| self.a / self.actions as f64)
    }

    /// The terms of the closed form for lever `lever` (means over actions): [S, Sσ, A, Aσ, U,
    /// P], S and A without the substitution part U, P the time path.
    pub fn terms(&self, lever: usize) -> [f64; 6] {
        let n = (self.actions as f64).max(1.0);
        [
            self.share[lever] / n,
            self.sat_by.iter().sum::<f64>() / n,
            self.a_share[lever] / n,
            self.a_sat_by.iter().sum::<f64>() / n,
            self.sub[lever] / n,
            self.path[lever] / n,
        ]
    }
}

impl World<'_> {
    /// Starts recording (after `init_incentives`): a creator's first E* is the value of a
    /// search, whose Open and Shop plan parts are those of the search value.
    pub(super) fn init_shares(&mut self, weights: Option<std::sync::Arc<[LeverWeights; 2]>>) {
        // The Open and Shop plan parts of the value of a search, each rate weighted by how far
        // it moves.
        let (open, shop, _) = crate::sim::incentives::search_value(
            &self.agents,
            self.pf.books(),
            SimTime::ZERO,
            |k, p, r| weights.as_ref().map_or(1.0, |x| x[k].of(p, r)),
        );
        let n = self.agents.creators.len();
        let mut p = Parts {
            open: Vec::with_capacity(n),
            shop: Vec::with_capacity(n),
            sat: vec![[0.0; 3]; n],
            sub: vec![[0.0; 2]; n],
            scores: Default::default(),
            candidates: Vec::new(),
            path: vec![[0.0; PATH]; n],
            days: Vec::new(),
            actions: vec![0; n],
            weights,
            pending: vec![[0.0; 2]; n],
            samples: Default::default(),
            posts_at: vec![0; n],
            sample_videos: vec![0; n],
            at_review: vec![[0.0; 7]; n],
            last_obs: (2, [0.0; 2]),
            sums: LeverShares::default(),
        };
        for c in 0..n {
            let q = self.base_orders(CreatorId(c as u32));
            p.open.push((q * open) as f32);
            p.shop.push((q * shop) as f32);
        }
        self.inc.parts = Some(Box::new(p));
    }

    /// Folds an observation's parts into the creator's (as `observe_earnings` folds E*):
    /// `gross` commission per post on product `p` paid by `lever`.
    pub(super) fn observe_parts(
        &mut self,
        c: CreatorId,
        gross: f64,
        lever: LeverPart,
        p: Option<ProductId>,
        rate: Option<Rate>,
    ) {
        let Some(parts) = self.inc.parts.as_deref_mut() else {
            return;
        };
        // The lever's part moves by its rate's own change (LeverWeights).
        let moved = match (p, rate) {
            (Some(p), Some(r)) => parts.weight(lever, p, r),
            _ => 1.0,
        };
        let b = &self.sc.behaviour.buyers;
        let sat = p.map_or(0.0, |p| {
            let l = f64::from(self.inc.memo.live_on(p.idx()));
            b.saturation_exponent * l / (b.saturation_k + l)
        });
        let i = c.idx();
        let (o, s) = match lever {
            LeverPart::Open => (gross * moved, 0.0),
            LeverPart::Shop => (0.0, gross * moved),
            LeverPart::Other => (0.0, 0.0),
        };
        let score = p
            .and_then(|p| parts.scores.get(&(c.0, p.0)))
            .copied()
            .unwrap_or_default();
        let w = EARNED_WEIGHT;
        parts.open[i] += w * (o as f32 - parts.open[i]);
        parts.shop[i] += w * (s as f32 - parts.shop[i]);
        let group = lever.group();
        for (g, x) in parts.sat[i].iter_mut().enumerate() {
            let v = if g == group {
                (gross * sat) as f32
            } else {
                0.0
            };
            *x += w * (v - *x);
        }
        parts.last_obs = (group, score);
        for (u, r) in parts.sub[i].iter_mut().zip(score) {
            *u += w * (gross as f32 * r - *u);
        }
    }

    /// Notes the score of the search that put `p` in `c`'s showcase (`take_up`): the entry's
    /// observations carry it from then on.
    pub(super) fn choose_parts(&mut self, c: CreatorId, p: ProductId, score: [f64; 2]) {
        if let Some(parts) = self.inc.parts.as_deref_mut() {
            let mut score = score.map(|r| r as f32);
            if let Some(q) = parts.pending.get_mut(c.idx()) {
                score[0] += q[0];
                score[1] += q[1];
                *q = [0.0; 2];
            }
            parts.scores.insert((c.0, p.0), score);
        }
    }

    /// `c` requests a free sample of `p` with probability `prob`, the product earning `net` per
    /// post (`gross` before effort, paid through `lever`) and the sample worth `value`: the
    /// request's score, the choice's plus d ln P(request) = (1 − P)·β·d ln(net + value).
    pub(super) fn sample_parts(
        &mut self,
        c: CreatorId,
        p: ProductId,
        (prob, net, gross, value): (f64, f64, f64, f64),
        lever: LeverPart,
        rate: Rate,
    ) {
        let beta = self.sc.behaviour.incentives.earnings_weight;
        let Some(parts) = self.inc.parts.as_deref_mut() else {
            return;
        };
        let moved = parts.weight(lever, p, rate);
        let d = if net + value > 0.0 {
            (1.0 - prob) * beta * moved * gross / (net + value)
        } else {
            0.0
        };
        let mut score = parts.scores.get(&(c.0, p.0)).copied().unwrap_or_default();
        match lever {
            LeverPart::Open => score[0] += d as f32,
            LeverPart::Shop => score[1] += d as f32,
            LeverPart::Other => {}
        }
        parts.samples.insert((c.0, p.0), score);
    }

    /// A video about a free sample of `p` by `c`.
    pub(super) fn sample_post_parts(&mut self, c: CreatorId, p: ProductId) {
        let Some(parts) = self.inc.parts.as_deref_mut() else {
            return;
        };
        if let Some(n) = parts.sample_videos.get_mut(c.idx()) {
            *n += 1;
        }
        if let Some(r) = parts.samples.get(&(c.0, p.0)) {
            parts.sums.sample_posts[0] += f64::from(r[0]);
            parts.sums.sample_posts[1] += f64::from(r[1]);
        }
    }

    /// An Open application of `c` for `p` was refused: the score of the choice that found it
    /// passes to the next product the creator takes up.
    pub(super) fn refused_parts(&mut self, c: CreatorId, p: ProductId) {
        if let Some(parts) = self.inc.parts.as_deref_mut()
            && let (Some(r), Some(q)) = (
                parts.scores.get(&(c.0, p.0)),
                parts.pending.get_mut(c.idx()),
            )
        {
            q[0] += r[0];
            q[1] += r[1];
        }
    }

    /// An action of `c` at `t` with expected earnings `best` and outside option `outside`.
    pub(super) fn action_shares(&mut self, c: CreatorId, t: SimTime, best: f64, outside: f64) {
        let ib = &self.sc.behaviour.incentives;
        let i = c.idx();
        let held = t < self.pf.creator_sim(i).state.bonus_until;
        // This wake reviewed the creator (`review` set its next review R days from now): the
        // action opens an active spell.
        let reviewed = self.pf.creator_sim(i).state.review_at
            == t.plus_minutes(behaviour::days_to_minutes(ib.review_days, 1));
        let empty = self.pf.showcase(c).is_empty();
        let explore = self.sc.behaviour.creators.explore_probability;
        let Some(parts) = self.inc.parts.as_deref_mut() else {
            return;
        };
        parts.actions[i] += 1;
        let x = &mut parts.sums;
        x.actions += 1;
        if empty {
            for (n, q) in x.refused_non_posts.iter_mut().zip(parts.pending[i]) {
                *n += (1.0 - explore) * f64::from(q);
            }
        }
        // The earnings measure's ℓ at every action (at the floor too), by day and as the
        // creator's last.
        let l_any = behaviour::earnings_ratio(best, outside).ln();
        let day = t.day() as usize;
        if parts.days.len() <= day {
            parts.days.resize(day + 1, [0.0; 7]);
        }
        parts.days[day][0] += 1.0;
        parts.days[day][1] += l_any;
        parts.path[i][L_END] = l_any;
        parts.path[i][DAY] = day as f64;
        if outside <= 0.0 || best / outside <= behaviour::EARNINGS_FLOOR || best <= 0.0 {
            if reviewed {
                parts.at_review[i] = [0.0; 7];
            }
            return;
        }
        let (a_int, a_ext) = actions_per_log_earnings_parts(
            ib,
            self.sc.behaviour.creators.actions_per_day,
            best / outside,
            held,
        );
        let a = a_int + a_ext;
        let s = [
            f64::from(parts.open[i]) / best,
            f64::from(parts.shop[i]) / best,
        ];
        let u = parts.sub[i].map(|u| f64::from(u) / best);
        let sat_by = parts.sat[i].map(|v| f64::from(v) / best);
        let l = (best / outside).ln();
        // Step 2a: the intensive margin responds to E* at this action, the extensive one to E*
        // at the review that opened the spell (this action, if this wake reviewed).
        if reviewed {
            parts.at_review[i] =
                [s[0], s[1], u[0], u[1], sat_by[0], sat_by[1], sat_by[2]].map(|v| v as f32);
        }
        let r = parts.at_review[i].map(f64::from);
        let (path, today) = (&mut parts.path[i], &mut parts.days[day]);
        for (k, &s) in s.iter().enumerate() {
            let (a_s, a_u) = (a_int * s + a_ext * r[k], a_int * u[k] + a_ext * r[2 + k]);
            x.share[k] += s;
            x.a_share[k] += a_s;
            x.a_share_log[k] += a_s * l;
            x.sub[k] += u[k];
            x.a_sub[k] += a_u;
            x.a_sub_log[k] += a_u * l;
            path[k] += a_s + a_u;
            today[2 + k] += a_s + a_u;
        }
        for (g, &sg) in sat_by.iter().enumerate() {
            let ag = a_int * sg + a_ext * r[4 + g];
            x.sat_by[g] += sg;
            x.a_sat_by[g] += ag;
            x.a_sat_log_by[g] += ag * l;
            path[SAT + g] += ag;
            today[4 + g] += ag;
        }
        x.log_earnings += l;
        x.a += a;
    }

    /// Counts a post made at an action, a post attempt and whether it was dropped, a full
    /// showcase's search and whether it replaced an entry.
    pub(super) fn count_shares(&mut self, what: ShareEvent) {
        let Some(parts) = self.inc.parts.as_deref_mut() else {
            return;
        };
        let x = &mut parts.sums;
        match what {
            ShareEvent::Posted(c) => {
                x.action_posts += 1;
                let (g, score) = parts.last_obs;
                x.posts_by[g] += 1.0;
                x.post_score_by[g][0] += f64::from(score[0]);
                x.post_score_by[g][1] += f64::from(score[1]);
                if let Some(n) = parts.posts_at.get_mut(c.idx()) {
                    *n += 1;
                }
            }
            ShareEvent::PostTry => x.post_tries += 1,
            ShareEvent::Dropped => x.dropped += 1,
            ShareEvent::FullSearch => x.full_searches += 1,
            ShareEvent::Replaced => x.replaced += 1,
        }
    }

    /// The sums at the end: adds the posting margin, Σ actions × P(the next action is not a
    /// post) at each creator's final showcase (n = 0: a search; n below `max_products`:
    /// `explore_probability` x, else a post that may be dropped; full: a search that replaces
    /// at the replication's rate r, else a post that may be dropped).
    pub(super) fn finish_shares(&mut self) -> Option<LeverShares> {
        let parts = self.inc.parts.take()?;
        let mut x = parts.sums;
        let b = &self.sc.behaviour.creators;
        let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        let (r, d) = (
            ratio(x.replaced, x.full_searches),
            ratio(x.dropped, x.post_tries),
        );
        let explore = b.explore_probability;
        for (c, &a) in parts.actions.iter().enumerate() {
            if a == 0 {
                continue;
            }
            let n = self.pf.showcase(CreatorId(c as u32)).len() as u32;
            let search = if n == 0 {
                1.0
            } else if n < b.max_products {
                explore
            } else {
                explore * r
            };
            let next = search + (1.0 - search) * d;
            x.marginal_non_posts += f64::from(a) * next;
            // step 1d: the sample videos of the searches more actions add
            let non_posts = a.saturating_sub(parts.posts_at[c]);
            let videos = parts.sample_videos[c];
            if videos > 0 && non_posts > 0 {
                let per = f64::from(videos) / f64::from(non_posts) * next;
                let p = &parts.path[c];
                x.sample_searches[0] += per * p[0];
                x.sample_searches[1] += per * p[1];
                for (v, q) in x.sample_searches_sat_by.iter_mut().zip(&p[SAT..SAT + 3]) {
                    *v += per * q;
                }
            }
            // saturation by group: the creator's added posts, 1 − P(non-post) of its added
            // actions, spread over its final showcase's products by group
            let cid = CreatorId(c as u32);
            let mut mix = [0.0f64; 3];
            for e in self.pf.showcase(cid) {
                let res = self.pf.resolution_as(
                    &self.agents,
                    cid,
                    e.product,
                    self.end,
                    crate::rules::choices::Standing::Now,
                );
                mix[LeverPart::of(res.as_ref()).group()] += 1.0;
            }
            let n_mix = mix.iter().sum::<f64>();
            if n_mix > 0.0 {
                let post = 1.0 - next;
                for ((a, sat), share) in x.mix_a.iter_mut().zip(&mut x.mix_sat).zip(mix) {
                    let w = post * share / n_mix;
                    for (v, p) in a.iter_mut().zip(parts.path[c]) {
                        *v += w * p;
                    }
                    for (v, p) in sat.iter_mut().zip(&parts.path[c][SAT..SAT + 3]) {
                        *v += w * p;
                    }
                }
            }
        }
        // The time path: more actions add actions at the end of each creator's own sequence
        // (its showcase, its smoothed E*: ℓ at its last action net of that day's mean), spread
        // over the calendar like its other actions (the day's mean ℓ: saturation building up,
        // a Plus period), in place of ℓ at the actions that respond.
        let mean: Vec<f64> = parts
            .days
            .iter()
            .map(|d| if d[0] > 0.0 { d[1] / d[0] } else { 0.0 })
            .collect();
        for p in &parts.path {
            let end = p[L_END] - mean.get(p[DAY] as usize).copied().unwrap_or(0.0);
            x.path[0] += p[0] * end;
            x.path[1] += p[1] * end;
            for (v, q) in x.path_sat_by.iter_mut().zip(&p[SAT..SAT + 3]) {
                *v += q * end;
            }
        }
        for (d, m) in parts.days.iter().zip(&mean) {
            x.path[0] += d[2] * m;
            x.path[1] += d[3] * m;
            for (v, q) in x.path_sat_by.iter_mut().zip(&d[4..]) {
                *v += q * m;
            }
        }
        for k in 0..2 {
            x.path[k] -= x.a_share_log[k] + x.a_sub_log[k];
        }
        for g in 0..3 {
            x.path_sat_by[g] -= x.a_sat_log_by[g];
        }
        Some(x)
    }
}

/// d ln actions ÷ d ln E* of a creator at E*/O = `ratio` (docs/behaviour.md §6): the
/// intensive margin ε where the multiplier m is not clamped, and, unless a Plus holds the
/// creator active, the extensive margin. A creator reviewed active stays active until its
/// first wake after `review_days` R (a wait g = 1 ÷ (actions per day × m) on average, the
/// gaps being exponential) while an idle one is reviewed again after exactly R, so the share
/// of time active is P(R + g) ÷ (R + P·g), P = P(active); its elasticity is
///   κ(1 − P)·R ÷ (R + P·g) − ε·g·R(1 − P) ÷ ((R + g)(R + P·g)),
/// the second term because a higher m also shortens the wait that prolongs an active spell.
///
/// Returned split: the intensive margin (ε where m is not clamped: it responds to E* at every
/// action) and the rest, the share of time active (it responds to E* at the review that opened
/// the active spell; docs/behaviour.md §6a, step 2a).
pub(crate) fn actions_per_log_earnings_parts(
    ib: &crate::scenario::IncentiveBehaviour,
    actions_per_day: f64,
    ratio: f64,
    held: bool,
) -> (f64, f64) {
    let raw = ratio.powf(ib.post_elasticity);
    let clamped = raw > ib.max_intensity || raw < 1.0 / ib.max_intensity;
    let eps = if clamped { 0.0 } else { ib.post_elasticity };
    if held {
        return (eps, 0.0);
    }
    let m = raw.clamp(1.0 / ib.max_intensity, ib.max_intensity);
    let p = behaviour::choice_probability(ib.active_share, ib.participation_weight, ratio, 1.0);
    let r = ib.review_days;
    let g = 1.0 / (actions_per_day * m);
    if !(g.is_finite() && r > 0.0) {
        return (eps, ib.participation_weight * (1.0 - p));
    }
    let spell = r + p * g;
    (
        eps,
        ib.participation_weight * (1.0 - p) * r / spell
            - eps * g * r * (1.0 - p) / ((r + g) * spell),
    )
}

/// A search's candidate as the recorder sees it: its utility v = β ln(E/O) + fit (the Gumbel
/// noise aside) and dv ÷ d ln(every rate of a lever), per lever.
#[derive(Copy, Clone, Debug)]
pub(super) struct Candidate {
    v: f64,
    dv: [f64; 2],
}

impl Candidate {
    /// A candidate paying `gross` per post (`net` after effort) through `lever`, whose rate
    /// moves `moved` times the lever's mean change, for a creator with outside option
    /// `outside`.
    pub(super) fn new(
        ib: &crate::scenario::IncentiveBehaviour,
        b: &crate::scenario::CreatorBehaviour,
        net: f64,
        gross: f64,
        outside: f64,
        fit: bool,
        (lever, moved): (LeverPart, f64),
    ) -> Candidate {
        let ratio = behaviour::earnings_ratio(net, outside);
        let v = behaviour::earnings_utility(ib, b, net, outside, fit);
        // d ln E ÷ d ln rate = gross ÷ net above the floor; nothing at the floor.
        let d = if ratio > behaviour::EARNINGS_FLOOR && net > 0.0 {
            ib.earnings_weight * moved * gross / net
        } else {
            0.0
        };
        let dv = match lever {
            LeverPart::Open => [d, 0.0],
            LeverPart::Shop => [0.0, d],
            LeverPart::Other => [0.0, 0.0],
        };
        Candidate { v, dv }
    }
}

/// The score of a search's choice, per lever: d ln P(candidate `chosen`) ÷ d ln(every rate of
/// the lever) = dv_chosen − Σ_j P_j dv_j, P the multinomial logit over the candidates'
/// utilities (the best of utility + Gumbel noise is a logit choice). The change of the
/// expected value of anything that follows the choice is the expected value of it × this
/// score (the likelihood-ratio identity), so an entry's observations × its score add up to
/// the substitution part of E*.
pub(super) fn choice_score(cands: &[Candidate], chosen: usize) -> [f64; 2] {
    let Some(ch) = cands.get(chosen) else {
        return [0.0; 2];
    };
    let top = cands.iter().map(|x| x.v).fold(f64::NEG_INFINITY, f64::max);
    let (mut z, mut mean) = (0.0, [0.0; 2]);
    for x in cands {
        let w = (x.v - top).exp();
        z += w;
        for (m, d) in mean.iter_mut().zip(x.dv) {
            *m += w * d;
        }
    }
    [ch.dv[0] - mean[0] / z, ch.dv[1] - mean[1] / z]
}

impl Parts {
    /// How far the rate `rate` paid on `p` through `lever` moves relative to the lever's mean
    /// change (1 without weights or outside the two levers).
    pub(super) fn weight(&self, lever: LeverPart, p: ProductId, rate: Rate) -> f64 {
        let k = match lever {
            LeverPart::Open => 0,
            LeverPart::Shop => 1,
            LeverPart::Other => return 1.0,
        };
        self.weights.as_ref().map_or(1.0, |w| w[k].of(p, rate))
    }

    /// The candidate buffer, emptied, for a search to fill.
    pub(super) fn take_candidates(&mut self) -> Vec<Candidate> {
        let mut v = std::mem::take(&mut self.candidates);
        v.clear();
        v
    }

    /// Gives the buffer back.
    pub(super) fn put_candidates(&mut self, v: Vec<Candidate>) {
        self.candidates = v;
    }
}

/// What [`World::count_shares`] counts.
#[derive(Copy, Clone, Debug)]
pub(super) enum ShareEvent {
    /// A post or LIVE made at an action of the creator.
    Posted(CreatorId),
    PostTry,
    Dropped,
    FullSearch,
    Replaced,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{CreatorBehaviour, IncentiveBehaviour};

    fn cands(list: &[(f64, bool, LeverPart)]) -> Vec<Candidate> {
        let (ib, b) = (IncentiveBehaviour::default(), CreatorBehaviour::default());
        list.iter()
            .map(|&(e, fit, lever)| Candidate::new(&ib, &b, e, e, 100.0, fit, (lever, 1.0)))
            .collect()
    }

    #[test]
    fn a_choice_score_has_mean_zero_and_favours_the_levers_products() {
        // Expected earnings 150, 90 (Shop plan, with fit), 60, 30 (Open) and 0.01 (at the
        // floor: the rate does not move it) against an outside option of 100.
        let c = cands(&[
            (150.0, false, LeverPart::Open),
            (90.0, true, LeverPart::Shop),
            (60.0, false, LeverPart::Other),
            (30.0, false, LeverPart::Open),
            (0.01, false, LeverPart::Shop),
        ]);
        let top = c.iter().map(|x| x.v).fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = c.iter().map(|x| (x.v - top).exp()).collect();
        let z: f64 = w.iter().sum();
        let scores: Vec<[f64; 2]> = (0..c.len()).map(|j| choice_score(&c, j)).collect();
        for k in 0..2 {
            // the likelihood-ratio identity: E[score] = 0 under the logit
            let mean: f64 = scores.iter().zip(&w).map(|(s, w)| s[k] * w / z).sum();
            assert!(mean.abs() < 1e-12, "lever {k}: {mean}");
        }
        // A higher Shop plan rate makes the Shop plan product likelier (by 1 − its
        // probability), every other candidate less likely.
        let p_shop = w[1] / z;
        assert!((scores[1][1] - (1.0 - p_shop)).abs() < 1e-12);
        for j in [0, 2, 3, 4] {
            assert!(
                (scores[j][1] + p_shop).abs() < 1e-12,
                "{j}: {:?}",
                scores[j]
            );
        }
        assert!(scores[0][0] > 0.0 && scores[3][0] > 0.0 && scores[1][0] < 0.0);
        assert_eq!(choice_score(&c, 9), [0.0; 2]);
    }

    #[test]
    fn the_groups_live_items_solve_their_saturation_system() {
        // 100 posts on each group's products; the added actions bring 50, 20, 10 posts (Open
        // lever) and the groups' saturation feeds back: posts_g·e_g = X_g − Σ_h Xσ_gh·e_h.
        let mut x = LeverShares {
            posts_by: [100.0; 3],
            mix_a: [[50.0, 0.0], [20.0, 0.0], [10.0, 0.0]],
            ..LeverShares::default()
        };
        let e = x.live_by_group(0).expect("solvable");
        assert!(
            (e[0] - 0.5).abs() < 1e-12 && (e[1] - 0.2).abs() < 1e-12 && (e[2] - 0.1).abs() < 1e-12
        );
        x.mix_sat = [[10.0, 2.0, 0.0], [3.0, 8.0, 1.0], [0.0, 0.0, 5.0]];
        x.post_score_by = [[4.0, 0.0], [-4.0, 0.0], [0.0, 0.0]];
        x.sample_searches = [6.0, 0.0];
        x.sample_searches_sat_by = [1.0, 0.0, 0.0];
        let e = x.live_by_group(0).expect("solvable");
        for g in 0..3 {
            let mut lhs = x.posts_by[g] * e[g];
            lhs += x.mix_sat[g].iter().zip(e).map(|(v, e)| v * e).sum::<f64>();
            let mut rhs = x.mix_a[g][0] + x.post_score_by[g][0];
            if g == 0 {
                rhs += x.sample_searches[0];
                lhs += x
                    .sample_searches_sat_by
                    .iter()
                    .zip(e)
                    .map(|(v, e)| v * e)
                    .sum::<f64>();
            }
            assert!((lhs - rhs).abs() < 1e-9, "group {g}: {lhs} against {rhs}");
        }
        // a group without posts: no group figures (the aggregate form applies)
        x.posts_by[2] = 0.0;
        assert_eq!(x.live_by_group(0), None);
    }

    #[test]
    fn the_margins_split_into_the_intensive_and_the_share_of_time_active() {
        // ε 0.5, κ 1, active share 0.8, 7-day reviews, 0.5 actions a day; at E* = O the wait
        // is g = 2 days and P = 0.8: (1 − P)·R ÷ (R + P·g) − ε·g·R(1 − P) ÷ ((R + g)(R + P·g))
        let ib = IncentiveBehaviour::default();
        let (int, ext) = actions_per_log_earnings_parts(&ib, 0.5, 1.0, false);
        assert_eq!(int, 0.5);
        let want = 0.2 * 7.0 / 8.6 - 0.5 * 2.0 * 7.0 * 0.2 / (9.0 * 8.6);
        assert!((ext - want).abs() < 1e-12, "{ext} against {want}");
        // a Plus holds the creator active: no extensive part
        assert_eq!(
            actions_per_log_earnings_parts(&ib, 0.5, 1.0, true),
            (0.5, 0.0)
        );
        // the intensive multiplier clamped (E*/O above max_intensity^(1/ε)): no intensive part
        assert_eq!(actions_per_log_earnings_parts(&ib, 0.5, 1e9, false).0, 0.0);
    }
}
