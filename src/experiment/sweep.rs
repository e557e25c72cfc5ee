//! Sweeps: a scenario run over named arms and/or a grid of settings, every arm with the same
//! random streams per replication (common random numbers), so differences against the baseline
//! arm are paired.
//!
//! A setting is a path into the scenario file — `behaviour.plus.join_probability`, or through
//! an array of tables by `id` (`plus_campaigns.glow-task.reward`) or by index
//! (`open_plans.0.rate`) — and a TOML value. Arms come from `[[sweep.arms]]` (a name and a
//! table of settings) crossed with the grid of `[[sweep.parameters]]` and `--set` (the
//! cartesian product of their values); the first arm — the first named arm with the first value
//! of each parameter — is the baseline. Every setting is checked on its own before anything runs
//! (an error points at the file's key or the `--set` argument), then every arm is validated like
//! any scenario.

use std::ops::Range;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::experiment::summary::{Figure, estimate, figures, unit_name, value};
use crate::experiment::{self, RunConfig, shard};
use crate::metrics::Unit;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{Replication, RunError};

/// The most arms a sweep may have.
pub const MAX_ARMS: usize = 1000;

/// Where a setting was written: a `--set` argument, or a byte span of the scenario file.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Arg(String),
    File(Range<usize>),
}

/// One swept setting of the grid: a path and its values (the first is the baseline).
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub path: String,
    pub values: Vec<toml::Value>,
    /// Where each value is written (the same `--set` argument for all of them).
    pub origins: Vec<Origin>,
}

/// One arm: its name, the values it sets, and its scenario.
#[derive(Clone, Debug)]
pub struct Arm {
    /// The `[[sweep.arms]]` name, the grid's settings (`policy=budget reward=200000`), or both.
    pub name: String,
    pub settings: Vec<(String, toml::Value)>,
    pub scenario: Scenario,
}

/// Why a sweep could not be set up.
#[derive(Debug)]
pub enum SweepError {
    /// A `--set` argument is malformed or names a setting the scenario refuses.
    Setup(String),
    /// The file's `[sweep]` table is malformed or one of its settings is refused: errors at
    /// the file's line and column.
    File(Vec<ScenarioError>),
    /// An arm's settings together make an invalid scenario.
    Invalid {
        arm: String,
        settings: String,
        errors: Vec<ScenarioError>,
    },
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Setup(m) => f.write_str(m),
            SweepError::File(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            SweepError::Invalid {
                arm,
                settings,
                errors,
            } => {
                write!(
                    f,
                    "arm `{arm}` ({settings}) is not a valid scenario, though each of its settings is valid alone:"
                )?;
                for e in errors {
                    // The location would point into the generated arm, not the user's file.
                    write!(f, "\n  {}", e.message)?;
                    if let Some(r) = e.rule {
                        write!(f, " [{r}]")?;
                    }
                }
                Ok(())
            }
        }
    }
}

const SET_SYNTAX: &str =
    "expected PATH=VALUE[,VALUE…], e.g. behaviour.creators.actions_per_day=0.2,0.4";

/// Parses `path=v1,v2,…` from the command line. The values are read as one TOML array when
/// they form one (`0.2,0.4`, `"8%",'9%'`, `[1, 2]` — one list —, `{ dist = "fixed", value = 3 }`
/// — one table); otherwise each comma-separated item is read as TOML, or as a string when it is
/// a bare word (`10%`, `budget`). Numbers need no quoting even for money: a value TOML reads as
/// a number is written as its text when the scenario wants a string there.
pub fn parse_set(s: &str) -> Result<Param, String> {
    let (path, vals) = s
        .split_once('=')
        .ok_or_else(|| format!("--set `{s}`: no `=`; {SET_SYNTAX}"))?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(|seg| seg.trim().is_empty()) {
        return Err(format!(
            "--set `{s}`: `{path}` is not a path (segments separated by dots); {SET_SYNTAX}"
        ));
    }
    let values = parse_values(vals).map_err(|m| format!("--set `{s}`: {m}"))?;
    Ok(Param {
        path: path.to_string(),
        origins: vec![Origin::Arg(s.to_string()); values.len()],
        values,
    })
}

fn toml_value(text: &str) -> Result<toml::Value, String> {
    toml::from_str::<toml::Table>(&format!("x = {text}"))
        .map_err(|e| e.message().trim().to_string())
        .and_then(|mut t| t.remove("x").ok_or_else(|| "no value".to_string()))
}

