//! `GET /ws`: live test-taking and live results over WebSocket. The protocol, with an
//! example session, is in `docs/websocket.md`.
//!
//! Each connection has a [`SessionActor`] (it receives hub events), a reader task (client
//! messages, heartbeat, idle timeout), a guard task (deadlines) and an [`Outbox`]: the
//! bytes owed to the client, which the response body ([`SocketBody`]) hands to the HTTP
//! layer only as the socket takes them. Everything the server holds for a client is in the
//! outbox, so its bound ([`LiveLimits`]) is the client's cost: past it, or when its bytes
//! stop draining for the drain deadline, the client is dropped; nobody else waits for it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use actix::{Actor, ActorContext, Addr, Context, Handler, Message};
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, CloseCode, CloseReason};
use actors::attempt::{AttemptActor, Find, GetState, Save, Submit};
use actors::hub::{Event, Topic, Watch};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::auth::{bearer_token, AuthUser};
use crate::error::{ApiError, ErrorCode};
use crate::organizations::views::MemberOut;
use crate::settings::LiveLimits;
use crate::state::AppState;
use crate::store::{Attempt, Filter, Page, Test, User};
use crate::testing::access::{manages, test_by_uuid};
use crate::testing::attempts;
use crate::testing::completions::read_response;
use crate::testing::views::{
    graded_completions as graded_views, student_view, timestamp, GradedCompletionOut,
};

/// How often the server pings.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A client silent (no message, no pong) this long is disconnected.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest client message answered; larger ones get an error (the connection stays).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest frame read at all.
const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// How long a close frame may wait for the client's answer before the connection is cut.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// The most the HTTP layer is handed at a time. It asks for more only while its own buffer
/// (32 KiB) has room, so it never holds more than 48 KiB of a client's bytes: everything
/// else waits in the outbox, where it counts against the bound.
const CHUNK_BYTES: usize = 16 * 1024;
/// Largest `snapshot_page` (unless one completion alone is larger).
pub const PAGE_BYTES: usize = 64 * 1024;
/// Completions read from the store at a time for a snapshot (a few MB in memory).
const SNAPSHOT_BATCH: u64 = 1000;

/// WebSocket opcodes of the frames the server sends (RFC 6455, section 5.2).
const TEXT: u8 = 0x1;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
/// Control frames carry at most this much (RFC 6455, section 5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// One unfragmented server frame (servers do not mask).
fn frame(opcode: u8, payload: &[u8]) -> Bytes {
    let len = payload.len();
    let mut frame = BytesMut::with_capacity(len + 10);
    frame.extend_from_slice(&[0x80 | opcode]);
    if len < 126 {
        frame.extend_from_slice(&[len as u8]);
    } else if let Ok(len) = u16::try_from(len) {
        frame.extend_from_slice(&[126]);
        frame.extend_from_slice(&len.to_be_bytes());
    } else {
        frame.extend_from_slice(&[127]);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(payload);
    frame.freeze()
}

fn close_frame(reason: Option<CloseReason>) -> Bytes {
    let mut payload = Vec::new();
    if let Some(reason) = reason {
        payload.extend_from_slice(&u16::from(reason.code).to_be_bytes());
        let mut description = reason.description.unwrap_or_default();
        let mut end = description.len().min(MAX_CONTROL_PAYLOAD - 2);
        while !description.is_char_boundary(end) {
            end -= 1;
        }
        description.truncate(end);
        payload.extend_from_slice(description.as_bytes());
    }
    frame(CLOSE, &payload)
}

/// The socket of a connection, recorded when it is accepted (`startup.rs`), so that a client
/// whose bytes stop draining can be cut off: nothing else makes the HTTP layer give up a
/// write the client never takes (it would wait, holding the connection, forever).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSocket {
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
}

impl ConnectionSocket {
    pub fn of(tcp: &actix_web::rt::net::TcpStream) -> ConnectionSocket {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            ConnectionSocket {
                fd: tcp.as_raw_fd(),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tcp;
            ConnectionSocket {}
        }
    }

