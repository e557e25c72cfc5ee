//! The double-entry ledger (MONEY-2): every movement of money is one entry between two accounts.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{CreatorId, DistributorId, SellerId};
use crate::money::{DecimalSum, Money, Rate, Term};
use crate::rules::catalogue::RuleSet;
use crate::rules::plans::PlanRef;
use crate::time::SimTime;

/// An account of the ledger.
///
/// Buyers are one pooled account (buyers are a demand process, not individual agents). The
/// platform holds buyers' payments in `Escrow` until settlement, Plus deposits in `RewardBudget`,
/// Target flat fees in `FlatFeeHold` and Plus service fees in `ServiceFeeHold` until they are paid
/// out or refunded.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Account {
    Buyers,
    Platform,
    Escrow,
    RewardBudget,
    FlatFeeHold,
    ServiceFeeHold,
    Seller(u32),
    Creator(u32),
    Distributor(u32),
}

const FIXED_ACCOUNTS: usize = 6;

impl Account {
    pub fn seller(id: SellerId) -> Account {
        Account::Seller(id.0)
    }
    pub fn creator(id: CreatorId) -> Account {
        Account::Creator(id.0)
    }
    pub fn distributor(id: DistributorId) -> Account {
        Account::Distributor(id.0)
    }
    /// The account as `ledger.csv` and `explain` write it: agents by their names when `agents`
    /// is given (`creator:ayu`, `creator#12` for a generated one), else by index.
    pub fn named(self, agents: Option<&crate::model::Agents>) -> String {
        match (self, agents) {
            (Account::Seller(i), Some(n)) => format!("seller:{}", n.names.seller(SellerId(i))),
            (Account::Creator(i), Some(n)) => {
                format!("creator:{}", n.names.creator(CreatorId(i)))
            }
            (Account::Distributor(i), Some(n)) => {
                format!("distributor:{}", n.names.distributor(DistributorId(i)))
            }
            _ => self.to_string(),
        }
    }
    /// True for the platform's holding accounts, which must never go below zero.
    pub(crate) fn is_holding(self) -> bool {
        matches!(
            self,
            Account::Escrow
                | Account::RewardBudget
                | Account::FlatFeeHold
                | Account::ServiceFeeHold
        )
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Buyers => f.write_str("buyers"),
            Account::Platform => f.write_str("platform"),
            Account::Escrow => f.write_str("escrow"),
            Account::RewardBudget => f.write_str("reward-budget"),
            Account::FlatFeeHold => f.write_str("flat-fee-hold"),
            Account::ServiceFeeHold => f.write_str("service-fee-hold"),
            Account::Seller(i) => write!(f, "seller:{i}"),
            Account::Creator(i) => write!(f, "creator:{i}"),
            Account::Distributor(i) => write!(f, "distributor:{i}"),
        }
    }
}

/// What a ledger entry is for. Summary metrics are totals by kind.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum EntryKind {
    /// Buyer pays for an order line (goods, after coupons, plus shipping) into escrow.
    OrderPayment,
    /// The platform funds its coupon on an order line into escrow.
    PlatformCoupon,
    /// Escrow returns a cancelled or refunded payment to the buyer.
    Refund,
    /// Escrow returns the platform's coupon share of a cancelled or refunded line.
    CouponReturn,
    /// Affiliate commission paid to a creator at settlement (SETTLE-1).
    Commission,
    /// Shop Ads commission paid to a creator at settlement (H-5, PLUS-10).
    ShopAdsCommission,
    /// The distributor's part of a distributor-link commission (DIST-6).
    DistributorFee,
    /// The seller's revenue released from escrow at settlement.
    SellerRevenue,
    /// A refund after settlement, paid by the seller (SETTLE-3 model).
    LateRefund,
    /// Commission taken back from a creator after a late refund (SETTLE-3 claw-back option).
    CommissionClawback,
    /// A Target flat fee paid by the seller to the platform (TARGET-4).
    FlatFeeDeposit,
    /// A Target flat fee paid by the platform to the creator on video approval.
    FlatFeePaid,
    /// A Target flat fee refunded to the seller.
    FlatFeeRefund,
    /// A Plus reward budget deposited by the seller (PLUS-15).
    RewardDeposit,
    /// A Plus reward paid to a creator (PLUS-3, PLUS-5).
    RewardPaid,
    /// An unspent or cancelled reward budget returned to the seller (PLUS-18).
    RewardReturn,
    /// The Plus service fee paid at confirmation (PLUS-16).
    ServiceFeeDeposit,
    /// The part of the Plus service fee the platform keeps.
    ServiceFeeCharged,
    /// The excess Plus service fee refunded (PLUS-16).
    ServiceFeeRefund,
    /// A creator buys a refund-on-first-sale sample (TARGET-5, H-7).
    SamplePurchase,
    /// The seller refunds a refund-on-first-sale sample (H-7).
    SampleRefund,
}

