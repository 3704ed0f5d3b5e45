//! `log.dat`: the append-only file of entries that is the ledger's source of
//! truth, how batches are committed to it, and how it is judged after a
//! crash.
//!
//! # Layout (format 2)
//!
//! ```text
//! header  "DAUYSLOG" | u32 2 | u32 CRC-32 of the 12 bytes before
//! entry   u32 length | u32 CRC-32 of the entry | entry bytes
//! commit  u32 0xFFFFFFFF | "DAUYSCMT" | u64 first position | u32 count
//!         | u32 batch bytes | u32 CRC-32 of the batch's entry records
//!         | bytes32 hash of its last entry | u32 CRC-32 of the commit before
//! ```
//!
//! A batch is one or more entry records followed by one commit record,
//! written with one `write` and made durable with one `fdatasync` before any
//! of its entries is acknowledged. Integers are big-endian; an entry length
//! is at most 65,694, so the marker `0xFFFFFFFF` cannot be a length.
//!
//! # After a crash
//!
//! Only the last batch can be incomplete: the writer writes a batch only
//! after the previous one's sync returned. Reading front to back, everything
//! up to the last valid commit is committed. What follows it is judged:
//!
//! - **torn**: no commit at all (the sync never returned, nothing was
//!   acknowledged), or the batch's own commit arrived while some of its
//!   sectors did not (they read as zeros). The bytes are handed to the caller
//!   to keep aside, then cut.
//! - **corrupt**: a complete, valid batch follows the damage (so the damaged
//!   batch had been synced and acknowledged), a checksum-valid entry breaks
//!   the chain, or a committed batch is damaged with no sign of a torn
//!   write. Nothing is cut; the store refuses to open and `dauys fsck` says
//!   where.
//!
//! A commit marker cannot hide inside an entry: in format 2 strings cannot
//! hold the byte 0xFF, and every other field that follows a nonce is either
//! a small length or the id of an existing record.
//!
//! # Format 1 files
//!
//! Logs written before commit records existed have no header and no
//! commits: every complete, checksummed record counts, and damage is a torn
//! tail only if no intact record follows it. The store reads them and
//! rewrites them in format 2 before appending.

use std::io;

use dauys_core::limits::{ENTRY_BYTES_MAX, ENTRY_OVERHEAD_BYTES};
use dauys_core::{sha256, Entry, Hash};

use crate::file::{Cursor, LogFile};

/// The eight bytes that open a format 2 log file.
pub const LOG_MAGIC: &[u8; 8] = b"DAUYSLOG";
/// The log file format this crate writes.
pub const LOG_FORMAT: u32 = 2;
/// Bytes of the file header.
pub const HEADER_BYTES: u64 = HEADER_LEN as u64;
/// Bytes of the file header, as a length.
const HEADER_LEN: usize = 16;
/// Bytes before each entry: length and checksum.
pub const RECORD_HEADER_BYTES: usize = 8;
/// The length field value that opens a commit record.
const COMMIT_MARKER: u32 = 0xFFFF_FFFF;
/// The tag after the commit marker.
const COMMIT_TAG: &[u8; 8] = b"DAUYSCMT";
/// Bytes of a commit record.
pub const COMMIT_BYTES: usize = 4 + 8 + 8 + 4 + 4 + 4 + 32 + 4;
/// Most bytes of entry records in one batch: a reader holds at most this
/// much of a batch before it sees the batch's commit.
pub const BATCH_BYTES_MAX: usize = 8 << 20;
/// One coarse offset is kept per this many entries.
pub const OFFSET_STRIDE: u64 = 64;
/// The sector size a torn write is judged by.
const SECTOR_BYTES: u64 = SECTOR_LEN as u64;
const SECTOR_LEN: usize = 512;

/// Which layout a log file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Records only, no header, no commits (written before format 2).
    Legacy,
    /// Header, entry records and commit records.
    Committed,
}

/// Where the first damage is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The position of the entry that was expected there.
    pub position: u64,
    /// Byte offset in `log.dat`.
    pub offset: u64,
    /// What is wrong, in words.
    pub problem: String,
}

