//! `/api/organizations/…`. The rules are in [`crate::organizations`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::AuthUser;
use super::body::Body;
use super::pagination::{self, ListParams};
use crate::accounts::views::user;
use crate::error::ApiError;
use crate::organizations::{self, views::OrganizationOut};
use crate::state::AppState;
use crate::store::Filter;

/// `GET /api/organizations/`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    pagination::list(
        &req,
        params,
        &state.store,
        Filter::All,
        |_, orgs| async move { Ok(orgs.iter().map(OrganizationOut::from).collect()) },
    )
    .await
}

/// `POST /api/organizations/`.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let org = organizations::create(&state.store, &auth.user, body.0).await?;
    Ok(HttpResponse::Created().json(OrganizationOut::from(&org)))
}

/// `POST /api/organizations/{id}/confirm_teacher/`.
pub async fn confirm_teacher(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let teacher = organizations::confirm_teacher(&state.store, &auth.user, id, body.0).await?;
    Ok(HttpResponse::Ok().json(user(&state.store, &teacher).await?))
}
