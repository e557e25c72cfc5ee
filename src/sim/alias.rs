//! The product pick's alias table: rand_distr 0.6's `WeightedAliasIndex<f64>`, rebuilt with each
//! index's odds and alias side by side (one memory access per draw where the library has two
//! arrays), drawing exactly the same indices from the same random numbers.
//!
//! The construction and the draw are the library's (rand_distr 0.6.0,
//! `weighted/weighted_alias.rs`, MIT/Apache-2.0), step for step and float operation for float
//! operation: the same pairwise weight sum, the same small/big lists, the same two uniform
//! draws (`rand::distr::Uniform`, which rand_distr re-exports). A unit test checks the draws
//! against the library's for several weight vectors; `Cargo.toml` pins rand_distr to 0.6.0.

use rand::Rng;
use rand::distr::{Distribution, Uniform};

/// One index's entry: the odds of keeping the index (against the weight sum) and its alias.
#[derive(Copy, Clone, Debug)]
struct Entry {
    odds: f64,
    alias: u32,
}

/// A weighted index distribution by Walker's alias method, with the odds and the alias of an
/// index in one 16-byte entry.
#[derive(Clone, Debug)]
pub(super) struct AliasTable {
    entries: Box<[Entry]>,
    uniform_index: Uniform<u32>,
    uniform_within_weight_sum: Uniform<f64>,
}

/// rand_distr's pairwise sum of the weights (its `AliasableWeight::sum` for floats).
fn pairwise_sum(values: &[f64]) -> f64 {
    if values.len() <= 32 {
        values.iter().copied().sum()
    } else {
        let mid = values.len() / 2;
        let (a, b) = values.split_at(mid);
        pairwise_sum(a) + pairwise_sum(b)
    }
}

impl AliasTable {
    /// The table for `weights`, or `None` where `WeightedAliasIndex::new` gives an error (no
    /// weights or more than `u32::MAX`, a weight not a number, negative or above
    /// `f64::MAX / n`, or a zero sum).
    pub(super) fn new(weights: Vec<f64>) -> Option<AliasTable> {
        let n = weights.len();
        if n == 0 || n > u32::MAX as usize {
            return None;
        }
        let n = n as u32;
        let max_weight_size = f64::MAX / f64::from(n);
        if !weights.iter().all(|&w| 0.0 <= w && w <= max_weight_size) {
            return None;
        }
        let weight_sum = pairwise_sum(&weights);
        let weight_sum = if weight_sum > f64::MAX {
            f64::MAX
        } else {
            weight_sum
        };
        if weight_sum == 0.0 {
            return None;
        }
        let n_converted = f64::from(n);
        let mut odds = weights;
        for o in odds.iter_mut() {
            *o *= n_converted;
            *o = if *o > f64::MAX { f64::MAX } else { *o };
        }
        // Two linked lists (small and big odds) through `aliases`, which ends as the alias map
        // (rand_distr's `Aliases`).
        let mut aliases = vec![0u32; n as usize];
        let (mut smalls, mut bigs) = (u32::MAX, u32::MAX);
        for (i, &o) in odds.iter().enumerate() {
            if o < weight_sum {
                aliases[i] = smalls;
                smalls = i as u32;
            } else {
                aliases[i] = bigs;
                bigs = i as u32;
            }
        }
        while smalls != u32::MAX && bigs != u32::MAX {
            let s = smalls;
            smalls = aliases[s as usize];
            let b = bigs;
            bigs = aliases[b as usize];
            aliases[s as usize] = b;
            odds[b as usize] = odds[b as usize] - weight_sum + odds[s as usize];
            if odds[b as usize] < weight_sum {
                aliases[b as usize] = smalls;
                smalls = b;
            } else {
                aliases[b as usize] = bigs;
                bigs = b;
            }
        }
        while smalls != u32::MAX {
            let s = smalls;
            smalls = aliases[s as usize];
            odds[s as usize] = weight_sum;
        }
        while bigs != u32::MAX {
            let b = bigs;
            bigs = aliases[b as usize];
            odds[b as usize] = weight_sum;
        }
        let entries = odds
            .iter()
            .zip(&aliases)
            .map(|(&odds, &alias)| Entry { odds, alias })
            .collect();
        Some(AliasTable {
            entries,
            uniform_index: Uniform::new(0, n).ok()?,
            uniform_within_weight_sum: Uniform::new(0.0, weight_sum).ok()?,
        })
    }

    /// Draws an index (`WeightedAliasIndex::sample`: a uniform index, then a uniform number
    /// below the weight sum against its odds).
    #[inline]
    pub(super) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let candidate = self.uniform_index.sample(rng);
        let e = self.entries[candidate as usize];
        if self.uniform_within_weight_sum.sample(rng) < e.odds {
            candidate as usize
        } else {
            e.alias as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::weighted::WeightedAliasIndex;

    /// The same draws as rand_distr's table, from the same stream, for weights of several
    /// shapes (ones, a heavy tail with zeros, random, more than 32 so the sum is pairwise).
    #[test]
    fn draws_what_rand_distr_draws() {
        let mut w = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let shapes: Vec<Vec<f64>> = vec![
            vec![1.0],
            vec![0.0, 3.0, 0.0],
            vec![1.0; 37],
            (1..=1000).map(|i| 1.0 / f64::from(i).powf(1.1)).collect(),
            (0..5000)
                .map(|i| {
                    if i % 7 == 0 {
                        0.0
                    } else {
                        f64::from(rand::Rng::next_u32(&mut w) % 4000) / 100.0
                    }
                })
                .collect(),
        ];
        for weights in shapes {
            let lib = WeightedAliasIndex::new(weights.clone()).unwrap();
            let ours = AliasTable::new(weights).unwrap();
            let mut a = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            let mut b = rand_chacha::ChaCha8Rng::seed_from_u64(11);
            for _ in 0..20_000 {
                assert_eq!(lib.sample(&mut a), ours.sample(&mut b));
            }
        }
    }

    /// Errors where the library gives errors.
    #[test]
    fn refuses_what_rand_distr_refuses() {
        for weights in [
            vec![],
            vec![0.0, 0.0],
            vec![1.0, -1.0],
            vec![f64::NAN],
            vec![f64::MAX, f64::MAX],
        ] {
            assert_eq!(
                WeightedAliasIndex::new(weights.clone()).is_ok(),
                AliasTable::new(weights).is_some()
            );
        }
    }
}
