//! Probability distributions a scenario can name for delays, sizes and prices.

use std::fmt;
use std::ops::Range;

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Triangular};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use toml::Spanned;

/// A distribution of a non-negative quantity, written as an inline table with a `dist` key:
/// `{ dist = "uniform", min = 2, max = 5 }`. Its unit is the unit of the key it sits under.
/// Scenario files are read through [`DistRaw`], which reports problems at the key or value.
#[derive(Clone, Debug, PartialEq)]
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

/// A distribution's parameters that make no distribution.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DistError {
    #[error("`{param}` must be a finite number ≥ 0, not {value}")]
    Negative { param: &'static str, value: f64 },
    #[error("`{param}` must be > 0, not {value}")]
    NotPositive { param: &'static str, value: f64 },
    #[error("`max` ({max}) is below `min` ({min})")]
    MaxBelowMin { min: f64, max: f64 },
    #[error("need min ≤ mode ≤ max and min < max, got {min}, {mode}, {max}")]
    Triangle { min: f64, mode: f64, max: f64 },
}

impl Dist {
    pub fn fixed(value: f64) -> Dist {
        Dist::Fixed { value }
    }
    pub fn uniform(min: f64, max: f64) -> Dist {
        Dist::Uniform { min, max }
    }

    /// Checks the parameters; the error says what is wrong.
    pub fn check(&self) -> Result<(), DistError> {
        let finite_nonneg = |value: f64, param: &'static str| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(DistError::Negative { param, value })
            }
        };
        match *self {
            Dist::Fixed { value } => finite_nonneg(value, "value"),
            Dist::Uniform { min, max } => {
                finite_nonneg(min, "min")?;
                finite_nonneg(max, "max")?;
                if max < min {
                    Err(DistError::MaxBelowMin { min, max })
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
                    return Err(DistError::NotPositive {
                        param: "median",
                        value: median,
                    });
                }
                finite_nonneg(sigma, "sigma")
            }
            Dist::Exponential { mean } => {
                if mean.is_finite() && mean > 0.0 {
                    Ok(())
                } else {
                    Err(DistError::NotPositive {
                        param: "mean",
                        value: mean,
                    })
                }
            }
            Dist::Triangular { min, mode, max } => {
                finite_nonneg(min, "min")?;
                if !(min <= mode && mode <= max && min < max) {
                    return Err(DistError::Triangle { min, mode, max });
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
    ///
    /// A uniform (the default shipping and delivery delays, drawn for nearly every order line)
    /// is drawn inline; the others through [`Dist::sample_any`], the same formula.
    #[inline(always)]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        if let Dist::Uniform { min, max } = *self
            && max > min
        {
            return (min + (max - min) * unit(rng)).max(0.0);
        }
        self.sample_any(rng)
    }

    /// [`Dist::sample`] for every distribution.
    fn sample_any<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
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

/// Each kind of distribution: its `dist` name, its parameters in the order the scenario format
/// lists them, and how the parameters (in that order) make the [`Dist`].
type Kind = (&'static str, &'static [&'static str], fn(&[f64]) -> Dist);

/// The distributions a scenario can name (`docs/scenario-format.md`, section 11).
const KINDS: [Kind; 6] = [
    ("fixed", &["value"], |p| Dist::Fixed { value: p[0] }),
    ("uniform", &["min", "max"], |p| Dist::Uniform {
        min: p[0],
        max: p[1],
    }),
    ("normal", &["mean", "sd"], |p| Dist::Normal {
        mean: p[0],
        sd: p[1],
    }),
    ("lognormal", &["median", "sigma"], |p| Dist::Lognormal {
        median: p[0],
        sigma: p[1],
    }),
    ("exponential", &["mean"], |p| Dist::Exponential {
        mean: p[0],
    }),
    ("triangular", &["min", "mode", "max"], |p| {
        Dist::Triangular {
            min: p[0],
            mode: p[1],
            max: p[2],
        }
    }),
];

/// A problem with a distribution table: the byte span it concerns and what is wrong.
pub type DistProblem = (Range<usize>, String);

/// A distribution table as written: every key and value with its byte span, in file order.
///
/// serde's internally tagged enums buffer the table and lose the spans inside it, so an unknown
/// or mistyped parameter would be reported at the table's `{`. This keeps the spans and
/// [`DistRaw::to_dist`] checks the keys and values by hand, pointing at the one at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct DistRaw {
    entries: Vec<(Spanned<String>, Spanned<toml::Value>)>,
}

impl<'de> Deserialize<'de> for DistRaw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DistRaw, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = DistRaw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a distribution table such as { dist = \"uniform\", min = 1, max = 3 }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DistRaw, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    entries.push((key, map.next_value::<Spanned<toml::Value>>()?));
                }
                // the TOML map is sorted by key: report problems in the order of the file
                entries.sort_by_key(|(k, _)| k.span().start);
                Ok(DistRaw { entries })
            }
        }
        d.deserialize_map(Entries)
    }
}

