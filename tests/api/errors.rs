//! The error body shapes every client can rely on.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, status_json, store_kind};

#[tokio::test]
async fn malformed_json_is_a_400_naming_the_problem() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/users/"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "parse_error");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused_like_drf_does() {
    let app = spawn_app().await;
    let (status, body) = status_json(app.post("/api/users/", None, &json!([1, 2])).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
}

#[tokio::test]
async fn an_unsupported_content_type_is_a_415() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/users/"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app().await;
    let huge = json!({"email": "a".repeat(2 * 1024 * 1024)});
    let (status, body) = status_json(app.post("/api/users/", None, &huge).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json() {
    let app = spawn_app().await;
    let (status, body) = status_json(app.get("/api/nothing-here/", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"detail": "No API route has this path.", "code": "route_not_found"})
    );

    let (status, body) = status_json(
        app.request(Method::DELETE, "/api/users/me", None, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        body,
        json!({"detail": "Method \"DELETE\" not allowed.", "code": "method_not_allowed"})
    );
}

#[tokio::test]
async fn a_path_id_that_is_not_a_number_names_no_object() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let (status, body) = status_json(app.get("/api/users/abc/", Some(&ada.access)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found.", "code": "not_found"}));
}

#[tokio::test]
async fn paths_work_with_and_without_the_trailing_slash() {
    let app = spawn_app().await;
    for path in [
        "/api/organizations",
        "/api/organizations/",
        "/health",
        "/health/",
    ] {
        assert_eq!(app.get(path, None).await.status(), StatusCode::OK, "{path}");
    }
    let ada = app.user("ada@example.org", false, None).await;
    for path in ["/api/users/me", "/api/users/me/"] {
        assert_eq!(
            app.get(path, Some(&ada.access)).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
}

#[tokio::test]
async fn health_reports_the_store_and_how_live_events_travel() {
    let app = spawn_app().await;
    let (status, body) = status_json(app.get("/health", None).await).await;
    assert_eq!(status, StatusCode::OK);
    // On a MongoDB replica set events go through its change stream, shared by servers; a
    // standalone one (scripts/test-mongodb --standalone says so) has no change streams.
    let standalone = std::env::var_os("TEST_MONGODB_STANDALONE").is_some();
    let events = if store_kind() == "mongodb" && !standalone {
        "shared"
    } else {
        "local"
    };
    assert_eq!(
        body,
        json!({"status": "ok", "store": store_kind(), "events": events})
    );
}
