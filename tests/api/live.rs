//! Live test-taking over WebSocket, with real clients.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{
    question_id, sample_test, spawn_app, spawn_app_with, status_json, variant_id, Account, TestApp,
};

/// A WebSocket client speaking the JSON protocol.
pub(crate) struct Live {
    pub(crate) socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// The upgrade request of `who`.
fn upgrade(
    app: &TestApp,
    who: &Account,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    upgrade_at(&app.address, who)
}

/// The upgrade request of `who` to the server at `address` (`http://…`).
fn upgrade_at(
    address: &str,
    who: &Account,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = address.replacen("http", "ws", 1) + "/ws";
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {}", who.access).parse().unwrap(),
    );
    request
}

impl Live {
    pub(crate) async fn connect(app: &TestApp, who: &Account) -> Live {
        Live::connect_to(&app.address, who).await
    }

    /// Connects to the server at `address` (`http://…`), e.g. one running as a process.
    pub(crate) async fn connect_to(address: &str, who: &Account) -> Live {
        let (socket, _) = tokio_tungstenite::connect_async(upgrade_at(address, who))
            .await
            .expect("upgraded");
        Live { socket }
    }

    /// Connects with a socket receive buffer of `bytes` (Linux doubles it). Left alone, the
    /// kernel grows it to tens of MiB on loopback, and a client that stops reading would
    /// take that much before the server noticed anything.
    pub(crate) async fn connect_with_receive_buffer(
        app: &TestApp,
        who: &Account,
        bytes: u32,
    ) -> Live {
        let address = app.address.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        let stream = socket.connect(address).await.unwrap();
        let stream = MaybeTlsStream::Plain(stream);
        let (socket, _) = tokio_tungstenite::client_async(upgrade(app, who), stream)
            .await
            .expect("upgraded");
        Live { socket }
    }

    pub(crate) async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next JSON message (pings are answered by the client library).
    pub(crate) async fn next(&mut self) -> Value {
        serde_json::from_str(&self.next_text().await).unwrap()
    }

    /// The next text message as it came.
    async fn next_text(&mut self) -> String {
        // One deadline for the message, not one per frame: the server's pings alone would
        // keep a wait for a message that never comes alive forever.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("a message within 20 s")
                .expect("the connection is open")
                .unwrap();
            if let Message::Text(text) = frame {
                return text.to_string();
            }
        }
    }

    /// The next message of `kind`, skipping others (events interleave with replies).
    pub(crate) async fn expect(&mut self, kind: &str) -> Value {
        loop {
            let message = self.next().await;
            if message["type"] == kind {
                return message;
            }
            assert_ne!(message["type"], "error", "expected {kind}, got {message}");
        }
    }

    pub(crate) async fn ask(&mut self, message: Value, kind: &str) -> Value {
        self.send(message).await;
        self.expect(kind).await
    }

    /// Watches a test: the snapshot's attempts in progress and completions, gathered from
    /// `watching` and the pages up to the last (which nothing else may come between).
    pub(crate) async fn watch(&mut self, test: &Value) -> Snapshot {
        let watching = self
            .ask(json!({"type": "watch", "test": test["id"]}), "watching")
            .await;
        let mut snapshot = Snapshot {
            watching,
            pages: 0,
            largest_page: 0,
            attempts: Vec::new(),
            completions: Vec::new(),
        };
        loop {
            let text = self.next_text().await;
            let page: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(page["type"], "snapshot_page", "{page}");
            snapshot.pages += 1;
            snapshot.largest_page = snapshot.largest_page.max(text.len());
            assert_eq!(page["page"], snapshot.pages, "pages come in order");
            let items = |key: &str| page[key].as_array().unwrap().clone();
            snapshot.attempts.extend(items("attempts"));
            snapshot.completions.extend(items("completions"));
            if page["last"] == true {
                return snapshot;
            }
        }
    }

    /// The types of the messages that come until one of type `last`, that one included.
    pub(crate) async fn types_until(&mut self, last: &str) -> Vec<String> {
        let mut types = Vec::new();
        loop {
            let message = self.next().await;
            let kind = message["type"].as_str().unwrap().to_owned();
            assert_ne!(kind, "error", "{message}");
            types.push(kind);
            if types.last().unwrap() == last {
                return types;
            }
        }
    }
}

