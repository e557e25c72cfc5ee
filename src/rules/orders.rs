//! Order lines from placement to settlement (ORDER-1, ORDER-2, SETTLE-1..3, H-1, H-2).
//!
//! Live lines sit in a slab; a line is freed when it settles or is cancelled, so memory follows
//! open orders, not every order ever placed. Lines tracked for expectations or `explain` keep a
//! record that survives them.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{CreatorId, ProductId, SellerId, Traffic};
use crate::money::{Money, Rate};
use crate::rules::attribution::Resolution;
use crate::rules::catalogue::RuleSet;
use crate::rules::ids::LineKey;
use crate::rules::packed::Packed;
use crate::time::{SimTime, Stamp};

/// Where a line is in its lifecycle (ORDER-2).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum Status {
    Placed,
    Shipped,
    Delivered,
    /// Fully refunded within the after-sales window; it settles with no commission.
    Refunded,
    Settled,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Placed => "placed",
            Status::Shipped => "shipped",
            Status::Delivered => "delivered",
            Status::Refunded => "refunded",
            Status::Settled => "settled",
            Status::Cancelled => "cancelled",
        }
    }
}

/// A live order line, as [`OrderBook::get`] hands it out. Its status is kept apart, in
/// [`OrderBook`]'s dense array, so that the steps that only check and move the status (shipping,
/// delivery) do not touch the line; the book stores it as a [`Stored`] (amounts packed).
#[derive(Copy, Clone, Debug)]
pub struct OrderLine {
    /// The order number: unique in a replication, in placement order, starting at 1.
    pub no: u64,
    pub creator: CreatorId,
    pub product: ProductId,
    pub seller: SellerId,
    pub quantity: u32,
    pub traffic: Traffic,
    pub placed: SimTime,
    pub delivered: SimTime,
    /// When the line settles (00:00 of the day after the after-sales window), once delivered.
    pub settles: SimTime,
    /// What the buyer paid for the goods: price × quantity − coupons. It is also the
    /// commissionable amount ([`OrderLine::base`], H-1).
    pub paid: Money,
    pub shipping: Money,
    pub platform_coupon: Money,
    /// Goods amount refunded so far.
    pub refunded: Money,
    /// What escrow holds for this line.
    pub held: Money,
    /// The rate decided at placement: an index into [`OrderBook::resolution`]'s table, or
    /// [`NO_RESOLUTION`] when no plan applied.
    pub(crate) resolution: u32,
    /// Index into the tracked records, or `u32::MAX`.
    pub record: u32,
}

impl OrderLine {
    /// The commissionable amount (H-1): what the buyer paid for the goods, coupons off, shipping
    /// excluded — the same amount as `paid`, set once at placement, so it is not stored twice
    /// (16 bytes less per line in flight).
    #[inline]
    pub fn base(&self) -> Money {
        self.paid
    }
}

/// An order line as the slab stores it, in 48 bytes: the fields of [`OrderLine`] less what the
/// book can give back — the seller (its product's, [`OrderBook`]'s table), the settlement time
/// (from the delivery, SETTLE-2), the record index (a side table for the few tracked lines) — with
/// the quantity and the traffic in one word and the five amounts packed into 4 bytes each
/// ([`Packed`], exact). A line in flight is most of a large run's memory (issue 18, target 3:
/// 88 bytes before). The rare line that does not fit — an order number from 2^32 − 1 on, a
/// quantity from 2^30 on, a seller other than its product's — has `no == ODD` and those fields
/// in the side table `odd`; one with an amount too large to pack has [`Packed::WIDE`] and its
/// amounts whole in `wide`.
///
/// Aligned to 16 bytes: a line then never spans three cache lines, and 16 is still the
/// allocator's own alignment, so the slab's `Vec` grows by `realloc` (pages moved, not copied —
/// an over-aligned block would be copied whole at every doubling, the old and the new together
/// the peak of a large run).
#[derive(Clone, Debug)]
#[repr(align(16))]
pub struct Stored {
    no: u32,
    creator: CreatorId,
    product: ProductId,
    /// The quantity in bits 0–29, the traffic in bits 30–31.
    quantity_traffic: u32,
    placed: SimTime,
    delivered: SimTime,
    /// paid, shipping, platform coupon, refunded, held.
    amounts: [Packed; 5],
    resolution: u32,
}

