//! `summary.json`'s per-replication rows (the run's, each campaign's, each seller's) printed as each replication arrives and set aside in files of the staging folder, so that a whole run keeps no replication's rows until its report is written (issue 13 item 4); [`RowSpill::emit`] gives them back, in order, to [`rows::splice`](super::rows::splice).

use std::fs;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::experiment::summary::replication_row;
use crate::metrics::campaigns::{
    CampaignRow, SellerRow, campaign_replication, campaign_replication_of, seller_replication,
    seller_replication_of,
};
use crate::sim::Replication;

/// The folder, inside the staging folder, the rows are set aside in (removed once spliced).
const SPILL: &str = ".rows";
/// Bytes a list's rows are held in memory before they are appended to its file.
const BUFFER: usize = 16 << 10;

/// One list of rows (a `per_replication` array): its file, the rows not yet written to it, and
/// how many replications had arrived before it was first seen (their rows are zero rows).
struct List {
    key: String,
    file: PathBuf,
    buf: Vec<u8>,
    before: u32,
}

impl List {
    fn push(&mut self, row: &str) -> std::io::Result<()> {
        // each row as its length and its text (pretty-printed: several lines)
        writeln!(self.buf, "{}", row.len())?;
        self.buf.extend_from_slice(row.as_bytes());
        if self.buf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)?
                .write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// The rows of a whole run's replications (indices 0, 1, … in order), set aside as they
/// arrive.
pub struct RowSpill {
    dir: PathBuf,
    arrived: u32,
    run: List,
    campaigns: Vec<List>,
    sellers: Vec<List>,
}

/// The zero row of a replication without the list's campaign or seller.
type ZeroRow<'a> = Box<dyn Fn(u32) -> std::io::Result<String> + 'a>;

fn text<T: serde::Serialize>(v: &T) -> std::io::Result<String> {
    serde_json::to_string_pretty(v).map_err(std::io::Error::other)
}

impl RowSpill {
    /// Sets rows aside in `dir`'s spill folder.
    pub fn new(dir: &Path) -> Result<RowSpill> {
        let dir = dir.join(SPILL);
        fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(RowSpill {
            run: List {
                key: String::new(),
                file: dir.join("run"),
                buf: Vec::new(),
                before: 0,
            },
            dir,
            arrived: 0,
            campaigns: Vec::new(),
            sellers: Vec::new(),
        })
    }

    fn list(lists: &mut Vec<List>, dir: &Path, kind: &str, key: &str, before: u32) -> usize {
        lists.iter().position(|l| l.key == key).unwrap_or_else(|| {
            lists.push(List {
                key: key.to_string(),
                file: dir.join(format!("{kind}-{}", lists.len())),
                buf: Vec::new(),
                before,
            });
            lists.len() - 1
        })
    }

    /// Sets aside replication `r`'s rows (the next index of the run): its run row and a row
    /// of every campaign and seller seen so far (zero rows where it has none).
    pub fn add(&mut self, r: &Replication) -> Result<()> {
        anyhow::ensure!(
            r.index == self.arrived,
            "replication {} arrived in place of {}",
            r.index,
            self.arrived
        );
        self.run.push(&text(&replication_row(r))?)?;
        for c in &r.campaigns.campaigns {
            Self::list(&mut self.campaigns, &self.dir, "c", &c.id, self.arrived);
        }
        for s in &r.campaigns.sellers {
            Self::list(&mut self.sellers, &self.dir, "s", &s.seller, self.arrived);
        }
        for l in &mut self.campaigns {
            l.push(&text(&campaign_replication(r, &l.key))?)?;
        }
        for l in &mut self.sellers {
            l.push(&text(&seller_replication(r, &l.key))?)?;
        }
        self.arrived += 1;
        Ok(())
    }

    /// Emits the rows of the `k`-th `per_replication` array of a summary whose campaigns and
    /// sellers are `campaigns` and `sellers` (in its order): the run's, then each campaign's,
    /// then each seller's.
    pub fn emit(
        &mut self,
        k: usize,
        campaigns: &[&str],
        sellers: &[&str],
        emit: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let missing = || std::io::Error::other("a list of rows was not set aside");
        let (list, zero): (&mut List, ZeroRow<'_>) = match k {
            0 => (&mut self.run, Box::new(|_| Err(missing()))),
            k if k <= campaigns.len() => {
                let key = campaigns[k - 1];
                let l = self.campaigns.iter_mut().find(|l| l.key == key);
                (
                    l.ok_or_else(missing)?,
                    Box::new(|i| text(&campaign_replication_of(i, &CampaignRow::default()))),
                )
            }
            k if k <= campaigns.len() + sellers.len() => {
                let key = sellers[k - 1 - campaigns.len()];
                let l = self.sellers.iter_mut().find(|l| l.key == key);
                (
                    l.ok_or_else(missing)?,
                    Box::new(|i| text(&seller_replication_of(i, &SellerRow::default()))),
                )
            }
            _ => return Ok(()),
        };
        for i in 0..list.before {
            emit(&zero(i)?)?;
        }
        list.flush()?;
        let f = match fs::File::open(&list.file) {
            Ok(f) => f,
            // no row was ever set aside
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut r = std::io::BufReader::with_capacity(1 << 16, f);
        let (mut len, mut row) = (String::new(), Vec::new());
        loop {
            len.clear();
            if r.read_line(&mut len)? == 0 {
                return Ok(());
            }
            let n: usize = len
                .trim_end()
                .parse()
                .map_err(|_| std::io::Error::other("a row set aside is damaged"))?;
            row.resize(n, 0);
            r.read_exact(&mut row)?;
            emit(std::str::from_utf8(&row).map_err(std::io::Error::other)?)?;
        }
    }

    /// Removes the spill folder.
    pub fn remove(self) -> std::io::Result<()> {
        fs::remove_dir_all(&self.dir)
    }
}
