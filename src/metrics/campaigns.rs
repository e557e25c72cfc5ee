//! Per-campaign and per-seller results: GMV, orders and costs tallied by plan as lines are placed and settled, then named at the end of a replication.
//!
//! The tally lives in the rules engine's [`Platform`] (flat vectors indexed by plan and seller,
//! no allocation per event once sized) and is fed at three points: an order line placed (its
//! attributed plan), a line settled (its commission, Shop Ads commission and distributor fee) and
//! a commission clawed back. Plan-level costs — Target flat fees, Plus rewards and service fees —
//! are read from the plan books at the end. [`collect`] turns it into named rows; named plans
//! and sellers get one row each, generated ones are pooled in a `generated` row per kind (they
//! differ between replications, so only the pool can be compared across them).

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::experiment::stats::RatioDoc;
use crate::experiment::summary::Figure;
use crate::model::{Agents, CreatorId, SellerId};
use crate::money::{DecimalSum, Money, Term, add_exact};
use crate::rules::Platform;
use crate::rules::ids::{InvitationId, OpenPlanId};
use crate::rules::ledger::Account;
use crate::rules::plans::PlanRef;
use crate::rules::plus::PlusKind;
use crate::rules::target::{Fee, FeeStatus, SlotStatus};
use crate::scenario::Scenario;

/// Order-line figures of one plan instance. Laid out so that a placement (`gmv`, `orders`) and
/// a settlement without Shop Ads (`commissions`, `distributor_fees`) touch one cache line each:
/// the plans are read at random, one line per order line placed and settled.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct PlanSums {
    pub(crate) gmv: DecimalSum,
    pub(crate) commissions: DecimalSum,
    pub(crate) distributor_fees: DecimalSum,
    pub orders: u64,
    pub(crate) shop_ads_commissions: DecimalSum,
    pub(crate) clawed_back: DecimalSum,
}

/// Order-line figures of one seller, in one cache line (aligned: a 40-byte record would
/// straddle two lines half the time).
#[derive(Clone, Copy, Debug, Default)]
#[repr(align(64))]
pub struct SellerSums {
    pub(crate) gmv: DecimalSum,
    pub orders: u64,
    /// Commissions, Shop Ads commissions and distributor fees on its lines, less claw-backs.
    pub(crate) order_costs: DecimalSum,
}

/// The running tally by plan (kept by [`Platform`]).
#[derive(Clone, Debug, Default)]
pub struct CampaignTally {
    by_kind: [Vec<PlanSums>; 5],
    none: PlanSums,
    sellers: Vec<SellerSums>,
    /// (plan kind, plan, creator) of every creator with a line attributed to a Shop plan or a
    /// distributor campaign (the plans without a join step): their participants.
    selling: HashSet<u64>,
    /// Per creator, the last (plan kind, plan) inserted into `selling`, as [`memo_key`] packs
    /// it: a creator's repeat sales for the same plan skip the hash (4 bytes per creator, read at
    /// random: half the memory of the full key).
    last: Vec<u32>,
}

/// `CampaignTally::last` of a creator with no memo.
const NO_MEMO: u32 = u32::MAX;

/// The memo of a (plan kind, plan) in `CampaignTally::last`: the plan index, with the top bit for
/// a distributor campaign (kind 4) rather than a Shop plan (kind 0); [`NO_MEMO`] for an index
/// that does not fit (never memoised: the set insert is then done every time, which gives the
/// same set).
fn memo_key(kind: usize, i: u32) -> u32 {
    if i >= 0x7FFF_FFFF {
        NO_MEMO
    } else if kind == 4 {
        i | 0x8000_0000
    } else {
        i
    }
}

fn kind_index(plan: PlanRef) -> Option<(usize, u32)> {
    match plan {
        PlanRef::None => None,
        PlanRef::Shop(i) => Some((0, i.0)),
        PlanRef::Open(i) => Some((1, i.0)),
        PlanRef::Target(i) => Some((2, i.0)),
        PlanRef::Plus(i) => Some((3, i.0)),
        PlanRef::Distributor(i) => Some((4, i.0)),
    }
}

