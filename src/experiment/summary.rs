//! Aggregation across replications: mean, standard deviation and percentiles of every metric.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::metrics::{EndMetric, Metric, Unit};
use crate::scenario::Scenario;
use crate::sim::Replication;

/// Aggregate statistics of one metric over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    pub mean: Decimal,
    pub sd: f64,
    pub min: Decimal,
    pub p5: Decimal,
    pub p25: Decimal,
    pub p50: Decimal,
    pub p75: Decimal,
    pub p95: Decimal,
    pub max: Decimal,
    /// Student-t 95% interval of the mean; `None` for a single replication.
    pub ci95: Option<(f64, f64)>,
}

/// Percentile by linear interpolation between closest ranks (type 7), on sorted values.
pub fn percentile(sorted: &[Decimal], p: u32) -> Decimal {
    if sorted.is_empty() {
        return Decimal::ZERO;
    }
    let n = sorted.len() - 1;
    let pos = Decimal::from(n as u64) * Decimal::from(p) / Decimal::ONE_HUNDRED;
    let lo = pos.floor();
    let i = lo.to_usize().unwrap_or(0).min(n);
    let frac = pos - lo;
    if i == n || frac.is_zero() {
        sorted[i]
    } else {
        sorted[i] + (sorted[i + 1] - sorted[i]) * frac
    }
}

/// Statistics of a sample.
pub fn stats(values: &[Decimal]) -> Stats {
    let mut v = values.to_vec();
    v.sort();
    let n = v.len().max(1);
    let mean = v.iter().copied().sum::<Decimal>() / Decimal::from(n as u64);
    let mf = mean.to_f64().unwrap_or(0.0);
    let sd = if v.len() > 1 {
        (v.iter()
            .map(|x| (x.to_f64().unwrap_or(0.0) - mf).powi(2))
            .sum::<f64>()
            / (v.len() - 1) as f64)
            .sqrt()
    } else {
        0.0
    };
    Stats {
        mean: mean.round_dp(6).normalize(),
        sd,
        min: *v.first().unwrap_or(&Decimal::ZERO),
        p5: percentile(&v, 5),
        p25: percentile(&v, 25),
        p50: percentile(&v, 50),
        p75: percentile(&v, 75),
        p95: percentile(&v, 95),
        max: *v.last().unwrap_or(&Decimal::ZERO),
        ci95: {
            let xs: Vec<f64> = v.iter().map(|x| x.to_f64().unwrap_or(0.0)).collect();
            super::stats::mean_ci(&xs).ci
        },
    }
}

/// A figure of a report document: money (and rates) as an exact decimal string, a count as a
/// JSON number (a whole count as an integer, a statistic of counts as a decimal number).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    Count(serde_json::Number),
    Money(#[serde(with = "rust_decimal::serde::str")] Decimal),
}

impl Figure {
    /// The figure as an exact decimal (a count through its number).
    pub fn decimal(&self) -> Option<Decimal> {
        match self {
            Figure::Money(d) => Some(*d),
            Figure::Count(n) => n
                .as_i64()
                .map(Decimal::from)
                .or_else(|| n.as_f64().and_then(Decimal::from_f64)),
        }
    }

    /// The figure as a number (charts and short tables).
    pub fn f64(&self) -> f64 {
        match self {
            // through the text, as a reader of the JSON would (correctly rounded)
            Figure::Money(d) => d.to_string().parse().unwrap_or(0.0),
            Figure::Count(n) => n.as_f64().unwrap_or(0.0),
        }
    }

    /// A count as a whole number (0 for money or a fraction).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Figure::Count(n) => n.as_u64(),
            Figure::Money(_) => None,
        }
    }

    /// A whole count.
    pub fn count(n: u64) -> Figure {
        Figure::Count(n.into())
    }

    /// A number (non-finite: 0, which JSON cannot hold otherwise).
    pub fn number(x: f64) -> Figure {
        Figure::Count(serde_json::Number::from_f64(x).unwrap_or_else(|| 0.into()))
    }

    /// An amount, normalised (`1.50` is written `1.5`).
    pub fn money(d: Decimal) -> Figure {
        Figure::Money(d.normalize())
    }
}

impl std::fmt::Display for Figure {
    /// The exact text of the figure, as JSON writes it (strings unquoted).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Figure::Count(n) => write!(f, "{n}"),
            Figure::Money(d) => write!(f, "{d}"),
        }
    }
}

