//! Seed 000's `/api/v1/user/…`: registration, log-in by email and by Facebook, log-out,
//! password resets by emailed link, users with nested shelves, Stripe customers. Facebook
//! and Stripe are stubs served by the test itself on loopback.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, TestApp, PASSWORD};
use crate::schema::{assert_documented, schema};

const USERS: &str = "/api/v1/user/";
const REGISTRATION: &str = "/api/v1/user/registration/";
const LOGIN: &str = "/api/v1/user/login/";
const FACEBOOK: &str = "/api/v1/user/login/facebook/";
const LOGOUT: &str = "/api/v1/user/logout/";
const RESET: &str = "/api/v1/user/password/reset/";
const CONFIRM: &str = "/api/v1/user/password/reset/confirm/";
const NEW_PASSWORD: &str = "another horse battery";

/// The keys of a user in the plain list, as the seed shows them.
const FLAT_KEYS: [&str; 5] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "stripe_customer_id",
];
/// The shelves every other answer nests beside them.
const SHELF_KEYS: [&str; 6] = [
    "signature_courses",
    "favorite_teachers",
    "favorite_courses",
    "favorite_videos",
    "is_viewed_videos",
    "favorite_collections",
];

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn assert_flat_user(user: &Value) {
    assert_eq!(keys(user), set(&FLAT_KEYS), "{user}");
}

fn assert_nested_user(user: &Value) {
    let mut expected = set(&FLAT_KEYS);
    expected.extend(set(&SHELF_KEYS));
    assert_eq!(keys(user), expected, "{user}");
    for shelf in SHELF_KEYS {
        assert!(user[shelf].is_array(), "{shelf} of {user}");
    }
}

/// The key of a `Token <40 hex>` value, checking its shape.
fn key_of(token: &Value) -> String {
    let token = token.as_str().unwrap_or_else(|| panic!("token {token}"));
    let key = token
        .strip_prefix("Token ")
        .unwrap_or_else(|| panic!("not `Token <key>`: {token}"));
    assert_eq!(key.len(), 40, "{token}");
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{token}"
    );
    key.to_owned()
}

fn registration(email: &str) -> Value {
    json!({"first_name": "Serhii", "last_name": "Qwed", "email": email, "password": PASSWORD})
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    status_json(app.with_key(method, path, key, body).await).await
}

/// A registered platform user: id and key.
struct Platform {
    id: i64,
    key: String,
}

