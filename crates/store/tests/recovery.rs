//! Recovery and ownership of a data directory: a torn last batch is kept
//! aside and cut, damage to anything acknowledged is refused with its
//! position, a lost log is never mistaken for a new ledger, one writer at a
//! time, readers that change nothing, and the index rebuilt when it cannot
//! vouch for itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)] // tests: a panic is the failure report; test logs are small

use std::path::Path;

use dauys_core::{sha256, Hash, Version};
use dauys_store::log::{self, Tail};
use dauys_store::reader::LedgerReader;
use dauys_store::sim::{SimDisk, SimFile};
use dauys_store::{fsck, Append, Log, LogFile, Store, StoreError};

fn village() -> Vec<(Vec<u8>, Hash)> {
    dauys_fixtures::village(Version::V2).builder.entries().to_vec()
}

fn appends(entries: &[(Vec<u8>, Hash)]) -> Vec<Append> {
    entries.iter().map(|(bytes, _)| Append::from_entry(bytes.clone()).unwrap()).collect()
}

/// A data directory holding the village: genesis as the first batch, then
/// batches of 10.
fn filled(dir: &Path) -> Vec<(Vec<u8>, Hash)> {
    let entries = village();
    Store::create(dir, &entries[..1], &[]).unwrap();
    let (mut store, _) = Store::open(dir, |_, _| Ok(())).unwrap();
    for chunk in appends(&entries[1..]).chunks(10) {
        store.append(chunk).unwrap();
    }
    store.close().unwrap();
    entries
}

fn read_all(dir: &Path) -> (Vec<Vec<u8>>, Tail) {
    let mut out = Vec::new();
    let end = LedgerReader::open(dir)
        .unwrap()
        .for_each(|_, entry| {
            out.push(entry.to_vec());
            Ok::<(), ()>(())
        })
        .unwrap();
    (out, end.tail)
}

fn log_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("log.dat")).unwrap()
}

fn open(dir: &Path) -> Result<(Store, dauys_store::Recovery), StoreError> {
    Store::open(dir, |_, _| Ok(()))
}

#[test]
fn reopen_gives_every_entry_back_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let mut seen = Vec::new();
    let (store, recovery) = Store::open(dir.path(), |position, entry| {
        seen.push((position, entry.to_vec()));
        Ok(())
    })
    .unwrap();
    assert_eq!(recovery, dauys_store::Recovery::default());
    assert_eq!(store.len(), entries.len() as u64);
    assert_eq!(store.head(), entries.last().unwrap().1);
    for (i, (position, bytes)) in seen.iter().enumerate() {
        assert_eq!(*position, i as u64);
        assert_eq!(bytes, &entries[i].0);
    }
    let reader = store.reader();
    for from in [0u64, 1, 5, 40, 52] {
        let got = reader.read_range(from, 7, usize::MAX).unwrap();
        assert_eq!(reader.read_range(from, 7, 1).unwrap().len(), 1, "a byte budget still returns one entry");
        let want: Vec<_> = entries.iter().skip(from as usize).take(7).map(|(b, _)| b.clone()).collect();
        assert_eq!(got, want, "from {from}");
    }
}

#[test]
fn a_batch_whose_sync_never_returned_is_kept_aside_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let whole = log_bytes(dir.path());
    // The last batch (entries 51 and 52) ends with its 68-byte commit
    // record: cut anywhere inside it and it was never acknowledged.
    let last_batch: usize = entries[51..].iter().map(|(b, _)| b.len() + 8).sum::<usize>() + 68;
    for cut in [1usize, 30, 68, 69, last_batch - 1] {
        std::fs::write(dir.path().join("log.dat"), &whole[..whole.len() - cut]).unwrap();
        let (store, recovery) = open(dir.path()).unwrap();
        assert_eq!(store.len(), 51, "cut {cut}");
        assert_eq!(recovery.torn_bytes as usize, last_batch - cut, "cut {cut}");
        let kept = std::fs::read(recovery.kept_at.unwrap()).unwrap();
        assert_eq!(kept, whole[whole.len() - last_batch..whole.len() - cut], "the torn bytes are kept");
        drop(store);
    }
}

#[test]
fn zeros_where_the_file_grew_are_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let mut bytes = log_bytes(dir.path());
    bytes.extend(std::iter::repeat_n(0u8, 8192));
    std::fs::write(dir.path().join("log.dat"), &bytes).unwrap();
    let (store, recovery) = open(dir.path()).unwrap();
    assert_eq!(store.len(), entries.len() as u64);
    assert_eq!(recovery.torn_bytes, 8192);
}

/// Offsets of every record: (start, end) of each entry record and commit.
fn batch_bounds(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = log::HEADER_BYTES as usize;
    let mut start = at;
    while at < bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        if len == u32::MAX {
            at += log::COMMIT_BYTES;
            out.push((start, at));
            start = at;
        } else {
            at += 8 + len as usize;
        }
    }
    out
}

