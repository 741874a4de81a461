//! Regrading a test's completions after its teacher fixed a question.
//!
//! Each completion holds a copy of every question it was answered against (its version,
//! see [`crate::testing::authoring`]). A regrade brings the copies of the chosen questions
//! up to the test's current version and grades the stored responses again:
//!
//! - **per completion, atomically**: one compare-and-swap of the completion (retried on a
//!   lost race, e.g. with a code verdict being written), score and answers together;
//! - **idempotently**: an answer whose copy already is the current version is left alone,
//!   so a second regrade of the same version changes nothing;
//! - **in the background**: the request answers a regrade id at once, and
//!   `GET /api/tests/{id}/regrades/{rid}/` shows progress and each changed completion's old
//!   and new score;
//! - **losing nothing to concurrent submissions**: after a pass over the completions it
//!   lists the test's completions again and takes those it has not seen, until a pass
//!   finds none (a submission that read the test before the edit is stored by then; one
//!   that read it after is graded against the current version anyway);
//! - a completion whose code answers still wait for their first verdict is taken once they
//!   have it (up to two minutes per regrade), so an old verdict never lands on a new version;
//! - code answers go back to the grader pool through the one grading path
//!   ([`super::grading::spawn`]), which announces their verdicts; other answers are graded
//!   at once and announced with `completion_graded` to watching teachers and the student.
//!
//! A dry run reports what would change and stores nothing (code answers are reported with no
//! new score: only the sandbox can tell).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use super::access::managed_test;
use super::grading::Grading;
use crate::domain::grading::{grade, matched_variant, total};
use crate::domain::input::Input;
use crate::error::ApiError;
use crate::store::{
    Answer, Completion, Filter, Question, Regrade, RegradeResult, Response, Store, StoreError,
    Test, User,
};

/// Completions regraded at once; code answers are further bounded by the pool.
const CONCURRENCY: usize = 16;
/// Progress is stored after every this many completions.
const PROGRESS_EVERY: usize = 64;
/// How long a regrade waits, in all, for first gradings of code answers still running.
const PATIENCE: Duration = Duration::from_secs(120);

/// A regrade as its test's teachers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Regrade)]
pub struct RegradeOut {
    pub id: i64,
    pub test: i64,
    /// Question ids regraded; empty: all of the test's.
    pub questions: Vec<i64>,
    pub dry_run: bool,
    /// `running` or `done`.
    pub status: &'static str,
    /// Completions of the test seen so far, and how many of them are done.
    pub total: u64,
    pub processed: u64,
    /// Completions whose answers changed (or would, in a dry run).
    pub changed: u64,
    pub results: Vec<RegradeResultOut>,
}

/// One completion the regrade changed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RegradeResult)]
pub struct RegradeResultOut {
    pub completion: i64,
    pub user: i64,
    pub old_score: f64,
    /// `null` while (or, in a dry run, because) a code answer waits for the sandbox.
    pub new_score: Option<f64>,
}

pub fn view(regrade: &Regrade) -> RegradeOut {
    RegradeOut {
        id: regrade.id,
        test: regrade.test_id,
        questions: regrade.questions.clone(),
        dry_run: regrade.dry_run,
        status: if regrade.finished { "done" } else { "running" },
        total: regrade.total,
        processed: regrade.processed,
        changed: regrade.results.len() as u64,
        results: regrade
            .results
            .iter()
            .map(|r| RegradeResultOut {
                completion: r.completion_id,
                user: r.user_id,
                old_score: r.old_score,
                new_score: r.new_score,
            })
            .collect(),
    }
}

/// What regrading did to one completion's answers.
#[derive(Debug, Default)]
struct Outcome {
    changed: bool,
    /// Some code answer went back to the sandbox.
    code: bool,
    /// Text answers that no longer match a variant and need an id of their own.
    unmatched_text: usize,
}

