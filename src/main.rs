//! The `affsim` command line: parses arguments (clap, in `cli`) and calls the library.

mod cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use affsim::experiment::{self, RunConfig};
use affsim::rules::catalogue::{RuleId, RuleSet};
use affsim::scenario::{self, Scenario, ScenarioError};
use affsim::sim::RunError;
use affsim::{check, report};

use cli::{
    CalibrateCmd, CheckCmd, Cli, Command, ExplainCmd, LiftCmd, MergeCmd, OutputArgs, RunArgs,
    RunCmd, SensitivityCmd, SweepCmd,
};

/// Prints a line on stdout; a closed pipe or a full disk does not panic but is remembered, and
/// the command then ends with exit code 2 and a message (a result never silently lost).
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($t)*) {
            stdio::failed_stdout(e);
        }
    }};
}

/// `eprintln!` that never panics on a closed or full stderr (the failure is remembered: exit 2).
macro_rules! eprintln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stderr().lock(), $($t)*) {
            stdio::failed_stderr(e);
        }
    }};
}

mod stdio;

/// A command's result: `Err` carries the exit code, its message already printed on stderr.
type CmdResult = Result<(), ExitCode>;

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Run(args) => cmd_run(args),
        Command::Merge(args) => cmd_merge(args),
        Command::Validate { scenario } => cmd_validate(&scenario),
        Command::Check(args) => cmd_check(args),
        Command::Explain(args) => cmd_explain(args),
        Command::Sweep(args) => cmd_sweep(args),
        Command::Lift(args) => cmd_lift(args),
        Command::Calibrate(args) => cmd_calibrate(args),
        Command::Sensitivity(args) => cmd_sensitivity(args),
        Command::Scenarios { print } => cmd_scenarios(print.as_deref()),
        Command::New { name, force } => cmd_new(&name, force),
        Command::Rules => cmd_rules(),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, "affsim", &mut text);
            outln!("{}", String::from_utf8_lossy(&text).trim_end());
            Ok(())
        }
    };
    stdio::finish(outcome.err().unwrap_or(ExitCode::SUCCESS))
}

// ---- helpers shared by the commands ----

/// Prints `error: {msg}` on stderr and gives exit code 2 (bad input, or an output not written).
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
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

/// The scenario file, or the built-in demo when none is given.
fn load(path: &Option<PathBuf>) -> Result<Scenario, ExitCode> {
    load_source(path).map(|(sc, _)| sc)
}

/// The built-in scenario a path names (`demo`), when no such file exists.
fn builtin_of(p: &Path) -> Option<&'static scenario::builtin::Builtin> {
    if p.exists() {
        return None;
    }
    p.to_str().and_then(scenario::builtin::builtin)
}

/// A scenario's file name (for errors) and text: a file, or a built-in scenario by name.
fn read_source(p: &Path) -> Result<(String, String), ExitCode> {
    if let Some(b) = builtin_of(p) {
        return Ok((scenario::builtin::file_name(b), b.source.to_string()));
    }
    let file = p.display().to_string();
    scenario::source::read(p)
        .map(|src| (file, src))
        .map_err(|e| invalid(&[e]))
}

/// The scenario (the built-in demo without a path, a built-in scenario by name) and its text,
/// read once.
fn load_source(path: &Option<PathBuf>) -> Result<(Scenario, String), ExitCode> {
    let b = match path {
        Some(p) => match builtin_of(p) {
            Some(b) => b,
            None => return scenario::load_source(p).map_err(|errs| invalid(&errs)),
        },
        None => &scenario::builtin::BUILTINS[0],
    };
    scenario::parse(&scenario::builtin::file_name(b), b.source)
        .map(|sc| (sc, b.source.to_string()))
        .map_err(|errs| invalid(&errs))
}

/// [`RunArgs`] resolved against the scenario: its seed and replications unless overridden.
struct Plan {
    seed: u64,
    replications: u32,
    threads: Option<usize>,
}

impl Plan {
    /// Every command streams its replications' daily rows as they arrive; `kept` says what it
    /// keeps of each replication (see `memory::estimate`).
    fn resolve(
        args: &RunArgs,
        sc: &Scenario,
        kept: experiment::memory::Kept,
    ) -> Result<Plan, ExitCode> {
        if args.replications == Some(0) {
            return Err(fail("--replications must be at least 1"));
        }
        if args.threads == Some(0) {
            return Err(fail(
                "--threads must be at least 1 (leave it out to use every core)",
            ));
        }
        let replications = args.replications.unwrap_or(sc.replications);
        // known before the work starts: the memory the run would need (issue 13)
        experiment::memory::check(
            sc,
            u64::from(replications),
            args.threads.unwrap_or_else(rayon::current_num_threads),
            kept,
        )
        .map_err(fail)?;
        Ok(Plan {
            seed: args.seed.unwrap_or(sc.seed),
            replications,
            threads: args.threads,
        })
    }
}

