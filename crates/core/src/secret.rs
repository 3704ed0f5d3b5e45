//! Secret ballots: exponential ElGamal on ristretto255 under a referendum's
//! joint key, with zero-knowledge proofs bound to the ledger, the referendum
//! and the voter; decryption shares of the tally with Chaum–Pedersen proofs;
//! the declared counts checked against the decryption.
//!
//! All group arithmetic and every proof is `elastic-elgamal`'s. Its
//! high-level `EncryptedChoice` hashes fixed transcripts that name neither
//! the ledger nor the voter, so a ballot copied by another voter would carry
//! valid proofs; the ballot here is built from its lower-level proofs
//! (`RangeProof` over `0..2` per option, `LogEqualityProof` for the sum)
//! with a Merlin transcript that opens with the context. `docs/FORMAT.md`
//! section 15 gives every byte and every transcript operation.
//!
//! Like the rest of the core this module draws no randomness of its own:
//! whoever encrypts or decrypts passes a cryptographic RNG.

use elastic_elgamal::group::{ElementOps, Group, Ristretto, ScalarOps};
use elastic_elgamal::sharing::Params;
use elastic_elgamal::{
    CandidateDecryption, CiphertextWithValue, Keypair, LogEqualityProof, PreparedRange, PublicKey, RangeDecomposition,
    RangeProof, SecretKey, VerifiableDecryption,
};
use merlin::Transcript;
use rand_chacha::rand_core::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use thiserror::Error;

use crate::Hash;

type Point = <Ristretto as ElementOps>::Element;

/// A ciphertext on ristretto255 (elastic-elgamal's).
pub type Ciphertext = elastic_elgamal::Ciphertext<Ristretto>;
type Scalar = <Ristretto as ScalarOps>::Scalar;

/// Bytes of one ristretto255 element.
pub const ELEMENT_BYTES: usize = 32;
/// Bytes of one ciphertext: the random element `R = [r]G`, then the blinded
/// element `B = [v]G + [r]K`.
pub const CIPHERTEXT_BYTES: usize = 64;
/// Bytes of one option's 0-or-1 proof: the common challenge and two responses.
pub const OPTION_PROOF_BYTES: usize = 96;
/// Bytes of a Chaum–Pedersen proof: challenge and response.
pub const LOG_EQ_PROOF_BYTES: usize = 64;
/// Bytes of one option in a ballot: its ciphertext and its proof.
pub const OPTION_BYTES: usize = CIPHERTEXT_BYTES + OPTION_PROOF_BYTES;
/// Bytes of a decryption share per option: the element and its proof.
pub const SHARE_OPTION_BYTES: usize = ELEMENT_BYTES + LOG_EQ_PROOF_BYTES;

/// A secret ballot's proofs, checked before the rules run (on another
/// thread, in a Web Worker, in the node's request handler).
#[derive(Debug, Clone, Copy)]
pub enum PreChecked<'a> {
    /// The proofs verify: the ballot's ciphertexts.
    Valid(&'a [Ciphertext]),
    /// The proofs fail, for this reason: the rules refuse the ballot with
    /// `invalid_ballot` at the proof step, after every earlier check.
    Invalid(&'a str),
}

/// The Merlin protocol label of a ballot's transcript.
pub const BALLOT_PROTOCOL: &[u8] = b"dauys/secret-ballot/v1";
/// The Merlin protocol label of a decryption share's transcript.
pub const SHARE_PROTOCOL: &[u8] = b"dauys/decryption-share/v1";

/// Why a ballot, a key, a share or a declaration was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    /// Bytes that are not the one canonical encoding of an element, a
    /// scalar or a ciphertext.
    #[error("{what} is not a canonical ristretto255 encoding")]
    Malformed {
        /// What was being read.
        what: &'static str,
    },
    /// The ballot has a different number of options than the referendum.
    #[error("the ballot has {actual} options, the referendum {expected}")]
    OptionCount {
        /// The referendum's options.
        expected: usize,
        /// The ballot's.
        actual: usize,
    },
    /// An option's proof that it encrypts 0 or 1 does not verify in this
    /// ballot's context.
    #[error("the proof that option {option} encrypts 0 or 1 does not verify")]
    OptionProof {
        /// The option's index.
        option: usize,
    },
    /// The proof that the options add up to exactly one does not verify.
    #[error("the proof that exactly one option is chosen does not verify")]
    SumProof,
    /// A decryption share's proof does not verify.
    #[error("the decryption share's proof for option {option} does not verify")]
    ShareProof {
        /// The option's index.
        option: usize,
    },
    /// Fewer valid shares than the threshold.
    #[error("{valid} valid decryption shares, the threshold is {threshold}")]
    TooFewShares {
        /// Valid shares offered.
        valid: usize,
        /// Shares needed.
        threshold: usize,
    },
    /// The declared count of an option is not what the shares decrypt.
    #[error("option {option}: the declared count is not the decryption of the tally")]
    TallyMismatch {
        /// The option's index.
        option: usize,
    },
    /// No count up to the bound decrypts the tally.
    #[error("option {option}: no count up to {bound} matches the decryption")]
    CountNotFound {
        /// The option's index.
        option: usize,
        /// The largest count tried.
        bound: u64,
    },
    /// The choice is not an option of the referendum.
    #[error("choice {choice} is not one of {options} options")]
    NoSuchChoice {
        /// The choice.
        choice: usize,
        /// The options.
        options: usize,
    },
}

