//! The HTTP API: handlers that read only published snapshots and committed
//! log bytes, and submit acts to the writer thread over a bounded queue.
//!
//! Nothing here takes the writer's state. Reads are bounded pages (at most
//! [`PAGE_MAX`] items); anything proportional to a page is built on the
//! blocking pool, never on the async workers; the overview is rendered once
//! per snapshot. Long responses (the export, the live stream) produce their
//! next chunk only when the client has taken the previous one, each holding
//! a permit of the stream cap for its whole life. Every error is JSON
//! `{"code", "message"}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use dauys_core::event::{Ballot, Body};
use dauys_core::summary::{petition_view, referendum_view};
use dauys_core::verify::export_line;
use dauys_core::{
    crypto, sha256, Entry, Hash, Keypair, Payload, Rejection, SequenceError, Sequencer, SignedHead, Submission,
};
use dauys_store::index::IndexReader;
use dauys_store::{LogReadHandle, Store};
use serde_json::json;
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};

use crate::metrics::{self, Metrics};
use crate::writer::{Act, Health, Outcome, SystemClock, Writer};
use crate::{
    signed_head, Signed, Snapshot, StartError, BATCH_MAX, BATCH_PAYLOAD_BYTES_MAX, BODY_BYTES_MAX, PAGE_MAX, QUEUE_MAX,
};

/// Long responses (exports and live streams) open at once.
pub const STREAMS_MAX: usize = 1_024;
/// Requests being handled at once (all routes); more are refused at once
/// with `503 overloaded` rather than queued.
pub const IN_FLIGHT_MAX: usize = 1_024;
/// A request body must arrive within this time.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A short request must be answered within this time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of entries read for one chunk of an export or stream.
const CHUNK_BYTES: usize = 64 << 10;

/// What the writer answers for one act: its outcome and, when the batch
/// became durable, the snapshot published for it.
#[derive(Debug)]
struct Answer {
    outcome: Outcome,
    snapshot: Option<Arc<Snapshot>>,
    /// Format 2, accepted: the receipt (tlog-proof), built with the batch's.
    proof: Option<Result<String, String>>,
}

struct Job {
    act: Act,
    payload_bytes: usize,
    enqueued: Instant,
    reply: oneshot::Sender<Answer>,
}

enum Command {
    Act(Box<Job>),
    Stop,
}

/// What submitters get back.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// Position of the new entry.
    pub position: u64,
    /// Its hash.
    #[serde(with = "dauys_core::hexser")]
    pub entry_hash: Hash,
    /// Node time stamped on it.
    pub time_ms: u64,
    /// Format 1: the signed head right after the batch that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<SignedHead>,
    /// Format 2: a C2SP tlog-proof: the entry, its inclusion proof, and the
    /// checkpoint the log key signed right after the batch that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// State shared by the handlers.
pub struct Shared {
    limits: crate::server::Limits,
    pub(crate) snapshots: watch::Sender<Arc<Snapshot>>,
    /// The checkpoint served at `/tlog/checkpoint` (format 2): the latest
    /// log-signed one, or with witnesses the latest that reached the quorum.
    pub(crate) served: watch::Sender<Option<Arc<str>>>,
    pub(crate) witnesses: Option<crate::tlog::WitnessPolicy>,
    queue: mpsc::Sender<Command>,
    pub(crate) reader: LogReadHandle,
    index: Option<IndexReader>,
    pub(crate) metrics: Metrics,
    pub(crate) stopping: watch::Sender<bool>,
    in_flight: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    /// Entry bundles being built (each up to 16.7 MB): a few at a time.
    pub(crate) bundles: Semaphore,
    pub(crate) data: std::path::PathBuf,
}

