//! `dauys`: one binary for the commission's node, the client acts of
//! commission, council and voters, and the observer's export, verify and
//! follow. Secret keys are read from files and never printed or logged.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use dauys_core::event::{Ballot, Body, Decision, Outcome};
use dauys_core::{Entry, Hash, Payload, Submission, Verified};

mod setup;
mod tlog;
mod verify;
mod witness;

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
    /// Save the receipt (format 2: a `.tlog-proof` file) here.
    #[arg(long)]
    save_receipt: Option<PathBuf>,
}

/// Who an observer trusts for checkpoints beyond the log key: witnesses and
/// a quorum, and the file of checkpoints seen.
#[derive(Args, Clone, Default)]
struct TrustArgs {
    /// A witness's verifier key (repeat); cosignatures by others are ignored.
    #[arg(long = "witness")]
    witnesses: Vec<String>,
    /// How many of the --witness keys must have cosigned a checkpoint.
    #[arg(long, default_value_t = 0)]
    quorum: usize,
    /// The file of checkpoints seen (default: $XDG_STATE_HOME/dauys/seen.json).
    #[arg(long)]
    seen: Option<PathBuf>,
}

impl TrustArgs {
    fn resolve(self) -> anyhow::Result<tlog::Trust> {
        tlog::Trust::new(&self.witnesses, self.quorum, self.seen)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create a secret key file (mode 0600) and print its public key.
    Keygen {
        /// Where to write the secret key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Key files: print a public key, or add the header to an old key file.
    #[command(subcommand)]
    Key(KeyCommand),
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
        #[command(flatten)]
        limits: LimitArgs,
        /// Witnesses to gather cosignatures from (TOML: `quorum`, `[[witness]]` with `url` and `key`).
        #[arg(long)]
        witnesses: Option<PathBuf>,
    },
    /// Start a node with a fresh demo ledger (a village's petitions and a referendum).
    Demo {
        /// Data directory (default: a new temporary directory).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        #[command(flatten)]
        limits: LimitArgs,
        /// Witnesses to gather cosignatures from (as for `serve`).
        #[arg(long)]
        witnesses: Option<PathBuf>,
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
    /// Trustee acts: the key ceremony and decryption shares (format 3).
    #[command(subcommand)]
    Trustee(TrusteeCommand),
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
        /// A JSON Lines file, `-` for standard input, a data directory, or a node URL.
        source: String,
        /// Print the verdict and the recomputed state as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Follow a node's live stream, verifying each entry and every checkpoint, printing live counts.
    Follow {
        /// The node URL.
        url: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Print the log's verifier key (origin+id+key) from a node URL or a data directory.
    LogKey {
        /// A node URL or a data directory.
        source: String,
    },
    /// Receipts (`.tlog-proof` files).
    #[command(subcommand)]
    Proof(ProofCommand),
    /// A witness: cosign checkpoints of logs you watch.
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Write the log as static files (checkpoint, tiles, entry bundles) for any web server.
    Mirror {
        /// The node's data directory (read-only).
        data: PathBuf,
        /// Where to write (copy it to a web server; `dauys verify URL` and the page read it).
        out: PathBuf,
    },
    /// Inspect a data directory's log (read-only), or repair it with --repair.
    Fsck {
        /// Data directory.
        data: PathBuf,
        /// Move everything after the last good commit into damaged/ (never
        /// deleted) and cut it from log.dat. Refused while a node runs.
        #[arg(long)]
        repair: bool,
    },
}

/// The node's caps and timeouts (defaults in `dauys_node::server::Limits`).
#[derive(Args, Clone)]
struct LimitArgs {
    /// Connections open at once (lowered to fit the descriptor limit).
    #[arg(long, default_value_t = dauys_node::server::Limits::default().connections)]
    connections_max: usize,
    /// Requests handled at once; more are answered 503 at once.
    #[arg(long, default_value_t = dauys_node::server::Limits::default().in_flight)]
    in_flight_max: usize,
    /// Exports and live streams open at once.
    #[arg(long, default_value_t = dauys_node::server::Limits::default().streams)]
    streams_max: usize,
    /// Request headers must arrive within this many milliseconds (also the idle keep-alive timeout).
    #[arg(long, default_value_t = 10_000)]
    header_timeout_ms: u64,
    /// A request body must arrive within this many milliseconds.
    #[arg(long, default_value_t = 10_000)]
    body_timeout_ms: u64,
    /// A client that reads nothing of a response for this many milliseconds is disconnected.
    #[arg(long, default_value_t = 30_000)]
    stall_timeout_ms: u64,
}

impl LimitArgs {
    fn limits(&self) -> dauys_node::server::Limits {
        use std::time::Duration;
        dauys_node::server::Limits {
            connections: self.connections_max.max(1),
            in_flight: self.in_flight_max.max(1),
            streams: self.streams_max.max(1),
            header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(self.body_timeout_ms.max(1)),
            stall_timeout: Duration::from_millis(self.stall_timeout_ms.max(1)),
        }
    }
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Check a receipt offline: signed by the log key, cosigned by a quorum, the entry included.
    Verify {
        /// The `.tlog-proof` file.
        receipt: PathBuf,
        /// The log's verifier key (`dauys log-key` prints it; publish it out of band).
        #[arg(long)]
        log_key: String,
        /// Also check, from a few tiles, that the log's latest checkpoint still contains it.
        #[arg(long)]
        node: Option<String>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Replace a receipt's checkpoint by the node's latest (cosigned) one, checked to extend it.
    Update {
        /// The `.tlog-proof` file (rewritten in place).
        receipt: PathBuf,
        /// The log's verifier key.
        #[arg(long)]
        log_key: String,
        /// The node URL.
        #[arg(long, env = "DAUYS_NODE", default_value = "http://127.0.0.1:8080")]
        node: String,
        /// How long to wait for a checkpoint that covers the entry and meets the quorum.
        #[arg(long, default_value_t = 30)]
        wait_seconds: u64,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Create a witness: its key (0600) and witness.toml; prints its verifier key.
    Init {
        /// The witness's directory.
        #[arg(long)]
        data: PathBuf,
        /// Its name, e.g. witness.example.org/w1.
        #[arg(long)]
        name: String,
    },
    /// Serve `add-checkpoint` (C2SP tlog-witness).
    Serve {
        /// The witness's directory.
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: std::net::SocketAddr,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Print the public key of a secret key file.
    Public {
        /// The secret key file.
        file: PathBuf,
    },
    /// Add the header to a key file written before key files had one.
    Upgrade {
        /// The old key file (64 hex digits).
        file: PathBuf,
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
        /// A trustee's public key (repeat; format 3 requires 2 to 16, in index order).
        #[arg(long = "trustee")]
        trustees: Vec<String>,
        /// How many trustees' shares decrypt the tally (format 3; at least 2).
        #[arg(long, default_value_t = 2)]
        threshold: u8,
    },
    /// Declare the result, recomputed from the node's export after verifying it
    /// (format 3: decrypted from the trustees' shares).
    Declare {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

#[derive(Subcommand)]
enum TrusteeCommand {
    /// Take your next step in a referendum's key ceremony (commit, deal,
    /// send shares, or complain about a bad share), after verifying the log.
    Ceremony {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
        /// Post the complaint against a trustee whose share to you is bad
        /// (it reveals your box secret for this ceremony: first confirm the
        /// log with witnesses).
        #[arg(long)]
        complain: bool,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Post your decryption share of a closed referendum's tally, once you
    /// confirmed its fingerprint with the other trustees and observers.
    Decrypt {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
        /// The encrypted tally's fingerprint you confirmed (the first run
        /// prints it; so does `dauys verify`); at least 16 hex digits.
        #[arg(long)]
        tally: Option<String>,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

#[derive(Subcommand)]
enum BallotCommand {
    /// Cast a ballot: encrypted and proven on this machine in a secret
    /// referendum (format 3), open otherwise. Casting again replaces your
    /// earlier ballot in a secret referendum.
    Cast {
        #[command(flatten)]
        client: Client,
        /// Referendum id.
        referendum: String,
        /// Index of the chosen option (0 is the proposal).
        choice: u8,
        #[command(flatten)]
        trust: TrustArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sled=warn,tower_http=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Structured JSON lines for log collectors, plain text for people.
    if std::env::var("DAUYS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
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

/// Refuses a secret key file where public keys or a ledger are expected,
/// without echoing any of it.
pub(crate) fn refuse_secret_key(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if dauys_node::is_secret_key_text(bytes) {
        bail!(
            "{} is a secret key file; refusing to read it here (nothing of it is shown). \
             For its public key run `dauys key public {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

fn fsck(data: &Path, repair: bool) -> anyhow::Result<ExitCode> {
    use dauys_store::log::Tail;
    let report = dauys_store::fsck::inspect(data)?;
    println!("data directory {}", data.display());
    match &report.marker {
        Some(marker) => println!(
            "ledger {} (format {}), genesis {}{}",
            hex::encode(marker.ledger_id),
            marker.format,
            hex::encode(marker.genesis),
            match report.genesis_matches {
                Some(true) => " — entry 0 matches",
                Some(false) => " — entry 0 DOES NOT match",
                None => "",
            }
        ),
        None => println!("no ledger marker (written by `dauys init` since format 2)"),
    }
    println!(
        "log.dat: {} bytes, format {:?}; {} committed entries in {} batches, head {}, committed up to byte {}",
        report.file_len,
        report.format,
        report.entries,
        report.batches,
        hex::encode(report.head),
        report.committed_end
    );
    if report.locked {
        println!("a process holds the directory's lock (a running node)");
    }
    for kept in &report.kept_aside {
        println!("kept aside earlier: {}", kept.display());
    }
    match &report.tail {
        Tail::Clean => println!("the log ends cleanly after its last commit"),
        Tail::Torn { offset, bytes, reason, damage } => {
            println!("TORN TAIL: {bytes} bytes from byte {offset}: {reason}");
            if let Some(damage) = damage {
                println!("  first damage at position {} (byte {}): {}", damage.position, damage.offset, damage.problem);
            }
            println!("  never acknowledged; the node keeps these bytes aside and cuts them when it starts");
        }
        Tail::Corrupt(damage) => {
            println!("CORRUPT at position {} (byte {}): {}", damage.position, damage.offset, damage.problem);
            println!(
                "  entries from position {} on are affected; `dauys fsck --repair` moves every byte from {} into \
                 damaged/ (nothing is deleted); restore the lost entries from a mirror or a backup",
                report.entries, report.committed_end
            );
        }
    }
    if !repair {
        return Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let done = dauys_store::fsck::repair(data)?;
    match done.kept_at {
        Some(path) => println!(
            "repaired: moved {} bytes to {}; {} entries remain",
            done.moved_bytes,
            path.display(),
            done.entries
        ),
        None => println!("nothing to repair"),
    }
    Ok(ExitCode::SUCCESS)
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Keygen { out } => setup::keygen(&out),
        Command::Key(KeyCommand::Public { file }) => setup::public_key(&file),
        Command::Key(KeyCommand::Upgrade { file }) => setup::upgrade_key(&file),
        Command::Fsck { data, repair } => fsck(&data, repair),
        Command::Init { data, rules, commission_key } => setup::init(&data, &rules, &commission_key),
        Command::Serve { data, listen, limits, witnesses } => {
            setup::serve(&data, listen, None, limits.limits(), setup::witnesses(witnesses.as_deref())?)
        }
        Command::Demo { data, listen, limits, witnesses } => {
            setup::demo(data, listen, limits.limits(), setup::witnesses(witnesses.as_deref())?)
        }
        Command::LogKey { source } => {
            println!("{}", tlog::log_key(&source)?.encode());
            Ok(ExitCode::SUCCESS)
        }
        Command::Proof(ProofCommand::Verify { receipt, log_key, node, trust }) => {
            tlog::verify_receipt(&receipt, tlog::parse_log_key(&log_key)?, &trust.resolve()?, node.as_deref())
        }
        Command::Proof(ProofCommand::Update { receipt, log_key, node, wait_seconds, trust }) => tlog::update_receipt(
            &receipt,
            tlog::parse_log_key(&log_key)?,
            &trust.resolve()?,
            &node,
            std::time::Duration::from_secs(wait_seconds),
        ),
        Command::Witness(WitnessCommand::Init { data, name }) => witness::init(&data, &name),
        Command::Witness(WitnessCommand::Serve { data, listen }) => witness::serve(&data, listen),
        Command::Mirror { data, out } => tlog::mirror(&data, &out),
        Command::Enroll { client, district, file, mut keys } => {
            if let Some(file) = file {
                let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                refuse_secret_key(&file, &bytes)?;
                let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{} is not text", file.display()))?;
                for (n, line) in text.lines().map(str::trim).enumerate() {
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    // Never echo the line: a file of keys may be something else.
                    dauys_core::hexser::parse::<32>(line).map_err(|_| {
                        anyhow::anyhow!("{} line {}: not a public key (64 lowercase hex digits)", file.display(), n + 1)
                    })?;
                    keys.push(line.to_owned());
                }
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
            trustees,
            threshold,
        }) => {
            let opens_at_ms = opens_at_ms.unwrap_or_else(|| dauys_node::now_ms() + 60_000);
            let trustees = if trustees.is_empty() {
                None
            } else {
                let keys = trustees
                    .iter()
                    .map(|k| dauys_core::hexser::parse::<32>(k).map_err(|e| anyhow::anyhow!("trustee key {k:?}: {e}")))
                    .collect::<anyhow::Result<_>>()?;
                Some(dauys_core::event::Trustees { keys, threshold })
            };
            submit(
                &client,
                Body::ReferendumCalled {
                    petition: id(&petition)?,
                    subject,
                    question,
                    options,
                    opens_at_ms,
                    closes_at_ms: opens_at_ms.saturating_add(window_ms),
                    trustees,
                },
            )
        }
        Command::Referendum(ReferendumCommand::Declare { client, referendum, trust }) => {
            let referendum = id(&referendum)?;
            let verified = verified_ledger(&client, &trust.resolve()?, "declare")?;
            let Some(record) = verified.ledger.referendum(&referendum) else {
                bail!("no referendum {}", hex::encode(referendum))
            };
            let tally = match verified.ledger.ceremony(&referendum) {
                Some(ceremony) => {
                    let started = std::time::Instant::now();
                    let counts =
                        ceremony.decrypt_counts().map_err(|e| anyhow::anyhow!("cannot decrypt the tally yet: {e}"))?;
                    eprintln!(
                        "decrypted from the shares of trustees {:?} in {:.1} ms",
                        ceremony.shared_by(),
                        started.elapsed().as_secs_f64() * 1e3
                    );
                    counts
                }
                None => record.tally.clone(),
            };
            let outcome = dauys_core::state::outcome(verified.ledger.rules(), &tally, record.electorate);
            eprintln!(
                "recomputed tally {:?} of {} ballots: {}",
                tally,
                record.ballots(),
                if outcome == Outcome::Approved { "approved" } else { "not approved" }
            );
            submit(&client, Body::ResultDeclared { referendum, tally, outcome })
        }
        Command::Ballot(BallotCommand::Cast { client, referendum, choice, trust }) => {
            let referendum = id(&referendum)?;
            // The election key comes from the log as checked here, never
            // from the node's word: a forked view could name other trustees.
            let verified = verified_ledger(&client, &trust.resolve()?, "cast a ballot")?;
            let ballot = match verified.ledger.view().ballot_key(&referendum) {
                Some((key, options)) => {
                    let voter = setup::read_key(&client.key)?.public();
                    let context = dauys_core::secret::BallotContext {
                        ledger_id: verified.ledger.ledger_id(),
                        referendum: &referendum,
                        voter: &voter,
                        key: &key,
                        options,
                    };
                    let ballot =
                        dauys_core::secret::SecretBallot::encrypt(&context, usize::from(choice), &mut os_rng()?)
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                    eprintln!("ballot encrypted to the trustees' joint key {} and proven", hex::encode(key.0));
                    Ballot::Secret(ballot)
                }
                None if verified.ledger.ceremony(&referendum).is_some() => {
                    bail!("the referendum's key ceremony is not complete: no election key to encrypt to yet")
                }
                None => Ballot::Open { choice },
            };
            submit(&client, Body::BallotCast { referendum, ballot })
        }
        Command::Trustee(TrusteeCommand::Ceremony { client, referendum, complain, trust }) => {
            let referendum = id(&referendum)?;
            let verified = verified_ledger(&client, &trust.resolve()?, "take a ceremony step")?;
            let keypair = setup::read_key(&client.key)?;
            let Some(ceremony) = verified.ledger.ceremony(&referendum) else {
                bail!("referendum {} has no key ceremony (not a format 3 referendum?)", hex::encode(referendum))
            };
            let Some(index) = ceremony.index_of(&keypair.public()) else {
                bail!("your key is not a trustee of this referendum")
            };
            let secrets = dauys_core::ceremony::TrusteeSecrets::derive(&keypair.seed(), &referendum);
            use dauys_core::ceremony::CeremonyStatus;
            // A bad share is looked for first, the ceremony complete or not:
            // a trustee who sends bad shares last must still be blamed
            // (complaints are taken until voting closes).
            if ceremony.status() != CeremonyStatus::Failed && ceremony.commitment_of(index).is_some() {
                if let Some(&accused) = secrets.bad_senders(ceremony, index).first() {
                    if !complain {
                        eprintln!(
                            "trustee {accused} sent you a share that is not on its polynomial. A complaint reveals your \
                             box secret for this ceremony (and so every share sent to you): confirm first that this log \
                             is the one everyone sees (--witness KEY --quorum K), then run again with --complain"
                        );
                        return Ok(ExitCode::from(1));
                    }
                    eprintln!("complaining about trustee {accused}");
                    let body = Body::TrusteeComplained {
                        referendum,
                        accused: u8::try_from(accused)?,
                        box_secret: secrets.box_secret(),
                    };
                    return submit(&client, body);
                }
            }
            let body = match ceremony.status() {
                CeremonyStatus::Failed | CeremonyStatus::Complete => {
                    eprintln!("the ceremony is {}; nothing to do", ceremony.status().name());
                    return Ok(ExitCode::SUCCESS);
                }
                _ if ceremony.commitment_of(index).is_none() => Body::TrusteeCommitted {
                    referendum,
                    commitment: secrets.commitment(ceremony, index),
                    box_key: secrets.box_key(),
                },
                CeremonyStatus::Committing => return waiting("every trustee's commitment"),
                _ if ceremony.dealt_by(index).is_none() => {
                    let dealt = secrets.dealt(ceremony, index).map_err(|e| anyhow::anyhow!(e))?;
                    Body::TrusteeDealt {
                        referendum,
                        polynomial: dealt.polynomial,
                        proof: dealt.proof,
                        opening: dealt.opening,
                    }
                }
                CeremonyStatus::Dealing => return waiting("every trustee's polynomial"),
                _ if ceremony.sent_by(index).is_none() => Body::TrusteeSharesSent {
                    referendum,
                    shares: secrets.sealed_shares(ceremony, index).map_err(|e| anyhow::anyhow!(e))?,
                },
                _ => return waiting("every trustee's shares"),
            };
            eprintln!("posting {}", body.kind().name());
            submit(&client, body)
        }
        Command::Trustee(TrusteeCommand::Decrypt { client, referendum, tally, trust }) => {
            let referendum = id(&referendum)?;
            let verified = verified_ledger(&client, &trust.resolve()?, "decrypt")?;
            let keypair = setup::read_key(&client.key)?;
            let Some(ceremony) = verified.ledger.ceremony(&referendum) else {
                bail!("referendum {} has no key ceremony", hex::encode(referendum))
            };
            let record = verified.ledger.referendum(&referendum).ok_or_else(|| anyhow::anyhow!("no referendum"))?;
            if dauys_node::now_ms() < record.closes_at_ms {
                bail!("voting has not closed: a trustee decrypts only the final tally");
            }
            // Decrypt only the tally everyone sees: a node could serve this
            // trustee a prefix or a fork whose sum is a single ballot.
            let fingerprint = ceremony.tally_fingerprint();
            let (counted, superseded) = ceremony.ballot_counts();
            let confirmed =
                tally.as_deref().is_some_and(|t| t.len() >= 16 && fingerprint.starts_with(&t.to_lowercase()));
            if !confirmed {
                eprintln!(
                    "encrypted tally {fingerprint} over {counted} ballots ({superseded} superseded). Confirm this \
                     fingerprint with the other trustees and with observers (`dauys verify` prints it), then run \
                     again with --tally {}",
                    &fingerprint[..16]
                );
                return Ok(ExitCode::from(2));
            }
            let Some(index) = ceremony.index_of(&keypair.public()) else {
                bail!("your key is not a trustee of this referendum")
            };
            let secrets = dauys_core::ceremony::TrusteeSecrets::derive(&keypair.seed(), &referendum);
            let share = secrets
                .decryption_share(ceremony, index, verified.ledger.ledger_id(), &mut os_rng()?)
                .map_err(|e| anyhow::anyhow!(e))?;
            submit(&client, Body::DecryptionShared { referendum, share })
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
        Command::Verify { source, json, trust } => verify::run(&source, json, &trust.resolve()?),
        Command::Follow { url, trust } => verify::follow(&url, &trust.resolve()?),
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
        // Read-only: never locks, creates, cuts or deletes anything, so it
        // is safe beside a running node. Streamed through a pipe, so memory
        // stays flat however long the log is.
        let reader = dauys_store::reader::LedgerReader::open(path)?;
        let (pipe, mut writer) = std::io::pipe()?;
        let source = source.to_owned();
        std::thread::spawn(move || {
            let mut out = std::io::BufWriter::new(&mut writer);
            let read = reader.for_each(|position, bytes| {
                let line = dauys_core::verify::export_line(position, &dauys_core::sha256(bytes), bytes);
                out.write_all(line.as_bytes())
            });
            match read {
                Ok(end) => {
                    if let Some(note) = end.note() {
                        eprintln!("note: {source}: {note}");
                    }
                    let _ = out.flush();
                }
                // The reader of the pipe went away (verify stopped early).
                Err(dauys_store::reader::ReadError::Stopped(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(error) => {
                    // A short export must never pass for a whole one.
                    let message = match error {
                        dauys_store::reader::ReadError::Store(e) => e.to_string(),
                        dauys_store::reader::ReadError::Stopped(e) => e.to_string(),
                    };
                    eprintln!("error: reading {source}: {message}");
                    std::process::exit(2);
                }
            }
        });
        return Ok(Box::new(pipe));
    }
    let mut file = std::fs::File::open(path).with_context(|| format!("opening {source}"))?;
    let mut start = [0u8; 64];
    let n = read_up_to(&mut file, &mut start)?;
    refuse_secret_key(path, &start[..n])?;
    Ok(Box::new(std::io::Read::chain(std::io::Cursor::new(start[..n].to_vec()), file)))
}

fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

pub(crate) fn http_get(url: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    let response = ureq::get(url).call().with_context(|| format!("GET {url}"))?;
    Ok(Box::new(response.into_reader()))
}

/// The ledger a node serves, verified here from its export and checked
/// against its checkpoint under `trust` (the log key's signature, the
/// witnesses' quorum, the checkpoints seen before) before any act is derived
/// from it (an election key, a tally, a ceremony step).
fn verified_ledger(client: &Client, trust: &tlog::Trust, purpose: &str) -> anyhow::Result<Verified> {
    let node = client.node.trim_end_matches('/');
    match verify::replay(node, trust)?.trusted() {
        Ok(verified) => Ok(verified),
        Err(problem) => bail!("refusing to {purpose}: {problem}"),
    }
}

fn waiting(what: &str) -> anyhow::Result<ExitCode> {
    eprintln!("your step is on the log; waiting for {what} (run this again later)");
    Ok(ExitCode::SUCCESS)
}

/// A cryptographic RNG seeded from the operating system.
fn os_rng() -> anyhow::Result<rand_chacha::ChaCha20Rng> {
    use rand_chacha::rand_core::SeedableRng;
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(rand_chacha::ChaCha20Rng::from_seed(seed))
}

fn random_nonce() -> anyhow::Result<u64> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(u64::from_be_bytes(bytes))
}

/// The nonce for a new act. Format 2 needs each author's nonces to grow:
/// microseconds since the epoch do, and `after` (the author's last nonce,
/// when a refusal named it) lifts a slow clock past it.
fn next_nonce(version: u64, after: Option<u64>) -> anyhow::Result<u64> {
    if version < 2 {
        return random_nonce();
    }
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    Ok(after.map_or(micros, |last| micros.max(last.saturating_add(1))))
}

/// Signs `body` locally with the client's key and submits it; prints the
/// receipt (exit 0) or the node's refusal (exit 1).
fn submit(client: &Client, body: Body) -> anyhow::Result<ExitCode> {
    let keypair = setup::read_key(&client.key)?;
    let node = client.node.trim_end_matches('/');
    let genesis: serde_json::Value =
        ureq::get(&format!("{node}/v1/genesis")).call().context("reading the ledger id")?.into_json()?;
    let ledger_id = id(genesis["ledger_id"].as_str().unwrap_or_default())?;
    let format = genesis["format"].as_u64().unwrap_or(1);
    let version = dauys_core::Version::from_u16(u16::try_from(format).unwrap_or(0))
        .ok_or_else(|| anyhow::anyhow!("the node serves a ledger of format {format}, unknown to this dauys"))?;
    let mut after = None;
    // One retry: a stale nonce (another act by the same key got in first,
    // or this machine's clock is behind) is re-signed past the last one.
    for attempt in 0..2 {
        let payload = Payload { version, ledger_id, nonce: next_nonce(format, after)?, body: body.clone() };
        let submission = Submission::sign(&keypair, &payload);
        match send(node, &genesis, &ledger_id, &submission, client.save_receipt.as_deref())? {
            Sent::StaleNonce(last) if attempt == 0 => after = Some(last),
            Sent::Done(code) => return Ok(code),
            Sent::StaleNonce(_) => return Ok(ExitCode::from(1)),
        }
    }
    Ok(ExitCode::from(1))
}

enum Sent {
    Done(ExitCode),
    StaleNonce(u64),
}

/// Whether a receipt proves what it claims: format 1, a head signed by the
/// genesis's log key that covers the entry; format 2, a tlog-proof whose
/// checkpoint the log key signed and that includes exactly the submitted
/// act at the receipt's position.
fn check_receipt(
    receipt: &serde_json::Value,
    genesis: &serde_json::Value,
    ledger_id: &Hash,
    submission: &Submission,
) -> Result<Option<String>, String> {
    let log_key = id(genesis["log_key"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
    let position = receipt["position"].as_u64().ok_or("the receipt has no position")?;
    let entry_hash = receipt["entry_hash"].as_str().unwrap_or_default();
    match (genesis["origin"].as_str(), receipt["proof"].as_str()) {
        (Some(origin), Some(text)) => {
            let proof = dauys_core::tlog::Receipt::parse(text).map_err(|e| e.to_string())?;
            let policy = dauys_core::tlog::Policy::log_only(origin, &log_key);
            proof.verify(&policy).map_err(|e| e.to_string())?;
            let entry = Entry::decode(&proof.entry).map_err(|e| e.to_string())?;
            let same = proof.index == position
                && hex::encode(dauys_core::sha256(&proof.entry)) == entry_hash
                && entry.author == submission.author
                && entry.payload == submission.payload.as_slice();
            if !same {
                return Err("the proof is not of the act submitted".into());
            }
            Ok(Some(text.to_owned()))
        }
        (None, _) => {
            let head: dauys_core::SignedHead =
                serde_json::from_value(receipt["head"].clone()).map_err(|_| "the receipt has no signed head")?;
            if head.verify(&log_key).is_err() || head.ledger_id != *ledger_id || head.size <= position {
                return Err("the receipt is not a valid signed head covering the entry".into());
            }
            Ok(None)
        }
        (Some(_), None) => Err("a format 2 receipt without its proof".into()),
    }
}

fn send(
    node: &str,
    genesis: &serde_json::Value,
    ledger_id: &Hash,
    submission: &Submission,
    save: Option<&Path>,
) -> anyhow::Result<Sent> {
    let request = dauys_node::submission_json(submission);
    match ureq::post(&format!("{node}/v1/events")).send_json(request) {
        Ok(response) => {
            let receipt: serde_json::Value = response.into_json()?;
            println!("{}", serde_json::to_string_pretty(&receipt)?);
            // The receipt is only proof if the ledger's published log key
            // signed what covers the new entry.
            match check_receipt(&receipt, genesis, ledger_id, submission) {
                Ok(proof) => {
                    if let Some(path) = save {
                        let text = proof.unwrap_or_else(|| receipt.to_string());
                        std::fs::write(path, text).with_context(|| format!("saving {}", path.display()))?;
                        eprintln!("receipt saved to {}", path.display());
                    }
                    Ok(Sent::Done(ExitCode::SUCCESS))
                }
                Err(problem) => {
                    eprintln!("the node accepted the act, but its receipt does not prove it: {problem}");
                    Ok(Sent::Done(ExitCode::from(1)))
                }
            }
        }
        Err(ureq::Error::Status(status, response)) => {
            let body: serde_json::Value = response.into_json().unwrap_or_default();
            if body["code"] == "stale_nonce" {
                if let Some(last) = body["details"]["last"].as_str().and_then(|l| l.parse().ok()) {
                    return Ok(Sent::StaleNonce(last));
                }
            }
            eprintln!(
                "refused ({status} {}): {}",
                body["code"].as_str().unwrap_or("unknown"),
                body["message"].as_str().unwrap_or("no message")
            );
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(Sent::Done(ExitCode::from(1)))
        }
        Err(error) => Err(error).context("submitting"),
    }
}
