//! `GET /api/tests/{id}/statistics/`: item statistics of a test, for its managers. The
//! figures and their formulas are in [`crate::testing::statistics`].

use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::testing::statistics;

pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let stats = statistics::of_test(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(stats))
}
