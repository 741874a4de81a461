//! `/api/v1/catalog/…` (the course catalog behind seed 000's nested shapes),
//! `/api/v1/user/global_search/` and the caller's shelves. Reads are for anyone signed in;
//! writes for holders of `manage_catalog`. The rules are in [`crate::catalog`].

#![allow(dead_code)] // The request types' fields are read by the schema derive only.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::Body;
use super::links::answer_base;
use super::pagination::{self, ListParams};
use crate::accounts::permissions::{holds, Permission};
use crate::catalog::search;
use crate::catalog::shelves::{self, Shelf};
use crate::catalog::things::{self, Thing};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Filter, User};

fn manager(user: &User) -> Result<(), ApiError> {
    if holds(user, Permission::ManageCatalog) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Changing the catalog needs the manage_catalog permission.",
        ))
    }
}

async fn one<T: Thing>(
    req: &HttpRequest,
    state: &AppState,
    viewer: &User,
    doc: T,
) -> Result<T::Out, ApiError> {
    let base = answer_base(req, state);
    things::present(&state.store, &base, viewer, std::slice::from_ref(&doc))
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal("presenting one catalog thing gave none"))
}

/// `GET /api/v1/catalog/{kind}/`: in id order; a page with `limit`/`offset`.
pub async fn list<T: Thing>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let base = answer_base(&req, &state);
    let viewer = auth.user;
    pagination::list::<T, T::Out, _, _>(
        &req,
        params,
        &state.store,
        Filter::All,
        move |store, docs| {
            let base = base.clone();
            let viewer = viewer.clone();
            async move { things::present(&store, &base, &viewer, &docs).await }
        },
    )
    .await
}

/// `POST /api/v1/catalog/{kind}/`.
pub async fn create<T: Thing>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    manager(&auth.user)?;
    let doc = things::create::<T>(&state.store, body.0).await?;
    Ok(HttpResponse::Created().json(one(&req, &state, &auth.user, doc).await?))
}

/// `GET /api/v1/catalog/{kind}/{id}/`.
pub async fn retrieve<T: Thing>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let doc = state
        .store
        .repo::<T>()
        .get(path.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(one(&req, &state, &auth.user, doc).await?))
}

/// `PUT /api/v1/catalog/{kind}/{id}/`: required fields must be sent; optional ones left
/// out keep their values.
pub async fn change<T: Thing>(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    manager(&auth.user)?;
    let doc = things::change::<T>(&state.store, path.into_inner(), body.0).await?;
    Ok(HttpResponse::Ok().json(one(&req, &state, &auth.user, doc).await?))
}

/// `DELETE /api/v1/catalog/{kind}/{id}/`.
pub async fn destroy<T: Thing>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    manager(&auth.user)?;
    things::delete::<T>(&state.store, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    search_value: Option<String>,
}

/// `GET /api/v1/user/global_search/?search_value=`.
pub async fn global_search(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let query: SearchQuery = serde_urlencoded::from_str(req.query_string())
        .map_err(|_| ApiError::field("query", "Malformed query string."))?;
    let Some(value) = query.search_value else {
        return Err(ApiError::field(
            "search_value",
            "This parameter is required.",
        ));
    };
    let base = answer_base(&req, &state);
    let found = search::search(&state.store, &base, &auth.user, &value).await?;
    Ok(HttpResponse::Ok().json(found))
}

/// `PUT` (`KEEP`) and `DELETE` of `/api/v1/user/favorites/{kind}/{id}/`.
pub async fn favorite<const KEEP: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (kind, id) = path.into_inner();
    let shelf = Shelf::favorites(&kind).ok_or_else(ApiError::not_found)?;
    shelves::keep(&state.store, &auth.user, shelf, id, KEEP).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT` (`KEEP`) and `DELETE` of `/api/v1/user/viewed_videos/{id}/`.
pub async fn viewed<const KEEP: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let shelf = Shelf::ViewedVideos;
    shelves::keep(&state.store, &auth.user, shelf, path.into_inner(), KEEP).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT` (`KEEP`) and `DELETE` of `/api/v1/user/signature_courses/{id}/`.
pub async fn signature<const KEEP: bool>(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let shelf = Shelf::SignatureCourses;
    shelves::keep(&state.store, &auth.user, shelf, path.into_inner(), KEEP).await?;
    Ok(HttpResponse::NoContent().finish())
}

// The documented request bodies. Ids of other things are plain integers; `null` clears a
// reference.

/// A teacher (`PUT`: every field; `first_name` and `last_name` required).
#[derive(ToSchema)]
pub struct TeacherRequest {
    #[schema(min_length = 1, max_length = 200)]
    first_name: String,
    #[schema(min_length = 1, max_length = 200)]
    last_name: String,
    #[schema(max_length = 20000)]
    description: Option<String>,
    /// An image file's id.
    avatar: Option<i64>,
    #[schema(max_length = 200)]
    facebook: Option<String>,
    #[schema(max_length = 200)]
    instagram: Option<String>,
    #[schema(max_length = 200)]
    location: Option<String>,
    /// File ids.
    promo_files: Option<Vec<i64>>,
    /// Video ids.
    promo_videos: Option<Vec<i64>>,
}

/// A category.
#[derive(ToSchema)]
pub struct CategoryRequest {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// An image file's id.
    image: Option<i64>,
}

/// A course.
#[derive(ToSchema)]
pub struct CourseRequest {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(max_length = 20000)]
    description: Option<String>,
    #[schema(max_length = 20000)]
    overview: Option<String>,
    /// A category's id.
    category: Option<i64>,
    /// A teacher's id.
    teacher: Option<i64>,
    /// An image file's id.
    image: Option<i64>,
}

/// A video.
#[derive(ToSchema)]
pub struct VideoRequest {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(max_length = 20000)]
    description: Option<String>,
    /// A video file's id (MP4 or WebM).
    file720p: Option<i64>,
    /// A video file's id (MP4 or WebM).
    file1080p: Option<i64>,
    /// An image file's id.
    thumbnail: Option<i64>,
    /// A course's id.
    course: Option<i64>,
}

/// A collection of courses.
#[derive(ToSchema)]
pub struct CollectionRequest {
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    #[schema(max_length = 20000)]
    description: Option<String>,
    /// An image file's id.
    image: Option<i64>,
    /// Course ids, in the order shown.
    courses: Option<Vec<i64>>,
}
