//! `bench live [STUDENTS] [IDLE] [THINK_MS]`: STUDENTS (default 1,000) WebSocket clients
//! connected at once start a 10-question test together while one teacher watches, first
//! with no code questions, then with two; then IDLE (default 10,000) idle connections.
//!
//! Each student thinks before each answer, a time drawn uniformly between half and one and
//! a half of THINK_MS (default 1,000: a class answering a question a second, far faster than
//! people read). Every test is also run with no think time at all: that row measures the
//! server saturated, where, by Little's law, latency is just students ÷ throughput. The server is the `testit`
//! binary beside this one, in its own process, so its RSS is its own. Users, the group and
//! the tests are written to its store before it starts, and tokens are signed with the
//! secret it is given: no thousand argon2 log-ins.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use testit::accounts::jwt::{random_id, JwtKeys};
use testit::store::{Question, QuestionKind, Test};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{make_test, percentile, rss_kib, seed_class, start_server, Place, SECRET};

/// Tokens signed as the servers check them: the class's owner's and each student's.
pub fn tokens(class: &crate::common::Class) -> (String, Vec<(i64, String)>) {
    let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
    let teacher = keys.access_token(class.owner.id, 0, &random_id());
    let students = class
        .students
        .iter()
        .map(|&id| (id, keys.access_token(id, 0, &random_id())))
        .collect();
    (teacher, students)
}

const QUESTIONS: usize = 10;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Counts every WebSocket message either way.
static MESSAGES: AtomicU64 = AtomicU64::new(0);

fn answer_body(question: &Question) -> Value {
    match question.kind {
        QuestionKind::Code => json!({"code": "def add(a, b):\n    return a + b\n"}),
        _ => json!({"picked_variant": {"id": question.variants[0].id}}),
    }
}

async fn connect(port: u16, token: &str) -> Socket {
    let mut request = format!("ws://127.0.0.1:{port}/ws")
        .into_client_request()
        .expect("url");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    // Browsers send WebSocket frames without Nagle delays; so does this client.
    tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .expect("connected")
        .0
}

async fn send(socket: &mut Socket, value: Value) {
    MESSAGES.fetch_add(1, Ordering::Relaxed);
    socket
        .send(Message::text(value.to_string()))
        .await
        .expect("sent");
}

/// The next message of `kind`, skipping events.
async fn expect(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = socket.next().await.expect("open").expect("frame");
        if let Message::Text(text) = frame {
            MESSAGES.fetch_add(1, Ordering::Relaxed);
            let value: Value = serde_json::from_str(&text).expect("json");
            if value["type"] == kind {
                return value;
            }
            assert_ne!(value["type"], "error", "{value}");
        }
    }
}

/// Where a round's clients connect: students spread over `students` (round robin), the
/// teacher on `teacher` (with several servers, another one than most students').
pub struct Ports<'a> {
    pub students: &'a [u16],
    pub teacher: u16,
}