/// `Stored::no` of a line whose number, quantity and seller are in `OrderBook::odd`.
const ODD: u32 = u32::MAX;
const QUANTITY_BITS: u32 = 30;

fn traffic_bits(t: Traffic) -> u32 {
    match t {
        Traffic::Video => 0,
        Traffic::Live => 1,
        Traffic::Showcase => 2,
        Traffic::Ad => 3,
    }
}

fn traffic_of(bits: u32) -> Traffic {
    match bits & 3 {
        0 => Traffic::Video,
        1 => Traffic::Live,
        2 => Traffic::Showcase,
        _ => Traffic::Ad,
    }
}

/// The fields of a line that does not fit [`Stored`]'s compact form.
#[derive(Clone, Copy, Debug)]
struct Odd {
    no: u64,
    quantity: u32,
    seller: SellerId,
}

impl Stored {
    /// The line's creator (the loop prefetches its ledger balance).
    pub fn creator(&self) -> CreatorId {
        self.creator
    }
}

fn amounts_of(l: &OrderLine) -> [Money; 5] {
    [l.paid, l.shipping, l.platform_coupon, l.refunded, l.held]
}

/// How much of a line a buyer returns ([`crate::rules::Platform::return_part`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReturnPart {
    /// Everything not yet refunded.
    All,
    /// An exact goods amount.
    Amount(Money),
    /// This many units: their share of what was paid.
    Quantity(u32),
    /// This percentage of what was paid, at most what is left.
    Percent(u8),
}

/// `OrderLine::resolution` when no plan applied.
pub(crate) const NO_RESOLUTION: u32 = u32::MAX;

/// The exact representation of a resolution (decimals by their bytes, so that `10%` and `10.0%`
/// stay apart as they do in the arithmetic).
type ResolutionKey = (
    crate::rules::plans::PlanRef,
    [u8; 16],
    Option<(crate::model::DistributorId, [u8; 16])>,
    bool,
    SimTime,
    RuleSet,
);

/// The distinct resolutions of a replication's lines, each stored once: most lines share one
/// of a few thousand (plan, rate, since, rules) combinations, and a line keeps a 4-byte index
/// instead of an 80-byte copy.
#[derive(Clone, Debug, Default)]
struct Resolutions {
    list: Vec<Resolution>,
    /// Per entry of `list`: its rate's and its distributor rate's `Rate::fraction` (a decimal
    /// division), computed once here instead of at every settlement of its lines.
    fractions: Vec<(Decimal, Option<Decimal>)>,
    /// Fx hashing (rustc-hash): fast for these small keys; the table is never iterated, so its
    /// order does not matter.
    ids: std::collections::HashMap<ResolutionKey, u32, rustc_hash::FxBuildHasher>,
}

impl Resolutions {
    fn intern(&mut self, r: Option<Resolution>) -> u32 {
        let Some(r) = r else {
            return NO_RESOLUTION;
        };
        let key = (
            r.plan,
            r.rate.0.serialize(),
            r.distributor.map(|(d, rate)| (d, rate.0.serialize())),
            r.shop_ads,
            r.since,
            r.rules,
        );
        let (list, fractions) = (&mut self.list, &mut self.fractions);
        *self.ids.entry(key).or_insert_with(|| {
            list.push(r);
            fractions.push((r.rate.fraction(), r.distributor.map(|(_, d)| d.fraction())));
            (list.len() - 1) as u32
        })
    }
}

/// What was paid at settlement.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub commission: Money,
    pub(crate) distributor_fee: Money,
    pub seller_revenue: Money,
}

/// Whether the video behind a line was authorised for Shop Ads at placement, and why (PLUS-10).
/// In JSON (flattened into its record): `"authorised": true|false` and `"authorised_by":
/// "creator" | "seller-request" | null`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Authorisation {
    /// Not authorised: an ad on it earns standard rates only.
    No,
    /// The creator authorised it (the order's `authorised`, or the behaviour model's draw).
    Creator,
    /// A Target flat-fee video, approved, whose seller asked for it to be authorised (TARGET-4).
    SellerRequest,
    /// A Collaboration Plus participant who authorised its videos at the collaboration's prompt
    /// (PLUS-22), for the collaboration's products during its period.
    PlusPrompt,
}

impl Authorisation {
    pub(crate) fn yes(self) -> bool {
        self != Authorisation::No
    }
}

