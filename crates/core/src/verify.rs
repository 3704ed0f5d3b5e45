//! The streaming chain verifier: feed entries one by one or in chunks of
//! export lines, get the final state or the first bad position with a
//! machine-readable reason.
//!
//! Work is split in two so that signature checks can run on every core
//! without changing a verdict: [`prepare_line`] / [`prepare_entry`] do
//! everything that needs no state (parse, decode, hash, verify the
//! signature) and may run in any order on any thread; [`ChainVerifier::check`]
//! then consumes prepared entries strictly in order and reports the first
//! failure by the fixed order of checks in `docs/FORMAT.md`. Memory is the
//! rule state plus whatever the caller holds in flight.

use base64::Engine as _;
use thiserror::Error;

use crate::codec::DecodeError;
use crate::crypto::{self, SignatureError};
use crate::entry::{sha256, Entry};
use crate::event::{Payload, Version};
use crate::hexser::Hex;
use crate::limits::LINE_BYTES_MAX;
use crate::rejection::{GenesisError, Rejection};
use crate::sequence::Sequencer;
use crate::state::{Context, Ledger};
use crate::{Hash, PublicKey};

/// Why an entry is bad.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Reason {
    /// The export line is not a JSON object of the published shape.
    #[error("malformed export line: {detail}")]
    MalformedLine {
        /// What the parser said.
        detail: String,
    },
    /// The last line does not end with a newline: the export was cut.
    #[error("the last line is truncated (no final newline)")]
    TruncatedLine,
    /// The log holds no entry at all.
    #[error("the log is empty")]
    EmptyLog,
    /// The entry bytes do not decode.
    #[error("malformed entry: {0}")]
    MalformedEntry(DecodeError),
    /// The entry (or its line) states another position than expected.
    #[error("expected position {expected}, found {found}")]
    PositionMismatch {
        /// Expected.
        expected: u64,
        /// Found.
        found: u64,
    },
    /// The line's stated hash is not the hash of its entry bytes.
    #[error("stated hash {stated} is not the entry's hash {computed}")]
    HashMismatch {
        /// In the line.
        stated: Hex<32>,
        /// Computed.
        computed: Hex<32>,
    },
    /// The previous-hash link is broken.
    #[error("previous hash {found} does not match the previous entry's hash {expected}")]
    BrokenLink {
        /// The previous entry's hash.
        expected: Hex<32>,
        /// What the entry links to.
        found: Hex<32>,
    },
    /// Node time went backwards.
    #[error("node time went backwards from {previous_ms} to {found_ms}")]
    TimeWentBackwards {
        /// Previous entry's time.
        previous_ms: u64,
        /// This entry's time.
        found_ms: u64,
    },
    /// The signature is refused.
    #[error("signature refused: {0}")]
    BadSignature(SignatureError),
    /// The payload does not decode.
    #[error("malformed payload: {0}")]
    MalformedPayload(DecodeError),
    /// The act breaks a rule.
    #[error("{0}")]
    Rule(Rejection),
}

impl Reason {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::MalformedLine { .. } => "malformed_line",
            Reason::TruncatedLine => "truncated_line",
            Reason::EmptyLog => "empty_log",
            Reason::MalformedEntry(_) => "malformed_entry",
            Reason::PositionMismatch { .. } => "position_mismatch",
            Reason::HashMismatch { .. } => "hash_mismatch",
            Reason::BrokenLink { .. } => "broken_link",
            Reason::TimeWentBackwards { .. } => "time_went_backwards",
            Reason::BadSignature(_) => "bad_signature",
            Reason::MalformedPayload(_) => "malformed_payload",
            Reason::Rule(rejection) => rejection.code(),
        }
    }
}

/// The first bad position and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("entry {position}: {reason}")]
pub struct Failure {
    /// Zero-based position of the first bad entry.
    pub position: u64,
    /// Why it is bad.
    pub reason: Reason,
}

impl serde::Serialize for Failure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Failure", 3)?;
        out.serialize_field("position", &self.position)?;
        out.serialize_field("code", self.reason.code())?;
        out.serialize_field("message", &self.reason.to_string())?;
        out.end()
    }
}

const LINE_OPEN: &[u8] = b"{\"position\":";
const LINE_HASH: &[u8] = b",\"hash\":\"";
const LINE_ENTRY: &[u8] = b"\",\"entry\":\"";
const LINE_CLOSE: &[u8] = b"\"}";

