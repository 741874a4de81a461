//! `/api/groups/…`: groups are scoped to the caller's organization; teachers change them,
//! students only see the groups they are in.

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, Account, TestApp};

type Answer = (StatusCode, Value);

/// An organization's owner and one of its students.
async fn school(app: &TestApp) -> (Account, Account) {
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    (owner, student)
}

/// The owner of another organization and one of its students.
async fn elsewhere(app: &TestApp) -> (Account, Account) {
    let other = app.owner("other@example.com").await;
    let outsider = app.student("alien@example.com", other.org.unwrap()).await;
    (other, outsider)
}

async fn call(app: &TestApp, method: Method, path: &str, who: &Account, body: Value) -> Answer {
    let body = (!body.is_null()).then_some(body);
    let token = Some(who.access.as_str());
    let resp = app.request(method, path, token, body.as_ref()).await;
    status_json(resp).await
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

/// `POST /api/groups/{group}/{action}/` with `body`.
async fn membership(app: &TestApp, who: &Account, group: i64, action: &str, body: Value) -> Answer {
    let path = format!("/api/groups/{group}/{action}/");
    call(app, Method::POST, &path, who, body).await
}

async fn add(app: &TestApp, who: &Account, group: i64, user: i64) -> Answer {
    membership(app, who, group, "add_user", json!({ "user": user })).await
}

async fn remove(app: &TestApp, who: &Account, group: i64, user: i64) -> Answer {
    membership(app, who, group, "remove_user", json!({ "user": user })).await
}

/// The ids of the group's members, as `who` sees them.
async fn members(app: &TestApp, who: &Account, group: i64) -> Vec<i64> {
    let (status, body) = get(app, &group_path(group), who).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    member_ids(&body)
}

/// The names of the groups `who` lists.
async fn listed(app: &TestApp, path: &str, who: &Account) -> Vec<String> {
    let (status, body) = get(app, path, who).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let groups = body.as_array().expect("a list of groups");
    let name = |g: &Value| g["name"].as_str().unwrap().to_owned();
    groups.iter().map(name).collect()
}

fn group_path(id: i64) -> String {
    format!("/api/groups/{id}/")
}

fn member_ids(group: &Value) -> Vec<i64> {
    let members = group["members"].as_array().expect("a members list");
    members.iter().map(|m| m["id"].as_i64().unwrap()).collect()
}

fn ok(body: Value) -> Answer {
    (StatusCode::OK, body)
}

fn bad(body: Value) -> Answer {
    (StatusCode::BAD_REQUEST, body)
}

fn invalid_pk(field: &str, id: i64) -> Answer {
    let message = format!("Invalid pk \"{id}\" - object does not exist.");
    bad(json!({ field: [message] }))
}

/// A `{"detail", "code"}` error answer.
fn coded(status: StatusCode, detail: &str, code: &str) -> Answer {
    (status, json!({"detail": detail, "code": code}))
}

fn not_found() -> Answer {
    coded(StatusCode::NOT_FOUND, "Not found.", "not_found")
}

fn forbidden() -> Answer {
    let detail = "Only teachers of the organization can change its groups.";
    coded(StatusCode::FORBIDDEN, detail, "permission_denied")
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
    let detail = "Authentication credentials were not provided.";
    let expected = coded(StatusCode::UNAUTHORIZED, detail, "not_authenticated");
    for (method, path) in calls {
        let body = json!({"name": "X", "user": owner.id});
        let resp = app.request(method.clone(), &path, None, Some(&body)).await;
        assert_eq!(status_json(resp).await, expected, "{method} {path}");
    }
    let (status, body) = status_json(app.get("/api/groups/", Some("not-a-jwt")).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");
}

#[tokio::test]
async fn a_teacher_creates_a_group_with_members() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let body = json!({"name": " 9A ", "description": "Morning", "members": [student.id, owner.id]});
    let (status, group) = create(&app, &owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(group["name"], "9A");
    assert_eq!(group["description"], "Morning");
    let first = json!({"id": student.id, "email": "student@example.com", "first_name": "First",
                       "last_name": "Last", "photo": null, "is_teacher": false});
    assert_eq!(group["members"][0], first);
    assert_eq!(group["members"][1]["id"], owner.id);
    assert_eq!(group["members"][1]["is_teacher"], true);
    let id = group["id"].as_i64().expect("an id");
    assert_eq!(get(&app, &group_path(id), &owner).await, ok(group));
}

#[tokio::test]
async fn description_and_members_may_be_omitted_and_members_may_be_objects() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let (status, bare) = create(&app, &owner, json!({"name": "Bare"})).await;
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    assert_eq!(bare["description"], "");
    assert_eq!(bare["members"], json!([]));
    let members = json!([{"id": student.id, "email": "ignored@example.com"}, student.id]);
    let body = json!({"name": "Objects", "members": members});
    let (status, group) = create(&app, &owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(member_ids(&group), vec![student.id]);
    assert_eq!(group["members"][0]["email"], "student@example.com");
}

#[tokio::test]
async fn a_group_needs_a_valid_name_and_members_of_the_organization() {
    let app = spawn_app().await;
    let (owner, _) = school(&app).await;
    let (_, outsider) = elsewhere(&app).await;
    let too_long = "Ensure this field has no more than 150 characters.";
    let refusals = [
        (json!({}), "This field is required."),
        (json!({"name": "  "}), "This field may not be blank."),
        (json!({ "name": "x".repeat(151) }), too_long),
    ];
    for (body, message) in refusals {
        let answer = create(&app, &owner, body.clone()).await;
        assert_eq!(answer, bad(json!({ "name": [message] })), "{body}");
    }
    let body = json!({"name": "G", "members": [outsider.id]});
    let answer = create(&app, &owner, body).await;
    assert_eq!(answer, invalid_pk("members", outsider.id));
    assert!(listed(&app, "/api/groups/", &owner).await.is_empty());
}

#[tokio::test]
async fn a_teacher_sees_every_group_of_their_organization_and_no_other() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let teacher = app.teacher_of(&owner, "teacher@example.com").await;
    let (other, _) = elsewhere(&app).await;
    app.group(&owner, "By owner", &[]).await;
    app.group(&teacher, "By teacher", &[]).await;
    app.group(&other, "Elsewhere", &[]).await;
    for who in [&owner, &teacher] {
        let names = listed(&app, "/api/groups/", who).await;
        assert_eq!(names, ["By owner", "By teacher"], "{}", who.email);
    }
    assert_eq!(listed(&app, "/api/groups/", &other).await, ["Elsewhere"]);
}

#[tokio::test]
async fn a_student_sees_only_the_groups_they_are_in_with_only_themself_as_member() {
    let app = spawn_app().await;
    let (owner, alice) = school(&app).await;
    let bob = app.student("bob@example.com", owner.org.unwrap()).await;
    let everyone = [alice.id, bob.id, owner.id];
    let shared = app.group(&owner, "Shared", &everyone).await;
    app.group(&owner, "Bob only", &[bob.id]).await;
    let (status, groups) = get(&app, "/api/groups/", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    assert_eq!(groups[0]["name"], "Shared");
    assert_eq!(member_ids(&groups[0]), vec![alice.id]);
    assert_eq!(members(&app, &alice, shared).await, vec![alice.id]);
    assert_eq!(members(&app, &owner, shared).await, everyone);
}

#[tokio::test]
async fn a_group_is_not_found_by_other_organizations_or_students_outside_it() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let (other, outsider) = elsewhere(&app).await;
    let group = app.group(&owner, "G", &[]).await;
    for who in [&other, &student] {
        let answer = get(&app, &group_path(group), who).await;
        assert_eq!(answer, not_found(), "{}", who.email);
    }
    assert_eq!(add(&app, &other, group, outsider.id).await, not_found());
    let answer = get(&app, &group_path(group + 1000), &owner).await;
    assert_eq!(answer, not_found());
}

#[tokio::test]
async fn only_a_teacher_of_the_organization_deletes_a_group_which_is_then_gone() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let (other, _) = elsewhere(&app).await;
    let group = app.group(&owner, "G", &[student.id]).await;
    assert_eq!(delete(&app, group, &student).await, forbidden());
    assert_eq!(delete(&app, group, &other).await, not_found());
    assert_eq!(members(&app, &owner, group).await, vec![student.id]);
    let answer = delete(&app, group, &owner).await;
    assert_eq!(answer, (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(get(&app, &group_path(group), &owner).await, not_found());
    assert!(listed(&app, "/api/groups/", &owner).await.is_empty());
    assert_eq!(delete(&app, group, &owner).await, not_found());
}

#[tokio::test]
async fn adding_and_removing_a_user_is_idempotent() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let group = app.group(&owner, "G", &[]).await;
    for _ in 0..2 {
        let (status, body) = add(&app, &owner, group, student.id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["id"], group);
        assert_eq!(member_ids(&body), vec![student.id]);
        assert_eq!(body["members"][0]["email"], "student@example.com");
    }
    for _ in 0..2 {
        let (status, body) = remove(&app, &owner, group, student.id).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["members"], json!([]));
    }
    assert!(members(&app, &owner, group).await.is_empty());
}

