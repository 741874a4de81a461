//! Completions: a student's submitted answers to a test, graded on submission.
//!
//! `POST /api/completions/` names the test by its public uuid (as the seed's `test` string)
//! and answers questions by id. A completion answers each question at most once and only
//! questions of its test; unanswered questions, and empty answers, score 0 (and are shown in
//! the shape of their kind, answered with nothing). Each completion keeps a copy of the
//! questions it was graded against, so later edits of the test never change it.

use std::collections::{BTreeSet, HashMap};

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};

use super::input::{Body, Input, REQUIRED};
use super::pagination::{self, ListParams};
use super::present::{number, timestamp, MemberOut};
use super::tests::{access_groups, manages, test_by_uuid};
use crate::auth::AuthUser;
use crate::domain::grading::grade;
use crate::error::ApiError;
use crate::grading::Grading;
use crate::startup::AppState;
use crate::store::{
    Answer, Completion, Filter, Group, Question, QuestionKind, Response, Store, Test, User,
};

const MAX_ANSWER_TEXT_CHARS: usize = 10_000;
const MAX_CODE_CHARS: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// Views.

fn picked(question: &Question, id: i64, with_correctness: bool) -> Value {
    let variant = question.variants.iter().find(|v| v.id == id);
    let mut out = json!({ "id": id, "text": variant.map_or("", |v| v.text.as_str()) });
    if with_correctness {
        out["is_correct"] = json!(variant.is_some_and(|v| v.is_correct));
    }
    out
}

/// An answer's `body`, as submitted; `with_correctness` adds what only teachers see.
fn answer_body(answer: &Answer, with_correctness: bool) -> Value {
    let q = &answer.question;
    let mut body = match &answer.response {
        // Scored as unanswered, yet shown in the shape of the question's kind, as answered
        // with nothing: clients read `body.picked_variant.text` and the like without checking.
        Response::Unanswered => match q.kind {
            QuestionKind::Text | QuestionKind::Radio => {
                let mut pv = json!({ "id": null, "text": "" });
                if with_correctness {
                    pv["is_correct"] = json!(false);
                }
                json!({ "picked_variant": pv })
            }
            QuestionKind::Check => json!({ "picked_variants": [] }),
            QuestionKind::Code => json!({ "code": "" }),
        },
        Response::Text(text) => {
            let mut pv = json!({ "id": null, "text": text });
            if with_correctness {
                pv["is_correct"] = json!(answer.is_correct == Some(true));
            }
            json!({ "picked_variant": pv })
        }
        Response::Single(id) => json!({ "picked_variant": picked(q, *id, with_correctness) }),
        Response::Multiple(ids) => {
            json!({ "picked_variants": ids.iter().map(|id| picked(q, *id, with_correctness)).collect::<Vec<_>>() })
        }
        Response::Code(code) if answer.is_correct.is_none() => {
            // Still being graded: said to everyone, as it reveals nothing.
            json!({ "code": code, "is_correct": null })
        }
        Response::Code(code) => json!({ "code": code }),
    };
    if with_correctness {
        body["is_correct"] = json!(answer.is_correct);
        if q.kind == QuestionKind::Code {
            // `runtime_errors` as the seed documents it, `errors` as the original sent it.
            body["runtime_errors"] = json!(answer.runtime_errors);
            body["errors"] = json!(answer.runtime_errors);
        }
    }
    body
}

/// `grading` while code answers wait for the sandbox, then `graded`.
fn status(c: &Completion) -> &'static str {
    if c.pending {
        "grading"
    } else {
        "graded"
    }
}

/// A completion as its student sees it (seed 1.1/1.2): no correctness. `test` is the test's
/// current public uuid (the one at submission if the test was deleted since).
pub fn student_view(c: &Completion, current_uuid: Option<&str>) -> Value {
    let answers: Vec<Value> = c
        .answers
        .iter()
        .map(|a| json!({ "question": a.question.id, "body": answer_body(a, false) }))
        .collect();
    json!({
        "id": c.id, "user": c.user_id, "test": current_uuid.unwrap_or(&c.test_uuid), "answers": answers,
        "score": number(c.score), "max_score": number(c.max_score),
        "submitted_at": timestamp(c.submitted_at), "status": status(c),
    })
}

