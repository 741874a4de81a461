//! `GET /ws`: live test-taking and live results over WebSocket. The protocol, with an
//! example session, is in `docs/websocket.md`.
//!
//! Each connection has a [`SessionActor`] (it receives hub events), a reader task (client
//! messages, heartbeat, idle timeout) and a writer task draining a queue bounded in bytes.
//! When the queue is full the client is too slow and is dropped; nobody else waits for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use actors::attempt::{AttemptActor, Find, GetState, Save, Submit};
use actors::hub::{Event, Publish, Topic, Watch};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::auth::{bearer_token, AuthUser};
use crate::error::{ApiError, ErrorCode};
use crate::organizations::views::MemberOut;
use crate::state::AppState;
use crate::store::{Attempt, Filter, StoreError, Test, User};
use crate::testing::access::{access_groups, manages, test_by_uuid};
use crate::testing::completions::{attempts_left, read_response};
use crate::testing::views::{graded_completions as graded_views, student_view, timestamp};

/// How often the server pings.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A client silent (no message, no pong) this long is disconnected.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Bytes of messages queued for one client; past this the client is dropped as too slow.
/// A teacher watching 1,000 students gets bursts of a thousand events (everyone starting,
/// everyone's graded completion, about 2 KB each); the queue's memory is allocated as it
/// fills, so an idle connection pays nothing for the headroom.
pub const SEND_QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Largest client message answered; larger ones get an error (the connection stays).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest frame read at all.
const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// How long a close frame may take to go out before the connection is just dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the writer sends.
enum Outgoing {
    Text(Arc<str>),
    Ping,
}

impl Outgoing {
    fn size(&self) -> usize {
        match self {
            Outgoing::Text(text) => text.len(),
            Outgoing::Ping => 0,
        }
    }
}

/// A connection's outgoing queue, bounded in bytes ([`SEND_QUEUE_BYTES`]).
#[derive(Clone)]
struct Outbox {
    queue: mpsc::UnboundedSender<Outgoing>,
    /// Bytes queued and not yet written.
    queued: Arc<AtomicUsize>,
    /// Tells the reader and the writer to close the connection.
    /// Set once the client is to be dropped; the reader and the writer both watch it.
    drop_client: Arc<watch::Sender<bool>>,
}

impl Outbox {
    /// Queues a message; when the client is too far behind (or gone) it is dropped instead.
    fn push(&self, item: Outgoing) -> bool {
        let size = item.size();
        let queued = self.queued.fetch_add(size, Ordering::Relaxed) + size;
        if queued > SEND_QUEUE_BYTES || self.queue.send(item).is_err() {
            self.drop_client.send_replace(true);
            return false;
        }
        true
    }

    /// Queues a reply.
    fn reply(&self, value: Value) -> bool {
        self.push(Outgoing::Text(Arc::from(value.to_string())))
    }
}

/// Receives the hub's events for one connection.
struct SessionActor {
    out: Outbox,
}

impl Actor for SessionActor {
    type Context = Context<Self>;
}

impl Handler<Event> for SessionActor {
    type Result = ();

