//! Seed 000's course-platform accounts (`/api/v1/user/…`): registration and sign-in with an
//! email for an API key, Facebook log-in, and who sees and changes whom. Password resets are
//! in [`super::resets`]; the third parties in [`super::facebook`] and [`super::stripe`].

use std::time::Duration;

use super::directory::{optional_name, BAD_CREDENTIALS};
use super::facebook::{FacebookApp, FacebookProfile};
use super::jwt::now;
use super::permissions::{self, Permission};
use super::stripe::Stripe;
use super::users::{self, check_current_password, check_email_free, email};
use super::{keys, password};
use crate::domain::input::Input;
use crate::domain::{Email, Name, Password};
use crate::error::{ApiError, ErrorCode};
use crate::settings::PlatformSettings;
use crate::store::{Filter, Store, StoreError, User};

/// The stored password of an account made by Facebook log-in: not a PHC string, so no
/// password verifies against it, yet not empty, which would mean a deleted account. A
/// password reset gives such an account a password.
pub(super) const NO_PASSWORD: &str = "!facebook";

pub const FACEBOOK_EMAIL_TAKEN: &str = "An account with this Facebook account's email already \
     exists. Sign in with its password; Facebook log-in is not linked to it.";

/// Seed 000's third parties and settings, as the server holds them.
pub struct Platform {
    /// The client for Facebook and Stripe: bounded waits, so a hung third party holds no
    /// request (nor background task) for long.
    pub http: reqwest::Client,
    /// `None`: Facebook log-in answers 503.
    pub facebook: Option<FacebookApp>,
    /// `None`: accounts get no Stripe customer.
    pub stripe: Option<Stripe>,
    /// How long a password-reset link works.
    pub reset_ttl: Duration,
}

impl Platform {
    pub fn new(settings: &PlatformSettings) -> Result<Platform, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|err| format!("HTTP client: {err}"))?;
        Ok(Platform {
            http,
            facebook: FacebookApp::from_settings(settings),
            stripe: Stripe::from_settings(settings),
            reset_ttl: settings.password_reset_ttl,
        })
    }

    /// What every door that makes an account calls once it is stored.
    fn registered(&self, store: &Store, user: &User) {
        if let Some(stripe) = &self.stripe {
            stripe.create_customer_later(&self.http, store, user);
        }
    }
}

/// A user and a new API key of theirs.
pub struct SignedIn {
    pub user: User,
    pub key: String,
}

/// `POST /api/v1/user/` and `registration/`: email and password required, names optional.
pub async fn register(
    store: &Store,
    platform: &Platform,
    mut input: Input,
) -> Result<User, ApiError> {
    let email = email(&mut input, true);
    let first_name = optional_name(&mut input, "first_name").unwrap_or_default();
    let last_name = optional_name(&mut input, "last_name").unwrap_or_default();
    let raw_password = input.required_str("password");
    let password = raw_password.and_then(|raw| {
        let parsed = Password::parse(&raw, email.as_ref().map(Email::as_str));
        input.check("password", parsed)
    });
    if let Some(email) = &email {
        check_email_free(store, &mut input, email, None).await?;
    }
    input.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };
    let user = User {
        email: Some(email.as_str().to_owned()),
        email_lower: Some(email.normalized()),
        password_hash: password::hash(password).await?,
        first_name,
        last_name,
        date_joined: now(),
        ..User::default()
    };
    let user = store
        .users()
        .insert(user)
        .await
        .map_err(users::email_taken)?;
    tracing::info!(user_id = user.id, "user registered on the course platform");
    platform.registered(store, &user);
    Ok(user)
}