impl CampaignTally {
    /// A tally sized for `sellers` sellers, `creators` creators and the plans of `books` (it
    /// grows if plans are added).
    pub fn new(
        sellers: usize,
        creators: usize,
        books: &crate::rules::plans::Books,
    ) -> CampaignTally {
        let sized = |n: usize| vec![PlanSums::default(); n];
        CampaignTally {
            by_kind: [
                sized(sellers),
                sized(books.open_plans.len()),
                sized(books.target.invitations.len()),
                sized(books.plus.campaigns.len()),
                sized(books.dist.campaigns.len()),
            ],
            none: PlanSums::default(),
            sellers: vec![SellerSums::default(); sellers],
            selling: HashSet::with_capacity(256),
            last: vec![NO_MEMO; creators],
        }
    }

    #[inline]
    fn sums(&mut self, plan: PlanRef) -> &mut PlanSums {
        match kind_index(plan) {
            None => &mut self.none,
            Some((k, i)) => {
                let v = &mut self.by_kind[k];
                if v.len() <= i as usize {
                    v.resize(i as usize + 1, PlanSums::default());
                }
                &mut v[i as usize]
            }
        }
    }

    #[inline]
    fn seller(&mut self, s: SellerId) -> &mut SellerSums {
        if self.sellers.len() <= s.idx() {
            self.sellers.resize(s.idx() + 1, SellerSums::default());
        }
        &mut self.sellers[s.idx()]
    }

    /// Prefetches the sums of `plan` and of `seller` (a hint: no effect on results).
    #[inline]
    pub(crate) fn prefetch(&self, plan: PlanRef, seller: SellerId) {
        if let Some((k, i)) = kind_index(plan)
            && let Some(p) = self.by_kind[k].get(i as usize)
        {
            // The first line only: what a placement and a settlement without Shop Ads add to.
            crate::hint::prefetch(&p.gmv);
        }
        if let Some(s) = self.sellers.get(seller.idx()) {
            crate::hint::prefetch(s);
        }
    }

    /// Prefetches creator `c`'s memo of the last (plan kind, plan) it sold through, which
    /// placing a Shop or distributor line reads (a hint: no effect on results).
    #[inline]
    pub(crate) fn prefetch_creator(&self, c: CreatorId) {
        if let Some(m) = self.last.get(c.idx()) {
            crate::hint::prefetch(m);
        }
    }

    /// GMV placed so far on lines attributed to `plan`.
    pub fn plan_gmv(&self, plan: PlanRef) -> Decimal {
        match kind_index(plan) {
            None => self.none.gmv.get(),
            Some((k, i)) => self.by_kind[k]
                .get(i as usize)
                .map_or(Decimal::ZERO, |p| p.gmv.get()),
        }
    }

    /// GMV placed so far on `seller`'s products, whatever the plan.
    pub fn seller_gmv(&self, s: SellerId) -> Decimal {
        self.sellers
            .get(s.idx())
            .map_or(Decimal::ZERO, |x| x.gmv.get())
    }

    /// An order line was placed, attributed to `plan`, its gross amount prepared ([`Term::of`])
    /// once for all its sums by `Platform::place_order`.
    #[inline]
    pub(crate) fn order(
        &mut self,
        plan: PlanRef,
        seller: SellerId,
        creator: CreatorId,
        gross: &Term,
    ) {
        let p = self.sums(plan);
        p.gmv.add_term(gross, false);
        p.orders += 1;
        let s = self.seller(seller);
        s.gmv.add_term(gross, false);
        s.orders += 1;
        if let Some((k @ (0 | 4), i)) = kind_index(plan) {
            let key = ((k as u64) << 60) | ((i as u64) << 32) | u64::from(creator.0);
            let memo = memo_key(k, i);
            match self.last.get_mut(creator.idx()) {
                Some(last) if memo != NO_MEMO && *last == memo => {}
                Some(last) => {
                    *last = memo;
                    self.selling.insert(key);
                }
                None => {
                    self.selling.insert(key);
                }
            }
        }
    }

