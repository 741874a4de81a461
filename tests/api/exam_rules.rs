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

/// RFC 3339 for `seconds` from now.
fn from_now(seconds: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    testit::testing::views::timestamp(now + seconds)
}

/// A live `start` refused with `code`.
async fn live_start_refused(app: &TestApp, who: &Account, test: &Value) -> Value {
    let mut live = Live::connect(app, who).await;
    live.send(json!({"type": "start", "test": uuid(test)}))
        .await;
    let refused = live.next().await;
    assert_eq!(refused["type"], "error", "{refused}");
    refused
}

#[tokio::test]
async fn a_test_not_open_yet_is_refused_on_every_path_and_listed_with_when_it_opens() {
    let app = spawn_app().await;
    let opens = from_now(3600);
    let (owner, ann, test) = exam(&app, json!({"opens_at": opens})).await;
    assert_eq!(test["opens_at"], opens.as_str());
    assert_eq!(test["closes_at"], Value::Null);

    let link = format!("/api/tests/p/{}/", uuid(&test));
    let (status, body) = status_json(app.get(&link, Some(&ann.access)).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("not_open_yet"))
    );
    assert!(body["detail"].as_str().unwrap().contains(&opens), "{body}");
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("not_open_yet"))
    );
    assert_eq!(
        live_start_refused(&app, &ann, &test).await["code"],
        "not_open_yet"
    );
    assert!(completions_of(&app, &owner, &test).await.is_empty());
    // The teacher still previews it.
    assert_eq!(open(&app, &owner, &test).await, StatusCode::OK);

    let (_, list) = status_json(app.get("/api/users/me/tests/", Some(&ann.access)).await).await;
    assert_eq!(list[0]["opens_at"], opens.as_str());
    assert_eq!(list[0]["closes_at"], Value::Null);
}

#[tokio::test]
async fn a_closed_test_is_refused_on_every_path() {
    let app = spawn_app().await;
    let closes = from_now(-3600);
    let (owner, ann, test) = exam(
        &app,
        json!({"closes_at": closes, "time_limit_seconds": 600}),
    )
    .await;
    let link = format!("/api/tests/p/{}/", uuid(&test));
    let (status, body) = status_json(app.get(&link, Some(&ann.access)).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("closed"))
    );
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::FORBIDDEN, json!("closed"))
    );
    assert_eq!(
        live_start_refused(&app, &ann, &test).await["code"],
        "closed"
    );
    assert!(completions_of(&app, &owner, &test).await.is_empty());

    // Closing must come after opening.
    let path = format!("/api/tests/{}/", test["id"]);
    let patch = json!({"opens_at": from_now(0), "closes_at": from_now(-60)});
    let (status, errors) = status_json(
        app.request(
            reqwest::Method::PATCH,
            &path,
            Some(&owner.access),
            Some(&patch),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors["closes_at"],
        json!(["Ensure this is later than opens_at."])
    );
}

#[tokio::test]
async fn a_group_with_a_window_of_its_own_takes_the_test_after_it_closed_for_the_others() {
    let app = spawn_app().await;
    let (owner, ann, test) = exam(&app, json!({"closes_at": from_now(-3600)})).await;
    let bob = app.student("bob@school.org", owner.org.unwrap()).await;
    let later = app.group(&owner, "Later sitting", &[bob.id]).await;
    let allow = format!("/api/tests/{}/allow_for_group/", test["id"]);
    let closes = from_now(3600);
    let body = json!({"group": later, "opens_at": from_now(-60), "closes_at": closes});
    let (status, shown) = status_json(app.post(&allow, Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["group_windows"][0]["group"], later);
    assert_eq!(shown["group_windows"][0]["closes_at"], closes.as_str());

    assert_eq!(open(&app, &bob, &test).await, StatusCode::OK);
    let resp = app.submit(&bob, uuid(&test), paris(&test)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let (_, list) = status_json(app.get("/api/users/me/tests/", Some(&bob.access)).await).await;
    assert_eq!(list[0]["closes_at"], closes.as_str());
    assert_eq!(open(&app, &ann, &test).await, StatusCode::FORBIDDEN);

    // Allowed again without a window, the group follows the test's (closed) one.
    let (_, shown) = status_json(
        app.post(&allow, Some(&owner.access), &json!({"group": later}))
            .await,
    )
    .await;
    assert_eq!(shown["group_windows"], json!([]));
    assert_eq!(open(&app, &bob, &test).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_live_attempt_still_open_when_the_test_closes_is_submitted_by_the_server() {
    let app = spawn_app().await;
    let (owner, ann, test) = exam(&app, json!({"closes_at": from_now(5)})).await;
    let mut live = Live::connect(&app, &ann).await;
    let started = live
        .ask(json!({"type": "start", "test": uuid(&test)}), "attempt")
        .await;
    assert_eq!(started["attempt"]["deadline"], test["closes_at"]);
    let save = json!({"type": "save", "question": question_id(&test, 1),
                      "body": {"picked_variant": {"text": "Paris"}}});
    live.ask(save, "saved").await;
    let timed_out = live.expect("attempt_timed_out").await;
    assert_eq!(timed_out["completion"]["score"], 2);
    let list = completions_of(&app, &owner, &test).await;
    assert_eq!(list.len(), 1);
    assert!(list[0]["submitted_at"].as_str().unwrap() >= test["closes_at"].as_str().unwrap());
}

#[tokio::test]
async fn an_attempt_shown_over_rest_and_left_is_submitted_empty_when_the_test_is_opened_again() {
    let app = spawn_app_with(|s| s.time_limit_grace = Duration::ZERO).await;
    let (owner, ann, test) = exam(&app, json!({"time_limit_seconds": 1, "max_attempts": 2})).await;
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The expired attempt uses one of the two attempts (a fresh clock is not free)...
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let list = completions_of(&app, &owner, &test).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["score"], 0);
    // ...and the second one has started: submitted in time, it counts.
    let (status, body) = status_json(app.submit(&ann, uuid(&test), paris(&test)).await).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(completions_of(&app, &owner, &test).await.len(), 2);
    // No attempt left: the test is still shown, and a submission is refused.
    assert_eq!(open(&app, &ann, &test).await, StatusCode::OK);
    let resp = app.submit(&ann, uuid(&test), paris(&test)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(completions_of(&app, &owner, &test).await.len(), 2);
}