impl Shared {
    /// Starts the writer thread over `store`, publishing the first snapshot.
    pub(crate) fn start(
        store: Store,
        sequencer: Sequencer,
        log_key: Keypair,
        limits: crate::server::Limits,
        witnesses: Option<crate::tlog::WitnessPolicy>,
    ) -> Result<(Arc<Self>, std::thread::JoinHandle<()>), StartError> {
        let reader = store.reader();
        let index = store.index_reader();
        let data = store.dir().to_owned();
        let writer = Writer::new(store, sequencer, SystemClock);
        let first = publishable(&writer, &log_key);
        // Without witnesses the log's own checkpoint is served at once; with
        // them, the one kept from the last run if it meets the quorum, until
        // the witness task gathers cosignatures for a newer one.
        let served = match &witnesses {
            None => first.checkpoint().cloned(),
            Some(policy) => {
                let genesis = first.view.genesis();
                let kept = std::fs::read_to_string(data.join(crate::tlog::CHECKPOINT_FILE)).ok();
                let policy = genesis.origin.as_ref().map(|origin| policy.policy(origin, &genesis.log_key));
                kept.filter(|note| policy.is_some_and(|p| p.verify(note).is_ok())).map(Arc::from)
            }
        };
        let (queue, receiver) = mpsc::channel(QUEUE_MAX);
        let shared = Arc::new(Self {
            limits,
            served: watch::channel(served).0,
            witnesses,
            data,
            snapshots: watch::channel(Arc::new(first)).0,
            queue,
            reader,
            index,
            metrics: Metrics::new(),
            stopping: watch::channel(false).0,
            in_flight: Arc::new(Semaphore::new(limits.in_flight)),
            streams: Arc::new(Semaphore::new(limits.streams)),
            bundles: Semaphore::new(crate::tlog::BUNDLES_AT_ONCE),
        });
        let for_writer = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("dauys-writer".into())
            .spawn(move || {
                // The writer is the only path to the log: if it ever panics,
                // stop the whole node rather than serve reads while refusing
                // every write. A restart recovers exactly what is durable.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    write_loop(&for_writer, writer, &log_key, receiver)
                }));
                if outcome.is_err() {
                    tracing::error!("the writer panicked; stopping the node");
                    std::process::abort();
                }
            })
            .map_err(StartError::Thread)?;
        Ok((shared, handle))
    }

    /// The node's limits.
    pub fn limits(&self) -> crate::server::Limits {
        self.limits
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshots.borrow())
    }

    pub(crate) fn begin_stopping(&self) {
        self.stopping.send_replace(true);
    }

    pub(crate) fn stop_writer(&self) {
        // The queue may be full; the writer drains it and then sees Stop.
        let queue = self.queue.clone();
        std::thread::spawn(move || {
            let _ = queue.blocking_send(Command::Stop);
        });
    }
}

fn health_text(health: &Health) -> String {
    match health {
        Health::Ok => "ok".to_owned(),
        Health::Failing { error, failures, .. } => format!("failing ({failures} in a row): {error}"),
        Health::Stopped(error) => format!("stopped: {error}; restart the node"),
    }
}

fn publishable(writer: &Writer<Store, SystemClock>, log_key: &Keypair) -> Snapshot {
    let view = writer.view();
    let root = writer.journal().root();
    let signed = match &view.genesis().origin {
        Some(origin) => {
            let checkpoint = dauys_core::tlog::Checkpoint { origin: origin.clone(), size: writer.size(), root };
            Signed::Checkpoint(Arc::from(checkpoint.sign(log_key)))
        }
        None => Signed::Head(signed_head(log_key, view.ledger_id(), writer.size(), &writer.head(), writer.time_ms())),
    };
    Snapshot::new(view, writer.size(), writer.head(), root, signed, health_text(writer.health()))
}

