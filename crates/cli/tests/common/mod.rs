//! Helpers for end-to-end tests: the real `dauys` binary over real HTTP on
//! loopback, in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_dauys");

/// Where the binary keeps the checkpoints it has seen during the tests
/// (never the user's own file).
pub fn state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("dauys-tests-{}", std::process::id()))
}

pub fn dauys(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("RUST_LOG", "warn").env("XDG_STATE_HOME", state_dir()).output().expect("run dauys")
}

pub fn dauys_ok(args: &[&str]) -> String {
    let out = dauys(args);
    assert!(
        out.status.success(),
        "dauys {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(format!("{name}.key"));
    let public = dauys_ok(&["keygen", "--out", path.to_str().unwrap()]).trim().to_owned();
    (path, public)
}

/// A running node; killed on drop.
pub struct Node {
    pub child: Child,
    pub url: String,
}

impl Node {
    pub fn start(args: &[&str]) -> Node {
        let mut child = Command::new(BIN)
            .args(args)
            .env("RUST_LOG", "warn")
            .env("XDG_STATE_HOME", state_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().expect("node printed its URL").unwrap();
            if let Some(rest) = line.split(" at ").nth(1) {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Node { child, url }
    }

    pub fn serve(data: &Path) -> Node {
        Node::start(&["serve", "--data", data.to_str().unwrap(), "--listen", "127.0.0.1:0"])
    }

    pub fn get(&self, path: &str) -> serde_json::Value {
        ureq::get(&format!("{}{path}", self.url)).call().unwrap().into_json().unwrap()
    }

    pub fn size(&self) -> u64 {
        self.get("/healthz")["entries"].as_u64().unwrap()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

pub const RULES: &str = r#"
jurisdiction = "Test village"
origin = "test.example/ledger"
council_key = "COUNCIL"
[rules]
signing_period_ms = 86400000
council_response_period_ms = 86400000
referendum_window_min_ms = 1000
referendum_window_max_ms = 60000
threshold_supports_min = 3
threshold_share_bp = 0
approval_share_bp = 5000
yes_share_of_electorate_bp = 2500
[[rules.subjects]]
id = "culture"
excluded = false
[[rules.subjects]]
id = "budget"
excluded = true
terms = ["budget", "бюджет"]
[[rules.subjects]]
id = "staffing"
excluded = true
[[rules.subjects]]
id = "internal-organisation"
excluded = true
"#;

/// Keys and a fresh ledger from `RULES`.
pub struct Ledger {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub commission: PathBuf,
    pub council: PathBuf,
    pub voters: Vec<(PathBuf, String)>,
}

pub fn new_ledger(voters: usize) -> Ledger {
    let dir = tempfile::tempdir().unwrap();
    let (commission, _) = keygen(dir.path(), "commission");
    let (council, council_public) = keygen(dir.path(), "council");
    let voters = (0..voters).map(|n| keygen(dir.path(), &format!("voter{n}"))).collect();
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES.replace("COUNCIL", &council_public)).unwrap();
    let data = dir.path().join("data");
    dauys_ok(&[
        "init",
        "--data",
        data.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--commission-key",
        commission.to_str().unwrap(),
    ]);
    Ledger { dir, data, commission, council, voters }
}

pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}
