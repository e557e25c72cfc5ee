//! The script: `[script]`'s scripted events, in file order, then the lifecycle events of the
//! Target, distributor and Plus parts (a stable sort by time keeps that order for ties).

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::Context;
use super::context::{V, money_checked, time_at};
use super::names::NameTable;

/// Resolves `[script]` into the timeline (unsorted) and the scripted orders.
pub(super) fn resolve(
    v: &mut V,
    raw: &ScriptRaw,
    rules: &RulesSection,
    cx: &Context,
    names: &mut NameTable,
) -> (Vec<Scripted>, Vec<ScriptOrder>) {
    let mut script = Vec::new();
    rate_changes(v, raw, cx, names, &mut script);
    creator_actions(v, raw, cx, names, &mut script);
    let orders = orders(v, raw, cx, names, &mut script);
    returns(v, raw, cx, names, &orders, &mut script);
    target_events(v, raw, cx, names, &mut script);
    let split = rules.distributor_split.unwrap_or(SplitRaw::Seller) == SplitRaw::Distributor;
    distributor_events(v, raw, split, cx, names, &mut script);
    plus_events(v, raw, cx, names, &mut script);
    (script, orders)
}

/// A scripted action of the file: where its time (`at`) is.
trait Timed {
    fn at(&self) -> &Spanned<String>;
}

macro_rules! timed {
    ($($t:ty),*) => {
        $(impl Timed for $t {
            fn at(&self) -> &Spanned<String> {
                &self.at
            }
        })*
    };
}

timed!(
    RateChangeRaw,
    ActRaw,
    PostRaw,
    ReturnRaw,
    TargetResponseRaw,
    TargetActRaw,
    TargetRateChangeRaw,
    RegistrationRaw,
    RegistrationReviewRaw,
    LinkAddRaw,
    TerminationRaw,
    CampaignEditRaw,
    PlusActRaw
);

/// Resolves each scripted action of `list` in file order: its time, then `resolve`, which reports
/// what is wrong and gives the action to schedule at that time, or `None` to drop it.
fn each<R: Timed>(
    v: &mut V,
    cal: &Calendar,
    list: &[R],
    script: &mut Vec<Scripted>,
    mut resolve: impl FnMut(&mut V, &R, SimTime) -> Option<Action>,
) {
    for r in list {
        let at = time_at(v, cal, r.at());
        if let Some(action) = resolve(v, r, at) {
            script.push(Scripted { at, action });
        }
    }
}

/// `[[script.rate_changes]]`: a seller's Shop plan rate or an Open plan's (OPEN-4).
fn rate_changes(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        sellers,
        products,
        open_plans: plan_names,
        ..
    } = names;
    let cal = cx.calendar;
    let named = cx.named;
    let product_plan = &cx.open.product_plan;
    let open_plans = &cx.open.plans;
    each(v, &cal, &raw.rate_changes, script, |v, rc, _| {
        if let Some(g) = &rc.generated {
            return generated_change(v, rc, g, cx);
        }
        for (x, key) in [
            (rc.by.as_ref().map(|x| x.span()), "by"),
            (rc.category.as_ref().map(|x| x.span()), "category"),
        ] {
            if let Some(sp) = x {
                v.err(
                    sp,
                    format!("`{key}` belongs to a change of generated plans (`generated`)"),
                    Some(RuleId::Open4),
                );
            }
        }
        let Some(rate_raw) = &rc.rate else {
            v.err(
                rc.at.span(),
                "a rate change gives the new `rate`",
                Some(RuleId::Rate1),
            );
            return None;
        };
        match (&rc.plan, &rc.product, &rc.seller) {
            (_, _, Some(s)) if rc.plan.is_none() && rc.product.is_none() => {
                let rate = v.rate(rate_raw);
                let sid = sellers.get(v, s)?;
                if named.sellers[sid as usize].shop_plan_rate.is_none() {
                    v.err(
                        s.span(),
                        format!("seller `{}` has no Shop plan to change", s.get_ref()),
                        Some(RuleId::Shop1),
                    );
                }
                Some(Action::ShopRate {
                    seller: SellerId(sid),
                    rate,
                })
            }
            (plan, product, None) if plan.is_some() || product.is_some() => {
                let rate = v.rate(rate_raw);
                let pid = product.as_ref().and_then(|p| products.get(v, p));
                let plan_idx = match plan {
                    Some(p) => plan_names.get(v, p),
                    None => pid.and_then(|pid| {
                        let name = product_plan.get(&pid)?;
                        plan_names.map.get(name).map(|x| x.0)
                    }),
                };
                let sp = product.as_ref().map(|p| p.span()).unwrap_or(rc.at.span());
                let Some(pi) = plan_idx else {
                    if plan.is_none() {
                        v.err(
                            sp,
                            "the product is not in any Open plan",
                            Some(RuleId::Open4),
                        );
                    }
                    return None;
                };
                if let Some(pid) = pid
                    && !open_plans[pi as usize]
                        .listings
                        .iter()
                        .any(|(p, _)| p.0 == pid)
                {
                    v.err(
                        sp,
                        "the product is not in that Open plan",
                        Some(RuleId::Open4),
                    );
                }
                Some(Action::OpenRate {
                    plan: OpenPlanId(pi),
                    product: pid.map(ProductId),
                    rate,
                    shop_ads: rc.shop_ads,
                })
            }
            _ => {
                v.err(
                    rc.at.span(),
                    "a rate change names either `seller` (its Shop plan) or an Open `plan` and/or `product`",
                    Some(RuleId::Open4),
                );
                None
            }
        }
    });
}

