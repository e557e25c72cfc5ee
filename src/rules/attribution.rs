//! Attribution: which rate a creator earns on an order line, from which plan, by which rules.
//!
//! One function, [`resolve`], walks the candidate plans in the documented precedence order
//! (docs/attribution.md) and returns the first that applies, so a creator earns exactly one
//! commission per order line (ATTR-1). With a collector it also reports every candidate and why
//! it lost, which is what `affsim explain` prints.

use serde::Serialize;

use crate::model::{CreatorId, DistributorId, ProductId, SellerId, Traffic};
use crate::money::Rate;
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::plans::{Books, PlanRef};
use crate::time::SimTime;

/// What a showcase entry that came from a Target or Plus pays once that plan has ended
/// (`rules.ended_plan_entry`; issue 14: the seeds speak only for creators who promoted through
/// Open, who revert to the Open rate, seed 000).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndedPlanEntry {
    /// Default: what the creator would earn without the ended plan — the Open rate in force if
    /// approved for Open (seed 000), the Shop plan for a product in no Open plan (SHOP-1), else
    /// nothing.
    #[default]
    ApprovedOnly,
    /// The entry carries over to Open: from the plan's end the creator earns the Open rate in
    /// force as if approved then.
    OpenRate,
}

/// Which rate an order from an ad on a creator-authorised video earns (PLUS-10), where a creator
/// holds several plans (`rules.ad_precedence`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdPrecedence {
    /// The seeds' behaviour (default): the plan is chosen by the standard precedence — Target and
    /// Plus always supersede Open (seed 001, seed 000) — and pays its own Shop Ads rate if it
    /// sets one, else its standard rate.
    #[default]
    Plan,
    /// The help centre's H-5 order: the first Shop Ads rate that exists (distributor, Target,
    /// Plus, Open), then the standard order.
    ShopAdsFirst,
}

/// How a product came to be in a creator's showcase.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "via", content = "index", rename_all = "kebab-case")]
pub enum Via {
    /// Approved for the product's Open listing (OPEN-2).
    Open(u32),
    /// Added under the seller's Shop plan (SHOP-1).
    Shop,
    /// Added through a distributor link (DIST-4).
    Link(u32),
    /// Promoted under an accepted Target invitation (no Open approval implied).
    Target(u32),
    /// Promoted as a Collaboration Plus participant (no Open approval implied).
    Plus(u32),
}

/// One product in a creator's showcase.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShowcaseEntry {
    pub product: ProductId,
    pub via: Via,
    /// When the creator started promoting it (H-4 lock applies to creators promoting before a
    /// decrease).
    pub since: SimTime,
}

/// The question: what does `creator` earn on an order of `product` at `at` via `traffic`?
#[derive(Copy, Clone, Debug)]
pub struct Query {
    pub creator: CreatorId,
    pub product: ProductId,
    pub seller: SellerId,
    pub at: SimTime,
    pub traffic: Traffic,
    /// For ad traffic: the ad uses a creator-authorised video (PLUS-10).
    pub authorised: bool,
    /// The creator's showcase entry for the product, if any.
    pub entry: Option<ShowcaseEntry>,
    /// When the creator was approved for the product's Open listing, if ever (OPEN-2).
    pub open_since: Option<SimTime>,
    /// The product is affiliate-eligible; no plan pays on one that is not (SHOP-1, PLUS-8).
    pub eligible: bool,
}

/// The answer: the rate that applies and where it came from (ATTR-5 provenance).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub plan: PlanRef,
    /// The creator's rate.
    pub rate: Rate,
    /// For distributor links: the distributor and its rate (DIST-6).
    pub distributor: Option<(DistributorId, Rate)>,
    /// True when the rate is a Shop Ads rate (H-5).
    pub shop_ads: bool,
    /// When the rate took effect.
    pub since: SimTime,
    pub rules: RuleSet,
}

/// Why a candidate plan did not decide the rate.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// This candidate decided the rate.
    Applied,
    /// A candidate earlier in the precedence order applied (ATTR-1: one commission per line).
    Superseded,
    /// The plan exists for this creator and product but does not apply now.
    Inactive,
}

/// A plan that could have paid this order line, for explanations.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub plan: PlanRef,
    pub rate: Option<Rate>,
    pub shop_ads: bool,
    pub outcome: Outcome,
    /// Why, in words, for inactive candidates.
    pub note: &'static str,
    pub rules: RuleSet,
}

