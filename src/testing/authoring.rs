//! Writing tests: reading a test body (questions of four kinds, limits, groups), checking
//! testing code in the sandbox as the teacher saves, keeping ids stable across edits, and
//! the rules of creating, changing, sharing and deleting tests.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::access::{managed_test, owns_organization, require_teacher};
use super::grading::Grading;
use crate::domain::input::{missing_pk, Input, REQUIRED};
use crate::domain::Name;
use crate::error::ApiError;
use crate::store::{
    FieldPath, Filter, GroupWindow, Language, Question, QuestionKind, Store, StoreError, Test,
    TestCase, User, Variant,
};

/// `number_in_test` and `points` lie in `0..=MAX_SMALL` (a Django `PositiveSmallIntegerField`).
pub const MAX_SMALL: i64 = 32767;
pub const MAX_QUESTIONS: usize = 500;
pub const MAX_VARIANTS: usize = 100;
pub const MAX_TEXT_CHARS: usize = 10_000;
const MAX_CODE_CHARS: usize = 64 * 1024;
/// Test cases of one code question.
pub const MAX_TEST_CASES: usize = 50;
const DEFAULT_POINTS: i64 = 1;

/// A new unguessable link secret: 122 random bits from the OS RNG, formatted as a UUID v4.
pub fn new_public_uuid() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::domain::text::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

// ---------------------------------------------------------------------------------------
// Reading a test body.

struct DraftVariant {
    id: Option<i64>,
    text: String,
    is_correct: bool,
}

struct DraftQuestion {
    id: Option<i64>,
    text: String,
    kind: QuestionKind,
    number_in_test: i64,
    points: i64,
    variants: Vec<DraftVariant>,
    testing_code: Option<String>,
    strict_score: bool,
    language: Language,
    test_cases: Vec<TestCase>,
}

fn small_int(input: &mut Input, key: &str, value: Option<&Value>, default: i64) -> i64 {
    let parsed = match value {
        None | Some(Value::Null) => return default,
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match parsed {
        Some(n) if (0..=MAX_SMALL).contains(&n) => n,
        Some(_) => {
            input.error(
                key,
                format!("Ensure this value is between 0 and {MAX_SMALL}."),
            );
            default
        }
        None => {
            input.error(key, "A valid integer is required.");
            default
        }
    }
}

fn text_field(input: &mut Input, key: &str, value: Option<&Value>, max: usize) -> String {
    match value {
        None | Some(Value::Null) => {
            input.error(key, REQUIRED);
            String::new()
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            input.error(key, "This field may not be blank.");
            String::new()
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            input.error(
                key,
                format!("Ensure this field has no more than {max} characters."),
            );
            String::new()
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            input.error(key, "Not a valid string.");
            String::new()
        }
    }
}

fn optional_id(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64)
}

fn parse_variant(input: &mut Input, key: &str, value: &Value) -> Option<DraftVariant> {
    let Some(object) = value.as_object() else {
        input.error(key, "Expected an object with text and is_correct.");
        return None;
    };
    let text = text_field(
        input,
        &format!("{key}.text"),
        object.get("text"),
        MAX_TEXT_CHARS,
    );
    let is_correct = match object.get("is_correct") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => {
            input.error(
                &format!("{key}.is_correct"),
                "This field is required: say whether the variant is correct.",
            );
            false
        }
        Some(_) => {
            input.error(&format!("{key}.is_correct"), "Must be a valid boolean.");
            false
        }
    };
    Some(DraftVariant {
        id: optional_id(object.get("id")),
        text: text.trim().to_owned(),
        is_correct,
    })
}

fn parse_kind(input: &mut Input, key: &str, value: Option<&Value>) -> Option<QuestionKind> {
    let kind = match value.and_then(Value::as_str) {
        Some("text") => QuestionKind::Text,
        Some("radio") => QuestionKind::Radio,
        Some("check") => QuestionKind::Check,
        Some("code") => QuestionKind::Code,
        Some(other) => {
            input.error(key, format!("\"{other}\" is not a valid choice."));
            return None;
        }
        None if value.is_none() => {
            input.error(key, REQUIRED);
            return None;
        }
        None => {
            input.error(key, "Expected one of text, radio, check, code.");
            return None;
        }
    };
    Some(kind)
}

