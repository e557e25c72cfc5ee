//! Output folders written atomically and replaced safely: staged aside, a manifest of every file affsim wrote, `--force` limited to what that manifest lists.
//!
//! A report, shard or sweep folder is written into a temporary sibling
//! (`.NAME.affsim-PID-N.partial`) and renamed into place only when complete, with
//! [`MANIFEST`] listing every file in it, affsim's version and the manifest format. `--force`
//! replaces only a folder with a manifest whose files are all listed: the old folder is moved to
//! a per-run aside (`.NAME.affsim-PID-N.old`), the new one renamed into place, and only the
//! listed files of the old one are removed. A folder affsim did not write, or one holding files
//! it did not write, is refused. Temporary folders and asides left by a process that no longer
//! runs (killed with SIGKILL, a power cut) are removed by the next run writing beside them.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// The manifest every output folder carries.
pub const MANIFEST: &str = "affsim-manifest.json";
/// The manifest's format version.
pub const MANIFEST_FORMAT: u32 = 1;
/// The mark inside a temporary folder: it holds the writing process's id.
const STAGING_MARK: &str = ".affsim-staging";
/// Bytes of the destination's name kept in temporary names (a name may be up to 255 bytes).
const NAME_KEEP: usize = 64;
/// Attempts at moving the folder into place when other runs race for the same destination.
const ATTEMPTS: u32 = 64;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A folder being written; [`Staged::commit`] moves it into place.
pub struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    force: bool,
    renumber: bool,
}

/// The destination's name, cut to [`NAME_KEEP`] bytes at a character boundary.
fn short_name(dest: &Path) -> String {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let mut end = name.len().min(NAME_KEEP);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

fn parent_of(dest: &Path) -> &Path {
    dest.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A fresh per-run sibling name: `.NAME.affsim-PID-N.SUFFIX`.
fn sibling(dest: &Path, suffix: &str) -> PathBuf {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    parent_of(dest).join(format!(
        ".{}.affsim-{}-{n}.{suffix}",
        short_name(dest),
        std::process::id()
    ))
}

impl Staged {
    /// Starts writing a folder destined for `dest`. Refuses an existing `dest` unless `force`
    /// (and then only a folder affsim wrote, checked now, before any work).
    pub fn new(dest: &Path, force: bool) -> Result<Staged> {
        Staged::create(dest, force, false)
    }

    /// Starts writing a folder under a default name: if another run takes `dest` first, the
    /// folder goes to the next free name (`dest-2`, `dest-3`, …) instead of failing.
    pub fn new_default(dest: &Path, force: bool) -> Result<Staged> {
        Staged::create(dest, force, true)
    }

    fn create(dest: &Path, force: bool, renumber: bool) -> Result<Staged> {
        if dest.exists() && !force && !renumber {
            bail!(
                "{} already exists; pass --force to replace it, or choose another --out",
                dest.display()
            );
        }
        if dest.exists()
            && force
            && let Err(e) = check_replaceable(dest)
            // another run may be moving it aside this very moment: gone is fine
            && dest.symlink_metadata().is_ok()
        {
            return Err(e);
        }
        let parent = parent_of(dest);
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        clean_stale(parent);
        let tmp = loop {
            let tmp = sibling(dest, "partial");
            match fs::create_dir(&tmp) {
                Ok(()) => break tmp,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", tmp.display()));
                }
            }
        };
        let staged = Staged {
            tmp,
            dest: dest.to_path_buf(),
            force,
            renumber,
        };
        fs::write(
            staged.tmp.join(STAGING_MARK),
            std::process::id().to_string(),
        )
        .with_context(|| format!("cannot write into {}", staged.tmp.display()))?;
        Ok(staged)
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Writes the manifest and moves the finished folder into place (replacing an existing
    /// one when forced; the next free name for a default folder that another run took).
    pub fn commit(self) -> Result<PathBuf> {
        let _ = fs::remove_file(self.tmp.join(STAGING_MARK));
        write_manifest(&self.tmp)?;
        let mut dest = self.dest.clone();
        let mut next = 2u32;
        for _ in 0..ATTEMPTS {
            if dest.symlink_metadata().is_ok() {
                if self.renumber && !self.force {
                    dest = numbered(&self.dest, &mut next);
                    continue;
                }
                if !self.force {
                    bail!(
                        "{} appeared while the output was being written",
                        dest.display()
                    );
                }
                let files = match check_replaceable(&dest) {
                    Ok(files) => files,
                    // another run moved it aside while it was read: look again
                    Err(_) if dest.symlink_metadata().is_err() => continue,
                    Err(e) => return Err(e),
                };
                // Move the old folder aside first (a per-run name), so a failed rename loses
                // nothing and concurrent runs never share an aside.
                let aside = sibling(&dest, "old");
                match fs::rename(&dest, &aside) {
                    Ok(()) => {}
                    // another run moved it first: look again
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!("cannot move the old folder {} aside", dest.display())
                        });
                    }
                }
                if let Err(e) = fs::rename(&self.tmp, &dest) {
                    if dest.symlink_metadata().is_ok() {
                        // another run put its folder there between the two renames: the old
                        // folder is replaced either way; look again (forced: the last wins)
                        remove_listed(&aside, &files);
                        continue;
                    }
                    let _ = fs::rename(&aside, &dest);
                    return Err(e)
                        .with_context(|| format!("cannot move the output to {}", dest.display()));
                }
                remove_listed(&aside, &files);
                return Ok(self.done(dest));
            }
            match fs::rename(&self.tmp, &dest) {
                Ok(()) => return Ok(self.done(dest)),
                // another run put its folder there in the meantime: look again
                Err(_) if dest.symlink_metadata().is_ok() => continue,
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot move the output to {}", dest.display()));
                }
            }
        }
        bail!(
            "cannot move the output to {}: other runs kept taking it",
            self.dest.display()
        )
    }

    fn done(self, dest: PathBuf) -> PathBuf {
        std::mem::forget(self);
        dest
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// `base-N`, N counting up from `*next`.
fn numbered(base: &Path, next: &mut u32) -> PathBuf {
    let name = base
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let p = base.with_file_name(format!("{name}-{next}"));
    *next += 1;
    p
}

/// Every file under `dir` (not following symbolic links), as relative `/`-separated paths;
/// directories with no files in them are returned separately.
fn walk(dir: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let (mut files, mut empty_dirs) = (Vec::new(), Vec::new());
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        let mut any = false;
        for entry in fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))? {
            let entry = entry?;
            any = true;
            let name = entry.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), r));
            } else {
                files.push(r);
            }
        }
        if !any && !rel.is_empty() {
            empty_dirs.push(rel);
        }
    }
    files.sort();
    Ok((files, empty_dirs))
}

