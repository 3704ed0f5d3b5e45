//! Keys, genesis, serving and the demo ledger.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use dauys_core::event::{Body, LedgerOpened, Rules};
use dauys_core::{sha256, Entry, Hash, Keypair, Payload, Sequencer, Submission, Version};
use dauys_store::Store;

/// Reads a secret key file. Errors name the file, never its content.
pub fn read_key(path: &Path) -> anyhow::Result<Keypair> {
    dauys_node::read_key_file(path).map_err(|problem| anyhow::anyhow!("key file {}: {problem}", path.display()))
}

/// Writes a new secret key file (mode 0600), synced.
pub fn write_key(path: &Path, keypair: &Keypair) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    file.write_all(dauys_node::secret_key_text(keypair).as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn fresh_keypair() -> anyhow::Result<Keypair> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(Keypair::from_seed(&seed))
}

pub fn keygen(out: &Path) -> anyhow::Result<ExitCode> {
    let keypair = fresh_keypair()?;
    write_key(out, &keypair)?;
    println!("{}", hex::encode(keypair.public()));
    Ok(ExitCode::SUCCESS)
}

/// `dauys key public FILE`: the public key of a secret key file.
pub fn public_key(path: &Path) -> anyhow::Result<ExitCode> {
    println!("{}", hex::encode(read_key(path)?.public()));
    Ok(ExitCode::SUCCESS)
}