#[tokio::test]
async fn membership_changes_need_a_user_of_the_organization() {
    let app = spawn_app().await;
    let (owner, _) = school(&app).await;
    let (_, outsider) = elsewhere(&app).await;
    let group = app.group(&owner, "G", &[]).await;
    let required = json!({"user": ["This field is required."]});
    let expected = invalid_pk("user", outsider.id);
    assert_eq!(add(&app, &owner, group, outsider.id).await, expected);
    assert_eq!(remove(&app, &owner, group, outsider.id).await, expected);
    for action in ["add_user", "remove_user"] {
        let answer = membership(&app, &owner, group, action, json!({})).await;
        assert_eq!(answer, bad(required.clone()), "{action}");
    }
    assert!(members(&app, &owner, group).await.is_empty());
}

#[tokio::test]
async fn a_student_cannot_create_groups_or_change_memberships() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let friend = app.student("friend@example.com", owner.org.unwrap()).await;
    let group = app.group(&owner, "G", &[student.id]).await;
    let body = json!({"name": "Mine", "members": [student.id]});
    assert_eq!(create(&app, &student, body).await, forbidden());
    assert_eq!(listed(&app, "/api/groups/", &owner).await, ["G"]);
    assert_eq!(add(&app, &student, group, friend.id).await, forbidden());
    assert_eq!(remove(&app, &student, group, student.id).await, forbidden());
    assert_eq!(members(&app, &owner, group).await, vec![student.id]);
}

