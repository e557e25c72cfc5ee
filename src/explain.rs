//! Explanations: which rate applied to an order line, from which plan, by which rules, the
//! candidates that lost and why, and every ledger entry that followed (`affsim explain`).

use std::fmt::Write as _;

use serde::Serialize;

mod plans;
pub use plans::{
    PlusExplanation, PlusParticipantRow, TargetExplanation, TargetSlotRow, explain_plus,
    explain_target, plus_text, target_text,
};

use crate::model::{Agents, Traffic};
use crate::rules::attribution::{self, Candidate, Outcome, Query};
use crate::rules::ledger::Entry;
use crate::rules::orders::{Authorisation, OrderRecord};
use crate::rules::plans::PlanRef;
use crate::scenario::Scenario;
use crate::sim::{self, RunOptions};
use crate::time::{Calendar, SimTime};

/// Which order to explain.
#[derive(Clone, Debug)]
pub enum OrderSel {
    /// A scripted order, by its `id` in the scenario.
    Scripted(String),
    /// An order number (1 = the first order placed in the replication).
    Number(u64),
}

impl OrderSel {
    /// `#12` or `12` is an order number; anything else a scripted order's id.
    pub fn parse(s: &str) -> OrderSel {
        match s.trim_start_matches('#').parse::<u64>() {
            Ok(n) if !s.is_empty() => OrderSel::Number(n),
            _ => OrderSel::Scripted(s.to_string()),
        }
    }
}

/// The explanation of one order line.
#[derive(Clone, Debug, Serialize)]
pub struct OrderExplanation {
    pub replication: u32,
    pub seed: u64,
    pub order: OrderRecord,
    pub plan_name: String,
    pub candidates: Vec<NamedCandidate>,
    pub entries: Vec<NamedEntry>,
    /// For a line from a Target flat-fee video: the invitation and whether, and why, the video
    /// was authorised for ads when the line was placed (TARGET-4, PLUS-10).
    pub video: Option<String>,
    /// The sellers' messages of the Target invitations behind the line (TARGET-1).
    pub messages: Vec<InvitationMessage>,
}

/// A Target invitation's message (TARGET-1): informational, it changes no money.
#[derive(Clone, Debug, Serialize)]
pub struct InvitationMessage {
    pub invitation: String,
    pub message: String,
}

/// The non-empty messages of Target invitations `invs` (by index; repeats and unknown indices
/// skipped), in the order given.
fn messages(
    sc: &Scenario,
    invs: impl IntoIterator<Item = Option<usize>>,
) -> Vec<InvitationMessage> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for i in invs.into_iter().flatten() {
        if seen.contains(&i) {
            continue;
        }
        seen.push(i);
        if let Some(inv) = sc.invitations.get(i).filter(|x| !x.message.is_empty()) {
            out.push(InvitationMessage {
                invitation: inv.name.clone(),
                message: inv.message.clone(),
            });
        }
    }
    out
}

fn target_index(p: PlanRef) -> Option<usize> {
    match p {
        PlanRef::Target(i) => Some(i.index()),
        _ => None,
    }
}

/// A candidate with its plan named.
#[derive(Clone, Debug, Serialize)]
pub struct NamedCandidate {
    pub plan: String,
    #[serde(flatten)]
    pub candidate: Candidate,
}

/// A ledger entry with its accounts and time written out.
#[derive(Clone, Debug, Serialize)]
pub struct NamedEntry {
    pub seq: u64,
    pub time: String,
    pub kind: &'static str,
    pub from: String,
    pub to: String,
    pub amount: String,
    pub rate: Option<String>,
    pub rules: String,
}

