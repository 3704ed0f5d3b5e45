//! Export lines: parsing never panics, accepts only the one spelling (what
//! it accepts is exactly the line the writer would produce), and never
//! echoes input bytes in its error.
#![no_main]

use dauys_core::verify::{export_line, parse_line, prepare_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_line(data) {
        Ok((position, hash, entry)) => {
            let line = export_line(position, &hash, &entry);
            assert_eq!(line.as_bytes().strip_suffix(b"\n"), Some(data), "two spellings of one line");
        }
        Err(message) => assert!(message.is_ascii() && message.len() < 200, "error messages are short and plain"),
    }
    let _ = prepare_line(data);
});