/// Checks a question's variants against its kind's rules.
fn check_variants(input: &mut Input, key: &str, kind: QuestionKind, variants: &[DraftVariant]) {
    let correct = variants.iter().filter(|v| v.is_correct).count();
    match kind {
        QuestionKind::Radio if correct != 1 => {
            input.error(key, "A radio question needs exactly one correct variant.");
        }
        QuestionKind::Text | QuestionKind::Check if correct == 0 => {
            input.error(
                key,
                format!(
                    "A {} question needs at least one correct variant.",
                    kind.as_str()
                ),
            );
        }
        _ => {}
    }
    if matches!(kind, QuestionKind::Radio | QuestionKind::Check) {
        let mut seen = BTreeSet::new();
        if variants.iter().any(|v| !seen.insert(v.text.as_str())) {
            input.error(key, "Variants of a question must have distinct texts.");
        }
    }
}

fn parse_question(
    input: &mut Input,
    key: &str,
    position: usize,
    value: &Value,
) -> Option<DraftQuestion> {
    let Some(object) = value.as_object() else {
        input.error(key, "Expected a question object.");
        return None;
    };
    let text = text_field(
        input,
        &format!("{key}.text"),
        object.get("text"),
        MAX_TEXT_CHARS,
    );
    let kind = parse_kind(input, &format!("{key}.type"), object.get("type"));
    let points = small_int(
        input,
        &format!("{key}.points"),
        object.get("points"),
        DEFAULT_POINTS,
    );
    let number_default = i64::try_from(position + 1).unwrap_or(MAX_SMALL);
    let number_in_test = small_int(
        input,
        &format!("{key}.number_in_test"),
        object.get("number_in_test"),
        number_default,
    );
    let empty = Map::new();
    let body = match object.get("body") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(body)) => body,
        Some(_) => {
            input.error(&format!("{key}.body"), "Expected an object.");
            &empty
        }
    };
    let strict_score = match body.get("strict_score") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            input.error(
                &format!("{key}.body.strict_score"),
                "Must be a valid boolean.",
            );
            true
        }
    };
    let kind = kind?;
    let variants_key = format!("{key}.body.variants");
    let (mut language, mut test_cases) = (Language::default(), Vec::new());
    let (variants, testing_code) = if kind == QuestionKind::Code {
        language = parse_language(input, &format!("{key}.body.language"), body.get("language"));
        test_cases = parse_test_cases(input, &format!("{key}.body.test_cases"), body);
        let code_key = format!("{key}.body.testing_code");
        let testing_code = match body.get("testing_code") {
            // Test cases alone check an answer; testing code is Python's own.
            None | Some(Value::Null) if !test_cases.is_empty() => None,
            Some(Value::String(code)) if code.trim().is_empty() && !test_cases.is_empty() => None,
            value if language != Language::Python => {
                if value.is_some_and(|v| !v.is_null()) {
                    input.error(
                        &code_key,
                        "Only Python questions have testing code; check other languages with test_cases.",
                    );
                } else {
                    input.error(
                        &format!("{key}.body.test_cases"),
                        format!(
                            "A {} question needs at least one test case.",
                            language.as_str()
                        ),
                    );
                }
                None
            }
            value => Some(text_field(input, &code_key, value, MAX_CODE_CHARS)),
        };
        (Vec::new(), testing_code)
    } else {
        let items = match body.get("variants") {
            Some(Value::Array(items)) => items.as_slice(),
            None | Some(Value::Null) => &[],
            Some(_) => {
                input.error(&variants_key, "Expected a list of variants.");
                &[]
            }
        };
        if items.len() > MAX_VARIANTS {
            input.error(
                &variants_key,
                format!("A question has at most {MAX_VARIANTS} variants."),
            );
        }
        let variants: Vec<DraftVariant> = items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| parse_variant(input, &format!("{variants_key}[{i}]"), v))
            .collect();
        check_variants(input, &variants_key, kind, &variants);
        (variants, None)
    };
    Some(DraftQuestion {
        id: optional_id(object.get("id")),
        text: text.trim().to_owned(),
        kind,
        number_in_test,
        points,
        variants,
        testing_code,
        strict_score,
        language,
        test_cases,
    })
}

fn parse_language(input: &mut Input, key: &str, value: Option<&Value>) -> Language {
    match value {
        None | Some(Value::Null) => Language::default(),
        Some(Value::String(name)) => Language::parse(name).unwrap_or_else(|| {
            input.error(
                key,
                format!("\"{name}\" is not a valid choice: python, javascript, c or cpp."),
            );
            Language::default()
        }),
        Some(_) => {
            input.error(key, "Expected one of python, javascript, c, cpp.");
            Language::default()
        }
    }
}

