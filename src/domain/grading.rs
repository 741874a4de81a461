//! How answers are graded. Pure functions over a question and a response; the README states
//! the same rules for teachers.
//!
//! - **text:** correct when the answer equals a correct variant after both are normalised
//!   ([`normalize_text`]); full points or none.
//! - **radio:** the picked variant is correct; full points or none.
//! - **check, strict:** full points when the picked set is exactly the correct set, else 0.
//! - **check, not strict:** `points × max(0, right − wrong) / number of correct variants`.
//! - **code:** left ungraded here (`is_correct` is `None`) until the sandbox grades it; never
//!   scored as correct meanwhile.
//! - An unanswered question scores 0 and is not correct.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;

use crate::store::{Question, QuestionKind, Response};

/// The outcome of grading one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grade {
    /// `None`: not graded yet.
    pub is_correct: Option<bool>,
    pub points: f64,
}

impl Grade {
    const WRONG: Grade = Grade {
        is_correct: Some(false),
        points: 0.0,
    };
    const PENDING: Grade = Grade {
        is_correct: None,
        points: 0.0,
    };

    fn all_or_nothing(correct: bool, points: i64) -> Grade {
        Grade {
            is_correct: Some(correct),
            points: if correct { points as f64 } else { 0.0 },
        }
    }
}

/// Trims, collapses inner runs of whitespace to one space, normalises to NFC and folds case
/// (full Unicode case folding: `Straße` matches `STRASSE`).
pub fn normalize_text(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let composed: String = collapsed.nfc().collect();
    caseless::default_case_fold_str(&composed).nfc().collect()
}

/// How far a sum of points may be from a whole number and still be that number: adding
/// binary fractions (thirds, sevenths) can miss a whole total by a few units in the last
/// place, and a score of 0.9999999999999999 must count as the 1 it is.
const WHOLE_TOLERANCE: f64 = 1e-9;

/// The exact total of some answers' points: their sum, and a sum within a hair of a whole
/// number (see [`WHOLE_TOLERANCE`]) is that whole number.
pub fn total(points: impl IntoIterator<Item = f64>) -> f64 {
    let sum: f64 = points.into_iter().sum();
    let whole = sum.round();
    if (sum - whole).abs() <= WHOLE_TOLERANCE * whole.abs().max(1.0) {
        whole
    } else {
        sum
    }
}

/// What seed 003's integer `score` and `points` show of an exact value: truncated toward
/// zero, as the original's integer serializer field did (`2.99` is `2`). A value within a
/// hair of a whole number counts as it first, as in [`total`].
pub fn truncated(exact: f64) -> i64 {
    let snapped = total([exact]);
    if snapped.is_finite() {
        snapped.trunc() as i64
    } else {
        0
    }
}

/// The variant of a question a text answer names, compared as grading compares them (so
/// in any case, as the original matched): a correct one first, else any. `None`: the
/// answer matches no variant.
pub fn matched_variant(question: &Question, text: &str) -> Option<i64> {
    let answer = normalize_text(text);
    let matching = || {
        question
            .variants
            .iter()
            .filter(|v| normalize_text(&v.text) == answer)
    };
    let mut correct_first = matching().filter(|v| v.is_correct).chain(matching());
    correct_first.next().map(|v| v.id)
}

