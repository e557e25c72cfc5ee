//! The observed history a calibration fits: `date,metric,value` CSV, checked against the scenario.
//!
//! One history (a team's own daily figures), one row per (date, metric); metric names are those
//! of `timeseries.csv`. Every metric must cover the same run of consecutive dates, inside the
//! scenario's days. Errors name the file and line, as scenario errors do.

use chrono::NaiveDate;

use crate::metrics::Metric;
use crate::scenario::Scenario;

/// A validated history: `values[k][d]` is metric `metrics[k]` on scenario day `first_day + d`.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    pub file: String,
    pub metrics: Vec<Metric>,
    pub first_day: u32,
    pub days: u32,
    pub values: Vec<Vec<f64>>,
}

impl Observed {
    /// The date of observed day `d` (0-based within the history).
    pub fn date(&self, sc: &Scenario, d: u32) -> NaiveDate {
        sc.calendar
            .date(crate::time::SimTime::start_of_day(self.first_day + d))
    }
}

/// Reads and checks an observed file; every problem found, each as `file:line: message`.
pub fn read(path: &std::path::Path, sc: &Scenario) -> Result<Observed, Vec<String>> {
    let file = path.display().to_string();
    let text = crate::input::read_text(path, 256 << 20, "observed files")
        .map_err(|e| vec![format!("{file}: cannot read the observed file: {e}")])?;
    parse(&file, &text, sc)
}

/// Parses and checks the text of an observed file (see [`read`]).
pub fn parse(file: &str, text: &str, sc: &Scenario) -> Result<Observed, Vec<String>> {
    let mut errors = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header_ok = lines.next().is_some_and(|(_, h)| {
        let cols: Vec<&str> = h.split(',').map(str::trim).collect();
        cols == ["date", "metric", "value"]
    });
    if !header_ok {
        return Err(vec![format!(
            "{file}:1: expected the header `date,metric,value`"
        )]);
    }
    // (metric, day) → (value, line)
    let mut cells: Vec<(Metric, u32, f64, usize)> = Vec::new();
    let last_day = sc.days.saturating_sub(1);
    for (i, line) in lines {
        let n = i + 1;
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if cols.len() != 3 {
            errors.push(format!(
                "{file}:{n}: expected 3 fields (date,metric,value), found {}",
                cols.len()
            ));
            continue;
        }
        let date = match NaiveDate::parse_from_str(cols[0], "%Y-%m-%d") {
            Ok(d) => d,
            Err(_) => {
                errors.push(format!(
                    "{file}:{n}: `{}` is not a date (expected YYYY-MM-DD)",
                    cols[0]
                ));
                continue;
            }
        };
        let day = match sc.calendar.day_of(date) {
            Some(d) if d <= last_day => d,
            _ => {
                errors.push(format!(
                    "{file}:{n}: {date} is outside the scenario ({} to {})",
                    sc.calendar.start,
                    sc.calendar
                        .date(crate::time::SimTime::start_of_day(last_day))
                ));
                continue;
            }
        };
        let Some(metric) = Metric::parse(cols[1]) else {
            errors.push(format!(
                "{file}:{n}: unknown metric `{}` (the metric names of timeseries.csv, listed in docs/scenario-format.md)",
                cols[1]
            ));
            continue;
        };
        let value = match cols[2].parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            Ok(_) => {
                errors.push(format!(
                    "{file}:{n}: value `{}` must be a finite number, 0 or more",
                    cols[2]
                ));
                continue;
            }
            Err(_) => {
                errors.push(format!("{file}:{n}: value `{}` is not a number", cols[2]));
                continue;
            }
        };
        if let Some(&(.., first)) = cells.iter().find(|c| c.0 == metric && c.1 == day) {
            errors.push(format!(
                "{file}:{n}: {} on {date} is given twice (first on line {first})",
                metric.name()
            ));
            continue;
        }
        cells.push((metric, day, value, n));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if cells.is_empty() {
        return Err(vec![format!("{file}: no observations")]);
    }
    let first_day = cells.iter().map(|c| c.1).min().unwrap_or(0);
    let end_day = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let days = end_day - first_day + 1;
    let mut metrics: Vec<Metric> = Vec::new();
    for c in &cells {
        if !metrics.contains(&c.0) {
            metrics.push(c.0);
        }
    }
    let mut values = vec![vec![f64::NAN; days as usize]; metrics.len()];
    for &(m, d, v, _) in &cells {
        let k = metrics.iter().position(|x| *x == m).unwrap_or(0);
        values[k][(d - first_day) as usize] = v;
    }
    for (k, m) in metrics.iter().enumerate() {
        let missing: Vec<String> = (0..days)
            .filter(|&d| values[k][d as usize].is_nan())
            .map(|d| {
                sc.calendar
                    .date(crate::time::SimTime::start_of_day(first_day + d))
                    .to_string()
            })
            .collect();
        if !missing.is_empty() {
            let shown = missing
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if missing.len() > 5 {
                format!(" and {} more", missing.len() - 5)
            } else {
                String::new()
            };
            errors.push(format!(
                "{file}: gap: {} has no value on {shown}{more} (every metric needs every date from the first to the last observed date)",
                m.name()
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Observed {
        file: file.to_string(),
        metrics,
        first_day,
        days,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc() -> Scenario {
        crate::scenario::parse("s", crate::scenario::DEMO).unwrap()
    }

    #[test]
    fn a_complete_history_is_read_in_day_order() {
        let t = "date,metric,value\n2025-10-02,orders,5\n2025-10-01,orders,3\n2025-10-01,posts,1\n2025-10-02,posts,2\n";
        let o = parse("o.csv", t, &sc()).unwrap();
        assert_eq!(o.first_day, 0);
        assert_eq!(o.days, 2);
        assert_eq!(o.metrics, vec![Metric::Orders, Metric::Posts]);
        assert_eq!(o.values, vec![vec![3.0, 5.0], vec![1.0, 2.0]]);
    }

    #[test]
    fn problems_name_the_line() {
        let t = "date,metric,value\n2025-10-01,orderz,3\n2025-13-01,orders,3\n2025-10-01,orders,x\n2026-01-01,orders,1\n";
        let e = parse("o.csv", t, &sc()).unwrap_err();
        assert!(
            e[0].starts_with("o.csv:2: unknown metric `orderz`"),
            "{e:?}"
        );
        assert!(
            e[1].starts_with("o.csv:3: `2025-13-01` is not a date"),
            "{e:?}"
        );
        assert!(
            e[2].starts_with("o.csv:4: value `x` is not a number"),
            "{e:?}"
        );
        assert!(
            e[3].starts_with("o.csv:5: 2026-01-01 is outside the scenario"),
            "{e:?}"
        );
    }

    #[test]
    fn gaps_and_duplicates_are_errors() {
        let t = "date,metric,value\n2025-10-01,orders,3\n2025-10-03,orders,3\n";
        let e = parse("o.csv", t, &sc()).unwrap_err();
        assert!(
            e[0].contains("gap: orders has no value on 2025-10-02"),
            "{e:?}"
        );
        let t = "date,metric,value\n2025-10-01,orders,3\n2025-10-01,orders,4\n";
        let e = parse("o.csv", t, &sc()).unwrap_err();
        assert!(e[0].contains("o.csv:3: orders on 2025-10-01 is given twice (first on line 2)"));
    }
}