/// What a `watch` was answered with before live events.
pub(crate) struct Snapshot {
    pub(crate) watching: Value,
    pub(crate) pages: u64,
    /// Bytes of the largest `snapshot_page`.
    pub(crate) largest_page: usize,
    pub(crate) attempts: Vec<Value>,
    pub(crate) completions: Vec<Value>,
}

struct Class {
    app: TestApp,
    owner: Account,
    students: Vec<Account>,
    test: Value,
}

async fn class(limits: Value) -> Class {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let org = owner.org.unwrap();
    let students = vec![
        app.student("ann@school.org", org).await,
        app.student("bob@school.org", org).await,
    ];
    let group = app
        .group(&owner, "Live", &[students[0].id, students[1].id])
        .await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    if let Value::Object(extra) = limits {
        body.as_object_mut().unwrap().extend(extra);
    }
    let test = app.create_test(&owner, &body).await;
    Class {
        app,
        owner,
        students,
        test,
    }
}

impl Class {
    fn uuid(&self) -> &str {
        self.test["public_uuid"].as_str().unwrap()
    }

    fn start(&self) -> Value {
        json!({"type": "start", "test": self.uuid()})
    }

    fn save_text(&self, text: &str) -> Value {
        json!({"type": "save", "question": question_id(&self.test, 1), "body": {"picked_variant": {"text": text}}})
    }

    fn save_radio(&self, text: &str) -> Value {
        json!({"type": "save", "question": question_id(&self.test, 2),
               "body": {"picked_variant": {"id": variant_id(&self.test, 2, text)}}})
    }
}

#[tokio::test]
async fn two_students_take_a_test_live_while_the_teacher_watches() {
    let c = class(json!({})).await;
    let mut teacher = Live::connect(&c.app, &c.owner).await;
    let snapshot = teacher.watch(&c.test).await;
    assert_eq!(
        (snapshot.attempts.len(), snapshot.completions.len()),
        (0, 0)
    );

    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    let mut bob = Live::connect(&c.app, &c.students[1]).await;
    let attempt = ann.ask(c.start(), "attempt").await;
    assert_eq!(attempt["attempt"]["resumed"], false);
    assert!(
        !attempt["test"].to_string().contains("is_correct"),
        "student view only"
    );
    bob.ask(c.start(), "attempt").await;
    let started = teacher.expect("attempt_started").await;
    assert_eq!(started["user"]["email"], "ann@school.org");
    teacher.expect("attempt_started").await;

    let saved = ann.ask(c.save_text("Paris"), "saved").await;
    assert_eq!(saved["answered"], 1);
    ann.ask(c.save_radio("4"), "saved").await;
    // Progress comes batched, with each attempt's latest count, never the answers.
    loop {
        let progress = teacher.expect("progress").await;
        assert!(!progress.to_string().contains("Paris"), "{progress}");
        let attempts = progress["attempts"].as_array().unwrap();
        let ann = attempts.iter().find(|a| a["user"] == c.students[0].id);
        if ann.is_some_and(|a| a["answered"] == 2) {
            break;
        }
    }
    bob.ask(c.save_text("London"), "saved").await;

    let submitted = ann.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["score"], 3);
    let graded = teacher.expect("completion_graded").await;
    assert_eq!(
        (
            graded["completion"]["user"]["email"].clone(),
            graded["completion"]["score"].clone()
        ),
        (json!("ann@school.org"), json!(3))
    );
    let submitted = bob.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["score"], 0);
}

