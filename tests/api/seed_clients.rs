//! The seed documents' own clients, unchanged (issue 27): each test sends a request as the
//! document shows it and checks the answer against the document's field list and types.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, variant_id, Account, TestApp};

/// A lenient check question of `points` with three right variants, `a`, `b` and `c`, and a
/// wrong one, `d`.
fn lenient_check(number: i64, points: i64) -> Value {
    let variants = [("a", true), ("b", true), ("c", true), ("d", false)]
        .map(|(text, ok)| json!({"text": text, "is_correct": ok}));
    json!({"text": format!("Pick the letters ({number})"), "type": "check",
           "number_in_test": number, "points": points,
           "body": {"variants": variants, "strict_score": false}})
}

/// Seed 003's completion answer: `score*` integer, each answer `{question*, body*}`.
fn assert_seed_completion(c: &Value) {
    assert!(c["id"].is_i64() && c["score"].is_i64(), "{c}");
    for answer in c["answers"].as_array().unwrap() {
        assert!(answer["question"].is_i64(), "{answer}");
        assert!(answer["body"].is_object(), "{answer}");
    }
}

/// An owner, a student of theirs and a test of `questions` open to the student.
async fn class_with_test(app: &TestApp, questions: Value) -> (Account, Account, Value) {
    let owner = app.owner("teacher@seed.test").await;
    let student = app.student("student@seed.test", owner.org.unwrap()).await;
    let group = app.group(&owner, "Class", &[student.id]).await;
    let body = json!({"name": "Seed", "questions": questions, "available_for": [group]});
    let test = app.create_test(&owner, &body).await;
    (owner, student, test)
}

#[tokio::test]
async fn scores_and_points_are_integers_truncated_from_the_exact_sum_with_the_exact_values_beside_them(
) {
    let app = spawn_app().await;
    let questions = json!([lenient_check(1, 2), lenient_check(2, 1)]);
    let (owner, student, test) = class_with_test(&app, questions).await;
    let pick = |n: usize| json!({"id": variant_id(&test, n, "a")});
    let pick_b = |n: usize| json!({"id": variant_id(&test, n, "b")});
    // Seed 003 §1.1's request: `{test, answers: [{question, body: {picked_variants}}]}`.
    let answers = json!([
        {"question": test["questions"][0]["id"], "body": {"picked_variants": [pick(1), pick_b(1)]}},
        {"question": test["questions"][1]["id"], "body": {"picked_variants": [pick(2), pick_b(2)]}},
    ]);
    let uuid = test["public_uuid"].as_str().unwrap();
    let (status, created) = status_json(app.submit(&student, uuid, answers).await).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // 2 × 2/3 + 1 × 2/3 = 4/3 + 2/3 = 2 exactly: the sum, then truncated (not 1 + 0).
    assert_seed_completion(&created);
    assert_eq!(
        (&created["score"], &created["score_exact"]),
        (&json!(2), &json!(2))
    );

    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/completions/{id}/with_correctness/");
    let (status, graded) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{graded}");
    assert_seed_completion(&graded);
    let points: Vec<(Value, Value)> = graded["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["points"].clone(), a["points_exact"].clone()))
        .collect();
    let (four_thirds, two_thirds) = (json!(4.0 / 3.0), json!(2.0 / 3.0));
    assert_eq!(points, [(json!(1), four_thirds), (json!(0), two_thirds)]);
    assert_eq!(graded["score"], 2);

    // One right pick of the second question only: 1/3, shown as 0.
    let answers = json!([{"question": test["questions"][1]["id"],
                          "body": {"picked_variants": [pick(2)]}}]);
    let (_, third) = status_json(app.submit(&student, uuid, answers).await).await;
    assert_eq!(
        (&third["score"], &third["score_exact"]),
        (&json!(0), &json!(1.0 / 3.0))
    );
    for path in [
        "/api/users/me/completions/".to_owned(),
        format!("/api/tests/p/{uuid}/completions/"),
    ] {
        let (status, list) = status_json(app.get(&path, Some(&student.access)).await).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let scores: Vec<&Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["score"])
            .collect();
        assert_eq!(scores, [&json!(2), &json!(0)], "{path}");
    }
    let path = format!("/api/tests/{}/completions/", test["id"]);
    let (_, list) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(list[1]["answers"][1]["points"], 0);
    assert_eq!(list[1]["score"], 0);
}
