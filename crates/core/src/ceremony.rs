//! Format 3: a secret referendum's key ceremony, its encrypted count and its
//! decryption, as every verifier replays them from the log.
//!
//! The ceremony is elastic-elgamal's committed Pedersen DKG with its steps
//! as events: every trustee commits to its key share and publishes an
//! X25519 box key (`trustee_committed`); once all have committed, each
//! publishes its public polynomial with a proof of possession, opening the
//! commitment (`trustee_dealt`); once all have dealt, each sends every other
//! trustee its share in a `crypto_box` (`trustee_shares_sent`). The joint
//! election key and every trustee's public key share are derived from the
//! polynomials by every verifier, never asserted. A trustee whose share does
//! not lie on the sender's polynomial shows it with `trustee_complained`
//! (revealing its own box secret for this ceremony); an upheld complaint
//! fails the ceremony.
//!
//! The trustee's side ([`TrusteeSecrets`]) derives everything it needs from
//! its Ed25519 seed and the referendum id, so each step is a command that
//! reads the log and posts the next event, with no state kept between steps.

use std::collections::HashMap;

use crypto_box::aead::Aead;
use crypto_box::SalsaBox;
use elastic_elgamal::dkg::{ParticipantCollectingCommitments, ParticipantExchangingSecrets, PublicInfo};
use elastic_elgamal::group::{ElementOps, Group, Ristretto, ScalarOps};
use elastic_elgamal::sharing::{ActiveParticipant, Params, PublicKeySet};
use elastic_elgamal::{Ciphertext, ProofOfPossession, PublicKey as ElgamalKey, SecretKey, VerifiableDecryption};
use rand_chacha::rand_core::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256, Sha512};

use crate::event::SealedShare;
use crate::rejection::{hex32, key, Rejection};
use crate::secret::{
    check_counts, ciphertext, ciphertext_bytes, combine, find_counts, DecryptionShare, ElectionKey, EncryptedTally,
    SecretError, ShareContext, CIPHERTEXT_BYTES,
};
use crate::{Hash, PublicKey};

/// Where a ceremony stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyStatus {
    /// Waiting for every trustee's commitment.
    Committing,
    /// Waiting for every trustee's polynomial.
    Dealing,
    /// Waiting for every trustee's encrypted shares.
    Sharing,
    /// The election key is derived; ballots may be cast in the window.
    Complete,
    /// A complaint was upheld: no election key; the referendum must be
    /// called again.
    Failed,
}

impl CeremonyStatus {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            CeremonyStatus::Committing => "committing",
            CeremonyStatus::Dealing => "dealing",
            CeremonyStatus::Sharing => "sharing",
            CeremonyStatus::Complete => "complete",
            CeremonyStatus::Failed => "failed",
        }
    }
}

/// A trustee's public polynomial as dealt: coefficients, proof, opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dealt {
    /// `threshold` elements.
    pub polynomial: Vec<[u8; 32]>,
    /// The proof of possession: challenge and responses.
    pub proof: Vec<u8>,
    /// The commitment's opening.
    pub opening: [u8; 32],
}

/// The ceremony and count of one secret referendum.
#[derive(Debug, Clone)]
pub struct Ceremony {
    referendum: Hash,
    trustees: Vec<PublicKey>,
    threshold: usize,
    commitments: Vec<Option<(Hash, [u8; 32])>>,
    dealt: Vec<Option<(Dealt, PublicKeySet<Ristretto>)>>,
    sent: Vec<Option<Vec<SealedShare>>>,
    joint: Option<PublicKeySet<Ristretto>>,
    failed: Option<(u8, u8)>,
    tally: EncryptedTally,
    ballots: HashMap<u32, Box<[[u8; CIPHERTEXT_BYTES]]>>,
    superseded: u64,
    shares: Vec<(usize, Vec<VerifiableDecryption<Ristretto>>)>,
}

