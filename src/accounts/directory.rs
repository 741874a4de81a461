//! The user directory of seed 001 (`/api/users/signup`, `signin`, `{id}`, `{id}/permissions`):
//! accounts with a username, signed in with opaque API keys; changing and deleting accounts,
//! one's own or, with the matching permission, anyone's; granting permissions. The rules of
//! identity are the core's ([`super::identity`]); this door reads its documented fields.

use super::identity::fields::{
    clearable_email, clearable_username, optional_name, optional_names, photo, username,
};
use super::identity::{self, LoginBy, Registration, UserChange};
use super::keys;
use super::permissions::{self, Permission};
use super::users;
use crate::domain::input::Input;
use crate::error::ApiError;
use crate::store::{Filter, Store, StoreError, User};

/// `POST /api/users/signup`: an account with a username (required) and, optionally, an
/// email and names.
pub async fn sign_up(store: &Store, mut input: Input) -> Result<User, ApiError> {
    let new = Registration {
        username: username(&mut input, true),
        email: clearable_email(&mut input).flatten(),
        account: optional_names(&mut input),
        password: input.required_str("password"),
    };
    let user = identity::register(store, input, new).await?.stored()?;
    tracing::info!(user_id = user.id, "user signed up with a username");
    Ok(user)
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
pub async fn sign_in(store: &Store, input: Input, key_ttl: i64) -> Result<SignedIn, ApiError> {
    let user = identity::sign_in_input(store, input, LoginBy::UsernameOrEmail).await?;
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
    identity::target(store, id, |u| {
        users::can_see(me, u) || identity::acts_on(me, u, permission)
    })
    .await
}

/// `PUT /api/users/{id}` (partial, as seed 001 shows): the caller's own account, or anyone's
/// for a holder of "change users". Names, email, username and photo; `person` (only by
/// superusers); a password (only by the account's owner). Null clears the email or the
/// username, as long as the other is left to sign in with.
pub async fn change(store: &Store, me: &User, id: i64, mut input: Input) -> Result<User, ApiError> {
    let target = target_of(store, me, id, Permission::ChangeUsers).await?;
    let change = UserChange {
        first_name: optional_name(&mut input, "first_name"),
        last_name: optional_name(&mut input, "last_name"),
        photo: photo(&mut input),
        email: clearable_email(&mut input),
        username: clearable_username(&mut input),
        person: input.nullable_int("person"),
        password: input.optional_str("password"),
        ..UserChange::default()
    };
    identity::change(store, me, &target, input, change).await
}

/// `DELETE /api/users/{id}`: the caller's own account, or anyone's for a holder of "delete
/// users" (the core erases it).
pub async fn delete(store: &Store, me: &User, id: i64) -> Result<(), ApiError> {
    let target = target_of(store, me, id, Permission::DeleteUsers).await?;
    identity::delete(store, me, &target).await
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
