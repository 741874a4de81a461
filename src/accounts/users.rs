//! Accounts: registration, the caller's profile, and who sees whom.

use super::jwt::now;
use super::password;
use super::permissions::{self, Permission};
use crate::domain::input::{missing_pk, Input};
use crate::domain::{Email, Name, Password};
use crate::error::ApiError;
use crate::store::{Filter, Store, StoreError, User};

pub(super) const EMAIL_TAKEN: &str = "user with this email already exists.";
const MAX_PHOTO_CHARS: usize = 2048;

pub(super) fn photo(input: &mut Input) -> Option<Option<String>> {
    let photo = input.nullable_str("photo")?;
    match photo {
        Some(p) if p.chars().count() > MAX_PHOTO_CHARS => {
            input.error(
                "photo",
                format!("Ensure this field has no more than {MAX_PHOTO_CHARS} characters."),
            );
            None
        }
        // An empty string clears the photo, as a cleared form field does.
        Some(p) if p.trim().is_empty() => Some(None),
        other => Some(other),
    }
}

pub(super) fn name(input: &mut Input, field: &str, required: bool) -> Option<Name> {
    let raw = if required {
        input.required_str(field)
    } else {
        input.optional_str(field)
    }?;
    input.check(field, Name::parse(&raw))
}

pub(super) fn email(input: &mut Input, required: bool) -> Option<Email> {
    let raw = if required {
        input.required_str("email")
    } else {
        input.optional_str("email")
    }?;
    input.check("email", Email::parse(&raw))
}

/// Records an error when another account has this email (the unique index is the real
/// guard; this names the problem together with any others).
pub(super) async fn check_email_free(
    store: &Store,
    input: &mut Input,
    email: &Email,
    me: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(other) = store.user_by_email(email.as_str()).await? {
        if Some(other.id) != me {
            input.error("email", EMAIL_TAKEN);
        }
    }
    Ok(())
}

pub(super) fn email_taken(err: StoreError) -> ApiError {
    match err {
        StoreError::Duplicate => ApiError::field("email", EMAIL_TAKEN),
        other => other.into(),
    }
}

/// Registers a user, as a student, or as a teacher whose rights in an organization owned by
/// someone else wait for the owner's confirmation.
pub async fn register(store: &Store, mut input: Input) -> Result<User, ApiError> {
    let email = email(&mut input, true);
    let raw_password = input.required_str("password");
    let first_name = name(&mut input, "first_name", true);
    let last_name = name(&mut input, "last_name", true);
    let photo = photo(&mut input).flatten();
    let wants_teacher = input.optional_bool("is_teacher").unwrap_or(false);
    let organization_id = input.nullable_int("organization_id").flatten();
    let password = raw_password.and_then(|raw| {
        let parsed = Password::parse(&raw, email.as_ref().map(Email::as_str));
        input.check("password", parsed)
    });
    if let Some(id) = organization_id {
        if store.organizations().get(id).await?.is_none() {
            input.error("organization_id", missing_pk(id));
        }
    }
    if let Some(email) = &email {
        check_email_free(store, &mut input, email, None).await?;
    }
    input.finish()?;
    // Every field that failed to parse recorded an error, so finish() returned it above.
    let (Some(email), Some(password), Some(first_name), Some(last_name)) =
        (email, password, first_name, last_name)
    else {
        return Err(ApiError::internal(
            "a required field was missing without an error",
        ));
    };

    let user = User {
        id: 0,
        email_lower: Some(email.normalized()),
        email: Some(email.as_str().to_owned()),
        password_hash: password::hash(password).await?,
        first_name: first_name.into_string(),
        last_name: last_name.into_string(),
        photo,
        is_teacher: false,
        teacher_requested: wants_teacher,
        organization_id,
        token_generation: 0,
        date_joined: now(),
        ..User::default()
    };
    let user = store.users().insert(user).await.map_err(email_taken)?;
    tracing::info!(user_id = user.id, "user registered");
    Ok(user)
}

/// Active accounts (deleted ones are kept, erased, for their teachers' records).
pub fn active() -> Filter {
    Filter::Eq("deleted_at", serde_json::Value::Null)
}

/// The users the caller may see: a holder of "view users", everyone; a teacher, those of
/// their organization; anyone else, only themself. Deleted accounts are seen by no one.
pub fn visible_to(me: &User) -> Filter {
    if permissions::holds(me, Permission::ViewUsers) {
        return active();
    }
    let scope = match me.organization_id.filter(|_| me.is_teacher) {
        Some(org) => Filter::Eq("organization_id", org.into()),
        None => Filter::Eq("id", me.id.into()),
    };
    Filter::And(vec![scope, active()])
}

/// Whether `viewer` may see `other`: themself, a teacher seeing their organization, or a
/// holder of "view users"; a deleted account, no one.
pub fn can_see(viewer: &User, other: &User) -> bool {
    other.deleted_at.is_none()
        && (viewer.id == other.id
            || permissions::holds(viewer, Permission::ViewUsers)
            || (viewer.is_teacher
                && viewer.organization_id.is_some()
                && viewer.organization_id == other.organization_id))
}

