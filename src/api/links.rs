//! The addresses links start with: file URLs in answers and links in email.
//!
//! An emailed link (a password reset) must never be built from the request's `Host` header,
//! which the requester controls: a reset asked for someone else's email would mail them a
//! link to the requester's site ("reset poisoning"). Emailed links use
//! `TESTIT_PUBLIC_URL`, or else the bound address. File URLs in answers go back to the
//! caller only, so without the setting they follow the address the caller used, which is
//! what works behind any proxy the caller came through.

use actix_web::HttpRequest;

use crate::state::AppState;

/// `http://<host>:<port>` for a bind address; an unspecified host (`0.0.0.0`, `::`) is
/// written `localhost`.
pub fn bound_url(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    let host = match host.trim_matches(|c| c == '[' || c == ']') {
        "" | "0.0.0.0" | "::" => "localhost".to_owned(),
        h if h.contains(':') => format!("[{h}]"),
        h => h.to_owned(),
    };
    format!("http://{host}:{port}")
}

/// Where links in email point: `TESTIT_PUBLIC_URL`, or the bound address.
pub fn emailed_base(state: &AppState) -> &str {
    state.public_url.get().map_or("", String::as_str)
}

/// Where file URLs in an answer point: `TESTIT_PUBLIC_URL`, or the address the request
/// came to.
pub fn answer_base(req: &HttpRequest, state: &AppState) -> String {
    if state.public_url_configured {
        return emailed_base(state).to_owned();
    }
    // The `Host` header and this connection's own scheme, not `Forwarded` or
    // `X-Forwarded-*`, which any client can send (behind a proxy, set TESTIT_PUBLIC_URL).
    let scheme = if req.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', '\\', '@', ' ']))
        .map_or_else(|| req.app_config().host().to_owned(), str::to_owned);
    format!("{scheme}://{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_bind_host_is_written_localhost() {
        assert_eq!(bound_url("0.0.0.0:8000", 8000), "http://localhost:8000");
        assert_eq!(bound_url("127.0.0.1:0", 41234), "http://127.0.0.1:41234");
        assert_eq!(bound_url("[::1]:0", 5), "http://[::1]:5");
        assert_eq!(bound_url("[::]:0", 5), "http://localhost:5");
    }
}
