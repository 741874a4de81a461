//! Completions: a student's submitted answers to a test, graded on submission.
//!
//! A submission names the test by its public uuid (as the seed's `test` string) and answers
//! questions by id. A completion answers each question at most once and only questions of
//! its test; unanswered questions, and empty answers, score 0. Each completion keeps a copy
//! of the questions it was graded against, so later edits of the test never change it.
//! Attempt numbers come from one atomic counter per student and test.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::access::{access_groups, managed_test, readable_completion, test_by_uuid};
use super::attempts::{self, ForSubmission};
use super::grading::Grading;
use crate::domain::grading::{grade, matched_variant};
use crate::domain::input::{Input, REQUIRED};
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

/// The submitted answers by question id, with every problem recorded in `input`.
fn read_answers(input: &mut Input, test: &Test) -> HashMap<i64, Response> {
    let mut responses = HashMap::new();
    let items = match input.raw("answers") {
        Some(Value::Array(items)) => items.clone(),
        None => {
            input.error("answers", REQUIRED);
            return responses;
        }
        Some(_) => {
            input.error("answers", "Expected a list of answers.");
            return responses;
        }
    };
    let questions: HashMap<i64, &Question> = test.questions.iter().map(|q| (q.id, q)).collect();
    for (i, item) in items.iter().enumerate() {
        let key = format!("answers[{i}]");
        let Some(item) = item.as_object() else {
            input.error(&key, "Expected an object with a question and a body.");
            continue;
        };
        let question_key = format!("{key}.question");
        let question = match item.get("question") {
            None | Some(Value::Null) => {
                input.error(&question_key, REQUIRED);
                continue;
            }
            Some(id) => match id.as_i64().and_then(|id| questions.get(&id)) {
                Some(q) => *q,
                None => {
                    input.error(
                        &question_key,
                        format!("Invalid pk {id} - not a question of this test."),
                    );
                    continue;
                }
            },
        };
        if responses.contains_key(&question.id) {
            input.error(
                &question_key,
                format!("Question {} is answered more than once.", question.id),
            );
            continue;
        }
        match read_response(question, item.get("body")) {
            Ok(response) => {
                responses.insert(question.id, response);
            }
            Err(problem) => input.error(&format!("{key}.body"), problem),
        }
    }
    responses
}

/// The test a submission names by its public uuid (the seed's `test` string). Only the
/// uuid is accepted: ids are guessable, and a regenerated link must close the test.
async fn submitted_test(
    store: &Store,
    input: &mut Input,
    me: &User,
) -> Result<Option<Test>, ApiError> {
    let test = match input.raw("test").cloned() {
        None | Some(Value::Null) => {
            input.error("test", REQUIRED);
            return Ok(None);
        }
        Some(Value::String(uuid)) => test_by_uuid(store, me, uuid.trim()).await?,
        Some(_) => None,
    };
    if test.is_none() {
        input.error("test", "No test has this public_uuid.");
    }
    Ok(test)
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
        submitted_at: crate::accounts::jwt::now(),
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
        super::attempts::announce_end(grading, attempt, &completion, false);
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

/// A REST submission's outcome.
pub struct Submission {
    pub completion: Completion,
    /// False: the attempt was already submitted at its deadline, and this is its completion.
    pub created: bool,
    /// The attempt it closed, whose live actor (if any) is now stale.
    pub closed_attempt: Option<i64>,
}

/// Submits a body `{test: public_uuid, answers: [...]}` for the caller, a student the test
/// is available to; answers with the completion (graded, or still grading code answers).
/// A timed test's submission follows the clock rule of [`super::attempts`].
pub async fn create(
    grading: &Grading,
    me: &User,
    mut input: Input,
) -> Result<Submission, ApiError> {
    let store = &grading.store;
    let test = submitted_test(store, &mut input, me).await?;
    let Some(test) = test else {
        input.finish()?;
        return Err(ApiError::internal("no test and no error"));
    };
    let groups = access_groups(store, me, &test).await?;
    if groups.is_empty() {
        return Err(ApiError::forbidden("This test is not available to you."));
    }
    let done = |completion| Submission {
        completion,
        created: false,
        closed_attempt: None,
    };
    let open = match attempts::for_submission(grading, me, &test, &groups).await? {
        ForSubmission::Untimed => None,
        ForSubmission::Open(attempt) => Some(attempt),
        ForSubmission::Done(completion) => return Ok(done(completion)),
    };
    // Attempts are counted by `submit` itself, atomically: no count of earlier ones here.
    let responses = read_answers(&mut input, &test);
    input.finish()?;
    let Some(open) = open else {
        let completion = submit(grading, me, &test, groups, responses, None, true).await?;
        return Ok(Submission {
            completion,
            created: true,
            closed_attempt: None,
        });
    };
    let Some(attempt) = attempts::claim(store, open.id).await? else {
        // Submitted meanwhile (its deadline, another device): that completion stands.
        return Ok(done(attempts::completion_of_claimed(store, open.id).await?));
    };
    match submit(grading, me, &test, groups, responses, Some(&attempt), true).await {
        Ok(completion) => {
            attempts::finish(store, attempt.id, completion.id).await?;
            Ok(Submission {
                completion,
                created: true,
                closed_attempt: Some(attempt.id),
            })
        }
        Err(err) => {
            attempts::release(store, attempt.id).await;
            Err(err)
        }
    }
}

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
