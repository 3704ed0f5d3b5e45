//! The observer's verifier: signature checks on every core (rayon), the
//! rule core in order, a progress bar, a human or JSON verdict.

use std::io::{BufRead, BufReader, Read};
use std::process::ExitCode;

use std::path::Path;

use base64::prelude::{Engine as _, BASE64_STANDARD as BASE64};
use dauys_core::tlog::{self, VerifierKey};
use dauys_core::verify::{prepare_line, LineSplitter, Prepared, Reason};
use dauys_core::{ChainVerifier, Failure, SignedHead, Summary, Verified};

use crate::tlog::{Seen, Trust};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

/// Lines prepared in parallel per round.
const BATCH_LINES: usize = 16_384;

/// What to note while replaying: the head hash and the RFC 6962 root at
/// given sizes (to check a signed head, a checkpoint, or a checkpoint seen
/// before), and the root at the end.
#[derive(Debug, Default)]
pub struct Marks {
    frontier: dauys_core::tlog::Frontier,
    wanted: std::collections::BTreeSet<u64>,
    /// Size → (head hash, root) where the replay reached a wanted size.
    pub found: std::collections::HashMap<u64, (dauys_core::Hash, dauys_core::Hash)>,
}

impl Marks {
    /// Marks at `sizes`.
    pub fn at(sizes: impl IntoIterator<Item = u64>) -> Self {
        Self { wanted: sizes.into_iter().filter(|&s| s > 0).collect(), ..Self::default() }
    }

    /// The root of the whole log replayed.
    pub fn root(&self) -> dauys_core::Hash {
        self.frontier.root()
    }

    /// The root of the tree of the first `size` entries, if noted (or the
    /// empty tree's).
    pub fn root_at(&self, size: u64) -> Option<dauys_core::Hash> {
        match size {
            0 => Some(tlog::Frontier::new().root()),
            _ if size == self.frontier.size() => Some(self.frontier.root()),
            _ => self.found.get(&size).map(|(_, root)| *root),
        }
    }
}

type Checked = Option<Vec<dauys_core::secret::Ciphertext>>;

fn check_batch(chain: &mut ChainVerifier, lines: &mut Vec<Vec<u8>>, marks: &mut Marks) -> Result<(), Failure> {
    // Parsing, signatures, secret ballots' proofs (against the election keys
    // known when the batch starts) and leaf hashes on every core; the rules
    // in order.
    let view = chain.ledger().map(dauys_core::Ledger::view);
    let prepared: Vec<(Prepared, Option<dauys_core::Hash>, Checked)> = lines
        .par_iter()
        .map(|line| {
            let prepared = prepare_line(line);
            let leaf = prepared.as_ref().ok().map(|p| dauys_core::tlog::leaf_hash(&p.bytes));
            let checked = match (&view, &prepared) {
                (Some(view), Ok(entry)) => {
                    entry.payload.as_ref().ok().and_then(|p| view.check_ballot(&entry.author, p))
                }
                _ => None,
            };
            (prepared, leaf, checked)
        })
        .collect();
    lines.clear();
    let mut prepared = prepared;
    for i in 0..prepared.len() {
        // A referendum's key learned inside this batch: check the rest of
        // the batch's ballots for it on every core before going on.
        if prepared[i].2.is_none() && unchecked_ballot_with_key(chain, &prepared[i].0) {
            let view = chain.ledger().map(dauys_core::Ledger::view);
            if let Some(view) = view {
                prepared[i..].par_iter_mut().for_each(|(p, _, checked)| {
                    if checked.is_none() {
                        if let Ok(entry) = p {
                            *checked = entry
                                .payload
                                .as_ref()
                                .ok()
                                .and_then(|payload| view.check_ballot(&entry.author, payload));
                        }
                    }
                });
            }
        }
        let (p, leaf, checked) = &prepared[i];
        chain.check_with(p, checked.as_deref().map(dauys_core::secret::PreChecked::Valid))?;
        marks.frontier.push_leaf(leaf.unwrap_or_default());
        if marks.wanted.contains(&chain.size()) {
            marks.found.insert(chain.size(), (*chain.head(), marks.frontier.root()));
        }
    }
    Ok(())
}

