//! What clients see of tests and completions, as typed shapes (field names as the seed
//! documents them). The OpenAPI component schemas are derived from these very types, so a
//! schema cannot disagree with what is sent. The REST handlers and the WebSocket session
//! both present through here.

use std::collections::{BTreeSet, HashMap};

use serde::{Serialize, Serializer};
use serde_json::Value;
use utoipa::{PartialSchema, ToSchema};

use crate::domain::grading::{matched_variant, truncated};
use crate::error::ApiError;
use crate::organizations::views::MemberOut;
use crate::store::{
    Answer, Completion, Filter, Group, Question, QuestionKind, Response, Store, Test, User,
};

/// An exact score or points (`score_exact`, `points_exact`) as a JSON number: whole values
/// print as integers (`3`, not `3.0`), others keep every digit (`0.6666666666666666`).
pub fn number(value: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if value.fract() == 0.0 && value.abs() < EXACT {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// [`number`] as a field serializer.
fn whole_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    number(*value).serialize(serializer)
}

pub use crate::domain::moment::timestamp;

// ---------------------------------------------------------------------------------------
// Tests.

/// A question's kind.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Text,
    Radio,
    Check,
    Code,
}

impl From<QuestionKind> for Kind {
    fn from(kind: QuestionKind) -> Kind {
        match kind {
            QuestionKind::Text => Kind::Text,
            QuestionKind::Radio => Kind::Radio,
            QuestionKind::Check => Kind::Check,
            QuestionKind::Code => Kind::Code,
        }
    }
}

/// A variant of a radio or check question; text questions list their accepted answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Variant)]
pub struct VariantOut {
    pub id: i64,
    pub text: String,
    /// Teachers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_correct: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionBody {
    pub variants: Vec<VariantOut>,
    /// Partial points for code answers that pass some of their checks (false).
    pub strict_score: bool,
    /// Code questions, for teachers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub testing_code: Option<String>,
    /// Code questions: the language answers are written in (`python`, `javascript`, `c`,
    /// `cpp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Code questions: the input/output test cases. Students see a hidden case's points only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_cases: Option<Vec<TestCaseOut>>,
}

/// An input/output test case of a code question.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TestCase)]
pub struct TestCaseOut {
    /// The program's standard input (absent for students on a hidden case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// What the program must print (absent for students on a hidden case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_output: Option<String>,
    pub points: i64,
    pub hidden: bool,
}

/// A code question's language and test cases as `for_student` may see them.
fn code_parts(q: &Question, for_student: bool) -> (Option<String>, Option<Vec<TestCaseOut>>) {
    if q.kind != QuestionKind::Code {
        return (None, None);
    }
    let cases = q
        .test_cases
        .iter()
        .map(|case| {
            let shown = !(for_student && case.hidden);
            TestCaseOut {
                stdin: shown.then(|| case.stdin.clone()),
                expected_output: shown.then(|| case.expected_output.clone()),
                points: case.points,
                hidden: case.hidden,
            }
        })
        .collect();
    (Some(q.language.as_str().to_owned()), Some(cases))
}

/// A question as its test's managers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Question)]
pub struct QuestionOut {
    pub id: i64,
    pub text: String,
    pub test: i64,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[schema(minimum = 0, maximum = 32767)]
    pub number_in_test: i64,
    #[schema(minimum = 0, maximum = 32767)]
    pub points: i64,
    pub body: QuestionBody,
}

/// A question as a student sees it: no correctness, no accepted text answers, no tests.
#[derive(Debug, Serialize, ToSchema)]
pub struct StudentQuestion {
    pub id: i64,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub number_in_test: i64,
    pub points: i64,
    pub body: QuestionBody,
}

/// A group a test is available for, as nested in the test.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
    pub description: String,
}

/// A test as its managers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Test)]
pub struct TestOut {
    pub id: i64,
    pub name: String,
    pub creator: i64,
    pub questions: Vec<QuestionOut>,
    pub available_for: Vec<GroupRef>,
    /// The secret of the link students take the test by.
    pub public_uuid: String,
    /// Seconds a live attempt may last; null: no limit.
    pub time_limit_seconds: Option<i64>,
    /// Completions a student may submit; null: no limit.
    pub max_attempts: Option<i64>,
    /// Before it the test cannot be taken; null: open from the start.
    #[schema(format = DateTime)]
    pub opens_at: Option<String>,
    /// From it the test cannot be taken, and live attempts still open are submitted; null:
    /// never.
    #[schema(format = DateTime)]
    pub closes_at: Option<String>,
    /// Groups of `available_for` with a window of their own, replacing the test's.
    pub group_windows: Vec<GroupWindowOut>,
}

