//! Sweeps: a scenario run over a grid of settings, every arm with the same random streams per
//! replication (common random numbers), so differences against the baseline arm are paired.
//!
//! A parameter is a path into the scenario file — `behaviour.plus.join_probability`, or through
//! an array of tables by `id` (`plus_campaigns.glow-task.reward`) or by index
//! (`open_plans.0.rate`) — and a list of TOML values. The arms are the cartesian product of the
//! parameters, the first value of each being the baseline. Each arm is the scenario file with
//! those values written in, validated like any scenario.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value, json};

use crate::experiment::summary::{figures, stats};
use crate::experiment::{self, RunConfig};
use crate::metrics::Unit;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{Replication, RunError};

/// One swept setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub path: String,
    pub values: Vec<toml::Value>,
}

/// One arm: the values it sets, and its scenario.
#[derive(Clone, Debug)]
pub struct Arm {
    pub label: String,
    pub settings: Vec<(String, toml::Value)>,
    pub scenario: Scenario,
}

/// Why a sweep could not be set up.
#[derive(Debug)]
pub enum SweepError {
    /// The file or a `--set` is malformed.
    Setup(String),
    /// An arm's scenario is invalid.
    Invalid {
        arm: String,
        errors: Vec<ScenarioError>,
    },
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Setup(m) => f.write_str(m),
            SweepError::Invalid { arm, errors } => {
                writeln!(f, "arm {arm} is not a valid scenario:")?;
                for e in errors {
                    writeln!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

/// Parses `path=v1,v2,…` from the command line; each value is read as TOML (`0.5`, `"10%"`,
/// `true`), or as a string when it is not valid TOML (`10%` → `"10%"`).
pub fn parse_set(s: &str) -> Result<Param, String> {
    let (path, vals) = s
        .split_once('=')
        .ok_or_else(|| format!("--set `{s}`: expected path=value1,value2,…"))?;
    let values: Vec<toml::Value> = vals
        .split(',')
        .map(|v| {
            let v = v.trim();
            toml::from_str::<toml::Table>(&format!("x = {v}"))
                .ok()
                .and_then(|t| t.get("x").cloned())
                .unwrap_or_else(|| toml::Value::String(v.to_string()))
        })
        .collect();
    if path.trim().is_empty() || values.is_empty() {
        return Err(format!("--set `{s}`: expected path=value1,value2,…"));
    }
    Ok(Param {
        path: path.trim().to_string(),
        values,
    })
}

/// Reads the `[sweep]` table of a scenario file: `[[sweep.parameters]]` with `key` and `values`.
fn file_params(table: &toml::Table) -> Result<Vec<Param>, String> {
    let Some(sweep) = table.get("sweep") else {
        return Ok(Vec::new());
    };
    let params = sweep
        .get("parameters")
        .and_then(|p| p.as_array())
        .ok_or("[sweep] needs [[sweep.parameters]] entries with `key` and `values`")?;
    params
        .iter()
        .map(|p| {
            let key = p
                .get("key")
                .and_then(|k| k.as_str())
                .ok_or("a [[sweep.parameters]] entry needs `key`")?;
            let values = p
                .get("values")
                .and_then(|v| v.as_array())
                .ok_or("a [[sweep.parameters]] entry needs `values` (an array)")?;
            if values.is_empty() {
                return Err(format!("sweep parameter `{key}` has no values"));
            }
            Ok(Param {
                path: key.to_string(),
                values: values.clone(),
            })
        })
        .collect()
}

/// Sets `value` at `path` in a scenario table (see the module docs for paths); missing tables
/// on the way are created.
fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), String> {
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
                    .ok_or_else(|| format!("`{path}`: no entry with id or index `{seg}`"))?,
            };
            if rest.is_empty() {
                a[idx] = value;
                return Ok(());
            }
            set_in(&mut a[idx], rest, path, value)
        }
        _ => Err(format!(
            "`{path}`: `{seg}` is inside a value that is not a table"
        )),
    }
}

