//! Region, calendar and rule options: `[scenario]` and `[rules]`.

use toml::Spanned;

use super::super::format::*;
use super::super::*;
use super::context::V;
use crate::money::Rounding;
use crate::rules::plans::DecreaseLock;

/// The resolved `[scenario]` and `[rules]` tables: what every later part measures against.
pub(super) struct RegionPart {
    pub(super) region: Region,
    pub(super) calendar: Calendar,
    pub(super) days: u32,
    pub(super) replications: u32,
    pub(super) opts: RuleOptions,
}

/// Days of the Open decrease lock (H-4), its warning, and the sample post and extension
/// periods (OPEN-3) when the file does not set them.
const LOCK_DAYS: u32 = 30;
const WARN_DAYS: u32 = 2;
const SAMPLE_POST_DAYS: u32 = 14;
const SAMPLE_EXTENSION_DAYS: u32 = 7;

/// Checks `[scenario]` (region, currency, dates, counts) and `[rules]`; sets the latest time a
/// scripted event may have (`v.latest`).
pub(super) fn resolve(v: &mut V, raw: &File) -> RegionPart {
    let sec = raw.scenario.get_ref();
    let code = sec.region.get_ref().to_uppercase();
    let known = match code.as_str() {
        "ID" => Some(("IDR", 0, 6)),
        "UK" | "GB" => Some(("GBP", 2, 14)),
        "US" => Some(("USD", 2, 15)),
        "VN" => Some(("VND", 0, 14)),
        _ => None,
    };
    // names and codes shown in reports: no control characters, no empty currency
    if let Some(c) = sec.name.get_ref().chars().find(|c| c.is_control()) {
        v.err(
            sec.name.span(),
            format!(
                "the scenario name must not contain control characters (found U+{:04X})",
                c as u32
            ),
            None,
        );
    }
    if sec.name.get_ref().trim().is_empty() {
        v.err(
            sec.name.span(),
            "the scenario name must not be empty: it names the report and its folder",
            None,
        );
    }
    if let Some(cur) = &sec.currency {
        let t = cur.get_ref();
        if t.trim().is_empty() || t.chars().any(|c| c.is_control() || c.is_whitespace()) {
            v.err(
                cur.span(),
                format!(
                    "`currency` = {t:?} is not a currency code: expected letters such as \"USD\""
                ),
                Some(RuleId::Settle2),
            );
        }
    }
    let after_sales = raw.rules.after_sales_days.as_ref().map(|s| *s.get_ref());
    let (currency, minor_unit, after_sales_days) = match known {
        Some((c, m, d)) => (
            sec.currency
                .as_ref()
                .map_or_else(|| c.to_string(), |s| s.get_ref().clone()),
            sec.minor_unit.as_ref().map_or(m, |s| *s.get_ref()),
            after_sales.unwrap_or(d),
        ),
        None => {
            if sec.currency.is_none() || sec.minor_unit.is_none() || after_sales.is_none() {
                v.err(
                    sec.region.span(),
                    format!(
                        "region `{}` has no built-in settings (known: ID, UK, US, VN): set scenario.currency, scenario.minor_unit and rules.after_sales_days",
                        sec.region.get_ref()
                    ),
                    Some(RuleId::Settle2),
                );
            }
            (
                sec.currency
                    .as_ref()
                    .map(|s| s.get_ref().clone())
                    .unwrap_or_default(),
                sec.minor_unit.as_ref().map_or(2, |s| *s.get_ref()),
                after_sales.unwrap_or(7),
            )
        }
    };
    if minor_unit > 8 {
        let sp = sec
            .minor_unit
            .as_ref()
            .map(|s| s.span())
            .unwrap_or(raw.scenario.span());
        v.err(
            sp,
            format!("minor_unit {minor_unit} is not a currency's number of decimals (0–8)"),
            Some(RuleId::Money1),
        );
    }
    if after_sales_days > 365
        && let Some(s) = &raw.rules.after_sales_days
    {
        v.err(
            s.span(),
            "after_sales_days must be at most 365",
            Some(RuleId::Settle2),
        );
    }
    let start = match chrono::NaiveDate::parse_from_str(sec.start.get_ref().trim(), "%Y-%m-%d") {
        Ok(d) => d,
        Err(_) => {
            v.err(
                sec.start.span(),
                format!(
                    "`{}` is not a date: expected \"YYYY-MM-DD\"",
                    sec.start.get_ref()
                ),
                None,
            );
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date")
        }
    };
    let start = if (1900..=9000).contains(&chrono::Datelike::year(&start)) {
        start
    } else {
        v.err(
            sec.start.span(),
            format!(
                "`{}` is outside the supported years 1900–9000",
                sec.start.get_ref()
            ),
            None,
        );
        chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date")
    };
    let calendar = Calendar::new(start);
    let days = *sec.days.get_ref();
    if days == 0 || days > 3650 {
        v.err(
            sec.days.span(),
            format!("`days` must be from 1 to 3650, got {days}"),
            None,
        );
    }
    v.latest = SimTime::start_of_day(days.min(3650) + 730);
    let replications = sec.replications.as_ref().map_or(1, |r| *r.get_ref());
    if let Some(r) = &sec.replications
        && (replications == 0 || replications > 1_000_000)
    {
        v.err(
            r.span(),
            format!("`replications` must be from 1 to 1000000, got {replications}"),
            None,
        );
    }

    let r = &raw.rules;
    let pos = |v: &mut V, x: &Option<Spanned<u32>>, key: &str, d: u32| match x {
        Some(s) if *s.get_ref() == 0 || *s.get_ref() > 3650 => {
            v.err(
                s.span(),
                format!("`{key}` must be from 1 to 3650 days"),
                None,
            );
            d
        }
        Some(s) => *s.get_ref(),
        None => d,
    };
    let lock_days = pos(
        v,
        &r.open_decrease_lock_days,
        "open_decrease_lock_days",
        LOCK_DAYS,
    );
    let warn_days = pos(
        v,
        &r.open_decrease_warning_days,
        "open_decrease_warning_days",
        WARN_DAYS,
    );
    if warn_days >= lock_days
        && let Some(s) = &r.open_decrease_warning_days
    {
        v.err(s.span(), "the warning must come before the lock ends: open_decrease_warning_days < open_decrease_lock_days", Some(RuleId::H4));
    }
    let opts = RuleOptions {
        rounding: Rounding {
            mode: r.rounding,
            minor_unit,
        },
        after_sales_days,
        late_refund: r.refund_after_settlement,
        decrease_lock: r.open_decrease_lock.then_some(DecreaseLock {
            days: lock_days,
            warn_days,
        }),
        sample_post_days: pos(v, &r.sample_post_days, "sample_post_days", SAMPLE_POST_DAYS),
        sample_extension_days: pos(
            v,
            &r.sample_extension_days,
            "sample_extension_days",
            SAMPLE_EXTENSION_DAYS,
        ),
        help_centre_region: matches!(code.as_str(), "US" | "VN"),
        distributor_sets_split: raw.rules.distributor_split == Some(SplitRaw::Distributor),
        ad_precedence: raw.rules.ad_precedence,
        open_raise_during_plus: raw.rules.open_raise_during_plus,
        ended_plan_entry: raw.rules.ended_plan_entry,
        target_rate_change: raw.rules.target_rate_change,
        plus_fee_measure: raw.rules.plus_fee_measure,
        registration_edit: raw.rules.registration_edit,
    };

    RegionPart {
        region: Region {
            code,
            currency,
            minor_unit,
        },
        calendar,
        days,
        replications,
        opts,
    }
}
