//! Structured logs with `tracing`, filtered by `RUST_LOG` (default `info`), and the request
//! log, whose URLs never hold credentials.

use std::borrow::Cow;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests) is a no-op. Each request is one
/// line when its span closes, with method, route, status and time taken.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}

/// Logs for test runs: silent unless `TEST_LOG` is set (then as `RUST_LOG` says).
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init();
    }
}

/// Query parameters whose values are credentials (`GET /ws?token=…`, since browsers cannot
/// set headers on a WebSocket) or could be.
const SECRET_PARAMETERS: [&str; 6] = ["token", "access", "refresh", "password", "key", "ticket"];

/// What a secret parameter's value is logged as.
pub const REDACTED: &str = "[redacted]";

/// A request target (`/path?query`) with the values of credential parameters replaced by
/// [`REDACTED`]; everything else is kept as sent.
pub fn redact_target(target: &str) -> Cow<'_, str> {
    let Some((path, query)) = target.split_once('?') else {
        return Cow::Borrowed(target);
    };
    let mut redacted = false;
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            if is_secret_parameter(key) {
                redacted = true;
                Cow::Owned(format!("{key}={REDACTED}"))
            } else {
                Cow::Borrowed(pair)
            }
        })
        .collect();
    if !redacted {
        return Cow::Borrowed(target);
    }
    Cow::Owned(format!("{path}?{}", pairs.join("&")))
}

/// Compares the decoded key without regard to case: `%74oken` and `Token` are `token` to a
/// lenient parser, and must not slip through.
fn is_secret_parameter(raw_key: &str) -> bool {
    let spaced = raw_key.replace('+', " ");
    let key = percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy();
    SECRET_PARAMETERS
        .iter()
        .any(|secret| key.trim().eq_ignore_ascii_case(secret))
}

/// The request log's span: tracing-actix-web's fields, with the target redacted.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let target = request
            .uri()
            .path_and_query()
            .map_or("", |target| target.as_str());
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        let user_agent = request
            .headers()
            .get("User-Agent")
            .and_then(|agent| agent.to_str().ok())
            .unwrap_or("");
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let connection = request.connection_info();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.flavor = ?request.version(),
            http.scheme = %connection.scheme(),
            http.host = %connection.host(),
            http.client_ip = %connection.realip_remote_addr().unwrap_or(""),
            http.user_agent = %user_agent,
            http.target = %redact_target(target),
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The request-log middleware the server wraps every request in.
pub fn request_logger() -> TracingLogger<RequestSpan> {
    TracingLogger::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_parameters_are_redacted_and_the_rest_kept() {
        let cases = [
            ("/ws?token=eyJ.abc.def", "/ws?token=[redacted]"),
            (
                "/a?limit=2&access=x&refresh=y&password=p&key=k&ticket=t&offset=4",
                "/a?limit=2&access=[redacted]&refresh=[redacted]&password=[redacted]&key=[redacted]&ticket=[redacted]&offset=4",
            ),
            ("/ws?Token=x&%74oken=y", "/ws?Token=[redacted]&%74oken=[redacted]"),
            ("/ws?token", "/ws?token=[redacted]"),
            ("/api/tests/?limit=2&tokens=1", "/api/tests/?limit=2&tokens=1"),
            ("/api/users/me", "/api/users/me"),
        ];
        for (target, logged) in cases {
            assert_eq!(redact_target(target), logged, "{target}");
        }
    }
}
