//! What clients see of organizations, groups and their members (typed; the OpenAPI schemas
//! derive from these types).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::store::{Group, Organization, Store, User};

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Organization)]
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

/// A user as nested in groups and graded completions: no organization.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GroupMember)]
pub struct MemberOut {
    pub id: i64,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
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
            email: user.email.clone().unwrap_or_default(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            photo: user.photo.clone(),
            is_teacher: user.is_teacher,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Group)]
pub struct GroupOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub members: Vec<MemberOut>,
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

/// A group's join code as its teachers see it: `ABCDE-FGHJK`, or null while it has none.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JoinCode)]
pub struct JoinCodeOut {
    pub code: Option<String>,
}

impl JoinCodeOut {
    pub fn new(code: Option<&str>) -> Self {
        JoinCodeOut {
            code: code.map(super::joins::display),
        }
    }
}

/// The group a join code opens, as anyone holding the code sees it before joining.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JoinGroup)]
pub struct JoinGroupOut {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// What a join code opens: the organization (with its owner's name, which tells two
/// schools of the same name apart) and the group.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JoinInvitation)]
pub struct JoinInvitationOut {
    pub organization: OrganizationOut,
    pub owner_name: String,
    pub group: JoinGroupOut,
}

pub async fn invitation(
    store: &Store,
    group: &Group,
    org: &Organization,
) -> Result<JoinInvitationOut, ApiError> {
    let owner = store.users().get(org.owner_id).await?;
    let owner_name = owner
        .map(|u| {
            format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    Ok(JoinInvitationOut {
        organization: OrganizationOut::from(org),
        owner_name,
        group: JoinGroupOut {
            id: group.id,
            name: group.name.clone(),
            description: group.description.clone(),
        },
    })
}

/// After joining by code: the organization and the group (showing only the caller).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Joined)]
pub struct JoinedOut {
    pub organization: OrganizationOut,
    pub group: GroupOut,
}
