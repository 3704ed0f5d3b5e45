//! The worker path (signatures checked apart, in batches) gives exactly the
//! verdict of the reference verifier on every fixture.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use dauys_web_verifier::{signature_verdicts, Session};

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
            if let Err(f) = session.check_batch(&batch, &verdicts) {
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
