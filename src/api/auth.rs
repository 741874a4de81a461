//! `AuthUser`: the authenticated caller, as a handler parameter; and the `WWW-Authenticate`
//! challenge every 401 carries.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use crate::accounts::{keys, throttle, Claims, TokenType};
use crate::domain::input::Input;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::{Filter, RevokedToken, User};

/// The caller, authenticated by `Authorization: Token <key>` (an opaque API key, seeds 000
/// and 001), `Authorization: Bearer <jwt>` or `Authorization: Token <jwt>` (an access token;
/// a key and a JWT are told apart by shape), or, on the routes of seed 003, which documents
/// `basicAuth`, `Authorization: Basic base64(email:password)`. Missing credentials answer
/// 401 `not_authenticated`; a bad, expired or revoked credential, or a refresh token, 401
/// `token_not_valid`; a wrong email and password 401 `authentication_failed`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The access token's claims; `None` when the caller used an API key.
    pub claims: Option<Claims>,
}

/// The credential in the `Authorization` header, if it uses one of our two schemes.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    let token = token.trim();
    (known && !token.is_empty()).then_some(token)
}

/// The DRF message of a Basic header that is not `Basic base64(login:password)`.
const BAD_BASIC_HEADER: &str = "Invalid basic header. Credentials not correctly base64 encoded.";

/// `Authorization: Basic …` decoded: `Ok(None)` when the header uses another scheme (or
/// none), `Ok(Some((login, password)))`, or a 401 for a Basic header that decodes to no pair.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    use base64::Engine;
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("").trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || ApiError::with_detail(ErrorCode::AuthenticationFailed, BAD_BASIC_HEADER);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (login, password) = decoded.split_once(':').ok_or_else(bad)?;
    Ok(Some((login.to_owned(), password.to_owned())))
}

/// HTTP Basic credentials read from a request whose route documents them (seed 003's;
/// elsewhere such a header is no credential of the route's, so "not provided"), to be checked
/// by [`BasicAttempt::check`]. Read before the handler's future, which cannot borrow the
/// request.
pub struct BasicAttempt {
    login: String,
    password: String,
    address: Option<IpAddr>,
}

impl BasicAttempt {
    /// `Ok(None)`: no Basic header, or a route without Basic; a 401 for a Basic header that
    /// decodes to no `login:password` pair.
    pub fn of(req: &HttpRequest, state: &AppState) -> Result<Option<BasicAttempt>, ApiError> {
        if !documents_basic(req) {
            return Ok(None);
        }
        Ok(
            basic_credentials(req)?.map(|(login, password)| BasicAttempt {
                login,
                password,
                address: client_address(req, state),
            }),
        )
    }

    /// Checks the credentials as the password doors do (see [`AuthUser::basic`]).
    pub async fn check(self, state: &AppState) -> Result<AuthUser, ApiError> {
        AuthUser::basic(state, self.address, &self.login, self.password).await
    }
}

/// The client's address: the peer's, or, behind a trusted proxy that the settings name
/// (`TESTIT_CLIENT_ADDRESS_HEADER`), the one that proxy put in its header (for
/// `X-Forwarded-For`, the last entry: the one the proxy itself appended).
///
/// Without the header (or with a value that is no address) the peer's address stands, so
/// leaving the header out never escapes the per-address limits. IPv6 addresses are taken
/// by their /64, the block one subscriber gets: otherwise one client would have 2^64 of them.
pub fn client_address(req: &HttpRequest, state: &AppState) -> Option<IpAddr> {
    let forwarded = state.client_address_header.as_ref().and_then(|name| {
        // The last line and its last entry: what our proxy added, not what the client sent.
        let value = req.headers().get_all(name.as_str()).last()?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    });
    forwarded
        .or_else(|| req.peer_addr().map(|peer| peer.ip()))
        .map(subscriber)
}

