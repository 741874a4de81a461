//! Seed 003's accounts (`/api/users/`, `/api/users/me`): registration, the caller's
//! profile, and who sees whom. The rules of identity are the core's ([`super::identity`]);
//! this door reads its documented fields and adds who sees whom in an organization.

use super::identity::fields::{email, name, photo};
use super::identity::{self, Registration, UserChange};
use super::permissions::{self, Permission};
use crate::domain::input::{missing_pk, Input};
use crate::error::ApiError;
use crate::store::{Filter, Store, User};

/// Read by the `current_password` guard of the REST adapter (`api::auth`).
pub use super::identity::is_wrong_current_password;

/// Registers a user, as a student, or as a teacher whose rights in an organization owned by
/// someone else wait for the owner's confirmation.
pub async fn register(store: &Store, mut input: Input) -> Result<User, ApiError> {
    let email = email(&mut input, true);
    let password = input.required_str("password");
    let first_name = name(&mut input, "first_name", true);
    let last_name = name(&mut input, "last_name", true);
    let photo = photo(&mut input).flatten();
    let wants_teacher = input.optional_bool("is_teacher").unwrap_or(false);
    let organization_id = input.nullable_int("organization_id").flatten();
    if let Some(id) = organization_id {
        if store.organizations().get(id).await?.is_none() {
            input.error("organization_id", missing_pk(id));
        }
    }
    let account = User {
        first_name: first_name.map(|n| n.into_string()).unwrap_or_default(),
        last_name: last_name.map(|n| n.into_string()).unwrap_or_default(),
        photo,
        teacher_requested: wants_teacher,
        organization_id,
        ..User::default()
    };
    let new = Registration::with_email(email, password, account);
    let user = identity::register(store, input, new).await?.stored()?;
    tracing::info!(user_id = user.id, "user registered");
    Ok(user)
}

/// The users the caller may see: a holder of "view users", everyone; a teacher, those of
/// their organization; anyone else, only themself. Deleted accounts are seen by no one.
pub fn visible_to(me: &User) -> Filter {
    if permissions::holds(me, Permission::ViewUsers) {
        return identity::active();
    }
    let scope = match me.organization_id.filter(|_| me.is_teacher) {
        Some(org) => Filter::Eq("organization_id", org.into()),
        None => Filter::Eq("id", me.id.into()),
    };
    Filter::And(vec![scope, identity::active()])
}

/// Whether `viewer` may see `other`: themself, a teacher seeing their organization, or a
/// holder of "view users"; a deleted account, no one.
pub fn can_see(viewer: &User, other: &User) -> bool {
    other.deleted_at.is_none()
        && (viewer.id == other.id
            || permissions::holds(viewer, Permission::ViewUsers)
            || (viewer.is_teacher
                && viewer.organization_id.is_some()
                && viewer.organization_id == other.organization_id))
}

/// A user the caller may see (else 404).
pub async fn visible(store: &Store, me: &User, id: i64) -> Result<User, ApiError> {
    identity::target(store, id, |u| can_see(me, u)).await
}

/// Changes the caller's account (`partial` false: email and names required, as PUT): names,
/// email, photo, password, joining an organization, asking for teacher rights.
pub async fn change_me(
    store: &Store,
    me: &User,
    mut input: Input,
    partial: bool,
) -> Result<User, ApiError> {
    let change = UserChange {
        email: email(&mut input, !partial).map(Some),
        first_name: name(&mut input, "first_name", !partial).map(|n| n.into_string()),
        last_name: name(&mut input, "last_name", !partial).map(|n| n.into_string()),
        photo: photo(&mut input),
        is_teacher: input.optional_bool("is_teacher"),
        password: input.optional_str("password"),
        organization_id: input.nullable_int("organization_id"),
        ..UserChange::default()
    };
    identity::change(store, me, me, input, change).await
}
