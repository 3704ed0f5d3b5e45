//! The transparency log over a format 2 ledger's entries: an RFC 6962
//! Merkle tree whose leaves are the entries' exact bytes, checkpoints signed
//! as C2SP signed notes by the log key from genesis, C2SP tlog-tiles paths,
//! inclusion and consistency proofs, receipts in the C2SP tlog-proof format,
//! and witness cosignatures (C2SP tlog-cosignature, Ed25519 type 0x04).
//!
//! The Merkle arithmetic (stored-hash indexes, proofs and their checks) is
//! `tlog_tiles`, a port of Go's `sumdb/tlog` used by Cloudflare's production
//! CT log; notes are `signed_note` from the same project. This module adds
//! what they do not cover: the C2SP tile paths (they write Go's, with the
//! height in the path), the tlog-proof text, timestamped cosignatures, and
//! the one signature rule of [`crate::crypto`] for every signature checked.
//! No IO: the node, the command line and the browser run it alike.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use signed_note::{Note, Signature, VerificationError, Verifier, Verifiers};
use thiserror::Error;
pub use tlog_tiles::{Error as TlogHashError, Hash as TreeHash, HashReader, RecordProof, TreeProof, EMPTY_HASH};

use crate::crypto::{self, Keypair};
use crate::{Hash, PublicKey};

/// Levels of hashes in one tile (tiles are 256 hashes wide).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The first line of a tlog-proof.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Signature type byte of the log's Ed25519 note signatures.
pub const SIGNATURE_ED25519: u8 = 0x01;
/// Signature type byte of Ed25519 witness cosignatures.
pub const SIGNATURE_COSIGNATURE: u8 = 0x04;
/// The most consistency proof lines a witness request may carry.
pub const CONSISTENCY_LINES_MAX: usize = 63;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The leaf hash of entry bytes: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    tlog_tiles::record_hash(entry).0
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    tlog_tiles::node_hash(TreeHash(*left), TreeHash(*right)).0
}

/// The right edge of a growing tree: one hash per complete subtree of the
/// binary decomposition of its size. Appending a leaf yields the hashes to
/// store for it (in `sumdb/tlog`'s stored-hash order) and keeps the root at
/// hand, in `O(log n)` memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (height, hash) of the perfect subtrees, left to right.
    stack: Vec<(u8, Hash)>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf for `entry`; returns the stored hashes of this
    /// record: its leaf hash, then each subtree it completes, bottom up.
    pub fn push(&mut self, entry: &[u8]) -> Vec<Hash> {
        self.push_leaf(leaf_hash(entry))
    }

    /// Appends a leaf by its leaf hash (computed elsewhere, on another
    /// thread say); returns the stored hashes as [`Frontier::push`] does.
    pub fn push_leaf(&mut self, leaf: Hash) -> Vec<Hash> {
        let mut hash = leaf;
        let mut stored = vec![hash];
        let mut height = 0u8;
        while let Some(&(top_height, top)) = self.stack.last() {
            if top_height != height {
                break;
            }
            self.stack.pop();
            hash = node_hash(&top, &hash);
            stored.push(hash);
            height += 1;
        }
        self.stack.push((height, hash));
        self.size += 1;
        stored
    }

    /// The root hash (RFC 6962); `SHA-256("")` for the empty tree.
    pub fn root(&self) -> Hash {
        let mut hashes = self.stack.iter().rev().map(|(_, h)| *h);
        match hashes.next() {
            None => EMPTY_HASH.0,
            Some(last) => hashes.fold(last, |right, left| node_hash(&left, &right)),
        }
    }
}

/// Where the stored hashes of record `n` start (`sumdb/tlog` order).
pub fn stored_hash_index(level: u8, n: u64) -> u64 {
    tlog_tiles::stored_hash_index(level, n)
}

/// How many hashes are stored for a tree of `n` records.
pub fn stored_hash_count(n: u64) -> u64 {
    tlog_tiles::stored_hash_count(n)
}

/// Why a proof or a note did not check out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlogError {
    /// A checkpoint, note, proof or key is not in its format.
    #[error("malformed {what}: {problem}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why.
        problem: String,
    },
    /// The checkpoint names another log.
    #[error("the checkpoint is for log `{found}`, not `{expected}`")]
    WrongOrigin {
        /// Expected origin.
        expected: String,
        /// Found.
        found: String,
    },
    /// No valid signature by the log key.
    #[error("the checkpoint is not signed by the log key")]
    NotSignedByLog,
    /// A signature by a known key does not verify.
    #[error("a signature by `{name}` does not verify")]
    BadSignature {
        /// The key name.
        name: String,
    },
    /// Too few witnesses cosigned.
    #[error("{found} of the required {required} witness cosignatures")]
    Quorum {
        /// Valid cosignatures.
        found: usize,
        /// Required.
        required: usize,
    },
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("the inclusion proof of entry {index} does not lead to the root of size {size}")]
    NotIncluded {
        /// The entry.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The two trees are not one growing log.
    #[error("the tree of size {old} is not a prefix of the tree of size {new}: the log forked or rewrote history")]
    Inconsistent {
        /// Older size.
        old: u64,
        /// Newer size.
        new: u64,
    },
}

