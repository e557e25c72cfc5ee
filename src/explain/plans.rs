//! Explanations of plan-level money (`affsim explain --plus ID`, `--target ID`): a Collaboration
//! Plus's selection, leaderboard or task progress, rewards and service fee by achievement, and a
//! Target invitation's flat fees per creator, each with its ledger entries.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{ExplainError, NamedEntry, named_entry, plan_name};
use crate::model::{CreatorId, ProductId};
use crate::money::Money;
use crate::rules::ids::{InvitationId, ParticipantId, PlusId};
use crate::rules::ledger::EntryKind;
use crate::rules::plans::PlanRef;
use crate::rules::plus::{Achievement, ContentFilter, Objective, PlusKind, PolicySpec, Standing};
use crate::rules::target::{Fee, FeeStatus, SlotStatus};
use crate::scenario::Scenario;
use crate::sim;
use crate::time::{Calendar, SimTime};

/// Text rows shown before the rest is left to `--json`.
const TEXT_ROWS: usize = 25;

/// One participant of a Collaboration Plus, as explained.
#[derive(Clone, Debug, Serialize)]
pub struct PlusParticipantRow {
    pub creator: String,
    pub joined: String,
    /// PLUS-17 status at the end (or now, if not ended).
    pub status: &'static str,
    /// Task: progress per task, `value/target`; Challenge: the ranked value.
    pub progress: Vec<String>,
    /// Challenge: final rank among the eligible (1 first), if ranked.
    pub rank: Option<u32>,
    /// Challenge: when the ranked value last changed (the first tie-break).
    pub last_change: Option<String>,
    /// Why this row is where it is when it ties with the one above, or why it is not ranked.
    pub note: Option<String>,
    pub reward: Money,
    pub reward_at: Option<String>,
    pub reward_cancelled: bool,
    /// Authorised its videos for ads at the collaboration's prompt (PLUS-22).
    pub ads_authorised: bool,
}

/// A Collaboration Plus explained: terms, selection, leaderboard or progress, rewards, service
/// fee by achievement, free samples and ledger entries.
#[derive(Clone, Debug, Serialize)]
pub struct PlusExplanation {
    pub replication: u32,
    pub seed: u64,
    pub name: String,
    pub kind: &'static str,
    pub seller: String,
    pub products: Vec<String>,
    pub status: String,
    pub confirmed: String,
    pub paid: Option<String>,
    pub start: String,
    pub end: String,
    pub tax_document: Option<String>,
    pub budget: Money,
    pub service_fee: Money,
    pub rate: Option<String>,
    pub shop_ads_rate: Option<String>,
    pub ads_prompt: bool,
    /// The Open rate each product returns to after the period, only for products in an Open
    /// plan (PLUS-11): (product, plan, rate in force at the end).
    pub after_period: Vec<(String, String, String)>,
    pub policy: &'static str,
    pub selected: u32,
    pub joined: u32,
    /// Task: the reward per creator completing all tasks, as the policy set it.
    pub reward: Option<Money>,
    /// Task: the tasks as `content objective ≥ target`; Challenge: what is ranked.
    pub objectives: Vec<String>,
    pub rank_rewards: Vec<Money>,
    pub participants: Vec<PlusParticipantRow>,
    pub rewards_paid: Money,
    pub rewards_cancelled: Money,
    pub budget_returned: Money,
    pub achievement: Achievement,
    pub fee_charged: Money,
    pub fee_refunded: Money,
    pub fee_refunded_at: Option<String>,
    /// Free samples per product (PLUS-21): (product, set, left).
    pub samples: Vec<(String, u32, u32)>,
    pub entries: Vec<NamedEntry>,
}

fn content_word(c: ContentFilter) -> &'static str {
    match c {
        ContentFilter::Any => "any",
        ContentFilter::Video => "video",
        ContentFilter::Live => "live",
    }
}

