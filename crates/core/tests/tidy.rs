//! Tidy checks run as ordinary tests: every source file opens with a `//!`
//! line saying what it is, and the crate edges stay as designed (the rule
//! core depends on no storage, HTTP, async runtime, clock or OS randomness).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() && !["target", "node_modules", "pkg"].contains(&name) {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_has_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&root().join("crates"), &mut files);
    rust_files(&root().join("web-verifier"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|path| !std::fs::read_to_string(path).unwrap_or_default().starts_with("//!"))
        .map(|path| path.display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a //! module doc: {missing:#?}");
}

#[test]
fn the_core_depends_on_nothing_that_does_io() {
    let manifest = std::fs::read_to_string(root().join("crates/core/Cargo.toml")).unwrap_or_default();
    let dependencies =
        manifest.split("[dependencies]").nth(1).unwrap_or_default().split("\n[").next().unwrap_or_default();
    let names: Vec<&str> = dependencies
        .lines()
        .filter_map(|line| line.split(['=', '.']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect();
    // Pure computation only: hashing and signatures, encodings, persistent
    // collections, the screen's pinned Unicode tables, and the secret
    // ballot's ElGamal, proofs and ceremony boxes (randomness comes from the
    // caller: rand_chacha is a seeded stream, crypto_box is built without
    // getrandom).
    let allowed = [
        "sha2",
        "ed25519-dalek",
        "base64",
        "hex",
        "serde",
        "serde_json",
        "thiserror",
        "imbl",
        "icu_properties",
        "icu_casemap",
        "icu_locale_core",
        "unicode-normalization",
        "unicode-security",
        "tlog_tiles",
        "signed_note",
        "elastic-elgamal",
        "merlin",
        "rand_chacha",
        "crypto_box",
        "curve25519-dalek",
        "zeroize",
    ];
    for name in &names {
        assert!(allowed.contains(name), "dauys-core must not depend on `{name}` (no IO, clock, randomness or runtime)");
    }
    assert!(names.len() >= 5, "parsed too few dependencies: {names:?}");
}
