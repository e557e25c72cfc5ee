//! Fuzz target: scenario parsing and validation on arbitrary bytes — never a panic, every error placed inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
#[allow(dead_code)]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(errs) = affsim::scenario::parse("fuzz.toml", &text) {
        common::check_errors("fuzz.toml", &text, &errs);
    }
    let _ = affsim::scenario::expected_rejection(&text);
});
