//! Several server processes on one MongoDB as one system: what this process does so that
//! the others hear its events and revocations, and it hears theirs.
//!
//! - **Events**: the hub is started [`relayed`](actors::hub::Hub::relayed) through a
//!   [`StoreRelay`], which appends what is published to the store's shared feed (batched,
//!   in order); one change stream per process ([`crate::store::shared::Shared::follow_events`])
//!   brings every process's events back to the hub as [`Delivered`], so each watcher sees
//!   each event once, in the feed's order, whichever process it came from.
//! - **Revoked log-ins**: each process reads the revocations stored since its last look
//!   every [`REVOCATIONS_EVERY`] into its in-memory set, so a log-out on one server is
//!   refused on all within a second.
//!
//! On the embedded store (one process) none of this runs: the hub delivers in process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actors::hub::{Delivered, Event, Hub, Progress, Relay, Relayed, Topic};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::accounts::RevokedFamilies;
use crate::store::shared::{Feed, FeedItem};
use crate::store::{Store, StoreError};

/// How often revocations made by other processes are read.
pub const REVOCATIONS_EVERY: Duration = Duration::from_millis(250);
/// Events appended to the store in one write, at most.
const BATCH: usize = 512;
/// How long an append that fails is retried before its events are dropped (logged).
const APPEND_TRIES: u32 = 40;
const APPEND_PAUSE: Duration = Duration::from_millis(250);

/// An event as the feed stores it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Stored {
    Publish {
        topics: Vec<StoredTopic>,
        event: String,
    },
    Progress {
        test: i64,
        attempt: i64,
        user: i64,
        answered: usize,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StoredTopic {
    Test(i64),
    User(i64),
}

fn encode(item: Relayed) -> String {
    let stored = match item {
        Relayed::Publish { topics, event } => Stored::Publish {
            topics: topics
                .into_iter()
                .map(|t| match t {
                    Topic::Test(id) => StoredTopic::Test(id),
                    Topic::User(id) => StoredTopic::User(id),
                })
                .collect(),
            event: event.0.to_string(),
        },
        Relayed::Progress(p) => Stored::Progress {
            test: p.test,
            attempt: p.attempt,
            user: p.user,
            answered: p.answered,
        },
    };
    // Plain data: serializing cannot fail.
    serde_json::to_string(&stored).unwrap_or_default()
}

fn decode(text: &str) -> Option<Relayed> {
    Some(match serde_json::from_str::<Stored>(text).ok()? {
        Stored::Publish { topics, event } => Relayed::Publish {
            topics: topics
                .into_iter()
                .map(|t| match t {
                    StoredTopic::Test(id) => Topic::Test(id),
                    StoredTopic::User(id) => Topic::User(id),
                })
                .collect(),
            event: Event(event.into()),
        },
        Stored::Progress {
            test,
            attempt,
            user,
            answered,
        } => Relayed::Progress(Progress {
            test,
            attempt,
            user,
            answered,
        }),
    })
}

/// The hub's relay: queues for the writer task (the hub's handlers never wait on the store).
pub struct StoreRelay(mpsc::UnboundedSender<Relayed>);

impl Relay for StoreRelay {
    fn relay(&self, item: Relayed) {
        if self.0.send(item).is_err() {
            tracing::error!("the events writer is gone: an event is lost");
        }
    }
}

/// The shared events of this process, when its store has a feed.
pub struct Events {
    /// Whether the change stream is open (`/health`).
    pub live: Arc<AtomicBool>,
}

impl Events {
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Relaxed)
    }
}

