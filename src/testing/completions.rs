//! Completions: a student's submitted answers to a test, graded on submission.
//!
//! A submission names the test by its public uuid (as the seed's `test` string) and answers
//! questions by id. A completion answers each question at most once and only questions of
//! its test; unanswered questions, and empty answers, score 0. Each completion keeps a copy
//! of the questions it was graded against, so later edits of the test never change it.
//! Attempt numbers come from one atomic counter per student and test.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::access::{managed_test, readable_completion, test_by_uuid};
use super::grading::Grading;
use crate::domain::grading::{grade, matched_variant};
use crate::error::ApiError;
use crate::store::{
    Answer, Attempt, Completion, Filter, Group, Question, QuestionKind, Response, Store, Test, User,
};

const MAX_ANSWER_TEXT_CHARS: usize = 10_000;
const MAX_CODE_CHARS: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// Reading a submission.

/// A radio/check pick: by `id`, or by exact `text` when no id is sent. `Ok(None)`: empty.
fn resolve_variant(q: &Question, picked: &Map<String, Value>) -> Result<Option<i64>, String> {
    match picked.get("id") {
        Some(Value::Null) | None => {}
        Some(id) => {
            let id = id
                .as_i64()
                .ok_or_else(|| "A variant id must be an integer.".to_owned())?;
            return match q.variants.iter().any(|v| v.id == id) {
                true => Ok(Some(id)),
                false => Err(format!(
                    "Variant {id} is not a variant of question {}.",
                    q.id
                )),
            };
        }
    }
    match picked.get("text") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => match q.variants.iter().find(|v| v.text == *text) {
            Some(v) => Ok(Some(v.id)),
            None => Err(format!(
                "No variant of question {} has the text {text:?}.",
                q.id
            )),
        },
        Some(_) => Err("A variant's text must be a string.".to_owned()),
    }
}

fn bounded_text(value: &str, max: usize, what: &str) -> Result<String, String> {
    if value.chars().count() > max {
        Err(format!("{what} has more than {max} characters."))
    } else {
        Ok(value.to_owned())
    }
}

