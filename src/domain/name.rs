/// A person's or a thing's name (users' first and last names, organizations, groups,
/// tests): trimmed, not blank, one line without control or bidi formatting characters, at
/// most 150 characters (the seed's `max:150 chars`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

pub const MAX_NAME_CHARS: usize = 150;

impl Name {
    pub fn parse(raw: &str) -> Result<Name, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("This field may not be blank.".to_owned());
        }
        super::text::check_single_line(name)?;
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "Ensure this field has no more than {MAX_NAME_CHARS} characters."
            ));
        }
        Ok(Name(name.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(Name::parse("  Ада  ").unwrap().into_string(), "Ада");
        assert!(Name::parse(&"я".repeat(150)).is_ok());
        assert!(Name::parse(&"я".repeat(151)).is_err());
        assert!(Name::parse("   ").is_err());
    }

    #[test]
    fn names_are_one_line_of_plain_text() {
        assert_eq!(Name::parse("  Ada\n").unwrap().into_string(), "Ada");
        for bad in ["Ada\u{0}", "Ada\nLovelace", "\u{202E}adA", "A\u{2067}da"] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
    }
}
