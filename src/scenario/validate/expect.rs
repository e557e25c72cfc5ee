//! Expectations: `[[expect]]` — what a run must show (a metric, an order's field, an
//! account, refusals or firings of a rule, a Plus figure) and the check applied to it.

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::V;
use super::names::NameTable;

/// Resolves the expectations in file order.
pub(super) fn resolve(
    v: &mut V,
    raw: &[Spanned<ExpectRaw>],
    names: &NameTable,
) -> Vec<Expectation> {
    let mut expectations = Vec::new();
    for e in raw {
        let place = format!("{}:{}", v.file, v.line_of(&e.span()));
        let x = e.get_ref();
        let subjects = [
            x.metric.is_some(),
            x.order.is_some(),
            x.account.is_some(),
            x.refusal.is_some(),
            x.plus.is_some(),
            x.fired.is_some(),
        ];
        if subjects.iter().filter(|b| **b).count() != 1 {
            v.err(e.span(), "an expectation names exactly one of `metric`, `order`, `account`, `refusal`, `fired` or `plus`", None);
            continue;
        }
        let Some(subject) = subject(v, x, names) else {
            continue;
        };
        let Some(check) = check(v, e, x, &subject) else {
            continue;
        };
        expectations.push(Expectation {
            subject,
            check,
            place,
            line: v.line_of(&e.span()),
            note: x.note.clone(),
        });
    }
    expectations
}

/// What an expectation looks at, its names resolved.
fn subject(v: &mut V, x: &ExpectRaw, names: &NameTable) -> Option<Subject> {
    let NameTable {
        sellers,
        creators,
        distributors,
        plus: plus_names,
        orders: order_names,
        ..
    } = names;
    let rule_id = |v: &mut V, s: &Spanned<String>| {
        let r = RuleId::parse(s.get_ref());
        if r.is_none() {
            v.err(
                s.span(),
                format!(
                    "`{}` is not a rule ID of the catalogue (e.g. \"OPEN-4\"; see docs/rules.md)",
                    s.get_ref()
                ),
                None,
            );
        }
        r
    };
    let subject = if let Some(m) = &x.metric {
        let name = m.get_ref().as_str();
        match (Metric::parse(name), name) {
            (Some(mm), _) => Subject::Metric(mm),
            (None, "seller_net") => Subject::End(EndMetric::SellerNet),
            (None, "platform_net") => Subject::End(EndMetric::PlatformNet),
            (None, "commissions_pending") => Subject::End(EndMetric::CommissionsPending),
            (None, "ledger_balanced") => Subject::LedgerBalanced,
            _ => {
                v.err(
                    m.span(),
                    format!("unknown metric `{name}` (see docs/scenario-format.md for the list)"),
                    None,
                );
                return None;
            }
        }
    } else if let Some(o) = &x.order {
        let oi = order_names.get(v, o)?;
        let Some(f) = &x.field else {
            v.err(
                o.span(),
                format!(
                    "an order expectation needs `field`: one of {}",
                    OrderField::NAMES.join(", ")
                ),
                None,
            );
            return None;
        };
        let Some(field) = OrderField::parse(f.get_ref()) else {
            v.err(
                f.span(),
                format!(
                    "unknown order field `{}`: expected one of {}",
                    f.get_ref(),
                    OrderField::NAMES.join(", ")
                ),
                None,
            );
            return None;
        };
        Subject::Order { order: oi, field }
    } else if let Some(a) = &x.account {
        let s = a.get_ref();
        let (kind, name) = s.split_once(':').unwrap_or((s.as_str(), ""));
        let nm = Spanned::new(a.span(), name.to_string());
        let r = match kind {
            "platform" => Some(AccountRef::Platform),
            "buyers" => Some(AccountRef::Buyers),
            "escrow" => Some(AccountRef::Escrow),
            "seller" => sellers.get(v, &nm).map(|i| AccountRef::Seller(SellerId(i))),
            "creator" => creators
                .get(v, &nm)
                .map(|i| AccountRef::Creator(CreatorId(i))),
            "distributor" => distributors.get(v, &nm).map(AccountRef::Distributor),
            _ => {
                v.err(a.span(), format!("`{s}` is not an account: expected platform, buyers, escrow, seller:ID, creator:ID or distributor:ID"), None);
                None
            }
        };
        let r = r?;
        Subject::Account(r)
    } else if let Some(r) = &x.refusal {
        let id = rule_id(v, r)?;
        match &x.message {
            Some(m) => Subject::RefusalsWith(id, m.get_ref().clone()),
            None => Subject::Refusals(id),
        }
    } else if let Some(r) = &x.fired {
        let id = rule_id(v, r)?;
        Subject::Fired(id)
    } else if let Some(pn) = &x.plus {
        let campaign = plus_names.get(v, pn)?;
        let creator = match &x.creator {
            Some(c) => match creators.get(v, c) {
                Some(id) => Some(CreatorId(id)),
                None => return None,
            },
            None => None,
        };
        let Some(f) = &x.field else {
            v.err(
                pn.span(),
                format!(
                    "a Plus expectation needs `field`: one of {}",
                    PlusField::NAMES.join(", ")
                ),
                None,
            );
            return None;
        };
        let Some(field) = PlusField::parse(f.get_ref()) else {
            v.err(
                f.span(),
                format!(
                    "unknown Plus field `{}`: expected one of {}",
                    f.get_ref(),
                    PlusField::NAMES.join(", ")
                ),
                None,
            );
            return None;
        };
        if field != PlusField::Samples
            && creator.is_some()
                != matches!(
                    field,
                    PlusField::Reward | PlusField::CreatorStatus | PlusField::Rank
                )
        {
            v.err(
                f.span(),
                "`reward`, `creator_status` and `rank` need `creator`; `samples` takes one or none; the other Plus fields take none",
                None,
            );
            return None;
        }
        Subject::Plus {
            campaign: PlusId(campaign),
            creator,
            field,
        }
    } else {
        return None;
    };
    Some(subject)
}

