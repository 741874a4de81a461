//! `/api/users/…`: registration, profile, and who sees whom.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, status_json, PASSWORD};

fn registration(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"})
}

#[tokio::test]
async fn registering_answers_the_user_without_the_password() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let mut body = registration("ada@example.org");
    body["organization_id"] = json!(owner.org);
    body["photo"] = json!("https://cdn.example.org/ada.png");

    let (status, user) = status_json(app.register(&body).await).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["email"], "ada@example.org");
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["photo"], "https://cdn.example.org/ada.png");
    assert_eq!(user["is_teacher"], false);
    assert_eq!(user["organization"]["id"], json!(owner.org));
    assert_eq!(user["organization"]["owner"], json!(owner.id));
    assert!(user["id"].as_i64().unwrap() > 0);
    for hidden in ["password", "organization_id", "password_hash"] {
        assert!(user.get(hidden).is_none(), "{hidden} leaked: {user}");
    }
}

#[tokio::test]
async fn registering_ignores_unknown_and_read_only_fields() {
    let app = spawn_app().await;
    let mut body = registration("ada@example.org");
    body["id"] = json!(999);
    body["organization"] = json!({"id": 5, "name": "x"});
    body["favourite_colour"] = json!("green");

    let (status, user) = status_json(app.register(&body).await).await;

    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(user["id"], 999);
    assert_eq!(user["organization"], Value::Null);
}

