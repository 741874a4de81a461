//! One identity core behind the four account doors (seeds 003, 001, 002 and 000). Each
//! door reads its documented input into a [`Registration`] or a [`UserChange`], calls
//! [`register`], [`sign_in`], [`change`] or [`delete`] here, and renders its documented
//! shape; the rules that decide who an account is and who may move it are written once:
//!
//! - one password policy (not like the account's email or username), hashed with argon2id;
//! - emails and usernames unique in any case, `email_lower` and `username_lower` set in one
//!   place ([`set_email`], [`set_username`]), and a refused unique index named by its field;
//! - a new password or a moved email of one's own needs `current_password` (a guess counted
//!   like a failed sign-in by the adapter, [`is_wrong_current_password`]);
//! - how an account signs in (email, username) is changed only by its owner or a
//!   superuser; a password only by its owner, and a new one revokes every token and key;
//! - an account keeps an email or a username to sign in with;
//! - a deleted account is changed by no one, signs in nowhere, and is erased in one place.
//!
//! # Layout
//!
//! - this file: the core's four operations and the checks they share;
//! - [`fields`]: readers of the fields several doors share.

pub mod fields;

use super::password;
use super::permissions::{self, Permission};
use crate::domain::clock::now;
use crate::domain::input::{missing_pk, Input};
use crate::domain::{Email, Password, Username};
use crate::error::ApiError;
use crate::store::{FieldPath, Filter, Group, Store, StoreError, User};

pub const EMAIL_TAKEN: &str = "user with this email already exists.";
pub const USERNAME_TAKEN: &str = "A user with that username already exists.";
/// What every door with a password answers for a wrong pair (seeds 000 and 001).
pub const BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";
const CURRENT_PASSWORD: &str = "current_password";
const WRONG_CURRENT_PASSWORD: &str = "The current password is not correct.";
const NOT_YOURS_TO_CHANGE: &str = "You may change only your own account.";

// ---------------------------------------------------------------------------------------
// Who acts on whom

/// Whether `me` acts on `user` under `permission`: their own active account, or any active
/// account for a holder of the permission.
pub fn acts_on(me: &User, user: &User, permission: Permission) -> bool {
    user.deleted_at.is_none() && (user.id == me.id || permissions::holds(me, permission))
}

/// The account `id`, if `sees` it; otherwise 404, whether or not it exists (ids cannot be
/// probed). Each door passes what its document lets the caller see.
pub async fn target(
    store: &Store,
    id: i64,
    sees: impl FnOnce(&User) -> bool,
) -> Result<User, ApiError> {
    let user = store.users().get(id).await?;
    user.filter(sees).ok_or_else(ApiError::not_found)
}

/// Active accounts (deleted ones are kept, erased, for their teachers' records).
pub fn active() -> Filter {
    Filter::Eq("deleted_at", serde_json::Value::Null)
}

// ---------------------------------------------------------------------------------------
// Uniqueness

/// Sets the email and its lower-cased key together (`None`: the account has none).
pub fn set_email(user: &mut User, email: Option<&Email>) {
    user.email = email.map(|e| e.as_str().to_owned());
    user.email_lower = email.map(Email::normalized);
}

/// Sets the username and its lower-cased key together (`None`: the account has none).
pub fn set_username(user: &mut User, username: Option<&Username>) {
    user.username = username.map(|u| u.as_str().to_owned());
    user.username_lower = username.map(Username::normalized);
}

async fn user_by_username(store: &Store, username: &str) -> Result<Option<User>, StoreError> {
    let filter = Filter::Eq("username_lower", username.to_lowercase().into());
    store.users().find_one(&filter).await
}

/// Records an error when another account than `me` has this email (the unique index is the
/// real guard; this names the problem together with any others).
async fn check_email_free(
    store: &Store,
    input: &mut Input,
    email: &Email,
    me: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(other) = store.user_by_email(email.as_str()).await? {
        if Some(other.id) != me {
            input.error("email", EMAIL_TAKEN);
        }
    }
    Ok(())
}

/// Records an error when another account than `me` has this username.
async fn check_username_free(
    store: &Store,
    input: &mut Input,
    username: &Username,
    me: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(other) = user_by_username(store, username.as_str()).await? {
        if Some(other.id) != me {
            input.error("username", USERNAME_TAKEN);
        }
    }
    Ok(())
}