#[tokio::test]
async fn code_answers_are_announced_one_by_one_as_they_are_graded() {
    let app = spawn_app_with(|s| s.grading_wait = Duration::ZERO).await;
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Coders", &[ann.id]).await;
    let code = |text: &str, testing_code: &str| json!({"text": text, "type": "code", "points": 2, "body": {"testing_code": testing_code}});
    let questions = [
        code("Write add", "assert add(1, 2) == 3\n"),
        code("Write sub", "assert sub(5, 2) == 3\n"),
    ];
    let test = app
        .create_test(
            &owner,
            &json!({"name": "Code", "questions": questions, "available_for": [group]}),
        )
        .await;
    let mut teacher = Live::connect(&app, &owner).await;
    teacher.watch(&test).await;

    let mut student = Live::connect(&app, &ann).await;
    student
        .ask(
            json!({"type": "start", "test": test["public_uuid"]}),
            "attempt",
        )
        .await;
    let (add, sub) = (question_id(&test, 1), question_id(&test, 2));
    let right = "def add(a, b):\n    return a + b\n";
    let wrong = "def sub(a, b):\n    return a + b\n";
    for (question, code) in [(add, right), (sub, wrong)] {
        let save = json!({"type": "save", "question": question, "body": {"code": code}});
        student.ask(save, "saved").await;
    }
    let submitted = student.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["status"], "grading");

    // The student hears progress (never correctness), then the completion with its score.
    let (mut questions, mut pending) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let event = student.expect("answer_graded").await;
        assert_eq!(event.get("is_correct"), None, "{event}");
        questions.push(event["question"].as_i64().unwrap());
        pending.push(event["answers_pending"].as_i64().unwrap());
    }
    questions.sort();
    assert_eq!((questions, pending), (vec![add, sub], vec![1, 0]));
    let graded = student.expect("completion_graded").await;
    assert_eq!(
        (
            graded["completion"]["status"].clone(),
            graded["completion"]["score"].clone()
        ),
        (json!("graded"), json!(2))
    );

    // The teacher hears each verdict with its points, then the completion.
    let mut verdicts = Vec::new();
    for _ in 0..2 {
        let event = teacher.expect("answer_graded").await;
        assert_eq!(event["user"], ann.id);
        verdicts.push((
            event["question"].as_i64().unwrap(),
            event["is_correct"].clone(),
            event["points"].clone(),
        ));
    }
    verdicts.sort_by_key(|v| v.0);
    assert_eq!(
        verdicts,
        [(add, json!(true), json!(2)), (sub, json!(false), json!(0))]
    );
    let graded = teacher.expect("completion_graded").await;
    assert_eq!(graded["completion"]["score"], 2);
}

/// Where `kind` first shows in `types` (which must hold it).
fn position(types: &[String], kind: &str) -> usize {
    types
        .iter()
        .position(|t| t == kind)
        .unwrap_or_else(|| panic!("no {kind} in {types:?}"))
}

#[tokio::test]
async fn a_submissions_events_come_in_the_protocols_order_for_the_student_their_other_devices_and_the_teacher(
) {
    // The default wait: a live submit used to wait for the grading like a REST one, so its
    // grading events went out before `submitted`.
    let c = class(json!({})).await;
    let mut teacher = Live::connect(&c.app, &c.owner).await;
    teacher.watch(&c.test).await;
    let mut laptop = Live::connect(&c.app, &c.students[0]).await;
    let mut phone = Live::connect(&c.app, &c.students[0]).await;
    laptop.ask(c.start(), "attempt").await;
    laptop.ask(c.save_text("Paris"), "saved").await;
    let code = "def add(a, b):\n    return a + b\n";
    let save_code =
        json!({"type": "save", "question": question_id(&c.test, 5), "body": {"code": code}});
    laptop.ask(save_code, "saved").await;
    laptop.send(json!({"type": "submit"})).await;

    // The student's session that submitted: the reply, then the grading of its code answer.
    let student = laptop.types_until("completion_graded").await;
    let submitted = position(&student, "submitted");
    assert!(
        submitted < position(&student, "answer_graded"),
        "{student:?}"
    );
    // Their other session, and the teacher: the attempt's end, then its grading.
    for watcher in [&mut phone, &mut teacher] {
        let types = watcher.types_until("completion_graded").await;
        let ended = position(&types, "attempt_submitted");
        assert!(ended < position(&types, "answer_graded"), "{types:?}");
    }
    let (_, completion) = status_json(
        c.app
            .get("/api/users/me/completions/", Some(&c.students[0].access))
            .await,
    )
    .await;
    assert_eq!(completion[0]["score"], 7, "Paris (2) and add (5)");
}

#[tokio::test]
async fn a_submission_graded_at_once_is_announced_after_the_attempts_end_for_everyone() {
    let c = class(json!({})).await;
    let mut teacher = Live::connect(&c.app, &c.owner).await;
    teacher.watch(&c.test).await;
    let mut laptop = Live::connect(&c.app, &c.students[0]).await;
    let mut phone = Live::connect(&c.app, &c.students[0]).await;
    laptop.ask(c.start(), "attempt").await;
    laptop.ask(c.save_radio("4"), "saved").await;
    laptop.send(json!({"type": "submit"})).await;

    let student = laptop.types_until("completion_graded").await;
    assert!(position(&student, "submitted") < position(&student, "completion_graded"));
    for watcher in [&mut phone, &mut teacher] {
        let types = watcher.types_until("completion_graded").await;
        let ended = position(&types, "attempt_submitted");
        assert!(ended < position(&types, "completion_graded"), "{types:?}");
    }
}

