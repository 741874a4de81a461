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
            let right = picked.intersection(&correct).count() as f64;
            let wrong = picked.difference(&correct).count() as f64;
            let share = (right - wrong).max(0.0) / correct.len() as f64;
            Grade {
                is_correct: Some(exact),
                points: question.points as f64 * share,
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
