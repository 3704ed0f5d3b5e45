//! Log recovery over an arbitrary file: the scan never panics, reports
//! only entries that continue the chain from position 0, and judges the
//! tail of any file as clean, torn (within the file) or corrupt.
#![no_main]

use dauys_store::log::{scan, Tail};
use dauys_store::sim::SimDisk;
use dauys_store::LogFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let disk = SimDisk::new(0);
    let mut file = disk.file();
    if file.append(data).is_err() {
        return;
    }
    let mut next = 0u64;
    let mut head = [0u8; 32];
    let scanned = scan(&disk.file(), |position, entry| {
        assert_eq!(position, next, "entries come in order");
        let decoded = dauys_core::Entry::decode(entry).expect("only decodable entries are committed");
        assert_eq!((decoded.position, decoded.prev_hash), (position, head), "only chained entries are committed");
        head = dauys_core::sha256(entry);
        next += 1;
        Ok::<(), ()>(())
    });
    if let Ok(scan) = scanned {
        assert_eq!(scan.size, next);
        assert!(scan.end <= data.len() as u64);
        if let Tail::Torn { offset, bytes, .. } = scan.tail {
            assert_eq!(offset + bytes, data.len() as u64, "a torn tail runs to the end of the file");
        }
    }
});
