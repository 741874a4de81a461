//! Grading code answers: from a stored completion to the grader pool and back.
//!
//! A completion is stored (durably) before it is acknowledged, its code answers marked
//! pending. [`spawn`] sends them to the pool and writes the verdicts back; a server killed
//! meanwhile finds the pending completions at its next start ([`resume`]) and grades them.
//!
//! With several servers on one MongoDB, a completion is graded by the server that claims it
//! ([`Store::claim`]): the claim is renewed while grading and given back after; the others
//! look for pending completions every lease ([`sweep`]) and take over one whose claim ran
//! out (its server died). A verdict is written only onto an answer still pending, so each
//! answer is graded, and announced, once.
//!
//! Points of a code question: with `strict_score`, all or nothing; without, shared in
//! proportion to the weight of the units that passed: each `test_*` function (or the
//! top-level asserts) weighs 1, each input/output test case its own points.

use std::time::Duration;

use actix::Addr;
use actors::grader::{Grade, GraderPool, RuntimeStatus, Status};
use actors::hub::{Event, Hub, Publish, Topic};
use actors::sandbox::{Job, Language, Limits, Outcome, TestCase, Verdict};
use serde_json::{json, Value};

use crate::store::{
    Attempt, CheckResult, Claim, Completion, Filter, Question, Response, Store, StoreError, User,
};

/// What submitting and grading need: the store, the pool, the hub that tells watchers, and
/// how long a submission waits for its verdicts. Cheap to clone.
#[derive(Clone)]
pub struct Grading {
    pub store: Store,
    pub grader: Addr<GraderPool>,
    pub hub: Addr<Hub>,
    pub wait: Duration,
    /// Seconds after a timed attempt's deadline that a REST submission is still accepted.
    pub grace: i64,
    /// How long a claim on grading a completion lasts unless renewed (several servers).
    pub lease: Duration,
}

/// Sends one event to the test's watchers and its counterpart to the completion's student.
fn tell(grading: &Grading, completion: &Completion, teachers: &Value, student: &Value) {
    grading.hub.do_send(Publish {
        topics: vec![Topic::Test(completion.test_id)],
        event: Event(teachers.to_string().into()),
    });
    grading.hub.do_send(Publish {
        topics: vec![Topic::User(completion.user_id)],
        event: Event(student.to_string().into()),
    });
}

/// Tells the test's watchers (graded view) and the student (their view) that a completion
/// has its final score. `student` is the completion's user when the caller has it at hand.
pub async fn announce_graded(grading: &Grading, completion: &Completion, student: Option<&User>) {
    let user = match student.filter(|u| u.id == completion.user_id) {
        Some(user) => Some(user.clone()),
        None => grading
            .store
            .users()
            .get(completion.user_id)
            .await
            .ok()
            .flatten(),
    };
    tell_graded(grading, completion, user.as_ref());
}

/// [`announce_graded`] with the completion's user at hand (or none to be found).
fn tell_graded(grading: &Grading, completion: &Completion, user: Option<&User>) {
    let teachers = serde_json::json!({ "type": "completion_graded",
        "completion": super::views::graded_completion(completion, user) });
    let student = serde_json::json!({ "type": "completion_graded",
        "completion": super::views::student_completion(completion, None) });
    tell(grading, completion, &teachers, &student);
}

/// What a verdict earns on a question: correctness, points, and the explanation teachers see.
pub fn score(question: &Question, verdict: &Verdict) -> (bool, f64, Option<String>) {
    let passed = verdict.outcome == Outcome::Passed;
    let points = question.points as f64;
    let (passed_weight, total_weight) = verdict.passed_weight();
    let earned = if passed {
        points
    } else if question.strict_score || total_weight == 0 {
        0.0
    } else {
        points * passed_weight as f64 / total_weight as f64
    };
    (passed, earned, verdict.explanation())
}

/// Each scored unit of a verdict, as stored with the answer for teachers.
pub fn checks(verdict: &Verdict) -> Vec<CheckResult> {
    verdict
        .units
        .iter()
        .map(|unit| CheckResult {
            name: unit.name.clone(),
            passed: unit.passed,
            weight: i64::from(unit.weight),
            detail: unit.detail.clone(),
        })
        .collect()
}

/// The sandbox's job for a code answer to a question.
pub fn job(question: &Question, code: &str) -> Job {
    Job {
        language: question.language,
        code: code.to_owned(),
        testing_code: question.testing_code.clone().unwrap_or_default(),
        test_cases: question
            .test_cases
            .iter()
            .map(|case| TestCase {
                stdin: case.stdin.clone(),
                expected_output: case.expected_output.clone(),
                points: u32::try_from(case.points).unwrap_or(0),
            })
            .collect(),
        limits: Limits::default(),
    }
}