/// How the end of the log was judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// The file ends exactly after the last commit.
    Clean,
    /// An uncommitted or torn last batch: never acknowledged. Bytes from
    /// `offset` to the end of the file are to be kept aside and cut.
    Torn {
        /// Where the committed log ends.
        offset: u64,
        /// Bytes after it.
        bytes: u64,
        /// Why it is judged torn.
        reason: String,
        /// The first damage within it, if any (else: a batch without commit).
        damage: Option<Damage>,
    },
    /// Damage that a crash cannot explain: acknowledged data is affected.
    Corrupt(Damage),
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The file's layout.
    pub format: LogFormat,
    /// Committed entries.
    pub size: u64,
    /// Hash of the last committed entry (zeros when none).
    pub head: Hash,
    /// Byte offset where the committed log ends.
    pub end: u64,
    /// The file length when scanned.
    pub file_len: u64,
    /// How the end was judged.
    pub tail: Tail,
    /// Offsets of entries at positions that are multiples of [`OFFSET_STRIDE`].
    pub offsets: Vec<u64>,
    /// Commit records read.
    pub batches: u64,
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut out = [0u8; 8];
    out.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(out)
}

/// The 16-byte file header.
pub fn header() -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..8].copy_from_slice(LOG_MAGIC);
    out[8..12].copy_from_slice(&LOG_FORMAT.to_be_bytes());
    let crc = crc32fast::hash(&out[..12]);
    out[12..].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Appends one entry record to `out`.
pub fn push_entry_record(out: &mut Vec<u8>, entry: &[u8]) {
    // Entries are at most ENTRY_BYTES_MAX, far below u32::MAX.
    let len = u32::try_from(entry.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(entry).to_be_bytes());
    out.extend_from_slice(entry);
}

