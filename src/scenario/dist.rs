//! Probability distributions a scenario can name for delays, sizes and prices.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Triangular};
use serde::Deserialize;

/// A distribution of a non-negative quantity, written as an inline table with a `dist` key:
/// `{ dist = "uniform", min = 2, max = 5 }`. Its unit is the unit of the key it sits under.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Fixed { value: f64 },
    /// Uniform on `[min, max]`.
    Uniform { min: f64, max: f64 },
    /// Normal with `mean` and standard deviation `sd`, truncated at zero.
    Normal { mean: f64, sd: f64 },
    /// Log-normal with the given `median` and log-space standard deviation `sigma`.
    Lognormal { median: f64, sigma: f64 },
    /// Exponential with the given `mean`.
    Exponential { mean: f64 },
    /// Triangular on `[min, max]` with peak at `mode`.
    Triangular { min: f64, mode: f64, max: f64 },
}

impl Dist {
    pub fn fixed(value: f64) -> Dist {
        Dist::Fixed { value }
    }
    pub fn uniform(min: f64, max: f64) -> Dist {
        Dist::Uniform { min, max }
    }

    /// Checks the parameters; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let finite_nonneg = |v: f64, what: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("`{what}` must be a finite number ≥ 0, not {v}"))
            }
        };
        match *self {
            Dist::Fixed { value } => finite_nonneg(value, "value"),
            Dist::Uniform { min, max } => {
                finite_nonneg(min, "min")?;
                finite_nonneg(max, "max")?;
                if max < min {
                    Err(format!("`max` ({max}) is below `min` ({min})"))
                } else {
                    Ok(())
                }
            }
            Dist::Normal { mean, sd } => {
                finite_nonneg(mean, "mean")?;
                finite_nonneg(sd, "sd")
            }
            Dist::Lognormal { median, sigma } => {
                if !(median.is_finite() && median > 0.0) {
                    return Err(format!("`median` must be > 0, not {median}"));
                }
                finite_nonneg(sigma, "sigma")
            }
            Dist::Exponential { mean } => {
                if mean.is_finite() && mean > 0.0 {
                    Ok(())
                } else {
                    Err(format!("`mean` must be > 0, not {mean}"))
                }
            }
            Dist::Triangular { min, mode, max } => {
                finite_nonneg(min, "min")?;
                if !(min <= mode && mode <= max && min < max) {
                    return Err(format!(
                        "need min ≤ mode ≤ max and min < max, got {min}, {mode}, {max}"
                    ));
                }
                Ok(())
            }
        }
    }

    /// The mean, for estimates (memory, expected volumes).
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. } => mean,
            Dist::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            Dist::Exponential { mean } => mean,
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
        }
    }

    /// Draws a value ≥ 0. Parameters must have passed [`Dist::check`].
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let v = match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => {
                if max > min {
                    min + (max - min) * unit(rng)
                } else {
                    min
                }
            }
            Dist::Normal { mean, sd } => {
                Normal::new(mean, sd).map(|d| d.sample(rng)).unwrap_or(mean)
            }
            Dist::Lognormal { median, sigma } => LogNormal::new(median.ln(), sigma)
                .map(|d| d.sample(rng))
                .unwrap_or(median),
            Dist::Exponential { mean } => {
                Exp::new(1.0 / mean).map(|d| d.sample(rng)).unwrap_or(mean)
            }
            Dist::Triangular { min, mode, max } => Triangular::new(min, max, mode)
                .map(|d| d.sample(rng))
                .unwrap_or(mode),
        };
        v.max(0.0)
    }
}

/// A uniform draw on [0, 1).
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 53 random bits → [0, 1)
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parameters_are_checked() {
        assert!(Dist::uniform(5.0, 2.0).check().is_err());
        assert!(
            Dist::Lognormal {
                median: 0.0,
                sigma: 1.0
            }
            .check()
            .is_err()
        );
        assert!(
            Dist::Triangular {
                min: 0.0,
                mode: 3.0,
                max: 2.0
            }
            .check()
            .is_err()
        );
        assert!(Dist::fixed(1.0).check().is_ok());
    }

    #[test]
    fn samples_stay_in_range_and_near_the_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let d = Dist::uniform(2.0, 5.0);
        let n = 20_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let v = d.sample(&mut rng);
            assert!((2.0..=5.0).contains(&v));
            sum += v;
        }
        assert!((sum / n as f64 - d.mean()).abs() < 0.05);
    }

    #[test]
    fn parses_from_toml_and_rejects_unknown_keys() {
        #[derive(Deserialize)]
        struct T {
            d: Dist,
        }
        let t: T =
            toml::from_str("d = { dist = \"lognormal\", median = 3.0, sigma = 0.5 }").unwrap();
        assert_eq!(
            t.d,
            Dist::Lognormal {
                median: 3.0,
                sigma: 0.5
            }
        );
        assert!(
            toml::from_str::<T>("d = { dist = \"uniform\", min = 1.0, max = 2.0, extra = 1 }")
                .is_err()
        );
    }
}
