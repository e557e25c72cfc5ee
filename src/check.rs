//! Checking scenarios against their expectations: the engine of `affsim check`.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;

use crate::experiment::{self, RunConfig};
use crate::report::format::{Currency, fmt_decimal};
use crate::rules::catalogue::{RuleId, RuleSet};
use crate::rules::orders::OrderRecord;
use crate::scenario::{self, Check, Expectation, OrderField, Scenario, Subject};
use crate::sim::Replication;

/// The verdict on one scenario file.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub file: String,
    pub name: String,
    pub passed: bool,
    /// What failed (empty when passed).
    pub failures: Vec<Failure>,
    /// Expectations checked.
    pub checked: usize,
    pub replications: u32,
    /// Rules that fired in the run, or the rule of an expected rejection.
    pub fired: RuleSet,
}

/// Which passing scenarios exercise a rule (`check --coverage`).
#[derive(Clone, Debug, Serialize)]
pub struct RuleCoverage<'a> {
    pub rule: RuleId,
    pub scenarios: Vec<&'a str>,
}

/// Per rule of the catalogue, in catalogue order, the passing scenarios whose runs fired it.
pub fn coverage(verdicts: &[Verdict]) -> Vec<RuleCoverage<'_>> {
    let mut out: Vec<RuleCoverage> = RuleId::ALL
        .iter()
        .map(|&rule| RuleCoverage {
            rule,
            scenarios: Vec::new(),
        })
        .collect();
    for v in verdicts.iter().filter(|v| v.passed) {
        for r in v.fired.iter() {
            out[r.index()].scenarios.push(&v.file);
        }
    }
    out
}

/// The `affsim check --json` document (docs/schema/check.schema.json).
#[derive(Clone, Debug, Serialize)]
pub struct CheckDoc<'a> {
    pub passed: usize,
    pub failed: usize,
    pub scenarios: Vec<ScenarioVerdict<'a>>,
    /// With `--coverage`: every rule and the passing scenarios that exercise it.
    pub coverage: Option<&'a [RuleCoverage<'a>]>,
}

/// One scenario's verdict in a [`CheckDoc`].
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioVerdict<'a> {
    pub file: &'a str,
    pub name: &'a str,
    pub passed: bool,
    pub failures: &'a [Failure],
    pub expectations: usize,
    pub replications: u32,
    pub rules_fired: RuleSet,
}

