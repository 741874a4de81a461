//! Search over the catalog's names and titles, case- and accent-insensitive.
//!
//! Every searchable text is folded ([`fold`]: Unicode case folding, then compatibility
//! decomposition with the combining marks dropped, so "Élan" and "ELAN" are both "elan") and
//! cut into words; each word is one [`SearchTerm`] document, indexed by word. A query is
//! folded the same way, and each of its words must start a word of the text: one index
//! range read per query word, never a scan of the catalog.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;
use serde_json::Value;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use utoipa::ToSchema;

use super::views::{CategoryOut, CollectionOut, CourseOut, Nest, Roots, TeacherOut};
use crate::error::ApiError;
use crate::store::{Filter, Page, SearchTerm, Store, StoreError, User};

/// Words longer than this are indexed and searched by their first this many characters.
const MAX_WORD_CHARS: usize = 40;
/// A query's words past this many are ignored.
const MAX_QUERY_WORDS: usize = 8;
/// Index entries read per query word at most: a word start shared by more things than this
/// finds the first this many (in index order), and more words narrow it down.
const MAX_TERMS_READ: u64 = 20_000;
/// Each kind answers at most this many matches (the lowest ids).
pub const MAX_MATCHES: usize = 100;

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
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect())
        .collect();
    words.sort();
    words.dedup();
    words
}

/// Makes the search index hold exactly the words of `text` for one thing (none when
/// `text` is `None`: the thing is gone or not searchable).
pub async fn index(
    store: &Store,
    kind: &'static str,
    target: i64,
    text: Option<&str>,
) -> Result<(), ApiError> {
    let terms = store.repo::<SearchTerm>();
    let filter = Filter::And(vec![
        Filter::Eq("target", Value::from(target)),
        Filter::Eq("kind", Value::from(kind)),
    ]);
    let mut stale: Vec<SearchTerm> = terms.find(&filter, None).await?;
    let wanted = text.map(words).unwrap_or_default();
    for word in wanted {
        match stale.iter().position(|t| t.word == word) {
            Some(kept) => {
                stale.swap_remove(kept);
            }
            None => {
                let term = SearchTerm {
                    id: 0,
                    kind: kind.to_owned(),
                    target,
                    key: format!("{kind}:{target}:{word}"),
                    word,
                };
                match terms.insert(term).await {
                    // Another writer indexed the same word of the same thing just now.
                    Ok(_) | Err(StoreError::Duplicate) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
    }
    for term in stale {
        terms.delete(term.id).await?;
    }
    Ok(())
}

/// What `global_search/` answers: each kind's matches in id order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GlobalSearch)]
pub struct SearchOut {
    pub teachers: Vec<TeacherOut>,
    pub collections: Vec<CollectionOut>,
    pub categories: Vec<CategoryOut>,
    pub courses: Vec<CourseOut>,
}

/// The things whose indexed words start with every word of `query`: one index range read
/// per query word, then one batched load of what they nest.
pub async fn search(
    store: &Store,
    base: &str,
    viewer: &User,
    query: &str,
) -> Result<SearchOut, ApiError> {
    let asked = words(query);
    if asked.is_empty() {
        return Err(ApiError::field(
            "search_value",
            "Give a word to search for (letters or digits).",
        ));
    }
    // The longest words first: they select the fewest terms, and each read is bounded, so
    // a query of one-letter words costs a bounded read, not the whole index.
    let mut asked = asked;
    asked.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    let mut matched: Option<HashSet<(String, i64)>> = None;
    for word in asked.into_iter().take(MAX_QUERY_WORDS) {
        let page = Page {
            offset: 0,
            limit: MAX_TERMS_READ,
        };
        let terms = store
            .repo::<SearchTerm>()
            .find(&Filter::Prefix("word", word), Some(page))
            .await?;
        let hits: HashSet<(String, i64)> = terms.into_iter().map(|t| (t.kind, t.target)).collect();
        matched = Some(match matched {
            None => hits,
            Some(before) => before.intersection(&hits).cloned().collect(),
        });
    }
    let matched = matched.unwrap_or_default();
    let of = |kind: &str| -> BTreeSet<i64> {
        let all: BTreeSet<i64> = matched
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| *id)
            .collect();
        all.into_iter().take(MAX_MATCHES).collect()
    };
    let roots = Roots {
        teachers: of("teacher"),
        collections: of("collection"),
        categories: of("category"),
        courses: of("course"),
        ..Roots::default()
    };
    let nest = Nest::load(store, base, viewer, roots.clone()).await?;
    Ok(SearchOut {
        teachers: roots
            .teachers
            .iter()
            .filter_map(|&id| nest.teacher(id))
            .collect(),
        collections: roots
            .collections
            .iter()
            .filter_map(|&id| nest.collection(id))
            .collect(),
        categories: roots
            .categories
            .iter()
            .filter_map(|&id| nest.category(id))
            .collect(),
        courses: roots
            .courses
            .iter()
            .filter_map(|&id| nest.course(id))
            .collect(),
    })
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
