//! Many writers at once: every request gets the 2xx or the 4xx it deserves (never a 5xx), and
//! no acknowledged write is lost. 32 concurrent writers per case, on whichever store the
//! suite runs.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{sample_test, spawn_app, status_json, Account, TestApp, PASSWORD};

const WRITERS: usize = 32;

/// The statuses of the responses, counted: `[(status, how many)]`, by status.
fn tally(statuses: &[StatusCode]) -> Vec<(u16, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for status in statuses {
        *counts.entry(status.as_u16()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// A non-code test (4 questions, plus the fields of `extra`) available to a group of
/// `students`; answers its teacher view.
async fn non_code_test(app: &TestApp, owner: &Account, students: &[i64], extra: Value) -> Value {
    let group = app.group(owner, "Class", students).await;
    let mut body = sample_test();
    body["questions"].as_array_mut().unwrap().pop(); // the code question
    body["available_for"] = json!([group]);
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.create_test(owner, &body).await
}

/// A student of a fresh app submits (empty answers) to a non-code test with the fields of
/// `extra`, `WRITERS` times at once; answers the app, the owner, the student, the test's
/// teacher view and the statuses.
async fn submit_all_at_once(extra: Value) -> (TestApp, Account, Account, Value, Vec<StatusCode>) {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let test = non_code_test(&app, &owner, &[student.id], extra).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    let submissions = (0..WRITERS).map(|_| app.submit(&student, uuid, json!([])));
    let statuses = join_all(submissions)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    (app, owner, student, test, statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_student_submitting_32_times_at_once_gets_32_numbered_completions() {
    let (app, _, student, _, statuses) = submit_all_at_once(json!({})).await;

    assert_eq!(tally(&statuses), vec![(201, WRITERS)]);
    let (status, mine) = status_json(
        app.get("/api/users/me/completions/", Some(&student.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), WRITERS, "{mine}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_32_simultaneous_submissions_exactly_max_attempts_are_accepted() {
    let (app, owner, _, test, statuses) = submit_all_at_once(json!({"max_attempts": 5})).await;

    assert_eq!(tally(&statuses), vec![(201, 5), (403, WRITERS - 5)]);
    let id = test["id"].as_i64().unwrap();
    let (_, all) = status_json(
        app.get(
            &format!("/api/tests/{id}/completions/"),
            Some(&owner.access),
        )
        .await,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 5, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_membership_changes_of_one_group_are_all_kept() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let org = owner.org.unwrap();
    let mut students = Vec::new();
    for i in 0..WRITERS {
        students.push(app.student(&format!("s{i}@school.org"), org).await.id);
    }
    // The first half starts in the group and is removed while the second half is added.
    let (leaving, joining) = students.split_at(WRITERS / 2);
    let group = app.group(&owner, "Class", leaving).await;

    let (app, owner) = (&app, &owner);
    let changes = students.iter().map(|&user| async move {
        let action = if leaving.contains(&user) {
            "remove_user"
        } else {
            "add_user"
        };
        let path = format!("/api/groups/{group}/{action}/");
        app.post(&path, Some(&owner.access), &json!({ "user": user }))
            .await
    });
    let statuses: Vec<StatusCode> = join_all(changes).await.iter().map(|r| r.status()).collect();
    assert_eq!(tally(&statuses), vec![(200, WRITERS)]);

    let (_, body) = status_json(
        app.get(&format!("/api/groups/{group}/"), Some(&owner.access))
            .await,
    )
    .await;
    let mut members: Vec<i64> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    members.sort_unstable();
    assert_eq!(members, joining.to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_edits_of_one_test_lose_no_group_access() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let test = non_code_test(&app, &owner, &[], json!({})).await;
    let id = test["id"].as_i64().unwrap();
    let mut groups = Vec::new();
    for i in 0..WRITERS / 2 {
        groups.push(app.group(&owner, &format!("G{i}"), &[]).await);
    }

    // Half the writers rename the test (a read-modify-write of the whole document), half
    // give a group access to it (an atomic add): all on the same document at once.
    let (app, owner) = (&app, &owner);
    let renames = (0..WRITERS / 2).map(|i| async move {
        let body = json!({ "name": format!("Name {i}") });
        let path = format!("/api/tests/{id}/");
        app.request(
            reqwest::Method::PATCH,
            &path,
            Some(&owner.access),
            Some(&body),
        )
        .await
    });
    let allows = groups.iter().map(|&group| async move {
        let path = format!("/api/tests/{id}/allow_for_group/");
        app.post(&path, Some(&owner.access), &json!({ "group": group }))
            .await
    });
    let (renamed, allowed) = tokio::join!(join_all(renames), join_all(allows));
    let statuses: Vec<StatusCode> = renamed.iter().chain(&allowed).map(|r| r.status()).collect();
    assert_eq!(tally(&statuses), vec![(200, WRITERS)]);

    let (_, after) = status_json(
        app.get(&format!("/api/tests/{id}/"), Some(&owner.access))
            .await,
    )
    .await;
    let available: Vec<i64> = after["available_for"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    for group in groups
        .iter()
        .chain([&test["available_for"][0]["id"].as_i64().unwrap()])
    {
        assert!(
            available.contains(group),
            "group {group} lost: {available:?}"
        );
    }
    assert!(after["name"].as_str().unwrap().starts_with("Name "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_32_simultaneous_signups_with_one_email_exactly_one_succeeds() {
    let app = spawn_app().await;
    let app = &app;
    let signups = (0..WRITERS).map(|i| async move {
        // The same address in different cases: emails are unique case-insensitively.
        let email = if i % 2 == 0 {
            "ann@example.org"
        } else {
            "ANN@example.org"
        };
        let body = json!({
            "email": email, "password": PASSWORD, "first_name": "Ann", "last_name": "Lee",
        });
        app.register(&body).await
    });
    let responses = join_all(signups).await;
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert_eq!(tally(&statuses), vec![(201, 1), (400, WRITERS - 1)]);
    for response in responses {
        if response.status() == StatusCode::BAD_REQUEST {
            let (_, body) = status_json(response).await;
            assert!(body["email"].is_array(), "{body}");
        }
    }
    assert_eq!(
        app.obtain_tokens("ann@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}
