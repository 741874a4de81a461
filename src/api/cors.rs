//! CORS for clients served from another origin (the original web client on its own
//! origin), with `actix-cors`: origins from `TESTIT_CORS_ORIGINS` (a list, or `*`); unset,
//! no CORS headers at all (a preflight is then a 405, as before). Credentials are never
//! allowed: clients send `Authorization`, and the export cookie stays `SameSite=Strict`,
//! for its own site only. A preflight refused by the middleware (an origin not listed) is
//! answered in the API's error shape.

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::ResponseError;

use crate::error::ApiError;
use crate::settings::CorsOrigins;

/// How long a browser may cache a preflight's answer, seconds.
const PREFLIGHT_MAX_AGE: usize = 3600;

/// The middleware for `origins` (any method, any request header; no credentials).
pub fn middleware(origins: Option<&CorsOrigins>) -> Cors {
    let cors = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .expose_headers([
            header::CONTENT_DISPOSITION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(PREFLIGHT_MAX_AGE)
        // A request from an origin not listed goes through without CORS headers (the
        // browser keeps the answer from the page), instead of a bare-text 400.
        .block_on_origin_mismatch(false);
    match origins {
        Some(CorsOrigins::Any) => cors.allow_any_origin().send_wildcard(),
        Some(CorsOrigins::List(list)) => list
            .iter()
            .fold(cors, |cors, origin| cors.allowed_origin(origin)),
        None => cors,
    }
}

/// Answers the CORS middleware's refusal of a preflight as an [`ApiError`] (400).
pub async fn refusals(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let res = next.call(req).await?;
    if preflight && res.status() == StatusCode::BAD_REQUEST {
        let refused =
            ApiError::bad_request("Cross-origin requests from this origin are not allowed.");
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, refused.error_response()));
    }
    Ok(res.map_into_boxed_body())
}