/// `login/`: email and password for a new API key. An unknown email and a wrong password
/// answer the same 400 `non_field_errors` after the same work (a dummy hash is verified
/// when there is no password to verify).
pub async fn sign_in(store: &Store, mut input: Input, key_ttl: i64) -> Result<SignedIn, ApiError> {
    let email = input.required_str("email");
    let password = input.required_str("password");
    input.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal(
            "required fields missing after validation",
        ));
    };
    let user = match Email::parse(email.trim()) {
        Ok(email) => store.user_by_email(&email.normalized()).await?,
        Err(_) => None,
    };
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|hash| hash.starts_with('$'));
    let user = match (password::verify(password, hash).await?, user) {
        (true, Some(user)) if user.can_sign_in() => user,
        _ => return Err(ApiError::field("non_field_errors", BAD_CREDENTIALS)),
    };
    let key = keys::issue(store, &user, key_ttl).await?;
    Ok(SignedIn { user, key })
}

/// Whether a Facebook log-in failed on its token (what the sign-in limits count).
pub fn is_bad_facebook_token(err: &ApiError) -> bool {
    matches!(err, ApiError::Validation(fields) if fields.contains_key("access_token"))
}

fn name_of(raw: Option<&str>) -> String {
    raw.and_then(|raw| Name::parse(raw).ok())
        .map(Name::into_string)
        .unwrap_or_default()
}

async fn by_facebook_id(store: &Store, id: &str) -> Result<Option<User>, StoreError> {
    store
        .users()
        .find_one(&Filter::Eq("facebook_id", id.into()))
        .await
}

/// `login/facebook/`: the account linked to the token's Facebook user, made on first
/// log-in; a new API key for it. `may_create` is asked before an account is made (the
/// sign-up limit).
/// The answer of `facebook_sign_in`'s `may_create` (a rate limit that may ask the store).
pub type MayCreate =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>> + Send>>;

pub async fn facebook_sign_in(
    store: &Store,
    platform: &Platform,
    mut input: Input,
    key_ttl: i64,
    may_create: impl FnOnce() -> MayCreate,
) -> Result<SignedIn, ApiError> {
    let Some(app) = &platform.facebook else {
        return Err(ApiError::with_detail(
            ErrorCode::Unavailable,
            "Facebook log-in is not configured on this server (TESTIT_FACEBOOK_APP_ID and \
             TESTIT_FACEBOOK_APP_SECRET).",
        ));
    };
    let token = input.required_str("access_token");
    input.finish()?;
    let token = token.ok_or_else(|| ApiError::internal("access_token missing"))?;
    let profile = app.profile(&platform.http, token.trim()).await?;
    let user = match by_facebook_id(store, &profile.id).await? {
        Some(user) => user,
        None => {
            may_create().await?;
            create_from_facebook(store, platform, &profile).await?
        }
    };
    if !user.can_sign_in() {
        return Err(ApiError::field("non_field_errors", BAD_CREDENTIALS));
    }
    let key = keys::issue(store, &user, key_ttl).await?;
    Ok(SignedIn { user, key })
}

async fn create_from_facebook(
    store: &Store,
    platform: &Platform,
    profile: &FacebookProfile,
) -> Result<User, ApiError> {
    let email = profile
        .email
        .as_deref()
        .and_then(|raw| Email::parse(raw).ok());
    // Accounts are linked by Facebook user id only, never by email: Facebook may hand over an
    // address its user never verified, so anyone could put a victim's address on a Facebook
    // account and be signed in as the victim. The account's owner keeps signing in with
    // their password.
    if let Some(email) = &email {
        if let Some(owner) = store.user_by_email(&email.normalized()).await? {
            // A concurrent first log-in of this same Facebook user made it just now.
            if owner.facebook_id.as_deref() == Some(profile.id.as_str()) {
                return Ok(owner);
            }
            return Err(ApiError::field("non_field_errors", FACEBOOK_EMAIL_TAKEN));
        }
    }
    let user = User {
        email: email.as_ref().map(|e| e.as_str().to_owned()),
        email_lower: email.as_ref().map(Email::normalized),
        password_hash: NO_PASSWORD.to_owned(),
        first_name: name_of(profile.first_name.as_deref()),
        last_name: name_of(profile.last_name.as_deref()),
        facebook_id: Some(profile.id.clone()),
        date_joined: now(),
        ..User::default()
    };
    match store.users().insert(user).await {
        Ok(user) => {
            tracing::info!(user_id = user.id, "user registered by Facebook log-in");
            platform.registered(store, &user);
            Ok(user)
        }
        // The first log-ins of one Facebook user raced: the winner's account is theirs.
        // Otherwise the email was taken meanwhile.
        Err(StoreError::Duplicate) => match by_facebook_id(store, &profile.id).await? {
            Some(user) => Ok(user),
            None => Err(ApiError::field("non_field_errors", FACEBOOK_EMAIL_TAKEN)),
        },
        Err(err) => Err(err.into()),
    }
}

