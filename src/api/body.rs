//! Request bodies: JSON or form data, parsed into the object that [`Input`] reads; and the
//! rules every request body is read under ([`guard`]).
//!
//! [`Body`] accepts `application/json` and `application/x-www-form-urlencoded` (the seed
//! documents both), an empty body being an empty object. Bodies that are not objects are
//! refused the way DRF refuses them; invalid UTF-8 is a parse error, never replaced.
//!
//! Every body, this one's and the uploads' (`media.rs`), is read through [`Guarded`]: it must
//! keep arriving (a deadline per [`Pace`]), and one client address may have only so many
//! bodies arriving at once. A body that breaks a rule is answered 408 (or 429) at once and
//! its connection closed, so a client that opens bodies and stalls holds neither sockets nor
//! memory for long. Bytes are buffered as they arrive, never reserved for what a
//! `Content-Length` announces, and a body without valid credentials may hold at most
//! [`MAX_ANONYMOUS_BODY_BYTES`].

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use futures_util::{Stream, StreamExt as _};
use serde_json::{Map, Value};
use tokio::time::{Instant, Sleep};

use crate::domain::input::Input;
use crate::error::{ApiError, ErrorCode, Validator};
use crate::settings::BodyLimits;
use crate::state::AppState;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Largest body accepted from a caller without valid credentials (sign-up, sign-in, codes,
/// resets: a few hundred bytes each). A larger one is refused before it is read, or as soon
/// as it grows past this, unless its credentials check out.
pub const MAX_ANONYMOUS_BODY_BYTES: usize = 16 * 1024;

/// How a body must keep arriving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Fields (JSON, form data, multipart without a file): whole within
    /// [`BodyLimits::timeout`], no pause over [`BodyLimits::idle_timeout`].
    Fields,
    /// A file upload: no pause over [`BodyLimits::upload_idle_timeout`], and once that much
    /// time has passed, an average of [`BodyLimits::upload_min_rate`] bytes per second.
    Upload,
}

/// The bodies arriving now, per client address; shared by every worker.
pub struct Bodies {
    limits: BodyLimits,
    arriving: Mutex<HashMap<Option<IpAddr>, u32>>,
}

impl Bodies {
    pub fn new(limits: BodyLimits) -> Bodies {
        Bodies {
            limits,
            arriving: Mutex::new(HashMap::new()),
        }
    }

    pub fn limits(&self) -> BodyLimits {
        self.limits
    }

    /// Bodies arriving now from all addresses (for tests and benchmarks).
    pub fn arriving(&self) -> u32 {
        self.lock().values().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Option<IpAddr>, u32>> {
        self.arriving.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one more body from `address`, or 429 when it has
    /// [`BodyLimits::per_address`] arriving already.
    fn enter(self: &Arc<Self>, address: Option<IpAddr>) -> Result<Slot, ApiError> {
        let mut arriving = self.lock();
        let count = arriving.entry(address).or_insert(0);
        if *count >= self.limits.per_address {
            let limit = self.limits.per_address;
            tracing::info!(?address, limit, "too many bodies arriving from one address");
            return Err(ApiError::Coded {
                code: ErrorCode::Throttled,
                detail: Some(format!(
                    "Too many request bodies arriving at once from this address (at most {limit})."
                )),
            });
        }
        *count += 1;
        Ok(Slot {
            bodies: self.clone(),
            address,
        })
    }
}

/// One body's place among its address's; given back when dropped.
struct Slot {
    bodies: Arc<Bodies>,
    address: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut arriving = self.bodies.lock();
        if let Some(count) = arriving.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                arriving.remove(&self.address);
            }
        }
    }
}

/// What a [`Guarded`] body says about itself once it was cut off.
#[derive(Clone, Default)]
pub struct Watch(Rc<Cell<Option<Pace>>>);

impl Watch {
    /// The 408 to answer when the body was cut off for breaking its pace's rule.
    pub fn overdue(&self, limits: BodyLimits) -> Option<ApiError> {
        let pace = self.0.get()?;
        let secs = |d: Duration| d.as_secs_f64();
        let detail = match pace {
            Pace::Fields => format!(
                "The request body did not arrive in time: it must arrive within {} s, \
                 pausing no longer than {} s.",
                secs(limits.timeout),
                secs(limits.idle_timeout)
            ),
            Pace::Upload => format!(
                "The upload came too slowly: it must keep arriving at {} bytes/s or more \
                 on average, pausing no longer than {} s.",
                limits.upload_min_rate,
                secs(limits.upload_idle_timeout)
            ),
        };
        Some(ApiError::with_detail(ErrorCode::RequestTimeout, detail))
    }
}

