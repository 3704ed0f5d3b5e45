//! The transparency log end to end, with the real binary: receipts checked
//! offline and against a newer checkpoint, an observer catching a forked
//! view across runs, a node refusing to start on a log that lost what it
//! published, a mirror serving wrong tiles, witnesses cosigning, and Go's
//! own sumdb/tlog and sumdb/note checking a log of 70,000 entries and its
//! static mirror.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

/// `dauys` with its own file of checkpoints seen.
fn dauys_seen(seen: &Path, args: &[&str]) -> Output {
    Command::new(BIN).args(args).arg("--seen").arg(seen).env("RUST_LOG", "warn").output().expect("run dauys")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(url: &str) -> String {
    ureq::get(url).call().unwrap().into_string().unwrap()
}

fn size_of(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Waits until the node serves a checkpoint of at least `size` entries
/// (with `cosigned_by` among its signers, if given); returns it.
fn served_checkpoint(url: &str, size: u64, cosigned_by: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = ureq::get(&format!("{url}/tlog/checkpoint")).call() {
            let note = response.into_string().unwrap();
            let signed = cosigned_by.is_none_or(|name| note.contains(&format!("\u{2014} {name} ")));
            if size_of(&note) >= size && signed {
                return note;
            }
        }
        assert!(Instant::now() < deadline, "no checkpoint of {size} entries served");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the node has kept a checkpoint of at least `size` entries in
/// its data directory (it does so at most a second after serving it).
fn kept_checkpoint(data: &Path, size: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(note) = std::fs::read_to_string(data.join("checkpoint")) {
            if size_of(&note) >= size {
                return note;
            }
        }
        assert!(Instant::now() < deadline, "no checkpoint of {size} entries kept");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn enrol(url: &str, commission: &Path, district: &str, keys: &[String]) {
    let mut args = vec!["enroll", "--node", url, "--key", s(commission), "--district", district];
    args.extend(keys.iter().map(String::as_str));
    dauys_ok(&args);
}

fn fresh_keys(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut seed = [0u8; 32];
            getrandom::getrandom(&mut seed).unwrap();
            hex::encode(dauys_core::Keypair::from_seed(&seed).public())
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A static file server for a mirror directory (GET only, as any web server).
struct StaticServer {
    url: String,
}

impl StaticServer {
    fn start(root: PathBuf) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let root = root.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    if reader.read_line(&mut request).is_err() {
                        return;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                    let path = request.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_owned();
                    let file = root.join(&path);
                    let (status, body) = match (path.contains(".."), std::fs::read(&file)) {
                        (false, Ok(body)) => ("200 OK", body),
                        _ => ("404 Not Found", b"not found".to_vec()),
                    };
                    let head =
                        format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
                });
            }
        });
        Self { url }
    }
}

/// A witness process: its URL and verifier key; killed on drop.
struct WitnessProcess {
    node: Node,
    vkey: String,
}

fn start_witness(dir: &Path, log_key: &str) -> WitnessProcess {
    let vkey = dauys_ok(&["witness", "init", "--data", s(dir), "--name", "witness.example/w1"]).trim().to_owned();
    let origin = log_key.split('+').next().unwrap();
    let mut config = std::fs::OpenOptions::new().append(true).open(dir.join("witness.toml")).unwrap();
    writeln!(config, "[[log]]\norigin = \"{origin}\"\nkey = \"{log_key}\"").unwrap();
    let node = Node::start(&["witness", "serve", "--data", s(dir), "--listen", "127.0.0.1:0"]);
    WitnessProcess { node, vkey }
}