/// Whether `prepared` is a secret ballot whose referendum's key the chain
/// knows now (so its proofs, unchecked so far, can be checked in parallel).
fn unchecked_ballot_with_key(chain: &ChainVerifier, prepared: &Prepared) -> bool {
    use dauys_core::event::{Ballot, Body};
    let Ok(entry) = prepared else { return false };
    let Ok(payload) = &entry.payload else { return false };
    let Body::BallotCast { referendum, ballot: Ballot::Secret(_) } = &payload.body else { return false };
    chain.ledger().is_some_and(|ledger| ledger.view().ballot_key(referendum).is_some())
}

/// Verifies an export read from `reader`. The outer error is IO; the inner
/// result is the verdict.
pub fn verify_reader(
    reader: Box<dyn Read + Send>,
    progress: Option<&ProgressBar>,
    marks: &mut Marks,
) -> anyhow::Result<Result<Verified, Failure>> {
    let mut reader = reader;
    let mut chain = ChainVerifier::new();
    let mut splitter = LineSplitter::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut lines: Vec<Vec<u8>> = Vec::new();
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        if let Some(bar) = progress {
            bar.inc(n as u64);
        }
        let too_long = splitter
            .feed(&buffer[..n], |line| {
                lines.push(line.to_vec());
                true
            })
            .is_err();
        if lines.len() >= BATCH_LINES || too_long {
            if let Err(failure) = check_batch(&mut chain, &mut lines, marks) {
                return Ok(Err(failure));
            }
        }
        if too_long {
            let detail = format!("line longer than {} bytes", dauys_core::limits::LINE_BYTES_MAX);
            return Ok(Err(Failure { position: chain.size(), reason: Reason::MalformedLine { detail } }));
        }
    }
    if let Err(failure) = check_batch(&mut chain, &mut lines, marks) {
        return Ok(Err(failure));
    }
    if splitter.has_partial() {
        return Ok(Err(Failure { position: chain.size(), reason: Reason::TruncatedLine }));
    }
    Ok(chain.finish())
}