#[tokio::test]
async fn a_user_can_be_added_with_a_form_encoded_body() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
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
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(member_ids(&body), vec![student.id]);
}

#[tokio::test]
async fn concurrent_additions_keep_every_member() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "G", &[]).await;
    let mut students = Vec::new();
    for i in 0..10 {
        let email = format!("student{i}@example.com");
        students.push(app.student(&email, owner.org.unwrap()).await.id);
    }
    let url = app.url(&format!("/api/groups/{group}/add_user/"));
    let handles: Vec<_> = students
        .iter()
        .map(|&id| {
            let request = app.client.post(&url).bearer_auth(&owner.access);
            let request = request.json(&json!({ "user": id }));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.await.unwrap(), StatusCode::OK);
    }
    let mut ids = members(&app, &owner, group).await;
    ids.sort_unstable();
    assert_eq!(ids, students);
}

#[tokio::test]
async fn group_paths_work_with_and_without_a_trailing_slash_and_need_a_numeric_id() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let body = json!({"name": "G"});
    let (status, created) = call(&app, Method::POST, "/api/groups", &owner, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    for path in ["/api/groups", "/api/groups/"] {
        assert_eq!(listed(&app, path, &owner).await, ["G"], "{path}");
    }
    let answer = get(&app, &format!("/api/groups/{id}"), &owner).await;
    assert_eq!(answer, ok(created));
    let path = format!("/api/groups/{id}/add_user");
    let body = json!({ "user": student.id });
    let (status, group) = call(&app, Method::POST, &path, &owner, body).await;
    assert_eq!(status, StatusCode::OK, "{group}");
    assert_eq!(member_ids(&group), vec![student.id]);
    for path in ["/api/groups/abc/", "/api/groups/abc"] {
        assert_eq!(get(&app, path, &owner).await, not_found(), "{path}");
    }
}

// Join codes: a group's teachers make, read, rotate and turn off its code; a student holding
// it joins the organization and the group in one call.

fn code_path(group: i64) -> String {
    format!("/api/groups/{group}/join_code/")
}

