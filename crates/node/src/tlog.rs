//! The transparency-log side of the node, for format 2 ledgers: the C2SP
//! tlog-tiles API under `/tlog/` (checkpoint, hash tiles, entry bundles),
//! receipts and fresh proofs in the C2SP tlog-proof format, and the task
//! that gathers witness cosignatures (C2SP tlog-witness) before a
//! checkpoint is served.
//!
//! Every batch gets a checkpoint signed by the log key at once: receipts
//! carry it, so a submitter never waits for witnesses. The checkpoint served
//! at `/tlog/checkpoint` is that one when no witness is configured; with
//! witnesses it is the latest one a quorum cosigned (about a second behind),
//! and `/v1/proof?index=N` proves any entry against it. The served checkpoint
//! is also kept in the data directory (`checkpoint`), and a node refuses to
//! start on a log that does not contain it: it never signs a fork.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use dauys_core::tlog::{self, Checkpoint, Policy, Receipt, Tile, VerifierKey, TILE_WIDTH};
use dauys_store::LogReadHandle;

use crate::api::{problem, Shared};

/// The file in the data directory holding the last served checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// How often the witness task looks for a new checkpoint.
const WITNESS_INTERVAL: Duration = Duration::from_secs(1);
/// Entry bundles built at once; more wait (each holds up to 256 entries).
pub(crate) const BUNDLES_AT_ONCE: usize = 8;
/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// One witness the node asks to cosign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    /// Its submission prefix (`add-checkpoint` is appended).
    pub url: String,
    /// Its cosignature key (type 0x04).
    pub key: VerifierKey,
}

/// The witnesses and how many must cosign before a checkpoint is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    /// The witnesses.
    pub witnesses: Vec<Witness>,
    /// How many of them must cosign.
    pub quorum: usize,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    quorum: usize,
    witness: Vec<WitnessEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessEntry {
    url: String,
    key: String,
}

impl WitnessPolicy {
    /// Parses a witness file (TOML): `quorum = K` and `[[witness]]` tables
    /// with `url` and `key` (the witness's verifier key).
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: WitnessFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let witnesses = file
            .witness
            .into_iter()
            .map(|w| {
                let key = VerifierKey::parse(&w.key).map_err(|e| e.to_string())?;
                if key.signature_type != tlog::SIGNATURE_COSIGNATURE {
                    return Err(format!("witness key {} is not a cosignature key (type 04)", key.name));
                }
                Ok(Witness { url: w.url.trim_end_matches('/').to_owned(), key })
            })
            .collect::<Result<Vec<_>, String>>()?;
        // A witness is its key: listed twice (under any names) it would
        // count twice toward the quorum here, and once for every verifier.
        for (i, w) in witnesses.iter().enumerate() {
            if witnesses[..i].iter().any(|other| other.key.public == w.key.public) {
                return Err(format!("witness key {} is listed twice", w.key.name));
            }
        }
        if file.quorum == 0 || file.quorum > witnesses.len() {
            return Err(format!("quorum {} of {} witnesses is not possible", file.quorum, witnesses.len()));
        }
        Ok(Self { witnesses, quorum: file.quorum })
    }

    /// The policy a checkpoint served under these witnesses meets.
    pub fn policy(&self, origin: &str, log_key: &dauys_core::PublicKey) -> Policy {
        let mut policy = Policy::log_only(origin, log_key);
        policy.witnesses = self.witnesses.iter().map(|w| w.key.clone()).collect();
        policy.quorum = self.quorum;
        policy
    }
}

/// The receipt (tlog-proof text) of the entry at `position`, against the
/// checkpoint `note` of `size`.
pub fn receipt(reader: &LogReadHandle, entry: Vec<u8>, position: u64, size: u64, note: &str) -> Result<String, String> {
    let proof = tlog::prove_inclusion(size, position, reader.tree()).map_err(|e| e.to_string())?;
    Ok(Receipt { entry, index: position, proof, checkpoint: note.to_owned() }.encode())
}

/// Stored hashes read once: the receipts of one batch share most of their
/// proof hashes.
struct Memo<'a, R> {
    inner: &'a R,
    known: std::cell::RefCell<std::collections::HashMap<u64, tlog::TreeHash>>,
}

impl<R: tlog::HashReader> tlog::HashReader for Memo<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog::TreeHash>, tlog::TlogHashError> {
        let missing: Vec<u64> = {
            let known = self.known.borrow();
            indexes.iter().copied().filter(|i| !known.contains_key(i)).collect()
        };
        if !missing.is_empty() {
            let read = self.inner.read_hashes(&missing)?;
            self.known.borrow_mut().extend(missing.into_iter().zip(read));
        }
        let known = self.known.borrow();
        indexes.iter().map(|i| known.get(i).copied().ok_or(tlog::TlogHashError::IndexesNotInTree)).collect()
    }
}