/// Brings the chosen answers of a completion to the current questions and grades them
/// again (a pure function: code answers are only marked pending). `ids`: ids for text
/// answers that stop matching any variant, taken in order.
fn regrade_answers(
    completion: &mut Completion,
    current: &HashMap<i64, &Question>,
    ids: &mut impl Iterator<Item = i64>,
) -> Outcome {
    let mut outcome = Outcome::default();
    for answer in &mut completion.answers {
        let Some(question) = current.get(&answer.question.id) else {
            continue;
        };
        if answer.question == **question {
            continue; // answered against this very version, or regraded to it already
        }
        outcome.changed = true;
        answer.question = (*question).clone();
        let graded = grade(question, &answer.response);
        answer.is_correct = graded.is_correct;
        answer.points = graded.points;
        answer.runtime_errors = None;
        // A code answer's checks belong to the verdict it is about to get again.
        answer.checks.clear();
        if graded.is_correct.is_none() {
            outcome.code = true;
        }
        renumber_text(answer, &mut outcome, ids);
    }
    if outcome.changed {
        completion.score = total(completion.answers.iter().map(|a| a.points));
        completion.max_score = completion
            .answers
            .iter()
            .map(|a| a.question.points as f64)
            .sum();
        completion.pending = completion.answers.iter().any(|a| a.is_correct.is_none());
    }
    outcome
}

/// A text answer shows the id of the variant it matches, or one of its own (see
/// `completions::number_unmatched_text`); the variants may have changed under it.
fn renumber_text(answer: &mut Answer, outcome: &mut Outcome, ids: &mut impl Iterator<Item = i64>) {
    let Response::Text(text) = &answer.response else {
        return;
    };
    if matched_variant(&answer.question, text).is_some() {
        answer.answer_id = None;
    } else if answer.answer_id.is_none() {
        outcome.unmatched_text += 1;
        answer.answer_id = ids.next();
    }
}

/// Reads the request: `questions` (ids of the test's questions; absent or empty: all) and
/// `dry_run`.
fn read_request(test: &Test, mut input: Input) -> Result<(Vec<i64>, bool), ApiError> {
    let questions = input.id_list("questions");
    // `null` reads as absent, as the documented `Option` allows.
    let dry_run = match input.raw("dry_run") {
        None | Some(serde_json::Value::Null) => false,
        Some(_) => input.optional_bool("dry_run").unwrap_or(false),
    };
    let known: BTreeSet<i64> = test.questions.iter().map(|q| q.id).collect();
    if let Some(bad) = questions.iter().find(|id| !known.contains(id)) {
        input.error(
            "questions",
            format!("Question {bad} is not a question of this test."),
        );
    }
    input.finish()?;
    let mut questions = questions;
    questions.sort_unstable();
    questions.dedup();
    Ok((questions, dry_run))
}

/// Starts a regrade of a test the caller manages; it runs in the background.
pub async fn start(
    grading: &Grading,
    me: &User,
    test_id: i64,
    input: Input,
) -> Result<Regrade, ApiError> {
    let test = managed_test(&grading.store, me, test_id).await?;
    let (questions, dry_run) = read_request(&test, input)?;
    let regrade = Regrade {
        id: 0,
        test_id: test.id,
        requested_by: me.id,
        questions,
        dry_run,
        total: 0,
        processed: 0,
        finished: false,
        created_at: crate::domain::clock::now(),
        finished_at: None,
        results: Vec::new(),
    };
    let regrade = grading.store.repo::<Regrade>().insert(regrade).await?;
    tracing::info!(regrade_id = regrade.id, test_id, dry_run, "regrade started");
    let (grading, started) = (grading.clone(), regrade.clone());
    tokio::spawn(async move {
        if let Err(err) = run(&grading, &started).await {
            tracing::error!(regrade_id = started.id, %err, "regrade failed");
        }
    });
    Ok(regrade)
}

/// A regrade of a test the caller manages.
pub async fn get(store: &Store, me: &User, test_id: i64, id: i64) -> Result<Regrade, ApiError> {
    let test = managed_test(store, me, test_id).await?;
    store
        .repo::<Regrade>()
        .get(id)
        .await?
        .filter(|r| r.test_id == test.id)
        .ok_or_else(ApiError::not_found)
}

