//! The web app served by the server itself (`/app/`), and the WebSocket's browser
//! authentication: the access token in a `bearer.<jwt>` subprotocol next to `testit`.

use futures_util::{SinkExt, StreamExt};
use reqwest::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{sample_test, spawn_app, status_json, TestApp};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_root_and_app_without_slash_redirect_to_the_app() {
    let app = spawn_app().await;
    for path in ["/", "/app"] {
        let resp = no_redirects().get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::FOUND, "{path}");
        assert_eq!(resp.headers()[LOCATION], "/app/", "{path}");
    }
}

#[tokio::test]
async fn the_app_files_are_served_with_their_type_a_strict_policy_and_an_etag() {
    let app = spawn_app().await;
    let cases = [
        ("/app/", "text/html; charset=utf-8", "<!doctype html>"),
        ("/app/app.css", "text/css; charset=utf-8", ""),
        ("/app/js/app.js", "text/javascript; charset=utf-8", ""),
        ("/app/js/live.js", "text/javascript; charset=utf-8", ""),
        ("/app/icon.svg", "image/svg+xml", "<svg"),
    ];
    for (path, content_type, starts) in cases {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let headers = resp.headers().clone();
        assert_eq!(headers[CONTENT_TYPE], content_type, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let csp = headers[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(headers[CACHE_CONTROL], "no-cache", "{path}");
        let etag = headers[ETAG].clone();
        let body = resp.text().await.unwrap();
        assert!(body.starts_with(starts), "{path}: {body:.40}");

        // The browser's revalidation: unchanged, so 304 with no body.
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, etag.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[ETAG], etag);
        assert!(again.text().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_page_loads_nothing_inline() {
    let app = spawn_app().await;
    let page = app.get("/app/", None).await.text().await.unwrap();
    assert!(!page.contains("<style"), "{page}");
    assert!(!page.contains(" style="), "{page}");
    // Every script is a file of the app.
    for (i, _) in page.match_indices("<script") {
        let tag = &page[i..i + page[i..].find('>').unwrap()];
        assert!(tag.contains(" src=\""), "inline script: {tag}");
    }
}

#[tokio::test]
async fn unknown_app_paths_are_404_and_only_reads_are_served() {
    let app = spawn_app().await;
    for path in [
        "/app/nope.js",
        "/app/js/",
        "/app/../Cargo.toml",
        "/app/js/app.js/x",
    ] {
        let (status, body) = status_json(app.get(path, None).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["code"], "route_not_found", "{path}");
    }
    let resp = app.post("/app/", None, &json!({})).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    // The API is untouched.
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

/// An upgrade request to `/ws` offering `protocols` in `Sec-WebSocket-Protocol`.
fn offering(app: &TestApp, query: &str, protocols: &str) -> Request {
    let url = app.address.replacen("http", "ws", 1) + "/ws" + query;
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    request
}

#[tokio::test]
async fn a_browser_authenticates_with_a_bearer_subprotocol_and_gets_testit_back() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let test = app.create_test(&owner, &sample_test()).await;

    let request = offering(&app, "", &format!("testit, bearer.{}", owner.access));
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgraded");
    assert_eq!(response.headers()["sec-websocket-protocol"], "testit");
    // The session is the owner's: they may watch their own test.
    let watch = json!({"type": "watch", "test": test["id"]});
    socket.send(Message::text(watch.to_string())).await.unwrap();
    loop {
        let frame = socket.next().await.unwrap().unwrap();
        if let Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(message["type"], "watching", "{message}");
            break;
        }
    }
}

#[tokio::test]
async fn a_bad_bearer_subprotocol_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let ann = app.user("ann@example.org", false, None).await;

    for bad in ["testit, bearer.garbage", "bearer.garbage, testit"] {
        let refused = tokio_tungstenite::connect_async(offering(&app, "", bad))
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("401"), "{bad}: {refused}");
    }
    // A refresh token is not an access token.
    let refresh = format!("testit, bearer.{}", ann.refresh);
    let refused = tokio_tungstenite::connect_async(offering(&app, "", &refresh))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    // A token without our protocol: the server could select none of the offered, so 400.
    let alone = format!("bearer.{}", ann.access);
    let refused = tokio_tungstenite::connect_async(offering(&app, "", &alone))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("400"), "{refused}");
    // Only our protocol, no credentials at all: 401.
    let refused = tokio_tungstenite::connect_async(offering(&app, "", "testit"))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
}

#[tokio::test]
async fn the_query_token_still_works_with_or_without_the_subprotocol() {
    let app = spawn_app().await;
    let ann = app.user("ann@example.org", false, None).await;
    let query = format!("?token={}", ann.access);
    let (_, response) = tokio_tungstenite::connect_async(offering(&app, &query, "testit"))
        .await
        .expect("upgraded");
    assert_eq!(response.headers()["sec-websocket-protocol"], "testit");
    let url = app.address.replacen("http", "ws", 1) + "/ws" + &query;
    let (_, response) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgraded");
    assert!(response.headers().get("sec-websocket-protocol").is_none());
}
