//! Data and tokens survive a restart of the server, on whichever store the suite runs.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{question_id, spawn_app, status_json, PASSWORD};

#[tokio::test]
async fn users_groups_and_tokens_survive_a_restart() {
    let mut app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Class A", &[student.id]).await;

    app.restart().await;

    // The generated JWT secret was kept, so the old token still works.
    let (status, me) = status_json(app.get("/api/users/me", Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["organization"]["id"], Value::from(owner.org));
    let (status, body) = status_json(
        app.get(&format!("/api/groups/{group}/"), Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["members"][0]["id"], student.id);
    assert_eq!(
        app.obtain_tokens("s@school.org", PASSWORD).await.status(),
        StatusCode::OK
    );
    // New ids do not reuse old ones.
    let newcomer = app.student("new@school.org", owner.org.unwrap()).await;
    assert!(newcomer.id > student.id);
}

#[tokio::test]
async fn tests_and_completions_survive_a_restart() {
    let mut app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    let answers = serde_json::json!([
        {"question": question_id(&test, 1), "body": {"picked_variant": {"text": "Paris"}}}
    ]);
    let (status, completion) = status_json(app.submit(&student, uuid, answers).await).await;
    assert_eq!(status, StatusCode::CREATED);

    app.restart().await;

    let path = format!("/api/tests/{}/", test["id"]);
    let (status, again) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, test);
    let path = format!("/api/completions/{}/", completion["id"]);
    let (status, stored) = status_json(app.get(&path, Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored, completion);
    assert_eq!(stored["score"], 2);
}