impl<'a> CheckDoc<'a> {
    pub fn new(verdicts: &'a [Verdict], coverage: Option<&'a [RuleCoverage<'a>]>) -> CheckDoc<'a> {
        let passed = verdicts.iter().filter(|v| v.passed).count();
        CheckDoc {
            passed,
            failed: verdicts.len() - passed,
            scenarios: verdicts
                .iter()
                .map(|v| ScenarioVerdict {
                    file: &v.file,
                    name: &v.name,
                    passed: v.passed,
                    failures: &v.failures,
                    expectations: v.checked,
                    replications: v.replications,
                    rules_fired: v.fired,
                })
                .collect(),
            coverage,
        }
    }
}

/// One failed expectation (or a scenario that could not be checked), for people (`message`)
/// and for `check --json` (the other fields; docs/schema/check.schema.json).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub file: String,
    /// The line of the expectation (1-based), when the failure belongs to one.
    pub line: Option<usize>,
    /// What was checked: `metric commissions`, `order o1 commission`, `ledger reward-paid …`.
    pub expectation: String,
    /// The expected value or bound, as written (money as a plain decimal string).
    pub expected: Option<String>,
    /// The value observed (money as a plain decimal string).
    pub actual: Option<String>,
    /// The replication in which it failed (none for a mean over replications).
    pub replication: Option<u32>,
    /// The expectation's `note`.
    pub note: Option<String>,
    /// The whole message as `affsim check` prints it, money in the currency's format.
    pub message: String,
}

impl Failure {
    /// A failure of the whole file (unreadable, invalid, no expectations, run error).
    fn whole(file: &str, message: String) -> Failure {
        Failure {
            file: file.into(),
            line: None,
            expectation: "scenario".into(),
            expected: None,
            actual: None,
            replication: None,
            note: None,
            message,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Why an expectation failed, before it is placed in its file.
struct Miss {
    expected: Option<String>,
    actual: Option<String>,
    replication: Option<u32>,
    text: String,
}

/// An expectation on a field of a scripted order that the rules refused: the field does not
/// exist.
#[derive(Debug, thiserror::Error)]
#[error("the order was refused: {0}")]
struct OrderRefused(crate::rules::Refusal);

impl From<OrderRefused> for Miss {
    fn from(e: OrderRefused) -> Miss {
        Miss::from(e.to_string())
    }
}

/// Why `affsim check` found no files to check (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// A folder could not be walked.
    #[error("{}: {source}", path.display())]
    Walk {
        path: PathBuf,
        source: walkdir::Error,
    },
    #[error("{}: no such file or folder", .0.display())]
    Missing(PathBuf),
}

impl From<String> for Miss {
    fn from(text: String) -> Miss {
        Miss {
            expected: None,
            actual: None,
            replication: None,
            text,
        }
    }
}

/// Finds scenario files: each path is a file, or a folder searched recursively for `*.toml`.
/// A file found in a folder whose `[scenario]` says `manual = true` (a reference load run by
/// hand, e.g. scenarios/bench/country.toml) is left out; see [`collect_with_skipped`].
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CollectError> {
    collect_with_skipped(paths).map(|(files, _)| files)
}

/// [`collect`], and the `manual = true` files it left out of the folders it walked (a file named
/// on its own is always checked).
pub fn collect_with_skipped(
    paths: &[PathBuf],
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), CollectError> {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|source| CollectError::Walk {
                path: p.clone(),
                source,
            })?;
            for f in found {
                if is_manual(&f) {
                    skipped.push(f);
                } else {
                    out.push(f);
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(CollectError::Missing(p.clone()));
        }
    }
    out.sort();
    skipped.sort();
    Ok((out, skipped))
}

/// The file's `[scenario]` table says `manual = true`. A file that cannot be read or parsed is
/// not manual: checking it reports why.
fn is_manual(path: &Path) -> bool {
    let Ok(src) = scenario::source::read(path) else {
        return false;
    };
    let Ok(doc) = src.parse::<toml::Table>() else {
        return false;
    };
    doc.get("scenario")
        .and_then(|s| s.get("manual"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false)
}

/// Every `*.toml` file under `dir`. Symbolic links to folders are not followed (walkdir), so a
/// link loop neither hangs nor repeats files.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), walkdir::Error> {
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e?;
        if e.file_type().is_dir() || e.path().is_dir() {
            continue;
        }
        if e.path().extension().is_some_and(|x| x == "toml") {
            out.push(e.into_path());
        }
    }
    Ok(())
}

/// Checks one scenario file: runs it and compares every expectation, or, for a file with
/// `[expect_invalid]`, checks that validation rejects it as expected.
pub fn check_file(path: &Path, threads: Option<usize>) -> Verdict {
    let file = path.display().to_string();
    let src = match scenario::source::read(path) {
        Ok(s) => s,
        Err(e) => return fail(&file, &file, e.to_string()),
    };
    check_source(&file, &src, threads)
}

/// Checks scenario source text (see [`check_file`]).
pub fn check_source(file: &str, src: &str, threads: Option<usize>) -> Verdict {
    let expected_bad = scenario::expected_rejection(src);
    let parsed = scenario::parse(file, src);
    match (expected_bad, parsed) {
        (Some(exp), Err(errs)) => {
            // any error may match (their order is not part of the format); a file whose errors
            // all miss is reported against the first
            let fits = |e: &scenario::error::ScenarioError| {
                exp.rule
                    .as_ref()
                    .is_none_or(|r| e.rule.map(|x| x.to_string()).as_deref() == Some(r.as_str()))
                    && exp
                        .message
                        .as_ref()
                        .is_none_or(|m| e.message.contains(m.as_str()))
                    && exp.line.is_none_or(|l| e.line == Some(l))
            };
            let e = errs.iter().find(|e| fits(e)).unwrap_or(&errs[0]);
            let mut failures = Vec::new();
            let mut miss = |what: &str, expected: String, actual: String, text: String| {
                failures.push(Failure {
                    file: file.to_string(),
                    line: None,
                    expectation: format!("expect_invalid {what}"),
                    expected: Some(expected),
                    actual: Some(actual),
                    replication: None,
                    note: None,
                    message: text,
                });
            };
            if let Some(rule) = &exp.rule
                && e.rule.map(|r| r.to_string()).as_deref() != Some(rule.as_str())
            {
                miss(
                    "rule",
                    rule.clone(),
                    e.rule.map_or_else(|| "none".into(), |r| r.to_string()),
                    format!("expected a rejection naming {rule}, got: {e}"),
                );
            }
            if let Some(m) = &exp.message
                && !e.message.contains(m.as_str())
            {
                miss(
                    "message",
                    m.clone(),
                    e.message.clone(),
                    format!("expected the message to contain {m:?}, got: {}", e.message),
                );
            }
            if let Some(l) = exp.line
                && e.line != Some(l)
            {
                miss(
                    "line",
                    l.to_string(),
                    e.line.map_or_else(|| "none".into(), |l| l.to_string()),
                    format!("expected the error on line {l}, got {}", e.location()),
                );
            }
            let name = name_of(src).unwrap_or_else(|| file.to_string());
            let fired = e.rule.map(|r| RuleSet::EMPTY.with(r)).unwrap_or_default();
            Verdict {
                file: file.to_string(),
                name,
                passed: failures.is_empty(),
                failures,
                checked: 1,
                replications: 0,
                fired,
            }
        }
        (Some(_), Ok(sc)) => fail(
            file,
            &sc.name,
            "expected the scenario to be rejected, but it is valid".into(),
        ),
        (None, Err(errs)) => {
            let msg = errs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n");
            fail(
                file,
                &name_of(src).unwrap_or_else(|| file.to_string()),
                format!("invalid scenario:\n{msg}"),
            )
        }
        (None, Ok(sc)) => check_scenario(&sc, threads),
    }
}

fn name_of(src: &str) -> Option<String> {
    let t: toml::Table = toml::from_str(src).ok()?;
    t.get("scenario")?.get("name")?.as_str().map(str::to_string)
}

fn fail(file: &str, name: &str, msg: String) -> Verdict {
    Verdict {
        file: file.into(),
        name: name.into(),
        passed: false,
        failures: vec![Failure::whole(file, msg)],
        checked: 0,
        replications: 0,
        fired: RuleSet::EMPTY,
    }
}

/// Runs a valid scenario and checks its expectations.
pub fn check_scenario(sc: &Scenario, threads: Option<usize>) -> Verdict {
    let mut cfg = RunConfig {
        threads,
        ..Default::default()
    };
    // ledger expectations read the entries: record them (rules scenarios are small)
    cfg.options.record_ledger = sc
        .expectations
        .iter()
        .any(|e| matches!(e.subject, Subject::Ledger(_)));
    let out = match experiment::run(sc, &cfg) {
        Ok(o) => o,
        Err(e) => return fail(&sc.file, &sc.name, e.to_string()),
    };
    let mut failures = Vec::new();
    let mut fired = RuleSet::EMPTY;
    for r in &out.replications {
        fired.extend(r.fired);
    }
    for e in &sc.expectations {
        if let Err(m) = evaluate(sc, e, &out.replications, fired) {
            let note = if e.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.note)
            };
            failures.push(Failure {
                file: sc.file.clone(),
                line: Some(e.line),
                expectation: describe(sc, &e.subject),
                expected: m.expected,
                actual: m.actual,
                replication: m.replication,
                note: (!e.note.is_empty()).then(|| e.note.clone()),
                message: format!("{}: {}{note}", e.place, m.text),
            });
        }
    }
    // in file order (`[[expect_ledger]]` tables are resolved after the `[[expect]]` ones)
    failures.sort_by_key(|f| f.line);
    if sc.expectations.is_empty() {
        failures.push(Failure::whole(
            &sc.file,
            format!("{}: the scenario has no expectations to check", sc.file),
        ));
    }
    Verdict {
        file: sc.file.clone(),
        name: sc.name.clone(),
        passed: failures.is_empty(),
        failures,
        checked: sc.expectations.len(),
        replications: out.replications.len() as u32,
        fired,
    }
}