impl EntryKind {
    pub const COUNT: usize = 21;
    pub const ALL: [EntryKind; EntryKind::COUNT] = [
        EntryKind::OrderPayment,
        EntryKind::PlatformCoupon,
        EntryKind::Refund,
        EntryKind::CouponReturn,
        EntryKind::Commission,
        EntryKind::ShopAdsCommission,
        EntryKind::DistributorFee,
        EntryKind::SellerRevenue,
        EntryKind::LateRefund,
        EntryKind::CommissionClawback,
        EntryKind::FlatFeeDeposit,
        EntryKind::FlatFeePaid,
        EntryKind::FlatFeeRefund,
        EntryKind::RewardDeposit,
        EntryKind::RewardPaid,
        EntryKind::RewardReturn,
        EntryKind::ServiceFeeDeposit,
        EntryKind::ServiceFeeCharged,
        EntryKind::ServiceFeeRefund,
        EntryKind::SamplePurchase,
        EntryKind::SampleRefund,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::OrderPayment => "order-payment",
            EntryKind::PlatformCoupon => "platform-coupon",
            EntryKind::Refund => "refund",
            EntryKind::CouponReturn => "coupon-return",
            EntryKind::Commission => "commission",
            EntryKind::ShopAdsCommission => "shop-ads-commission",
            EntryKind::DistributorFee => "distributor-fee",
            EntryKind::SellerRevenue => "seller-revenue",
            EntryKind::LateRefund => "late-refund",
            EntryKind::CommissionClawback => "commission-clawback",
            EntryKind::FlatFeeDeposit => "flat-fee-deposit",
            EntryKind::FlatFeePaid => "flat-fee-paid",
            EntryKind::FlatFeeRefund => "flat-fee-refund",
            EntryKind::RewardDeposit => "reward-deposit",
            EntryKind::RewardPaid => "reward-paid",
            EntryKind::RewardReturn => "reward-return",
            EntryKind::ServiceFeeDeposit => "service-fee-deposit",
            EntryKind::ServiceFeeCharged => "service-fee-charged",
            EntryKind::ServiceFeeRefund => "service-fee-refund",
            EntryKind::SamplePurchase => "sample-purchase",
            EntryKind::SampleRefund => "sample-refund",
        }
    }
}

/// Where an entry came from: the plan, the rules applied, the rate, the order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub plan: PlanRef,
    pub rules: RuleSet,
    /// The rate applied, for commission entries.
    pub rate: Option<Rate>,
    /// The order number, for entries that belong to an order line.
    pub order: Option<u64>,
    /// When the applied rate took effect, for commission entries.
    pub(crate) rate_since: Option<SimTime>,
}

impl Provenance {
    pub fn rules(rules: RuleSet) -> Provenance {
        Provenance {
            plan: PlanRef::None,
            rules,
            rate: None,
            order: None,
            rate_since: None,
        }
    }
}

/// One movement of money: `amount` from `from` to `to`, at `at`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub at: SimTime,
    pub kind: EntryKind,
    pub from: Account,
    pub to: Account,
    pub amount: Money,
    pub prov: Provenance,
}

/// The ledger: account balances in a flat vector, totals by kind, and (on request) the entries.
/// Balances and totals are [`DecimalSum`]s: each reads back as exactly the `Decimal` that adding
/// the postings one by one gives (value, scale and sign), at the cost of an integer addition per
/// posting in the usual case.
#[derive(Clone, Debug)]
pub struct Ledger {
    sellers: u32,
    creators: u32,
    balances: Vec<DecimalSum>,
    totals: [DecimalSum; EntryKind::COUNT],
    posted: u64,
    record: bool,
    entries: Vec<Entry>,
    violations: Vec<Entry>,
}

