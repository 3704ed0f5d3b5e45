//! The one sequencing step, shared by every writer and every verifier: where
//! the chain stands (size, head, last time, format) with the rule state, and
//! how the next act becomes the next entry.
//!
//! The node's writer, `dauys init` and `demo`, and the fixture generator
//! place acts with [`Sequencer::sequence`]; the verifiers check entries they
//! read with [`crate::ChainVerifier`], which advances the same state through
//! [`Sequencer::accept`]. No clock is read here: the caller passes its
//! time, and the entry's time is never earlier than the previous entry's.

use thiserror::Error;

use crate::codec::DecodeError;
use crate::event::{Payload, Version};
use crate::limits::TIME_MS_MAX;
use crate::rejection::Rejection;
use crate::state::{Context, Ledger};
use crate::{sha256, Entry, Hash, Submission};

/// An act placed as the next entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequenced {
    /// Its position.
    pub position: u64,
    /// Its entry hash.
    pub hash: Hash,
    /// The node time stamped on it.
    pub time_ms: u64,
    /// The entry bytes.
    pub bytes: Vec<u8>,
}

/// Why an act was not placed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SequenceError {
    /// A rule refused it.
    #[error(transparent)]
    Rule(#[from] Rejection),
    /// The payload is of another format than the ledger's.
    #[error("payload: {0}")]
    Malformed(DecodeError),
    /// The caller's clock is beyond the format's last millisecond.
    #[error("the clock reads {now_ms} ms, beyond the last millisecond the format allows")]
    Clock {
        /// What the clock read.
        now_ms: u64,
    },
}

/// The chain's head and the rule state after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequencer {
    size: u64,
    head: Hash,
    time_ms: u64,
    ledger: Ledger,
}

/// The entry time for an act arriving at `now_ms` after an entry at
/// `last_ms`: time never goes backwards, even when the clock does.
fn entry_time(version: Version, last_ms: u64, now_ms: u64) -> Result<u64, SequenceError> {
    let time = now_ms.max(last_ms);
    if version >= Version::V2 && time > TIME_MS_MAX {
        return Err(SequenceError::Clock { now_ms });
    }
    Ok(time)
}

fn entry_bytes(version: Version, position: u64, prev_hash: &Hash, time_ms: u64, submission: &Submission) -> Vec<u8> {
    Entry {
        version,
        position,
        prev_hash: *prev_hash,
        time_ms,
        author: submission.author,
        payload: &submission.payload,
        signature: submission.signature,
    }
    .encode()
}

impl Sequencer {
    /// Opens a ledger with its genesis act at position 0. The ledger's format
    /// is the genesis payload's version.
    pub fn genesis(
        submission: &Submission,
        payload: &Payload,
        now_ms: u64,
    ) -> Result<(Self, Sequenced), SequenceError> {
        let time_ms = entry_time(payload.version, 0, now_ms)?;
        let bytes = entry_bytes(payload.version, 0, &[0; 32], time_ms, submission);
        let hash = sha256(&bytes);
        let ctx = Context { position: 0, time_ms, entry_hash: hash, author: submission.author };
        let ledger = Ledger::open(&ctx, payload, &submission.payload)?;
        let sequencer = Self { size: 1, head: hash, time_ms, ledger };
        Ok((sequencer, Sequenced { position: 0, hash, time_ms, bytes }))
    }

    /// A sequencer resuming after a genesis entry that was already checked.
    pub(crate) fn opened(ledger: Ledger, head: Hash, time_ms: u64) -> Self {
        Self { size: 1, head, time_ms, ledger }
    }

    /// Places `submission` (whose decoded payload is `payload`) as the next
    /// entry at `now_ms`, if the rules accept it. On refusal nothing changes.
    pub fn sequence(
        &mut self,
        submission: &Submission,
        payload: &Payload,
        now_ms: u64,
    ) -> Result<Sequenced, SequenceError> {
        self.sequence_checked(submission, payload, now_ms, None)
    }

    /// [`Sequencer::sequence`] for a secret ballot whose proofs were checked
    /// before (see [`Ledger::apply_checked`]).
    pub fn sequence_checked(
        &mut self,
        submission: &Submission,
        payload: &Payload,
        now_ms: u64,
        checked: Option<crate::secret::PreChecked<'_>>,
    ) -> Result<Sequenced, SequenceError> {
        let version = self.ledger.version();
        if payload.version != version {
            return Err(SequenceError::Malformed(DecodeError::WrongVersion {
                field: "payload.version",
                found: payload.version.number(),
                expected: version.number(),
            }));
        }
        let time_ms = entry_time(version, self.time_ms, now_ms)?;
        let position = self.size;
        let bytes = entry_bytes(version, position, &self.head, time_ms, submission);
        let hash = sha256(&bytes);
        let ctx = Context { position, time_ms, entry_hash: hash, author: submission.author };
        self.ledger.apply_checked(&ctx, payload, &submission.payload, checked)?;
        self.advance(hash, time_ms);
        Ok(Sequenced { position, hash, time_ms, bytes })
    }

