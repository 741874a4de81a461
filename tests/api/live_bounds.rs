//! What a WebSocket client may cost: clients that stop reading. Real clients on a real
//! server, as in `live.rs`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{question_id, spawn_app_with, Account, TestApp};
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
