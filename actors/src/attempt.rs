//! Attempts in progress: one actor each, found or (re)started by the [`Registry`].
//!
//! An [`AttemptActor`] owns the order of what happens to its attempt: saves are applied one
//! after the other (last write wins), a submit closes it, and its deadline submits it with
//! what was saved. Its state lives in the store, reached through the [`AttemptPort`] the
//! server implements: an actor that stops (evicted, or a failure) is started again by the
//! registry on the next request and reloads everything, so no saved answer is lost.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde_json::Value;

use crate::hub::{Event, Hub, Progress, Publish, Topic};

/// A port call's future (the store is async; errors are already messages).
pub type PortFuture<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// A stored submission, not yet announced.
pub struct Submitted {
    /// The completion as its student sees it.
    pub completion: Value,
    /// Grades it, or announces its score when it needs no grading. Called once the attempt's
    /// end is announced, so that everyone hears `attempt_submitted` (or `attempt_timed_out`)
    /// before any grading event of its completion (`docs/websocket.md`, "Order").
    pub then: Box<dyn FnOnce() + Send>,
}

/// The persisted state of an attempt, as the actor needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptState {
    pub test_id: i64,
    pub user_id: i64,
    /// Unix seconds; past it, saves are refused and the attempt is submitted.
    pub deadline: Option<i64>,
    pub submitted: bool,
    /// The questions answered so far.
    pub answered: BTreeSet<i64>,
}

/// Persistence of attempts: implemented by the server over its store.
pub trait AttemptPort: Send + Sync + 'static {
    fn load(&self, attempt_id: i64) -> PortFuture<AttemptState>;
    /// Saves one answer body durably, replacing an earlier one.
    fn save(&self, attempt_id: i64, question: i64, body: Value) -> PortFuture<()>;
    /// Stores the completion of the saved answers and closes the attempt; grading and
    /// announcing wait for [`Submitted::then`].
    fn submit(&self, attempt_id: i64) -> PortFuture<Submitted>;
}

/// Why an attempt refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// Already submitted.
    Closed,
    /// Past its deadline (it is being submitted).
    DeadlinePassed,
    /// The store failed, or the attempt is unknown.
    Unavailable(String),
}

impl std::fmt::Display for AttemptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttemptError::Closed => f.write_str("This attempt is already submitted."),
            AttemptError::DeadlinePassed => f.write_str("The time limit has passed."),
            AttemptError::Unavailable(why) => write!(f, "The attempt is unavailable: {why}"),
        }
    }
}

/// Saves an answer. Answers the number of questions answered.
#[derive(Message)]
#[rtype(result = "Result<usize, AttemptError>")]
pub struct Save {
    pub question: i64,
    pub body: Value,
}

/// Submits the attempt. Answers the completion as its student sees it.
#[derive(Message)]
#[rtype(result = "Result<Value, AttemptError>")]
pub struct Submit;

/// Asks for the attempt's state.
#[derive(Message)]
#[rtype(result = "Result<AttemptState, AttemptError>")]
pub struct GetState;

/// Stops the actor (its state stays in the store).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn event(value: Value) -> Event {
    Event(Arc::from(value.to_string()))
}

/// One attempt in progress.
pub struct AttemptActor {
    id: i64,
    port: Arc<dyn AttemptPort>,
    hub: Addr<Hub>,
    state: Result<AttemptState, AttemptError>,
}

impl AttemptActor {
    fn topics(&self, state: &AttemptState) -> Vec<Topic> {
        vec![Topic::Test(state.test_id), Topic::User(state.user_id)]
    }

    fn open(&self) -> Result<&AttemptState, AttemptError> {
        let state = self.state.as_ref().map_err(Clone::clone)?;
        if state.submitted {
            Err(AttemptError::Closed)
        } else if state.deadline.is_some_and(|d| now() >= d) {
            Err(AttemptError::DeadlinePassed)
        } else {
            Ok(state)
        }
    }

    /// Submits through the port; the mailbox waits, so nothing is saved after it.
    fn submit(&mut self, automatic: bool) -> ResponseActFuture<Self, Result<Value, AttemptError>> {
        let state = match &self.state {
            Ok(state) if !state.submitted => state.clone(),
            Ok(_) => return Box::pin(fut::ready(Err(AttemptError::Closed))),
            Err(err) => return Box::pin(fut::ready(Err(err.clone()))),
        };
        let topics = self.topics(&state);
        let hub = self.hub.clone();
        let id = self.id;
        Box::pin(self.port.submit(self.id).into_actor(self).map(move |result, actor, _| {
            let Submitted { completion, then } = result.map_err(AttemptError::Unavailable)?;
            if let Ok(state) = actor.state.as_mut() {
                state.submitted = true;
            }
            let kind = if automatic { "attempt_timed_out" } else { "attempt_submitted" };
            hub.do_send(Publish {
                topics,
                event: event(serde_json::json!({ "type": kind, "attempt": id, "user": state.user_id, "completion": completion })),
            });
            // Only now: the hub takes its messages in order, so grading events, which go
            // through it too, come after the announcement for every watcher.
            then();
            Ok(completion)
        }))
    }
}

