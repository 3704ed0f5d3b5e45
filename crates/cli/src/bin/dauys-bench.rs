//! `dauys-bench`: the measurements behind BENCHMARKS.md, each printed
//! beside the limit it is compared with, measured in the same run.
//!
//! - `sigs FILE`: raw `verify_strict` rate over the signatures of an export,
//!   on one core and on all cores (the replay limit);
//! - `ingest`: durable acknowledgments per second over HTTP from concurrent
//!   clients with pre-signed supports, p50/p99 latency, against a `dauys
//!   serve` child process (with `--witness`, a `dauys witness serve` child on
//!   loopback cosigning its checkpoints with a quorum of one);
//! - `load-store FILE DIR`: writes an export into a node data directory (for
//!   the restart measurement);
//! - `proofs URL DATA`: against a node serving DATA, inclusion and
//!   consistency proofs: time to build them from the node's stored hashes
//!   (as the node does), the node's receipts over HTTP, and what a client
//!   fetches (tiles, bytes) to build and check them itself;
//! - `ballots`: the secret-ballot proof limit: verification of one ballot's
//!   proofs (2 and 5 options) on one core and on all cores;
//! - `ingest-secret CLIENTS BALLOTS`: secret ballots over HTTP against a
//!   node whose referendum's ceremony is complete, beside the one-core
//!   proof-verification rate;
//! - `tally COUNTED`: decryption and declaration of a tally of COUNTED
//!   ballots: two trustees' shares, their checks, the combination, finding
//!   the counts by baby-step giant-step, checking them.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dauys_core::event::Body;
use dauys_core::verify::prepare_line;
use dauys_core::{crypto, sha256, Entry, Keypair, Submission, Version};
use rayon::prelude::*;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["sigs", file] => sigs(file),
        ["ingest", clients, events] => ingest(clients.parse()?, events.parse()?, false),
        ["ingest", clients, events, "--witness"] => ingest(clients.parse()?, events.parse()?, true),
        ["load-store", file, dir] => load_store(file, dir),
        ["proofs", url, data] => proofs(url, data),
        ["ballots"] => ballots(),
        ["ingest-secret", clients, ballots] => ingest_secret(clients.parse()?, ballots.parse()?),
        ["tally", counted] => tally(counted.parse()?),
        _ => {
            eprintln!(
                "usage: dauys-bench sigs FILE | ingest CLIENTS EVENTS [--witness] | load-store FILE DIR | proofs URL DATA \
                 | ballots | ingest-secret CLIENTS BALLOTS | tally COUNTED"
            );
            std::process::exit(2);
        }
    }
}

/// One signed act: author, payload, signature.
type Signed = ([u8; 32], Vec<u8>, [u8; 64]);

/// The signed acts of every entry in an export.
fn signed_items(file: &str) -> anyhow::Result<Vec<Signed>> {
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let lines: Vec<String> = reader.lines().collect::<Result<_, _>>()?;
    Ok(lines
        .par_iter()
        .filter_map(|line| {
            let entry = prepare_line(line.as_bytes()).ok()?;
            let decoded = Entry::decode(&entry.bytes).ok()?;
            Some((decoded.author, decoded.payload.to_vec(), decoded.signature))
        })
        .collect())
}

fn sigs(file: &str) -> anyhow::Result<()> {
    let items = signed_items(file)?;
    let n = items.len();
    let one_core: Vec<_> = items.iter().take(20_000).collect();
    let started = Instant::now();
    let ok = one_core.iter().filter(|(a, p, s)| crypto::verify(a, p, s).is_ok()).count();
    let single = one_core.len() as f64 / started.elapsed().as_secs_f64();
    assert_eq!(ok, one_core.len(), "every signature in a valid export verifies");
    let started = Instant::now();
    let ok = items.par_iter().filter(|(a, p, s)| crypto::verify(a, p, s).is_ok()).count();
    let all = n as f64 / started.elapsed().as_secs_f64();
    assert_eq!(ok, n);
    println!("signatures: {n}");
    println!("verify_strict, one core: {single:.0}/s");
    println!("verify_strict, all {} cores: {all:.0}/s", rayon::current_num_threads());
    Ok(())
}

