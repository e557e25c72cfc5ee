//! One file per plan type's orchestration in the simulator: the behaviour draws around each plan's
//! lifecycle (answers, reviews, registrations, joins) and the `Platform` operations they lead to.
//! The Shop plan has no lifecycle of its own: creators add its products in `creators.rs`.

mod distributor;
pub(super) mod open;
mod plus;
mod target;
