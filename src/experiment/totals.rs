//! Replication totals aggregated as replications arrive: each figure's exact sum, its sum of squares (exact, order-free), min, max and a quantile sketch; each campaign's and seller's sums — kept whole up to [`EXACT_LIMIT`] replications (exact statistics, reports as before), aggregated only beyond, so a run's memory does not grow with its replication count.
//!
//! Like [`DailyAgg`](super::daily::DailyAgg), everything here is a function of the multiset of
//! replications folded in, never of their order: decimal sums are exact, sums of squares are
//! exact sums of floating-point squares ([`ExactSum`]), min and max are exact, the sketch counts
//! values in fixed bins, and campaigns and sellers are ordered by where they first appear
//! (replication index, then place in its list). Any `--threads`, and shards merged, give the
//! same figures; a shard's partial carries the aggregate ([`TotalsAgg`]).

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::{Deserialize, Serialize};

use super::daily::{EXACT_LIMIT, Sketch, sat_add};
use super::stats::{self, MeanCi};
use crate::metrics::campaigns::{
    CampaignBlock, CampaignFigures, CampaignRow, SellerBlock, SellerFigures, SellerRow,
    Unattributed,
};
use crate::metrics::{Metric, Unit};
use crate::rules::catalogue::RuleSet;
use crate::sim::Replication;

/// 32-bit limbs of an [`ExactSum`]: limb `k` weighs 2^(32k − [`OFFSET`]), from below the
/// smallest subnormal to above the largest finite `f64`.
const LIMBS: usize = 67;
const OFFSET: i32 = 1088;

/// The exact sum of `f64` values, whatever the order they are added in: each value's mantissa
/// is added, at its binary place, into 32-bit limbs (carries propagated at once; the top limb
/// keeps the sign). Rounded once, when read ([`ExactSum::value`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u32, i64)>", into = "Vec<(u32, i64)>")]
pub struct ExactSum(Vec<i64>);

impl Default for ExactSum {
    fn default() -> ExactSum {
        ExactSum(vec![0; LIMBS])
    }
}

impl ExactSum {
    /// Adds `x` (a non-finite value counts zero).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() || x == 0.0 {
            return;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        // x = ±m · 2^e
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), exp - 1075)
        };
        let at = e + OFFSET;
        let (k, shift) = ((at / 32) as usize, at % 32);
        let wide = u128::from(m) << shift;
        for j in 0..3 {
            let part = ((wide >> (32 * j)) & 0xffff_ffff) as i64;
            self.0[k + j] += if bits >> 63 == 1 { -part } else { part };
        }
        self.carry(k);
    }

    /// Carries from limb `from` up: every limb but the top one in [0, 2^32) (limbs above
    /// `from + 2` unchanged unless a carry reaches them: an addition touched three limbs).
    fn carry(&mut self, from: usize) {
        self.carry_upto(from, from + 2);
    }

    /// Carries from limb `from` up, through at least limb `through`.
    fn carry_upto(&mut self, from: usize, through: usize) {
        for i in from..LIMBS - 1 {
            let c = self.0[i] >> 32;
            if c == 0 && i > through {
                break;
            }
            self.0[i] -= c << 32;
            self.0[i + 1] += c;
        }
    }

    /// Adds another exact sum.
    pub fn merge(&mut self, o: &ExactSum) {
        for (a, b) in self.0.iter_mut().zip(&o.0) {
            *a += b;
        }
        self.carry_upto(0, LIMBS);
    }

    /// The sum, rounded to `f64` (limbs added from the most significant).
    pub fn value(&self) -> f64 {
        let mut x = 0.0;
        for (k, l) in self.0.iter().enumerate().rev() {
            if *l != 0 {
                x += *l as f64 * 2f64.powi(32 * k as i32 - OFFSET);
            }
        }
        x
    }
}

impl From<ExactSum> for Vec<(u32, i64)> {
    /// The non-zero limbs, by place.
    fn from(s: ExactSum) -> Vec<(u32, i64)> {
        s.0.iter()
            .enumerate()
            .filter(|(_, l)| **l != 0)
            .map(|(k, l)| (k as u32, *l))
            .collect()
    }
}

