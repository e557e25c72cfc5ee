//! The shared validation context: the error collector `V` and the checks every part uses.

use std::ops::Range;

use rust_decimal::Decimal;
use toml::Spanned;

use super::super::dist::DistRaw;
use super::super::format::*;
use super::super::*;
use crate::money::{Rounding, RoundingMode};
use crate::time::parse_datetime;

pub(super) struct V<'a> {
    pub(super) file: &'a str,
    pub(super) src: &'a str,
    /// Line starts of `src`, computed once (error places in linear time).
    pub(super) lines: super::super::error::LineIndex,
    pub(super) errs: Vec<ScenarioError>,
    pub(super) warns: Vec<ScenarioError>,
    /// The latest time a scripted event may have: two years after the run's last day.
    pub(super) latest: SimTime,
}

impl V<'_> {
    pub(super) fn warn(
        &mut self,
        span: Range<usize>,
        msg: impl Into<String>,
        rule: Option<RuleId>,
    ) {
        self.warns.push(ScenarioError::at_indexed(
            self.file,
            self.src,
            &self.lines,
            Some(span),
            msg,
            rule,
        ));
    }
    pub(super) fn err(&mut self, span: Range<usize>, msg: impl Into<String>, rule: Option<RuleId>) {
        self.errs.push(ScenarioError::at_indexed(
            self.file,
            self.src,
            &self.lines,
            Some(span),
            msg,
            rule,
        ));
    }
    pub(super) fn line_of(&self, span: &Range<usize>) -> usize {
        self.lines.line_of(span.start.min(self.src.len()))
    }
    pub(super) fn prob(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
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
    pub(super) fn within(
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
    /// A number above 0 and at most `hi` under `key`, or `default` when absent or out of range
    /// (`within` from 0; a 0 itself is reported as not greater than 0).
    pub(super) fn positive_within(
        &mut self,
        v: &Option<Spanned<f64>>,
        key: &str,
        default: f64,
        hi: f64,
    ) -> f64 {
        match self.within(v, key, default, (0.0, hi)) {
            x if x > 0.0 => x,
            _ => {
                if let Some(s) = v {
                    self.err(s.span(), format!("`{key}` must be greater than 0"), None);
                }
                default
            }
        }
    }
    /// Whether the weights under `key` are non-negative numbers with a positive sum; an error at
    /// them if not.
    pub(super) fn weights(&mut self, w: &Spanned<Vec<f64>>, key: &str) -> bool {
        let ok = !w.get_ref().is_empty()
            && w.get_ref().iter().all(|x| x.is_finite() && *x >= 0.0)
            && w.get_ref().iter().sum::<f64>() > 0.0;
        if !ok {
            self.err(
                w.span(),
                format!("`{key}` must be non-negative numbers with a positive sum"),
                None,
            );
        }
        ok
    }
    pub(super) fn nonneg(&mut self, v: &Option<Spanned<f64>>, key: &str, default: f64) -> f64 {
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
    pub(super) fn dist(&mut self, v: Option<&Spanned<DistRaw>>, key: &str, default: Dist) -> Dist {
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
    pub(super) fn rate(&mut self, r: &Spanned<Rate>) -> Rate {
        if let Err(e) = r.get_ref().check_affiliate() {
            self.err(r.span(), e.to_string(), e.rule());
        }
        *r.get_ref()
    }
}

pub(super) fn time_at(v: &mut V, cal: &Calendar, s: &Spanned<String>) -> SimTime {
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
pub(super) const MAX_MONEY: i64 = 1_000_000_000_000_000;

pub(super) fn money_checked(v: &mut V, m: &Spanned<Money>, key: &str, minor: u32) -> Money {
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

pub(super) fn rate_range(v: &mut V, r: &Option<RateRange>, default: (&str, &str)) -> (Rate, Rate) {
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

pub(super) fn approval(v: &mut V, a: &Option<ApprovalRaw>) -> Approval {
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
