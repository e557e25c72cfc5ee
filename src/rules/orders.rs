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

/// A line as `Platform::place_order` makes it, for [`OrderBook::insert_placed`]: status
/// `Placed`, not delivered, nothing refunded, escrow holding [`held_at_placement`] of its
/// amounts, and its seller its product's, as the book was given them (the product's own
/// seller, from the agents the book's sellers came from: the per-product seller table is not
/// read, one cache line less per placement). The held amount is not computed at placement: the
/// book derives it when it is read (issue 18, session 16).
#[derive(Copy, Clone, Debug)]
pub(crate) struct NewLine {
    pub no: u64,
    pub creator: CreatorId,
    pub product: ProductId,
    pub seller: SellerId,
    pub quantity: u32,
    pub traffic: Traffic,
    pub placed: SimTime,
    pub paid: Money,
    pub shipping: Money,
    pub platform_coupon: Money,
    pub resolution: u32,
    pub record: u32,
}

impl NewLine {
    /// The fields of `line` a new line has (its delivery, refund and held amount left out).
    fn of(line: &OrderLine) -> NewLine {
        NewLine {
            no: line.no,
            creator: line.creator,
            product: line.product,
            seller: line.seller,
            quantity: line.quantity,
            traffic: line.traffic,
            placed: line.placed,
            paid: line.paid,
            shipping: line.shipping,
            platform_coupon: line.platform_coupon,
            resolution: line.resolution,
            record: line.record,
        }
    }
    /// The whole line, its held amount computed ([`held_at_placement`]).
    pub(crate) fn line(&self) -> OrderLine {
        OrderLine {
            no: self.no,
            creator: self.creator,
            product: self.product,
            seller: self.seller,
            quantity: self.quantity,
            traffic: self.traffic,
            placed: self.placed,
            delivered: SimTime::NEVER,
            settles: SimTime::NEVER,
            paid: self.paid,
            shipping: self.shipping,
            platform_coupon: self.platform_coupon,
            refunded: Money::ZERO,
            held: held_at_placement(self.paid, self.shipping, self.platform_coupon),
            resolution: self.resolution,
            record: self.record,
        }
    }
}

/// An order line as the slab stores it, in 32 bytes: the fields of [`OrderLine`] less what the
/// book can give back — the seller (its product's, [`OrderBook`]'s table), the settlement time
/// (from the delivery, SETTLE-2), the record index (a side table for the few tracked lines), the
/// shipping amount (an index into the book's few distinct amounts), the platform coupon (zero, or
/// in a side table: most lines have none), the refunded and held amounts (two bits: nothing
/// refunded and escrow holding paid + shipping + coupon, as at placement, or nothing refunded and
/// nothing held, as after settlement; anything else in a side table) — with the quantity, the
/// traffic and those bits in one word and the paid amount packed into 4 bytes ([`Packed`],
/// exact). A line in flight is most of a large run's memory (issue 18, target 3: 88 bytes, then
/// 48, before). The rare line that does not fit — an order number from 2^32 − 1 on, a quantity
/// from 2^25 on, a seller other than its product's — has `no == ODD` and those fields in the side
/// table `odd`; one with an amount too large to pack, or a fifth distinct shipping amount, has
/// `paid == Packed::WIDE` and its five amounts whole in `wide`.
///
/// Aligned to 32 bytes, two lines to a cache line: a line never spans two. The slab keeps lines
/// in fixed pages ([`Lines`]) since a `Vec` of over-aligned lines would copy itself at every
/// doubling (the allocator cannot `mremap` an over-aligned block).
#[derive(Clone, Debug)]
#[repr(align(32))]
pub struct Stored {
    no: u32,
    creator: CreatorId,
    product: ProductId,
    /// The quantity (bits 0–24), the shipping index (25–26), whether a coupon is in the side
    /// table (27), the held state (28–29), the traffic (30–31).
    bits: u32,
    placed: SimTime,
    delivered: SimTime,
    paid: Packed,
    resolution: u32,
}

/// `Stored::no` of a line whose number, quantity and seller are in `OrderBook::odd`.
const ODD: u32 = u32::MAX;
const QUANTITY_BITS: u32 = 25;
const QUANTITY_MASK: u32 = (1 << QUANTITY_BITS) - 1;
const SHIPPING_SHIFT: u32 = 25;
/// Distinct shipping amounts the book indexes (2 bits); a line with another one is wide.
const SHIPPINGS: usize = 4;
const COUPON_BIT: u32 = 1 << 27;
const HELD_SHIFT: u32 = 28;
/// Nothing refunded; escrow holds paid + shipping + coupon (as placed).
const HELD_FULL: u32 = 0;
/// Nothing refunded; escrow holds nothing (settled or cancelled).
const HELD_ZERO: u32 = 1;
/// The refunded and held amounts are in `OrderBook::adjusted`.
const HELD_ADJUSTED: u32 = 2;
const TRAFFIC_SHIFT: u32 = 30;

/// Whether two amounts are the same decimal, scale and sign included (not only equal in value).
#[inline]
fn same(a: Money, b: Money) -> bool {
    a.0.serialize() == b.0.serialize()
}

