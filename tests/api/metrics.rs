//! `GET /metrics`: Prometheus text on an address of its own, off unless configured.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

/// The value of the first sample line that starts with `series`, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_are_not_served_unless_an_address_is_configured() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    let resp = app.get("/metrics", None).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_time_store_calls() {
    let app = spawn_app_with(|s| s.metrics_bind = Some("127.0.0.1:0".into())).await;
    let owner = app.owner("owner@metrics.test").await;
    for _ in 0..3 {
        let resp = app.get("/api/users/me", Some(&owner.access)).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let missing = app.get("/api/tests/424242/", Some(&owner.access)).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let metrics = app.metrics_address.as_deref().expect("metrics are served");
    let resp = app
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    // Counters are process-wide and other tests run alongside: at least ours are there.
    let me = r#"testit_http_requests_total{method="GET",route="/api/users/me",status="200"}"#;
    assert!(sample(&text, me).unwrap_or(0.0) >= 3.0, "{text}");
    // A route by its pattern, not its concrete path.
    let test = r#"testit_http_requests_total{method="GET",route="/api/tests/{id}/",status="404"}"#;
    assert!(sample(&text, test).unwrap_or(0.0) >= 1.0, "{text}");
    let timed = r#"testit_http_request_duration_seconds_count{method="GET",route="/api/users/me"}"#;
    assert!(sample(&text, timed).unwrap_or(0.0) >= 3.0, "{text}");
    let store = r#"testit_store_call_duration_seconds_count{collection="users",op="get"}"#;
    assert!(sample(&text, store).unwrap_or(0.0) >= 3.0, "{text}");
    for gauge in [
        "testit_grading_jobs_in_flight",
        "testit_websocket_connections",
    ] {
        assert!(sample(&text, gauge).is_some(), "{gauge} missing: {text}");
    }
    // The metrics server answers nothing else.
    let other = app
        .client
        .get(format!("{metrics}/api/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}