fn time(ms: u64) -> String {
    // Plain UTC date and time from epoch milliseconds (civil-from-days).
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

fn print_summary(summary: &Summary) {
    println!("VALID: {} entries, head {}", summary.size, summary.head);
    println!("ledger {} — {}", summary.ledger_id, summary.jurisdiction);
    println!("as of {}: {} voters enrolled", time(summary.time_ms), summary.enrolled);
    println!("\npetitions ({}):", summary.petitions.len());
    for p in &summary.petitions {
        println!(
            "  #{:<5} {:<16} {} online + {} paper / {} needed, signing until {}  {}",
            p.petition.position,
            p.status,
            p.petition.supports_online,
            p.petition.supports_paper,
            p.petition.threshold,
            time(p.petition.signing_deadline_ms),
            p.petition.title
        );
        if let Some(ruling) = &p.petition.ruling {
            println!("         council: {:?} — {}", ruling.decision, ruling.reasons);
        }
    }
    println!("\nreferendums ({}):", summary.referendums.len());
    for r in &summary.referendums {
        let sealed = r.referendum.secret.is_some() && r.referendum.declared.is_none();
        if sealed {
            println!(
                "  #{:<5} {:<9} {} — {} ballots counted, encrypted until the trustees decrypt (electorate {})",
                r.referendum.position, r.phase, r.referendum.question, r.ballots, r.referendum.electorate,
            );
        }
        if let Some(secret) = &r.referendum.secret {
            let shares: Vec<String> = secret.decryption_shares.iter().map(u8::to_string).collect();
            println!(
                "         secret ballot: {} trustees, any {} decrypt; key ceremony {}{}; {} ballots counted, {} superseded by a re-vote; decryption shares from trustees [{}]",
                secret.trustees.len(),
                secret.threshold,
                secret.ceremony.name(),
                secret.failed_accused.map(|a| format!(" (trustee {a} sent a bad share)")).unwrap_or_default(),
                secret.ballots_counted,
                secret.ballots_superseded,
                shares.join(", "),
            );
            if sealed {
                continue;
            }
        }
        let tally: Vec<String> =
            r.referendum.options.iter().zip(&r.referendum.tally).map(|(o, n)| format!("{o} {n}")).collect();
        println!(
            "  #{:<5} {:<9} {} — {} (electorate {}), outcome: {:?}{}",
            r.referendum.position,
            r.phase,
            r.referendum.question,
            tally.join(", "),
            r.referendum.electorate,
            r.computed_outcome,
            if r.referendum.declared.is_some() { " (declared, matches)" } else { "" }
        );
    }
    println!("\ndistricts:");
    for d in &summary.districts {
        let name = if d.name.is_empty() { "(none)" } else { &d.name };
        println!("  {name:<16} enrolled {:<6} supports {:<6} ballots {}", d.enrolled, d.supports, d.ballots);
    }
}

/// Where a log is read from, and what it publishes about itself.
enum Source {
    /// A format 2 node: its checkpoint note, tiles under `{url}/tlog`.
    Node { url: String, note: String },
    /// A static mirror: its checkpoint note, tiles and entry bundles.
    Mirror { base: String, note: String },
    /// A format 1 node: its signed head.
    NodeV1 { url: String, head: SignedHead },
    /// A data directory (with the checkpoint its node served last, if any),
    /// an export file, or stdin.
    Local { path: String, note: Option<String> },
}

impl Source {
    /// Finds out what `source` is. From a node the checkpoint (or signed
    /// head) is fetched first, so the export, a later snapshot, holds it.
    fn probe(source: &str) -> anyhow::Result<Self> {
        if !crate::is_url(source) {
            let note = std::fs::read_to_string(Path::new(source).join(dauys_node::tlog::CHECKPOINT_FILE)).ok();
            return Ok(Self::Local { path: source.to_owned(), note });
        }
        let url = source.trim_end_matches('/').to_owned();
        let agent = ureq::agent();
        let text =
            |path: &str| -> Option<String> { agent.get(&format!("{url}/{path}")).call().ok()?.into_string().ok() };
        if let Some(note) = text("tlog/checkpoint") {
            return Ok(Self::Node { url, note });
        }
        if let Some(note) = text("checkpoint") {
            return Ok(Self::Mirror { base: url, note });
        }
        let head_url = format!("{url}/v1/head");
        let head =
            serde_json::from_reader(crate::http_get(&head_url)?).map_err(|e| anyhow::anyhow!("GET {head_url}: {e}"))?;
        Ok(Self::NodeV1 { url, head })
    }

    fn note(&self) -> Option<&str> {
        match self {
            Self::Node { note, .. } | Self::Mirror { note, .. } => Some(note),
            Self::Local { note, .. } => note.as_deref(),
            Self::NodeV1 { .. } => None,
        }
    }

    fn open(&self, size: Option<u64>) -> anyhow::Result<Box<dyn Read + Send>> {
        match self {
            Self::Node { url, .. } | Self::NodeV1 { url, .. } => crate::open_source(url),
            Self::Mirror { base, .. } => Ok(crate::tlog::read_mirror(base, size.unwrap_or(0))),
            Self::Local { path, .. } => crate::open_source(path),
        }
    }

    fn tiles(&self) -> Option<crate::tlog::HttpTiles> {
        match self {
            Self::Node { url, .. } => Some(crate::tlog::HttpTiles::new(&format!("{url}/tlog"))),
            Self::Mirror { base, .. } => Some(crate::tlog::HttpTiles::new(base)),
            _ => None,
        }
    }
}

/// One thing checked beyond the replay, for the verdict.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Check {
    what: &'static str,
    ok: bool,
    /// Not a failed check but one that could not be made (exit 2).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unchecked: bool,
    detail: String,
}

