//! The commission's node: refuses every act the rules forbid, never loses
//! an acknowledged act, and lets anyone read and follow the ledger.
//!
//! One writer thread owns the log. Handlers check what needs no state
//! (JSON, base64, payload bytes, the signature) on the async workers, then
//! hand the act to the writer over a bounded queue. The writer drains the
//! queue in batches, decides each act with the rule core, writes the
//! accepted entries with one `fdatasync` (group commit), signs the new head
//! once, and only then answers. Readers never see an entry before it is
//! durable: the writer holds the state's write lock across decide + sync.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use dauys_core::state::Context;
use dauys_core::summary::{petition_view, referendum_view};
use dauys_core::verify::{export_line, prepare_entry_presigned};
use dauys_core::{crypto, sha256, Entry, Hash, Keypair, Ledger, Payload, Rejection, SignedHead, Submission, Summary};
use dauys_store::{Append, Store};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch};

mod metrics;
mod web;

pub use metrics::Metrics;
pub use web::is_built as web_verifier_built;

/// Largest request body accepted by `POST /v1/events`.
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// Acts waiting for the writer.
pub const QUEUE_MAX: usize = 8_192;
/// Acts decided in one batch (one sync).
pub const BATCH_MAX: usize = 4_096;
/// Requests in flight at once.
pub const CONCURRENCY_MAX: usize = 1_024;
/// Exports and live streams open at once.
pub const STREAMS_MAX: usize = 4_096;
/// Entries per page of `GET /v1/entries`.
pub const PAGE_MAX: u64 = 1_000;

/// How the node runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory (log, index, log key).
    pub data: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
}

/// The secret key file of the node's log key inside the data directory.
pub fn log_key_path(data: &Path) -> PathBuf {
    data.join("log.key")
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// Why the node refused an act.
#[derive(Debug)]
pub enum Refusal {
    /// A rule refused it.
    Rule(Rejection),
    /// The log could not be written; the node is stopping.
    Unavailable(String),
}

/// What the submitter gets back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Receipt {
    /// Position of the new entry.
    pub position: u64,
    /// Its hash.
    #[serde(with = "dauys_core::hexser")]
    pub entry_hash: Hash,
    /// Node time stamped on it.
    pub time_ms: u64,
    /// The signed head right after the batch that holds it.
    pub head: SignedHead,
}

struct Job {
    submission: Submission,
    payload: Payload,
    enqueued: Instant,
    reply: oneshot::Sender<Result<Receipt, Refusal>>,
}

struct Shared {
    /// Set once the node begins to stop: long-lived streams end on it so
    /// that graceful shutdown does not wait for followers forever.
    stopping: watch::Sender<bool>,
    ledger: RwLock<Option<Ledger>>,
    store: RwLock<Store>,
    head: watch::Sender<Option<SignedHead>>,
    log_key: Keypair,
    queue: mpsc::Sender<Job>,
    metrics: Metrics,
}

/// The node's handle: the router and its shared state.
#[derive(Clone)]
pub struct Node {
    shared: Arc<Shared>,
}

/// Why the node failed to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] dauys_store::StoreError),
    /// The log key is missing or unreadable.
    #[error("log key {path}: {problem}")]
    LogKey {
        /// Path.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The log on disk does not replay under the rules.
    #[error("the log does not replay: {0}")]
    Replay(dauys_core::Failure),
}

/// Reads a 32-byte secret seed stored as hex in a file.
pub fn read_key_file(path: &Path) -> Result<Keypair, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let seed = dauys_core::hexser::parse::<32>(text.trim())
        .map_err(|_| "not a 64-digit lowercase hex secret key".to_owned())?;
    Ok(Keypair::from_seed(&seed))
}

fn signed_head(log_key: &Keypair, ledger_id: &Hash, size: u64, head: &Hash, time_ms: u64) -> SignedHead {
    let signature = log_key.sign(&SignedHead::message(ledger_id, size, head, time_ms));
    SignedHead { ledger_id: *ledger_id, size, head_hash: *head, time_ms, signature }
}

