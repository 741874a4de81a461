//! The OpenAPI document: complete, in drf-spectacular's naming, and true to the routes.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, status_json};

pub(crate) async fn schema(app: &crate::helpers::TestApp) -> Value {
    let (status, doc) = status_json(app.get("/api/schema/json/", None).await).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

#[tokio::test]
async fn the_schema_documents_every_seed_operation_with_spectacular_ids() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc.get("servers").is_none());
    let ids: BTreeSet<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    for expected in [
        "users_list",
        "users_create",
        "users_retrieve",
        "users_me_retrieve",
        "users_me_update",
        "users_me_partial_update",
        "users_token_obtain_create",
        "users_token_refresh_create",
        "organizations_list",
        "organizations_create",
        "groups_list",
        "groups_create",
        "groups_retrieve",
        "groups_destroy",
        "groups_add_user_create",
        "groups_remove_user_create",
        "tests_list",
        "tests_create",
        "tests_retrieve",
        "tests_allow_for_group_create",
        "tests_disallow_for_group_create",
        "tests_regenerate_uuid_create",
        "tests_completions_list",
        "tests_completions_export_retrieve",
        "tests_p_retrieve",
        "tests_p_completions_list",
        "completions_create",
        "completions_retrieve",
        "completions_with_correctness_retrieve",
        "users_me_completions_list",
    ] {
        assert!(
            ids.contains(expected),
            "missing operation {expected}; have {ids:?}"
        );
    }
    let params = &doc["paths"]["/api/groups/{id}/add_user/"]["post"]["parameters"];
    assert_eq!(params[0]["name"], "id");
    assert_eq!(params[0]["in"], "path");
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{id}", "1").replace("{public_uuid}", "x");
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = app.request(method.clone(), &concrete, None, None).await;
            let status = resp.status();
            let body = resp.text().await.unwrap();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED && !body.contains("route_not_found"),
                "{method} {path} is documented but not routed ({status}: {body})"
            );
        }
    }
}

#[tokio::test]
async fn the_schema_is_also_served_at_api_schema() {
    let app = spawn_app().await;
    let resp = app.get("/api/schema/", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/vnd.oai.openapi"));
    let doc: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(doc, schema(&app).await);
}

/// Every served operation as `METHOD path operationId`, sorted.
fn operations(doc: &Value) -> Vec<String> {
    let mut rows: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().unwrap().iter().map(move |(method, op)| {
                format!(
                    "{} {path} {}",
                    method.to_uppercase(),
                    op["operationId"].as_str().unwrap()
                )
            })
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn the_served_operations_are_exactly_the_checked_in_list() {
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let expected: Vec<String> = include_str!("operations.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        operations(&doc),
        expected,
        "paths, methods or operation ids changed: clients generated from the document break"
    );
}

/// OpenAPI 3.0's `nullable` as JSON Schema, which the validator reads: `nullable` beside a
/// `type` adds `"null"` to it; beside an `allOf` it becomes `anyOf: [null, the rest]`.
fn as_json_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(as_json_schema);
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(ty) = map.get("type").cloned() {
                    map.insert("type".into(), serde_json::json!([ty, "null"]));
                } else {
                    let rest = Value::Object(std::mem::take(map));
                    map.insert(
                        "anyOf".into(),
                        serde_json::json!([{ "type": "null" }, rest]),
                    );
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_json_schema),
        _ => {}
    }
}

/// Checks a response body against the schema the document gives for that operation and
/// status; the panic names the operation and every violation.
pub(crate) fn assert_documented(
    doc: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    body: &Value,
) {
    let response = &doc["paths"][path][method]["responses"][status.as_str()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} does not document a JSON {status} answer"
    );
    let mut root = serde_json::json!({ "components": doc["components"].clone() });
    for (key, value) in schema.as_object().unwrap() {
        root[key] = value.clone();
    }
    as_json_schema(&mut root);
    let validator = jsonschema::validator_for(&root).expect("the document is a valid schema");
    let problems: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{method} {path} answered {status} with a body its schema refuses: {problems:#?}\nbody: {body:#}"
    );
}

