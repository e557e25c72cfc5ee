//! # affsim
//!
//! A discrete-event simulator and rules-testing harness for creator-affiliate commerce on a
//! short-video shopping platform: sellers, creators, buyers and distributors over seeded
//! timelines; Shop plan, Open, Target, Collaboration Plus and distributor campaigns through one
//! rules engine; exact money; deterministic, parallel replications.
//!
//! ## Map
//! - [`money`], [`time`]: exact amounts and rates (`rust_decimal`), rounding (MONEY-1);
//!   integer simulated minutes and the calendar.
//! - [`model`]: sellers, products, creators, distributors — flat vectors indexed by dense ids.
//! - [`rules`]: the rules engine, pure (no randomness, clock or I/O): plan books, attribution
//!   (which rate applies, with provenance), order lines and settlement, the double-entry ledger,
//!   the rule catalogue that every enforcing line names (`// rule: ID`), and the plan-level id
//!   newtypes ([`rules::ids`]) that index its books as the agent ids index the agents.
//! - [`sim`]: the event queue (time, phase, sequence), per-replication ChaCha streams,
//!   population generation and behaviour models; the run loop asks `rules` what is allowed and
//!   what is paid.
//! - [`scenario`]: the TOML format, validation with file:line:column errors, expectations.
//! - [`experiment`]: replications in parallel and their aggregation.
//! - [`check`]: running scenario files against their expectations (`affsim check`).
//! - [`report`]: `summary.json`, `timeseries.csv`, `ledger.csv`, `report.md`, written atomically.
//!
//! See `ARCHITECTURE.md` for the invariants and `docs/` for the scenario format and rules.

pub mod calibrate;
pub mod check;
pub mod experiment;
pub mod explain;
pub(crate) mod hint;
pub mod input;
pub mod metrics;
pub mod model;
pub mod money;
pub mod report;
pub mod rules;
pub mod scenario;
pub mod sim;
pub mod time;
