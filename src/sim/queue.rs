//! The event queue: events pop in (time, phase, sequence) order, so same-time events pop in a
//! fixed order (TIME-1).
//!
//! It is a calendar queue over whole minutes. Events due within [`WINDOW`] minutes of the
//! queue's position sit in a ring of per-minute buckets, one FIFO list per (minute, phase), in
//! the order they were pushed — which is their sequence order, so no sequence number needs to be
//! stored or compared. Events outside the window (far ahead, or earlier than the queue's
//! position) go to an overflow binary heap keyed by (time, phase, sequence). A pop takes the
//! smaller of the two heads; the pop order is exactly that of one binary heap keyed by
//! (time, phase, sequence) (`tests::matches_a_binary_heap` checks it against one).
//!
//! Why it is exact: the ring holds only times in `[cur, cur + WINDOW)` and `cur` never
//! decreases. An overflow event and a ring event with the same (time, phase) can exist together
//! only if the overflow event was pushed first: a far-ahead event at time T went to the overflow
//! while `cur + WINDOW <= T`, and a ring event at T needs `T < cur + WINDOW`, which happens later;
//! an event pushed earlier than `cur` can never meet a ring event of its time (the ring has moved
//! past it). So on equal (time, phase) the overflow event pops first.
//!
//! Cost: a push appends to a bucket list, a pop reads the next element of the current bucket;
//! both touch a few cache lines however many events are pending (a binary heap of millions of
//! events misses the cache at every level of every pop). Event storage is a pool of fixed-size
//! chunks reused through a free list, so once the queue has reached its working size it stops
//! allocating, and its memory follows the events pending, not the events processed.

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

/// Minutes covered by the ring of buckets (2^16 minutes ≈ 45.5 days).
pub const WINDOW: u32 = 1 << 16;
const MASK: u32 = WINDOW - 1;
/// Events per storage chunk.
const CHUNK: u32 = 32;

// Fields of a bucket list: [head chunk + 1 (0: empty), tail chunk, read position in the head
// chunk, write position in the tail chunk].
const HEAD: usize = 0;
const TAIL: usize = 1;
const READ: usize = 2;
const WRITE: usize = 3;

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

/// A priority queue of events, popped in (time, phase, push order) order. Pushing and popping
/// do not allocate once the queue has grown to its working size.
pub struct EventQueue<E: Copy> {
    /// Per (slot, phase), slot = time mod WINDOW: the bucket list (see `HEAD` … `WRITE`).
    lists: Vec<[u32; 4]>,
    /// One bit per slot: some phase of the slot holds events.
    occupied: Vec<u64>,
    /// Every event in the ring is due in `[cur, cur + WINDOW)`. Never decreases.
    cur: u32,
    ring_len: usize,
    /// Chunk `k` is `items[k * CHUNK .. (k + 1) * CHUNK]`; `next[k]` is the next chunk of its
    /// list + 1 (0: none).
    items: Vec<E>,
    next: Vec<u32>,
    free: Vec<u32>,
    /// Events outside the window, by (time, phase, sequence).
    overflow: BinaryHeap<Item<E>>,
    seq: u64,
}

impl<E: Copy> EventQueue<E> {
    /// A queue expecting about `n` pending events.
    pub fn with_capacity(n: usize) -> EventQueue<E> {
        EventQueue {
            lists: vec![[0u32; 4]; WINDOW as usize * PHASES],
            occupied: vec![0u64; (WINDOW / 64) as usize],
            cur: 0,
            ring_len: 0,
            items: Vec::with_capacity(n.next_multiple_of(CHUNK as usize)),
            next: Vec::with_capacity(n / CHUNK as usize + 1),
            free: Vec::new(),
            overflow: BinaryHeap::new(),
            seq: 0,
        }
    }