/// Why the ledger does not balance (MONEY-2).
#[derive(Clone, Debug)]
pub struct LedgerError {
    pub problems: Vec<String>,
    pub entries: Vec<Entry>,
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the ledger does not balance (MONEY-2):")?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        if !self.entries.is_empty() {
            writeln!(f, "  offending entries:")?;
            for e in &self.entries {
                writeln!(
                    f,
                    "    #{} t={} {} {} -> {} {}",
                    e.seq,
                    e.at.0,
                    e.kind.as_str(),
                    e.from,
                    e.to,
                    e.amount
                )?;
            }
        }
        Ok(())
    }
}

impl Ledger {
    /// A ledger for `sellers`, `creators` and `distributors` accounts. With `record`, every entry
    /// is kept for `ledger.csv` and `affsim explain`.
    pub fn new(
        sellers: u32,
        creators: u32,
        distributors: u32,
        record: crate::rules::choices::Recording,
    ) -> Ledger {
        let record = record.is_on();
        let n = FIXED_ACCOUNTS + sellers as usize + creators as usize + distributors as usize;
        Ledger {
            sellers,
            creators,
            balances: vec![DecimalSum::ZERO; n],
            totals: [DecimalSum::ZERO; EntryKind::COUNT],
            posted: 0,
            record,
            entries: Vec::new(),
            violations: Vec::new(),
        }
    }

    fn slot(&self, a: Account) -> usize {
        match a {
            Account::Buyers => 0,
            Account::Platform => 1,
            Account::Escrow => 2,
            Account::RewardBudget => 3,
            Account::FlatFeeHold => 4,
            Account::ServiceFeeHold => 5,
            Account::Seller(i) => FIXED_ACCOUNTS + i as usize,
            Account::Creator(i) => FIXED_ACCOUNTS + self.sellers as usize + i as usize,
            Account::Distributor(i) => {
                FIXED_ACCOUNTS + self.sellers as usize + self.creators as usize + i as usize
            }
        }
    }

    /// Posts one entry. A zero amount posts nothing; a negative amount, or one that takes a
    /// holding account below zero, is recorded as a violation and fails the end-of-run check.
    /// Inlined into its callers (the balances' and total's integer additions are a few
    /// instructions; a call cost as much); the entry is built out of line, only when kept.
    // rule: MONEY-2
    #[inline(always)]
    pub fn post(
        &mut self,
        at: SimTime,
        kind: EntryKind,
        from: Account,
        to: Account,
        amount: Money,
        prov: Provenance,
    ) {
        self.post_term(at, kind, from, to, &Term::of(amount.0), prov);
    }

    /// [`Ledger::post`] of an amount already prepared for the sums ([`Term::of`]), when the
    /// caller adds it to a tally or campaign sum too: prepared once (session 15).
    // rule: MONEY-2
    #[inline(always)]
    pub(crate) fn post_term(
        &mut self,
        at: SimTime,
        kind: EntryKind,
        from: Account,
        to: Account,
        term: &Term,
        prov: Provenance,
    ) {
        if term.is_zero() {
            return;
        }
        self.posted += 1;
        let (fs, ts) = (self.slot(from), self.slot(to));
        self.balances[fs].add_term(term, true);
        self.balances[ts].add_term(term, false);
        self.totals[kind as usize].add_term(term, false);
        let violation =
            term.is_negative() || (from.is_holding() && self.balances[fs].is_negative());
        if violation || self.record {
            // The entry itself is built only when something keeps it.
            self.keep(
                Entry {
                    seq: self.posted,
                    at,
                    kind,
                    from,
                    to,
                    amount: Money(term.amount()),
                    prov,
                },
                violation,
            );
        }
    }

    /// Keeps a posted entry: among the violations, and among the recorded entries if the ledger
    /// records.
    #[inline(never)]
    fn keep(&mut self, e: Entry, violation: bool) {
        if violation {
            self.violations.push(e);
        }
        if self.record {
            self.entries.push(e);
        }
    }

