//! Sellers' rate-setting policies (`[[seller_policies]]`): at a cadence, a seller moves the rates
//! of its plans — Open listings, its Shop plan, its running Target invitations, its distributor
//! registrations and its Collaboration Plus rates (`plans`, issue 14) — toward a target return or
//! toward its competitors', through the same rule-checked paths as scripted changes; what the
//! rules refuse (an approved registration, a confirmed Plus, an accepted Target under
//! `pending-only`) is counted as a refusal with its rule (docs/behaviour.md, "Seller policies").

use rust_decimal::Decimal;

use super::World;
use super::queue::Phase;
use crate::model::{ProductId, SellerId};
use crate::money::Rate;
use crate::rules::changes::{PlusParts, RegistrationParts};
use crate::rules::choices::ListingRate;
use crate::rules::distributor::RegStatus;
use crate::rules::ids::*;
use crate::rules::plans::PlanRef;
use crate::rules::plus::PlusStatus;
use crate::scenario::{PolicyPlans, SellerPolicy, SellerPolicyKind};
use crate::time::SimTime;

/// The new rate of a listing at `r`: one `step` toward `goal` (never past it), within the
/// policy's bounds. Pure, for the tests.
pub(crate) fn step_toward(r: Rate, goal: Rate, step: Rate, min: Rate, max: Rate) -> Rate {
    let d = goal.0 - r.0;
    let moved = if d.abs() <= step.0 {
        goal.0
    } else if d > Decimal::ZERO {
        r.0 + step.0
    } else {
        r.0 - step.0
    };
    Rate(moved.clamp(min.0, max.0))
}

/// The goal of a target-return policy: one step up when the period's return (the seller's GMV ÷
/// the Open commission it implies) is above the target, or the plan sold nothing through Open;
/// one step down when below.
pub(crate) fn return_goal(
    r: Rate,
    step: Rate,
    seller_gmv: Decimal,
    open_gmv: Decimal,
    target: f64,
) -> Rate {
    let commission = open_gmv * r.0 / Decimal::ONE_HUNDRED;
    if commission <= Decimal::ZERO {
        return Rate(r.0 + step.0);
    }
    let ret: f64 = (seller_gmv / commission).try_into().unwrap_or(0.0);
    if ret > target {
        Rate(r.0 + step.0)
    } else if ret < target {
        Rate(r.0 - step.0)
    } else {
        r
    }
}

/// What the policies saw at their last review: per policy, the seller's GMV and each plan's GMV
/// (target-return steers by what happened since), and each seller's categories (a bit set of
/// its affiliate-eligible products' categories, for Shop plan competitors).
#[derive(Default)]
pub struct Marks {
    seller: Vec<Decimal>,
    plans: Vec<Vec<(PlanRef, Decimal)>>,
    seller_cats: Vec<u64>,
}

impl Marks {
    /// The change of `plan`'s GMV since policy `i` last looked, now `now`.
    fn delta(&mut self, i: usize, plan: PlanRef, now: Decimal) -> Decimal {
        let list = &mut self.plans[i];
        match list.iter_mut().find(|x| x.0 == plan) {
            Some(x) => {
                let d = now - x.1;
                x.1 = now;
                d
            }
            None => {
                list.push((plan, now));
                now
            }
        }
    }
}

/// The median (or maximum) of `rates`, if any.
fn reference(mut rates: Vec<Rate>, max: bool) -> Option<Rate> {
    if rates.is_empty() {
        return None;
    }
    rates.sort();
    Some(if max {
        rates[rates.len() - 1]
    } else {
        rates[rates.len() / 2]
    })
}

