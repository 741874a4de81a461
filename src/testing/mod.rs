//! Testing: tests and who may take them, completions and their attempts, grading code
//! answers in the sandbox, live attempts, and the export. Plain rules over the [`Store`]
//! that take the acting user and typed inputs; they know nothing of HTTP.
//!
//! # Layout
//!
//! - [`access`]: who manages a test, who may take it, who may read a completion.
//! - [`attempts`]: attempts and their clock: time limits, one rule for REST and live.
//! - [`authoring`]: reading test bodies, checking testing code, creating and changing tests.
//! - [`completions`]: reading submissions, attempt numbers, submitting, listing.
//! - [`grading`]: code answers from stored completions to the grader pool and back, with
//!   the events that announce verdicts.
//! - [`import`]: a test from a question file, and a test as Moodle XML; the formats are
//!   [`moodle`] (XML, reading and writing) and [`gift`] (reading), both into [`imported`].
//! - [`live`]: the store behind the attempt actors' port (live test-taking).
//! - [`regrade`]: regrading completions against a test's current questions, in the
//!   background, atomically per completion.
//! - [`statistics`]: item statistics (facility, discrimination, alpha) as running sums.
//! - [`submission`]: a REST submission, through the clock rule and the one `submit`.
//! - [`export`]: a test's completions as an xlsx workbook.
//! - [`views`]: the typed wire shapes of tests and completions, built from data loaded
//!   before them (no rules: the files above import views, never the reverse).
//!
//! [`Store`]: crate::store::Store

pub mod access;
pub mod attempts;
pub mod authoring;
pub mod completions;
pub mod export;
pub mod gift;
pub mod grading;
pub mod import;
pub mod imported;
pub mod live;
pub mod moodle;
pub mod regrade;
pub mod statistics;
pub mod submission;
pub mod views;
