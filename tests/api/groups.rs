//! `/api/groups/…`: groups are scoped to the caller's organization; teachers change them,
//! students only see the groups they are in.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, Account, TestApp};

type Answer = (StatusCode, Value);

async fn call(app: &TestApp, method: Method, path: &str, who: &Account, body: Value) -> Answer {
    let body = (!body.is_null()).then_some(body);
    status_json(
        app.request(method, path, Some(&who.access), body.as_ref())
            .await,
    )
    .await
}

async fn get(app: &TestApp, path: &str, who: &Account) -> Answer {
    call(app, Method::GET, path, who, Value::Null).await
}

async fn create(app: &TestApp, who: &Account, body: Value) -> Answer {
    call(app, Method::POST, "/api/groups/", who, body).await
}

async fn delete(app: &TestApp, group: i64, who: &Account) -> Answer {
    call(app, Method::DELETE, &group_path(group), who, Value::Null).await
}

/// `POST /api/groups/{group}/{action}/` with `{"user": user}`.
async fn membership(app: &TestApp, who: &Account, group: i64, action: &str, user: Value) -> Answer {
    let path = format!("/api/groups/{group}/{action}/");
    call(app, Method::POST, &path, who, json!({"user": user})).await
}

fn group_path(id: i64) -> String {
    format!("/api/groups/{id}/")
}

fn member_ids(group: &Value) -> Vec<i64> {
    let members = group["members"].as_array().expect("a members list");
    members.iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

fn names(groups: &Value) -> Vec<&str> {
    let groups = groups.as_array().expect("a list of groups");
    groups.iter().map(|g| g["name"].as_str().unwrap()).collect()
}

fn invalid_pk(field: &str, id: i64) -> Answer {
    let message = format!("Invalid pk \"{id}\" - object does not exist.");
    (StatusCode::BAD_REQUEST, json!({ field: [message] }))
}

fn not_found() -> Answer {
    (
        StatusCode::NOT_FOUND,
        json!({"detail": "Not found.", "code": "not_found"}),
    )
}

fn forbidden() -> Answer {
    let detail = "Only teachers of the organization can change its groups.";
    (
        StatusCode::FORBIDDEN,
        json!({"detail": detail, "code": "permission_denied"}),
    )
}

#[tokio::test]
async fn every_groups_endpoint_needs_authentication() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "G", &[]).await;
    let calls = [
        (Method::GET, "/api/groups/".to_owned()),
        (Method::POST, "/api/groups/".to_owned()),
        (Method::GET, group_path(group)),
        (Method::DELETE, group_path(group)),
        (Method::POST, format!("/api/groups/{group}/add_user/")),
        (Method::POST, format!("/api/groups/{group}/remove_user/")),
    ];
    let body = json!({"name": "X", "user": owner.id});
    let expected = json!({"detail": "Authentication credentials were not provided.", "code": "not_authenticated"});
    for (method, path) in calls {
        let resp = app.request(method.clone(), &path, None, Some(&body)).await;
        let answer = status_json(resp).await;
        assert_eq!(
            answer,
            (StatusCode::UNAUTHORIZED, expected.clone()),
            "{method} {path}"
        );
    }
    let (status, body) = status_json(app.get("/api/groups/", Some("not-a-jwt")).await).await;
    assert_eq!(
        (status, &body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_not_valid"))
    );
}

#[tokio::test]
async fn a_teacher_creates_a_group_with_members() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let body =
        json!({"name": "  9A  ", "description": "Morning", "members": [student.id, owner.id]});
    let (status, group) = create(&app, &owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let id = group["id"].as_i64().expect("an id");
    assert_eq!(
        (&group["name"], &group["description"]),
        (&json!("9A"), &json!("Morning"))
    );
    let first = json!({"id": student.id, "email": "student@example.com", "first_name": "First",
                       "last_name": "Last", "photo": null, "is_teacher": false});
    assert_eq!(group["members"][0], first);
    assert_eq!(
        (
            &group["members"][1]["id"],
            &group["members"][1]["is_teacher"]
        ),
        (&json!(owner.id), &json!(true))
    );
    assert_eq!(
        get(&app, &group_path(id), &owner).await,
        (StatusCode::OK, group)
    );
}

#[tokio::test]
async fn description_and_members_may_be_omitted_and_members_may_be_objects() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let (status, bare) = create(&app, &owner, json!({"name": "Bare"})).await;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    assert_eq!(
        (&bare["description"], &bare["members"]),
        (&json!(""), &json!([]))
    );

    let members = json!([{"id": student.id, "email": "ignored@example.com"}, student.id]);
    let (status, group) =
        create(&app, &owner, json!({"name": "Objects", "members": members})).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(member_ids(&group), vec![student.id]);
    assert_eq!(group["members"][0]["email"], "student@example.com");
}

