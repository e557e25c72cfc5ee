//! Number formatting for people (report.md, report.html, the stderr summary, chart axes): money
//! in the currency's format, counts with thousands separators, rates as percentages, short
//! B/M/k forms and axis ticks whose labels are always distinct. JSON and CSV never use it.
//!
//! Money is written as the ISO currency code, a space and the amount rounded to the currency's
//! minor unit with comma thousands separators and a point for decimals: `IDR 12,161,093,366`,
//! `GBP 1,234.50`, `IDR -24,917,527`. The code rather than a symbol, because several currencies
//! share `$` and reviewers paste figures across reports. Rounding for display is half away from
//! zero; the exact amounts stay in `summary.json`.
//!
//! ```
//! use affsim::report::format::{Currency, fmt_money, fmt_money_short, fmt_count, fmt_rate};
//! use rust_decimal::Decimal;
//! let idr = Currency::new("IDR", 0);
//! assert_eq!(fmt_money(Decimal::new(1216109336625, 2), &idr), "IDR 12,161,093,366");
//! assert_eq!(fmt_money(1234.5, &Currency::new("GBP", 2)), "GBP 1,234.50");
//! assert_eq!(fmt_money_short(1.234e9, &idr), "IDR 1.2B");
//! assert_eq!(fmt_count(89534u64), "89,534");
//! assert_eq!(fmt_rate(0.1234), "12.3%");
//! ```

use std::borrow::Cow;

use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::experiment::summary::Figure;

/// A currency as reports show it: its ISO code and its minor unit (decimals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency {
    pub code: String,
    pub minor_unit: u32,
}

impl Currency {
    pub fn new(code: &str, minor_unit: u32) -> Currency {
        Currency {
            code: code.to_string(),
            minor_unit,
        }
    }
    /// The currency of a scenario's region (its minor unit as the scenario resolved it).
    pub fn of(region: &crate::scenario::Region) -> Currency {
        Currency::new(&region.currency, region.minor_unit)
    }
    /// A currency known only by its code (e.g. read back from `summary.json`): the ISO 4217
    /// minor unit of the common zero-decimal currencies, else 2.
    pub fn from_code(code: &str) -> Currency {
        let minor = match code.to_ascii_uppercase().as_str() {
            "IDR" | "VND" | "JPY" | "KRW" | "CLP" | "ISK" | "PYG" | "UGX" | "XAF" | "XOF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        };
        Currency::new(code, minor)
    }
}

/// A number the formatters accept: exact decimals, floats and integers.
pub trait Num: Copy {
    fn to_dec(self) -> Option<Decimal>;
    fn to_float(self) -> f64;
}

impl Num for Decimal {
    fn to_dec(self) -> Option<Decimal> {
        Some(self)
    }
    fn to_float(self) -> f64 {
        self.to_f64().unwrap_or(0.0)
    }
}

impl Num for f64 {
    fn to_dec(self) -> Option<Decimal> {
        if self.is_finite() {
            Decimal::from_f64(self)
        } else {
            None
        }
    }
    fn to_float(self) -> f64 {
        self
    }
}

macro_rules! int_num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            fn to_dec(self) -> Option<Decimal> {
                Some(Decimal::from(self))
            }
            fn to_float(self) -> f64 {
                self as f64
            }
        }
    )*};
}
int_num!(i32, i64, u32, u64, usize);

/// `v` rounded to `dp` decimals (half away from zero), with comma thousands separators:
/// `fmt_decimal(1234567.891, 2)` is `1,234,567.89`.
pub fn fmt_decimal(v: impl Num, dp: u32) -> String {
    let Some(d) = v.to_dec() else {
        let f = v.to_float();
        return if f.is_nan() {
            "—".into()
        } else {
            format!("{f:.0}")
        };
    };
    let d = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    let neg = d.is_sign_negative() && !d.is_zero();
    let s = d.abs().to_string();
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::with_capacity(s.len() + s.len() / 3 + 2);
    if neg {
        out.push('-');
    }
    group(&mut out, int);
    if dp > 0 {
        out.push('.');
        out.push_str(frac);
        for _ in frac.len()..dp as usize {
            out.push('0');
        }
    }
    out
}