/// Parses one export line (without its newline) in its only accepted
/// spelling: `{"position":N,"hash":"H","entry":"E"}` with no whitespace,
/// these members in this order, `N` a decimal without leading zeros, `H` 64
/// lowercase hex digits and `E` canonical padded base64. Messages name the
/// byte offset, never the bytes, so a file that is not an export (a secret
/// key, say) is never echoed.
pub fn parse_line(line: &[u8]) -> Result<(u64, Hash, Vec<u8>), String> {
    if line.len() > LINE_BYTES_MAX {
        return Err(format!("line longer than {LINE_BYTES_MAX} bytes"));
    }
    let mut at = 0usize;
    let expect = |at: &mut usize, literal: &[u8], what: &str| {
        if line.get(*at..*at + literal.len()) == Some(literal) {
            *at += literal.len();
            Ok(())
        } else {
            Err(format!("expected {what} at byte {at}", at = *at))
        }
    };
    expect(&mut at, LINE_OPEN, "`{\"position\":`")?;
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 20 || (digits > 1 && line[at] == b'0') {
        return Err(format!("position at byte {at} is not a decimal without leading zeros"));
    }
    let position = core::str::from_utf8(&line[at..at + digits])
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or_else(|| format!("position at byte {at} exceeds 2^64 - 1"))?;
    at += digits;
    expect(&mut at, LINE_HASH, "`,\"hash\":\"`")?;
    let hash_text = line.get(at..at + 64).and_then(|b| core::str::from_utf8(b).ok()).unwrap_or_default();
    let hash = crate::hexser::parse::<32>(hash_text)
        .map_err(|_| format!("hash at byte {at} is not 64 lowercase hex digits"))?;
    at += 64;
    expect(&mut at, LINE_ENTRY, "`\",\"entry\":\"`")?;
    let base64_len =
        line[at..].iter().take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')).count();
    let entry = base64::engine::general_purpose::STANDARD
        .decode(&line[at..at + base64_len])
        .map_err(|_| format!("entry at byte {at} is not canonical padded base64"))?;
    at += base64_len;
    expect(&mut at, LINE_CLOSE, "`\"}` ending the line")?;
    if at != line.len() {
        return Err(format!("unexpected bytes after the object at byte {at}"));
    }
    Ok((position, hash, entry))
}

/// One export line for `entry_bytes` at `position`, with its newline.
pub fn export_line(position: u64, entry_hash: &Hash, entry_bytes: &[u8]) -> String {
    format!(
        "{{\"position\":{position},\"hash\":\"{}\",\"entry\":\"{}\"}}\n",
        hex::encode(entry_hash),
        base64::engine::general_purpose::STANDARD.encode(entry_bytes)
    )
}

/// Everything about one entry that needs no state.
#[derive(Debug, Clone)]
pub struct PreparedEntry {
    /// The entry bytes as received.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`.
    pub hash: Hash,
    /// The position the export line states (the entry's own, for raw entries).
    pub stated_position: u64,
    /// The hash the export line states (the computed one, for raw entries).
    pub stated_hash: Hash,
    /// The entry's format version.
    pub version: Version,
    /// The entry's position field.
    pub position: u64,
    /// The entry's previous-hash field.
    pub prev_hash: Hash,
    /// The entry's node time.
    pub time_ms: u64,
    /// The author key.
    pub author: PublicKey,
    /// The signature verdict.
    pub signature: Result<(), SignatureError>,
    /// The decoded payload.
    pub payload: Result<Payload, DecodeError>,
    payload_range: core::ops::Range<usize>,
}

impl PreparedEntry {
    /// The payload bytes, as signed.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.bytes[self.payload_range.clone()]
    }
}

/// A prepared entry, or why it could not be read at all.
pub type Prepared = Result<PreparedEntry, Reason>;

/// Prepares raw entry bytes (as the node stores them).
pub fn prepare_entry(bytes: Vec<u8>) -> Prepared {
    prepare(bytes, None, None)
}

/// Prepares raw entry bytes whose signature was already verified before
/// they were written (the node replaying its own log after re-checking its
/// checksums and hash chain). Every other check still runs.
pub fn prepare_entry_presigned(bytes: Vec<u8>) -> Prepared {
    prepare(bytes, None, Some(Ok(())))
}

/// Prepares one export line (without its newline).
pub fn prepare_line(line: &[u8]) -> Prepared {
    prepare_line_with(line, None)
}

/// Prepares one export line, taking the signature verdict from `signature`
/// when given (computed earlier by [`signature_verdict`] on another thread
/// or in another Web Worker) instead of verifying again.
pub fn prepare_line_with(line: &[u8], signature: Option<Result<(), SignatureError>>) -> Prepared {
    let (position, stated_hash, bytes) = parse_line(line).map_err(|detail| Reason::MalformedLine { detail })?;
    prepare(bytes, Some((position, stated_hash)), signature)
}