/// Resolves the rate without collecting candidates: the hot path.
pub fn resolve(books: &Books, q: &Query) -> Option<Resolution> {
    resolve_with(books, q, &mut |_| {})
}

/// Collects offers in precedence order: the first wins, the rest are reported superseded.
struct Offers<'a> {
    won: Option<Resolution>,
    /// Candidates seen: more than one means the product is in several collaborations (ATTR-4).
    seen_count: u32,
    seen: &'a mut dyn FnMut(Candidate),
}

impl Offers<'_> {
    fn offer(&mut self, r: Resolution) {
        self.seen_count += 1;
        let outcome = if self.won.is_some() {
            Outcome::Superseded
        } else {
            Outcome::Applied
        };
        (self.seen)(Candidate {
            plan: r.plan,
            rate: Some(r.rate),
            shop_ads: r.shop_ads,
            outcome,
            note: "",
            rules: r.rules,
        });
        if self.won.is_none() {
            self.won = Some(r);
        }
    }
    fn inactive(&mut self, plan: PlanRef, rate: Option<Rate>, note: &'static str, rules: RuleSet) {
        self.seen_count += 1;
        (self.seen)(Candidate {
            plan,
            rate,
            shop_ads: false,
            outcome: Outcome::Inactive,
            note,
            rules,
        });
    }
}

