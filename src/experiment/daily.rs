//! Daily flows aggregated as replications arrive: exact per-day sums of every metric and a per-day quantile summary of the charted metrics (exact values up to [`EXACT_LIMIT`] replications, a mergeable relative-error sketch beyond), so memory does not grow with the replication count.
//!
//! Everything here is a function of the multiset of replications folded in, never of their
//! order: sums are exact decimals, exact quantiles sort their values, and the sketch counts
//! values in fixed logarithmic bins. Any `--threads`, and shards merged, give the same figures.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::metrics::Metric;

/// Up to this many replications, per-day quantiles are exact (the values are kept, 8 bytes per
/// replication, day and quantiled metric); beyond, they come from a [`Sketch`].
pub const EXACT_LIMIT: u64 = 1000;

/// The sketch's relative accuracy: each bin holds values within ±1 % of its representative.
pub const ALPHA: f64 = 0.01;

/// A DDSketch-style histogram: values counted in logarithmic bins of relative width
/// 2·[`ALPHA`] (by sign, with zero apart). Insertion counts, so the sketch of a multiset does not
/// depend on the order values arrive in, and two sketches merge by adding counts. Its size is
/// bounded by the range of the values (about 1 200 bins per sign for 1e-6 to 1e15), never by
/// their number.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sketch {
    pos: BTreeMap<i32, u64>,
    neg: BTreeMap<i32, u64>,
    zero: u64,
    count: u64,
}

fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

impl Sketch {
    fn key(x: f64) -> i32 {
        (x.ln() / gamma().ln()).ceil() as i32
    }

    fn value(k: i32) -> f64 {
        let g = gamma();
        2.0 * g.powi(k) / (g + 1.0)
    }

    pub fn add(&mut self, x: f64) {
        self.count += 1;
        // below a millionth (of a currency unit or a count) is zero for these figures
        if !x.is_finite() || x.abs() < 1e-6 {
            self.zero += 1;
        } else if x > 0.0 {
            *self.pos.entry(Self::key(x)).or_default() += 1;
        } else {
            *self.neg.entry(Self::key(-x)).or_default() += 1;
        }
    }

    pub fn merge(&mut self, o: &Sketch) {
        for (k, c) in &o.pos {
            *self.pos.entry(*k).or_default() += c;
        }
        for (k, c) in &o.neg {
            *self.neg.entry(*k).or_default() += c;
        }
        self.zero += o.zero;
        self.count += o.count;
    }

    /// The value of rank `r` (0-based) in ascending order, as its bin's representative.
    fn at_rank(&self, r: u64) -> f64 {
        let mut seen = 0;
        for (k, c) in self.neg.iter().rev() {
            seen += c;
            if r < seen {
                return -Self::value(*k);
            }
        }
        seen += self.zero;
        if r < seen {
            return 0.0;
        }
        for (k, c) in &self.pos {
            seen += c;
            if r < seen {
                return Self::value(*k);
            }
        }
        0.0
    }

    /// Every bin's counts add up to the count (a sketch read from a partial).
    pub(crate) fn consistent(&self) -> bool {
        let sum = |m: &BTreeMap<i32, u64>| m.values().try_fold(0u64, |a, c| a.checked_add(*c));
        let held = sum(&self.pos)
            .zip(sum(&self.neg))
            .and_then(|(p, n)| p.checked_add(n)?.checked_add(self.zero));
        held == Some(self.count)
    }

    /// The values as the sketch holds them, ascending: each bin's representative as often as it
    /// counts.
    pub fn values(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for (k, c) in self.neg.iter().rev() {
            v.extend(std::iter::repeat_n(-Self::value(*k), *c as usize));
        }
        v.extend(std::iter::repeat_n(0.0, self.zero as usize));
        for (k, c) in &self.pos {
            v.extend(std::iter::repeat_n(Self::value(*k), *c as usize));
        }
        v
    }

    /// The `p` quantile, interpolated between ranks as [`pct`] does on exact values.
    pub fn quantile(&self, p: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let pos = (self.count - 1) as f64 * p;
        let (lo, hi) = (pos.floor() as u64, pos.ceil() as u64);
        let (a, b) = (self.at_rank(lo), self.at_rank(hi));
        a + (b - a) * (pos - lo as f64)
    }
}

/// `a + b`, saturating at the largest decimal instead of panicking: no real run comes near
/// it (7.9e28), but a partial's figures are read from a file.
pub(crate) fn sat_add(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or(if b.is_sign_negative() {
        Decimal::MIN
    } else {
        Decimal::MAX
    })
}

/// The `p` quantile of sorted values, interpolated linearly between ranks.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// One day's values of a quantiled metric across the replications so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Quant {
    Exact(Vec<f64>),
    Sketched(Sketch),
}

