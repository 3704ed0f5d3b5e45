//! Entries: a payload placed in the chain, and the bytes that are hashed.
//!
//! An entry binds a position, the previous entry's hash, the node's time, the
//! author's key, the signed payload bytes and the author's signature. Its
//! hash is SHA-256 over its exact encoded bytes, which are stored and
//! exported as they are: nobody re-serializes to check a hash.

use sha2::{Digest, Sha256};

use crate::codec::{check_range, DecodeError, Reader, Writer};
use crate::limits::{ENTRY_BYTES_MAX, PAYLOAD_BYTES_MAX};
use crate::{Hash, PublicKey};

/// The eight bytes that open every entry.
pub const ENTRY_MAGIC: &[u8; 8] = b"DAUYSENT";
/// The eight bytes that open every signed head.
pub const HEAD_MAGIC: &[u8; 8] = b"DAUYSHED";

/// A decoded entry, borrowing its payload from the entry bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Zero-based position in the log.
    pub position: u64,
    /// Hash of the entry at `position - 1`; all zeros for genesis.
    pub prev_hash: Hash,
    /// Node time when appended, milliseconds since the Unix epoch (UTC).
    pub time_ms: u64,
    /// The author's Ed25519 public key.
    pub author: PublicKey,
    /// The payload bytes the author signed.
    pub payload: &'a [u8],
    /// The author's signature over `payload`.
    pub signature: [u8; 64],
}

impl<'a> Entry<'a> {
    /// Encodes the entry.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(ENTRY_MAGIC)
            .u16(crate::event::FORMAT_VERSION)
            .u64(self.position)
            .raw(&self.prev_hash)
            .u64(self.time_ms)
            .raw(&self.author)
            .bytes(self.payload)
            .raw(&self.signature);
        w.finish()
    }

    /// Decodes entry bytes, refusing anything non-canonical.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        check_range("entry", bytes.len() as u64, 0, ENTRY_BYTES_MAX as u64)?;
        let mut r = Reader::new(bytes);
        if r.take(8, "entry.magic")? != ENTRY_MAGIC {
            return Err(DecodeError::BadMagic { field: "entry.magic" });
        }
        let version = r.u16("entry.version")?;
        if version != crate::event::FORMAT_VERSION {
            return Err(DecodeError::UnknownTag { field: "entry.version", value: version.into() });
        }
        let entry = Entry {
            position: r.u64("entry.position")?,
            prev_hash: r.array("entry.prev_hash")?,
            time_ms: r.u64("entry.time_ms")?,
            author: r.array("entry.author")?,
            payload: r.bytes("entry.payload", 0, PAYLOAD_BYTES_MAX)?,
            signature: r.array("entry.signature")?,
        };
        r.end()?;
        Ok(entry)
    }
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// The head of a log: how many entries, the last entry's hash, the last
/// entry's time, as signed by the node's log key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedHead {
    /// Ledger id.
    #[serde(with = "crate::hexser")]
    pub ledger_id: Hash,
    /// Number of entries (the next position).
    pub size: u64,
    /// Hash of the entry at `size - 1`.
    #[serde(with = "crate::hexser")]
    pub head_hash: Hash,
    /// Time of that entry.
    pub time_ms: u64,
    /// Log key signature over [`SignedHead::message`].
    #[serde(with = "crate::hexser")]
    pub signature: [u8; 64],
}

impl SignedHead {
    /// The bytes the log key signs.
    pub fn message(ledger_id: &Hash, size: u64, head_hash: &Hash, time_ms: u64) -> Vec<u8> {
        let mut w = Writer::new();
        w.raw(HEAD_MAGIC).u16(crate::event::FORMAT_VERSION).raw(ledger_id).u64(size).raw(head_hash).u64(time_ms);
        w.finish()
    }
    /// Checks the signature against the ledger's log key.
    pub fn verify(&self, log_key: &PublicKey) -> Result<(), crate::crypto::SignatureError> {
        let message = Self::message(&self.ledger_id, self.size, &self.head_hash, self.time_ms);
        crate::crypto::verify(log_key, &message, &self.signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trips_and_refuses_extra_bytes() {
        let payload = vec![1, 2, 3];
        let entry = Entry {
            position: 4,
            prev_hash: [9; 32],
            time_ms: 77,
            author: [3; 32],
            payload: &payload,
            signature: [8; 64],
        };
        let mut bytes = entry.encode();
        assert_eq!(Entry::decode(&bytes), Ok(entry));
        bytes.push(0);
        assert_eq!(Entry::decode(&bytes), Err(DecodeError::TrailingBytes { count: 1 }));
    }
}
