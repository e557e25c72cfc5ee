//! The event queue: events pop in (time, phase, sequence) order, so same-time events pop in a
//! fixed order (TIME-1).
//!
//! It is a two-level calendar queue over whole minutes (a "ladder"). Events due in the current
//! block of `BLOCK` minutes sit in fine buckets, one FIFO list per (minute, phase). Events due
//! in a later block, up to `WINDOW` minutes ahead, are appended to that block's coarse bucket
//! with their minute and phase; when the queue reaches the block, the coarse bucket is
//! distributed, in order, into the fine buckets. Events outside the window (far ahead, or earlier
//! than the queue's position) go to an overflow binary heap keyed by (time, phase, sequence). A
//! pop takes the smaller of the fine head and the overflow head; while nothing that sorts before
//! the bucket of the last pop has been pushed since (`guard`), it takes that bucket's next event
//! without looking (`pop_if`'s fast path).
//!
//! Every list keeps push order, which is sequence order, so no sequence number is stored for the
//! buckets, and the pop order is exactly that of one binary heap keyed by
//! (time, phase, sequence) (`tests::matches_a_binary_heap` checks it against one). Why:
//!
//! - A coarse bucket is distributed when its block becomes current; from then on pushes for that
//!   block go straight to the fine buckets. So within a (minute, phase) every distributed event
//!   precedes, in push order as in the list, every event pushed to the fine bucket directly.
//! - The buckets hold only times from `cur` to `cur + WINDOW`, and `cur` never decreases. An
//!   overflow event and a bucket event of the same (time, phase) can exist together only if the
//!   overflow event was pushed first: a far-ahead event at T went to the overflow while T was
//!   beyond the window, and a bucket event at T needs T within the window, which happens later;
//!   an event pushed earlier than `cur` can never meet a bucket event of its time. So on equal
//!   (time, phase) the overflow event pops first.
//!
//! Cost: a push appends to the tail of one of a few hundred coarse buckets (or a fine one), a
//! pop reads the next element of the current fine bucket; the lists being written and read stay
//! in cache however many events are pending, where a binary heap of millions of events misses
//! the cache at every level of every pop and a one-level calendar at every push. Storage is a
//! pool of fixed-size chunks reused through a free list, so once the queue has reached its
//! working size it stops allocating, and its memory follows the events pending, not the events
//! processed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// The phase of an event decides its order among events of the same minute. Lower first.
///
/// | phase | what |
/// |---|---|
/// | `Control` | plan lifecycle: rate changes, plan starts and ends, lock warnings |
/// | `Settlement` | payouts due at 00:00 of a settlement day |
/// | `Logistics` | shipping and delivery of orders and samples |
/// | `Agent` | agents acting: applications, decisions, posts, sample deadlines |
/// | `Order` | order placement |
/// | `AfterSales` | cancellations and returns |
///
/// Within a phase, events pop in the order they were scheduled (FIFO by sequence number).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Phase {
    Control = 0,
    Settlement = 1,
    Logistics = 2,
    Agent = 3,
    Order = 4,
    AfterSales = 5,
}

const PHASES: usize = 6;

/// Minutes per block (one fine bucket per minute and phase of the current block).
pub(crate) const BLOCK: u32 = 64;
const BLOCK_BITS: u32 = 6;
/// Blocks in the coarse ring.
const BLOCKS: u32 = 1024;
/// Minutes covered by the buckets (64 × 1024 minutes ≈ 45.5 days); the tests schedule around it.
#[cfg(test)]
const WINDOW: u32 = BLOCK * BLOCKS;
/// Items per storage chunk.
const CHUNK: u32 = 32;

struct Item<E> {
    /// time << 8 | phase: one comparison for both.
    key: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Item<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key && self.seq == o.seq
    }
}
impl<E> Eq for Item<E> {}
impl<E> PartialOrd for Item<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Item<E> {
    fn cmp(&self, o: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest pops first.
        o.key.cmp(&self.key).then_with(|| o.seq.cmp(&self.seq))
    }
}

