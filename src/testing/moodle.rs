//! Moodle XML (the "Moodle XML format" of Moodle's question bank): reading questions into
//! a test body, and writing a test back out so that reading it gives the same test.
//!
//! Mapping, question by question (anything else is reported as skipped, with why):
//!
//! | Moodle | TestIT |
//! | --- | --- |
//! | `multichoice`, `<single>true` | `radio`: the answer(s) with fraction 100 correct |
//! | `multichoice`, `<single>false` | `check`: answers with a positive fraction correct; `strict_score` when a wrong answer costs the whole question (fraction −100) |
//! | `truefalse` | `radio` with the two answers |
//! | `shortanswer` | `text`: answers with fraction 100 are the accepted ones |
//! | `coderunner` | `code`: see [`code_question`] |
//! | `category` | names the test (its last path segment), when the request gives no name |
//!
//! Safety: a `<!DOCTYPE>` is refused (so no entity is ever declared, let alone expanded);
//! only XML's predefined entities and character references are read; depth, element count
//! and size are capped; a parse error is a 400 naming the line.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{json, Value};

use super::imported::{Imported, Note};
use crate::store::{Language, Question, QuestionKind, Test};

/// Elements nested deeper are refused (questions are four or five levels deep).
const MAX_DEPTH: usize = 32;
/// Elements in one file.
const MAX_ELEMENTS: usize = 200_000;

/// An element: its name, attributes, text (every text and CDATA child, joined) and children.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
    line: usize,
}

impl Element {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of `<name><text>…</text></name>`, the usual Moodle shape.
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .and_then(|c| c.child("text"))
            .map(|t| t.text.clone())
    }

    /// The trimmed text of a plain child, e.g. `<single>true</single>`.
    fn value_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_owned())
    }
}

fn line_at(source: &str, offset: u64) -> usize {
    let end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(source.len());
    source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses the file into its root element; `Err`: the problem, naming the line.
fn parse(source: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(source);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = vec![Element::default()];
    let mut elements = 0usize;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| {
            format!(
                "line {}: not well-formed XML: {e}",
                line_at(source, reader.error_position())
            )
        })?;
        let line = line_at(source, at);
        match event {
            Event::DocType(_) => {
                return Err(format!(
                    "line {line}: a DOCTYPE is not accepted (entities are never expanded)."
                ))
            }
            Event::Start(start) => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() > MAX_DEPTH {
                    return Err(format!(
                        "line {line}: the file has too many or too deeply nested elements."
                    ));
                }
                stack.push(open(&start, line)?);
            }
            Event::Empty(start) => {
                elements += 1;
                let element = open(&start, line)?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(element);
                }
            }
            Event::End(_) => {
                let element = stack
                    .pop()
                    .ok_or_else(|| format!("line {line}: unexpected end tag."))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Err(format!("line {line}: unexpected end tag.")),
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                let data: &str = &data;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(data);
                }
            }
            Event::GeneralRef(reference) => {
                let name: &str = &reference.xml10_content();
                let reference = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&reference).map_err(|_| {
                    format!("line {line}: the entity &{name}; is not one of XML's own (entities are never expanded).")
                })?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if stack.len() != 1 {
        let open = stack
            .last()
            .map(|e| (e.name.clone(), e.line))
            .unwrap_or_default();
        return Err(format!("line {}: <{}> is never closed.", open.1, open.0));
    }
    let document = stack.pop().unwrap_or_default();
    document
        .children
        .into_iter()
        .next()
        .ok_or_else(|| "line 1: the file holds no XML element.".to_owned())
}

fn open(start: &quick_xml::events::BytesStart, line: usize) -> Result<Element, String> {
    let name = start.name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|e| format!("line {line}: bad attribute in <{name}>: {e}"))?;
        let key = attribute.key.as_ref().to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("line {line}: bad attribute {key} of <{name}>: {e}"))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        line,
        ..Element::default()
    })
}

