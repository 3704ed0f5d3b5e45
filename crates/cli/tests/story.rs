//! The whole process through the command line against a real node: enrol,
//! file, support, rule, call, vote, declare; then the observer's export and
//! verify agree with the node's own state.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::*;

fn receipt(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap()
}

#[test]
fn petition_to_declared_referendum_through_the_cli() {
    let ledger = new_ledger(5);
    let node = Node::serve(&ledger.data);
    let url = node.url.as_str();
    let voter_keys: Vec<&str> = ledger.voters.iter().map(|(_, public)| public.as_str()).collect();
    let mut enrol = vec!["enroll", "--node", url, "--key", s(&ledger.commission), "--district", "North"];
    enrol.extend(&voter_keys);
    dauys_ok(&enrol);

    let filed = receipt(&dauys_ok(&[
        "petition",
        "file",
        "--node",
        url,
        "--key",
        s(&ledger.voters[0].0),
        "--subject",
        "culture",
        "--title",
        "Open the library on Sundays",
        "--text",
        "From ten to four.",
    ]));
    let petition = filed["entry_hash"].as_str().unwrap().to_owned();
    for (key, _) in &ledger.voters[..3] {
        dauys_ok(&["petition", "support", "--node", url, "--key", s(key), &petition]);
    }
    assert_eq!(node.get(&format!("/v1/petitions/{petition}"))["status"], "awaiting_ruling");
    dauys_ok(&[
        "council",
        "rule",
        "--node",
        url,
        "--key",
        s(&ledger.council),
        &petition,
        "--decision",
        "reject",
        "--reasons",
        "No staff on Sundays.",
    ]);
    // Three trustees, any two of whom decrypt. Generous margins: the
    // ceremony and the early ballot must land before opening, all ballots
    // inside the window, even on a loaded machine.
    let trustees: Vec<_> = (0..3).map(|n| keygen(ledger.dir.path(), &format!("trustee-{n}"))).collect();
    let opens = dauys_node::now_ms() + 12_000;
    let mut call = vec![
        "referendum".to_owned(),
        "call".into(),
        "--node".into(),
        url.into(),
        "--key".into(),
        s(&ledger.commission).into(),
        petition.clone(),
        "--subject".into(),
        "culture".into(),
        "--question".into(),
        "Open the library on Sundays?".into(),
        "--opens-at-ms".into(),
        opens.to_string(),
        "--window-ms".into(),
        "6000".into(),
        "--threshold".into(),
        "2".into(),
    ];
    for (_, public) in &trustees {
        call.extend(["--trustee".to_owned(), public.clone()]);
    }
    let call: Vec<&str> = call.iter().map(String::as_str).collect();
    let referendum = receipt(&dauys_ok(&call))["entry_hash"].as_str().unwrap().to_owned();
    // Before the ceremony there is no key to encrypt to: the CLI says so.
    let keyless = dauys(&["ballot", "cast", "--node", url, "--key", s(&ledger.voters[0].0), &referendum, "0"]);
    assert_eq!(keyless.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("ceremony is not complete"));
    // The key ceremony: each trustee runs the same command until complete.
    for round in 0..3 {
        for (key, _) in &trustees {
            let out = dauys(&["trustee", "ceremony", "--node", url, "--key", s(key), &referendum]);
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let called = node.get(&format!("/v1/referendums/{referendum}"));
    assert_eq!(called["secret"]["ceremony"], "complete", "{called}");
    assert_eq!(called["secret"]["election_key"].as_str().unwrap().len(), 64);
    // Before the window opens a ballot is refused, and nothing changes.
    let before = node.size();
    let early = dauys(&["ballot", "cast", "--node", url, "--key", s(&ledger.voters[0].0), &referendum, "0"]);
    assert_eq!(early.status.code(), Some(1), "{}", String::from_utf8_lossy(&early.stderr));
    assert!(String::from_utf8_lossy(&early.stderr).contains("ballot_outside_window"));
    assert_eq!(node.size(), before);
    std::thread::sleep(std::time::Duration::from_millis(opens.saturating_sub(dauys_node::now_ms()) + 100));
    // Voter 3 first votes yes, then changes their mind: the later ballot counts.
    dauys_ok(&["ballot", "cast", "--node", url, "--key", s(&ledger.voters[3].0), &referendum, "0"]);
    for (n, (key, _)) in ledger.voters.iter().enumerate() {
        let choice = if n < 3 { "0" } else { "1" };
        dauys_ok(&["ballot", "cast", "--node", url, "--key", s(key), &referendum, choice]);
    }
    let counting = node.get(&format!("/v1/referendums/{referendum}"));
    assert_eq!(counting["secret"]["ballots_counted"], 5);
    assert_eq!(counting["secret"]["ballots_superseded"], 1);
    std::thread::sleep(std::time::Duration::from_millis(opens + 6_100 - dauys_node::now_ms().min(opens + 6_100)));
    // A trustee decrypts only a tally whose fingerprint it confirmed with the
    // others and with observers: the first run prints it, so does verify.
    let unconfirmed = dauys(&["trustee", "decrypt", "--node", url, "--key", s(&trustees[0].0), &referendum]);
    assert_eq!(unconfirmed.status.code(), Some(2));
    let verified = dauys_ok(&["verify", url]);
    let fingerprint = verified
        .lines()
        .find_map(|l| l.split("encrypted tally ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert!(
        String::from_utf8_lossy(&unconfirmed.stderr).contains(&fingerprint),
        "{}",
        String::from_utf8_lossy(&unconfirmed.stderr)
    );
    let wrong = dauys(&[
        "trustee",
        "decrypt",
        "--node",
        url,
        "--key",
        s(&trustees[0].0),
        &referendum,
        "--tally",
        "00000000000000000000",
    ]);
    assert_eq!(wrong.status.code(), Some(2));
    // With one trustee's share the tally cannot be declared; trustee 1 stays away.
    let confirmed = &fingerprint[..16];
    dauys_ok(&["trustee", "decrypt", "--node", url, "--key", s(&trustees[0].0), &referendum, "--tally", confirmed]);
    let short = dauys(&["referendum", "declare", "--node", url, "--key", s(&ledger.commission), &referendum]);
    assert_eq!(short.status.code(), Some(2), "{}", String::from_utf8_lossy(&short.stderr));
    dauys_ok(&["trustee", "decrypt", "--node", url, "--key", s(&trustees[2].0), &referendum, "--tally", confirmed]);
    dauys_ok(&["referendum", "declare", "--node", url, "--key", s(&ledger.commission), &referendum]);

    let declared = node.get(&format!("/v1/referendums/{referendum}"));
    assert_eq!(declared["tally"], serde_json::json!([3, 2]));
    assert_eq!(declared["declared"], "approved");
    assert_eq!(declared["secret"]["decryption_shares"], serde_json::json!([0, 2]));

    let export = ledger.dir.path().join("export.jsonl");
    dauys_ok(&["export", url, "--out", s(&export)]);
    let verified: serde_json::Value = serde_json::from_str(&dauys_ok(&["verify", "--json", s(&export)])).unwrap();
    assert_eq!(verified["verdict"], "valid");
    let from_node: serde_json::Value = serde_json::from_str(&dauys_ok(&["verify", "--json", url])).unwrap();
    assert_eq!(from_node["verdict"], "valid");
    let checks = from_node["checks"].as_array().unwrap();
    for what in ["checkpoint signatures", "checkpoint root", "checkpoints seen"] {
        assert!(checks.iter().any(|c| c["what"] == what && c["ok"] == true), "{what}: {checks:?}");
    }
    assert_eq!(from_node["root"].as_str().unwrap().len(), 44);
    let node_summary = node.get("/v1/summary");
    for field in ["format", "size", "head", "enrolled", "origin", "ledger_id"] {
        assert_eq!(verified["summary"][field], node_summary[field], "{field} differs between verify and the node");
    }
    for field in ["petitions", "referendums", "districts"] {
        let page = node.get(&format!("/v1/{field}?limit=1000"));
        assert_eq!(verified["summary"][field], page[field], "{field} differs between verify and the node");
        assert_eq!(node_summary[field], page["total"], "the summary counts {field}");
    }
    // The data directory exports the same bytes as the node.
    let from_dir = dauys_ok(&["export", s(&ledger.data)]);
    assert_eq!(from_dir, std::fs::read_to_string(&export).unwrap());
    // One flipped byte is named by the verifier.
    let mut bytes = std::fs::read(&export).unwrap();
    let third_line = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(2).unwrap().0 + 1;
    bytes[third_line + 60] ^= 0x01;
    std::fs::write(&export, &bytes).unwrap();
    let out = dauys(&["verify", s(&export)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("INVALID at entry 3"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Usage errors exit 2.
    assert_eq!(dauys(&["verify"]).status.code(), Some(2));
    assert_eq!(dauys(&["verify", "/nonexistent/export.jsonl"]).status.code(), Some(2));
}

#[test]
fn demo_serves_a_verified_ledger_and_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let node = Node::start(&["demo", "--data", s(&data), "--listen", "127.0.0.1:0"]);
    let page = ureq::get(&format!("{}/", node.url)).call().unwrap();
    assert_eq!(page.status(), 200);
    let etag = page.header("etag").unwrap().to_owned();
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.into_string().unwrap().contains("dauys"));
    // Compressed for a browser that takes gzip, and revalidated by its tag.
    let gzipped = ureq::get(&format!("{}/", node.url)).set("Accept-Encoding", "gzip, br").call().unwrap();
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.header("etag"), Some(etag.as_str()));
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut gzipped.into_reader(), &mut body).unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    let refused = ureq::get(&format!("{}/", node.url)).set("Accept-Encoding", "gzip;q=0").call().unwrap();
    assert_eq!(refused.header("content-encoding"), None);
    let cached = ureq::get(&format!("{}/", node.url)).set("If-None-Match", &etag).call().unwrap();
    assert_eq!(cached.status(), 304);
    let out = dauys_ok(&["verify", &node.url]);
    assert!(out.starts_with("VALID: 100 entries"), "{out}");
    assert!(out.contains("ok: checkpoint root: equals the tree over the first 100 entries"), "{out}");
    // The live tail: a petition collecting, one awaiting the council, and a
    // secret referendum open for voting now.
    assert!(out.contains("open      Should the village run a school bus for Zhogargy?"), "{out}");
    assert!(out.contains("awaiting_ruling  6 online + 0 paper / 5 needed"), "{out}");
    assert!(out.contains("collecting       2 online + 0 paper / 5 needed"), "{out}");
    // The demo's referendum is secret: 2 of 3 trustees decrypted, one voter re-voted.
    assert!(out.contains("secret ballot: 3 trustees, any 2 decrypt; key ceremony complete; 20 ballots counted, 1 superseded by a re-vote; decryption shares from trustees [0, 2]"), "{out}");
    assert!(out.contains("Yes 14, No 6"), "{out}");
    let checkpoint = ureq::get(&format!("{}/tlog/checkpoint", node.url)).call().unwrap().into_string().unwrap();
    assert!(checkpoint.starts_with("demo.dauys.invalid/") && checkpoint.lines().nth(1) == Some("100"), "{checkpoint}");
    // A format 2 node signs checkpoints, not heads.
    assert_eq!(ureq::get(&format!("{}/v1/head", node.url)).call().unwrap_err().kind(), ureq::ErrorKind::HTTP);
    let metrics = ureq::get(&format!("{}/metrics", node.url)).call().unwrap().into_string().unwrap();
    assert!(metrics.contains("dauys_entries_appended"), "{metrics}");
    let openapi = node.get("/v1/openapi.json");
    assert_eq!(openapi["openapi"], "3.0.3");
}