/// A unique index refused a write that set an email and/or a username: names the one taken
/// (a concurrent write took it between the check and the write).
async fn duplicate(
    store: &Store,
    err: StoreError,
    email: Option<&Email>,
    username: Option<&Username>,
) -> ApiError {
    if !matches!(err, StoreError::Duplicate) {
        return err.into();
    }
    if let Some(username) = username {
        let taken = matches!(
            user_by_username(store, username.as_str()).await,
            Ok(Some(_))
        );
        if taken || email.is_none() {
            return ApiError::field("username", USERNAME_TAKEN);
        }
    }
    ApiError::field("email", EMAIL_TAKEN)
}

/// The one password policy: checked against what the account signs in with.
fn new_password(input: &mut Input, raw: &str, like: Option<&str>) -> Option<Password> {
    input.check("password", Password::parse(raw, like))
}

// ---------------------------------------------------------------------------------------
// Register

/// What a door read of a new account.
pub struct Registration {
    pub email: Option<Email>,
    pub username: Option<Username>,
    /// As sent (`None`: missing, with its error recorded); checked here against the policy.
    pub password: Option<String>,
    /// Every other field the door reads (names, profile, organization…); the identity
    /// fields and the dates are set here. `signup_pending` (seed 002) marks a sign-up that
    /// waits for its emailed code, which may replace an earlier such sign-up.
    pub account: User,
}

impl Registration {
    /// A sign-up with an email and no username (every door but seed 001's).
    pub fn with_email(email: Option<Email>, password: Option<String>, account: User) -> Self {
        Registration {
            email,
            username: None,
            password,
            account,
        }
    }
}

/// What [`register`] did.
pub enum Registered {
    /// The account is stored.
    New(User),
    /// The address belongs to a sign-up never verified, which this one replaces: nothing
    /// is written yet; the door takes its code slot, then calls [`replace_pending`].
    ReplacesPending { pending_id: i64, account: User },
}

impl Registered {
    /// The stored account, for the doors whose sign-ups replace none.
    pub fn stored(self) -> Result<User, ApiError> {
        match self {
            Registered::New(user) => Ok(user),
            Registered::ReplacesPending { .. } => Err(ApiError::internal(
                "only a sign-up that waits for its code replaces another",
            )),
        }
    }
}

/// Registers an account: the password policy, a free email and username, then one insert.
/// `input` holds the door's field errors so far; one 400 names them all with these.
pub async fn register(
    store: &Store,
    mut input: Input,
    new: Registration,
) -> Result<Registered, ApiError> {
    let Registration {
        email,
        username,
        password,
        account,
    } = new;
    let like = email
        .as_ref()
        .map(Email::as_str)
        .or(username.as_ref().map(Username::as_str));
    let password = password.and_then(|raw| new_password(&mut input, &raw, like));
    if let Some(username) = &username {
        check_username_free(store, &mut input, username, None).await?;
    }
    // An unverified sign-up of the address is replaced, not a reason to refuse: its maker
    // may not own the mailbox, and must not keep the owner from signing up.
    let mut pending = None;
    if let Some(email) = &email {
        if account.signup_pending {
            pending = store
                .user_by_email(email.as_str())
                .await?
                .filter(|u| u.signup_pending && u.email_unverified && u.deleted_at.is_none());
        }
        if pending.is_none() {
            check_email_free(store, &mut input, email, None).await?;
        }
    }
    input.finish()?;
    // Every field that failed to parse recorded an error, so finish() returned it above.
    let Some(password) = password.filter(|_| email.is_some() || username.is_some()) else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };
    let joined = now();
    let mut account = User {
        id: 0,
        password_hash: password::hash(password).await?,
        token_generation: 0,
        date_joined: joined,
        updated_at: joined,
        deleted_at: None,
        ..account
    };
    set_email(&mut account, email.as_ref());
    set_username(&mut account, username.as_ref());
    if let Some(pending) = pending {
        let pending_id = pending.id;
        return Ok(Registered::ReplacesPending {
            pending_id,
            account,
        });
    }
    match store.users().insert(account).await {
        Ok(user) => Ok(Registered::New(user)),
        Err(err) => Err(duplicate(store, err, email.as_ref(), username.as_ref()).await),
    }
}