/// Regrades every completion of the test, pass after pass until one finds none new.
async fn run(grading: &Grading, regrade: &Regrade) -> Result<(), StoreError> {
    let store = &grading.store;
    // The test as it is now: every completion is brought to this version.
    let Some(test) = store.tests().get(regrade.test_id).await? else {
        return finish(store, regrade.id, Vec::new(), 0, 0).await;
    };
    let current: HashMap<i64, Question> = test
        .questions
        .iter()
        .filter(|q| regrade.questions.is_empty() || regrade.questions.contains(&q.id))
        .map(|q| (q.id, q.clone()))
        .collect();
    let patience = tokio::time::Instant::now() + PATIENCE;
    let mut seen = BTreeSet::new();
    let mut results = Vec::new();
    let mut processed = 0u64;
    loop {
        let listed = store
            .completions()
            .find(&Filter::Eq("test_id", test.id.into()), None)
            .await?;
        let fresh: Vec<i64> = listed
            .iter()
            .map(|c| c.id)
            .filter(|id| seen.insert(*id))
            .collect();
        drop(listed);
        if fresh.is_empty() {
            break;
        }
        for chunk in fresh.chunks(PROGRESS_EVERY) {
            let mut running = tokio::task::JoinSet::new();
            let mut waiting = chunk.iter().copied();
            let mut spawn_next = |running: &mut tokio::task::JoinSet<_>| {
                if let Some(id) = waiting.next() {
                    let (grading, current) = (grading.clone(), current.clone());
                    let dry_run = regrade.dry_run;
                    running
                        .spawn(async move { one(&grading, id, &current, dry_run, patience).await });
                }
            };
            for _ in 0..CONCURRENCY {
                spawn_next(&mut running);
            }
            while let Some(done) = running.join_next().await {
                spawn_next(&mut running);
                processed += 1;
                match done {
                    Ok(Ok(Some(result))) => results.push(result),
                    Ok(Ok(None)) => {}
                    Ok(Err(err)) => return Err(err),
                    Err(err) => return Err(StoreError::Other(format!("regrade task: {err}"))),
                }
            }
            let total = seen.len() as u64;
            progress(store, regrade.id, &results, total, processed, false).await?;
        }
    }
    results.sort_by_key(|r| r.completion_id);
    let total = seen.len() as u64;
    finish(store, regrade.id, results, total, processed).await
}

/// Stores how far the regrade is; with `done`, that it is finished.
async fn progress(
    store: &Store,
    id: i64,
    results: &[RegradeResult],
    total: u64,
    processed: u64,
    done: bool,
) -> Result<(), StoreError> {
    store
        .repo::<Regrade>()
        .update(id, |r| {
            r.results = results.to_vec();
            r.total = total;
            r.processed = processed;
            if done {
                r.finished = true;
                r.finished_at = Some(crate::domain::clock::now());
            }
            Ok::<_, StoreError>(())
        })
        .await?;
    Ok(())
}

async fn finish(
    store: &Store,
    id: i64,
    results: Vec<RegradeResult>,
    total: u64,
    processed: u64,
) -> Result<(), StoreError> {
    progress(store, id, &results, total, processed, true).await?;
    tracing::info!(regrade_id = id, total, "regrade finished");
    Ok(())
}