/// The signature verdict for one export line, as one byte (see
/// [`SignatureError::to_byte`]); lines that do not parse get 0, since
/// [`ChainVerifier::check`] reports their parse error first.
pub fn signature_verdict(line: &[u8]) -> u8 {
    match prepare_line(line) {
        Ok(entry) => SignatureError::to_byte(entry.signature),
        Err(_) => 0,
    }
}

fn prepare(bytes: Vec<u8>, stated: Option<(u64, Hash)>, signature: Option<Result<(), SignatureError>>) -> Prepared {
    let hash = sha256(&bytes);
    let entry = Entry::decode(&bytes).map_err(Reason::MalformedEntry)?;
    let (stated_position, stated_hash) = stated.unwrap_or((entry.position, hash));
    let signature = signature.unwrap_or_else(|| crypto::verify(&entry.author, entry.payload, &entry.signature));
    let payload = Payload::decode(entry.payload);
    // The payload sits just before the 64-byte signature at the end.
    let payload_end = bytes.len() - 64;
    let payload_range = payload_end - entry.payload.len()..payload_end;
    let (version, position, prev_hash, time_ms, author) =
        (entry.version, entry.position, entry.prev_hash, entry.time_ms, entry.author);
    Ok(PreparedEntry {
        bytes,
        hash,
        stated_position,
        stated_hash,
        version,
        position,
        prev_hash,
        time_ms,
        author,
        signature,
        payload,
        payload_range,
    })
}

/// Consumes prepared entries in order and keeps the rule state.
#[derive(Debug, Clone, Default)]
pub struct ChainVerifier {
    sequencer: Option<Sequencer>,
}

impl ChainVerifier {
    /// A verifier expecting the genesis entry.
    pub fn new() -> Self {
        Self::default()
    }
    /// Entries accepted so far; the position expected next.
    pub fn size(&self) -> u64 {
        self.sequencer.as_ref().map_or(0, Sequencer::size)
    }
    /// Hash of the last accepted entry (zeros before genesis).
    pub fn head(&self) -> &Hash {
        self.sequencer.as_ref().map_or(&[0; 32], Sequencer::head)
    }
    /// Time of the last accepted entry (0 before genesis).
    pub fn time_ms(&self) -> u64 {
        self.sequencer.as_ref().map_or(0, Sequencer::time_ms)
    }
    /// The state after the entries accepted so far.
    pub fn ledger(&self) -> Option<&Ledger> {
        self.sequencer.as_ref().map(Sequencer::ledger)
    }
    /// The sequencer after the entries accepted so far, to continue the
    /// ledger from (the node after replaying its log).
    pub fn into_sequencer(self) -> Option<Sequencer> {
        self.sequencer
    }

    /// Checks the next entry, in the order of `docs/FORMAT.md` section 7.
    /// On failure nothing changes.
    pub fn check(&mut self, prepared: &Prepared) -> Result<(), Failure> {
        self.check_with(prepared, None)
    }

    /// [`ChainVerifier::check`] with a secret ballot's proofs checked before,
    /// on another thread or in another Web Worker, by
    /// [`crate::state::LedgerView::check_ballot`].
    pub fn check_with(
        &mut self,
        prepared: &Prepared,
        checked: Option<crate::secret::PreChecked<'_>>,
    ) -> Result<(), Failure> {
        let position = self.size();
        let fail = |reason| Failure { position, reason };
        let entry = prepared.as_ref().map_err(|reason| fail(reason.clone()))?;
        if let Some(sequencer) = &self.sequencer {
            if entry.version != sequencer.version() {
                return Err(fail(Reason::MalformedEntry(DecodeError::WrongVersion {
                    field: "entry.version",
                    found: entry.version.number(),
                    expected: sequencer.version().number(),
                })));
            }
        }
        if entry.stated_position != position || entry.position != position {
            let found = if entry.stated_position != position { entry.stated_position } else { entry.position };
            return Err(fail(Reason::PositionMismatch { expected: position, found }));
        }
        if entry.stated_hash != entry.hash {
            return Err(fail(Reason::HashMismatch { stated: Hex(entry.stated_hash), computed: Hex(entry.hash) }));
        }
        let head = *self.head();
        if entry.prev_hash != head {
            if position == 0 {
                return Err(fail(Reason::Rule(Rejection::BadGenesis(GenesisError::NonZeroPrevHash))));
            }
            return Err(fail(Reason::BrokenLink { expected: Hex(head), found: Hex(entry.prev_hash) }));
        }
        let last_time = self.time_ms();
        if entry.time_ms < last_time {
            return Err(fail(Reason::TimeWentBackwards { previous_ms: last_time, found_ms: entry.time_ms }));
        }
        entry.signature.map_err(|e| fail(Reason::BadSignature(e)))?;
        let payload = entry.payload.as_ref().map_err(|e| fail(Reason::MalformedPayload(e.clone())))?;
        if payload.version != entry.version {
            return Err(fail(Reason::MalformedPayload(DecodeError::WrongVersion {
                field: "payload.version",
                found: payload.version.number(),
                expected: entry.version.number(),
            })));
        }
        let ctx = Context { position, time_ms: entry.time_ms, entry_hash: entry.hash, author: entry.author };
        match &mut self.sequencer {
            None => {
                let ledger = Ledger::open(&ctx, payload, entry.payload_bytes()).map_err(|r| fail(Reason::Rule(r)))?;
                self.sequencer = Some(Sequencer::opened(ledger, entry.hash, entry.time_ms));
            }
            Some(sequencer) => {
                sequencer.accept(&ctx, payload, entry.payload_bytes(), checked).map_err(|r| fail(Reason::Rule(r)))?
            }
        }
        Ok(())
    }