fn malformed(what: &'static str, problem: impl Into<String>) -> TlogError {
    TlogError::Malformed { what, problem: problem.into() }
}

/// A checkpoint: the origin, the tree size and the root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin.
    pub origin: String,
    /// Leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text: origin, size, base64 root, each ended by a newline.
    pub fn text(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, b64().encode(self.root))
    }

    /// Parses note text of exactly three lines (no extension lines: dauys
    /// never writes them, and witnesses make no statement about them).
    pub fn parse_text(text: &str) -> Result<Self, TlogError> {
        let body = text.strip_suffix('\n').ok_or_else(|| malformed("checkpoint", "no final newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root), None) = (lines.next(), lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed("checkpoint", "not exactly three lines"));
        };
        if origin.is_empty() {
            return Err(malformed("checkpoint", "empty origin"));
        }
        let size_ok =
            !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()) && (size == "0" || !size.starts_with('0'));
        let size: u64 =
            size.parse().ok().filter(|_| size_ok).ok_or_else(|| malformed("checkpoint", "bad tree size"))?;
        let root = decode_hash(root).ok_or_else(|| malformed("checkpoint", "bad root hash"))?;
        Ok(Self { origin: origin.to_owned(), size, root })
    }

    /// The note signed by the log key (key name = origin, type 0x01).
    pub fn sign(&self, log_key: &Keypair) -> String {
        let text = self.text();
        let id = key_id(&self.origin, SIGNATURE_ED25519, &log_key.public());
        let mut signature = id.to_be_bytes().to_vec();
        signature.extend_from_slice(&log_key.sign(text.as_bytes()));
        format!("{text}\n\u{2014} {} {}\n", self.origin, b64().encode(signature))
    }
}

fn decode_hash(text: &str) -> Option<Hash> {
    let bytes = b64().decode(text).ok()?;
    // One spelling: re-encoding gives the same text.
    (b64().encode(&bytes) == text).then_some(())?;
    bytes.try_into().ok()
}

