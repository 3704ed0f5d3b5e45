//! Every refusal path over real HTTP leaves the log unchanged, and answers
//! with the right status and a stable code.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::*;
use dauys_core::event::{Body, Payload};
use dauys_core::{Keypair, Submission, Version};

fn post(url: &str, body: &[u8]) -> (u16, serde_json::Value) {
    match ureq::post(&format!("{url}/v1/events")).set("content-type", "application/json").send_bytes(body) {
        Ok(response) => (response.status(), response.into_json().unwrap()),
        Err(ureq::Error::Status(status, response)) => (status, response.into_json().unwrap_or_default()),
        Err(e) => panic!("{e}"),
    }
}

fn signed(keypair: &Keypair, ledger_id: [u8; 32], nonce: u64, body: Body) -> Vec<u8> {
    let submission = Submission::sign(keypair, &Payload { version: Version::LATEST, ledger_id, nonce, body });
    serde_json::to_vec(&dauys_node::submission_json(&submission)).unwrap()
}

#[test]
fn refusals_change_nothing() {
    let ledger = new_ledger(2);
    let node = Node::serve(&ledger.data);
    let url = node.url.as_str();
    let voter0 = dauys_node::read_key_file(&ledger.voters[0].0).unwrap();
    let commission = dauys_node::read_key_file(&ledger.commission).unwrap();
    let ledger_id = dauys_core::hexser::parse::<32>(node.get("/v1/genesis")["ledger_id"].as_str().unwrap()).unwrap();
    let enrol = signed(
        &commission,
        ledger_id,
        1,
        Body::VotersEnrolled { district: String::new(), keys: vec![voter0.public()] },
    );
    assert_eq!(post(url, &enrol).0, 201);

    let before = node.size();
    // A format 2 node signs checkpoints (a format 1 node, its head).
    let checkpoint = || ureq::get(&format!("{url}/tlog/checkpoint")).call().unwrap().into_string().unwrap();
    let before_checkpoint = checkpoint();
    let check = |what: &str, body: Vec<u8>, status: u16, code: &str| {
        let (got_status, answer) = post(url, &body);
        assert_eq!((got_status, answer["code"].as_str().unwrap_or_default()), (status, code), "{what}: {answer}");
        assert!(!answer["message"].as_str().unwrap_or_default().is_empty(), "{what} has no sentence");
        assert_eq!(node.size(), before, "{what} changed the log");
    };
    let file = |subject: &str, title: &str| Body::PetitionFiled {
        subject: subject.into(),
        title: title.into(),
        text: "Text.".into(),
    };
    check("excluded subject", signed(&voter0, ledger_id, 2, file("budget", "More money")), 422, "excluded_subject");
    check(
        "screened text",
        signed(&voter0, ledger_id, 3, file("culture", "Ауыл бюджеті мен БЮДЖЕТ")),
        422,
        "screened_text",
    );
    let outsider = Keypair::from_seed(&[9; 32]);
    check("not enrolled", signed(&outsider, ledger_id, 4, file("culture", "Hello")), 422, "not_enrolled");
    check(
        "wrong role",
        signed(&voter0, ledger_id, 5, Body::VotersEnrolled { district: String::new(), keys: vec![outsider.public()] }),
        422,
        "wrong_role",
    );
    check("duplicate", enrol.clone(), 409, "duplicate_payload");
    check("another ledger", signed(&voter0, [7; 32], 6, file("culture", "Hello")), 422, "wrong_ledger");
    check(
        "unknown petition",
        signed(&voter0, ledger_id, 7, Body::PetitionSupported { petition: [1; 32] }),
        422,
        "unknown_petition",
    );
    check("malformed json", b"{not json".to_vec(), 400, "malformed_json");
    check("unknown field", br#"{"author":"00","payload":"","signature":"00","x":1}"#.to_vec(), 400, "malformed_json");
    let mut bad_signature: serde_json::Value =
        serde_json::from_slice(&signed(&voter0, ledger_id, 8, file("culture", "Hi"))).unwrap();
    bad_signature["signature"] = serde_json::Value::String("00".repeat(64));
    check("bad signature", serde_json::to_vec(&bad_signature).unwrap(), 422, "bad_signature");
    let mut bad_payload = bad_signature.clone();
    bad_payload["payload"] = serde_json::Value::String("AAAA".into());
    check("malformed payload", serde_json::to_vec(&bad_payload).unwrap(), 400, "malformed_payload");
    // Oversized: the body limit answers 413 before anything is parsed.
    let huge = vec![b' '; dauys_node::BODY_BYTES_MAX + 1];
    let status = match ureq::post(&format!("{url}/v1/events")).send_bytes(&huge) {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(status, _)) => status,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status, 413);
    assert_eq!(node.size(), before);
    assert_eq!(checkpoint(), before_checkpoint);
    // The CLI shows the refusal and exits 1.
    let out = dauys(&[
        "petition",
        "file",
        "--node",
        url,
        "--key",
        s(&ledger.voters[0].0),
        "--subject",
        "budget",
        "--title",
        "x",
        "--text",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("excluded_subject"));
    let metrics = ureq::get(&format!("{url}/metrics")).call().unwrap().into_string().unwrap();
    assert!(metrics.contains("code=\"excluded_subject\""), "{metrics}");
}

#[test]
fn secret_keys_never_appear_in_errors() {
    let ledger = new_ledger(1);
    let node = Node::serve(&ledger.data);
    let text = std::fs::read_to_string(&ledger.voters[0].0).unwrap();
    let seed = text.lines().last().unwrap().trim().to_owned();
    assert_eq!(seed.len(), 64);
    // A broken key file: the secret with a character missing.
    let broken = ledger.dir.path().join("broken.key");
    std::fs::write(&broken, text.replace(&seed, &seed[1..])).unwrap();
    let out = dauys(&["petition", "support", "--node", &node.url, "--key", s(&broken), &"ab".repeat(32)]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(all.contains("broken.key"), "the error names the file: {all}");
    assert!(!all.contains(&seed[1..20]), "the error leaks the key: {all}");
    // A refused act by a valid key: the secret is not echoed either.
    let out = dauys(&["petition", "support", "--node", &node.url, "--key", s(&ledger.voters[0].0), &"ab".repeat(32)]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(&seed), "{all}");
    // A secret key file where public keys or a ledger are expected is
    // refused, and none of it is shown.
    let key = s(&ledger.voters[0].0);
    for args in [
        vec!["enroll", "--node", &node.url, "--key", s(&ledger.commission), "--file", key],
        vec!["export", key],
        vec!["verify", key],
    ] {
        let out = dauys(&args);
        assert_ne!(out.status.code(), Some(0), "{args:?} accepted a secret key file");
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(all.contains("secret key file"), "{args:?}: {all}");
        assert!(!all.contains(&seed[..16]), "{args:?} leaked the seed: {all}");
    }
    assert_eq!(node.size(), 1, "nothing was enrolled");
}

#[test]
fn corrupted_middle_refuses_to_start_and_names_the_position() {
    let ledger = new_ledger(3);
    {
        let node = Node::serve(&ledger.data);
        let keys: Vec<&str> = ledger.voters.iter().map(|(_, p)| p.as_str()).collect();
        for key in keys {
            dauys_ok(&["enroll", "--node", &node.url, "--key", s(&ledger.commission), key]);
        }
    }
    let log = ledger.data.join("log.dat");
    let mut bytes = std::fs::read(&log).unwrap();
    // Header, then genesis in its own batch (record, commit), then entry 1.
    let genesis_len = u32::from_be_bytes(bytes[16..20].try_into().unwrap()) as usize;
    bytes[16 + 8 + genesis_len + 68 + 8 + 30] ^= 0x40; // inside entry 1
    std::fs::write(&log, &bytes).unwrap();
    let out = dauys(&["serve", "--data", s(&ledger.data), "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("corrupted at position 1"), "{stderr}");
}
