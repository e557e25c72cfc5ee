//! Platform policies for Collaboration Plus (PLUS-7): from the seller's preferences, which
//! creators take part and what they can earn. A behaviour model — the thing product teams
//! compare — kept apart from the rules, which only check and pay what a policy decided.
//!
//! To add a policy: implement [`PlusPolicy`], add a `PolicySpec` variant and its scenario name,
//! and return it from [`policy_for`].

use crate::model::{Agents, CreatorId};
use crate::money::{Money, Rounding, RoundingMode};
use crate::rules::plus::{PlusCampaign, PlusKind, PolicySpec};

/// What the platform decided for a collaboration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Decision {
    /// Creators selected (they may then join).
    pub creators: Vec<CreatorId>,
    /// Task reward per finishing creator.
    pub reward: Money,
    /// Challenge rewards by rank.
    pub(crate) rank_rewards: Vec<Money>,
}

/// A platform policy: decides from the campaign, the group's members (in id order) and the
/// agents. Deterministic policies need no random stream.
pub(crate) trait PlusPolicy {
    fn decide(
        &self,
        camp: &PlusCampaign,
        members: &[CreatorId],
        agents: &Agents,
        minor_unit: u32,
    ) -> Decision;
}

/// Takes the seller's preferences as given: every member (up to `max_creators`), the preferred
/// rewards. Rewards beyond the budget are not paid (budgets are never overdrawn).
pub(crate) struct AsGiven;

/// Fits the budget: a Task selects the most-followed members the budget can pay in full; a
/// Challenge scales its rank rewards down (never up) so that they add up to the budget at most.
pub(crate) struct BudgetDriven;

fn preferred(camp: &PlusCampaign) -> (Money, Vec<Money>) {
    match &camp.kind {
        PlusKind::Task { reward, .. } => (*reward, Vec::new()),
        PlusKind::Challenge { rank_rewards, .. } => (Money::ZERO, rank_rewards.clone()),
    }
}

fn cap(mut v: Vec<CreatorId>, max: Option<u32>) -> Vec<CreatorId> {
    if let Some(m) = max {
        v.truncate(m as usize);
    }
    v
}

impl PlusPolicy for AsGiven {
    fn decide(&self, camp: &PlusCampaign, members: &[CreatorId], _: &Agents, _: u32) -> Decision {
        let (reward, rank_rewards) = preferred(camp);
        Decision {
            creators: cap(members.to_vec(), camp.max_creators),
            reward,
            rank_rewards,
        }
    }
}

impl PlusPolicy for BudgetDriven {
    fn decide(
        &self,
        camp: &PlusCampaign,
        members: &[CreatorId],
        agents: &Agents,
        minor_unit: u32,
    ) -> Decision {
        let (reward, mut rank_rewards) = preferred(camp);
        let mut by_reach = members.to_vec();
        by_reach.sort_by(|a, b| {
            agents.creators[b.idx()]
                .followers
                .cmp(&agents.creators[a.idx()].followers)
                .then(a.cmp(b))
        });
        let creators = match &camp.kind {
            PlusKind::Task { .. } => {
                let n = if reward.is_zero() {
                    by_reach.len()
                } else {
                    (camp.budget.0 / reward.0)
                        .floor()
                        .try_into()
                        .unwrap_or(usize::MAX)
                };
                by_reach.truncate(n);
                cap(by_reach, camp.max_creators)
            }
            PlusKind::Challenge { .. } => {
                let total: Money = rank_rewards.iter().copied().sum();
                if total > camp.budget && !total.is_zero() {
                    let down = Rounding {
                        mode: RoundingMode::Down,
                        minor_unit,
                    };
                    rank_rewards = rank_rewards
                        .iter()
                        .map(|m| down.apply(m.0 * camp.budget.0 / total.0))
                        .collect();
                }
                cap(by_reach, camp.max_creators)
            }
        };
        Decision {
            creators,
            reward,
            rank_rewards,
        }
    }
}

/// The policy a campaign names.
pub(crate) fn policy_for(spec: &PolicySpec) -> &'static dyn PlusPolicy {
    match spec {
        PolicySpec::AsGiven => &AsGiven,
        PolicySpec::Budget => &BudgetDriven,
    }
}