/// A figure: money as a decimal string, a count as a number (a whole count as an integer, a
/// statistic of counts such as an interpolated percentile as a decimal number).
pub(crate) fn value(unit: Unit, d: Decimal) -> Figure {
    match unit {
        Unit::Money => Figure::money(d),
        Unit::Count => d
            .to_i64()
            .filter(|_| d.fract().is_zero())
            .map(|i| Figure::Count(i.into()))
            .unwrap_or_else(|| Figure::number(d.round_dp(6).to_f64().unwrap_or(0.0))),
    }
}

/// An estimate computed in floating point (sd, interval bounds): money as a decimal string at
/// the currency's minor unit, a count as a number with `dp` decimals.
pub(crate) fn estimate(unit: Unit, minor: u32, dp: i32, x: f64) -> Figure {
    match unit {
        Unit::Money => Figure::money(
            Decimal::from_f64(x)
                .map(|d| d.round_dp(minor))
                .unwrap_or_default(),
        ),
        Unit::Count => {
            let k = 10f64.powi(dp);
            Figure::number((x * k).round() / k)
        }
    }
}

/// A unit as the documents name it.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Money => "money",
        Unit::Count => "count",
    }
}

/// One metric's statistics as `summary.json` gives them: money as decimal strings, counts as
/// numbers; `ci95` null for one replication.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricStats {
    /// `money` or `count`.
    pub unit: String,
    pub mean: Figure,
    pub sd: Figure,
    pub min: Figure,
    pub ci95: Option<(Figure, Figure)>,
    pub p5: Figure,
    pub p25: Figure,
    pub p50: Figure,
    pub p75: Figure,
    pub p95: Figure,
    pub max: Figure,
}

fn metric_stats(unit: Unit, minor: u32, s: &Stats) -> MetricStats {
    MetricStats {
        unit: unit_name(unit).to_string(),
        mean: value(unit, s.mean),
        sd: estimate(unit, minor, 6, s.sd),
        min: value(unit, s.min),
        ci95: s
            .ci95
            .map(|(lo, hi)| (estimate(unit, minor, 4, lo), estimate(unit, minor, 4, hi))),
        p5: value(unit, s.p5),
        p25: value(unit, s.p25),
        p50: value(unit, s.p50),
        p75: value(unit, s.p75),
        p95: value(unit, s.p95),
        max: value(unit, s.max),
    }
}

/// The rule-set settings a report states (`rules` in `summary.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleSettings {
    pub rounding: crate::money::RoundingMode,
    pub after_sales_days: u32,
    pub refund_after_settlement: crate::rules::LateRefund,
    /// The H-4 decrease lock's options, or null.
    pub open_decrease_lock: Option<crate::rules::plans::DecreaseLock>,
    pub sample_post_days: u32,
    pub sample_extension_days: u32,
    /// Which rate an authorised-ad order earns (ATTR-2 / H-5 option).
    pub ad_precedence: crate::rules::attribution::AdPrecedence,
    /// What an Open raise above a running Plus does (PLUS-9 option).
    pub open_raise_during_plus: crate::rules::OpenRaiseDuringPlus,
    /// What a showcase entry from an ended Target or Plus pays (PLUS-12 option).
    pub ended_plan_entry: crate::rules::attribution::EndedPlanEntry,
    /// Whether accepted Target rates may change (issue 14 option).
    pub target_rate_change: crate::rules::target::TargetRateChange,
    /// What the Plus service fee is charged by (PLUS-16 model).
    #[serde(default)]
    pub plus_fee_measure: crate::rules::plus::PlusFeeMeasure,
    /// Whether a distributor registration's parts may be edited (issue 14 option).
    #[serde(default)]
    pub registration_edit: crate::rules::changes::RegistrationEdit,
}

/// The `summary.json` document, typed; its fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub region: String,
    pub currency: String,
    pub start: String,
    pub days: u32,
    pub seed: u64,
    pub replications: usize,
    pub ledger_balanced: bool,
    pub rules: RuleSettings,
    /// Every reported figure by name, in report order.
    #[serde(with = "ordered_map")]
    pub metrics: Vec<(String, MetricStats)>,
    /// One row per replication: its index, every figure, events and ledger entries.
    pub per_replication: Vec<ReplicationRow>,
    pub campaigns: Vec<crate::metrics::campaigns::CampaignBlock>,
    pub unattributed: crate::metrics::campaigns::Unattributed,
    pub sellers: Vec<crate::metrics::campaigns::SellerBlock>,
    /// The IDs of the rules that fired in any replication, in catalogue order.
    pub rules_fired: Vec<String>,
}