/// Builds the arms of a sweep from the scenario text and extra `--set` parameters (which replace
/// a file parameter of the same path).
pub fn arms(file: &str, src: &str, extra: &[Param]) -> Result<Vec<Arm>, SweepError> {
    let mut table: toml::Table =
        toml::from_str(src).map_err(|e| SweepError::Setup(format!("{file}: {}", e.message())))?;
    let mut params = file_params(&table).map_err(|e| SweepError::Setup(format!("{file}: {e}")))?;
    for p in extra {
        match params.iter_mut().find(|x| x.path == p.path) {
            Some(x) => *x = p.clone(),
            None => params.push(p.clone()),
        }
    }
    if params.is_empty() {
        return Err(SweepError::Setup(format!(
            "{file}: nothing to sweep: add [[sweep.parameters]] to the file or --set path=v1,v2"
        )));
    }
    table.remove("sweep");
    // checked: 64 two-valued keys must not wrap to 0 arms (issue 13)
    let n = params
        .iter()
        .try_fold(1usize, |a, p| a.checked_mul(p.values.len()));
    match n {
        Some(0) => {
            return Err(SweepError::Setup(format!(
                "{file}: a swept key has no values"
            )));
        }
        Some(n) if n <= 1000 => {}
        _ => {
            return Err(SweepError::Setup(format!(
                "the grid has {} arms; at most 1000 are supported",
                n.map_or_else(|| "more than 2^64".to_string(), |n| n.to_string())
            )));
        }
    }
    let n = n.unwrap_or_default();
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let mut rem = k;
        let mut settings = Vec::new();
        // The last parameter varies fastest.
        let mut idx = vec![0; params.len()];
        for (j, p) in params.iter().enumerate().rev() {
            idx[j] = rem % p.values.len();
            rem /= p.values.len();
        }
        let mut t = table.clone();
        for (j, p) in params.iter().enumerate() {
            let v = p.values[idx[j]].clone();
            set_path(&mut t, &p.path, v.clone()).map_err(SweepError::Setup)?;
            settings.push((p.path.clone(), v));
        }
        // Labels name each setting by the last segment of its path: `policy="budget" reward="200000"`.
        let label = settings
            .iter()
            .map(|(p, v)| format!("{}={v}", p.rsplit('.').next().unwrap_or(p)))
            .collect::<Vec<_>>()
            .join(" ");
        let text = toml::to_string(&t).map_err(|e| SweepError::Setup(e.to_string()))?;
        let scenario = scenario::parse(&format!("{file} [{label}]"), &text).map_err(|errors| {
            SweepError::Invalid {
                arm: label.clone(),
                errors,
            }
        })?;
        out.push(Arm {
            label,
            settings,
            scenario,
        });
    }
    Ok(out)
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

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
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

/// Mean and 95% interval of a sample of f64.
fn interval(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len().max(1) as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let sd = if xs.len() > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    let half = 1.96 * sd / n.sqrt();
    (mean, mean - half, mean + half)
}

fn r4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The sweep document: per arm every metric's mean and interval, and the paired difference
/// against the baseline (arm 0) with its interval; plus the cost per incremental GMV.
pub fn sweep_json(out: &SweepOutcome, base: usize) -> Value {
    let figs: Vec<Vec<Figures>> = out
        .arms
        .iter()
        .map(|(_, reps)| reps.iter().map(with_cost).collect())
        .collect();
    let mut arms = Vec::new();
    for (a, (arm, _)) in out.arms.iter().enumerate() {
        let mut metrics = Map::new();
        let Some(first) = figs[a].first() else {
            continue;
        };
        for (m, (name, _, _)) in first.iter().enumerate() {
            let vals: Vec<Decimal> = figs[a].iter().map(|r| r[m].2).collect();
            let s = stats(&vals);
            let diffs: Vec<f64> = figs[a]
                .iter()
                .zip(&figs[base])
                .map(|(x, b)| f(x[m].2) - f(b[m].2))
                .collect();
            let (dm, dlo, dhi) = interval(&diffs);
            metrics.insert(
                (*name).to_string(),
                json!({
                    "mean": s.mean.normalize().to_string(),
                    "ci95": [r4(s.ci95.0), r4(s.ci95.1)],
                    "diff_vs_baseline": { "mean": r4(dm), "ci95": [r4(dlo), r4(dhi)] },
                }),
            );
        }
        let gmv = |v: &Vec<(&str, Unit, Decimal)>| {
            v.iter().find(|x| x.0 == "gmv").map_or(0.0, |x| f(x.2))
        };
        let cost = |v: &Vec<(&str, Unit, Decimal)>| {
            v.iter()
                .find(|x| x.0 == "marketing_cost")
                .map_or(0.0, |x| f(x.2))
        };
        let d_gmv: f64 = figs[a]
            .iter()
            .zip(&figs[base])
            .map(|(x, b)| gmv(x) - gmv(b))
            .sum();
        let d_cost: f64 = figs[a]
            .iter()
            .zip(&figs[base])
            .map(|(x, b)| cost(x) - cost(b))
            .sum();
        let per = if d_gmv.abs() > f64::EPSILON {
            Value::from(r4(d_cost / d_gmv))
        } else {
            Value::Null
        };
        arms.push(json!({
            "arm": a,
            "label": arm.label,
            "settings": arm.settings.iter().map(|(p, v)| json!({"path": p, "value": v.to_string()})).collect::<Vec<_>>(),
            "baseline": a == base,
            "cost_per_incremental_gmv": per,
            "metrics": Value::Object(metrics),
        }));
    }
    json!({
        "seed": out.seed,
        "replications": out.arms.first().map_or(0, |a| a.1.len()),
        "common_random_numbers": true,
        "baseline_arm": base,
        "arms": arms,
    })
}