    fn handle(&mut self, Event(text): Event, ctx: &mut Context<Self>) {
        if !self.out.push(Outgoing::Text(text)) {
            ctx.stop();
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Disconnect;

impl Handler<Disconnect> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: Disconnect, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// A client message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    /// Start, or resume, an attempt at the test behind a public link.
    Start { test: String },
    /// Save (or replace) the answer to a question of the current attempt.
    Save { question: i64, body: Value },
    /// Submit the current attempt.
    Submit,
    /// Watch a test one manages: a snapshot, then live events.
    Watch { test: i64 },
}

/// The attempt a connection works on.
struct Current {
    attempt: i64,
    actor: Addr<AttemptActor>,
    test: Test,
}

fn error(detail: impl std::fmt::Display) -> Value {
    json!({ "type": "error", "detail": detail.to_string() })
}

fn detail(err: ApiError) -> String {
    match err {
        ApiError::Coded {
            detail: Some(detail),
            ..
        } => detail,
        ApiError::Coded { code, .. } => code.default_detail().to_owned(),
        ApiError::Validation(fields) => format!("{fields:?}"),
        ApiError::Internal(_) => ErrorCode::Internal.default_detail().to_owned(),
    }
}

/// `GET /ws`, authenticated like REST, or with `?token=` (browsers cannot set headers on a
/// WebSocket): a bad or missing token is refused before the upgrade.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query_token = || {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == "token").then_some(v))
    };
    let token = bearer_token(&req).map(str::to_owned).or_else(query_token);
    let token = token.ok_or_else(|| ApiError::code(ErrorCode::NotAuthenticated))?;
    let auth = AuthUser::authenticate(&state, &token).await?;
    let (response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|err| ApiError::bad_request(format!("Expected a WebSocket upgrade: {err}")))?;
    let messages = messages
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);

    let (queue, pending) = mpsc::unbounded_channel();
    let out = Outbox {
        queue,
        queued: Arc::default(),
        drop_client: Arc::new(watch::Sender::new(false)),
    };
    let actor = SessionActor { out: out.clone() }.start();
    state.grading.hub.do_send(Watch {
        topic: Topic::User(auth.user.id),
        watcher: actor.clone().recipient(),
    });
    actix_web::rt::spawn(write(
        session.clone(),
        pending,
        Arc::clone(&out.queued),
        out.drop_client.subscribe(),
    ));
    actix_web::rt::spawn(async move {
        read(state, auth.user, session, messages, out, actor.clone()).await;
        actor.do_send(Disconnect);
    });
    Ok(response)
}

async fn write(
    mut session: actix_ws::Session,
    mut pending: mpsc::UnboundedReceiver<Outgoing>,
    // Not the whole outbox: the queue ends when its last sender (reader, actor) is gone.
    queued: Arc<AtomicUsize>,
    mut drop_client: watch::Receiver<bool>,
) {
    let dropped = async move {
        let _ = drop_client.wait_for(|dropped| *dropped).await;
    };
    tokio::pin!(dropped);
    loop {
        let item = tokio::select! {
            item = pending.recv() => item,
            () = &mut dropped => break,
        };
        let Some(item) = item else {
            let _ = session.close(None).await;
            return;
        };
        let size = item.size();
        // A client that stopped reading blocks this send (actix-ws holds a few messages,
        // then waits for the socket): being dropped must still end it.
        let sent = tokio::select! {
            sent = async {
                match item {
                    Outgoing::Text(text) => session.text(text.to_string()).await,
                    Outgoing::Ping => session.ping(b"").await,
                }
            } => sent,
            () = &mut dropped => break,
        };
        queued.fetch_sub(size, Ordering::Relaxed);
        if sent.is_err() {
            return;
        }
    }
    // Dropped: say why if the socket still takes it, then let go of the session, which
    // ends the response and closes the connection.
    let reason = CloseReason {
        code: CloseCode::Policy,
        description: Some("too slow or idle".into()),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, session.close(Some(reason))).await;
}

