//! `/api/organizations/…`: open listing, creation by teachers without an organization, and
//! the owner's confirmation of teachers who registered into it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, Account, TestApp};

type Answer = (StatusCode, Value);

async fn create_org(app: &TestApp, who: Option<&Account>, body: Value) -> Answer {
    let token = who.map(|a| a.access.as_str());
    status_json(app.post("/api/organizations/", token, &body).await).await
}

/// `POST /api/organizations/{org}/confirm_teacher/` as `who`.
async fn confirm(app: &TestApp, who: Option<&Account>, org: i64, body: Value) -> Answer {
    let path = format!("/api/organizations/{org}/confirm_teacher/");
    let token = who.map(|a| a.access.as_str());
    status_json(app.post(&path, token, &body).await).await
}

/// `GET /api/users/me` as `who`.
async fn me(app: &TestApp, who: &Account) -> Value {
    let (status, body) = status_json(app.get("/api/users/me", Some(&who.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// What an anonymous user gets at `url` (a path, or a full link).
async fn anonymous_get(app: &TestApp, url: &str) -> Value {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        app.url(url)
    };
    let (status, body) = status_json(app.client.get(url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn group_creation(app: &TestApp, who: &Account) -> StatusCode {
    let body = json!({"name": "G"});
    app.post("/api/groups/", Some(&who.access), &body)
        .await
        .status()
}

/// The organization `owner` made with `TestApp::owner`, as the API presents it.
fn org_of(owner: &Account) -> Value {
    let name = format!("Org of {}", owner.email);
    json!({"id": owner.org, "name": name, "description": "", "owner": owner.id})
}

fn bad(body: Value) -> Answer {
    (StatusCode::BAD_REQUEST, body)
}

fn coded(status: StatusCode, detail: &str, code: &str) -> Answer {
    (status, json!({"detail": detail, "code": code}))
}

fn not_authenticated() -> Answer {
    let detail = "Authentication credentials were not provided.";
    coded(StatusCode::UNAUTHORIZED, detail, "not_authenticated")
}

#[tokio::test]
async fn anyone_can_list_organizations() {
    let app = spawn_app().await;
    assert_eq!(anonymous_get(&app, "/api/organizations/").await, json!([]));
    let ada = app.owner("ada@example.com").await;
    let bob = app.owner("bob@example.com").await;
    let expected = json!([org_of(&ada), org_of(&bob)]);
    for path in ["/api/organizations/", "/api/organizations"] {
        assert_eq!(anonymous_get(&app, path).await, expected, "{path}");
    }
}

#[tokio::test]
async fn organizations_are_paged_with_limit_and_offset() {
    let app = spawn_app().await;
    let mut orgs = Vec::new();
    for name in ["a", "b", "c"] {
        orgs.push(org_of(&app.owner(&format!("{name}@example.com")).await));
    }
    let first = anonymous_get(&app, "/api/organizations/?limit=2").await;
    assert_eq!(first["count"], 3);
    assert_eq!(first["results"], json!([orgs[0], orgs[1]]));
    assert_eq!(first["previous"], Value::Null);
    let next = first["next"].as_str().expect("a next link");
    assert!(next.starts_with(&app.address), "{next}");
    assert!(
        next.contains("limit=2") && next.contains("offset=2"),
        "{next}"
    );

    let second = anonymous_get(&app, next).await;
    assert_eq!(second["count"], 3);
    assert_eq!(second["results"], json!([orgs[2]]));
    assert_eq!(second["next"], Value::Null);
    let previous = second["previous"].as_str().expect("a previous link");
    assert!(previous.contains("offset=0"), "{previous}");
    assert_eq!(anonymous_get(&app, previous).await, first);
}

#[tokio::test]
async fn anonymous_users_cannot_create_organizations() {
    let app = spawn_app().await;
    let answer = create_org(&app, None, json!({"name": "Anon"})).await;
    assert_eq!(answer, not_authenticated());
    assert_eq!(anonymous_get(&app, "/api/organizations/").await, json!([]));
}

#[tokio::test]
async fn a_teacher_without_an_organization_creates_one_and_owns_it() {
    let app = spawn_app().await;
    let teacher = app.user("teacher@example.com", true, None).await;
    assert_eq!(me(&app, &teacher).await["is_teacher"], false);
    let body = json!({"name": "School 42", "description": "A school"});
    let (status, org) = create_org(&app, Some(&teacher), body).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    let id = org["id"].as_i64().expect("an id");
    let expected = json!({"id": id, "name": "School 42", "description": "A school",
                          "owner": teacher.id});
    assert_eq!(org, expected);

    let profile = me(&app, &teacher).await;
    assert_eq!(profile["organization"], org);
    assert_eq!(profile["is_teacher"], true);
    assert_eq!(profile["is_teacher_pending"], false);
    assert_eq!(group_creation(&app, &teacher).await, StatusCode::CREATED);
}

#[tokio::test]
async fn a_student_cannot_create_an_organization() {
    let app = spawn_app().await;
    let student = app.user("student@example.com", false, None).await;
    let answer = create_org(&app, Some(&student), json!({"name": "Mine"})).await;
    let detail = "Only teachers can create organizations.";
    assert_eq!(
        answer,
        coded(StatusCode::FORBIDDEN, detail, "permission_denied")
    );
    assert_eq!(me(&app, &student).await["organization"], Value::Null);
    assert_eq!(anonymous_get(&app, "/api/organizations/").await, json!([]));
}

#[tokio::test]
async fn a_member_of_an_organization_cannot_create_another() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let pending = app.user("pending@example.com", true, owner.org).await;
    let detail = "You already belong to an organization.";
    for who in [&owner, &pending] {
        let answer = create_org(&app, Some(who), json!({"name": "Second"})).await;
        let expected = coded(StatusCode::BAD_REQUEST, detail, "bad_request");
        assert_eq!(answer, expected, "{}", who.email);
    }
    let orgs = anonymous_get(&app, "/api/organizations/").await;
    assert_eq!(orgs, json!([org_of(&owner)]));
    assert_eq!(me(&app, &owner).await["organization"], org_of(&owner));
}

#[tokio::test]
async fn an_organization_needs_a_name_of_at_most_150_characters() {
    let app = spawn_app().await;
    let teacher = app.user("teacher@example.com", true, None).await;
    let answer = create_org(&app, Some(&teacher), json!({"description": "Nameless"})).await;
    assert_eq!(answer, bad(json!({"name": ["This field is required."]})));
    let long = json!({ "name": "x".repeat(151) });
    let too_long = "Ensure this field has no more than 150 characters.";
    let answer = create_org(&app, Some(&teacher), long).await;
    assert_eq!(answer, bad(json!({ "name": [too_long] })));
    assert_eq!(anonymous_get(&app, "/api/organizations/").await, json!([]));

    let longest = json!({ "name": "é".repeat(150) });
    let (status, org) = create_org(&app, Some(&teacher), longest.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["name"], longest["name"]);
}

#[tokio::test]
async fn concurrent_creations_by_one_teacher_make_one_organization() {
    let app = spawn_app().await;
    let teacher = app.user("teacher@example.com", true, None).await;
    let url = app.url("/api/organizations/");
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let request = app.client.post(&url).bearer_auth(&teacher.access);
            let request = request.json(&json!({ "name": format!("Org {i}") }));
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| [StatusCode::CREATED, StatusCode::BAD_REQUEST].contains(s)));
    let orgs = anonymous_get(&app, "/api/organizations/").await;
    assert_eq!(orgs.as_array().unwrap().len(), 1, "{orgs}");
    assert_eq!(me(&app, &teacher).await["organization"], orgs[0]);
}

#[tokio::test]
async fn a_teacher_registering_into_an_organization_waits_for_the_owners_confirmation() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let pending = app.user("pending@example.com", true, owner.org).await;
    let profile = me(&app, &pending).await;
    assert_eq!(profile["is_teacher"], false);
    assert_eq!(profile["is_teacher_pending"], true);
    assert_eq!(profile["organization"], org_of(&owner));
    assert_eq!(group_creation(&app, &pending).await, StatusCode::FORBIDDEN);

    let body = json!({ "user": pending.id });
    let (status, user) = confirm(&app, Some(&owner), owner.org.unwrap(), body).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["id"], pending.id);
    assert_eq!(user["email"], "pending@example.com");
    assert_eq!(user["is_teacher"], true);
    assert_eq!(user["is_teacher_pending"], false);
    assert_eq!(me(&app, &pending).await["is_teacher"], true);
    assert_eq!(group_creation(&app, &pending).await, StatusCode::CREATED);
}

#[tokio::test]
async fn only_the_owner_can_confirm_teachers() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let teacher = app.teacher_of(&owner, "teacher@example.com").await;
    let pending = app.user("pending@example.com", true, owner.org).await;
    let stranger = app.owner("stranger@example.com").await;
    let body = json!({ "user": pending.id });

    let answer = confirm(&app, Some(&teacher), org, body.clone()).await;
    let detail = "Only the organization's owner can confirm teachers.";
    assert_eq!(
        answer,
        coded(StatusCode::FORBIDDEN, detail, "permission_denied")
    );
    let answer = confirm(&app, Some(&stranger), org, body.clone()).await;
    assert_eq!(
        answer,
        coded(StatusCode::NOT_FOUND, "Not found.", "not_found")
    );
    let answer = confirm(&app, None, org, body.clone()).await;
    assert_eq!(answer, not_authenticated());
    assert_eq!(me(&app, &pending).await["is_teacher_pending"], true);

    let (status, user) = confirm(&app, Some(&owner), org, body).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["is_teacher"], true);
}

