//! Time limits and attempt limits on tests (REST).

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{sample_test, spawn_app, status_json};

#[tokio::test]
async fn limits_are_set_shown_and_cleared() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "A", &[student.id]).await;
    let mut body = sample_test();
    body["time_limit_seconds"] = json!(600);
    body["max_attempts"] = json!(2);
    body["available_for"] = json!([group]);
    let test = app.create_test(&owner, &body).await;
    assert_eq!(
        (
            test["time_limit_seconds"].as_i64(),
            test["max_attempts"].as_i64()
        ),
        (Some(600), Some(2))
    );

    let link = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
    let (_, view) = status_json(app.get(&link, Some(&student.access)).await).await;
    assert_eq!(
        (
            view["time_limit_seconds"].as_i64(),
            view["max_attempts"].as_i64()
        ),
        (Some(600), Some(2))
    );

    let path = format!("/api/tests/{}/", test["id"]);
    let patch = json!({"time_limit_seconds": null});
    let (status, test) = status_json(
        app.request(Method::PATCH, &path, Some(&owner.access), Some(&patch))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            test["time_limit_seconds"].clone(),
            test["max_attempts"].as_i64()
        ),
        (json!(null), Some(2))
    );
}

#[tokio::test]
async fn limits_must_be_positive_and_bounded() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let mut body = sample_test();
    body["time_limit_seconds"] = json!(0);
    body["max_attempts"] = json!(100000);
    let (status, errors) =
        status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors["time_limit_seconds"],
        json!(["Ensure this value is between 1 and 604800."])
    );
    assert_eq!(
        errors["max_attempts"],
        json!(["Ensure this value is between 1 and 1000."])
    );
}

#[tokio::test]
async fn a_student_cannot_submit_more_than_max_attempts_even_all_at_once() {
    let app = Arc::new(spawn_app().await);
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "A", &[student.id]).await;
    let mut body = sample_test();
    body["max_attempts"] = json!(2);
    body["available_for"] = json!([group]);
    let test = app.create_test(&owner, &body).await;
    let uuid = test["public_uuid"].as_str().unwrap().to_owned();

    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (app, student, uuid) = (app.clone(), student.clone(), uuid.clone());
            tokio::spawn(
                async move { status_json(app.submit(&student, &uuid, json!([])).await).await },
            )
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::FORBIDDEN => {
                assert_eq!(body["detail"], "You have used all 2 attempts at this test.")
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(created, 2);
    let (_, mine) = status_json(
        app.get("/api/users/me/completions/", Some(&student.access))
            .await,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
}
