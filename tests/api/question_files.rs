//! Importing Moodle XML and GIFT files, and exporting a test as Moodle XML.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{sample_test, spawn_app, status_json, Account, TestApp};

fn fixture(path: &str) -> String {
    let path = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn import(app: &TestApp, who: &Account, body: Value) -> (StatusCode, Value) {
    status_json(
        app.post("/api/tests/import/", Some(&who.access), &body)
            .await,
    )
    .await
}

/// What a test is, without ids: name and questions as the teacher sees them.
fn content(test: &Value) -> Value {
    let questions: Vec<Value> = test["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let variants: Vec<Value> = q["body"]["variants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| json!([v["text"], v["is_correct"]]))
                .collect();
            json!({"text": q["text"], "type": q["type"], "points": q["points"],
                   "number_in_test": q["number_in_test"], "variants": variants,
                   "strict_score": q["body"]["strict_score"], "testing_code": q["body"]["testing_code"],
                   "language": q["body"]["language"], "test_cases": q["body"]["test_cases"]})
        })
        .collect();
    json!({"name": test["name"], "questions": questions})
}

#[tokio::test]
async fn a_moodle_xml_file_becomes_a_test_and_what_it_cannot_hold_is_listed() {
    let app = spawn_app().await;
    let owner = app.owner("owner@import.test").await;
    let (status, body) = import(&app, &owner, json!({"file": fixture("moodle/mixed.xml")})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let doc = crate::schema::schema(&app).await;
    crate::schema::assert_documented(&doc, "post", "/api/tests/import/", status, &body);

    let test = &body["test"];
    assert_eq!(test["name"], "Week 3 & 4");
    let kinds: Vec<&str> = test["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["radio", "check", "radio", "text", "code"]);
    let q = |n: usize| &test["questions"][n];
    assert_eq!(q(0)["text"], "<p>Which planet is the <b>largest</b>?</p>");
    assert_eq!(q(0)["points"], 2);
    let variants = |n: usize| content(test)["questions"][n]["variants"].clone();
    assert_eq!(
        variants(0),
        json!([["Mars", false], ["Jupiter", true], ["Venus", false]])
    );
    assert_eq!(variants(1), json!([["2", true], ["3", true], ["4", false]]));
    assert_eq!(q(1)["body"]["strict_score"], true);
    assert_eq!(variants(2), json!([["true", true], ["false", false]]));
    assert_eq!(
        q(3)["text"],
        "The capital of France is ___ (one word, R&D <free>)."
    );
    assert_eq!(variants(3), json!([["Paris", true], ["Pariss", false]]));

    // Skipped, each with its line and why; and the partial credit left out is noted.
    let skipped: Vec<(String, u64)> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_owned(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        [
            ("essay".to_owned(), 109),
            ("matching".to_owned(), 167),
            ("coderunner".to_owned(), 183)
        ]
    );
    // CodeRunner in Python: its cases, the one not shown as an example hidden.
    assert_eq!(q(4)["points"], 4);
    assert_eq!(q(4)["body"]["language"], "python");
    assert_eq!(
        q(4)["body"]["test_cases"],
        json!([
            {"stdin": "1 2", "expected_output": "3", "points": 1, "hidden": false},
            {"stdin": "40 2", "expected_output": "42", "points": 3, "hidden": true}
        ])
    );
    // CodeRunner in C, which this server cannot grade yet: skipped, saying why.
    let c = &body["skipped"][2];
    assert_eq!(c["name"], "Double it in C");
    assert!(
        c["reason"]
            .as_str()
            .unwrap()
            .starts_with("c answers cannot be graded on this server"),
        "{c}"
    );
    assert!(
        body["notes"].to_string().contains("Pariss"),
        "{}",
        body["notes"]
    );
}

#[tokio::test]
async fn a_gift_file_becomes_a_test() {
    let app = spawn_app().await;
    let owner = app.owner("owner@gift.test").await;
    let group = app.group(&owner, "Class", &[]).await;
    let body =
        json!({"file": fixture("gift/sample.gift"), "format": "gift", "available_for": [group]});
    let (status, body) = import(&app, &owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let test = content(&body["test"]);
    assert_eq!(test["name"], "Astronomy");
    assert_eq!(
        body["test"]["available_for"][0]["id"], group,
        "{}",
        body["test"]
    );
    let summary: Vec<Value> = test["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| json!([q["type"], q["text"], q["variants"]]))
        .collect();
    assert_eq!(
        summary,
        [
            json!([
                "radio",
                "Which planet is the largest?",
                [["Jupiter", true], ["Mars", false], ["Venus", false]]
            ]),
            json!([
                "radio",
                "The Sun is a star.",
                [["True", true], ["False", false]]
            ]),
            json!([
                "check",
                "Which of these are prime?",
                [["2", true], ["3", true], ["4", false]]
            ]),
            json!([
                "text",
                "Our moon is called _____ in English.",
                [["the Moon", true], ["Luna", true]]
            ]),
            json!([
                "radio",
                "Is 1 = 1 written {like this}?",
                [["yes", true], ["no", false]]
            ]),
        ]
    );
    let skipped: Vec<&str> = body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["numerical", "matching", "description"]);
    assert!(
        body["notes"].to_string().contains("Feedback"),
        "{}",
        body["notes"]
    );
}

#[tokio::test]
async fn an_exported_test_reads_back_to_the_same_test() {
    let app = spawn_app().await;
    let owner = app.owner("owner@roundtrip.test").await;
    let mut body = sample_test();
    body["name"] = json!("Round <trip> & back");
    body["questions"][0]["text"] = json!("<p>Capital of <i>France</i>? \"Quotes\" & ]]> too</p>");
    // A code question with test cases (one hidden, one with two lines of input) in another
    // language: CodeRunner's <testcases>, read back to the same cases.
    body["questions"].as_array_mut().unwrap().push(json!({
        "text": "Print the sum of the numbers on each line", "type": "code",
        "number_in_test": 6, "points": 4,
        "body": {"language": "javascript", "strict_score": false, "test_cases": [
            {"stdin": "1 2\n3 4\n", "expected_output": "3\n7", "points": 1, "hidden": false},
            {"stdin": "<5> & 5", "expected_output": "10", "points": 3, "hidden": true}
        ]}
    }));
    let original = app.create_test(&owner, &body).await;
    let url = format!("/api/tests/{}/export.xml", original["id"]);
    let resp = app.get(&url, Some(&owner.access)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/xml");
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<question type=\"multichoice\">"), "{xml}");

    let (status, imported) = import(&app, &owner, json!({"file": xml})).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["skipped"], json!([]));
    assert_eq!(imported["notes"], json!([]));
    assert_ne!(imported["test"]["id"], original["id"]);
    assert_eq!(content(&imported["test"]), content(&original));

    // Others cannot export it.
    let stranger = app.owner("stranger@roundtrip.test").await;
    assert_eq!(
        app.get(&url, Some(&stranger.access)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_files_are_refused_naming_the_line_and_nothing_is_created() {
    let app = spawn_app().await;
    let owner = app.owner("owner@bad-files.test").await;
    let cases = [
        ("<quiz>\n<question type=\"truefalse\">\n<name><text>x</name>\n</question>\n</quiz>", "line 3"),
        ("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;\">]>\n<quiz><question type=\"truefalse\"><name><text>&lol1;</text></name></question></quiz>", "DOCTYPE"),
        ("<quiz>\n\n<question type=\"truefalse\"><questiontext><text>&ext;</text></questiontext></question></quiz>", "line 3"),
        ("<html><body>not a quiz</body></html>", "<quiz>"),
        ("<quiz><question type=\"essay\"><name><text>Only an essay</text></name></question></quiz>", "essay"),
        ("Fine? {T}\n\nBroken? {=a\n~b\n", "line 3"),
    ];
    for (file, expected) in cases {
        let (status, body) = import(&app, &owner, json!({"file": file})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{file}: {body}");
        let problem = body["file"].to_string();
        assert!(problem.contains(expected), "{file}: {body}");
    }
    let huge = "x".repeat(600 * 1024);
    let resp = app
        .post(
            "/api/tests/import/",
            Some(&owner.access),
            &json!({"file": huge}),
        )
        .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let (status, body) = import(&app, &owner, json!({"file": "Q? {T}", "format": "docx"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["format"].is_array(), "{body}");

    let (_, tests) = status_json(app.get("/api/tests/", Some(&owner.access)).await).await;
    assert_eq!(tests, json!([]), "nothing was created");
    let student = app.student("s@bad-files.test", owner.org.unwrap()).await;
    let (status, _) = import(&app, &student, json!({"file": "Q? {T}"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