/// What escrow holds for a line at placement (`Platform::place_order` computes it so).
#[inline]
pub(crate) fn held_at_placement(paid: Money, shipping: Money, coupon: Money) -> Money {
    paid + shipping + coupon
}

/// [`held_at_placement`] of packed amounts in the packed form, for the usual line: no coupon,
/// and no shipping or a shipping of the paid amount's scale (`None` otherwise, or for a zero sum:
/// `Decimal`'s zeros keep or drop scales their own way). Adding `Money::ZERO` to a non-zero
/// amount gives back its bytes, and the same-scale sum is `Decimal`'s (packed.rs's test).
#[inline]
fn held_fast(paid: Packed, shipping: Packed, coupon: Packed) -> Option<Packed> {
    if coupon != Packed::ZERO {
        None
    } else if shipping == Packed::ZERO {
        paid.nonzero_with_zero()
    } else {
        paid.add_same_scale(shipping)
    }
}

/// [`held_at_placement`] of packed amounts: [`held_fast`], else by `Decimal` addition. The book
/// derives a `HELD_FULL` line's held amount with it and stores a line as `HELD_FULL` only when it
/// gives the held amount's exact bytes, so the two ways never disagree.
#[inline]
fn held_derived(paid: Packed, shipping: Packed, coupon: Packed) -> Money {
    match held_fast(paid, shipping, coupon) {
        Some(p) => p.unpack(),
        None => held_at_placement(paid.unpack(), shipping.unpack(), coupon.unpack()),
    }
}

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
    /// The line's interned resolution index (the loop prefetches the entry before settling).
    pub(crate) fn resolution(&self) -> u32 {
        self.resolution
    }
    /// The line's product (the loop prefetches its seller before settling).
    pub(crate) fn product(&self) -> ProductId {
        self.product
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

/// The exact key of a resolution.
#[inline]
fn key_of(r: &Resolution) -> ResolutionKey {
    (
        r.plan,
        r.rate.0.serialize(),
        r.distributor.map(|(d, rate)| (d, rate.0.serialize())),
        r.shop_ads,
        r.since,
        r.rules,
    )
}

/// One interned resolution with its rate's and its distributor rate's `Rate::fraction` (a
/// decimal division), computed once here instead of at every settlement of its lines. Aligned
/// to a cache line, with everything a line without a distributor reads in the first 64 bytes
/// (`repr(C)` keeps the order): interning and settling such a line read one line, not two to
/// four; the distributor part (a few lines in a hundred) is in the second.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Interned {
    rules: RuleSet,
    rate: Rate,
    rate_fraction: Decimal,
    plan: crate::rules::plans::PlanRef,
    since: SimTime,
    shop_ads: bool,
    /// `distributor` is `Some` (then `distributor_fraction` is too).
    has_distributor: bool,
    distributor: Option<(crate::model::DistributorId, Rate)>,
    distributor_fraction: Option<Decimal>,
}

impl Interned {
    fn new(r: &Resolution) -> Interned {
        Interned {
            rules: r.rules,
            rate: r.rate,
            rate_fraction: r.rate.fraction(),
            plan: r.plan,
            since: r.since,
            shop_ads: r.shop_ads,
            has_distributor: r.distributor.is_some(),
            distributor: r.distributor,
            distributor_fraction: r.distributor.map(|(_, d)| d.fraction()),
        }
    }
    /// The resolution, reading the second cache line only when there is a distributor.
    #[inline]
    fn res(&self) -> Resolution {
        Resolution {
            plan: self.plan,
            rate: self.rate,
            distributor: if self.has_distributor {
                self.distributor
            } else {
                None
            },
            shop_ads: self.shop_ads,
            since: self.since,
            rules: self.rules,
        }
    }
    #[inline]
    fn fractions(&self) -> (Decimal, Option<Decimal>) {
        (
            self.rate_fraction,
            if self.has_distributor {
                self.distributor_fraction
            } else {
                None
            },
        )
    }
    /// Whether `key` is this entry's exact key ([`key_of`] of [`Interned::res`]).
    #[inline]
    fn has_key(&self, key: &ResolutionKey) -> bool {
        key_of(&self.res()) == *key
    }
}

/// The distinct resolutions of a replication's lines, each stored once: most lines share one
/// of a few thousand (plan, rate, since, rules) combinations, and a line keeps a 4-byte index
/// instead of an 80-byte copy.
#[derive(Clone, Debug, Default)]
struct Resolutions {
    list: Vec<Interned>,
    /// Fx hashing (rustc-hash): fast for these small keys; the table is never iterated, so its
    /// order does not matter.
    ids: std::collections::HashMap<ResolutionKey, u32, rustc_hash::FxBuildHasher>,
    /// Per product, the index last interned for a line of it ([`NO_RESOLUTION`]: none). Most
    /// lines of a product resolve alike, so comparing with that entry answers without hashing:
    /// a key equal to entry `i`'s is the table's key for `i` (every entry went in with its own
    /// key, and keys are unique), so the index is the table's.
    by_product: Vec<u32>,
}

