//! A REST submission (`POST /api/completions/`): the body read, the test's access and clock
//! checked ([`super::attempts`]), then stored through [`super::completions::submit`], the
//! same as a live attempt's.

use std::collections::HashMap;

use serde_json::Value;

use super::access::{access_groups, test_by_uuid};
use super::attempts::{self, ForSubmission};
use super::completions::{read_response, submit};
use super::grading::Grading;
use crate::domain::input::{Input, REQUIRED};
use crate::error::ApiError;
use crate::store::{Completion, Question, Response, Store, Test, User};

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