    /// A line attributed to `plan` settled with these payouts, the commission and the
    /// distributor fee prepared ([`Term::of`]; [`Term::ZERO`] for no fee) once for the ledger,
    /// the tally and these sums by `Platform::settle`.
    #[inline]
    pub(crate) fn settled(
        &mut self,
        plan: PlanRef,
        seller: SellerId,
        shop_ads: bool,
        c: &Term,
        fee: &Term,
    ) {
        let p = self.sums(plan);
        if shop_ads {
            p.shop_ads_commissions.add_term(c, false);
        } else {
            p.commissions.add_term(c, false);
        }
        p.distributor_fees.add_term(fee, false);
        let s = self.seller(seller);
        if fee.is_zero() && !c.is_zero() {
            // commission + 0 is the commission itself (its bytes): the prepared term serves
            s.order_costs.add_term(c, false);
        } else {
            s.order_costs.add(add_exact(c.amount(), fee.amount()));
        }
    }

    /// Commission (creator's or distributor's part) taken back after a late refund.
    pub fn clawed_back(&mut self, plan: PlanRef, seller: SellerId, amount: Money) {
        let amount = Term::of(amount.0);
        self.sums(plan).clawed_back.add_term(&amount, false);
        self.seller(seller).order_costs.add_term(&amount, true);
    }

    fn plan(&self, k: usize, i: usize) -> PlanSums {
        self.by_kind[k].get(i).copied().unwrap_or_default()
    }

    /// Per plan kind and plan: how many distinct creators had a line attributed to it.
    fn selling_creators(&self) -> [Vec<u64>; 5] {
        let mut out: [Vec<u64>; 5] = std::array::from_fn(|k| vec![0; self.by_kind[k].len()]);
        for &x in &self.selling {
            let (k, i) = ((x >> 60) as usize, ((x >> 32) & 0x0FFF_FFFF) as usize);
            if let Some(n) = out.get_mut(k).and_then(|v| v.get_mut(i)) {
                *n += 1;
            }
        }
        out
    }
}

/// One plan instance's figures in one replication.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignRow {
    /// `kind:name` (e.g. `open:spring-open`), or `kind:generated` for the pool of generated plans.
    pub id: String,
    /// shop, open, target, plus-task, plus-challenge or distributor.
    pub kind: String,
    /// The seller's name (`generated` for a pool); `None` for a distributor campaign.
    pub seller: Option<String>,
    /// The distributor's name, for a distributor campaign.
    pub distributor: Option<String>,
    pub gmv: Decimal,
    pub orders: u64,
    pub commissions: Decimal,
    pub shop_ads_commissions: Decimal,
    pub distributor_fees: Decimal,
    pub commissions_clawed_back: Decimal,
    pub flat_fees: Decimal,
    pub rewards: Decimal,
    /// Plus service fees kept by the platform (net of refunds).
    pub service_fees: Decimal,
    /// Creators taking part: approved (Open), accepted (Target), joined (Plus); creators with an
    /// attributed line (Shop plan, distributor campaign).
    pub participants: u64,
}

impl CampaignRow {
    /// Every cost kind, less claw-backs.
    pub fn cost(&self) -> Decimal {
        self.commissions
            + self.shop_ads_commissions
            + self.distributor_fees
            + self.flat_fees
            + self.rewards
            + self.service_fees
            - self.commissions_clawed_back
    }
    fn add(&mut self, p: &PlanSums) {
        self.gmv += p.gmv.get();
        self.orders += p.orders;
        self.commissions += p.commissions.get();
        self.shop_ads_commissions += p.shop_ads_commissions.get();
        self.distributor_fees += p.distributor_fees.get();
        self.commissions_clawed_back += p.clawed_back.get();
    }
}

