use std::fmt;

/// A password good enough to accept: 8 to 128 characters, not all digits, not the email.
/// The value is never printed (`Debug` hides it).
pub struct Password(String);

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
const MIN_CHARS: usize = MIN_PASSWORD_CHARS;
const MAX_CHARS: usize = MAX_PASSWORD_CHARS;

impl Password {
    /// `email` is the account's address, which the password must not repeat.
    pub fn parse(raw: &str, email: Option<&str>) -> Result<Password, String> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(format!(
                "This password is too short. It must contain at least {MIN_CHARS} characters."
            ));
        }
        if chars > MAX_CHARS {
            return Err(format!(
                "Ensure this field has no more than {MAX_CHARS} characters."
            ));
        }
        if raw.chars().all(|c| c.is_ascii_digit()) {
            return Err("This password is entirely numeric.".to_owned());
        }
        if email.is_some_and(|e| e.eq_ignore_ascii_case(raw)) {
            return Err("The password is too similar to the email.".to_owned());
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<hidden>)")
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(Password::parse("short1", None)
            .unwrap_err()
            .contains("too short"));
        assert!(Password::parse("12345678901", None)
            .unwrap_err()
            .contains("numeric"));
        assert!(Password::parse("ann@example.org", Some("Ann@Example.org")).is_err());
        assert!(Password::parse(&"x".repeat(129), None).is_err());
    }

    #[test]
    fn a_good_password_is_kept_and_never_printed() {
        let p = Password::parse("correct horse battery", Some("ann@example.org")).unwrap();
        assert_eq!(p.expose(), "correct horse battery");
        assert!(!format!("{p:?}").contains("horse"));
    }
}
