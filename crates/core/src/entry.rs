//! Entries: a payload placed in the chain, and the bytes that are hashed.
//!
//! An entry binds a position, the previous entry's hash, the node's time, the
//! author's key, the signed payload bytes and the author's signature. Its
//! hash is SHA-256 over its exact encoded bytes, which are stored and
//! exported as they are: nobody re-serializes to check a hash.

use sha2::{Digest, Sha256};

use crate::codec::{check_range, DecodeError, Reader, Writer};
use crate::event::Version;
use crate::limits::{ENTRY_BYTES_MAX, TIME_MS_MAX};
use crate::{Hash, PublicKey};

/// The eight bytes that open every entry.
pub const ENTRY_MAGIC: &[u8; 8] = b"DAUYSENT";
/// The eight bytes that open every signed head.
pub const HEAD_MAGIC: &[u8; 8] = b"DAUYSHED";
/// The version of the signed head message (the same in every format).
pub const HEAD_VERSION: u16 = 1;

/// A decoded entry, borrowing its payload from the entry bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The format version (the ledger's).
    pub version: Version,
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
            .u16(self.version.number())
            .u64(self.position)
            .raw(&self.prev_hash)
            .u64(self.time_ms)
            .raw(&self.author)
            .bytes(self.payload)
            .raw(&self.signature);
        w.finish()
    }

    /// Decodes entry bytes of any known version, refusing anything
    /// non-canonical or beyond the limits of the entry's own version.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        check_range("entry", bytes.len() as u64, 0, ENTRY_BYTES_MAX as u64)?;
        let mut r = Reader::new(bytes);
        if r.take(8, "entry.magic")? != ENTRY_MAGIC {
            return Err(DecodeError::BadMagic { field: "entry.magic" });
        }
        let number = r.u16("entry.version")?;
        let version = Version::from_u16(number)
            .ok_or(DecodeError::UnknownTag { field: "entry.version", value: number.into() })?;
        check_range("entry", bytes.len() as u64, 0, version.entry_bytes_max() as u64)?;
        let position = r.u64("entry.position")?;
        let prev_hash = r.array("entry.prev_hash")?;
        let time_ms = r.u64("entry.time_ms")?;
        if version >= Version::V2 && time_ms > TIME_MS_MAX {
            return Err(DecodeError::TimeOutOfRange { field: "entry.time_ms", found: time_ms, max: TIME_MS_MAX });
        }
        let entry = Entry {
            version,
            position,
            prev_hash,
            time_ms,
            author: r.array("entry.author")?,
            payload: r.bytes("entry.payload", 0, version.payload_bytes_max())?,
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
        w.raw(HEAD_MAGIC).u16(HEAD_VERSION).raw(ledger_id).u64(size).raw(head_hash).u64(time_ms);
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
            version: Version::V1,
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

    #[test]
    fn format_2_bounds_time_and_size() {
        let payload = vec![0u8; crate::limits::PAYLOAD_BYTES_MAX_V2];
        let at = |time_ms, payload: &[u8]| {
            Entry {
                version: Version::V2,
                position: 0,
                prev_hash: [0; 32],
                time_ms,
                author: [3; 32],
                payload,
                signature: [8; 64],
            }
            .encode()
        };
        let largest = at(TIME_MS_MAX, &payload);
        assert_eq!(largest.len(), u16::MAX as usize);
        assert!(Entry::decode(&largest).is_ok());
        assert!(matches!(Entry::decode(&at(TIME_MS_MAX + 1, &payload)), Err(DecodeError::TimeOutOfRange { .. })));
        let longer = vec![0u8; payload.len() + 1];
        assert!(matches!(Entry::decode(&at(0, &longer)), Err(DecodeError::TooLong { .. })));
    }
}
