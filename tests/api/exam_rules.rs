//! Exam rules that hold on every path: time limits on REST submissions, one clock shared
//! with live attempts.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    question_id, sample_test, spawn_app, spawn_app_with, status_json, Account, TestApp,
};
use crate::live::Live;

/// An owner, a student in a group, and a test for the group with `extra` fields.
async fn exam(app: &TestApp, extra: Value) -> (Account, Account, Value) {
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Exam", &[ann.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    if let Value::Object(extra) = extra {
        body.as_object_mut().unwrap().extend(extra);
    }
    let test = app.create_test(&owner, &body).await;
    (owner, ann, test)
}

fn uuid(test: &Value) -> &str {
    test["public_uuid"].as_str().unwrap()
}

fn paris(test: &Value) -> Value {
    json!([{"question": question_id(test, 1), "body": {"picked_variant": {"text": "Paris"}}}])
}

/// Shows the test to `who` as a student opens it (`GET /api/tests/p/{uuid}/`).
async fn open(app: &TestApp, who: &Account, test: &Value) -> StatusCode {
    let link = format!("/api/tests/p/{}/", uuid(test));
    app.get(&link, Some(&who.access)).await.status()
}

/// The teacher's view of the test's completions.
async fn completions_of(app: &TestApp, owner: &Account, test: &Value) -> Vec<Value> {
    let path = format!("/api/tests/{}/completions/", test["id"]);
    let (status, list) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_rest_submission_after_the_limit_and_grace_is_refused_and_nothing_is_stored() {
    let mut app = spawn_app_with(|s| s.time_limit_grace = Duration::ZERO).await;
    let (owner, ann, test) = exam(&app, json!({"time_limit_seconds": 1})).await;
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    // The clock is kept in the store: a restart does not reset it, nor does opening again.
    app.restart().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "time_limit_passed");
    assert!(body["detail"].as_str().unwrap().contains("time limit"));
    assert!(completions_of(&app, &owner, &test).await.is_empty());
}

#[tokio::test]
async fn a_rest_submission_inside_the_grace_is_accepted_and_teachers_see_its_start_and_end() {
    let app = spawn_app().await; // the default grace: 30 s
    let (owner, ann, test) = exam(&app, json!({"time_limit_seconds": 1})).await;
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Opening it again does not restart the clock.
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["score"], 2);

    let list = completions_of(&app, &owner, &test).await;
    assert_eq!(list.len(), 1);
    let (started, submitted) = (
        list[0]["started_at"].as_str().unwrap(),
        list[0]["submitted_at"].as_str().unwrap(),
    );
    assert!(
        started.ends_with('Z') && started < submitted,
        "{started} {submitted}"
    );

    // Its time is over: submitting again answers the same completion (a client's retry),
    // and a new attempt needs the test opened again.
    let (status, again) = status_json(app.submit(&ann, uuid(&test), json!([])).await).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &body["id"]));
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let resp = app.submit(&ann, uuid(&test), json!([])).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(completions_of(&app, &owner, &test).await.len(), 2);
}

#[tokio::test]
async fn a_second_submission_of_an_attempt_submitted_in_time_needs_the_test_opened_again() {
    let app = spawn_app().await;
    let (_, ann, test) = exam(&app, json!({"time_limit_seconds": 600})).await;
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let resp = app.submit(&ann, uuid(&test), paris(&test)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (status, again) = status_json(app.submit(&ann, uuid(&test), json!([])).await).await;
    assert_eq!(
        (status, again["code"].clone()),
        (StatusCode::FORBIDDEN, json!("attempt_not_started"))
    );
}

#[tokio::test]
async fn a_timed_test_submitted_without_being_opened_is_refused() {
    let app = spawn_app().await;
    let (owner, ann, test) = exam(&app, json!({"time_limit_seconds": 600})).await;
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "attempt_not_started");
    assert!(completions_of(&app, &owner, &test).await.is_empty());
    // A teacher's preview starts no attempt.
    assert_eq!(open(&app, &owner, &test).await, StatusCode::OK);
    let attempts = app
        .store
        .repo::<testit::store::Attempt>()
        .count(&testit::store::Filter::Eq("test_id", test["id"].clone()))
        .await
        .unwrap();
    assert_eq!(attempts, 0);
}

#[tokio::test]
async fn a_late_rest_submission_of_an_attempt_the_server_submitted_at_its_deadline_answers_that_completion(
) {
    let app = spawn_app().await;
    let (owner, ann, test) = exam(&app, json!({"time_limit_seconds": 2})).await;
    // Opened over REST first: the live attempt resumes it, with the same clock.
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let mut live = Live::connect(&app, &ann).await;
    let started = live
        .ask(json!({"type": "start", "test": uuid(&test)}), "attempt")
        .await;
    assert_eq!(started["attempt"]["resumed"], true);
    let save = json!({"type": "save", "question": question_id(&test, 1),
                      "body": {"picked_variant": {"text": "Paris"}}});
    live.ask(save, "saved").await;
    let timed_out = live.expect("attempt_timed_out").await;
    let id = timed_out["completion"]["id"].clone();

    // The REST client submits late, with other answers: the saved ones stand.
    let (status, body) = status_json(app.submit(&ann, uuid(&test), json!([])).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((body["id"].clone(), body["score"].clone()), (id, json!(2)));
    let list = completions_of(&app, &owner, &test).await;
    assert_eq!(list.len(), 1);
    assert!(list[0]["started_at"].is_string());
}
