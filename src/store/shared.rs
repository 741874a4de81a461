//! What server processes on one MongoDB share besides documents: a feed of events that every
//! process follows (one change stream each), and counters that expire.
//!
//! The embedded store is one process by design (a second one is refused at start), so it
//! offers none of this: callers keep their in-process paths when [`Store::shared`] is `None`.
//!
//! [`Store::shared`]: super::Store::shared

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::StoreResult;

/// How long the feed keeps an event (a TTL index removes older ones). A process that was
/// away longer cannot resume and starts afresh ([`FeedItem::Gap`]).
pub const EVENTS_KEPT: Duration = Duration::from_secs(3600);

/// One item of the feed, in the order the store committed them.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// An event as appended: a JSON text.
    Event(String),
    /// The feed started again without resuming where it stopped: events may have been
    /// missed, and whoever keeps state from them should read it afresh.
    Gap,
}

/// A process's view of the feed: what comes, and whether the stream is open now.
pub struct Feed {
    pub items: mpsc::Receiver<FeedItem>,
    /// Whether the change stream is open (for `/health`); false while it reconnects.
    pub live: Arc<AtomicBool>,
}

/// The shared primitives a backend offers when several processes may use it.
#[async_trait]
pub trait Shared: Send + Sync {
    /// Appends events (JSON texts) to the feed, in this order, in one write.
    async fn append_events(&self, events: Vec<String>) -> StoreResult<()>;
    /// Opens this process's change stream on the feed: from now on, every event appended
    /// by any process arrives once, in commit order; a broken stream resumes after its last
    /// event. Fails when the store cannot stream changes (a standalone `mongod`).
    async fn follow_events(&self) -> StoreResult<Feed>;
    /// Adds `by` to the counter `key` (created at 0, removed after `expires_at`, Unix
    /// seconds) and answers its value; `by == 0` only reads it.
    async fn count_until(&self, key: &str, by: i64, expires_at: i64) -> StoreResult<i64>;
    /// Takes the claim `key` for `owner` until `lease` from now, unless a lease on it is
    /// still running (its holder's included: a claim is not taken twice); `Ok(true)` when
    /// taken.
    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> StoreResult<bool>;
    /// Extends `owner`'s claim to `lease` from now; `Ok(false)` when it is no longer theirs.
    async fn renew(&self, key: &str, owner: &str, lease: Duration) -> StoreResult<bool>;
    /// Gives a claim back (when `owner` still holds it).
    async fn release(&self, key: &str, owner: &str) -> StoreResult<()>;
    /// Gives back every claim `owner` holds (a server stopping).
    async fn release_all(&self, owner: &str) -> StoreResult<()>;
}
