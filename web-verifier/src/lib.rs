//! The browser's verifier: the rule core compiled to WebAssembly.
//!
//! Two kinds of workers use it. Signature workers call
//! [`check_signatures`] on batches of export lines, in parallel on every
//! core. One coordinator feeds the same lines and the workers' verdicts to a
//! [`Verifier`], which runs the rule core strictly in order, exactly as the
//! node and the command line do. A verifier with no workers at hand calls
//! [`Verifier::feed`], which checks signatures itself.
//!
//! For a format 2 ledger the page also checks the transparency log: the
//! checkpoint against the tree over the entries replayed
//! ([`Session::check_checkpoint`]) and against the checkpoint this browser
//! saw before, and a receipt alone ([`receipt_report`]) with a consistency
//! proof to the latest checkpoint built from a few tiles the page fetches
//! ([`consistency_step`]), without the log.
//!
//! The logic lives in plain Rust ([`Session`]) so it is tested natively;
//! the `#[wasm_bindgen]` layer only converts errors into JavaScript errors
//! carrying a stable `code`.

pub mod portal;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::prelude::{Engine as _, BASE64_STANDARD as BASE64};
use dauys_core::crypto::SignatureError;
use dauys_core::event::{Body, EventKind};
use dauys_core::tlog::{self, Checkpoint, Frontier, Policy, Receipt, TileSet, VerifierKey};
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

/// The election keys secret ballots are checked against off the
/// coordinator: the ledger id and, per referendum (hex id), its key (hex)
/// and option count. The coordinator publishes them as it learns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BallotKeys {
    /// The ledger id, hex.
    pub ledger_id: String,
    /// Referendum id → (election key, options).
    pub keys: BTreeMap<String, (String, usize)>,
}

impl BallotKeys {
    /// The keys by referendum id, decoded; entries that are not 64 hex
    /// digits are left out.
    pub fn parsed(&self) -> HashMap<Hash, (dauys_core::secret::ElectionKey, usize)> {
        self.keys
            .iter()
            .filter_map(|(id, (key, options))| {
                let id = dauys_core::hexser::parse::<32>(id).ok()?;
                let key = dauys_core::hexser::parse::<32>(key).ok()?;
                Some((id, (dauys_core::secret::ElectionKey(key), *options)))
            })
            .collect()
    }
}

/// A secret ballot's proofs were not checked here (not a secret ballot, or
/// no election key known yet): the coordinator checks them itself.
pub const BALLOT_UNCHECKED: u8 = 0;
/// A secret ballot whose proofs verify.
pub const BALLOT_VALID: u8 = 1;
/// A secret ballot whose proofs fail (the coordinator finds out why).
pub const BALLOT_INVALID: u8 = 2;

fn ballot_verdict(line: &[u8], ledger_id: &Hash, keys: &HashMap<Hash, (dauys_core::secret::ElectionKey, usize)>) -> u8 {
    let Ok((_, _, bytes)) = dauys_core::verify::parse_line(line) else { return BALLOT_UNCHECKED };
    let Ok(entry) = dauys_core::Entry::decode(&bytes) else { return BALLOT_UNCHECKED };
    let Ok(payload) = dauys_core::Payload::decode(entry.payload) else { return BALLOT_UNCHECKED };
    match dauys_core::secret::check_payload(ledger_id, &entry.author, &payload, |r| keys.get(r).copied()) {
        None => BALLOT_UNCHECKED,
        Some(Ok(_)) => BALLOT_VALID,
        Some(Err(_)) => BALLOT_INVALID,
    }
}

/// Secret ballots' verdicts, one byte per line of `batch`
/// ([`BALLOT_UNCHECKED`], [`BALLOT_VALID`], [`BALLOT_INVALID`]), against the
/// keys in `keys_json` ([`BallotKeys`]). Pure: safe to run in any worker.
pub fn ballot_verdicts(batch: &[u8], keys_json: &str) -> Vec<u8> {
    let parsed: BallotKeys = serde_json::from_str(keys_json).unwrap_or_default();
    let Ok(ledger_id) = dauys_core::hexser::parse::<32>(&parsed.ledger_id) else {
        return vec![BALLOT_UNCHECKED; lines(batch).count()];
    };
    let keys = parsed.parsed();
    lines(batch).map(|line| ballot_verdict(line, &ledger_id, &keys)).collect()
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
    /// Whether it counts: false for a ballot replaced by a later ballot of
    /// the same voter in the same referendum (format 3's re-voting).
    pub counts: bool,
}