fn element_bytes(point: &Point) -> [u8; ELEMENT_BYTES] {
    let mut out = [0u8; ELEMENT_BYTES];
    Ristretto::serialize_element(point, &mut out);
    out
}

fn b64(bytes: &[u8]) -> serde_json::Value {
    use base64::Engine;
    serde_json::Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A ciphertext from its 64 bytes, every element canonical. (elastic-elgamal
/// builds ciphertexts from bytes only through serde; its human-readable form
/// is base64url of the same element bytes.)
pub fn ciphertext(bytes: &[u8]) -> Result<Ciphertext, SecretError> {
    const WHAT: &str = "a ciphertext";
    if bytes.len() != CIPHERTEXT_BYTES {
        return Err(SecretError::Malformed { what: WHAT });
    }
    // elastic-elgamal's deserializer decodes (and so checks) both elements.
    let value = serde_json::json!({
        "random_element": b64(&bytes[..ELEMENT_BYTES]),
        "blinded_element": b64(&bytes[ELEMENT_BYTES..]),
    });
    serde_json::from_value(value).map_err(|_| SecretError::Malformed { what: WHAT })
}

/// The 64 bytes of a ciphertext.
pub fn ciphertext_bytes(ciphertext: &Ciphertext) -> [u8; CIPHERTEXT_BYTES] {
    let mut out = [0u8; CIPHERTEXT_BYTES];
    out.copy_from_slice(&ciphertext.to_bytes());
    out
}

fn scalar_ok(bytes: &[u8]) -> bool {
    bytes.len() == 32 && Ristretto::deserialize_scalar(bytes).is_some()
}

fn option_proof(bytes: &[u8; OPTION_PROOF_BYTES]) -> Result<RangeProof<Ristretto>, SecretError> {
    const WHAT: &str = "an option proof";
    if !bytes.chunks(32).all(scalar_ok) {
        return Err(SecretError::Malformed { what: WHAT });
    }
    let value = serde_json::json!({
        "partial_ciphertexts": [],
        "common_challenge": b64(&bytes[..32]),
        "ring_responses": [b64(&bytes[32..64]), b64(&bytes[64..])],
    });
    serde_json::from_value(value).map_err(|_| SecretError::Malformed { what: WHAT })
}

fn option_proof_bytes(proof: &RangeProof<Ristretto>) -> [u8; OPTION_PROOF_BYTES] {
    use base64::Engine;
    let value = serde_json::to_value(proof).expect("a range proof serializes");
    let decode = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_str().expect("base64url string"))
            .expect("base64url")
    };
    let mut out = [0u8; OPTION_PROOF_BYTES];
    assert_eq!(value["partial_ciphertexts"].as_array().map(Vec::len), Some(0), "a 0..2 range has one ring");
    out[..32].copy_from_slice(&decode(&value["common_challenge"]));
    let responses = value["ring_responses"].as_array().expect("responses");
    out[32..64].copy_from_slice(&decode(&responses[0]));
    out[64..].copy_from_slice(&decode(&responses[1]));
    out
}

fn log_eq_proof(bytes: &[u8]) -> Result<LogEqualityProof<Ristretto>, SecretError> {
    LogEqualityProof::from_bytes(bytes).ok_or(SecretError::Malformed { what: "a Chaum-Pedersen proof" })
}

/// A referendum's joint election key: a ristretto255 element, never the
/// identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElectionKey(pub [u8; 32]);

impl std::fmt::Debug for ElectionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ElectionKey({})", hex::encode(self.0))
    }
}

impl ElectionKey {
    /// The key as elastic-elgamal's public key; refused if not canonical or
    /// the identity.
    pub fn public_key(&self) -> Result<PublicKey<Ristretto>, SecretError> {
        // A verifier checks thousands of ballots under one key in a row:
        // each thread keeps the last key decoded.
        thread_local! {
            static LAST: std::cell::RefCell<Option<([u8; 32], PublicKey<Ristretto>)>> =
                const { std::cell::RefCell::new(None) };
        }
        if let Some(key) =
            LAST.with(|last| last.borrow().as_ref().filter(|(b, _)| *b == self.0).map(|(_, k)| k.clone()))
        {
            return Ok(key);
        }
        let key = PublicKey::from_bytes(&self.0).map_err(|_| SecretError::Malformed { what: "the election key" })?;
        LAST.with(|last| *last.borrow_mut() = Some((self.0, key.clone())));
        Ok(key)
    }
    /// The key of an elastic-elgamal public key.
    pub fn from_public(key: &PublicKey<Ristretto>) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(key.as_bytes());
        ElectionKey(out)
    }
}