impl Check {
    fn pass(what: &'static str, detail: String) -> Self {
        Self { what, ok: true, unchecked: false, detail }
    }
    fn fail(what: &'static str, detail: String) -> Self {
        Self { what, ok: false, unchecked: false, detail }
    }
}

/// The checks of a checkpoint against the replayed log: its signatures
/// under the policy, its root, and the checkpoints seen before.
fn check_checkpoint(
    note: &str,
    verified: &Verified,
    marks: &Marks,
    trust: &Trust,
    tiles: Option<&crate::tlog::HttpTiles>,
) -> anyhow::Result<Vec<Check>> {
    let genesis = verified.ledger.genesis();
    let Some(origin) = &genesis.origin else {
        let detail = "a checkpoint was published for a format 1 ledger, which has no origin".to_owned();
        return Ok(vec![Check::fail("checkpoint", detail)]);
    };
    let log = VerifierKey { name: origin.clone(), signature_type: tlog::SIGNATURE_ED25519, public: genesis.log_key };
    let checkpoint = match trust.policy(log.clone()).verify(note) {
        Ok(v) => {
            let cosigned = if v.cosigned_by.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", v.cosigned_by.join(", "))
            };
            let detail =
                format!("signed by the log key{cosigned} (quorum {} of {})", trust.quorum, trust.witnesses.len());
            let mut checks = vec![Check::pass("checkpoint signatures", detail)];
            checks.extend(root_check(&v.checkpoint, marks, verified.size));
            if checks.iter().any(|c| !c.ok) {
                return Ok(checks);
            }
            let mut seen = Seen::load(&trust.seen)?;
            let what = "checkpoints seen";
            match seen.check(&log, &v.checkpoint, tiles, |size| marks.root_at(size))? {
                Ok(before) => {
                    let detail = match before {
                        Some(before) => format!("extends the checkpoint of {} entries seen before", before.size),
                        None => format!("first checkpoint of this log seen (kept in {})", seen.path().display()),
                    };
                    match seen.record(&log, &v.checkpoint) {
                        Ok(()) => checks.push(Check::pass(what, detail)),
                        Err(e) => checks.push(Check::fail(what, format!("{e:#}"))),
                    }
                }
                Err(fork) if fork.is_fork() => checks.push(Check::fail(what, fork.to_string())),
                Err(other) => checks.push(Check { what, ok: false, unchecked: true, detail: other.to_string() }),
            }
            return Ok(checks);
        }
        Err(e) => e,
    };
    Ok(vec![Check::fail("checkpoint signatures", checkpoint.to_string())])
}

/// The checkpoint's root against the tree over the replayed entries.
fn root_check(checkpoint: &tlog::Checkpoint, marks: &Marks, replayed: u64) -> Option<Check> {
    let what = "checkpoint root";
    if checkpoint.size > replayed {
        let detail = format!("the checkpoint names {} entries but the log served only {replayed}", checkpoint.size);
        return Some(Check::fail(what, detail));
    }
    Some(match marks.root_at(checkpoint.size) {
        Some(root) if root == checkpoint.root => {
            Check::pass(what, format!("equals the tree over the first {} entries", checkpoint.size))
        }
        _ => Check::fail(what, format!("differs from the tree over the first {} entries replayed", checkpoint.size)),
    })
}

/// The checks of a format 1 signed head against the replayed log.
fn check_head(head: &SignedHead, verified: &Verified, marks: &Marks) -> Check {
    let what = "signed head";
    if head.verify(&verified.ledger.genesis().log_key).is_err() {
        return Check::fail(what, "the node's signed head does not verify under its log key".into());
    }
    let names_this_log = head.ledger_id == *verified.ledger.ledger_id()
        && marks.found.get(&head.size).map(|(hash, _)| *hash) == Some(head.head_hash);
    if names_this_log {
        Check::pass(what, format!("entry {} signed by the log key matches this log", head.size))
    } else {
        Check::fail(what, format!("the node signed a head (size {}) that is not in the log it served", head.size))
    }
}

