//! Attempts and their clock: one rule for every path, REST and live.
//!
//! An attempt starts when the server first shows a student a timed test (`GET
//! /api/tests/p/{uuid}/`) or when a live attempt begins over the WebSocket, whichever comes
//! first; either path finds the attempt the other started, so its clock never restarts.
//! Its deadline is `started_at + time_limit_seconds` ([`deadline`]), kept in the store with
//! it, so it holds across restarts.
//!
//! - Live saves are refused from the deadline on; a live attempt still open at its deadline
//!   is submitted by the server with what was saved (the attempt actor's timer).
//! - A REST submission of a timed test belongs to the student's open attempt and is
//!   accepted until its deadline plus the grace ([`in_time`], `TESTIT_TIME_LIMIT_GRACE`);
//!   later it is `time_limit_passed`, and with no attempt on record `attempt_not_started`,
//!   and nothing is stored.
//! - A REST submission whose attempt was already submitted at or after its deadline (by
//!   the server, or late over the WebSocket) answers that completion: never a second one.
//! - Exactly one submission stores a completion per attempt, whatever races: each path
//!   first [`claim`]s the attempt in one compare-and-swap write.
//! - An attempt only shown over REST and left past its deadline and grace is submitted
//!   when the student next opens the test (nothing was saved, so it scores 0 and uses the
//!   attempt); then the next attempt starts, if one is left.

use actors::hub::{Event, Publish, Topic};
use serde_json::{json, Value};

use super::access::access_groups;
use super::completions::{attempts_left, read_response, submit};
use super::grading::{after_submission, Grading};
use crate::error::{ApiError, ErrorCode};
use crate::organizations::views::MemberOut;
use crate::store::{Attempt, Completion, FieldPath, Filter, Store, StoreError, Test, User};

/// The clock of every rule here: Unix seconds.
pub fn now() -> i64 {
    crate::accounts::jwt::now()
}

/// When an attempt at `test` started at `started_at` ends: `None` for an untimed test.
pub fn deadline(test: &Test, started_at: i64) -> Option<i64> {
    test.time_limit_seconds
        .map(|limit| started_at.saturating_add(limit))
}

/// Whether a submission at `at` of an attempt ending at `deadline` is in time: up to the
/// deadline plus `grace` seconds (the network, a slow client's last click).
pub fn in_time(deadline: Option<i64>, grace: i64, at: i64) -> bool {
    deadline.is_none_or(|d| at <= d.saturating_add(grace))
}

fn open_key(test_id: i64, user_id: i64) -> String {
    format!("{test_id}:{user_id}")
}

fn field(key: &str) -> Result<FieldPath, StoreError> {
    FieldPath::parse([key])
}

/// The student's open attempt at the test, if any.
pub async fn open_attempt(
    store: &Store,
    test: &Test,
    me: &User,
) -> Result<Option<Attempt>, ApiError> {
    let open = Filter::Eq("open_key", open_key(test.id, me.id).into());
    Ok(store.repo::<Attempt>().find_one(&open).await?)
}

/// Starts the student's attempt at the test, or finds the one open (a reload, another
/// device, or the test shown over REST first): its clock never restarts. `live`: over the
/// WebSocket, so the server submits it at its deadline. Answers the attempt and whether it
/// was open already; 403 when no attempt is left.
pub async fn start(
    grading: &Grading,
    me: &User,
    test: &Test,
    live: bool,
) -> Result<(Attempt, bool), ApiError> {
    let store = &grading.store;
    let attempts = store.repo::<Attempt>();
    loop {
        if let Some(mut attempt) = open_attempt(store, test, me).await? {
            if live && !attempt.live {
                attempts
                    .set_field(attempt.id, &field("live")?, Value::Bool(true))
                    .await?;
                attempt.live = true;
            }
            return Ok((attempt, true));
        }
        attempts_left(store, me, test).await?;
        let started_at = now();
        let new = Attempt {
            id: 0,
            test_id: test.id,
            user_id: me.id,
            organization_id: test.organization_id,
            started_at,
            deadline: deadline(test, started_at),
            answers: Default::default(),
            submitted: false,
            completion_id: None,
            open_key: open_key(test.id, me.id),
            live,
        };
        match attempts.insert(new).await {
            Ok(attempt) => {
                let event = json!({ "type": "attempt_started", "attempt": attempt.id,
                    "user": MemberOut::from(me),
                    "deadline": attempt.deadline.map(super::views::timestamp) });
                grading.hub.do_send(Publish {
                    topics: vec![Topic::Test(test.id)],
                    event: Event(event.to_string().into()),
                });
                return Ok((attempt, false));
            }
            Err(StoreError::Duplicate) => continue, // opened meanwhile by another device
            Err(err) => return Err(err.into()),
        }
    }
}

