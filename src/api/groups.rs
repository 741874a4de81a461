//! `/api/groups/…`: groups of the caller's organization. Teachers of the organization see
//! and change all of them; a student sees only the groups they are in, with only themself
//! as a member; users of another organization get 404.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use super::input::Body;
use super::pagination::{self, ListParams};
use super::present;
use crate::auth::AuthUser;
use crate::domain::Name;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{FieldPath, Filter, Group, User};

/// Whose view of the members the caller gets: all of them for teachers, else only themself.
fn member_view(me: &User) -> Option<i64> {
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
async fn visible_group(state: &AppState, me: &User, id: i64) -> Result<Group, ApiError> {
    let group = state
        .store
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

/// `GET /api/groups/`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let me = auth.user;
    let Some(org) = me.organization_id else {
        return Ok(pagination::respond_vec::<Value>(&req, params, Vec::new()));
    };
    let mut filter = Filter::Eq("organization_id", org.into());
    if !me.is_teacher {
        filter = Filter::And(vec![filter, Filter::Contains("members", me.id.into())]);
    }
    let groups = state.store.groups();
    let count = groups.count(&filter).await?;
    let page = groups.find(&filter, params.page).await?;
    let out = present::groups(&state.store, &page, member_view(&me)).await?;
    Ok(pagination::respond(&req, params, count, out))
}

/// Checks that every id is a user of `org`, recording an error for each that is not.
async fn members_of(
    state: &AppState,
    org: i64,
    ids: &[i64],
) -> Result<Result<(), Vec<String>>, ApiError> {
    let found = state.store.users_by_ids(ids).await?;
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| {
            !found
                .iter()
                .any(|u| u.id == **id && u.organization_id == Some(org))
        })
        .map(|id| super::missing_pk(*id))
        .collect();
    Ok(if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    })
}

/// `POST /api/groups/`: a teacher creates a group in their organization, optionally with
/// members (ids, or user objects with an `id`).
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let me = auth.user;
    require_teacher(&me)?;
    let org = me
        .organization_id
        .ok_or_else(|| ApiError::forbidden("You do not belong to an organization."))?;
    let mut input = body.0;
    let name = input
        .required_str("name")
        .and_then(|raw| input.check("name", Name::parse(&raw)));
    let description = input.optional_str("description").unwrap_or_default();
    let mut members = input.id_list("members");
    let mut seen = std::collections::HashSet::new();
    members.retain(|id| seen.insert(*id));
    if let Err(problems) = members_of(&state, org, &members).await? {
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
    };
    let group = state.store.groups().insert(group).await?;
    Ok(HttpResponse::Created().json(present::group(&state.store, &group, None).await?))
}

/// `GET /api/groups/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let group = visible_group(&state, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .json(present::group(&state.store, &group, member_view(&auth.user)).await?))
}

/// `DELETE /api/groups/{id}/`.
pub async fn destroy(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let group = visible_group(&state, &auth.user, path.into_inner()).await?;
    require_teacher(&auth.user)?;
    state.store.groups().delete(group.id).await?;
    tracing::info!(group_id = group.id, by = auth.user.id, "group deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/groups/{id}/add_user/` (`ADD`) and `…/remove_user/` with `{"user": id}`; both
/// are idempotent and answer the group.
pub async fn change_membership<const ADD: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let group_id = path.into_inner();
    let group = visible_group(&state, &auth.user, group_id).await?;
    require_teacher(&auth.user)?;
    let mut input = body.0;
    let user = input.required_int("user");
    if let Some(user) = user {
        if let Err(problems) = members_of(&state, group.organization_id, &[user]).await? {
            for problem in problems {
                input.error("user", problem);
            }
        }
    }
    input.finish()?;
    let user = user.ok_or_else(|| ApiError::internal("user missing without an error"))?;
    // One atomic add-to-set / remove-from-set: concurrent changes of other members are kept.
    let members = FieldPath::parse(["members"])?;
    let group = state
        .store
        .groups()
        .set_membership(group.id, &members, user.into(), ADD)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(present::group(&state.store, &group, None).await?))
}
