//! The actix actors of TestIT and the messages they exchange.
//!
//! It owns the live parts of the product: the pool of graders that drives the [`sandbox`]
//! crate now; later a session actor per WebSocket connection, an attempt actor per test
//! attempt, a supervisor that finds or restarts attempts, and a hub that fans events out to
//! watching teachers. Actors never block (CPU work goes to the grader pool's threads) and
//! never panic (they answer errors). Persistence and event delivery go through ports,
//! traits declared here and implemented by the server, so this crate knows nothing of HTTP
//! or storage drivers.
//!
//! # Layout
//!
//! - [`grader`]: [`grader::GraderPool`] and its messages ([`grader::Grade`],
//!   [`grader::CheckTestingCode`], [`grader::Status`]).

pub mod grader;

pub use sandbox;