impl PartialEq for Ceremony {
    fn eq(&self, other: &Self) -> bool {
        let dealt = |c: &Ceremony| c.dealt.iter().map(|d| d.as_ref().map(|(d, _)| d.clone())).collect::<Vec<_>>();
        let shares = |c: &Ceremony| {
            c.shares.iter().map(|(i, s)| (*i, s.iter().map(|d| d.to_bytes()).collect::<Vec<_>>())).collect::<Vec<_>>()
        };
        self.referendum == other.referendum
            && self.trustees == other.trustees
            && self.threshold == other.threshold
            && self.commitments == other.commitments
            && dealt(self) == dealt(other)
            && self.sent == other.sent
            && self.failed == other.failed
            && self.tally.to_bytes() == other.tally.to_bytes()
            && self.ballots == other.ballots
            && self.superseded == other.superseded
            && shares(self) == shares(other)
    }
}

impl Eq for Ceremony {}

/// The commitment to a key share element: SHA-256 of its 32 bytes, then the
/// 32-byte opening (elastic-elgamal's DKG commitment).
pub fn commitment(element: &[u8; 32], opening: &[u8; 32]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update(element);
    hasher.update(opening);
    hasher.finalize().into()
}

fn b64(bytes: &[u8]) -> serde_json::Value {
    use base64::Engine;
    serde_json::Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// elastic-elgamal's `PublicInfo` for a dealt polynomial (through its serde
/// form, the only way it builds one from bytes).
fn public_info(dealt: &Dealt) -> Option<PublicInfo<'static, Ristretto>> {
    let proof: Vec<_> = dealt.proof.chunks(32).map(b64).collect();
    let value = serde_json::json!({
        "polynomial": dealt.polynomial.iter().map(|c| b64(c)).collect::<Vec<_>>(),
        "proof_of_possession": { "challenge": proof.first()?, "responses": proof.get(1..)? },
        "opening": b64(&dealt.opening),
    });
    serde_json::from_value(value).ok()
}

fn proof_of_possession(proof: &[u8]) -> Option<ProofOfPossession<Ristretto>> {
    if proof.len() < 64
        || !proof.len().is_multiple_of(32)
        || !proof.chunks(32).all(|s| Ristretto::deserialize_scalar(s).is_some())
    {
        return None;
    }
    let chunks: Vec<_> = proof.chunks(32).map(b64).collect();
    serde_json::from_value(serde_json::json!({ "challenge": chunks[0], "responses": &chunks[1..] })).ok()
}

fn scalar_from_share(plain: &[u8]) -> Option<SecretKey<Ristretto>> {
    (plain.len() == 32 && Ristretto::deserialize_scalar(plain).is_some())
        .then(|| SecretKey::from_bytes(plain))
        .flatten()
}

/// The 24-byte box nonce of the share `from` sends `to`: fixed by the
/// ceremony, so that a dealer has one share per recipient.
pub fn share_nonce(referendum: &Hash, from: usize, to: usize) -> [u8; 24] {
    let mut hasher = Sha256::new();
    hasher.update(b"dauys/ceremony-nonce/v1\0");
    hasher.update(referendum);
    hasher.update([u8::try_from(from).unwrap_or(u8::MAX), u8::try_from(to).unwrap_or(u8::MAX)]);
    let digest: [u8; 32] = hasher.finalize().into();
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&digest[..24]);
    nonce
}

/// Opens the share `from` sealed for `to` with `to`'s box secret: the
/// scalar, or `None` if the box does not open or holds no canonical scalar.
fn open_share(
    sender_box_key: &[u8; 32],
    recipient_secret: &[u8; 32],
    share: &SealedShare,
) -> Option<SecretKey<Ristretto>> {
    // As libsodium does: a box whose X25519 shared secret is all zero (a
    // small-order box key) never opens, whatever the library.
    let shared = curve25519_dalek::MontgomeryPoint(*sender_box_key).mul_clamped(*recipient_secret);
    if shared.to_bytes() == [0u8; 32] {
        return None;
    }
    let salsa =
        SalsaBox::new(&crypto_box::PublicKey::from(*sender_box_key), &crypto_box::SecretKey::from(*recipient_secret));
    let plain = salsa.decrypt(&share.nonce.into(), &share.sealed[..]).ok()?;
    scalar_from_share(&plain)
}

