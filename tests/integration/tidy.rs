//! Tidy tests (as rust-analyzer's): the docs' rule and key tables match the code, every source
//! file states its role, and every catalogue rule is tagged in src/ and exercised by a scenario.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use affsim::rules::catalogue::{CATALOGUE, RuleId};

use crate::util::repo_root;

fn read(rel: &str) -> String {
    let p = repo_root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Every file under `dir` with extension `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap_or_else(|e| panic!("cannot walk {}: {e}", dir.display())))
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// The backticked words of a piece of Markdown.
fn ticked(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

// ---- docs/rules.md ↔ the catalogue

#[test]
fn rules_md_lists_the_catalogue_in_order_with_its_titles_and_groups() {
    let doc = read("docs/rules.md");
    // (ID, title, index of the `##` section it is under)
    let mut listed = Vec::new();
    let mut section = 0usize;
    for line in doc.lines() {
        if line.starts_with("## ") {
            section += 1;
        } else if let Some(h) = line.strip_prefix("### ") {
            let (id, title) = h
                .split_once(" — ")
                .unwrap_or_else(|| panic!("docs/rules.md: `### {h}` is not `### ID — title`"));
            listed.push((id.to_string(), title.to_string(), section));
        }
    }
    let ids: Vec<&str> = listed.iter().map(|(id, _, _)| id.as_str()).collect();
    let code: Vec<&str> = CATALOGUE.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids, code,
        "docs/rules.md's `### ID — title` headings and the catalogue (src/rules/catalogue.rs) list different rules or a different order"
    );
    for ((id, title, _), info) in listed.iter().zip(CATALOGUE.iter()) {
        assert_eq!(
            title, info.title,
            "{id}: the title in docs/rules.md differs from the catalogue's"
        );
    }
    // the catalogue's groups are the document's sections: same group ⇔ same section
    for (a, b) in listed
        .iter()
        .zip(listed.iter().skip(1))
        .zip(CATALOGUE.windows(2))
    {
        let ((ida, _, sa), (idb, _, sb)) = a;
        assert_eq!(
            sa == sb,
            b[0].group == b[1].group,
            "{ida} and {idb}: docs/rules.md's sections and the catalogue's groups differ"
        );
    }
}

#[test]
fn affsim_rules_lists_the_catalogue() {
    let out = crate::util::affsim(&["rules"]);
    assert_eq!(out.code, 0, "{out}");
    let ids: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default())
        .collect();
    let code: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(ids, code);
    let first = out.stdout.lines().next().unwrap_or_default();
    let m = &CATALOGUE[0];
    assert!(
        first.contains(m.title) && first.contains(m.group),
        "{first}"
    );
    assert_eq!(first.ends_with("\tmodel"), m.model, "{first}");
}

// ---- docs/scenario-format.md ↔ the keys the parser accepts

/// The keys serde accepts in the tables where `probes` (separated by `--` lines) put the
/// unknown key `zz_probe`: every raw table denies unknown fields and its error lists the
/// expected ones.
fn accepted_keys(probes: &str) -> BTreeSet<String> {
    probes.split("\n--\n").flat_map(accepted_keys_of).collect()
}

fn accepted_keys_of(probe: &str) -> BTreeSet<String> {
    let errs = match affsim::scenario::parse("probe.toml", probe) {
        Ok(_) => panic!("the probe parsed:\n{probe}"),
        Err(e) => e,
    };
    let msg = &errs[0].message;
    let (_, expected) = msg
        .split_once("expected")
        .unwrap_or_else(|| panic!("no key list in `{msg}` for\n{probe}"));
    assert!(
        msg.contains("unknown field `zz_probe`"),
        "the probe did not reach its table: `{msg}`\n{probe}"
    );
    ticked(expected).into_iter().map(str::to_string).collect()
}