/// A test case's text field: a string (empty allowed) of at most `MAX_CODE_CHARS`.
fn case_text(input: &mut Input, key: &str, value: Option<&Value>, required: bool) -> String {
    match value {
        None | Some(Value::Null) if required => {
            input.error(key, REQUIRED);
            String::new()
        }
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.chars().count() > MAX_CODE_CHARS => {
            input.error(
                key,
                format!("Ensure this field has no more than {MAX_CODE_CHARS} characters."),
            );
            String::new()
        }
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            input.error(key, "Not a valid string.");
            String::new()
        }
    }
}

/// Reads `body.test_cases`: `[{stdin, expected_output, points, hidden}]`.
fn parse_test_cases(input: &mut Input, key: &str, body: &Map<String, Value>) -> Vec<TestCase> {
    let items = match body.get("test_cases") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            input.error(key, "Expected a list of test cases.");
            return Vec::new();
        }
    };
    if items.len() > MAX_TEST_CASES {
        input.error(
            key,
            format!("A question has at most {MAX_TEST_CASES} test cases."),
        );
        return Vec::new();
    }
    let mut cases = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let Some(case) = item.as_object() else {
            input.error(&key, "Expected an object with stdin and expected_output.");
            continue;
        };
        let stdin = case_text(input, &format!("{key}.stdin"), case.get("stdin"), false);
        let expected_output = case_text(
            input,
            &format!("{key}.expected_output"),
            case.get("expected_output"),
            true,
        );
        let points = small_int(input, &format!("{key}.points"), case.get("points"), 1);
        let hidden = match case.get("hidden") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                input.error(&format!("{key}.hidden"), "Must be a valid boolean.");
                false
            }
        };
        cases.push(TestCase {
            stdin,
            expected_output,
            points,
            hidden,
        });
    }
    if !cases.is_empty() && cases.iter().all(|c| c.points == 0) {
        input.error(key, "At least one test case must be worth points.");
    }
    cases
}

fn parse_questions(input: &mut Input) -> Option<Vec<(usize, DraftQuestion)>> {
    let items = match input.raw("questions") {
        Some(Value::Array(items)) => items.clone(),
        None => return None,
        Some(_) => {
            input.error("questions", "Expected a list of questions.");
            return None;
        }
    };
    if items.len() > MAX_QUESTIONS {
        input.error(
            "questions",
            format!("A test has at most {MAX_QUESTIONS} questions."),
        );
        return None;
    }
    // Keep each draft's position in the body, so errors name the question that was sent.
    let drafts: Vec<(usize, DraftQuestion)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, q)| Some((i, parse_question(input, &format!("questions[{i}]"), i, q)?)))
        .collect();
    let mut numbers = BTreeSet::new();
    for (i, draft) in &drafts {
        if !numbers.insert(draft.number_in_test) {
            input.error(
                &format!("questions[{i}].number_in_test"),
                format!(
                    "Another question of this test already has number_in_test {}.",
                    draft.number_in_test
                ),
            );
        }
    }
    Some(drafts)
}

/// How long authoring waits for the sandbox to check a testing code.
const CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Refuses code questions in a language this server cannot grade, and runs each code
/// question's testing code through the sandbox (without any answer), so a teacher learns at
/// once that it cannot grade. A language still being prepared is accepted (its answers wait);
/// testing code is not checked while no Python runtime is available.
async fn check_code_questions(
    grading: &Grading,
    input: &mut Input,
    drafts: &[(usize, DraftQuestion)],
) {
    use actors::grader::{CheckTestingCode, RuntimeStatus, Status};
    for (position, draft) in drafts {
        if draft.kind != QuestionKind::Code {
            continue;
        }
        let language = draft.language;
        let status = grading.grader.send(Status(language)).await;
        if let Ok(RuntimeStatus::Failed(why)) = &status {
            input.error(
                &format!("questions[{position}].body.language"),
                format!(
                    "{} answers cannot be graded on this server: {why}",
                    language.as_str()
                ),
            );
            continue;
        }
        let Some(code) = draft.testing_code.as_ref().filter(|c| !c.trim().is_empty()) else {
            continue;
        };
        if status.is_err() {
            continue;
        }
        let checked = tokio::time::timeout(
            CHECK_WAIT,
            grading.grader.send(CheckTestingCode(code.clone())),
        )
        .await;
        if let Ok(Ok(Err(problem))) = checked {
            input.error(&format!("questions[{position}].body.testing_code"), problem);
        }
    }
}

