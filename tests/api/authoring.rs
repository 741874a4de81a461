//! `/api/tests/…`: authoring, validation, views, group access and public links.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{question_id, sample_test, spawn_app, status_json, variant_id};

fn one_question(question: Value) -> Value {
    json!({"name": "T", "questions": [question]})
}

fn radio(variants: Value) -> Value {
    one_question(
        json!({"text": "Pick", "type": "radio", "points": 1, "body": {"variants": variants}}),
    )
}

#[tokio::test]
async fn a_teacher_creates_a_test_and_reads_it_back() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let test = app.create_test(&owner, &sample_test()).await;

    assert_eq!(test["name"], "Sample");
    assert_eq!(test["creator"], owner.id);
    assert_eq!(test["available_for"], json!([]));
    let uuid = test["public_uuid"].as_str().unwrap();
    assert!(
        uuid.len() >= 8 && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
        "{uuid}"
    );
    let questions = test["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 5);
    assert_eq!(questions[1]["type"], "radio");
    assert_eq!(questions[1]["test"], test["id"]);
    assert_eq!(
        questions[1]["body"]["variants"][1],
        json!({"id": variant_id(&test, 2, "4"), "text": "4", "is_correct": true})
    );
    assert_eq!(
        questions[4]["body"]["testing_code"],
        "assert add(1, 2) == 3"
    );
    assert_eq!(questions[3]["body"]["strict_score"], false);

    let (status, again) = status_json(
        app.get(&format!("/api/tests/{}/", test["id"]), Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, test);
}

#[tokio::test]
async fn questions_come_back_ordered_by_number_in_test() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let body = json!({"name": "T", "questions": [
        {"text": "second", "type": "code", "number_in_test": 2, "body": {"testing_code": "assert f() == 1"}},
        {"text": "first", "type": "code", "number_in_test": 1, "body": {"testing_code": "assert f() == 1"}},
    ]});
    let test = app.create_test(&owner, &body).await;
    assert_eq!(test["questions"][0]["text"], "first");
    assert_eq!(test["questions"][0]["points"], 1, "points default to 1");
}

#[tokio::test]
async fn read_only_and_unknown_fields_may_be_sent_or_left_out() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let mut body = sample_test();
    body["id"] = json!(77);
    body["creator"] = json!(12345);
    body["public_uuid"] = json!("chosen-by-client");
    body["colour"] = json!("blue");
    let test = app.create_test(&owner, &body).await;
    assert_ne!(test["id"], 77);
    assert_eq!(test["creator"], owner.id);
    assert_ne!(test["public_uuid"], "chosen-by-client");
}

#[tokio::test]
async fn a_radio_question_needs_exactly_one_correct_variant() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for variants in [
        json!([{"text": "a", "is_correct": true}, {"text": "b", "is_correct": true}]),
        json!([{"text": "a", "is_correct": false}]),
    ] {
        let (status, errors) = status_json(
            app.post("/api/tests/", Some(&owner.access), &radio(variants))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            errors["questions[0].body.variants"],
            json!(["A radio question needs exactly one correct variant."])
        );
    }
}

#[tokio::test]
async fn text_and_check_questions_need_a_correct_variant() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for kind in ["text", "check"] {
        let body = one_question(
            json!({"text": "Q", "type": kind, "body": {"variants": [{"text": "a", "is_correct": false}]}}),
        );
        let (status, errors) =
            status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}");
        assert!(
            errors["questions[0].body.variants"][0]
                .as_str()
                .unwrap()
                .contains("at least one correct"),
            "{errors}"
        );
    }
}

#[tokio::test]
async fn a_variant_must_say_whether_it_is_correct() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let body = radio(json!([{"text": "a", "is_correct": true}, {"text": "b"}]));
    let (status, errors) =
        status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        errors
            .get("questions[0].body.variants[1].is_correct")
            .is_some(),
        "{errors}"
    );
}

