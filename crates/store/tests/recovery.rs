//! Recovery: a torn tail is truncated, a damaged middle is refused with its
//! position, and a lost index is rebuilt from the log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use dauys_store::{Append, Store, StoreError};

fn village_appends() -> Vec<Append> {
    let story = dauys_fixtures::village();
    story.builder.entries().iter().map(|(bytes, _)| Append::from_entry(bytes.clone()).unwrap()).collect()
}

fn filled(dir: &std::path::Path) -> Vec<Append> {
    let appends = village_appends();
    let (mut store, _) = Store::open(dir).unwrap();
    store.append(&appends[..10]).unwrap();
    store.append(&appends[10..]).unwrap();
    appends
}

#[test]
fn reopen_gives_every_entry_back() {
    let dir = tempfile::tempdir().unwrap();
    let appends = filled(dir.path());
    let (store, recovery) = Store::open(dir.path()).unwrap();
    assert_eq!(recovery.truncated_bytes, 0);
    assert_eq!(store.len(), appends.len() as u64);
    assert_eq!(store.head(), appends.last().unwrap().hash);
    for (i, append) in appends.iter().enumerate() {
        assert_eq!(store.read(i as u64).unwrap().unwrap(), append.bytes);
        assert_eq!(store.position_of_payload(&append.payload_hash).unwrap(), Some(i as u64));
    }
}

#[test]
fn torn_tail_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let appends = filled(dir.path());
    let log = Store::log_path(dir.path());
    let length = std::fs::metadata(&log).unwrap().len();
    for cut in [1u64, 7, 30] {
        let file = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
        file.set_len(length - cut).unwrap();
        let (store, recovery) = Store::open(dir.path()).unwrap();
        assert_eq!(store.len(), appends.len() as u64 - 1, "cut {cut}");
        assert!(recovery.truncated_bytes > 0);
        drop(store);
        // Put the last entry back for the next cut.
        let (mut store, _) = Store::open(dir.path()).unwrap();
        store.append(&appends[appends.len() - 1..]).unwrap();
    }
}

#[test]
fn corrupted_middle_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let log = Store::log_path(dir.path());
    let mut bytes = std::fs::read(&log).unwrap();
    let (store, _) = Store::open(dir.path()).unwrap();
    let third = store.range(0, 3).unwrap().iter().map(|b| b.len() + 8).sum::<usize>();
    drop(store);
    bytes[third + 20] ^= 0xff; // inside record 3
    std::fs::write(&log, &bytes).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Corrupt { position, .. }) => assert_eq!(position, 3),
        other => panic!("expected corruption at 3, got {other:?}"),
    }
}

#[test]
fn lost_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let appends = filled(dir.path());
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let (store, recovery) = Store::open(dir.path()).unwrap();
    assert_eq!(recovery.reindexed, appends.len() as u64);
    assert_eq!(store.position_of_payload(&appends[5].payload_hash).unwrap(), Some(5));
}

#[test]
fn zero_filled_tail_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let appends = filled(dir.path());
    let log = Store::log_path(dir.path());
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend(std::iter::repeat_n(0u8, 8192)); // the file grew; its data never reached the disk
    std::fs::write(&log, &bytes).unwrap();
    let (store, recovery) = Store::open(dir.path()).unwrap();
    assert_eq!(store.len(), appends.len() as u64);
    assert_eq!(recovery.truncated_bytes, 8192);
}

#[test]
fn damaged_length_in_the_middle_is_corruption_not_a_tail() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let log = Store::log_path(dir.path());
    let mut bytes = std::fs::read(&log).unwrap();
    let first = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    let second = 8 + first;
    bytes[second] = 0x7f; // record 1 now claims an impossible length
    std::fs::write(&log, &bytes).unwrap();
    match Store::open(dir.path()) {
        Err(StoreError::Corrupt { position, .. }) => assert_eq!(position, 1),
        other => panic!("expected corruption at 1, got {other:?}"),
    }
    // Nothing was truncated by the refused open.
    assert_eq!(std::fs::read(&log).unwrap(), bytes);
}

#[test]
fn garbage_index_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let appends = filled(dir.path());
    for entry in std::fs::read_dir(dir.path().join("index")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let length = usize::try_from(std::fs::metadata(&path).unwrap().len()).unwrap();
            std::fs::write(&path, vec![0xa5u8; length.max(64)]).unwrap();
        }
    }
    let (store, _) = Store::open(dir.path()).unwrap();
    assert_eq!(store.len(), appends.len() as u64);
    assert_eq!(store.position_of_payload(&appends[7].payload_hash).unwrap(), Some(7));
}