/// Runs a sign-in (`attempt`, with the body) through the rate limits: refused with 429
/// while the login (read from the body's `field`) or the client's address has run out, and
/// a failure (`is_failure`: wrong credentials, not a malformed body) counted, answered with
/// 429 instead when it is one too many.
pub async fn guarded_sign_in<T, Fut>(
    req: &HttpRequest,
    state: &AppState,
    input: Input,
    field: &str,
    is_failure: fn(&ApiError) -> bool,
    attempt: impl FnOnce(Input) -> Fut,
) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<T, ApiError>>,
{
    let address = client_address(req, state);
    let login = throttle::login_of(&input, field);
    state.throttle.before_sign_in(&login, address).await?;
    match attempt(input).await {
        Err(err) if is_failure(&err) => {
            Err(state.throttle.failed(&login, address).await.unwrap_or(err))
        }
        other => other,
    }
}

/// Runs a change of `me`'s account that may check `current_password` under the sign-in
/// limits of that account: a stolen key or token must not turn into unlimited guesses at the
/// password (each also an argon2 hash), which would let its holder move the email and keep
/// the account. Wrong guesses count as failed sign-ins of the account's login.
pub async fn guarded_change<T, Fut>(
    req: &HttpRequest,
    state: &AppState,
    me: &User,
    input: &Input,
    change: impl FnOnce() -> Fut,
) -> Result<T, ApiError>
where
    Fut: Future<Output = Result<T, ApiError>>,
{
    if !input.has("current_password") {
        return change().await;
    }
    let address = client_address(req, state);
    let login = me
        .email_lower
        .clone()
        .or_else(|| me.username_lower.clone())
        .unwrap_or_else(|| format!("#{}", me.id));
    state.throttle.before_sign_in(&login, address).await?;
    match change().await {
        Err(err) if crate::accounts::users::is_wrong_current_password(&err) => {
            Err(state.throttle.failed(&login, address).await.unwrap_or(err))
        }
        other => other,
    }
}

/// An IPv4 address as it is; an IPv6 one as its /64 (an IPv4-mapped one as the IPv4).
fn subscriber(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

impl AuthUser {
    /// Checks a credential: an API key against the stored keys, or an access token against
    /// the signing keys, revoked tokens and log-ins, and the user's token generation.
    pub async fn authenticate(state: &AppState, credential: &str) -> Result<AuthUser, ApiError> {
        if keys::looks_like_key(credential) {
            let user = keys::authenticate(&state.store, credential)
                .await?
                .ok_or_else(|| ApiError::code(ErrorCode::TokenNotValid))?;
            return Ok(AuthUser { user, claims: None });
        }
        // simplejwt's answer for an access token that does not authenticate.
        let invalid = ApiError::access_token_not_valid;
        let claims = state
            .jwt
            .verify(credential, TokenType::Access)
            .ok_or_else(invalid)?;
        // A revoked log-in takes its access tokens with it; the set is in memory, so this
        // costs no store read.
        if claims
            .family
            .as_deref()
            .is_some_and(|family| state.revoked_families.contains(family))
        {
            return Err(invalid());
        }
        let revoked = Filter::Eq("jti", claims.jti.clone().into());
        if state.store.repo::<RevokedToken>().count(&revoked).await? > 0 {
            return Err(invalid());
        }
        let user = state
            .store
            .users()
            .get(claims.user_id)
            .await?
            .ok_or_else(invalid)?;
        if user.token_generation != claims.generation || !user.can_sign_in() {
            return Err(invalid());
        }
        Ok(AuthUser {
            user,
            claims: Some(claims),
        })
    }

    /// Checks HTTP Basic credentials (an email and a password) as the password doors do:
    /// under the sign-in limits of the login and the client's address (refused with 429
    /// before any hashing while either has run out), argon2 on the blocking pool, and a
    /// failure counted as a failed sign-in. Nothing is cached: every request is checked.
    async fn basic(
        state: &AppState,
        address: Option<IpAddr>,
        login: &str,
        password: String,
    ) -> Result<AuthUser, ApiError> {
        state.throttle.before_sign_in(login, address).await?;
        match crate::accounts::tokens::user_by_password(&state.store, login, password).await? {
            Some(user) => Ok(AuthUser { user, claims: None }),
            None => {
                let failed = ApiError::with_detail(
                    ErrorCode::AuthenticationFailed,
                    "Invalid username/password.",
                );
                Err(state
                    .throttle
                    .failed(login, address)
                    .await
                    .unwrap_or(failed))
            }
        }
    }

    pub fn id(&self) -> i64 {
        self.user.id
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AuthUser, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        // Basic only where the route documents it (seed 003's); elsewhere such a header is
        // no credential of the route's, so "not provided".
        let basic = state.as_ref().map(|state| BasicAttempt::of(req, state));
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            if let Some(attempt) = basic.transpose()?.flatten() {
                return attempt.check(&state).await;
            }
            let token = token.ok_or_else(|| ApiError::code(ErrorCode::NotAuthenticated))?;
            AuthUser::authenticate(&state, &token).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64_block() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(subscriber(a), subscriber(b));
        assert_ne!(subscriber(a), subscriber(other));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(subscriber(mapped), IpAddr::from([10, 0, 0, 1]));
    }
}

/// Which credentials a route documents. Every authenticated route accepts both kinds; this
/// only decides what its documentation and its 401 challenge name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schemes {
    /// `Bearer <jwt>` (seed 003, the TestIT API).
    Bearer,
    /// `Token <key>` (seeds 000 and 001).
    Token,
    /// Both: a path two API families share.
    Both,
}