/// A `[[script.rate_changes]]` entry with `generated`: every generated plan of a kind (issue
/// 14), optionally only those with a product of `category`, to `rate` or `by` rate points.
fn generated_change(
    v: &mut V,
    rc: &RateChangeRaw,
    g: &Spanned<String>,
    cx: &Context,
) -> Option<Action> {
    let kind = match g.get_ref().as_str() {
        "open" => GeneratedKind::Open,
        "shop" => GeneratedKind::Shop,
        "target" => GeneratedKind::Target,
        other => {
            v.err(
                g.span(),
                format!("`generated` is \"open\", \"shop\" or \"target\", got \"{other}\""),
                None,
            );
            return None;
        }
    };
    for (x, key) in [
        (rc.plan.as_ref().map(|x| x.span()), "plan"),
        (rc.product.as_ref().map(|x| x.span()), "product"),
        (rc.seller.as_ref().map(|x| x.span()), "seller"),
    ] {
        if let Some(sp) = x {
            v.err(sp, format!("`{key}` names a plan in the file: a change of `generated` plans selects them by `category` only"), None);
        }
    }
    if rc.shop_ads && kind != GeneratedKind::Open {
        v.err(
            g.span(),
            "`shop_ads` applies to Open plans only (generated = \"open\")",
            Some(RuleId::H5),
        );
    }
    let category = match &rc.category {
        Some(c) => match cx.categories.iter().position(|x| x == c.get_ref()) {
            Some(i) => Some(i as u8),
            None => {
                v.err(
                    c.span(),
                    format!("unknown category `{}`: no product has it", c.get_ref()),
                    None,
                );
                None
            }
        },
        None => None,
    };
    let change = match (&rc.rate, &rc.by) {
        (Some(r), None) => RateStep::To(v.rate(r)),
        (None, Some(b)) => {
            // rule: H-3 — a relative change in 0.01% steps; RATE-1 is checked per plan in the run
            let d = *b.get_ref();
            if d.0.round_dp(2) != d.0 || d.0.abs() > Decimal::from(79) || d.0.is_zero() {
                v.err(b.span(), format!("`by` is a non-zero change of at most 79 rate points in 0.01% steps, got {d}"), Some(RuleId::H3));
            }
            RateStep::By(d)
        }
        _ => {
            v.err(
                g.span(),
                "a change of generated plans gives either `rate` or `by`",
                Some(RuleId::Rate1),
            );
            return None;
        }
    };
    Some(Action::GeneratedRate {
        kind,
        category,
        change,
        shop_ads: rc.shop_ads,
    })
}

/// Builds a creator's action on a product (an application, showcase add or sample request).
type MakeAct = fn(CreatorId, ProductId) -> Action;

