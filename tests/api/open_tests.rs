//! `GET /api/users/me/tests/`: the tests open to the caller.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{sample_test, spawn_app, status_json, Account, TestApp, PASSWORD};

/// Creates a test named `name` as `teacher`, available for `groups`; answers its view.
async fn test_for(app: &TestApp, teacher: &Account, name: &str, groups: &[i64]) -> Value {
    let mut body = sample_test();
    body["name"] = json!(name);
    body["available_for"] = json!(groups);
    app.create_test(teacher, &body).await
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_student_sees_the_tests_of_each_of_their_groups_once_in_id_order() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let org = owner.org.unwrap();
    let teacher = app.teacher_of(&owner, "teacher@school.org").await;
    let student = app.student("s@school.org", org).await;
    let other = app.student("other@school.org", org).await;
    let first = app.group(&owner, "First", &[student.id]).await;
    let second = app.group(&teacher, "Second", &[student.id, other.id]).await;
    let third = app.group(&owner, "Third", &[other.id]).await;

    let one = test_for(&app, &owner, "One", &[first]).await;
    test_for(&app, &owner, "Not theirs", &[third]).await;
    test_for(&app, &teacher, "Two", &[second]).await;
    test_for(&app, &owner, "Nobody's", &[]).await;
    test_for(&app, &teacher, "Both", &[first, second]).await;
    // Another organization's test, open to a group of its own.
    let stranger = app.owner("stranger@elsewhere.org").await;
    let outsider = app
        .student("outsider@elsewhere.org", stranger.org.unwrap())
        .await;
    let far = app.group(&stranger, "Far", &[outsider.id]).await;
    test_for(&app, &stranger, "Elsewhere", &[far]).await;

    let (status, list) =
        status_json(app.get("/api/users/me/tests/", Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), ["One", "Two", "Both"]);
    let first_listed = &list[0];
    assert_eq!(first_listed["id"], one["id"]);
    assert_eq!(first_listed["public_uuid"], one["public_uuid"]);
    assert_eq!(first_listed["questions"], json!(5));
    assert_eq!(first_listed["time_limit_seconds"], json!(null));
    assert_eq!(first_listed["max_attempts"], json!(null));
    assert_eq!(first_listed["attempts_used"], json!(0));
    // The summary, not the student view: no questions, nothing of the teacher's.
    let keys: Vec<&str> = first_listed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 9, "{first_listed}");
    assert_eq!(
        (&first_listed["opens_at"], &first_listed["closes_at"]),
        (&json!(null), &json!(null))
    );

    let (_, list) = status_json(app.get("/api/users/me/tests/", Some(&other.access)).await).await;
    assert_eq!(names(&list), ["Not theirs", "Two", "Both"]);
    let (_, list) = status_json(
        app.get("/api/users/me/tests/", Some(&outsider.access))
            .await,
    )
    .await;
    assert_eq!(names(&list), ["Elsewhere"]);

    // Every listed test opens by its link.
    for test in list_of(&app, &student).await {
        let link = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
        assert_eq!(
            app.get(&link, Some(&student.access)).await.status(),
            StatusCode::OK
        );
    }
}

async fn list_of(app: &TestApp, who: &Account) -> Vec<Value> {
    let (status, list) =
        status_json(app.get("/api/users/me/tests/", Some(&who.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().clone()
}

#[tokio::test]
async fn attempts_used_and_limits_follow_the_student() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "A", &[student.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    body["time_limit_seconds"] = json!(600);
    body["max_attempts"] = json!(2);
    let test = app.create_test(&owner, &body).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    // A timed test is submitted over REST once it was shown (its clock started).
    let link = format!("/api/tests/p/{uuid}/");
    assert_eq!(
        app.get(&link, Some(&student.access)).await.status(),
        StatusCode::OK
    );
    let resp = app.submit(&student, uuid, json!([])).await;
    assert_eq!(
        resp.status(),
        StatusCode::CREATED,
        "{}",
        resp.text().await.unwrap()
    );

    let list = list_of(&app, &student).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            &list[0]["time_limit_seconds"],
            &list[0]["max_attempts"],
            &list[0]["attempts_used"]
        ),
        (&json!(600), &json!(2), &json!(1))
    );

    // Taken out of the group, the test is no longer open to them.
    let path = format!("/api/tests/{}/disallow_for_group/", test["id"]);
    let resp = app
        .post(&path, Some(&owner.access), &json!({"group": group}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(list_of(&app, &student).await.is_empty());
}

#[tokio::test]
async fn a_teacher_in_no_group_sees_none_and_strangers_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    test_for(&app, &owner, "Mine", &[]).await;
    assert!(list_of(&app, &owner).await.is_empty());
    let loner = app.user("loner@nowhere.org", false, None).await;
    assert!(list_of(&app, &loner).await.is_empty());

    let resp = app.get("/api/users/me/tests/", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().contains_key("www-authenticate"));
    let resp = app.get("/api/users/me/tests/", Some("not-a-token")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_api_key_works_and_a_page_can_be_asked_for() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "A", &[student.id]).await;
    for name in ["One", "Two", "Three"] {
        test_for(&app, &owner, name, &[group]).await;
    }

    let (status, signed) = status_json(app.sign_in("s@school.org", PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let key = signed["token"].as_str().unwrap();
    let (status, list) = status_json(
        app.with_key(Method::GET, "/api/users/me/tests/", Some(key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(names(&list), ["One", "Two", "Three"]);

    let (status, page) = status_json(
        app.get(
            "/api/users/me/tests/?limit=1&offset=1",
            Some(&student.access),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], json!(3));
    assert_eq!(names(&page["results"]), ["Two"]);
    assert!(page["next"].is_string() && page["previous"].is_string());
}