impl Quant {
    fn add(&mut self, x: f64) {
        match self {
            Quant::Exact(v) => v.push(x),
            Quant::Sketched(s) => s.add(x),
        }
    }

    /// The values of both (a multiset: the order they are kept in does not count).
    fn merge(&mut self, o: &Quant) {
        match (&mut *self, o) {
            (Quant::Exact(a), Quant::Exact(b)) => a.extend_from_slice(b),
            (Quant::Sketched(a), Quant::Sketched(b)) => a.merge(b),
            (Quant::Sketched(a), Quant::Exact(b)) => b.iter().for_each(|x| a.add(*x)),
            (Quant::Exact(_), Quant::Sketched(b)) => {
                self.sketch();
                if let Quant::Sketched(a) = self {
                    a.merge(b);
                }
            }
        }
    }

    /// How many values it holds.
    fn len(&self) -> u64 {
        match self {
            Quant::Exact(v) => v.len() as u64,
            Quant::Sketched(s) => s.count,
        }
    }

    fn sketch(&mut self) {
        if let Quant::Exact(v) = self {
            let mut s = Sketch::default();
            for x in v.iter() {
                s.add(*x);
            }
            *self = Quant::Sketched(s);
        }
    }

    fn quantiles(&self, ps: [f64; 3]) -> [f64; 3] {
        match self {
            Quant::Exact(v) => {
                let mut v = v.clone();
                v.sort_by(f64::total_cmp);
                ps.map(|p| pct(&v, p))
            }
            Quant::Sketched(s) => ps.map(|p| s.quantile(p)),
        }
    }
}

/// Why a daily aggregate read from a partial does not fit its replications.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum DailyError {
    #[error("the daily aggregate quantiles other metrics")]
    Metrics,
    #[error("the daily aggregate counts {found} replication(s), the partial holds {count}")]
    Count { found: u64, count: u64 },
    #[error("the daily aggregate has {found} day(s), its replications ran {days}")]
    Days { found: usize, days: usize },
    #[error(
        "day {day} of the daily aggregate has {found} figures, expected {}",
        Metric::COUNT
    )]
    Figures { day: usize, found: usize },
    #[error("the daily aggregate's quantile days are incomplete")]
    QuantileDays,
    #[error(
        "the daily aggregate's quantiles do not hold one value per replication ({found} for {count})"
    )]
    Quantiles { found: u64, count: u64 },
}

/// One metric's daily values across replications: median and the p5–p95 band.
pub struct Band {
    pub p5: Vec<f64>,
    pub p50: Vec<f64>,
    pub p95: Vec<f64>,
}

/// The daily flows of the replications folded in so far. A replication shorter than another
/// counts zero on the days it lacks, as a chart of all of them would. Its state is mergeable
/// ([`DailyAgg::merge`]) and serialisable: a shard's partial carries it instead of every
/// replication's rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DailyAgg {
    count: u64,
    /// Per day, per metric (indexed like [`Metric::ALL`]): the sum across replications.
    sums: Vec<Vec<Decimal>>,
    #[serde(with = "metric_names")]
    quantiled: Vec<Metric>,
    /// Per quantiled metric, per day.
    quants: Vec<Vec<Quant>>,
}

impl DailyAgg {
    /// An empty aggregate keeping quantiles of `quantiled`.
    pub fn new(quantiled: &[Metric]) -> DailyAgg {
        DailyAgg {
            count: 0,
            sums: Vec::new(),
            quantiled: quantiled.to_vec(),
            quants: vec![Vec::new(); quantiled.len()],
        }
    }

