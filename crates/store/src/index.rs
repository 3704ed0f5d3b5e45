//! The acts-by-author index, rebuilt from the log whenever it cannot be
//! trusted.
//!
//! Two parts, both far smaller than the log:
//! - sled, one key per author: `author → last position ‖ count`;
//! - `index/prev.dat`, eight bytes per entry: the position of the same
//!   author's previous entry (`u64::MAX` for none). An author's acts are a
//!   chain walked backwards from the last one.
//!
//! Nothing here is synced on the write path: the log is the truth. On a
//! clean shutdown both parts are flushed and a `clean` flag is set; a start
//! that finds no flag, or parts that disagree with the log's size, rebuilds
//! the index during the same pass that re-reads the log.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::StoreError;

/// No previous act by this author.
const NONE: u64 = u64::MAX;

/// The index of one data directory.
pub struct Index {
    db: sled::Db,
    authors: sled::Tree,
    meta: sled::Tree,
    prev: File,
    /// Entries indexed.
    size: u64,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("size", &self.size).finish()
    }
}

fn author_record(last: u64, count: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&last.to_be_bytes());
    out[8..].copy_from_slice(&count.to_be_bytes());
    out
}

fn parse_record(bytes: &[u8]) -> Option<(u64, u64)> {
    let last = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let count = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some((last, count))
}

impl Index {
    /// Opens the index in `dir/index`. Returns the number of entries it
    /// vouches for: `Some(n)` only if it was closed cleanly with both parts
    /// agreeing on `n`; otherwise the caller rebuilds it ([`Index::reset`],
    /// then [`Index::record`] for every entry). A damaged sled database (an
    /// error that is not IO, or a panic) is removed and started afresh; an
    /// IO error (a full disk, say) is returned and nothing is removed.
    pub fn open(dir: &Path) -> Result<(Self, Option<u64>), StoreError> {
        let path = dir.join("index");
        std::fs::create_dir_all(&path).map_err(crate::io("creating the index directory"))?;
        let db_path = path.join("sled");
        let opened = std::panic::catch_unwind(|| sled::open(&db_path));
        let (db, damaged) = match opened {
            Ok(Ok(db)) => (db, false),
            Ok(Err(sled::Error::Io(e))) => {
                return Err(StoreError::Io { context: "opening the index".into(), source: e })
            }
            failed => {
                let problem = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => "sled panicked while opening".to_owned(),
                };
                tracing::warn!(%problem, "the index is damaged; rebuilding it from the log");
                std::fs::remove_dir_all(&db_path).map_err(crate::io("removing the damaged index"))?;
                (sled::open(&db_path)?, true)
            }
        };
        let authors = db.open_tree("authors")?;
        let meta = db.open_tree("meta")?;
        let prev = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path.join("prev.dat"))
            .map_err(crate::io("opening index/prev.dat"))?;
        let clean = meta.get("clean")?.is_some_and(|v| v.as_ref() == [1]);
        let indexed = meta.get("indexed")?.and_then(|v| v.as_ref().try_into().ok()).map(u64::from_be_bytes);
        let prev_len = prev.metadata().map_err(crate::io("reading index/prev.dat"))?.len();
        let vouched = indexed.filter(|&n| !damaged && clean && prev_len == n * 8);
        // From now on the index is being written: unclean until closed.
        meta.insert("clean", &[0])?;
        db.flush()?;
        let size = vouched.unwrap_or(0);
        Ok((Self { db, authors, meta, prev, size }, vouched))
    }

    /// Empties the index, to rebuild it from the first entry.
    pub fn reset(&mut self) -> Result<(), StoreError> {
        self.authors.clear()?;
        self.prev.set_len(0).map_err(crate::io("clearing index/prev.dat"))?;
        self.size = 0;
        self.meta.insert("indexed", &0u64.to_be_bytes())?;
        Ok(())
    }

    /// Entries indexed.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Indexes the next entries, given their authors in position order.
    pub fn record(&mut self, authors: &[[u8; 32]]) -> Result<(), StoreError> {
        let mut prev_bytes = Vec::with_capacity(authors.len() * 8);
        let mut batch = sled::Batch::default();
        let mut seen: std::collections::HashMap<[u8; 32], (u64, u64)> = std::collections::HashMap::new();
        for (i, author) in authors.iter().enumerate() {
            let position = self.size + i as u64;
            let (last, count) = match seen.get(author) {
                Some(&record) => record,
                None => self.authors.get(author)?.and_then(|v| parse_record(&v)).unwrap_or((NONE, 0)),
            };
            prev_bytes.extend_from_slice(&last.to_be_bytes());
            seen.insert(*author, (position, count + 1));
        }
        for (author, (last, count)) in &seen {
            batch.insert(author.as_slice(), author_record(*last, *count).as_slice());
        }
        FileExt::write_all_at(&self.prev, &prev_bytes, self.size * 8).map_err(crate::io("writing index/prev.dat"))?;
        self.authors.apply_batch(batch)?;
        self.size += authors.len() as u64;
        self.meta.insert("indexed", &self.size.to_be_bytes())?;
        Ok(())
    }

    /// Positions of `author`'s entries, newest first: at most `limit`,
    /// older than `before` when given. Also the author's total.
    pub fn acts(&self, author: &[u8; 32], before: Option<u64>, limit: usize) -> Result<(Vec<u64>, u64), StoreError> {
        acts(&self.authors, &self.prev, author, before, limit)
    }

    /// A handle that reads the index from other threads.
    pub fn reader(&self) -> Result<IndexReader, StoreError> {
        Ok(IndexReader {
            authors: self.authors.clone(),
            prev: std::sync::Arc::new(self.prev.try_clone().map_err(crate::io("sharing index/prev.dat"))?),
        })
    }
}

