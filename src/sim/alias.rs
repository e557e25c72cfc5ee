//! The product pick's alias table: rand_distr's `WeightedAliasIndex<f64>` rebuilt with each
//! index's odds and alias side by side (a draw reads one cache line), and with a prefetch of
//! the next candidate's entry.
//!
//! Why hand-written code replaces the crate here: a creator's search draws `candidates`
//! products by popularity, and with 100,000 products (`scenarios/bench/large.toml`) each draw
//! misses the cache; `WeightedAliasIndex::sample` was 4.2% of large's samples. The crate's
//! tables are private fields, so nothing can fetch the next candidate's entry ahead of its
//! draw; [`AliasPick::prefetch_next`] does, and that — not the one line instead of two, which
//! alone measured no gain — is what took the search from 7.9% to 4.4% of large's samples
//! (benches/README.md, session 15). This table gives exactly the crate's indices for
//! the same random draws: its construction is the crate's (rand_distr 0.6.0,
//! `weighted/weighted_alias.rs`) step for step, with the same float operations in the same
//! order, and a draw uses the same two `rand::distr::Uniform` samplers the crate builds.
//! The tests compare the whole table with the crate's (through its `Debug` output, which
//! prints every odds value exactly) and the draws sample for sample. Updating rand_distr
//! means re-reading its construction and running these tests (Cargo.toml pins `=0.6.0`).

use rand::Rng;
use rand::distr::{Distribution, Uniform};

/// The product pick's weights: each product's popularity, 0 for a product that cannot be
/// picked (not eligible). `World::new` builds the pick from them; the tests compare with the
/// crate on the same weights.
pub(super) fn pick_weights(products: &[crate::model::Product]) -> Vec<f64> {
    products
        .iter()
        .map(|p| if p.eligible { p.popularity } else { 0.0 })
        .collect()
}

/// Indices per [`Block`].
const LANES: usize = 5;

/// Five indices' entries in one cache line: each index's odds of keeping itself (its weight ×
/// n against the weight sum, after the construction's transfers) and its alias. 64 bytes,
/// aligned: a draw reads one line, and the table is 12.8 bytes an index (the crate's two
/// tables: 12; one 16-byte slot an index measured more LL misses on mid, benches/README.md).
#[derive(Copy, Clone, Debug, Default, PartialEq)]
#[repr(C, align(64))]
struct Block {
    /// The crate's `no_alias_odds[5b..5b + 5]`.
    odds: [f64; LANES],
    /// The crate's `aliases[5b..5b + 5]` (for an index never given an alias, the crate's
    /// leftover list link, never read: its odds are the weight sum, above every uniform draw).
    alias: [u32; LANES],
}

const _: () = assert!(size_of::<Block>() == 64);

/// A weighted index sampler giving the same indices as
/// `rand_distr::weighted::WeightedAliasIndex::<f64>` for the same weights and random draws.
#[derive(Clone, Debug)]
pub(super) struct AliasPick {
    /// Index i's entry: lane i % 5 of block i / 5 (the last block's spare lanes unused).
    blocks: Box<[Block]>,
    uniform_index: Uniform<u32>,
    uniform_within_weight_sum: Uniform<f64>,
}

/// The end of a list in the construction's linked lists (the crate's `u32::MAX`).
const NIL: u32 = u32::MAX;

