//! Seed 002's `/api/v1/accounts/users/…`: sign-up with a profile, emailed one-time codes
//! (read from the outbox, or from a real SMTP server on loopback), verification, resending,
//! and profiles by id.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, TestApp, PASSWORD};

const USERS: &str = "/api/v1/accounts/users/";
const VERIFY: &str = "/api/v1/accounts/users/verify/";
const RESEND: &str = "/api/v1/accounts/users/resend/";

fn signup_body(email: &str) -> Value {
    json!({
        "email": email,
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "first_name": "John",
        "last_name": "Doe",
        "phone": "+1234567890",
        "gender": "M",
        "country": "US",
    })
}

pub(crate) fn user_path(id: impl std::fmt::Display) -> String {
    format!("{USERS}{id}/")
}

/// The codes emailed to `email` so far, oldest first, read from the outbox's `.eml` files.
fn codes_in_outbox(app: &TestApp, email: &str) -> Vec<String> {
    let outbox: PathBuf = app.settings.data_dir.join("outbox");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    // `<unix ms>-<n>.eml`: by time, then by the sequence number.
    files.sort_by_key(|path| {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let (ms, n) = name.split_once('-').unwrap();
        (ms.parse::<u128>().unwrap(), n.parse::<u64>().unwrap())
    });
    files
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .filter(|text| text.lines().any(|line| line == format!("To: {email}")))
        .map(|text| code_in(&text))
        .collect()
}

/// The code in a message (its subject carries it).
fn code_in(message: &str) -> String {
    let (_, rest) = message
        .split_once("Your TestIT code: ")
        .unwrap_or_else(|| panic!("no code in {message}"));
    let code: String = rest.chars().take(6).collect();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{message}");
    code
}

