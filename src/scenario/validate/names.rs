//! Name tables: each kind of named thing (name → dense index) and the interned categories.

use std::collections::HashMap;
use std::ops::Range;

use toml::Spanned;

use super::context::V;

/// A name table: name → dense index, remembering where each was defined.
pub(super) struct Names {
    kind: &'static str,
    pub(super) map: HashMap<String, (u32, usize)>,
}

impl Names {
    pub(super) fn new(kind: &'static str) -> Names {
        Names {
            kind,
            map: HashMap::new(),
        }
    }
    pub(super) fn define(&mut self, v: &mut V, id: &Spanned<String>) -> u32 {
        let n = self.map.len() as u32;
        let name = id.get_ref();
        if name.trim().is_empty() {
            v.err(
                id.span(),
                format!("a {} id must not be empty", self.kind),
                None,
            );
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            v.err(
                id.span(),
                format!(
                    "a {} id must not contain control characters (found U+{:04X})",
                    self.kind, c as u32
                ),
                None,
            );
        }
        if let Some(&(_, line)) = self.map.get(name) {
            v.err(
                id.span(),
                format!(
                    "duplicate {} id `{name}` (first defined on line {line})",
                    self.kind
                ),
                None,
            );
            return n;
        }
        let line = v.line_of(&id.span());
        self.map.insert(name.clone(), (n, line));
        n
    }
    pub(super) fn get(&self, v: &mut V, id: &Spanned<String>) -> Option<u32> {
        match self.map.get(id.get_ref()) {
            Some(&(i, _)) => Some(i),
            None => {
                let mut known: Vec<&str> = self.map.keys().map(String::as_str).collect();
                known.sort_unstable();
                let hint = if known.is_empty() {
                    format!("no {}s are defined", self.kind)
                } else if known.len() <= 8 {
                    format!("known {}s: {}", self.kind, known.join(", "))
                } else {
                    format!("{} {}s are defined", known.len(), self.kind)
                };
                v.err(
                    id.span(),
                    format!("unknown {} `{}` ({hint})", self.kind, id.get_ref()),
                    None,
                );
                None
            }
        }
    }
}

/// Every name table of a scenario: the parts define names in file order and later parts
/// (the script, the expectations) look them up.
pub(super) struct NameTable {
    pub(super) sellers: Names,
    pub(super) products: Names,
    pub(super) creators: Names,
    pub(super) distributors: Names,
    pub(super) open_plans: Names,
    pub(super) invitations: Names,
    pub(super) campaigns: Names,
    pub(super) groups: Names,
    pub(super) plus: Names,
    pub(super) orders: Names,
}

impl Default for NameTable {
    fn default() -> NameTable {
        NameTable {
            sellers: Names::new("seller"),
            products: Names::new("product"),
            creators: Names::new("creator"),
            distributors: Names::new("distributor"),
            open_plans: Names::new("open plan"),
            invitations: Names::new("Target invitation"),
            campaigns: Names::new("distributor campaign"),
            groups: Names::new("creator group"),
            plus: Names::new("Collaboration Plus"),
            orders: Names::new("order"),
        }
    }
}

/// Product categories, interned to `u8` in order of first mention (at most 64).
#[derive(Default)]
pub(super) struct Categories {
    pub(super) names: Vec<String>,
}

impl Categories {
    /// The index of category `name`, adding it if new.
    pub(super) fn intern(&mut self, v: &mut V, name: &str, span: Range<usize>) -> u8 {
        let categories = &mut self.names;
        if let Some(i) = categories.iter().position(|c| c == name) {
            return i as u8;
        }
        if categories.len() == 64 {
            v.err(span, "at most 64 product categories are supported", None);
            return 0;
        }
        categories.push(name.to_string());
        (categories.len() - 1) as u8
    }
}