/// Writes `value` as pretty JSON with a final newline to `dir/name`: every JSON document of an
/// output folder (summary, sweep, lift, sensitivity, calibration) is written through here.
pub fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    fs::write(dir.join(name), text)?;
    Ok(())
}

/// Writes `value` as compact JSON to `dir/name` (a shard's partial result).
pub fn write_json_compact(dir: &Path, name: &str, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string(value)?;
    fs::write(dir.join(name), text)?;
    Ok(())
}

/// Writes a single file outside an output folder (`--timing FILE`): through a temporary
/// sibling renamed into place, so a reader never sees it half-written.
pub fn replace_file(file: &Path, text: &str) -> std::io::Result<()> {
    let tmp = file.with_file_name(format!(
        ".{}.affsim-{}.tmp",
        file.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    fs::write(&tmp, text)
        .and_then(|()| fs::rename(&tmp, file))
        .inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
}

/// What kind of output a folder holds, from its files.
fn kind_of(files: &[String]) -> &'static str {
    let has = |f: &str| files.iter().any(|x| x == f);
    if has("partial.json") {
        "shard"
    } else if has("sweep-partial.json") {
        "sweep-shard"
    } else if has("sweep.json") {
        "sweep"
    } else {
        "report"
    }
}

/// The manifest (`affsim-manifest.json`): affsim's version, the manifest format, what the
/// folder holds and every file affsim wrote in it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub affsim: String,
    pub format: u64,
    /// `report`, `shard`, `sweep` or `sweep-shard`.
    #[serde(default)]
    pub kind: String,
    pub files: Vec<String>,
}

fn write_manifest(dir: &Path) -> Result<()> {
    let (files, _) = walk(dir)?;
    let doc = Manifest {
        affsim: env!("CARGO_PKG_VERSION").to_string(),
        format: MANIFEST_FORMAT.into(),
        kind: kind_of(&files).to_string(),
        files,
    };
    fs::write(
        dir.join(MANIFEST),
        serde_json::to_string_pretty(&doc)? + "\n",
    )
    .with_context(|| format!("cannot write {}", dir.join(MANIFEST).display()))
}