#[tokio::test]
async fn a_group_needs_a_valid_name_and_members_of_the_organization() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let other = app.owner("other@example.com").await;
    let outsider = app
        .student("outsider@example.com", other.org.unwrap())
        .await;
    let refusals = [
        (json!({}), json!({"name": ["This field is required."]})),
        (
            json!({"name": "  "}),
            json!({"name": ["This field may not be blank."]}),
        ),
        (
            json!({"name": "x".repeat(151)}),
            json!({"name": ["Ensure this field has no more than 150 characters."]}),
        ),
    ];
    for (body, expected) in refusals {
        assert_eq!(
            create(&app, &owner, body.clone()).await,
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    let body = json!({"name": "G", "members": [outsider.id]});
    assert_eq!(
        create(&app, &owner, body).await,
        invalid_pk("members", outsider.id)
    );
    assert_eq!(
        get(&app, "/api/groups/", &owner).await,
        (StatusCode::OK, json!([]))
    );
}

#[tokio::test]
async fn a_student_cannot_create_a_group() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let body = json!({"name": "Mine", "members": [student.id]});
    assert_eq!(create(&app, &student, body).await, forbidden());
    assert_eq!(
        get(&app, "/api/groups/", &owner).await,
        (StatusCode::OK, json!([]))
    );
}

#[tokio::test]
async fn a_teacher_sees_every_group_of_their_organization_and_no_other() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let teacher = app.teacher_of(&owner, "teacher@example.com").await;
    let other = app.owner("other@example.com").await;
    app.group(&owner, "By owner", &[]).await;
    app.group(&teacher, "By teacher", &[]).await;
    app.group(&other, "Elsewhere", &[]).await;

    for who in [&owner, &teacher] {
        let (status, groups) = get(&app, "/api/groups/", who).await;
        assert_eq!(
            (status, names(&groups)),
            (StatusCode::OK, vec!["By owner", "By teacher"]),
            "{}",
            who.email
        );
    }
    let (_, groups) = get(&app, "/api/groups/", &other).await;
    assert_eq!(names(&groups), vec!["Elsewhere"]);
}

#[tokio::test]
async fn a_student_sees_only_the_groups_they_are_in_with_only_themself_as_member() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let alice = app.student("alice@example.com", owner.org.unwrap()).await;
    let bob = app.student("bob@example.com", owner.org.unwrap()).await;
    let shared = app
        .group(&owner, "Shared", &[alice.id, bob.id, owner.id])
        .await;
    app.group(&owner, "Bob only", &[bob.id]).await;

    let (status, groups) = get(&app, "/api/groups/", &alice).await;
    assert_eq!((status, names(&groups)), (StatusCode::OK, vec!["Shared"]));
    assert_eq!(member_ids(&groups[0]), vec![alice.id]);
    let (status, group) = get(&app, &group_path(shared), &alice).await;
    assert_eq!(
        (status, member_ids(&group)),
        (StatusCode::OK, vec![alice.id])
    );
    let (_, group) = get(&app, &group_path(shared), &owner).await;
    assert_eq!(member_ids(&group), vec![alice.id, bob.id, owner.id]);
}

#[tokio::test]
async fn a_group_is_not_found_by_other_organizations_or_students_outside_it() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let other = app.owner("other@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let outsider = app
        .student("outsider@example.com", other.org.unwrap())
        .await;
    let group = app.group(&owner, "G", &[]).await;

    for who in [&other, &student] {
        assert_eq!(
            get(&app, &group_path(group), who).await,
            not_found(),
            "{}",
            who.email
        );
    }
    assert_eq!(
        membership(&app, &other, group, "add_user", json!(outsider.id)).await,
        not_found()
    );
    assert_eq!(
        get(&app, &group_path(group + 1000), &owner).await,
        not_found()
    );
}

#[tokio::test]
async fn a_deleted_group_is_gone() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "G", &[]).await;
    assert_eq!(
        delete(&app, group, &owner).await,
        (StatusCode::NO_CONTENT, Value::Null)
    );
    assert_eq!(get(&app, &group_path(group), &owner).await, not_found());
    assert_eq!(
        get(&app, "/api/groups/", &owner).await,
        (StatusCode::OK, json!([]))
    );
    assert_eq!(delete(&app, group, &owner).await, not_found());
}

#[tokio::test]
async fn only_teachers_of_the_organization_can_delete_a_group() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let other = app.owner("other@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let group = app.group(&owner, "G", &[student.id]).await;

    assert_eq!(delete(&app, group, &student).await, forbidden());
    assert_eq!(delete(&app, group, &other).await, not_found());
    let (status, body) = get(&app, &group_path(group), &owner).await;
    assert_eq!(
        (status, member_ids(&body)),
        (StatusCode::OK, vec![student.id])
    );
}

