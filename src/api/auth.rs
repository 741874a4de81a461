//! `AuthUser`: the authenticated caller, as a handler parameter.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};

use crate::accounts::{Claims, TokenType};
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::{Filter, RevokedToken, User};

/// The caller, authenticated by an access token in `Authorization: Bearer <jwt>` or
/// `Authorization: Token <jwt>`. Missing credentials answer 401 `not_authenticated`; a bad,
/// expired, revoked or refresh token answers 401 `token_not_valid`.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub claims: Claims,
}

/// The token in the `Authorization` header, if it uses one of our two schemes.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    let token = token.trim();
    (known && !token.is_empty()).then_some(token)
}

impl AuthUser {
    /// Checks an access token against the keys, revoked tokens and log-ins, and the user's
    /// token generation.
    pub async fn authenticate(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
        let invalid = || ApiError::code(ErrorCode::TokenNotValid);
        let claims = state
            .jwt
            .verify(token, TokenType::Access)
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
        Ok(AuthUser { user, claims })
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
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not registered"))?;
            let token = token.ok_or_else(|| ApiError::code(ErrorCode::NotAuthenticated))?;
            AuthUser::authenticate(&state, &token).await
        })
    }
}