fn witnesses_file(dir: &Path, witness: &WitnessProcess) -> PathBuf {
    let path = dir.join("witnesses.toml");
    let body = format!("quorum = 1\n[[witness]]\nurl = \"{}\"\nkey = \"{}\"\n", witness.node.url, witness.vkey);
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn a_citizen_checks_a_receipt_offline_and_later_against_a_newer_checkpoint() {
    let ledger = new_ledger(3);
    let node = Node::serve(&ledger.data);
    let url = node.url.as_str();
    let keys: Vec<String> = ledger.voters.iter().map(|(_, public)| public.clone()).collect();
    enrol(url, &ledger.commission, "North", &keys);
    let receipt = ledger.dir.path().join("filed.tlog-proof");
    dauys_ok(&[
        "petition",
        "file",
        "--node",
        url,
        "--key",
        s(&ledger.voters[0].0),
        "--subject",
        "culture",
        "--title",
        "A reading room",
        "--text",
        "In the old school.",
        "--save-receipt",
        s(&receipt),
    ]);
    let log_key = dauys_ok(&["log-key", url]).trim().to_owned();
    assert_eq!(log_key, dauys_ok(&["log-key", s(&ledger.data)]).trim(), "the same key from the node and its data");
    let seen = ledger.dir.path().join("seen.json");

    // Offline: the receipt alone.
    let out = dauys_seen(&seen, &["proof", "verify", s(&receipt), "--log-key", &log_key]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("VALID: entry 2 (petition_filed"), "{}", stdout(&out));

    // Later, after more acts: still there, by a consistency proof from tiles.
    enrol(url, &ledger.commission, "South", &fresh_keys(300));
    served_checkpoint(url, 4, None);
    let out = dauys_seen(&seen, &["proof", "verify", s(&receipt), "--log-key", &log_key, "--node", url]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("still there"), "{}", stdout(&out));

    // A receipt edited in any part fails, with the reason.
    let original = std::fs::read_to_string(&receipt).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    let edits = [
        original.replacen("index 2\n", "index 1\n", 1),
        original.replacen(lines[3], &lines[3].replacen(&lines[3][..2], "AA", 1), 1),
        original.replacen(lines[1], &format!("{}AAAA", lines[1]), 1),
        original.replacen(&format!("\n{}\n", size_of(original.split_once("\n\n").unwrap().1)), "\n99\n", 1),
    ];
    for (i, edited) in edits.iter().enumerate() {
        assert_ne!(edited, &original, "edit {i} changed nothing");
        let path = ledger.dir.path().join(format!("edited-{i}.tlog-proof"));
        std::fs::write(&path, edited).unwrap();
        let out = dauys_seen(&seen, &["proof", "verify", s(&path), "--log-key", &log_key]);
        assert_eq!(out.status.code(), Some(1), "edit {i}: {}", stdout(&out));
        assert!(stdout(&out).starts_with("INVALID"), "edit {i}: {}", stdout(&out));
    }
    // Under another log's key: invalid.
    let other = new_ledger(0);
    let other_key = dauys_ok(&["log-key", s(&other.data)]).trim().to_owned();
    let out = dauys_seen(&seen, &["proof", "verify", s(&receipt), "--log-key", &other_key]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // The receipt the node sends back for any entry, as served.
    let fresh = text(&format!("{url}/v1/proof?index=0"));
    assert!(fresh.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{fresh}");
    let path = ledger.dir.path().join("genesis.tlog-proof");
    std::fs::write(&path, fresh).unwrap();
    let out = dauys_seen(&seen, &["proof", "verify", s(&path), "--log-key", &log_key]);
    assert!(out.status.success(), "{}", stdout(&out));
}

#[test]
fn an_observer_catches_a_forked_view_across_runs() {
    let ledger = new_ledger(2);
    let seen = ledger.dir.path().join("seen.json");
    let keys: Vec<String> = ledger.voters.iter().map(|(_, public)| public.clone()).collect();
    {
        let node = Node::serve(&ledger.data);
        enrol(&node.url, &ledger.commission, "North", &keys);
        served_checkpoint(&node.url, 2, None);
    }
    // The operator keeps a copy of the data directory...
    let copy = ledger.dir.path().join("copy");
    copy_dir(&ledger.data, &copy);

    // ...shows the observer one history...
    let node = Node::serve(&ledger.data);
    enrol(&node.url, &ledger.commission, "North", &fresh_keys(3));
    served_checkpoint(&node.url, 3, None);
    let out = dauys_seen(&seen, &["verify", &node.url]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("first checkpoint of this log seen"), "{}", stdout(&out));
    let receipt = ledger.dir.path().join("r.tlog-proof");
    std::fs::write(&receipt, text(&format!("{}/v1/proof?index=2", node.url))).unwrap();
    drop(node);

    // ...and later another, from the copy, under the same key and origin.
    let node = Node::serve(&copy);
    enrol(&node.url, &ledger.commission, "South", &fresh_keys(5));
    served_checkpoint(&node.url, 3, None);
    let out = dauys_seen(&seen, &["verify", &node.url]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("FORK"), "{}", stdout(&out));
    // The log alone is valid: only the checkpoints seen reveal the fork.
    let out = dauys_seen(&ledger.dir.path().join("fresh-seen.json"), &["verify", &node.url]);
    assert!(out.status.success(), "{}", stdout(&out));
    // A receipt from the first history does not extend to the second.
    let log_key = dauys_ok(&["log-key", &node.url]).trim().to_owned();
    let out = dauys_seen(&seen, &["proof", "verify", s(&receipt), "--log-key", &log_key, "--node", &node.url]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("INVALID"), "{}", stdout(&out));
}

#[test]
fn a_node_refuses_to_start_on_a_log_without_the_checkpoint_it_published() {
    let ledger = new_ledger(2);
    let keys: Vec<String> = ledger.voters.iter().map(|(_, public)| public.clone()).collect();
    let backup = ledger.dir.path().join("backup");
    {
        let _node = Node::serve(&ledger.data);
        kept_checkpoint(&ledger.data, 1);
    }
    copy_dir(&ledger.data, &backup);
    {
        let node = Node::serve(&ledger.data);
        enrol(&node.url, &ledger.commission, "North", &keys);
        kept_checkpoint(&ledger.data, 2);
    }
    // The disk is lost; the log comes back from the older backup, but the
    // checkpoint published since survives (it was mirrored, or kept).
    std::fs::copy(ledger.data.join("checkpoint"), backup.join("checkpoint")).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--data", s(&backup), "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the node started on a log without the checkpoint it published");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("fork"), "{stderr}");
}

#[test]
fn a_mirror_serves_the_log_and_wrong_tiles_are_caught() {
    let ledger = new_ledger(1);
    let seen = ledger.dir.path().join("seen.json");
    let receipt = ledger.dir.path().join("r.tlog-proof");
    {
        let node = Node::serve(&ledger.data);
        enrol(&node.url, &ledger.commission, "North", &fresh_keys(400));
        let note = served_checkpoint(&node.url, 2, None);
        std::fs::write(&receipt, text(&format!("{}/v1/proof?index=1", node.url))).unwrap();
        assert_eq!(size_of(&note), 2);
        for n in 0..3 {
            enrol(&node.url, &ledger.commission, &format!("D{n}"), &fresh_keys(200));
        }
        kept_checkpoint(&ledger.data, 5);
    }
    let out_dir = ledger.dir.path().join("mirror");
    dauys_ok(&["mirror", s(&ledger.data), s(&out_dir)]);
    let log_key = dauys_ok(&["log-key", s(&ledger.data)]).trim().to_owned();
    let mirror = StaticServer::start(out_dir.clone());
    let out = dauys_seen(&seen, &["verify", &mirror.url]);
    assert!(out.status.success(), "{}", stdout(&out));
    let out = dauys_seen(&seen, &["proof", "verify", s(&receipt), "--log-key", &log_key, "--node", &mirror.url]);
    assert!(out.status.success(), "{}", stdout(&out));
    // Mirroring again writes only what changed (nothing).
    assert!(dauys_ok(&["mirror", s(&ledger.data), s(&out_dir)]).contains("(0 files written)"));

    // Each tampering, on a fresh copy of the mirror.
    let tampered = |name: &str, tamper: &dyn Fn(&Path)| -> (Output, Output) {
        let dir = ledger.dir.path().join(format!("mirror-{name}"));
        copy_dir(&out_dir, &dir);
        tamper(&dir);
        let server = StaticServer::start(dir);
        let own_seen = ledger.dir.path().join(format!("seen-{name}.json"));
        let verify = dauys_seen(&own_seen, &["verify", &server.url]);
        let proof =
            dauys_seen(&own_seen, &["proof", "verify", s(&receipt), "--log-key", &log_key, "--node", &server.url]);
        (verify, proof)
    };
    let flip = |path: &Path, at: usize| {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[at] ^= 1;
        std::fs::write(path, bytes).unwrap();
    };
    // A hash tile that does not match the checkpoint: the receipt's
    // consistency check reads it, finds it does not hash to the root, and
    // says it could not check (a broken mirror proves no fork either way).
    let (_, proof) = tampered("hash-tile", &|dir| flip(&dir.join("tile/0/000.p/5"), 40));
    assert_eq!(proof.status.code(), Some(2), "{}", stdout(&proof));
    assert!(
        stdout(&proof).contains("COULD NOT CHECK") && stdout(&proof).contains("inconsistent tile"),
        "{}",
        stdout(&proof)
    );
    // An entry changed in its bundle: the replay fails.
    let (verify, _) = tampered("bundle", &|dir| {
        let path = dir.join("tile/entries/000.p/5");
        let length = std::fs::read(&path).unwrap().len();
        flip(&path, length - 10);
    });
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    // A bundle cut short: fewer entries than the checkpoint names.
    let (verify, _) = tampered("short", &|dir| std::fs::remove_file(dir.join("tile/entries/000.p/5")).unwrap());
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    // A checkpoint of the same size with another root (signed by no one).
    let (verify, proof) = tampered("checkpoint", &|dir| {
        let note = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
        let mut lines: Vec<String> = note.lines().map(str::to_owned).collect();
        lines[2] = lines[2].replacen(&lines[2][..4], "AAAA", 1);
        std::fs::write(dir.join("checkpoint"), lines.join("\n") + "\n").unwrap();
    });
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    assert_eq!(proof.status.code(), Some(1), "{}", stdout(&proof));
}

/// Go's own `sumdb/tlog` and `sumdb/note` (Debian's golang-golang-x-mod-dev)
/// check a node with a witness over a log of 70,000 entries (three tile
/// levels), and its static mirror. Skipped with a note when Go is missing,
/// unless `DAUYS_REQUIRE_GO=1` (the README's test command installs Go and
/// sets it).
#[test]
fn go_sumdb_checks_the_log_its_witness_and_its_mirror() {
    let gopath = "/usr/share/gocode";
    let go_ready = Command::new("go").arg("version").output().is_ok_and(|o| o.status.success())
        && Path::new(gopath).join("src/golang.org/x/mod/sumdb/tlog").is_dir();
    if !go_ready {
        assert!(
            std::env::var("DAUYS_REQUIRE_GO").is_err(),
            "Go or golang.org/x/mod is missing (apt-get install golang-go golang-golang-x-mod-dev)"
        );
        eprintln!("SKIPPED: Go interop (apt-get install golang-go golang-golang-x-mod-dev)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    write_large_ledger(&data, 70_000);
    let log_key = dauys_ok(&["log-key", s(&data)]).trim().to_owned();
    let witness = start_witness(&dir.path().join("witness"), &log_key);
    let witnesses = witnesses_file(dir.path(), &witness);
    let node = Node::start(&["serve", "--data", s(&data), "--listen", "127.0.0.1:0", "--witnesses", s(&witnesses)]);
    let url = node.url.clone();
    let old = served_checkpoint(&url, 70_000, Some("witness.example/w1"));
    let old_file = dir.path().join("old-checkpoint");
    std::fs::write(&old_file, &old).unwrap();
    let commission = dir.path().join("commission.key");
    std::fs::write(&commission, dauys_node::secret_key_text(&dauys_fixtures::village_roles().commission)).unwrap();
    enrol(&url, &commission, "New district", &fresh_keys(700));
    // Mirrored at the old checkpoint and again at the new: the mirror keeps
    // the partial tiles of both sizes, as a log must.
    let mirror_dir = dir.path().join("mirror");
    kept_checkpoint(&data, size_of(&old));
    dauys_ok(&["mirror", s(&data), s(&mirror_dir)]);
    let new = served_checkpoint(&url, size_of(&old) + 1, Some("witness.example/w1"));

    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let go = |args: &[&str]| -> Output {
        Command::new("go")
            .arg("run")
            .arg(repo.join("tests/interop/tlogcheck.go"))
            .args(args)
            .env("GO111MODULE", "off")
            .env("GOPATH", gopath)
            .env("GOFLAGS", "")
            .env("GOCACHE", repo.join("target/go-cache"))
            .output()
            .expect("go run")
    };
    let checked = go(&["-url", &url, "-log-key", &log_key, "-witness", &witness.vkey, "-old", s(&old_file)]);
    let report = format!("{}{}", stdout(&checked), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "{report}");
    for claim in
        ["opens with note.NewVerifier", "cosignature", "reproduces the root", "node's own receipts", "CheckTree"]
    {
        assert!(report.contains(claim), "{claim}: {report}");
    }
    eprintln!("{report}");

    // The static mirror, read by the same Go program.
    drop(node);
    kept_checkpoint(&data, size_of(&new));
    dauys_ok(&["mirror", s(&data), s(&mirror_dir)]);
    let mirrored = std::fs::read_to_string(mirror_dir.join("checkpoint")).unwrap();
    assert!(size_of(&mirrored) >= size_of(&new));
    let mirror = StaticServer::start(mirror_dir);
    let checked = go(&[
        "-tiles",
        &mirror.url,
        "-receipts=false",
        "-log-key",
        &log_key,
        "-witness",
        &witness.vkey,
        "-old",
        s(&old_file),
    ]);
    let report = format!("{}{}", stdout(&checked), String::from_utf8_lossy(&checked.stderr));
    assert!(checked.status.success(), "{report}");
    let seen = dir.path().join("seen.json");
    let out = dauys_seen(&seen, &["verify", &mirror.url, "--witness", &witness.vkey, "--quorum", "1"]);
    assert!(out.status.success(), "{}", stdout(&out));
}

/// Writes `dauys_fixtures::large` (format 2) into a new data directory with
/// the village's log key.
fn write_large_ledger(data: &Path, events: u64) {
    let builder = dauys_fixtures::large(dauys_core::Version::V2, events);
    let entries = builder.entries();
    let (genesis, _) = &entries[0];
    let genesis = (genesis.clone(), dauys_core::sha256(genesis));
    let key = dauys_node::secret_key_text(&dauys_fixtures::village_roles().log);
    dauys_store::Store::create(data, std::slice::from_ref(&genesis), &[("log.key", key.as_bytes(), 0o600)]).unwrap();
    let (mut store, _) = dauys_store::Store::open(data, |_, _| Ok(())).unwrap();
    for chunk in entries[1..].chunks(4_096) {
        let batch: Vec<dauys_store::Append> = chunk
            .iter()
            .map(|(bytes, _)| {
                let entry = dauys_core::Entry::decode(bytes).unwrap();
                dauys_store::Append { author: entry.author, hash: dauys_core::sha256(bytes), bytes: bytes.clone() }
            })
            .collect();
        store.append(&batch).unwrap();
    }
    store.close().unwrap();
}

#[test]
fn follow_checks_each_checkpoint_against_the_entries_streamed() {
    let ledger = new_ledger(2);
    let node = Node::serve(&ledger.data);
    let keys: Vec<String> = ledger.voters.iter().map(|(_, public)| public.clone()).collect();
    enrol(&node.url, &ledger.commission, "North", &keys);
    served_checkpoint(&node.url, 2, None);
    let seen = ledger.dir.path().join("seen.json");
    let mut child = Command::new(BIN)
        .args(["follow", &node.url, "--seen", s(&seen)])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut wanted = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        for line in lines.by_ref() {
            let line = line.unwrap();
            assert!(!line.starts_with("INVALID"), "{line}");
            if line.contains(needle) {
                return;
            }
            assert!(Instant::now() < deadline, "no line with {needle}");
        }
        panic!("follow ended before {needle}");
    };
    wanted("checkpoint of 2 entries verified");
    // New acts stream in, and so do the checkpoints over them.
    enrol(&node.url, &ledger.commission, "South", &fresh_keys(2));
    wanted("checkpoint of 3 entries verified");
    let _ = child.kill();
    let _ = child.wait();
    // The follower kept what it saw: a later verify extends it.
    let out = dauys_seen(&seen, &["verify", &node.url]);
    assert!(stdout(&out).contains("extends the checkpoint of 3 entries seen before"), "{}", stdout(&out));
}

#[test]
fn a_mirror_never_moves_back_nor_takes_another_history() {
    let ledger = new_ledger(0);
    {
        let node = Node::serve(&ledger.data);
        enrol(&node.url, &ledger.commission, "A", &fresh_keys(2));
        kept_checkpoint(&ledger.data, 2);
    }
    let older = ledger.dir.path().join("older");
    copy_dir(&ledger.data, &older);
    {
        let node = Node::serve(&ledger.data);
        enrol(&node.url, &ledger.commission, "B", &fresh_keys(2));
        kept_checkpoint(&ledger.data, 3);
    }
    let out = ledger.dir.path().join("mirror");
    dauys_ok(&["mirror", s(&ledger.data), s(&out)]);
    // From an older copy: refused, the mirror stays at 3.
    let back = dauys(&["mirror", s(&older), s(&out)]);
    assert!(!back.status.success());
    assert!(
        String::from_utf8_lossy(&back.stderr).contains("move it back"),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    // The older copy grows another history past the mirror: refused too.
    {
        let node = Node::serve(&older);
        for n in 0..3 {
            enrol(&node.url, &ledger.commission, &format!("C{n}"), &fresh_keys(1));
        }
        kept_checkpoint(&older, 5);
    }
    let fork = dauys(&["mirror", s(&older), s(&out)]);
    assert!(!fork.status.success());
    assert!(
        String::from_utf8_lossy(&fork.stderr).contains("another history"),
        "{}",
        String::from_utf8_lossy(&fork.stderr)
    );
    let held = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    assert_eq!(size_of(&held), 3, "the mirror still holds the first history");
}