/// Reads acts by author from any thread while the writer indexes.
#[derive(Clone)]
pub struct IndexReader {
    authors: sled::Tree,
    prev: std::sync::Arc<File>,
}

impl std::fmt::Debug for IndexReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexReader").finish()
    }
}

impl IndexReader {
    /// See [`Index::acts`]. Positions not yet committed may appear briefly;
    /// callers keep those below the published size.
    pub fn acts(&self, author: &[u8; 32], before: Option<u64>, limit: usize) -> Result<(Vec<u64>, u64), StoreError> {
        acts(&self.authors, &self.prev, author, before, limit)
    }
}

fn acts(
    authors: &sled::Tree,
    prev: &File,
    author: &[u8; 32],
    before: Option<u64>,
    limit: usize,
) -> Result<(Vec<u64>, u64), StoreError> {
    let Some((last, count)) = authors.get(author)?.and_then(|v| parse_record(&v)) else {
        return Ok((Vec::new(), 0));
    };
    let mut out = Vec::new();
    let mut position = last;
    while position != NONE && out.len() < limit {
        if before.is_none_or(|b| position < b) {
            out.push(position);
        }
        let mut bytes = [0u8; 8];
        prev.read_exact_at(&mut bytes, position * 8).map_err(crate::io("reading index/prev.dat"))?;
        let previous = u64::from_be_bytes(bytes);
        if previous != NONE && previous >= position {
            return Err(StoreError::Corrupt {
                position,
                offset: position * 8,
                problem: "index/prev.dat does not point backwards".into(),
            });
        }
        position = previous;
    }
    Ok((out, count))
}

impl Index {
    /// Flushes both parts and marks the index clean (a graceful stop).
    pub fn close(&self) -> Result<(), StoreError> {
        self.prev.sync_all().map_err(crate::io("syncing index/prev.dat"))?;
        self.db.flush()?;
        self.meta.insert("clean", &[1])?;
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the index takes on disk.
    pub fn disk_bytes(dir: &Path) -> u64 {
        fn walk(path: &Path) -> u64 {
            match std::fs::read_dir(path) {
                Ok(entries) => entries
                    .flatten()
                    .map(|e| {
                        let p = e.path();
                        if p.is_dir() {
                            walk(&p)
                        } else {
                            e.metadata().map(|m| m.len()).unwrap_or(0)
                        }
                    })
                    .sum(),
                Err(_) => 0,
            }
        }
        walk(&dir.join("index"))
    }
}
