//! The commission's node: refuses every act the rules forbid, never loses
//! an acknowledged act, and lets anyone read and follow the ledger.
//!
//! - [`writer`]: one thread owns the store and the sequencing step. It
//!   drains the submission queue in batches, decides each act with the rule
//!   core, makes the accepted ones durable with one append (group commit),
//!   signs the new head, publishes a [`Snapshot`], and only then answers.
//! - [`api`]: the HTTP handlers. They check what needs no state (JSON,
//!   base64, payload bytes, the signature) on the async workers and read
//!   only published snapshots and committed log bytes: no request ever
//!   waits for the writer's state.
//! - [`server`]: the listener. One cap on connections, one on requests in
//!   flight, one on streams; header, body and stalled-write timeouts;
//!   graceful shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use dauys_core::{Hash, Keypair, LedgerView, SignedHead};

pub mod api;
mod metrics;
pub mod server;
pub mod sim;
pub mod tlog;
mod web;
pub mod writer;

pub use api::{parse_submission, submission_json, Receipt};
pub use metrics::Metrics;
pub use web::is_built as web_verifier_built;

/// Largest request body accepted by `POST /v1/events`.
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// Acts waiting for the writer.
pub const QUEUE_MAX: usize = 8_192;
/// Acts decided in one batch (one sync).
pub const BATCH_MAX: usize = 4_096;
/// Bytes of payload decided in one batch.
pub const BATCH_PAYLOAD_BYTES_MAX: usize = 4 << 20;
/// Entries per page of `GET /v1/entries`, and of petitions, referendums,
/// districts and acts.
pub const PAGE_MAX: u64 = 1_000;

/// The secret key file of the node's log key inside the data directory.
pub fn log_key_path(data: &Path) -> PathBuf {
    data.join("log.key")
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

/// What the writer publishes after every batch: everything a reader may
/// see, consistent as of one entry. Cloning the view is constant time.
#[derive(Debug)]
pub struct Snapshot {
    /// The ledger as citizens read it.
    pub view: LedgerView,
    /// Entries durable.
    pub size: u64,
    /// Hash of the last entry.
    pub head: Hash,
    /// The root of the RFC 6962 tree over the durable entries.
    pub root: Hash,
    /// What the log key signed about this size: the signed head (format 1)
    /// or the checkpoint note (format 2).
    pub signed: Signed,
    /// The writer's health, in words (`ok`, or why it is not).
    pub health: String,
    overview: std::sync::OnceLock<axum::body::Bytes>,
}

/// The log key's statement about a size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// Format 1: the `DAUYSHED` signed head.
    Head(SignedHead),
    /// Format 2: a C2SP checkpoint signed as a note.
    Checkpoint(Arc<str>),
}

impl Snapshot {
    fn new(view: LedgerView, size: u64, head: Hash, root: Hash, signed: Signed, health: String) -> Self {
        Self { view, size, head, root, signed, health, overview: std::sync::OnceLock::new() }
    }

    /// The checkpoint note (format 2 ledgers).
    pub fn checkpoint(&self) -> Option<&Arc<str>> {
        match &self.signed {
            Signed::Checkpoint(note) => Some(note),
            Signed::Head(_) => None,
        }
    }
}

/// Signs the head of a log of `size` entries.
pub fn signed_head(log_key: &Keypair, ledger_id: &Hash, size: u64, head: &Hash, time_ms: u64) -> SignedHead {
    let signature = log_key.sign(&SignedHead::message(ledger_id, size, head, time_ms));
    SignedHead { ledger_id: *ledger_id, size, head_hash: *head, time_ms, signature }
}

/// Why the node failed to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] dauys_store::StoreError),
    /// The log key is missing, unreadable, or not the genesis's.
    #[error("log key {path}: {problem}")]
    LogKey {
        /// Path.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The log on disk does not replay under the rules.
    #[error("the log does not replay: {0}")]
    Replay(String),
    /// The writer thread could not start.
    #[error("starting the writer: {0}")]
    Thread(std::io::Error),
    /// The log does not contain the checkpoint the node published.
    #[error("{0}")]
    Fork(String),
}

pub use dauys_core::crypto::{is_secret_key_text, SECRET_KEY_HEADER};

/// The content of a secret key file: the header, a warning, the seed.
pub fn secret_key_text(keypair: &Keypair) -> String {
    keypair.to_key_text()
}

/// Reads a secret key file written by [`secret_key_text`]. Errors name the
/// problem, never the content.
pub fn read_key_file(path: &Path) -> Result<Keypair, String> {
    let text = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8(text).map_err(|_| "the key file is not text".to_owned())?;
    Keypair::from_key_text(&text)
}

/// The running node.
pub struct Node {
    shared: Arc<api::Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Node {
    /// Opens the data directory (taking its lock), re-reads and replays the
    /// log in one pass, and starts the writer thread, under `limits`.
    pub fn open(
        data: &Path,
        limits: server::Limits,
        witnesses: Option<tlog::WitnessPolicy>,
    ) -> Result<Self, StartError> {
        let key_path = log_key_path(data);
        let started = std::time::Instant::now();
        let mut verifier = dauys_core::ChainVerifier::new();
        let (store, recovery) = dauys_store::Store::open(data, |_, entry| {
            // Signatures were verified before these entries were written, and
            // the store checks every checksum and link as it reads.
            verifier
                .check(&dauys_core::verify::prepare_entry_presigned(entry.to_vec()))
                .map_err(|failure| failure.to_string())
        })?;
        if recovery != dauys_store::Recovery::default() {
            tracing::warn!(?recovery, "recovered the store");
        }
        let sequencer = verifier.into_sequencer().ok_or_else(|| StartError::Replay("no genesis".into()))?;
        tracing::info!(
            entries = sequencer.size(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "replayed the log"
        );
        let log_key = read_key_file(&key_path)
            .map_err(|problem| StartError::LogKey { path: key_path.display().to_string(), problem })?;
        if sequencer.ledger().genesis().log_key != log_key.public() {
            return Err(StartError::LogKey {
                path: key_path.display().to_string(),
                problem: "does not match the log key published in genesis".into(),
            });
        }
        tlog::check_published(data, store.len(), store.reader().tree()).map_err(StartError::Fork)?;
        let (shared, writer) = api::Shared::start(store, sequencer, log_key, limits, witnesses)?;
        Ok(Self { shared, writer: Some(writer) })
    }

    /// The HTTP routes.
    pub fn router(&self) -> axum::Router {
        api::router(Arc::clone(&self.shared))
    }

    /// Serves on `listener` until `shutdown` resolves, then drains requests,
    /// stops the writer and closes the store.
    pub async fn serve(
        mut self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Fitted now that the store, the index and the runtime hold their
        // descriptors.
        let limits = self.shared.limits().fitted();
        tracing::info!(?limits, "limits");
        tlog::spawn_witness_task(Arc::clone(&self.shared));
        let shared = Arc::clone(&self.shared);
        let shutdown = async move {
            shutdown.await;
            shared.begin_stopping();
        };
        let result = server::serve(listener, self.router(), limits, shutdown).await;
        self.shared.stop_writer();
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        // The checkpoint served last is kept, whatever the keeping task had
        // time to write.
        let served = self.shared.served.borrow().clone();
        if let Some(note) = served {
            let data = self.shared.data.clone();
            let _ = tokio::task::spawn_blocking(move || tlog::keep_served(&data, &note)).await;
        }
        result
    }

    /// Entries in the log.
    pub fn size(&self) -> u64 {
        self.shared.snapshot().size
    }
}