/// Opens the box `share` with the recipient's box secret: the 32-byte
/// scalar inside, or `None` if it does not open to a canonical scalar.
pub fn open_sealed(sender_box_key: &[u8; 32], recipient_secret: &[u8; 32], share: &SealedShare) -> Option<[u8; 32]> {
    let scalar = open_share(sender_box_key, recipient_secret, share)?;
    let mut out = [0u8; 32];
    Ristretto::serialize_scalar(scalar.expose_scalar(), &mut out);
    Some(out)
}

impl Ceremony {
    /// A ceremony for a referendum just called.
    pub fn new(referendum: Hash, trustees: Vec<PublicKey>, threshold: usize, options: usize) -> Self {
        let n = trustees.len();
        Ceremony {
            referendum,
            trustees,
            threshold,
            commitments: vec![None; n],
            dealt: vec![None; n],
            sent: vec![None; n],
            joint: None,
            failed: None,
            tally: EncryptedTally::new(options),
            ballots: HashMap::new(),
            superseded: 0,
            shares: Vec::new(),
        }
    }

    fn params(&self) -> Params {
        Params::new(self.trustees.len(), self.threshold)
    }

    /// The trustees' keys in index order.
    pub fn trustees(&self) -> &[PublicKey] {
        &self.trustees
    }
    /// How many shares decrypt.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    /// The index of a trustee key.
    pub fn index_of(&self, author: &PublicKey) -> Option<usize> {
        self.trustees.iter().position(|k| k == author)
    }
    /// Where the ceremony stands.
    pub fn status(&self) -> CeremonyStatus {
        if self.failed.is_some() {
            CeremonyStatus::Failed
        } else if self.joint.is_some() {
            CeremonyStatus::Complete
        } else if self.commitments.iter().any(Option::is_none) {
            CeremonyStatus::Committing
        } else if self.dealt.iter().any(Option::is_none) {
            CeremonyStatus::Dealing
        } else {
            CeremonyStatus::Sharing
        }
    }
    /// The upheld complaint: (accused, complainer).
    pub fn failure(&self) -> Option<(u8, u8)> {
        self.failed
    }
    /// The derived election key, once complete.
    pub fn election_key(&self) -> Option<ElectionKey> {
        self.joint.as_ref().map(|k| ElectionKey::from_public(k.shared_key()))
    }
    /// Trustee `index`'s public key share, once complete.
    pub fn key_share(&self, index: usize) -> Option<&ElgamalKey<Ristretto>> {
        self.joint.as_ref()?.participant_key(index)
    }
    /// Trustee `index`'s commitment and box key.
    pub fn commitment_of(&self, index: usize) -> Option<&(Hash, [u8; 32])> {
        self.commitments.get(index)?.as_ref()
    }
    /// Trustee `index`'s dealt polynomial.
    pub fn dealt_by(&self, index: usize) -> Option<&Dealt> {
        self.dealt.get(index)?.as_ref().map(|(d, _)| d)
    }
    /// The shares trustee `index` sent, one per other trustee in index order.
    pub fn sent_by(&self, index: usize) -> Option<&[SealedShare]> {
        self.sent.get(index)?.as_deref()
    }
    /// Ballots counted (one per voter) and ballots superseded by a re-vote.
    pub fn ballot_counts(&self) -> (u64, u64) {
        (self.ballots.len() as u64, self.superseded)
    }
    /// Whether this voter's ballot is counted now.
    pub fn has_ballot(&self, voter: u32) -> bool {
        self.ballots.contains_key(&voter)
    }
    /// The running encrypted tally.
    pub fn tally(&self) -> &EncryptedTally {
        &self.tally
    }
    /// The encrypted tally's fingerprint: lowercase hex of SHA-256 over
    /// `dauys/encrypted-tally/v1`, a zero byte, the referendum id and every
    /// option's sum ciphertext. Trustees confirm it with each other and
    /// with observers before they decrypt, so that no one can have them
    /// decrypt a tally that is not the final one of the log everyone sees.
    pub fn tally_fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"dauys/encrypted-tally/v1\0");
        hasher.update(self.referendum);
        for sum in self.tally.to_bytes() {
            hasher.update(sum);
        }
        hex::encode(hasher.finalize())
    }

    /// Trustees whose decryption shares are on the log, in log order.
    pub fn shared_by(&self) -> Vec<usize> {
        self.shares.iter().map(|(i, _)| *i).collect()
    }

    fn trustee(&self, author: &PublicKey) -> Result<usize, Rejection> {
        self.index_of(author).ok_or(Rejection::NotATrustee { referendum: hex32(&self.referendum), key: key(author) })
    }

    fn invalid(&self, problem: impl Into<String>) -> Rejection {
        Rejection::CeremonyStepInvalid { referendum: hex32(&self.referendum), problem: problem.into() }
    }

    fn repeated(&self, step: &'static str) -> Rejection {
        Rejection::CeremonyStepRepeated { referendum: hex32(&self.referendum), step }
    }

    fn out_of_order(&self, step: &'static str, waiting_for: &'static str) -> Rejection {
        Rejection::CeremonyOutOfOrder { referendum: hex32(&self.referendum), step, waiting_for }
    }

    fn check_open(&self) -> Result<(), Rejection> {
        match self.failed {
            Some((accused, _)) => Err(Rejection::CeremonyFailed { referendum: hex32(&self.referendum), accused }),
            None => Ok(()),
        }
    }

    /// `trustee_committed`.
    pub fn commit(&mut self, author: &PublicKey, commitment: Hash, box_key: [u8; 32]) -> Result<(), Rejection> {
        let i = self.trustee(author)?;
        self.check_open()?;
        if self.commitments[i].is_some() {
            return Err(self.repeated("trustee_committed"));
        }
        if curve25519_dalek::MontgomeryPoint(box_key).mul_clamped([1; 32]).to_bytes() == [0; 32] {
            return Err(self.invalid("the box key has small order: no share sealed to it could be opened"));
        }
        self.commitments[i] = Some((commitment, box_key));
        Ok(())
    }

    /// `trustee_dealt`.
    pub fn deal(&mut self, author: &PublicKey, dealt: &Dealt) -> Result<(), Rejection> {
        let i = self.trustee(author)?;
        self.check_open()?;
        if self.dealt[i].is_some() {
            return Err(self.repeated("trustee_dealt"));
        }
        if self.commitments.iter().any(Option::is_none) {
            return Err(self.out_of_order("trustee_dealt", "committed"));
        }
        if dealt.polynomial.len() != self.threshold {
            return Err(self.invalid(format!(
                "the polynomial has {} coefficients, the threshold is {}",
                dealt.polynomial.len(),
                self.threshold
            )));
        }
        let (committed, _) = self.commitments[i].expect("checked above");
        if commitment(&dealt.polynomial[0], &dealt.opening) != committed {
            return Err(Rejection::CommitmentMismatch { referendum: hex32(&self.referendum) });
        }
        let elements = dealt
            .polynomial
            .iter()
            .map(|c| Ristretto::deserialize_element(c))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| self.invalid("a coefficient is not a canonical ristretto255 element"))?;
        let proof = proof_of_possession(&dealt.proof).ok_or_else(|| self.invalid("malformed proof of possession"))?;
        let key_set = PublicKeySet::new(self.params(), elements, &proof)
            .map_err(|e| self.invalid(format!("the polynomial's proof of possession does not verify: {e}")))?;
        self.dealt[i] = Some((dealt.clone(), key_set));
        Ok(())
    }

    /// `trustee_shares_sent`; the last one completes the ceremony.
    pub fn send(&mut self, author: &PublicKey, shares: &[SealedShare]) -> Result<(), Rejection> {
        let i = self.trustee(author)?;
        self.check_open()?;
        if self.sent[i].is_some() {
            return Err(self.repeated("trustee_shares_sent"));
        }
        if self.dealt.iter().any(Option::is_none) {
            return Err(self.out_of_order("trustee_shares_sent", "dealt"));
        }
        if shares.len() + 1 != self.trustees.len() {
            return Err(self.invalid(format!(
                "{} shares for {} other trustees",
                shares.len(),
                self.trustees.len() - 1
            )));
        }
        let others = (0..self.trustees.len()).filter(|&j| j != i);
        for (to, share) in others.zip(shares) {
            if share.nonce != share_nonce(&self.referendum, i, to) {
                return Err(self.invalid(format!("the share for trustee {to} does not use its ceremony nonce")));
            }
        }
        let joint = if self.sent.iter().enumerate().all(|(j, s)| j == i || s.is_some()) {
            Some(self.joint_keys().map_err(|e| self.invalid(e))?)
        } else {
            None
        };
        self.sent[i] = Some(shares.to_vec());
        self.joint = joint;
        Ok(())
    }

    /// The joint key set: per trustee, the sum of every dealer's polynomial
    /// at the trustee's point; the election key is their sum at 0.
    fn joint_keys(&self) -> Result<PublicKeySet<Ristretto>, String> {
        let n = self.trustees.len();
        let mut keys = vec![Ristretto::identity(); n];
        for (_, dealer) in self.dealt.iter().flatten() {
            for (sum, key) in keys.iter_mut().zip(dealer.participant_keys()) {
                *sum += key.as_element();
            }
        }
        let keys = keys
            .iter()
            .map(|k| {
                let mut bytes = [0u8; 32];
                Ristretto::serialize_element(k, &mut bytes);
                ElgamalKey::from_bytes(&bytes).map_err(|e| format!("a joint key share is invalid: {e}"))
            })
            .collect::<Result<_, _>>()?;
        PublicKeySet::from_participants(self.params(), keys).map_err(|e| format!("inconsistent key shares: {e}"))
    }

    /// `trustee_complained`: upheld (the ceremony fails) or refused.
    pub fn complain(&mut self, author: &PublicKey, accused: u8, box_secret: &[u8; 32]) -> Result<(), Rejection> {
        let i = self.trustee(author)?;
        self.check_open()?;
        let a = usize::from(accused);
        if a >= self.trustees.len() || a == i {
            return Err(self.invalid(format!("trustee {i} cannot accuse trustee {accused}")));
        }
        let (_, box_key) = self.commitments[i].ok_or_else(|| self.out_of_order("trustee_complained", "committed"))?;
        if crypto_box::SecretKey::from(*box_secret).public_key().to_bytes() != box_key {
            return Err(self.invalid("the revealed box secret is not the complainer's box key"));
        }
        if self.sent[a].is_none() {
            return Err(self.invalid(format!("trustee {accused} has sent no shares")));
        }
        if self.share_is_good(a, i, box_secret) {
            return Err(Rejection::ComplaintUnfounded { referendum: hex32(&self.referendum), accused });
        }
        self.failed = Some((accused, u8::try_from(i).unwrap_or(u8::MAX)));
        self.joint = None;
        Ok(())
    }

    /// Opens the share trustee `from` sealed for trustee `to` with `to`'s
    /// box secret (its slot in `from`'s list skips `from` itself): the
    /// scalar, or `None` if `from` sent nothing or the box does not open.
    fn open_share_to(&self, from: usize, to: usize, box_secret: &[u8; 32]) -> Option<SecretKey<Ristretto>> {
        let shares = self.sent.get(from)?.as_ref()?;
        let (_, sender_box) = self.commitments.get(from)?.as_ref()?;
        let slot = if to < from { to } else { to - 1 };
        open_share(sender_box, box_secret, shares.get(slot)?)
    }

    /// Whether the share `from` sealed for `to` opens with `to`'s box secret
    /// and lies on `from`'s polynomial at `to + 1`.
    fn share_is_good(&self, from: usize, to: usize, box_secret: &[u8; 32]) -> bool {
        let expected = self.dealt.get(from).and_then(Option::as_ref).and_then(|(_, d)| d.participant_key(to));
        match (self.open_share_to(from, to, box_secret), expected) {
            (Some(share), Some(key)) => Ristretto::mul_generator(share.expose_scalar()) == key.as_element(),
            _ => false,
        }
    }

    /// Whether the ceremony failed, or never completed before `opens_at_ms`
    /// at `now`: the referendum may be called again.
    pub fn void_at(&self, now: u64, opens_at_ms: u64) -> bool {
        self.failed.is_some() || (self.joint.is_none() && now >= opens_at_ms)
    }

    /// The key and option count a ballot is checked against, once complete.
    pub fn ballot_key(&self) -> Result<ElectionKey, Rejection> {
        self.check_open()?;
        self.election_key().ok_or(Rejection::CeremonyIncomplete { referendum: hex32(&self.referendum) })
    }

    /// Counts a verified ballot for `voter`, superseding its earlier one.
    pub fn cast(&mut self, voter: u32, ciphertexts: &[Ciphertext<Ristretto>]) {
        let encoded: Box<[[u8; CIPHERTEXT_BYTES]]> = ciphertexts.iter().map(ciphertext_bytes).collect();
        if let Some(old) = self.ballots.insert(voter, encoded) {
            let old: Vec<_> = old.iter().map(|c| ciphertext(c).expect("stored ballots were verified")).collect();
            self.tally.subtract(&old);
            self.superseded += 1;
        }
        self.tally.add(ciphertexts);
    }

    /// `decryption_shared`, after the window closed.
    pub fn share(&mut self, author: &PublicKey, ledger_id: &Hash, share: &DecryptionShare) -> Result<(), Rejection> {
        let i = self.trustee(author)?;
        let referendum = hex32(&self.referendum);
        self.check_open()?;
        let Some(key) = self.key_share(i).cloned() else {
            return Err(Rejection::CeremonyIncomplete { referendum });
        };
        if self.shares.iter().any(|(j, _)| *j == i) {
            return Err(self.repeated("decryption_shared"));
        }
        let context = ShareContext { ledger_id, referendum: &self.referendum, trustee: i };
        let verified = share
            .verify(&context, &key, &self.tally)
            .map_err(|e| Rejection::InvalidDecryptionShare { referendum, problem: e.to_string() })?;
        self.shares.push((i, verified));
        Ok(())
    }

    /// Checks declared counts against the decryption by the first
    /// `threshold` shares on the log.
    pub fn check_declared(&self, counts: &[u64]) -> Result<(), Rejection> {
        let referendum = hex32(&self.referendum);
        self.check_open()?;
        if self.shares.len() < self.threshold {
            return Err(Rejection::TooFewShares {
                referendum,
                valid: self.shares.len() as u64,
                threshold: self.threshold as u64,
            });
        }
        let decrypted = combine(self.trustees.len(), self.threshold, &self.shares[..self.threshold], &self.tally)
            .map_err(|e| Rejection::InvalidDecryptionShare { referendum, problem: e.to_string() })?;
        match check_counts(&decrypted, counts) {
            Ok(()) => Ok(()),
            Err(_) => Err(Rejection::TallyMismatch {
                referendum,
                declared: counts.to_vec(),
                computed: find_counts(&decrypted, self.ballots.len() as u64).unwrap_or_default(),
            }),
        }
    }

    /// The counts the first `threshold` shares decrypt the tally to, found
    /// by baby-step giant-step (the declaring side).
    pub fn decrypt_counts(&self) -> Result<Vec<u64>, SecretError> {
        if self.shares.len() < self.threshold {
            return Err(SecretError::TooFewShares { valid: self.shares.len(), threshold: self.threshold });
        }
        let decrypted = combine(self.trustees.len(), self.threshold, &self.shares[..self.threshold], &self.tally)?;
        find_counts(&decrypted, self.ballots.len() as u64)
    }
}

