//! The OpenAPI 3 document, built from the endpoint table at start.
//!
//! Operation ids follow drf-spectacular's rule (existing clients were generated from such a
//! document): the path's segments after `/api/`, without parameters, joined by `_`, then
//! `list` (a GET answering a list), `retrieve`, `create`, `update`, `partial_update` or
//! `destroy`. No `servers` entry: clients use the host they fetched the document from.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use super::auth::Schemes;
use super::{Answer, OpDoc};
use crate::api::body::MAX_BODY_BYTES;

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
    let list = matches!(doc.answer, Answer::List(_) | Answer::ListOrPage(..));
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
    for (name, description) in &doc.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": true,
            "description": description, "schema": { "type": "string" },
        }));
    }
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
        Answer::List(schema) | Answer::ListOrPage(schema, _) => {
            let page = match doc.answer {
                Answer::ListOrPage(_, page) => page,
                _ => schema,
            };
            json!({
                "description": "A list, or a page of it when `limit` or `offset` is given.",
                "content": json_content(json!({ "oneOf": [
                    { "type": "array", "items": schema_ref(schema) },
                    schema_ref(&format!("Paginated{page}List")),
                ]})),
            })
        }
        Answer::File(media_type) => json!({
            "description": "",
            "content": { media_type: { "schema": { "type": "string", "format": "binary" } } },
        }),
        Answer::Json(media_type) => json!({
            "description": "",
            "content": { media_type: { "schema": { "type": "object" } } },
        }),
    };
    let mut responses = Map::new();
    responses.insert(doc.status.to_string(), success);
    let has_body = doc.request.is_some() || doc.multipart.is_some();
    if has_body || list || !doc.query.is_empty() {
        // Field errors, or `{detail, code}` for a body that does not parse or a request that
        // breaks a rule of the domain.
        let either = json!({ "anyOf": [schema_ref("ValidationError"), schema_ref("Error")] });
        responses.insert(
            "400".into(),
            json!({ "description": "Invalid input", "content": json_content(either) }),
        );
    }
    if has_body {
        responses.insert(
            "408".into(),
            error_response(
                "The body stalled or came too slowly (the connection is closed)",
                "Error",
            ),
        );
        responses.insert(
            "413".into(),
            error_response("The body is too large", "Error"),
        );
        responses.insert(
            "429".into(),
            error_response(
                "Too many requests (here: too many bodies arriving at once from one address)",
                "Error",
            ),
        );
    }
    let unsupported = match (doc.request.is_some(), doc.multipart.is_some()) {
        (true, true) => Some("The body is neither JSON, form data nor multipart/form-data"),
        (true, false) => Some("The body is neither JSON, form data nor multipart/form-data"),
        (false, true) => Some("The body is not multipart/form-data"),
        (false, false) => None,
    };
    if let Some(description) = unsupported {
        responses.insert("415".into(), error_response(description, "Error"));
    }
    if doc.status == 101 {
        responses.insert(
            "400".into(),
            error_response("Not a WebSocket upgrade request", "Error"),
        );
    }
    if doc.checks_credentials {
        responses.insert(
            "401".into(),
            error_response("Wrong credentials or token", "Error"),
        );
    }
    if doc.auth {
        responses.insert("401".into(), error_response("Not authenticated", "Error"));
        responses.insert("403".into(), error_response("Not allowed", "Error"));
    }
    if has_path_params {
        responses.insert("404".into(), error_response("Not found", "Error"));
    }
    for (status, description, schema) in &doc.responses {
        // No schema: an answer without a JSON body (304, or a file's 206).
        let response = if schema.is_empty() {
            json!({ "description": description })
        } else {
            error_response(description, schema)
        };
        responses.insert(status.to_string(), response);
    }

    let mut op = json!({
        "operationId": operation_id(&doc.method, doc.path, list),
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": parameters,
        "responses": responses,
        "security": security(doc),
    });
    if has_body {
        let mut content = Map::new();
        if let Some(schema) = doc.request {
            content.insert(
                "application/json".into(),
                json!({ "schema": schema_ref(schema) }),
            );
            content.insert(
                "application/x-www-form-urlencoded".into(),
                json!({ "schema": schema_ref(schema) }),
            );
            // The same fields as parts, as a browser's `new FormData(form)` sends them
            // (an upload's own form, below, takes the place of this one).
            content.insert(
                "multipart/form-data".into(),
                json!({ "schema": schema_ref(schema) }),
            );
        }
        if let Some(schema) = doc.multipart {
            content.insert(
                "multipart/form-data".into(),
                json!({ "schema": schema_ref(schema) }),
            );
        }
        op["requestBody"] = json!({ "required": true, "content": content });
    }
    op
}

