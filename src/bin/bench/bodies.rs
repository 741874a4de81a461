//! `bench bodies [SOCKETS] [CASE]`: request bodies that stall (issue 22 #1), beside a real client.
//!
//! For each case a fresh server (the `testit` binary beside this one) over a seeded store; a
//! real client (one student, one keep-alive connection each for `GET /api/users/me` and
//! `POST /api/completions/`) sends requests back to back for the whole run; after a second,
//! SOCKETS connections from another loopback address (127.0.0.2, so the per-address cap
//! does not fall on the real client) each send `POST /api/users/` with a `Content-Length`,
//! part of the body, then nothing. Measured: the server's RSS before and at its peak, how
//! long the last stalled socket stayed open after it stalled, and the real client's latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use testit::accounts::jwt::{random_id, JwtKeys};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::common::{make_test, percentile, rss_kib, seed_class, start_server_with, Place, SECRET};
use crate::rest::{load, request, submission, MakeRequest};

struct Case {
    name: &'static str,
    /// The announced length and the bytes sent before stalling.
    length: usize,
    sent: usize,
    /// `TESTIT_BODIES_PER_ADDRESS`.
    cap: &'static str,
}

const CASES: [Case; 6] = [
    Case {
        name: "1 MiB announced, 1 MiB - 1 KiB sent (the probe's)",
        length: 1 << 20,
        sent: (1 << 20) - 1024,
        cap: "64",
    },
    Case {
        name: "16 KiB announced, 16,000 B sent",
        length: 16 * 1024,
        sent: 16_000,
        cap: "64",
    },
    Case {
        name: "1 MiB announced, 1 KiB sent",
        length: 1 << 20,
        sent: 1024,
        cap: "64",
    },
    Case {
        name: "100 B announced, 3 B sent",
        length: 100,
        sent: 3,
        cap: "64",
    },
    Case {
        name: "1 MiB announced, 1 MiB - 1 KiB sent, no cap",
        length: 1 << 20,
        sent: (1 << 20) - 1024,
        cap: "1000000",
    },
    Case {
        name: "16 KiB announced, 16,000 B sent, no cap",
        length: 16 * 1024,
        sent: 16_000,
        cap: "1000000",
    },
];

/// A request's head and the first `sent` bytes of its body (built once, shared by the
/// sockets: building a megabyte per socket would make this process the bottleneck).
fn stalled_request(length: usize, sent: usize) -> Arc<Vec<u8>> {
    let head = format!(
        "POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    let mut body = head.into_bytes();
    body.resize(body.len() + sent, b' ');
    Arc::new(body)
}

/// One stalled body: answers how long its socket stayed open after it stalled.
async fn stall(port: u16, body: Arc<Vec<u8>>) -> Option<Duration> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind("127.0.0.2:0".parse().unwrap()).ok()?;
    let mut stream = socket.connect(([127, 0, 0, 1], port).into()).await.ok()?;
    // The server may answer (and close) before all of it is written.
    let _ = stream.write_all(&body).await;
    let stalled = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| stalled.elapsed())
}

pub async fn run(sockets: usize, only: Option<usize>, store: Option<&str>) {
    println!("| case | sockets | RSS before MiB | peak RSS MiB | +MiB | last closed after s | still open | client p50 ms | client p99 ms | client req |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (i, case) in CASES.iter().enumerate() {
        if only.is_some_and(|only| only != i) {
            continue;
        }
        let place = Place::new("bodies", store);
        let db = place.open().await;
        let class = seed_class(&db, 1).await;
        let test = make_test(&db, &class, 4, 0).await;
        drop(db);
        let (server, port) =
            start_server_with(&place, &[("TESTIT_BODIES_PER_ADDRESS", case.cap)]).await;
        let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
        let token = Arc::new(keys.access_token(class.students[0], 0, &random_id()));
        let me: MakeRequest = {
            let token = token.clone();
            Arc::new(move |_, _| request("GET", "/api/users/me", Some(&token), None))
        };
        let submit: MakeRequest = {
            let body = Arc::new(submission(&test));
            Arc::new(move |_, _| request("POST", "/api/completions/", Some(&token), Some(&body)))
        };
        let run_for = Duration::from_secs(14);
        // On a thread of its own, so the stalling sockets' tasks never delay its timing.
        let client = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move {
                    futures_util::future::join(
                        load(port, 1, run_for, 200, me),
                        load(port, 1, run_for, 201, submit),
                    )
                    .await
                })
        });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let pid = server.pid();
        let before = rss_kib(pid, "VmRSS:");
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(before as u64));
        let sampler = {
            let peak = peak.clone();
            tokio::spawn(async move {
                loop {
                    let now = rss_kib(pid, "VmRSS:") as u64;
                    peak.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        let request = stalled_request(case.length, case.sent);
        let stalled: Vec<_> = (0..sockets)
            .map(|_| tokio::spawn(stall(port, request.clone())))
            .collect();
        let (mut closes, mut open) = (Vec::new(), 0);
        for socket in stalled {
            match socket.await.expect("socket task") {
                Some(after) => closes.push(after),
                None => open += 1,
            }
        }
        closes.sort();
        let last = closes.last().copied().unwrap_or_default();
        eprintln!(
            "{}: closed after p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
            case.name,
            percentile(&closes, 0.5),
            percentile(&closes, 0.9),
            last.as_secs_f64() * 1e3
        );
        let (me, submit) = tokio::task::spawn_blocking(move || client.join().expect("client"))
            .await
            .expect("client thread");
        sampler.abort();
        let peak = peak.load(std::sync::atomic::Ordering::Relaxed) as f64;
        let mut latencies = me.sorted();
        latencies.extend(submit.sorted());
        latencies.sort();
        println!(
            "| {} | {sockets} | {:.0} | {:.0} | {:.0} | {:.1} | {open} | {:.2} | {:.2} | {} |",
            case.name,
            before / 1024.0,
            peak / 1024.0,
            (peak - before) / 1024.0,
            last.as_secs_f64(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.len(),
        );
        if me.failures + submit.failures > 0 {
            eprintln!(
                "the real client saw {} failures",
                me.failures + submit.failures
            );
        }
        drop(server);
        place.clean_up().await;
    }
}
