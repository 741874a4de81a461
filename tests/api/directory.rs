//! Seed 001 (`/api/users/signup`, `signin`, `{id}`, `{id}/permissions`) and what it shares
//! with the TestIT API: one account, opaque `Token` keys beside JWTs, permissions.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, status_json, PASSWORD};

const VIEW: i64 = 1;
const CHANGE: i64 = 2;
const DELETE: i64 = 3;
const VIEW_PERMISSIONS: i64 = 4;

#[tokio::test]
async fn signup_answers_the_user_and_signin_the_documented_body_with_a_new_key() {
    let app = spawn_app().await;
    let body = json!({"first_name": "kaveh", "last_name": "mehrbanian", "username": "kavehkm",
                      "password": PASSWORD, "email": "mehrbaniankaveh@gmail.com"});
    let (status, user) = status_json(app.sign_up(&body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["username"], "kavehkm");
    assert_eq!(user["email"], "mehrbaniankaveh@gmail.com");
    assert_eq!(user["person"], Value::Null);
    assert!(user.get("password").is_none());

    let (status, first) = status_json(app.sign_in("KavehKM", PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let mut keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "email",
            "first_name",
            "groups",
            "id",
            "last_name",
            "permissions",
            "person",
            "token",
            "username"
        ]
    );
    assert_eq!(first["id"], user["id"]);
    assert_eq!(first["groups"], json!([]));
    assert_eq!(first["permissions"], json!([]));
    let key = first["token"].as_str().unwrap();
    assert_eq!(key.len(), 40);
    assert!(key
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));

    // One key per device: a second sign-in issues another, and both work.
    let (_, second) = status_json(app.sign_in("kavehkm", PASSWORD).await).await;
    assert_ne!(second["token"], first["token"]);
    for key in [&first["token"], &second["token"]] {
        let me = app
            .with_key(Method::GET, "/api/users/me", key.as_str(), None)
            .await;
        assert_eq!(me.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_wrong_pair_at_signin_is_the_documented_400_whatever_was_wrong() {
    let app = spawn_app().await;
    app.member("ada").await;
    for (username, password) in [("ada", "not the password"), ("nobody", PASSWORD)] {
        let (status, body) = status_json(app.sign_in(username, password).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"non_field_errors": ["Unable to log in with provided credentials."]})
        );
    }
    let (status, body) = status_json(
        app.with_key(Method::POST, "/api/users/signin", None, Some(&json!({})))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["username"].is_array() && body["password"].is_array(),
        "{body}"
    );
}

#[tokio::test]
async fn accounts_from_the_testit_door_sign_in_with_their_email_and_get_a_key() {
    let app = spawn_app().await;
    let account = app.user("grace@example.org", false, None).await;
    let (status, signed) = status_json(app.sign_in("Grace@Example.org", PASSWORD).await).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["id"], account.id);
    assert_eq!(signed["username"], Value::Null);
}

