//! Sellers' rate-setting policies (`[[seller_policies]]`): at a cadence, a seller moves its Open
//! plan's rates toward a target return or toward its competitors', through the same rate-change
//! path as a scripted change (docs/behaviour.md, "Seller policies").

use rust_decimal::Decimal;

use super::World;
use super::queue::Phase;
use crate::money::Rate;
use crate::rules::choices::ListingRate;
use crate::rules::ids::*;
use crate::rules::plans::PlanRef;
use crate::scenario::SellerPolicyKind;
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

impl World<'_> {
    /// The replication's policies — the named ones, then `[populations.sellers] rate_policy` on
    /// each generated Open plan with probability `share` (drawn from the population stream after
    /// the population is built, so every arm of a sweep draws the same plans) — and their first
    /// reviews.
    pub(super) fn init_seller_policies(&mut self) {
        let mut policies = self.sc.seller_policies.clone();
        if let Some(sp) = &self.sc.populations.sellers
            && let Some((share, rule)) = &sp.rate_policy
        {
            for plan in self.sc.open_plans.len()..self.pf.books().open_plans.len() {
                if crate::scenario::dist::unit(&mut self.rng.population) < *share {
                    let mut p = rule.clone();
                    p.plan = OpenPlanId::at(plan);
                    policies.push(p);
                }
            }
        }
        self.policy_marks = vec![(Decimal::ZERO, Decimal::ZERO); policies.len()];
        for (i, p) in policies.iter().enumerate() {
            self.q.push(
                SimTime(p.every),
                Phase::Control,
                super::Ev::SellerPolicy(i as u32),
            );
        }
        self.policies = policies;
    }

    /// A policy's review: every listing of its plan moves by at most a step toward its goal.
    pub(super) fn seller_policy(&mut self, t: SimTime, i: u32) {
        if t >= self.end {
            return;
        }
        let p = self.policies[i as usize].clone();
        let seller = self.pf.books().open_plans[p.plan.index()].seller;
        let seller_gmv = self.pf.campaign_tally().seller_gmv(seller);
        let open_gmv = self.pf.campaign_tally().plan_gmv(PlanRef::Open(p.plan));
        let mark = &mut self.policy_marks[i as usize];
        let (d_seller, d_open) = (seller_gmv - mark.0, open_gmv - mark.1);
        *mark = (seller_gmv, open_gmv);
        let listings: Vec<ListingId> = (0..self.pf.books().open_listings.len())
            .map(ListingId::at)
            .filter(|&l| self.pf.books().open_listings[l.index()].plan == p.plan)
            .collect();
        let reference = match p.kind {
            SellerPolicyKind::MatchCompetitors { max } => self.competitors_rate(&listings, t, max),
            SellerPolicyKind::TargetReturn { .. } => None,
        };
        for l in listings {
            let Some((r, _)) = self.pf.books().open_listings[l.index()].rate.at(t) else {
                continue;
            };
            let goal = match p.kind {
                SellerPolicyKind::TargetReturn { target } => {
                    return_goal(r, p.step, d_seller, d_open, target)
                }
                SellerPolicyKind::MatchCompetitors { .. } => match reference {
                    Some(x) => x,
                    None => r,
                },
            };
            let new = step_toward(r, goal, p.step, p.min, p.max);
            if new != r {
                self.change_listing_rate(l, new, ListingRate::Standard, t);
            }
        }
        self.q.push(
            t.plus_minutes(p.every),
            Phase::Control,
            super::Ev::SellerPolicy(i),
        );
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
        let mut rates: Vec<Rate> = books
            .open_listings
            .iter()
            .filter(|x| books.open_plans[x.plan.index()].seller != seller)
            .filter(|x| cats.contains(&self.agents.products[x.product.idx()].category))
            .filter_map(|x| x.rate.at(t).map(|r| r.0))
            .collect();
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
