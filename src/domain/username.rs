/// A sign-in name (seed 001): 1–150 characters of letters, digits and `@ . + - _`, as
/// Django's username rule; unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

pub const MAX_USERNAME_CHARS: usize = 150;

impl Username {
    pub fn parse(raw: &str) -> Result<Username, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("This field may not be blank.".to_owned());
        }
        if name.chars().count() > MAX_USERNAME_CHARS {
            return Err(format!(
                "Ensure this field has no more than {MAX_USERNAME_CHARS} characters."
            ));
        }
        let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
        if !name.chars().all(allowed) {
            return Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".to_owned());
        }
        Ok(Username(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form the unique index and sign-in compare.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_letters_digits_and_a_few_marks() {
        assert_eq!(Username::parse(" kavehkm ").unwrap().as_str(), "kavehkm");
        assert!(Username::parse("ада.lovelace+1@x_y-z").is_ok());
        for bad in ["", "   ", "two words", "semi;colon", "new\nline"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"a".repeat(150)).is_ok());
        assert!(Username::parse(&"a".repeat(151)).is_err());
    }

    #[test]
    fn usernames_compare_case_insensitively() {
        assert_eq!(Username::parse("KavehKM").unwrap().normalized(), "kavehkm");
    }
}
