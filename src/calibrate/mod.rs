//! Calibration (`affsim calibrate`): fits scenario keys to an observed history by simulated
//! likelihood, with common random numbers, a bounded derivative-free optimiser and intervals.
//!
//! **Objective.** The observed days of the fit window are cut into blocks of `block_days`; the
//! summaries are each observed metric's sum over each block. For a candidate θ the scenario is
//! run `R` times with the same replication streams (seed, i) for every candidate (common random
//! numbers: the objective is a smooth-ish, deterministic function of θ), giving the summaries'
//! mean μ(θ) and covariance S(θ) across replications. The objective is the Gaussian synthetic
//! likelihood (Wood 2010), as −2 log L:
//!
//! `D(θ) = rᵀ Σ⁻¹ r + ln det Σ`, `r = y − μ(θ)`,
//! `Σ = (1 + 1/R) · ((1 − λ) S + λ diag S) + diag(1 + (0.02 μ)²)`
//!
//! with shrinkage `λ = n / (n + R)` for `n` summaries (so Σ is positive definite even when
//! `R < n`), the `1 + 1/R` factor for the simulation noise in μ, and a floor of 2% of the level
//! (model error; it also keeps a summary that never varies from dominating).
//!
//! **Optimiser.** COBYLA (the `cobyla` crate, a translation of NLopt's) on the parameters
//! scaled to [0, 1], bounds enforced by the optimiser and by clamping; deterministic.
//!
//! **Intervals.** The curvature of D at the estimate (a finite-difference Hessian, step 5% of
//! each range) gives a Wald interval `estimate ± 1.96 se` with `Cov = 2 H⁻¹`, which accounts
//! for correlation between parameters; it is clipped to the bounds. Then D is evaluated at each
//! bound of each parameter (the others at their estimates): a bound the data cannot reject
//! (`D(bound) − D(θ̂) < 3.84`, the 95% χ²₁ point) widens the interval to that bound, and a
//! parameter whose two bounds are both within 3.84 is reported as not identifiable.
//!
//! Parameters are addressed like `affsim sweep --set` (see [`set_value`]).

pub mod observed;

use std::cell::RefCell;
use std::sync::Arc;

use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use crate::experiment::{self, RunConfig};
use crate::metrics::Metric;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{Replication, RunError, RunOptions};

pub use observed::Observed;

/// The 95% point of χ² with one degree of freedom.
pub const CHI2_95: f64 = 3.841_458_820_694_124;

/// A parameter to fit: a scenario key path and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct FitParam {
    pub path: String,
    pub lo: f64,
    pub hi: f64,
}

/// Parses `path=LO..HI` from the command line.
pub fn parse_fit(s: &str) -> Result<FitParam, String> {
    let bad = || format!("--fit `{s}`: expected path=LO..HI, e.g. behaviour.buyers.conversion_rate=0.001..0.01");
    let (path, range) = s.split_once('=').ok_or_else(bad)?;
    let (lo, hi) = range.split_once("..").ok_or_else(bad)?;
    let lo: f64 = lo.trim().parse().map_err(|_| bad())?;
    let hi: f64 = hi.trim().parse().map_err(|_| bad())?;
    let path = path.trim();
    if path.is_empty() || !lo.is_finite() || !hi.is_finite() {
        return Err(bad());
    }
    if lo >= hi {
        return Err(format!("--fit `{s}`: the lower bound must be below the upper bound"));
    }
    Ok(FitParam {
        path: path.to_string(),
        lo,
        hi,
    })
}

/// Sets one fitted value in the scenario table, by the key paths of `affsim sweep --set`.
/// The one place calibration touches the path syntax (the coordinator can adapt it).
pub fn set_value(table: &mut toml::Table, path: &str, value: f64) -> Result<(), String> {
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

/// Why a calibration could not be done.
#[derive(Debug)]
pub enum CalError {
    /// Bad arguments or files (exit 2).
    Setup(String),
    /// The scenario with some candidate values is invalid.
    Invalid {
        at: String,
        errors: Vec<ScenarioError>,
    },
    Run(RunError),
}

impl std::fmt::Display for CalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalError::Setup(m) => f.write_str(m),
            CalError::Invalid { at, errors } => {
                write!(f, "the scenario is not valid with {at}:")?;
                for e in errors {
                    write!(f, "\n{e}")?;
                }
                Ok(())
            }
            CalError::Run(e) => write!(f, "{e}"),
        }
    }
}

