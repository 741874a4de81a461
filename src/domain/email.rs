use std::fmt;

/// A syntactically valid email address, trimmed, without control or bidi formatting
/// characters. Comparison for uniqueness and log-in is
/// case-insensitive: use [`Email::normalized`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

const MAX_LEN: usize = 254;

impl Email {
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let email = raw.trim();
        super::text::check_single_line(email)?;
        let invalid = "Enter a valid email address.";
        if email.is_empty() || email.len() > MAX_LEN || email.chars().any(char::is_whitespace) {
            return Err(invalid);
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid);
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key emails are unique by.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(
            Email::parse(" Ann.Lee+x@Example.org ").unwrap().as_str(),
            "Ann.Lee+x@Example.org"
        );
        assert_eq!(
            Email::parse("Ann@Example.ORG").unwrap().normalized(),
            "ann@example.org"
        );
        assert!(Email::parse("ученик@школа.рф").is_ok());
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@example",
            "a b@example.org",
            "ann@example..org",
            "ann@-example.org",
            "ann@exa_mple.org",
            "a@b@example.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Email::parse(&format!("{}@example.org", "a".repeat(65))).is_err());
    }

    #[test]
    fn refuses_control_and_bidi_characters_with_their_own_message() {
        for bad in ["a\u{0}@example.org", "a\u{202E}gro.elpmaxe@example.org"] {
            assert_eq!(
                Email::parse(bad).unwrap_err(),
                crate::domain::text::CONTROL_CHARACTERS
            );
        }
    }
}
