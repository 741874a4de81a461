//! Password resets by emailed link (seed 000's `password/reset/` and `…/confirm/`).
//!
//! - Asking answers the same whether or not an account has the address, so it tells no one
//!   which addresses have accounts; a link goes to an address at most once per code resend
//!   interval (the limit is kept per address string, like one-time codes').
//! - A link carries the user id and a token of 32 random bytes (256 bits); only the token's
//!   SHA-256 is stored, with an expiry ([`crate::settings::PlatformSettings`]). A new link
//!   replaces the user's earlier one; a link works once.
//! - Setting a new password bumps the account's token generation: every API key and JWT
//!   issued before stops working, a thief's included. A link dies when the account's email
//!   moves or its password changes after it was sent.
//! - Claiming an account Facebook log-in made (it has no password) unlinks that Facebook
//!   user: the mailbox owner wins.

use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::codes::take_send_slot;
use super::password;
use crate::domain::clock::{now, now_ms};
use crate::domain::input::Input;
use crate::domain::text::hex;
use crate::domain::{Email, Password};
use crate::error::{ApiError, ErrorCode};
use crate::mail::{Mailer, Outgoing};
use crate::settings::CodeRules;
use crate::store::{Filter, PasswordReset, Store, StoreError, User};

/// Random bytes in a token (64 hex characters in the link).
const TOKEN_BYTES: usize = 32;

pub const BAD_TOKEN: &str = "This link is invalid, expired or already used; ask for a new one.";
pub const MISMATCH: &str = "The two password fields didn't match.";

/// What sending a link needs besides the store.
pub struct ResetMail<'a> {
    pub mailer: &'a Mailer,
    /// Where emailed links point (never a request's `Host`).
    pub base: &'a str,
    pub lifetime: Duration,
    /// The least time between two links sent to one address.
    pub resend_interval: Duration,
}

fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn message(user: &User, link: &str, lifetime: Duration) -> Outgoing {
    let minutes = lifetime.as_secs().div_ceil(60).max(1);
    let greeting = if user.first_name.is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", user.first_name)
    };
    Outgoing {
        to: user.email_str().to_owned(),
        subject: "Reset your TestIT password".to_owned(),
        body: format!(
            "{greeting}\n\n\
             Someone (we hope you) asked to reset the password of your TestIT account. \
             Open this link to choose a new one:\n\n\
             {link}\n\n\
             It works once, within {minutes} minute(s). Setting a new password signs every \
             device out.\n\n\
             If you did not ask for it, ignore this message: your password stays as it is.\n"
        ),
    }
}

/// `password/reset/`: mails a reset link when an active account has the address; the same
/// answer either way. Only a malformed address is refused (400 naming `email`).
pub async fn request(
    store: &Store,
    mail: &ResetMail<'_>,
    mut input: Input,
) -> Result<(), ApiError> {
    let raw = input.required_str("email");
    let email = raw.and_then(|raw| input.check("email", Email::parse(&raw)));
    input.finish()?;
    let Some(email) = email else {
        return Err(ApiError::internal("email missing without an error"));
    };
    let Some(user) = store.user_by_email(&email.normalized()).await? else {
        return Ok(());
    };
    let Some(email_lower) = user
        .email_lower
        .clone()
        .filter(|_| user.deleted_at.is_none())
    else {
        return Ok(());
    };
    // Kept apart from one-time codes' slots, so that a sign-up's code does not hold a reset.
    let slot = format!("password-reset:{email_lower}");
    let rules = CodeRules {
        resend_interval: mail.resend_interval,
        ..CodeRules::default()
    };
    match take_send_slot(store, &slot, rules, now_ms()).await {
        Ok(()) => {}
        // Answered like a sent link: a 429 here would tell that the address has an account.
        Err(err) if err.error_code() == ErrorCode::Throttled => return Ok(()),
        Err(err) => return Err(err),
    }

    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let repo = store.repo::<PasswordReset>();
    for old in repo
        .find(&Filter::Eq("user_id", user.id.into()), None)
        .await?
    {
        repo.delete(old.id).await?;
    }
    repo.insert(PasswordReset {
        id: 0,
        user_id: user.id,
        token_hash: digest(&token),
        expires_at: now_ms().saturating_add(millis(mail.lifetime)),
        email_lower: email_lower.clone(),
        generation: user.token_generation,
    })
    .await?;
    let link = format!("{}/app/#/password-reset/{}/{token}", mail.base, user.id);
    mail.mailer.send(message(&user, &link, mail.lifetime));
    tracing::info!(user_id = user.id, "password reset link sent");
    Ok(())
}