/// The name of a plan in a scenario's terms.
pub fn plan_name(sc: &Scenario, agents: Option<&Agents>, p: PlanRef) -> String {
    match p {
        PlanRef::None => "none".into(),
        PlanRef::Shop(s) => format!(
            "shop plan of {}",
            agents.map_or_else(|| format!("seller#{}", s.0), |a| a.names.seller(s))
        ),
        PlanRef::Open(i) => format!(
            "open plan {}",
            sc.open_plans
                .get(i.index())
                .map_or_else(|| format!("#{i} (generated)"), |o| o.name.clone())
        ),
        PlanRef::Target(i) => format!(
            "target invitation {}",
            sc.invitations
                .get(i.index())
                .map_or_else(|| format!("#{i}"), |o| o.name.clone())
        ),
        PlanRef::Plus(i) => format!(
            "collaboration plus {}",
            sc.plus
                .get(i.index())
                .map_or_else(|| format!("#{i}"), |c| c.name.clone())
        ),
        PlanRef::Distributor(i) => format!(
            "distributor campaign {}",
            sc.campaigns
                .get(i.index())
                .map_or_else(|| format!("#{i}"), |c| c.campaign.name.clone())
        ),
    }
}

fn named_entry(cal: &Calendar, agents: Option<&Agents>, e: &Entry) -> NamedEntry {
    use crate::rules::ledger::Account as A;
    let acct = |a: A| a.named(agents);
    NamedEntry {
        seq: e.seq,
        time: cal.stamp(e.at).to_string(),
        kind: e.kind.as_str(),
        from: acct(e.from),
        to: acct(e.to),
        amount: e.amount.to_string(),
        rate: e.prov.rate.map(|r| r.to_string()),
        rules: e.prov.rules.to_string(),
    }
}

/// Explains one order line of replication `rep`.
pub fn explain_order(sc: &Scenario, rep: u32, sel: &OrderSel) -> Result<OrderExplanation, String> {
    let track = match sel {
        OrderSel::Number(n) => vec![*n],
        OrderSel::Scripted(_) => Vec::new(),
    };
    let r = sim::run_replication(
        sc,
        rep,
        &RunOptions {
            record_ledger: true,
            track,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let order = match sel {
        OrderSel::Number(n) => r
            .tracked
            .iter()
            .find(|o| o.no == *n)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "replication {rep} has no order #{n} (it placed {} orders)",
                    r.total(crate::metrics::Metric::Orders)
                )
            })?,
        OrderSel::Scripted(name) => {
            let i = sc
                .orders
                .iter()
                .position(|o| &o.name == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = sc.orders.iter().map(|o| o.name.as_str()).collect();
                    format!(
                        "no scripted order `{name}` (scripted orders: {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    )
                })?;
            r.scripted[i]
                .clone()
                .map_err(|refusal| format!("order `{name}` was refused: {refusal}"))?
        }
    };
    let agents = r.agents.as_deref();
    let candidates = order
        .candidates
        .iter()
        .map(|c| NamedCandidate {
            plan: plan_name(sc, agents, c.plan),
            candidate: *c,
        })
        .collect();
    let entries = r
        .entries
        .iter()
        .filter(|e| e.prov.order == Some(order.no))
        .map(|e| named_entry(&sc.calendar, agents, e))
        .collect();
    let applied = order
        .candidates
        .iter()
        .find(|c| c.outcome == Outcome::Applied);
    let plan_name = applied.map_or_else(|| "none".to_string(), |c| plan_name(sc, agents, c.plan));
    // The message of the invitation that paid the line, then of the one whose video it came from.
    let video_inv = order
        .target_video
        .as_ref()
        .and_then(|n| sc.invitations.iter().position(|i| &i.name == n));
    let messages = messages(sc, [applied.and_then(|c| target_index(c.plan)), video_inv]);
    let video = order.target_video.as_ref().map(|name| {
        let how = match order.authorised {
            Authorisation::SellerRequest => {
                "authorised for ads at the seller's request (authorise_ads, TARGET-4)"
            }
            Authorisation::Creator => "authorised for ads by the creator (PLUS-10)",
            Authorisation::PlusPrompt => {
                "authorised for ads by the creator at a Collaboration Plus prompt (PLUS-22)"
            }
            Authorisation::No if video_inv.is_some_and(|i| !sc.invitations[i].authorise_ads) => {
                "not authorised for ads: the seller did not ask for it (authorise_ads = false) and the creator did not authorise it (TARGET-4, PLUS-10)"
            }
            Authorisation::No => {
                "not authorised for ads yet: the video was not approved when the line was placed (TARGET-4)"
            }
        };
        format!("from the flat-fee video of target invitation {name}: {how}")
    });
    Ok(OrderExplanation {
        replication: rep,
        seed: sc.seed,
        order,
        plan_name,
        candidates,
        entries,
        video,
        messages,
    })
}

