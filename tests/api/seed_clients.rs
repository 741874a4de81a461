//! The seed documents' own clients, unchanged (issue 27): each test sends a request as the
//! document shows it and checks the answer against the document's field list and types.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, status_json, variant_id, Account, TestApp, PASSWORD,
};

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

/// `picked_variant.id` of every answer of a completion view, in the test's order.
fn picked_ids(c: &Value) -> Vec<Value> {
    let answers = c["answers"].as_array().unwrap().iter();
    answers
        .map(|a| a["body"]["picked_variant"]["id"].clone())
        .collect()
}

#[tokio::test]
async fn every_picked_variant_has_an_integer_id_and_the_question_never_grows() {
    let app = spawn_app().await;
    let variants =
        json!([{"text": "Paris", "is_correct": true}, {"text": "Lyon", "is_correct": false}]);
    let radio = json!([{"text": "3", "is_correct": false}, {"text": "4", "is_correct": true}]);
    let questions = json!([
        {"text": "Capital of France?", "type": "text", "number_in_test": 1, "points": 2,
         "body": {"variants": variants}},
        {"text": "2 + 2?", "type": "radio", "number_in_test": 2, "points": 1,
         "body": {"variants": radio}},
        {"text": "Largest city?", "type": "text", "number_in_test": 3, "points": 1,
         "body": {"variants": [{"text": "Paris", "is_correct": true}]}},
    ]);
    let (owner, student, test) = class_with_test(&app, questions).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    let q = |n: usize| test["questions"][n - 1]["id"].clone();
    // Seed 003 §1.1: `picked_variant {id* integer READ-ONLY, text* string}`; a client sends
    // the text of a text answer (the id is read-only).
    let submit = |first: &str, third: &str| {
        json!([
            {"question": q(1), "body": {"picked_variant": {"text": first}}},
            {"question": q(3), "body": {"picked_variant": {"text": third}}},
        ])
    };
    let (status, c) = status_json(
        app.submit(&student, uuid, submit("PARIS", "Marseille"))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let ids = picked_ids(&c);
    // A match in any case is the variant; no match is the answer's own id; the unanswered
    // radio question is 0.
    assert_eq!(ids[0], variant_id(&test, 1, "Paris"), "{c}");
    assert_eq!(ids[1], 0, "{c}");
    let own = ids[2].as_i64().expect("an integer");
    let every_variant: Vec<Value> = test["questions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["body"]["variants"].as_array().unwrap().clone())
        .map(|v| v["id"].clone())
        .collect();
    assert!(
        own > 0 && !every_variant.contains(&ids[2]),
        "{own} {every_variant:?}"
    );
    assert_eq!(
        c["answers"][2]["body"]["picked_variant"]["text"],
        "Marseille"
    );

    // The same id in every view, every time; another answer gets another id.
    let id = c["id"].as_i64().unwrap();
    let (_, again) = status_json(
        app.get(&format!("/api/completions/{id}/"), Some(&student.access))
            .await,
    )
    .await;
    let path = format!("/api/completions/{id}/with_correctness/");
    let (_, graded) = status_json(app.get(&path, Some(&owner.access)).await).await;
    let (_, mine) = status_json(
        app.get("/api/users/me/completions/", Some(&student.access))
            .await,
    )
    .await;
    for view in [&again, &graded, &mine[0]] {
        assert_eq!(picked_ids(view), ids, "{view}");
    }
    let (_, other) = status_json(
        app.submit(&student, uuid, submit("lyon", "Marseille"))
            .await,
    )
    .await;
    let other_ids = picked_ids(&other);
    assert_eq!(other_ids[0], variant_id(&test, 1, "Lyon"));
    assert!(other_ids[2].is_i64() && other_ids[2] != ids[2], "{other}");

    // The question is as the teacher wrote it: no variant was added.
    let path = format!("/api/tests/{}/", test["id"]);
    let (_, now) = status_json(app.get(&path, Some(&owner.access)).await).await;
    assert_eq!(now["questions"], test["questions"]);
}

#[tokio::test]
async fn http_basic_signs_in_on_seed_003s_routes_under_the_sign_in_limits() {
    let app = spawn_app_with(|s| s.throttle.failures_per_account = 3).await;
    let owner = app.owner("ann@seed.test").await;
    let doc = crate::schema::schema(&app).await;
    // Seed 003's security schemes: `basicAuth  http, basic`, offered on its operations.
    assert_eq!(
        doc["components"]["securitySchemes"]["basicAuth"]["scheme"],
        "basic"
    );
    let security = &doc["paths"]["/api/users/me"]["get"]["security"];
    assert!(
        security
            .as_array()
            .unwrap()
            .contains(&json!({"basicAuth": []})),
        "{security}"
    );

    let (status, me) = status_json(
        app.with_basic(Method::GET, "/api/users/me", &owner.email, PASSWORD)
            .await,
    )
    .await;
    assert_eq!(
        (status, &me["id"]),
        (StatusCode::OK, &json!(owner.id)),
        "{me}"
    );
    let (status, tests) = status_json(
        app.with_basic(Method::GET, "/api/tests/", &owner.email, PASSWORD)
            .await,
    )
    .await;
    assert_eq!((status, tests), (StatusCode::OK, json!([])));

    // Credentials that fail are said to have failed, not to be missing.
    let wrong = app
        .with_basic(Method::GET, "/api/users/me", &owner.email, "wrong horse")
        .await;
    let (status, body) = status_json(wrong).await;
    let failed = json!({"detail": "Invalid username/password.", "code": "authentication_failed"});
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, failed.clone()));
    let unknown = app
        .with_basic(Method::GET, "/api/groups/", "nobody@seed.test", PASSWORD)
        .await;
    assert_eq!(
        status_json(unknown).await,
        (StatusCode::UNAUTHORIZED, failed)
    );

    // Each failure counts as a failed sign-in of the login, at every door: two more make
    // three, the limit; the fourth is one too many, and then the password doors and Basic
    // refuse even the right password.
    for _ in 0..2 {
        let resp = app
            .with_basic(Method::GET, "/api/users/me", &owner.email, "wrong horse")
            .await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app
        .with_basic(Method::GET, "/api/users/me", &owner.email, "wrong horse")
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let resp = app
        .with_basic(Method::GET, "/api/users/me", &owner.email, PASSWORD)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let (status, body) = status_json(app.obtain_tokens(&owner.email, PASSWORD).await).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::TOO_MANY_REQUESTS, &json!("throttled"))
    );
    // The bearer token still works: the lock is on guessing the password.
    let resp = app.get("/api/users/me", Some(&owner.access)).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn http_basic_is_no_credential_where_no_document_lists_it() {
    let app = spawn_app().await;
    let owner = app.owner("ann@seed.test").await;
    // Seed 001's permissions catalog takes `Token <key>` (and JWTs), not Basic.
    let resp = app
        .with_basic(Method::GET, "/api/permissions/", &owner.email, PASSWORD)
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("not_authenticated"))
    );
    // A Basic header that is no `login:password` pair is a failed credential, said so.
    let resp = app
        .client
        .get(app.url("/api/users/me"))
        .header("Authorization", "Basic not-base64!")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("authentication_failed"))
    );
}

