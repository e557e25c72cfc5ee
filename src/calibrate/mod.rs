//! Calibration (`affsim calibrate`): fits scenario keys to an observed history by simulated
//! likelihood, with common random numbers, a bounded derivative-free optimiser and intervals.
//!
//! **Objective.** The observed days of the fit window are cut into blocks of `block_days`; the
//! summaries are each observed metric's sum over each block. For a candidate θ the scenario is
//! run `R` times with the same replication streams (seed, i) for every candidate (common random
//! numbers), giving the summaries' mean μ(θ) and covariance across replications,
//! `Σ = (1 + 1/R) · ((1 − λ) S + λ diag S) + diag(1 + (0.02 μ)²)` (see [`shrinkage`] for λ; the
//! `1 + 1/R` factor is the simulation noise in μ, the floor 2% of the level). A coarse 3^d grid
//! is scored by the Gaussian synthetic likelihood `rᵀ Σ⁻¹ r + ln det Σ` (`r = y − μ`); then, as
//! in two-step simulated method of moments, Σ is fixed at the best point and the discrepancy
//! `rᵀ Σ⁻¹ r` is minimised, then Σ is fixed again at that estimate for a second, shorter run.
//!
//! **Optimiser.** COBYLA (the `cobyla` crate, a translation of NLopt's) on the parameters
//! scaled to [0, 1], bounds enforced by the optimiser and by clamping; deterministic.
//!
//! **Intervals.** Profile likelihood: each parameter at [`PROFILE_POINTS`] values over its
//! range, the others re-optimised briefly; the interval is where the rise over the minimum stays
//! below `t² · φ · cᵢ`, interpolated in √rise. φ = max(1, discrepancy per summary at the
//! estimate) is a quasi-likelihood correction. cᵢ, the *variance ratio*, checks the profile's
//! width against worlds the fit never saw: the weighting Σ comes from the same R simulated
//! worlds for every candidate, and its inverse is noisy (too large on average), so the profile's
//! curvature alone makes the interval depend on which R worlds the seed drew. The estimate is
//! linearised, `θ̂ − θ ≈ A (y − μ̂(θ))` with `A = (Gᵀ W G)⁻¹ Gᵀ W`, G the derivative of the
//! simulated mean at the estimate (a forward difference of [`DERIVATIVE_STEP`] under common
//! random numbers) and W = Σ⁻¹; its variance is the simulated-method-of-moments sandwich
//! `V = A Ω Aᵀ`, Ω = (1 + 1/R) × the covariance of the summaries over R *fresh* worlds at the
//! estimate (replications R..2R−1, drawn as the history was), plus the floor (McFadden 1989;
//! Pakes & Pollard 1989; Gouriéroux, Monfort & Renault 1993). `cᵢ = Vᵢᵢ / [(Gᵀ W G)⁻¹]ᵢᵢ` scales
//! the profile's threshold (an adjusted profile likelihood, Chandler & Bate 2007), and t is the
//! 97.5% Student-t point on R − 1 degrees of freedom, as Ω is estimated from R worlds. A
//! parameter whose profile stays below the threshold at both bounds is reported as not
//! identifiable.
//!
//! Parameters are addressed like `affsim sweep --set` (see [`set_value`]).

pub mod observed;

use std::cell::RefCell;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::experiment::daily::pct;
use crate::experiment::sweep::PathError;
use crate::experiment::{self, RunConfig};
use crate::metrics::Metric;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{Replication, RunError, RunOptions};

pub use observed::Observed;

/// A parameter to fit: a scenario key path and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct FitParam {
    pub path: String,
    pub lo: f64,
    pub hi: f64,
}

/// Parses `path=LO..HI` from the command line.
pub fn parse_fit(s: &str) -> Result<FitParam, FitError> {
    let bad = || FitError::Syntax(s.to_string());
    let (path, range) = s.split_once('=').ok_or_else(bad)?;
    let (lo, hi) = range.split_once("..").ok_or_else(bad)?;
    let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
    let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
    let path = path.trim();
    if path.is_empty() || !lo.is_finite() || !hi.is_finite() {
        return Err(bad());
    }
    if lo >= hi {
        return Err(FitError::Bounds(s.to_string()));
    }
    Ok(FitParam {
        path: path.to_string(),
        lo,
        hi,
    })
}

/// Sets one fitted value in the scenario table, by the key paths of `affsim sweep --set`.
/// The one place calibration touches the path syntax (the coordinator can adapt it).
pub fn set_value(table: &mut toml::Table, path: &str, value: f64) -> Result<(), PathError> {
    crate::experiment::sweep::set_path(table, path, toml::Value::Float(value))
}