/// Applications, showcase adds, sample requests and posts.
fn creator_actions(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        products, creators, ..
    } = names;
    let cal = cx.calendar;
    let named = cx.named;
    let acts: [(&[ActRaw], MakeAct); 3] = [
        (&raw.applications, |creator, product| Action::Apply {
            creator,
            product,
        }),
        (&raw.showcase_adds, |creator, product| Action::ShowcaseAdd {
            creator,
            product,
        }),
        (&raw.sample_requests, |creator, product| {
            Action::SampleRequest { creator, product }
        }),
    ];
    for (list, mk) in acts {
        each(v, &cal, list, script, |v, a, _| {
            let c = creators.get(v, &a.creator);
            let p = products.get(v, &a.product);
            Some(mk(CreatorId(c?), ProductId(p?)))
        });
    }
    each(v, &cal, &raw.posts, script, |v, p, _| {
        let c = creators.get(v, &p.creator);
        let pr = products.get(v, &p.product);
        let kind = p.kind.unwrap_or(ContentKind::Video);
        let (c, pr) = (c?, pr?);
        if kind == ContentKind::Live && !named.creators[c as usize].live {
            v.err(
                p.creator.span(),
                format!("creator `{}` cannot go LIVE", p.creator.get_ref()),
                None,
            );
        }
        Some(Action::Post {
            creator: CreatorId(c),
            product: ProductId(pr),
            kind,
            authorised: p.authorised,
        })
    });
}

/// `[[script.orders]]`: scripted order lines and their lifecycle (ORDER-1, ORDER-2, TARGET-4).
fn orders(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) -> Vec<ScriptOrder> {
    let NameTable {
        products,
        creators,
        invitations: inv_names,
        orders: order_names,
        ..
    } = names;
    let cal = cx.calendar;
    let minor_unit = cx.minor_unit;
    let named = cx.named;
    let invitations = cx.invitations;
    let mut orders = Vec::new();
    for o in &raw.orders {
        let idx = order_names.define(v, &o.id);
        let at = time_at(v, &cal, &o.at);
        let c = creators.get(v, &o.creator).unwrap_or(0);
        let p = products.get(v, &o.product);
        let quantity = match &o.quantity {
            Some(q) if *q.get_ref() == 0 => {
                v.err(
                    q.span(),
                    "`quantity` must be at least 1",
                    Some(RuleId::Order1),
                );
                1
            }
            Some(q) if *q.get_ref() > 1_000_000 => {
                v.err(
                    q.span(),
                    "`quantity` must be at most 1000000",
                    Some(RuleId::Order1),
                );
                1
            }
            Some(q) => *q.get_ref(),
            None => 1,
        };
        let m = |v: &mut V, x: &Option<Spanned<Money>>, key: &str| {
            x.as_ref()
                .map_or(Money::ZERO, |m| money_checked(v, m, key, minor_unit))
        };
        let seller_coupon = m(v, &o.seller_coupon, "seller_coupon");
        let platform_coupon = m(v, &o.platform_coupon, "platform_coupon");
        let shipping = m(v, &o.shipping, "shipping");
        if let Some(p) = p {
            let gross = named.products[p as usize].price.times(quantity);
            if seller_coupon + platform_coupon > gross {
                v.err(
                    o.id.span(),
                    format!(
                        "coupons ({}) exceed the line's price × quantity ({gross})",
                        seller_coupon + platform_coupon
                    ),
                    Some(RuleId::Order1),
                );
            }
        }
        let opt = |v: &mut V, s: &Option<Spanned<String>>| {
            s.as_ref().map(|s| (time_at(v, &cal, s), s.span()))
        };
        let shipped = opt(v, &o.shipped);
        let delivered = opt(v, &o.delivered);
        let cancelled = opt(v, &o.cancelled);
        if let Some((t, sp)) = &shipped
            && *t < at
        {
            v.err(
                sp.clone(),
                "an order ships after it is placed",
                Some(RuleId::Order2),
            );
        }
        if let Some((t, sp)) = &delivered
            && *t < shipped.as_ref().map_or(at, |s| s.0)
        {
            v.err(
                sp.clone(),
                "an order is delivered after it ships",
                Some(RuleId::Order2),
            );
        }
        if let Some((t, sp)) = &cancelled {
            if *t < at {
                v.err(
                    sp.clone(),
                    "an order is cancelled after it is placed",
                    Some(RuleId::Order2),
                );
            }
            if delivered.is_some() {
                v.err(
                    sp.clone(),
                    "a cancelled order is never delivered (cancellation happens before shipping)",
                    Some(RuleId::Order2),
                );
            }
            if let Some((s, _)) = &shipped
                && t >= s
            {
                v.err(
                    sp.clone(),
                    "an order can be cancelled only before it ships",
                    Some(RuleId::Order2),
                );
            }
        }
        let traffic = o.traffic.unwrap_or(Traffic::Video);
        // rule: TARGET-4 — an order from a creator's flat-fee video (its ads are authorised
        // once it is approved, if the seller asked)
        let target_video = o.target_video.as_ref().and_then(|tv| {
            let i = inv_names.get(v, tv)?;
            let inv = &invitations[i as usize];
            let mut ok = true;
            if !matches!(inv.fee, crate::rules::target::Fee::Flat(_)) {
                v.err(
                    tv.span(),
                    format!(
                        "`{}` is a commission-only invitation: it has no reviewed video (TARGET-3); `target_video` needs a flat-fee invitation",
                        tv.get_ref()
                    ),
                    Some(RuleId::Target4),
                );
                ok = false;
            }
            if !inv.creators.contains(&CreatorId(c)) {
                v.err(
                    tv.span(),
                    format!(
                        "creator `{}` is not invited by `{}`, so has no video for it",
                        o.creator.get_ref(),
                        tv.get_ref()
                    ),
                    Some(RuleId::Target1),
                );
                ok = false;
            }
            if let Some(p) = p
                && !inv.products.iter().any(|x| x.product.0 == p) {
                    v.err(
                        tv.span(),
                        format!(
                            "product `{}` is not in invitation `{}`",
                            o.product.get_ref(),
                            tv.get_ref()
                        ),
                        Some(RuleId::Target1),
                    );
                    ok = false;
                }
            if !matches!(traffic, Traffic::Video | Traffic::Ad) {
                v.err(
                    tv.span(),
                    format!(
                        "an order from a Target video comes from the video or an ad using it: `traffic` must be \"video\" or \"ad\", not \"{}\"",
                        traffic.as_str()
                    ),
                    Some(RuleId::Target4),
                );
                ok = false;
            }
            ok.then_some(i)
        });
        orders.push(ScriptOrder {
            name: o.id.get_ref().clone(),
            at,
            creator: CreatorId(c),
            product: ProductId(p.unwrap_or(0)),
            quantity,
            traffic,
            authorised: o.authorised,
            target_video: target_video.map(InvitationId),
            seller_coupon,
            platform_coupon,
            shipping,
            shipped: shipped.map(|s| s.0),
            delivered: delivered.map(|s| s.0),
            cancelled: cancelled.map(|s| s.0),
        });
        script.push(Scripted {
            at,
            action: Action::Order(idx),
        });
    }
    orders
}