impl Serialize for Authorisation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let by = match self {
            Authorisation::No => None,
            Authorisation::Creator => Some("creator"),
            Authorisation::SellerRequest => Some("seller-request"),
            Authorisation::PlusPrompt => Some("plus-prompt"),
        };
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("authorised", &self.yes())?;
        m.serialize_entry("authorised_by", &by)?;
        m.end()
    }
}

/// The lasting record of a tracked line, for expectations and explanations.
#[derive(Clone, Debug, Serialize)]
pub struct OrderRecord {
    /// The name the scenario gave the line, or its number.
    pub name: String,
    pub no: u64,
    pub creator: String,
    pub product: String,
    pub quantity: u32,
    pub traffic: Traffic,
    pub status: Status,
    pub placed: Option<Stamp>,
    pub shipped: Option<Stamp>,
    pub delivered: Option<Stamp>,
    pub settled: Option<Stamp>,
    pub cancelled: Option<Stamp>,
    pub gross: Money,
    pub base: Money,
    pub refunded: Money,
    pub rate: Option<Rate>,
    pub plan: String,
    pub rules: RuleSet,
    pub(crate) rate_since: Option<Stamp>,
    pub commission: Money,
    pub(crate) distributor_fee: Money,
    pub shop_ads: bool,
    /// Whether the line's video was authorised for Shop Ads at placement (PLUS-10).
    #[serde(flatten)]
    pub authorised: Authorisation,
    /// The Target invitation whose flat-fee video the line came from, if it did (TARGET-4).
    pub target_video: Option<String>,
    /// A refusal, if the rules refused the line or an action on it.
    pub refused: Option<String>,
    /// Every plan that could have paid the line, in precedence order, and why it won or lost.
    pub candidates: Vec<crate::rules::attribution::Candidate>,
}

/// What the lifecycle steps check per line, in one byte: the status (low bits), whether the
/// slot is live, and whether the line has a record (`OrderLine::record` is set). A dense array of
/// these stays in cache where the lines themselves (48 bytes each, millions live) do not.
#[derive(Copy, Clone, Debug)]
struct Hot(u8);

impl Hot {
    const STATUS: u8 = 0x0f;
    const LIVE: u8 = 0x10;
    const TRACKED: u8 = 0x20;

    fn new(tracked: bool) -> Hot {
        let t = if tracked { Hot::TRACKED } else { 0 };
        Hot(Hot::LIVE | t | Status::Placed as u8)
    }
    fn status(self) -> Status {
        match self.0 & Hot::STATUS {
            0 => Status::Placed,
            1 => Status::Shipped,
            2 => Status::Delivered,
            3 => Status::Refunded,
            4 => Status::Settled,
            _ => Status::Cancelled,
        }
    }
    fn set_status(&mut self, s: Status) {
        self.0 = (self.0 & !Hot::STATUS) | s as u8;
    }
    fn live(self) -> bool {
        self.0 & Hot::LIVE != 0
    }
    fn tracked(self) -> bool {
        self.0 & Hot::TRACKED != 0
    }
}

/// The slab of live lines.
#[derive(Clone, Debug, Default)]
pub struct OrderBook {
    lines: Vec<Stored>,
    hot: Vec<Hot>,
    free: Vec<LineKey>,
    /// The amounts of the lines whose amounts do not all pack (by slot); in practice none.
    wide: std::collections::HashMap<LineKey, [Money; 5], rustc_hash::FxBuildHasher>,
    /// Number, quantity and seller of the lines with `Stored::no == ODD`; in practice none.
    odd: std::collections::HashMap<LineKey, Odd, rustc_hash::FxBuildHasher>,
    /// Each product's seller (a line's seller is its product's).
    seller_of: Vec<SellerId>,
    /// The after-sales period in days (SETTLE-2: a line settles at 00:00 of the day after it).
    after_sales_days: u32,
    /// The record index of each tracked line (`Hot::TRACKED`; such lines are never freed).
    tracked_records: std::collections::HashMap<LineKey, u32, rustc_hash::FxBuildHasher>,
    resolutions: Resolutions,
    next_no: u64,
    pub records: Vec<OrderRecord>,
}