/// The test was shown to a student over REST: a timed test's clock starts now, once per
/// attempt. An attempt shown over REST and left past its deadline and grace is submitted
/// first, as at its deadline. With no attempt left the test is still shown (a later
/// submission is refused).
pub async fn shown(grading: &Grading, me: &User, test: &Test) -> Result<(), ApiError> {
    if test.time_limit_seconds.is_none() {
        return Ok(());
    }
    if let Some(open) = open_attempt(&grading.store, test, me).await? {
        if open.live || in_time(open.deadline, grading.grace, now()) {
            return Ok(());
        }
        match submit_saved(grading, open.id).await {
            Ok((completion, user)) => {
                announce_end(grading, &open, &completion, true);
                after_submission(grading.clone(), completion, user);
            }
            Err(err) => tracing::warn!(attempt = open.id, %err, "submitting an expired attempt"),
        }
    }
    match start(grading, me, test, false).await {
        Err(err) if err.error_code() == ErrorCode::PermissionDenied => Ok(()),
        other => other.map(|_| ()),
    }
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

/// What a REST submission of a test belongs to.
pub enum ForSubmission {
    /// An untimed test: no attempt needed.
    Untimed,
    /// The student's open attempt, in time.
    Open(Attempt),
    /// The attempt was already submitted at or after its deadline: its completion.
    Done(Completion),
}

/// The attempt a REST submission of `test` by `me` belongs to, by the clock rule: the open
/// one, in time (else `time_limit_passed`); or the last one, already submitted at or after
/// its deadline (answered as it is); else `attempt_not_started`.
pub async fn for_submission(
    grading: &Grading,
    me: &User,
    test: &Test,
) -> Result<ForSubmission, ApiError> {
    if test.time_limit_seconds.is_none() {
        return Ok(ForSubmission::Untimed);
    }
    let store = &grading.store;
    if let Some(open) = open_attempt(store, test, me).await? {
        return if in_time(open.deadline, grading.grace, now()) {
            Ok(ForSubmission::Open(open))
        } else {
            Err(ApiError::code(ErrorCode::TimeLimitPassed))
        };
    }
    let mine = Filter::And(vec![
        Filter::Eq("test_id", test.id.into()),
        Filter::Eq("user_id", me.id.into()),
    ]);
    let last = store
        .repo::<Attempt>()
        .find(&mine, None)
        .await?
        .into_iter()
        .max_by_key(|a| a.id);
    if let Some(last) = last {
        if let Some(done) = submitted_late(store, &last).await? {
            return Ok(ForSubmission::Done(done));
        }
    }
    Err(ApiError::code(ErrorCode::AttemptNotStarted))
}

/// The completion of an attempt submitted at or after its deadline.
async fn submitted_late(store: &Store, attempt: &Attempt) -> Result<Option<Completion>, ApiError> {
    let (Some(deadline), Some(id)) = (attempt.deadline, attempt.completion_id) else {
        return Ok(None);
    };
    let completion = store.completions().get(id).await?;
    Ok(completion.filter(|c| c.submitted_at >= deadline))
}

enum ClaimError {
    Taken,
    Store(StoreError),
}

impl From<StoreError> for ClaimError {
    fn from(err: StoreError) -> Self {
        ClaimError::Store(err)
    }
}

/// Marks the open attempt as being submitted, in one compare-and-swap write: of a REST
/// submission, a live submit and the server's deadline, only the one that claims it stores
/// a completion. `None`: already claimed (or gone).
pub async fn claim(store: &Store, id: i64) -> Result<Option<Attempt>, ApiError> {
    let claimed = store
        .repo::<Attempt>()
        .update(id, |a| {
            if a.submitted {
                return Err(ClaimError::Taken);
            }
            a.submitted = true;
            Ok(())
        })
        .await;
    match claimed {
        Ok(attempt) => Ok(attempt),
        Err(ClaimError::Taken) => Ok(None),
        Err(ClaimError::Store(err)) => Err(err.into()),
    }
}

/// Closes a claimed attempt with its completion.
pub async fn finish(store: &Store, id: i64, completion_id: i64) -> Result<(), ApiError> {
    let closed = vec![
        (field("completion_id")?, Value::from(completion_id)),
        (field("open_key")?, Value::from(format!("done:{id}"))),
    ];
    store.repo::<Attempt>().set_fields(id, closed).await?;
    Ok(())
}

/// Opens a claimed attempt again, its submission having failed.
pub async fn release(store: &Store, id: i64) {
    let reopened = match field("submitted") {
        Ok(path) => {
            store
                .repo::<Attempt>()
                .set_field(id, &path, false.into())
                .await
        }
        Err(err) => Err(err),
    };
    if let Err(err) = reopened {
        tracing::error!(attempt = id, %err, "reopening an attempt whose submission failed");
    }
}

/// The completion of an attempt another path has claimed, once it is stored (a moment).
pub async fn completion_of_claimed(store: &Store, id: i64) -> Result<Completion, ApiError> {
    for _ in 0..100 {
        let attempt = store.repo::<Attempt>().get(id).await?;
        match attempt {
            Some(Attempt {
                completion_id: Some(completion),
                ..
            }) => {
                return store
                    .completions()
                    .get(completion)
                    .await?
                    .ok_or_else(ApiError::not_found)
            }
            Some(Attempt {
                submitted: true, ..
            }) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            _ => break,
        }
    }
    Err(ApiError::code(ErrorCode::Unavailable))
}

/// Submits an attempt with the answers saved live (the server at its deadline, or the
/// student's live submit): claims it, stores the completion through the same code as REST,
/// and closes it. Grading and announcing are the caller's.
pub async fn submit_saved(
    grading: &Grading,
    attempt_id: i64,
) -> Result<(Completion, User), ApiError> {
    let store = &grading.store;
    let attempt = claim(store, attempt_id)
        .await?
        .ok_or_else(|| ApiError::bad_request("This attempt is already submitted."))?;
    let stored = async {
        let test = store.tests().get(attempt.test_id).await?;
        let test = test.ok_or_else(|| ApiError::bad_request("The test was deleted."))?;
        let user = store.users().get(attempt.user_id).await?;
        let user = user.ok_or_else(|| ApiError::bad_request("The account was deleted."))?;
        // Saved bodies were checked when saved; a question removed since is skipped.
        let mut responses = std::collections::HashMap::new();
        for question in &test.questions {
            if let Some(body) = attempt.answers.get(&question.id.to_string()) {
                if let Ok(response) = read_response(question, Some(body)) {
                    responses.insert(question.id, response);
                }
            }
        }
        let groups = access_groups(store, &user, &test).await?;
        let completion = submit(
            grading,
            &user,
            &test,
            groups,
            responses,
            Some(&attempt),
            false,
        )
        .await?;
        Ok::<_, ApiError>((completion, user))
    }
    .await;
    match stored {
        Ok((completion, user)) => {
            finish(store, attempt_id, completion.id).await?;
            Ok((completion, user))
        }
        Err(err) => {
            release(store, attempt_id).await;
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submission_is_in_time_up_to_the_deadline_plus_the_grace() {
        assert!(in_time(None, 0, i64::MAX));
        assert!(in_time(Some(100), 30, 130));
        assert!(!in_time(Some(100), 30, 131));
        assert!(in_time(Some(100), 0, 100));
        assert!(!in_time(Some(100), 0, 101));
    }
}