fn eq_text(want: &str, got: &str) -> bool {
    match (
        Decimal::from_str_exact(want.trim()),
        Decimal::from_str_exact(got.trim()),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => want.trim() == got.trim(),
    }
}

fn order_field(rec: &OrderRecord, f: OrderField) -> String {
    let s =
        |x: Option<crate::time::Stamp>| x.map(|s| s.to_string()).unwrap_or_else(|| "none".into());
    let date = |x: Option<crate::time::Stamp>| {
        x.map(|s| s.0.date().to_string())
            .unwrap_or_else(|| "none".into())
    };
    match f {
        OrderField::Status => rec.status.as_str().to_string(),
        OrderField::Commission => rec.commission.to_string(),
        OrderField::DistributorFee => rec.distributor_fee.to_string(),
        OrderField::Rate => rec
            .rate
            .map(|r| r.to_string())
            .unwrap_or_else(|| "none".into()),
        OrderField::Plan => rec.plan.clone(),
        OrderField::Base => rec.base.to_string(),
        OrderField::Gross => rec.gross.to_string(),
        OrderField::Refunded => rec.refunded.to_string(),
        OrderField::Placed => s(rec.placed),
        OrderField::Delivered => date(rec.delivered),
        OrderField::Settled => date(rec.settled),
        OrderField::RateSince => s(rec.rate_since),
        OrderField::ShopAds => rec.shop_ads.to_string(),
        OrderField::Authorised => rec.authorised.yes().to_string(),
        OrderField::Rules => rec.rules.to_string(),
        OrderField::Refused => rec.refused.clone().unwrap_or_else(|| "none".into()),
    }
}

