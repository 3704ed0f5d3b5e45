//! Rejections: why a candidate event is refused, as data.
//!
//! A refused act is not a program error. Each variant names the rule, the
//! petition or referendum concerned, and what was expected; [`Rejection::code`]
//! is the stable machine code the node returns and the fixtures record.

use thiserror::Error;

use crate::crypto::KeyError;
use crate::event::{EventKind, Outcome};
use crate::hexser::Hex;
use crate::{Hash, PublicKey};

/// A role that may author certain kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The election commission.
    Commission,
    /// The council (maslikhat).
    Council,
    /// An enrolled voter.
    Voter,
    /// The petition's initiator.
    Initiator,
}

/// What is wrong with a genesis event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// The first entry is not a ledger_opened event.
    #[error("the first entry is a {} event, not ledger_opened", found.name())]
    NotGenesis {
        /// The kind found.
        found: EventKind,
    },
    /// The genesis entry's previous hash is not all zeros.
    #[error("the genesis entry's previous hash is not all zeros")]
    NonZeroPrevHash,
    /// The genesis is not authored by the commission key it declares.
    #[error("genesis is not signed by the commission key it declares")]
    NotByCommission,
    /// A role key is unfit.
    #[error("the {role} key is unfit: {problem}")]
    WeakRoleKey {
        /// Which role.
        role: &'static str,
        /// Why.
        problem: KeyError,
    },
    /// Two roles share one key.
    #[error("commission, council and log keys must be distinct")]
    SharedRoleKeys,
    /// A rule value is out of range.
    #[error("rule `{rule}` is invalid: {problem}")]
    BadRule {
        /// Which rule.
        rule: &'static str,
        /// Why.
        problem: &'static str,
    },
    /// A subject id is malformed or repeated.
    #[error("subject `{subject}` is malformed or repeated")]
    BadSubject {
        /// The subject id.
        subject: String,
    },
    /// A required excluded subject is missing or not excluded.
    #[error("subject `{subject}` must be declared excluded")]
    MissingExclusion {
        /// The subject that must be excluded.
        subject: &'static str,
    },
    /// A screen term is on a subject that is not excluded, or has no word.
    #[error("screen term `{term}` is invalid")]
    BadTerm {
        /// The term.
        term: String,
    },
}

