//! The transparency log's text formats, as a verifier meets them from an
//! untrusted node, mirror or file: receipts, signed checkpoints, witness
//! requests, tile paths, entry bundles. Nothing panics; whatever parses
//! re-encodes to the very same text; nothing verifies that was not signed.
#![no_main]

use dauys_core::tlog::{self, Checkpoint, Policy, Receipt, Tile, TileSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        let _ = dauys_web_verifier::bundle_lines(data, 0, 256);
        let _ = dauys_web_verifier::genesis_log_key(data);
        return;
    };
    let key = dauys_core::Keypair::from_seed(&[7; 32]);
    let policy = Policy::log_only("fuzz.example/log", &key.public());
    if let Ok(receipt) = Receipt::parse(text) {
        assert_eq!(receipt.encode(), text, "a parsed receipt re-encodes to other text");
        // Only the fuzz key signs; a random note never verifies.
        assert!(receipt.verify(&policy).is_err() || text.contains("fuzz.example/log"));
    }
    let _ = policy.verify(text);
    let _ = tlog::VerifierKey::parse(text.trim());
    if let Ok(checkpoint) = Checkpoint::parse_text(text) {
        assert_eq!(checkpoint.text(), text, "a parsed checkpoint re-encodes to other text");
    }
    if let Ok((old, proof, note)) = tlog::parse_add_checkpoint(text) {
        assert_eq!(tlog::add_checkpoint_body(old, &proof, &note), text);
        let _ = tlog::check_consistency(&proof, old, &[0; 32], old.saturating_add(1), &[1; 32]);
    }
    if let Some(tile) = Tile::parse_path(text) {
        assert_eq!(tile.path(), text);
        let _ = tile.exists_at(u64::MAX);
    }
    // The page's receipt check on any text: an answer, never a panic.
    let vkey = tlog::VerifierKey { name: "fuzz.example/log".into(), signature_type: tlog::SIGNATURE_ED25519, public: key.public() };
    let _ = dauys_web_verifier::receipt_report(text, &vkey.encode(), "", 0);
    let _ = dauys_web_verifier::consistency_step(text, text, &vkey.encode(), "", 0, text, &TileSet::default());
});
