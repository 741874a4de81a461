//! `POST /api/tests/{id}/regrade/` and `GET /api/tests/{id}/regrades/{rid}/`: regrading a
//! test's completions in the background. The rules are in [`crate::testing::regrade`].

use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use super::body::Body;
use crate::error::ApiError;
use crate::state::AppState;
use crate::testing::regrade;

/// Answers 202 with the regrade, whose progress the other endpoint shows.
pub async fn start(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let started = regrade::start(&state.grading, &auth.user, path.into_inner(), body.0).await?;
    Ok(HttpResponse::Accepted().json(regrade::view(&started)))
}

pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (test, id) = path.into_inner();
    let found = regrade::get(&state.store, &auth.user, test, id).await?;
    Ok(HttpResponse::Ok().json(regrade::view(&found)))
}
