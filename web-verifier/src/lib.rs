//! The browser's verifier: the rule core compiled to WebAssembly.
//!
//! Two kinds of workers use it. Signature workers call
//! [`check_signatures`] on batches of export lines, in parallel on every
//! core. One coordinator feeds the same lines and the workers' verdicts to a
//! [`Verifier`], which runs the rule core strictly in order, exactly as the
//! node and the command line do. A verifier with no workers at hand calls
//! [`Verifier::feed`], which checks signatures itself.
//!
//! The logic lives in plain Rust ([`Session`]) so it is tested natively;
//! the `#[wasm_bindgen]` layer only converts errors into JavaScript errors
//! carrying a stable `code`.

use std::collections::HashMap;

use dauys_core::crypto::SignatureError;
use dauys_core::event::{Body, EventKind};
use dauys_core::verify::{prepare_line_with, signature_verdict, LineSplitter, Prepared, Reason};
use dauys_core::{ChainVerifier, Failure, Hash, PublicKey, Summary};
use wasm_bindgen::prelude::*;

/// The complete lines of `batch` (each ended by `\n`; a batch always holds
/// whole lines). A blank line is a line, and malformed like any other.
fn lines(batch: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = batch.strip_suffix(b"\n");
    body.into_iter().flat_map(|body| body.split(|&b| b == b'\n'))
}

/// Signature verdicts, one byte per line of `batch` (0 accepted; see
/// `SignatureError::to_byte`). Pure: safe to run in any worker.
pub fn signature_verdicts(batch: &[u8]) -> Vec<u8> {
    lines(batch).map(signature_verdict).collect()
}

/// One act found by "find my act".
#[derive(Debug, Clone, serde::Serialize)]
pub struct Act {
    /// Position.
    pub position: u64,
    /// Entry hash.
    pub hash: String,
    /// Event kind.
    pub kind: &'static str,
    /// Author key.
    pub author: String,
    /// The petition or referendum it concerns, if any.
    pub target: Option<String>,
    /// A sentence about whether and how it counts.
    pub counts: bool,
}

/// What is remembered per entry for "find my act": its hash (32 bytes),
/// author (4, an index into the distinct authors), kind (1) and target (4,
/// an index into the distinct petitions and referendums): 41 bytes per
/// entry, beside one key per author and one id per petition or referendum.
#[derive(Default)]
struct ActIndex {
    hashes: Vec<Hash>,
    authors: Vec<u32>,
    author_ids: HashMap<PublicKey, u32>,
    author_keys: Vec<PublicKey>,
    kinds: Vec<u8>,
    targets: Vec<u32>,
    target_ids: HashMap<Hash, u32>,
    target_keys: Vec<Hash>,
}

/// No target.
const NO_TARGET: u32 = u32::MAX;

/// A verification in progress.
#[derive(Default)]
pub struct Session {
    chain: ChainVerifier,
    splitter: LineSplitter,
    failure: Option<Failure>,
    index: ActIndex,
    bytes: u64,
}

impl Session {
    fn record(&mut self, prepared: &Prepared) {
        let Ok(entry) = prepared else { return };
        let Ok(payload) = &entry.payload else { return };
        let next = u32::try_from(self.index.author_keys.len()).unwrap_or(u32::MAX);
        let author = *self.index.author_ids.entry(entry.author).or_insert(next);
        if author == next {
            self.index.author_keys.push(entry.author);
        }
        let target = match &payload.body {
            Body::PetitionSupported { petition }
            | Body::PaperSupportsRecorded { petition, .. }
            | Body::PetitionWithdrawn { petition, .. }
            | Body::CouncilRuled { petition, .. }
            | Body::ReferendumCalled { petition, .. } => Some(*petition),
            Body::BallotCast { referendum, .. } | Body::ResultDeclared { referendum, .. } => Some(*referendum),
            _ => None,
        };
        let target = match target {
            Some(id) => {
                let next = u32::try_from(self.index.target_keys.len()).unwrap_or(NO_TARGET);
                let slot = *self.index.target_ids.entry(id).or_insert(next);
                if slot == next {
                    self.index.target_keys.push(id);
                }
                slot
            }
            None => NO_TARGET,
        };
        self.index.hashes.push(entry.hash);
        self.index.authors.push(author);
        self.index.kinds.push(payload.body.kind() as u8);
        self.index.targets.push(target);
    }