/// The accounts the caller may list: a holder of "view users", every active account;
/// anyone else, only themself.
pub fn visible_to(me: &User) -> Filter {
    if permissions::holds(me, Permission::ViewUsers) {
        return users::active();
    }
    Filter::And(vec![Filter::Eq("id", me.id.into()), users::active()])
}

/// The account `id` as the target of an action under `permission`: oneself, or any active
/// account for a holder of it; else 404, whether or not it exists.
pub async fn target(
    store: &Store,
    me: &User,
    id: i64,
    permission: Permission,
) -> Result<User, ApiError> {
    let user = store.users().get(id).await?;
    user.filter(|u| u.deleted_at.is_none() && (u.id == me.id || permissions::holds(me, permission)))
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/v1/user/{id}/`.
pub async fn visible(store: &Store, me: &User, id: i64) -> Result<User, ApiError> {
    target(store, me, id, Permission::ViewUsers).await
}

enum Refused {
    Gone,
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Self {
        Refused::Store(err)
    }
}

/// `PUT /api/v1/user/{id}/` (`partial`: PATCH, or a PUT the seed allows partial but for
/// `email`): names and email of one's own account, or anyone's for a holder of "change
/// users". Moving an email is for the account's owner (with `current_password`, as at every
/// door) or a superuser: a new address would receive the password reset and so hand over
/// the account.
pub async fn change(
    store: &Store,
    me: &User,
    id: i64,
    mut input: Input,
    partial: bool,
) -> Result<User, ApiError> {
    let target = match target(store, me, id, Permission::ChangeUsers).await {
        Ok(target) => target,
        // One who may see the account but not change it is told so below (403).
        Err(_) => visible(store, me, id).await?,
    };
    if !permissions::may_manage(me, &target, Permission::ChangeUsers) {
        return Err(ApiError::forbidden("You may change only your own account."));
    }
    let own = target.id == me.id;
    let new_email = email(&mut input, !partial);
    let first_name = optional_name(&mut input, "first_name");
    let last_name = optional_name(&mut input, "last_name");
    let moves_email = new_email
        .as_ref()
        .is_some_and(|e| Some(e.normalized()) != target.email_lower);
    if moves_email && !permissions::may_change_identity(me, &target) {
        input.error(
            "email",
            "Only the account's owner or an administrator changes how it signs in.",
        );
    }
    if let Some(email) = &new_email {
        check_email_free(store, &mut input, email, Some(target.id)).await?;
    }
    if own && moves_email {
        check_current_password(&mut input, me).await?;
    }
    input.finish()?;
    let stamp = now();
    let written = store
        .users()
        .update(target.id, |user| {
            if user.deleted_at.is_some() {
                return Err(Refused::Gone);
            }
            if let Some(first) = &first_name {
                user.first_name = first.clone();
            }
            if let Some(last) = &last_name {
                user.last_name = last.clone();
            }
            if let Some(email) = &new_email {
                user.email = Some(email.as_str().to_owned());
                user.email_lower = Some(email.normalized());
            }
            user.updated_at = stamp;
            Ok(())
        })
        .await;
    match written {
        Ok(user) => user.ok_or_else(ApiError::not_found),
        Err(Refused::Gone) => Err(ApiError::not_found()),
        Err(Refused::Store(err)) => Err(users::email_taken(err)),
    }
}
