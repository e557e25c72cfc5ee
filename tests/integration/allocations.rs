//! The event loop does not allocate per event (ARCHITECTURE invariant 11): a counting global
//! allocator, per thread, compares the allocations of the same scenario over 30 and 60 days.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use affsim::scenario;
use affsim::sim::{RunOptions, run_replication};

/// Counts the allocations (and reallocations) made by the current thread, then defers to the
/// system allocator. Installed for the whole test binary; the overhead is one thread-local add.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Runs the demo for `days` on this thread; returns (allocations, events).
fn run_days(days: u32) -> (u64, u64) {
    let text = scenario::DEMO.replacen("\ndays = 30\n", &format!("\ndays = {days}\n"), 1);
    assert!(
        text.contains(&format!("\ndays = {days}\n")),
        "the demo's days are set"
    );
    let sc = scenario::parse("demo.toml", &text).unwrap_or_else(|e| panic!("{e:?}"));
    let before = allocations();
    let r = run_replication(&sc, 0, &RunOptions::default()).expect("a balanced ledger");
    (allocations() - before, r.events)
}

#[test]
fn the_event_loop_does_not_allocate_per_event() {
    let (a30, e30) = run_days(30);
    let (a60, e60) = run_days(60);
    assert!(
        e60 > e30 + 100_000,
        "60 days run more events: {e30} vs {e60}"
    );
    // The extra 30 days add about 500,000 events; what allocates in them is per day (the daily
    // snapshot), per rare event (plan lifecycle steps) or amortised growth of pools: about 140
    // allocations when this test was written (a rate formatted to a String per candidate
    // product and a String per refused sample request had made it 10,000).
    let (extra_allocs, extra_events) = (a60.saturating_sub(a30), e60 - e30);
    eprintln!("30 days: {a30} allocations, {e30} events; 60 days: {a60}, {e60}");
    assert!(
        extra_allocs * 1000 < extra_events,
        "{extra_allocs} allocations for {extra_events} more events (30 days: {a30} allocations, \
         {e30} events; 60 days: {a60}, {e60}): more than one per 1,000 events"
    );
}