/// The value an expectation looks at in one replication, as text and (if numeric) as a number.
fn observe(e: &Expectation, r: &Replication) -> Result<String, OrderRefused> {
    Ok(match &e.subject {
        Subject::Metric(m) => r.total(*m).normalize().to_string(),
        Subject::End(m) => r.end_metric(*m).normalize().to_string(),
        Subject::LedgerBalanced => "true".into(),
        Subject::Order { order, field } => match &r.scripted[*order as usize] {
            Ok(rec) => {
                let v = order_field(rec, *field);
                if *field == OrderField::Rules
                    && matches!(&e.check, Check::Equals(w) if v.split('+').any(|x| x == w.trim()))
                {
                    // `rules` checks membership: equals = "OPEN-4" passes if OPEN-4 applied
                    return Ok(match &e.check {
                        Check::Equals(w) => w.clone(),
                        _ => v,
                    });
                }
                v
            }
            Err(refusal) => match field {
                OrderField::Refused => refusal.rule.to_string(),
                OrderField::Status => "refused".into(),
                _ => return Err(OrderRefused(refusal.clone())),
            },
        },
        Subject::Account(a) => r
            .accounts
            .iter()
            .find(|(x, _)| x == a)
            .map(|(_, m)| m.to_string())
            .unwrap_or_default(),
        Subject::Refusals(id) => r
            .refusals
            .iter()
            .filter(|(x, _)| x == id)
            .count()
            .to_string(),
        Subject::RefusalsWith(id, text) => r
            .refusals
            .iter()
            .filter(|(x, m)| x == id && m.contains(text.as_str()))
            .count()
            .to_string(),
        Subject::Ledger(q) => r
            .entries
            .iter()
            .filter(|x| q.matches(x))
            .count()
            .to_string(),
        Subject::Fired(id) => u64::from(r.fired.contains(*id)).to_string(),
        Subject::Plus {
            campaign,
            creator,
            field,
        } => {
            use crate::scenario::PlusField as F;
            let p = &r.plus[campaign.index()];
            let part = creator.map(|c| p.creators.iter().find(|x| x.0 == c));
            match (field, part) {
                (F::Status, _) => p.status.clone(),
                (F::RewardsPaid, _) => p.rewards_paid.to_string(),
                (F::RewardsCancelled, _) => p.rewards_cancelled.to_string(),
                (F::ServiceFeeCharged, _) => p.service_fee_charged.to_string(),
                (F::ServiceFeeRefunded, _) => p.service_fee_refunded.to_string(),
                (F::BudgetReturned, _) => p.budget_returned.to_string(),
                (F::TaxDocument, _) => p.tax_document.clone().unwrap_or_else(|| "none".into()),
                (F::Participants, _) => p.participants.to_string(),
                (F::Selected, _) => p.selected.to_string(),
                (F::Reward, Some(Some(x))) => x.1.to_string(),
                (F::CreatorStatus, Some(Some(x))) => x.2.to_string(),
                (F::Rank, Some(Some(x))) => p
                    .ranks
                    .iter()
                    .position(|c| *c == x.0)
                    .map_or_else(|| "none".into(), |i| (i + 1).to_string()),
                (F::Samples, None) => p.samples.len().to_string(),
                (F::Achievement, _) => p.achievement.normalize().to_string(),
                (F::Samples, Some(Some(x))) => {
                    let names: Vec<&str> = p
                        .samples
                        .iter()
                        .filter(|s| s.0 == x.0)
                        .map(|s| s.1.as_str())
                        .collect();
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(",")
                    }
                }
                (F::Reward | F::CreatorStatus | F::Rank | F::Samples, _) => "not joined".into(),
            }
        }
    })
}

