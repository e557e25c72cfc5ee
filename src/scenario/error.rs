//! Scenario errors that name the file, line and column, what was expected, and the rule ID.

use std::fmt;
use std::ops::Range;

use crate::rules::catalogue::RuleId;

/// A problem with a scenario file. Always shown as `file:line:column: message [RULE]` followed
/// by the offending line and a caret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub rule: Option<RuleId>,
    /// The source line, for display.
    pub snippet: Option<String>,
}

impl ScenarioError {
    /// An error with no place in the file (a missing file, an empty one).
    pub fn whole(file: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
            rule: None,
            snippet: None,
        }
    }

    /// An error at a byte span of `source`.
    pub fn at(
        file: &str,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        rule: Option<RuleId>,
    ) -> ScenarioError {
        ScenarioError::at_indexed(file, source, &LineIndex::new(source), span, message, rule)
    }

    /// [`ScenarioError::at`] with the source's line index computed once: validation reports
    /// many errors against one file, and each costs only a binary search and its own line.
    pub fn at_indexed(
        file: &str,
        source: &str,
        index: &LineIndex,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        rule: Option<RuleId>,
    ) -> ScenarioError {
        let mut e = ScenarioError::whole(file, message);
        e.rule = rule;
        if let Some(span) = span {
            let mut start = span.start.min(source.len());
            while !source.is_char_boundary(start) {
                start -= 1;
            }
            let line = index.line_of(start);
            let line_start = index.starts[line - 1];
            let column = source[line_start..start].chars().count() + 1;
            let line_end = source[line_start..]
                .find('\n')
                .map_or(source.len(), |i| line_start + i);
            e.line = Some(line);
            e.column = Some(column);
            e.snippet = Some(
                source[line_start..line_end]
                    .trim_end_matches('\r')
                    .to_string(),
            );
        }
        e
    }

    pub fn with_rule(mut self, rule: RuleId) -> ScenarioError {
        self.rule = Some(rule);
        self
    }

    /// `file:line:column` (or just the file).
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            _ => self.file.clone(),
        }
    }
}

/// Where each line of a source text starts, so that a byte offset becomes a line number by
/// binary search (linear validation however many errors or names a file has).
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }
    /// The 1-based line of byte offset `pos`.
    pub fn line_of(&self, pos: usize) -> usize {
        self.starts.partition_point(|&s| s <= pos)
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(r) = self.rule {
            write!(f, " [{r}]")?;
        }
        if let (Some(snippet), Some(line), Some(col)) = (&self.snippet, self.line, self.column) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{line} | {snippet}\n{:gutter$} | {:>col$}",
                "", "", "^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_line_and_column() {
        let src = "a = 1\nrate = \"85%\"\n";
        let at = src.find("\"85%").unwrap();
        let e = ScenarioError::at(
            "x.toml",
            src,
            Some(at..at + 5),
            "out of range",
            Some(RuleId::Rate1),
        );
        assert_eq!((e.line, e.column), (Some(2), Some(8)));
        let shown = e.to_string();
        assert!(
            shown.starts_with("x.toml:2:8: out of range [RATE-1]"),
            "{shown}"
        );
        assert!(shown.contains("2 | rate = \"85%\""), "{shown}");
    }
}