/// What a ballot's proofs are bound to: a ballot proven for one context
/// verifies in no other.
#[derive(Debug, Clone, Copy)]
pub struct BallotContext<'a> {
    /// The ledger's id (the genesis entry's hash).
    pub ledger_id: &'a Hash,
    /// The referendum's id (the hash of the entry that called it).
    pub referendum: &'a Hash,
    /// The voter's Ed25519 key, the ballot's author.
    pub voter: &'a crate::PublicKey,
    /// The referendum's joint election key.
    pub key: &'a ElectionKey,
    /// The number of options.
    pub options: usize,
}

impl BallotContext<'_> {
    /// The transcript every proof of the ballot starts from: the context and
    /// every ciphertext, in order.
    fn transcript(&self, ciphertexts: &[[u8; CIPHERTEXT_BYTES]]) -> Transcript {
        let mut t = Transcript::new(BALLOT_PROTOCOL);
        t.append_message(b"ledger", self.ledger_id);
        t.append_message(b"referendum", self.referendum);
        t.append_message(b"voter", self.voter);
        t.append_message(b"key", &self.key.0);
        t.append_u64(b"options", self.options as u64);
        for ciphertext in ciphertexts {
            t.append_message(b"ciphertext", ciphertext);
        }
        t
    }
}

/// The range `0..2` with its admissible values, prepared once.
fn zero_or_one() -> &'static PreparedRange<Ristretto> {
    static RANGE: std::sync::OnceLock<PreparedRange<Ristretto>> = std::sync::OnceLock::new();
    RANGE.get_or_init(|| PreparedRange::from(RangeDecomposition::optimal(2)))
}

/// An encrypted ballot: per option, a ciphertext of 0 or 1 with its proof,
/// and a proof that the options add up to exactly one.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBallot {
    /// Per option: ciphertext then proof ([`OPTION_BYTES`] each).
    pub options: Vec<([u8; CIPHERTEXT_BYTES], [u8; OPTION_PROOF_BYTES])>,
    /// The proof that the sum of the ciphertexts encrypts 1.
    pub sum_proof: [u8; LOG_EQ_PROOF_BYTES],
}

impl std::fmt::Debug for SecretBallot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBallot({} options)", self.options.len())
    }
}

impl SecretBallot {
    /// Encrypts `choice` for `context`, proving it well formed.
    pub fn encrypt<R: RngCore + CryptoRng>(
        context: &BallotContext<'_>,
        choice: usize,
        rng: &mut R,
    ) -> Result<Self, SecretError> {
        if choice >= context.options || context.options == 0 {
            return Err(SecretError::NoSuchChoice { choice, options: context.options });
        }
        let key = context.key.public_key()?;
        // Each ciphertext's randomness is the first scalar drawn from a
        // ChaCha20 stream seeded from `rng`; drawing it again from a copy of
        // the stream gives the sum proof its secret. Checked, not assumed.
        let mut total: Option<SecretKey<Ristretto>> = None;
        let mut encrypted = Vec::with_capacity(context.options);
        for option in 0..context.options {
            let mut seed = [0u8; 32];
            rng.fill_bytes(&mut seed);
            let mut stream = ChaCha20Rng::from_seed(seed);
            let randomness = SecretKey::<Ristretto>::generate(&mut stream.clone());
            let value = u64::from(option == choice);
            let ciphertext = CiphertextWithValue::new(value, &key, &mut stream);
            if Ristretto::mul_generator(randomness.expose_scalar()) != *ciphertext.inner().random_element() {
                unreachable!("elastic-elgamal draws a ciphertext's randomness first");
            }
            match &mut total {
                Some(sum) => *sum += randomness,
                None => total = Some(randomness),
            }
            encrypted.push(ciphertext);
        }
        let ciphertexts: Vec<[u8; CIPHERTEXT_BYTES]> = encrypted.iter().map(|c| ciphertext_bytes(c.inner())).collect();
        let base = context.transcript(&ciphertexts);
        let range = zero_or_one();
        let mut options = Vec::with_capacity(context.options);
        for (index, ciphertext) in encrypted.iter().enumerate() {
            let mut t = base.clone();
            t.append_u64(b"option", index as u64);
            let proof = RangeProof::from_ciphertext(&key, range, ciphertext, &mut t, rng);
            options.push((ciphertexts[index], option_proof_bytes(&proof)));
        }
        let sum = encrypted.iter().map(|c| *c.inner()).reduce(|a, b| a + b).expect("at least one option");
        let mut t = base;
        t.append_message(b"sum", b"exactly-one");
        let total = total.expect("at least one option");
        let proof = LogEqualityProof::new(
            &key,
            &total,
            (*sum.random_element(), *sum.blinded_element() - Ristretto::generator()),
            &mut t,
            rng,
        );
        let mut sum_proof = [0u8; LOG_EQ_PROOF_BYTES];
        sum_proof.copy_from_slice(&proof.to_bytes());
        Ok(SecretBallot { options, sum_proof })
    }

