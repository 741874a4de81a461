//! The server's side of live attempts: the store behind the attempt actors' port.

use std::collections::HashMap;
use std::sync::Arc;

use actix::Addr;
use actors::attempt::{AttemptPort, AttemptState, Find, PortFuture, Registry, Submitted};
use serde_json::Value;

use super::access::access_groups;
use super::completions::{read_response, submit};
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
            // One write, no read: the actor already knows the attempt is open.
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
            let store = &grading.store;
            let attempt = attempt(store, attempt_id).await?;
            let test = store
                .tests()
                .get(attempt.test_id)
                .await
                .map_err(failed)?
                .ok_or("the test was deleted")?;
            let user = store
                .users()
                .get(attempt.user_id)
                .await
                .map_err(failed)?
                .ok_or("the account was deleted")?;
            // Saved bodies were checked when saved; a question removed since is skipped.
            let mut responses = HashMap::new();
            for question in &test.questions {
                if let Some(body) = attempt.answers.get(&question.id.to_string()) {
                    if let Ok(response) = read_response(question, Some(body)) {
                        responses.insert(question.id, response);
                    }
                }
            }
            let groups = access_groups(store, &user, &test).await.map_err(failed)?;
            let completion = submit(&grading, &user, &test, groups, responses, false)
                .await
                .map_err(failed)?;
            let field = |key: &str| FieldPath::parse([key]).map_err(failed);
            let closed = vec![
                (field("submitted")?, Value::Bool(true)),
                (field("completion_id")?, Value::from(completion.id)),
                (
                    field("open_key")?,
                    Value::from(format!("done:{attempt_id}")),
                ),
            ];
            store
                .repo::<Attempt>()
                .set_fields(attempt_id, closed)
                .await
                .map_err(failed)?;
            tracing::info!(
                completion_id = completion.id,
                test_id = test.id,
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

/// Starts the actors of attempts still open, so their deadlines fire after a restart.
pub async fn resume(
    store: &crate::store::Store,
    attempts: &Addr<Registry>,
) -> Result<usize, StoreError> {
    let open = store
        .repo::<Attempt>()
        .find(&Filter::Eq("submitted", Value::Bool(false)), None)
        .await?;
    for attempt in open.iter().filter(|a| a.deadline.is_some()) {
        attempts.do_send(Find {
            attempt: attempt.id,
            arbiter: None,
        });
    }
    Ok(open.len())
}

/// The port as the registry takes it.
pub fn port(grading: Grading) -> Arc<dyn AttemptPort> {
    Arc::new(StoreAttempts { grading })
}
