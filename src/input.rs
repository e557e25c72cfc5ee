//! Reading the files affsim is handed besides scenarios (partials, manifests, timing and observed files): regular files only, under a size cap checked before reading.
//!
//! A device (`/dev/zero`), a FIFO or a folder given where a file is expected — directly or
//! through a symbolic link — is refused by its type, never read until memory runs out or
//! forever; a regular file above the cap is refused by its size, before it is read.

use std::io::Read as _;
use std::path::Path;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a regular file (a device, a FIFO or a folder): refusing to read it")]
    NotAFile { path: String },
    #[error("{path} is {size} bytes, above the {cap}-byte cap on {what}")]
    TooLarge {
        path: String,
        size: u64,
        cap: u64,
        what: &'static str,
    },
    #[error("{path} is not UTF-8 text")]
    NotUtf8 { path: String },
}

/// The size of `path` when it is a regular file (a symbolic link is followed); an error for a
/// device, a FIFO, a folder or a missing file.
pub fn regular_file(path: &Path) -> Result<u64, InputError> {
    let shown = || path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        path: shown(),
        source,
    })?;
    if !meta.is_file() {
        return Err(InputError::NotAFile { path: shown() });
    }
    Ok(meta.len())
}

/// Reads a regular file of at most `cap` bytes as text; `what` names such files in the error.
pub fn read_text(path: &Path, cap: u64, what: &'static str) -> Result<String, InputError> {
    let shown = || path.display().to_string();
    let size = regular_file(path)?;
    let too_large = |size| InputError::TooLarge {
        path: shown(),
        size,
        cap,
        what,
    };
    if size > cap {
        return Err(too_large(size));
    }
    let f = std::fs::File::open(path).map_err(|source| InputError::Io {
        path: shown(),
        source,
    })?;
    let mut bytes = Vec::with_capacity(size as usize);
    // a file growing while it is read stops at the cap too
    f.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            path: shown(),
            source,
        })?;
    if bytes.len() as u64 > cap {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 { path: shown() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_refused_by_type() {
        for p in ["/dev/zero", "/dev/null", "/"] {
            let e = read_text(Path::new(p), 1 << 20, "test files").unwrap_err();
            assert!(matches!(e, InputError::NotAFile { .. }), "{p}: {e}");
        }
    }

    #[test]
    fn files_above_the_cap_are_refused_before_reading() {
        let dir = std::env::temp_dir().join(format!("affsim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("big.json");
        std::fs::write(&f, "x".repeat(100)).unwrap();
        let e = read_text(&f, 99, "test files").unwrap_err();
        assert!(
            e.to_string()
                .contains("100 bytes, above the 99-byte cap on test files")
        );
        assert_eq!(read_text(&f, 100, "test files").unwrap().len(), 100);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
