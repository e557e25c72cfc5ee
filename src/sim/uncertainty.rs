//! Parameter uncertainty: per replication, each response parameter with a range in
//! `[behaviour.incentives.uncertainty]` is drawn uniformly from it (docs/behaviour.md).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::rng::{Purpose, replication_key};
use crate::scenario::dist::unit;
use crate::scenario::{Scenario, UncertainParam};

/// The scenario replication `rep` runs: `sc` itself without uncertainty, else a copy with every
/// uncertain parameter drawn from its range. The draws come from their own stream of
/// (seed, replication), one per parameter in [`UncertainParam::ALL`] order, so the arms of a
/// sweep (same seed and replication) draw the same values, and replication i's values do not
/// depend on anything the simulation draws.
pub fn draw(sc: &Scenario, rep: u32) -> Option<Scenario> {
    let ranges = &sc.behaviour.incentives.uncertainty;
    if ranges.is_empty() || !sc.behaviour.incentives.enabled {
        return None;
    }
    let values = values(sc.seed, rep, ranges);
    let mut out = sc.clone();
    for (p, x) in values {
        let b = &mut out.behaviour;
        match p {
            UncertainParam::EarningsWeight => b.incentives.earnings_weight = x,
            UncertainParam::PostElasticity => b.incentives.post_elasticity = x,
            UncertainParam::ParticipationWeight => b.incentives.participation_weight = x,
            UncertainParam::ActiveShare => b.incentives.active_share = x,
            UncertainParam::OutsideSigma => b.incentives.outside_sigma = x,
            UncertainParam::SampleValue => b.incentives.sample_value = x,
            UncertainParam::PriceElasticity => b.buyers.price_elasticity = x,
            UncertainParam::SaturationExponent => b.buyers.saturation_exponent = x,
        }
    }
    Some(out)
}

/// The drawn value of each uncertain parameter of replication `rep` under `seed`.
pub fn values(
    seed: u64,
    rep: u32,
    ranges: &[(UncertainParam, f64, f64)],
) -> Vec<(UncertainParam, f64)> {
    let mut r = ChaCha8Rng::from_seed(replication_key(seed, u64::from(rep)));
    r.set_stream(Purpose::Uncertainty as u64);
    let mut out = Vec::new();
    for p in UncertainParam::ALL {
        let u = unit(&mut r);
        if let Some(&(_, lo, hi)) = ranges.iter().find(|x| x.0 == p) {
            out.push((p, lo + u * (hi - lo)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range_depend_on_the_replication_and_not_on_other_ranges() {
        let one = [(UncertainParam::PostElasticity, 0.2, 0.8)];
        let two = [
            (UncertainParam::EarningsWeight, 0.5, 2.0),
            (UncertainParam::PostElasticity, 0.2, 0.8),
        ];
        let mut seen = Vec::new();
        for rep in 0..50 {
            let a = values(9, rep, &one);
            let b = values(9, rep, &two);
            assert_eq!(a[0], b[1], "adding a range moved another parameter's draw");
            assert!((0.2..=0.8).contains(&a[0].1));
            assert!((0.5..=2.0).contains(&b[0].1));
            assert_eq!(a, values(9, rep, &one));
            seen.push(a[0].1);
        }
        let mean = seen.iter().sum::<f64>() / seen.len() as f64;
        assert!((mean - 0.5).abs() < 0.1, "mean draw {mean}");
        assert!(seen.windows(2).any(|w| w[0] != w[1]));
    }
}
