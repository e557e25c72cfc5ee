//! The `affsim` command line as typed: clap definitions only (the binary's `mod cli`, not the library).

use std::path::PathBuf;

use affsim::experiment::shard::parse_shard;
use affsim::model::Traffic;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--traffic` of `affsim explain`: the model's traffic sources, as clap lists them.
#[derive(Clone, Copy, ValueEnum)]
pub enum TrafficArg {
    Video,
    Live,
    Showcase,
    Ad,
}

impl From<TrafficArg> for Traffic {
    fn from(t: TrafficArg) -> Traffic {
        match t {
            TrafficArg::Video => Traffic::Video,
            TrafficArg::Live => Traffic::Live,
            TrafficArg::Showcase => Traffic::Showcase,
            TrafficArg::Ad => Traffic::Ad,
        }
    }
}

#[derive(Parser)]
#[command(
    name = "affsim",
    version,
    about = "Simulate and test creator-affiliate commerce rules",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a scenario (the built-in demo when none is given) and write a report folder.
    Run(RunCmd),
    /// Combine the partial results of `affsim run --shard K/N` into the report one run gives.
    Merge(MergeCmd),
    /// Parse and validate a scenario without running it.
    Validate { scenario: PathBuf },
    /// Run scenario files that carry expectations; one line per scenario, then `N passed, M failed`.
    Check(CheckCmd),
    /// Explain an order line (--order) or a creator's rate on a product at a time: which rate
    /// applied, from which plan, by which rules, the candidates that lost, the ledger entries.
    Explain(ExplainCmd),
    /// Run a scenario over named arms (`[[sweep.arms]]`) and/or a grid of settings
    /// (`[[sweep.parameters]]`, --set), every arm with the same random streams per replication;
    /// print the table of paired differences against the baseline (the first arm) on stdout.
    Sweep(SweepCmd),
    /// Fit scenario keys (the behaviour model) to an observed daily history (`date,metric,value`
    /// CSV): estimates with 95% intervals, fit charts, a hold-out check and the scenario with the
    /// fitted values written back (see docs/calibration.md).
    Calibrate(CalibrateCmd),
    /// Each campaign's incremental GMV and cost against the same scenario without it, paired by
    /// common random numbers, with the sales it takes from other plans.
    Lift(LiftCmd),
    /// For each policy lever in the scenario, paired −step/+step arms: the model's implied arc
    /// elasticities of GMV, participation, content, creators' actions and their expected
    /// earnings, beside the configured ones and the model's figure on the earnings creators saw.
    Sensitivity(SensitivityCmd),
    /// List the built-in scenarios (run one by name: `affsim run demo`), or print one to start
    /// from (`--print demo > mine.toml`).
    Scenarios {
        /// Print this built-in scenario's TOML on stdout.
        #[arg(long, value_name = "NAME")]
        print: Option<String>,
    },
    /// Write a commented starter scenario, NAME.toml, that validates.
    New {
        /// The scenario's name (also the file name, with .toml).
        name: String,
        #[arg(long)]
        force: bool,
    },
    /// List the rule catalogue: each rule ID with its group, title and `model` when it is a
    /// modelling choice (docs/rules.md has each rule in full).
    Rules,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions { shell: clap_complete::Shell },
}

// The options shared by `run` and `sweep`: the scenario's seed and replications overridden,
// and the worker threads.
#[derive(Args)]
pub struct RunArgs {
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications (overrides the scenario's).
    #[arg(long)]
    pub replications: Option<u32>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

// The options shared by the commands that write a report folder: `run`, `sweep` and `merge`.
#[derive(Args)]
pub struct OutputArgs {
    /// Report folder (default: reports/<name>-seed<seed>, or reports/<name>-sweep-seed<seed>
    /// for a sweep).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace an existing report folder.
    #[arg(long)]
    pub force: bool,
    /// No progress or summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the report's JSON (summary.json, or sweep.json for a sweep) to stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct RunCmd {
    /// Scenario file (TOML), or a built-in scenario's name (`affsim scenarios`; default: demo).
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Also write ledger.csv with every entry and its provenance.
    #[arg(long)]
    pub ledger: bool,
    /// Also write timeseries.parquet (and ledger.parquet with --ledger) for analysts; needs a
    /// build with `--features parquet` (see docs/analysis.md).
    #[arg(long)]
    pub parquet: bool,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Run only shard K of N — replications i with i mod N = K − 1 — and write a partial
    /// result for `affsim merge` (see docs/scaling.md).
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    /// Write wall-clock throughput (events and events per second, per replication and for
    /// the run) to this JSON file. Not part of the report: timings vary from run to run.
    #[arg(long, value_name = "FILE")]
    pub timing: Option<PathBuf>,
}

#[derive(Args)]
pub struct MergeCmd {
    /// Partial-result folders (each holding partial.json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct CheckCmd {
    /// Files or folders (searched for *.toml).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// List every rule ID with the scenarios that exercised it.
    #[arg(long)]
    pub coverage: bool,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the verdicts as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ExplainCmd {
    /// Scenario file (the built-in demo when none is given).
    pub scenario: Option<PathBuf>,
    /// A scripted order's id, or an order number (`#12`).
    #[arg(long, conflicts_with_all = ["creator", "product", "at", "plus", "target"])]
    pub order: Option<String>,
    /// A Collaboration Plus id: its selection, leaderboard or task progress, rewards and
    /// service fee by achievement.
    #[arg(long, conflicts_with_all = ["creator", "product", "at", "target"])]
    pub plus: Option<String>,
    /// A Target invitation id: its flat fees per creator (held, paid, refunded and why).
    #[arg(long, conflicts_with_all = ["creator", "product", "at"])]
    pub target: Option<String>,
    /// Creator name (or creator#N for a generated one).
    #[arg(long, requires_all = ["product", "at"])]
    pub creator: Option<String>,
    /// Product name (or product#N).
    #[arg(long, requires_all = ["creator", "at"])]
    pub product: Option<String>,
    /// Time, "YYYY-MM-DD HH:MM".
    #[arg(long, requires_all = ["creator", "product"])]
    pub at: Option<String>,
    /// Traffic source for --creator/--product.
    #[arg(long, value_enum, default_value_t = TrafficArg::Video)]
    pub traffic: TrafficArg,
    /// For ad traffic: the video is creator-authorised.
    #[arg(long)]
    pub authorised: bool,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replication index.
    #[arg(long, default_value_t = 0)]
    pub replication: u32,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SweepCmd {
    /// Scenario file, or a built-in scenario's name (`affsim scenarios`).
    pub scenario: PathBuf,
    /// `path.to.key=v1,v2,…` (repeatable; several keys give the cartesian product). Paths go
    /// through arrays of tables by id or index: `plus_campaigns.glow-task.reward`. Values are
    /// TOML (numbers need no quotes, even for money; `[…]` is one list, `{…}` one table) or
    /// bare words (`10%`, `budget`).
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Run only shard K of N of the (arm, replication) space and write a partial result for
    /// `affsim merge`.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
}

