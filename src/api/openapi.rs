//! The OpenAPI 3 document, built from the endpoint table at start.
//!
//! Operation ids follow drf-spectacular's rule (existing clients were generated from such a
//! document): the path's segments after `/api/`, without parameters, joined by `_`, then
//! `list` (a GET answering a list), `retrieve`, `create`, `update`, `partial_update` or
//! `destroy`. No `servers` entry: clients use the host they fetched the document from.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use super::{Answer, OpDoc};
use crate::api::input::MAX_BODY_BYTES;

/// The built document, shared by the two schema endpoints.
pub struct OpenApi(pub Value);

/// drf-spectacular's operation id for a method on a path.
pub fn operation_id(method: &Method, path: &str, list: bool) -> String {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .trim_start_matches("api/")
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .map(|s| s.replace('-', "_"))
        .collect();
    let action = match *method {
        Method::GET if list => "list",
        Method::GET => "retrieve",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "partial_update",
        Method::DELETE => "destroy",
        _ => "other",
    };
    format!("{}_{action}", segments.join("_"))
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn error_response(description: &str, schema: &str) -> Value {
    json!({ "description": description, "content": json_content(schema_ref(schema)) })
}

fn operation(doc: &OpDoc) -> Value {
    let list = matches!(doc.answer, Answer::List(_));
    let mut parameters: Vec<Value> = doc
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let ty = if name == "id" { "integer" } else { "string" };
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": ty } })
        })
        .collect();
    let has_path_params = !parameters.is_empty();
    if list {
        for (name, description) in [
            (
                "limit",
                "Number of results to return per page; with it the answer is a page.",
            ),
            (
                "offset",
                "The initial index from which to return the results.",
            ),
        ] {
            parameters.push(json!({
                "name": name, "in": "query", "required": false,
                "description": description, "schema": { "type": "integer" },
            }));
        }
    }

    let success = match doc.answer {
        Answer::Empty => json!({ "description": "No response body" }),
        Answer::Object(schema) => {
            json!({ "description": "", "content": json_content(schema_ref(schema)) })
        }
        Answer::List(schema) => json!({
            "description": "A list, or a page of it when `limit` or `offset` is given.",
            "content": json_content(json!({ "oneOf": [
                { "type": "array", "items": schema_ref(schema) },
                schema_ref(&format!("Paginated{schema}List")),
            ]})),
        }),
        Answer::File(media_type) => json!({
            "description": "",
            "content": { media_type: { "schema": { "type": "string", "format": "binary" } } },
        }),
    };
    let mut responses = Map::new();
    responses.insert(doc.status.to_string(), success);
    if doc.request.is_some() || list {
        responses.insert(
            "400".into(),
            error_response("Invalid input", "ValidationError"),
        );
    }
    if doc.auth {
        responses.insert("401".into(), error_response("Not authenticated", "Error"));
        responses.insert("403".into(), error_response("Not allowed", "Error"));
    }
    if has_path_params {
        responses.insert("404".into(), error_response("Not found", "Error"));
    }

    let mut op = json!({
        "operationId": operation_id(&doc.method, doc.path, list),
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": parameters,
        "responses": responses,
        "security": if doc.auth { json!([{ "jwtAuth": [] }]) } else { json!([]) },
    });
    if let Some(schema) = doc.request {
        let content = json!({
            "application/json": { "schema": schema_ref(schema) },
            "application/x-www-form-urlencoded": { "schema": schema_ref(schema) },
        });
        op["requestBody"] = json!({ "required": true, "content": content });
    }
    op
}

