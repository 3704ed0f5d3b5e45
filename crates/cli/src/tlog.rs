//! The command line's side of the transparency log: the log's verifier key,
//! offline receipt checks with a witness policy, consistency with a newer
//! checkpoint from a few tiles, the file of checkpoints seen, and a static
//! mirror of the tiles for any web server.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use dauys_core::tlog::{self, Checkpoint, Fork, Policy, Receipt, Tile, VerifierKey, TILE_WIDTH};
use dauys_core::{Entry, Hash, Payload};

/// The log's verifier key from a node URL or a data directory.
pub fn log_key(source: &str) -> anyhow::Result<VerifierKey> {
    let (origin, public) = if crate::is_url(source) {
        let genesis: serde_json::Value = crate::http_get(&format!("{}/v1/genesis", source.trim_end_matches('/')))
            .and_then(|r| Ok(serde_json::from_reader(r)?))?;
        let origin = genesis["origin"].as_str().map(str::to_owned);
        let key = dauys_core::hexser::parse::<32>(genesis["log_key"].as_str().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("log_key: {e}"))?;
        (origin, key)
    } else {
        let reader = dauys_store::reader::LedgerReader::open(Path::new(source))?;
        let mut genesis = None;
        let _ = reader.for_each(|_, entry| {
            genesis = Some(entry.to_vec());
            Err(())
        });
        let bytes = genesis.ok_or_else(|| anyhow::anyhow!("{source} holds no genesis"))?;
        let entry = Entry::decode(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
        let payload = Payload::decode(entry.payload).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dauys_core::Body::LedgerOpened(g) = payload.body else { bail!("entry 0 is not a genesis") };
        (g.origin, g.log_key)
    };
    let origin = origin.ok_or_else(|| anyhow::anyhow!("this ledger is of format 1: it has no checkpoint origin"))?;
    Ok(VerifierKey { name: origin, signature_type: tlog::SIGNATURE_ED25519, public })
}

/// Whom an observer trusts beyond the log key (witnesses, a quorum), and
/// where it keeps the checkpoints it has seen.
#[derive(Debug, Clone)]
pub struct Trust {
    /// Witness keys (type 0x04).
    pub witnesses: Vec<VerifierKey>,
    /// How many of them must have cosigned a checkpoint.
    pub quorum: usize,
    /// The file of checkpoints seen.
    pub seen: PathBuf,
}

impl Trust {
    /// From the command line's witness keys, quorum and seen file.
    pub fn new(witnesses: &[String], quorum: usize, seen: Option<PathBuf>) -> anyhow::Result<Self> {
        let witnesses = witnesses
            .iter()
            .map(|w| VerifierKey::parse(w).map_err(|e| anyhow::anyhow!("--witness: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if witnesses.iter().any(|w| w.signature_type != tlog::SIGNATURE_COSIGNATURE) {
            bail!("--witness takes a witness's cosignature key (type 04), as `dauys witness init` prints it");
        }
        if quorum > witnesses.len() {
            bail!("a quorum of {quorum} needs at least {quorum} --witness keys");
        }
        Ok(Self { witnesses, quorum, seen: seen.unwrap_or_else(Seen::default_path) })
    }

    /// The policy for the log with key `log`.
    pub fn policy(&self, log: VerifierKey) -> Policy {
        Policy { log, witnesses: self.witnesses.clone(), quorum: self.quorum }
    }
}

/// The log's verifier key from `--log-key`.
pub fn parse_log_key(text: &str) -> anyhow::Result<VerifierKey> {
    let log = VerifierKey::parse(text).map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
    if log.signature_type != tlog::SIGNATURE_ED25519 {
        bail!("--log-key must be the log's Ed25519 key (type 01), as `dauys log-key` prints it");
    }
    Ok(log)
}

/// Reads tiles of a log over HTTP (a node's `/tlog/` or a static mirror),
/// for `tlog_tiles`' tile hash reader, which checks them against a root.
pub struct HttpTiles {
    base: String,
    agent: ureq::Agent,
    /// Tiles fetched, for the report.
    pub fetched: std::cell::Cell<usize>,
}

impl HttpTiles {
    /// Tiles under `base` (the prefix that holds `checkpoint` and `tile/`).
    pub fn new(base: &str) -> Self {
        Self { base: base.trim_end_matches('/').to_owned(), agent: ureq::agent(), fetched: std::cell::Cell::new(0) }
    }

    fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let response =
            self.agent.get(&format!("{}/{path}", self.base)).call().with_context(|| format!("GET {path}"))?;
        let mut bytes = Vec::new();
        // The largest entry bundle: 256 entries of 65,535 bytes, each with
        // its 2-byte length.
        response.into_reader().take(256 * 65_537).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// The checkpoint note.
    pub fn checkpoint(&self) -> anyhow::Result<String> {
        String::from_utf8(self.get("checkpoint")?).map_err(|_| anyhow::anyhow!("the checkpoint is not UTF-8"))
    }
}

impl tlog_tiles::TileReader for HttpTiles {
    fn height(&self) -> u8 {
        tlog::TILE_HEIGHT
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                let tile = Tile { level: Some(t.level()), index: t.level_index(), width: u64::from(t.width()) };
                self.fetched.set(self.fetched.get() + 1);
                self.get(&tile.path()).map_err(|_| tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[tlog_tiles::Tile], _data: &[Vec<u8>]) {}
}

/// Reads the first `size` entries of a static mirror from its entry
/// bundles, as export lines (for the verifier). A missing or malformed
/// bundle ends the lines early, with the reason on stderr; the verifier then
/// finds fewer entries than the checkpoint names.
pub fn read_mirror(base: &str, size: u64) -> Box<dyn Read + Send> {
    let tiles = HttpTiles::new(base);
    let (pipe, mut writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(e) => return Box::new(ErrorReader(Some(e))),
    };
    std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(&mut writer);
        let result = (0..size.div_ceil(TILE_WIDTH)).try_for_each(|index| -> anyhow::Result<()> {
            let width = (size - index * TILE_WIDTH).min(TILE_WIDTH);
            let tile = Tile { level: None, index, width };
            let bundle = tiles.get(&tile.path())?;
            let entries = split_bundle(&bundle, width).with_context(|| tile.path())?;
            for (i, entry) in entries.into_iter().enumerate() {
                let position = index * TILE_WIDTH + i as u64;
                let line = dauys_core::verify::export_line(position, &dauys_core::sha256(entry), entry);
                std::io::Write::write_all(&mut out, line.as_bytes())?;
            }
            Ok(())
        });
        if let Err(e) = result.and_then(|()| Ok(std::io::Write::flush(&mut out)?)) {
            eprintln!("mirror: {e:#}");
        }
    });
    Box::new(pipe)
}

/// The entries of an entry bundle (C2SP tlog-tiles: each a big-endian u16
/// length, then the bytes), exactly `count` of them and nothing after.
pub fn split_bundle(bundle: &[u8], count: u64) -> anyhow::Result<Vec<&[u8]>> {
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let Some((length, tail)) = rest.split_first_chunk::<2>() else { bail!("a bundle ends inside a length") };
        let length = usize::from(u16::from_be_bytes(*length));
        if tail.len() < length {
            bail!("a bundle ends inside an entry");
        }
        let (entry, tail) = tail.split_at(length);
        entries.push(entry);
        rest = tail;
    }
    if entries.len() as u64 != count {
        bail!("the bundle holds {} entries, not {count}", entries.len());
    }
    Ok(entries)
}

/// A reader that fails once.
struct ErrorReader(Option<std::io::Error>);

impl Read for ErrorReader {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(self.0.take().unwrap_or_else(|| std::io::Error::other("failed")))
    }
}

