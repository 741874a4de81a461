//! `/api/users/…`: registration, the caller's profile, who sees whom, and JWT log-in.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::input::{Body, Input};
use super::pagination::{self, ListParams};
use super::present;
use crate::auth::extractor::bearer_token;
use crate::auth::jwt::{now, random_id};
use crate::auth::{password, AuthUser, TokenType};
use crate::domain::{Email, Name, Password};
use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;
use crate::store::{Filter, RevokedFamily, RevokedToken, StoreError, UsedRefreshToken, User};

const EMAIL_TAKEN: &str = "user with this email already exists.";
const MAX_PHOTO_CHARS: usize = 2048;

fn photo(input: &mut Input) -> Option<Option<String>> {
    let photo = input.nullable_str("photo")?;
    match photo {
        Some(p) if p.chars().count() > MAX_PHOTO_CHARS => {
            input.error(
                "photo",
                format!("Ensure this field has no more than {MAX_PHOTO_CHARS} characters."),
            );
            None
        }
        // An empty string clears the photo, as a cleared form field does.
        Some(p) if p.trim().is_empty() => Some(None),
        other => Some(other),
    }
}

fn name(input: &mut Input, field: &str, required: bool) -> Option<Name> {
    let raw = if required {
        input.required_str(field)
    } else {
        input.optional_str(field)
    }?;
    input.check(field, Name::parse(&raw))
}

fn email(input: &mut Input, required: bool) -> Option<Email> {
    let raw = if required {
        input.required_str("email")
    } else {
        input.optional_str("email")
    }?;
    input.check("email", Email::parse(&raw))
}

/// Records an error when another account has this email (the unique index is the real
/// guard; this names the problem together with any others).
async fn check_email_free(
    state: &AppState,
    input: &mut Input,
    email: &Email,
    me: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(other) = state.store.user_by_email(email.as_str()).await? {
        if Some(other.id) != me {
            input.error("email", EMAIL_TAKEN);
        }
    }
    Ok(())
}

fn email_taken(err: StoreError) -> ApiError {
    match err {
        StoreError::Duplicate => ApiError::field("email", EMAIL_TAKEN),
        other => other.into(),
    }
}

/// `POST /api/users/`: registers a user, as a student, or as a teacher whose rights in an
/// organization owned by someone else wait for the owner's confirmation.
pub async fn register(state: web::Data<AppState>, body: Body) -> Result<HttpResponse, ApiError> {
    let mut input = body.0;
    let email = email(&mut input, true);
    let raw_password = input.required_str("password");
    let first_name = name(&mut input, "first_name", true);
    let last_name = name(&mut input, "last_name", true);
    let photo = photo(&mut input).flatten();
    let wants_teacher = input.optional_bool("is_teacher").unwrap_or(false);
    let organization_id = input.nullable_int("organization_id").flatten();
    let password = raw_password.and_then(|raw| {
        let parsed = Password::parse(&raw, email.as_ref().map(Email::as_str));
        input.check("password", parsed)
    });
    if let Some(id) = organization_id {
        if state.store.organizations().get(id).await?.is_none() {
            input.error("organization_id", super::missing_pk(id));
        }
    }
    if let Some(email) = &email {
        check_email_free(&state, &mut input, email, None).await?;
    }
    input.finish()?;
    // Every field that failed to parse recorded an error, so finish() returned it above.
    let (Some(email), Some(password), Some(first_name), Some(last_name)) =
        (email, password, first_name, last_name)
    else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };

    let user = User {
        id: 0,
        email_lower: email.normalized(),
        email: email.as_str().to_owned(),
        password_hash: password::hash(password).await?,
        first_name: first_name.into_string(),
        last_name: last_name.into_string(),
        photo,
        is_teacher: false,
        teacher_requested: wants_teacher,
        organization_id,
        token_generation: 0,
        date_joined: now(),
    };
    let user = state
        .store
        .users()
        .insert(user)
        .await
        .map_err(email_taken)?;
    tracing::info!(user_id = user.id, "user registered");
    Ok(HttpResponse::Created().json(present::user(&state.store, &user).await?))
}

/// `GET /api/users/`: a teacher sees the users of their organization; anyone else only
/// themself.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let me = auth.user;
    match me.organization_id.filter(|_| me.is_teacher) {
        Some(org) => {
            let filter = Filter::Eq("organization_id", org.into());
            let users = state.store.users();
            let count = users.count(&filter).await?;
            let page = users.find(&filter, params.page).await?;
            Ok(pagination::respond(
                &req,
                params,
                count,
                present::users(&state.store, &page).await?,
            ))
        }
        None => {
            let me = present::user(&state.store, &me).await?;
            Ok(pagination::respond_vec(&req, params, vec![me]))
        }
    }
}