/// What a trustee derives from its Ed25519 seed for one referendum: its box
/// secret and its dealer's randomness. Nothing is stored between steps.
pub struct TrusteeSecrets {
    box_secret: [u8; 32],
    dealer_seed: [u8; 32],
}

impl TrusteeSecrets {
    /// Derives the secrets of the trustee with `seed` for `referendum`.
    pub fn derive(seed: &[u8; 32], referendum: &Hash) -> Self {
        let derive = |label: &[u8]| {
            let mut hasher = Sha512::new();
            hasher.update(label);
            hasher.update(seed);
            hasher.update(referendum);
            let digest = hasher.finalize();
            let mut out = [0u8; 32];
            out.copy_from_slice(&digest[..32]);
            out
        };
        TrusteeSecrets {
            box_secret: derive(b"dauys/ceremony-box/v1\0"),
            dealer_seed: derive(b"dauys/ceremony-dealer/v1\0"),
        }
    }

    /// The box secret (revealed only in a complaint).
    pub fn box_secret(&self) -> [u8; 32] {
        self.box_secret
    }

    /// The box key other trustees encrypt to.
    pub fn box_key(&self) -> [u8; 32] {
        crypto_box::SecretKey::from(self.box_secret).public_key().to_bytes()
    }

    fn participant(&self, ceremony: &Ceremony, index: usize) -> ParticipantCollectingCommitments<Ristretto> {
        ParticipantCollectingCommitments::new(ceremony.params(), index, &mut ChaCha20Rng::from_seed(self.dealer_seed))
    }

