//! The citizens' portal: a voter's key held on the device, and the acts it
//! signs there.
//!
//! The secret never leaves this module in the clear. It is drawn here from
//! the platform's randomness (in a browser, `crypto.getRandomValues`, read
//! from inside the wasm), or read from a key file the citizen opens; it is
//! stored (and backed up) only locked under a passphrase: argon2id stretches
//! the passphrase into a key for XSalsa20-Poly1305 (FORMAT.md section 16). Acts are built and signed
//! here with the rule core's own types, and a secret ballot is encrypted and
//! proven here with the same code the verifier checks it with.

use argon2::{Algorithm, Argon2, Params};
use base64::prelude::{Engine as _, BASE64_STANDARD as BASE64};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use dauys_core::event::{Ballot, Body, Payload, Version};
use dauys_core::secret::{BallotContext, SecretBallot};
use dauys_core::{Hash, Keypair, Submission};
use rand_chacha::rand_core::SeedableRng;
use unicode_normalization::UnicodeNormalization as _;
use zeroize::Zeroizing;

/// The format tag of a locked key file.
pub const LOCKED_KEY_FORMAT: &str = "dauys-locked-key/1";
/// argon2id's memory cost in KiB: RFC 9106's second recommended setting
/// (64 MiB, 3 passes), which a phone's browser runs in about a second.
pub const KDF_MEMORY_KIB: u32 = 65_536;
/// argon2id's passes over memory.
pub const KDF_ITERATIONS: u32 = 3;
/// A passphrase shorter than this many characters is refused.
pub const PASSPHRASE_CHARS_MIN: usize = 8;
/// Entropy `lock` takes: a 16-byte salt, then a 24-byte nonce.
pub const LOCK_ENTROPY_BYTES: usize = 40;

/// `N` bytes of the platform's randomness.
fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, String> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::getrandom(bytes.as_mut()).map_err(|e| format!("no randomness on this device: {e}"))?;
    Ok(bytes)
}

/// argon2id's settings and salt, as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always `argon2id`.
    pub name: String,
    /// argon2 version: 19 (0x13).
    pub version: u32,
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// Salt, base64 (16 bytes).
    pub salt: String,
}

/// A key file locked under a passphrase: what the page stores and what the
/// backup file holds (JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedKey {
    /// [`LOCKED_KEY_FORMAT`].
    pub format: String,
    /// The public key, hex (checked against the secret when unlocked).
    pub public_key: String,
    /// How the passphrase becomes the box key.
    pub kdf: Kdf,
    /// Always `xsalsa20poly1305`.
    pub cipher: String,
    /// Nonce, base64 (24 bytes).
    pub nonce: String,
    /// The 32-byte Ed25519 seed, sealed: base64 of tag (16) then ciphertext (32).
    pub sealed: String,
}

/// What a pasted or opened text is, as far as "find my act" cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyText {
    /// A secret key file (`DAUYS SECRET KEY`).
    Secret,
    /// A locked key file (JSON, [`LOCKED_KEY_FORMAT`]).
    Locked,
    /// Anything else.
    Other,
}

/// Classifies `text` without keeping or echoing any of it: anything that
/// contains a secret key file's header is a secret (FORMAT.md 16.1).
pub fn key_text_kind(text: &str) -> KeyText {
    let trimmed = text.trim_start();
    if dauys_core::crypto::is_secret_key_text(text.as_bytes()) {
        KeyText::Secret
    } else if serde_json::from_str::<LockedKey>(trimmed).is_ok_and(|k| k.format == LOCKED_KEY_FORMAT) {
        KeyText::Locked
    } else {
        KeyText::Other
    }
}

fn box_key(passphrase: &str, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, String> {
    if kdf.name != "argon2id" || kdf.version != 0x13 {
        return Err(format!("unknown key derivation {} version {}", kdf.name, kdf.version));
    }
    // Bounds that keep a hostile file from asking for gigabytes or hours.
    if !(8..=1_048_576).contains(&kdf.memory_kib) || !(1..=16).contains(&kdf.iterations) || kdf.parallelism != 1 {
        return Err("the key file asks for key derivation settings outside the accepted range".into());
    }
    let salt = BASE64.decode(&kdf.salt).map_err(|_| "the key file's salt is not base64".to_owned())?;
    if salt.len() != 16 {
        return Err("the key file's salt is not 16 bytes".into());
    }
    // The same passphrase typed on another keyboard may arrive composed
    // differently (Kazakh and Russian letters with marks): NFC first.
    let passphrase: Zeroizing<String> = Zeroizing::new(passphrase.nfc().collect());
    let params = Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32)).map_err(|e| e.to_string())?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(key)
}