/// Every authenticated route accepts both credentials; the one the route documents first.
fn security(doc: &OpDoc) -> Value {
    if !doc.auth {
        return json!([]);
    }
    match doc.schemes {
        Schemes::Token => json!([{ "tokenAuth": [] }, { "jwtAuth": [] }]),
        Schemes::Bearer | Schemes::Both => {
            json!([{ "jwtAuth": [] }, { "tokenAuth": [] }, { "basicAuth": [] }])
        }
    }
}

/// Builds the whole document.
pub fn document(docs: &[OpDoc]) -> Value {
    let mut paths = Map::new();
    let mut schemas = component_schemas();
    for doc in docs {
        let item = paths.entry(doc.path).or_insert_with(|| json!({}));
        item[doc.method.as_str().to_ascii_lowercase()] = operation(doc);
        let paged = match doc.answer {
            Answer::List(schema) | Answer::ListOrPage(_, schema) => Some(schema),
            _ => None,
        };
        if let Some(schema) = paged {
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
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "An account's email and password (seed 003's routes), under the sign-in limits.",
                },
                "tokenAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>`: the 40-hex-character key a sign-in answers (seeds 000 and 001).",
                },
            },
        },
    })
}

/// Adds a type's schema, and those of the types it refers to, under their names.
fn add<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// The component schemas, each derived from the type that is sent or read (see
/// `api::requests` for request bodies).
fn component_schemas() -> Map<String, Value> {
    use super::requests::*;
    let mut schemas = Vec::new();
    // Answers.
    add::<crate::api::health::Health>(&mut schemas);
    add::<crate::api::languages::Language>(&mut schemas);
    add::<crate::accounts::views::UserOut>(&mut schemas);
    add::<crate::accounts::tokens::TokenPair>(&mut schemas);
    add::<crate::accounts::views::SignInOut>(&mut schemas);
    add::<crate::accounts::views::PermissionsOut>(&mut schemas);
    add::<crate::accounts::permissions::PermissionOut>(&mut schemas);
    add::<crate::accounts::profile_views::AccountOut>(&mut schemas);
    add::<crate::accounts::profile_views::AccountSummaryOut>(&mut schemas);
    add::<crate::accounts::profile_views::AccountCreatedOut>(&mut schemas);
    add::<crate::accounts::profile_views::UserNotFoundOut>(&mut schemas);
    add::<crate::accounts::profile_views::CodeResentOut>(&mut schemas);
    add::<crate::accounts::profile_views::GenderChoice>(&mut schemas);
    add::<super::user_v1::UserBriefOut>(&mut schemas);
    add::<super::user_v1::PlatformUserOut>(&mut schemas);
    add::<super::user_v1::SessionOut>(&mut schemas);
    add::<super::user_v1::EmptyOut>(&mut schemas);
    add::<crate::organizations::views::OrganizationOut>(&mut schemas);
    add::<crate::testing::statistics::TestStatistics>(&mut schemas);
    add::<crate::testing::regrade::RegradeOut>(&mut schemas);
    add::<RegradeRequest>(&mut schemas);
    add::<crate::testing::import::ImportOut>(&mut schemas);
    add::<ImportRequest>(&mut schemas);
    add::<crate::catalog::views::FileOut>(&mut schemas);
    add::<crate::catalog::views::CategoryOut>(&mut schemas);
    add::<crate::catalog::views::VideoOut>(&mut schemas);
    add::<crate::catalog::views::TeacherOut>(&mut schemas);
    add::<crate::catalog::views::CourseOut>(&mut schemas);
    add::<crate::catalog::views::CollectionOut>(&mut schemas);
    add::<crate::catalog::views::ShelvesOut>(&mut schemas);
    add::<crate::catalog::search::SearchOut>(&mut schemas);
    add::<crate::api::catalog::TeacherRequest>(&mut schemas);
    add::<crate::api::catalog::CategoryRequest>(&mut schemas);
    add::<crate::api::catalog::CourseRequest>(&mut schemas);
    add::<crate::api::catalog::VideoRequest>(&mut schemas);
    add::<crate::api::catalog::CollectionRequest>(&mut schemas);
    add::<crate::organizations::views::GroupOut>(&mut schemas);
    add::<crate::organizations::views::JoinCodeOut>(&mut schemas);
    add::<crate::organizations::views::JoinGroupOut>(&mut schemas);
    add::<crate::organizations::views::JoinInvitationOut>(&mut schemas);
    add::<crate::organizations::views::JoinedOut>(&mut schemas);
    add::<crate::testing::views::TestOut>(&mut schemas);
    add::<crate::testing::views::StudentTestOut>(&mut schemas);
    add::<crate::testing::views::OpenTestOut>(&mut schemas);
    add::<crate::testing::views::CompletionOut>(&mut schemas);
    add::<crate::testing::views::GradedCompletionOut>(&mut schemas);
    add::<super::media::FileUpload>(&mut schemas);
    add::<super::errors::ErrorBody>(&mut schemas);
    add::<super::errors::ValidationErrorBody>(&mut schemas);
    // Request bodies.
    add::<UserRequest>(&mut schemas);
    add::<UserUpdateRequest>(&mut schemas);
    add::<PatchedUserRequest>(&mut schemas);
    add::<UserUpdateMultipartRequest>(&mut schemas);
    add::<PatchedUserMultipartRequest>(&mut schemas);
    add::<PatchedAccountMultipartRequest>(&mut schemas);
    add::<UserRefRequest>(&mut schemas);
    add::<SignUpRequest>(&mut schemas);
    add::<SignInRequest>(&mut schemas);
    add::<UserChangeRequest>(&mut schemas);
    add::<PermissionsRequest>(&mut schemas);
    add::<OrganizationRequest>(&mut schemas);
    add::<GroupRequest>(&mut schemas);
    add::<GroupRefRequest>(&mut schemas);
    add::<TokenObtainPairRequest>(&mut schemas);
    add::<TokenRefreshRequest>(&mut schemas);
    add::<TokenRevokeRequest>(&mut schemas);
    add::<AccountRequest>(&mut schemas);
    add::<PatchedAccountRequest>(&mut schemas);
    add::<VerifyEmailRequest>(&mut schemas);
    add::<ResendCodeRequest>(&mut schemas);
    add::<super::user_v1::PlatformRegistrationRequest>(&mut schemas);
    add::<super::user_v1::PlatformLoginRequest>(&mut schemas);
    add::<super::user_v1::FacebookLoginRequest>(&mut schemas);
    add::<super::user_v1::PlatformUserUpdateRequest>(&mut schemas);
    add::<super::user_v1::PatchedPlatformUserUpdateRequest>(&mut schemas);
    add::<super::user_v1::PasswordResetRequest>(&mut schemas);
    add::<super::user_v1::PasswordResetConfirmRequest>(&mut schemas);
    add::<TestRequest>(&mut schemas);
    add::<PatchedTestRequest>(&mut schemas);
    add::<CompletionRequest>(&mut schemas);
    schemas
        .into_iter()
        .map(|(name, schema)| {
            let mut schema = serde_json::to_value(schema).unwrap_or(Value::Null);
            as_openapi_30(&mut schema);
            (name, schema)
        })
        .collect()
}