#[tokio::test]
async fn usernames_and_emails_are_unique_case_insensitively_and_the_400_names_the_field() {
    let app = spawn_app().await;
    app.member("ada").await;
    let cases = [
        (json!({"username": "ADA", "password": PASSWORD}), "username"),
        (
            json!({"username": "other", "password": PASSWORD, "email": "ADA@example.org"}),
            "email",
        ),
        (
            json!({"username": "two words", "password": PASSWORD}),
            "username",
        ),
        (json!({"password": PASSWORD}), "username"),
        (
            json!({"username": "bob", "password": PASSWORD, "email": "nope"}),
            "email",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = status_json(app.sign_up(&body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer[field].is_array(), "{body} → {answer}");
    }
}

#[tokio::test]
async fn the_documented_short_password_is_refused_naming_the_rule() {
    let app = spawn_app().await;
    let body = json!({"username": "kavehkm", "password": "s3cret"});
    let (status, answer) = status_json(app.sign_up(&body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = answer["password"][0].as_str().unwrap();
    assert!(message.contains("at least 8 characters"), "{message}");
}

#[tokio::test]
async fn concurrent_signups_with_one_username_create_exactly_one_account() {
    let app = spawn_app().await;
    let body = json!({"username": "racer", "password": PASSWORD});
    let answers = futures_util::future::join_all((0..8).map(|_| app.sign_up(&body))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(Response::status).collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::CREATED || *s == StatusCode::BAD_REQUEST));
}

#[tokio::test]
async fn a_key_and_a_jwt_both_open_every_family_and_a_key_is_told_from_a_jwt_by_shape() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.org").await;
    let (_, signed) = status_json(app.sign_in("owner@example.org", PASSWORD).await).await;
    let key = signed["token"].as_str().unwrap();
    for path in [
        "/api/tests/",
        "/api/users/me",
        "/api/groups/",
        "/api/permissions/",
    ] {
        let by_key = app.with_key(Method::GET, path, Some(key), None).await;
        assert_eq!(by_key.status(), StatusCode::OK, "{path} with a key");
        // `Token <jwt>` (what the TestIT API always accepted) and `Bearer <jwt>`.
        let by_jwt = app
            .with_key(Method::GET, path, Some(&owner.access), None)
            .await;
        assert_eq!(by_jwt.status(), StatusCode::OK, "{path} with Token <jwt>");
        let bearer = app.get(path, Some(&owner.access)).await;
        assert_eq!(bearer.status(), StatusCode::OK, "{path} with Bearer <jwt>");
    }
    let forged = "0123456789abcdef0123456789abcdef01234567";
    let (status, body) = status_json(
        app.with_key(Method::GET, "/api/users/me", Some(forged), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "token_not_valid");
}

#[tokio::test]
async fn a_401_names_the_scheme_its_route_documents() {
    let app = spawn_app().await;
    let cases = [
        ("/api/permissions/", r#"Token realm="api""#),
        ("/api/users/1/permissions", r#"Token realm="api""#),
        ("/api/tests/", r#"Bearer realm="api""#),
        ("/api/users", r#"Bearer realm="api", Token realm="api""#),
        ("/api/users/1/", r#"Bearer realm="api", Token realm="api""#),
    ];
    for (path, challenge) in cases {
        let resp = app.get(path, None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let header = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header.as_deref(), Some(challenge), "{path}");
    }
}

#[tokio::test]
async fn a_key_stops_working_once_its_lifetime_is_over() {
    // Key lifetimes count whole seconds from the second the key was issued in, so a key
    // lives between 2 and 3 s here: long enough for its first use whenever in its first
    // second it was issued (with 1 s, one issued late in a second was dead 20 ms later).
    let app = spawn_app_with(|s| s.api_key_ttl = std::time::Duration::from_secs(3)).await;
    let member = app.member("brief").await;
    let me = app
        .with_key(Method::GET, "/api/users/me", Some(&member.key), None)
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    // Past the three-second lifetime however late in its second the key was issued.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    let me = app
        .with_key(Method::GET, "/api/users/me", Some(&member.key), None)
        .await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_new_password_revokes_every_key_and_token_of_the_account() {
    let app = spawn_app().await;
    let member = app.member("ada").await;
    let (_, other_device) = status_json(app.sign_in("ada", PASSWORD).await).await;
    let path = format!("/api/users/{}", member.id);
    let change = json!({"password": "a brand new password", "current_password": PASSWORD});
    let (status, body) = status_json(
        app.with_key(Method::PUT, &path, Some(&member.key), Some(&change))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in [member.key.as_str(), other_device["token"].as_str().unwrap()] {
        let me = app
            .with_key(Method::GET, "/api/users/me", Some(key), None)
            .await;
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.sign_in("ada", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.sign_in("ada", "a brand new password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_shared_path_answers_the_fields_of_both_documents_on_both_spellings() {
    let app = spawn_app().await;
    let member = app.member("ada").await;
    for path in [
        format!("/api/users/{}", member.id),
        format!("/api/users/{}/", member.id),
    ] {
        let (status, user) = status_json(
            app.with_key(Method::GET, &path, Some(&member.key), None)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for field in [
            "id",
            "email",
            "first_name",
            "last_name",
            "photo",
            "is_teacher",
            "organization",
            "username",
            "person",
        ] {
            assert!(user.get(field).is_some(), "{path} lacks {field}: {user}");
        }
    }
    let (status, page) = status_json(
        app.with_key(
            Method::GET,
            "/api/users?limit=50&offset=0",
            Some(&member.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["username"], "ada");
}

#[tokio::test]
async fn put_changes_only_the_fields_sent_and_person_is_for_administrators() {
    let app = spawn_app().await;
    let member = app.member("kavehkm").await;
    let path = format!("/api/users/{}", member.id);
    let (status, user) = status_json(
        app.with_key(
            Method::PUT,
            &path,
            Some(&member.key),
            Some(&json!({"first_name": "kaweh"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["first_name"], "kaweh");
    assert_eq!(user["username"], "kavehkm");

    let (status, body) = status_json(
        app.with_key(
            Method::PUT,
            &path,
            Some(&member.key),
            Some(&json!({"person": 66})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["person"].is_array(), "{body}");

    let admin = app.superuser("root").await;
    let (status, user) = status_json(
        app.with_key(
            Method::PUT,
            &path,
            Some(&admin.key),
            Some(&json!({"person": 66})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["person"], 66);
}

/// What each kind of caller gets from each seed-001 endpoint about another account.
#[tokio::test]
async fn permissions_decide_who_reads_changes_deletes_and_grants() {
    let app = spawn_app().await;
    let admin = app.superuser("root").await;
    let plain = app.member("plain").await;
    let viewer = app.member("viewer").await;
    let changer = app.member("changer").await;
    let deleter = app.member("deleter").await;
    app.grant(&admin, &viewer, &[VIEW, VIEW_PERMISSIONS]).await;
    app.grant(&admin, &changer, &[VIEW, CHANGE]).await;
    app.grant(&admin, &deleter, &[VIEW, DELETE]).await;
    let target = app.member("target").await;
    let user_path = format!("/api/users/{}", target.id);
    let perms_path = format!("/api/users/{}/permissions", target.id);
    let rename = json!({"first_name": "Renamed"});
    let grant = json!({"permissions": [VIEW]});

    let status = |resp: Response| resp.status().as_u16();
    for (who, key, expected) in [
        // list, read, change, read permissions, grant
        ("anonymous", None, [401, 401, 401, 401, 401]),
        ("a plain user", Some(&plain.key), [200, 404, 404, 404, 404]),
        ("a viewer", Some(&viewer.key), [200, 200, 403, 200, 403]),
        ("a changer", Some(&changer.key), [200, 200, 200, 403, 403]),
        ("a superuser", Some(&admin.key), [200, 200, 200, 200, 200]),
    ] {
        let key = key.map(String::as_str);
        let got = [
            status(app.with_key(Method::GET, "/api/users", key, None).await),
            status(app.with_key(Method::GET, &user_path, key, None).await),
            status(
                app.with_key(Method::PUT, &user_path, key, Some(&rename))
                    .await,
            ),
            status(app.with_key(Method::GET, &perms_path, key, None).await),
            status(
                app.with_key(Method::PUT, &perms_path, key, Some(&grant))
                    .await,
            ),
        ];
        assert_eq!(got, expected, "{who}");
    }

    // Listing: a plain user sees only themself; a holder of view_user, every account.
    let (_, mine) = status_json(
        app.with_key(Method::GET, "/api/users", Some(&plain.key), None)
            .await,
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    let (_, all) = status_json(
        app.with_key(Method::GET, "/api/users", Some(&viewer.key), None)
            .await,
    )
    .await;
    assert_eq!(all.as_array().map(Vec::len), Some(6));

    // Deleting: not a viewer's to do; a deleter's (and one's own).
    for (who, key, expected) in [
        ("a viewer", &viewer.key, StatusCode::FORBIDDEN),
        ("a plain user", &plain.key, StatusCode::NOT_FOUND),
        ("a deleter", &deleter.key, StatusCode::NO_CONTENT),
        ("a deleter, again", &deleter.key, StatusCode::NOT_FOUND),
    ] {
        let resp = app
            .with_key(Method::DELETE, &user_path, Some(key), None)
            .await;
        assert_eq!(resp.status(), expected, "{who}");
    }
    let own = format!("/api/users/{}", plain.id);
    let gone = app
        .with_key(Method::DELETE, &own, Some(&plain.key), None)
        .await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn permissions_are_added_and_removed_by_id_and_unknown_ids_are_named() {
    let app = spawn_app().await;
    let admin = app.superuser("root").await;
    let member = app.member("ada").await;
    let path = format!("/api/users/{}/permissions", member.id);
    let call = |method: Method, path: String, body: Value| {
        let key = admin.key.clone();
        let app = &app;
        async move { status_json(app.with_key(method, &path, Some(&key), Some(&body)).await).await }
    };
    let (status, list) = call(Method::PUT, path.clone(), json!({"permissions": [1, 2, 3]})).await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!({"permissions": [1, 2, 3]}))
    );
    let (status, list) = call(Method::DELETE, path.clone(), json!({"permissions": [2, 3]})).await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!({"permissions": [1]}))
    );
    // Some proxies drop DELETE bodies: the ids may come in the query string.
    let (status, list) = status_json(
        app.with_key(
            Method::DELETE,
            &format!("{path}?permissions=1"),
            Some(&admin.key),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((status, list), (StatusCode::OK, json!({"permissions": []})));
    let (status, body) = call(
        Method::PUT,
        path.clone(),
        json!({"permissions": [1, 77, 99]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"permissions": ["Unknown permission ids: 77, 99."]})
    );
    let (status, list) = status_json(
        app.with_key(Method::GET, &path, Some(&member.key), None)
            .await,
    )
    .await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!({"permissions": []})),
        "nothing half-written"
    );

    let (status, catalog) = status_json(
        app.with_key(Method::GET, "/api/permissions/", Some(&member.key), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let codenames: Vec<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["codename"].as_str().unwrap())
        .collect();
    assert_eq!(
        codenames,
        [
            "view_user",
            "change_user",
            "delete_user",
            "view_permission",
            "manage_catalog"
        ]
    );
}

#[tokio::test]
async fn createsuperuser_makes_an_account_that_holds_every_permission() {
    let app = spawn_app().await;
    let admin = app.superuser("root").await;
    let (_, signed) = status_json(app.sign_in("root", PASSWORD).await).await;
    assert_eq!(signed["permissions"], json!([1, 2, 3, 4, 5]));
    let path = format!("/api/users/{}/permissions", admin.id);
    let (status, list) = status_json(
        app.with_key(Method::GET, &path, Some(&admin.key), None)
            .await,
    )
    .await;
    assert_eq!(
        (status, list),
        (StatusCode::OK, json!({"permissions": [1, 2, 3, 4, 5]}))
    );
}

#[tokio::test]
async fn a_deleted_account_is_erased_its_names_are_free_and_its_completions_stay_as_deleted() {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.org").await;
    let org = owner.org.unwrap();
    let student = app.student("student@example.org", org).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    assert_eq!(
        app.submit(&student, uuid, json!([])).await.status(),
        StatusCode::CREATED
    );

    let path = format!("/api/users/{}/", student.id);
    let resp = app
        .request(Method::DELETE, &path, Some(&student.access), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    // Its tokens are revoked, and it can no longer sign in.
    assert_eq!(
        app.get("/api/users/me", Some(&student.access))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.obtain_tokens("student@example.org", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Teachers no longer list it, but its completion stays, its student shown as deleted.
    let (_, users) = status_json(app.get("/api/users/", Some(&owner.access)).await).await;
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["id"] != student.id));
    let completions = format!("/api/tests/{}/completions/", test["id"]);
    let (status, list) = status_json(app.get(&completions, Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["user"], json!({"id": student.id, "deleted": true}));
    // Its email is free again.
    let again = json!({"email": "student@example.org", "password": PASSWORD,
                       "first_name": "New", "last_name": "Student"});
    assert_eq!(app.register(&again).await.status(), StatusCode::CREATED);
    // The owner of an organization cannot be deleted: the organization needs them.
    let own = format!("/api/users/{}/", owner.id);
    let (status, body) = status_json(
        app.request(Method::DELETE, &own, Some(&owner.access), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_deleted_username_can_be_signed_up_again() {
    let app = spawn_app().await;
    let member = app.member("ada").await;
    let path = format!("/api/users/{}", member.id);
    let resp = app
        .with_key(Method::DELETE, &path, Some(&member.key), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.sign_in("ada", PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    let me = app
        .with_key(Method::GET, "/api/users/me", Some(&member.key), None)
        .await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let again = app.member("ada").await;
    assert_ne!(again.id, member.id);
}

#[tokio::test]
async fn changing_users_is_not_taking_them_over_email_and_superusers_stay_out_of_reach() {
    let app = spawn_app().await;
    let admin = app.superuser("root").await;
    let changer = app.member("changer").await;
    app.grant(&admin, &changer, &[CHANGE]).await;
    let target = app.member("target").await;
    let path = format!("/api/users/{}", target.id);
    // Names, yes, even without view_user; the email or username (how one signs in), no.
    let (status, user) = status_json(
        app.with_key(
            Method::PUT,
            &path,
            Some(&changer.key),
            Some(&json!({"last_name": "Renamed"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, &user["last_name"]),
        (StatusCode::OK, &json!("Renamed"))
    );
    for (body, field) in [
        (json!({"email": "mine@evil.example"}), "email"),
        (json!({"username": "taken-over"}), "username"),
    ] {
        let (status, answer) = status_json(
            app.with_key(Method::PUT, &path, Some(&changer.key), Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer[field].is_array(), "{answer}");
    }
    let v1 = format!("/api/v1/accounts/users/{}/", target.id);
    let (status, answer) = status_json(
        app.with_key(
            Method::PATCH,
            &v1,
            Some(&changer.key),
            Some(&json!({"email": "mine@evil.example"})),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["email"].is_array(), "{answer}");
    // A superuser's account is not a change_user holder's to change.
    let root = format!("/api/users/{}", admin.id);
    let resp = app
        .with_key(
            Method::PUT,
            &root,
            Some(&changer.key),
            Some(&json!({"first_name": "Mallory"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // The superuser may change anyone's email.
    let resp = app
        .with_key(
            Method::PUT,
            &path,
            Some(&admin.key),
            Some(&json!({"email": "new@example.org"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_with_a_key_revokes_that_key_only() {
    let app = spawn_app().await;
    let member = app.member("ada").await;
    let (_, other) = status_json(app.sign_in("ada", PASSWORD).await).await;
    let resp = app
        .with_key(
            Method::POST,
            "/api/users/token/revoke/",
            Some(&member.key),
            Some(&json!({})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let me = app
        .with_key(Method::GET, "/api/users/me", Some(&member.key), None)
        .await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let me = app
        .with_key(Method::GET, "/api/users/me", other["token"].as_str(), None)
        .await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_username_may_not_be_an_email_address() {
    let app = spawn_app().await;
    let body = json!({"username": "victim@school.example", "password": PASSWORD});
    let (status, answer) = status_json(app.sign_up(&body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer["username"].is_array(), "{answer}");
}
