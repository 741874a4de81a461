//! Importing a test from a question file (Moodle XML, [`super::moodle`]; GIFT,
//! [`super::gift`]) and exporting one as Moodle XML.
//!
//! The file is read whole into a test body, which then goes through the one authoring rule
//! ([`super::authoring::create`]): every rule of a test written by hand holds, and the
//! test is created in one write or not at all. What the file holds that a test cannot is
//! listed in the answer (`skipped`: whole questions; `notes`: parts of questions kept),
//! never dropped silently.

use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

pub use super::imported::{Imported, Note};

use super::access::{managed_test, require_teacher};
use super::grading::Grading;
use crate::domain::input::Input;
use crate::error::ApiError;
use crate::store::{Language, Test, User};

/// The largest file read (characters of `file`); the request body is capped anyway.
pub const MAX_FILE_CHARS: usize = 512 * 1024;
pub const XML_MEDIA_TYPE: &str = "application/xml";
const DEFAULT_NAME: &str = "Imported questions";

/// The answer of an import.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ImportResult)]
pub struct ImportOut {
    pub test: super::views::TestOut,
    pub skipped: Vec<Note>,
    pub notes: Vec<Note>,
}

/// Reads `file` as `format` (`moodle_xml` or `gift`; absent: XML when it starts with `<`).
fn read_file(input: &mut Input) -> Option<Imported> {
    let file = input.required_str("file")?;
    let format = input.optional_str("format");
    if file.chars().count() > MAX_FILE_CHARS {
        input.error(
            "file",
            format!("The file is larger than {MAX_FILE_CHARS} characters."),
        );
        return None;
    }
    let xml = match format.as_deref() {
        Some("moodle_xml") => true,
        Some("gift") => false,
        None => file
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<'),
        Some(other) => {
            input.error(
                "format",
                format!("\"{other}\" is not a valid choice (moodle_xml, gift)."),
            );
            return None;
        }
    };
    let read = if xml {
        super::moodle::read(&file)
    } else {
        super::gift::read(&file)
    };
    match read {
        Ok(imported) => Some(imported),
        Err(problem) => {
            input.error("file", problem);
            None
        }
    }
}

/// Leaves out (and lists as skipped) the code questions in a language whose runtime this
/// server cannot run, instead of refusing the whole file as authoring would.
async fn skip_ungradable(grading: &Grading, imported: &mut Imported) {
    use actors::grader::{RuntimeStatus, Status};
    let questions = std::mem::take(&mut imported.questions);
    let origins = std::mem::take(&mut imported.origins);
    for (question, origin) in questions.into_iter().zip(origins) {
        let language = question["body"]["language"]
            .as_str()
            .and_then(Language::parse)
            .filter(|_| question["type"] == "code");
        if let Some(language) = language {
            if let Ok(RuntimeStatus::Failed(why)) = grading.grader.send(Status(language)).await {
                imported.skipped.push(Note {
                    reason: format!(
                        "{} answers cannot be graded on this server: {why}",
                        language.as_str()
                    ),
                    ..origin
                });
                continue;
            }
        }
        imported.questions.push(question);
        imported.origins.push(origin);
    }
    imported.skipped.sort_by_key(|note| note.question);
}

/// Creates a test from a question file; the caller (a teacher) is its creator.
pub async fn import(
    grading: &Grading,
    me: &User,
    mut input: Input,
) -> Result<(Test, Imported), ApiError> {
    require_teacher(me)?;
    let imported = read_file(&mut input);
    let name = input.optional_str("name");
    let available_for = input.raw("available_for").cloned();
    let Some(mut imported) = imported else {
        input.finish()?;
        return Err(ApiError::field("file", "The file could not be read."));
    };
    skip_ungradable(grading, &mut imported).await;
    if imported.questions.is_empty() {
        let why: Vec<String> = imported
            .skipped
            .iter()
            .map(|s| format!("question {} (line {}): {}", s.question, s.line, s.reason))
            .collect();
        input.error(
            "file",
            if why.is_empty() {
                "The file holds no question.".to_owned()
            } else {
                format!("No question could be imported: {}", why.join("; "))
            },
        );
    }
    if imported.questions.len() > super::authoring::MAX_QUESTIONS {
        input.error(
            "file",
            format!(
                "The file holds more than {} questions.",
                super::authoring::MAX_QUESTIONS
            ),
        );
    }
    input.finish()?;
    for (index, question) in imported.questions.iter_mut().enumerate() {
        question["number_in_test"] = json!(index + 1);
    }
    let name = name
        .or(imported.name.take())
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let name: String = name.chars().take(crate::domain::MAX_NAME_CHARS).collect();
    let mut body = Map::new();
    body.insert("name".into(), Value::String(name));
    body.insert(
        "questions".into(),
        Value::Array(std::mem::take(&mut imported.questions)),
    );
    if let Some(groups) = available_for {
        body.insert("available_for".into(), groups);
    }
    let test = super::authoring::create(&grading.store, grading, me, Input::new(body)).await?;
    tracing::info!(
        test_id = test.id,
        questions = test.questions.len(),
        skipped = imported.skipped.len(),
        "test imported"
    );
    Ok((test, imported))
}

/// A test the caller manages as Moodle XML, with a file name for it.
pub async fn export(
    store: &crate::store::Store,
    me: &User,
    test_id: i64,
) -> Result<(String, String), ApiError> {
    let test = managed_test(store, me, test_id).await?;
    Ok((format!("test-{}.xml", test.id), super::moodle::write(&test)))
}