/// Resolves the rate and reports every candidate to `seen`, in precedence order.
///
/// Standard precedence (ATTR-5, docs/attribution.md): Target → Collaboration Plus →
/// distributor link → Open → Shop plan. For an order from an ad on a creator-authorised video
/// (PLUS-10) the Shop Ads rates come first — distributor, Target, Plus, Open (H-5) — then the
/// standard order. The Shop plan covers only products in no Open plan; an Open product needs
/// an approved application (OPEN-2).
// rule: ATTR-1
// rule: ATTR-5
pub fn resolve_with(
    books: &Books,
    q: &Query,
    seen: &mut dyn FnMut(Candidate),
) -> Option<Resolution> {
    let mut o = Offers {
        won: None,
        seen_count: 0,
        seen,
    };
    if !q.eligible {
        // rule: SHOP-1
        o.inactive(
            PlanRef::None,
            None,
            "the product is not affiliate-eligible",
            RuleSet::of(&[RuleId::Shop1]),
        );
        return None;
    }

    // Target terms that apply now (ATTR-2 needs an accepted invitation, TARGET-2).
    let target = books.target.active(q.creator, q.product, q.at);
    let target_plan = |s: u32| PlanRef::Target(books.target.slots[s as usize].invitation);
    // Open listing and whether this creator may earn on it.
    let listing = books
        .open_by_product
        .get(q.product.idx())
        .copied()
        .flatten();
    // A Plus participant with no Plus rate earns the Open rate (PLUS-12) without an application.
    let plus_pre = books.plus.active(q.creator, q.product, q.at);
    let plus_joined = plus_pre.map(|(i, _)| books.plus.participants[i as usize].joined);
    // rule: PLUS-12 — option rules.ended_plan_entry: an entry from an ended Target (ATTR-2
    // no longer applies) or Plus carries over to Open from the plan's end with "open-rate"
    let ended_entry = match (books.ended_plan_entry, q.entry.map(|e| e.via)) {
        (EndedPlanEntry::OpenRate, Some(Via::Target(i))) => {
            let end = books.target.invitations[i as usize].ends;
            (q.at >= end).then_some((end, RuleId::Attr2))
        }
        (EndedPlanEntry::OpenRate, Some(Via::Plus(c))) => {
            let end = books.plus.campaigns[c as usize].end;
            (q.at >= end).then_some((end, RuleId::Plus12))
        }
        _ => None,
    };
    let open_joined = listing.and(
        q.open_since
            .or(plus_joined.filter(|_| plus_pre.is_some_and(|(_, c)| c.rate.is_none())))
            .or(ended_entry.map(|e| e.0)),
    );
    let carried = q.open_since.is_none() && plus_pre.is_none();

    // Plus terms that apply now: a participant in the period (ATTR-3).
    let plus = books
        .plus
        .active(q.creator, q.product, q.at)
        .map(|(i, camp)| (i, camp, books.plus.participants[i as usize].campaign));

    // The creator's distributor link for this product, if it pays now (DIST-5).
    let link = match q.entry {
        Some(ShowcaseEntry {
            via: Via::Link(r), ..
        }) => Some(r),
        _ => None,
    };
    let dist = link.filter(|&r| books.dist.valid(r, q.at)).map(|r| {
        let reg = &books.dist.registrations[r as usize];
        let c = &books.dist.campaigns[reg.campaign as usize];
        (reg, c, PlanRef::Distributor(reg.campaign))
    });

    // rule: PLUS-10
    let ad = q.traffic == Traffic::Ad && q.authorised;
    // rule: ATTR-2 — with the seeds' precedence (default), an ad order stays with the plan the
    // standard order picks, at that plan's Shop Ads rate if it sets one (`ad_plan`); with the
    // help centre's (H-5 option) the Shop Ads rates come first.
    let ad_plan = ad && books.ad_precedence == AdPrecedence::Plan;
    if ad && books.ad_precedence == AdPrecedence::ShopAdsFirst {
        // rule: H-5
        if let Some((reg, c, plan)) = dist
            && let Some(rate) = reg.shop_ads_rate
        {
            o.offer(Resolution {
                plan,
                rate,
                distributor: Some((c.distributor, reg.distributor_rate)),
                shop_ads: true,
                since: c.promotion.0,
                rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Dist6]),
            });
        }
        if let Some((s, tp, since)) = target
            && let Some(rate) = tp.shop_ads_rate
        {
            o.offer(Resolution {
                plan: target_plan(s),
                rate,
                distributor: None,
                shop_ads: true,
                since,
                rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Target1, RuleId::Attr2]),
            });
        }
        if let Some((_, camp, c)) = plus
            && let Some(rate) = camp.shop_ads_rate
        {
            o.offer(Resolution {
                plan: PlanRef::Plus(c),
                rate,
                distributor: None,
                shop_ads: true,
                since: camp.start,
                rules: RuleSet::of(&[
                    RuleId::H5,
                    RuleId::Plus9,
                    RuleId::Plus10,
                    RuleId::Plus11,
                    RuleId::Attr3,
                ]),
            });
        }
        if let (Some(l), Some(_)) = (listing, open_joined)
            && let Some((rate, since)) = books.open_shop_ads(l, q.at)
        {
            o.offer(Resolution {
                plan: PlanRef::Open(books.open_listings[l as usize].plan),
                rate,
                distributor: None,
                shop_ads: true,
                since,
                rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Open1]),
            });
        }
    }

    // rule: ATTR-2
    if let Some((s, tp, since)) = target {
        let mut rules = RuleSet::of(&[RuleId::Target1, RuleId::Target2, RuleId::Attr2]);
        let inv = &books.target.invitations[books.target.slots[s as usize].invitation as usize];
        if inv.creator_rates.iter().any(|x| x.0 == q.creator) {
            // rule: TARGET-9 — the creator's own rate (Invitation::rate_for)
            rules.insert(RuleId::Target9);
        }
        if ad {
            rules.insert(RuleId::H5);
        }
        let ads = tp.shop_ads_rate.filter(|_| ad_plan);
        if ads.is_some() {
            rules.insert(RuleId::Plus10);
        }
        o.offer(Resolution {
            plan: target_plan(s),
            rate: ads.unwrap_or(tp.rate),
            distributor: None,
            shop_ads: ads.is_some(),
            since,
            rules,
        });
    }
    for (s, why) in books.target.inactive(q.creator, q.product, q.at) {
        let inv = &books.target.invitations[books.target.slots[s as usize].invitation as usize];
        let rate = inv.terms_for(q.creator, q.product).map(|p| p.rate);
        o.inactive(target_plan(s), rate, why, RuleSet::of(&[RuleId::Target2]));
    }

    // rule: ATTR-3
    // rule: PLUS-11
    // rule: PLUS-12
    if let Some((_, camp, c)) = plus {
        match (camp.shop_ads_rate.filter(|_| ad_plan), camp.rate) {
            (Some(rate), _) => o.offer(Resolution {
                plan: PlanRef::Plus(c),
                rate,
                distributor: None,
                shop_ads: true,
                since: camp.start,
                rules: RuleSet::of(&[
                    RuleId::H5,
                    RuleId::Plus9,
                    RuleId::Plus10,
                    RuleId::Plus11,
                    RuleId::Attr3,
                ]),
            }),
            (None, Some(rate)) => {
                let mut rules = RuleSet::of(&[RuleId::Plus11, RuleId::Attr3]);
                if ad {
                    rules.insert(RuleId::H5);
                }
                o.offer(Resolution {
                    plan: PlanRef::Plus(c),
                    rate,
                    distributor: None,
                    shop_ads: false,
                    since: camp.start,
                    rules,
                });
            }
            // The Open rate is named only where the product has an Open plan.
            (None, None) => o.inactive(
                PlanRef::Plus(c),
                None,
                if listing.is_some() {
                    "the collaboration sets no Plus rate: the Open rate applies (PLUS-12)"
                } else {
                    "the collaboration sets no Plus rate and the product is in no Open plan: the next candidate applies (PLUS-12)"
                },
                RuleSet::of(&[RuleId::Plus12]),
            ),
        }
    }

    // rule: DIST-6
    if let Some((reg, c, plan)) = dist {
        let mut rules = RuleSet::of(&[RuleId::Dist4, RuleId::Dist5, RuleId::Dist6]);
        if ad {
            rules.insert(RuleId::H5);
        }
        let ads = reg.shop_ads_rate.filter(|_| ad_plan);
        if ads.is_some() {
            rules.insert(RuleId::Plus10);
        }
        o.offer(Resolution {
            plan,
            rate: ads.unwrap_or(reg.creator_rate),
            distributor: Some((c.distributor, reg.distributor_rate)),
            shop_ads: ads.is_some(),
            since: c.promotion.0,
            rules,
        });
    } else if let Some(r) = link {
        // rule: DIST-5
        let reg = &books.dist.registrations[r as usize];
        o.inactive(PlanRef::Distributor(reg.campaign), Some(reg.creator_rate), "the distributor link is not valid now: outside the promotion window or terminated (DIST-5)", RuleSet::of(&[RuleId::Dist5]));
    }

    // rule: OPEN-1
    if let Some(l) = listing {
        let plan = PlanRef::Open(books.open_listings[l as usize].plan);
        match open_joined {
            Some(_) if ad_plan && books.open_shop_ads(l, q.at).is_some() => {
                if let Some((rate, since)) = books.open_shop_ads(l, q.at) {
                    o.offer(Resolution {
                        plan,
                        rate,
                        distributor: None,
                        shop_ads: true,
                        since,
                        rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Open1]),
                    });
                }
            }
            Some(joined) => {
                if let Some((rate, since, mut rules)) = books.open_rate(l, q.at, joined) {
                    if o.won.is_none() && ad {
                        rules.insert(RuleId::H5);
                    }
                    if let Some((_, id)) = ended_entry.filter(|_| carried) {
                        rules.insert(id);
                    }
                    o.offer(Resolution {
                        plan,
                        rate,
                        distributor: None,
                        shop_ads: false,
                        since,
                        rules,
                    });
                }
            }
            None => {
                // rule: OPEN-2
                o.inactive(
                    plan,
                    books.open_rate(l, q.at, q.at).map(|r| r.0),
                    "creator not approved for the Open plan (OPEN-2)",
                    RuleSet::of(&[RuleId::Open2]),
                );
            }
        }
    } else if let Some((rate, since)) = books.shop_rate(q.seller, q.at) {
        // rule: SHOP-1
        o.offer(Resolution {
            plan: PlanRef::Shop(q.seller.0),
            rate,
            distributor: None,
            shop_ads: false,
            since,
            rules: RuleSet::of(&[RuleId::Shop1]),
        });
    }
    let several = o.seen_count > 1;
    let plus_without_rate = plus.is_some_and(|(_, camp, _)| camp.rate.is_none());
    o.won.map(|mut w| {
        w.rules.insert(RuleId::Attr1);
        // rule: ATTR-5 — the resolution carries its provenance: plan, rules, rate, since
        w.rules.insert(RuleId::Attr5);
        if several {
            // rule: ATTR-4
            w.rules.insert(RuleId::Attr4);
        }
        if plus_without_rate && matches!(w.plan, PlanRef::Open(_)) {
            // rule: PLUS-12 — no Plus rate: the participant earns the Open rate
            w.rules.insert(RuleId::Plus12);
        }
        w
    })
}