/// Tells the test's watchers (with correctness and points) and the student (progress only,
/// as their view of a code answer shows no correctness) that one answer is graded.
fn announce_answer(grading: &Grading, completion: &Completion, index: usize) {
    let Some(answer) = completion.answers.get(index) else {
        return;
    };
    let pending = completion
        .answers
        .iter()
        .filter(|a| a.is_correct.is_none())
        .count();
    let teachers = serde_json::json!({ "type": "answer_graded", "completion": completion.id,
        "user": completion.user_id, "question": answer.question.id, "is_correct": answer.is_correct,
        "points": crate::domain::grading::truncated(answer.points),
        "points_exact": super::views::number(answer.points), "runtime_errors": answer.runtime_errors,
        "checks": answer.checks, "answers_pending": pending });
    let student = serde_json::json!({ "type": "answer_graded", "completion": completion.id,
        "question": answer.question.id, "answers_pending": pending });
    tell(grading, completion, &teachers, &student);
}

/// Grades the pending code answers of one completion. Each verdict is stored and announced
/// as it arrives (`answer_graded`), and the completion once none is left (`completion_graded`).
pub async fn grade(grading: &Grading, completion_id: i64) -> Result<(), StoreError> {
    let store = &grading.store;
    let key = format!("grade:{completion_id}");
    let Some(claim) = store.claim(&key, grading.lease).await? else {
        return Ok(()); // another server grades it
    };
    let graded = grade_claimed(grading, completion_id, &claim).await;
    // Given back either way: what is left pending is for whoever claims it next.
    if let Err(err) = claim.release(store).await {
        tracing::warn!(completion_id, %err, "grading claim not released; it expires");
    }
    graded
}

async fn grade_claimed(
    grading: &Grading,
    completion_id: i64,
    claim: &Claim,
) -> Result<(), StoreError> {
    let (store, grader) = (&grading.store, &grading.grader);
    let Some(completion) = store.completions().get(completion_id).await? else {
        return Ok(());
    };
    // Without a runtime for their language the answers stay pending, for a start that has
    // one.
    let mut unavailable = std::collections::HashSet::new();
    for language in Language::ALL {
        if let Ok(RuntimeStatus::Failed(why)) = grader.send(Status(language)).await {
            let language = language.as_str();
            tracing::warn!(completion_id, language, %why, "runtime unavailable");
            unavailable.insert(language);
        }
    }
    // Sent at once: the pool grades them in parallel, and they are taken as they finish.
    let mut running = tokio::task::JoinSet::new();
    for (index, answer) in completion.answers.iter().enumerate() {
        if let (Response::Code(code), None) = (&answer.response, answer.is_correct) {
            if unavailable.contains(answer.question.language.as_str()) {
                tracing::warn!(completion_id, index, "code answer left pending");
                continue;
            }
            let request = grader.send(Grade(job(&answer.question, code)));
            let in_flight = &crate::metrics::metrics().grading_in_flight;
            in_flight.inc();
            running.spawn(async move {
                let verdict = request.await;
                in_flight.dec();
                (index, verdict)
            });
        }
    }
    let (mut graded, mut failed) = (0, 0);
    let mut renewal = tokio::time::interval(claim.lease() / 3);
    renewal.tick().await; // the first tick is now
    loop {
        let finished = tokio::select! {
            finished = running.join_next() => match finished {
                Some(finished) => finished,
                None => break,
            },
            _ = renewal.tick() => {
                if !claim.renew(store).await? {
                    // Too slow to renew: another server took over; its verdicts count.
                    tracing::warn!(completion_id, "grading claim lost; leaving it to its new holder");
                    return Ok(());
                }
                continue;
            }
        };
        let (index, verdict) = match finished {
            Ok((index, Ok(verdict))) => {
                count_verdict(&verdict.outcome);
                (index, verdict)
            }
            Ok((_, Err(err))) => {
                tracing::error!(completion_id, %err, "grader unreachable");
                failed += 1;
                continue;
            }
            Err(err) => {
                tracing::error!(completion_id, %err, "grading task failed");
                failed += 1;
                continue;
            }
        };
        // Not the student's fault: left pending, graded again at the next start.
        if let Outcome::InternalError(why) = &verdict.outcome {
            tracing::error!(completion_id, %why, "grading failed inside the sandbox");
            failed += 1;
            continue;
        }
        let mut written = false;
        let updated = store
            .completions()
            .update(completion_id, |c| {
                written = false;
                // Already graded (by a server whose claim ran out before it wrote): once.
                if let Some(answer) = c.answers.get_mut(index).filter(|a| a.is_correct.is_none()) {
                    written = true;
                    let (passed, points, explanation) = score(&answer.question, &verdict);
                    answer.is_correct = Some(passed);
                    answer.points = points;
                    answer.runtime_errors = explanation;
                    answer.checks = checks(&verdict);
                }
                c.score = crate::domain::grading::total(c.answers.iter().map(|a| a.points));
                c.pending = c.answers.iter().any(|a| a.is_correct.is_none());
                Ok::<_, StoreError>(())
            })
            .await?;
        let Some(completion) = updated else {
            return Ok(()); // deleted meanwhile
        };
        if !written {
            continue;
        }
        graded += 1;
        announce_answer(grading, &completion, index);
        if !completion.pending {
            announce_graded(grading, &completion, None).await;
        }
    }
    if failed > 0 {
        tracing::error!(completion_id, failed, "answers left pending");
    }
    tracing::info!(completion_id, graded, "code answers graded");
    Ok(())
}