/// `POST /api/groups/{group}/join_code/` as `who`: the new code.
async fn make_code(app: &TestApp, who: &Account, group: i64) -> String {
    let (status, body) = call(app, Method::POST, &code_path(group), who, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let code = body["code"].as_str().expect("a code").to_owned();
    assert!(
        code.len() == 11 && code.as_bytes()[5] == b'-',
        "shown as ABCDE-FGHJK: {code}"
    );
    code
}

async fn preview(app: &TestApp, code: &str) -> Answer {
    status_json(app.get(&format!("/api/join/{code}/"), None).await).await
}

async fn join(app: &TestApp, who: &Account, code: &str) -> Answer {
    call(
        app,
        Method::POST,
        &format!("/api/join/{code}/"),
        who,
        Value::Null,
    )
    .await
}

fn dead_code() -> Answer {
    let detail = "This join code does not work: it was mistyped, turned off or replaced. Ask your teacher for the current link or code.";
    coded(StatusCode::NOT_FOUND, detail, "not_found")
}

#[tokio::test]
async fn a_student_joins_the_organization_and_the_group_by_its_code() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "Class 7A", &[]).await;
    // No code until a teacher makes one.
    let (status, body) = get(&app, &code_path(group), &owner).await;
    assert_eq!((status, body), ok(json!({ "code": null })));
    let code = make_code(&app, &owner, group).await;
    let (status, body) = get(&app, &code_path(group), &owner).await;
    assert_eq!((status, body), ok(json!({ "code": code })));

    // Anyone holding it sees what it opens, with the owner's name to tell schools apart.
    let (status, invitation) = preview(&app, &code).await;
    assert_eq!(status, StatusCode::OK, "{invitation}");
    assert_eq!(invitation["group"]["name"], "Class 7A");
    assert_eq!(invitation["organization"]["id"], owner.org.unwrap());
    assert_eq!(
        invitation["organization"]["name"],
        "Org of owner@example.com"
    );
    assert!(invitation["owner_name"].is_string());

    // A student without an organization joins both in one call; the code is read in any
    // case and without its dash.
    let student = app.user("student@example.com", false, None).await;
    let typed = code.replace('-', "").to_lowercase();
    let (status, joined) = join(&app, &student, &typed).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["organization"]["id"], owner.org.unwrap());
    assert_eq!(member_ids(&joined["group"]), vec![student.id]);
    assert_eq!(members(&app, &owner, group).await, vec![student.id]);
    let (_, me) = get(&app, "/api/users/me", &student).await;
    assert_eq!(me["organization"]["id"], owner.org.unwrap(), "{me}");
    // Joining again changes nothing.
    let (status, _) = join(&app, &student, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members(&app, &owner, group).await, vec![student.id]);

    // A student of the same organization joins another group by its code.
    let other_group = app.group(&owner, "Class 7B", &[]).await;
    let other_code = make_code(&app, &owner, other_group).await;
    assert_ne!(other_code, code);
    let (status, _) = join(&app, &student, &other_code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members(&app, &owner, other_group).await, vec![student.id]);
}

#[tokio::test]
async fn a_rotated_or_turned_off_code_is_refused_with_a_clear_404() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "Class 7A", &[]).await;
    let first = make_code(&app, &owner, group).await;
    let second = make_code(&app, &owner, group).await;
    assert_ne!(first, second);
    let student = app.user("student@example.com", false, None).await;
    assert_eq!(preview(&app, &first).await, dead_code());
    assert_eq!(join(&app, &student, &first).await, dead_code());

    let (status, _) = call(&app, Method::DELETE, &code_path(group), &owner, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(preview(&app, &second).await, dead_code());
    assert_eq!(join(&app, &student, &second).await, dead_code());
    let (status, body) = get(&app, &code_path(group), &owner).await;
    assert_eq!((status, body), ok(json!({ "code": null })));
    // Nothing that is not a code opens anything either.
    assert_eq!(preview(&app, "not-a-code").await, dead_code());
    let (_, me) = get(&app, "/api/users/me", &student).await;
    assert!(me["organization"].is_null(), "{me}");
}

#[tokio::test]
async fn only_the_groups_teachers_see_and_change_its_code_and_teachers_cannot_join_by_one() {
    let app = spawn_app().await;
    let (owner, student) = school(&app).await;
    let (other, outsider) = elsewhere(&app).await;
    let group = app.group(&owner, "Class 7A", &[student.id]).await;
    let code = make_code(&app, &owner, group).await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let (status, _) = call(
            &app,
            method.clone(),
            &code_path(group),
            &student,
            Value::Null,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} as a student");
        let (status, _) = call(&app, method.clone(), &code_path(group), &other, Value::Null).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} as another organization"
        );
        let resp = app
            .request(method.clone(), &code_path(group), None, None)
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} anonymously"
        );
    }
    let resp = app
        .request(Method::POST, &format!("/api/join/{code}/"), None, None)
        .await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // A code never makes anyone a teacher of an organization, nor moves a student.
    let (status, _) = join(&app, &other, &code).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = join(&app, &outsider, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(members(&app, &owner, group).await, vec![student.id]);
    // The seed's group shapes are unchanged: no code in them.
    let (_, body) = get(&app, &group_path(group), &owner).await;
    assert!(body.get("join_code").is_none(), "{body}");
}

#[tokio::test]
async fn guessing_codes_is_rate_limited_per_address_like_sign_ins() {
    let app = spawn_app_with(|s| s.throttle.failures_per_address = 3).await;
    let owner = app.owner("owner@example.com").await;
    let group = app.group(&owner, "G", &[]).await;
    let code = make_code(&app, &owner, group).await;
    for _ in 0..3 {
        assert_eq!(preview(&app, "ABCDE-FGHJK").await.0, StatusCode::NOT_FOUND);
    }
    let (status, body) = preview(&app, "ABCDE-FGHJM").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "throttled");
    // Held back from now on, whatever the code.
    assert_eq!(preview(&app, &code).await.0, StatusCode::TOO_MANY_REQUESTS);
}