    /// Checks every proof in `context`; the ciphertexts, ready to add up.
    pub fn verify(&self, context: &BallotContext<'_>) -> Result<Vec<Ciphertext>, SecretError> {
        if self.options.len() != context.options {
            return Err(SecretError::OptionCount { expected: context.options, actual: self.options.len() });
        }
        let key = context.key.public_key()?;
        let ciphertexts: Vec<Ciphertext> = self.options.iter().map(|(c, _)| ciphertext(c)).collect::<Result<_, _>>()?;
        let proofs: Vec<RangeProof<Ristretto>> =
            self.options.iter().map(|(_, p)| option_proof(p)).collect::<Result<_, _>>()?;
        let sum_proof = log_eq_proof(&self.sum_proof)?;
        let raw: Vec<[u8; CIPHERTEXT_BYTES]> = self.options.iter().map(|(c, _)| *c).collect();
        let base = context.transcript(&raw);
        let range = zero_or_one();
        for (index, (ciphertext, proof)) in ciphertexts.iter().zip(&proofs).enumerate() {
            let mut t = base.clone();
            t.append_u64(b"option", index as u64);
            proof.verify(&key, range, *ciphertext, &mut t).map_err(|_| SecretError::OptionProof { option: index })?;
        }
        let sum = ciphertexts
            .iter()
            .copied()
            .reduce(|a, b| a + b)
            .ok_or(SecretError::OptionCount { expected: context.options, actual: 0 })?;
        let mut t = base;
        t.append_message(b"sum", b"exactly-one");
        sum_proof
            .verify(&key, (*sum.random_element(), *sum.blinded_element() - Ristretto::generator()), &mut t)
            .map_err(|_| SecretError::SumProof)?;
        Ok(ciphertexts)
    }

    /// The ciphertexts, without checking any proof: for a caller whose
    /// proofs were checked elsewhere (another thread, another Web Worker).
    pub fn ciphertexts_unchecked(&self) -> Result<Vec<Ciphertext>, SecretError> {
        self.options.iter().map(|(c, _)| ciphertext(c)).collect()
    }

    /// The ballot's bytes: per option its ciphertext then its proof, then
    /// the sum proof (the option count is the referendum's, written before).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.options.len() * OPTION_BYTES + LOG_EQ_PROOF_BYTES);
        for (ciphertext, proof) in &self.options {
            out.extend_from_slice(ciphertext);
            out.extend_from_slice(proof);
        }
        out.extend_from_slice(&self.sum_proof);
        out
    }

    /// A ballot of `options` options from exactly [`Self::encoded_len`] bytes.
    /// Only the lengths are checked here; [`Self::verify`] checks the rest.
    pub fn from_bytes(options: usize, bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::encoded_len(options) {
            return None;
        }
        let (body, sum) = bytes.split_at(options * OPTION_BYTES);
        let options = body
            .chunks_exact(OPTION_BYTES)
            .map(|chunk| {
                let mut c = [0u8; CIPHERTEXT_BYTES];
                let mut p = [0u8; OPTION_PROOF_BYTES];
                c.copy_from_slice(&chunk[..CIPHERTEXT_BYTES]);
                p.copy_from_slice(&chunk[CIPHERTEXT_BYTES..]);
                (c, p)
            })
            .collect();
        let mut sum_proof = [0u8; LOG_EQ_PROOF_BYTES];
        sum_proof.copy_from_slice(sum);
        Some(SecretBallot { options, sum_proof })
    }

    /// The length of a ballot of `options` options.
    pub fn encoded_len(options: usize) -> usize {
        options * OPTION_BYTES + LOG_EQ_PROOF_BYTES
    }
}

/// The proofs of the secret ballot in `payload` by `author`, checked
/// against the election key and option count `key_of` gives for its
/// referendum: `None` when the act is no secret ballot of ledger
/// `ledger_id` or no key is known. The one pre-check of the node, the
/// verifier and the page's workers.
pub fn check_payload(
    ledger_id: &Hash,
    author: &crate::PublicKey,
    payload: &crate::Payload,
    key_of: impl FnOnce(&Hash) -> Option<(ElectionKey, usize)>,
) -> Option<Result<Vec<Ciphertext>, SecretError>> {
    use crate::event::{Ballot, Body};
    let Body::BallotCast { referendum, ballot: Ballot::Secret(ballot) } = &payload.body else { return None };
    if payload.ledger_id != *ledger_id {
        return None;
    }
    let (key, options) = key_of(referendum)?;
    Some(ballot.verify(&BallotContext { ledger_id, referendum, voter: author, key: &key, options }))
}