    /// The final state, or `EmptyLog` if nothing was accepted.
    pub fn finish(self) -> Result<Verified, Failure> {
        match self.sequencer {
            Some(sequencer) => Ok(Verified {
                size: sequencer.size(),
                head: *sequencer.head(),
                time_ms: sequencer.time_ms(),
                ledger: sequencer.into_ledger(),
            }),
            None => Err(Failure { position: 0, reason: Reason::EmptyLog }),
        }
    }
}

/// A fully verified log.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Number of entries.
    pub size: u64,
    /// Hash of the last entry.
    pub head: Hash,
    /// Time of the last entry.
    pub time_ms: u64,
    /// The recomputed state.
    pub ledger: Ledger,
}

/// Splits a byte stream into export lines, bounding what it buffers.
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// A splitter with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `chunk` and passes each completed line (without `\n`) to
    /// `each`, which returns `false` to stop early. Fails if a line grows
    /// past the limit without ending.
    pub fn feed(&mut self, mut chunk: &[u8], mut each: impl FnMut(&[u8]) -> bool) -> Result<(), LineTooLong> {
        while let Some(end) = chunk.iter().position(|&b| b == b'\n') {
            let go_on = if self.partial.is_empty() {
                each(&chunk[..end])
            } else {
                self.partial.extend_from_slice(&chunk[..end]);
                let line = core::mem::take(&mut self.partial);
                each(&line)
            };
            if !go_on {
                return Ok(());
            }
            chunk = &chunk[end + 1..];
        }
        self.partial.extend_from_slice(chunk);
        if self.partial.len() > LINE_BYTES_MAX {
            return Err(LineTooLong);
        }
        Ok(())
    }

    /// Whether bytes are left after the last newline (a truncated line).
    pub fn has_partial(&self) -> bool {
        !self.partial.is_empty()
    }
}

/// A line grew past [`LINE_BYTES_MAX`] without a newline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

/// Verifies a whole export in one thread: the reference, simplest use of the
/// verifier. Parallel callers follow the same steps with `prepare_line` on
/// many threads.
#[derive(Debug, Default)]
pub struct StreamVerifier {
    chain: ChainVerifier,
    lines: LineSplitter,
    failure: Option<Failure>,
}

impl StreamVerifier {
    /// A verifier expecting the genesis line.
    pub fn new() -> Self {
        Self::default()
    }
    /// Entries verified so far.
    pub fn size(&self) -> u64 {
        self.chain.size()
    }
    /// The state so far.
    pub fn chain(&self) -> &ChainVerifier {
        &self.chain
    }
    /// Feeds the next bytes of the export. After the first failure, further
    /// input is ignored and the failure is returned again.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let chain = &mut self.chain;
        let failure = &mut self.failure;
        let split = self.lines.feed(chunk, |line| match chain.check(&prepare_line(line)) {
            Ok(()) => true,
            Err(f) => {
                *failure = Some(f);
                false
            }
        });
        if split.is_err() && self.failure.is_none() {
            self.failure = Some(Failure {
                position: self.chain.size(),
                reason: Reason::MalformedLine { detail: format!("line longer than {LINE_BYTES_MAX} bytes") },
            });
        }
        match &self.failure {
            Some(failure) => Err(failure.clone()),
            None => Ok(()),
        }
    }
    /// Ends the input: the verified log or the first failure.
    pub fn finish(self) -> Result<Verified, Failure> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        if self.lines.has_partial() {
            return Err(Failure { position: self.chain.size(), reason: Reason::TruncatedLine });
        }
        self.chain.finish()
    }
}
