//! `tree.dat`: the stored hashes of the RFC 6962 tree over the log's entries
//! (32 bytes each, about two per entry, in `sumdb/tlog`'s stored-hash
//! order), from which tiles and proofs are read.
//!
//! The tree is a pure function of the log, so it needs no sync of its own:
//! the writer appends a batch's hashes right after the batch is durable, and
//! the node's open pass, which re-reads every committed entry anyway,
//! recomputes every stored hash and checks it against the file, rewriting
//! from the first hash that is missing or wrong (a crash can leave either).
//! A checkpoint is only ever signed over entries that are durable, with the
//! root of the in-memory frontier that this pass rebuilt.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use dauys_core::tlog::{self, Frontier, HashReader, TreeHash};
use dauys_core::Hash;

use crate::StoreError;

/// The tree file's name.
pub const TREE: &str = "tree.dat";

/// The tree of a data directory, as the writer keeps it.
#[derive(Debug)]
pub struct TreeFile {
    file: Arc<File>,
    frontier: Frontier,
    /// Hashes in the file known good (checked or written).
    written: u64,
    /// During the open pass: the file's stored hashes, read ahead.
    checking: Option<std::io::BufReader<File>>,
    /// During the open pass: hashes to write after the first bad one.
    pending: Vec<u8>,
    /// Whether a stored hash was found missing or wrong on open.
    repaired: bool,
}

impl TreeFile {
    /// Opens (or creates) `dir/tree.dat`, ready to check it entry by entry.
    pub(crate) fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(TREE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(crate::io("opening tree.dat"))?;
        let mut reader = file.try_clone().map_err(crate::io("opening tree.dat"))?;
        reader.seek(SeekFrom::Start(0)).map_err(crate::io("reading tree.dat"))?;
        Ok(Self {
            file: Arc::new(file),
            frontier: Frontier::new(),
            written: 0,
            checking: Some(std::io::BufReader::with_capacity(1 << 20, reader)),
            pending: Vec::new(),
            repaired: false,
        })
    }

    /// The open pass: the next committed entry, in order.
    pub(crate) fn check_next(&mut self, entry: &[u8]) -> Result<(), StoreError> {
        for hash in self.frontier.push(entry) {
            if let Some(reader) = self.checking.as_mut() {
                let mut stored = [0u8; 32];
                match reader.read_exact(&mut stored) {
                    Ok(()) if stored == hash => {
                        self.written += 1;
                        continue;
                    }
                    Ok(()) => {
                        // Wrong (a crash left garbage): rewrite from here.
                        self.checking = None;
                        self.repaired = true;
                    }
                    Err(_) => {
                        // Missing (a new directory, or the file lagged
                        // behind the log at a crash): write from here.
                        self.checking = None;
                    }
                }
            }
            self.pending.extend_from_slice(&hash);
            if self.pending.len() >= 1 << 20 {
                self.flush_pending()?;
            }
        }
        Ok(())
    }

    fn flush_pending(&mut self) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            self.file.write_all_at(&self.pending, self.written * 32).map_err(crate::io("writing tree.dat"))?;
            self.written += self.pending.len() as u64 / 32;
            self.pending.clear();
        }
        Ok(())
    }

    /// Ends the open pass: writes what was rebuilt and cuts anything past
    /// the committed entries. Returns whether the file needed repair.
    pub(crate) fn finish_check(&mut self) -> Result<bool, StoreError> {
        self.checking = None;
        self.flush_pending()?;
        let expected = tlog::stored_hash_count(self.frontier.size());
        debug_assert_eq!(self.written, expected);
        let length = self.file.metadata().map_err(crate::io("reading tree.dat"))?.len();
        if length != expected * 32 {
            self.file.set_len(expected * 32).map_err(crate::io("cutting tree.dat"))?;
        }
        Ok(self.repaired)
    }

    /// Appends the stored hashes of a durable batch.
    pub(crate) fn append(&mut self, entries: &[&[u8]]) -> Result<(), StoreError> {
        for entry in entries {
            for hash in self.frontier.push(entry) {
                self.pending.extend_from_slice(&hash);
            }
        }
        self.flush_pending()
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// A reader of stored hashes for other threads.
    pub fn reader(&self) -> TreeReader {
        TreeReader { file: Arc::clone(&self.file) }
    }
}

/// Reads stored hashes from `tree.dat` on any thread (proofs, tiles).
/// Callers ask only for hashes of committed entries.
#[derive(Debug, Clone)]
pub struct TreeReader {
    file: Arc<File>,
}

impl TreeReader {
    /// Opens `dir/tree.dat` read-only (observers).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let file = File::open(dir.join(TREE)).map_err(crate::io("opening tree.dat"))?;
        Ok(Self { file: Arc::new(file) })
    }

    /// The stored hash at `index`.
    pub fn hash(&self, index: u64) -> std::io::Result<Hash> {
        let mut out = [0u8; 32];
        self.file.read_exact_at(&mut out, index * 32)?;
        Ok(out)
    }
}

impl HashReader for TreeReader {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TreeHash>, dauys_core::tlog::TlogHashError> {
        indexes
            .iter()
            .map(|&i| self.hash(i).map(TreeHash).map_err(|_| dauys_core::tlog::TlogHashError::IndexesNotInTree))
            .collect()
    }
}
