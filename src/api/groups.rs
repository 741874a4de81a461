//! `/api/groups/…` and `/api/join/…`. The rules are in [`crate::organizations::groups`]
//! and [`crate::organizations::joins`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{client_address, AuthUser};
use super::body::Body;
use super::pagination::{self, ListParams};
use crate::error::{ApiError, ErrorCode};
use crate::organizations::groups::{self, member_view};
use crate::organizations::joins;
use crate::organizations::views::{self, OrganizationOut};
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

/// `GET /api/groups/{id}/join_code/`: the group's code (teachers).
pub async fn join_code(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let code = joins::code_of(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::JoinCodeOut::new(code.as_deref())))
}

/// `POST /api/groups/{id}/join_code/`: a new code; the previous one stops working.
pub async fn rotate_join_code(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let code = joins::rotate(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::JoinCodeOut::new(Some(&code))))
}

/// `DELETE /api/groups/{id}/join_code/`: no code until a new one is made.
pub async fn turn_off_join_code(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    joins::turn_off(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Runs a lookup of a join code through the per-address limits of sign-ins: a code that
/// opens nothing counts as a failed sign-in (429 once there were too many).
async fn guarded<T>(
    req: &HttpRequest,
    state: &AppState,
    lookup: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let address = client_address(req, state);
    state.throttle.before_join(address).await?;
    match lookup.await {
        Err(err) if err.error_code() == ErrorCode::NotFound => {
            Err(state.throttle.join_failed(address).await.unwrap_or(err))
        }
        other => other,
    }
}

/// `GET /api/join/{code}/`: what the code opens (anyone holding it; rate-limited).
pub async fn invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (group, org) = guarded(&req, &state, joins::find(&state.store, &path)).await?;
    Ok(HttpResponse::Ok().json(views::invitation(&state.store, &group, &org).await?))
}

/// `POST /api/join/{code}/`: the caller joins the code's organization and group.
pub async fn join(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = &auth.user;
    let (group, org, user) = guarded(&req, &state, joins::join(&state.store, me, &path)).await?;
    Ok(HttpResponse::Ok().json(views::JoinedOut {
        organization: OrganizationOut::from(&org),
        group: views::group(&state.store, &group, member_view(&user)).await?,
    }))
}
