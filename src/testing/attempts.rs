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
//!
//! Windows: a test may open and close (`opens_at`, `closes_at`), and a group it is
//! available for may have a window of its own, which replaces the test's for its members
//! ([`window_of`]). Outside the window the student's view, live start and REST submission
//! are refused (`not_open_yet`, `closed`). An attempt's deadline is the earlier of its time
//! limit and the window's close, so the same deadline machinery holds everywhere: live
//! saves stop and the server submits open live attempts at `closes_at`, and REST
//! submissions are accepted until the deadline plus the grace.

use actors::hub::{Event, Publish, Topic};
use serde_json::{json, Value};

use super::access::access_groups;
use super::completions::{attempts_left, read_response, submit};
use super::grading::{after_submission, Grading};
use crate::error::{ApiError, ErrorCode};
use crate::organizations::views::MemberOut;
use crate::store::{Attempt, Completion, FieldPath, Filter, Group, Store, StoreError, Test, User};

/// The clock of every rule here: Unix seconds.
pub fn now() -> i64 {
    crate::domain::clock::now()
}

/// When a student may take a test (Unix seconds; `None`: unbounded on that side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
}

impl Window {
    fn is_open(&self, at: i64) -> bool {
        self.opens_at.is_none_or(|o| at >= o) && self.closes_at.is_none_or(|c| at < c)
    }

    /// `Ok` while open, else `not_open_yet` or `closed` saying when.
    pub fn check(&self, at: i64) -> Result<(), ApiError> {
        match (self.opens_at, self.closes_at) {
            (Some(opens), _) if at < opens => Err(ApiError::with_detail(
                ErrorCode::NotOpenYet,
                format!("This test opens at {}.", super::views::timestamp(opens)),
            )),
            (_, Some(closes)) if at >= closes => Err(ApiError::with_detail(
                ErrorCode::Closed,
                format!("This test closed at {}.", super::views::timestamp(closes)),
            )),
            _ => Ok(()),
        }
    }
}

/// The window of a student whose access comes from `groups`: each group's own window if it
/// has one, else the test's. Of several, the one open at `at` that closes last, else the
/// next to open, else the last to close.
pub fn window_of(test: &Test, groups: &[Group], at: i64) -> Window {
    let test_window = Window {
        opens_at: test.opens_at,
        closes_at: test.closes_at,
    };
    let windows: Vec<Window> = groups
        .iter()
        .map(|g| {
            test.group_windows
                .iter()
                .find(|w| w.group == g.id)
                .map_or(test_window, |w| Window {
                    opens_at: w.opens_at,
                    closes_at: w.closes_at,
                })
        })
        .collect();
    let closes = |w: &Window| w.closes_at.unwrap_or(i64::MAX);
    if let Some(open) = windows
        .iter()
        .filter(|w| w.is_open(at))
        .max_by_key(|w| closes(w))
    {
        return *open;
    }
    let later = windows
        .iter()
        .filter(|w| w.opens_at.is_some_and(|o| at < o));
    if let Some(next) = later.min_by_key(|w| w.opens_at) {
        return *next;
    }
    windows
        .into_iter()
        .max_by_key(closes)
        .unwrap_or(test_window)
}