/// One seller's figures in one replication.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SellerRow {
    /// The seller's name, or `generated` for the pool of generated sellers.
    pub seller: String,
    pub gmv: Decimal,
    pub orders: u64,
    /// Marketing cost: commissions, Shop Ads commissions and distributor fees on its lines (less
    /// claw-backs), its Target flat fees, Plus rewards and service fees.
    pub cost: Decimal,
    /// Its ledger balance at the end (revenue less every fee and refund).
    pub net: Decimal,
}

/// A replication's per-campaign and per-seller results.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignResults {
    pub campaigns: Vec<CampaignRow>,
    /// GMV and lines no plan paid commission on.
    pub unattributed_gmv: Decimal,
    pub unattributed_orders: u64,
    pub sellers: Vec<SellerRow>,
}

/// Names the tally's figures at the end of a replication.
pub fn collect(sc: &Scenario, pf: &Platform, agents: &Agents) -> CampaignResults {
    let t = pf.campaign_tally();
    let books = pf.books();
    let named_sellers = sc.named.sellers.len();
    let seller_name = |s: SellerId| {
        if s.idx() < named_sellers {
            agents.names.seller(s)
        } else {
            "generated".to_string()
        }
    };
    let selling = t.selling_creators();
    let mut rows: Vec<CampaignRow> = Vec::new();
    let mut plan_costs = vec![Decimal::ZERO; named_sellers + 1];
    let pooled =
        |rows: &mut Vec<CampaignRow>, id: String, kind: &str, seller: Option<String>| match rows
            .iter()
            .position(|r| r.id == id)
        {
            Some(i) => i,
            None => {
                rows.push(CampaignRow {
                    id,
                    kind: kind.into(),
                    seller,
                    ..CampaignRow::default()
                });
                rows.len() - 1
            }
        };
    // Shop plans
    for (s, shop) in books.shop.iter().enumerate() {
        let sums = t.plan(0, s);
        if shop.is_none() && sums.orders == 0 {
            continue;
        }
        let name = seller_name(SellerId(s as u32));
        let i = pooled(&mut rows, format!("shop:{name}"), "shop", Some(name));
        rows[i].add(&sums);
        rows[i].participants += selling[0][s];
    }
    // Open plans: participants are the creators approved for any of the plan's listings
    let mut approved = vec![0u64; books.open_plans.len()];
    let mut seen: Vec<OpenPlanId> = Vec::new();
    for c in 0..agents.creators.len() {
        if let Some(list) = pf.approvals_ref(CreatorId(c as u32)) {
            seen.clear();
            for &(l, _) in list {
                let p = books.open_listings[l.index()].plan;
                if !seen.contains(&p) {
                    seen.push(p);
                    approved[p.index()] += 1;
                }
            }
        }
    }
    for (p, plan) in books.open_plans.iter().enumerate() {
        let (id, seller) = match sc.open_plans.get(p) {
            Some(spec) => (format!("open:{}", spec.name), seller_name(plan.seller)),
            None => ("open:generated".to_string(), "generated".to_string()),
        };
        let i = pooled(&mut rows, id, "open", Some(seller));
        rows[i].add(&t.plan(1, p));
        rows[i].participants += approved[p];
    }
    // Target invitations
    for (v, inv) in books.target.invitations.iter().enumerate() {
        let i = pooled(
            &mut rows,
            format!("target:{}", inv.name),
            "target",
            Some(seller_name(inv.seller)),
        );
        rows[i].add(&t.plan(2, v));
        for s in books
            .target
            .slots
            .iter()
            .filter(|s| s.invitation == InvitationId::at(v))
        {
            if s.status == SlotStatus::Accepted {
                rows[i].participants += 1;
            }
            if let (FeeStatus::Paid, Fee::Flat(amount)) = (s.fee, inv.fee) {
                rows[i].flat_fees += amount.0;
            }
        }
        plan_costs[inv.seller.idx().min(named_sellers)] += rows[i].flat_fees;
    }
    // Collaboration Plus
    for (c, camp) in books.plus.campaigns.iter().enumerate() {
        let kind = match camp.kind {
            PlusKind::Task { .. } => "plus-task",
            PlusKind::Challenge { .. } => "plus-challenge",
        };
        let i = pooled(
            &mut rows,
            format!("plus:{}", camp.name),
            kind,
            Some(seller_name(camp.seller)),
        );
        rows[i].add(&t.plan(3, c));
        if let Some(st) = books.plus.state.get(c) {
            rows[i].rewards += st.rewards_paid.0;
            rows[i].service_fees += st.fee_charged.0;
            rows[i].participants += st.participants.len() as u64;
            plan_costs[camp.seller.idx().min(named_sellers)] +=
                st.rewards_paid.0 + st.fee_charged.0;
        }
    }
    // Distributor campaigns
    for (d, camp) in books.dist.campaigns.iter().enumerate() {
        let i = pooled(
            &mut rows,
            format!("distributor:{}", camp.name),
            "distributor",
            None,
        );
        rows[i].distributor = Some(agents.names.distributor(camp.distributor));
        rows[i].add(&t.plan(4, d));
        rows[i].participants += selling[4][d];
    }
    // Sellers: named ones, then the generated pool
    let mut sellers: Vec<SellerRow> = Vec::new();
    for (s, sums) in t.sellers.iter().enumerate() {
        let k = s.min(named_sellers);
        if k == sellers.len() {
            sellers.push(SellerRow {
                seller: seller_name(SellerId(s as u32)),
                ..SellerRow::default()
            });
        }
        let row = &mut sellers[k];
        row.gmv += sums.gmv.get();
        row.orders += sums.orders;
        row.cost += sums.order_costs.get();
        row.net += pf.ledger().balance(Account::Seller(s as u32)).0;
    }
    for (k, row) in sellers.iter_mut().enumerate() {
        row.cost += plan_costs[k];
    }
    CampaignResults {
        campaigns: rows,
        unattributed_gmv: t.none.gmv.get(),
        unattributed_orders: t.none.orders,
        sellers,
    }
}