/// Keeps `id` when it names one of `known` that is not kept already.
fn keep(id: Option<i64>, known: &BTreeSet<i64>, kept: &mut BTreeSet<i64>) -> Option<i64> {
    id.filter(|id| known.contains(id) && kept.insert(*id))
}

/// Gives drafts their ids: a question (or one of its variants) sent with the id of one the
/// test already has keeps it; every other gets a fresh one.
async fn assign_ids(
    store: &Store,
    drafts: Vec<DraftQuestion>,
    existing: &[Question],
) -> Result<Vec<Question>, ApiError> {
    let old_questions: BTreeSet<i64> = existing.iter().map(|q| q.id).collect();
    let mut kept_questions = BTreeSet::new();
    let mut plan = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let question_id = keep(draft.id, &old_questions, &mut kept_questions);
        let old_variants: BTreeSet<i64> = existing
            .iter()
            .find(|q| Some(q.id) == question_id)
            .map(|q| q.variants.iter().map(|v| v.id).collect())
            .unwrap_or_default();
        let mut kept_variants = BTreeSet::new();
        let variant_ids: Vec<Option<i64>> = draft
            .variants
            .iter()
            .map(|v| keep(v.id, &old_variants, &mut kept_variants))
            .collect();
        plan.push((draft, question_id, variant_ids));
    }
    let new_questions = plan.iter().filter(|(_, id, _)| id.is_none()).count();
    let new_variants = plan
        .iter()
        .flat_map(|(_, _, ids)| ids)
        .filter(|id| id.is_none())
        .count();
    let mut question_pool = store
        .reserve_ids("questions", new_questions)
        .await?
        .into_iter();
    let mut variant_pool = store
        .reserve_ids("variants", new_variants)
        .await?
        .into_iter();
    let fresh = |kept: Option<i64>, pool: &mut std::vec::IntoIter<i64>| {
        kept.or_else(|| pool.next())
            .ok_or_else(|| ApiError::internal("ran out of reserved ids"))
    };
    let mut questions = Vec::with_capacity(plan.len());
    for (draft, question_id, variant_ids) in plan {
        let mut variants = Vec::with_capacity(draft.variants.len());
        for (v, kept) in draft.variants.into_iter().zip(variant_ids) {
            variants.push(Variant {
                id: fresh(kept, &mut variant_pool)?,
                text: v.text,
                is_correct: v.is_correct,
            });
        }
        questions.push(Question {
            id: fresh(question_id, &mut question_pool)?,
            text: draft.text,
            kind: draft.kind,
            number_in_test: draft.number_in_test,
            points: draft.points,
            variants,
            testing_code: draft.testing_code,
            strict_score: draft.strict_score,
            version: 0,
            language: draft.language,
            test_cases: draft.test_cases,
        });
    }
    questions.sort_by_key(|q| q.number_in_test);
    Ok(questions)
}

/// Reads `available_for` (group ids, or group objects with an id) of the organization.
async fn parse_groups(
    store: &Store,
    input: &mut Input,
    org: i64,
) -> Result<Option<Vec<i64>>, ApiError> {
    if !input.has("available_for") {
        return Ok(None);
    }
    let mut ids = input.id_list("available_for");
    let mut seen = BTreeSet::new();
    ids.retain(|id| seen.insert(*id));
    let filter = Filter::In("id", ids.iter().map(|&id| id.into()).collect());
    let found = store.groups().find(&filter, None).await?;
    for id in &ids {
        if !found
            .iter()
            .any(|g| g.id == *id && g.organization_id == org)
        {
            input.error("available_for", missing_pk(*id));
        }
    }
    Ok(Some(ids))
}

struct TestChanges {
    name: Option<String>,
    questions: Option<Vec<Question>>,
    available_for: Option<Vec<i64>>,
    /// Absent: unchanged; `Some(None)`: no limit.
    time_limit_seconds: Option<Option<i64>>,
    max_attempts: Option<Option<i64>>,
    /// Absent: unchanged; `Some(None)`: no bound.
    opens_at: Option<Option<i64>>,
    closes_at: Option<Option<i64>>,
}

