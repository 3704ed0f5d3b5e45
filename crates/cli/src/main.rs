//! `dauys`: one binary for the commission's node, the client acts of
//! commission, council and voters, and the observer's export, verify and
//! follow. Secret keys are read from files and never printed or logged.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use dauys_core::event::{Ballot, Body, Decision, Outcome};
use dauys_core::{Hash, Payload, Submission};

mod setup;
mod verify;

#[derive(Parser)]
#[command(name = "dauys", version, about = "A verifiable ledger of petitions, council rulings and local referendums")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Client {
    /// The node's base URL.
    #[arg(long, env = "DAUYS_NODE", default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Your secret key file (from `dauys keygen`).
    #[arg(long, env = "DAUYS_KEY")]
    key: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a secret key file (mode 0600) and print its public key.
    Keygen {
        /// Where to write the secret key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a ledger: write its genesis from a rules file into a new data directory.
    Init {
        /// Data directory (must be empty or absent).
        #[arg(long)]
        data: PathBuf,
        /// Rules in TOML (see `examples/rules.toml`).
        #[arg(long)]
        rules: PathBuf,
        /// The commission's secret key file.
        #[arg(long)]
        commission_key: PathBuf,
    },
    /// Serve a ledger's API and web verifier.
    Serve {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Start a node with a fresh demo ledger (a village's petitions and a referendum).
    Demo {
        /// Data directory (default: a new temporary directory).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
    },
    /// Enrol voters (commission).
    Enroll {
        #[command(flatten)]
        client: Client,
        /// District label.
        #[arg(long, default_value = "")]
        district: String,
        /// A file of public keys, one hex key per line.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Public keys (hex).
        keys: Vec<String>,
    },
    /// Remove a voter (commission).
    Remove {
        #[command(flatten)]
        client: Client,
        /// The voter's public key.
        voter: String,
        /// Why.
        #[arg(long)]
        reasons: String,
    },
    /// Petition acts (voters).
    #[command(subcommand)]
    Petition(PetitionCommand),
    /// Record supports collected on paper (commission).
    PaperSupports {
        #[command(flatten)]
        client: Client,
        /// Petition id.
        petition: String,
        /// Supports verified on the sheets.
        count: u64,
        /// The scanned sheets (hashed with SHA-256).
        #[arg(long)]
        sheets: PathBuf,
    },
    /// Admit one screened text by its content hash (commission).
    Admit {
        #[command(flatten)]
        client: Client,
        /// Content hash (from the node's screened_text refusal).
        content: String,
        /// Why the screen is overruled.
        #[arg(long)]
        reasons: String,
    },
    /// Council acts.
    #[command(subcommand)]
    Council(CouncilCommand),
    /// Referendum acts (commission).
    #[command(subcommand)]
    Referendum(ReferendumCommand),
    /// Ballot acts (voters).
    #[command(subcommand)]
    Ballot(BallotCommand),
    /// Write the ledger's JSON Lines export (from a node URL or a data directory).
    Export {
        /// A node URL or a data directory.
        source: String,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verify an export (file or node URL): exit 0 valid, 1 invalid, 2 usage or unreadable.
    Verify {
        /// A JSON Lines file, `-` for standard input, or a node URL.
        source: String,
        /// Print the verdict and the recomputed state as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Follow a node's live stream, verifying each entry and printing live counts.
    Follow {
        /// The node URL.
        url: String,
    },
}

#[derive(Subcommand)]
enum PetitionCommand {
    /// File a petition.
    File {
        #[command(flatten)]
        client: Client,
        /// Subject id from the published taxonomy.
        #[arg(long)]
        subject: String,
        /// Title.
        #[arg(long)]
        title: String,
        /// Full text.
        #[arg(long)]
        text: String,
    },
    /// Support a petition.
    Support {
        #[command(flatten)]
        client: Client,
        /// Petition id.
        petition: String,
    },
    /// Withdraw your petition.
    Withdraw {
        #[command(flatten)]
        client: Client,
        /// Petition id.
        petition: String,
        /// Why.
        #[arg(long, default_value = "")]
        reasons: String,
    },
}

#[derive(Subcommand)]
enum CouncilCommand {
    /// Rule on a petition that reached its threshold.
    Rule {
        #[command(flatten)]
        client: Client,
        /// Petition id.
        petition: String,
        /// Accept or reject.
        #[arg(long, value_parser = ["accept", "reject"])]
        decision: String,
        /// Reasons.
        #[arg(long)]
        reasons: String,
    },
}

#[derive(Subcommand)]
enum ReferendumCommand {
    /// Call a referendum on a rejected petition.
    Call {
        #[command(flatten)]
        client: Client,
        /// Petition id.
        petition: String,
        /// Subject id.
        #[arg(long)]
        subject: String,
        /// The question.
        #[arg(long)]
        question: String,
        /// Options (repeat; the first is the proposal).
        #[arg(long = "option", num_args = 1, default_values_t = ["Yes".to_owned(), "No".to_owned()])]
        options: Vec<String>,
        /// Opening, in milliseconds since the epoch (default: one minute from now).
        #[arg(long)]
        opens_at_ms: Option<u64>,
        /// Window length in milliseconds.
        #[arg(long)]
        window_ms: u64,
    },
    /// Declare the result, recomputed from the node's export after verifying it.
    Declare {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
    },
}

#[derive(Subcommand)]
enum BallotCommand {
    /// Cast an open ballot.
    Cast {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
        /// Index of the chosen option (0 is the proposal).
        choice: u8,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sled=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn id(text: &str) -> anyhow::Result<Hash> {
    dauys_core::hexser::parse::<32>(text).map_err(|e| anyhow::anyhow!("{text:?} is not an id: {e}"))
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keygen { out } => setup::keygen(&out),
        Command::Init { data, rules, commission_key } => setup::init(&data, &rules, &commission_key),
        Command::Serve { data, listen } => setup::serve(&data, listen, None),
        Command::Demo { data, listen } => setup::demo(data, listen),
        Command::Enroll { client, district, file, mut keys } => {
            if let Some(file) = file {
                let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
                keys.extend(
                    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned),
                );
            }
            if keys.is_empty() {
                bail!("no keys to enrol");
            }
            let mut code = ExitCode::SUCCESS;
            for chunk in keys.chunks(dauys_core::limits::ENROL_KEYS_MAX) {
                let keys = chunk.iter().map(|k| id(k)).collect::<anyhow::Result<Vec<_>>>()?;
                code = submit(&client, Body::VotersEnrolled { district: district.clone(), keys })?;
                if code != ExitCode::SUCCESS {
                    break;
                }
            }
            Ok(code)
        }
        Command::Remove { client, voter, reasons } => submit(&client, Body::VoterRemoved { key: id(&voter)?, reasons }),
        Command::Petition(PetitionCommand::File { client, subject, title, text }) => {
            submit(&client, Body::PetitionFiled { subject, title, text })
        }
        Command::Petition(PetitionCommand::Support { client, petition }) => {
            submit(&client, Body::PetitionSupported { petition: id(&petition)? })
        }
        Command::Petition(PetitionCommand::Withdraw { client, petition, reasons }) => {
            submit(&client, Body::PetitionWithdrawn { petition: id(&petition)?, reasons })
        }
        Command::PaperSupports { client, petition, count, sheets } => {
            let bytes = std::fs::read(&sheets).with_context(|| format!("reading {}", sheets.display()))?;
            submit(
                &client,
                Body::PaperSupportsRecorded {
                    petition: id(&petition)?,
                    count,
                    sheets_sha256: dauys_core::sha256(&bytes),
                },
            )
        }
        Command::Admit { client, content, reasons } => {
            submit(&client, Body::ContentAdmitted { content: id(&content)?, reasons })
        }
        Command::Council(CouncilCommand::Rule { client, petition, decision, reasons }) => {
            let decision = if decision == "accept" { Decision::Accept } else { Decision::Reject };
            submit(&client, Body::CouncilRuled { petition: id(&petition)?, decision, reasons })
        }
        Command::Referendum(ReferendumCommand::Call {
            client,
            petition,
            subject,
            question,
            options,
            opens_at_ms,
            window_ms,
        }) => {
            let opens_at_ms = opens_at_ms.unwrap_or_else(|| dauys_node::now_ms() + 60_000);
            submit(
                &client,
                Body::ReferendumCalled {
                    petition: id(&petition)?,
                    subject,
                    question,
                    options,
                    opens_at_ms,
                    closes_at_ms: opens_at_ms.saturating_add(window_ms),
                },
            )
        }
        Command::Referendum(ReferendumCommand::Declare { client, referendum }) => {
            let referendum = id(&referendum)?;
            let export = http_get(&format!("{}/v1/export", client.node))?;
            let verified = match verify::verify_reader(export, None, &mut verify::Checkpoint::default())? {
                Ok(verified) => verified,
                Err(failure) => bail!("the node's export does not verify, refusing to declare: {failure}"),
            };
            let Some(record) = verified.ledger.referendum(&referendum) else {
                bail!("no referendum {}", hex::encode(referendum))
            };
            let outcome = dauys_core::state::outcome(verified.ledger.rules(), &record.tally, record.electorate);
            eprintln!(
                "recomputed tally {:?} of {} ballots: {}",
                record.tally,
                record.ballots(),
                if outcome == Outcome::Approved { "approved" } else { "not approved" }
            );
            submit(&client, Body::ResultDeclared { referendum, tally: record.tally.clone(), outcome })
        }
        Command::Ballot(BallotCommand::Cast { client, referendum, choice }) => {
            submit(&client, Body::BallotCast { referendum: id(&referendum)?, ballot: Ballot::Open { choice } })
        }
        Command::Export { source, out } => {
            let mut reader = open_source(&source)?;
            let mut writer: Box<dyn Write> = match out {
                Some(path) => {
                    Box::new(std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?)
                }
                None => Box::new(std::io::stdout().lock()),
            };
            std::io::copy(&mut reader, &mut writer)?;
            writer.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { source, json } => verify::run(&source, json),
        Command::Follow { url } => verify::follow(&url),
    }
}

pub(crate) fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// A reader over an export: a node URL, a data directory, a file or stdin.
pub(crate) fn open_source(source: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    if is_url(source) {
        return http_get(&format!("{}/v1/export", source.trim_end_matches('/')));
    }
    if source == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let path = Path::new(source);
    if path.is_dir() {
        let source = source.to_owned();
        // Stream the export from the store through a pipe, so memory stays
        // flat however long the log is.
        let (store, _) = dauys_store::Store::open(path)?;
        let (reader, mut writer) = std::io::pipe()?;
        std::thread::spawn(move || {
            let mut out = std::io::BufWriter::new(&mut writer);
            for position in 0..store.len() {
                let written = store.read(position).map_err(anyhow::Error::from).and_then(|bytes| {
                    let bytes = bytes.unwrap_or_default();
                    let line = dauys_core::verify::export_line(position, &dauys_core::sha256(&bytes), &bytes);
                    Ok(out.write_all(line.as_bytes())?)
                });
                if let Err(error) = written {
                    // A short export must never pass for a whole one.
                    if error
                        .downcast_ref::<std::io::Error>()
                        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
                    {
                        return;
                    }
                    eprintln!("error: reading entry {position} from {source}: {error:#}");
                    std::process::exit(2);
                }
            }
            let _ = out.flush();
        });
        return Ok(Box::new(reader));
    }
    Ok(Box::new(std::fs::File::open(path).with_context(|| format!("opening {source}"))?))
}

pub(crate) fn http_get(url: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    let response = ureq::get(url).call().with_context(|| format!("GET {url}"))?;
    Ok(Box::new(response.into_reader()))
}

fn random_nonce() -> anyhow::Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(u64::from_be_bytes(bytes))
}

/// Signs `body` locally with the client's key and submits it; prints the
/// receipt (exit 0) or the node's refusal (exit 1).
fn submit(client: &Client, body: Body) -> anyhow::Result<ExitCode> {
    let keypair = setup::read_key(&client.key)?;
    let node = client.node.trim_end_matches('/');
    let genesis: serde_json::Value =
        ureq::get(&format!("{node}/v1/genesis")).call().context("reading the ledger id")?.into_json()?;
    let ledger_id = id(genesis["ledger_id"].as_str().unwrap_or_default())?;
    let payload = Payload { ledger_id, nonce: random_nonce()?, body };
    let submission = Submission::sign(&keypair, &payload);
    let request = dauys_node::submission_json(&submission);
    match ureq::post(&format!("{node}/v1/events")).send_json(request) {
        Ok(response) => {
            let receipt: serde_json::Value = response.into_json()?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            // The receipt is only proof if the ledger's published log key
            // signed a head that covers the new entry.
            let log_key = id(genesis["log_key"].as_str().unwrap_or_default())?;
            let head: dauys_core::SignedHead =
                serde_json::from_value(receipt["head"].clone()).context("the receipt has no signed head")?;
            let position = receipt["position"].as_u64().unwrap_or(u64::MAX);
            if head.verify(&log_key).is_err() || head.ledger_id != ledger_id || head.size <= position {
                eprintln!("the node accepted the act, but its receipt is not a valid signed head covering it");
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(ureq::Error::Status(status, response)) => {
            let body: serde_json::Value = response.into_json().unwrap_or_default();
            eprintln!(
                "refused ({status} {}): {}",
                body["code"].as_str().unwrap_or("unknown"),
                body["message"].as_str().unwrap_or("no message")
            );
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(ExitCode::from(1))
        }
        Err(error) => Err(error).context("submitting"),
    }
}
