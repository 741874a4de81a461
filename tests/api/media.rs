//! Catalog files: multipart uploads sniffed and limited by kind, the public ranged downloads
//! at `/media/files/{id}/{name}`, and deletion refused while the catalog shows a file.

use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};
use testit::store::Teacher;

use crate::helpers::{spawn_app, spawn_app_with, status_json, TestApp};
use crate::schema::assert_documented;

const FILES: &str = "/api/v1/catalog/files/";
pub(crate) const BOUNDARY: &str = "testit-media-boundary-7f3a";
const MANAGE_CATALOG: i64 = 5;

/// One part of a multipart form: its name, an optional file name, its bytes.
pub(crate) struct Part<'a> {
    name: &'a str,
    filename: Option<&'a str>,
    bytes: &'a [u8],
}

pub(crate) fn file<'a>(filename: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part {
        name: "file",
        filename: Some(filename),
        bytes,
    }
}

/// A part of any name: a file when it has a file name, else a text field.
pub(crate) fn part<'a>(name: &'a str, filename: Option<&'a str>, bytes: &'a [u8]) -> Part<'a> {
    Part {
        name,
        filename,
        bytes,
    }
}

pub(crate) fn title(text: &str) -> Part<'_> {
    Part {
        name: "title",
        filename: None,
        bytes: text.as_bytes(),
    }
}

