//! Validation: checks a parsed scenario file and resolves it into a [`Scenario`].

use std::collections::HashMap;
use std::ops::Range;

use rust_decimal::Decimal;
use toml::Spanned;

use super::dist::DistRaw;
use super::format::*;
use super::*;
use crate::model::{DistributorId, UNLIMITED};
use crate::money::{Rounding, RoundingMode};
use crate::rules::plans::DecreaseLock;
use crate::time::{DAY, parse_datetime};

/// Most agents of each kind a scenario may ask for (memory is estimated up front too).
const MAX_AGENTS: u32 = 50_000_000;
/// Memory a replication may be estimated to need before the scenario is refused.
const MAX_BYTES: f64 = 16.0 * 1024.0 * 1024.0 * 1024.0;

struct V<'a> {
    file: &'a str,
    src: &'a str,
    /// Line starts of `src`, computed once (error places in linear time).
    lines: super::error::LineIndex,
    errs: Vec<ScenarioError>,
    warns: Vec<ScenarioError>,
    /// The latest time a scripted event may have: two years after the run's last day.
    latest: SimTime,
}

impl V<'_> {
    fn warn(&mut self, span: Range<usize>, msg: impl Into<String>, rule: Option<RuleId>) {
        self.warns.push(ScenarioError::at_indexed(
            self.file,
            self.src,
            &self.lines,
            Some(span),
            msg,
            rule,
        ));
    }
    fn err(&mut self, span: Range<usize>, msg: impl Into<String>, rule: Option<RuleId>) {
        self.errs.push(ScenarioError::at_indexed(
            self.file,
            self.src,
            &self.lines,
            Some(span),
            msg,
            rule,
        ));
    }
    fn line_of(&self, span: &Range<usize>) -> usize {
        self.lines.line_of(span.start.min(self.src.len()))
    }
    fn prob(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            Some(s) if !(0.0..=1.0).contains(s.get_ref()) => {
                self.err(
                    s.span(),
                    format!(
                        "`{key}` is a probability: expected a number from 0 to 1, got {}",
                        s.get_ref()
                    ),
                    None,
                );
                default
            }
            Some(s) => *s.get_ref(),
            None => default,
        }
    }
    /// A number from `lo` to `hi` inclusive under `key`, or `default` when absent.
    fn within(
        &mut self,
        v: &Option<Spanned<f64>>,
        key: &str,
        default: f64,
        (lo, hi): (f64, f64),
    ) -> f64 {
        match v {
            Some(s) if !(s.get_ref().is_finite() && (lo..=hi).contains(s.get_ref())) => {
                self.err(
                    s.span(),
                    format!(
                        "`{key}` must be a number from {lo} to {hi}, got {}",
                        s.get_ref()
                    ),
                    None,
                );
                default
            }
            Some(s) => *s.get_ref(),
            None => default,
        }
    }
    fn nonneg(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
        match v {
            Some(s) if !(s.get_ref().is_finite() && *s.get_ref() >= 0.0) => {
                self.err(
                    s.span(),
                    format!("`{key}` must be a finite number ≥ 0, got {}", s.get_ref()),
                    None,
                );
                default
            }
            Some(s) => *s.get_ref(),
            None => default,
        }
    }
    /// The distribution under `key`, or `default` when it is absent or its table is malformed
    /// (each problem reported at the key or value at fault).
    fn dist(&mut self, v: Option<&Spanned<DistRaw>>, key: &str, default: Dist) -> Dist {
        let Some(s) = v else {
            return default;
        };
        match s.get_ref().to_dist(s.span()) {
            Ok(d) => {
                if let Err(m) = d.check() {
                    self.err(s.span(), format!("`{key}`: {m}"), None);
                }
                d
            }
            Err(problems) => {
                for (span, m) in problems {
                    self.err(span, format!("`{key}`: {m}"), None);
                }
                default
            }
        }
    }
    fn rate(&mut self, r: &Spanned<Rate>) -> Rate {
        if let Err(m) = r.get_ref().check_affiliate() {
            let rule = if m.contains("H-3") {
                RuleId::H3
            } else {
                RuleId::Rate1
            };
            self.err(r.span(), m, Some(rule));
        }
        *r.get_ref()
    }
}

/// A name table: name → dense index, remembering where each was defined.
struct Names {
    kind: &'static str,
    map: HashMap<String, (u32, usize)>,
}

impl Names {
    fn new(kind: &'static str) -> Names {
        Names {
            kind,
            map: HashMap::new(),
        }
    }
    fn define(&mut self, v: &mut V, id: &Spanned<String>) -> u32 {
        let n = self.map.len() as u32;
        let name = id.get_ref();
        if name.trim().is_empty() {
            v.err(
                id.span(),
                format!("a {} id must not be empty", self.kind),
                None,
            );
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            v.err(
                id.span(),
                format!(
                    "a {} id must not contain control characters (found U+{:04X})",
                    self.kind, c as u32
                ),
                None,
            );
        }
        if let Some(&(_, line)) = self.map.get(name) {
            v.err(
                id.span(),
                format!(
                    "duplicate {} id `{name}` (first defined on line {line})",
                    self.kind
                ),
                None,
            );
            return n;
        }
        let line = v.line_of(&id.span());
        self.map.insert(name.clone(), (n, line));
        n
    }
    fn get(&self, v: &mut V, id: &Spanned<String>) -> Option<u32> {
        match self.map.get(id.get_ref()) {
            Some(&(i, _)) => Some(i),
            None => {
                let mut known: Vec<&str> = self.map.keys().map(String::as_str).collect();
                known.sort_unstable();
                let hint = if known.is_empty() {
                    format!("no {}s are defined", self.kind)
                } else if known.len() <= 8 {
                    format!("known {}s: {}", self.kind, known.join(", "))
                } else {
                    format!("{} {}s are defined", known.len(), self.kind)
                };
                v.err(
                    id.span(),
                    format!("unknown {} `{}` ({hint})", self.kind, id.get_ref()),
                    None,
                );
                None
            }
        }
    }
}

fn rule_in(msg: &str) -> Option<RuleId> {
    RuleId::ALL
        .iter()
        .copied()
        .find(|r| msg.contains(&format!("({r})")))
}

pub(super) fn expected_rejection(src: &str) -> Option<ExpectInvalid> {
    let table: toml::Table = toml::from_str(src).ok()?;
    let raw: ExpectInvalidRaw = table.get("expect_invalid")?.clone().try_into().ok()?;
    Some(ExpectInvalid {
        rule: raw.rule,
        message: raw.message,
        line: raw.line,
    })
}

pub(super) fn parse(file: &str, src: &str) -> Result<Scenario, Vec<ScenarioError>> {
    if src.trim().is_empty() {
        return Err(vec![ScenarioError::whole(
            file,
            "the scenario file is empty: expected at least a [scenario] table with name, region, start and days",
        )]);
    }
    let raw: File = toml::from_str(src).map_err(|e| {
        let mut msg = e.message().trim().to_string();
        let rule = rule_in(&msg);
        // `start = 2025-10-01` is a TOML date, which reads as "a map" to serde: say what it is
        if let Some(sp) = e.span() {
            let at = src.get(sp.start..).unwrap_or_default();
            let date: String = at.chars().take_while(|c| !c.is_whitespace() && *c != ',' && *c != '}' && *c != '#').collect();
            let b = date.as_bytes();
            if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
                msg = format!("`{date}` is an unquoted TOML date: dates and times in scenario files are quoted strings, e.g. \"{}\"", &date[..10]);
            }
        }
        vec![ScenarioError::at(file, src, e.span(), msg, rule)]
    })?;
    let mut v = V {
        file,
        src,
        lines: super::error::LineIndex::new(src),
        errs: Vec::new(),
        warns: Vec::new(),
        latest: SimTime::NEVER,
    };
    let sc = resolve(&mut v, raw);
    if v.errs.is_empty() {
        Ok(sc)
    } else {
        Err(v.errs)
    }
}

fn time_at(v: &mut V, cal: &Calendar, s: &Spanned<String>) -> SimTime {
    // simulated time is in whole minutes: seconds would be dropped silently
    if s.get_ref().trim().matches(':').count() >= 2 && parse_datetime(s.get_ref()).is_some() {
        v.err(
            s.span(),
            format!(
                "`{}` has seconds, but simulated time is in whole minutes: write \"YYYY-MM-DD HH:MM\"",
                s.get_ref()
            ),
            Some(RuleId::Time1),
        );
        return SimTime::ZERO;
    }
    match parse_datetime(s.get_ref()) {
        None => {
            v.err(
                s.span(),
                format!(
                    "`{}` is not a date-time: expected \"YYYY-MM-DD\" or \"YYYY-MM-DD HH:MM\"",
                    s.get_ref()
                ),
                Some(RuleId::Time1),
            );
            SimTime::ZERO
        }
        Some(dt) => match cal.time_of(dt) {
            Some(t) if t > v.latest => {
                v.err(s.span(), format!("`{}` is more than two years after the run ends: scripted events must fall within the run and its drain", s.get_ref()), Some(RuleId::Time1));
                SimTime::ZERO
            }
            Some(t) => t,
            None => {
                v.err(
                    s.span(),
                    format!(
                        "`{}` is before the scenario starts ({})",
                        s.get_ref(),
                        cal.start
                    ),
                    Some(RuleId::Time1),
                );
                SimTime::ZERO
            }
        },
    }
}

/// The largest amount a scenario may name: sums of many such amounts stay far from the
/// decimal type's limit.
const MAX_MONEY: i64 = 1_000_000_000_000_000;

fn money_checked(v: &mut V, m: &Spanned<Money>, key: &str, minor: u32) -> Money {
    let x = *m.get_ref();
    if x.0 > Decimal::from(MAX_MONEY) {
        v.err(
            m.span(),
            format!("`{key}` = {x} is above the largest supported amount, {MAX_MONEY}"),
            Some(RuleId::Money1),
        );
        return Money::ZERO;
    }
    if x.is_negative() {
        v.err(
            m.span(),
            format!("`{key}` must not be negative, got {x}"),
            Some(RuleId::Money1),
        );
    } else if !(Rounding {
        mode: RoundingMode::HalfUp,
        minor_unit: minor,
    })
    .is_whole(x)
    {
        v.err(
            m.span(),
            format!("`{key}` = {x} has more decimals than the currency's minor unit ({minor})"),
            Some(RuleId::Money1),
        );
    }
    x
}