/// Waits (up to 5 s: delivery is in the background) until `count` codes went to `email`;
/// answers the newest.
async fn nth_code(app: &TestApp, email: &str, count: usize) -> String {
    for _ in 0..500 {
        let codes = codes_in_outbox(app, email);
        if codes.len() >= count {
            return codes[count - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{count} code(s) never reached {email}");
}

async fn signup(app: &TestApp, email: &str) -> Value {
    let (status, body) = status_json(app.post(USERS, None, &signup_body(email)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn verify(app: &TestApp, email: &str, code: &str) -> (StatusCode, Value) {
    status_json(
        app.post(
            VERIFY,
            None,
            &json!({"email": email, "code": code, "password": PASSWORD}),
        )
        .await,
    )
    .await
}

/// A verified account: its id and access token.
pub(crate) async fn verified(app: &TestApp, email: &str) -> (i64, String) {
    let id = signup(app, email).await["data"]["id"].as_i64().unwrap();
    let code = nth_code(app, email, 1).await;
    let (status, tokens) = verify(app, email, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    (id, tokens["access"].as_str().unwrap().to_owned())
}

async fn patch(app: &TestApp, id: i64, token: &str, body: &Value) -> (StatusCode, Value) {
    status_json(
        app.request(Method::PATCH, &user_path(id), Some(token), Some(body))
            .await,
    )
    .await
}

fn rfc3339_utc(value: &Value) -> bool {
    let text = value.as_str().unwrap_or("");
    text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T'
}

/// A bad code, different from `code`.
fn other_than(code: &str) -> String {
    if code == "000000" {
        "111111".into()
    } else {
        "000000".into()
    }
}

#[tokio::test]
async fn signing_up_answers_the_documented_shape_and_emails_a_code() {
    let app = spawn_app().await;
    let mut body = signup_body("user@example.com");
    body["birthday"] = json!("1990-01-01");
    body["address"] = json!("123 Main Street, Some City");

    let (status, answer) = status_json(app.post(USERS, None, &body).await).await;

    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["msg"], "Email sent successfully!");
    let data = &answer["data"];
    let keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "gender",
        "country",
        "created_at",
        "updated_at",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected, "{data}");
    assert!(data["id"].as_i64().unwrap() > 0);
    assert_eq!(data["email"], "user@example.com");
    assert_eq!(data["first_name"], "John");
    assert_eq!(data["last_name"], "Doe");
    assert_eq!(data["phone"], "+1234567890");
    assert_eq!(data["gender"], "M");
    assert_eq!(data["country"], "US");
    assert!(rfc3339_utc(&data["created_at"]), "{data}");
    assert!(rfc3339_utc(&data["updated_at"]), "{data}");
    let code = nth_code(&app, "user@example.com", 1).await;
    assert_eq!(code.len(), 6);
}

#[tokio::test]
async fn an_unverified_account_cannot_log_in_until_its_code_is_entered() {
    let app = spawn_app().await;
    let id = signup(&app, "ann@example.org").await["data"]["id"]
        .as_i64()
        .unwrap();

    let resp = app.obtain_tokens("ann@example.org", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let code = nth_code(&app, "ann@example.org", 1).await;
    let (status, tokens) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert!(tokens["refresh"].as_str().is_some_and(|r| !r.is_empty()));
    let (status, me) = status_json(app.get(&user_path(id), Some(access)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["email"], "ann@example.org");

    let resp = app.obtain_tokens("ann@example.org", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_up_names_every_missing_field() {
    let app = spawn_app().await;
    let (status, body) = status_json(app.post(USERS, None, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "email",
        "password",
        "confirm_password",
        "first_name",
        "last_name",
        "phone",
        "gender",
        "country",
    ] {
        assert_eq!(body[field], json!(["This field is required."]), "{body}");
    }
    assert!(body.get("birthday").is_none() && body.get("address").is_none());
}

#[tokio::test]
async fn a_confirmation_that_differs_is_refused_naming_confirm_password_and_writes_nothing() {
    let app = spawn_app().await;
    let mut body = signup_body("ann@example.org");
    body["confirm_password"] = json!("another horse battery");

    let (status, errors) = status_json(app.post(USERS, None, &body).await).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors,
        json!({"confirm_password": ["The two password fields didn't match."]})
    );
    // Nothing was written: the address is still free, and no code went to it.
    assert!(codes_in_outbox(&app, "ann@example.org").is_empty());
    signup(&app, "ann@example.org").await;
}

#[tokio::test]
async fn each_field_is_validated_and_named() {
    let app = spawn_app().await;
    let cases = [
        ("email", json!("not-an-email")),
        ("password", json!("short")),
        ("first_name", json!("   ")),
        ("last_name", json!("Doe\u{202E}")),
        ("phone", json!("1234567890")),
        ("phone", json!("+12 34 56 78")),
        ("phone", json!("+1234567")),
        ("phone", json!("+1234567890123456")),
        ("gender", json!("X")),
        ("gender", json!("male")),
        ("country", json!("ZZ")),
        ("country", json!("USA")),
        ("birthday", json!("1990-02-30")),
        ("birthday", json!("01/01/1990")),
        ("birthday", json!("2999-01-01")),
        ("address", json!("line one\nline two")),
    ];
    for (field, value) in cases {
        let mut body = signup_body("ann@example.org");
        body[field] = value.clone();
        if field == "password" {
            body["confirm_password"] = value.clone();
        }
        let (status, errors) = status_json(app.post(USERS, None, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field} = {value}");
        let names: Vec<&String> = errors.as_object().unwrap().keys().collect();
        assert_eq!(names, vec![field], "{field} = {value}: {errors}");
        assert!(errors[field][0].as_str().is_some_and(|m| !m.is_empty()));
    }
    // None of them wrote anything: the address is free, and only its sign-up sent a code.
    signup(&app, "ann@example.org").await;
    nth_code(&app, "ann@example.org", 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(codes_in_outbox(&app, "ann@example.org").len(), 1);
}

#[tokio::test]
async fn country_codes_are_accepted_in_any_case_and_answered_upper_case() {
    let app = spawn_app().await;
    let mut body = signup_body("ann@example.org");
    body["country"] = json!("fr");
    body["gender"] = json!("O");
    let (status, answer) = status_json(app.post(USERS, None, &body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["data"]["country"], "FR");
    assert_eq!(answer["data"]["gender"], "O");
}

#[tokio::test]
async fn a_taken_email_is_refused_naming_email_in_any_case() {
    let app = spawn_app().await;
    // Taken: verified (an unverified sign-up is replaced by a new one).
    verified(&app, "ann@example.org").await;
    let (status, errors) =
        status_json(app.post(USERS, None, &signup_body("ANN@Example.org")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors,
        json!({"email": ["user with this email already exists."]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_signups_with_one_email_make_exactly_one_account() {
    let app = spawn_app().await;
    let body = signup_body("race@example.org");
    let answers = join_all((0..12).map(|_| app.post(USERS, None, &body))).await;
    let mut created = 0;
    for resp in answers {
        let (status, answer) = status_json(resp).await;
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(
                answer,
                json!({"email": ["user with this email already exists."]})
            ),
            // A sign-up that starts after the first one is stored finds it unverified and
            // would replace it (see the replacing tests below), which sends a new code: within
            // the minute after the first code that is refused, and nothing is replaced. On a
            // loaded machine some of the twelve start that late.
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(answer["code"], "throttled"),
            other => panic!("{other}: {answer}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn the_owner_reads_their_full_profile() {
    let app = spawn_app().await;
    let (id, access) = verified(&app, "ann@example.org").await;

    let (status, me) = status_json(app.get(&user_path(id), Some(&access)).await).await;

    assert_eq!(status, StatusCode::OK);
    let mut keys: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = vec![
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "photo",
        "address",
        "gender",
        "country",
        "birthday",
        "has_initial_profile",
        "created_at",
        "updated_at",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(me["id"], id);
    assert_eq!(me["phone"], "+1234567890");
    assert_eq!(me["photo"], Value::Null);
    assert_eq!(me["birthday"], Value::Null);
    assert_eq!(me["address"], Value::Null);
    assert_eq!(me["has_initial_profile"], true);
    assert!(rfc3339_utc(&me["created_at"]) && rfc3339_utc(&me["updated_at"]));
    // Also without the trailing slash.
    let resp = app
        .get(&format!("{USERS}{id}"), Some(access.as_str()))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_account_from_another_door_has_no_initial_profile() {
    let app = spawn_app().await;
    let other = app.user("plain@example.org", false, None).await;
    let (status, me) = status_json(app.get(&user_path(other.id), Some(&other.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["has_initial_profile"], false);
    assert_eq!(me["phone"], Value::Null);
}

#[tokio::test]
async fn others_and_missing_ids_get_the_same_404_for_reading_and_changing() {
    let app = spawn_app().await;
    let (ann, _) = verified(&app, "ann@example.org").await;
    let (_, bob) = verified(&app, "bob@example.org").await;
    let not_found = json!({"error": "User not found"});
    for id in [ann.to_string(), "999999".to_owned(), "abc".to_owned()] {
        let (status, body) = status_json(app.get(&user_path(&id), Some(&bob)).await).await;
        assert_eq!(
            (status, &body),
            (StatusCode::NOT_FOUND, &not_found),
            "GET {id}"
        );
        let (status, body) = status_json(
            app.request(
                Method::PATCH,
                &user_path(&id),
                Some(&bob),
                Some(&json!({"first_name": "Mallory"})),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, &body),
            (StatusCode::NOT_FOUND, &not_found),
            "PATCH {id}"
        );
    }
}

#[tokio::test]
async fn reading_or_changing_a_profile_needs_a_token() {
    let app = spawn_app().await;
    let (id, _) = verified(&app, "ann@example.org").await;
    let resp = app.get(&user_path(id), None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = app
        .request(Method::PATCH, &user_path(id), None, Some(&json!({})))
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn holders_of_view_user_read_anyone_and_of_change_user_change_anyone() {
    use testit::accounts::permissions::Permission;
    let app = spawn_app().await;
    let (ann, _) = verified(&app, "ann@example.org").await;
    let (admin, admin_token) = verified(&app, "admin@example.org").await;
    let grant = |permission: Permission| {
        let store = app.store.clone();
        async move {
            store
                .users()
                .update(admin, |u| {
                    u.permissions.push(permission.id());
                    u.permissions.sort_unstable();
                    Ok::<_, testit::store::StoreError>(())
                })
                .await
                .unwrap()
                .unwrap();
        }
    };

    grant(Permission::ViewUsers).await;
    let (status, body) = status_json(app.get(&user_path(ann), Some(&admin_token)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "ann@example.org");
    // Viewing is not changing.
    let (status, _) = patch(&app, ann, &admin_token, &json!({"first_name": "Anna"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    grant(Permission::ChangeUsers).await;
    let (status, body) = patch(&app, ann, &admin_token, &json!({"first_name": "Anna"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["first_name"], "Anna");
}

#[tokio::test]
async fn patching_changes_only_the_sent_fields_and_sets_updated_at() {
    let app = spawn_app().await;
    let (id, access) = verified(&app, "ann@example.org").await;
    let (_, before) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let change = json!({
        "phone": "+447911123456", "gender": "F", "country": "gb",
        "birthday": "1990-01-01", "address": "1 High Street",
    });
    let (status, body) = patch(&app, id, &access, &change).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "country",
            "created_at",
            "email",
            "first_name",
            "gender",
            "id",
            "last_name",
            "phone",
            "updated_at"
        ]
    );
    assert_eq!(body["phone"], "+447911123456");
    assert_eq!(body["gender"], "F");
    assert_eq!(body["country"], "GB");
    assert_eq!(body["first_name"], "John");
    assert_eq!(body["created_at"], before["created_at"]);
    assert!(body["updated_at"].as_str() > before["updated_at"].as_str());
    let (_, after) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(after["birthday"], "1990-01-01");
    assert_eq!(after["address"], "1 High Street");

    // Null clears the optional fields.
    let (status, _) = patch(&app, id, &access, &json!({"birthday": null, "address": ""})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, after) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(after["birthday"], Value::Null);
    assert_eq!(after["address"], Value::Null);
}

#[tokio::test]
async fn a_bad_patch_is_refused_naming_each_field_and_changes_nothing() {
    let app = spawn_app().await;
    let (id, access) = verified(&app, "ann@example.org").await;
    let (_, before) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    let change = json!({
        "first_name": "Anna", "phone": "555", "gender": "Q", "country": "XX",
        "birthday": "tomorrow", "email": "nope",
    });
    let (status, errors) = patch(&app, id, &access, &change).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["phone", "gender", "country", "birthday", "email"] {
        assert!(errors[field].is_array(), "{field}: {errors}");
    }
    assert!(errors.get("first_name").is_none());
    let (_, after) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(after, before);
    let (status, errors) = patch(&app, id, &access, &json!({"phone": null})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors, json!({"phone": ["This field may not be null."]}));
}

#[tokio::test]
async fn a_new_email_needs_the_current_password_then_verification_before_the_next_log_in() {
    let app = spawn_app().await;
    let (id, access) = verified(&app, "ann@example.org").await;

    let (status, errors) = patch(&app, id, &access, &json!({"email": "new@example.org"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors["current_password"].is_array(), "{errors}");

    let change = json!({"email": "new@example.org", "current_password": PASSWORD});
    let (status, body) = patch(&app, id, &access, &change).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], "new@example.org");

    // Unverified: the tokens stop working and nobody can log in until the new code is in.
    let resp = app.get(&user_path(id), Some(&access)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    for email in ["ann@example.org", "new@example.org"] {
        let resp = app.obtain_tokens(email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{email}");
    }
    // The first code went to the old address and does not verify the new one.
    let old_code = nth_code(&app, "ann@example.org", 1).await;
    let new_code = nth_code(&app, "new@example.org", 1).await;
    if old_code != new_code {
        let (status, _) = verify(&app, "new@example.org", &old_code).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, tokens) = verify(&app, "new@example.org", &new_code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let resp = app.obtain_tokens("new@example.org", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_code_is_one_400_naming_code_whether_or_not_the_email_has_an_account() {
    let app = spawn_app().await;
    signup(&app, "ann@example.org").await;
    let code = nth_code(&app, "ann@example.org", 1).await;

    let (status, wrong) = verify(&app, "ann@example.org", &other_than(&code)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        wrong["code"][0].as_str().is_some_and(|m| !m.is_empty()),
        "{wrong}"
    );
    let (status, unknown) = verify(&app, "nobody@example.org", &code).await;
    assert_eq!((status, &unknown), (StatusCode::BAD_REQUEST, &wrong));
    let (status, malformed) = verify(&app, "ann@example.org", "12ab").await;
    assert_eq!((status, &malformed), (StatusCode::BAD_REQUEST, &wrong));

    let (status, errors) = status_json(app.post(VERIFY, None, &json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors["email"], json!(["This field is required."]));
    assert_eq!(errors["code"], json!(["This field is required."]));
}

#[tokio::test]
async fn a_code_works_once() {
    let app = spawn_app().await;
    signup(&app, "ann@example.org").await;
    let code = nth_code(&app, "ann@example.org", 1).await;
    let (first, _) = verify(&app, "ann@example.org", &code).await;
    let (second, body) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(first, StatusCode::OK);
    assert_eq!(second, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["code"].is_array());
}

#[tokio::test]
async fn five_wrong_tries_kill_a_code_and_a_resent_one_works() {
    let app = spawn_app_with(|s| s.codes.resend_interval = Duration::from_secs(1)).await;
    signup(&app, "ann@example.org").await;
    let code = nth_code(&app, "ann@example.org", 1).await;
    for _ in 0..5 {
        let (status, _) = verify(&app, "ann@example.org", &other_than(&code)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the right code after 5 wrong tries"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let resp = app
        .post(RESEND, None, &json!({"email": "ann@example.org"}))
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let fresh = nth_code(&app, "ann@example.org", 2).await;
    let (status, _) = verify(&app, "ann@example.org", &fresh).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = spawn_app_with(|s| s.codes.lifetime = Duration::from_millis(300)).await;
    signup(&app, "ann@example.org").await;
    let code = nth_code(&app, "ann@example.org", 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["code"].is_array());
}

#[tokio::test]
async fn resending_is_throttled_to_once_a_minute_per_address_for_every_address() {
    let app = spawn_app().await;
    signup(&app, "ann@example.org").await;

    // Right after the sign-up's code.
    let resp = app
        .post(RESEND, None, &json!({"email": "ann@example.org"}))
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "throttled");

    // An address without an account is limited the same way, so 429 tells nothing.
    let first = app
        .post(RESEND, None, &json!({"email": "nobody@example.org"}))
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let again = app
        .post(RESEND, None, &json!({"email": "NOBODY@example.org"}))
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(codes_in_outbox(&app, "nobody@example.org").is_empty());
}

#[tokio::test]
async fn resend_answers_the_same_for_unknown_unverified_and_verified_addresses() {
    let app = spawn_app_with(|s| s.codes.resend_interval = Duration::from_millis(200)).await;
    verified(&app, "done@example.org").await;
    signup(&app, "waiting@example.org").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut answers = Vec::new();
    for email in [
        "nobody@example.org",
        "waiting@example.org",
        "done@example.org",
    ] {
        answers.push(status_json(app.post(RESEND, None, &json!({"email": email})).await).await);
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::ACCEPTED);

    // Only the waiting account got a new code, and it replaces the old one.
    let old = nth_code(&app, "waiting@example.org", 1).await;
    let new = nth_code(&app, "waiting@example.org", 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(codes_in_outbox(&app, "done@example.org").len(), 1);
    if old != new {
        let (status, _) = verify(&app, "waiting@example.org", &old).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, _) = verify(&app, "waiting@example.org", &new).await;
    assert_eq!(status, StatusCode::OK);

    let (status, errors) = status_json(app.post(RESEND, None, &json!({"email": "x"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors["email"].is_array());
}

/// A real SMTP server on a free loopback port, speaking enough of RFC 5321 for a client
/// (greeting, EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), keeping
/// each message it receives. One thread per connection, blocking I/O: it lives until the
/// test process ends. (mailin-embedded, the crate for this, needs rustls with its default
/// crypto provider, which would put a second provider and a C build into the test build.)
/// The first `refused` messages are refused at `MAIL` with a transient 451, as a server that
/// is busy or greylisting does.
fn smtp_server(refused: usize) -> (u16, Arc<Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let received = Arc::new(Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let keep = received.clone();
    let refusals = Arc::new(std::sync::atomic::AtomicUsize::new(refused));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let keep = keep.clone();
            let refusals = refusals.clone();
            std::thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut reply = |text: &str| out.write_all(format!("{text}\r\n").as_bytes());
                reply("220 smtp.test ESMTP ready")?;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 {
                        return Ok::<(), std::io::Error>(());
                    }
                    let verb = line.trim_end().to_ascii_uppercase();
                    if verb.starts_with("EHLO") {
                        reply("250-smtp.test greets you")?;
                        reply("250 8BITMIME")?;
                    } else if verb.starts_with("DATA") {
                        reply("354 end data with <CR><LF>.<CR><LF>")?;
                        let mut message = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line)? == 0 {
                                return Ok(());
                            }
                            let text = line.trim_end_matches(['\r', '\n']);
                            if text == "." {
                                break;
                            }
                            message.push_str(text.strip_prefix('.').unwrap_or(text));
                            message.push('\n');
                        }
                        keep.lock().unwrap().push(message);
                        reply("250 queued")?;
                    } else if verb.starts_with("MAIL")
                        && refusals
                            .fetch_update(
                                std::sync::atomic::Ordering::SeqCst,
                                std::sync::atomic::Ordering::SeqCst,
                                |n| n.checked_sub(1),
                            )
                            .is_ok()
                    {
                        reply("451 busy, try again later")?;
                    } else if verb.starts_with("QUIT") {
                        reply("221 bye")?;
                        return Ok(());
                    } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
                        .iter()
                        .any(|v| verb.starts_with(v))
                    {
                        reply("250 OK")?;
                    } else {
                        reply("502 command not implemented")?;
                    }
                }
            });
        }
    });
    (port, received)
}

#[tokio::test]
async fn with_smtp_configured_the_code_goes_through_a_real_smtp_server() {
    let (port, received) = smtp_server(0);
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    signup(&app, "ann@example.org").await;

    let mut message = None;
    for _ in 0..500 {
        if let Some(first) = received.lock().unwrap().first() {
            message = Some(first.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let message = message.expect("the SMTP server received nothing");
    assert!(message.contains("To: ann@example.org"), "{message}");
    let code = code_in(&message);
    assert!(
        message.contains(&format!("verification code is {code}")),
        "{message}"
    );
    // Nothing went to the outbox, and the code delivered by SMTP verifies the account.
    assert!(codes_in_outbox(&app, "ann@example.org").is_empty());
    let (status, _) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_answer_of_the_family_matches_its_documented_schema() {
    use crate::schema::{assert_documented, schema};
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let item = "/api/v1/accounts/users/{id}/";

    let (status, body) =
        status_json(app.post(USERS, None, &signup_body("ann@example.org")).await).await;
    assert_documented(&doc, "post", USERS, status, &body);
    let id = body["data"]["id"].as_i64().unwrap();
    let (status, body) = status_json(app.post(USERS, None, &json!({})).await).await;
    assert_documented(&doc, "post", USERS, status, &body);

    let (status, body) = verify(&app, "ann@example.org", "000000x").await;
    assert_documented(&doc, "post", VERIFY, status, &body);
    let code = nth_code(&app, "ann@example.org", 1).await;
    let (status, body) = verify(&app, "ann@example.org", &code).await;
    assert_documented(&doc, "post", VERIFY, status, &body);
    let access = body["access"].as_str().unwrap().to_owned();

    let (status, body) = status_json(
        app.post(RESEND, None, &json!({"email": "x@example.org"}))
            .await,
    )
    .await;
    assert_documented(&doc, "post", RESEND, status, &body);
    let (status, body) = status_json(
        app.post(RESEND, None, &json!({"email": "x@example.org"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_documented(&doc, "post", RESEND, status, &body);

    let (status, body) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_documented(&doc, "get", item, status, &body);
    let (status, body) = status_json(app.get(&user_path(id + 1), Some(&access)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_documented(&doc, "get", item, status, &body);
    let (status, body) = patch(&app, id, &access, &json!({"gender": "F"})).await;
    assert_documented(&doc, "patch", item, status, &body);
    let (status, body) = patch(&app, id, &access, &json!({"gender": "?"})).await;
    assert_documented(&doc, "patch", item, status, &body);
    let (status, body) = patch(&app, id + 1, &access, &json!({})).await;
    assert_documented(&doc, "patch", item, status, &body);
}

/// Waits (up to `seconds`) for the SMTP server to have received `count` messages.
async fn received_messages(
    received: &Arc<Mutex<Vec<String>>>,
    count: usize,
    seconds: u64,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        let got = received.lock().unwrap().clone();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the SMTP server did not receive {count} message(s) in {seconds} s");
}

#[tokio::test]
async fn a_send_the_smtp_server_refuses_for_now_is_retried_and_the_request_never_fails() {
    let (port, received) = smtp_server(2);
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;

    // Answered at once, while delivery waits for the server.
    signup(&app, "ann@example.org").await;

    // Refused twice (retries after 0.5 s and 2 s), delivered on the third attempt.
    let messages = received_messages(&received, 1, 10).await;
    let code = code_in(&messages[0]);
    let (status, _) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_smtp_server_does_not_fail_or_slow_the_sign_up() {
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let started = std::time::Instant::now();
    signup(&app, "ann@example.org").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    // The failed delivery is the server's business: the address's minute is still taken, so
    // asking again at once is throttled as usual, not an error.
    let resp = app
        .post(RESEND, None, &json!({"email": "ann@example.org"}))
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Seed 002's sign-up body for `email` with another password than the suite's.
fn signup_with_password(email: &str, password: &str) -> Value {
    let mut body = signup_body(email);
    body["password"] = json!(password);
    body["confirm_password"] = json!(password);
    body
}

#[tokio::test]
async fn a_sign_up_with_someone_elses_address_never_gives_its_maker_the_account() {
    let app = spawn_app_with(|s| s.codes.resend_interval = std::time::Duration::from_secs(1)).await;
    let victim = "ann@example.org";
    let attackers = "attacker's own pass 1";
    // The attacker signs up first, with the victim's address and their own password.
    let resp = app
        .post(USERS, None, &signup_with_password(victim, attackers))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // The mailbox's owner enters the code they were sent: without the password that made
    // the account, it does not verify.
    let code = nth_code(&app, victim, 1).await;
    let owners = "the owner's own pass 2";
    let (status, body) = status_json(
        app.post(
            VERIFY,
            None,
            &json!({"email": victim, "code": code, "password": owners}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // The owner signs up themselves: that replaces the unverified account.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = app
        .post(USERS, None, &signup_with_password(victim, owners))
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The first code is dead; the new one verifies with the owner's password.
    let (status, _) = status_json(
        app.post(
            VERIFY,
            None,
            &json!({"email": victim, "code": code, "password": attackers}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let code = nth_code(&app, victim, 2).await;
    let (status, body) = status_json(
        app.post(
            VERIFY,
            None,
            &json!({"email": victim, "code": code, "password": owners}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The attacker's password opens nothing; the owner's does.
    assert_eq!(
        app.obtain_tokens(victim, attackers).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.obtain_tokens(victim, owners).await.status(),
        StatusCode::OK
    );
    // A verified account is not replaced by another sign-up.
    let resp = app
        .post(USERS, None, &signup_with_password(victim, attackers))
        .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn verification_needs_the_password_of_the_sign_up() {
    let app = spawn_app().await;
    signup(&app, "ann@example.org").await;
    let code = nth_code(&app, "ann@example.org", 1).await;
    let (status, errors) = status_json(
        app.post(
            VERIFY,
            None,
            &json!({"email": "ann@example.org", "code": code}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors["password"], json!(["This field is required."]));
    // The code was not spent: with the password it still verifies.
    let (status, body) = verify(&app, "ann@example.org", &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