/// Whether `viewer` may see `other`: themself, or a teacher seeing their organization.
pub fn can_see(viewer: &User, other: &User) -> bool {
    viewer.id == other.id
        || (viewer.is_teacher
            && viewer.organization_id.is_some()
            && viewer.organization_id == other.organization_id)
}

/// `GET /api/users/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let user = state.store.users().get(path.into_inner()).await?;
    match user.filter(|u| can_see(&auth.user, u)) {
        Some(user) => Ok(HttpResponse::Ok().json(present::user(&state.store, &user).await?)),
        None => Err(ApiError::not_found()),
    }
}

/// `GET /api/users/me`.
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(present::user(&state.store, &auth.user).await?))
}

const CURRENT_PASSWORD: &str = "current_password";

/// Records an error under `current_password` unless it is sent and is the account's
/// password (argon2 verification, on the blocking pool like the log-in's).
async fn check_current_password(input: &mut Input, me: &User) -> Result<(), ApiError> {
    if !input.has(CURRENT_PASSWORD) {
        input.error(
            CURRENT_PASSWORD,
            "This field is required to change the password or the email.",
        );
        return Ok(());
    }
    let Some(current) = input.optional_str(CURRENT_PASSWORD) else {
        return Ok(());
    };
    if !password::verify(current, Some(me.password_hash.clone())).await? {
        input.error(CURRENT_PASSWORD, "The current password is not correct.");
    }
    Ok(())
}

/// `PUT` (`partial` false: email and names required) or `PATCH /api/users/me`. A new
/// password or email needs `current_password`; a new password revokes every token issued
/// before it.
pub async fn change_me<const PARTIAL: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let partial = PARTIAL;
    let me = auth.user;
    let mut input = body.0;
    let email = email(&mut input, !partial);
    let first_name = name(&mut input, "first_name", !partial);
    let last_name = name(&mut input, "last_name", !partial);
    let photo = photo(&mut input);
    let wants_teacher = input.optional_bool("is_teacher");
    let raw_password = input.optional_str("password");
    let changes_password = raw_password.is_some();
    let password = raw_password.and_then(|raw| {
        let email = email.as_ref().map_or(me.email.as_str(), Email::as_str);
        input.check("password", Password::parse(&raw, Some(email)))
    });
    if let Some(email) = &email {
        check_email_free(&state, &mut input, email, Some(me.id)).await?;
    }
    // The password and the email are what a log-in rests on: changing either asks for the
    // current password, so a stolen (short-lived) access token cannot take the account for
    // good. Re-sending one's own email, in another case too, changes no log-in.
    let moves_email = email
        .as_ref()
        .is_some_and(|email| email.normalized() != me.email_lower);
    if moves_email || changes_password {
        check_current_password(&mut input, &me).await?;
    }

    // Joining an organization is possible once; moving between organizations is not.
    let mut joins = None;
    match input.nullable_int("organization_id") {
        Some(requested) if requested == me.organization_id => {}
        Some(Some(id)) if me.organization_id.is_none() => {
            if state.store.organizations().get(id).await?.is_some() {
                joins = Some(id);
            } else {
                input.error("organization_id", super::missing_pk(id));
            }
        }
        Some(_) => input.error(
            "organization_id",
            "You cannot leave or change your organization.",
        ),
        None => {}
    }
    let owns_org = match me.organization_id {
        Some(org) => state
            .store
            .organizations()
            .get(org)
            .await?
            .is_some_and(|o| o.owner_id == me.id),
        None => false,
    };
    if owns_org && wants_teacher == Some(false) {
        input.error(
            "is_teacher",
            "The owner of an organization stays its teacher.",
        );
    }
    input.finish()?;

    let password_hash = match password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let updated = state
        .store
        .users()
        .update(me.id, |user| {
            if let Some(email) = &email {
                user.email = email.as_str().to_owned();
                user.email_lower = email.normalized();
            }
            if let Some(first) = &first_name {
                user.first_name = first.clone().into_string();
            }
            if let Some(last) = &last_name {
                user.last_name = last.clone().into_string();
            }
            if let Some(photo) = &photo {
                user.photo = photo.clone();
            }
            if let Some(org) = joins {
                user.organization_id = Some(org);
                user.is_teacher = false;
            }
            match wants_teacher {
                Some(true) if owns_org => user.is_teacher = true,
                Some(true) if !user.is_teacher => user.teacher_requested = true,
                Some(false) => {
                    user.is_teacher = false;
                    user.teacher_requested = false;
                }
                _ => {}
            }
            if let Some(hash) = &password_hash {
                user.password_hash = hash.clone();
                user.token_generation += 1;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(email_taken)?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(present::user(&state.store, &updated).await?))
}

fn token_not_valid() -> ApiError {
    ApiError::code(ErrorCode::TokenNotValid)
}

/// `POST /api/users/token/obtain/`: email and password for an access and a refresh token.
pub async fn token_obtain(
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let mut input = body.0;
    let email = input.required_str("email");
    let password = input.required_str("password");
    input.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal(
            "required fields missing after validation",
        ));
    };
    let user = state.store.user_by_email(email.trim()).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let user = match (password::verify(password, hash).await?, user) {
        (true, Some(user)) => user,
        _ => return Err(ApiError::code(ErrorCode::AuthenticationFailed)),
    };
    let family = random_id();
    let access = state
        .jwt
        .access_token(user.id, user.token_generation, &family);
    let refresh = state
        .jwt
        .refresh_token(user.id, user.token_generation, family);
    Ok(HttpResponse::Ok().json(json!({ "access": access, "refresh": refresh })))
}

