//! The web app (`web/`), served from the binary itself: `/` redirects to `/app/`, and
//! `/app/…` answers the files of a static table, embedded at compile time, so `cargo run`
//! and a browser are all a school needs.
//!
//! Every file goes out with its content type, a strict Content-Security-Policy (no inline
//! script or style, nothing from other origins), `nosniff`, and an `ETag` computed at
//! compile time with `Cache-Control: no-cache`: browsers keep the files and revalidate them
//! with a request answered `304 Not Modified` until the binary changes.
//!
//! These routes are not API operations: they are registered beside the endpoint table, so
//! the OpenAPI document and `tests/api/operations.txt` do not list them.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{guard, web, HttpRequest, HttpResponse};

use crate::error::{ApiError, ErrorCode};

/// Where the app lives.
pub const PREFIX: &str = "/app/";

/// The policy of every app response: scripts, styles, images and connections (REST and the
/// WebSocket) from this origin only, no inline code, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; manifest-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct File {
    /// Path below [`PREFIX`]; `""` is the page itself.
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    /// FNV-1a of the bytes, computed at compile time.
    hash: u64,
}

/// 64-bit FNV-1a, usable in constants: a file's version for its `ETag`.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

macro_rules! files {
    ($( $path:literal => $file:literal, $content_type:expr; )*) => {
        &[$(
            File {
                path: $path,
                content_type: $content_type,
                bytes: include_bytes!(concat!("../../web/", $file)),
                hash: fnv1a(include_bytes!(concat!("../../web/", $file))),
            },
        )*]
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file of the app. A path not here is a 404.
static FILES: &[File] = files! {
    "" => "index.html", HTML;
    "app.css" => "app.css", CSS;
    "icon.svg" => "icon.svg", SVG;
    "js/app.js" => "js/app.js", JS;
    "js/api.js" => "js/api.js", JS;
    "js/dom.js" => "js/dom.js", JS;
    "js/live.js" => "js/live.js", JS;
    "js/auth.js" => "js/auth.js", JS;
    "js/student.js" => "js/student.js", JS;
    "js/teacher.js" => "js/teacher.js", JS;
    "js/editor.js" => "js/editor.js", JS;
    "js/watch.js" => "js/watch.js", JS;
    "js/router.js" => "js/router.js", JS;
    "js/join.js" => "js/join.js", JS;
};

/// Registers `/`, `/app` and `/app/…` (GET and HEAD).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let read = || web::route().guard(guard::Any(guard::Get()).or(guard::Head()));
    cfg.service(web::resource("/").route(read().to(to_app)))
        .service(web::resource("/app").route(read().to(to_app)))
        .service(web::resource("/app/{path:.*}").route(read().to(file)));
}

/// `/` and `/app`: the app is at `/app/`.
async fn to_app() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, PREFIX))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish()
}

/// A file of the app, or 404 (as JSON, like every unknown path).
async fn file(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let file = FILES
        .iter()
        .find(|f| f.path == path)
        .ok_or_else(|| ApiError::code(ErrorCode::RouteNotFound))?;
    let etag = format!("\"{:016x}\"", file.hash);
    let fresh = req
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ));
    if fresh {
        return Ok(response.finish());
    }
    Ok(response
        .insert_header((header::CONTENT_TYPE, file.content_type))
        .body(file.bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_distinct_path_and_a_known_type() {
        for (i, f) in FILES.iter().enumerate() {
            assert!(FILES[..i].iter().all(|g| g.path != f.path), "{}", f.path);
            let expected = match f.path.rsplit_once('.').map(|(_, ext)| ext) {
                None => HTML,
                Some("js") => JS,
                Some("css") => CSS,
                Some("svg") => SVG,
                Some(other) => panic!("no content type for .{other}"),
            };
            assert_eq!(f.content_type, expected, "{}", f.path);
        }
    }

    #[test]
    fn fnv1a_matches_its_reference_values() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
