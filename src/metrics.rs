//! Prometheus metrics, served in the text format at `GET /metrics` on their own address
//! (`TESTIT_METRICS_BIND`; off by default, so nothing about the server's load is public).
//!
//! One process-wide registry: the request middleware, the WebSocket session, the grading and
//! the store record into it from wherever they run, without a handle passed around.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Every series the server exports.
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{method, route, status}`.
    pub http_requests: IntCounterVec,
    /// `http_request_duration_seconds{method, route}`: until the response head is ready (a
    /// streamed body may take longer).
    pub http_duration: HistogramVec,
    /// `websocket_connections`: open live connections.
    pub websocket_connections: IntGauge,
    /// `grading_jobs_in_flight`: code answers sent to the grader pool and not yet back.
    pub grading_in_flight: IntGauge,
    /// `grading_verdicts_total{outcome}`.
    pub grading_verdicts: IntCounterVec,
    /// `store_call_duration_seconds{op, collection}`.
    pub store_calls: HistogramVec,
}

/// Latency buckets from 0.5 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("testit".into()), None)?;
    let http_requests = IntCounterVec::new(
        Opts::new("http_requests_total", "HTTP requests answered"),
        &["method", "route", "status"],
    )?;
    let http_duration = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
        )
        .buckets(BUCKETS.to_vec()),
        &["method", "route"],
    )?;
    let websocket_connections =
        IntGauge::new("websocket_connections", "Open live WebSocket connections")?;
    let grading_in_flight = IntGauge::new(
        "grading_jobs_in_flight",
        "Code answers sent to the grader pool and not yet graded",
    )?;
    let grading_verdicts = IntCounterVec::new(
        Opts::new("grading_verdicts_total", "Verdicts of code answers"),
        &["outcome"],
    )?;
    let store_calls = HistogramVec::new(
        HistogramOpts::new("store_call_duration_seconds", "Time of a store call")
            .buckets(BUCKETS.to_vec()),
        &["op", "collection"],
    )?;
    registry.register(Box::new(http_requests.clone()))?;
    registry.register(Box::new(http_duration.clone()))?;
    registry.register(Box::new(websocket_connections.clone()))?;
    registry.register(Box::new(grading_in_flight.clone()))?;
    registry.register(Box::new(grading_verdicts.clone()))?;
    registry.register(Box::new(store_calls.clone()))?;
    Ok(Metrics {
        registry,
        http_requests,
        http_duration,
        websocket_connections,
        grading_in_flight,
        grading_verdicts,
        store_calls,
    })
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    // The names and labels are constants of this module: a failure is a bug here, caught by
    // the first test that starts a server.
    build().expect("the metric definitions are valid")
});

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// Counts one open WebSocket connection for as long as it lives.
pub struct OpenConnection(());

impl OpenConnection {
    pub fn open() -> OpenConnection {
        metrics().websocket_connections.inc();
        OpenConnection(())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics().websocket_connections.dec();
    }
}

/// Records one store call.
pub fn store_call(op: &str, collection: &str, took: Duration) {
    metrics()
        .store_calls
        .with_label_values(&[op, collection])
        .observe(took.as_secs_f64());
}

/// Everything, in Prometheus's text format.
pub fn render() -> String {
    let mut out = Vec::new();
    let families = metrics().registry.gather();
    if let Err(err) = TextEncoder::new().encode(&families, &mut out) {
        tracing::error!(%err, "metrics could not be encoded");
    }
    String::from_utf8(out).unwrap_or_default()
}
