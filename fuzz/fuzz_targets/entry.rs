//! Entry bytes: decoding never panics, and whatever decodes re-encodes to
//! the very same bytes (one encoding per value).
#![no_main]

use dauys_core::Entry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::decode(data) {
        assert_eq!(entry.encode(), data, "a decoded entry re-encodes to other bytes");
    }
});