/// The explanation of what a creator would earn on a product at a time.
#[derive(Clone, Debug, Serialize)]
pub struct RateExplanation {
    pub replication: u32,
    pub seed: u64,
    pub creator: String,
    pub product: String,
    pub at: String,
    pub traffic: Traffic,
    pub rate: Option<String>,
    pub plan: String,
    pub rules: Option<String>,
    pub since: Option<String>,
    pub candidates: Vec<NamedCandidate>,
    /// The seller's message of the Target invitation that pays, if one does (TARGET-1).
    pub messages: Vec<InvitationMessage>,
}

/// Explains which rate `creator` would earn on `product` at `at`, in the state replication `rep`
/// reaches by then.
pub fn explain_rate(
    sc: &Scenario,
    rep: u32,
    creator: &str,
    product: &str,
    at: SimTime,
    traffic: Traffic,
    authorised: bool,
) -> Result<RateExplanation, String> {
    let st = sim::state_at(sc, rep, at);
    let find = |names: &[String], what: &str, n: usize, prefix: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|x| x == what) {
            return Ok(i as u32);
        }
        match what
            .strip_prefix(prefix)
            .and_then(|x| x.parse::<u32>().ok())
        {
            Some(i) if (i as usize) < n => Ok(i),
            _ => Err(format!(
                "no {} `{what}` in replication {rep} (named: {}; generated ones are {prefix}N)",
                prefix.trim_end_matches('#'),
                names.join(", ")
            )),
        }
    };
    let a = &st.agents;
    let c = crate::model::CreatorId(find(
        &a.names.creators,
        creator,
        a.creators.len(),
        "creator#",
    )?);
    let p = crate::model::ProductId(find(
        &a.names.products,
        product,
        a.products.len(),
        "product#",
    )?);
    let q = Query {
        creator: c,
        product: p,
        seller: a.products[p.idx()].seller,
        at,
        traffic,
        authorised,
        entry: st.platform.showcase_entry(c, p),
        open_since: st.platform.open_since(c, p),
        eligible: a.products[p.idx()].eligible,
    };
    let mut cands = Vec::new();
    let res = attribution::resolve_with(st.platform.books(), &q, &mut |x| cands.push(x));
    Ok(RateExplanation {
        replication: rep,
        seed: sc.seed,
        creator: creator.to_string(),
        product: product.to_string(),
        at: sc.calendar.stamp(at).to_string(),
        traffic,
        rate: res.map(|r| r.rate.to_string()),
        plan: res.map_or_else(|| "none".into(), |r| plan_name(sc, Some(a), r.plan)),
        rules: res.map(|r| r.rules.to_string()),
        since: res.map(|r| sc.calendar.stamp(r.since).to_string()),
        messages: messages(sc, [res.and_then(|r| target_index(r.plan))]),
        candidates: cands
            .into_iter()
            .map(|x| NamedCandidate {
                plan: plan_name(sc, Some(a), x.plan),
                candidate: x,
            })
            .collect(),
    })
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Applied => "APPLIED",
        Outcome::Superseded => "superseded",
        Outcome::Inactive => "inactive",
    }
}

fn write_candidates(out: &mut String, cands: &[NamedCandidate]) {
    let _ = writeln!(
        out,
        "  candidates, in precedence order (docs/attribution.md):"
    );
    if cands.is_empty() {
        let _ = writeln!(out, "    (none: no plan covers this creator and product)");
    }
    for c in cands {
        let rate = c
            .candidate
            .rate
            .map_or_else(|| "—".to_string(), |r| r.to_string());
        let ads = if c.candidate.shop_ads {
            " (Shop Ads)"
        } else {
            ""
        };
        let why = match c.candidate.outcome {
            Outcome::Applied => String::new(),
            Outcome::Superseded => {
                " — an earlier candidate applies (ATTR-1: one commission per line)".into()
            }
            Outcome::Inactive => format!(" — {}", c.candidate.note),
        };
        let _ = writeln!(
            out,
            "    {:<10} {:<36} {:>7}{ads}  [{}]{why}",
            outcome_word(c.candidate.outcome),
            c.plan,
            rate,
            c.candidate.rules
        );
    }
}

