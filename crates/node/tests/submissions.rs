//! The submission parser is the node's first contact with untrusted bytes:
//! anything malformed is a 400 naming what is wrong, a bad signature a 422,
//! and nothing panics.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use axum::http::StatusCode;
use base64::Engine as _;
use dauys_core::event::{Body, Payload};
use dauys_core::{Keypair, Submission, Version};
use proptest::prelude::*;

fn valid() -> serde_json::Value {
    let submission = Submission::sign(
        &Keypair::from_seed(&[3; 32]),
        &Payload {
            version: Version::V2,
            ledger_id: [1; 32],
            nonce: 9,
            body: Body::PetitionSupported { petition: [2; 32] },
        },
    );
    dauys_node::submission_json(&submission)
}

#[test]
fn a_valid_submission_parses() {
    let (submission, payload) = dauys_node::parse_submission(valid().to_string().as_bytes()).unwrap();
    assert_eq!(submission.author, Keypair::from_seed(&[3; 32]).public());
    assert_eq!(payload.nonce, 9);
}

#[test]
fn each_malformation_is_named() {
    let cases: Vec<(&str, serde_json::Value, StatusCode, &str)> = vec![
        (
            "uppercase hex",
            serde_json::json!({"author": valid()["author"].as_str().unwrap().to_uppercase()}),
            StatusCode::BAD_REQUEST,
            "malformed_author",
        ),
        ("short signature", serde_json::json!({"signature": "00"}), StatusCode::BAD_REQUEST, "malformed_signature"),
        ("bad base64", serde_json::json!({"payload": "!!!"}), StatusCode::BAD_REQUEST, "malformed_payload"),
        (
            "wrong signature",
            serde_json::json!({"signature": "11".repeat(64)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_signature",
        ),
    ];
    for (what, patch, status, code) in cases {
        let mut body = valid();
        for (key, value) in patch.as_object().unwrap() {
            body[key] = value.clone();
        }
        let (got_status, got_code, message) = dauys_node::parse_submission(body.to_string().as_bytes()).unwrap_err();
        assert_eq!((got_status, got_code), (status, code), "{what}: {message}");
        assert!(!message.is_empty());
    }
}

proptest! {
    #[test]
    fn random_bodies_are_refused_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (status, code, _) = dauys_node::parse_submission(&bytes).unwrap_err();
        prop_assert_eq!(status, StatusCode::BAD_REQUEST);
        prop_assert_eq!(code, "malformed_json");
    }

    #[test]
    fn any_flipped_payload_byte_is_refused(at in any::<proptest::sample::Index>(), mask in 1u8..=255) {
        let body = valid();
        let mut payload = base64::engine::general_purpose::STANDARD.decode(body["payload"].as_str().unwrap()).unwrap();
        let i = at.index(payload.len());
        payload[i] ^= mask;
        let mut tampered = body.clone();
        tampered["payload"] = base64::engine::general_purpose::STANDARD.encode(&payload).into();
        prop_assert!(dauys_node::parse_submission(tampered.to_string().as_bytes()).is_err());
    }
}