fn write_loop(
    shared: &Shared,
    mut writer: Writer<Store, SystemClock>,
    log_key: &Keypair,
    mut receiver: mpsc::Receiver<Command>,
) {
    let mut stop = false;
    while !stop {
        let Some(first) = receiver.blocking_recv() else { break };
        let mut jobs: Vec<Box<Job>> = Vec::new();
        let mut bytes = 0usize;
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Act(job) => {
                    bytes += job.payload_bytes;
                    jobs.push(job);
                }
                Command::Stop => stop = true,
            }
            if !stop && jobs.len() < BATCH_MAX && bytes < BATCH_PAYLOAD_BYTES_MAX {
                next = receiver.try_recv().ok();
            }
        }
        shared.metrics.queue_depth.set(i64::try_from(receiver.len()).unwrap_or(i64::MAX));
        if jobs.is_empty() {
            continue;
        }
        let size_before = writer.size();
        let health_before = health_text(writer.health());
        let (acts, replies): (Vec<Act>, Vec<_>) =
            jobs.into_iter().map(|job| (job.act, (job.reply, job.enqueued))).unzip();
        let started = Instant::now();
        let outcomes = writer.commit(&acts);
        // Only a batch that became durable moves what readers see.
        let grew = outcomes.iter().any(|o| matches!(o, Outcome::Accepted { .. }));
        if grew {
            shared.metrics.sync_seconds.observe(started.elapsed().as_secs_f64());
            shared.metrics.batch_size.observe((writer.size() - size_before) as f64);
            shared.metrics.entries_appended.inc_by(writer.size() - size_before);
            let snapshot = Arc::new(publishable(&writer, log_key));
            // The snapshot first: a client that reads the new checkpoint
            // finds its tiles already served.
            let checkpoint = snapshot.checkpoint().cloned();
            shared.snapshots.send_replace(snapshot);
            if shared.witnesses.is_none() {
                shared.served.send_replace(checkpoint);
            }
        } else if health_text(writer.health()) != health_before {
            let last = shared.snapshot();
            let health = health_text(writer.health());
            let snapshot =
                Snapshot::new(last.view.clone(), last.size, last.head, last.root, last.signed.clone(), health);
            shared.snapshots.send_replace(Arc::new(snapshot));
        }
        let published = grew.then(|| shared.snapshot());
        // Format 2: every accepted act's receipt, against the batch's
        // checkpoint, built here in one pass (the proofs share their hashes).
        let mut proofs: Vec<Option<Result<String, String>>> = vec![None; outcomes.len()];
        if let Some(Signed::Checkpoint(note)) = published.as_ref().map(|s| &s.signed) {
            let accepted: Vec<(usize, (u64, Vec<u8>))> = outcomes
                .iter()
                .enumerate()
                .filter_map(|(i, o)| match o {
                    Outcome::Accepted { position, entry, .. } => Some((i, (*position, entry.clone()))),
                    _ => None,
                })
                .collect();
            let size = published.as_ref().map_or(0, |s| s.size);
            let (slots, entries): (Vec<usize>, Vec<(u64, Vec<u8>)>) = accepted.into_iter().unzip();
            for (slot, proof) in slots.into_iter().zip(crate::tlog::receipts(&shared.reader, entries, size, note)) {
                proofs[slot] = Some(proof);
            }
        }
        for ((outcome, (reply, enqueued)), proof) in outcomes.into_iter().zip(replies).zip(proofs) {
            match &outcome {
                Outcome::Accepted { .. } => shared.metrics.append_seconds.observe(enqueued.elapsed().as_secs_f64()),
                Outcome::Refused(SequenceError::Rule(rejection)) => {
                    shared.metrics.rejections.get_or_create(&metrics::Code { code: rejection.code().to_owned() }).inc();
                }
                _ => {}
            }
            let _ = reply.send(Answer { outcome, snapshot: published.clone(), proof });
        }
    }
    if let Err(error) = writer.journal().close() {
        tracing::warn!(%error, "closing the index");
    }
}

/// An error answer: status, stable code, a sentence.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"code": self.code, "message": self.message}))).into_response()
    }
}

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { status, code, message: message.into() }
}