impl Resolutions {
    fn intern(&mut self, r: Option<Resolution>, product: ProductId) -> u32 {
        let Some(r) = r else {
            return NO_RESOLUTION;
        };
        let key = key_of(&r);
        let p = product.idx();
        if let Some(&m) = self.by_product.get(p)
            && let Some(e) = self.list.get(m as usize)
            && e.has_key(&key)
        {
            return m;
        }
        let list = &mut self.list;
        let id = *self.ids.entry(key).or_insert_with(|| {
            list.push(Interned::new(&r));
            (list.len() - 1) as u32
        });
        if self.by_product.len() <= p {
            self.by_product.resize(p + 1, NO_RESOLUTION);
        }
        self.by_product[p] = id;
        id
    }
}

/// The fields of a line that settlement reads ([`OrderBook::settling`]).
#[derive(Copy, Clone, Debug)]
pub(crate) struct SettlingLine {
    pub no: u64,
    pub creator: CreatorId,
    pub product: ProductId,
    pub seller: SellerId,
    pub placed: SimTime,
    /// Also the commissionable amount (`OrderLine::base`, H-1).
    pub paid: Money,
    pub refunded: Money,
    pub held: Money,
    pub resolution: u32,
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
/// these stays in cache where the lines themselves (32 bytes each, millions live) do not.
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

/// Lines per page of [`Lines`] (2 MiB of lines).
const PAGE_BITS: u32 = 16;
const PAGE: usize = 1 << PAGE_BITS;

/// The slab's storage: pages of `PAGE` lines, each allocated once at its full capacity, so that
/// growing never moves a line. (A `Vec` of 32-byte-aligned lines would copy itself at every
/// doubling — the allocator cannot `mremap` an over-aligned block — and hold the old and the new
/// block at once, the peak of a large run.) A page's memory becomes resident as lines are
/// written into it.
#[derive(Clone, Debug, Default)]
struct Lines {
    pages: Vec<Vec<Stored>>,
    len: usize,
}

impl Lines {
    fn len(&self) -> usize {
        self.len
    }
    fn push(&mut self, s: Stored) {
        if self.len == self.pages.len() * PAGE {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        if let Some(page) = self.pages.last_mut() {
            page.push(s);
            self.len += 1;
        }
    }
    #[inline]
    fn get(&self, i: usize) -> Option<&Stored> {
        self.pages.get(i >> PAGE_BITS)?.get(i & (PAGE - 1))
    }
}

impl std::ops::Index<usize> for Lines {
    type Output = Stored;
    #[inline]
    fn index(&self, i: usize) -> &Stored {
        &self.pages[i >> PAGE_BITS][i & (PAGE - 1)]
    }
}

impl std::ops::IndexMut<usize> for Lines {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Stored {
        &mut self.pages[i >> PAGE_BITS][i & (PAGE - 1)]
    }
}

type SideTable<T> = std::collections::HashMap<LineKey, T, rustc_hash::FxBuildHasher>;

/// The slab of live lines.
#[derive(Clone, Debug, Default)]
pub struct OrderBook {
    lines: Lines,
    hot: Vec<Hot>,
    /// The freed slots, last freed first: the index + 1 of the first (0: none), each freed
    /// slot's `no` holding the next one's (a list through the slots themselves: no memory of its
    /// own, where a `Vec` of keys grew to every slot by the end of a run).
    free_head: u32,
    /// The five amounts of the lines with `Stored::paid == Packed::WIDE` (an amount that does not
    /// pack, or a fifth distinct shipping amount); in practice none.
    wide: SideTable<[Money; 5]>,
    /// The platform coupon of the lines with one (`COUPON_BIT`).
    coupons: SideTable<Packed>,
    /// The refunded and held amounts of the lines with `HELD_ADJUSTED` (a refund, in practice).
    adjusted: SideTable<[Money; 2]>,
    /// The distinct shipping amounts, in the order lines first brought them (at most `SHIPPINGS`).
    shippings: Vec<Packed>,
    /// Number, quantity and seller of the lines with `Stored::no == ODD`; in practice none.
    odd: SideTable<Odd>,
    /// Each product's seller (a line's seller is its product's).
    seller_of: Vec<SellerId>,
    /// The after-sales period in days (SETTLE-2: a line settles at 00:00 of the day after it).
    after_sales_days: u32,
    /// The record index of each tracked line (`Hot::TRACKED`; such lines are never freed).
    tracked_records: SideTable<u32>,
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
    pub(crate) fn intern(&mut self, r: Option<Resolution>, product: ProductId) -> u32 {
        self.resolutions.intern(r, product)
    }
    /// Prefetches what interning a resolution for a line of `p` reads first: the product's
    /// last index (a hint: no effect on results).
    #[inline]
    pub(crate) fn prefetch_memo(&self, p: ProductId) {
        if let Some(m) = self.resolutions.by_product.get(p.idx()) {
            crate::hint::prefetch(m);
        }
    }
    /// Prefetches the entry the product's last index names (once that index is in cache).
    #[inline]
    pub(crate) fn prefetch_memoed(&self, p: ProductId) {
        if let Some(&m) = self.resolutions.by_product.get(p.idx()) {
            self.prefetch_resolution(m);
        }
    }
    /// The plan of interned resolution `i`, if there is one (for prefetching the plan's sums).
    #[inline]
    pub(crate) fn resolution_plan(&self, i: u32) -> Option<crate::rules::plans::PlanRef> {
        self.resolutions.list.get(i as usize).map(|e| e.plan)
    }
    /// The plan of the resolution last interned for a line of `p` (for prefetching).
    #[inline]
    pub(crate) fn memoed_plan(&self, p: ProductId) -> Option<crate::rules::plans::PlanRef> {
        let &m = self.resolutions.by_product.get(p.idx())?;
        self.resolution_plan(m)
    }
    /// Where the seller of product `p` is kept (for prefetching: placing and settling a line
    /// read it).
    #[inline]
    pub(crate) fn seller_of_ref(&self, p: ProductId) -> Option<&SellerId> {
        self.seller_of.get(p.idx())
    }
    /// Prefetches interned resolution `i` (what settling a line that has it reads).
    #[inline]
    pub(crate) fn prefetch_resolution(&self, i: u32) {
        if let Some(e) = self.resolutions.list.get(i as usize) {
            // The first cache line: all that a line without a distributor reads.
            crate::hint::prefetch(&e.rules);
        }
    }
    /// A line's resolution: the plan and rate decided at placement, if any.
    #[inline]
    pub(crate) fn resolution(&self, line: &OrderLine) -> Option<Resolution> {
        self.resolutions
            .list
            .get(line.resolution as usize)
            .map(Interned::res)
    }
    /// Adds a line with status `Placed`; returns its key.
    pub fn insert(&mut self, line: OrderLine) -> LineKey {
        let products = self.seller_of.get(line.product.idx()) == Some(&line.seller);
        self.insert_checked(line, products)
    }
    fn insert_checked(&mut self, line: OrderLine, products_seller: bool) -> LineKey {
        debug_assert_eq!(line.settles, self.settles_after(line.delivered));
        let k = self.insert_slot(&NewLine::of(&line), line.delivered, products_seller);
        self.store_amounts(k, amounts_of(&line), true);
        k
    }
    /// Adds a line as `Platform::place_order` makes it ([`NewLine`]: status `Placed`, not
    /// delivered, nothing refunded, escrow holding [`held_at_placement`], the seller its
    /// product's); returns its key. The same slot and side entries as [`OrderBook::insert`] of
    /// [`NewLine::line`] (test `a_new_line_is_stored_as_insert_stores_it`), without computing the
    /// held amount or checking that it is the one derived: by construction it is (session 16).
    pub(crate) fn insert_placed(&mut self, line: NewLine) -> LineKey {
        debug_assert_eq!(
            self.seller_of.get(line.product.idx()),
            Some(&line.seller),
            "not the product's seller"
        );
        let k = self.insert_slot(&line, SimTime::NEVER, true);
        let parts = match (Packed::pack(line.paid), Packed::pack(line.platform_coupon)) {
            (Some(p), Some(c)) => self.shipping_index(line.shipping).map(|s| (p, s, c)),
            _ => None,
        };
        let Some((p, ship, c)) = parts else {
            self.lines[k.index()].paid = Packed::WIDE;
            self.wide.insert(k, amounts_of(&line.line()));
            return k;
        };
        // HELD_FULL (0): nothing refunded, escrow holding what `held_derived` gives, which is
        // `held_at_placement` of these amounts to the bytes (their packed forms unpack to the
        // same bytes).
        let s = &mut self.lines[k.index()];
        let mut bits = s.bits | (ship << SHIPPING_SHIFT) | (HELD_FULL << HELD_SHIFT);
        s.paid = p;
        if c != Packed::ZERO {
            bits |= COUPON_BIT;
            s.bits = bits;
            self.coupons.insert(k, c);
        } else {
            s.bits = bits;
        }
        k
    }
    /// Takes a slot (a freed one first) for `line`, delivered at `delivered`, and writes its
    /// fields other than the amounts (`paid` is `Packed::WIDE` until `store_amounts` or
    /// `insert_placed` sets it), its status byte and its record and odd entries.
    #[inline(always)]
    fn insert_slot(
        &mut self,
        line: &NewLine,
        delivered: SimTime,
        products_seller: bool,
    ) -> LineKey {
        let NewLine {
            no,
            creator,
            product,
            seller,
            quantity,
            traffic,
            placed,
            resolution,
            record,
            ..
        } = *line;
        let hot = Hot::new(record != u32::MAX);
        let odd = no >= u64::from(ODD) || quantity >> QUANTITY_BITS != 0 || !products_seller;
        let stored = Stored {
            no: if odd { ODD } else { no as u32 },
            creator,
            product,
            bits: (quantity & QUANTITY_MASK) | (traffic_bits(traffic) << TRAFFIC_SHIFT),
            placed,
            delivered,
            paid: Packed::WIDE,
            resolution,
        };
        let k = match self.pop_free() {
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
        if record != u32::MAX {
            self.tracked_records.insert(k, record);
        }
        if odd {
            self.odd.insert(
                k,
                Odd {
                    no,
                    quantity,
                    seller,
                },
            );
        }
        k
    }

    /// The most recently freed slot, taken off the free list. The slot after it, which the next
    /// line will take, is prefetched now (its line and status byte): the free list runs through
    /// slots freed at settlement, long out of cache, and the next placement would wait for it.
    #[inline]
    fn pop_free(&mut self) -> Option<LineKey> {
        let i = self.free_head.checked_sub(1)? as usize;
        self.free_head = self.lines[i].no;
        if let Some(j) = self.free_head.checked_sub(1)
            && let Some((h, l)) = self.slot_refs(LineKey::at(j as usize))
        {
            crate::hint::prefetch(h);
            crate::hint::prefetch(l);
        }
        Some(LineKey::at(i))
    }

    /// The index of a shipping amount among the book's distinct ones (added if there is room).
    #[inline]
    fn shipping_index(&mut self, shipping: Money) -> Option<u32> {
        let p = Packed::pack(shipping)?;
        if let Some(i) = self.shippings.iter().position(|&x| x == p) {
            return Some(i as u32);
        }
        if self.shippings.len() < SHIPPINGS {
            self.shippings.push(p);
            return Some((self.shippings.len() - 1) as u32);
        }
        None
    }

    /// Removes line `k`'s entries in the coupon and adjusted side tables, if its bits say it has
    /// them (`Stored::bits` of a compact line).
    #[inline]
    fn forget_extras(&mut self, k: LineKey, bits: u32) {
        if bits & COUPON_BIT != 0 {
            self.coupons.remove(&k);
        }
        if (bits >> HELD_SHIFT) & 3 == HELD_ADJUSTED {
            self.adjusted.remove(&k);
        }
    }

    /// Stores a line's five amounts: compact in its slot and bits (with the coupon and adjusted
    /// side tables) or, if the paid amount, the shipping or the coupon does not fit, all whole in
    /// `wide`. `fresh`: the slot has just been written and has no side entries yet.
    #[inline]
    fn store_amounts(&mut self, k: LineKey, a: [Money; 5], fresh: bool) {
        let [paid, shipping, coupon, refunded, held] = a;
        let i = k.index();
        let old = self.lines[i].bits;
        let was_wide = !fresh && self.lines[i].paid == Packed::WIDE;
        let had_extras = !fresh && !was_wide;
        let parts = match (Packed::pack(paid), Packed::pack(coupon)) {
            (Some(p), Some(c)) => self.shipping_index(shipping).map(|s| (p, s, c)),
            _ => None,
        };
        let Some((p, ship, c)) = parts else {
            if had_extras {
                self.forget_extras(k, old);
            }
            self.lines[i].paid = Packed::WIDE;
            self.wide.insert(k, a);
            return;
        };
        if was_wide {
            self.wide.remove(&k);
        }
        let mut bits = (old & (QUANTITY_MASK | (3 << TRAFFIC_SHIFT))) | (ship << SHIPPING_SHIFT);
        if c == Packed::ZERO {
            if had_extras && old & COUPON_BIT != 0 {
                self.coupons.remove(&k);
            }
        } else {
            bits |= COUPON_BIT;
            self.coupons.insert(k, c);
        }
        let nothing_refunded = Packed::pack(refunded) == Some(Packed::ZERO);
        let state =
            if nothing_refunded && same(held, held_derived(p, self.shippings[ship as usize], c)) {
                HELD_FULL
            } else if nothing_refunded && Packed::pack(held) == Some(Packed::ZERO) {
                HELD_ZERO
            } else {
                HELD_ADJUSTED
            };
        if state == HELD_ADJUSTED {
            self.adjusted.insert(k, [refunded, held]);
        } else if had_extras && (old >> HELD_SHIFT) & 3 == HELD_ADJUSTED {
            self.adjusted.remove(&k);
        }
        bits |= state << HELD_SHIFT;
        let s = &mut self.lines[i];
        s.paid = p;
        s.bits = bits;
    }

    #[inline]
    fn amounts(&self, k: LineKey) -> [Money; 5] {
        let s = &self.lines[k.index()];
        if s.paid == Packed::WIDE {
            return self.wide[&k];
        }
        let ship = self.shippings[((s.bits >> SHIPPING_SHIFT) & 3) as usize];
        let coupon = if s.bits & COUPON_BIT != 0 {
            self.coupons[&k]
        } else {
            Packed::ZERO
        };
        let (paid, shipping) = (s.paid.unpack(), ship.unpack());
        let [refunded, held] = match (s.bits >> HELD_SHIFT) & 3 {
            HELD_FULL => [Money::ZERO, held_derived(s.paid, ship, coupon)],
            HELD_ZERO => [Money::ZERO, Money::ZERO],
            _ => self.adjusted[&k],
        };
        [paid, shipping, coupon.unpack(), refunded, held]
    }

    fn unpack(&self, k: LineKey) -> OrderLine {
        let s = &self.lines[k.index()];
        let [paid, shipping, platform_coupon, refunded, held] = self.amounts(k);
        let odd = if s.no == ODD { self.odd.get(&k) } else { None };
        let (no, quantity, seller) = match odd {
            Some(o) => (o.no, o.quantity, o.seller),
            None => (
                u64::from(s.no),
                s.bits & QUANTITY_MASK,
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
            traffic: traffic_of(s.bits >> TRAFFIC_SHIFT),
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
    /// What settlement reads of line `k` (`Platform::settle`): [`OrderBook::get`]'s fields less
    /// the settlement time, the record index, the traffic, the quantity, the shipping and the
    /// coupon. The usual line — compact, no coupon, nothing refunded — is read straight from its
    /// slot (the same amounts `get` gives: the same `held_derived`), any other through `get`.
    #[inline]
    pub(crate) fn settling(&self, k: LineKey) -> SettlingLine {
        let s = &self.lines[k.index()];
        if s.paid != Packed::WIDE
            && s.no != ODD
            && s.bits & COUPON_BIT == 0
            && (s.bits >> HELD_SHIFT) & 3 == HELD_FULL
        {
            let ship = self.shippings[((s.bits >> SHIPPING_SHIFT) & 3) as usize];
            return SettlingLine {
                no: u64::from(s.no),
                creator: s.creator,
                product: s.product,
                seller: self
                    .seller_of
                    .get(s.product.idx())
                    .copied()
                    .unwrap_or_default(),
                placed: s.placed,
                paid: s.paid.unpack(),
                refunded: Money::ZERO,
                held: held_derived(s.paid, ship, Packed::ZERO),
                resolution: s.resolution,
            };
        }
        self.settling_slow(k)
    }
    #[inline(never)]
    fn settling_slow(&self, k: LineKey) -> SettlingLine {
        let l = self.unpack(k);
        SettlingLine {
            no: l.no,
            creator: l.creator,
            product: l.product,
            seller: l.seller,
            placed: l.placed,
            paid: l.paid,
            refunded: l.refunded,
            held: l.held,
            resolution: l.resolution,
        }
    }
    /// Interned resolution `i` (`OrderLine::resolution`), if any.
    #[inline]
    pub(crate) fn resolution_at(&self, i: u32) -> Option<Resolution> {
        self.resolutions.list.get(i as usize).map(Interned::res)
    }
    /// Interned resolution `i`'s rate and distributor rate as fractions
    /// ([`crate::money::Rate::fraction`]), beside [`OrderBook::resolution_at`].
    #[inline]
    pub(crate) fn fractions_at(&self, i: u32) -> Option<(Decimal, Option<Decimal>)> {
        self.resolutions
            .list
            .get(i as usize)
            .map(Interned::fractions)
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
        self.store_amounts(k, amounts_of(&line), false);
        r
    }
    /// Records a delivery (the line settles `settles_after` it).
    pub(crate) fn set_delivered(&mut self, k: LineKey, delivered: SimTime) {
        self.lines[k.index()].delivered = delivered;
    }
    /// Sets what escrow holds for line `k`.
    pub(crate) fn set_held(&mut self, k: LineKey, held: Money) {
        let s = &mut self.lines[k.index()];
        let state = (s.bits >> HELD_SHIFT) & 3;
        if s.paid != Packed::WIDE
            && state != HELD_ADJUSTED
            && Packed::pack(held) == Some(Packed::ZERO)
        {
            // Nothing refunded, nothing held: the bits say it (settlement, cancellation).
            s.bits = (s.bits & !(3 << HELD_SHIFT)) | (HELD_ZERO << HELD_SHIFT);
            return;
        }
        let mut a = self.amounts(k);
        a[4] = held;
        self.store_amounts(k, a, false);
    }
    pub fn free(&mut self, k: LineKey) {
        debug_assert!(self.hot[k.index()].live());
        self.hot[k.index()].0 &= !Hot::LIVE;
        let s = &self.lines[k.index()];
        let (bits, wide, odd) = (s.bits, s.paid == Packed::WIDE, s.no == ODD);
        if wide {
            self.wide.remove(&k);
        } else {
            self.forget_extras(k, bits);
        }
        debug_assert!(!self.hot[k.index()].tracked(), "a tracked line is kept");
        if odd {
            self.odd.remove(&k);
        }
        self.lines[k.index()].no = self.free_head;
        self.free_head = k.index() as u32 + 1;
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

    /// `OrderBook::settling` reads line `k` as `get` does, amounts to the bytes.
    fn settling_agrees(book: &OrderBook, k: LineKey) {
        let (l, s) = (book.get(k), book.settling(k));
        let b = |m: Money| m.0.serialize();
        assert_eq!(
            (l.no, l.creator, l.product, l.seller, l.placed, l.resolution),
            (s.no, s.creator, s.product, s.seller, s.placed, s.resolution)
        );
        assert_eq!(
            [b(l.paid), b(l.refunded), b(l.held)],
            [b(s.paid), b(s.refunded), b(s.held)]
        );
    }

    /// A one-unit line of `product` with resolution index `res`, placed at time 0 and nothing
    /// paid: what the resolution tests read back through the book.
    fn placed_line(product: ProductId, res: u32) -> OrderLine {
        OrderLine {
            no: 1,
            creator: CreatorId(0),
            product,
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
        }
    }

    #[test]
    fn interned_distributor_parts_round_trip_and_stay_apart() {
        use crate::model::DistributorId;
        use crate::rules::plans::PlanRef;
        let r = |d: Option<(u32, &str)>| Resolution {
            plan: PlanRef::Distributor(crate::rules::ids::CampaignId(1)),
            rate: "8%".parse().unwrap(),
            distributor: d.map(|(i, x)| (DistributorId(i), x.parse().unwrap())),
            shop_ads: false,
            since: SimTime(5),
            rules: RuleSet::EMPTY,
        };
        let mut book = OrderBook::default();
        let p = ProductId(3);
        let none = book.intern(Some(r(None)), p);
        let two = book.intern(Some(r(Some((0, "2%")))), p);
        let two0 = book.intern(Some(r(Some((0, "2.0%")))), p);
        let other = book.intern(Some(r(Some((1, "2%")))), p);
        assert_eq!(
            [none, two, two0, other]
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            4
        );
        // Again, through the product's memo and through the table.
        assert_eq!(book.intern(Some(r(Some((1, "2%")))), p), other);
        assert_eq!(book.intern(Some(r(Some((0, "2%")))), p), two);
        assert_eq!(book.intern(Some(r(None)), p), none);
        assert_eq!(book.intern(Some(r(None)), p), none);
        let line = |res| placed_line(p, res);
        for (i, d) in [
            (none, None),
            (two, Some((0, "2%"))),
            (two0, Some((0, "2.0%"))),
        ] {
            let want = r(d);
            let got = book.resolution(&line(i)).unwrap();
            assert_eq!(key_of(&got), key_of(&want));
            let (f, df) = book.fractions_at(i).unwrap();
            assert_eq!(f.serialize(), want.rate.fraction().serialize());
            assert_eq!(
                df.map(|x| x.serialize()),
                want.distributor.map(|(_, x)| x.fraction().serialize())
            );
        }
        assert_eq!(size_of::<Interned>(), 128);
        assert_eq!(std::mem::offset_of!(Interned, distributor), 64);
    }

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
        let p0 = ProductId(0);
        let a = book.intern(Some(r("10%")), p0);
        assert_eq!(book.intern(Some(r("10%")), p0), a);
        // Equal in value, not in representation: kept apart, as the arithmetic keeps them.
        let b = book.intern(Some(r("10.0%")), p0);
        assert_ne!(a, b);
        assert_eq!(book.intern(None, p0), NO_RESOLUTION);
        // Through another product, and back: the product's memo never changes the index.
        assert_eq!(book.intern(Some(r("10%")), ProductId(7)), a);
        assert_eq!(book.intern(Some(r("10.0%")), ProductId(7)), b);
        assert_eq!(book.intern(Some(r("10%")), p0), a);
        assert_eq!(book.intern(Some(r("10%")), ProductId(7)), a);
        let line = |res| placed_line(ProductId(0), res);
        assert_eq!(book.resolution(&line(b)).unwrap().rate.0.scale(), 1);
        assert_eq!(book.resolution(&line(a)).unwrap().rate.0.scale(), 0);
        assert!(book.resolution(&line(NO_RESOLUTION)).is_none());
    }

    #[test]
    fn a_stored_line_is_32_bytes() {
        assert_eq!(size_of::<Stored>(), 32);
        assert_eq!(align_of::<Stored>(), 32);
    }

    /// The amounts a slot does not hold as such — the shipping (an index into the book's
    /// distinct amounts; a fifth one makes the line wide), a coupon, a refund, the held amount
    /// (derived from the others, or zero) — come back with their exact bytes through every
    /// change a line goes through, and freeing every line empties the side tables.
    #[test]
    fn every_amount_round_trips_through_the_book() {
        let m = |x: &str| -> Money { x.parse().unwrap() };
        let mut book = OrderBook::new(vec![SellerId(4)], 7);
        let line = |shipping: &str, coupon: &str| OrderLine {
            no: 1,
            creator: CreatorId(3),
            product: ProductId(0),
            seller: SellerId(4),
            quantity: 2,
            traffic: Traffic::Live,
            placed: SimTime(90),
            delivered: SimTime::NEVER,
            settles: SimTime::NEVER,
            paid: m("20.00"),
            shipping: m(shipping),
            platform_coupon: m(coupon),
            refunded: Money::ZERO,
            held: held_at_placement(m("20.00"), m(shipping), m(coupon)),
            resolution: NO_RESOLUTION,
            record: u32::MAX,
        };
        let bytes = |l: &OrderLine| amounts_of(l).map(|a| a.0.serialize());
        let mut keys = Vec::new();
        // Five distinct shipping amounts ("1.5" and "1.50" differ): the fifth is wide.
        for (shipping, coupon) in [
            ("1.50", "0"),
            ("1.5", "2.00"),
            ("0", "0.00"),
            ("3.00", "-0"),
            ("4.00", "1.00"),
            ("1.50", "0.50"),
        ] {
            let l = line(shipping, coupon);
            let k = book.insert(l);
            assert_eq!(bytes(&book.get(k)), bytes(&l), "{shipping} {coupon}");
            settling_agrees(&book, k);
            if coupon == "0" {
                // The usual line: nothing in a side table, the held amount derived.
                assert_eq!((book.lines[k.index()].bits >> HELD_SHIFT) & 3, HELD_FULL);
                assert!(book.adjusted.is_empty());
            }
            keys.push((k, l));
        }
        assert_eq!(book.shippings.len(), SHIPPINGS);
        assert_eq!(book.wide.len(), 1);
        for (k, l) in keys.clone() {
            // A refund (held and refunded adjusted), a second one, then settlement (held zero).
            let a = book.update(k, |x| {
                x.refunded += m("5.00");
                x.held -= m("5.25");
                *x
            });
            assert_eq!(bytes(&book.get(k)), bytes(&a));
            settling_agrees(&book, k);
            book.set_held(k, Money::ZERO);
            settling_agrees(&book, k);
            let z = OrderLine {
                held: Money::ZERO,
                ..a
            };
            assert_eq!(bytes(&book.get(k)), bytes(&z));
            // Back to the state at placement, then to a zero of another scale.
            book.update(k, |x| *x = l);
            assert_eq!(bytes(&book.get(k)), bytes(&l));
            book.set_held(k, Money::ZERO);
            assert_eq!(
                bytes(&book.get(k)),
                bytes(&OrderLine {
                    held: Money::ZERO,
                    ..l
                })
            );
            book.set_held(k, m("0.00"));
            assert_eq!(
                bytes(&book.get(k)),
                bytes(&OrderLine {
                    held: m("0.00"),
                    ..l
                })
            );
        }
        for (k, _) in keys {
            book.free(k);
        }
        assert!(book.wide.is_empty() && book.coupons.is_empty() && book.adjusted.is_empty());
        // A freed slot reused by a plain line has no side entries.
        let plain = line("1.50", "0");
        let k = book.insert(plain);
        assert_eq!(bytes(&book.get(k)), bytes(&plain));
        assert!(book.coupons.is_empty() && book.adjusted.is_empty());
    }

    /// `insert_placed` stores a new line as `insert` stores the whole line, its held amount
    /// computed: the same slot fields and bits, the same side entries, the same amounts to the
    /// bytes — for amounts of every kind (zeros of other scales and signs, coupons, scales that
    /// differ, amounts too large to pack, a fifth shipping amount, a sum that is zero). A
    /// mutation of the shortcut (a wrong state, a lost coupon) fails it.
    #[test]
    fn a_new_line_is_stored_as_insert_stores_it() {
        let m = |x: &str| -> Money { x.parse().unwrap() };
        let amounts = [
            "0",
            "0.00",
            "-0",
            "20.00",
            "20.5",
            "1.50",
            "1.5",
            "-1.50",
            "3",
            "99999999.99",
        ];
        let mut tried = 0;
        for shippings in [
            ["0", "1.50", "1.5", "3"],
            ["0.00", "-0", "2.00", "99999999.99"],
        ] {
            let (mut a, mut b) = (
                OrderBook::new(vec![SellerId(4)], 7),
                OrderBook::new(vec![SellerId(4)], 7),
            );
            for (n, paid) in amounts.iter().enumerate() {
                for shipping in shippings.iter().chain(["7.00"].iter()) {
                    for coupon in amounts {
                        let new = NewLine {
                            no: 1 + n as u64,
                            creator: CreatorId(3),
                            product: ProductId(0),
                            seller: SellerId(4),
                            quantity: 2,
                            traffic: Traffic::Showcase,
                            placed: SimTime(90),
                            paid: m(paid),
                            shipping: m(shipping),
                            platform_coupon: m(coupon),
                            resolution: 5,
                            record: u32::MAX,
                        };
                        let (ka, kb) = (a.insert_placed(new), b.insert(new.line()));
                        assert_eq!(ka, kb);
                        let (sa, sb) = (&a.lines[ka.index()], &b.lines[kb.index()]);
                        assert_eq!(
                            (
                                sa.no,
                                sa.bits,
                                sa.paid,
                                sa.placed,
                                sa.delivered,
                                sa.resolution
                            ),
                            (
                                sb.no,
                                sb.bits,
                                sb.paid,
                                sb.placed,
                                sb.delivered,
                                sb.resolution
                            ),
                            "{paid} {shipping} {coupon}"
                        );
                        let bytes = |l: &OrderLine| amounts_of(l).map(|x| x.0.serialize());
                        assert_eq!(bytes(&a.get(ka)), bytes(&new.line()));
                        assert_eq!(bytes(&b.get(kb)), bytes(&new.line()));
                        settling_agrees(&a, ka);
                        assert_eq!(a.coupons.get(&ka), b.coupons.get(&kb));
                        assert_eq!(
                            a.wide.get(&ka).map(|w| w.map(|x| x.0.serialize())),
                            b.wide.get(&kb).map(|w| w.map(|x| x.0.serialize()))
                        );
                        assert_eq!(a.adjusted.len(), b.adjusted.len());
                        assert_eq!(a.shippings, b.shippings);
                        tried += 1;
                        if tried % 2 == 0 {
                            // Freed, so the next line reuses the slot (over old bits).
                            a.free(ka);
                            b.free(kb);
                        }
                    }
                }
            }
        }
        assert_eq!(tried, 2 * 10 * 5 * 10);
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
            settling_agrees(&book, k);
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
