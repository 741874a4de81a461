//! `bench rest [SECONDS] [CONNECTIONS]`: the hot REST routes under load, each next to the
//! framework's ceiling on this machine.
//!
//! The server is the `testit` binary beside this one, in its own process, over a store
//! seeded before it starts (a class of CONNECTIONS students, default 32, and a test of 4 radio
//! questions). For each route, CONNECTIONS keep-alive connections (one student each) send
//! requests back to back for SECONDS (default 5) from this process's own minimal HTTP/1.1
//! client; then a minimal actix-web handler answering a body of the same size to the same
//! request stands for what the framework itself can do here, and each route's throughput is
//! given as a fraction of it. Submissions are also broken down by how many completions of the
//! test the student had made before, which must not matter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use serde_json::json;
use testit::accounts::jwt::{random_id, JwtKeys};
use testit::domain::Password;
use testit::store::{StoreError, Test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{make_test, percentile, rss_kib, seed_class, start_server, Place, SECRET};

/// A request to send, built for connection `conn`'s `n`-th request.
pub(crate) type MakeRequest = Arc<dyn Fn(usize, usize) -> Vec<u8> + Send + Sync>;

/// What one route's run measured.
pub(crate) struct Outcome {
    /// Per request: the connection's request number (0, 1, …) and the latency.
    pub samples: Vec<(usize, Duration)>,
    pub elapsed: Duration,
    /// Responses of a status other than the expected one, or I/O failures.
    pub failures: usize,
    /// Body size of the first response.
    pub body_len: usize,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.samples.len() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn sorted(&self) -> Vec<Duration> {
        let mut latencies: Vec<Duration> = self.samples.iter().map(|s| s.1).collect();
        latencies.sort();
        latencies
    }
}

pub(crate) fn request(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body);
    head.into_bytes()
}

/// Sends one request on a keep-alive connection and reads the whole response; answers its
/// status and body length. Needs `Content-Length` (all of the server's JSON answers have it).
async fn call(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    req: &[u8],
) -> std::io::Result<(u16, usize)> {
    stream.write_all(req).await?;
    buf.clear();
    let eof = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed");
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        buf.reserve(16 * 1024);
        if stream.read_buf(buf).await? == 0 {
            return Err(eof());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("no content-length"))?;
    while buf.len() < head_end + length {
        buf.reserve(head_end + length - buf.len());
        if stream.read_buf(buf).await? == 0 {
            return Err(eof());
        }
    }
    Ok((status, length))
}

impl From<Duration> for Stop {
    fn from(duration: Duration) -> Stop {
        Stop::After(duration)
    }
}

/// When a load run stops: after a time, or after a number of requests in all.
#[derive(Clone)]
pub(crate) enum Stop {
    After(Duration),
    Requests(Arc<AtomicUsize>),
}

impl Stop {
    pub fn requests(n: usize) -> Stop {
        Stop::Requests(Arc::new(AtomicUsize::new(n)))
    }

