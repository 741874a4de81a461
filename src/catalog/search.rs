//! Search over the catalog's names and titles, case- and accent-insensitive.
//!
//! Every searchable text is folded ([`fold`]: Unicode case folding, then compatibility
//! decomposition with the combining marks dropped, so "Élan" and "ELAN" are both "elan") and
//! cut into words; each word is one [`SearchTerm`] document, indexed by word. A query is
//! folded the same way, and each of its words must start a word of the text: one index
//! range read per query word, never a scan of the catalog.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Case- and accent-folded text.
pub fn fold(text: &str) -> String {
    let folded = caseless::default_case_fold_str(text);
    folded.nfkd().filter(|c| !is_combining_mark(*c)).collect()
}

/// The folded words of a text: runs of letters and digits.
pub fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    words.sort();
    words.dedup();
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("Élan"), "elan");
        assert_eq!(fold("STRASSE"), fold("straße"));
        assert_eq!(
            words("Ünïcode, first-title 2"),
            ["2", "first", "title", "unicode"]
        );
    }
}
