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
    let mut app = spawn_app_with(|s| s.grading_wait = Duration::from_millis(200)).await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = code_test(&app, &owner, &student, "assert add(1, 2) == 3\n", true).await;
    // Then a server that cannot grade (no Python to build its runtime with).
    app.settings.runtime_dir = broken_runtime.path().to_owned();
    app.settings.python = "/nonexistent/python3".to_owned();
    app.restart().await;
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

/// Sums two integers read from one line; the third case is hidden.
fn sum_cases() -> Value {
    json!([
        {"stdin": "1 2\n", "expected_output": "3\n", "points": 1},
        {"stdin": "10 -4\n", "expected_output": "6\n", "points": 2},
        {"stdin": "7777777 1\n", "expected_output": "7777778\n", "points": 1, "hidden": true},
    ])
}

/// A lenient 8-point code question in `language` checked by [`sum_cases`].
async fn case_test(app: &TestApp, owner: &Account, student: &Account, language: &str) -> Value {
    let group = app.group(owner, "Coders", &[student.id]).await;
    let question = json!({"text": "Print the sum", "type": "code", "points": 8,
        "body": {"language": language, "test_cases": sum_cases(), "strict_score": false}});
    app.create_test(
        owner,
        &json!({"name": "Sums", "questions": [question], "available_for": [group]}),
    )
    .await
}

/// The teacher's view of a completion.
async fn with_correctness(app: &TestApp, owner: &Account, completion: &Value) -> Value {
    let path = format!("/api/completions/{}/with_correctness/", completion["id"]);
    let (status, body) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

const PY_SUM: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const PY_HALF_RIGHT: &str =
    "a, b = map(int, input().split())\nprint(a + b if a != 10 else a - b)\n";
const JS_SUM: &str = "const [a, b] = readline().split(' ').map(Number);\nconsole.log(a + b);\n";
const JS_HALF_RIGHT: &str =
    "const [a, b] = readline().split(' ').map(Number);\nconsole.log(a !== 10 ? a + b : a - b);\n";

#[tokio::test]
async fn test_cases_score_by_their_points_in_python_and_javascript() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    for (language, right, half_right) in [
        ("python", PY_SUM, PY_HALF_RIGHT),
        ("javascript", JS_SUM, JS_HALF_RIGHT),
    ] {
        let test = case_test(&app, &owner, &student, language).await;
        let completion = submit_code(&app, &student, &test, right).await;
        let graded = until_graded(&app, &student, &completion).await;
        assert_eq!(graded["score"], 8, "{language}: {graded}");

        // Cases 1 (1 point) and 3 (hidden, 1 point) pass, case 2 (2 points) fails: 8 * 2/4.
        let completion = submit_code(&app, &student, &test, half_right).await;
        until_graded(&app, &student, &completion).await;
        let seen = with_correctness(&app, &owner, &completion).await;
        assert_eq!(seen["score"], 4, "{language}: {seen}");
        let checks = &seen["answers"][0]["body"]["checks"];
        assert_eq!(
            checks,
            &json!([
                {"name": "case 1", "passed": true, "weight": 1, "detail": null},
                {"name": "case 2", "passed": false, "weight": 2,
                 "detail": "case 2: line 1: expected \"6\", got \"14\""},
                {"name": "case 3", "passed": true, "weight": 1, "detail": null},
            ]),
            "{language}"
        );
    }
}