/// Why a candidate event is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    /// The genesis event is invalid.
    #[error("invalid genesis: {0}")]
    BadGenesis(GenesisError),
    /// A second ledger_opened event.
    #[error("the ledger is already open; a second genesis is refused")]
    GenesisRepeated,
    /// The payload names another ledger.
    #[error("the act was signed for ledger {found}, not this ledger {expected}")]
    WrongLedger {
        /// This ledger.
        expected: Hex<32>,
        /// The one in the payload.
        found: Hex<32>,
    },
    /// Format 1: the exact payload is already in the ledger.
    #[error("this exact act is already in the ledger, at position {position}")]
    DuplicatePayload {
        /// Position of the entry that carries it.
        position: u64,
    },
    /// Format 2: the nonce is not greater than the author's last one.
    #[error("nonce {nonce} is not greater than the nonce {last} of this author's last act")]
    StaleNonce {
        /// The act's nonce.
        nonce: u64,
        /// The author's last accepted nonce.
        last: u64,
    },
    /// The author does not hold the role this kind requires.
    #[error("only the {} may submit {} events", role_name(*required), kind.name())]
    WrongRole {
        /// The kind.
        kind: EventKind,
        /// The role required.
        required: Role,
    },
    /// The author (or a named voter) is not an enrolled voter.
    #[error("key {key} is not an enrolled voter")]
    NotEnrolled {
        /// The key.
        key: Hex<32>,
    },
    /// A voter key is unfit.
    #[error("voter key {key} is unfit: {problem}")]
    WeakVoterKey {
        /// The key.
        key: Hex<32>,
        /// Why.
        problem: KeyError,
    },
    /// A role key cannot be enrolled as a voter.
    #[error("key {key} belongs to the commission, council or log and cannot be enrolled")]
    RoleKeyAsVoter {
        /// The key.
        key: Hex<32>,
    },
    /// The voter is already enrolled (or listed twice in one event).
    #[error("key {key} is already enrolled")]
    AlreadyEnrolled {
        /// The key.
        key: Hex<32>,
    },
    /// A ledger-wide limit would be exceeded.
    #[error("the ledger's limit on {what} is reached")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
    },
    /// The declared subject is not in the taxonomy.
    #[error("subject `{subject}` is not in the published taxonomy")]
    UnknownSubject {
        /// The subject.
        subject: String,
    },
    /// The declared subject is excluded from initiatives and referendums.
    #[error("subject `{subject}` is excluded from petitions and referendums")]
    ExcludedSubject {
        /// The subject.
        subject: String,
    },
    /// The text matches the screen of an excluded subject.
    #[error("the text contains `{term}`, screened for the excluded subject `{subject}`; it needs a commission admission of content {content}")]
    ScreenedText {
        /// The excluded subject.
        subject: String,
        /// The matched term.
        term: String,
        /// The content hash an admission would name.
        content: Hex<32>,
    },
    /// No such petition.
    #[error("no petition {petition}")]
    UnknownPetition {
        /// The petition id.
        petition: Hex<32>,
    },
    /// The petition is not collecting supports.
    #[error("petition {petition} is {status}, not collecting supports")]
    PetitionNotCollecting {
        /// The petition.
        petition: Hex<32>,
        /// Its status.
        status: &'static str,
    },
    /// The signing period is over.
    #[error("petition {petition}'s signing period ended at {deadline_ms} (act at {time_ms})")]
    OutsideSigningPeriod {
        /// The petition.
        petition: Hex<32>,
        /// End of the signing period (exclusive).
        deadline_ms: u64,
        /// The act's node time.
        time_ms: u64,
    },
    /// The voter already supports this petition.
    #[error("this voter already supports petition {petition}")]
    DoubleSupport {
        /// The petition.
        petition: Hex<32>,
    },
    /// The author is not the petition's initiator.
    #[error("only the initiator may withdraw petition {petition}")]
    NotInitiator {
        /// The petition.
        petition: Hex<32>,
    },
    /// The content is already admitted and unused.
    #[error("content {content} is already admitted")]
    AdmissionExists {
        /// The content hash.
        content: Hex<32>,
    },
    /// The council ruled before the petition reached its threshold.
    #[error("petition {petition} has {supports} of {threshold} supports; the council cannot rule yet")]
    RulingBeforeThreshold {
        /// The petition.
        petition: Hex<32>,
        /// Supports so far, online and on paper.
        supports: u64,
        /// The threshold.
        threshold: u64,
    },
    /// The petition is not awaiting a ruling.
    #[error("petition {petition} is {status}, not awaiting a ruling")]
    NotAwaitingRuling {
        /// The petition.
        petition: Hex<32>,
        /// Its status.
        status: &'static str,
    },
    /// The council's response period is over.
    #[error("the council's response period for petition {petition} ended at {deadline_ms}")]
    RulingAfterDeadline {
        /// The petition.
        petition: Hex<32>,
        /// End of the response period (exclusive).
        deadline_ms: u64,
    },
    /// The petition cannot go to a referendum.
    #[error("petition {petition} is {status}; a referendum needs a rejected (or unanswered) petition without one")]
    ReferendumNotAllowed {
        /// The petition.
        petition: Hex<32>,
        /// Its status.
        status: &'static str,
    },
    /// The voting window breaks the rules.
    #[error("voting window [{opens_at_ms}, {closes_at_ms}) is invalid at {time_ms}: it must open no earlier than the call and last between {min_ms} and {max_ms} ms")]
    BadWindow {
        /// Proposed opening.
        opens_at_ms: u64,
        /// Proposed closing.
        closes_at_ms: u64,
        /// Time of the call.
        time_ms: u64,
        /// Shortest window.
        min_ms: u64,
        /// Longest window.
        max_ms: u64,
    },
    /// No such referendum.
    #[error("no referendum {referendum}")]
    UnknownReferendum {
        /// The referendum id.
        referendum: Hex<32>,
    },
    /// The ballot is outside the voting window.
    #[error("referendum {referendum} votes in [{opens_at_ms}, {closes_at_ms}); the ballot came at {time_ms}")]
    BallotOutsideWindow {
        /// The referendum.
        referendum: Hex<32>,
        /// Opening.
        opens_at_ms: u64,
        /// Closing (exclusive).
        closes_at_ms: u64,
        /// The ballot's node time.
        time_ms: u64,
    },
    /// Format 2: the voter was not enrolled when the referendum was called.
    #[error("this voter was enrolled at position {enrolled_at_position}, after referendum {referendum} was called at {called_at_position}: not in its electorate")]
    NotInElectorate {
        /// The referendum.
        referendum: Hex<32>,
        /// Position of the referendum call.
        called_at_position: u64,
        /// Position of the voter's current enrolment.
        enrolled_at_position: u64,
    },
    /// The voter already voted.
    #[error("this voter already voted in referendum {referendum}")]
    DoubleBallot {
        /// The referendum.
        referendum: Hex<32>,
    },
    /// The choice is not an option.
    #[error("choice {choice} is not one of the {options} options of referendum {referendum}")]
    ChoiceOutOfRange {
        /// The referendum.
        referendum: Hex<32>,
        /// The choice.
        choice: u8,
        /// Number of options.
        options: u64,
    },
    /// The window has not closed yet.
    #[error("referendum {referendum} closes at {closes_at_ms}; a result cannot be declared before")]
    DeclaredTooEarly {
        /// The referendum.
        referendum: Hex<32>,
        /// Closing.
        closes_at_ms: u64,
    },
    /// A result is already declared.
    #[error("referendum {referendum} already has a declared result")]
    AlreadyDeclared {
        /// The referendum.
        referendum: Hex<32>,
    },
    /// The declared tally differs from the recomputed one.
    #[error("declared tally {declared:?} differs from the recomputed tally {computed:?} of referendum {referendum}")]
    TallyMismatch {
        /// The referendum.
        referendum: Hex<32>,
        /// Declared.
        declared: Vec<u64>,
        /// Recomputed from the ballots.
        computed: Vec<u64>,
    },
    /// Format 3: the trustees named in a referendum call are unfit.
    #[error("the referendum's trustees are invalid: {problem}")]
    BadTrustees {
        /// Why.
        problem: String,
    },
    /// Format 3: the author is not a trustee of the referendum.
    #[error("key {key} is not a trustee of referendum {referendum}")]
    NotATrustee {
        /// The referendum.
        referendum: Hex<32>,
        /// The author.
        key: Hex<32>,
    },
    /// Format 3: a ceremony step before the steps it depends on.
    #[error("referendum {referendum}: {step} must wait until every trustee has {waiting_for}")]
    CeremonyOutOfOrder {
        /// The referendum.
        referendum: Hex<32>,
        /// The step attempted.
        step: &'static str,
        /// What every trustee must have done first.
        waiting_for: &'static str,
    },
    /// Format 3: a trustee repeats a step it may take once.
    #[error("referendum {referendum}: this trustee already took the step {step}")]
    CeremonyStepRepeated {
        /// The referendum.
        referendum: Hex<32>,
        /// The step.
        step: &'static str,
    },
    /// Format 3: the key ceremony ends when voting opens (complaints, when
    /// voting closes).
    #[error("referendum {referendum}: this ceremony step was due before {opens_at_ms} (voting opens for the ceremony, closes for complaints)")]
    CeremonyClosed {
        /// The referendum.
        referendum: Hex<32>,
        /// The deadline: the opening of the vote, or its closing for complaints.
        opens_at_ms: u64,
    },
    /// Format 3: a ceremony step's content is invalid.
    #[error("referendum {referendum}: invalid ceremony step: {problem}")]
    CeremonyStepInvalid {
        /// The referendum.
        referendum: Hex<32>,
        /// Why.
        problem: String,
    },
    /// Format 3: a trustee's polynomial does not open its commitment.
    #[error("referendum {referendum}: the polynomial does not open the trustee's commitment")]
    CommitmentMismatch {
        /// The referendum.
        referendum: Hex<32>,
    },
    /// Format 3: the share a complaint opens matches the accused's polynomial.
    #[error("referendum {referendum}: the share from trustee {accused} is valid; the complaint is unfounded")]
    ComplaintUnfounded {
        /// The referendum.
        referendum: Hex<32>,
        /// The accused trustee's index.
        accused: u8,
    },
    /// Format 3: no ballots until the key ceremony is complete.
    #[error("referendum {referendum}: the key ceremony is not complete; no election key yet")]
    CeremonyIncomplete {
        /// The referendum.
        referendum: Hex<32>,
    },
    /// Format 3: the ceremony failed on an upheld complaint.
    #[error("referendum {referendum}: the key ceremony failed (trustee {accused} sent a bad share); it must be called again")]
    CeremonyFailed {
        /// The referendum.
        referendum: Hex<32>,
        /// The trustee shown to have misbehaved.
        accused: u8,
    },
    /// Format 3: a secret ballot's proofs or shape are wrong.
    #[error("referendum {referendum}: invalid secret ballot: {problem}")]
    InvalidBallot {
        /// The referendum.
        referendum: Hex<32>,
        /// Why.
        problem: String,
    },
    /// Format 3: a decryption share's proofs or shape are wrong.
    #[error("referendum {referendum}: invalid decryption share: {problem}")]
    InvalidDecryptionShare {
        /// The referendum.
        referendum: Hex<32>,
        /// Why.
        problem: String,
    },
    /// Format 3: a decryption share before the window closes.
    #[error("referendum {referendum} closes at {closes_at_ms}; its tally cannot be decrypted before")]
    ShareTooEarly {
        /// The referendum.
        referendum: Hex<32>,
        /// Closing.
        closes_at_ms: u64,
    },
    /// Format 3: fewer valid decryption shares than the threshold.
    #[error("referendum {referendum}: {valid} decryption shares, {threshold} needed")]
    TooFewShares {
        /// The referendum.
        referendum: Hex<32>,
        /// Valid shares on the log.
        valid: u64,
        /// The threshold.
        threshold: u64,
    },
    /// The declared outcome differs from the one the quorum rule gives.
    #[error("declared outcome {declared:?} differs from {computed:?} under the published quorum rule")]
    OutcomeMismatch {
        /// The referendum.
        referendum: Hex<32>,
        /// Declared.
        declared: Outcome,
        /// Recomputed.
        computed: Outcome,
    },
}

