//! `/api/tests/…`: authoring tests (teachers), the public link students take them by, and
//! group access. The rules are in [`crate::testing::authoring`] and [`crate::testing::access`].

use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::AuthUser;
use super::body::Body;
use super::pagination::{self, ListParams};
use crate::error::ApiError;
use crate::state::AppState;
use crate::testing::{access, attempts, authoring, views};

/// `GET /api/tests/`: the caller's tests (all of the organization's for its owner).
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let filter = authoring::managed_by(&state.store, &auth.user).await?;
    pagination::list(
        &req,
        params,
        &state.store,
        filter,
        |store, items| async move { views::teacher_views(&store, &items).await },
    )
    .await
}

/// `POST /api/tests/`.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let test = authoring::create(&state.store, &state.grading, &auth.user, body.0).await?;
    Ok(HttpResponse::Created().json(views::teacher_view(&state.store, &test).await?))
}

/// `GET /api/tests/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let test = access::managed_test(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::teacher_view(&state.store, &test).await?))
}

/// `PUT` (`PARTIAL` false) and `PATCH /api/tests/{id}/`.
pub async fn change<const PARTIAL: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let test = authoring::change(
        &state.store,
        &state.grading,
        &auth.user,
        id,
        body.0,
        PARTIAL,
    )
    .await?;
    Ok(HttpResponse::Ok().json(views::teacher_view(&state.store, &test).await?))
}

/// `DELETE /api/tests/{id}/`.
pub async fn destroy(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    authoring::delete(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/tests/{id}/allow_for_group/` (`ALLOW`) and `…/disallow_for_group/` with
/// `{"group": id}`: idempotent; answer the test.
pub async fn set_group_access<const ALLOW: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let test = authoring::set_group_access(&state.store, &auth.user, id, body.0, ALLOW).await?;
    Ok(HttpResponse::Ok().json(views::teacher_view(&state.store, &test).await?))
}

/// `POST /api/tests/{id}/regenerate_uuid/`: the old link stops working.
pub async fn regenerate_uuid(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let test = authoring::regenerate_link(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::teacher_view(&state.store, &test).await?))
}

/// `GET /api/tests/p/{public_uuid}/`: the student view, for members of a group the test is
/// available for (and, as a preview, for the test's managers).
pub async fn public_retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (test, student) = access::takeable_test(&state.store, &auth.user, &path).await?;
    if student {
        attempts::shown(&state.grading, &auth.user, &test).await?;
    }
    Ok(HttpResponse::Ok().json(views::student_view(&test)))
}

/// `GET /api/users/me/tests/`: the tests open to the caller (see [`access::open_tests`]).
pub async fn open_to_me(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let tests = access::open_tests(&state.store, &auth.user).await?;
    // A page is cut from the whole list: it is as long as the caller's open tests, which
    // is small, and it is built from several queries (one per group).
    let count = tests.len() as u64;
    let tests = match params.page {
        Some(page) => {
            let start = usize::try_from(page.offset).unwrap_or(usize::MAX);
            let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
            tests.into_iter().skip(start).take(limit).collect()
        }
        None => tests,
    };
    let views = attempts::open_tests(&state.store, &auth.user, &tests).await?;
    Ok(pagination::respond(&req, params, count, views))
}