/// A group's own window at a test.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GroupWindow)]
pub struct GroupWindowOut {
    pub group: i64,
    #[schema(format = DateTime)]
    pub opens_at: Option<String>,
    #[schema(format = DateTime)]
    pub closes_at: Option<String>,
}

/// The test as students see it: no correctness, accepted text answers or testing code.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StudentTest)]
pub struct StudentTestOut {
    pub id: i64,
    pub name: String,
    pub creator: i64,
    pub questions: Vec<StudentQuestion>,
    pub public_uuid: String,
    pub time_limit_seconds: Option<i64>,
    pub max_attempts: Option<i64>,
}

fn variants(q: &Question, with_correctness: bool) -> Vec<VariantOut> {
    q.variants
        .iter()
        .map(|v| VariantOut {
            id: v.id,
            text: v.text.clone(),
            is_correct: with_correctness.then_some(v.is_correct),
        })
        .collect()
}

/// A question as its test's managers see it.
pub fn teacher_question(test_id: i64, q: &Question) -> QuestionOut {
    let (language, test_cases) = code_parts(q, false);
    QuestionOut {
        id: q.id,
        text: q.text.clone(),
        test: test_id,
        kind: q.kind.into(),
        number_in_test: q.number_in_test,
        points: q.points,
        body: QuestionBody {
            variants: variants(q, true),
            strict_score: q.strict_score,
            testing_code: (q.kind == QuestionKind::Code)
                .then(|| q.testing_code.clone().unwrap_or_default()),
            language,
            test_cases,
        },
    }
}

fn student_question(q: &Question) -> StudentQuestion {
    let (language, test_cases) = code_parts(q, true);
    StudentQuestion {
        id: q.id,
        text: q.text.clone(),
        kind: q.kind.into(),
        number_in_test: q.number_in_test,
        points: q.points,
        body: QuestionBody {
            variants: if q.kind == QuestionKind::Text {
                Vec::new()
            } else {
                variants(q, false)
            },
            strict_score: q.strict_score,
            testing_code: None,
            language,
            test_cases,
        },
    }
}

/// Teacher views of tests, reading the groups they are available for at once.
pub async fn teacher_views(store: &Store, tests: &[Test]) -> Result<Vec<TestOut>, ApiError> {
    let group_ids: BTreeSet<i64> = tests
        .iter()
        .flat_map(|t| t.available_for.iter().copied())
        .collect();
    let groups: HashMap<i64, Group> = if group_ids.is_empty() {
        HashMap::new()
    } else {
        let filter = Filter::In("id", group_ids.into_iter().map(Value::from).collect());
        store
            .groups()
            .find(&filter, None)
            .await?
            .into_iter()
            .map(|g| (g.id, g))
            .collect()
    };
    Ok(tests
        .iter()
        .map(|t| TestOut {
            id: t.id,
            name: t.name.clone(),
            creator: t.creator_id,
            questions: t
                .questions
                .iter()
                .map(|q| teacher_question(t.id, q))
                .collect(),
            // Groups deleted since are simply no longer listed.
            available_for: t
                .available_for
                .iter()
                .filter_map(|id| groups.get(id))
                .map(|g| GroupRef {
                    id: g.id,
                    name: g.name.clone(),
                    description: g.description.clone(),
                })
                .collect(),
            public_uuid: t.public_uuid.clone(),
            time_limit_seconds: t.time_limit_seconds,
            max_attempts: t.max_attempts,
            opens_at: t.opens_at.map(timestamp),
            closes_at: t.closes_at.map(timestamp),
            group_windows: t
                .group_windows
                .iter()
                .map(|w| GroupWindowOut {
                    group: w.group,
                    opens_at: w.opens_at.map(timestamp),
                    closes_at: w.closes_at.map(timestamp),
                })
                .collect(),
        })
        .collect())
}

pub async fn teacher_view(store: &Store, test: &Test) -> Result<TestOut, ApiError> {
    let mut views = teacher_views(store, std::slice::from_ref(test)).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::internal("presenting one test gave none"))
}