/// A completion with correctness and points, as the test's managers see it (seed 1.3).
pub fn graded_view(c: &Completion, user: Option<&User>) -> Value {
    let answers: Vec<Value> = c
        .answers
        .iter()
        .map(|a| json!({ "question": a.question.id, "body": answer_body(a, true), "points": number(a.points) }))
        .collect();
    let user = match user {
        Some(user) => json!(MemberOut::from(user)),
        None => json!({ "id": c.user_id }),
    };
    json!({
        "id": c.id, "user": user, "test": c.test_id, "answers": answers,
        "score": number(c.score), "max_score": number(c.max_score),
        "submitted_at": timestamp(c.submitted_at), "status": status(c),
    })
}

/// The students of some completions, read at once.
async fn students_of(
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
async fn student_views(store: &Store, completions: &[Completion]) -> Result<Vec<Value>, ApiError> {
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
        .map(|c| student_view(c, uuids.get(&c.test_id).map(String::as_str)))
        .collect())
}

async fn one_student_view(store: &Store, completion: &Completion) -> Result<Value, ApiError> {
    let mut views = student_views(store, std::slice::from_ref(completion)).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::internal("presenting one completion gave none"))
}

/// Graded views of completions.
pub async fn graded_views(
    store: &Store,
    completions: &[Completion],
) -> Result<Vec<Value>, ApiError> {
    let users = students_of(store, completions).await?;
    Ok(completions
        .iter()
        .map(|c| graded_view(c, users.get(&c.user_id)))
        .collect())
}

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
    state: &AppState,
    input: &mut Input,
    me: &User,
) -> Result<Option<Test>, ApiError> {
    let test = match input.raw("test").cloned() {
        None | Some(Value::Null) => {
            input.error("test", REQUIRED);
            return Ok(None);
        }
        Some(Value::String(uuid)) => test_by_uuid(state, me, uuid.trim()).await?,
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
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Submitting.

fn attempts_of(test: &Test, user: &User) -> Filter {
    Filter::And(vec![
        Filter::Eq("test_id", test.id.into()),
        Filter::Eq("user_id", user.id.into()),
    ])
}

/// How many completions the student has made of the test; 403 when no attempt is left.
pub async fn attempts_left(store: &Store, me: &User, test: &Test) -> Result<i64, ApiError> {
    let used = store.completions().count(&attempts_of(test, me)).await? as i64;
    match test.max_attempts {
        Some(max) if used >= max => Err(no_attempts_left(max)),
        _ => Ok(used),
    }
}

/// Takes the student's next attempt number at the test in one atomic counter write (so
/// concurrent submissions get distinct numbers and never pass `max_attempts`, at a cost that
/// does not grow with earlier completions); 403 when no attempt is left. The counter of a
/// student who submitted before counters were kept starts from their completions.
async fn next_attempt(store: &Store, me: &User, test: &Test) -> Result<i64, ApiError> {
    let sequence = format!("attempts:{}:{}", test.id, me.id);
    let seed = || async {
        let used = store.completions().count(&attempts_of(test, me)).await?;
        Ok(i64::try_from(used).unwrap_or(i64::MAX))
    };
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
/// code answers.
pub async fn submit(
    grading: &Grading,
    me: &User,
    test: &Test,
    groups: Vec<Group>,
    responses: HashMap<i64, Response>,
    // False for live submissions, which announce the attempt's end before the grading.
    announce_and_grade: bool,
) -> Result<Completion, ApiError> {
    let answers = grade_all(test, responses);
    let mut completion = Completion {
        id: 0,
        test_id: test.id,
        test_uuid: test.public_uuid.clone(),
        test_name: test.name.clone(),
        organization_id: test.organization_id,
        creator_id: test.creator_id,
        user_id: me.id,
        groups: groups.into_iter().map(|g| g.name).collect(),
        submitted_at: crate::auth::jwt::now(),
        score: answers.iter().map(|a| a.points).sum(),
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
    if !completion.pending {
        // Graded at once: watchers hear it now (pending ones hear it from the grading).
        crate::grading::announce_graded(grading, &completion, Some(me)).await;
    } else {
        let running = crate::grading::spawn(grading.clone(), completion.id);
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
// Handlers.

/// `POST /api/completions/`.
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let me = &auth.user;
    let mut input = body.0;
    let test = submitted_test(&state, &mut input, me).await?;
    let Some(test) = test else {
        input.finish()?;
        return Err(ApiError::internal("no test and no error"));
    };
    let groups = access_groups(&state.store, me, &test).await?;
    if groups.is_empty() {
        return Err(ApiError::forbidden("This test is not available to you."));
    }
    // Attempts are counted by `submit` itself, atomically: no count of earlier ones here.
    let responses = read_answers(&mut input, &test);
    input.finish()?;
    let completion = submit(&state.grading, me, &test, groups, responses, true).await?;
    Ok(HttpResponse::Created().json(student_view(&completion, None)))
}

/// The completion if the caller may read it: its student, or the test's managers.
async fn readable(state: &AppState, me: &User, id: i64) -> Result<(Completion, bool), ApiError> {
    let completion = state
        .store
        .completions()
        .get(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let manager = manages(
        &state.store,
        me,
        completion.creator_id,
        completion.organization_id,
    )
    .await?;
    if manager || completion.user_id == me.id {
        Ok((completion, manager))
    } else {
        Err(ApiError::not_found())
    }
}

/// `GET /api/completions/{id}/`.
pub async fn retrieve(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (completion, _) = readable(&state, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(one_student_view(&state.store, &completion).await?))
}

/// `GET /api/completions/{id}/with_correctness/`: the test's managers only.
pub async fn with_correctness(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (completion, manager) = readable(&state, &auth.user, path.into_inner()).await?;
    if !manager {
        return Err(ApiError::forbidden(
            "Correctness is shown to the test's teachers only.",
        ));
    }
    let user = state.store.users().get(completion.user_id).await?;
    Ok(HttpResponse::Ok().json(graded_view(&completion, user.as_ref())))
}

/// Answers a page of completions matching `filter`, presented by `view`.
async fn list_matching(
    req: &HttpRequest,
    state: &AppState,
    params: ListParams,
    filter: Filter,
    graded: bool,
) -> Result<HttpResponse, ApiError> {
    let completions = state.store.completions();
    let count = completions.count(&filter).await?;
    let page = completions.find(&filter, params.page).await?;
    let views = if graded {
        graded_views(&state.store, &page).await?
    } else {
        student_views(&state.store, &page).await?
    };
    Ok(pagination::respond(req, params, count, views))
}

/// `GET /api/users/me/completions/`.
pub async fn mine(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    list_matching(
        &req,
        &state,
        params,
        Filter::Eq("user_id", auth.user.id.into()),
        false,
    )
    .await
}

/// `GET /api/tests/{id}/completions/`: every completion of a test the caller manages.
pub async fn of_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let test = super::tests::managed_test(&state, &auth.user, path.into_inner()).await?;
    list_matching(
        &req,
        &state,
        params,
        Filter::Eq("test_id", test.id.into()),
        true,
    )
    .await
}

/// `GET /api/tests/p/{public_uuid}/completions/`: the caller's completions of that test.
pub async fn mine_of_public_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let test = test_by_uuid(&state, &auth.user, &path)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let filter = Filter::And(vec![
        Filter::Eq("test_id", test.id.into()),
        Filter::Eq("user_id", auth.user.id.into()),
    ]);
    list_matching(&req, &state, params, filter, false).await
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
    let users = students_of(store, &completions).await?;
    Ok(completions
        .into_iter()
        .map(|c| {
            let user = users.get(&c.user_id).cloned();
            (c, user)
        })
        .collect())
}
