//! The node's submission parser, its first contact with untrusted bytes:
//! never panics; what it accepts carries a signature valid under the one
//! rule and a payload that re-encodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((submission, payload)) = dauys_node::parse_submission(data) {
        assert_eq!(payload.encode(), submission.payload);
        assert!(dauys_core::crypto::verify(&submission.author, &submission.payload, &submission.signature).is_ok());
    }
});
