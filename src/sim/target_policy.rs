//! Sellers' Target invitation policies (TARGET-8): whom a seller invites, by recommendation reason and filters, at which per-creator rates.
//!
//! A behaviour model: the policy (`[[target_policies]]`, `[populations.sellers]
//! target_policy`, scenario/outreach.rs) decides; the rules engine gives the recommendation
//! reasons (`Platform::recommend`) and checks and records the invitation
//! (`Platform::create_invitation`). Candidates and generated creators' audience profiles are
//! drawn from the `Outreach` stream, so a scenario without policies draws nothing from it and
//! scenarios with policies shift no other stream.

use std::collections::HashSet;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::queue::Phase;
use super::{Ev, World};
use crate::model::{CreatorId, ProductId, SellerId};
use crate::money::Rate;
use crate::rules::target::{
    CustomerProfile, Fee, Invitation, Reviewer, SampleOffer, TargetProduct,
};
use crate::scenario::outreach::{Gender, Reason, TargetPolicy};
use crate::time::SimTime;

/// The replication's Target policies and what they observe.
#[derive(Default)]
pub(super) struct Outreach {
    pub(super) on: bool,
    /// (seller, policy) per run of a policy; `Ev::TargetPolicy` holds the index.
    runs: Vec<(SellerId, TargetPolicy)>,
    /// (run, creator) already invited by that run.
    invited: HashSet<(u32, u32)>,
    /// Per creator, categories its content sold (bought) and was posted about (viewed).
    sold: Vec<u64>,
    viewed: Vec<u64>,
    /// Per seller, its affiliate-eligible products, most popular first.
    by_seller: Vec<Vec<ProductId>>,
    /// Per seller, the audiences of the creators whose content sold its products: lines per
    /// age band, the sum of their female shares (percent) and the lines (the customers'
    /// profile, seed 001's fourth reason).
    customers: Vec<([u32; 4], u64, u32)>,
    rng: Option<ChaCha8Rng>,
}

/// What the simulator observed of a creator and a product, for the TARGET-8 reasons.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// A post about the product (its followers viewed it).
    Posted,
    /// A line of the product placed from the creator's content (its followers bought it).
    Sold,
}

