//! Seed 000's `/api/v1/user/…`: registration, log-in with an email or by Facebook (API keys,
//! `Authorization: Token <key>`), log-out, password resets by emailed link, and users with
//! their shelves nested. The rules are in [`crate::accounts::platform`] and
//! [`crate::accounts::resets`]; the wire shapes, which nest the catalog's shelves, are here.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{bearer_token, client_address, guarded_change, guarded_sign_in, AuthUser};
use super::body::Body;
use super::links::{answer_base, emailed_base};
use super::pagination::{self, ListParams};
use crate::accounts::platform::{self, SignedIn};
use crate::accounts::resets::{self, ResetMail};
use crate::accounts::{identity, keys};
use crate::catalog::views::{shelves_of, ShelvesOut};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Store, User};

/// A user as the plain list (`GET /api/v1/user/` without pagination) shows them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlatformUserBrief)]
pub struct UserBriefOut {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
    pub email: String,
    /// The account's Stripe customer; `null` until Stripe has answered, or without Stripe.
    pub stripe_customer_id: Option<String>,
}

impl From<&User> for UserBriefOut {
    fn from(user: &User) -> Self {
        UserBriefOut {
            id: user.id,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone().unwrap_or_default(),
            stripe_customer_id: user.stripe_customer_id.clone(),
        }
    }
}

/// A user with their shelves nested: every other answer of `/api/v1/user/…`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlatformUser)]
pub struct PlatformUserOut {
    #[serde(flatten)]
    pub brief: UserBriefOut,
    #[serde(flatten)]
    pub shelves: ShelvesOut,
}

/// Presents users with their shelves (one load of everything they nest). `base` starts
/// file URLs; `viewer` decides what is marked as theirs.
pub async fn users(
    store: &Store,
    base: &str,
    viewer: &User,
    users: &[User],
) -> Result<Vec<PlatformUserOut>, ApiError> {
    let shelves = shelves_of(store, base, viewer, users).await?;
    Ok(users
        .iter()
        .zip(shelves)
        .map(|(user, shelves)| PlatformUserOut {
            brief: user.into(),
            shelves,
        })
        .collect())
}

pub async fn user(
    store: &Store,
    base: &str,
    viewer: &User,
    user: &User,
) -> Result<PlatformUserOut, ApiError> {
    let mut out = users(store, base, viewer, std::slice::from_ref(user)).await?;
    out.pop()
        .ok_or_else(|| ApiError::internal("presenting one user gave none"))
}

/// What registration and log-in answer: the user and a new API key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlatformSession)]
pub struct SessionOut {
    pub user: PlatformUserOut,
    /// `Token <key>`, the key 40 lowercase hex characters: the `Authorization` header's
    /// value as it is. Shown once.
    pub token: String,
}

impl SessionOut {
    pub fn new(user: PlatformUserOut, key: &str) -> SessionOut {
        SessionOut {
            user,
            token: format!("Token {key}"),
        }
    }
}

/// `{}`: what log-out and the password-reset steps answer.
#[derive(Debug, Default, Serialize, ToSchema)]
#[schema(as = EmptyObject)]
pub struct EmptyOut {}

// Request bodies, for the OpenAPI document (read field by field with `Input`).

/// Registration (`POST /api/v1/user/`, `registration/`).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PlatformRegistrationRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: String,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
}

/// Log-in with an email.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PlatformLoginRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only)]
    password: String,
}

/// Log-in with a Facebook user access token, verified by the server with Facebook.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct FacebookLoginRequest {
    #[schema(write_only)]
    access_token: String,
}

/// A change of a user (PUT: `email` required).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PlatformUserUpdateRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    /// Needed to move one's own email.
    #[schema(write_only)]
    current_password: Option<String>,
}

/// A partial change of a user (PATCH).
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PatchedPlatformUserUpdateRequest {
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    #[schema(write_only)]
    current_password: Option<String>,
}

/// Asking for a password-reset link.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PasswordResetRequest {
    #[schema(format = Email)]
    email: String,
}

/// Setting a new password with the emailed link's `uid` and `token`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PasswordResetConfirmRequest {
    uid: i64,
    token: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    new_password1: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    new_password2: String,
}

// Handlers.

/// `{user, token}` for a signed-in user.
async fn session(
    req: &HttpRequest,
    state: &AppState,
    signed: SignedIn,
) -> Result<SessionOut, ApiError> {
    let base = answer_base(req, state);
    let out = user(&state.store, &base, &signed.user, &signed.user).await?;
    Ok(SessionOut::new(out, &signed.key))
}