#[tokio::test]
async fn bad_questions_are_named_field_by_field() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let body = json!({"questions": [
        {"text": "", "type": "code", "points": 40000, "number_in_test": 1, "body": {"testing_code": "pass"}},
        {"text": "ok", "type": "essay", "number_in_test": 2},
        {"text": "ok", "type": "code", "number_in_test": 1, "body": {}},
        {"text": "ok", "type": "code", "number_in_test": -1, "body": {"testing_code": "pass"}},
    ]});
    let (status, errors) =
        status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors["name"], json!(["This field is required."]));
    assert_eq!(
        errors["questions[0].text"],
        json!(["This field may not be blank."])
    );
    assert_eq!(
        errors["questions[0].points"],
        json!(["Ensure this value is between 0 and 32767."])
    );
    assert_eq!(
        errors["questions[1].type"],
        json!(["\"essay\" is not a valid choice."])
    );
    assert_eq!(
        errors["questions[2].body.testing_code"],
        json!(["This field is required."])
    );
    assert!(errors["questions[2].number_in_test"][0]
        .as_str()
        .unwrap()
        .contains("already has number_in_test 1"));
    assert_eq!(
        errors["questions[3].number_in_test"],
        json!(["Ensure this value is between 0 and 32767."])
    );
}

#[tokio::test]
async fn students_cannot_use_the_teacher_endpoints() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = app.create_test(&owner, &sample_test()).await;
    let id = test["id"].as_i64().unwrap();
    let calls = [
        (Method::GET, "/api/tests/".to_owned()),
        (Method::POST, "/api/tests/".to_owned()),
        (Method::GET, format!("/api/tests/{id}/")),
        (Method::PATCH, format!("/api/tests/{id}/")),
        (Method::DELETE, format!("/api/tests/{id}/")),
        (Method::POST, format!("/api/tests/{id}/regenerate_uuid/")),
        (Method::GET, format!("/api/tests/{id}/completions/")),
        (Method::GET, format!("/api/tests/{id}/completions/export/")),
    ];
    for (method, path) in calls {
        let resp = app
            .request(
                method.clone(),
                &path,
                Some(&student.access),
                Some(&sample_test()),
            )
            .await;
        let (status, body) = status_json(resp).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(body["code"], "permission_denied");
        let anonymous = app
            .request(method.clone(), &path, None, None)
            .await
            .status();
        assert_eq!(
            anonymous,
            StatusCode::UNAUTHORIZED,
            "{method} {path} anonymously"
        );
    }
}

