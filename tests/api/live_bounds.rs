//! What a WebSocket client may cost: clients that stop reading, and tests too large for
//! one message. Real clients on a real server, as in `live.rs`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use testit::store::{Completion, Response, Store};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{mongodb_uri, question_id, sample_test, spawn_app_with, Account, TestApp};
use crate::live::Live;

/// The most the kernel lets a socket's send buffer grow to (Linux's `tcp_wmem` maximum):
/// what it may hold for a client that stopped reading, before the server notices.
fn kernel_send_buffer() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * 1024 * 1024)
}

/// The client's receive buffer in these tests.
const RECEIVE_BUFFER: u32 = 64 * 1024;

/// A teacher, a student and a test available to them whose student view takes about
/// `view_bytes` (long question texts), on a server whose WebSocket limits are `limits`.
struct Heavy {
    app: TestApp,
    students: Vec<Account>,
    test: Value,
}

async fn heavy_test(
    view_bytes: usize,
    limits: impl FnOnce(&mut testit::settings::LiveLimits),
) -> Heavy {
    let app = spawn_app_with(|s| limits(&mut s.live)).await;
    let owner = app.owner("owner@school.org").await;
    let org = owner.org.unwrap();
    let students = vec![
        app.student("ann@school.org", org).await,
        app.student("bob@school.org", org).await,
    ];
    let group = app
        .group(&owner, "Class", &[students[0].id, students[1].id])
        .await;
    let text = "Which of these is right? ".repeat(360); // 9,000 characters
    let questions: Vec<Value> = (0..view_bytes.div_ceil(text.len()))
        .map(|i| {
            json!({"text": text, "type": "text", "number_in_test": i + 1, "points": 1,
                   "body": {"variants": [{"text": "yes", "is_correct": true}]}})
        })
        .collect();
    let body = json!({"name": "Heavy", "questions": questions, "available_for": [group]});
    let test = app.create_test(&owner, &body).await;
    Heavy {
        app,
        students,
        test,
    }
}

/// Sends `requests` starts (each answered with the whole test) on a connection that then
/// reads nothing for `silence`. Then reads what comes until the connection ends, which it
/// must within 10 s: answers how many `attempt` replies it got.
async fn ask_without_reading(h: &Heavy, requests: usize, silence: Duration) -> usize {
    let mut greedy =
        Live::connect_with_receive_buffer(&h.app, &h.students[0], RECEIVE_BUFFER).await;
    let start = json!({"type": "start", "test": h.test["public_uuid"]});
    for _ in 0..requests {
        greedy.send(start.clone()).await;
    }
    tokio::time::sleep(silence).await;
    let mut attempts = 0;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(frame)) = greedy.socket.next().await {
            if let Message::Text(text) = frame {
                let reply: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(reply["type"], "attempt", "{reply}");
                attempts += 1;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the connection is still open after {attempts} replies"
    );
    attempts
}

