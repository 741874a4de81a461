//! Input/output test cases, judged on the host: what a program printed against what the
//! teacher expects. The program's instance is given the case's standard input and nothing
//! else; the expected output never enters it.
//!
//! **The rule:** outputs match when they are equal line by line after each line loses its
//! trailing whitespace (spaces, tabs, `\r`) and trailing empty lines are dropped; nothing
//! else is forgiven (leading spaces, case, blank lines in between all count). A run that
//! fails (an uncaught error, a non-zero exit, a limit) fails its case whatever it printed.

use crate::verdict::{Outcome, TestCase, UnitResult, Verdict};

/// Longest line shown in a difference.
const MAX_SHOWN: usize = 200;

/// How one run of a program on one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseEnd {
    /// It ran to its end; `error` is why it failed (uncaught error, non-zero exit), if it did.
    Finished {
        stdout: String,
        error: Option<String>,
    },
    TimeLimit,
    MemoryLimit,
    OutputLimit,
}

/// The lines compared: trailing whitespace cut from each, trailing empty lines dropped.
fn lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn shown(line: Option<&str>) -> String {
    match line {
        None => "nothing".to_owned(),
        Some(line) => match line.char_indices().nth(MAX_SHOWN) {
            Some((cut, _)) => format!("{:?}…", &line[..cut]),
            None => format!("{line:?}"),
        },
    }
}

/// The first line where `actual` differs from `expected`, described for teachers; `None`
/// when they match by the rule above.
pub fn first_difference(actual: &str, expected: &str) -> Option<String> {
    let (actual, expected) = (lines(actual), lines(expected));
    let length = actual.len().max(expected.len());
    (0..length)
        .find(|&i| actual.get(i) != expected.get(i))
        .map(|i| {
            format!(
                "line {}: expected {}, got {}",
                i + 1,
                shown(expected.get(i).copied()),
                shown(actual.get(i).copied())
            )
        })
}

/// Whether `actual` matches `expected` by the rule above.
pub fn same_output(actual: &str, expected: &str) -> bool {
    first_difference(actual, expected).is_none()
}

/// The name of the `index`-th case (from 0) as teachers see it.
pub fn case_name(index: usize) -> String {
    format!("case {}", index + 1)
}

/// Judges one case's run: its unit, and its outcome if it failed.
pub fn judge_case(index: usize, case: &TestCase, end: &CaseEnd) -> (UnitResult, Option<Outcome>) {
    let name = case_name(index);
    let failure = match end {
        CaseEnd::Finished {
            error: Some(error), ..
        } => Some(Outcome::RuntimeError(format!("{name}: {error}"))),
        CaseEnd::Finished {
            stdout,
            error: None,
        } => first_difference(stdout, &case.expected_output)
            .map(|diff| Outcome::Failed(format!("{name}: {diff}"))),
        CaseEnd::TimeLimit => Some(Outcome::TimeLimit),
        CaseEnd::MemoryLimit => Some(Outcome::MemoryLimit),
        CaseEnd::OutputLimit => Some(Outcome::OutputLimit),
    };
    let detail = failure.as_ref().map(|outcome| match outcome {
        Outcome::Failed(d) | Outcome::RuntimeError(d) => d.clone(),
        other => format!(
            "{name}: {}",
            Verdict::ended_early(other.clone(), &[])
                .explanation()
                .unwrap_or_default()
        ),
    });
    let unit = UnitResult {
        name,
        passed: failure.is_none(),
        weight: case.points,
        detail,
    };
    (unit, failure)
}

/// Adds the cases' results after the units `verdict` has already (from testing code, or
/// none); the outcome stays the first failure.
pub fn add_cases(mut verdict: Verdict, cases: &[TestCase], ends: &[CaseEnd]) -> Verdict {
    for (index, (case, end)) in cases.iter().zip(ends).enumerate() {
        let (unit, failure) = judge_case(index, case, end);
        if let (Some(failure), Outcome::Passed) = (failure, &verdict.outcome) {
            verdict.outcome = failure;
            if let CaseEnd::Finished { stdout, .. } = end {
                verdict.stdout = stdout.clone();
            }
        }
        verdict.units.push(unit);
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(expected: &str, points: u32) -> TestCase {
        TestCase {
            stdin: String::new(),
            expected_output: expected.to_owned(),
            points,
        }
    }

    fn finished(stdout: &str) -> CaseEnd {
        CaseEnd::Finished {
            stdout: stdout.to_owned(),
            error: None,
        }
    }

    #[test]
    fn trailing_whitespace_and_final_newlines_do_not_count() {
        assert!(same_output("3 \n4\t\r\n\n\n", "3\n4"));
        assert!(same_output("", "\n"));
    }

    #[test]
    fn everything_else_counts() {
        assert!(!same_output(" 3\n4", "3\n4"));
        assert!(!same_output("3\n\n4", "3\n4"));
        assert!(!same_output("Yes", "yes"));
        assert!(!same_output("3", "3\n4"));
    }

    #[test]
    fn the_first_differing_line_is_named() {
        assert_eq!(
            first_difference("1\n2\n5\n", "1\n2\n3\n").as_deref(),
            Some("line 3: expected \"3\", got \"5\"")
        );
        assert_eq!(
            first_difference("1\n", "1\n2").as_deref(),
            Some("line 2: expected \"2\", got nothing")
        );
    }

    #[test]
    fn cases_are_weighted_and_a_failed_run_fails_even_with_the_right_output() {
        let cases = [case("3", 1), case("7", 2), case("1", 3)];
        let ends = [
            finished("3\n"),
            finished("8\n"),
            CaseEnd::Finished {
                stdout: "1\n".into(),
                error: Some("exit code 1".into()),
            },
        ];
        let verdict = add_cases(Verdict::ended_early(Outcome::Passed, &[]), &cases, &ends);
        assert_eq!(verdict.passed_weight(), (1, 6));
        assert_eq!(
            verdict.outcome,
            Outcome::Failed("case 2: line 1: expected \"7\", got \"8\"".into())
        );
        assert!(!verdict.units[2].passed);
    }

    #[test]
    fn a_limit_fails_only_its_case() {
        let cases = [case("3", 1), case("3", 1)];
        let verdict = add_cases(
            Verdict::ended_early(Outcome::Passed, &[]),
            &cases,
            &[CaseEnd::TimeLimit, finished("3")],
        );
        assert_eq!(verdict.outcome, Outcome::TimeLimit);
        assert_eq!(verdict.passed_weight(), (1, 2));
        assert_eq!(
            verdict.units[0].detail.as_deref(),
            Some("case 1: Time limit exceeded.")
        );
    }
}