pub fn student_view(test: &Test) -> StudentTestOut {
    StudentTestOut {
        id: test.id,
        name: test.name.clone(),
        creator: test.creator_id,
        questions: test.questions.iter().map(student_question).collect(),
        public_uuid: test.public_uuid.clone(),
        time_limit_seconds: test.time_limit_seconds,
        max_attempts: test.max_attempts,
    }
}

/// A test open to the caller, as their list of tests shows it: enough to name it, say its
/// limits and open it by its link. Not the whole student view: a list of every open test
/// with every question would be heavy, and the page a student opens fetches that anyway.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = OpenTest)]
pub struct OpenTestOut {
    pub id: i64,
    pub name: String,
    /// The link's secret: the test opens at `/api/tests/p/{public_uuid}/`.
    pub public_uuid: String,
    /// How many questions it has.
    pub questions: i64,
    /// Seconds a live attempt may last; null: no limit.
    pub time_limit_seconds: Option<i64>,
    /// Completions a student may submit; null: no limit.
    pub max_attempts: Option<i64>,
    /// Completions the caller has submitted.
    pub attempts_used: i64,
    /// When the caller may take it (their group's window, or the test's): before
    /// `opens_at` and from `closes_at` it cannot be taken; null: unbounded.
    #[schema(format = DateTime)]
    pub opens_at: Option<String>,
    #[schema(format = DateTime)]
    pub closes_at: Option<String>,
}

/// A test open to the caller, with the attempts they have used and their window.
pub fn open_test(
    test: &Test,
    attempts_used: i64,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
) -> OpenTestOut {
    OpenTestOut {
        id: test.id,
        name: test.name.clone(),
        public_uuid: test.public_uuid.clone(),
        questions: i64::try_from(test.questions.len()).unwrap_or(i64::MAX),
        time_limit_seconds: test.time_limit_seconds,
        max_attempts: test.max_attempts,
        attempts_used,
        opens_at: opens_at.map(timestamp),
        closes_at: closes_at.map(timestamp),
    }
}

// ---------------------------------------------------------------------------------------
// Completions.

/// A picked variant, or a text answer: `id` is the variant the text matches (in any case),
/// else the answer's own id (never a variant's); `0` for an unanswered question.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickedVariant {
    pub id: i64,
    pub text: String,
    /// Teachers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_correct: Option<bool>,
}

/// An answer's `body`, in the shape of its question's kind: `picked_variant` (text and radio),
/// `picked_variants` (check) or `code`. An unanswered question has the shape of its kind,
/// answered with nothing.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AnswerBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picked_variant: Option<PickedVariant>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picked_variants: Option<Vec<PickedVariant>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// null while a code answer is being graded (shown to everyone); teachers also see it
    /// once graded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<bool>)]
    pub is_correct: Option<Option<bool>>,
    /// Code answers, teachers only: why the answer failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub runtime_errors: Option<Option<String>>,
    /// `runtime_errors` under the name the original server sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub errors: Option<Option<String>>,
    /// Code answers once graded (answers graded before this field existed have none),
    /// teachers only: each scored unit (test function, top-level
    /// asserts, test case) and how it went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<CheckOut>>,
}

/// How one scored unit of a code answer went.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Check)]
pub struct CheckOut {
    /// `test_…` for a test function, `<module>` for top-level asserts, `case N` for the N-th
    /// test case.
    pub name: String,
    pub passed: bool,
    /// Its weight among the answer's units (a test case's points; 1 for asserts).
    pub weight: i64,
    /// Why it failed: the first differing line, the error, or the limit hit.
    pub detail: Option<String>,
}