#[tokio::test]
async fn adding_and_removing_a_user_is_idempotent() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let group = app.group(&owner, "G", &[]).await;

    for _ in 0..2 {
        let (status, body) = membership(&app, &owner, group, "add_user", json!(student.id)).await;
        assert_eq!(
            (status, body["id"].as_i64()),
            (StatusCode::OK, Some(group)),
            "{body}"
        );
        assert_eq!(member_ids(&body), vec![student.id]);
        assert_eq!(body["members"][0]["email"], "student@example.com");
    }
    for _ in 0..2 {
        let (status, body) =
            membership(&app, &owner, group, "remove_user", json!(student.id)).await;
        assert_eq!(
            (status, &body["members"]),
            (StatusCode::OK, &json!([])),
            "{body}"
        );
    }
    let (_, body) = get(&app, &group_path(group), &owner).await;
    assert_eq!(body["members"], json!([]));
}

#[tokio::test]
async fn membership_changes_need_a_user_of_the_organization() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let other = app.owner("other@example.com").await;
    let outsider = app
        .student("outsider@example.com", other.org.unwrap())
        .await;
    let group = app.group(&owner, "G", &[]).await;
    let required = (
        StatusCode::BAD_REQUEST,
        json!({"user": ["This field is required."]}),
    );

    for action in ["add_user", "remove_user"] {
        let answer = membership(&app, &owner, group, action, json!(outsider.id)).await;
        assert_eq!(answer, invalid_pk("user", outsider.id), "{action}");
        let path = format!("/api/groups/{group}/{action}/");
        assert_eq!(
            call(&app, Method::POST, &path, &owner, json!({})).await,
            required,
            "{action}"
        );
    }
    let (_, body) = get(&app, &group_path(group), &owner).await;
    assert_eq!(body["members"], json!([]));
}

#[tokio::test]
async fn a_student_member_cannot_change_memberships() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let friend = app.student("friend@example.com", owner.org.unwrap()).await;
    let group = app.group(&owner, "G", &[student.id]).await;

    for (action, user) in [("add_user", friend.id), ("remove_user", student.id)] {
        assert_eq!(
            membership(&app, &student, group, action, json!(user)).await,
            forbidden(),
            "{action}"
        );
    }
    let (_, body) = get(&app, &group_path(group), &owner).await;
    assert_eq!(member_ids(&body), vec![student.id]);
}

#[tokio::test]
async fn a_user_can_be_added_with_a_form_encoded_body() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let group = app.group(&owner, "G", &[]).await;
    let resp = app
        .client
        .post(app.url(&format!("/api/groups/{group}/add_user/")))
        .bearer_auth(&owner.access)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("user={}", student.id))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, member_ids(&body)),
        (StatusCode::OK, vec![student.id]),
        "{body}"
    );
}

#[tokio::test]
async fn concurrent_additions_keep_every_member() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "G", &[]).await;
    let mut students = Vec::new();
    for i in 0..10 {
        students.push(
            app.student(&format!("student{i}@example.com"), owner.org.unwrap())
                .await
                .id,
        );
    }
    let url = app.url(&format!("/api/groups/{group}/add_user/"));
    let handles: Vec<_> = students
        .iter()
        .map(|&id| {
            let request = app
                .client
                .post(&url)
                .bearer_auth(&owner.access)
                .json(&json!({"user": id}));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.await.unwrap(), StatusCode::OK);
    }
    let (_, body) = get(&app, &group_path(group), &owner).await;
    let mut members = member_ids(&body);
    members.sort_unstable();
    assert_eq!(members, students);
}

#[tokio::test]
async fn group_paths_work_with_and_without_a_trailing_slash() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/groups",
        &owner,
        json!({"name": "G"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    for path in ["/api/groups", "/api/groups/"] {
        let (status, groups) = get(&app, path, &owner).await;
        assert_eq!(
            (status, names(&groups)),
            (StatusCode::OK, vec!["G"]),
            "{path}"
        );
    }
    assert_eq!(
        get(&app, &format!("/api/groups/{id}"), &owner).await,
        (StatusCode::OK, created)
    );
    let body = json!({"user": student.id});
    let (status, group) = call(
        &app,
        Method::POST,
        &format!("/api/groups/{id}/add_user"),
        &owner,
        body,
    )
    .await;
    assert_eq!(
        (status, member_ids(&group)),
        (StatusCode::OK, vec![student.id])
    );
}

#[tokio::test]
async fn a_group_id_that_is_not_a_number_is_not_found() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    for path in ["/api/groups/abc/", "/api/groups/abc"] {
        assert_eq!(get(&app, path, &owner).await, not_found(), "{path}");
    }
}