#[test]
fn damage_before_a_later_batch_is_corruption_and_nothing_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let mut bytes = log_bytes(dir.path());
    let batches = batch_bounds(&bytes);
    let (start, _) = batches[2]; // positions 11..21
    bytes[start + 100] ^= 0x40;
    std::fs::write(dir.path().join("log.dat"), &bytes).unwrap();
    match open(dir.path()) {
        Err(StoreError::Corrupt { position, offset, problem }) => {
            assert_eq!(position, 11);
            assert_eq!(offset as usize, start);
            assert!(problem.contains("complete batch"), "{problem}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(log_bytes(dir.path()), bytes, "a refused open cuts nothing");
    assert!(!dir.path().join("damaged").exists());
}

#[test]
fn a_flipped_byte_in_the_last_committed_batch_is_never_cut_silently() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let mut bytes = log_bytes(dir.path());
    let (start, _) = *batch_bounds(&bytes).last().unwrap();
    bytes[start + 50] ^= 0x01;
    std::fs::write(dir.path().join("log.dat"), &bytes).unwrap();
    match open(dir.path()) {
        Err(StoreError::Corrupt { position, problem, .. }) => {
            assert_eq!(position, 51);
            assert!(problem.contains("commit is intact"), "{problem}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    // fsck sees the same thing, and repairs only when asked, keeping the bytes.
    let report = fsck::inspect(dir.path()).unwrap();
    assert!(matches!(report.tail, Tail::Corrupt(_)));
    assert_eq!(report.entries, 51);
    assert_eq!(log_bytes(dir.path()), bytes);
    let repair = fsck::repair(dir.path()).unwrap();
    assert_eq!(repair.entries, 51);
    let kept = std::fs::read(repair.kept_at.unwrap()).unwrap();
    assert_eq!(kept, bytes[start..]);
    let (store, _) = open(dir.path()).unwrap();
    assert_eq!(store.len(), 51);
}

#[test]
fn a_batch_whose_first_sectors_never_reached_the_disk_is_torn_not_corrupt() {
    // The last batch's commit record reached the disk, an earlier sector of
    // the same batch did not: never acknowledged, so recovered.
    let dir = tempfile::tempdir().unwrap();
    let entries = village();
    Store::create(dir.path(), &entries[..1], &[]).unwrap();
    let (mut store, _) = open(dir.path()).unwrap();
    store.append(&appends(&entries[1..20])).unwrap();
    store.append(&appends(&entries[20..])).unwrap();
    drop(store);
    let mut bytes = log_bytes(dir.path());
    let (start, end) = *batch_bounds(&bytes).last().unwrap();
    let sector = start.div_ceil(512) * 512;
    assert!(sector + 512 < end - 68, "the batch spans whole sectors");
    bytes[sector..sector + 512].fill(0);
    std::fs::write(dir.path().join("log.dat"), &bytes).unwrap();
    let (store, recovery) = open(dir.path()).unwrap();
    assert_eq!(store.len(), 20);
    assert!(recovery.reason.unwrap().contains("sectors"));
}

#[test]
fn a_text_that_looks_like_a_record_cannot_fake_a_later_batch() {
    // A petition text carrying the bytes of a whole valid entry record (the
    // attack that made the old recovery refuse to start), torn before it.
    let entries = village();
    let fake = {
        let mut record = Vec::new();
        log::push_entry_record(&mut record, &entries[3].0);
        record
    };
    let text: String = fake.iter().map(|&b| char::from(b.clamp(0x20, 0x7e))).collect();
    let mut b = dauys_fixtures::village(Version::V2).builder;
    let filing = dauys_core::event::Body::PetitionFiled {
        subject: "culture".into(),
        title: "A long text".into(),
        text: text.repeat(3),
    };
    b.append(&dauys_fixtures::voter(3), filing, dauys_fixtures::T0 + 40 * dauys_fixtures::DAY);
    let disk = SimDisk::new(7);
    let mut log = Log::create(disk.file()).unwrap();
    let all = b.entries();
    let refs: Vec<(&[u8], Hash)> = all[..all.len() - 1].iter().map(|(b, h)| (b.as_slice(), *h)).collect();
    log.append(&refs).unwrap();
    let last = &all[all.len() - 1];
    // The last batch is written but its sync never returns: cut the file in
    // the middle of the text.
    let mut file: SimFile = disk.file();
    let mut record = Vec::new();
    log::push_entry_record(&mut record, &last.0);
    file.append(&record[..record.len() / 2]).unwrap();
    let scan = log::scan(&disk.file(), |_, _| Ok::<(), ()>(())).unwrap();
    assert!(matches!(scan.tail, Tail::Torn { .. }), "{:?}", scan.tail);
    assert_eq!(scan.size, all.len() as u64 - 1);
}

#[test]
fn a_lost_log_is_never_a_new_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let log = dir.path().join("log.dat");
    let whole = log_bytes(dir.path());
    // Missing, empty, or cut inside its genesis batch: refused, naming the ledger.
    for damage in ["missing", "empty", "header only", "genesis cut"] {
        match damage {
            "missing" => std::fs::remove_file(&log).unwrap(),
            "empty" => std::fs::write(&log, b"").unwrap(),
            "header only" => std::fs::write(&log, &whole[..16]).unwrap(),
            _ => std::fs::write(&log, &whole[..16 + entries[0].0.len() / 2]).unwrap(),
        }
        match open(dir.path()) {
            Err(StoreError::LostLog { what, ledger_id, .. }) => {
                assert!(!what.is_empty());
                assert_eq!(ledger_id.len(), 64);
            }
            other => panic!("{damage}: expected a lost log, got {other:?}"),
        }
    }
    // Without a marker it is simply not a ledger directory.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(open(empty.path()), Err(StoreError::NotALedger { .. })));
}

#[test]
fn a_log_swapped_for_another_ledgers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let other = tempfile::tempdir().unwrap();
    let v1 = dauys_fixtures::village(Version::V1).builder.entries().to_vec();
    Store::create(other.path(), &v1[..1], &[]).unwrap();
    std::fs::copy(other.path().join("log.dat"), dir.path().join("log.dat")).unwrap();
    assert!(matches!(open(dir.path()), Err(StoreError::Corrupt { position: 0, .. })));
}

#[test]
fn one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    filled(dir.path());
    let (store, _) = open(dir.path()).unwrap();
    match open(dir.path()) {
        Err(StoreError::Locked(message)) => assert!(message.contains("in use")),
        other => panic!("expected the lock to be refused, got {other:?}"),
    }
    assert!(fsck::repair(dir.path()).is_err(), "repair refuses while the node runs");
    assert!(fsck::inspect(dir.path()).unwrap().locked);
    drop(store);
    open(dir.path()).unwrap();
}

#[test]
fn readers_create_cut_and_delete_nothing() {
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(LedgerReader::open(empty.path()), Err(StoreError::NotALedger { .. })));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0, "nothing was created");

    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let mut bytes = log_bytes(dir.path());
    bytes.extend_from_slice(&[0x00, 0x00, 0x01, 0x20, 0xaa]); // a batch being written
    std::fs::write(dir.path().join("log.dat"), &bytes).unwrap();
    let listing = |dir: &Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        names
    };
    let before = listing(dir.path());
    let (read, tail) = read_all(dir.path());
    assert_eq!(read.len(), entries.len());
    assert!(matches!(tail, Tail::Torn { .. }));
    assert_eq!(log_bytes(dir.path()), bytes, "the reader cut nothing");
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn a_reader_beside_a_writing_node_sees_only_committed_batches() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dauys_fixtures::large(Version::V2, 4_000).entries().to_vec();
    Store::create(dir.path(), &entries[..1], &[]).unwrap();
    let (mut store, _) = open(dir.path()).unwrap();
    let path = dir.path().to_owned();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reading = {
        let done = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            let mut sizes = Vec::new();
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let (read, tail) = read_all(&path);
                assert!(!matches!(tail, Tail::Corrupt(_)), "a live log read as corrupt: {tail:?}");
                let mut head = [0u8; 32];
                for (i, bytes) in read.iter().enumerate() {
                    let entry = dauys_core::Entry::decode(bytes).unwrap();
                    assert_eq!((entry.position, entry.prev_hash), (i as u64, head));
                    head = sha256(bytes);
                }
                sizes.push(read.len());
            }
            sizes
        })
    };
    for chunk in appends(&entries[1..]).chunks(37) {
        store.append(chunk).unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sizes = reading.join().unwrap();
    assert!(!sizes.is_empty());
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "reads only ever grow");
    assert_eq!(read_all(dir.path()).0.len(), entries.len());
}