    fn alloc_chunk(&mut self, fill: E) -> u32 {
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

    #[inline]
    pub fn push(&mut self, at: SimTime, phase: Phase, event: E) {
        self.seq += 1;
        let t = at.0;
        if t < self.cur || t - self.cur >= WINDOW {
            self.overflow.push(Item {
                key: key(t, phase as usize),
                seq: self.seq,
                event,
            });
            return;
        }
        let slot = (t & MASK) as usize;
        let li = slot * PHASES + phase as usize;
        let l = self.lists[li];
        let (tail, write) = if l[HEAD] == 0 {
            let k = self.alloc_chunk(event);
            self.lists[li] = [k + 1, k, 0, 0];
            self.occupied[slot >> 6] |= 1 << (slot & 63);
            (k, 0)
        } else if l[WRITE] == CHUNK {
            let k = self.alloc_chunk(event);
            self.next[l[TAIL] as usize] = k + 1;
            self.lists[li][TAIL] = k;
            (k, 0)
        } else {
            (l[TAIL], l[WRITE])
        };
        self.items[(tail * CHUNK + write) as usize] = event;
        self.lists[li][WRITE] = write + 1;
        self.ring_len += 1;
    }

    /// The first (time, phase) in the ring, moving `cur` up to its time.
    fn ring_head(&mut self) -> Option<(u32, usize)> {
        if self.ring_len == 0 {
            return None;
        }
        loop {
            let slot = (self.cur & MASK) as usize;
            if self.occupied[slot >> 6] & (1 << (slot & 63)) != 0 {
                let base = slot * PHASES;
                for p in 0..PHASES {
                    if self.lists[base + p][HEAD] != 0 {
                        return Some((self.cur, p));
                    }
                }
            }
            // The next occupied slot after this one, going round the ring.
            let next = self.next_occupied(slot);
            self.cur += (next as u32).wrapping_sub(slot as u32) & MASK;
        }
    }

    /// The first occupied slot after `slot`, circularly (there is one: the ring is not empty).
    fn next_occupied(&self, slot: usize) -> usize {
        let words = self.occupied.len();
        let w = slot >> 6;
        let bit = slot & 63;
        let rest = if bit == 63 {
            0
        } else {
            self.occupied[w] & (!0u64 << (bit + 1))
        };
        if rest != 0 {
            return (w << 6) + rest.trailing_zeros() as usize;
        }
        for i in 1..=words {
            let wi = (w + i) % words;
            let word = self.occupied[wi];
            if word != 0 {
                return (wi << 6) + word.trailing_zeros() as usize;
            }
        }
        unreachable!("next_occupied on an empty ring")
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let ring = self.ring_head();
        let from_overflow = match (ring, self.overflow.peek()) {
            (None, None) => return None,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            // On equal (time, phase) the overflow event was pushed first (see the module doc).
            (Some((t, p)), Some(o)) => o.key <= key(t, p),
        };
        if from_overflow {
            let i = self.overflow.pop()?;
            let t = (i.key >> 8) as u32;
            if self.ring_len == 0 && t > self.cur {
                self.cur = t;
            }
            return Some((SimTime(t), i.event));
        }
        let (t, p) = ring?;
        let slot = (t & MASK) as usize;
        let li = slot * PHASES + p;
        let l = self.lists[li];
        let head = l[HEAD] - 1;
        let event = self.items[(head * CHUNK + l[READ]) as usize];
        let read = l[READ] + 1;
        if head == l[TAIL] && read == l[WRITE] {
            // The list is empty.
            self.free.push(head);
            self.lists[li] = [0; 4];
            let base = slot * PHASES;
            if self.lists[base..base + PHASES].iter().all(|l| l[HEAD] == 0) {
                self.occupied[slot >> 6] &= !(1 << (slot & 63));
            }
        } else if read == CHUNK {
            self.free.push(head);
            self.lists[li][HEAD] = self.next[head as usize];
            self.lists[li][READ] = 0;
        } else {
            self.lists[li][READ] = read;
        }
        self.ring_len -= 1;
        Some((SimTime(t), event))
    }

    /// The time of the next event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        let ring = self.ring_head().map(|(t, _)| t);
        let over = self.overflow.peek().map(|i| (i.key >> 8) as u32);
        match (ring, over) {
            (Some(a), Some(b)) => Some(SimTime(a.min(b))),
            (a, b) => a.or(b).map(SimTime),
        }
    }
    pub fn len(&self) -> usize {
        self.ring_len + self.overflow.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Events scheduled so far.
    pub fn scheduled(&self) -> u64 {
        self.seq
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
                if rng.next_u32() % 100 < 48 {
                    push(&mut q, &mut r, now, &mut rng);
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

    /// Chunks are reused: a steady stream of events does not grow the storage.
    #[test]
    fn storage_follows_pending_events() {
        let mut q = EventQueue::with_capacity(0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for i in 0..1000u32 {
            q.push(SimTime(rng.next_u32() % 5000), Phase::Order, i);
        }
        let mut peak = 0;
        for i in 0..200_000u32 {
            let (t, _) = q.pop().unwrap();
            q.push(SimTime(t.0 + 1 + rng.next_u32() % 5000), Phase::Order, i);
            if i == 50_000 {
                peak = q.items.len();
            }
        }
        assert_eq!(q.items.len(), peak, "storage kept growing");
    }
}