impl World<'_> {
    /// The replication's policies — the named ones, then `[populations.sellers] rate_policy`:
    /// with `plans = ["open"]` on each generated Open plan with probability `share`, otherwise on
    /// each generated seller with probability `share` (drawn from the population stream after
    /// the population is built, so every arm of a sweep draws the same plans) — and their first
    /// reviews.
    pub(super) fn init_seller_policies(&mut self) {
        let mut policies = self.sc.seller_policies.clone();
        if let Some(sp) = &self.sc.populations.sellers
            && let Some((share, rule)) = &sp.rate_policy
        {
            if rule.plans == PolicyPlans::default() {
                for plan in self.sc.open_plans.len()..self.pf.books().open_plans.len() {
                    if crate::scenario::dist::unit(&mut self.rng.population) < *share {
                        let mut p = rule.clone();
                        p.plan = Some(OpenPlanId::at(plan));
                        p.seller = Some(self.pf.books().open_plans[plan].seller);
                        policies.push(p);
                    }
                }
            } else {
                for s in self.sc.named.sellers.len()..self.agents.sellers.len() {
                    if crate::scenario::dist::unit(&mut self.rng.population) < *share {
                        let mut p = rule.clone();
                        p.seller = Some(SellerId(s as u32));
                        policies.push(p);
                    }
                }
            }
        }
        let mut cats = Vec::new();
        if policies.iter().any(|p| p.plans.has(PolicyPlans::SHOP)) {
            cats = vec![0u64; self.agents.sellers.len()];
            for p in self.agents.products.iter().filter(|p| p.eligible) {
                cats[p.seller.idx()] |= 1u64 << p.category;
            }
        }
        self.policy_marks = Marks {
            seller: vec![Decimal::ZERO; policies.len()],
            plans: vec![Vec::new(); policies.len()],
            seller_cats: cats,
        };
        for (i, p) in policies.iter().enumerate() {
            self.q.push(
                SimTime(p.every),
                Phase::Control,
                super::Ev::SellerPolicy(i as u32),
            );
        }
        self.policies = policies;
    }

    /// A policy's review: every rate of its plans moves by at most a step toward its goal.
    pub(super) fn seller_policy(&mut self, t: SimTime, i: u32) {
        if t >= self.end {
            return;
        }
        let p = self.policies[i as usize].clone();
        let Some(seller) = p.seller else { return };
        let seller_gmv = self.pf.campaign_tally().seller_gmv(seller);
        let d_seller = seller_gmv - self.policy_marks.seller[i as usize];
        self.policy_marks.seller[i as usize] = seller_gmv;
        let r = Review {
            i: i as usize,
            seller,
            d_seller,
            t,
        };
        if p.plans.has(PolicyPlans::OPEN) {
            self.policy_open(&p, &r);
        }
        if p.plans.has(PolicyPlans::SHOP) {
            self.policy_shop(&p, &r);
        }
        if p.plans.has(PolicyPlans::TARGET) {
            self.policy_target(&p, &r);
        }
        if p.plans.has(PolicyPlans::DISTRIBUTOR) {
            self.policy_distributor(&p, &r);
        }
        if p.plans.has(PolicyPlans::PLUS) {
            self.policy_plus(&p, &r);
        }
        self.q.push(
            t.plus_minutes(p.every),
            Phase::Control,
            super::Ev::SellerPolicy(i),
        );
    }

    /// The new rate of one of `plan`'s rates at `r`: a step toward the goal — the return on the
    /// plan's GMV since the last review (target-return), or `reference` (match-competitors;
    /// without one the rate stays) — within the policy's bounds.
    fn policy_step(
        &mut self,
        p: &SellerPolicy,
        rv: &Review,
        plan: PlanRef,
        d_plan: &mut Option<Decimal>,
        r: Rate,
        reference: Option<Rate>,
    ) -> Rate {
        let goal = match p.kind {
            SellerPolicyKind::TargetReturn { target } => {
                let d = match *d_plan {
                    Some(d) => d,
                    None => {
                        let now = self.pf.campaign_tally().plan_gmv(plan);
                        let d = self.policy_marks.delta(rv.i, plan, now);
                        *d_plan = Some(d);
                        d
                    }
                };
                return_goal(r, p.step, rv.d_seller, d, target)
            }
            SellerPolicyKind::MatchCompetitors { .. } => reference.unwrap_or(r),
        };
        step_toward(r, goal, p.step, p.min, p.max)
    }

    fn follows_max(p: &SellerPolicy) -> Option<bool> {
        match p.kind {
            SellerPolicyKind::MatchCompetitors { max } => Some(max),
            SellerPolicyKind::TargetReturn { .. } => None,
        }
    }

    /// Open: each listing of the policy's Open plan (`plan`), or of all the seller's Open plans.
    fn policy_open(&mut self, p: &SellerPolicy, rv: &Review) {
        let t = rv.t;
        let plans: Vec<OpenPlanId> = match p.plan {
            Some(x) => vec![x],
            None => (0..self.pf.books().open_plans.len())
                .map(OpenPlanId::at)
                .filter(|&x| self.pf.books().open_plans[x.index()].seller == rv.seller)
                .collect(),
        };
        for plan in plans {
            let listings: Vec<ListingId> = (0..self.pf.books().open_listings.len())
                .map(ListingId::at)
                .filter(|&l| self.pf.books().open_listings[l.index()].plan == plan)
                .collect();
            let reference =
                Self::follows_max(p).and_then(|max| self.competitors_rate(&listings, t, max));
            let mut d_plan = None;
            for l in listings {
                let Some((r, _)) = self.pf.books().open_listings[l.index()].rate.at(t) else {
                    continue;
                };
                let new = self.policy_step(p, rv, PlanRef::Open(plan), &mut d_plan, r, reference);
                if new != r {
                    self.change_listing_rate(l, new, ListingRate::Standard, t);
                }
            }
        }
    }

    /// Shop: the seller's one Shop plan rate (SHOP-1); competitors are the other sellers with a
    /// Shop plan and an affiliate-eligible product in one of the seller's categories.
    fn policy_shop(&mut self, p: &SellerPolicy, rv: &Review) {
        let t = rv.t;
        let books = self.pf.books();
        let Some((r, _)) = books.shop_rate(rv.seller, t) else {
            return;
        };
        let reference = Self::follows_max(p).and_then(|max| {
            let cats = &self.policy_marks.seller_cats;
            let mine = cats[rv.seller.idx()];
            let rates = (0..books.shop.len())
                .filter(|&s| s != rv.seller.idx() && cats[s] & mine != 0)
                .filter_map(|s| books.shop_rate(SellerId(s as u32), t).map(|x| x.0))
                .collect();
            reference(rates, max)
        });
        let new = self.policy_step(p, rv, PlanRef::Shop(rv.seller), &mut None, r, reference);
        if new != r
            && let Err(e) = self.pf.change_shop_rate_checked(rv.seller, new, t)
        {
            self.refuse(e);
        }
    }

    /// Target: each product rate of the seller's invitations sent and not ended (TARGET-1),
    /// changed for every creator (creators' own rates stay, TARGET-9) under
    /// `rules.target_rate_change` (TARGET-2); competitors are other sellers' running
    /// invitations' rates for products of the same category.
    fn policy_target(&mut self, p: &SellerPolicy, rv: &Review) {
        let t = rv.t;
        let running = |i: &crate::rules::target::Invitation| i.sent <= t && t < i.ends;
        let invs: Vec<InvitationId> = (0..self.pf.books().target.invitations.len())
            .map(InvitationId::at)
            .filter(|&x| {
                let i = &self.pf.books().target.invitations[x.index()];
                i.seller == rv.seller && running(i)
            })
            .collect();
        for inv in invs {
            let products: Vec<(ProductId, Rate)> = self.pf.books().target.invitations[inv.index()]
                .products
                .iter()
                .map(|x| (x.product, x.rate))
                .collect();
            let mut d_plan = None;
            for (product, r) in products {
                let reference = Self::follows_max(p).and_then(|max| {
                    let cat = self.agents.products[product.idx()].category;
                    let rates = self
                        .pf
                        .books()
                        .target
                        .invitations
                        .iter()
                        .filter(|i| i.seller != rv.seller && running(i))
                        .flat_map(|i| i.products.iter())
                        .filter(|x| self.agents.products[x.product.idx()].category == cat)
                        .map(|x| x.rate)
                        .collect();
                    reference(rates, max)
                });
                let new = self.policy_step(p, rv, PlanRef::Target(inv), &mut d_plan, r, reference);
                if new != r
                    && let Err(e) = self.pf.change_target_rate(inv, Some(product), None, new, t)
                {
                    self.refuse(e);
                }
            }
        }
    }

    /// Distributor: the creator part (or, under the H-9 split, the total) of each of the
    /// seller's registrations in a campaign not closed and not rejected, edited under
    /// `rules.registration_edit` (refused once reviewed, DIST-3); competitors are other sellers'
    /// registrations of products of the same category.
    fn policy_distributor(&mut self, p: &SellerPolicy, rv: &Review) {
        let t = rv.t;
        let regs: Vec<RegistrationId> = {
            let dist = &self.pf.books().dist;
            (0..dist.registrations.len())
                .map(RegistrationId::at)
                .filter(|&x| {
                    let r = &dist.registrations[x.index()];
                    r.seller == rv.seller && reg_live(dist, r, t)
                })
                .collect()
        };
        for reg in regs {
            let dist = &self.pf.books().dist;
            let x = &dist.registrations[reg.index()];
            let (r, campaign, product) = (x.total.unwrap_or(x.creator_rate), x.campaign, x.product);
            let reference = Self::follows_max(p).and_then(|max| {
                let cat = self.agents.products[product.idx()].category;
                let rates = dist
                    .registrations
                    .iter()
                    .filter(|o| o.seller != rv.seller && reg_live(dist, o, t))
                    .filter(|o| self.agents.products[o.product.idx()].category == cat)
                    .map(|o| o.total.unwrap_or(o.creator_rate))
                    .collect();
                reference(rates, max)
            });
            let new = self.policy_step(
                p,
                rv,
                PlanRef::Distributor(campaign),
                &mut None,
                r,
                reference,
            );
            if new == r {
                continue;
            }
            let parts = if self.pf.books().dist.registrations[reg.index()]
                .total
                .is_some()
            {
                RegistrationParts {
                    total: Some(new),
                    ..Default::default()
                }
            } else {
                RegistrationParts {
                    creator_rate: Some(new),
                    ..Default::default()
                }
            };
            if let Err(e) = self.pf.edit_registration(reg, parts, t) {
                self.refuse(e);
            }
        }
    }

    /// Plus: the Plus-exclusive rate of each of the seller's collaborations that sets one and
    /// is neither ended, cancelled nor unpaid; editable only before confirmation (PLUS-15,
    /// refused after); competitors are other sellers' such collaborations with a product of
    /// the same categories.
    fn policy_plus(&mut self, p: &SellerPolicy, rv: &Review) {
        let plus = &self.pf.books().plus;
        let active = |c: usize| {
            !matches!(
                plus.state[c].status,
                PlusStatus::Ended | PlusStatus::Cancelled | PlusStatus::Unpaid
            )
        };
        let cats_of = |c: usize| {
            plus.campaigns[c].products.iter().fold(0u64, |m, x| {
                m | 1u64 << self.agents.products[x.idx()].category
            })
        };
        let mine: Vec<(PlusId, Rate, Option<Rate>)> = (0..plus.campaigns.len())
            .filter(|&c| plus.campaigns[c].seller == rv.seller && active(c))
            .filter_map(|c| {
                let r = plus.campaigns[c].rate?;
                let reference = Self::follows_max(p).and_then(|max| {
                    let cats = cats_of(c);
                    let rates = (0..plus.campaigns.len())
                        .filter(|&o| plus.campaigns[o].seller != rv.seller && active(o))
                        .filter(|&o| cats_of(o) & cats != 0)
                        .filter_map(|o| plus.campaigns[o].rate)
                        .collect();
                    reference(rates, max)
                });
                Some((PlusId::at(c), r, reference))
            })
            .collect();
        for (c, r, reference) in mine {
            let new = self.policy_step(p, rv, PlanRef::Plus(c), &mut None, r, reference);
            if new == r {
                continue;
            }
            let parts = PlusParts {
                rate: Some(new),
                shop_ads_rate: None,
            };
            if let Err(e) = self.pf.plus_edit_parts(c, parts) {
                self.refuse(e);
            }
        }
    }

    /// The median (or maximum) current Open rate of other sellers' listings in the categories of
    /// `listings`' products.
    fn competitors_rate(&self, listings: &[ListingId], t: SimTime, max: bool) -> Option<Rate> {
        let books = self.pf.books();
        let first = *listings.first()?;
        let seller = books.open_plans[books.open_listings[first.index()].plan.index()].seller;
        let cats: Vec<_> = listings
            .iter()
            .map(|&l| self.agents.products[books.open_listings[l.index()].product.idx()].category)
            .collect();
        let rates: Vec<Rate> = books
            .open_listings
            .iter()
            .filter(|x| books.open_plans[x.plan.index()].seller != seller)
            .filter(|x| cats.contains(&self.agents.products[x.product.idx()].category))
            .filter_map(|x| x.rate.at(t).map(|r| r.0))
            .collect();
        reference(rates, max)
    }
}