#[inline]
fn key(t: u32, phase: usize) -> u64 {
    (u64::from(t) << 8) | phase as u64
}

/// A FIFO list of items in a [`Pool`]'s chunks.
#[derive(Copy, Clone, Debug, Default)]
pub(super) struct List {
    /// First chunk + 1 (0: the list is empty).
    head: u32,
    tail: u32,
    /// Next item to read in the head chunk.
    read: u32,
    /// Next item to write in the tail chunk.
    write: u32,
}

/// Chunks of `CHUNK` items, reused through a free list.
pub(super) struct Pool<T: Copy> {
    /// Chunk `k` is `items[k * CHUNK .. (k + 1) * CHUNK]`.
    items: Vec<T>,
    /// The next chunk of chunk `k`'s list + 1 (0: none).
    next: Vec<u32>,
    free: Vec<u32>,
}

impl<T: Copy> Pool<T> {
    pub(super) fn new() -> Pool<T> {
        Pool {
            items: Vec::new(),
            next: Vec::new(),
            free: Vec::new(),
        }
    }

    fn alloc(&mut self, fill: T) -> u32 {
        match self.free.pop() {
            Some(k) => {
                self.next[k as usize] = 0;
                k
            }
            None => {
                let k = self.next.len() as u32;
                self.items.extend(std::iter::repeat_n(fill, CHUNK as usize));
                self.next.push(0);
                k
            }
        }
    }

    /// Appends `x`; returns whether the list was empty.
    #[inline]
    pub(super) fn append(&mut self, l: &mut List, x: T) -> bool {
        let was_empty = l.head == 0;
        if was_empty {
            let k = self.alloc(x);
            *l = List {
                head: k + 1,
                tail: k,
                read: 0,
                write: 0,
            };
        } else if l.write == CHUNK {
            let k = self.alloc(x);
            self.next[l.tail as usize] = k + 1;
            l.tail = k;
            l.write = 0;
        }
        self.items[(l.tail * CHUNK + l.write) as usize] = x;
        l.write += 1;
        was_empty
    }

    /// Moves every item of a list, in order, to the end of `out`, a chunk at a time; the list's
    /// chunks go back to the free list (in the order `pop_front` would free them) and the list
    /// is reset.
    pub(super) fn drain_into(&mut self, l: &mut List, out: &mut Vec<T>) {
        let (mut head, mut read) = (l.head, l.read);
        while head != 0 {
            let c = head - 1;
            let last = c == l.tail;
            let end = if last { l.write } else { CHUNK };
            let base = (c * CHUNK) as usize;
            out.extend_from_slice(&self.items[base + read as usize..base + end as usize]);
            self.free.push(c);
            if last {
                break;
            }
            head = self.next[c as usize];
            read = 0;
        }
        *l = List::default();
    }

    /// Hints every cache line of the chunk after a non-empty list's head chunk, if any.
    #[inline]
    fn prefetch_next_chunk(&self, l: &List) {
        let head = (l.head - 1) as usize;
        if head as u32 == l.tail {
            return;
        }
        if let Some(&n) = self.next.get(head)
            && let Some(chunk) = n.checked_sub(1).and_then(|k| {
                self.items
                    .get((k * CHUNK) as usize..((k + 1) * CHUNK) as usize)
            })
        {
            crate::hint::prefetch_slice(chunk);
        }
    }

    /// Takes the first item of a non-empty list; the list is reset when it empties.
    #[inline(always)]
    pub(super) fn pop_front(&mut self, l: &mut List) -> T {
        let head = l.head - 1;
        let x = self.items[(head * CHUNK + l.read) as usize];
        l.read += 1;
        if head == l.tail && l.read == l.write {
            self.free.push(head);
            *l = List::default();
        } else if l.read == CHUNK {
            self.free.push(head);
            l.head = self.next[head as usize];
            l.read = 0;
        }
        x
    }
}

