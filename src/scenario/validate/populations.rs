//! Synthetic populations: `[populations.sellers]`, `.products` and `.creators`, and the memory
//! estimate that refuses populations a replication could not hold.

use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{MAX_MONEY, V, approval, rate_range};
use super::names::Categories;
use crate::model::UNLIMITED;

/// Most agents of each kind a scenario may ask for (memory is estimated up front too).
const MAX_AGENTS: u32 = 50_000_000;
/// Memory a replication may be estimated to need before the scenario is refused.
const MAX_BYTES: f64 = 16.0 * 1024.0 * 1024.0 * 1024.0;

/// Resolves the populations (defaults for absent keys) and checks their size.
pub(super) fn resolve(v: &mut V, raw: &File, named: &Named, cats: &mut Categories) -> Populations {
    let mut cat = |v: &mut V, name: &str, span| cats.intern(v, name, span);
    let mut populations = Populations::default();
    let count = |v: &mut V, c: &Spanned<u32>, what: &str| {
        if *c.get_ref() > MAX_AGENTS {
            v.err(
                c.span(),
                format!("at most {MAX_AGENTS} {what} are supported"),
                None,
            );
        }
        *c.get_ref()
    };
    if let Some(sp) = &raw.populations.sellers {
        let s = sp.get_ref();
        populations.sellers = Some(SellerPop {
            count: count(v, &s.count, "sellers"),
            shop_plan_share: v.prob(&s.shop_plan_share, "shop_plan_share", 0.5),
            shop_plan_rate: rate_range(v, &s.shop_plan_rate, ("5%", "10%")),
            open_plan_share: v.prob(&s.open_plan_share, "open_plan_share", 0.7),
            open_rate: rate_range(v, &s.open_rate, ("8%", "20%")),
            open_samples: s.open_samples.unwrap_or(0),
            plus_enabled_share: v.prob(&s.plus_enabled_share, "plus_enabled_share", 0.0),
            approval: approval(v, &s.approval),
            rate_policy: super::policies::generated_rate_policy(v, &s.rate_policy),
            target_policy: s.target_policy.as_ref().map(|tp| {
                let share = v.prob(&tp.get_ref().share, "share", 1.0);
                if let Some(sl) = &tp.get_ref().seller {
                    v.err(
                        sl.span(),
                        "a generated seller's Target policy invites for itself: no `seller`",
                        Some(RuleId::Target8),
                    );
                }
                (
                    share,
                    super::outreach::target_policy(v, tp.get_ref(), tp.span(), None),
                )
            }),
        });
    }
    if let Some(pp) = &raw.populations.products {
        let p = pp.get_ref();
        if named.sellers.is_empty() && populations.sellers.as_ref().is_none_or(|s| s.count == 0) {
            v.err(
                pp.span(),
                "a product population needs sellers: define [[sellers]] or [populations.sellers]",
                None,
            );
        }
        let price = v.dist(Some(&p.price), "price", Dist::fixed(1.0));
        if price.mean() > MAX_MONEY as f64 {
            v.err(
                p.price.span(),
                format!(
                    "prices around {:.3e} are above the largest supported amount, {MAX_MONEY}",
                    price.mean()
                ),
                Some(RuleId::Money1),
            );
        }
        let cats: Vec<u8> = if p.categories.is_empty() {
            vec![cat(v, "general", pp.span())]
        } else {
            p.categories.iter().map(|c| cat(v, c, pp.span())).collect()
        };
        populations.products = Some(ProductPop {
            count: count(v, &p.count, "products"),
            price,
            categories: cats,
            eligible_share: v.prob(&p.eligible_share, "eligible_share", 1.0),
            stock: p.stock.unwrap_or(UNLIMITED),
            zipf_exponent: v.nonneg(&p.zipf_exponent, "zipf_exponent", 1.0),
        });
    }
    if let Some(cp) = &raw.populations.creators {
        let c = cp.get_ref();
        let followers = v.dist(Some(&c.followers), "followers", Dist::fixed(1000.0));
        let weights = match &c.level_weights {
            Some(w) => {
                v.weights(w, "level_weights");
                w.get_ref().clone()
            }
            None => vec![0.5, 0.3, 0.15, 0.05],
        };
        let per = match &c.categories_per_creator {
            Some(s) if *s.get_ref() == 0 || *s.get_ref() > 64 => {
                v.err(
                    s.span(),
                    "`categories_per_creator` must be from 1 to 64",
                    None,
                );
                1
            }
            Some(s) => *s.get_ref(),
            None => 2,
        };
        populations.creators = Some(CreatorPop {
            count: count(v, &c.count, "creators"),
            followers,
            level_weights: weights,
            categories_per_creator: per,
            live_share: v.prob(&c.live_share, "live_share", 0.2),
            audience_age_weights: audience_ages(v, &c.audience_age_weights),
            audience_female: c.audience_female.as_ref().map(|d| {
                let d = v.dist(Some(d), "audience_female", Dist::uniform(0.0, 1.0));
                let (lo, hi) = match d {
                    Dist::Fixed { value } => (value, value),
                    Dist::Uniform { min, max } | Dist::Triangular { min, max, .. } => (min, max),
                    _ => (-1.0, -1.0),
                };
                if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) {
                    v.err(
                        c.audience_female.as_ref().map_or(cp.span(), |x| x.span()),
                        "`audience_female` is a share of followers: a fixed, uniform or triangular distribution within 0–1",
                        Some(RuleId::Target8),
                    );
                }
                d
            }),
        });
    }
    let tmp = agent_counts(named, &populations);
    // Measured: about 400 bytes per (seller + product + creator) with their books and streams.
    let bytes = tmp.0 as f64 * 100.0 + tmp.1 as f64 * 150.0 + tmp.2 as f64 * 200.0;
    if bytes > MAX_BYTES {
        v.err(raw.scenario.span(), format!(
            "the populations would need about {:.1} GiB per replication (sellers {}, products {}, creators {}); the limit is {:.0} GiB",
            bytes / 1073741824.0, tmp.0, tmp.1, tmp.2, MAX_BYTES / 1073741824.0
        ), None);
    }

    populations
}

fn agent_counts(named: &Named, p: &Populations) -> (u64, u64, u64) {
    (
        named.sellers.len() as u64 + p.sellers.as_ref().map_or(0, |s| u64::from(s.count)),
        named.products.len() as u64 + p.products.as_ref().map_or(0, |s| u64::from(s.count)),
        named.creators.len() as u64 + p.creators.as_ref().map_or(0, |s| u64::from(s.count)),
    )
}

/// `audience_age_weights`: one non-negative weight per age band (`model::AGE_BANDS`), with a
/// positive sum (TARGET-8). `None` (the key absent) keeps the uniform draw.
fn audience_ages(v: &mut V, raw: &Option<Spanned<Vec<f64>>>) -> Option<Vec<f64>> {
    let w = raw.as_ref()?;
    let n = crate::model::AGE_BANDS.len();
    if w.get_ref().len() != n
        || w.get_ref().iter().any(|x| !(x.is_finite() && *x >= 0.0))
        || w.get_ref().iter().sum::<f64>() <= 0.0
    {
        v.err(
            w.span(),
            format!(
                "`audience_age_weights` gives {n} non-negative weights, one per age band ({}), with a positive sum",
                crate::model::AGE_BANDS.join(", ")
            ),
            Some(RuleId::Target8),
        );
        return None;
    }
    Some(w.get_ref().clone())
}