    /// Where an account's balance is kept (for prefetching).
    pub(crate) fn balance_ref(&self, a: Account) -> Option<&DecimalSum> {
        self.balances.get(self.slot(a))
    }
    pub fn balance(&self, a: Account) -> Money {
        Money(self.balances[self.slot(a)].get())
    }
    /// Total posted of one kind.
    pub fn total(&self, kind: EntryKind) -> Money {
        Money(self.totals[kind as usize].get())
    }
    pub fn posted(&self) -> u64 {
        self.posted
    }
    /// The recorded entries (empty unless the ledger records).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Forgets the recorded entries (after they were streamed out); balances, totals and the
    /// entry count are kept, so the end-of-run check is unaffected.
    pub(crate) fn clear_entries(&mut self) {
        self.entries.clear();
    }
    pub fn records(&self) -> bool {
        self.record
    }

    /// The end-of-run check (MONEY-2): balances sum to zero, nothing was posted negative or
    /// overdrew a holding account, and each holding account equals what the books say it holds.
    pub fn check(&self, expected_holdings: &[(Account, Money)]) -> Result<(), LedgerError> {
        let mut problems = Vec::new();
        let sum: Decimal = self.balances.iter().map(DecimalSum::get).sum();
        if !sum.is_zero() {
            problems.push(format!("account balances sum to {sum}, not zero"));
        }
        for v in &self.violations {
            problems.push(format!(
                "entry #{} ({}) of {} from {} is negative or overdraws the account",
                v.seq,
                v.kind.as_str(),
                v.amount,
                v.from
            ));
        }
        for &(acct, want) in expected_holdings {
            let got = self.balance(acct);
            if got != want {
                problems.push(format!(
                    "{acct} holds {got} but its open items total {want}"
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LedgerError {
                problems,
                entries: self.violations.iter().take(20).copied().collect(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn entries_move_money_and_balances_sum_to_zero() {
        let mut l = Ledger::new(1, 1, 0, crate::rules::choices::Recording::On);
        let p = Provenance::rules(RuleSet::EMPTY);
        l.post(
            SimTime(0),
            EntryKind::OrderPayment,
            Account::Buyers,
            Account::Escrow,
            m("100"),
            p,
        );
        l.post(
            SimTime(5),
            EntryKind::Commission,
            Account::Escrow,
            Account::Creator(0),
            m("10"),
            p,
        );
        l.post(
            SimTime(5),
            EntryKind::SellerRevenue,
            Account::Escrow,
            Account::Seller(0),
            m("90"),
            p,
        );
        assert_eq!(l.balance(Account::Creator(0)), m("10"));
        assert_eq!(l.balance(Account::Seller(0)), m("90"));
        assert_eq!(l.balance(Account::Buyers), m("-100"));
        assert_eq!(l.total(EntryKind::Commission), m("10"));
        assert_eq!(l.entries().len(), 3);
        assert!(l.check(&[(Account::Escrow, Money::ZERO)]).is_ok());
    }

    #[test]
    fn overdrawn_holding_account_fails_the_check() {
        let mut l = Ledger::new(1, 1, 0, crate::rules::choices::Recording::Off);
        let p = Provenance::rules(RuleSet::EMPTY);
        l.post(
            SimTime(0),
            EntryKind::Commission,
            Account::Escrow,
            Account::Creator(0),
            m("1"),
            p,
        );
        let err = l.check(&[]).unwrap_err();
        assert!(err.to_string().contains("overdraws"), "{err}");
        assert_eq!(err.entries.len(), 1);
    }

    #[test]
    fn holdings_must_match_the_books() {
        let mut l = Ledger::new(0, 0, 0, crate::rules::choices::Recording::Off);
        let p = Provenance::rules(RuleSet::EMPTY);
        l.post(
            SimTime(0),
            EntryKind::OrderPayment,
            Account::Buyers,
            Account::Escrow,
            m("7"),
            p,
        );
        assert!(l.check(&[(Account::Escrow, m("7"))]).is_ok());
        assert!(l.check(&[(Account::Escrow, m("6"))]).is_err());
    }
}
