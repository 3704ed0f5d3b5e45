//! Every size that grows from input, in one place.
//!
//! Names carry the qualifier last (`title_bytes_max`). The rule core refuses
//! anything beyond these limits with a precise error; the node and the
//! verifiers inherit them, so a ledger accepted by one is accepted by all.

/// Largest signed payload, in bytes.
pub const PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Largest encoded entry: the payload plus the fixed header and signature.
pub const ENTRY_BYTES_MAX: usize = PAYLOAD_BYTES_MAX + 256;
/// Largest export line (JSON around the base64 of an entry), in bytes.
pub const LINE_BYTES_MAX: usize = ENTRY_BYTES_MAX * 2;

/// Jurisdiction name, in bytes of UTF-8.
pub const JURISDICTION_BYTES_MAX: usize = 200;
/// Subjects in the genesis taxonomy.
pub const SUBJECTS_MAX: usize = 64;
/// A subject identifier, in bytes.
pub const SUBJECT_ID_BYTES_MAX: usize = 64;
/// Screen terms per excluded subject.
pub const SCREEN_TERMS_MAX: usize = 128;
/// One screen term, in bytes.
pub const SCREEN_TERM_BYTES_MAX: usize = 100;

/// Keys in one enrolment event.
pub const ENROL_KEYS_MAX: usize = 1_000;
/// A district label, in bytes.
pub const DISTRICT_BYTES_MAX: usize = 64;
/// Distinct districts in one ledger.
pub const DISTRICTS_MAX: usize = 10_000;
/// Voters ever enrolled in one ledger.
pub const VOTERS_MAX: u64 = 20_000_000;

/// A petition title, in bytes.
pub const TITLE_BYTES_MAX: usize = 200;
/// A petition text, in bytes.
pub const TEXT_BYTES_MAX: usize = 10_000;
/// Reasons given with a ruling, a removal, an admission or a withdrawal.
pub const REASONS_BYTES_MAX: usize = 5_000;
/// Petitions in one ledger.
pub const PETITIONS_MAX: u64 = 1_000_000;
/// Paper supports recorded in one event.
pub const PAPER_SUPPORTS_PER_EVENT_MAX: u64 = 10_000_000;

/// A referendum question, in bytes.
pub const QUESTION_BYTES_MAX: usize = 1_000;
/// Options on one referendum ballot (the first is the proposal).
pub const OPTIONS_MAX: usize = 8;
/// Fewest options on one referendum ballot.
pub const OPTIONS_MIN: usize = 2;
/// One option label, in bytes.
pub const OPTION_BYTES_MAX: usize = 200;
/// Referendums in one ledger.
pub const REFERENDUMS_MAX: u64 = 100_000;