/// Reads a Moodle XML file. `Err`: why the file cannot be read at all (naming the line).
pub fn read(source: &str) -> Result<Imported, String> {
    let root = parse(source)?;
    if root.name != "quiz" {
        return Err(format!(
            "line {}: the root element is <{}>, not <quiz>.",
            root.line, root.name
        ));
    }
    let mut imported = Imported::default();
    for (index, element) in root.children("question").enumerate() {
        let position = index + 1;
        let kind = element.attribute("type").unwrap_or("").to_owned();
        let name = element
            .text_of("name")
            .unwrap_or_default()
            .trim()
            .to_owned();
        if kind == "category" {
            if imported.name.is_none() {
                let path = element.text_of("category").unwrap_or_default();
                imported.name = path
                    .rsplit('/')
                    .map(str::trim)
                    .find(|s| !s.is_empty() && !s.starts_with('$') && *s != "top")
                    .map(str::to_owned);
            }
            continue;
        }
        let mut notes = Vec::new();
        match question(element, &kind, &mut notes) {
            Ok(body) => {
                for reason in notes {
                    imported.notes.push(Note {
                        question: position,
                        name: name.clone(),
                        kind: kind.clone(),
                        line: element.line,
                        reason,
                    });
                }
                imported.questions.push(body);
                imported.origins.push(Note {
                    question: position,
                    name,
                    kind,
                    line: element.line,
                    reason: String::new(),
                });
            }
            Err(reason) => imported.skipped.push(Note {
                question: position,
                name,
                kind,
                line: element.line,
                reason,
            }),
        }
    }
    Ok(imported)
}