fn objective_word(o: Objective) -> &'static str {
    match o {
        Objective::Gmv => "gmv",
        Objective::Orders => "orders",
        Objective::Posts => "posts",
    }
}

fn stamp(cal: &Calendar, t: SimTime) -> String {
    cal.stamp(t).to_string()
}

fn find_named(names: &[String], what: &str, kind: &'static str) -> Result<u32, ExplainError> {
    names
        .iter()
        .position(|n| n == what)
        .map(|i| i as u32)
        .ok_or_else(|| ExplainError::NoPlan {
            kind,
            name: what.to_string(),
            known: names.to_vec(),
        })
}

/// Explains Collaboration Plus `name` at the end of replication `rep`.
pub fn explain_plus(sc: &Scenario, rep: u32, name: &str) -> Result<PlusExplanation, ExplainError> {
    let names: Vec<String> = sc.plus.iter().map(|c| c.name.clone()).collect();
    let c = PlusId(find_named(&names, name, "Collaboration Plus")?);
    let st = sim::final_state(sc, rep);
    let (pf, a) = (&st.platform, &st.agents);
    let cal = &sc.calendar;
    let book = &pf.books().plus;
    let camp = &book.campaigns[c.index()];
    let state = &book.state[c.index()];
    let creator = |id: CreatorId| a.names.creator(id);
    let entries: Vec<_> = pf
        .ledger()
        .entries()
        .iter()
        .filter(|e| e.prov.plan == PlanRef::Plus(c) && e.prov.order.is_none())
        .collect();
    let paid_at = |who: CreatorId| {
        let acct = crate::rules::ledger::Account::creator(who);
        entries
            .iter()
            .find(|e| e.kind == EntryKind::RewardPaid && e.to == acct)
            .map(|e| stamp(cal, e.at))
    };
    let objectives = match &camp.kind {
        PlusKind::Task { tasks, .. } => tasks
            .iter()
            .map(|t| {
                format!(
                    "{} {} ≥ {}",
                    content_word(t.content),
                    objective_word(t.objective),
                    t.target
                )
            })
            .collect(),
        PlusKind::Challenge {
            objective,
            content,
            min_value,
            ..
        } => vec![format!(
            "{} of {} content, ranked {}",
            objective_word(*objective),
            content_word(*content),
            if min_value.is_zero() {
                "above 0".to_string()
            } else {
                format!("at {min_value} or more")
            }
        )],
    };
    let row = |i: ParticipantId| {
        let p = &book.participants[i.index()];
        PlusParticipantRow {
            creator: creator(p.creator),
            joined: stamp(cal, p.joined),
            status: book.creator_status(i).as_str(),
            progress: Vec::new(),
            rank: None,
            last_change: None,
            note: None,
            reward: p.reward,
            reward_at: (!p.reward.is_zero()).then(|| paid_at(p.creator)).flatten(),
            reward_cancelled: p.reward_cancelled,
            ads_authorised: p.ads_authorised,
        }
    };
    let participants = match &camp.kind {
        PlusKind::Task { tasks, .. } => state
            .participants
            .iter()
            .map(|&i| {
                let p = &book.participants[i.index()];
                let mut r = row(i);
                r.progress = tasks
                    .iter()
                    .map(|t| format!("{}/{}", p.value_of(t.objective, t.content), t.target))
                    .collect();
                r
            })
            .collect(),
        PlusKind::Challenge { min_value, .. } => {
            leaderboard_rows(&book.leaderboard(c), *min_value, &row, &creator, cal)
        }
    };
    let after_period = camp
        .products
        .iter()
        .filter_map(|&p| {
            let l = pf.books().listing_of(p)?;
            let (rate, _, _) = pf.books().open_rate(l, camp.end, camp.end)?;
            let plan = PlanRef::Open(pf.books().open_listings[l.index()].plan);
            Some((
                a.names.product(p),
                plan_name(sc, Some(a), plan),
                rate.to_string(),
            ))
        })
        .collect();
    let fee_refunded_at = entries
        .iter()
        .find(|e| e.kind == EntryKind::ServiceFeeRefund)
        .map(|e| stamp(cal, e.at));
    Ok(PlusExplanation {
        replication: rep,
        seed: sc.seed,
        name: camp.name.clone(),
        kind: match camp.kind {
            PlusKind::Task { .. } => "task",
            PlusKind::Challenge { .. } => "challenge",
        },
        seller: a.names.seller(camp.seller),
        products: camp.products.iter().map(|&p| a.names.product(p)).collect(),
        status: serde_json::to_value(state.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        confirmed: stamp(cal, camp.confirmed),
        paid: camp.paid.map(|t| stamp(cal, t)),
        start: stamp(cal, camp.start),
        end: stamp(cal, camp.end),
        tax_document: state.tax_document.map(|d| d.to_string()),
        budget: camp.budget,
        service_fee: camp.service_fee,
        rate: camp.rate.map(|r| r.to_string()),
        shop_ads_rate: camp.shop_ads_rate.map(|r| r.to_string()),
        ads_prompt: camp.ads_prompt,
        after_period,
        policy: match camp.policy {
            PolicySpec::AsGiven => "as-given",
            PolicySpec::Budget => "budget",
        },
        selected: state.selected.len() as u32,
        joined: state.participants.len() as u32,
        reward: matches!(camp.kind, PlusKind::Task { .. }).then_some(state.reward),
        objectives,
        rank_rewards: state.rank_rewards.clone(),
        participants,
        rewards_paid: state.rewards_paid,
        rewards_cancelled: state.rewards_cancelled,
        budget_returned: state.budget_returned,
        achievement: book.achievement(c, pf.opts().plus_fee_measure),
        fee_charged: state.fee_charged,
        fee_refunded: state.fee_refunded,
        fee_refunded_at,
        samples: camp
            .products
            .iter()
            .zip(camp.samples.iter().zip(&state.samples_left))
            .filter(|(_, (set, _))| **set > 0)
            .map(|(&p, (&set, &left))| (a.names.product(p), set, left))
            .collect(),
        entries: entries
            .iter()
            .map(|e| named_entry(cal, Some(a), e))
            .collect(),
    })
}

/// The leaderboard as rows: rank for the eligible, and why a row follows a tie or is unranked.
fn leaderboard_rows(
    board: &[Standing],
    min_value: Decimal,
    row: &dyn Fn(ParticipantId) -> PlusParticipantRow,
    creator: &dyn Fn(CreatorId) -> String,
    cal: &Calendar,
) -> Vec<PlusParticipantRow> {
    let mut out = Vec::with_capacity(board.len());
    for (k, s) in board.iter().enumerate() {
        let mut r = row(s.participant);
        r.progress = vec![s.value.to_string()];
        r.last_change = Some(stamp(cal, s.last_change));
        if s.eligible {
            r.rank = Some(k as u32 + 1);
            if let Some(prev) = k.checked_sub(1).map(|j| &board[j])
                && prev.eligible
                && prev.value == s.value
            {
                r.note = Some(if prev.last_change < s.last_change {
                    format!(
                        "tied on value with {}, who reached it earlier",
                        creator(prev.creator)
                    )
                } else {
                    format!(
                        "tied on value and time with {}, who is listed first in the scenario",
                        creator(prev.creator)
                    )
                });
            }
        } else {
            r.note = Some(if s.value.is_zero() {
                "not ranked: no value".to_string()
            } else {
                format!("not ranked: below min_value {min_value}")
            });
        }
        out.push(r);
    }
    out
}

fn opt(x: &Option<String>) -> &str {
    x.as_deref().unwrap_or("—")
}

fn write_entries(out: &mut String, entries: &[NamedEntry]) {
    let _ = writeln!(out, "  ledger entries:");
    if entries.is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for en in entries.iter().take(TEXT_ROWS) {
        let _ = writeln!(
            out,
            "    #{:<6} {}  {:<20} {:>14}  {} -> {}",
            en.seq, en.time, en.kind, en.amount, en.from, en.to
        );
    }
    if entries.len() > TEXT_ROWS {
        let _ = writeln!(
            out,
            "    … {} more (--json lists every entry)",
            entries.len() - TEXT_ROWS
        );
    }
}

/// Human-readable text of a Plus explanation.
pub fn plus_text(e: &PlusExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "collaboration plus {} ({}) — replication {}, seed {}",
        e.name, e.kind, e.replication, e.seed
    );
    let _ = writeln!(
        out,
        "  seller {}, products {}; period {} – {}; status {}",
        e.seller,
        e.products.join(", "),
        e.start,
        e.end,
        e.status
    );
    let _ = writeln!(
        out,
        "  confirmed {}, paid {} (tax document {}, PLUS-20); budget {}, service fee {} (PLUS-15)",
        e.confirmed,
        opt(&e.paid),
        opt(&e.tax_document),
        e.budget,
        e.service_fee
    );
    let _ = writeln!(
        out,
        "  Plus rate {}, Shop Ads rate {}{} (PLUS-9, PLUS-10)",
        opt(&e.rate),
        opt(&e.shop_ads_rate),
        if e.ads_prompt {
            "; creators prompted to authorise videos for ads (PLUS-22)"
        } else {
            ""
        }
    );
    for (p, plan, rate) in &e.after_period {
        let _ = writeln!(
            out,
            "  after the period, {p} returns to {plan} at {rate} (in force at the end, PLUS-11)"
        );
    }
    let _ = writeln!(
        out,
        "  policy {}: {} selected, {} joined (PLUS-7)",
        e.policy, e.selected, e.joined
    );
    match e.reward {
        Some(reward) => {
            let _ = writeln!(
                out,
                "  reward {reward} for completing all tasks (PLUS-3): {}",
                e.objectives.join("; ")
            );
            let _ = writeln!(out, "  participants (progress per task, PLUS-4, PLUS-17):");
            for r in e.participants.iter().take(TEXT_ROWS) {
                let _ = writeln!(
                    out,
                    "    {:<12} joined {}  {:<24} {:<18} reward {}{}",
                    r.creator,
                    r.joined,
                    r.progress.join(", "),
                    r.status,
                    r.reward,
                    reward_when(r)
                );
            }
        }
        None => {
            let rewards: Vec<String> = e.rank_rewards.iter().map(Money::to_string).collect();
            let _ = writeln!(
                out,
                "  leaderboard by {}; rank rewards {} (PLUS-5)\n  ties: earlier last change first, then the creator listed first in the scenario",
                e.objectives.join("; "),
                if rewards.is_empty() {
                    "none".to_string()
                } else {
                    rewards.join(" / ")
                }
            );
            for r in e.participants.iter().take(TEXT_ROWS) {
                let _ = writeln!(
                    out,
                    "    {:>4}  {:<12} {:>14}  last change {}  {:<18} reward {}{}{}",
                    r.rank.map_or_else(|| "—".to_string(), |k| k.to_string()),
                    r.creator,
                    r.progress.first().map_or("", String::as_str),
                    opt(&r.last_change),
                    r.status,
                    r.reward,
                    reward_when(r),
                    r.note
                        .as_ref()
                        .map_or_else(String::new, |n| format!(" — {n}"))
                );
            }
        }
    }
    if e.participants.len() > TEXT_ROWS {
        let _ = writeln!(
            out,
            "    … {} more participant(s) (--json lists them all)",
            e.participants.len() - TEXT_ROWS
        );
    } else if e.participants.is_empty() {
        let _ = writeln!(out, "    (no participant)");
    }
    let _ = writeln!(
        out,
        "  rewards paid {}, cancelled {} (PLUS-18); budget returned {}",
        e.rewards_paid, e.rewards_cancelled, e.budget_returned
    );
    let a = &e.achievement;
    let measure = match a.measure {
        crate::rules::plus::PlusFeeMeasure::Rewards => "rewards earned",
        crate::rules::plus::PlusFeeMeasure::Objectives => "progress on the objectives",
    };
    let _ = writeln!(
        out,
        "  service fee (PLUS-16, by {measure}): achieved {} of {} → share {} → charged {} of {}; refunded {}{}",
        a.achieved.normalize(),
        a.full.normalize(),
        a.share.round_dp(6).normalize(),
        e.fee_charged,
        e.service_fee,
        e.fee_refunded,
        e.fee_refunded_at
            .as_ref()
            .map_or_else(String::new, |t| format!(" on {t}"))
    );
    if a.full.is_zero() && e.status != "cancelled" {
        let _ = writeln!(
            out,
            "    nothing to achieve (full achievement is 0): nothing is charged"
        );
    }
    for (p, set, left) in &e.samples {
        let _ = writeln!(
            out,
            "  free samples of {p}: {set} set, {left} left (PLUS-21)"
        );
    }
    write_entries(&mut out, &e.entries);
    out
}

