//! Settlement batches: the lines due to settle at one time wait in a list behind one queue event
//! instead of one queue event each (the same order, fewer queue copies).
//!
//! Every line settles at 00:00 of a day (SETTLE-2), so hundreds of thousands of `Settle` events
//! of the large scenario share one (time, phase). The queue would copy each of them twice (into
//! a coarse bucket, then into the day's fine bucket) and read it back; here the first line due
//! at a time pushes one [`super::Ev::SettleBatch`] event — at that line's place in the push
//! sequence — and the lines that follow for the same time are appended to its list, 4 bytes
//! each. The loop (`kernel.rs`) settles the list in order, counting and checking each line as
//! the event it used to be.
//!
//! Why the order is the same: events of one (time, phase) pop in push order, and the only
//! other event of the `Settlement` phase, a Plus service-fee refund, seals the open batch of its
//! time when it is pushed ([`Settlements::seal`]), so lines due later than it at the same time go
//! to a new batch behind it, as their events would have. A batch is sealed too when it pops:
//! a line scheduled for that time while it is being settled goes to a new batch, after it.

use super::queue::{List, Pool};
use crate::rules::ids::LineKey;
use crate::time::SimTime;

/// The pending batches: FIFO lists of line keys in one pool of fixed-size chunks, reused through a
/// free list, so their memory follows the lines waiting to settle (a `Vec` per batch kept the
/// largest day's capacity in every recycled batch: twice the lines waiting, on a long run).
pub(super) struct Settlements {
    pool: Pool<LineKey>,
    batches: Vec<List>,
    free: Vec<u32>,
    /// The batch still taking lines, per settlement time (a few pending days).
    open: Vec<(SimTime, u32)>,
    /// The keys of the batch being settled, handed out by [`Settlements::take`] and back by
    /// [`Settlements::recycle`] (its capacity kept: one day's lines).
    scratch: Vec<LineKey>,
    /// Lines in the batches not yet taken (each the event it stands for), and those batches
    /// (each one queue event): the pending-events figure of `--timing` only.
    waiting: u64,
    queued: u64,
}

impl Default for Settlements {
    fn default() -> Settlements {
        Settlements {
            pool: Pool::new(),
            batches: Vec::new(),
            free: Vec::new(),
            open: Vec::new(),
            scratch: Vec::new(),
            waiting: 0,
            queued: 0,
        }
    }
}

impl Settlements {
    /// Adds line `k` to the open batch of time `at`; returns the batch's index when it is new
    /// (the caller pushes its event now, at the line's place in the sequence).
    pub(super) fn add(&mut self, at: SimTime, k: LineKey) -> Option<u32> {
        self.waiting += 1;
        if let Some(&(_, b)) = self.open.iter().find(|(t, _)| *t == at) {
            self.pool.append(&mut self.batches[b as usize], k);
            return None;
        }
        let b = match self.free.pop() {
            Some(b) => b,
            None => {
                self.batches.push(List::default());
                (self.batches.len() - 1) as u32
            }
        };
        self.pool.append(&mut self.batches[b as usize], k);
        self.open.push((at, b));
        self.queued += 1;
        Some(b)
    }

    /// Closes the open batch of time `at`, if any: lines due at `at` from now on go to a new
    /// batch (another `Settlement` event of that time was pushed after them).
    pub(super) fn seal(&mut self, at: SimTime) {
        self.open.retain(|(t, _)| *t != at);
    }

    /// Takes batch `b`'s lines to settle, in order (sealing it; its chunks go back to the pool);
    /// hand the list back with [`Settlements::recycle`].
    pub(super) fn take(&mut self, b: u32) -> Vec<LineKey> {
        self.open.retain(|(_, x)| *x != b);
        let mut keys = std::mem::take(&mut self.scratch);
        keys.clear();
        self.pool
            .drain_into(&mut self.batches[b as usize], &mut keys);
        self.waiting -= keys.len() as u64;
        self.queued -= 1;
        keys
    }

    /// The events the pending batches stand for: their lines, less the one queue event each
    /// batch has (for the pending-events figure of `--timing`, never for results).
    pub(super) fn events_beyond_queue(&self) -> i64 {
        self.waiting as i64 - self.queued as i64
    }

    /// Returns a settled batch's key list (its capacity is kept for the next batch) and frees
    /// the batch's index.
    pub(super) fn recycle(&mut self, b: u32, keys: Vec<LineKey>) {
        self.scratch = keys;
        self.free.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_one_time_share_a_batch_until_it_is_sealed_or_taken() {
        let mut s = Settlements::default();
        let (d1, d2) = (SimTime(1440), SimTime(2880));
        let b1 = s.add(d1, LineKey::at(0)).unwrap();
        assert_eq!(s.add(d1, LineKey::at(1)), None);
        let b2 = s.add(d2, LineKey::at(2)).unwrap();
        assert_ne!(b1, b2);
        // three lines behind two queue events: one event more than the queue holds
        assert_eq!(s.events_beyond_queue(), 1);
        s.seal(d1);
        let b3 = s.add(d1, LineKey::at(3)).unwrap();
        assert_ne!(b3, b1);
        assert_eq!(s.take(b1), vec![LineKey::at(0), LineKey::at(1)]);
        let keys = s.take(b3);
        assert_eq!(keys, vec![LineKey::at(3)]);
        // d2's batch with its line waits; the taken ones count no more
        assert_eq!(s.events_beyond_queue(), 0);
        s.recycle(b3, keys);
        // Taken: a later line of d1 opens a new batch (reusing the freed list).
        assert_eq!(s.add(d1, LineKey::at(4)), Some(b3));
        assert_eq!(s.add(d2, LineKey::at(5)), None);
        assert_eq!(s.take(b2), vec![LineKey::at(2), LineKey::at(5)]);
    }
}