/// Starts writing the report folder `dest` aside ([`commit`] moves it into place; dropped
/// uncommitted, nothing is left behind). A default folder (`default` true: no `--out`) taken
/// meanwhile by another run moves on to the next free name.
fn stage(dest: &Path, force: bool, default: bool) -> Result<report::Staged, ExitCode> {
    if default {
        report::Staged::new_default(dest, force)
    } else {
        report::Staged::new(dest, force)
    }
    .map_err(|e| fail(format!("{e:#}")))
}

/// Moves a staged report folder into place; its final path. Interrupted (Ctrl-C, SIGTERM,
/// SIGHUP) while the output was written, nothing is moved into place: exit 130.
fn commit(staged: report::Staged) -> Result<PathBuf, ExitCode> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        drop(staged);
        eprintln!("interrupted while the output was being written; nothing was written");
        return Err(ExitCode::from(130));
    }
    staged.commit().map_err(|e| fail(format!("{e:#}")))
}

/// Writes a shard's partial result (compact JSON) into the staged folder.
fn write_partial(
    staged: &report::Staged,
    file: &str,
    partial: &impl serde::Serialize,
) -> Result<(), ExitCode> {
    report::output::write_json_compact(staged.path(), file, partial)
        .map_err(|e| fail(format!("cannot write the partial result: {e:#}")))
}

/// `--json`: the report's `summary.json` on stdout, as written (its rows are not held in memory).
fn print_summary(dest: &Path) {
    let copied = std::fs::File::open(dest.join("summary.json"))
        .and_then(|mut f| std::io::copy(&mut f, &mut std::io::stdout().lock()));
    if let Err(e) = copied {
        stdio::failed_stdout(e);
    }
}

/// A progress bar of `len` steps on stderr; hidden when quiet or stderr is not a terminal.
fn progress_bar(quiet: bool, len: u64, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Set by Ctrl-C, SIGTERM or SIGHUP (see [`interrupt_flag`]).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// A flag that Ctrl-C, SIGTERM and SIGHUP set (ctrlc's `termination` feature): the run
/// finishes nothing new, and the staged folder, dropped uncommitted, leaves nothing
/// half-written.
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let _ = ctrlc::set_handler(move || {
        flag.store(true, Ordering::Relaxed);
        INTERRUPTED.store(true, Ordering::Relaxed);
    });
    interrupt
}

/// `--timing FILE` may create a file or replace an earlier timing file, never anything else (the
/// scenario, a report file, a user's file): checked before the run starts.
fn check_timing_path(file: &Path, scenario: Option<&Path>) -> CmdResult {
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if scenario.is_some_and(|sc| same(sc, file)) {
        return Err(fail(format_args!(
            "--timing {} is the scenario file; choose another file",
            file.display()
        )));
    }
    if file.symlink_metadata().is_err() {
        return Ok(());
    }
    // a device or FIFO is never read (`--timing /dev/full`); timing files are small
    let earlier = affsim::input::read_text(file, 64 << 20, "timing files")
        .ok()
        .is_some_and(|t| serde_json::from_str::<report::Timing>(&t).is_ok());
    if !earlier {
        return Err(fail(format_args!(
            "--timing {} exists and is not an earlier timing file; affsim replaces only its own timing files: choose another file",
            file.display()
        )));
    }
    Ok(())
}