    /// The aggregate of `daily` rows of several replications at once.
    pub fn of<'a>(
        quantiled: &[Metric],
        reps: impl IntoIterator<Item = &'a [Vec<Decimal>]>,
    ) -> DailyAgg {
        let mut a = DailyAgg::new(quantiled);
        for d in reps {
            a.add(d);
        }
        a
    }

    /// Replications folded in.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Days: the longest replication's.
    pub fn days(&self) -> usize {
        self.sums.len()
    }

    fn fresh(&self) -> Quant {
        if self.count > EXACT_LIMIT {
            let mut s = Sketch::default();
            for _ in 0..self.count {
                s.add(0.0);
            }
            Quant::Sketched(s)
        } else {
            Quant::Exact(vec![0.0; self.count as usize])
        }
    }

    /// Folds in one replication's daily rows (per day, per metric).
    pub fn add(&mut self, daily: &[Vec<Decimal>]) {
        while self.sums.len() < daily.len() {
            self.sums.push(vec![Decimal::ZERO; Metric::COUNT]);
            let q = self.fresh();
            for qs in &mut self.quants {
                qs.push(q.clone());
            }
        }
        for (sum, row) in self.sums.iter_mut().zip(daily) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s = sat_add(*s, *v);
            }
        }
        for (k, m) in self.quantiled.iter().enumerate() {
            for (d, q) in self.quants[k].iter_mut().enumerate() {
                let x = daily
                    .get(d)
                    .and_then(|row| row.get(*m as usize))
                    .map_or(0.0, |v| v.to_f64().unwrap_or(0.0));
                q.add(x);
            }
        }
        self.count += 1;
        if self.count == EXACT_LIMIT + 1 {
            self.quants.iter_mut().flatten().for_each(Quant::sketch);
        }
    }

    /// Days added until there are `days`, each counting zero for every replication so far.
    fn pad(&mut self, days: usize) {
        while self.sums.len() < days {
            self.sums.push(vec![Decimal::ZERO; Metric::COUNT]);
            let q = self.fresh();
            for qs in &mut self.quants {
                qs.push(q.clone());
            }
        }
    }

    /// Folds in another aggregate of the same metrics (another shard's replications): the
    /// result is the aggregate of all their replications, whatever the order of the merges.
    pub fn merge(&mut self, o: &DailyAgg) {
        let days = self.days().max(o.days());
        let mut o = o.clone();
        self.pad(days);
        o.pad(days);
        for (sum, row) in self.sums.iter_mut().zip(&o.sums) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s = sat_add(*s, *v);
            }
        }
        for (qs, oq) in self.quants.iter_mut().zip(&o.quants) {
            for (q, x) in qs.iter_mut().zip(oq) {
                q.merge(x);
            }
        }
        self.count += o.count;
        if self.count > EXACT_LIMIT {
            self.quants.iter_mut().flatten().for_each(Quant::sketch);
        }
    }

    /// Checks an aggregate read from a partial: `quantiled` as expected, `count` replications
    /// over `days` days, every row and day complete, exact values up to [`EXACT_LIMIT`]
    /// replications and a sketch beyond, each holding one value per replication.
    pub fn check(&self, quantiled: &[Metric], count: u64, days: usize) -> Result<(), DailyError> {
        if self.quantiled != quantiled {
            return Err(DailyError::Metrics);
        }
        if self.count != count {
            return Err(DailyError::Count {
                found: self.count,
                count,
            });
        }
        if self.sums.len() != days {
            return Err(DailyError::Days {
                found: self.sums.len(),
                days,
            });
        }
        if let Some((day, row)) = self
            .sums
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != Metric::COUNT)
        {
            return Err(DailyError::Figures {
                day,
                found: row.len(),
            });
        }
        if self.quants.len() != quantiled.len() || self.quants.iter().any(|q| q.len() != days) {
            return Err(DailyError::QuantileDays);
        }
        let sketched = count > EXACT_LIMIT;
        for q in self.quants.iter().flatten() {
            let consistent = match q {
                Quant::Exact(_) => !sketched,
                Quant::Sketched(s) => sketched && s.consistent(),
            };
            if !consistent || q.len() != count {
                return Err(DailyError::Quantiles {
                    found: q.len(),
                    count,
                });
            }
        }
        Ok(())
    }

    /// The per-day band of a quantiled metric (an empty band for another).
    pub fn band(&self, m: Metric) -> Band {
        let mut b = Band {
            p5: Vec::new(),
            p50: Vec::new(),
            p95: Vec::new(),
        };
        if let Some(k) = self.quantiled.iter().position(|q| *q == m) {
            for q in &self.quants[k] {
                let [p5, p50, p95] = q.quantiles([0.05, 0.5, 0.95]);
                b.p5.push(p5);
                b.p50.push(p50);
                b.p95.push(p95);
            }
        }
        b
    }

    /// The per-day mean of a sum of metrics across replications. Means add up: the means of
    /// several metrics sum to the mean of their sum, which is why stacked charts use them.
    pub fn mean(&self, metrics: &[Metric]) -> Vec<f64> {
        let n = self.count.max(1) as f64;
        self.sums
            .iter()
            .map(|row| {
                let s: Decimal = metrics.iter().map(|m| row[*m as usize]).sum();
                s.to_f64().unwrap_or(0.0) / n
            })
            .collect()
    }
}

/// Metrics in JSON by their names.
mod metric_names {
    use super::*;