/// A manifest's list of files, each a plain relative path (no `..`, no root).
fn read_manifest(dir: &Path) -> Result<Vec<String>> {
    let file = dir.join(MANIFEST);
    if file.symlink_metadata().is_err() {
        anyhow::bail!(
            "refusing to replace {}: it has no {MANIFEST}, so affsim did not write it \
             (remove it yourself, or choose another --out)",
            dir.display()
        );
    }
    // a manifest lists file names: 16 MiB is far above any affsim wrote
    let text = crate::input::read_text(&file, 16 << 20, "manifests")
        .with_context(|| format!("refusing to replace {}", dir.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "refusing to replace {}: {MANIFEST} is not JSON",
            dir.display()
        )
    })?;
    let files = serde_json::from_value::<Manifest>(doc)
        .map(|m| m.files)
        .map_err(|_| {
            anyhow::anyhow!(
                "refusing to replace {}: {MANIFEST} is not an affsim manifest",
                dir.display()
            )
        })?;
    let mut out = Vec::new();
    for s in &files {
        let plain = !s.is_empty()
            && s != MANIFEST
            && Path::new(s)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            bail!(
                "refusing to replace {}: {MANIFEST} lists `{s}`, not a file inside the folder",
                dir.display()
            );
        }
        out.push(s.clone());
    }
    Ok(out)
}

/// `--force` replaces only a folder affsim wrote: one with a manifest listing every file in it,
/// which is not the current folder or one of its parents, nor a symbolic link. Returns the
/// listed files.
pub fn check_replaceable(dest: &Path) -> Result<Vec<String>> {
    let meta = dest
        .symlink_metadata()
        .with_context(|| format!("cannot read {}", dest.display()))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        bail!(
            "refusing to replace {}: it is not a folder affsim wrote",
            dest.display()
        );
    }
    let canon =
        fs::canonicalize(dest).with_context(|| format!("cannot resolve {}", dest.display()))?;
    if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize)
        && cwd.starts_with(&canon)
    {
        bail!(
            "refusing to replace {}: it is the current folder or contains it",
            dest.display()
        );
    }
    let listed = read_manifest(dest)?;
    let set: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    let (files, empty_dirs) = walk(dest)?;
    let mut foreign: Vec<String> = files
        .into_iter()
        .filter(|f| f != MANIFEST && !set.contains(f.as_str()))
        .chain(empty_dirs.into_iter().map(|d| d + "/"))
        .collect();
    if !foreign.is_empty() {
        let n = foreign.len();
        foreign.truncate(5);
        bail!(
            "refusing to replace {}: it holds {n} file(s) affsim did not write ({}{}); move them \
             away first, or choose another --out",
            dest.display(),
            foreign.join(", "),
            if n > 5 { ", …" } else { "" }
        );
    }
    Ok(listed)
}

/// Removes the listed files of a replaced folder, then its emptied subfolders, its manifest
/// and the folder itself; anything else found there is left in place.
fn remove_listed(dir: &Path, files: &[String]) {
    let mut dirs = BTreeSet::new();
    for f in files {
        let _ = fs::remove_file(dir.join(f));
        let mut p = Path::new(f).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_path_buf());
            p = d.parent();
        }
    }
    // deepest first
    for d in dirs.iter().rev() {
        let _ = fs::remove_dir(dir.join(d));
    }
    if fs::read_dir(dir)
        .map(|mut r| r.all(|e| e.map(|e| e.file_name() == MANIFEST).unwrap_or(false)))
        .unwrap_or(false)
    {
        let _ = fs::remove_file(dir.join(MANIFEST));
        let _ = fs::remove_dir(dir);
    }
}

/// Whether process `pid` still runs (where that cannot be known, it is assumed to).
fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// The process id in a temporary or aside name `.NAME.affsim-PID-N.SUFFIX`.
fn pid_in(name: &str, suffix: &str) -> Option<u32> {
    let stem = name.strip_prefix('.')?.strip_suffix(suffix)?;
    let (_, tail) = stem.rsplit_once(".affsim-")?;
    let (pid, n) = tail.split_once('-')?;
    n.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Removes temporary folders and asides beside `dest` left by processes that no longer run:
/// a temporary folder only with its staging mark in it, an aside only with a manifest.
fn clean_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let me = std::process::id();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if let Some(pid) = pid_in(&name, ".partial") {
            if pid != me && !alive(pid) && path.join(STAGING_MARK).is_file() {
                let _ = fs::remove_dir_all(&path);
            }
        } else if let Some(pid) = pid_in(&name, ".old")
            && pid != me
            && !alive(pid)
            && let Ok(files) = check_replaceable(&path)
        {
            remove_listed(&path, &files);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_carry_the_pid_and_stay_short() {
        let long = "x".repeat(250);
        let t = sibling(Path::new(&long), "partial");
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.len() < 120, "{name}");
        assert_eq!(pid_in(&name, ".partial"), Some(std::process::id()));
        assert_eq!(pid_in(".thesis.partial", ".partial"), None);
    }
}