impl Node {
    /// Opens the data directory: re-checks the chain, replays the rules
    /// (signatures were checked before the entries were written), and starts
    /// the writer thread.
    pub fn open(data: &Path) -> Result<Self, StartError> {
        let (store, recovery) = Store::open(data)?;
        if recovery != dauys_store::Recovery::default() {
            tracing::warn!(?recovery, "recovered the store");
        }
        let key_path = log_key_path(data);
        let log_key = read_key_file(&key_path)
            .map_err(|problem| StartError::LogKey { path: key_path.display().to_string(), problem })?;
        let started = Instant::now();
        let mut verifier = dauys_core::ChainVerifier::new();
        for position in 0..store.len() {
            let bytes = store.read(position)?.unwrap_or_default();
            // Signatures were verified before these entries were written,
            // and the store re-checked checksums and links on open.
            verifier.check(&prepare_entry_presigned(bytes)).map_err(StartError::Replay)?;
        }
        tracing::info!(
            entries = store.len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "replayed the log"
        );
        let ledger = verifier.ledger().cloned();
        let head =
            ledger.as_ref().map(|l| signed_head(&log_key, l.ledger_id(), store.len(), &store.head(), l.time_ms()));
        if let Some(l) = &ledger {
            if l.genesis().log_key != log_key.public() {
                return Err(StartError::LogKey {
                    path: key_path.display().to_string(),
                    problem: "does not match the log key published in genesis".into(),
                });
            }
        }
        let (queue, receiver) = mpsc::channel(QUEUE_MAX);
        let (head, _) = watch::channel(head);
        let shared = Arc::new(Shared {
            stopping: watch::channel(false).0,
            ledger: RwLock::new(ledger),
            store: RwLock::new(store),
            head,
            log_key,
            queue,
            metrics: Metrics::new(),
        });
        let writer = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("dauys-writer".into())
            .spawn(move || {
                // The writer is the only path to the log: if it ever panics,
                // stop the whole node rather than serve reads while refusing
                // every write. A restart recovers exactly what is durable.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write_loop(&writer, receiver)));
                if outcome.is_err() {
                    tracing::error!("the writer panicked; stopping the node");
                    std::process::abort();
                }
            })
            .map_err(|e| StartError::LogKey { path: "writer thread".into(), problem: e.to_string() })?;
        Ok(Self { shared })
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        // Short requests share one concurrency limit and a timeout; the
        // export and the live stream are long by nature and are bounded by
        // their own limit instead, so followers never starve submissions.
        let short = Router::new()
            .route("/v1/events", post(submit))
            .route("/v1/entries", get(entries))
            .route("/v1/head", get(head))
            .route("/v1/genesis", get(genesis))
            .route("/v1/summary", get(summary))
            .route("/v1/petitions", get(petitions))
            .route("/v1/petitions/{id}", get(petition))
            .route("/v1/referendums", get(referendums))
            .route("/v1/referendums/{id}", get(referendum))
            .route("/v1/districts", get(districts))
            .route("/v1/acts", get(acts))
            .route("/v1/openapi.json", get(openapi))
            .route("/healthz", get(healthz))
            .route("/metrics", get(metrics::serve))
            .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
            .with_state(Arc::clone(&self.shared))
            .merge(web::router())
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(30),
            ))
            .layer(tower::limit::ConcurrencyLimitLayer::new(CONCURRENCY_MAX));
        let long = Router::new()
            .route("/v1/export", get(export))
            .route("/v1/stream", get(stream))
            .with_state(Arc::clone(&self.shared))
            .layer(tower::limit::ConcurrencyLimitLayer::new(STREAMS_MAX));
        // Reads are public: mirrors and the saved page may fetch them from
        // any origin. Submissions need no cookies, so no credentials are allowed.
        let cors = tower_http::cors::CorsLayer::new()
            .allow_origin(tower_http::cors::Any)
            .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
            .allow_headers([header::CONTENT_TYPE]);
        short
            .merge(long)
            .layer(cors)
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shared = Arc::clone(&self.shared);
        let shutdown = async move {
            shutdown.await;
            shared.stopping.send_replace(true);
        };
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await?;
        if let Ok(store) = self.shared.store.read() {
            let _ = store.flush_index();
        }
        Ok(())
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.shared.store.read().map(|s| s.len()).unwrap_or(0)
    }
}