    fn check(&mut self, prepared: Prepared) -> Result<(), Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        match self.chain.check(&prepared) {
            Ok(()) => {
                self.record(&prepared);
                Ok(())
            }
            Err(failure) => {
                self.failure = Some(failure.clone());
                Err(failure)
            }
        }
    }

    /// Feeds raw export bytes (any chunking), checking signatures inline.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Failure> {
        self.bytes += chunk.len() as u64;
        let mut complete = Vec::new();
        let split = self.splitter.feed(chunk, |line| {
            complete.push(line.to_vec());
            true
        });
        for line in complete {
            self.check(prepare_line_with(&line, None))?;
        }
        if split.is_err() {
            return self.fail_long_line();
        }
        Ok(())
    }

    fn fail_long_line(&mut self) -> Result<(), Failure> {
        let detail = format!("line longer than {} bytes", dauys_core::limits::LINE_BYTES_MAX);
        let failure = Failure { position: self.chain.size(), reason: Reason::MalformedLine { detail } };
        self.failure = Some(failure.clone());
        Err(failure)
    }

    /// Checks a batch of whole lines with verdicts computed by
    /// [`signature_verdicts`] (one byte per line, same order).
    pub fn check_batch(&mut self, batch: &[u8], verdicts: &[u8]) -> Result<(), Failure> {
        self.bytes += batch.len() as u64;
        for (i, line) in lines(batch).enumerate() {
            let verdict = verdicts.get(i).map(|&b| SignatureError::from_byte(b));
            // A missing verdict means the caller lost one: check it here.
            self.check(prepare_line_with(line, verdict))?;
        }
        Ok(())
    }

    /// Declares that `partial` bytes without a final `\n` were left over
    /// (or grew past the line limit while reading): `truncated_line`, or
    /// `malformed_line` if they are longer than a line may be.
    pub fn truncated(&mut self, partial: u64) -> Failure {
        let reason = if partial > dauys_core::limits::LINE_BYTES_MAX as u64 {
            Reason::MalformedLine { detail: format!("line longer than {} bytes", dauys_core::limits::LINE_BYTES_MAX) }
        } else {
            Reason::TruncatedLine
        };
        let failure = Failure { position: self.chain.size(), reason };
        self.failure = Some(failure.clone());
        failure
    }

    /// The verdict: the recomputed state, or the first failure.
    pub fn finish(&mut self) -> Result<Summary, Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        if self.splitter.has_partial() {
            return Err(self.truncated(1));
        }
        // The summary is read from the state in place: cloning it (hundreds
        // of megabytes for a large ledger) just to keep `find` working is waste.
        match self.chain.ledger() {
            Some(ledger) => Ok(Summary::new(&ledger.view(), self.chain.size(), self.chain.head())),
            None => Err(Failure { position: 0, reason: Reason::EmptyLog }),
        }
    }

    /// Entries verified so far.
    pub fn entries(&self) -> u64 {
        self.chain.size()
    }

    /// Acts by a public key or with an entry hash (hex), at most 200.
    pub fn find(&self, query: &str) -> Vec<Act> {
        let Ok(needle) = dauys_core::hexser::parse::<32>(query.trim()) else { return Vec::new() };
        let by_author = self.index.author_ids.get(&needle).copied();
        let mut out = Vec::new();
        for (position, hash) in self.index.hashes.iter().enumerate() {
            let author = self.index.authors[position];
            if hash == &needle || Some(author) == by_author {
                out.push(Act {
                    position: position as u64,
                    hash: hex::encode(hash),
                    kind: EventKind::from_tag(self.index.kinds[position]).map_or("unknown", EventKind::name),
                    author: hex::encode(self.index.author_keys[author as usize]),
                    target: self.index.target_keys.get(self.index.targets[position] as usize).map(hex::encode),
                    counts: true,
                });
                if out.len() >= 200 {
                    break;
                }
            }
        }
        out
    }
}

