//! `GET /api/tests/{id}/statistics/`: item statistics, checked against a hand computation.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{question_id, spawn_app, status_json, variant_id, Account, TestApp};

/// 1. radio "2 + 2?" (1 point; "3", "4" correct, "5")
/// 2. check "Primes?" (2 points, strict; "2" and "3" correct, "4")
/// 3. text "Capital of France?" (1 point; "Paris")
fn small_test(group: i64) -> Value {
    json!({
        "name": "Statistics",
        "available_for": [group],
        "questions": [
            {"text": "2 + 2?", "type": "radio", "number_in_test": 1, "points": 1,
             "body": {"variants": [{"text": "3", "is_correct": false}, {"text": "4", "is_correct": true},
                                   {"text": "5", "is_correct": false}]}},
            {"text": "Primes?", "type": "check", "number_in_test": 2, "points": 2,
             "body": {"variants": [{"text": "2", "is_correct": true}, {"text": "3", "is_correct": true},
                                   {"text": "4", "is_correct": false}], "strict_score": true}},
            {"text": "Capital of France?", "type": "text", "number_in_test": 3, "points": 1,
             "body": {"variants": [{"text": "Paris", "is_correct": true}]}},
        ],
    })
}

/// Four students answer the small test:
///
/// | student | radio | check      | text   | score |
/// | ------- | ----- | ---------- | ------ | ----- |
/// | 1       | 4 ✓   | 2, 3 ✓     | Paris ✓| 4     |
/// | 2       | 4 ✓   | 2, 4 ✗     | paris ✓| 2     |
/// | 3       | 3 ✗   | 2, 3 ✓     | Lyon ✗ | 2     |
/// | 4       | 5 ✗   | 4 ✗        | —      | 0     |
async fn answered_small_test(app: &TestApp) -> (Account, Value) {
    let owner = app.owner("owner@stats.test").await;
    let org = owner.org.unwrap();
    let mut students = Vec::new();
    for n in 1..=4 {
        students.push(app.student(&format!("s{n}@stats.test"), org).await);
    }
    let ids: Vec<i64> = students.iter().map(|s| s.id).collect();
    let group = app.group(&owner, "Class", &ids).await;
    let test = app.create_test(&owner, &small_test(group)).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    let v = |n: usize, text: &str| json!({"id": variant_id(&test, n, text)});
    let rows = [
        ("4", vec!["2", "3"], Some("Paris")),
        ("4", vec!["2", "4"], Some("paris")),
        ("3", vec!["2", "3"], Some("Lyon")),
        ("5", vec!["4"], None),
    ];
    for (student, (radio, check, text)) in students.iter().zip(rows) {
        let mut answers = vec![
            json!({"question": question_id(&test, 1), "body": {"picked_variant": v(1, radio)}}),
            json!({"question": question_id(&test, 2),
                   "body": {"picked_variants": check.iter().map(|t| v(2, t)).collect::<Vec<_>>()}}),
        ];
        if let Some(text) = text {
            answers.push(json!({"question": question_id(&test, 3),
                                "body": {"picked_variant": {"text": text}}}));
        }
        let (status, body) = status_json(app.submit(student, uuid, json!(answers)).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    (owner, test)
}

fn close(actual: &Value, expected: f64) -> bool {
    actual.as_f64().is_some_and(|a| (a - expected).abs() < 1e-9)
}

#[track_caller]
fn assert_close(actual: &Value, expected: f64, what: &str) {
    assert!(
        close(actual, expected),
        "{what}: {actual} is not {expected}"
    );
}

#[tokio::test]
async fn statistics_of_a_small_class_match_a_hand_computation() {
    let app = spawn_app().await;
    let (owner, test) = answered_small_test(&app).await;
    let id = test["id"].as_i64().unwrap();
    let url = format!("/api/tests/{id}/statistics/");
    let (status, stats) = status_json(app.get(&url, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let doc = crate::schema::schema(&app).await;
    crate::schema::assert_documented(&doc, "get", "/api/tests/{id}/statistics/", status, &stats);

    // Scores 4, 2, 2, 0.
    assert_eq!(stats["completions"], 4);
    assert_eq!(stats["pending"], 0);
    assert_close(&stats["max_score"], 4.0, "max score");
    assert_close(&stats["mean"], 2.0, "mean");
    assert_close(&stats["median"], 2.0, "median");
    // Sample variance (4 + 0 + 0 + 4) / 3 = 8/3.
    assert_close(&stats["standard_deviation"], (8.0f64 / 3.0).sqrt(), "sd");
    // Item variances 1/3, 4/3, 1/3 (sum 2): α = 3/2 × (1 − 2 / (8/3)) = 0.375.
    assert_close(&stats["cronbach_alpha"], 0.375, "alpha");
    assert!(stats["discrimination_formula"]
        .as_str()
        .unwrap()
        .contains("point-biserial"));

    let q = &stats["questions"];
    // Radio: points 1, 1, 0, 0 against rest 3, 1, 2, 0: r = 1/√5.
    assert_eq!(q[0]["question"], question_id(&test, 1));
    assert_eq!(
        (q[0]["answered"].clone(), q[0]["unanswered"].clone()),
        (json!(4), json!(0))
    );
    assert_close(&q[0]["facility"], 0.5, "radio facility");
    assert_close(&q[0]["mean_points"], 0.5, "radio mean");
    assert_close(
        &q[0]["discrimination"],
        1.0 / 5f64.sqrt(),
        "radio discrimination",
    );
    let shares: Vec<(String, u64, f64)> = q[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["text"].as_str().unwrap().to_owned(),
                v["picked"].as_u64().unwrap(),
                v["share"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shares,
        [
            ("3".to_owned(), 1, 0.25),
            ("4".to_owned(), 2, 0.5),
            ("5".to_owned(), 1, 0.25)
        ]
    );
    // Check: points 2, 0, 2, 0 against rest 2, 2, 0, 0: no correlation.
    assert_close(&q[1]["facility"], 0.5, "check facility");
    assert_close(&q[1]["discrimination"], 0.0, "check discrimination");
    let picked: Vec<u64> = q[1]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["picked"].as_u64().unwrap())
        .collect();
    assert_eq!(picked, [3, 2, 2]);
    // Text: one left unanswered; points 1, 1, 0, 0 as the radio's.
    assert_eq!(
        (q[2]["answered"].clone(), q[2]["unanswered"].clone()),
        (json!(3), json!(1))
    );
    assert_close(
        &q[2]["discrimination"],
        1.0 / 5f64.sqrt(),
        "text discrimination",
    );
    assert!(q[2].get("variants").is_none(), "{}", q[2]);
}

#[tokio::test]
async fn statistics_of_a_test_without_completions_have_no_figures() {
    let app = spawn_app().await;
    let owner = app.owner("owner@empty-stats.test").await;
    let group = app.group(&owner, "Class", &[]).await;
    let test = app.create_test(&owner, &small_test(group)).await;
    let id = test["id"].as_i64().unwrap();
    let (status, stats) = status_json(
        app.get(&format!("/api/tests/{id}/statistics/"), Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["completions"], 0);
    assert!(
        stats["mean"].is_null() && stats["cronbach_alpha"].is_null(),
        "{stats}"
    );
    assert_eq!(stats["questions"].as_array().unwrap().len(), 3);
    assert!(stats["questions"][0]["discrimination"].is_null());
}

#[tokio::test]
async fn statistics_are_for_the_tests_teachers_only() {
    let app = spawn_app().await;
    let (owner, test) = answered_small_test(&app).await;
    let id = test["id"].as_i64().unwrap();
    let url = format!("/api/tests/{id}/statistics/");
    let student = app.student("other@stats.test", owner.org.unwrap()).await;
    let (status, _) = status_json(app.get(&url, Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = app.owner("stranger@stats.test").await;
    let (status, _) = status_json(app.get(&url, Some(&stranger.access)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = status_json(app.get(&url, None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
