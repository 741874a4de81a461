//! GIFT, Moodle's plain-text question format: questions separated by blank lines, each a
//! text with an answer block in braces.
//!
//! | GIFT | TestIT |
//! | --- | --- |
//! | `{T}`, `{TRUE}`, `{F}`, `{FALSE}` | `radio` "True" / "False" |
//! | `{=right ~wrong ~wrong}` | `radio` |
//! | `{~%50%a ~%50%b ~%-100%c}` (weights) | `check`: positive weights correct; `strict_score` when a wrong answer weighs −100 |
//! | `{=a =b}` (only `=`) | `text` with the accepted answers |
//! | text before and after the braces | one text, the blank shown as `_____` |
//! | `$CATEGORY:` | names the test (its last segment), when the request gives no name |
//!
//! Numerical (`{#…}`), matching (`->`), essay (`{}`) and descriptions (no braces) are
//! reported as skipped. Feedback (`#…` after an answer) is dropped, with a note.

use serde_json::{json, Value};

use super::imported::{Imported, Note};

/// The characters a backslash escapes.
const ESCAPABLE: &[char] = &['~', '=', '#', '{', '}', ':', '\\'];

/// A block of lines: one question, with the line it starts on.
struct Block {
    line: usize,
    text: String,
}

/// Reads a GIFT file. `Err`: why the file cannot be read at all (naming the line).
pub fn read(source: &str) -> Result<Imported, String> {
    let source = source.trim_start_matches('\u{feff}');
    let mut imported = Imported::default();
    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    let mut depth = 0usize;
    for (index, line) in source.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if depth == 0 && trimmed.starts_with("//") {
            continue;
        }
        if depth == 0 && trimmed.starts_with("$CATEGORY:") {
            if imported.name.is_none() {
                imported.name = trimmed["$CATEGORY:".len()..]
                    .rsplit('/')
                    .map(str::trim)
                    .find(|s| !s.is_empty() && !s.starts_with('$') && *s != "top")
                    .map(str::to_owned);
            }
            continue;
        }
        if trimmed.is_empty() && depth == 0 {
            blocks.extend(current.take());
            continue;
        }
        depth = braces_after(depth, line).map_err(|why| format!("line {number}: {why}"))?;
        let block = current.get_or_insert_with(|| Block {
            line: number,
            text: String::new(),
        });
        if !block.text.is_empty() {
            block.text.push('\n');
        }
        block.text.push_str(line);
    }
    if depth > 0 {
        let line = current.as_ref().map_or(1, |b| b.line);
        return Err(format!(
            "line {line}: an answer block opened here is never closed with }}."
        ));
    }
    blocks.extend(current.take());
    for (index, block) in blocks.iter().enumerate() {
        let (name, kind, result) = question(&block.text);
        let mut notes = Vec::new();
        let note = |reason: String| Note {
            question: index + 1,
            name: name.clone(),
            kind: kind.to_owned(),
            line: block.line,
            reason,
        };
        match result {
            Ok((body, why)) => {
                notes.extend(why.into_iter().map(note));
                imported.questions.push(body);
                imported.origins.push(note(String::new()));
                imported.notes.extend(notes);
            }
            Err(reason) => imported.skipped.push(note(reason)),
        }
    }
    Ok(imported)
}

/// The brace depth after a line, counting unescaped braces; nested braces are an error.
fn braces_after(mut depth: usize, line: &str) -> Result<usize, String> {
    let mut escaped = false;
    for c in line.chars() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '{') if depth > 0 => {
                return Err("an answer block cannot hold another {.".into())
            }
            (false, '{') => depth += 1,
            (false, '}') if depth == 0 => return Err("} closes no answer block.".into()),
            (false, '}') => depth -= 1,
            _ => {}
        }
    }
    Ok(depth)
}

