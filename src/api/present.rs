//! Wire shapes: what clients see of stored documents (field names as the seed documents them).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::store::{Filter, Group, Organization, Store, User};

#[derive(Debug, Serialize)]
pub struct OrganizationOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub owner: i64,
}

impl From<&Organization> for OrganizationOut {
    fn from(org: &Organization) -> Self {
        OrganizationOut {
            id: org.id,
            name: org.name.clone(),
            description: org.description.clone(),
            owner: org.owner_id,
        }
    }
}

/// A user as `/api/users/…` answers it.
#[derive(Debug, Serialize)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub photo: Option<String>,
    /// Teacher rights granted in the user's organization.
    pub is_teacher: bool,
    /// Asked for teacher rights the organization's owner has not confirmed yet.
    pub is_teacher_pending: bool,
    pub organization: Option<OrganizationOut>,
}

/// A user as nested in groups (and later completions): no organization.
#[derive(Debug, Serialize)]
pub struct MemberOut {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub photo: Option<String>,
    pub is_teacher: bool,
}

impl From<&User> for MemberOut {
    fn from(user: &User) -> Self {
        MemberOut {
            id: user.id,
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            photo: user.photo.clone(),
            is_teacher: user.is_teacher,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct GroupOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub members: Vec<MemberOut>,
}

fn user_out(user: &User, orgs: &HashMap<i64, Organization>) -> UserOut {
    UserOut {
        id: user.id,
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        photo: user.photo.clone(),
        is_teacher: user.is_teacher,
        is_teacher_pending: user.teacher_requested && !user.is_teacher,
        organization: user
            .organization_id
            .and_then(|id| orgs.get(&id))
            .map(OrganizationOut::from),
    }
}

/// Presents users, reading each of their organizations once.
pub async fn users(store: &Store, users: &[User]) -> Result<Vec<UserOut>, ApiError> {
    let ids: BTreeSet<i64> = users.iter().filter_map(|u| u.organization_id).collect();
    let orgs = if ids.is_empty() {
        HashMap::new()
    } else {
        let filter = Filter::In("id", ids.into_iter().map(Value::from).collect());
        let found = store.organizations().find(&filter, None).await?;
        found.into_iter().map(|org| (org.id, org)).collect()
    };
    Ok(users.iter().map(|u| user_out(u, &orgs)).collect())
}

pub async fn user(store: &Store, user: &User) -> Result<UserOut, ApiError> {
    let mut out = users(store, std::slice::from_ref(user)).await?;
    out.pop()
        .ok_or_else(|| ApiError::internal("presenting one user gave none"))
}

/// Presents groups, reading all their members at once. With `only_member`, a group shows
/// just that member (students do not see their classmates).
pub async fn groups(
    store: &Store,
    groups: &[Group],
    only_member: Option<i64>,
) -> Result<Vec<GroupOut>, ApiError> {
    let ids: BTreeSet<i64> = groups
        .iter()
        .flat_map(|g| g.members.iter().copied())
        .filter(|id| only_member.is_none_or(|only| *id == only))
        .collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    let members: HashMap<i64, User> = store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(groups
        .iter()
        .map(|g| GroupOut {
            id: g.id,
            name: g.name.clone(),
            description: g.description.clone(),
            members: g
                .members
                .iter()
                .filter_map(|id| members.get(id))
                .map(MemberOut::from)
                .collect(),
        })
        .collect())
}

pub async fn group(
    store: &Store,
    group: &Group,
    only_member: Option<i64>,
) -> Result<GroupOut, ApiError> {
    let mut out = groups(store, std::slice::from_ref(group), only_member).await?;
    out.pop()
        .ok_or_else(|| ApiError::internal("presenting one group gave none"))
}

/// A score or points as a JSON number: whole values print as integers (`3`, not `3.0`),
/// others keep every digit (`0.6666666666666666`), never truncated.
pub fn number(value: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() < EXACT {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// Unix seconds as RFC 3339 UTC (`2026-11-22T11:29:36Z`).
pub fn timestamp(unix_seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_print_as_integers_and_fractions_keep_their_digits() {
        assert_eq!(number(3.0).to_string(), "3");
        assert_eq!(number(0.0).to_string(), "0");
        assert_eq!(number(2.0 / 3.0).to_string(), "0.6666666666666666");
        assert_eq!(number(1.5).to_string(), "1.5");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
