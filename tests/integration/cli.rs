//! End-to-end tests through the real `affsim` binary: `run`, `validate`, `check`, `scenarios`.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use affsim::metrics::Metric;
use affsim::rules::catalogue::RuleId;

use crate::util::*;

fn demo() -> affsim::scenario::Scenario {
    affsim::scenario::parse(affsim::scenario::DEMO_NAME, affsim::scenario::DEMO)
        .expect("the built-in demo validates")
}

/// Every figure `summary.json` reports per replication: the flow metrics and the end metrics.
fn figure_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
    v.extend(["seller_net", "platform_net", "commissions_pending"]);
    v
}

fn no_partial_folders(dir: &TempDir) {
    let partial: Vec<String> = dir
        .entries()
        .into_iter()
        .filter(|e| e.contains(".partial"))
        .collect();
    assert!(
        partial.is_empty(),
        "staging folders left behind: {partial:?}"
    );
}

// ---------------------------------------------------------------------------------------- run

#[test]
fn run_demo_writes_summary_and_timeseries() {
    let sc = demo();
    let dir = TempDir::new("run-demo");
    let out_dir = dir.join("report");
    let out = affsim(&["run", "--out", arg(&out_dir), "--quiet"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stderr.is_empty(),
        "--quiet prints nothing on stderr\n{out}"
    );
    assert!(out.stdout.is_empty(), "no --json: nothing on stdout\n{out}");
    assert_eq!(
        dir.entries(),
        vec!["report".to_string()],
        "only the report folder"
    );
    let files = entries(&out_dir);
    for f in ["summary.json", "timeseries.csv", "report.md"] {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
    assert!(
        !files.contains(&"ledger.csv".to_string()),
        "ledger.csv only with --ledger"
    );

    // ---- summary.json
    let doc = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    assert_eq!(doc["ledger_balanced"], serde_json::Value::Bool(true));
    assert_eq!(doc["scenario"], sc.name.as_str());
    assert_eq!(doc["days"], sc.days);
    assert_eq!(doc["seed"], sc.seed);
    assert_eq!(doc["replications"], sc.replications);
    assert_eq!(doc["start"], sc.calendar.start.to_string());
    let metrics = doc["metrics"].as_object().expect("`metrics` is an object");
    for key in ["gmv", "orders", "refunds", "commissions", "seller_net"] {
        assert!(metrics.contains_key(key), "metrics.{key} missing");
    }
    let names = figure_names();
    assert_eq!(
        metrics.keys().map(String::as_str).collect::<Vec<_>>(),
        names,
        "every figure, in report order"
    );
    let per = doc["per_replication"]
        .as_array()
        .expect("`per_replication` is an array");
    assert_eq!(per.len(), sc.replications as usize);
    for (i, rep) in per.iter().enumerate() {
        assert_eq!(rep["replication"], i);
        assert_eq!(rep["ledger_balanced"], serde_json::Value::Bool(true));
    }
    // With one replication every statistic is that replication's value.
    if per.len() == 1 {
        for name in &names {
            let v = dec(&per[0][*name]);
            let m = &metrics[*name];
            for stat in ["mean", "min", "p5", "p50", "p95", "max"] {
                assert_eq!(dec(&m[stat]), v, "metrics.{name}.{stat}");
            }
            assert_eq!(dec(&m["sd"]), Decimal::ZERO, "metrics.{name}.sd");
        }
    }
    let first = &per[0];
    assert!(
        dec(&first["gmv"]) > Decimal::ZERO,
        "the demo sells something"
    );
    assert!(dec(&first["orders"]) > Decimal::ZERO);
    assert!(dec(&first["refunds"]) <= dec(&first["gmv"]));

    // ---- timeseries.csv
    let text = std::fs::read_to_string(out_dir.join("timeseries.csv")).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("replication,day,date,metric,value"),
        "header"
    );
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut cells: BTreeMap<(u32, String), Decimal> = BTreeMap::new();
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut days = BTreeSet::new();
    for rec in rdr.records() {
        let rec = rec.expect("well-formed CSV");
        assert_eq!(rec.len(), 5, "five columns: {rec:?}");
        assert_eq!(&rec[0], "0", "one replication");
        let day: u32 = rec[1].parse().expect("day is a number");
        let date = sc.calendar.start + chrono::Days::new(u64::from(day));
        assert_eq!(&rec[2], date.to_string(), "date of day {day}");
        let value = Decimal::from_str_exact(&rec[4]).expect("value is a decimal");
        assert!(
            cells.insert((day, rec[3].to_string()), value).is_none(),
            "duplicate row for day {day}, {}",
            &rec[3]
        );
        *sums.entry(rec[3].to_string()).or_default() += value;
        days.insert(day);
    }
    let n_days = days.len() as u32;
    assert_eq!(
        days,
        (0..n_days).collect::<BTreeSet<_>>(),
        "days are contiguous from 0"
    );
    assert!(
        n_days >= sc.days,
        "at least the scenario's {} days, got {n_days}",
        sc.days
    );
    for d in 0..n_days {
        for m in Metric::ALL {
            assert!(
                cells.contains_key(&(d, m.name().to_string())),
                "no row for day {d}, metric {}",
                m.name()
            );
        }
    }
    assert_eq!(
        cells.len(),
        n_days as usize * Metric::COUNT,
        "every day × every metric, nothing else"
    );
    // The daily flows add up to the replication's totals.
    for m in Metric::ALL {
        assert_eq!(
            sums[m.name()],
            dec(&first[m.name()]),
            "sum of daily {} vs summary",
            m.name()
        );
    }
}

#[test]
fn run_refuses_an_existing_report_without_force() {
    let dir = TempDir::new("run-force");
    let out_dir = dir.join("report");
    let first = affsim(&["run", "--out", arg(&out_dir), "--quiet", "--seed", "1"]);
    assert_eq!(first.code, 0, "{first}");
    let summary = std::fs::read(out_dir.join("summary.json")).unwrap();
    std::fs::write(out_dir.join("keep.txt"), "mine").unwrap();

    // A different seed: if the folder were written to, summary.json would change.
    let again = affsim(&["run", "--out", arg(&out_dir), "--quiet", "--seed", "2"]);
    assert_eq!(again.code, 2, "{again}");
    assert!(
        again.stderr.contains("already exists") && again.stderr.contains("--force"),
        "says why and how to override\n{again}"
    );
    assert_eq!(
        std::fs::read(out_dir.join("summary.json")).unwrap(),
        summary
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("keep.txt")).unwrap(),
        "mine",
        "the existing folder is untouched"
    );
    no_partial_folders(&dir);

    let force = || {
        affsim(&[
            "run",
            "--out",
            arg(&out_dir),
            "--quiet",
            "--seed",
            "2",
            "--force",
        ])
    };
    // issue 13: --force never deletes a file affsim did not write; it names it and refuses
    let refused = force();
    assert_eq!(refused.code, 2, "{refused}");
    assert!(refused.stderr.contains("keep.txt"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("keep.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_file(out_dir.join("keep.txt")).unwrap();
    let forced = force();
    assert_eq!(forced.code, 0, "{forced}");
    let doc = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    assert_eq!(doc["seed"], 2, "the report was replaced");
    assert_eq!(dir.entries(), vec!["report".to_string()]);
    no_partial_folders(&dir);
}

/// Type-7 percentile (linear interpolation between closest ranks) of sorted values.
fn percentile(sorted: &[Decimal], p: u32) -> Decimal {
    let h = Decimal::from(sorted.len() as u64 - 1) * Decimal::from(p) / Decimal::ONE_HUNDRED;
    let lo = h.floor();
    let i = usize::try_from(lo.mantissa() / 10i128.pow(lo.scale())).unwrap();
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (*next - sorted[i]) * (h - lo),
        None => sorted[i],
    }
}

#[test]
fn run_summary_statistics_match_the_replications() {
    let dir = TempDir::new("run-stats");
    let out_dir = dir.join("r");
    let out = affsim(&[
        "run",
        "--out",
        arg(&out_dir),
        "--quiet",
        "--replications",
        "5",
        "--seed",
        "3",
    ]);
    assert_eq!(out.code, 0, "{out}");
    let doc = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    assert_eq!(doc["replications"], 5);
    let per = doc["per_replication"].as_array().unwrap();
    assert_eq!(per.len(), 5);
    for name in figure_names() {
        let mut v: Vec<Decimal> = per.iter().map(|r| dec(&r[name])).collect();
        v.sort();
        let m = &doc["metrics"][name];
        let n = Decimal::from(v.len() as u64);
        let mean = v.iter().copied().sum::<Decimal>() / n;
        assert_eq!(dec(&m["mean"]), mean.round_dp(6), "{name}.mean");
        assert_eq!(dec(&m["min"]), v[0], "{name}.min");
        assert_eq!(dec(&m["max"]), v[4], "{name}.max");
        assert_eq!(dec(&m["p50"]), v[2], "{name}.p50 is the median");
        assert_eq!(dec(&m["p5"]), percentile(&v, 5), "{name}.p5");
        assert_eq!(dec(&m["p95"]), percentile(&v, 95), "{name}.p95");
        let f: Vec<f64> = v.iter().map(|x| x.to_string().parse().unwrap()).collect();
        let fm = f.iter().sum::<f64>() / 5.0;
        let sd = (f.iter().map(|x| (x - fm).powi(2)).sum::<f64>() / 4.0).sqrt();
        // money as a string at the minor unit (IDR: whole rupiah), counts as numbers
        let (got, tolerance) = match &m["sd"] {
            serde_json::Value::String(x) => (x.parse::<f64>().unwrap(), 0.5),
            v => (v.as_f64().expect("a count's sd is a number"), 1e-6),
        };
        assert!(
            (got - sd).abs() <= tolerance + sd * 1e-9,
            "{name}.sd: {got} vs {sd}"
        );
        let unit =
            if name == "seller_net" || name == "platform_net" || name == "commissions_pending" {
                "money"
            } else {
                match Metric::parse(name).unwrap().unit() {
                    affsim::metrics::Unit::Money => "money",
                    affsim::metrics::Unit::Count => "count",
                }
            };
        assert_eq!(m["unit"], unit, "{name}.unit");
    }
}

#[test]
fn run_default_out_is_numbered_never_overwritten() {
    let sc = demo();
    let dir = TempDir::new("run-default-out");
    let first = affsim_in(Some(dir.path()), &["run", "--quiet"]);
    assert_eq!(first.code, 0, "{first}");
    let second = affsim_in(Some(dir.path()), &["run", "--quiet"]);
    assert_eq!(second.code, 0, "{second}");
    let other = affsim_in(Some(dir.path()), &["run", "--quiet", "--seed", "5"]);
    assert_eq!(other.code, 0, "{other}");
    let base = format!("{}-seed{}", sc.name, sc.seed);
    assert_eq!(
        entries(&dir.join("reports")),
        vec![
            base.clone(),
            format!("{base}-2"),
            format!("{}-seed5", sc.name)
        ]
    );
    for r in [base.clone(), format!("{base}-2")] {
        let doc = json(
            &std::fs::read_to_string(dir.join("reports").join(r).join("summary.json")).unwrap(),
        );
        assert_eq!(doc["seed"], sc.seed);
    }
}

/// `--force` replaces a report; a run that fails must leave what was there. Run in a scratch
/// folder: `--out .` names the current folder.
#[test]
fn run_force_does_not_destroy_the_folder_when_it_fails() {
    let dir = TempDir::new("run-force-dot");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("precious.txt"), "keep me").unwrap();
    let out = affsim_in(Some(&work), &["run", "--out", ".", "--force", "--quiet"]);
    assert_ne!(out.code, -1, "{out}");
    if out.code != 0 {
        assert_eq!(
            std::fs::read_to_string(work.join("precious.txt"))
                .ok()
                .as_deref(),
            Some("keep me"),
            "a failed `run --out . --force` deleted the folder's files\n{out}"
        );
    }
}

#[test]
fn run_json_prints_the_summary_it_writes() {
    let dir = TempDir::new("run-json");
    let out_dir = dir.join("r");
    let out = affsim(&[
        "run",
        "--out",
        arg(&out_dir),
        "--quiet",
        "--json",
        "--ledger",
    ]);
    assert_eq!(out.code, 0, "{out}");
    let printed = json(&out.stdout);
    let written = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    assert_eq!(printed, written);
    // --ledger writes every entry; one ledger row per entry the summary counts.
    let ledger = std::fs::read_to_string(out_dir.join("ledger.csv")).unwrap();
    let rows = ledger.lines().count() - 1;
    assert_eq!(
        Decimal::from(rows as u64),
        dec(&written["per_replication"][0]["ledger_entries"]),
        "ledger.csv rows vs ledger_entries"
    );
}

#[test]
fn run_a_scenario_file() {
    let dir = TempDir::new("run-file");
    // 3 × 19.99 = 59.97 at 12.5 % = 7.49625 → 7.50 (half-up, 2 decimals in USD)
    let commission = div_round_half_up(1999 * 3 * 1250, 10_000);
    assert_eq!(commission, 750);
    let text = SingleOrder {
        name: "one order",
        region: "US",
        price: "19.99",
        rate: "12.5%",
        quantity: 3,
        seller_coupon: None,
        refund: None,
        expect: "",
    }
    .toml();
    let file = dir.write("one.toml", &text);
    let out_dir = dir.join("out");
    let out = affsim(&["run", arg(&file), "--out", arg(&out_dir), "--quiet"]);
    assert_eq!(out.code, 0, "{out}");
    let doc = json(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap());
    let rep = &doc["per_replication"][0];
    assert_eq!(doc["currency"], "USD");
    assert_eq!(dec(&rep["orders"]), Decimal::ONE);
    assert_eq!(dec(&rep["gmv"]), Decimal::new(5997, 2));
    assert_eq!(dec(&rep["commissions"]), minor_to_dec(commission, 2));
    assert_eq!(
        dec(&rep["seller_revenue"]),
        minor_to_dec(5997 - commission, 2)
    );
    assert_eq!(dec(&rep["orders_settled"]), Decimal::ONE);
}

#[test]
fn run_rejects_zero_replications() {
    let dir = TempDir::new("run-zero");
    let out_dir = dir.join("r");
    let out = affsim(&["run", "--out", arg(&out_dir), "--replications", "0"]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("--replications"), "{out}");
    assert!(!out_dir.exists(), "nothing is written");
    assert!(dir.entries().is_empty(), "{:?}", dir.entries());
}

#[test]
fn run_rejects_a_missing_scenario() {
    let dir = TempDir::new("run-missing");
    let missing = dir.join("nope.toml");
    let out_dir = dir.join("r");
    let out = affsim(&["run", arg(&missing), "--out", arg(&out_dir)]);
    assert_eq!(out.code, 2, "{out}");
    assert!(
        out.stderr
            .contains(&format!("error: {}: cannot read", missing.display())),
        "{out}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn unknown_subcommand_exits_2() {
    let out = affsim(&["frobnicate"]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("frobnicate"), "names it\n{out}");
    let out = affsim(&["run", "--no-such-flag"]);
    assert_eq!(out.code, 2, "{out}");
}

#[test]
fn scenarios_lists_the_demo() {
    let out = affsim(&["scenarios"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout.lines().any(|l| l.starts_with("demo\t")), "{out}");
}

// ----------------------------------------------------------------------------------- validate

#[test]
fn validate_accepts_a_valid_file() {
    let dir = TempDir::new("validate-ok");
    let file = dir.write("ok.toml", MINIMAL);
    let out = affsim(&["validate", arg(&file)]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stderr.starts_with(&format!(
            "{}: valid — minimal (10 days from 2025-10-01",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn validate_missing_file() {
    let dir = TempDir::new("validate-missing");
    let file = dir.join("absent.toml");
    let out = affsim(&["validate", arg(&file)]);
    assert_eq!(out.code, 2, "{out}");
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!(
            "error: {}: cannot read the scenario file",
            file.display()
        )),
        "{out}"
    );
}

#[test]
fn validate_empty_file() {
    check_invalid(
        "validate-empty",
        "",
        Expect {
            contains: &["empty"],
            rule: None,
        },
    );
    check_invalid(
        "validate-blank",
        "\n   \n\t\n",
        Expect {
            contains: &["empty", "[scenario]"],
            rule: None,
        },
    );
}

#[test]
fn validate_broken_toml() {
    // an unterminated string: the closing quote is expected at the end of the line
    check_invalid(
        "validate-unterminated",
        &replace_once(MINIMAL, "name = \"minimal\"", "name = \"minimal$0"),
        Expect {
            contains: &["string"],
            rule: None,
        },
    );
    // an unclosed array-table header
    check_invalid(
        "validate-header",
        &replace_once(MINIMAL, "[[creators]]", "[[creators]$0"),
        Expect {
            contains: &["expected `]`"],
            rule: None,
        },
    );
    // a key given twice: reported at the second one
    check_invalid(
        "validate-duplicate",
        &replace_once(MINIMAL, "days = 10\n", "days = 10\n$0days = 12\n"),
        Expect {
            contains: &["duplicate key"],
            rule: None,
        },
    );
}

#[test]
fn validate_rate_out_of_range() {
    check_invalid(
        "validate-rate",
        &replace_once(
            MINIMAL,
            "id = \"s\"\n",
            "id = \"s\"\nshop_plan_rate = $0\"85%\"\n",
        ),
        Expect {
            contains: &["85%", "1%–80%"],
            rule: Some("RATE-1"),
        },
    );
    // an Open plan's product rate, deep in an inline table
    let fixture = format!(
        "{MINIMAL}\n[[open_plans]]\nid = \"o\"\nseller = \"s\"\nproduct_rates = {{ p = $0\"0.5%\" }}\n"
    );
    check_invalid(
        "validate-rate-open",
        &fixture,
        Expect {
            contains: &["0.5%"],
            rule: Some("RATE-1"),
        },
    );
    // below the 0.01 % step
    check_invalid(
        "validate-rate-step",
        &replace_once(
            MINIMAL,
            "id = \"s\"\n",
            "id = \"s\"\nshop_plan_rate = $0\"10.005%\"\n",
        ),
        Expect {
            contains: &["10.005%"],
            rule: Some("H-3"),
        },
    );
}

#[test]
fn validate_unknown_key() {
    check_invalid(
        "validate-unknown",
        &replace_once(MINIMAL, "days = 10\n", "days = 10\n$0colour = \"red\"\n"),
        Expect {
            contains: &["unknown field `colour`"],
            rule: None,
        },
    );
    check_invalid(
        "validate-unknown-nested",
        &replace_once(
            MINIMAL,
            "followers = 1000\n",
            "followers = 1000\n$0folowers = 2\n",
        ),
        Expect {
            contains: &["unknown field `folowers`", "`followers`"],
            rule: None,
        },
    );
}

#[test]
fn validate_negative_price() {
    check_invalid(
        "validate-negative",
        &replace_once(MINIMAL, "price = \"1000\"", "price = $0\"-5\""),
        Expect {
            contains: &["`price`", "negative", "-5"],
            rule: Some("MONEY-1"),
        },
    );
}

#[test]
fn validate_unquoted_money_float() {
    check_invalid(
        "validate-float",
        &replace_once(MINIMAL, "price = \"1000\"", "price = $019.99"),
        Expect {
            contains: &["quoted", "19.99"],
            rule: Some("MONEY-1"),
        },
    );
    // more decimals than the currency has (IDR has none)
    check_invalid(
        "validate-decimals",
        &replace_once(MINIMAL, "price = \"1000\"", "price = $0\"1000.5\""),
        Expect {
            contains: &["minor unit"],
            rule: Some("MONEY-1"),
        },
    );
}

#[test]
fn validate_reports_every_error_in_file_order() {
    let dir = TempDir::new("validate-many");
    let text = replace_once(
        &replace_once(MINIMAL, "price = \"1000\"", "price = \"-1\""),
        "id = \"s\"\n",
        "id = \"s\"\nshop_plan_rate = \"99%\"\n",
    );
    let file = dir.write("many.toml", &text);
    let out = affsim(&["validate", arg(&file)]);
    assert_eq!(out.code, 2, "{out}");
    let rate_at = text.find("\"99%\"").unwrap();
    let price_at = text.find("\"-1\"").unwrap();
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    let (rl, rc) = line_col(&text, rate_at);
    let (pl, pc) = line_col(&text, price_at);
    assert_eq!(errors.len(), 2, "{out}");
    assert!(
        errors[0].starts_with(&format!("error: {}:{rl}:{rc}: ", file.display())),
        "{out}"
    );
    assert!(
        errors[1].starts_with(&format!("error: {}:{pl}:{pc}: ", file.display())),
        "{out}"
    );
    assert_eq!(out.stderr.lines().last(), Some("2 errors"), "{out}");
}

// -------------------------------------------------------------------------------------- check

/// The commission of the single-order fixtures below: 2 × 45.50 = 91.00 at 7.25 % = 6.5975
/// → 6.60, computed with the integer oracle rather than copied from a run.
fn single_order_commission() -> Decimal {
    minor_to_dec(div_round_half_up(4550 * 2 * 725, 10_000), 2)
}

fn single_order(name: &str, commission: &str) -> String {
    SingleOrder {
        name,
        region: "US",
        price: "45.50",
        rate: "7.25%",
        quantity: 2,
        seller_coupon: None,
        refund: None,
        expect: &format!(
            "[[expect]]\norder = \"o1\"\nfield = \"commission\"\nequals = \"{commission}\"\n\n\
             [[expect]]\norder = \"o1\"\nfield = \"status\"\nequals = \"settled\"\n"
        ),
    }
    .toml()
}

/// A file that must be rejected, with the rejection it expects.
fn expected_rejection() -> String {
    let text = replace_once(
        MINIMAL,
        "id = \"s\"\n",
        "id = \"s\"\nshop_plan_rate = \"81%\"\n",
    );
    let line = line_col(&text, text.find("\"81%\"").unwrap()).0;
    format!("{text}\n[expect_invalid]\nrule = \"RATE-1\"\nline = {line}\n")
}

#[test]
fn check_one_passing_one_failing() {
    let dir = TempDir::new("check-mixed");
    let good = dir.write(
        "suite/good.toml",
        &single_order("good", &single_order_commission().to_string()),
    );
    let bad = dir.write("suite/bad.toml", &single_order("bad", "6.59"));
    let out = affsim(&["check", arg(&dir.join("suite"))]);
    assert_eq!(out.code, 1, "{out}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    let pass: Vec<&&str> = lines.iter().filter(|l| l.starts_with("PASS")).collect();
    let fail: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(pass.len(), 1, "{out}");
    assert_eq!(fail.len(), 1, "{out}");
    assert_eq!(
        *pass[0],
        format!("PASS  {}  (good; 2 expectation(s))", good.display())
    );
    assert_eq!(*fail[0], format!("FAIL  {}  (bad)", bad.display()));
    // the failure says what was expected and what came out, and where the expectation is
    let detail = out
        .stdout
        .lines()
        .find(|l| l.starts_with("      - "))
        .unwrap_or_else(|| panic!("no failure detail\n{out}"));
    let bad_text = std::fs::read_to_string(&bad).unwrap();
    let expect_line = line_col(&bad_text, bad_text.find("[[expect]]").unwrap()).0;
    assert!(
        detail.contains(&format!("{}:{expect_line}", bad.display())),
        "{detail}"
    );
    // money in the currency's format (USD: two decimals)
    assert!(detail.contains("expected USD 6.59"), "{detail}");
    assert!(
        detail.contains(&format!("got USD {:.2}", single_order_commission())),
        "{detail}"
    );
    assert_eq!(lines.last(), Some(&"1 passed, 1 failed"), "{out}");
}

#[test]
fn check_only_passing() {
    let dir = TempDir::new("check-pass");
    dir.write(
        "suite/a.toml",
        &single_order("a", &single_order_commission().to_string()),
    );
    dir.write(
        "suite/nested/b.toml",
        &single_order("b", &single_order_commission().to_string()),
    );
    dir.write("suite/nested/c.toml", &expected_rejection());
    dir.write("suite/notes.txt", "not a scenario");
    let out = affsim(&["check", arg(&dir.join("suite"))]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("PASS")).count(),
        3,
        "{out}"
    );
    assert_eq!(
        out.stdout.lines().last(),
        Some("3 passed, 0 failed"),
        "{out}"
    );
}

#[test]
fn check_without_scenarios_exits_2() {
    let dir = TempDir::new("check-empty");
    dir.write("suite/readme.txt", "nothing here");
    let out = affsim(&["check", arg(&dir.join("suite"))]);
    assert_eq!(out.code, 2, "{out}");
    assert!(out.stderr.contains("no scenario files"), "{out}");
    let out = affsim(&["check", arg(&dir.join("absent"))]);
    assert_eq!(out.code, 2, "{out}");
}

#[test]
fn check_coverage_lists_rule_ids() {
    let dir = TempDir::new("check-coverage");
    let good = dir.write(
        "suite/good.toml",
        &single_order("good", &single_order_commission().to_string()),
    );
    let out = affsim(&["check", "--coverage", arg(&dir.join("suite"))]);
    assert_eq!(out.code, 0, "{out}");
    let rule_line = |id: &str| -> String {
        out.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no coverage line for {id}\n{out}"))
            .to_string()
    };
    let mut exercised = 0;
    for r in RuleId::ALL {
        let l = rule_line(r.as_str());
        if !l.contains("not exercised") {
            exercised += 1;
            assert!(l.contains(&good.display().to_string()), "{l}");
        }
    }
    // a settled Open-plan order exercises settlement and Open rules, not Target or Plus
    for id in ["SETTLE-1", "SETTLE-2", "OPEN-1", "ORDER-1"] {
        assert!(
            rule_line(id).contains("1 scenario(s)"),
            "{id}: {}",
            rule_line(id)
        );
    }
    for id in ["TARGET-1", "PLUS-1", "DIST-1"] {
        assert!(rule_line(id).contains("not exercised"), "{}", rule_line(id));
    }
    let summary = format!("{exercised} of {} rules exercised", RuleId::COUNT);
    assert!(
        out.stdout.lines().any(|l| l.starts_with(&summary)),
        "expected {summary:?}\n{out}"
    );
    assert_eq!(out.stdout.lines().last(), Some("1 passed, 0 failed"));
}

#[test]
fn check_json_is_parseable() {
    let dir = TempDir::new("check-json");
    let good = dir.write(
        "suite/good.toml",
        &single_order("good", &single_order_commission().to_string()),
    );
    let bad = dir.write("suite/bad.toml", &single_order("bad", "1"));
    let out = affsim(&["check", "--json", arg(&dir.join("suite"))]);
    assert_eq!(out.code, 1, "{out}");
    let doc = json(&out.stdout);
    assert_eq!(doc["passed"], 1);
    assert_eq!(doc["failed"], 1);
    assert!(doc["coverage"].is_null(), "no coverage unless asked");
    let list = doc["scenarios"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // files are checked in path order: bad before good
    assert_eq!(list[0]["file"], bad.display().to_string());
    assert_eq!(list[0]["passed"], false);
    assert_eq!(list[0]["failures"].as_array().map(Vec::len), Some(1));
    assert_eq!(list[1]["file"], good.display().to_string());
    assert_eq!(list[1]["passed"], true);
    assert_eq!(list[1]["expectations"], 2);
    assert_eq!(list[1]["replications"], 1);
    let fired: Vec<&str> = list[1]["rules_fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(fired.contains(&"SETTLE-1"), "{fired:?}");
    for f in &fired {
        assert!(RuleId::parse(f).is_some(), "{f} is a rule ID");
    }

    let out = affsim(&["check", "--json", "--coverage", arg(&dir.join("suite"))]);
    let doc = json(&out.stdout);
    let cov = doc["coverage"].as_array().expect("coverage requested");
    assert_eq!(cov.len(), RuleId::COUNT);
    for (entry, r) in cov.iter().zip(RuleId::ALL) {
        assert_eq!(entry["rule"], r.as_str());
    }
}

/// Ctrl-C during `run`: the process exits 130, says how many replications had finished, and
/// leaves no report folder and no partial folder behind.
#[cfg(unix)]
#[test]
fn run_interrupted_leaves_nothing_behind() {
    let tmp = TempDir::new("interrupt");
    let out = tmp.join("report");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_affsim"))
        .args(["run", "--replications", "5000", "--quiet", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("affsim starts");
    // Let it get going, then interrupt it as a terminal's Ctrl-C would.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let result = child.wait_with_output().expect("affsim ends");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "stderr: {stderr}");
    assert!(
        stderr.contains("interrupted:") && stderr.contains("of 5000 replication(s) had finished"),
        "stderr: {stderr}"
    );
    assert!(!out.exists(), "no report folder after an interrupted run");
    assert!(
        tmp.entries().is_empty(),
        "no partial folder left: {:?}",
        tmp.entries()
    );
}

/// `affsim new NAME` writes a starter that validates and whose expectations pass; it refuses to
/// overwrite without --force and rejects a bad name.
#[test]
fn new_writes_a_starter_that_passes_check() {
    let tmp = TempDir::new("new-starter");
    let out = affsim_in(Some(tmp.path()), &["new", "trial"]);
    assert_eq!(out.code, 0, "{out}");
    let file = tmp.join("trial.toml");
    let text = std::fs::read_to_string(&file).expect("the starter exists");
    assert!(text.contains("name = \"trial\""), "the name is written in");
    let check = affsim(&["check", arg(&file)]);
    assert_eq!(check.code, 0, "{check}");
    assert!(check.stdout.contains("1 passed, 0 failed"), "{check}");
    assert_eq!(
        affsim_in(Some(tmp.path()), &["new", "trial"]).code,
        2,
        "no silent overwrite"
    );
    assert_eq!(
        affsim_in(Some(tmp.path()), &["new", "trial", "--force"]).code,
        0
    );
    assert_eq!(affsim_in(Some(tmp.path()), &["new", "../escape"]).code, 2);
}

#[test]
fn completions_are_printed_for_bash() {
    let out = affsim(&["completions", "bash"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(
        out.stdout.contains("_affsim()") && out.stdout.contains("sweep"),
        "a bash completion function naming the subcommands"
    );
}

/// A sweep through the binary: arms × replications, paired differences, files written; an arm
/// that sets the baseline's own value differs by exactly zero (common random numbers).
#[test]
fn sweep_writes_paired_differences() {
    let tmp = TempDir::new("sweep-cli");
    let out_dir = tmp.join("sweep");
    let out = affsim(&[
        "sweep",
        "scenarios/examples/plus-task-reward-sweep.toml",
        "--set",
        "plus_campaigns.glow-task.reward=\"100000\",\"100000\",\"400000\"",
        "--set",
        "plus_campaigns.glow-task.policy=as-given",
        "--replications",
        "3",
        "--quiet",
        "--json",
        "--out",
        arg(&out_dir),
    ]);
    assert_eq!(out.code, 0, "{out}");
    for f in [
        "sweep.json",
        "sweep.csv",
        "sweep-summary.csv",
        "report.md",
        "report.html",
        "sweep_diff_gmv.png",
        "sweep_diff_gmv.svg",
    ] {
        assert!(out_dir.join(f).exists(), "{f} written");
    }
    let doc = json(&out.stdout);
    let arms = doc["arms"].as_array().expect("arms");
    assert_eq!(arms.len(), 3);
    assert_eq!(doc["replications"], 3);
    let d = |a: usize, m: &str| dec(&arms[a]["metrics"][m]["diff_vs_baseline"]["mean"]);
    assert_eq!(
        d(1, "gmv"),
        Decimal::ZERO,
        "the same settings as the baseline: zero paired difference"
    );
    assert_eq!(d(1, "rewards_paid"), Decimal::ZERO);
    assert!(
        d(2, "rewards_paid") > Decimal::ZERO,
        "a higher reward pays more rewards"
    );
    assert!(
        d(2, "plus_participants") >= Decimal::ZERO,
        "as-given asks the same creators; a higher reward never lowers participation (issue 15)"
    );
    let csv = std::fs::read_to_string(out_dir.join("sweep-summary.csv")).unwrap();
    assert!(csv.starts_with(
        "arm,arm_name,metric,unit,mean,ci95_low,ci95_high,diff_mean,diff_ci95_low,diff_ci95_high"
    ));
}

/// Built-in scenarios by name: `affsim run demo` runs the demo, `affsim scenarios` lists every
/// name and `affsim scenarios --print NAME` prints one that validates as a file.
#[test]
fn builtin_scenarios_run_and_print_by_name() {
    let tmp = TempDir::new("builtin-by-name");
    let out = affsim_in(
        Some(tmp.path()),
        &["run", "demo", "--replications", "1", "--out", "r"],
    );
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stderr.starts_with("demo — 1 replication(s)"), "{out}");
    let list = affsim(&["scenarios"]);
    assert_eq!(list.code, 0, "{list}");
    let names: Vec<&str> = list
        .stdout
        .lines()
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(names, ["demo", "starter", "plus-task-reward-sweep"]);
    for name in names {
        let printed = affsim(&["scenarios", "--print", name]);
        assert_eq!(printed.code, 0, "{printed}");
        let file = tmp.write(&format!("{name}.toml"), &printed.stdout);
        let v = affsim(&["validate", arg(&file)]);
        assert_eq!(v.code, 0, "{name}: {v}");
    }
    assert_eq!(
        affsim(&["scenarios", "--print", "demo"]).stdout.trim_end(),
        std::fs::read_to_string(repo_root().join("scenarios/demo.toml"))
            .unwrap()
            .trim_end(),
        "the demo printed is scenarios/demo.toml"
    );
    let unknown = affsim(&["scenarios", "--print", "nope"]);
    assert_eq!(unknown.code, 2, "{unknown}");
    assert!(
        unknown.stderr.contains("demo"),
        "lists the names: {unknown}"
    );
}