    /// Stops the socket's reading: the HTTP layer's next read ends, so a request body it
    /// would otherwise drain (chunks nobody reads) ends the connection once the answer is
    /// out. Called only by the body reader (`body.rs`) from inside the poll of a request of
    /// this connection, while the connection, and so its socket, lives.
    pub(super) fn stop_reading(self) {
        #[cfg(unix)]
        {
            use std::os::fd::FromRawFd;
            // SAFETY: as for `shut_down`: the caller runs inside the connection's own
            // request, so the descriptor is open; `ManuallyDrop` leaves it the connection's.
            let socket =
                std::mem::ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(self.fd) });
            if let Err(err) = socket.shutdown(std::net::Shutdown::Read) {
                tracing::debug!(%err, "cannot stop reading a socket");
            }
        }
    }

    /// Shuts the socket down both ways: the HTTP layer's next write fails and its next read
    /// ends, so it drops the connection; what the kernel already holds still goes out first.
    /// Called only by [`Outbox::cut`], under the condition it states.
    fn shut_down(self) {
        #[cfg(unix)]
        {
            use std::os::fd::FromRawFd;
            // SAFETY: the descriptor is the connection's socket, open for as long as the
            // connection lives, and `cut` calls this only while the connection's response
            // body lives, from the connection's worker thread (the outbox is an `Rc`): the
            // connection owns the body, so it lives too, and cannot close the socket until
            // this returns. `ManuallyDrop`: the socket stays the connection's to close.
            let socket =
                std::mem::ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(self.fd) });
            if let Err(err) = socket.shutdown(std::net::Shutdown::Both) {
                tracing::debug!(%err, "cannot shut a WebSocket's socket down");
            }
        }
    }
}

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Answering requests and passing events on.
    Open,
    /// A close frame is queued: the client has [`CLOSE_TIMEOUT`] to answer it or to close.
    /// `answer`: it answers the client's own, so the handshake is over once it is out.
    Closing { since: Instant, answer: bool },
    /// Over: the socket is shut down, the body ends, nothing more is queued.
    Cut,
}

/// The bytes owed to one client, as whole WebSocket frames.
struct Pipe {
    user: i64,
    limits: LiveLimits,
    /// Frames the HTTP layer has not taken yet, oldest first; the first may be partly taken.
    frames: VecDeque<Bytes>,
    /// Bytes in `frames`.
    queued: usize,
    /// Part of the first frame is taken: the rest must follow before any other frame.
    front_started: bool,
    /// Events held back while a reply they must follow is made ([`Outbox::hold`]).
    holding: bool,
    held: VecDeque<Bytes>,
    held_bytes: usize,
    /// When bytes in `frames` last drained to the HTTP layer, or began waiting there.
    drained_at: Instant,
    /// The guard has a deadline set and looks again by itself: bytes that begin waiting
    /// need not wake it (which would cost a wake-up and a timer per message).
    guard_armed: bool,
    /// Someone waits for bytes to drain: the body wakes them when it takes some.
    drain_watched: bool,
    phase: Phase,
    /// The response body's waker while it waits for bytes.
    body: Option<Waker>,
    /// The connection's socket, while the response body, and so the connection, lives.
    socket: Option<ConnectionSocket>,
}

impl Pipe {
    /// Queues a frame; answers whether the guard must be woken to watch it drain.
    fn append(&mut self, frame: Bytes) -> bool {
        let began = self.frames.is_empty();
        if began {
            self.drained_at = Instant::now();
        }
        self.queued += frame.len();
        self.frames.push_back(frame);
        let wake_guard = began && !self.guard_armed;
        self.guard_armed |= wake_guard;
        wake_guard
    }

    /// Forgets everything owed.
    fn clear(&mut self) {
        self.frames.clear();
        self.queued = 0;
        self.front_started = false;
        self.held.clear();
        self.held_bytes = 0;
        self.holding = false;
    }

    /// Forgets everything owed but the rest of a frame already begun, which must be
    /// finished before another frame can follow.
    fn discard(&mut self) {
        let begun = self
            .front_started
            .then(|| self.frames.pop_front())
            .flatten();
        self.clear();
        if let Some(rest) = begun {
            self.front_started = true;
            self.append(rest);
        }
    }
}

struct Shared {
    pipe: RefCell<Pipe>,
    /// The phase changed: the reader and the guard look again.
    phase_changed: Notify,
    /// Bytes began waiting while the guard was idle: it sets the drain deadline.
    waiting: Notify,
    /// The HTTP layer took bytes: whoever waits for them to drain (a snapshot waiting for
    /// room, the guard for the answer to a close frame to go out) looks again.
    drained: Notify,
}

