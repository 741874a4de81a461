//! Emailed one-time codes that verify an account's email address.
//!
//! - A code is 6 digits drawn from the operating system's CSPRNG. Only SHA-256 of a random
//!   per-code salt and the code is stored; a try is compared in constant time.
//! - A code lives [`CodeRules::lifetime`] (10 minutes by default), works once, and verifies
//!   the address it was sent to only (an email changed since makes it useless).
//! - Each try, right or wrong, first spends one of [`MAX_TRIES`] in one atomic write, so even
//!   concurrent guesses get 5 tries at a code in all (1 in 200,000); then the code is dead and
//!   the client must ask for another.
//! - A new code replaces the user's previous one.
//! - A code is sent to an address at most once per [`CodeRules::resend_interval`] (a
//!   minute): the limit is kept per address string, whether or not an account has it, so
//!   being throttled says nothing about which accounts exist.

use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::clock::now_ms;
use crate::domain::text::hex;
use crate::error::ApiError;
use crate::mail::{Mailer, Outgoing};
use crate::settings::CodeRules;
use crate::store::{CodeSend, Filter, OneTimeCode, Store, StoreError, User};

/// Digits in a code.
pub const DIGITS: usize = 6;
/// Tries a code allows before it is dead.
pub const MAX_TRIES: i64 = 5;

/// What sending a code needs besides the store.
pub struct CodeMail<'a> {
    pub mailer: &'a Mailer,
    pub rules: CodeRules,
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn digest(salt: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(code.as_bytes());
    hex(&hasher.finalize())
}

/// Whether `code` could be a code at all (six ASCII digits).
pub fn well_formed(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// Takes the address's send slot, or answers 429 with the seconds left until it frees.
/// Concurrent callers are serialized by the store (a unique index on the address and a
/// versioned update), so two requests within the interval never both send.
pub async fn take_send_slot(
    store: &Store,
    email_lower: &str,
    rules: CodeRules,
    now: i64,
) -> Result<(), ApiError> {
    let interval = millis(rules.resend_interval);
    let repo = store.repo::<CodeSend>();
    let filter = Filter::Eq("email_lower", email_lower.into());
    loop {
        let Some(existing) = repo.find_one(&filter).await? else {
            let first = CodeSend {
                id: 0,
                email_lower: email_lower.to_owned(),
                sent_at: now,
            };
            match repo.insert(first).await {
                Ok(_) => return Ok(()),
                // Another request took it first: read theirs.
                Err(StoreError::Duplicate) => continue,
                Err(err) => return Err(err.into()),
            }
        };
        let taken = repo
            .update(existing.id, |send| {
                let since = now - send.sent_at;
                if since < interval {
                    let wait_ms = interval - since;
                    // Whole seconds, rounded up: a client waiting that long finds the slot free.
                    let wait = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1);
                    return Err(ApiError::throttled(wait));
                }
                send.sent_at = now;
                Ok(())
            })
            .await?;
        if taken.is_some() {
            return Ok(());
        }
    }
}

/// Records a send that is not subject to the limit (the code of a new account: an address
/// can sign up once), so that a resend right after it is throttled like any other.
async fn record_send(store: &Store, email_lower: &str, now: i64) -> Result<(), ApiError> {
    let rules = CodeRules {
        resend_interval: std::time::Duration::ZERO,
        ..CodeRules::default()
    };
    take_send_slot(store, email_lower, rules, now).await
}

