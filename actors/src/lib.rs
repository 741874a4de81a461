//! The actix actors of TestIT and the messages they exchange.
//!
//! It will own the live parts of the product: a session actor per WebSocket connection, an
//! attempt actor per test attempt in progress, a supervisor that finds or restarts attempts,
//! a hub that fans events out to watching teachers, and the pool of graders that drives the
//! [`sandbox`] crate. Actors never block (CPU work goes to the grader pool) and never panic
//! (they return errors). Persistence and event delivery go through ports, traits declared
//! here and implemented by the server, so this crate knows nothing of HTTP or storage drivers.
//!
//! # Layout
//!
//! Empty for now: the live test-taking and grading issues fill it in.

// The dependency on `sandbox` is the agreed direction (server -> actors -> sandbox);
// re-exporting it keeps that edge visible until the grader pool uses it.
pub use sandbox;