/// Whether a subject's value is an amount of money (shown in the currency's format).
fn is_money(s: &Subject) -> bool {
    use crate::scenario::PlusField as P;
    match s {
        Subject::Metric(m) => m.unit() == crate::metrics::Unit::Money,
        Subject::End(_) | Subject::Account(_) => true,
        Subject::Order { field, .. } => matches!(
            field,
            OrderField::Commission
                | OrderField::DistributorFee
                | OrderField::Base
                | OrderField::Gross
                | OrderField::Refunded
        ),
        Subject::Plus { field, .. } => matches!(
            field,
            P::RewardsPaid
                | P::RewardsCancelled
                | P::ServiceFeeCharged
                | P::ServiceFeeRefunded
                | P::BudgetReturned
                | P::Reward
        ),
        _ => false,
    }
}

/// An amount in the currency's format, keeping any decimals beyond the minor unit so that two
/// different amounts never print alike: `IDR 8`, `GBP 8.00`, `GBP 10.005`.
pub fn money_text(d: Decimal, cur: &Currency) -> String {
    format!(
        "{} {}",
        cur.code,
        fmt_decimal(d, cur.minor_unit.max(d.scale()))
    )
}

/// Formats a value for a failure message: money subjects in the currency's format.
fn shown(v: &str, money: bool, cur: &Currency) -> String {
    match Decimal::from_str_exact(v.trim()) {
        Ok(d) if money => money_text(d, cur),
        _ => v.to_string(),
    }
}

