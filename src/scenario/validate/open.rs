//! Open plans: `[[open_plans]]` (OPEN-1), their listings, approval and samples.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, approval};
use super::names::NameTable;

/// The resolved Open plans and which plan lists each product.
pub(super) struct OpenPart {
    pub(super) plans: Vec<OpenPlanSpec>,
    /// Product index → the name of the Open plan that lists it (OPEN-1: at most one).
    pub(super) product_plan: HashMap<u32, String>,
}

/// Resolves the Open plans in file order, each product at its rate.
pub(super) fn resolve(
    v: &mut V,
    raw: &[OpenPlanRaw],
    named: &Named,
    names: &mut NameTable,
) -> OpenPart {
    let NameTable {
        sellers,
        products,
        open_plans: plan_names,
        ..
    } = names;
    let mut product_plan: HashMap<u32, String> = HashMap::new();
    let mut open_plans = Vec::new();
    for op in raw {
        plan_names.define(v, &op.id);
        let seller = sellers.get(v, &op.seller).map(SellerId);
        let plan_rate = op.rate.as_ref().map(|r| v.rate(r));
        let mut listed: Vec<(ProductId, Option<Rate>, Range<usize>)> = Vec::new();
        let mut add = |v: &mut V, pid: u32, rate: Option<Rate>, span: Range<usize>| {
            match listed.iter_mut().find(|(p, _, _)| p.0 == pid) {
                Some(e) => {
                    if rate.is_some() {
                        e.1 = rate;
                    }
                }
                None => listed.push((ProductId(pid), rate, span)),
            }
            let _ = v;
        };
        if let (true, Some(first)) = (op.all_products, op.products.first()) {
            v.err(
                first.span(),
                "`all_products = true` with `products`: the list says nothing the flag does not; keep one of them",
                Some(RuleId::Open1),
            );
        }
        if op.all_products
            && let Some(s) = seller
        {
            for (i, p) in named.products.iter().enumerate() {
                if p.seller == s && p.eligible {
                    add(v, i as u32, None, op.id.span());
                }
            }
        }
        let mut in_products: Vec<u32> = Vec::new();
        for p in &op.products {
            if let Some(pid) = products.get(v, p) {
                if in_products.contains(&pid) {
                    v.err(
                        p.span(),
                        format!(
                            "product `{}` is listed twice in `products`: list each product once",
                            p.get_ref()
                        ),
                        Some(RuleId::Open1),
                    );
                }
                in_products.push(pid);
                add(v, pid, None, p.span());
            }
        }
        // a product in two groups at two rates: which one applies would be file order
        let mut group_rate: HashMap<u32, Rate> = HashMap::new();
        for g in &op.groups {
            let gr = v.rate(&g.rate);
            for p in &g.products {
                if let Some(pid) = products.get(v, p) {
                    match group_rate.insert(pid, gr) {
                        Some(before) if before != gr => v.err(
                            p.span(),
                            format!("product `{}` is in two groups of this plan, at {before} and {gr}: give it one group, or a rate in `product_rates`", p.get_ref()),
                            Some(RuleId::Open1),
                        ),
                        Some(_) => v.err(
                            p.span(),
                            format!("product `{}` is listed twice in the groups of this plan: list it in one group, once", p.get_ref()),
                            Some(RuleId::Open1),
                        ),
                        None => {}
                    }
                    add(v, pid, Some(gr), p.span());
                }
            }
        }
        for (name, r) in &op.product_rates {
            let rate = v.rate(r);
            let key = Spanned::new(r.span(), name.clone());
            if let Some(pid) = products.get(v, &key) {
                add(v, pid, Some(rate), r.span());
            }
        }
        if listed.is_empty() && !op.all_products {
            v.err(op.id.span(), "an Open plan needs products: `products`, `groups`, `product_rates` or `all_products = true`", Some(RuleId::Open1));
        }
        let mut listings = Vec::new();
        for (pid, rate, span) in listed {
            let p = &named.products[pid.idx()];
            if Some(p.seller) != seller && seller.is_some() {
                v.err(
                    span.clone(),
                    format!("product `{}` belongs to another seller", p.name),
                    Some(RuleId::Open1),
                );
            }
            if !p.eligible {
                v.err(
                    span.clone(),
                    format!("product `{}` is not affiliate-eligible", p.name),
                    Some(RuleId::Open1),
                );
            }
            if let Some(other) = product_plan.insert(pid.0, op.id.get_ref().clone()) {
                v.err(
                    span.clone(),
                    format!("product `{}` is already in Open plan `{other}`", p.name),
                    Some(RuleId::Open1),
                );
            }
            match rate.or(plan_rate) {
                Some(r) => listings.push((pid, r)),
                None => v.err(span, format!("product `{}` has no rate: set the plan's `rate`, a group or `product_rates`", p.name), Some(RuleId::Open1)),
            }
        }
        let samples = op.samples.as_ref().map(|s| {
            let terms = SampleTerms {
                quantity: s.quantity,
                min_followers: s.min_followers,
                min_level: s.min_level,
                min_fulfilment: v.prob(&s.min_fulfilment, "min_fulfilment", 0.0),
            };
            (
                terms,
                v.dist(
                    s.shipping_delay.as_ref(),
                    "shipping_delay",
                    Dist::uniform(2.0, 5.0),
                ),
            )
        });
        open_plans.push(OpenPlanSpec {
            name: op.id.get_ref().clone(),
            seller: seller.unwrap_or_default(),
            listings,
            shop_ads_rate: op.shop_ads_rate.as_ref().map(|r| v.rate(r)),
            approval: approval(v, &op.approval),
            samples,
        });
    }

    OpenPart {
        plans: open_plans,
        product_plan,
    }
}