impl Rejection {
    /// The petition, referendum, subject, term or key a rejection concerns,
    /// as `(name, value)` pairs for machine-readable answers.
    pub fn details(&self) -> Vec<(&'static str, String)> {
        use Rejection::*;
        match self {
            ExcludedSubject { subject } | UnknownSubject { subject } => vec![("subject", subject.clone())],
            ScreenedText { subject, term, content } => {
                vec![("subject", subject.clone()), ("term", term.clone()), ("content", content.to_string())]
            }
            WrongLedger { expected, found } => vec![("expected", expected.to_string()), ("found", found.to_string())],
            DuplicatePayload { position } => vec![("position", position.to_string())],
            StaleNonce { nonce, last } => vec![("nonce", nonce.to_string()), ("last", last.to_string())],
            BadWindow { opens_at_ms, closes_at_ms, time_ms, min_ms, max_ms } => vec![
                ("opens_at_ms", opens_at_ms.to_string()),
                ("closes_at_ms", closes_at_ms.to_string()),
                ("time_ms", time_ms.to_string()),
                ("window_min_ms", min_ms.to_string()),
                ("window_max_ms", max_ms.to_string()),
            ],
            BadGenesis(problem) => vec![("problem", problem.to_string())],
            WrongRole { kind, required } => {
                vec![("kind", kind.name().to_owned()), ("required", role_name(*required).to_owned())]
            }
            LimitExceeded { what } => vec![("limit", (*what).to_owned())],
            NotEnrolled { key } | WeakVoterKey { key, .. } | RoleKeyAsVoter { key } | AlreadyEnrolled { key } => {
                vec![("key", key.to_string())]
            }
            UnknownPetition { petition }
            | PetitionNotCollecting { petition, .. }
            | OutsideSigningPeriod { petition, .. }
            | DoubleSupport { petition }
            | NotInitiator { petition }
            | RulingBeforeThreshold { petition, .. }
            | NotAwaitingRuling { petition, .. }
            | RulingAfterDeadline { petition, .. }
            | ReferendumNotAllowed { petition, .. } => vec![("petition", petition.to_string())],
            UnknownReferendum { referendum }
            | BallotOutsideWindow { referendum, .. }
            | DoubleBallot { referendum }
            | ChoiceOutOfRange { referendum, .. }
            | DeclaredTooEarly { referendum, .. }
            | AlreadyDeclared { referendum }
            | TallyMismatch { referendum, .. }
            | NotInElectorate { referendum, .. }
            | OutcomeMismatch { referendum, .. }
            | CeremonyOutOfOrder { referendum, .. }
            | CeremonyStepRepeated { referendum, .. }
            | CeremonyClosed { referendum, .. }
            | CeremonyStepInvalid { referendum, .. }
            | CommitmentMismatch { referendum }
            | ComplaintUnfounded { referendum, .. }
            | CeremonyIncomplete { referendum }
            | CeremonyFailed { referendum, .. }
            | InvalidBallot { referendum, .. }
            | InvalidDecryptionShare { referendum, .. }
            | ShareTooEarly { referendum, .. }
            | TooFewShares { referendum, .. } => vec![("referendum", referendum.to_string())],
            NotATrustee { referendum, key } => vec![("referendum", referendum.to_string()), ("key", key.to_string())],
            BadTrustees { problem } => vec![("problem", problem.clone())],
            AdmissionExists { content } => vec![("content", content.to_string())],
            GenesisRepeated => Vec::new(),
        }
    }