/// Appends the commit record of a batch whose entry records are
/// `batch` (first position `first`, `count` entries, last hash `last`).
pub fn push_commit_record(out: &mut Vec<u8>, batch: &[u8], first: u64, count: u32, last: &Hash) {
    let start = out.len();
    out.extend_from_slice(&COMMIT_MARKER.to_be_bytes());
    out.extend_from_slice(COMMIT_TAG);
    out.extend_from_slice(&first.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&u32::try_from(batch.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(batch).to_be_bytes());
    out.extend_from_slice(last);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A commit record's fields, once its own checksum is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Commit {
    first: u64,
    count: u32,
    batch_bytes: u32,
    batch_crc: u32,
    last: Hash,
}

fn parse_commit(bytes: &[u8]) -> Option<Commit> {
    if bytes.len() != COMMIT_BYTES || be_u32(bytes) != COMMIT_MARKER || &bytes[4..12] != COMMIT_TAG {
        return None;
    }
    if crc32fast::hash(&bytes[..COMMIT_BYTES - 4]) != be_u32(&bytes[COMMIT_BYTES - 4..]) {
        return None;
    }
    let mut last = [0u8; 32];
    last.copy_from_slice(&bytes[32..64]);
    Some(Commit {
        first: be_u64(&bytes[12..]),
        count: be_u32(&bytes[20..]),
        batch_bytes: be_u32(&bytes[24..]),
        batch_crc: be_u32(&bytes[28..]),
        last,
    })
}

/// Why a record at an offset could not be taken.
fn entry_problem(entry: &[u8], position: u64, head: &Hash) -> Option<String> {
    let decoded = match Entry::decode(entry) {
        Ok(decoded) => decoded,
        Err(e) => return Some(format!("entry does not decode: {e}")),
    };
    if decoded.position != position {
        return Some(format!("entry states position {}", decoded.position));
    }
    if &decoded.prev_hash != head {
        return Some("previous-hash link is broken".to_owned());
    }
    None
}

/// The smallest possible entry.
const ENTRY_BYTES_MIN: usize = ENTRY_OVERHEAD_BYTES;

/// The layout of a file, from its first bytes.
pub fn detect<F: LogFile + ?Sized>(file: &F) -> io::Result<LogFormat> {
    let mut first = [0u8; HEADER_LEN];
    let n = file.read_at(&mut first, 0)?;
    if n >= 8 && &first[..8] == LOG_MAGIC {
        return Ok(LogFormat::Committed);
    }
    if n == 0 {
        // An empty file is written as format 2.
        return Ok(LogFormat::Committed);
    }
    Ok(LogFormat::Legacy)
}

/// Reads the whole log front to back, calling `each(position, entry)` for
/// every committed entry in order, and judges its end. `each` may stop the
/// scan by returning an error, which is passed back as `Err(Some(e))`.
pub fn scan<F, E>(file: &F, mut each: impl FnMut(u64, &[u8]) -> Result<(), E>) -> Result<Scan, ScanError<E>>
where
    F: LogFile + ?Sized,
{
    let file_len = file.len().map_err(ScanError::Io)?;
    let mut cursor = Cursor::new(file, file_len);
    match detect(file).map_err(ScanError::Io)? {
        LogFormat::Committed => scan_committed(&mut cursor, &mut each),
        LogFormat::Legacy => scan_legacy(&mut cursor, &mut each),
    }
}

/// Why a scan stopped early.
#[derive(Debug)]
pub enum ScanError<E> {
    /// Reading the file failed.
    Io(io::Error),
    /// The header is damaged.
    Header,
    /// The caller's callback stopped the scan.
    Stopped(E),
}

fn scan_committed<F, E>(
    cursor: &mut Cursor<'_, F>,
    each: &mut impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<Scan, ScanError<E>>
where
    F: LogFile + ?Sized,
{
    let file_len = cursor.end();
    if file_len > 0 {
        match cursor.get(0, HEADER_LEN).map_err(ScanError::Io)? {
            Some(bytes) if bytes == header() => {}
            // A header cut short by a crash right after creation holds no entry.
            None => {
                return Ok(Scan {
                    format: LogFormat::Committed,
                    size: 0,
                    head: [0; 32],
                    end: 0,
                    file_len,
                    tail: Tail::Torn {
                        offset: 0,
                        bytes: file_len,
                        reason: "the file header is incomplete".into(),
                        damage: None,
                    },
                    offsets: Vec::new(),
                    batches: 0,
                })
            }
            Some(_) => return Err(ScanError::Header),
        }
    }
    let mut offset = HEADER_BYTES.min(file_len);
    let mut committed_end = offset;
    let mut size = 0u64;
    let mut head = [0u8; 32];
    let mut committed_size = 0u64;
    let mut committed_head = head;
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut batch_crc = crc32fast::Hasher::new();
    let mut offsets = Vec::new();
    let mut batches = 0u64;
    let damage = loop {
        if offset == file_len {
            break None;
        }
        let damage = |problem: &str| Some(Damage { position: size, offset, problem: problem.to_owned() });
        let Some(marker) = cursor.get(offset, 4).map_err(ScanError::Io)? else {
            break damage("the file ends inside a record header");
        };
        let marker = be_u32(marker);
        if marker == COMMIT_MARKER {
            let Some(bytes) = cursor.get(offset, COMMIT_BYTES).map_err(ScanError::Io)? else {
                break damage("the file ends inside a commit record");
            };
            let Some(commit) = parse_commit(bytes) else { break damage("commit record checksum mismatch") };
            let valid = commit.first == committed_size
                && commit.count as usize == pending.len()
                && commit.count > 0
                && u64::from(commit.batch_bytes) == offset - committed_end
                && commit.batch_crc == batch_crc.clone().finalize()
                && commit.last == head;
            if !valid {
                break damage("commit record does not match its batch");
            }
            for (position, entry) in pending.drain(..) {
                each(position, &entry).map_err(ScanError::Stopped)?;
            }
            offset += COMMIT_BYTES as u64;
            committed_end = offset;
            committed_size = size;
            committed_head = head;
            batch_crc = crc32fast::Hasher::new();
            batches += 1;
            continue;
        }
        let len = marker as usize;
        if !(ENTRY_BYTES_MIN..=ENTRY_BYTES_MAX).contains(&len) {
            break damage("impossible record length");
        }
        let Some(record) = cursor.get(offset, RECORD_HEADER_BYTES + len).map_err(ScanError::Io)? else {
            break damage("the file ends inside an entry record");
        };
        let (record_header, entry) = record.split_at(RECORD_HEADER_BYTES);
        if crc32fast::hash(entry) != be_u32(&record_header[4..]) {
            break damage("entry record checksum mismatch");
        }
        if let Some(problem) = entry_problem(entry, size, &head) {
            // A checksum-valid record that breaks the chain was never written
            // by this store: corruption, wherever it is.
            return Ok(Scan {
                format: LogFormat::Committed,
                size: committed_size,
                head: committed_head,
                end: committed_end,
                file_len,
                tail: Tail::Corrupt(Damage { position: size, offset, problem }),
                offsets: committed_offsets(offsets, committed_size),
                batches,
            });
        }
        if offset + (RECORD_HEADER_BYTES + len) as u64 - committed_end > BATCH_BYTES_MAX as u64 {
            break damage("a batch longer than the limit without a commit");
        }
        batch_crc.update(record);
        head = sha256(entry);
        pending.push((size, entry.to_vec()));
        pending_offsets_push(&mut offsets, size, offset);
        size += 1;
        offset += (RECORD_HEADER_BYTES + len) as u64;
    };
    let offsets = committed_offsets(offsets, committed_size);
    let tail = judge_tail(cursor, committed_end, committed_size, damage, !pending.is_empty()).map_err(ScanError::Io)?;
    Ok(Scan {
        format: LogFormat::Committed,
        size: committed_size,
        head: committed_head,
        end: committed_end,
        file_len,
        tail,
        offsets,
        batches,
    })
}

// Coarse offsets are collected as records are read; those of entries that
// never got a commit are dropped at the end.
fn pending_offsets_push(offsets: &mut Vec<u64>, position: u64, offset: u64) {
    if position.is_multiple_of(OFFSET_STRIDE) {
        let slot = usize::try_from(position / OFFSET_STRIDE).unwrap_or(usize::MAX);
        if slot < offsets.len() {
            offsets[slot] = offset;
        } else {
            offsets.push(offset);
        }
    }
}

fn committed_offsets(mut offsets: Vec<u64>, committed_size: u64) -> Vec<u64> {
    let keep = usize::try_from(committed_size.div_ceil(OFFSET_STRIDE)).unwrap_or(usize::MAX);
    offsets.truncate(keep);
    offsets
}

/// Judges what follows the last commit (see the module documentation).
fn judge_tail<F: LogFile + ?Sized>(
    cursor: &mut Cursor<'_, F>,
    committed_end: u64,
    committed_size: u64,
    damage: Option<Damage>,
    uncommitted_entries: bool,
) -> io::Result<Tail> {
    let file_len = cursor.end();
    if damage.is_none() && !uncommitted_entries {
        return Ok(Tail::Clean);
    }
    let search_from = damage.as_ref().map_or(file_len, |d| d.offset + 1);
    let mut own_commit_damaged = false;
    for candidate in commit_candidates(cursor, search_from)? {
        let Some(bytes) = cursor.get(candidate, COMMIT_BYTES)? else { continue };
        let Some(commit) = parse_commit(bytes) else { continue };
        let Some(start) = candidate.checked_sub(u64::from(commit.batch_bytes)) else { continue };
        if start < committed_end || commit.first < committed_size || commit.count == 0 {
            continue;
        }
        let batch_ok = match cursor.get(start, commit.batch_bytes as usize)? {
            Some(batch) => crc32fast::hash(batch) == commit.batch_crc,
            None => false,
        };
        if batch_ok && start > committed_end {
            // A complete, valid batch after the damage: the damaged batch
            // was synced before it was written.
            let damage = damage.clone().unwrap_or(Damage {
                position: committed_size,
                offset: committed_end,
                problem: "unreadable records".into(),
            });
            return Ok(Tail::Corrupt(Damage {
                problem: format!(
                    "{}, with a complete batch (positions {}..) at byte {start} after it",
                    damage.problem, commit.first
                ),
                ..damage
            }));
        }
        if start == committed_end {
            own_commit_damaged = true;
        }
    }
    let bytes = file_len - committed_end;
    if own_commit_damaged {
        // The last batch's commit arrived: it was written whole. Only sectors
        // that never reached the disk (zeros) excuse damage to it.
        if !has_torn_sector(cursor, committed_end, file_len)? {
            let damage = damage.unwrap_or(Damage {
                position: committed_size,
                offset: committed_end,
                problem: "damaged batch".into(),
            });
            return Ok(Tail::Corrupt(Damage {
                problem: format!(
                    "{}, in the last batch, whose commit is intact; no sign of a torn write",
                    damage.problem
                ),
                ..damage
            }));
        }
        return Ok(Tail::Torn {
            offset: committed_end,
            bytes,
            reason: "the last batch's commit reached the disk but some of its sectors did not".into(),
            damage,
        });
    }
    let reason = match &damage {
        None => "a batch without its commit record: its sync never completed".to_owned(),
        Some(d) => format!("{} after the last commit: a batch whose sync never completed", d.problem),
    };
    Ok(Tail::Torn { offset: committed_end, bytes, reason, damage })
}

/// Offsets at or after `from` where a commit marker and tag start.
fn commit_candidates<F: LogFile + ?Sized>(cursor: &mut Cursor<'_, F>, from: u64) -> io::Result<Vec<u64>> {
    let mut found = Vec::new();
    let needle: [u8; 12] = {
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&COMMIT_MARKER.to_be_bytes());
        n[4..].copy_from_slice(COMMIT_TAG);
        n
    };
    let end = cursor.end();
    let mut at = from;
    const WINDOW: u64 = 1 << 20;
    while at + needle.len() as u64 <= end {
        let take = (end - at).min(WINDOW + needle.len() as u64 - 1);
        let Some(window) = cursor.get(at, usize::try_from(take).unwrap_or(usize::MAX))? else { break };
        for (i, w) in window.windows(needle.len()).enumerate() {
            if w == needle {
                found.push(at + i as u64);
            }
        }
        if take < WINDOW {
            break;
        }
        at += WINDOW;
    }
    Ok(found)
}

/// Whether the batch in `[from, to)` shows the mark of a write that never
/// reached the disk: a 512-byte sector that reads as zeros. A missing sector
/// reads as zeros (the file had grown, its data never arrived). Two shapes:
/// - a whole sector within the batch is zeros: no batch holds 512 zero bytes
///   (format 2 strings hold no NUL; numbers and lengths leave short runs);
/// - the part of the first sector that the batch shares with the committed
///   log is zeros and at least 4 bytes long: a batch opens with the length of
///   its first entry, never 4 zero bytes, and a flipped bit cannot zero them.
fn has_torn_sector<F: LogFile + ?Sized>(cursor: &mut Cursor<'_, F>, from: u64, to: u64) -> io::Result<bool> {
    let first_boundary = from.div_ceil(SECTOR_BYTES) * SECTOR_BYTES;
    let leading = first_boundary.min(to) - from;
    if leading >= 4 {
        if let Some(bytes) = cursor.get(from, usize::try_from(leading).unwrap_or(0))? {
            if bytes.iter().all(|&b| b == 0) {
                return Ok(true);
            }
        }
    }
    let mut sector = first_boundary;
    while sector + SECTOR_BYTES <= to {
        if let Some(bytes) = cursor.get(sector, SECTOR_LEN)? {
            if bytes.iter().all(|&b| b == 0) {
                return Ok(true);
            }
        }
        sector += SECTOR_BYTES;
    }
    Ok(false)
}

fn scan_legacy<F, E>(
    cursor: &mut Cursor<'_, F>,
    each: &mut impl FnMut(u64, &[u8]) -> Result<(), E>,
) -> Result<Scan, ScanError<E>>
where
    F: LogFile + ?Sized,
{
    let file_len = cursor.end();
    let mut offset = 0u64;
    let mut size = 0u64;
    let mut head = [0u8; 32];
    let mut offsets = Vec::new();
    let tail = loop {
        if offset == file_len {
            break Tail::Clean;
        }
        let record = legacy_record(cursor, offset).map_err(ScanError::Io)?;
        let problem = match record {
            Some((entry_len, true)) => {
                let entry = cursor
                    .get(offset + RECORD_HEADER_BYTES as u64, entry_len)
                    .map_err(ScanError::Io)?
                    .unwrap_or_default()
                    .to_vec();
                if let Some(problem) = entry_problem(&entry, size, &head) {
                    break Tail::Corrupt(Damage { position: size, offset, problem });
                }
                if size.is_multiple_of(OFFSET_STRIDE) {
                    offsets.push(offset);
                }
                each(size, &entry).map_err(ScanError::Stopped)?;
                head = sha256(&entry);
                size += 1;
                offset += (RECORD_HEADER_BYTES + entry_len) as u64;
                continue;
            }
            Some((_, false)) => "checksum mismatch",
            None => "incomplete record",
        };
        // Damage is a torn tail only if no intact record follows it.
        let damage = Damage { position: size, offset, problem: problem.to_owned() };
        break match legacy_intact_record_after(cursor, offset + 1).map_err(ScanError::Io)? {
            Some(later) => Tail::Corrupt(Damage {
                problem: format!("{problem}, with an intact record at byte {later} after it"),
                ..damage
            }),
            None => Tail::Torn {
                offset,
                bytes: file_len - offset,
                reason: format!("{problem} with no intact record after it"),
                damage: Some(damage),
            },
        };
    };
    let end = match &tail {
        Tail::Torn { offset, .. } => *offset,
        _ => offset,
    };
    Ok(Scan { format: LogFormat::Legacy, size, head, end, file_len, tail, offsets, batches: 0 })
}

/// A legacy record at `offset`: its entry length and whether its checksum
/// holds; `None` if incomplete or of impossible length.
fn legacy_record<F: LogFile + ?Sized>(cursor: &mut Cursor<'_, F>, offset: u64) -> io::Result<Option<(usize, bool)>> {
    let Some(header) = cursor.get(offset, RECORD_HEADER_BYTES)? else { return Ok(None) };
    let len = be_u32(header) as usize;
    let crc = be_u32(&header[4..]);
    if !(ENTRY_BYTES_MIN..=ENTRY_BYTES_MAX).contains(&len) {
        return Ok(None);
    }
    Ok(cursor.get(offset + RECORD_HEADER_BYTES as u64, len)?.map(|entry| (len, crc32fast::hash(entry) == crc)))
}

fn legacy_intact_record_after<F: LogFile + ?Sized>(cursor: &mut Cursor<'_, F>, from: u64) -> io::Result<Option<u64>> {
    let end = cursor.end();
    let mut offset = from;
    while offset + RECORD_HEADER_BYTES as u64 <= end {
        if let Some((len, true)) = legacy_record(cursor, offset)? {
            let entry = cursor.get(offset + RECORD_HEADER_BYTES as u64, len)?.unwrap_or_default();
            if Entry::decode(entry).is_ok() {
                return Ok(Some(offset));
            }
        }
        offset += 1;
    }
    Ok(None)
}

/// Why a batch could not be made durable.
#[derive(Debug)]
pub enum AppendError {
    /// The write failed and the file was cut back: the log is as it was.
    Write(io::Error),
    /// The sync failed; the batch was cut off again and that cut is durable:
    /// the log is as it was.
    SyncThenCut(io::Error),
    /// The log's state on disk is unknown (a failed sync whose cut failed
    /// too); nothing more may be appended until the store is reopened.
    Poisoned(io::Error),
}

impl std::fmt::Display for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppendError::Write(e) => write!(f, "writing the log failed ({e}); nothing was appended"),
            AppendError::SyncThenCut(e) => write!(f, "syncing the log failed ({e}); the batch was cut off"),
            AppendError::Poisoned(e) => write!(f, "the log's state on disk is unknown after a failed sync ({e})"),
        }
    }
}