/// Grades one response to one question. A response of another kind than the question's
/// (which the API never builds) is wrong.
pub fn grade(question: &Question, response: &Response) -> Grade {
    let correct: BTreeSet<i64> = question
        .variants
        .iter()
        .filter(|v| v.is_correct)
        .map(|v| v.id)
        .collect();
    match (question.kind, response) {
        (_, Response::Unanswered) => Grade::WRONG,
        (QuestionKind::Text, Response::Text(text)) => {
            let answer = normalize_text(text);
            let right = question
                .variants
                .iter()
                .any(|v| v.is_correct && normalize_text(&v.text) == answer);
            Grade::all_or_nothing(right, question.points)
        }
        (QuestionKind::Radio, Response::Single(id)) => {
            Grade::all_or_nothing(correct.contains(id), question.points)
        }
        (QuestionKind::Check, Response::Multiple(ids)) => {
            let picked: BTreeSet<i64> = ids.iter().copied().collect();
            let exact = picked == correct;
            if question.strict_score || correct.is_empty() {
                return Grade::all_or_nothing(exact, question.points);
            }
            let right = picked.intersection(&correct).count() as i64;
            let wrong = picked.difference(&correct).count() as i64;
            // Multiplied before dividing: the nearest double to the exact fraction, so
            // truncating it never loses a whole point (3 × 1/3 is 1, not 0.999…).
            let earned = question.points * (right - wrong).max(0);
            Grade {
                is_correct: Some(exact),
                points: earned as f64 / correct.len() as f64,
            }
        }
        (QuestionKind::Code, Response::Code(_)) => Grade::PENDING,
        _ => Grade::WRONG,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Variant;

    fn question(kind: QuestionKind, points: i64, variants: &[(&str, bool)]) -> Question {
        Question {
            id: 1,
            text: "Q".to_owned(),
            kind,
            number_in_test: 1,
            points,
            variants: variants
                .iter()
                .enumerate()
                .map(|(i, (text, ok))| Variant {
                    id: i as i64 + 10,
                    text: text.to_string(),
                    is_correct: *ok,
                })
                .collect(),
            testing_code: None,
            strict_score: true,
            version: 0,
            language: Default::default(),
            test_cases: Vec::new(),
        }
    }

    #[test]
    fn text_answers_match_after_normalisation() {
        let q = question(
            QuestionKind::Text,
            3,
            &[("New  York", true), ("Boston", false)],
        );
        for answer in ["new york", "  NEW\tYORK ", "New\u{00A0}York"] {
            assert_eq!(
                grade(&q, &Response::Text(answer.into())).points,
                3.0,
                "{answer:?}"
            );
        }
        assert_eq!(grade(&q, &Response::Text("Boston".into())), Grade::WRONG);
        assert_eq!(grade(&q, &Response::Text("NewYork".into())), Grade::WRONG);
        assert_eq!(matched_variant(&q, " new york"), Some(10));
        assert_eq!(matched_variant(&q, "BOSTON"), Some(11));
        assert_eq!(matched_variant(&q, "Chicago"), None);
    }

    #[test]
    fn text_normalisation_composes_and_folds_unicode() {
        assert_eq!(normalize_text("Cafe\u{0301}"), normalize_text("CAFÉ"));
        assert_eq!(normalize_text("Straße"), normalize_text("STRASSE"));
    }

    #[test]
    fn radio_is_all_or_nothing() {
        let q = question(QuestionKind::Radio, 2, &[("a", false), ("b", true)]);
        assert_eq!(
            grade(&q, &Response::Single(11)),
            Grade {
                is_correct: Some(true),
                points: 2.0
            }
        );
        assert_eq!(grade(&q, &Response::Single(10)), Grade::WRONG);
    }

    #[test]
    fn strict_check_needs_exactly_the_correct_set() {
        let q = question(
            QuestionKind::Check,
            4,
            &[("a", true), ("b", true), ("c", false)],
        );
        assert_eq!(grade(&q, &Response::Multiple(vec![10, 11])).points, 4.0);
        assert_eq!(grade(&q, &Response::Multiple(vec![11, 10, 11])).points, 4.0);
        assert_eq!(grade(&q, &Response::Multiple(vec![10])), Grade::WRONG);
        assert_eq!(
            grade(&q, &Response::Multiple(vec![10, 11, 12])),
            Grade::WRONG
        );
    }

    #[test]
    fn lenient_check_shares_points_by_right_minus_wrong_picks() {
        let mut q = question(
            QuestionKind::Check,
            3,
            &[("a", true), ("b", true), ("c", true), ("d", false)],
        );
        q.strict_score = false;
        let points = |ids: &[i64]| grade(&q, &Response::Multiple(ids.to_vec())).points;
        assert_eq!(points(&[10, 11, 12]), 3.0);
        assert_eq!(points(&[10, 11]), 2.0);
        assert_eq!(points(&[10]), 1.0);
        assert_eq!(points(&[10, 11, 13]), 1.0);
        assert_eq!(points(&[10, 13]), 0.0);
        assert_eq!(points(&[13]), 0.0);
        q.points = 2;
        assert!((grade(&q, &Response::Multiple(vec![10])).points - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            grade(&q, &Response::Multiple(vec![10])).is_correct,
            Some(false)
        );
    }

    #[test]
    fn totals_are_exact_and_integers_truncate_toward_zero() {
        let third = 1.0 / 3.0;
        assert_eq!(total([third, third, third]), 1.0);
        assert_eq!(total([0.1, 0.2]), 0.30000000000000004);
        assert_eq!(truncated(third), 0);
        assert_eq!(truncated(2.0 * 4.0 / 3.0), 2);
        assert_eq!(truncated(0.1 * 3.0 * 10.0), 3);
        assert_eq!(truncated(4.999_999_999_999_999), 5);
        assert_eq!(truncated(4.5), 4);
        assert_eq!(truncated(-0.5), 0);
        assert_eq!(truncated(f64::NAN), 0);
    }

    #[test]
    fn lenient_check_points_are_the_nearest_double_to_the_fraction() {
        let mut q = question(
            QuestionKind::Check,
            3,
            &[
                ("a", true),
                ("b", true),
                ("c", true),
                ("d", true),
                ("e", true),
                ("f", true),
                ("g", true),
            ],
        );
        q.strict_score = false;
        let points = grade(&q, &Response::Multiple(vec![10, 11, 12, 13, 14, 15])).points;
        assert_eq!(points, 18.0 / 7.0);
    }

    #[test]
    fn unanswered_and_code_answers_score_nothing() {
        let q = question(QuestionKind::Radio, 2, &[("a", true)]);
        assert_eq!(grade(&q, &Response::Unanswered), Grade::WRONG);
        let code = question(QuestionKind::Code, 5, &[]);
        assert_eq!(
            grade(&code, &Response::Code("print(1)".into())),
            Grade::PENDING
        );
        assert_eq!(grade(&code, &Response::Text("x".into())), Grade::WRONG);
    }
}