impl From<RunError> for CalError {
    fn from(e: RunError) -> Self {
        CalError::Run(e)
    }
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
    /// D at the lower and upper bound (others at their estimates), minus D at the estimate.
    pub rise_at_bounds: (f64, f64),
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
        let mut table: toml::Table = toml::from_str(src)
            .map_err(|e| CalError::Setup(format!("{file}: {}", e.message())))?;
        table.remove("sweep");
        if params.is_empty() {
            return Err(CalError::Setup(
                "nothing to fit: give --fit path=LO..HI".into(),
            ));
        }
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.path == p.path) {
                return Err(CalError::Setup(format!("--fit {} is given twice", p.path)));
            }
        }
        if settings.replications < 2 {
            return Err(CalError::Setup(
                "--replications must be at least 2: the objective needs the spread across replications".into(),
            ));
        }
        if settings.block_days == 0 {
            return Err(CalError::Setup("--block-days must be at least 1".into()));
        }
        if settings.fit_days == 0 || settings.fit_days > observed.days {
            return Err(CalError::Setup(format!(
                "the fit window must hold between 1 and {} observed days, not {}",
                observed.days, settings.fit_days
            )));
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
            set_value(&mut t, &p.path, *v)
                .map_err(|e| CalError::Setup(format!("--fit {e}")))?;
        }
        let text = toml::to_string(&t).map_err(|e| CalError::Setup(e.to_string()))?;
        let label = self.label(theta);
        scenario::parse(&format!("{} [{label}]", self.file), &text)
            .map_err(|errors| CalError::Invalid { at: label, errors })
    }

    /// Runs the replications at `theta` (common random numbers: the same seed and indices for
    /// every candidate).
    pub fn simulate(&self, theta: &[f64]) -> Result<Vec<Replication>, CalError> {
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
        };
        Ok(experiment::run(&sc, &cfg)?.replications)
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

    /// The objective over observed days `a..b`, its discrepancy term and the number of
    /// summaries.
    fn objective(&self, sims: &Sims, a: u32, b: u32) -> (f64, f64, usize) {
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
    let rf = r as f64;
    let mu: Vec<f64> = (0..n)
        .map(|j| x.iter().map(|s| s[j]).sum::<f64>() / rf)
        .collect();
    let lambda = n as f64 / (n as f64 + rf);
    let mut sigma = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let c = x
                .iter()
                .map(|s| (s[i] - mu[i]) * (s[j] - mu[j]))
                .sum::<f64>()
                / (rf - 1.0);
            let shrunk = if i == j { c } else { (1.0 - lambda) * c };
            let v = (1.0 + 1.0 / rf) * shrunk;
            sigma[i][j] = v;
            sigma[j][i] = v;
        }
        sigma[i][i] += 1.0 + (0.02 * mu[i]).powi(2);
    }
    let resid: Vec<f64> = y.iter().zip(&mu).map(|(a, b)| a - b).collect();
    match cholesky(&sigma) {
        Some(l) => {
            // Solve L z = r; rᵀ Σ⁻¹ r = |z|²; ln det Σ = 2 Σ ln L_ii.
            let mut z = vec![0.0; n];
            for i in 0..n {
                let s: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
                z[i] = (resid[i] - s) / l[i][i];
            }
            (
                z.iter().map(|v| v * v).sum::<f64>(),
                2.0 * (0..n).map(|i| l[i][i].ln()).sum::<f64>(),
            )
        }
        None => (
            (0..n).map(|i| resid[i].powi(2) / sigma[i][i]).sum(),
            (0..n).map(|i| sigma[i][i].ln()).sum(),
        ),
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

/// The inverse of a small symmetric positive-definite matrix, or `None`.
fn spd_inverse(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let l = cholesky(a)?;
    let mut inv = vec![vec![0.0; n]; n];
    for c in 0..n {
        // Solve L y = e_c, then Lᵀ x = y.
        let mut y = vec![0.0; n];
        for i in 0..n {
            let e = if i == c { 1.0 } else { 0.0 };
            let s: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
            y[i] = (e - s) / l[i][i];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
            x[i] = (y[i] - s) / l[i][i];
        }
        for i in 0..n {
            inv[i][c] = x[i];
        }
    }
    Some(inv)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
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
                self.pb.objective(&sims, 0, self.pb.settings.fit_days).0
            }
            Err(e) => {
                *self.error.borrow_mut() = Some(e);
                f64::MAX
            }
        };
        self.cache.borrow_mut().push((u, v));
        v
    }
    fn check(&self) -> Result<(), CalError> {
        match self.error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Replications a calibration runs at most: for the progress bar.
pub fn planned_evaluations(params: usize, max_evals: usize) -> usize {
    // optimiser + Hessian (2d + 2d(d−1)) + bounds (2d) + the final run
    max_evals + 2 * params + 2 * params * params.saturating_sub(1) + 2 * params + 1
}

/// Fits the parameters: optimiser, intervals, fit and hold-out diagnostics.
pub fn calibrate(pb: &Problem<'_>, start: &[f64]) -> Result<Calibration, CalError> {
    let d = pb.params.len();
    let memo = Memo {
        pb,
        cache: RefCell::new(Vec::new()),
        error: RefCell::new(None),
    };
    let u0: Vec<f64> = pb
        .params
        .iter()
        .zip(start)
        .map(|(p, s)| ((s - p.lo) / (p.hi - p.lo)).clamp(0.0, 1.0))
        .collect();
    let bounds = vec![(0.0, 1.0); d];
    let no_cons: Vec<&dyn cobyla::Func<()>> = Vec::new();
    let result = cobyla::minimize(
        |u: &[f64], _: &mut ()| memo.eval(u),
        &u0,
        &bounds,
        &no_cons,
        (),
        pb.settings.max_evals.max(d + 2),
        cobyla::RhoBeg::All(0.2),
        Some(cobyla::StopTols {
            xtol_abs: vec![2e-3; d],
            ..Default::default()
        }),
    );
    memo.check()?;
    let (status, _, _) = match result {
        Ok((s, x, f)) => (format!("{s:?}"), x, f),
        Err((s, x, f)) => (format!("{s:?}"), x, f),
    };
    // The best point evaluated (COBYLA's answer is one of them).
    let (u_best, f_best) = memo
        .cache
        .borrow()
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .cloned()
        .unwrap_or((u0.clone(), f64::MAX));
    let evaluations = memo.cache.borrow().len();

    // Hessian of D in scaled coordinates, around a centre kept h inside the box.
    let h = 0.05;
    let c: Vec<f64> = u_best.iter().map(|x| x.clamp(h, 1.0 - h)).collect();
    let at = |moves: &[(usize, f64)]| {
        let mut u = c.clone();
        for &(i, s) in moves {
            u[i] += s;
        }
        memo.eval(&u)
    };
    let f0 = at(&[]);
    let mut hess = vec![vec![0.0; d]; d];
    for i in 0..d {
        hess[i][i] = (at(&[(i, h)]) - 2.0 * f0 + at(&[(i, -h)])) / (h * h);
        for j in 0..i {
            let v = (at(&[(i, h), (j, h)]) - at(&[(i, h), (j, -h)]) - at(&[(i, -h), (j, h)])
                + at(&[(i, -h), (j, -h)]))
                / (4.0 * h * h);
            hess[i][j] = v;
            hess[j][i] = v;
        }
    }
    memo.check()?;
    let cov = spd_inverse(&hess).map(|inv| {
        inv.iter()
            .map(|row| row.iter().map(|v| 2.0 * v).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    });
    let mut warnings = Vec::new();
    if cov.is_none() {
        warnings.push(
            "the objective is not curved upwards at the estimate (its Hessian is not positive definite): the intervals are the whole ranges; try more replications, a longer history or fewer parameters".to_string(),
        );
    }
    let theta = pb.theta(&u_best);
    let mut estimates = Vec::with_capacity(d);
    for (i, p) in pb.params.iter().enumerate() {
        let span = p.hi - p.lo;
        let mut lo_u = u_best.clone();
        lo_u[i] = 0.0;
        let mut hi_u = u_best.clone();
        hi_u[i] = 1.0;
        let rise = (memo.eval(&lo_u) - f_best, memo.eval(&hi_u) - f_best);
        let se_u = cov
            .as_ref()
            .and_then(|c| (c[i][i] > 0.0).then(|| c[i][i].sqrt()));
        let (mut lo, mut hi) = match se_u {
            Some(s) => (
                (theta[i] - 1.96 * s * span).max(p.lo),
                (theta[i] + 1.96 * s * span).min(p.hi),
            ),
            None => (p.lo, p.hi),
        };
        if rise.0 < CHI2_95 {
            lo = p.lo;
        }
        if rise.1 < CHI2_95 {
            hi = p.hi;
        }
        let identifiable = !(rise.0 < CHI2_95 && rise.1 < CHI2_95);
        if !identifiable {
            warnings.push(format!(
                "{}: the objective is flat over the whole range {}..{} (it rises by {:.2} and {:.2} at the bounds, less than {CHI2_95:.2}): the data do not identify this parameter",
                p.path, p.lo, p.hi, rise.0, rise.1
            ));
        } else if u_best[i] <= 1e-3 || u_best[i] >= 1.0 - 1e-3 {
            warnings.push(format!(
                "{}: the estimate is at a bound of its range {}..{}; widen the range",
                p.path, p.lo, p.hi
            ));
        }
        estimates.push(Estimate {
            param: p.clone(),
            start: start[i],
            estimate: theta[i],
            std_error: se_u.map(|s| s * span),
            ci95: (lo, hi),
            identifiable,
            rise_at_bounds: rise,
        });
    }
    memo.check()?;
    let reps = pb.simulate(&theta)?;
    let sims = pb.sims(&reps);
    let fit = pb.fit_window(&sims, 0, pb.settings.fit_days);
    let holdout = (pb.settings.fit_days < pb.observed.days)
        .then(|| pb.fit_window(&sims, pb.settings.fit_days, pb.observed.days));
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
        shrinkage: {
            let n = pb.objective(&sims, 0, pb.settings.fit_days).2 as f64;
            n / (n + f64::from(pb.settings.replications))
        },
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

fn window_json(sc: &Scenario, w: &WindowFit) -> Value {
    let date = |d: u32| {
        sc.calendar
            .date(crate::time::SimTime::start_of_day(d))
            .to_string()
    };
    let mut metrics = Map::new();
    for m in &w.metrics {
        metrics.insert(
            m.metric.name().to_string(),
            json!({
                "observed_total": sig(m.observed_total),
                "simulated_median": sig(m.simulated_median),
                "simulated_p5": sig(m.simulated_p5),
                "simulated_p95": sig(m.simulated_p95),
                "relative_error": m.relative_error.map(sig),
                "days_in_band": sig(m.days_in_band),
            }),
        );
    }
    json!({
        "first_date": date(w.first_day),
        "last_date": date(w.first_day + w.days - 1),
        "days": w.days,
        "objective": sig(w.objective),
        "discrepancy": sig(w.discrepancy),
        "summaries": w.summaries,
        "discrepancy_per_summary": sig(w.discrepancy / (w.summaries.max(1) as f64)),
        "metrics": Value::Object(metrics),
    })
}

/// The `calibration.json` document (docs/schema/calibration.schema.json).
pub fn calibration_json(sc: &Scenario, obs: &Observed, c: &Calibration) -> Value {
    let mut params = Map::new();
    for e in &c.estimates {
        params.insert(
            e.param.path.clone(),
            json!({
                "estimate": sig(e.estimate),
                "ci95": [sig(e.ci95.0), sig(e.ci95.1)],
                "std_error": e.std_error.map(sig),
                "bounds": [e.param.lo, e.param.hi],
                "start": sig(e.start),
                "identifiable": e.identifiable,
                "objective_rise_at_bounds": [sig(e.rise_at_bounds.0), sig(e.rise_at_bounds.1)],
            }),
        );
    }
    json!({
        "scenario": sc.name,
        "scenario_file": sc.file,
        "observed_file": obs.file,
        "metrics": obs.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
        "seed": c.seed,
        "replications": c.settings_replications,
        "common_random_numbers": true,
        "method": {
            "objective": "gaussian-synthetic-likelihood",
            "block_days": c.block_days,
            "shrinkage": sig(c.shrinkage),
            "optimiser": "cobyla",
            "interval": "wald-hessian-with-bound-check",
        },
        "parameters": Value::Object(params),
        "objective": {
            "value": sig(c.objective),
            "summaries": c.summaries,
            "evaluations": c.evaluations,
            "optimiser_status": c.optimiser_status,
        },
        "fit": window_json(sc, &c.fit),
        "holdout": c.holdout.as_ref().map(|w| window_json(sc, w)),
        "warnings": c.warnings,
    })
}

/// The scenario text with the fitted values written in, comments and layout kept (`toml_edit`);
/// a value that had no comment gets one naming its interval.
pub fn write_back(src: &str, estimates: &[Estimate]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = src.parse().map_err(|e| format!("{e}"))?;
    for e in estimates {
        let segs: Vec<&str> = e.param.path.split('.').collect();
        write_in(doc.as_table_mut(), &segs, e)?;
    }
    Ok(doc.to_string())
}

fn write_in(t: &mut dyn toml_edit::TableLike, segs: &[&str], e: &Estimate) -> Result<(), String> {
    use toml_edit::Item;
    let path = &e.param.path;
    let Some((seg, rest)) = segs.split_first() else {
        return Err(format!("`{path}`: empty path"));
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
        let (key, rest) = rest.split_first().ok_or_else(|| format!("`{path}`: names an array"))?;
        let idx = match key.parse::<usize>() {
            Ok(i) if i < aot.len() => i,
            _ => aot
                .iter()
                .position(|x| x.get("id").and_then(|v| v.as_str()) == Some(*key))
                .ok_or_else(|| format!("`{path}`: no entry with id or index `{key}`"))?,
        };
        let tt = aot
            .get_mut(idx)
            .ok_or_else(|| format!("`{path}`: no entry `{key}`"))?;
        return write_in(tt, rest, e);
    }
    match it.as_table_like_mut() {
        Some(tl) => write_in(tl, rest, e),
        None => Err(format!("`{path}`: `{seg}` is not a table")),
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
        let x: Vec<Vec<f64>> = (0..8).map(|r| vec![100.0 + r as f64, 50.0 - r as f64]).collect();
        let at_mean = synthetic_nll(&[103.5, 46.5], &x);
        let off = synthetic_nll(&[120.0, 46.5], &x);
        assert!(off > at_mean + 10.0, "{at_mean} {off}");
    }

    #[test]
    fn spd_inverse_inverts() {
        let a = vec![vec![4.0, 1.0], vec![1.0, 3.0]];
        let inv = spd_inverse(&a).unwrap();
        let det = 11.0;
        assert!((inv[0][0] - 3.0 / det).abs() < 1e-12);
        assert!((inv[0][1] + 1.0 / det).abs() < 1e-12);
        assert!(spd_inverse(&[vec![-1.0]]).is_none());
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
        assert!(out.contains("conversion_rate = 0.004 # fitted by affsim calibrate: 95% CI 0.1..0.9"), "{out}");
        assert!(out.contains("popularity = 0.5"), "{out}");
        let t: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(t["behaviour"]["buyers"]["conversion_rate"].as_float(), Some(0.004));
    }
}