/// `dauys verify`.
/// A source replayed and its checkpoint checked under a trust policy.
pub struct Replayed {
    /// The rules' verdict over the entries.
    pub verdict: Result<Verified, Failure>,
    /// The checkpoint, head, seen-checkpoint and mirror checks.
    pub checks: Vec<Check>,
    /// The tree root over the replayed entries.
    pub root: dauys_core::Hash,
}

impl Replayed {
    /// The ledger, if the entries verify and every check passed; otherwise
    /// why not, in one sentence.
    pub fn trusted(self) -> Result<Verified, String> {
        let verified = self.verdict.map_err(|f| format!("the log does not verify: {f}"))?;
        if let Some(check) = self.checks.iter().find(|c| !c.ok) {
            return Err(format!("{}: {}", check.what, check.detail));
        }
        let format_1 = verified.ledger.genesis().origin.is_none();
        if !format_1 && !self.checks.iter().any(|c| c.what == "checkpoints seen") {
            return Err("the node served no checkpoint to check the log against".to_owned());
        }
        Ok(verified)
    }
}

/// Replays `source` and checks it under `trust` (see [`run`]).
pub fn replay(source: &str, trust: &Trust) -> anyhow::Result<Replayed> {
    let source = Source::probe(source)?;
    let length = match &source {
        Source::Local { path, .. } => std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len()),
        _ => None,
    };
    // The sizes whose roots (or head hashes) the checks need: the
    // checkpoint's, the signed head's, and those seen before.
    let checkpoint = source.note().and_then(|note| {
        let text = note.split_once("\n\n").map(|(text, _)| format!("{text}\n"))?;
        tlog::Checkpoint::parse_text(&text).ok()
    });
    let mut sizes = Vec::new();
    if let Some(checkpoint) = &checkpoint {
        sizes.push(checkpoint.size);
        sizes.extend(Seen::load(&trust.seen)?.sizes(&checkpoint.origin));
    }
    if let Source::NodeV1 { head, .. } = &source {
        sizes.push(head.size);
    }
    let mut marks = Marks::at(sizes);
    let reader = source.open(checkpoint.as_ref().map(|c| c.size))?;
    let bar = match length {
        Some(length) if length > 8 << 20 => {
            let bar = ProgressBar::new(length);
            bar.set_style(ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")?);
            Some(bar)
        }
        _ => None,
    };
    let verdict = verify_reader(reader, bar.as_ref(), &mut marks)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let verified = match verdict {
        Ok(verified) => verified,
        Err(failure) => return Ok(Replayed { verdict: Err(failure), checks: Vec::new(), root: marks.root() }),
    };
    let mut checks = Vec::new();
    if let Source::NodeV1 { head, .. } = &source {
        checks.push(check_head(head, &verified, &marks));
    }
    if let Some(note) = source.note() {
        checks.extend(check_checkpoint(note, &verified, &marks, trust, source.tiles().as_ref())?);
    } else if verified.ledger.genesis().origin.is_some() && !matches!(source, Source::Local { .. }) {
        checks.push(Check::fail("checkpoint", "a format 2 log served no checkpoint".into()));
    }
    if let Source::Mirror { .. } = &source {
        // A mirror serves exactly the entries of its checkpoint.
        if checkpoint.as_ref().is_some_and(|c| c.size != verified.size) {
            let detail = format!("served {} entries for a checkpoint of a different size", verified.size);
            checks.push(Check::fail("mirror", detail));
        }
    }
    Ok(Replayed { verdict: Ok(verified), checks, root: marks.root() })
}

