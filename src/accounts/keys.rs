//! Opaque API keys: `Authorization: Token <key>`, as seeds 000 and 001 document them.
//!
//! A key is 40 lowercase hex characters (160 bits from the operating system's CSPRNG). Only
//! its SHA-256 is stored, so a copy of the database signs no one in. Every sign-in issues a
//! new key (one per device); a key expires after a configurable lifetime (the originals'
//! never did), and carries the user's token generation, so a password change or account
//! deletion (which bump it) revokes every key at once.

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::clock::now;
use crate::domain::text::hex;
use crate::store::{ApiKey, Filter, Store, StoreError, User};

/// The length of a key: 20 random bytes in hex.
pub const KEY_CHARS: usize = 40;

/// Whether a credential has the shape of a key (and so is not a JWT, which has dots).
pub fn looks_like_key(credential: &str) -> bool {
    credential.len() == KEY_CHARS
        && credential
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn digest(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))
}

/// Issues a new key for `user`, valid for `ttl_seconds`; answers the key itself, which is
/// never stored and cannot be shown again.
pub async fn issue(store: &Store, user: &User, ttl_seconds: i64) -> Result<String, StoreError> {
    let mut bytes = [0u8; KEY_CHARS / 2];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = hex(&bytes);
    let issued = now();
    let doc = ApiKey {
        id: 0,
        key_hash: digest(&key),
        user_id: user.id,
        generation: user.token_generation,
        created_at: issued,
        expires_at: issued.saturating_add(ttl_seconds),
    };
    store.repo::<ApiKey>().insert(doc).await?;
    Ok(key)
}

/// The user a key signs in, if the key is known, unexpired, and of the user's current token
/// generation, and the user may sign in. An expired or outdated key is deleted on sight.
pub async fn authenticate(store: &Store, key: &str) -> Result<Option<User>, StoreError> {
    let keys = store.repo::<ApiKey>();
    let Some(found) = keys
        .find_one(&Filter::Eq("key_hash", digest(key).into()))
        .await?
    else {
        return Ok(None);
    };
    let user = store.users().get(found.user_id).await?;
    let valid_user = user.filter(|u| u.token_generation == found.generation && u.can_sign_in());
    match valid_user {
        Some(user) if found.expires_at > now() => Ok(Some(user)),
        _ => {
            keys.delete(found.id).await?;
            Ok(None)
        }
    }
}

/// Revokes one key (log-out of one device); `Ok(false)` when it was not a live key.
pub async fn revoke(store: &Store, key: &str) -> Result<bool, StoreError> {
    let keys = store.repo::<ApiKey>();
    match keys
        .find_one(&Filter::Eq("key_hash", digest(key).into()))
        .await?
    {
        Some(found) => keys.delete(found.id).await,
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_told_apart_from_jwts_by_shape() {
        assert!(looks_like_key("b51297429d9d107a57488c1fa91d6c306e898729"));
        assert!(!looks_like_key("B51297429D9D107A57488C1FA91D6C306E898729"));
        assert!(!looks_like_key(
            "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.sig"
        ));
        assert!(!looks_like_key("b51297429d9d107a57488c1fa91d6c306e89872"));
    }

    #[test]
    fn only_a_digest_of_the_key_is_kept() {
        let key = "b51297429d9d107a57488c1fa91d6c306e898729";
        assert_eq!(digest(key).len(), 64);
        assert_ne!(digest(key), key);
        assert_eq!(digest(key), digest(key));
    }
}
