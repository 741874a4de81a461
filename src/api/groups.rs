//! `/api/groups/…`. The rules are in [`crate::organizations::groups`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::AuthUser;
use super::body::Body;
use super::pagination::{self, ListParams};
use crate::error::ApiError;
use crate::organizations::groups::{self, member_view};
use crate::organizations::views;
use crate::state::AppState;

/// `GET /api/groups/`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let (filter, only) = (groups::visible_to(&auth.user), member_view(&auth.user));
    pagination::list(
        &req,
        params,
        &state.store,
        filter,
        move |store, items| async move { views::groups(&store, &items, only).await },
    )
    .await
}

/// `POST /api/groups/`.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let group = groups::create(&state.store, &auth.user, body.0).await?;
    Ok(HttpResponse::Created().json(views::group(&state.store, &group, None).await?))
}

/// `GET /api/groups/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let me = &auth.user;
    let group = groups::visible_group(&state.store, me, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::group(&state.store, &group, member_view(me)).await?))
}

/// `DELETE /api/groups/{id}/`.
pub async fn destroy(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    groups::delete(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/groups/{id}/add_user/` (`ADD`) and `…/remove_user/` with `{"user": id}`; both
/// are idempotent and answer the group.
pub async fn change_membership<const ADD: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let group = groups::change_membership(&state.store, &auth.user, id, body.0, ADD).await?;
    Ok(HttpResponse::Ok().json(views::group(&state.store, &group, None).await?))
}
