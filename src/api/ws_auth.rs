//! The access token of a browser's WebSocket, carried in `Sec-WebSocket-Protocol`.
//!
//! A browser cannot set `Authorization` on a WebSocket, and a token in the URL
//! (`/ws?token=…`) ends up in histories, proxies' logs and `Referer`s. So a browser offers two
//! subprotocols, `new WebSocket(url, ["testit", "bearer.<access token>"])`: the server takes
//! the token from the second and accepts the first, answering `Sec-WebSocket-Protocol:
//! testit` (a browser refuses a handshake that selects none of the protocols it offered, and
//! the token is never echoed back). A JWT is made of base64url and dots, all of which a
//! subprotocol name may hold.

use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL};
use actix_web::HttpRequest;

use crate::error::ApiError;

/// The subprotocol the server accepts.
pub const SUBPROTOCOL: &str = "testit";
/// The prefix of the subprotocol that carries the access token.
pub const BEARER_PREFIX: &str = "bearer.";

/// What a client offered in `Sec-WebSocket-Protocol`.
#[derive(Debug, Default)]
pub struct Offered {
    /// It offered [`SUBPROTOCOL`]: the answer must select it.
    pub testit: bool,
    /// The access token of a `bearer.<token>` subprotocol.
    pub token: Option<String>,
}

impl Offered {
    /// Reads every `Sec-WebSocket-Protocol` header. A token offered without
    /// [`SUBPROTOCOL`] is refused (400): the server would have no protocol to answer with.
    pub fn of(req: &HttpRequest) -> Result<Offered, ApiError> {
        let mut offered = Offered::default();
        let names = req
            .headers()
            .get_all(SEC_WEBSOCKET_PROTOCOL)
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim);
        for name in names {
            if name == SUBPROTOCOL {
                offered.testit = true;
            } else if let Some(token) = name.strip_prefix(BEARER_PREFIX) {
                if !token.is_empty() {
                    offered.token = Some(token.to_owned());
                }
            }
        }
        if offered.token.is_some() && !offered.testit {
            return Err(ApiError::bad_request(format!(
                "A bearer.<token> subprotocol must come with the {SUBPROTOCOL:?} subprotocol."
            )));
        }
        Ok(offered)
    }

    /// The `Sec-WebSocket-Protocol` of the answer, if the client offered ours.
    pub fn answer(&self) -> Option<HeaderValue> {
        self.testit.then(|| HeaderValue::from_static(SUBPROTOCOL))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn the_token_comes_from_the_bearer_subprotocol_next_to_ours() {
        let req = TestRequest::default()
            .insert_header((SEC_WEBSOCKET_PROTOCOL, "testit, bearer.a.b-c_d"))
            .to_http_request();
        let offered = Offered::of(&req).unwrap();
        assert!(offered.testit);
        assert_eq!(offered.token.as_deref(), Some("a.b-c_d"));
        assert_eq!(offered.answer().unwrap(), "testit");
    }

    #[test]
    fn a_token_without_our_subprotocol_is_refused_and_none_is_fine() {
        let req = TestRequest::default()
            .insert_header((SEC_WEBSOCKET_PROTOCOL, "bearer.x"))
            .to_http_request();
        assert!(Offered::of(&req).is_err());
        let req = TestRequest::default().to_http_request();
        let offered = Offered::of(&req).unwrap();
        assert!(!offered.testit && offered.token.is_none() && offered.answer().is_none());
    }
}
