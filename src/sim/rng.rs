//! Random streams: per replication, per purpose, all ChaCha, all derived from the scenario seed.
//!
//! The replication key is the first 32 bytes of ChaCha8 stream `replication` under the scenario
//! seed; each purpose then has its own stream under that key. So a replication's draws depend
//! only on (seed, replication), never on threads or on what another purpose drew — and sweep arms
//! given the same (seed, replication) share them (common random numbers).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is for. Separate streams keep one model's draws from shifting another's.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Purpose {
    Population = 0,
    // 1 was a shared creators' stream, replaced by the per-agent streams ([`seek`]); the
    // numbers of the others stay as they were.
    Buyers = 2,
    Logistics = 3,
    Sellers = 4,
    Platform = 5,
    /// Creators' outside options (the incentive model), drawn once per replication.
    Incentives = 6,
    /// Per-replication draws of uncertain response parameters (sim/uncertainty.rs).
    Uncertainty = 7,
    /// Distributor networks (DIST-7), drawn once per replication (sim/distributors.rs).
    Networks = 8,
    /// Seller Target invitation policies (TARGET-8): candidates and audience profiles of
    /// generated creators (sim/target_policy.rs).
    Outreach = 9,
}

/// The stream of `purpose` for replication `rep` under `seed`, for purposes drawn apart from
/// [`Streams`] (its own stream: drawing from it shifts no other purpose's draws).
pub(crate) fn purpose_stream(seed: u64, rep: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::from_seed(replication_key(seed, rep));
    r.set_stream(purpose as u64);
    r
}

/// Stream-number tags of the per-agent streams (the low 32 bits hold the agent's index), above
/// every [`Purpose`]. Each creator has its own stream per tag; an *episode* (one wake, one
/// decision, one post) reads from its own fixed window of that stream, so creator c's k-th wake
/// sees the same numbers in every arm of a sweep, whatever other creators did before it
/// (synchronised common random numbers).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum AgentStream {
    /// A creator's wakes: its next action, its active/idle review, its search and post choice.
    Wake = 1 << 32,
    /// A creator's answers to the platform and sellers (joining a Plus, a Target invitation, a
    /// sample's post and extension, a Target video).
    Decision = 2 << 32,
    /// What a creator's post brings: its views noise and orders, and the first order's delay.
    Post = 3 << 32,
}

/// The 32-bit words of an agent stream each episode may read (2^24; an episode reading more
/// continues into the next episode's window: still random, only less synchronised).
pub(crate) const EPISODE_WORDS: u128 = 1 << 24;

/// Positions `rng` (keyed by the replication) at episode `episode` of agent `id`'s stream `tag`.
///
/// Only the first draw generates keystream (one 4-block refill). `set_stream` alone would refill
/// the buffer at once whenever the last episode stopped inside it — a refill the next
/// `set_word_pos` throws away — so the buffer is emptied first (`set_word_pos(0)` at a block
/// boundary refills lazily). The numbers drawn are the same either way (a test checks them).
#[inline]
pub(crate) fn seek(rng: &mut ChaCha8Rng, tag: AgentStream, id: u32, episode: u32) {
    rng.set_word_pos(0);
    rng.set_stream(tag as u64 | u64::from(id));
    rng.set_word_pos(u128::from(episode) * EPISODE_WORDS);
}

/// The random streams of one replication.
pub(crate) struct Streams {
    pub population: ChaCha8Rng,
    pub buyers: ChaCha8Rng,
    pub logistics: ChaCha8Rng,
    pub sellers: ChaCha8Rng,
    pub platform: ChaCha8Rng,
    pub incentives: ChaCha8Rng,
    /// The per-agent streams, repositioned by [`seek`] at each episode.
    pub(crate) agent: ChaCha8Rng,
}

/// The 32-byte key of replication `rep` under `seed`.
pub(crate) fn replication_key(seed: u64, rep: u64) -> [u8; 32] {
    let mut root = ChaCha8Rng::seed_from_u64(seed);
    root.set_stream(rep);
    let mut key = [0u8; 32];
    root.fill_bytes(&mut key);
    key
}

impl Streams {
    pub fn new(seed: u64, rep: u64) -> Streams {
        let key = replication_key(seed, rep);
        let s = |p: Purpose| {
            let mut r = ChaCha8Rng::from_seed(key);
            r.set_stream(p as u64);
            r
        };
        Streams {
            population: s(Purpose::Population),
            buyers: s(Purpose::Buyers),
            logistics: s(Purpose::Logistics),
            sellers: s(Purpose::Sellers),
            platform: s(Purpose::Platform),
            incentives: s(Purpose::Incentives),
            agent: ChaCha8Rng::from_seed(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_depend_only_on_seed_and_replication() {
        let a = Streams::new(7, 3).buyers.next_u64();
        let b = Streams::new(7, 3).buyers.next_u64();
        let c = Streams::new(7, 4).buyers.next_u64();
        let d = Streams::new(8, 3).buyers.next_u64();
        let e = Streams::new(7, 3).sellers.next_u64();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_ne!(a, e);
    }

    #[test]
    fn an_episode_depends_only_on_its_agent_and_index() {
        // The first draw of (tag, id, episode) after `before` other episodes were read.
        let draw = |tag, id, ep, before: u32| {
            let mut s = Streams::new(7, 3);
            // whatever was drawn before does not matter
            for k in 0..before {
                seek(&mut s.agent, AgentStream::Wake, k, k);
                s.agent.next_u64();
            }
            seek(&mut s.agent, tag, id, ep);
            s.agent.next_u64()
        };
        let wake_5_2 = draw(AgentStream::Wake, 5, 2, 0);
        assert_eq!(wake_5_2, draw(AgentStream::Wake, 5, 2, 9));
        for other in [
            draw(AgentStream::Wake, 5, 3, 0),
            draw(AgentStream::Wake, 6, 2, 0),
            draw(AgentStream::Post, 5, 2, 0),
        ] {
            assert_ne!(wake_5_2, other);
        }
    }

    /// `seek` gives exactly the words of a fresh generator positioned by `set_stream` and
    /// `set_word_pos`, whatever the stream had read before (inside a buffer, at its end, across
    /// a block), for every width of draw.
    #[test]
    fn seek_reads_the_episode_window_exactly() {
        let key = replication_key(7, 3);
        let mut s = Streams::new(7, 3);
        let mut k = 0u32;
        for used in [0usize, 1, 3, 15, 16, 17, 63, 64, 65, 200] {
            for (tag, id, ep) in [
                (AgentStream::Wake, 5, 2),
                (AgentStream::Post, 0, 0),
                (AgentStream::Decision, u32::MAX, 1000),
            ] {
                // leave the shared generator somewhere inside its buffer
                seek(&mut s.agent, AgentStream::Post, k, k);
                for _ in 0..used {
                    s.agent.next_u32();
                }
                k += 1;
                seek(&mut s.agent, tag, id, ep);
                let mut fresh = ChaCha8Rng::from_seed(key);
                fresh.set_stream(tag as u64 | u64::from(id));
                fresh.set_word_pos(u128::from(ep) * EPISODE_WORDS);
                assert_eq!(s.agent.next_u32(), fresh.next_u32());
                assert_eq!(s.agent.next_u64(), fresh.next_u64());
                let (mut a, mut b) = ([0u8; 300], [0u8; 300]);
                s.agent.fill_bytes(&mut a);
                fresh.fill_bytes(&mut b);
                assert_eq!(a, b);
                assert_eq!(s.agent.get_word_pos(), fresh.get_word_pos());
            }
        }
    }
}