/// Makes a new code for the user's current email, replacing their earlier one, and answers
/// it in clear (to be mailed, never stored).
async fn issue(store: &Store, user: &User, rules: CodeRules, now: i64) -> Result<String, ApiError> {
    let email_lower = user
        .email_lower
        .clone()
        .ok_or_else(|| ApiError::internal("a code for an account without an email"))?;
    let code = format!("{:06}", OsRng.gen_range(0..1_000_000u32));
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let salt = hex(&salt);
    let doc = OneTimeCode {
        id: 0,
        user_id: user.id,
        email_lower,
        hash: digest(&salt, &code),
        salt,
        expires_at: now.saturating_add(millis(rules.lifetime)),
        tries: 0,
    };
    let repo = store.repo::<OneTimeCode>();
    let filter = Filter::Eq("user_id", user.id.into());
    // Delete, then insert under a fresh id: a try that spent the old code's id can then only
    // consume the old code. A concurrent issuer makes the insert a duplicate: go again.
    loop {
        if let Some(old) = repo.find_one(&filter).await? {
            repo.delete(old.id).await?;
        }
        match repo.insert(doc.clone()).await {
            Ok(_) => return Ok(code),
            Err(StoreError::Duplicate) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// The email carrying a code.
fn message(user: &User, code: &str, rules: CodeRules) -> Outgoing {
    let minutes = rules.lifetime.as_secs().div_ceil(60);
    let greeting = if user.first_name.is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", user.first_name)
    };
    Outgoing {
        to: user.email_str().to_owned(),
        subject: format!("Your TestIT code: {code}"),
        body: format!(
            "{greeting}\n\n\
             Your TestIT verification code is {code}.\n\n\
             It is valid for {minutes} minute(s) and can be used once. Enter it with your \
             email address to verify it.\n\n\
             If you did not ask for it, ignore this message.\n"
        ),
    }
}

/// Issues a code for the user's current email and queues the message. `limited`: subject
/// to the once-a-minute limit (429 when within it); otherwise the send is only recorded.
pub async fn send(
    store: &Store,
    mail: &CodeMail<'_>,
    user: &User,
    limited: bool,
) -> Result<(), ApiError> {
    let Some(email_lower) = user.email_lower.as_deref() else {
        return Err(ApiError::internal("a code for an account without an email"));
    };
    let now = now_ms();
    if limited {
        take_send_slot(store, email_lower, mail.rules, now).await?;
    } else {
        record_send(store, email_lower, now).await?;
    }
    let code = issue(store, user, mail.rules, now).await?;
    mail.mailer.send(message(user, &code, mail.rules));
    tracing::info!(user_id = user.id, "one-time code sent");
    Ok(())
}

/// Why a try spent nothing.
enum TryError {
    Dead,
    Store(StoreError),
}

impl From<StoreError> for TryError {
    fn from(err: StoreError) -> Self {
        TryError::Store(err)
    }
}

/// Tries `code` against the user's code for their current email: `Ok(true)` when it is
/// right, unexpired and unused, and it is then consumed. Every try spends one of
/// [`MAX_TRIES`] before it is compared.
pub async fn redeem(store: &Store, user: &User, code: &str, now: i64) -> Result<bool, ApiError> {
    let repo = store.repo::<OneTimeCode>();
    let filter = Filter::Eq("user_id", user.id.into());
    let Some(found) = repo.find_one(&filter).await? else {
        return Ok(false);
    };
    if Some(&found.email_lower) != user.email_lower.as_ref() {
        return Ok(false);
    }
    if now >= found.expires_at {
        repo.delete(found.id).await?;
        return Ok(false);
    }
    let spent = repo
        .update(found.id, |doc| {
            if doc.tries >= MAX_TRIES {
                return Err(TryError::Dead);
            }
            doc.tries += 1;
            Ok(())
        })
        .await;
    let doc = match spent {
        Ok(Some(doc)) => doc,
        // Consumed or replaced meanwhile, or out of tries.
        Ok(None) | Err(TryError::Dead) => return Ok(false),
        Err(TryError::Store(err)) => return Err(err.into()),
    };
    if !well_formed(code) {
        return Ok(false);
    }
    let right: bool = digest(&doc.salt, code)
        .as_bytes()
        .ct_eq(doc.hash.as_bytes())
        .into();
    // Single use: of concurrent right tries, only the one whose delete removes it wins.
    Ok(right && repo.delete(doc.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_stored_salted() {
        assert!(well_formed("012345"));
        for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", " 12345"] {
            assert!(!well_formed(bad), "{bad:?}");
        }
        assert_ne!(digest("a", "123456"), digest("b", "123456"));
        assert_eq!(digest("a", "123456").len(), 64);
    }
}
