//! Distributor orchestration beyond the campaign lifecycle: temporary terminations (DIST-8).

use super::World;
use crate::model::SellerId;
use crate::time::SimTime;

impl World<'_> {
    /// A seller's temporary termination ends: by script (`due` false: refused when there is
    /// nothing to lift) or at the termination's `until` (`due`: notices only if it is still
    /// the termination in force).
    pub(super) fn resume(&mut self, t: SimTime, campaign: u32, seller: SellerId, due: bool) {
        if due {
            self.pf.resume_due(campaign, seller, t);
        } else if let Err(r) = self.pf.resume_campaign(campaign, seller, t) {
            self.refuse(r);
        }
    }
}