/// The sellers' messages (TARGET-1), one line each.
fn write_messages(out: &mut String, msgs: &[InvitationMessage]) {
    for m in msgs {
        let _ = writeln!(
            out,
            "  seller's message (target invitation {}): {:?}",
            m.invitation, m.message
        );
    }
}

/// Human-readable text of an order explanation.
pub fn order_text(e: &OrderExplanation) -> String {
    let o = &e.order;
    let mut out = String::new();
    let s = |x: &Option<crate::time::Stamp>| x.map_or_else(|| "—".to_string(), |t| t.to_string());
    let _ = writeln!(
        out,
        "order {} (#{}) — replication {}, seed {}",
        o.name, o.no, e.replication, e.seed
    );
    let _ = writeln!(
        out,
        "  creator {}, product {}, quantity {}, traffic {}",
        o.creator,
        o.product,
        o.quantity,
        o.traffic.as_str()
    );
    let _ = writeln!(
        out,
        "  placed {}, shipped {}, delivered {}, settled {}, cancelled {}; status {}",
        s(&o.placed),
        s(&o.shipped),
        s(&o.delivered),
        s(&o.settled),
        s(&o.cancelled),
        o.status.as_str()
    );
    let _ = writeln!(
        out,
        "  gross {}, commissionable base {} (price × quantity − coupons; shipping excluded, H-1), refunded {}",
        o.gross, o.base, o.refunded
    );
    match o.rate {
        Some(r) => {
            let _ = writeln!(
                out,
                "  rate {r} from {} (since {}) by {}",
                e.plan_name,
                s(&o.rate_since),
                o.rules
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  no commission: no plan applies to this creator and product"
            );
        }
    }
    let _ = writeln!(
        out,
        "  commission {}{}{}",
        o.commission,
        if o.shop_ads { " (Shop Ads)" } else { "" },
        if o.distributor_fee.is_zero() {
            String::new()
        } else {
            format!(", distributor fee {}", o.distributor_fee)
        }
    );
    if let Some(v) = &e.video {
        let _ = writeln!(out, "  {v}");
    } else if o.traffic == Traffic::Ad {
        let how = if o.authorised == Authorisation::PlusPrompt {
            "authorised by the creator at its Collaboration Plus prompt: Shop Ads rates may apply (PLUS-22, PLUS-10)"
        } else if o.authorised.yes() {
            "authorised by the creator: Shop Ads rates may apply (PLUS-10)"
        } else {
            "not authorised: standard rates only (PLUS-10)"
        };
        let _ = writeln!(out, "  the ad's video is {how}");
    }
    write_messages(&mut out, &e.messages);
    write_candidates(&mut out, &e.candidates);
    let _ = writeln!(out, "  ledger entries:");
    for en in &e.entries {
        let _ = writeln!(
            out,
            "    #{:<6} {}  {:<20} {:>14}  {} -> {}",
            en.seq, en.time, en.kind, en.amount, en.from, en.to
        );
    }
    out
}

/// Human-readable text of a rate explanation.
pub fn rate_text(e: &RateExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "creator {} on product {} at {} ({} traffic) — replication {}, seed {}",
        e.creator,
        e.product,
        e.at,
        e.traffic.as_str(),
        e.replication,
        e.seed
    );
    match &e.rate {
        Some(r) => {
            let _ = writeln!(
                out,
                "  rate {r} from {} (since {}) by {}",
                e.plan,
                e.since.as_deref().unwrap_or("—"),
                e.rules.as_deref().unwrap_or("")
            );
        }
        None => {
            let _ = writeln!(out, "  no commission: no plan applies");
        }
    }
    write_messages(&mut out, &e.messages);
    write_candidates(&mut out, &e.candidates);
    out
}