/// The check of an expectation (`equals`, a range, a mean range or a count) for `subject`.
fn check(v: &mut V, e: &Spanned<ExpectRaw>, x: &ExpectRaw, subject: &Subject) -> Option<Check> {
    let dec = |v: &mut V, s: &Option<Spanned<String>>| -> Option<Decimal> {
        let s = s.as_ref()?;
        match Decimal::from_str_exact(s.get_ref().trim()) {
            Ok(d) => Some(d),
            Err(_) => {
                v.err(
                    s.span(),
                    format!("`{}` is not a decimal number", s.get_ref()),
                    None,
                );
                None
            }
        }
    };
    let numeric = matches!(subject, Subject::Metric(..) | Subject::Account(..));
    if let (Some(eq), true) = (&x.equals, numeric)
        && Decimal::from_str_exact(eq.get_ref().trim()).is_err()
    {
        v.err(
                eq.span(),
                format!("`equals` = \"{}\" is not a number, and this figure always is: the expectation could never pass", eq.get_ref()),
                None,
            );
    }
    // a count is a whole number from 0 in every replication (its mean is from 0)
    if let Subject::Metric(m) = &subject
        && m.unit() == crate::metrics::Unit::Count
    {
        for (key, s, whole) in [
            ("equals", &x.equals, true),
            ("max", &x.max, true),
            ("mean_max", &x.mean_max, false),
        ] {
            if let Some(s) = s
                && let Ok(d) = Decimal::from_str_exact(s.get_ref().trim())
                && (d < Decimal::ZERO || (whole && key == "equals" && !d.fract().is_zero()))
            {
                v.err(
                    s.span(),
                    format!(
                        "`{key}` = \"{}\", but `{}` is a count: a whole number from 0{}: the expectation could never pass",
                        s.get_ref(),
                        m.name(),
                        if whole { " in every replication" } else { "" }
                    ),
                    None,
                );
            }
        }
    }
    if let Some(eq) = &x.equals {
        for (key, other) in [
            ("min", &x.min),
            ("max", &x.max),
            ("mean_min", &x.mean_min),
            ("mean_max", &x.mean_max),
        ] {
            if let Some(o) = other {
                v.err(
                    o.span(),
                    format!(
                        "`{key}` with `equals` = \"{}\": an expectation checks one of them",
                        eq.get_ref()
                    ),
                    None,
                );
            }
        }
    }
    for (lo, hi, lo_key, hi_key) in [
        (&x.min, &x.max, "min", "max"),
        (&x.mean_min, &x.mean_max, "mean_min", "mean_max"),
    ] {
        if let (Some(l), Some(h)) = (lo, hi)
            && let (Ok(a), Ok(b)) = (
                Decimal::from_str_exact(l.get_ref().trim()),
                Decimal::from_str_exact(h.get_ref().trim()),
            )
            && a > b
        {
            v.err(
                h.span(),
                format!("`{hi_key}` {b} is below `{lo_key}` {a}: the expectation could never pass"),
                None,
            );
        }
    }
    let check = if let Some(eq) = &x.equals {
        Check::Equals(eq.get_ref().clone())
    } else if x.min.is_some() || x.max.is_some() {
        Check::Range {
            min: dec(v, &x.min),
            max: dec(v, &x.max),
        }
    } else if x.mean_min.is_some() || x.mean_max.is_some() {
        Check::Mean {
            min: dec(v, &x.mean_min),
            max: dec(v, &x.mean_max),
        }
    } else if let Some(n) = x.count {
        Check::Count(n)
    } else if matches!(subject, Subject::Fired(_)) {
        Check::Count(1)
    } else {
        v.err(
            e.span(),
            "an expectation needs `equals`, `min`/`max`, `mean_min`/`mean_max` or `count`",
            None,
        );
        return None;
    };
    if let (Some(m), None) = (&x.message, &x.refusal) {
        v.err(
            m.span(),
            "`message` is for `refusal` expectations (the refusal's message contains it)",
            None,
        );
    }
    if matches!(subject, Subject::Refusals(_) | Subject::RefusalsWith(..))
        && !matches!(check, Check::Count(_))
    {
        v.err(e.span(), "a `refusal` expectation takes `count`", None);
        return None;
    }
    Some(check)
}