#[tokio::test]
async fn hidden_cases_never_reach_the_student_while_teachers_see_everything() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = case_test(&app, &owner, &student, "python").await;
    let cases = &test["questions"][0]["body"]["test_cases"];
    assert_eq!(
        cases[2]["stdin"], "7777777 1\n",
        "teachers see hidden cases: {test}"
    );
    assert_eq!(test["questions"][0]["body"]["language"], "python");

    let link = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
    let (status, shown) = status_json(app.get(&link, Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    let body = &shown["questions"][0]["body"];
    assert_eq!(body["language"], "python");
    assert_eq!(
        body["test_cases"][0]["stdin"], "1 2\n",
        "visible cases are examples"
    );
    assert_eq!(body["test_cases"][2], json!({"points": 1, "hidden": true}));

    // A wrong answer that fails the hidden case: nothing of it in any of the student's views.
    let wrong = "a, b = map(int, input().split())\nprint(a + b if a < 100 else 0)\n";
    let completion = submit_code(&app, &student, &test, wrong).await;
    let graded = until_graded(&app, &student, &completion).await;
    let mine = app
        .get("/api/users/me/completions/", Some(&student.access))
        .await
        .text()
        .await
        .unwrap();
    for view in [
        shown.to_string(),
        graded.to_string(),
        completion.to_string(),
        mine,
    ] {
        for secret in ["7777777", "7777778"] {
            assert!(
                !view.contains(secret),
                "{secret} shown to the student: {view}"
            );
        }
    }
    assert_eq!(graded["answers"][0]["body"], json!({"code": wrong}));

    let seen = with_correctness(&app, &owner, &completion).await;
    assert_eq!(seen["score"], 6, "{seen}");
    let detail = &seen["answers"][0]["body"]["checks"][2]["detail"];
    assert_eq!(detail, "case 3: line 1: expected \"7777778\", got \"0\"");
}

#[tokio::test]
async fn hostile_programs_fail_their_cases_and_the_server_stays_healthy() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    for (language, hostile) in [
        ("python", "while True:\n    pass\n"),
        ("python", "print(open('/etc/passwd').read())\n"),
        ("python", "print('3\\n6\\n7777778')\n"),
        ("javascript", "for (;;) {}\n"),
        (
            "javascript",
            "const a = []; for (;;) a.push(new Array(1e6).fill(1));\n",
        ),
        (
            "javascript",
            "const s = 'x'.repeat(1000); for (;;) console.log(s);\n",
        ),
        ("javascript", "console.log(std.loadFile('/etc/passwd'));\n"),
    ] {
        let test = case_test(&app, &owner, &student, language).await;
        let completion = submit_code(&app, &student, &test, hostile).await;
        let graded = until_graded(&app, &student, &completion).await;
        assert_eq!(graded["score"], 0, "{language}: {hostile}");
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_question_in_a_language_without_a_runtime_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for language in ["c", "cpp"] {
        let question = json!({"text": "Sum", "type": "code",
            "body": {"language": language, "test_cases": sum_cases()}});
        let body = json!({"name": "C", "questions": [question]});
        let (status, errors) =
            status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{errors}");
        let problem = errors["questions[0].body.language"][0].as_str().unwrap();
        assert!(problem.contains("cannot be graded"), "{problem}");
    }
}

#[tokio::test]
async fn code_questions_need_a_way_to_check_answers_in_their_language() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for (body, field) in [
        (
            json!({"language": "javascript"}),
            "questions[0].body.test_cases",
        ),
        (
            json!({"language": "javascript", "testing_code": "assert f() == 1", "test_cases": sum_cases()}),
            "questions[0].body.testing_code",
        ),
        (
            json!({"language": "cobol", "test_cases": sum_cases()}),
            "questions[0].body.language",
        ),
        (json!({}), "questions[0].body.testing_code"),
        (
            json!({"test_cases": [{"stdin": "1"}]}),
            "questions[0].body.test_cases[0].expected_output",
        ),
    ] {
        let question = json!({"text": "Sum", "type": "code", "body": body});
        let test = json!({"name": "Bad", "questions": [question]});
        let (status, errors) =
            status_json(app.post("/api/tests/", Some(&owner.access), &test).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {errors}");
        assert!(errors[field].is_array(), "{body}: {errors}");
    }
}

#[tokio::test]
async fn languages_lists_all_four_with_their_state() {
    let app = spawn_app().await;
    let mut languages = Value::Null;
    for _ in 0..240 {
        languages = status_json(app.get("/api/languages/", None).await).await.1;
        if languages[1]["status"] != "preparing" && languages[0]["status"] != "preparing" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let names: Vec<&str> = languages
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["python", "javascript", "c", "cpp"]);
    assert_eq!(languages[1]["status"], "ready", "{languages}");
    assert!(languages[1]["version"]
        .as_str()
        .unwrap()
        .contains("QuickJS-NG"));
    for c in [&languages[2], &languages[3]] {
        assert_eq!(c["status"], "unavailable");
        assert!(c["problem"].as_str().unwrap().contains("not built"), "{c}");
    }
}

#[tokio::test]
async fn the_openapi_document_names_the_languages_and_the_test_case_fields() {
    let app = spawn_app().await;
    let (status, doc) = status_json(app.get("/api/schema/json/", None).await).await;
    assert_eq!(status, StatusCode::OK);
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["CodeLanguage"]["enum"],
        json!(["python", "javascript", "c", "cpp"])
    );
    let case = &schemas["TestCaseRequest"]["properties"];
    for field in ["stdin", "expected_output", "points", "hidden"] {
        assert!(case[field].is_object(), "{field}: {case}");
    }
}