impl TryFrom<Vec<(u32, i64)>> for ExactSum {
    type Error = String;
    /// Limbs read back: each place once, in range, every limb but the top one in [0, 2^32).
    fn try_from(v: Vec<(u32, i64)>) -> Result<ExactSum, String> {
        let mut s = ExactSum::default();
        for (k, l) in v {
            let k = k as usize;
            let top = k == LIMBS - 1;
            if k >= LIMBS || s.0[k] != 0 || (!top && !(0..1 << 32).contains(&l)) {
                return Err(format!("an exact sum's limb ({k}, {l}) is malformed"));
            }
            s.0[k] = l;
        }
        Ok(s)
    }
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// One figure's sum and sum of squares over replications.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    #[serde(with = "rust_decimal::serde::str")]
    sum: Decimal,
    squares: ExactSum,
}

impl Moments {
    fn add(&mut self, x: Decimal) {
        self.sum = sat_add(self.sum, x);
        let y = f(x);
        self.squares.add(y * y);
    }

    fn merge(&mut self, o: &Moments) {
        self.sum = sat_add(self.sum, o.sum);
        self.squares.merge(&o.squares);
    }

    /// The exact mean of `n` values (0 for none).
    fn mean(&self, n: u64) -> Decimal {
        self.sum / Decimal::from(n.max(1))
    }

    /// Mean, standard deviation (n − 1) and Student-t 95 % interval of `n` values; the variance
    /// from the exact sums, (Σx² − n·x̄²) / (n − 1), never below zero.
    fn mean_ci(&self, n: u64) -> MeanCi {
        let mean = f(self.mean(n));
        let nf = n as f64;
        let sd = if n > 1 {
            ((self.squares.value() - nf * mean * mean) / (nf - 1.0))
                .max(0.0)
                .sqrt()
        } else {
            0.0
        };
        let ci = (n >= 2)
            .then(|| stats::t_quantile(n as usize - 1))
            .flatten()
            .map(|t| (mean - t * sd / nf.sqrt(), mean + t * sd / nf.sqrt()));
        MeanCi {
            n: n as usize,
            mean,
            sd,
            ci,
        }
    }
}

/// One reported figure across replications: moments, exact min and max, and a sketch for its
/// percentiles.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Column {
    moments: Moments,
    #[serde(with = "rust_decimal::serde::str")]
    min: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    max: Decimal,
    sketch: Sketch,
}

/// A campaign's or seller's name and where it first appears: (replication index, place in that
/// replication's list).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Named<H> {
    head: H,
    first: (u32, u32),
    figures: Vec<Moments>,
}

/// What names a campaign in its block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct CampaignHead {
    id: String,
    kind: String,
    seller: Option<String>,
    distributor: Option<String>,
    /// Σ GMV × cost (as numbers), for the ratio's covariance.
    gmv_cost: ExactSum,
}

/// The totals of the replications folded in so far, as a state that merges ([`TotalsAgg::merge`])
/// and serialises (a shard's partial carries it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TotalsAgg {
    count: u64,
    /// Per figure of `summary::figures`, in its order.
    figures: Vec<Column>,
    campaigns: Vec<Named<CampaignHead>>,
    sellers: Vec<Named<String>>,
    /// Unattributed GMV and orders.
    unattributed: [Moments; 2],
    #[serde(with = "rule_names")]
    fired: RuleSet,
}

impl Default for TotalsAgg {
    fn default() -> TotalsAgg {
        TotalsAgg {
            count: 0,
            figures: vec![Column::default(); super::summary::FIGURES],
            campaigns: Vec::new(),
            sellers: Vec::new(),
            unattributed: Default::default(),
            fired: RuleSet::EMPTY,
        }
    }
}

/// A campaign row's figures in `summary.json`'s order.
fn campaign_values(row: &CampaignRow) -> Vec<Decimal> {
    let mut v = Vec::with_capacity(11);
    CampaignFigures::build(|_, get| v.push(get(row)));
    v
}

fn seller_values(row: &SellerRow) -> Vec<Decimal> {
    let mut v = Vec::with_capacity(4);
    SellerFigures::build(|_, get| v.push(get(row)));
    v
}

