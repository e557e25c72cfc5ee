//! Collaboration Plus: `[[creator_groups]]` (PLUS-6) and `[[plus_campaigns]]` (PLUS-1 …
//! PLUS-16).

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, money_checked, time_at};
use super::names::{Categories, NameTable};
use super::open::OpenPart;
use super::region::RegionPart;
use crate::rules::ids::*;
use crate::rules::plus::{CreatorGroup, PlusCampaign, PlusKind, PolicySpec, Task};

/// Resolves the creator groups in file order.
pub(super) fn resolve_groups(
    v: &mut V,
    raw: &[GroupRaw],
    names: &mut NameTable,
    cats: &mut Categories,
) -> Vec<CreatorGroup> {
    let NameTable {
        sellers,
        groups: group_names,
        ..
    } = names;
    let mut cat = |v: &mut V, name: &str, span| cats.intern(v, name, span);
    let mut groups = Vec::new();
    for g in raw {
        group_names.define(v, &g.id);
        let seller = sellers.get(v, &g.seller).map(SellerId).unwrap_or_default();
        let mut mask = 0u64;
        for c in &g.categories {
            mask |= 1u64 << cat(v, c.get_ref(), c.span());
        }
        let (min_level, max_level) = (g.min_level.unwrap_or(0), g.max_level.unwrap_or(u8::MAX));
        let (min_f, max_f) = (
            g.min_followers.unwrap_or(0),
            g.max_followers.unwrap_or(u32::MAX),
        );
        if max_level < min_level || max_f < min_f {
            v.err(
                g.id.span(),
                "a creator group's maximum is below its minimum",
                Some(RuleId::Plus6),
            );
        }
        // rule: PLUS-6
        let per_seller = groups
            .iter()
            .filter(|x: &&CreatorGroup| x.seller == seller)
            .count();
        if per_seller == 100 {
            v.err(
                g.id.span(),
                "a seller has at most 100 creator groups",
                Some(RuleId::Plus6),
            );
        }
        groups.push(CreatorGroup {
            name: g.id.get_ref().clone(),
            seller,
            categories: mask,
            min_level,
            max_level,
            min_followers: min_f,
            max_followers: max_f,
            live_only: g.live_only,
        });
    }
    groups
}