/// One act a citizen performs, as the page describes it (JSON, tagged by `act`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(tag = "act", rename_all = "snake_case", deny_unknown_fields)]
pub enum CitizenAct {
    /// File a petition.
    File {
        /// Subject id from the published taxonomy.
        subject: String,
        /// Title.
        title: String,
        /// Full text.
        text: String,
    },
    /// Support a petition (hex id).
    Support {
        /// The petition.
        petition: String,
    },
    /// Withdraw one's own petition.
    Withdraw {
        /// The petition.
        petition: String,
        /// Why (may be empty).
        #[serde(default)]
        reasons: String,
    },
    /// Vote: the option's index.
    Ballot {
        /// The referendum.
        referendum: String,
        /// Index of the chosen option.
        choice: usize,
    },
}

fn id(hex_id: &str, what: &str) -> Result<Hash, String> {
    dauys_core::hexser::parse::<32>(hex_id).map_err(|_| format!("{what} is not a 64-digit hex id"))
}

/// A voter's key, held in memory while the page is open.
pub struct Wallet {
    keypair: Keypair,
}

impl Wallet {
    /// A new key, drawn from the platform's randomness.
    pub fn generate() -> Result<Self, String> {
        Ok(Self { keypair: Keypair::from_seed(&*random::<32>()?) })
    }

    /// The key of a 32-byte seed (tests and vectors; see [`Wallet::generate`]).
    pub fn create(entropy: &[u8]) -> Result<Self, String> {
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(entropy.try_into().map_err(|_| "a new key needs exactly 32 random bytes".to_owned())?);
        Ok(Self { keypair: Keypair::from_seed(&seed) })
    }

    /// The key in a secret key file (as `dauys keygen` writes it; blank
    /// lines before it are ignored).
    pub fn from_key_text(text: &str) -> Result<Self, String> {
        Keypair::from_key_text(text.trim_start()).map(|keypair| Self { keypair })
    }

    /// Opens a locked key file with its passphrase.
    pub fn unlock(locked_json: &str, passphrase: &str) -> Result<Self, String> {
        let locked: LockedKey =
            serde_json::from_str(locked_json.trim()).map_err(|e| format!("not a dauys locked key file: {e}"))?;
        if locked.format != LOCKED_KEY_FORMAT || locked.cipher != "xsalsa20poly1305" {
            return Err(format!("unknown key file format {} / {}", locked.format, locked.cipher));
        }
        let key = box_key(passphrase, &locked.kdf)?;
        let nonce: [u8; 24] = BASE64
            .decode(&locked.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| "the key file's nonce is not 24 bytes of base64".to_owned())?;
        let sealed = BASE64.decode(&locked.sealed).map_err(|_| "the sealed key is not base64".to_owned())?;
        let seed = Zeroizing::new(
            XSalsa20Poly1305::new(key.as_ref().into())
                .decrypt(&nonce.into(), sealed.as_slice())
                .map_err(|_| "wrong passphrase, or the key file was altered".to_owned())?,
        );
        let seed: &[u8; 32] = seed.as_slice().try_into().map_err(|_| "the sealed key is not 32 bytes".to_owned())?;
        let keypair = Keypair::from_seed(seed);
        if hex::encode(keypair.public()) != locked.public_key {
            return Err("the key file's public key does not match its secret".into());
        }
        Ok(Self { keypair })
    }

    /// Locks the key under `passphrase` with a salt and nonce drawn from the
    /// platform's randomness: the JSON of a [`LockedKey`].
    pub fn lock_fresh(&self, passphrase: &str) -> Result<String, String> {
        self.lock(passphrase, &*random::<LOCK_ENTROPY_BYTES>()?)
    }

