//! The node under the attacks outside testing found, each a bounded-time
//! test: clients that never read a stream, slow clients trickling headers
//! and bodies, more connections than descriptors, readers hammering the
//! state, observers reading the data directory of a node under load. The
//! limits asserted are generous (CI machines are slow and shared); the
//! figures under load are measured and reported in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use dauys_core::Version;

/// A data directory holding the large fixture ledger of `entries` entries.
fn big_ledger(dir: &Path, entries: u64) -> PathBuf {
    let builder = dauys_fixtures::large(Version::V2, entries);
    let data = dir.join("data");
    let key = dauys_node::secret_key_text(&dauys_fixtures::village_roles().log);
    dauys_store::Store::create(&data, &builder.entries()[..1], &[("log.key", key.as_bytes(), 0o600)]).unwrap();
    let (mut store, _) = dauys_store::Store::open(&data, |_, _| Ok(())).unwrap();
    for chunk in builder.entries()[1..].chunks(4_096) {
        let appends: Vec<_> =
            chunk.iter().map(|(bytes, _)| dauys_store::Append::from_entry(bytes.clone()).unwrap()).collect();
        store.append(&appends).unwrap();
    }
    store.close().unwrap();
    data
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

fn address(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

/// `/healthz`, timed: (status, body, elapsed).
fn healthz(url: &str) -> (u16, serde_json::Value, Duration) {
    let started = Instant::now();
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
    let (status, body) = match agent.get(&format!("{url}/healthz")).call() {
        Ok(r) => (r.status(), r.into_json().unwrap_or_default()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_json().unwrap_or_default()),
        Err(e) => panic!("/healthz: {e}"),
    };
    (status, body, started.elapsed())
}

#[test]
fn clients_that_never_read_hold_bounded_memory_and_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let data = big_ledger(dir.path(), 20_000);
    let node = Node::start(&[
        "serve",
        "--data",
        s(&data),
        "--listen",
        "127.0.0.1:0",
        "--streams-max",
        "64",
        // Long enough that the cap is still full when the test checks it on
        // a loaded machine, short enough to see the stalled clients dropped.
        "--stall-timeout-ms",
        "5000",
        "--header-timeout-ms",
        "2000",
    ]);
    let pid = node.child.id();
    let before = rss_kib(pid);
    // 300 clients ask for the whole export or the live stream and read nothing.
    let mut idle = Vec::new();
    for n in 0..300 {
        let mut stream = TcpStream::connect(address(&node.url)).unwrap();
        let path = if n % 2 == 0 { "/v1/export" } else { "/v1/stream?from=0" };
        write!(stream, "GET {path} HTTP/1.1\r\nhost: test\r\n\r\n").unwrap();
        idle.push(stream);
    }
    std::thread::sleep(Duration::from_millis(1_500));
    let during = rss_kib(pid);
    let (status, health, elapsed) = healthz(&node.url);
    assert_eq!(status, 200, "{health}");
    assert!(elapsed < Duration::from_secs(1), "/healthz took {elapsed:?} under the attack");
    assert!(health["streams"].as_u64().unwrap() <= 64, "the stream cap holds: {health}");
    assert!(during < before + 100 * 1024, "memory grew from {before} KiB to {during} KiB");
    // A new export is refused while the cap is full, with a JSON reason.
    match ureq::get(&format!("{}/v1/export", node.url)).call() {
        Err(ureq::Error::Status(503, response)) => {
            let body: serde_json::Value = response.into_json().unwrap();
            assert_eq!(body["code"], "too_many_streams");
        }
        other => panic!("expected 503 too_many_streams, got {:?}", other.map(|r| r.status())),
    }
    // Clients that stall longer than the stall timeout are disconnected.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, health, _) = healthz(&node.url);
        if health["streams"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "stalled streams were never dropped: {health}");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(idle);
    eprintln!("RSS before {before} KiB, with 300 non-reading clients {during} KiB; /healthz {elapsed:?}");
    // The export still works for a client that reads.
    let out = dauys_ok(&["verify", &node.url]);
    assert!(out.starts_with("VALID: 20"), "{out}");
}

#[test]
fn slow_clients_are_cut_off_and_never_stall_a_submission() {
    let ledger = new_ledger(1);
    let node = Node::start(&[
        "serve",
        "--data",
        s(&ledger.data),
        "--listen",
        "127.0.0.1:0",
        "--header-timeout-ms",
        "1500",
        "--body-timeout-ms",
        "1500",
    ]);
    let started = Instant::now();
    let mut slow = Vec::new();
    for n in 0..300 {
        let mut stream = TcpStream::connect(address(&node.url)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        if n % 2 == 0 {
            // Headers that never end.
            write!(stream, "POST /v1/events HTTP/1.1\r\nhost: test\r\n").unwrap();
        } else {
            // A body promised and trickled.
            write!(stream, "POST /v1/events HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\n{{").unwrap();
        }
        slow.push((n, stream));
    }
    // Meanwhile a citizen's act goes through at once.
    let submitted = Instant::now();
    dauys_ok(&["enroll", "--node", &node.url, "--key", s(&ledger.commission), &ledger.voters[0].1]);
    let took = submitted.elapsed();
    assert!(took < Duration::from_secs(3), "a valid submission waited {took:?} behind 300 slow clients");
    // Trickle one byte each every 200 ms; every slow client is answered or
    // closed within a few seconds.
    let mut outcome = vec![None; slow.len()];
    let deadline = Instant::now() + Duration::from_secs(12);
    while outcome.iter().any(Option::is_none) && Instant::now() < deadline {
        for (i, (n, stream)) in slow.iter_mut().enumerate() {
            if outcome[i].is_some() {
                continue;
            }
            let byte: &[u8] = if *n % 2 == 0 { b"x" } else { b" " };
            if stream.write_all(byte).is_err() {
                outcome[i] = Some("closed".to_owned());
                continue;
            }
            stream.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 512];
            match stream.read(&mut buf) {
                Ok(0) => outcome[i] = Some("closed".to_owned()),
                Ok(n) => outcome[i] = Some(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => outcome[i] = Some("closed".to_owned()),
            }
            stream.set_nonblocking(false).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let elapsed = started.elapsed();
    assert!(outcome.iter().all(Option::is_some), "some slow clients were never cut off");
    let bodies_timed_out = outcome.iter().filter(|o| o.as_deref() == Some("HTTP/1.1 408 Request Timeout")).count();
    assert!(bodies_timed_out >= 100, "trickled bodies get 408: {outcome:?}");
    assert!(elapsed < Duration::from_secs(12));
    let (status, _, latency) = healthz(&node.url);
    assert_eq!(status, 200);
    eprintln!("300 slow clients: submission {took:?}, all cut off within {elapsed:?}, /healthz {latency:?}");
}

#[test]
fn more_connections_than_descriptors_get_an_answer_not_a_hang() {
    let ledger = new_ledger(0);
    // A 128-descriptor limit: the node keeps its connection cap below it.
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            &format!(
                "ulimit -n 128 && exec {BIN} serve --data {} --listen 127.0.0.1:0 --header-timeout-ms 1500",
                s(&ledger.data)
            ),
        ])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split(" at ").nth(1) {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    let mut held = Vec::new();
    for _ in 0..200 {
        held.push(TcpStream::connect(address(&url)).unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    let (status, body, elapsed) = healthz(&url);
    assert!(elapsed < Duration::from_secs(2), "/healthz took {elapsed:?} with 200 idle connections");
    assert!(status == 503 || status == 200, "{status} {body}");
    if status == 503 {
        assert_eq!(body["code"], "too_many_connections");
    }
    // The idle connections are closed after the header timeout; service returns.
    std::thread::sleep(Duration::from_millis(2_500));
    let (status, body, _) = healthz(&url);
    assert_eq!(status, 200, "{body}");
    drop(held);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn readers_of_the_state_never_slow_submissions() {
    let ledger = new_ledger(40);
    let node = Node::serve(&ledger.data);
    let keys: Vec<&str> = ledger.voters.iter().map(|(_, p)| p.as_str()).collect();
    let mut args = vec!["enroll", "--node", &node.url, "--key", s(&ledger.commission)];
    args.extend(keys.iter());
    dauys_ok(&args);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..8)
        .map(|n| {
            let (url, stop) = (node.url.clone(), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut reads = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let path = if n % 2 == 0 { "/v1/summary" } else { "/v1/petitions?limit=1000" };
                    ureq::get(&format!("{url}{path}")).call().unwrap();
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for (n, (key, _)) in ledger.voters.iter().enumerate().take(30) {
        let started = Instant::now();
        dauys_ok(&[
            "petition",
            "file",
            "--node",
            &node.url,
            "--key",
            s(key),
            "--subject",
            "culture",
            "--title",
            &format!("Petition {n}"),
            "--text",
            "Text.",
        ]);
        latencies.push(started.elapsed());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    latencies.sort();
    let worst = *latencies.last().unwrap();
    eprintln!("30 filings beside {reads} reads: median {:?}, worst {worst:?}", latencies[15]);
    assert!(worst < Duration::from_secs(3), "a filing took {worst:?} while readers looped");
}

#[test]
fn every_error_is_json_with_a_code() {
    let ledger = new_ledger(0);
    let node = Node::serve(&ledger.data);
    let check = |method: &str, path: &str, body: Option<Vec<u8>>, status: u16, code: &str| {
        let request = ureq::request(method, &format!("{}{path}", node.url));
        let result = match body {
            Some(body) => request.send_bytes(&body),
            None => request.call(),
        };
        let (got, answer): (u16, serde_json::Value) = match result {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_json().expect("a JSON error body")),
            Err(e) => panic!("{e}"),
        };
        assert_eq!((got, answer["code"].as_str().unwrap_or_default()), (status, code), "{method} {path}: {answer}");
        assert!(!answer["message"].as_str().unwrap_or_default().is_empty());
    };
    check("GET", "/no/such/thing", None, 404, "not_found");
    check("DELETE", "/v1/events", None, 405, "method_not_allowed");
    check("POST", "/v1/events", Some(vec![b' '; dauys_node::BODY_BYTES_MAX + 1]), 413, "body_too_large");
    check("GET", "/v1/entries?from=abc", None, 400, "bad_query");
    check("GET", "/v1/entries?limit=0", None, 400, "bad_query");
    check("GET", "/v1/entries?limit=1001", None, 400, "bad_query");
    check("GET", "/v1/petitions?what=1", None, 400, "bad_query");
    check("GET", "/v1/petitions/xyz", None, 400, "malformed_id");
    check("GET", &format!("/v1/petitions/{}", "ab".repeat(32)), None, 404, "unknown_petition");
    check("GET", "/v1/acts?key=zz", None, 400, "malformed_key");
    // A page never points back at itself: `next` is past `from`, or absent.
    let page = node.get("/v1/entries?from=0&limit=1");
    assert!(page["next"].is_null() || page["next"].as_u64().unwrap() > 0);
}

#[test]
fn observers_read_a_live_data_directory_without_touching_it() {
    let ledger = new_ledger(8);
    let node = Node::serve(&ledger.data);
    let keys: Vec<&str> = ledger.voters.iter().map(|(_, p)| p.as_str()).collect();
    let mut args = vec!["enroll", "--node", &node.url, "--key", s(&ledger.commission)];
    args.extend(keys.iter());
    dauys_ok(&args);
    let receipts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = ledger
        .voters
        .iter()
        .map(|(key, _)| {
            let (url, key, receipts, stop) =
                (node.url.clone(), key.clone(), std::sync::Arc::clone(&receipts), std::sync::Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let out = dauys(&[
                        "petition",
                        "file",
                        "--node",
                        &url,
                        "--key",
                        s(&key),
                        "--subject",
                        "culture",
                        "--title",
                        &format!("Load {n}"),
                        "--text",
                        "Text.",
                    ]);
                    if out.status.success() {
                        let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                        let hash = receipt["entry_hash"].as_str().unwrap().to_owned();
                        receipts.lock().unwrap().push((receipt["position"].as_u64().unwrap(), hash));
                    }
                    n += 1;
                }
            })
        })
        .collect();
    // Observers read the directory again and again while the node writes.
    for round in 0..6 {
        let export = ledger.dir.path().join(format!("dir-export-{round}.jsonl"));
        let out = dauys(&["export", s(&ledger.data), "--out", s(&export)]);
        assert!(out.status.success(), "export DIR failed: {}", String::from_utf8_lossy(&out.stderr));
        let verified = dauys(&["verify", s(&export)]);
        assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
        let direct = dauys(&["verify", s(&ledger.data)]);
        assert!(direct.status.success(), "{}", String::from_utf8_lossy(&direct.stdout));
        let fsck = dauys(&["fsck", s(&ledger.data)]);
        assert!(String::from_utf8_lossy(&fsck.stdout).contains("holds the directory's lock"));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    // Nothing of the directory was created, cut or deleted by the readers.
    assert!(ledger.data.join("index").is_dir());
    assert!(!ledger.data.join("damaged").exists());
    // A power-cut-like stop, a restart: every receipt is there.
    let mut node = node;
    node.kill();
    let node = Node::serve(&ledger.data);
    let receipts = receipts.lock().unwrap();
    assert!(receipts.len() > 10, "too few acts under load: {}", receipts.len());
    for (position, hash) in receipts.iter() {
        let page = node.get(&format!("/v1/entries?from={position}&limit=1"));
        assert_eq!(page["entries"][0]["hash"].as_str(), Some(hash.as_str()), "receipt {position} lost");
    }
}

#[test]
fn a_directory_is_never_a_new_ledger_by_accident_and_has_one_writer() {
    let ledger = new_ledger(0);
    let node = Node::serve(&ledger.data);
    // A second writer refuses to start, naming the reason.
    let second = dauys(&["serve", "--data", s(&ledger.data), "--listen", "127.0.0.1:0"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use"), "{}", String::from_utf8_lossy(&second.stderr));
    drop(node);
    // The log lost: refused, naming the ledger; nothing is created.
    std::fs::rename(ledger.data.join("log.dat"), ledger.dir.path().join("log.dat.saved")).unwrap();
    let refused = dauys(&["serve", "--data", s(&ledger.data), "--listen", "127.0.0.1:0"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("log.dat is missing") && stderr.contains("refusing to start a new ledger"), "{stderr}");
    assert!(!ledger.data.join("log.dat").exists());
    // An empty log is refused the same way.
    std::fs::write(ledger.data.join("log.dat"), b"").unwrap();
    let refused = dauys(&["serve", "--data", s(&ledger.data), "--listen", "127.0.0.1:0"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holds no genesis"));
    // Restored, it serves again.
    std::fs::rename(ledger.dir.path().join("log.dat.saved"), ledger.data.join("log.dat")).unwrap();
    let node = Node::serve(&ledger.data);
    assert_eq!(node.size(), 1);
    // Reading a directory that is not a ledger creates nothing in it.
    let empty = tempfile::tempdir().unwrap();
    let out = dauys(&["export", s(empty.path())]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}
