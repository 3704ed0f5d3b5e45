//! The streaming verifier over arbitrary input, fed in arbitrary chunks:
//! never panics, and its verdict does not depend on the chunking.
#![no_main]

use dauys_core::StreamVerifier;
use libfuzzer_sys::fuzz_target;

fn verdict(data: &[u8], chunk: usize) -> Result<(u64, [u8; 32]), (u64, &'static str)> {
    let mut verifier = StreamVerifier::new();
    for piece in data.chunks(chunk.max(1)) {
        if verifier.feed(piece).is_err() {
            break;
        }
    }
    verifier.finish().map(|v| (v.size, v.head)).map_err(|f| (f.position, f.reason.code()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let whole = verdict(rest, rest.len());
    assert_eq!(verdict(rest, usize::from(first) + 1), whole, "the verdict depends on chunking");
});
