//! The web verifier, embedded in the binary at build time (see `build.rs`)
//! and served at `/`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>dauys</title>\
<p>The web verifier was not built into this binary. Run <code>./dev demo</code>, \
which builds the wasm and the page before starting the node.</p>";

fn asset(path: &str) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == path) {
        Some((_, mime, bytes)) => {
            ([(header::CONTENT_TYPE, *mime), (header::CACHE_CONTROL, "no-cache")], *bytes).into_response()
        }
        None if path == "index.html" => {
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn index() -> Response {
    asset("index.html")
}

async fn file(Path(path): Path<String>) -> Response {
    asset(&path)
}

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(index)).route("/web/{*path}", get(file))
}

/// Whether the page and its wasm were embedded.
pub fn is_built() -> bool {
    ASSETS.iter().any(|(name, ..)| name.ends_with(".wasm"))
}