#[tokio::test]
async fn only_members_who_asked_for_teacher_rights_can_be_confirmed() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let student = app.student("student@example.com", org).await;
    let other = app.owner("other@example.com").await;
    let alien = app.user("alien@example.com", true, other.org).await;
    let invalid_pk = |id: i64| format!("Invalid pk \"{id}\" - object does not exist.");
    let refusals = [
        (json!({ "user": alien.id }), invalid_pk(alien.id)),
        (json!({"user": 999_999}), invalid_pk(999_999)),
        (
            json!({ "user": student.id }),
            "This user has not asked for teacher rights.".into(),
        ),
        (json!({}), "This field is required.".into()),
    ];
    for (body, message) in refusals {
        let answer = confirm(&app, Some(&owner), org, body.clone()).await;
        assert_eq!(answer, bad(json!({ "user": [message] })), "{body}");
    }
    assert_eq!(me(&app, &student).await["is_teacher"], false);
    assert_eq!(me(&app, &alien).await["is_teacher_pending"], true);
}

#[tokio::test]
async fn confirming_works_without_a_trailing_slash() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let pending = app.user("pending@example.com", true, owner.org).await;
    let path = format!("/api/organizations/{}/confirm_teacher", owner.org.unwrap());
    let body = json!({ "user": pending.id });
    let (status, user) = status_json(app.post(&path, Some(&owner.access), &body).await).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["is_teacher"], true);
}