#[tokio::test]
async fn an_account_signed_up_without_an_email_shows_an_empty_string_at_every_door() {
    let app = spawn_app().await;
    // Seed 001's sign-up example, without the optional email (and with a password of the
    // one policy: the documented `s3cret` is a deliberate 400).
    let kaveh = json!({"first_name": "kaveh", "last_name": "mehrbanian", "username": "kavehkm",
                       "password": PASSWORD});
    let (status, user) = status_json(app.sign_up(&kaveh).await).await;
    assert_eq!(
        (status, &user["email"]),
        (StatusCode::CREATED, &json!("")),
        "{user}"
    );
    // A second account without an email: absent in the store, so no clash on "".
    let mut other = kaveh.clone();
    other["username"] = json!("someone_else");
    assert_eq!(app.sign_up(&other).await.status(), StatusCode::CREATED);

    let (status, signed) = status_json(app.sign_in("kavehkm", PASSWORD).await).await;
    assert_eq!(
        (status, &signed["email"]),
        (StatusCode::OK, &json!("")),
        "{signed}"
    );
    let key = signed["token"].as_str().unwrap();
    let id = signed["id"].as_i64().unwrap();
    for path in [
        format!("/api/users/{id}"),
        "/api/users/me".to_owned(),
        format!("/api/v1/accounts/users/{id}/"),
        format!("/api/v1/user/{id}/"),
    ] {
        let resp = app.with_key(Method::GET, &path, Some(key), None).await;
        let (status, shown) = status_json(resp).await;
        assert_eq!(
            (status, &shown["email"]),
            (StatusCode::OK, &json!("")),
            "{path}: {shown}"
        );
    }
    let (_, listed) = status_json(
        app.with_key(Method::GET, "/api/users", Some(key), None)
            .await,
    )
    .await;
    assert_eq!(listed[0]["email"], "", "{listed}");
}

