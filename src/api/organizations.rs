//! `/api/organizations/…`: listing (open to anonymous users, for registration forms),
//! creation (the creator owns it and becomes its teacher), and the owner's confirmation of
//! teachers who registered into it.

use actix_web::{web, HttpRequest, HttpResponse};

use super::input::Body;
use super::pagination::{self, ListParams};
use super::present::{self, OrganizationOut};
use crate::auth::AuthUser;
use crate::domain::Name;
use crate::error::{ApiError, ErrorCode};
use crate::startup::AppState;
use crate::store::{Filter, Organization};

/// `GET /api/organizations/`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let orgs = state.store.organizations();
    let count = orgs.count(&Filter::All).await?;
    let page = orgs.find(&Filter::All, params.page).await?;
    let out: Vec<OrganizationOut> = page.iter().map(OrganizationOut::from).collect();
    Ok(pagination::respond(&req, params, count, out))
}

/// `POST /api/organizations/`: a teacher without an organization creates one and owns it.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let me = auth.user;
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
    let mut input = body.0;
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
    let org = state.store.organizations().insert(org).await?;
    // The owner joins it as its teacher, unless a concurrent request made them join another
    // organization meanwhile: then this one is undone.
    let joined = state
        .store
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
            return Ok(HttpResponse::Created().json(OrganizationOut::from(&org)));
        }
        // The account was deleted under the request.
        Ok(None) => ApiError::code(ErrorCode::TokenNotValid),
        Err(err) => err,
    };
    state.store.organizations().delete(org.id).await?;
    Err(failure)
}

/// `POST /api/organizations/{id}/confirm_teacher/` with `{"user": id}`: the owner grants
/// teacher rights to a member who asked for them.
pub async fn confirm_teacher(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let me = auth.user;
    let org_id = path.into_inner();
    if me.organization_id != Some(org_id) {
        return Err(ApiError::not_found());
    }
    let org = state
        .store
        .organizations()
        .get(org_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if org.owner_id != me.id {
        return Err(ApiError::forbidden(
            "Only the organization's owner can confirm teachers.",
        ));
    }
    let mut input = body.0;
    let user_id = input.required_int("user");
    input.finish()?;
    let user_id = user_id.ok_or_else(|| ApiError::internal("user missing without an error"))?;
    let updated = state
        .store
        .users()
        .update(user_id, |user| {
            if user.organization_id != Some(org_id) {
                return Err(ApiError::field("user", super::missing_pk(user_id)));
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
        .ok_or_else(|| ApiError::field("user", super::missing_pk(user_id)))?;
    tracing::info!(organization_id = org_id, user_id, "teacher confirmed");
    Ok(HttpResponse::Ok().json(present::user(&state.store, &updated).await?))
}