#[tokio::test]
async fn a_student_who_reconnects_resumes_with_every_saved_answer() {
    let c = class(json!({})).await;
    let mut phone = Live::connect(&c.app, &c.students[0]).await;
    let first = phone.ask(c.start(), "attempt").await;
    phone.ask(c.save_text("Lyon"), "saved").await;
    phone.ask(c.save_text("Paris"), "saved").await; // last write wins
    phone.ask(c.save_radio("4"), "saved").await;
    drop(phone);

    let mut laptop = Live::connect(&c.app, &c.students[0]).await;
    let resumed = laptop.ask(c.start(), "attempt").await;
    assert_eq!(resumed["attempt"]["id"], first["attempt"]["id"]);
    assert_eq!(resumed["attempt"]["resumed"], true);
    let answers = &resumed["attempt"]["answers"];
    assert_eq!(
        answers[question_id(&c.test, 1).to_string()],
        json!({"picked_variant": {"text": "Paris"}})
    );
    assert_eq!(answers.as_object().unwrap().len(), 2);
    let submitted = laptop.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["score"], 3);
}

#[tokio::test]
async fn an_attempt_survives_its_actor_and_the_server_restarting() {
    let mut c = class(json!({})).await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    let attempt = ann.ask(c.start(), "attempt").await;
    ann.ask(c.save_text("Paris"), "saved").await;
    let id = attempt["attempt"]["id"].as_i64().unwrap();

    // The actor goes away mid-attempt; the next message restarts it from the store.
    c.app
        .attempts
        .send(actors::attempt::Evict(id))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let saved = ann.ask(c.save_radio("4"), "saved").await;
    assert_eq!(saved["answered"], 2);

    drop(ann);
    c.app.restart().await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    let resumed = ann.ask(c.start(), "attempt").await;
    assert_eq!(resumed["attempt"]["answers"].as_object().unwrap().len(), 2);
    assert_eq!(
        ann.ask(json!({"type": "submit"}), "submitted").await["completion"]["score"],
        3
    );
}