    pub fn serialize<S: serde::Serializer>(v: &[Metric], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|m| m.name()))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Metric>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|n| {
                Metric::parse(n)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown metric `{n}`")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(vals: &[i64]) -> Vec<Vec<Decimal>> {
        vals.iter()
            .map(|v| {
                let mut r = vec![Decimal::ZERO; Metric::COUNT];
                r[Metric::Gmv as usize] = Decimal::from(*v);
                r
            })
            .collect()
    }

    /// Exact below the limit: the band is the interpolated percentile of the sorted values,
    /// whatever the order they came in.
    #[test]
    fn exact_quantiles_do_not_depend_on_order() {
        let reps: Vec<_> = (0..50).map(|i| rows(&[(i * 37) % 50, i])).collect();
        let a = DailyAgg::of(&[Metric::Gmv], reps.iter().map(|r| &r[..]));
        let b = DailyAgg::of(&[Metric::Gmv], reps.iter().rev().map(|r| &r[..]));
        assert_eq!(a.band(Metric::Gmv).p50, b.band(Metric::Gmv).p50);
        assert_eq!(a.band(Metric::Gmv).p5, vec![2.45, 2.45]);
        assert_eq!(a.mean(&[Metric::Gmv]), vec![24.5, 24.5]);
    }

    /// Beyond the limit: the sketch does not depend on the order either, and each quantile is
    /// within the stated relative accuracy of the exact one.
    #[test]
    fn sketched_quantiles_are_order_free_and_within_accuracy() {
        let n = EXACT_LIMIT as i64 * 3;
        let reps: Vec<_> = (0..n).map(|i| rows(&[1000 + (i * 7919) % n])).collect();
        let a = DailyAgg::of(&[Metric::Gmv], reps.iter().map(|r| &r[..]));
        let b = DailyAgg::of(&[Metric::Gmv], reps.iter().rev().map(|r| &r[..]));
        let (ba, bb) = (a.band(Metric::Gmv), b.band(Metric::Gmv));
        assert_eq!((&ba.p5, &ba.p50, &ba.p95), (&bb.p5, &bb.p50, &bb.p95));
        let mut exact: Vec<f64> = (0..n).map(|i| (1000 + i) as f64).collect();
        exact.sort_by(f64::total_cmp);
        for (p, got) in [(0.05, ba.p5[0]), (0.5, ba.p50[0]), (0.95, ba.p95[0])] {
            let want = pct(&exact, p);
            assert!(
                ((got - want) / want).abs() <= ALPHA,
                "p{p}: {got} vs {want}"
            );
        }
    }

    /// Aggregates of parts of the replications merged (in any order, of any lengths, below and
    /// across the exact limit) give the figures of the aggregate of all of them, and survive
    /// JSON.
    #[test]
    fn aggregates_merge_into_the_aggregate_of_all() {
        for n in [30i64, EXACT_LIMIT as i64 + 200] {
            let reps: Vec<_> = (0..n)
                .map(|i| rows(&vec![(i * 37) % 101 - 20; 2 + (i % 3) as usize]))
                .collect();
            let all = DailyAgg::of(&BANDED_TEST, reps.iter().map(|r| &r[..]));
            let parts: Vec<DailyAgg> = (0..3)
                .map(|k| DailyAgg::of(&BANDED_TEST, reps.iter().skip(k).step_by(3).map(|r| &r[..])))
                .collect();
            let mut merged = DailyAgg::new(&BANDED_TEST);
            for p in parts.iter().rev() {
                let p: DailyAgg = serde_json::from_str(&serde_json::to_string(p).unwrap()).unwrap();
                merged.merge(&p);
            }
            assert_eq!(merged.count(), all.count());
            assert_eq!(merged.days(), all.days());
            assert_eq!(merged.mean(&[Metric::Gmv]), all.mean(&[Metric::Gmv]));
            let (a, b) = (merged.band(Metric::Gmv), all.band(Metric::Gmv));
            assert_eq!((a.p5, a.p50, a.p95), (b.p5, b.p50, b.p95));
            assert_eq!(merged.check(&BANDED_TEST, n as u64, 4), Ok(()));
            assert!(merged.check(&BANDED_TEST, n as u64 + 1, 4).is_err());
        }
    }

    const BANDED_TEST: [Metric; 1] = [Metric::Gmv];

    /// Two sketches merged equal the sketch of all the values; negatives and zeros have ranks.
    #[test]
    fn sketches_merge_by_adding_counts() {
        let (mut a, mut b, mut all) = (Sketch::default(), Sketch::default(), Sketch::default());
        for i in -50..50 {
            let x = f64::from(i) * 3.5;
            if i % 2 == 0 { &mut a } else { &mut b }.add(x);
            all.add(x);
        }
        a.merge(&b);
        assert_eq!(a, all);
        assert!(all.quantile(0.0) < -170.0 && all.quantile(1.0) > 168.0);
        assert!(all.quantile(0.5).abs() <= 1.75 * (1.0 + ALPHA));
    }
}
