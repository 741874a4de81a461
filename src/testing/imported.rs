//! What reading a question file gives (shared by [`super::moodle`] and [`super::gift`],
//! used by [`super::import`]).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Something in the file that the test does not hold: a question skipped, or a part of a
/// question left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ImportNote)]
pub struct Note {
    /// 1-based position of the question in the file.
    pub question: usize,
    /// The question's name in the file, if any.
    pub name: String,
    /// Its type in the file (e.g. `matching`, `coderunner`).
    pub kind: String,
    /// The line the question starts on.
    pub line: usize,
    pub reason: String,
}

/// A file read into test-body questions (the authoring wire shape), with what was left out.
#[derive(Debug, Default)]
pub struct Imported {
    /// From the file's category, when it has one.
    pub name: Option<String>,
    pub questions: Vec<Value>,
    /// Where each of `questions` comes from (same order; `reason` empty), so a question
    /// left out later (its language cannot be graded here) is reported like any other.
    pub origins: Vec<Note>,
    pub skipped: Vec<Note>,
    pub notes: Vec<Note>,
}
