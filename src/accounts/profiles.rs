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
use super::jwt::now;
use super::password;
use super::permissions::{holds, Permission};
use super::users::{check_current_password, check_email_free, email_taken};
use crate::domain::input::Input;
use crate::domain::{Address, Birthday, Country, Email, Gender, Name, Password, Phone};
use crate::error::{ApiError, ErrorCode};
use crate::store::{Store, StoreError, User};

const PASSWORDS_DIFFER: &str = "The two password fields didn't match.";
/// One answer for every failed verification: wrong, expired, used or dead code, unknown or
/// already verified email.
pub const BAD_CODE: &str =
    "The code is wrong, expired or already used. Check it, or ask for a new one.";

/// Reads a string field (required or optional; `None` when absent or in error) and parses
/// it, recording the parse's error under the field.
fn field<T, E: std::fmt::Display>(
    input: &mut Input,
    name: &str,
    required: bool,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Option<T> {
    let raw = if required {
        input.required_str(name)
    } else {
        input.optional_str(name)
    }?;
    input.check(name, parse(&raw))
}

/// A field that may be absent (`None`), null or blank (`Some(None)`: clear it), or a value.
fn clearable<T, E: std::fmt::Display>(
    input: &mut Input,
    name: &str,
    parse: impl FnOnce(&str) -> Result<Option<T>, E>,
) -> Option<Option<T>> {
    match input.nullable_str(name)? {
        None => Some(None),
        Some(raw) => input.check(name, parse(&raw)),
    }
}

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
/// written unless every field is valid.
pub async fn register(
    store: &Store,
    mail: &CodeMail<'_>,
    mut input: Input,
) -> Result<User, ApiError> {
    let email = field(&mut input, "email", true, Email::parse);
    let raw_password = input.required_str("password");
    let confirm = input.required_str("confirm_password");
    let first_name = field(&mut input, "first_name", true, Name::parse);
    let last_name = field(&mut input, "last_name", true, Name::parse);
    let phone = field(&mut input, "phone", true, Phone::parse);
    let gender = field(&mut input, "gender", true, Gender::parse);
    let country = field(&mut input, "country", true, Country::parse);
    let birthday = clearable(&mut input, "birthday", birthday).flatten();
    let address = clearable(&mut input, "address", address).flatten();
    let password = raw_password.as_deref().and_then(|raw| {
        let parsed = Password::parse(raw, email.as_ref().map(Email::as_str));
        input.check("password", parsed)
    });
    if let (Some(password), Some(confirm)) = (&raw_password, &confirm) {
        if password != confirm {
            input.error("confirm_password", PASSWORDS_DIFFER);
        }
    }
    // An unverified sign-up of the address is replaced, not a reason to refuse: its maker
    // may not own the mailbox, and must not keep the owner from signing up.
    let mut pending = None;
    if let Some(email) = &email {
        pending = store
            .user_by_email(email.as_str())
            .await?
            .filter(|u| u.signup_pending && u.email_unverified && u.deleted_at.is_none());
        if pending.is_none() {
            check_email_free(store, &mut input, email, None).await?;
        }
    }
    input.finish()?;
    // Every field that failed to parse recorded an error, so finish() returned it above.
    let (
        Some(email),
        Some(password),
        Some(first),
        Some(last),
        Some(phone),
        Some(gender),
        Some(country),
    ) = (
        email, password, first_name, last_name, phone, gender, country,
    )
    else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };
    let joined = now();
    let user = User {
        id: 0,
        email_lower: Some(email.normalized()),
        email: Some(email.as_str().to_owned()),
        password_hash: password::hash(password).await?,
        first_name: first.into_string(),
        last_name: last.into_string(),
        phone: Some(phone.into_string()),
        gender: Some(gender.as_str().to_owned()),
        country: Some(country.into_string()),
        birthday,
        address,
        email_unverified: true,
        signup_pending: true,
        date_joined: joined,
        updated_at: joined,
        ..User::default()
    };
    if let Some(pending) = pending {
        return replace_signup(store, mail, pending, user).await;
    }
    let user = store.users().insert(user).await.map_err(email_taken)?;
    tracing::info!(
        user_id = user.id,
        "user signed up (seed 002), email to verify"
    );
    // An address signs up once, so this send is not subject to the once-a-minute limit.
    codes::send(store, mail, &user, false).await?;
    Ok(user)
}

