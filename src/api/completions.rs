//! `/api/completions/…` and the completion lists under users and tests. The rules are in
//! [`crate::testing::completions`].

use actix_web::{web, HttpRequest, HttpResponse};
use actors::attempt::Evict;

use super::auth::AuthUser;
use super::body::Body;
use super::pagination::{self, ListParams};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Filter;
use crate::testing::{access, completions, submission, views};

/// `POST /api/completions/`: 201 with the new completion, or 200 with the one the server
/// already stored for the attempt (submitted at its deadline).
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let submission = submission::create(&state.grading, &auth.user, body.0).await?;
    if let Some(attempt) = submission.closed_attempt {
        // Its live actor, if any, reloads the closed attempt when next asked.
        state.attempts.do_send(Evict(attempt));
    }
    let view = views::student_completion(&submission.completion, None);
    Ok(match submission.created {
        true => HttpResponse::Created().json(view),
        false => HttpResponse::Ok().json(view),
    })
}

/// `GET /api/completions/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (completion, _) =
        access::readable_completion(&state.store, &auth.user, path.into_inner()).await?;
    let mut views = views::student_completions(&state.store, &[completion]).await?;
    let view = views
        .pop()
        .ok_or_else(|| ApiError::internal("presenting one completion gave none"))?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /api/completions/{id}/with_correctness/`: the test's managers only.
pub async fn with_correctness(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (completion, user) =
        completions::with_correctness(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::graded_completion(&completion, user.as_ref())))
}

/// Answers completions in the student view.
async fn student_list(
    req: &HttpRequest,
    state: &AppState,
    params: ListParams,
    filter: Filter,
) -> Result<HttpResponse, ApiError> {
    pagination::list(
        req,
        params,
        &state.store,
        filter,
        |store, items| async move { views::student_completions(&store, &items).await },
    )
    .await
}

/// `GET /api/users/me/completions/`.
pub async fn mine(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    student_list(&req, &state, params, completions::of_user(&auth.user)).await
}

/// `GET /api/tests/{id}/completions/`: every completion of a test the caller manages.
pub async fn of_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let filter = completions::of_managed_test(&state.store, &auth.user, id).await?;
    pagination::list(
        &req,
        params,
        &state.store,
        filter,
        |store, items| async move { views::graded_completions(&store, &items).await },
    )
    .await
}

/// `GET /api/tests/p/{public_uuid}/completions/`: the caller's completions of that test.
pub async fn mine_of_public_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let filter = completions::mine_of_test(&state.store, &auth.user, &path).await?;
    student_list(&req, &state, params, filter).await
}
