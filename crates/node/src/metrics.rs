//! Prometheus metrics: entries appended, rejections by code, append and
//! sync latency, batch size, queue depth.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The label of a rejection counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Code {
    /// The stable rejection code.
    pub code: String,
}

/// The node's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    /// Entries made durable.
    pub entries_appended: Counter,
    /// Refused submissions by code.
    pub rejections: Family<Code, Counter>,
    /// Enqueue to durable acknowledgment, seconds.
    pub append_seconds: Histogram,
    /// One batch's write + fdatasync, seconds.
    pub sync_seconds: Histogram,
    /// Acts per batch.
    pub batch_size: Histogram,
    /// Acts waiting for the writer.
    pub queue_depth: Gauge,
    /// Witnesses whose cosignature verified in the last round.
    pub cosigners: Gauge,
    /// One round of asking every witness to cosign.
    pub witness_seconds: Histogram,
    /// Entries appended but not yet in the checkpoint served (the witness lag).
    pub unwitnessed: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("dauys");
        let entries_appended = Counter::default();
        let rejections = Family::<Code, Counter>::default();
        let append_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let sync_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 14));
        let queue_depth = Gauge::default();
        let cosigners = Gauge::default();
        let witness_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        let unwitnessed = Gauge::default();
        registry.register("entries_appended", "Entries made durable", entries_appended.clone());
        registry.register("rejections", "Refused submissions by code", rejections.clone());
        registry.register("append_seconds", "Enqueue to durable acknowledgment", append_seconds.clone());
        registry.register("sync_seconds", "Write and fdatasync of one batch", sync_seconds.clone());
        registry.register("batch_size", "Acts per group commit", batch_size.clone());
        registry.register("queue_depth", "Acts waiting for the writer", queue_depth.clone());
        registry.register("cosigners", "Witnesses whose cosignature verified in the last round", cosigners.clone());
        registry.register(
            "witness_seconds",
            "One round of cosignature requests to every witness",
            witness_seconds.clone(),
        );
        registry.register("unwitnessed", "Entries appended but not yet in the checkpoint served", unwitnessed.clone());
        Self {
            registry,
            entries_appended,
            rejections,
            append_seconds,
            sync_seconds,
            batch_size,
            queue_depth,
            cosigners,
            witness_seconds,
            unwitnessed,
        }
    }
}

pub(crate) async fn serve(State(shared): State<Arc<crate::api::Shared>>) -> Response {
    let mut text = String::new();
    if let Some(served) = crate::api::served_size(&shared) {
        let lag = shared.snapshot().size.saturating_sub(served);
        shared.metrics.unwitnessed.set(i64::try_from(lag).unwrap_or(i64::MAX));
    }
    if prometheus_client::encoding::text::encode(&mut text, &crate::api::metrics_of(&shared).registry).is_err() {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "encoding failed").into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