/// Folds `vals` of the replication `first` into the entry of `named` whose head `is` it,
/// adding the entry (zero so far) when it is new, and `also` into its head; the list stays
/// ordered by first appearance whatever the order replications are folded in.
fn fold<H>(
    named: &mut Vec<Named<H>>,
    is: impl Fn(&H) -> bool,
    head: impl FnOnce() -> H,
    first: (u32, u32),
    vals: &[Decimal],
    also: impl FnOnce(&mut H),
) {
    let (k, moved) = match named.iter().position(|n| is(&n.head)) {
        Some(k) => {
            let moved = first < named[k].first;
            named[k].first = named[k].first.min(first);
            (k, moved)
        }
        None => {
            named.push(Named {
                head: head(),
                first,
                figures: vec![Moments::default(); vals.len()],
            });
            (named.len() - 1, true)
        }
    };
    let n = &mut named[k];
    for (m, v) in n.figures.iter_mut().zip(vals) {
        m.add(*v);
    }
    also(&mut n.head);
    if moved {
        named.sort_by_key(|n| n.first);
    }
}

/// Merges `theirs` into `mine`: the same head (`same`) adds its figures (and `also` merges
/// what the head carries), a new one is added.
fn merge_named<H: Clone>(
    mine: &mut Vec<Named<H>>,
    theirs: &[Named<H>],
    same: impl Fn(&H, &H) -> bool,
    also: impl Fn(&mut H, &H),
) {
    for t in theirs {
        match mine.iter_mut().find(|m| same(&m.head, &t.head)) {
            Some(m) => {
                m.first = m.first.min(t.first);
                also(&mut m.head, &t.head);
                for (a, b) in m.figures.iter_mut().zip(&t.figures) {
                    a.merge(b);
                }
            }
            None => mine.push(t.clone()),
        }
    }
    // the state does not depend on the order of the merges: by first appearance
    mine.sort_by_key(|n| n.first);
}