#[tokio::test]
async fn the_deadline_submits_what_was_saved_and_refuses_late_saves() {
    let c = class(json!({"time_limit_seconds": 2})).await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    let attempt = ann.ask(c.start(), "attempt").await;
    assert!(attempt["attempt"]["seconds_left"].as_i64().unwrap() <= 2);
    ann.ask(c.save_text("Paris"), "saved").await;
    let timed_out = ann.expect("attempt_timed_out").await;
    assert_eq!(timed_out["completion"]["score"], 2);
    ann.send(c.save_radio("4")).await;
    let late = ann.expect("error").await;
    assert!(
        late["detail"].as_str().unwrap().contains("submitted")
            || late["detail"].as_str().unwrap().contains("attempt first"),
        "{late}"
    );
    let (_, mine) = status_json(
        c.app
            .get("/api/users/me/completions/", Some(&c.students[0].access))
            .await,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn max_attempts_holds_for_live_attempts() {
    let c = class(json!({"max_attempts": 1})).await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    ann.ask(c.start(), "attempt").await;
    ann.ask(json!({"type": "submit"}), "submitted").await;
    let refused = ann.ask(c.start(), "error").await;
    assert_eq!(
        refused["detail"],
        "You have used all 1 attempts at this test."
    );
}

#[tokio::test]
async fn students_cannot_watch_and_strangers_cannot_start() {
    let c = class(json!({})).await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    let refused = ann
        .ask(json!({"type": "watch", "test": c.test["id"]}), "error")
        .await;
    assert_eq!(refused["detail"], "You cannot watch this test.");

    let stranger = c.app.owner("owner@elsewhere.org").await;
    let mut them = Live::connect(&c.app, &stranger).await;
    let refused = them.ask(c.start(), "error").await;
    assert_eq!(refused["detail"], "No test has this public_uuid.");
    let outsider = c.app.student("carl@school.org", c.owner.org.unwrap()).await;
    let mut carl = Live::connect(&c.app, &outsider).await;
    assert_eq!(
        carl.ask(c.start(), "error").await["detail"],
        "This test is not available to you."
    );
}

#[tokio::test]
async fn rest_submissions_reach_the_watching_teacher() {
    let c = class(json!({})).await;
    let mut teacher = Live::connect(&c.app, &c.owner).await;
    teacher.watch(&c.test).await;
    let answers = json!([{"question": question_id(&c.test, 1), "body": {"picked_variant": {"text": "Paris"}}}]);
    assert_eq!(
        c.app
            .submit(&c.students[1], c.uuid(), answers)
            .await
            .status(),
        StatusCode::CREATED
    );
    let graded = teacher.expect("completion_graded").await;
    assert_eq!(
        (
            graded["completion"]["user"]["email"].clone(),
            graded["completion"]["score"].clone()
        ),
        (json!("bob@school.org"), json!(2))
    );
}

#[tokio::test]
async fn malformed_and_oversized_messages_get_errors_and_the_connection_stays_usable() {
    let c = class(json!({})).await;
    let mut ann = Live::connect(&c.app, &c.students[0]).await;
    ann.socket.send(Message::text("{not json")).await.unwrap();
    assert!(ann.expect("error").await["detail"]
        .as_str()
        .unwrap()
        .starts_with("Malformed message"));
    ann.send(json!({"type": "dance"})).await;
    assert!(ann.expect("error").await["detail"]
        .as_str()
        .unwrap()
        .contains("unknown variant"));
    ann.send(json!({"type": "start", "test": "x".repeat(70_000)}))
        .await;
    assert!(ann.expect("error").await["detail"]
        .as_str()
        .unwrap()
        .starts_with("Message too large"));
    ann.send(json!({"type": "save", "question": 1, "body": {}}))
        .await;
    assert_eq!(
        ann.expect("error").await["detail"],
        "Start or resume an attempt first."
    );
    ann.ask(c.start(), "attempt").await;
    ann.send(json!({"type": "save", "question": question_id(&c.test, 2), "body": {"picked_variant": {"id": 123456}}})).await;
    assert!(ann.expect("error").await["detail"]
        .as_str()
        .unwrap()
        .contains("is not a variant"));
    assert_eq!(ann.ask(c.save_text("Paris"), "saved").await["answered"], 1);
}

#[tokio::test]
async fn a_bad_token_is_refused_before_the_upgrade() {
    let app = spawn_app().await;
    let url = app.address.replacen("http", "ws", 1) + "/ws?token=garbage";
    let refused = tokio_tungstenite::connect_async(url).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    let anonymous =
        tokio_tungstenite::connect_async(app.address.replacen("http", "ws", 1) + "/ws").await;
    assert!(anonymous.unwrap_err().to_string().contains("401"));
    // The query token works for browsers.
    let ann = app.user("ann@example.org", false, None).await;
    let url = format!(
        "{}/ws?token={}",
        app.address.replacen("http", "ws", 1),
        ann.access
    );
    assert!(tokio_tungstenite::connect_async(url).await.is_ok());
}

#[tokio::test]
async fn a_client_that_closes_gets_its_close_answered_and_the_connection_ends() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    let app = spawn_app().await;
    let ann = app.user("ann@example.org", false, None).await;
    let mut live = Live::connect(&app, &ann).await;
    let bye = CloseFrame {
        code: CloseCode::Away,
        reason: "bye".into(),
    };
    live.socket.close(Some(bye)).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), async {
        let mut answer = None;
        while let Some(Ok(frame)) = live.socket.next().await {
            if let Message::Close(frame) = frame {
                answer = frame;
            }
        }
        answer
    })
    .await
    .expect("the connection ended");
    assert_eq!(answer.map(|frame| frame.code), Some(CloseCode::Away));
}

