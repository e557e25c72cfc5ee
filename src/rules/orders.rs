//! Order lines from placement to settlement (ORDER-1, ORDER-2, SETTLE-1..3, H-1, H-2).
//!
//! Live lines sit in a slab; a line is freed when it settles or is cancelled, so memory follows
//! open orders, not every order ever placed. Lines tracked for expectations or `explain` keep a
//! record that survives them.

use serde::Serialize;

use crate::model::{CreatorId, ProductId, SellerId, Traffic};
use crate::money::{Money, Rate};
use crate::rules::attribution::Resolution;
use crate::rules::catalogue::RuleSet;
use crate::time::{SimTime, Stamp};

/// Where a line is in its lifecycle (ORDER-2).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
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

/// A live order line.
#[derive(Clone, Debug)]
pub struct OrderLine {
    /// The order number: unique in a replication, in placement order, starting at 1.
    pub no: u64,
    pub creator: CreatorId,
    pub product: ProductId,
    pub seller: SellerId,
    pub quantity: u32,
    pub traffic: Traffic,
    pub status: Status,
    pub placed: SimTime,
    pub delivered: SimTime,
    /// When the line settles (00:00 of the day after the after-sales window), once delivered.
    pub settles: SimTime,
    /// What the buyer paid for the goods: price × quantity − coupons.
    pub paid: Money,
    pub shipping: Money,
    pub platform_coupon: Money,
    /// The commissionable amount (H-1).
    pub base: Money,
    /// Goods amount refunded so far.
    pub refunded: Money,
    /// What escrow holds for this line.
    pub held: Money,
    pub resolution: Option<Resolution>,
    /// Index into the tracked records, or `u32::MAX`.
    pub record: u32,
}

/// What was paid at settlement.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub commission: Money,
    pub distributor_fee: Money,
    pub seller_revenue: Money,
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
    pub rate_since: Option<Stamp>,
    pub commission: Money,
    pub distributor_fee: Money,
    pub shop_ads: bool,
    /// A refusal, if the rules refused the line or an action on it.
    pub refused: Option<String>,
    /// Every plan that could have paid the line, in precedence order, and why it won or lost.
    pub candidates: Vec<crate::rules::attribution::Candidate>,
}

/// The slab of live lines.
#[derive(Clone, Debug, Default)]
pub struct OrderBook {
    lines: Vec<OrderLine>,
    live: Vec<bool>,
    free: Vec<u32>,
    next_no: u64,
    pub records: Vec<OrderRecord>,
}

impl OrderBook {
    pub fn with_capacity(n: usize) -> OrderBook {
        OrderBook {
            lines: Vec::with_capacity(n),
            live: Vec::with_capacity(n),
            ..Default::default()
        }
    }
    /// The next order number to be issued.
    pub fn next_no(&mut self) -> u64 {
        self.next_no += 1;
        self.next_no
    }
    pub fn insert(&mut self, line: OrderLine) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.lines[k as usize] = line;
                self.live[k as usize] = true;
                k
            }
            None => {
                self.lines.push(line);
                self.live.push(true);
                (self.lines.len() - 1) as u32
            }
        }
    }
    pub fn get(&self, k: u32) -> &OrderLine {
        &self.lines[k as usize]
    }
    pub fn get_mut(&mut self, k: u32) -> &mut OrderLine {
        &mut self.lines[k as usize]
    }
    pub fn free(&mut self, k: u32) {
        debug_assert!(self.live[k as usize]);
        self.live[k as usize] = false;
        self.free.push(k);
    }
    pub fn is_live(&self, k: u32) -> bool {
        self.live.get(k as usize).copied().unwrap_or(false)
    }
    /// Live lines (not settled or cancelled, or tracked and kept).
    pub fn live_lines(&self) -> impl Iterator<Item = &OrderLine> {
        self.lines
            .iter()
            .zip(&self.live)
            .filter(|(_, l)| **l)
            .map(|(o, _)| o)
    }
    pub fn live_count(&self) -> usize {
        self.live.iter().filter(|l| **l).count()
    }
    pub fn issued(&self) -> u64 {
        self.next_no
    }
}
