//! `HeadList`: a short list kept inline up to `N` items, its length stored before the items (so that a per-creator record's first cache line holds it), spilling to the heap beyond.

use std::ops::{Deref, DerefMut};

/// A list of up to `N` (at most 255) `Copy` items inline, on the heap beyond: the per-creator
/// showcase and Open approvals. Unlike `smallvec` (the `union` layout keeps its length word
/// after the inline items), the tag and the length come first, at bytes 0 and 1, and the
/// items follow at their alignment: reading the length touches the record's first line, and
/// so does the first item. Same size as the `SmallVec` it replaces (a tag and a `Vec` beside
/// the inline items, rounded to 8 bytes). Reads as a slice; the order of the items is the
/// order they were pushed in, as with a `Vec`.
#[derive(Clone, Debug)]
pub(crate) struct HeadList<T: Copy, const N: usize>(Repr<T, N>);

#[derive(Clone, Debug)]
#[repr(u8)]
enum Repr<T: Copy, const N: usize> {
    /// Nothing pushed yet (no value to fill the inline array with).
    Empty,
    /// `items[..len]` are the list; the rest are stale copies.
    Inline { len: u8, items: [T; N] },
    /// Spilled (stays on the heap once spilled, as `smallvec` does).
    Heap(Vec<T>),
}

impl<T: Copy, const N: usize> Default for HeadList<T, N> {
    fn default() -> Self {
        HeadList(Repr::Empty)
    }
}

impl<T: Copy, const N: usize> HeadList<T, N> {
    const FITS: () = assert!(N > 0 && N <= u8::MAX as usize);

    /// Appends `x` (moves the list to the heap when the inline items are full).
    pub(crate) fn push(&mut self, x: T) {
        let () = Self::FITS;
        match &mut self.0 {
            Repr::Empty => {
                self.0 = Repr::Inline {
                    len: 1,
                    items: [x; N],
                }
            }
            Repr::Inline { len, items } => {
                let n = usize::from(*len);
                if n < N {
                    items[n] = x;
                    *len += 1;
                } else {
                    let mut v = Vec::with_capacity(2 * N);
                    v.extend_from_slice(&items[..]);
                    v.push(x);
                    self.0 = Repr::Heap(v);
                }
            }
            Repr::Heap(v) => v.push(x),
        }
    }

    /// Keeps the items for which `keep` holds, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        match &mut self.0 {
            Repr::Empty => {}
            Repr::Inline { len, items } => {
                let mut w = 0;
                for r in 0..usize::from(*len) {
                    if keep(&items[r]) {
                        items[w] = items[r];
                        w += 1;
                    }
                }
                // w ≤ len ≤ N ≤ 255
                *len = w as u8;
            }
            Repr::Heap(v) => v.retain(|x| keep(x)),
        }
    }

    /// Removes and returns the item at `i`, shifting those after it down (panics if `i` is
    /// out of range, as `Vec::remove` does).
    pub(crate) fn remove(&mut self, i: usize) -> T {
        match &mut self.0 {
            Repr::Inline { len, items } if i < usize::from(*len) => {
                let x = items[i];
                items.copy_within(i + 1..usize::from(*len), i);
                *len -= 1;
                x
            }
            Repr::Heap(v) => v.remove(i),
            _ => panic!("HeadList::remove: index {i} out of range"),
        }
    }

    /// Whether the items live on the heap.
    #[cfg(test)]
    pub(crate) fn spilled(&self) -> bool {
        matches!(self.0, Repr::Heap(_))
    }
}

impl<T: Copy, const N: usize> Deref for HeadList<T, N> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::Empty => &[],
            Repr::Inline { len, items } => &items[..usize::from(*len)],
            Repr::Heap(v) => v,
        }
    }
}

impl<T: Copy, const N: usize> DerefMut for HeadList<T, N> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Repr::Empty => &mut [],
            Repr::Inline { len, items } => &mut items[..usize::from(*len)],
            Repr::Heap(v) => v,
        }
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a HeadList<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::HeadList;

    /// The same operations on a `HeadList` and a `Vec` give the same items, inline and spilled.
    #[test]
    fn behaves_as_a_vec_inline_and_spilled() {
        let mut l: HeadList<u32, 3> = HeadList::default();
        let mut v: Vec<u32> = Vec::new();
        assert!(l.is_empty());
        for i in 0..3 {
            l.push(i);
            v.push(i);
            assert_eq!(&l[..], &v[..]);
        }
        assert!(!l.spilled());
        assert_eq!(l.remove(1), v.remove(1));
        assert_eq!(&l[..], &v[..]);
        l.push(7);
        v.push(7);
        l.retain(|&x| x != 0);
        v.retain(|&x| x != 0);
        assert_eq!(&l[..], &v[..]);
        assert!(!l.spilled());
        for i in 10..15 {
            l.push(i);
            v.push(i);
        }
        assert!(l.spilled());
        assert_eq!(&l[..], &v[..]);
        l[2] = 40;
        v[2] = 40;
        l.retain(|&x| x % 2 == 0);
        v.retain(|&x| x % 2 == 0);
        assert_eq!(&l[..], &v[..]);
        assert_eq!(l.remove(0), v.remove(0));
        assert_eq!(&l[..], &v[..]);
        assert_eq!(l.iter().find(|&&x| x == 40), Some(&40));
        assert_eq!((&l).into_iter().count(), v.len());
    }

    #[test]
    fn removing_everything_leaves_an_empty_list() {
        let mut l: HeadList<(u32, u32), 4> = HeadList::default();
        l.push((1, 2));
        l.push((3, 4));
        l.retain(|_| false);
        assert!(l.is_empty());
        l.push((5, 6));
        assert_eq!(&l[..], &[(5, 6)]);
        assert_eq!(l.remove(0), (5, 6));
        assert!(l.is_empty());
    }

    /// The tag and the length come first: the inline items start at byte 4 (for items aligned
    /// to 4), and the list is no larger than the `SmallVec` it replaced.
    #[test]
    fn the_items_follow_the_length() {
        let mut l: HeadList<[u32; 4], 5> = HeadList::default();
        l.push([9; 4]);
        l.push([8; 4]);
        let base = (&l as *const HeadList<[u32; 4], 5>).cast::<u8>();
        let items = l.as_ptr().cast::<u8>();
        let offset = items as usize - base as usize;
        assert_eq!(offset, 4);
        assert_eq!(size_of::<HeadList<[u32; 4], 5>>(), 88);
        assert_eq!(size_of::<HeadList<(u32, u32), 4>>(), 40);
    }
}