fn parse_values(text: &str) -> Result<Vec<toml::Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("no value after `=`; {SET_SYNTAX}"));
    }
    if let Ok(toml::Value::Array(a)) = toml_value(&format!("[{text}]"))
        && !a.is_empty()
    {
        return Ok(a);
    }
    split_top_level(text)?
        .into_iter()
        .map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!("an empty value in `{text}`; {SET_SYNTAX}"));
            }
            match toml_value(item) {
                Ok(v) => Ok(v),
                Err(m) if item.starts_with(['[', '{', '"', '\'']) => {
                    Err(format!("value `{item}` is not valid TOML: {m}"))
                }
                Err(_) => Ok(toml::Value::String(item.to_string())),
            }
        })
        .collect()
}

/// Splits on commas outside quotes, brackets and braces.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quote.is_some() || depth != 0 {
        return Err(format!(
            "unbalanced quotes or brackets in `{text}`; {SET_SYNTAX}"
        ));
    }
    out.push(&text[start..]);
    Ok(out)
}

// ---- the [sweep] table, read with spans ----

#[derive(Deserialize)]
struct SweepFile {
    sweep: Option<SweepSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepSpec {
    #[serde(default)]
    parameters: Vec<ParamSpec>,
    #[serde(default)]
    arms: Vec<ArmSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamSpec {
    key: toml::Spanned<String>,
    values: toml::Spanned<Vec<toml::Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArmSpec {
    name: toml::Spanned<String>,
    #[serde(default)]
    set: Option<toml::Spanned<toml::Table>>,
}

/// A named arm of the file: its name and settings, each with where it is written.
struct NamedArm {
    name: String,
    settings: Vec<(String, toml::Value, Origin)>,
}

/// The span of `key` inside the `set` table at `span` (its quoted or bare spelling), else the
/// table's.
fn key_span(src: &str, span: &Range<usize>, key: &str) -> Range<usize> {
    let within = src.get(span.clone()).unwrap_or("");
    for spelled in [format!("\"{key}\""), format!("'{key}'"), key.to_string()] {
        if let Some(i) = within.find(&spelled) {
            return span.start + i..span.start + i + spelled.len();
        }
    }
    span.clone()
}

/// Reads `[[sweep.parameters]]` and `[[sweep.arms]]`, with spans.
fn file_spec(file: &str, src: &str) -> Result<(Vec<Param>, Vec<NamedArm>), SweepError> {
    let at = |span: Range<usize>, m: String| ScenarioError::at(file, src, Some(span), m, None);
    let spec: SweepFile = toml::from_str(src).map_err(|e| {
        SweepError::File(vec![ScenarioError::at(
            file,
            src,
            e.span(),
            e.message().trim().to_string(),
            None,
        )])
    })?;
    let Some(spec) = spec.sweep else {
        return Ok((Vec::new(), Vec::new()));
    };
    let mut errors = Vec::new();
    let mut params = Vec::new();
    for p in spec.parameters {
        let key = p.key.get_ref().trim().to_string();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            errors.push(at(
                p.key.span(),
                format!("sweep parameter `{key}` is not a path (segments separated by dots)"),
            ));
        }
        if p.values.get_ref().is_empty() {
            errors.push(at(
                p.values.span(),
                format!("sweep parameter `{key}` has no values"),
            ));
        }
        params.push(Param {
            path: key,
            values: p
                .values
                .get_ref()
                .iter()
                .map(|v| v.get_ref().clone())
                .collect(),
            origins: p
                .values
                .get_ref()
                .iter()
                .map(|v| Origin::File(v.span()))
                .collect(),
        });
    }
    let mut named: Vec<NamedArm> = Vec::new();
    for a in spec.arms {
        let name = a.name.get_ref().trim().to_string();
        if name.is_empty() {
            errors.push(at(a.name.span(), "an arm's name is empty".into()));
        } else if named.iter().any(|n| n.name == name) {
            errors.push(at(
                a.name.span(),
                format!("two arms are named `{name}`: arm names must be unique"),
            ));
        }
        let mut settings = Vec::new();
        if let Some(set) = &a.set {
            for (k, v) in set.get_ref() {
                let span = key_span(src, &set.span(), k);
                let within = src.get(set.span()).unwrap_or("");
                let quoted =
                    within.contains(&format!("\"{k}\"")) || within.contains(&format!("'{k}'"));
                if k.trim().is_empty() || k.split('.').any(str::is_empty) {
                    errors.push(at(
                        span.clone(),
                        format!("`{k}` is not a path (segments separated by dots)"),
                    ));
                } else if v.is_table() && !quoted {
                    // `set = { a.b = 1 }` is TOML for `{ a = { b = 1 } }`: it would replace all of `a`.
                    errors.push(at(
                        span.clone(),
                        format!(
                            "quote the path: an unquoted dotted key makes nested tables, which would replace all of `{k}`; write `\"{k}.…\" = value`"
                        ),
                    ));
                }
                settings.push((k.clone(), v.clone(), Origin::File(span)));
            }
        }
        named.push(NamedArm { name, settings });
    }
    if errors.is_empty() {
        Ok((params, named))
    } else {
        Err(SweepError::File(errors))
    }
}

/// Sets `value` at `path` in a scenario table (see the module docs for paths); missing tables
/// on the way are created.
pub fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut root = toml::Value::Table(std::mem::take(table));
    let res = set_in(&mut root, &segs, path, value);
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    res
}

fn set_in(
    v: &mut toml::Value,
    segs: &[&str],
    path: &str,
    value: toml::Value,
) -> Result<(), String> {
    let Some((seg, rest)) = segs.split_first() else {
        return Err(format!("`{path}`: empty path"));
    };
    match v {
        toml::Value::Table(t) => {
            if rest.is_empty() {
                t.insert((*seg).to_string(), value);
                return Ok(());
            }
            let next = t
                .entry((*seg).to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            set_in(next, rest, path, value)
        }
        toml::Value::Array(a) => {
            let idx = match seg.parse::<usize>() {
                Ok(n) if n < a.len() => n,
                _ => a
                    .iter()
                    .position(|x| x.get("id").and_then(|v| v.as_str()) == Some(*seg))
                    .ok_or_else(|| {
                        let ids: Vec<&str> = a
                            .iter()
                            .filter_map(|x| x.get("id").and_then(|v| v.as_str()))
                            .collect();
                        format!(
                            "no entry with id or index `{seg}` (ids: {}; indices 0–{})",
                            if ids.is_empty() {
                                "none".to_string()
                            } else {
                                ids.join(", ")
                            },
                            a.len().saturating_sub(1)
                        )
                    })?,
            };
            if rest.is_empty() {
                a[idx] = value;
                return Ok(());
            }
            set_in(&mut a[idx], rest, path, value)
        }
        _ => Err(format!(
            "`{seg}` is inside a value that is not a table or an array of tables"
        )),
    }
}

/// A setting's value as written in a label: strings bare, anything else as TOML.
fn shown(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// The base table with one setting written in, validated: `Ok` when the scenario accepts it,
/// else the first problem's message.
fn try_setting(base: &toml::Table, path: &str, value: &toml::Value) -> Result<(), String> {
    let mut t = base.clone();
    set_path(&mut t, path, value.clone())?;
    let text = toml::to_string(&t).map_err(|e| e.to_string())?;
    scenario::parse("arm", &text).map(|_| ()).map_err(|errs| {
        let e = &errs[0];
        match e.rule {
            Some(r) => format!("{} [{r}]", e.message),
            None => e.message.clone(),
        }
    })
}

/// Checks one setting on its own against the base scenario, before anything runs, and returns
/// the value to use: a number, date or boolean from `--set` where the scenario wants a string
/// (money, rates) becomes its text. An error names the argument or the file's line and column.
fn check_setting(
    file: &str,
    src: &str,
    base: &toml::Table,
    path: &str,
    value: toml::Value,
    origin: &Origin,
) -> Result<toml::Value, SweepError> {
    let Err(msg) = try_setting(base, path, &value) else {
        return Ok(value);
    };
    if matches!(origin, Origin::Arg(_)) && !value.is_str() && !value.is_table() && !value.is_array()
    {
        let text = toml::Value::String(shown(&value));
        if try_setting(base, path, &text).is_ok() {
            return Ok(text);
        }
    }
    let what = format!("`{path}` = {value}: {msg}");
    Err(match origin {
        Origin::Arg(a) => SweepError::Setup(format!("--set `{a}`: {what}")),
        Origin::File(span) => SweepError::File(vec![ScenarioError::at(
            file,
            src,
            Some(span.clone()),
            format!("sweep setting {what}"),
            None,
        )]),
    })
}

/// How many arms `params` and `named` arms give, with checked arithmetic (`None`: more than
/// `usize` can count).
pub fn arm_count(params: &[Param], named: usize) -> Option<usize> {
    params
        .iter()
        .try_fold(named.max(1), |n, p| n.checked_mul(p.values.len()))
}

/// Builds the arms of a sweep from the scenario text and extra `--set` parameters (which replace
/// a file parameter of the same path).
pub fn arms(file: &str, src: &str, extra: &[Param]) -> Result<Vec<Arm>, SweepError> {
    let mut table: toml::Table =
        toml::from_str(src).map_err(|e| SweepError::Setup(format!("{file}: {}", e.message())))?;
    let (mut params, named) = file_spec(file, src)?;
    for p in extra {
        match params.iter_mut().find(|x| x.path == p.path) {
            Some(x) => *x = p.clone(),
            None => params.push(p.clone()),
        }
    }
    if params.is_empty() && named.is_empty() {
        return Err(SweepError::Setup(format!(
            "{file}: nothing to sweep: add [[sweep.arms]] or [[sweep.parameters]] to the file, or --set path=v1,v2"
        )));
    }
    match arm_count(&params, named.len()) {
        Some(n) if n <= MAX_ARMS => {}
        n => {
            let grid = params
                .iter()
                .map(|p| p.values.len().to_string())
                .collect::<Vec<_>>()
                .join(" × ");
            return Err(SweepError::Setup(format!(
                "the sweep would have {} arms ({} named arm(s) × a grid of {grid}); at most {MAX_ARMS} are supported",
                n.map_or_else(|| format!("more than {}", usize::MAX), |n| n.to_string()),
                named.len()
            )));
        }
    }
    // A path set by a named arm and swept by the grid would silently lose one of the two.
    for a in &named {
        for (path, _, origin) in &a.settings {
            if params.iter().any(|p| &p.path == path) {
                let m = format!(
                    "arm `{}` sets `{path}`, which the grid also sweeps ([[sweep.parameters]] or --set): set it in one place only",
                    a.name
                );
                return Err(match origin {
                    Origin::File(span) => SweepError::File(vec![ScenarioError::at(
                        file,
                        src,
                        Some(span.clone()),
                        m,
                        None,
                    )]),
                    Origin::Arg(_) => SweepError::Setup(m),
                });
            }
        }
    }
    table.remove("sweep");
    // Every setting alone first, so that an error points at what the user wrote.
    for p in &mut params {
        for (v, origin) in p.values.iter_mut().zip(&p.origins) {
            *v = check_setting(file, src, &table, &p.path, v.clone(), origin)?;
        }
    }
    let mut checked_named = Vec::new();
    for a in named {
        let mut settings = Vec::new();
        for (path, v, origin) in a.settings {
            let v = check_setting(file, src, &table, &path, v, &origin)?;
            settings.push((path, v));
        }
        checked_named.push((Some(a.name), settings));
    }
    if checked_named.is_empty() {
        checked_named.push((None, Vec::new()));
    }
    let grid: usize = params.iter().map(|p| p.values.len()).product();
    let mut out = Vec::new();
    for (arm_name, arm_settings) in &checked_named {
        for k in 0..grid {
            // The last parameter varies fastest.
            let mut rem = k;
            let mut idx = vec![0; params.len()];
            for (j, p) in params.iter().enumerate().rev() {
                idx[j] = rem % p.values.len();
                rem /= p.values.len();
            }
            let mut t = table.clone();
            let mut settings = arm_settings.clone();
            for (j, p) in params.iter().enumerate() {
                settings.push((p.path.clone(), p.values[idx[j]].clone()));
            }
            for (path, v) in &settings {
                set_path(&mut t, path, v.clone()).map_err(SweepError::Setup)?;
            }
            // The grid's part of the name: each setting by the last segment of its path.
            let label = settings[arm_settings.len()..]
                .iter()
                .map(|(p, v)| format!("{}={}", p.rsplit('.').next().unwrap_or(p), shown(v)))
                .collect::<Vec<_>>()
                .join(" ");
            let name = match (arm_name, label.is_empty()) {
                (Some(n), true) => n.clone(),
                (Some(n), false) => format!("{n} / {label}"),
                (None, _) => label,
            };
            let text = toml::to_string(&t).map_err(|e| SweepError::Setup(e.to_string()))?;
            let scenario =
                scenario::parse(&format!("{file} [{name}]"), &text).map_err(|errors| {
                    SweepError::Invalid {
                        arm: name.clone(),
                        settings: settings_text(&settings),
                        errors,
                    }
                })?;
            out.push(Arm {
                name,
                settings,
                scenario,
            });
        }
    }
    Ok(out)
}

/// `path = value, …` of an arm's settings (`baseline: the file as written` when none).
pub fn settings_text(settings: &[(String, toml::Value)]) -> String {
    if settings.is_empty() {
        return "the file as written".into();
    }
    settings
        .iter()
        .map(|(p, v)| format!("{p} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The replications of every arm, in arm order.
pub struct SweepOutcome {
    pub seed: u64,
    pub arms: Vec<(Arm, Vec<Replication>)>,
}

/// Runs every arm with the same seed and replication indices (common random numbers).
pub fn run(
    arms: Vec<Arm>,
    cfg: &RunConfig,
    mut on_arm: impl FnMut(usize),
) -> Result<SweepOutcome, RunError> {
    let mut out = Vec::with_capacity(arms.len());
    let mut seed = 0;
    for (i, arm) in arms.into_iter().enumerate() {
        let o = experiment::run(&arm.scenario, cfg)?;
        seed = o.seed;
        out.push((arm, o.replications));
        on_arm(i);
    }
    Ok(SweepOutcome { seed, arms: out })
}

/// Runs shard `k` of `n` of a sweep of `replications` per arm: its share of the (arm,
/// replication) pairs ([`shard::sweep_shard_indices`]), with the arm of each replication.
pub fn run_shard(
    arms: &[Arm],
    cfg: &RunConfig,
    replications: u32,
    (k, n): (u32, u32),
) -> Result<Vec<(u32, shard::RepData)>, RunError> {
    let idx = shard::sweep_shard_indices(arms.len() as u32, replications, k, n);
    let mut runs = Vec::new();
    for (a, arm) in arms.iter().enumerate() {
        let o = experiment::run_indices(&arm.scenario, cfg, &idx[a])?;
        runs.extend(
            o.replications
                .iter()
                .map(|r| (a as u32, shard::RepData::of(r))),
        );
    }
    Ok(runs)
}

impl shard::SweepPartial {
    /// The sealed partial result of sweep shard `shard`: the scenario's file name and text as
    /// read, the `--set` arguments, and the replications it ran ([`run_shard`]).
    pub fn new(
        (scenario_file, scenario_source): (String, String),
        sets: Vec<String>,
        (seed, replications, arms): (u64, u32, u32),
        shard: (u32, u32),
        runs: Vec<(u32, shard::RepData)>,
    ) -> shard::SweepPartial {
        let mut p = shard::SweepPartial {
            format: shard::FORMAT,
            scenario_file,
            scenario_source,
            sets,
            seed,
            replications,
            arms,
            shard,
            runs,
            engine: String::new(),
            checksum: String::new(),
        };
        p.seal();
        p
    }
}

/// The outlay of sellers for affiliate marketing: commissions, Shop Ads commissions, distributor
/// fees, flat fees paid, Plus rewards paid and service fees charged.
pub const COST: [&str; 6] = [
    "commissions",
    "shop_ads_commissions",
    "distributor_fees",
    "flat_fees_paid",
    "rewards_paid",
    "service_fees_charged",
];

/// Every reported figure of one replication, by name.
type Figures = Vec<(&'static str, Unit, Decimal)>;

fn with_cost(r: &Replication) -> Figures {
    let mut v = figures(r);
    let cost: Decimal = v
        .iter()
        .filter(|(n, ..)| COST.contains(n))
        .map(|(_, _, x)| *x)
        .sum();
    v.push(("marketing_cost", Unit::Money, cost));
    v
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the shared
/// [`crate::experiment::stats::t_quantile`]).
pub fn t_quantile_975(df: u64) -> f64 {
    crate::experiment::stats::t_quantile(df as usize).unwrap_or(f64::NAN)
}

/// The exact mean of a sample and, from two values on, the Student-t 95% interval of the mean
/// (`None` for one value: one replication gives no interval).
pub fn mean_interval(xs: &[Decimal]) -> (Decimal, Option<(f64, f64)>) {
    let n = xs.len();
    if n == 0 {
        return (Decimal::ZERO, None);
    }
    let mean = xs.iter().copied().sum::<Decimal>() / Decimal::from(n as u64);
    if n < 2 {
        return (mean, None);
    }
    let mf = mean.to_f64().unwrap_or(0.0);
    let var = xs
        .iter()
        .map(|x| (x.to_f64().unwrap_or(0.0) - mf).powi(2))
        .sum::<f64>()
        / (n - 1) as f64;
    let half = t_quantile_975(n as u64 - 1) * (var.sqrt() / (n as f64).sqrt());
    (mean, Some((mf - half, mf + half)))
}

/// A figure in JSON: money as a decimal string, a count as a number (6 decimals at most).
fn exact(unit: Unit, d: Decimal) -> Figure {
    value(unit, d.round_dp(6))
}

fn interval(unit: Unit, minor: u32, ci: Option<(f64, f64)>) -> Option<(Figure, Figure)> {
    ci.map(|(lo, hi)| (estimate(unit, minor, 4, lo), estimate(unit, minor, 4, hi)))
}

/// Δcost ÷ ΔGMV of an arm against the baseline, with a plain note when it is not a reliable
/// figure (no GMV difference, no interval, or ΔGMV's interval spans zero).
fn cost_per_gmv(d_cost: Decimal, d_gmv: Decimal, gmv_ci: Option<(f64, f64)>) -> CostPerGmv {
    if d_gmv.is_zero() {
        return CostPerGmv {
            estimate: None,
            note: Some(
                "no GMV difference against the baseline: there is no incremental GMV to divide by"
                    .to_string(),
            ),
        };
    }
    let note = match gmv_ci {
        None => Some("one replication: ΔGMV has no interval, so this ratio is a single draw".to_string()),
        Some((lo, hi)) if lo <= 0.0 && hi >= 0.0 => Some(
            "ΔGMV's 95% interval spans zero: the GMV difference may be noise, so this ratio may have the wrong sign or be unbounded".to_string(),
        ),
        _ => None,
    };
    CostPerGmv {
        estimate: Some(Figure::money((d_cost / d_gmv).round_dp(4))),
        note,
    }
}

/// The sweep document (`sweep.json`), typed; its fields serialize in this order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepDoc {
    pub scenario: String,
    pub region: String,
    pub currency: String,
    pub seed: u64,
    pub replications: usize,
    pub common_random_numbers: bool,
    /// How intervals are computed, in words.
    pub interval: String,
    pub baseline_arm: usize,
    /// The metrics that make up `marketing_cost`.
    pub marketing_cost: Vec<String>,
    pub arms: Vec<SweepArm>,
}

/// One arm of [`SweepDoc`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepArm {
    pub arm: usize,
    pub name: String,
    pub baseline: bool,
    pub settings: Vec<Setting>,
    /// Δcost ÷ ΔGMV against the baseline; `null` for the baseline.
    pub cost_per_incremental_gmv: Option<CostPerGmv>,
    /// Every metric by name, in report order.
    #[serde(with = "crate::experiment::summary::ordered_map")]
    pub metrics: Vec<(String, ArmMetric)>,
    pub per_replication: Vec<ArmReplication>,
}

/// A setting of an arm: the scenario path and its value as TOML text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub path: String,
    pub value: String,
}

/// Δcost ÷ ΔGMV (a decimal string, `null` without a GMV difference) and why it is unreliable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostPerGmv {
    pub estimate: Option<Figure>,
    pub note: Option<String>,
}

/// One metric of an arm: mean and interval, and the paired difference against the baseline
/// (`null` for the baseline).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmMetric {
    /// `money` or `count`.
    pub unit: String,
    pub mean: Figure,
    pub ci95: Option<(Figure, Figure)>,
    pub diff_vs_baseline: Option<Diff>,
}

/// A paired difference against the baseline: its mean and interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    pub mean: Figure,
    pub ci95: Option<(Figure, Figure)>,
}

/// One replication of an arm: its index and every figure by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmReplication {
    pub replication: u32,
    #[serde(flatten, with = "crate::experiment::summary::ordered_map")]
    pub figures: Vec<(String, Figure)>,
}

impl SweepArm {
    /// A metric by name.
    pub fn metric(&self, name: &str) -> Option<&ArmMetric> {
        self.metrics.iter().find(|(k, _)| k == name).map(|(_, m)| m)
    }
}

/// The sweep document: scenario, region and currency; per arm its name and settings, every
/// metric's mean and Student-t 95% interval, the paired difference against the baseline (arm 0)
/// with its interval, Δcost ÷ ΔGMV with a note when unreliable, and every replication's figures.
/// Money is written as decimal strings, counts as numbers; an interval is `null` for one
/// replication.
pub fn sweep_doc(sc: &Scenario, out: &SweepOutcome) -> SweepDoc {
    let base = 0;
    let minor = sc.region.minor_unit;
    let figs: Vec<Vec<Figures>> = out
        .arms
        .iter()
        .map(|(_, reps)| reps.iter().map(with_cost).collect())
        .collect();
    let find = |v: &Figures, name: &str| {
        v.iter()
            .find(|x| x.0 == name)
            .map_or(Decimal::ZERO, |x| x.2)
    };
    let mut arms = Vec::new();
    for (a, (arm, reps)) in out.arms.iter().enumerate() {
        let mut metrics = Vec::new();
        let Some(first) = figs[a].first() else {
            continue;
        };
        for (m, (name, unit, _)) in first.iter().enumerate() {
            let vals: Vec<Decimal> = figs[a].iter().map(|r| r[m].2).collect();
            let (mean, ci) = mean_interval(&vals);
            let diff = (a != base).then(|| {
                let diffs: Vec<Decimal> = figs[a]
                    .iter()
                    .zip(&figs[base])
                    .map(|(x, b)| x[m].2 - b[m].2)
                    .collect();
                let (dm, dci) = mean_interval(&diffs);
                Diff {
                    mean: exact(*unit, dm),
                    ci95: interval(*unit, minor, dci),
                }
            });
            metrics.push((
                (*name).to_string(),
                ArmMetric {
                    unit: unit_name(*unit).to_string(),
                    mean: exact(*unit, mean),
                    ci95: interval(*unit, minor, ci),
                    diff_vs_baseline: diff,
                },
            ));
        }
        let per = (a != base).then(|| {
            let d = |name: &str| -> Vec<Decimal> {
                figs[a]
                    .iter()
                    .zip(&figs[base])
                    .map(|(x, b)| find(x, name) - find(b, name))
                    .collect()
            };
            let (dg, gci) = mean_interval(&d("gmv"));
            let (dc, _) = mean_interval(&d("marketing_cost"));
            cost_per_gmv(dc, dg, gci)
        });
        let per_replication = reps
            .iter()
            .zip(&figs[a])
            .map(|(r, f)| ArmReplication {
                replication: r.index,
                figures: f
                    .iter()
                    .map(|(name, unit, v)| ((*name).to_string(), exact(*unit, *v)))
                    .collect(),
            })
            .collect();
        arms.push(SweepArm {
            arm: a,
            name: arm.name.clone(),
            baseline: a == base,
            settings: arm
                .settings
                .iter()
                .map(|(p, v)| Setting {
                    path: p.clone(),
                    value: v.to_string(),
                })
                .collect(),
            cost_per_incremental_gmv: per,
            metrics,
            per_replication,
        });
    }
    SweepDoc {
        scenario: sc.name.clone(),
        region: sc.region.code.clone(),
        currency: sc.region.currency.clone(),
        seed: out.seed,
        replications: out.arms.first().map_or(0, |a| a.1.len()),
        common_random_numbers: true,
        interval: "student-t 95% of the mean; null for one replication".to_string(),
        baseline_arm: base,
        marketing_cost: COST.iter().map(|c| (*c).to_string()).collect(),
        arms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"
[scenario]
name = "s"
region = "ID"
start = "2025-10-01"
days = 5

[rules]
rounding = "half-up"

[[sellers]]
id = "a"
shop_plan_rate = "5%"

[[sellers]]
id = "b"
shop_plan_rate = "6%"

[[sweep.parameters]]
key = "sellers.b.shop_plan_rate"
values = ["6%", "9%"]
"#;

    #[test]
    fn set_parses_toml_values_lists_tables_and_bare_words() {
        let p = parse_set("behaviour.plus.join_probability=0.5,1.0").unwrap();
        assert_eq!(p.path, "behaviour.plus.join_probability");
        assert_eq!(
            p.values,
            vec![toml::Value::Float(0.5), toml::Value::Float(1.0)]
        );
        let q = parse_set("sellers.a.shop_plan_rate=7%,\"8%\"").unwrap();
        assert_eq!(
            q.values,
            vec![
                toml::Value::String("7%".into()),
                toml::Value::String("8%".into())
            ]
        );
        let list = parse_set("open_plans.0.products=[\"a\", \"b\"]").unwrap();
        assert_eq!(list.values.len(), 1, "one list value");
        assert!(list.values[0].is_array());
        let tables = parse_set(
            "populations.creators.followers={ dist = \"fixed\", value = 3.0 },{ dist = \"fixed\", value = 4.0 }",
        )
        .unwrap();
        assert_eq!(tables.values.len(), 2);
        assert!(tables.values[1].is_table());
        assert!(parse_set("no-equals").is_err());
        assert!(parse_set("a..b=1").is_err());
        assert!(parse_set("a={ x = 1").unwrap_err().contains("unbalanced"));
        assert!(parse_set("a=").is_err());
    }

    #[test]
    fn arms_are_the_cartesian_product_with_paths_by_id_and_index() {
        let extra = [parse_set("sellers.0.shop_plan_rate=5%,4%,3%").unwrap()];
        let arms = arms("s.toml", SRC, &extra).unwrap();
        assert_eq!(arms.len(), 6);
        // the last parameter varies fastest; ids and indices both reach an array entry
        assert_eq!(arms[0].name, "shop_plan_rate=6% shop_plan_rate=5%");
        assert_eq!(
            arms[5].settings[0],
            (
                "sellers.b.shop_plan_rate".to_string(),
                toml::Value::String("9%".into())
            )
        );
        let rate = |a: &Arm, i: usize| {
            a.scenario.named.sellers[i]
                .shop_plan_rate
                .unwrap()
                .to_string()
        };
        assert_eq!(
            (rate(&arms[5], 0), rate(&arms[5], 1)),
            ("3%".to_string(), "9%".to_string())
        );
    }

    #[test]
    fn named_arms_cross_the_grid_and_name_every_arm() {
        let src = SRC.replace(
            "[[sweep.parameters]]",
            "[[sweep.arms]]\nname = \"as written\"\n\n[[sweep.arms]]\nname = \"a at 7%\"\nset = { \"sellers.a.shop_plan_rate\" = \"7%\" }\n\n[[sweep.parameters]]",
        );
        let arms = arms("s.toml", &src, &[]).unwrap();
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "as written / shop_plan_rate=6%",
                "as written / shop_plan_rate=9%",
                "a at 7% / shop_plan_rate=6%",
                "a at 7% / shop_plan_rate=9%"
            ]
        );
        assert_eq!(
            arms[3].scenario.named.sellers[0]
                .shop_plan_rate
                .unwrap()
                .to_string(),
            "7%"
        );
    }