fn evaluate(
    sc: &Scenario,
    e: &Expectation,
    reps: &[Replication],
    fired: RuleSet,
) -> Result<(), Miss> {
    let what = describe(sc, &e.subject);
    let cur = Currency::of(&sc.region);
    let money = is_money(&e.subject);
    let show = |v: &str| shown(v, money, &cur);
    let bound = |d: &Option<Decimal>| d.map_or_else(|| "…".into(), |x| show(&x.to_string()));
    let range_text = |min: &Option<Decimal>, max: &Option<Decimal>| {
        format!("[{}, {}]", fmt_opt(min), fmt_opt(max))
    };
    match &e.check {
        Check::Equals(want) => {
            for r in reps {
                let got = observe(e, r)?;
                if !eq_text(want, &got) {
                    return Err(Miss {
                        text: format!(
                            "{what}: expected {}, got {} (replication {})",
                            show(want),
                            show(&got),
                            r.index
                        ),
                        expected: Some(want.clone()),
                        actual: Some(got),
                        replication: Some(r.index),
                    });
                }
            }
            Ok(())
        }
        Check::Range { min, max } => {
            for r in reps {
                let got = observe(e, r)?;
                let v = Decimal::from_str_exact(&got)
                    .map_err(|_| format!("{what} is not a number: {got}"))?;
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    let text = if let Subject::Ledger(q) = &e.subject {
                        format!(
                            "{what}: expected at least one such entry, found none (replication {}){}",
                            r.index,
                            ledger_near(sc, q, r, &cur)
                        )
                    } else {
                        format!(
                            "{what}: {} is outside [{}, {}] (replication {})",
                            show(&got),
                            bound(min),
                            bound(max),
                            r.index
                        )
                    };
                    return Err(Miss {
                        text,
                        expected: Some(range_text(min, max)),
                        actual: Some(v.to_string()),
                        replication: Some(r.index),
                    });
                }
            }
            Ok(())
        }
        Check::Mean { min, max } => {
            let mut sum = Decimal::ZERO;
            for r in reps {
                let got = observe(e, r)?;
                sum += Decimal::from_str_exact(&got)
                    .map_err(|_| format!("{what} is not a number: {got}"))?;
            }
            let mean = sum / Decimal::from(reps.len().max(1) as u64);
            if min.is_some_and(|m| mean < m) || max.is_some_and(|m| mean > m) {
                let m4 = mean.round_dp(4);
                return Err(Miss {
                    text: format!(
                        "{what}: mean {} over {} replications is outside [{}, {}]",
                        show(&m4.to_string()),
                        reps.len(),
                        bound(min),
                        bound(max)
                    ),
                    expected: Some(range_text(min, max)),
                    actual: Some(m4.to_string()),
                    replication: None,
                });
            }
            Ok(())
        }
        Check::Count(n) => {
            if let Subject::Fired(id) = e.subject {
                return if fired.contains(id) == (*n > 0) {
                    Ok(())
                } else {
                    Err(Miss {
                        text: format!("rule {id} {} fire", if *n > 0 { "did not" } else { "did" }),
                        expected: Some(if *n > 0 { "fired" } else { "not fired" }.into()),
                        actual: Some(if *n > 0 { "not fired" } else { "fired" }.into()),
                        replication: None,
                    })
                };
            }
            for r in reps {
                let got = observe(e, r)?;
                if got != n.to_string() {
                    let near = match &e.subject {
                        Subject::Ledger(q) => ledger_near(sc, q, r, &cur),
                        Subject::RefusalsWith(id, _) | Subject::Refusals(id) => {
                            refusals_near(*id, r)
                        }
                        _ => String::new(),
                    };
                    return Err(Miss {
                        text: format!(
                            "{what}: expected {n}, got {got} (replication {}){near}",
                            r.index
                        ),
                        expected: Some(n.to_string()),
                        actual: Some(got),
                        replication: Some(r.index),
                    });
                }
            }
            Ok(())
        }
    }
}

/// An account as the scenario names it: `creator:ana`, `reward-budget`.
fn account_name(sc: &Scenario, a: crate::rules::ledger::Account) -> String {
    use crate::rules::ledger::Account;
    match a {
        Account::Seller(i) => format!(
            "seller:{}",
            sc.named.sellers.get(i as usize).map_or_else(
                || crate::model::SellerId(i).generated_name(),
                |x| x.name.clone()
            )
        ),
        Account::Creator(i) => format!(
            "creator:{}",
            sc.named.creators.get(i as usize).map_or_else(
                || crate::model::CreatorId(i).generated_name(),
                |x| x.name.clone()
            )
        ),
        Account::Distributor(i) => format!(
            "distributor:{}",
            sc.named
                .distributors
                .get(i as usize)
                .cloned()
                .unwrap_or_else(|| format!("distributor#{i}"))
        ),
        other => other.to_string(),
    }
}

/// The entries of the query's kind (and accounts, when they match any) that a failed ledger
/// expectation saw, to show how close the run came: at most five.
fn ledger_near(
    sc: &Scenario,
    q: &crate::scenario::LedgerQuery,
    r: &Replication,
    cur: &Currency,
) -> String {
    let same_kind: Vec<_> = r.entries.iter().filter(|x| x.kind == q.kind).collect();
    if same_kind.is_empty() {
        return format!("; the run has no {} entries", q.kind.as_str());
    }
    let mut out = format!("; {} entries in the run:", q.kind.as_str());
    for x in same_kind.iter().take(5) {
        out.push_str(&format!(
            "\n{} → {}  {}  at {}",
            account_name(sc, x.from),
            account_name(sc, x.to),
            money_text(x.amount.0, cur),
            sc.calendar.stamp(x.at)
        ));
    }
    if same_kind.len() > 5 {
        out.push_str(&format!("\n… and {} more", same_kind.len() - 5));
    }
    out
}

