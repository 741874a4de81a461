//! The real binary under SIGTERM: it tells live clients to go away (1001), stops accepting,
//! finishes the requests it has started, exits cleanly, and has lost nothing it acknowledged.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{fresh_database_name, mongodb_uri, with_database, PASSWORD};

/// The `testit` binary on a data dir (and, when the suite runs on MongoDB, a database).
struct Server {
    child: Child,
    base: String,
}

/// What the server logged (warnings and worse, panics), for a failure message.
fn server_errors(data_dir: &std::path::Path) -> String {
    std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default()
}

/// Starts the binary on port 0 and learns the port from its "listening on" line. (A port
/// picked here and handed over would be free only until released: the suite's other servers
/// bind port 0 meanwhile, and one of them taking it left this server unable to bind, and the
/// test talking to the other server.)
async fn start(data_dir: &std::path::Path, database: Option<&str>) -> Server {
    // Its warnings, errors, any panic and its start line, for failure messages.
    let mut log = std::fs::File::create(data_dir.join("server.log")).expect("a log file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_testit"));
    command
        .env("TESTIT_BIND", "127.0.0.1:0")
        .env("TESTIT_DATA_DIR", data_dir)
        .env("TESTIT_GRADER_WORKERS", "1")
        .env(
            "TESTIT_RUNTIME_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes"),
        )
        .env("RUST_LOG", "warn,testit=info")
        .stdout(Stdio::piped())
        .stderr(log.try_clone().expect("a log file"));
    if let Some(url) = database {
        command.env("TESTIT_DATABASE_URL", url);
    }
    // Owned at once, so that it is killed and reaped whatever happens next.
    let mut server = Server {
        child: command.spawn().expect("the server binary starts"),
        base: String::new(),
    };
    // The log is read to its end by a thread of its own, so the server never blocks on it.
    let stdout = server.child.stdout.take().expect("piped");
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(port) = listening_port(&line) {
                let _ = port_tx.send(port);
            }
            let _ = writeln!(log, "{line}");
        }
    });
    let port = tokio::task::spawn_blocking(move || port_rx.recv_timeout(Duration::from_secs(60)))
        .await
        .unwrap();
    let Ok(port) = port else {
        panic!(
            "the server did not say where it listens: {}",
            server_errors(data_dir)
        );
    };
    server.base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(resp) = client.get(format!("{}/health", server.base)).send().await {
            if resp.status() == StatusCode::OK {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up: {}", server_errors(data_dir));
}

/// The port of the server's "listening on http://host:port" log line.
fn listening_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("listening on http://")?;
    let address = rest.split_whitespace().next()?;
    address.rsplit_once(':')?.1.parse().ok()
}

async fn call(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.expect("request sent");
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

async fn token(client: &reqwest::Client, base: &str, email: &str) -> String {
    let body = json!({"email": email, "password": PASSWORD});
    let tokens = call(
        client,
        format!("{base}/api/users/token/obtain/"),
        None,
        body,
    )
    .await;
    tokens["access"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sigterm_mid_load_exits_cleanly_and_loses_no_acknowledged_submission() {
    let data = tempfile::tempdir().unwrap();
    let database = mongodb_uri().map(|uri| with_database(&uri, &fresh_database_name("shutdown")));
    let mut server = start(data.path(), database.as_deref()).await;
    let (client, base) = (reqwest::Client::new(), server.base.clone());

    // An owner, a student in a group, a test open to the group.
    let user = |email: &str, org: Option<i64>| {
        json!({"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B",
               "is_teacher": org.is_none(), "organization_id": org})
    };
    call(
        &client,
        format!("{base}/api/users/"),
        None,
        user("owner@down.test", None),
    )
    .await;
    let owner = token(&client, &base, "owner@down.test").await;
    let org = call(
        &client,
        format!("{base}/api/organizations/"),
        Some(&owner),
        json!({"name": "Down"}),
    )
    .await;
    let student_body = user("student@down.test", org["id"].as_i64());
    let student = call(&client, format!("{base}/api/users/"), None, student_body).await;
    let group = json!({"name": "Class", "members": [student["id"]]});
    let group = call(&client, format!("{base}/api/groups/"), Some(&owner), group).await;
    let test = json!({"name": "T", "available_for": [group["id"]], "questions": [
        {"text": "2 + 2?", "type": "radio", "body": {"variants": [
            {"text": "4", "is_correct": true}, {"text": "5", "is_correct": false}]}}]});
    let test = call(&client, format!("{base}/api/tests/"), Some(&owner), test).await;
    let student = token(&client, &base, "student@down.test").await;

    // Eight clients submit back to back; SIGTERM comes in the middle of it.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let unanswered = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let submission = json!({"test": test["public_uuid"], "answers": []});
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (reqwest::Client::new(), format!("{base}/api/completions/"));
            let (acknowledged, unanswered, stop) =
                (acknowledged.clone(), unanswered.clone(), stop.clone());
            let (token, submission) = (student.clone(), submission.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    match client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&submission)
                        .send()
                        .await
                    {
                        Ok(resp) if resp.status() == StatusCode::CREATED => {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(resp) => panic!("a submission answered {}", resp.status()),
                        // Refused or cut: the server had stopped taking requests.
                        Err(_) => {
                            unanswered.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            })
        })
        .collect();
    // A live client, which should hear that the server is going away.
    let ws_url = format!("{}/ws?token={student}", base.replacen("http", "ws", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("the WebSocket opens");
    let live = tokio::spawn(async move {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        while let Some(message) = socket.next().await {
            if let Ok(Message::Close(frame)) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.load(Ordering::Relaxed) < 50 {
        if let Some(exit) = server.child.try_wait().unwrap() {
            panic!(
                "the server stopped before SIGTERM ({exit}): {}",
                server_errors(data.path())
            );
        }
        assert!(
            Instant::now() < deadline,
            "50 submissions were not acknowledged within 60 s (the clients stop at an error status)"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    assert!(
        exit.success(),
        "the server exited with {exit}: {}",
        server_errors(data.path())
    );
    let close = tokio::time::timeout(Duration::from_secs(5), live)
        .await
        .expect("the live client heard the end")
        .unwrap();
    assert_eq!(close, Some(1001), "closed with 1001, going away");

    // A new server on the same store holds every acknowledged submission.
    let server = start(data.path(), database.as_deref()).await;
    let owner = token(&client, &server.base, "owner@down.test").await;
    let url = format!(
        "{}/api/tests/{}/completions/?limit=1",
        server.base, test["id"]
    );
    let page: Value = client
        .get(url)
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored = page["count"].as_u64().unwrap() as usize;
    let (acknowledged, unanswered) = (
        acknowledged.load(Ordering::Relaxed),
        unanswered.load(Ordering::Relaxed),
    );
    assert!(
        stored >= acknowledged,
        "{acknowledged} submissions were acknowledged but only {stored} are stored"
    );
    // Only requests the clients saw fail can account for more.
    assert!(
        stored <= acknowledged + unanswered.min(8),
        "{stored} stored, {acknowledged} acknowledged"
    );
    drop(server);
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