/// The events that follow the last one popped in its bucket: the rest of its chunk, then the
/// next chunk ([`EventQueue::lookahead`]).
#[derive(Copy, Clone)]
pub struct Ahead<'a, E> {
    rest: &'a [E],
    next: &'a [E],
}

impl<E: Copy> Ahead<'_, E> {
    /// The `d`-th of them (1: the next), if there is one.
    #[inline]
    pub fn get(&self, d: u32) -> Option<E> {
        let i = (d as usize).checked_sub(1)?;
        match self.rest.get(i) {
            Some(&e) => Some(e),
            None => self.next.get(i - self.rest.len()).copied(),
        }
    }
}

/// A priority queue of events, popped in (time, phase, push order) order. Pushing and popping
/// do not allocate once the queue has grown to its working size.
pub struct EventQueue<E: Copy> {
    /// Every bucket event is due in `[cur, cur + WINDOW)`; fine events in `cur`'s block, coarse
    /// events in later blocks. Never decreases.
    cur: u32,
    /// Per (minute of the current block, phase).
    fine: Vec<List>,
    /// One bit per minute of the current block that holds fine events.
    fine_occupied: u64,
    /// Per minute of the current block, one bit per phase whose fine bucket holds events (the
    /// first phase with events is a `trailing_zeros`, not a search of six lists).
    fine_phases: [u8; BLOCK as usize],
    fine_len: usize,
    fine_pool: Pool<E>,
    /// Per block (block number mod `BLOCKS`): its events with their minute in the block and phase.
    coarse: Vec<List>,
    /// One bit per coarse bucket that holds events.
    coarse_occupied: Vec<u64>,
    coarse_len: usize,
    coarse_pool: Pool<(u8, u8, E)>,
    /// Events outside the window, by (time, phase, sequence).
    overflow: BinaryHeap<Item<E>>,
    seq: u64,
    /// The fine bucket of the last pop (for [`EventQueue::ahead`]); after a pop that looked
    /// for the head, the first fine bucket with events, if any.
    last: usize,
    /// `key(cur, phase of last)`.
    last_key: u64,
    /// No event with a key below this was pushed since the last full look at the head: the
    /// overflow's first key then, lowered by every later push to the overflow or to a fine bucket
    /// that sorts before `last` (`u64::MAX`: none). While `fine[last]` holds events and
    /// `guard > last_key`, `fine[last]`'s head is the queue's head (the fast path of `pop_if`).
    guard: u64,
}

impl<E: Copy> EventQueue<E> {
    /// A queue expecting about `n` pending events.
    pub fn with_capacity(n: usize) -> EventQueue<E> {
        let mut coarse_pool = Pool::new();
        coarse_pool
            .items
            .reserve(n.next_multiple_of(CHUNK as usize));
        EventQueue {
            cur: 0,
            fine: vec![List::default(); BLOCK as usize * PHASES],
            fine_occupied: 0,
            fine_phases: [0; BLOCK as usize],
            fine_len: 0,
            fine_pool: Pool::new(),
            coarse: vec![List::default(); BLOCKS as usize],
            coarse_occupied: vec![0u64; (BLOCKS / 64) as usize],
            coarse_len: 0,
            coarse_pool,
            overflow: BinaryHeap::new(),
            seq: 0,
            last: 0,
            last_key: 0,
            guard: 0,
        }
    }

    #[inline]
    fn push_fine(&mut self, minute: u32, phase: usize, event: E) {
        let li = minute as usize * PHASES + phase;
        if li < self.last {
            // Before the fast path's bucket (the same minute, an earlier phase): look again.
            self.guard = 0;
        }
        self.fine_pool.append(&mut self.fine[li], event);
        self.fine_occupied |= 1 << minute;
        self.fine_phases[minute as usize] |= 1 << phase;
        self.fine_len += 1;
    }