/// Replaces a pending sign-up by a new one of its address: the new fields, and a token
/// generation past the old one's, so neither its password nor its code verifies it.
pub async fn replace_pending(
    store: &Store,
    pending_id: i64,
    account: User,
) -> Result<User, ApiError> {
    let taken = || ApiError::field("email", EMAIL_TAKEN);
    store
        .users()
        .update(pending_id, |u| {
            // Verified (or changed) in between: the address is taken now.
            if !(u.signup_pending && u.email_unverified && u.email_lower == account.email_lower) {
                return Err(taken());
            }
            *u = User {
                id: u.id,
                token_generation: u.token_generation + 1,
                ..account.clone()
            };
            Ok(())
        })
        .await?
        .ok_or_else(taken)
}

// ---------------------------------------------------------------------------------------
// Sign in

/// How a door names the account signing in.
#[derive(Debug, Clone, Copy)]
pub enum LoginBy {
    /// Seeds 003 and 000 (and HTTP Basic): an email, read from `email`.
    Email,
    /// Seed 001: a username, or, for accounts from the other doors (which have none), an
    /// email; read from `username`.
    UsernameOrEmail,
}

impl LoginBy {
    /// The request field the login is read from.
    pub fn field(self) -> &'static str {
        match self {
            LoginBy::Email => "email",
            LoginBy::UsernameOrEmail => "username",
        }
    }
}

/// Reads a sign-in's login (from `login_field`) and password, both required.
pub fn credentials(mut input: Input, login_field: &str) -> Result<(String, String), ApiError> {
    let login = input.required_str(login_field);
    let password = input.required_str("password");
    input.finish()?;
    login
        .zip(password)
        .ok_or_else(|| ApiError::internal("required fields missing after validation"))
}

async fn find(store: &Store, by: LoginBy, login: &str) -> Result<Option<User>, StoreError> {
    let login = login.trim();
    match by {
        LoginBy::Email => store.user_by_email(login).await,
        LoginBy::UsernameOrEmail => match user_by_username(store, login).await? {
            None if login.contains('@') => store.user_by_email(login).await,
            found => Ok(found),
        },
    }
}

/// The account a login and a password sign in to, if they do. argon2 on the blocking pool;
/// a missing account, and one without a password (made by Facebook log-in, or deleted),
/// cost the same dummy verification, so timing tells no one which logins exist. An
/// unverified email or a deleted account signs in nowhere.
pub async fn sign_in(
    store: &Store,
    by: LoginBy,
    login: &str,
    password: String,
) -> Result<Option<User>, ApiError> {
    let user = find(store, by, login).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|hash| hash.starts_with('$'));
    Ok(match (password::verify(password, hash).await?, user) {
        (true, Some(user)) if user.can_sign_in() => Some(user),
        _ => None,
    })
}

/// A sign-in of the key doors (seeds 000 and 001): the login and password of `input`, and
/// the account, or their documented 400 `non_field_errors` for a wrong pair.
pub async fn sign_in_input(store: &Store, input: Input, by: LoginBy) -> Result<User, ApiError> {
    let (login, password) = credentials(input, by.field())?;
    sign_in(store, by, &login, password)
        .await?
        .ok_or_else(|| ApiError::field("non_field_errors", BAD_CREDENTIALS))
}

/// Whether a sign-in failed on its credentials (what rate limits count), not on its shape.
pub fn is_bad_credentials(err: &ApiError) -> bool {
    matches!(err, ApiError::Validation(fields) if fields.contains_key("non_field_errors"))
}

// ---------------------------------------------------------------------------------------
// Change

