//! Target collaboration: `[[target_invitations]]` (TARGET-1 … TARGET-7, H-7, H-8).

use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, money_checked, time_at};
use super::names::{NameTable, Names};
use super::region::RegionPart;
use crate::model::UNLIMITED;

/// Resolves the Target invitations in file order into the rules' own `Invitation`.
pub(super) fn resolve(
    v: &mut V,
    raw: &[Spanned<InvitationRaw>],
    region: &RegionPart,
    named: &Named,
    names: &mut NameTable,
) -> Vec<crate::rules::target::Invitation> {
    let NameTable {
        sellers,
        products,
        creators,
        invitations: inv_names,
        ..
    } = names;
    let (calendar, minor_unit) = (region.calendar, region.region.minor_unit);
    let mut invitations = Vec::new();
    for ir in raw {
        let i = ir.get_ref();
        inv_names.define(v, &i.id);
        let seller = sellers.get(v, &i.seller).map(SellerId).unwrap_or_default();
        let sent = time_at(v, &calendar, &i.sent);
        let days_n = *i.days.get_ref();
        if days_n == 0 || days_n > 3650 {
            v.err(
                i.days.span(),
                "`days` (the collaboration's duration) must be from 1 to 3650",
                Some(RuleId::Target1),
            );
        }
        // rule: TARGET-1
        // rule: H-8
        let cs = i.creators.get_ref();
        if cs.is_empty() {
            v.err(
                i.creators.span(),
                "an invitation goes to at least one creator",
                Some(RuleId::Target1),
            );
        }
        if cs.len() > 50 {
            v.err(
                i.creators.span(),
                format!(
                    "an invitation goes to at most 50 creators, this one to {}",
                    cs.len()
                ),
                Some(RuleId::H8),
            );
        }
        let mut creator_ids = Vec::new();
        for c in cs {
            if let Some(id) = creators.get(v, c) {
                if creator_ids.contains(&CreatorId(id)) {
                    v.err(
                        c.span(),
                        format!("creator `{}` is invited twice", c.get_ref()),
                        Some(RuleId::Target1),
                    );
                }
                creator_ids.push(CreatorId(id));
            }
        }
        let products_t = target_products(v, i, seller, &creator_ids, named, products);
        let content = i
            .content
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_else(|| vec![ContentKind::Video]);
        // rule: TARGET-3
        let fee = match (i.fee.as_ref().map(|f| *f.get_ref()), &i.flat_fee) {
            (None | Some(FeeRaw::Commission), None) => crate::rules::target::Fee::CommissionOnly,
            (None | Some(FeeRaw::Flat), Some(m)) => {
                let amt = money_checked(v, m, "flat_fee", minor_unit);
                if amt.is_zero() {
                    v.err(
                        m.span(),
                        "a flat fee must be more than zero",
                        Some(RuleId::Target3),
                    );
                }
                // rule: TARGET-4
                if content.iter().any(|k| *k != ContentKind::Video) {
                    let sp = i.content.as_ref().map(|c| c.span()).unwrap_or(m.span());
                    v.err(
                        sp,
                        "a flat-fee collaboration is for video only",
                        Some(RuleId::Target4),
                    );
                }
                crate::rules::target::Fee::Flat(amt)
            }
            (Some(FeeRaw::Flat), None) => {
                let sp = i.fee.as_ref().map(|f| f.span()).unwrap_or(i.id.span());
                v.err(
                    sp,
                    "`fee = \"flat\"` needs `flat_fee` (the amount per creator)",
                    Some(RuleId::Target3),
                );
                crate::rules::target::Fee::CommissionOnly
            }
            (Some(FeeRaw::Commission), Some(m)) => {
                v.err(
                    m.span(),
                    "a commission-only invitation has no `flat_fee`",
                    Some(RuleId::Target3),
                );
                crate::rules::target::Fee::CommissionOnly
            }
        };
        // rule: TARGET-6
        if let Some(fs) = i.flash_sale.as_ref().filter(|f| *f.get_ref()) {
            if creator_ids.len() != 1 {
                v.err(fs.span(), format!("a LIVE flash sale can be requested only in an invitation to a single creator, not {} (no bulk flash sales)", creator_ids.len()), Some(RuleId::Target6));
            } else if !named.creators[creator_ids[0].idx()].live {
                v.err(
                    fs.span(),
                    format!(
                        "a LIVE flash sale needs a creator who can go LIVE; `{}` cannot",
                        named.creators[creator_ids[0].idx()].name
                    ),
                    Some(RuleId::Target6),
                );
            }
        }
        // rule: TARGET-3 — a commission-only collaboration has no video review, so nothing to
        // review or to authorise for ads (TARGET-4)
        if fee == crate::rules::target::Fee::CommissionOnly {
            if let Some(r) = &i.review {
                v.warn(
                    r.span(),
                    "`review` has no effect on a commission-only invitation: only flat-fee videos are reviewed",
                    Some(RuleId::Target3),
                );
            }
            if let Some(a) = i.authorise_ads.as_ref().filter(|a| *a.get_ref()) {
                v.warn(
                    a.span(),
                    "`authorise_ads` has no effect on a commission-only invitation: only approved flat-fee videos are authorised at the seller's request",
                    Some(RuleId::Target4),
                );
            }
        }
        let submit_days = match &i.submit_days {
            Some(d) if *d.get_ref() == 0 || *d.get_ref() > 3650 => {
                v.err(
                    d.span(),
                    "`submit_days` must be from 1 to 3650",
                    Some(RuleId::Target4),
                );
                7
            }
            Some(d) => *d.get_ref(),
            None => 7,
        };
        let creator_rates = creator_rates(v, i, &creator_ids, &products_t, creators, products);
        invitations.push(crate::rules::target::Invitation {
            name: i.id.get_ref().clone(),
            seller,
            creators: creator_ids,
            products: products_t,
            sent,
            ends: sent.plus_days(days_n),
            content,
            message: i.message.clone(),
            fee,
            reviewer: i
                .review
                .as_ref()
                .map_or(crate::rules::target::Reviewer::Seller, |r| *r.get_ref()),
            submit_days,
            flash_sale: i.flash_sale.as_ref().is_some_and(|f| *f.get_ref()),
            authorise_ads: i.authorise_ads.as_ref().is_some_and(|a| *a.get_ref()),
            scripted: i.scripted,
            creator_rates,
        });
    }

    invitations
}

