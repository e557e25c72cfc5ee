//! Distributor orchestration beyond the campaign lifecycle: temporary terminations (DIST-8).

use super::World;
use crate::model::{CreatorId, SellerId};
use crate::rules::ids::*;
use crate::time::SimTime;
use rand::Rng;

impl World<'_> {
    /// A seller's temporary termination ends: by script (`due` false: refused when there is
    /// nothing to lift) or at the termination's `until` (`due`: notices only if it is still
    /// the termination in force).
    pub(super) fn resume(&mut self, t: SimTime, campaign: CampaignId, seller: SellerId, due: bool) {
        if due {
            self.pf.resume_due(campaign, seller, t);
        } else if let Err(r) = self.pf.resume_campaign(campaign, seller, t) {
            self.refuse(r);
        }
    }
}

/// Who receives each distributor's links (DIST-7): per distributor, `None` when it works with
/// every creator, else a flag per creator. Drawn once per replication from the `Networks`
/// stream, so restricted networks shift no other draws.
#[derive(Default)]
pub(super) struct Nets {
    reach: Vec<Option<Vec<bool>>>,
    /// Some network is restricted.
    on: bool,
}

impl Nets {
    /// Draws the networks of replication `index`: the named creators listed, and each generated
    /// creator with probability `network_share`.
    pub(super) fn draw(sc: &crate::scenario::Scenario, index: u32, n_creators: usize) -> Nets {
        let mut rng =
            super::rng::purpose_stream(sc.seed, u64::from(index), super::rng::Purpose::Networks);
        let named = sc.named.creators.len();
        let reach: Vec<Option<Vec<bool>>> = sc
            .networks
            .iter()
            .map(|n| {
                n.restricted.then(|| {
                    let mut r = vec![false; n_creators];
                    for c in &n.creators {
                        r[c.idx()] = true;
                    }
                    for x in r.iter_mut().skip(named) {
                        *x = crate::scenario::dist::unit(&mut rng) < n.share;
                    }
                    r
                })
            })
            .collect();
        Nets {
            on: reach.iter().any(Option::is_some),
            reach,
        }
    }

    fn reaches(&self, d: crate::model::DistributorId, c: CreatorId) -> bool {
        self.reach
            .get(d.0 as usize)
            .and_then(Option::as_ref)
            .is_none_or(|r| r[c.idx()])
    }
}

impl World<'_> {
    fn link_reaches(&self, reg: RegistrationId, c: CreatorId) -> bool {
        let r = &self.pf.books().dist.registrations[reg.index()];
        let d = self.pf.books().dist.campaigns[r.campaign.index()].distributor;
        self.nets.reaches(d, c)
    }

    /// Whether any approved link has reached creator `c` (DIST-7).
    pub(super) fn has_links(&self, c: CreatorId) -> bool {
        if !self.nets.on {
            return !self.links.is_empty();
        }
        self.links.iter().any(|&r| self.link_reaches(r, c))
    }

    /// One of the approved links that reached creator `c`, uniformly (one draw). Call only when
    /// [`World::has_links`] is true.
    // rule: DIST-7 — distributors hand links offline only to the creators they work with; the
    // creator needs no binding (the platform checks none, DIST-4)
    pub(super) fn pick_link(&mut self, c: CreatorId) -> RegistrationId {
        if !self.nets.on {
            return self.links[(self.rng.agent.next_u64() % self.links.len() as u64) as usize];
        }
        let n = self
            .links
            .iter()
            .filter(|&&r| self.link_reaches(r, c))
            .count() as u64;
        let k = (self.rng.agent.next_u64() % n.max(1)) as usize;
        let reg = self
            .links
            .iter()
            .copied()
            .filter(|&r| self.link_reaches(r, c))
            .nth(k)
            .unwrap_or(self.links[0]);
        self.pf.note_network_link();
        reg
    }
}
