//! `dauys witness`: a transparency-log witness (C2SP tlog-witness) in the
//! same binary, for a neighbouring commission or an observer NGO to run.
//!
//! It cosigns (C2SP tlog-cosignature, Ed25519, type 0x04) a checkpoint only
//! after checking it is signed by the log's key and consistent with the last
//! checkpoint it cosigned for that origin, and it records the new checkpoint
//! durably (a new file, synced, renamed, directory synced) before it answers,
//! under one lock, so two requests can never roll its view back.
//!
//! The data directory holds `witness.key` (0600), `witness.toml` (its name
//! and the logs it witnesses: origin and verifier key) and `state/`, one
//! file per origin with the size and root it last cosigned.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dauys_core::tlog::{self, Checkpoint, Policy, VerifierKey, EMPTY_HASH};
use dauys_core::{Hash, Keypair};
use signed_note::Note;

const KEY: &str = "witness.key";
const CONFIG: &str = "witness.toml";
const STATE: &str = "state";
/// Evidence files kept per log.
const EVIDENCE_MAX: usize = 100;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    name: String,
    #[serde(default)]
    log: Vec<LogEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LogEntry {
    origin: String,
    key: String,
}

/// A witness: its name and key, the logs it knows, its state on disk.
pub struct Witness {
    name: String,
    key: Keypair,
    logs: HashMap<String, VerifierKey>,
    dir: PathBuf,
    /// Checking a request against the state and recording the new state
    /// happen under this lock, as one step.
    lock: Mutex<()>,
}