/// The refusals naming a rule, with their messages, for a failed `refusal` expectation.
fn refusals_near(id: crate::rules::catalogue::RuleId, r: &Replication) -> String {
    let msgs: Vec<&str> = r
        .refusals
        .iter()
        .filter(|(x, _)| *x == id)
        .map(|(_, m)| m.as_str())
        .collect();
    if msgs.is_empty() {
        String::new()
    } else {
        format!("; refusals naming {id}: {}", msgs.join("; "))
    }
}

fn fmt_opt(d: &Option<Decimal>) -> String {
    d.map(|x| x.to_string()).unwrap_or_else(|| "…".into())
}

fn describe(sc: &Scenario, s: &Subject) -> String {
    use crate::scenario::{AccountRef, PlusField};
    let creator = |c: crate::model::CreatorId| {
        sc.named
            .creators
            .get(c.idx())
            .map_or_else(|| c.generated_name(), |x| x.name.clone())
    };
    match s {
        Subject::Metric(m) => format!("metric {}", m.name()),
        Subject::End(m) => format!(
            "metric {}",
            match m {
                crate::metrics::EndMetric::SellerNet => "seller_net",
                crate::metrics::EndMetric::PlatformNet => "platform_net",
                crate::metrics::EndMetric::CommissionsPending => "commissions_pending",
            }
        ),
        Subject::LedgerBalanced => "ledger_balanced".into(),
        Subject::Order { order, field } => {
            let idx = OrderField::NAMES
                .iter()
                .position(|n| OrderField::parse(n) == Some(*field))
                .unwrap_or(0);
            format!(
                "order {} {}",
                sc.orders[*order as usize].name,
                OrderField::NAMES[idx]
            )
        }
        Subject::Account(a) => match a {
            AccountRef::Seller(x) => format!(
                "account seller:{}",
                sc.named
                    .sellers
                    .get(x.idx())
                    .map_or_else(|| x.generated_name(), |s| s.name.clone())
            ),
            AccountRef::Creator(x) => format!("account creator:{}", creator(*x)),
            AccountRef::Distributor(x) => format!(
                "account distributor:{}",
                sc.named
                    .distributors
                    .get(*x as usize)
                    .cloned()
                    .unwrap_or_default()
            ),
            AccountRef::Platform => "account platform".into(),
            AccountRef::Buyers => "account buyers".into(),
            AccountRef::Escrow => "account escrow".into(),
        },
        Subject::Refusals(id) => format!("refusals naming {id}"),
        Subject::RefusalsWith(id, m) => format!("refusals naming {id} with {m:?}"),
        Subject::Ledger(q) => {
            let cur = Currency::of(&sc.region);
            let mut d = format!("ledger {}", q.kind.as_str());
            if q.from.is_some() || q.to.is_some() {
                let side = |a: Option<crate::rules::ledger::Account>| {
                    a.map_or_else(|| "any".into(), |a| account_name(sc, a))
                };
                d.push_str(&format!(" {} → {}", side(q.from), side(q.to)));
            }
            if let Some(m) = q.amount {
                d.push_str(&format!(" of {}", money_text(m.0, &cur)));
            }
            match q.window {
                Some((a, b)) if a == b => d.push_str(&format!(" at {}", sc.calendar.stamp(a))),
                Some((a, b)) => d.push_str(&format!(
                    " between {} and {}",
                    sc.calendar.stamp(a),
                    sc.calendar.stamp(b)
                )),
                None => {}
            }
            d
        }
        Subject::Fired(id) => format!("rule {id}"),
        Subject::Plus {
            campaign,
            creator: c,
            field,
        } => {
            let idx = PlusField::NAMES
                .iter()
                .position(|n| PlusField::parse(n) == Some(*field))
                .unwrap_or(0);
            format!(
                "plus {}{} {}",
                sc.plus[campaign.index()].name,
                c.map(|c| format!(" creator {}", creator(c)))
                    .unwrap_or_default(),
                PlusField::NAMES[idx]
            )
        }
    }
}
