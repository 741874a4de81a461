//! Seed 001's `/api/users/…` (sign-up and sign-in with a username and an API key, changing
//! and deleting accounts, permissions) and `/api/permissions/`. The rules are in
//! [`crate::accounts::directory`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{client_address, guarded_change, guarded_sign_in, AuthUser};
use super::body::Body;
use crate::accounts::permissions::{PermissionOut, CATALOG};
use crate::accounts::views::{self, PermissionsOut, SignInOut};
use crate::accounts::{directory, identity};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// `POST /api/users/signup`.
pub async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state.throttle.sign_up(client_address(&req, &state)).await?;
    let user = directory::sign_up(&state.store, body.0).await?;
    Ok(HttpResponse::Created().json(views::user(&state.store, &user).await?))
}

/// `POST /api/users/signin`.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let ttl = super::users::key_ttl(&state);
    let signed = guarded_sign_in(
        &req,
        &state,
        body.0,
        "username",
        identity::is_bad_credentials,
        |input| directory::sign_in(&state.store, input, ttl),
    )
    .await?;
    Ok(HttpResponse::Ok().json(SignInOut::from(signed)))
}

/// `PUT /api/users/{id}` (partial).
pub async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let input = body.0;
    let user = guarded_change(&req, &state, &auth.user, &input.clone(), || {
        directory::change(&state.store, &auth.user, path.into_inner(), input)
    })
    .await?;
    Ok(HttpResponse::Ok().json(views::user(&state.store, &user).await?))
}

/// `DELETE /api/users/{id}`.
pub async fn destroy(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    directory::delete(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/users/{id}/permissions`.
pub async fn permissions(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let permissions =
        directory::permissions_of(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(PermissionsOut { permissions }))
}

/// `PUT` (`GRANT`) or `DELETE /api/users/{id}/permissions`, ids in the body or, on DELETE,
/// in the `permissions` query parameter.
pub async fn change_permissions<const GRANT: bool>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string())
        .map_err(|err| ApiError::with_detail(ErrorCode::InvalidQuery, err.to_string()))?;
    let ids = directory::requested_permissions(body.0, &query)?;
    let permissions =
        directory::change_permissions(&state.store, &auth.user, path.into_inner(), ids, GRANT)
            .await?;
    Ok(HttpResponse::Ok().json(PermissionsOut { permissions }))
}

/// `GET /api/permissions/`: the catalog.
pub async fn catalog(_auth: AuthUser) -> HttpResponse {
    let all: Vec<PermissionOut> = CATALOG.iter().map(|(_, out)| *out).collect();
    HttpResponse::Ok().json(all)
}
