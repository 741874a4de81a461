//! Seed 000's course-platform accounts (`/api/v1/user/…`): registration and sign-in with an
//! email for an API key, Facebook log-in, and who sees and changes whom. Password resets are
//! in [`super::resets`]; the third parties in [`super::facebook`] and [`super::stripe`].

use std::time::Duration;

use super::facebook::{FacebookApp, FacebookProfile};
use super::identity::fields::{email, optional_name, optional_names};
use super::identity::{self, LoginBy, Registration, UserChange, BAD_CREDENTIALS};
use super::keys;
use super::permissions::{self, Permission};
use super::stripe::Stripe;
use crate::domain::clock::now;
use crate::domain::input::Input;
use crate::domain::{Email, Name};
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
    let account = optional_names(&mut input);
    let new = Registration::with_email(email, input.required_str("password"), account);
    let user = identity::register(store, input, new).await?.stored()?;
    tracing::info!(user_id = user.id, "user registered on the course platform");
    platform.registered(store, &user);
    Ok(user)
}

/// `login/`: email and password for a new API key. An unknown email and a wrong password
/// answer the same 400 `non_field_errors` after the same work.
pub async fn sign_in(store: &Store, input: Input, key_ttl: i64) -> Result<SignedIn, ApiError> {
    let user = identity::sign_in_input(store, input, LoginBy::Email).await?;
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
    let mut user = User {
        password_hash: NO_PASSWORD.to_owned(),
        first_name: name_of(profile.first_name.as_deref()),
        last_name: name_of(profile.last_name.as_deref()),
        facebook_id: Some(profile.id.clone()),
        date_joined: now(),
        ..User::default()
    };
    identity::set_email(&mut user, email.as_ref());
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
        return identity::active();
    }
    Filter::And(vec![Filter::Eq("id", me.id.into()), identity::active()])
}

/// `GET /api/v1/user/{id}/`: oneself, or any active account for a holder of "view users";
/// else 404, whether or not it exists.
pub async fn visible(store: &Store, me: &User, id: i64) -> Result<User, ApiError> {
    identity::target(store, id, |u| {
        identity::acts_on(me, u, Permission::ViewUsers)
    })
    .await
}

/// `PUT /api/v1/user/{id}/` (`partial`: PATCH, or a PUT the seed allows partial but for
/// `email`): names and email of one's own account, or anyone's for a holder of "change
/// users" (one who may see it but not change it is told so, 403). Moving an email is for
/// the account's owner (with `current_password`) or a superuser: a new address would
/// receive the password reset and so hand over the account.
pub async fn change(
    store: &Store,
    me: &User,
    id: i64,
    mut input: Input,
    partial: bool,
) -> Result<User, ApiError> {
    let target = identity::target(store, id, |u| {
        identity::acts_on(me, u, Permission::ChangeUsers)
            || identity::acts_on(me, u, Permission::ViewUsers)
    })
    .await?;
    let change = UserChange {
        email: email(&mut input, !partial).map(Some),
        first_name: optional_name(&mut input, "first_name"),
        last_name: optional_name(&mut input, "last_name"),
        ..UserChange::default()
    };
    identity::change(store, me, &target, input, change).await
}