impl Schemes {
    /// Seed 003's routes also take HTTP Basic (its `basicAuth` scheme).
    pub fn accepts_basic(self) -> bool {
        matches!(self, Schemes::Bearer | Schemes::Both)
    }

    /// The `WWW-Authenticate` value of a 401 on such a route. Basic is accepted on seed
    /// 003's routes but never offered here: a browser answers a `Basic` challenge to its
    /// scripts' requests with a password dialog of its own, over the web app.
    pub fn challenge(self) -> &'static str {
        match self {
            Schemes::Bearer => r#"Bearer realm="api""#,
            Schemes::Token => r#"Token realm="api""#,
            Schemes::Both => r#"Bearer realm="api", Token realm="api""#,
        }
    }
}

/// Each route's documented schemes, by method and path pattern (without trailing slash).
#[derive(Debug, Default)]
pub struct Challenges(HashMap<(Method, String), Schemes>);

impl Challenges {
    pub fn new(docs: &[super::OpDoc]) -> Challenges {
        let map = docs
            .iter()
            .map(|doc| {
                let path = doc.path.trim_end_matches('/').to_owned();
                ((doc.method.clone(), path), doc.schemes)
            })
            .collect();
        Challenges(map)
    }

    fn find(&self, method: &Method, pattern: &str) -> Option<Schemes> {
        let key = (method.clone(), pattern.trim_end_matches('/').to_owned());
        self.0.get(&key).copied()
    }

    fn of(&self, method: &Method, pattern: &str) -> Schemes {
        self.find(method, pattern).unwrap_or(Schemes::Bearer)
    }
}

/// Whether the request's route is one of seed 003's, whose document lists `basicAuth`
/// (its own routes and the paths it shares with seed 001).
fn documents_basic(req: &HttpRequest) -> bool {
    let schemes = match (req.app_data::<web::Data<Challenges>>(), req.match_pattern()) {
        (Some(challenges), Some(pattern)) => challenges.find(req.method(), &pattern),
        _ => None,
    };
    schemes.is_some_and(Schemes::accepts_basic)
}

/// Middleware: gives every 401 the `WWW-Authenticate` challenge of its route's scheme
/// (RFC 9110 requires one), so a client learns whether to send a key or a JWT.
pub async fn challenge(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    if res.status() == StatusCode::UNAUTHORIZED
        && !res.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        let request = res.request();
        let schemes = match (
            request.app_data::<web::Data<Challenges>>(),
            request.match_pattern(),
        ) {
            (Some(challenges), Some(pattern)) => challenges.of(request.method(), &pattern),
            _ => Schemes::Bearer,
        };
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static(schemes.challenge()),
        );
    }
    Ok(res)
}