fn f(d: Decimal) -> f64 {
    rust_decimal::prelude::ToPrimitive::to_f64(&d).unwrap_or(0.0)
}

/// Mean (exact; money as a string, a count as a number) and Student-t 95% interval (`null` for
/// one replication) of one field over replications.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanCi {
    pub mean: Figure,
    pub ci95: Option<(f64, f64)>,
}

fn aggregate(vals: &[Decimal], is_money: bool) -> MeanCi {
    let n = vals.len().max(1);
    let mean = vals.iter().copied().sum::<Decimal>() / Decimal::from(n as u64);
    let xs: Vec<f64> = vals.iter().map(|&v| f(v)).collect();
    aggregate_of(mean, crate::experiment::stats::mean_ci(&xs).ci, is_money)
}

/// A block's mean (exact, rounded to six decimals) and interval as `summary.json` writes them
/// (from every replication's values, or from their sums beyond the exact limit).
pub(crate) fn aggregate_of(mean: Decimal, ci: Option<(f64, f64)>, is_money: bool) -> MeanCi {
    let mean = mean.round_dp(6).normalize();
    MeanCi {
        mean: if is_money {
            Figure::money(mean)
        } else {
            Figure::number(f(mean))
        },
        ci95: crate::experiment::stats::ci_doc(ci),
    }
}

/// One figure of a row: money as a string, a count as a whole number.
fn cell(is_money: bool, v: Decimal) -> Figure {
    if is_money {
        Figure::money(v)
    } else {
        Figure::count(rust_decimal::prelude::ToPrimitive::to_u64(&v).unwrap_or(0))
    }
}

/// A campaign's figures, each a `T` (a replication's [`Figure`] or a [`MeanCi`]), in the order
/// `summary.json` writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignFigures<T> {
    pub gmv: T,
    pub orders: T,
    pub commissions: T,
    pub shop_ads_commissions: T,
    pub distributor_fees: T,
    pub commissions_clawed_back: T,
    pub flat_fees: T,
    pub rewards: T,
    pub service_fees: T,
    pub cost: T,
    pub participants: T,
}