/// The receipts of a batch's entries (`(position, entry)`), against the
/// checkpoint `note` of `size`, built by the writer right after the batch
/// became durable.
pub fn receipts(
    reader: &LogReadHandle,
    entries: Vec<(u64, Vec<u8>)>,
    size: u64,
    note: &str,
) -> Vec<Result<String, String>> {
    let memo = Memo { inner: reader.tree(), known: std::cell::RefCell::default() };
    entries
        .into_iter()
        .map(|(position, entry)| {
            let proof = tlog::prove_inclusion(size, position, &memo).map_err(|e| e.to_string())?;
            Ok(Receipt { entry, index: position, proof, checkpoint: note.to_owned() }.encode())
        })
        .collect()
}

fn served_checkpoint(note: &str) -> Option<Checkpoint> {
    let text = note.split_once("\n\n").map(|(text, _)| format!("{text}\n"))?;
    Checkpoint::parse_text(&text).ok()
}

fn no_tlog() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "no_transparency_log",
        "this ledger is of format 1, which has no checkpoint origin; it publishes a signed head at /v1/head",
    )
}

/// `GET /tlog/checkpoint`.
pub(crate) async fn checkpoint(State(shared): State<Arc<Shared>>) -> Response {
    let served = shared.served.borrow().clone();
    match served {
        Some(note) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
            note.to_string(),
        )
            .into_response(),
        None if shared.snapshot().checkpoint().is_none() => no_tlog(),
        None => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_cosigned_checkpoint",
            "no checkpoint has reached the witness quorum yet; retry shortly",
        ),
    }
}

/// `GET /tlog/tile/...`: hash tiles and entry bundles, full or partial.
pub(crate) async fn tile(State(shared): State<Arc<Shared>>, UrlPath(path): UrlPath<String>) -> Response {
    let snapshot = shared.snapshot();
    if snapshot.checkpoint().is_none() {
        return no_tlog();
    }
    let Some(tile) = Tile::parse_path(&format!("tile/{path}")) else {
        return problem(StatusCode::NOT_FOUND, "not_found", "not a tile path (C2SP tlog-tiles)");
    };
    // A tile of any width up to what the tree holds now: a partial tile's
    // content never changes, and clients verifying an older checkpoint ask
    // for narrower ones.
    let level = u32::from(tile.level.unwrap_or(0));
    let span = TILE_WIDTH.checked_pow(level).unwrap_or(u64::MAX);
    let available = snapshot.size / span;
    if tile.index.saturating_mul(TILE_WIDTH).saturating_add(tile.width) > available {
        return problem(StatusCode::NOT_FOUND, "not_found", "no such tile at the log's size");
    }
    // Bundles are large: a few are built at a time, the rest wait.
    let _permit = match tile.level {
        None => match shared.bundles.acquire().await {
            Ok(permit) => Some(permit),
            Err(_) => return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the node is stopping"),
        },
        Some(_) => None,
    };
    let reader = shared.reader.clone();
    let body = tokio::task::spawn_blocking(move || tile_bytes(&reader, tile)).await;
    let cache = if tile.width == TILE_WIDTH { "public, max-age=31536000, immutable" } else { "public, max-age=60" };
    match body {
        Ok(Ok(bytes)) => ([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], bytes)
            .into_response(),
        _ => problem(StatusCode::INTERNAL_SERVER_ERROR, "read_failed", "the tile could not be read"),
    }
}

/// The bytes of a tile: hashes for a hash tile, u16-length-prefixed entries
/// for an entry bundle.
pub fn tile_bytes(reader: &LogReadHandle, tile: Tile) -> std::io::Result<Vec<u8>> {
    match tile.level {
        Some(_) => {
            let mut out = Vec::with_capacity(usize::try_from(tile.width).unwrap_or(256) * 32);
            for index in tile.hash_indexes() {
                out.extend_from_slice(&reader.tree().hash(index)?);
            }
            Ok(out)
        }
        None => {
            let entries = reader.read_range(tile.index * TILE_WIDTH, tile.width, usize::MAX)?;
            let mut out = Vec::new();
            for entry in entries {
                let length = u16::try_from(entry.len())
                    .map_err(|_| std::io::Error::other("an entry longer than an entry bundle allows"))?;
                out.extend_from_slice(&length.to_be_bytes());
                out.extend_from_slice(&entry);
            }
            Ok(out)
        }
    }
}

