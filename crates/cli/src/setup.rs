//! Keys, genesis, serving and the demo ledger.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use dauys_core::event::{Body, LedgerOpened, Rules};
use dauys_core::{sha256, Entry, Keypair, Payload, Submission};
use dauys_store::{Append, Store};

/// Reads a secret key file. Errors name the file, never its content.
pub fn read_key(path: &Path) -> anyhow::Result<Keypair> {
    dauys_node::read_key_file(path).map_err(|problem| anyhow::anyhow!("key file {}: {problem}", path.display()))
}

fn write_key(path: &Path, keypair: &Keypair) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    writeln!(file, "{}", hex::encode(keypair.seed()))?;
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

/// The rules file: the genesis in TOML.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    jurisdiction: String,
    council_key: String,
    rules: Rules,
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
        commission_key: commission.public(),
        log_key: log.public(),
        council_key,
        rules: file.rules,
    });
    let submission = Submission::sign(&commission, &Payload { ledger_id: sha256(&id_seed), nonce: 0, body: genesis });
    write_ledger(data, &log, &[(submission, dauys_node::now_ms())])?;
    println!("ledger {} created in {}", hex::encode(sha256(&id_seed)), data.display());
    Ok(ExitCode::SUCCESS)
}

/// Checks `entries` with the rule core, then writes them and the log key
/// into a new data directory.
fn write_ledger(data: &Path, log: &Keypair, acts: &[(Submission, u64)]) -> anyhow::Result<()> {
    if data.join("log.dat").exists() {
        bail!("{} already holds a ledger", data.display());
    }
    let mut verifier = dauys_core::ChainVerifier::new();
    let mut appends = Vec::new();
    for (submission, time_ms) in acts {
        let (bytes, hash) = submission.to_entry(verifier.size(), verifier.head(), *time_ms);
        verifier.check(&dauys_core::verify::prepare_entry(bytes.clone())).map_err(|f| anyhow::anyhow!("{f}"))?;
        appends.push(Append { payload_hash: sha256(&submission.payload), author: submission.author, bytes, hash });
    }
    std::fs::create_dir_all(data)?;
    write_key(&dauys_node::log_key_path(data), log)?;
    let (mut store, _) = Store::open(data)?;
    store.append(&appends)?;
    Ok(())
}

pub fn serve(data: &Path, listen: SocketAddr, banner: Option<String>) -> anyhow::Result<ExitCode> {
    let node = dauys_node::Node::open(data)?;
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

async fn shutdown_signal() {
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
pub fn demo(data: Option<PathBuf>, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    let data = match data {
        Some(data) => data,
        None => std::env::temp_dir().join(format!("dauys-demo-{}-{}", std::process::id(), dauys_node::now_ms())),
    };
    if !data.join("log.dat").exists() {
        let story = dauys_fixtures::village();
        let roles = dauys_fixtures::village_roles();
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
    }
    let banner = format!(
        "demo ledger in {}\ndemo keys (not secret!) in {}\nopen the URL above in a browser to verify the ledger",
        data.display(),
        data.join("demo-keys").display()
    );
    serve(&data, listen, Some(banner))
}