impl World<'_> {
    /// Sets up the policies of the named sellers and of a `share` of the generated ones, draws
    /// the generated creators' audience profiles, and schedules the first reviews.
    pub(super) fn init_outreach(&mut self, index: u32) {
        let sc = self.sc;
        let generated = sc
            .populations
            .sellers
            .as_ref()
            .and_then(|s| s.target_policy.clone());
        if sc.target_policies.is_empty() && generated.is_none() {
            return;
        }
        let mut rng =
            super::rng::purpose_stream(sc.seed, u64::from(index), super::rng::Purpose::Outreach);
        let mut runs: Vec<(SellerId, TargetPolicy)> = sc
            .target_policies
            .iter()
            .filter_map(|p| p.seller.map(|s| (s, p.clone())))
            .collect();
        if let Some((share, p)) = generated {
            for s in sc.named.sellers.len()..self.agents.sellers.len() {
                if crate::scenario::dist::unit(&mut rng) < share {
                    runs.push((SellerId(s as u32), p.clone()));
                }
            }
        }
        // rule: TARGET-8 — creators carry an audience profile (age band, female share), drawn
        // by `[populations.creators] audience_age_weights` and `audience_female` (uniform by
        // default)
        let pop = sc.populations.creators.as_ref();
        let ages = pop.and_then(|p| p.audience_age_weights.as_deref());
        let female = pop.and_then(|p| p.audience_female.as_ref());
        for c in self
            .agents
            .creators
            .iter_mut()
            .skip(sc.named.creators.len())
        {
            c.audience.age = match ages {
                None => (rng.next_u64() % crate::model::AGE_BANDS.len() as u64) as u8,
                Some(w) => weighted_band(w, crate::scenario::dist::unit(&mut rng)),
            };
            c.audience.female = match female {
                None => (rng.next_u64() % 101) as u8,
                Some(d) => (d.sample(&mut rng).clamp(0.0, 1.0) * 100.0).round() as u8,
            };
        }
        let mut by_seller = vec![Vec::new(); self.agents.sellers.len()];
        for (i, p) in self.agents.products.iter().enumerate() {
            if p.eligible {
                by_seller[p.seller.idx()].push(ProductId(i as u32));
            }
        }
        for list in &mut by_seller {
            list.sort_by(|a, b| {
                let (pa, pb) = (
                    self.agents.products[a.idx()].popularity,
                    self.agents.products[b.idx()].popularity,
                );
                pb.total_cmp(&pa).then(a.0.cmp(&b.0))
            });
        }
        for (i, (_, p)) in runs.iter().enumerate() {
            let at = SimTime(p.every);
            if at < self.end {
                self.q.push(at, Phase::Control, Ev::TargetPolicy(i as u32));
            }
        }
        let n = self.agents.creators.len();
        self.outreach = Outreach {
            on: true,
            runs,
            invited: HashSet::new(),
            sold: vec![0; n],
            viewed: vec![0; n],
            by_seller,
            customers: vec![([0; 4], 0, 0); self.agents.sellers.len()],
            rng: Some(rng),
        };
    }

    /// Records what a recommendation reason observes: a post about `p` (viewed) or a line of
    /// `p` placed from the creator's content (bought).
    pub(super) fn note_outreach(&mut self, c: CreatorId, p: ProductId, seen: Seen) {
        if !self.outreach.on {
            return;
        }
        let bit = 1u64 << self.agents.products[p.idx()].category;
        if seen == Seen::Sold {
            let a = self.agents.creators[c.idx()].audience;
            let x = &mut self.outreach.customers[self.agents.products[p.idx()].seller.idx()];
            x.0[a.age as usize] += 1;
            x.1 += u64::from(a.female);
            x.2 += 1;
        }
        let v = if seen == Seen::Sold {
            &mut self.outreach.sold
        } else {
            &mut self.outreach.viewed
        };
        v[c.idx()] |= bit;
    }

    /// A policy's review: choose products and creators, invite them (commission-only) at
    /// per-creator rates, and schedule the next review.
    pub(super) fn target_policy(&mut self, t: SimTime, run: u32) {
        if t >= self.end {
            return;
        }
        let (seller, p) = self.outreach.runs[run as usize].clone();
        let next = t.plus_minutes(p.every);
        if next < self.end {
            self.q.push(next, Phase::Control, Ev::TargetPolicy(run));
        }
        let products: Vec<ProductId> = self.outreach.by_seller[seller.idx()]
            .iter()
            .copied()
            .take(p.products as usize)
            .collect();
        if products.is_empty() {
            return;
        }
        let cats = products.iter().fold(0u64, |m, x| {
            m | 1u64 << self.agents.products[x.idx()].category
        });
        // Each product's base: the Open rate in force, else the Shop plan rate, else none.
        let books = self.pf.books();
        let base: Vec<Decimal> = products
            .iter()
            .map(|&x| {
                books
                    .listing_of(x)
                    .and_then(|l| books.open_rate(l, t, t))
                    .map(|r| r.0)
                    .or_else(|| books.shop_rate(seller, t).map(|r| r.0))
                    .map_or(Decimal::ZERO, |r| r.0)
            })
            .collect();
        let customers = customer_profile(self.outreach.customers[seller.idx()]);
        let chosen = self.choose_creators(run, &p, cats, customers);
        if chosen.is_empty() {
            return;
        }
        let clamp = |r: Decimal| Rate(r.clamp(Decimal::ONE, Decimal::from(80)).round_dp(2));
        let tps: Vec<TargetProduct> = products
            .iter()
            .zip(&base)
            .map(|(&product, &b)| TargetProduct {
                product,
                rate: clamp(b + p.rate_premium.0),
                shop_ads_rate: None,
                sample: SampleOffer::None,
                sales_goal: 1,
            })
            .collect();
        // rule: TARGET-9 — per-creator rates: the reason premium for each reason beyond the first
        let mut creator_rates = Vec::new();
        for &(score, c) in &chosen {
            let extra = p.reason_premium.0 * Decimal::from(score.saturating_sub(1));
            if extra > Decimal::ZERO {
                for (tp, &b) in tps.iter().zip(&base) {
                    creator_rates.push((c, Some(tp.product), clamp(b + p.rate_premium.0 + extra)));
                }
            }
        }
        let name = if seller.idx() < self.sc.named.sellers.len() {
            format!("policy:{}", self.agents.names.seller(seller))
        } else {
            "policy:generated".to_string()
        };
        let inv = Invitation {
            name,
            seller,
            creators: chosen.iter().map(|x| x.1).collect(),
            products: tps,
            sent: t,
            ends: t.plus_days(p.days),
            content: vec![crate::model::ContentKind::Video],
            message: String::new(),
            fee: Fee::CommissionOnly,
            reviewer: Reviewer::Seller,
            submit_days: 7,
            flash_sale: false,
            authorise_ads: false,
            scripted: false,
            creator_rates,
        };
        match self.pf.create_invitation(&self.agents, inv) {
            Ok(i) => {
                for &(_, c) in &chosen {
                    self.outreach.invited.insert((run, c.0));
                }
                self.send_invitation(t, i);
            }
            Err(r) => self.refuse(r),
        }
    }

    /// The best `p.creators` candidates not yet invited by this run that pass the filters and
    /// match at least `min_reasons` reasons: (reasons matched, creator), most reasons first,
    /// then most followers, then lowest id.
    fn choose_creators(
        &mut self,
        run: u32,
        p: &TargetPolicy,
        cats: u64,
        customers: Option<CustomerProfile>,
    ) -> Vec<(u32, CreatorId)> {
        let n = self.agents.creators.len() as u32;
        let mut cands: Vec<u32> = if n <= p.candidates {
            (0..n).collect()
        } else {
            let rng = self.outreach.rng.as_mut().expect("outreach is on");
            let mut v: Vec<u32> = (0..p.candidates)
                .map(|_| (rng.next_u64() % u64::from(n)) as u32)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut scored: Vec<(u32, u32, CreatorId)> = Vec::new();
        for c in cands.drain(..).map(CreatorId) {
            if self.outreach.invited.contains(&(run, c.0)) {
                continue;
            }
            let cr = &self.agents.creators[c.idx()];
            // rule: TARGET-8 — filters on follower count, age and gender (seed 004)
            let age_ok = p.ages == 0 || p.ages & (1 << cr.audience.age) != 0;
            let gender_ok = match p.gender {
                Gender::Any => true,
                Gender::Female => cr.audience.female >= 50,
                Gender::Male => cr.audience.female < 50,
            };
            if cr.followers < p.min_followers
                || cr.followers > p.max_followers
                || !age_ok
                || !gender_ok
            {
                continue;
            }
            let why = self.pf.recommend(
                &self.agents,
                c,
                cats,
                self.outreach.sold[c.idx()],
                self.outreach.viewed[c.idx()],
                customers,
                p.profile_tolerance,
            );
            let score = p
                .reasons
                .iter()
                .filter(|r| match r {
                    Reason::Promoted => why.promoted,
                    Reason::Bought => why.bought,
                    Reason::Viewed => why.viewed,
                    Reason::Profile => why.profile,
                })
                .count() as u32;
            if score >= p.min_reasons {
                scored.push((score, cr.followers, c));
            }
        }
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.0.cmp(&b.2.0)));
        scored
            .into_iter()
            .take(p.creators as usize)
            .map(|(s, _, c)| (s, c))
            .collect()
    }
}