#[tokio::test]
async fn a_teacher_sees_their_own_tests_and_the_owner_sees_all() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let teacher = app.teacher_of(&owner, "t@school.org").await;
    let mine = app.create_test(&teacher, &sample_test()).await;
    let owners = app.create_test(&owner, &sample_test()).await;

    let (_, list) = status_json(app.get("/api/tests/", Some(&teacher.access)).await).await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect::<Vec<_>>(),
        vec![mine["id"].clone()]
    );
    let path = format!("/api/tests/{}/", owners["id"]);
    assert_eq!(
        app.get(&path, Some(&teacher.access)).await.status(),
        StatusCode::NOT_FOUND
    );

    let (_, list) = status_json(app.get("/api/tests/", Some(&owner.access)).await).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let path = format!("/api/tests/{}/", mine["id"]);
    assert_eq!(
        app.get(&path, Some(&owner.access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_organization_gets_404() {
    let app = spawn_app().await;
    let owner = app.owner("owner@one.org").await;
    let stranger = app.owner("owner@two.org").await;
    let test = app.create_test(&owner, &sample_test()).await;
    let id = test["id"].as_i64().unwrap();
    for path in [
        format!("/api/tests/{id}/"),
        format!("/api/tests/{id}/completions/"),
        format!("/api/tests/{id}/completions/export/"),
    ] {
        assert_eq!(
            app.get(&path, Some(&stranger.access)).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let p = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
    assert_eq!(
        app.get(&p, Some(&stranger.access)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_student_view_hides_correctness_text_answers_and_testing_code() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let path = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());

    let (status, view) = status_json(app.get(&path, Some(&student.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    let text = view.to_string();
    for secret in [
        "is_correct",
        "Paris",
        "testing_code",
        "assert add",
        "available_for",
    ] {
        assert!(
            !text.contains(secret),
            "student view leaks {secret}: {view}"
        );
    }
    assert_eq!(
        view["questions"][1]["body"]["variants"][1],
        json!({"id": variant_id(&test, 2, "4"), "text": "4"})
    );
    assert_eq!(view["questions"][0]["body"]["variants"], json!([]));
    assert_eq!(view["public_uuid"], test["public_uuid"]);
}

#[tokio::test]
async fn the_public_link_opens_only_for_groups_the_test_is_available_for() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let inside = app.student("in@school.org", owner.org.unwrap()).await;
    let outside = app.student("out@school.org", owner.org.unwrap()).await;
    let test = app.create_test(&owner, &sample_test()).await;
    let id = test["id"].as_i64().unwrap();
    let path = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
    assert_eq!(
        app.get(&path, Some(&inside.access)).await.status(),
        StatusCode::FORBIDDEN
    );

    let group = app.group(&owner, "A", &[inside.id]).await;
    let (status, updated) = status_json(
        app.post(
            &format!("/api/tests/{id}/allow_for_group/"),
            Some(&owner.access),
            &json!({"group": group}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        updated["available_for"],
        json!([{"id": group, "name": "A", "description": ""}])
    );
    assert_eq!(
        app.get(&path, Some(&inside.access)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&path, Some(&outside.access)).await.status(),
        StatusCode::FORBIDDEN
    );
    // The teacher may preview the link.
    assert_eq!(
        app.get(&path, Some(&owner.access)).await.status(),
        StatusCode::OK
    );

    let resp = app
        .post(
            &format!("/api/tests/{id}/disallow_for_group/"),
            Some(&owner.access),
            &json!({"group": group}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        app.get(&path, Some(&inside.access)).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn only_groups_of_the_organization_can_be_given_access() {
    let app = spawn_app().await;
    let owner = app.owner("owner@one.org").await;
    let other = app.owner("owner@two.org").await;
    let foreign = app.group(&other, "Theirs", &[]).await;
    let test = app.create_test(&owner, &sample_test()).await;
    let path = format!("/api/tests/{}/allow_for_group/", test["id"]);
    for body in [json!({"group": foreign}), json!({"group": 999}), json!({})] {
        let (status, errors) = status_json(app.post(&path, Some(&owner.access), &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(errors.get("group").is_some(), "{errors}");
    }
    let mut body = sample_test();
    body["available_for"] = json!([foreign]);
    let (status, errors) =
        status_json(app.post("/api/tests/", Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors.get("available_for").is_some());
}

#[tokio::test]
async fn regenerating_the_uuid_kills_the_old_link() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let old = test["public_uuid"].as_str().unwrap().to_owned();

    let (status, renewed) = status_json(
        app.post(
            &format!("/api/tests/{}/regenerate_uuid/", test["id"]),
            Some(&owner.access),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let new = renewed["public_uuid"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(
        app.get(&format!("/api/tests/p/{old}/"), Some(&student.access))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/tests/p/{new}/"), Some(&student.access))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_test_can_be_edited_keeping_question_and_variant_ids() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let test = app.create_test(&owner, &sample_test()).await;
    let path = format!("/api/tests/{}/", test["id"]);

    // PUT the teacher view back with one change: ids sent back are kept.
    let mut body = test.clone();
    body["name"] = json!("Renamed");
    body["questions"][1]["points"] = json!(4);
    let (status, edited) = status_json(
        app.request(Method::PUT, &path, Some(&owner.access), Some(&body))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["name"], "Renamed");
    assert_eq!(edited["questions"][1]["points"], 4);
    assert_eq!(question_id(&edited, 2), question_id(&test, 2));
    assert_eq!(variant_id(&edited, 2, "4"), variant_id(&test, 2, "4"));

    let (status, patched) = status_json(
        app.request(
            Method::PATCH,
            &path,
            Some(&owner.access),
            Some(&json!({"name": "Again"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            patched["name"].as_str(),
            patched["questions"].as_array().unwrap().len()
        ),
        (Some("Again"), 5)
    );

    let (status, errors) = status_json(
        app.request(
            Method::PUT,
            &path,
            Some(&owner.access),
            Some(&json!({"name": "No questions"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors["questions"], json!(["This field is required."]));
}

#[tokio::test]
async fn a_deleted_test_is_gone_for_teachers_and_students() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let path = format!("/api/tests/{}/", test["id"]);
    let resp = app
        .request(Method::DELETE, &path, Some(&owner.access), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&path, Some(&owner.access)).await.status(),
        StatusCode::NOT_FOUND
    );
    let p = format!("/api/tests/p/{}/", test["public_uuid"].as_str().unwrap());
    assert_eq!(
        app.get(&p, Some(&student.access)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn test_lists_paginate() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    for _ in 0..3 {
        app.create_test(&owner, &sample_test()).await;
    }
    let (status, page) =
        status_json(app.get("/api/tests/?limit=2", Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 3);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(page["next"]
        .as_str()
        .unwrap()
        .ends_with("/api/tests/?limit=2&offset=2"));
}