/// `[[script.returns]]` of scripted orders (SETTLE-3, ORDER-2).
fn returns(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    orders: &[ScriptOrder],
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        orders: order_names,
        ..
    } = names;
    let cal = cx.calendar;
    let minor_unit = cx.minor_unit;
    each(v, &cal, &raw.returns, script, |v, r, at| {
        let oi = order_names.get(v, &r.order)?;
        let o = &orders[oi as usize];
        let amount = match (&r.quantity, &r.amount) {
            (Some(q), None) => {
                if *q.get_ref() == 0 || *q.get_ref() > o.quantity {
                    v.err(
                        q.span(),
                        format!("`quantity` must be from 1 to the order's {}", o.quantity),
                        Some(RuleId::Settle3),
                    );
                }
                ReturnAmount::Quantity(*q.get_ref())
            }
            (None, Some(a)) => ReturnAmount::Amount(money_checked(v, a, "amount", minor_unit)),
            (None, None) => ReturnAmount::All,
            (Some(q), Some(_)) => {
                v.err(
                    q.span(),
                    "a return names `quantity` or `amount`, not both",
                    Some(RuleId::Settle3),
                );
                ReturnAmount::All
            }
        };
        if o.cancelled.is_some() {
            v.err(
                r.order.span(),
                "a cancelled order cannot be returned",
                Some(RuleId::Order2),
            );
        }
        if at < o.at {
            v.err(
                r.at.span(),
                format!(
                    "the return is dated before order `{}` is placed ({})",
                    r.order.get_ref(),
                    cal.datetime(o.at).format("%Y-%m-%d %H:%M")
                ),
                Some(RuleId::Order2),
            );
        }
        Some(Action::Return { order: oi, amount })
    });
}