/// Opens a WebSocket by hand (no client library would send a malformed frame): answers the
/// socket once the server has switched protocols.
async fn raw_upgrade(app: &TestApp, who: &Account) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        who.access
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(
            stream.read(&mut byte).await.unwrap(),
            1,
            "closed in the handshake"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

#[tokio::test]
async fn a_frame_that_breaks_the_websocket_protocol_closes_the_connection_at_once_with_1002() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let mask = [1u8, 2, 3, 4];
    let bad_frames: [(&str, Vec<u8>); 3] = [
        // FIN + RSV1 + text, masked, empty: no extension was negotiated.
        ("reserved bits", [&[0xC1, 0x80][..], &mask].concat()),
        // FIN + opcode 0x3, reserved for future data frames.
        ("a reserved opcode", [&[0x83, 0x80][..], &mask].concat()),
        // A client frame without a mask: `{}` in clear.
        ("an unmasked frame", vec![0x81, 0x02, b'{', b'}']),
    ];
    for (kind, frame) in bad_frames {
        let mut stream = raw_upgrade(&app, &owner).await;
        stream.write_all(&frame).await.unwrap();
        // Past the heartbeat's pings, the first frame back, within a second, is a close
        // frame whose code is 1002 (0x03EA): no error message, nothing else.
        let mut received = Vec::new();
        let first = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                let frames = server_frames(&received);
                if let Some(first) = frames.into_iter().find(|(opcode, _)| *opcode != 0x9) {
                    return first;
                }
                let mut chunk = [0u8; 256];
                let n = stream.read(&mut chunk).await.unwrap();
                assert!(n > 0, "{kind}: closed without a close frame: {received:?}");
                received.extend_from_slice(&chunk[..n]);
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{kind}: no close frame within 1 s: {received:?}"));
        assert_eq!(first.0, 0x8, "{kind}: not a close frame: {received:?}");
        assert_eq!(&first.1[..2], &[0x03, 0xEA], "{kind}: {received:?}");
        // And then the server lets go of the connection.
        let mut rest = Vec::new();
        let ended =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(ended.is_ok(), "{kind}: the connection stayed open");
    }
}

/// The whole frames at the start of a server's byte stream (unmasked, short payloads):
/// opcode and payload.
fn server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while bytes.len() >= 2 {
        let (opcode, len) = (bytes[0] & 0x0F, usize::from(bytes[1] & 0x7F));
        assert!(len < 126, "a long frame: {bytes:?}");
        if bytes.len() < 2 + len {
            break; // the rest of it is still on its way
        }
        frames.push((opcode, bytes[2..2 + len].to_vec()));
        bytes = &bytes[2 + len..];
    }
    frames
}

#[tokio::test]
async fn hidden_test_cases_stay_out_of_every_live_message_to_the_student() {
    let app = spawn_app_with(|s| s.grading_wait = Duration::ZERO).await;
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Coders", &[ann.id]).await;
    let cases = json!([
        {"stdin": "1 2\n", "expected_output": "3\n"},
        {"stdin": "8888888 1\n", "expected_output": "8888889\n", "hidden": true},
    ]);
    let question = json!({"text": "Sum", "type": "code", "points": 2, "body":
        {"language": "javascript", "test_cases": cases, "strict_score": false}});
    let test = app
        .create_test(
            &owner,
            &json!({"name": "Sums", "questions": [question], "available_for": [group]}),
        )
        .await;
    let mut teacher = Live::connect(&app, &owner).await;
    teacher.watch(&test).await;
    let mut student = Live::connect(&app, &ann).await;
    let mut heard = Vec::new();
    let start = json!({"type": "start", "test": test["public_uuid"]});
    let attempt = student.ask(start, "attempt").await;
    // The attempt shows the question with its cases, the hidden one without its content.
    assert!(
        attempt
            .to_string()
            .contains(r#"{"points":1,"hidden":true}"#),
        "{attempt}"
    );
    heard.push(attempt);
    // Right on the visible case, wrong on the hidden one.
    let code =
        "const [a, b] = readline().split(' ').map(Number);\nconsole.log(a < 100 ? a + b : 0);\n";
    let save = json!({"type": "save", "question": question_id(&test, 1), "body": {"code": code}});
    heard.push(student.ask(save, "saved").await);
    heard.push(student.ask(json!({"type": "submit"}), "submitted").await);
    heard.push(student.expect("answer_graded").await);
    let graded = student.expect("completion_graded").await;
    assert_eq!(graded["completion"]["score"], 1, "{graded}");
    heard.push(graded);
    for message in &heard {
        let text = message.to_string();
        assert!(
            !text.contains("8888888") && !text.contains("8888889"),
            "{text}"
        );
    }
    // The teacher hears the hidden case's first differing line.
    let verdict = teacher.expect("answer_graded").await;
    assert_eq!(
        verdict["checks"][1]["detail"], "case 2: line 1: expected \"8888889\", got \"0\"",
        "{verdict}"
    );
}