async fn register(app: &TestApp, email: &str) -> Platform {
    let (status, body) = call(app, Method::POST, USERS, None, Some(&registration(email))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Platform {
        id: body["user"]["id"].as_i64().unwrap(),
        key: key_of(&body["token"]),
    }
}

fn user_path(id: i64) -> String {
    format!("{USERS}{id}/")
}

#[tokio::test]
async fn both_registration_doors_answer_the_nested_user_and_a_token_of_forty_hex() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    for (path, email) in [
        (USERS, "serhii001@example.org"),
        (REGISTRATION, "serhii003@example.org"),
    ] {
        let body = registration(email);
        let (status, answer) = call(&app, Method::POST, path, None, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert_documented(&doc, "post", path, status, &answer);
        assert_eq!(keys(&answer), set(&["user", "token"]));
        let user = &answer["user"];
        assert_nested_user(user);
        assert_eq!(user["email"], email);
        assert_eq!(user["first_name"], "Serhii");
        assert_eq!(user["last_name"], "Qwed");
        assert_eq!(user["stripe_customer_id"], Value::Null);
        for shelf in SHELF_KEYS {
            assert_eq!(user[shelf], json!([]));
        }
        let key = key_of(&answer["token"]);
        let id = user["id"].as_i64().unwrap();
        let (status, me) = call(&app, Method::GET, &user_path(id), Some(&key), None).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(&me, user);
    }
}

#[tokio::test]
async fn names_are_optional_and_email_and_password_are_required() {
    let app = spawn_app().await;
    let body = json!({"email": "bare@example.org", "password": PASSWORD});
    let (status, answer) = call(&app, Method::POST, USERS, None, Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["user"]["first_name"], "");
    assert_eq!(answer["user"]["last_name"], "");

    let (status, answer) = call(&app, Method::POST, USERS, None, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["email"].is_array() && answer["password"].is_array(),
        "{answer}"
    );
}

#[tokio::test]
async fn a_taken_email_is_refused_naming_email_with_the_message_of_the_other_doors() {
    let app = spawn_app().await;
    let other_door = json!({"email": "taken@example.org", "password": PASSWORD,
                            "first_name": "A", "last_name": "B"});
    assert_eq!(
        app.register(&other_door).await.status(),
        StatusCode::CREATED
    );
    let (status, there) = status_json(app.register(&other_door).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, here) = call(
        &app,
        Method::POST,
        REGISTRATION,
        None,
        Some(&registration("TAKEN@example.org")),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{here}");
    assert_eq!(here["email"], there["email"]);
}

#[tokio::test]
async fn logging_in_answers_the_user_and_a_new_key() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let registered = register(&app, "admin@example.org").await;
    let body = json!({"email": "Admin@Example.org", "password": PASSWORD});
    let (status, answer) = call(&app, Method::POST, LOGIN, None, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_documented(&doc, "post", LOGIN, status, &answer);
    assert_eq!(keys(&answer), set(&["user", "token"]));
    assert_nested_user(&answer["user"]);
    assert_eq!(answer["user"]["id"], registered.id);
    let key = key_of(&answer["token"]);
    assert_ne!(key, registered.key, "every log-in issues its own key");
    let (status, _) = call(
        &app,
        Method::GET,
        &user_path(registered.id),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_answer_the_same_400() {
    let app = spawn_app().await;
    register(&app, "known@example.org").await;
    let wrong = json!({"email": "known@example.org", "password": "not the password"});
    let unknown = json!({"email": "nobody@example.org", "password": PASSWORD});
    let (status_wrong, wrong) = call(&app, Method::POST, LOGIN, None, Some(&wrong)).await;
    let (status_unknown, unknown) = call(&app, Method::POST, LOGIN, None, Some(&unknown)).await;
    assert_eq!(status_wrong, StatusCode::BAD_REQUEST);
    assert_eq!(status_unknown, StatusCode::BAD_REQUEST);
    assert_eq!(wrong, unknown);
    assert!(wrong["non_field_errors"].is_array(), "{wrong}");
}

#[tokio::test]
async fn logging_out_revokes_the_key_presented_and_no_other() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let first = register(&app, "out@example.org").await;
    let body = json!({"email": "out@example.org", "password": PASSWORD});
    let (_, second) = call(&app, Method::POST, LOGIN, None, Some(&body)).await;
    let second = key_of(&second["token"]);

    let (status, answer) = call(
        &app,
        Method::POST,
        LOGOUT,
        Some(&first.key),
        Some(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({}));
    assert_documented(&doc, "post", LOGOUT, status, &answer);

    let (status, _) = call(&app, Method::GET, USERS, Some(&first.key), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = call(&app, Method::GET, USERS, Some(&second), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, Method::POST, LOGOUT, None, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logging_out_with_a_jwt_revokes_its_whole_log_in() {
    let app = spawn_app().await;
    register(&app, "jwt@example.org").await;
    let (status, pair) = status_json(app.obtain_tokens("jwt@example.org", PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let access = pair["access"].as_str().unwrap();
    let (status, answer) = status_json(app.post(LOGOUT, Some(access), &json!({})).await).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({}));
    assert_eq!(
        app.get(USERS, Some(access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = json!({"refresh": pair["refresh"]});
    let resp = app.post("/api/users/token/refresh/", None, &refresh).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_list_shows_only_oneself_flat_and_a_page_nests_shelves() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let ann = register(&app, "ann@example.org").await;
    register(&app, "bob@example.org").await;

    let (status, list) = call(&app, Method::GET, USERS, Some(&ann.key), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_documented(&doc, "get", USERS, status, &list);
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_flat_user(&items[0]);
    assert_eq!(items[0]["id"], ann.id);
    assert_eq!(items[0]["email"], "ann@example.org");

    let path = format!("{USERS}?limit=10&offset=0");
    let (status, page) = call(&app, Method::GET, &path, Some(&ann.key), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_documented(&doc, "get", USERS, status, &page);
    assert_eq!(keys(&page), set(&["count", "next", "previous", "results"]));
    assert_eq!(page["count"], 1);
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["previous"], Value::Null);
    assert_nested_user(&page["results"][0]);
    assert_eq!(page["results"][0]["id"], ann.id);
}

#[tokio::test]
async fn others_are_404_and_a_holder_of_view_user_sees_every_account() {
    let app = spawn_app().await;
    // First: `createsuperuser` runs a process, long enough on a slow store for the server to
    // close a kept-alive connection the client would then reuse.
    let admin = app.superuser("root").await;
    let doc = schema(&app).await;
    let ann = register(&app, "ann@example.org").await;
    let bob = register(&app, "bob@example.org").await;
    let (status, _) = call(&app, Method::GET, &user_path(bob.id), Some(&ann.key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::GET, &user_path(999_999), Some(&ann.key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("{USERS}abc/"),
        Some(&ann.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::GET, &user_path(ann.id), None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let viewer = app.member("viewer").await;
    app.grant(&admin, &viewer, &[1]).await;
    let (status, list) = call(&app, Method::GET, USERS, Some(&viewer.key), None).await;
    assert_eq!(status, StatusCode::OK);
    let ids: BTreeSet<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [ann.id, bob.id, admin.id, viewer.id].into_iter().collect()
    );
    let (status, bob_seen) = call(
        &app,
        Method::GET,
        &user_path(bob.id),
        Some(&viewer.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bob_seen}");
    assert_documented(&doc, "get", "/api/v1/user/{id}/", status, &bob_seen);
    assert_nested_user(&bob_seen);
    assert_eq!(bob_seen["email"], "bob@example.org");
}

#[tokio::test]
async fn a_put_changes_names_and_needs_email_as_the_seed_says() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let ann = register(&app, "ann@example.org").await;
    let path = user_path(ann.id);
    let body = json!({"first_name": "Serhii_002", "email": "ann@example.org"});
    let (status, user) = call(&app, Method::PUT, &path, Some(&ann.key), Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_documented(&doc, "put", "/api/v1/user/{id}/", status, &user);
    assert_nested_user(&user);
    assert_eq!(user["first_name"], "Serhii_002");
    assert_eq!(user["last_name"], "Qwed");

    let (status, answer) = call(
        &app,
        Method::PUT,
        &path,
        Some(&ann.key),
        Some(&json!({"last_name": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["email"].is_array(), "{answer}");
    let (status, user) = call(
        &app,
        Method::PATCH,
        &path,
        Some(&ann.key),
        Some(&json!({"last_name": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["last_name"], "X");

    // A new email of one's own asks for the password, as at every door.
    let moved = json!({"email": "ann2@example.org"});
    let (status, answer) = call(&app, Method::PUT, &path, Some(&ann.key), Some(&moved)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["current_password"].is_array(), "{answer}");
    let moved = json!({"email": "ann2@example.org", "current_password": PASSWORD});
    let (status, user) = call(&app, Method::PUT, &path, Some(&ann.key), Some(&moved)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "ann2@example.org");
}

#[tokio::test]
async fn others_cannot_be_changed_and_a_change_user_holder_cannot_move_their_email() {
    let app = spawn_app().await;
    let admin = app.superuser("root").await;
    let ann = register(&app, "ann@example.org").await;
    let bob = register(&app, "bob@example.org").await;
    let body = json!({"first_name": "Mallory", "email": "bob@example.org"});
    let (status, _) = call(
        &app,
        Method::PUT,
        &user_path(bob.id),
        Some(&ann.key),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let editor = app.member("editor").await;
    app.grant(&admin, &editor, &[2]).await;
    let (status, user) = call(
        &app,
        Method::PUT,
        &user_path(bob.id),
        Some(&editor.key),
        Some(&body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["first_name"], "Mallory");
    let takeover = json!({"email": "editor-owned@example.org"});
    let (status, answer) = call(
        &app,
        Method::PUT,
        &user_path(bob.id),
        Some(&editor.key),
        Some(&takeover),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["email"].is_array(), "{answer}");
    let (status, answer) = call(
        &app,
        Method::PATCH,
        &user_path(admin.id),
        Some(&editor.key),
        Some(&json!({"first_name": "X"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
}

// Password resets.

/// The reset links mailed to `email` so far, oldest first, from the outbox's `.eml` files.
fn reset_links(app: &TestApp, email: &str) -> Vec<String> {
    let outbox: PathBuf = app.settings.data_dir.join("outbox");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort_by_key(|path| {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (ms, n) = name.split_once('-').unwrap();
        (ms.parse::<u128>().unwrap(), n.parse::<u64>().unwrap())
    });
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .filter(|text| text.lines().any(|line| line == format!("To: {email}")))
        .filter_map(|text| {
            // Undo quoted-printable's soft line breaks and escapes, if the body used them.
            let text = text
                .replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=");
            text.split_whitespace()
                .find(|word| word.contains("/app/#/password-reset/"))
                .map(str::to_owned)
        })
        .collect()
}

async fn nth_link(app: &TestApp, email: &str, count: usize) -> String {
    for _ in 0..500 {
        let links = reset_links(app, email);
        if links.len() >= count {
            return links[count - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{count} reset link(s) never reached {email}");
}

/// The `uid` and `token` of a link `…/app/#/password-reset/{uid}/{token}`.
fn uid_and_token(link: &str) -> (i64, String) {
    let (_, rest) = link.split_once("/app/#/password-reset/").unwrap();
    let (uid, token) = rest.split_once('/').unwrap();
    (uid.parse().unwrap(), token.to_owned())
}

fn confirmation(uid: i64, token: &str, first: &str, second: &str) -> Value {
    json!({"uid": uid, "token": token, "new_password1": first, "new_password2": second})
}

async fn ask_reset(app: &TestApp, email: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        RESET,
        None,
        Some(&json!({"email": email})),
    )
    .await
}

#[tokio::test]
async fn asking_for_a_reset_answers_the_same_whether_or_not_the_email_has_an_account() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    register(&app, "known@example.org").await;
    let (status_known, known) = ask_reset(&app, "known@example.org").await;
    let (status_unknown, unknown) = ask_reset(&app, "nobody@example.org").await;
    assert_eq!(
        (status_known, status_unknown),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(known, json!({}));
    assert_eq!(unknown, json!({}));
    assert_documented(&doc, "post", RESET, status_known, &known);
    let link = nth_link(&app, "known@example.org", 1).await;
    assert!(
        link.starts_with(&format!("{}/app/#/password-reset/", app.address)),
        "{link}"
    );
    let (_, token) = uid_and_token(&link);
    assert_eq!(token.len(), 64, "{link}");
    assert!(reset_links(&app, "nobody@example.org").is_empty());
}

#[tokio::test]
async fn a_reset_link_works_once_and_revokes_every_earlier_key_and_token() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let ann = register(&app, "ann@example.org").await;
    let (_, pair) = status_json(app.obtain_tokens("ann@example.org", PASSWORD).await).await;
    let access = pair["access"].as_str().unwrap().to_owned();
    ask_reset(&app, "ann@example.org").await;
    let (uid, token) = uid_and_token(&nth_link(&app, "ann@example.org", 1).await);
    assert_eq!(uid, ann.id);

    let mismatched = confirmation(uid, &token, NEW_PASSWORD, "something else entirely");
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&mismatched)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["new_password2"].is_array(), "{answer}");
    let other_uid = confirmation(uid + 1000, &token, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&other_uid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["token"].is_array(), "{answer}");

    let right = confirmation(uid, &token, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&right)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!({}));
    assert_documented(&doc, "post", CONFIRM, status, &answer);

    let (status, _) = call(&app, Method::GET, USERS, Some(&ann.key), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the key from before the reset"
    );
    assert_eq!(
        app.get(USERS, Some(&access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let old = json!({"email": "ann@example.org", "password": PASSWORD});
    assert_eq!(
        call(&app, Method::POST, LOGIN, None, Some(&old)).await.0,
        StatusCode::BAD_REQUEST
    );
    let new = json!({"email": "ann@example.org", "password": NEW_PASSWORD});
    assert_eq!(
        call(&app, Method::POST, LOGIN, None, Some(&new)).await.0,
        StatusCode::OK
    );

    let again = confirmation(
        uid,
        &token,
        "a third horse battery",
        "a third horse battery",
    );
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&again)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["token"].is_array(), "{answer}");
}

#[tokio::test]
async fn an_expired_reset_link_is_refused_naming_token() {
    let app = spawn_app_with(|s| s.platform.password_reset_ttl = Duration::from_millis(300)).await;
    let ann = register(&app, "ann@example.org").await;
    ask_reset(&app, "ann@example.org").await;
    let (uid, token) = uid_and_token(&nth_link(&app, "ann@example.org", 1).await);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let body = confirmation(uid, &token, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["token"].is_array(), "{answer}");
    let (status, _) = call(&app, Method::GET, USERS, Some(&ann.key), None).await;
    assert_eq!(status, StatusCode::OK, "an expired link changes nothing");
}

#[tokio::test]
async fn one_link_goes_to_an_address_per_interval_and_a_new_one_replaces_the_earlier() {
    let app = spawn_app().await;
    register(&app, "ann@example.org").await;
    assert_eq!(ask_reset(&app, "ann@example.org").await.0, StatusCode::OK);
    nth_link(&app, "ann@example.org", 1).await;
    // Within the interval: the same answer, and no second email.
    assert_eq!(
        ask_reset(&app, "ann@example.org").await,
        (StatusCode::OK, json!({}))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reset_links(&app, "ann@example.org").len(), 1);

    let app = spawn_app_with(|s| s.codes.resend_interval = Duration::from_millis(100)).await;
    let ann = register(&app, "ann@example.org").await;
    ask_reset(&app, "ann@example.org").await;
    let (uid, first) = uid_and_token(&nth_link(&app, "ann@example.org", 1).await);
    tokio::time::sleep(Duration::from_millis(150)).await;
    ask_reset(&app, "ann@example.org").await;
    let (_, second) = uid_and_token(&nth_link(&app, "ann@example.org", 2).await);
    assert_eq!(uid, ann.id);
    let body = confirmation(uid, &first, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the replaced link: {answer}"
    );
    let body = confirmation(uid, &second, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

// Facebook and Stripe, stubbed.

const APP_ID: &str = "4242";

/// What the stubs were asked.
#[derive(Default)]
struct Seen {
    /// Form bodies of `POST /v1/customers`, with the `Authorization` header.
    customers: Vec<(String, String)>,
}

/// Facebook tokens are `<kind>~<facebook id>~<email>`: kind `good` is ours and valid,
/// `other` another app's, anything else invalid.
fn debug_token(query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if get("access_token") != format!("{APP_ID}|app-secret") {
        return HttpResponse::BadRequest().json(json!({"error": {"message": "bad app token"}}));
    }
    let token = get("input_token");
    let parts: Vec<&str> = token.split('~').collect();
    let data = match parts.as_slice() {
        ["good", id, _] => json!({"is_valid": true, "app_id": APP_ID, "user_id": id}),
        ["other", id, _] => json!({"is_valid": true, "app_id": "9999", "user_id": id}),
        _ => json!({"is_valid": false}),
    };
    HttpResponse::Ok().json(json!({ "data": data }))
}

fn me(query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let token = query
        .iter()
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match token.split('~').collect::<Vec<_>>().as_slice() {
        [_, id, email] => HttpResponse::Ok()
            .json(json!({"id": id, "email": email, "first_name": "Lisa", "last_name": "Face"})),
        _ => HttpResponse::BadRequest().json(json!({"error": {"message": "bad token"}})),
    }
}

fn customers(req: HttpRequest, form: web::Bytes, seen: web::Data<Mutex<Seen>>) -> HttpResponse {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let form = String::from_utf8_lossy(&form).into_owned();
    let mut seen = seen.lock().unwrap();
    seen.customers.push((auth.clone(), form));
    if auth == "Bearer sk_test_down" {
        return HttpResponse::InternalServerError().json(json!({"error": {"message": "down"}}));
    }
    HttpResponse::Ok()
        .json(json!({"id": format!("cus_test{}", seen.customers.len()), "object": "customer"}))
}

/// Starts the Facebook and Stripe stub; answers its base URL and what it records.
async fn third_parties() -> (String, Arc<Mutex<Seen>>) {
    let seen = web::Data::new(Mutex::new(Seen::default()));
    let recorded = seen.clone().into_inner();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(seen.clone())
            .route(
                "/debug_token",
                web::get().to(|q| async move { debug_token(q) }),
            )
            .route("/me", web::get().to(|q| async move { me(q) }))
            .route(
                "/v1/customers",
                web::post().to(|req, form, seen| async move { customers(req, form, seen) }),
            )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    tokio::spawn(server.run());
    (format!("http://127.0.0.1:{port}"), recorded)
}

async fn app_with_third_parties(stripe_key: &str) -> (TestApp, Arc<Mutex<Seen>>) {
    let (stub, seen) = third_parties().await;
    let stripe_key = stripe_key.to_owned();
    let app = spawn_app_with(move |s| {
        s.platform.facebook_app_id = Some(APP_ID.to_owned());
        s.platform.facebook_app_secret = Some("app-secret".to_owned());
        s.platform.facebook_graph_url = stub.clone();
        s.platform.stripe_secret_key = Some(stripe_key);
        s.platform.stripe_api_url = stub;
    })
    .await;
    (app, seen)
}

async fn facebook(app: &TestApp, token: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        FACEBOOK,
        None,
        Some(&json!({"access_token": token})),
    )
    .await
}

#[tokio::test]
async fn facebook_log_in_without_its_settings_answers_503_json() {
    let app = spawn_app().await;
    let (status, answer) = facebook(&app, "good~1~lisa@example.org").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("Facebook"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_valid_facebook_token_makes_an_account_once_and_logs_into_it_again() {
    let (app, _) = app_with_third_parties("sk_test_ok").await;
    let doc = schema(&app).await;
    let (status, first) = facebook(&app, "good~1001~lisa@example.org").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_documented(&doc, "post", FACEBOOK, status, &first);
    assert_eq!(keys(&first), set(&["user", "token"]));
    assert_nested_user(&first["user"]);
    assert_eq!(first["user"]["email"], "lisa@example.org");
    assert_eq!(first["user"]["first_name"], "Lisa");
    let key = key_of(&first["token"]);

    let (status, again) = facebook(&app, "good~1001~lisa@example.org").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    assert_ne!(key_of(&again["token"]), key);
    let (status, _) = call(&app, Method::GET, USERS, Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    // No password was set: a password log-in does not get in.
    let body = json!({"email": "lisa@example.org", "password": ""});
    assert_eq!(
        call(&app, Method::POST, LOGIN, None, Some(&body)).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn concurrent_first_facebook_log_ins_of_one_user_make_one_account() {
    let (app, _) = app_with_third_parties("sk_test_ok").await;
    let tries = (0..5).map(|_| facebook(&app, "good~1004~race@example.org"));
    let answers = futures_util::future::join_all(tries).await;
    let ids: BTreeSet<i64> = answers
        .iter()
        .map(|(status, answer)| {
            assert_eq!(*status, StatusCode::OK, "{answer}");
            answer["user"]["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
}

#[tokio::test]
async fn a_token_of_another_facebook_app_or_an_invalid_one_is_refused() {
    let (app, _) = app_with_third_parties("sk_test_ok").await;
    for token in ["other~1002~eve@example.org", "expired"] {
        let (status, answer) = facebook(&app, token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{token}: {answer}");
        assert!(answer["access_token"].is_array(), "{answer}");
    }
    let (status, answer) = call(&app, Method::POST, FACEBOOK, None, Some(&json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["access_token"].is_array(), "{answer}");
}

#[tokio::test]
async fn an_unknown_facebook_user_with_the_email_of_an_existing_account_is_refused() {
    let (app, _) = app_with_third_parties("sk_test_ok").await;
    let victim = register(&app, "victim@example.org").await;
    let (status, answer) = facebook(&app, "good~1003~Victim@example.org").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["non_field_errors"].is_array(), "{answer}");
    assert!(answer.get("user").is_none() && answer.get("token").is_none());
    let (status, user) = call(
        &app,
        Method::GET,
        &user_path(victim.id),
        Some(&victim.key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "victim@example.org");
}

/// Waits (up to 5 s) until the user's `stripe_customer_id` is set; answers it.
async fn customer_id(app: &TestApp, user: &Platform) -> Value {
    for _ in 0..100 {
        let (_, body) = call(app, Method::GET, &user_path(user.id), Some(&user.key), None).await;
        if !body["stripe_customer_id"].is_null() {
            return body["stripe_customer_id"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Value::Null
}

#[tokio::test]
async fn a_stripe_customer_id_appears_after_registration() {
    let (app, seen) = app_with_third_parties("sk_test_ok").await;
    let ann = register(&app, "ann@example.org").await;
    let id = customer_id(&app, &ann).await;
    assert!(id.as_str().is_some_and(|id| id.starts_with("cus_")), "{id}");
    let (auth, form) = seen.lock().unwrap().customers[0].clone();
    assert_eq!(auth, "Bearer sk_test_ok");
    assert!(form.contains("email=ann%40example.org"), "{form}");
    assert!(form.contains("name=Serhii+Qwed"), "{form}");
    let (_, list) = call(&app, Method::GET, USERS, Some(&ann.key), None).await;
    assert_eq!(list[0]["stripe_customer_id"], id);
}

#[tokio::test]
async fn stripe_answering_500_still_registers_without_a_customer_id() {
    let (app, seen) = app_with_third_parties("sk_test_down").await;
    let (status, answer) = call(
        &app,
        Method::POST,
        USERS,
        None,
        Some(&registration("ann@example.org")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["user"]["stripe_customer_id"], Value::Null);
    for _ in 0..100 {
        if !seen.lock().unwrap().customers.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !seen.lock().unwrap().customers.is_empty(),
        "Stripe was asked"
    );
    let key = key_of(&answer["token"]);
    let id = answer["user"]["id"].as_i64().unwrap();
    let (status, user) = call(&app, Method::GET, &user_path(id), Some(&key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["stripe_customer_id"], Value::Null);
}

#[tokio::test]
async fn a_reset_link_dies_when_the_password_changes_or_the_email_moves_after_it_was_sent() {
    let app = spawn_app().await;
    register(&app, "ann@example.org").await;
    ask_reset(&app, "ann@example.org").await;
    let (uid, token) = uid_and_token(&nth_link(&app, "ann@example.org", 1).await);
    // Ann changes her password through another door: the link in her mailbox is dead.
    let (_, pair) = status_json(app.obtain_tokens("ann@example.org", PASSWORD).await).await;
    let change = json!({"password": NEW_PASSWORD, "current_password": PASSWORD});
    let access = pair["access"].as_str().unwrap();
    let resp = app
        .request(Method::PATCH, "/api/users/me", Some(access), Some(&change))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body = confirmation(
        uid,
        &token,
        "a third horse battery",
        "a third horse battery",
    );
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["token"].is_array(), "{answer}");

    // A link sent before the email moved does not work after.
    let ben = register(&app, "ben@example.org").await;
    ask_reset(&app, "ben@example.org").await;
    let (uid, token) = uid_and_token(&nth_link(&app, "ben@example.org", 1).await);
    let moved = json!({"email": "ben.new@example.org", "current_password": PASSWORD});
    let (status, answer) = call(
        &app,
        Method::PUT,
        &user_path(ben.id),
        Some(&ben.key),
        Some(&moved),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let body = confirmation(
        uid,
        &token,
        "a third horse battery",
        "a third horse battery",
    );
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

#[tokio::test]
async fn claiming_a_facebook_made_account_by_its_mailbox_unlinks_the_facebook_user() {
    let (app, _) = app_with_third_parties("sk_test_ok").await;
    // Someone logs in first with a Facebook profile that carries Cleo's address.
    let (status, made) = facebook(&app, "good~777~cleo@example.org").await;
    assert_eq!(status, StatusCode::OK, "{made}");
    // Cleo claims the account through her mailbox.
    ask_reset(&app, "cleo@example.org").await;
    let (uid, token) = uid_and_token(&nth_link(&app, "cleo@example.org", 1).await);
    let body = confirmation(uid, &token, NEW_PASSWORD, NEW_PASSWORD);
    let (status, answer) = call(&app, Method::POST, CONFIRM, None, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The Facebook user no longer gets into her account.
    let (status, again) = facebook(&app, "good~777~cleo@example.org").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{again}");
    let login = json!({"email": "cleo@example.org", "password": NEW_PASSWORD});
    let (status, signed) = call(&app, Method::POST, LOGIN, None, Some(&login)).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["user"]["id"], made["user"]["id"]);
}