/// Target invitations sent, and scripted responses, submissions and reviews.
fn target_events(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        creators,
        products,
        invitations: inv_names,
        ..
    } = names;
    let calendar = cx.calendar;
    let invitations = cx.invitations;
    for (i, inv) in invitations.iter().enumerate() {
        script.push(Scripted {
            at: inv.sent,
            action: Action::SendInvitation(InvitationId::at(i)),
        });
    }
    let target_ref =
        |v: &mut V, inv: &Spanned<String>, c: &Spanned<String>| -> Option<(u32, CreatorId)> {
            let i = inv_names.get(v, inv)?;
            let cid = CreatorId(creators.get(v, c)?);
            if !invitations[i as usize].creators.contains(&cid) {
                v.err(
                    c.span(),
                    format!(
                        "creator `{}` is not invited by `{}`",
                        c.get_ref(),
                        inv.get_ref()
                    ),
                    Some(RuleId::Target1),
                );
                return None;
            }
            Some((i, cid))
        };
    // rule: TARGET-9 — a rate change for one creator, one product, or all
    each(v, &calendar, &raw.target_rate_changes, script, |v, r, _| {
        let rate = v.rate(&r.rate);
        let i = inv_names.get(v, &r.invitation)?;
        let inv = &invitations[i as usize];
        let creator = match &r.creator {
            Some(c) => {
                let cid = CreatorId(creators.get(v, c)?);
                if !inv.creators.contains(&cid) {
                    v.err(
                        c.span(),
                        format!(
                            "creator `{}` is not invited by `{}`",
                            c.get_ref(),
                            r.invitation.get_ref()
                        ),
                        Some(RuleId::Target1),
                    );
                    return None;
                }
                Some(cid)
            }
            None => None,
        };
        let product = match &r.product {
            Some(p) => {
                let pid = ProductId(products.get(v, p)?);
                if !inv.products.iter().any(|x| x.product == pid) {
                    v.err(
                        p.span(),
                        format!(
                            "product `{}` is not in `{}`",
                            p.get_ref(),
                            r.invitation.get_ref()
                        ),
                        Some(RuleId::Target1),
                    );
                    return None;
                }
                Some(pid)
            }
            None => None,
        };
        Some(Action::TargetRate {
            invitation: InvitationId(i),
            product,
            creator,
            rate,
        })
    });
    // a response needs `accept`, a review `approve`; each refuses the other's key
    let answer = |v: &mut V, r: &TargetResponseRaw, response: bool| -> Option<bool> {
        let (given, other, needs, misplaced, rule) = if response {
            (
                r.accept,
                r.approve,
                "a Target response needs `accept = true` or `accept = false`",
                "`approve` belongs to a video review, not a response",
                RuleId::Target2,
            )
        } else {
            (
                r.approve,
                r.accept,
                "a video review needs `approve = true` or `approve = false`",
                "`accept` belongs to a Target response, not a review",
                RuleId::Target4,
            )
        };
        let Some(given) = given else {
            v.err(r.at.span(), needs, Some(rule));
            return None;
        };
        if other.is_some() {
            v.err(r.at.span(), misplaced, Some(rule));
        }
        Some(given)
    };
    each(v, &calendar, &raw.target_responses, script, |v, r, _| {
        let accept = answer(v, r, true)?;
        let (invitation, creator) = target_ref(v, &r.invitation, &r.creator)?;
        Some(Action::TargetResponse {
            invitation: InvitationId(invitation),
            creator,
            accept,
        })
    });
    each(v, &calendar, &raw.video_submissions, script, |v, r, _| {
        let (invitation, creator) = target_ref(v, &r.invitation, &r.creator)?;
        Some(Action::VideoSubmission {
            invitation: InvitationId(invitation),
            creator,
        })
    });
    each(v, &calendar, &raw.video_reviews, script, |v, r, _| {
        let approve = answer(v, r, false)?;
        let (invitation, creator) = target_ref(v, &r.invitation, &r.creator)?;
        Some(Action::VideoReview {
            invitation: InvitationId(invitation),
            creator,
            approve,
        })
    });
}