/// `GET /v1/proof?index=N`: a receipt (tlog-proof) for entry N against the
/// served checkpoint.
pub(crate) async fn proof(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Query {
        index: u64,
    }
    let query = match axum::extract::Query::<Query>::try_from_uri(&uri) {
        Ok(q) => q.0,
        Err(e) => {
            return problem(StatusCode::BAD_REQUEST, "bad_query", format!("expected ?index=N: {}", e.body_text()))
        }
    };
    let Some(note) = shared.served.borrow().clone() else {
        return match shared.snapshot().checkpoint() {
            None => no_tlog(),
            Some(_) => problem(StatusCode::SERVICE_UNAVAILABLE, "no_cosigned_checkpoint", "retry shortly"),
        };
    };
    let Some(checkpoint) = served_checkpoint(&note) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the served checkpoint does not parse");
    };
    if query.index >= checkpoint.size {
        return problem(
            StatusCode::NOT_FOUND,
            "not_in_checkpoint",
            format!("the served checkpoint covers entries below {}", checkpoint.size),
        );
    }
    let reader = shared.reader.clone();
    let built = tokio::task::spawn_blocking(move || {
        let entry = reader.read_range(query.index, 1, usize::MAX).map_err(|e| e.to_string())?.pop().unwrap_or_default();
        receipt(&reader, entry, query.index, checkpoint.size, &note)
    })
    .await;
    match built {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        _ => problem(StatusCode::INTERNAL_SERVER_ERROR, "proof_failed", "the proof could not be read"),
    }
}

/// Checks, at start, that the log contains the checkpoint the node served
/// last (kept in the data directory): a node never signs a fork of what it
/// published, whatever happened to its disk or its backups.
pub fn check_published(data: &Path, size: u64, tree: &dauys_store::tree::TreeReader) -> Result<(), String> {
    let path = data.join(CHECKPOINT_FILE);
    let note = match std::fs::read_to_string(&path) {
        Ok(note) => note,
        // Only a checkpoint never kept means nothing was published.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{} cannot be read ({e}): refusing to start without it", path.display())),
    };
    let Some(published) = served_checkpoint(&note) else {
        return Err(format!("{} does not hold a checkpoint", data.join(CHECKPOINT_FILE).display()));
    };
    if published.size > size {
        return Err(format!(
            "the node published a checkpoint of {} entries, but the log holds {size}: entries it vouched for are gone. \
             Restore log.dat from a backup or a mirror; starting would sign a fork",
            published.size
        ));
    }
    let root = tlog::tree_root(published.size, tree).map_err(|e| e.to_string())?;
    if root != published.root {
        return Err(format!(
            "the log's first {} entries are not those of the checkpoint the node published: history was rewritten. \
             Starting would sign a fork",
            published.size
        ));
    }
    Ok(())
}

pub(crate) fn keep_served(data: &Path, note: &str) {
    // One writer of the file at a time (the keeping task and the shutdown).
    static KEEPING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = KEEPING.lock();
    if let Err(error) = dauys_store::dir::write_durably(data, CHECKPOINT_FILE, note.as_bytes(), 0o644) {
        tracing::error!(%error, "keeping the served checkpoint failed; a restore from an older backup would go unnoticed");
    }
}