impl TotalsAgg {
    /// The aggregate of several replications.
    pub fn of<'a>(reps: impl IntoIterator<Item = &'a Replication>) -> TotalsAgg {
        let mut a = TotalsAgg::default();
        for r in reps {
            a.add(r);
        }
        a
    }

    /// Replications folded in.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Folds in one replication.
    pub fn add(&mut self, r: &Replication) {
        let first = self.count == 0;
        for (i, c) in self.figures.iter_mut().enumerate() {
            let x = super::summary::figure(r, i);
            c.moments.add(x);
            c.sketch.add(f(x));
            if first || x < c.min {
                c.min = x;
            }
            if first || x > c.max {
                c.max = x;
            }
        }
        // ids are unique within a replication (generated plans are pooled into one row)
        for (place, row) in r.campaigns.campaigns.iter().enumerate() {
            fold(
                &mut self.campaigns,
                |h| h.id == row.id,
                || CampaignHead {
                    id: row.id.clone(),
                    kind: row.kind.clone(),
                    seller: row.seller.clone(),
                    distributor: row.distributor.clone(),
                    gmv_cost: ExactSum::default(),
                },
                (r.index, place as u32),
                &campaign_values(row),
                |h| h.gmv_cost.add(f(row.gmv) * f(row.cost())),
            );
        }
        for (place, row) in r.campaigns.sellers.iter().enumerate() {
            fold(
                &mut self.sellers,
                |h| *h == row.seller,
                || row.seller.clone(),
                (r.index, place as u32),
                &seller_values(row),
                |_| {},
            );
        }
        self.unattributed[0].add(r.campaigns.unattributed_gmv);
        self.unattributed[1].add(Decimal::from(r.campaigns.unattributed_orders));
        self.fired.extend(r.fired);
        self.count += 1;
    }

    /// Folds in another aggregate (another shard's replications): the aggregate of all of
    /// them, whatever the order of the merges.
    pub fn merge(&mut self, o: &TotalsAgg) {
        if o.count == 0 {
            return;
        }
        let first = self.count == 0;
        for (a, b) in self.figures.iter_mut().zip(&o.figures) {
            a.moments.merge(&b.moments);
            a.sketch.merge(&b.sketch);
            if first || b.min < a.min {
                a.min = b.min;
            }
            if first || b.max > a.max {
                a.max = b.max;
            }
        }
        merge_named(
            &mut self.campaigns,
            &o.campaigns,
            |a, b| a.id == b.id,
            |a, b| a.gmv_cost.merge(&b.gmv_cost),
        );
        merge_named(&mut self.sellers, &o.sellers, |a, b| a == b, |_, _| {});
        for (a, b) in self.unattributed.iter_mut().zip(&o.unattributed) {
            a.merge(b);
        }
        self.fired.extend(o.fired);
        self.count += o.count;
    }

    /// Campaigns (or sellers) in the order the exact statistics list them: by first appearance.
    fn ordered<H>(named: &[Named<H>]) -> Vec<&Named<H>> {
        let mut v: Vec<&Named<H>> = named.iter().collect();
        v.sort_by_key(|n| n.first);
        v
    }

    /// The campaign ids in report order.
    pub fn campaign_ids(&self) -> Vec<&str> {
        Self::ordered(&self.campaigns)
            .into_iter()
            .map(|n| n.head.id.as_str())
            .collect()
    }

    /// The seller names in report order.
    pub fn seller_names(&self) -> Vec<&str> {
        Self::ordered(&self.sellers)
            .into_iter()
            .map(|n| n.head.as_str())
            .collect()
    }

    /// The rules that fired in any replication.
    pub fn fired(&self) -> RuleSet {
        self.fired
    }

    /// Statistics of figure `i` (of `summary::figures`), in `unit` with `minor` decimals of
    /// money: the mean exact, the standard deviation and interval from the exact sums, min and
    /// max exact, percentiles from the sketch (each within ±1 % of a value between the
    /// neighbouring order statistics; kept within min and max; money rounded to the minor
    /// unit, counts to six decimals).
    pub fn stats(&self, i: usize, unit: Unit, minor: u32) -> super::summary::Stats {
        let c = &self.figures[i];
        let m = c.moments.mean_ci(self.count);
        let q = |p: f64| -> Decimal {
            let d = Decimal::from_f64(c.sketch.quantile(p)).unwrap_or_default();
            let d = match unit {
                Unit::Money => d.round_dp(minor),
                Unit::Count => d.round_dp(6),
            };
            d.clamp(c.min, c.max).normalize()
        };
        super::summary::Stats {
            mean: c.moments.mean(self.count).round_dp(6).normalize(),
            sd: m.sd,
            min: c.min,
            p5: q(0.05),
            p25: q(0.25),
            p50: q(0.50),
            p75: q(0.75),
            p95: q(0.95),
            max: c.max,
            ci95: m.ci,
        }
    }

    /// Mean and p5–p95 (from the sketch) of a metric, as numbers (the GMV-by-plan chart).
    pub fn mean_band(&self, m: Metric) -> (f64, f64, f64) {
        let c = &self.figures[m as usize];
        (
            f(c.moments.mean(self.count)),
            c.sketch.quantile(0.05),
            c.sketch.quantile(0.95),
        )
    }

    /// Figure `i`'s values as the sketch holds them (each bin's representative, as often as it
    /// counts), ascending: the seller-net histogram's values.
    pub fn sketched_values(&self, i: usize) -> Vec<f64> {
        self.figures[i].sketch.values()
    }

    /// `summary.json`'s `campaigns`, `sellers` and `unattributed` blocks (rows left empty, to be
    /// written one at a time), as the exact statistics give them but from the sums.
    pub fn blocks(&self) -> (Vec<CampaignBlock>, Vec<SellerBlock>, Unattributed) {
        use crate::metrics::campaigns::aggregate_of;
        let n = self.count;
        let campaigns = Self::ordered(&self.campaigns)
            .into_iter()
            .map(|c| {
                let mut i = 0;
                let mean = CampaignFigures::build(|money, _| {
                    let m = &c.figures[i];
                    i += 1;
                    aggregate_of(m.mean(n), m.mean_ci(n).ci, money)
                });
                // GMV and cost: fields 0 and 9 of the campaign figures
                let (g, k) = (c.figures[0].mean_ci(n), c.figures[9].mean_ci(n));
                let sxy = if n > 1 {
                    (c.head.gmv_cost.value() - n as f64 * g.mean * k.mean) / (n as f64 - 1.0)
                } else {
                    0.0
                };
                let ratio = stats::ratio_from(n as usize, g.mean, g.sd, k, sxy);
                CampaignBlock {
                    id: c.head.id.clone(),
                    kind: c.head.kind.clone(),
                    seller: c.head.seller.clone(),
                    distributor: c.head.distributor.clone(),
                    mean,
                    gmv_per_cost: stats::RatioDoc::of(&ratio),
                    per_replication: Vec::new(),
                }
            })
            .collect();
        let sellers = Self::ordered(&self.sellers)
            .into_iter()
            .map(|s| {
                let mut i = 0;
                let mean = SellerFigures::build(|money, _| {
                    let m = &s.figures[i];
                    i += 1;
                    aggregate_of(m.mean(n), m.mean_ci(n).ci, money)
                });
                SellerBlock {
                    seller: s.head.clone(),
                    mean,
                    per_replication: Vec::new(),
                }
            })
            .collect();
        let [g, o] = &self.unattributed;
        let unattributed = Unattributed {
            gmv: aggregate_of(g.mean(n), g.mean_ci(n).ci, true),
            orders: aggregate_of(o.mean(n), o.mean_ci(n).ci, false),
        };
        (campaigns, sellers, unattributed)
    }
}