fn rate_range(v: &mut V, r: &Option<RateRange>, default: (&str, &str)) -> (Rate, Rate) {
    match r {
        Some(rr) => {
            let (a, b) = (v.rate(&rr.min), v.rate(&rr.max));
            if b < a {
                v.err(
                    rr.max.span(),
                    format!("`max` {b} is below `min` {a}"),
                    Some(RuleId::Rate1),
                );
            }
            (a, b)
        }
        None => (
            default.0.parse().unwrap_or_default(),
            default.1.parse().unwrap_or_default(),
        ),
    }
}

fn approval(v: &mut V, a: &Option<ApprovalRaw>) -> Approval {
    let Some(a) = a else {
        return Approval::default();
    };
    let name = match a.policy {
        ApprovalPolicyRaw::Auto => "auto",
        ApprovalPolicyRaw::Probability => "probability",
        ApprovalPolicyRaw::Criteria => "criteria",
    };
    let ignored = |key: &str, span: Option<Range<usize>>, v: &mut V| {
        if let Some(sp) = span {
            v.err(
                sp,
                format!("`{key}` has no effect with `policy = \"{name}\"`: remove it or choose the policy that uses it"),
                None,
            );
        }
    };
    if a.policy != ApprovalPolicyRaw::Probability {
        ignored("probability", a.probability.as_ref().map(|s| s.span()), v);
    }
    if a.policy != ApprovalPolicyRaw::Criteria {
        ignored(
            "min_followers",
            a.min_followers.as_ref().map(|s| s.span()),
            v,
        );
        ignored("min_level", a.min_level.as_ref().map(|s| s.span()), v);
    }
    let policy = match a.policy {
        ApprovalPolicyRaw::Auto => ApprovalPolicy::Auto,
        ApprovalPolicyRaw::Probability => {
            ApprovalPolicy::Probability(v.prob(&a.probability, "probability", 1.0))
        }
        ApprovalPolicyRaw::Criteria => ApprovalPolicy::Criteria {
            min_followers: a.min_followers.as_ref().map_or(0, |s| *s.get_ref()),
            min_level: a.min_level.as_ref().map_or(0, |s| *s.get_ref()),
        },
    };
    Approval {
        policy,
        delay: v.dist(a.delay.as_ref(), "delay", Dist::fixed(0.0)),
    }
}