    /// Locks the key under `passphrase`, with the salt and nonce taken from
    /// `entropy` ([`LOCK_ENTROPY_BYTES`]): the JSON of a [`LockedKey`].
    pub fn lock(&self, passphrase: &str, entropy: &[u8]) -> Result<String, String> {
        if passphrase.chars().count() < PASSPHRASE_CHARS_MIN {
            return Err(format!("the passphrase must have at least {PASSPHRASE_CHARS_MIN} characters"));
        }
        if entropy.len() != LOCK_ENTROPY_BYTES {
            return Err(format!("locking needs exactly {LOCK_ENTROPY_BYTES} random bytes"));
        }
        let (salt, nonce) = entropy.split_at(16);
        let kdf = Kdf {
            name: "argon2id".into(),
            version: 0x13,
            memory_kib: KDF_MEMORY_KIB,
            iterations: KDF_ITERATIONS,
            parallelism: 1,
            salt: BASE64.encode(salt),
        };
        let key = box_key(passphrase, &kdf)?;
        let seed = Zeroizing::new(self.keypair.seed());
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| "nonce length".to_owned())?;
        let sealed = XSalsa20Poly1305::new(key.as_ref().into())
            .encrypt(&nonce.into(), seed.as_slice())
            .map_err(|_| "sealing the key failed".to_owned())?;
        let locked = LockedKey {
            format: LOCKED_KEY_FORMAT.into(),
            public_key: self.public_hex(),
            kdf,
            cipher: "xsalsa20poly1305".into(),
            nonce: BASE64.encode(nonce),
            sealed: BASE64.encode(sealed),
        };
        serde_json::to_string_pretty(&locked).map_err(|e| e.to_string())
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> String {
        hex::encode(self.keypair.public())
    }

    /// [`Wallet::sign`] with a ballot's randomness drawn from the platform.
    pub fn sign_fresh(
        &self,
        ledger_id: &str,
        format: u16,
        nonce: u64,
        act: &CitizenAct,
        keys_json: &str,
    ) -> Result<Submission, String> {
        self.sign(ledger_id, format, nonce, act, keys_json, &*random::<32>()?)
    }

    /// Builds and signs `act` for the ledger `ledger_id` of format `format`
    /// with `nonce`. A ballot in a secret referendum is encrypted to the
    /// key in `keys_json` (the verifier's `ballotKeys`) and proven, with
    /// randomness seeded from `entropy` (32 bytes).
    pub fn sign(
        &self,
        ledger_id: &str,
        format: u16,
        nonce: u64,
        act: &CitizenAct,
        keys_json: &str,
        entropy: &[u8],
    ) -> Result<Submission, String> {
        let ledger_id = id(ledger_id, "the ledger id")?;
        let version = Version::from_u16(format).ok_or_else(|| format!("unknown ledger format {format}"))?;
        let body = match act {
            CitizenAct::File { subject, title, text } => {
                Body::PetitionFiled { subject: subject.clone(), title: title.clone(), text: text.clone() }
            }
            CitizenAct::Support { petition } => Body::PetitionSupported { petition: id(petition, "the petition")? },
            CitizenAct::Withdraw { petition, reasons } => {
                Body::PetitionWithdrawn { petition: id(petition, "the petition")?, reasons: reasons.clone() }
            }
            CitizenAct::Ballot { referendum, choice } => {
                let referendum = id(referendum, "the referendum")?;
                self.ballot(version, &ledger_id, &referendum, *choice, keys_json, entropy)?
            }
        };
        Ok(Submission::sign(&self.keypair, &Payload { version, ledger_id, nonce, body }))
    }