/// Counts a verdict in `grading_verdicts_total{outcome}`.
fn count_verdict(outcome: &Outcome) {
    let label = match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) => "failed",
        Outcome::RuntimeError(_) => "runtime_error",
        Outcome::TimeLimit => "time_limit",
        Outcome::MemoryLimit => "memory_limit",
        Outcome::OutputLimit => "output_limit",
        Outcome::InternalError(_) => "internal_error",
    };
    crate::metrics::metrics()
        .grading_verdicts
        .with_label_values(&[label])
        .inc();
}

/// What follows a stored live submission once its attempt's end is announced: its code
/// answers go to the sandbox (which announces each verdict), or, with none, its score is
/// announced now (not from a task of its own, which a busy worker would run late). Nothing
/// waits: the student has the completion already.
pub fn after_submission(grading: Grading, completion: Completion, student: User) {
    if completion.pending {
        spawn(grading, completion.id);
    } else {
        tell_graded(&grading, &completion, Some(&student));
    }
}

/// Grades a completion in the background; the task outlives the request that started it.
pub fn spawn(grading: Grading, completion_id: i64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(err) = grade(&grading, completion_id).await {
            tracing::error!(completion_id, %err, "grading failed; it resumes at the next start");
        }
    })
}

/// With several servers: grades, every lease, the completions left pending whose claim ran
/// out (their server died mid-grading), while `alive` says the server runs.
pub fn sweep(grading: Grading, alive: impl Fn() -> bool + Send + 'static) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(grading.lease);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await; // `resume` ran at start
        loop {
            every.tick().await;
            if !alive() {
                break;
            }
            if let Err(err) = resume(&grading).await {
                tracing::warn!(%err, "looking for pending grading failed");
            }
        }
    });
}

/// Grades every completion left pending (by a server stopped mid-grading).
pub async fn resume(grading: &Grading) -> Result<usize, StoreError> {
    let pending: Vec<Completion> = grading
        .store
        .completions()
        .find(&Filter::Eq("pending", Value::Bool(true)), None)
        .await?;
    for completion in &pending {
        spawn(grading.clone(), completion.id);
    }
    if !pending.is_empty() {
        tracing::info!(
            count = pending.len(),
            "resuming the grading of pending completions"
        );
    }
    Ok(pending.len())
}

/// Tells the test's watchers and the student's devices that an attempt ended.
pub fn announce_end(
    grading: &Grading,
    attempt: &Attempt,
    completion: &Completion,
    timed_out: bool,
) {
    let kind = if timed_out {
        "attempt_timed_out"
    } else {
        "attempt_submitted"
    };
    let view = super::views::student_completion(completion, None);
    let event = json!({ "type": kind, "attempt": attempt.id, "user": attempt.user_id,
        "completion": view });
    grading.hub.do_send(Publish {
        topics: vec![Topic::Test(attempt.test_id), Topic::User(attempt.user_id)],
        event: Event(event.to_string().into()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::QuestionKind;
    use actors::sandbox::UnitResult;

    fn question(strict: bool) -> Question {
        Question {
            id: 1,
            text: "q".into(),
            kind: QuestionKind::Code,
            number_in_test: 1,
            points: 6,
            variants: vec![],
            testing_code: Some("assert f() == 1".into()),
            strict_score: strict,
            version: 0,
            language: Default::default(),
            test_cases: Vec::new(),
        }
    }

    fn verdict(passed: &[bool]) -> Verdict {
        let units = passed
            .iter()
            .enumerate()
            .map(|(i, p)| UnitResult::new(format!("test_{i}"), *p))
            .collect();
        let outcome = if passed.iter().all(|p| *p) {
            Outcome::Passed
        } else {
            Outcome::Failed("line 1".into())
        };
        Verdict {
            outcome,
            units,
            stdout: String::new(),
        }
    }

    #[test]
    fn strict_code_questions_are_all_or_nothing() {
        assert_eq!(score(&question(true), &verdict(&[true, true, true])).1, 6.0);
        assert_eq!(
            score(&question(true), &verdict(&[true, false, true])),
            (false, 0.0, Some("line 1".into()))
        );
    }

    #[test]
    fn lenient_code_questions_share_points_by_units_passed() {
        let (passed, points, _) = score(&question(false), &verdict(&[true, false, true]));
        assert!(!passed);
        assert_eq!(points, 4.0);
        let timed_out = Verdict::ended_early(Outcome::TimeLimit, &["a".into(), "b".into()]);
        assert_eq!(
            score(&question(false), &timed_out),
            (false, 0.0, Some("Time limit exceeded.".into()))
        );
    }

    #[test]
    fn test_cases_share_points_by_their_own_points() {
        let mut v = verdict(&[true, false]);
        v.units[0].weight = 1;
        v.units[1].weight = 2;
        assert_eq!(score(&question(false), &v).1, 2.0);
        assert_eq!(score(&question(true), &v).1, 0.0);
    }
}