fn reward_when(r: &PlusParticipantRow) -> String {
    if r.reward_cancelled {
        " (cancelled by risk control, PLUS-18)".into()
    } else {
        r.reward_at
            .as_ref()
            .map_or_else(String::new, |t| format!(" paid {t}"))
    }
}

/// One invited creator's part of a Target invitation, as explained.
#[derive(Clone, Debug, Serialize)]
pub struct TargetSlotRow {
    pub creator: String,
    /// `pending`, `accepted`, `declined` or `expired`.
    pub status: String,
    pub accepted: Option<String>,
    /// Where the flat fee is: `none` (commission-only), `held`, `paid` or `refunded`.
    pub fee: String,
    /// Why the fee is where it is (TARGET-4, H-8).
    pub why: String,
    pub approved: Option<String>,
    pub review_rounds: u32,
}

/// A Target invitation's flat fees explained.
#[derive(Clone, Debug, Serialize)]
pub struct TargetExplanation {
    pub replication: u32,
    pub seed: u64,
    pub name: String,
    pub seller: String,
    pub sent: String,
    /// The flat fee per creator, or none for a commission-only invitation (TARGET-3).
    pub flat_fee: Option<Money>,
    /// Products and rates: (product, rate, Shop Ads rate).
    pub products: Vec<(String, String, Option<String>)>,
    pub creators: Vec<TargetSlotRow>,
    pub entries: Vec<NamedEntry>,
}