/// What `add-checkpoint` answers: status, content type, body.
pub type Answer = (StatusCode, &'static str, String);

fn text(status: StatusCode, body: impl Into<String>) -> Answer {
    (status, "text/plain; charset=utf-8", body.into())
}

/// `dauys witness init`: a key and a configuration with no logs yet.
pub fn init(dir: &Path, name: &str) -> anyhow::Result<ExitCode> {
    if !signed_note::is_key_name_valid(name) {
        anyhow::bail!("a witness name has no spaces and no `+`, e.g. witness.example.org/w1");
    }
    std::fs::create_dir_all(dir.join(STATE)).with_context(|| format!("creating {}", dir.display()))?;
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    let key = Keypair::from_seed(&seed);
    crate::setup::write_key(&dir.join(KEY), &key)?;
    let config = format!(
        "# The witness's name (its key name in cosignatures).\nname = \"{name}\"\n\n\
         # Each log to witness: its origin and its verifier key (`dauys log-key URL`).\n\
         # [[log]]\n# origin = \"saryagash.example.kz/ledger\"\n# key = \"saryagash.example.kz/ledger+1a2b3c4d+AQ...\"\n"
    );
    dauys_store::dir::write_durably(dir, CONFIG, config.as_bytes(), 0o644)?;
    println!("{}", vkey(name, &key));
    Ok(ExitCode::SUCCESS)
}

fn vkey(name: &str, key: &Keypair) -> String {
    VerifierKey { name: name.to_owned(), signature_type: tlog::SIGNATURE_COSIGNATURE, public: key.public() }.encode()
}

fn state_file(origin: &str) -> String {
    hex::encode(dauys_core::sha256(origin.as_bytes()))
}

impl Witness {
    /// Loads the witness in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let key = crate::setup::read_key(&dir.join(KEY))?;
        let text = std::fs::read_to_string(dir.join(CONFIG)).with_context(|| format!("reading {CONFIG}"))?;
        let config: Config = toml::from_str(&text).with_context(|| format!("parsing {CONFIG}"))?;
        let mut logs = HashMap::new();
        for log in config.log {
            let key = VerifierKey::parse(&log.key).map_err(|e| anyhow::anyhow!("log {}: {e}", log.origin))?;
            if key.signature_type != tlog::SIGNATURE_ED25519 || key.name != log.origin {
                anyhow::bail!("log {}: its key must be an Ed25519 key (type 01) named by the origin", log.origin);
            }
            logs.insert(log.origin, key);
        }
        // The state is what makes a witness worth asking: if it is gone (an
        // unmounted volume, a restore that left it out), starting from zero
        // would cosign any history. `init` creates it; only a person
        // recreates it.
        if !dir.join(STATE).is_dir() {
            anyhow::bail!(
                "{} is missing: the witness would forget every checkpoint it cosigned. Restore it; to start \
                 over on purpose, create the empty directory",
                dir.join(STATE).display()
            );
        }
        Ok(Self { name: config.name, key, logs, dir: dir.to_owned(), lock: Mutex::new(()) })
    }

    /// The witness's verifier key.
    pub fn vkey(&self) -> String {
        vkey(&self.name, &self.key)
    }

    fn load(&self, origin: &str) -> Result<(u64, Hash), String> {
        match std::fs::read_to_string(self.dir.join(STATE).join(state_file(origin))) {
            Ok(text) => {
                let checkpoint = Checkpoint::parse_text(&text).map_err(|e| e.to_string())?;
                Ok((checkpoint.size, checkpoint.root))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, EMPTY_HASH.0)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `add-checkpoint`, exactly as C2SP tlog-witness specifies it, with
    /// the time of the cosignature in seconds since the epoch.
    pub fn add_checkpoint(&self, body: &str, now_seconds: u64) -> Answer {
        let Ok((old, proof, note)) = tlog::parse_add_checkpoint(body) else {
            return text(StatusCode::BAD_REQUEST, "malformed add-checkpoint request\n");
        };
        let Ok(parsed) = Note::from_bytes(note.as_bytes()) else {
            return text(StatusCode::BAD_REQUEST, "malformed checkpoint note\n");
        };
        let Ok(checkpoint) =
            std::str::from_utf8(parsed.text()).map_err(|_| ()).and_then(|t| Checkpoint::parse_text(t).map_err(|_| ()))
        else {
            return text(StatusCode::BAD_REQUEST, "malformed checkpoint\n");
        };
        let Some(log_key) = self.logs.get(&checkpoint.origin) else {
            return text(StatusCode::NOT_FOUND, "unknown log origin\n");
        };
        let policy = Policy { log: log_key.clone(), witnesses: Vec::new(), quorum: 0 };
        if policy.verify(&note).is_err() {
            return text(StatusCode::FORBIDDEN, "the checkpoint is not validly signed by the log's key\n");
        }
        if old > checkpoint.size {
            return text(StatusCode::BAD_REQUEST, "the old size is larger than the checkpoint's\n");
        }
        let Ok(_guard) = self.lock.lock() else {
            return text(StatusCode::INTERNAL_SERVER_ERROR, "lock poisoned\n");
        };
        let (size, root) = match self.load(&checkpoint.origin) {
            Ok(state) => state,
            Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("reading the state: {e}\n")),
        };
        if old != size {
            return (StatusCode::CONFLICT, "text/x.tlog.size", format!("{size}\n"));
        }
        let keep_evidence = |why: &str| {
            tracing::warn!(origin = %checkpoint.origin, old, new = checkpoint.size, "{why}: the request is kept as evidence");
            // One file per (log, size, root), and at most EVIDENCE_MAX per
            // log: a log key signing forks endlessly cannot fill the disk.
            let prefix = format!("evidence-{}-", state_file(&checkpoint.origin));
            let evidence = format!("{prefix}{}-{}.txt", checkpoint.size, hex::encode(&checkpoint.root[..8]));
            let kept = std::fs::read_dir(&self.dir)
                .map(|entries| {
                    entries
                        .filter(|e| e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().starts_with(&prefix)))
                        .count()
                })
                .unwrap_or(0);
            if kept < EVIDENCE_MAX && !self.dir.join(&evidence).exists() {
                let _ = dauys_store::dir::write_durably(&self.dir, &evidence, body.as_bytes(), 0o644);
            }
        };
        if checkpoint.size == size && checkpoint.root != root {
            // Same size, another root: a fork, answered as the spec says.
            keep_evidence("a checkpoint of the size cosigned with another root");
            return text(StatusCode::CONFLICT, "a checkpoint of this size with another root was cosigned\n");
        }
        if tlog::check_consistency(&proof, old, &root, checkpoint.size, &checkpoint.root).is_err() {
            keep_evidence("an inconsistent checkpoint");
            return text(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the checkpoint is not consistent with the one I cosigned\n",
            );
        }
        // Recorded durably before the answer: a crash after this line and
        // before the answer leaves a witness that holds the new size, and a
        // retry with it is answered again.
        let record = checkpoint.text();
        if let Err(e) = dauys_store::dir::write_durably(
            &self.dir.join(STATE),
            &state_file(&checkpoint.origin),
            record.as_bytes(),
            0o644,
        ) {
            return text(StatusCode::INTERNAL_SERVER_ERROR, format!("recording the checkpoint: {e}\n"));
        }
        text(StatusCode::OK, tlog::cosign(&self.name, &self.key, &record, now_seconds))
    }
}