/// A request body read under its [`Pace`]'s deadline. Once the deadline passes it ends with
/// an error (and its [`Watch`] says so); the bytes are never buffered here.
pub struct Guarded {
    payload: Payload,
    pace: Pace,
    limits: BodyLimits,
    started: Instant,
    last: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    watch: Watch,
    slot: Option<Slot>,
    ended: bool,
    /// The connection's socket, when the body is chunked (see [`stop_reading`]).
    socket: Option<super::live::ConnectionSocket>,
}

impl Guarded {
    /// When the body is overdue, given what has arrived so far.
    fn deadline(&self) -> Instant {
        let l = &self.limits;
        match self.pace {
            Pace::Fields => (self.last + l.idle_timeout).min(self.started + l.timeout),
            Pace::Upload => {
                // `received` bytes at the minimum rate, after the grace.
                let earned =
                    Duration::from_secs_f64(self.received as f64 / l.upload_min_rate.max(1) as f64);
                (self.last + l.upload_idle_timeout)
                    .min(self.started + l.upload_idle_timeout + earned)
            }
        }
    }

    /// Gives the body up unread: the connection is closed once the answer is out (see
    /// [`stop_reading`]). Call it only from within the request's handling, when refusing
    /// the body.
    pub fn abandon(&mut self) {
        if !self.ended {
            self.ended = true;
            self.slot = None;
            if let Some(socket) = self.socket {
                socket.stop_reading();
            }
        }
    }
}

impl Stream for Guarded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                this.last = Instant::now();
                let deadline = this.deadline();
                this.timer.as_mut().reset(deadline);
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Ready(None) => {
                this.ended = true;
                // The body is in: its place is free for the address's next one.
                this.slot = None;
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Err(err))) => {
                this.ended = true;
                this.slot = None;
                return Poll::Ready(Some(Err(err)));
            }
            Poll::Pending => {}
        }
        if this.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.abandon();
        this.watch.0.set(Some(this.pace));
        tracing::info!(
            pace = ?this.pace,
            received = this.received,
            "a request body was cut off for arriving too slowly"
        );
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the body arrived too slowly",
        )))))
    }
}

/// Puts `payload` under the rules of `pace`: takes a place among the bodies arriving from
/// the client's address (429 when there is none). The [`Watch`] tells afterwards whether
/// the body was cut off.
pub fn guard(
    req: &HttpRequest,
    payload: Payload,
    pace: Pace,
) -> Result<(Guarded, Watch), ApiError> {
    let bodies = req
        .app_data::<web::Data<Bodies>>()
        .ok_or_else(|| ApiError::internal("Bodies are not registered"))?
        .clone()
        .into_inner();
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("AppState is not registered"))?;
    let socket = req
        .conn_data::<super::live::ConnectionSocket>()
        .copied()
        .filter(|_| req.headers().contains_key(header::TRANSFER_ENCODING));
    let slot = if has_body(req) {
        let entered = bodies.enter(super::auth::client_address(req, state));
        if entered.is_err() {
            stop_reading(req);
        }
        Some(entered?)
    } else {
        None
    };
    let now = Instant::now();
    let watch = Watch::default();
    let mut guarded = Guarded {
        payload,
        pace,
        limits: bodies.limits,
        started: now,
        last: now,
        received: 0,
        timer: Box::pin(tokio::time::sleep_until(now)),
        watch: watch.clone(),
        slot,
        ended: false,
        socket,
    };
    let deadline = guarded.deadline();
    guarded.timer.as_mut().reset(deadline);
    Ok((guarded, watch))
}

/// Stops reading a chunked body refused before its end: the HTTP layer would otherwise read
/// it to its end, however slowly it comes, before closing. (A body with a `Content-Length`
/// needs nothing: the HTTP layer closes the connection after answering a request whose body
/// was not read, lingering a moment so the client reads the answer first.)
pub(super) fn stop_reading(req: &HttpRequest) {
    if !req.headers().contains_key(header::TRANSFER_ENCODING) {
        return;
    }
    if let Some(socket) = req.conn_data::<super::live::ConnectionSocket>() {
        socket.stop_reading();
    }
}

/// Whether the request announces a body (a length above 0, or chunks).
fn has_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    declared_length(req).is_some_and(|n| n > 0)
}

