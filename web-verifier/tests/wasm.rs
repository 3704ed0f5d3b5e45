//! The exported JavaScript API, run under Node.js by wasm-bindgen-test:
//! errors carry stable codes and positions; the worker path and the inline
//! path agree.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use dauys_web_verifier::{check_signatures, Verifier};
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
    batched.check_batch(VALID, &verdicts).unwrap();
    assert_eq!(batched.finish().unwrap(), inline.finish().unwrap());
}

#[wasm_bindgen_test]
fn forged_signature_is_a_js_error_with_code_and_position() {
    let mut verifier = Verifier::new();
    let verdicts = check_signatures(FORGED);
    assert_eq!(verdicts[14], 1);
    let error = verifier.check_batch(FORGED, &verdicts).unwrap_err();
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