/// Explains Target invitation `name` at the end of replication `rep`.
pub fn explain_target(
    sc: &Scenario,
    rep: u32,
    name: &str,
) -> Result<TargetExplanation, ExplainError> {
    let names: Vec<String> = sc.invitations.iter().map(|i| i.name.clone()).collect();
    let i = InvitationId(find_named(&names, name, "Target invitation")?);
    let st = sim::final_state(sc, rep);
    let (pf, a) = (&st.platform, &st.agents);
    let cal = &sc.calendar;
    let tb = &pf.books().target;
    let inv = &tb.invitations[i.index()];
    let flat = match inv.fee {
        Fee::Flat(m) => Some(m),
        Fee::CommissionOnly => None,
    };
    let creators = tb
        .slots
        .iter()
        .filter(|s| s.invitation == i)
        .map(|s| {
            let status = match s.status {
                SlotStatus::Pending => "pending",
                SlotStatus::Accepted => "accepted",
                SlotStatus::Declined => "declined",
                SlotStatus::Expired => "expired",
            };
            let approved = (s.approved != SimTime::NEVER).then(|| stamp(cal, s.approved));
            let (fee, why) = match (s.fee, s.status) {
                (FeeStatus::None, _) => (
                    "none",
                    "commission-only: no flat fee (TARGET-3)".to_string(),
                ),
                (FeeStatus::Held, SlotStatus::Pending) => (
                    "held",
                    "held by the platform while the invitation awaits an answer (TARGET-4)".into(),
                ),
                (FeeStatus::Held, _) => (
                    "held",
                    format!(
                        "held by the platform until the video is approved; deadline {} (TARGET-4)",
                        stamp(cal, s.deadline)
                    ),
                ),
                (FeeStatus::Paid, _) => (
                    "paid",
                    format!(
                        "paid to the creator on the video's approval at {} (TARGET-4)",
                        opt(&approved)
                    ),
                ),
                (FeeStatus::Refunded, SlotStatus::Declined) => (
                    "refunded",
                    "refunded to the seller: the creator declined (H-8)".into(),
                ),
                (FeeStatus::Refunded, SlotStatus::Expired | SlotStatus::Pending) => (
                    "refunded",
                    "refunded to the seller: not accepted within 7 days (H-8)".into(),
                ),
                (FeeStatus::Refunded, SlotStatus::Accepted) if s.rounds >= 3 => (
                    "refunded",
                    "refunded to the seller: the video was rejected a third time (H-8)".into(),
                ),
                (FeeStatus::Refunded, SlotStatus::Accepted) => (
                    "refunded",
                    "refunded to the seller: no approved video by the deadline (TARGET-4)".into(),
                ),
            };
            TargetSlotRow {
                creator: a.names.creator(s.creator),
                status: status.into(),
                accepted: (s.accepted != SimTime::NEVER).then(|| stamp(cal, s.accepted)),
                fee: fee.into(),
                why,
                approved,
                review_rounds: s.rounds,
            }
        })
        .collect();
    let entries = pf
        .ledger()
        .entries()
        .iter()
        .filter(|e| e.prov.plan == PlanRef::Target(i) && e.prov.order.is_none())
        .map(|e| named_entry(cal, Some(a), e))
        .collect();
    Ok(TargetExplanation {
        replication: rep,
        seed: sc.seed,
        name: inv.name.clone(),
        seller: a.names.seller(inv.seller),
        sent: stamp(cal, inv.sent),
        flat_fee: flat,
        products: inv
            .products
            .iter()
            .map(|p| {
                (
                    product_name(a, p.product),
                    p.rate.to_string(),
                    p.shop_ads_rate.map(|r| r.to_string()),
                )
            })
            .collect(),
        creators,
        entries,
    })
}

