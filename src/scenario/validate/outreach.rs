//! Distributor networks (`[[distributors]] creators`, `network_share`, DIST-7) and seller Target invitation policies (TARGET-8).

use super::super::format::*;
use super::super::outreach::Network;
use super::context::V;
use super::names::NameTable;
use crate::model::CreatorId;
use crate::rules::catalogue::RuleId;

/// One network per named distributor, in file order.
pub(super) fn networks(v: &mut V, raw: &[DistributorRaw], names: &NameTable) -> Vec<Network> {
    raw.iter()
        .map(|d| {
            if d.creators.is_none() && d.network_share.is_none() {
                return Network::default();
            }
            let mut creators = Vec::new();
            for c in d.creators.iter().flat_map(|cs| cs.get_ref()) {
                if let Some(id) = names.creators.get(v, c).map(CreatorId) {
                    if creators.contains(&id) {
                        // rule: DIST-7
                        v.err(
                            c.span(),
                            format!("creator `{}` is listed twice in the network", c.get_ref()),
                            Some(RuleId::Dist7),
                        );
                    }
                    creators.push(id);
                }
            }
            Network {
                restricted: true,
                creators,
                share: v.prob(&d.network_share, "network_share", 0.0),
            }
        })
        .collect()
}