/// `grading` while code answers wait for the sandbox, then `graded`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Grading,
    Graded,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StudentAnswer {
    pub question: i64,
    pub body: AnswerBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GradedAnswer {
    pub question: i64,
    pub body: AnswerBody,
    /// Seed 003's integer: `points_exact` truncated toward zero.
    pub points: i64,
    /// The points the answer earned, fractions kept (partial credit).
    #[serde(serialize_with = "whole_number")]
    pub points_exact: f64,
}

/// A completion as its student sees it: no correctness.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Completion)]
pub struct CompletionOut {
    pub id: i64,
    pub user: i64,
    /// The test's public_uuid.
    pub test: String,
    pub answers: Vec<StudentAnswer>,
    /// Seed 003's integer: `score_exact` truncated toward zero.
    pub score: i64,
    /// The exact sum of the answers' points, fractions kept.
    #[serde(serialize_with = "whole_number")]
    pub score_exact: f64,
    #[serde(serialize_with = "whole_number")]
    pub max_score: f64,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    pub status: Status,
}

/// The student of a graded completion, or only their id once the account is deleted.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Student {
    Member(MemberOut),
    /// The account was deleted: its personal fields are erased.
    Gone {
        id: i64,
        deleted: bool,
    },
}

// By hand: the derive documents an untagged enum as `oneOf`, which a member (who has an id
// too) would match twice.
impl utoipa::PartialSchema for Student {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
        use utoipa::openapi::Ref;
        let gone = ObjectBuilder::new()
            .property("id", ObjectBuilder::new().schema_type(Type::Integer))
            .property("deleted", ObjectBuilder::new().schema_type(Type::Boolean))
            .required("id")
            .required("deleted");
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(MemberOut::name()))
            .item(gone)
            .description(Some(
                "The student, or only their id once the account is deleted.",
            ))
            .into()
    }
}

impl ToSchema for Student {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((MemberOut::name().into_owned(), MemberOut::schema()));
    }
}

/// A completion with correctness and points, as the test's managers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CompletionWithCorrectness)]
pub struct GradedCompletionOut {
    pub id: i64,
    pub user: Student,
    pub test: i64,
    pub answers: Vec<GradedAnswer>,
    /// Seed 003's integer: `score_exact` truncated toward zero.
    pub score: i64,
    /// The exact sum of the answers' points, fractions kept.
    #[serde(serialize_with = "whole_number")]
    pub score_exact: f64,
    #[serde(serialize_with = "whole_number")]
    pub max_score: f64,
    /// When the attempt started (the test was first shown, or the live attempt began); null
    /// for a submission with no attempt on record (an untimed test over REST).
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    pub status: Status,
}

fn picked(question: &Question, id: i64, with_correctness: bool) -> PickedVariant {
    let variant = question.variants.iter().find(|v| v.id == id);
    PickedVariant {
        id,
        text: variant.map_or_else(String::new, |v| v.text.clone()),
        is_correct: with_correctness.then(|| variant.is_some_and(|v| v.is_correct)),
    }
}

/// `picked_variant.id` of an unanswered text or radio question (seed 003 requires an integer
/// there; no stored id is 0). Also shown for a text answer stored before answers had ids.
pub const UNANSWERED: i64 = 0;

fn answer_body(answer: &Answer, with_correctness: bool) -> AnswerBody {
    let q = &answer.question;
    let text_answer = |id: i64, text: String, is_correct: bool| PickedVariant {
        id,
        text,
        is_correct: with_correctness.then_some(is_correct),
    };
    let mut body = match &answer.response {
        // Scored as unanswered, yet shown in the shape of the question's kind, as answered
        // with nothing: clients read `body.picked_variant.text` and the like without checking.
        Response::Unanswered => match q.kind {
            QuestionKind::Text | QuestionKind::Radio => AnswerBody {
                picked_variant: Some(text_answer(UNANSWERED, String::new(), false)),
                ..AnswerBody::default()
            },
            QuestionKind::Check => AnswerBody {
                picked_variants: Some(Vec::new()),
                ..AnswerBody::default()
            },
            QuestionKind::Code => AnswerBody {
                code: Some(String::new()),
                ..AnswerBody::default()
            },
        },
        Response::Text(text) => AnswerBody {
            picked_variant: Some(text_answer(
                matched_variant(q, text)
                    .or(answer.answer_id)
                    .unwrap_or(UNANSWERED),
                text.clone(),
                answer.is_correct == Some(true),
            )),
            ..AnswerBody::default()
        },
        Response::Single(id) => AnswerBody {
            picked_variant: Some(picked(q, *id, with_correctness)),
            ..AnswerBody::default()
        },
        Response::Multiple(ids) => AnswerBody {
            picked_variants: Some(
                ids.iter()
                    .map(|id| picked(q, *id, with_correctness))
                    .collect(),
            ),
            ..AnswerBody::default()
        },
        Response::Code(code) => AnswerBody {
            code: Some(code.clone()),
            // Still being graded: said to everyone, as it reveals nothing.
            is_correct: answer.is_correct.is_none().then_some(None),
            ..AnswerBody::default()
        },
    };
    if with_correctness {
        body.is_correct = Some(answer.is_correct);
        if q.kind == QuestionKind::Code {
            body.runtime_errors = Some(answer.runtime_errors.clone());
            body.errors = Some(answer.runtime_errors.clone());
            body.checks = (!answer.checks.is_empty()).then(|| {
                answer
                    .checks
                    .iter()
                    .map(|c| CheckOut {
                        name: c.name.clone(),
                        passed: c.passed,
                        weight: c.weight,
                        detail: c.detail.clone(),
                    })
                    .collect()
            });
        }
    }
    body
}