/// The tile prefix of a source: a node URL serves it under `/tlog`; any
/// other URL is taken as a mirror's prefix.
pub fn tile_base(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match ureq::get(&format!("{url}/tlog/checkpoint")).call() {
        Ok(_) => format!("{url}/tlog"),
        Err(_) => url.to_owned(),
    }
}

/// `dauys proof verify`: the receipt alone (offline), and with `node`, that
/// the log's latest checkpoint still contains it.
pub fn verify_receipt(path: &Path, log: VerifierKey, trust: &Trust, node: Option<&str>) -> anyhow::Result<ExitCode> {
    let invalid = |message: String| {
        println!("INVALID: {message}");
        Ok(ExitCode::from(1))
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let policy = trust.policy(log.clone());
    let receipt = match Receipt::parse(&text) {
        Ok(receipt) => receipt,
        Err(e) => return invalid(format!("the receipt: {e}")),
    };
    let verified = match receipt.verify(&policy) {
        Ok(verified) => verified,
        Err(e) => return invalid(format!("the receipt: {e}")),
    };
    let described = Entry::decode(&receipt.entry).map(|entry| {
        let kind = Payload::decode(entry.payload).map(|p| p.body.kind().name()).unwrap_or("?");
        format!("{kind} by {}", hex::encode(entry.author))
    });
    println!(
        "VALID: entry {} ({}) is in {}'s log of {} entries, checkpoint signed by the log key{}",
        receipt.index,
        described.unwrap_or_else(|e| format!("not an entry: {e}")),
        verified.checkpoint.origin,
        verified.checkpoint.size,
        if verified.cosigned_by.is_empty() {
            String::new()
        } else {
            format!(" and cosigned by {}", verified.cosigned_by.join(", "))
        }
    );
    println!("entry hash {}", hex::encode(dauys_core::sha256(&receipt.entry)));
    let Some(node) = node else { return Ok(ExitCode::SUCCESS) };
    let tiles = HttpTiles::new(&tile_base(node));
    let latest = match policy.verify(&tiles.checkpoint()?) {
        Ok(latest) => latest.checkpoint,
        Err(e) => return invalid(format!("the log's latest checkpoint: {e}")),
    };
    // A receipt from a 201 answer may be newer than the checkpoint served
    // (which waits for witnesses): then the served one must be its prefix.
    let (older, newer) = if latest.size < verified.checkpoint.size {
        (&latest, &verified.checkpoint)
    } else {
        (&verified.checkpoint, &latest)
    };
    match tlog::check_consistency_from_tiles(&tiles, older, newer) {
        Ok(()) => {}
        Err(e @ tlog::TlogError::Inconsistent { .. }) => {
            return invalid(format!(
                "the log's served checkpoint ({} entries) and the receipt's ({} entries) are not one history: {e}",
                latest.size, verified.checkpoint.size
            ));
        }
        Err(e) => return could_not_check(format!("consistency with the log's latest checkpoint: {e}")),
    }
    if latest.size < verified.checkpoint.size {
        println!(
            "consistent: the served checkpoint ({} entries) is older than the receipt's and a prefix of it ({} tiles \
             fetched); `dauys proof update` waits for a newer one",
            latest.size,
            tiles.fetched.get()
        );
    } else {
        println!(
            "still there: the latest checkpoint ({} entries) extends the receipt's ({} tiles fetched)",
            latest.size,
            tiles.fetched.get()
        );
    }
    Ok(record_latest(&trust.seen, &log, &latest, &tiles)?.unwrap_or(ExitCode::SUCCESS))
}

/// Prints that a check could not be made; exit 2.
fn could_not_check(message: String) -> anyhow::Result<ExitCode> {
    println!("COULD NOT CHECK: {message}");
    Ok(ExitCode::from(2))
}

/// Checks the log's latest checkpoint against the one seen before (a
/// consistency proof from tiles) and records it. `Some(exit code)` when it
/// does not pass.
fn record_latest(
    path: &Path,
    log: &VerifierKey,
    latest: &Checkpoint,
    tiles: &HttpTiles,
) -> anyhow::Result<Option<ExitCode>> {
    let mut seen = Seen::load(path)?;
    match seen.check(log, latest, Some(tiles), |_| None)? {
        Ok(_) => {}
        Err(fork) if fork.is_fork() => {
            println!("INVALID: {fork}");
            return Ok(Some(ExitCode::from(1)));
        }
        Err(other) => return could_not_check(other.to_string()).map(Some),
    }
    if let Err(e) = seen.record(log, latest) {
        println!("INVALID: {e:#}");
        return Ok(Some(ExitCode::from(1)));
    }
    Ok(None)
}

/// `dauys proof update`: replaces a receipt's checkpoint by the node's
/// latest served one (cosigned by the witness quorum, when the trust policy
/// asks for one), after checking that it holds the same entry at the same
/// index and extends the receipt's checkpoint. Waits up to `wait` for a
/// served checkpoint that covers the entry.
pub fn update_receipt(
    path: &Path,
    log: VerifierKey,
    trust: &Trust,
    node: &str,
    wait: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let old = Receipt::parse(&text).map_err(|e| anyhow::anyhow!("the receipt: {e}"))?;
    let log_only = Policy { log: log.clone(), witnesses: Vec::new(), quorum: 0 };
    let before = old.verify(&log_only).map_err(|e| anyhow::anyhow!("the receipt: {e}"))?;
    let policy = trust.policy(log);
    let url = format!("{}/v1/proof?index={}", node.trim_end_matches('/'), old.index);
    let deadline = std::time::Instant::now() + wait;
    let (new, verified) = loop {
        let fetched = ureq::get(&url).call().map_err(anyhow::Error::from).and_then(|r| Ok(r.into_string()?));
        let attempt = fetched.and_then(|text| {
            let new = Receipt::parse(&text).map_err(|e| anyhow::anyhow!("the node's receipt: {e}"))?;
            let verified = new.verify(&policy).map_err(|e| anyhow::anyhow!("the node's receipt: {e}"))?;
            if verified.checkpoint.size < before.checkpoint.size {
                anyhow::bail!("the served checkpoint is still older than the receipt's");
            }
            Ok((new, verified))
        });
        match attempt {
            Ok(found) => break found,
            Err(e) if std::time::Instant::now() >= deadline => return Err(e),
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(500)),
        }
    };
    if new.index != old.index || new.entry != old.entry {
        println!("INVALID: the node now shows another entry at index {}", old.index);
        return Ok(ExitCode::from(1));
    }
    let tiles = HttpTiles::new(&tile_base(node));
    if verified.checkpoint.size < before.checkpoint.size {
        println!(
            "INVALID: the node serves a checkpoint of {} entries, fewer than the receipt's {}",
            verified.checkpoint.size, before.checkpoint.size
        );
        return Ok(ExitCode::from(1));
    }
    match tlog::check_consistency_from_tiles(&tiles, &before.checkpoint, &verified.checkpoint) {
        Ok(()) => {}
        Err(e @ tlog::TlogError::Inconsistent { .. }) => {
            println!("INVALID: the node's checkpoint does not extend the receipt's: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return could_not_check(format!("consistency with the node's checkpoint: {e}")),
    }
    // The checkpoint the node presents as its latest, against the ones seen.
    if let Some(code) = record_latest(&trust.seen, &policy.log, &verified.checkpoint, &tiles)? {
        return Ok(code);
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, new.encode())?;
    std::fs::rename(&temporary, path)?;
    println!(
        "updated {}: entry {} in a checkpoint of {} entries{}",
        path.display(),
        new.index,
        verified.checkpoint.size,
        if verified.cosigned_by.is_empty() {
            String::new()
        } else {
            format!(", cosigned by {}", verified.cosigned_by.join(", "))
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The checkpoints this observer has seen: the largest per log (origin and
/// key), kept in a local file so that a log that rewrites history, or shows
/// different histories to different people, is caught across runs.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    #[serde(skip)]
    path: PathBuf,
    /// The log's verifier key (`origin+id+key`) → the largest checkpoint.
    logs: std::collections::BTreeMap<String, SeenCheckpoint>,
}

/// A checkpoint seen: its size and base64 root.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SeenCheckpoint {
    size: u64,
    root: String,
}

impl Seen {
    /// The default file: `$XDG_STATE_HOME/dauys/seen.json` (or `~/.local/state/...`).
    pub fn default_path() -> PathBuf {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".local/state"));
        base.join("dauys/seen.json")
    }

    /// Loads the file (empty if absent).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let mut seen: Seen = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Seen::default(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        seen.path = path.to_owned();
        Ok(seen)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint seen for the log with key `log`, if any. A damaged
    /// record is an error, never "not seen".
    pub fn get(&self, log: &VerifierKey) -> anyhow::Result<Option<Checkpoint>> {
        let Some(seen) = self.logs.get(&log.encode()) else { return Ok(None) };
        let text = format!("{}\n{}\n{}\n", log.name, seen.size, seen.root);
        let checkpoint = Checkpoint::parse_text(&text)
            .with_context(|| format!("{} holds a damaged record for {}", self.path.display(), log.name))?;
        Ok(Some(checkpoint))
    }

    /// The sizes seen for logs of `origin` under any key (to note the roots
    /// at those sizes while replaying, before the key is known).
    pub fn sizes(&self, origin: &str) -> Vec<u64> {
        let prefix = format!("{origin}+");
        self.logs.iter().filter(|(key, _)| key.starts_with(&prefix)).map(|(_, seen)| seen.size).collect()
    }

    /// Checks `checkpoint` (already verified under `log`) against the one
    /// seen before: with tiles, by a consistency proof; otherwise with
    /// `root_at`, the root the caller computed at a given size from entries
    /// it replayed. Records it if it is larger.
    pub fn check(
        &self,
        log: &VerifierKey,
        checkpoint: &Checkpoint,
        tiles: Option<&HttpTiles>,
        root_at: impl Fn(u64) -> Option<Hash>,
    ) -> anyhow::Result<Result<Option<Checkpoint>, Fork>> {
        let Some(before) = self.get(log)? else { return Ok(Ok(None)) };
        Ok(tlog::check_extends(&before, checkpoint, root_at(before.size), || match tiles {
            Some(tiles) => tlog::check_consistency_from_tiles(tiles, &before, checkpoint),
            None => Err(tlog::TlogError::Malformed {
                what: "comparison",
                problem: "no entries replayed and no tiles to prove consistency".into(),
            }),
        })
        .map(|()| Some(before)))
    }

    /// Records `checkpoint` of the log with key `log` if it is larger than
    /// the one seen. Under a lock, the file is read again and merged, so
    /// that two runs (a `follow` and a `verify`, say) never undo each
    /// other: per log the larger checkpoint stays, and the same size with
    /// another root is a fork. Written atomically (a crash leaves the old
    /// file or the new).
    pub fn record(&mut self, log: &VerifierKey, checkpoint: &Checkpoint) -> anyhow::Result<()> {
        let parent = self.path.parent().map(Path::to_owned).unwrap_or_default();
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(&parent)?;
        }
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
        lock.lock().with_context(|| format!("locking {}", lock_path.display()))?;
        let mut current = Seen::load(&self.path)?;
        let root = checkpoint.text().lines().nth(2).unwrap_or_default().to_owned();
        match current.get(log)? {
            Some(before) if before.size == checkpoint.size && before.root != checkpoint.root => {
                anyhow::bail!(
                    "FORK: another run recorded a different checkpoint of {} entries for {}",
                    checkpoint.size,
                    log.name
                );
            }
            Some(before) if before.size >= checkpoint.size => {}
            _ => {
                current.logs.insert(log.encode(), SeenCheckpoint { size: checkpoint.size, root });
                let text = serde_json::to_string_pretty(&current)?;
                let nanos =
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
                let temporary = self.path.with_extension(format!("{}-{nanos}.tmp", std::process::id()));
                std::fs::write(&temporary, text)?;
                std::fs::File::open(&temporary)?.sync_all()?;
                std::fs::rename(&temporary, &self.path)?;
                if let Ok(dir) =
                    std::fs::File::open(if parent.as_os_str().is_empty() { Path::new(".") } else { &parent })
                {
                    let _ = dir.sync_all();
                }
            }
        }
        self.logs = current.logs;
        Ok(())
    }
}

/// Makes everything written under `dir` durable.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    let handle = std::fs::File::open(dir)?;
    #[cfg(target_os = "linux")]
    {
        rustix::fs::syncfs(&handle)?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        fn walk(dir: &Path) -> std::io::Result<()> {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    walk(&path)?;
                } else {
                    std::fs::File::open(&path)?.sync_all()?;
                }
            }
            std::fs::File::open(dir)?.sync_all()
        }
        walk(dir)?;
    }
    handle.sync_all()
}