/// Splits at unescaped occurrences of any of `marks`, keeping each mark with what follows.
fn split_unescaped(text: &str, marks: &[char]) -> Vec<(Option<char>, String)> {
    let mut parts = vec![(None, String::new())];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let last = parts.last_mut().map(|p| &mut p.1);
            if let Some(part) = last {
                part.push('\\');
                if let Some(next) = chars.next() {
                    part.push(next);
                }
            }
        } else if marks.contains(&c) {
            parts.push((Some(c), String::new()));
        } else if let Some(part) = parts.last_mut() {
            part.1.push(c);
        }
    }
    parts
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some('n')) => {
                chars.next();
                out.push('\n');
            }
            ('\\', Some(next)) if ESCAPABLE.contains(&next) => {
                chars.next();
                out.push(next);
            }
            _ => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// The first unescaped `{…}`: before, inside, after.
fn answer_block(text: &str) -> Option<(&str, &str, &str)> {
    let mut escaped = false;
    let mut open = None;
    for (i, c) in text.char_indices() {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '{') => open = Some(i),
            (false, '}') => {
                let start = open?;
                return Some((&text[..start], &text[start + 1..i], &text[i + 1..]));
            }
            _ => {}
        }
    }
    None
}

type Parsed = Result<(Value, Vec<String>), String>;