/// What the replayed ledger says of one voter's key.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Citizen {
    /// Enrolled now.
    pub enrolled: bool,
    /// The district enrolled in ("" for none).
    pub district: String,
    /// Position of the enrolment: referendums called after it are the
    /// voter's to vote in.
    pub enrolled_at: Option<u64>,
    /// Format 2: the nonce of the key's last accepted act (decimal; a new
    /// act's nonce must exceed it).
    pub last_nonce: Option<String>,
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

/// The petition or referendum an act concerns, if any.
fn target_of(body: &Body) -> Option<Hash> {
    match body {
        Body::PetitionSupported { petition }
        | Body::PaperSupportsRecorded { petition, .. }
        | Body::PetitionWithdrawn { petition, .. }
        | Body::CouncilRuled { petition, .. }
        | Body::ReferendumCalled { petition, .. } => Some(*petition),
        Body::BallotCast { referendum, .. } | Body::ResultDeclared { referendum, .. } => Some(*referendum),
        _ => None,
    }
}

/// A verification in progress.
#[derive(Default)]
pub struct Session {
    chain: ChainVerifier,
    splitter: LineSplitter,
    failure: Option<Failure>,
    index: ActIndex,
    bytes: u64,
    /// The RFC 6962 tree over the entries replayed (a frontier: 32 bytes
    /// per level), and its roots at the sizes a check needs.
    frontier: Frontier,
    wanted: BTreeSet<u64>,
    roots: HashMap<u64, Hash>,
    /// Petition → UTC day (days since the epoch) → supports
    /// recorded that day, online and on paper.
    supports_by_day: HashMap<Hash, BTreeMap<u64, u64>>,
    /// The petition or referendum the first bad entry concerns.
    failed_target: Option<Hash>,
}

/// What the page learns of a checkpoint checked against the log it
/// replayed: each check, and what to remember as "seen".
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckpointReport {
    /// Every check passed.
    pub ok: bool,
    /// The checkpoint's size.
    pub size: u64,
    /// Its root, base64.
    pub root: String,
    /// The log's verifier key (from the genesis replayed).
    pub log_key: String,
    /// Witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
    /// The first problem, if any (a fork is reported here).
    pub problem: Option<String>,
    /// The size of the checkpoint seen before in this browser, if any.
    pub seen_before: Option<u64>,
}

/// A checkpoint remembered by the page (per log verifier key).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    /// Its size.
    pub size: u64,
    /// Its root, base64.
    pub root: String,
}

fn seen_checkpoint(log: &VerifierKey, seen: &Seen) -> Option<Checkpoint> {
    Checkpoint::parse_text(&format!("{}\n{}\n{}\n", log.name, seen.size, seen.root)).ok()
}

