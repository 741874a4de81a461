//! Organizations: creating one (its creator owns it and becomes its teacher), the owner's
//! confirmation of teachers who registered into it, and its groups.
//!
//! # Layout
//!
//! - this module: organizations and teacher confirmation.
//! - [`groups`]: groups and their members.
//! - [`joins`]: join codes, and students joining a group (and its organization) by one.
//! - [`views`]: the typed wire shapes of organizations, groups and their members.

pub mod groups;
pub mod joins;
pub mod views;

use crate::domain::input::{missing_pk, Input};
use crate::domain::Name;
use crate::error::{ApiError, ErrorCode};
use crate::store::{Organization, Store, User};

/// A teacher without an organization creates one, owns it and joins it as its teacher.
pub async fn create(store: &Store, me: &User, mut input: Input) -> Result<Organization, ApiError> {
    // Permission first, as DRF does: a student learns nothing from validating their body.
    if !(me.is_teacher || me.teacher_requested) {
        return Err(ApiError::forbidden(
            "Only teachers can create organizations.",
        ));
    }
    if me.organization_id.is_some() {
        return Err(ApiError::bad_request(
            "You already belong to an organization.",
        ));
    }
    let name = input
        .required_str("name")
        .and_then(|raw| input.check("name", Name::parse(&raw)));
    let description = input.optional_str("description").unwrap_or_default();
    input.finish()?;
    let name = name.ok_or_else(|| ApiError::internal("name missing without an error"))?;

    let org = Organization {
        id: 0,
        name: name.into_string(),
        description,
        owner_id: me.id,
    };
    let org = store.organizations().insert(org).await?;
    // The owner joins it as its teacher, unless a concurrent request made them join another
    // organization meanwhile: then this one is undone.
    let joined = store
        .users()
        .update(me.id, |user| {
            if user.organization_id.is_some() {
                return Err(ApiError::bad_request(
                    "You already belong to an organization.",
                ));
            }
            user.organization_id = Some(org.id);
            user.is_teacher = true;
            user.teacher_requested = false;
            Ok(())
        })
        .await;
    let failure = match joined {
        Ok(Some(_)) => {
            tracing::info!(
                organization_id = org.id,
                owner = me.id,
                "organization created"
            );
            return Ok(org);
        }
        // The account was deleted under the request.
        Ok(None) => ApiError::code(ErrorCode::TokenNotValid),
        Err(err) => err,
    };
    store.organizations().delete(org.id).await?;
    Err(failure)
}

/// The owner grants teacher rights (`{"user": id}`) to a member who asked for them.
pub async fn confirm_teacher(
    store: &Store,
    me: &User,
    org_id: i64,
    mut input: Input,
) -> Result<User, ApiError> {
    if me.organization_id != Some(org_id) {
        return Err(ApiError::not_found());
    }
    let org = store
        .organizations()
        .get(org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if org.owner_id != me.id {
        return Err(ApiError::forbidden(
            "Only the organization's owner can confirm teachers.",
        ));
    }
    let user_id = input.required_int("user");
    input.finish()?;
    let user_id = user_id.ok_or_else(|| ApiError::internal("user missing without an error"))?;
    let updated = store
        .users()
        .update(user_id, |user| {
            if user.organization_id != Some(org_id) {
                return Err(ApiError::field("user", missing_pk(user_id)));
            }
            if !user.teacher_requested && !user.is_teacher {
                return Err(ApiError::field(
                    "user",
                    "This user has not asked for teacher rights.",
                ));
            }
            user.is_teacher = true;
            user.teacher_requested = false;
            Ok(())
        })
        .await?
        .ok_or_else(|| ApiError::field("user", missing_pk(user_id)))?;
    tracing::info!(organization_id = org_id, user_id, "teacher confirmed");
    Ok(updated)
}
