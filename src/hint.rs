//! Cache hints: `prefetch` asks the CPU to start loading an object's cache lines (no effect on
//! results), shared by the event loop (`sim/kernel.rs`) and the rules engine's order book.

/// Asks the CPU to start loading the cache lines of `r`, every line it overlaps (a hint: no
/// effect on results). One hint every 64 bytes from its start and one at its last byte, a fixed
/// count for the type (the loop unrolls): an object that straddles a line boundary gets both.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    let start = (r as *const T).cast::<i8>();
    let size = size_of::<T>().max(1);
    let mut off = 0;
    while off < size {
        hint(start.wrapping_add(off));
        off += 64;
    }
    hint(start.wrapping_add(size - 1));
}

#[inline(always)]
fn hint(p: *const i8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint that never faults and changes no memory.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(p);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