/// Starts the witness task (format 2 ledgers): every second, the newest
/// log-signed checkpoint goes to every witness with a consistency proof from
/// the size that witness holds; once `quorum` cosignatures verify, the
/// checkpoint with them is served and kept.
pub(crate) fn spawn_witness_task(shared: Arc<Shared>) {
    if shared.snapshot().checkpoint().is_none() {
        return;
    }
    let Some(policy) = shared.witnesses.clone() else {
        // Without witnesses the log-signed checkpoint is served; keep it.
        tokio::spawn(async move {
            let mut served = shared.served.subscribe();
            let mut stopping = shared.stopping.subscribe();
            // The checkpoint served at start is kept at once; later ones at
            // most once per interval.
            served.mark_changed();
            loop {
                let last = tokio::select! {
                    changed = served.changed() => changed.is_err(),
                    _ = stopping.changed() => true,
                };
                let note = served.borrow_and_update().clone();
                if let Some(note) = note {
                    let data = shared.data.clone();
                    let _ = tokio::task::spawn_blocking(move || keep_served(&data, &note)).await;
                }
                if last {
                    return;
                }
                tokio::time::sleep(WITNESS_INTERVAL).await;
            }
        });
        return;
    };
    tokio::spawn(async move {
        let mut known: Vec<Option<u64>> = vec![None; policy.witnesses.len()];
        let mut stopping = shared.stopping.subscribe();
        let mut cosigned_size = 0u64;
        loop {
            tokio::select! {
                () = tokio::time::sleep(WITNESS_INTERVAL) => {}
                _ = stopping.changed() => return,
            }
            let snapshot = shared.snapshot();
            let Some(note) = snapshot.checkpoint().cloned() else { return };
            if snapshot.size <= cosigned_size && shared.served.borrow().is_some() {
                continue;
            }
            let round_started = std::time::Instant::now();
            let origin = snapshot.view.genesis().origin.clone().unwrap_or_default();
            let log_key = snapshot.view.genesis().log_key;
            let mut lines = String::new();
            let mut cosigners = 0;
            let rounds: Vec<_> = policy
                .witnesses
                .iter()
                .cloned()
                .zip(known.iter().copied())
                .map(|(witness, known)| {
                    let (reader, note) = (shared.reader.clone(), Arc::clone(&note));
                    let size = snapshot.size;
                    tokio::task::spawn_blocking(move || ask_witness(&witness, known, &reader, size, &note))
                })
                .collect();
            for (i, round) in rounds.into_iter().enumerate() {
                match round.await {
                    Ok(Ok((line, size))) => {
                        known[i] = Some(size);
                        let mut single = policy.policy(&origin, &log_key);
                        single.witnesses.retain(|w| w == &policy.witnesses[i].key);
                        single.quorum = 1;
                        if single.verify(&format!("{note}{line}")).is_ok() {
                            lines.push_str(&line);
                            cosigners += 1;
                        } else {
                            tracing::warn!(witness = %policy.witnesses[i].url, "a cosignature did not verify");
                        }
                    }
                    Ok(Err((error, size))) => {
                        known[i] = size.or(known[i]);
                        tracing::warn!(witness = %policy.witnesses[i].url, %error, "witness");
                    }
                    Err(_) => {}
                }
            }
            shared.metrics.cosigners.set(cosigners);
            shared.metrics.witness_seconds.observe(round_started.elapsed().as_secs_f64());
            if usize::try_from(cosigners).unwrap_or(0) >= policy.quorum {
                let cosigned: Arc<str> = Arc::from(format!("{note}{lines}"));
                cosigned_size = snapshot.size;
                shared.served.send_replace(Some(Arc::clone(&cosigned)));
                let data = shared.data.clone();
                let _ = tokio::task::spawn_blocking(move || keep_served(&data, &cosigned)).await;
            }
        }
    });
}

/// One `add-checkpoint` exchange (with one retry after a 409 names the
/// witness's size): the cosignature lines for this witness, and the size it
/// now holds; or the error and the size it claimed.
fn ask_witness(
    witness: &Witness,
    known: Option<u64>,
    reader: &LogReadHandle,
    size: u64,
    note: &str,
) -> Result<(String, u64), (String, Option<u64>)> {
    let agent = ureq::AgentBuilder::new().timeout(WITNESS_TIMEOUT).build();
    let mut old = known.unwrap_or(0);
    for _ in 0..2 {
        if old > size {
            return Err((format!("the witness holds size {old}, more than the log's {size}"), Some(old)));
        }
        let proof = tlog::prove_consistency(size, old, reader.tree()).map_err(|e| (e.to_string(), None))?;
        let body = tlog::add_checkpoint_body(old, &proof, note);
        match agent.post(&format!("{}/add-checkpoint", witness.url)).send_string(&body) {
            Ok(response) => {
                let text = response.into_string().map_err(|e| (e.to_string(), None))?;
                let lines: String = text
                    .lines()
                    .filter(|l| l.starts_with(&format!("\u{2014} {} ", witness.key.name)))
                    .map(|l| format!("{l}\n"))
                    .collect();
                return Ok((lines, size));
            }
            Err(ureq::Error::Status(409, response)) => {
                // A size (text/x.tlog.size) to retry from; otherwise the
                // witness holds another root at this size: a fork it saw.
                let sized = response.content_type() == "text/x.tlog.size";
                let text = response.into_string().unwrap_or_default();
                match text.trim().parse() {
                    Ok(size) if sized => old = size,
                    _ => return Err((format!("409: {}", text.trim()), None)),
                }
            }
            Err(ureq::Error::Status(status, response)) => {
                return Err((format!("{status}: {}", response.into_string().unwrap_or_default().trim()), None));
            }
            Err(error) => return Err((error.to_string(), None)),
        }
    }
    Err(("the witness's size kept changing".to_owned(), Some(old)))
}
