//! The durable log of one ledger.
//!
//! The source of truth is `log.dat`, an append-only file of records
//! `u32 length | u32 CRC-32 (IEEE) of the entry | entry bytes`. A batch of
//! entries is written with one `write` and made durable with one
//! `fdatasync` before anyone is told it was accepted (group commit). sled
//! 0.34 holds the indexes (payload hash → position, author → positions); its
//! `flush` is not an fsync, so it is never trusted for durability: on open,
//! whatever the index lacks is re-indexed from the log, and a damaged index
//! is deleted and rebuilt.
//!
//! On open the whole log is re-read: every record's checksum, every
//! position and every hash link. An incomplete or checksum-failing record
//! with no intact record anywhere after it is a torn tail (a batch whose sync
//! never returned, so never acknowledged: a cut record, or zeros where the
//! file grew before its data reached the disk) and is truncated. Damage with
//! an intact record after it, or an intact record that breaks the chain, is
//! corruption: the store refuses to open and names the position and offset.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use dauys_core::{sha256, Entry, Hash};
use thiserror::Error;

/// Bytes before each entry in the log file: length and checksum.
const RECORD_HEADER_BYTES: usize = 8;
/// The shortest entry: magic, version, position, previous hash, time,
/// author, payload length (of an empty payload) and signature.
const ENTRY_BYTES_MIN: usize = 8 + 2 + 8 + 32 + 8 + 32 + 4 + 64;

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
    /// A record before the tail is damaged.
    #[error("log corrupted at position {position} (byte offset {offset}): {problem}; refusing to start")]
    Corrupt {
        /// Position of the damaged record.
        position: u64,
        /// Byte offset in log.dat.
        offset: u64,
        /// What is wrong.
        problem: String,
    },
    /// The index database failed.
    #[error("index: {0}")]
    Index(#[from] sled::Error),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}

/// What `open` found and did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovery {
    /// Bytes of a torn tail that were truncated.
    pub truncated_bytes: u64,
    /// Entries re-indexed into sled.
    pub reindexed: u64,
    /// Whether the index was damaged and rebuilt from scratch.
    pub index_rebuilt: bool,
}

/// The log and its indexes.
pub struct Store {
    file: File,
    offsets: Vec<u64>,
    end: u64,
    head: Hash,
    db: sled::Db,
    payloads: sled::Tree,
    authors: sled::Tree,
    meta: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("size", &self.len()).field("end", &self.end).finish()
    }
}

/// An entry to append, with what the indexes need.
#[derive(Debug, Clone)]
pub struct Append {
    /// Entry bytes.
    pub bytes: Vec<u8>,
    /// Their hash.
    pub hash: Hash,
    /// SHA-256 of the payload.
    pub payload_hash: Hash,
    /// Author key.
    pub author: [u8; 32],
}

impl Append {
    /// An append for already-encoded entry bytes (importing an export,
    /// tests), with the index fields read from the entry itself.
    pub fn from_entry(bytes: Vec<u8>) -> Result<Self, dauys_core::codec::DecodeError> {
        let entry = Entry::decode(&bytes)?;
        let (payload_hash, author) = (sha256(entry.payload), entry.author);
        Ok(Self { hash: sha256(&bytes), payload_hash, author, bytes })
    }
}

fn record_problem(bytes: &[u8], expected_position: u64, head: &Hash) -> Option<String> {
    let entry = match Entry::decode(bytes) {
        Ok(entry) => entry,
        Err(e) => return Some(format!("entry does not decode: {e}")),
    };
    if entry.position != expected_position {
        return Some(format!("entry states position {}", entry.position));
    }
    if &entry.prev_hash != head {
        return Some("previous-hash link is broken".to_owned());
    }
    None
}

/// One record read at an offset of the log.
enum Record<'a> {
    /// Header and body are present.
    Complete {
        /// The entry bytes.
        body: &'a [u8],
        /// Whether the checksum matches.
        crc_ok: bool,
    },
    /// The file ends inside the header or the body, or the length is
    /// impossible for an entry.
    Incomplete,
}

fn read_record(data: &[u8], offset: usize) -> Record<'_> {
    let Some(header) = data.get(offset..offset + RECORD_HEADER_BYTES) else { return Record::Incomplete };
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    // No entry is shorter than its fixed fields or longer than the limit:
    // such a length is damage (zeros where data never arrived, say).
    if !(ENTRY_BYTES_MIN..=dauys_core::limits::ENTRY_BYTES_MAX).contains(&len) {
        return Record::Incomplete;
    }
    let start = offset + RECORD_HEADER_BYTES;
    match data.get(start..start + len) {
        Some(body) => Record::Complete { body, crc_ok: crc32fast::hash(body) == crc },
        None => Record::Incomplete,
    }
}