/// The trust policy from the page: the log key, witness verifier keys (one
/// per line, blank lines ignored) and a quorum.
fn policy(log: VerifierKey, witnesses: &str, quorum: usize) -> Result<Policy, String> {
    let witnesses = witnesses
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| VerifierKey::parse(l).map_err(|e| format!("witness key: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if quorum > witnesses.len() {
        return Err(format!("a quorum of {quorum} needs {quorum} witness keys"));
    }
    Ok(Policy { log, witnesses, quorum })
}

impl Session {
    /// Asks for the root of the tree of the first `size` entries, to check
    /// a checkpoint of that size once the replay passes it.
    pub fn want_root(&mut self, size: u64) {
        self.wanted.insert(size);
    }

    /// The root of the tree of the first `size` entries, if known.
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        match size {
            0 => Some(Frontier::new().root()),
            _ if size == self.frontier.size() => Some(self.frontier.root()),
            _ => self.roots.get(&size).copied(),
        }
    }

    /// Checks a checkpoint note against the log replayed (call after
    /// [`Session::finish`] succeeded): signed by the genesis log key,
    /// cosigned by `quorum` of `witnesses`, its root the tree over its first
    /// entries, and extending the checkpoint this browser saw before
    /// (`seen`: a JSON object from verifier keys to `{size, root}`).
    pub fn check_checkpoint(&self, note: &str, witnesses: &str, quorum: usize, seen: &str) -> CheckpointReport {
        let mut report = CheckpointReport::default();
        let Some(ledger) = self.chain.ledger() else {
            report.problem = Some("no log was verified".into());
            return report;
        };
        let genesis = ledger.genesis();
        let Some(origin) = &genesis.origin else {
            report.problem = Some("a format 1 ledger has no checkpoints".into());
            return report;
        };
        let log =
            VerifierKey { name: origin.clone(), signature_type: tlog::SIGNATURE_ED25519, public: genesis.log_key };
        report.log_key = log.encode();
        let verified =
            match policy(log.clone(), witnesses, quorum).and_then(|p| p.verify(note).map_err(|e| e.to_string())) {
                Ok(verified) => verified,
                Err(problem) => {
                    report.problem = Some(problem);
                    return report;
                }
            };
        let checkpoint = &verified.checkpoint;
        report.size = checkpoint.size;
        report.root = BASE64.encode(checkpoint.root);
        report.cosigned_by.clone_from(&verified.cosigned_by);
        if checkpoint.size > self.chain.size() {
            report.problem = Some(format!(
                "the checkpoint names {} entries but the log served only {}",
                checkpoint.size,
                self.chain.size()
            ));
            return report;
        }
        if self.root_at(checkpoint.size) != Some(checkpoint.root) {
            report.problem =
                Some(format!("the checkpoint's root is not the tree over the first {} entries", checkpoint.size));
            return report;
        }
        let seen: BTreeMap<String, Seen> = serde_json::from_str(seen).unwrap_or_default();
        if let Some(before) = seen.get(&report.log_key).and_then(|s| seen_checkpoint(&log, s)) {
            report.seen_before = Some(before.size);
            let no_tiles =
                || Err(tlog::TlogError::Malformed { what: "comparison", problem: "that size was not replayed".into() });
            if let Err(fork) = tlog::check_extends(&before, checkpoint, self.root_at(before.size), no_tiles) {
                report.problem = Some(fork.to_string());
                return report;
            }
        }
        report.ok = true;
        report
    }

    fn record(&mut self, prepared: &Prepared) {
        let Ok(entry) = prepared else { return };
        let Ok(payload) = &entry.payload else { return };
        let next = u32::try_from(self.index.author_keys.len()).unwrap_or(u32::MAX);
        let author = *self.index.author_ids.entry(entry.author).or_insert(next);
        if author == next {
            self.index.author_keys.push(entry.author);
        }
        let target = match target_of(&payload.body) {
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
        // Supports over time: per petition, per UTC day.
        let supports = match &payload.body {
            Body::PetitionSupported { petition } => Some((petition, 1)),
            Body::PaperSupportsRecorded { petition, count, .. } => Some((petition, *count)),
            _ => None,
        };
        if let Some((petition, count)) = supports {
            let day = entry.time_ms / 86_400_000;
            *self.supports_by_day.entry(*petition).or_default().entry(day).or_default() += count;
        }
        self.index.hashes.push(entry.hash);
        self.index.authors.push(author);
        self.index.kinds.push(payload.body.kind() as u8);
        self.index.targets.push(target);
    }

    /// The election keys known so far ([`BallotKeys`] as JSON).
    pub fn ballot_keys(&self) -> String {
        let mut keys = BallotKeys::default();
        if let Some(ledger) = self.chain.ledger() {
            keys.ledger_id = hex::encode(ledger.ledger_id());
            let view = ledger.view();
            for r in view.referendums() {
                if let Some((key, options)) = view.ballot_key(&r.id) {
                    keys.keys.insert(hex::encode(r.id), (hex::encode(key.0), options));
                }
            }
        }
        serde_json::to_string(&keys).unwrap_or_default()
    }

    fn check(&mut self, prepared: Prepared) -> Result<(), Failure> {
        self.check_with(prepared, false)
    }

    /// Checks one entry; `ballot_checked` says a worker verified its secret
    /// ballot's proofs against the key the rules will use.
    fn check_with(&mut self, prepared: Prepared, ballot_checked: bool) -> Result<(), Failure> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        let checked = ballot_checked
            .then(|| {
                let entry = prepared.as_ref().ok()?;
                match &entry.payload.as_ref().ok()?.body {
                    Body::BallotCast { ballot: dauys_core::event::Ballot::Secret(ballot), .. } => {
                        ballot.ciphertexts_unchecked().ok()
                    }
                    _ => None,
                }
            })
            .flatten();
        match self.chain.check_with(&prepared, checked.as_deref().map(dauys_core::secret::PreChecked::Valid)) {
            Ok(()) => {
                self.record(&prepared);
                if let Ok(entry) = &prepared {
                    self.frontier.push(&entry.bytes);
                    let size = self.frontier.size();
                    if self.wanted.contains(&size) {
                        self.roots.insert(size, self.frontier.root());
                    }
                }
                Ok(())
            }
            Err(failure) => {
                // What the first bad entry concerns, when it decodes: the
                // page names that petition or referendum.
                self.failed_target = prepared
                    .as_ref()
                    .ok()
                    .and_then(|entry| entry.payload.as_ref().ok())
                    .and_then(|payload| target_of(&payload.body));
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
    /// [`signature_verdicts`] and [`ballot_verdicts`] (one byte per line,
    /// same order; `ballots` may be empty).
    pub fn check_batch(&mut self, batch: &[u8], verdicts: &[u8], ballots: &[u8]) -> Result<(), Failure> {
        self.bytes += batch.len() as u64;
        for (i, line) in lines(batch).enumerate() {
            let verdict = verdicts.get(i).map(|&b| SignatureError::from_byte(b));
            // A missing verdict means the caller lost one: check it here.
            let ballot_checked = ballots.get(i) == Some(&BALLOT_VALID);
            self.check_with(prepare_line_with(line, verdict), ballot_checked)?;
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

    /// The state recomputed so far, its statuses judged at `reader_ms` (a
    /// reader's clock; see [`Summary::at`]): after [`Session::finish`], the
    /// verified state; during the replay, what is known so far and not yet
    /// verified as a whole.
    pub fn summary_at(&self, reader_ms: u64) -> Option<Summary> {
        let ledger = self.chain.ledger()?;
        Some(Summary::at(&ledger.view(), self.chain.size(), self.chain.head(), reader_ms))
    }

    /// A petition's supports per UTC day (days since the epoch → count).
    pub fn supports_by_day(&self, petition: &str) -> BTreeMap<u64, u64> {
        let Ok(petition) = dauys_core::hexser::parse::<32>(petition.trim()) else { return BTreeMap::new() };
        self.supports_by_day.get(&petition).cloned().unwrap_or_default()
    }

    /// The petition or referendum (hex id) the first bad entry concerns.
    pub fn failed_target(&self) -> Option<String> {
        self.failed_target.map(hex::encode)
    }

    /// Whether the published screen would refuse a petition with these
    /// texts: the subject and term it matched.
    pub fn screen(&self, title: &str, text: &str) -> Option<(String, String)> {
        self.chain.ledger()?.screen(&[title, text])
    }

    /// What the replayed ledger says of one voter's key (hex).
    pub fn citizen(&self, key: &str) -> Citizen {
        let mut citizen = Citizen::default();
        let (Ok(key), Some(ledger)) = (dauys_core::hexser::parse::<32>(key.trim()), self.chain.ledger()) else {
            return citizen;
        };
        if let Some((district, at)) = ledger.enrolment(&key) {
            citizen.enrolled = true;
            citizen.district = district.to_owned();
            citizen.enrolled_at = Some(at);
        }
        citizen.last_nonce = ledger.last_nonce(&key).map(|n| n.to_string());
        citizen
    }

    /// Whether `query` (64 hex digits) is the secret seed of a key that
    /// acted in or was enrolled in this ledger: "find my act" refuses it
    /// rather than searching with it.
    pub fn is_known_secret(&self, query: &str) -> bool {
        let Ok(seed) = dauys_core::hexser::parse::<32>(query.trim()) else { return false };
        let public = dauys_core::Keypair::from_seed(&seed).public();
        self.index.author_ids.contains_key(&public)
            || self.chain.ledger().is_some_and(|ledger| ledger.enrolment(&public).is_some())
    }

    /// Entries verified so far.
    pub fn entries(&self) -> u64 {
        self.chain.size()
    }

    /// Whether the act at `position` is a ballot that a later ballot of the
    /// same voter in the same referendum replaced (format 3: only the last
    /// one counts; formats 1 and 2 refuse a second ballot).
    fn superseded(&self, position: usize) -> bool {
        let ballot = EventKind::BallotCast as u8;
        if self.index.kinds[position] != ballot {
            return false;
        }
        let (author, target) = (self.index.authors[position], self.index.targets[position]);
        (position + 1..self.index.kinds.len()).any(|later| {
            self.index.kinds[later] == ballot
                && self.index.authors[later] == author
                && self.index.targets[later] == target
        })
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
                    counts: !self.superseded(position),
                });
                if out.len() >= 200 {
                    break;
                }
            }
        }
        out
    }
}

/// What the page shows of a receipt checked offline.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReceiptReport {
    /// The receipt verified.
    pub ok: bool,
    /// Why not.
    pub problem: Option<String>,
    /// The entry's position.
    pub index: u64,
    /// The checkpoint's size and origin.
    pub size: u64,
    /// The log's origin.
    pub origin: String,
    /// Witnesses whose cosignatures verified.
    pub cosigned_by: Vec<String>,
    /// The act: its kind, author (hex), node time and entry hash (hex).
    pub kind: String,
    /// Author key, hex.
    pub author: String,
    /// Node time of the entry.
    pub time_ms: u64,
    /// SHA-256 of the entry, hex.
    pub entry_hash: String,
    /// The entry's payload, base64: a client compares it with what it
    /// submitted.
    pub payload: String,
}