/// Reads one answer body for its question; extra fields (e.g. an echoed `variants`) are
/// ignored, and empty answers are unanswered, not errors.
pub fn read_response(q: &Question, body: Option<&Value>) -> Result<Response, String> {
    let body = match body {
        None | Some(Value::Null) => return Ok(Response::Unanswered),
        Some(Value::Object(body)) => body,
        Some(_) => return Err("Expected an object.".to_owned()),
    };
    match q.kind {
        QuestionKind::Text => match body.get("picked_variant") {
            None | Some(Value::Null) => Ok(Response::Unanswered),
            Some(Value::Object(pv)) => match pv.get("text") {
                None | Some(Value::Null) => Ok(Response::Unanswered),
                Some(Value::String(t)) if t.trim().is_empty() => Ok(Response::Unanswered),
                Some(Value::String(t)) => Ok(Response::Text(bounded_text(
                    t,
                    MAX_ANSWER_TEXT_CHARS,
                    "The answer",
                )?)),
                Some(_) => Err("picked_variant.text must be a string.".to_owned()),
            },
            Some(_) => Err("picked_variant must be an object with a text.".to_owned()),
        },
        QuestionKind::Radio => match body.get("picked_variant") {
            None | Some(Value::Null) => Ok(Response::Unanswered),
            Some(Value::Object(pv)) => {
                Ok(resolve_variant(q, pv)?.map_or(Response::Unanswered, Response::Single))
            }
            Some(_) => Err("picked_variant must be an object with an id or a text.".to_owned()),
        },
        QuestionKind::Check => match body.get("picked_variants") {
            None | Some(Value::Null) => Ok(Response::Unanswered),
            Some(Value::Array(items)) => {
                let mut ids = Vec::new();
                for item in items {
                    let pv = item
                        .as_object()
                        .ok_or("Each picked variant must be an object.")?;
                    if let Some(id) = resolve_variant(q, pv)? {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                Ok(if ids.is_empty() {
                    Response::Unanswered
                } else {
                    Response::Multiple(ids)
                })
            }
            Some(_) => Err("picked_variants must be a list.".to_owned()),
        },
        QuestionKind::Code => match body.get("code") {
            None | Some(Value::Null) => Ok(Response::Unanswered),
            Some(Value::String(code)) if code.trim().is_empty() => Ok(Response::Unanswered),
            Some(Value::String(code)) => Ok(Response::Code(bounded_text(
                code,
                MAX_CODE_CHARS,
                "The code",
            )?)),
            Some(_) => Err("code must be a string.".to_owned()),
        },
    }
}

/// Grades every question of the test: the submitted response, or unanswered.
pub fn grade_all(test: &Test, mut responses: HashMap<i64, Response>) -> Vec<Answer> {
    test.questions
        .iter()
        .map(|q| {
            let response = responses.remove(&q.id).unwrap_or(Response::Unanswered);
            let grade = grade(q, &response);
            Answer {
                question: q.clone(),
                response,
                is_correct: grade.is_correct,
                points: grade.points,
                runtime_errors: None,
                checks: Vec::new(),
                answer_id: None,
            }
        })
        .collect()
}

/// Gives each text answer that matches no variant of its question an id of its own, from
/// the variants' id sequence: clients read `picked_variant.id` as an integer, and such an
/// id can never be taken for one of the question's variants. The question is not changed
/// (the original added the answer to it as a new wrong variant).
async fn number_unmatched_text(store: &Store, answers: &mut [Answer]) -> Result<(), ApiError> {
    let unmatched = |a: &Answer| match &a.response {
        Response::Text(text) => matched_variant(&a.question, text).is_none(),
        _ => false,
    };
    let count = answers.iter().filter(|a| unmatched(a)).count();
    let mut ids = store.reserve_ids("variants", count).await?.into_iter();
    for answer in answers.iter_mut().filter(|a| unmatched(a)) {
        answer.answer_id = ids.next();
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Submitting.

fn attempts_of(test: &Test, user: &User) -> Filter {
    Filter::And(vec![
        Filter::Eq("test_id", test.id.into()),
        Filter::Eq("user_id", user.id.into()),
    ])
}

/// The student's attempt counter at the test (the one [`submit`] takes numbers from, so the
/// two never disagree). A student who submitted before counters were kept starts from their
/// completions.
fn attempt_sequence(test: &Test, me: &User) -> String {
    format!("attempts:{}:{}", test.id, me.id)
}

async fn completions_made(store: &Store, me: &User, test: &Test) -> crate::store::StoreResult<i64> {
    let made = store.completions().count(&attempts_of(test, me)).await?;
    Ok(i64::try_from(made).unwrap_or(i64::MAX))
}

/// How many attempts the student has used at the test (submitted completions).
pub async fn attempts_used(store: &Store, me: &User, test: &Test) -> Result<i64, ApiError> {
    let sequence = attempt_sequence(test, me);
    Ok(store
        .sequence_value(&sequence, || completions_made(store, me, test))
        .await?)
}

/// How many attempts the student has used at the test; 403 when none is left.
pub async fn attempts_left(store: &Store, me: &User, test: &Test) -> Result<i64, ApiError> {
    let used = attempts_used(store, me, test).await?;
    match test.max_attempts {
        Some(max) if used >= max => Err(no_attempts_left(max)),
        _ => Ok(used),
    }
}

/// Takes the student's next attempt number at the test in one atomic counter write (so
/// concurrent submissions get distinct numbers and never pass `max_attempts`, at a cost that
/// does not grow with earlier completions); 403 when no attempt is left.
async fn next_attempt(store: &Store, me: &User, test: &Test) -> Result<i64, ApiError> {
    let sequence = attempt_sequence(test, me);
    let seed = || completions_made(store, me, test);
    match store
        .next_in_sequence(&sequence, test.max_attempts, seed)
        .await?
    {
        Some(number) => Ok(number),
        None => Err(no_attempts_left(test.max_attempts.unwrap_or(0))),
    }
}

fn no_attempts_left(max: i64) -> ApiError {
    ApiError::forbidden(format!("You have used all {max} attempts at this test."))
}

/// Grades the responses, stores the completion as the student's next attempt (refusing one
/// past `max_attempts`, even under concurrent submissions) and waits a bounded time for its
/// code answers. `attempt`: the claimed attempt it ends, if any (its start is kept).
pub async fn submit(
    grading: &Grading,
    me: &User,
    test: &Test,
    groups: Vec<Group>,
    responses: HashMap<i64, Response>,
    attempt: Option<&Attempt>,
    // False for live submissions, which announce the attempt's end before the grading.
    announce_and_grade: bool,
) -> Result<Completion, ApiError> {
    let mut answers = grade_all(test, responses);
    number_unmatched_text(&grading.store, &mut answers).await?;
    let mut completion = Completion {
        id: 0,
        test_id: test.id,
        test_uuid: test.public_uuid.clone(),
        test_name: test.name.clone(),
        organization_id: test.organization_id,
        creator_id: test.creator_id,
        user_id: me.id,
        groups: groups.into_iter().map(|g| g.name).collect(),
        submitted_at: crate::domain::clock::now(),
        started_at: attempt.map(|a| a.started_at),
        score: crate::domain::grading::total(answers.iter().map(|a| a.points)),
        max_score: test.questions.iter().map(|q| q.points as f64).sum(),
        pending: answers.iter().any(|a| a.is_correct.is_none()),
        answers,
        attempt_key: None,
    };
    // Stored first: the answers survive whatever happens to the grading.
    let number = next_attempt(&grading.store, me, test).await?;
    completion.attempt_key = Some(format!("{}:{}:{number}", test.id, me.id));
    let mut completion = grading.store.completions().insert(completion).await?;
    if !announce_and_grade {
        return Ok(completion);
    }
    if let Some(attempt) = attempt {
        // Watchers hear the attempt end before any grading event of its completion.
        super::grading::announce_end(grading, attempt, &completion, false);
    }
    if !completion.pending {
        // Graded at once: watchers hear it now (pending ones hear it from the grading).
        super::grading::announce_graded(grading, &completion, Some(me)).await;
    } else {
        let running = super::grading::spawn(grading.clone(), completion.id);
        // Past the wait, the answer says "grading" and the task carries on.
        if tokio::time::timeout(grading.wait, running).await.is_ok() {
            if let Some(graded) = grading.store.completions().get(completion.id).await? {
                completion = graded;
            }
        }
    }
    tracing::info!(
        completion_id = completion.id,
        test_id = test.id,
        user_id = me.id,
        score = completion.score,
        "completion submitted"
    );
    Ok(completion)
}

// ---------------------------------------------------------------------------------------
// The rules of submitting and reading completions.

/// The caller's completions, of every test.
pub fn of_user(me: &User) -> Filter {
    Filter::Eq("user_id", me.id.into())
}

/// Every completion of a test the caller manages.
pub async fn of_managed_test(store: &Store, me: &User, test_id: i64) -> Result<Filter, ApiError> {
    let test = managed_test(store, me, test_id).await?;
    Ok(Filter::Eq("test_id", test.id.into()))
}

/// The caller's completions of the test behind a public link.
pub async fn mine_of_test(store: &Store, me: &User, uuid: &str) -> Result<Filter, ApiError> {
    let test = test_by_uuid(store, me, uuid)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(attempts_of(&test, me))
}

/// A completion with correctness, for the test's managers only.
pub async fn with_correctness(
    store: &Store,
    me: &User,
    id: i64,
) -> Result<(Completion, Option<User>), ApiError> {
    let (completion, manager) = readable_completion(store, me, id).await?;
    if !manager {
        return Err(ApiError::forbidden(
            "Correctness is shown to the test's teachers only.",
        ));
    }
    let user = store.users().get(completion.user_id).await?;
    Ok((completion, user))
}

/// Every completion of a test with its student (if the account still exists), for the export.
pub async fn all_with_students(
    store: &Store,
    test_id: i64,
) -> Result<Vec<(Completion, Option<User>)>, ApiError> {
    let completions = store
        .completions()
        .find(&Filter::Eq("test_id", test_id.into()), None)
        .await?;
    let users = super::views::students_of(store, &completions).await?;
    Ok(completions
        .into_iter()
        .map(|c| {
            let user = users.get(&c.user_id).cloned();
            (c, user)
        })
        .collect())
}