/// How to calibrate.
#[derive(Clone)]
pub struct Settings {
    pub seed: u64,
    /// Replications per candidate (at least 2: the objective needs their spread).
    pub replications: u32,
    pub threads: Option<usize>,
    /// Days per summary block.
    pub block_days: u32,
    /// Observed days to fit on (the first ones); the rest are the hold-out.
    pub fit_days: u32,
    /// Objective evaluations the optimiser may use.
    pub max_evals: usize,
    /// Called once per finished replication (progress bars).
    pub on_done: Option<Arc<dyn Fn() + Send + Sync>>,
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Why a calibration could not be done (exit 2; 130 when interrupted).
#[derive(Debug, thiserror::Error)]
pub enum CalError {
    /// The scenario file is not TOML.
    #[error("{file}: {message}")]
    NotToml { file: String, message: String },
    #[error("nothing to fit: give --fit path=LO..HI")]
    NothingToFit,
    #[error("--fit {0} is given twice")]
    FitTwice(String),
    #[error(
        "--replications must be at least 2: the objective needs the spread across replications"
    )]
    TooFewReplications,
    #[error("--block-days must be at least 1")]
    NoBlockDays,
    #[error("the fit window must hold between 1 and {days} observed days, not {fit_days}")]
    FitWindow { days: u32, fit_days: u32 },
    /// A `--fit` path leads nowhere in the scenario.
    #[error("--fit {0}")]
    Path(#[from] PathError),
    #[error(transparent)]
    Toml(#[from] toml::ser::Error),
    /// The scenario with some candidate values is invalid.
    #[error("the scenario is not valid with {at}:{}", errors.iter().map(|e| format!("\n{e}")).collect::<String>())]
    Invalid {
        at: String,
        errors: Vec<ScenarioError>,
    },
    #[error(transparent)]
    Run(#[from] RunError),
}

/// A malformed `--fit path=LO..HI`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("--fit `{0}`: expected path=LO..HI, e.g. behaviour.buyers.conversion_rate=0.001..0.01")]
    Syntax(String),
    #[error("--fit `{0}`: the lower bound must be below the upper bound")]
    Bounds(String),
}

/// Why the fitted values cannot be written into the scenario text.
#[derive(Debug, thiserror::Error)]
pub enum WriteBackError {
    #[error("{0}")]
    NotToml(#[from] toml_edit::TomlError),
    #[error("`{0}`: empty path")]
    Empty(String),
    #[error("`{0}`: names an array")]
    Array(String),
    #[error("`{path}`: no entry with id or index `{key}`")]
    NoEntry { path: String, key: String },
    #[error("`{path}`: `{seg}` is not a table")]
    NotATable { path: String, seg: String },
}

/// One fitted parameter.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub param: FitParam,
    pub start: f64,
    pub estimate: f64,
    pub std_error: Option<f64>,
    pub ci95: (f64, f64),
    pub identifiable: bool,
    /// The profile's rise D − D̂ at the lower and upper bound.
    pub rise_at_bounds: (f64, f64),
    /// The estimate's variance over fresh simulated worlds against the variance the profile's
    /// curvature implies (the sandwich over the naive; 1 when the weighting is right).
    pub variance_ratio: f64,
    /// The rise that bounds the interval: `t² · overdispersion · variance_ratio`.
    pub threshold: f64,
    /// The profile: (value, D − D̂ with the other parameters re-optimised).
    pub profile: Vec<(f64, f64)>,
}

/// How well simulated figures match observed ones over a window, per metric.
#[derive(Clone, Debug)]
pub struct MetricFit {
    pub metric: Metric,
    pub observed_total: f64,
    pub simulated_median: f64,
    pub simulated_p5: f64,
    pub simulated_p95: f64,
    /// (simulated median − observed) / observed; `None` when nothing was observed.
    pub relative_error: Option<f64>,
    /// Share of the window's days whose observed value lies in the simulated p5–p95 band.
    pub days_in_band: f64,
}

/// The fit over one window.
#[derive(Clone, Debug)]
pub struct WindowFit {
    pub first_day: u32,
    pub days: u32,
    pub objective: f64,
    /// `rᵀ Σ⁻¹ r`: about `summaries` when the model fits the window.
    pub discrepancy: f64,
    pub summaries: usize,
    pub metrics: Vec<MetricFit>,
}

/// A finished calibration.
pub struct Calibration {
    pub estimates: Vec<Estimate>,
    pub objective: f64,
    pub summaries: usize,
    pub evaluations: usize,
    pub optimiser_status: String,
    pub fit: WindowFit,
    pub holdout: Option<WindowFit>,
    pub warnings: Vec<String>,
    /// The replications at the estimate (for the fit charts).
    pub replications: Vec<Replication>,
    pub seed: u64,
    pub settings_replications: u32,
    pub block_days: u32,
    pub shrinkage: f64,
    /// max(1, discrepancy per summary) in the fit window.
    pub overdispersion: f64,
    /// Fresh simulated worlds at the estimate (the variance of the interval; `replications`).
    pub fresh_worlds: usize,
    /// The profile threshold before each parameter's variance ratio: `t² · overdispersion`,
    /// with t the 97.5% Student-t point on `fresh_worlds − 1` degrees of freedom.
    pub base_threshold: f64,
    /// Evaluations spent by the grid and the optimiser (the rest went to the profiles).
    pub evaluations_fit: usize,
}

/// The calibration problem: the scenario as a table, the parameters and the history.
pub struct Problem<'a> {
    pub file: String,
    pub table: toml::Table,
    pub params: Vec<FitParam>,
    pub observed: &'a Observed,
    pub settings: Settings,
}

/// Per replication, per observed metric, per observed day: the simulated flow.
type Sims = Vec<Vec<Vec<f64>>>;