/// When an attempt started at `started_at` in `window` ends: the earlier of its time limit
/// and the window's close; `None` when neither bounds it.
pub fn deadline(test: &Test, window: Window, started_at: i64) -> Option<i64> {
    let limit = test
        .time_limit_seconds
        .map(|limit| started_at.saturating_add(limit));
    match (limit, window.closes_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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

/// A live `start`: the student's attempt at the test, started or resumed, when the test is
/// available to them and its window is open.
pub async fn start_live(
    grading: &Grading,
    me: &User,
    test: &Test,
) -> Result<(Attempt, bool), ApiError> {
    let groups = access_groups(&grading.store, me, test).await?;
    if groups.is_empty() {
        return Err(ApiError::forbidden("This test is not available to you."));
    }
    let window = window_of(test, &groups, now());
    window.check(now())?;
    start(grading, me, test, window, true).await
}

/// Starts the student's attempt at the test, or finds the one open (a reload, another
/// device, or the test shown over REST first): its clock never restarts. `live`: over the
/// WebSocket, so the server submits it at its deadline. Answers the attempt and whether it
/// was open already; 403 when no attempt is left.
async fn start(
    grading: &Grading,
    me: &User,
    test: &Test,
    window: Window,
    live: bool,
) -> Result<(Attempt, bool), ApiError> {
    let store = &grading.store;
    let attempts = store.repo::<Attempt>();
    loop {
        if let Some(mut attempt) = open_attempt(store, test, me).await? {
            if !attempt.live && !in_time(attempt.deadline, grading.grace, now()) {
                // Shown over REST and left: submitted as at its deadline, then a new one.
                expire(grading, &attempt).await;
                continue;
            }
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
            deadline: deadline(test, window, started_at),
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

/// The test is shown to a student over REST: refused outside their window; a timed test's
/// clock starts now, once per attempt. An attempt shown over REST and left past its
/// deadline and grace is submitted first, as at its deadline. With no attempt left the test
/// is still shown (a later submission is refused).
pub async fn shown(grading: &Grading, me: &User, test: &Test) -> Result<(), ApiError> {
    let groups = access_groups(&grading.store, me, test).await?;
    let window = window_of(test, &groups, now());
    window.check(now())?;
    if test.time_limit_seconds.is_none() {
        return Ok(());
    }
    match start(grading, me, test, window, false).await {
        Err(err) if err.error_code() == ErrorCode::PermissionDenied => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Submits an attempt shown over REST and left past its deadline and grace, with nothing
/// (its answers were never posted), as the server submits a live one at its deadline.
async fn expire(grading: &Grading, attempt: &Attempt) {
    match submit_saved(grading, attempt.id).await {
        Ok((completion, user)) => {
            super::grading::announce_end(grading, attempt, &completion, true);
            after_submission(grading.clone(), completion, user);
        }
        Err(err) => {
            // Claimed meanwhile by another request, or it cannot be submitted (the account
            // or the test is gone): closed either way, so no one waits on it again.
            tracing::info!(attempt = attempt.id, %err, "closing an expired attempt");
            let closed = [
                ("submitted", Value::Bool(true)),
                ("open_key", Value::from(format!("done:{}", attempt.id))),
            ];
            let fields: Result<Vec<_>, _> = closed
                .into_iter()
                .map(|(key, value)| field(key).map(|path| (path, value)))
                .collect();
            if let Ok(fields) = fields {
                let _ = grading
                    .store
                    .repo::<Attempt>()
                    .set_fields(attempt.id, fields)
                    .await;
            }
        }
    }
}

/// The caller's open tests, each with the attempts they have used and the window that
/// applies to them (their group's, or the test's).
pub async fn open_tests(
    store: &Store,
    me: &User,
    tests: &[Test],
) -> Result<Vec<super::views::OpenTestOut>, ApiError> {
    let mine = Filter::Contains("members", me.id.into());
    let groups = store.groups().find(&mine, None).await?;
    let now = now();
    let mut out = Vec::with_capacity(tests.len());
    for test in tests {
        let giving: Vec<Group> = groups
            .iter()
            .filter(|g| test.available_for.contains(&g.id))
            .cloned()
            .collect();
        let window = window_of(test, &giving, now);
        let used = super::completions::attempts_used(store, me, test).await?;
        out.push(super::views::open_test(
            test,
            used,
            window.opens_at,
            window.closes_at,
        ));
    }
    Ok(out)
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

/// The attempt a REST submission of `test` by `me` (given access by `groups`) belongs to,
/// by the clock rule: the open one, in time (else `time_limit_passed`, or `closed` past the
/// window's close); or the last one, already submitted at or after its deadline (answered
/// as it is); else `attempt_not_started`. An untimed test needs no attempt, only its window
/// (open, or closed less than the grace ago).
pub async fn for_submission(
    grading: &Grading,
    me: &User,
    test: &Test,
    groups: &[Group],
) -> Result<ForSubmission, ApiError> {
    let at = now();
    let window = window_of(test, groups, at);
    let closed_for_good = !in_time(window.closes_at, grading.grace, at);
    if test.time_limit_seconds.is_none() {
        if window.opens_at.is_some_and(|o| at < o) || closed_for_good {
            window.check(at)?;
        }
        return Ok(ForSubmission::Untimed);
    }
    let store = &grading.store;
    if let Some(open) = open_attempt(store, test, me).await? {
        return if in_time(open.deadline, grading.grace, at) {
            Ok(ForSubmission::Open(open))
        } else if closed_for_good {
            Err(window
                .check(at)
                .err()
                .unwrap_or(ApiError::code(ErrorCode::Closed)))
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
    window.check(at)?;
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
