//! The dauys rule core: events and their canonical bytes, hashing, the one
//! signature rule, the petition → ruling → referendum state machine, and the
//! streaming chain verifier.
//!
//! This crate does no IO, reads no clock, draws no randomness and runs no
//! async runtime: time enters as each entry's node time, bytes enter as
//! slices. The node, the `dauys` command line and the browser verifier all
//! run this same code; it builds for `wasm32-unknown-unknown`.

pub mod ceremony;
pub mod codec;
pub mod crypto;
pub mod entry;
pub mod event;
pub mod hexser;
pub mod limits;
pub mod rejection;
pub mod screen;
pub mod secret;
pub mod sequence;
pub mod state;
pub mod summary;
pub mod tlog;
pub mod verify;

/// A SHA-256 digest.
pub type Hash = [u8; 32];
/// An Ed25519 public key, as its 32-byte encoding.
pub type PublicKey = [u8; 32];

pub use crypto::Keypair;
pub use entry::{sha256, Entry, SignedHead};
pub use event::{Body, EventKind, Payload, Rules, Version};
pub use rejection::Rejection;
pub use sequence::{SequenceError, Sequenced, Sequencer};
pub use state::{Ledger, LedgerView};
pub use summary::Summary;
pub use verify::{ChainVerifier, Failure, Reason, StreamVerifier, Verified};

/// A signed act as a client submits it: the payload bytes, the author's key
/// and the author's signature. The node places it in an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The author's key.
    pub author: PublicKey,
    /// The canonical payload bytes.
    pub payload: Vec<u8>,
    /// The author's signature over `payload`.
    pub signature: [u8; 64],
}

impl Submission {
    /// Encodes and signs `payload` with `keypair`.
    pub fn sign(keypair: &Keypair, payload: &Payload) -> Self {
        let bytes = payload.encode();
        Self { author: keypair.public(), signature: keypair.sign(&bytes), payload: bytes }
    }

    /// The entry bytes and hash for this act at `position` after `prev_hash`,
    /// stamped with node time `time_ms`, without asking the rules (tests and
    /// tampered fixtures; writers use [`Sequencer::sequence`]).
    pub fn to_entry(&self, version: Version, position: u64, prev_hash: &Hash, time_ms: u64) -> (Vec<u8>, Hash) {
        let bytes = Entry {
            version,
            position,
            prev_hash: *prev_hash,
            time_ms,
            author: self.author,
            payload: &self.payload,
            signature: self.signature,
        }
        .encode();
        let hash = sha256(&bytes);
        (bytes, hash)
    }
}