fn group(out: &mut String, int: &str) {
    let n = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
}

/// An amount in the currency's minor unit, without the code: `12,161,093,366` (IDR),
/// `1,234.50` (GBP). For table cells whose header names the currency.
pub fn fmt_amount(amount: impl Num, cur: &Currency) -> String {
    fmt_decimal(amount, cur.minor_unit)
}

/// An amount with its currency code: `IDR 12,161,093,366`, `GBP 1,234.50`, `IDR -5,000`.
pub fn fmt_money(amount: impl Num, cur: &Currency) -> String {
    format!("{} {}", cur.code, fmt_amount(amount, cur))
}

/// A short form with its currency code, for captions and chart labels: `IDR 12.2B`.
pub fn fmt_money_short(amount: impl Num, cur: &Currency) -> String {
    format!("{} {}", cur.code, fmt_short(amount.to_float()))
}

/// A count: whole numbers with separators (`89,534`); a mean that is not whole keeps one
/// decimal (`85,087.3`).
pub fn fmt_count(v: impl Num) -> String {
    match v.to_dec() {
        Some(d) if d.fract().is_zero() => fmt_decimal(d, 0),
        Some(d) => fmt_decimal(d, 1),
        None => fmt_decimal(v, 0),
    }
}

/// A rate given as a fraction, as a percentage with one decimal: `0.1234` → `12.3%`.
pub fn fmt_rate(fraction: impl Num) -> String {
    let pct = fraction.to_dec().map(|d| d * Decimal::ONE_HUNDRED);
    match pct {
        Some(p) => format!("{}%", fmt_decimal(p, 1)),
        None => format!("{:.1}%", fraction.to_float() * 100.0),
    }
}

/// A ratio, with two decimals and a multiplication sign: `4.213` → `4.21×`.
pub fn fmt_ratio(x: impl Num) -> String {
    format!("{}×", fmt_decimal(x, 2))
}

/// A short form with B/M/k and one decimal: `1.2B`, `3.4M`, `5.6k`, `950`.
pub fn fmt_short(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let a = v.abs();
    for (scale, suffix) in SCALES {
        // 999,960 rounds to "1.0M" rather than "1000.0k".
        if a >= scale * 0.99995 {
            return format!("{:.1}{suffix}", v / scale);
        }
    }
    format!("{v:.0}")
}

const SCALES: [(f64, &str); 3] = [(1e9, "B"), (1e6, "M"), (1e3, "k")];

/// Axis ticks at a "nice" step (1, 2 or 5 × a power of ten) covering `lo..=hi`, with labels
/// that are distinct: every label uses one scale (B/M/k, from the largest tick) and as many
/// decimals as the step needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticks {
    pub values: Vec<f64>,
    pub step: f64,
    scale: f64,
    suffix: &'static str,
    decimals: usize,
}