impl AliasPick {
    /// The table for `weights`, or None where the crate's `WeightedAliasIndex::new` fails:
    /// no weights or more than `u32::MAX`, a weight negative, NaN or above `f64::MAX / n`,
    /// or a zero sum.
    pub(super) fn new(weights: &[f64]) -> Option<AliasPick> {
        let n = weights.len();
        if n == 0 || n > u32::MAX as usize {
            return None;
        }
        let n = n as u32;
        let n_f = f64::from(n);
        let max_weight = f64::MAX / n_f;
        if !weights.iter().all(|&w| 0.0 <= w && w <= max_weight) {
            return None;
        }
        let weight_sum = pairwise_sum(weights);
        // the crate's guard against overflow by rounding
        let weight_sum = if weight_sum > f64::MAX {
            f64::MAX
        } else {
            weight_sum
        };
        if weight_sum == 0.0 {
            return None;
        }
        let mut odds: Vec<f64> = weights
            .iter()
            .map(|&w| {
                let o = w * n_f;
                if o > f64::MAX { f64::MAX } else { o }
            })
            .collect();
        // The crate's three structures in one array: two linked lists (smalls, bigs) and
        // the alias map; an index is in one of them at a time.
        let mut aliases = vec![0u32; n as usize];
        let (mut smalls, mut bigs) = (NIL, NIL);
        for (i, &o) in odds.iter().enumerate() {
            if o < weight_sum {
                aliases[i] = smalls;
                smalls = i as u32;
            } else {
                aliases[i] = bigs;
                bigs = i as u32;
            }
        }
        while smalls != NIL && bigs != NIL {
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
        // The rest keep their index always (their odds are about 100%, not exactly, by
        // rounding).
        while smalls != NIL {
            let s = smalls;
            smalls = aliases[s as usize];
            odds[s as usize] = weight_sum;
        }
        while bigs != NIL {
            let b = bigs;
            bigs = aliases[b as usize];
            odds[b as usize] = weight_sum;
        }
        Some(AliasPick {
            blocks: odds
                .chunks(LANES)
                .zip(aliases.chunks(LANES))
                .map(|(o, a)| {
                    let mut b = Block::default();
                    b.odds[..o.len()].copy_from_slice(o);
                    b.alias[..a.len()].copy_from_slice(a);
                    b
                })
                .collect(),
            uniform_index: Uniform::new(0, n).ok()?,
            uniform_within_weight_sum: Uniform::new(0.0, weight_sum).ok()?,
        })
    }

    /// One index, drawn as the crate draws it: a uniform index, then a uniform in
    /// [0, weight sum) against its odds (two draws from `rng`, in this order).
    #[inline]
    pub(super) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let candidate = self.uniform_index.sample(rng) as usize;
        let u = self.uniform_within_weight_sum.sample(rng);
        let (b, lane) = (candidate / LANES, candidate % LANES);
        match self.blocks.get(b) {
            Some(b) if u < b.odds[lane] => candidate,
            Some(b) => b.alias[lane] as usize,
            None => candidate,
        }
    }

    /// Asks the CPU for the entries the next draw will read if it comes after `rng`'s next
    /// `0` or `2` words (a hint: `rng` is cloned, its own draws untouched, so results cannot
    /// change; a wrong guess only wastes a prefetch). A search draws a candidate, then scores
    /// it with one uniform (two words) unless it skips it: from the draw of one candidate the
    /// next one's entry can be asked for while the first is examined. A draw's index takes
    /// one 32-bit word (rarely more: `Uniform<u32>` rejects a sliver of the words).
    #[inline]
    pub(super) fn prefetch_next<R: Rng + Clone>(&self, rng: &R) {
        for i in self.next_guesses(rng) {
            if let Some(b) = self.blocks.get(i / LANES) {
                crate::hint::prefetch(b);
            }
        }
    }

    /// The two indices [`AliasPick::prefetch_next`] asks for: the next draw's candidate index
    /// after `rng`'s next 0 words (this candidate skipped) and after 2 (scored), from a clone.
    #[inline(always)]
    fn next_guesses<R: Rng + Clone>(&self, rng: &R) -> [usize; 2] {
        let mut r = rng.clone();
        let skipped = self.uniform_index.sample(&mut r) as usize;
        let _ = r.next_u32();
        let scored = self.uniform_index.sample(&mut r) as usize;
        [skipped, scored]
    }

    /// The table of `n` indices printed as the crate's `Debug` prints its
    /// `WeightedAliasIndex` (the tests' comparison).
    #[cfg(test)]
    fn crate_debug(&self, n: usize) -> String {
        let aliases: Vec<u32> = self.blocks.iter().flat_map(|b| b.alias).take(n).collect();
        let odds: Vec<f64> = self.blocks.iter().flat_map(|b| b.odds).take(n).collect();
        struct D<'a>(&'a AliasPick, Vec<u32>, Vec<f64>);
        impl std::fmt::Debug for D<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("WeightedAliasIndex")
                    .field("aliases", &self.1.as_slice())
                    .field("no_alias_odds", &self.2.as_slice())
                    .field("uniform_index", &self.0.uniform_index)
                    .field(
                        "uniform_within_weight_sum",
                        &self.0.uniform_within_weight_sum,
                    )
                    .finish()
            }
        }
        format!("{:?}", D(self, aliases, odds))
    }
}

