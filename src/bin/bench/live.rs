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
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use testit::auth::jwt::JwtKeys;
use testit::store::{Group, Organization, Question, QuestionKind, Store, Test, User, Variant};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "bench secret, never used elsewhere";
const QUESTIONS: usize = 10;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Counts every WebSocket message either way.
static MESSAGES: AtomicU64 = AtomicU64::new(0);

fn user(email: String, organization_id: Option<i64>, is_teacher: bool) -> User {
    User {
        id: 0,
        email_lower: email.clone(),
        email,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$unused$unused".to_owned(),
        first_name: "Bench".to_owned(),
        last_name: "User".to_owned(),
        photo: None,
        is_teacher,
        teacher_requested: false,
        organization_id,
        token_generation: 0,
        date_joined: 0,
    }
}

/// A test of `QUESTIONS` radio questions, `code` of them code questions instead.
async fn make_test(store: &Store, org: i64, creator: i64, group: i64, code: usize) -> Test {
    let question_ids = store
        .reserve_ids("questions", QUESTIONS)
        .await
        .expect("ids");
    let variant_ids = store
        .reserve_ids("variants", QUESTIONS * 2)
        .await
        .expect("ids");
    let questions = (0..QUESTIONS)
        .map(|i| {
            let is_code = i >= QUESTIONS - code;
            Question {
                id: question_ids[i],
                text: format!("Question {i}"),
                kind: if is_code {
                    QuestionKind::Code
                } else {
                    QuestionKind::Radio
                },
                number_in_test: i as i64 + 1,
                points: 1,
                variants: if is_code {
                    vec![]
                } else {
                    vec![
                        Variant {
                            id: variant_ids[2 * i],
                            text: "right".into(),
                            is_correct: true,
                        },
                        Variant {
                            id: variant_ids[2 * i + 1],
                            text: "wrong".into(),
                            is_correct: false,
                        },
                    ]
                },
                testing_code: is_code.then(|| "assert add(1, 2) == 3\n".to_owned()),
                strict_score: true,
            }
        })
        .collect();
    let test = Test {
        id: 0,
        organization_id: org,
        creator_id: creator,
        name: if code == 0 {
            format!("{QUESTIONS} radio questions")
        } else {
            format!("{} radio + {code} code questions", QUESTIONS - code)
        },
        public_uuid: testit::api::tests::new_public_uuid(),
        questions,
        available_for: vec![group],
        time_limit_seconds: None,
        max_attempts: None,
        created_at: 0,
    };
    store.tests().insert(test).await.expect("test stored")
}

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

fn rss_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(data_dir: &std::path::Path) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let binary = std::env::current_exe()
        .expect("bench path")
        .with_file_name("testit");
    assert!(
        binary.exists(),
        "build the server first: cargo build --release"
    );
    let runtime_dir = std::env::var_os("TESTIT_RUNTIME_DIR")
        .map_or_else(|| PathBuf::from("data/runtimes"), PathBuf::from);
    let child = Command::new(binary)
        .env("TESTIT_BIND", format!("127.0.0.1:{port}"))
        .env("TESTIT_DATA_DIR", data_dir)
        .env("TESTIT_JWT_SECRET", SECRET)
        .env("TESTIT_RUNTIME_DIR", runtime_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    (Server(child), port)
}

async fn wait_until_up(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// One round: every student starts, saves every answer (thinking `think` on average
/// before each), submits; the teacher watches.
async fn round(
    port: u16,
    tokens: &[(i64, String)],
    teacher: &str,
    test: &Test,
    think: Duration,
    server: u32,
) {
    let mut watcher = connect(port, teacher).await;
    send(&mut watcher, json!({"type": "watch", "test": test.id})).await;
    expect(&mut watcher, "snapshot").await;

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
        .map(|(id, token)| {
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
        "| {} | {} | {think} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} |",
        test.name,
        tokens.len(),
        percentile(&saves, 0.5),
        percentile(&saves, 0.99),
        percentile(&graded, 0.5),
        percentile(&graded, 0.99),
        MESSAGES.swap(0, Ordering::Relaxed) as f64 / elapsed.as_secs_f64(),
        rss_kib(server, "VmHWM:") / 1024.0,
    );
}

pub async fn run(students: usize, idle: usize, think: Duration) {
    let data_dir = std::env::temp_dir().join(format!("testit-bench-live-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let store = Store::open(
        data_dir
            .join("testit.sqlite3")
            .to_str()
            .expect("utf-8 path"),
    )
    .await
    .expect("store");
    let owner = store
        .users()
        .insert(user("owner@bench.org".into(), None, true))
        .await
        .expect("owner");
    let org = store
        .organizations()
        .insert(Organization {
            id: 0,
            name: "Bench".into(),
            description: String::new(),
            owner_id: owner.id,
        })
        .await
        .expect("org");
    store
        .users()
        .update(owner.id, |u| {
            u.organization_id = Some(org.id);
            Ok::<_, testit::store::StoreError>(())
        })
        .await
        .expect("owner joins");
    let mut members = Vec::with_capacity(students);
    for i in 0..students {
        let student = store
            .users()
            .insert(user(format!("s{i}@bench.org"), Some(org.id), false))
            .await
            .expect("student");
        members.push(student.id);
    }
    let group = Group {
        id: 0,
        organization_id: org.id,
        name: "All".into(),
        description: String::new(),
        members: members.clone(),
    };
    let group = store.groups().insert(group).await.expect("group");
    let plain = make_test(&store, org.id, owner.id, group.id, 0).await;
    let with_code = make_test(&store, org.id, owner.id, group.id, 2).await;
    drop(store);

    let (server, port) = start_server(&data_dir);
    wait_until_up(port).await;
    let pid = server.0.id();
    let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
    let teacher = keys.access_token(owner.id, 0);
    let tokens: Vec<(i64, String)> = members
        .iter()
        .map(|&id| (id, keys.access_token(id, 0)))
        .collect();
    eprintln!(
        "server up (pid {pid}, RSS {:.0} MiB); {students} students",
        rss_kib(pid, "VmRSS:") / 1024.0
    );

    println!("| test | students | think time | save→ack p50 ms | p99 ms | submit→teacher p50 ms | p99 ms | messages/s | server peak RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for test in [&plain, &with_code] {
        for think in [think, Duration::ZERO] {
            round(port, &tokens, &teacher, test, think, pid).await;
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
    let _ = std::fs::remove_dir_all(&data_dir);
}
