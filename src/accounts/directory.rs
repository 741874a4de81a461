//! The user directory of seed 001 (`/api/users/signup`, `signin`, `{id}`, `{id}/permissions`):
//! accounts with a username, signed in with opaque API keys; changing and deleting accounts,
//! one's own or, with the matching permission, anyone's; granting permissions.

use serde_json::Value;

use super::jwt::now;
use super::permissions::{self, Permission};
use super::users::{self, check_current_password, check_email_free, email, name, photo};
use super::{keys, password};
use crate::domain::input::Input;
use crate::domain::{Email, Password, Username};
use crate::error::ApiError;
use crate::store::{FieldPath, Filter, Group, Store, StoreError, User};

const USERNAME_TAKEN: &str = "A user with that username already exists.";
pub(super) const BAD_CREDENTIALS: &str = "Unable to log in with provided credentials.";

fn username(input: &mut Input, required: bool) -> Option<Username> {
    let raw = if required {
        input.required_str("username")
    } else {
        input.optional_str("username")
    }?;
    let username = input.check("username", Username::parse(&raw))?;
    // `signin` takes an email where an account has no username: a username that is an
    // email address could shadow someone's email.
    if Email::parse(username.as_str()).is_ok() {
        input.error("username", "A username may not be an email address.");
        return None;
    }
    Some(username)
}

/// A name that seeds 000 and 001 let one leave out (stored empty).
pub(super) fn optional_name(input: &mut Input, field: &str) -> Option<String> {
    match input.raw(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => Some(String::new()),
        Some(_) => name(input, field, false).map(|n| n.into_string()),
    }
}

async fn user_by_username(store: &Store, username: &str) -> Result<Option<User>, StoreError> {
    let filter = Filter::Eq("username_lower", username.to_lowercase().into());
    store.users().find_one(&filter).await
}

/// Records an error when another account has this username.
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

/// A unique index refused a write that set an email and a username: names the one taken
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
        if let Ok(Some(_)) = user_by_username(store, username.as_str()).await {
            return ApiError::field("username", USERNAME_TAKEN);
        }
    }
    match email {
        Some(_) => users::email_taken(StoreError::Duplicate),
        None => ApiError::field("username", USERNAME_TAKEN),
    }
}

/// `POST /api/users/signup`: an account with a username (required) and, optionally, an
/// email and names. Passwords follow the one policy of every door.
pub async fn sign_up(store: &Store, mut input: Input) -> Result<User, ApiError> {
    let username = username(&mut input, true);
    let email = match input.raw("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(_) => email(&mut input, false),
    };
    let first_name = optional_name(&mut input, "first_name").unwrap_or_default();
    let last_name = optional_name(&mut input, "last_name").unwrap_or_default();
    let raw_password = input.required_str("password");
    let password = raw_password.and_then(|raw| {
        let like = email
            .as_ref()
            .map(Email::as_str)
            .or(username.as_ref().map(Username::as_str));
        input.check("password", Password::parse(&raw, like))
    });
    if let Some(username) = &username {
        check_username_free(store, &mut input, username, None).await?;
    }
    if let Some(email) = &email {
        check_email_free(store, &mut input, email, None).await?;
    }
    input.finish()?;
    let (Some(username), Some(password)) = (username, password) else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };
    let user = User {
        email: email.as_ref().map(|e| e.as_str().to_owned()),
        email_lower: email.as_ref().map(Email::normalized),
        username: Some(username.as_str().to_owned()),
        username_lower: Some(username.normalized()),
        password_hash: password::hash(password).await?,
        first_name,
        last_name,
        date_joined: now(),
        ..User::default()
    };
    match store.users().insert(user).await {
        Ok(user) => {
            tracing::info!(user_id = user.id, "user signed up with a username");
            Ok(user)
        }
        Err(err) => Err(duplicate(store, err, email.as_ref(), Some(&username)).await),
    }
}

/// Whether a sign-in failed on its credentials (what rate limits count), not on its shape.
pub fn is_bad_credentials(err: &ApiError) -> bool {
    matches!(err, ApiError::Validation(fields) if fields.contains_key("non_field_errors"))
}

/// What a successful `signin` answers: the user, their groups and permissions, and a new key.
pub struct SignedIn {
    pub user: User,
    pub groups: Vec<i64>,
    pub permissions: Vec<i64>,
    pub key: String,
}

