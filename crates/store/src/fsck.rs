//! `dauys fsck`: what is on disk, exactly, and a repair that moves damaged
//! bytes aside (never deletes them) when the operator asks for it.

use std::path::{Path, PathBuf};

use dauys_core::{sha256, Hash};

use crate::log::{LogFormat, Tail};
use crate::reader::{LedgerReader, ReadError};
use crate::{dir, LogFile, Marker, StoreError};

/// What `fsck` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The log file's layout.
    pub format: LogFormat,
    /// Committed entries before any damage.
    pub entries: u64,
    /// Hash of the last of them.
    pub head: Hash,
    /// Commit records read.
    pub batches: u64,
    /// Byte offset where the committed log ends.
    pub committed_end: u64,
    /// The file's length.
    pub file_len: u64,
    /// How the end was judged.
    pub tail: Tail,
    /// The ledger marker, if any.
    pub marker: Option<Marker>,
    /// Whether entry 0 is the genesis the marker names (`None` without a
    /// marker or without entries).
    pub genesis_matches: Option<bool>,
    /// Whether a process (the node) holds the directory's lock now.
    pub locked: bool,
    /// Files already kept aside in `damaged/`.
    pub kept_aside: Vec<PathBuf>,
}

impl Report {
    /// Whether the log needs no repair.
    pub fn is_clean(&self) -> bool {
        self.tail == Tail::Clean && self.genesis_matches != Some(false) && self.entries > 0
    }
}

/// Inspects `dir` without changing anything.
pub fn inspect(path: &Path) -> Result<Report, StoreError> {
    let marker = Marker::read(path).map_err(crate::io("reading the ledger marker"))?;
    let reader = LedgerReader::open(path)?;
    let mut genesis: Option<Hash> = None;
    let scan = reader
        .scan(|position, entry| {
            if position == 0 {
                genesis = Some(sha256(entry));
            }
            Ok::<(), ()>(())
        })
        .map_err(|error| match error {
            ReadError::Store(e) => e,
            ReadError::Stopped(()) => {
                StoreError::Io { context: "scanning".into(), source: std::io::Error::other("stopped") }
            }
        })?;
    let locked = is_locked(path);
    let mut kept_aside: Vec<PathBuf> = std::fs::read_dir(path.join(dir::DAMAGED))
        .map(|entries| {
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "bin")).collect()
        })
        .unwrap_or_default();
    kept_aside.sort();
    Ok(Report {
        format: scan.format,
        entries: scan.size,
        head: scan.head,
        batches: scan.batches,
        committed_end: scan.end,
        file_len: scan.file_len,
        tail: scan.tail,
        genesis_matches: marker.as_ref().zip(genesis).map(|(m, g)| m.genesis == g),
        marker,
        locked,
        kept_aside,
    })
}

fn is_locked(path: &Path) -> bool {
    // Probing takes the lock for an instant only if nobody holds it; the
    // lock file is created if missing, nothing else is touched.
    match std::fs::OpenOptions::new().read(true).open(path.join(dir::LOCK)) {
        Ok(file) => match file.try_lock_shared() {
            Ok(()) => {
                let _ = file.unlock();
                false
            }
            Err(_) => true,
        },
        Err(_) => false,
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Bytes moved out of `log.dat`.
    pub moved_bytes: u64,
    /// Where they are now.
    pub kept_at: Option<PathBuf>,
    /// Entries left in the log.
    pub entries: u64,
}

/// Repairs `dir` with the operator's consent: everything after the last
/// good commit is copied into `damaged/` (synced), then cut from `log.dat`.
/// Refuses while another process holds the directory.
pub fn repair(path: &Path) -> Result<Repair, StoreError> {
    let _lock = dir::lock(path).map_err(|e| StoreError::Locked(e.to_string()))?;
    let report = inspect(path)?;
    if report.format == LogFormat::Legacy {
        return Err(StoreError::Io {
            context: "repairing".into(),
            source: std::io::Error::other(
                "this log is in format 1; start the node once to rewrite it in format 2, or repair a copy by hand",
            ),
        });
    }
    let reason = match &report.tail {
        Tail::Clean => return Ok(Repair { moved_bytes: 0, kept_at: None, entries: report.entries }),
        Tail::Torn { reason, .. } => reason.clone(),
        Tail::Corrupt(damage) => format!(
            "fsck --repair: damage at position {} (byte {}): {}",
            damage.position, damage.offset, damage.problem
        ),
    };
    let log_path = path.join(dir::LOG);
    let mut file =
        std::fs::OpenOptions::new().read(true).write(true).open(&log_path).map_err(crate::io("opening log.dat"))?;
    let start = report.committed_end;
    let mut bytes = vec![0u8; usize::try_from(report.file_len - start).unwrap_or(0)];
    LogFile::read_exact_at(&file, &mut bytes, start).map_err(crate::io("reading the damaged bytes"))?;
    let kept = dir::keep_aside(path, start, &bytes, &reason).map_err(crate::io("keeping the damaged bytes aside"))?;
    LogFile::truncate(&mut file, start).map_err(crate::io("cutting log.dat"))?;
    Ok(Repair { moved_bytes: bytes.len() as u64, kept_at: Some(kept), entries: report.entries })
}