/// `dauys key upgrade FILE`: rewrites a key file of 64 bare hex digits (as
/// written before key files had a header) with the header, in place.
pub fn upgrade_key(path: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if dauys_node::is_secret_key_text(text.as_bytes()) {
        println!("{} already has the header", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let seed = dauys_core::hexser::parse::<32>(text.trim())
        .map_err(|_| anyhow::anyhow!("{} is not a key file of 64 hex digits", path.display()))?;
    let keypair = Keypair::from_seed(&seed);
    let temporary = path.with_extension("upgrading");
    write_key(&temporary, &keypair)?;
    std::fs::rename(&temporary, path)?;
    println!("{}", hex::encode(keypair.public()));
    Ok(ExitCode::SUCCESS)
}

/// The rules file: the genesis in TOML.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    jurisdiction: String,
    /// The checkpoint origin; a schema-less URL naming this log.
    origin: String,
    council_key: String,
    rules: Rules,
}

/// Places `acts` (with their times) as a new ledger's first batch through
/// the rule core, and writes the data directory with the log key.
fn write_ledger(data: &Path, log: &Keypair, acts: &[(Submission, u64)]) -> anyhow::Result<Hash> {
    let Some(((genesis, genesis_time), rest)) = acts.split_first() else { bail!("a ledger needs its genesis") };
    let payload = Payload::decode(&genesis.payload).map_err(|e| anyhow::anyhow!("genesis: {e}"))?;
    let (mut sequencer, first) =
        Sequencer::genesis(genesis, &payload, *genesis_time).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut entries = vec![(first.bytes, first.hash)];
    for (submission, time_ms) in rest {
        let payload = Payload::decode(&submission.payload).map_err(|e| anyhow::anyhow!("{e}"))?;
        let placed = sequencer.sequence(submission, &payload, *time_ms).map_err(|e| anyhow::anyhow!("{e}"))?;
        entries.push((placed.bytes, placed.hash));
    }
    let key_text = dauys_node::secret_key_text(log);
    Store::create(data, &entries, &[("log.key", key_text.as_bytes(), 0o600)])?;
    Ok(*sequencer.ledger().ledger_id())
}

/// Writes the genesis entry into a new data directory, with a new log key.
pub fn init(data: &Path, rules_path: &Path, commission_key: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(rules_path).with_context(|| format!("reading {}", rules_path.display()))?;
    let file: RulesFile = toml::from_str(&text).with_context(|| format!("parsing {}", rules_path.display()))?;
    let commission = read_key(commission_key)?;
    let council_key =
        dauys_core::hexser::parse::<32>(&file.council_key).map_err(|e| anyhow::anyhow!("council_key: {e}"))?;
    let mut id_seed = [0u8; 32];
    getrandom::getrandom(&mut id_seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    let log = fresh_keypair()?;
    let genesis = Body::LedgerOpened(LedgerOpened {
        jurisdiction: file.jurisdiction,
        origin: Some(file.origin),
        commission_key: commission.public(),
        log_key: log.public(),
        council_key,
        rules: file.rules,
    });
    let payload = Payload { version: Version::LATEST, ledger_id: sha256(&id_seed), nonce: 0, body: genesis };
    let submission = Submission::sign(&commission, &payload);
    let ledger_id = write_ledger(data, &log, &[(submission, dauys_node::now_ms())])?;
    println!("ledger {} created in {}", hex::encode(ledger_id), data.display());
    Ok(ExitCode::SUCCESS)
}

/// The witness policy of a `--witnesses` file.
pub fn witnesses(path: Option<&Path>) -> anyhow::Result<Option<dauys_node::tlog::WitnessPolicy>> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    dauys_node::tlog::WitnessPolicy::parse(&text).map(Some).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

pub fn serve(
    data: &Path,
    listen: SocketAddr,
    banner: Option<String>,
    limits: dauys_node::server::Limits,
    witnesses: Option<dauys_node::tlog::WitnessPolicy>,
) -> anyhow::Result<ExitCode> {
    let node = dauys_node::Node::open(data, limits, witnesses)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, entries = node.size(), "serving");
        if !dauys_node::web_verifier_built() {
            tracing::warn!("the web verifier is not built into this binary; run ./dev demo to build it");
        }
        println!("dauys node serving {} entries at http://{address}/", node.size());
        if let Some(banner) = banner {
            println!("{banner}");
        }
        std::io::stdout().flush()?;
        node.serve(listener, shutdown_signal()).await?;
        tracing::info!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

/// A fresh demo ledger: the village story from the fixtures, with its keys
/// written beside it so that anyone can try the client commands.
pub fn demo(
    data: Option<PathBuf>,
    listen: SocketAddr,
    limits: dauys_node::server::Limits,
    witnesses: Option<dauys_node::tlog::WitnessPolicy>,
) -> anyhow::Result<ExitCode> {
    let data = match data {
        Some(data) => data,
        None => std::env::temp_dir().join(format!("dauys-demo-{}-{}", std::process::id(), dauys_node::now_ms())),
    };
    if !data.join(dauys_store::dir::MARKER).exists() {
        // The village story, under a log key and origin of its own: every
        // demo ledger is a log of its own, never a second history of one.
        let mut seed = [0u8; 64];
        getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
        let roles = dauys_fixtures::Roles {
            log: dauys_core::Keypair::from_seed(seed[..32].try_into()?),
            ..dauys_fixtures::village_roles()
        };
        let ledger_id = dauys_core::sha256(&seed[32..]);
        let origin = format!("demo.dauys.invalid/{}", hex::encode(&ledger_id[..6]));
        let mut story = dauys_fixtures::village_with(Version::LATEST, &roles, ledger_id, &origin);
        // Live petitions around today: one collecting, one awaiting the
        // council, and a secret referendum open for voting.
        dauys_fixtures::live_tail(&mut story.builder, &roles, dauys_node::now_ms());
        let mut acts = Vec::new();
        for (bytes, _) in story.builder.entries() {
            let entry = Entry::decode(bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
            acts.push((
                Submission { author: entry.author, payload: entry.payload.to_vec(), signature: entry.signature },
                entry.time_ms,
            ));
        }
        write_ledger(&data, &roles.log, &acts)?;
        let keys = data.join("demo-keys");
        std::fs::create_dir_all(&keys)?;
        write_key(&keys.join("commission.key"), &roles.commission)?;
        write_key(&keys.join("council.key"), &roles.council)?;
        for n in 0..dauys_fixtures::VILLAGE_VOTERS {
            write_key(&keys.join(format!("voter-{n}.key")), &dauys_fixtures::voter(n))?;
        }
        for (n, trustee) in dauys_fixtures::village_trustees().iter().enumerate() {
            write_key(&keys.join(format!("trustee-{n}.key")), trustee)?;
        }
    }
    let banner = format!(
        "demo ledger in {}\ndemo keys (not secret!) in {}\nopen the URL above in a browser to verify the ledger",
        data.display(),
        data.join("demo-keys").display()
    );
    serve(&data, listen, Some(banner), limits, witnesses)
}