/// The ids of the groups `user` belongs to.
pub async fn groups_of(store: &Store, user: &User) -> Result<Vec<i64>, StoreError> {
    let groups = store
        .groups()
        .find(&Filter::Contains("members", user.id.into()), None)
        .await?;
    Ok(groups.iter().map(|g| g.id).collect())
}

/// `POST /api/users/signin`: a username (or, for accounts from the other doors, which have
/// none, an email) and a password for a new API key. A wrong pair, an unverified email and a
/// deleted account all answer the documented 400 `non_field_errors`.
pub async fn sign_in(store: &Store, mut input: Input, key_ttl: i64) -> Result<SignedIn, ApiError> {
    let login = input.required_str("username");
    let password = input.required_str("password");
    input.finish()?;
    let (Some(login), Some(password)) = (login, password) else {
        return Err(ApiError::internal(
            "required fields missing after validation",
        ));
    };
    let login = login.trim();
    let mut user = user_by_username(store, login).await?;
    if user.is_none() && login.contains('@') {
        user = store.user_by_email(login).await?;
    }
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let user = match (password::verify(password, hash).await?, user) {
        (true, Some(user)) if user.can_sign_in() => user,
        _ => return Err(ApiError::field("non_field_errors", BAD_CREDENTIALS)),
    };
    let key = keys::issue(store, &user, key_ttl).await?;
    Ok(SignedIn {
        groups: groups_of(store, &user).await?,
        permissions: permissions::held(&user),
        user,
        key,
    })
}

/// The account `id` as the target of an action under `permission`: one the caller may see,
/// or, for a holder of the permission, any active account (else 404).
async fn target_of(
    store: &Store,
    me: &User,
    id: i64,
    permission: Permission,
) -> Result<User, ApiError> {
    let user = store.users().get(id).await?;
    user.filter(|u| {
        users::can_see(me, u) || (u.deleted_at.is_none() && permissions::holds(me, permission))
    })
    .ok_or_else(ApiError::not_found)
}

/// Why a read-modify-write of an account did not happen.
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

/// `PUT /api/users/{id}` (partial, as seed 001 shows): the caller's own account, or anyone's
/// for a holder of "change users". Names, email, username and photo; `person` only by
/// superusers; a password only by the account's owner, with `current_password` (as a new
/// email of one's own needs). A new password revokes every token and key of the account.
pub async fn change(store: &Store, me: &User, id: i64, mut input: Input) -> Result<User, ApiError> {
    let target = target_of(store, me, id, Permission::ChangeUsers).await?;
    let own = target.id == me.id;
    if !permissions::may_manage(me, &target, Permission::ChangeUsers) {
        return Err(ApiError::forbidden("You may change only your own account."));
    }
    let first_name = optional_name(&mut input, "first_name");
    let last_name = optional_name(&mut input, "last_name");
    let photo = photo(&mut input);
    // Null clears the email or the username, as long as the other is left to sign in with.
    let new_email = match input.raw("email") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(_) => email(&mut input, false).map(Some),
    };
    let new_username = match input.raw("username") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => username(&mut input, false).map(Some),
    };
    let person = input.nullable_int("person");
    if person.is_some_and(|p| p != target.person) && !me.is_superuser {
        input.error("person", "Only administrators link an account to a person.");
    }
    let raw_password = input.optional_str("password");
    if raw_password.is_some() && !own {
        input.error(
            "password",
            "Only the account's owner sets its password (with current_password).",
        );
    }
    let password = raw_password.filter(|_| own).and_then(|raw| {
        let like = target.email.clone().or(target.username.clone());
        input.check("password", Password::parse(&raw, like.as_deref()))
    });
    let keeps_email = new_email
        .as_ref()
        .map_or(target.email_lower.is_some(), Option::is_some);
    let keeps_username = new_username
        .as_ref()
        .map_or(target.username_lower.is_some(), Option::is_some);
    let moves_username = new_username
        .as_ref()
        .is_some_and(|u| u.as_ref().map(Username::normalized) != target.username_lower);
    let moves_email_address = new_email
        .as_ref()
        .is_some_and(|e| e.as_ref().map(Email::normalized) != target.email_lower);
    if !permissions::may_change_identity(me, &target) {
        for (field, moves) in [("email", moves_email_address), ("username", moves_username)] {
            if moves {
                input.error(
                    field,
                    "Only the account's owner or an administrator changes how it signs in.",
                );
            }
        }
    }
    if !keeps_email && !keeps_username {
        let field = if new_email.is_some() {
            "email"
        } else {
            "username"
        };
        input.error(
            field,
            "An account keeps an email or a username to sign in with.",
        );
    }
    if let Some(Some(email)) = &new_email {
        check_email_free(store, &mut input, email, Some(target.id)).await?;
    }
    if let Some(Some(username)) = &new_username {
        check_username_free(store, &mut input, username, Some(target.id)).await?;
    }
    let moves_email = new_email
        .as_ref()
        .is_some_and(|e| e.as_ref().map(Email::normalized) != target.email_lower);
    if own && (moves_email || password.is_some()) {
        check_current_password(&mut input, me).await?;
    }
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
            if let Some(first) = &first_name {
                user.first_name = first.clone();
            }
            if let Some(last) = &last_name {
                user.last_name = last.clone();
            }
            if let Some(photo) = &photo {
                user.photo = photo.clone();
            }
            if let Some(email) = &new_email {
                user.email = email.as_ref().map(|e| e.as_str().to_owned());
                user.email_lower = email.as_ref().map(Email::normalized);
            }
            if let Some(username) = &new_username {
                user.username = username.as_ref().map(|u| u.as_str().to_owned());
                user.username_lower = username.as_ref().map(Username::normalized);
            }
            if let Some(person) = person {
                user.person = person;
            }
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
            let email = new_email.flatten();
            let username = new_username.flatten();
            Err(duplicate(store, err, email.as_ref(), username.as_ref()).await)
        }
    }
}