fn resolve(v: &mut V, raw: File) -> Scenario {
    let sec = raw.scenario.get_ref();

    // ---- region, calendar
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

    // ---- rules
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
    let lock_days = pos(v, &r.open_decrease_lock_days, "open_decrease_lock_days", 30);
    let warn_days = pos(
        v,
        &r.open_decrease_warning_days,
        "open_decrease_warning_days",
        2,
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
        sample_post_days: pos(v, &r.sample_post_days, "sample_post_days", 14),
        sample_extension_days: pos(v, &r.sample_extension_days, "sample_extension_days", 7),
        help_centre_region: matches!(code.as_str(), "US" | "VN"),
        distributor_sets_split: raw.rules.distributor_split == Some(SplitRaw::Distributor),
        // ---- wt-rules (issue 14)
        ad_precedence: raw.rules.ad_precedence,
        open_raise_during_plus: raw.rules.open_raise_during_plus,
        // ---- end wt-rules
    };

    // ---- categories
    let mut categories: Vec<String> = Vec::new();
    let mut cat = |v: &mut V, name: &str, span: Range<usize>| -> u8 {
        if let Some(i) = categories.iter().position(|c| c == name) {
            return i as u8;
        }
        if categories.len() == 64 {
            v.err(span, "at most 64 product categories are supported", None);
            return 0;
        }
        categories.push(name.to_string());
        (categories.len() - 1) as u8
    };

    // ---- named agents
    let mut sellers = Names::new("seller");
    let mut named = Named::default();
    for s in &raw.sellers {
        sellers.define(v, &s.id);
        let shop = s.shop_plan_rate.as_ref().map(|r| v.rate(r));
        named.sellers.push(SellerSpec {
            name: s.id.get_ref().clone(),
            plus_enabled: s.plus_enabled,
            shop_plan_rate: shop,
        });
    }
    let mut products = Names::new("product");
    for p in &raw.products {
        products.define(v, &p.id);
        let seller = sellers.get(v, &p.seller).unwrap_or(0);
        let price = money_checked(v, &p.price, "price", minor_unit);
        let category = match &p.category {
            Some(c) => cat(v, c.get_ref(), c.span()),
            None => cat(v, "general", p.id.span()),
        };
        let popularity = match &p.popularity {
            Some(s) if !(s.get_ref().is_finite() && *s.get_ref() > 0.0) => {
                v.err(s.span(), "`popularity` must be a number > 0", None);
                1.0
            }
            Some(s) => *s.get_ref(),
            None => 1.0,
        };
        named.products.push(ProductSpec {
            name: p.id.get_ref().clone(),
            seller: SellerId(seller),
            price,
            category,
            eligible: p.affiliate_eligible,
            stock: p.stock.unwrap_or(UNLIMITED),
            popularity,
        });
    }
    let mut creators = Names::new("creator");
    for c in &raw.creators {
        creators.define(v, &c.id);
        let mut mask = 0u64;
        for k in &c.categories {
            mask |= 1u64 << cat(v, k.get_ref(), k.span());
        }
        let level = match &c.level {
            Some(l) if *l.get_ref() == 0 => {
                v.err(l.span(), "`level` starts at 1", None);
                1
            }
            Some(l) => *l.get_ref(),
            None => 1,
        };
        named.creators.push(CreatorSpec {
            name: c.id.get_ref().clone(),
            followers: c.followers,
            level,
            categories: mask,
            live: c.live,
        });
    }
    let mut distributors = Names::new("distributor");
    for d in &raw.distributors {
        distributors.define(v, &d.id);
        named.distributors.push(d.id.get_ref().clone());
    }

    // ---- populations
    let mut populations = Populations::default();
    let count = |v: &mut V, c: &Spanned<u32>, what: &str| {
        if *c.get_ref() > MAX_AGENTS {
            v.err(
                c.span(),
                format!("at most {MAX_AGENTS} {what} are supported"),
                None,
            );
        }
        *c.get_ref()
    };
    if let Some(sp) = &raw.populations.sellers {
        let s = sp.get_ref();
        populations.sellers = Some(SellerPop {
            count: count(v, &s.count, "sellers"),
            shop_plan_share: v.prob(&s.shop_plan_share, "shop_plan_share", 0.5),
            shop_plan_rate: rate_range(v, &s.shop_plan_rate, ("5%", "10%")),
            open_plan_share: v.prob(&s.open_plan_share, "open_plan_share", 0.7),
            open_rate: rate_range(v, &s.open_rate, ("8%", "20%")),
            open_samples: s.open_samples.unwrap_or(0),
            plus_enabled_share: v.prob(&s.plus_enabled_share, "plus_enabled_share", 0.0),
            approval: approval(v, &s.approval),
        });
    }
    if let Some(pp) = &raw.populations.products {
        let p = pp.get_ref();
        if named.sellers.is_empty() && populations.sellers.as_ref().is_none_or(|s| s.count == 0) {
            v.err(
                pp.span(),
                "a product population needs sellers: define [[sellers]] or [populations.sellers]",
                None,
            );
        }
        let price = v.dist(Some(&p.price), "price", Dist::fixed(1.0));
        if price.mean() > MAX_MONEY as f64 {
            v.err(
                p.price.span(),
                format!(
                    "prices around {:.3e} are above the largest supported amount, {MAX_MONEY}",
                    price.mean()
                ),
                Some(RuleId::Money1),
            );
        }
        let cats: Vec<u8> = if p.categories.is_empty() {
            vec![cat(v, "general", pp.span())]
        } else {
            p.categories.iter().map(|c| cat(v, c, pp.span())).collect()
        };
        populations.products = Some(ProductPop {
            count: count(v, &p.count, "products"),
            price,
            categories: cats,
            eligible_share: v.prob(&p.eligible_share, "eligible_share", 1.0),
            stock: p.stock.unwrap_or(UNLIMITED),
            zipf_exponent: v.nonneg(&p.zipf_exponent, "zipf_exponent", 1.0),
        });
    }
    if let Some(cp) = &raw.populations.creators {
        let c = cp.get_ref();
        let followers = v.dist(Some(&c.followers), "followers", Dist::fixed(1000.0));
        let weights = match &c.level_weights {
            Some(w) => {
                if w.get_ref().is_empty()
                    || w.get_ref().iter().any(|x| !(x.is_finite() && *x >= 0.0))
                    || w.get_ref().iter().sum::<f64>() <= 0.0
                {
                    v.err(
                        w.span(),
                        "`level_weights` must be non-negative numbers with a positive sum",
                        None,
                    );
                }
                w.get_ref().clone()
            }
            None => vec![0.5, 0.3, 0.15, 0.05],
        };
        let per = match &c.categories_per_creator {
            Some(s) if *s.get_ref() == 0 || *s.get_ref() > 64 => {
                v.err(
                    s.span(),
                    "`categories_per_creator` must be from 1 to 64",
                    None,
                );
                1
            }
            Some(s) => *s.get_ref(),
            None => 2,
        };
        populations.creators = Some(CreatorPop {
            count: count(v, &c.count, "creators"),
            followers,
            level_weights: weights,
            categories_per_creator: per,
            live_share: v.prob(&c.live_share, "live_share", 0.2),
        });
    }
    let tmp = agent_counts(&named, &populations);
    // Measured: about 400 bytes per (seller + product + creator) with their books and streams.
    let bytes = tmp.0 as f64 * 100.0 + tmp.1 as f64 * 150.0 + tmp.2 as f64 * 200.0;
    if bytes > MAX_BYTES {
        v.err(raw.scenario.span(), format!(
            "the populations would need about {:.1} GiB per replication (sellers {}, products {}, creators {}); the limit is {:.0} GiB",
            bytes / 1073741824.0, tmp.0, tmp.1, tmp.2, MAX_BYTES / 1073741824.0
        ), None);
    }

    // ---- Open plans
    let mut plan_names = Names::new("open plan");
    let mut product_plan: HashMap<u32, String> = HashMap::new();
    let mut open_plans = Vec::new();
    for op in &raw.open_plans {
        plan_names.define(v, &op.id);
        let seller = sellers.get(v, &op.seller).map(SellerId);
        let plan_rate = op.rate.as_ref().map(|r| v.rate(r));
        let mut listed: Vec<(ProductId, Option<Rate>, Range<usize>)> = Vec::new();
        let mut add = |v: &mut V, pid: u32, rate: Option<Rate>, span: Range<usize>| {
            match listed.iter_mut().find(|(p, _, _)| p.0 == pid) {
                Some(e) => {
                    if rate.is_some() {
                        e.1 = rate;
                    }
                }
                None => listed.push((ProductId(pid), rate, span)),
            }
            let _ = v;
        };
        if let (true, Some(first)) = (op.all_products, op.products.first()) {
            v.err(
                first.span(),
                "`all_products = true` with `products`: the list says nothing the flag does not; keep one of them",
                Some(RuleId::Open1),
            );
        }
        if op.all_products
            && let Some(s) = seller
        {
            for (i, p) in named.products.iter().enumerate() {
                if p.seller == s && p.eligible {
                    add(v, i as u32, None, op.id.span());
                }
            }
        }
        for p in &op.products {
            if let Some(pid) = products.get(v, p) {
                add(v, pid, None, p.span());
            }
        }
        // a product in two groups at two rates: which one applies would be file order
        let mut group_rate: HashMap<u32, Rate> = HashMap::new();
        for g in &op.groups {
            let gr = v.rate(&g.rate);
            for p in &g.products {
                if let Some(pid) = products.get(v, p) {
                    match group_rate.insert(pid, gr) {
                        Some(before) if before != gr => v.err(
                            p.span(),
                            format!("product `{}` is in two groups of this plan, at {before} and {gr}: give it one group, or a rate in `product_rates`", p.get_ref()),
                            Some(RuleId::Open1),
                        ),
                        _ => {}
                    }
                    add(v, pid, Some(gr), p.span());
                }
            }
        }
        for (name, r) in &op.product_rates {
            let rate = v.rate(r);
            let key = Spanned::new(r.span(), name.clone());
            if let Some(pid) = products.get(v, &key) {
                add(v, pid, Some(rate), r.span());
            }
        }
        if listed.is_empty() && !op.all_products {
            v.err(op.id.span(), "an Open plan needs products: `products`, `groups`, `product_rates` or `all_products = true`", Some(RuleId::Open1));
        }
        let mut listings = Vec::new();
        for (pid, rate, span) in listed {
            let p = &named.products[pid.idx()];
            if Some(p.seller) != seller && seller.is_some() {
                v.err(
                    span.clone(),
                    format!("product `{}` belongs to another seller", p.name),
                    Some(RuleId::Open1),
                );
            }
            if !p.eligible {
                v.err(
                    span.clone(),
                    format!("product `{}` is not affiliate-eligible", p.name),
                    Some(RuleId::Open1),
                );
            }
            if let Some(other) = product_plan.insert(pid.0, op.id.get_ref().clone()) {
                v.err(
                    span.clone(),
                    format!("product `{}` is already in Open plan `{other}`", p.name),
                    Some(RuleId::Open1),
                );
            }
            match rate.or(plan_rate) {
                Some(r) => listings.push((pid, r)),
                None => v.err(span, format!("product `{}` has no rate: set the plan's `rate`, a group or `product_rates`", p.name), Some(RuleId::Open1)),
            }
        }
        let samples = op.samples.as_ref().map(|s| {
            let terms = SampleTerms {
                quantity: s.quantity,
                min_followers: s.min_followers,
                min_level: s.min_level,
                min_fulfilment: v.prob(&s.min_fulfilment, "min_fulfilment", 0.0),
            };
            (
                terms,
                v.dist(
                    s.shipping_delay.as_ref(),
                    "shipping_delay",
                    Dist::uniform(2.0, 5.0),
                ),
            )
        });
        open_plans.push(OpenPlanSpec {
            name: op.id.get_ref().clone(),
            seller: seller.unwrap_or_default(),
            listings,
            shop_ads_rate: op.shop_ads_rate.as_ref().map(|r| v.rate(r)),
            approval: approval(v, &op.approval),
            samples,
        });
    }

    // ---- Target invitations
    let mut inv_names = Names::new("Target invitation");
    let mut invitations = Vec::new();
    for ir in &raw.target_invitations {
        let i = ir.get_ref();
        inv_names.define(v, &i.id);
        let seller = sellers.get(v, &i.seller).map(SellerId).unwrap_or_default();
        let sent = time_at(v, &calendar, &i.sent);
        let days_n = *i.days.get_ref();
        if days_n == 0 || days_n > 3650 {
            v.err(
                i.days.span(),
                "`days` (the collaboration's duration) must be from 1 to 3650",
                Some(RuleId::Target1),
            );
        }
        // rule: TARGET-1
        // rule: H-8
        let cs = i.creators.get_ref();
        if cs.is_empty() {
            v.err(
                i.creators.span(),
                "an invitation goes to at least one creator",
                Some(RuleId::Target1),
            );
        }
        if cs.len() > 50 {
            v.err(
                i.creators.span(),
                format!(
                    "an invitation goes to at most 50 creators, this one to {}",
                    cs.len()
                ),
                Some(RuleId::H8),
            );
        }
        let mut creator_ids = Vec::new();
        for c in cs {
            if let Some(id) = creators.get(v, c) {
                if creator_ids.contains(&CreatorId(id)) {
                    v.err(
                        c.span(),
                        format!("creator `{}` is invited twice", c.get_ref()),
                        Some(RuleId::Target1),
                    );
                }
                creator_ids.push(CreatorId(id));
            }
        }
        let ps = i.products.get_ref();
        if ps.is_empty() {
            v.err(
                i.products.span(),
                "an invitation names at least one product",
                Some(RuleId::Target1),
            );
        }
        if ps.len() > 100 {
            v.err(
                i.products.span(),
                format!(
                    "an invitation names at most 100 products, this one {}",
                    ps.len()
                ),
                Some(RuleId::H8),
            );
        }
        let mut products_t = Vec::new();
        let mut seen_t: Vec<u32> = Vec::new();
        for tp in ps {
            let Some(pid) = products.get(v, &tp.product) else {
                continue;
            };
            if seen_t.contains(&pid) {
                v.err(
                    tp.product.span(),
                    format!(
                        "product `{}` is listed twice in this invitation: list each product once, with one rate",
                        tp.product.get_ref()
                    ),
                    Some(RuleId::Target1),
                );
                continue;
            }
            seen_t.push(pid);
            let pspec = &named.products[pid as usize];
            if !pspec.eligible {
                v.err(
                    tp.product.span(),
                    format!("product `{}` is not affiliate-eligible", pspec.name),
                    Some(RuleId::Target1),
                );
            }
            if pspec.seller != seller {
                v.err(
                    tp.product.span(),
                    format!("product `{}` belongs to another seller", pspec.name),
                    Some(RuleId::Target1),
                );
            }
            let goal = match &tp.sales_goal {
                Some(g) if !(1..=3).contains(g.get_ref()) => {
                    v.err(
                        g.span(),
                        "`sales_goal` of a refundable sample is 1 to 3 sales",
                        Some(RuleId::H7),
                    );
                    1
                }
                Some(g) => *g.get_ref(),
                None => 1,
            };
            let sample = tp.sample.unwrap_or(crate::rules::target::SampleOffer::None);
            if tp.sales_goal.is_some()
                && sample != crate::rules::target::SampleOffer::RefundOnFirstSale
            {
                let sp = tp
                    .sales_goal
                    .as_ref()
                    .map(|g| g.span())
                    .unwrap_or(tp.product.span());
                v.err(
                    sp,
                    "`sales_goal` applies only to `sample = \"refund-on-first-sale\"`",
                    Some(RuleId::H7),
                );
            }
            // rule: TARGET-7
            if pspec.stock != UNLIMITED && (pspec.stock as usize) < creator_ids.len().max(1) {
                v.warn(tp.product.span(), format!(
                    "product `{}` has {} in stock for {} invited creator(s): the seller may not have enough stock for the collaboration",
                    pspec.name, pspec.stock, creator_ids.len()
                ), Some(RuleId::Target7));
            }
            products_t.push(crate::rules::target::TargetProduct {
                product: ProductId(pid),
                rate: v.rate(&tp.rate),
                shop_ads_rate: tp.shop_ads_rate.as_ref().map(|r| v.rate(r)),
                sample,
                sales_goal: goal,
            });
        }
        let content = i
            .content
            .as_ref()
            .map(|c| c.get_ref().clone())
            .unwrap_or_else(|| vec![ContentKind::Video]);
        // rule: TARGET-3
        let fee = match (i.fee.as_ref().map(|f| *f.get_ref()), &i.flat_fee) {
            (None | Some(FeeRaw::Commission), None) => crate::rules::target::Fee::CommissionOnly,
            (None | Some(FeeRaw::Flat), Some(m)) => {
                let amt = money_checked(v, m, "flat_fee", minor_unit);
                if amt.is_zero() {
                    v.err(
                        m.span(),
                        "a flat fee must be more than zero",
                        Some(RuleId::Target3),
                    );
                }
                // rule: TARGET-4
                if content.iter().any(|k| *k != ContentKind::Video) {
                    let sp = i.content.as_ref().map(|c| c.span()).unwrap_or(m.span());
                    v.err(
                        sp,
                        "a flat-fee collaboration is for video only",
                        Some(RuleId::Target4),
                    );
                }
                crate::rules::target::Fee::Flat(amt)
            }
            (Some(FeeRaw::Flat), None) => {
                let sp = i.fee.as_ref().map(|f| f.span()).unwrap_or(i.id.span());
                v.err(
                    sp,
                    "`fee = \"flat\"` needs `flat_fee` (the amount per creator)",
                    Some(RuleId::Target3),
                );
                crate::rules::target::Fee::CommissionOnly
            }
            (Some(FeeRaw::Commission), Some(m)) => {
                v.err(
                    m.span(),
                    "a commission-only invitation has no `flat_fee`",
                    Some(RuleId::Target3),
                );
                crate::rules::target::Fee::CommissionOnly
            }
        };
        // rule: TARGET-6
        if let Some(fs) = i.flash_sale.as_ref().filter(|f| *f.get_ref()) {
            if creator_ids.len() != 1 {
                v.err(fs.span(), format!("a LIVE flash sale can be requested only in an invitation to a single creator, not {} (no bulk flash sales)", creator_ids.len()), Some(RuleId::Target6));
            } else if !named.creators[creator_ids[0].idx()].live {
                v.err(
                    fs.span(),
                    format!(
                        "a LIVE flash sale needs a creator who can go LIVE; `{}` cannot",
                        named.creators[creator_ids[0].idx()].name
                    ),
                    Some(RuleId::Target6),
                );
            }
        }
        // rule: TARGET-3 — a commission-only collaboration has no video review, so nothing to
        // review or to authorise for ads (TARGET-4)
        if fee == crate::rules::target::Fee::CommissionOnly {
            if let Some(r) = &i.review {
                v.warn(
                    r.span(),
                    "`review` has no effect on a commission-only invitation: only flat-fee videos are reviewed",
                    Some(RuleId::Target3),
                );
            }
            if let Some(a) = i.authorise_ads.as_ref().filter(|a| *a.get_ref()) {
                v.warn(
                    a.span(),
                    "`authorise_ads` has no effect on a commission-only invitation: only approved flat-fee videos are authorised at the seller's request",
                    Some(RuleId::Target4),
                );
            }
        }
        let submit_days = match &i.submit_days {
            Some(d) if *d.get_ref() == 0 || *d.get_ref() > 3650 => {
                v.err(
                    d.span(),
                    "`submit_days` must be from 1 to 3650",
                    Some(RuleId::Target4),
                );
                7
            }
            Some(d) => *d.get_ref(),
            None => 7,
        };
        invitations.push(crate::rules::target::Invitation {
            name: i.id.get_ref().clone(),
            seller,
            creators: creator_ids,
            products: products_t,
            sent,
            ends: sent.plus_days(days_n),
            content,
            message: i.message.clone(),
            fee,
            reviewer: i
                .review
                .as_ref()
                .map_or(crate::rules::target::Reviewer::Seller, |r| *r.get_ref()),
            submit_days,
            flash_sale: i.flash_sale.as_ref().is_some_and(|f| *f.get_ref()),
            authorise_ads: i.authorise_ads.as_ref().is_some_and(|a| *a.get_ref()),
            scripted: i.scripted,
        });
    }

    // ---- distributor campaigns
    let mut camp_names = Names::new("distributor campaign");
    let mut campaigns = Vec::new();
    for cr in &raw.distributor_campaigns {
        let c = cr.get_ref();
        camp_names.define(v, &c.id);
        let distributor = distributors
            .get(v, &c.distributor)
            .map(DistributorId)
            .unwrap_or_default();
        // rule: DIST-1
        // rule: H-9
        let sellers_t = match (&c.sellers, c.open_to_all) {
            (Some(list), false) => {
                if list.get_ref().is_empty() {
                    v.err(
                        list.span(),
                        "a targeted campaign names at least one seller (or set open_to_all = true)",
                        Some(RuleId::Dist1),
                    );
                }
                if list.get_ref().len() > 100 {
                    v.err(
                        list.span(),
                        format!(
                            "a campaign targets at most 100 sellers, this one {}",
                            list.get_ref().len()
                        ),
                        Some(RuleId::H9),
                    );
                }
                Some(
                    list.get_ref()
                        .iter()
                        .filter_map(|s| sellers.get(v, s).map(SellerId))
                        .collect::<Vec<_>>(),
                )
            }
            (None, true) => None,
            (Some(list), true) => {
                v.err(
                    list.span(),
                    "a campaign is either open to all or aimed at chosen `sellers`, not both",
                    Some(RuleId::Dist1),
                );
                None
            }
            (None, false) => {
                v.err(
                    c.id.span(),
                    "a campaign needs `sellers` (targeted) or `open_to_all = true`",
                    Some(RuleId::Dist1),
                );
                None
            }
        };
        let rs = time_at(v, &calendar, &c.registration_start);
        let re = time_at(v, &calendar, &c.registration_end);
        let ps = time_at(v, &calendar, &c.promotion_start);
        let pe = time_at(v, &calendar, &c.promotion_end);
        if re <= rs {
            v.err(
                c.registration_end.span(),
                "the registration window ends before it starts",
                Some(RuleId::Dist1),
            );
        }
        if pe <= ps {
            v.err(
                c.promotion_end.span(),
                "the promotion window ends before it starts",
                Some(RuleId::Dist1),
            );
        }
        if ps < rs {
            v.err(
                c.promotion_start.span(),
                "the promotion cannot start before registration opens",
                Some(RuleId::Dist1),
            );
        }
        if pe.since(rs) >= 360 * DAY {
            v.err(
                c.promotion_end.span(),
                "a campaign must end less than 360 days after it starts",
                Some(RuleId::H9),
            );
        }
        let notice_days = match &c.notice_days {
            Some(n) if *n.get_ref() > 365 => {
                v.err(
                    n.span(),
                    "`notice_days` must be at most 365",
                    Some(RuleId::Dist5),
                );
                3
            }
            Some(n) => *n.get_ref(),
            None => 3,
        };
        let min_creator_rate = v.rate(&c.min_creator_rate);
        let min_distributor_rate = v.rate(&c.min_distributor_rate);
        campaigns.push(CampaignSpec {
            campaign: crate::rules::distributor::Campaign {
                name: c.id.get_ref().clone(),
                distributor,
                sellers: sellers_t,
                registration: (rs, re),
                promotion: (ps, pe),
                min_creator_rate,
                min_distributor_rate,
                notice_days,
            },
            scripted: c.scripted,
        });
    }

    // ---- Collaboration Plus
    use crate::rules::plus::{CreatorGroup, PlusCampaign, PlusKind, PolicySpec, Task};
    let mut group_names = Names::new("creator group");
    let mut groups = Vec::new();
    for g in &raw.creator_groups {
        group_names.define(v, &g.id);
        let seller = sellers.get(v, &g.seller).map(SellerId).unwrap_or_default();
        let mut mask = 0u64;
        for c in &g.categories {
            mask |= 1u64 << cat(v, c.get_ref(), c.span());
        }
        let (min_level, max_level) = (g.min_level.unwrap_or(0), g.max_level.unwrap_or(u8::MAX));
        let (min_f, max_f) = (
            g.min_followers.unwrap_or(0),
            g.max_followers.unwrap_or(u32::MAX),
        );
        if max_level < min_level || max_f < min_f {
            v.err(
                g.id.span(),
                "a creator group's maximum is below its minimum",
                Some(RuleId::Plus6),
            );
        }
        // rule: PLUS-6
        let per_seller = groups
            .iter()
            .filter(|x: &&CreatorGroup| x.seller == seller)
            .count();
        if per_seller == 100 {
            v.err(
                g.id.span(),
                "a seller has at most 100 creator groups",
                Some(RuleId::Plus6),
            );
        }
        groups.push(CreatorGroup {
            name: g.id.get_ref().clone(),
            seller,
            categories: mask,
            min_level,
            max_level,
            min_followers: min_f,
            max_followers: max_f,
            live_only: g.live_only,
        });
    }
    let mut plus_names = Names::new("Collaboration Plus");
    let mut plus = Vec::new();
    for pr in &raw.plus_campaigns {
        let p = pr.get_ref();
        plus_names.define(v, &p.id);
        let seller = sellers.get(v, &p.seller).map(SellerId).unwrap_or_default();
        // rule: PLUS-1
        if let Some(s) = named.sellers.get(seller.idx())
            && !s.plus_enabled
        {
            v.err(
                p.seller.span(),
                format!(
                    "seller `{}` is not enabled for Collaboration Plus (invitation only)",
                    s.name
                ),
                Some(RuleId::Plus1),
            );
        }
        let group = group_names.get(v, &p.group).unwrap_or(0);
        if groups
            .get(group as usize)
            .is_some_and(|g| g.seller != seller)
        {
            v.err(
                p.group.span(),
                "the creator group belongs to another seller",
                Some(RuleId::Plus6),
            );
        }
        let mut prods = Vec::new();
        for x in p.products.get_ref() {
            let Some(pid) = products.get(v, x) else {
                continue;
            };
            let spec = &named.products[pid as usize];
            if spec.seller != seller {
                v.err(
                    x.span(),
                    format!("product `{}` belongs to another seller", spec.name),
                    Some(RuleId::Plus8),
                );
            }
            // rule: PLUS-8
            if !spec.eligible {
                v.err(x.span(), format!("product `{}` is not affiliate-eligible; only eligible products can be in Collaboration Plus", spec.name), Some(RuleId::Plus8));
            }
            prods.push(ProductId(pid));
        }
        if prods.is_empty() && p.products.get_ref().is_empty() {
            v.err(
                p.products.span(),
                "a Collaboration Plus needs at least one product",
                Some(RuleId::Plus8),
            );
        }
        let rate = p.rate.as_ref().map(|r| v.rate(r));
        let shop_ads_rate = p.shop_ads_rate.as_ref().map(|r| v.rate(r));
        // rule: PLUS-9
        for &pid in &prods {
            let Some(name) = product_plan.get(&pid.0) else {
                continue;
            };
            let Some(plan) = open_plans.iter().find(|o| &o.name == name) else {
                continue;
            };
            let Some(&(_, open)) = plan.listings.iter().find(|(x, _)| *x == pid) else {
                continue;
            };
            // Like for like: the Plus Shop Ads rate against the Open Shop Ads rate where one is set.
            let open_ads = plan.shop_ads_rate.unwrap_or(open);
            for (r, sp, against, what) in [
                (rate, p.rate.as_ref().map(|x| x.span()), open, "Open rate"),
                (
                    shop_ads_rate,
                    p.shop_ads_rate.as_ref().map(|x| x.span()),
                    open_ads,
                    if plan.shop_ads_rate.is_some() {
                        "Open Shop Ads rate"
                    } else {
                        "Open rate"
                    },
                ),
            ] {
                if let (Some(r), Some(sp)) = (r, sp)
                    && r <= against
                {
                    v.err(
                        sp,
                        format!(
                            "the Plus rate {r} must be higher than the {what} {against} of `{}`",
                            named.products[pid.idx()].name
                        ),
                        Some(RuleId::Plus9),
                    );
                }
            }
        }
        let confirmed = time_at(v, &calendar, &p.confirmed);
        let paid = p
            .paid
            .as_ref()
            .map(|x| (time_at(v, &calendar, x), x.span()));
        let start = time_at(v, &calendar, &p.start);
        let end = time_at(v, &calendar, &p.end);
        if let Some((pt, sp)) = &paid
            && *pt < confirmed
        {
            v.err(
                sp.clone(),
                "payment comes after confirmation",
                Some(RuleId::Plus15),
            );
        }
        if let Some((pt, sp)) = &paid
            && *pt >= start
        {
            v.err(
                sp.clone(),
                "payment must come before the start; paid later, the collaboration never starts",
                Some(RuleId::Plus15),
            );
        }
        if start < confirmed {
            v.err(
                p.start.span(),
                "a collaboration starts after it is confirmed",
                Some(RuleId::Plus15),
            );
        }
        if end <= start {
            v.err(
                p.end.span(),
                "the collaboration ends before it starts",
                Some(RuleId::Plus15),
            );
        }
        let budget = money_checked(v, &p.budget, "budget", minor_unit);
        let service_fee = money_checked(v, &p.service_fee, "service_fee", minor_unit);
        let dec = |v: &mut V, s: &Spanned<String>, what: &str| match Decimal::from_str_exact(
            s.get_ref().trim(),
        ) {
            Ok(d) if d >= Decimal::ZERO => d,
            _ => {
                v.err(s.span(), format!("`{what}` must be a number ≥ 0 written as a string, e.g. \"3\" or \"1500000\""), None);
                Decimal::ZERO
            }
        };
        // rule: PLUS-2
        let kind = match p.kind {
            PlusTypeRaw::Task => {
                let reward = match &p.reward {
                    Some(r) => money_checked(v, r, "reward", minor_unit),
                    None => {
                        v.err(
                            p.id.span(),
                            "a Task needs `reward`: what a creator earns for completing all tasks",
                            Some(RuleId::Plus3),
                        );
                        Money::ZERO
                    }
                };
                if p.tasks.is_empty() {
                    v.err(
                        p.id.span(),
                        "a Task needs at least one entry in `tasks`",
                        Some(RuleId::Plus4),
                    );
                }
                if !p.rank_rewards.is_empty() || p.objective.is_some() {
                    v.err(
                        p.id.span(),
                        "`rank_rewards` and `objective` belong to a Challenge",
                        Some(RuleId::Plus2),
                    );
                }
                let tasks = p
                    .tasks
                    .iter()
                    .map(|t| Task {
                        content: t.content,
                        objective: t.objective,
                        target: dec(v, &t.target, "target"),
                    })
                    .collect();
                PlusKind::Task { reward, tasks }
            }
            PlusTypeRaw::Challenge => {
                if p.rank_rewards.is_empty() {
                    v.err(
                        p.id.span(),
                        "a Challenge needs `rank_rewards`, one amount per rewarded rank",
                        Some(RuleId::Plus5),
                    );
                }
                if p.reward.is_some() || !p.tasks.is_empty() {
                    v.err(
                        p.id.span(),
                        "`reward` and `tasks` belong to a Task",
                        Some(RuleId::Plus2),
                    );
                }
                let objective = match &p.objective {
                    Some(o) if *o.get_ref() == crate::rules::plus::Objective::Posts => {
                        v.err(
                            o.span(),
                            "a Challenge ranks by `gmv` or `orders`",
                            Some(RuleId::Plus5),
                        );
                        crate::rules::plus::Objective::Gmv
                    }
                    Some(o) => *o.get_ref(),
                    None => crate::rules::plus::Objective::Gmv,
                };
                let rank_rewards = p
                    .rank_rewards
                    .iter()
                    .map(|m| money_checked(v, m, "rank_rewards", minor_unit))
                    .collect();
                PlusKind::Challenge {
                    objective,
                    content: p.content.unwrap_or(crate::rules::plus::ContentFilter::Any),
                    rank_rewards,
                    min_value: p
                        .min_value
                        .as_ref()
                        .map_or(Decimal::ZERO, |m| dec(v, m, "min_value")),
                }
            }
        };
        let refund_days = match &p.refund_days {
            Some(d) if *d.get_ref() > 7 => {
                v.err(
                    d.span(),
                    "the excess service fee is refunded within 7 days after the end",
                    Some(RuleId::Plus16),
                );
                7
            }
            Some(d) => *d.get_ref(),
            None => 7,
        };
        plus.push(PlusCampaign {
            name: p.id.get_ref().clone(),
            seller,
            group,
            products: prods,
            confirmed,
            paid: paid.map(|x| x.0),
            start,
            end,
            budget,
            service_fee,
            rate,
            shop_ads_rate,
            samples: p.samples,
            kind,
            policy: match p.policy.unwrap_or(PolicyRaw::AsGiven) {
                PolicyRaw::AsGiven => PolicySpec::AsGiven,
                PolicyRaw::Budget => PolicySpec::Budget,
            },
            max_creators: p.max_creators,
            refund_days,
            scripted: p.scripted,
        });
    }

    // ---- behaviour
    let b = &raw.behaviour;
    let pb = &b.plus;
    let plus_b = PlusBehaviour {
        join_probability: v.prob(&pb.join_probability, "join_probability", 0.7),
        join_delay: v.dist(
            pb.join_delay.as_ref(),
            "join_delay",
            Dist::uniform(0.0, 2.0),
        ),
        sample_request_probability: v.prob(
            &pb.sample_request_probability,
            "sample_request_probability",
            0.5,
        ),
        risk_cancel_probability: v.prob(
            &pb.risk_cancel_probability,
            "risk_cancel_probability",
            0.0,
        ),
    };
    let db = &b.distributors;
    let distributors_b = DistributorBehaviour {
        register_probability: v.prob(&db.register_probability, "register_probability", 0.5),
        extra_creator_rate: db
            .extra_creator_rate
            .as_ref()
            .map_or(Rate::ZERO, |r| *r.get_ref()),
        register_delay: v.dist(
            db.register_delay.as_ref(),
            "register_delay",
            Dist::uniform(0.0, 2.0),
        ),
        approve_probability: v.prob(&db.approve_probability, "approve_probability", 0.8),
        review_delay: v.dist(
            db.review_delay.as_ref(),
            "review_delay",
            Dist::uniform(0.0, 1.0),
        ),
        link_probability: v.prob(&db.link_probability, "link_probability", 0.2),
        lower_link_choice: db.lower_link_choice.unwrap_or_default(),
    };
    let tb = &b.target;
    // Each reviewer's settings default to the shared ones (TARGET-4 model).
    let approval = v.prob(&tb.approval_probability, "approval_probability", 0.8);
    let review_delay = v.dist(
        tb.review_delay.as_ref(),
        "review_delay",
        Dist::uniform(0.0, 2.0),
    );
    let target_b = TargetBehaviour {
        accept_probability: v.prob(&tb.accept_probability, "accept_probability", 0.7),
        accept_delay: v.dist(
            tb.accept_delay.as_ref(),
            "accept_delay",
            Dist::uniform(0.0, 3.0),
        ),
        video_probability: v.prob(&tb.video_probability, "video_probability", 0.8),
        video_delay: v.dist(
            tb.video_delay.as_ref(),
            "video_delay",
            Dist::uniform(1.0, 5.0),
        ),
        seller_review: Review {
            approval_probability: v.prob(
                &tb.seller_approval_probability,
                "seller_approval_probability",
                approval,
            ),
            delay: v.dist(
                tb.seller_review_delay.as_ref(),
                "seller_review_delay",
                review_delay.clone(),
            ),
        },
        platform_review: Review {
            approval_probability: v.prob(
                &tb.platform_approval_probability,
                "platform_approval_probability",
                approval,
            ),
            delay: v.dist(
                tb.platform_review_delay.as_ref(),
                "platform_review_delay",
                review_delay,
            ),
        },
        approved_video_posts: tb.approved_video_posts,
    };
    let cb = &b.creators;
    let creators_b = CreatorBehaviour {
        actions_per_day: v.nonneg(&cb.actions_per_day, "actions_per_day", 0.3),
        explore_probability: v.prob(&cb.explore_probability, "explore_probability", 0.3),
        max_products: cb.max_products.unwrap_or(5).max(1),
        candidates: cb.candidates.unwrap_or(5).max(1),
        commission_weight: v.nonneg(&cb.commission_weight, "commission_weight", 0.2),
        fit_weight: v.nonneg(&cb.fit_weight, "fit_weight", 1.0),
        live_probability: v.prob(&cb.live_probability, "live_probability", 0.3),
        authorise_probability: v.prob(&cb.authorise_probability, "authorise_probability", 0.3),
        sample_request_probability: v.prob(
            &cb.sample_request_probability,
            "sample_request_probability",
            0.3,
        ),
        sample_post_probability: v.prob(
            &cb.sample_post_probability,
            "sample_post_probability",
            0.8,
        ),
        sample_extension_probability: v.prob(
            &cb.sample_extension_probability,
            "sample_extension_probability",
            0.3,
        ),
    };
    let bb = &b.buyers;
    let quantity_weights = match &bb.quantity_weights {
        Some(w) => {
            if w.get_ref().is_empty()
                || w.get_ref().iter().any(|x| !(x.is_finite() && *x >= 0.0))
                || w.get_ref().iter().sum::<f64>() <= 0.0
            {
                v.err(
                    w.span(),
                    "`quantity_weights` must be non-negative numbers with a positive sum",
                    None,
                );
                vec![1.0]
            } else {
                w.get_ref().clone()
            }
        }
        None => vec![0.85, 0.1, 0.05],
    };
    let coupon = |v: &mut V, r: &Option<Spanned<Rate>>, d: &str| -> Rate {
        match r {
            Some(s) => {
                let x = *s.get_ref();
                if x.percent() < Decimal::ZERO || x.percent() > Decimal::ONE_HUNDRED {
                    v.err(
                        s.span(),
                        "a coupon is a share of the price from 0% to 100%",
                        Some(RuleId::Order1),
                    );
                }
                x
            }
            None => d.parse().unwrap_or_default(),
        }
    };
    let buyers_b = BuyerBehaviour {
        views_per_follower: v.nonneg(&bb.views_per_follower, "views_per_follower", 0.2),
        live_views_per_follower: v.nonneg(
            &bb.live_views_per_follower,
            "live_views_per_follower",
            0.05,
        ),
        views_sigma: v.nonneg(&bb.views_sigma, "views_sigma", 1.0),
        conversion_rate: v.prob(&bb.conversion_rate, "conversion_rate", 0.002),
        live_conversion_rate: v.prob(&bb.live_conversion_rate, "live_conversion_rate", 0.01),
        fit_multiplier: v.nonneg(&bb.fit_multiplier, "fit_multiplier", 1.5),
        order_half_life_days: match v.nonneg(&bb.order_half_life_days, "order_half_life_days", 1.0)
        {
            x if x > 0.0 => x,
            _ => 1.0,
        },
        live_hours: match v.nonneg(&bb.live_hours, "live_hours", 2.0) {
            x if x > 0.0 => x,
            _ => 2.0,
        },
        quantity_weights,
        ad_share: v.prob(&bb.ad_share, "ad_share", 0.0),
        showcase_share: v.prob(&bb.showcase_share, "showcase_share", 0.1),
        seller_coupon_probability: v.prob(
            &bb.seller_coupon_probability,
            "seller_coupon_probability",
            0.0,
        ),
        seller_coupon: coupon(v, &bb.seller_coupon, "10%"),
        platform_coupon_probability: v.prob(
            &bb.platform_coupon_probability,
            "platform_coupon_probability",
            0.0,
        ),
        platform_coupon: coupon(v, &bb.platform_coupon, "5%"),
        shipping: bb
            .shipping
            .as_ref()
            .map_or(Money::ZERO, |m| money_checked(v, m, "shipping", minor_unit)),
        follower_exponent: v.within(&bb.follower_exponent, "follower_exponent", 0.9, (0.0, 1.5)),
        saturation_k: match v.within(&bb.saturation_k, "saturation_k", 50.0, (0.0, 1e9)) {
            x if x > 0.0 => x,
            _ => {
                if let Some(s) = &bb.saturation_k {
                    v.err(s.span(), "`saturation_k` must be greater than 0", None);
                }
                50.0
            }
        },
        saturation_exponent: v.within(
            &bb.saturation_exponent,
            "saturation_exponent",
            0.3,
            (0.0, 5.0),
        ),
        price_elasticity: v.within(
            &bb.price_elasticity,
            "price_elasticity",
            -2.62,
            (-20.0, 0.0),
        ),
    };
    let ib = &b.incentives;
    let incentives_b = {
        let d = IncentiveBehaviour::off();
        let reference_rate = match &ib.reference_rate {
            Some(r)
                if !(r.get_ref().0 > Decimal::ZERO && r.get_ref().0 <= Decimal::ONE_HUNDRED) =>
            {
                v.err(
                    r.span(),
                    "`reference_rate` is a commission rate above 0% and at most 100%",
                    None,
                );
                d.reference_rate
            }
            Some(r) => *r.get_ref(),
            None => d.reference_rate,
        };
        IncentiveBehaviour {
            enabled: ib.enabled.unwrap_or(true),
            earnings_weight: v.within(&ib.earnings_weight, "earnings_weight", 1.0, (0.0, 20.0)),
            post_elasticity: v.within(&ib.post_elasticity, "post_elasticity", 0.5, (0.0, 5.0)),
            max_intensity: v.within(&ib.max_intensity, "max_intensity", 10.0, (1.0, 1000.0)),
            active_share: v.within(&ib.active_share, "active_share", 0.8, (0.0, 1.0)),
            participation_weight: v.within(
                &ib.participation_weight,
                "participation_weight",
                1.0,
                (0.0, 20.0),
            ),
            review_days: match v.within(&ib.review_days, "review_days", 7.0, (0.0, 3650.0)) {
                x if x > 0.0 => x,
                _ => {
                    if let Some(s) = &ib.review_days {
                        v.err(s.span(), "`review_days` must be greater than 0", None);
                    }
                    7.0
                }
            },
            reference_rate,
            outside_sigma: v.within(&ib.outside_sigma, "outside_sigma", 0.5, (0.0, 5.0)),
            plus_posts: v.within(&ib.plus_posts, "plus_posts", 3.0, (1.0, 1000.0)),
            sample_value: v.within(&ib.sample_value, "sample_value", 0.5, (0.0, 10.0)),
        }
    };
    // Order volume, refused up front when it could not finish: per post, and over the run.
    {
        // The same mean the draw uses (crate::sim::behaviour::mean_orders), with fit and
        // without saturation: an upper bound per post.
        let on = incentives_b.enabled;
        let per_post_at = |followers: f64| {
            [ContentKind::Video, ContentKind::Live]
                .into_iter()
                .map(|k| crate::sim::behaviour::mean_orders(&buyers_b, on, followers, true, k, 0))
                .fold(0.0, f64::max)
                .max(crate::sim::behaviour::mean_orders(
                    &buyers_b,
                    on,
                    followers,
                    false,
                    ContentKind::Video,
                    0,
                ))
        };
        let named_max = named
            .creators
            .iter()
            .map(|c| f64::from(c.followers))
            .fold(0.0, f64::max);
        let pop = populations.creators.as_ref();
        let pop_mean = pop.map_or(0.0, |p| p.followers.mean());
        let per_post = per_post_at(named_max.max(pop_mean));
        let sp = bb
            .views_per_follower
            .as_ref()
            .map(|x| x.span())
            .or(bb.conversion_rate.as_ref().map(|x| x.span()))
            .unwrap_or(raw.scenario.span());
        if !per_post.is_finite() || per_post > 1e6 {
            v.err(sp, format!(
                "a post could bring about {per_post:.3e} orders (followers × views_per_follower × conversion_rate × fit_multiplier); at most 1000000 per post are supported"
            ), None);
        } else {
            let n = named.creators.len() as f64 + pop.map_or(0.0, |p| f64::from(p.count));
            let mean_followers = (named
                .creators
                .iter()
                .map(|c| f64::from(c.followers))
                .sum::<f64>()
                + pop.map_or(0.0, |p| p.followers.mean() * f64::from(p.count)))
                / n.max(1.0);
            let posts = n * creators_b.actions_per_day * f64::from(days);
            let orders = posts * per_post_at(mean_followers);
            if orders > 2e9 {
                v.err(sp, format!(
                    "the behaviour would place about {orders:.3e} order lines ({posts:.3e} actions × {:.3e} orders each); at most 2e9 per replication are supported",
                    per_post_at(mean_followers)
                ), None);
            }
        }
    }
    let ob = &b.orders;
    let orders_b = OrderBehaviour {
        cancel_probability: v.prob(&ob.cancel_probability, "cancel_probability", 0.02),
        cancel_delay: v.dist(
            ob.cancel_delay.as_ref(),
            "cancel_delay",
            Dist::uniform(0.0, 0.5),
        ),
        ship_delay: v.dist(
            ob.ship_delay.as_ref(),
            "ship_delay",
            Dist::uniform(0.5, 2.0),
        ),
        delivery_delay: v.dist(
            ob.delivery_delay.as_ref(),
            "delivery_delay",
            Dist::uniform(2.0, 5.0),
        ),
        return_probability: v.prob(&ob.return_probability, "return_probability", 0.05),
        partial_return_share: v.prob(&ob.partial_return_share, "partial_return_share", 0.3),
    };

    // ---- script
    let mut script = Vec::new();
    let cal = calendar;
    for rc in &raw.script.rate_changes {
        let at = time_at(v, &cal, &rc.at);
        match (&rc.plan, &rc.product, &rc.seller) {
            (_, _, Some(s)) if rc.plan.is_none() && rc.product.is_none() => {
                let rate = v.rate(&rc.rate);
                if let Some(sid) = sellers.get(v, s) {
                    if named.sellers[sid as usize].shop_plan_rate.is_none() {
                        v.err(s.span(), format!("seller `{}` has no Shop plan to change", s.get_ref()), Some(RuleId::Shop1));
                    }
                    script.push(Scripted { at, action: Action::ShopRate { seller: SellerId(sid), rate } });
                }
            }
            (plan, product, None) if plan.is_some() || product.is_some() => {
                let rate = v.rate(&rc.rate);
                let pid = product.as_ref().and_then(|p| products.get(v, p));
                let plan_idx = match plan {
                    Some(p) => plan_names.get(v, p),
                    None => pid.and_then(|pid| {
                        let name = product_plan.get(&pid)?;
                        plan_names.map.get(name).map(|x| x.0)
                    }),
                };
                match plan_idx {
                    Some(pi) => {
                        if let Some(pid) = pid
                            && !open_plans[pi as usize].listings.iter().any(|(p, _)| p.0 == pid) {
                                let sp = product.as_ref().map(|p| p.span()).unwrap_or(rc.at.span());
                                v.err(sp, "the product is not in that Open plan", Some(RuleId::Open4));
                            }
                        script.push(Scripted { at, action: Action::OpenRate { plan: pi, product: pid.map(ProductId), rate, shop_ads: rc.shop_ads } });
                    }
                    None => {
                        if plan.is_none() {
                            let sp = product.as_ref().map(|p| p.span()).unwrap_or(rc.at.span());
                            v.err(sp, "the product is not in any Open plan", Some(RuleId::Open4));
                        }
                    }
                }
            }
            _ => v.err(rc.at.span(), "a rate change names either `seller` (its Shop plan) or an Open `plan` and/or `product`", Some(RuleId::Open4)),
        }
    }
    let mut act = |v: &mut V, list: &[ActRaw], mk: fn(CreatorId, ProductId) -> Action| {
        for a in list {
            let at = time_at(v, &cal, &a.at);
            let c = creators.get(v, &a.creator);
            let p = products.get(v, &a.product);
            if let (Some(c), Some(p)) = (c, p) {
                script.push(Scripted {
                    at,
                    action: mk(CreatorId(c), ProductId(p)),
                });
            }
        }
    };
    act(v, &raw.script.applications, |creator, product| {
        Action::Apply { creator, product }
    });
    act(v, &raw.script.showcase_adds, |creator, product| {
        Action::ShowcaseAdd { creator, product }
    });
    act(v, &raw.script.sample_requests, |creator, product| {
        Action::SampleRequest { creator, product }
    });
    for p in &raw.script.posts {
        let at = time_at(v, &cal, &p.at);
        let c = creators.get(v, &p.creator);
        let pr = products.get(v, &p.product);
        let kind = p.kind.unwrap_or(ContentKind::Video);
        if let (Some(c), Some(pr)) = (c, pr) {
            if kind == ContentKind::Live && !named.creators[c as usize].live {
                v.err(
                    p.creator.span(),
                    format!("creator `{}` cannot go LIVE", p.creator.get_ref()),
                    None,
                );
            }
            script.push(Scripted {
                at,
                action: Action::Post {
                    creator: CreatorId(c),
                    product: ProductId(pr),
                    kind,
                    authorised: p.authorised,
                },
            });
        }
    }
    let mut order_names = Names::new("order");
    let mut orders = Vec::new();
    for o in &raw.script.orders {
        let idx = order_names.define(v, &o.id);
        let at = time_at(v, &cal, &o.at);
        let c = creators.get(v, &o.creator).unwrap_or(0);
        let p = products.get(v, &o.product);
        let quantity = match &o.quantity {
            Some(q) if *q.get_ref() == 0 => {
                v.err(
                    q.span(),
                    "`quantity` must be at least 1",
                    Some(RuleId::Order1),
                );
                1
            }
            Some(q) if *q.get_ref() > 1_000_000 => {
                v.err(
                    q.span(),
                    "`quantity` must be at most 1000000",
                    Some(RuleId::Order1),
                );
                1
            }
            Some(q) => *q.get_ref(),
            None => 1,
        };
        let m = |v: &mut V, x: &Option<Spanned<Money>>, key: &str| {
            x.as_ref()
                .map_or(Money::ZERO, |m| money_checked(v, m, key, minor_unit))
        };
        let seller_coupon = m(v, &o.seller_coupon, "seller_coupon");
        let platform_coupon = m(v, &o.platform_coupon, "platform_coupon");
        let shipping = m(v, &o.shipping, "shipping");
        if let Some(p) = p {
            let gross = named.products[p as usize].price.times(quantity);
            if seller_coupon + platform_coupon > gross {
                v.err(
                    o.id.span(),
                    format!(
                        "coupons ({}) exceed the line's price × quantity ({gross})",
                        seller_coupon + platform_coupon
                    ),
                    Some(RuleId::Order1),
                );
            }
        }
        let opt = |v: &mut V, s: &Option<Spanned<String>>| {
            s.as_ref().map(|s| (time_at(v, &cal, s), s.span()))
        };
        let shipped = opt(v, &o.shipped);
        let delivered = opt(v, &o.delivered);
        let cancelled = opt(v, &o.cancelled);
        if let Some((t, sp)) = &shipped
            && *t < at
        {
            v.err(
                sp.clone(),
                "an order ships after it is placed",
                Some(RuleId::Order2),
            );
        }
        if let Some((t, sp)) = &delivered
            && *t < shipped.as_ref().map_or(at, |s| s.0)
        {
            v.err(
                sp.clone(),
                "an order is delivered after it ships",
                Some(RuleId::Order2),
            );
        }
        if let Some((t, sp)) = &cancelled {
            if *t < at {
                v.err(
                    sp.clone(),
                    "an order is cancelled after it is placed",
                    Some(RuleId::Order2),
                );
            }
            if delivered.is_some() {
                v.err(
                    sp.clone(),
                    "a cancelled order is never delivered (cancellation happens before shipping)",
                    Some(RuleId::Order2),
                );
            }
            if let Some((s, _)) = &shipped
                && t >= s
            {
                v.err(
                    sp.clone(),
                    "an order can be cancelled only before it ships",
                    Some(RuleId::Order2),
                );
            }
        }
        let traffic = o.traffic.unwrap_or(Traffic::Video);
        // rule: TARGET-4 — an order from a creator's flat-fee video (its ads are authorised
        // once it is approved, if the seller asked)
        let target_video = o.target_video.as_ref().and_then(|tv| {
            let i = inv_names.get(v, tv)?;
            let inv = &invitations[i as usize];
            let mut ok = true;
            if !matches!(inv.fee, crate::rules::target::Fee::Flat(_)) {
                v.err(
                    tv.span(),
                    format!(
                        "`{}` is a commission-only invitation: it has no reviewed video (TARGET-3); `target_video` needs a flat-fee invitation",
                        tv.get_ref()
                    ),
                    Some(RuleId::Target4),
                );
                ok = false;
            }
            if !inv.creators.contains(&CreatorId(c)) {
                v.err(
                    tv.span(),
                    format!(
                        "creator `{}` is not invited by `{}`, so has no video for it",
                        o.creator.get_ref(),
                        tv.get_ref()
                    ),
                    Some(RuleId::Target1),
                );
                ok = false;
            }
            if let Some(p) = p
                && !inv.products.iter().any(|x| x.product.0 == p) {
                    v.err(
                        tv.span(),
                        format!(
                            "product `{}` is not in invitation `{}`",
                            o.product.get_ref(),
                            tv.get_ref()
                        ),
                        Some(RuleId::Target1),
                    );
                    ok = false;
                }
            if !matches!(traffic, Traffic::Video | Traffic::Ad) {
                v.err(
                    tv.span(),
                    format!(
                        "an order from a Target video comes from the video or an ad using it: `traffic` must be \"video\" or \"ad\", not \"{}\"",
                        traffic.as_str()
                    ),
                    Some(RuleId::Target4),
                );
                ok = false;
            }
            ok.then_some(i)
        });
        orders.push(ScriptOrder {
            name: o.id.get_ref().clone(),
            at,
            creator: CreatorId(c),
            product: ProductId(p.unwrap_or(0)),
            quantity,
            traffic,
            authorised: o.authorised,
            target_video,
            seller_coupon,
            platform_coupon,
            shipping,
            shipped: shipped.map(|s| s.0),
            delivered: delivered.map(|s| s.0),
            cancelled: cancelled.map(|s| s.0),
        });
        script.push(Scripted {
            at,
            action: Action::Order(idx),
        });
    }
    for r in &raw.script.returns {
        let at = time_at(v, &cal, &r.at);
        let Some(oi) = order_names.get(v, &r.order) else {
            continue;
        };
        let o = &orders[oi as usize];
        let amount = match (&r.quantity, &r.amount) {
            (Some(q), None) => {
                if *q.get_ref() == 0 || *q.get_ref() > o.quantity {
                    v.err(
                        q.span(),
                        format!("`quantity` must be from 1 to the order's {}", o.quantity),
                        Some(RuleId::Settle3),
                    );
                }
                ReturnAmount::Quantity(*q.get_ref())
            }
            (None, Some(a)) => ReturnAmount::Amount(money_checked(v, a, "amount", minor_unit)),
            (None, None) => ReturnAmount::All,
            (Some(q), Some(_)) => {
                v.err(
                    q.span(),
                    "a return names `quantity` or `amount`, not both",
                    Some(RuleId::Settle3),
                );
                ReturnAmount::All
            }
        };
        if o.cancelled.is_some() {
            v.err(
                r.order.span(),
                "a cancelled order cannot be returned",
                Some(RuleId::Order2),
            );
        }
        {
            let placed = o.at;
            if at < placed {
                v.err(
                    r.at.span(),
                    format!(
                        "the return is dated before order `{}` is placed ({})",
                        r.order.get_ref(),
                        cal.datetime(placed).format("%Y-%m-%d %H:%M")
                    ),
                    Some(RuleId::Order2),
                );
            }
        }
        script.push(Scripted {
            at,
            action: Action::Return { order: oi, amount },
        });
    }

    for (i, inv) in invitations.iter().enumerate() {
        script.push(Scripted {
            at: inv.sent,
            action: Action::SendInvitation(i as u32),
        });
    }
    let target_ref =
        |v: &mut V, inv: &Spanned<String>, c: &Spanned<String>| -> Option<(u32, CreatorId)> {
            let i = inv_names.get(v, inv)?;
            let cid = CreatorId(creators.get(v, c)?);
            if !invitations[i as usize].creators.contains(&cid) {
                v.err(
                    c.span(),
                    format!(
                        "creator `{}` is not invited by `{}`",
                        c.get_ref(),
                        inv.get_ref()
                    ),
                    Some(RuleId::Target1),
                );
                return None;
            }
            Some((i, cid))
        };
    for r in &raw.script.target_responses {
        let at = time_at(v, &calendar, &r.at);
        let Some(accept) = r.accept else {
            v.err(
                r.at.span(),
                "a Target response needs `accept = true` or `accept = false`",
                Some(RuleId::Target2),
            );
            continue;
        };
        if r.approve.is_some() {
            v.err(
                r.at.span(),
                "`approve` belongs to a video review, not a response",
                Some(RuleId::Target2),
            );
        }
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::TargetResponse {
                    invitation,
                    creator,
                    accept,
                },
            });
        }
    }
    for r in &raw.script.video_submissions {
        let at = time_at(v, &calendar, &r.at);
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::VideoSubmission {
                    invitation,
                    creator,
                },
            });
        }
    }
    for r in &raw.script.video_reviews {
        let at = time_at(v, &calendar, &r.at);
        let Some(approve) = r.approve else {
            v.err(
                r.at.span(),
                "a video review needs `approve = true` or `approve = false`",
                Some(RuleId::Target4),
            );
            continue;
        };
        if r.accept.is_some() {
            v.err(
                r.at.span(),
                "`accept` belongs to a Target response, not a review",
                Some(RuleId::Target4),
            );
        }
        if let Some((invitation, creator)) = target_ref(v, &r.invitation, &r.creator) {
            script.push(Scripted {
                at,
                action: Action::VideoReview {
                    invitation,
                    creator,
                    approve,
                },
            });
        }
    }

    for (i, c) in campaigns.iter().enumerate() {
        script.push(Scripted {
            at: c.campaign.registration.0,
            action: Action::OpenCampaign(i as u32),
        });
    }
    let camp_product =
        |v: &mut V, c: &Spanned<String>, p: &Spanned<String>| -> Option<(u32, ProductId)> {
            Some((camp_names.get(v, c)?, ProductId(products.get(v, p)?)))
        };
    let split = raw.rules.distributor_split.unwrap_or(SplitRaw::Seller) == SplitRaw::Distributor;
    for r in &raw.script.registrations {
        let at = time_at(v, &calendar, &r.at);
        let Some((campaign, product)) = camp_product(v, &r.campaign, &r.product) else {
            continue;
        };
        if split {
            // rule: H-9 — the seller registers a total; the distributor sets the creator's part
            let (Some(total), None, None) = (&r.total_rate, &r.creator_rate, &r.distributor_rate)
            else {
                v.err(r.at.span(), "with rules.distributor_split = \"distributor\", a registration gives `total_rate` only", Some(RuleId::H9));
                continue;
            };
            let total = v.rate(total);
            script.push(Scripted {
                at,
                action: Action::RegisterTotal {
                    campaign,
                    product,
                    total,
                },
            });
            continue;
        }
        let (Some(cr), Some(dr), None) = (&r.creator_rate, &r.distributor_rate, &r.total_rate)
        else {
            v.err(r.at.span(), "a registration gives `creator_rate` and `distributor_rate` (DIST-2; `total_rate` only with rules.distributor_split = \"distributor\")", Some(RuleId::Dist2));
            continue;
        };
        // rule: RATE-1
        let creator_rate = v.rate(cr);
        let distributor_rate = *dr.get_ref();
        if distributor_rate.percent().round_dp(2) != distributor_rate.percent() {
            v.err(
                dr.span(),
                format!(
                    "distributor part {distributor_rate} is not a whole number of 0.01% steps (H-3)"
                ),
                Some(RuleId::H3),
            );
        }
        if distributor_rate.percent() <= Decimal::ZERO {
            v.err(
                dr.span(),
                "the distributor part must be more than 0%",
                Some(RuleId::Dist2),
            );
        }
        if creator_rate.percent() + distributor_rate.percent() > Decimal::from(80) {
            v.err(
                dr.span(),
                format!(
                    "creator and distributor parts add up to {}%, above the 80% limit",
                    (creator_rate.percent() + distributor_rate.percent()).normalize()
                ),
                Some(RuleId::Rate1),
            );
        }
        let shop_ads_rate = r.shop_ads_rate.as_ref().map(|x| v.rate(x));
        if let (Some(sa), Some(x)) = (shop_ads_rate, &r.shop_ads_rate)
            && sa.percent() + distributor_rate.percent() > Decimal::from(80)
        {
            v.err(
                x.span(),
                format!(
                    "Shop Ads creator part and distributor part add up to {}%, above the 80% limit",
                    (sa.percent() + distributor_rate.percent()).normalize()
                ),
                Some(RuleId::Rate1),
            );
        }
        script.push(Scripted {
            at,
            action: Action::Register {
                campaign,
                product,
                creator_rate,
                distributor_rate,
                shop_ads_rate,
            },
        });
    }
    for r in &raw.script.registration_reviews {
        let at = time_at(v, &calendar, &r.at);
        let creator_part = r.creator_rate.as_ref().map(|x| v.rate(x));
        if creator_part.is_some() && !split {
            let sp = r
                .creator_rate
                .as_ref()
                .map(|x| x.span())
                .unwrap_or(r.at.span());
            v.err(
                sp,
                "`creator_rate` on a review belongs to rules.distributor_split = \"distributor\"",
                Some(RuleId::H9),
            );
        }
        if let Some((campaign, product)) = camp_product(v, &r.campaign, &r.product) {
            script.push(Scripted {
                at,
                action: Action::ReviewRegistration {
                    campaign,
                    product,
                    approve: r.approve,
                    reason: r.reason.clone(),
                    creator_part,
                },
            });
        }
    }
    for r in &raw.script.link_adds {
        let at = time_at(v, &calendar, &r.at);
        let creator = creators.get(v, &r.creator).map(CreatorId);
        if let (Some((campaign, product)), Some(creator)) =
            (camp_product(v, &r.campaign, &r.product), creator)
        {
            script.push(Scripted {
                at,
                action: Action::AddLink {
                    campaign,
                    creator,
                    product,
                    choice: r.choice,
                },
            });
        }
    }
    for r in &raw.script.terminations {
        let at = time_at(v, &calendar, &r.at);
        let campaign = camp_names.get(v, &r.campaign);
        let seller = sellers.get(v, &r.seller).map(SellerId);
        if let (Some(campaign), Some(seller)) = (campaign, seller) {
            script.push(Scripted {
                at,
                action: Action::Terminate { campaign, seller },
            });
        }
    }
    for r in &raw.script.campaign_edits {
        let at = time_at(v, &calendar, &r.at);
        let promotion_start = time_at(v, &calendar, &r.promotion_start);
        if let Some(campaign) = camp_names.get(v, &r.campaign) {
            let c = &campaigns[campaign as usize].campaign;
            if promotion_start >= c.promotion.1 || promotion_start < c.registration.0 {
                v.err(r.promotion_start.span(), "the new promotion start must fall between registration start and promotion end", Some(RuleId::H9));
            }
            script.push(Scripted {
                at,
                action: Action::EditCampaign {
                    campaign,
                    promotion_start,
                },
            });
        }
    }

    for (i, c) in plus.iter().enumerate() {
        let i = i as u32;
        script.push(Scripted {
            at: c.confirmed,
            action: Action::PlusConfirm(i),
        });
        if let Some(pt) = c.paid {
            script.push(Scripted {
                at: pt,
                action: Action::PlusPay(i),
            });
        }
        script.push(Scripted {
            at: c.start,
            action: Action::PlusStart(i),
        });
        script.push(Scripted {
            at: c.end,
            action: Action::PlusEnd(i),
        });
    }
    for (list, which) in [
        (&raw.script.plus_joins, 0),
        (&raw.script.plus_sample_requests, 1),
        (&raw.script.plus_edits, 2),
        (&raw.script.plus_cancellations, 3),
    ] {
        for r in list {
            let at = time_at(v, &calendar, &r.at);
            let Some(campaign) = plus_names.get(v, &r.campaign) else {
                continue;
            };
            let creator = match (&r.creator, which) {
                (Some(c), 0 | 1) => creators.get(v, c).map(CreatorId),
                (None, 0 | 1) => {
                    v.err(
                        r.at.span(),
                        "this action needs `creator`",
                        Some(RuleId::Plus7),
                    );
                    None
                }
                (Some(c), _) => {
                    v.err(
                        c.span(),
                        "this action takes no `creator`",
                        Some(RuleId::Plus15),
                    );
                    None
                }
                (None, _) => None,
            };
            let action = match (which, creator) {
                (0, Some(creator)) => Action::PlusJoin { campaign, creator },
                (1, Some(creator)) => Action::PlusSampleRequest { campaign, creator },
                (2, _) => Action::PlusEdit(campaign),
                (3, _) => Action::PlusCancel(campaign),
                _ => continue,
            };
            script.push(Scripted { at, action });
        }
    }

    // ---- expectations
    let mut expectations = Vec::new();
    for e in &raw.expect {
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
        let rule_id = |v: &mut V, s: &Spanned<String>| {
            let r = RuleId::parse(s.get_ref());
            if r.is_none() {
                v.err(s.span(), format!("`{}` is not a rule ID of the catalogue (e.g. \"OPEN-4\"; see docs/rules.md)", s.get_ref()), None);
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
                        format!(
                            "unknown metric `{name}` (see docs/scenario-format.md for the list)"
                        ),
                        None,
                    );
                    continue;
                }
            }
        } else if let Some(o) = &x.order {
            let Some(oi) = order_names.get(v, o) else {
                continue;
            };
            let Some(f) = &x.field else {
                v.err(
                    o.span(),
                    format!(
                        "an order expectation needs `field`: one of {}",
                        OrderField::NAMES.join(", ")
                    ),
                    None,
                );
                continue;
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
                continue;
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
            let Some(r) = r else { continue };
            Subject::Account(r)
        } else if let Some(r) = &x.refusal {
            let Some(id) = rule_id(v, r) else { continue };
            Subject::Refusals(id)
        } else if let Some(r) = &x.fired {
            let Some(id) = rule_id(v, r) else { continue };
            Subject::Fired(id)
        } else if let Some(pn) = &x.plus {
            let Some(campaign) = plus_names.get(v, pn) else {
                continue;
            };
            let creator = match &x.creator {
                Some(c) => match creators.get(v, c) {
                    Some(id) => Some(CreatorId(id)),
                    None => continue,
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
                continue;
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
                continue;
            };
            if creator.is_some() != matches!(field, PlusField::Reward | PlusField::CreatorStatus) {
                v.err(
                    f.span(),
                    "`reward` and `creator_status` need `creator`; the other Plus fields take none",
                    None,
                );
                continue;
            }
            Subject::Plus {
                campaign,
                creator,
                field,
            }
        } else {
            continue;
        };
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
                    format!(
                        "`{hi_key}` {b} is below `{lo_key}` {a}: the expectation could never pass"
                    ),
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
            continue;
        };
        if matches!(subject, Subject::Refusals(_)) && !matches!(check, Check::Count(_)) {
            v.err(e.span(), "a `refusal` expectation takes `count`", None);
            continue;
        }
        expectations.push(Expectation {
            subject,
            check,
            place,
            note: x.note.clone(),
        });
    }

    // Scripted events pop in time order; ties keep file order (a stable sort).
    script.sort_by_key(|s| s.at);

    Scenario {
        name: sec.name.get_ref().clone(),
        description: sec.description.clone(),
        file: v.file.to_string(),
        region: Region {
            code,
            currency,
            minor_unit,
        },
        calendar,
        days,
        seed: sec.seed,
        replications,
        opts,
        drain: raw.rules.drain.unwrap_or(true),
        categories,
        named,
        populations,
        open_plans,
        invitations,
        campaigns,
        groups,
        plus,
        behaviour: Behaviour {
            target: target_b,
            distributors: distributors_b,
            plus: plus_b,
            creators: creators_b,
            buyers: buyers_b,
            orders: orders_b,
            incentives: incentives_b,
        },
        script,
        orders,
        expectations,
        warnings: std::mem::take(&mut v.warns),
    }
}

fn agent_counts(named: &Named, p: &Populations) -> (u64, u64, u64) {
    (
        named.sellers.len() as u64 + p.sellers.as_ref().map_or(0, |s| u64::from(s.count)),
        named.products.len() as u64 + p.products.as_ref().map_or(0, |s| u64::from(s.count)),
        named.creators.len() as u64 + p.creators.as_ref().map_or(0, |s| u64::from(s.count)),
    )
}

/// Minutes in a day, re-exported for the tests below.
#[allow(dead_code)]
const _DAY: u32 = DAY;