fn js_error(failure: &Failure) -> JsValue {
    let error = js_sys_error(&failure.to_string());
    let _ = set(&error, "code", &JsValue::from_str(failure.reason.code()));
    let _ = set(&error, "position", &JsValue::from_f64(failure.position as f64));
    let _ = set(&error, "failure", &JsValue::from_str(&serde_json::to_string(failure).unwrap_or_default()));
    error
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Error)]
    fn js_sys_error(message: &str) -> JsValue;
    #[wasm_bindgen(js_namespace = Reflect, js_name = set, catch)]
    fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<bool, JsValue>;
}

/// Signature verdicts for a batch of whole export lines: one byte per line.
#[wasm_bindgen(js_name = checkSignatures)]
pub fn check_signatures(batch: &[u8]) -> Vec<u8> {
    signature_verdicts(batch)
}

/// Checks a signed head (the JSON of `GET /v1/head`) against the log key
/// published in genesis (hex): `true` only if the signature verifies under
/// the strict rule.
#[wasm_bindgen(js_name = checkHead)]
pub fn check_head(head_json: &str, log_key_hex: &str) -> bool {
    head_signature_valid(head_json, log_key_hex)
}

/// The logic of [`check_head`], testable natively.
pub fn head_signature_valid(head_json: &str, log_key_hex: &str) -> bool {
    let (Ok(head), Ok(key)) =
        (serde_json::from_str::<dauys_core::SignedHead>(head_json), dauys_core::hexser::parse::<32>(log_key_hex))
    else {
        return false;
    };
    head.verify(&key).is_ok()
}

/// The streaming verifier for JavaScript. Errors are `Error`s with `code`,
/// `position` and `failure` (JSON) properties.
#[wasm_bindgen]
#[derive(Default)]
pub struct Verifier {
    session: Session,
}

#[wasm_bindgen]
impl Verifier {
    /// A verifier expecting the genesis line.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Verifier {
        Verifier::default()
    }
    /// Feeds export bytes, checking signatures in this thread.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.session.feed(chunk).map_err(|f| js_error(&f))
    }
    /// Checks whole lines with verdicts from `checkSignatures`.
    #[wasm_bindgen(js_name = checkBatch)]
    pub fn check_batch(&mut self, batch: &[u8], verdicts: &[u8]) -> Result<(), JsValue> {
        self.session.check_batch(batch, verdicts).map_err(|f| js_error(&f))
    }
    /// Reports `partial` bytes left without a final newline.
    pub fn truncated(&mut self, partial: f64) -> JsValue {
        // A byte count from JavaScript: whole and non-negative by construction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let partial = partial as u64;
        js_error(&self.session.truncated(partial))
    }
    /// Entries verified so far.
    pub fn entries(&self) -> f64 {
        self.session.entries() as f64
    }
    /// Bytes consumed so far.
    pub fn bytes(&self) -> f64 {
        self.session.bytes as f64
    }
    /// The recomputed state as JSON, or the first failure.
    pub fn finish(&mut self) -> Result<String, JsValue> {
        let summary = self.session.finish().map_err(|f| js_error(&f))?;
        serde_json::to_string(&summary).map_err(|e| JsValue::from_str(&e.to_string()))
    }
    /// Acts by a key or with an entry hash, as JSON.
    pub fn find(&self, query: &str) -> String {
        serde_json::to_string(&self.session.find(query)).unwrap_or_else(|_| "[]".into())
    }
}
