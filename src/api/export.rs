//! `GET /api/tests/{id}/completions/export/`: the test's completions as an `.xlsx` workbook.
//!
//! A browser's download link sends no `Authorization` header, so this endpoint alone also
//! accepts the access token from an HttpOnly, `SameSite=Strict` cookie that log-in and
//! refresh set (and log-out clears). The teacher check is the same either way; everywhere
//! else the header stays the only credential.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{web, HttpRequest, HttpResponse};

use super::auth::{bearer_token, AuthUser, BasicAttempt};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::testing::export::{self, XLSX_MEDIA_TYPE};

/// The export cookie: what sets it, what clears it.
pub mod cookie {
    use std::time::Duration;

    use actix_web::cookie::{Cookie, SameSite};
    use actix_web::HttpRequest;

    pub const NAME: &str = "testit_export";
    /// Browsers send it to `/api/tests/…`; only the export reads it.
    const PATH: &str = "/api/tests/";

    fn base(req: &HttpRequest, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(NAME, value);
        cookie.set_path(PATH);
        cookie.set_http_only(true);
        cookie.set_same_site(SameSite::Strict);
        // Secure whenever the client reached us over TLS (directly or via a proxy that says so).
        cookie.set_secure(req.connection_info().scheme() == "https");
        cookie
    }

    /// The cookie carrying an access token, living as long as the token.
    pub fn issue(req: &HttpRequest, access: &str, ttl: Duration) -> Cookie<'static> {
        let mut cookie = base(req, access.to_owned());
        cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        cookie
    }

    /// The same cookie, expired.
    pub fn removal(req: &HttpRequest) -> Cookie<'static> {
        let mut cookie = base(req, String::new());
        cookie.make_removal();
        cookie
    }
}

/// The test's managers only, authenticated by the header or, failing it, the cookie.
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    // Seed 003 lists HTTP Basic for this operation as for its others.
    if let Some(attempt) = BasicAttempt::of(&req, &state)? {
        let auth = attempt.check(&state).await?;
        return respond(&state, &auth, path.into_inner()).await;
    }
    let token = match bearer_token(&req) {
        Some(token) => token.to_owned(),
        None => req
            .cookie(cookie::NAME)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::code(ErrorCode::NotAuthenticated))?,
    };
    let auth = AuthUser::authenticate(&state, &token).await?;
    respond(&state, &auth, path.into_inner()).await
}

/// The workbook of the test, for a caller who manages it.
async fn respond(state: &AppState, auth: &AuthUser, test: i64) -> Result<HttpResponse, ApiError> {
    let export = export::export(&state.store, &auth.user, test).await?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_MEDIA_TYPE)
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(export.file_name)],
        })
        .body(export.bytes))
}