impl std::error::Error for AppendError {}

/// An open log: its file, where it ends, and coarse offsets for reads.
#[derive(Debug)]
pub struct Log<F: LogFile> {
    file: F,
    size: u64,
    head: Hash,
    end: u64,
    offsets: Vec<u64>,
    poisoned: bool,
}

impl<F: LogFile> Log<F> {
    /// A log over `file` whose scan found `scan` (its tail already cut, if
    /// torn). Format 2 only: the store rewrites format 1 files first.
    pub fn from_scan(file: F, scan: &Scan) -> Self {
        Self { file, size: scan.size, head: scan.head, end: scan.end, offsets: scan.offsets.clone(), poisoned: false }
    }

    /// Starts a new, empty log in `file` (which must be empty): writes and
    /// syncs the header.
    pub fn create(mut file: F) -> io::Result<Self> {
        if !file.is_empty()? {
            return Err(io::Error::new(io::ErrorKind::AlreadyExists, "the log file is not empty"));
        }
        file.append(&header())?;
        file.sync()?;
        Ok(Self { file, size: 0, head: [0; 32], end: HEADER_BYTES, offsets: Vec::new(), poisoned: false })
    }

    /// Committed entries.
    pub fn len(&self) -> u64 {
        self.size
    }
    /// Whether no entry is committed.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    /// Hash of the last entry (zeros when empty).
    pub fn head(&self) -> Hash {
        self.head
    }
    /// Byte length of the committed log.
    pub fn end(&self) -> u64 {
        self.end
    }
    /// Whether a failed sync left the file in an unknown state.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
    /// The file.
    pub fn file(&self) -> &F {
        &self.file
    }
    /// Coarse offsets: of every entry at a multiple of [`OFFSET_STRIDE`].
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// Appends a batch durably: entry records and a commit record in one
    /// write, then one sync. The entries must continue the chain (checked
    /// here, as `open` checks them when reading back).
    pub fn append(&mut self, entries: &[(&[u8], Hash)]) -> Result<(), AppendError> {
        if self.poisoned {
            return Err(AppendError::Poisoned(io::Error::other("an earlier sync failed")));
        }
        if entries.is_empty() {
            return Ok(());
        }
        // One write and one sync, but batches of at most BATCH_BYTES_MAX
        // bytes of records, each closed by its commit record: whatever this
        // writes, `scan` reads back.
        let mut buffer = Vec::with_capacity(
            entries.iter().map(|(bytes, _)| bytes.len() + RECORD_HEADER_BYTES).sum::<usize>() + COMMIT_BYTES,
        );
        let mut head = self.head;
        let mut new_offsets = Vec::new();
        let mut batch_start = 0usize;
        let mut batch_first = self.size;
        for (i, (bytes, hash)) in entries.iter().enumerate() {
            let position = self.size + i as u64;
            // Pair assertion: the link is checked right before writing, and
            // again by `scan` right after reading back.
            debug_assert!(
                entry_problem(bytes, position, &head).is_none(),
                "entry {position} does not continue the chain"
            );
            let record = RECORD_HEADER_BYTES + bytes.len();
            if buffer.len() > batch_start && buffer.len() - batch_start + record > BATCH_BYTES_MAX {
                let count = u32::try_from(position - batch_first).unwrap_or(u32::MAX);
                let batch = buffer[batch_start..].to_vec();
                push_commit_record(&mut buffer, &batch, batch_first, count, &head);
                batch_start = buffer.len();
                batch_first = position;
            }
            if position.is_multiple_of(OFFSET_STRIDE) {
                new_offsets.push(self.end + buffer.len() as u64);
            }
            push_entry_record(&mut buffer, bytes);
            head = *hash;
        }
        let count = u32::try_from(self.size + entries.len() as u64 - batch_first).unwrap_or(u32::MAX);
        let batch = buffer[batch_start..].to_vec();
        push_commit_record(&mut buffer, &batch, batch_first, count, &head);
        if let Err(error) = self.file.append(&buffer) {
            // Leave the file as it was so nothing can follow a partial write.
            return match self.file.truncate(self.end) {
                Ok(()) => Err(AppendError::Write(error)),
                Err(_) => {
                    self.poisoned = true;
                    Err(AppendError::Poisoned(error))
                }
            };
        }
        if let Err(error) = self.file.sync() {
            // The pages of this batch may or may not be on disk. Cutting them
            // off and syncing that cut leaves exactly the committed log.
            return match self.file.truncate(self.end) {
                Ok(()) => Err(AppendError::SyncThenCut(error)),
                Err(_) => {
                    self.poisoned = true;
                    Err(AppendError::Poisoned(error))
                }
            };
        }
        self.end += buffer.len() as u64;
        self.size += entries.len() as u64;
        self.head = head;
        self.offsets.extend(new_offsets);
        Ok(())
    }