/// The completion, once no code answer of a question being regraded waits for a verdict
/// from its first grading (a verdict from the old checks must not land on the new version),
/// or as it is when `patience` runs out (the sandbox may be down: its answers then wait for
/// the next start, which grades them against the version the regrade gives them).
async fn settled(
    store: &Store,
    id: i64,
    current: &HashMap<i64, Question>,
    patience: tokio::time::Instant,
) -> Result<Option<Completion>, StoreError> {
    loop {
        let Some(completion) = store.completions().get(id).await? else {
            return Ok(None);
        };
        let in_flight = completion.answers.iter().any(|a| {
            a.is_correct.is_none()
                && current
                    .get(&a.question.id)
                    .is_some_and(|q| *q != a.question)
        });
        if !in_flight || tokio::time::Instant::now() >= patience {
            return Ok(Some(completion));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Regrades one completion; `Some` when it changed (or would, in a dry run).
async fn one(
    grading: &Grading,
    id: i64,
    current: &HashMap<i64, Question>,
    dry_run: bool,
    patience: tokio::time::Instant,
) -> Result<Option<RegradeResult>, StoreError> {
    let store = &grading.store;
    let Some(mut before) = settled(store, id, current, patience).await? else {
        return Ok(None);
    };
    let current: HashMap<i64, &Question> = current.iter().map(|(k, v)| (*k, v)).collect();
    let old_score = before.score;
    // A dry run grades a copy; ids for unmatched text answers are not needed to score it.
    let probe = regrade_answers(&mut before, &current, &mut std::iter::empty());
    if !probe.changed {
        return Ok(None);
    }
    let result = |c: &Completion, code: bool| RegradeResult {
        completion_id: c.id,
        user_id: c.user_id,
        old_score,
        new_score: (!code).then_some(c.score),
    };
    if dry_run {
        return Ok(Some(result(&before, probe.code)));
    }
    let ids = store.reserve_ids("variants", probe.unmatched_text).await?;
    let mut outcome = Outcome::default();
    let mut old = old_score;
    let updated = store
        .completions()
        .update(id, |c| {
            old = c.score;
            outcome = regrade_answers(c, &current, &mut ids.iter().copied());
            Ok::<_, StoreError>(())
        })
        .await?;
    let Some(completion) = updated else {
        return Ok(None); // deleted meanwhile
    };
    if !outcome.changed {
        return Ok(None); // another regrade got there first
    }
    if outcome.code {
        // The verdicts come back through the one grading path, which announces them.
        let running = super::grading::spawn(grading.clone(), id);
        let _ = running.await;
        let graded = store.completions().get(id).await?.unwrap_or(completion);
        let mut result = result(&graded, graded.pending);
        result.old_score = old;
        return Ok(Some(result));
    }
    super::grading::announce_graded(grading, &completion, None).await;
    let mut result = result(&completion, false);
    result.old_score = old;
    Ok(Some(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{QuestionKind, Variant};

    fn radio(right: i64) -> Question {
        Question {
            id: 7,
            text: "2 + 2?".into(),
            kind: QuestionKind::Radio,
            number_in_test: 1,
            points: 2,
            variants: vec![
                Variant {
                    id: 1,
                    text: "4".into(),
                    is_correct: right == 1,
                },
                Variant {
                    id: 2,
                    text: "5".into(),
                    is_correct: right == 2,
                },
            ],
            testing_code: None,
            strict_score: true,
            version: right,
            language: Default::default(),
            test_cases: Vec::new(),
        }
    }

    fn completion(picked: i64, question: Question) -> Completion {
        let graded = grade(&question, &Response::Single(picked));
        Completion {
            id: 1,
            test_id: 1,
            test_uuid: String::new(),
            test_name: String::new(),
            organization_id: 1,
            creator_id: 1,
            user_id: 2,
            groups: vec![],
            submitted_at: 0,
            started_at: None,
            answers: vec![Answer {
                question,
                response: Response::Single(picked),
                is_correct: graded.is_correct,
                points: graded.points,
                runtime_errors: None,
                checks: Vec::new(),
                answer_id: None,
            }],
            score: graded.points,
            max_score: 2.0,
            pending: false,
            attempt_key: None,
        }
    }

    #[test]
    fn a_fixed_key_regrades_once_and_a_second_regrade_changes_nothing() {
        let fixed = radio(2);
        let current = HashMap::from([(7, &fixed)]);
        let mut c = completion(2, radio(1));
        assert_eq!(c.score, 0.0);
        let first = regrade_answers(&mut c, &current, &mut std::iter::empty());
        assert!(first.changed && !first.code);
        assert_eq!((c.score, c.answers[0].is_correct), (2.0, Some(true)));
        let second = regrade_answers(&mut c, &current, &mut std::iter::empty());
        assert!(!second.changed);
        assert_eq!(c.score, 2.0);
    }

    #[test]
    fn questions_not_chosen_are_left_alone() {
        let mut c = completion(2, radio(1));
        let outcome = regrade_answers(&mut c, &HashMap::new(), &mut std::iter::empty());
        assert!(!outcome.changed);
        assert_eq!(c.score, 0.0);
    }
}