/// The offset of the first intact record (checksum valid, entry decodes)
/// starting anywhere at or after `from`, if any.
fn intact_record_after(data: &[u8], from: usize) -> Option<usize> {
    (from..data.len().saturating_sub(RECORD_HEADER_BYTES)).find(|&offset| match read_record(data, offset) {
        Record::Complete { body, crc_ok: true } => Entry::decode(body).is_ok(),
        _ => false,
    })
}

impl Store {
    /// Opens (or creates) the store in `dir`, re-checking the whole chain.
    pub fn open(dir: &Path) -> Result<(Self, Recovery), StoreError> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let log_path = dir.join("log.dat");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let mut recovery = Recovery::default();
        let length = file.metadata().map_err(io("reading log size"))?.len();
        let mut data = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
        file.seek(SeekFrom::Start(0)).map_err(io("seeking log"))?;
        file.read_to_end(&mut data).map_err(io("reading log"))?;

        let mut offsets = Vec::new();
        let mut head = [0u8; 32];
        let mut offset = 0usize;
        let mut torn_at = None;
        while offset < data.len() {
            let position = offsets.len() as u64;
            let (problem, body) = match read_record(&data, offset) {
                Record::Complete { body, crc_ok: true } => (record_problem(body, position, &head), Some(body)),
                Record::Complete { crc_ok: false, .. } => (Some("checksum mismatch".to_owned()), None),
                Record::Incomplete => (Some("incomplete record".to_owned()), None),
            };
            match (problem, body) {
                (None, Some(body)) => {
                    head = sha256(body);
                    offsets.push(offset as u64);
                    offset += RECORD_HEADER_BYTES + body.len();
                }
                // A checksum-valid record that breaks the chain was never
                // written by this store: corruption, wherever it is.
                (Some(problem), Some(_)) => {
                    return Err(StoreError::Corrupt { position, offset: offset as u64, problem })
                }
                // A damaged or incomplete record is a torn tail only if no
                // intact record follows it; otherwise the middle is damaged.
                (Some(problem), None) => {
                    if let Some(later) = intact_record_after(&data, offset + 1) {
                        return Err(StoreError::Corrupt {
                            position,
                            offset: offset as u64,
                            problem: format!("{problem}, with an intact record at byte {later} after it"),
                        });
                    }
                    torn_at = Some(offset);
                    break;
                }
                (None, None) => unreachable!("a record without a problem has a body"),
            }
        }
        if let Some(torn) = torn_at {
            recovery.truncated_bytes = (data.len() - torn) as u64;
            tracing::warn!(bytes = recovery.truncated_bytes, offset = torn, "truncating torn tail of the log");
            file.set_len(torn as u64).map_err(io("truncating torn tail"))?;
            file.sync_all().map_err(io("syncing truncation"))?;
            offset = torn;
        }
        drop(data);

