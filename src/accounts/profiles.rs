//! Seed 002's accounts (`/api/v1/accounts/users/…`): sign-up with a profile and an emailed
//! one-time code, verification of the email, resending the code, and reading and changing
//! a profile.
//!
//! - An account made here, or whose email is changed here, has `email_unverified` set: it
//!   cannot sign in through any door, and its existing tokens stop working at once
//!   (`User::can_sign_in`), until a code sent to the address is entered at `verify/`, which
//!   answers a new token pair.
//! - `verify/` and `resend/` answer the same whether or not an account has the email.
//! - A profile is read or changed by its owner, or by a holder of `view_user` /
//!   `change_user`; anyone else gets the same 404 as for a missing id.

use super::codes::{self, CodeMail};
use super::identity::fields::{clearable, field};
use super::identity::{self, Registered, Registration, UserChange};
use super::password;
use super::permissions::Permission;
use crate::domain::clock::now_ms;
use crate::domain::input::Input;
use crate::domain::{Address, Birthday, Country, Email, Gender, Name, Phone};
use crate::error::{ApiError, ErrorCode};
use crate::store::{Store, User};

const PASSWORDS_DIFFER: &str = "The two password fields didn't match.";
/// One answer for every failed verification: wrong, expired, used or dead code, unknown or
/// already verified email.
pub const BAD_CODE: &str =
    "The code is wrong, expired or already used. Check it, or ask for a new one.";

fn birthday(raw: &str) -> Result<Option<String>, &'static str> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Birthday::parse(raw, Birthday::today()).map(|b| Some(b.to_string()))
}

fn address(raw: &str) -> Result<Option<String>, String> {
    Address::parse(raw).map(|a| a.map(Address::into_string))
}

/// Signs a user up with a profile; the account waits for the emailed code. Nothing is
/// written unless every field is valid. A sign-up for the address of one never verified
/// replaces it (the core's rule); its new code is then within the address's once-a-minute
/// limit, as `resend/`.
pub async fn register(
    store: &Store,
    mail: &CodeMail<'_>,
    mut input: Input,
) -> Result<User, ApiError> {
    let email = field(&mut input, "email", true, Email::parse);
    let password = input.required_str("password");
    let confirm = input.required_str("confirm_password");
    if let (Some(password), Some(confirm)) = (&password, &confirm) {
        if password != confirm {
            input.error("confirm_password", PASSWORDS_DIFFER);
        }
    }
    let account = User {
        first_name: field(&mut input, "first_name", true, Name::parse)
            .map(Name::into_string)
            .unwrap_or_default(),
        last_name: field(&mut input, "last_name", true, Name::parse)
            .map(Name::into_string)
            .unwrap_or_default(),
        phone: field(&mut input, "phone", true, Phone::parse).map(Phone::into_string),
        gender: field(&mut input, "gender", true, Gender::parse).map(|g| g.as_str().to_owned()),
        country: field(&mut input, "country", true, Country::parse).map(Country::into_string),
        birthday: clearable(&mut input, "birthday", birthday).flatten(),
        address: clearable(&mut input, "address", address).flatten(),
        email_unverified: true,
        signup_pending: true,
        ..User::default()
    };
    let new = Registration::with_email(email, password, account);
    let user = match identity::register(store, input, new).await? {
        Registered::New(user) => {
            tracing::info!(
                user_id = user.id,
                "user signed up (seed 002), email to verify"
            );
            user
        }
        Registered::ReplacesPending {
            pending_id,
            account,
        } => {
            let email = account.email_lower.clone().unwrap_or_default();
            codes::take_send_slot(store, &email, mail.rules, now_ms()).await?;
            let user = identity::replace_pending(store, pending_id, account).await?;
            tracing::info!(
                user_id = user.id,
                "an unverified sign-up (seed 002) replaced by a new one"
            );
            user
        }
    };
    // A new address signs up once, so this send is not subject to the once-a-minute limit
    // (a replacing sign-up took its slot above).
    codes::send(store, mail, &user, false).await?;
    Ok(user)
}

/// The account with this id, if the caller may act on it with `permission` (their own
/// account, or any with the permission); otherwise 404, as for a missing id.
pub async fn visible(
    store: &Store,
    me: &User,
    id: i64,
    permission: Permission,
) -> Result<User, ApiError> {
    identity::target(store, id, |u| identity::acts_on(me, u, permission)).await
}

