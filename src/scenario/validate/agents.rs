//! Named agents: `[[sellers]]`, `[[products]]`, `[[creators]]` and `[[distributors]]`.

use super::super::format::*;
use super::super::*;
use super::context::{V, money_checked};
use super::names::{Categories, NameTable};
use crate::model::UNLIMITED;

/// Resolves the named agents in file order (they take the first dense ids), defining their
/// names and interning the categories they mention.
pub(super) fn resolve(
    v: &mut V,
    raw: &File,
    minor_unit: u32,
    names: &mut NameTable,
    cats: &mut Categories,
) -> Named {
    let NameTable {
        sellers,
        products,
        creators,
        distributors,
        ..
    } = names;
    let mut cat = |v: &mut V, name: &str, span| cats.intern(v, name, span);
    let mut named = Named::default();
    for s in &raw.sellers {
        sellers.define(v, &s.id);
        let shop = s.shop_plan_rate.as_ref().map(|r| v.rate(r));
        named.sellers.push(SellerSpec {
            name: s.id.get_ref().clone(),
            plus_enabled: s.plus_enabled,
            shop_plan_rate: shop,
        });
    }
    for p in &raw.products {
        products.define(v, &p.id);
        let seller = sellers.get(v, &p.seller).unwrap_or(0);
        let price = money_checked(v, &p.price, "price", minor_unit);
        let category = match &p.category {
            Some(c) => cat(v, c.get_ref(), c.span()),
            None => cat(v, "general", p.id.span()),
        };
        let popularity = match &p.popularity {
            Some(s) if !(s.get_ref().is_finite() && *s.get_ref() > 0.0) => {
                v.err(s.span(), "`popularity` must be a number > 0", None);
                1.0
            }
            Some(s) => *s.get_ref(),
            None => 1.0,
        };
        named.products.push(ProductSpec {
            name: p.id.get_ref().clone(),
            seller: SellerId(seller),
            price,
            category,
            eligible: p.affiliate_eligible,
            stock: p.stock.unwrap_or(UNLIMITED),
            popularity,
        });
    }
    for c in &raw.creators {
        creators.define(v, &c.id);
        let mut mask = 0u64;
        for k in &c.categories {
            mask |= 1u64 << cat(v, k.get_ref(), k.span());
        }
        let level = match &c.level {
            Some(l) if *l.get_ref() == 0 => {
                v.err(l.span(), "`level` starts at 1", None);
                1
            }
            Some(l) => *l.get_ref(),
            None => 1,
        };
        named.creators.push(CreatorSpec {
            name: c.id.get_ref().clone(),
            followers: c.followers,
            level,
            categories: mask,
            live: c.live,
            audience: super::outreach::audience(v, &c.audience_age, &c.audience_female),
        });
    }
    for d in &raw.distributors {
        distributors.define(v, &d.id);
        named.distributors.push(d.id.get_ref().clone());
    }

    named
}