fn log_key(text: &str) -> Result<VerifierKey, String> {
    let key = VerifierKey::parse(text.trim()).map_err(|e| format!("log key: {e}"))?;
    if key.signature_type != tlog::SIGNATURE_ED25519 {
        return Err("the log key must be the log's Ed25519 verifier key (type 01)".into());
    }
    Ok(key)
}

/// Checks a receipt (C2SP tlog-proof) alone: its checkpoint passes the
/// policy (log key, witnesses one per line, quorum) and the entry it
/// carries is included at its index.
pub fn receipt_report(text: &str, log: &str, witnesses: &str, quorum: usize) -> ReceiptReport {
    let mut report = ReceiptReport::default();
    let result = (|| -> Result<(), String> {
        let receipt = Receipt::parse(text).map_err(|e| e.to_string())?;
        report.index = receipt.index;
        report.entry_hash = hex::encode(dauys_core::sha256(&receipt.entry));
        if let Ok(entry) = dauys_core::Entry::decode(&receipt.entry) {
            report.author = hex::encode(entry.author);
            report.time_ms = entry.time_ms;
            report.payload = BASE64.encode(entry.payload);
            report.kind =
                dauys_core::Payload::decode(entry.payload).map(|p| p.body.kind().name()).unwrap_or("?").into();
        }
        let policy = policy(log_key(log)?, witnesses, quorum)?;
        let verified = receipt.verify(&policy).map_err(|e| e.to_string())?;
        report.size = verified.checkpoint.size;
        report.origin = verified.checkpoint.origin;
        report.cosigned_by = verified.cosigned_by;
        Ok(())
    })();
    match result {
        Ok(()) => report.ok = true,
        Err(problem) => report.problem = Some(problem),
    }
    report
}