/// Starts the hub: relayed through the store's feed when it has one that streams (several
/// processes may share it), otherwise delivering in process.
pub async fn start_hub(store: &Store) -> std::io::Result<(Addr<Hub>, Option<Events>)> {
    let feed = match store.shared() {
        Some(shared) => match shared.follow_events().await {
            Ok(feed) => Some(feed),
            Err(err) => {
                // A standalone mongod: one process works, several would not hear each other.
                tracing::warn!(%err, "the store cannot stream changes (not a replica set): \
                    live events stay in this process; run one server only");
                None
            }
        },
        None => None,
    };
    let Some(Feed { items, live }) = feed else {
        let hub = actors::on_own_system("hub", || actix::Supervisor::start(|_| Hub::default()))?;
        return Ok((hub, None));
    };
    let (sender, queued) = mpsc::unbounded_channel();
    let relay: Arc<dyn Relay> = Arc::new(StoreRelay(sender));
    let hub = actors::on_own_system("hub", move || {
        actix::Supervisor::start(move |_| Hub::relayed(relay))
    })?;
    tokio::spawn(write(store.clone(), queued));
    tokio::spawn(deliver(items, hub.clone()));
    Ok((hub, Some(Events { live })))
}

/// Appends what the hub relays, in order, as many queued events per write as there are.
async fn write(store: Store, mut queued: mpsc::UnboundedReceiver<Relayed>) {
    while let Some(first) = queued.recv().await {
        let mut batch = vec![encode(first)];
        while batch.len() < BATCH {
            match queued.try_recv() {
                Ok(item) => batch.push(encode(item)),
                Err(_) => break,
            }
        }
        let mut tries = 0;
        loop {
            let appended = match store.shared() {
                Some(shared) => shared.append_events(batch.clone()).await,
                None => Err(StoreError::Other("no shared feed".to_owned())),
            };
            match appended {
                Ok(()) => break,
                Err(err) if tries < APPEND_TRIES => {
                    tries += 1;
                    tracing::warn!(%err, "appending live events failed; retrying");
                    tokio::time::sleep(APPEND_PAUSE).await;
                }
                Err(err) => {
                    tracing::error!(%err, lost = batch.len(), "live events could not be stored");
                    break;
                }
            }
        }
    }
}

/// Hands what the change stream brings to the hub.
async fn deliver(mut items: mpsc::Receiver<FeedItem>, hub: Addr<Hub>) {
    while let Some(item) = items.recv().await {
        match item {
            FeedItem::Event(text) => match decode(&text) {
                Some(item) => hub.do_send(Delivered(item)),
                None => tracing::warn!("an unreadable live event in the feed"),
            },
            FeedItem::Gap => {
                tracing::warn!(
                    "the events change stream restarted without resuming: \
                    watchers may have missed events until they watch again"
                )
            }
        }
    }
}

/// Reads other processes' revocations into the set `families` finds in `state` every
/// [`REVOCATIONS_EVERY`], while `state` is alive.
pub fn follow_revocations<S: Send + Sync + 'static>(
    store: Store,
    state: std::sync::Weak<S>,
    families: fn(&S) -> &RevokedFamilies,
) {
    tokio::spawn(async move {
        let mut seen = 0;
        let mut every = tokio::time::interval(REVOCATIONS_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(state) = state.upgrade() else {
                break;
            };
            if let Err(err) = families(&state).catch_up(&store, &mut seen).await {
                tracing::warn!(%err, "reading revoked log-ins failed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_event_reads_back_as_published() {
        let item = Relayed::Publish {
            topics: vec![Topic::Test(3), Topic::User(9)],
            event: Event(r#"{"type":"x","n":"a\"b"}"#.into()),
        };
        let Some(Relayed::Publish { topics, event }) = decode(&encode(item)) else {
            panic!("not read back");
        };
        assert_eq!(topics, [Topic::Test(3), Topic::User(9)]);
        assert_eq!(&*event.0, r#"{"type":"x","n":"a\"b"}"#);
        let progress = Relayed::Progress(Progress {
            test: 1,
            attempt: 2,
            user: 3,
            answered: 4,
        });
        let Some(Relayed::Progress(p)) = decode(&encode(progress)) else {
            panic!("not read back");
        };
        assert_eq!((p.test, p.attempt, p.user, p.answered), (1, 2, 3, 4));
    }
}
