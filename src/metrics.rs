//! The named figures a run reports: a fixed table of metrics, tallied as events happen.

pub mod campaigns;

use rust_decimal::Decimal;
use serde::Serialize;

/// Whether a metric is an amount of money or a count.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    Money,
    Count,
}

macro_rules! metrics {
    ($($(#[$m:meta])* $v:ident = $name:literal : $unit:ident),* $(,)?) => {
        /// A reported metric. `summary.json` and `timeseries.csv` use [`Metric::name`].
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Metric { $($(#[$m])* $v),* }
        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$v),*];
            pub const COUNT: usize = Metric::ALL.len();
            pub fn name(self) -> &'static str {
                match self { $(Metric::$v => $name),* }
            }
            pub fn unit(self) -> Unit {
                match self { $(Metric::$v => Unit::$unit),* }
            }
            pub fn parse(s: &str) -> Option<Metric> {
                match s { $($name => Some(Metric::$v),)* _ => None }
            }
        }
    };
}

metrics! {
    /// Gross merchandise value of placed order lines: price × quantity.
    Gmv = "gmv": Money,
    /// Order lines placed.
    Orders = "orders": Count,
    /// Units placed.
    Units = "units": Count,
    /// Order lines refused because the product was out of stock.
    OrdersRefusedStock = "orders_refused_stock": Count,
    /// Order lines cancelled before shipping.
    OrdersCancelled = "orders_cancelled": Count,
    /// Order lines fully refunded.
    OrdersRefunded = "orders_refunded": Count,
    /// Order lines partly refunded.
    OrdersPartiallyRefunded = "orders_partially_refunded": Count,
    /// Order lines settled.
    OrdersSettled = "orders_settled": Count,
    /// Amounts returned to buyers (cancellations and refunds, goods only).
    Refunds = "refunds": Money,
    /// Platform-funded coupons on placed lines.
    PlatformCoupons = "platform_coupons": Money,
    /// Standard affiliate commissions paid to creators.
    Commissions = "commissions": Money,
    /// Shop Ads commissions paid to creators.
    ShopAdsCommissions = "shop_ads_commissions": Money,
    /// Commissions taken back after late refunds (claw-back option).
    CommissionsClawedBack = "commissions_clawed_back": Money,
    /// Distributor commissions (service fees to distributors).
    DistributorFees = "distributor_fees": Money,
    /// Target flat fees paid to creators.
    FlatFeesPaid = "flat_fees_paid": Money,
    /// Target flat fees refunded to sellers.
    FlatFeesRefunded = "flat_fees_refunded": Money,
    /// Plus rewards paid.
    RewardsPaid = "rewards_paid": Money,
    /// Plus rewards cancelled by risk control.
    RewardsCancelled = "rewards_cancelled": Money,
    /// Plus service fees kept by the platform.
    ServiceFeesCharged = "service_fees_charged": Money,
    /// Plus service fees refunded.
    ServiceFeesRefunded = "service_fees_refunded": Money,
    /// Refund-on-first-sale samples refunded to creators.
    SampleRefunds = "sample_refunds": Money,
    /// Seller revenue released at settlement (after commissions).
    SellerRevenue = "seller_revenue": Money,
    /// Videos posted.
    Posts = "posts": Count,
    /// LIVE sessions.
    Lives = "lives": Count,
    /// Open collaboration applications.
    Applications = "applications": Count,
    /// Open applications approved.
    Approvals = "approvals": Count,
    /// Products added to showcases under a Shop plan.
    ShowcaseAdds = "showcase_adds": Count,
    /// Products creators removed from their showcases (behaviour: earnings fell, or a better
    /// product replaced them in a full showcase).
    ShowcaseDrops = "showcase_drops": Count,
    /// Free-sample requests.
    SamplesRequested = "samples_requested": Count,
    /// Free-sample requests refused (quantity or requirements).
    SamplesRefused = "samples_refused": Count,
    /// Free samples shipped.
    SamplesShipped = "samples_shipped": Count,
    /// Samples whose posting obligation was met.
    SamplesFulfilled = "samples_fulfilled": Count,
    /// Samples whose posting obligation was not met.
    SamplesUnfulfilled = "samples_unfulfilled": Count,
    /// Seven-day extensions of a sample's posting deadline.
    SampleExtensions = "sample_extensions": Count,
    /// Commission-rate changes applied.
    RateChanges = "rate_changes": Count,
    /// Warnings sent two days before an H-4 lock ends.
    LockWarnings = "lock_warnings": Count,
    /// Scripted actions the rules refused.
    Refusals = "refusals": Count,
    /// GMV of lines attributed to a Shop plan.
    GmvShop = "gmv_shop": Money,
    /// GMV of lines attributed to an Open plan.
    GmvOpen = "gmv_open": Money,
    /// GMV of lines attributed to a Target collaboration.
    GmvTarget = "gmv_target": Money,
    /// GMV of lines attributed to Collaboration Plus.
    GmvPlus = "gmv_plus": Money,
    /// GMV of lines attributed to a distributor link.
    GmvDistributor = "gmv_distributor": Money,
    /// GMV of lines no plan paid commission on.
    GmvUnattributed = "gmv_unattributed": Money,
    /// Lines attributed to a Shop plan.
    OrdersShop = "orders_shop": Count,
    /// Lines attributed to an Open plan.
    OrdersOpen = "orders_open": Count,
    /// Lines attributed to a Target collaboration.
    OrdersTarget = "orders_target": Count,
    /// Lines attributed to Collaboration Plus.
    OrdersPlus = "orders_plus": Count,
    /// Lines attributed to a distributor link.
    OrdersDistributor = "orders_distributor": Count,
    /// Lines no plan paid commission on.
    OrdersUnattributed = "orders_unattributed": Count,
    /// Products registered in distributor campaigns.
    Registrations = "registrations": Count,
    /// Registrations approved: links issued.
    LinksIssued = "links_issued": Count,
    /// Distributor links added to showcases.
    LinksAdded = "links_added": Count,
    /// Warnings that an added link pays less than the showcase's (DIST-4).
    LinkWarnings = "link_warnings": Count,
    /// Showcase links notified before their campaign ends.
    LinkNotices = "link_notices": Count,
    /// Showcase links expired at the end of the promotion window.
    LinksExpired = "links_expired": Count,
    /// Showcase links terminated early by the seller.
    LinksTerminated = "links_terminated": Count,
    /// Showcase links whose seller lifted a temporary termination (DIST-8).
    LinksResumed = "links_resumed": Count,
    /// Creators who joined a Collaboration Plus.
    PlusParticipants = "plus_participants": Count,
    /// Plus participants Finished at the end (PLUS-17).
    PlusFinished = "plus_finished": Count,
    /// Plus participants Unfinished at the end (PLUS-17).
    PlusUnfinished = "plus_unfinished": Count,
    /// Plus participants who received a sample and posted nothing: Haven't fulfilled (PLUS-17).
    PlusNotFulfilled = "plus_not_fulfilled": Count,
    /// Target invitations accepted (one per creator and invitation).
    TargetsAccepted = "targets_accepted": Count,
}

/// Metrics that describe the state at the end of a run rather than flows.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum EndMetric {
    /// The sellers' net position: revenue less every fee paid.
    SellerNet,
    /// The platform's net position.
    PlatformNet,
    /// Commissions accrued on lines not yet settled at the end.
    CommissionsPending,
}

