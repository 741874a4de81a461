//! Request bodies that stall, trickle or announce too much (issue 22 #1): each is answered
//! at once or by its deadline, its connection closed, and one address cannot hold many.
//! Raw sockets on loopback, few of them, each read under a bound.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app_with, TestApp};

/// Opens a connection and sends a request's head and the first `sent` bytes of its body.
pub(crate) async fn open_body(
    app: &TestApp,
    head: &str,
    length: Option<usize>,
    sent: &[u8],
) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let length = match length {
        Some(n) => format!("content-length: {n}\r\n"),
        None => String::new(),
    };
    let request = format!("{head}\r\nhost: {address}\r\n{length}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    stream
}

/// Reads the answer until the server closes the connection (at most `within`); its status
/// and JSON body.
pub(crate) async fn answer_then_close(stream: &mut TcpStream, within: Duration) -> (u16, Value) {
    let mut raw = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(read.is_ok(), "the connection is still open: {text:?}");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer before the close: {text:?}"));
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn quick(s: &mut testit::settings::Settings) {
    s.bodies.idle_timeout = Duration::from_secs(1);
    s.bodies.timeout = Duration::from_secs(2);
}

#[tokio::test]
async fn a_sign_up_body_that_stalls_is_answered_408_and_closed_once_it_has_paused_too_long() {
    let app = spawn_app_with(quick).await;
    let started = Instant::now();
    let mut stream = open_body(&app, "POST /api/users/ HTTP/1.1", Some(100), b"{\"em").await;
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["code"], "request_timeout");
    assert!(
        body["detail"].as_str().unwrap().contains("1 s"),
        "names the limit: {body}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_body_that_trickles_is_cut_off_at_the_total_timeout() {
    let app = spawn_app_with(quick).await;
    let started = Instant::now();
    let mut stream = open_body(&app, "POST /api/users/ HTTP/1.1", Some(1000), b"{").await;
    // A byte every 300 ms never pauses for a second, but the body is not in after two.
    let mut answered = None;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if stream.write_all(b" ").await.is_err() {
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_millis(1), stream.peek(&mut probe)).await
        {
            answered = Some(started.elapsed());
            break;
        }
    }
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
    let at = answered.unwrap_or_else(|| started.elapsed());
    assert!(at < Duration::from_secs(8), "cut off after {at:?}");
}

#[tokio::test]
async fn an_anonymous_body_announcing_more_than_16_kib_is_refused_before_any_of_it_is_read() {
    let app = spawn_app_with(quick).await;
    let mut stream = open_body(&app, "POST /api/users/ HTTP/1.1", Some(1 << 20), b"").await;
    // Answered at once, long before any deadline (the server lingers up to a second for
    // the client to close first).
    let started = Instant::now();
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(5)).await;
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["detail"].as_str().unwrap().contains("16384"), "{body}");
}

