//! `/api/v1/accounts/users/…` (seed 002): sign-up with a profile, email verification by
//! emailed one-time codes, and profiles by id. The rules are in
//! [`crate::accounts::profiles`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{client_address, guarded_change, guarded_sign_in, AuthUser};
use super::body::Body;
use super::photos;
use crate::accounts::codes::CodeMail;
use crate::accounts::permissions::Permission;
use crate::accounts::profile_views::{self as views, CODE_RESENT, USER_NOT_FOUND};
use crate::accounts::profiles;
use crate::error::ApiError;
use crate::state::AppState;

fn mail(state: &AppState) -> CodeMail<'_> {
    CodeMail {
        mailer: &state.mailer,
        rules: state.codes,
    }
}

/// The seed's 404 body, for a missing id and for an account the caller may not see alike.
fn user_not_found() -> HttpResponse {
    HttpResponse::NotFound().json(USER_NOT_FOUND)
}

/// The id of the path; one that is not a number names no user.
fn user_id(path: &str) -> Option<i64> {
    path.parse().ok()
}

/// `POST /api/v1/accounts/users/`.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state.throttle.sign_up(client_address(&req, &state)).await?;
    let user = profiles::register(&state.store, &mail(&state), body.0).await?;
    Ok(HttpResponse::Created().json(views::created(&user)))
}

/// `GET /api/v1/accounts/users/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Some(id) = user_id(&path) else {
        return Ok(user_not_found());
    };
    match profiles::visible(&state.store, &auth.user, id, Permission::ViewUsers).await {
        Ok(user) => Ok(HttpResponse::Ok().json(views::account(&user))),
        Err(err) if profiles::is_not_found(&err) => Ok(user_not_found()),
        Err(err) => Err(err),
    }
}

/// `PATCH /api/v1/accounts/users/{id}/`: JSON, form data, or multipart with a `photo` file
/// (the only way this door sets the photo).
pub async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(id) = user_id(&path) else {
        return Ok(user_not_found());
    };
    let body = photos::read(&req, payload, &state, auth.id()).await?;
    let photo = body.photo.as_ref().map(|photo| photo.url.clone());
    let input = body.input;
    let codes = mail(&state);
    let changed = guarded_change(&req, &state, &auth.user, &input.clone(), || {
        profiles::change(&state.store, &codes, &auth.user, id, input, photo)
    })
    .await;
    match changed {
        Ok(user) => Ok(HttpResponse::Ok().json(views::summary(&user))),
        Err(err) => {
            // Refused input keeps nothing: the photo sent with it goes too.
            if let Some(photo) = &body.photo {
                photo.forget(&state).await;
            }
            if profiles::is_not_found(&err) {
                Ok(user_not_found())
            } else {
                Err(err)
            }
        }
    }
}

/// `POST /api/v1/accounts/users/verify/`: a log-in, as `POST /api/users/token/obtain/`
/// answers it (and, like it, the export cookie).
pub async fn verify(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    // A wrong code counts as a failed sign-in of its address and client: each code has 5
    // tries, and these limits stop a client cycling through codes and accounts.
    let wrong_code = |err: &ApiError| matches!(err, ApiError::Validation(_));
    let user = guarded_sign_in(&req, &state, body.0, "email", wrong_code, |input| {
        profiles::verify(&state.store, input)
    })
    .await?;
    let pair = super::users::sessions(&state).issue(&user);
    Ok(super::users::logged_in(&req, &state, pair))
}

/// `POST /api/v1/accounts/users/resend/`: counted per client address too, since each new
/// address asked for is a stored record and an email sent.
pub async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state
        .throttle
        .code_request(client_address(&req, &state))
        .await?;
    profiles::resend(&state.store, &mail(&state), body.0).await?;
    Ok(HttpResponse::Accepted().json(CODE_RESENT))
}