impl<'a> Problem<'a> {
    /// Sets up a problem from the scenario text; checks the paths and that the scenario is
    /// valid at both ends of every range.
    pub fn new(
        file: &str,
        src: &str,
        params: Vec<FitParam>,
        observed: &'a Observed,
        settings: Settings,
    ) -> Result<Problem<'a>, CalError> {
        let mut table: toml::Table = toml::from_str(src).map_err(|e| CalError::NotToml {
            file: file.to_string(),
            message: e.message().to_string(),
        })?;
        table.remove("sweep");
        if params.is_empty() {
            return Err(CalError::NothingToFit);
        }
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.path == p.path) {
                return Err(CalError::FitTwice(p.path.clone()));
            }
        }
        if settings.replications < 2 {
            return Err(CalError::TooFewReplications);
        }
        if settings.block_days == 0 {
            return Err(CalError::NoBlockDays);
        }
        if settings.fit_days == 0 || settings.fit_days > observed.days {
            return Err(CalError::FitWindow {
                days: observed.days,
                fit_days: settings.fit_days,
            });
        }
        let pb = Problem {
            file: file.to_string(),
            table,
            params,
            observed,
            settings,
        };
        // Every corner of the box must be a valid scenario (and every path must resolve).
        for corner in [0.0, 1.0] {
            let u = vec![corner; pb.params.len()];
            pb.scenario_at(&pb.theta(&u))?;
        }
        Ok(pb)
    }

    /// The values of the parameters at scaled point `u` (clamped to [0, 1]).
    pub fn theta(&self, u: &[f64]) -> Vec<f64> {
        self.params
            .iter()
            .zip(u)
            .map(|(p, x)| p.lo + x.clamp(0.0, 1.0) * (p.hi - p.lo))
            .collect()
    }

    fn label(&self, theta: &[f64]) -> String {
        self.params
            .iter()
            .zip(theta)
            .map(|(p, v)| format!("{}={}", p.path, sig(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The scenario with the parameters set to `theta`.
    pub fn scenario_at(&self, theta: &[f64]) -> Result<Scenario, CalError> {
        let mut t = self.table.clone();
        for (p, v) in self.params.iter().zip(theta) {
            set_value(&mut t, &p.path, *v)?;
        }
        let text = toml::to_string(&t)?;
        let label = self.label(theta);
        scenario::parse(&format!("{} [{label}]", self.file), &text)
            .map_err(|errors| CalError::Invalid { at: label, errors })
    }

    /// Runs the replications at `theta` (common random numbers: the same seed and indices for
    /// every candidate).
    pub fn simulate(&self, theta: &[f64]) -> Result<Vec<Replication>, CalError> {
        let indices: Vec<u32> = (0..self.settings.replications).collect();
        self.simulate_indices(theta, &indices)
    }

    /// Runs the replications `indices` (streams (seed, i)) at `theta`: indices from
    /// `replications` on are worlds the candidates never saw (the fresh worlds of the interval).
    pub fn simulate_indices(
        &self,
        theta: &[f64],
        indices: &[u32],
    ) -> Result<Vec<Replication>, CalError> {
        let sc = self.scenario_at(theta)?;
        let cfg = RunConfig {
            replications: Some(self.settings.replications),
            threads: self.settings.threads,
            seed: Some(self.settings.seed),
            options: RunOptions {
                interrupt: self.settings.interrupt.clone(),
                ..Default::default()
            },
            on_done: self.settings.on_done.clone(),
            ..Default::default()
        };
        Ok(experiment::run_indices(&sc, &cfg, indices)?.replications)
    }

    fn sims(&self, reps: &[Replication]) -> Sims {
        let o = self.observed;
        reps.iter()
            .map(|r| {
                o.metrics
                    .iter()
                    .map(|&m| {
                        (0..o.days)
                            .map(|d| {
                                r.daily
                                    .get((o.first_day + d) as usize)
                                    .map_or(0.0, |row| row[m as usize].to_f64().unwrap_or(0.0))
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// The observed summaries over observed days `a..b` and the simulated ones per replication.
    fn summaries(&self, sims: &Sims, a: u32, b: u32) -> (Vec<f64>, Vec<Vec<f64>>) {
        let bd = self.settings.block_days;
        let blocks: Vec<(u32, u32)> = (a..b)
            .step_by(bd as usize)
            .map(|s| (s, (s + bd).min(b)))
            .collect();
        let sum = |v: &[f64], (s, e): (u32, u32)| v[s as usize..e as usize].iter().sum::<f64>();
        let mut y = Vec::new();
        let mut x: Vec<Vec<f64>> = vec![Vec::new(); sims.len()];
        for (k, obs) in self.observed.values.iter().enumerate() {
            for &blk in &blocks {
                y.push(sum(obs, blk));
                for (r, s) in sims.iter().enumerate() {
                    x[r].push(sum(&s[k], blk));
                }
            }
        }
        (y, x)
    }

    /// The synthetic-likelihood objective over observed days `a..b`, its discrepancy term and
    /// the number of summaries.
    fn objective(&self, sims: &Sims, a: u32, b: u32) -> (f64, f64, usize) {
        let (y, x) = self.summaries(sims, a, b);
        let (q, logdet) = synthetic_parts(&y, &x);
        (q + logdet, q, y.len())
    }

    fn fit_window(&self, sims: &Sims, a: u32, b: u32) -> WindowFit {
        let (objective, discrepancy, summaries) = self.objective(sims, a, b);
        let metrics = self
            .observed
            .metrics
            .iter()
            .enumerate()
            .map(|(k, &m)| {
                let obs = &self.observed.values[k][a as usize..b as usize];
                let observed_total: f64 = obs.iter().sum();
                let mut totals: Vec<f64> = sims
                    .iter()
                    .map(|s| s[k][a as usize..b as usize].iter().sum())
                    .collect();
                totals.sort_by(f64::total_cmp);
                let med = pct(&totals, 0.5);
                let mut inside = 0;
                for d in a..b {
                    let mut col: Vec<f64> = sims.iter().map(|s| s[k][d as usize]).collect();
                    col.sort_by(f64::total_cmp);
                    let v = self.observed.values[k][d as usize];
                    if v >= pct(&col, 0.05) && v <= pct(&col, 0.95) {
                        inside += 1;
                    }
                }
                MetricFit {
                    metric: m,
                    observed_total,
                    simulated_median: med,
                    simulated_p5: pct(&totals, 0.05),
                    simulated_p95: pct(&totals, 0.95),
                    relative_error: (observed_total > 0.0)
                        .then(|| (med - observed_total) / observed_total),
                    days_in_band: f64::from(inside) / f64::from((b - a).max(1)),
                }
            })
            .collect();
        WindowFit {
            first_day: self.observed.first_day + a,
            days: b - a,
            objective,
            discrepancy,
            summaries,
            metrics,
        }
    }
}

/// −2 log of the Gaussian synthetic likelihood of `y` given simulated summaries `x[r][j]`
/// (see the module docs), up to a constant.
pub fn synthetic_nll(y: &[f64], x: &[Vec<f64>]) -> f64 {
    let (q, logdet) = synthetic_parts(y, x);
    q + logdet
}

/// The two terms of [`synthetic_nll`]: the discrepancy `rᵀ Σ⁻¹ r` (about `n` when the model
/// fits) and `ln det Σ`.
pub fn synthetic_parts(y: &[f64], x: &[Vec<f64>]) -> (f64, f64) {
    let n = y.len();
    let r = x.len();
    if n == 0 || r < 2 {
        return (0.0, 0.0);
    }
    let (mu, sigma) = moments(x);
    let resid: Vec<f64> = y.iter().zip(&mu).map(|(a, b)| a - b).collect();
    match cholesky(&sigma) {
        Some(l) => (
            quad(&l, &resid),
            2.0 * (0..n).map(|i| l[i][i].ln()).sum::<f64>(),
        ),
        None => (
            (0..n).map(|i| resid[i].powi(2) / sigma[i][i]).sum(),
            (0..n).map(|i| sigma[i][i].ln()).sum(),
        ),
    }
}

/// `rᵀ Σ⁻¹ r` from the Cholesky factor `L` of Σ.
fn quad(l: &[Vec<f64>], resid: &[f64]) -> f64 {
    forward(l, resid).iter().map(|v| v * v).sum()
}

/// `L⁻¹ b` for a lower-triangular `L` (forward substitution).
fn forward(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; b.len()];
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i][i];
    }
    z
}

/// The mean of summaries `x[r][j]` over the replications `r`.
fn mean(x: &[Vec<f64>]) -> Vec<f64> {
    let n = x.first().map_or(0, Vec::len);
    (0..n)
        .map(|j| x.iter().map(|s| s[j]).sum::<f64>() / x.len() as f64)
        .collect()
}

/// The summaries' simulated mean and their covariance Σ (see the module docs).
fn moments(x: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let r = x.len();
    let n = x.first().map_or(0, Vec::len);
    covariance(x, shrinkage(n, r), 1.0 + 1.0 / r as f64)
}

/// The mean of summaries `x[r][j]` and their covariance, its off-diagonal shrunk by `lambda`,
/// multiplied by `inflate`, plus the floor `1 + (0.02 μ)²` on the diagonal.
fn covariance(x: &[Vec<f64>], lambda: f64, inflate: f64) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = x.first().map_or(0, Vec::len);
    let rf = x.len() as f64;
    let mu = mean(x);
    let mut sigma = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let c = x
                .iter()
                .map(|s| (s[i] - mu[i]) * (s[j] - mu[j]))
                .sum::<f64>()
                / (rf - 1.0);
            let shrunk = if i == j { c } else { (1.0 - lambda) * c };
            let v = inflate * shrunk;
            sigma[i][j] = v;
            sigma[j][i] = v;
        }
        sigma[i][i] += 1.0 + (0.02 * mu[i]).powi(2);
    }
    (mu, sigma)
}

/// The shrinkage of the summaries' covariance towards its diagonal: slight when there are
/// more replications than summaries, `n / (n + R)` otherwise (Σ stays positive definite).
pub fn shrinkage(n: usize, r: usize) -> f64 {
    if r > n + 1 {
        0.05
    } else {
        n as f64 / (n + r) as f64
    }
}

fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// Six significant digits.
pub fn sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 5 - x.abs().log10().floor() as i32;
    let m = 10f64.powi(p);
    (x * m).round() / m
}

/// The objective memoised on the scaled point, so that every point is simulated once.
struct Memo<'p, 'a> {
    pb: &'p Problem<'a>,
    cache: RefCell<Vec<(Vec<f64>, f64)>>,
    /// The simulated summaries of every point evaluated.
    sims: RefCell<Vec<(Vec<f64>, Sims)>>,
    /// The Cholesky factor of the fixed weighting Σ (second stage), if set.
    weight: RefCell<Option<Vec<Vec<f64>>>>,
    error: RefCell<Option<CalError>>,
}

impl Memo<'_, '_> {
    fn eval(&self, u: &[f64]) -> f64 {
        let u: Vec<f64> = u.iter().map(|x| x.clamp(0.0, 1.0)).collect();
        if let Some((_, v)) = self.cache.borrow().iter().find(|(k, _)| *k == u) {
            return *v;
        }
        if self.error.borrow().is_some() {
            return f64::MAX;
        }
        let v = match self.pb.simulate(&self.pb.theta(&u)) {
            Ok(reps) => {
                let sims = self.pb.sims(&reps);
                let v = self.value(&sims);
                self.sims.borrow_mut().push((u.clone(), sims));
                v
            }
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                f64::MAX
            }
        };
        self.cache.borrow_mut().push((u, v));
        v
    }
    /// The objective of simulated summaries: the synthetic likelihood, or with the weighting
    /// fixed, the discrepancy `rᵀ Σ⁻¹ r`.
    fn value(&self, sims: &Sims) -> f64 {
        let days = self.pb.settings.fit_days;
        match &*self.weight.borrow() {
            Some(l) => {
                let (y, x) = self.pb.summaries(sims, 0, days);
                let (mu, _) = moments(&x);
                let resid: Vec<f64> = y.iter().zip(&mu).map(|(a, b)| a - b).collect();
                quad(l, &resid)
            }
            None => self.pb.objective(sims, 0, days).0,
        }
    }
    /// Fixes the weighting at the covariance simulated at `u` (evaluated already), and
    /// recomputes every cached value with it.
    fn fix_weight_at(&self, u: &[f64]) {
        let days = self.pb.settings.fit_days;
        let l = self
            .sims
            .borrow()
            .iter()
            .find(|(k, _)| k == u)
            .and_then(|(_, s)| cholesky(&moments(&self.pb.summaries(s, 0, days).1).1));
        if l.is_none() {
            return;
        }
        *self.weight.borrow_mut() = l;
        let values: Vec<f64> = self
            .sims
            .borrow()
            .iter()
            .map(|(_, s)| self.value(s))
            .collect();
        let mut cache = self.cache.borrow_mut();
        for ((_, v), nv) in cache.iter_mut().zip(values) {
            *v = nv;
        }
    }
    /// The simulated summaries of the fit window's first `days` days at `u` (evaluated
    /// already), per replication; empty if `u` was not evaluated.
    fn summaries_at(&self, u: &[f64], days: u32) -> Vec<Vec<f64>> {
        self.sims
            .borrow()
            .iter()
            .find(|(k, _)| k == u)
            .map(|(_, s)| self.pb.summaries(s, 0, days).1)
            .unwrap_or_default()
    }
    fn check(&self) -> Result<(), CalError> {
        match self.error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The step, as a share of each parameter's range, of the finite difference that gives the
/// derivative of the simulated summaries at the estimate (for the interval's variance ratio).
pub const DERIVATIVE_STEP: f64 = 0.05;

/// Per parameter, the sandwich variance of the estimate over its naive variance (see the
/// module docs, "Intervals"): `x0` the summaries per replication at the estimate, `xs[i]` at
/// the estimate moved by `steps[i]` in parameter `i` (common random numbers), `fresh` the
/// summaries of fresh worlds at the estimate and `l` the Cholesky factor of the weighting's
/// covariance. `None` when the summaries do not move with the parameters (no curvature).
pub fn sandwich_ratios(
    x0: &[Vec<f64>],
    xs: &[Vec<Vec<f64>>],
    steps: &[f64],
    fresh: &[Vec<f64>],
    l: &[Vec<f64>],
) -> Option<Vec<f64>> {
    let n = l.len();
    let d = xs.len();
    let r = x0.len();
    if d == 0 || r < 2 || fresh.len() < 2 || x0[0].len() != n {
        return None;
    }
    let mu0 = mean(x0);
    // G: the derivative of the simulated mean, per parameter (scaled units); WG = Σ⁻¹ G.
    let g: Vec<Vec<f64>> = xs
        .iter()
        .zip(steps)
        .map(|(x, h)| mean(x).iter().zip(&mu0).map(|(a, b)| (a - b) / h).collect())
        .collect();
    let wg: Vec<Vec<f64>> = g.iter().map(|gi| solve_spd(l, gi)).collect();
    // H = Gᵀ Σ⁻¹ G and its inverse, the naive covariance of the estimate.
    let h: Vec<Vec<f64>> = (0..d)
        .map(|a| (0..d).map(|b| dot(&g[a], &wg[b])).collect())
        .collect();
    let lh = cholesky(&h)?;
    let hinv: Vec<Vec<f64>> = (0..d)
        .map(|b| {
            let mut e = vec![0.0; d];
            e[b] = 1.0;
            solve_spd(&lh, &e)
        })
        .collect();
    // A = H⁻¹ Gᵀ Σ⁻¹ (rows per parameter): the estimate's linear response to the summaries.
    let a: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            (0..n)
                .map(|j| (0..d).map(|b| hinv[i][b] * wg[b][j]).sum())
                .collect()
        })
        .collect();
    // Ω: the observed summaries' variance from the fresh worlds (not shrunk), with the
    // simulation noise of the mean over R (1 + 1/R) and the same floor as the weighting.
    let (_, omega) = covariance(fresh, 0.0, 1.0 + 1.0 / r as f64);
    let ratios: Vec<f64> = (0..d)
        .map(|i| {
            let oa: Vec<f64> = (0..n).map(|j| dot(&omega[j], &a[i])).collect();
            dot(&a[i], &oa) / hinv[i][i]
        })
        .collect();
    ratios
        .iter()
        .all(|c| c.is_finite() && *c > 0.0)
        .then_some(ratios)
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `Σ⁻¹ b` from the Cholesky factor `L` of Σ.
fn solve_spd(l: &[Vec<f64>], b: &[f64]) -> Vec<f64> {
    let n = b.len();
    let z = forward(l, b);
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i][i];
    }
    x
}

/// An interval that keeps this share of a parameter's range or more marks it as not identifiable.
pub const FLAT_SHARE: f64 = 0.75;

/// Points of each parameter's profile, evenly spaced from its lower to its upper bound.
pub const PROFILE_POINTS: usize = 8;

/// Objective evaluations the inner optimisation of a profile point may use.
fn inner_evals(d: usize) -> usize {
    if d <= 1 { 1 } else { 4 + 2 * (d - 1) }
}

/// Objective evaluations a calibration runs at most: for the progress bar.
pub fn planned_evaluations(params: usize, max_evals: usize) -> usize {
    let grid = if params <= 3 {
        3usize.pow(params as u32)
    } else {
        0
    };
    // the derivative points, and the estimate with its fresh worlds (two evaluations' worth)
    grid + max_evals + params * PROFILE_POINTS * inner_evals(params) + params + 2
}

/// Runs COBYLA on the memoised objective over the free coordinates `free`, the others fixed
/// at `base`; returns the best point seen overall is left to the memo.
fn minimise(
    memo: &Memo<'_, '_>,
    base: &[f64],
    free: &[usize],
    max_evals: usize,
    rho: f64,
) -> String {
    let x0: Vec<f64> = free.iter().map(|&i| base[i]).collect();
    let bounds = vec![(0.0, 1.0); free.len()];
    let no_cons: Vec<&dyn cobyla::Func<()>> = Vec::new();
    let full = |x: &[f64]| {
        let mut u = base.to_vec();
        for (k, &i) in free.iter().enumerate() {
            u[i] = x[k];
        }
        u
    };
    let result = cobyla::minimize(
        |x: &[f64], _: &mut ()| memo.eval(&full(x)),
        &x0,
        &bounds,
        &no_cons,
        (),
        max_evals,
        cobyla::RhoBeg::All(rho),
        Some(cobyla::StopTols {
            xtol_abs: vec![2e-3; free.len()],
            ..Default::default()
        }),
    );
    match result {
        Ok((s, ..)) => format!("{s:?}"),
        Err((s, ..)) => format!("{s:?}"),
    }
}

/// Where a profile (scaled coordinate, D − D̂) first reaches the χ² point on one side of the
/// estimate `u`, interpolated in √(D − D̂) (linear for a quadratic profile); the bound when it
/// never does.
fn crossing(u: f64, side: &[(f64, f64)], bound: f64, threshold: f64) -> f64 {
    let mut prev = (u, 0.0f64);
    let z = threshold.sqrt();
    for &(x, rise) in side {
        let s = rise.max(0.0).sqrt();
        if s >= z {
            let (px, ps) = (prev.0, prev.1.max(0.0).sqrt());
            return px + (x - px) * ((z - ps) / (s - ps).max(1e-12)).clamp(0.0, 1.0);
        }
        prev = (x, rise);
    }
    bound
}

/// Fits the parameters: a coarse grid, COBYLA from its best point, a profile of each
/// parameter for its interval, then the fit and hold-out diagnostics at the estimate.
pub fn calibrate(pb: &Problem<'_>, start: &[f64]) -> Result<Calibration, CalError> {
    let d = pb.params.len();
    let memo = Memo {
        pb,
        cache: RefCell::new(Vec::new()),
        sims: RefCell::new(Vec::new()),
        weight: RefCell::new(None),
        error: RefCell::new(None),
    };
    let u0: Vec<f64> = pb
        .params
        .iter()
        .zip(start)
        .map(|(p, s)| ((s - p.lo) / (p.hi - p.lo)).clamp(0.0, 1.0))
        .collect();
    memo.eval(&u0);
    if d <= 3 {
        // A coarse 3^d grid first: COBYLA is local, and common random numbers leave small steps.
        for k in 0..3usize.pow(d as u32) {
            let u: Vec<f64> = (0..d)
                .map(|i| [0.2, 0.5, 0.8][(k / 3usize.pow(i as u32)) % 3])
                .collect();
            memo.eval(&u);
        }
    }
    memo.check()?;
    let best = |memo: &Memo<'_, '_>| {
        memo.cache
            .borrow()
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .cloned()
            .unwrap_or((u0.clone(), f64::MAX))
    };
    // Two-step simulated method of moments: the weighting fixed at the covariance simulated at
    // the best point so far (a smooth objective), then again at the first step's estimate.
    let from = best(&memo).0;
    memo.fix_weight_at(&from);
    let all: Vec<usize> = (0..d).collect();
    let evals = pb.settings.max_evals.max(d + 2);
    minimise(&memo, &from, &all, evals * 2 / 3, 0.15);
    memo.check()?;
    let from = best(&memo).0;
    memo.fix_weight_at(&from);
    let from = best(&memo).0;
    let status = minimise(&memo, &from, &all, (evals / 3).max(d + 2), 0.05);
    memo.check()?;
    let (u_best, _) = best(&memo);
    let evaluations_fit = memo.cache.borrow().len();

    // Profiles: each parameter on a grid, the others re-optimised (briefly) at each point.
    let mut profiles: Vec<Vec<(f64, f64)>> = Vec::with_capacity(d);
    for i in 0..d {
        let others: Vec<usize> = (0..d).filter(|&j| j != i).collect();
        let mut pts = Vec::with_capacity(PROFILE_POINTS);
        for k in 0..PROFILE_POINTS {
            let x = k as f64 / (PROFILE_POINTS - 1) as f64;
            let mut base = u_best.clone();
            base[i] = x;
            let v = if others.is_empty() {
                memo.eval(&base)
            } else {
                minimise(&memo, &base, &others, inner_evals(d), 0.1);
                memo.cache
                    .borrow()
                    .iter()
                    .filter(|(u, _)| u[i] == x)
                    .map(|(_, v)| *v)
                    .fold(f64::MAX, f64::min)
            };
            pts.push((x, v));
        }
        memo.check()?;
        profiles.push(pts);
    }
    // The profiles may have found a better point than the optimiser did: the optimiser then
    // starts again from it, so that the estimate is not left on the profile's grid (with a flat
    // objective a grid point can win by a hair, and it is up to half a grid step, 1/14 of the
    // range, from the minimum).
    let (u_prof, _) = best(&memo);
    if u_prof != u_best {
        minimise(&memo, &u_prof, &all, (evals / 3).max(d + 2), 0.05);
        memo.check()?;
    }
    let (u_best, f_best) = best(&memo);
    let theta = pb.theta(&u_best);
    memo.check()?;
    // The derivative of the simulated summaries at the estimate (common random numbers): one
    // step of DERIVATIVE_STEP per parameter, towards the inside of the box.
    let steps: Vec<f64> = (0..d)
        .map(|i| {
            if u_best[i] + DERIVATIVE_STEP <= 1.0 {
                DERIVATIVE_STEP
            } else {
                -DERIVATIVE_STEP
            }
        })
        .collect();
    let stepped: Vec<Vec<f64>> = (0..d)
        .map(|i| {
            let mut u = u_best.clone();
            u[i] += steps[i];
            u
        })
        .collect();
    for u in std::iter::once(&u_best).chain(&stepped) {
        memo.eval(u);
    }
    memo.check()?;
    // The replications at the estimate (the diagnostics and charts) and as many fresh worlds,
    // replications the candidates never saw, in one run.
    let r = pb.settings.replications;
    let mut reps = pb.simulate_indices(&theta, &(0..2 * r).collect::<Vec<u32>>())?;
    let fresh = reps.split_off(r as usize);
    let sims = pb.sims(&reps);
    let fit = pb.fit_window(&sims, 0, pb.settings.fit_days);
    let holdout = (pb.settings.fit_days < pb.observed.days)
        .then(|| pb.fit_window(&sims, pb.settings.fit_days, pb.observed.days));
    // Quasi-likelihood: a discrepancy above one per summary widens the intervals in proportion.
    let overdispersion = (fit.discrepancy / fit.summaries.max(1) as f64).max(1.0);
    let df = fresh.len().saturating_sub(1);
    let t = crate::experiment::stats::t_quantile(df).unwrap_or(f64::INFINITY);
    let base_threshold = t * t * overdispersion;
    let variance_ratios = {
        let days = pb.settings.fit_days;
        let at = |u: &[f64]| memo.summaries_at(u, days);
        let x0 = at(&u_best);
        let xs: Vec<Vec<Vec<f64>>> = stepped.iter().map(|u| at(u)).collect();
        let xf = pb.summaries(&pb.sims(&fresh), 0, days).1;
        let l = memo.weight.borrow().clone();
        l.or_else(|| cholesky(&moments(&x0).1))
            .and_then(|l| sandwich_ratios(&x0, &xs, &steps, &xf, &l))
    };
    let mut warnings = Vec::new();
    if variance_ratios.is_none() {
        warnings.push(
            "the simulated summaries do not move with the fitted keys at the estimate: the intervals are the profile's alone, not checked against fresh simulated worlds".to_string(),
        );
    }
    let mut estimates = Vec::with_capacity(d);
    for (i, p) in pb.params.iter().enumerate() {
        let span = p.hi - p.lo;
        let variance_ratio = variance_ratios.as_ref().map_or(1.0, |c| c[i]);
        let threshold = base_threshold * variance_ratio;
        let rise: Vec<(f64, f64)> = profiles[i].iter().map(|&(x, v)| (x, v - f_best)).collect();
        let below: Vec<(f64, f64)> = rise
            .iter()
            .rev()
            .filter(|(x, _)| *x < u_best[i])
            .copied()
            .collect();
        let above: Vec<(f64, f64)> = rise
            .iter()
            .filter(|(x, _)| *x > u_best[i])
            .copied()
            .collect();
        let lo_u = crossing(u_best[i], &below, 0.0, threshold);
        let hi_u = crossing(u_best[i], &above, 1.0, threshold);
        let at_bounds = (rise[0].1, rise[rise.len() - 1].1);
        // Not identifiable: the profile stays below the threshold at both bounds, or the
        // interval keeps most of the range (simulation noise can lift a flat profile above the
        // threshold here and there).
        let identifiable =
            !(at_bounds.0 < threshold && at_bounds.1 < threshold) && hi_u - lo_u < FLAT_SHARE;
        if !identifiable {
            warnings.push(format!(
                "{}: the objective is flat over most of the range {}..{} (the 95% interval keeps {:.0}% of it; the profile rises by {:.2} and {:.2} at the bounds, threshold {threshold:.2}): the data do not identify this parameter",
                p.path, p.lo, p.hi, (hi_u - lo_u) * 100.0, at_bounds.0, at_bounds.1
            ));
        } else if u_best[i] <= 1e-3 || u_best[i] >= 1.0 - 1e-3 {
            warnings.push(format!(
                "{}: the estimate is at a bound of its range {}..{}; widen the range",
                p.path, p.lo, p.hi
            ));
        }
        let ci95 = (p.lo + lo_u * span, p.lo + hi_u * span);
        let interior = lo_u > 0.0 && hi_u < 1.0;
        estimates.push(Estimate {
            param: p.clone(),
            start: start[i],
            estimate: theta[i],
            std_error: interior.then(|| (ci95.1 - ci95.0) / (2.0 * t)),
            ci95,
            identifiable,
            rise_at_bounds: at_bounds,
            variance_ratio,
            threshold,
            profile: profiles[i]
                .iter()
                .map(|&(x, v)| (p.lo + x * span, v - f_best))
                .collect(),
        });
    }
    if overdispersion > 2.0 {
        warnings.push(format!(
            "the fit window's discrepancy is {overdispersion:.1} per summary (about 1 when the model fits): the model misses something the data show; the intervals are widened by that factor, but check the fit charts"
        ));
    }
    // The fresh worlds count as one evaluation.
    let evaluations = memo.cache.borrow().len() + 1;
    let n = fit.summaries;
    Ok(Calibration {
        estimates,
        objective: f_best,
        summaries: fit.summaries,
        evaluations,
        optimiser_status: status,
        fit,
        holdout,
        warnings,
        replications: reps,
        seed: pb.settings.seed,
        settings_replications: pb.settings.replications,
        block_days: pb.settings.block_days,
        shrinkage: shrinkage(n, pb.settings.replications as usize),
        overdispersion,
        evaluations_fit,
        fresh_worlds: fresh.len(),
        base_threshold,
    })
}

/// The starting values: the scenario's value at each path if it is a number inside the range,
/// otherwise the middle of the range.
pub fn start_values(table: &toml::Table, params: &[FitParam]) -> Vec<f64> {
    params
        .iter()
        .map(|p| {
            let mut v: Option<&toml::Value> = None;
            let mut cur: Option<&toml::Table> = Some(table);
            for seg in p.path.split('.') {
                v = cur.and_then(|t| t.get(seg));
                cur = v.and_then(|x| x.as_table());
            }
            let x = v.and_then(|x| x.as_float().or_else(|| x.as_integer().map(|i| i as f64)));
            match x {
                Some(x) if x >= p.lo && x <= p.hi => x,
                _ => 0.5 * (p.lo + p.hi),
            }
        })
        .collect()
}

/// The `calibration.json` document (docs/schema/calibration.schema.json), typed; its fields
/// serialize in this order. Statistics are floats to six significant digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationDoc {
    pub scenario: String,
    pub scenario_file: String,
    pub observed_file: String,
    pub metrics: Vec<String>,
    pub seed: u64,
    pub replications: u32,
    pub common_random_numbers: bool,
    pub method: MethodDoc,
    /// By scenario path, in the order fitted.
    #[serde(with = "crate::experiment::summary::ordered_map")]
    pub parameters: Vec<(String, ParameterDoc)>,
    pub objective: ObjectiveDoc,
    pub fit: WindowDoc,
    pub holdout: Option<WindowDoc>,
    pub warnings: Vec<String>,
}