/// Resolves the Collaboration Plus campaigns in file order into the rules' own `PlusCampaign`.
pub(super) fn resolve(
    v: &mut V,
    raw: &[Spanned<PlusRaw>],
    region: &RegionPart,
    named: &Named,
    open: &OpenPart,
    groups: &[CreatorGroup],
    names: &mut NameTable,
) -> Vec<PlusCampaign> {
    let NameTable {
        sellers,
        products,
        groups: group_names,
        plus: plus_names,
        ..
    } = names;
    let (calendar, minor_unit) = (region.calendar, region.region.minor_unit);
    let (product_plan, open_plans) = (&open.product_plan, &open.plans);
    let mut plus = Vec::new();
    for pr in raw {
        let p = pr.get_ref();
        plus_names.define(v, &p.id);
        let seller = sellers.get(v, &p.seller).map(SellerId).unwrap_or_default();
        // rule: PLUS-1
        if let Some(s) = named.sellers.get(seller.idx())
            && !s.plus_enabled
        {
            v.err(
                p.seller.span(),
                format!(
                    "seller `{}` is not enabled for Collaboration Plus (invitation only)",
                    s.name
                ),
                Some(RuleId::Plus1),
            );
        }
        let group = group_names.get(v, &p.group).unwrap_or(0);
        if groups
            .get(group as usize)
            .is_some_and(|g| g.seller != seller)
        {
            v.err(
                p.group.span(),
                "the creator group belongs to another seller",
                Some(RuleId::Plus6),
            );
        }
        let mut prods = Vec::new();
        for x in p.products.get_ref() {
            let Some(pid) = products.get(v, x) else {
                continue;
            };
            let spec = &named.products[pid as usize];
            if spec.seller != seller {
                v.err(
                    x.span(),
                    format!("product `{}` belongs to another seller", spec.name),
                    Some(RuleId::Plus8),
                );
            }
            // rule: PLUS-8
            if !spec.eligible {
                v.err(x.span(), format!("product `{}` is not affiliate-eligible; only eligible products can be in Collaboration Plus", spec.name), Some(RuleId::Plus8));
            }
            prods.push(ProductId(pid));
        }
        if prods.is_empty() && p.products.get_ref().is_empty() {
            v.err(
                p.products.span(),
                "a Collaboration Plus needs at least one product",
                Some(RuleId::Plus8),
            );
        }
        let samples = plus_samples(v, p, &prods, named);
        let rate = p.rate.as_ref().map(|r| v.rate(r));
        let shop_ads_rate = p.shop_ads_rate.as_ref().map(|r| v.rate(r));
        // rule: PLUS-9
        for &pid in &prods {
            let Some(name) = product_plan.get(&pid.0) else {
                continue;
            };
            let Some(plan) = open_plans.iter().find(|o| &o.name == name) else {
                continue;
            };
            let Some(&(_, open)) = plan.listings.iter().find(|(x, _)| *x == pid) else {
                continue;
            };
            // Like for like: the Plus Shop Ads rate against the Open Shop Ads rate where one is set.
            let open_ads = plan.shop_ads_rate.unwrap_or(open);
            for (r, sp, against, what) in [
                (rate, p.rate.as_ref().map(|x| x.span()), open, "Open rate"),
                (
                    shop_ads_rate,
                    p.shop_ads_rate.as_ref().map(|x| x.span()),
                    open_ads,
                    if plan.shop_ads_rate.is_some() {
                        "Open Shop Ads rate"
                    } else {
                        "Open rate"
                    },
                ),
            ] {
                if let (Some(r), Some(sp)) = (r, sp)
                    && r <= against
                {
                    v.err(
                        sp,
                        format!(
                            "the Plus rate {r} must be higher than the {what} {against} of `{}`",
                            named.products[pid.idx()].name
                        ),
                        Some(RuleId::Plus9),
                    );
                }
            }
        }
        let confirmed = time_at(v, &calendar, &p.confirmed);
        let paid = p
            .paid
            .as_ref()
            .map(|x| (time_at(v, &calendar, x), x.span()));
        let start = time_at(v, &calendar, &p.start);
        let end = time_at(v, &calendar, &p.end);
        if let Some((pt, sp)) = &paid
            && *pt < confirmed
        {
            v.err(
                sp.clone(),
                "payment comes after confirmation",
                Some(RuleId::Plus15),
            );
        }
        if let Some((pt, sp)) = &paid
            && *pt >= start
        {
            v.err(
                sp.clone(),
                "payment must come before the start; paid later, the collaboration never starts",
                Some(RuleId::Plus15),
            );
        }
        if start < confirmed {
            v.err(
                p.start.span(),
                "a collaboration starts after it is confirmed",
                Some(RuleId::Plus15),
            );
        }
        if end <= start {
            v.err(
                p.end.span(),
                "the collaboration ends before it starts",
                Some(RuleId::Plus15),
            );
        }
        let budget = money_checked(v, &p.budget, "budget", minor_unit);
        let service_fee = money_checked(v, &p.service_fee, "service_fee", minor_unit);
        let kind = plus_kind(v, p, minor_unit);
        let refund_days = match &p.refund_days {
            Some(d) if *d.get_ref() > 7 => {
                v.err(
                    d.span(),
                    "the excess service fee is refunded within 7 days after the end",
                    Some(RuleId::Plus16),
                );
                7
            }
            Some(d) => *d.get_ref(),
            None => 7,
        };
        plus.push(PlusCampaign {
            name: p.id.get_ref().clone(),
            seller,
            group: GroupId(group),
            products: prods,
            confirmed,
            paid: paid.map(|x| x.0),
            start,
            end,
            budget,
            service_fee,
            rate,
            shop_ads_rate,
            samples,
            ads_prompt: p.ads_prompt,
            kind,
            policy: match p.policy.unwrap_or(PolicyRaw::AsGiven) {
                PolicyRaw::AsGiven => PolicySpec::AsGiven,
                PolicyRaw::Budget => PolicySpec::Budget,
            },
            max_creators: p.max_creators,
            refund_days,
            scripted: p.scripted,
        });
    }

    plus
}