/// `POST /api/v1/user/` and `POST /api/v1/user/registration/`.
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state.throttle.sign_up(client_address(&req, &state)).await?;
    let user = platform::register(&state.store, &state.platform, body.0).await?;
    let key = keys::issue(&state.store, &user, super::users::key_ttl(&state)).await?;
    let out = session(&req, &state, SignedIn { user, key }).await?;
    Ok(HttpResponse::Created().json(out))
}

/// `POST /api/v1/user/login/`.
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let ttl = super::users::key_ttl(&state);
    let signed = guarded_sign_in(
        &req,
        &state,
        body.0,
        "email",
        identity::is_bad_credentials,
        |input| platform::sign_in(&state.store, input, ttl),
    )
    .await?;
    Ok(HttpResponse::Ok().json(session(&req, &state, signed).await?))
}

/// `POST /api/v1/user/login/facebook/`.
pub async fn login_facebook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let ttl = super::users::key_ttl(&state);
    let address = client_address(&req, &state);
    let signed = guarded_sign_in(
        &req,
        &state,
        body.0,
        "access_token",
        platform::is_bad_facebook_token,
        |input| {
            platform::facebook_sign_in(&state.store, &state.platform, input, ttl, || {
                let state = state.clone();
                Box::pin(async move { state.throttle.sign_up(address).await })
            })
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(session(&req, &state, signed).await?))
}

/// `POST /api/v1/user/logout/`: an API key is revoked by itself (one device signs out); an
/// access token (JWT), with the log-in it belongs to (its refresh tokens too).
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    match &auth.claims {
        Some(claims) => super::users::sessions(&state).revoke_log_in(claims).await?,
        None => {
            if let Some(key) = bearer_token(&req) {
                keys::revoke(&state.store, key).await?;
            }
        }
    }
    Ok(HttpResponse::Ok().json(EmptyOut {}))
}

/// `GET /api/v1/user/`: flat users, all at once; with `limit`/`offset`, a page of nested
/// ones (as the seed shows).
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let filter = platform::visible_to(&auth.user);
    match params.page {
        Some(page) => {
            let listing = state.store.users().list(&filter, Some(page)).await?;
            let base = answer_base(&req, &state);
            let views = users(&state.store, &base, &auth.user, &listing.items).await?;
            Ok(pagination::respond(&req, params, listing.count, views))
        }
        None => {
            pagination::list(
                &req,
                params,
                &state.store,
                filter,
                |_, found: Vec<User>| async move {
                    Ok(found.iter().map(UserBriefOut::from).collect::<Vec<_>>())
                },
            )
            .await
        }
    }
}

/// The id of the path; one that is not a number names no user.
fn user_id(path: &str) -> Result<i64, ApiError> {
    path.parse().map_err(|_| ApiError::not_found())
}

/// `GET /api/v1/user/{id}/`.
pub async fn retrieve(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = platform::visible(&state.store, &auth.user, user_id(&path)?).await?;
    let base = answer_base(&req, &state);
    Ok(HttpResponse::Ok().json(user(&state.store, &base, &auth.user, &found).await?))
}

/// `PUT` (email required) and `PATCH /api/v1/user/{id}/`.
pub async fn change<const PARTIAL: bool>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = user_id(&path)?;
    let input = body.0;
    let changed = guarded_change(&req, &state, &auth.user, &input.clone(), || {
        platform::change(&state.store, &auth.user, id, input, PARTIAL)
    })
    .await?;
    let base = answer_base(&req, &state);
    Ok(HttpResponse::Ok().json(user(&state.store, &base, &auth.user, &changed).await?))
}

/// `POST /api/v1/user/password/reset/`: counted per client address like `resend/`, since
/// each request may be an email sent.
pub async fn password_reset(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    state
        .throttle
        .code_request(client_address(&req, &state))
        .await?;
    let mail = ResetMail {
        mailer: &state.mailer,
        base: emailed_base(&state),
        lifetime: state.platform.reset_ttl,
        resend_interval: state.codes.resend_interval,
    };
    resets::request(&state.store, &mail, body.0).await?;
    Ok(HttpResponse::Ok().json(EmptyOut {}))
}

/// `POST /api/v1/user/password/reset/confirm/`.
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    resets::confirm(&state.store, body.0).await?;
    Ok(HttpResponse::Ok().json(EmptyOut {}))
}