    /// Every stable code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "bad_genesis",
        "genesis_repeated",
        "wrong_ledger",
        "duplicate_payload",
        "stale_nonce",
        "wrong_role",
        "not_enrolled",
        "weak_voter_key",
        "role_key_as_voter",
        "already_enrolled",
        "limit_exceeded",
        "unknown_subject",
        "excluded_subject",
        "screened_text",
        "unknown_petition",
        "petition_not_collecting",
        "outside_signing_period",
        "double_support",
        "not_initiator",
        "admission_exists",
        "ruling_before_threshold",
        "not_awaiting_ruling",
        "ruling_after_deadline",
        "referendum_not_allowed",
        "bad_window",
        "unknown_referendum",
        "ballot_outside_window",
        "not_in_electorate",
        "double_ballot",
        "choice_out_of_range",
        "declared_too_early",
        "already_declared",
        "tally_mismatch",
        "bad_trustees",
        "not_a_trustee",
        "ceremony_out_of_order",
        "ceremony_step_repeated",
        "ceremony_closed",
        "ceremony_step_invalid",
        "commitment_mismatch",
        "complaint_unfounded",
        "ceremony_incomplete",
        "ceremony_failed",
        "invalid_ballot",
        "invalid_decryption_share",
        "share_too_early",
        "too_few_shares",
        "outcome_mismatch",
    ];

    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        use Rejection::*;
        match self {
            BadGenesis(_) => "bad_genesis",
            GenesisRepeated => "genesis_repeated",
            WrongLedger { .. } => "wrong_ledger",
            DuplicatePayload { .. } => "duplicate_payload",
            StaleNonce { .. } => "stale_nonce",
            WrongRole { .. } => "wrong_role",
            NotEnrolled { .. } => "not_enrolled",
            WeakVoterKey { .. } => "weak_voter_key",
            RoleKeyAsVoter { .. } => "role_key_as_voter",
            AlreadyEnrolled { .. } => "already_enrolled",
            LimitExceeded { .. } => "limit_exceeded",
            UnknownSubject { .. } => "unknown_subject",
            ExcludedSubject { .. } => "excluded_subject",
            ScreenedText { .. } => "screened_text",
            UnknownPetition { .. } => "unknown_petition",
            PetitionNotCollecting { .. } => "petition_not_collecting",
            OutsideSigningPeriod { .. } => "outside_signing_period",
            DoubleSupport { .. } => "double_support",
            NotInitiator { .. } => "not_initiator",
            AdmissionExists { .. } => "admission_exists",
            RulingBeforeThreshold { .. } => "ruling_before_threshold",
            NotAwaitingRuling { .. } => "not_awaiting_ruling",
            RulingAfterDeadline { .. } => "ruling_after_deadline",
            ReferendumNotAllowed { .. } => "referendum_not_allowed",
            BadWindow { .. } => "bad_window",
            UnknownReferendum { .. } => "unknown_referendum",
            BallotOutsideWindow { .. } => "ballot_outside_window",
            NotInElectorate { .. } => "not_in_electorate",
            DoubleBallot { .. } => "double_ballot",
            ChoiceOutOfRange { .. } => "choice_out_of_range",
            DeclaredTooEarly { .. } => "declared_too_early",
            AlreadyDeclared { .. } => "already_declared",
            TallyMismatch { .. } => "tally_mismatch",
            BadTrustees { .. } => "bad_trustees",
            NotATrustee { .. } => "not_a_trustee",
            CeremonyOutOfOrder { .. } => "ceremony_out_of_order",
            CeremonyStepRepeated { .. } => "ceremony_step_repeated",
            CeremonyClosed { .. } => "ceremony_closed",
            CeremonyStepInvalid { .. } => "ceremony_step_invalid",
            CommitmentMismatch { .. } => "commitment_mismatch",
            ComplaintUnfounded { .. } => "complaint_unfounded",
            CeremonyIncomplete { .. } => "ceremony_incomplete",
            CeremonyFailed { .. } => "ceremony_failed",
            InvalidBallot { .. } => "invalid_ballot",
            InvalidDecryptionShare { .. } => "invalid_decryption_share",
            ShareTooEarly { .. } => "share_too_early",
            TooFewShares { .. } => "too_few_shares",
            OutcomeMismatch { .. } => "outcome_mismatch",
        }
    }
}

/// The snake_case name of a role.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Commission => "commission",
        Role::Council => "council",
        Role::Voter => "voter",
        Role::Initiator => "initiator",
    }
}

pub(crate) fn hex32(bytes: &Hash) -> Hex<32> {
    Hex(*bytes)
}

pub(crate) fn key(bytes: &PublicKey) -> Hex<32> {
    Hex(*bytes)
}