    /// Whether a client may send another request (taking it from the budget).
    fn another(&self, started: Instant) -> bool {
        match self {
            Stop::After(duration) => started.elapsed() < *duration,
            Stop::Requests(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// Runs `connections` clients against `port` until `stop`.
pub(crate) async fn load(
    port: u16,
    connections: usize,
    stop: impl Into<Stop>,
    expect: u16,
    make: MakeRequest,
) -> Outcome {
    let (started, stop) = (Instant::now(), stop.into());
    let clients: Vec<_> = (0..connections)
        .map(|conn| {
            let (make, stop) = (Arc::clone(&make), stop.clone());
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connected");
                stream.set_nodelay(true).expect("nodelay");
                let (mut buf, mut samples, mut failures, mut body_len) =
                    (Vec::new(), Vec::new(), 0, 0);
                let mut n = 0;
                while stop.another(started) {
                    let req = make(conn, n);
                    let sent = Instant::now();
                    match call(&mut stream, &mut buf, &req).await {
                        Ok((status, len)) if status == expect => {
                            samples.push((n, sent.elapsed()));
                            body_len = len;
                        }
                        Ok((status, _)) => {
                            failures += 1;
                            if failures == 1 {
                                eprintln!("unexpected {status}: {}", String::from_utf8_lossy(&buf));
                            }
                        }
                        Err(err) => {
                            failures += 1;
                            eprintln!("request failed: {err}");
                            break;
                        }
                    }
                    n += 1;
                }
                (samples, failures, body_len)
            })
        })
        .collect();
    let mut outcome = Outcome {
        samples: Vec::new(),
        elapsed: Duration::ZERO,
        failures: 0,
        body_len: 0,
    };
    for client in clients {
        let (samples, failures, body_len) = client.await.expect("client");
        outcome.samples.extend(samples);
        outcome.failures += failures;
        outcome.body_len = outcome.body_len.max(body_len);
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// The framework's ceiling: a minimal actix-web app, in this process on a thread of its own
/// with the server's worker count, answering `/{n}` with `n` bytes to any method and body.
fn start_ceiling() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("ceiling port");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let filler = Bytes::from(vec![b'x'; 1 << 20]);
            actix_web::HttpServer::new(move || {
                let filler = filler.clone();
                actix_web::App::new().default_service(actix_web::web::to(
                    move |req: actix_web::HttpRequest, _body: Bytes| {
                        let n: usize = req.path()[1..].parse().unwrap_or(0);
                        let body = filler.slice(..n.min(filler.len()));
                        async move {
                            actix_web::HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    },
                ))
            })
            .listen(listener)
            .expect("ceiling listens")
            .run()
            .await
            .expect("ceiling runs");
        });
    });
    port
}

pub(crate) fn submission(test: &Test) -> String {
    let answers: Vec<_> = test
        .questions
        .iter()
        .map(|q| json!({"question": q.id, "body": {"picked_variant": {"id": q.variants[0].id}}}))
        .collect();
    json!({"test": test.public_uuid, "answers": answers}).to_string()
}

