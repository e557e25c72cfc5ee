//! A pretty-printed JSON document written with its per-replication rows generated one at a time: the document is printed with every `"per_replication"` array empty, and each is filled, as the text streams out, by rows printed one by one — so the rows of every replication are never held at once (issue 13 item 4), and the text is byte for byte what printing the whole document gives.

use std::io::{self, Write};

/// The key whose empty arrays are filled.
const KEY: &str = "\"per_replication\": []";

/// Writes `head` (a document printed by `serde_json::to_string_pretty` with every
/// `"per_replication"` array empty) to `out`, filling its `k`-th such array (in text order) with
/// the rows `fill(k, emit)` emits, each a value printed by `to_string_pretty`, in order. An array
/// that gets no rows stays `[]`, as the printer writes an empty array.
pub fn splice<W: Write>(
    out: &mut W,
    head: &str,
    mut fill: impl FnMut(usize, &mut dyn FnMut(&str) -> io::Result<()>) -> io::Result<()>,
) -> io::Result<()> {
    let mut rest = head;
    let mut k = 0;
    // only a key at the start of a line (strings hold no raw line breaks, so never inside one)
    while let Some(at) = find_key(rest) {
        let (before, after) = rest.split_at(at);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let indent = before.len() - line_start;
        out.write_all(before.as_bytes())?;
        out.write_all(b"\"per_replication\": [")?;
        let pad = " ".repeat(indent + 2);
        let mut first = true;
        fill(k, &mut |row: &str| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            for (i, line) in row.lines().enumerate() {
                if i > 0 {
                    out.write_all(b"\n")?;
                }
                out.write_all(pad.as_bytes())?;
                out.write_all(line.as_bytes())?;
            }
            Ok(())
        })?;
        if !first {
            out.write_all(b"\n")?;
            out.write_all(" ".repeat(indent).as_bytes())?;
        }
        out.write_all(b"]")?;
        rest = &after[KEY.len()..];
        k += 1;
    }
    out.write_all(rest.as_bytes())
}

/// Where the next empty `"per_replication"` array starts (its key, first on its line).
fn find_key(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(KEY) {
        let at = from + i;
        let line_start = text[..at].rfind('\n').map_or(0, |j| j + 1);
        if text[line_start..at].bytes().all(|b| b == b' ') {
            return Some(at);
        }
        from = at + KEY.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Filling the empty arrays gives the text of the whole document, at any depth, with empty
    /// arrays left empty and a look-alike inside a string left alone.
    #[test]
    fn spliced_rows_print_as_the_whole_document() {
        let rows = |n: u64| -> Vec<serde_json::Value> {
            (0..n)
                .map(
                    |i| json!({"replication": i, "gmv": format!("{i}.5"), "nested": {"a": [i, 2]}}),
                )
                .collect()
        };
        let doc =
            |a: Vec<serde_json::Value>, b: Vec<serde_json::Value>, c: Vec<serde_json::Value>| {
                json!({
                    "name": "x \"per_replication\": [] y",
                    "per_replication": a,
                    "campaigns": [
                        {"id": "one", "per_replication": b},
                        {"id": "two", "per_replication": c},
                    ],
                    "after": 1,
                })
            };
        let whole = serde_json::to_string_pretty(&doc(rows(3), rows(0), rows(2))).unwrap();
        let head = serde_json::to_string_pretty(&doc(vec![], vec![], vec![])).unwrap();
        let mut out = Vec::new();
        let sizes = [3, 0, 2];
        super::splice(&mut out, &head, |k, emit| {
            for r in rows(sizes[k]) {
                emit(&serde_json::to_string_pretty(&r).unwrap())?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), whole);
    }
}