/// An optional instant: absent, null, or an RFC 3339 date and time.
fn instant(input: &mut Input, field: &str) -> Option<Option<i64>> {
    let text = input.nullable_str(field)?;
    match text {
        None => Some(None),
        Some(text) => match crate::domain::moment::parse_timestamp(&text) {
            Ok(at) => Some(Some(at)),
            Err(problem) => {
                input.error(field, problem);
                None
            }
        },
    }
}

/// A window's bounds from `opens_at` and `closes_at`, which must close after it opens.
fn window(input: &mut Input) -> (Option<Option<i64>>, Option<Option<i64>>) {
    let opens_at = instant(input, "opens_at");
    let closes_at = instant(input, "closes_at");
    if let (Some(Some(opens)), Some(Some(closes))) = (opens_at, closes_at) {
        if closes <= opens {
            input.error("closes_at", "Ensure this is later than opens_at.");
        }
    }
    (opens_at, closes_at)
}

/// Longest time limit: a week.
pub const MAX_TIME_LIMIT: i64 = 7 * 24 * 3600;
pub const MAX_ATTEMPTS: i64 = 1000;

/// An optional limit: absent, null (no limit), or a whole number in `1..=max`.
fn limit(input: &mut Input, field: &str, max: i64) -> Option<Option<i64>> {
    let value = input.nullable_int(field)?;
    match value {
        Some(n) if !(1..=max).contains(&n) => {
            input.error(field, format!("Ensure this value is between 1 and {max}."));
            None
        }
        other => Some(other),
    }
}

/// Reads a test body; `partial` (PATCH) makes every field optional.
async fn read_test(
    store: &Store,
    grading: &Grading,
    mut input: Input,
    org: i64,
    partial: bool,
    existing: &[Question],
) -> Result<TestChanges, ApiError> {
    let raw_name = if partial {
        input.optional_str("name")
    } else {
        input.required_str("name")
    };
    let name = raw_name.and_then(|raw| input.check("name", Name::parse(&raw)));
    if !partial && !input.has("questions") {
        input.error("questions", REQUIRED);
    }
    let drafts = parse_questions(&mut input);
    let available_for = parse_groups(store, &mut input, org).await?;
    let time_limit_seconds = limit(&mut input, "time_limit_seconds", MAX_TIME_LIMIT);
    let max_attempts = limit(&mut input, "max_attempts", MAX_ATTEMPTS);
    let (opens_at, closes_at) = window(&mut input);
    if let (Some(drafts), false) = (&drafts, input.has_errors()) {
        check_code_questions(grading, &mut input, drafts).await;
    }
    input.finish()?;
    let questions = match drafts {
        Some(drafts) => {
            let drafts = drafts.into_iter().map(|(_, draft)| draft).collect();
            Some(assign_ids(store, drafts, existing).await?)
        }
        None => None,
    };
    Ok(TestChanges {
        name: name.map(Name::into_string),
        questions,
        available_for,
        time_limit_seconds,
        max_attempts,
        opens_at,
        closes_at,
    })
}

// ---------------------------------------------------------------------------------------
// The rules of authoring.

/// The tests the caller manages: their own, or all of the organization's for its owner.
pub async fn managed_by(store: &Store, me: &User) -> Result<Filter, ApiError> {
    let org = require_teacher(me)?;
    Ok(if owns_organization(store, me, org).await? {
        Filter::Eq("organization_id", org.into())
    } else {
        Filter::Eq("creator_id", me.id.into())
    })
}

/// Creates a test from a body; the caller (a teacher) is its creator.
pub async fn create(
    store: &Store,
    grading: &Grading,
    me: &User,
    input: Input,
) -> Result<Test, ApiError> {
    let org = require_teacher(me)?;
    let changes = read_test(store, grading, input, org, false, &[]).await?;
    let test = Test {
        id: 0,
        organization_id: org,
        creator_id: me.id,
        name: changes.name.unwrap_or_default(),
        public_uuid: new_public_uuid(),
        questions: changes.questions.unwrap_or_default(),
        available_for: changes.available_for.unwrap_or_default(),
        time_limit_seconds: changes.time_limit_seconds.flatten(),
        max_attempts: changes.max_attempts.flatten(),
        opens_at: changes.opens_at.flatten(),
        closes_at: changes.closes_at.flatten(),
        group_windows: Vec::new(),
        created_at: crate::domain::clock::now(),
    };
    let test = store.tests().insert(test).await?;
    tracing::info!(test_id = test.id, creator = me.id, "test created");
    Ok(test)
}