async fn read(
    state: web::Data<AppState>,
    me: User,
    mut session: actix_ws::Session,
    mut messages: actix_ws::AggregatedMessageStream,
    out: Outbox,
    actor: Addr<SessionActor>,
) {
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    let mut current: Option<Current> = None;
    let mut dropped = out.drop_client.subscribe();
    loop {
        tokio::select! {
            message = messages.recv() => {
                let reply = match message {
                    None | Some(Ok(AggregatedMessage::Close(_))) => return,
                    Some(Err(err)) => {
                        // A frame that breaks the WebSocket protocol (reserved bits or opcode,
                        // an unmasked client frame, …) ends the connection at once with 1002:
                        // nothing after it can be trusted to be framed right, and answering
                        // each bad frame only cost CPU and filled the queue. Closed before the
                        // writer is told to stop, so 1002 is the code the client sees.
                        tracing::debug!(%err, user = me.id, "WebSocket protocol error");
                        let reason = CloseReason {
                            code: CloseCode::Protocol,
                            description: Some("protocol error".into()),
                        };
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, session.close(Some(reason))).await;
                        out.drop_client.send_replace(true);
                        return;
                    }
                    Some(Ok(AggregatedMessage::Ping(bytes))) => {
                        last_heard = Instant::now();
                        let _ = session.pong(&bytes).await;
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Pong(_))) => {
                        last_heard = Instant::now();
                        continue;
                    }
                    Some(Ok(AggregatedMessage::Binary(_))) => error("Binary messages are not supported: send JSON text."),
                    Some(Ok(AggregatedMessage::Text(text))) => {
                        last_heard = Instant::now();
                        if text.len() > MAX_MESSAGE_BYTES {
                            error(format!("Message too large: at most {MAX_MESSAGE_BYTES} bytes."))
                        } else {
                            match serde_json::from_str::<ClientMessage>(&text) {
                                Ok(message) => handle(&state, &me, &mut current, &actor, message).await,
                                Err(err) => error(format!("Malformed message: {err}")),
                            }
                        }
                    }
                };
                if !out.reply(reply) {
                    return;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    out.drop_client.send_replace(true);
                    return;
                }
                if !out.push(Outgoing::Ping) {
                    return;
                }
            }
            _ = dropped.wait_for(|dropped| *dropped) => return,
        }
    }
}

async fn handle(
    state: &AppState,
    me: &User,
    current: &mut Option<Current>,
    actor: &Addr<SessionActor>,
    message: ClientMessage,
) -> Value {
    // An attempt actor that stopped (evicted, failed) is found again: the registry restarts
    // it from the store.
    if let Some(attempt) = current.as_mut().filter(|a| !a.actor.connected()) {
        match state.attempts.send(Find::here(attempt.attempt)).await {
            Ok(actor) => attempt.actor = actor,
            Err(_) => return error("The attempts are restarting; try again."),
        }
    }
    let result = match message {
        ClientMessage::Start { test } => start(state, me, &test).await.map(|(attempt, reply)| {
            *current = Some(attempt);
            reply
        }),
        ClientMessage::Save { question, body } => match current {
            Some(attempt) => save(attempt, question, body).await,
            None => Err("Start or resume an attempt first.".to_owned()),
        },
        ClientMessage::Submit => match current.take() {
            Some(attempt) => match attempt.actor.send(Submit).await {
                Ok(Ok(completion)) => Ok(
                    json!({ "type": "submitted", "attempt": attempt.attempt, "completion": completion }),
                ),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("The attempt is restarting; try again.".to_owned()),
            },
            None => Err("Start or resume an attempt first.".to_owned()),
        },
        ClientMessage::Watch { test } => watch(state, me, test, actor).await,
    };
    result.unwrap_or_else(error)
}