/// What a door read of a change: each field `None` when not sent. A door sets only the
/// fields its document has.
#[derive(Debug, Default)]
pub struct UserChange {
    /// `Some(None)` clears it (seed 001), while a username is left to sign in with.
    pub email: Option<Option<Email>>,
    /// `Some(None)` clears it (seed 001), while an email is left to sign in with.
    pub username: Option<Option<Username>>,
    /// A new password as sent; checked here against the policy.
    pub password: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `Some(None)` clears it.
    pub photo: Option<Option<String>>,
    /// Seed 001's link to a person record.
    pub person: Option<Option<i64>>,
    /// Seed 002's profile.
    pub phone: Option<String>,
    pub gender: Option<String>,
    pub country: Option<String>,
    pub birthday: Option<Option<String>>,
    pub address: Option<Option<String>>,
    /// Seed 003: the organization to join (`Some(None)`: to leave, which is refused).
    pub organization_id: Option<Option<i64>>,
    /// Seed 003: asking for (or giving up) teacher rights.
    pub is_teacher: Option<bool>,
    /// Seed 002: a moved email waits for its emailed code before the account signs in again.
    pub verify_new_email: bool,
}

/// Whether a refused change named a wrong `current_password`: a password guess, counted
/// like a failed sign-in.
pub fn is_wrong_current_password(err: &ApiError) -> bool {
    matches!(err, ApiError::Validation(errors)
        if errors.get(CURRENT_PASSWORD).is_some_and(|m| m.iter().any(|m| m == WRONG_CURRENT_PASSWORD)))
}

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
        input.error(CURRENT_PASSWORD, WRONG_CURRENT_PASSWORD);
    }
    Ok(())
}

/// Seed 003's organization rules, checked against the stored account: joining an
/// organization is possible once, moving between organizations is not, and an
/// organization's owner stays its teacher. Answers the organization joined and whether the
/// account owns its organization.
async fn check_membership(
    store: &Store,
    input: &mut Input,
    target: &User,
    change: &UserChange,
) -> Result<(Option<i64>, bool), ApiError> {
    let mut joins = None;
    match change.organization_id {
        Some(requested) if requested == target.organization_id => {}
        Some(Some(id)) if target.organization_id.is_none() => {
            if store.organizations().get(id).await?.is_some() {
                joins = Some(id);
            } else {
                input.error("organization_id", missing_pk(id));
            }
        }
        Some(_) => input.error(
            "organization_id",
            "You cannot leave or change your organization.",
        ),
        None => {}
    }
    if change.is_teacher.is_none() {
        return Ok((joins, false));
    }
    let owns_org = match target.organization_id {
        Some(org) => store
            .organizations()
            .get(org)
            .await?
            .is_some_and(|o| o.owner_id == target.id),
        None => false,
    };
    if owns_org && change.is_teacher == Some(false) {
        input.error(
            "is_teacher",
            "The owner of an organization stays its teacher.",
        );
    }
    Ok((joins, owns_org))
}

/// Why the write of a change did not happen.
enum Refused {
    /// Deleted meanwhile.
    Gone,
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(err: StoreError) -> Self {
        Refused::Store(err)
    }
}