/// How the fit was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MethodDoc {
    pub objective: String,
    pub block_days: u32,
    pub shrinkage: f64,
    pub optimiser: String,
    pub interval: String,
    /// Fresh simulated worlds at the estimate whose spread sets the intervals' variance.
    pub fresh_worlds: usize,
}

/// One fitted parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParameterDoc {
    pub estimate: f64,
    pub ci95: (f64, f64),
    pub std_error: Option<f64>,
    pub bounds: (f64, f64),
    pub start: f64,
    pub identifiable: bool,
    /// The estimate's variance over fresh worlds against the one the profile implies.
    pub variance_ratio: f64,
    /// The profile's rise at the interval's ends: `t² · overdispersion · variance_ratio`.
    pub profile_threshold: f64,
    pub profile: Vec<ProfilePoint>,
}

/// A point of a parameter's likelihood profile: the value and the objective's rise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    pub value: f64,
    pub rise: f64,
}

/// The objective at the estimate and the optimiser's effort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveDoc {
    pub value: f64,
    pub summaries: usize,
    pub evaluations: usize,
    pub evaluations_fit: usize,
    pub overdispersion: f64,
    pub profile_threshold: f64,
    pub optimiser_status: String,
}

/// The fit of one window (the fit window or the hold-out).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowDoc {
    pub first_date: String,
    pub last_date: String,
    pub days: u32,
    pub objective: f64,
    pub discrepancy: f64,
    pub summaries: usize,
    pub discrepancy_per_summary: f64,
    /// By metric, in the observed file's order.
    #[serde(with = "crate::experiment::summary::ordered_map")]
    pub metrics: Vec<(String, WindowMetric)>,
}

