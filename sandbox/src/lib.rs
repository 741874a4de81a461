//! The sandbox that grades code answers: job in, verdict out.
//!
//! It runs a student's code and a teacher's hidden checks inside Wasmtime with hard limits
//! on wall-clock time, memory and output, with no network and no host files, and turns what
//! happened into a [`Verdict`]. Its API is synchronous ([`Grader::grade`] blocks its thread)
//! and it knows nothing of actors, HTTP or storage.
//!
//! A wrong answer must never pass, so the verdict is never decided where student code runs:
//!
//! 1. `plan`: the testing code runs in a fresh instance that holds no student code. Every
//!    `assert` becomes a numbered check; the side of each comparison computable without the
//!    answer is evaluated there (the expected value), and a student-side copy of the testing
//!    code is written with each assert replaced by an observation of the other side.
//! 2. `observe`: the student's code runs in another fresh instance, then the student-side
//!    copy; the instance reports the canonical value of each observed expression. It never
//!    sees an expected value or a verdict.
//! 3. [`judge`]: the host compares. Exiting, crashing, patching the runner or forging the
//!    report cannot produce a pass without producing the expected values themselves.
//!
//! Input/output test cases (any language) are simpler: the answer runs as a program in a
//! fresh instance per case with the case's standard input, and the host compares the
//! standard output it captured with the expected output ([`cases`]). The instance never
//! holds an expected output or another case's input.
//!
//! # Layout
//!
//! - [`verdict`]: [`Job`], [`Language`], [`TestCase`], [`Limits`], [`Verdict`] and its
//!   [`Outcome`]s.
//! - [`cases`]: input/output test cases: the output comparison (the rule), pure, unit-tested.
//! - [`python`]: the Python runtime: building it (componentize-py), the engine, runs with
//!   limits.
//! - [`grader`]: the blocking [`Grader`] handle a worker thread owns, over every language,
//!   and [`Pending`], a runtime prepared once on first need.
//! - `host`: what the runtimes share (setup errors, memory limiter, epoch ticker).
//! - [`javascript`]: JavaScript answers: QuickJS-NG's WASI reactor module (PyPI, pinned and
//!   checksummed), one fresh instance per test case.
//! - [`judge`]: the comparison of plan and observations; pure, unit-tested.
//! - `python/runner.py` and `python/wit/grader.wit`: the guest side.

pub mod cases;
pub mod grader;
mod host;
pub mod javascript;
pub mod judge;
pub mod python;
pub mod verdict;

pub use grader::{Grader, Pending};
pub use host::SetupError;
pub use javascript::{JavascriptRuntime, QUICKJS_PACKAGE_VERSION};
pub use python::{PythonRuntime, COMPONENTIZE_PY_VERSION};
pub use verdict::{Job, Language, Limits, Outcome, TestCase, UnitResult, Verdict};
