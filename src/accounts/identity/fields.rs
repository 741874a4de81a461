//! Readers of the account fields several doors share. Each reads one field of an [`Input`]
//! the way its doors document it and records the field's error; none looks at the store
//! (that is the core's part, in [`super`]).

use serde_json::Value;

use crate::domain::input::Input;
use crate::domain::{Email, Name, Username};
use crate::store::User;

const MAX_PHOTO_CHARS: usize = 2048;

/// Reads a string field (required or optional; `None` when absent or in error) and parses
/// it, recording the parse's error under the field.
pub fn field<T, E: std::fmt::Display>(
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
pub fn clearable<T, E: std::fmt::Display>(
    input: &mut Input,
    name: &str,
    parse: impl FnOnce(&str) -> Result<Option<T>, E>,
) -> Option<Option<T>> {
    match input.nullable_str(name)? {
        None => Some(None),
        Some(raw) => input.check(name, parse(&raw)),
    }
}

pub fn email(input: &mut Input, required: bool) -> Option<Email> {
    field(input, "email", required, Email::parse)
}

pub fn name(input: &mut Input, field_name: &str, required: bool) -> Option<Name> {
    field(input, field_name, required, Name::parse)
}

/// An email that seed 001 lets one leave out or clear: absent `None`; null or blank
/// `Some(None)`; else the address.
pub fn clearable_email(input: &mut Input) -> Option<Option<Email>> {
    match input.raw("email") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(_) => email(input, false).map(Some),
    }
}

/// A name that seeds 000 and 001 let one leave out (stored empty).
pub fn optional_name(input: &mut Input, field_name: &str) -> Option<String> {
    match input.raw(field_name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => Some(String::new()),
        Some(_) => name(input, field_name, false).map(Name::into_string),
    }
}

/// A new account with the names seeds 000 and 001 let a sign-up leave out (stored empty).
pub fn optional_names(input: &mut Input) -> User {
    User {
        first_name: optional_name(input, "first_name").unwrap_or_default(),
        last_name: optional_name(input, "last_name").unwrap_or_default(),
        ..User::default()
    }
}

/// A photo URL (seeds 003 and 001): `Some(None)` clears it.
pub fn photo(input: &mut Input) -> Option<Option<String>> {
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

/// Seed 001's username. Never an email address: `signin` takes an email where an account
/// has no username, so such a username could shadow someone's email.
pub fn username(input: &mut Input, required: bool) -> Option<Username> {
    let username = field(input, "username", required, Username::parse)?;
    if Email::parse(username.as_str()).is_ok() {
        input.error("username", "A username may not be an email address.");
        return None;
    }
    Some(username)
}

/// A username that seed 001 lets one clear (null), while an email is left to sign in with.
pub fn clearable_username(input: &mut Input) -> Option<Option<Username>> {
    match input.raw("username") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => username(input, false).map(Some),
    }
}