/// A connection's outgoing side, shared by the reader, the session actor, the guard and
/// the response body. An `Rc`: all of them run on the connection's worker thread, which
/// [`Outbox::cut`] relies on.
#[derive(Clone)]
struct Outbox(Rc<Shared>);

impl Outbox {
    fn new(user: i64, limits: LiveLimits, socket: Option<ConnectionSocket>) -> Outbox {
        Outbox(Rc::new(Shared {
            pipe: RefCell::new(Pipe {
                user,
                limits,
                frames: VecDeque::new(),
                queued: 0,
                front_started: false,
                holding: false,
                held: VecDeque::new(),
                held_bytes: 0,
                drained_at: Instant::now(),
                guard_armed: false,
                drain_watched: false,
                phase: Phase::Open,
                body: None,
                socket,
            }),
            phase_changed: Notify::new(),
            waiting: Notify::new(),
            drained: Notify::new(),
        }))
    }

    fn phase(&self) -> Phase {
        self.0.pipe.borrow().phase
    }

    /// Queues a frame (an event too while `event` and holding). Past the bound the client
    /// is dropped instead: `false`, as when it is gone.
    fn enqueue(&self, frame: Bytes, event: bool) -> bool {
        let mut pipe = self.0.pipe.borrow_mut();
        if pipe.phase != Phase::Open {
            return false;
        }
        let owed = pipe.queued + pipe.held_bytes + frame.len();
        if owed > pipe.limits.outstanding_bytes {
            let user = pipe.user;
            drop(pipe);
            tracing::info!(user, owed, "WebSocket client too slow: disconnected");
            self.close(Some(CloseReason {
                code: CloseCode::Policy,
                description: Some("too slow".into()),
            }));
            return false;
        }
        if event && pipe.holding {
            pipe.held_bytes += frame.len();
            pipe.held.push_back(frame);
            return true;
        }
        let wake_guard = pipe.append(frame);
        let body = pipe.body.take();
        drop(pipe);
        if wake_guard {
            self.0.waiting.notify_waiters();
        }
        if let Some(body) = body {
            body.wake();
        }
        true
    }

    /// Queues a reply.
    fn reply(&self, message: &impl Serialize) -> bool {
        match serde_json::to_vec(message) {
            Ok(text) => self.enqueue(frame(TEXT, &text), false),
            Err(err) => {
                tracing::error!(%err, "cannot encode a WebSocket message");
                true
            }
        }
    }