    fn ballot(
        &self,
        version: Version,
        ledger_id: &Hash,
        referendum: &Hash,
        choice: usize,
        keys_json: &str,
        entropy: &[u8],
    ) -> Result<Body, String> {
        if version < Version::V3 {
            // Formats 1 and 2 have open ballots only.
            let choice = u8::try_from(choice).map_err(|_| "no such option".to_owned())?;
            return Ok(Body::BallotCast { referendum: *referendum, ballot: Ballot::Open { choice } });
        }
        // Format 3: every ballot is secret. Without the election key the
        // replay derived, nothing is signed (never a choice in the clear).
        let keys: crate::BallotKeys =
            serde_json::from_str(keys_json).map_err(|e| format!("the election keys are unreadable: {e}"))?;
        let Some(&(key, options)) = keys.parsed().get(referendum) else {
            return Err("no election key for this referendum: its key ceremony is not complete".into());
        };
        let seed: Zeroizing<[u8; 32]> =
            Zeroizing::new(entropy.try_into().map_err(|_| "a ballot needs exactly 32 random bytes".to_owned())?);
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(*seed);
        let voter = self.keypair.public();
        let context = BallotContext { ledger_id, referendum, voter: &voter, key: &key, options };
        let ballot = SecretBallot::encrypt(&context, choice, &mut rng).map_err(|e| e.to_string())?;
        Ok(Body::BallotCast { referendum: *referendum, ballot: Ballot::Secret(ballot) })
    }
}

/// The submission as `POST /v1/events` takes it.
pub fn submission_json(submission: &Submission) -> String {
    serde_json::json!({
        "author": hex::encode(submission.author),
        "payload": BASE64.encode(&submission.payload),
        "signature": hex::encode(submission.signature),
    })
    .to_string()
}