        let index_path = dir.join("index");
        // sled may fail, or even panic, on damaged files; either way the
        // index is rebuilt from the log, which is the truth.
        let opened = std::panic::catch_unwind(|| sled::open(&index_path));
        let db = match opened {
            Ok(Ok(db)) => db,
            failed => {
                let error = match failed {
                    Ok(Err(error)) => error.to_string(),
                    _ => "sled panicked while opening".to_owned(),
                };
                tracing::warn!(%error, "index damaged; rebuilding from the log");
                std::fs::remove_dir_all(&index_path).map_err(io("removing damaged index"))?;
                recovery.index_rebuilt = true;
                sled::open(&index_path)?
            }
        };
        let mut store = Self {
            file,
            offsets,
            end: offset as u64,
            head,
            payloads: db.open_tree("payloads")?,
            authors: db.open_tree("authors")?,
            meta: db.open_tree("meta")?,
            db,
        };
        recovery.reindexed = store.catch_up_index()?;
        Ok((store, recovery))
    }

    fn indexed(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get("indexed")?
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// Indexes entries the index does not have yet (after a crash, or a
    /// truncation that the index had run ahead of).
    fn catch_up_index(&mut self) -> Result<u64, StoreError> {
        let indexed = self.indexed()?;
        let size = self.len();
        if indexed > size {
            // The index saw entries that a torn tail lost: start over.
            self.payloads.clear()?;
            self.authors.clear()?;
            self.meta.clear()?;
        }
        let from = if indexed > size { 0 } else { indexed };
        for position in from..size {
            let bytes = self.read(position)?.ok_or_else(|| StoreError::Corrupt {
                position,
                offset: 0,
                problem: "unreadable during re-index".into(),
            })?;
            let entry = Entry::decode(&bytes).map_err(|e| StoreError::Corrupt {
                position,
                offset: 0,
                problem: e.to_string(),
            })?;
            self.index_one(position, &sha256(entry.payload), &entry.author)?;
        }
        self.meta.insert("indexed", &size.to_be_bytes())?;
        Ok(size - from)
    }

    fn index_one(&self, position: u64, payload_hash: &Hash, author: &[u8; 32]) -> Result<(), StoreError> {
        self.payloads.insert(payload_hash, &position.to_be_bytes())?;
        let mut key = author.to_vec();
        key.extend_from_slice(&position.to_be_bytes());
        self.authors.insert(key, &[])?;
        Ok(())
    }

    /// Entries in the log.
    pub fn len(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    /// Hash of the last entry (zeros when empty).
    pub fn head(&self) -> Hash {
        self.head
    }

    /// Appends a batch durably: one write, one `fdatasync`. Returns only
    /// once the entries are on disk. Entries must continue the chain.
    pub fn append(&mut self, batch: &[Append]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut buffer = Vec::with_capacity(batch.iter().map(|a| a.bytes.len() + RECORD_HEADER_BYTES).sum());
        let mut offsets = Vec::with_capacity(batch.len());
        let mut head = self.head;
        for (i, append) in batch.iter().enumerate() {
            // Pair assertion: the link is checked right before writing, and
            // again by `open` right after reading back.
            debug_assert!(record_problem(&append.bytes, self.len() + i as u64, &head).is_none());
            offsets.push(self.end + buffer.len() as u64);
            let len = u32::try_from(append.bytes.len()).map_err(|_| StoreError::Corrupt {
                position: self.len() + i as u64,
                offset: self.end,
                problem: "entry too large".into(),
            })?;
            buffer.extend_from_slice(&len.to_be_bytes());
            buffer.extend_from_slice(&crc32fast::hash(&append.bytes).to_be_bytes());
            buffer.extend_from_slice(&append.bytes);
            head = append.hash;
        }
        if let Err(source) = self.file.write_all(&buffer).and_then(|()| self.file.sync_data()) {
            // Leave the file as it was so a later append cannot follow a
            // partial write; if even that fails, the next open truncates.
            let _ = self.file.set_len(self.end);
            return Err(StoreError::Io { context: "appending to the log".into(), source });
        }
        self.end += buffer.len() as u64;
        self.offsets.extend(offsets);
        self.head = head;
        for (i, append) in batch.iter().enumerate() {
            self.index_one(self.len() - batch.len() as u64 + i as u64, &append.payload_hash, &append.author)?;
        }
        self.meta.insert("indexed", &self.len().to_be_bytes())?;
        Ok(())
    }

    /// The entry bytes at `position`.
    pub fn read(&self, position: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(&offset) = usize::try_from(position).ok().and_then(|p| self.offsets.get(p)) else {
            return Ok(None);
        };
        let mut header = [0u8; RECORD_HEADER_BYTES];
        self.file.read_exact_at(&mut header, offset).map_err(io("reading the log"))?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let mut bytes = vec![0u8; len];
        self.file.read_exact_at(&mut bytes, offset + RECORD_HEADER_BYTES as u64).map_err(io("reading the log"))?;
        Ok(Some(bytes))
    }

    /// Up to `limit` entries from `from`.
    pub fn range(&self, from: u64, limit: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        let end = from.saturating_add(limit).min(self.len());
        (from..end).map(|p| self.read(p).map(Option::unwrap_or_default)).collect()
    }

    /// The position of the entry whose payload hashes to `payload_hash`.
    pub fn position_of_payload(&self, payload_hash: &Hash) -> Result<Option<u64>, StoreError> {
        Ok(self.payloads.get(payload_hash)?.and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok()).map(u64::from_be_bytes))
    }

    /// Positions of entries authored by `author`, ascending, at most `limit`.
    pub fn positions_by_author(&self, author: &[u8; 32], limit: usize) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for item in self.authors.scan_prefix(author).take(limit) {
            let (key, _) = item?;
            if let Ok(position) = <[u8; 8]>::try_from(&key[32..]) {
                out.push(u64::from_be_bytes(position));
            }
        }
        Ok(out)
    }

    /// Flushes the index (best effort; the log is the truth).
    pub fn flush_index(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// The log file's path inside `dir`.
    pub fn log_path(dir: &Path) -> PathBuf {
        dir.join("log.dat")
    }
}