/// A user the caller may see (else 404).
pub async fn visible(store: &Store, me: &User, id: i64) -> Result<User, ApiError> {
    let user = store.users().get(id).await?;
    user.filter(|u| can_see(me, u))
        .ok_or_else(ApiError::not_found)
}

const CURRENT_PASSWORD: &str = "current_password";
const WRONG_CURRENT_PASSWORD: &str = "The current password is not correct.";

/// Whether a refused change named a wrong `current_password`: a password guess, counted
/// like a failed sign-in.
pub fn is_wrong_current_password(err: &ApiError) -> bool {
    matches!(err, ApiError::Validation(errors)
        if errors.get(CURRENT_PASSWORD).is_some_and(|m| m.iter().any(|m| m == WRONG_CURRENT_PASSWORD)))
}

/// Records an error under `current_password` unless it is sent and is the account's
/// password (argon2 verification, on the blocking pool like the log-in's).
pub(crate) async fn check_current_password(input: &mut Input, me: &User) -> Result<(), ApiError> {
    if !input.has(CURRENT_PASSWORD) {
        input.error(
            CURRENT_PASSWORD,
            "This field is required to change the password or the email.",
        );
        return Ok(());
    }
    let Some(current) = input.optional_str(CURRENT_PASSWORD) else {
        return Ok(());
    };
    if !password::verify(current, Some(me.password_hash.clone())).await? {
        input.error(CURRENT_PASSWORD, WRONG_CURRENT_PASSWORD);
    }
    Ok(())
}

/// Changes the caller's account (`partial` false: email and names required, as PUT). A new
/// password or email needs `current_password`; a new password revokes every token issued
/// before it.
pub async fn change_me(
    store: &Store,
    me: &User,
    mut input: Input,
    partial: bool,
) -> Result<User, ApiError> {
    let email = email(&mut input, !partial);
    let first_name = name(&mut input, "first_name", !partial);
    let last_name = name(&mut input, "last_name", !partial);
    let photo = photo(&mut input);
    let wants_teacher = input.optional_bool("is_teacher");
    let raw_password = input.optional_str("password");
    let changes_password = raw_password.is_some();
    let password = raw_password.and_then(|raw| {
        let email = email.as_ref().map_or(me.email_str(), Email::as_str);
        input.check("password", Password::parse(&raw, Some(email)))
    });
    if let Some(email) = &email {
        check_email_free(store, &mut input, email, Some(me.id)).await?;
    }
    // The password and the email are what a log-in rests on: changing either asks for the
    // current password, so a stolen (short-lived) access token cannot take the account for
    // good. Re-sending one's own email, in another case too, changes no log-in.
    let moves_email = email
        .as_ref()
        .is_some_and(|email| Some(email.normalized()) != me.email_lower);
    if moves_email || changes_password {
        check_current_password(&mut input, me).await?;
    }

    // Joining an organization is possible once; moving between organizations is not.
    let mut joins = None;
    match input.nullable_int("organization_id") {
        Some(requested) if requested == me.organization_id => {}
        Some(Some(id)) if me.organization_id.is_none() => {
            if store.organizations().get(id).await?.is_some() {
                joins = Some(id);
            } else {
                input.error("organization_id", missing_pk(id));
            }
        }
        Some(_) => input.error(
            "organization_id",
            "You cannot leave or change your organization.",
        ),
        None => {}
    }
    let owns_org = match me.organization_id {
        Some(org) => store
            .organizations()
            .get(org)
            .await?
            .is_some_and(|o| o.owner_id == me.id),
        None => false,
    };
    if owns_org && wants_teacher == Some(false) {
        input.error(
            "is_teacher",
            "The owner of an organization stays its teacher.",
        );
    }
    input.finish()?;

    let password_hash = match password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    store
        .users()
        .update(me.id, |user| {
            if let Some(email) = &email {
                user.email = Some(email.as_str().to_owned());
                user.email_lower = Some(email.normalized());
            }
            if let Some(first) = &first_name {
                user.first_name = first.clone().into_string();
            }
            if let Some(last) = &last_name {
                user.last_name = last.clone().into_string();
            }
            if let Some(photo) = &photo {
                user.photo = photo.clone();
            }
            if let Some(org) = joins {
                user.organization_id = Some(org);
                user.is_teacher = false;
            }
            match wants_teacher {
                Some(true) if owns_org => user.is_teacher = true,
                Some(true) if !user.is_teacher => user.teacher_requested = true,
                Some(false) => {
                    user.is_teacher = false;
                    user.teacher_requested = false;
                }
                _ => {}
            }
            if let Some(hash) = &password_hash {
                user.password_hash = hash.clone();
                user.token_generation += 1;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .map_err(email_taken)?
        .ok_or_else(ApiError::not_found)
}