/// The body's `Content-Length`, when it has a valid one.
fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A 413 naming the limit broken.
fn too_large(limit: usize, anonymous: bool) -> ApiError {
    let detail = if anonymous {
        format!(
            "Request body is too large: at most {limit} bytes without valid credentials \
             ({MAX_BODY_BYTES} with them)."
        )
    } else {
        format!("Request body is too large: at most {limit} bytes.")
    };
    ApiError::with_detail(ErrorCode::PayloadTooLarge, detail)
}

/// Whether the request carries credentials that check out (only asked of bodies larger
/// than [`MAX_ANONYMOUS_BODY_BYTES`]).
async fn vouched_for(req: &HttpRequest) -> bool {
    let (Some(state), Some(token)) = (
        req.app_data::<web::Data<AppState>>(),
        super::auth::bearer_token(req),
    ) else {
        return false;
    };
    super::auth::AuthUser::authenticate(state, token)
        .await
        .is_ok()
}

/// The largest body of fields the request may send, checked against its `Content-Length`
/// before a byte is read: [`MAX_ANONYMOUS_BODY_BYTES`], or [`MAX_BODY_BYTES`] when it must
/// be (a longer announced body, or none announced: `vouch_unannounced`) and its
/// credentials check out. Answers the limit and whether the credentials were checked.
async fn body_limit(req: &HttpRequest, vouch_unannounced: bool) -> Result<(usize, bool), ApiError> {
    let declared = declared_length(req);
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        stop_reading(req);
        return Err(too_large(MAX_BODY_BYTES, false));
    }
    let longer = declared.map_or(vouch_unannounced && has_body(req), |n| {
        n > MAX_ANONYMOUS_BODY_BYTES as u64
    });
    if !longer {
        return Ok((MAX_ANONYMOUS_BODY_BYTES, false));
    }
    if vouched_for(req).await {
        Ok((MAX_BODY_BYTES, true))
    } else if declared.is_some() {
        stop_reading(req);
        Err(too_large(MAX_ANONYMOUS_BODY_BYTES, true))
    } else {
        // Unannounced and unvouched: read, up to the smaller limit.
        Ok((MAX_ANONYMOUS_BODY_BYTES, true))
    }
}

/// Reads a whole body of fields, up to its limits, as it arrives.
async fn read_fields(req: &HttpRequest, payload: Payload) -> Result<Bytes, ApiError> {
    // What the client announces is checked before a byte is read.
    let (mut limit, mut vouched) = body_limit(req, false).await?;
    let (mut body, watch) = guard(req, payload, Pace::Fields)?;
    let limits = body.limits;
    // Grown as bytes arrive: a stalled body holds what it sent, not what it announced.
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| {
            watch.overdue(limits).unwrap_or_else(|| {
                ApiError::with_detail(ErrorCode::ParseError, "The request body could not be read.")
            })
        })?;
        if bytes.len() + chunk.len() > limit {
            if vouched || !vouched_for(req).await {
                body.abandon();
                return Err(too_large(limit, limit < MAX_BODY_BYTES));
            }
            vouched = true;
            limit = MAX_BODY_BYTES;
            if bytes.len() + chunk.len() > limit {
                body.abandon();
                return Err(too_large(limit, false));
            }
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Reads a multipart/form-data body of fields (a browser's `new FormData(form)`): every
/// part is a text field, a repeated name a list, as DRF reads it; within the body's limit
/// and the [`Parts`] bounds.
async fn read_multipart_fields(
    req: &HttpRequest,
    payload: Payload,
) -> Result<Map<String, Value>, ApiError> {
    let (limit, _) = body_limit(req, true).await?;
    let (body, watch) = guard(req, payload, Pace::Fields)?;
    let limits = body.limits;
    let mut parts = Parts::new(req, body, Some(limit));
    let read: Result<Map<String, Value>, ApiError> = async {
        let mut map = Map::new();
        while let Some(mut field) = parts.next().await? {
            let name = field.name().unwrap_or("").to_owned();
            let mut bytes = BytesMut::new();
            while let Some(chunk) = field.next().await {
                bytes.extend_from_slice(&chunk.map_err(|err| parts.fail(err))?);
            }
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                ApiError::with_detail(
                    ErrorCode::ParseError,
                    "Multipart form parse error - a part is not valid UTF-8.",
                )
            })?;
            push_field(&mut map, name, text);
        }
        Ok(map)
    }
    .await;
    read.map_err(|err| {
        stop_reading(req);
        watch.overdue(limits).unwrap_or(err)
    })
}

