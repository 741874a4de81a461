//! `/api/users/…`: registration, the caller's profile, who sees whom, and JWT log-in. The
//! rules are in [`crate::accounts`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{bearer_token, client_address, guarded_change, guarded_sign_in, AuthUser};
use super::body::Body;
use super::export::cookie as export_cookie;
use super::pagination::{self, ListParams};
use super::photos;
use crate::accounts::tokens::{Sessions, TokenPair};
use crate::accounts::{keys, users, views};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// `POST /api/users/`.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state.throttle.sign_up(client_address(&req, &state)).await?;
    let user = users::register(&state.store, body.0).await?;
    Ok(HttpResponse::Created().json(views::user(&state.store, &user).await?))
}

/// `GET /api/users/`: a teacher sees the users of their organization; anyone else only
/// themself.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let filter = users::visible_to(&auth.user);
    pagination::list(
        &req,
        params,
        &state.store,
        filter,
        |store, items| async move { views::users(&store, &items).await },
    )
    .await
}

/// `GET /api/users/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let user = users::visible(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::user(&state.store, &user).await?))
}

/// `GET /api/users/me`.
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(views::user(&state.store, &auth.user).await?))
}

/// `PUT` (`PARTIAL` false) or `PATCH /api/users/me`: JSON, form data, or multipart with
/// the photo as a file.
pub async fn change_me<const PARTIAL: bool>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = photos::read(&req, payload, &state, auth.id()).await?;
    let input = body.input;
    let changed = guarded_change(&req, &state, &auth.user, &input.clone(), || {
        users::change_me(&state.store, &auth.user, input, PARTIAL)
    })
    .await;
    match changed {
        Ok(updated) => Ok(HttpResponse::Ok().json(views::user(&state.store, &updated).await?)),
        Err(err) => {
            // Refused input keeps nothing: the photo sent with it goes too.
            if let Some(photo) = &body.photo {
                photo.forget(&state).await;
            }
            Err(err)
        }
    }
}

/// The token rules over the server's state.
pub(super) fn sessions(state: &AppState) -> Sessions<'_> {
    Sessions {
        store: &state.store,
        jwt: &state.jwt,
        revoked_families: &state.revoked_families,
        rotate: state.rotate_refresh_tokens,
    }
}

/// How long a new API key works (seeds 000 and 001), in seconds.
pub(super) fn key_ttl(state: &AppState) -> i64 {
    i64::try_from(state.api_key_ttl.as_secs()).unwrap_or(i64::MAX)
}

/// A token pair answered with the export cookie of its access token: every JWT log-in.
pub(super) fn logged_in(req: &HttpRequest, state: &AppState, pair: TokenPair) -> HttpResponse {
    let cookie = export_cookie::issue(req, &pair.access, state.jwt.access_ttl());
    HttpResponse::Ok().cookie(cookie).json(pair)
}

/// `POST /api/users/token/obtain/`; also sets the export cookie.
pub async fn token_obtain(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let wrong_pair = |err: &ApiError| err.error_code() == ErrorCode::AuthenticationFailed;
    let sessions = sessions(&state);
    let pair = guarded_sign_in(&req, &state, body.0, "email", wrong_pair, |input| {
        sessions.obtain(input)
    })
    .await?;
    Ok(logged_in(&req, &state, pair))
}

/// `POST /api/users/token/refresh/`; also renews the export cookie.
pub async fn token_refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let pair = sessions(&state).refresh(body.0).await?;
    Ok(logged_in(&req, &state, pair))
}

/// `POST /api/users/token/revoke/` (log out), with the access token in `Authorization`.
pub async fn token_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let access = bearer_token(&req).map(str::to_owned);
    // An API key (`Token <key>`) is revoked by itself: the sign-out of one device.
    let (key, access) = match access {
        Some(credential) if keys::looks_like_key(&credential) => (Some(credential), None),
        other => (None, other),
    };
    match key {
        Some(key) => {
            keys::revoke(&state.store, &key).await?;
            if body.0.has("refresh") {
                sessions(&state).revoke(body.0, None).await?;
            }
        }
        None => sessions(&state).revoke(body.0, access).await?,
    }
    Ok(HttpResponse::NoContent()
        .cookie(export_cookie::removal(&req))
        .finish())
}