/// One metric of a window: observed against simulated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowMetric {
    pub observed_total: f64,
    pub simulated_median: f64,
    pub simulated_p5: f64,
    pub simulated_p95: f64,
    pub relative_error: Option<f64>,
    pub days_in_band: f64,
}

fn window_doc(sc: &Scenario, w: &WindowFit) -> WindowDoc {
    let date = |d: u32| {
        sc.calendar
            .date(crate::time::SimTime::start_of_day(d))
            .to_string()
    };
    WindowDoc {
        first_date: date(w.first_day),
        last_date: date(w.first_day + w.days - 1),
        days: w.days,
        objective: sig(w.objective),
        discrepancy: sig(w.discrepancy),
        summaries: w.summaries,
        discrepancy_per_summary: sig(w.discrepancy / (w.summaries.max(1) as f64)),
        metrics: w
            .metrics
            .iter()
            .map(|m| {
                (
                    m.metric.name().to_string(),
                    WindowMetric {
                        observed_total: sig(m.observed_total),
                        simulated_median: sig(m.simulated_median),
                        simulated_p5: sig(m.simulated_p5),
                        simulated_p95: sig(m.simulated_p95),
                        relative_error: m.relative_error.map(sig),
                        days_in_band: sig(m.days_in_band),
                    },
                )
            })
            .collect(),
    }
}