/// The running encrypted tally of a referendum: per option, the sum of the
/// counted ballots' ciphertexts.
#[derive(Debug, Clone)]
pub struct EncryptedTally {
    sums: Vec<Ciphertext>,
}

impl EncryptedTally {
    /// An empty tally (every option encrypts 0 with no randomness).
    pub fn new(options: usize) -> Self {
        EncryptedTally { sums: vec![Ciphertext::zero(); options] }
    }
    /// Adds a verified ballot's ciphertexts.
    pub fn add(&mut self, ciphertexts: &[Ciphertext]) {
        for (sum, c) in self.sums.iter_mut().zip(ciphertexts) {
            *sum += *c;
        }
    }
    /// Removes a ballot's ciphertexts (a re-vote supersedes it).
    pub fn subtract(&mut self, ciphertexts: &[Ciphertext]) {
        for (sum, c) in self.sums.iter_mut().zip(ciphertexts) {
            *sum -= *c;
        }
    }
    /// The per-option sums.
    pub fn sums(&self) -> &[Ciphertext] {
        &self.sums
    }
    /// The per-option sums' bytes.
    pub fn to_bytes(&self) -> Vec<[u8; CIPHERTEXT_BYTES]> {
        self.sums.iter().map(ciphertext_bytes).collect()
    }
}

/// What a decryption share's proofs are bound to.
#[derive(Debug, Clone, Copy)]
pub struct ShareContext<'a> {
    /// The ledger's id.
    pub ledger_id: &'a Hash,
    /// The referendum's id.
    pub referendum: &'a Hash,
    /// The trustee's index among the referendum's trustees (0-based).
    pub trustee: usize,
}

impl ShareContext<'_> {
    fn transcript(&self, option: usize, tally: &[u8; CIPHERTEXT_BYTES]) -> Transcript {
        let mut t = Transcript::new(SHARE_PROTOCOL);
        t.append_message(b"ledger", self.ledger_id);
        t.append_message(b"referendum", self.referendum);
        t.append_u64(b"trustee", self.trustee as u64);
        t.append_u64(b"option", option as u64);
        t.append_message(b"tally", tally);
        t
    }
}

/// A trustee's decryption share of a tally: per option `D = [x]R` with a
/// proof that `log_G X = log_R D` for the trustee's public share `X`.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptionShare {
    /// Per option: `D` then the proof.
    pub options: Vec<([u8; ELEMENT_BYTES], [u8; LOG_EQ_PROOF_BYTES])>,
}

impl std::fmt::Debug for DecryptionShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecryptionShare({} options)", self.options.len())
    }
}

impl DecryptionShare {
    /// The share of `tally` by the trustee holding `secret_share`.
    pub fn new<R: RngCore + CryptoRng>(
        context: &ShareContext<'_>,
        secret_share: &SecretKey<Ristretto>,
        tally: &EncryptedTally,
        rng: &mut R,
    ) -> Self {
        let keys = Keypair::from(secret_share.clone());
        let options = tally
            .sums()
            .iter()
            .enumerate()
            .map(|(option, sum)| {
                let mut t = context.transcript(option, &ciphertext_bytes(sum));
                let (share, proof) = VerifiableDecryption::new(*sum, &keys, &mut t, rng);
                let mut d = [0u8; ELEMENT_BYTES];
                d.copy_from_slice(&share.to_bytes());
                let mut p = [0u8; LOG_EQ_PROOF_BYTES];
                p.copy_from_slice(&proof.to_bytes());
                (d, p)
            })
            .collect();
        DecryptionShare { options }
    }

    /// Checks the share against the trustee's public share and the tally.
    pub fn verify(
        &self,
        context: &ShareContext<'_>,
        trustee_key: &PublicKey<Ristretto>,
        tally: &EncryptedTally,
    ) -> Result<Vec<VerifiableDecryption<Ristretto>>, SecretError> {
        if self.options.len() != tally.sums().len() {
            return Err(SecretError::OptionCount { expected: tally.sums().len(), actual: self.options.len() });
        }
        self.options
            .iter()
            .zip(tally.sums())
            .enumerate()
            .map(|(option, ((d, p), sum))| {
                let candidate = CandidateDecryption::<Ristretto>::from_bytes(d)
                    .ok_or(SecretError::Malformed { what: "a decryption share" })?;
                let proof = log_eq_proof(p)?;
                let mut t = context.transcript(option, &ciphertext_bytes(sum));
                candidate.verify(*sum, trustee_key, &proof, &mut t).map_err(|_| SecretError::ShareProof { option })
            })
            .collect()
    }