/// Writes `sweep.csv`: one row per arm × metric.
pub fn write_csv(path: &std::path::Path, doc: &Value) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "arm",
        "label",
        "metric",
        "mean",
        "ci95_low",
        "ci95_high",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
    ])?;
    for a in doc["arms"].as_array().into_iter().flatten() {
        for (name, m) in a["metrics"].as_object().into_iter().flatten() {
            let d = &m["diff_vs_baseline"];
            w.write_record([
                a["arm"].to_string(),
                a["label"].as_str().unwrap_or("").to_string(),
                name.clone(),
                m["mean"].as_str().unwrap_or("").to_string(),
                m["ci95"][0].to_string(),
                m["ci95"][1].to_string(),
                d["mean"].to_string(),
                d["ci95"][0].to_string(),
                d["ci95"][1].to_string(),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
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
    fn set_parses_toml_values_and_bare_words() {
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
        assert!(parse_set("no-equals").is_err());
    }

    #[test]
    fn arms_are_the_cartesian_product_with_paths_by_id_and_index() {
        let extra = [parse_set("sellers.0.shop_plan_rate=5%,4%,3%").unwrap()];
        let arms = arms("s.toml", SRC, &extra).unwrap();
        assert_eq!(arms.len(), 6);
        // the last parameter varies fastest; ids and indices both reach an array entry
        assert_eq!(arms[0].label, "shop_plan_rate=\"6%\" shop_plan_rate=\"5%\"");
        assert_eq!(
            arms[5].settings[0],
            (
                "sellers.b.shop_plan_rate".to_string(),
                toml::Value::String("9%".into())
            )
        );
        assert_eq!(
            arms[5].settings[1],
            (
                "sellers.0.shop_plan_rate".to_string(),
                toml::Value::String("3%".into())
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
    fn a_bad_path_or_an_invalid_arm_is_an_error() {
        assert!(matches!(
            arms(
                "s.toml",
                SRC,
                &[parse_set("sellers.zz.shop_plan_rate=5%").unwrap()]
            ),
            Err(SweepError::Setup(_))
        ));
        let bad = arms(
            "s.toml",
            SRC,
            &[parse_set("sellers.a.shop_plan_rate=85%").unwrap()],
        );
        match bad {
            Err(SweepError::Invalid { errors, .. }) => {
                assert_eq!(errors[0].rule, Some(crate::rules::catalogue::RuleId::Rate1))
            }
            other => panic!("expected an invalid arm, got {:?}", other.map(|a| a.len())),
        }
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
        let cfg = RunConfig {
            replications: Some(2),
            ..Default::default()
        };
        let out = run(arms, &cfg, |_| {}).unwrap();
        let doc = sweep_json(&out, 0);
        let d = &doc["arms"][1]["metrics"]["gmv"]["diff_vs_baseline"];
        assert_eq!(d["mean"].as_f64(), Some(0.0));
        assert_eq!(d["ci95"][0].as_f64(), Some(0.0));
        assert!(
            doc["arms"][1]["metrics"]["gmv"]["mean"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
                > 0.0
        );
    }
}
