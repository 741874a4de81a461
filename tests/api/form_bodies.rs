//! Every documented body in the three encodings the seeds' framework reads (issue 27 #3):
//! JSON, `application/x-www-form-urlencoded` and `multipart/form-data` (a browser's
//! `new FormData(form)`), through the one body reader and within its bounds (issue 22 #6).

use reqwest::header;
use serde_json::Value;

use crate::helpers::{sample_test, spawn_app, status_json, TestApp, PASSWORD};
use crate::media::{form, part, BOUNDARY};

/// A multipart/form-data body of text fields.
fn fields(pairs: &[(&str, &str)]) -> Vec<u8> {
    let parts: Vec<_> = pairs
        .iter()
        .map(|(name, value)| part(name, None, value.as_bytes()))
        .collect();
    form(&parts)
}

async fn post_multipart(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(path))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let (status, body) = status_json(request.send().await.unwrap()).await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_browser_form_signs_in_at_the_token_door() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let body = fields(&[("email", &ada.email), ("password", PASSWORD)]);
    let (status, tokens) = post_multipart(&app, "/api/users/token/obtain/", None, body).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens["access"].is_string() && tokens["refresh"].is_string());
    // A wrong password through the same encoding is the same 401.
    let body = fields(&[("email", &ada.email), ("password", "wrong one")]);
    let (status, _) = post_multipart(&app, "/api/users/token/obtain/", None, body).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_teacher_adds_a_student_to_a_group_and_allows_a_test_with_multipart_forms() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.org").await;
    let student = app.student("stu@example.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Class", &[]).await;
    let path = format!("/api/groups/{group}/add_user/");
    let body = fields(&[("user", &student.id.to_string())]);
    let (status, answer) = post_multipart(&app, &path, Some(&owner.access), body).await;
    assert_eq!(status, 200, "{answer}");
    let members: Vec<i64> = answer["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().or(m.as_i64()).unwrap())
        .collect();
    assert_eq!(members, vec![student.id]);

    let test = app.create_test(&owner, &sample_test()).await;
    let path = format!("/api/tests/{}/allow_for_group/", test["id"]);
    let body = fields(&[("group", &group.to_string())]);
    let (status, answer) = post_multipart(&app, &path, Some(&owner.access), body).await;
    assert_eq!(status, 200, "{answer}");
    // The student now sees the test.
    let uuid = test["uuid"].as_str().unwrap_or_default().to_owned();
    if !uuid.is_empty() {
        let resp = app
            .get(&format!("/api/tests/p/{uuid}/"), Some(&student.access))
            .await;
        assert_eq!(resp.status(), 200);
    }
}

#[tokio::test]
async fn a_multipart_body_of_too_many_parts_is_refused_naming_the_limit() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.org").await;
    let group = app.group(&owner, "Class", &[]).await;
    let path = format!("/api/groups/{group}/add_user/");
    let many: Vec<(String, String)> = (0..101).map(|i| (format!("f{i}"), "1".into())).collect();
    let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, body) = post_multipart(&app, &path, Some(&owner.access), fields(&pairs)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    assert!(
        body["detail"].as_str().unwrap().contains("at most 100"),
        "{body}"
    );
}

#[tokio::test]
async fn a_multipart_part_with_oversized_headers_is_refused_naming_the_limit() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.org").await;
    let group = app.group(&owner, "Class", &[]).await;
    let path = format!("/api/groups/{group}/add_user/");
    let long = "x".repeat(20 * 1024);
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"user\"\r\nX-Padding: {long}\r\n\r\n1\r\n--{BOUNDARY}--\r\n"
    );
    let (status, answer) =
        post_multipart(&app, &path, Some(&owner.access), body.into_bytes()).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("8192"),
        "{answer}"
    );
}

#[tokio::test]
async fn an_anonymous_multipart_body_is_held_to_16_kib() {
    let app = spawn_app().await;
    let padding = "x".repeat(20 * 1024);
    let body = fields(&[("email", "ada@example.org"), ("password", &padding)]);
    let (status, answer) = post_multipart(&app, "/api/users/token/obtain/", None, body).await;
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("16384"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_all_three_encodings_for_each_documented_body() {
    let app = spawn_app().await;
    let (_, doc) = status_json(app.get("/api/schema/json/", None).await).await;
    for (path, method) in [
        ("/api/users/token/obtain/", "post"),
        ("/api/groups/{id}/add_user/", "post"),
        ("/api/tests/{id}/allow_for_group/", "post"),
    ] {
        let content = &doc["paths"][path][method]["requestBody"]["content"];
        for media in [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ] {
            assert!(
                content[media].is_object(),
                "{path} lacks {media}: {content}"
            );
        }
    }
}
