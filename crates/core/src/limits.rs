//! Every size that grows from input, in one place.
//!
//! Names carry the qualifier last (`title_bytes_max`). The rule core refuses
//! anything beyond these limits with a precise error; the node and the
//! verifiers inherit them, so a ledger accepted by one is accepted by all.

/// Bytes of an entry around its payload: magic (8), version (2), position
/// (8), previous hash (32), time (8), author (32), payload length (4) and
/// signature (64).
pub const ENTRY_OVERHEAD_BYTES: usize = 8 + 2 + 8 + 32 + 8 + 32 + 4 + 64;

/// Largest signed payload of a format 1 ledger, in bytes.
pub const PAYLOAD_BYTES_MAX_V1: usize = 64 * 1024;
/// Largest entry of a format 1 ledger: 65,694 bytes.
pub const ENTRY_BYTES_MAX_V1: usize = PAYLOAD_BYTES_MAX_V1 + ENTRY_OVERHEAD_BYTES;

/// Largest entry of a format 2 ledger: 65,535 bytes, so that every entry
/// fits the u16 length prefix of a C2SP tlog-tiles entry bundle.
pub const ENTRY_BYTES_MAX_V2: usize = u16::MAX as usize;
/// Largest signed payload of a format 2 ledger: 65,377 bytes.
pub const PAYLOAD_BYTES_MAX_V2: usize = ENTRY_BYTES_MAX_V2 - ENTRY_OVERHEAD_BYTES;

/// Largest entry of any format (the limit a reader applies before it knows
/// the format).
pub const ENTRY_BYTES_MAX: usize = ENTRY_BYTES_MAX_V1;
/// Largest export line (JSON around the base64 of an entry), in bytes,
/// without its newline.
pub const LINE_BYTES_MAX: usize = 131_584;

/// Latest node time a format 2 entry may carry: 9999-12-31T23:59:59.999Z.
/// Deadlines computed from it cannot overflow `u64`.
pub const TIME_MS_MAX: u64 = 253_402_300_799_999;

/// Jurisdiction name, in bytes of UTF-8.
pub const JURISDICTION_BYTES_MAX: usize = 200;
/// The checkpoint origin of a format 2 ledger, in bytes.
pub const ORIGIN_BYTES_MAX: usize = 255;
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
/// Trustees of one secret referendum (format 3).
pub const TRUSTEES_MAX: usize = 16;
/// Fewest trustees, and the lowest threshold: no single trustee may ever
/// hold the decryption key (format 3).
pub const TRUSTEES_MIN: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_sizes_are_the_computed_ones() {
        assert_eq!(ENTRY_OVERHEAD_BYTES, 158);
        assert_eq!(ENTRY_BYTES_MAX_V1, 65_694);
        assert_eq!(PAYLOAD_BYTES_MAX_V2, 65_377);
        // The longest canonical line of the longest entry fits the line limit.
        let base64 = ENTRY_BYTES_MAX_V1.div_ceil(3) * 4;
        let line = r#"{"position":18446744073709551615,"hash":"","entry":""}"#.len() + 64 + base64;
        assert!(line <= LINE_BYTES_MAX, "{line}");
    }
}