/// Free samples per selected product, parallel to `prods` (PLUS-21): `samples = N` gives each
/// product N; a table names products of the collaboration (others get none).
// rule: PLUS-21
fn plus_samples(v: &mut V, p: &PlusRaw, prods: &[ProductId], named: &Named) -> Vec<u32> {
    let Some(raw) = &p.samples else {
        return vec![0; prods.len()];
    };
    match raw.get_ref() {
        PlusSamplesRaw::Each(n) => vec![*n; prods.len()],
        PlusSamplesRaw::PerProduct(list) => {
            let mut out = vec![0; prods.len()];
            for (name, n) in list {
                match prods
                    .iter()
                    .position(|x| named.products.get(x.idx()).is_some_and(|s| &s.name == name))
                {
                    Some(k) => out[k] = *n,
                    None => v.err(
                        raw.span(),
                        format!(
                            "`samples` names `{name}`, which is not one of this collaboration's products: free samples are set per selected product and apply only to this collaboration"
                        ),
                        Some(RuleId::Plus21),
                    ),
                }
            }
            out
        }
    }
}

/// A Task's reward and tasks or a Challenge's objective and rank rewards (PLUS-2 … PLUS-5).
fn plus_kind(v: &mut V, p: &PlusRaw, minor_unit: u32) -> PlusKind {
    let dec = |v: &mut V, s: &Spanned<String>, what: &str| match Decimal::from_str_exact(
        s.get_ref().trim(),
    ) {
        Ok(d) if d >= Decimal::ZERO => d,
        _ => {
            v.err(
                s.span(),
                format!(
                    "`{what}` must be a number ≥ 0 written as a string, e.g. \"3\" or \"1500000\""
                ),
                None,
            );
            Decimal::ZERO
        }
    };
    // rule: PLUS-2
    match p.kind {
        PlusTypeRaw::Task => {
            let reward = match &p.reward {
                Some(r) => money_checked(v, r, "reward", minor_unit),
                None => {
                    v.err(
                        p.id.span(),
                        "a Task needs `reward`: what a creator earns for completing all tasks",
                        Some(RuleId::Plus3),
                    );
                    Money::ZERO
                }
            };
            if p.tasks.is_empty() {
                v.err(
                    p.id.span(),
                    "a Task needs at least one entry in `tasks`",
                    Some(RuleId::Plus4),
                );
            }
            if !p.rank_rewards.is_empty() || p.objective.is_some() {
                v.err(
                    p.id.span(),
                    "`rank_rewards` and `objective` belong to a Challenge",
                    Some(RuleId::Plus2),
                );
            }
            let tasks = p
                .tasks
                .iter()
                .map(|t| Task {
                    content: t.content,
                    objective: t.objective,
                    target: dec(v, &t.target, "target"),
                })
                .collect();
            PlusKind::Task { reward, tasks }
        }
        PlusTypeRaw::Challenge => {
            if p.rank_rewards.is_empty() {
                v.err(
                    p.id.span(),
                    "a Challenge needs `rank_rewards`, one amount per rewarded rank",
                    Some(RuleId::Plus5),
                );
            }
            if p.reward.is_some() || !p.tasks.is_empty() {
                v.err(
                    p.id.span(),
                    "`reward` and `tasks` belong to a Task",
                    Some(RuleId::Plus2),
                );
            }
            let objective = match &p.objective {
                Some(o) if *o.get_ref() == crate::rules::plus::Objective::Posts => {
                    v.err(
                        o.span(),
                        "a Challenge ranks by `gmv` or `orders`",
                        Some(RuleId::Plus5),
                    );
                    crate::rules::plus::Objective::Gmv
                }
                Some(o) => *o.get_ref(),
                None => crate::rules::plus::Objective::Gmv,
            };
            let rank_rewards = p
                .rank_rewards
                .iter()
                .map(|m| money_checked(v, m, "rank_rewards", minor_unit))
                .collect();
            PlusKind::Challenge {
                objective,
                content: p.content.unwrap_or(crate::rules::plus::ContentFilter::Any),
                rank_rewards,
                min_value: p
                    .min_value
                    .as_ref()
                    .map_or(Decimal::ZERO, |m| dec(v, m, "min_value")),
            }
        }
    }
}