#[tokio::test]
async fn registering_names_every_missing_field() {
    let app = spawn_app().await;
    let (status, body) = status_json(app.register(&json!({})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["email", "password", "first_name", "last_name"] {
        assert_eq!(body[field], json!(["This field is required."]), "{body}");
    }
}

#[tokio::test]
async fn registering_refuses_bad_values_field_by_field() {
    let app = spawn_app().await;
    let body = json!({
        "email": "not-an-email", "password": "1234", "first_name": "x".repeat(151),
        "last_name": "", "is_teacher": "perhaps", "organization_id": 42,
    });
    let (status, errors) = status_json(app.register(&body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors["email"], json!(["Enter a valid email address."]));
    assert!(errors["password"][0]
        .as_str()
        .unwrap()
        .contains("too short"));
    assert!(errors["first_name"][0].as_str().unwrap().contains("150"));
    assert_eq!(errors["last_name"], json!(["This field may not be blank."]));
    assert_eq!(errors["is_teacher"], json!(["Must be a valid boolean."]));
    assert_eq!(
        errors["organization_id"],
        json!(["Invalid pk \"42\" - object does not exist."])
    );
}

#[tokio::test]
async fn emails_are_unique_whatever_their_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register(&registration("ada@example.org"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let (status, body) = status_json(app.register(&registration("ADA@Example.org")).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"email": ["user with this email already exists."]})
    );
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_make_one_account() {
    let app = std::sync::Arc::new(spawn_app().await);
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let email = if i % 2 == 0 {
                    "race@example.org"
                } else {
                    "RACE@example.org"
                };
                app.register(&registration(email)).await.status()
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => created += 1,
            other => assert_eq!(other, StatusCode::BAD_REQUEST),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn registration_accepts_form_data() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/users/"))
        .form(&[
            ("email", "form@example.org"),
            ("password", PASSWORD),
            ("first_name", "F"),
            ("last_name", "L"),
            ("is_teacher", "true"),
        ])
        .send()
        .await
        .unwrap();
    let (status, user) = status_json(resp).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(user["is_teacher_pending"], true);
}

#[tokio::test]
async fn me_answers_the_caller_and_needs_a_token() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let (status, me) = status_json(app.get("/api/users/me", Some(&ada.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["id"], ada.id);

    let (status, body) = status_json(app.get("/api/users/me", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "not_authenticated");
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let resp = app
        .request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&json!({"last_name": "Byron"})),
        )
        .await;
    let (status, me) = status_json(resp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["first_name"].as_str(), me["last_name"].as_str()),
        (Some("First"), Some("Byron"))
    );
}

#[tokio::test]
async fn put_needs_the_whole_profile_but_not_the_password() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let resp = app
        .request(
            Method::PUT,
            "/api/users/me",
            Some(&ada.access),
            Some(&json!({"first_name": "A"})),
        )
        .await;
    let (status, errors) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors.get("email").is_some() && errors.get("last_name").is_some());
    assert!(errors.get("password").is_none());

    let body = json!({"email": "ada@new.org", "first_name": "A", "last_name": "B", "photo": null,
                      "current_password": PASSWORD});
    let (status, me) = status_json(
        app.request(Method::PUT, "/api/users/me", Some(&ada.access), Some(&body))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ada@new.org");
    // The old token still works: only a password change revokes tokens.
    assert_eq!(
        app.get("/api/users/me", Some(&ada.access)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_email_taken_by_someone_else_cannot_be_moved_to() {
    let app = spawn_app().await;
    app.user("bob@example.org", false, None).await;
    let ada = app.user("ada@example.org", false, None).await;
    let resp = app
        .request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&json!({"email": "Bob@example.org", "current_password": PASSWORD})),
        )
        .await;
    let (status, errors) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors,
        json!({"email": ["user with this email already exists."]})
    );
    // Re-saving one's own email is fine.
    let resp = app
        .request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&json!({"email": "ADA@example.org"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

/// `PATCH /api/users/me` with `body` as `token`'s owner.
async fn patch_me(app: &crate::helpers::TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    status_json(
        app.request(Method::PATCH, "/api/users/me", Some(token), Some(&body))
            .await,
    )
    .await
}

#[tokio::test]
async fn a_new_password_needs_the_current_one() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let new = "a brand new password";
    for body in [
        json!({"password": new}),
        json!({"password": new, "current_password": "not my password"}),
        json!({"password": new, "current_password": null}),
    ] {
        let (status, errors) = patch_me(&app, &ada.access, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(errors["current_password"].is_array(), "{body}: {errors}");
    }
    // Nothing changed: the old password still logs in, the new one does not.
    assert_eq!(
        app.obtain_tokens(&ada.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.obtain_tokens(&ada.email, new).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let body = json!({"password": new, "current_password": PASSWORD});
    assert_eq!(patch_me(&app, &ada.access, body).await.0, StatusCode::OK);
    assert_eq!(
        app.obtain_tokens(&ada.email, new).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_new_email_needs_the_current_password_with_put_and_patch() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let (status, errors) = patch_me(&app, &ada.access, json!({"email": "thief@evil.org"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors.as_object().unwrap().len(), 1, "{errors}");
    assert!(errors["current_password"].is_array(), "{errors}");

    let put = json!({"email": "thief@evil.org", "first_name": "A", "last_name": "B",
                     "current_password": "guessed wrong"});
    let (status, errors) = status_json(
        app.request(Method::PUT, "/api/users/me", Some(&ada.access), Some(&put))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors["current_password"],
        json!(["The current password is not correct."])
    );
    let (_, me) = status_json(app.get("/api/users/me", Some(&ada.access)).await).await;
    assert_eq!(me["email"], "ada@example.org");

    let body = json!({"email": "ada@new.org", "current_password": PASSWORD});
    let (status, me) = patch_me(&app, &ada.access, body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "ada@new.org");
}

#[tokio::test]
async fn names_and_the_same_email_change_without_the_password() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.org", false, None).await;
    let put = json!({"email": "Ada@Example.org", "first_name": "Ada", "last_name": "King"});
    let (status, me) = status_json(
        app.request(Method::PUT, "/api/users/me", Some(&ada.access), Some(&put))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["last_name"], "King");
}

#[tokio::test]
async fn a_user_without_organization_can_join_one_but_never_move() {
    let app = spawn_app().await;
    let first = app.owner("one@school.org").await;
    let second = app.owner("two@school.org").await;
    let ada = app.user("ada@example.org", false, None).await;

    let join = json!({"organization_id": first.org});
    let (status, me) = status_json(
        app.request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&join),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["organization"]["id"], json!(first.org));

    let moving = json!({"organization_id": second.org});
    let (status, errors) = status_json(
        app.request(
            Method::PATCH,
            "/api/users/me",
            Some(&ada.access),
            Some(&moving),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors.get("organization_id").is_some());
}

#[tokio::test]
async fn a_student_cannot_make_themself_a_teacher() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let resp = app
        .request(
            Method::PATCH,
            "/api/users/me",
            Some(&student.access),
            Some(&json!({"is_teacher": true})),
        )
        .await;
    let (status, me) = status_json(resp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            me["is_teacher"].as_bool(),
            me["is_teacher_pending"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let resp = app
        .post(
            "/api/groups/",
            Some(&student.access),
            &json!({"name": "mine"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_teacher_lists_the_users_of_their_organization_only() {
    let app = spawn_app().await;
    let owner = app.owner("owner@one.org").await;
    let s1 = app.student("s1@one.org", owner.org.unwrap()).await;
    let s2 = app.student("s2@one.org", owner.org.unwrap()).await;
    let other = app.owner("owner@two.org").await;
    app.student("s3@two.org", other.org.unwrap()).await;

    let (status, users) = status_json(app.get("/api/users/", Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![owner.id, s1.id, s2.id]);
}

#[tokio::test]
async fn a_student_sees_only_themself() {
    let app = spawn_app().await;
    let owner = app.owner("owner@one.org").await;
    let s1 = app.student("s1@one.org", owner.org.unwrap()).await;
    let s2 = app.student("s2@one.org", owner.org.unwrap()).await;

    let (_, users) = status_json(app.get("/api/users/", Some(&s1.access)).await).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["id"], s1.id);

    assert_eq!(
        app.get(&format!("/api/users/{}/", s1.id), Some(&s1.access))
            .await
            .status(),
        StatusCode::OK
    );
    for hidden in [s2.id, owner.id] {
        let (status, body) = status_json(
            app.get(&format!("/api/users/{hidden}/"), Some(&s1.access))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found");
    }
}

#[tokio::test]
async fn nobody_sees_another_organizations_users() {
    let app = spawn_app().await;
    let one = app.owner("owner@one.org").await;
    let two = app.owner("owner@two.org").await;
    let s2 = app.student("s2@two.org", two.org.unwrap()).await;

    let status = app
        .get(&format!("/api/users/{}/", s2.id), Some(&one.access))
        .await
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    let status = app
        .get(&format!("/api/users/{}", two.id), Some(&one.access))
        .await
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/api/users/{}/", s2.id), Some(&two.access))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn user_lists_paginate_with_limit_and_offset() {
    let app = spawn_app().await;
    let owner = app.owner("owner@one.org").await;
    for i in 0..4 {
        app.student(&format!("s{i}@one.org"), owner.org.unwrap())
            .await;
    }
    let (status, page) = status_json(
        app.get("/api/users/?limit=2&offset=2", Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 5);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(page["next"]
        .as_str()
        .unwrap()
        .ends_with("/api/users/?limit=2&offset=4"));
    assert!(page["previous"]
        .as_str()
        .unwrap()
        .ends_with("/api/users/?limit=2&offset=0"));

    let (_, last) = status_json(
        app.get("/api/users/?limit=2&offset=4", Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(last["next"], Value::Null);
    assert_eq!(last["results"].as_array().unwrap().len(), 1);

    let (status, errors) =
        status_json(app.get("/api/users/?limit=lots", Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors.get("limit").is_some());
}