/// `dauys verify`: replays `source`, checks its checkpoint under `trust`,
/// prints the verdict (exit 0 valid, 1 invalid, 2 could not check).
pub fn run(source: &str, json: bool, trust: &Trust) -> anyhow::Result<ExitCode> {
    let Replayed { verdict, checks, root } = replay(source, trust)?;
    let verified = match verdict {
        Ok(verified) => verified,
        Err(failure) => {
            if json {
                let out = serde_json::json!({"verdict": "invalid", "failure": failure});
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!("INVALID at entry {}: {} — {}", failure.position, failure.reason.code(), failure.reason);
            }
            return Ok(ExitCode::from(1));
        }
    };
    let valid = checks.iter().all(|c| c.ok);
    let unchecked = checks.iter().any(|c| c.unchecked) && checks.iter().all(|c| c.ok || c.unchecked);
    let summary = Summary::from(&verified);
    if json {
        let verdict = if valid {
            "valid"
        } else if unchecked {
            "unchecked"
        } else {
            "invalid"
        };
        let root = BASE64.encode(root);
        let out = serde_json::json!({"verdict": verdict, "summary": summary, "root": root, "checks": checks});
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_summary(&summary);
        for r in verified.ledger.referendums() {
            if let Some(ceremony) = verified.ledger.ceremony(&r.id) {
                // What trustees confirm with each other before decrypting.
                println!(
                    "referendum #{}: encrypted tally {} ({} ballots counted)",
                    r.position,
                    ceremony.tally_fingerprint(),
                    ceremony.ballot_counts().0
                );
            }
        }
        println!("\ntree root over {} entries: {}", verified.size, BASE64.encode(root));
        for check in &checks {
            let mark = if check.ok {
                "ok"
            } else if check.unchecked {
                "COULD NOT CHECK"
            } else {
                "INVALID"
            };
            println!("{mark}: {}: {}", check.what, check.detail);
        }
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else if unchecked {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    })
}

/// How often `follow` fetches the checkpoint.
const FOLLOW_CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);
/// How many recent roots `follow` keeps to check a checkpoint that arrives
/// after the stream passed its size.
const FOLLOW_ROOTS_KEPT: usize = 1 << 16;

/// What `follow` waits for: an entry from the stream, or a checkpoint.
enum Event {
    Line(std::io::Result<String>),
    StreamEnded,
    Checkpoint(String),
    /// The checkpoint could not be fetched this many times in a row.
    FetchFailed(usize, String),
}

/// A verdict of `follow` beyond the entries: a proven fork or lie (exit 1),
/// or a check that could not be made (exit 2).
enum Stop {
    Invalid(String),
    Unchecked(String),
}

/// What `follow` knows of the log's transparency side: its key, the
/// checkpoints waiting for the replay to reach their size, the roots of the
/// recent sizes, the latest checkpoint it verified, the tiles to prove
/// consistency with it, and the checkpoint seen in an earlier run.
struct Watch {
    log: VerifierKey,
    pending: Vec<tlog::Verified>,
    roots: std::collections::VecDeque<(u64, dauys_core::Hash)>,
    latest: Option<tlog::Checkpoint>,
    tiles: crate::tlog::HttpTiles,
    seen: Seen,
    seen_before: Option<tlog::Checkpoint>,
}

impl Watch {
    fn root_at(&self, size: u64) -> Option<dauys_core::Hash> {
        self.roots.iter().rev().find(|(s, _)| *s == size).map(|(_, r)| *r)
    }