/// An error answer as a response.
pub(crate) fn problem(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    error(status, code, message).into_response()
}

/// The routes, with the in-flight cap and the request timeout.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
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
        .route("/v1/proof", get(crate::tlog::proof))
        .route("/tlog/checkpoint", get(crate::tlog::checkpoint))
        .route("/tlog/tile/{*path}", get(crate::tlog::tile))
        .route("/metrics", get(metrics::serve))
        .with_state(Arc::clone(&shared))
        .merge(crate::web::router())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT));
    let long =
        Router::new().route("/v1/export", get(export)).route("/v1/stream", get(stream)).with_state(Arc::clone(&shared));
    // Reads are public: mirrors and the saved page may fetch them from any
    // origin. Submissions need no cookies, so no credentials are allowed.
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    short
        .merge(long)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&shared), in_flight))
        .layer(cors)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
}

/// The global cap on requests in flight: beyond it, `503 overloaded` at once.
async fn in_flight(State(shared): State<Arc<Shared>>, request: Request, next: axum::middleware::Next) -> Response {
    let Ok(_permit) = Arc::clone(&shared.in_flight).try_acquire_owned() else {
        shared.metrics.rejections.get_or_create(&metrics::Code { code: "overloaded".to_owned() }).inc();
        return problem(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "too many requests in flight; retry shortly");
    };
    next.run(request).await
}

async fn not_found(uri: Uri) -> Response {
    problem(StatusCode::NOT_FOUND, "not_found", format!("no such resource: {}", uri.path()))
}

async fn method_not_allowed() -> Response {
    problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this resource does not accept that method")
}

/// Parses a query string, answering JSON 400 when it does not fit.
fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(uri).map(|q| q.0).map_err(|e| {
        error(StatusCode::BAD_REQUEST, "bad_query", format!("the query string does not fit: {}", e.body_text()))
    })
}

/// Reads a request body of at most `max` bytes within `timeout`.
async fn read_body(body: HttpBody, max: usize, timeout: Duration) -> Result<Bytes, Response> {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(body, max);
    match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => Err(problem(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {} s", timeout.as_secs()),
        )),
        Ok(Err(error)) if error.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a submission is at most {max} bytes"),
        )),
        Ok(Err(_)) => Err(problem(StatusCode::BAD_REQUEST, "body_unreadable", "the request body could not be read")),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
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