/// The `calibration.json` document (docs/schema/calibration.schema.json).
pub fn calibration_doc(sc: &Scenario, obs: &Observed, c: &Calibration) -> CalibrationDoc {
    CalibrationDoc {
        scenario: sc.name.clone(),
        scenario_file: sc.file.clone(),
        observed_file: obs.file.clone(),
        metrics: obs.metrics.iter().map(|m| m.name().to_string()).collect(),
        seed: c.seed,
        replications: c.settings_replications,
        common_random_numbers: true,
        method: MethodDoc {
            objective: "gaussian-synthetic-likelihood".into(),
            block_days: c.block_days,
            shrinkage: sig(c.shrinkage),
            optimiser: "cobyla".into(),
            interval: "profile-likelihood-sandwich".into(),
            fresh_worlds: c.fresh_worlds,
        },
        parameters: c
            .estimates
            .iter()
            .map(|e| {
                (
                    e.param.path.clone(),
                    ParameterDoc {
                        estimate: sig(e.estimate),
                        ci95: (sig(e.ci95.0), sig(e.ci95.1)),
                        std_error: e.std_error.map(sig),
                        bounds: (e.param.lo, e.param.hi),
                        start: sig(e.start),
                        identifiable: e.identifiable,
                        variance_ratio: sig(e.variance_ratio),
                        profile_threshold: sig(e.threshold),
                        profile: e
                            .profile
                            .iter()
                            .map(|(x, r)| ProfilePoint {
                                value: sig(*x),
                                rise: sig(*r),
                            })
                            .collect(),
                    },
                )
            })
            .collect(),
        objective: ObjectiveDoc {
            value: sig(c.objective),
            summaries: c.summaries,
            evaluations: c.evaluations,
            evaluations_fit: c.evaluations_fit,
            overdispersion: sig(c.overdispersion),
            profile_threshold: sig(c.base_threshold),
            optimiser_status: c.optimiser_status.clone(),
        },
        fit: window_doc(sc, &c.fit),
        holdout: c.holdout.as_ref().map(|w| window_doc(sc, w)),
        warnings: c.warnings.clone(),
    }
}