fn fraction(answer: &Element) -> f64 {
    answer
        .attribute("fraction")
        .and_then(|f| f.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// An answer's text: HTML answers of choice questions become plain text (students pick
/// them; tags would show).
fn answer_text(answer: &Element) -> String {
    let text = answer
        .child("text")
        .map(|t| t.text.clone())
        .unwrap_or_default();
    match answer.attribute("format") {
        Some("html") => super::export::plain_text(&text),
        _ => text.trim().to_owned(),
    }
}

fn points(element: &Element, notes: &mut Vec<String>) -> i64 {
    let grade = element
        .value_of("defaultgrade")
        .and_then(|g| g.parse::<f64>().ok())
        .unwrap_or(1.0);
    let whole = grade.round().clamp(0.0, super::authoring::MAX_SMALL as f64);
    if (whole - grade).abs() > 1e-9 {
        notes.push(format!(
            "Points {grade} rounded to {whole} (points are whole numbers)."
        ));
    }
    whole as i64
}

fn question(element: &Element, kind: &str, notes: &mut Vec<String>) -> Result<Value, String> {
    let text = element.text_of("questiontext").unwrap_or_default();
    let points = points(element, notes);
    let answers: Vec<&Element> = element.children("answer").collect();
    let variant =
        |a: &Element, correct: bool| json!({"text": answer_text(a), "is_correct": correct});
    let (kind, body) = match kind {
        "multichoice" => {
            let single = element
                .value_of("single")
                .is_none_or(|s| matches!(s.as_str(), "true" | "1"));
            if single {
                let partial = answers
                    .iter()
                    .filter(|a| (0.0..100.0).contains(&fraction(a)) && fraction(a) > 0.0)
                    .count();
                if partial > 0 {
                    notes.push(format!("{partial} answer(s) with partial credit count as wrong (a radio question has one right answer)."));
                }
                let variants: Vec<Value> = answers
                    .iter()
                    .map(|a| variant(a, fraction(a) >= 100.0 - 1e-6))
                    .collect();
                ("radio", json!({"variants": variants}))
            } else {
                let strict = answers.iter().any(|a| fraction(a) <= -100.0 + 1e-6);
                let variants: Vec<Value> = answers
                    .iter()
                    .map(|a| variant(a, fraction(a) > 0.0))
                    .collect();
                (
                    "check",
                    json!({"variants": variants, "strict_score": strict}),
                )
            }
        }
        "truefalse" => {
            let variants: Vec<Value> = answers
                .iter()
                .map(|a| variant(a, fraction(a) >= 100.0 - 1e-6))
                .collect();
            ("radio", json!({"variants": variants}))
        }
        "shortanswer" => {
            if element.value_of("usecase").is_some_and(|u| u == "1") {
                notes.push("Answers are compared ignoring case (usecase is not kept).".to_owned());
            }
            let mut variants = Vec::new();
            for a in &answers {
                let text = answer_text(a);
                if text.contains('*') {
                    notes.push(format!(
                        "The answer {text:?} uses a wildcard, which is compared literally."
                    ));
                }
                let f = fraction(a);
                if f > 0.0 && f < 100.0 {
                    notes.push(format!(
                        "The answer {text:?} gave partial credit; it counts as wrong."
                    ));
                }
                variants.push(json!({"text": text, "is_correct": f >= 100.0 - 1e-6}));
            }
            ("text", json!({"variants": variants}))
        }
        "coderunner" => return code_question(element, text, points),
        "" => return Err("The question has no type.".to_owned()),
        other => return Err(format!("Questions of type {other} are not supported.")),
    };
    Ok(json!({"text": text, "type": kind, "points": points, "body": body}))
}

/// A CodeRunner question: `language` from `<coderunnertype>` (python3, c_program,
/// cpp_program, nodejs) and `test_cases` from `<testcase>` (stdin, expected output, mark as
/// points; hidden unless shown as an example and not marked `HIDE`). One this server
/// exported also carries its Python `testing_code` in `<testit_testing_code>` (CodeRunner
/// ignores it), so it reads back as it was.
fn code_question(element: &Element, text: String, points: i64) -> Result<Value, String> {
    let strict = element.value_of("allornothing").is_none_or(|v| v != "0");
    let runner = element.value_of("coderunnertype").unwrap_or_default();
    let language = match runner.as_str() {
        "python3" | "python3_w_input" => "python",
        "c_program" | "c_function" => "c",
        "cpp_program" | "cpp_function" => "cpp",
        "nodejs" => "javascript",
        other => return Err(format!("CodeRunner type {other:?} has no language here.")),
    };
    let cases: Vec<Value> = element
        .child("testcases")
        .map(|t| t.children("testcase").collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|case| {
            let mark = case
                .attribute("mark")
                .and_then(|m| m.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            let shown = case.attribute("useasexample") == Some("1")
                && case.text_of("display").is_none_or(|d| d.trim() != "HIDE");
            json!({
                "stdin": case.text_of("stdin").unwrap_or_default(),
                "expected_output": case.text_of("expected").unwrap_or_default(),
                "points": (mark.round() as i64).max(1),
                "hidden": !shown,
            })
        })
        .collect();
    let testing_code = element
        .child("testit_testing_code")
        .map(|code| code.text.clone())
        .filter(|code| !code.trim().is_empty());
    if cases.is_empty() && testing_code.is_none() {
        return Err("The CodeRunner question has no test cases.".to_owned());
    }
    let mut body = json!({"language": language, "strict_score": strict});
    if !cases.is_empty() {
        body["test_cases"] = Value::Array(cases);
    }
    if let Some(code) = testing_code {
        body["testing_code"] = Value::String(code);
    }
    Ok(json!({"text": text, "type": "code", "points": points, "body": body}))
}

// ---------------------------------------------------------------------------------------
// Writing.

struct Out(String);

impl Out {
    fn open(&mut self, tag: &str) {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
    }
    fn close(&mut self, tag: &str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push_str(">\n");
    }
    fn value(&mut self, tag: &str, value: &str) {
        self.open(tag);
        self.0.push_str(&quick_xml::escape::escape(value));
        self.close(tag);
    }
    /// `<tag format="…"><text>…</text></tag>`.
    fn text(&mut self, tag: &str, format: &str, value: &str) {
        self.0
            .push_str(&format!("<{tag} format=\"{format}\"><text>"));
        self.0.push_str(&quick_xml::escape::escape(value));
        self.0.push_str("</text>");
        self.close(tag);
    }
    fn answer(&mut self, fraction: &str, text: &str) {
        self.0.push_str(&format!(
            "<answer fraction=\"{fraction}\" format=\"plain_text\"><text>"
        ));
        self.0.push_str(&quick_xml::escape::escape(text));
        self.0.push_str("</text>");
        self.close("answer");
    }
}

/// A fraction as Moodle writes them (at most seven decimals).
fn percent(value: f64) -> String {
    let text = format!("{value:.7}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The test as Moodle XML: a category naming it, then its questions in order.
pub fn write(test: &Test) -> String {
    let mut out = Out(String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n",
    ));
    out.0.push_str("<question type=\"category\">");
    out.text(
        "category",
        "moodle_auto_format",
        &format!("$course$/top/{}", test.name.replace('/', "//")),
    );
    out.close("question");
    for q in &test.questions {
        write_question(&mut out, q);
    }
    out.0.push_str("</quiz>\n");
    out.0
}

fn write_question(out: &mut Out, q: &Question) {
    let kind = match q.kind {
        QuestionKind::Radio | QuestionKind::Check => "multichoice",
        QuestionKind::Text => "shortanswer",
        QuestionKind::Code => "coderunner",
    };
    out.0.push_str(&format!("<question type=\"{kind}\">\n"));
    let name: String = super::export::plain_text(&q.text)
        .chars()
        .take(80)
        .collect();
    out.text(
        "name",
        "plain_text",
        if name.is_empty() { "Question" } else { &name },
    );
    out.text("questiontext", "html", &q.text);
    out.value("defaultgrade", &q.points.to_string());
    match q.kind {
        QuestionKind::Radio => {
            out.value("single", "true");
            for v in &q.variants {
                out.answer(if v.is_correct { "100" } else { "0" }, &v.text);
            }
        }
        QuestionKind::Check => {
            out.value("single", "false");
            let correct = q.variants.iter().filter(|v| v.is_correct).count().max(1);
            let share = percent(100.0 / correct as f64);
            // Strict: any wrong pick costs the whole question; else one right pick's worth.
            let wrong = if q.strict_score {
                "-100".to_owned()
            } else {
                format!("-{share}")
            };
            for v in &q.variants {
                out.answer(if v.is_correct { &share } else { &wrong }, &v.text);
            }
        }
        QuestionKind::Text => {
            out.value("usecase", "0");
            for v in &q.variants {
                out.answer(if v.is_correct { "100" } else { "0" }, &v.text);
            }
        }
        QuestionKind::Code => {
            let runner = match q.language {
                Language::Python => "python3",
                Language::C => "c_program",
                Language::Cpp => "cpp_program",
                Language::Javascript => "nodejs",
            };
            out.value("coderunnertype", runner);
            out.value("allornothing", if q.strict_score { "1" } else { "0" });
            if let Some(code) = q.testing_code.as_deref() {
                out.value("testit_testing_code", code);
            }
            if !q.test_cases.is_empty() {
                out.open("testcases");
                for case in &q.test_cases {
                    let shown = if case.hidden { "0" } else { "1" };
                    out.0.push_str(&format!(
                        "<testcase testtype=\"0\" useasexample=\"{shown}\" hiderestiffail=\"0\" mark=\"{}\">",
                        case.points
                    ));
                    out.text("testcode", "plain_text", "");
                    out.text("stdin", "plain_text", &case.stdin);
                    out.text("expected", "plain_text", &case.expected_output);
                    out.text("extra", "plain_text", "");
                    out.text(
                        "display",
                        "plain_text",
                        if case.hidden { "HIDE" } else { "SHOW" },
                    );
                    out.close("testcase");
                }
                out.close("testcases");
            }
        }
    }
    out.close("question");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_read() {
        let laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\n<quiz>&lol2;</quiz>";
        let err = read(laughs).unwrap_err();
        assert!(
            err.starts_with("line 2:") && err.contains("DOCTYPE"),
            "{err}"
        );
    }

    #[test]
    fn an_undeclared_entity_is_refused_naming_its_line() {
        let err = read("<quiz>\n<question type=\"truefalse\">&foo;</question></quiz>").unwrap_err();
        assert!(err.starts_with("line 2:") && err.contains("&foo;"), "{err}");
    }

    #[test]
    fn a_broken_file_names_the_line() {
        let err = read("<quiz>\n<question>\n<name></question>\n</quiz>").unwrap_err();
        assert!(err.starts_with("line 3:"), "{err}");
    }

    #[test]
    fn fractions_print_as_moodle_writes_them() {
        assert_eq!(percent(100.0 / 3.0), "33.3333333");
        assert_eq!(percent(50.0), "50");
    }
}
