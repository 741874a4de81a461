//! Several servers on one MongoDB behave as one: live events, log-outs and sign-in limits
//! cross from one server to the others.
//!
//! Each test starts two or three servers (each with its own hub, change stream, attempt
//! actors and in-memory sets) on one fresh database; tokens signed by one are accepted by
//! the others because they share the signing secret, as a deployment's servers do. On the
//! embedded store these tests are skipped: it is one process by design.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    fresh_database_name, mongodb_uri, question_id, sample_test, spawn_app_with, status_json,
    with_database, Account, TestApp, MONGODB_VAR, PASSWORD,
};
use crate::live::Live;

/// The signing secret the servers of a test share, as a deployment's servers do.
const SECRET: &str = "one secret for every server of the cluster";

/// `n` servers on one fresh MongoDB database, or `None` (with a note) on the embedded store.
async fn servers(
    n: usize,
    configure: impl Fn(&mut testit::settings::Settings),
) -> Option<Vec<TestApp>> {
    let Some(uri) = mongodb_uri() else {
        eprintln!(
            "skipped: several servers need MongoDB (set {MONGODB_VAR}, or run \
             scripts/test-mongodb); the embedded store is one process by design"
        );
        return None;
    };
    let database = with_database(&uri, &fresh_database_name("cluster"));
    let mut apps = Vec::new();
    for _ in 0..n {
        let app = spawn_app_with(|s| {
            s.database_url = database.clone();
            s.jwt_secret = Some(SECRET.to_owned());
            configure(s);
        })
        .await;
        apps.push(app);
    }
    Some(apps)
}

/// Waits (generously: the machine may be loaded) until `check` holds; answers whether it did.
async fn eventually<F: std::future::Future<Output = bool>>(check: impl FnMut() -> F) -> bool {
    eventually_within(Duration::from_secs(30), check).await
}

