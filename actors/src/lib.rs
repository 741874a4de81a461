//! The actix actors of TestIT and the messages they exchange.
//!
//! It owns the live parts of the product: the pool of graders that drives the [`sandbox`]
//! crate, an attempt actor per test attempt in progress, a registry that finds or restarts
//! them, and a hub that fans events out to watching teachers and students. (The session
//! actor of each WebSocket connection is the server's: it is made of HTTP.) Actors never block (CPU work goes to the grader pool's threads) and
//! never panic (they answer errors). Persistence and event delivery go through ports,
//! traits declared here and implemented by the server, so this crate knows nothing of HTTP
//! or storage drivers.
//!
//! # Layout
//!
//! - [`grader`]: [`grader::GraderPool`] and its messages ([`grader::Grade`],
//!   [`grader::CheckTestingCode`], [`grader::Status`]).
//! - [`hub`]: [`hub::Hub`], which fans events out to watchers by [`hub::Topic`] and batches
//!   progress ([`hub::Progress`]).
//! - [`attempt`]: [`attempt::AttemptActor`] per attempt in progress, the
//!   [`attempt::Registry`] that finds or restarts them, and the [`attempt::AttemptPort`]
//!   the server implements for their persistence.

pub mod attempt;
pub mod grader;
pub mod hub;

/// Runs `start` inside a new actix system on a thread of its own and answers what it returns
/// (actor addresses), so that callers on any runtime (actix-web workers, plain tokio tests)
/// can send to those actors.
pub fn on_own_system<T: Send + 'static>(
    name: &str,
    start: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<T> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let system = actix::System::new();
            system.block_on(async move {
                let _ = sender.send(start());
            });
            let _ = system.run();
        })?;
    receiver
        .recv()
        .map_err(|_| std::io::Error::other("the actor system did not start"))
}

pub use sandbox;
