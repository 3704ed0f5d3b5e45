//! The one signature acceptance rule, used by the node, the command line and
//! the browser alike.
//!
//! A key is accepted only if its 32 bytes are the canonical encoding of a
//! curve point that is not of small order. A signature is accepted only by
//! `verify_strict`: small-order R refused, non-canonical S refused, and the
//! cofactorless equation `[S]B = R + [k]A` checked exactly. No batch
//! verification is used anywhere: batch equations are cofactored and would
//! accept a mixed-order R that this rule refuses (fixture `mixed_order_r`).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::PublicKey;

/// Why a key is unfit to author events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyError {
    /// The bytes are not the encoding of a curve point.
    #[error("the key is not a valid curve point")]
    NotAPoint,
    /// The bytes decode to a point, but are not its canonical encoding.
    #[error("the key is not canonically encoded")]
    NonCanonical,
    /// The point has small order: anyone could forge its signatures.
    #[error("the key has small order (a weak key)")]
    SmallOrder,
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureError {
    /// The author key is unfit.
    #[error("author key: {0}")]
    Key(KeyError),
    /// Strict verification failed.
    #[error("the signature does not verify under the strict rule")]
    Invalid,
}

impl SignatureError {
    /// A verdict as one byte, for passing between threads or Web Workers:
    /// 0 accepted, 1 invalid, 2 not a point, 3 non-canonical key, 4 small-order key.
    pub fn to_byte(verdict: Result<(), SignatureError>) -> u8 {
        match verdict {
            Ok(()) => 0,
            Err(SignatureError::Invalid) => 1,
            Err(SignatureError::Key(KeyError::NotAPoint)) => 2,
            Err(SignatureError::Key(KeyError::NonCanonical)) => 3,
            Err(SignatureError::Key(KeyError::SmallOrder)) => 4,
        }
    }
    /// The verdict for a byte from [`SignatureError::to_byte`]; unknown
    /// bytes are refusals, never acceptances.
    pub fn from_byte(byte: u8) -> Result<(), SignatureError> {
        match byte {
            0 => Ok(()),
            2 => Err(SignatureError::Key(KeyError::NotAPoint)),
            3 => Err(SignatureError::Key(KeyError::NonCanonical)),
            4 => Err(SignatureError::Key(KeyError::SmallOrder)),
            _ => Err(SignatureError::Invalid),
        }
    }
}

/// Checks a key under the acceptance rule and returns it ready to verify.
pub fn check_key(key: &PublicKey) -> Result<VerifyingKey, KeyError> {
    let verifying = VerifyingKey::from_bytes(key).map_err(|_| KeyError::NotAPoint)?;
    if verifying.to_edwards().compress().as_bytes() != key {
        return Err(KeyError::NonCanonical);
    }
    if verifying.is_weak() {
        return Err(KeyError::SmallOrder);
    }
    Ok(verifying)
}

/// Verifies `signature` by `author` over `message` under the strict rule.
pub fn verify(author: &PublicKey, message: &[u8], signature: &[u8; 64]) -> Result<(), SignatureError> {
    let key = check_key(author).map_err(SignatureError::Key)?;
    let signature = Signature::from_bytes(signature);
    key.verify_strict(message, &signature).map_err(|_| SignatureError::Invalid)
}

/// A signing key held in memory. Its secret never appears in `Debug` output.
pub struct Keypair {
    signing: SigningKey,
}

impl core::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Keypair({})", hex::encode(self.public()))
    }
}

impl Keypair {
    /// The keypair for a 32-byte Ed25519 secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self { signing: SigningKey::from_bytes(seed) }
    }
    /// The public key.
    pub fn public(&self) -> PublicKey {
        self.signing.verifying_key().to_bytes()
    }
    /// The secret seed, for writing to a key file.
    pub fn seed(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }
    /// Signs `message` (deterministic, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The text of a secret key file (FORMAT.md, "Client files"): a header
    /// line, comments, and the seed as 64 lowercase hex digits.
    pub fn to_key_text(&self) -> String {
        format!(
            "{SECRET_KEY_HEADER} (Ed25519 seed)\n# Keep this file private: whoever holds it acts in your name.\n# public key {}\n{}\n",
            hex::encode(self.public()),
            hex::encode(self.seed())
        )
    }

    /// Reads the text of a secret key file written by
    /// [`Keypair::to_key_text`]. Errors name the problem, never the content.
    pub fn from_key_text(text: &str) -> Result<Self, String> {
        if !text.starts_with(SECRET_KEY_HEADER) {
            return Err(format!(
                "not a dauys secret key file (it must begin with `{SECRET_KEY_HEADER}`; create one with `dauys keygen`)"
            ));
        }
        let seed_line = text
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .ok_or_else(|| "the key file holds no key".to_owned())?;
        let seed =
            crate::hexser::parse::<32>(seed_line).map_err(|_| "the key is not 64 lowercase hex digits".to_owned())?;
        let keypair = Keypair::from_seed(&seed);
        // The public key line, when present, must be this key's.
        if let Some(public) = text.lines().find_map(|l| l.strip_prefix("# public key ")) {
            if public.trim() != hex::encode(keypair.public()) {
                return Err("the key file's public key does not match its secret".to_owned());
            }
        }
        Ok(keypair)
    }
}

/// The first line of every secret key file begins with this.
pub const SECRET_KEY_HEADER: &str = "DAUYS SECRET KEY";

/// Whether `text` is (or contains) a dauys secret key file: wherever a
/// public key, a ledger or a receipt is expected (the command line, the
/// page's "find my act"), it is refused without echoing any of it.
pub fn is_secret_key_text(text: &[u8]) -> bool {
    text.windows(SECRET_KEY_HEADER.len()).any(|w| w == SECRET_KEY_HEADER.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_vector_1_verifies() {
        // RFC 8032 section 7.1, TEST 1 (empty message).
        let seed: [u8; 32] = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
        let keypair = Keypair::from_seed(&seed);
        assert_eq!(hex::encode(keypair.public()), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let signature = keypair.sign(b"");
        assert_eq!(
            hex::encode(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert_eq!(verify(&keypair.public(), b"", &signature), Ok(()));
        assert_eq!(verify(&keypair.public(), b"x", &signature), Err(SignatureError::Invalid));
    }

    #[test]
    fn small_order_and_non_canonical_keys_are_refused() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(check_key(&identity), Err(KeyError::SmallOrder));
        // y = p + 1 encodes the same point as y = 1, non-canonically.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert_eq!(check_key(&non_canonical), Err(KeyError::NonCanonical));
    }

    #[test]
    fn small_order_key_with_trivial_signature_is_refused() {
        // Identity key, R = identity, S = 0: satisfies the unchecked equation
        // for every message; the strict rule must refuse it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut signature = [0u8; 64];
        signature[0] = 1;
        assert_eq!(verify(&identity, b"anything", &signature), Err(SignatureError::Key(KeyError::SmallOrder)));
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let keypair = Keypair::from_seed(&[5; 32]);
        let mut signature = keypair.sign(b"m");
        // S + l is the same scalar, non-canonically encoded.
        let l: [u8; 32] = hex::decode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
            .unwrap()
            .try_into()
            .unwrap();
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(signature[32 + i]) + u16::from(l[i]) + carry;
            signature[32 + i] = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        assert_eq!(verify(&keypair.public(), b"m", &signature), Err(SignatureError::Invalid));
    }
}