fn write_loop(shared: &Shared, mut receiver: mpsc::Receiver<Job>) {
    while let Some(first) = receiver.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < BATCH_MAX {
            match receiver.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        shared.metrics.queue_depth.set(receiver.len() as i64);
        let (Ok(mut ledger), Ok(mut store)) = (shared.ledger.write(), shared.store.write()) else {
            tracing::error!("state lock poisoned; stopping");
            std::process::abort();
        };
        let mut size = store.len();
        let mut head = store.head();
        let mut time = ledger.as_ref().map(Ledger::time_ms).unwrap_or(0);
        let mut appends = Vec::new();
        let mut accepted = Vec::new();
        for job in jobs {
            let entry_time = now_ms().max(time);
            let (bytes, hash) = job.submission.to_entry(size, &head, entry_time);
            let ctx = Context { position: size, time_ms: entry_time, entry_hash: hash, author: job.submission.author };
            let decided = match ledger.as_mut() {
                Some(l) => l.apply(&ctx, &job.payload, &job.submission.payload),
                None => Ledger::open(&ctx, &job.payload, &job.submission.payload).map(|l| *ledger = Some(l)),
            };
            match decided {
                Ok(()) => {
                    appends.push(Append {
                        payload_hash: sha256(&job.submission.payload),
                        author: job.submission.author,
                        bytes,
                        hash,
                    });
                    accepted.push((job, size, hash, entry_time));
                    size += 1;
                    head = hash;
                    time = entry_time;
                }
                Err(rejection) => {
                    shared.metrics.rejections.get_or_create(&metrics::Code { code: rejection.code().to_owned() }).inc();
                    let _ = job.reply.send(Err(Refusal::Rule(rejection)));
                }
            }
        }
        if appends.is_empty() {
            continue;
        }
        let sync_started = Instant::now();
        if let Err(error) = store.append(&appends) {
            // The in-memory state is now ahead of the disk: answer, then
            // stop. A restart recovers exactly what was made durable.
            tracing::error!(%error, "cannot write the log; stopping the node");
            for (job, ..) in accepted {
                let _ = job.reply.send(Err(Refusal::Unavailable(error.to_string())));
            }
            std::process::abort();
        }
        shared.metrics.sync_seconds.observe(sync_started.elapsed().as_secs_f64());
        shared.metrics.batch_size.observe(accepted.len() as f64);
        shared.metrics.entries_appended.inc_by(accepted.len() as u64);
        let ledger_id = *ledger.as_ref().map(Ledger::ledger_id).unwrap_or(&[0; 32]);
        let signed = signed_head(&shared.log_key, &ledger_id, size, &head, time);
        drop(store);
        drop(ledger);
        shared.head.send_replace(Some(signed.clone()));
        for (job, position, entry_hash, time_ms) in accepted {
            shared.metrics.append_seconds.observe(job.enqueued.elapsed().as_secs_f64());
            let _ = job.reply.send(Ok(Receipt { position, entry_hash, time_ms, head: signed.clone() }));
        }
    }
}

/// An error answer: status, stable code, a sentence, optional details.
fn problem(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"code": code, "message": message.into()}))).into_response()
}

/// The body of `POST /v1/events`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRequest {
    author: String,
    payload: String,
    signature: String,
}

/// The body of `POST /v1/events` for a signed act: the inverse of
/// [`parse_submission`], used by every client of the API.
pub fn submission_json(submission: &Submission) -> serde_json::Value {
    json!({
        "author": hex::encode(submission.author),
        "payload": base64::engine::general_purpose::STANDARD.encode(&submission.payload),
        "signature": hex::encode(submission.signature),
    })
}

/// Parses and checks a submission without any state.
pub fn parse_submission(body: &[u8]) -> Result<(Submission, Payload), (StatusCode, &'static str, String)> {
    let bad = |code, message: String| (StatusCode::BAD_REQUEST, code, message);
    let request: SubmitRequest = serde_json::from_slice(body)
        .map_err(|e| bad("malformed_json", format!("the body is not a submission object: {e}")))?;
    let author = dauys_core::hexser::parse::<32>(&request.author)
        .map_err(|e| bad("malformed_author", format!("author: {e}")))?;
    let signature = dauys_core::hexser::parse::<64>(&request.signature)
        .map_err(|e| bad("malformed_signature", format!("signature: {e}")))?;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&request.payload)
        .map_err(|e| bad("malformed_payload", format!("payload is not canonical base64: {e}")))?;
    let decoded = Payload::decode(&payload).map_err(|e| bad("malformed_payload", format!("payload: {e}")))?;
    crypto::verify(&author, &payload, &signature)
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, "bad_signature", format!("the signature is refused: {e}")))?;
    Ok((Submission { author, payload, signature }, decoded))
}

