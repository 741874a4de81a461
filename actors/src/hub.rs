//! The hub: fans events out to whoever watches a topic (a test's teachers, a student's own
//! sessions). Each event is serialized once and shared by every watcher.

use std::collections::HashMap;
use std::sync::Arc;

use actix::prelude::*;

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

/// The hub actor. Watchers that are gone are forgotten on the next event of their topic.
#[derive(Default)]
pub struct Hub {
    watchers: HashMap<Topic, Vec<Recipient<Event>>>,
}

impl Actor for Hub {
    type Context = Context<Self>;
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
        for topic in topics {
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
    }
}
