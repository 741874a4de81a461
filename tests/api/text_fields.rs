//! Single-line text fields (emails, names of people, organizations, groups and tests) hold
//! one line of plain text, whichever endpoint they come through; bodies are valid UTF-8.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, TestApp, PASSWORD};

/// Characters that must never get into a single-line field: C0, DEL, C1, bidi overrides and
/// isolates, invisible format characters (zero-width space, word joiner, byte-order mark,
/// bidi mark).
const FORBIDDEN: [&str; 10] = [
    "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{202E}", "\u{2066}", "\u{200B}", "\u{2060}",
    "\u{FEFF}", "\u{200F}",
];

/// Asserts a 400 naming exactly `field`.
fn assert_refuses(field: &str, (status, errors): (StatusCode, Value)) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {errors}");
    let named: Vec<&String> = errors.as_object().unwrap().keys().collect();
    assert_eq!(named, vec![field], "{errors}");
}

#[tokio::test]
async fn control_and_bidi_characters_are_refused_in_registration_naming_the_field() {
    let app = spawn_app().await;
    for bad in FORBIDDEN {
        for field in ["email", "first_name", "last_name"] {
            let mut body = json!({"email": "ada@example.org", "password": PASSWORD,
                                  "first_name": "Ada", "last_name": "Lovelace"});
            body[field] = json!(match field {
                "email" => format!("a{bad}da@example.org"),
                _ => format!("A{bad}da"),
            });
            assert_refuses(field, status_json(app.register(&body).await).await);
        }
    }
    // Letters of any script, and joiners, are text.
    let body = json!({"email": "zoë@école.fr", "password": PASSWORD,
                      "first_name": "Zoë", "last_name": "כהן\u{200D}"});
    assert_eq!(app.register(&body).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn control_and_bidi_characters_are_refused_in_profile_changes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    for bad in FORBIDDEN {
        for (field, value) in [
            ("first_name", format!("A{bad}da")),
            ("email", format!("ada{bad}@example.org")),
        ] {
            let body = json!({field: value, "current_password": PASSWORD});
            let resp = app
                .request(
                    Method::PATCH,
                    "/api/users/me",
                    Some(&ada.access),
                    Some(&body),
                )
                .await;
            assert_refuses(field, status_json(resp).await);
        }
    }
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    status_json(app.post(path, Some(token), &body).await).await
}

#[tokio::test]
async fn control_and_bidi_characters_are_refused_in_organization_group_and_test_names() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let founder = app.user("founder@school.org", true, None).await;
    for bad in FORBIDDEN {
        let name = format!("Class{bad}A");
        let org = post(
            &app,
            "/api/organizations/",
            &founder.access,
            json!({"name": name}),
        )
        .await;
        assert_refuses("name", org);
        let group = json!({"name": name, "members": []});
        assert_refuses(
            "name",
            post(&app, "/api/groups/", &owner.access, group).await,
        );
        let test = json!({"name": name, "questions": []});
        assert_refuses("name", post(&app, "/api/tests/", &owner.access, test).await);
    }
}

#[tokio::test]
async fn invalid_utf8_in_a_json_or_form_body_is_a_parse_error() {
    let app = spawn_app().await;
    let bodies: [(&str, &[u8]); 3] = [
        ("application/json", b"{\"email\": \"a\xffb@example.org\"}"),
        (
            "application/x-www-form-urlencoded",
            b"email=a%FFb%40example.org",
        ),
        (
            "application/x-www-form-urlencoded",
            b"email=a\xffb%40example.org",
        ),
    ];
    for (content_type, body) in bodies {
        let resp = app
            .client
            .post(app.url("/api/users/"))
            .header("content-type", content_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}: {body}");
        assert_eq!(body["code"], "parse_error", "{content_type}: {body}");
    }
}