    /// Queues a control frame (ping, pong).
    fn control(&self, opcode: u8, payload: &[u8]) -> bool {
        let payload = &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)];
        self.enqueue(frame(opcode, payload), false)
    }

    /// Queues a hub event, or holds it back while a reply it must follow is made.
    fn event(&self, text: &str) -> bool {
        self.enqueue(frame(TEXT, text.as_bytes()), true)
    }

    /// Holds events back until [`Outbox::release`]: a reply that events of its own making
    /// must follow (`submitted` before its grading, a snapshot before what happens after
    /// it) is queued before them, whatever the timing (`docs/websocket.md`, "Order").
    fn hold(&self) {
        self.0.pipe.borrow_mut().holding = true;
    }

    /// Queues the events held back, in the order they came.
    fn release(&self) {
        let mut pipe = self.0.pipe.borrow_mut();
        pipe.holding = false;
        if pipe.held.is_empty() {
            return;
        }
        let held = std::mem::take(&mut pipe.held);
        pipe.held_bytes = 0;
        let mut wake_guard = false;
        for frame in held {
            wake_guard |= pipe.append(frame);
        }
        let body = pipe.body.take();
        drop(pipe);
        if wake_guard {
            self.0.waiting.notify_waiters();
        }
        if let Some(body) = body {
            body.wake();
        }
    }

    /// Starts the closing handshake: what was owed goes (the client is leaving or being
    /// dropped), a close frame goes out, and the client has [`CLOSE_TIMEOUT`] to answer.
    fn close(&self, reason: Option<CloseReason>) {
        self.close_with(reason, false);
    }

    /// Answers the client's close frame: once the answer is out, the connection ends.
    fn answer_close(&self, reason: Option<CloseReason>) {
        let echo = reason.map(|r| CloseReason {
            code: r.code,
            description: None,
        });
        self.close_with(echo, true);
    }

    fn close_with(&self, reason: Option<CloseReason>, answer: bool) {
        let mut pipe = self.0.pipe.borrow_mut();
        if pipe.phase != Phase::Open {
            return;
        }
        pipe.discard();
        pipe.append(close_frame(reason));
        pipe.phase = Phase::Closing {
            since: Instant::now(),
            answer,
        };
        let body = pipe.body.take();
        drop(pipe);
        self.0.phase_changed.notify_waiters();
        if let Some(body) = body {
            body.wake();
        }
    }

    /// Ends the connection now: the socket is shut down (the only way to end a write the
    /// client does not take), and the body ends.
    fn cut(&self) {
        let mut pipe = self.0.pipe.borrow_mut();
        if pipe.phase == Phase::Cut {
            return;
        }
        pipe.phase = Phase::Cut;
        pipe.clear();
        // Only while the body lives (`socket` goes with it), and on this thread: see
        // `ConnectionSocket::shut_down`.
        let socket = pipe.socket;
        let body = pipe.body.take();
        drop(pipe);
        if let Some(socket) = socket {
            socket.shut_down();
        }
        self.0.phase_changed.notify_waiters();
        self.0.drained.notify_waiters();
        if let Some(body) = body {
            body.wake();
        }
    }

    /// Waits until at most `bytes` wait for the HTTP layer; `false` if the client is gone.
    async fn drained_to(&self, bytes: usize) -> bool {
        loop {
            let (drained, phase_changed) =
                (self.0.drained.notified(), self.0.phase_changed.notified());
            {
                let mut pipe = self.0.pipe.borrow_mut();
                if pipe.phase != Phase::Open {
                    return false;
                }
                if pipe.queued <= bytes {
                    return true;
                }
                pipe.drain_watched = true;
            }
            tokio::select! {
                () = drained => {}
                () = phase_changed => {}
            }
        }
    }
}

/// The response body of a WebSocket: hands the outbox's frames to the HTTP layer, a chunk
/// at a time, as it asks for them.
struct SocketBody {
    out: Outbox,
    /// actix-ws's own body, never polled: dropped with this one, it tells the message
    /// stream that the connection is gone.
    _actix_ws_body: BoxBody,
}