impl<T> CampaignFigures<T> {
    /// Each field from `of(is_money, value of the field in a row)`.
    pub(crate) fn build(
        mut of: impl FnMut(bool, fn(&CampaignRow) -> Decimal) -> T,
    ) -> CampaignFigures<T> {
        CampaignFigures {
            gmv: of(true, |r| r.gmv),
            orders: of(false, |r| Decimal::from(r.orders)),
            commissions: of(true, |r| r.commissions),
            shop_ads_commissions: of(true, |r| r.shop_ads_commissions),
            distributor_fees: of(true, |r| r.distributor_fees),
            commissions_clawed_back: of(true, |r| r.commissions_clawed_back),
            flat_fees: of(true, |r| r.flat_fees),
            rewards: of(true, |r| r.rewards),
            service_fees: of(true, |r| r.service_fees),
            cost: of(true, |r| r.cost()),
            participants: of(false, |r| Decimal::from(r.participants)),
        }
    }
}

/// A seller's figures, each a `T`, in the order `summary.json` writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SellerFigures<T> {
    pub gmv: T,
    pub orders: T,
    pub cost: T,
    pub net: T,
}

impl<T> SellerFigures<T> {
    pub(crate) fn build(
        mut of: impl FnMut(bool, fn(&SellerRow) -> Decimal) -> T,
    ) -> SellerFigures<T> {
        SellerFigures {
            gmv: of(true, |r| r.gmv),
            orders: of(false, |r| Decimal::from(r.orders)),
            cost: of(true, |r| r.cost),
            net: of(true, |r| r.net),
        }
    }
}

/// One replication's row of a campaign: its figures and GMV per unit of cost (a string, `null`
/// without cost).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignReplication {
    pub replication: u32,
    #[serde(flatten)]
    pub figures: CampaignFigures<Figure>,
    pub gmv_per_cost: Option<Figure>,
}

/// A campaign in `summary.json`'s `campaigns` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignBlock {
    pub id: String,
    pub kind: String,
    pub seller: Option<String>,
    pub distributor: Option<String>,
    pub mean: CampaignFigures<MeanCi>,
    pub gmv_per_cost: RatioDoc,
    pub per_replication: Vec<CampaignReplication>,
}

/// One replication's row of a seller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SellerReplication {
    pub replication: u32,
    #[serde(flatten)]
    pub figures: SellerFigures<Figure>,
}

/// A seller in `summary.json`'s `sellers` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SellerBlock {
    pub seller: String,
    pub mean: SellerFigures<MeanCi>,
    pub per_replication: Vec<SellerReplication>,
}

/// `summary.json`'s `unattributed` block: GMV and orders no plan paid for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unattributed {
    pub gmv: MeanCi,
    pub orders: MeanCi,
}

/// Campaign `id`'s row in replication `r` (zero where it has none: a generated pool left empty).
fn campaign_row(r: &crate::sim::Replication, id: &str) -> CampaignRow {
    r.campaigns
        .campaigns
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .unwrap_or_default()
}

/// Seller `name`'s row in replication `r` (zero where it has none).
fn seller_row(r: &crate::sim::Replication, name: &str) -> SellerRow {
    r.campaigns
        .sellers
        .iter()
        .find(|s| s.seller == name)
        .cloned()
        .unwrap_or_default()
}

/// Campaign `id`'s `per_replication` row of `summary.json` for replication `r`.
pub fn campaign_replication(r: &crate::sim::Replication, id: &str) -> CampaignReplication {
    campaign_replication_of(r.index, &campaign_row(r, id))
}

/// A campaign's `per_replication` row for replication `index` with figures `row` (a default
/// row: the campaign had none in that replication).
pub fn campaign_replication_of(index: u32, row: &CampaignRow) -> CampaignReplication {
    CampaignReplication {
        replication: index,
        figures: CampaignFigures::build(|money, get| cell(money, get(row))),
        gmv_per_cost: per_cost(row.gmv, row.cost()),
    }
}