async fn submit(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let body = match read_body(request.into_body(), BODY_BYTES_MAX, shared.limits.body_timeout).await {
        Ok(body) => body,
        Err(response) => return response.into_response(),
    };
    let (submission, payload) = match parse_submission(&body) {
        Ok(parsed) => parsed,
        Err((status, code, message)) => {
            shared.metrics.rejections.get_or_create(&metrics::Code { code: code.to_owned() }).inc();
            return problem(status, code, message);
        }
    };
    // A secret ballot's proofs are checked here, on a blocking thread,
    // against the published snapshot's election key: never on the writer.
    // The writer gets the verdict either way, so the rules refuse a ballot
    // with a bad proof only after their earlier checks, in FORMAT.md's order.
    let mut checked = None;
    if matches!(&payload.body, Body::BallotCast { ballot: Ballot::Secret(_), .. }) {
        let (view, author, ballot) = (shared.snapshot().view.clone(), submission.author, payload.clone());
        let verdict = tokio::task::spawn_blocking(move || {
            dauys_core::secret::check_payload(view.ledger_id(), &author, &ballot, |r| view.ballot_key(r))
        })
        .await;
        if let Ok(Some(verdict)) = verdict {
            checked = Some(verdict.map_err(|problem| problem.to_string()));
        }
    }
    let (reply, answer) = oneshot::channel();
    let payload_bytes = submission.payload.len();
    let job = Job {
        act: Act { submission: submission.clone(), payload, checked },
        payload_bytes,
        enqueued: Instant::now(),
        reply,
    };
    if shared.queue.try_send(Command::Act(Box::new(job))).is_err() {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "queue_full", "the node is busy; retry shortly");
    }
    let Ok(answer) = answer.await else {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the node is stopping");
    };
    match answer.outcome {
        Outcome::Accepted { position, hash, time_ms, .. } => {
            let snapshot = answer.snapshot.unwrap_or_else(|| shared.snapshot());
            let mut receipt = Receipt { position, entry_hash: hash, time_ms, head: None, proof: None };
            match &snapshot.signed {
                Signed::Head(head) => receipt.head = Some(head.clone()),
                Signed::Checkpoint(_) => {
                    match answer.proof {
                        Some(Ok(text)) => receipt.proof = Some(text),
                        _ => return problem(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "proof_failed",
                            "the act is recorded, but its inclusion proof could not be read; fetch it from /v1/proof",
                        ),
                    }
                }
            }
            (StatusCode::CREATED, Json(receipt)).into_response()
        }
        Outcome::Refused(SequenceError::Rule(Rejection::DuplicatePayload { position })) => duplicate(position),
        Outcome::Refused(SequenceError::Rule(rejection @ Rejection::StaleNonce { .. })) => {
            // A resubmission of an act already in the log (after a lost
            // answer, say) is the same act: say where it is.
            let shared = Arc::clone(&shared);
            let found = tokio::task::spawn_blocking(move || find_same_act(&shared, &submission)).await.ok().flatten();
            match found {
                Some(position) => duplicate(position),
                None => refusal(&rejection),
            }
        }
        Outcome::Refused(SequenceError::Rule(rejection)) => refusal(&rejection),
        Outcome::Refused(SequenceError::Malformed(error)) => {
            problem(StatusCode::BAD_REQUEST, "malformed_payload", format!("payload: {error}"))
        }
        Outcome::Refused(error @ SequenceError::Clock { .. }) => {
            problem(StatusCode::SERVICE_UNAVAILABLE, "clock_out_of_range", error.to_string())
        }
        Outcome::Unavailable(message) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            format!("the act was not recorded: the node could not write its log ({message}); resubmit later"),
        ),
    }
}

fn duplicate(position: u64) -> Response {
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

fn refusal(rejection: &Rejection) -> Response {
    let details: serde_json::Map<String, serde_json::Value> =
        rejection.details().into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"code": rejection.code(), "message": rejection.to_string(), "details": details})),
    )
        .into_response()
}

