//! The worker path (signatures checked apart, in batches) gives exactly the
//! verdict of the reference verifier on every fixture.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use dauys_web_verifier::{ballot_verdicts, signature_verdicts, Session};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    expected
        .as_object()
        .unwrap()
        .keys()
        .map(|name| (name.clone(), std::fs::read(dir.join(format!("{name}.jsonl"))).unwrap()))
        .collect()
}

fn reference(export: &[u8]) -> Result<u64, (u64, &'static str)> {
    let mut verifier = dauys_core::StreamVerifier::new();
    let _ = verifier.feed(export);
    verifier.finish().map(|v| v.size).map_err(|f| (f.position, f.reason.code()))
}

/// Splits at the last newline of each `chunk`-sized window, as the page's
/// coordinator does, and checks signatures separately.
fn worker_path(export: &[u8], chunk: usize) -> Result<u64, (u64, &'static str)> {
    let mut session = Session::default();
    let mut pending: Vec<u8> = Vec::new();
    for piece in export.chunks(chunk) {
        pending.extend_from_slice(piece);
        if let Some(end) = pending.iter().rposition(|&b| b == b'\n') {
            let batch: Vec<u8> = pending.drain(..=end).collect();
            let verdicts = signature_verdicts(&batch);
            // As the page does: the keys known before the batch, to workers.
            let ballots = ballot_verdicts(&batch, &session.ballot_keys());
            if let Err(f) = session.check_batch(&batch, &verdicts, &ballots) {
                return Err((f.position, f.reason.code()));
            }
        }
    }
    if !pending.is_empty() {
        let f = session.truncated(pending.len() as u64);
        return Err((f.position, f.reason.code()));
    }
    session.finish().map(|s| s.size).map_err(|f| (f.position, f.reason.code()))
}

#[test]
fn worker_path_agrees_with_the_reference_on_every_fixture() {
    let all = fixtures();
    assert!(all.len() >= 22);
    for (name, export) in all {
        let want = reference(&export);
        for chunk in [export.len(), 1000, 97] {
            assert_eq!(worker_path(&export, chunk), want, "{name} with chunk {chunk}");
        }
        let mut session = Session::default();
        let inline = match session.feed(&export) {
            Err(f) => Err((f.position, f.reason.code())),
            Ok(()) => session.finish().map(|s| s.size).map_err(|f| (f.position, f.reason.code())),
        };
        assert_eq!(inline, want, "{name} inline");
    }
}

#[test]
fn find_my_act_by_key_and_by_hash() {
    let story = dauys_fixtures::village(dauys_core::Version::LATEST);
    let mut session = Session::default();
    session.feed(story.builder.export().as_bytes()).unwrap();
    session.finish().unwrap();
    let voter = hex::encode(dauys_fixtures::voter(10).public());
    let acts = session.find(&voter);
    let kinds: Vec<&str> = acts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds, ["petition_supported"]);
    assert_eq!(acts[0].target.as_deref(), Some(hex::encode(story.library).as_str()));
    let by_hash = session.find(&hex::encode(story.library));
    assert_eq!(by_hash.len(), 1);
    assert_eq!(by_hash[0].kind, "petition_filed");
    assert!(session.find("not hex").is_empty());
}

#[test]
fn signed_heads_are_checked_against_the_log_key() {
    let story = dauys_fixtures::village(dauys_core::Version::LATEST);
    let log = dauys_fixtures::village_roles().log;
    let (ledger_id, size, head) =
        (story.builder.ledger_id(), story.builder.entries().len() as u64, story.builder.head());
    let message = dauys_core::SignedHead::message(&ledger_id, size, &head, 42);
    let signed =
        dauys_core::SignedHead { ledger_id, size, head_hash: head, time_ms: 42, signature: log.sign(&message) };
    let json = serde_json::to_string(&signed).unwrap();
    let log_key = hex::encode(log.public());
    assert!(dauys_web_verifier::head_signature_valid(&json, &log_key));
    let forged = json.replace("\"time_ms\":42", "\"time_ms\":43");
    assert!(!dauys_web_verifier::head_signature_valid(&forged, &log_key));
    let other = hex::encode(dauys_fixtures::village_roles().council.public());
    assert!(!dauys_web_verifier::head_signature_valid(&json, &other));
    assert!(!dauys_web_verifier::head_signature_valid("{}", &log_key));
}

mod transparency {
    use dauys_core::tlog::{self, Checkpoint, Frontier, MemoryHashes, Receipt, Tile, TileSet, VerifierKey};
    use dauys_web_verifier::{bundle_lines, consistency_step, genesis_log_key, receipt_report, Session};

