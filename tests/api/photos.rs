//! Account photos sent as files: multipart `PUT`/`PATCH /api/users/me` and seed 002's
//! `PATCH /api/v1/accounts/users/{id}/` keep the `photo` part in the file store and set the
//! account's photo to its URL; refused input keeps no bytes and no file document.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testit::store::{Filter, MediaFile};

use crate::accounts_v1::{user_path, verified};
use crate::helpers::{spawn_app, spawn_app_with, status_json, TestApp};
use crate::media::{form, mp4, part, png, stored_files, with_magic, Part, BOUNDARY};
use crate::schema::assert_documented;

const ME: &str = "/api/users/me";

async fn send_form(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    parts: &[Part<'_>],
) -> Response {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(parts))
        .send()
        .await
        .expect("request sent")
}

/// How many file documents the store holds.
async fn media_files(app: &TestApp) -> u64 {
    app.store
        .repo::<MediaFile>()
        .count(&Filter::All)
        .await
        .unwrap()
}

/// The bytes behind a photo URL, which must point at this server.
async fn download(app: &TestApp, url: &Value) -> Vec<u8> {
    let url = url
        .as_str()
        .unwrap_or_else(|| panic!("no photo URL: {url}"));
    assert!(
        url.starts_with(&format!("{}/media/files/", app.address)),
        "{url}"
    );
    let resp = app.client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{url}");
    assert_eq!(resp.headers()["content-type"], "image/png");
    resp.bytes().await.unwrap().to_vec()
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, me) = status_json(app.get(ME, Some(token)).await).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    me
}

#[tokio::test]
async fn a_png_sent_as_multipart_becomes_the_photo_and_downloads_byte_for_byte() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let image = png(3000);

    let resp = send_form(
        &app,
        Method::PATCH,
        ME,
        &ada.access,
        &[
            part("first_name", None, b"Grace"),
            part("photo", Some("me.png"), &image),
        ],
    )
    .await;
    let (status, user) = status_json(resp).await;

    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["first_name"], "Grace");
    assert_eq!(user["last_name"], "Last");
    let doc = crate::schema::schema(&app).await;
    assert_documented(&doc, "patch", ME, StatusCode::OK, &user);
    assert_eq!(download(&app, &user["photo"]).await, image);
    assert_eq!(me(&app, &ada.access).await["photo"], user["photo"]);
    assert_eq!(media_files(&app).await, 1);

    // PUT takes the same form, its required fields as text parts.
    let other = png(500);
    let resp = send_form(
        &app,
        Method::PUT,
        ME,
        &ada.access,
        &[
            part("email", None, b"ada@example.org"),
            part("first_name", None, b"Ada"),
            part("last_name", None, b"Lovelace"),
            part("photo", Some("new.png"), &other),
        ],
    )
    .await;
    let (status, user) = status_json(resp).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["last_name"], "Lovelace");
    assert_eq!(download(&app, &user["photo"]).await, other);
    assert_eq!(media_files(&app).await, 2);

    // The multipart form is documented beside the JSON one.
    let content = &doc["paths"][ME]["patch"]["requestBody"]["content"];
    assert!(content["application/json"].is_object(), "{content}");
    let multipart = &content["multipart/form-data"]["schema"]["$ref"];
    let name = multipart.as_str().unwrap().rsplit('/').next().unwrap();
    let photo = &doc["components"]["schemas"][name]["properties"]["photo"];
    assert_eq!(photo["format"], "binary", "{photo}");
}

#[tokio::test]
async fn a_photo_that_is_not_an_image_is_refused_and_nothing_is_kept() {
    let app = spawn_app_with(|settings| settings.media.image_bytes = 2000).await;
    let ada = app.user("ada@example.org", false, None).await;
    let before = me(&app, &ada.access).await;
    let refusals = [
        // An executable named like a photo: the bytes decide.
        ("photo.jpg", with_magic(b"MZ\x90\0\x03\0\0\0\x04\0", 600)),
        ("notes.jpg", b"just some text, not an image".to_vec()),
        // A video is a catalog file, not a photo.
        ("clip.mp4", mp4(600)),
        // Past the image limit.
        ("big.png", png(2001)),
    ];
    for (name, bytes) in &refusals {
        let resp = send_form(
            &app,
            Method::PATCH,
            ME,
            &ada.access,
            &[
                part("first_name", None, b"Grace"),
                part("photo", Some(name), bytes),
            ],
        )
        .await;
        let (status, body) = status_json(resp).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert!(body["photo"][0].is_string(), "{name}: {body}");
    }
    assert_eq!(me(&app, &ada.access).await, before);
    assert_eq!(media_files(&app).await, 0);
    assert_eq!(stored_files(&app).await, 0);
}

