//! JWT log-in, refresh, revocation and the `Authorization` schemes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, PASSWORD};

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> (StatusCode, Value) {
    status_json(
        app.post(
            "/api/users/token/refresh/",
            None,
            &json!({"refresh": token}),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn obtain_answers_an_access_and_a_refresh_token_with_django_claims() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    // Read the claims as a client library would, without the server's secret.
    let mut unverified = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    unverified.insecure_disable_signature_validation();
    let key = jsonwebtoken::DecodingKey::from_secret(b"");
    let claims = jsonwebtoken::decode::<Value>(&ada.access, &key, &unverified)
        .unwrap()
        .claims;
    assert_eq!(claims["token_type"], "access");
    assert_eq!(claims["user_id"], ada.id);
    assert!(claims["exp"].is_i64() && claims["iat"].is_i64() && claims["jti"].is_string());
    let header = jsonwebtoken::decode_header(&ada.access).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
}

#[tokio::test]
async fn log_in_is_case_insensitive_on_the_email() {
    let app = spawn_app().await;
    app.user("ada@example.org", false, None).await;
    assert_eq!(
        app.obtain_tokens("ADA@Example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("ada@example.org", false, None).await;
    let wrong = status_json(
        app.obtain_tokens("ada@example.org", "wrong password!")
            .await,
    )
    .await;
    let unknown = status_json(app.obtain_tokens("nobody@example.org", PASSWORD).await).await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong.1["code"], "authentication_failed");
}

#[tokio::test]
async fn obtain_names_missing_credentials() {
    let app = spawn_app().await;
    let (status, body) =
        status_json(app.post("/api/users/token/obtain/", None, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"email": ["This field is required."], "password": ["This field is required."]})
    );
}

#[tokio::test]
async fn both_bearer_and_token_schemes_are_accepted() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    for scheme in ["Bearer", "Token", "bearer"] {
        let resp = app
            .client
            .get(app.url("/api/users/me"))
            .header("Authorization", format!("{scheme} {}", ada.access))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{scheme}");
    }
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let (status, body) = status_json(app.get("/api/users/me", Some(&ada.refresh)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");
    let (status, _) = refresh(&app, &ada.access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tampered_or_garbage_token_is_refused() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let mut tampered = ada.access.clone();
    tampered.pop();
    tampered.push(if ada.access.ends_with('A') { 'B' } else { 'A' });
    for token in [tampered.as_str(), "garbage", "a.b.c"] {
        let (status, body) = status_json(app.get("/api/users/me", Some(token)).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["code"], "token_not_valid");
    }
}

#[tokio::test]
async fn a_refresh_token_can_be_used_repeatedly_and_concurrently() {
    let app = std::sync::Arc::new(spawn_app().await);
    let ada = app.user("ada@example.org", false, None).await;
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (app, token) = (app.clone(), ada.refresh.clone());
            tokio::spawn(async move { refresh(&app, &token).await })
        })
        .collect();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.get("refresh").is_none(),
            "no rotation by default: {body}"
        );
        let access = body["access"].as_str().unwrap();
        assert_eq!(
            app.get("/api/users/me", Some(access)).await.status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let app = spawn_app_with(|s| s.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let ada = app.user("ada@example.org", false, None).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = status_json(app.get("/api/users/me", Some(&ada.access)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // djangorestframework-simplejwt's body, `messages` and all.
    assert_eq!(
        body,
        json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access",
                          "message": "Token is invalid or expired"}],
        })
    );
    // The refresh token still gives a fresh one.
    let (status, body) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/users/me", Some(body["access"].as_str().unwrap()))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logging_out_revokes_the_refresh_family_and_the_access_token() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let other_session = app.login(ada.id, &ada.email, None).await;
    let resp = app
        .post(
            "/api/users/token/revoke/",
            Some(&ada.access),
            &json!({"refresh": ada.refresh}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        refresh(&app, &ada.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/users/me", Some(&ada.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Another log-in of the same user is untouched.
    assert_eq!(
        refresh(&app, &other_session.refresh).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/users/me", Some(&other_session.access))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoke_without_any_token_is_a_validation_error() {
    let app = spawn_app().await;
    let (status, body) =
        status_json(app.post("/api/users/token/revoke/", None, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.get("refresh").is_some());
}

#[tokio::test]
async fn changing_the_password_revokes_every_earlier_token() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let body = json!({"password": "a brand new password", "current_password": PASSWORD});
    let resp = app
        .request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&body),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    assert_eq!(
        app.get("/api/users/me", Some(&ada.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &ada.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.obtain_tokens(&ada.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, tokens) =
        status_json(app.obtain_tokens(&ada.email, "a brand new password").await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/users/me", tokens["access"].as_str())
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn with_rotation_a_reused_refresh_token_revokes_its_family() {
    let app = spawn_app_with(|s| s.rotate_refresh_tokens = true).await;
    let ada = app.user("ada@example.org", false, None).await;

    let (status, first) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK);
    let rotated = first["refresh"]
        .as_str()
        .expect("rotation answers a refresh token")
        .to_owned();
    assert_eq!(refresh(&app, &rotated).await.0, StatusCode::OK);

    // The original was used already: presenting it again is a theft signal.
    assert_eq!(
        refresh(&app, &ada.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    // ...and every token of that family is now dead, including the newest.
    let (_, newest) = refresh(&app, &rotated).await;
    assert!(newest.get("access").is_none());
}

#[tokio::test]
async fn anonymous_endpoints_ignore_a_stale_authorization_header() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let stale = Some("expired.or.garbage");
    let body = json!({"email": ada.email, "password": PASSWORD});
    assert_eq!(
        app.post("/api/users/token/obtain/", stale, &body)
            .await
            .status(),
        StatusCode::OK
    );
    let body = json!({"refresh": ada.refresh});
    assert_eq!(
        app.post("/api/users/token/refresh/", stale, &body)
            .await
            .status(),
        StatusCode::OK
    );
    let body = json!({"email": "new@example.org", "password": PASSWORD, "first_name": "N", "last_name": "U"});
    assert_eq!(
        app.post("/api/users/", stale, &body).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.get("/api/organizations/", stale).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get("/health", stale).await.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/schema/", stale).await.status(),
        StatusCode::OK
    );
}

/// `GET /api/users/me` with `access`: its status and error code, if any.
async fn me_with(app: &crate::helpers::TestApp, access: &str) -> (StatusCode, Value) {
    let (status, body) = status_json(app.get("/api/users/me", Some(access)).await).await;
    (status, body["code"].clone())
}

#[tokio::test]
async fn logging_out_ends_access_tokens_refreshed_in_that_log_in_at_once_and_after_a_restart() {
    let mut app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let other_session = app.login(ada.id, &ada.email, None).await;
    let (status, refreshed) = refresh(&app, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK);
    let refreshed = refreshed["access"].as_str().unwrap().to_owned();
    assert_eq!(me_with(&app, &refreshed).await.0, StatusCode::OK);

    // Only the refresh token: the access tokens are not named, yet they go with it.
    let resp = app
        .post(
            "/api/users/token/revoke/",
            None,
            &json!({"refresh": ada.refresh}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let gone = (StatusCode::UNAUTHORIZED, json!("token_not_valid"));
    assert_eq!(me_with(&app, &refreshed).await, gone);
    assert_eq!(me_with(&app, &ada.access).await, gone);

    app.restart().await;
    assert_eq!(me_with(&app, &refreshed).await, gone);
    assert_eq!(me_with(&app, &ada.access).await, gone);
    // The user's other log-in is untouched.
    assert_eq!(me_with(&app, &other_session.access).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_rotation_a_reused_refresh_token_ends_its_log_ins_access_tokens_at_once() {
    let app = spawn_app_with(|s| s.rotate_refresh_tokens = true).await;
    let ada = app.user("ada@example.org", false, None).await;
    let (_, first) = refresh(&app, &ada.refresh).await;
    let refreshed = first["access"].as_str().unwrap().to_owned();
    assert_eq!(me_with(&app, &refreshed).await.0, StatusCode::OK);

    assert_eq!(
        refresh(&app, &ada.refresh).await.0,
        StatusCode::UNAUTHORIZED
    );
    let gone = (StatusCode::UNAUTHORIZED, json!("token_not_valid"));
    assert_eq!(me_with(&app, &refreshed).await, gone);
    assert_eq!(me_with(&app, &ada.access).await, gone);
}
