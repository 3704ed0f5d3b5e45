//! The writer: the one owner of the log and of the sequencing step.
//!
//! [`Writer::commit`] decides a batch of acts with the rule core
//! ([`Sequencer`]) and makes the accepted ones durable with one append
//! (write, `fdatasync`) before it reports any outcome. It reads time only
//! from its [`Clock`] and touches the disk only through its [`Journal`], so
//! the deterministic simulation runs this very code on a simulated disk and
//! clock.
//!
//! When an append fails the log is left as it was (the store cuts a failed
//! batch off again), every act of the batch is answered "unavailable, not
//! recorded", and the rule state is rebuilt from the log before the next
//! batch. A failed sync whose cut also failed leaves the log in an unknown
//! state: the writer then refuses every act until the node restarts.

use dauys_core::secret::PreChecked;
use dauys_core::verify::prepare_entry_presigned;
use dauys_core::{ChainVerifier, Hash, LedgerView, Payload, SequenceError, Sequencer, Submission};
use dauys_store::{Append, AppendError, LogFile};

/// A callback over committed entries: position and bytes.
pub type EachEntry<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<(), String>;

/// Where batches become durable: the store of a data directory, or a log on
/// the simulated disk.
pub trait Journal {
    /// Appends a batch durably (see [`dauys_store::Log::append`]).
    fn append(&mut self, batch: &[Append]) -> Result<(), AppendError>;
    /// Calls `each(position, entry)` for every committed entry, in order.
    fn replay(&self, each: EachEntry<'_>) -> Result<(), String>;
}

impl Journal for dauys_store::Store {
    fn append(&mut self, batch: &[Append]) -> Result<(), AppendError> {
        dauys_store::Store::append(self, batch)
    }
    fn replay(&self, each: EachEntry<'_>) -> Result<(), String> {
        dauys_store::Store::replay(self, each)
    }
}

impl<F: LogFile> Journal for dauys_store::Log<F> {
    fn append(&mut self, batch: &[Append]) -> Result<(), AppendError> {
        let entries: Vec<(&[u8], Hash)> = batch.iter().map(|a| (a.bytes.as_slice(), a.hash)).collect();
        dauys_store::Log::append(self, &entries)
    }
    fn replay(&self, each: EachEntry<'_>) -> Result<(), String> {
        dauys_store::Log::replay(self, each).map_err(|error| match error {
            dauys_store::log::ScanError::Io(e) => e.to_string(),
            dauys_store::log::ScanError::Header => "damaged header".to_owned(),
            dauys_store::log::ScanError::Stopped(problem) => problem,
        })
    }
}

/// Where time comes from.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&mut self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&mut self) -> u64 {
        crate::now_ms()
    }
}

/// One act for the writer: the signed submission and its decoded payload.
#[derive(Debug, Clone)]
pub struct Act {
    /// As submitted.
    pub submission: Submission,
    /// Its payload, decoded.
    pub payload: Payload,
    /// A secret ballot's proofs, already checked off the writer's path
    /// (see `LedgerView::check_ballot`): its ciphertexts, or why they fail.
    pub checked: Option<Result<Vec<dauys_core::secret::Ciphertext>, String>>,
}

/// What became of one act.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durable at `position`.
    Accepted {
        /// Its position.
        position: u64,
        /// Its entry hash.
        hash: Hash,
        /// Its node time.
        time_ms: u64,
        /// The entry bytes.
        entry: Vec<u8>,
    },
    /// The rules (or the clock) refused it; nothing was written.
    Refused(SequenceError),
    /// Not recorded: the log could not be written (the reason).
    Unavailable(String),
}

/// The writer's state of health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Appending.
    Ok,
    /// The last append failed and the log was cut back; appends resume
    /// at `retry_at_ms` (the writer's clock), once the rule state is rebuilt.
    Failing {
        /// The failure.
        error: String,
        /// When to try again.
        retry_at_ms: u64,
        /// Consecutive failures.
        failures: u32,
    },
    /// The log's state on disk is unknown: no more appends until restart.
    Stopped(String),
}

/// The owner of the log and the rule state.
pub struct Writer<J: Journal, C: Clock> {
    journal: J,
    sequencer: Sequencer,
    clock: C,
    health: Health,
}

impl<J: Journal, C: Clock> std::fmt::Debug for Writer<J, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("size", &self.sequencer.size()).field("health", &self.health).finish()
    }
}

/// Rebuilds the rule state from what `journal` holds. Signatures were
/// checked before each entry was written; checksums and links were checked
/// by the store when it opened.
pub fn replay(journal: &dyn Journal) -> Result<Sequencer, String> {
    let mut verifier = ChainVerifier::new();
    journal.replay(&mut |_, entry| {
        verifier.check(&prepare_entry_presigned(entry.to_vec())).map_err(|failure| failure.to_string())
    })?;
    verifier.into_sequencer().ok_or_else(|| "the log holds no genesis".to_owned())
}