/// A multipart/form-data body, built by hand (reqwest's multipart feature is not enabled).
pub(crate) fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match part.filename {
            Some(filename) => format!(
                "Content-Disposition: form-data; name=\"{}\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n",
                part.name
            ),
            None => format!("Content-Disposition: form-data; name=\"{}\"\r\n", part.name),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn post_form(app: &TestApp, key: Option<&str>, parts: &[Part<'_>]) -> Response {
    let mut req = app
        .client
        .post(app.url(FILES))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(parts));
    if let Some(key) = key {
        req = req.header("Authorization", format!("Token {key}"));
    }
    req.send().await.expect("request sent")
}

/// Uploads and answers the created file (status checked).
pub(crate) async fn upload(app: &TestApp, key: &str, parts: &[Part<'_>]) -> Value {
    let (status, body) = status_json(post_form(app, Some(key), parts).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// `len` bytes that start with a kind's magic number; the rest varies, so ranges can be told
/// apart.
pub(crate) fn with_magic(magic: &[u8], len: usize) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    let mut x: u32 = 0x1234_5678;
    while bytes.len() < len {
        // xorshift: cheap bytes that do not repeat within a range.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.push(x as u8);
    }
    bytes
}

pub(crate) fn png(len: usize) -> Vec<u8> {
    with_magic(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", len)
}

fn jpeg(len: usize) -> Vec<u8> {
    with_magic(
        &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'],
        len,
    )
}

pub(crate) fn mp4(len: usize) -> Vec<u8> {
    with_magic(b"\0\0\0\x18ftypmp42\0\0\0\0", len)
}

fn webm(len: usize) -> Vec<u8> {
    with_magic(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01], len)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The path part of a file's absolute URL (checked to point at this server).
fn media_path(app: &TestApp, file: &Value) -> String {
    let url = file["file"].as_str().expect("file URL");
    url.strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("{url} is not on {}", app.address))
        .to_owned()
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = app.client.get(app.url(path));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request sent")
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
        .to_owned()
}

/// How many files' bytes are stored: files under `<data dir>/media/` on the embedded store,
/// GridFS files on MongoDB (where chunks must belong to a stored file: an aborted upload
/// leaves none behind).
pub(crate) async fn stored_files(app: &TestApp) -> usize {
    use futures_util::TryStreamExt;
    use mongodb::bson::{doc, Document};
    if crate::helpers::mongodb_uri().is_none() {
        let dir = app.settings.data_dir.join("media");
        return std::fs::read_dir(dir).expect("media dir").count();
    }
    let backend = testit::store::mongo::MongoBackend::connect(&app.settings.database_url)
        .await
        .unwrap();
    let db = backend.database();
    let ids = |name: &'static str, field: &'static str| {
        let collection = db.collection::<Document>(name);
        async move {
            let docs: Vec<Document> = collection
                .find(doc! {})
                .projection(doc! { field: 1 })
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let ids: std::collections::BTreeSet<String> = docs
                .iter()
                .map(|d| d.get(field).unwrap().to_string())
                .collect();
            ids
        }
    };
    let files = ids("media.files", "_id").await;
    let owners = ids("media.chunks", "files_id").await;
    assert!(
        owners.is_subset(&files),
        "orphan chunks: {owners:?} vs {files:?}"
    );
    files.len()
}

#[tokio::test]
async fn images_and_videos_upload_and_download_byte_for_byte() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let image = png(3000);
    let created = upload(
        &app,
        &admin.key,
        &[title("Team photo"), file("team photo.png", &image)],
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let doc = crate::schema::schema(&app).await;
    assert_documented(&doc, "post", FILES, StatusCode::CREATED, &created);
    assert_eq!(created["title"], "Team photo");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let path = media_path(&app, &created);
    assert_eq!(path, format!("/media/files/{id}/team_photo.png"));

    // Public: no credentials needed for the bytes.
    let resp = fetch(&app, &path, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "content-type"), "image/png");
    assert_eq!(header(&resp, "etag"), format!("\"{}\"", sha256_hex(&image)));
    assert_eq!(header(&resp, "accept-ranges"), "bytes");
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert!(header(&resp, "cache-control").contains("max-age"));
    assert!(header(&resp, "last-modified").ends_with("GMT"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), image.as_slice());

    // A video without a title is titled with its file name; the file part may come first.
    let clip = webm(5000);
    let video = upload(&app, &admin.key, &[file("intro.webm", &clip)]).await;
    assert_eq!(video["title"], "intro.webm");
    let resp = fetch(&app, &media_path(&app, &video), &[]).await;
    assert_eq!(header(&resp, "content-type"), "video/webm");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), clip.as_slice());
    let movie = upload(&app, &admin.key, &[file("m.mp4", &mp4(100)), title("M")]).await;
    let resp = fetch(&app, &media_path(&app, &movie), &[]).await;
    assert_eq!(header(&resp, "content-type"), "video/mp4");

    // Anyone signed in lists and reads them.
    let member = app.member("media_reader").await;
    let (status, list) = status_json(
        app.with_key(Method::GET, FILES, Some(&member.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0], created);
    let (status, page) = status_json(
        app.with_key(
            Method::GET,
            &format!("{FILES}?limit=1&offset=1"),
            Some(&member.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_documented(&doc, "get", FILES, StatusCode::OK, &page);
    assert_eq!(page["count"], 3);
    assert_eq!(page["results"][0], video);
    let (status, one) = status_json(
        app.with_key(
            Method::GET,
            &format!("{FILES}{id}/"),
            Some(&member.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, &one), (StatusCode::OK, &created));
}

#[tokio::test]
async fn uploads_of_other_kinds_or_broken_forms_are_refused() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let refusals = [
        ("notes.txt", b"just some text, not an image".to_vec()),
        // An executable named like a photo: the bytes decide.
        ("photo.jpg", with_magic(b"MZ\x90\0\x03\0\0\0\x04\0", 600)),
        ("empty.png", Vec::new()),
        ("short.gif", b"GIF8".to_vec()),
    ];
    for (name, bytes) in &refusals {
        let (status, body) =
            status_json(post_form(&app, Some(&admin.key), &[file(name, bytes)]).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert!(body["file"][0].as_str().unwrap().contains("JPEG"), "{body}");
    }
    // No file part.
    let (status, body) =
        status_json(post_form(&app, Some(&admin.key), &[title("Nothing")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["file"].is_array(), "{body}");
    // Not multipart at all.
    let resp = app
        .with_key(
            Method::POST,
            FILES,
            Some(&admin.key),
            Some(&serde_json::json!({"file": "x"})),
        )
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    // Multipart that breaks off.
    let mut broken = form(&[file("a.png", &png(100))]);
    broken.truncate(broken.len() - 40);
    let resp = app
        .client
        .post(app.url(FILES))
        .header("Authorization", format!("Token {}", admin.key))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(broken)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "parse_error", "{body}");
    // Nothing was kept, as a document or as bytes.
    let (_, list) = status_json(
        app.with_key(Method::GET, FILES, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(list, serde_json::json!([]));
    assert_eq!(stored_files(&app).await, 0);
}

#[tokio::test]
async fn files_past_their_kinds_limit_are_refused_and_not_kept() {
    let app = spawn_app_with(|s| {
        s.media.image_bytes = 1024;
        s.media.video_bytes = 4096;
    })
    .await;
    let admin = app.superuser("media_admin").await;
    let (status, body) =
        status_json(post_form(&app, Some(&admin.key), &[file("big.jpg", &jpeg(2000))]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["file"][0].as_str().unwrap().contains("1 KiB"),
        "{body}"
    );
    // Exactly the limit is fine; videos have their own.
    upload(&app, &admin.key, &[file("ok.jpg", &jpeg(1024))]).await;
    upload(&app, &admin.key, &[file("ok.mp4", &mp4(3000))]).await;
    let (status, body) =
        status_json(post_form(&app, Some(&admin.key), &[file("long.mp4", &mp4(5000))]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["file"][0].as_str().unwrap().contains("4 KiB"),
        "{body}"
    );
    let (_, list) = status_json(
        app.with_key(Method::GET, FILES, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(stored_files(&app).await, 2);
}

#[tokio::test]
async fn uploads_and_deletions_need_the_manage_catalog_permission() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let member = app.member("media_member").await;
    let image = png(200);

    let resp = post_form(&app, None, &[file("a.png", &image)]).await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = status_json(app.with_key(Method::GET, FILES, None, None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) =
        status_json(post_form(&app, Some(&member.key), &[file("a.png", &image)]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "permission_denied");

    let created = upload(&app, &admin.key, &[file("a.png", &image)]).await;
    let path = format!("{FILES}{}/", created["id"]);
    let (status, body) = status_json(
        app.with_key(Method::DELETE, &path, Some(&member.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    app.grant(&admin, &member, &[MANAGE_CATALOG]).await;
    upload(&app, &member.key, &[file("b.png", &image)]).await;
    let (status, body) = status_json(
        app.with_key(Method::DELETE, &path, Some(&member.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn downloads_answer_conditional_and_range_requests() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let image = jpeg(1000);
    let created = upload(&app, &admin.key, &[file("pic.jpg", &image)]).await;
    let path = media_path(&app, &created);
    let etag = format!("\"{}\"", sha256_hex(&image));

    let resp = fetch(&app, &path, &[("If-None-Match", &etag)]).await;
    assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&resp, "etag"), etag);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = fetch(&app, &path, &[("If-None-Match", "\"other\"")]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    for (range, first, last) in [
        ("bytes=0-9", 0, 9),
        ("bytes=-100", 900, 999),
        ("bytes=990-", 990, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let resp = fetch(&app, &path, &[("Range", range)]).await;
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&resp, "content-range"),
            format!("bytes {first}-{last}/1000")
        );
        assert_eq!(header(&resp, "etag"), etag);
        assert_eq!(
            resp.bytes().await.unwrap().as_ref(),
            &image[first..=last],
            "{range}"
        );
    }
    let resp = fetch(&app, &path, &[("Range", "bytes=1000-")]).await;
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&resp, "content-range"), "bytes */1000");
    // Several ranges: the whole file.
    let resp = fetch(&app, &path, &[("Range", "bytes=0-1,5-6")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().len(), 1000);
    // A range for another version of the file: the whole (current) file.
    let resp = fetch(
        &app,
        &path,
        &[("Range", "bytes=0-9"), ("If-Range", "\"old\"")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let id = created["id"].as_i64().unwrap();
    for wrong in [
        format!("/media/files/{id}/other.jpg"),
        format!("/media/files/{}/pic.jpg", id + 100),
        "/media/files/abc/pic.jpg".to_owned(),
    ] {
        let (status, body) = status_json(fetch(&app, &wrong, &[]).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{wrong}: {body}");
        assert_eq!(body["code"], "not_found");
    }
}

#[tokio::test]
async fn a_large_video_is_streamed_in_and_read_back_in_ranges() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let size = 8 * 1024 * 1024 + 123;
    let clip = mp4(size);
    let created = upload(
        &app,
        &admin.key,
        &[file("lecture.mp4", &clip), title("Lecture")],
    )
    .await;
    let path = media_path(&app, &created);
    let whole = fetch(&app, &path, &[]).await;
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(header(&whole, "content-length"), size.to_string());
    assert_eq!(header(&whole, "etag"), format!("\"{}\"", sha256_hex(&clip)));
    assert!(whole.bytes().await.unwrap().as_ref() == clip.as_slice());
    // Ranges across GridFS chunk boundaries (255 KiB) and from deep inside the file.
    for (first, last) in [
        (0, 65_535),
        (261_000, 262_000),
        (261_120, 600_000),
        (5_000_000, 6_048_575),
        (size - 10, size - 1),
    ] {
        let resp = fetch(&app, &path, &[("Range", &format!("bytes={first}-{last}"))]).await;
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            header(&resp, "content-range"),
            format!("bytes {first}-{last}/{size}")
        );
        assert!(resp.bytes().await.unwrap().as_ref() == &clip[first..=last]);
    }
}

#[tokio::test]
async fn a_file_the_catalog_shows_cannot_be_deleted_until_released() {
    let app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    let created = upload(&app, &admin.key, &[file("face.png", &png(500))]).await;
    let id = created["id"].as_i64().unwrap();
    let teacher = app
        .store
        .repo::<Teacher>()
        .insert(Teacher {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            avatar: Some(id),
            promo_files: vec![id],
            ..Teacher::default()
        })
        .await
        .unwrap();
    let path = format!("{FILES}{id}/");
    let (status, body) = status_json(
        app.with_key(Method::DELETE, &path, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("teacher {} (avatar)", teacher.id))
            && detail.contains(&format!("teacher {} (promo_files)", teacher.id)),
        "{detail}"
    );
    let resp = fetch(&app, &media_path(&app, &created), &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    app.store
        .repo::<Teacher>()
        .update(teacher.id, |t| {
            t.avatar = None;
            t.promo_files.clear();
            Ok::<_, testit::store::StoreError>(())
        })
        .await
        .unwrap();
    let (status, body) = status_json(
        app.with_key(Method::DELETE, &path, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = status_json(
        app.with_key(Method::GET, &path, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = status_json(fetch(&app, &media_path(&app, &created), &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&app).await, 0);
    let (status, _) = status_json(
        app.with_key(Method::DELETE, &path, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tiny_files_and_half_written_uploads_left_by_a_stopped_server() {
    let mut app = spawn_app().await;
    let admin = app.superuser("media_admin").await;
    // Shorter than what the sniffer looks at: the form's end comes while sniffing.
    let tiny = b"GIF89a\x01\0\x01\0";
    let kept = upload(&app, &admin.key, &[file("a.gif", tiny)]).await;
    let path = media_path(&app, &kept);
    let resp = fetch(&app, &path, &[]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), tiny);
    if crate::helpers::mongodb_uri().is_some() {
        // GridFS keeps no half-written files on this machine's disk.
        return;
    }
    let stray = app
        .settings
        .data_dir
        .join("media")
        .join("0123456789abcdef0123456789abcdef.part");
    std::fs::write(&stray, b"half").unwrap();
    app.restart().await;
    assert!(!stray.exists(), "a half-written upload is removed at start");
    assert_eq!(stored_files(&app).await, 1);
    let resp = fetch(&app, &path, &[]).await;
    assert_eq!(resp.bytes().await.unwrap().as_ref(), tiny);
}

#[tokio::test]
async fn gridfs_chunks_of_no_file_are_swept_once_older_than_the_longest_upload() {
    use mongodb::bson::{doc, oid::ObjectId, spec::BinarySubtype, Binary, Document};
    if crate::helpers::mongodb_uri().is_none() {
        // The embedded store's `.part` files: see the test above.
        return;
    }
    // The longest upload these settings allow: 1 s of grace + 1,000 bytes at 1 byte/s, about
    // 17 minutes: far below the hour-old leftover, far above the time a loaded machine takes
    // to restart (the young chunks were swept when this was 2 s).
    let mut app = spawn_app_with(|s| {
        s.media.image_bytes = 1000;
        s.media.video_bytes = 1000;
        s.bodies.upload_idle_timeout = std::time::Duration::from_secs(1);
        s.bodies.upload_min_rate = 1;
    })
    .await;
    let admin = app.superuser("media_admin").await;
    let kept = upload(&app, &admin.key, &[file("a.png", &png(500))]).await;
    let path = media_path(&app, &kept);
    let backend = testit::store::mongo::MongoBackend::connect(&app.settings.database_url)
        .await
        .unwrap();
    let chunks = backend.database().collection::<Document>("media.chunks");
    let an_hour_ago = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600) as u32;
    let mut old_id = [7u8; 12];
    old_id[..4].copy_from_slice(&an_hour_ago.to_be_bytes());
    let data = Binary {
        subtype: BinarySubtype::Generic,
        bytes: vec![1, 2, 3],
    };
    // What a server killed mid-upload leaves: chunks whose file document never came.
    chunks
        .insert_one(doc! {"_id": ObjectId::from_bytes(old_id), "files_id": "killed", "n": 0, "data": data.clone()})
        .await
        .unwrap();
    // An upload in flight right now (its chunks are young): kept.
    chunks
        .insert_one(doc! {"_id": ObjectId::new(), "files_id": "in-flight", "n": 0, "data": data})
        .await
        .unwrap();
    app.restart().await;
    let owners = || async {
        let mut owners: Vec<String> = chunks
            .distinct("files_id", doc! {})
            .await
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap_or_default().to_owned())
            .collect();
        owners.sort();
        owners
    };
    let mut swept = false;
    for _ in 0..50 {
        if !owners().await.contains(&"killed".to_owned()) {
            swept = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(swept, "the killed upload's chunks are swept at start");
    assert!(owners().await.contains(&"in-flight".to_owned()));
    // The stored file is whole.
    let resp = fetch(&app, &path, &[]).await;
    assert_eq!(resp.bytes().await.unwrap().len(), 500);
}