#[tokio::test]
async fn a_change_refused_for_another_field_keeps_no_photo() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let before = me(&app, &ada.access).await;
    let long_name = "x".repeat(151);

    let resp = send_form(
        &app,
        Method::PATCH,
        ME,
        &ada.access,
        &[
            part("photo", Some("me.png"), &png(800)),
            part("first_name", None, long_name.as_bytes()),
        ],
    )
    .await;
    let (status, body) = status_json(resp).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["first_name"].is_array(), "{body}");
    assert!(body.get("photo").is_none(), "{body}");
    assert_eq!(me(&app, &ada.access).await, before);
    assert_eq!(media_files(&app).await, 0);
    assert_eq!(stored_files(&app).await, 0);
}

#[tokio::test]
async fn json_and_form_bodies_set_the_photo_as_before() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let url = "https://cdn.example.org/ada.png";

    let resp = app
        .request(
            Method::PATCH,
            ME,
            Some(&ada.access),
            Some(&json!({"photo": url})),
        )
        .await;
    let (status, user) = status_json(resp).await;
    assert_eq!((status, &user["photo"]), (StatusCode::OK, &json!(url)));

    let resp = app
        .client
        .patch(app.url(ME))
        .bearer_auth(&ada.access)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("photo=")
        .send()
        .await
        .unwrap();
    let (status, user) = status_json(resp).await;
    assert_eq!((status, &user["photo"]), (StatusCode::OK, &Value::Null));
    assert_eq!(media_files(&app).await, 0);
}

#[tokio::test]
async fn seed_002s_profile_change_takes_a_photo_file_too() {
    let app = spawn_app().await;
    let (id, access) = verified(&app, "ann@example.org").await;
    let image = png(1500);

    let resp = send_form(
        &app,
        Method::PATCH,
        &user_path(id),
        &access,
        &[
            part("country", None, b"GB"),
            part("photo", Some("ann.png"), &image),
        ],
    )
    .await;
    let (status, summary) = status_json(resp).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["country"], "GB");
    let (status, account) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(download(&app, &account["photo"]).await, image);
    assert_eq!(media_files(&app).await, 1);

    // A refused change keeps no photo, and the account keeps its own.
    let resp = send_form(
        &app,
        Method::PATCH,
        &user_path(id),
        &access,
        &[
            part("phone", None, b"12"),
            part("photo", Some("other.png"), &png(900)),
        ],
    )
    .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["phone"].is_array(), "{body}");
    let resp = send_form(
        &app,
        Method::PATCH,
        &user_path(id),
        &access,
        &[part("photo", Some("clip.mp4"), &mp4(900))],
    )
    .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["photo"].is_array(), "{body}");
    // Someone else's account is not found, and the photo sent at it is not kept.
    let resp = send_form(
        &app,
        Method::PATCH,
        &user_path(id + 1000),
        &access,
        &[part("photo", Some("x.png"), &png(900))],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(media_files(&app).await, 1);
    assert_eq!(stored_files(&app).await, 1);
    let (_, after) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(after["photo"], account["photo"]);

    // JSON changes this door as before: a photo field there is not read.
    let resp = app
        .request(
            Method::PATCH,
            &user_path(id),
            Some(&access),
            Some(&json!({"photo": "https://cdn.example.org/x.png", "country": "FR"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, after) = status_json(app.get(&user_path(id), Some(&access)).await).await;
    assert_eq!(after["country"], "FR");
    assert_eq!(after["photo"], account["photo"]);
}