/// The scenario text with the fitted values written in, comments and layout kept (`toml_edit`);
/// a value that had no comment gets one naming its interval.
pub fn write_back(src: &str, estimates: &[Estimate]) -> Result<String, WriteBackError> {
    let mut doc: toml_edit::DocumentMut = src.parse()?;
    for e in estimates {
        let segs: Vec<&str> = e.param.path.split('.').collect();
        write_in(doc.as_table_mut(), &segs, e)?;
    }
    Ok(doc.to_string())
}

fn write_in(
    t: &mut dyn toml_edit::TableLike,
    segs: &[&str],
    e: &Estimate,
) -> Result<(), WriteBackError> {
    use toml_edit::Item;
    let path = &e.param.path;
    let Some((seg, rest)) = segs.split_first() else {
        return Err(WriteBackError::Empty(path.clone()));
    };
    if rest.is_empty() {
        set_item(t.entry(seg).or_insert(Item::None), e);
        return Ok(());
    }
    let it = t.entry(seg).or_insert(toml_edit::table());
    if it.is_none() {
        *it = toml_edit::table();
    }
    if let Some(aot) = it.as_array_of_tables_mut() {
        let (key, rest) = rest
            .split_first()
            .ok_or_else(|| WriteBackError::Array(path.clone()))?;
        let idx = match key.parse::<usize>() {
            Ok(i) if i < aot.len() => i,
            _ => aot
                .iter()
                .position(|x| x.get("id").and_then(|v| v.as_str()) == Some(*key))
                .ok_or_else(|| WriteBackError::NoEntry {
                    path: path.clone(),
                    key: (*key).to_string(),
                })?,
        };
        let tt = aot.get_mut(idx).ok_or_else(|| WriteBackError::NoEntry {
            path: path.clone(),
            key: (*key).to_string(),
        })?;
        return write_in(tt, rest, e);
    }
    match it.as_table_like_mut() {
        Some(tl) => write_in(tl, rest, e),
        None => Err(WriteBackError::NotATable {
            path: path.clone(),
            seg: (*seg).to_string(),
        }),
    }
}