    /// The share's bytes: per option `D` then its proof.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.options.iter().flat_map(|(d, p)| d.iter().chain(p.iter()).copied()).collect()
    }

    /// A share of `options` options from its bytes (lengths only).
    pub fn from_bytes(options: usize, bytes: &[u8]) -> Option<Self> {
        if bytes.len() != options * SHARE_OPTION_BYTES {
            return None;
        }
        let options = bytes
            .chunks_exact(SHARE_OPTION_BYTES)
            .map(|chunk| {
                let mut d = [0u8; ELEMENT_BYTES];
                let mut p = [0u8; LOG_EQ_PROOF_BYTES];
                d.copy_from_slice(&chunk[..ELEMENT_BYTES]);
                p.copy_from_slice(&chunk[ELEMENT_BYTES..]);
                (d, p)
            })
            .collect();
        Some(DecryptionShare { options })
    }
}

/// The per-option elements `[count]G` that `threshold` verified shares
/// decrypt the tally to, combining them by Lagrange interpolation at 0.
/// `shares` are (trustee index, that trustee's verified share per option).
pub fn combine(
    trustees: usize,
    threshold: usize,
    shares: &[(usize, Vec<VerifiableDecryption<Ristretto>>)],
    tally: &EncryptedTally,
) -> Result<Vec<Point>, SecretError> {
    if shares.len() < threshold || threshold == 0 || threshold > trustees {
        return Err(SecretError::TooFewShares { valid: shares.len(), threshold });
    }
    let params = Params::new(trustees, threshold);
    tally
        .sums()
        .iter()
        .enumerate()
        .map(|(option, sum)| {
            let combined = params
                .combine_shares(shares.iter().map(|(index, per_option)| (*index, per_option[option])))
                .ok_or(SecretError::TooFewShares { valid: shares.len(), threshold })?;
            Ok(combined.decrypt_to_element(*sum))
        })
        .collect()
}

/// Checks declared counts against the decrypted elements: `[count]G` per
/// option, no discrete logarithm needed.
pub fn check_counts(decrypted: &[Point], counts: &[u64]) -> Result<(), SecretError> {
    if decrypted.len() != counts.len() {
        return Err(SecretError::OptionCount { expected: decrypted.len(), actual: counts.len() });
    }
    for (option, (element, count)) in decrypted.iter().zip(counts).enumerate() {
        if Ristretto::mul_generator(&Scalar::from(*count)) != *element {
            return Err(SecretError::TallyMismatch { option });
        }
    }
    Ok(())
}