/// Builds the whole document.
pub fn document(docs: &[OpDoc]) -> Value {
    let mut paths = Map::new();
    let mut schemas = component_schemas();
    for doc in docs {
        let item = paths.entry(doc.path).or_insert_with(|| json!({}));
        item[doc.method.as_str().to_ascii_lowercase()] = operation(doc);
        if let Answer::List(schema) = doc.answer {
            schemas.insert(
                format!("Paginated{schema}List"),
                json!({
                    "type": "object",
                    "required": ["count", "results"],
                    "properties": {
                        "count": { "type": "integer", "example": 123 },
                        "next": { "type": "string", "nullable": true, "format": "uri" },
                        "previous": { "type": "string", "nullable": true, "format": "uri" },
                        "results": { "type": "array", "items": schema_ref(schema) },
                    },
                }),
            );
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "TestIT API",
            "version": "1.0.0",
            "description": format!(
                "Online tests with live, sandboxed grading. Bodies are JSON or form data, at most {} KiB.",
                MAX_BODY_BYTES / 1024
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "jwtAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            },
        },
    })
}

fn string(max: Option<u32>) -> Value {
    match max {
        Some(max) => json!({ "type": "string", "maxLength": max }),
        None => json!({ "type": "string" }),
    }
}

fn component_schemas() -> Map<String, Value> {
    let read_only_int = json!({ "type": "integer", "readOnly": true });
    let organization = json!({
        "type": "object",
        "required": ["id", "name", "owner"],
        "properties": {
            "id": read_only_int, "name": string(Some(150)), "description": string(None),
            "owner": read_only_int,
        },
    });
    let member = json!({
        "type": "object",
        "required": ["id", "email", "first_name", "last_name"],
        "properties": {
            "id": read_only_int, "email": { "type": "string", "format": "email" },
            "first_name": string(Some(150)), "last_name": string(Some(150)),
            "photo": { "type": "string", "nullable": true }, "is_teacher": { "type": "boolean" },
        },
    });
    let mut user = member.clone();
    user["required"] = json!(["id", "email", "first_name", "last_name", "organization"]);
    user["properties"]["is_teacher_pending"] = json!({ "type": "boolean", "readOnly": true,
        "description": "Asked for teacher rights that the organization's owner has not confirmed yet." });
    user["properties"]["organization"] =
        json!({ "allOf": [schema_ref("Organization")], "nullable": true, "readOnly": true });
    let user_fields = json!({
        "email": { "type": "string", "format": "email" },
        "password": { "type": "string", "writeOnly": true, "minLength": 8, "maxLength": 128 },
        "first_name": string(Some(150)), "last_name": string(Some(150)),
        "photo": { "type": "string", "nullable": true, "maxLength": 2048 },
        "is_teacher": { "type": "boolean", "description": "Ask for teacher rights (granted by the organization's owner)." },
        "organization_id": { "type": "integer", "nullable": true, "writeOnly": true },
    });
    let user_request = |required: Value| json!({ "type": "object", "required": required, "properties": user_fields });
    let user_update_request = |required: Value| {
        let mut request = user_request(required);
        request["properties"]["current_password"] = json!({ "type": "string", "writeOnly": true,
            "description": "The account's password: required to change the password or the email." });
        request
    };
    let token = json!({ "type": "string" });
    let small_int = json!({ "type": "integer", "minimum": 0, "maximum": 32767 });
    let limit_field = json!({ "type": "integer", "nullable": true, "minimum": 1 });
    let test_request = |required: Value| {
        json!({
            "type": "object", "required": required,
            "properties": {
                "name": string(Some(150)),
                "questions": { "type": "array", "items": schema_ref("Question"),
                    "description": "Replaces the questions; one sent with the id of an existing question keeps its id." },
                "available_for": { "type": "array", "items": { "type": "integer" },
                    "description": "Group ids (or group objects with an id) of the organization." },
                "time_limit_seconds": { "type": "integer", "nullable": true, "minimum": 1, "maximum": 604800,
                    "description": "Seconds a live attempt may last; null: no limit." },
                "max_attempts": { "type": "integer", "nullable": true, "minimum": 1, "maximum": 1000,
                    "description": "Completions a student may submit; null: no limit." },
            },
        })
    };
    let answer_body = |correctness: bool| {
        let mut picked = json!({ "type": "object", "properties": { "id": { "type": "integer", "nullable": true }, "text": string(None) } });
        if correctness {
            picked["properties"]["is_correct"] = json!({ "type": "boolean" });
        }
        let mut body = json!({ "type": "object", "properties": {
            "picked_variant": picked, "picked_variants": { "type": "array", "items": picked }, "code": string(None),
        }});
        if correctness {
            body["properties"]["is_correct"] = json!({ "type": "boolean", "nullable": true,
                "description": "null while the answer is not graded yet" });
            body["properties"]["runtime_errors"] = json!({ "type": "string", "nullable": true });
        }
        body
    };
    let completion = |correctness: bool| {
        let mut answer = json!({ "type": "object", "required": ["question", "body"],
            "properties": { "question": { "type": "integer" }, "body": answer_body(correctness) } });
        if correctness {
            answer["properties"]["points"] = json!({ "type": "number", "readOnly": true });
        }
        json!({
            "type": "object", "required": ["id", "user", "test", "answers", "score"],
            "properties": {
                "id": read_only_int,
                "user": if correctness { schema_ref("GroupMember") } else { json!({ "type": "integer", "readOnly": true }) },
                "test": if correctness { json!({ "type": "integer" }) } else { json!({ "type": "string", "description": "The test's public_uuid." }) },
                "answers": { "type": "array", "items": answer },
                "score": { "type": "number", "readOnly": true },
                "max_score": { "type": "number", "readOnly": true },
                "submitted_at": { "type": "string", "format": "date-time", "readOnly": true },
            },
        })
    };
    let schemas = json!({
        "Organization": organization,
        "OrganizationRequest": {
            "type": "object", "required": ["name"],
            "properties": { "name": string(Some(150)), "description": string(None) },
        },
        "GroupMember": member,
        "User": user,
        "UserRequest": user_request(json!(["email", "password", "first_name", "last_name"])),
        "UserUpdateRequest": user_update_request(json!(["email", "first_name", "last_name"])),
        "PatchedUserRequest": user_update_request(json!([])),
        "UserRefRequest": {
            "type": "object", "required": ["user"], "properties": { "user": { "type": "integer" } },
        },
        "Group": {
            "type": "object", "required": ["id", "name", "description", "members"],
            "properties": {
                "id": read_only_int, "name": string(Some(150)), "description": string(None),
                "members": { "type": "array", "items": schema_ref("GroupMember") },
            },
        },
        "GroupRequest": {
            "type": "object", "required": ["name"],
            "properties": {
                "name": string(Some(150)), "description": string(None),
                "members": { "type": "array", "items": { "type": "integer" },
                             "description": "User ids (or user objects with an id) of the organization." },
            },
        },
        "TokenObtainPairRequest": {
            "type": "object", "required": ["email", "password"],
            "properties": { "email": { "type": "string", "writeOnly": true }, "password": { "type": "string", "writeOnly": true } },
        },
        "TokenObtainPair": {
            "type": "object", "required": ["access", "refresh"],
            "properties": { "access": token, "refresh": token },
        },
        "TokenRefreshRequest": {
            "type": "object", "required": ["refresh"], "properties": { "refresh": token },
        },
        "TokenRefresh": {
            "type": "object", "required": ["access"],
            "properties": { "access": token, "refresh": { "type": "string",
                "description": "Only when refresh-token rotation is on." } },
        },
        "TokenRevokeRequest": { "type": "object", "properties": { "refresh": token } },
        "Variant": {
            "type": "object", "required": ["id", "text"],
            "properties": { "id": read_only_int, "text": string(None), "is_correct": { "type": "boolean" } },
        },
        "Question": {
            "type": "object", "required": ["id", "text", "type", "body"],
            "properties": {
                "id": read_only_int, "text": string(None), "test": read_only_int,
                "type": { "type": "string", "enum": ["text", "radio", "check", "code"] },
                "number_in_test": small_int, "points": small_int,
                "body": { "type": "object", "properties": {
                    "variants": { "type": "array", "items": schema_ref("Variant") },
                    "testing_code": { "type": "string", "description": "Code questions only." },
                    "strict_score": { "type": "boolean", "default": true },
                }},
            },
        },
        "Test": {
            "type": "object", "required": ["id", "name", "creator", "questions", "available_for", "public_uuid"],
            "properties": {
                "id": read_only_int, "name": string(Some(150)), "creator": read_only_int,
                "questions": { "type": "array", "items": schema_ref("Question") },
                "available_for": { "type": "array", "items": { "type": "object", "properties": {
                    "id": read_only_int, "name": string(Some(150)), "description": string(None) } } },
                "public_uuid": { "type": "string", "readOnly": true },
                "time_limit_seconds": limit_field,
                "max_attempts": limit_field,
            },
        },
        "TestRequest": test_request(json!(["name", "questions"])),
        "PatchedTestRequest": test_request(json!([])),
        "StudentTest": {
            "type": "object", "required": ["id", "name", "creator", "questions", "public_uuid"],
            "description": "The test as students see it: no correctness, accepted text answers or testing code.",
            "properties": {
                "id": read_only_int, "name": string(None), "creator": read_only_int,
                "questions": { "type": "array", "items": { "type": "object", "properties": {
                    "id": read_only_int, "text": string(None),
                    "type": { "type": "string", "enum": ["text", "radio", "check", "code"] },
                    "number_in_test": small_int, "points": small_int,
                    "body": { "type": "object", "properties": {
                        "variants": { "type": "array", "items": { "type": "object", "properties": {
                            "id": read_only_int, "text": string(None) } } },
                        "strict_score": { "type": "boolean" },
                    }},
                }}},
                "public_uuid": { "type": "string", "readOnly": true },
            },
        },
        "GroupRefRequest": {
            "type": "object", "required": ["group"], "properties": { "group": { "type": "integer" } },
        },
        "CompletionRequest": {
            "type": "object", "required": ["test", "answers"],
            "properties": {
                "test": { "type": "string", "description": "The test's public_uuid." },
                "answers": { "type": "array", "items": { "type": "object", "required": ["question"],
                    "properties": { "question": { "type": "integer" }, "body": answer_body(false) } } },
            },
        },
        "Completion": completion(false),
        "CompletionWithCorrectness": completion(true),
        "Language": {
            "type": "object", "required": ["name", "version", "status", "limits"],
            "properties": {
                "name": { "type": "string" }, "version": { "type": "string" },
                "status": { "type": "string", "enum": ["preparing", "ready", "unavailable"] },
                "problem": { "type": "string", "nullable": true },
                "limits": { "type": "object", "properties": {
                    "time_ms": { "type": "integer" }, "memory_bytes": { "type": "integer" },
                    "output_bytes": { "type": "integer" } } },
                "testing_code": { "type": "string" },
            },
        },
        "Health": {
            "type": "object", "required": ["status", "store"],
            "properties": { "status": { "type": "string" }, "store": { "type": "string", "enum": ["embedded", "mongodb"] } },
        },
        "Error": {
            "type": "object", "required": ["detail", "code"],
            "properties": { "detail": { "type": "string" }, "code": { "type": "string" } },
        },
        "ValidationError": {
            "type": "object",
            "description": "Field name to the messages about it; `non_field_errors` for the body as a whole.",
            "additionalProperties": { "type": "array", "items": { "type": "string" } },
        },
    });
    match schemas {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `GET /api/schema/`.
pub async fn schema(doc: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/vnd.oai.openapi+json")
        .body(doc.0.to_string())
}

/// `GET /api/schema/json/`.
pub async fn schema_json(doc: web::Data<OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_drf_spectacular() {
        let cases = [
            (
                Method::POST,
                "/api/users/token/obtain/",
                false,
                "users_token_obtain_create",
            ),
            (
                Method::GET,
                "/api/tests/p/{public_uuid}/",
                false,
                "tests_p_retrieve",
            ),
            (
                Method::POST,
                "/api/groups/{id}/add_user/",
                false,
                "groups_add_user_create",
            ),
            (Method::GET, "/api/groups/", true, "groups_list"),
            (
                Method::PATCH,
                "/api/users/me",
                false,
                "users_me_partial_update",
            ),
            (Method::DELETE, "/api/groups/{id}/", false, "groups_destroy"),
        ];
        for (method, path, list, expected) in cases {
            assert_eq!(operation_id(&method, path, list), expected);
        }
    }
}