/// One round of "is my act still there": tiles the page must fetch first,
/// or the verdict.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Consistency {
    /// The latest checkpoint extends the receipt's (and the one this
    /// browser saw before).
    pub ok: bool,
    /// Tile paths to fetch (under the log's prefix) before asking again.
    pub missing: Vec<String>,
    /// The latest checkpoint's size.
    pub latest_size: u64,
    /// Whether the latest checkpoint contains the act. A receipt from a
    /// `201` may be newer than the checkpoint served (which waits for
    /// witnesses): then `ok` says only that the two are one history.
    pub covered: bool,
    /// Witnesses that cosigned it.
    pub cosigned_by: Vec<String>,
    /// The size of the checkpoint seen before in this browser, if any.
    pub seen_before: Option<u64>,
    /// Why not.
    pub problem: Option<String>,
    /// The failure is proof of two histories (a consistency proof that
    /// checked and failed, or a checkpoint seen before that the latest one
    /// rewrites or shrinks), not a check that could not be made.
    pub fork: bool,
}

/// Checks that the log's latest checkpoint (`latest`, a signed note that
/// must pass the policy) extends the receipt's checkpoint (signed by the
/// log key) and the checkpoint this browser saw before (`seen`, as for
/// [`Session::check_checkpoint`]), with consistency proofs built from
/// `tiles`. While tiles are missing, returns their paths.
pub fn consistency_step(
    receipt: &str,
    latest: &str,
    log: &str,
    witnesses: &str,
    quorum: usize,
    seen: &str,
    tiles: &TileSet,
) -> Consistency {
    let mut out = Consistency::default();
    let result = (|| -> Result<(), String> {
        let log = log_key(log)?;
        let receipt = Receipt::parse(receipt).map_err(|e| e.to_string())?;
        let log_only = Policy { log: log.clone(), witnesses: Vec::new(), quorum: 0 };
        let old = receipt.verify(&log_only).map_err(|e| format!("the receipt: {e}"))?.checkpoint;
        let verified = policy(log.clone(), witnesses, quorum)?
            .verify(latest)
            .map_err(|e| format!("the latest checkpoint: {e}"))?;
        out.latest_size = verified.checkpoint.size;
        out.covered = verified.checkpoint.size > receipt.index;
        out.cosigned_by.clone_from(&verified.cosigned_by);
        let new = &verified.checkpoint;
        let seen: BTreeMap<String, Seen> = serde_json::from_str(seen).unwrap_or_default();
        let before = seen.get(&log.encode()).and_then(|s| seen_checkpoint(&log, s));
        out.seen_before = before.as_ref().map(|b| b.size);
        // Both proofs read the same tiles: ask for all that are missing at
        // once. A receipt from a 201 answer may be newer than the served
        // checkpoint (which waits for witnesses): then the served one must
        // be its prefix.
        let receipt_check = if old.size <= new.size {
            tlog::check_consistency_from_tiles(tiles, &old, new)
        } else {
            tlog::check_consistency_from_tiles(tiles, new, &old)
        };
        let seen_check = before.as_ref().map(|before| {
            tlog::check_extends(before, new, None, || tlog::check_consistency_from_tiles(tiles, before, new))
        });
        out.missing = tiles.take_missing();
        if !out.missing.is_empty() {
            return Ok(());
        }
        // Only a proof that checked and failed is a fork; tiles that do
        // not match the checkpoint (a broken mirror) leave it unchecked.
        match receipt_check {
            Ok(()) => {}
            Err(e @ tlog::TlogError::Inconsistent { .. }) => {
                out.fork = true;
                return Err(format!("the latest checkpoint and the receipt's are not one history: {e}"));
            }
            Err(e) => return Err(format!("could not check: {e}")),
        }
        if let Some(Err(fork)) = seen_check {
            out.fork = fork.is_fork();
            return Err(fork.to_string());
        }
        Ok(())
    })();
    match result {
        Ok(()) => out.ok = out.missing.is_empty(),
        Err(problem) => out.problem = Some(problem),
    }
    out
}