#[tokio::test]
async fn an_anonymous_body_without_a_length_is_refused_once_it_grows_past_16_kib() {
    let app = spawn_app_with(quick).await;
    let mut stream = open_body(
        &app,
        "POST /api/users/ HTTP/1.1\r\ntransfer-encoding: chunked",
        None,
        b"",
    )
    .await;
    for _ in 0..20 {
        let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test]
async fn a_signed_in_caller_may_still_send_bodies_up_to_1_mib() {
    let app = spawn_app_with(quick).await;
    let owner = app.owner("ann@example.org").await;
    let big = json!({"name": "Group A", "padding": "x".repeat(200 * 1024)});
    let resp = app.post("/api/groups/", Some(&owner.access), &big).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let huge = json!({"name": "Group B", "padding": "x".repeat(1100 * 1024)});
    let resp = app.post("/api/groups/", Some(&owner.access), &huge).await;
    assert_eq!(resp.status(), 413);
    // A made-up token does not buy the larger limit (nor the endpoint).
    let resp = app.post("/api/groups/", Some("not.a.token"), &big).await;
    assert!([401, 413].contains(&resp.status().as_u16()));
    let resp = app.post("/api/users/", None, &big).await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn one_address_may_have_only_so_many_bodies_arriving_at_once() {
    let app = spawn_app_with(|s| {
        quick(s);
        s.bodies.per_address = 3;
    })
    .await;
    let mut stalled = Vec::new();
    for _ in 0..3 {
        stalled.push(open_body(&app, "POST /api/users/ HTTP/1.1", Some(100), b"{").await);
    }
    // Let the server take the three in before the fourth comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = open_body(&app, "POST /api/users/ HTTP/1.1", Some(100), b"{").await;
    let (status, body) = answer_then_close(&mut fourth, Duration::from_secs(5)).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "throttled");
    assert!(
        body["detail"].as_str().unwrap().contains("at most 3"),
        "{body}"
    );
    // Once the stalled ones are cut off, the address sends again.
    for stream in &mut stalled {
        let (status, _) = answer_then_close(stream, Duration::from_secs(10)).await;
        assert_eq!(status, 408);
    }
    let resp = app.register(&json!({"email": "x"})).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn a_chunked_body_that_stalls_is_closed_too_not_drained_forever() {
    let app = spawn_app_with(quick).await;
    let mut stream = open_body(
        &app,
        "POST /api/users/ HTTP/1.1\r\ntransfer-encoding: chunked",
        None,
        b"5\r\n{\"ema\r\n",
    )
    .await;
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
}

/// Settings for uploads: a second's pause at most, and 10,000 bytes/s after it.
fn slow_uploads(s: &mut testit::settings::Settings) {
    s.bodies.upload_idle_timeout = Duration::from_secs(1);
    s.bodies.upload_min_rate = 10_000;
}

/// Opens an upload of a 200 KB PNG in the part `name` (`request`: method and path) and
/// sends its first `sent` bytes.
async fn open_upload(
    app: &TestApp,
    request: &str,
    authorization: &str,
    name: &str,
    sent: usize,
) -> (TcpStream, Vec<u8>) {
    use crate::media::{form, part, png, BOUNDARY};
    let image = png(200_000);
    let body = form(&[part(name, Some("big.png"), &image)]);
    let head = format!(
        "{request} HTTP/1.1\r\nauthorization: {authorization}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}"
    );
    let stream = open_body(app, &head, Some(body.len()), &body[..sent]).await;
    (stream, body)
}

#[tokio::test]
async fn an_upload_that_stalls_is_cut_off_with_408_and_leaves_no_bytes_behind() {
    let app = spawn_app_with(slow_uploads).await;
    let admin = app.superuser("media_admin").await;
    let started = Instant::now();
    let authorization = format!("Token {}", admin.key);
    let (mut stream, _) = open_upload(
        &app,
        "POST /api/v1/catalog/files/",
        &authorization,
        "file",
        4000,
    )
    .await;
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["code"], "request_timeout");
    assert!(
        body["detail"].as_str().unwrap().contains("10000 bytes/s"),
        "{body}"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    // The half-written file (a `.part` on disk, chunks in GridFS) is gone.
    assert_eq!(crate::media::stored_files(&app).await, 0);
}

#[tokio::test]
async fn an_upload_that_trickles_below_the_minimum_rate_is_cut_off_though_it_never_pauses() {
    let app = spawn_app_with(slow_uploads).await;
    let admin = app.superuser("media_admin").await;
    let authorization = format!("Token {}", admin.key);
    let (mut stream, body) = open_upload(
        &app,
        "POST /api/v1/catalog/files/",
        &authorization,
        "file",
        4000,
    )
    .await;
    // 500 bytes every 250 ms: 2,000 bytes/s, never a pause of a second.
    let started = Instant::now();
    for piece in body[4000..].chunks(500).take(40) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if stream.write_all(piece).await.is_err() {
            break;
        }
    }
    let (status, answer) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{answer}");
    assert!(started.elapsed() < Duration::from_secs(12));
    assert_eq!(crate::media::stored_files(&app).await, 0);
}

#[tokio::test]
async fn a_photo_upload_that_stalls_is_cut_off_the_same_way() {
    let app = spawn_app_with(slow_uploads).await;
    let owner = app.owner("ann@example.org").await;
    let authorization = format!("Bearer {}", owner.access);
    let (mut stream, _) =
        open_upload(&app, "PATCH /api/users/me", &authorization, "photo", 4000).await;
    let (status, body) = answer_then_close(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
    assert_eq!(crate::media::stored_files(&app).await, 0);
}

#[tokio::test]
async fn an_upload_at_a_steady_rate_above_the_minimum_is_kept() {
    let app = spawn_app_with(slow_uploads).await;
    let admin = app.superuser("media_admin").await;
    let authorization = format!("Token {}", admin.key);
    let (mut stream, body) = open_upload(
        &app,
        "POST /api/v1/catalog/files/",
        &authorization,
        "file",
        20_000,
    )
    .await;
    // 45,000 bytes every 250 ms: well above 10,000 bytes/s.
    for piece in body[20_000..].chunks(45_000) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        stream.write_all(piece).await.unwrap();
    }
    let mut head = vec![0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), stream.read_exact(&mut head))
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(&head[9..12], b"201", "{}", String::from_utf8_lossy(&head));
}