/// Distributor campaigns opened, and scripted registrations, reviews, links, terminations and edits.
fn distributor_events(
    v: &mut V,
    raw: &ScriptRaw,
    split: bool,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        sellers,
        products,
        creators,
        campaigns: camp_names,
        ..
    } = names;
    let calendar = cx.calendar;
    let campaigns = cx.campaigns;
    for (i, c) in campaigns.iter().enumerate() {
        script.push(Scripted {
            at: c.campaign.registration.0,
            action: Action::OpenCampaign(CampaignId::at(i)),
        });
    }
    let camp_product =
        |v: &mut V, c: &Spanned<String>, p: &Spanned<String>| -> Option<(u32, ProductId)> {
            Some((camp_names.get(v, c)?, ProductId(products.get(v, p)?)))
        };
    each(v, &calendar, &raw.registrations, script, |v, r, _| {
        let (campaign, product) = camp_product(v, &r.campaign, &r.product)?;
        if split {
            // rule: H-9 — the seller registers a total; the distributor sets the creator's part
            let (Some(total), None, None) = (&r.total_rate, &r.creator_rate, &r.distributor_rate)
            else {
                v.err(r.at.span(), "with rules.distributor_split = \"distributor\", a registration gives `total_rate` only", Some(RuleId::H9));
                return None;
            };
            let total = v.rate(total);
            return Some(Action::RegisterTotal {
                campaign: CampaignId(campaign),
                product,
                total,
            });
        }
        let (Some(cr), Some(dr), None) = (&r.creator_rate, &r.distributor_rate, &r.total_rate)
        else {
            v.err(r.at.span(), "a registration gives `creator_rate` and `distributor_rate` (DIST-2; `total_rate` only with rules.distributor_split = \"distributor\")", Some(RuleId::Dist2));
            return None;
        };
        // rule: RATE-1
        let creator_rate = v.rate(cr);
        let distributor_rate = *dr.get_ref();
        if distributor_rate.percent().round_dp(2) != distributor_rate.percent() {
            v.err(
                dr.span(),
                format!(
                    "distributor part {distributor_rate} is not a whole number of 0.01% steps (H-3)"
                ),
                Some(RuleId::H3),
            );
        }
        if distributor_rate.percent() <= Decimal::ZERO {
            v.err(
                dr.span(),
                "the distributor part must be more than 0%",
                Some(RuleId::Dist2),
            );
        }
        if creator_rate.percent() + distributor_rate.percent() > Decimal::from(80) {
            v.err(
                dr.span(),
                format!(
                    "creator and distributor parts add up to {}%, above the 80% limit",
                    (creator_rate.percent() + distributor_rate.percent()).normalize()
                ),
                Some(RuleId::Rate1),
            );
        }
        let shop_ads_rate = r.shop_ads_rate.as_ref().map(|x| v.rate(x));
        if let (Some(sa), Some(x)) = (shop_ads_rate, &r.shop_ads_rate)
            && sa.percent() + distributor_rate.percent() > Decimal::from(80)
        {
            v.err(
                x.span(),
                format!(
                    "Shop Ads creator part and distributor part add up to {}%, above the 80% limit",
                    (sa.percent() + distributor_rate.percent()).normalize()
                ),
                Some(RuleId::Rate1),
            );
        }
        Some(Action::Register {
            campaign: CampaignId(campaign),
            product,
            creator_rate,
            distributor_rate,
            shop_ads_rate,
        })
    });
    registration_edits(v, raw, split, cx, products, camp_names, script);
    each(
        v,
        &calendar,
        &raw.registration_reviews,
        script,
        |v, r, _| {
            let creator_part = r.creator_rate.as_ref().map(|x| v.rate(x));
            if creator_part.is_some() && !split {
                let sp = r
                    .creator_rate
                    .as_ref()
                    .map(|x| x.span())
                    .unwrap_or(r.at.span());
                v.err(
                sp,
                "`creator_rate` on a review belongs to rules.distributor_split = \"distributor\"",
                Some(RuleId::H9),
            );
            }
            let (campaign, product) = camp_product(v, &r.campaign, &r.product)?;
            Some(Action::ReviewRegistration {
                campaign: CampaignId(campaign),
                product,
                approve: r.approve,
                reason: r.reason.clone(),
                creator_part,
            })
        },
    );
    each(v, &calendar, &raw.link_adds, script, |v, r, _| {
        let creator = creators.get(v, &r.creator).map(CreatorId);
        let (campaign, product) = camp_product(v, &r.campaign, &r.product)?;
        Some(Action::AddLink {
            campaign: CampaignId(campaign),
            creator: creator?,
            product,
            choice: r.choice,
        })
    });
    for r in &raw.terminations {
        let at = time_at(v, &calendar, &r.at);
        let campaign = camp_names.get(v, &r.campaign);
        let seller = sellers.get(v, &r.seller).map(SellerId);
        let until = r.until.as_ref().map(|u| {
            let until = time_at(v, &calendar, u);
            if until <= at {
                // rule: DIST-8 — a temporary termination ends after it starts
                v.err(
                    u.span(),
                    "a temporary termination's `until` must be after its `at`",
                    Some(RuleId::Dist8),
                );
            }
            until
        });
        if let (Some(campaign), Some(seller)) = (campaign, seller) {
            script.push(Scripted {
                at,
                action: Action::Terminate {
                    campaign: CampaignId(campaign),
                    seller,
                    until,
                },
            });
            if let Some(until) = until {
                script.push(Scripted {
                    at: until,
                    action: Action::Resume {
                        campaign: CampaignId(campaign),
                        seller,
                        due: true,
                    },
                });
            }
        }
    }
    each(v, &calendar, &raw.resumptions, script, |v, r, _| {
        let campaign = camp_names.get(v, &r.campaign);
        let seller = sellers.get(v, &r.seller).map(SellerId);
        if let Some(u) = &r.until {
            v.err(
                u.span(),
                "`until` belongs to [[script.terminations]], not to a resumption",
                Some(RuleId::Dist8),
            );
        }
        Some(Action::Resume {
            campaign: CampaignId(campaign?),
            seller: seller?,
            due: false,
        })
    });
    each(v, &calendar, &raw.campaign_edits, script, |v, r, _| {
        let promotion_start = r
            .promotion_start
            .as_ref()
            .map(|ps| (time_at(v, &calendar, ps), ps.span()));
        let min_c = r.min_creator_rate.as_ref().map(|x| v.rate(x));
        let min_d = r.min_distributor_rate.as_ref().map(|x| v.rate(x));
        if promotion_start.is_none() && min_c.is_none() && min_d.is_none() {
            v.err(r.at.span(), "a campaign edit changes `promotion_start`, `min_creator_rate` or `min_distributor_rate`", Some(RuleId::H9));
        }
        let campaign = camp_names.get(v, &r.campaign)?;
        let c = &campaigns[campaign as usize].campaign;
        if let Some((ps, span)) = &promotion_start
            && (*ps >= c.promotion.1 || *ps < c.registration.0)
        {
            v.err(
                span.clone(),
                "the new promotion start must fall between registration start and promotion end",
                Some(RuleId::H9),
            );
        }
        Some(Action::EditCampaign {
            campaign: CampaignId(campaign),
            promotion_start: promotion_start.map(|x| x.0),
            min_rates: (min_c, min_d),
        })
    });
}

