//! Jobs, limits and verdicts: the sandbox's whole vocabulary.

use std::time::Duration;

use serde::Serialize;

/// Hard limits of one run of student code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall-clock time for the whole run, sleeping included.
    #[serde(serialize_with = "as_millis", rename = "time_ms")]
    pub time: Duration,
    /// Linear memory of the interpreter.
    pub memory_bytes: usize,
    /// Everything the program prints.
    pub output_bytes: usize,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            time: Duration::from_secs(2),
            memory_bytes: 256 << 20,
            output_bytes: 64 << 10,
        }
    }
}

/// One code answer to grade.
#[derive(Debug, Clone)]
pub struct Job {
    /// The student's source.
    pub code: String,
    /// The teacher's source: asserts using the student's definitions, optionally grouped into
    /// `test_*` functions.
    pub testing_code: String,
    pub limits: Limits,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// The program ran; at least one check failed (the first failing check, for teachers).
    Failed(String),
    /// The answer raised or did not compile (a traceback without runner frames).
    RuntimeError(String),
    TimeLimit,
    MemoryLimit,
    OutputLimit,
    /// The sandbox or the testing code failed; not the student's fault.
    InternalError(String),
}

/// One scored unit: a `test_*` function, or the module's top-level asserts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitResult {
    pub name: String,
    pub passed: bool,
}

/// The result of grading one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The units in the testing code's order; all failed unless the program ran.
    pub units: Vec<UnitResult>,
    /// What the program printed (capped), for teachers.
    pub stdout: String,
}

impl Verdict {
    pub fn passed_units(&self) -> usize {
        self.units.iter().filter(|u| u.passed).count()
    }

    /// A verdict for a run that ended before any check ran: every unit failed.
    pub fn ended_early(outcome: Outcome, unit_names: &[String]) -> Verdict {
        let units = unit_names
            .iter()
            .map(|name| UnitResult {
                name: name.clone(),
                passed: false,
            })
            .collect();
        Verdict {
            outcome,
            units,
            stdout: String::new(),
        }
    }

    /// A human summary for teachers: the failing check, traceback, or limit hit (at most
    /// a few KiB: it is stored with the answer).
    pub fn explanation(&self) -> Option<String> {
        const MAX_CHARS: usize = 4096;
        let text = self.full_explanation()?;
        Some(match text.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        })
    }

    fn full_explanation(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Passed => None,
            Outcome::Failed(detail) | Outcome::RuntimeError(detail) => Some(detail.clone()),
            Outcome::InternalError(detail) => Some(format!("Internal grading error: {detail}")),
            Outcome::TimeLimit => Some("Time limit exceeded.".to_owned()),
            Outcome::MemoryLimit => Some("Memory limit exceeded.".to_owned()),
            Outcome::OutputLimit => Some("Output limit exceeded.".to_owned()),
        }
    }
}