/// A sign-up for the address of an unverified one: the new sign-up's fields replace the
/// pending account's, and a new code (once a minute per address, as `resend/`) replaces the
/// one sent before, so neither the earlier password nor the earlier code verifies it.
async fn replace_signup(
    store: &Store,
    mail: &CodeMail<'_>,
    pending: User,
    new: User,
) -> Result<User, ApiError> {
    let email = pending.email_lower.clone().unwrap_or_default();
    codes::take_send_slot(store, &email, mail.rules, codes::now_ms()).await?;
    let user = store
        .users()
        .update(pending.id, |u| {
            // Verified (or changed) in between: the address is taken now.
            if !(u.signup_pending && u.email_unverified && u.email_lower == new.email_lower) {
                return Err(ApiError::field("email", super::users::EMAIL_TAKEN));
            }
            let kept = (u.id, u.token_generation + 1);
            *u = User {
                id: kept.0,
                token_generation: kept.1,
                ..new.clone()
            };
            Ok(())
        })
        .await?
        .ok_or_else(|| ApiError::field("email", super::users::EMAIL_TAKEN))?;
    tracing::info!(
        user_id = user.id,
        "an unverified sign-up (seed 002) replaced by a new one"
    );
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
    let user = store.users().get(id).await?;
    user.filter(|u| u.deleted_at.is_none() && (u.id == me.id || holds(me, permission)))
        .ok_or_else(ApiError::not_found)
}

/// Changes some of a profile. A new email is unverified until its code is entered (a code
/// is sent to it, within the once-a-minute limit of the address), and an owner changing
/// their own email must send `current_password`, as through `/api/users/me`. `photo` is
/// the URL of a photo uploaded with the change: this door reads no `photo` field, as it
/// never did, so a JSON body changes nothing there.
pub async fn change(
    store: &Store,
    mail: &CodeMail<'_>,
    me: &User,
    id: i64,
    mut input: Input,
    photo: Option<String>,
) -> Result<User, ApiError> {
    let target = visible(store, me, id, Permission::ChangeUsers).await?;
    if !crate::accounts::permissions::may_manage(me, &target, Permission::ChangeUsers) {
        return Err(ApiError::not_found());
    }
    let email = field(&mut input, "email", false, Email::parse);
    let first_name = field(&mut input, "first_name", false, Name::parse);
    let last_name = field(&mut input, "last_name", false, Name::parse);
    let phone = field(&mut input, "phone", false, Phone::parse);
    let gender = field(&mut input, "gender", false, Gender::parse);
    let country = field(&mut input, "country", false, Country::parse);
    let birthday = clearable(&mut input, "birthday", birthday);
    let address = clearable(&mut input, "address", address);
    // Re-sending one's own email, in another case too, changes no verification.
    let moves_email = email
        .as_ref()
        .is_some_and(|email| Some(email.normalized()) != target.email_lower);
    if moves_email {
        if !crate::accounts::permissions::may_change_identity(me, &target) {
            input.error(
                "email",
                "Only the account's owner or an administrator changes its email.",
            );
        }
        if let Some(email) = &email {
            check_email_free(store, &mut input, email, Some(target.id)).await?;
        }
        // A stolen access token must not be enough to move the account to another address.
        if target.id == me.id {
            check_current_password(&mut input, me).await?;
        }
    }
    input.finish()?;

    let changed = now();
    let updated = store
        .users()
        .update(target.id, |user| {
            if let Some(email) = &email {
                user.email = Some(email.as_str().to_owned());
                user.email_lower = Some(email.normalized());
                if moves_email {
                    user.email_unverified = true;
                }
            }
            if let Some(first) = &first_name {
                user.first_name = first.clone().into_string();
            }
            if let Some(last) = &last_name {
                user.last_name = last.clone().into_string();
            }
            if let Some(phone) = &phone {
                user.phone = Some(phone.clone().into_string());
            }
            if let Some(gender) = gender {
                user.gender = Some(gender.as_str().to_owned());
            }
            if let Some(country) = &country {
                user.country = Some(country.clone().into_string());
            }
            if let Some(birthday) = &birthday {
                user.birthday = birthday.clone();
            }
            if let Some(address) = &address {
                user.address = address.clone();
            }
            if let Some(photo) = &photo {
                user.photo = Some(photo.clone());
            }
            user.updated_at = changed;
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(email_taken)?
        .ok_or_else(ApiError::not_found)?;
    if moves_email {
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
    if !codes::redeem(store, &user, code, codes::now_ms()).await? {
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
    let now = codes::now_ms();
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
