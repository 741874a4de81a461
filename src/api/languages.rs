//! `GET /api/languages/`: the runtimes code answers can be written in, and their limits.

use actix_web::{web, HttpResponse};
use actors::grader::{RuntimeStatus, Status};
use actors::sandbox::{Limits, COMPONENTIZE_PY_VERSION};
use serde_json::json;

use crate::error::ApiError;
use crate::startup::AppState;

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = state
        .grading
        .grader
        .send(Status)
        .await
        .map_err(ApiError::internal)?;
    let (status, problem) = match status {
        RuntimeStatus::Preparing => ("preparing", None),
        RuntimeStatus::Ready => ("ready", None),
        RuntimeStatus::Failed(why) => ("unavailable", Some(why)),
    };
    Ok(HttpResponse::Ok().json(json!([{
        "name": "python",
        "version": format!("CPython 3.14 for WASI (componentize-py {COMPONENTIZE_PY_VERSION})"),
        "status": status,
        "problem": problem,
        "limits": Limits::default(),
        "testing_code": "Asserts using the answer's definitions, optionally grouped into test_* functions; each test_* function is one check.",
    }])))
}
