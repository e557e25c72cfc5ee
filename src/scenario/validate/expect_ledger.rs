//! Ledger expectations: `[[expect_ledger]]` — how many ledger entries of a kind, between
//! accounts, of an amount, at a minute or within a window (issue 14).

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::{V, time_at};
use super::names::NameTable;

/// Resolves `[[expect_ledger]]` tables into [`Subject::Ledger`] expectations: the kind by its
/// `ledger.csv` name, accounts by name, the amount, `at` or `between` (inclusive) as simulated
/// times, and `count` (exact) or, by default, at least one matching entry.
pub(super) fn resolve(
    v: &mut V,
    raw: &[Spanned<ExpectLedgerRaw>],
    names: &NameTable,
    cal: &Calendar,
    out: &mut Vec<Expectation>,
) {
    use crate::rules::ledger::{Account, EntryKind};
    let NameTable {
        sellers,
        creators,
        distributors,
        ..
    } = names;
    let account = |v: &mut V, a: &Spanned<String>| -> Option<Account> {
        let s = a.get_ref();
        let (kind, name) = s.split_once(':').unwrap_or((s.as_str(), ""));
        let nm = Spanned::new(a.span(), name.to_string());
        match kind {
            "platform" => Some(Account::Platform),
            "buyers" => Some(Account::Buyers),
            "escrow" => Some(Account::Escrow),
            "reward-budget" => Some(Account::RewardBudget),
            "flat-fee-hold" => Some(Account::FlatFeeHold),
            "service-fee-hold" => Some(Account::ServiceFeeHold),
            "seller" => sellers.get(v, &nm).map(Account::Seller),
            "creator" => creators.get(v, &nm).map(Account::Creator),
            "distributor" => distributors.get(v, &nm).map(Account::Distributor),
            _ => {
                v.err(a.span(), format!("`{s}` is not an account: expected platform, buyers, escrow, reward-budget, flat-fee-hold, service-fee-hold, seller:ID, creator:ID or distributor:ID"), None);
                None
            }
        }
    };
    for e in raw {
        let x = e.get_ref();
        let errors = v.errs.len();
        let kind = EntryKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == x.kind.get_ref());
        if kind.is_none() {
            let names: Vec<&str> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
            v.err(
                x.kind.span(),
                format!(
                    "unknown ledger entry kind `{}`: expected one of {}",
                    x.kind.get_ref(),
                    names.join(", ")
                ),
                None,
            );
        }
        let from = x.from.as_ref().and_then(|a| account(v, a));
        let to = x.to.as_ref().and_then(|a| account(v, a));
        let window = match (&x.at, &x.between) {
            (Some(a), None) => {
                let t = time_at(v, cal, a);
                Some((t, t))
            }
            (None, Some(b)) => match b.get_ref().as_slice() {
                [lo, hi] => {
                    let (l, h) = (time_at(v, cal, lo), time_at(v, cal, hi));
                    if h < l {
                        v.err(
                            hi.span(),
                            format!("`between` ends ({}) before it starts ({}): the expectation could never pass", hi.get_ref(), lo.get_ref()),
                            None,
                        );
                    }
                    Some((l, h))
                }
                _ => {
                    v.err(
                        b.span(),
                        "`between` takes two times: [\"YYYY-MM-DD HH:MM\", \"YYYY-MM-DD HH:MM\"] (both included)",
                        None,
                    );
                    None
                }
            },
            (Some(_), Some(b)) => {
                v.err(
                    b.span(),
                    "`at` with `between`: a ledger expectation takes one of them",
                    None,
                );
                None
            }
            (None, None) => None,
        };
        if let Some(m) = &x.amount
            && m.get_ref().0.is_sign_negative()
        {
            v.err(
                m.span(),
                "a ledger amount is never negative (entries move money from `from` to `to`)",
                None,
            );
        }
        let (Some(kind), true) = (kind, v.errs.len() == errors) else {
            continue;
        };
        let check = match &x.count {
            Some(n) => Check::Count(*n.get_ref()),
            None => Check::Range {
                min: Some(Decimal::ONE),
                max: None,
            },
        };
        out.push(Expectation {
            subject: Subject::Ledger(LedgerQuery {
                kind,
                from,
                to,
                amount: x.amount.as_ref().map(|m| *m.get_ref()),
                window,
            }),
            check,
            place: format!("{}:{}", v.file, v.line_of(&e.span())),
            line: v.line_of(&e.span()),
            note: x.note.clone(),
        });
    }
}
