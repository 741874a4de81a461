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
