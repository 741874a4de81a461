//! Rate limits on sign-in and sign-up: guessers are refused with 429 and `Retry-After`, a
//! class behind one school address is not.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, status_json, PASSWORD};

#[tokio::test]
async fn wrong_passwords_for_one_account_are_refused_with_429_once_the_limit_is_reached() {
    let app = spawn_app_with(|s| s.throttle.failures_per_account = 3).await;
    let ada = app.user("ada@example.org", false, None).await;
    for _ in 0..3 {
        let resp = app.obtain_tokens(&ada.email, "wrong password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    // The fourth failure is one too many: from then on even the right password waits.
    let resp = app.obtain_tokens(&ada.email, "wrong password").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = app.obtain_tokens("ADA@example.org", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "{retry}");
    let (_, body) = status_json(resp).await;
    assert_eq!(body["code"], "throttled");
    // Another account from the same address is not held back.
    let grace = app.user("grace@example.org", false, None).await;
    assert_eq!(
        app.obtain_tokens(&grace.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn seed_001_signin_counts_failures_too() {
    let app = spawn_app_with(|s| s.throttle.failures_per_account = 2).await;
    let body = json!({"username": "ada", "password": PASSWORD});
    assert_eq!(
        app.post("/api/users/signup", None, &body).await.status(),
        StatusCode::CREATED
    );
    let wrong = json!({"username": "ada", "password": "nope nope"});
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.post("/api/users/signin", None, &wrong)
                .await
                .status()
                .as_u16(),
        );
    }
    // Two failures are allowed; the third is one too many and answered 429, as is what follows.
    assert_eq!(statuses, [400, 400, 429, 429]);
}

#[tokio::test]
async fn a_class_of_forty_behind_one_address_signs_in_within_a_minute_typos_and_all() {
    let app = spawn_app().await;
    let owner = app.owner("teacher@example.org").await;
    let org = owner.org.unwrap();
    let mut emails = Vec::new();
    for n in 0..40 {
        let email = format!("student{n}@example.org");
        let body = json!({"email": email, "password": PASSWORD, "first_name": "S",
                          "last_name": "N", "organization_id": org});
        assert_eq!(app.register(&body).await.status(), StatusCode::CREATED);
        emails.push(email);
    }
    let app = &app;
    let logins = emails.iter().map(|email| async move {
        let typo = app
            .obtain_tokens(email, "correct horse battery!")
            .await
            .status();
        let right = app.obtain_tokens(email, PASSWORD).await.status();
        (typo, right)
    });
    for (typo, right) in futures_util::future::join_all(logins).await {
        assert_eq!(typo, StatusCode::UNAUTHORIZED);
        assert_eq!(right, StatusCode::OK);
    }
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let app = spawn_app_with(|s| s.throttle.signups_per_address_per_hour = 2).await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let body = json!({"username": format!("user{n}"), "password": PASSWORD});
        statuses.push(
            app.post("/api/users/signup", None, &body)
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [201, 201, 429]);
}

#[tokio::test]
async fn guesses_at_current_password_with_a_stolen_token_are_limited_like_sign_ins() {
    let app = spawn_app_with(|s| s.throttle.failures_per_account = 3).await;
    let ada = app.user("ada@example.org", false, None).await;
    let guess =
        |password: &str| json!({"email": "thief@example.org", "current_password": password});
    for _ in 0..3 {
        let resp = app
            .request(
                reqwest::Method::PATCH,
                "/api/users/me",
                Some(&ada.access),
                Some(&guess("wrong guess")),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    }
    let resp = app
        .request(
            reqwest::Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&guess("wrong guess")),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    // Now even the right password waits, and the account's sign-in is held back too.
    let resp = app
        .request(
            reqwest::Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&guess(PASSWORD)),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, me) = status_json(app.get("/api/users/me", Some(&ada.access)).await).await;
    assert_eq!(me["email"], "ada@example.org");
    // Changes that need no password are not held back.
    let names = json!({"first_name": "Ada"});
    let resp = app
        .request(
            reqwest::Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&names),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}