/// The position of an entry by the same author with the very same payload,
/// among the author's latest 64 acts.
fn find_same_act(shared: &Shared, submission: &Submission) -> Option<u64> {
    let size = shared.snapshot().size;
    let (positions, _) = shared.index.as_ref()?.acts(&submission.author, None, 64).ok()?;
    positions.into_iter().filter(|&p| p < size).find(|&position| {
        shared
            .reader
            .read_range(position, 1, usize::MAX)
            .ok()
            .and_then(|mut e| e.pop())
            .and_then(|bytes| Entry::decode(&bytes).ok().map(|e| e.payload == submission.payload.as_slice()))
            .unwrap_or(false)
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Page {
    #[serde(default)]
    from: u64,
    limit: Option<u64>,
}

impl Page {
    /// The page's limit: 1..=PAGE_MAX (default 100).
    fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(100),
            Some(limit) if (1..=PAGE_MAX).contains(&limit) => Ok(limit),
            Some(limit) => Err(error(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("limit must be between 1 and {PAGE_MAX}, not {limit}"),
            )),
        }
    }
}

fn line_json(position: u64, bytes: &[u8]) -> serde_json::Value {
    json!({
        "position": position,
        "hash": hex::encode(sha256(bytes)),
        "entry": base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// Runs `work` on the blocking pool, turning a join failure into a 500.
async fn blocking(work: impl FnOnce() -> Response + Send + 'static) -> Response {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the request failed"))
}

async fn entries(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let page: Page = match query(&uri) {
        Ok(page) => page,
        Err(response) => return response.into_response(),
    };
    let limit = match page.limit() {
        Ok(limit) => limit,
        Err(response) => return response.into_response(),
    };
    let size = shared.snapshot().size;
    blocking(move || match shared.reader.read_range(page.from, limit.min(size.saturating_sub(page.from)), 1 << 20) {
        Ok(lines) => {
            let next = page.from + lines.len() as u64;
            let items: Vec<_> =
                lines.iter().enumerate().map(|(i, bytes)| line_json(page.from + i as u64, bytes)).collect();
            Json(json!({"entries": items, "next": (next < size).then_some(next), "size": size})).into_response()
        }
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, "read_failed", e.to_string()),
    })
    .await
}

/// A chunk of export lines from `from`, bounded in bytes.
fn export_chunk(reader: &LogReadHandle, from: u64, end: u64) -> std::io::Result<(String, u64)> {
    let lines = reader.read_range(from, (end - from).min(PAGE_MAX), CHUNK_BYTES)?;
    let mut text = String::new();
    for (i, bytes) in lines.iter().enumerate() {
        text.push_str(&export_line(from + i as u64, &sha256(bytes), bytes));
    }
    Ok((text, from + lines.len() as u64))
}

fn stream_permit(shared: &Shared) -> Result<OwnedSemaphorePermit, ApiError> {
    Arc::clone(&shared.streams).try_acquire_owned().map_err(|_| {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            format!("at most {} exports and streams at once", shared.limits.streams),
        )
    })
}

async fn export(State(shared): State<Arc<Shared>>) -> Response {
    let permit = match stream_permit(&shared) {
        Ok(permit) => permit,
        Err(response) => return response.into_response(),
    };
    let end = shared.snapshot().size;
    // Each chunk is read only when the client has taken the previous one.
    let stream = futures_util::stream::unfold((0u64, shared, permit), move |(from, shared, permit)| async move {
        if from >= end {
            return None;
        }
        let reader = shared.reader.clone();
        let chunk = tokio::task::spawn_blocking(move || export_chunk(&reader, from, end)).await;
        match chunk {
            Ok(Ok((text, next))) if next > from => Some((Ok(Bytes::from(text)), (next, shared, permit))),
            Ok(Ok(_)) => Some((Err(std::io::Error::other("the log ended early")), (end, shared, permit))),
            Ok(Err(e)) => Some((Err(e), (end, shared, permit))),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), (end, shared, permit))),
        }
    });
    ([(header::CONTENT_TYPE, "application/jsonl")], HttpBody::from_stream(stream)).into_response()
}

