//! The durable log of one ledger, and everything on disk around it.
//!
//! - [`log`]: `log.dat`, the source of truth: checksummed entry records in
//!   batches, each closed by a commit record and made durable by one
//!   `fdatasync` (group commit) before anyone is told it was accepted; and
//!   how a crash is told apart from corruption.
//! - [`Store`]: the writer's view of a data directory. It takes the
//!   directory's exclusive lock, checks the ledger marker, re-reads the
//!   whole log (calling back for every entry, so the node replays it in the
//!   same pass), keeps a torn tail aside before cutting it, and keeps the
//!   acts-by-author [`index`] in step.
//! - [`reader`]: the read-only view for observers (`export`, `verify`,
//!   `fsck`): never locks, creates, cuts or deletes anything, never opens
//!   sled, reads only committed batches, and works while the node runs.
//! - [`fsck`]: inspection and, with consent, repair.
//! - [`sim`]: the simulated disk of the deterministic simulation.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use dauys_core::{sha256, Entry, Hash};
use thiserror::Error;

pub mod dir;
pub mod file;
pub mod fsck;
pub mod index;
pub mod log;
pub mod reader;
pub mod sim;
pub mod tree;

pub use dir::Marker;
pub use file::LogFile;
pub use log::{AppendError, Damage, Log, Tail};

/// Why the store cannot open or write.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The filesystem failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The directory holds no ledger.
    #[error("{dir} holds no dauys ledger ({why}); create one with `dauys init`")]
    NotALedger {
        /// The directory.
        dir: String,
        /// What is missing.
        why: String,
    },
    /// The directory held a ledger whose log is gone or lost its genesis.
    #[error("{dir} holds ledger {ledger_id}, but {what}; refusing to start a new ledger in its place. Restore log.dat from a backup or a mirror (or, to really start a new ledger, use a new directory)")]
    LostLog {
        /// The directory.
        dir: String,
        /// The ledger the marker names.
        ledger_id: String,
        /// What is missing.
        what: String,
    },
    /// Damage that a crash cannot explain.
    #[error("log corrupted at position {position} (byte offset {offset}): {problem}; refusing to start. Inspect with `dauys fsck`")]
    Corrupt {
        /// Position of the damaged record.
        position: u64,
        /// Byte offset in log.dat.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
    /// Another process holds the directory.
    #[error("{0}")]
    Locked(String),
    /// The index database failed.
    #[error("index: {0}")]
    Index(#[from] sled::Error),
    /// The replay callback refused an entry.
    #[error("replaying entry {position}: {problem}")]
    Replay {
        /// The entry's position.
        position: u64,
        /// Why.
        problem: String,
    },
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// What opening found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovery {
    /// Bytes of a torn tail cut from the log.
    pub torn_bytes: u64,
    /// Where those bytes were kept.
    pub kept_at: Option<PathBuf>,
    /// Why the tail was judged torn.
    pub reason: Option<String>,
    /// Whether the index was rebuilt from the log.
    pub index_rebuilt: bool,
    /// Whether a format 1 log file was rewritten in format 2 (the original
    /// is kept as `log.dat.format-1`).
    pub migrated: bool,
    /// Whether `tree.dat` held wrong hashes (rewritten from the log).
    pub tree_repaired: bool,
}

/// An entry to append, with what the index needs.
#[derive(Debug, Clone)]
pub struct Append {
    /// Entry bytes.
    pub bytes: Vec<u8>,
    /// Their hash.
    pub hash: Hash,
    /// Author key.
    pub author: [u8; 32],
}

impl Append {
    /// An append for already-encoded entry bytes, with the author read from
    /// the entry itself.
    pub fn from_entry(bytes: Vec<u8>) -> Result<Self, dauys_core::codec::DecodeError> {
        let author = Entry::decode(&bytes)?.author;
        Ok(Self { hash: sha256(&bytes), author, bytes })
    }
}

/// The log file, shared between the writer and readers on other threads.
#[derive(Debug, Clone)]
pub struct SharedFile(Arc<File>);

impl LogFile for SharedFile {
    fn len(&self) -> std::io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(&*self.0, buf, offset)
    }
    fn append(&mut self, data: &[u8]) -> std::io::Result<()> {
        std::io::Write::write_all(&mut &*self.0, data)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.0.sync_data()
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.0.set_len(len)?;
        self.0.sync_all()
    }
}