/// The totals of a run as its report reads them: every replication's figures kept while there
/// are at most [`EXACT_LIMIT`] (the statistics are then exact, as they always were), only the
/// aggregate beyond.
#[derive(Default)]
pub struct Totals {
    agg: TotalsAgg,
    kept: Option<Vec<Replication>>,
}

impl Totals {
    /// No replication yet.
    pub fn new() -> Totals {
        Totals {
            agg: TotalsAgg::default(),
            kept: Some(Vec::new()),
        }
    }

    /// Totals of replications kept whole (a merge's; a test's), in index order.
    pub fn of(reps: Vec<Replication>) -> Totals {
        let mut t = Totals::new();
        for r in reps {
            t.push(r);
        }
        t
    }

    /// Totals from a merged aggregate and the replications it was made of, in index order (a
    /// merge: the replications are read only up to the exact limit).
    pub fn merged(agg: TotalsAgg, reps: &[Replication]) -> Totals {
        let kept = (agg.count <= EXACT_LIMIT).then(|| reps.to_vec());
        Totals { agg, kept }
    }

    /// Folds a replication into the aggregate only (a shard, which keeps its replications
    /// itself): the totals then have no exact statistics.
    pub fn fold(&mut self, r: &Replication) {
        self.agg.add(r);
        self.kept = None;
    }

    /// Folds in the next replication (in index order), keeping what the exact statistics read
    /// while the count allows.
    pub fn push(&mut self, r: Replication) {
        self.agg.add(&r);
        if self.agg.count > EXACT_LIMIT {
            self.kept = None;
        } else if let Some(k) = &mut self.kept {
            k.push(r);
        }
    }

    /// The replications, while they are kept (at most [`EXACT_LIMIT`]).
    pub fn exact(&self) -> Option<&[Replication]> {
        self.kept.as_deref()
    }

    /// The aggregate.
    pub fn agg(&self) -> &TotalsAgg {
        &self.agg
    }

    /// The aggregate, taken (a shard's partial carries it).
    pub fn into_agg(self) -> TotalsAgg {
        self.agg
    }

    /// Replications folded in.
    pub fn count(&self) -> u64 {
        self.agg.count
    }
}

/// A rule set in JSON as its IDs.
mod rule_names {
    use super::*;
    use crate::rules::catalogue::RuleId;