async fn stream(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct From {
        #[serde(default)]
        from: u64,
    }
    let from: From = match query(&uri) {
        Ok(from) => from,
        Err(response) => return response.into_response(),
    };
    let permit = match stream_permit(&shared) {
        Ok(permit) => permit,
        Err(response) => return response.into_response(),
    };
    let snapshots = shared.snapshots.subscribe();
    let stopping = shared.stopping.subscribe();
    let state = (shared, snapshots, stopping, from.from, permit);
    let events =
        futures_util::stream::unfold(state, |(shared, mut snapshots, mut stopping, from, permit)| async move {
            loop {
                if *stopping.borrow() {
                    return None;
                }
                let size = snapshots.borrow_and_update().size;
                if from < size {
                    let reader = shared.reader.clone();
                    let lines = tokio::task::spawn_blocking(move || {
                        reader.read_range(from, (size - from).min(PAGE_MAX), CHUNK_BYTES)
                    })
                    .await
                    .ok()?
                    .ok()?;
                    let events: Vec<Result<SseEvent, std::convert::Infallible>> = lines
                        .iter()
                        .enumerate()
                        .map(|(i, bytes)| {
                            let position = from + i as u64;
                            let line = export_line(position, &sha256(bytes), bytes);
                            Ok(SseEvent::default().id(position.to_string()).event("entry").data(line.trim_end()))
                        })
                        .collect();
                    let next = from + events.len() as u64;
                    return Some((futures_util::stream::iter(events), (shared, snapshots, stopping, next, permit)));
                }
                tokio::select! {
                    changed = snapshots.changed() => if changed.is_err() { return None },
                    _ = stopping.changed() => return None,
                }
            }
        });
    Sse::new(futures_util::StreamExt::flatten(events))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn head(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.snapshot().signed {
        Signed::Head(head) => Json(head.clone()).into_response(),
        Signed::Checkpoint(_) => problem(
            StatusCode::NOT_FOUND,
            "no_signed_head",
            "this format 2 ledger publishes checkpoints instead: /tlog/checkpoint",
        ),
    }
}

async fn genesis(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.snapshot();
    let view = &snapshot.view;
    let g = view.genesis();
    Json(json!({
        "format": view.version().number(),
        "ledger_id": hex::encode(view.ledger_id()),
        "jurisdiction": g.jurisdiction,
        "origin": g.origin,
        "commission_key": hex::encode(g.commission_key),
        "council_key": hex::encode(g.council_key),
        "log_key": hex::encode(g.log_key),
        "rules": g.rules,
    }))
    .into_response()
}

/// The overview: the ledger's identity, rules and counts, rendered once
/// per snapshot however many clients ask.
async fn summary(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.snapshot();
    let body = snapshot.overview.get_or_init(|| {
        let view = &snapshot.view;
        let g = view.genesis();
        let value = json!({
            "format": view.version().number(),
            "ledger_id": hex::encode(view.ledger_id()),
            "jurisdiction": g.jurisdiction,
            "origin": g.origin,
            "size": snapshot.size,
            "head": hex::encode(snapshot.head),
            "time_ms": view.time_ms(),
            "enrolled": view.enrolled(),
            "rules": g.rules,
            "commission_key": hex::encode(g.commission_key),
            "council_key": hex::encode(g.council_key),
            "log_key": hex::encode(g.log_key),
            "petitions": view.petitions().len(),
            "referendums": view.referendums().len(),
            "districts": view.districts().len(),
        });
        Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
    });
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

/// A page of items from a persistent vector, as JSON.
async fn page_of<T, V>(
    shared: Arc<Shared>,
    uri: Uri,
    field: &'static str,
    items: impl FnOnce(&Snapshot) -> imbl::Vector<T> + Send + 'static,
    view: impl Fn(&Snapshot, &T) -> V + Send + 'static,
) -> Response
where
    T: Clone + Send + Sync + 'static,
    V: serde::Serialize,
{
    let page: Page = match query(&uri) {
        Ok(page) => page,
        Err(response) => return response.into_response(),
    };
    let limit = match page.limit() {
        Ok(limit) => limit,
        Err(response) => return response.into_response(),
    };
    let snapshot = shared.snapshot();
    blocking(move || {
        let all = items(&snapshot);
        let total = all.len() as u64;
        let from = usize::try_from(page.from.min(total)).unwrap_or(usize::MAX);
        let items: Vec<V> =
            all.iter().skip(from).take(usize::try_from(limit).unwrap_or(0)).map(|t| view(&snapshot, t)).collect();
        let next = from as u64 + items.len() as u64;
        Json(json!({field: items, "next": (next < total).then_some(next), "total": total, "size": snapshot.size}))
            .into_response()
    })
    .await
}

async fn petitions(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    page_of(
        shared,
        uri,
        "petitions",
        |s| s.view.petitions().clone(),
        |s, p| petition_view(&s.view, p, s.view.time_ms()),
    )
    .await
}

async fn referendums(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    page_of(
        shared,
        uri,
        "referendums",
        |s| s.view.referendums().clone(),
        |s, r| referendum_view(&s.view, r, s.view.time_ms()),
    )
    .await
}

async fn districts(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    page_of(shared, uri, "districts", |s| s.view.districts().clone(), |_, d| d.clone()).await
}

fn parse_id(id: &str) -> Result<Hash, ApiError> {
    dauys_core::hexser::parse::<32>(id)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "malformed_id", "an id is 64 lowercase hex digits"))
}