/// What readers on other threads need to find committed entries.
#[derive(Debug, Default)]
struct Published {
    offsets: Vec<u64>,
    size: u64,
    end: u64,
}

/// A handle for reading committed entries and their tree from any thread
/// while the writer appends.
#[derive(Debug, Clone)]
pub struct LogReadHandle {
    file: SharedFile,
    published: Arc<RwLock<Published>>,
    tree: tree::TreeReader,
}

impl LogReadHandle {
    /// Up to `limit` entries from `from`, among those committed, stopping
    /// early once `bytes_max` bytes of entries are read (at least one entry
    /// is returned if any is left).
    pub fn read_range(&self, from: u64, limit: u64, bytes_max: usize) -> std::io::Result<Vec<Vec<u8>>> {
        let (first, size, end) = {
            let published = self.published.read().map_err(|_| std::io::Error::other("lock poisoned"))?;
            let slot = usize::try_from(from / log::OFFSET_STRIDE).unwrap_or(usize::MAX);
            (published.offsets.get(slot).copied(), published.size, published.end)
        };
        let Some(first) = first else { return Ok(Vec::new()) };
        // The lock is not held while reading: the stride that holds `from`
        // starts at `first`, so positions are counted from that stride.
        let base = from - from % log::OFFSET_STRIDE;
        log::read_range_bounded(&self.file, &[first], size - base, end, from - base, limit, bytes_max)
    }

    /// Committed entries.
    pub fn len(&self) -> u64 {
        self.published.read().map(|p| p.size).unwrap_or(0)
    }

    /// Whether no entry is committed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The stored hashes of the tree (ask only below the published size).
    pub fn tree(&self) -> &tree::TreeReader {
        &self.tree
    }
}

/// The writer's store: the locked data directory, its log and its index.
pub struct Store {
    dir: PathBuf,
    _lock: dir::DirLock,
    log: Log<SharedFile>,
    tree: tree::TreeFile,
    index: Option<index::Index>,
    published: Arc<RwLock<Published>>,
    marker: Marker,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("dir", &self.dir).field("size", &self.log.len()).finish()
    }
}

fn open_log_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).append(true).open(path)
}

