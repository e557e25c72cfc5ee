//! Fuzz target: mutated scenario files that still validate are run end to end under the ledger invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match affsim::scenario::parse("fuzz.toml", text) {
        Err(errs) => common::check_errors("fuzz.toml", text, &errs),
        Ok(sc) => {
            if let Some(sc) = common::shrink(sc) {
                common::run_and_check(&sc);
            }
        }
    }
});