/// Meanwhile, another student saves an answer every 50 ms; answers how long the slowest
/// acknowledgement took.
async fn save_meanwhile(h: &Heavy, during: Duration) -> Duration {
    let mut bob = Live::connect(&h.app, &h.students[1]).await;
    bob.ask(
        json!({"type": "start", "test": h.test["public_uuid"]}),
        "attempt",
    )
    .await;
    let save = json!({"type": "save", "question": question_id(&h.test, 1),
                      "body": {"picked_variant": {"text": "yes"}}});
    let (begun, mut slowest) = (Instant::now(), Duration::ZERO);
    while begun.elapsed() < during {
        let sent = Instant::now();
        assert_eq!(bob.ask(save.clone(), "saved").await["answered"], 1);
        slowest = slowest.max(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    slowest
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_within_the_drain_deadline_and_others_are_unaffected(
) {
    // Far more than the kernel buffers on both sides, far less than the bound on bytes
    // owed: only the drain deadline can end this connection in time.
    let flood = kernel_send_buffer() + 2 * RECEIVE_BUFFER as usize + 4 * 1024 * 1024;
    let drain = Duration::from_secs(1);
    let h = heavy_test(256 * 1024, |live| {
        live.drain_timeout = drain;
        live.outstanding_bytes = 4 * flood;
    })
    .await;
    let requests = flood / (256 * 1024) + 1;

    let began = Instant::now();
    let (replies, slowest) = tokio::join!(
        ask_without_reading(&h, requests, drain + Duration::from_secs(2)),
        save_meanwhile(&h, drain + Duration::from_secs(3)),
    );
    // Had it been kept, the client would have got every reply once it read.
    assert!(
        replies < requests,
        "{replies} of {requests} replies: not disconnected"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "another client waited {slowest:?}"
    );
    eprintln!(
        "{requests} requests of {} KiB: cut after {replies} replies; {:?} in all; slowest save of another client {slowest:?}",
        256,
        began.elapsed()
    );
    // And the server still serves the student who was cut off, on a new connection.
    let mut again = Live::connect(&h.app, &h.students[0]).await;
    let attempt = again
        .ask(
            json!({"type": "start", "test": h.test["public_uuid"]}),
            "attempt",
        )
        .await;
    assert_eq!(attempt["attempt"]["resumed"], true);
}

#[tokio::test]
async fn a_client_owed_more_than_the_bound_is_disconnected_without_waiting_for_the_drain_deadline()
{
    let bound = 512 * 1024;
    let h = heavy_test(64 * 1024, |live| {
        live.outstanding_bytes = bound;
        live.drain_timeout = Duration::from_secs(60);
    })
    .await;
    let flood = kernel_send_buffer() + 2 * RECEIVE_BUFFER as usize + 4 * bound;
    let requests = flood / (64 * 1024) + 1;
    let (replies, slowest) = tokio::join!(
        ask_without_reading(&h, requests, Duration::from_secs(3)),
        save_meanwhile(&h, Duration::from_secs(4)),
    );
    assert!(
        replies < requests,
        "{replies} of {requests} replies: not disconnected"
    );
    assert!(
        slowest < Duration::from_secs(2),
        "another client waited {slowest:?}"
    );
}

#[tokio::test]
async fn a_teacher_watches_a_test_of_20000_completions_in_pages_of_bounded_size() {
    let app = spawn_app_with(|_| {}).await;
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Class", &[ann.id]).await;
    // The sample test without its code question: four questions, as in the report.
    let mut body = sample_test();
    body["questions"].as_array_mut().unwrap().pop();
    body["available_for"] = json!([group]);
    let test = app.create_test(&owner, &body).await;

    // Seeded through the store itself: 20,000 submissions through the API would take
    // minutes.
    let seeded = Instant::now();
    let store = Store::open(&app.settings.database_url).await.unwrap();
    let stored = store
        .tests()
        .get(test["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    let user = store.users().get(ann.id).await.unwrap().unwrap();
    let paris = HashMap::from([(question_id(&test, 1), Response::Text("Paris".into()))]);
    let completion = |n: usize| Completion {
        id: 0,
        test_id: stored.id,
        test_uuid: stored.public_uuid.clone(),
        test_name: stored.name.clone(),
        organization_id: stored.organization_id,
        creator_id: stored.creator_id,
        user_id: user.id,
        groups: vec!["Class".into()],
        submitted_at: 1_700_000_000 + n as i64,
        started_at: None,
        answers: testit::testing::completions::grade_all(&stored, paris.clone()),
        score: 2.0,
        max_score: 8.0,
        pending: false,
        attempt_key: Some(format!("{}:{}:{n}", stored.id, user.id)),
    };
    // 14 MB of snapshot, where 8 MiB used to close the connection. On MongoDB 2,000 (19
    // pages): the server CI runs it on, SecantusDB, is Python, inserts 250 documents a
    // second and sorts in Python; 20,000 took it five minutes. Pages do not depend on the
    // store.
    let total = if mongodb_uri().is_some() {
        2_000
    } else {
        20_000
    };
    let completions = store.completions();
    for batch in (0..total).collect::<Vec<_>>().chunks(1000) {
        let inserts = batch.iter().map(|&n| completions.insert(completion(n)));
        for inserted in futures_util::future::join_all(inserts).await {
            inserted.unwrap();
        }
    }
    let seeded = seeded.elapsed();

    let mut teacher = Live::connect(&app, &owner).await;
    let watched = Instant::now();
    let snapshot = teacher.watch(&test).await;
    let watched = watched.elapsed();
    assert_eq!(snapshot.watching["completions"], total);
    assert_eq!(snapshot.completions.len(), total);
    assert!(
        snapshot.largest_page <= 64 * 1024,
        "a page of {} bytes",
        snapshot.largest_page
    );
    let ids: Vec<i64> = snapshot
        .completions
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "each once, in order");
    assert_eq!(snapshot.completions[0]["score"], 2);
    eprintln!(
        "{total} completions seeded in {seeded:?}; snapshot of {} pages (largest {} bytes) in {watched:?}",
        snapshot.pages, snapshot.largest_page
    );

    // Live events follow the snapshot.
    let answers =
        json!([{"question": question_id(&test, 2), "body": {"picked_variant": {"text": "4"}}}]);
    let submitted = app
        .submit(&ann, test["public_uuid"].as_str().unwrap(), answers)
        .await;
    assert_eq!(submitted.status(), StatusCode::CREATED);
    let graded = teacher.expect("completion_graded").await;
    assert_eq!(graded["completion"]["score"], 1);
}
