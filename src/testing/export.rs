//! A test's completions as an `.xlsx` workbook, for its managers.
//!
//! One row per completion: email, name, groups, score, maximum score, start and submission
//! times (UTC; the start is empty for a submission with no attempt on record),
//! then one column per question with the points earned. Questions are the test's current
//! ones in order, followed by any that only older completions answered (the test was edited
//! since); a cell is empty when that completion did not have the question. A column's header
//! is the question's position as the teacher sees it (1, 2, …) and its text without markup
//! (clients such as the original's write questions as Quill HTML).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::access::managed_test;
use super::completions::all_with_students;
use super::views::timestamp;
use crate::error::ApiError;
use crate::store::{Completion, Store, Test, User};

pub const XLSX_MEDIA_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const FIXED_COLUMNS: [&str; 7] = [
    "Email",
    "Name",
    "Group",
    "Score",
    "Max score",
    "Started at (UTC)",
    "Submitted at (UTC)",
];
const HEADER_CHARS: usize = 60;

/// A question's text as plain text: tags dropped (a tag separates words), the common
/// character references decoded, whitespace runs collapsed.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                text.push(' ');
            }
            (true, '>') => in_tag = false,
            (false, c) => text.push(c),
            (true, _) => {}
        }
    }
    let decoded = [
        ("&nbsp;", " "),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&#x27;", "'"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(text, |text, (entity, c)| text.replace(entity, c));
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A question column: id and header.
fn question_columns(test: &Test, rows: &[(Completion, Option<User>)]) -> Vec<(i64, String)> {
    let header = |number: usize, text: &str| {
        let text = plain_text(text);
        let mut short: String = text.chars().take(HEADER_CHARS).collect();
        if text.chars().count() > HEADER_CHARS {
            short.push('…');
        }
        format!("{number}. {short}")
    };
    let mut columns: Vec<(i64, String)> = test
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id, header(i + 1, &q.text)))
        .collect();
    for (completion, _) in rows {
        for answer in &completion.answers {
            let q = &answer.question;
            if !columns.iter().any(|(id, _)| *id == q.id) {
                columns.push((q.id, header(columns.len() + 1, &q.text)));
            }
        }
    }
    columns
}

/// Builds the workbook (CPU work: run it off the async workers).
pub fn workbook(test: &Test, rows: &[(Completion, Option<User>)]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Completions")?;
    let bold = Format::new().set_bold();
    let columns = question_columns(test, rows);
    let headers = FIXED_COLUMNS
        .iter()
        .map(|h| h.to_string())
        .chain(columns.iter().map(|(_, h)| h.clone()));
    for (col, header) in headers.enumerate() {
        sheet.write_string_with_format(0, col as u16, header, &bold)?;
    }
    for (i, (completion, user)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let (email, name) = match user {
            Some(u) => (
                u.email_str().to_owned(),
                format!("{} {}", u.first_name, u.last_name),
            ),
            None => (
                format!("(deleted user {})", completion.user_id),
                String::new(),
            ),
        };
        sheet.write_string(row, 0, email)?;
        sheet.write_string(row, 1, name)?;
        sheet.write_string(row, 2, completion.groups.join(", "))?;
        sheet.write_number(row, 3, completion.score)?;
        sheet.write_number(row, 4, completion.max_score)?;
        if let Some(started_at) = completion.started_at {
            sheet.write_string(row, 5, timestamp(started_at))?;
        }
        sheet.write_string(row, 6, timestamp(completion.submitted_at))?;
        for (offset, (question_id, _)) in columns.iter().enumerate() {
            if let Some(answer) = completion
                .answers
                .iter()
                .find(|a| a.question.id == *question_id)
            {
                sheet.write_number(row, (FIXED_COLUMNS.len() + offset) as u16, answer.points)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    workbook.save_to_buffer()
}

/// An exported workbook: its file name and bytes.
pub struct Export {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The workbook of a test the caller manages (built off the async workers).
pub async fn export(store: &Store, me: &User, test_id: i64) -> Result<Export, ApiError> {
    let test = managed_test(store, me, test_id).await?;
    let rows = all_with_students(store, test.id).await?;
    let file_name = format!("test-{}-completions.xlsx", test.id);
    let bytes = tokio::task::spawn_blocking(move || workbook(&test, &rows))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(Export { file_name, bytes })
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn question_text_loses_its_markup() {
        assert_eq!(
            plain_text(r#"<p><span class="ql-size-huge">Вопрос 1</span></p>"#),
            "Вопрос 1"
        );
        assert_eq!(
            plain_text("<p>Is 2 &lt; 3 &amp;&nbsp;true?</p><p><br></p><p>Say</p>"),
            "Is 2 < 3 & true? Say"
        );
        assert_eq!(plain_text("Plain text"), "Plain text");
    }
}
