//! Seed 002's profile fields: a phone number, a gender, a birthday and a postal address.
//! (The country is in `country.rs`, with its list of codes.)

use std::fmt;

/// A phone number in E.164 form: `+`, then 8 to 15 digits, the first not 0 (no country
/// calling code starts with 0). Spaces around it are trimmed; nothing inside is rewritten,
/// so what is stored is what a dialler can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

pub const MIN_PHONE_DIGITS: usize = 8;
pub const MAX_PHONE_DIGITS: usize = 15;

impl Phone {
    pub fn parse(raw: &str) -> Result<Phone, &'static str> {
        let phone = raw.trim();
        let ok = phone.strip_prefix('+').is_some_and(|digits| {
            (MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if ok {
            Ok(Phone(phone.to_owned()))
        } else {
            Err("Enter a phone number in E.164 format: + and 8 to 15 digits, e.g. +14155552671.")
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A gender, one of [`Gender::CHOICES`]: `M` (male), `F` (female), `O` (other, or rather
/// not say). Stored as its letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
    Other,
}

impl Gender {
    /// The accepted values, as documented in the OpenAPI document and the README.
    pub const CHOICES: [&'static str; 3] = ["M", "F", "O"];

    /// Exactly one of the choices (as DRF's `ChoiceField`: case matters).
    pub fn parse(raw: &str) -> Result<Gender, String> {
        match raw.trim() {
            "M" => Ok(Gender::Male),
            "F" => Ok(Gender::Female),
            "O" => Ok(Gender::Other),
            other => Err(format!("\"{other}\" is not a valid choice.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "M",
            Gender::Female => "F",
            Gender::Other => "O",
        }
    }
}

/// A date of birth: a real calendar date written `YYYY-MM-DD`, not in the future and not
/// before 1900 (older is a typo, not a user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday(time::Date);

const BIRTHDAY_FORMAT: &str =
    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";

impl Birthday {
    /// `today` is the date in UTC at the request (a parameter, so tests need no clock).
    pub fn parse(raw: &str, today: time::Date) -> Result<Birthday, &'static str> {
        let raw = raw.trim();
        let parts: Vec<&str> = raw.split('-').collect();
        let [y, m, d] = parts.as_slice() else {
            return Err(BIRTHDAY_FORMAT);
        };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) || !digits(d, 2) {
            return Err(BIRTHDAY_FORMAT);
        }
        let (Ok(year), Ok(month), Ok(day)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>())
        else {
            return Err(BIRTHDAY_FORMAT);
        };
        let date = time::Month::try_from(month)
            .ok()
            .and_then(|month| time::Date::from_calendar_date(year, month, day).ok())
            .ok_or("Enter a real date: this day does not exist.")?;
        if date > today {
            return Err("The birthday cannot be in the future.");
        }
        if year < 1900 {
            return Err("The birthday cannot be before 1900.");
        }
        Ok(Birthday(date))
    }

    /// The date of today in UTC.
    pub fn today() -> time::Date {
        time::OffsetDateTime::now_utc().date()
    }
}

impl fmt::Display for Birthday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// A postal address: one line of plain text (see `text.rs`), trimmed, at most
/// [`MAX_ADDRESS_CHARS`] characters. Blank means no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

pub const MAX_ADDRESS_CHARS: usize = 255;

impl Address {
    /// `None` for a blank address (a cleared form field).
    pub fn parse(raw: &str) -> Result<Option<Address>, String> {
        let address = raw.trim();
        if address.is_empty() {
            return Ok(None);
        }
        super::text::check_single_line(address)?;
        if address.chars().count() > MAX_ADDRESS_CHARS {
            return Err(format!(
                "Ensure this field has no more than {MAX_ADDRESS_CHARS} characters."
            ));
        }
        Ok(Some(Address(address.to_owned())))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            Phone::parse(" +1234567890 ").unwrap().into_string(),
            "+1234567890"
        );
        assert!(Phone::parse("+12345678").is_ok());
        assert!(Phone::parse("+123456789012345").is_ok());
        for bad in [
            "",
            "1234567890",
            "+1234567",
            "+1234567890123456",
            "+0234567890",
            "+1 234 567 890",
            "+12345-67890",
            "++1234567890",
            "+١٢٣٤٥٦٧٨٩",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn genders_are_one_of_the_choices() {
        for choice in Gender::CHOICES {
            assert_eq!(Gender::parse(choice).unwrap().as_str(), choice);
        }
        assert_eq!(
            Gender::parse("m").unwrap_err(),
            "\"m\" is not a valid choice."
        );
        assert!(Gender::parse("Male").is_err());
        assert!(Gender::parse("").is_err());
    }

    #[test]
    fn birthdays_are_real_past_dates() {
        let today = time::Date::from_calendar_date(2024, time::Month::December, 3).unwrap();
        let ok = |s: &str| Birthday::parse(s, today).map(|b| b.to_string());
        assert_eq!(ok("1990-01-01").unwrap(), "1990-01-01");
        assert_eq!(ok("2000-02-29").unwrap(), "2000-02-29");
        assert_eq!(ok("2024-12-03").unwrap(), "2024-12-03");
        assert!(ok("2024-12-04").unwrap_err().contains("future"));
        assert!(ok("1900-02-29").unwrap_err().contains("does not exist"));
        assert!(ok("1990-13-01").is_err());
        assert!(ok("1990-04-31").is_err());
        assert!(ok("1899-12-31").is_err());
        for bad in [
            "1990-1-1",
            "01-01-1990",
            "1990/01/01",
            "19900101",
            "",
            "1990-01-01T00:00",
        ] {
            assert_eq!(ok(bad).unwrap_err(), BIRTHDAY_FORMAT, "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_one_trimmed_line_and_blank_is_none() {
        assert_eq!(
            Address::parse(" 123 Main Street ")
                .unwrap()
                .unwrap()
                .into_string(),
            "123 Main Street"
        );
        assert_eq!(Address::parse("  ").unwrap(), None);
        assert!(Address::parse("a\nb").is_err());
        assert!(Address::parse(&"x".repeat(256)).is_err());
    }
}