impl Actor for AttemptActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Messages wait until the state is loaded.
        ctx.wait(
            self.port
                .load(self.id)
                .into_actor(self)
                .map(|loaded, actor, ctx| {
                    actor.state = loaded.map_err(AttemptError::Unavailable);
                    if let Ok(AttemptState {
                        deadline: Some(deadline),
                        submitted: false,
                        ..
                    }) = &actor.state
                    {
                        let delay = Duration::from_secs((deadline - now()).max(0) as u64);
                        ctx.run_later(delay, |actor, ctx| {
                            let submitting = actor.submit(true).map(|result, _, _| {
                                if let Err(err) = result {
                                    tracing::warn!(%err, "deadline submission failed");
                                }
                            });
                            ctx.wait(submitting);
                        });
                    }
                }),
        );
    }
}

impl Handler<Save> for AttemptActor {
    type Result = AtomicResponse<Self, Result<usize, AttemptError>>;

    fn handle(&mut self, Save { question, body }: Save, _: &mut Context<Self>) -> Self::Result {
        let state = match self.open() {
            Ok(state) => state.clone(),
            Err(err) => return AtomicResponse::new(Box::pin(fut::ready(Err(err)))),
        };
        let (hub, id) = (self.hub.clone(), self.id);
        AtomicResponse::new(Box::pin(
            self.port
                .save(self.id, question, body)
                .into_actor(self)
                .map(move |result, actor, _| {
                    result.map_err(AttemptError::Unavailable)?;
                    let answered = match actor.state.as_mut() {
                        Ok(state) => {
                            state.answered.insert(question);
                            state.answered.len()
                        }
                        Err(_) => 0,
                    };
                    // Progress only: teachers watching see how far, not what.
                    hub.do_send(Progress {
                        test: state.test_id,
                        attempt: id,
                        user: state.user_id,
                        answered,
                    });
                    Ok(answered)
                }),
        ))
    }
}

impl Handler<Submit> for AttemptActor {
    type Result = AtomicResponse<Self, Result<Value, AttemptError>>;

    fn handle(&mut self, _: Submit, _: &mut Context<Self>) -> Self::Result {
        if let Err(AttemptError::Closed) = self.open() {
            return AtomicResponse::new(Box::pin(fut::ready(Err(AttemptError::Closed))));
        }
        // Past the deadline a submit still goes through (with what was saved).
        AtomicResponse::new(self.submit(false))
    }
}

impl Handler<GetState> for AttemptActor {
    type Result = Result<AttemptState, AttemptError>;

    fn handle(&mut self, _: GetState, _: &mut Context<Self>) -> Self::Result {
        self.state.clone()
    }
}

impl Handler<Stop> for AttemptActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Finds the actor of an attempt, starting it (which reloads it from the store) when it is
/// not running. A new actor runs on the arbiter named, else on the registry's: the server
/// names the caller's, so a student's saves stay on the thread of their connection.
#[derive(Message)]
#[rtype(result = "Addr<AttemptActor>")]
pub struct Find {
    pub attempt: i64,
    pub arbiter: Option<ArbiterHandle>,
}

impl Find {
    /// Finds an attempt's actor, starting it on the current arbiter if there is one.
    pub fn here(attempt: i64) -> Find {
        Find {
            attempt,
            arbiter: Arbiter::try_current(),
        }
    }
}

/// Stops an attempt's actor; the next [`Find`] starts a fresh one from the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Evict(pub i64);

/// The registry (and supervisor) of attempt actors.
pub struct Registry {
    port: Arc<dyn AttemptPort>,
    hub: Addr<Hub>,
    attempts: HashMap<i64, Addr<AttemptActor>>,
    /// The map's size after its last sweep of stopped actors; it is swept again when it
    /// has doubled, so finding stays O(1) amortised.
    swept_at: usize,
}

impl Registry {
    pub fn new(port: Arc<dyn AttemptPort>, hub: Addr<Hub>) -> Registry {
        Registry {
            port,
            hub,
            attempts: HashMap::new(),
            swept_at: 0,
        }
    }
}