/// The live reset of `uid` whose token is `token`, if there is one.
async fn live_reset(
    store: &Store,
    uid: i64,
    token: &str,
) -> Result<Option<PasswordReset>, StoreError> {
    let well_formed = token.len() == TOKEN_BYTES * 2
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Ok(None);
    }
    let hash = digest(token);
    let repo = store.repo::<PasswordReset>();
    let Some(found) = repo
        .find_one(&Filter::Eq("token_hash", hash.clone().into()))
        .await?
    else {
        return Ok(None);
    };
    if now_ms() >= found.expires_at {
        repo.delete(found.id).await?;
        return Ok(None);
    }
    let same: bool = found.token_hash.as_bytes().ct_eq(hash.as_bytes()).into();
    Ok((same && found.user_id == uid).then_some(found))
}

/// `password/reset/confirm/`: a new password for the account of a live link. Mismatched
/// passwords are 400 naming `new_password2`; a bad, used or expired link 400 naming
/// `token` (a password refused by the policy leaves the link usable).
pub async fn confirm(store: &Store, mut input: Input) -> Result<(), ApiError> {
    let uid = input.required_int("uid");
    let token = input.required_str("token");
    let first = input.required_str("new_password1");
    let second = input.required_str("new_password2");
    if let (Some(first), Some(second)) = (&first, &second) {
        if first != second {
            input.error("new_password2", MISMATCH);
        }
    }
    let mut target = None;
    if let (Some(uid), Some(token)) = (uid, &token) {
        let reset = live_reset(store, uid, token.trim()).await?;
        let user = match &reset {
            Some(reset) => store.users().get(reset.user_id).await?,
            None => None,
        };
        // The link belongs to the account as it was: a moved email or a changed password
        // since then kills it.
        let current = |u: &User, reset: &PasswordReset| {
            u.deleted_at.is_none()
                && u.token_generation == reset.generation
                && u.email_lower.as_deref() == Some(reset.email_lower.as_str())
        };
        let user = user.filter(|u| reset.as_ref().is_some_and(|r| current(u, r)));
        match (reset, user) {
            (Some(reset), Some(user)) => target = Some((reset, user)),
            _ => input.error("token", BAD_TOKEN),
        }
    }
    let password = match (&target, first) {
        (Some((_, user)), Some(raw)) => input.check(
            "new_password1",
            Password::parse(&raw, user.email.as_deref()),
        ),
        _ => None,
    };
    input.finish()?;
    let (Some((reset, user)), Some(password)) = (target, password) else {
        return Err(ApiError::internal("a reset without its link or password"));
    };
    // Spent before the password changes: of concurrent uses, only the one whose delete
    // removed it goes on.
    let repo = store.repo::<PasswordReset>();
    if !repo.delete(reset.id).await? {
        return Err(ApiError::field("token", BAD_TOKEN));
    }
    let hash = password::hash(password).await?;
    let stamp = now();
    store
        .users()
        .update(user.id, |user| {
            // An account Facebook log-in made without a password, now claimed through its
            // mailbox: the mailbox owner wins, and the Facebook user linked to it (who may
            // have put someone else's unverified address on their profile) is unlinked.
            if user.password_hash == super::platform::NO_PASSWORD {
                user.facebook_id = None;
            }
            user.password_hash = hash.clone();
            user.token_generation += 1;
            user.updated_at = stamp;
            Ok::<_, StoreError>(())
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    tracing::info!(user_id = user.id, "password reset");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_digest_of_the_token_is_kept() {
        let token = "ab".repeat(TOKEN_BYTES);
        assert_eq!(digest(&token).len(), 64);
        assert_ne!(digest(&token), token);
    }
}
