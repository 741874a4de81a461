//! The server's side of live attempts: the store behind the attempt actors' port.

use std::sync::Arc;

use actix::Addr;
use actors::attempt::{AttemptPort, AttemptState, Find, PortFuture, Registry, Submitted};
use serde_json::Value;

use super::attempts::submit_saved;
use super::grading::{after_submission, Grading};
use super::views::student_completion;
use crate::store::{Attempt, FieldPath, Filter, StoreError};

/// Implements [`AttemptPort`] over the store; submitting goes through the same code as REST,
/// except that the grading starts once the attempt actor has announced the submission.
pub struct StoreAttempts {
    pub grading: Grading,
}

fn failed(err: impl std::fmt::Display) -> String {
    err.to_string()
}

async fn attempt(store: &crate::store::Store, id: i64) -> Result<Attempt, String> {
    let found = store.repo::<Attempt>().get(id).await.map_err(failed)?;
    found.ok_or_else(|| format!("no attempt {id}"))
}

impl AttemptPort for StoreAttempts {
    fn load(&self, attempt_id: i64) -> PortFuture<AttemptState> {
        let store = self.grading.store.clone();
        Box::pin(async move {
            let attempt = attempt(&store, attempt_id).await?;
            Ok(AttemptState {
                test_id: attempt.test_id,
                user_id: attempt.user_id,
                deadline: attempt.deadline,
                submitted: attempt.submitted,
                answered: attempt
                    .answers
                    .keys()
                    .filter_map(|k| k.parse().ok())
                    .collect(),
            })
        })
    }

    fn save(&self, attempt_id: i64, question: i64, body: Value) -> PortFuture<()> {
        let store = self.grading.store.clone();
        Box::pin(async move {
            if store.shared().is_some() {
                return save_unless_submitted(&store, attempt_id, question, body).await;
            }
            // One write, no read: the actor already knows the attempt is open (one process:
            // it is the attempt's only actor).
            let path =
                FieldPath::parse(["answers".to_owned(), question.to_string()]).map_err(failed)?;
            let saved = store
                .repo::<Attempt>()
                .set_field(attempt_id, &path, body)
                .await
                .map_err(failed)?;
            saved
                .then_some(())
                .ok_or_else(|| format!("no attempt {attempt_id}"))
        })
    }

    fn submit(&self, attempt_id: i64) -> PortFuture<Submitted> {
        let grading = self.grading.clone();
        Box::pin(async move {
            let (completion, user) =
                submit_saved(&grading, attempt_id)
                    .await
                    .map_err(|err| match err {
                        crate::error::ApiError::Coded {
                            detail: Some(detail),
                            ..
                        } => detail,
                        other => other.to_string(),
                    })?;
            tracing::info!(
                completion_id = completion.id,
                test_id = completion.test_id,
                user_id = user.id,
                score = completion.score,
                "live attempt submitted"
            );
            let view =
                serde_json::to_value(student_completion(&completion, None)).map_err(failed)?;
            let then = Box::new(move || after_submission(grading, completion, user));
            Ok(Submitted {
                completion: view,
                then,
            })
        })
    }
}

enum SaveRefused {
    Submitted,
    Store(StoreError),
}

impl From<StoreError> for SaveRefused {
    fn from(err: StoreError) -> Self {
        SaveRefused::Store(err)
    }
}

/// With several servers, another server's actor (the student's other socket, or the
/// deadline) may have submitted the attempt meanwhile: the save is a compare-and-swap that
/// refuses a submitted attempt, so no save is acknowledged that the completion lacks (the
/// submission claims the attempt by the same compare-and-swap, and takes its answers).
async fn save_unless_submitted(
    store: &crate::store::Store,
    attempt_id: i64,
    question: i64,
    body: Value,
) -> Result<(), String> {
    let key = question.to_string();
    let saved = store
        .repo::<Attempt>()
        .update(attempt_id, |attempt| {
            if attempt.submitted {
                return Err(SaveRefused::Submitted);
            }
            attempt.answers.insert(key.clone(), body.clone());
            Ok(())
        })
        .await;
    match saved {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!("no attempt {attempt_id}")),
        Err(SaveRefused::Submitted) => Err("This attempt is already submitted.".to_owned()),
        Err(SaveRefused::Store(err)) => Err(failed(err)),
    }
}

/// Starts the actors of attempts still open, so their deadlines fire after a restart.
pub async fn resume(
    store: &crate::store::Store,
    attempts: &Addr<Registry>,
) -> Result<usize, StoreError> {
    let open = store
        .repo::<Attempt>()
        .find(&Filter::Eq("submitted", Value::Bool(false)), None)
        .await?;
    // Attempts only shown over REST wait for their REST submission (see `attempts`).
    for attempt in open.iter().filter(|a| a.deadline.is_some() && a.live) {
        attempts.do_send(Find {
            attempt: attempt.id,
            arbiter: None,
        });
    }
    Ok(open.len())
}

/// With several servers: every `every`, starts here the actors of open live attempts whose
/// deadline passed more than `every` ago, so that an attempt whose server died is still
/// submitted at its deadline (the actor of a passed deadline submits at once). Servers that
/// race for one attempt are settled by the store: the submission claims the attempt
/// (`attempts::claim`), so one completion is made and announced; the others' actors find it
/// closed. Runs while `alive` says the server does.
pub fn sweep_deadlines(
    store: crate::store::Store,
    attempts: Addr<Registry>,
    every: std::time::Duration,
    alive: impl Fn() -> bool + Send + 'static,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !alive() {
                break;
            }
            let open = store
                .repo::<Attempt>()
                .find(&Filter::Eq("submitted", Value::Bool(false)), None)
                .await;
            let open = match open {
                Ok(open) => open,
                Err(err) => {
                    tracing::warn!(%err, "looking for attempts past their deadline failed");
                    continue;
                }
            };
            let overdue = super::attempts::now() - every.as_secs() as i64;
            for attempt in open {
                if attempt.live && attempt.deadline.is_some_and(|d| d < overdue) {
                    tracing::info!(
                        attempt = attempt.id,
                        "submitting an attempt left past its deadline"
                    );
                    attempts.do_send(Find {
                        attempt: attempt.id,
                        arbiter: None,
                    });
                }
            }
        }
    });
}

/// The port as the registry takes it.
pub fn port(grading: Grading) -> Arc<dyn AttemptPort> {
    Arc::new(StoreAttempts { grading })
}
