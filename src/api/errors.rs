//! [`ApiError`] as an HTTP response: the status from the code table, the JSON body, and
//! `Retry-After` on 503 and 429. Only here does the error type meet actix.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, FieldErrors, ACCESS_TOKEN_NOT_VALID};

/// Every error but validation: a message and the code from the README's table.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    pub detail: &'a str,
    pub code: &'a str,
    /// Only with an access token that does not authenticate (simplejwt's shape): why, per
    /// token class tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<TokenMessage>>,
}

/// One of simplejwt's `messages`: a token class tried and why it refused the token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenMessage {
    pub token_class: &'static str,
    pub token_type: &'static str,
    pub message: &'static str,
}

/// A validation error: field name to the messages about it; `non_field_errors` for the body
/// as a whole.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ValidationError, value_type = std::collections::BTreeMap<String, Vec<String>>)]
pub struct ValidationErrorBody<'a>(pub &'a FieldErrors);

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error_code().status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if self.status_code() == StatusCode::SERVICE_UNAVAILABLE {
            // The store is down or overwhelmed for now: a client may try again shortly.
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
        }
        match self {
            ApiError::Validation(errors) => response.json(ValidationErrorBody(errors)),
            ApiError::Throttled { retry_after } => {
                response.insert_header((header::RETRY_AFTER, *retry_after));
                // DRF's wording for its `Throttled` exception.
                let detail =
                    format!("Request was throttled. Expected available in {retry_after} seconds.");
                response.json(ErrorBody {
                    detail: &detail,
                    code: ErrorCode::Throttled.as_str(),
                    messages: None,
                })
            }
            ApiError::Coded { code, detail } => {
                let access_token = *code == ErrorCode::TokenNotValid
                    && detail.as_deref() == Some(ACCESS_TOKEN_NOT_VALID);
                response.json(ErrorBody {
                    detail: detail.as_deref().unwrap_or(code.default_detail()),
                    code: code.as_str(),
                    messages: access_token.then(|| {
                        vec![TokenMessage {
                            token_class: "AccessToken",
                            token_type: "access",
                            message: ErrorCode::TokenNotValid.default_detail(),
                        }]
                    }),
                })
            }
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error answered with 500");
                let code = ErrorCode::Internal;
                response.json(ErrorBody {
                    detail: code.default_detail(),
                    code: code.as_str(),
                    messages: None,
                })
            }
        }
    }
}

/// What a 503 asks the client to wait before trying again.
const RETRY_AFTER_SECONDS: u32 = 2;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Validator;
    use actix_web::body::to_bytes;
    use serde_json::json;

    async fn body_of(err: ApiError) -> serde_json::Value {
        let bytes = to_bytes(err.error_response().into_body()).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[actix_web::test]
    async fn internal_errors_reveal_nothing_of_their_cause() {
        let body = body_of(ApiError::internal("disk /var/secret is full")).await;
        assert_eq!(
            body,
            json!({"detail": "A server error occurred.", "code": "internal_error"})
        );
    }

    #[actix_web::test]
    async fn validation_errors_are_a_map_of_field_to_messages() {
        let mut v = Validator::new();
        v.add("email", "This field is required.");
        v.add("email", "Enter a valid email address.");
        let body = body_of(v.finish().unwrap_err()).await;
        assert_eq!(
            body,
            json!({"email": ["This field is required.", "Enter a valid email address."]})
        );
    }
}
