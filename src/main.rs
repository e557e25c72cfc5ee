//! The `affsim` command line: parses arguments (clap) and calls the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use affsim::experiment::{self, RunConfig};
use affsim::rules::catalogue::{RuleId, RuleSet};
use affsim::scenario::{self, Scenario, ScenarioError};
use affsim::{check, report};

/// Prints a line on stdout, ignoring a closed pipe (`affsim … | head` must not panic).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "affsim",
    version,
    about = "Simulate and test creator-affiliate commerce rules",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario (the built-in demo when none is given) and write a report folder.
    Run {
        /// Scenario file (TOML).
        scenario: Option<PathBuf>,
        /// Report folder (default: reports/<name>-seed<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Replications (overrides the scenario's).
        #[arg(long)]
        replications: Option<u32>,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Also write ledger.csv with every entry and its provenance.
        #[arg(long)]
        ledger: bool,
        /// Replace an existing report folder.
        #[arg(long)]
        force: bool,
        /// No progress or summary on stderr.
        #[arg(long, short)]
        quiet: bool,
        /// Print summary.json to stdout.
        #[arg(long)]
        json: bool,
        /// Run only shard K of N — replications i with i mod N = K − 1 — and write a partial
        /// result for `affsim merge` (see docs/scaling.md).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Write wall-clock throughput (events and events per second, per replication and for
        /// the run) to this JSON file. Not part of the report: timings vary from run to run.
        #[arg(long, value_name = "FILE")]
        timing: Option<PathBuf>,
    },
    /// Combine the partial results of `affsim run --shard K/N` into the report one run gives.
    Merge {
        /// Partial-result folders (each holding partial.json).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        force: bool,
        #[arg(long, short)]
        quiet: bool,
        /// Print summary.json to stdout.
        #[arg(long)]
        json: bool,
    },
    /// Parse and validate a scenario without running it.
    Validate { scenario: PathBuf },
    /// Run scenario files that carry expectations; one line per scenario, then `N passed, M failed`.
    Check {
        /// Files or folders (searched for *.toml).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// List every rule ID with the scenarios that exercised it.
        #[arg(long)]
        coverage: bool,
        #[arg(long)]
        threads: Option<usize>,
        /// Print the verdicts as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Explain an order line (--order) or a creator's rate on a product at a time: which rate
    /// applied, from which plan, by which rules, the candidates that lost, the ledger entries.
    Explain {
        /// Scenario file (the built-in demo when none is given).
        scenario: Option<PathBuf>,
        /// A scripted order's id, or an order number (`#12`).
        #[arg(long, conflicts_with_all = ["creator", "product", "at"])]
        order: Option<String>,
        /// Creator name (or creator#N for a generated one).
        #[arg(long, requires_all = ["product", "at"])]
        creator: Option<String>,
        /// Product name (or product#N).
        #[arg(long, requires_all = ["creator", "at"])]
        product: Option<String>,
        /// Time, "YYYY-MM-DD HH:MM".
        #[arg(long, requires_all = ["creator", "product"])]
        at: Option<String>,
        /// Traffic source for --creator/--product: video, live, showcase or ad.
        #[arg(long, default_value = "video")]
        traffic: String,
        /// For ad traffic: the video is creator-authorised.
        #[arg(long)]
        authorised: bool,
        /// Seed (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Replication index.
        #[arg(long, default_value_t = 0)]
        replication: u32,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run a scenario over a grid of settings (`[sweep]` in the file and/or --set), every arm
    /// with the same random streams per replication, and report paired differences against
    /// the baseline (the first value of each parameter).
    Sweep {
        scenario: PathBuf,
        /// `path.to.key=v1,v2,…` (repeatable; several keys give the cartesian product). Paths go
        /// through arrays of tables by id or index: `plus_campaigns.glow-task.reward`.
        #[arg(long = "set", value_name = "PATH=VALUES")]
        set: Vec<String>,
        #[arg(long)]
        replications: Option<u32>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        threads: Option<usize>,
        /// Report folder (default: reports/<name>-sweep-seed<seed>).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        force: bool,
        #[arg(long, short)]
        quiet: bool,
        /// Print sweep.json to stdout.
        #[arg(long)]
        json: bool,
        /// Run only shard K of N of the (arm, replication) space and write a partial result for
        /// `affsim merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// List the built-in scenarios.
    Scenarios,
    /// Write a commented starter scenario, NAME.toml, that validates.
    New {
        /// The scenario's name (also the file name, with .toml).
        name: String,
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions { shell: clap_complete::Shell },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            replications,
            threads,
            ledger,
            force,
            quiet,
            json,
            shard,
            timing,
        } => cmd_run(
            scenario,
            out,
            seed,
            replications,
            threads,
            ledger,
            force,
            quiet,
            json,
            shard,
            timing,
        ),
        Command::Validate { scenario } => match scenario::load(&scenario) {
            Ok(sc) => {
                warn(&sc);
                let (s, p, c) = sc.agent_counts();
                eprintln!(
                    "{}: valid — {} ({} days from {}, {} sellers, {} products, {} creators, {} scripted events, {} expectations)",
                    scenario.display(),
                    sc.name,
                    sc.days,
                    sc.calendar.start,
                    s,
                    p,
                    c,
                    sc.script.len(),
                    sc.expectations.len()
                );
                ExitCode::SUCCESS
            }
            Err(errs) => invalid(&errs),
        },
        Command::Check {
            paths,
            coverage,
            threads,
            json,
        } => cmd_check(paths, coverage, threads, json),
        Command::Explain {
            scenario,
            order,
            creator,
            product,
            at,
            traffic,
            authorised,
            seed,
            replication,
            json,
        } => cmd_explain(
            scenario,
            order,
            creator,
            product,
            at,
            &traffic,
            authorised,
            seed,
            replication,
            json,
        ),
        Command::Sweep {
            scenario,
            set,
            replications,
            seed,
            threads,
            out,
            force,
            quiet,
            json,
            shard,
        } => cmd_sweep(
            scenario,
            set,
            replications,
            seed,
            threads,
            out,
            force,
            quiet,
            json,
            shard,
        ),
        Command::New { name, force } => cmd_new(&name, force),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "affsim", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Merge {
            dirs,
            out,
            force,
            quiet,
            json,
        } => cmd_merge(dirs, out, force, quiet, json),
        Command::Scenarios => {
            outln!(
                "demo\tthe built-in demo (affsim run): Shop plan, Open plans with samples and a rate cut, Target invitations, a distributor campaign, a Collaboration Plus Task and Challenge, over a synthetic market"
            );
            ExitCode::SUCCESS
        }
    }
}

fn warn(sc: &Scenario) {
    for w in &sc.warnings {
        eprintln!("warning: {w}");
    }
}

fn invalid(errs: &[ScenarioError]) -> ExitCode {
    for e in errs {
        eprintln!("error: {e}");
    }
    if errs.len() > 1 {
        eprintln!("{} errors", errs.len());
    }
    ExitCode::from(2)
}

fn load(path: &Option<PathBuf>) -> Result<Scenario, Vec<ScenarioError>> {
    match path {
        Some(p) => scenario::load(p),
        None => scenario::parse(scenario::DEMO_NAME, scenario::DEMO),
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_run(
    path: Option<PathBuf>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    replications: Option<u32>,
    threads: Option<usize>,
    ledger: bool,
    force: bool,
    quiet: bool,
    json: bool,
    shard: Option<String>,
    timing: Option<PathBuf>,
) -> ExitCode {
    let shard = match shard
        .as_deref()
        .map(affsim::experiment::shard::parse_shard)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let source = match &path {
        Some(p) => std::fs::read_to_string(p).unwrap_or_default(),
        None => scenario::DEMO.to_string(),
    };
    let sc = match load(&path) {
        Ok(sc) => sc,
        Err(errs) => return invalid(&errs),
    };
    if !quiet {
        warn(&sc);
    }
    if replications == Some(0) {
        eprintln!("error: --replications must be at least 1");
        return ExitCode::from(2);
    }
    let seed = seed.unwrap_or(sc.seed);
    let n = replications.unwrap_or(sc.replications);
    let dest = out.unwrap_or_else(|| match shard {
        Some((k, shards)) => {
            let mut named = sc.clone();
            named.name = format!("{}-shard-{k}-of-{shards}", sc.name);
            report::default_out(&named, seed)
        }
        None => report::default_out(&sc, seed),
    });
    let staged = match report::Staged::new(&dest, force) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(u64::from(n));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} replications {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let tick = bar.clone();
    // Ctrl-C: finish nothing new, keep nothing half-written (the staged folder is removed).
    let interrupt = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let finished = Arc::new(std::sync::atomic::AtomicU64::new(0));
    {
        let flag = interrupt.clone();
        let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    let counter = finished.clone();
    let cfg = RunConfig {
        replications: Some(n),
        threads,
        seed: Some(seed),
        options: affsim::sim::RunOptions {
            record_ledger: false,
            // Streamed to a part file per replication as the run posts, joined at the end.
            ledger_sink: ledger.then(|| report::ledger_sinks(staged.path(), &sc)),
            track: Vec::new(),
            interrupt: Some(interrupt.clone()),
        },
        on_done: Some(Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tick.inc(1)
        })),
    };
    let started = std::time::Instant::now();
    let indices = match shard {
        Some((k, shards)) => experiment::shard_indices(n, k, shards),
        None => (0..n).collect(),
    };
    let outcome = match experiment::run_indices(&sc, &cfg, &indices) {
        Ok(o) => o,
        Err(affsim::sim::RunError::Interrupted { .. }) => {
            bar.abandon();
            let done = finished.load(std::sync::atomic::Ordering::Relaxed);
            eprintln!(
                "interrupted: {done} of {n} replication(s) had finished; no report was written"
            );
            return ExitCode::from(130);
        }
        Err(e) => {
            bar.abandon();
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let simulated = started.elapsed().as_secs_f64();
    let report_started = std::time::Instant::now();
    if let Some((k, shards)) = shard {
        // A shard writes its partial result only; `affsim merge` writes the report.
        let partial = affsim::experiment::shard::Partial {
            format: affsim::experiment::shard::FORMAT,
            scenario_file: sc.file.clone(),
            scenario_source: source,
            seed,
            replications: n,
            shard: (k, shards),
            ledger,
            runs: outcome
                .replications
                .iter()
                .map(affsim::experiment::shard::RepData::of)
                .collect(),
        };
        let written = serde_json::to_string(&partial)
            .map_err(anyhow::Error::from)
            .and_then(|t| {
                std::fs::write(staged.path().join("partial.json"), t).map_err(anyhow::Error::from)
            });
        if let Err(e) = written {
            eprintln!("error: cannot write the partial result: {e:#}");
            return ExitCode::from(2);
        }
        return match staged.commit() {
            Ok(d) => {
                if !quiet {
                    eprintln!(
                        "shard {k}/{shards}: {} of {n} replication(s); partial result: {} (combine with `affsim merge`)",
                        outcome.replications.len(),
                        d.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let parts = [staged.path().to_path_buf()];
    let doc = match report::write_run(
        staged.path(),
        &sc,
        seed,
        &outcome.replications,
        ledger.then_some(&parts[..]),
    ) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot write the report: {e:#}");
            return ExitCode::from(2);
        }
    };
    let dest = match staged.commit() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(file) = &timing {
        let doc = report::timing_json(
            &sc,
            seed,
            threads.unwrap_or_else(rayon::current_num_threads),
            &outcome,
            simulated,
            report_started.elapsed().as_secs_f64(),
        );
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        if let Err(e) = std::fs::write(file, text) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return ExitCode::from(2);
        }
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if !quiet {
        let m = &doc["metrics"];
        let mean = |k: &str| m[k]["mean"].as_str().unwrap_or("?").to_string();
        let events: u64 = outcome.replications.iter().map(|r| r.events).sum();
        let secs = simulated;
        eprintln!(
            "{} — {} replication(s), seed {seed}: mean GMV {} {}, orders {}, commissions {}, refunds {}, seller net {}; ledger balanced",
            sc.name,
            outcome.replications.len(),
            mean("gmv"),
            sc.region.currency,
            mean("orders"),
            mean("commissions"),
            mean("refunds"),
            mean("seller_net"),
        );
        eprintln!(
            "{events} events in {secs:.2} s ({:.0} events/s); report: {}",
            events as f64 / secs.max(1e-9),
            dest.display()
        );
    }
    ExitCode::SUCCESS
}

fn cmd_check(paths: Vec<PathBuf>, coverage: bool, threads: Option<usize>, json: bool) -> ExitCode {
    let files = match check::collect(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if files.is_empty() {
        eprintln!(
            "error: no scenario files found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return ExitCode::from(2);
    }
    let verdicts: Vec<check::Verdict> = files
        .iter()
        .map(|f| check::check_file(f, threads))
        .collect();
    let (mut passed, mut failed) = (0, 0);
    for v in &verdicts {
        if v.passed {
            passed += 1;
            if !json {
                outln!(
                    "PASS  {}  ({}; {} expectation(s))",
                    v.file,
                    v.name,
                    v.checked
                );
            }
        } else {
            failed += 1;
            if !json {
                outln!("FAIL  {}  ({})", v.file, v.name);
                for f in &v.failures {
                    for (i, line) in f.lines().enumerate() {
                        outln!("{}{line}", if i == 0 { "      - " } else { "        " });
                    }
                }
            }
        }
    }
    let mut exercised: Vec<(RuleId, Vec<&str>)> =
        RuleId::ALL.iter().map(|&r| (r, Vec::new())).collect();
    for v in verdicts.iter().filter(|v| v.passed) {
        for r in v.fired.iter() {
            exercised[r.index()].1.push(&v.file);
        }
    }
    if json {
        let doc = serde_json::json!({
            "passed": passed,
            "failed": failed,
            "scenarios": verdicts.iter().map(|v| serde_json::json!({
                "file": v.file, "name": v.name, "passed": v.passed, "failures": v.failures,
                "expectations": v.checked, "replications": v.replications, "rules_fired": v.fired,
            })).collect::<Vec<_>>(),
            "coverage": coverage.then(|| exercised.iter().map(|(r, f)| serde_json::json!({"rule": r, "scenarios": f})).collect::<Vec<_>>()),
        });
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else if coverage {
        outln!();
        let mut missing = RuleSet::EMPTY;
        for (r, f) in &exercised {
            if f.is_empty() {
                missing.insert(*r);
                outln!("{:<10} —  not exercised", r.as_str());
            } else {
                outln!(
                    "{:<10} {} scenario(s): {}",
                    r.as_str(),
                    f.len(),
                    f.join(", ")
                );
            }
        }
        outln!(
            "{} of {} rules exercised; not exercised: {}",
            RuleId::COUNT - missing.len(),
            RuleId::COUNT,
            if missing.is_empty() {
                "none".to_string()
            } else {
                missing.to_string()
            }
        );
    }
    if !json {
        outln!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_explain(
    path: Option<PathBuf>,
    order: Option<String>,
    creator: Option<String>,
    product: Option<String>,
    at: Option<String>,
    traffic: &str,
    authorised: bool,
    seed: Option<u64>,
    replication: u32,
    json: bool,
) -> ExitCode {
    use affsim::explain;
    let mut sc = match load(&path) {
        Ok(sc) => sc,
        Err(errs) => return invalid(&errs),
    };
    if let Some(s) = seed {
        sc.seed = s;
    }
    let result = if let Some(o) = order {
        explain::explain_order(&sc, replication, &explain::OrderSel::parse(&o)).map(|e| {
            if json {
                serde_json::to_string_pretty(&e).unwrap_or_default()
            } else {
                explain::order_text(&e)
            }
        })
    } else if let (Some(c), Some(p), Some(at)) = (creator, product, at) {
        let traffic = match traffic {
            "video" => affsim::model::Traffic::Video,
            "live" => affsim::model::Traffic::Live,
            "showcase" => affsim::model::Traffic::Showcase,
            "ad" => affsim::model::Traffic::Ad,
            other => {
                eprintln!("error: --traffic must be video, live, showcase or ad, not `{other}`");
                return ExitCode::from(2);
            }
        };
        let Some(t) = affsim::time::parse_datetime(&at).and_then(|dt| sc.calendar.time_of(dt))
        else {
            eprintln!(
                "error: --at `{at}` is not a time on or after the scenario start {} (\"YYYY-MM-DD HH:MM\")",
                sc.calendar.start
            );
            return ExitCode::from(2);
        };
        explain::explain_rate(&sc, replication, &c, &p, t, traffic, authorised).map(|e| {
            if json {
                serde_json::to_string_pretty(&e).unwrap_or_default()
            } else {
                explain::rate_text(&e)
            }
        })
    } else {
        eprintln!("error: explain needs --order ID, or --creator C --product P --at TIME");
        return ExitCode::from(2);
    };
    match result {
        Ok(text) => {
            outln!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_sweep(
    path: PathBuf,
    set: Vec<String>,
    replications: Option<u32>,
    seed: Option<u64>,
    threads: Option<usize>,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    json: bool,
    shard: Option<String>,
) -> ExitCode {
    use affsim::experiment::sweep;
    let shard = match shard
        .as_deref()
        .map(affsim::experiment::shard::parse_shard)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let file = path.display().to_string();
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {file}: cannot read the scenario file: {e}");
            return ExitCode::from(2);
        }
    };
    // The file must be a valid scenario first (errors point into the file itself).
    let base = match scenario::parse(&file, &src) {
        Ok(sc) => sc,
        Err(errs) => return invalid(&errs),
    };
    let mut extra = Vec::new();
    for s in &set {
        match sweep::parse_set(s) {
            Ok(p) => extra.push(p),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let arms = match sweep::arms(&file, &src, &extra) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if replications == Some(0) {
        eprintln!("error: --replications must be at least 1");
        return ExitCode::from(2);
    }
    let seed = seed.unwrap_or(base.seed);
    let n = replications.unwrap_or(base.replications);
    let dest = out.unwrap_or_else(|| {
        let mut sc = base.clone();
        sc.name = match shard {
            Some((k, n)) => format!("{}-sweep-shard-{k}-of-{n}", sc.name),
            None => format!("{}-sweep", sc.name),
        };
        report::default_out(&sc, seed)
    });
    let staged = match report::Staged::new(&dest, force) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let n_arms = arms.len();
    let bar = if quiet || !std::io::stderr().is_terminal() {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new((n_arms as u64) * u64::from(n));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} sweep: {msg} replications {pos}/{len} [{bar:30}] eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let interrupt = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let flag = interrupt.clone();
        let _ = ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::Relaxed));
    }
    let tick = bar.clone();
    let cfg = RunConfig {
        replications: Some(n),
        threads,
        seed: Some(seed),
        options: affsim::sim::RunOptions {
            interrupt: Some(interrupt.clone()),
            ..Default::default()
        },
        on_done: Some(Arc::new(move || tick.inc(1))),
    };
    if let Some((k, shards)) = shard {
        use affsim::experiment::shard as sh;
        let idx = sh::sweep_shard_indices(n_arms as u32, n, k, shards);
        let mut runs = Vec::new();
        for (a, arm) in arms.iter().enumerate() {
            match experiment::run_indices(&arm.scenario, &cfg, &idx[a]) {
                Ok(o) => runs.extend(
                    o.replications
                        .iter()
                        .map(|r| (a as u32, sh::RepData::of(r))),
                ),
                Err(e) => {
                    bar.abandon();
                    eprintln!("error: {e}");
                    return ExitCode::from(
                        if matches!(e, affsim::sim::RunError::Interrupted { .. }) {
                            130
                        } else {
                            2
                        },
                    );
                }
            }
        }
        bar.finish_and_clear();
        let partial = sh::SweepPartial {
            format: sh::FORMAT,
            scenario_file: file.clone(),
            scenario_source: src.clone(),
            sets: set.clone(),
            seed,
            replications: n,
            arms: n_arms as u32,
            shard: (k, shards),
            runs,
        };
        let written = serde_json::to_string(&partial)
            .map_err(anyhow::Error::from)
            .and_then(|t| {
                std::fs::write(staged.path().join("sweep-partial.json"), t)
                    .map_err(anyhow::Error::from)
            });
        if let Err(e) = written {
            eprintln!("error: cannot write the partial result: {e:#}");
            return ExitCode::from(2);
        }
        return match staged.commit() {
            Ok(d) => {
                if !quiet {
                    eprintln!(
                        "sweep shard {k}/{shards}: partial result {} (combine with `affsim merge`)",
                        d.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let bar2 = bar.clone();
    let outcome = match sweep::run(arms, &cfg, |i| {
        bar2.set_message(format!("arm {}/{n_arms}", i + 1))
    }) {
        Ok(o) => o,
        Err(affsim::sim::RunError::Interrupted { .. }) => {
            bar.abandon();
            eprintln!(
                "interrupted: {} replication(s) of {} had finished; no report was written",
                bar.position(),
                (n_arms as u64) * u64::from(n)
            );
            return ExitCode::from(130);
        }
        Err(e) => {
            bar.abandon();
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    bar.finish_and_clear();
    let doc = sweep::sweep_json(&outcome, 0);
    let write = || -> anyhow::Result<()> {
        let dir = staged.path();
        std::fs::write(
            dir.join("sweep.json"),
            serde_json::to_string_pretty(&doc)? + "\n",
        )?;
        sweep::write_csv(&dir.join("sweep.csv"), &doc)?;
        let charts = report::charts::write_sweep_charts(dir, &doc, &base.region.currency)?;
        report::write_sweep_markdown(dir, &base, &doc, &charts)?;
        Ok(())
    };
    if let Err(e) = write() {
        eprintln!("error: cannot write the sweep report: {e:#}");
        return ExitCode::from(2);
    }
    let dest = match staged.commit() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if json {
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if !quiet {
        eprintln!(
            "{} — sweep of {n_arms} arm(s) × {n} replication(s), seed {seed}, common random numbers; differences are paired against arm 0",
            base.name
        );
        for line in report::sweep_table(&doc) {
            eprintln!("{line}");
        }
        eprintln!("report: {}", dest.display());
    }
    ExitCode::SUCCESS
}

/// The starter scenario `affsim new` writes.
const STARTER: &str = include_str!("../scenarios/examples/starter.toml");

fn cmd_new(name: &str, force: bool) -> ExitCode {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        eprintln!("error: a scenario name uses letters, digits, '-' and '_' only");
        return ExitCode::from(2);
    }
    let path = PathBuf::from(format!("{name}.toml"));
    if path.exists() && !force {
        eprintln!(
            "error: {} already exists; pass --force to overwrite it",
            path.display()
        );
        return ExitCode::from(2);
    }
    let text = STARTER.replacen("name = \"starter\"", &format!("name = \"{name}\""), 1);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "wrote {} — try `affsim check {0}` and `affsim run {0}`",
        path.display()
    );
    ExitCode::SUCCESS
}

fn cmd_merge(
    dirs: Vec<PathBuf>,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    json: bool,
) -> ExitCode {
    use affsim::experiment::shard;
    if dirs.iter().all(|d| d.join("sweep-partial.json").exists()) {
        return merge_sweep(dirs, out, force, quiet, json);
    }
    let mut partials = Vec::new();
    for d in &dirs {
        let file = d.join("partial.json");
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<shard::Partial>(&t).map_err(|e| e.to_string()));
        match parsed {
            Ok(p) => partials.push(p),
            Err(e) => {
                eprintln!("error: {}: not a partial result: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    // Shards that ran with --ledger left their replications' ledger parts in their folders.
    let ledger = partials.iter().filter(|p| p.ledger).count();
    if ledger != 0 && ledger != partials.len() {
        eprintln!(
            "error: {ledger} of {} shard(s) ran with --ledger; run every shard with it, or none",
            partials.len()
        );
        return ExitCode::from(2);
    }
    let (sc, seed, reps) = match shard::merge(partials) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let dest = out.unwrap_or_else(|| report::default_out(&sc, seed));
    let staged = match report::Staged::new(&dest, force) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let doc = match report::write_run(
        staged.path(),
        &sc,
        seed,
        &reps,
        (ledger != 0).then_some(&dirs[..]),
    ) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot write the report: {e:#}");
            return ExitCode::from(2);
        }
    };
    match staged.commit() {
        Ok(d) => {
            if json {
                outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            if !quiet {
                eprintln!(
                    "merged {} shard(s), {} replication(s) of {}; report: {}",
                    dirs.len(),
                    reps.len(),
                    sc.name,
                    d.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn merge_sweep(
    dirs: Vec<PathBuf>,
    out: Option<PathBuf>,
    force: bool,
    quiet: bool,
    json: bool,
) -> ExitCode {
    use affsim::experiment::{shard, sweep};
    let mut partials = Vec::new();
    for d in &dirs {
        let file = d.join("sweep-partial.json");
        match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                serde_json::from_str::<shard::SweepPartial>(&t).map_err(|e| e.to_string())
            }) {
            Ok(p) => partials.push(p),
            Err(e) => {
                eprintln!("error: {}: not a sweep partial result: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    let fail = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let (src, file, sets, seed, runs) = match shard::merge_sweep(partials) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let extra: Result<Vec<_>, _> = sets.iter().map(|s| sweep::parse_set(s)).collect();
    let arms = match extra.and_then(|x| sweep::arms(&file, &src, &x).map_err(|e| e.to_string())) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let base = match scenario::parse(&file, &src) {
        Ok(b) => b,
        Err(e) => return fail(e[0].to_string()),
    };
    let outcome = sweep::SweepOutcome {
        seed,
        arms: arms.into_iter().zip(runs).collect(),
    };
    let doc = sweep::sweep_json(&outcome, 0);
    let dest = out.unwrap_or_else(|| {
        let mut sc = base.clone();
        sc.name = format!("{}-sweep", sc.name);
        report::default_out(&sc, seed)
    });
    let staged = match report::Staged::new(&dest, force) {
        Ok(s) => s,
        Err(e) => return fail(format!("{e:#}")),
    };
    if let Err(e) = report::write_sweep(staged.path(), &base, &doc) {
        return fail(format!("cannot write the sweep report: {e:#}"));
    }
    match staged.commit() {
        Ok(d) => {
            if json {
                outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            if !quiet {
                eprintln!(
                    "merged {} sweep shard(s); report: {}",
                    dirs.len(),
                    d.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{e:#}")),
    }
}