/// `[[script.registration_edits]]`: a seller edits a registration's parts (issue 14,
/// `rules.registration_edit`).
fn registration_edits(
    v: &mut V,
    raw: &ScriptRaw,
    split: bool,
    cx: &Context,
    products: &super::names::Names,
    camp_names: &super::names::Names,
    script: &mut Vec<Scripted>,
) {
    let calendar = cx.calendar;
    let camp_product =
        |v: &mut V, c: &Spanned<String>, p: &Spanned<String>| -> Option<(u32, ProductId)> {
            Some((camp_names.get(v, c)?, ProductId(products.get(v, p)?)))
        };
    // rule: DIST-2 — a seller edits a registration's parts (rules.registration_edit)
    each(v, &calendar, &raw.registration_edits, script, |v, r, _| {
        let rate = |v: &mut V, x: &Option<Spanned<Rate>>| x.as_ref().map(|x| v.rate(x));
        let parts = crate::rules::changes::RegistrationParts {
            creator_rate: rate(v, &r.creator_rate),
            distributor_rate: rate(v, &r.distributor_rate),
            shop_ads_rate: rate(v, &r.shop_ads_rate),
            total: rate(v, &r.total_rate),
        };
        if parts == Default::default() {
            v.err(r.at.span(), "a registration edit gives at least one of `creator_rate`, `distributor_rate`, `shop_ads_rate`, `total_rate`", Some(RuleId::Dist2));
        }
        if split && (parts.creator_rate.is_some() || parts.distributor_rate.is_some()) {
            v.err(r.at.span(), "with rules.distributor_split = \"distributor\", a registration edit gives `total_rate` (and `shop_ads_rate`) only", Some(RuleId::H9));
        }
        if !split && let Some(x) = &r.total_rate {
            v.err(
                x.span(),
                "`total_rate` belongs to rules.distributor_split = \"distributor\"",
                Some(RuleId::H9),
            );
        }
        let (campaign, product) = camp_product(v, &r.campaign, &r.product)?;
        Some(Action::EditRegistration {
            campaign: CampaignId(campaign),
            product,
            parts,
        })
    });
}