    #[inline]
    pub fn push(&mut self, at: SimTime, phase: Phase, event: E) {
        self.seq += 1;
        let t = at.0;
        let blocks_ahead = (t >> BLOCK_BITS).wrapping_sub(self.cur >> BLOCK_BITS);
        if t < self.cur || blocks_ahead >= BLOCKS {
            self.push_overflow(key(t, phase as usize), event);
        } else if blocks_ahead == 0 {
            self.push_fine(t & (BLOCK - 1), phase as usize, event);
        } else {
            let b = ((t >> BLOCK_BITS) & (BLOCKS - 1)) as usize;
            let item = ((t & (BLOCK - 1)) as u8, phase as u8, event);
            if self.coarse_pool.append(&mut self.coarse[b], item) {
                self.coarse_occupied[b >> 6] |= 1 << (b & 63);
            }
            self.coarse_len += 1;
        }
    }

    /// An event outside the window (rare: far ahead, or earlier than `cur`).
    #[cold]
    #[inline(never)]
    fn push_overflow(&mut self, k: u64, event: E) {
        self.guard = self.guard.min(k);
        self.overflow.push(Item {
            key: k,
            seq: self.seq,
            event,
        });
    }

    /// The first (time, phase) in the buckets, moving `cur` up to its time (and distributing the
    /// next coarse bucket when the current block is done).
    fn bucket_head(&mut self) -> Option<(u32, usize)> {
        loop {
            if self.fine_len > 0 {
                // Fine events are due at `cur` or later in its block.
                let from = self.cur & (BLOCK - 1);
                let minute = (self.fine_occupied & (!0u64 << from)).trailing_zeros();
                self.cur = (self.cur & !(BLOCK - 1)) | minute;
                let phases = *self.fine_phases.get(minute as usize)?;
                if phases == 0 {
                    return None;
                }
                return Some((self.cur, phases.trailing_zeros() as usize));
            }
            if self.coarse_len == 0 {
                return None;
            }
            // The next block with events, going round the ring (the current block's coarse
            // bucket is empty: it was distributed when the block became current).
            let now = (self.cur >> BLOCK_BITS) & (BLOCKS - 1);
            let b = self.next_coarse(now as usize);
            let ahead = (b as u32).wrapping_sub(now) & (BLOCKS - 1);
            self.cur = ((self.cur >> BLOCK_BITS) + ahead) << BLOCK_BITS;
            self.distribute(b);
        }
    }

    /// Moves a coarse bucket's events, in order, into the fine buckets of the current block, a
    /// chunk at a time; the chunks go back to the free list. The bucket's chunks were written
    /// long ago and lie anywhere in the pool: entering a chunk hints the one after it (a hint
    /// only). Called only while looking for the head (`look` resets `guard` after).
    fn distribute(&mut self, b: usize) {
        let list = std::mem::take(&mut self.coarse[b]);
        self.coarse_occupied[b >> 6] &= !(1 << (b & 63));
        let Self {
            fine,
            fine_occupied,
            fine_phases,
            fine_pool,
            coarse_pool,
            ..
        } = self;
        let (mut head, mut read) = (list.head, list.read);
        let (mut moved, mut taken) = (0usize, 0usize);
        while head != 0 {
            let c = head - 1;
            let last = c == list.tail;
            if !last {
                coarse_pool.prefetch_next_chunk(&List {
                    head,
                    tail: list.tail,
                    read: 0,
                    write: 0,
                });
            }
            let end = if last { list.write } else { CHUNK };
            let base = (c * CHUNK) as usize;
            if let Some(chunk) = coarse_pool
                .items
                .get(base + read as usize..base + end as usize)
            {
                taken += chunk.len();
                for &(minute, phase, event) in chunk {
                    let li = usize::from(minute) * PHASES + usize::from(phase);
                    if let Some(l) = fine.get_mut(li) {
                        fine_pool.append(l, event);
                        *fine_occupied |= 1 << minute;
                        fine_phases[usize::from(minute)] |= 1 << phase;
                        moved += 1;
                    }
                }
            }
            coarse_pool.free.push(c);
            if last {
                break;
            }
            head = coarse_pool.next.get(c as usize).copied().unwrap_or(0);
            read = 0;
        }
        self.coarse_len -= taken;
        self.fine_len += moved;
    }