    #[test]
    fn a_bad_setting_points_at_the_file_or_the_argument() {
        match arms(
            "s.toml",
            SRC,
            &[parse_set("sellers.zz.shop_plan_rate=5%").unwrap()],
        ) {
            Err(SweepError::Setup(m)) => {
                assert!(m.starts_with("--set `sellers.zz"), "{m}");
                assert!(m.contains("no entry with id or index `zz`"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        match arms(
            "s.toml",
            SRC,
            &[parse_set("sellers.a.shop_plan_rat=5%").unwrap()],
        ) {
            Err(SweepError::Setup(m)) => assert!(m.contains("shop_plan_rat"), "{m}"),
            other => panic!("{other:?}"),
        }
        // a value refused in the file: at the value's line and column
        let bad = SRC.replace("[\"6%\", \"9%\"]", "[\"6%\", \"85%\"]");
        match arms("s.toml", &bad, &[]) {
            Err(SweepError::File(e)) => {
                assert_eq!(e[0].line, Some(21), "{}", e[0]);
                assert_eq!(e[0].column, Some(17), "the refused value");
                assert!(e[0].message.contains("RATE-1"), "{}", e[0]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_plain_number_is_taken_as_text_where_the_file_wants_a_string() {
        let arms = arms(
            "demo",
            crate::scenario::DEMO,
            &[parse_set("plus_campaigns.0.reward=200000,300000").unwrap()],
        )
        .unwrap();
        assert_eq!(
            arms[1].settings[0].1,
            toml::Value::String("300000".into()),
            "money written as the number's text"
        );
    }

    #[test]
    fn table_values_replace_and_unquoted_dotted_keys_are_refused() {
        let arms = arms(
            "demo",
            crate::scenario::DEMO,
            &[
                parse_set("populations.creators.followers={ dist = \"fixed\", value = 3000.0 }")
                    .unwrap(),
            ],
        )
        .unwrap();
        assert_eq!(arms.len(), 1);
        let bad = SRC.replace(
            "[[sweep.parameters]]",
            "[[sweep.arms]]\nname = \"x\"\nset = { sellers.a.shop_plan_rate = \"7%\" }\n\n[[sweep.parameters]]",
        );
        match arms_of(&bad) {
            Err(SweepError::File(e)) => {
                assert!(e[0].message.contains("quote the path"), "{}", e[0])
            }
            other => panic!("{other:?}"),
        }
    }

    fn arms_of(src: &str) -> Result<Vec<Arm>, SweepError> {
        arms("s.toml", src, &[])
    }

    #[test]
    fn the_arm_count_is_checked_not_wrapped() {
        let p = |n: usize| Param {
            path: "x".into(),
            values: vec![toml::Value::Integer(0); n],
            origins: vec![Origin::Arg("x".into()); n],
        };
        assert_eq!(arm_count(&[p(2), p(3)], 0), Some(6));
        assert_eq!(arm_count(&[p(2), p(3)], 2), Some(12));
        let many: Vec<Param> = (0..64).map(|_| p(2)).collect();
        assert_eq!(arm_count(&many, 1), None);
    }

    #[test]
    fn t_quantiles_and_no_interval_for_one_value() {
        assert!((t_quantile_975(2) - 4.3027).abs() < 1e-3);
        assert!((t_quantile_975(29) - 2.0452).abs() < 1e-3);
        let (m, ci) = mean_interval(&[Decimal::from(5)]);
        assert_eq!((m, ci), (Decimal::from(5), None));
        let (_, ci) = mean_interval(&[Decimal::from(1), Decimal::from(3)]);
        let (lo, hi) = ci.unwrap();
        // mean 2, sd √2, n 2: half-width 12.706 × 1
        assert!((hi - 2.0 - 12.706).abs() < 1e-2 && (lo - 2.0 + 12.706).abs() < 1e-2);
    }

    #[test]
    fn identical_arms_have_zero_paired_difference() {
        // Two arms that set the same value: common random numbers make every replication equal.
        let demo = crate::scenario::DEMO;
        let arms = arms(
            "demo",
            demo,
            &[parse_set("behaviour.orders.return_probability=0.05,0.05").unwrap()],
        )
        .unwrap();
        let sc = arms[0].scenario.clone();
        let cfg = RunConfig {
            replications: Some(2),
            ..Default::default()
        };
        let out = run(arms, &cfg, |_| {}).unwrap();
        let doc = sweep_doc(&sc, &out);
        let d = doc.arms[1].metric("gmv").unwrap();
        let d = d.diff_vs_baseline.as_ref().unwrap();
        assert_eq!(d.mean, Figure::Money(Decimal::ZERO));
        assert_eq!(d.ci95.as_ref().unwrap().0.to_string(), "0");
        assert_eq!(doc.arms[1].per_replication.len(), 2);
        let orders = &doc.arms[0].metric("orders").unwrap().mean;
        assert!(matches!(orders, Figure::Count(_)));
        assert_eq!(doc.currency, "IDR");
        // sweep.json reads back into the same document, byte for byte
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let back: SweepDoc = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc);
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    }
}
