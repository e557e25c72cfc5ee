//! Reading a scenario file: a size cap known before reading (overridable) and encoding errors with their line and column.

use std::io::Read as _;
use std::path::Path;

use super::ScenarioError;

/// The largest scenario file read by default, in bytes (32 MiB; naming 80 000 creators takes
/// about 4 MiB). Set [`MAX_BYTES_ENV`] to raise or lower it.
pub const DEFAULT_MAX_BYTES: u64 = 32 * 1024 * 1024;
/// The environment variable overriding [`DEFAULT_MAX_BYTES`].
pub const MAX_BYTES_ENV: &str = "AFFSIM_MAX_SCENARIO_BYTES";

/// The cap in force: [`MAX_BYTES_ENV`] when set, else [`DEFAULT_MAX_BYTES`].
pub fn max_bytes() -> Result<u64, MaxBytesError> {
    match std::env::var(MAX_BYTES_ENV) {
        Err(_) => Ok(DEFAULT_MAX_BYTES),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or(MaxBytesError(v)),
    }
}

/// The size cap's environment variable holds no number of bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}=`{}`: expected a number of bytes, at least 1", MAX_BYTES_ENV, .0)]
pub struct MaxBytesError(pub String);

/// Reads a scenario file as UTF-8 text, at most [`max_bytes`] of it (a larger file, or an
/// endless one such as `/dev/zero`, is refused once the cap is passed, without reading on).
pub fn read(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let cap = max_bytes().map_err(|e| ScenarioError::whole(&file, e.to_string()))?;
    let f = std::fs::File::open(path)
        .map_err(|e| ScenarioError::whole(&file, format!("cannot read the scenario file: {e}")))?;
    let mut bytes = Vec::new();
    f.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ScenarioError::whole(&file, format!("cannot read the scenario file: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(ScenarioError::whole(
            &file,
            format!(
                "the scenario file is larger than the {cap}-byte cap on scenario files; set {MAX_BYTES_ENV} to a larger number of bytes to read it"
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| not_utf8(&file, e))
}

/// An encoding error, placed at its first bad byte.
fn not_utf8(file: &str, e: std::string::FromUtf8Error) -> ScenarioError {
    let at = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    let bad = bytes[at];
    // the text before the bad byte is valid UTF-8
    let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
    let mut err = ScenarioError::whole(
        file,
        format!(
            "the scenario file is not UTF-8 text: byte 0x{bad:02x} (offset {at}) does not start a character; save the file as UTF-8"
        ),
    );
    err.line = Some(valid.matches('\n').count() + 1);
    err.column = Some(valid[line_start..].chars().count() + 1);
    err.snippet = Some(valid[line_start..].trim_end_matches('\r').to_string());
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_errors_have_a_place() {
        let bytes = b"[scenario]\nname = \"a\xffb\"\n".to_vec();
        let e = not_utf8("x.toml", String::from_utf8(bytes).unwrap_err());
        assert_eq!((e.line, e.column), (Some(2), Some(10)));
        assert!(
            e.to_string()
                .starts_with("x.toml:2:10: the scenario file is not UTF-8"),
            "{e}"
        );
    }
}