/// Whether `inner` is `outer` or lies inside it (paths made absolute, symbolic links resolved
/// where they exist).
fn within(inner: &Path, outer: &Path) -> bool {
    let abs = |p: &Path| {
        std::fs::canonicalize(p)
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // an output not yet written: its existing parent resolved, its name kept
    let resolve = |p: &Path| match (p.parent(), p.file_name()) {
        (Some(parent), Some(name)) if !p.exists() && !parent.as_os_str().is_empty() => {
            abs(parent).join(name)
        }
        _ => abs(p),
    };
    resolve(inner).starts_with(resolve(outer))
}

/// Writes the timing file (through a temporary sibling, renamed into place).
fn write_timing(
    file: &Path,
    sc: &Scenario,
    seed: u64,
    threads: Option<usize>,
    outcome: &experiment::Outcome,
    simulated: f64,
    report_started: std::time::Instant,
) -> CmdResult {
    check_timing_path(file, None)?;
    let doc = report::timing_json(
        sc,
        seed,
        threads.unwrap_or_else(rayon::current_num_threads),
        outcome,
        simulated,
        report_started.elapsed().as_secs_f64(),
    );
    let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
    report::output::replace_file(file, &text)
        .map_err(|e| fail(format!("cannot write {}: {e}", file.display())))
}

// ---- the commands ----

/// `affsim rules`: the catalogue, one rule a line (ID, group, title, `model`), tab-separated.
fn cmd_rules() -> CmdResult {
    for r in &affsim::rules::catalogue::CATALOGUE {
        let model = if r.model { "\tmodel" } else { "" };
        outln!("{}\t{}\t{}{model}", r.id, r.group, r.title);
    }
    Ok(())
}

fn cmd_scenarios(print: Option<&str>) -> CmdResult {
    use scenario::builtin::{BUILTINS, builtin};
    match print {
        None => {
            for b in BUILTINS {
                outln!("{}\t{}", b.name, b.description);
            }
            Ok(())
        }
        Some(name) => {
            let b = builtin(name).ok_or_else(|| {
                fail(format_args!(
                    "no built-in scenario `{name}`; `affsim scenarios` lists them ({})",
                    BUILTINS
                        .iter()
                        .map(|b| b.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            outln!("{}", b.source.trim_end());
            Ok(())
        }
    }
}

fn cmd_validate(path: &Path) -> CmdResult {
    let sc = load(&Some(path.to_path_buf()))?;
    warn(&sc);
    let (s, p, c) = sc.agent_counts();
    eprintln!(
        "{}: valid — {} ({} days from {}, {} sellers, {} products, {} creators, {} scripted events, {} expectations)",
        path.display(),
        sc.name,
        sc.days,
        sc.calendar.start,
        s,
        p,
        c,
        sc.script.len(),
        sc.expectations.len()
    );
    Ok(())
}

fn cmd_run(args: RunCmd) -> CmdResult {
    let RunCmd {
        scenario: path,
        run,
        ledger,
        parquet,
        output:
            OutputArgs {
                out,
                force,
                quiet,
                json,
            },
        shard,
        timing,
    } = args;
    if parquet && shard.is_some() {
        return Err(fail(
            "--parquet is written by a whole run, not by a --shard",
        ));
    }
    if parquet && !report::PARQUET {
        return Err(fail(report::NO_PARQUET));
    }
    let (sc, source) = load_source(&path)?;
    if !quiet {
        warn(&sc);
    }
    let Plan {
        seed,
        replications: n,
        threads,
    } = Plan::resolve(
        &run,
        &sc,
        // a shard keeps its replications' totals for its partial; a whole run aggregates them
        match shard {
            Some(_) => experiment::memory::Kept::Totals,
            None => experiment::memory::Kept::Aggregated,
        },
    )?;
    if let Some(t) = &timing {
        check_timing_path(t, path.as_deref())?;
    }
    if json && shard.is_some() {
        return Err(fail(
            "--json prints the run's summary, which a shard does not have: pass --json to `affsim merge`",
        ));
    }
    let default = out.is_none();
    let dest = out.unwrap_or_else(|| match shard {
        Some((k, shards)) => {
            let mut named = sc.clone();
            named.name = format!("{}-shard-{k}-of-{shards}", sc.name);
            report::default_out(&named, seed)
        }
        None => report::default_out(&sc, seed),
    });
    if let Some(t) = timing.as_deref().filter(|t| within(t, &dest)) {
        // affsim replaces a report folder as a whole: a file of its own inside would be lost,
        // or make the folder look like one holding a user's file
        return Err(fail(format_args!(
            "--timing {} is inside the output folder {}: choose a file outside it",
            t.display(),
            dest.display()
        )));
    }
    let staged = stage(&dest, force, default)?;
    let bar = progress_bar(
        quiet,
        u64::from(n),
        "{spinner} replications {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta}",
    );
    let tick = bar.clone();
    let interrupt = interrupt_flag();
    let finished = Arc::new(AtomicU64::new(0));
    let counter = finished.clone();
    // the time series streamed as replications arrive: a whole run's to `timeseries.csv`, a
    // shard's to its part (its partial carries the aggregate)
    let stream = Arc::new(std::sync::Mutex::new(
        match shard {
            Some(_) => report::Streamed::part(staged.path(), &sc),
            None => report::Streamed::new(staged.path(), &sc),
        }
        .map_err(|e| fail(format!("cannot write the report: {e:#}")))?,
    ));
    let cfg = RunConfig {
        replications: Some(n),
        threads,
        seed: Some(seed),
        options: affsim::sim::RunOptions {
            record_ledger: false,
            // Streamed to a part file per replication as the run posts, joined at the end.
            ledger_sink: ledger.then(|| report::ledger_sinks(staged.path(), &sc)),
            track: Vec::new(),
            interrupt: Some(interrupt),
            ..Default::default()
        },
        on_done: Some(Arc::new(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            tick.inc(1)
        })),
        arrivals: Some(stream.clone() as Arc<std::sync::Mutex<dyn experiment::Arrivals>>),
    };
    let started = std::time::Instant::now();
    let indices = match shard {
        Some((k, shards)) => experiment::shard_indices(n, k, shards),
        None => (0..n).collect(),
    };
    let outcome = match experiment::run_indices(&sc, &cfg, &indices) {
        Ok(o) => o,
        Err(RunError::Interrupted { .. }) => {
            bar.abandon();
            let done = finished.load(Ordering::Relaxed);
            eprintln!(
                "interrupted: {done} of {n} replication(s) had finished; no report was written"
            );
            return Err(ExitCode::from(130));
        }
        Err(e) => {
            bar.abandon();
            return Err(fail(e));
        }
    };
    bar.finish_and_clear();
    let simulated = started.elapsed().as_secs_f64();
    let report_started = std::time::Instant::now();
    // `--timing FILE`, written once the output is in place (a shard's too)
    let timing_out = || match &timing {
        Some(file) => write_timing(
            file,
            &sc,
            seed,
            threads,
            &outcome,
            simulated,
            report_started,
        ),
        None => Ok(()),
    };
    if let Some((k, shards)) = shard {
        // A shard writes its partial result only; `affsim merge` writes the report.
        let ledger_parts = ledger
            .then(|| experiment::shard::part_sums(staged.path(), &indices))
            .transpose()
            .map_err(|e| fail(format!("cannot read the ledger parts just written: {e}")))?;
        let mut stream = stream.lock().unwrap_or_else(|e| e.into_inner());
        let daily = stream
            .finish()
            .map_err(|e| fail(format!("cannot write the time series: {e:#}")))?;
        let part = staged.path().join(report::TIMESERIES_PART);
        let timeseries = experiment::shard::FileSum::of(&part)
            .map_err(|e| fail(format!("cannot read the time series just written: {e}")))?;
        let totals = stream.take_totals();
        let partial = experiment::shard::Partial::new(
            (&sc.file, source),
            seed,
            n,
            (k, shards),
            &outcome.replications,
            (daily, stream.days(), timeseries),
            totals.into_agg(),
            ledger_parts,
        );
        write_partial(&staged, "partial.json", &partial)?;
        let dest = commit(staged)?;
        timing_out()?;
        if !quiet {
            eprintln!(
                "shard {k}/{shards}: {} of {n} replication(s); partial result: {} (combine with `affsim merge`)",
                outcome.replications.len(),
                dest.display()
            );
        }
        return Ok(());
    }
    let parts = [staged.path().to_path_buf()];
    let doc = report::write_run_streamed(
        staged.path(),
        &sc,
        seed,
        &mut stream.lock().unwrap_or_else(|e| e.into_inner()),
        ledger.then_some(&parts[..]),
    )
    .map_err(|e| fail(format!("cannot write the report: {e:#}")))?;
    if parquet {
        report::write_parquet(staged.path())
            .map_err(|e| fail(format!("cannot write the Parquet files: {e:#}")))?;
    }
    let dest = commit(staged)?;
    timing_out()?;
    if json {
        print_summary(&dest);
    }
    if !quiet {
        let events: u64 = outcome.ran.iter().map(|r| r.events).sum();
        let secs = simulated;
        eprintln!(
            "{}",
            report::summary_line(&sc, outcome.ran.len(), seed, &doc)
        );
        eprintln!(
            "{} events in {secs:.2} s ({} events/s); report: {}",
            report::format::fmt_count(events),
            report::format::fmt_count((events as f64 / secs.max(1e-9)).round() as u64),
            dest.display()
        );
    }
    Ok(())
}

fn cmd_check(args: CheckCmd) -> CmdResult {
    let CheckCmd {
        paths,
        coverage,
        threads,
        json,
    } = args;
    if threads == Some(0) {
        return Err(fail(
            "--threads must be at least 1 (leave it out to use every core)",
        ));
    }
    let (files, manual) = check::collect_with_skipped(&paths).map_err(fail)?;
    if !json {
        for f in &manual {
            outln!(
                "SKIP  {}  (manual = true: name the file to check it)",
                f.display()
            );
        }
    }
    if files.is_empty() {
        return Err(fail(format_args!(
            "no scenario files found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
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
                    for (i, line) in f.message.lines().enumerate() {
                        outln!("{}{line}", if i == 0 { "      - " } else { "        " });
                    }
                }
            }
        }
    }
    let exercised = check::coverage(&verdicts);
    if json {
        let doc = check::CheckDoc::new(&verdicts, coverage.then_some(&exercised[..]));
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else if coverage {
        outln!();
        let mut missing = RuleSet::EMPTY;
        for check::RuleCoverage {
            rule: r,
            scenarios: f,
        } in &exercised
        {
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
        Err(ExitCode::from(1))
    } else {
        Ok(())
    }
}

fn cmd_explain(args: ExplainCmd) -> CmdResult {
    use affsim::explain;
    let ExplainCmd {
        scenario: path,
        order,
        plus,
        target,
        creator,
        product,
        at,
        traffic,
        authorised,
        seed,
        replication,
        json,
    } = args;
    let mut sc = load(&path)?;
    if let Some(s) = seed {
        sc.seed = s;
    }
    let plan_json = |j: Result<String, serde_json::Error>| j.unwrap_or_default();
    let result = if let Some(name) = plus {
        explain::explain_plus(&sc, replication, &name).map(|e| {
            if json {
                plan_json(serde_json::to_string_pretty(&e))
            } else {
                explain::plus_text(&e)
            }
        })
    } else if let Some(name) = target {
        explain::explain_target(&sc, replication, &name).map(|e| {
            if json {
                plan_json(serde_json::to_string_pretty(&e))
            } else {
                explain::target_text(&e)
            }
        })
    } else if let Some(o) = order {
        explain::explain_order(&sc, replication, &explain::OrderSel::parse(&o)).map(|e| {
            if json {
                serde_json::to_string_pretty(&e).unwrap_or_default()
            } else {
                explain::order_text(&e)
            }
        })
    } else if let (Some(c), Some(p), Some(at)) = (creator, product, at) {
        let traffic = affsim::model::Traffic::from(traffic);
        let Some(t) = affsim::time::parse_datetime(&at).and_then(|dt| sc.calendar.time_of(dt))
        else {
            return Err(fail(format_args!(
                "--at `{at}` is not a time on or after the scenario start {} (\"YYYY-MM-DD HH:MM\")",
                sc.calendar.start
            )));
        };
        explain::explain_rate(&sc, replication, &c, &p, t, traffic, authorised).map(|e| {
            if json {
                serde_json::to_string_pretty(&e).unwrap_or_default()
            } else {
                explain::rate_text(&e)
            }
        })
    } else {
        return Err(fail(
            "explain needs --order ID, --plus ID, --target ID, or --creator C --product P --at TIME",
        ));
    };
    let text = result.map_err(fail)?;
    outln!("{}", text.trim_end());
    Ok(())
}

fn cmd_sweep(args: SweepCmd) -> CmdResult {
    use affsim::experiment::sweep;
    let SweepCmd {
        scenario: path,
        set,
        run,
        output:
            OutputArgs {
                out,
                force,
                quiet,
                json,
            },
        shard,
    } = args;
    if json && shard.is_some() {
        return Err(fail(
            "--json prints the sweep's results, which a shard does not have: pass --json to `affsim merge`",
        ));
    }
    let (file, src) = read_source(&path)?;
    // The file must be a valid scenario first (errors point into the file itself).
    let base = scenario::parse(&file, &src).map_err(|errs| invalid(&errs))?;
    let extra = set
        .iter()
        .map(|s| sweep::parse_set(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let arms = sweep::arms(&file, &src, &extra).map_err(fail)?;
    let Plan {
        seed,
        replications: n,
        threads,
    } = Plan::resolve(&run, &base, experiment::memory::Kept::Totals)?;
    // a sweep keeps every arm's replications (without their daily rows) until its report is
    // written
    experiment::memory::check(
        &base,
        u64::from(n).saturating_mul(arms.len() as u64),
        threads.unwrap_or_else(rayon::current_num_threads),
        experiment::memory::Kept::Totals,
    )
    .map_err(fail)?;
    let default = out.is_none();
    let dest = out.unwrap_or_else(|| {
        let mut sc = base.clone();
        sc.name = match shard {
            Some((k, n)) => format!("{}-sweep-shard-{k}-of-{n}", sc.name),
            None => format!("{}-sweep", sc.name),
        };
        report::default_out(&sc, seed)
    });
    let staged = stage(&dest, force, default)?;
    let n_arms = arms.len();
    let bar = progress_bar(
        quiet,
        (n_arms as u64) * u64::from(n),
        "{spinner} sweep: {msg} replications {pos}/{len} [{bar:30}] eta {eta}",
    );
    let interrupt = interrupt_flag();
    let tick = bar.clone();
    let cfg = RunConfig {
        replications: Some(n),
        threads,
        seed: Some(seed),
        options: affsim::sim::RunOptions {
            interrupt: Some(interrupt),
            ..Default::default()
        },
        on_done: Some(Arc::new(move || tick.inc(1))),
        arrivals: Some(Arc::new(std::sync::Mutex::new(report::DropDaily))),
    };
    if let Some((k, shards)) = shard {
        let runs = sweep::run_shard(&arms, &cfg, n, (k, shards)).map_err(|e| {
            bar.abandon();
            run_failed(&e)
        })?;
        bar.finish_and_clear();
        let partial = affsim::experiment::shard::SweepPartial::new(
            (file, src),
            set,
            (seed, n, n_arms as u32),
            (k, shards),
            runs,
        );
        write_partial(&staged, "sweep-partial.json", &partial)?;
        let dest = commit(staged)?;
        if !quiet {
            eprintln!(
                "sweep shard {k}/{shards}: partial result {} (combine with `affsim merge`)",
                dest.display()
            );
        }
        return Ok(());
    }
    let bar2 = bar.clone();
    let outcome = match sweep::run(arms, &cfg, |i| {
        bar2.set_message(format!("arm {}/{n_arms}", i + 1))
    }) {
        Ok(o) => o,
        Err(RunError::Interrupted { .. }) => {
            bar.abandon();
            eprintln!(
                "interrupted: {} replication(s) of {} had finished; no report was written",
                bar.position(),
                (n_arms as u64) * u64::from(n)
            );
            return Err(ExitCode::from(130));
        }
        Err(e) => {
            bar.abandon();
            return Err(fail(e));
        }
    };
    bar.finish_and_clear();
    let doc = sweep::sweep_doc(&base, &outcome);
    report::sweep::write_sweep(staged.path(), &base, &doc)
        .map_err(|e| fail(format!("cannot write the sweep report: {e:#}")))?;
    let dest = commit(staged)?;
    print_sweep(&doc, json, quiet);
    if !quiet {
        eprintln!("report: {}", dest.display());
    }
    Ok(())
}

/// A sweep's answer: the table on stdout (or sweep.json with `--json`, the table then on
/// stderr), its notes on stderr.
fn print_sweep(doc: &affsim::experiment::sweep::SweepDoc, json: bool, quiet: bool) {
    use report::sweep::{heading, notes, table};
    let lines = std::iter::once(heading(doc)).chain(table(doc));
    if json {
        outln!("{}", serde_json::to_string_pretty(doc).unwrap_or_default());
        if !quiet {
            lines.for_each(|l| eprintln!("{l}"));
        }
    } else {
        lines.for_each(|l| outln!("{l}"));
    }
    if !quiet {
        for n in notes(doc) {
            eprintln!("note: {n}");
        }
    }
}
fn cmd_calibrate(args: CalibrateCmd) -> CmdResult {
    use affsim::calibrate::{self as cal, CalError};
    let CalibrateCmd {
        scenario: path,
        observed,
        fit,
        holdout_days,
        fit_days,
        block_days,
        max_evals,
        seed,
        replications,
        threads,
        output:
            OutputArgs {
                out,
                force,
                quiet,
                json,
            },
    } = args;
    let (sc, src) = load_source(&Some(path.clone()))?;
    let obs = cal::observed::read(&observed, &sc).map_err(|errs| {
        for e in &errs {
            eprintln!("error: {e}");
        }
        ExitCode::from(2)
    })?;
    let params = fit
        .iter()
        .map(|s| cal::parse_fit(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let fit_days = match (holdout_days, fit_days) {
        (Some(k), _) if k >= obs.days => {
            return Err(fail(format_args!(
                "--holdout-days {k} leaves no day to fit on ({} observed days)",
                obs.days
            )));
        }
        (Some(k), _) => obs.days - k,
        (None, Some(k)) => k,
        (None, None) => obs.days,
    };
    let seed = seed.unwrap_or(sc.seed);
    let max_evals = max_evals.unwrap_or(25 + 15 * params.len());
    let bar = progress_bar(
        quiet,
        (cal::planned_evaluations(params.len(), max_evals) as u64) * u64::from(replications),
        "{spinner} calibrate: replications {pos}/~{len} [{bar:30}] {elapsed_precise}",
    );
    let tick = bar.clone();
    let settings = cal::Settings {
        seed,
        replications,
        threads,
        block_days,
        fit_days,
        max_evals,
        on_done: Some(Arc::new(move || tick.inc(1))),
        interrupt: Some(interrupt_flag()),
    };
    let file = path.display().to_string();
    let failed = |e: CalError| match e {
        CalError::Run(RunError::Interrupted { .. }) => {
            eprintln!("interrupted; no report was written");
            ExitCode::from(130)
        }
        e => fail(e),
    };
    let pb = cal::Problem::new(&file, &src, params, &obs, settings).map_err(failed)?;
    let start = cal::start_values(&pb.table, &pb.params);
    let default = out.is_none();
    let dest = out.unwrap_or_else(|| {
        let mut named = sc.clone();
        named.name = format!("{}-calibration", sc.name);
        report::default_out(&named, seed)
    });
    let staged = stage(&dest, force, default)?;
    let result = cal::calibrate(&pb, &start);
    bar.finish_and_clear();
    let result = result.map_err(failed)?;
    let doc = cal::calibration_doc(&sc, &obs, &result);
    let fitted = cal::write_back(&src, &result.estimates).map_err(fail)?;
    let stem = path
        .file_stem()
        .map_or("scenario".into(), |s| s.to_string_lossy());
    let fitted_name = format!("{stem}.fitted.toml");
    report::calibration::write_calibration(
        staged.path(),
        &sc,
        &obs,
        &result,
        &doc,
        (&fitted_name, &fitted),
    )
    .map_err(|e| fail(format!("cannot write the calibration report: {e:#}")))?;
    let dest = commit(staged)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if !quiet {
        eprintln!(
            "{} — calibrated to {} ({} days, fit on {}), {replications} replications per candidate, seed {seed}, {} evaluations",
            sc.name,
            observed.display(),
            obs.days,
            fit_days,
            result.evaluations
        );
        for e in &result.estimates {
            eprintln!(
                "  {} = {}  (95% CI {} .. {})",
                e.param.path,
                cal::sig(e.estimate),
                cal::sig(e.ci95.0),
                cal::sig(e.ci95.1)
            );
        }
        for (label, w) in std::iter::once(("fit", &result.fit))
            .chain(result.holdout.iter().map(|h| ("hold-out", h)))
        {
            eprintln!(
                "  {label} ({} days): objective {:.2}, discrepancy {:.1} over {} summaries ({:.2} per summary; about 1 fits)",
                w.days,
                w.objective,
                w.discrepancy,
                w.summaries,
                w.discrepancy / w.summaries.max(1) as f64
            );
        }
        for w in &result.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("report: {}", dest.display());
    }
    Ok(())
}

fn cmd_new(name: &str, force: bool) -> CmdResult {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(fail(
            "a scenario name uses letters, digits, '-' and '_' only",
        ));
    }
    let path = PathBuf::from(format!("{name}.toml"));
    if path.exists() && !force {
        return Err(fail(format_args!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    // the built-in `starter` (scenarios/examples/starter.toml)
    let starter = scenario::builtin::builtin("starter").map_or("", |b| b.source);
    let text = starter.replacen("name = \"starter\"", &format!("name = \"{name}\""), 1);
    if let Err(e) = std::fs::write(&path, text) {
        return Err(fail(format_args!("cannot write {}: {e}", path.display())));
    }
    eprintln!(
        "wrote {} — try `affsim check {0}` and `affsim run {0}`",
        path.display()
    );
    Ok(())
}

fn cmd_merge(args: MergeCmd) -> CmdResult {
    use affsim::experiment::shard;
    let MergeCmd { dirs, output } = args;
    let _interrupt = interrupt_flag();
    if let Some((out, d)) = output
        .out
        .as_deref()
        .and_then(|o| dirs.iter().find(|d| within(d, o)).map(|d| (o, d)))
    {
        return Err(fail(format_args!(
            "--out {} would replace the shard folder {} being merged: choose another --out",
            out.display(),
            d.display()
        )));
    }
    if dirs.iter().all(|d| d.join("sweep-partial.json").exists()) {
        return merge_sweep(dirs, output);
    }
    let OutputArgs {
        out,
        force,
        quiet,
        json,
    } = output;
    let partials: Vec<(String, shard::Partial)> =
        read_partials(&dirs, "partial.json", "a partial result")?;
    // what the ledger parts are checked against, kept before the merge consumes the partials
    let part_checks: Vec<shard::PartCheck> = partials.iter().map(shard::PartCheck::of).collect();
    let shard::Merged {
        scenario: sc,
        seed,
        replications: reps,
        ledger,
        daily,
        totals,
        days,
        shards: (shards, count),
    } = shard::merge(partials).map_err(fail)?;
    // each shard's time-series part, checked against its sum, in shard order
    let mut series = vec![PathBuf::new(); count as usize];
    for ((d, c), k) in dirs.iter().zip(&part_checks).zip(&shards) {
        series[*k as usize - 1] = c.verify_timeseries(d).map_err(fail)?;
        if ledger {
            c.verify(d).map_err(fail)?;
        }
    }
    let default = out.is_none();
    let dest = out.unwrap_or_else(|| report::default_out(&sc, seed));
    let staged = stage(&dest, force, default)?;
    report::write_run_merged(
        staged.path(),
        &sc,
        seed,
        (&reps, totals),
        (daily, &series, &days),
        // shards run with --ledger left their replications' ledger parts in their folders
        ledger.then_some(&dirs[..]),
    )
    .map_err(|e| fail(format!("cannot write the report: {e:#}")))?;
    let dest = commit(staged)?;
    if json {
        print_summary(&dest);
    }
    if !quiet {
        eprintln!(
            "merged {} shard(s), {} replication(s) of {}; report: {}",
            dirs.len(),
            reps.len(),
            sc.name,
            dest.display()
        );
    }
    Ok(())
}

/// Reads `name` from every shard folder as a partial of type `T`, with its file name; a file that
/// cannot be read or parsed is an error naming it (`what` it should have been).
fn read_partials<T: serde::de::DeserializeOwned>(
    dirs: &[PathBuf],
    name: &str,
    what: &str,
) -> Result<Vec<(String, T)>, ExitCode> {
    dirs.iter()
        .map(|d| {
            let file = d.join(name);
            // a partial holds every replication's figures: capped by the memory a run may use
            let cap = experiment::memory::cap().map_err(|e| fail(&e))?;
            let parsed = affsim::input::read_text(&file, cap, "partial results")
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<T>(&t).map_err(|e| e.to_string()));
            parsed
                .map(|p| (file.display().to_string(), p))
                .map_err(|e| fail(format_args!("{}: not {what}: {e}", file.display())))
        })
        .collect()
}

fn merge_sweep(dirs: Vec<PathBuf>, output: OutputArgs) -> CmdResult {
    use affsim::experiment::{shard, sweep};
    let OutputArgs {
        out,
        force,
        quiet,
        json,
    } = output;
    let partials: Vec<(String, shard::SweepPartial)> =
        read_partials(&dirs, "sweep-partial.json", "a sweep partial result")?;
    let (src, file, sets, seed, runs) = shard::merge_sweep(partials).map_err(fail)?;
    let extra: Result<Vec<_>, _> = sets.iter().map(|s| sweep::parse_set(s)).collect();
    let arms = extra
        .map_err(sweep::SweepError::from)
        .and_then(|x| sweep::arms(&file, &src, &x))
        .map_err(fail)?;
    let base = scenario::parse(&file, &src).map_err(|e| fail(&e[0]))?;
    if arms.len() != runs.len() {
        // the arm count is sealed in each partial, but must also be the sweep's own
        return Err(fail(format_args!(
            "{}: the partials hold {} arm(s), but their scenario and --set list give {}",
            dirs[0].join("sweep-partial.json").display(),
            runs.len(),
            arms.len()
        )));
    }
    let outcome = sweep::SweepOutcome {
        seed,
        arms: arms.into_iter().zip(runs).collect(),
    };
    let doc = sweep::sweep_doc(&base, &outcome);
    let default = out.is_none();
    let dest = out.unwrap_or_else(|| {
        let mut sc = base.clone();
        sc.name = format!("{}-sweep", sc.name);
        report::default_out(&sc, seed)
    });
    let staged = stage(&dest, force, default)?;
    report::sweep::write_sweep(staged.path(), &base, &doc)
        .map_err(|e| fail(format!("cannot write the sweep report: {e:#}")))?;
    let dest = commit(staged)?;
    print_sweep(&doc, json, quiet);
    if !quiet {
        eprintln!(
            "merged {} sweep shard(s); report: {}",
            dirs.len(),
            dest.display()
        );
    }
    Ok(())
}

// ---- lift and sensitivity: paired experiments (library: experiment::lift, ::sensitivity) ----

/// The run configuration of a paired experiment of `arms` arms (each keeps its replications
/// until the report is written: the memory estimate counts them all).
fn paired_config(run: &RunArgs, sc: &Scenario, arms: usize) -> Result<(RunConfig, u64), ExitCode> {
    let Plan {
        seed,
        replications,
        threads,
    } = Plan::resolve(run, sc, experiment::memory::Kept::Totals)?;
    experiment::memory::check(
        sc,
        u64::from(replications).saturating_mul(arms.max(1) as u64),
        threads.unwrap_or_else(rayon::current_num_threads),
        experiment::memory::Kept::Totals,
    )
    .map_err(fail)?;
    let cfg = RunConfig {
        replications: Some(replications),
        threads,
        seed: Some(seed),
        options: affsim::sim::RunOptions {
            interrupt: Some(interrupt_flag()),
            ..Default::default()
        },
        on_done: None,
        // the arms' reports use their totals: daily rows are dropped as they arrive
        arrivals: Some(Arc::new(std::sync::Mutex::new(report::DropDaily))),
    };
    Ok((cfg, seed))
}

/// Prints the table (or the JSON) on stdout and writes the report folder when asked.
fn paired_output(
    output: &OutputArgs,
    doc: &impl serde::Serialize,
    (table, notes): (Vec<String>, Vec<String>),
    write: &dyn Fn(&Path) -> anyhow::Result<()>,
) -> CmdResult {
    if output.json {
        outln!("{}", serde_json::to_string_pretty(doc).unwrap_or_default());
    } else {
        for l in table {
            outln!("{l}");
        }
    }
    if !output.quiet {
        for n in notes {
            eprintln!("note: {n}");
        }
    }
    if let Some(dest) = &output.out {
        let staged = stage(dest, output.force, false)?;
        write(staged.path()).map_err(|e| fail(format!("{e:#}")))?;
        let path = commit(staged)?;
        if !output.quiet {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn run_failed(e: &RunError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(if matches!(e, RunError::Interrupted { .. }) {
        130
    } else {
        2
    })
}

fn cmd_lift(args: LiftCmd) -> CmdResult {
    use affsim::experiment::lift;
    let sc = load(&args.scenario)?;
    warn(&sc);
    // the baseline and one arm without each campaign
    let campaigns = if args.campaigns.is_empty() {
        lift::campaign_ids(&sc).len()
    } else {
        args.campaigns.len()
    };
    let (cfg, _) = paired_config(&args.run, &sc, 1 + campaigns)?;
    let quiet = args.output.quiet;
    let note = |m: &str| {
        if !quiet {
            eprintln!("lift: {m}");
        }
    };
    let out = match lift::run_lift(&sc, &args.campaigns, &cfg, &note) {
        Ok(o) => o,
        Err(e @ lift::LiftError::NoCampaign { .. }) => return Err(fail(e)),
        Err(lift::LiftError::Run(e)) => return Err(run_failed(&e)),
    };
    let doc = lift::lift_doc(&out);
    paired_output(&args.output, &doc, lift::table(&doc), &|dir| {
        lift::write_folder(dir, &doc)
    })
}

fn cmd_sensitivity(args: SensitivityCmd) -> CmdResult {
    use affsim::experiment::sensitivity as sens;
    if !(args.step > 0.0 && args.step < 1.0) {
        return Err(fail(format_args!(
            "--step {}: expected a number between 0 and 1 (e.g. 0.1 for ±10%)",
            args.step
        )));
    }
    let sc = load(&args.scenario)?;
    warn(&sc);
    // the baseline and a −step and a +step arm per lever
    let (cfg, seed) = paired_config(&args.run, &sc, 1 + 2 * sens::levers(&sc).len())?;
    if sens::levers(&sc).is_empty() {
        eprintln!("sensitivity: the scenario has no policy lever to move");
    }
    let quiet = args.output.quiet;
    let note = |m: &str| {
        if !quiet {
            eprintln!("sensitivity: {m}");
        }
    };
    let runs = sens::run_sensitivity(&sc, args.step, &cfg, &note).map_err(|e| run_failed(&e))?;
    let doc = sens::sensitivity_doc(&sc, seed, args.step, &runs);
    paired_output(&args.output, &doc, sens::table(&doc), &|dir| {
        sens::write_folder(dir, &doc)
    })
}