/// The log's verifier key from the genesis entry, the first entry of the
/// first entry bundle (for a receipt check without a pinned key; the page
/// shows the key so the citizen can compare it with the published one).
pub fn genesis_log_key(bundle: &[u8]) -> Result<String, String> {
    let (length, rest) = bundle.split_first_chunk::<2>().ok_or("an empty entry bundle")?;
    let entry = rest.get(..usize::from(u16::from_be_bytes(*length))).ok_or("a short entry bundle")?;
    let entry = dauys_core::Entry::decode(entry).map_err(|e| e.to_string())?;
    let payload = dauys_core::Payload::decode(entry.payload).map_err(|e| e.to_string())?;
    let Body::LedgerOpened(genesis) = payload.body else { return Err("entry 0 is not a genesis".into()) };
    let origin = genesis.origin.ok_or("a format 1 ledger has no checkpoints")?;
    Ok(VerifierKey { name: origin, signature_type: tlog::SIGNATURE_ED25519, public: genesis.log_key }.encode())
}

/// An entry bundle (C2SP tlog-tiles) of `count` entries starting at
/// `first`, as export lines for the verifier: how the page reads a static
/// mirror. A malformed bundle is an error (the verdict then says the log is
/// unreadable, not which entry is wrong).
pub fn bundle_lines(bundle: &[u8], first: u64, count: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bundle.len() * 4 / 3 + 128 * usize::try_from(count).unwrap_or(0));
    let mut rest = bundle;
    let mut n = 0u64;
    while let Some((length, tail)) = rest.split_first_chunk::<2>() {
        let length = usize::from(u16::from_be_bytes(*length));
        let entry = tail.get(..length).ok_or("an entry bundle ends inside an entry")?;
        out.extend_from_slice(dauys_core::verify::export_line(first + n, &dauys_core::sha256(entry), entry).as_bytes());
        rest = &tail[length..];
        n += 1;
    }
    if !rest.is_empty() || n != count {
        return Err(format!("the entry bundle holds {n} entries, not {count}"));
    }
    Ok(out)
}