pub async fn run(seconds: u64, connections: usize, store: Option<&str>) {
    let place = Place::new("rest", store);
    let store = place.open().await;
    let class = seed_class(&store, connections).await;
    let test = make_test(&store, &class, 4, 0).await;
    // Every student can log in with PASSWORD (hashed once).
    let password = Password::parse(crate::common::PASSWORD, None).expect("password");
    let hash = testit::accounts::password::hash(password)
        .await
        .expect("hashing");
    for &id in &class.students {
        store
            .users()
            .update(id, |u| {
                u.password_hash = hash.clone();
                Ok::<_, StoreError>(())
            })
            .await
            .expect("password set");
    }
    drop(store);

    let (server, port) = start_server(&place).await;
    let fresh = rss_kib(server.pid(), "VmRSS:");
    let ceiling = start_ceiling();
    let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
    let tokens: Arc<Vec<String>> = Arc::new(
        class
            .students
            .iter()
            .map(|&id| keys.access_token(id, 0, &random_id()))
            .collect(),
    );
    let duration = Duration::from_secs(seconds);
    eprintln!(
        "server up (pid {}, store {}); {connections} connections, {seconds} s per route",
        server.pid(),
        place.label()
    );

    let view = format!("/api/tests/p/{}/", test.public_uuid);
    let body = Arc::new(submission(&test));
    let login: MakeRequest = {
        let logins: Arc<Vec<String>> = Arc::new(
            (0..connections)
                .map(|i| {
                    json!({"email": format!("s{i}@bench.org"), "password": crate::common::PASSWORD})
                        .to_string()
                })
                .collect(),
        );
        Arc::new(move |conn, _| {
            request(
                "POST",
                "/api/users/token/obtain/",
                None,
                Some(&logins[conn]),
            )
        })
    };
    let routes: Vec<(&str, &str, u16, MakeRequest)> = vec![
        ("GET /api/users/me", "GET", 200, {
            let tokens = Arc::clone(&tokens);
            Arc::new(move |conn, _| request("GET", "/api/users/me", Some(&tokens[conn]), None))
        }),
        ("GET /api/tests/p/{uuid}/", "GET", 200, {
            let tokens = Arc::clone(&tokens);
            Arc::new(move |conn, _| request("GET", &view, Some(&tokens[conn]), None))
        }),
        ("POST /api/completions/ (4 answers)", "POST", 201, {
            let (tokens, body) = (Arc::clone(&tokens), Arc::clone(&body));
            Arc::new(move |conn, _| {
                request(
                    "POST",
                    "/api/completions/",
                    Some(&tokens[conn]),
                    Some(&body),
                )
            })
        }),
        (
            "POST /api/users/token/obtain/ (argon2)",
            "POST",
            200,
            login.clone(),
        ),
    ];

    println!(
        "| route ({}) | connections | requests | req/s | p50 ms | p99 ms | ceiling req/s | of ceiling |",
        place.label()
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut submissions = None;
    for (name, method, expect, make) in routes {
        // A short warm-up (connections, caches), then the measured run.
        load(
            port,
            connections,
            Duration::from_millis(300),
            expect,
            make.clone(),
        )
        .await;
        let outcome = load(port, connections, duration, expect, make.clone()).await;
        let sample = make(0, 0);
        let split = sample
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(sample.len(), |at| at + 4);
        let req_body = String::from_utf8_lossy(&sample[split..]).into_owned();
        let path = format!("/{}", outcome.body_len);
        let same: MakeRequest = Arc::new(move |_, _| {
            let body = (!req_body.is_empty()).then_some(req_body.as_str());
            request(method, &path, None, body)
        });
        load(
            ceiling,
            connections,
            Duration::from_millis(300),
            200,
            same.clone(),
        )
        .await;
        let top = load(ceiling, connections, duration, 200, same).await;
        let sorted = outcome.sorted();
        println!(
            "| {name} | {connections} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.1}% |",
            outcome.samples.len(),
            outcome.per_second(),
            percentile(&sorted, 0.5),
            percentile(&sorted, 0.99),
            top.per_second(),
            100.0 * outcome.per_second() / top.per_second(),
        );
        if outcome.failures > 0 {
            println!("  ({} requests failed)", outcome.failures);
        }
        if expect == 201 {
            submissions = Some(outcome);
        }
    }

    // Memory after many argon2 log-ins (each hashes with a 19 MiB working buffer): what
    // the server holds once they are over, against what it held before.
    let before = rss_kib(server.pid(), "VmRSS:");
    let logins = 1000;
    let outcome = load(port, connections, Stop::requests(logins), 200, login).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "\nServer RSS when started: {:.0} MiB; before {logins} more log-ins: {:.0} MiB; \
         after them: {:.0} MiB ({} succeeded)",
        fresh / 1024.0,
        before / 1024.0,
        rss_kib(server.pid(), "VmRSS:") / 1024.0,
        outcome.samples.len()
    );

    if let Some(outcome) = submissions {
        // The warm-up made some completions before the measured run: offsets are close enough.
        println!("\nSubmission latency by the student's earlier completions of the test:\n");
        println!("| earlier completions | submissions | p50 ms | p99 ms |");
        println!("| --- | --- | --- | --- |");
        let most = outcome.samples.iter().map(|s| s.0).max().unwrap_or(0);
        let step = (most / 4).max(1);
        for from in (0..=most).step_by(step) {
            let mut bucket: Vec<Duration> = outcome
                .samples
                .iter()
                .filter(|s| s.0 >= from && s.0 < from + step)
                .map(|s| s.1)
                .collect();
            if bucket.is_empty() {
                continue;
            }
            bucket.sort();
            println!(
                "| {from}–{} | {} | {:.2} | {:.2} |",
                from + step - 1,
                bucket.len(),
                percentile(&bucket, 0.5),
                percentile(&bucket, 0.99)
            );
        }
    }
    if let Some((db, wal)) = place.file_sizes() {
        println!("\nEmbedded store after the run: database {db:.1} MiB, WAL {wal:.1} MiB");
    }
    println!(
        "Server peak RSS: {:.0} MiB",
        rss_kib(server.pid(), "VmHWM:") / 1024.0
    );
    drop(server);
    place.clean_up().await;
}