/// One round: every student starts, saves every answer (thinking `think` on average
/// before each), submits; the teacher watches. The row's first cell is `label`.
pub async fn round(
    ports: &Ports<'_>,
    tokens: &[(i64, String)],
    teacher: &str,
    (test, label): (&Test, &str),
    think: Duration,
    server: u32,
) {
    let mut watcher = connect(ports.teacher, teacher).await;
    send(&mut watcher, json!({"type": "watch", "test": test.id})).await;
    expect(&mut watcher, "watching").await;
    while expect(&mut watcher, "snapshot_page").await["last"] != true {}

    let submitted_at: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let expected = tokens.len();
    let watched = {
        let submitted_at = Arc::clone(&submitted_at);
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(expected);
            while latencies.len() < expected {
                let event = expect(&mut watcher, "completion_graded").await;
                let user = event["completion"]["user"]["id"].as_i64().unwrap_or(0);
                if let Some(sent) = submitted_at.lock().unwrap().get(&user) {
                    latencies.push(sent.elapsed());
                }
            }
            latencies
        })
    };

    let everyone = Arc::new(Barrier::new(tokens.len()));
    // From the moment everyone is connected.
    let started: Arc<OnceLock<Instant>> = Arc::default();
    let students: Vec<_> = tokens
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, (id, token))| {
            let port = ports.students[n % ports.students.len()];
            let (everyone, submitted_at, test, started) = (Arc::clone(&everyone), Arc::clone(&submitted_at), test.clone(), Arc::clone(&started));
            let mut rng = StdRng::seed_from_u64(id as u64);
            tokio::spawn(async move {
                let mut socket = connect(port, &token).await;
                everyone.wait().await; // all connected at once
                started.get_or_init(Instant::now);
                send(&mut socket, json!({"type": "start", "test": test.public_uuid})).await;
                expect(&mut socket, "attempt").await;
                let mut saves = Vec::with_capacity(QUESTIONS);
                for question in &test.questions {
                    if !think.is_zero() {
                        tokio::time::sleep(think.mul_f64(rng.gen_range(0.5..1.5))).await;
                    }
                    let sent = Instant::now();
                    send(&mut socket, json!({"type": "save", "question": question.id, "body": answer_body(question)})).await;
                    expect(&mut socket, "saved").await;
                    saves.push(sent.elapsed());
                }
                submitted_at.lock().unwrap().insert(id, Instant::now());
                send(&mut socket, json!({"type": "submit"})).await;
                expect(&mut socket, "submitted").await;
                saves
            })
        })
        .collect();
    let mut saves = Vec::new();
    for student in students {
        saves.extend(student.await.expect("student finished"));
    }
    let mut graded = watched.await.expect("teacher finished");
    let elapsed = started.get().map_or(Duration::ZERO, Instant::elapsed);
    saves.sort();
    graded.sort();
    let think = if think.is_zero() {
        "none (saturated)".to_owned()
    } else {
        format!("{} ms", think.as_millis())
    };
    println!(
        "| {label} | {} | {think} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} |",
        tokens.len(),
        percentile(&saves, 0.5),
        percentile(&saves, 0.99),
        percentile(&graded, 0.5),
        percentile(&graded, 0.99),
        MESSAGES.swap(0, Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        rss_kib(server, "VmHWM:") / 1024.0,
    );
}

pub async fn run(students: usize, idle: usize, think: Duration, store: Option<&str>) {
    let place = Place::new("live", store);
    let store = place.open().await;
    let class = seed_class(&store, students).await;
    let plain = make_test(&store, &class, QUESTIONS, 0).await;
    let with_code = make_test(&store, &class, QUESTIONS, 2).await;
    drop(store);

    let (server, port) = start_server(&place).await;
    let pid = server.pid();
    let (teacher, tokens) = tokens(&class);
    eprintln!(
        "server up (pid {pid}, RSS {:.0} MiB, store {}); {students} students",
        rss_kib(pid, "VmRSS:") / 1024.0,
        place.label(),
    );

    println!("| test | students | think time | save→ack p50 ms | p99 ms | submit→teacher p50 ms | p99 ms | messages/s | server peak RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let ports = Ports {
        students: &[port],
        teacher: port,
    };
    for test in [&plain, &with_code] {
        for think in [think, Duration::ZERO] {
            round(&ports, &tokens, &teacher, (test, &test.name), think, pid).await;
        }
    }

    let before = rss_kib(pid, "VmRSS:");
    let mut sockets = Vec::with_capacity(idle);
    for i in 0..idle {
        sockets.push(connect(port, &tokens[i % tokens.len()].1).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid, "VmRSS:");
    println!(
        "\n{idle} idle connections: server RSS {:.0} → {:.0} MiB, {:.1} KiB per connection",
        before / 1024.0,
        after / 1024.0,
        (after - before) / idle as f64
    );
    drop(sockets);
    drop(server);
    place.clean_up().await;
}