fn tile_set(tiles_json: &str) -> TileSet {
    let map: HashMap<String, String> = serde_json::from_str(tiles_json).unwrap_or_default();
    let mut tiles = TileSet::default();
    for (path, bytes) in map {
        if let Ok(bytes) = BASE64.decode(bytes) {
            tiles.insert(path, bytes);
        }
    }
    tiles
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

/// [`ballot_verdicts`] for JavaScript.
#[wasm_bindgen(js_name = checkBallots)]
pub fn check_ballots(batch: &[u8], keys: &str) -> Vec<u8> {
    ballot_verdicts(batch, keys)
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

/// [`receipt_report`] as JSON.
#[wasm_bindgen(js_name = checkReceipt)]
pub fn check_receipt(text: &str, log: &str, witnesses: &str, quorum: u32) -> String {
    let quorum = usize::try_from(quorum).unwrap_or(usize::MAX);
    serde_json::to_string(&receipt_report(text, log, witnesses, quorum)).unwrap_or_default()
}

/// [`consistency_step`] as JSON; `tiles_json` maps tile paths to base64.
#[wasm_bindgen(js_name = consistencyStep)]
pub fn consistency_step_js(
    receipt: &str,
    latest: &str,
    log: &str,
    witnesses: &str,
    quorum: u32,
    seen: &str,
    tiles_json: &str,
) -> String {
    let quorum = usize::try_from(quorum).unwrap_or(usize::MAX);
    let step = consistency_step(receipt, latest, log, witnesses, quorum, seen, &tile_set(tiles_json));
    serde_json::to_string(&step).unwrap_or_default()
}

/// [`genesis_log_key`]: the verifier key, or an error.
#[wasm_bindgen(js_name = genesisLogKey)]
pub fn genesis_log_key_js(bundle: &[u8]) -> Result<String, JsValue> {
    genesis_log_key(bundle).map_err(|e| js_sys_error(&e))
}

/// [`bundle_lines`]: export lines, or an error.
#[wasm_bindgen(js_name = bundleLines)]
pub fn bundle_lines_js(bundle: &[u8], first: f64, count: f64) -> Result<Vec<u8>, JsValue> {
    // Positions and counts from JavaScript: whole and non-negative by construction.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (first, count) = (first as u64, count as u64);
    bundle_lines(bundle, first, count).map_err(|e| js_sys_error(&e))
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
    /// Checks whole lines with verdicts from `checkSignatures` and
    /// `checkBallots` (possibly empty).
    #[wasm_bindgen(js_name = checkBatch)]
    pub fn check_batch(&mut self, batch: &[u8], verdicts: &[u8], ballots: &[u8]) -> Result<(), JsValue> {
        self.session.check_batch(batch, verdicts, ballots).map_err(|f| js_error(&f))
    }
    /// The election keys known so far, for `checkBallots` in other workers.
    #[wasm_bindgen(js_name = ballotKeys)]
    pub fn ballot_keys(&self) -> String {
        self.session.ballot_keys()
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
    /// Asks for the tree root at `size` (a checkpoint's) during the replay.
    #[wasm_bindgen(js_name = wantRoot)]
    pub fn want_root(&mut self, size: f64) {
        // A size from JavaScript: whole and non-negative by construction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.session.want_root(size as u64);
    }
    /// [`Session::check_checkpoint`] as JSON.
    #[wasm_bindgen(js_name = checkCheckpoint)]
    pub fn check_checkpoint(&self, note: &str, witnesses: &str, quorum: u32, seen: &str) -> String {
        let quorum = usize::try_from(quorum).unwrap_or(usize::MAX);
        serde_json::to_string(&self.session.check_checkpoint(note, witnesses, quorum, seen)).unwrap_or_default()
    }
    /// Acts by a key or with an entry hash, as JSON.
    pub fn find(&self, query: &str) -> String {
        serde_json::to_string(&self.session.find(query)).unwrap_or_else(|_| "[]".into())
    }
    /// [`Session::summary_at`] as JSON (`null` before the genesis).
    #[wasm_bindgen(js_name = summaryAt)]
    pub fn summary_at(&self, reader_ms: f64) -> String {
        // A clock reading from JavaScript: whole and non-negative by construction.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let reader_ms = reader_ms as u64;
        serde_json::to_string(&self.session.summary_at(reader_ms)).unwrap_or_else(|_| "null".into())
    }
    /// [`Session::screen`] as JSON: `{"subject", "term"}` or `null`.
    pub fn screen(&self, title: &str, text: &str) -> String {
        let found = self
            .session
            .screen(title, text)
            .map(|(subject, term)| serde_json::json!({"subject": subject, "term": term}));
        serde_json::to_string(&found).unwrap_or_else(|_| "null".into())
    }
    /// [`Session::supports_by_day`] as JSON (`{"day": count}`).
    #[wasm_bindgen(js_name = supportsByDay)]
    pub fn supports_by_day(&self, petition: &str) -> String {
        serde_json::to_string(&self.session.supports_by_day(petition)).unwrap_or_default()
    }
    /// [`Session::failed_target`] (`""` for none).
    #[wasm_bindgen(js_name = failedTarget)]
    pub fn failed_target(&self) -> String {
        self.session.failed_target().unwrap_or_default()
    }
    /// [`Session::citizen`] as JSON.
    pub fn citizen(&self, key: &str) -> String {
        serde_json::to_string(&self.session.citizen(key)).unwrap_or_default()
    }
    /// [`Session::is_known_secret`].
    #[wasm_bindgen(js_name = isKnownSecret)]
    pub fn is_known_secret(&self, query: &str) -> bool {
        self.session.is_known_secret(query)
    }
}

/// What a pasted text is: `secret` (a secret key file), `locked` (a locked
/// key file) or `other`. Nothing of it is kept.
#[wasm_bindgen(js_name = keyTextKind)]
pub fn key_text_kind(text: &str) -> String {
    match portal::key_text_kind(text) {
        portal::KeyText::Secret => "secret",
        portal::KeyText::Locked => "locked",
        portal::KeyText::Other => "other",
    }
    .into()
}

/// A QR code of `text`, as SVG.
#[wasm_bindgen(js_name = qrSvg)]
pub fn qr_svg(text: &str) -> Result<String, JsValue> {
    portal::qr_svg(text).map_err(|e| js_sys_error(&e))
}

/// The voter's key on this device ([`portal::Wallet`]): JavaScript holds
/// only this handle, never the secret.
#[wasm_bindgen]
pub struct Wallet {
    inner: portal::Wallet,
}

#[wasm_bindgen]
impl Wallet {
    /// A new key, drawn inside the wasm from `crypto.getRandomValues`.
    pub fn create() -> Result<Wallet, JsValue> {
        portal::Wallet::generate().map(|inner| Wallet { inner }).map_err(|e| js_sys_error(&e))
    }
    /// The key in a secret key file's text.
    #[wasm_bindgen(js_name = fromKeyFile)]
    pub fn from_key_file(text: &str) -> Result<Wallet, JsValue> {
        portal::Wallet::from_key_text(text).map(|inner| Wallet { inner }).map_err(|e| js_sys_error(&e))
    }
    /// Opens a locked key file.
    pub fn unlock(locked: &str, passphrase: &str) -> Result<Wallet, JsValue> {
        portal::Wallet::unlock(locked, passphrase).map(|inner| Wallet { inner }).map_err(|e| js_sys_error(&e))
    }
    /// Locks the key under a passphrase, with a fresh salt and nonce: a
    /// locked key file.
    pub fn lock(&self, passphrase: &str) -> Result<String, JsValue> {
        self.inner.lock_fresh(passphrase).map_err(|e| js_sys_error(&e))
    }
    /// The public key, hex.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self) -> String {
        self.inner.public_hex()
    }
    /// Signs an act (JSON, see [`portal::CitizenAct`]): the body of `POST
    /// /v1/events`. A ballot's randomness is drawn inside the wasm.
    pub fn sign(&self, ledger_id: &str, format: u16, nonce: &str, act: &str, keys: &str) -> Result<String, JsValue> {
        let nonce: u64 = nonce.parse().map_err(|_| js_sys_error("the nonce is not a whole number"))?;
        let act: portal::CitizenAct =
            serde_json::from_str(act).map_err(|e| js_sys_error(&format!("not an act: {e}")))?;
        let submission = self.inner.sign_fresh(ledger_id, format, nonce, &act, keys).map_err(|e| js_sys_error(&e))?;
        Ok(portal::submission_json(&submission))
    }
}
