//! The web verifier, embedded in the binary at build time (see `build.rs`)
//! and served at `/` as one self-contained HTML page: style, script, the
//! worker, the wasm-bindgen glue and the wasm itself (base64) inline, so the
//! same page works from the node, from a mirror, and saved to disk.
//!
//! The page is gzipped once, when first asked for, and served with a strong
//! `ETag`: a browser revalidates (`no-cache`) and gets `304 Not Modified`
//! until the binary, and so the page, changes.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>dauys</title>\
<p>The web verifier was not built into this binary. Run <code>./dev demo</code>, \
which builds the wasm and the page before starting the node.</p>";

fn text(name: &str) -> Option<&'static str> {
    ASSETS.iter().find(|(n, ..)| *n == name).and_then(|(_, _, bytes)| std::str::from_utf8(bytes).ok())
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, bytes).ok()?;
    encoder.finish().ok()
}

/// Assembles the single-file page, or `None` if the assets are missing.
///
/// The page's script (strings, verifier, portal in one function) comes
/// first, then the wasm-bindgen glue (executed), the worker's code and the
/// wasm (gzipped, then base64: the page unpacks it with the browser's
/// `DecompressionStream`), so the page answers input while the wasm still
/// downloads. A Content-Security-Policy in the page admits exactly these two
/// scripts by hash, and nothing else: no injected script runs, and the page
/// keeps it when saved to disk.
fn assemble() -> Option<String> {
    let wasm = ASSETS.iter().find(|(n, ..)| *n == "pkg/dauys_web_verifier_bg.wasm").map(|(_, _, b)| *b)?;
    let script = format!(
        "\"use strict\";\n(function () {{\n{}\n{}\n{}\n}})();",
        text("i18n.js")?,
        text("app.js")?,
        text("portal.js")?
    );
    let glue = text("pkg/dauys_web_verifier.js")?;
    let payload = format!(
        "<script id=\"glue\">{glue}</script>\n<script id=\"worker-src\" type=\"text/plain\">{}</script>\n<script id=\"wasm\" type=\"application/octet-stream\">{}</script>",
        text("worker.js")?,
        base64::engine::general_purpose::STANDARD.encode(gzip(wasm)?)
    );
    let csp = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">", policy(&script, glue));
    Some(
        text("index.html")?
            .replace("<!--CSP-->", &csp)
            .replace("/*STYLE*/", text("style.css")?)
            .replace("<!--SCRIPT-->", &format!("<script>{script}</script>"))
            .replace("<!--PAYLOAD-->", &payload),
    )
}

/// The page's Content-Security-Policy: its two scripts by SHA-256, wasm
/// compilation, workers from blobs (the page makes its worker from its own
/// text), reads from any node or mirror the citizen names, inline styles.
fn policy(script: &str, glue: &str) -> String {
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
    };
    format!(
        "default-src 'none'; script-src 'sha256-{}' 'sha256-{}' 'wasm-unsafe-eval'; worker-src blob:; \
         connect-src *; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
        hash(script),
        hash(glue)
    )
}

/// The page as served: plain, gzipped, and its entity tag.
struct Page {
    html: String,
    gzip: Vec<u8>,
    etag: HeaderValue,
}

fn page() -> Option<&'static Page> {
    static PAGE: OnceLock<Option<Page>> = OnceLock::new();
    PAGE.get_or_init(|| {
        let html = assemble()?;
        let gzip = gzip(html.as_bytes())?;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(html.as_bytes());
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16]))).ok()?;
        Some(Page { html, gzip, etag })
    })
    .as_ref()
}

/// Whether the client accepts gzip (a `gzip` coding not given `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next().is_some_and(|name| name.eq_ignore_ascii_case("gzip"))
                && !parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"))
        },
    )
}

async fn index(headers: HeaderMap) -> Response {
    let Some(page) = page() else {
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response();
    };
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, page.etag.clone()),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
        // Beside the policy in the page: no framing (a meta tag cannot say it).
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == "*" || tag.trim().trim_start_matches("W/") == page.etag);
    if matches {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let html = (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if accepts_gzip(&headers) {
        let gzip = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (common, [html, gzip], page.gzip.as_slice()).into_response()
    } else {
        (common, [html], page.html.as_str()).into_response()
    }
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    if path == "dauys-verifier.html" {
        return index(headers).await;
    }
    match ASSETS.iter().find(|(name, ..)| *name == path) {
        Some((_, mime, bytes)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *bytes).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(index)).route("/web/{*path}", get(file))
}

/// Whether the page and its wasm were embedded.
pub fn is_built() -> bool {
    page().is_some()
}
