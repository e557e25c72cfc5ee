//! Why `affsim explain` has nothing to explain: a failed run, or a name or number the scenario's replication does not have.

use rust_decimal::Decimal;

use crate::rules::Refusal;
use crate::sim::RunError;

/// Why an explanation could not be made (exit 2); each says what was asked and what exists.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The replication did not run to the end (a ledger error).
    #[error(transparent)]
    Run(#[from] RunError),
    /// `--order N` beyond the replication's orders.
    #[error("replication {rep} has no order #{n} (it placed {placed} orders)")]
    NoOrder { rep: u32, n: u64, placed: Decimal },
    /// `--order NAME` that names no scripted order.
    #[error("no scripted order `{name}` (scripted orders: {})", list(known))]
    NoScriptedOrder { name: String, known: Vec<String> },
    /// The scripted order was refused by the rules, so it has no line to explain.
    #[error("order `{name}` was refused: {refusal}")]
    Refused { name: String, refusal: Refusal },
    /// `--creator`/`--product` names no agent of the replication.
    #[error(
        "no {kind} `{name}` in replication {rep} (named: {}; generated ones are {kind}#N)",
        known.join(", ")
    )]
    NoAgent {
        kind: &'static str,
        name: String,
        rep: u32,
        known: Vec<String>,
    },
    /// `--plus`/`--target` names no plan of the scenario.
    #[error("no {kind} `{name}` (the scenario's: {})", list(known))]
    NoPlan {
        kind: &'static str,
        name: String,
        known: Vec<String>,
    },
}

/// Names joined with commas, or `none`.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
