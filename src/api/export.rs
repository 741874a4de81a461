//! `GET /api/tests/{id}/completions/export/`: the test's completions as an `.xlsx` workbook.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpResponse};

use super::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::testing::export::{self, XLSX_MEDIA_TYPE};

/// The test's managers only.
pub async fn export(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let export = export::export(&state.store, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_MEDIA_TYPE)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(export.file_name)],
        })
        .body(export.bytes))
}