impl OrderBook {
    /// A book for lines of products whose sellers are `seller_of` (by product), settling
    /// `after_sales_days` after delivery.
    pub fn new(seller_of: Vec<SellerId>, after_sales_days: u32) -> OrderBook {
        OrderBook {
            seller_of,
            after_sales_days,
            ..Default::default()
        }
    }
    /// When a line delivered at `delivered` settles: 00:00 of the day after the after-sales
    /// period (SETTLE-2: delivered on day D, period N days → paid on day D+N+1); never if it
    /// is not delivered.
    // rule: SETTLE-2
    #[inline]
    pub(crate) fn settles_after(&self, delivered: SimTime) -> SimTime {
        if delivered == SimTime::NEVER {
            SimTime::NEVER
        } else {
            SimTime::start_of_day(delivered.day() + self.after_sales_days + 1)
        }
    }
    /// The next order number to be issued.
    pub(crate) fn next_no(&mut self) -> u64 {
        self.next_no += 1;
        self.next_no
    }
    /// The index to store in `OrderLine::resolution` for `r`.
    pub(crate) fn intern(&mut self, r: Option<Resolution>) -> u32 {
        self.resolutions.intern(r)
    }
    /// A line's resolution: the plan and rate decided at placement, if any.
    #[inline]
    pub(crate) fn resolution(&self, line: &OrderLine) -> Option<Resolution> {
        self.resolutions.list.get(line.resolution as usize).copied()
    }
    /// A line's rate and distributor rate as fractions ([`crate::money::Rate::fraction`]),
    /// beside [`OrderBook::resolution`].
    #[inline]
    pub(crate) fn fractions(&self, line: &OrderLine) -> Option<(Decimal, Option<Decimal>)> {
        self.resolutions
            .fractions
            .get(line.resolution as usize)
            .copied()
    }
    /// Adds a line with status `Placed`; returns its key.
    pub fn insert(&mut self, line: OrderLine) -> LineKey {
        debug_assert_eq!(line.settles, self.settles_after(line.delivered));
        let hot = Hot::new(line.record != u32::MAX);
        let odd = line.no >= u64::from(ODD)
            || line.quantity >> QUANTITY_BITS != 0
            || self.seller_of.get(line.product.idx()) != Some(&line.seller);
        let stored = Stored {
            no: if odd { ODD } else { line.no as u32 },
            creator: line.creator,
            product: line.product,
            quantity_traffic: (line.quantity & ((1 << QUANTITY_BITS) - 1))
                | (traffic_bits(line.traffic) << QUANTITY_BITS),
            placed: line.placed,
            delivered: line.delivered,
            amounts: [Packed::WIDE; 5],
            resolution: line.resolution,
        };
        let k = match self.free.pop() {
            Some(k) => {
                self.lines[k.index()] = stored;
                self.hot[k.index()] = hot;
                k
            }
            None => {
                self.lines.push(stored);
                self.hot.push(hot);
                LineKey::at(self.lines.len() - 1)
            }
        };
        self.store_amounts(k, amounts_of(&line));
        if line.record != u32::MAX {
            self.tracked_records.insert(k, line.record);
        }
        if odd {
            self.odd.insert(
                k,
                Odd {
                    no: line.no,
                    quantity: line.quantity,
                    seller: line.seller,
                },
            );
        }
        k
    }

    /// Packs a line's amounts into its slot, or, if one does not pack, keeps them all whole in
    /// the side table.
    #[inline]
    fn store_amounts(&mut self, k: LineKey, a: [Money; 5]) {
        let slot = &mut self.lines[k.index()].amounts;
        let was_wide = slot[0] == Packed::WIDE;
        let mut fits = true;
        for (p, m) in slot.iter_mut().zip(a) {
            match Packed::pack(m) {
                Some(x) => *p = x,
                None => fits = false,
            }
        }
        if fits {
            if was_wide {
                self.wide.remove(&k);
            }
        } else {
            *slot = [Packed::WIDE; 5];
            self.wide.insert(k, a);
        }
    }

    #[inline]
    fn amounts(&self, k: LineKey) -> [Money; 5] {
        let slot = &self.lines[k.index()].amounts;
        if slot[0] == Packed::WIDE {
            self.wide[&k]
        } else {
            slot.map(Packed::unpack)
        }
    }