fn set_item(item: &mut toml_edit::Item, e: &Estimate) {
    let note = format!(
        " # fitted by affsim calibrate: 95% CI {}..{}",
        sig(e.ci95.0),
        sig(e.ci95.1)
    );
    let mut v = toml_edit::Value::from(sig(e.estimate));
    match item.as_value() {
        Some(old) => {
            let decor = old.decor().clone();
            let has_comment = decor
                .suffix()
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.contains('#'));
            *v.decor_mut() = decor;
            if !has_comment {
                v.decor_mut().set_suffix(note);
            }
        }
        None => v.decor_mut().set_suffix(note),
    }
    *item = toml_edit::Item::Value(v);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_arguments_parse_with_bounds() {
        let p = parse_fit("behaviour.buyers.conversion_rate=0.001..0.01").unwrap();
        assert_eq!((p.lo, p.hi), (0.001, 0.01));
        assert!(parse_fit("a.b=2..1").is_err());
        assert!(parse_fit("a.b=1").is_err());
        assert!(parse_fit("=1..2").is_err());
    }

    #[test]
    fn the_synthetic_likelihood_is_lowest_at_the_simulated_mean() {
        let x: Vec<Vec<f64>> = (0..8)
            .map(|r| vec![100.0 + r as f64, 50.0 - r as f64])
            .collect();
        let at_mean = synthetic_nll(&[103.5, 46.5], &x);
        let off = synthetic_nll(&[120.0, 46.5], &x);
        assert!(off > at_mean + 10.0, "{at_mean} {off}");
    }

    /// Simulated summaries: `r` worlds, each a level `1 + a·z` (z ∈ ±1, alternating) times
    /// `base`, plus a small wobble so that the covariance is not singular.
    fn worlds(r: usize, a: f64, base: &[f64], shift: usize) -> Vec<Vec<f64>> {
        (0..r)
            .map(|k| {
                let z = if (k + shift).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                };
                base.iter()
                    .enumerate()
                    .map(|(j, b)| b * (1.0 + a * z) + ((k * 7 + j * 3) % 5) as f64)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn the_variance_ratio_is_one_when_fresh_worlds_spread_as_the_shared_ones() {
        let base = [300.0, 320.0, 90.0, 95.0];
        let x0 = worlds(10, 0.2, &base, 0);
        // One parameter scales every summary by 10% per unit step.
        let up: Vec<f64> = base.iter().map(|b| b * 1.1).collect();
        let xs = vec![worlds(10, 0.2, &up, 0)];
        let (_, sigma) = moments(&x0);
        let l = cholesky(&sigma).unwrap();
        let same = sandwich_ratios(&x0, &xs, &[1.0], &worlds(10, 0.2, &base, 1), &l).unwrap();
        assert!((same[0] - 1.0).abs() < 0.1, "{same:?}");
        // Fresh worlds twice as spread: the estimate's variance is about four times the
        // profile's.
        let wide = sandwich_ratios(&x0, &xs, &[1.0], &worlds(10, 0.4, &base, 1), &l).unwrap();
        assert!(wide[0] > 3.0 && wide[0] < 4.5, "{wide:?}");
        // Summaries that do not move with the parameter: no ratio.
        let flat = sandwich_ratios(&x0, std::slice::from_ref(&x0), &[1.0], &x0, &l);
        assert!(flat.is_none());
    }

    #[test]
    fn write_back_keeps_comments_and_adds_missing_keys() {
        let src = "# top\n[behaviour.creators]\nactions_per_day = 0.4 # per day\n\n[[sellers]]\nid = \"a\"\n";
        let est = |path: &str, v: f64| Estimate {
            param: FitParam {
                path: path.into(),
                lo: 0.0,
                hi: 1.0,
            },
            start: 0.5,
            estimate: v,
            std_error: None,
            ci95: (0.1, 0.9),
            identifiable: true,
            rise_at_bounds: (9.0, 9.0),
            variance_ratio: 1.0,
            threshold: 4.5,
            profile: Vec::new(),
        };
        let out = write_back(
            src,
            &[
                est("behaviour.creators.actions_per_day", 0.25),
                est("behaviour.buyers.conversion_rate", 0.004),
                est("sellers.a.popularity", 0.5),
            ],
        )
        .unwrap();
        assert!(out.starts_with("# top\n"), "{out}");
        assert!(out.contains("actions_per_day = 0.25 # per day"), "{out}");
        assert!(
            out.contains("conversion_rate = 0.004 # fitted by affsim calibrate: 95% CI 0.1..0.9"),
            "{out}"
        );
        assert!(out.contains("popularity = 0.5"), "{out}");
        let t: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(
            t["behaviour"]["buyers"]["conversion_rate"].as_float(),
            Some(0.004)
        );
    }
}
