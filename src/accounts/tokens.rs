//! Log-in sessions as JSON web token pairs: obtaining, refreshing (with optional rotation
//! and reuse detection), and revoking them.

use serde::Serialize;
use utoipa::ToSchema;

use super::jwt::{random_id, Claims, JwtKeys, TokenType};
use super::revoked::RevokedFamilies;
use crate::domain::clock::now;
use crate::domain::input::Input;
use crate::error::{ApiError, ErrorCode};
use crate::store::{
    Filter, RevokedFamily, RevokedToken, Store, StoreError, UsedRefreshToken, User,
};

/// What the token rules work with (borrowed from the server's state).
pub struct Sessions<'a> {
    pub store: &'a Store,
    pub jwt: &'a JwtKeys,
    pub revoked_families: &'a RevokedFamilies,
    /// Refreshing answers a new refresh token, and reusing a used one revokes the log-in.
    pub rotate: bool,
}

/// An access token, with a refresh token when one is issued.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TokenObtainPair)]
pub struct TokenPair {
    pub access: String,
    /// Always on log-in; on refresh only when refresh-token rotation is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
}

/// The account an email and a password sign in to, if they do: the core's sign-in
/// ([`super::identity::sign_in`]), behind log-in and HTTP Basic.
pub async fn user_by_password(
    store: &Store,
    email: &str,
    password: String,
) -> Result<Option<User>, ApiError> {
    super::identity::sign_in(store, super::identity::LoginBy::Email, email, password).await
}

fn token_not_valid() -> ApiError {
    ApiError::code(ErrorCode::TokenNotValid)
}

impl Sessions<'_> {
    /// Log-in: email and password for an access and a refresh token.
    pub async fn obtain(&self, input: Input) -> Result<TokenPair, ApiError> {
        let state = self;
        let (email, password) = super::identity::credentials(input, "email")?;
        let user = user_by_password(state.store, &email, password)
            .await?
            .ok_or_else(|| ApiError::code(ErrorCode::AuthenticationFailed))?;
        Ok(self.issue(&user))
    }

    /// A new log-in for a user whose credentials were checked (password, or an emailed
    /// one-time code): an access and a refresh token of a new family.
    pub fn issue(&self, user: &User) -> TokenPair {
        let family = random_id();
        let access = self
            .jwt
            .access_token(user.id, user.token_generation, &family);
        let refresh = self
            .jwt
            .refresh_token(user.id, user.token_generation, family);
        TokenPair {
            access,
            refresh: Some(refresh),
        }
    }

    async fn family_revoked(&self, family: &str) -> Result<bool, ApiError> {
        let filter = Filter::Eq("family", family.into());
        Ok(self.store.repo::<RevokedFamily>().count(&filter).await? > 0)
    }

    /// Revokes a log-in: its refresh tokens (the stored record, which refresh checks) and, at
    /// once, its access tokens (the in-memory set every authenticated request checks).
    async fn revoke_family(&self, family: String, expires_at: i64) -> Result<(), ApiError> {
        let state = self;
        let doc = RevokedFamily {
            id: 0,
            family: family.clone(),
            expires_at,
        };
        match state.store.repo::<RevokedFamily>().insert(doc).await {
            Ok(_) | Err(StoreError::Duplicate) => {
                state.revoked_families.insert(family, now());
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Log-out with an access token alone (seed 000's `logout/` sends no refresh token):
    /// revokes the log-in it belongs to, so its refresh tokens stop working too.
    pub async fn revoke_log_in(&self, claims: &Claims) -> Result<(), ApiError> {
        let Some(family) = claims.family.clone() else {
            // A token from before log-ins had families: revoke it alone.
            let doc = RevokedToken {
                id: 0,
                jti: claims.jti.clone(),
                expires_at: claims.exp,
            };
            return match self.store.repo::<RevokedToken>().insert(doc).await {
                Ok(_) | Err(StoreError::Duplicate) => Ok(()),
                Err(err) => Err(err.into()),
            };
        };
        // Every refresh token of the log-in, rotated ones too, was issued by now, so none
        // outlives one refresh lifetime from now.
        let lifetime = i64::try_from(self.jwt.refresh_ttl().as_secs()).unwrap_or(i64::MAX);
        self.revoke_family(family, now().saturating_add(lifetime))
            .await
    }

    /// A refresh token for a new access token. The refresh
    /// token stays valid for repeated and concurrent use, unless rotation is on: then the answer
    /// carries a new refresh token too, and presenting a used one revokes its whole family.
    pub async fn refresh(&self, mut input: Input) -> Result<TokenPair, ApiError> {
        let state = self;
        let token = input.required_str("refresh");
        input.finish()?;
        let token = token.ok_or_else(token_not_valid)?;
        let claims = state
            .jwt
            .verify(&token, TokenType::Refresh)
            .ok_or_else(token_not_valid)?;
        let family = claims.family.clone().ok_or_else(token_not_valid)?;
        if self.family_revoked(&family).await? {
            return Err(token_not_valid());
        }
        let user = state
            .store
            .users()
            .get(claims.user_id)
            .await?
            .ok_or_else(token_not_valid)?;
        if user.token_generation != claims.generation || !user.can_sign_in() {
            return Err(token_not_valid());
        }
        let access = state
            .jwt
            .access_token(user.id, user.token_generation, &family);
        if !state.rotate {
            return Ok(TokenPair {
                access,
                refresh: None,
            });
        }
        let used = UsedRefreshToken {
            id: 0,
            jti: claims.jti,
            family: family.clone(),
            expires_at: claims.exp,
        };
        match state.store.repo::<UsedRefreshToken>().insert(used).await {
            Ok(_) => {
                let refresh = state
                    .jwt
                    .refresh_token(user.id, user.token_generation, family);
                Ok(TokenPair {
                    access,
                    refresh: Some(refresh),
                })
            }
            Err(StoreError::Duplicate) => {
                tracing::warn!(
                    user_id = user.id,
                    "rotated refresh token reused: family revoked"
                );
                self.revoke_family(family, claims.exp).await?;
                Err(token_not_valid())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Log-out: revokes the given refresh token with every token refreshed from it, and the
    /// access token the request was sent with, if any.
    pub async fn revoke(&self, mut input: Input, access: Option<String>) -> Result<(), ApiError> {
        let state = self;
        let refresh = input.optional_str("refresh");
        if refresh.is_none() && access.is_none() {
            input.error(
                "refresh",
                "Send the refresh token to revoke, or an access token in Authorization.",
            );
        }
        input.finish()?;
        if let Some(refresh) = refresh {
            let claims = state
                .jwt
                .verify(&refresh, TokenType::Refresh)
                .ok_or_else(token_not_valid)?;
            let family = claims.family.ok_or_else(token_not_valid)?;
            self.revoke_family(family, claims.exp).await?;
        }
        // An access token that no longer verifies needs no revoking.
        if let Some(claims) = access.and_then(|t| state.jwt.verify(t.as_str(), TokenType::Access)) {
            let doc = RevokedToken {
                id: 0,
                jti: claims.jti,
                expires_at: claims.exp,
            };
            match state.store.repo::<RevokedToken>().insert(doc).await {
                Ok(_) | Err(StoreError::Duplicate) => {}
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }
}