async fn petition(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response.into_response(),
    };
    let snapshot = shared.snapshot();
    match snapshot.view.petition(&id) {
        Some(p) => Json(petition_view(&snapshot.view, p, snapshot.view.time_ms())).into_response(),
        None => problem(StatusCode::NOT_FOUND, "unknown_petition", "no such petition"),
    }
}

async fn referendum(State(shared): State<Arc<Shared>>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response.into_response(),
    };
    let snapshot = shared.snapshot();
    match snapshot.view.referendum(&id) {
        Some(r) => Json(referendum_view(&snapshot.view, r, snapshot.view.time_ms())).into_response(),
        None => problem(StatusCode::NOT_FOUND, "unknown_referendum", "no such referendum"),
    }
}

async fn acts(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct ActsQuery {
        key: String,
        before: Option<u64>,
        limit: Option<u64>,
    }
    let q: ActsQuery = match query(&uri) {
        Ok(q) => q,
        Err(response) => return response.into_response(),
    };
    let key = match dauys_core::hexser::parse::<32>(&q.key) {
        Ok(key) => key,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "malformed_key", e),
    };
    let limit = match (Page { from: 0, limit: q.limit }).limit() {
        Ok(limit) => limit,
        Err(response) => return response.into_response(),
    };
    let Some(index) = shared.index.clone() else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "index_unavailable",
            "acts by key are unavailable until restart",
        );
    };
    let size = shared.snapshot().size;
    blocking(move || {
        let before = Some(q.before.unwrap_or(size).min(size));
        let (positions, total) = match index.acts(&key, before, usize::try_from(limit).unwrap_or(0)) {
            Ok(found) => found,
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, "read_failed", e.to_string()),
        };
        let mut out = Vec::new();
        for &position in &positions {
            let Ok(Some(bytes)) = shared.reader.read_range(position, 1, usize::MAX).map(|mut e| e.pop()) else {
                continue;
            };
            let decoded = Entry::decode(&bytes).ok();
            let payload = decoded.as_ref().and_then(|e| Payload::decode(e.payload).ok());
            out.push(json!({
                "position": position,
                "hash": hex::encode(sha256(&bytes)),
                "kind": payload.as_ref().map(|p| p.body.kind().name()),
                "time_ms": decoded.map(|e| e.time_ms),
            }));
        }
        let next_before = (positions.len() as u64 == limit).then(|| positions.last().copied()).flatten();
        Json(json!({"key": q.key, "acts": out, "total": total, "next_before": next_before})).into_response()
    })
    .await
}

/// The size of the checkpoint served at `/tlog/checkpoint`, if any.
pub(crate) fn served_size(shared: &Shared) -> Option<u64> {
    shared.served.borrow().as_deref().and_then(|note| {
        dauys_core::tlog::Checkpoint::parse_text(note.split("\n\n").next().map(|t| format!("{t}\n")).as_deref()?)
            .ok()
            .map(|c| c.size)
    })
}

async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let snapshot = shared.snapshot();
    let ok = snapshot.health == "ok";
    let served = served_size(&shared);
    let body = json!({
        "status": if ok { "ok" } else { "degraded" },
        "entries": snapshot.size,
        "checkpoint_size": served,
        "writer": snapshot.health,
        "in_flight": shared.limits.in_flight - shared.in_flight.available_permits(),
        "streams": shared.limits.streams - shared.streams.available_permits(),
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body)).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json")).into_response()
}

pub(crate) fn metrics_of(shared: &Shared) -> &Metrics {
    &shared.metrics
}