#[test]
fn the_index_answers_acts_by_author_and_is_rebuilt_after_an_unclean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let author_of = |i: usize| dauys_core::Entry::decode(&entries[i].0).unwrap().author;
    let expected = |author: [u8; 32]| {
        let mut positions: Vec<u64> =
            (0..entries.len()).filter(|&i| author_of(i) == author).map(|i| i as u64).collect();
        positions.reverse();
        positions
    };
    let commission = author_of(0);
    let voter = author_of(3);
    let check = |store: &Store| {
        for author in [commission, voter] {
            let (acts, count) = store.acts(&author, None, 1_000).unwrap();
            assert_eq!(acts, expected(author));
            assert_eq!(count, acts.len() as u64);
        }
        let (page, _) = store.acts(&commission, Some(10), 2).unwrap();
        assert!(page.len() == 2 && page.iter().all(|&p| p < 10));
    };
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(!recovery.index_rebuilt, "closed cleanly: trusted");
    check(&store);
    drop(store); // no close(): an unclean stop
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(recovery.index_rebuilt);
    check(&store);
    store.close().unwrap();
    drop(store);
    // Garbage in the index files: rebuilt, never trusted.
    for entry in walk(&dir.path().join("index")) {
        let length = usize::try_from(std::fs::metadata(&entry).unwrap().len()).unwrap();
        std::fs::write(&entry, vec![0xa5u8; length.max(64)]).unwrap();
    }
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(recovery.index_rebuilt);
    check(&store);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_format_1_log_file_is_rewritten_and_the_original_kept() {
    let dir = tempfile::tempdir().unwrap();
    let entries = dauys_fixtures::village(Version::V1).builder.entries().to_vec();
    // The layout written before commit records: length, CRC, entry.
    let mut legacy = Vec::new();
    for (bytes, _) in &entries {
        log::push_entry_record(&mut legacy, bytes);
    }
    std::fs::write(dir.path().join("log.dat"), &legacy).unwrap();
    let (read, tail) = read_all(dir.path());
    assert_eq!((read.len(), tail), (entries.len(), Tail::Clean), "readers read format 1 files");
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(recovery.migrated);
    assert_eq!(store.len(), entries.len() as u64);
    assert_eq!(std::fs::read(dir.path().join("log.dat.format-1")).unwrap(), legacy);
    drop(store);
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(!recovery.migrated);
    assert_eq!(store.read_range(0, 100).unwrap(), entries.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>());
}

