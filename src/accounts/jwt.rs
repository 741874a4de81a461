//! JSON web tokens as Django REST clients know them (djangorestframework-simplejwt): HS256,
//! claims `token_type`, `exp`, `iat`, `jti`, `user_id`, plus two of ours that such clients
//! ignore: `gen` (the user's token generation, bumped on password change to revoke every
//! older token) and `family` (one per log-in, for logout and reuse detection under
//! rotation; access tokens carry their log-in's family too, so revoking it reaches them).

use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::domain::clock::now;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
    #[serde(rename = "gen", default)]
    pub generation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// Signing and verification keys with the token lifetimes.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

/// A random identifier (128 bits, hex), for `jti` and families.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    crate::domain::text::hex(&bytes)
}

const SECRET_FILE: &str = "jwt_secret";

/// The configured secret, or the one generated on first start and kept in the data dir (so
/// tokens survive a restart), created with owner-only permissions.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> std::io::Result<String> {
    if let Some(secret) = configured {
        return Ok(secret.to_owned());
    }
    let path = data_dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_owned()),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(data_dir)?;
    let secret = format!("{}{}", random_id(), random_id());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path)?, secret.as_bytes())?;
    Ok(secret)
}

impl JwtKeys {
    pub fn new(secret: &str, access_ttl: Duration, refresh_ttl: Duration) -> JwtKeys {
        // HS256 only: a token naming any other algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            access_ttl,
            refresh_ttl,
        }
    }

    fn sign(&self, claims: &Claims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// An access token of the log-in `family`.
    /// How long an access token is valid.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// How long a refresh token is valid.
    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    pub fn access_token(&self, user_id: i64, generation: i64, family: &str) -> String {
        let iat = now();
        self.sign(&Claims {
            token_type: TokenType::Access,
            exp: iat + self.access_ttl.as_secs() as i64,
            iat,
            jti: random_id(),
            user_id,
            generation,
            family: Some(family.to_owned()),
        })
    }

    /// A refresh token of `family` (a new log-in starts a new family).
    pub fn refresh_token(&self, user_id: i64, generation: i64, family: String) -> String {
        let iat = now();
        self.sign(&Claims {
            token_type: TokenType::Refresh,
            exp: iat + self.refresh_ttl.as_secs() as i64,
            iat,
            jti: random_id(),
            user_id,
            generation,
            family: Some(family),
        })
    }

    /// Verifies signature, algorithm, expiry and type.
    pub fn verify(&self, token: &str, expected: TokenType) -> Option<Claims> {
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.token_type == expected).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            "test secret",
            Duration::from_secs(60),
            Duration::from_secs(600),
        )
    }

    #[test]
    fn access_tokens_carry_django_style_claims() {
        let keys = keys();
        let claims = keys
            .verify(&keys.access_token(7, 2, "f1"), TokenType::Access)
            .unwrap();
        assert_eq!((claims.user_id, claims.generation), (7, 2));
        assert_eq!(claims.family.as_deref(), Some("f1"));
        assert_eq!(claims.exp - claims.iat, 60);
        assert_eq!(claims.jti.len(), 32);
    }

    #[test]
    fn a_token_of_the_wrong_type_or_key_is_refused() {
        let keys = keys();
        let refresh = keys.refresh_token(7, 0, random_id());
        assert!(keys.verify(&refresh, TokenType::Access).is_none());
        assert!(keys.verify(&refresh, TokenType::Refresh).is_some());
        let other = JwtKeys::new("other", Duration::from_secs(60), Duration::from_secs(60));
        assert!(other.verify(&refresh, TokenType::Refresh).is_none());
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none"} with the same claims and no signature.
        let keys = keys();
        let token = keys.access_token(7, 0, "f1");
        let payload = token.split('.').nth(1).unwrap();
        let forged = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify(&forged, TokenType::Access).is_none());
    }

    #[test]
    fn a_generated_secret_is_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(load_or_create_secret(None, dir.path()).unwrap(), first);
        assert_eq!(
            load_or_create_secret(Some("set"), dir.path()).unwrap(),
            "set"
        );
    }
}
