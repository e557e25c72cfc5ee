//! Who sellers and distributors reach: distributor networks (DIST-7) and seller Target invitation policies (TARGET-8).

use crate::model::CreatorId;

/// The creators a distributor hands its links to, offline (DIST-7, seed 003 Step 3).
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// `false`: the distributor works with every creator (neither `creators` nor
    /// `network_share` given).
    pub restricted: bool,
    /// Named creators it works with.
    pub creators: Vec<CreatorId>,
    /// Share of generated creators it works with, drawn per replication.
    pub share: f64,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            restricted: false,
            creators: Vec::new(),
            share: 1.0,
        }
    }
}