async fn eventually_within<F: std::future::Future<Output = bool>>(
    wait: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn every_server_says_its_live_events_are_shared() {
    let Some(apps) = servers(2, |_| {}).await else {
        return;
    };
    for app in &apps {
        let (status, body) = status_json(app.get("/health", None).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["events"], "shared", "{body}");
    }
}

/// The messages that come until one of type `last` (included).
async fn until(live: &mut Live, last: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    loop {
        let message = live.next().await;
        assert_ne!(message["type"], "error", "{message}");
        let done = message["type"] == last;
        messages.push(message);
        if done {
            return messages;
        }
    }
}

fn count(messages: &[Value], kind: &str, user: i64) -> usize {
    messages
        .iter()
        .filter(|m| m["type"] == kind)
        .filter(|m| {
            m["user"] == user || m["user"]["id"] == user || m["completion"]["user"]["id"] == user
        })
        .count()
}

#[tokio::test]
async fn a_teacher_watching_on_one_server_sees_a_students_saves_and_submit_made_on_another_in_order_once(
) {
    let Some(apps) = servers(3, |_| {}).await else {
        return;
    };
    let (a, b, c) = (&apps[0], &apps[1], &apps[2]);
    let owner = a.owner("owner@school.org").await;
    let org = owner.org.unwrap();
    let ann = a.student("ann@school.org", org).await;
    let bob = a.student("bob@school.org", org).await;
    let group = a.group(&owner, "Live", &[ann.id, bob.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    let test = a.create_test(&owner, &body).await;
    let uuid = test["public_uuid"].as_str().unwrap().to_owned();

    let mut teacher = Live::connect(b, &owner).await;
    teacher.watch(&test).await;

    let mut student = Live::connect(a, &ann).await;
    student
        .ask(json!({"type": "start", "test": uuid}), "attempt")
        .await;
    let save = |text: &str| {
        json!({"type": "save", "question": question_id(&test, 1),
               "body": {"picked_variant": {"text": text}}})
    };
    assert_eq!(student.ask(save("Lyon"), "saved").await["answered"], 1);
    assert_eq!(student.ask(save("Paris"), "saved").await["answered"], 1);
    let submitted = student.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["score"], 2);

    let seen = until(&mut teacher, "completion_graded").await;
    let types: Vec<&str> = seen.iter().map(|m| m["type"].as_str().unwrap()).collect();
    let at = |kind: &str| types.iter().position(|t| *t == kind).unwrap_or(usize::MAX);
    assert!(
        at("attempt_started") < at("attempt_submitted")
            && at("attempt_submitted") < at("completion_graded"),
        "{types:?}"
    );
    assert_eq!(count(&seen, "attempt_started", ann.id), 1, "{types:?}");
    assert_eq!(count(&seen, "attempt_submitted", ann.id), 1, "{types:?}");
    let graded = seen.last().unwrap();
    assert_eq!(graded["completion"]["score"], 2);
    // Progress (batched) says how far Ann got before she submitted, never what she wrote.
    let progress: Vec<&Value> = seen.iter().filter(|m| m["type"] == "progress").collect();
    assert!(!progress.is_empty(), "{types:?}");
    assert!(!format!("{progress:?}").contains("Paris"));

    // Another student submits over REST on the third server: the teacher's next grading
    // event is Bob's, with nothing of Ann's repeated before it.
    let answers =
        json!([{"question": question_id(&test, 1), "body": {"picked_variant": {"text": "Rome"}}}]);
    assert_eq!(
        c.submit(&bob, &uuid, answers).await.status(),
        StatusCode::CREATED
    );
    let after = until(&mut teacher, "completion_graded").await;
    assert_eq!(after.last().unwrap()["completion"]["user"]["id"], bob.id);
    for kind in ["attempt_started", "attempt_submitted", "completion_graded"] {
        assert_eq!(count(&after, kind, ann.id), 0, "{after:?}");
    }
}

#[tokio::test]
async fn a_log_out_on_one_server_is_refused_on_the_others() {
    let Some(apps) = servers(2, |_| {}).await else {
        return;
    };
    let (a, b) = (&apps[0], &apps[1]);
    let ada = a.user("ada@example.org", false, None).await;
    // A second access token of the same log-in, as a client refreshing would hold: the
    // log-out revokes the one it presents by itself, the others through the log-in.
    let (status, refreshed) = status_json(
        b.post(
            "/api/users/token/refresh/",
            None,
            &json!({"refresh": ada.refresh}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let other = refreshed["access"].as_str().unwrap().to_owned();
    assert_eq!(
        b.get("/api/users/me", Some(&other)).await.status(),
        StatusCode::OK
    );
    let resp = a
        .post(
            "/api/users/token/revoke/",
            Some(&ada.access),
            &json!({"refresh": ada.refresh}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let refused =
        eventually(|| {
            let other = other.clone();
            async move {
                b.get("/api/users/me", Some(&other)).await.status() == StatusCode::UNAUTHORIZED
            }
        })
        .await;
    assert!(
        refused,
        "a token of the revoked log-in still works on the other server"
    );
}

#[tokio::test]
async fn a_password_change_on_one_server_refuses_earlier_tokens_on_the_others() {
    let Some(apps) = servers(2, |_| {}).await else {
        return;
    };
    let (a, b) = (&apps[0], &apps[1]);
    let ada: Account = a.user("ada@example.org", false, None).await;
    let resp = a
        .request(
            reqwest::Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&json!({"password": "a brand new passphrase", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    assert_eq!(
        b.get("/api/users/me", Some(&ada.access)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn eleven_wrong_passwords_spread_over_two_servers_are_refused_with_429() {
    let Some(apps) = servers(2, |s| s.throttle.failures_per_account = 10).await else {
        return;
    };
    let (a, b) = (&apps[0], &apps[1]);
    let ada = a.user("ada@example.org", false, None).await;
    for n in 0..10 {
        let server = if n % 2 == 0 { a } else { b };
        let resp = server.obtain_tokens(&ada.email, "wrong password").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "failure {}", n + 1);
    }
    // Five failures on each: neither server alone is past ten, together they are.
    let resp = a.obtain_tokens(&ada.email, "wrong password").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = b.obtain_tokens(&ada.email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let (_, body) = status_json(resp).await;
    assert_eq!(body["code"], "throttled");
}

/// A server running as a process of its own (the `testit` binary), to be killed with
/// SIGKILL as a crash would.
struct Process {
    child: std::process::Child,
    address: String,
    log: std::path::PathBuf,
    _data_dir: tempfile::TempDir,
}

impl Process {
    async fn start(database: &str, env: &[(&str, &str)]) -> Process {
        let data_dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let runtimes = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes");
        let log = data_dir.path().join("server.log");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_testit"));
        command
            .env("TESTIT_DATA_DIR", data_dir.path())
            .env("TESTIT_BIND", format!("127.0.0.1:{port}"))
            .env("TESTIT_DATABASE_URL", database)
            .env("TESTIT_JWT_SECRET", SECRET)
            .env("TESTIT_RUNTIME_DIR", runtimes)
            .env("TESTIT_GRADER_WORKERS", "2")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("the server binary starts");
        let process = Process {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
            _data_dir: data_dir,
        };
        let client = reqwest::Client::new();
        let up = eventually(|| {
            let request = client.get(format!("{}/health", process.address)).send();
            async move { request.await.is_ok_and(|r| r.status() == StatusCode::OK) }
        })
        .await;
        assert!(
            up,
            "the server process did not start: {}",
            std::fs::read_to_string(&process.log).unwrap_or_default()
        );
        process
    }

    /// SIGKILL: no shutdown, no hand-back, whatever it was doing is cut.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[tokio::test]
async fn code_answers_acknowledged_by_a_server_killed_right_after_are_graded_once_by_another() {
    let Some(uri) = mongodb_uri() else {
        eprintln!("skipped: several servers need MongoDB (set {MONGODB_VAR})");
        return;
    };
    let database = with_database(&uri, &fresh_database_name("cluster"));
    // A answers the submission at once (no wait for verdicts) and is killed then.
    let mut a = Process::start(
        &database,
        &[("TESTIT_GRADING_WAIT_MS", "0"), ("TESTIT_CLAIM_LEASE", "2")],
    )
    .await;
    let b = spawn_app_with(|s| {
        s.database_url = database.clone();
        s.jwt_secret = Some(SECRET.to_owned());
        s.claim_lease = Duration::from_secs(2);
    })
    .await;
    let owner = b.owner("owner@school.org").await;
    let student = b.student("s@school.org", owner.org.unwrap()).await;
    let group = b.group(&owner, "Coders", &[student.id]).await;
    let question = |n: i64| {
        json!({"text": format!("Write add {n}"), "type": "code", "points": 2,
               "body": {"testing_code": format!("assert add({n}, 1) == {}\n", n + 1)}})
    };
    let test = b
        .create_test(
            &owner,
            &json!({"name": "Code", "questions": [question(1), question(2), question(3)],
                    "available_for": [group]}),
        )
        .await;
    let mut teacher = Live::connect(&b, &owner).await;
    teacher.watch(&test).await;

    let add = "def add(a, b):\n    return a + b\n";
    let answers: Vec<Value> = (1..=3)
        .map(|n| json!({"question": question_id(&test, n), "body": {"code": add}}))
        .collect();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/completions/", a.address))
        .bearer_auth(&student.access)
        .json(&json!({"test": test["public_uuid"], "answers": answers}))
        .send()
        .await
        .unwrap();
    let (status, completion) = status_json(resp).await;
    assert_eq!(status, StatusCode::CREATED, "{completion}");
    a.kill();

    // Whatever A finished before it died counts; B grades the rest; each answer once.
    // (Waited for over REST first: grading on a loaded machine may outlast one message's wait.)
    let path = format!("/api/completions/{}/", completion["id"]);
    let graded = eventually_within(Duration::from_secs(120), || {
        let request = b.get(&path, Some(&student.access));
        async move { status_json(request.await).await.1["status"] == "graded" }
    })
    .await;
    assert!(graded, "the completion was never graded");
    let seen = until(&mut teacher, "completion_graded").await;
    let graded: Vec<&Value> = seen
        .iter()
        .filter(|m| m["type"] == "answer_graded")
        .collect();
    let mut questions: Vec<i64> = graded
        .iter()
        .map(|m| m["question"].as_i64().unwrap())
        .collect();
    questions.sort_unstable();
    let expected: Vec<i64> = (1..=3).map(|n| question_id(&test, n)).collect();
    assert_eq!(questions, expected, "{seen:?}");
    assert_eq!(seen.last().unwrap()["completion"]["score"], 6);
    let (status, stored) = status_json(b.get(&path, Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (stored["status"].clone(), stored["score"].clone()),
        (json!("graded"), json!(6))
    );
}

/// A class of one on a timed test, its teacher watching on `b`, and Ann's attempt started
/// on the server process `a` with two answers saved (and acknowledged) there.
struct Taking {
    ann: Account,
    test: Value,
    teacher: Live,
    attempt: i64,
}

async fn taking(a: &Process, b: &TestApp, time_limit: u64) -> Taking {
    let owner = b.owner("owner@school.org").await;
    let ann = b.student("ann@school.org", owner.org.unwrap()).await;
    let group = b.group(&owner, "Live", &[ann.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    body["time_limit_seconds"] = json!(time_limit);
    let test = b.create_test(&owner, &body).await;
    let mut teacher = Live::connect(b, &owner).await;
    teacher.watch(&test).await;
    let mut student = Live::connect_to(&a.address, &ann).await;
    let started = student
        .ask(
            json!({"type": "start", "test": test["public_uuid"]}),
            "attempt",
        )
        .await;
    let attempt = started["attempt"]["id"].as_i64().unwrap();
    let text = json!({"type": "save", "question": question_id(&test, 1),
                      "body": {"picked_variant": {"text": "Paris"}}});
    assert_eq!(student.ask(text, "saved").await["answered"], 1);
    let radio = json!({"type": "save", "question": question_id(&test, 2),
                       "body": {"picked_variant": {"id": crate::helpers::variant_id(&test, 2, "4")}}});
    assert_eq!(student.ask(radio, "saved").await["answered"], 2);
    Taking {
        ann,
        test,
        teacher,
        attempt,
    }
}

async fn completions_of(app: &TestApp, who: &Account) -> Vec<Value> {
    let (status, mine) = status_json(
        app.get("/api/users/me/completions/", Some(&who.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    mine.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_student_whose_server_is_killed_resumes_on_another_with_every_acknowledged_answer_and_submits_once(
) {
    let Some(uri) = mongodb_uri() else {
        eprintln!("skipped: several servers need MongoDB (set {MONGODB_VAR})");
        return;
    };
    let database = with_database(&uri, &fresh_database_name("cluster"));
    let mut a = Process::start(&database, &[("TESTIT_CLAIM_LEASE", "2")]).await;
    let b = spawn_app_with(|s| {
        s.database_url = database.clone();
        s.jwt_secret = Some(SECRET.to_owned());
        s.claim_lease = Duration::from_secs(2);
    })
    .await;
    let mut t = taking(&a, &b, 600).await;
    a.kill();

    let mut student = Live::connect(&b, &t.ann).await;
    let resumed = student
        .ask(
            json!({"type": "start", "test": t.test["public_uuid"]}),
            "attempt",
        )
        .await;
    assert_eq!(resumed["attempt"]["id"], t.attempt);
    assert_eq!(resumed["attempt"]["resumed"], true);
    assert_eq!(resumed["attempt"]["answers"].as_object().unwrap().len(), 2);
    let left = resumed["attempt"]["seconds_left"].as_i64().unwrap();
    assert!(left > 0 && left <= 600, "{left}");
    let submitted = student.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(submitted["completion"]["score"], 3);
    let seen = until(&mut t.teacher, "completion_graded").await;
    assert_eq!(count(&seen, "attempt_submitted", t.ann.id), 1, "{seen:?}");
    assert_eq!(completions_of(&b, &t.ann).await.len(), 1);
}

#[tokio::test]
async fn the_deadline_of_an_attempt_whose_server_died_is_kept_by_another_once() {
    let Some(uri) = mongodb_uri() else {
        eprintln!("skipped: several servers need MongoDB (set {MONGODB_VAR})");
        return;
    };
    let database = with_database(&uri, &fresh_database_name("cluster"));
    let mut a = Process::start(&database, &[("TESTIT_CLAIM_LEASE", "1")]).await;
    let servers: Vec<TestApp> = {
        let mut servers = Vec::new();
        for _ in 0..2 {
            servers.push(
                spawn_app_with(|s| {
                    s.database_url = database.clone();
                    s.jwt_secret = Some(SECRET.to_owned());
                    s.claim_lease = Duration::from_secs(1);
                })
                .await,
            );
        }
        servers
    };
    let mut t = taking(&a, &servers[0], 3).await;
    a.kill();

    // Nobody reconnects: the two servers left both see the deadline pass; one submits.
    let seen = until(&mut t.teacher, "attempt_timed_out").await;
    assert_eq!(seen.last().unwrap()["completion"]["score"], 3, "{seen:?}");
    let done = eventually(|| {
        let b = &servers[1];
        let ann = t.ann.clone();
        async move { completions_of(b, &ann).await.len() == 1 }
    })
    .await;
    assert!(done);
    // Well past both servers' next looks: still one completion, announced once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(completions_of(&servers[1], &t.ann).await.len(), 1);
    assert_eq!(seen.last().unwrap()["attempt"], t.attempt);
}

#[tokio::test]
async fn two_sockets_of_one_student_on_two_servers_lose_no_acknowledged_save_and_submit_once() {
    let Some(apps) = servers(2, |_| {}).await else {
        return;
    };
    let (a, b) = (&apps[0], &apps[1]);
    let owner = a.owner("owner@school.org").await;
    let ann = a.student("ann@school.org", owner.org.unwrap()).await;
    let group = a.group(&owner, "Live", &[ann.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    let test = a.create_test(&owner, &body).await;
    let start = json!({"type": "start", "test": test["public_uuid"]});
    let text = |t: &str| {
        json!({"type": "save", "question": question_id(&test, 1),
               "body": {"picked_variant": {"text": t}}})
    };

    let mut phone = Live::connect(a, &ann).await;
    let mut laptop = Live::connect(b, &ann).await;
    let first = phone.ask(start.clone(), "attempt").await;
    let second = laptop.ask(start, "attempt").await;
    assert_eq!(first["attempt"]["id"], second["attempt"]["id"]);
    phone.ask(text("Paris"), "saved").await;
    let radio = json!({"type": "save", "question": question_id(&test, 2),
                       "body": {"picked_variant": {"id": crate::helpers::variant_id(&test, 2, "4")}}});
    laptop.ask(radio, "saved").await;
    let submitted = laptop.ask(json!({"type": "submit"}), "submitted").await;
    assert_eq!(
        submitted["completion"]["score"], 3,
        "both acknowledged saves count"
    );
    // The phone's server still has the attempt open in memory: the store refuses the save.
    phone.send(text("Lyon")).await;
    let late = loop {
        let reply = phone.next().await;
        if reply["type"] == "saved" || reply["type"] == "error" {
            break reply;
        }
    };
    assert_eq!(late["type"], "error", "a save after the submission: {late}");
    assert!(
        late["detail"].as_str().unwrap().contains("submitted"),
        "{late}"
    );
    phone.send(json!({"type": "submit"})).await;
    phone.expect("error").await;
    let (_, mine) = status_json(b.get("/api/users/me/completions/", Some(&ann.access)).await).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["score"], 3);
}

#[tokio::test]
async fn a_second_server_process_on_the_embedded_store_is_refused_at_start_with_a_clear_message() {
    if mongodb_uri().is_some() {
        eprintln!("skipped: about the embedded store ({MONGODB_VAR} is set)");
        return;
    }
    let first = crate::helpers::spawn_app().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut second = std::process::Command::new(env!("CARGO_BIN_EXE_testit"))
        .env("TESTIT_DATA_DIR", data_dir.path())
        .env("TESTIT_BIND", "127.0.0.1:0")
        .env("TESTIT_DATABASE_URL", &first.settings.database_url)
        .env("TESTIT_JWT_SECRET", SECRET)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if waited > Duration::from_secs(60) {
            let _ = second.kill();
            panic!("a second process on the same embedded store kept running");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    };
    let output = second.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(said.contains("in use by another server process"), "{said}");
    // The first one never noticed.
    assert_eq!(first.get("/health", None).await.status(), StatusCode::OK);
}