impl Store {
    /// Creates a new ledger directory (absent or empty) holding `first` as
    /// its first batch, `files` beside it (name, bytes, mode), and the
    /// marker; every file and the directory itself are synced before this
    /// returns, so a power cut leaves either no ledger or a whole one.
    pub fn create(dir: &Path, first: &[(Vec<u8>, Hash)], files: &[(&str, &[u8], u32)]) -> Result<(), StoreError> {
        if dir.exists() && std::fs::read_dir(dir).map_err(io("reading the directory"))?.next().is_some() {
            return Err(StoreError::Io {
                context: format!("creating a ledger in {}", dir.display()),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the directory is not empty"),
            });
        }
        let Some((genesis, genesis_hash)) = first.first() else {
            return Err(StoreError::Replay { position: 0, problem: "a ledger needs its genesis".into() });
        };
        let decoded = Entry::decode(genesis).map_err(|e| StoreError::Replay { position: 0, problem: e.to_string() })?;
        let payload = dauys_core::Payload::decode(decoded.payload)
            .map_err(|e| StoreError::Replay { position: 0, problem: e.to_string() })?;
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            dir::sync_dir(parent).map_err(io("syncing the parent directory"))?;
        }
        let _lock = dir::lock(dir).map_err(|e| StoreError::Locked(e.to_string()))?;
        for (name, bytes, mode) in files {
            dir::write_durably(dir, name, bytes, *mode).map_err(io(format!("writing {name}")))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(dir.join(dir::LOG))
            .map_err(io("creating log.dat"))?;
        let mut log = Log::create(SharedFile(Arc::new(file))).map_err(io("writing the log header"))?;
        let entries: Vec<(&[u8], Hash)> = first.iter().map(|(bytes, hash)| (bytes.as_slice(), *hash)).collect();
        log.append(&entries).map_err(|e| StoreError::Io {
            context: "writing the first batch".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Marker { format: payload.version.number(), ledger_id: payload.ledger_id, genesis: *genesis_hash }
            .write(dir)
            .map_err(io("writing the ledger marker"))?;
        dir::sync_dir(dir).map_err(io("syncing the data directory"))?;
        Ok(())
    }

    /// Opens `dir` for writing: takes its lock, re-reads the whole log
    /// (calling `each(position, entry)` for every committed entry, in
    /// order), keeps a torn tail aside and cuts it, refuses corruption and a
    /// lost log, and brings the index up to date.
    pub fn open(
        dir: &Path,
        mut each: impl FnMut(u64, &[u8]) -> Result<(), String>,
    ) -> Result<(Self, Recovery), StoreError> {
        if !dir.is_dir() {
            return Err(StoreError::NotALedger { dir: dir.display().to_string(), why: "no such directory".into() });
        }
        let lock = dir::lock(dir).map_err(|e| StoreError::Locked(e.to_string()))?;
        let marker = Marker::read(dir).map_err(io("reading the ledger marker"))?;
        let log_path = dir.join(dir::LOG);
        let lost = |what: &str| match &marker {
            Some(marker) => StoreError::LostLog {
                dir: dir.display().to_string(),
                ledger_id: hex::encode(marker.ledger_id),
                what: what.to_owned(),
            },
            None => StoreError::NotALedger { dir: dir.display().to_string(), why: what.to_owned() },
        };
        let file = match open_log_file(&log_path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(lost("log.dat is missing")),
            Err(e) => return Err(StoreError::Io { context: "opening log.dat".into(), source: e }),
        };
        let mut recovery = Recovery::default();
        if log::detect(&file).map_err(io("reading log.dat"))? == log::LogFormat::Legacy {
            migrate(dir, &file, &mut recovery)?;
        }
        let file = SharedFile(Arc::new(open_log_file(&log_path).map_err(io("opening log.dat"))?));

        let index_existed = dir.join("index").exists();
        let (mut index, vouched) = match index::Index::open(dir) {
            Ok((index, vouched)) => (Some(index), vouched),
            Err(error) => {
                tracing::warn!(%error, "the index cannot be opened; serving without acts by author");
                (None, None)
            }
        };
        // An index that cannot vouch for itself is rebuilt in the same pass
        // that re-reads the log.
        let rebuilding = vouched.is_none() && index.is_some();
        if rebuilding {
            if let Some(index) = index.as_mut() {
                index.reset()?;
            }
        }
        let mut tree = tree::TreeFile::open(dir)?;
        let mut genesis_hash = None;
        let mut authors = Vec::new();
        let scan = log::scan(&file, |position, entry| {
            if position == 0 {
                genesis_hash = Some(sha256(entry));
            }
            tree.check_next(entry).map_err(|e| e.to_string())?;
            if rebuilding {
                authors.push(Entry::decode(entry).map_err(|e| e.to_string())?.author);
                if authors.len() >= 65_536 {
                    if let Some(index) = index.as_mut() {
                        index.record(&authors).map_err(|e| e.to_string())?;
                    }
                    authors.clear();
                }
            }
            each(position, entry)
        })
        .map_err(|error| match error {
            log::ScanError::Io(e) => StoreError::Io { context: "reading log.dat".into(), source: e },
            log::ScanError::Header => {
                StoreError::Corrupt { position: 0, offset: 0, problem: "the log file header is damaged".into() }
            }
            log::ScanError::Stopped(problem) => StoreError::Replay { position: 0, problem },
        })?;
        if rebuilding {
            if let Some(index) = index.as_mut() {
                index.record(&authors)?;
            }
            // Building the index of a new directory is not a recovery.
            recovery.index_rebuilt = index_existed;
        } else if vouched.is_some_and(|n| n != scan.size) {
            // A clean index of another length (a restored log, say): rebuild
            // it with a second pass.
            if let Some(index) = index.as_mut() {
                index.reset()?;
                let mut authors = Vec::new();
                log::scan(&file, |_, entry| {
                    authors.push(Entry::decode(entry).map_err(|e| e.to_string())?.author);
                    Ok::<(), String>(())
                })
                .map_err(|_| StoreError::Io {
                    context: "re-reading log.dat".into(),
                    source: std::io::Error::other("scan failed"),
                })?;
                index.record(&authors)?;
            }
            recovery.index_rebuilt = true;
        }
        match &scan.tail {
            Tail::Clean => {}
            Tail::Corrupt(damage) => {
                return Err(StoreError::Corrupt {
                    position: damage.position,
                    offset: damage.offset,
                    problem: damage.problem.clone(),
                })
            }
            Tail::Torn { offset, bytes, reason, .. } => {
                let mut kept = vec![0u8; usize::try_from(*bytes).unwrap_or(0)];
                file.read_exact_at(&mut kept, *offset).map_err(io("reading the torn tail"))?;
                let path = dir::keep_aside(dir, *offset, &kept, reason).map_err(io("keeping the torn tail aside"))?;
                tracing::warn!(bytes, offset, kept_at = %path.display(), %reason, "cut a torn tail from the log");
                file.clone().truncate(*offset).map_err(io("cutting the torn tail"))?;
                recovery.torn_bytes = *bytes;
                recovery.kept_at = Some(path);
                recovery.reason = Some(reason.clone());
            }
        }
        if scan.size == 0 {
            return Err(lost("log.dat holds no genesis entry"));
        }
        recovery.tree_repaired = tree.finish_check()?;
        if recovery.tree_repaired {
            tracing::warn!("tree.dat held wrong hashes; rewrote them from the log");
        }
        let genesis_hash = genesis_hash.unwrap_or_default();
        let marker = match marker {
            Some(marker) if marker.genesis != genesis_hash => {
                return Err(StoreError::Corrupt {
                    position: 0,
                    offset: log::HEADER_BYTES,
                    problem: format!(
                        "the genesis entry is not the one the ledger marker names ({})",
                        hex::encode(marker.genesis)
                    ),
                })
            }
            Some(marker) => marker,
            None => {
                // A directory written before markers existed: mark it now.
                let mut first = log::read_range(&file, &scan.offsets, scan.size, scan.end, 0, 1)
                    .map_err(io("reading the genesis entry"))?;
                let genesis = first.pop().unwrap_or_default();
                let entry =
                    Entry::decode(&genesis).map_err(|e| StoreError::Replay { position: 0, problem: e.to_string() })?;
                let payload = dauys_core::Payload::decode(entry.payload)
                    .map_err(|e| StoreError::Replay { position: 0, problem: e.to_string() })?;
                let marker =
                    Marker { format: payload.version.number(), ledger_id: payload.ledger_id, genesis: genesis_hash };
                marker.write(dir).map_err(io("writing the ledger marker"))?;
                marker
            }
        };
        let published =
            Arc::new(RwLock::new(Published { offsets: scan.offsets.clone(), size: scan.size, end: scan.end }));
        let log = Log::from_scan(file, &scan);
        Ok((Self { dir: dir.to_owned(), _lock: lock, log, tree, index, published, marker }, recovery))
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.log.len()
    }

    /// Whether the log is empty (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Hash of the last entry.
    pub fn head(&self) -> Hash {
        self.log.head()
    }

    /// The ledger marker.
    pub fn marker(&self) -> Marker {
        self.marker
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a batch durably (see [`Log::append`]), then indexes it. An
    /// index failure is logged and leaves the index to be rebuilt at the
    /// next start; the log is the truth.
    pub fn append(&mut self, batch: &[Append]) -> Result<(), AppendError> {
        let entries: Vec<(&[u8], Hash)> = batch.iter().map(|a| (a.bytes.as_slice(), a.hash)).collect();
        self.log.append(&entries)?;
        // The tree follows the durable log; a failure here is repaired from
        // the log at the next start, and the writer stops taking acts
        // rather than sign a checkpoint without its hashes.
        let bytes: Vec<&[u8]> = batch.iter().map(|a| a.bytes.as_slice()).collect();
        if let Err(error) = self.tree.append(&bytes) {
            tracing::error!(%error, "writing tree.dat failed");
            return Err(AppendError::Poisoned(std::io::Error::other(format!("tree.dat: {error}"))));
        }
        if let Ok(mut published) = self.published.write() {
            let known = published.offsets.len();
            published.offsets.extend_from_slice(&self.log.offsets()[known..]);
            published.size = self.log.len();
            published.end = self.log.end();
        }
        if let Some(index) = self.index.as_mut() {
            let authors: Vec<[u8; 32]> = batch.iter().map(|a| a.author).collect();
            if let Err(error) = index.record(&authors) {
                tracing::error!(%error, "indexing failed; acts by author are unavailable until restart");
                self.index = None;
            }
        }
        Ok(())
    }

    /// Whether a failed sync left the log in an unknown state.
    pub fn is_poisoned(&self) -> bool {
        self.log.is_poisoned()
    }

    /// A handle for reading committed entries from other threads.
    pub fn reader(&self) -> LogReadHandle {
        LogReadHandle {
            file: self.log.file().clone(),
            published: Arc::clone(&self.published),
            tree: self.tree.reader(),
        }
    }

    /// The root of the tree over the committed entries.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Up to `limit` entries from `from`.
    pub fn read_range(&self, from: u64, limit: u64) -> std::io::Result<Vec<Vec<u8>>> {
        self.log.read_range(from, limit)
    }

    /// Calls `each(position, entry)` for every committed entry, in order.
    pub fn replay(&self, each: impl FnMut(u64, &[u8]) -> Result<(), String>) -> Result<(), String> {
        self.log.replay(each).map_err(|error| match error {
            log::ScanError::Io(e) => e.to_string(),
            log::ScanError::Header => "the log file header is damaged".to_owned(),
            log::ScanError::Stopped(problem) => problem,
        })
    }

    /// A handle for reading acts by author from other threads.
    pub fn index_reader(&self) -> Option<index::IndexReader> {
        self.index.as_ref().and_then(|index| index.reader().ok())
    }

    /// Positions of `author`'s entries, newest first (see [`index::Index::acts`]).
    pub fn acts(&self, author: &[u8; 32], before: Option<u64>, limit: usize) -> Result<(Vec<u64>, u64), StoreError> {
        match &self.index {
            Some(index) => index.acts(author, before, limit),
            None => Err(StoreError::Io {
                context: "reading acts by author".into(),
                source: std::io::Error::other("the index is unavailable until the node restarts"),
            }),
        }
    }

    /// Flushes the index and marks it clean: call on a graceful stop.
    pub fn close(&self) -> Result<(), StoreError> {
        match &self.index {
            Some(index) => index.close(),
            None => Ok(()),
        }
    }
}

/// Rewrites a format 1 log file in format 2: committed batches of at most
/// 1,024 entries. The original is kept as `log.dat.format-1` (a hard link
/// made before the rename, so a crash at any point leaves a complete log).
fn migrate(dir: &Path, file: &File, recovery: &mut Recovery) -> Result<(), StoreError> {
    let mut entries: Vec<(Vec<u8>, Hash)> = Vec::new();
    let scan = log::scan(file, |_, entry| {
        entries.push((entry.to_vec(), sha256(entry)));
        Ok::<(), ()>(())
    })
    .map_err(|_| StoreError::Io {
        context: "reading a format 1 log".into(),
        source: std::io::Error::other("read failed"),
    })?;
    match &scan.tail {
        Tail::Clean => {}
        Tail::Corrupt(damage) => {
            return Err(StoreError::Corrupt {
                position: damage.position,
                offset: damage.offset,
                problem: damage.problem.clone(),
            })
        }
        Tail::Torn { offset, bytes, reason, .. } => {
            let mut kept = vec![0u8; usize::try_from(*bytes).unwrap_or(0)];
            file.read_exact_at(&mut kept, *offset).map_err(io("reading the torn tail"))?;
            let path = dir::keep_aside(dir, *offset, &kept, reason).map_err(io("keeping the torn tail aside"))?;
            recovery.torn_bytes = *bytes;
            recovery.kept_at = Some(path);
            recovery.reason = Some(reason.clone());
        }
    }
    let temporary = dir.join("log.dat.migrating");
    let _ = std::fs::remove_file(&temporary);
    let new = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&temporary)
        .map_err(io("creating the new log"))?;
    let mut log = Log::create(new).map_err(io("writing the new log"))?;
    for chunk in entries.chunks(1_024) {
        let batch: Vec<(&[u8], Hash)> = chunk.iter().map(|(bytes, hash)| (bytes.as_slice(), *hash)).collect();
        log.append(&batch).map_err(|e| StoreError::Io {
            context: "writing the new log".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let original = dir.join("log.dat.format-1");
    if !original.exists() {
        std::fs::hard_link(dir.join(dir::LOG), &original).map_err(io("keeping the format 1 log"))?;
    }
    dir::sync_dir(dir).map_err(io("syncing the data directory"))?;
    std::fs::rename(&temporary, dir.join(dir::LOG)).map_err(io("replacing log.dat"))?;
    dir::sync_dir(dir).map_err(io("syncing the data directory"))?;
    recovery.migrated = true;
    tracing::warn!(entries = entries.len(), "rewrote a format 1 log.dat in format 2; the original is log.dat.format-1");
    Ok(())
}