    /// The first occupied coarse bucket after `b`, circularly (there is one).
    fn next_coarse(&self, b: usize) -> usize {
        let words = self.coarse_occupied.len();
        let (w, bit) = (b >> 6, b & 63);
        let rest = if bit == 63 {
            0
        } else {
            self.coarse_occupied[w] & (!0u64 << (bit + 1))
        };
        if rest != 0 {
            return (w << 6) + rest.trailing_zeros() as usize;
        }
        for i in 1..=words {
            let wi = (w + i) % words;
            let word = self.coarse_occupied[wi];
            if word != 0 {
                return (wi << 6) + word.trailing_zeros() as usize;
            }
        }
        unreachable!("next_coarse with no coarse events")
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_if(|_| true)
    }

    /// Pops the next event if `due` accepts its time; otherwise leaves it (and returns `None`).
    /// One look for the head where `peek_time` then `pop` take two.
    ///
    /// Fast path: while the bucket of the last pop still holds events and nothing that sorts
    /// before it was pushed since the head was last looked for (`guard`), its next event is the
    /// head — no search of the buckets, no look at the overflow.
    #[inline]
    pub fn pop_if(&mut self, due: impl FnOnce(SimTime) -> bool) -> Option<(SimTime, E)> {
        let li = self.last;
        if self.guard > self.last_key && self.fine[li].head != 0 {
            let t = self.cur;
            if !due(SimTime(t)) {
                return None;
            }
            return Some((SimTime(t), self.pop_fine(li)));
        }
        self.pop_slow(due)
    }

    /// Looks for the head: the first fine bucket (which becomes `last`) and the overflow's
    /// first event; resets `guard`.
    fn look(&mut self) -> (Option<(u32, usize)>, Option<u64>) {
        let head = self.bucket_head();
        let over = self.overflow.peek().map(|o| o.key);
        match head {
            Some((t, p)) => {
                self.last = (t & (BLOCK - 1)) as usize * PHASES + p;
                self.last_key = key(t, p);
                self.guard = over.unwrap_or(u64::MAX);
            }
            // No fine events: `last` may be stale (the next pop looks again).
            None => self.guard = 0,
        }
        (head, over)
    }

    /// `pop_if` after a full look at the head.
    #[inline(never)]
    fn pop_slow(&mut self, due: impl FnOnce(SimTime) -> bool) -> Option<(SimTime, E)> {
        let (head, over) = self.look();
        let from_overflow = match (head, over) {
            (None, None) => return None,
            (None, Some(o)) => {
                if !due(SimTime((o >> 8) as u32)) {
                    return None;
                }
                true
            }
            (Some((t, _)), None) => {
                if !due(SimTime(t)) {
                    return None;
                }
                false
            }
            // On equal (time, phase) the overflow event was pushed first (see the module doc).
            (Some((t, p)), Some(o)) => {
                let over = o <= key(t, p);
                let at = if over { (o >> 8) as u32 } else { t };
                if !due(SimTime(at)) {
                    return None;
                }
                over
            }
        };
        if from_overflow {
            let i = self.overflow.pop()?;
            let t = (i.key >> 8) as u32;
            if self.fine_len + self.coarse_len == 0 && t > self.cur {
                self.cur = t;
            }
            // The overflow's next event may come before the fine head: look again next time.
            self.guard = 0;
            return Some((SimTime(t), i.event));
        }
        let (t, _) = head?;
        Some((SimTime(t), self.pop_fine(self.last)))
    }

