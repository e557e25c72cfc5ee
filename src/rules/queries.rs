//! Read-only views of `Platform` for the simulator, the reports and `explain`, and the few
//! bookkeeping operations the simulator's kernel needs (rules fired, refusals, ledger batches).
//!
//! `Platform`'s fields are private: everything outside `rules/` reads the books through these
//! methods and changes them only through operations that check the rules.

use super::attribution::ShowcaseEntry;
use super::catalogue::{RuleId, RuleSet};
use super::ledger::Ledger;
use super::orders::OrderBook;
use super::plans::Books;
use super::{Platform, RuleOptions, Sample};
use crate::metrics::campaigns::CampaignTally;
use crate::metrics::{Metric, Tally};
use crate::model::CreatorId;
use crate::money::Money;
use crate::rules::ids::{ParticipantId, SampleId};

impl Platform {
    /// The plan books: Shop, Open, Target, distributor and Plus terms and their state.
    #[inline]
    pub fn books(&self) -> &Books {
        &self.books
    }

    /// The live order lines and the records of tracked lines.
    #[inline]
    pub fn orders(&self) -> &OrderBook {
        &self.orders
    }

    /// The ledger: balances, totals per kind, and the entries when recording.
    #[inline]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The running metric tally.
    #[inline]
    pub(crate) fn tally(&self) -> &Tally {
        &self.tally
    }

    /// GMV, orders and order costs by plan and seller so far.
    #[inline]
    pub(crate) fn campaign_tally(&self) -> &CampaignTally {
        &self.campaigns
    }

    /// The rule options of the run (`[rules]`).
    #[inline]
    pub fn opts(&self) -> &RuleOptions {
        &self.opts
    }
    /// The rule IDs that fired so far (coverage).
    #[inline]
    pub fn fired(&self) -> RuleSet {
        self.fired
    }

    /// The products in creator `c`'s showcase, in the order they were added.
    #[inline]
    pub fn showcase(&self, c: CreatorId) -> &[ShowcaseEntry] {
        &self.creators[c.idx()].lists.showcase
    }

    /// The creator's Open approvals and showcase, one record (for prefetching).
    #[inline]
    pub(crate) fn showcase_ref(&self, c: CreatorId) -> Option<&super::CreatorLists> {
        self.creators.get(c.idx()).map(|r| &r.lists)
    }

    /// The creator's whole record: approvals, showcase and the simulator's state of it, four
    /// cache lines on one page (for prefetching at a wake).
    #[inline]
    pub(crate) fn creator_ref(&self, c: CreatorId) -> Option<&super::CreatorRecord> {
        self.creators.get(c.idx())
    }

    /// What placing a line of `p` by `c` reads first, for prefetching: the word of the Plus
    /// participants' creator bitset that holds `c` and the product's Open entry
    /// ([`crate::rules::plans::ProductOpen`]).
    #[inline]
    pub(crate) fn order_refs(
        &self,
        c: CreatorId,
        p: crate::model::ProductId,
    ) -> (Option<&u64>, Option<&crate::rules::plans::ProductOpen>) {
        (
            self.books.plus.by_pair.creator_word(c.0),
            self.books.open_by_product.get(p.idx()),
        )
    }

    /// Open listing `l` (for prefetching, once its id is in cache).
    #[inline]
    pub(crate) fn listing_ref(
        &self,
        l: crate::rules::ids::ListingId,
    ) -> Option<&crate::rules::plans::OpenListing> {
        self.books.open_listings.get(l.index())
    }

    /// Seller `s`'s Shop plan rates (for prefetching).
    #[inline]
    pub(crate) fn shop_ref(
        &self,
        s: crate::model::SellerId,
    ) -> Option<&Option<crate::rules::plans::RateHistory>> {
        self.books.shop.get(s.idx())
    }

    /// Free sample `s`.
    #[inline]
    pub fn sample(&self, s: SampleId) -> Sample {
        self.samples[s.index()]
    }
    // ------------------------------------------------------------ bookkeeping

    /// Two events popped in the same minute, in (phase, sequence) order (TIME-1).
    #[inline]
    pub(crate) fn note_same_minute(&mut self) {
        self.fired.insert(RuleId::Time1);
    }

    /// A refusal the simulator reports (a scripted action the rules refused): counted in the
    /// `refusals` metric, and its rule fired.
    pub(crate) fn note_refusal(&mut self, rule: RuleId) {
        self.tally.count(Metric::Refusals);
        self.fired.insert(rule);
    }

    /// Forgets the ledger entries recorded so far (after they were streamed to a sink).
    pub(crate) fn clear_recorded_entries(&mut self) {
        self.ledger.clear_entries();
    }

    /// Whether Task rewards fell due (PLUS-3) and wait for [`Platform::next_due_reward`].
    #[inline]
    pub(crate) fn rewards_due(&self) -> bool {
        !self.plus_done.is_empty()
    }

    /// The next participant whose Task reward fell due, with the reward its collaboration pays
    /// (most recent first); the simulator asks risk control and calls `plus_pay_reward`.
    pub(crate) fn next_due_reward(&mut self) -> Option<(ParticipantId, Money)> {
        let part = self.plus_done.pop()?;
        let c = self.books.plus.participants[part.index()].campaign;
        Some((part, self.books.plus.state[c.index()].reward))
    }
}
