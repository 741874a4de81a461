//! The OpenAPI document: complete, in drf-spectacular's naming, and true to the routes.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, status_json};

async fn schema(app: &crate::helpers::TestApp) -> Value {
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
