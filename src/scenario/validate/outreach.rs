//! Distributor networks (`[[distributors]] creators`, `network_share`, DIST-7) and seller Target invitation policies (TARGET-8).

use super::super::format::*;
use super::super::outreach::{Network, Reason, TargetPolicy};
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

/// A creator's audience profile: `audience_age` one of `model::AGE_BANDS` (default 25-34),
/// `audience_female` a share 0–1 (default 0.5), kept in whole percent.
pub(super) fn audience(
    v: &mut V,
    age: &Option<toml::Spanned<String>>,
    female: &Option<toml::Spanned<f64>>,
) -> crate::model::Audience {
    let mut a = crate::model::Audience::default();
    if let Some(s) = age {
        a.age = age_band(v, s).unwrap_or(a.age);
    }
    let f = v.prob(female, "audience_female", 0.5);
    a.female = (f * 100.0).round() as u8;
    a
}

fn age_band(v: &mut V, s: &toml::Spanned<String>) -> Option<u8> {
    match crate::model::AGE_BANDS
        .iter()
        .position(|b| b == s.get_ref())
    {
        Some(i) => Some(i as u8),
        None => {
            v.err(
                s.span(),
                format!(
                    "unknown follower age band `{}`: expected one of {}",
                    s.get_ref(),
                    crate::model::AGE_BANDS.join(", ")
                ),
                Some(RuleId::Target8),
            );
            None
        }
    }
}

/// `[[target_policies]]`: each for a named seller.
pub(super) fn target_policies(
    v: &mut V,
    raw: &[toml::Spanned<TargetPolicyRaw>],
    names: &NameTable,
) -> Vec<TargetPolicy> {
    let mut out = Vec::new();
    for r in raw {
        let p = r.get_ref();
        if let Some(s) = &p.share {
            v.err(
                s.span(),
                "`share` belongs to `[populations.sellers] target_policy`; a named seller's policy applies to it",
                Some(RuleId::Target8),
            );
        }
        let seller = match &p.seller {
            Some(s) => names.sellers.get(v, s).map(crate::model::SellerId),
            None => {
                v.err(
                    r.span(),
                    "a `[[target_policies]]` entry needs `seller`",
                    Some(RuleId::Target8),
                );
                None
            }
        };
        if let Some(s) = seller {
            out.push(target_policy(v, p, r.span(), Some(s)));
        }
    }
    out
}

/// One policy's settings, with their defaults and ranges (docs/scenario-format.md).
pub(super) fn target_policy(
    v: &mut V,
    p: &TargetPolicyRaw,
    span: std::ops::Range<usize>,
    seller: Option<crate::model::SellerId>,
) -> TargetPolicy {
    let every = match &p.every_days {
        Some(d) if !(d.get_ref().is_finite() && *d.get_ref() > 0.0 && *d.get_ref() <= 3650.0) => {
            v.err(
                d.span(),
                "`every_days` must be above 0 and at most 3650",
                Some(RuleId::Target8),
            );
            7 * crate::time::DAY
        }
        Some(d) => ((d.get_ref() * f64::from(crate::time::DAY)).round() as u32).max(1),
        None => 7 * crate::time::DAY,
    };
    let count =
        |v: &mut V, x: &Option<toml::Spanned<u32>>, key: &str, d: u32, lo: u32, hi: u32, rule| {
            match x {
                Some(n) if !(lo..=hi).contains(n.get_ref()) => {
                    v.err(
                        n.span(),
                        format!("`{key}` must be from {lo} to {hi}"),
                        Some(rule),
                    );
                    d
                }
                Some(n) => *n.get_ref(),
                None => d,
            }
        };
    // rule: H-8 — at most 50 creators and 100 products per invitation
    let creators = count(v, &p.creators, "creators", 10, 1, 50, RuleId::H8);
    let products = count(v, &p.products, "products", 1, 1, 100, RuleId::H8);
    let candidates = count(
        v,
        &p.candidates,
        "candidates",
        200,
        1,
        1_000_000,
        RuleId::Target8,
    );
    let days = count(v, &p.days, "days", 14, 1, 3650, RuleId::Target1);
    let min_reasons = count(v, &p.min_reasons, "min_reasons", 1, 0, 4, RuleId::Target8);
    let profile_tolerance = count(
        v,
        &p.profile_tolerance,
        "profile_tolerance",
        10,
        0,
        100,
        RuleId::Target8,
    ) as u8;
    let premium =
        |v: &mut V, x: &Option<toml::Spanned<crate::money::Rate>>, key: &str, d: &str| match x {
            Some(r)
                if r.get_ref().0.is_sign_negative()
                    || r.get_ref().0 > rust_decimal::Decimal::from(80) =>
            {
                v.err(
                    r.span(),
                    format!("`{key}` must be from 0% to 80%"),
                    Some(RuleId::Rate1),
                );
                d.parse().unwrap_or(crate::money::Rate::ZERO)
            }
            Some(r) => *r.get_ref(),
            None => d.parse().unwrap_or(crate::money::Rate::ZERO),
        };
    let rate_premium = premium(v, &p.rate_premium, "rate_premium", "2%");
    let reason_premium = premium(v, &p.reason_premium, "reason_premium", "1%");
    let reasons = match &p.reasons {
        Some(r) if r.get_ref().is_empty() => {
            v.err(
                r.span(),
                "`reasons` names at least one reason",
                Some(RuleId::Target8),
            );
            Vec::new()
        }
        Some(r) => r.get_ref().clone(),
        // rule: TARGET-8 — the seeds' four reasons (seed 001)
        None => vec![
            Reason::Promoted,
            Reason::Bought,
            Reason::Viewed,
            Reason::Profile,
        ],
    };
    let mut ages = 0u8;
    for a in p.audience_age.iter().flat_map(|a| a.get_ref()) {
        if let Some(b) = age_band(v, a) {
            ages |= 1 << b;
        }
    }
    let (min_followers, max_followers) = (
        p.min_followers.unwrap_or(0),
        p.max_followers.unwrap_or(u32::MAX),
    );
    if min_followers > max_followers {
        v.err(
            span,
            "`min_followers` is above `max_followers`",
            Some(RuleId::Target8),
        );
    }
    TargetPolicy {
        seller,
        every,
        creators,
        candidates,
        products,
        days,
        rate_premium,
        reason_premium,
        reasons,
        min_reasons,
        min_followers,
        max_followers,
        ages,
        gender: p.audience_gender.unwrap_or_default(),
        profile_tolerance,
    }
}