/// A running tally of every metric. Counts are kept as integers (a count is most of the
/// updates per order line, and an integer increment is far cheaper than a decimal addition);
/// [`Tally::get`] and [`Tally::values`] add them back to the decimal part, which gives exactly
/// the decimal sum (both are whole numbers of scale 0). The amounts are
/// [`crate::money::DecimalSum`]s: an integer addition per update in the usual case, read back as
/// exactly the `Decimal` the additions give.
#[derive(Clone, Debug)]
pub struct Tally {
    amounts: [crate::money::DecimalSum; Metric::COUNT],
    counts: [u64; Metric::COUNT],
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            amounts: [crate::money::DecimalSum::ZERO; Metric::COUNT],
            counts: [0; Metric::COUNT],
        }
    }
}

impl Tally {
    #[inline]
    pub fn add(&mut self, m: Metric, v: Decimal) {
        self.amounts[m as usize].add(v);
    }
    /// [`Tally::add`] of an amount already prepared ([`crate::money::Term::of`]) for other sums.
    #[inline]
    pub(crate) fn add_term(&mut self, m: Metric, t: &crate::money::Term) {
        self.amounts[m as usize].add_term(t, false);
    }
    /// Adds `n` to a count metric (as `n` calls of [`Tally::count`]).
    #[inline]
    pub fn count_n(&mut self, m: Metric, n: u64) {
        self.counts[m as usize] += n;
    }
    #[inline]
    pub fn count(&mut self, m: Metric) {
        self.counts[m as usize] += 1;
    }
    pub fn get(&self, m: Metric) -> Decimal {
        let i = m as usize;
        match self.counts[i] {
            0 => self.amounts[i].get(),
            n => self.amounts[i].get() + Decimal::from(n),
        }
    }
    /// Every metric's value, indexed like [`Metric::ALL`].
    pub fn values(&self) -> [Decimal; Metric::COUNT] {
        std::array::from_fn(|i| match self.counts[i] {
            0 => self.amounts[i].get(),
            n => self.amounts[i].get() + Decimal::from(n),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()), Some(m));
            assert!(seen.insert(m.name()));
        }
        assert_eq!(Metric::parse("nope"), None);
    }

    #[test]
    fn counts_and_amounts_add_up_exactly() {
        let mut t = Tally::default();
        let mut d = [Decimal::ZERO; Metric::COUNT];
        for i in 0..1000u32 {
            t.count(Metric::Orders);
            d[Metric::Orders as usize] += Decimal::ONE;
            if i % 7 == 0 {
                t.add(Metric::Orders, Decimal::from(i));
                d[Metric::Orders as usize] += Decimal::from(i);
            }
            t.add(Metric::Gmv, Decimal::new(i64::from(i) * 13, 2));
            d[Metric::Gmv as usize] += Decimal::new(i64::from(i) * 13, 2);
        }
        for m in Metric::ALL {
            let (a, b) = (t.get(*m), d[*m as usize]);
            assert_eq!((a, a.scale(), a.to_string()), (b, b.scale(), b.to_string()));
        }
        assert_eq!(t.values(), d);
    }
}