    pub fn serialize<S: serde::Serializer>(v: &RuleSet, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RuleSet, D::Error> {
        let mut set = RuleSet::EMPTY;
        for n in Vec::<String>::deserialize(d)? {
            let id = RuleId::parse(&n)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown rule `{n}`")))?;
            set.insert(id);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exact sums do not depend on the order of the values, and round once.
    #[test]
    fn exact_sums_are_order_free() {
        let xs: Vec<f64> = (0..2000)
            .map(|i| ((i * 7919) % 1000) as f64 * 1.1e10 - 3.3e12 + 1e-3 / (i + 1) as f64)
            .collect();
        let (mut a, mut b) = (ExactSum::default(), ExactSum::default());
        xs.iter().for_each(|x| a.add(*x));
        xs.iter().rev().for_each(|x| b.add(*x));
        assert_eq!(a, b);
        let (mut c, mut d) = (ExactSum::default(), ExactSum::default());
        xs.iter().step_by(2).for_each(|x| c.add(*x));
        xs.iter().skip(1).step_by(2).for_each(|x| d.add(*x));
        c.merge(&d);
        assert_eq!(a, c);
        let naive: f64 = xs.iter().sum();
        assert!((a.value() - naive).abs() <= naive.abs() * 1e-12 + 1.0);
        // 1e20 + 1 − 1e20 is 1, exactly
        let mut e = ExactSum::default();
        [1e20, 1.0, -1e20, 5e-324, f64::MAX, -f64::MAX]
            .iter()
            .for_each(|x| e.add(*x));
        assert_eq!(e.value(), 1.0);
        let back: ExactSum = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert!(serde_json::from_str::<ExactSum>("[[0, 4294967296]]").is_err());
        assert!(serde_json::from_str::<ExactSum>("[[67, 1]]").is_err());
        assert!(serde_json::from_str::<ExactSum>("[[3, 1], [3, 1]]").is_err());
    }

    fn demo_reps(n: u32) -> Vec<Replication> {
        let b = &crate::scenario::builtin::BUILTINS[0];
        let mut sc = crate::scenario::parse("demo.toml", b.source).unwrap();
        sc.days = 3;
        let out = super::super::run(
            &sc,
            &super::super::RunConfig {
                replications: Some(n),
                threads: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        out.replications
    }

    /// Aggregates of parts, merged in any order (after a JSON round trip), equal the aggregate
    /// of all; the streamed statistics agree with the exact ones (means exactly, deviations,
    /// intervals and ratios to 1e-9, percentiles within the sketch's accuracy).
    #[test]
    fn aggregates_merge_and_agree_with_the_exact_statistics() {
        let reps = demo_reps(12);
        let all = TotalsAgg::of(&reps);
        let mut merged = TotalsAgg::default();
        for k in [2usize, 0, 1] {
            let part = TotalsAgg::of(reps.iter().skip(k).step_by(3));
            let part: TotalsAgg =
                serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap();
            merged.merge(&part);
        }
        assert_eq!(merged, all);
        let exact = crate::experiment::summary::summary(
            &crate::scenario::parse("demo.toml", crate::scenario::builtin::BUILTINS[0].source)
                .unwrap(),
            1,
            &reps,
        );
        let (campaigns, sellers, _) = all.blocks();
        let ids: Vec<&str> = exact.campaigns.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(all.campaign_ids(), ids);
        assert_eq!(campaigns.len(), exact.campaigns.len());
        for (a, b) in campaigns.iter().zip(&exact.campaigns) {
            assert_eq!(a.mean.gmv.mean, b.mean.gmv.mean, "{}", a.id);
            let close = |x: Option<(f64, f64)>, y: Option<(f64, f64)>| match (x, y) {
                (Some(x), Some(y)) => {
                    (x.0 - y.0).abs() <= 1e-6 * (1.0 + y.0.abs())
                        && (x.1 - y.1).abs() <= 1e-6 * (1.0 + y.1.abs())
                }
                (x, y) => x == y,
            };
            assert!(close(a.mean.cost.ci95, b.mean.cost.ci95), "{}", a.id);
            assert!(close(a.gmv_per_cost.ci95, b.gmv_per_cost.ci95), "{}", a.id);
        }
        assert_eq!(sellers.len(), exact.sellers.len());
        for (i, (name, unit, _)) in crate::experiment::summary::figures(&reps[0])
            .into_iter()
            .enumerate()
        {
            let s = all.stats(i, unit, 0);
            let (_, e) = &exact.metrics[i];
            assert_eq!(
                crate::experiment::summary::value(unit, s.mean),
                e.mean,
                "{name}"
            );
            assert_eq!(
                crate::experiment::summary::value(unit, s.min),
                e.min,
                "{name}"
            );
            assert_eq!(
                crate::experiment::summary::value(unit, s.max),
                e.max,
                "{name}"
            );
        }
    }
}
