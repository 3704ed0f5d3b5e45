//! The read-only view of a data directory, for observers and operators:
//! `dauys export DIR`, `dauys verify DIR` and `dauys fsck DIR`.
//!
//! It opens `log.dat` for reading only. It never takes the directory's lock,
//! never creates, cuts or deletes a file, never opens sled, and reads only
//! batches whose commit record it has checked, so it is safe to run while
//! the node writes: a batch being written is simply not read yet.

use std::fs::File;
use std::path::Path;

use crate::log::{self, Scan, ScanError, Tail};
use crate::{dir, StoreError};

/// A data directory opened for reading.
#[derive(Debug)]
pub struct LedgerReader {
    file: File,
    dir: String,
}

/// How a read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEnd {
    /// Committed entries read.
    pub entries: u64,
    /// How the end of the file was judged (nothing is cut).
    pub tail: Tail,
}

impl ReadEnd {
    /// A sentence for the operator when the file does not end cleanly.
    pub fn note(&self) -> Option<String> {
        match &self.tail {
            Tail::Clean => None,
            Tail::Torn { offset, bytes, .. } => Some(format!(
                "read {} committed entries; {bytes} more bytes at byte {offset} belong to a batch not yet committed \
                 (being written by the node, or left by a crash; the node keeps them aside at its next start)",
                self.entries
            )),
            Tail::Corrupt(damage) => Some(format!(
                "the log is damaged at position {} (byte {}): {}; run `dauys fsck`",
                damage.position, damage.offset, damage.problem
            )),
        }
    }
}

impl LedgerReader {
    /// Opens `dir/log.dat` read-only.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let log_path = path.join(dir::LOG);
        match File::open(&log_path) {
            Ok(file) => Ok(Self { file, dir: path.display().to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotALedger { dir: path.display().to_string(), why: "there is no log.dat in it".into() })
            }
            Err(e) => Err(StoreError::Io { context: format!("opening {}", log_path.display()), source: e }),
        }
    }

    /// Calls `each(position, entry)` for every committed entry, in order,
    /// and says how the file ended. Damage is reported, never repaired; the
    /// entries before it are still delivered.
    pub fn for_each<E>(&self, each: impl FnMut(u64, &[u8]) -> Result<(), E>) -> Result<ReadEnd, ReadError<E>> {
        let scan = self.scan(each)?;
        Ok(ReadEnd { entries: scan.size, tail: scan.tail })
    }

    /// The full scan (for `fsck`).
    pub fn scan<E>(&self, each: impl FnMut(u64, &[u8]) -> Result<(), E>) -> Result<Scan, ReadError<E>> {
        log::scan(&self.file, each).map_err(|error| match error {
            ScanError::Io(e) => {
                ReadError::Store(StoreError::Io { context: format!("reading {}/log.dat", self.dir), source: e })
            }
            ScanError::Header => ReadError::Store(StoreError::Corrupt {
                position: 0,
                offset: 0,
                problem: "the log file header is damaged".into(),
            }),
            ScanError::Stopped(e) => ReadError::Stopped(e),
        })
    }
}

/// Why a read stopped.
#[derive(Debug)]
pub enum ReadError<E> {
    /// The store could not be read.
    Store(StoreError),
    /// The callback stopped it.
    Stopped(E),
}