/// The age band drawn by weights (`audience_age_weights`) from a uniform `u` in [0, 1).
fn weighted_band(w: &[f64], u: f64) -> u8 {
    let total: f64 = w.iter().sum();
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &x) in w.iter().enumerate() {
        if x <= 0.0 {
            continue;
        }
        acc += x;
        last = i;
        if u * total < acc {
            return i as u8;
        }
    }
    last as u8
}

/// A seller's customers' profile from the audiences of the creators whose content sold its
/// products: the age band with the most lines (ties: the younger band) and the mean female
/// share rounded to a whole percent (halves up); `None` before its first line.
fn customer_profile(x: ([u32; 4], u64, u32)) -> Option<CustomerProfile> {
    let (ages, female, lines) = x;
    if lines == 0 {
        return None;
    }
    let mut age = 0;
    for (i, &n) in ages.iter().enumerate() {
        if n > ages[age] {
            age = i;
        }
    }
    let n = u64::from(lines);
    Some(CustomerProfile {
        age: age as u8,
        female: ((female * 2 + n) / (2 * n)) as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customers_profile_is_the_main_band_and_the_rounded_mean_share() {
        assert_eq!(customer_profile(([0; 4], 0, 0)), None);
        // two lines from 18-24 audiences (80%, 90%), one from 45+ (41%): band 0, 211/3 = 70.33 → 70
        assert_eq!(
            customer_profile(([2, 0, 0, 1], 211, 3)),
            Some(CustomerProfile { age: 0, female: 70 })
        );
        // a tie between 25-34 and 35-44 goes to the younger band; 121/2 = 60.5 → 61
        assert_eq!(
            customer_profile(([0, 1, 1, 0], 121, 2)),
            Some(CustomerProfile { age: 1, female: 61 })
        );
    }

    #[test]
    fn age_bands_are_drawn_by_weight() {
        let w = [0.0, 3.0, 1.0, 0.0];
        assert_eq!(weighted_band(&w, 0.0), 1);
        assert_eq!(weighted_band(&w, 0.74), 1);
        assert_eq!(weighted_band(&w, 0.76), 2);
        assert_eq!(weighted_band(&w, 0.999), 2);
    }
}