/// Nearest-rank percentile (`permille` of 1000) of a sorted, non-empty sample.
fn percentile(sorted: &[Duration], permille: usize) -> Duration {
    let rank = (sorted.len() * permille).div_ceil(1000).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn post(agent: &ureq::Agent, url: &str, submission: &Submission) -> anyhow::Result<u16> {
    let body = dauys_node::submission_json(submission);
    match agent.post(&format!("{url}/v1/events")).send_json(body) {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(status, _)) => Ok(status),
        Err(e) => Err(e.into()),
    }
}

/// Starts `dauys ARGS` and returns it with the URL it prints.
fn start(args: &[&str]) -> anyhow::Result<(std::process::Child, String)> {
    let exe = std::env::current_exe()?.with_file_name("dauys");
    let mut child = Command::new(exe).args(args).env("RUST_LOG", "warn").stdout(Stdio::piped()).spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().ok_or_else(|| anyhow::anyhow!("dauys {args:?} exited"))??;
        if let Some(rest) = line.split(" at ").nth(1) {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((child, url))
}

/// A witness for the log in `data`, on loopback; its child process and the
/// witness policy file for `dauys serve --witnesses`.
fn start_witness(data: &std::path::Path) -> anyhow::Result<(std::process::Child, PathBuf)> {
    let exe = std::env::current_exe()?.with_file_name("dauys");
    let dir = data.with_extension("witness");
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(&exe).args(args).output()?;
        anyhow::ensure!(out.status.success(), "dauys {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    };
    let witness_key =
        run(&["witness", "init", "--data", dir.to_str().unwrap_or_default(), "--name", "bench.example/w1"])?;
    let log_key = run(&["log-key", data.to_str().unwrap_or_default()])?;
    let origin = log_key.split('+').next().unwrap_or_default();
    let config = dir.join("witness.toml");
    let text = std::fs::read_to_string(&config)? + &format!("[[log]]\norigin = \"{origin}\"\nkey = \"{log_key}\"\n");
    std::fs::write(&config, text)?;
    let (child, url) =
        start(&["witness", "serve", "--data", dir.to_str().unwrap_or_default(), "--listen", "127.0.0.1:0"])?;
    let policy = data.with_extension("witnesses.toml");
    std::fs::write(&policy, format!("quorum = 1\n[[witness]]\nurl = \"{url}\"\nkey = \"{witness_key}\"\n"))?;
    Ok((child, policy))
}

fn ingest(clients: usize, events: usize, with_witness: bool) -> anyhow::Result<()> {
    // A fresh ledger from the large fixture's genesis, with the fixture's log key.
    let dir = tempfile_dir()?;
    let seed = dauys_fixtures::large(Version::LATEST, 1);
    create_store(&seed.entries()[0], &dir)?;
    let data = dir.to_str().unwrap_or_default().to_owned();
    let mut args = vec!["serve", "--data", &data, "--listen", "127.0.0.1:0"];
    let witness = if with_witness { Some(start_witness(&dir)?) } else { None };
    let policy = witness.as_ref().map(|(_, policy)| policy.to_str().unwrap_or_default().to_owned());
    if let Some(policy) = &policy {
        args.extend(["--witnesses", policy.as_str()]);
    }
    let (mut child, url) = start(&args)?;
    let agent = ureq::AgentBuilder::new().build();
    let mut builder = dauys_fixtures::Builder::new(Version::LATEST, sha256(b"dauys-fixture-ledger/large"));
    // Nonces above the genesis's, counting up: every author's grow.
    builder.set_nonce(1_000);
    let commission = dauys_fixtures::village_roles().commission;
    let voters: Vec<Keypair> =
        (0..clients as u64 * 50).map(|n| dauys_fixtures::key(&format!("bench/voter/{n}"))).collect();
    for chunk in voters.chunks(1000) {
        let body = Body::VotersEnrolled { district: "Bench".into(), keys: chunk.iter().map(Keypair::public).collect() };
        assert_eq!(post(&agent, &url, &builder.sign(&commission, body))?, 201);
    }
    let petitions_count = events.div_ceil(voters.len()).max(1);
    let mut petitions = Vec::new();
    for (i, initiator) in voters.iter().take(petitions_count).enumerate() {
        let body =
            Body::PetitionFiled { subject: "culture".into(), title: format!("Bench {i}"), text: "Bench.".into() };
        let response = agent
            .post(&format!("{url}/v1/events"))
            .send_json(dauys_node::submission_json(&builder.sign(initiator, body)))?;
        let receipt: serde_json::Value = response.into_json()?;
        petitions.push(
            dauys_core::hexser::parse::<32>(receipt["entry_hash"].as_str().unwrap_or_default())
                .map_err(anyhow::Error::msg)?,
        );
    }
    // Pre-sign every support, spread so that each client owns its voters.
    let mut per_client: Vec<Vec<Submission>> = vec![Vec::new(); clients];
    let mut made = 0;
    'outer: for petition in &petitions {
        for (v, voter) in voters.iter().enumerate() {
            if made == events {
                break 'outer;
            }
            per_client[v % clients].push(builder.sign(voter, Body::PetitionSupported { petition: *petition }));
            made += 1;
        }
    }
    // The limit beside the figure: one core's raw verify_strict rate over
    // the same pre-signed supports.
    let sample: Vec<&Submission> = per_client.iter().flatten().take(20_000).collect();
    let started = Instant::now();
    let verified = sample.iter().filter(|s| crypto::verify(&s.author, &s.payload, &s.signature).is_ok()).count();
    let one_core = verified as f64 / started.elapsed().as_secs_f64();
    eprintln!("pre-signed {made} supports for {clients} clients; posting");
    let (latencies, failed, elapsed) = post_all(&url, per_client);
    let acked = latencies.len();
    // How long a receipt would wait for the witness quorum: from the last
    // acknowledgment until the served (cosigned) checkpoint covers it.
    let cosigned_after = if with_witness {
        let health: serde_json::Value = agent.get(&format!("{url}/healthz")).call()?.into_json()?;
        let size = health["entries"].as_u64().unwrap_or(0);
        let waiting = Instant::now();
        loop {
            let health: serde_json::Value = agent.get(&format!("{url}/healthz")).call()?.into_json()?;
            if health["checkpoint_size"].as_u64().unwrap_or(0) >= size || waiting.elapsed() > Duration::from_secs(30) {
                break Some(waiting.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    } else {
        None
    };
    let metrics = agent.get(&format!("{url}/metrics")).call()?.into_string()?;
    let metric = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    let (syncs, sync_seconds, batched) =
        (metric("dauys_sync_seconds_count"), metric("dauys_sync_seconds_sum"), metric("dauys_batch_size_sum"));
    let (rounds, round_seconds) = (metric("dauys_witness_seconds_count"), metric("dauys_witness_seconds_sum"));
    let unwitnessed = metric("dauys_unwitnessed");
    let _ = child.kill();
    let _ = child.wait();
    if let Some((mut witness, _)) = witness {
        let _ = witness.kill();
        let _ = witness.wait();
        println!(
            "witness on loopback: {rounds:.0} cosigning rounds, mean {:.1} ms each; at the end the served checkpoint \
             trailed the log by {unwitnessed:.0} entries (receipts carry the log-signed checkpoint at once)",
            round_seconds * 1000.0 / rounds.max(1.0)
        );
        if let Some(waited) = cosigned_after {
            println!(
                "a receipt waiting for the quorum would have waited {:.0} ms more after its 201 (the last act's wait)",
                ms(waited)
            );
        }
        let _ = std::fs::remove_dir_all(dir.with_extension("witness"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("clients: {clients}");
    println!("verify_strict on one core, same supports: {one_core:.0}/s");
    println!("acknowledged (201, durable): {acked}, failed: {failed}, in {:.2}s", elapsed.as_secs_f64());
    println!("throughput: {:.0} acknowledged events/s", acked as f64 / elapsed.as_secs_f64());
    println!(
        "group commit: {syncs:.0} fdatasyncs, mean {:.2} ms each, mean batch {:.1} acts",
        sync_seconds * 1000.0 / syncs.max(1.0),
        batched / syncs.max(1.0)
    );
    if acked > 0 {
        print_latency(&latencies);
    }
    Ok(())
}

/// Posts every client's submissions, one OS thread per client: each a
/// sequential submitter with its own keep-alive connection, as independent
/// citizens' apps would be. The acknowledged acts' latencies (sorted), the
/// failures, and the wall time.
fn post_all(url: &str, per_client: Vec<Vec<Submission>>) -> (Vec<Duration>, usize, Duration) {
    let started = Instant::now();
    let handles: Vec<_> = per_client
        .into_iter()
        .map(|mine| {
            let url = url.to_owned();
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut latencies = Vec::with_capacity(mine.len());
                let mut failed = 0usize;
                for submission in &mine {
                    let t = Instant::now();
                    match post(&agent, &url, submission) {
                        Ok(201) => latencies.push(t.elapsed()),
                        _ => failed += 1,
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let results: Vec<(Vec<Duration>, usize)> = handles.into_iter().map(|h| h.join().unwrap_or_default()).collect();
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    latencies.sort();
    (latencies, results.iter().map(|(_, f)| f).sum(), elapsed)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median and 99th percentile of `sorted` latencies, as both ingest
/// benchmarks report them.
fn print_latency(sorted: &[Duration]) {
    println!("latency p50: {:.1} ms, p99: {:.1} ms", ms(percentile(sorted, 500)), ms(percentile(sorted, 990)));
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dauys-bench-{}-{}", std::process::id(), dauys_node::now_ms()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A new data directory whose first entry is `genesis`, with the fixtures'
/// log key.
fn create_store(genesis: &(Vec<u8>, [u8; 32]), dir: &std::path::Path) -> anyhow::Result<()> {
    let key = dauys_node::secret_key_text(&dauys_fixtures::village_roles().log);
    dauys_store::Store::create(dir, std::slice::from_ref(genesis), &[("log.key", key.as_bytes(), 0o600)])?;
    Ok(())
}

/// Writes an export into a new node data directory, streaming it.
fn load_store(file: &str, dir: &str) -> anyhow::Result<()> {
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let dir = PathBuf::from(dir);
    let mut lines = reader.lines();
    let first = lines.next().ok_or_else(|| anyhow::anyhow!("{file} is empty"))??;
    let genesis = prepare_line(first.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    create_store(&(genesis.bytes, genesis.hash), &dir)?;
    let (mut store, _) = dauys_store::Store::open(&dir, |_, _| Ok(()))?;
    let mut batch = Vec::new();
    let mut count = 1u64;
    for line in lines {
        let prepared = prepare_line(line?.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
        batch.push(dauys_store::Append { author: prepared.author, hash: prepared.hash, bytes: prepared.bytes });
        if batch.len() == 4_096 {
            store.append(&batch).map_err(|e| anyhow::anyhow!("{e}"))?;
            count += batch.len() as u64;
            batch.clear();
        }
    }
    store.append(&batch).map_err(|e| anyhow::anyhow!("{e}"))?;
    count += batch.len() as u64;
    store.close()?;
    println!("wrote {count} entries to {}", dir.display());
    Ok(())
}

/// A tiny deterministic generator (xorshift) for sample indexes.
struct Sampler(u64);

impl Sampler {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Fetches what `tiles` lacks until `check` stops asking; returns the
/// verdict, tiles fetched and bytes.
fn with_tiles(
    agent: &ureq::Agent,
    base: &str,
    check: impl Fn(&tlog::TileSet) -> Result<(), tlog::TlogError>,
) -> anyhow::Result<(Result<(), tlog::TlogError>, usize, usize)> {
    let mut tiles = tlog::TileSet::default();
    let (mut count, mut bytes) = (0, 0);
    loop {
        let verdict = check(&tiles);
        let missing = tiles.take_missing();
        if missing.is_empty() {
            return Ok((verdict, count, bytes));
        }
        for path in missing {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut agent.get(&format!("{base}/{path}")).call()?.into_reader(), &mut body)?;
            count += 1;
            bytes += body.len();
            tiles.insert(path, body);
        }
    }
}

use dauys_core::tlog::{self, HashReader as _};

fn proofs(url: &str, data: &str) -> anyhow::Result<()> {
    let agent = ureq::AgentBuilder::new().build();
    let note = agent.get(&format!("{url}/tlog/checkpoint")).call()?.into_string()?;
    let text = note.split_once("\n\n").map(|(t, _)| format!("{t}\n")).unwrap_or_default();
    let checkpoint = tlog::Checkpoint::parse_text(&text)?;
    let n = checkpoint.size;
    let stored = dauys_store::tree::TreeReader::open(std::path::Path::new(data))?;
    let mut sample = Sampler(0x9e37_79b9_7f4a_7c15);
    println!("log of {n} entries");

    // Inclusion proofs, built from the stored hashes as the node does.
    let indexes: Vec<u64> = (0..2_000).map(|_| sample.below(n)).collect();
    let started = Instant::now();
    let mut lengths = 0usize;
    for &i in &indexes {
        lengths += tlog::prove_inclusion(n, i, &stored)?.len();
    }
    let build = started.elapsed() / u32::try_from(indexes.len())?;
    println!(
        "inclusion proof, built from tree.dat: {:.1} µs each ({:.1} hashes on average)",
        build.as_secs_f64() * 1e6,
        lengths as f64 / indexes.len() as f64
    );
    // The node's receipts over HTTP (loopback).
    let mut latencies = Vec::new();
    let mut bytes = 0usize;
    for &i in indexes.iter().take(500) {
        let t = Instant::now();
        let receipt = agent.get(&format!("{url}/v1/proof?index={i}")).call()?.into_string()?;
        latencies.push(t.elapsed());
        bytes += receipt.len();
    }
    latencies.sort();
    println!(
        "GET /v1/proof (receipt with entry and checkpoint): p50 {:.2} ms, p99 {:.2} ms, {:.0} bytes on average",
        ms(percentile(&latencies, 500)),
        ms(percentile(&latencies, 990)),
        bytes as f64 / 500.0
    );
    // A client proving inclusion itself from tiles.
    let base = format!("{url}/tlog");
    let mut fetched = Vec::new();
    let started = Instant::now();
    for &i in indexes.iter().take(50) {
        let (verdict, count, _) = with_tiles(&agent, &base, |tiles| {
            let reader = tlog::tlog_tiles_reader(n, &checkpoint.root, tiles);
            let proof = tlog::prove_inclusion(n, i, &reader)?;
            let leaf = reader
                .read_hashes(&[tlog::stored_hash_index(0, i)])
                .map_err(|e| tlog::TlogError::Malformed { what: "tile", problem: e.to_string() })?;
            tlog::check_record_hash(&proof, &checkpoint, i, leaf[0].0)
        })?;
        verdict?;
        fetched.push(count);
    }
    println!(
        "inclusion from tiles by a client: {:.1} tiles on average, {:.1} ms each over loopback",
        fetched.iter().sum::<usize>() as f64 / fetched.len() as f64,
        ms(started.elapsed()) / fetched.len() as f64
    );

    // Consistency proofs from older sizes.
    for old in [n - 1, n - 1_000, n / 2, 1_000] {
        let old_root = tlog::tree_root(old, &stored)?;
        let started = Instant::now();
        let proof = tlog::prove_consistency(n, old, &stored)?;
        let build = started.elapsed();
        let before = tlog::Checkpoint { origin: checkpoint.origin.clone(), size: old, root: old_root };
        let started = Instant::now();
        let (verdict, count, bytes) =
            with_tiles(&agent, &base, |tiles| tlog::check_consistency_from_tiles(tiles, &before, &checkpoint))?;
        verdict?;
        println!(
            "consistency {old} -> {n}: {} hashes, built from tree.dat in {:.1} µs; a client fetches {count} tiles \
             ({bytes} bytes) and checks it in {:.1} ms over loopback",
            proof.len(),
            build.as_secs_f64() * 1e6,
            ms(started.elapsed())
        );
    }
    Ok(())
}

/// A complete 2-of-3 ceremony in memory, for the secret-ballot measurements.
fn bench_ceremony(
    referendum: &dauys_core::Hash,
    options: usize,
) -> (dauys_core::ceremony::Ceremony, Vec<dauys_core::ceremony::TrusteeSecrets>) {
    let trustees: Vec<Keypair> = (0..3).map(|i| dauys_fixtures::key(&format!("bench/trustee/{i}"))).collect();
    dauys_fixtures::secret::complete_ceremony(referendum, &trustees, 2, options)
}

fn ballots() -> anyhow::Result<()> {
    use dauys_core::secret::{BallotContext, SecretBallot};
    let ledger_id = sha256(b"bench/ledger");
    let referendum = sha256(b"bench/referendum");
    let mut rng = dauys_fixtures::secret::fixture_rng("bench/ballots");
    for options in [2usize, 5] {
        let (ceremony, _) = bench_ceremony(&referendum, options);
        let key = ceremony.election_key().expect("complete");
        let count = 4_000;
        let voters: Vec<[u8; 32]> = (0..count).map(|n| sha256(format!("bench voter {n}").as_bytes())).collect();
        let started = Instant::now();
        let made: Vec<SecretBallot> = voters
            .iter()
            .enumerate()
            .map(|(n, voter)| {
                let context =
                    BallotContext { ledger_id: &ledger_id, referendum: &referendum, voter, key: &key, options };
                SecretBallot::encrypt(&context, n % options, &mut rng).expect("encrypts")
            })
            .collect();
        let encrypt = count as f64 / started.elapsed().as_secs_f64();
        let check = |(voter, ballot): (&[u8; 32], &SecretBallot)| {
            let context = BallotContext { ledger_id: &ledger_id, referendum: &referendum, voter, key: &key, options };
            ballot.verify(&context).is_ok()
        };
        let started = Instant::now();
        let ok = voters.iter().zip(&made).filter(|pair| check(*pair)).count();
        let one = ok as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        let ok_all = voters.par_iter().zip(made.par_iter()).filter(|pair| check(*pair)).count();
        let all = ok_all as f64 / started.elapsed().as_secs_f64();
        assert_eq!((ok, ok_all), (count, count));
        println!(
            "{options} options: ballot {} bytes; encrypt+prove {encrypt:.0}/s on one core; verify {one:.0}/s on one core \
             ({:.0} µs each), {all:.0}/s on all {} cores",
            SecretBallot::encoded_len(options) + 5,
            1e6 / one,
            rayon::current_num_threads()
        );
    }
    Ok(())
}

fn tally(counted: u64) -> anyhow::Result<()> {
    use dauys_core::secret::{check_counts, combine, find_counts, DecryptionShare, EncryptedTally, ShareContext};
    let ledger_id = sha256(b"bench/ledger");
    let referendum = sha256(b"bench/referendum");
    let mut rng = dauys_fixtures::secret::fixture_rng("bench/tally");
    let (ceremony, secrets) = bench_ceremony(&referendum, 2);
    let key = ceremony.election_key().expect("complete").public_key().map_err(|e| anyhow::anyhow!("{e}"))?;
    // The encrypted sum of `counted` ballots, 60% for option 0: decryption
    // works on the sum, whatever ballots made it, so it is built directly.
    let yes = counted * 6 / 10;
    let mut tally = EncryptedTally::new(2);
    tally.add(&[key.encrypt(yes, &mut rng), key.encrypt(counted - yes, &mut rng)]);
    let started = Instant::now();
    let mut shares = Vec::new();
    for trustee in [0usize, 2] {
        let active = secrets[trustee].active(&ceremony, trustee).map_err(anyhow::Error::msg)?;
        let context = ShareContext { ledger_id: &ledger_id, referendum: &referendum, trustee };
        shares.push((trustee, DecryptionShare::new(&context, active.secret_share(), &tally, &mut rng)));
    }
    let shared = started.elapsed();
    let started = Instant::now();
    let mut verified = Vec::new();
    for (trustee, share) in &shares {
        let context = ShareContext { ledger_id: &ledger_id, referendum: &referendum, trustee: *trustee };
        let key_share = ceremony.key_share(*trustee).expect("complete");
        verified.push((*trustee, share.verify(&context, key_share, &tally).map_err(|e| anyhow::anyhow!("{e}"))?));
    }
    let decrypted = combine(3, 2, &verified, &tally).map_err(|e| anyhow::anyhow!("{e}"))?;
    let checked = started.elapsed();
    let started = Instant::now();
    let counts = find_counts(&decrypted, counted).map_err(|e| anyhow::anyhow!("{e}"))?;
    let found = started.elapsed();
    let started = Instant::now();
    check_counts(&decrypted, &counts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let declared = started.elapsed();
    assert_eq!(counts, vec![yes, counted - yes]);
    println!("tally of {counted} counted ballots (2 options): counts {counts:?}");
    println!(
        "two trustees' decryption shares with proofs: {:.1} ms (including each trustee opening its ceremony shares)",
        ms(shared)
    );
    println!("a verifier checks both shares and combines them: {:.1} ms", ms(checked));
    println!("the declaring side finds the counts (baby-step giant-step, bound {counted}): {:.1} ms", ms(found));
    println!("a verifier checks the declared counts ([count]G per option): {:.3} ms", ms(declared));
    Ok(())
}

fn ingest_secret(clients: usize, ballots: usize) -> anyhow::Result<()> {
    use dauys_core::event::{Ballot, Decision, Trustees};
    use dauys_core::secret::{BallotContext, ElectionKey, SecretBallot};
    let dir = tempfile_dir()?;
    let seed = dauys_fixtures::large(Version::V3, 1);
    create_store(&seed.entries()[0], &dir)?;
    let data = dir.to_str().unwrap_or_default().to_owned();
    let (mut child, url) = start(&["serve", "--data", &data, "--listen", "127.0.0.1:0"])?;
    let agent = ureq::AgentBuilder::new().build();
    let mut builder = dauys_fixtures::Builder::new(Version::V3, sha256(b"dauys-fixture-ledger/large"));
    builder.set_nonce(1_000);
    let roles = dauys_fixtures::village_roles();
    let ok = |response: u16| -> anyhow::Result<()> {
        anyhow::ensure!(response == 201, "refused: {response}");
        Ok(())
    };
    let voters: Vec<Keypair> = (0..ballots).map(|n| dauys_fixtures::key(&format!("bench/voter/{n}"))).collect();
    for chunk in voters.chunks(1000) {
        let body = Body::VotersEnrolled { district: "Bench".into(), keys: chunk.iter().map(Keypair::public).collect() };
        ok(post(&agent, &url, &builder.sign(&roles.commission, body))?)?;
    }
    let receipt = |submission: &Submission| -> anyhow::Result<dauys_core::Hash> {
        let response = agent.post(&format!("{url}/v1/events")).send_json(dauys_node::submission_json(submission))?;
        let receipt: serde_json::Value = response.into_json()?;
        dauys_core::hexser::parse::<32>(receipt["entry_hash"].as_str().unwrap_or_default()).map_err(anyhow::Error::msg)
    };
    let body = Body::PetitionFiled { subject: "culture".into(), title: "Bench".into(), text: "Bench.".into() };
    let petition = receipt(&builder.sign(&voters[0], body))?;
    // The large genesis asks 1,000 supports.
    for voter in voters.iter().take(1_000) {
        ok(post(&agent, &url, &builder.sign(voter, Body::PetitionSupported { petition }))?)?;
    }
    let reasons = "No.".into();
    ok(post(
        &agent,
        &url,
        &builder.sign(&roles.council, Body::CouncilRuled { petition, decision: Decision::Reject, reasons }),
    )?)?;
    let trustees: Vec<Keypair> = (0..3).map(|i| dauys_fixtures::key(&format!("bench/trustee/{i}"))).collect();
    let opens = dauys_node::now_ms() + 4_000;
    let call = Body::ReferendumCalled {
        petition,
        subject: "culture".into(),
        question: "Bench?".into(),
        options: vec!["Yes".into(), "No".into()],
        opens_at_ms: opens,
        closes_at_ms: opens + 86_400_000,
        trustees: Some(Trustees { keys: trustees.iter().map(Keypair::public).collect(), threshold: 2 }),
    };
    let referendum = receipt(&builder.sign(&roles.commission, call))?;
    // The ceremony, each step from the node's own state (read back through
    // a local replay of its export).
    for step in 0..3 {
        let export = dauys_cli_export(&url)?;
        for (i, trustee) in trustees.iter().enumerate() {
            let ceremony = export.ceremony(&referendum).ok_or_else(|| anyhow::anyhow!("no ceremony"))?;
            let secrets = dauys_core::ceremony::TrusteeSecrets::derive(&trustee.seed(), &referendum);
            let body = match step {
                0 => Body::TrusteeCommitted {
                    referendum,
                    commitment: secrets.commitment(ceremony, i),
                    box_key: secrets.box_key(),
                },
                1 => {
                    let d = secrets.dealt(ceremony, i).map_err(anyhow::Error::msg)?;
                    Body::TrusteeDealt { referendum, polynomial: d.polynomial, proof: d.proof, opening: d.opening }
                }
                _ => Body::TrusteeSharesSent {
                    referendum,
                    shares: secrets.sealed_shares(ceremony, i).map_err(anyhow::Error::msg)?,
                },
            };
            ok(post(&agent, &url, &builder.sign(trustee, body))?)?;
        }
    }
    let ledger = dauys_cli_export(&url)?;
    let (key, options): (ElectionKey, usize) =
        ledger.view().ballot_key(&referendum).ok_or_else(|| anyhow::anyhow!("the ceremony did not complete"))?;
    let ledger_id = *ledger.ledger_id();
    // Encrypt every ballot beforehand, on all cores.
    let started = Instant::now();
    let made: Vec<(usize, Submission)> = voters
        .par_iter()
        .enumerate()
        .map(|(n, voter)| {
            let mut rng = dauys_fixtures::secret::fixture_rng(&format!("bench/ingest/{n}"));
            let author = voter.public();
            let context =
                BallotContext { ledger_id: &ledger_id, referendum: &referendum, voter: &author, key: &key, options };
            let ballot = SecretBallot::encrypt(&context, n % 2, &mut rng).expect("encrypts");
            let payload = dauys_core::Payload {
                version: Version::V3,
                ledger_id,
                nonce: 10_000_000 + n as u64,
                body: Body::BallotCast { referendum, ballot: Ballot::Secret(ballot) },
            };
            (n % clients, Submission::sign(voter, &payload))
        })
        .collect();
    eprintln!("encrypted {} ballots in {:.1} s", made.len(), started.elapsed().as_secs_f64());
    // The limit beside the figure: one core's proof verification (and
    // signature check) over a sample of the same ballots.
    let sample: Vec<&Submission> = made.iter().map(|(_, s)| s).take(2_000).collect();
    let view = ledger.view();
    let started = Instant::now();
    let verified = sample
        .iter()
        .filter(|s| {
            let payload = dauys_core::Payload::decode(&s.payload).expect("decodes");
            crypto::verify(&s.author, &s.payload, &s.signature).is_ok()
                && view.check_ballot(&s.author, &payload).is_some()
        })
        .count();
    let one_core = verified as f64 / started.elapsed().as_secs_f64();
    let mut per_client: Vec<Vec<Submission>> = vec![Vec::new(); clients];
    for (client, submission) in made {
        per_client[client].push(submission);
    }
    std::thread::sleep(Duration::from_millis(opens.saturating_sub(dauys_node::now_ms()) + 50));
    let (latencies, failed, elapsed) = post_all(&url, per_client);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let acked = latencies.len();
    println!("clients: {clients}");
    println!("one core, same ballots: proofs + signature {one_core:.0}/s");
    println!("acknowledged secret ballots (201, durable): {acked}, failed: {failed}, in {:.2}s", elapsed.as_secs_f64());
    println!(
        "throughput: {:.0} acknowledged ballots/s ({:.0}% of one core's proof rate)",
        acked as f64 / elapsed.as_secs_f64(),
        100.0 * acked as f64 / elapsed.as_secs_f64() / one_core
    );
    if acked > 0 {
        print_latency(&latencies);
    }
    Ok(())
}

/// The node's ledger, replayed from its export (a benchmark trusts its own node).
fn dauys_cli_export(url: &str) -> anyhow::Result<dauys_core::Ledger> {
    let response = ureq::get(&format!("{url}/v1/export")).call()?;
    let mut verifier = dauys_core::StreamVerifier::new();
    let mut reader = response.into_reader();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = std::io::Read::read(&mut reader, &mut buffer)?;
        if n == 0 {
            break;
        }
        verifier.feed(&buffer[..n]).map_err(|f| anyhow::anyhow!("{f}"))?;
    }
    Ok(verifier.finish().map_err(|f| anyhow::anyhow!("{f}"))?.ledger)
}
