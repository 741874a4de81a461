//! `GET /health`.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: an unreachable store answers 503 instead.
    pub status: &'static str,
    /// Which backend the server runs on: `embedded` or `mongodb`.
    pub store: &'static str,
    /// How live events reach this server's watchers: `local` (one process: the embedded
    /// store, or a MongoDB that cannot stream changes), `shared` (every server's, through
    /// the store's change stream, open now) or `reconnecting` (that stream is being opened
    /// again; events wait). Still 200: REST works either way.
    #[schema(value_type = String)]
    pub events: &'static str,
}

/// 200 `{"status": "ok", "store": "embedded" | "mongodb", "events": …}` once the store answers, else 503.
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Err(err) = state.store.ping().await {
        tracing::warn!(%err, "health check: store unreachable");
        return Err(ApiError::code(ErrorCode::Unavailable));
    }
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        store: state.store.kind(),
        events: match &state.events {
            None => "local",
            Some(events) if events.is_live() => "shared",
            Some(_) => "reconnecting",
        },
    }))
}