async fn submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let (submission, payload) = match parse_submission(&body) {
        Ok(parsed) => parsed,
        Err((status, code, message)) => {
            shared.metrics.rejections.get_or_create(&metrics::Code { code: code.to_owned() }).inc();
            return problem(status, code, message);
        }
    };
    let payload_hash = sha256(&submission.payload);
    let (reply, answer) = oneshot::channel();
    let job = Job { submission, payload, enqueued: Instant::now(), reply };
    if shared.queue.try_send(job).is_err() {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "queue_full", "the node is busy; retry shortly");
    }
    match answer.await {
        Ok(Ok(receipt)) => (StatusCode::CREATED, Json(receipt)).into_response(),
        Ok(Err(Refusal::Rule(Rejection::DuplicatePayload))) => {
            let position = shared.store.read().ok().and_then(|s| s.position_of_payload(&payload_hash).ok().flatten());
            (
                StatusCode::CONFLICT,
                Json(json!({
                    "code": "duplicate_payload",
                    "message": "this exact act is already in the ledger",
                    "position": position,
                })),
            )
                .into_response()
        }
        Ok(Err(Refusal::Rule(rejection))) => {
            let details: serde_json::Map<String, serde_json::Value> =
                rejection.details().into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({"code": rejection.code(), "message": rejection.to_string(), "details": details})),
            )
                .into_response()
        }
        Ok(Err(Refusal::Unavailable(message))) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the node could not write the log: {message}"),
        ),
        Err(_) => problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the node is stopping"),
    }
}

#[derive(serde::Deserialize)]
struct RangeQuery {
    #[serde(default)]
    from: u64,
    limit: Option<u64>,
}

fn read_lines(shared: &Shared, from: u64, limit: u64) -> Result<Vec<(u64, Hash, Vec<u8>)>, String> {
    let store = shared.store.read().map_err(|_| "lock poisoned".to_owned())?;
    let entries = store.range(from, limit).map_err(|e| e.to_string())?;
    Ok(entries.into_iter().enumerate().map(|(i, bytes)| (from + i as u64, sha256(&bytes), bytes)).collect())
}

async fn entries(State(shared): State<Arc<Shared>>, Query(q): Query<RangeQuery>) -> Response {
    let limit = q.limit.unwrap_or(100).min(PAGE_MAX);
    match read_lines(&shared, q.from, limit) {
        Ok(lines) => {
            let size = shared.store.read().map(|s| s.len()).unwrap_or(0);
            let items: Vec<_> = lines
                .iter()
                .map(|(position, hash, bytes)| {
                    json!({"position": position, "hash": hex::encode(hash), "entry": base64::engine::general_purpose::STANDARD.encode(bytes)})
                })
                .collect();
            let next = q.from + items.len() as u64;
            Json(json!({"entries": items, "next": if next < size { Some(next) } else { None }, "size": size}))
                .into_response()
        }
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "read_failed", e),
    }
}

