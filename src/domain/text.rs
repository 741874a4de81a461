//! What a single-line text field (an email, a name) may contain.
//!
//! Control characters (C0, DEL, C1) have no place in a line of text and break the logs,
//! exports and terminals that show it (`\0` truncates C strings, `\r\n` forges log lines).
//! Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text display in
//! another order than it is stored: `moc.elgoog@` shown for a different address, a group
//! name that looks like another.

/// The message a field with such a character is refused with.
pub const CONTROL_CHARACTERS: &str =
    "This field may not contain control characters or bidirectional formatting characters.";

/// Whether `c` is refused in single-line text.
pub fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Refuses text holding a control or bidi formatting character.
pub fn check_single_line(text: &str) -> Result<(), &'static str> {
    if text.chars().any(is_forbidden_in_line) {
        Err(CONTROL_CHARACTERS)
    } else {
        Ok(())
    }
}

/// Bytes as lowercase hexadecimal (random ids, keys, digests).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_refused_other_text_is_not() {
        for bad in [
            "a\u{0}b",
            "a\nb",
            "a\u{7f}",
            "a\u{85}",
            "a\u{9f}",
            "a\u{202A}",
            "a\u{202E}b",
            "\u{2066}a",
            "a\u{2069}",
        ] {
            assert!(check_single_line(bad).is_err(), "{bad:?}");
        }
        for good in [
            "Ada Lovelace",
            "Zoë",
            "ученик",
            "שלום",
            "a\u{200D}b",
            "a\u{2029}",
        ] {
            assert!(check_single_line(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