async fn start(state: &AppState, me: &User, uuid: &str) -> Result<(Current, Value), String> {
    let store = &state.store;
    let test = test_by_uuid(&state.store, me, uuid)
        .await
        .map_err(detail)?
        .ok_or("No test has this public_uuid.")?;
    if access_groups(store, me, &test)
        .await
        .map_err(detail)?
        .is_empty()
    {
        return Err("This test is not available to you.".to_owned());
    }
    let key = format!("{}:{}", test.id, me.id);
    let attempts = store.repo::<Attempt>();
    let open = Filter::Eq("open_key", key.clone().into());
    let (attempt, resumed) = loop {
        if let Some(attempt) = attempts
            .find_one(&open)
            .await
            .map_err(|e| detail(e.into()))?
        {
            break (attempt, true);
        }
        attempts_left(store, me, &test).await.map_err(detail)?;
        let started_at = crate::accounts::jwt::now();
        let new = Attempt {
            id: 0,
            test_id: test.id,
            user_id: me.id,
            organization_id: test.organization_id,
            started_at,
            deadline: test.time_limit_seconds.map(|limit| started_at + limit),
            answers: Default::default(),
            submitted: false,
            completion_id: None,
            open_key: key.clone(),
        };
        match attempts.insert(new).await {
            Ok(attempt) => {
                let event = json!({ "type": "attempt_started", "attempt": attempt.id,
                    "user": MemberOut::from(me), "deadline": attempt.deadline.map(timestamp) });
                state.grading.hub.do_send(Publish {
                    topics: vec![Topic::Test(test.id)],
                    event: Event(event.to_string().into()),
                });
                break (attempt, false);
            }
            Err(StoreError::Duplicate) => continue, // opened meanwhile by another device
            Err(err) => return Err(detail(err.into())),
        }
    };
    let actor = state
        .attempts
        .send(Find::here(attempt.id))
        .await
        .map_err(|_| "The attempts are restarting; try again.")?;
    let loaded = actor
        .send(GetState)
        .await
        .map_err(|_| "The attempt is restarting; try again.")?;
    let loaded = loaded.map_err(|err| err.to_string())?;
    let reply = json!({
        "type": "attempt",
        "attempt": {
            "id": attempt.id,
            "resumed": resumed,
            "deadline": attempt.deadline.map(timestamp),
            "seconds_left": attempt.deadline.map(|d| (d - crate::accounts::jwt::now()).max(0)),
            "answers": attempt.answers,
            "submitted": loaded.submitted,
        },
        "test": student_view(&test),
    });
    Ok((
        Current {
            attempt: attempt.id,
            actor,
            test,
        },
        reply,
    ))
}

async fn save(current: &Current, question: i64, body: Value) -> Result<Value, String> {
    let q = current
        .test
        .questions
        .iter()
        .find(|q| q.id == question)
        .ok_or_else(|| format!("Question {question} is not a question of this test."))?;
    read_response(q, Some(&body)).map_err(|problem| format!("Question {question}: {problem}"))?;
    match current.actor.send(Save { question, body }).await {
        Ok(Ok(answered)) => {
            Ok(json!({ "type": "saved", "question": question, "answered": answered }))
        }
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("The attempt is restarting; try again.".to_owned()),
    }
}

async fn watch(
    state: &AppState,
    me: &User,
    test_id: i64,
    actor: &Addr<SessionActor>,
) -> Result<Value, String> {
    let store = &state.store;
    let refused = || "You cannot watch this test.".to_owned();
    let test = store
        .tests()
        .get(test_id)
        .await
        .map_err(|e| detail(e.into()))?
        .ok_or_else(refused)?;
    if !manages(store, me, test.creator_id, test.organization_id)
        .await
        .map_err(detail)?
    {
        return Err(refused());
    }
    // Subscribe first, so nothing happening while the snapshot is read is missed.
    state.grading.hub.do_send(Watch {
        topic: Topic::Test(test.id),
        watcher: actor.clone().recipient(),
    });
    let open = Filter::And(vec![
        Filter::Eq("test_id", test.id.into()),
        Filter::Eq("submitted", false.into()),
    ]);
    let attempts = store
        .repo::<Attempt>()
        .find(&open, None)
        .await
        .map_err(|e| detail(e.into()))?;
    let ids: Vec<i64> = attempts.iter().map(|a| a.user_id).collect();
    let users = store
        .users_by_ids(&ids)
        .await
        .map_err(|e| detail(e.into()))?;
    let in_progress: Vec<Value> = attempts
        .iter()
        .map(|a| {
            let user = users.iter().find(|u| u.id == a.user_id).map(MemberOut::from);
            json!({ "attempt": a.id, "user": user, "answered": a.answers.len(), "deadline": a.deadline.map(timestamp) })
        })
        .collect();
    let completions = store
        .completions()
        .find(&Filter::Eq("test_id", test.id.into()), None)
        .await
        .map_err(|e| detail(e.into()))?;
    let graded = graded_views(store, &completions).await.map_err(detail)?;
    Ok(
        json!({ "type": "snapshot", "test": test.id, "attempts": in_progress, "completions": graded }),
    )
}