impl Ticks {
    /// At most `max` ticks (at least 2) covering `lo..=hi`; `integer` keeps the step whole
    /// (for counts).
    pub fn new(lo: f64, hi: f64, max: usize, integer: bool) -> Ticks {
        let max = max.max(2);
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo, lo + 1.0)
        } else {
            (0.0, 1.0)
        };
        let raw = (hi - lo) / (max - 1) as f64;
        let mut mag = 10f64.powf(raw.log10().floor());
        let step = 'search: loop {
            for m in [1.0, 2.0, 5.0] {
                let step = m * mag;
                let n = ((hi / step).ceil() - (lo / step).floor()) as usize + 1;
                if n <= max && (!integer || step >= 1.0) {
                    break 'search step;
                }
            }
            mag *= 10.0;
        };
        let first = (lo / step).floor() as i64;
        let last = (hi / step).ceil() as i64;
        let values: Vec<f64> = (first..=last).map(|i| i as f64 * step).collect();
        let top = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let (scale, suffix) = SCALES
            .iter()
            .copied()
            .find(|(s, _)| top >= *s)
            .unwrap_or((1.0, ""));
        let scaled = step / scale;
        let decimals = (0..=9)
            .find(|d| {
                let p = 10f64.powi(*d);
                ((scaled * p).round() - scaled * p).abs() < 1e-6 * p.max(1.0)
            })
            .unwrap_or(9) as usize;
        Ticks {
            values,
            step,
            scale,
            suffix,
            decimals,
        }
    }
    /// The lowest and highest tick: the axis range.
    pub fn range(&self) -> (f64, f64) {
        (
            self.values.first().copied().unwrap_or(0.0),
            self.values.last().copied().unwrap_or(1.0),
        )
    }
    /// The label of a tick value: `0`, `500M`, `1.5B`, `2.5k`.
    pub fn label(&self, v: f64) -> String {
        let x = v / self.scale;
        if x.abs() < 1e-9 * self.step.max(1.0) / self.scale {
            return "0".into();
        }
        let num = fmt_decimal(x, self.decimals as u32);
        format!("{num}{}", self.suffix)
    }
    /// Every tick's label, in order.
    pub fn labels(&self) -> Vec<String> {
        self.values.iter().map(|v| self.label(*v)).collect()
    }
}

/// A metric's name for people (`shop_ads_commissions` → `Shop Ads commissions`). Unknown names
/// are shown with spaces for underscores and a capital first letter.
pub fn metric_label(name: &str) -> Cow<'static, str> {
    let known = match name {
        "gmv" => "GMV",
        "orders" => "Order lines",
        "units" => "Units",
        "orders_refused_stock" => "Order lines refused (no stock)",
        "orders_cancelled" => "Order lines cancelled",
        "orders_refunded" => "Order lines refunded",
        "orders_partially_refunded" => "Order lines partly refunded",
        "orders_settled" => "Order lines settled",
        "refunds" => "Refunds",
        "platform_coupons" => "Platform coupons",
        "commissions" => "Commissions",
        "shop_ads_commissions" => "Shop Ads commissions",
        "commissions_clawed_back" => "Commissions clawed back",
        "distributor_fees" => "Distributor fees",
        "flat_fees_paid" => "Target flat fees paid",
        "flat_fees_refunded" => "Target flat fees refunded",
        "rewards_paid" => "Plus rewards paid",
        "rewards_cancelled" => "Plus rewards cancelled",
        "service_fees_charged" => "Plus service fees charged",
        "service_fees_refunded" => "Plus service fees refunded",
        "sample_refunds" => "Sample refunds",
        "seller_revenue" => "Seller revenue",
        "posts" => "Videos posted",
        "lives" => "LIVE sessions",
        "applications" => "Open applications",
        "approvals" => "Open approvals",
        "showcase_adds" => "Showcase adds",
        "showcase_drops" => "Showcase drops",
        "samples_requested" => "Samples requested",
        "samples_refused" => "Samples refused",
        "samples_shipped" => "Samples shipped",
        "samples_fulfilled" => "Samples fulfilled",
        "samples_unfulfilled" => "Samples unfulfilled",
        "sample_extensions" => "Sample extensions",
        "rate_changes" => "Rate changes",
        "lock_warnings" => "Lock warnings",
        "refusals" => "Refused scripted actions",
        "gmv_shop" => "GMV via Shop plans",
        "gmv_open" => "GMV via Open plans",
        "gmv_target" => "GMV via Target",
        "gmv_plus" => "GMV via Plus",
        "gmv_distributor" => "GMV via distributors",
        "gmv_unattributed" => "GMV, no commission",
        "orders_shop" => "Lines via Shop plans",
        "orders_open" => "Lines via Open plans",
        "orders_target" => "Lines via Target",
        "orders_plus" => "Lines via Plus",
        "orders_distributor" => "Lines via distributors",
        "orders_unattributed" => "Lines, no commission",
        "registrations" => "Distributor registrations",
        "links_issued" => "Distributor links issued",
        "links_added" => "Distributor links added",
        "link_warnings" => "Lower-link warnings",
        "link_notices" => "Link end notices",
        "links_expired" => "Links expired",
        "links_terminated" => "Links terminated",
        "links_resumed" => "Links resumed",
        "plus_participants" => "Plus participants",
        "plus_finished" => "Plus finished",
        "plus_unfinished" => "Plus unfinished",
        "plus_not_fulfilled" => "Plus not fulfilled",
        "seller_net" => "Seller net",
        "platform_net" => "Platform net",
        "commissions_pending" => "Commissions pending",
        "marketing_cost" => "Marketing cost",
        _ => {
            let mut s = name.replace('_', " ");
            if let Some(c) = s.get(..1) {
                let up = c.to_uppercase();
                s.replace_range(..1, &up);
            }
            return Cow::Owned(s);
        }
    };
    Cow::Borrowed(known)
}

