//! Jobs, limits and verdicts: the sandbox's whole vocabulary.

use std::time::Duration;

use serde::{Deserialize, Serialize};

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

/// The languages code answers may be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Python,
    Javascript,
    C,
    Cpp,
}

impl Language {
    pub const ALL: [Language; 4] = [
        Language::Python,
        Language::Javascript,
        Language::C,
        Language::Cpp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Javascript => "javascript",
            Language::C => "c",
            Language::Cpp => "cpp",
        }
    }

    pub fn parse(name: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.as_str() == name)
    }
}

/// One input/output test case: the program runs with `stdin` as its standard input, and
/// passes when what it prints matches `expected_output` (see [`crate::cases::same_output`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCase {
    pub stdin: String,
    pub expected_output: String,
    /// Its weight among the question's scored units.
    pub points: u32,
}

/// One code answer to grade.
#[derive(Debug, Clone)]
pub struct Job {
    pub language: Language,
    /// The student's source.
    pub code: String,
    /// The teacher's source (Python only, may be empty): asserts using the student's
    /// definitions, optionally grouped into `test_*` functions.
    pub testing_code: String,
    /// Input/output cases, each run in a fresh instance; scored after the testing code's units.
    pub test_cases: Vec<TestCase>,
    pub limits: Limits,
}

impl Job {
    /// A Python job checked by testing code only.
    pub fn python(code: &str, testing_code: &str, limits: Limits) -> Job {
        Job {
            language: Language::Python,
            code: code.to_owned(),
            testing_code: testing_code.to_owned(),
            test_cases: Vec::new(),
            limits,
        }
    }
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

/// One scored unit: a `test_*` function, the module's top-level asserts, or a test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitResult {
    pub name: String,
    pub passed: bool,
    /// Its share of the question's points, relative to the other units (1 for asserts).
    pub weight: u32,
    /// Why it failed, for teachers (test cases: the first differing line, or the limit hit).
    pub detail: Option<String>,
}

impl UnitResult {
    /// A unit of weight 1 without detail.
    pub fn new(name: impl Into<String>, passed: bool) -> UnitResult {
        UnitResult {
            name: name.into(),
            passed,
            weight: 1,
            detail: None,
        }
    }
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

    /// The weight of the passed units and of all units.
    pub fn passed_weight(&self) -> (u64, u64) {
        let weight = |u: &UnitResult| u64::from(u.weight);
        let passed = self.units.iter().filter(|u| u.passed).map(weight).sum();
        (passed, self.units.iter().map(weight).sum())
    }

    /// A verdict for a run that ended before any check ran: every unit failed.
    pub fn ended_early(outcome: Outcome, unit_names: &[String]) -> Verdict {
        let units = unit_names
            .iter()
            .map(|name| UnitResult::new(name.clone(), false))
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
