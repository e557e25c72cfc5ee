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
//! - `explain`: what `affsim explain` shows of Target invitations (messages, video authorisation).
//! - `incentives`: paired-replication tests of the incentive model (issue 15's done-when).

mod util;

mod allocations;
mod bad_inputs;
mod cli;
mod determinism;
mod explain;
mod fuzz;
mod golden;
mod incentives;
mod invariants;
mod properties;
mod regression;
mod scenarios;
