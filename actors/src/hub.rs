//! The hub: fans events out to whoever watches a topic (a test's teachers, a student's own
//! sessions). Each event is serialized once and shared by every watcher.
//!
//! Progress (a student saved an answer) is the one event that comes by the thousand: a
//! class of 1,000 saving an answer a second would be 1,000 messages a second to each
//! watching teacher. The hub batches it instead: at most one `progress` event per test every
//! [`PROGRESS_INTERVAL`], with each attempt's latest count. Before any other event of a
//! test, its pending progress goes out first, so watchers see things in the order they
//! happened.
//!
//! With several server processes on one store, an event must reach the watchers of every
//! process, each exactly once. A hub made [`Hub::relayed`] then hands what it is asked to
//! publish to a [`Relay`] (the server writes it to the store's shared feed) instead of
//! delivering it, and delivers only what comes back from the feed as [`Delivered`], in the
//! feed's order: its own events included, so every process sees one order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

/// How long progress waits to be batched, at most.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// What can be watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Everything happening on a test: for the teachers managing it.
    Test(i64),
    /// A user's own attempts and completions: for their sessions.
    User(i64),
}

/// One event: a JSON text, sent as is to every watcher.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct Event(pub Arc<str>);

/// Starts sending a topic's events to `watcher`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch {
    pub topic: Topic,
    pub watcher: Recipient<Event>,
}

/// Sends an event to the watchers of the topics.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish {
    pub topics: Vec<Topic>,
    pub event: Event,
}

/// A student saved an answer: how many questions of an attempt are answered (never what).
/// Sent to the test's watchers batched, as `{"type": "progress", "test", "attempts":
/// [{"attempt", "user", "answered"}, …]}`.
#[derive(Message, Debug, Clone, Copy)]
#[rtype(result = "()")]
pub struct Progress {
    pub test: i64,
    pub attempt: i64,
    pub user: i64,
    pub answered: usize,
}

/// What a relayed hub hands on instead of delivering it.
#[derive(Debug, Clone)]
pub enum Relayed {
    Publish { topics: Vec<Topic>, event: Event },
    Progress(Progress),
}

/// Carries events to every process's hub (the server's shared feed). Called from the hub's
/// handlers, so it must not block: it queues.
pub trait Relay: Send + Sync + 'static {
    fn relay(&self, item: Relayed);
}

/// An event back from the shared feed, delivered to this process's watchers.
#[derive(Message, Debug, Clone)]
#[rtype(result = "()")]
pub struct Delivered(pub Relayed);

/// The hub actor. Watchers that are gone are forgotten on the next event of their topic.
#[derive(Default)]
pub struct Hub {
    watchers: HashMap<Topic, Vec<Recipient<Event>>>,
    /// Per test, per attempt: the latest progress not yet sent.
    progress: HashMap<i64, BTreeMap<i64, Progress>>,
    /// Set when several processes share the events: see the module's doc.
    relay: Option<std::sync::Arc<dyn Relay>>,
}

impl Hub {
    /// A hub whose publications go through `relay` and come back as [`Delivered`].
    pub fn relayed(relay: std::sync::Arc<dyn Relay>) -> Hub {
        Hub {
            relay: Some(relay),
            ..Hub::default()
        }
    }

    fn deliver(&mut self, item: Relayed) {
        match item {
            Relayed::Publish { topics, event } => {
                for topic in topics {
                    if let Topic::Test(test) = topic {
                        self.flush(test);
                    }
                    self.send(topic, &event);
                }
            }
            Relayed::Progress(progress) => {
                // Nobody watching: nothing to keep.
                if self.watchers.contains_key(&Topic::Test(progress.test)) {
                    self.progress
                        .entry(progress.test)
                        .or_default()
                        .insert(progress.attempt, progress);
                }
            }
        }
    }

    /// Delivers here, or hands to the relay when there is one.
    fn publish(&mut self, item: Relayed) {
        match &self.relay {
            Some(relay) => relay.relay(item),
            None => self.deliver(item),
        }
    }

    fn send(&mut self, topic: Topic, event: &Event) {
        if let Some(watchers) = self.watchers.get_mut(&topic) {
            watchers.retain(|w| w.connected());
            for watcher in watchers.iter() {
                // Never waits: a watcher's own queue decides what to do when full.
                watcher.do_send(event.clone());
            }
            if watchers.is_empty() {
                self.watchers.remove(&topic);
            }
        }
    }

    /// Sends a test's pending progress as one event.
    fn flush(&mut self, test: i64) {
        let Some(pending) = self.progress.remove(&test) else {
            return;
        };
        let attempts: Vec<serde_json::Value> = pending
            .values()
            .map(|p| serde_json::json!({ "attempt": p.attempt, "user": p.user, "answered": p.answered }))
            .collect();
        let event = serde_json::json!({ "type": "progress", "test": test, "attempts": attempts });
        self.send(Topic::Test(test), &Event(Arc::from(event.to_string())));
    }
}

impl Actor for Hub {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(PROGRESS_INTERVAL, |hub, _| {
            let tests: Vec<i64> = hub.progress.keys().copied().collect();
            for test in tests {
                hub.flush(test);
            }
        });
    }
}

impl actix::Supervised for Hub {}

impl Handler<Watch> for Hub {
    type Result = ();

    fn handle(&mut self, Watch { topic, watcher }: Watch, _: &mut Context<Self>) {
        let watchers = self.watchers.entry(topic).or_default();
        if !watchers.contains(&watcher) {
            watchers.push(watcher);
        }
    }
}

impl Handler<Publish> for Hub {
    type Result = ();

    fn handle(&mut self, Publish { topics, event }: Publish, _: &mut Context<Self>) {
        self.publish(Relayed::Publish { topics, event });
    }
}

impl Handler<Progress> for Hub {
    type Result = ();

    fn handle(&mut self, progress: Progress, _: &mut Context<Self>) {
        self.publish(Relayed::Progress(progress));
    }
}

impl Handler<Delivered> for Hub {
    type Result = ();

    fn handle(&mut self, Delivered(item): Delivered, _: &mut Context<Self>) {
        self.deliver(item);
    }
}
