//! Interval statistics over replications: Student-t intervals of a mean, of paired differences and of ratios (delta method).
//!
//! Every function takes one value per replication. An interval needs at least two replications:
//! with one, the functions return the estimate with `ci: None`, never a zero-width interval.
//! docs/statistics.md explains the methods and the warnings.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The confidence level of every interval affsim reports.
pub const LEVEL: f64 = 0.95;

/// The two-sided 95% Student-t quantile t(0.975, df); `None` for `df == 0`.
pub fn t_quantile(df: usize) -> Option<f64> {
    if df == 0 {
        return None;
    }
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    Some(t.inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0))
}

/// A mean and its 95% interval (none for fewer than two values).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanCi {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1); 0 for one value.
    pub sd: f64,
    pub ci: Option<(f64, f64)>,
}

impl MeanCi {
    /// True when the interval contains zero and is not a single point at zero: the sign of the
    /// mean is not established.
    pub fn spans_zero(&self) -> bool {
        self.ci
            .is_some_and(|(lo, hi)| lo <= 0.0 && hi >= 0.0 && (lo, hi) != (0.0, 0.0))
    }
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

/// The mean of `xs` with its Student-t 95% interval: mean ± t(0.975, n − 1) · sd / √n.
pub fn mean_ci(xs: &[f64]) -> MeanCi {
    let n = xs.len();
    let (mean, sd) = mean_sd(xs);
    let ci = if n >= 2 {
        t_quantile(n - 1).map(|t| {
            let half = t * sd / (n as f64).sqrt();
            (mean - half, mean + half)
        })
    } else {
        None
    };
    MeanCi { n, mean, sd, ci }
}

/// The paired difference `a − b` (replication by replication: both arms ran with the same
/// random streams) and its t interval. Pairs beyond the shorter slice are ignored.
pub fn paired_diff_ci(a: &[f64], b: &[f64]) -> MeanCi {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    mean_ci(&d)
}

/// A ratio of means and its interval.
#[derive(Clone, Debug, PartialEq)]
pub struct RatioCi {
    /// mean(num) / mean(den); `None` when the mean denominator is zero.
    pub ratio: Option<f64>,
    pub ci: Option<(f64, f64)>,
    /// Why there is no interval (or no ratio), in plain words.
    pub note: Option<String>,
}

/// The ratio of means `Σnum / Σden` over paired replications, with a delta-method t interval:
/// var(R) ≈ (s²ₓ − 2R·sₓᵧ + R²·s²ᵧ) / (n·ȳ²), df = n − 1. No interval with one replication, and
/// none (with a note) when the denominator's own interval spans zero: the ratio is then unbounded.
pub fn ratio_ci(num: &[f64], den: &[f64]) -> RatioCi {
    let n = num.len().min(den.len());
    let (x, y) = (&num[..n], &den[..n]);
    let (mx, sx) = mean_sd(x);
    let my_ci = mean_ci(y);
    let my = my_ci.mean;
    let sxy = if n >= 2 {
        x.iter()
            .zip(y)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / (n - 1) as f64
    } else {
        0.0
    };
    ratio_from(n, mx, sx, my_ci, sxy)
}

/// [`ratio_ci`] from the moments of `n` pairs: the numerator's mean and standard deviation,
/// the denominator's mean with its interval, and their covariance (n − 1).
pub fn ratio_from(n: usize, mx: f64, sx: f64, my_ci: MeanCi, sxy: f64) -> RatioCi {
    let my = my_ci.mean;
    if n == 0 || my == 0.0 {
        return RatioCi {
            ratio: None,
            ci: None,
            note: Some("no ratio: the denominator is zero".into()),
        };
    }
    let r = mx / my;
    if n < 2 {
        return RatioCi {
            ratio: Some(r),
            ci: None,
            note: None,
        };
    }
    if my_ci.spans_zero() {
        return RatioCi {
            ratio: Some(r),
            ci: None,
            note: Some(
                "no interval: the denominator's interval includes zero, so the ratio is unbounded"
                    .into(),
            ),
        };
    }
    let sy = my_ci.sd;
    let var = ((sx * sx - 2.0 * r * sxy + r * r * sy * sy) / (n as f64 * my * my)).max(0.0);
    let ci = t_quantile(n - 1).map(|t| {
        let half = t * var.sqrt();
        (r - half, r + half)
    });
    RatioCi {
        ratio: Some(r),
        ci,
        note: None,
    }
}

/// The plain warning printed beside a difference whose interval includes zero.
pub const SPANS_ZERO: &str =
    "the 95% interval includes zero: this difference may be noise (run more replications)";

/// Rounds for JSON: statistics are floats, shown to a sensible number of significant digits.
pub fn round(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() { 0.0 } else { f64::NAN };
    }
    let digits = 10 - x.abs().log10().ceil() as i32;
    let k = 10f64.powi(digits.clamp(-10, 12));
    (x * k).round() / k
}

