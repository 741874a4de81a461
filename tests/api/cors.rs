//! CORS (`TESTIT_CORS_ORIGINS`): the original web client on its own origin.

use reqwest::{Method, StatusCode};
use testit::settings::CorsOrigins;

use crate::helpers::{spawn_app, spawn_app_with, TestApp, PASSWORD};

const CLIENT: &str = "https://client.example";

/// A browser's preflight of a POST with a JSON body and a bearer token from `origin`.
async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn with_any_origin_the_preflight_and_a_cross_origin_request_are_answered_without_credentials()
{
    let app = spawn_app_with(|s| s.cors_origins = Some(CorsOrigins::Any)).await;
    let owner = app.owner("owner@school.org").await;

    let resp = preflight(&app, "/api/completions/", CLIENT).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));
    assert!(header(&resp, "access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let allowed = header(&resp, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);

    let resp = app
        .client
        .get(app.url("/api/users/me"))
        .header("Origin", CLIENT)
        .bearer_auth(&owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);

    // Log-in from another origin: the export cookie keeps its own site only.
    let resp = app
        .client
        .post(app.url("/api/users/token/obtain/"))
        .header("Origin", CLIENT)
        .json(&serde_json::json!({"email": "owner@school.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    let cookie = header(&resp, "set-cookie").unwrap();
    assert!(
        cookie.starts_with("testit_export=") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn with_a_list_only_its_origins_are_answered_and_others_are_refused_in_the_error_shape() {
    let listed = CorsOrigins::List(vec![CLIENT.to_owned()]);
    let app = spawn_app_with(|s| s.cors_origins = Some(listed)).await;

    let resp = preflight(&app, "/api/users/token/obtain/", CLIENT).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(CLIENT));

    let resp = preflight(&app, "/api/users/token/obtain/", "https://evil.example").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert!(body["detail"].is_string());

    // A request from an origin not listed is served, without CORS headers (the browser
    // keeps the answer from the page).
    let resp = app
        .client
        .get(app.url("/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn without_the_setting_there_are_no_cors_headers() {
    let app = spawn_app().await;
    let resp = preflight(&app, "/api/completions/", CLIENT).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
    let resp = app
        .client
        .get(app.url("/health"))
        .header("Origin", CLIENT)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), None);
}