/// Seller `name`'s `per_replication` row of `summary.json` for replication `r`.
pub fn seller_replication(r: &crate::sim::Replication, name: &str) -> SellerReplication {
    seller_replication_of(r.index, &seller_row(r, name))
}

/// A seller's `per_replication` row for replication `index` with figures `row`.
pub fn seller_replication_of(index: u32, row: &SellerRow) -> SellerReplication {
    SellerReplication {
        replication: index,
        figures: SellerFigures::build(|money, get| cell(money, get(row))),
    }
}

/// GMV per unit of cost of one replication's row (`None` without cost).
fn per_cost(gmv: Decimal, cost: Decimal) -> Option<Figure> {
    (!cost.is_zero()).then(|| Figure::money((gmv / cost).round_dp(4)))
}

/// The `campaigns`, `sellers` and `unattributed` blocks of `summary.json`: each row per
/// replication and aggregated (mean and t interval), with GMV per unit of cost as a ratio of
/// means and its delta-method interval (docs/statistics.md). A row missing from a replication
/// (a generated pool that was empty) counts as zero there.
///
/// `rows`: with each block's `per_replication` rows; without, they are left empty, to be
/// written one at a time ([`campaign_replication`], [`seller_replication`]).
pub fn summary_blocks(
    reps: &[crate::sim::Replication],
    rows: bool,
) -> (Vec<CampaignBlock>, Vec<SellerBlock>, Unattributed) {
    let mut ids: Vec<&CampaignRow> = Vec::new();
    for r in reps {
        for c in &r.campaigns.campaigns {
            if !ids.iter().any(|x| x.id == c.id) {
                ids.push(c);
            }
        }
    }
    let campaigns = ids
        .iter()
        .map(|head| {
            let with = rows;
            let rows: Vec<CampaignRow> = reps.iter().map(|r| campaign_row(r, &head.id)).collect();
            let per_replication = reps
                .iter()
                .filter(|_| with)
                .map(|r| campaign_replication(r, &head.id))
                .collect();
            let mean = CampaignFigures::build(|money, get| {
                aggregate(&rows.iter().map(get).collect::<Vec<_>>(), money)
            });
            let gmv: Vec<f64> = rows.iter().map(|r| f(r.gmv)).collect();
            let cost: Vec<f64> = rows.iter().map(|r| f(r.cost())).collect();
            let ratio = crate::experiment::stats::ratio_ci(&gmv, &cost);
            CampaignBlock {
                id: head.id.clone(),
                kind: head.kind.clone(),
                seller: head.seller.clone(),
                distributor: head.distributor.clone(),
                mean,
                gmv_per_cost: RatioDoc::of(&ratio),
                per_replication,
            }
        })
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for r in reps {
        for s in &r.campaigns.sellers {
            if !names.contains(&s.seller.as_str()) {
                names.push(&s.seller);
            }
        }
    }
    let sellers = names
        .iter()
        .map(|name| {
            let with = rows;
            let rows: Vec<SellerRow> = reps.iter().map(|r| seller_row(r, name)).collect();
            let mean = SellerFigures::build(|money, get| {
                aggregate(&rows.iter().map(get).collect::<Vec<_>>(), money)
            });
            let per_replication = reps
                .iter()
                .filter(|_| with)
                .map(|r| seller_replication(r, name))
                .collect();
            SellerBlock {
                seller: (*name).to_string(),
                mean,
                per_replication,
            }
        })
        .collect();
    let ugmv: Vec<Decimal> = reps.iter().map(|r| r.campaigns.unattributed_gmv).collect();
    let uord: Vec<Decimal> = reps
        .iter()
        .map(|r| Decimal::from(r.campaigns.unattributed_orders))
        .collect();
    let unattributed = Unattributed {
        gmv: aggregate(&ugmv, true),
        orders: aggregate(&uord, false),
    };
    (campaigns, sellers, unattributed)
}