/// One question block: its title, its GIFT kind, and the question (or why it is skipped).
fn question(block: &str) -> (String, &'static str, Parsed) {
    let mut rest = block.trim();
    let mut name = String::new();
    if let Some(after) = rest.strip_prefix("::") {
        if let Some(end) = after.find("::") {
            name = unescape(&after[..end]);
            rest = after[end + 2..].trim_start();
        }
    }
    // A format marker ([html], [plain], [markdown], [moodle]) before the text.
    let mut html = false;
    if let Some(after) = rest.strip_prefix('[') {
        if let Some(end) = after.find(']') {
            html = &after[..end] == "html";
            rest = &after[end + 1..];
        }
    }
    let Some((before, inside, after)) = answer_block(rest) else {
        return (
            name,
            "description",
            Err("A description (no answer block) is not a question.".into()),
        );
    };
    let before = unescape(before);
    let after = unescape(after);
    let text = if after.is_empty() {
        before
    } else {
        format!("{before} _____ {after}")
    };
    let text = if html { text } else { text.replace('\n', " ") };
    let inside = inside.trim();
    let truefalse = inside.split('#').next().unwrap_or("").trim();
    let mut notes = Vec::new();
    if inside.is_empty() {
        return (
            name,
            "essay",
            Err("Essay questions are not supported.".into()),
        );
    }
    if inside.starts_with('#') {
        return (
            name,
            "numerical",
            Err("Numerical questions are not supported.".into()),
        );
    }
    if let Some(right) = match truefalse {
        "T" | "TRUE" => Some(true),
        "F" | "FALSE" => Some(false),
        _ => None,
    } {
        let body = json!({"variants": [{"text": "True", "is_correct": right},
                                       {"text": "False", "is_correct": !right}]});
        return (
            name,
            "truefalse",
            Ok((
                json!({"text": text, "type": "radio", "points": 1, "body": body}),
                notes,
            )),
        );
    }
    if split_unescaped(inside, &['-'])
        .iter()
        .any(|(_, part)| part.starts_with('>'))
    {
        return (
            name,
            "matching",
            Err("Matching questions are not supported.".into()),
        );
    }
    let mut answers = Vec::new(); // (mark, weight, text)
    let mut feedback = false;
    for (mark, part) in split_unescaped(inside, &['=', '~']) {
        let Some(mark) = mark else {
            if !part.trim().is_empty() {
                return (
                    name,
                    "unknown",
                    Err(format!("Text before the first answer: {:?}.", part.trim())),
                );
            }
            continue;
        };
        let mut part = part.as_str().trim_start();
        let mut weight = None;
        if let Some(after) = part.strip_prefix('%') {
            if let Some(end) = after.find('%') {
                weight = after[..end].trim().parse::<f64>().ok();
                part = &after[end + 1..];
            }
        }
        let pieces = split_unescaped(part, &['#']);
        feedback |= pieces.len() > 1;
        answers.push((mark, weight, unescape(&pieces[0].1)));
    }
    if feedback {
        notes.push("Feedback is not kept.".to_owned());
    }
    if answers.is_empty() {
        return (
            name,
            "unknown",
            Err("The answer block holds no answer.".into()),
        );
    }
    let weighted = answers.iter().any(|(_, w, _)| w.is_some());
    let rights = answers.iter().filter(|(m, _, _)| *m == '=').count();
    let (kind, gift_kind, body) = if answers.iter().all(|(m, _, _)| *m == '=') {
        let variants: Vec<Value> = answers
            .iter()
            .map(|(_, w, text)| {
                let right = w.is_none_or(|w| w >= 100.0);
                if !right {
                    notes.push(format!(
                        "The answer {text:?} gave partial credit; it counts as wrong."
                    ));
                }
                json!({"text": text, "is_correct": right})
            })
            .collect();
        ("text", "shortanswer", json!({"variants": variants}))
    } else if weighted {
        let variants: Vec<Value> = answers
            .iter()
            .map(|(m, w, text)| json!({"text": text, "is_correct": *m == '=' || w.is_some_and(|w| w > 0.0)}))
            .collect();
        let strict = answers
            .iter()
            .any(|(_, w, _)| w.is_some_and(|w| w <= -100.0));
        (
            "check",
            "multichoice",
            json!({"variants": variants, "strict_score": strict}),
        )
    } else if rights == 1 {
        let variants: Vec<Value> = answers
            .iter()
            .map(|(m, _, text)| json!({"text": text, "is_correct": *m == '='}))
            .collect();
        ("radio", "multichoice", json!({"variants": variants}))
    } else {
        return (
            name,
            "multichoice",
            Err("A multiple-choice question needs exactly one = answer, or weights.".into()),
        );
    };
    (
        name,
        gift_kind,
        Ok((
            json!({"text": text, "type": kind, "points": 1, "body": body}),
            notes,
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinds_of_gift_questions_map_to_testit_kinds() {
        let source = "// a comment\n$CATEGORY: $course$/Geography\n\n::Q1:: Capital of France? {=Paris ~Lyon ~Nice}\n\n\
            Grant is buried in Grant's tomb.{F}\n\n\
            Which are primes? {\n~%50%2\n~%50%3\n~%-100%4\n}\n\n\
            Two plus two is {=four =4}.\n\n\
            How many? {#2:1}\n";
        let imported = read(source).unwrap();
        assert_eq!(imported.name.as_deref(), Some("Geography"));
        let kinds: Vec<&str> = imported
            .questions
            .iter()
            .map(|q| q["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["radio", "radio", "check", "text"]);
        assert_eq!(imported.questions[0]["text"], "Capital of France?");
        assert_eq!(
            imported.questions[1]["body"]["variants"][1]["is_correct"],
            true
        );
        assert_eq!(imported.questions[2]["body"]["strict_score"], true);
        assert_eq!(imported.questions[3]["text"], "Two plus two is _____ .");
        assert_eq!(imported.skipped.len(), 1);
        assert_eq!(
            (imported.skipped[0].line, imported.skipped[0].kind.as_str()),
            (16, "numerical")
        );
    }

    #[test]
    fn escapes_are_read_and_an_unclosed_block_names_its_line() {
        let imported = read("What is 1\\=1? {=yes \\{really\\} ~no}").unwrap();
        assert_eq!(imported.questions[0]["text"], "What is 1=1?");
        assert_eq!(
            imported.questions[0]["body"]["variants"][0]["text"],
            "yes {really}"
        );
        let err = read("Fine {T}\n\nBroken {=a\n~b\n").err().unwrap();
        assert!(err.starts_with("line 3:"), "{err}");
    }
}
