//! `GET /health`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;

/// 200 `{"status": "ok", "store": "embedded" | "mongodb"}` once the store answers, else 503.
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Err(err) = state.store.ping().await {
        tracing::warn!(%err, "health check: store unreachable");
        return Err(ApiError::code(ErrorCode::Unavailable));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "store": state.store.kind() })))
}