/// Changes `target` on behalf of `me` (the door found `target` visible to `me`): refused
/// with 403 unless `me` may manage it; then every rule of the module's summary, one 400
/// naming every problem (with the door's field errors in `input`), and one write.
pub async fn change(
    store: &Store,
    me: &User,
    target: &User,
    mut input: Input,
    change: UserChange,
) -> Result<User, ApiError> {
    if !permissions::may_manage(me, target, Permission::ChangeUsers) {
        return Err(ApiError::forbidden(NOT_YOURS_TO_CHANGE));
    }
    let own = target.id == me.id;
    if let Some(person) = change.person {
        if person != target.person && !me.is_superuser {
            input.error("person", "Only administrators link an account to a person.");
        }
    }
    if change.password.is_some() && !own {
        input.error(
            "password",
            "Only the account's owner sets its password (with current_password).",
        );
    }
    // Re-sending one's own email or username, in another case too, moves nothing.
    let moves_email = change
        .email
        .as_ref()
        .is_some_and(|e| e.as_ref().map(Email::normalized) != target.email_lower);
    let moves_username = change
        .username
        .as_ref()
        .is_some_and(|u| u.as_ref().map(Username::normalized) != target.username_lower);
    let password = change.password.as_deref().filter(|_| own).and_then(|raw| {
        let email = match &change.email {
            Some(email) => email.as_ref().map(Email::as_str),
            None => target.email.as_deref(),
        };
        new_password(&mut input, raw, email.or(target.username.as_deref()))
    });
    // A new email would receive the codes and password resets, and so hand over the
    // account: only its owner or a superuser moves it (nor a holder of "change users").
    if !permissions::may_change_identity(me, target) {
        for (field, moves) in [("email", moves_email), ("username", moves_username)] {
            if moves {
                input.error(
                    field,
                    "Only the account's owner or an administrator changes how it signs in.",
                );
            }
        }
    }
    let keeps_email = change
        .email
        .as_ref()
        .map_or(target.email_lower.is_some(), Option::is_some);
    let keeps_username = change
        .username
        .as_ref()
        .map_or(target.username_lower.is_some(), Option::is_some);
    if !keeps_email && !keeps_username {
        let field = if change.email.is_some() {
            "email"
        } else {
            "username"
        };
        input.error(
            field,
            "An account keeps an email or a username to sign in with.",
        );
    }
    if let (true, Some(Some(email))) = (moves_email, &change.email) {
        check_email_free(store, &mut input, email, Some(target.id)).await?;
    }
    if let (true, Some(Some(username))) = (moves_username, &change.username) {
        check_username_free(store, &mut input, username, Some(target.id)).await?;
    }
    // The password and the email are what a log-in rests on: changing either asks for the
    // current password, so a stolen (short-lived) token or key cannot take the account for
    // good.
    if own && (moves_email || change.password.is_some()) {
        check_current_password(&mut input, me).await?;
    }
    let (joins, owns_org) = check_membership(store, &mut input, target, &change).await?;
    input.finish()?;

    let password_hash = match password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let stamp = now();
    let written = store
        .users()
        .update(target.id, |user| {
            if user.deleted_at.is_some() {
                return Err(Refused::Gone);
            }
            apply(user, &change, moves_email, joins, owns_org);
            if let Some(hash) = &password_hash {
                user.password_hash = hash.clone();
                user.token_generation += 1;
            }
            user.updated_at = stamp;
            Ok(())
        })
        .await;
    match written {
        Ok(user) => user.ok_or_else(ApiError::not_found),
        Err(Refused::Gone) => Err(ApiError::not_found()),
        Err(Refused::Store(err)) => {
            let email = change.email.flatten();
            let username = change.username.flatten();
            Err(duplicate(store, err, email.as_ref(), username.as_ref()).await)
        }
    }
}

