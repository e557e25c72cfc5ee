//! Outcome assembly: at the end of a replication, checks the ledger and gathers its results
//! (totals, end figures, scripted order records, accounts, Plus records, campaign results) into a
//! `Replication`.

use rust_decimal::Decimal;

use super::{PlusRecord, Replication, RunError, RunOptions, World};
use crate::rules::Refusal;
use crate::rules::catalogue::RuleId;
use crate::rules::ids::*;
use crate::rules::ledger::Account;
use crate::scenario::AccountRef;

impl World<'_> {
    /// Checks the ledger and gathers the replication's results.
    pub(super) fn finish(
        mut self,
        index: u32,
        daily: Vec<Vec<Decimal>>,
        opts: &RunOptions,
    ) -> Result<Replication, RunError> {
        let w = &mut self;
        let sc = w.sc;
        w.activity.shares = w.finish_shares();

        w.pf.check_ledger().map_err(|error| RunError::Ledger {
            replication: index,
            error,
        })?;
        let sellers: Decimal = (0..w.agents.sellers.len())
            .map(|s| w.pf.ledger().balance(Account::Seller(s as u32)).0)
            .sum();
        let end = [
            sellers,
            w.pf.ledger().balance(Account::Platform).0,
            w.pf.commissions_pending().0,
        ];
        let accounts = sc
            .expectations
            .iter()
            .filter_map(|e| match e.subject {
                crate::scenario::Subject::Account(a) => Some(a),
                _ => None,
            })
            .map(|a| {
                let acct = match a {
                    AccountRef::Seller(s) => Account::seller(s),
                    AccountRef::Creator(c) => Account::creator(c),
                    AccountRef::Distributor(d) => Account::Distributor(d),
                    AccountRef::Platform => Account::Platform,
                    AccountRef::Buyers => Account::Buyers,
                    AccountRef::Escrow => Account::Escrow,
                };
                (a, w.pf.ledger().balance(acct))
            })
            .collect();
        let scripted = (0..sc.orders.len())
            .map(|i| match (&w.script_refused[i], w.script_keys[i]) {
                (Some(r), _) => Err(r.clone()),
                (None, Some(k)) => {
                    let rec = w.pf.orders().record_of(k);
                    Ok(w.pf.orders().records[rec as usize].clone())
                }
                (None, None) => Err(Refusal::new(
                    RuleId::Order2,
                    "the order was never placed (its time is after the run)",
                )),
            })
            .collect();
        let book = &w.pf.books().plus;
        let plus = book
            .state
            .iter()
            .enumerate()
            .map(|(i, st)| PlusRecord {
                status: serde_json::to_value(st.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                rewards_paid: st.rewards_paid,
                rewards_cancelled: st.rewards_cancelled,
                service_fee_charged: st.fee_charged,
                service_fee_refunded: st.fee_refunded,
                budget_returned: st.budget_returned,
                tax_document: st.tax_document.map(|d| d.to_string()),
                achievement: book
                    .achievement(PlusId::at(i), w.pf.opts().plus_fee_measure)
                    .share,
                participants: st.participants.len() as u32,
                selected: st.selected.len() as u32,
                creators: st
                    .participants
                    .iter()
                    .map(|&p| {
                        let part = &book.participants[p.index()];
                        (part.creator, part.reward, book.creator_status(p).as_str())
                    })
                    .collect(),
                ranks: w
                    .plus_ranks
                    .get(i)
                    .map(|r| {
                        r.iter()
                            .map(|&p| book.participants[p.index()].creator)
                            .collect()
                    })
                    .unwrap_or_default(),
                samples: w
                    .pf
                    .plus_samples(PlusId::at(i))
                    .map(|(c, p)| (c, w.agents.names.product(p)))
                    .collect(),
            })
            .collect();
        let tracked =
            w.pf.orders()
                .records
                .iter()
                .filter(|r| w.track.contains(&r.no))
                .cloned()
                .collect();
        Ok(Replication {
            index,
            totals: w.pf.tally().values().to_vec(),
            end,
            daily,
            events: w.events,
            pending: super::Pending {
                mean: w.pending.0.checked_div(w.pending.1).unwrap_or(0),
                peak: w.pending.2,
            },
            ledger_entries: w.pf.ledger().posted(),
            fired: w.pf.fired(),
            refusals: std::mem::take(&mut w.refusals),
            scripted,
            tracked,
            accounts,
            plus,
            campaigns: crate::metrics::campaigns::collect(sc, &w.pf, &w.agents),
            entries: w.pf.ledger().entries().to_vec(),
            activity: w.activity,
            agents: opts
                .record_ledger
                .then(|| std::sync::Arc::new(std::mem::take(&mut w.agents))),
        })
    }
}
