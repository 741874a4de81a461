//! Request bodies: JSON or form data, parsed into the object that [`Input`] reads.
//!
//! [`Body`] accepts `application/json` and `application/x-www-form-urlencoded` (the seed
//! documents both), an empty body being an empty object. Bodies that are not objects are
//! refused the way DRF refuses them; invalid UTF-8 is a parse error, never replaced.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde_json::{Map, Value};

use crate::domain::input::Input;
use crate::error::{ApiError, ErrorCode, Validator};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A request body parsed into a JSON object.
pub struct Body(pub Input);

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Body, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await.map_err(|err| {
                if err.as_response_error().status_code().as_u16() == 413 {
                    ApiError::code(ErrorCode::PayloadTooLarge)
                } else {
                    ApiError::with_detail(
                        ErrorCode::ParseError,
                        "The request body could not be read.",
                    )
                }
            })?;
            parse_body(content_type.as_deref(), &bytes).map(|map| Body(Input::new(map)))
        })
    }
}

fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match content_type {
        Some("application/x-www-form-urlencoded") => parse_form(bytes),
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => parse_json(bytes),
        // Clients that send JSON without saying so are common enough to accept.
        None => parse_json(bytes),
        Some(other) => Err(ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            format!("Unsupported media type \"{other}\" in request."),
        )),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => "null",
            };
            let mut v = Validator::new();
            v.add(
                "non_field_errors",
                format!("Invalid data. Expected a dictionary, but got {kind}."),
            );
            Err(v.finish().unwrap_err())
        }
        Err(err) => Err(ApiError::with_detail(
            ErrorCode::ParseError,
            format!("JSON parse error - {err}"),
        )),
    }
}

fn parse_form(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut map = Map::new();
    for pair in bytes.split(|b| *b == b'&').filter(|pair| !pair.is_empty()) {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let (key, value) = (form_component(key)?, form_component(value)?);
        push_field(&mut map, key, value);
    }
    Ok(map)
}

/// Adds one field of form data (urlencoded or multipart) to the object [`Input`] reads.
pub(super) fn push_field(map: &mut Map<String, Value>, key: String, value: String) {
    match map.get_mut(&key) {
        // A repeated key is a list (`members=1&members=2`).
        Some(Value::Array(items)) => items.push(Value::String(value)),
        Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
        None => {
            map.insert(key, Value::String(value));
        }
    }
}

/// One decoded key or value of form data. Bytes that are not UTF-8 once decoded are a parse
/// error: replacing them with U+FFFD, as lenient decoders do, would store text the client
/// never sent.
fn form_component(raw: &[u8]) -> Result<String, ApiError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(decoded).map_err(|_| {
        ApiError::with_detail(
            ErrorCode::ParseError,
            "Form parse error - the data is not valid UTF-8.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_bodies_become_objects_and_repeated_keys_lists() {
        let map = parse_body(Some("application/x-www-form-urlencoded"), b"user=5&m=1&m=2").unwrap();
        assert_eq!(Value::Object(map), json!({"user": "5", "m": ["1", "2"]}));
    }

    #[test]
    fn form_bodies_decode_plus_and_percent_escapes() {
        let map = parse_body(
            Some("application/x-www-form-urlencoded"),
            b"name=Ada+L%C3%B6w&flag&=x&&a%26b=1%3D2",
        )
        .unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"name": "Ada Löw", "flag": "", "": "x", "a&b": "1=2"})
        );
    }

    #[test]
    fn invalid_utf8_in_any_body_is_a_parse_error_not_a_replacement_character() {
        let form = Some("application/x-www-form-urlencoded");
        for body in [&b"name=Ada%FF"[..], b"name=Ada\xff", b"na%C3me=x"] {
            let err = parse_body(form, body).unwrap_err();
            assert_eq!(err.error_code(), ErrorCode::ParseError, "{body:?}");
        }
        let err = parse_body(Some("application/json"), b"{\"name\": \"Ada\xff\"}").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::ParseError);
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_like_drf_does() {
        let ApiError::Validation(errors) =
            parse_body(Some("application/json"), b"[1]").unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            errors["non_field_errors"],
            vec!["Invalid data. Expected a dictionary, but got list."]
        );
        let err = parse_body(Some("application/json"), b"{oops").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::ParseError);
        let err = parse_body(Some("text/plain"), b"hello").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::UnsupportedMediaType);
        assert!(parse_body(Some("text/plain"), b"").unwrap().is_empty());
    }
}
