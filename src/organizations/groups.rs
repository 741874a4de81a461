//! Groups of an organization. Teachers of the organization see and change all of them; a
//! student sees only the groups they are in, with only themself as a member; users of
//! another organization get 404.

use crate::domain::input::{missing_pk, Input};
use crate::domain::Name;
use crate::error::ApiError;
use crate::store::{FieldPath, Filter, Group, Store, User};

/// Whose view of the members the caller gets: all of them for teachers, else only themself.
pub fn member_view(me: &User) -> Option<i64> {
    (!me.is_teacher).then_some(me.id)
}

fn require_teacher(me: &User) -> Result<(), ApiError> {
    if me.is_teacher {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Only teachers of the organization can change its groups.",
        ))
    }
}

/// The group, if the caller may see it; else 404 (its existence is not revealed).
pub async fn visible_group(store: &Store, me: &User, id: i64) -> Result<Group, ApiError> {
    let group = store
        .groups()
        .get(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let same_org = me.organization_id == Some(group.organization_id);
    if same_org && (me.is_teacher || group.members.contains(&me.id)) {
        Ok(group)
    } else {
        Err(ApiError::not_found())
    }
}

/// The groups the caller sees: all of the organization's for teachers, else their own.
pub fn visible_to(me: &User) -> Filter {
    let Some(org) = me.organization_id else {
        return Filter::In("id", Vec::new());
    };
    let filter = Filter::Eq("organization_id", org.into());
    if me.is_teacher {
        filter
    } else {
        Filter::And(vec![filter, Filter::Contains("members", me.id.into())])
    }
}

/// Checks that every id is a user of `org`, recording an error for each that is not.
async fn members_of(
    store: &Store,
    org: i64,
    ids: &[i64],
) -> Result<Result<(), Vec<String>>, ApiError> {
    let found = store.users_by_ids(ids).await?;
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| {
            !found
                .iter()
                .any(|u| u.id == **id && u.organization_id == Some(org))
        })
        .map(|id| missing_pk(*id))
        .collect();
    Ok(if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    })
}

/// A teacher creates a group in their organization, optionally with members (ids, or user
/// objects with an `id`).
pub async fn create(store: &Store, me: &User, mut input: Input) -> Result<Group, ApiError> {
    require_teacher(me)?;
    let org = me
        .organization_id
        .ok_or_else(|| ApiError::forbidden("You do not belong to an organization."))?;
    let name = input
        .required_str("name")
        .and_then(|raw| input.check("name", Name::parse(&raw)));
    let description = input.optional_str("description").unwrap_or_default();
    let mut members = input.id_list("members");
    let mut seen = std::collections::HashSet::new();
    members.retain(|id| seen.insert(*id));
    if let Err(problems) = members_of(store, org, &members).await? {
        for problem in problems {
            input.error("members", problem);
        }
    }
    input.finish()?;
    let name = name.ok_or_else(|| ApiError::internal("name missing without an error"))?;
    let group = Group {
        id: 0,
        organization_id: org,
        name: name.into_string(),
        description,
        members,
        join_code: None,
    };
    Ok(store.groups().insert(group).await?)
}

/// A teacher deletes a group of their organization.
pub async fn delete(store: &Store, me: &User, id: i64) -> Result<(), ApiError> {
    let group = visible_group(store, me, id).await?;
    require_teacher(me)?;
    store.groups().delete(group.id).await?;
    tracing::info!(group_id = group.id, by = me.id, "group deleted");
    Ok(())
}

/// A teacher adds (`add`) or removes the user `{"user": id}` of the organization;
/// idempotent.
pub async fn change_membership(
    store: &Store,
    me: &User,
    group_id: i64,
    mut input: Input,
    add: bool,
) -> Result<Group, ApiError> {
    let group = visible_group(store, me, group_id).await?;
    require_teacher(me)?;
    let user = input.required_int("user");
    if let Some(user) = user {
        if let Err(problems) = members_of(store, group.organization_id, &[user]).await? {
            for problem in problems {
                input.error("user", problem);
            }
        }
    }
    input.finish()?;
    let user = user.ok_or_else(|| ApiError::internal("user missing without an error"))?;
    // One atomic add-to-set / remove-from-set: concurrent changes of other members are kept.
    let members = FieldPath::parse(["members"])?;
    store
        .groups()
        .set_membership(group.id, &members, user.into(), add)
        .await?
        .ok_or_else(ApiError::not_found)
}