/// One replication's row of `summary.json`: its index, every figure by name, events and ledger
/// entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplicationRow {
    pub replication: u32,
    #[serde(flatten, with = "ordered_map")]
    pub figures: Vec<(String, Figure)>,
    pub events: u64,
    pub ledger_entries: u64,
    pub ledger_balanced: bool,
}

impl Summary {
    /// A metric's statistics by name.
    pub fn metric(&self, name: &str) -> Option<&MetricStats> {
        self.metrics.iter().find(|(k, _)| k == name).map(|(_, s)| s)
    }
}

/// A list of (name, value) pairs as a JSON object, in list order.
pub(crate) mod ordered_map {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde::{Deserialize, Serialize, Serializer};

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &[(String, T)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, x)| (k, x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<(String, T)>, D::Error> {
        struct Pairs<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Pairs<T> {
            type Value = Vec<(String, T)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some(pair) = m.next_entry()? {
                    v.push(pair);
                }
                Ok(v)
            }
        }
        d.deserialize_map(Pairs(std::marker::PhantomData))
    }
}

/// Every reported figure of a replication, by name, in report order.
pub fn figures(r: &Replication) -> Vec<(&'static str, Unit, Decimal)> {
    let mut out: Vec<(&'static str, Unit, Decimal)> = Metric::ALL
        .iter()
        .map(|&m| (m.name(), m.unit(), r.total(m)))
        .collect();
    out.push((
        "seller_net",
        Unit::Money,
        r.end_metric(EndMetric::SellerNet),
    ));
    out.push((
        "platform_net",
        Unit::Money,
        r.end_metric(EndMetric::PlatformNet),
    ));
    out.push((
        "commissions_pending",
        Unit::Money,
        r.end_metric(EndMetric::CommissionsPending),
    ));
    out
}

/// How many figures [`figures`] gives: every metric and the three end figures.
pub const FIGURES: usize = Metric::COUNT + 3;

/// The `i`-th figure of [`figures`].
pub(crate) fn figure(r: &Replication, i: usize) -> Decimal {
    match i.checked_sub(Metric::COUNT) {
        None => r.total(Metric::ALL[i]),
        Some(0) => r.end_metric(EndMetric::SellerNet),
        Some(1) => r.end_metric(EndMetric::PlatformNet),
        Some(_) => r.end_metric(EndMetric::CommissionsPending),
    }
}

/// The `summary.json` document as JSON (see [`summary`]).
pub fn summary_json(sc: &Scenario, seed: u64, reps: &[Replication]) -> Value {
    serde_json::to_value(summary(sc, seed, reps)).unwrap_or_default()
}

/// Replication `r`'s row of `summary.json`'s `per_replication`.
pub fn replication_row(r: &Replication) -> ReplicationRow {
    ReplicationRow {
        replication: r.index,
        figures: figures(r)
            .into_iter()
            .map(|(name, unit, v)| (name.to_string(), value(unit, v)))
            .collect(),
        events: r.events,
        ledger_entries: r.ledger_entries,
        ledger_balanced: true,
    }
}

/// The `summary.json` document.
pub fn summary(sc: &Scenario, seed: u64, reps: &[Replication]) -> Summary {
    summary_with(sc, seed, reps, true)
}

/// The `summary.json` document with every `per_replication` array empty (its statistics are
/// of every replication): `report::write_summary` writes the rows one at a time
/// ([`replication_row`], `campaigns::campaign_replication`, `campaigns::seller_replication`).
pub fn summary_head(sc: &Scenario, seed: u64, reps: &[Replication]) -> Summary {
    summary_with(sc, seed, reps, false)
}

/// [`summary_head`] of a run's totals: exact statistics of the replications kept (up to the
/// exact limit, the same document), else the aggregate's (see `experiment::totals`).
pub fn summary_head_of(sc: &Scenario, seed: u64, totals: &super::totals::Totals) -> Summary {
    if let Some(reps) = totals.exact() {
        return summary_head(sc, seed, reps);
    }
    let agg = totals.agg();
    let names = figure_names();
    let metrics = names
        .into_iter()
        .enumerate()
        .map(|(i, (name, unit))| {
            let s = agg.stats(i, unit, sc.region.minor_unit);
            (
                name.to_string(),
                metric_stats(unit, sc.region.minor_unit, &s),
            )
        })
        .collect();
    let head = Head {
        count: agg.count() as usize,
        metrics,
        per_rep: Vec::new(),
        blocks: agg.blocks(),
        fired: agg.fired(),
    };
    document(sc, seed, head)
}

/// The name and unit of each figure of [`figures`], without a replication.
fn figure_names() -> Vec<(&'static str, Unit)> {
    let mut v: Vec<(&'static str, Unit)> =
        Metric::ALL.iter().map(|m| (m.name(), m.unit())).collect();
    v.extend([
        ("seller_net", Unit::Money),
        ("platform_net", Unit::Money),
        ("commissions_pending", Unit::Money),
    ]);
    v
}

/// What a summary document is made of besides the scenario's settings.
struct Head {
    count: usize,
    metrics: Vec<(String, MetricStats)>,
    per_rep: Vec<ReplicationRow>,
    blocks: (
        Vec<crate::metrics::campaigns::CampaignBlock>,
        Vec<crate::metrics::campaigns::SellerBlock>,
        crate::metrics::campaigns::Unattributed,
    ),
    fired: crate::rules::catalogue::RuleSet,
}

fn summary_with(sc: &Scenario, seed: u64, reps: &[Replication], rows: bool) -> Summary {
    let mut metrics = Vec::new();
    if let Some(first) = reps.first() {
        for (i, (name, unit, _)) in figures(first).into_iter().enumerate() {
            // one figure of every replication at a time
            let vals: Vec<Decimal> = reps.iter().map(|r| figure(r, i)).collect();
            metrics.push((
                name.to_string(),
                metric_stats(unit, sc.region.minor_unit, &stats(&vals)),
            ));
        }
    }
    let per_rep: Vec<ReplicationRow> = reps.iter().filter(|_| rows).map(replication_row).collect();
    let blocks = crate::metrics::campaigns::summary_blocks(reps, rows);
    let mut fired = crate::rules::catalogue::RuleSet::EMPTY;
    for r in reps {
        fired.extend(r.fired);
    }
    let head = Head {
        count: reps.len(),
        metrics,
        per_rep,
        blocks,
        fired,
    };
    document(sc, seed, head)
}

fn document(sc: &Scenario, seed: u64, head: Head) -> Summary {
    let Head {
        count,
        metrics,
        per_rep,
        blocks: (campaigns, sellers, unattributed),
        fired,
    } = head;
    Summary {
        scenario: sc.name.clone(),
        region: sc.region.code.clone(),
        currency: sc.region.currency.clone(),
        start: sc.calendar.start.to_string(),
        days: sc.days,
        seed,
        replications: count,
        ledger_balanced: true,
        rules: RuleSettings {
            rounding: sc.opts.rounding.mode,
            after_sales_days: sc.opts.after_sales_days,
            refund_after_settlement: sc.opts.late_refund,
            open_decrease_lock: sc.opts.decrease_lock,
            sample_post_days: sc.opts.sample_post_days,
            sample_extension_days: sc.opts.sample_extension_days,
            ad_precedence: sc.opts.ad_precedence,
            open_raise_during_plus: sc.opts.open_raise_during_plus,
            ended_plan_entry: sc.opts.ended_plan_entry,
            target_rate_change: sc.opts.target_rate_change,
            plus_fee_measure: sc.opts.plus_fee_measure,
            registration_edit: sc.opts.registration_edit,
        },
        metrics,
        per_replication: per_rep,
        campaigns,
        unattributed,
        sellers,
        rules_fired: fired.iter().map(|r| r.as_str().to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(x: i64) -> Decimal {
        Decimal::from(x)
    }

    #[test]
    fn percentiles_interpolate() {
        let v: Vec<Decimal> = (1..=5).map(d).collect();
        assert_eq!(percentile(&v, 50), d(3));
        assert_eq!(percentile(&v, 0), d(1));
        assert_eq!(percentile(&v, 100), d(5));
        assert_eq!(percentile(&v, 25), d(2));
        assert_eq!(percentile(&[d(0), d(10)], 5), Decimal::new(5, 1));
    }

    #[test]
    fn stats_of_a_sample() {
        let s = stats(&[d(2), d(4), d(4), d(4), d(5), d(5), d(7), d(9)]);
        assert_eq!(s.mean, d(5));
        assert!((s.sd - 2.138).abs() < 0.001);
        assert_eq!((s.min, s.max), (d(2), d(9)));
    }
}
