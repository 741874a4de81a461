//! `GET /api/languages/`: the runtimes code answers can be written in, and their limits.

use actix_web::{web, HttpResponse};
use actors::grader::{RuntimeStatus, Status};
use actors::sandbox::{Limits, COMPONENTIZE_PY_VERSION};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Whether the runtime can grade now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeState {
    /// Being prepared at start (the first start compiles it).
    Preparing,
    Ready,
    /// It failed to start; `problem` says why.
    Unavailable,
}

/// What one run of an answer may use.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageLimits {
    pub time_ms: u64,
    pub memory_bytes: u64,
    pub output_bytes: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Language {
    pub name: &'static str,
    pub version: String,
    pub status: RuntimeState,
    pub problem: Option<String>,
    pub limits: LanguageLimits,
    /// How a code question's testing code checks an answer.
    pub testing_code: &'static str,
}

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let status = state
        .grading
        .grader
        .send(Status)
        .await
        .map_err(ApiError::internal)?;
    let (status, problem) = match status {
        RuntimeStatus::Preparing => (RuntimeState::Preparing, None),
        RuntimeStatus::Ready => (RuntimeState::Ready, None),
        RuntimeStatus::Failed(why) => (RuntimeState::Unavailable, Some(why)),
    };
    let limits = Limits::default();
    Ok(HttpResponse::Ok().json([Language {
        name: "python",
        version: format!("CPython 3.14 for WASI (componentize-py {COMPONENTIZE_PY_VERSION})"),
        status,
        problem,
        limits: LanguageLimits {
            time_ms: u64::try_from(limits.time.as_millis()).unwrap_or(u64::MAX),
            memory_bytes: limits.memory_bytes as u64,
            output_bytes: limits.output_bytes as u64,
        },
        testing_code: "Asserts using the answer's definitions, optionally grouped into test_* functions; each test_* function is one check.",
    }]))
}
