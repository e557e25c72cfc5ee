//! The event queue: a binary heap ordered by (time, phase, sequence), so same-time events pop in
//! a fixed order (TIME-1).

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

/// A priority queue of events. Pushing and popping do not allocate once the heap has grown to
/// its working size.
pub struct EventQueue<E> {
    heap: BinaryHeap<Item<E>>,
    seq: u64,
}

impl<E> EventQueue<E> {
    pub fn with_capacity(n: usize) -> EventQueue<E> {
        EventQueue {
            heap: BinaryHeap::with_capacity(n),
            seq: 0,
        }
    }
    #[inline]
    pub fn push(&mut self, at: SimTime, phase: Phase, event: E) {
        self.seq += 1;
        self.heap.push(Item {
            key: (u64::from(at.0) << 8) | phase as u64,
            seq: self.seq,
            event,
        });
    }
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap
            .pop()
            .map(|i| (SimTime((i.key >> 8) as u32), i.event))
    }
    /// The time of the next event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|i| SimTime((i.key >> 8) as u32))
    }
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    /// Events scheduled so far.
    pub fn scheduled(&self) -> u64 {
        self.seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