/// Writes a checked change onto the stored account.
fn apply(
    user: &mut User,
    change: &UserChange,
    moves_email: bool,
    joins: Option<i64>,
    owns_org: bool,
) {
    if let Some(email) = &change.email {
        set_email(user, email.as_ref());
        if moves_email && change.verify_new_email {
            user.email_unverified = true;
        }
    }
    if let Some(username) = &change.username {
        set_username(user, username.as_ref());
    }
    let set = |to: &mut Option<String>, from: &Option<String>| {
        if let Some(value) = from {
            *to = Some(value.clone());
        }
    };
    if let Some(first) = &change.first_name {
        user.first_name = first.clone();
    }
    if let Some(last) = &change.last_name {
        user.last_name = last.clone();
    }
    set(&mut user.phone, &change.phone);
    set(&mut user.gender, &change.gender);
    set(&mut user.country, &change.country);
    for (to, from) in [
        (&mut user.photo, &change.photo),
        (&mut user.birthday, &change.birthday),
        (&mut user.address, &change.address),
    ] {
        if let Some(value) = from {
            *to = value.clone();
        }
    }
    if let Some(person) = change.person {
        user.person = person;
    }
    if let Some(org) = joins {
        user.organization_id = Some(org);
        user.is_teacher = false;
    }
    match change.is_teacher {
        Some(true) if owns_org => user.is_teacher = true,
        Some(true) if !user.is_teacher => user.teacher_requested = true,
        Some(false) => {
            user.is_teacher = false;
            user.teacher_requested = false;
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Delete

/// Deletes `target` on behalf of `me`: their own account, or anyone's for a holder of
/// "delete users" (a superuser's by superusers only). The account stays, erased: personal
/// fields cleared (its email and username free again), every token and key revoked, out of
/// its groups; completions it submitted stay in their teachers' records with the student
/// shown as deleted. An organization's owner cannot be deleted while the organization
/// needs them.
pub async fn delete(store: &Store, me: &User, target: &User) -> Result<(), ApiError> {
    if !permissions::may_manage(me, target, Permission::DeleteUsers) {
        return Err(ApiError::forbidden("You may delete only your own account."));
    }
    let owns = store
        .organizations()
        .count(&Filter::Eq("owner_id", target.id.into()))
        .await?;
    if owns > 0 {
        return Err(ApiError::bad_request(
            "The owner of an organization cannot be deleted: the organization needs its owner.",
        ));
    }
    // Out of its groups first: should that fail, the account is still whole and a retry
    // does the rest.
    let members = FieldPath::parse(["members"])?;
    let groups = store
        .repo::<Group>()
        .find(&Filter::Contains("members", target.id.into()), None)
        .await?;
    for group in groups {
        store
            .groups()
            .set_membership(group.id, &members, target.id.into(), false)
            .await?;
    }
    let stamp = now();
    store
        .users()
        .update(target.id, |user| {
            *user = User {
                id: user.id,
                organization_id: user.organization_id,
                token_generation: user.token_generation + 1,
                date_joined: user.date_joined,
                updated_at: stamp,
                deleted_at: Some(stamp),
                ..User::default()
            };
            Ok::<_, StoreError>(())
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(user_id = target.id, by = me.id, "account deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> Email {
        Email::parse(raw).unwrap()
    }

    #[test]
    fn an_email_and_its_key_are_set_and_cleared_together() {
        let mut user = User::default();
        set_email(&mut user, Some(&email("Ann@Example.org")));
        assert_eq!(user.email.as_deref(), Some("Ann@Example.org"));
        assert_eq!(user.email_lower.as_deref(), Some("ann@example.org"));
        set_email(&mut user, None);
        assert_eq!((user.email, user.email_lower), (None, None));
    }

    #[test]
    fn a_moved_email_waits_for_its_code_only_where_the_door_says_so() {
        let change = |verify_new_email| UserChange {
            email: Some(Some(email("new@example.org"))),
            verify_new_email,
            ..UserChange::default()
        };
        let mut user = User::default();
        apply(&mut user, &change(false), true, None, false);
        assert!(!user.email_unverified);
        apply(&mut user, &change(true), false, None, false);
        assert!(!user.email_unverified, "re-sent, not moved");
        apply(&mut user, &change(true), true, None, false);
        assert!(user.email_unverified);
        assert_eq!(user.email_lower.as_deref(), Some("new@example.org"));
    }

    #[test]
    fn fields_not_sent_are_kept_and_sent_ones_set_or_cleared() {
        let mut user = User {
            first_name: "Ann".to_owned(),
            phone: Some("+1234567890".to_owned()),
            photo: Some("/media/a.png".to_owned()),
            address: Some("1 Main St".to_owned()),
            ..User::default()
        };
        let change = UserChange {
            last_name: Some("Lee".to_owned()),
            photo: Some(None),
            country: Some("US".to_owned()),
            ..UserChange::default()
        };
        apply(&mut user, &change, false, None, false);
        assert_eq!(user.first_name, "Ann");
        assert_eq!(user.last_name, "Lee");
        assert_eq!(user.phone.as_deref(), Some("+1234567890"));
        assert_eq!(user.photo, None);
        assert_eq!(user.country.as_deref(), Some("US"));
        assert_eq!(user.address.as_deref(), Some("1 Main St"));
    }

    #[test]
    fn one_acts_on_oneself_and_with_a_permission_on_others_but_never_on_the_deleted() {
        let me = User {
            id: 1,
            ..User::default()
        };
        let other = User {
            id: 2,
            ..User::default()
        };
        assert!(acts_on(&me, &me, Permission::ChangeUsers));
        assert!(!acts_on(&me, &other, Permission::ChangeUsers));
        let holder = User {
            permissions: vec![Permission::ChangeUsers.id()],
            ..me.clone()
        };
        assert!(acts_on(&holder, &other, Permission::ChangeUsers));
        assert!(!acts_on(&holder, &other, Permission::DeleteUsers));
        let deleted = User {
            deleted_at: Some(1),
            ..other
        };
        assert!(!acts_on(&holder, &deleted, Permission::ChangeUsers));
    }
}
