//! argon2id password hashing with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
//!
//! Hashing costs tens of milliseconds of CPU, so it always runs on the blocking pool, never
//! on an async worker. Log-in with an unknown email verifies against a dummy hash made with
//! the same parameters, so it costs the same as a wrong password and does not reveal which
//! emails have accounts.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

use crate::domain::Password;
use crate::error::ApiError;

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(ApiError::internal)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("no account has this password").expect("hashing a constant cannot fail")
    })
}

fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    let known = hash.is_some();
    let phc = hash.unwrap_or_else(|| dummy_hash());
    let ok = PasswordHash::new(phc)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false);
    ok && known
}

/// At most this many hashes at once (one per core): each takes 19 MiB and a core for tens
/// of milliseconds, so a burst of log-ins queues here instead of exhausting memory and the
/// blocking pool the store also uses.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)
}

/// Hashes a new password (PHC string), off the async workers.
pub async fn hash(password: Password) -> Result<String, ApiError> {
    blocking(move || hash_blocking(password.expose())).await?
}

/// Checks a password against a stored hash, or against the dummy hash when there is no
/// account (`None`), which always fails but takes as long.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    blocking(move || verify_blocking(&password, hash.as_deref())).await
}

/// Computes the dummy hash ahead of the first log-in, so that log-in is not the slow one.
pub async fn warm_up() -> Result<(), ApiError> {
    blocking(|| {
        dummy_hash();
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_blocking("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_blocking("correct horse battery", Some(&hash)));
        assert!(!verify_blocking("wrong horse battery", Some(&hash)));
    }

    #[test]
    fn an_unknown_account_never_verifies() {
        assert!(!verify_blocking("no account has this password", None));
        assert!(!verify_blocking("anything", Some("not a phc string")));
    }
}