    /// Checks what the replay at `size` can check.
    fn check(&mut self, size: u64, trust: &Trust) -> anyhow::Result<Result<(), Stop>> {
        if let Some(before) = self.seen_before.clone().filter(|b| b.size <= size) {
            // Checked after every entry, so the root at that size is at hand.
            if self.root_at(before.size) != Some(before.root) {
                return Ok(Err(Stop::Invalid(format!(
                    "FORK: the log's first {} entries are not those of the checkpoint seen before",
                    before.size
                ))));
            }
            println!("checkpoint of {} entries seen before: the log still holds it", before.size);
            self.seen_before = None;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|v| v.checkpoint.size <= size);
        self.pending = waiting;
        for verified in ready {
            let checkpoint = &verified.checkpoint;
            // Smaller than a checkpoint this log showed before: a fork,
            // whatever its root.
            if let Some(before) = self.seen.get(&self.log)?.filter(|b| b.size > checkpoint.size) {
                return Ok(Err(Stop::Invalid(format!(
                    "FORK: the node now serves a checkpoint of {} entries after one of {}",
                    checkpoint.size, before.size
                ))));
            }
            match (self.root_at(checkpoint.size), &self.latest) {
                (Some(root), _) if root == checkpoint.root => {}
                (Some(_), _) => {
                    return Ok(Err(Stop::Invalid(format!(
                        "the checkpoint of {} entries has a root that is not the tree of the entries streamed",
                        checkpoint.size
                    ))))
                }
                // Too far behind the stream for the roots kept (a slow
                // witness quorum): prove it is a prefix of the latest
                // checkpoint verified, from tiles checked against it.
                (None, Some(latest)) if latest.size >= checkpoint.size => {
                    match tlog::check_consistency_from_tiles(&self.tiles, checkpoint, latest) {
                        Ok(()) => {}
                        Err(e @ tlog::TlogError::Inconsistent { .. }) => {
                            return Ok(Err(Stop::Invalid(format!("FORK: {e}"))))
                        }
                        Err(e) => {
                            return Ok(Err(Stop::Unchecked(format!(
                                "the checkpoint of {} entries: {e}",
                                checkpoint.size
                            ))))
                        }
                    }
                }
                (None, _) => {
                    return Ok(Err(Stop::Unchecked(format!(
                        "the checkpoint of {} entries is too far behind the stream to compare",
                        checkpoint.size
                    ))))
                }
            }
            if let Err(e) = self.seen.record(&self.log, checkpoint) {
                return Ok(Err(Stop::Invalid(format!("{e:#}"))));
            }
            if self.latest.as_ref().is_none_or(|l| l.size < checkpoint.size) {
                self.latest = Some(checkpoint.clone());
            }
            let cosigned = if verified.cosigned_by.is_empty() {
                String::new()
            } else {
                format!(", cosigned by {}", verified.cosigned_by.join(", "))
            };
            let quorum = if trust.quorum > 0 { format!(" (quorum {} met)", trust.quorum) } else { String::new() };
            println!("checkpoint of {} entries verified: root matches the stream{cosigned}{quorum}", checkpoint.size);
        }
        Ok(Ok(()))
    }

    /// What is left unchecked when the stream ends.
    fn unchecked_at_end(&self, size: u64) -> Option<String> {
        if let Some(before) = &self.seen_before {
            return Some(format!(
                "the stream ended at {size} entries, before the {} of the checkpoint seen before",
                before.size
            ));
        }
        self.pending.first().map(|v| {
            format!("the stream ended at {size} entries, before the {} of a checkpoint served", v.checkpoint.size)
        })
    }
}

