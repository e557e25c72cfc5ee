//! Cache hints: `prefetch` asks the CPU to start loading an object's cache lines (no effect on
//! results), shared by the event loop (`sim/kernel.rs`) and the rules engine's order book.

/// Asks the CPU to start loading the cache lines of `r`, every line it overlaps (a hint: no
/// effect on results). One hint every 64 bytes from its start and one at its last byte, a fixed
/// count for the type (the loop unrolls): an object that straddles a line boundary gets both.
/// A type whose alignment keeps it from straddling (aligned to a cache line, or no larger than
/// its alignment, which divides 64) gets no last-byte hint: it would repeat one already given.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    hint_bytes(
        (r as *const T).cast::<i8>(),
        size_of::<T>().max(1),
        !lines_fixed::<T>(),
    );
}

/// Asks the CPU to start loading every cache line of the slice `s` (a hint: no effect on
/// results).
#[inline(always)]
pub(crate) fn prefetch_slice<T>(s: &[T]) {
    let size = size_of_val(s);
    if size > 0 {
        hint_bytes(s.as_ptr().cast::<i8>(), size, true);
    }
}

/// One hint every 64 bytes of `size > 0` bytes from `start`, and one at the last byte when
/// `last` (the bytes may straddle one more line than the 64-byte steps reach).
#[inline(always)]
fn hint_bytes(start: *const i8, size: usize, last: bool) {
    let mut off = 0;
    while off < size {
        hint(start.wrapping_add(off));
        off += 64;
    }
    if last {
        hint(start.wrapping_add(size - 1));
    }
}

/// Whether every value of `T` starts where its cache lines start or lies within one line, so
/// that hints every 64 bytes from its start cover it.
#[inline(always)]
const fn lines_fixed<T>() -> bool {
    let (size, align) = (size_of::<T>(), align_of::<T>());
    align % 64 == 0 || (size <= align && 64 % align == 0)
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

#[cfg(test)]
mod tests {
    use super::lines_fixed;

    #[repr(C, align(32))]
    struct Half([u8; 32]);
    #[repr(C, align(64))]
    struct Two([u8; 128]);

    #[test]
    fn only_types_that_cannot_straddle_skip_the_last_byte() {
        assert!(lines_fixed::<Half>());
        assert!(lines_fixed::<Two>());
        assert!(lines_fixed::<u64>());
        assert!(!lines_fixed::<[u32; 7]>());
        assert!(!lines_fixed::<[u64; 11]>());
    }
}