    /// Up to `limit` committed entries from position `from`.
    pub fn read_range(&self, from: u64, limit: u64) -> io::Result<Vec<Vec<u8>>> {
        read_range(&self.file, &self.offsets, self.size, self.end, from, limit)
    }

    /// Calls `each(position, entry)` for every committed entry, in order.
    pub fn replay<E>(&self, mut each: impl FnMut(u64, &[u8]) -> Result<(), E>) -> Result<(), ScanError<E>> {
        let mut cursor = Cursor::new(&self.file, self.end);
        let mut offset = HEADER_BYTES;
        let mut position = 0u64;
        while position < self.size {
            let marker = cursor.get(offset, 4).map_err(ScanError::Io)?.map(be_u32);
            match marker {
                Some(COMMIT_MARKER) => offset += COMMIT_BYTES as u64,
                Some(len) => {
                    let entry = cursor
                        .get(offset + RECORD_HEADER_BYTES as u64, len as usize)
                        .map_err(ScanError::Io)?
                        .ok_or_else(|| {
                        ScanError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the log ends early"))
                    })?;
                    each(position, entry).map_err(ScanError::Stopped)?;
                    position += 1;
                    offset += RECORD_HEADER_BYTES as u64 + u64::from(len);
                }
                None => return Err(ScanError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "the log ends early"))),
            }
        }
        Ok(())
    }
}