/// Parts of a multipart/form-data body at most.
pub const MAX_PARTS: usize = 100;
/// Bytes of one part's boundary and headers at most (a name, a file name, a type: a few
/// hundred bytes).
pub const MAX_PART_HEAD_BYTES: usize = 8 * 1024;

/// Which bound of a multipart body was broken.
#[derive(Debug, Clone, Copy)]
enum Broken {
    Body(usize),
    PartHead,
}

/// The bytes under a [`Parts`]: counted for the body's limit and, while a part's head is
/// read, for [`MAX_PART_HEAD_BYTES`] (actix-multipart buffers a head until its blank line,
/// however long).
struct Counted {
    body: Guarded,
    limit: Option<usize>,
    total: usize,
    /// Bytes taken since a part's head began, while one is being read.
    head: Rc<Cell<Option<usize>>>,
    broken: Rc<Cell<Option<Broken>>>,
}

impl Stream for Counted {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.broken.get().is_some() {
            return Poll::Ready(None);
        }
        let item = std::task::ready!(Pin::new(&mut this.body).poll_next(cx));
        if let Some(Ok(chunk)) = &item {
            this.total += chunk.len();
            let broken = match (this.limit, this.head.get()) {
                (Some(limit), _) if this.total > limit => Some(Broken::Body(limit)),
                // A chunk may hold a head's end and the part's first bytes: counted up to
                // the blank line that ends the head.
                (_, Some(taken)) => {
                    let end = chunk.windows(4).position(|w| w == b"\r\n\r\n");
                    let taken = taken + end.unwrap_or(chunk.len());
                    this.head
                        .set(if end.is_some() { None } else { Some(taken) });
                    (taken > MAX_PART_HEAD_BYTES).then_some(Broken::PartHead)
                }
                _ => None,
            };
            if let Some(broken) = broken {
                this.broken.set(Some(broken));
                this.body.abandon();
                return Poll::Ready(Some(Err(PayloadError::Overflow)));
            }
        }
        Poll::Ready(item)
    }
}

/// The parts of a multipart/form-data body, read within its bounds: at most [`MAX_PARTS`],
/// heads of at most [`MAX_PART_HEAD_BYTES`], and the whole at most `limit` bytes (uploads
/// have none: their file part has its kind's limit). A broken bound is a 413 naming it.
pub struct Parts {
    multipart: actix_multipart::Multipart,
    head: Rc<Cell<Option<usize>>>,
    broken: Rc<Cell<Option<Broken>>>,
    count: usize,
}

impl Parts {
    pub fn new(req: &HttpRequest, body: Guarded, limit: Option<usize>) -> Parts {
        let head = Rc::new(Cell::new(None));
        let broken = Rc::new(Cell::new(None));
        let counted = Counted {
            body,
            limit,
            total: 0,
            head: head.clone(),
            broken: broken.clone(),
        };
        Parts {
            multipart: actix_multipart::Multipart::new(req.headers(), counted),
            head,
            broken,
            count: 0,
        }
    }

    /// The next part, once its head is read; `None` after the last.
    pub async fn next(&mut self) -> Result<Option<actix_multipart::Field>, ApiError> {
        self.head.set(Some(0));
        let next = self.multipart.next().await;
        self.head.set(None);
        match next {
            None => Ok(None),
            Some(Err(err)) => Err(self.fail(err)),
            Some(Ok(field)) => {
                self.count += 1;
                if self.count > MAX_PARTS {
                    return Err(ApiError::with_detail(
                        ErrorCode::PayloadTooLarge,
                        format!("Too many parts: a multipart body may have at most {MAX_PARTS}."),
                    ));
                }
                Ok(Some(field))
            }
        }
    }

    /// The error to answer for a failure of the multipart stream: a broken bound, or a
    /// malformed body.
    pub fn fail(&self, err: actix_multipart::MultipartError) -> ApiError {
        match self.broken.get() {
            Some(Broken::Body(limit)) => too_large(limit, limit < MAX_BODY_BYTES),
            Some(Broken::PartHead) => ApiError::with_detail(
                ErrorCode::PayloadTooLarge,
                format!(
                    "A part's headers are too large: at most {MAX_PART_HEAD_BYTES} bytes each."
                ),
            ),
            None => malformed(err),
        }
    }
}

/// A multipart body that does not parse.
pub fn malformed(err: actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError;
    match err {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            "Send multipart/form-data with a boundary.",
        ),
        other => ApiError::with_detail(
            ErrorCode::ParseError,
            format!("Malformed multipart body: {other}."),
        ),
    }
}