/// The crate's pairwise sum of float weights: a plain left-to-right sum up to 32 values, else
/// the sum of the two halves' pairwise sums (the first half `len / 2` long).
fn pairwise_sum(values: &[f64]) -> f64 {
    if values.len() <= 32 {
        values.iter().copied().sum()
    } else {
        let (a, b) = values.split_at(values.len() / 2);
        pairwise_sum(a) + pairwise_sum(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::weighted::WeightedAliasIndex;

    /// Our table against the crate's for `weights`: the same success or failure, the same
    /// table (every odds value and alias) and the same indices for `draws` draws.
    fn same_as_crate(weights: &[f64], draws: usize, seed: u64) {
        let ours = AliasPick::new(weights);
        let theirs = WeightedAliasIndex::new(weights.to_vec()).ok();
        let (ours, theirs) = match (ours, theirs) {
            (None, None) => return,
            (Some(o), Some(t)) => (o, t),
            (o, t) => panic!(
                "ours {} theirs {} for {weights:?}",
                o.is_some(),
                t.is_some()
            ),
        };
        assert_eq!(ours.crate_debug(weights.len()), format!("{theirs:?}"));
        let mut a = ChaCha8Rng::seed_from_u64(seed);
        let mut b = ChaCha8Rng::seed_from_u64(seed);
        for i in 0..draws {
            let x = ours.sample(&mut a);
            let y = rand_distr::Distribution::sample(&theirs, &mut b);
            assert_eq!(x, y, "draw {i}");
        }
        // The generators were left in the same state: as many words drawn.
        assert_eq!(
            rand::RngExt::random::<u64>(&mut a),
            rand::RngExt::random::<u64>(&mut b)
        );
    }

    #[test]
    fn same_table_and_draws_as_rand_distr_on_random_weights() {
        let mut g = ChaCha8Rng::seed_from_u64(15);
        for case in 0..300u64 {
            let n = match case % 4 {
                0 => rand::RngExt::random_range(&mut g, 1..8),
                1 => rand::RngExt::random_range(&mut g, 8..100),
                2 => rand::RngExt::random_range(&mut g, 100..2000),
                _ => rand::RngExt::random_range(&mut g, 2000..20_000),
            };
            let zeros = rand::RngExt::random_range(&mut g, 0.0..0.6);
            let weights: Vec<f64> = (0..n)
                .map(|_| {
                    if rand::RngExt::random::<f64>(&mut g) < zeros {
                        0.0
                    } else {
                        // heavy-tailed, as popularities are
                        let u: f64 = rand::RngExt::random(&mut g);
                        (1.0 - u).powf(-1.5) * rand::RngExt::random_range(&mut g, 0.01..50.0)
                    }
                })
                .collect();
            same_as_crate(&weights, 2000, case);
        }
    }

    /// `prefetch_next`'s guess: the index of the draw after 0 or 2 words.
    #[test]
    fn the_next_index_is_one_of_the_two_guessed() {
        let w: Vec<f64> = (1..=1000).map(f64::from).collect();
        let t = AliasPick::new(&w).unwrap();
        let mut g = ChaCha8Rng::seed_from_u64(4);
        for skip in [false, true, false, false, true] {
            let [guess_skip, guess_scored] = t.next_guesses(&g);
            if !skip {
                let _ = crate::scenario::dist::unit(&mut g);
            }
            let got = t.uniform_index.sample(&mut g) as usize;
            assert_eq!(got, if skip { guess_skip } else { guess_scored });
            let _ = t.uniform_within_weight_sum.sample(&mut g);
        }
    }

    #[test]
    fn same_as_rand_distr_on_edge_cases() {
        for w in [
            vec![],
            vec![0.0],
            vec![0.0, 0.0],
            vec![1.0],
            vec![3.0, 0.0],
            vec![1.0, f64::NAN],
            vec![1.0, -1.0],
            vec![1.0, f64::INFINITY],
            vec![f64::MAX, f64::MAX],
            vec![f64::MAX / 2.0, f64::MAX / 2.0],
            vec![1e-300, 1e300],
            vec![0.1; 33],
            vec![0.1, 0.2, 0.3, 0.4, 1e-17, 7.0],
        ] {
            same_as_crate(&w, 500, 3);
        }
    }

    /// The weights `World::new` builds the product pick from (eligible products' popularity),
    /// for the bench scenarios.
    fn scenario_weights(path: &str) -> Vec<f64> {
        let text = std::fs::read_to_string(path).unwrap();
        let sc = crate::scenario::parse(path, &text).unwrap();
        let mut streams = crate::sim::rng::Streams::new(sc.seed, 0);
        let built = crate::sim::population::build(&sc, &mut streams.population);
        pick_weights(&built.agents.products)
    }

    #[test]
    fn same_as_rand_distr_on_the_demo_and_bench_scenarios() {
        let sc = crate::scenario::parse("demo", crate::scenario::DEMO).unwrap();
        let mut streams = crate::sim::rng::Streams::new(sc.seed, 0);
        let built = crate::sim::population::build(&sc, &mut streams.population);
        let demo = pick_weights(&built.agents.products);
        same_as_crate(&demo, 20_000, 1);
        for path in ["scenarios/bench/mid.toml", "scenarios/bench/large.toml"] {
            let w = scenario_weights(path);
            assert!(w.len() > 1000, "{path}: {} products", w.len());
            same_as_crate(&w, 200_000, 2);
        }
    }
}