#[tokio::test]
async fn the_readme_rules_that_differ_from_seed_003_are_what_the_server_does() {
    let app = spawn_app().await;
    let owner = app.owner("owner@seed.test").await;
    let teacher = app.teacher_of(&owner, "teacher@seed.test").await;
    let bystander = app.teacher_of(&owner, "bystander@seed.test").await;
    let student = app.student("student@seed.test", owner.org.unwrap()).await;
    let group = app.group(&teacher, "Class", &[student.id]).await;
    let mut body = crate::helpers::sample_test();
    body["available_for"] = json!([group]);
    let test = app.create_test(&teacher, &body).await;
    let uuid = test["public_uuid"].as_str().unwrap();

    // §4.1 "List all tests created by current teacher": the owner lists every teacher's.
    let (_, listed) = status_json(app.get("/api/tests/", Some(&owner.access)).await).await;
    assert_eq!(listed[0]["id"], test["id"], "{listed}");
    let (_, theirs) = status_json(app.get("/api/tests/", Some(&bystander.access)).await).await;
    assert_eq!(theirs, json!([]));

    // §4.9, the student view: also a preview for the test's teachers, without correctness.
    let link = format!("/api/tests/p/{uuid}/");
    for who in [&teacher, &owner, &student] {
        let (status, view) = status_json(app.get(&link, Some(&who.access)).await).await;
        assert_eq!(status, StatusCode::OK, "{}: {view}", who.email);
        assert!(!view.to_string().contains("is_correct"), "{view}");
    }
    let (status, _) = status_json(app.get(&link, Some(&bystander.access)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // §5.7 "students only!": a teacher gets their own completions, none.
    let mine = "/api/users/me/completions/";
    assert_eq!(
        status_json(app.get(mine, Some(&teacher.access)).await).await,
        (StatusCode::OK, json!([]))
    );
}

#[tokio::test]
async fn the_xlsx_export_takes_http_basic_too() {
    let app = spawn_app().await;
    let owner = app.owner("owner@seed.test").await;
    let test = app
        .create_test(&owner, &crate::helpers::sample_test())
        .await;
    let path = format!("/api/tests/{}/completions/export/", test["id"]);
    let resp = app
        .with_basic(Method::GET, &path, &owner.email, PASSWORD)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .with_basic(Method::GET, &path, &owner.email, "wrong horse")
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, &body["detail"]),
        (
            StatusCode::UNAUTHORIZED,
            &json!("Invalid username/password.")
        )
    );
}