#[test]
fn the_tree_follows_the_log_and_is_rewritten_from_it() {
    use dauys_core::tlog::{check_inclusion, prove_inclusion, Checkpoint, Frontier};
    let dir = tempfile::tempdir().unwrap();
    let entries = filled(dir.path());
    let mut frontier = Frontier::new();
    for (bytes, _) in &entries {
        frontier.push(bytes);
    }
    let check = |store: &Store| {
        assert_eq!(store.root(), frontier.root());
        let checkpoint = Checkpoint { origin: "o".into(), size: entries.len() as u64, root: store.root() };
        for index in [0u64, 7, 52] {
            let proof = prove_inclusion(checkpoint.size, index, store.reader().tree()).unwrap();
            check_inclusion(&proof, &checkpoint, index, &entries[index as usize].0).unwrap();
        }
    };
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(!recovery.tree_repaired);
    check(&store);
    drop(store);
    // Garbage where a crash left unsynced pages: found and rewritten.
    let tree = dir.path().join("tree.dat");
    let mut bytes = std::fs::read(&tree).unwrap();
    bytes[32 * 40] ^= 0xff;
    std::fs::write(&tree, &bytes).unwrap();
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(recovery.tree_repaired);
    check(&store);
    drop(store);
    // Lost, or lagging behind the log: written again, silently.
    std::fs::remove_file(&tree).unwrap();
    let (store, recovery) = open(dir.path()).unwrap();
    assert!(!recovery.tree_repaired);
    check(&store);
    assert_eq!(std::fs::metadata(&tree).unwrap().len(), 32 * dauys_core::tlog::stored_hash_count(entries.len() as u64));
}

#[test]
fn an_append_larger_than_a_batch_is_split_into_batches_that_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = village().remove(0);
    Store::create(dir.path(), std::slice::from_ref(&genesis), &[]).unwrap();
    // 300 entries of 60 KB: 18 MB in one call, more than two batches' worth.
    let payload = vec![b'x'; 60_000];
    let mut prev = genesis.1;
    let mut entries = Vec::new();
    for position in 1..=300u64 {
        let entry = dauys_core::Entry {
            version: Version::V2,
            position,
            prev_hash: prev,
            time_ms: position,
            author: [7; 32],
            payload: &payload,
            signature: [0; 64],
        }
        .encode();
        prev = sha256(&entry);
        entries.push((entry, prev));
    }
    let (mut store, _) = open(dir.path()).unwrap();
    store.append(&appends(&entries)).unwrap();
    store.close().unwrap();
    drop(store);
    let commits = log_bytes(dir.path()).windows(12).filter(|w| w == b"\xff\xff\xff\xffDAUYSCMT").count();
    // The genesis batch, then at least three for the 18 MB.
    assert!(commits > 3, "the 18 MB append was written as {} batches", commits - 1);
    let (read, tail) = read_all(dir.path());
    assert_eq!(read.len(), 301);
    assert_eq!(tail, Tail::Clean);
    let (store, recovery) = open(dir.path()).unwrap();
    assert_eq!(store.len(), 301);
    assert_eq!(recovery.torn_bytes, 0);
}
