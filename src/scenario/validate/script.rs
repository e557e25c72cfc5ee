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
    for rc in &raw.rate_changes {
        let at = time_at(v, &cal, &rc.at);
        match (&rc.plan, &rc.product, &rc.seller) {
            (_, _, Some(s)) if rc.plan.is_none() && rc.product.is_none() => {
                let rate = v.rate(&rc.rate);
                if let Some(sid) = sellers.get(v, s) {
                    if named.sellers[sid as usize].shop_plan_rate.is_none() {
                        v.err(s.span(), format!("seller `{}` has no Shop plan to change", s.get_ref()), Some(RuleId::Shop1));
                    }
                    script.push(Scripted { at, action: Action::ShopRate { seller: SellerId(sid), rate } });
                }
            }
            (plan, product, None) if plan.is_some() || product.is_some() => {
                let rate = v.rate(&rc.rate);
                let pid = product.as_ref().and_then(|p| products.get(v, p));
                let plan_idx = match plan {
                    Some(p) => plan_names.get(v, p),
                    None => pid.and_then(|pid| {
                        let name = product_plan.get(&pid)?;
                        plan_names.map.get(name).map(|x| x.0)
                    }),
                };
                match plan_idx {
                    Some(pi) => {
                        if let Some(pid) = pid
                            && !open_plans[pi as usize].listings.iter().any(|(p, _)| p.0 == pid) {
                                let sp = product.as_ref().map(|p| p.span()).unwrap_or(rc.at.span());
                                v.err(sp, "the product is not in that Open plan", Some(RuleId::Open4));
                            }
                        script.push(Scripted { at, action: Action::OpenRate { plan: OpenPlanId(pi), product: pid.map(ProductId), rate, shop_ads: rc.shop_ads } });
                    }
                    None => {
                        if plan.is_none() {
                            let sp = product.as_ref().map(|p| p.span()).unwrap_or(rc.at.span());
                            v.err(sp, "the product is not in any Open plan", Some(RuleId::Open4));
                        }
                    }
                }
            }
            _ => v.err(rc.at.span(), "a rate change names either `seller` (its Shop plan) or an Open `plan` and/or `product`", Some(RuleId::Open4)),
        }
    }
}

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
    let mut act = |v: &mut V, list: &[ActRaw], mk: fn(CreatorId, ProductId) -> Action| {
        for a in list {
            let at = time_at(v, &cal, &a.at);
            let c = creators.get(v, &a.creator);
            let p = products.get(v, &a.product);
            if let (Some(c), Some(p)) = (c, p) {
                script.push(Scripted {
                    at,
                    action: mk(CreatorId(c), ProductId(p)),
                });
            }
        }
    };
    act(v, &raw.applications, |creator, product| Action::Apply {
        creator,
        product,
    });
    act(v, &raw.showcase_adds, |creator, product| {
        Action::ShowcaseAdd { creator, product }
    });
    act(v, &raw.sample_requests, |creator, product| {
        Action::SampleRequest { creator, product }
    });
    for p in &raw.posts {
        let at = time_at(v, &cal, &p.at);
        let c = creators.get(v, &p.creator);
        let pr = products.get(v, &p.product);
        let kind = p.kind.unwrap_or(ContentKind::Video);
        if let (Some(c), Some(pr)) = (c, pr) {
            if kind == ContentKind::Live && !named.creators[c as usize].live {
                v.err(
                    p.creator.span(),
                    format!("creator `{}` cannot go LIVE", p.creator.get_ref()),
                    None,
                );
            }
            script.push(Scripted {
                at,
                action: Action::Post {
                    creator: CreatorId(c),
                    product: ProductId(pr),
                    kind,
                    authorised: p.authorised,
                },
            });
        }
    }
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
    for r in &raw.returns {
        let at = time_at(v, &cal, &r.at);
        let Some(oi) = order_names.get(v, &r.order) else {
            continue;
        };
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
        {
            let placed = o.at;
            if at < placed {
                v.err(
                    r.at.span(),
                    format!(
                        "the return is dated before order `{}` is placed ({})",
                        r.order.get_ref(),
                        cal.datetime(placed).format("%Y-%m-%d %H:%M")
                    ),
                    Some(RuleId::Order2),
                );
            }
        }
        script.push(Scripted {
            at,
            action: Action::Return { order: oi, amount },
        });
    }
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
    for r in &raw.target_rate_changes {
        let at = time_at(v, &calendar, &r.at);
        let rate = v.rate(&r.rate);
        let Some(i) = inv_names.get(v, &r.invitation) else {
            continue;
        };
        let inv = &invitations[i as usize];
        let creator = match &r.creator {
            Some(c) => {
                let Some(cid) = creators.get(v, c).map(CreatorId) else {
                    continue;
                };
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
                    continue;
                }
                Some(cid)
            }
            None => None,
        };
        let product = match &r.product {
            Some(p) => {
                let Some(pid) = products.get(v, p).map(ProductId) else {
                    continue;
                };
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
                    continue;
                }
                Some(pid)
            }
            None => None,
        };
        script.push(Scripted {
            at,
            action: Action::TargetRate {
                invitation: InvitationId(i),
                product,
                creator,
                rate,
            },
        });
    }
    for r in &raw.target_responses {
        let at = time_at(v, &calendar, &r.at);
        let Some(accept) = r.accept else {
            v.err(
                r.at.span(),
                "a Target response needs `accept = true` or `accept = false`",
                Some(RuleId::Target2),
            );
            continue;
        };
        if r.approve.is_some() {
            v.err(
                r.at.span(),
                "`approve` belongs to a video review, not a response",
                Some(RuleId::Target2),
            );
        }
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::TargetResponse {
                    invitation: InvitationId(invitation),
                    creator,
                    accept,
                },
            });
        }
    }
    for r in &raw.video_submissions {
        let at = time_at(v, &calendar, &r.at);
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::VideoSubmission {
                    invitation: InvitationId(invitation),
                    creator,
                },
            });
        }
    }
    for r in &raw.video_reviews {
        let at = time_at(v, &calendar, &r.at);
        let Some(approve) = r.approve else {
            v.err(
                r.at.span(),
                "a video review needs `approve = true` or `approve = false`",
                Some(RuleId::Target4),
            );
            continue;
        };
        if r.accept.is_some() {
            v.err(
                r.at.span(),
                "`accept` belongs to a Target response, not a review",
                Some(RuleId::Target4),
            );
        }
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::VideoReview {
                    invitation: InvitationId(invitation),
                    creator,
                    approve,
                },
            });
        }
    }
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
    for r in &raw.registrations {
        let at = time_at(v, &calendar, &r.at);
        let Some((campaign, product)) = camp_product(v, &r.campaign, &r.product) else {
            continue;
        };
        if split {
            // rule: H-9 — the seller registers a total; the distributor sets the creator's part
            let (Some(total), None, None) = (&r.total_rate, &r.creator_rate, &r.distributor_rate)
            else {
                v.err(r.at.span(), "with rules.distributor_split = \"distributor\", a registration gives `total_rate` only", Some(RuleId::H9));
                continue;
            };
            let total = v.rate(total);
            script.push(Scripted {
                at,
                action: Action::RegisterTotal {
                    campaign: CampaignId(campaign),
                    product,
                    total,
                },
            });
            continue;
        }
        let (Some(cr), Some(dr), None) = (&r.creator_rate, &r.distributor_rate, &r.total_rate)
        else {
            v.err(r.at.span(), "a registration gives `creator_rate` and `distributor_rate` (DIST-2; `total_rate` only with rules.distributor_split = \"distributor\")", Some(RuleId::Dist2));
            continue;
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
        script.push(Scripted {
            at,
            action: Action::Register {
                campaign: CampaignId(campaign),
                product,
                creator_rate,
                distributor_rate,
                shop_ads_rate,
            },
        });
    }
    for r in &raw.registration_reviews {
        let at = time_at(v, &calendar, &r.at);
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
        if let Some((campaign, product)) = camp_product(v, &r.campaign, &r.product) {
            script.push(Scripted {
                at,
                action: Action::ReviewRegistration {
                    campaign: CampaignId(campaign),
                    product,
                    approve: r.approve,
                    reason: r.reason.clone(),
                    creator_part,
                },
            });
        }
    }
    for r in &raw.link_adds {
        let at = time_at(v, &calendar, &r.at);
        let creator = creators.get(v, &r.creator).map(CreatorId);
        if let (Some((campaign, product)), Some(creator)) =
            (camp_product(v, &r.campaign, &r.product), creator)
        {
            script.push(Scripted {
                at,
                action: Action::AddLink {
                    campaign: CampaignId(campaign),
                    creator,
                    product,
                    choice: r.choice,
                },
            });
        }
    }
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
    for r in &raw.resumptions {
        let at = time_at(v, &calendar, &r.at);
        let campaign = camp_names.get(v, &r.campaign);
        let seller = sellers.get(v, &r.seller).map(SellerId);
        if let Some(u) = &r.until {
            v.err(
                u.span(),
                "`until` belongs to [[script.terminations]], not to a resumption",
                Some(RuleId::Dist8),
            );
        }
        if let (Some(campaign), Some(seller)) = (campaign, seller) {
            script.push(Scripted {
                at,
                action: Action::Resume {
                    campaign: CampaignId(campaign),
                    seller,
                    due: false,
                },
            });
        }
    }
    for r in &raw.campaign_edits {
        let at = time_at(v, &calendar, &r.at);
        let promotion_start = r
            .promotion_start
            .as_ref()
            .map(|ps| (time_at(v, &calendar, ps), ps.span()));
        let min_c = r.min_creator_rate.as_ref().map(|x| v.rate(x));
        let min_d = r.min_distributor_rate.as_ref().map(|x| v.rate(x));
        if promotion_start.is_none() && min_c.is_none() && min_d.is_none() {
            v.err(r.at.span(), "a campaign edit changes `promotion_start`, `min_creator_rate` or `min_distributor_rate`", Some(RuleId::H9));
        }
        if let Some(campaign) = camp_names.get(v, &r.campaign) {
            let c = &campaigns[campaign as usize].campaign;
            if let Some((ps, span)) = &promotion_start
                && (*ps >= c.promotion.1 || *ps < c.registration.0)
            {
                v.err(span.clone(), "the new promotion start must fall between registration start and promotion end", Some(RuleId::H9));
            }
            script.push(Scripted {
                at,
                action: Action::EditCampaign {
                    campaign: CampaignId(campaign),
                    promotion_start: promotion_start.map(|x| x.0),
                    min_rates: (min_c, min_d),
                },
            });
        }
    }
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
        for r in list {
            let at = time_at(v, &calendar, &r.at);
            let Some(campaign) = plus_names.get(v, &r.campaign) else {
                continue;
            };
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
            let action = match (which, creator) {
                (0, Some(creator)) => Action::PlusJoin {
                    campaign: PlusId(campaign),
                    creator,
                    authorises_ads,
                },
                (1, Some(creator)) => Action::PlusSampleRequest {
                    campaign: PlusId(campaign),
                    creator,
                    product,
                },
                (2, _) => Action::PlusEdit(PlusId(campaign)),
                (3, _) => Action::PlusCancel(PlusId(campaign)),
                _ => continue,
            };
            script.push(Scripted { at, action });
        }
    }
}