fn now_seconds() -> u64 {
    dauys_node::now_ms() / 1000
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let answer = tokio::task::spawn_blocking(move || witness.add_checkpoint(&body, now_seconds())).await;
    match answer {
        Ok((status, content_type, body)) => (status, [(header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response(),
    }
}

/// `dauys witness serve`.
pub fn serve(dir: &Path, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    let witness = Arc::new(Witness::open(dir)?);
    let _lock = dauys_store::dir::lock(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        let address = listener.local_addr()?;
        println!("dauys witness {} ({} logs) serving at http://{address}/", witness.name, witness.logs.len());
        println!("{}", witness.vkey());
        use std::io::Write as _;
        std::io::stdout().flush()?;
        let info = format!("dauys witness {}\n{}\n", witness.name, witness.vkey());
        let router = axum::Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .route("/", get(move || async move { info }))
            .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
            .with_state(witness);
        axum::serve(listener, router).with_graceful_shutdown(crate::setup::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

    use super::*;
    use dauys_core::tlog::{Frontier, MemoryHashes};

    const ORIGIN: &str = "log.example/test";
    const NOW: u64 = 1_800_000_000;

    /// A log: its key and the stored hashes of its tree.
    struct Log {
        key: Keypair,
        frontier: Frontier,
        hashes: MemoryHashes,
    }

    impl Log {
        fn new(seed: u8) -> Self {
            Self { key: Keypair::from_seed(&[seed; 32]), frontier: Frontier::new(), hashes: MemoryHashes::default() }
        }

        fn grow(&mut self, entries: u64, tag: &str) {
            for i in 0..entries {
                let hashes = self.frontier.push(format!("{tag} {i}").as_bytes());
                self.hashes.0.extend(hashes);
            }
        }

        fn checkpoint(&self) -> Checkpoint {
            Checkpoint { origin: ORIGIN.into(), size: self.frontier.size(), root: self.frontier.root() }
        }

        fn note(&self) -> String {
            self.checkpoint().sign(&self.key)
        }

        /// An add-checkpoint body from `old` to the current size.
        fn request(&self, old: u64) -> String {
            let proof = tlog::prove_consistency(self.frontier.size(), old, &self.hashes).unwrap();
            tlog::add_checkpoint_body(old, &proof, &self.note())
        }

        fn vkey(&self) -> VerifierKey {
            VerifierKey { name: ORIGIN.into(), signature_type: tlog::SIGNATURE_ED25519, public: self.key.public() }
        }
    }

    fn witness(dir: &Path, log: &Log) -> Witness {
        if !dir.join(KEY).exists() {
            init(dir, "witness.example/w1").unwrap();
            let config = format!(
                "name = \"witness.example/w1\"\n[[log]]\norigin = \"{ORIGIN}\"\nkey = \"{}\"\n",
                log.vkey().encode()
            );
            std::fs::write(dir.join(CONFIG), config).unwrap();
        }
        Witness::open(dir).unwrap()
    }

    fn cosigned(witness: &Witness, log: &Log, answer: &Answer) -> bool {
        let key = VerifierKey::parse(&witness.vkey()).unwrap();
        let policy = Policy { log: log.vkey(), witnesses: vec![key], quorum: 1 };
        answer.0 == StatusCode::OK && policy.verify(&format!("{}{}", log.note(), answer.2)).is_ok()
    }

    #[test]
    fn cosigns_a_log_as_it_grows_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::new(1);
        log.grow(5, "a");
        let w = witness(dir.path(), &log);
        let first = w.add_checkpoint(&log.request(0), NOW);
        assert!(cosigned(&w, &log, &first), "{first:?}");
        log.grow(300, "b");
        let second = w.add_checkpoint(&log.request(5), NOW + 1);
        assert!(cosigned(&w, &log, &second), "{second:?}");
        // The same checkpoint again, from the size it holds: cosigned again.
        let again = w.add_checkpoint(&log.request(305), NOW + 2);
        assert!(cosigned(&w, &log, &again), "{again:?}");
    }

    #[test]
    fn answers_each_refusal_with_the_status_the_spec_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::new(1);
        log.grow(10, "a");
        let w = witness(dir.path(), &log);
        assert_eq!(w.add_checkpoint(&log.request(0), NOW).0, StatusCode::OK);
        log.grow(10, "b");

        // Unknown origin: 404.
        let mut other = Log::new(2);
        other.grow(3, "x");
        let unknown = other.request(0).replace(ORIGIN, "other.example/log");
        assert_eq!(w.add_checkpoint(&unknown, NOW).0, StatusCode::NOT_FOUND);
        // Signed by another key under this origin: 403.
        let mut impostor = Log::new(3);
        impostor.grow(20, "a");
        assert_eq!(w.add_checkpoint(&impostor.request(10), NOW).0, StatusCode::FORBIDDEN);
        // An old size above the checkpoint's: 400.
        let body = log.request(10).replacen("old 10\n", "old 21\n", 1);
        assert_eq!(w.add_checkpoint(&body, NOW).0, StatusCode::BAD_REQUEST);
        // Not a request at all: 400.
        assert_eq!(w.add_checkpoint("hello", NOW).0, StatusCode::BAD_REQUEST);
        // A stale old size: 409 with the size held, as text/x.tlog.size.
        let conflict = w.add_checkpoint(&log.request(4), NOW);
        assert_eq!(conflict, (StatusCode::CONFLICT, "text/x.tlog.size", "10\n".to_owned()));
        // A proof that does not verify: 422.
        let body = log.request(10);
        let (head, note) = body.split_once("\n\n").unwrap();
        let mut lines: Vec<String> = head.lines().map(str::to_owned).collect();
        lines[1] = lines[2].clone();
        let broken = format!("{}\n\n{note}", lines.join("\n"));
        assert_eq!(w.add_checkpoint(&broken, NOW).0, StatusCode::UNPROCESSABLE_ENTITY);
        // After all that, the real one is still cosigned from 10.
        assert!(cosigned(&w, &log, &w.add_checkpoint(&log.request(10), NOW)));
    }

    #[test]
    fn refuses_a_fork_and_keeps_the_request_as_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::new(1);
        log.grow(100, "shared");
        let w = witness(dir.path(), &log);
        assert_eq!(w.add_checkpoint(&log.request(0), NOW).0, StatusCode::OK);
        // The same key signs two histories after entry 100.
        let mut fork = Log::new(1);
        fork.grow(100, "shared");
        fork.grow(50, "for the observer");
        log.grow(50, "for the citizens");
        assert_eq!(w.add_checkpoint(&log.request(100), NOW).0, StatusCode::OK);
        // The fork, with a valid proof from 100 (its own history): 409,
        // since the witness holds 150 now; from 150, not consistent: 422.
        assert_eq!(w.add_checkpoint(&fork.request(100), NOW).0, StatusCode::CONFLICT);
        let same_size = w.add_checkpoint(&fork.request(150), NOW);
        assert_eq!(same_size.0, StatusCode::CONFLICT, "same size, another root: {same_size:?}");
        fork.grow(10, "more");
        let proof = tlog::prove_consistency(160, 150, &fork.hashes).unwrap();
        let longer = tlog::add_checkpoint_body(150, &proof, &fork.note());
        assert_eq!(w.add_checkpoint(&longer, NOW).0, StatusCode::UNPROCESSABLE_ENTITY);
        let evidence = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("evidence-"))
            .count();
        assert_eq!(evidence, 2, "the same-size fork and the inconsistent one are kept");
        // The witness still holds the citizens' history.
        log.grow(1, "next");
        assert!(cosigned(&w, &log, &w.add_checkpoint(&log.request(150), NOW)));
    }

    #[test]
    fn a_witness_without_its_state_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::new(1);
        log.grow(3, "a");
        let w = witness(dir.path(), &log);
        assert_eq!(w.add_checkpoint(&log.request(0), NOW).0, StatusCode::OK);
        drop(w);
        // The state is lost (an unmounted volume): starting from zero would
        // cosign any history.
        std::fs::remove_dir_all(dir.path().join(STATE)).unwrap();
        let refused = Witness::open(dir.path()).err().unwrap().to_string();
        assert!(refused.contains("would forget every checkpoint"), "{refused}");
    }

    #[test]
    fn a_crash_between_recording_and_answering_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = Log::new(1);
        log.grow(7, "a");
        {
            let w = witness(dir.path(), &log);
            assert_eq!(w.add_checkpoint(&log.request(0), NOW).0, StatusCode::OK);
            log.grow(9, "b");
            // Recorded, then the process dies: the answer never leaves.
            let _lost = w.add_checkpoint(&log.request(7), NOW);
        }
        let w = witness(dir.path(), &log);
        // The log retries from the size it knew: told the size held...
        let retry = w.add_checkpoint(&log.request(7), NOW + 5);
        assert_eq!(retry, (StatusCode::CONFLICT, "text/x.tlog.size", "16\n".to_owned()));
        // ...and from that size, the same checkpoint is cosigned.
        assert!(cosigned(&w, &log, &w.add_checkpoint(&log.request(16), NOW + 6)));
        // A request that was checked against the old state cannot roll it
        // back: it finds the new size.
        assert_eq!(w.add_checkpoint(&log.request(7), NOW + 7).0, StatusCode::CONFLICT);
    }
}
