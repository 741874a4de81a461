//! The one error type of the product, and its table of codes.
//!
//! Every failure a client can see goes through [`ApiError`], including the ones raised by
//! actix extractors (bad paths, query strings, bodies), so every error body has one of two
//! shapes Django REST clients already parse:
//!
//! - validation errors: `{"field": ["message", …], …}` (status 400);
//! - everything else: `{"detail": "…", "code": "…"}`.
//!
//! [`ErrorCode`] is the complete table of causes and their status codes; the README repeats it
//! and a test keeps the two in step. 5xx bodies never say anything about the cause: that goes
//! to the log only. The HTTP response is built at the edge, in `api::errors`; this module
//! knows nothing of actix.

use std::collections::BTreeMap;
use std::fmt;

/// Every cause of an error response, with its HTTP status and the default message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A body or query field failed validation (`{"field": [...]}` body).
    Invalid,
    /// The body is not valid JSON (or form data), or not an object.
    ParseError,
    /// A query-string parameter is malformed.
    InvalidQuery,
    /// The request was well-formed but breaks a rule of the domain.
    BadRequest,
    /// No credentials were sent to an endpoint that needs them.
    NotAuthenticated,
    /// Email and password did not match an account.
    AuthenticationFailed,
    /// The JWT is malformed, expired, revoked or of the wrong type.
    TokenNotValid,
    /// Authenticated, but not allowed to do this.
    PermissionDenied,
    /// No such object, or not visible to the caller.
    NotFound,
    /// No route has this path.
    RouteNotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The body did not arrive in time (it stalled, or came too slowly).
    RequestTimeout,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// The body's content type is neither JSON nor form data.
    UnsupportedMediaType,
    /// Too many requests (sign-in failures or attempts, sign-ups, a one-time code within a
    /// minute of the last); `Retry-After` says when to try again.
    Throttled,
    /// A timed attempt's limit (plus the grace) has passed: the submission is refused.
    TimeLimitPassed,
    /// A timed test submitted with no attempt on record (the test was never shown).
    AttemptNotStarted,
    /// The test (or the student's group's sitting) does not open until later.
    NotOpenYet,
    /// The test (or the student's group's sitting) has closed.
    Closed,
    /// Something failed inside the server; the log has the cause.
    Internal,
    /// The store cannot be reached.
    Unavailable,
}

impl ErrorCode {
    /// Every code, for documentation and the README consistency test.
    pub const ALL: [ErrorCode; 21] = [
        ErrorCode::Invalid,
        ErrorCode::ParseError,
        ErrorCode::InvalidQuery,
        ErrorCode::BadRequest,
        ErrorCode::NotAuthenticated,
        ErrorCode::AuthenticationFailed,
        ErrorCode::TokenNotValid,
        ErrorCode::PermissionDenied,
        ErrorCode::NotFound,
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::RequestTimeout,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Throttled,
        ErrorCode::TimeLimitPassed,
        ErrorCode::AttemptNotStarted,
        ErrorCode::NotOpenYet,
        ErrorCode::Closed,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::ParseError => "parse_error",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotAuthenticated => "not_authenticated",
            ErrorCode::AuthenticationFailed => "authentication_failed",
            ErrorCode::TokenNotValid => "token_not_valid",
            ErrorCode::PermissionDenied => "permission_denied",
            ErrorCode::NotFound => "not_found",
            ErrorCode::RouteNotFound => "route_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Throttled => "throttled",
            ErrorCode::TimeLimitPassed => "time_limit_passed",
            ErrorCode::AttemptNotStarted => "attempt_not_started",
            ErrorCode::NotOpenYet => "not_open_yet",
            ErrorCode::Closed => "closed",
            ErrorCode::Internal => "internal_error",
            ErrorCode::Unavailable => "service_unavailable",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Invalid
            | ErrorCode::ParseError
            | ErrorCode::InvalidQuery
            | ErrorCode::BadRequest => 400,
            ErrorCode::NotAuthenticated
            | ErrorCode::AuthenticationFailed
            | ErrorCode::TokenNotValid => 401,
            ErrorCode::PermissionDenied
            | ErrorCode::TimeLimitPassed
            | ErrorCode::AttemptNotStarted
            | ErrorCode::NotOpenYet
            | ErrorCode::Closed => 403,
            ErrorCode::NotFound | ErrorCode::RouteNotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::RequestTimeout => 408,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Throttled => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The message used when the error carries none of its own (DRF's wording where DRF has one).
    pub fn default_detail(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "Invalid input.",
            ErrorCode::ParseError => "Malformed request body.",
            ErrorCode::InvalidQuery => "Malformed query string.",
            ErrorCode::BadRequest => "Bad request.",
            ErrorCode::NotAuthenticated => "Authentication credentials were not provided.",
            ErrorCode::AuthenticationFailed => "No active account found with the given credentials",
            ErrorCode::TokenNotValid => "Token is invalid or expired",
            ErrorCode::PermissionDenied => "You do not have permission to perform this action.",
            ErrorCode::NotFound => "Not found.",
            ErrorCode::RouteNotFound => "No API route has this path.",
            ErrorCode::MethodNotAllowed => "Method not allowed.",
            ErrorCode::RequestTimeout => "The request body did not arrive in time.",
            ErrorCode::PayloadTooLarge => "Request body is too large.",
            ErrorCode::UnsupportedMediaType => "Unsupported media type in request.",
            ErrorCode::Throttled => "Request was throttled.",
            ErrorCode::TimeLimitPassed => "The time limit of this attempt has passed.",
            ErrorCode::AttemptNotStarted => {
                "No attempt at this test was started: open the test first."
            }
            ErrorCode::NotOpenYet => "This test is not open yet.",
            ErrorCode::Closed => "This test is closed.",
            ErrorCode::Internal => "A server error occurred.",
            ErrorCode::Unavailable => "The service is temporarily unavailable.",
        }
    }
}

/// simplejwt's detail when an access token in `Authorization` does not authenticate.
pub const ACCESS_TOKEN_NOT_VALID: &str = "Given token not valid for any token type";

/// Field name to the messages about it, as DRF serializers report them.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// An error answered to the client.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a `{"field": ["message"]}` body.
    Validation(FieldErrors),
    /// Any other error: a code and, optionally, a more precise message than the default.
    Coded {
        code: ErrorCode,
        detail: Option<String>,
    },
    /// 429 `throttled`: the client may try again after this many seconds (`Retry-After`).
    Throttled { retry_after: u64 },
    /// 500: the cause is logged, never sent.
    Internal(String),
}