fn product_name(a: &crate::model::Agents, p: ProductId) -> String {
    a.names.product(p)
}

/// Human-readable text of a Target explanation.
pub fn target_text(e: &TargetExplanation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "target invitation {} — replication {}, seed {}",
        e.name, e.replication, e.seed
    );
    let _ = writeln!(
        out,
        "  seller {}, sent {}; {}",
        e.seller,
        e.sent,
        match e.flat_fee {
            Some(m) => format!(
                "flat fee {m} per creator, held by the platform from sending (TARGET-3, TARGET-4)"
            ),
            None => "commission-only (TARGET-3)".to_string(),
        }
    );
    for (p, rate, ads) in &e.products {
        let _ = writeln!(
            out,
            "  {p}: {rate}{}",
            ads.as_ref()
                .map_or_else(String::new, |r| format!(", Shop Ads {r}"))
        );
    }
    let _ = writeln!(out, "  creators:");
    for r in e.creators.iter().take(TEXT_ROWS) {
        let _ = writeln!(
            out,
            "    {:<12} {:<9} fee {:<9} {}",
            r.creator, r.status, r.fee, r.why
        );
    }
    if e.creators.len() > TEXT_ROWS {
        let _ = writeln!(
            out,
            "    … {} more (--json lists them all)",
            e.creators.len() - TEXT_ROWS
        );
    }
    write_entries(&mut out, &e.entries);
    out
}