    fn unpack(&self, k: LineKey) -> OrderLine {
        let s = &self.lines[k.index()];
        let [paid, shipping, platform_coupon, refunded, held] = self.amounts(k);
        let odd = if s.no == ODD { self.odd.get(&k) } else { None };
        let (no, quantity, seller) = match odd {
            Some(o) => (o.no, o.quantity, o.seller),
            None => (
                u64::from(s.no),
                s.quantity_traffic & ((1 << QUANTITY_BITS) - 1),
                self.seller_of
                    .get(s.product.idx())
                    .copied()
                    .unwrap_or_default(),
            ),
        };
        OrderLine {
            no,
            creator: s.creator,
            product: s.product,
            seller,
            quantity,
            traffic: traffic_of(s.quantity_traffic >> QUANTITY_BITS),
            placed: s.placed,
            delivered: s.delivered,
            settles: self.settles_after(s.delivered),
            paid,
            shipping,
            platform_coupon,
            refunded,
            held,
            resolution: s.resolution,
            record: self.record_of(k),
        }
    }
    pub fn status(&self, k: LineKey) -> Status {
        self.hot[k.index()].status()
    }
    pub(crate) fn set_status(&mut self, k: LineKey, s: Status) {
        self.hot[k.index()].set_status(s);
    }
    /// The line keeps a record (a scripted or explained order).
    pub(crate) fn tracked(&self, k: LineKey) -> bool {
        self.hot[k.index()].tracked()
    }
    /// A copy of line `k`.
    pub fn get(&self, k: LineKey) -> OrderLine {
        self.unpack(k)
    }
    /// Line `k`'s record index (`u32::MAX`: none).
    pub(crate) fn record_of(&self, k: LineKey) -> u32 {
        if self.hot[k.index()].tracked() {
            self.tracked_records.get(&k).copied().unwrap_or(u32::MAX)
        } else {
            u32::MAX
        }
    }
    /// Changes line `k` through `f` (on a copy, stored back).
    pub(crate) fn update<R>(&mut self, k: LineKey, f: impl FnOnce(&mut OrderLine) -> R) -> R {
        let mut line = self.unpack(k);
        let r = f(&mut line);
        debug_assert_eq!(line.settles, self.settles_after(line.delivered));
        self.lines[k.index()].delivered = line.delivered;
        self.store_amounts(k, amounts_of(&line));
        r
    }
    /// Records a delivery (the line settles `settles_after` it).
    pub(crate) fn set_delivered(&mut self, k: LineKey, delivered: SimTime) {
        self.lines[k.index()].delivered = delivered;
    }
    /// Sets what escrow holds for line `k`.
    pub(crate) fn set_held(&mut self, k: LineKey, held: Money) {
        match Packed::pack(held) {
            Some(p) if self.lines[k.index()].amounts[0] != Packed::WIDE => {
                self.lines[k.index()].amounts[4] = p;
            }
            _ => {
                let mut a = self.amounts(k);
                a[4] = held;
                self.store_amounts(k, a);
            }
        }
    }
    pub fn free(&mut self, k: LineKey) {
        debug_assert!(self.hot[k.index()].live());
        self.hot[k.index()].0 &= !Hot::LIVE;
        if self.lines[k.index()].amounts[0] == Packed::WIDE {
            self.wide.remove(&k);
        }
        debug_assert!(!self.hot[k.index()].tracked(), "a tracked line is kept");
        if self.lines[k.index()].no == ODD {
            self.odd.remove(&k);
        }
        self.free.push(k);
    }
    /// Live lines (not settled or cancelled, or tracked and kept), with their status.
    pub(crate) fn live_lines(&self) -> impl Iterator<Item = (Status, OrderLine)> + '_ {
        self.hot
            .iter()
            .enumerate()
            .filter(|(_, h)| h.live())
            .map(|(k, h)| (h.status(), self.unpack(LineKey::at(k))))
    }
    /// The line's status byte and the line (for prefetching).
    pub(crate) fn slot_refs(&self, k: LineKey) -> Option<(&u8, &Stored)> {
        Some((&self.hot.get(k.index())?.0, self.lines.get(k.index())?))
    }
    pub(crate) fn issued(&self) -> u64 {
        self.next_no
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_are_stored_once_and_exactly() {
        use crate::rules::plans::PlanRef;
        let r = |rate: &str| Resolution {
            plan: PlanRef::Open(crate::rules::ids::OpenPlanId(3)),
            rate: rate.parse().unwrap(),
            distributor: None,
            shop_ads: false,
            since: SimTime(60),
            rules: RuleSet::EMPTY,
        };
        let mut book = OrderBook::default();
        let a = book.intern(Some(r("10%")));
        assert_eq!(book.intern(Some(r("10%"))), a);
        // Equal in value, not in representation: kept apart, as the arithmetic keeps them.
        let b = book.intern(Some(r("10.0%")));
        assert_ne!(a, b);
        assert_eq!(book.intern(None), NO_RESOLUTION);
        let line = |res| OrderLine {
            no: 1,
            creator: CreatorId(0),
            product: ProductId(0),
            seller: SellerId(0),
            quantity: 1,
            traffic: Traffic::Video,
            placed: SimTime(0),
            delivered: SimTime::NEVER,
            settles: SimTime::NEVER,
            paid: Money::ZERO,
            shipping: Money::ZERO,
            platform_coupon: Money::ZERO,
            refunded: Money::ZERO,
            held: Money::ZERO,
            resolution: res,
            record: u32::MAX,
        };
        assert_eq!(book.resolution(&line(b)).unwrap().rate.0.scale(), 1);
        assert_eq!(book.resolution(&line(a)).unwrap().rate.0.scale(), 0);
        assert!(book.resolution(&line(NO_RESOLUTION)).is_none());
    }

    #[test]
    fn a_stored_line_is_48_bytes() {
        assert_eq!(size_of::<Stored>(), 48);
    }

    /// What the slot does not hold — the seller, the settlement time, an order number, quantity
    /// or seller out of its compact range, amounts too large to pack, a record index — comes
    /// back exactly, and a freed slot reused by an ordinary line forgets it.
    #[test]
    fn every_line_round_trips_through_the_book() {
        let mut book = OrderBook::new(vec![SellerId(4), SellerId(7)], 7);
        let line = |no: u64, quantity: u32, seller: u32, paid: &str, record: u32| OrderLine {
            no,
            creator: CreatorId(3),
            product: ProductId(1),
            seller: SellerId(seller),
            quantity,
            traffic: Traffic::Ad,
            placed: SimTime(90),
            delivered: SimTime::NEVER,
            settles: SimTime::NEVER,
            paid: paid.parse().unwrap(),
            shipping: "1.50".parse().unwrap(),
            platform_coupon: Money::ZERO,
            refunded: Money::ZERO,
            held: paid.parse().unwrap(),
            resolution: NO_RESOLUTION,
            record,
        };
        let same = |a: &OrderLine, b: &OrderLine| {
            assert_eq!(
                (a.no, a.creator, a.product, a.seller, a.quantity, a.traffic),
                (b.no, b.creator, b.product, b.seller, b.quantity, b.traffic)
            );
            assert_eq!(
                (a.placed, a.delivered, a.settles),
                (b.placed, b.delivered, b.settles)
            );
            assert_eq!(
                amounts_of(a).map(|m| m.0.serialize()),
                amounts_of(b).map(|m| m.0.serialize())
            );
            assert_eq!((a.resolution, a.record), (b.resolution, b.record));
        };
        for l in [
            line(1, 2, 7, "10.00", u32::MAX),
            line(u64::from(u32::MAX), 2, 7, "10.00", u32::MAX),
            line(5_000_000_000, 1 << 30, 7, "10.00", 0),
            line(2, 3, 9, "10.00", u32::MAX),
            line(3, 1, 7, "99999999.99", 2),
        ] {
            let k = book.insert(l);
            same(&book.get(k), &l);
            let at = SimTime(3 * 1440 + 5);
            book.set_delivered(k, at);
            let got = book.get(k);
            assert_eq!(got.settles, SimTime::start_of_day(3 + 7 + 1));
            same(
                &got,
                &OrderLine {
                    delivered: at,
                    settles: got.settles,
                    ..l
                },
            );
            if l.record == u32::MAX {
                book.free(k);
                let plain = line(8, 1, 7, "2.00", u32::MAX);
                let again = book.insert(plain);
                assert_eq!(again, k);
                same(&book.get(again), &plain);
                book.free(again);
            }
        }
    }

    #[test]
    fn the_status_byte_round_trips() {
        for tracked in [false, true] {
            let mut h = Hot::new(tracked);
            for s in [
                Status::Placed,
                Status::Shipped,
                Status::Delivered,
                Status::Refunded,
                Status::Settled,
                Status::Cancelled,
            ] {
                h.set_status(s);
                assert_eq!((h.status(), h.live(), h.tracked()), (s, true, tracked));
            }
        }
    }
}
