//! Checking scenarios against their expectations: the engine of `affsim check`.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::experiment::{self, RunConfig};
use crate::rules::catalogue::RuleSet;
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
    pub failures: Vec<String>,
    /// Expectations checked.
    pub checked: usize,
    pub replications: u32,
    /// Rules that fired in the run, or the rule of an expected rejection.
    pub fired: RuleSet,
}

/// Finds scenario files: each path is a file, or a folder searched recursively for `*.toml`.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or folder", p.display()));
        }
    }
    out.sort();
    Ok(out)
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
            let e = &errs[0];
            let mut failures = Vec::new();
            if let Some(rule) = &exp.rule
                && e.rule.map(|r| r.to_string()).as_deref() != Some(rule.as_str())
            {
                failures.push(format!("expected a rejection naming {rule}, got: {e}"));
            }
            if let Some(m) = &exp.message
                && !e.message.contains(m.as_str())
            {
                failures.push(format!(
                    "expected the message to contain {m:?}, got: {}",
                    e.message
                ));
            }
            if let Some(l) = exp.line
                && e.line != Some(l)
            {
                failures.push(format!(
                    "expected the error on line {l}, got {}",
                    e.location()
                ));
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
        failures: vec![msg],
        checked: 0,
        replications: 0,
        fired: RuleSet::EMPTY,
    }
}

/// Runs a valid scenario and checks its expectations.
pub fn check_scenario(sc: &Scenario, threads: Option<usize>) -> Verdict {
    let cfg = RunConfig {
        threads,
        ..Default::default()
    };
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
            failures.push(format!("{}: {m}{note}", e.place));
        }
    }
    if sc.expectations.is_empty() {
        failures.push(format!(
            "{}: the scenario has no expectations to check",
            sc.file
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
fn observe(e: &Expectation, r: &Replication) -> Result<String, String> {
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
                _ => return Err(format!("the order was refused: {refusal}")),
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
        Subject::Fired(id) => u64::from(r.fired.contains(*id)).to_string(),
        Subject::Plus {
            campaign,
            creator,
            field,
        } => {
            use crate::scenario::PlusField as F;
            let p = &r.plus[*campaign as usize];
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
                (F::Reward | F::CreatorStatus, _) => "not joined".into(),
            }
        }
    })
}

fn evaluate(
    sc: &Scenario,
    e: &Expectation,
    reps: &[Replication],
    fired: RuleSet,
) -> Result<(), String> {
    let what = describe(sc, &e.subject);
    match &e.check {
        Check::Equals(want) => {
            for r in reps {
                let got = observe(e, r)?;
                if !eq_text(want, &got) {
                    return Err(format!(
                        "{what}: expected {want}, got {got} (replication {})",
                        r.index
                    ));
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
                    return Err(format!(
                        "{what}: {v} is outside [{}, {}] (replication {})",
                        fmt_opt(min),
                        fmt_opt(max),
                        r.index
                    ));
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
                return Err(format!(
                    "{what}: mean {} over {} replications is outside [{}, {}]",
                    mean.round_dp(4),
                    reps.len(),
                    fmt_opt(min),
                    fmt_opt(max)
                ));
            }
            Ok(())
        }
        Check::Count(n) => {
            if let Subject::Fired(id) = e.subject {
                return if fired.contains(id) == (*n > 0) {
                    Ok(())
                } else {
                    Err(format!(
                        "rule {id} {} fire",
                        if *n > 0 { "did not" } else { "did" }
                    ))
                };
            }
            for r in reps {
                let got = observe(e, r)?;
                if got != n.to_string() {
                    return Err(format!(
                        "{what}: expected {n}, got {got} (replication {})",
                        r.index
                    ));
                }
            }
            Ok(())
        }
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
                sc.plus[*campaign as usize].name,
                c.map(|c| format!(" creator {}", creator(c)))
                    .unwrap_or_default(),
                PlusField::NAMES[idx]
            )
        }
    }
}