/// Finds each option's count, at most `bound`, by baby-step giant-step:
/// O(√bound) time and memory per option.
pub fn find_counts(decrypted: &[Point], bound: u64) -> Result<Vec<u64>, SecretError> {
    let side = bound.saturating_add(1).isqrt().saturating_add(1);
    let mut baby = std::collections::HashMap::with_capacity(usize::try_from(side).unwrap_or(usize::MAX));
    let generator = Ristretto::generator();
    let mut point = Ristretto::identity();
    for j in 0..side {
        baby.insert(element_bytes(&point), j);
        point += generator;
    }
    let giant = -Ristretto::mul_generator(&Scalar::from(side));
    decrypted
        .iter()
        .enumerate()
        .map(|(option, target)| {
            let mut current = *target;
            for i in 0..side {
                if let Some(j) = baby.get(&element_bytes(&current)) {
                    let count = i * side + j;
                    if count <= bound {
                        return Ok(count);
                    }
                }
                current += giant;
            }
            Err(SecretError::CountNotFound { option, bound })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use elastic_elgamal::dkg::ParticipantCollectingCommitments;
    use proptest::prelude::*;

    fn rng(seed: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([seed; 32])
    }

    /// A 2-of-3 key set by elastic-elgamal's DKG, all in one place (tests
    /// only: in a ledger each trustee runs its own part).
    fn trustees(rng: &mut ChaCha20Rng) -> (ElectionKey, Vec<elastic_elgamal::sharing::ActiveParticipant<Ristretto>>) {
        let params = Params::new(3, 2);
        let mut participants: Vec<_> =
            (0..3).map(|i| ParticipantCollectingCommitments::<Ristretto>::new(params, i, rng)).collect();
        let commitments: Vec<_> = participants.iter().map(|p| p.commitment()).collect();
        for (i, p) in participants.iter_mut().enumerate() {
            for (j, c) in commitments.iter().enumerate() {
                if i != j {
                    p.insert_commitment(j, *c);
                }
            }
        }
        let mut participants: Vec<_> = participants.into_iter().map(|p| p.finish_commitment_phase()).collect();
        let infos: Vec<_> = participants.iter().map(|p| p.public_info().into_owned()).collect();
        for (i, p) in participants.iter_mut().enumerate() {
            for (j, info) in infos.iter().enumerate() {
                if i != j {
                    p.insert_public_polynomial(j, info.clone()).expect("valid polynomial");
                }
            }
        }
        let mut participants: Vec<_> = participants.into_iter().map(|p| p.finish_polynomials_phase()).collect();
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    let share = participants[i].secret_share_for_participant(j);
                    participants[j].insert_secret_share(i, share).expect("valid share");
                }
            }
        }
        let active: Vec<_> = participants.into_iter().map(|p| p.complete().expect("complete")).collect();
        (ElectionKey::from_public(active[0].key_set().shared_key()), active)
    }

    const LEDGER: Hash = [1; 32];
    const REFERENDUM: Hash = [2; 32];

    fn context<'a>(key: &'a ElectionKey, voter: &'a crate::PublicKey, options: usize) -> BallotContext<'a> {
        BallotContext { ledger_id: &LEDGER, referendum: &REFERENDUM, voter, key, options }
    }

    #[test]
    fn ballots_verify_in_their_context_and_in_no_other() {
        let mut rng = rng(7);
        let (key, _) = trustees(&mut rng);
        let alice = [0xa1; 32];
        let bob = [0xb0; 32];
        for options in [2, 5] {
            let ballot = SecretBallot::encrypt(&context(&key, &alice, options), 1, &mut rng).expect("encrypts");
            assert_eq!(ballot.to_bytes().len(), SecretBallot::encoded_len(options));
            ballot.verify(&context(&key, &alice, options)).expect("verifies for alice");
            // Copied by bob, byte for byte: refused.
            assert!(matches!(
                ballot.verify(&context(&key, &bob, options)),
                Err(SecretError::OptionProof { option: 0 })
            ));
            // Another referendum, another ledger: refused.
            let other = [9; 32];
            let moved = BallotContext { referendum: &other, ..context(&key, &alice, options) };
            assert!(ballot.verify(&moved).is_err());
            let moved = BallotContext { ledger_id: &other, ..context(&key, &alice, options) };
            assert!(ballot.verify(&moved).is_err());
            // Another key: refused.
            let (other_key, _) = trustees(&mut rng);
            assert!(ballot.verify(&context(&other_key, &alice, options)).is_err());
        }
    }

    #[test]
    fn a_ballot_for_two_options_or_none_is_refused() {
        // Built by hand with elastic-elgamal's multi-choice (0/1 proofs
        // only), transplanted into our layout: the options' proofs are
        // bound elsewhere, and the sum proof cannot be made for 2 or 0.
        let mut rng = rng(8);
        let (key, _) = trustees(&mut rng);
        let voter = [3; 32];
        let good = SecretBallot::encrypt(&context(&key, &voter, 3), 2, &mut rng).expect("encrypts");
        let other = SecretBallot::encrypt(&context(&key, &voter, 3), 0, &mut rng).expect("encrypts");
        // Option 0 from a ballot choosing 0, options 1..3 from one choosing 2:
        // two ones. Every option proof was made for other ciphertexts.
        let mut mixed = good.clone();
        mixed.options[0] = other.options[0];
        assert!(mixed.verify(&context(&key, &voter, 3)).is_err());
        // The sum proof of another ballot.
        let mut swapped = good.clone();
        swapped.sum_proof = other.sum_proof;
        assert!(matches!(swapped.verify(&context(&key, &voter, 3)), Err(SecretError::SumProof)));
        assert!(matches!(
            good.verify(&context(&key, &voter, 2)),
            Err(SecretError::OptionCount { expected: 2, actual: 3 })
        ));
        assert!(matches!(
            SecretBallot::encrypt(&context(&key, &voter, 3), 3, &mut rng),
            Err(SecretError::NoSuchChoice { .. })
        ));
    }

    #[test]
    fn two_of_three_trustees_decrypt_the_tally_and_the_declared_counts_are_checked() {
        let mut rng = rng(9);
        let (key, active) = trustees(&mut rng);
        let choices = [0usize, 1, 1, 2, 1, 0, 1];
        let mut tally = EncryptedTally::new(3);
        for (n, choice) in choices.iter().enumerate() {
            let voter = [u8::try_from(n).expect("small"); 32];
            let ballot = SecretBallot::encrypt(&context(&key, &voter, 3), *choice, &mut rng).expect("encrypts");
            tally.add(&ballot.verify(&context(&key, &voter, 3)).expect("verifies"));
        }
        let mut shares = Vec::new();
        for trustee in [0usize, 2] {
            let ctx = ShareContext { ledger_id: &LEDGER, referendum: &REFERENDUM, trustee };
            let share = DecryptionShare::new(&ctx, active[trustee].secret_share(), &tally, &mut rng);
            let key_share = active[0].key_set().participant_key(trustee).expect("trustee").clone();
            let checked = share.verify(&ctx, &key_share, &tally).expect("valid share");
            // The same share offered as another trustee's: refused.
            let wrong = ShareContext { trustee: 1, ..ctx };
            let other_key = active[0].key_set().participant_key(1).expect("trustee").clone();
            assert!(share.verify(&wrong, &other_key, &tally).is_err());
            shares.push((trustee, checked));
        }
        assert!(matches!(
            combine(3, 2, &shares[..1], &tally),
            Err(SecretError::TooFewShares { valid: 1, threshold: 2 })
        ));
        let decrypted = combine(3, 2, &shares, &tally).expect("two shares");
        let counts = find_counts(&decrypted, 7).expect("found");
        assert_eq!(counts, vec![2, 4, 1]);
        check_counts(&decrypted, &counts).expect("the counts match");
        assert_eq!(check_counts(&decrypted, &[2, 3, 2]), Err(SecretError::TallyMismatch { option: 1 }));
    }

    #[test]
    fn baby_step_giant_step_finds_every_count_up_to_the_bound() {
        for bound in [0u64, 1, 2, 3, 15, 16, 17, 1000] {
            for count in [0, 1, bound / 2, bound.saturating_sub(1), bound].into_iter().filter(|c| *c <= bound) {
                let element = Ristretto::mul_generator(&Scalar::from(count));
                assert_eq!(find_counts(&[element], bound), Ok(vec![count]), "bound {bound} count {count}");
            }
            let beyond = Ristretto::mul_generator(&Scalar::from(bound + 1));
            assert!(find_counts(&[beyond], bound).is_err(), "bound {bound}: a count beyond it");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn random_valid_ballots_tally_to_the_counts_encrypted(
            seed in any::<[u8; 32]>(),
            choices in proptest::collection::vec(0usize..4, 0..12),
        ) {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let (key, active) = trustees(&mut rng);
            let mut tally = EncryptedTally::new(4);
            let mut expected = vec![0u64; 4];
            for (n, choice) in choices.iter().enumerate() {
                let voter = [u8::try_from(n).expect("small"); 32];
                let ctx = context(&key, &voter, 4);
                let ballot = SecretBallot::encrypt(&ctx, *choice, &mut rng).expect("encrypts");
                tally.add(&ballot.verify(&ctx).expect("verifies"));
                expected[*choice] += 1;
            }
            let shares: Vec<_> = [1usize, 2].iter().map(|&trustee| {
                let ctx = ShareContext { ledger_id: &LEDGER, referendum: &REFERENDUM, trustee };
                let share = DecryptionShare::new(&ctx, active[trustee].secret_share(), &tally, &mut rng);
                let key_share = active[0].key_set().participant_key(trustee).expect("trustee").clone();
                (trustee, share.verify(&ctx, &key_share, &tally).expect("valid"))
            }).collect();
            let decrypted = combine(3, 2, &shares, &tally).expect("two shares");
            prop_assert_eq!(find_counts(&decrypted, 12).expect("found"), expected);
        }

        #[test]
        fn any_flipped_byte_in_a_ballot_is_refused(seed in any::<[u8; 32]>(), at in any::<usize>(), bit in 0u8..8) {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let key = ElectionKey::from_public(Keypair::<Ristretto>::generate(&mut rng).public());
            let voter = [5; 32];
            let ctx = context(&key, &voter, 2);
            let ballot = SecretBallot::encrypt(&ctx, 1, &mut rng).expect("encrypts");
            let mut bytes = ballot.to_bytes();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            let flipped = SecretBallot::from_bytes(2, &bytes).expect("same length");
            prop_assert!(flipped.verify(&ctx).is_err());
        }

        #[test]
        fn any_flipped_byte_in_a_share_is_refused(seed in any::<[u8; 32]>(), at in any::<usize>(), bit in 0u8..8) {
            let mut rng = ChaCha20Rng::from_seed(seed);
            let (key, active) = trustees(&mut rng);
            let voter = [6; 32];
            let ctx = context(&key, &voter, 2);
            let mut tally = EncryptedTally::new(2);
            tally.add(&SecretBallot::encrypt(&ctx, 0, &mut rng).expect("encrypts").verify(&ctx).expect("verifies"));
            let share_ctx = ShareContext { ledger_id: &LEDGER, referendum: &REFERENDUM, trustee: 0 };
            let share = DecryptionShare::new(&share_ctx, active[0].secret_share(), &tally, &mut rng);
            let key_share = active[0].key_set().participant_key(0).expect("trustee").clone();
            let mut bytes = share.to_bytes();
            let at = at % bytes.len();
            bytes[at] ^= 1 << bit;
            let flipped = DecryptionShare::from_bytes(2, &bytes).expect("same length");
            prop_assert!(flipped.verify(&share_ctx, &key_share, &tally).is_err());
        }
    }
}