fn status(c: &Completion) -> Status {
    if c.pending {
        Status::Grading
    } else {
        Status::Graded
    }
}

/// A completion as its student sees it. `test` is the test's current public uuid (the one at
/// submission if the test was deleted since).
pub fn student_completion(c: &Completion, current_uuid: Option<&str>) -> CompletionOut {
    CompletionOut {
        id: c.id,
        user: c.user_id,
        test: current_uuid.unwrap_or(&c.test_uuid).to_owned(),
        answers: c
            .answers
            .iter()
            .map(|a| StudentAnswer {
                question: a.question.id,
                body: answer_body(a, false),
            })
            .collect(),
        score: truncated(c.score),
        score_exact: c.score,
        max_score: c.max_score,
        submitted_at: timestamp(c.submitted_at),
        status: status(c),
    }
}

/// A completion with correctness and points, as the test's managers see it.
pub fn graded_completion(c: &Completion, user: Option<&User>) -> GradedCompletionOut {
    GradedCompletionOut {
        id: c.id,
        user: match user.filter(|u| u.deleted_at.is_none()) {
            Some(user) => Student::Member(MemberOut::from(user)),
            None => Student::Gone {
                id: c.user_id,
                deleted: true,
            },
        },
        test: c.test_id,
        answers: c
            .answers
            .iter()
            .map(|a| GradedAnswer {
                question: a.question.id,
                body: answer_body(a, true),
                points: truncated(a.points),
                points_exact: a.points,
            })
            .collect(),
        score: truncated(c.score),
        score_exact: c.score,
        max_score: c.max_score,
        started_at: c.started_at.map(timestamp),
        submitted_at: timestamp(c.submitted_at),
        status: status(c),
    }
}

/// The students of some completions, read at once.
pub async fn students_of(
    store: &Store,
    completions: &[Completion],
) -> Result<HashMap<i64, User>, ApiError> {
    let ids: BTreeSet<i64> = completions.iter().map(|c| c.user_id).collect();
    let ids: Vec<i64> = ids.into_iter().collect();
    Ok(store
        .users_by_ids(&ids)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// Student views of completions, reading their tests' current links at once.
pub async fn student_completions(
    store: &Store,
    completions: &[Completion],
) -> Result<Vec<CompletionOut>, ApiError> {
    let ids: BTreeSet<i64> = completions.iter().map(|c| c.test_id).collect();
    let filter = Filter::In("id", ids.into_iter().map(Value::from).collect());
    let uuids: HashMap<i64, String> = if completions.is_empty() {
        HashMap::new()
    } else {
        store
            .tests()
            .find(&filter, None)
            .await?
            .into_iter()
            .map(|t| (t.id, t.public_uuid))
            .collect()
    };
    Ok(completions
        .iter()
        .map(|c| student_completion(c, uuids.get(&c.test_id).map(String::as_str)))
        .collect())
}

/// Graded views of completions, reading their students at once.
pub async fn graded_completions(
    store: &Store,
    completions: &[Completion],
) -> Result<Vec<GradedCompletionOut>, ApiError> {
    let users = students_of(store, completions).await?;
    Ok(completions
        .iter()
        .map(|c| graded_completion(c, users.get(&c.user_id)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_print_as_integers_and_fractions_keep_their_digits() {
        assert_eq!(number(3.0).to_string(), "3");
        assert_eq!(number(0.0).to_string(), "0");
        assert_eq!(number(2.0 / 3.0).to_string(), "0.6666666666666666");
        assert_eq!(number(1.5).to_string(), "1.5");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }
}