    const ORIGIN: &str = dauys_fixtures::VILLAGE_ORIGIN;

    fn village() -> (Vec<Vec<u8>>, Session) {
        let story = dauys_fixtures::village(dauys_core::Version::V2);
        let entries: Vec<Vec<u8>> = story.builder.entries().iter().map(|(b, _)| b.clone()).collect();
        let mut session = Session::default();
        session.want_root(20);
        session.want_root(30);
        session.feed(story.builder.export().as_bytes()).unwrap();
        session.finish().unwrap();
        (entries, session)
    }

    fn tree(entries: &[Vec<u8>]) -> (Frontier, MemoryHashes) {
        let mut frontier = Frontier::new();
        let mut hashes = MemoryHashes::default();
        for entry in entries {
            hashes.0.extend(frontier.push(entry));
        }
        (frontier, hashes)
    }

    fn note(size: u64, root: [u8; 32]) -> String {
        Checkpoint { origin: ORIGIN.into(), size, root }.sign(&dauys_fixtures::village_roles().log)
    }

    fn seen(size: u64, root: [u8; 32]) -> String {
        let key = VerifierKey {
            name: ORIGIN.into(),
            signature_type: tlog::SIGNATURE_ED25519,
            public: dauys_fixtures::village_roles().log.public(),
        };
        let root = Checkpoint { origin: ORIGIN.into(), size, root }.text().lines().nth(2).unwrap().to_owned();
        serde_json::json!({ key.encode(): {"size": size, "root": root} }).to_string()
    }

    #[test]
    fn a_checkpoint_is_checked_against_the_tree_replayed_and_what_was_seen() {
        let (entries, session) = village();
        let n = entries.len() as u64;
        let (full, _) = tree(&entries);
        let (at_20, _) = tree(&entries[..20]);
        let good = session.check_checkpoint(&note(n, full.root()), "", 0, "{}");
        assert!(good.ok, "{good:?}");
        assert!(good.log_key.starts_with(ORIGIN));
        // An older checkpoint at a size the replay noted.
        assert!(session.check_checkpoint(&note(20, at_20.root()), "", 0, "{}").ok);
        // A size the replay did not note cannot be vouched for.
        assert!(!session.check_checkpoint(&note(21, at_20.root()), "", 0, "{}").ok);
        // Another root, more entries than served, another key, a quorum.
        let wrong = session.check_checkpoint(&note(n, at_20.root()), "", 0, "{}");
        assert!(wrong.problem.unwrap().contains("not the tree"));
        assert!(!session.check_checkpoint(&note(n + 1, full.root()), "", 0, "{}").ok);
        let forged = Checkpoint { origin: ORIGIN.into(), size: n, root: full.root() }.sign(&dauys_fixtures::voter(1));
        assert!(!session.check_checkpoint(&forged, "", 0, "{}").ok);
        let witness = VerifierKey {
            name: "w.example/1".into(),
            signature_type: tlog::SIGNATURE_COSIGNATURE,
            public: dauys_fixtures::voter(2).public(),
        };
        let quorum = session.check_checkpoint(&note(n, full.root()), &witness.encode(), 1, "{}");
        assert!(quorum.problem.unwrap().contains("witness"), "a quorum of one unmet");
        // What this browser saw before: extended, or a fork.
        let extends = session.check_checkpoint(&note(n, full.root()), "", 0, &seen(20, at_20.root()));
        assert!(extends.ok && extends.seen_before == Some(20), "{extends:?}");
        let forked = session.check_checkpoint(&note(n, full.root()), "", 0, &seen(30, at_20.root()));
        assert!(forked.problem.unwrap().starts_with("FORK"));
        let shrunk = session.check_checkpoint(&note(20, at_20.root()), "", 0, &seen(n, full.root()));
        assert!(shrunk.problem.unwrap().starts_with("FORK"));
    }

    /// Serves tiles of `hashes` (a tree of `size`) for the paths asked.
    fn fetch(paths: &[String], hashes: &MemoryHashes, tiles: &mut TileSet) {
        for path in paths {
            let tile = Tile::parse_path(path).unwrap();
            let bytes: Vec<u8> =
                tile.hash_indexes().iter().flat_map(|&i| hashes.0[usize::try_from(i).unwrap()]).collect();
            tiles.insert(path.clone(), bytes);
        }
    }

