//! Simulated time: integer minutes from the scenario start, and the calendar that maps them to dates.

use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

/// Minutes per day.
pub const DAY: u32 = 24 * 60;
/// Minutes per hour.
pub(crate) const HOUR: u32 = 60;

/// A point in simulated time: whole minutes since 00:00 of the scenario's start date (TIME-1).
///
/// Time is discrete and totally ordered; the calendar date is derived from it, never stored.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SimTime(pub u32);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub(crate) const NEVER: SimTime = SimTime(u32::MAX);

    pub fn minutes(self) -> u32 {
        self.0
    }
    /// The zero-based day index (day 0 is the start date).
    pub fn day(self) -> u32 {
        self.0 / DAY
    }
    /// 00:00 of day `d`.
    pub fn start_of_day(d: u32) -> SimTime {
        SimTime(d.saturating_mul(DAY))
    }
    pub(crate) fn plus_minutes(self, m: u32) -> SimTime {
        SimTime(self.0.saturating_add(m))
    }
    pub(crate) fn plus_days(self, d: u32) -> SimTime {
        self.plus_minutes(d.saturating_mul(DAY))
    }
    /// `self − other` in minutes, or zero if `other` is later.
    pub(crate) fn since(self, other: SimTime) -> u32 {
        self.0.saturating_sub(other.0)
    }
}

/// Maps simulated time to calendar dates for settlement and reporting.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub start: NaiveDate,
}

impl Calendar {
    pub fn new(start: NaiveDate) -> Calendar {
        Calendar { start }
    }
    pub fn date(&self, t: SimTime) -> NaiveDate {
        self.start + Duration::days(i64::from(t.day()))
    }
    pub(crate) fn datetime(&self, t: SimTime) -> NaiveDateTime {
        self.start.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(t.0))
    }
    /// The simulated time of a calendar moment, if it is not before the start.
    pub fn time_of(&self, dt: NaiveDateTime) -> Option<SimTime> {
        let mins = (dt - self.start.and_time(NaiveTime::MIN)).num_minutes();
        u32::try_from(mins).ok().map(SimTime)
    }
    /// The day index of a date, if it is not before the start.
    pub(crate) fn day_of(&self, d: NaiveDate) -> Option<u32> {
        u32::try_from((d - self.start).num_days()).ok()
    }
    /// A displayable stamp, `2025-10-03 14:05`.
    pub fn stamp(&self, t: SimTime) -> Stamp {
        Stamp(self.datetime(t))
    }
    /// The 7th of the month after `t`'s month (PLUS-20's tax-document date).
    pub(crate) fn seventh_of_next_month(&self, t: SimTime) -> NaiveDate {
        let d = self.date(t);
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 7).expect("the 7th exists in every month")
    }
}

/// A calendar timestamp to the minute, displayed as `YYYY-MM-DD HH:MM`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Stamp(pub NaiveDateTime);

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d %H:%M"))
    }
}

impl Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DD HH:MM` (a `T` may stand for the space).
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_time(NaiveTime::MIN));
    }
    for fmt in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_minutes() {
        let cal = Calendar::new(NaiveDate::from_ymd_opt(2025, 10, 1).unwrap());
        let t = cal
            .time_of(parse_datetime("2025-10-03 10:30").unwrap())
            .unwrap();
        assert_eq!(t, SimTime(2 * DAY + 10 * HOUR + 30));
        assert_eq!(cal.date(t).to_string(), "2025-10-03");
        assert_eq!(cal.stamp(t).to_string(), "2025-10-03 10:30");
        assert_eq!(cal.time_of(parse_datetime("2025-09-30").unwrap()), None);
    }

    #[test]
    fn seventh_of_next_month_wraps_the_year() {
        let cal = Calendar::new(NaiveDate::from_ymd_opt(2025, 12, 20).unwrap());
        assert_eq!(
            cal.seventh_of_next_month(SimTime(0)).to_string(),
            "2026-01-07"
        );
    }
}