/// A registration a policy may still move: not rejected, its campaign not closed.
fn reg_live(
    dist: &crate::rules::distributor::DistBook,
    r: &crate::rules::distributor::Registration,
    t: SimTime,
) -> bool {
    r.status != RegStatus::Rejected && t < dist.campaigns[r.campaign.index()].promotion.1
}

/// One review of one policy.
struct Review {
    i: usize,
    seller: SellerId,
    /// The seller's GMV since the policy's last review.
    d_seller: Decimal,
    t: SimTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn a_step_moves_toward_the_goal_within_bounds() {
        assert_eq!(
            step_toward(r("10%"), r("15%"), r("1%"), r("1%"), r("80%")),
            r("11%")
        );
        assert_eq!(
            step_toward(r("10%"), r("10.5%"), r("1%"), r("1%"), r("80%")),
            r("10.5%")
        );
        assert_eq!(
            step_toward(r("10%"), r("2%"), r("1%"), r("9.5%"), r("80%")),
            r("9.5%")
        );
        assert_eq!(
            step_toward(r("10%"), r("30%"), r("5%"), r("1%"), r("12%")),
            r("12%")
        );
    }

    #[test]
    fn the_return_decides_the_direction() {
        let d = |x: i64| Decimal::from(x);
        // GMV 1000 on Open GMV 500 at 10%: commission 50, return 20
        assert_eq!(
            return_goal(r("10%"), r("1%"), d(1000), d(500), 15.0),
            r("11%")
        );
        assert_eq!(
            return_goal(r("10%"), r("1%"), d(1000), d(500), 25.0),
            r("9%")
        );
        assert_eq!(
            return_goal(r("10%"), r("1%"), d(1000), d(0), 25.0),
            r("11%")
        );
    }
}
