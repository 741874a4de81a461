//! What a single-line text field (an email, a name) may contain.
//!
//! Control characters (C0, DEL, C1) have no place in a line of text and break the logs,
//! exports and terminals that show it (`\0` truncates C strings, `\r\n` forges log lines).
//! Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text display in
//! another order than it is stored: `moc.elgoog@` shown for a different address, a group
//! name that looks like another. Invisible format characters (issue 22 #5: zero-width space,
//! word joiner, byte-order mark, soft hyphen, bidi marks, Hangul fillers, tags…) make two
//! different strings look the same: `a\u{200B}b` shows as `ab`.
//!
//! Refused are Unicode's default-ignorable code points, but for those some scripts need to be
//! written at all: the zero-width non-joiner and joiner (U+200C, U+200D: Persian, Indic
//! scripts, emoji sequences), variation selectors (U+FE00–U+FE0F, emoji presentation) and
//! Mongolian free variation selectors (U+180B–U+180D, U+180F).

/// The message a field with such a character is refused with.
pub const CONTROL_CHARACTERS: &str = "This field may not contain control characters, invisible \
     formatting characters or bidirectional formatting characters.";

/// Whether `c` is refused in single-line text.
pub fn is_forbidden_in_line(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Default-ignorable code points (UCD `DerivedCoreProperties.txt`), bidi overrides and
/// isolates among them, less the joiners and selectors scripts need (see the module).
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Refuses text holding a control, invisible format or bidi formatting character.
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
            "a\u{200B}b",
            "a\u{2060}b",
            "\u{FEFF}ab",
            "a\u{00AD}b",
            "a\u{200E}b",
            "\u{3164}",
            "a\u{E0041}",
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
            "می\u{200C}خواهم",
            "👩\u{200D}💻",
            "☺\u{FE0F}",
        ] {
            assert!(check_single_line(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