async fn family_revoked(state: &AppState, family: &str) -> Result<bool, ApiError> {
    let filter = Filter::Eq("family", family.into());
    Ok(state.store.repo::<RevokedFamily>().count(&filter).await? > 0)
}

/// Revokes a log-in: its refresh tokens (the stored record, which refresh checks) and, at
/// once, its access tokens (the in-memory set every authenticated request checks).
async fn revoke_family(state: &AppState, family: String, expires_at: i64) -> Result<(), ApiError> {
    let doc = RevokedFamily {
        id: 0,
        family: family.clone(),
        expires_at,
    };
    match state.store.repo::<RevokedFamily>().insert(doc).await {
        Ok(_) | Err(StoreError::Duplicate) => {
            state.revoked_families.insert(family, now());
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /api/users/token/refresh/`: a refresh token for a new access token. The refresh
/// token stays valid for repeated and concurrent use, unless rotation is on: then the answer
/// carries a new refresh token too, and presenting a used one revokes its whole family.
pub async fn token_refresh(
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let mut input = body.0;
    let token = input.required_str("refresh");
    input.finish()?;
    let token = token.ok_or_else(token_not_valid)?;
    let claims = state
        .jwt
        .verify(&token, TokenType::Refresh)
        .ok_or_else(token_not_valid)?;
    let family = claims.family.clone().ok_or_else(token_not_valid)?;
    if family_revoked(&state, &family).await? {
        return Err(token_not_valid());
    }
    let user = state
        .store
        .users()
        .get(claims.user_id)
        .await?
        .ok_or_else(token_not_valid)?;
    if user.token_generation != claims.generation {
        return Err(token_not_valid());
    }
    let access = state
        .jwt
        .access_token(user.id, user.token_generation, &family);
    if !state.rotate_refresh_tokens {
        return Ok(HttpResponse::Ok().json(json!({ "access": access })));
    }
    let used = UsedRefreshToken {
        id: 0,
        jti: claims.jti,
        family: family.clone(),
        expires_at: claims.exp,
    };
    match state.store.repo::<UsedRefreshToken>().insert(used).await {
        Ok(_) => {
            let refresh = state
                .jwt
                .refresh_token(user.id, user.token_generation, family);
            Ok(HttpResponse::Ok().json(json!({ "access": access, "refresh": refresh })))
        }
        Err(StoreError::Duplicate) => {
            tracing::warn!(
                user_id = user.id,
                "rotated refresh token reused: family revoked"
            );
            revoke_family(&state, family, claims.exp).await?;
            Err(token_not_valid())
        }
        Err(err) => Err(err.into()),
    }
}

/// `POST /api/users/token/revoke/` (log out): revokes the given refresh token with every
/// token refreshed from it, and the access token in `Authorization`, if any.
pub async fn token_revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let mut input = body.0;
    let refresh = input.optional_str("refresh");
    let access = bearer_token(&req).map(str::to_owned);
    if refresh.is_none() && access.is_none() {
        input.error(
            "refresh",
            "Send the refresh token to revoke, or an access token in Authorization.",
        );
    }
    input.finish()?;
    if let Some(refresh) = refresh {
        let claims = state
            .jwt
            .verify(&refresh, TokenType::Refresh)
            .ok_or_else(token_not_valid)?;
        let family = claims.family.ok_or_else(token_not_valid)?;
        revoke_family(&state, family, claims.exp).await?;
    }
    // An access token that no longer verifies needs no revoking.
    if let Some(claims) = access.and_then(|t| state.jwt.verify(t.as_str(), TokenType::Access)) {
        let doc = RevokedToken {
            id: 0,
            jti: claims.jti,
            expires_at: claims.exp,
        };
        match state.store.repo::<RevokedToken>().insert(doc).await {
            Ok(_) | Err(StoreError::Duplicate) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(HttpResponse::NoContent().finish())
}
