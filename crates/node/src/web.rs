//! The web verifier, embedded in the binary at build time (see `build.rs`)
//! and served at `/` as one self-contained HTML page: style, script, the
//! worker, the wasm-bindgen glue and the wasm itself (base64) inline, so the
//! same page works from the node, from a mirror, and saved to disk.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, StatusCode};
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

/// Assembles the single-file page, or `None` if the assets are missing.
fn assemble() -> Option<String> {
    let wasm = ASSETS.iter().find(|(n, ..)| *n == "pkg/dauys_web_verifier_bg.wasm").map(|(_, _, b)| *b)?;
    let payload = format!(
        "<script id=\"glue\" type=\"text/plain\">{}</script>\n<script id=\"worker-src\" type=\"text/plain\">{}</script>\n<script id=\"wasm\" type=\"application/octet-stream\">{}</script>",
        text("pkg/dauys_web_verifier.js")?,
        text("worker.js")?,
        base64::engine::general_purpose::STANDARD.encode(wasm)
    );
    Some(
        text("index.html")?
            .replace("/*STYLE*/", text("style.css")?)
            .replace("<!--PAYLOAD-->", &payload)
            .replace("/*APP*/", text("app.js")?),
    )
}

fn page() -> Option<&'static str> {
    static PAGE: OnceLock<Option<String>> = OnceLock::new();
    PAGE.get_or_init(assemble).as_deref()
}

async fn index() -> Response {
    match page() {
        Some(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], html)
            .into_response(),
        None => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response(),
    }
}

async fn file(Path(path): Path<String>) -> Response {
    if path == "dauys-verifier.html" {
        return index().await;
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
