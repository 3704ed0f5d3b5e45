//! Embeds the web verifier (`web-verifier/www` and the wasm-bindgen output in
//! `web-verifier/pkg`) into the node binary, so the node serves the page
//! from itself. Missing files are listed so the page can say what to build.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web-verifier");
    let mut code = String::from(
        "/// Embedded web assets: (path, content type, bytes).\npub static ASSETS: &[(&str, &str, &[u8])] = &[\n",
    );
    for (dir, prefix) in [(root.join("www"), ""), (root.join("pkg"), "pkg/")] {
        println!("cargo:rerun-if-changed={}", dir.display());
        let Ok(read) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<_> = read.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let mime = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("wasm") => "application/wasm",
                Some("json") => "application/json",
                Some("svg") => "image/svg+xml",
                _ => continue,
            };
            let canonical = path.canonicalize().expect("asset path");
            writeln!(
                code,
                "    (\"{prefix}{name}\", \"{mime}\", include_bytes!({:?})),",
                canonical.display().to_string()
            )
            .expect("writing to a String cannot fail");
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("web_assets.rs");
    std::fs::write(out, code).expect("write web_assets.rs");
}