/// Up to `limit` entries from `from`, of a log of `size` committed entries
/// ending at byte `end`, located through the coarse `offsets`.
pub fn read_range<F: LogFile + ?Sized>(
    file: &F,
    offsets: &[u64],
    size: u64,
    end: u64,
    from: u64,
    limit: u64,
) -> io::Result<Vec<Vec<u8>>> {
    read_range_bounded(file, offsets, size, end, from, limit, usize::MAX)
}

/// [`read_range`], stopping once `bytes_max` bytes of entries are read
/// (returning at least one entry when any is left).
pub fn read_range_bounded<F: LogFile + ?Sized>(
    file: &F,
    offsets: &[u64],
    size: u64,
    end: u64,
    from: u64,
    limit: u64,
    bytes_max: usize,
) -> io::Result<Vec<Vec<u8>>> {
    let stop = from.saturating_add(limit).min(size);
    if from >= stop {
        return Ok(Vec::new());
    }
    let slot = usize::try_from(from / OFFSET_STRIDE).unwrap_or(usize::MAX);
    let Some(&start) = offsets.get(slot) else {
        return Err(io::Error::other(format!("no offset recorded for position {from}")));
    };
    let mut cursor = Cursor::with_chunk(file, end, 64 << 10);
    let mut position = from - from % OFFSET_STRIDE;
    let mut offset = start;
    let mut out = Vec::with_capacity(usize::try_from(stop - from).unwrap_or(0).min(1024));
    let mut bytes = 0usize;
    while position < stop && (out.is_empty() || bytes < bytes_max) {
        let header =
            cursor.get(offset, 4)?.ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the log ends early"))?;
        let marker = be_u32(header);
        if marker == COMMIT_MARKER {
            offset += COMMIT_BYTES as u64;
            continue;
        }
        let len = marker as usize;
        if len > ENTRY_BYTES_MAX {
            return Err(io::Error::other(format!("impossible record length at byte {offset}")));
        }
        if position >= from {
            let entry = cursor
                .get(offset + RECORD_HEADER_BYTES as u64, len)?
                .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the log ends inside a record"))?;
            bytes += entry.len();
            out.push(entry.to_vec());
        }
        offset += (RECORD_HEADER_BYTES + len) as u64;
        position += 1;
    }
    Ok(out)
}