impl ApiError {
    pub fn code(code: ErrorCode) -> Self {
        ApiError::Coded { code, detail: None }
    }

    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError::Coded {
            code,
            detail: Some(detail.into()),
        }
    }

    /// 401 `token_not_valid` for an access token (JWT) that does not authenticate: answered
    /// in djangorestframework-simplejwt's shape, with its `messages`.
    pub fn access_token_not_valid() -> Self {
        Self::with_detail(ErrorCode::TokenNotValid, ACCESS_TOKEN_NOT_VALID)
    }

    pub fn not_found() -> Self {
        Self::code(ErrorCode::NotFound)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::with_detail(ErrorCode::PermissionDenied, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::with_detail(ErrorCode::BadRequest, detail)
    }

    /// A validation error on one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    /// 429: asked again too soon; `retry_after` seconds (at least 1) until it may.
    pub fn throttled(retry_after: u64) -> Self {
        ApiError::Throttled {
            retry_after: retry_after.max(1),
        }
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    pub fn error_code(&self) -> ErrorCode {
        match self {
            ApiError::Validation(_) => ErrorCode::Invalid,
            ApiError::Coded { code, .. } => *code,
            ApiError::Throttled { .. } => ErrorCode::Throttled,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Validation(errors) => write!(f, "validation failed: {errors:?}"),
            ApiError::Coded { code, detail } => {
                write!(
                    f,
                    "{}: {}",
                    code.as_str(),
                    detail.as_deref().unwrap_or(code.default_detail())
                )
            }
            ApiError::Throttled { retry_after } => {
                write!(f, "throttled: try again in {retry_after} s")
            }
            ApiError::Internal(cause) => write!(f, "internal error: {cause}"),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            crate::store::StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "store unavailable");
                ApiError::code(ErrorCode::Unavailable)
            }
            other => ApiError::internal(other),
        }
    }
}

/// Collects field errors the way a DRF serializer does, then fails once with all of them.
#[derive(Debug, Default, Clone)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Keeps the value of a parse, or records its error under `field`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(field, err.to_string());
                None
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_in_the_readme_table_with_its_status() {
        let readme = include_str!("../README.md");
        for code in ErrorCode::ALL {
            let row = format!("| `{}` | {} |", code.as_str(), code.status());
            assert!(
                readme.contains(&row),
                "README error table lacks the row {row:?}"
            );
        }
    }
}
