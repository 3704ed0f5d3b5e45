//! Payload bytes: decoding never panics, and whatever decodes re-encodes to
//! the very same bytes (one encoding per value).
#![no_main]

use dauys_core::Payload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = Payload::decode(data) {
        assert_eq!(payload.encode(), data, "a decoded payload re-encodes to other bytes");
        let _ = dauys_core::event::content_hash(data);
    }
});