/// A figure of `summary.json` formatted by its `unit` (`money`, `count`, `rate` as a
/// fraction, `ratio`); a figure that is not a number is `—`.
pub fn fmt_stat(v: &Figure, unit: &str, cur: &Currency) -> String {
    let Some(d) = v.decimal() else {
        return "—".into();
    };
    match unit {
        "money" => fmt_amount(d, cur),
        "count" => fmt_count(d),
        "rate" => fmt_rate(d),
        "ratio" => fmt_ratio(d),
        _ => fmt_decimal(d, 2),
    }
}

/// An interval of `summary.json` (`[low, high]`) as `low – high`; `—` when there is none
/// (e.g. one replication).
pub fn fmt_interval(v: Option<&(Figure, Figure)>, unit: &str, cur: &Currency) -> String {
    match v {
        Some((lo, hi)) if lo.decimal().is_some() && hi.decimal().is_some() => {
            format!("{} – {}", fmt_stat(lo, unit, cur), fmt_stat(hi, unit, cur))
        }
        _ => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idr() -> Currency {
        Currency::new("IDR", 0)
    }
    fn gbp() -> Currency {
        Currency::new("GBP", 2)
    }

    #[test]
    fn money_in_the_currency_format() {
        let v: Decimal = "12161093366.25".parse().unwrap();
        assert_eq!(fmt_money(v, &idr()), "IDR 12,161,093,366");
        assert_eq!(fmt_money(1234.5, &gbp()), "GBP 1,234.50");
        assert_eq!(
            fmt_money(Decimal::new(-249175273, 1), &idr()),
            "IDR -24,917,527"
        );
        assert_eq!(fmt_money(0.5, &idr()), "IDR 1");
        assert_eq!(fmt_money(-0.4, &idr()), "IDR 0");
        assert_eq!(fmt_money(999, &gbp()), "GBP 999.00");
        assert_eq!(fmt_money(1_000_000u64, &gbp()), "GBP 1,000,000.00");
        assert_eq!(fmt_amount(12.345, &gbp()), "12.35");
        assert_eq!(fmt_money(5, &Currency::new("KWD", 3)), "KWD 5.000");
    }

    #[test]
    fn currencies_by_code() {
        assert_eq!(Currency::from_code("IDR").minor_unit, 0);
        assert_eq!(Currency::from_code("VND").minor_unit, 0);
        assert_eq!(Currency::from_code("GBP").minor_unit, 2);
        assert_eq!(Currency::from_code("USD").minor_unit, 2);
    }

    #[test]
    fn counts_rates_and_ratios() {
        assert_eq!(fmt_count(89534u64), "89,534");
        assert_eq!(fmt_count(Decimal::new(85087333333, 6)), "85,087.3");
        assert_eq!(fmt_count(0u32), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1000), "1,000");
        assert_eq!(fmt_rate(0.1234), "12.3%");
        assert_eq!(fmt_rate(Decimal::new(5, 2)), "5.0%");
        assert_eq!(fmt_rate(-0.004), "-0.4%");
        assert_eq!(fmt_ratio(4.213), "4.21×");
    }

    #[test]
    fn short_forms() {
        assert_eq!(fmt_short(1.234e9), "1.2B");
        assert_eq!(fmt_short(3.44e6), "3.4M");
        assert_eq!(fmt_short(5600.0), "5.6k");
        assert_eq!(fmt_short(950.0), "950");
        assert_eq!(fmt_short(-2.5e6), "-2.5M");
        assert_eq!(fmt_short(999_960.0), "1.0M");
        assert_eq!(fmt_short(12_161_093_366.25), "12.2B");
        assert_eq!(fmt_money_short(1.234e9, &idr()), "IDR 1.2B");
    }

    fn distinct(t: &Ticks) -> bool {
        let l = t.labels();
        let set: std::collections::HashSet<&String> = l.iter().collect();
        set.len() == l.len()
    }

    #[test]
    fn ticks_cover_the_range_with_distinct_labels() {
        // The demo's axes: GMV per day (to ~510M), orders per day (to ~4k), payouts per day
        // (to ~45M), refunds per day, seller net across replications (9.1B–10.2B), counts of
        // replications (0–3), and narrow ranges that a one-decimal B/M/k would repeat.
        for (lo, hi, integer) in [
            (0.0, 510e6, false),
            (0.0, 4_300.0, false),
            (0.0, 45e6, false),
            (0.0, 3.2e6, false),
            (9.10e9, 10.23e9, false),
            (9.3487e9, 9.3488e9, false),
            (0.0, 3.0, true),
            (0.0, 1.0, true),
            (-26.7e6, -23.1e6, false),
            (0.0, 12.2e9, false),
            (0.0, 0.37, false),
        ] {
            let t = Ticks::new(lo, hi, 8, integer);
            assert!(
                t.values.len() >= 2 && t.values.len() <= 8,
                "{lo}..{hi}: {t:?}"
            );
            let (a, b) = t.range();
            assert!(a <= lo && b >= hi, "{lo}..{hi} not covered by {a}..{b}");
            assert!(distinct(&t), "{lo}..{hi}: {:?}", t.labels());
            if integer {
                assert!(t.step >= 1.0 && t.step.fract() == 0.0);
            }
        }
        let t = Ticks::new(0.0, 510e6, 8, false);
        assert_eq!(
            t.labels(),
            ["0", "100M", "200M", "300M", "400M", "500M", "600M"]
        );
        let t = Ticks::new(0.0, 4_300.0, 6, false);
        assert_eq!(t.labels(), ["0", "1k", "2k", "3k", "4k", "5k"]);
        let t = Ticks::new(9.10e9, 10.23e9, 8, false);
        assert_eq!(
            t.labels(),
            [
                "9.0B", "9.2B", "9.4B", "9.6B", "9.8B", "10.0B", "10.2B", "10.4B"
            ]
        );
    }

    #[test]
    fn labels_for_people() {
        assert_eq!(metric_label("gmv"), "GMV");
        assert_eq!(metric_label("shop_ads_commissions"), "Shop Ads commissions");
        assert_eq!(metric_label("new_thing_count"), "New thing count");
    }

    #[test]
    fn figures() {
        let money = |s: &str| Figure::Money(s.parse().unwrap());
        let idr = Currency::new("IDR", 0);
        assert_eq!(
            money("12161093366.25").decimal(),
            Some(Decimal::new(1216109336625, 2))
        );
        assert_eq!(Figure::count(3).decimal(), Some(Decimal::from(3)));
        assert_eq!(
            fmt_interval(
                Some(&(Figure::number(10512993248.6855), money("12139790631.9812"))),
                "money",
                &idr
            ),
            "10,512,993,249 – 12,139,790,632"
        );
        assert_eq!(fmt_interval(None, "money", &idr), "—");
        assert_eq!(fmt_stat(&money("85087.333333"), "count", &idr), "85,087.3");
    }
}
