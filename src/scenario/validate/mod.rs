//! Validation: checks a parsed scenario file and resolves it into a [`Scenario`], part by part.
//!
//! `resolve` hands each part of the file to its own module — a function from the raw part
//! (`format`), the shared name table and what earlier parts resolved, to the resolved part —
//! in file order, so errors come out in the order of the file:
//! `region` (`[scenario]`, `[rules]`), `agents` (named sellers, products, creators,
//! distributors), `populations`, `open`, `target`, `distributor`, `plus` (creator groups and
//! collaborations), `behaviour`, `script`, `expect`. `context` holds the error collector and
//! the checks they share, `names` the name tables and categories.

mod agents;
mod behaviour;
mod context;
mod distributor;
mod expect;
mod expect_ledger;
mod names;
mod open;
mod outreach;
mod plus;
mod policies;
mod populations;
mod region;
mod script;
mod target;
#[cfg(test)]
mod tests;

use super::format::*;
use super::*;
use context::V;
use names::{Categories, NameTable};

fn rule_in(msg: &str) -> Option<RuleId> {
    RuleId::ALL
        .iter()
        .copied()
        .find(|r| msg.contains(&format!("({r})")))
}

pub(super) fn expected_rejection(src: &str) -> Option<ExpectInvalid> {
    let table: toml::Table = toml::from_str(src).ok()?;
    let raw: ExpectInvalidRaw = table.get("expect_invalid")?.clone().try_into().ok()?;
    Some(ExpectInvalid {
        rule: raw.rule,
        message: raw.message,
        line: raw.line,
    })
}

pub(super) fn parse(file: &str, src: &str) -> Result<Scenario, Vec<ScenarioError>> {
    if src.trim().is_empty() {
        return Err(vec![ScenarioError::whole(
            file,
            "the scenario file is empty: expected at least a [scenario] table with name, region, start and days",
        )]);
    }
    let raw: File = toml::from_str(src).map_err(|e| {
        let mut msg = e.message().trim().to_string();
        let rule = rule_in(&msg);
        // `start = 2025-10-01` is a TOML date, which reads as "a map" to serde: say what it is
        if let Some(sp) = e.span() {
            let at = src.get(sp.start..).unwrap_or_default();
            let date: String = at.chars().take_while(|c| !c.is_whitespace() && *c != ',' && *c != '}' && *c != '#').collect();
            let b = date.as_bytes();
            if b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
                msg = format!("`{date}` is an unquoted TOML date: dates and times in scenario files are quoted strings, e.g. \"{}\"", &date[..10]);
            } else if b.len() >= 5 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b':' && b[3..5].iter().all(u8::is_ascii_digit) {
                // `at = 09:00:00` is a TOML local time, equally a map to serde
                msg = format!("`{date}` is an unquoted TOML time: dates and times in scenario files are quoted strings with the date, e.g. \"2025-10-01 {}\"", &date[..5]);
            }
        }
        vec![ScenarioError::at(file, src, e.span(), msg, rule)]
    })?;
    let mut v = V {
        file,
        src,
        lines: super::error::LineIndex::new(src),
        errs: Vec::new(),
        warns: Vec::new(),
        latest: SimTime::NEVER,
    };
    let sc = resolve(&mut v, raw);
    if v.errs.is_empty() {
        Ok(sc)
    } else {
        Err(v.errs)
    }
}

/// What the script refers to besides names: the calendar, money's minor unit and the parts
/// resolved before it.
struct Context<'a> {
    calendar: Calendar,
    minor_unit: u32,
    named: &'a Named,
    open: &'a open::OpenPart,
    invitations: &'a [crate::rules::target::Invitation],
    campaigns: &'a [CampaignSpec],
    plus: &'a [crate::rules::plus::PlusCampaign],
    /// Category names, in interned order (a generated-plan selector names one).
    categories: &'a [String],
}

fn resolve(v: &mut V, raw: File) -> Scenario {
    let sec = raw.scenario.get_ref();
    let region = region::resolve(v, &raw);
    let minor_unit = region.region.minor_unit;
    let mut names = NameTable::default();
    let mut cats = Categories::default();
    let named = agents::resolve(v, &raw, minor_unit, &mut names, &mut cats);
    let populations = populations::resolve(v, &raw, &named, &mut cats);
    let open = open::resolve(v, &raw.open_plans, &named, &mut names);
    let invitations = target::resolve(v, &raw.target_invitations, &region, &named, &mut names);
    let campaigns =
        distributor::resolve(v, &raw.distributor_campaigns, region.calendar, &mut names);
    let groups = plus::resolve_groups(v, &raw.creator_groups, &mut names, &mut cats);
    let plus = plus::resolve(
        v,
        &raw.plus_campaigns,
        &region,
        &named,
        &open,
        &groups,
        &mut names,
    );
    let behaviour = behaviour::resolve(
        v,
        &raw.behaviour,
        minor_unit,
        region.days,
        &named,
        &populations,
        raw.scenario.span(),
    );
    let cx = Context {
        calendar: region.calendar,
        minor_unit,
        named: &named,
        open: &open,
        invitations: &invitations,
        campaigns: &campaigns,
        plus: &plus,
        categories: &cats.names,
    };
    let (mut script, orders) = script::resolve(v, &raw.script, &raw.rules, &cx, &mut names);
    let mut expectations = expect::resolve(v, &raw.expect, &names);
    expect_ledger::resolve(
        v,
        &raw.expect_ledger,
        &names,
        &region.calendar,
        &mut expectations,
    );

    // Scripted events pop in time order; ties keep file order (a stable sort).
    script.sort_by_key(|s| s.at);
    let seller_policies = policies::seller_policies(v, &raw.seller_policies, &names, &open.plans);
    let networks = outreach::networks(v, &raw.distributors, &names);
    let target_policies = outreach::target_policies(v, &raw.target_policies, &names);

    Scenario {
        name: sec.name.get_ref().clone(),
        description: sec.description.clone(),
        file: v.file.to_string(),
        region: region.region,
        calendar: region.calendar,
        days: region.days,
        seed: sec.seed,
        replications: region.replications,
        opts: region.opts,
        drain: raw.rules.drain.unwrap_or(true),
        categories: cats.names,
        named,
        populations,
        open_plans: open.plans,
        invitations,
        campaigns,
        groups,
        plus,
        behaviour,
        script,
        seller_policies,
        networks,
        target_policies,
        orders,
        expectations,
        warnings: std::mem::take(&mut v.warns),
    }
}