    /// The commitment to post.
    pub fn commitment(&self, ceremony: &Ceremony, index: usize) -> Hash {
        self.participant(ceremony, index).commitment()
    }

    /// The polynomial to post, once every trustee has committed.
    pub fn dealt(&self, ceremony: &Ceremony, index: usize) -> Result<Dealt, String> {
        let participant = self.collecting_polynomials(ceremony, index)?;
        let value = serde_json::to_value(participant.public_info()).map_err(|e| e.to_string())?;
        let decode = |v: &serde_json::Value| -> Result<Vec<u8>, String> {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.as_str().ok_or("not a string")?)
                .map_err(|e| e.to_string())
        };
        let array32 = |v: &serde_json::Value| -> Result<[u8; 32], String> {
            decode(v)?.try_into().map_err(|_| "not 32 bytes".to_owned())
        };
        let polynomial =
            value["polynomial"].as_array().ok_or("no polynomial")?.iter().map(array32).collect::<Result<_, _>>()?;
        let mut proof = decode(&value["proof_of_possession"]["challenge"])?;
        for response in value["proof_of_possession"]["responses"].as_array().ok_or("no responses")? {
            proof.extend(decode(response)?);
        }
        Ok(Dealt { polynomial, proof, opening: array32(&value["opening"])? })
    }

    fn collecting_polynomials(
        &self,
        ceremony: &Ceremony,
        index: usize,
    ) -> Result<elastic_elgamal::dkg::ParticipantCollectingPolynomials<Ristretto>, String> {
        let mut participant = self.participant(ceremony, index);
        for (j, c) in ceremony.commitments.iter().enumerate() {
            let (commitment, _) = c.ok_or(format!("trustee {j} has not committed"))?;
            if j != index {
                participant.insert_commitment(j, commitment);
            } else if commitment != participant.commitment() {
                return Err("the commitment on the log is not this trustee's".to_owned());
            }
        }
        Ok(participant.finish_commitment_phase())
    }

    fn exchanging(&self, ceremony: &Ceremony, index: usize) -> Result<ParticipantExchangingSecrets<Ristretto>, String> {
        let mut participant = self.collecting_polynomials(ceremony, index)?;
        for j in (0..ceremony.trustees.len()).filter(|&j| j != index) {
            let dealt = ceremony.dealt_by(j).ok_or(format!("trustee {j} has not dealt"))?;
            let info = public_info(dealt).ok_or("a polynomial on the log does not parse")?;
            participant.insert_public_polynomial(j, info).map_err(|e| format!("trustee {j}'s polynomial: {e}"))?;
        }
        Ok(participant.finish_polynomials_phase())
    }

    /// The sealed shares to post, once every trustee has dealt.
    pub fn sealed_shares(&self, ceremony: &Ceremony, index: usize) -> Result<Vec<SealedShare>, String> {
        let participant = self.exchanging(ceremony, index)?;
        let secret = crypto_box::SecretKey::from(self.box_secret);
        (0..ceremony.trustees.len())
            .filter(|&j| j != index)
            .map(|j| {
                let (_, box_key) = ceremony.commitment_of(j).ok_or(format!("trustee {j} has not committed"))?;
                let share = participant.secret_share_for_participant(j);
                let mut plain = zeroize::Zeroizing::new([0u8; 32]);
                Ristretto::serialize_scalar(share.expose_scalar(), &mut plain[..]);
                let nonce = share_nonce(&ceremony.referendum, index, j);
                let salsa = SalsaBox::new(&crypto_box::PublicKey::from(*box_key), &secret);
                let sealed = salsa.encrypt(&nonce.into(), &plain[..]).map_err(|e| e.to_string())?;
                Ok(SealedShare { nonce, sealed: sealed.try_into().map_err(|_| "a sealed share is 48 bytes")? })
            })
            .collect()
    }

    /// The trustees whose shares to this trustee do not lie on their
    /// polynomials (each is grounds for a complaint).
    pub fn bad_senders(&self, ceremony: &Ceremony, index: usize) -> Vec<usize> {
        (0..ceremony.trustees.len())
            .filter(|&j| j != index && ceremony.sent[j].is_some())
            .filter(|&j| !ceremony.share_is_good(j, index, &self.box_secret))
            .collect()
    }

    /// This trustee's key share, from every share sent to it.
    pub fn active(&self, ceremony: &Ceremony, index: usize) -> Result<ActiveParticipant<Ristretto>, String> {
        let mut participant = self.exchanging(ceremony, index)?;
        for j in (0..ceremony.trustees.len()).filter(|&j| j != index) {
            if ceremony.sent_by(j).is_none() {
                return Err(format!("trustee {j} has not sent its shares"));
            }
            let share = ceremony
                .open_share_to(j, index, &self.box_secret)
                .ok_or(format!("the share from trustee {j} does not open"))?;
            participant.insert_secret_share(j, share).map_err(|e| format!("the share from trustee {j}: {e}"))?;
        }
        participant.complete().map_err(|e| e.to_string())
    }

    /// The decryption share of the closed tally.
    pub fn decryption_share<R: RngCore + CryptoRng>(
        &self,
        ceremony: &Ceremony,
        index: usize,
        ledger_id: &Hash,
        rng: &mut R,
    ) -> Result<DecryptionShare, String> {
        let active = self.active(ceremony, index)?;
        let context = ShareContext { ledger_id, referendum: &ceremony.referendum, trustee: index };
        Ok(DecryptionShare::new(&context, active.secret_share(), &ceremony.tally, rng))
    }
}
