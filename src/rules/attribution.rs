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
use crate::rules::distributor::{Campaign, Registration};
use crate::rules::ids::*;
use crate::rules::plans::{Books, PlanRef};
use crate::rules::plus::PlusCampaign;
use crate::rules::target::TargetProduct;
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
pub(crate) enum Via {
    /// Approved for the product's Open listing (OPEN-2).
    Open(ListingId),
    /// Added under the seller's Shop plan (SHOP-1).
    Shop,
    /// Added through a distributor link (DIST-4).
    Link(RegistrationId),
    /// Promoted under an accepted Target invitation (no Open approval implied).
    Target(InvitationId),
    /// Promoted as a Collaboration Plus participant (no Open approval implied).
    Plus(PlusId),
}

/// One product in a creator's showcase.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShowcaseEntry {
    pub product: ProductId,
    pub(crate) via: Via,
    /// When the creator started promoting it (H-4 lock applies to creators promoting before a
    /// decrease).
    pub(crate) since: SimTime,
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
    pub(crate) since: SimTime,
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
    if let Some(r) = resolve_plain(books, q) {
        return r;
    }
    resolve_with(books, q, &mut |_| {})
}

/// [`resolve`] for a line that only the Open plan or the Shop plan can pay, which is most of
/// them: an eligible product, not an authorised ad (PLUS-10), a showcase entry (if any) from
/// Open or the Shop plan (no link, no Target or Plus entry), a creator with no Target slot and
/// no Plus participation at all (their bits in the books' pair indexes). The Target, Plus and
/// link candidates (and the Shop Ads rates) are then absent, so [`resolve_with`]'s walk comes to
/// its last step alone; this runs that step — the same [`offer_open_or_shop`], on the
/// [`Found`] that [`Found::of`] gives such a query — and the same [`finish`], without looking
/// the absent candidates up one by one (issue 18, session 17: about 270 instructions a
/// resolution, twice per placed line). `None`: not such a line, walk them all. The test
/// `the_plain_path_resolves_as_the_full_walk` compares the two on every precedence row.
// rule: ATTR-1
// rule: ATTR-5
#[inline]
fn resolve_plain(books: &Books, q: &Query) -> Option<Option<Resolution>> {
    let plain_entry = match q.entry {
        None => true,
        Some(e) => matches!(e.via, Via::Open(_) | Via::Shop),
    };
    if !q.eligible
        || !plain_entry
        || (q.traffic == Traffic::Ad && q.authorised)
        || books.target.by_pair.has_creator(q.creator.0)
        || books.plus.by_pair.has_creator(q.creator.0)
    {
        return None;
    }
    let open = books.product_open(q.product);
    let listing = open.listing();
    let f = Found {
        target: None,
        listing,
        open,
        // no Plus, no ended Target or Plus entry: the approval alone
        open_joined: listing.and(q.open_since),
        plus: None,
        ended_entry: None,
        carried: q.open_since.is_none(),
        link: None,
        dist: None,
        ad: false,
        ad_plan: false,
    };
    let mut o = Offers {
        won: None,
        seen_count: 0,
        seen: &mut |_| {},
    };
    offer_open_or_shop(&mut o, books, q, &f);
    Some(finish(o, &f))
}

/// Collects offers in precedence order: the first wins, the rest are reported superseded.
struct Offers<'a> {
    won: Option<Resolution>,
    /// Candidates seen: more than one means the product is in several collaborations (ATTR-4).
    seen_count: u32,
    seen: &'a mut dyn FnMut(Candidate),
}

impl Offers<'_> {
    /// Inlined: on [`resolve_plain`]'s path the collector is the no-op closure, whose call (and
    /// the [`Candidate`] built for it) then folds away (session 17: out of line it cost ~30
    /// instructions an offer).
    #[inline(always)]
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
pub(crate) fn resolve_with(
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
    let f = Found::of(books, q);
    if f.ad && books.ad_precedence == AdPrecedence::ShopAdsFirst {
        offer_shop_ads_first(&mut o, books, q, &f);
    }
    offer_target(&mut o, books, q, &f);
    offer_plus(&mut o, &f);
    offer_link(&mut o, books, &f);
    offer_open_or_shop(&mut o, books, q, &f);
    finish(o, &f)
}