impl<J: Journal, C: Clock> Writer<J, C> {
    /// A writer continuing `sequencer`'s state over `journal`, which must
    /// hold exactly the entries the sequencer has seen.
    pub fn new(journal: J, sequencer: Sequencer, clock: C) -> Self {
        Self { journal, sequencer, clock, health: Health::Ok }
    }

    /// Entries durable so far.
    pub fn size(&self) -> u64 {
        self.sequencer.size()
    }
    /// Hash of the last entry.
    pub fn head(&self) -> Hash {
        *self.sequencer.head()
    }
    /// Time of the last entry.
    pub fn time_ms(&self) -> u64 {
        self.sequencer.time_ms()
    }
    /// What readers may see now (constant time).
    pub fn view(&self) -> LedgerView {
        self.sequencer.ledger().view()
    }
    /// The rule state (for equality checks in the simulation).
    pub fn sequencer(&self) -> &Sequencer {
        &self.sequencer
    }
    /// Whether the rule state is the log's: false only after a failure that
    /// left the log in an unknown state (the writer has stopped).
    pub fn is_consistent(&self) -> bool {
        !matches!(self.health, Health::Stopped(_))
    }
    /// The writer's health.
    pub fn health(&self) -> &Health {
        &self.health
    }
    /// The journal.
    pub fn journal(&self) -> &J {
        &self.journal
    }
    /// The clock.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    /// Decides `acts` in order and makes the accepted ones durable with one
    /// append. Returns one outcome per act, in order; none of them is
    /// `Accepted` unless the append succeeded.
    pub fn commit(&mut self, acts: &[Act]) -> Vec<Outcome> {
        match &self.health {
            Health::Stopped(error) => return vec![Outcome::Unavailable(error.clone()); acts.len()],
            Health::Failing { error, retry_at_ms, .. } if self.clock.now_ms() < *retry_at_ms => {
                return vec![Outcome::Unavailable(error.clone()); acts.len()];
            }
            _ => {}
        }
        let mut outcomes = Vec::with_capacity(acts.len());
        let mut appends = Vec::new();
        for act in acts {
            let now = self.clock.now_ms();
            let checked = match &act.checked {
                Some(Ok(ciphertexts)) => Some(PreChecked::Valid(ciphertexts)),
                Some(Err(problem)) => Some(PreChecked::Invalid(problem)),
                None => None,
            };
            match self.sequencer.sequence_checked(&act.submission, &act.payload, now, checked) {
                Ok(placed) => {
                    outcomes.push(Outcome::Accepted {
                        position: placed.position,
                        hash: placed.hash,
                        time_ms: placed.time_ms,
                        entry: placed.bytes.clone(),
                    });
                    appends.push(Append { bytes: placed.bytes, hash: placed.hash, author: act.submission.author });
                }
                Err(error) => outcomes.push(Outcome::Refused(error)),
            }
        }
        if appends.is_empty() {
            return outcomes;
        }
        match self.journal.append(&appends) {
            Ok(()) => {
                self.health = Health::Ok;
                outcomes
            }
            Err(error) => {
                // The rule state is ahead of the log; every decision of this
                // batch, refusals included, may rest on an act that is not
                // recorded. Answer them all "not recorded", and rebuild the
                // state from the log at once so that the writer never
                // reports (or publishes) an act that is not durable.
                let message = error.to_string();
                tracing::error!(%message, acts = acts.len(), "appending a batch failed");
                let poisoned = matches!(error, AppendError::Poisoned(_));
                if !poisoned {
                    match replay(&self.journal) {
                        Ok(sequencer) => self.sequencer = sequencer,
                        Err(problem) => {
                            let stopped = format!("{message}; rebuilding the state from the log failed: {problem}");
                            self.health = Health::Stopped(stopped.clone());
                            return vec![Outcome::Unavailable(stopped); acts.len()];
                        }
                    }
                }
                self.health = match error {
                    AppendError::Poisoned(_) => Health::Stopped(message.clone()),
                    AppendError::Write(_) | AppendError::SyncThenCut(_) => {
                        let failures = match &self.health {
                            Health::Failing { failures, .. } => failures.saturating_add(1),
                            _ => 1,
                        };
                        // 200 ms doubling to about 25 s between attempts.
                        let backoff_ms = 100u64 << failures.min(8);
                        let retry_at_ms = self.clock.now_ms().saturating_add(backoff_ms);
                        Health::Failing { error: message.clone(), retry_at_ms, failures }
                    }
                };
                vec![Outcome::Unavailable(message); acts.len()]
            }
        }
    }
}
