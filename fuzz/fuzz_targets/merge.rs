//! Fuzz target: `affsim merge`'s reading and checking of partials (run and sweep) on arbitrary text — never a panic; each partial is also merged resealed (so the checks behind the checksum run), alone and beside an untouched copy of itself.
#![no_main]

use affsim::experiment::shard::{self, Partial, SweepPartial};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // the first partial a merge is handed, as `read_partials` parses it
    if let Ok(p) = serde_json::from_str::<Partial>(&text) {
        let file = "fuzz/partial.json".to_string();
        let _ = shard::merge(vec![(file.clone(), p.clone())]);
        let mut sealed = p.clone();
        sealed.seal();
        if let Ok(m) = shard::merge(vec![(file.clone(), sealed.clone())]) {
            // what was accepted holds every replication once, in index order
            assert!(m.replications.iter().enumerate().all(|(i, r)| r.index as usize == i));
        }
        let check = shard::PartCheck::of(&(file.clone(), sealed.clone()));
        let _ = check.verify(std::path::Path::new("/nonexistent-affsim-fuzz"));
        let _ = shard::merge(vec![(file.clone(), sealed.clone()), ("fuzz/b.json".into(), sealed)]);
    }
    if let Ok(p) = serde_json::from_str::<SweepPartial>(&text) {
        let file = "fuzz/sweep-partial.json".to_string();
        let _ = shard::merge_sweep(vec![(file.clone(), p.clone())]);
        let mut sealed = p;
        sealed.seal();
        let _ = shard::merge_sweep(vec![(file, sealed)]);
    }
});