impl Actor for Registry {
    type Context = Context<Self>;
}

impl actix::Supervised for Registry {}

impl Handler<Find> for Registry {
    type Result = MessageResult<Find>;

    fn handle(
        &mut self,
        Find {
            attempt: id,
            arbiter,
        }: Find,
        _: &mut Context<Self>,
    ) -> Self::Result {
        if self.attempts.len() >= 2 * self.swept_at.max(64) {
            self.attempts.retain(|_, addr| addr.connected());
            self.swept_at = self.attempts.len();
        }
        if let Some(addr) = self.attempts.get(&id).filter(|addr| addr.connected()) {
            return MessageResult(addr.clone());
        }
        let actor = AttemptActor {
            id,
            port: Arc::clone(&self.port),
            hub: self.hub.clone(),
            state: Err(AttemptError::Closed),
        };
        let addr = match arbiter {
            Some(arbiter) => AttemptActor::start_in_arbiter(&arbiter, |_| actor),
            None => actor.start(),
        };
        self.attempts.insert(id, addr.clone());
        MessageResult(addr)
    }
}

impl Handler<Evict> for Registry {
    type Result = ();

    fn handle(&mut self, Evict(id): Evict, _: &mut Context<Self>) {
        if let Some(addr) = self.attempts.remove(&id) {
            addr.do_send(Stop);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Watch;

    /// An attempt of user 2 at test 1 whose grading, like the server's, publishes through the
    /// hub as soon as it is started.
    struct GradedAtOnce {
        hub: Addr<Hub>,
    }

    impl AttemptPort for GradedAtOnce {
        fn load(&self, _: i64) -> PortFuture<AttemptState> {
            Box::pin(async {
                Ok(AttemptState {
                    test_id: 1,
                    user_id: 2,
                    deadline: None,
                    submitted: false,
                    answered: BTreeSet::new(),
                })
            })
        }

        fn save(&self, _: i64, _: i64, _: Value) -> PortFuture<()> {
            Box::pin(async { Ok(()) })
        }

        fn submit(&self, _: i64) -> PortFuture<Submitted> {
            let hub = self.hub.clone();
            Box::pin(async move {
                let then = Box::new(move || {
                    hub.do_send(Publish {
                        topics: vec![Topic::Test(1), Topic::User(2)],
                        event: event(serde_json::json!({ "type": "completion_graded" })),
                    })
                });
                Ok(Submitted {
                    completion: serde_json::json!({ "id": 9 }),
                    then,
                })
            })
        }
    }

    /// Keeps the types of the events it is sent.
    #[derive(Default)]
    struct Watcher(Vec<String>);

    impl Actor for Watcher {
        type Context = Context<Self>;
    }

    impl Handler<Event> for Watcher {
        type Result = ();

        fn handle(&mut self, Event(text): Event, _: &mut Context<Self>) {
            let event: Value = serde_json::from_str(&text).unwrap();
            self.0.push(event["type"].as_str().unwrap().to_owned());
        }
    }

    #[derive(Message)]
    #[rtype(result = "Vec<String>")]
    struct Seen;

    impl Handler<Seen> for Watcher {
        type Result = MessageResult<Seen>;

        fn handle(&mut self, _: Seen, _: &mut Context<Self>) -> Self::Result {
            MessageResult(self.0.clone())
        }
    }

    #[actix_rt::test]
    async fn a_submission_is_announced_before_its_grading_starts() {
        let hub = Hub::default().start();
        let (teacher, student) = (Watcher::default().start(), Watcher::default().start());
        for (topic, watcher) in [(Topic::Test(1), &teacher), (Topic::User(2), &student)] {
            let watcher = watcher.clone().recipient();
            hub.send(Watch { topic, watcher }).await.unwrap();
        }
        let port = Arc::new(GradedAtOnce { hub: hub.clone() });
        let registry = Registry::new(port, hub).start();
        let attempt = registry
            .send(Find {
                attempt: 7,
                arbiter: None,
            })
            .await
            .unwrap();
        let completion = attempt.send(Submit).await.unwrap().unwrap();
        assert_eq!(completion["id"], 9);

        let expected = ["attempt_submitted", "completion_graded"];
        for watcher in [teacher, student] {
            let mut seen = Vec::new();
            for _ in 0..100 {
                seen = watcher.send(Seen).await.unwrap();
                if seen.len() == expected.len() {
                    break;
                }
                actix_rt::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(seen, expected);
        }
    }
}