    /// Applies an entry whose position, link, time and signature the caller
    /// has checked (the verifier's last step).
    pub(crate) fn accept(
        &mut self,
        ctx: &Context,
        payload: &Payload,
        payload_bytes: &[u8],
        checked: Option<crate::secret::PreChecked<'_>>,
    ) -> Result<(), Rejection> {
        self.ledger.apply_checked(ctx, payload, payload_bytes, checked)?;
        self.advance(ctx.entry_hash, ctx.time_ms);
        Ok(())
    }

    fn advance(&mut self, hash: Hash, time_ms: u64) {
        self.size += 1;
        self.head = hash;
        self.time_ms = time_ms;
    }

    /// Entries so far: the next position.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// Hash of the last entry.
    pub fn head(&self) -> &Hash {
        &self.head
    }
    /// Time of the last entry.
    pub fn time_ms(&self) -> u64 {
        self.time_ms
    }
    /// The ledger's format.
    pub fn version(&self) -> Version {
        self.ledger.version()
    }
    /// The rule state.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    /// The rule state, to give away.
    pub fn into_ledger(self) -> Ledger {
        self.ledger
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, LedgerOpened, Rules, Subject};
    use crate::Keypair;

    fn genesis(version: Version) -> (Keypair, Submission, Payload) {
        let commission = Keypair::from_seed(&[1; 32]);
        let excluded = |id: &str| Subject { id: id.into(), excluded: true, terms: vec![] };
        let payload = Payload {
            version,
            ledger_id: [9; 32],
            nonce: 1,
            body: Body::LedgerOpened(LedgerOpened {
                jurisdiction: "Test".into(),
                origin: (version >= Version::V2).then(|| "test.example/ledger".into()),
                commission_key: commission.public(),
                log_key: Keypair::from_seed(&[2; 32]).public(),
                council_key: Keypair::from_seed(&[3; 32]).public(),
                rules: Rules {
                    signing_period_ms: 1_000,
                    council_response_period_ms: 1_000,
                    referendum_window_min_ms: 10,
                    referendum_window_max_ms: 1_000,
                    threshold_supports_min: 1,
                    threshold_share_bp: 0,
                    approval_share_bp: 5_000,
                    yes_share_of_electorate_bp: 0,
                    subjects: vec![excluded("budget"), excluded("staffing"), excluded("internal-organisation")],
                },
            }),
        };
        let submission = Submission::sign(&commission, &payload);
        (commission, submission, payload)
    }

    #[test]
    fn time_never_goes_backwards_and_is_bounded_in_format_2() {
        let (commission, submission, payload) = genesis(Version::V2);
        let (mut sequencer, first) = Sequencer::genesis(&submission, &payload, 5_000).unwrap();
        assert_eq!((first.position, first.time_ms), (0, 5_000));
        let enrol = Payload {
            nonce: 2,
            body: Body::VotersEnrolled { district: String::new(), keys: vec![Keypair::from_seed(&[4; 32]).public()] },
            ..payload.clone()
        };
        let act = Submission::sign(&commission, &enrol);
        // The clock stepped back: the entry keeps the previous time.
        let placed = sequencer.sequence(&act, &enrol, 4_000).unwrap();
        assert_eq!((placed.position, placed.time_ms), (1, 5_000));
        assert_eq!(placed.hash, sha256(&placed.bytes));
        let later = Payload { nonce: 3, ..enrol.clone() };
        let act = Submission::sign(&commission, &later);
        assert_eq!(
            sequencer.sequence(&act, &later, TIME_MS_MAX + 1),
            Err(SequenceError::Clock { now_ms: TIME_MS_MAX + 1 })
        );
        assert_eq!(sequencer.size(), 2, "a refusal changes nothing");
    }

    #[test]
    fn a_payload_of_another_format_is_refused() {
        let (commission, submission, payload) = genesis(Version::V2);
        let (mut sequencer, _) = Sequencer::genesis(&submission, &payload, 0).unwrap();
        let v1 = Payload {
            version: Version::V1,
            nonce: 2,
            body: Body::VotersEnrolled { district: String::new(), keys: vec![Keypair::from_seed(&[4; 32]).public()] },
            ..payload
        };
        let act = Submission::sign(&commission, &v1);
        assert!(matches!(sequencer.sequence(&act, &v1, 1), Err(SequenceError::Malformed(_))));
    }
}