impl DistRaw {
    /// The distribution the table names, its parameters not yet checked ([`Dist::check`]).
    /// Otherwise every problem found: an unknown key at the key, a value that is not a number
    /// (or a `dist` that names no distribution) at the value, a missing key at `table`, the
    /// table's own span.
    pub fn to_dist(&self, table: Range<usize>) -> Result<Dist, Vec<DistProblem>> {
        let kinds = || {
            KINDS
                .iter()
                .map(|(name, ..)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((_, tag)) = self.entries.iter().find(|(k, _)| k.get_ref() == "dist") else {
            return Err(vec![(
                table,
                format!(
                    "missing key \"dist\" naming the distribution; expected one of: {}",
                    kinds()
                ),
            )]);
        };
        let Some(name) = tag.get_ref().as_str() else {
            return Err(vec![(
                tag.span(),
                format!(
                    "\"dist\" must be a string naming the distribution, not {}; expected one of: {}",
                    a_type(tag.get_ref()),
                    kinds()
                ),
            )]);
        };
        let Some(&(name, params, make)) = KINDS.iter().find(|(k, ..)| *k == name) else {
            return Err(vec![(
                tag.span(),
                format!(
                    "unknown distribution \"{name}\"; expected one of: {}",
                    kinds()
                ),
            )]);
        };
        let accepted = || {
            std::iter::once("dist")
                .chain(params.iter().copied())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut problems = Vec::new();
        let mut values: Vec<Option<f64>> = vec![None; params.len()];
        let mut present = vec![false; params.len()];
        for (key, value) in &self.entries {
            let key_name = key.get_ref().as_str();
            if key_name == "dist" {
                continue;
            }
            let Some(i) = params.iter().position(|p| *p == key_name) else {
                problems.push((
                    key.span(),
                    format!(
                        "unknown key \"{key_name}\" in a {name} distribution; expected one of: {}",
                        accepted()
                    ),
                ));
                continue;
            };
            present[i] = true;
            // as serde reads an f64 from TOML: a float, or an integer converted
            match *value.get_ref() {
                toml::Value::Float(x) => values[i] = Some(x),
                toml::Value::Integer(n) => values[i] = Some(n as f64),
                ref other => {
                    problems.push((
                        value.span(),
                        format!(
                            "\"{key_name}\" in a {name} distribution must be a number, not {}",
                            a_type(other)
                        ),
                    ));
                }
            }
        }
        for (i, param) in params.iter().enumerate() {
            if !present[i] {
                problems.push((
                    table.clone(),
                    format!(
                        "missing key \"{param}\" in a {name} distribution; expected: {}",
                        accepted()
                    ),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let values: Vec<f64> = values.into_iter().flatten().collect();
        Ok(make(&values))
    }
}

/// The TOML type of `v` with its article and, for a scalar, the value: `a string "2"`.
fn a_type(v: &toml::Value) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    match v {
        toml::Value::Table(_) | toml::Value::Array(_) => format!("{article} {t}"),
        _ => format!("{article} {t} {v}"),
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

    #[derive(serde::Deserialize)]
    struct T {
        d: Spanned<DistRaw>,
    }

    /// The distribution in `d = …`, or its problems as (the text spanned, message).
    fn read(src: &str) -> Result<Dist, Vec<(&str, String)>> {
        let t: T = toml::from_str(src).unwrap();
        t.d.get_ref()
            .to_dist(t.d.span())
            .map_err(|ps| ps.into_iter().map(|(s, m)| (&src[s], m)).collect())
    }

    #[test]
    fn parses_from_toml_in_any_key_order() {
        assert_eq!(
            read("d = { dist = \"lognormal\", median = 3.0, sigma = 0.5 }"),
            Ok(Dist::Lognormal {
                median: 3.0,
                sigma: 0.5
            })
        );
        // integers are numbers; `dist` need not come first
        assert_eq!(
            read("d = { max = 5, mode = 2.5, min = 1, dist = \"triangular\" }"),
            Ok(Dist::Triangular {
                min: 1.0,
                mode: 2.5,
                max: 5.0
            })
        );
        assert_eq!(
            read("[d]\ndist = \"exponential\"\nmean = 2\n"),
            Ok(Dist::Exponential { mean: 2.0 })
        );
    }

    #[test]
    fn problems_point_at_the_key_or_value_at_fault() {
        assert_eq!(
            read("d = { dist = \"lognormal\", median = 2.0, sigmaa = 0.5, sigma = 1 }"),
            Err(vec![(
                "sigmaa",
                "unknown key \"sigmaa\" in a lognormal distribution; expected one of: dist, median, sigma"
                    .to_string()
            )])
        );
        assert_eq!(
            read("d = { dist = \"lognormal\", median = \"2\", sigma = 0.5 }"),
            Err(vec![(
                "\"2\"",
                "\"median\" in a lognormal distribution must be a number, not a string \"2\""
                    .to_string()
            )])
        );
        let table = "{ dist = \"lognormal\", median = 2.0 }";
        assert_eq!(
            read(&format!("d = {table}")),
            Err(vec![(
                table,
                "missing key \"sigma\" in a lognormal distribution; expected: dist, median, sigma"
                    .to_string()
            )])
        );
        let e = read("d = { dist = \"gamma\", shape = 2.0 }").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].0, "\"gamma\"");
        assert!(e[0].1.starts_with("unknown distribution \"gamma\"; expected one of: fixed, uniform, normal, lognormal, exponential, triangular"));
        let e = read("d = { dist = 3, value = 2.0 }").unwrap_err();
        assert_eq!(e[0].0, "3");
        assert!(e[0].1.contains("not an integer 3"), "{}", e[0].1);
        let e = read("d = { value = 2.0 }").unwrap_err();
        assert_eq!(e[0].0, "{ value = 2.0 }");
        assert!(e[0].1.starts_with("missing key \"dist\""), "{}", e[0].1);
        // every problem, in file order
        let e = read("d = { dist = \"uniform\", max = true, extra = 1 }").unwrap_err();
        let at: Vec<&str> = e.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            at,
            [
                "true",
                "extra",
                "{ dist = \"uniform\", max = true, extra = 1 }"
            ]
        );
    }

    #[test]
    fn a_value_that_is_not_a_table_is_a_type_error() {
        let e = toml::from_str::<T>("d = 3").err().unwrap();
        assert!(e.message().contains("expected a distribution table"), "{e}");
    }
}
