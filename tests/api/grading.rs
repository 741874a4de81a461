//! Code answers graded by the sandbox, through the API.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{question_id, spawn_app, spawn_app_with, status_json, Account, TestApp};

const ADD: &str = "def add(a, b):\n    return a + b\n";

/// A test with one code question of `points`, open to `student`.
async fn code_test(
    app: &TestApp,
    owner: &Account,
    student: &Account,
    testing_code: &str,
    strict: bool,
) -> Value {
    let group = app.group(owner, "Coders", &[student.id]).await;
    let question = json!({"text": "Write add", "type": "code", "points": 6,
                          "body": {"testing_code": testing_code, "strict_score": strict}});
    app.create_test(
        owner,
        &json!({"name": "Code", "questions": [question], "available_for": [group]}),
    )
    .await
}

async fn submit_code(app: &TestApp, student: &Account, test: &Value, code: &str) -> Value {
    let answers = json!([{"question": question_id(test, 1), "body": {"code": code}}]);
    let (status, completion) = status_json(
        app.submit(student, test["public_uuid"].as_str().unwrap(), answers)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{completion}");
    completion
}

/// Reads the completion until it is graded (bounded: grading takes well under a minute).
async fn until_graded(app: &TestApp, student: &Account, completion: &Value) -> Value {
    let path = format!("/api/completions/{}/", completion["id"]);
    for _ in 0..240 {
        let (status, current) = status_json(app.get(&path, Some(&student.access)).await).await;
        assert_eq!(status, StatusCode::OK);
        if current["status"] == "graded" {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("completion {} was never graded", completion["id"]);
}

#[tokio::test]
async fn a_grading_that_outlasts_the_wait_answers_grading_and_finishes_later() {
    let app = spawn_app_with(|s| s.grading_wait = Duration::ZERO).await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = code_test(&app, &owner, &student, "assert add(1, 2) == 3\n", true).await;

    let completion = submit_code(&app, &student, &test, ADD).await;
    assert_eq!(completion["status"], "grading");
    assert_eq!(
        completion["answers"][0]["body"],
        json!({"code": ADD, "is_correct": null})
    );
    assert_eq!(completion["score"], 0);

    let graded = until_graded(&app, &student, &completion).await;
    assert_eq!(graded["score"], 6);
    assert_eq!(graded["answers"][0]["body"], json!({"code": ADD}));
}

#[tokio::test]
async fn answers_left_pending_by_a_stopped_server_are_graded_at_its_next_start() {
    let shared_runtime = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes");
    let broken_runtime = tempfile::tempdir().unwrap();
    // A first server that cannot grade (no Python to build its runtime with).
    let mut app = spawn_app_with(|s| {
        s.runtime_dir = broken_runtime.path().to_owned();
        s.python = "/nonexistent/python3".to_owned();
        s.grading_wait = Duration::from_millis(200);
    })
    .await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = code_test(&app, &owner, &student, "assert add(1, 2) == 3\n", true).await;
    let completion = submit_code(&app, &student, &test, ADD).await;
    assert_eq!(completion["status"], "grading");

    app.settings.runtime_dir = shared_runtime;
    app.settings.python = "python3".to_owned();
    app.restart().await;

    let graded = until_graded(&app, &student, &completion).await;
    assert_eq!(graded["score"], 6);
}

#[tokio::test]
async fn lenient_code_questions_share_points_by_test_functions_passed() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let tests = "def test_one():\n    assert add(1, 2) == 3\n\ndef test_two():\n    assert add(2, 2) == 4\n\ndef test_negative():\n    assert add(-1, -1) == -2\n";
    let test = code_test(&app, &owner, &student, tests, false).await;
    let absolute = "def add(a, b):\n    return abs(a + b)\n";
    let completion = submit_code(&app, &student, &test, absolute).await;
    assert_eq!(
        completion["score"], 4,
        "two of three test functions pass: {completion}"
    );

    let strict = code_test(&app, &owner, &student, tests, true).await;
    assert_eq!(
        submit_code(&app, &student, &strict, absolute).await["score"],
        0
    );
}

#[tokio::test]
async fn hostile_answers_grade_as_wrong_and_the_server_stays_healthy() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = code_test(&app, &owner, &student, "assert add(1, 2) == 3\n", true).await;
    for hostile in [
        "def add(a, b):\n    while True:\n        pass\n",
        "import sys\nsys.exit(0)\n",
        "x = bytearray(10**9)\n",
        "print(open('/etc/passwd').read())\n",
    ] {
        let completion = submit_code(&app, &student, &test, hostile).await;
        assert_eq!(
            (completion["status"].as_str(), completion["score"].as_i64()),
            (Some("graded"), Some(0)),
            "{hostile}"
        );
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
    assert_eq!(submit_code(&app, &student, &test, ADD).await["score"], 6);
}

#[tokio::test]
async fn testing_code_that_cannot_grade_is_refused_when_the_test_is_written() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for (testing_code, why) in [
        ("assert add(1, 2) == add(2, 1)\n", "without the answer"),
        ("def test_x(:\n", "SyntaxError"),
        ("print('nothing checked')\n", "no assert"),
    ] {
        let question =
            json!({"text": "Write add", "type": "code", "body": {"testing_code": testing_code}});
        let body = json!({"name": "Bad", "questions": [question]});
        let (status, errors) =
            status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{testing_code}: {errors}");
        let problem = errors["questions[0].body.testing_code"][0]
            .as_str()
            .unwrap();
        assert!(problem.contains(why), "{problem}");
    }
}

#[tokio::test]
async fn languages_lists_python_with_its_limits() {
    let app = spawn_app().await;
    let mut python = Value::Null;
    for _ in 0..240 {
        let (status, languages) = status_json(app.get("/api/languages/", None).await).await;
        assert_eq!(status, StatusCode::OK);
        python = languages[0].clone();
        if python["status"] == "ready" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(python["name"], "python");
    assert_eq!(python["status"], "ready", "{python}");
    assert_eq!(
        python["limits"],
        json!({"time_ms": 2000, "memory_bytes": 268435456, "output_bytes": 65536})
    );
}