#[derive(Args)]
pub struct LiftCmd {
    /// The scenario file (the built-in demo when omitted).
    pub scenario: Option<PathBuf>,
    /// A campaign id as summary.json names it (e.g. `plus:glow-task`); repeatable. Default: every
    /// named campaign.
    #[arg(long = "campaign", value_name = "ID")]
    pub campaigns: Vec<String>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct SensitivityCmd {
    /// The scenario file (the built-in demo when omitted).
    pub scenario: Option<PathBuf>,
    /// Relative step of the paired arms: each lever × (1 − step) and × (1 + step).
    #[arg(long, default_value_t = 0.1)]
    pub step: f64,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct CalibrateCmd {
    pub scenario: PathBuf,
    /// The observed history: CSV with the header `date,metric,value`, metric names as in
    /// timeseries.csv.
    #[arg(long, value_name = "FILE")]
    pub observed: PathBuf,
    /// A key to fit and its range, `path.to.key=LO..HI` (repeatable; paths as for sweep --set).
    #[arg(long = "fit", value_name = "PATH=LO..HI", required = true)]
    pub fit: Vec<String>,
    /// Hold out the last K observed days: fit on the others, report the fit on these.
    #[arg(long, value_name = "K", conflicts_with = "fit_days")]
    pub holdout_days: Option<u32>,
    /// Fit on the first K observed days; the rest are the hold-out.
    #[arg(long, value_name = "K")]
    pub fit_days: Option<u32>,
    /// Days summed into each compared figure (weekly by default).
    #[arg(long, default_value_t = 7)]
    pub block_days: u32,
    /// Objective evaluations the optimiser may use (default 25 + 15 per parameter).
    #[arg(long)]
    pub max_evals: Option<usize>,
    /// Seed (overrides the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replications per candidate, the same streams for every candidate (default 16).
    #[arg(long, default_value_t = 16)]
    pub replications: u32,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub output: OutputArgs,
}