/// The Collaboration Plus lifecycle, and scripted joins, sample requests, edits and cancellations.
fn plus_events(
    v: &mut V,
    raw: &ScriptRaw,
    cx: &Context,
    names: &mut NameTable,
    script: &mut Vec<Scripted>,
) {
    let NameTable {
        creators,
        products,
        plus: plus_names,
        ..
    } = names;
    let calendar = cx.calendar;
    let plus = cx.plus;
    for (i, c) in plus.iter().enumerate() {
        let i = i as u32;
        script.push(Scripted {
            at: c.confirmed,
            action: Action::PlusConfirm(PlusId(i)),
        });
        if let Some(pt) = c.paid {
            script.push(Scripted {
                at: pt,
                action: Action::PlusPay(PlusId(i)),
            });
        }
        script.push(Scripted {
            at: c.start,
            action: Action::PlusStart(PlusId(i)),
        });
        script.push(Scripted {
            at: c.end,
            action: Action::PlusEnd(PlusId(i)),
        });
    }
    for (list, which) in [
        (&raw.plus_joins, 0),
        (&raw.plus_sample_requests, 1),
        (&raw.plus_edits, 2),
        (&raw.plus_cancellations, 3),
    ] {
        each(v, &calendar, list, script, |v, r, _| {
            let campaign = plus_names.get(v, &r.campaign)?;
            let creator = match (&r.creator, which) {
                (Some(c), 0 | 1) => creators.get(v, c).map(CreatorId),
                (None, 0 | 1) => {
                    v.err(
                        r.at.span(),
                        "this action needs `creator`",
                        Some(RuleId::Plus7),
                    );
                    None
                }
                (Some(c), _) => {
                    v.err(
                        c.span(),
                        "this action takes no `creator`",
                        Some(RuleId::Plus15),
                    );
                    None
                }
                (None, _) => None,
            };
            // rule: PLUS-21 — a sample request may name the product it is for
            let product = match (&r.product, which) {
                (Some(x), 1) => products.get(v, x).map(ProductId),
                (Some(x), _) => {
                    v.err(
                        x.span(),
                        "`product` belongs to plus_sample_requests",
                        Some(RuleId::Plus21),
                    );
                    None
                }
                (None, _) => None,
            };
            if let (Some(p), Some(c)) = (product, plus.get(campaign as usize))
                && !c.products.contains(&p)
            {
                v.err(
                    r.product.as_ref().map_or(r.at.span(), |x| x.span()),
                    "the product is not in this collaboration: its free samples apply only to its own products",
                    Some(RuleId::Plus21),
                );
            }
            // rule: PLUS-15 — new rates only in an edit (accepted before confirmation)
            if which != 2
                && let Some(sp) = r
                    .rate
                    .as_ref()
                    .map(|x| x.span())
                    .or(r.shop_ads_rate.as_ref().map(|x| x.span()))
            {
                v.err(
                    sp,
                    "`rate` and `shop_ads_rate` belong to plus_edits",
                    Some(RuleId::Plus15),
                );
            }
            // rule: PLUS-22 — a scripted answer to the ads prompt
            let authorises_ads = match (&r.authorises_ads, which) {
                (Some(a), 0) => {
                    if plus.get(campaign as usize).is_some_and(|c| !c.ads_prompt) {
                        v.err(
                            a.span(),
                            "`authorises_ads` answers the ads prompt, but this collaboration has no `ads_prompt = true`",
                            Some(RuleId::Plus22),
                        );
                    }
                    Some(*a.get_ref())
                }
                (Some(a), _) => {
                    v.err(
                        a.span(),
                        "`authorises_ads` belongs to plus_joins",
                        Some(RuleId::Plus22),
                    );
                    None
                }
                (None, _) => None,
            };
            match (which, creator) {
                (0, Some(creator)) => Some(Action::PlusJoin {
                    campaign: PlusId(campaign),
                    creator,
                    authorises_ads,
                }),
                (1, Some(creator)) => Some(Action::PlusSampleRequest {
                    campaign: PlusId(campaign),
                    creator,
                    product,
                }),
                (2, _) => Some(Action::PlusEdit {
                    campaign: PlusId(campaign),
                    parts: crate::rules::changes::PlusParts {
                        rate: r.rate.as_ref().map(|x| v.rate(x)),
                        shop_ads_rate: r.shop_ads_rate.as_ref().map(|x| v.rate(x)),
                    },
                }),
                (3, _) => Some(Action::PlusCancel(PlusId(campaign))),
                _ => None,
            }
        });
    }
}
