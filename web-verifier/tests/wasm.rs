//! The exported JavaScript API, run under Node.js by wasm-bindgen-test:
//! errors carry stable codes and positions; the worker path and the inline
//! path agree.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use dauys_web_verifier::{check_ballots, check_signatures, Verifier};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn reflect_get(target: &JsValue, key: &str) -> JsValue;
}

const VALID: &[u8] = include_bytes!("../../fixtures/valid.jsonl");
const FORGED: &[u8] = include_bytes!("../../fixtures/tampered/forged_signature.jsonl");
const TRUNCATED: &[u8] = include_bytes!("../../fixtures/tampered/truncated_line.jsonl");

#[wasm_bindgen_test]
fn valid_ledger_verifies_inline_and_by_batch() {
    let mut inline = Verifier::new();
    inline.feed(VALID).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&inline.finish().unwrap()).unwrap();
    assert_eq!(summary["size"], 53);

    let mut batched = Verifier::new();
    let verdicts = check_signatures(VALID);
    assert_eq!(verdicts.len(), 53);
    assert!(verdicts.iter().all(|&v| v == 0));
    batched.check_batch(VALID, &verdicts, &[]).unwrap();
    assert_eq!(batched.finish().unwrap(), inline.finish().unwrap());
}

const SECRET: &[u8] = include_bytes!("../../fixtures/v3/valid.jsonl");
const COPIED: &[u8] = include_bytes!("../../fixtures/v3/tampered/ballot_copied.jsonl");

#[wasm_bindgen_test]
fn secret_ballots_are_checked_in_workers_and_the_coordinator_agrees() {
    // All at once, as if no worker knew a key: the coordinator checks every proof.
    let mut alone = Verifier::new();
    alone.check_batch(SECRET, &check_signatures(SECRET), &[]).unwrap();
    // In two halves: the second half's ballots are checked "in a worker"
    // against the keys the coordinator learned from the first half.
    let cut = SECRET.len() / 2 + SECRET[SECRET.len() / 2..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let (first, second) = SECRET.split_at(cut);
    let mut split = Verifier::new();
    split.check_batch(first, &check_signatures(first), &[]).unwrap();
    let ballots = check_ballots(second, &split.ballot_keys());
    assert!(ballots.iter().filter(|&&b| b == 1).count() >= 10, "{ballots:?}");
    split.check_batch(second, &check_signatures(second), &ballots).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&split.finish().unwrap()).unwrap();
    assert_eq!(summary, serde_json::from_str::<serde_json::Value>(&alone.finish().unwrap()).unwrap());
    assert_eq!(summary["referendums"][0]["tally"], serde_json::json!([14, 6]));
    // A copied ballot: the worker says invalid, the coordinator names it.
    // The copy is the last line: everything before it gives the keys.
    let cut = COPIED[..COPIED.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let (first, second) = COPIED.split_at(cut);
    let mut copied = Verifier::new();
    copied.check_batch(first, &check_signatures(first), &[]).unwrap();
    let ballots = check_ballots(second, &copied.ballot_keys());
    assert!(ballots.contains(&2), "{ballots:?}");
    let error = copied.check_batch(second, &check_signatures(second), &ballots).unwrap_err();
    assert_eq!(reflect_get(&error, "code").as_string().as_deref(), Some("invalid_ballot"));
}

#[wasm_bindgen_test]
fn forged_signature_is_a_js_error_with_code_and_position() {
    let mut verifier = Verifier::new();
    let verdicts = check_signatures(FORGED);
    assert_eq!(verdicts[14], 1);
    let error = verifier.check_batch(FORGED, &verdicts, &[]).unwrap_err();
    assert_eq!(reflect_get(&error, "code").as_string().as_deref(), Some("bad_signature"));
    assert_eq!(reflect_get(&error, "position").as_f64(), Some(14.0));
    assert!(verifier.finish().is_err(), "a failed verifier stays failed");
}

#[wasm_bindgen_test]
fn truncated_export_is_reported_at_the_cut() {
    let mut verifier = Verifier::new();
    verifier.feed(TRUNCATED).unwrap();
    let error = verifier.finish().unwrap_err();
    assert_eq!(reflect_get(&error, "code").as_string().as_deref(), Some("truncated_line"));
    assert_eq!(reflect_get(&error, "position").as_f64(), Some(52.0));
}

#[wasm_bindgen_test]
fn find_my_act_returns_json() {
    let mut verifier = Verifier::new();
    verifier.feed(VALID).unwrap();
    let acts: serde_json::Value = serde_json::from_str(&verifier.find("zz")).unwrap();
    assert_eq!(acts, serde_json::json!([]));
}
