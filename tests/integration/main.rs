//! The integration tests of `affsim`, in one test binary (as ripgrep does): one link step, one
//! process, and shared helpers in `util`.
//!
//! - `cli`: end to end through the real binary (`run`, `validate`, `check`, `scenarios`).
//! - `determinism`: reports depend on the seed only, not on threads or on the run.
//! - `regression`: many replications of the built-in demo, reconciled through the library.
//! - `scenarios`: every file under `scenarios/` passes its expectations.
//! - `properties`: proptest properties of commissions, refunds and rate validation.
//! - `invariants`: proptest over generated scenarios: ledger, commission and determinism invariants.
//! - `fuzz`: proptest as a fuzzer of parsing and validation (bytes, UTF-8, token soup, mutated files).
//! - `golden`: an insta snapshot of the demo's summary.json at a fixed seed.
//! - `bad_inputs`: the catalogue of invalid scenarios and the exact errors they must produce.
//! - `allocations`: a counting allocator shows the event loop does not allocate per event.
//! - `calibrate`: `affsim calibrate` recovers known parameters from one history; its intervals cover the truth across 20 histories; bad observed files.
//! - `check_precision`: ledger expectations, refusal messages, Plus ranks, money in failures, `check --json`.
//! - `explain`: what `affsim explain` shows of Target invitations (messages, video authorisation).
//! - `schema`: summary.json and sweep.json from the binary validate against docs/schema/.
//! - `readme`: the demo figures and console examples the README quotes are the binary's.
//! - `sweeps`: named arms, the table on stdout, per-replication rows, `--set` errors.
//! - `answers`: per-campaign results add up, no interval for one replication, `lift`, `sensitivity`.
//! - `report_charts`: the demo's charts: payout stack = total payouts, distinct axis labels, marks.
//! - `parquet`: `affsim run --parquet` with and without the `parquet` feature.
//! - `browser`: the demo's report.html rendered in headless Chromium (`AFFSIM_SKIP_BROWSER=1` skips).
//! - `hardening`: issue 13 — nothing deleted that affsim did not write, signals, merge checks, limits, outputs.
//! - `incentives`: paired-replication tests of the incentive model (issue 15's done-when).
//! - `seller_policies`: `[[seller_policies]]` move rates in the direction their rule says.
//! - `snapshots_cli`: insta snapshots of rendered errors (stderr, exit code) and of the demo's report.md.
//! - `tidy`: docs/rules.md and docs/scenario-format.md's key tables match the code; role comments; rule tags and scenarios.
//! - `typed_reports`: summary, sweep, lift and sensitivity documents read back into their typed structs, byte for byte.
//! - `aggregate`: beyond the exact limit of 1 000 replications, a whole run's memory stays flat, its statistics hold their stated accuracy and shards merged equal one run.
//! - `walk`: `affsim check` walks a folder with symbolic-link loops once (walkdir).

mod util;

mod aggregate;
mod allocations;
mod answers;
mod bad_inputs;
mod browser;
mod calibrate;
mod check_precision;
mod cli;
mod determinism;
mod explain;
mod explain_plans;
mod fuzz;
mod golden;
mod hardening;
mod incentives;
mod invariants;
mod parquet;
mod properties;
mod readme;
mod regression;
mod report_charts;
mod scenarios;
mod schema;
mod seller_policies;
mod snapshots_cli;
mod sweeps;
mod tidy;
mod typed_reports;
mod walk;