    /// Takes the next event of fine bucket `li` (non-empty, the head's).
    #[inline(always)]
    fn pop_fine(&mut self, li: usize) -> E {
        let event = self.fine_pool.pop_front(&mut self.fine[li]);
        self.fine_len -= 1;
        if self.fine[li].read == 1 {
            // The first pop from a chunk: its successor is the next one written long ago.
            self.fine_pool.prefetch_next_chunk(&self.fine[li]);
        }
        if self.fine[li].head == 0 {
            let minute = li / PHASES;
            let phases = &mut self.fine_phases[minute];
            *phases &= !(1 << (li % PHASES));
            if *phases == 0 {
                self.fine_occupied &= !(1 << minute);
            }
        }
        event
    }

    /// The events after the last one popped in its bucket, as far as the next chunk — a hint
    /// for prefetching what they will touch; not necessarily the events that pop next (an
    /// overflow or newly pushed event may come first). One look at the bucket for all the
    /// distances the loop asks for.
    #[inline]
    pub fn lookahead(&self) -> Ahead<'_, E> {
        let l = self.fine[self.last];
        if l.head == 0 {
            return Ahead {
                rest: &[],
                next: &[],
            };
        }
        let items = &self.fine_pool.items;
        let chunk = (l.head - 1) as usize;
        let base = chunk * CHUNK as usize;
        if chunk as u32 == l.tail {
            return Ahead {
                rest: items
                    .get(base + l.read as usize..base + l.write as usize)
                    .unwrap_or(&[]),
                next: &[],
            };
        }
        let rest = items
            .get(base + l.read as usize..base + CHUNK as usize)
            .unwrap_or(&[]);
        let next = match self
            .fine_pool
            .next
            .get(chunk)
            .and_then(|n| n.checked_sub(1))
        {
            Some(n) => {
                let end = if n == l.tail { l.write } else { CHUNK };
                let nb = (n * CHUNK) as usize;
                items.get(nb..nb + end as usize).unwrap_or(&[])
            }
            None => &[],
        };
        Ahead { rest, next }
    }

    /// The `d`-th event after the last one popped in its bucket (1 ≤ `d` ≤ `CHUNK`), if there is
    /// one (see [`EventQueue::lookahead`]).
    #[cfg(test)]
    pub fn ahead(&self, d: u32) -> Option<E> {
        self.lookahead().get(d)
    }

    /// The time of the next event (the differential test's; the loop uses `pop_if`).
    #[cfg(test)]
    pub(crate) fn peek_time(&mut self) -> Option<SimTime> {
        let (head, over) = self.look();
        let head = head.map(|(t, _)| t);
        let over = over.map(|k| (k >> 8) as u32);
        match (head, over) {
            (Some(a), Some(b)) => Some(SimTime(a.min(b))),
            (a, b) => a.or(b).map(SimTime),
        }
    }
    pub fn len(&self) -> usize {
        self.fine_len + self.coarse_len + self.overflow.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn pops_by_time_then_phase_then_fifo() {
        let mut q = EventQueue::with_capacity(8);
        q.push(SimTime(10), Phase::Order, "order-a");
        q.push(SimTime(10), Phase::Control, "rate-change");
        q.push(SimTime(5), Phase::AfterSales, "early");
        q.push(SimTime(10), Phase::Order, "order-b");
        q.push(SimTime(10), Phase::Settlement, "payout");
        let order: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        assert_eq!(
            order,
            vec![
                (5, "early"),
                (10, "rate-change"),
                (10, "payout"),
                (10, "order-a"),
                (10, "order-b")
            ]
        );
    }

    /// The reference: one binary heap keyed by (time, phase, sequence).
    struct Reference {
        heap: BinaryHeap<Item<u32>>,
        seq: u64,
    }
    impl Reference {
        fn push(&mut self, t: u32, p: Phase, e: u32) {
            self.seq += 1;
            self.heap.push(Item {
                key: key(t, p as usize),
                seq: self.seq,
                event: e,
            });
        }
        fn pop(&mut self) -> Option<(u32, u32)> {
            self.heap.pop().map(|i| ((i.key >> 8) as u32, i.event))
        }
    }

    const ALL: [Phase; 6] = [
        Phase::Control,
        Phase::Settlement,
        Phase::Logistics,
        Phase::Agent,
        Phase::Order,
        Phase::AfterSales,
    ];

    /// Random pushes — same minute at earlier and later phases, near, far beyond the window, in
    /// the past, at the very end of time — interleaved with pops, against the reference heap.
    /// Draining a list gives its items in order, after some were popped, across chunks; its
    /// chunks are free again and reused.
    #[test]
    fn a_drained_list_gives_its_items_in_order() {
        let mut pool = Pool::new();
        let mut l = List::default();
        for n in [1u32, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            for x in 0..n {
                pool.append(&mut l, x);
            }
            let popped = (n / 2).min(CHUNK + 2);
            for x in 0..popped {
                assert_eq!(pool.pop_front(&mut l), x);
            }
            let mut out = vec![99];
            pool.drain_into(&mut l, &mut out);
            let want: Vec<u32> = std::iter::once(99).chain(popped..n).collect();
            assert_eq!(out, want, "{n}");
            assert_eq!(l.head, 0);
            assert_eq!(pool.free.len(), pool.next.len(), "every chunk free again");
        }
    }

    #[test]
    fn matches_a_binary_heap() {
        for seed in 0..40u64 {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let mut q = EventQueue::with_capacity(16);
            let mut r = Reference {
                heap: BinaryHeap::new(),
                seq: 0,
            };
            let mut now = 0u32;
            let mut id = 0u32;
            let mut push = |q: &mut EventQueue<u32>,
                            r: &mut Reference,
                            now: u32,
                            rng: &mut rand_chacha::ChaCha8Rng| {
                let p = ALL[(rng.next_u32() % 6) as usize];
                let t = match rng.next_u32() % 10 {
                    0 => now,
                    1..=4 => now.saturating_add(rng.next_u32() % 100),
                    5 | 6 => now.saturating_add(rng.next_u32() % (3 * WINDOW)),
                    7 => now.saturating_sub(rng.next_u32() % 500),
                    8 => now.saturating_add(WINDOW - 1 + rng.next_u32() % 3),
                    _ if seed % 7 == 0 => u32::MAX - rng.next_u32() % 3,
                    _ => now.saturating_add(rng.next_u32() % 20_000),
                };
                id += 1;
                q.push(SimTime(t), p, id);
                r.push(t, p, id);
            };
            for _ in 0..(200 + seed * 50) {
                push(&mut q, &mut r, now, &mut rng);
            }
            for _ in 0..20_000 {
                let roll = rng.next_u32() % 100;
                if roll < 48 {
                    push(&mut q, &mut r, now, &mut rng);
                } else if roll < 58 {
                    // `pop_if` with a limit before, at or after the next event's time.
                    let next = r.heap.peek().map(|i| (i.key >> 8) as u32);
                    let limit = next.map_or(now, |n| {
                        n.saturating_add(rng.next_u32() % 3).saturating_sub(1)
                    });
                    let want = match next {
                        Some(n) if n <= limit => r.pop(),
                        _ => None,
                    };
                    let got = q.pop_if(|t| t.0 <= limit).map(|(t, e)| (t.0, e));
                    assert_eq!(got, want, "seed {seed}, limit {limit}");
                    if let Some((t, _)) = got {
                        now = t;
                    }
                } else {
                    let want = r.pop();
                    assert_eq!(q.peek_time().map(|t| t.0), want.map(|w| w.0));
                    let got = q.pop().map(|(t, e)| (t.0, e));
                    assert_eq!(got, want, "seed {seed}");
                    if let Some((t, _)) = got {
                        now = t;
                    }
                }
                assert_eq!(q.len(), r.heap.len());
            }
            while let Some(want) = r.pop() {
                assert_eq!(q.pop().map(|(t, e)| (t.0, e)), Some(want));
            }
            assert!(q.pop().is_none() && q.is_empty());
        }
    }

    proptest::proptest! {
        /// Any sequence of pushes and limited pops gives the reference heap's pops. The pushes
        /// aim at what the fast path of `pop_if` must notice: the current minute at an earlier,
        /// the same or a later phase, the past (overflow), the next minutes and blocks, beyond
        /// the window; the pops' limits fall before, at and after the head.
        #[test]
        fn pop_order_matches_the_reference(
            ops in proptest::collection::vec((0u8..10, 0u32..100_000, 0usize..6), 1..400),
        ) {
            let mut q = EventQueue::with_capacity(4);
            let mut r = Reference { heap: BinaryHeap::new(), seq: 0 };
            let mut now = 0u32;
            for (id, &(op, x, p)) in ops.iter().enumerate() {
                let id = id as u32;
                let t = match op {
                    0 | 1 => Some(now),
                    2 => Some(now + x % 3),
                    3 => Some(now.saturating_sub(x % 100)),
                    4 => Some(now + x % (2 * BLOCK)),
                    5 => Some(now + WINDOW - 2 + x % 4),
                    6 => Some(now + x),
                    7 => None,
                    _ => {
                        let limit = now + x % 3;
                        let want = match r.heap.peek() {
                            Some(i) if (i.key >> 8) as u32 <= limit => r.pop(),
                            _ => None,
                        };
                        let got = q.pop_if(|t| t.0 <= limit).map(|(t, e)| (t.0, e));
                        proptest::prop_assert_eq!(got, want);
                        if let Some((t, _)) = got {
                            now = t;
                        }
                        continue;
                    }
                };
                match t {
                    Some(t) => {
                        q.push(SimTime(t), ALL[p], id);
                        r.push(t, ALL[p], id);
                    }
                    None => {
                        let want = r.pop();
                        let got = q.pop().map(|(t, e)| (t.0, e));
                        proptest::prop_assert_eq!(got, want);
                        if let Some((t, _)) = got {
                            now = t;
                        }
                    }
                }
                proptest::prop_assert_eq!(q.len(), r.heap.len());
            }
            while let Some(want) = r.pop() {
                proptest::prop_assert_eq!(q.pop().map(|(t, e)| (t.0, e)), Some(want));
            }
            proptest::prop_assert!(q.pop().is_none());
        }
    }

    /// `ahead` shows the events that will pop next from the same bucket, across chunks.
    #[test]
    fn ahead_looks_into_the_current_bucket() {
        let mut q = EventQueue::with_capacity(0);
        for i in 0..100u32 {
            q.push(SimTime(7), Phase::Order, i);
        }
        q.push(SimTime(8), Phase::Order, 1000);
        for i in 0..100u32 {
            assert_eq!(q.pop().map(|(_, e)| e), Some(i));
            for d in 1..=CHUNK {
                let want = (i + d < 100).then_some(i + d);
                assert_eq!(q.ahead(d), want, "after {i}, {d} ahead");
            }
        }
    }

    /// Chunks are reused: a steady stream of events does not grow the storage with the number of
    /// events processed, only with the number pending.
    #[test]
    fn storage_follows_pending_events() {
        let mut q = EventQueue::with_capacity(0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for i in 0..1000u32 {
            q.push(SimTime(rng.next_u32() % 5000), Phase::Order, i);
        }
        let storage = |q: &EventQueue<u32>| q.fine_pool.items.len() + q.coarse_pool.items.len();
        let mut early = 0;
        for i in 0..1_000_000u32 {
            let (t, _) = q.pop().unwrap();
            q.push(SimTime(t.0 + 1 + rng.next_u32() % 5000), Phase::Order, i);
            if i == 100_000 {
                early = storage(&q);
            }
        }
        assert_eq!(q.len(), 1000);
        assert!(
            storage(&q) <= early + early / 10,
            "storage kept growing: {early} then {}",
            storage(&q)
        );
    }
}