/// `text` as a QR code, an SVG image with a quiet zone (dark on light).
pub fn qr_svg(text: &str) -> Result<String, String> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| e.to_string())?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTROPY: [u8; 40] = [7; 40];

    #[test]
    fn a_locked_key_opens_with_its_passphrase_only() {
        let wallet = Wallet::create(&[1; 32]).unwrap();
        let locked = wallet.lock("correct horse battery", &ENTROPY).unwrap();
        assert!(!locked.contains(&hex::encode([1u8; 32])), "the seed is sealed");
        assert_eq!(key_text_kind(&locked), KeyText::Locked);
        assert_eq!(Wallet::unlock(&locked, "correct horse battery").unwrap().public_hex(), wallet.public_hex());
        let wrong = Wallet::unlock(&locked, "correct horse battery!").err().unwrap();
        assert!(wrong.contains("wrong passphrase"), "{wrong}");
        assert!(wallet.lock("short", &ENTROPY).unwrap_err().contains("at least 8"));
    }

    #[test]
    fn an_altered_locked_key_is_refused() {
        let wallet = Wallet::create(&[2; 32]).unwrap();
        let mut locked: LockedKey = serde_json::from_str(&wallet.lock("a passphrase", &ENTROPY).unwrap()).unwrap();
        let other = Wallet::create(&[3; 32]).unwrap();
        locked.public_key = other.public_hex();
        let text = serde_json::to_string(&locked).unwrap();
        assert!(Wallet::unlock(&text, "a passphrase").err().unwrap().contains("does not match"));
        locked.public_key = wallet.public_hex();
        locked.kdf.memory_kib = 4_000_000;
        let text = serde_json::to_string(&locked).unwrap();
        assert!(Wallet::unlock(&text, "a passphrase").err().unwrap().contains("outside the accepted range"));
    }

    #[test]
    fn a_secret_key_file_is_recognised_and_read() {
        let keypair = Keypair::from_seed(&[4; 32]);
        let text = keypair.to_key_text();
        assert_eq!(key_text_kind(&text), KeyText::Secret);
        assert_eq!(key_text_kind(&hex::encode(keypair.public())), KeyText::Other);
        // Pasted with text around it, or after blank lines: still a secret.
        assert_eq!(key_text_kind(&format!("my key:\n{text}")), KeyText::Secret);
        assert_eq!(Wallet::from_key_text(&format!("\n\n{text}")).unwrap().public_hex(), hex::encode(keypair.public()));
        assert_eq!(Wallet::from_key_text(&text).unwrap().public_hex(), hex::encode(keypair.public()));
    }

    #[test]
    fn a_signed_support_carries_its_payload_and_a_valid_signature() {
        let wallet = Wallet::create(&[5; 32]).unwrap();
        let act: CitizenAct = serde_json::from_str(
            r#"{"act":"support","petition":"0101010101010101010101010101010101010101010101010101010101010101"}"#,
        )
        .unwrap();
        let submission = wallet.sign(&hex::encode([9u8; 32]), 3, 42, &act, "", &[]).unwrap();
        let payload = Payload::decode(&submission.payload).unwrap();
        assert_eq!(payload.nonce, 42);
        assert!(matches!(payload.body, Body::PetitionSupported { petition } if petition == [1; 32]));
        assert!(dauys_core::crypto::verify(&submission.author, &submission.payload, &submission.signature).is_ok());
        assert!(serde_json::from_str::<CitizenAct>(r#"{"act":"enrol"}"#).is_err());
    }

    #[test]
    fn a_format_3_ballot_without_an_election_key_is_never_signed() {
        let wallet = Wallet::create(&[8; 32]).unwrap();
        let act: CitizenAct = serde_json::from_str(
            r#"{"act":"ballot","referendum":"0202020202020202020202020202020202020202020202020202020202020202","choice":0}"#,
        )
        .unwrap();
        let ledger = hex::encode([9u8; 32]);
        for keys in ["", "{}"] {
            let refused = wallet.sign(&ledger, 3, 1, &act, keys, &[0; 32]).err().unwrap();
            assert!(refused.contains("election keys are unreadable"), "{refused}");
        }
        let other = r#"{"ledger_id":"","keys":{"0303030303030303030303030303030303030303030303030303030303030303":["0101010101010101010101010101010101010101010101010101010101010101",2]}}"#;
        for keys in [r#"{"ledger_id":"","keys":{}}"#, other] {
            let refused = wallet.sign(&ledger, 3, 1, &act, keys, &[0; 32]).err().unwrap();
            assert!(refused.contains("no election key for this referendum"), "{refused}");
        }
        // Format 2: open ballots, as that format has.
        let open = wallet.sign(&ledger, 2, 1, &act, "", &[]).unwrap();
        assert!(matches!(
            Payload::decode(&open.payload).unwrap().body,
            Body::BallotCast { ballot: Ballot::Open { choice: 0 }, .. }
        ));
    }

    #[test]
    fn a_format_3_ballot_is_encrypted_to_the_replayed_key_and_its_proofs_verify() {
        let trustees: Vec<Keypair> = (0..3u8).map(|n| Keypair::from_seed(&[40 + n; 32])).collect();
        let referendum = [7u8; 32];
        let (ceremony, _) = dauys_fixtures::secret::complete_ceremony(&referendum, &trustees, 2, 2);
        let key = ceremony.election_key().unwrap();
        let ledger_id = [9u8; 32];
        let keys = crate::BallotKeys {
            ledger_id: hex::encode(ledger_id),
            keys: [(hex::encode(referendum), (hex::encode(key.0), 2))].into_iter().collect(),
        };
        let wallet = Wallet::create(&[10; 32]).unwrap();
        let act = CitizenAct::Ballot { referendum: hex::encode(referendum), choice: 1 };
        let submission = wallet
            .sign(&hex::encode(ledger_id), 3, 5, &act, &serde_json::to_string(&keys).unwrap(), &[11; 32])
            .unwrap();
        let payload = Payload::decode(&submission.payload).unwrap();
        let checked = dauys_core::secret::check_payload(&ledger_id, &submission.author, &payload, |r| {
            (r == &referendum).then_some((key, 2))
        });
        assert!(matches!(checked, Some(Ok(_))), "the rule core accepts the ballot's proofs");
        // The same ballot under another voter's name is refused.
        let other = Keypair::from_seed(&[12; 32]).public();
        let stolen = dauys_core::secret::check_payload(&ledger_id, &other, &payload, |_| Some((key, 2)));
        assert!(matches!(stolen, Some(Err(_))));
    }

    #[test]
    fn a_passphrase_opens_however_it_was_composed() {
        let wallet = Wallet::create(&[9; 32]).unwrap();
        // "й" typed precomposed (U+0439) or as "и" and a combining breve.
        let locked = wallet.lock("Сарыағаш ай\u{0439}", &ENTROPY).unwrap();
        assert!(Wallet::unlock(&locked, "Сарыағаш ай\u{0438}\u{0306}").is_ok());
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg(&hex::encode([6u8; 32])).unwrap();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{}", &svg[..40]);
    }
}
