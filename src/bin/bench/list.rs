//! `bench list [COMPLETIONS]`: the memory a whole list costs the server.
//!
//! A test of 4 radio questions gets COMPLETIONS (default 20,000) completions, written to the
//! store before the server starts. Its owner then asks for `GET /api/tests/{id}/completions/`
//! without `limit`: a plain array of every completion with its student, which the server
//! streams. Reported: the answer's size and time, and the server's RSS before and at its
//! peak (VmHWM), against the goal of staying within 50 MB of where it started.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use testit::accounts::jwt::{random_id, JwtKeys};
use testit::store::{Answer, Completion, Response, Store, Test};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{make_test, rss_kib, seed_class, start_server, Class, Place, SECRET};

/// Students the completions are spread over (each student has many attempts).
const STUDENTS: usize = 200;

fn completion(test: &Test, class: &Class, n: usize) -> Completion {
    let answers: Vec<Answer> = test
        .questions
        .iter()
        .map(|q| Answer {
            question: q.clone(),
            response: Response::Single(q.variants[n % 2].id),
            is_correct: Some(n % 2 == 0),
            points: if n % 2 == 0 { 1.0 } else { 0.0 },
            runtime_errors: None,
            checks: Vec::new(),
            answer_id: None,
        })
        .collect();
    let student = class.students[n % class.students.len()];
    Completion {
        id: 0,
        test_id: test.id,
        test_uuid: test.public_uuid.clone(),
        test_name: test.name.clone(),
        organization_id: test.organization_id,
        creator_id: test.creator_id,
        user_id: student,
        groups: vec!["All".into()],
        submitted_at: 1_700_000_000 + n as i64,
        started_at: None,
        score: answers.iter().map(|a| a.points).sum(),
        max_score: answers.len() as f64,
        pending: false,
        answers,
        attempt_key: Some(format!("{}:{student}:{n}", test.id)),
    }
}

async fn seed_completions(store: &Store, test: &Test, class: &Class, count: usize) {
    for chunk in (0..count).collect::<Vec<_>>().chunks(256) {
        let inserts = chunk
            .iter()
            .map(|&n| async move { store.completions().insert(completion(test, class, n)).await });
        for inserted in join_all(inserts).await {
            inserted.expect("completion stored");
        }
    }
}

/// Sends one GET and reads the response to its end (the server closes after it); answers the
/// status, the bytes read and how many completions the body holds.
async fn get_all(port: u16, path: &str, token: &str) -> (u16, usize, usize) {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("response read");
    let status = std::str::from_utf8(&response[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let needle = b"\"submitted_at\"";
    let items = response
        .windows(needle.len())
        .filter(|w| w == needle)
        .count();
    (status, response.len(), items)
}

pub async fn run(count: usize, store: Option<&str>) {
    let place = Place::new("list", store);
    let store = place.open().await;
    let class = seed_class(&store, STUDENTS).await;
    let test = make_test(&store, &class, 4, 0).await;
    let seeding = Instant::now();
    seed_completions(&store, &test, &class, count).await;
    eprintln!(
        "{count} completions stored in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    drop(store);

    let (server, port) = start_server(&place).await;
    let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
    let token = keys.access_token(class.owner.id, 0, &random_id());
    let path = format!("/api/tests/{}/completions/", test.id);
    // One small request first, so the baseline has the server's pools warmed.
    get_all(port, &format!("{path}?limit=1"), &token).await;
    let before = rss_kib(server.pid(), "VmRSS:");
    let started = Instant::now();
    let (status, bytes, items) = get_all(port, &path, &token).await;
    let elapsed = started.elapsed();
    let peak = rss_kib(server.pid(), "VmHWM:");
    let after = rss_kib(server.pid(), "VmRSS:");
    assert_eq!(status, 200, "the list answered {status}");
    assert_eq!(
        items, count,
        "the list holds {items} of {count} completions"
    );
    println!("store: {}", place.label());
    println!(
        "GET {path} (no limit): {items} completions, {:.1} MB in {:.2} s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    println!(
        "server RSS: {:.0} MiB before, peak {:.0} MiB (+{:.0} MiB), {:.0} MiB after",
        before / 1024.0,
        peak / 1024.0,
        (peak - before).max(0.0) / 1024.0,
        after / 1024.0
    );
    drop(server);
    place.clean_up().await;
}