#[tokio::test]
async fn answers_of_a_sample_of_operations_validate_against_their_documented_schemas() {
    use crate::helpers::{question_id, variant_id};
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let owner = app.owner("owner@schema.test").await;
    let student = app.student("student@schema.test", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    let test_id = test["id"].as_i64().unwrap();
    let uuid = test["public_uuid"].as_str().unwrap().to_owned();
    let answers = serde_json::json!([
        {"question": question_id(&test, 1), "body": {"picked_variant": {"text": "Paris"}}},
        {"question": question_id(&test, 2), "body": {"picked_variant": {"id": variant_id(&test, 2, "4")}}},
        {"question": question_id(&test, 3), "body": {"picked_variants": [{"id": variant_id(&test, 3, "2")}]}},
        {"question": question_id(&test, 5), "body": {"code": "def add(a, b):\n    return a + b\n"}},
    ]);
    let (status, completion) = status_json(app.submit(&student, &uuid, answers).await).await;
    assert_documented(&doc, "post", "/api/completions/", status, &completion);
    let completion_id = completion["id"].as_i64().unwrap();

    let owner_token = Some(owner.access.as_str());
    let student_token = Some(student.access.as_str());
    let reads = [
        ("/health", None, "/health"),
        ("/api/languages/", None, "/api/languages/"),
        ("/api/users/me", owner_token, "/api/users/me"),
        ("/api/users/", owner_token, "/api/users/"),
        ("/api/users/?limit=1", owner_token, "/api/users/"),
        ("/api/organizations/", None, "/api/organizations/"),
        ("/api/groups/", owner_token, "/api/groups/"),
        ("/api/groups/", student_token, "/api/groups/"),
        ("/api/tests/", owner_token, "/api/tests/"),
        (
            &format!("/api/tests/{test_id}/"),
            owner_token,
            "/api/tests/{id}/",
        ),
        (
            &format!("/api/tests/p/{uuid}/"),
            student_token,
            "/api/tests/p/{public_uuid}/",
        ),
        (
            &format!("/api/tests/p/{uuid}/completions/"),
            student_token,
            "/api/tests/p/{public_uuid}/completions/",
        ),
        (
            &format!("/api/tests/{test_id}/completions/"),
            owner_token,
            "/api/tests/{id}/completions/",
        ),
        (
            &format!("/api/tests/{test_id}/completions/?offset=0"),
            owner_token,
            "/api/tests/{id}/completions/",
        ),
        (
            "/api/users/me/completions/",
            student_token,
            "/api/users/me/completions/",
        ),
        (
            &format!("/api/completions/{completion_id}/"),
            student_token,
            "/api/completions/{id}/",
        ),
        (
            &format!("/api/completions/{completion_id}/with_correctness/"),
            owner_token,
            "/api/completions/{id}/with_correctness/",
        ),
    ];
    for (url, token, documented) in reads {
        let (status, body) = status_json(app.get(url, token).await).await;
        assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
        assert_documented(&doc, "get", documented, status, &body);
    }

    // Errors: a validation error, a coded one, and tokens.
    let (status, body) = status_json(app.register(&serde_json::json!({})).await).await;
    assert_documented(&doc, "post", "/api/users/", status, &body);
    let (status, body) = status_json(app.get("/api/tests/999999/", owner_token).await).await;
    assert_documented(&doc, "get", "/api/tests/{id}/", status, &body);
    let (status, body) = status_json(
        app.obtain_tokens(&owner.email, crate::helpers::PASSWORD)
            .await,
    )
    .await;
    assert_documented(&doc, "post", "/api/users/token/obtain/", status, &body);
    let refresh = serde_json::json!({ "refresh": owner.refresh });
    let (status, body) =
        status_json(app.post("/api/users/token/refresh/", None, &refresh).await).await;
    assert_documented(&doc, "post", "/api/users/token/refresh/", status, &body);
}

/// Resolves a `$ref` to `#/components/schemas/…` in the served document.
fn resolved<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.trim_start_matches("#/components/schemas/");
            resolved(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// Every field a schema requires, present and not null in `value`, and every integer a
/// JSON integer, at any depth; problems are collected with their paths.
fn required_fields(
    doc: &Value,
    schema: &Value,
    value: &Value,
    at: &str,
    problems: &mut Vec<String>,
) {
    let schema = resolved(doc, schema);
    if let Some(all) = schema["allOf"].as_array() {
        for part in all {
            required_fields(doc, part, value, at, problems);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = schema[key].as_array() {
            let fits = |branch: &Value| {
                let mut found = Vec::new();
                required_fields(doc, branch, value, at, &mut found);
                found.is_empty()
            };
            if !branches.iter().any(fits) {
                problems.push(format!("{at}: fits none of its {key} branches: {value}"));
            }
        }
    }
    if schema["type"] == "integer" && !(value.is_i64() || value.is_u64() || value.is_null()) {
        problems.push(format!("{at}: {value} is not an integer"));
    }
    match value {
        Value::Object(fields) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if fields.get(name).is_none_or(Value::is_null) {
                    problems.push(format!("{at}.{name}: required, but missing or null"));
                }
            }
            let properties = schema["properties"].as_object();
            for (name, property) in properties.into_iter().flatten() {
                if let Some(field) = fields.get(name).filter(|f| !f.is_null()) {
                    required_fields(doc, property, field, &format!("{at}.{name}"), problems);
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            for (i, item) in items.iter().enumerate() {
                required_fields(doc, &schema["items"], item, &format!("{at}[{i}]"), problems);
            }
        }
        _ => {}
    }
}

/// Asserts that a real answer holds every field its operation's documented schema requires,
/// none of them null, and integers where the schema says integer.
fn assert_required_present(
    doc: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    body: &Value,
) {
    let response = &doc["paths"][path][method]["responses"][status.as_str()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} documents no JSON {status} answer"
    );
    let mut problems = Vec::new();
    required_fields(doc, schema, body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} answered {status} without fields its schema requires: {problems:#?}\nbody: {body:#}"
    );
}

#[tokio::test]
async fn every_seed_003_operation_answers_every_required_field_non_null() {
    use crate::helpers::{question_id, sample_test, variant_id, PASSWORD};
    use serde_json::json;
    let app = spawn_app().await;
    let doc = schema(&app).await;
    let mut checked = BTreeSet::new();
    let mut check = |method: &str, path: &str, status: StatusCode, body: &Value| {
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        assert_documented(&doc, method, path, status, body);
        assert_required_present(&doc, method, path, status, body);
        checked.insert(format!("{} {path}", method.to_uppercase()));
    };

    // Users (§5) and tokens.
    let body = json!({"email": "owner@contract.test", "password": PASSWORD, "first_name": "Ann",
                      "last_name": "Lee", "is_teacher": true});
    let (status, created) = status_json(app.register(&body).await).await;
    check("post", "/api/users/", status, &created);
    let (status, tokens) =
        status_json(app.obtain_tokens("owner@contract.test", PASSWORD).await).await;
    check("post", "/api/users/token/obtain/", status, &tokens);
    let refresh = json!({"refresh": tokens["refresh"]});
    let (status, refreshed) =
        status_json(app.post("/api/users/token/refresh/", None, &refresh).await).await;
    check("post", "/api/users/token/refresh/", status, &refreshed);
    let owner_token = tokens["access"].as_str().unwrap().to_owned();
    let owner = Some(owner_token.as_str());

    // Organizations (§3).
    let (status, org) = status_json(
        app.post("/api/organizations/", owner, &json!({"name": "Contract"}))
            .await,
    )
    .await;
    check("post", "/api/organizations/", status, &org);
    let (status, orgs) = status_json(app.get("/api/organizations/", None).await).await;
    check("get", "/api/organizations/", status, &orgs);
    let student = app
        .student("student@contract.test", org["id"].as_i64().unwrap())
        .await;
    let pupil = Some(student.access.as_str());

    let (status, me) = status_json(app.get("/api/users/me", owner).await).await;
    check("get", "/api/users/me", status, &me);
    let put = json!({"email": "owner@contract.test", "first_name": "Ann", "last_name": "Lee"});
    let (status, me) = status_json(
        app.request(Method::PUT, "/api/users/me", owner, Some(&put))
            .await,
    )
    .await;
    check("put", "/api/users/me", status, &me);
    let patch = json!({"first_name": "Anne"});
    let (status, me) = status_json(
        app.request(Method::PATCH, "/api/users/me", owner, Some(&patch))
            .await,
    )
    .await;
    check("patch", "/api/users/me", status, &me);
    let (status, users) = status_json(app.get("/api/users/", owner).await).await;
    check("get", "/api/users/", status, &users);
    let (status, user) =
        status_json(app.get(&format!("/api/users/{}/", student.id), owner).await).await;
    check("get", "/api/users/{id}/", status, &user);

    // Groups (§2).
    let (status, group) = status_json(
        app.post(
            "/api/groups/",
            owner,
            &json!({"name": "Class", "description": "", "members": []}),
        )
        .await,
    )
    .await;
    check("post", "/api/groups/", status, &group);
    let group_path = format!("/api/groups/{}/", group["id"]);
    let member = json!({"user": student.id});
    let (status, added) = status_json(
        app.post(&format!("{group_path}add_user/"), owner, &member)
            .await,
    )
    .await;
    check("post", "/api/groups/{id}/add_user/", status, &added);
    let (status, groups) = status_json(app.get("/api/groups/", owner).await).await;
    check("get", "/api/groups/", status, &groups);
    let (status, one) = status_json(app.get(&group_path, pupil).await).await;
    check("get", "/api/groups/{id}/", status, &one);
    let (status, spare) = status_json(
        app.post(
            "/api/groups/",
            owner,
            &json!({"name": "Spare", "description": "", "members": [student.id]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{spare}");
    let spare_path = format!("/api/groups/{}/", spare["id"]);
    let (status, removed) = status_json(
        app.post(&format!("{spare_path}remove_user/"), owner, &member)
            .await,
    )
    .await;
    check("post", "/api/groups/{id}/remove_user/", status, &removed);

    // Tests (§4).
    let (status, test) = status_json(app.post("/api/tests/", owner, &sample_test()).await).await;
    check("post", "/api/tests/", status, &test);
    let test_path = format!("/api/tests/{}/", test["id"]);
    let (status, allowed) = status_json(
        app.post(
            &format!("{test_path}allow_for_group/"),
            owner,
            &json!({"group": group["id"]}),
        )
        .await,
    )
    .await;
    check("post", "/api/tests/{id}/allow_for_group/", status, &allowed);
    let (status, disallowed) = status_json(
        app.post(
            &format!("{test_path}disallow_for_group/"),
            owner,
            &json!({"group": spare["id"]}),
        )
        .await,
    )
    .await;
    check(
        "post",
        "/api/tests/{id}/disallow_for_group/",
        status,
        &disallowed,
    );
    let (status, renewed) = status_json(
        app.post(&format!("{test_path}regenerate_uuid/"), owner, &json!({}))
            .await,
    )
    .await;
    check("post", "/api/tests/{id}/regenerate_uuid/", status, &renewed);
    let (status, tests) = status_json(app.get("/api/tests/", owner).await).await;
    check("get", "/api/tests/", status, &tests);
    let (status, one) = status_json(app.get(&test_path, owner).await).await;
    check("get", "/api/tests/{id}/", status, &one);
    let uuid = renewed["public_uuid"].as_str().unwrap().to_owned();
    let (status, view) = status_json(app.get(&format!("/api/tests/p/{uuid}/"), pupil).await).await;
    check("get", "/api/tests/p/{public_uuid}/", status, &view);

    // Completions (§1): right, wrong, unmatched, partial and unanswered answers, so that
    // every kind of picked variant and every fraction is shown.
    let t = &renewed;
    let submissions = [
        json!([
            {"question": question_id(t, 1), "body": {"picked_variant": {"text": "paris"}}},
            {"question": question_id(t, 2), "body": {"picked_variant": {"id": variant_id(t, 2, "4")}}},
            {"question": question_id(t, 3), "body": {"picked_variants": [{"id": variant_id(t, 3, "2")}]}},
            {"question": question_id(t, 4), "body": {"picked_variants": [{"id": variant_id(t, 4, "2")}]}},
            {"question": question_id(t, 5), "body": {"code": "def add(a, b):\n    return a + b\n"}},
        ]),
        json!([{"question": question_id(t, 1), "body": {"picked_variant": {"text": "Marseille"}}}]),
        json!([]),
    ];
    let mut completions = Vec::new();
    for answers in submissions {
        let (status, c) = status_json(app.submit(&student, &uuid, answers).await).await;
        check("post", "/api/completions/", status, &c);
        completions.push(c["id"].as_i64().unwrap());
    }
    for id in &completions {
        let (status, c) =
            status_json(app.get(&format!("/api/completions/{id}/"), pupil).await).await;
        check("get", "/api/completions/{id}/", status, &c);
        let path = format!("/api/completions/{id}/with_correctness/");
        let (status, c) = status_json(app.get(&path, owner).await).await;
        check("get", "/api/completions/{id}/with_correctness/", status, &c);
    }
    let (status, mine) = status_json(app.get("/api/users/me/completions/", pupil).await).await;
    check("get", "/api/users/me/completions/", status, &mine);
    let (status, of_link) = status_json(
        app.get(&format!("/api/tests/p/{uuid}/completions/"), pupil)
            .await,
    )
    .await;
    check(
        "get",
        "/api/tests/p/{public_uuid}/completions/",
        status,
        &of_link,
    );
    for query in ["", "?limit=2"] {
        let (status, all) = status_json(
            app.get(&format!("{test_path}completions/{query}"), owner)
                .await,
        )
        .await;
        check("get", "/api/tests/{id}/completions/", status, &all);
    }

    // Every JSON answer of seed 003 was checked: the export is a file, a delete answers 204.
    let (status, _) =
        status_json(app.request(Method::DELETE, &spare_path, owner, None).await).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seed_003 = [
        "POST /api/completions/",
        "GET /api/completions/{id}/",
        "GET /api/completions/{id}/with_correctness/",
        "GET /api/groups/",
        "POST /api/groups/",
        "GET /api/groups/{id}/",
        "POST /api/groups/{id}/add_user/",
        "POST /api/groups/{id}/remove_user/",
        "GET /api/organizations/",
        "POST /api/organizations/",
        "GET /api/tests/",
        "POST /api/tests/",
        "GET /api/tests/{id}/",
        "POST /api/tests/{id}/allow_for_group/",
        "GET /api/tests/{id}/completions/",
        "POST /api/tests/{id}/disallow_for_group/",
        "POST /api/tests/{id}/regenerate_uuid/",
        "GET /api/tests/p/{public_uuid}/",
        "GET /api/tests/p/{public_uuid}/completions/",
        "GET /api/users/",
        "POST /api/users/",
        "GET /api/users/{id}/",
        "GET /api/users/me",
        "PUT /api/users/me",
        "PATCH /api/users/me",
        "GET /api/users/me/completions/",
        "POST /api/users/token/obtain/",
        "POST /api/users/token/refresh/",
    ];
    let missed: Vec<&str> = seed_003
        .iter()
        .copied()
        .filter(|op| !checked.contains(*op))
        .collect();
    assert!(
        missed.is_empty(),
        "seed 003 operations not checked: {missed:?}"
    );

    // The document itself keeps the seed's starred fields required, with the seed's types,
    // so that making one optional cannot slip a null past the check above.
    let seed_required = [
        ("Completion", "id user test answers score", "score"),
        (
            "CompletionWithCorrectness",
            "id user test answers score",
            "score",
        ),
        ("GradedAnswer", "question body points", "points"),
        ("StudentAnswer", "question body", "question"),
        ("PickedVariant", "id text", "id"),
    ];
    for (component, fields, integer) in seed_required {
        let schema = &doc["components"]["schemas"][component];
        let required = schema["required"].as_array().unwrap();
        for field in fields.split(' ') {
            assert!(
                required.contains(&json!(field)),
                "{component}.{field} is not required"
            );
        }
        assert_eq!(
            schema["properties"][integer]["type"], "integer",
            "{component}.{integer}"
        );
    }
    // And the check catches what it is for.
    let mut problems = Vec::new();
    let schema = json!({"$ref": "#/components/schemas/PickedVariant"});
    required_fields(
        &doc,
        &schema,
        &json!({"id": null, "text": "x"}),
        "$",
        &mut problems,
    );
    required_fields(
        &doc,
        &schema,
        &json!({"id": 0.5, "text": "x"}),
        "$",
        &mut problems,
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
}