/// `SHA-256(name || "\n" || type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, signature_type: u8, public: &PublicKey) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([signature_type]);
    hasher.update(public);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A verifier key: `name+hex(key id)+base64(type || public key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key name (for the log: its origin).
    pub name: String,
    /// 0x01 (log) or 0x04 (witness cosignature).
    pub signature_type: u8,
    /// The Ed25519 public key.
    pub public: PublicKey,
}

impl VerifierKey {
    /// The key id.
    pub fn id(&self) -> u32 {
        key_id(&self.name, self.signature_type, &self.public)
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let mut material = vec![self.signature_type];
        material.extend_from_slice(&self.public);
        format!("{}+{:08x}+{}", self.name, self.id(), b64().encode(material))
    }

    /// Parses the text form, checking the key id and the type.
    pub fn parse(text: &str) -> Result<Self, TlogError> {
        let bad = |problem: &str| malformed("verifier key", problem);
        let (name, rest) = text.split_once('+').ok_or_else(|| bad("expected name+id+key"))?;
        let (id, material) = rest.split_once('+').ok_or_else(|| bad("expected name+id+key"))?;
        if !signed_note::is_key_name_valid(name) {
            return Err(bad("bad key name"));
        }
        let material = b64().decode(material).map_err(|_| bad("key is not base64"))?;
        let (&signature_type, public) = material.split_first().ok_or_else(|| bad("empty key"))?;
        if signature_type != SIGNATURE_ED25519 && signature_type != SIGNATURE_COSIGNATURE {
            return Err(bad("only Ed25519 keys (type 01) and cosignature keys (type 04) are supported"));
        }
        let public: PublicKey = public.try_into().map_err(|_| bad("not a 32-byte Ed25519 key"))?;
        crypto::check_key(&public).map_err(|e| bad(&e.to_string()))?;
        let key = Self { name: name.to_owned(), signature_type, public };
        let lowercase_hex = id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if id.len() != 8 || !lowercase_hex || u32::from_str_radix(id, 16).ok() != Some(key.id()) {
            return Err(bad("the key id does not match the key"));
        }
        Ok(key)
    }
}

/// Checks note signatures of one key under the one signature rule; for
/// type 0x04, over the cosignature message with the signature's timestamp.
struct KeyVerifier<'a> {
    key: &'a VerifierKey,
    id: u32,
}

impl Verifier for KeyVerifier<'_> {
    fn name(&self) -> &str {
        &self.key.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self.key.signature_type {
            SIGNATURE_ED25519 => {
                let Ok(signature) = <[u8; 64]>::try_from(sig) else { return false };
                crypto::verify(&self.key.public, msg, &signature).is_ok()
            }
            _ => {
                let Some((timestamp, signature)) = sig.split_first_chunk::<8>() else { return false };
                let Ok(signature) = <[u8; 64]>::try_from(signature) else { return false };
                let timestamp = u64::from_be_bytes(*timestamp);
                if timestamp > i64::MAX as u64 {
                    return false;
                }
                let message = cosignature_message(timestamp, msg);
                crypto::verify(&self.key.public, &message, &signature).is_ok()
            }
        }
    }
}

struct KeyList<'a> {
    verifiers: Vec<KeyVerifier<'a>>,
}

impl Verifiers for KeyList<'_> {
    fn verifier(&self, name: &str, id: u32) -> Result<&dyn Verifier, VerificationError> {
        self.verifiers
            .iter()
            .find(|v| v.key.name == name && v.id == id)
            .map(|v| v as &dyn Verifier)
            .ok_or_else(|| VerificationError::UnknownKey { name: name.to_owned(), id })
    }
}

/// The message a witness signs: `cosignature/v1`, the time line, the note text.
pub fn cosignature_message(timestamp: u64, text: &[u8]) -> Vec<u8> {
    let mut message = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    message.extend_from_slice(text);
    message
}

/// A witness's cosignature line over a checkpoint's note text at `timestamp`
/// (seconds since the epoch).
pub fn cosign(witness_name: &str, witness_key: &Keypair, text: &str, timestamp: u64) -> String {
    let id = key_id(witness_name, SIGNATURE_COSIGNATURE, &witness_key.public());
    let mut signature = id.to_be_bytes().to_vec();
    signature.extend_from_slice(&timestamp.to_be_bytes());
    signature.extend_from_slice(&witness_key.sign(&cosignature_message(timestamp, text.as_bytes())));
    format!("\u{2014} {witness_name} {}\n", b64().encode(signature))
}

/// A trust policy for checkpoints: the log's key (its name is the origin)
/// and, optionally, witnesses of which `quorum` must have cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The log's key, type 0x01, named by the origin.
    pub log: VerifierKey,
    /// Witness keys, type 0x04.
    pub witnesses: Vec<VerifierKey>,
    /// How many of them must have cosigned.
    pub quorum: usize,
}

/// A checkpoint that passed a policy, and which witnesses cosigned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Names of the witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
    /// The signed note, as received.
    pub note: String,
}

impl Policy {
    /// A policy trusting the log key alone.
    pub fn log_only(origin: &str, log_key: &PublicKey) -> Self {
        Self {
            log: VerifierKey { name: origin.to_owned(), signature_type: SIGNATURE_ED25519, public: *log_key },
            witnesses: Vec::new(),
            quorum: 0,
        }
    }

    /// Verifies a signed checkpoint: its origin is the log's, the log key
    /// signed it, every signature by a known key verifies, and at least
    /// `quorum` witnesses cosigned it. Unknown signatures are ignored.
    pub fn verify(&self, note_text: &str) -> Result<Verified, TlogError> {
        // Distinct by public key: the cosigned message does not name the
        // witness, so one key under two names is one witness.
        let mut distinct: Vec<PublicKey> = self.witnesses.iter().map(|w| w.public).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let types_ok = self.log.signature_type == SIGNATURE_ED25519
            && self.witnesses.iter().all(|w| w.signature_type == SIGNATURE_COSIGNATURE);
        // Two different keys under one name and key id would make a line
        // ambiguous (which key checks it?): such a policy is refused.
        let mut ids: Vec<(&str, u32, &PublicKey)> =
            std::iter::once(&self.log).chain(&self.witnesses).map(|k| (k.name.as_str(), k.id(), &k.public)).collect();
        ids.sort();
        ids.dedup();
        let ambiguous = ids.windows(2).any(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1);
        if !types_ok || ambiguous || self.quorum > distinct.len() {
            return Err(malformed(
                "trust policy",
                "the log key must be type 01, witness keys type 04, no two keys may share a name and key id, \
                 and the quorum is at most the witnesses listed",
            ));
        }
        let note = Note::from_bytes(note_text.as_bytes()).map_err(|e| malformed("signed note", e.to_string()))?;
        let text = std::str::from_utf8(note.text()).map_err(|_| malformed("signed note", "not UTF-8"))?;
        let checkpoint = Checkpoint::parse_text(text)?;
        if checkpoint.origin != self.log.name {
            return Err(TlogError::WrongOrigin { expected: self.log.name.clone(), found: checkpoint.origin });
        }
        let mut verifiers = vec![KeyVerifier { key: &self.log, id: self.log.id() }];
        verifiers.extend(self.witnesses.iter().map(|w| KeyVerifier { key: w, id: w.id() }));
        let known = KeyList { verifiers };
        let (verified, _unknown): (Vec<Signature>, Vec<Signature>) = match note.verify(&known) {
            Ok(found) => found,
            Err(signed_note::NoteError::InvalidSignature { name, .. }) => return Err(TlogError::BadSignature { name }),
            Err(signed_note::NoteError::UnverifiedNote) => return Err(TlogError::NotSignedByLog),
            Err(e) => return Err(malformed("signed note", e.to_string())),
        };
        let log_id = self.log.id();
        if !verified.iter().any(|s| s.name() == self.log.name && s.id() == log_id) {
            return Err(TlogError::NotSignedByLog);
        }
        // Each witness key counts once, however often it is listed, under
        // whatever names, or however many lines it signed.
        let mut keys: Vec<PublicKey> = Vec::new();
        let mut cosigned_by: Vec<String> = Vec::new();
        for w in &self.witnesses {
            if verified.iter().any(|s| s.name() == w.name && s.id() == w.id()) && !keys.contains(&w.public) {
                keys.push(w.public);
                cosigned_by.push(w.name.clone());
            }
        }
        if cosigned_by.len() < self.quorum {
            return Err(TlogError::Quorum { found: cosigned_by.len(), required: self.quorum });
        }
        Ok(Verified { checkpoint, cosigned_by, note: note_text.to_owned() })
    }
}

/// Checks that `entry` is leaf `index` of the tree of `checkpoint`.
pub fn check_inclusion(proof: &[Hash], checkpoint: &Checkpoint, index: u64, entry: &[u8]) -> Result<(), TlogError> {
    let proof: RecordProof = proof.iter().map(|h| TreeHash(*h)).collect();
    tlog_tiles::check_record(&proof, checkpoint.size, TreeHash(checkpoint.root), index, TreeHash(leaf_hash(entry)))
        .map_err(|_| TlogError::NotIncluded { index, size: checkpoint.size })
}

/// Checks that the tree `(old_size, old_root)` is a prefix of the tree
/// `(new_size, new_root)`.
pub fn check_consistency(
    proof: &[Hash],
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
) -> Result<(), TlogError> {
    let inconsistent = TlogError::Inconsistent { old: old_size, new: new_size };
    if old_size == 0 {
        // Every tree extends the empty one, whose root is SHA-256("").
        let roots_ok = *old_root == EMPTY_HASH.0 && (new_size > 0 || new_root == old_root);
        return if proof.is_empty() && roots_ok { Ok(()) } else { Err(inconsistent) };
    }
    if old_size == new_size {
        return if proof.is_empty() && old_root == new_root { Ok(()) } else { Err(inconsistent) };
    }
    let proof: TreeProof = proof.iter().map(|h| TreeHash(*h)).collect();
    tlog_tiles::check_tree(&proof, new_size, TreeHash(*new_root), old_size, TreeHash(*old_root))
        .map_err(|_| TlogError::Inconsistent { old: old_size, new: new_size })
}

/// The inclusion proof of leaf `index` in the tree of `size`, from stored hashes.
pub fn prove_inclusion(size: u64, index: u64, hashes: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    tlog_tiles::prove_record(size, index, hashes)
        .map(|p| p.into_iter().map(|h| h.0).collect())
        .map_err(|e| malformed("inclusion proof", e.to_string()))
}

/// The consistency proof from the tree of `old` to the tree of `new`.
pub fn prove_consistency(new: u64, old: u64, hashes: &impl HashReader) -> Result<Vec<Hash>, TlogError> {
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    tlog_tiles::prove_tree(new, old, hashes)
        .map(|p| p.into_iter().map(|h| h.0).collect())
        .map_err(|e| malformed("consistency proof", e.to_string()))
}

/// The root of the tree of `size` from stored hashes.
pub fn tree_root(size: u64, hashes: &impl HashReader) -> Result<Hash, TlogError> {
    tlog_tiles::tree_hash(size, hashes).map(|h| h.0).map_err(|e| malformed("tree", e.to_string()))
}

/// A tile of the C2SP API: level, index, width (256 for a full tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    /// Level (0 holds leaf hashes); `None` for an entry bundle.
    pub level: Option<u8>,
    /// Index within the level.
    pub index: u64,
    /// Hashes (or entries) in it, 1..=256.
    pub width: u64,
}

/// The `<N>` path part: zero-padded 3-digit elements, all but the last
/// prefixed with `x`.
fn index_path(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    while n >= 1000 {
        n /= 1000;
        parts.push(format!("x{:03}", n % 1000));
    }
    parts.reverse();
    parts.join("/")
}

impl Tile {
    /// The path under the log's prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let level = self.level.map_or_else(|| "entries".to_owned(), |l| l.to_string());
        let partial = if self.width == TILE_WIDTH { String::new() } else { format!(".p/{}", self.width) };
        format!("tile/{level}/{}{partial}", index_path(self.index))
    }

    /// Parses a tile path (without the prefix), in its one spelling.
    pub fn parse_path(path: &str) -> Option<Self> {
        let rest = path.strip_prefix("tile/")?;
        let (level, rest) = rest.split_once('/')?;
        let level = match level {
            "entries" => None,
            digits => {
                let level: u8 = digits.parse().ok()?;
                (level.to_string() == digits && level < 64).then_some(Some(level))?
            }
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w: u64 = width.parse().ok()?;
                ((1..TILE_WIDTH).contains(&w) && w.to_string() == width).then_some((index, w))?
            }
            None => (rest, TILE_WIDTH),
        };
        let elements: Vec<&str> = index_part.split('/').collect();
        let mut index = 0u64;
        for (i, element) in elements.iter().enumerate() {
            let digits = if i + 1 < elements.len() { element.strip_prefix('x')? } else { element };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            index = index.checked_mul(1000)?.checked_add(digits.parse().ok()?)?;
        }
        let tile = Self { level, index, width };
        (tile.path() == path).then_some(tile)
    }

    /// The stored-hash indexes of the hashes in this hash tile.
    pub fn hash_indexes(&self) -> Vec<u64> {
        let level = self.level.unwrap_or(0) * TILE_HEIGHT;
        (0..self.width).map(|i| stored_hash_index(level, self.index * TILE_WIDTH + i)).collect()
    }

    /// Whether this tile exists for a tree of `size` (full, or the partial
    /// tile of exactly that size).
    pub fn exists_at(&self, size: u64) -> bool {
        let level = u32::from(self.level.unwrap_or(0));
        let span = TILE_WIDTH.checked_pow(level).unwrap_or(u64::MAX);
        let hashes_at_level = size / span;
        let start = self.index.saturating_mul(TILE_WIDTH);
        if self.width == TILE_WIDTH {
            start.saturating_add(TILE_WIDTH) <= hashes_at_level
        } else {
            start.saturating_add(self.width) == hashes_at_level
        }
    }
}

/// A receipt in the C2SP tlog-proof format: the entry (as the `extra`
/// data), its index, its inclusion proof and the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The entry bytes.
    pub entry: Vec<u8>,
    /// Its position.
    pub index: u64,
    /// Hashes from the leaf's sibling up to the root's child.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl Receipt {
    /// The `.tlog-proof` text.
    pub fn encode(&self) -> String {
        let mut out = format!("{PROOF_HEADER}\nextra {}\nindex {}\n", b64().encode(&self.entry), self.index);
        for hash in &self.proof {
            out.push_str(&b64().encode(hash));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a `.tlog-proof` whose extra data is the entry.
    pub fn parse(text: &str) -> Result<Self, TlogError> {
        let bad = |problem: &str| malformed("tlog-proof", problem);
        let (head, checkpoint) = text.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(PROOF_HEADER) {
            return Err(bad("the first line is not c2sp.org/tlog-proof@v1"));
        }
        let extra =
            lines.next().and_then(|l| l.strip_prefix("extra ")).ok_or_else(|| bad("no extra line (the entry)"))?;
        let entry = b64().decode(extra).map_err(|_| bad("the extra data is not base64"))?;
        let index = lines.next().and_then(|l| l.strip_prefix("index ")).ok_or_else(|| bad("no index line"))?;
        let index_ok = index.bytes().all(|b| b.is_ascii_digit()) && (index == "0" || !index.starts_with('0'));
        let index: u64 = index.parse().ok().filter(|_| index_ok).ok_or_else(|| bad("bad index"))?;
        let proof = lines
            .map(|l| decode_hash(l).ok_or_else(|| bad("a proof line is not a base64 hash")))
            .collect::<Result<Vec<_>, _>>()?;
        if proof.len() > 63 {
            return Err(bad("more than 63 proof lines"));
        }
        Ok(Self { entry, index, proof, checkpoint: checkpoint.to_owned() })
    }

    /// Verifies the receipt offline: the checkpoint passes `policy`, and the
    /// entry is leaf `index` of its tree. Returns the verified checkpoint.
    pub fn verify(&self, policy: &Policy) -> Result<Verified, TlogError> {
        let verified = policy.verify(&self.checkpoint)?;
        // The extra data is an entry, and an entry states its position.
        let entry =
            crate::Entry::decode(&self.entry).map_err(|e| malformed("tlog-proof", format!("the extra data: {e}")))?;
        if entry.position != self.index {
            return Err(malformed("tlog-proof", "the entry's position is not the index"));
        }
        check_inclusion(&self.proof, &verified.checkpoint, self.index, &self.entry)?;
        Ok(verified)
    }
}

/// A body for the witness's `add-checkpoint`: the old size, the
/// consistency proof, a blank line and the checkpoint note.
pub fn add_checkpoint_body(old_size: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&b64().encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// Parses an `add-checkpoint` body: old size, proof, checkpoint note.
pub fn parse_add_checkpoint(body: &str) -> Result<(u64, Vec<Hash>, String), TlogError> {
    let bad = |problem: &str| malformed("add-checkpoint request", problem);
    let (head, note) = body.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines.next().and_then(|l| l.strip_prefix("old ")).ok_or_else(|| bad("no old size line"))?;
    let old_ok = old.bytes().all(|b| b.is_ascii_digit()) && !old.is_empty() && (old == "0" || !old.starts_with('0'));
    let old: u64 = old.parse().ok().filter(|_| old_ok).ok_or_else(|| bad("bad old size"))?;
    let proof = lines
        .map(|l| decode_hash(l).ok_or_else(|| bad("a proof line is not a base64 hash")))
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > CONSISTENCY_LINES_MAX {
        return Err(bad("more than 63 proof lines"));
    }
    Ok((old, proof, note.to_owned()))
}

/// Hash reader over a list of stored hashes in memory (tests, small trees).
#[derive(Debug, Default, Clone)]
pub struct MemoryHashes(pub Vec<Hash>);

impl HashReader for MemoryHashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<TreeHash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .map(|h| TreeHash(*h))
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

/// Checks that `old` is a prefix of `new` with a consistency proof built
/// from the tiles `tiles` gives (each checked against `new`'s root as it is
/// read, so a wrong tile is an error, never a wrong answer).
pub fn check_consistency_from_tiles(
    tiles: &impl tlog_tiles::TileReader,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), TlogError> {
    if old.size > new.size {
        return Err(TlogError::Inconsistent { old: old.size, new: new.size });
    }
    let reader = tlog_tiles::TileHashReader::new(new.size, TreeHash(new.root), tiles);
    let proof = prove_consistency(new.size, old.size, &reader)?;
    check_consistency(&proof, old.size, &old.root, new.size, &new.root)
}

/// A hash reader over tiles (each checked against the root of `size` as it
/// is read).
pub fn tlog_tiles_reader<'a, T: tlog_tiles::TileReader>(
    size: u64,
    root: &Hash,
    tiles: &'a T,
) -> tlog_tiles::TileHashReader<'a> {
    tlog_tiles::TileHashReader::new(size, TreeHash(*root), tiles)
}

/// Checks that the leaf hash `leaf` is leaf `index` of `checkpoint`'s tree.
pub fn check_record_hash(proof: &[Hash], checkpoint: &Checkpoint, index: u64, leaf: Hash) -> Result<(), TlogError> {
    let proof: RecordProof = proof.iter().map(|h| TreeHash(*h)).collect();
    tlog_tiles::check_record(&proof, checkpoint.size, TreeHash(checkpoint.root), index, TreeHash(leaf))
        .map_err(|_| TlogError::NotIncluded { index, size: checkpoint.size })
}

/// Tiles at hand, by path (`tile/<L>/<N>[.p/<W>]`), for a client that
/// fetches them itself (the page): a read of a tile it lacks fails and
/// records the path, so the caller fetches what is missing and tries again.
#[derive(Debug, Default)]
pub struct TileSet {
    tiles: std::collections::HashMap<String, Vec<u8>>,
    missing: core::cell::RefCell<Vec<String>>,
}

impl TileSet {
    /// Adds a tile's bytes.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>) {
        self.tiles.insert(path, bytes);
    }

    /// The paths asked for and not at hand, since the last call.
    pub fn take_missing(&self) -> Vec<String> {
        let mut missing = std::mem::take(&mut *self.missing.borrow_mut());
        missing.sort();
        missing.dedup();
        missing
    }
}

impl tlog_tiles::TileReader for TileSet {
    fn height(&self) -> u8 {
        TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        let mut out = Vec::with_capacity(tiles.len());
        let mut complete = true;
        for t in tiles {
            let path = Tile { level: Some(t.level()), index: t.level_index(), width: u64::from(t.width()) }.path();
            match self.tiles.get(&path) {
                Some(bytes) => out.push(bytes.clone()),
                None => {
                    complete = false;
                    self.missing.borrow_mut().push(path);
                }
            }
        }
        if complete {
            Ok(out)
        } else {
            Err(tlog_tiles::Error::IndexesNotInTree)
        }
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// A checkpoint that contradicts one seen before: the log showed two
/// histories, to this observer over time or to different people.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Fork {
    /// The log shows fewer entries than seen before.
    #[error("FORK: the log now shows {now} entries, but a checkpoint of {before} entries was seen before")]
    Shrunk {
        /// Entries now.
        now: u64,
        /// Entries seen before.
        before: u64,
    },
    /// The tree at the size seen before has another root.
    #[error("FORK: the log's first {size} entries are not the {size} entries of the checkpoint seen before: {detail}")]
    Rewritten {
        /// The size seen before.
        size: u64,
        /// How it was found.
        detail: String,
    },
    /// The comparison could not be made (a tile missing or not matching
    /// the checkpoint, a network error): not a fork, and not a pass either.
    #[error("could not compare with the checkpoint of {size} entries seen before: {detail}")]
    Uncompared {
        /// The size seen before.
        size: u64,
        /// Why.
        detail: String,
    },
}

impl Fork {
    /// Whether this proves two histories (not just a failed comparison).
    pub fn is_fork(&self) -> bool {
        !matches!(self, Fork::Uncompared { .. })
    }
}

/// Checks that `now` (verified) extends `before` (the largest checkpoint of
/// the same log seen earlier): not smaller, and either `root_at_before` (the
/// root the caller computed over the first `before.size` entries it
/// replayed) equals `before`'s root, or `consistency` (a proof the caller
/// can check, e.g. from tiles) holds.
pub fn check_extends(
    before: &Checkpoint,
    now: &Checkpoint,
    root_at_before: Option<Hash>,
    consistency: impl FnOnce() -> Result<(), TlogError>,
) -> Result<(), Fork> {
    if now.size < before.size {
        return Err(Fork::Shrunk { now: now.size, before: before.size });
    }
    let rewritten = |detail: String| Fork::Rewritten { size: before.size, detail };
    match root_at_before {
        Some(root) if root == before.root => Ok(()),
        Some(_) => Err(rewritten("the roots differ".into())),
        // Only a proof that checked and failed is a fork; a proof that could
        // not be built (a tile missing or not authenticated) is not.
        None => consistency().map_err(|e| match e {
            TlogError::Inconsistent { .. } => rewritten(e.to_string()),
            other => Fork::Uncompared { size: before.size, detail: other.to_string() },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entry bytes at position `i` (unsigned: the tree does not care).
    fn entry_at(i: u64) -> Vec<u8> {
        let payload = format!("entry {i}").into_bytes();
        let entry = crate::Entry {
            version: crate::Version::V2,
            position: i,
            prev_hash: [0; 32],
            time_ms: i,
            author: [7; 32],
            payload: &payload,
            signature: [0; 64],
        };
        entry.encode()
    }

    fn tree(n: u64) -> (Frontier, MemoryHashes, Vec<Vec<u8>>) {
        let mut frontier = Frontier::new();
        let mut hashes = MemoryHashes::default();
        let mut entries = Vec::new();
        for i in 0..n {
            let entry = entry_at(i);
            assert_eq!(hashes.0.len() as u64, stored_hash_index(0, i));
            hashes.0.extend(frontier.push(&entry));
            entries.push(entry);
        }
        assert_eq!(hashes.0.len() as u64, stored_hash_count(n));
        (frontier, hashes, entries)
    }

    #[test]
    fn the_frontier_agrees_with_the_stored_hashes_and_rfc_6962() {
        assert_eq!(Frontier::new().root(), Sha256::digest(b"").as_slice());
        for n in [1u64, 2, 3, 5, 8, 255, 256, 257, 1000] {
            let (frontier, hashes, entries) = tree(n);
            assert_eq!(frontier.root(), tree_root(n, &hashes).unwrap(), "size {n}");
            // RFC 6962 by definition, recursively.
            fn mth(leaves: &[Vec<u8>]) -> Hash {
                match leaves.len() {
                    1 => leaf_hash(&leaves[0]),
                    n => {
                        let k = n.next_power_of_two() / 2;
                        node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
                    }
                }
            }
            assert_eq!(frontier.root(), mth(&entries));
        }
    }

    #[test]
    fn proofs_round_trip_and_catch_lies() {
        let (frontier, hashes, entries) = tree(777);
        let key = Keypair::from_seed(&[7; 32]);
        let checkpoint = Checkpoint { origin: "test.example/log".into(), size: 777, root: frontier.root() };
        let note = checkpoint.sign(&key);
        let policy = Policy::log_only("test.example/log", &key.public());
        for index in [0u64, 1, 255, 256, 776] {
            let proof = prove_inclusion(777, index, &hashes).unwrap();
            let entry = entries[usize::try_from(index).unwrap()].clone();
            let receipt = Receipt { entry, index, proof, checkpoint: note.clone() };
            let parsed = Receipt::parse(&receipt.encode()).unwrap();
            assert_eq!(parsed, receipt);
            parsed.verify(&policy).unwrap();
            let mut wrong = parsed.clone();
            *wrong.entry.last_mut().unwrap() ^= 1;
            assert!(matches!(wrong.verify(&policy), Err(TlogError::NotIncluded { .. })));
            // The entry of another position, or no entry at all.
            let mut elsewhere = parsed.clone();
            elsewhere.entry = entry_at(index + 1);
            assert!(matches!(elsewhere.verify(&policy), Err(TlogError::Malformed { .. })));
            let mut not_an_entry = parsed.clone();
            not_an_entry.entry.push(b'!');
            assert!(matches!(not_an_entry.verify(&policy), Err(TlogError::Malformed { .. })));
        }
        let (old, old_hashes, _) = tree(300);
        let proof = prove_consistency(777, 300, &hashes).unwrap();
        check_consistency(&proof, 300, &old.root(), 777, &frontier.root()).unwrap();
        let _ = old_hashes;
        let mut forged = frontier.root();
        forged[0] ^= 1;
        assert!(check_consistency(&proof, 300, &old.root(), 777, &forged).is_err());
    }

    #[test]
    fn notes_verify_only_under_the_policy() {
        let log = Keypair::from_seed(&[1; 32]);
        let witness = Keypair::from_seed(&[2; 32]);
        let checkpoint = Checkpoint { origin: "o.example/log".into(), size: 5, root: [9; 32] };
        let mut note = checkpoint.sign(&log);
        note.push_str(&cosign("w.example/1", &witness, &checkpoint.text(), 1_700_000_000));
        let witness_key =
            VerifierKey { name: "w.example/1".into(), signature_type: SIGNATURE_COSIGNATURE, public: witness.public() };
        let mut policy = Policy::log_only("o.example/log", &log.public());
        policy.witnesses.push(VerifierKey::parse(&witness_key.encode()).unwrap());
        policy.quorum = 1;
        let verified = policy.verify(&note).unwrap();
        assert_eq!(verified.cosigned_by, vec!["w.example/1".to_owned()]);
        // A log-only note fails a quorum of one.
        assert_eq!(policy.verify(&checkpoint.sign(&log)), Err(TlogError::Quorum { found: 0, required: 1 }));
        // Another log key, another origin.
        assert_eq!(
            Policy::log_only("o.example/log", &witness.public()).verify(&checkpoint.sign(&log)),
            Err(TlogError::NotSignedByLog)
        );
        assert!(matches!(
            Policy::log_only("x.example", &log.public()).verify(&note),
            Err(TlogError::WrongOrigin { .. })
        ));
        // A tampered cosignature by a known witness rejects the note.
        let tampered = note.replacen("5\n", "6\n", 1);
        assert!(policy.verify(&tampered).is_err());
        // One witness key under a second name is one witness: its
        // cosignature, relabelled, does not count twice.
        let alias = VerifierKey { name: "alias.example/w".into(), ..witness_key.clone() };
        let relabelled = format!("{note}{}", cosign("alias.example/w", &witness, &checkpoint.text(), 1_700_000_000));
        let mut two_names = policy.clone();
        two_names.witnesses.push(alias);
        assert_eq!(two_names.verify(&relabelled).unwrap().cosigned_by.len(), 1);
        two_names.quorum = 2;
        assert!(matches!(two_names.verify(&relabelled), Err(TlogError::Malformed { what: "trust policy", .. })));
    }

    #[test]
    fn tile_paths_follow_c2sp() {
        let check = |tile: Tile, path: &str| {
            assert_eq!(tile.path(), path);
            assert_eq!(Tile::parse_path(path), Some(tile));
        };
        check(Tile { level: Some(0), index: 1_234_067, width: 256 }, "tile/0/x001/x234/067");
        check(Tile { level: Some(1), index: 0, width: 17 }, "tile/1/000.p/17");
        check(Tile { level: None, index: 5, width: 1 }, "tile/entries/005.p/1");
        for bad in
            ["tile/0/1234", "tile/00/000", "tile/0/x000/001/002", "tile/0/000.p/256", "tile/0/000.p/07", "tile/x/000"]
        {
            assert_eq!(Tile::parse_path(bad), None, "{bad}");
        }
        // A tree of 70,000 (the spec's example).
        let exists = |level, index, width| Tile { level: Some(level), index, width }.exists_at(70_000);
        assert!(exists(0, 272, 256) && exists(0, 273, 112) && !exists(0, 273, 111) && !exists(0, 274, 1));
        assert!(exists(1, 0, 256) && exists(1, 1, 17) && exists(2, 0, 1));
    }
}