/// `DELETE /api/users/{id}`: the caller's own account, or anyone's for a holder of "delete
/// users". The account stays, erased: personal fields cleared (its email and username free
/// again), every token and key revoked, out of its groups; completions it submitted stay in
/// their teachers' records with the student shown as deleted. An organization's owner
/// cannot be deleted while the organization needs them.
pub async fn delete(store: &Store, me: &User, id: i64) -> Result<(), ApiError> {
    let target = target_of(store, me, id, Permission::DeleteUsers).await?;
    if !permissions::may_manage(me, &target, Permission::DeleteUsers) {
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

/// Permission ids from a request: the body's `permissions`, or on DELETE (whose bodies some
/// proxies drop) the `permissions` query parameter (`?permissions=2,3` or repeated).
pub fn requested_permissions(
    mut input: Input,
    query: &[(String, String)],
) -> Result<Vec<i64>, ApiError> {
    let mut ids = input.id_list("permissions");
    if !input.has("permissions") {
        for (name, value) in query.iter().filter(|(name, _)| name == "permissions") {
            for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.parse::<i64>() {
                    Ok(id) => ids.push(id),
                    Err(_) => input.error(
                        name,
                        format!("Incorrect type. Expected pk value, received {part:?}."),
                    ),
                }
            }
        }
    }
    if ids.is_empty() && !input.has_errors() {
        input.error("permissions", "This list may not be empty.");
    }
    let mut unknown: Vec<String> = ids
        .iter()
        .filter(|id| !permissions::exists(**id))
        .map(i64::to_string)
        .collect();
    unknown.dedup();
    if !unknown.is_empty() {
        input.error(
            "permissions",
            format!("Unknown permission ids: {}.", unknown.join(", ")),
        );
    }
    input.finish()?;
    Ok(ids)
}

/// `GET /api/users/{id}/permissions`: one's own, or anyone's for a holder of "view
/// permissions".
pub async fn permissions_of(store: &Store, me: &User, id: i64) -> Result<Vec<i64>, ApiError> {
    let target = users::visible(store, me, id).await?;
    if target.id != me.id && !permissions::holds(me, Permission::ViewPermissions) {
        return Err(ApiError::forbidden(
            "You may see only your own permissions.",
        ));
    }
    Ok(permissions::held(&target))
}

/// `PUT` (`grant`) or `DELETE /api/users/{id}/permissions`: superusers only, so no one grants
/// what they lack. Answers the permissions the user holds afterwards.
pub async fn change_permissions(
    store: &Store,
    me: &User,
    id: i64,
    ids: Vec<i64>,
    grant: bool,
) -> Result<Vec<i64>, ApiError> {
    let target = users::visible(store, me, id).await?;
    if !me.is_superuser {
        return Err(ApiError::forbidden(
            "Only administrators change permissions.",
        ));
    }
    let written = store
        .users()
        .update(target.id, |user| {
            if grant {
                user.permissions.extend(&ids);
            } else {
                user.permissions.retain(|p| !ids.contains(p));
            }
            user.permissions.sort_unstable();
            user.permissions.dedup();
            Ok::<_, StoreError>(())
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(permissions::held(&written))
}