/// `dauys follow`: tails the live stream, verifying each entry, and every
/// checkpoint the node serves against the tree of the entries replayed.
pub fn follow(url: &str, trust: &Trust) -> anyhow::Result<ExitCode> {
    let url = url.trim_end_matches('/').to_owned();
    let stream = crate::http_get(&format!("{url}/v1/stream?from=0"))?;
    let (sender, events) = std::sync::mpsc::channel::<Event>();
    {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                if sender.send(Event::Line(line)).is_err() {
                    return;
                }
            }
            let _ = sender.send(Event::StreamEnded);
        });
    }
    {
        let url = url.clone();
        std::thread::spawn(move || {
            let agent = ureq::agent();
            let mut last = String::new();
            let mut failures = 0usize;
            loop {
                let fetched = agent
                    .get(&format!("{url}/tlog/checkpoint"))
                    .call()
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.into_string().map_err(|e| e.to_string()));
                let event = match fetched {
                    Ok(note) => {
                        failures = 0;
                        (note != last).then(|| {
                            last.clone_from(&note);
                            Event::Checkpoint(note)
                        })
                    }
                    Err(e) => {
                        failures += 1;
                        failures.is_multiple_of(3).then_some(Event::FetchFailed(failures, e))
                    }
                };
                if let Some(event) = event {
                    if sender.send(event).is_err() {
                        return;
                    }
                }
                std::thread::sleep(FOLLOW_CHECKPOINT_INTERVAL);
            }
        });
    }
    let invalid = |message: String| {
        println!("INVALID: {message}");
        Ok(ExitCode::from(1))
    };
    let mut chain = ChainVerifier::new();
    let mut frontier = tlog::Frontier::new();
    let mut watch: Option<Watch> = None;
    // Checkpoints that arrive before the genesis (and its key) is replayed.
    let mut early: Vec<String> = Vec::new();
    for event in events {
        match event {
            Event::StreamEnded => break,
            Event::FetchFailed(times, error) => {
                println!("note: the checkpoint could not be fetched ({times} times in a row): {error}");
            }
            Event::Checkpoint(note) => match &mut watch {
                Some(watch) => match trust.policy(watch.log.clone()).verify(&note) {
                    Ok(verified) => watch.pending.push(verified),
                    Err(e) => return invalid(format!("the node's checkpoint: {e}")),
                },
                None => early.push(note),
            },
            Event::Line(line) => {
                let line = line?;
                let Some(data) = line.strip_prefix("data: ").or_else(|| line.strip_prefix("data:")) else { continue };
                let prepared = prepare_line(data.as_bytes());
                let kind = prepared.as_ref().ok().and_then(|p| p.payload.as_ref().ok()).map(|p| p.body.kind().name());
                if let Err(failure) = chain.check(&prepared) {
                    println!("INVALID at entry {}: {} — {}", failure.position, failure.reason.code(), failure.reason);
                    return Ok(ExitCode::from(1));
                }
                if let Ok(p) = &prepared {
                    frontier.push(&p.bytes);
                }
                let Some(ledger) = chain.ledger() else { continue };
                let supports: u64 = ledger.petitions().iter().map(|p| p.supports()).sum();
                let ballots: u64 = ledger.referendums().iter().map(|r| r.ballots()).sum();
                println!(
                    "#{} {:<24} verified — enrolled {}, petitions {}, supports {}, ballots {}",
                    chain.size() - 1,
                    kind.unwrap_or("?"),
                    ledger.enrolled(),
                    ledger.petitions().len(),
                    supports,
                    ballots
                );
                if watch.is_none() {
                    let genesis = ledger.genesis();
                    if let Some(origin) = &genesis.origin {
                        let log = VerifierKey {
                            name: origin.clone(),
                            signature_type: tlog::SIGNATURE_ED25519,
                            public: genesis.log_key,
                        };
                        let seen = Seen::load(&trust.seen)?;
                        let seen_before = seen.get(&log)?;
                        let mut new = Watch {
                            log,
                            pending: Vec::new(),
                            roots: Default::default(),
                            latest: None,
                            tiles: crate::tlog::HttpTiles::new(&format!("{url}/tlog")),
                            seen,
                            seen_before,
                        };
                        for note in early.drain(..) {
                            match trust.policy(new.log.clone()).verify(&note) {
                                Ok(verified) => new.pending.push(verified),
                                Err(e) => return invalid(format!("the node's checkpoint: {e}")),
                            }
                        }
                        watch = Some(new);
                    }
                }
                if let Some(watch) = &mut watch {
                    watch.roots.push_back((frontier.size(), frontier.root()));
                    if watch.roots.len() > FOLLOW_ROOTS_KEPT {
                        watch.roots.pop_front();
                    }
                }
            }
        }
        if let Some(watch) = &mut watch {
            match watch.check(chain.size(), trust)? {
                Ok(()) => {}
                Err(Stop::Invalid(message)) => return invalid(message),
                Err(Stop::Unchecked(message)) => {
                    println!("COULD NOT CHECK: {message}");
                    return Ok(ExitCode::from(2));
                }
            }
        }
    }
    if let Some(message) = watch.as_ref().and_then(|w| w.unchecked_at_end(chain.size())) {
        println!("COULD NOT CHECK: {message}");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
