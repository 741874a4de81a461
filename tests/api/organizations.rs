//! `/api/organizations/…`: open listing, creation by teachers without an organization, and
//! the owner's confirmation of teachers who registered into it.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, Account, TestApp};

async fn create_org(app: &TestApp, who: Option<&Account>, body: &Value) -> (StatusCode, Value) {
    let token = who.map(|a| a.access.as_str());
    status_json(app.post("/api/organizations/", token, body).await).await
}

/// `POST /api/organizations/{org}/confirm_teacher/` as `who`.
async fn confirm(app: &TestApp, who: &Account, org: i64, body: &Value) -> (StatusCode, Value) {
    let path = format!("/api/organizations/{org}/confirm_teacher/");
    status_json(app.post(&path, Some(&who.access), body).await).await
}

async fn me(app: &TestApp, who: &Account) -> Value {
    let (status, body) = status_json(app.get("/api/users/me", Some(&who.access)).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn create_group(app: &TestApp, who: &Account) -> StatusCode {
    app.post("/api/groups/", Some(&who.access), &json!({"name": "G"}))
        .await
        .status()
}

async fn list(app: &TestApp, query: &str) -> Value {
    let (status, body) =
        status_json(app.get(&format!("/api/organizations/{query}"), None).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn anyone_can_list_organizations() {
    let app = spawn_app().await;
    assert_eq!(list(&app, "").await, json!([]));
    let ada = app.owner("ada@example.com").await;
    let bob = app.owner("bob@example.com").await;
    let expected = json!([
        {"id": ada.org, "name": "Org of ada@example.com", "description": "", "owner": ada.id},
        {"id": bob.org, "name": "Org of bob@example.com", "description": "", "owner": bob.id},
    ]);
    assert_eq!(list(&app, "").await, expected);
    let (status, body) = status_json(app.get("/api/organizations", None).await).await;
    assert_eq!((status, body), (StatusCode::OK, expected));
}

#[tokio::test]
async fn organizations_are_paged_with_limit_and_offset() {
    let app = spawn_app().await;
    let mut owners = Vec::new();
    for name in ["a", "b", "c"] {
        owners.push(app.owner(&format!("{name}@example.com")).await);
    }
    let first = list(&app, "?limit=2").await;
    assert_eq!(first["count"], 3);
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    assert_eq!(first["results"][0]["owner"], owners[0].id);
    let next = first["next"].as_str().expect("a next link");
    assert!(next.starts_with(&app.address), "{next}");
    assert!(
        next.contains("limit=2") && next.contains("offset=2"),
        "{next}"
    );

    let (status, second) = status_json(app.client.get(next).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["count"], 3);
    assert_eq!(second["next"], Value::Null);
    assert_eq!(
        second["results"],
        json!([{"id": owners[2].org, "name": "Org of c@example.com", "description": "", "owner": owners[2].id}])
    );
    let previous = second["previous"].as_str().expect("a previous link");
    assert!(
        previous.contains("limit=2") && previous.contains("offset=0"),
        "{previous}"
    );
    let (_, back) = status_json(app.client.get(previous).send().await.unwrap()).await;
    assert_eq!(back, first);
}

#[tokio::test]
async fn anonymous_users_cannot_create_organizations() {
    let app = spawn_app().await;
    let (status, body) = create_org(&app, None, &json!({"name": "Anon"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "not_authenticated");
    assert_eq!(list(&app, "").await, json!([]));
}

#[tokio::test]
async fn a_teacher_without_an_organization_creates_one_and_owns_it() {
    let app = spawn_app().await;
    let teacher = app.user("teacher@example.com", true, None).await;
    assert_eq!(me(&app, &teacher).await["is_teacher"], false);
    let body = json!({"name": "School 42", "description": "A school"});
    let (status, org) = create_org(&app, Some(&teacher), &body).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    let id = org["id"].as_i64().expect("an id");
    assert_eq!(
        org,
        json!({"id": id, "name": "School 42", "description": "A school", "owner": teacher.id})
    );

    let profile = me(&app, &teacher).await;
    assert_eq!(profile["organization"], org);
    assert_eq!(profile["is_teacher"], true);
    assert_eq!(profile["is_teacher_pending"], false);
    assert_eq!(create_group(&app, &teacher).await, StatusCode::CREATED);
}

#[tokio::test]
async fn a_student_cannot_create_an_organization() {
    let app = spawn_app().await;
    let student = app.user("student@example.com", false, None).await;
    let (status, body) = create_org(&app, Some(&student), &json!({"name": "Mine"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "permission_denied");
    assert_eq!(me(&app, &student).await["organization"], Value::Null);
    assert_eq!(list(&app, "").await, json!([]));
}

#[tokio::test]
async fn a_member_of_an_organization_cannot_create_another() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let pending = app.user("pending@example.com", true, owner.org).await;
    for who in [&owner, &pending] {
        let (status, body) = create_org(&app, Some(who), &json!({"name": "Second"})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "as {}", who.email);
        assert_eq!(
            body,
            json!({"detail": "You already belong to an organization.", "code": "bad_request"})
        );
    }
    assert_eq!(list(&app, "").await.as_array().unwrap().len(), 1);
    assert_eq!(
        me(&app, &owner).await["organization"]["id"],
        owner.org.unwrap()
    );
}

#[tokio::test]
async fn an_organization_needs_a_name_of_at_most_150_characters() {
    let app = spawn_app().await;
    let teacher = app.user("teacher@example.com", true, None).await;
    let (status, body) = create_org(&app, Some(&teacher), &json!({"description": "No name"})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"name": ["This field is required."]})
        )
    );
    let (status, body) = create_org(&app, Some(&teacher), &json!({"name": "x".repeat(151)})).await;
    let too_long = json!({"name": ["Ensure this field has no more than 150 characters."]});
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, too_long));
    assert_eq!(list(&app, "").await, json!([]));

    let (status, org) = create_org(&app, Some(&teacher), &json!({"name": "é".repeat(150)})).await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["name"].as_str().unwrap().chars().count(), 150);
}

#[tokio::test]
async fn a_teacher_registering_into_an_organization_waits_for_the_owners_confirmation() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let pending = app.user("pending@example.com", true, Some(org)).await;
    let profile = me(&app, &pending).await;
    assert_eq!(
        (
            profile["is_teacher"].clone(),
            profile["is_teacher_pending"].clone()
        ),
        (json!(false), json!(true))
    );
    assert_eq!(profile["organization"]["id"], org);
    assert_eq!(create_group(&app, &pending).await, StatusCode::FORBIDDEN);

    let (status, user) = confirm(&app, &owner, org, &json!({"user": pending.id})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["id"], pending.id);
    assert_eq!(user["email"], "pending@example.com");
    assert_eq!(
        (
            user["is_teacher"].clone(),
            user["is_teacher_pending"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(me(&app, &pending).await["is_teacher"], true);
    assert_eq!(create_group(&app, &pending).await, StatusCode::CREATED);
}

#[tokio::test]
async fn only_the_owner_can_confirm_teachers() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let teacher = app.teacher_of(&owner, "teacher@example.com").await;
    let pending = app.user("pending@example.com", true, Some(org)).await;
    let stranger = app.owner("stranger@example.com").await;
    let body = json!({"user": pending.id});

    let (status, answer) = confirm(&app, &teacher, org, &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(answer["code"], "permission_denied");
    let (status, answer) = confirm(&app, &stranger, org, &body).await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found.", "code": "not_found"})
        )
    );
    let path = format!("/api/organizations/{org}/confirm_teacher/");
    let (status, answer) = status_json(app.post(&path, None, &body).await).await;
    assert_eq!(
        (status, answer["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("not_authenticated"))
    );
    assert_eq!(me(&app, &pending).await["is_teacher_pending"], true);

    let (status, answer) = confirm(&app, &owner, org, &body).await;
    assert_eq!(
        (status, answer["is_teacher"].clone()),
        (StatusCode::OK, json!(true))
    );
}

#[tokio::test]
async fn only_members_who_asked_for_teacher_rights_can_be_confirmed() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let student = app.student("student@example.com", org).await;
    let other = app.owner("other@example.com").await;
    let elsewhere = app.user("elsewhere@example.com", true, other.org).await;
    let missing =
        |id: i64| json!({"user": [format!("Invalid pk \"{id}\" - object does not exist.")]});

    let (status, body) = confirm(&app, &owner, org, &json!({"user": elsewhere.id})).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, missing(elsewhere.id))
    );
    let (status, body) = confirm(&app, &owner, org, &json!({"user": 999_999})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, missing(999_999)));
    let (status, body) = confirm(&app, &owner, org, &json!({"user": student.id})).await;
    let never_asked = json!({"user": ["This user has not asked for teacher rights."]});
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, never_asked));
    let (status, body) = confirm(&app, &owner, org, &json!({})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"user": ["This field is required."]})
        )
    );

    assert_eq!(me(&app, &student).await["is_teacher"], false);
    assert_eq!(me(&app, &elsewhere).await["is_teacher_pending"], true);
}

#[tokio::test]
async fn confirming_works_without_a_trailing_slash() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let org = owner.org.unwrap();
    let pending = app.user("pending@example.com", true, Some(org)).await;
    let path = format!("/api/organizations/{org}/confirm_teacher");
    let (status, user) = status_json(
        app.post(&path, Some(&owner.access), &json!({"user": pending.id}))
            .await,
    )
    .await;
    assert_eq!(
        (status, user["is_teacher"].clone()),
        (StatusCode::OK, json!(true))
    );
}
