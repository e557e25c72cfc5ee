//! Distributor campaigns: `[[distributor_campaigns]]` (DIST-1, DIST-5, H-9).

use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, time_at};
use super::names::NameTable;
use crate::model::DistributorId;
use crate::time::DAY;

/// Resolves the distributor campaigns in file order.
pub(super) fn resolve(
    v: &mut V,
    raw: &[Spanned<CampaignRaw>],
    calendar: Calendar,
    names: &mut NameTable,
) -> Vec<CampaignSpec> {
    let NameTable {
        sellers,
        distributors,
        campaigns: camp_names,
        ..
    } = names;
    let mut campaigns = Vec::new();
    for cr in raw {
        let c = cr.get_ref();
        camp_names.define(v, &c.id);
        let distributor = distributors
            .get(v, &c.distributor)
            .map(DistributorId)
            .unwrap_or_default();
        // rule: DIST-1
        // rule: H-9
        let sellers_t = match (&c.sellers, c.open_to_all) {
            (Some(list), false) => {
                if list.get_ref().is_empty() {
                    v.err(
                        list.span(),
                        "a targeted campaign names at least one seller (or set open_to_all = true)",
                        Some(RuleId::Dist1),
                    );
                }
                if list.get_ref().len() > 100 {
                    v.err(
                        list.span(),
                        format!(
                            "a campaign targets at most 100 sellers, this one {}",
                            list.get_ref().len()
                        ),
                        Some(RuleId::H9),
                    );
                }
                Some(
                    list.get_ref()
                        .iter()
                        .filter_map(|s| sellers.get(v, s).map(SellerId))
                        .collect::<Vec<_>>(),
                )
            }
            (None, true) => None,
            (Some(list), true) => {
                v.err(
                    list.span(),
                    "a campaign is either open to all or aimed at chosen `sellers`, not both",
                    Some(RuleId::Dist1),
                );
                None
            }
            (None, false) => {
                v.err(
                    c.id.span(),
                    "a campaign needs `sellers` (targeted) or `open_to_all = true`",
                    Some(RuleId::Dist1),
                );
                None
            }
        };
        let rs = time_at(v, &calendar, &c.registration_start);
        let re = time_at(v, &calendar, &c.registration_end);
        let ps = time_at(v, &calendar, &c.promotion_start);
        let pe = time_at(v, &calendar, &c.promotion_end);
        if re <= rs {
            v.err(
                c.registration_end.span(),
                "the registration window ends before it starts",
                Some(RuleId::Dist1),
            );
        }
        if pe <= ps {
            v.err(
                c.promotion_end.span(),
                "the promotion window ends before it starts",
                Some(RuleId::Dist1),
            );
        }
        if ps < rs {
            v.err(
                c.promotion_start.span(),
                "the promotion cannot start before registration opens",
                Some(RuleId::Dist1),
            );
        }
        if pe.since(rs) >= 360 * DAY {
            v.err(
                c.promotion_end.span(),
                "a campaign must end less than 360 days after it starts",
                Some(RuleId::H9),
            );
        }
        let notice_days = match &c.notice_days {
            Some(n) if *n.get_ref() > 365 => {
                v.err(
                    n.span(),
                    "`notice_days` must be at most 365",
                    Some(RuleId::Dist5),
                );
                3
            }
            Some(n) => *n.get_ref(),
            None => 3,
        };
        let min_creator_rate = v.rate(&c.min_creator_rate);
        let min_distributor_rate = v.rate(&c.min_distributor_rate);
        campaigns.push(CampaignSpec {
            campaign: crate::rules::distributor::Campaign {
                name: c.id.get_ref().clone(),
                distributor,
                sellers: sellers_t,
                registration: (rs, re),
                promotion: (ps, pe),
                min_creator_rate,
                min_distributor_rate,
                notice_days,
            },
            scripted: c.scripted,
        });
    }

    campaigns
}