/// An interval as documents write it: its bounds rounded ([`round`]), or `None`.
pub fn ci_doc(ci: Option<(f64, f64)>) -> Option<(f64, f64)> {
    ci.map(|(lo, hi)| (round(lo), round(hi)))
}

/// A mean with its interval, as documents write it: `{ "mean", "ci95" }`, and `"warning"` for
/// a difference whose interval includes zero.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanDoc {
    pub mean: f64,
    pub ci95: Option<(f64, f64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl MeanDoc {
    /// `m` rounded; the warning only for a difference (`diff`) whose interval includes zero.
    pub fn of(m: &MeanCi, diff: bool) -> MeanDoc {
        MeanDoc {
            mean: round(m.mean),
            ci95: ci_doc(m.ci),
            warning: (diff && m.spans_zero()).then(|| SPANS_ZERO.to_string()),
        }
    }
}

/// A ratio as documents write it: `{ "value", "ci95", "note" }` (value `null` when undefined).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatioDoc {
    pub value: Option<f64>,
    pub ci95: Option<(f64, f64)>,
    pub note: Option<String>,
}

impl RatioDoc {
    pub fn of(r: &RatioCi) -> RatioDoc {
        RatioDoc {
            // a non-finite value is written `null` either way
            value: r.ratio.map(round).filter(|x| x.is_finite()),
            ci95: ci_doc(r.ci),
            note: r.note.clone(),
        }
    }
}

/// An interval as table text: `[lo, hi]` with `fmt`, or "—" when there is none.
pub fn ci_text(ci: Option<(f64, f64)>, fmt: impl Fn(f64) -> String) -> String {
    match ci {
        Some((lo, hi)) => format!("[{}, {}]", fmt(lo), fmt(hi)),
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        assert!((t_quantile(2).unwrap() - 4.303).abs() < 5e-4);
        assert!((t_quantile(29).unwrap() - 2.045).abs() < 5e-4);
        assert!((t_quantile(1).unwrap() - 12.706).abs() < 5e-3);
        assert!((t_quantile(100_000).unwrap() - 1.960).abs() < 1e-3);
        assert_eq!(t_quantile(0), None);
    }

    #[test]
    fn one_value_has_no_interval() {
        let m = mean_ci(&[5.0]);
        assert_eq!((m.mean, m.ci), (5.0, None));
        assert!(!m.spans_zero());
        assert_eq!(MeanDoc::of(&m, true).ci95, None);
        assert_eq!(ratio_ci(&[2.0], &[4.0]).ci, None);
    }

    #[test]
    fn three_values_use_t_with_two_degrees_of_freedom() {
        let m = mean_ci(&[1.0, 2.0, 3.0]);
        let half = 4.302_652_7 * 1.0 / 3f64.sqrt();
        let (lo, hi) = m.ci.unwrap();
        assert!((lo - (2.0 - half)).abs() < 1e-6 && (hi - (2.0 + half)).abs() < 1e-6);
        assert!(m.spans_zero() == (lo <= 0.0));
    }

    #[test]
    fn paired_differences_cancel_common_noise() {
        let a = [10.0, 20.0, 30.0, 40.0];
        let b = [9.0, 19.0, 29.0, 39.0];
        let d = paired_diff_ci(&a, &b);
        assert_eq!(d.mean, 1.0);
        assert_eq!(d.ci, Some((1.0, 1.0)));
        assert!(!d.spans_zero());
        let z = paired_diff_ci(&[1.0, -1.0, 2.0], &[0.0, 0.0, 0.0]);
        assert!(z.spans_zero());
        assert_eq!(MeanDoc::of(&z, true).warning.as_deref(), Some(SPANS_ZERO));
    }

    #[test]
    fn ratio_of_exactly_proportional_values_has_a_point_interval() {
        let r = ratio_ci(&[20.0, 22.0, 24.0], &[10.0, 11.0, 12.0]);
        assert_eq!(r.ratio, Some(2.0));
        let (lo, hi) = r.ci.unwrap();
        assert!((lo - 2.0).abs() < 1e-9 && (hi - 2.0).abs() < 1e-9);
    }

    #[test]
    fn ratio_with_a_denominator_around_zero_has_no_interval() {
        let r = ratio_ci(&[1.0, 2.0, 3.0], &[1.0, -1.0, 0.5]);
        assert!(r.ratio.is_some());
        assert_eq!(r.ci, None);
        assert!(r.note.unwrap().contains("includes zero"));
        let z = ratio_ci(&[1.0, 2.0], &[0.0, 0.0]);
        assert_eq!((z.ratio, z.ci), (None, None));
    }

    #[test]
    fn ratio_interval_widens_with_noise() {
        let r = ratio_ci(&[10.0, 12.0, 9.0, 11.0], &[5.0, 5.5, 5.2, 4.9]);
        let (lo, hi) = r.ci.unwrap();
        let v = r.ratio.unwrap();
        assert!(lo < v && v < hi && hi - lo > 0.1);
    }
}