/// `dauys mirror DATA OUT`: writes the log as static files under OUT, as a
/// node serves them under `/tlog/`: the checkpoint the node last served, and
/// every tile and entry bundle it needs. Tiles already written are kept
/// (they never change), so mirroring again only adds what is new; partial
/// tiles of earlier mirrored checkpoints are kept too, as C2SP tlog-tiles
/// asks of a log for every size it published a checkpoint of.
pub fn mirror(data: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let note = std::fs::read_to_string(data.join(dauys_node::tlog::CHECKPOINT_FILE))
        .with_context(|| format!("{} has no served checkpoint yet (a format 2 node writes it)", data.display()))?;
    // Before writing anything: the checkpoint is signed by the log key of
    // this ledger's genesis, its root is the tree the node stored, and it
    // extends the checkpoint the mirror holds (a mirror never moves back,
    // and never takes another history).
    let policy = Policy { log: log_key(&data.display().to_string())?, witnesses: Vec::new(), quorum: 0 };
    let checkpoint = policy.verify(&note).map_err(|e| anyhow::anyhow!("the node's checkpoint: {e}"))?.checkpoint;
    let tree = dauys_store::tree::TreeReader::open(data)?;
    if tlog::tree_root(checkpoint.size, &tree)? != checkpoint.root {
        bail!("the checkpoint in {} is not the tree stored beside it", data.display());
    }
    if let Ok(existing) = std::fs::read_to_string(out.join("checkpoint")) {
        let held = policy.verify(&existing).map_err(|e| anyhow::anyhow!("the mirror's checkpoint: {e}"))?.checkpoint;
        if held.size > checkpoint.size {
            bail!(
                "the mirror holds a checkpoint of {} entries, more than the {} of {}: mirroring would move it back",
                held.size,
                checkpoint.size,
                data.display()
            );
        }
        if tlog::tree_root(held.size, &tree)? != held.root {
            bail!("the mirror holds another history of this log (its checkpoint of {} entries differs)", held.size);
        }
    }
    let reader = dauys_store::reader::LedgerReader::open(data)?;
    let mut frontier = tlog::Frontier::new();
    let mut levels: Vec<Vec<Hash>> = Vec::new();
    let mut full_tiles: Vec<u64> = Vec::new();
    let mut bundle: Vec<u8> = Vec::new();
    let mut written = 0usize;
    let write = |tile: Tile, bytes: &[u8], written: &mut usize| -> std::io::Result<()> {
        // Tiles are immutable: one already there must be this one, or the
        // mirror holds another history of the log.
        let path = out.join(tile.path());
        match std::fs::read(&path) {
            Ok(existing) if existing == bytes => return Ok(()),
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} already holds another {}: it mirrors another history of this log",
                    out.display(),
                    tile.path()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Whole or absent, whatever a crash interrupts.
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path)?;
        *written += 1;
        Ok(())
    };
    let size = checkpoint.size;
    let read = reader.for_each(|position, entry| -> std::io::Result<()> {
        if position >= size {
            return Ok(());
        }
        frontier.push(entry);
        let length =
            u16::try_from(entry.len()).map_err(|_| std::io::Error::other("an entry longer than a bundle allows"))?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
        // Level 0 takes leaf hashes; a full tile's subtree hash goes up.
        let mut hash = tlog::leaf_hash(entry);
        let mut level = 0usize;
        loop {
            if levels.len() <= level {
                levels.push(Vec::new());
                full_tiles.push(0);
            }
            levels[level].push(hash);
            if levels[level].len() as u64 != TILE_WIDTH {
                break;
            }
            let index = full_tiles[level];
            full_tiles[level] += 1;
            let bytes: Vec<u8> = levels[level].concat();
            write(
                Tile { level: Some(u8::try_from(level).unwrap_or(0)), index, width: TILE_WIDTH },
                &bytes,
                &mut written,
            )?;
            hash = tlog_tiles::Tile::subtree_hash(&bytes).0;
            levels[level].clear();
            level += 1;
        }
        if (position + 1) % TILE_WIDTH == 0 {
            write(Tile { level: None, index: position / TILE_WIDTH, width: TILE_WIDTH }, &bundle, &mut written)?;
            bundle.clear();
        }
        Ok(())
    });
    match read {
        Ok(_) => {}
        Err(dauys_store::reader::ReadError::Stopped(e)) => return Err(e.into()),
        Err(dauys_store::reader::ReadError::Store(e)) => return Err(e.into()),
    }
    if frontier.size() != size || frontier.root() != checkpoint.root {
        bail!("the log in {} does not match its served checkpoint of {size} entries", data.display());
    }
    // The partial tiles of this size, at every level.
    for (level, hashes) in levels.iter().enumerate() {
        if !hashes.is_empty() {
            let level_u8 = u8::try_from(level).unwrap_or(0);
            let tile = Tile { level: Some(level_u8), index: full_tiles[level], width: hashes.len() as u64 };
            write(tile, &hashes.concat(), &mut written)?;
        }
    }
    if !bundle.is_empty() {
        let count = size % TILE_WIDTH;
        write(Tile { level: None, index: size / TILE_WIDTH, width: count }, &bundle, &mut written)?;
    }
    // The checkpoint last, and atomically, after the tiles are on disk: a
    // reader never sees one whose tiles are not there yet, nor half a file.
    std::fs::create_dir_all(out)?;
    sync_tree(out)?;
    let temporary = out.join(".checkpoint.tmp");
    std::fs::write(&temporary, &note)?;
    std::fs::rename(&temporary, out.join("checkpoint"))?;
    std::fs::File::open(out)?.sync_all()?;
    println!("mirrored {size} entries into {} ({written} files written)", out.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

    use super::*;

    fn key(name: &str, seed: u8) -> VerifierKey {
        let public = dauys_core::Keypair::from_seed(&[seed; 32]).public();
        VerifierKey { name: name.into(), signature_type: tlog::SIGNATURE_ED25519, public }
    }

    fn checkpoint(origin: &str, size: u64, root: u8) -> Checkpoint {
        Checkpoint { origin: origin.into(), size, root: [root; 32] }
    }

    #[test]
    fn two_runs_recording_checkpoints_never_undo_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seen.json");
        let (a, b) = (key("a.example/log", 1), key("b.example/log", 2));
        // Two runs load the (empty) file, then each records its own log.
        let mut first = Seen::load(&path).unwrap();
        let mut second = Seen::load(&path).unwrap();
        first.record(&a, &checkpoint("a.example/log", 10, 1)).unwrap();
        second.record(&b, &checkpoint("b.example/log", 20, 2)).unwrap();
        let merged = Seen::load(&path).unwrap();
        assert_eq!(merged.get(&a).unwrap().unwrap().size, 10, "the second run kept the first run's record");
        assert_eq!(merged.get(&b).unwrap().unwrap().size, 20);
        // A stale run recording a smaller checkpoint does not move it back.
        first.record(&a, &checkpoint("a.example/log", 30, 1)).unwrap();
        second.record(&a, &checkpoint("a.example/log", 12, 1)).unwrap();
        assert_eq!(Seen::load(&path).unwrap().get(&a).unwrap().unwrap().size, 30);
        // The same size with another root, recorded by another run: a fork.
        let fork = second.record(&a, &checkpoint("a.example/log", 30, 9)).unwrap_err().to_string();
        assert!(fork.starts_with("FORK"), "{fork}");
        // A damaged record is an error, never "not seen".
        let text = std::fs::read_to_string(&path).unwrap();
        let damaged = text.replacen("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=", "AQ==", 1);
        assert_ne!(damaged, text);
        std::fs::write(&path, damaged).unwrap();
        assert!(Seen::load(&path).unwrap().get(&a).is_err());
    }
}
