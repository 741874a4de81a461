//! `POST /api/tests/import/` (a Moodle XML or GIFT file into a new test) and
//! `GET /api/tests/{id}/export.xml` (a test as Moodle XML). The rules are in
//! [`crate::testing::import`].

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use super::body::Body;
use crate::error::ApiError;
use crate::state::AppState;
use crate::testing::{import, views};

pub async fn import(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let (test, imported) = import::import(&state.grading, &auth.user, body.0).await?;
    Ok(HttpResponse::Created().json(import::ImportOut {
        test: views::teacher_view(&state.store, &test).await?,
        skipped: imported.skipped,
        notes: imported.notes,
    }))
}

pub async fn export(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (file_name, xml) = import::export(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type(import::XML_MEDIA_TYPE)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(file_name)],
        })
        .body(xml))
}