/// The doc's key tables: (heading, caption before the table or "", keys in the first column).
fn doc_key_tables() -> Vec<(String, String, Vec<String>)> {
    let doc = read("docs/scenario-format.md");
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut fenced = false;
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && l.starts_with('#') {
            heading = l.trim_start_matches('#').trim().to_string();
        }
        if l.starts_with("| key |") {
            let caption = lines[..i]
                .iter()
                .rev()
                .find(|x| !x.trim().is_empty())
                .filter(|x| x.trim_end().ends_with(':'))
                .map_or(String::new(), |x| x.trim().to_string());
            let mut keys = Vec::new();
            let mut j = i + 2;
            while j < lines.len() && lines[j].starts_with('|') {
                let cell = lines[j].split('|').nth(1).unwrap_or_default();
                keys.extend(ticked(cell).into_iter().map(str::to_string));
                j += 1;
            }
            out.push((heading.clone(), caption, keys));
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// Which raw table each key table of the doc documents: (heading contains, caption contains,
/// probe putting `zz_probe` in that table). Tables not listed fail the test, so a new table
/// in the doc needs a probe here.
const PROBES: &[(&str, &str, &str)] = &[
    ("`[scenario]`", "", "[scenario]\nzz_probe = 1\n"),
    ("`[rules]`", "", "[rules]\nzz_probe = 1\n"),
    ("`[[sellers]]`", "", "[[sellers]]\nzz_probe = 1\n"),
    ("`[[products]]`", "", "[[products]]\nzz_probe = 1\n"),
    ("`[[creators]]`", "", "[[creators]]\nzz_probe = 1\n"),
    ("`[[distributors]]`", "", "[[distributors]]\nzz_probe = 1\n"),
    (
        "`[populations.sellers]`",
        "",
        "[populations.sellers]\nzz_probe = 1\n",
    ),
    (
        "`[populations.products]`",
        "",
        "[populations.products]\nzz_probe = 1\n",
    ),
    (
        "`[populations.creators]`",
        "",
        "[populations.creators]\nzz_probe = 1\n",
    ),
    ("`[[open_plans]]`", "", "[[open_plans]]\nzz_probe = 1\n"),
    (
        "`[[open_plans]]`",
        "`groups` entries",
        "[[open_plans]]\n[[open_plans.groups]]\nzz_probe = 1\n",
    ),
    (
        "`approval`",
        "",
        "[[open_plans]]\n[open_plans.approval]\nzz_probe = 1\n",
    ),
    (
        "`samples`",
        "",
        "[[open_plans]]\n[open_plans.samples]\nzz_probe = 1\n",
    ),
    (
        "`[[target_invitations]]`",
        "",
        "[[target_invitations]]\nzz_probe = 1\n",
    ),
    (
        "`[[target_invitations]]`",
        "`products` entries",
        "[[target_invitations]]\n[[target_invitations.products]]\nzz_probe = 1\n",
    ),
    (
        "`[[target_invitations]]`",
        "`creator_rates` entries",
        "[[target_invitations]]\n[[target_invitations.creator_rates]]\nzz_probe = 1\n",
    ),
    (
        "`[[target_policies]]`",
        "",
        "[[target_policies]]\nzz_probe = 1\n",
    ),
    (
        "`[[distributor_campaigns]]`",
        "",
        "[[distributor_campaigns]]\nzz_probe = 1\n",
    ),
    (
        "`[[creator_groups]]`",
        "",
        "[[creator_groups]]\nzz_probe = 1\n",
    ),
    (
        "`[[plus_campaigns]]`",
        "",
        "[[plus_campaigns]]\nzz_probe = 1\n",
    ),
    (
        "`[[plus_campaigns]]`",
        "Task keys",
        "[[plus_campaigns]]\nzz_probe = 1\n",
    ),
    (
        "`[[plus_campaigns]]`",
        "Challenge keys",
        "[[plus_campaigns]]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.creators]`",
        "",
        "[behaviour.creators]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.buyers]`",
        "",
        "[behaviour.buyers]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.orders]`",
        "",
        "[behaviour.orders]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.target]`",
        "",
        "[behaviour.target]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.distributors]`",
        "",
        "[behaviour.distributors]\nzz_probe = 1\n",
    ),
    ("`[behaviour.plus]`", "", "[behaviour.plus]\nzz_probe = 1\n"),
    (
        "`[behaviour.incentives]`",
        "",
        "[behaviour.incentives]\nzz_probe = 1\n",
    ),
    (
        "`[behaviour.incentives.uncertainty]`",
        "",
        "[behaviour.incentives.uncertainty]\nzz_probe = 1\n",
    ),
    (
        "`[[seller_policies]]`",
        "",
        "[[seller_policies]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.rate_changes]]`",
        "",
        "[[script.rate_changes]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.applications]]`",
        "",
        "[[script.applications]]\nzz_probe = 1\n--\n[[script.showcase_adds]]\nzz_probe = 1\n--\n[[script.sample_requests]]\nzz_probe = 1\n",
    ),
    ("`[[script.posts]]`", "", "[[script.posts]]\nzz_probe = 1\n"),
    (
        "`[[script.orders]]`",
        "",
        "[[script.orders]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.returns]]`",
        "",
        "[[script.returns]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.target_responses]]`",
        "",
        "[[script.target_responses]]\nzz_probe = 1\n--\n[[script.video_submissions]]\nzz_probe = 1\n--\n[[script.video_reviews]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.registrations]]`",
        "",
        "[[script.registrations]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.registration_reviews]]`",
        "",
        "[[script.registration_reviews]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.link_adds]]`",
        "",
        "[[script.link_adds]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.terminations]]`",
        "",
        "[[script.terminations]]\nzz_probe = 1\n--\n[[script.resumptions]]\nzz_probe = 1\n--\n[[script.campaign_edits]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.target_rate_changes]]`",
        "",
        "[[script.target_rate_changes]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.target_rate_changes]]`",
        "",
        "[[script.target_rate_changes]]\nzz_probe = 1\n",
    ),
    (
        "`[[script.plus_joins]]`",
        "",
        "[[script.plus_joins]]\nzz_probe = 1\n--\n[[script.plus_sample_requests]]\nzz_probe = 1\n--\n[[script.plus_edits]]\nzz_probe = 1\n--\n[[script.plus_cancellations]]\nzz_probe = 1\n",
    ),
    ("Subjects", "", "[[expect]]\nzz_probe = 1\n"),
    ("Checks", "", "[[expect]]\nzz_probe = 1\n"),
    ("`[expect_invalid]`", "", "[expect_invalid]\nzz_probe = 1\n"),
    (
        "`[[expect_ledger]]`",
        "",
        "[[expect_ledger]]\nzz_probe = 1\n",
    ),
];

/// Probes of tables the doc documents under another table's heading, or as several tables in
/// one: `(table, probe)`; the doc's keys for them are collected by prefix or marker below.
const SUB_PROBES: &[(&str, &str)] = &[
    (
        "tasks[]",
        "[[plus_campaigns]]\n[[plus_campaigns.tasks]]\nzz_probe = 1\n",
    ),
    ("[[sweep.arms]]", "[sweep]\n[[sweep.arms]]\nzz_probe = 1\n"),
    (
        "[[sweep.parameters]]",
        "[sweep]\n[[sweep.parameters]]\nzz_probe = 1\n",
    ),
];

#[test]
fn scenario_format_key_tables_match_the_parser() {
    // probe → (keys the doc lists for it, where)
    let mut documented: BTreeMap<&str, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    let mut problems = Vec::new();
    for (heading, caption, keys) in doc_key_tables() {
        // rows like `[[sweep.arms]]` start a sub-table; `tasks[].content` belongs to `tasks[]`
        let mut current: Option<&str> = None;
        let mut main_keys = Vec::new();
        for k in keys {
            if let Some(&(table, probe)) = SUB_PROBES.iter().find(|(t, _)| *t == k) {
                current = Some(probe);
                let _ = table;
                continue;
            }
            if let Some((prefix, rest)) = k.split_once("[].")
                && let Some(&(_, probe)) = SUB_PROBES
                    .iter()
                    .find(|(t, _)| t.strip_suffix("[]") == Some(prefix))
            {
                documented
                    .entry(probe)
                    .or_default()
                    .0
                    .insert(rest.to_string());
                main_keys.push(prefix.to_string());
                continue;
            }
            match current {
                Some(probe) => {
                    documented.entry(probe).or_default().0.insert(k);
                }
                None => main_keys.push(k),
            }
        }
        if current.is_some() {
            continue;
        }
        let probe = PROBES
            .iter()
            .filter(|(h, c, _)| heading.contains(h) && (c.is_empty() || caption.contains(c)))
            .max_by_key(|(_, c, _)| c.len())
            .map(|(_, _, p)| *p);
        match probe {
            Some(p) => {
                let e = documented.entry(p).or_default();
                e.0.extend(main_keys);
                e.1.push(format!("{heading} {caption}"));
            }
            None => problems.push(format!(
                "docs/scenario-format.md: no probe for the key table under `{heading}` {caption}: add one to PROBES"
            )),
        }
    }
    let all_probes: BTreeSet<&str> = PROBES
        .iter()
        .map(|(_, _, p)| *p)
        .chain(SUB_PROBES.iter().map(|(_, p)| *p))
        .collect();
    for probe in all_probes {
        let Some((doc_keys, places)) = documented.get(probe) else {
            problems.push(format!(
                "no key table in docs/scenario-format.md for\n{probe}"
            ));
            continue;
        };
        let code = accepted_keys(probe);
        let missing: Vec<&String> = code.difference(doc_keys).collect();
        let extra: Vec<&String> = doc_keys.difference(&code).collect();
        if !missing.is_empty() || !extra.is_empty() {
            problems.push(format!(
                "{places:?}: keys the parser accepts but the doc does not list: {missing:?}; keys the doc lists but the parser rejects: {extra:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- source files and rule tags

#[test]
fn every_source_file_starts_with_a_one_line_role_comment() {
    let mut bad = Vec::new();
    for p in files(&repo_root().join("src"), "rs") {
        let text = std::fs::read_to_string(&p).expect("readable source");
        let first = text.lines().next().unwrap_or_default();
        if !(first.starts_with("//! ") && first.len() > 8) {
            bad.push(
                p.strip_prefix(repo_root())
                    .unwrap_or(&p)
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(
        bad.is_empty(),
        "these files do not start with a `//! role` line: {bad:?}"
    );
}

/// Rule IDs no scenario under scenarios/ exercises yet, each to be removed when its scenario
/// lands. The list may only shrink: an ID here that a scenario names fails the test.
/// (Empty: every rule has its scenario.)
const NO_SCENARIO_YET: &[&str] = &[];

#[test]
fn every_rule_is_tagged_in_src_and_named_by_a_scenario() {
    let mut src = String::new();
    for p in files(&repo_root().join("src"), "rs") {
        src.push_str(&std::fs::read_to_string(&p).expect("readable source"));
        src.push('\n');
    }
    let tagged: BTreeSet<&str> = src
        .lines()
        .filter_map(|l| l.split_once("// rule:").map(|(_, r)| r))
        .flat_map(|r| r.split(|c: char| c == ',' || c.is_whitespace() || c == '—'))
        .filter(|w| RuleId::parse(w).is_some())
        .collect();
    let mut scen = String::new();
    for p in files(&repo_root().join("scenarios"), "toml") {
        scen.push_str(&std::fs::read_to_string(&p).expect("readable scenario"));
        scen.push('\n');
    }
    let named = |id: &str| {
        scen.match_indices(id).any(|(i, _)| {
            // a whole ID: not the prefix of a longer one (PLUS-1 in PLUS-11)
            !scen[i + id.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
    };
    let untagged: Vec<&str> = RuleId::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|id| !tagged.contains(id))
        .collect();
    assert!(
        untagged.is_empty(),
        "rule IDs with no `// rule:` tag in src/: {untagged:?}"
    );
    let unnamed: Vec<&str> = RuleId::ALL
        .iter()
        .map(|r| r.as_str())
        .filter(|id| !named(id) && !NO_SCENARIO_YET.contains(id))
        .collect();
    assert!(
        unnamed.is_empty(),
        "rule IDs no scenario under scenarios/ names: {unnamed:?}"
    );
    let stale: Vec<&str> = NO_SCENARIO_YET
        .iter()
        .copied()
        .filter(|id| named(id))
        .collect();
    assert!(
        stale.is_empty(),
        "remove from NO_SCENARIO_YET, a scenario names them now: {stale:?}"
    );
}
