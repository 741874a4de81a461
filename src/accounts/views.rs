//! What clients see of accounts (typed; the OpenAPI schemas derive from these types).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::organizations::views::OrganizationOut;
use crate::store::{Filter, Organization, Store, User};

/// A user as `/api/users/…` answers it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserOut {
    pub id: i64,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Seed 001's sign-in name; `null` for accounts made through the other doors.
    pub username: Option<String>,
    /// Seed 001's link to a person record (set by administrators).
    pub person: Option<i64>,
    pub photo: Option<String>,
    /// Teacher rights granted in the user's organization.
    pub is_teacher: bool,
    /// Asked for teacher rights the organization's owner has not confirmed yet.
    pub is_teacher_pending: bool,
    pub organization: Option<OrganizationOut>,
}

fn user_out(user: &User, orgs: &HashMap<i64, Organization>) -> UserOut {
    UserOut {
        id: user.id,
        email: user.email.clone().unwrap_or_default(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        person: user.person,
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

/// What `POST /api/users/signin` answers (seed 001): the user, the ids of their groups and
/// permissions, and a new API key for `Authorization: Token <key>`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SignIn)]
pub struct SignInOut {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
    pub email: String,
    pub username: Option<String>,
    pub person: Option<i64>,
    pub groups: Vec<i64>,
    pub permissions: Vec<i64>,
    /// 40 lowercase hex characters; shown once.
    pub token: String,
}

impl From<crate::accounts::directory::SignedIn> for SignInOut {
    fn from(signed: crate::accounts::directory::SignedIn) -> Self {
        let user = signed.user;
        SignInOut {
            id: user.id,
            first_name: user.first_name,
            last_name: user.last_name,
            email: user.email.unwrap_or_default(),
            username: user.username,
            person: user.person,
            groups: signed.groups,
            permissions: signed.permissions,
            token: signed.key,
        }
    }
}

/// A user's permission ids (`/api/users/{id}/permissions`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserPermissions)]
pub struct PermissionsOut {
    pub permissions: Vec<i64>,
}