/// Changes some of a profile. A new email is unverified until its code is entered (a code
/// is sent to it, within the once-a-minute limit of the address), and an owner changing
/// their own email must send `current_password`, as through `/api/users/me`. `photo` is
/// the URL of a photo uploaded with the change: this door reads no `photo` field, as it
/// never did, so a JSON body changes nothing there. An account the caller may see but not
/// change answers the same 404 as a missing one.
pub async fn change(
    store: &Store,
    mail: &CodeMail<'_>,
    me: &User,
    id: i64,
    mut input: Input,
    photo: Option<String>,
) -> Result<User, ApiError> {
    let target = visible(store, me, id, Permission::ChangeUsers).await?;
    let change = UserChange {
        email: field(&mut input, "email", false, Email::parse).map(Some),
        first_name: field(&mut input, "first_name", false, Name::parse).map(Name::into_string),
        last_name: field(&mut input, "last_name", false, Name::parse).map(Name::into_string),
        phone: field(&mut input, "phone", false, Phone::parse).map(Phone::into_string),
        gender: field(&mut input, "gender", false, Gender::parse).map(|g| g.as_str().to_owned()),
        country: field(&mut input, "country", false, Country::parse).map(Country::into_string),
        birthday: clearable(&mut input, "birthday", birthday),
        address: clearable(&mut input, "address", address),
        photo: photo.map(Some),
        verify_new_email: true,
        ..UserChange::default()
    };
    let updated = match identity::change(store, me, &target, input, change).await {
        Err(err) if err.error_code() == ErrorCode::PermissionDenied => {
            return Err(ApiError::not_found())
        }
        other => other?,
    };
    if updated.email_lower != target.email_lower {
        tracing::info!(user_id = updated.id, "email changed (seed 002): to verify");
        // The change is made: a code that cannot go now (the address had one within the
        // minute, or the store failed) is asked for again through `resend/`.
        match codes::send(store, mail, &updated, true).await {
            Ok(()) => {}
            Err(ApiError::Throttled { retry_after }) => {
                tracing::info!(
                    user_id = updated.id,
                    retry_after,
                    "code for the new email throttled"
                );
            }
            Err(err) => {
                tracing::error!(user_id = updated.id, %err, "code for the new email not sent")
            }
        }
    }
    Ok(updated)
}

/// Checks an emailed code: the account's email is then verified, and the caller gets a log-in
/// (the handler issues the token pair). One 400 naming `code` for every failure, whether or
/// not the email has an account.
pub async fn verify(store: &Store, mut input: Input) -> Result<User, ApiError> {
    let email = field(&mut input, "email", true, Email::parse);
    let code = input.required_str("code");
    let given_password = input.required_str("password");
    input.finish()?;
    let (Some(email), Some(code), Some(given_password)) = (email, code, given_password) else {
        return Err(ApiError::internal(
            "required fields missing after validation",
        ));
    };
    let bad_code = || ApiError::field("code", BAD_CODE);
    let code = code.trim();
    let user = match store.user_by_email(email.as_str()).await? {
        Some(user) if user.email_unverified && user.deleted_at.is_none() => user,
        _ => return Err(bad_code()),
    };
    // The password that made the account (issue 22 #3): the mailbox's owner verifying an
    // account someone else signed up with their address cannot give it, so it never gains a
    // password its owner did not choose (they sign up again instead, which replaces it). The
    // same answer as a wrong code, before a try of the code is spent.
    if !password::verify(given_password, Some(user.password_hash.clone())).await? {
        return Err(bad_code());
    }
    if !codes::redeem(store, &user, code, now_ms()).await? {
        return Err(bad_code());
    }
    let (verified_email, verified_hash) = (user.email_lower.clone(), user.password_hash.clone());
    store
        .users()
        .update(user.id, |u| {
            // The email changed between the code's check and now: the code was for the old;
            // a new sign-up replaced the account: the password checked was the old one.
            if u.email_lower != verified_email || u.password_hash != verified_hash {
                return Err(bad_code());
            }
            u.email_unverified = false;
            u.signup_pending = false;
            Ok(())
        })
        .await?
        .ok_or_else(bad_code)
        .inspect(|u| tracing::info!(user_id = u.id, "email verified"))
}

/// Sends a new code (replacing the earlier one) to an account that waits for verification.
/// The answer is the same whether or not the address has such an account; only the
/// once-a-minute limit per address answers otherwise (429).
pub async fn resend(store: &Store, mail: &CodeMail<'_>, mut input: Input) -> Result<(), ApiError> {
    let email = field(&mut input, "email", true, Email::parse);
    input.finish()?;
    let Some(email) = email else {
        return Err(ApiError::internal(
            "required field missing after validation",
        ));
    };
    let now = now_ms();
    codes::take_send_slot(store, &email.normalized(), mail.rules, now).await?;
    match store.user_by_email(email.as_str()).await? {
        Some(user) if user.email_unverified && user.deleted_at.is_none() => {
            // The slot is taken above; this send only records it again.
            codes::send(store, mail, &user, false).await
        }
        _ => Ok(()),
    }
}

/// Whether an error is the 404 of a missing or hidden account.
pub fn is_not_found(err: &ApiError) -> bool {
    err.error_code() == ErrorCode::NotFound
}