    #[test]
    fn a_receipt_stands_alone_and_extends_to_the_latest_checkpoint_from_a_few_tiles() {
        let entries: Vec<Vec<u8>> = (0..70_000u64)
            .map(|i| {
                let payload = i.to_be_bytes();
                let entry = dauys_core::Entry {
                    version: dauys_core::Version::V2,
                    position: i,
                    prev_hash: [0; 32],
                    time_ms: i,
                    author: [7; 32],
                    payload: &payload,
                    signature: [0; 64],
                };
                entry.encode()
            })
            .collect();
        let (old, old_hashes) = tree(&entries[..1_000]);
        let (new, hashes) = tree(&entries);
        let proof = tlog::prove_inclusion(1_000, 7, &old_hashes).unwrap();
        let receipt =
            Receipt { entry: entries[7].clone(), index: 7, proof, checkpoint: note(1_000, old.root()) }.encode();
        let key = VerifierKey {
            name: ORIGIN.into(),
            signature_type: tlog::SIGNATURE_ED25519,
            public: dauys_fixtures::village_roles().log.public(),
        }
        .encode();
        let report = receipt_report(&receipt, &key, "", 0);
        assert!(report.ok && report.index == 7 && report.size == 1_000, "{report:?}");
        assert!(!receipt_report(&receipt.replace("index 7", "index 8"), &key, "", 0).ok);
        assert!(!receipt_report(&receipt, "not a key", "", 0).ok);

        let latest = note(70_000, new.root());
        let mut tiles = TileSet::default();
        let mut rounds = 0;
        let mut fetched = 0;
        let done = loop {
            let step = consistency_step(&receipt, &latest, &key, "", 0, &seen(1_000, old.root()), &tiles);
            if step.missing.is_empty() {
                break step;
            }
            fetched += step.missing.len();
            fetch(&step.missing, &hashes, &mut tiles);
            rounds += 1;
            assert!(rounds < 5, "tiles keep missing");
        };
        assert!(done.ok && done.covered && done.latest_size == 70_000 && done.seen_before == Some(1_000), "{done:?}");
        assert!(fetched <= 12, "{fetched} tiles for a consistency proof");

        // A receipt newer than the checkpoint served (which waits for
        // witnesses): the served one must be its prefix.
        let proof = tlog::prove_inclusion(70_000, 69_999, &hashes).unwrap();
        let newer =
            Receipt { entry: entries[69_999].clone(), index: 69_999, proof, checkpoint: latest.clone() }.encode();
        let mut tiles = TileSet::default();
        let verdict = loop {
            let step = consistency_step(&newer, &note(1_000, old.root()), &key, "", 0, "{}", &tiles);
            if step.missing.is_empty() {
                break step;
            }
            fetch(&step.missing, &hashes, &mut tiles);
        };
        assert!(verdict.ok && !verdict.covered && verdict.latest_size == 1_000, "{verdict:?}");

        // A latest checkpoint of another history, with its own honest tiles.
        let mut other = entries.clone();
        other[500].push(0);
        let (forked, forked_hashes) = tree(&other);
        let mut tiles = TileSet::default();
        let verdict = loop {
            let step = consistency_step(&receipt, &note(70_000, forked.root()), &key, "", 0, "{}", &tiles);
            if step.missing.is_empty() {
                break step;
            }
            fetch(&step.missing, &forked_hashes, &mut tiles);
        };
        assert!(!verdict.ok && verdict.problem.unwrap().contains("not one history"));
        // Tiles that do not match the checkpoint: an error, never "ok".
        let mut tiles = TileSet::default();
        for _ in 0..5 {
            let step = consistency_step(&receipt, &latest, &key, "", 0, "{}", &tiles);
            assert!(!step.ok);
            if step.missing.is_empty() {
                break;
            }
            fetch(&step.missing, &forked_hashes, &mut tiles);
        }
    }

    #[test]
    fn a_mirror_is_read_from_its_entry_bundles() {
        let story = dauys_fixtures::village(dauys_core::Version::V2);
        let entries: Vec<&Vec<u8>> = story.builder.entries().iter().map(|(b, _)| b).collect();
        let mut bundle = Vec::new();
        for entry in &entries {
            bundle.extend_from_slice(&u16::try_from(entry.len()).unwrap().to_be_bytes());
            bundle.extend_from_slice(entry);
        }
        let lines = bundle_lines(&bundle, 0, entries.len() as u64).unwrap();
        assert_eq!(String::from_utf8(lines).unwrap(), story.builder.export());
        assert!(bundle_lines(&bundle, 0, entries.len() as u64 + 1).is_err());
        assert!(bundle_lines(&bundle[..bundle.len() - 1], 0, entries.len() as u64).is_err());
        let key = genesis_log_key(&bundle).unwrap();
        assert!(key.starts_with(&format!("{ORIGIN}+")), "{key}");
        assert!(genesis_log_key(&bundle[2 + entries[0].len()..]).is_err(), "entry 1 is no genesis");
    }
}