/// A request body parsed into a JSON object.
pub struct Body(pub Input);

impl FromRequest for Body {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Body, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            if content_type.as_deref() == Some("multipart/form-data") {
                let map = read_multipart_fields(&req, payload).await?;
                return Ok(Body(Input::new(map)));
            }
            let bytes = read_fields(&req, payload).await?;
            parse_body(content_type.as_deref(), &bytes).map(|map| Body(Input::new(map)))
        })
    }
}

fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match content_type {
        Some("application/x-www-form-urlencoded") => parse_form(bytes),
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => parse_json(bytes),
        // Clients that send JSON without saying so are common enough to accept.
        None => parse_json(bytes),
        Some(other) => Err(ApiError::with_detail(
            ErrorCode::UnsupportedMediaType,
            format!("Unsupported media type \"{other}\" in request."),
        )),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(_) => "number",
                Value::Bool(_) => "bool",
                _ => "null",
            };
            let mut v = Validator::new();
            v.add(
                "non_field_errors",
                format!("Invalid data. Expected a dictionary, but got {kind}."),
            );
            Err(v.finish().unwrap_err())
        }
        Err(err) => Err(ApiError::with_detail(
            ErrorCode::ParseError,
            format!("JSON parse error - {err}"),
        )),
    }
}

fn parse_form(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut map = Map::new();
    for pair in bytes.split(|b| *b == b'&').filter(|pair| !pair.is_empty()) {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &b""[..]),
        };
        let (key, value) = (form_component(key)?, form_component(value)?);
        push_field(&mut map, key, value);
    }
    Ok(map)
}

/// Adds one field of form data (urlencoded or multipart) to the object [`Input`] reads.
pub(super) fn push_field(map: &mut Map<String, Value>, key: String, value: String) {
    match map.get_mut(&key) {
        // A repeated key is a list (`members=1&members=2`).
        Some(Value::Array(items)) => items.push(Value::String(value)),
        Some(first) => *first = Value::Array(vec![first.take(), Value::String(value)]),
        None => {
            map.insert(key, Value::String(value));
        }
    }
}

/// One decoded key or value of form data. Bytes that are not UTF-8 once decoded are a parse
/// error: replacing them with U+FFFD, as lenient decoders do, would store text the client
/// never sent.
fn form_component(raw: &[u8]) -> Result<String, ApiError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(decoded).map_err(|_| {
        ApiError::with_detail(
            ErrorCode::ParseError,
            "Form parse error - the data is not valid UTF-8.",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn form_bodies_become_objects_and_repeated_keys_lists() {
        let map = parse_body(Some("application/x-www-form-urlencoded"), b"user=5&m=1&m=2").unwrap();
        assert_eq!(Value::Object(map), json!({"user": "5", "m": ["1", "2"]}));
    }

    #[test]
    fn form_bodies_decode_plus_and_percent_escapes() {
        let map = parse_body(
            Some("application/x-www-form-urlencoded"),
            b"name=Ada+L%C3%B6w&flag&=x&&a%26b=1%3D2",
        )
        .unwrap();
        assert_eq!(
            Value::Object(map),
            json!({"name": "Ada Löw", "flag": "", "": "x", "a&b": "1=2"})
        );
    }

    #[test]
    fn invalid_utf8_in_any_body_is_a_parse_error_not_a_replacement_character() {
        let form = Some("application/x-www-form-urlencoded");
        for body in [&b"name=Ada%FF"[..], b"name=Ada\xff", b"na%C3me=x"] {
            let err = parse_body(form, body).unwrap_err();
            assert_eq!(err.error_code(), ErrorCode::ParseError, "{body:?}");
        }
        let err = parse_body(Some("application/json"), b"{\"name\": \"Ada\xff\"}").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::ParseError);
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused_like_drf_does() {
        let ApiError::Validation(errors) =
            parse_body(Some("application/json"), b"[1]").unwrap_err()
        else {
            panic!()
        };
        assert_eq!(
            errors["non_field_errors"],
            vec!["Invalid data. Expected a dictionary, but got list."]
        );
        let err = parse_body(Some("application/json"), b"{oops").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::ParseError);
        let err = parse_body(Some("text/plain"), b"hello").unwrap_err();
        assert_eq!(err.error_code(), ErrorCode::UnsupportedMediaType);
        assert!(parse_body(Some("text/plain"), b"").unwrap().is_empty());
    }
}