/// Changes a test the caller manages (`partial`: PATCH, every field optional). Completions
/// already submitted keep the questions they were graded against (each holds its own copy).
pub async fn change(
    store: &Store,
    grading: &Grading,
    me: &User,
    id: i64,
    input: Input,
    partial: bool,
) -> Result<Test, ApiError> {
    let test = managed_test(store, me, id).await?;
    let changes = read_test(
        store,
        grading,
        input,
        test.organization_id,
        partial,
        &test.questions,
    )
    .await?;
    update(store, id, |t| {
        if let Some(name) = &changes.name {
            t.name = name.clone();
        }
        if let Some(questions) = &changes.questions {
            t.questions = versioned(&t.questions, questions);
        }
        if let Some(groups) = &changes.available_for {
            t.available_for = groups.clone();
        }
        if let Some(seconds) = changes.time_limit_seconds {
            t.time_limit_seconds = seconds;
        }
        if let Some(attempts) = changes.max_attempts {
            t.max_attempts = attempts;
        }
        if let Some(at) = changes.opens_at {
            t.opens_at = at;
        }
        if let Some(at) = changes.closes_at {
            t.closes_at = at;
        }
        if let Some(groups) = &changes.available_for {
            t.group_windows.retain(|w| groups.contains(&w.group));
        }
    })
    .await
}

/// The new questions, each a version past the stored one it changes (an unchanged question
/// keeps its version): completions hold the version they were answered against, and a
/// regrade (`testing::regrade`) tells the two apart.
fn versioned(old: &[Question], new: &[Question]) -> Vec<Question> {
    new.iter()
        .map(|q| {
            let mut q = q.clone();
            if let Some(before) = old.iter().find(|o| o.id == q.id) {
                q.version = before.version;
                if q != *before {
                    q.version += 1;
                }
            }
            q
        })
        .collect()
}

async fn update(
    store: &Store,
    id: i64,
    mut change: impl FnMut(&mut Test),
) -> Result<Test, ApiError> {
    store
        .tests()
        .update(id, |t| {
            change(t);
            Ok::<_, StoreError>(())
        })
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Deletes a test the caller manages; its completions stay readable by their students.
pub async fn delete(store: &Store, me: &User, id: i64) -> Result<(), ApiError> {
    let test = managed_test(store, me, id).await?;
    store.tests().delete(test.id).await?;
    tracing::info!(test_id = test.id, by = me.id, "test deleted");
    Ok(())
}

/// Makes a test available (`allow`) or no longer available to the group `{"group": id}` of
/// its organization; idempotent. Allowing may carry the group's own window (`opens_at`,
/// `closes_at`), which replaces the test's for its members; allowing without one, or
/// disallowing, drops the group's window.
pub async fn set_group_access(
    store: &Store,
    me: &User,
    id: i64,
    mut input: Input,
    allow: bool,
) -> Result<Test, ApiError> {
    let test = managed_test(store, me, id).await?;
    let group = input.required_int("group");
    let (opens_at, closes_at) = match allow {
        true => window(&mut input),
        false => (None, None),
    };
    if let Some(group) = group {
        let known = store.groups().get(group).await?;
        if known.is_none_or(|g| g.organization_id != test.organization_id) {
            input.error("group", missing_pk(group));
        }
    }
    input.finish()?;
    let group = group.ok_or_else(|| ApiError::internal("group missing without an error"))?;
    // One atomic add-to-set / remove-from-set: concurrent changes for other groups are kept.
    let field = FieldPath::parse(["available_for"])?;
    let test = store
        .tests()
        .set_membership(id, &field, group.into(), allow)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (opens_at, closes_at) = (opens_at.flatten(), closes_at.flatten());
    let windowed = opens_at.is_some() || closes_at.is_some();
    if !windowed && !test.group_windows.iter().any(|w| w.group == group) {
        return Ok(test);
    }
    update(store, id, |t| {
        t.group_windows.retain(|w| w.group != group);
        if windowed && t.available_for.contains(&group) {
            t.group_windows.push(GroupWindow {
                group,
                opens_at,
                closes_at,
            });
        }
    })
    .await
}

/// Gives a test the caller manages a new link; the old one stops working.
pub async fn regenerate_link(store: &Store, me: &User, id: i64) -> Result<Test, ApiError> {
    let test = managed_test(store, me, id).await?;
    update(store, test.id, |t| {
        t.public_uuid = new_public_uuid();
    })
    .await
}