impl MessageBody for SocketBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let shared = &self.out.0;
        let mut pipe = shared.pipe.borrow_mut();
        let pipe = &mut *pipe;
        if pipe.phase == Phase::Cut {
            return Poll::Ready(None);
        }
        let Some(front) = pipe.frames.front_mut() else {
            if !pipe.body.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                pipe.body = Some(cx.waker().clone());
            }
            return Poll::Pending;
        };
        let chunk = if front.len() > CHUNK_BYTES {
            pipe.front_started = true;
            front.split_to(CHUNK_BYTES)
        } else {
            pipe.front_started = false;
            pipe.frames.pop_front().unwrap_or_default()
        };
        pipe.queued -= chunk.len();
        pipe.drained_at = Instant::now();
        if std::mem::take(&mut pipe.drain_watched) {
            shared.drained.notify_waiters();
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

impl Drop for SocketBody {
    fn drop(&mut self) {
        // The connection is going: its socket is no longer ours to touch, and nothing
        // queued can be sent.
        let mut pipe = self.out.0.pipe.borrow_mut();
        pipe.socket = None;
        pipe.body = None;
        pipe.phase = Phase::Cut;
        pipe.clear();
        drop(pipe);
        self.out.0.phase_changed.notify_waiters();
        self.out.0.drained.notify_waiters();
    }
}

/// Enforces a connection's deadlines: bytes that stop draining for the drain deadline,
/// and a close frame unanswered for [`CLOSE_TIMEOUT`], cut the connection; so does the
/// answer to the client's close frame once it is out.
async fn guard(out: Outbox) {
    loop {
        let shared = &out.0;
        let (phase_changed, waiting, drained) = (
            shared.phase_changed.notified(),
            shared.waiting.notified(),
            shared.drained.notified(),
        );
        let (deadline, closing) = {
            let mut pipe = shared.pipe.borrow_mut();
            let pipe = &mut *pipe;
            pipe.guard_armed = !pipe.frames.is_empty();
            match pipe.phase {
                Phase::Cut => return,
                // Taken by the HTTP layer, which writes what it takes before anything else
                // on this thread runs: the answer is out (or the client is not reading).
                Phase::Closing { answer: true, .. } if pipe.frames.is_empty() => {
                    (Some(Instant::now()), true)
                }
                Phase::Closing { since, answer } => {
                    pipe.drain_watched |= answer;
                    (Some(since + CLOSE_TIMEOUT), true)
                }
                Phase::Open if pipe.frames.is_empty() => (None, false),
                Phase::Open => (Some(pipe.drained_at + pipe.limits.drain_timeout), false),
            }
        };
        if deadline.is_some_and(|at| Instant::now() >= at) {
            if !closing {
                let pipe = shared.pipe.borrow();
                let (user, drain_timeout) = (pipe.user, pipe.limits.drain_timeout);
                tracing::info!(
                    user,
                    ?drain_timeout,
                    "WebSocket client not reading: disconnected"
                );
            }
            out.cut();
            return;
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = sleep => {}
            () = phase_changed => {}
            () = waiting => {}
            // Only a close frame's answer waits on its bytes draining.
            () = drained, if closing => {}
        }
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
        if !self.out.event(&text) {
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

/// An error reply with the code of the rule that refused.
fn coded(err: ApiError) -> Value {
    let code = err.error_code().as_str();
    json!({ "type": "error", "detail": detail(err), "code": code })
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
        ApiError::Throttled { retry_after } => {
            format!("Request was throttled. Expected available in {retry_after} seconds.")
        }
    }
}

/// `GET /ws`, authenticated like REST, by the `bearer.<token>` subprotocol (browsers cannot
/// set headers on a WebSocket), or with `?token=`: a bad or missing token is refused before
/// the upgrade.
pub async fn connect(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let socket = req.conn_data::<ConnectionSocket>().copied();
    let limits = req.app_data::<LiveLimits>().copied().unwrap_or_default();
    let query_token = || {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .ok()?
            .into_iter()
            .find_map(|(k, v)| (k == "token").then_some(v))
    };
    // Browsers: the `bearer.<token>` subprotocol (`ws_auth.rs`), which keeps it out of URLs.
    let offered = super::ws_auth::Offered::of(&req)?;
    let token = bearer_token(&req)
        .map(str::to_owned)
        .or(offered.token.clone())
        .or_else(query_token);
    let token = token.ok_or_else(|| ApiError::code(ErrorCode::NotAuthenticated))?;
    let auth = AuthUser::authenticate(&state, &token).await?;
    let (mut response, session, messages) = actix_ws::handle(&req, body)
        .map_err(|err| ApiError::bad_request(format!("Expected a WebSocket upgrade: {err}")))?;
    if let Some(protocol) = offered.answer() {
        response
            .headers_mut()
            .insert(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    // Frames go out through the outbox, not actix-ws's session: its channel holds 32
    // messages of any size, beyond any count, and its body hands the HTTP layer whatever
    // it holds at once.
    drop(session);
    let messages = messages
        .max_frame_size(MAX_FRAME_BYTES)
        .aggregate_continuations()
        .max_continuation_size(MAX_FRAME_BYTES);

    let out = Outbox::new(auth.user.id, limits, socket);
    let (head, actix_ws_body) = response.into_parts();
    let response = head
        .set_body(SocketBody {
            out: out.clone(),
            _actix_ws_body: actix_ws_body,
        })
        .map_into_boxed_body();
    let actor = SessionActor { out: out.clone() }.start();
    state.grading.hub.do_send(Watch {
        topic: Topic::User(auth.user.id),
        watcher: actor.clone().recipient(),
    });
    actix_web::rt::spawn(guard(out.clone()));
    actix_web::rt::spawn(async move {
        let _open = crate::metrics::OpenConnection::open();
        read(state, auth.user, messages, out, actor.clone()).await;
        actor.do_send(Disconnect);
    });
    Ok(response)
}

async fn read(
    state: web::Data<AppState>,
    me: User,
    mut messages: actix_ws::AggregatedMessageStream,
    out: Outbox,
    actor: Addr<SessionActor>,
) {
    let mut last_heard = Instant::now();
    let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
    let mut current: Option<Current> = None;
    // False after a protocol error: nothing after it can be trusted to be framed right.
    let mut readable = true;
    let mut going_away = state.going_away.clone();
    loop {
        let phase_changed = out.0.phase_changed.notified();
        let open = match out.phase() {
            Phase::Cut => return,
            phase => phase == Phase::Open,
        };
        tokio::select! {
            message = messages.recv(), if readable => match message {
                // The client is gone, or closed after the closing handshake.
                None => {
                    out.cut();
                    return;
                }
                Some(Err(err)) => {
                    // A frame that breaks the WebSocket protocol (reserved bits or opcode,
                    // an unmasked client frame, …) closes the connection at once with 1002:
                    // answering each bad frame only cost CPU and filled the queue.
                    tracing::debug!(%err, user = me.id, "WebSocket protocol error");
                    out.close(Some(CloseReason {
                        code: CloseCode::Protocol,
                        description: Some("protocol error".into()),
                    }));
                    readable = false;
                }
                Some(Ok(AggregatedMessage::Close(reason))) => {
                    if !open {
                        // The client answered our close frame, so it has read all we sent.
                        out.cut();
                        return;
                    }
                    out.answer_close(reason);
                }
                // Closing: requests are no longer answered.
                Some(Ok(_)) if !open => {}
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    last_heard = Instant::now();
                    out.control(PONG, &bytes);
                }
                Some(Ok(AggregatedMessage::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(AggregatedMessage::Binary(_))) => {
                    out.reply(&error("Binary messages are not supported: send JSON text."));
                }
                Some(Ok(AggregatedMessage::Text(text))) => {
                    let reply = if text.len() > MAX_MESSAGE_BYTES {
                        Some(error(format!("Message too large: at most {MAX_MESSAGE_BYTES} bytes.")))
                    } else {
                        match serde_json::from_str::<ClientMessage>(&text) {
                            Ok(message) => handle(&state, &me, &mut current, &actor, &out, message).await,
                            Err(err) => Some(error(format!("Malformed message: {err}"))),
                        }
                    };
                    if let Some(reply) = reply {
                        out.reply(&reply);
                    }
                    // Events held back while the reply was made follow it.
                    out.release();
                    // Heard when the message came; the time spent answering it is ours.
                    last_heard = Instant::now();
                }
            },
            _ = heartbeat.tick(), if open => {
                if last_heard.elapsed() > CLIENT_TIMEOUT {
                    out.close(Some(CloseReason {
                        code: CloseCode::Policy,
                        description: Some("idle".into()),
                    }));
                } else {
                    out.control(PING, b"");
                }
            }
            // The server is stopping: 1001 tells the client to reconnect (to this server once
            // it is back, or to another); its attempt is in the store, with its clock.
            Ok(_) = going_away.wait_for(|stopping| *stopping), if open => {
                out.close(Some(CloseReason {
                    code: CloseCode::Away,
                    description: Some("server restarting".into()),
                }));
            }
            () = phase_changed => {}
        }
    }
}

/// Handles one request; answers the reply to queue, if it did not queue its own.
async fn handle(
    state: &AppState,
    me: &User,
    current: &mut Option<Current>,
    actor: &Addr<SessionActor>,
    out: &Outbox,
    message: ClientMessage,
) -> Option<Value> {
    // An attempt actor that stopped (evicted, failed) is found again: the registry restarts
    // it from the store.
    if let Some(attempt) = current.as_mut().filter(|a| !a.actor.connected()) {
        match state.attempts.send(Find::here(attempt.attempt)).await {
            Ok(actor) => attempt.actor = actor,
            Err(_) => return Some(error("The attempts are restarting; try again.")),
        }
    }
    let result = match message {
        ClientMessage::Start { test } => match start(state, me, &test).await {
            Ok((attempt, reply)) => {
                *current = Some(attempt);
                Ok(reply)
            }
            Err(refused) => return Some(refused),
        },
        ClientMessage::Save { question, body } => match current {
            Some(attempt) => save(attempt, question, body).await,
            None => Err("Start or resume an attempt first.".to_owned()),
        },
        ClientMessage::Submit => match current.take() {
            Some(attempt) => {
                // The submission's own events (its grading, announced by the hub, which may
                // be quick) wait until `submitted` is queued.
                out.hold();
                match attempt.actor.send(Submit).await {
                    Ok(Ok(completion)) => Ok(
                        json!({ "type": "submitted", "attempt": attempt.attempt, "completion": completion }),
                    ),
                    Ok(Err(err)) => Err(err.to_string()),
                    Err(_) => Err("The attempt is restarting; try again.".to_owned()),
                }
            }
            None => Err("Start or resume an attempt first.".to_owned()),
        },
        ClientMessage::Watch { test } => {
            return watch(state, me, test, actor, out).await.err().map(error);
        }
    };
    Some(result.unwrap_or_else(error))
}

/// `start`: refusals are errors with the rule's `code` (`closed`, `not_open_yet`, …).
async fn start(state: &AppState, me: &User, uuid: &str) -> Result<(Current, Value), Value> {
    let test = test_by_uuid(&state.store, me, uuid)
        .await
        .map_err(coded)?
        .ok_or_else(|| error("No test has this public_uuid."))?;
    let (attempt, resumed) = attempts::start_live(&state.grading, me, &test)
        .await
        .map_err(coded)?;
    let actor = state
        .attempts
        .send(Find::here(attempt.id))
        .await
        .map_err(|_| error("The attempts are restarting; try again."))?;
    let loaded = actor
        .send(GetState)
        .await
        .map_err(|_| error("The attempt is restarting; try again."))?;
    let loaded = loaded.map_err(error)?;
    let reply = json!({
        "type": "attempt",
        "attempt": {
            "id": attempt.id,
            "resumed": resumed,
            "deadline": attempt.deadline.map(timestamp),
            "seconds_left": attempt.deadline.map(|d| (d - crate::domain::clock::now()).max(0)),
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

/// `{"type": "watching", …}`: the first answer to `watch`. The snapshot follows in
/// [`SnapshotPage`]s, then live events.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "watching")]
struct Watching {
    test: i64,
    /// Attempts in progress when the snapshot was taken.
    attempts: usize,
    /// Completions so far (the pages may hold a few more, submitted while they are sent).
    completions: u64,
}

/// `{"type": "snapshot_page", …}`: part of a snapshot, at most [`PAGE_BYTES`] (unless one
/// completion alone is larger). Attempts in progress come first, then completions in the
/// order they were submitted; the last page says so, and live events follow it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename = "snapshot_page")]
struct SnapshotPage {
    test: i64,
    /// 1, 2, …
    page: usize,
    last: bool,
    attempts: Vec<InProgress>,
    /// As `/api/tests/{id}/completions/` shows them.
    completions: Vec<GradedCompletionOut>,
}

/// An attempt in progress, in a [`SnapshotPage`].
#[derive(Debug, Serialize)]
struct InProgress {
    attempt: i64,
    user: Option<MemberOut>,
    /// Questions answered so far (never the answers).
    answered: usize,
    /// RFC 3339, or null.
    deadline: Option<String>,
}

/// The length of a value's JSON, without writing it anywhere.
fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Fills [`SnapshotPage`]s up to [`PAGE_BYTES`] and queues each once full, after the one
/// before has drained: a snapshot never fills the outbox, however large.
struct Pages<'a> {
    out: &'a Outbox,
    page: SnapshotPage,
    /// The JSON length of `page` so far.
    bytes: usize,
}

impl Pages<'_> {
    fn empty(test: i64, page: usize) -> (SnapshotPage, usize) {
        let page = SnapshotPage {
            test,
            page,
            last: false,
            attempts: Vec::new(),
            completions: Vec::new(),
        };
        let bytes = json_len(&page);
        (page, bytes)
    }

    fn new(out: &Outbox, test: i64) -> Pages<'_> {
        let (page, bytes) = Pages::empty(test, 1);
        Pages { out, page, bytes }
    }

    /// Makes room for an item of `len` bytes (and its comma): `false` if the client is gone.
    async fn room_for(&mut self, len: usize) -> bool {
        let empty = self.page.attempts.is_empty() && self.page.completions.is_empty();
        // `true` is a byte longer than `false`, for the last page.
        if empty || self.bytes + len + 2 <= PAGE_BYTES {
            return true;
        }
        let (next, bytes) = Pages::empty(self.page.test, self.page.page + 1);
        let full = std::mem::replace(&mut self.page, next);
        self.bytes = bytes;
        self.out.reply(&full) && self.out.drained_to(PAGE_BYTES).await
    }

    async fn attempt(&mut self, attempt: InProgress) -> bool {
        let len = json_len(&attempt);
        if !self.room_for(len).await {
            return false;
        }
        self.bytes += len + 1;
        self.page.attempts.push(attempt);
        true
    }

    async fn completion(&mut self, completion: GradedCompletionOut) -> bool {
        let len = json_len(&completion);
        if !self.room_for(len).await {
            return false;
        }
        self.bytes += len + 1;
        self.page.completions.push(completion);
        true
    }

    fn finish(mut self) {
        self.page.last = true;
        self.out.reply(&self.page);
    }
}

/// `watch`: subscribes the session to the test, then queues `watching` and the snapshot's
/// pages; live events follow the last page.
async fn watch(
    state: &AppState,
    me: &User,
    test_id: i64,
    actor: &Addr<SessionActor>,
    out: &Outbox,
) -> Result<(), String> {
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
    // Subscribed before anything is read, so nothing happening meanwhile is missed (it may
    // show in the snapshot and as an event too); the events wait until the last page.
    out.hold();
    state
        .grading
        .hub
        .send(Watch {
            topic: Topic::Test(test.id),
            watcher: actor.clone().recipient(),
        })
        .await
        .map_err(|_| "The server is restarting; try again.".to_owned())?;
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
    let of_test = Filter::Eq("test_id", test.id.into());
    let completions = store
        .completions()
        .count(&of_test)
        .await
        .map_err(|e| detail(e.into()))?;
    let watching = Watching {
        test: test.id,
        attempts: attempts.len(),
        completions,
    };
    if !out.reply(&watching) {
        return Ok(());
    }
    let mut pages = Pages::new(out, test.id);
    for a in attempts {
        let user = users
            .iter()
            .find(|u| u.id == a.user_id)
            .map(MemberOut::from);
        let attempt = InProgress {
            attempt: a.id,
            user,
            answered: a.answers.len(),
            deadline: a.deadline.map(timestamp),
        };
        if !pages.attempt(attempt).await {
            return Ok(());
        }
    }
    // A batch at a time, in id order: memory stays flat whatever the number of completions,
    // and ones submitted meanwhile (later ids) are not skipped.
    let mut offset = 0;
    loop {
        let page = Page {
            offset,
            limit: SNAPSHOT_BATCH,
        };
        let batch = store
            .completions()
            .find(&of_test, Some(page))
            .await
            .map_err(|e| detail(e.into()))?;
        for completion in graded_views(store, &batch).await.map_err(detail)? {
            if !pages.completion(completion).await {
                return Ok(());
            }
        }
        if (batch.len() as u64) < SNAPSHOT_BATCH {
            break;
        }
        offset += SNAPSHOT_BATCH;
    }
    pages.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_their_length_in_the_shortest_form() {
        let short = frame(TEXT, b"hi");
        assert_eq!(&short[..], &[0x81, 2, b'h', b'i']);
        let medium = frame(TEXT, &[b'x'; 300]);
        assert_eq!(&medium[..4], &[0x81, 126, 0x01, 0x2C]);
        assert_eq!(medium.len(), 4 + 300);
        let long = frame(TEXT, &vec![b'x'; 70_000]);
        assert_eq!(&long[..2], &[0x81, 127]);
        assert_eq!(u64::from_be_bytes(long[2..10].try_into().unwrap()), 70_000);
        assert_eq!(long.len(), 10 + 70_000);
    }

    #[test]
    fn close_frames_carry_the_code_and_a_reason_cut_to_fit() {
        let reason = CloseReason {
            code: CloseCode::Protocol,
            description: Some("é".repeat(100)),
        };
        let close = close_frame(Some(reason));
        assert_eq!(close[0], 0x88);
        assert_eq!(&close[2..4], &[0x03, 0xEA]);
        // 123 bytes at most, and never half a character.
        let reason = std::str::from_utf8(&close[4..]).unwrap();
        assert_eq!(reason.len(), 122);
        assert_eq!(&close_frame(None)[..], &[0x88, 0]);
    }
}
