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
        "`[[script.registration_edits]]`",
        "",
        "[[script.registration_edits]]\nzz_probe = 1\n",
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

// ---- function length

/// The longest a function in src/ may be, from its `fn` line to its closing brace (issue 12).
const MAX_FN_LINES: usize = 250;

/// The text of a Rust file with comments and string, byte and character literals blanked out
/// (newlines kept, so that line numbers stay), for counting braces.
fn code_only(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let blank = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(s.iter().map(|&c| if c == b'\n' { b'\n' } else { b' ' }));
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let after_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let end = if b[i..].starts_with(b"//") {
            i + b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .unwrap_or(b.len() - i)
        } else if b[i..].starts_with(b"/*") {
            // Block comments nest.
            let (mut j, mut depth) = (i, 0);
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            j
        } else if !after_ident && (c == b'r' || (c == b'b' && b.get(i + 1) == Some(&b'r'))) {
            // A raw string r"…", r#"…"#, br"…", or an identifier starting with r.
            let mut j = i + if c == b'b' { 2 } else { 1 };
            let hashes = b[j..].iter().take_while(|&&h| h == b'#').count();
            j += hashes;
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            j += 1;
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            (j + close.len()).min(b.len())
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(b.len())
        } else if c == b'\'' {
            // A character literal ('x', '\n', '\'', '\u{7b}', 'é'), or else a lifetime.
            if b.get(i + 1) == Some(&b'\\') {
                let close = b[i + 3..].iter().position(|&x| x == b'\'');
                close.map_or(i + 1, |k| i + 3 + k + 1)
            } else {
                let n = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                if n > 0 && b.get(i + 1 + n) == Some(&b'\'') {
                    i + 2 + n
                } else {
                    i + 1
                }
            }
        } else {
            i + 1
        };
        if end == i + 1 && !matches!(c, b'"' | b'\'') {
            out.push(c);
        } else {
            blank(&mut out, &b[i..end]);
        }
        i = end;
    }
    out
}

/// Every function with a body in `text`: (name, line of `fn`, lines from `fn` to its closing
/// brace).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(text);
    let line_at = |pos: usize| 1 + code[..pos].iter().filter(|&&c| c == b'\n').count();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < code.len() {
        let word = code[i..].starts_with(b"fn")
            && (i == 0 || !is_ident(code[i - 1]))
            && code[i + 2].is_ascii_whitespace();
        if !word {
            i += 1;
            continue;
        }
        let name_start = i
            + 2
            + code[i + 2..]
                .iter()
                .take_while(|c| c.is_ascii_whitespace())
                .count();
        let name_len = code[name_start..]
            .iter()
            .take_while(|&&c| is_ident(c))
            .count();
        let Some(open) = code[i..].iter().position(|&c| c == b'{' || c == b';') else {
            break;
        };
        let open = i + open;
        if name_len == 0 || code[open] == b';' {
            i += 2;
            continue;
        }
        let mut depth = 0usize;
        let mut close = open;
        for (k, &c) in code.iter().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let name = String::from_utf8_lossy(&code[name_start..name_start + name_len]).into_owned();
        let first = line_at(i);
        out.push((name, first, line_at(close) - first + 1));
        i += 2;
    }
    out
}

#[test]
fn the_function_scanner_skips_strings_comments_and_chars() {
    let body: String = (0..300).map(|k| format!("    let x{k} = 1;\n")).collect();
    let text = format!(
        "fn short() {{ let s = \"}}}}\"; let c = '}}'; let r = r#\"{{\"#; /* }} */ }}\n\
         // fn commented() {{\n\
         fn long<'a>(x: &'a str) -> &'a str {{\n{body}    let b = b'{{';\n    x\n}}\n\
         fn decl(x: u32);\n"
    );
    let fns = functions(&text);
    let names: Vec<&str> = fns.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["short", "long"]);
    assert_eq!(fns[0].2, 1);
    assert_eq!((fns[1].1, fns[1].2), (3, 304));
}

#[test]
fn no_function_in_src_is_longer_than_250_lines() {
    let mut long = Vec::new();
    for p in files(&repo_root().join("src"), "rs") {
        let text = std::fs::read_to_string(&p).expect("readable source");
        let rel = p
            .strip_prefix(repo_root())
            .unwrap_or(&p)
            .display()
            .to_string();
        for (name, line, n) in functions(&text) {
            if n > MAX_FN_LINES {
                long.push(format!("{rel}:{line}: fn {name} is {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions longer than {MAX_FN_LINES} lines (split them):\n{}",
        long.join("\n")
    );
}