/// The winning offer with the rules every resolution carries (ATTR-1, ATTR-5) and those the
/// candidates seen add (ATTR-4, PLUS-12).
#[inline(always)]
fn finish(o: Offers<'_>, f: &Found<'_>) -> Option<Resolution> {
    let several = o.seen_count > 1;
    let plus_without_rate = f.plus.is_some_and(|(_, camp, _)| camp.rate.is_none());
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

/// What [`resolve_with`] looks up once about a query before walking the candidates.
struct Found<'b> {
    /// Target terms that apply now (ATTR-2 needs an accepted invitation, TARGET-2).
    target: Option<(SlotId, TargetProduct, SimTime)>,
    /// The product's Open listing.
    listing: Option<ListingId>,
    /// The product's Open entry: the listing, its plan and, while unchanged, its rate.
    open: crate::rules::plans::ProductOpen,
    /// Since when the creator may earn on the Open listing: its approval, or its joining of a
    /// Plus with no Plus rate (PLUS-12, without an application).
    open_joined: Option<SimTime>,
    /// Plus terms that apply now: a participant in the period (ATTR-3), with the campaign index.
    plus: Option<(ParticipantId, &'b PlusCampaign, PlusId)>,
    /// An entry from an ended Target or Plus carried over to Open (`rules.ended_plan_entry =
    /// "open-rate"`): the plan's end and the rule that carries it.
    ended_entry: Option<(SimTime, RuleId)>,
    /// The creator holds neither an Open approval nor a running Plus: an Open line is a
    /// carried-over entry's.
    carried: bool,
    /// The creator's distributor link for this product, if its showcase entry is one.
    link: Option<RegistrationId>,
    /// The link, if it pays now (DIST-5).
    dist: Option<(&'b Registration, &'b Campaign, PlanRef)>,
    /// An order from an ad on a creator-authorised video (PLUS-10).
    ad: bool,
    /// Such an order under the seeds' precedence: it stays with the plan the standard order
    /// picks, at that plan's Shop Ads rate if it sets one.
    ad_plan: bool,
}

impl<'b> Found<'b> {
    #[inline(always)]
    fn of(books: &'b Books, q: &Query) -> Found<'b> {
        let target = books.target.active(q.creator, q.product, q.at);
        let open = books.product_open(q.product);
        let listing = open.listing();
        let plus_pre = books.plus.active(q.creator, q.product, q.at);
        let plus_joined = plus_pre.map(|(i, _)| books.plus.participants[i.index()].joined);
        // rule: PLUS-12 — option rules.ended_plan_entry: an entry from an ended Target (ATTR-2
        // no longer applies) or Plus carries over to Open from the plan's end with "open-rate"
        let ended_entry = match (books.ended_plan_entry, q.entry.map(|e| e.via)) {
            (EndedPlanEntry::OpenRate, Some(Via::Target(i))) => {
                let end = books.target.invitations[i.index()].ends;
                (q.at >= end).then_some((end, RuleId::Attr2))
            }
            (EndedPlanEntry::OpenRate, Some(Via::Plus(c))) => {
                let end = books.plus.campaigns[c.index()].end;
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
        let plus = plus_pre.map(|(i, camp)| (i, camp, books.plus.participants[i.index()].campaign));
        let link = match q.entry {
            Some(ShowcaseEntry {
                via: Via::Link(r), ..
            }) => Some(r),
            _ => None,
        };
        let dist = link.filter(|&r| books.dist.valid(r, q.at)).map(|r| {
            let reg = &books.dist.registrations[r.index()];
            let c = &books.dist.campaigns[reg.campaign.index()];
            (reg, c, PlanRef::Distributor(reg.campaign))
        });
        // rule: PLUS-10
        let ad = q.traffic == Traffic::Ad && q.authorised;
        // rule: ATTR-2 — with the seeds' precedence (default), an ad order stays with the plan the
        // standard order picks, at that plan's Shop Ads rate if it sets one (`ad_plan`); with the
        // help centre's (H-5 option) the Shop Ads rates come first.
        let ad_plan = ad && books.ad_precedence == AdPrecedence::Plan;
        Found {
            target,
            listing,
            open,
            open_joined,
            plus,
            ended_entry,
            carried,
            link,
            dist,
            ad,
            ad_plan,
        }
    }
}

fn target_plan(books: &Books, s: SlotId) -> PlanRef {
    PlanRef::Target(books.target.slots[s.index()].invitation)
}

/// A Plus collaboration's Shop Ads rate (PLUS-9, PLUS-10), in either precedence.
#[inline(always)]
fn plus_shop_ads(camp: &PlusCampaign, c: PlusId, rate: Rate) -> Resolution {
    Resolution {
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
    }
}

/// An Open listing's Shop Ads rate (PLUS-10), in either precedence.
#[inline(always)]
fn open_shop_ads(plan: PlanRef, rate: Rate, since: SimTime) -> Resolution {
    Resolution {
        plan,
        rate,
        distributor: None,
        shop_ads: true,
        since,
        rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Open1]),
    }
}

/// The help centre's H-5 order (`rules.ad_precedence = "shop-ads-first"`): the first Shop Ads
/// rate that exists — distributor, Target, Plus, Open.
#[inline(always)]
fn offer_shop_ads_first(o: &mut Offers<'_>, books: &Books, q: &Query, f: &Found<'_>) {
    // rule: H-5
    if let Some((reg, c, plan)) = f.dist
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
    if let Some((s, tp, since)) = f.target
        && let Some(rate) = tp.shop_ads_rate
    {
        o.offer(Resolution {
            plan: target_plan(books, s),
            rate,
            distributor: None,
            shop_ads: true,
            since,
            rules: RuleSet::of(&[RuleId::H5, RuleId::Plus10, RuleId::Target1, RuleId::Attr2]),
        });
    }
    if let Some((_, camp, c)) = f.plus
        && let Some(rate) = camp.shop_ads_rate
    {
        o.offer(plus_shop_ads(camp, c, rate));
    }
    if let (Some(l), Some(_)) = (f.listing, f.open_joined)
        && let Some((rate, since)) = books.open_shop_ads(l, q.at)
    {
        o.offer(open_shop_ads(
            PlanRef::Open(books.open_listings[l.index()].plan),
            rate,
            since,
        ));
    }
}

/// The Target candidate, and the invitations that name the product but do not apply now.
// rule: ATTR-2
#[inline(always)]
fn offer_target(o: &mut Offers<'_>, books: &Books, q: &Query, f: &Found<'_>) {
    if let Some((s, tp, since)) = f.target {
        let mut rules = RuleSet::of(&[RuleId::Target1, RuleId::Target2, RuleId::Attr2]);
        let inv = &books.target.invitations[books.target.slots[s.index()].invitation.index()];
        if inv.creator_rates.iter().any(|x| x.0 == q.creator) {
            // rule: TARGET-9 — the creator's own rate (Invitation::rate_for)
            rules.insert(RuleId::Target9);
        }
        if f.ad {
            rules.insert(RuleId::H5);
        }
        let ads = tp.shop_ads_rate.filter(|_| f.ad_plan);
        if ads.is_some() {
            rules.insert(RuleId::Plus10);
        }
        o.offer(Resolution {
            plan: target_plan(books, s),
            rate: ads.unwrap_or(tp.rate),
            distributor: None,
            shop_ads: ads.is_some(),
            since,
            rules,
        });
    }
    for (s, why) in books.target.inactive(q.creator, q.product, q.at) {
        let inv = &books.target.invitations[books.target.slots[s.index()].invitation.index()];
        let rate = inv.terms_for(q.creator, q.product).map(|p| p.rate);
        o.inactive(
            target_plan(books, s),
            rate,
            why,
            RuleSet::of(&[RuleId::Target2]),
        );
    }
}

/// The Collaboration Plus candidate.
// rule: ATTR-3
// rule: PLUS-11
// rule: PLUS-12
#[inline(always)]
fn offer_plus(o: &mut Offers<'_>, f: &Found<'_>) {
    let Some((_, camp, c)) = f.plus else { return };
    match (camp.shop_ads_rate.filter(|_| f.ad_plan), camp.rate) {
        (Some(rate), _) => o.offer(plus_shop_ads(camp, c, rate)),
        (None, Some(rate)) => {
            let mut rules = RuleSet::of(&[RuleId::Plus11, RuleId::Attr3]);
            if f.ad {
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
            if f.listing.is_some() {
                "the collaboration sets no Plus rate: the Open rate applies (PLUS-12)"
            } else {
                "the collaboration sets no Plus rate and the product is in no Open plan: the next candidate applies (PLUS-12)"
            },
            RuleSet::of(&[RuleId::Plus12]),
        ),
    }
}

/// The distributor link candidate: it pays the creator and the distributor part (DIST-6).
// rule: DIST-6
#[inline(always)]
fn offer_link(o: &mut Offers<'_>, books: &Books, f: &Found<'_>) {
    if let Some((reg, c, plan)) = f.dist {
        let mut rules = RuleSet::of(&[RuleId::Dist4, RuleId::Dist5, RuleId::Dist6]);
        if f.ad {
            rules.insert(RuleId::H5);
        }
        let ads = reg.shop_ads_rate.filter(|_| f.ad_plan);
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
    } else if let Some(r) = f.link {
        // rule: DIST-5
        let reg = &books.dist.registrations[r.index()];
        o.inactive(PlanRef::Distributor(reg.campaign), Some(reg.creator_rate), "the distributor link is not valid now: outside the promotion window or terminated (DIST-5)", RuleSet::of(&[RuleId::Dist5]));
    }
}

/// The Open candidate for a product in an Open plan, else the seller's Shop plan (SHOP-1).
// rule: OPEN-1
#[inline(always)]
fn offer_open_or_shop(o: &mut Offers<'_>, books: &Books, q: &Query, f: &Found<'_>) {
    if let Some(l) = f.listing {
        // The plan and, while unchanged, the rate from the product's entry (`open_rate_of`).
        let (plan, rate_at) = match f.open_joined {
            Some(joined) => books.open_rate_of(&f.open, q.at, joined),
            None => books.open_rate_of(&f.open, q.at, q.at),
        }
        .unwrap_or_else(|| {
            let plan = books.open_listings[l.index()].plan;
            (
                plan,
                books.open_rate(l, q.at, f.open_joined.unwrap_or(q.at)),
            )
        });
        let plan = PlanRef::Open(plan);
        match f.open_joined {
            Some(_) if f.ad_plan && books.open_shop_ads(l, q.at).is_some() => {
                if let Some((rate, since)) = books.open_shop_ads(l, q.at) {
                    o.offer(open_shop_ads(plan, rate, since));
                }
            }
            Some(_) => {
                if let Some((rate, since, mut rules)) = rate_at {
                    if o.won.is_none() && f.ad {
                        rules.insert(RuleId::H5);
                    }
                    if let Some((_, id)) = f.ended_entry.filter(|_| f.carried) {
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
                    rate_at.map(|r| r.0),
                    "creator not approved for the Open plan (OPEN-2)",
                    RuleSet::of(&[RuleId::Open2]),
                );
            }
        }
    } else if let Some((rate, since)) = books.shop_rate(q.seller, q.at) {
        // rule: SHOP-1
        o.offer(Resolution {
            plan: PlanRef::Shop(q.seller),
            rate,
            distributor: None,
            shop_ads: false,
            since,
            rules: RuleSet::of(&[RuleId::Shop1]),
        });
    }
}

/// The precedence tables of docs/attribution.md, one row each, resolved from a small books
/// fixture: one seller, one creator, one product that every plan type can name.
#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::money::Money;
    use crate::rules::distributor::RegStatus;
    use crate::rules::plans::{OpenListing, OpenPlan, RateHistory};
    use crate::rules::plus::{Participant, PlusKind, PlusStatus, PolicySpec};
    use crate::rules::target::{Fee, Invitation, Reviewer, SampleOffer, SlotStatus};

    const C: CreatorId = CreatorId(0);
    const P: ProductId = ProductId(0);
    const S: SellerId = SellerId(0);
    /// Plans start at T0, the creator accepts, joins, is approved or links at T1, orders come
    /// at T2, and every plan runs until END.
    const T0: SimTime = SimTime(0);
    const T1: SimTime = SimTime(60);
    const T2: SimTime = SimTime(120);
    const END: SimTime = SimTime(100_000);

    fn pct(n: i64) -> Rate {
        Rate(Decimal::from(n))
    }

    /// Which plans name the product, and whether the creator takes part in each.
    #[derive(Copy, Clone, Default)]
    struct Has {
        /// An accepted Target invitation: 20%, Shop Ads 22%.
        target: bool,
        /// A Plus participation: 15% (when `plus_rate`), Shop Ads 17%.
        plus: bool,
        plus_rate: bool,
        /// A distributor link in the showcase that pays now: creator 8% + distributor 2%,
        /// Shop Ads 9%.
        link: bool,
        /// The product in an Open plan: 10%, Shop Ads 12%.
        open: bool,
        /// The creator approved for the Open plan (OPEN-2).
        approved: bool,
        /// The seller's Shop plan: 5%.
        shop: bool,
    }

    fn books(h: Has, ad_precedence: AdPrecedence) -> Books {
        let mut b = Books {
            ad_precedence,
            shop: vec![h.shop.then(|| RateHistory::new(T0, pct(5)))],
            ..Books::default()
        };
        if h.open {
            b.open_plans.push(OpenPlan {
                seller: S,
                samples: None,
            });
            b.open_listings.push(OpenListing {
                plan: OpenPlanId(0),
                product: P,
                rate: RateHistory::new(T0, pct(10)),
                shop_ads: Some(RateHistory::new(T0, pct(12))),
                samples_left: 0,
            });
            b.open_by_product = vec![crate::rules::plans::ProductOpen::of(
                ListingId(0),
                &b.open_listings[0],
            )];
        }
        if h.target {
            b.target.add(Invitation {
                name: "target".into(),
                seller: S,
                creators: vec![C],
                creator_rates: Vec::new(),
                products: vec![TargetProduct {
                    product: P,
                    rate: pct(20),
                    shop_ads_rate: Some(pct(22)),
                    sample: SampleOffer::None,
                    sales_goal: 1,
                }],
                sent: T0,
                ends: END,
                content: Vec::new(),
                message: String::new(),
                fee: Fee::CommissionOnly,
                reviewer: Reviewer::Seller,
                submit_days: 0,
                flash_sale: false,
                authorise_ads: false,
                scripted: true,
            });
            b.target.slots[0].status = SlotStatus::Accepted;
            b.target.slots[0].accepted = T1;
        }
        if h.plus {
            b.plus.add(PlusCampaign {
                name: "plus".into(),
                seller: S,
                group: GroupId(0),
                products: vec![P],
                confirmed: T0,
                paid: Some(T0),
                start: T0,
                end: END,
                budget: Money::ZERO,
                service_fee: Money::ZERO,
                rate: h.plus_rate.then(|| pct(15)),
                shop_ads_rate: Some(pct(17)),
                samples: vec![0],
                kind: PlusKind::Task {
                    reward: Money::ZERO,
                    tasks: Vec::new(),
                },
                policy: PolicySpec::AsGiven,
                max_creators: None,
                refund_days: 0,
                ads_prompt: false,
                scripted: true,
            });
            b.plus.state[0].status = PlusStatus::Ongoing;
            b.plus.state[0].participants.push(ParticipantId(0));
            b.plus.participants.push(Participant {
                campaign: PlusId(0),
                creator: C,
                joined: T1,
                posts: [0; 3],
                orders: [0; 3],
                gmv: [Money::ZERO; 3],
                last_change: T1,
                sample_received: false,
                posted: false,
                finished: false,
                reward: Money::ZERO,
                reward_cancelled: false,
                ads_authorised: false,
                final_status: None,
            });
            b.plus.by_pair.push(C.0, P.0, ParticipantId(0));
        }
        if h.link {
            b.dist.campaigns.push(Campaign {
                name: "campaign".into(),
                distributor: DistributorId(0),
                sellers: None,
                registration: (T0, END),
                promotion: (T0, END),
                min_creator_rate: pct(1),
                min_distributor_rate: pct(1),
                notice_days: 0,
            });
            b.dist.registrations.push(Registration {
                campaign: CampaignId(0),
                seller: S,
                product: P,
                creator_rate: pct(8),
                distributor_rate: pct(2),
                shop_ads_rate: Some(pct(9)),
                status: RegStatus::Approved,
                total: None,
                reason: String::new(),
                terminated: SimTime::NEVER,
                resumes: SimTime::NEVER,
            });
            b.dist
                .by_product
                .insert((CampaignId(0), P.0), RegistrationId(0));
        }
        b
    }

    fn query(h: Has, traffic: Traffic) -> Query {
        Query {
            creator: C,
            product: P,
            seller: S,
            at: T2,
            traffic,
            authorised: true,
            entry: h.link.then_some(ShowcaseEntry {
                product: P,
                via: Via::Link(RegistrationId(0)),
                since: T1,
            }),
            open_since: h.approved.then_some(T1),
            eligible: true,
        }
    }

    const ALL: Has = Has {
        target: true,
        plus: true,
        plus_rate: true,
        link: true,
        open: true,
        approved: true,
        shop: true,
    };
    const NO_TARGET: Has = Has {
        target: false,
        ..ALL
    };
    const LINK_OPEN: Has = Has {
        plus: false,
        ..NO_TARGET
    };
    const OPEN: Has = Has {
        link: false,
        ..LINK_OPEN
    };
    const SHOP: Has = Has {
        open: false,
        approved: false,
        ..OPEN
    };

    /// (row, plans held, precedence, traffic, expected plan, rate, Shop Ads rate, rules that
    /// must be on the resolution).
    type Row = (
        &'static str,
        Has,
        AdPrecedence,
        Traffic,
        PlanRef,
        i64,
        bool,
        &'static [RuleId],
    );

    fn check(rows: &[Row]) {
        for &(row, h, prec, traffic, plan, rate, shop_ads, rules) in rows {
            let b = books(h, prec);
            let mut seen = Vec::new();
            let r = resolve_with(&b, &query(h, traffic), &mut |c| seen.push(c))
                .unwrap_or_else(|| panic!("{row}: no plan applied"));
            assert_eq!(
                (r.plan, r.rate, r.shop_ads),
                (plan, pct(rate), shop_ads),
                "{row}"
            );
            for &id in rules.iter().chain(&[RuleId::Attr1, RuleId::Attr5]) {
                assert!(
                    r.rules.contains(id),
                    "{row}: {id:?} missing from {:?}",
                    r.rules
                );
            }
            // ATTR-4 exactly when more than one candidate was seen.
            assert_eq!(r.rules.contains(RuleId::Attr4), seen.len() > 1, "{row}");
            assert_eq!(
                seen.iter()
                    .filter(|c| c.outcome == Outcome::Applied)
                    .count(),
                1,
                "{row}: one candidate applies (ATTR-1)"
            );
            assert_eq!(
                Some(r),
                resolve(&b, &query(h, traffic)),
                "{row}: resolve agrees"
            );
        }
    }

    use AdPrecedence::{Plan as Seeds, ShopAdsFirst};
    use Traffic::{Ad, Video};

    #[test]
    fn standard_precedence_one_row_each() {
        check(&[
            (
                "1 Target",
                ALL,
                Seeds,
                Video,
                PlanRef::Target(InvitationId(0)),
                20,
                false,
                &[RuleId::Target1, RuleId::Target2, RuleId::Attr2],
            ),
            (
                "2 Plus",
                NO_TARGET,
                Seeds,
                Video,
                PlanRef::Plus(PlusId(0)),
                15,
                false,
                &[RuleId::Plus11, RuleId::Attr3],
            ),
            (
                "3 distributor link",
                LINK_OPEN,
                Seeds,
                Video,
                PlanRef::Distributor(CampaignId(0)),
                8,
                false,
                &[RuleId::Dist4, RuleId::Dist5, RuleId::Dist6],
            ),
            (
                "4 Open",
                OPEN,
                Seeds,
                Video,
                PlanRef::Open(OpenPlanId(0)),
                10,
                false,
                &[RuleId::Open1],
            ),
            (
                "5 Shop plan",
                SHOP,
                Seeds,
                Video,
                PlanRef::Shop(SellerId(0)),
                5,
                false,
                &[RuleId::Shop1],
            ),
        ]);
    }

    #[test]
    fn authorised_ads_with_the_seeds_precedence_one_row_each() {
        check(&[
            (
                "1 Target Shop Ads",
                ALL,
                Seeds,
                Ad,
                PlanRef::Target(InvitationId(0)),
                22,
                true,
                &[
                    RuleId::Target1,
                    RuleId::Target2,
                    RuleId::Attr2,
                    RuleId::H5,
                    RuleId::Plus10,
                ],
            ),
            (
                "2 Plus Shop Ads",
                NO_TARGET,
                Seeds,
                Ad,
                PlanRef::Plus(PlusId(0)),
                17,
                true,
                &[
                    RuleId::Plus9,
                    RuleId::Plus10,
                    RuleId::Plus11,
                    RuleId::Attr3,
                    RuleId::H5,
                ],
            ),
            (
                "3 link Shop Ads",
                LINK_OPEN,
                Seeds,
                Ad,
                PlanRef::Distributor(CampaignId(0)),
                9,
                true,
                &[
                    RuleId::Dist4,
                    RuleId::Dist5,
                    RuleId::Dist6,
                    RuleId::H5,
                    RuleId::Plus10,
                ],
            ),
            (
                "4 Open Shop Ads",
                OPEN,
                Seeds,
                Ad,
                PlanRef::Open(OpenPlanId(0)),
                12,
                true,
                &[RuleId::Open1, RuleId::H5, RuleId::Plus10],
            ),
            (
                "5 Shop plan",
                SHOP,
                Seeds,
                Ad,
                PlanRef::Shop(SellerId(0)),
                5,
                false,
                &[RuleId::Shop1],
            ),
        ]);
        // H-5 marks a Target, Plus, link or Open standard rate that won an ad line, not the Shop
        // plan's (docs/attribution.md, "Rule IDs on a resolved line").
        let shop = resolve(&books(SHOP, Seeds), &query(SHOP, Ad)).expect("the Shop plan pays");
        assert!(!shop.rules.contains(RuleId::H5));
    }

    #[test]
    fn authorised_ads_shop_ads_first_one_row_each() {
        let target_plus_open = Has { link: false, ..ALL };
        let plus_open = Has {
            target: false,
            ..target_plus_open
        };
        check(&[
            (
                "1 distributor Shop Ads",
                ALL,
                ShopAdsFirst,
                Ad,
                PlanRef::Distributor(CampaignId(0)),
                9,
                true,
                &[RuleId::H5, RuleId::Plus10, RuleId::Dist6],
            ),
            (
                "2 Target Shop Ads",
                target_plus_open,
                ShopAdsFirst,
                Ad,
                PlanRef::Target(InvitationId(0)),
                22,
                true,
                &[RuleId::H5, RuleId::Plus10, RuleId::Target1, RuleId::Attr2],
            ),
            (
                "3 Plus Shop Ads",
                plus_open,
                ShopAdsFirst,
                Ad,
                PlanRef::Plus(PlusId(0)),
                17,
                true,
                &[
                    RuleId::H5,
                    RuleId::Plus9,
                    RuleId::Plus10,
                    RuleId::Plus11,
                    RuleId::Attr3,
                ],
            ),
            (
                "4 Open Shop Ads",
                OPEN,
                ShopAdsFirst,
                Ad,
                PlanRef::Open(OpenPlanId(0)),
                12,
                true,
                &[RuleId::H5, RuleId::Plus10, RuleId::Open1],
            ),
            (
                "5 then the standard order",
                SHOP,
                ShopAdsFirst,
                Ad,
                PlanRef::Shop(SellerId(0)),
                5,
                false,
                &[RuleId::Shop1],
            ),
        ]);
    }

    #[test]
    fn candidates_that_exist_but_do_not_pay() {
        // A Plus without a rate is inactive and its participant earns the Open rate without an
        // application (PLUS-12).
        let plus_no_rate = Has {
            target: false,
            link: false,
            plus_rate: false,
            approved: false,
            ..ALL
        };
        check(&[(
            "PLUS-12",
            plus_no_rate,
            Seeds,
            Video,
            PlanRef::Open(OpenPlanId(0)),
            10,
            false,
            &[RuleId::Plus12, RuleId::Open1],
        )]);
        // An Open product pays nothing to a creator who is not approved, Shop plan or not
        // (OPEN-2, SHOP-1).
        let not_approved = Has {
            approved: false,
            ..OPEN
        };
        let mut seen = Vec::new();
        let b = books(not_approved, Seeds);
        assert_eq!(
            resolve_with(&b, &query(not_approved, Video), &mut |c| seen.push(c)),
            None
        );
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].outcome, seen[0].plan),
            (Outcome::Inactive, PlanRef::Open(OpenPlanId(0)))
        );
        // A link outside its promotion window is inactive and the Open rate applies (DIST-5).
        let mut b = books(LINK_OPEN, Seeds);
        b.dist.campaigns[0].promotion = (T0, T1);
        let r = resolve(&b, &query(LINK_OPEN, Video)).expect("Open applies");
        assert_eq!((r.plan, r.rate), (PlanRef::Open(OpenPlanId(0)), pct(10)));
        // An ineligible product resolves to no plan (SHOP-1).
        let q = Query {
            eligible: false,
            ..query(ALL, Video)
        };
        assert_eq!(resolve(&books(ALL, Seeds), &q), None);
    }

    /// `resolve`'s plain path (Open or Shop plan only) gives what the full walk gives, for
    /// every combination of plans held, both ad precedences, both ended-entry options, video and
    /// ad traffic (authorised or not), eligible or not, each kind of showcase entry, during and
    /// after the plans: and it is taken only where no Target, Plus or link candidate and no
    /// Shop Ads rate can apply. Each of its gates, removed, makes this fail (tried).
    #[test]
    fn the_plain_path_resolves_as_the_full_walk() {
        let (mut plain, mut walked) = (0, 0);
        for bits in 0u32..128 {
            let bit = |i: u32| bits & (1 << i) != 0;
            let h = Has {
                target: bit(0),
                plus: bit(1),
                plus_rate: bit(2),
                link: bit(3),
                open: bit(4),
                approved: bit(5),
                shop: bit(6),
            };
            let mut entries = vec![None, Some(Via::Open(ListingId(0))), Some(Via::Shop)];
            if h.link {
                entries.push(Some(Via::Link(RegistrationId(0))));
            }
            if h.target {
                entries.push(Some(Via::Target(InvitationId(0))));
            }
            if h.plus {
                entries.push(Some(Via::Plus(PlusId(0))));
            }
            for prec in [Seeds, ShopAdsFirst] {
                for ended in [EndedPlanEntry::ApprovedOnly, EndedPlanEntry::OpenRate] {
                    let b = Books {
                        ended_plan_entry: ended,
                        ..books(h, prec)
                    };
                    for (traffic, authorised, eligible, at, &via) in queries_of(&entries) {
                        let q = Query {
                            traffic,
                            authorised,
                            eligible,
                            at,
                            entry: via.map(|via| ShowcaseEntry {
                                product: P,
                                via,
                                since: T1,
                            }),
                            ..query(h, traffic)
                        };
                        let full = resolve_with(&b, &q, &mut |_| {});
                        assert_eq!(resolve(&b, &q), full, "{q:?}");
                        match resolve_plain(&b, &q) {
                            Some(r) => {
                                assert_eq!(r, full, "{q:?}");
                                plain += 1;
                            }
                            None => walked += 1,
                        }
                    }
                }
            }
        }
        assert!(
            plain > 1_000 && walked > 1_000,
            "{plain} plain, {walked} walked"
        );
    }

    /// Every (traffic, authorised, eligible, time, entry) of the plain-path test.
    fn queries_of(
        entries: &[Option<Via>],
    ) -> impl Iterator<Item = (Traffic, bool, bool, SimTime, &Option<Via>)> {
        [Video, Ad].into_iter().flat_map(move |traffic| {
            [false, true].into_iter().flat_map(move |authorised| {
                [false, true].into_iter().flat_map(move |eligible| {
                    [T1, T2, END].into_iter().flat_map(move |at| {
                        entries
                            .iter()
                            .map(move |via| (traffic, authorised, eligible, at, via))
                    })
                })
            })
        })
    }
}
