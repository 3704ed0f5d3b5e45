//! Untrusted bytes never panic the decoders or the verifier: random and
//! mutated inputs get an error, never a crash.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use dauys_core::verify::{prepare_line, LineSplitter};
use dauys_core::{Entry, Payload, StreamVerifier};
use proptest::prelude::*;

fn valid_lines() -> Vec<Vec<u8>> {
    let text = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/valid.jsonl")).unwrap();
    text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Payload::decode(&bytes);
        let _ = Entry::decode(&bytes);
        let _ = prepare_line(&bytes);
        let mut verifier = StreamVerifier::new();
        let _ = verifier.feed(&bytes);
        let _ = verifier.finish();
        let mut splitter = LineSplitter::new();
        let _ = splitter.feed(&bytes, |_| true);
    }

    #[test]
    fn mutated_payloads_decode_or_fail_cleanly(line in 0usize..53, at in any::<proptest::sample::Index>(), value in any::<u8>()) {
        let lines = valid_lines();
        let entry = prepare_line(&lines[line % lines.len()]).unwrap();
        let mut payload = entry.payload_bytes().to_vec();
        let i = at.index(payload.len());
        payload[i] = value;
        if let Ok(decoded) = Payload::decode(&payload) {
            // Whatever decodes re-encodes to the very same bytes: one encoding per value.
            prop_assert_eq!(decoded.encode(), payload);
        }
    }
}
