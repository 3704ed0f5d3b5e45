//! `fixtures/client-files.json`: a locked key file (FORMAT.md section 16)
//! from fixed inputs, with its passphrase, what it opens to, and altered
//! copies that must not open. A second reader (tests/independent) opens it
//! with libsodium from the format's description alone. Regenerate on
//! purpose with `DAUYS_BLESS=1 cargo test -p dauys-web-verifier --test client_files`.

#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use dauys_web_verifier::portal::{LockedKey, Wallet};
use unicode_normalization::UnicodeNormalization as _;

const SEED: [u8; 32] = [0x5a; 32];
const PASSPHRASE: &str = "Сарыағаш, май 2026 — correct horse";

fn entropy() -> Vec<u8> {
    (0u8..40).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect()
}

fn vectors() -> String {
    let wallet = Wallet::create(&SEED).unwrap();
    let locked: LockedKey = serde_json::from_str(&wallet.lock(PASSPHRASE, &entropy()).unwrap()).unwrap();
    let altered = |what: &str, change: &dyn Fn(&mut LockedKey)| {
        let mut copy = locked.clone();
        change(&mut copy);
        let text = serde_json::to_string(&copy).unwrap();
        let refused = Wallet::unlock(&text, PASSPHRASE).err().expect("an altered file must not open");
        serde_json::json!({ "what": what, "file": copy, "refused": refused })
    };
    let flip = |b64: &str| {
        use base64::Engine as _;
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        bytes[0] ^= 1;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let other = Wallet::create(&[0x33; 32]).unwrap().public_hex();
    let cases = vec![
        altered("a bit of the sealed box flipped", &|k| k.sealed = flip(&k.sealed)),
        altered("a bit of the salt flipped", &|k| k.kdf.salt = flip(&k.kdf.salt)),
        altered("a bit of the nonce flipped", &|k| k.nonce = flip(&k.nonce)),
        altered("one pass fewer", &|k| k.kdf.iterations -= 1),
        altered("the public key of another key", &|k| k.public_key = other.clone()),
        altered("memory outside the accepted range", &|k| k.kdf.memory_kib = 2_000_000),
        altered("two lanes", &|k| k.kdf.parallelism = 2),
        altered("a salt of 15 bytes", &|k| {
            use base64::Engine as _;
            k.kdf.salt = base64::engine::general_purpose::STANDARD.encode([7u8; 15]);
        }),
    ];
    let value = serde_json::json!({
        "note": "FORMAT.md section 16.2: the locked key file; `file` opens with `passphrase` (and with `passphrase_decomposed`, its NFD form) to `seed_hex`, whose Ed25519 public key is `file.public_key`; each of `altered` must be refused",
        "passphrase": PASSPHRASE,
        "seed_hex": hex::encode(SEED),
        "file": locked,
        "wrong_passphrase": format!("{PASSPHRASE}!"),
        "passphrase_decomposed": PASSPHRASE.nfd().collect::<String>(),
        "altered": cases,
    });
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

#[test]
fn the_client_files_vector_matches_the_generator() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/client-files.json");
    let generated = vectors();
    if std::env::var_os("DAUYS_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(
        on_disk == generated,
        "{} differs from the generator; re-bless on purpose with DAUYS_BLESS=1",
        path.display()
    );
    // The file opens with its passphrase, to its seed, and not with another.
    let value: serde_json::Value = serde_json::from_str(&on_disk).unwrap();
    let file = value["file"].to_string();
    assert_eq!(Wallet::unlock(&file, PASSPHRASE).unwrap().public_hex(), value["file"]["public_key"]);
    assert!(Wallet::unlock(&file, value["wrong_passphrase"].as_str().unwrap()).is_err());
    // The same passphrase, its letters decomposed (another keyboard): NFC first.
    let decomposed = value["passphrase_decomposed"].as_str().unwrap();
    assert_ne!(decomposed, PASSPHRASE);
    assert!(Wallet::unlock(&file, decomposed).is_ok());
}