/// utoipa writes OpenAPI 3.1 (JSON Schema) nullability; the document stays 3.0.3, the
/// version drf-spectacular wrote and existing clients were generated from. So
/// `{"type": ["T", "null"]}` becomes `{"type": "T", "nullable": true}`, and
/// `{"oneOf": [{"type": "null"}, S]}` becomes `{"allOf": [S], "nullable": true}`, and
/// `propertyNames` (not in 3.0; map keys are strings anyway) goes.
fn as_openapi_30(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("propertyNames");
            if let Some(Value::Array(types)) = map.get("type") {
                let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if others.len() < types.len() {
                    map.insert("nullable".into(), Value::Bool(true));
                }
                if let [only] = others.as_slice() {
                    map.insert("type".into(), only.clone());
                }
            }
            if let Some(Value::Array(variants)) = map.get("oneOf") {
                let is_null = |v: &Value| v.get("type").is_some_and(|t| t == "null");
                if variants.iter().any(is_null) {
                    let rest: Vec<Value> =
                        variants.iter().filter(|v| !is_null(v)).cloned().collect();
                    map.remove("oneOf");
                    map.insert("allOf".into(), Value::Array(rest));
                    map.insert("nullable".into(), Value::Bool(true));
                }
            }
            map.values_mut().for_each(as_openapi_30);
        }
        Value::Array(items) => items.iter_mut().for_each(as_openapi_30),
        _ => {}
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