async fn export(State(shared): State<Arc<Shared>>) -> Response {
    let end = shared.store.read().map(|s| s.len()).unwrap_or(0);
    let stream = futures_util::stream::unfold(0u64, move |from| {
        let shared = Arc::clone(&shared);
        async move {
            if from >= end {
                return None;
            }
            let limit = (end - from).min(PAGE_MAX);
            let chunk = tokio::task::spawn_blocking(move || {
                read_lines(&shared, from, limit).map(|lines| {
                    let mut text = String::new();
                    for (position, hash, bytes) in lines {
                        text.push_str(&export_line(position, &hash, &bytes));
                    }
                    Bytes::from(text)
                })
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            Some((chunk.map_err(std::io::Error::other), from + limit))
        }
    });
    ([(header::CONTENT_TYPE, "application/jsonl")], HttpBody::from_stream(stream)).into_response()
}

async fn head(State(shared): State<Arc<Shared>>) -> Response {
    match shared.head.borrow().clone() {
        Some(head) => Json(head).into_response(),
        None => problem(StatusCode::NOT_FOUND, "empty_ledger", "the ledger has no genesis yet"),
    }
}

fn with_ledger(shared: &Shared, f: impl FnOnce(&Ledger) -> Response) -> Response {
    match shared.ledger.read() {
        Ok(guard) => match guard.as_ref() {
            Some(ledger) => f(ledger),
            None => problem(StatusCode::NOT_FOUND, "empty_ledger", "the ledger has no genesis yet"),
        },
        Err(_) => problem(StatusCode::INTERNAL_SERVER_ERROR, "poisoned", "state lock poisoned"),
    }
}

async fn genesis(State(shared): State<Arc<Shared>>) -> Response {
    with_ledger(&shared, |l| {
        let g = l.genesis();
        Json(json!({
            "ledger_id": hex::encode(l.ledger_id()),
            "jurisdiction": g.jurisdiction,
            "commission_key": hex::encode(g.commission_key),
            "council_key": hex::encode(g.council_key),
            "log_key": hex::encode(g.log_key),
            "rules": g.rules,
        }))
        .into_response()
    })
}

async fn summary(State(shared): State<Arc<Shared>>) -> Response {
    let (size, head) = shared.store.read().map(|s| (s.len(), s.head())).unwrap_or((0, [0; 32]));
    with_ledger(&shared, |l| Json(Summary::new(l, size, &head)).into_response())
}

async fn petitions(State(shared): State<Arc<Shared>>) -> Response {
    with_ledger(&shared, |l| {
        let now = l.time_ms();
        Json(l.petitions().iter().map(|p| petition_view(l, p, now)).collect::<Vec<_>>()).into_response()
    })
}

fn parse_id(id: &str) -> Option<Hash> {
    dauys_core::hexser::parse::<32>(id).ok()
}

fn malformed_id() -> Response {
    problem(StatusCode::BAD_REQUEST, "malformed_id", "an id is 64 lowercase hex digits")
}

async fn petition(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    let Some(id) = parse_id(&id) else { return malformed_id() };
    with_ledger(&shared, |l| match l.petition(&id) {
        Some(p) => Json(petition_view(l, p, l.time_ms())).into_response(),
        None => problem(StatusCode::NOT_FOUND, "unknown_petition", "no such petition"),
    })
}

async fn referendums(State(shared): State<Arc<Shared>>) -> Response {
    with_ledger(&shared, |l| {
        let now = l.time_ms();
        Json(l.referendums().iter().map(|r| referendum_view(l, r, now)).collect::<Vec<_>>()).into_response()
    })
}

async fn referendum(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    let Some(id) = parse_id(&id) else { return malformed_id() };
    with_ledger(&shared, |l| match l.referendum(&id) {
        Some(r) => Json(referendum_view(l, r, l.time_ms())).into_response(),
        None => problem(StatusCode::NOT_FOUND, "unknown_referendum", "no such referendum"),
    })
}

async fn districts(State(shared): State<Arc<Shared>>) -> Response {
    with_ledger(&shared, |l| Json(l.districts()).into_response())
}

#[derive(serde::Deserialize)]
struct ActsQuery {
    key: String,
}

async fn acts(State(shared): State<Arc<Shared>>, Query(q): Query<ActsQuery>) -> Response {
    let key = match dauys_core::hexser::parse::<32>(&q.key) {
        Ok(key) => key,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "malformed_key", e),
    };
    let positions = match shared.store.read().map(|s| s.positions_by_author(&key, 1_000)) {
        Ok(Ok(positions)) => positions,
        _ => return problem(StatusCode::INTERNAL_SERVER_ERROR, "read_failed", "index unavailable"),
    };
    let mut out = Vec::new();
    for position in positions {
        if let Ok(lines) = read_lines(&shared, position, 1) {
            for (position, hash, bytes) in lines {
                let kind = Entry::decode(&bytes)
                    .ok()
                    .and_then(|e| Payload::decode(e.payload).ok())
                    .map(|p| p.body.kind().name());
                out.push(json!({"position": position, "hash": hex::encode(hash), "kind": kind}));
            }
        }
    }
    Json(json!({"key": q.key, "acts": out})).into_response()
}

async fn stream(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<RangeQuery>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let heads = shared.head.subscribe();
    let stopping = shared.stopping.subscribe();
    let state = (shared, heads, stopping, q.from);
    let events = futures_util::stream::unfold(state, |(shared, mut heads, mut stopping, from)| async move {
        loop {
            if *stopping.borrow() {
                return None;
            }
            let size = shared.store.read().map(|s| s.len()).unwrap_or(0);
            if from < size {
                let limit = (size - from).min(PAGE_MAX);
                let reader = Arc::clone(&shared);
                let lines = tokio::task::spawn_blocking(move || read_lines(&reader, from, limit)).await.ok()?.ok()?;
                let events: Vec<_> = lines
                    .iter()
                    .map(|(position, hash, bytes)| {
                        let line = export_line(*position, hash, bytes);
                        Ok(SseEvent::default().id(position.to_string()).event("entry").data(line.trim_end()))
                    })
                    .collect();
                let next = from + events.len() as u64;
                return Some((futures_util::stream::iter(events), (shared, heads, stopping, next)));
            }
            tokio::select! {
                changed = heads.changed() => if changed.is_err() { return None },
                _ = stopping.changed() => return None,
            }
        }
    });
    Sse::new(futures_util::StreamExt::flatten(events)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let size = shared.store.read().map(|s| s.len()).unwrap_or(0);
    Json(json!({"status": "ok", "entries": size})).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}