/// `creator_rates` (TARGET-9): each for an invited creator, on a product of the invitation or
/// on all of them, once per (creator, product), within RATE-1.
fn creator_rates(
    v: &mut V,
    i: &InvitationRaw,
    creator_ids: &[CreatorId],
    products_t: &[crate::rules::target::TargetProduct],
    creators: &Names,
    products: &Names,
) -> Vec<(CreatorId, Option<ProductId>, crate::money::Rate)> {
    let mut out: Vec<(CreatorId, Option<ProductId>, crate::money::Rate)> = Vec::new();
    for cr in &i.creator_rates {
        let rate = v.rate(&cr.rate);
        let Some(c) = creators.get(v, &cr.creator).map(CreatorId) else {
            continue;
        };
        // rule: TARGET-9
        if !creator_ids.contains(&c) {
            v.err(
                cr.creator.span(),
                format!(
                    "creator `{}` is not invited in this invitation",
                    cr.creator.get_ref()
                ),
                Some(RuleId::Target9),
            );
            continue;
        }
        let p = match &cr.product {
            Some(ps) => {
                let Some(p) = products.get(v, ps).map(ProductId) else {
                    continue;
                };
                if !products_t.iter().any(|t| t.product == p) {
                    v.err(
                        ps.span(),
                        format!("product `{}` is not in this invitation", ps.get_ref()),
                        Some(RuleId::Target9),
                    );
                    continue;
                }
                Some(p)
            }
            None => None,
        };
        if out.iter().any(|&(oc, op, _)| oc == c && op == p) {
            v.err(
                cr.creator.span(),
                format!(
                    "creator `{}` has two rates for the same product(s) in this invitation",
                    cr.creator.get_ref()
                ),
                Some(RuleId::Target9),
            );
            continue;
        }
        out.push((c, p, rate));
    }
    out
}

/// An invitation's products: each named once, eligible, the seller's own; refundable-sample
/// goals (H-7) and the stock warning (TARGET-7).
fn target_products(
    v: &mut V,
    i: &InvitationRaw,
    seller: SellerId,
    creator_ids: &[CreatorId],
    named: &Named,
    products: &Names,
) -> Vec<crate::rules::target::TargetProduct> {
    let ps = i.products.get_ref();
    if ps.is_empty() {
        v.err(
            i.products.span(),
            "an invitation names at least one product",
            Some(RuleId::Target1),
        );
    }
    if ps.len() > 100 {
        v.err(
            i.products.span(),
            format!(
                "an invitation names at most 100 products, this one {}",
                ps.len()
            ),
            Some(RuleId::H8),
        );
    }
    let mut products_t = Vec::new();
    let mut seen_t: Vec<u32> = Vec::new();
    for tp in ps {
        let Some(pid) = products.get(v, &tp.product) else {
            continue;
        };
        if seen_t.contains(&pid) {
            v.err(
                tp.product.span(),
                format!(
                    "product `{}` is listed twice in this invitation: list each product once, with one rate",
                    tp.product.get_ref()
                ),
                Some(RuleId::Target1),
            );
            continue;
        }
        seen_t.push(pid);
        let pspec = &named.products[pid as usize];
        if !pspec.eligible {
            v.err(
                tp.product.span(),
                format!("product `{}` is not affiliate-eligible", pspec.name),
                Some(RuleId::Target1),
            );
        }
        if pspec.seller != seller {
            v.err(
                tp.product.span(),
                format!("product `{}` belongs to another seller", pspec.name),
                Some(RuleId::Target1),
            );
        }
        let goal = match &tp.sales_goal {
            Some(g) if !(1..=3).contains(g.get_ref()) => {
                v.err(
                    g.span(),
                    "`sales_goal` of a refundable sample is 1 to 3 sales",
                    Some(RuleId::H7),
                );
                1
            }
            Some(g) => *g.get_ref(),
            None => 1,
        };
        let sample = tp.sample.unwrap_or(crate::rules::target::SampleOffer::None);
        if tp.sales_goal.is_some() && sample != crate::rules::target::SampleOffer::RefundOnFirstSale
        {
            let sp = tp
                .sales_goal
                .as_ref()
                .map(|g| g.span())
                .unwrap_or(tp.product.span());
            v.err(
                sp,
                "`sales_goal` applies only to `sample = \"refund-on-first-sale\"`",
                Some(RuleId::H7),
            );
        }
        // rule: TARGET-7
        if pspec.stock != UNLIMITED && (pspec.stock as usize) < creator_ids.len().max(1) {
            v.warn(tp.product.span(), format!(
                "product `{}` has {} in stock for {} invited creator(s): the seller may not have enough stock for the collaboration",
                pspec.name, pspec.stock, creator_ids.len()
            ), Some(RuleId::Target7));
        }
        products_t.push(crate::rules::target::TargetProduct {
            product: ProductId(pid),
            rate: v.rate(&tp.rate),
            shop_ads_rate: tp.shop_ads_rate.as_ref().map(|r| v.rate(r)),
            sample,
            sales_goal: goal,
        });
    }
    products_t
}
