//! TestIT's server: the REST API (and, later, the WebSocket endpoint) over the document
//! store, with JWT authentication. It is the only crate that knows HTTP, JSON wire shapes,
//! JWT and the storage drivers; the live parts are actors from the `actors` crate.
//!
//! # Layout
//!
//! - [`startup`]: [`startup::Application::build`], shared by `main.rs` and the tests.
//! - [`settings`]: configuration from `TESTIT_*` environment variables.
//! - [`api`]: the endpoint table (routes and OpenAPI document from one list), handlers,
//!   body and pagination extractors, wire shapes.
//! - [`auth`]: argon2id passwords, JSON web tokens, the [`auth::AuthUser`] extractor.
//! - [`domain`]: types parsed once at the edge (`Email`, `Password`, `Name`).
//! - [`store`]: the document store interface and its embedded (SQLite) and MongoDB backends.
//! - [`grading`]: code answers from stored completions to the grader pool and back.
//! - [`live`]: the store behind the attempt actors (live test-taking over WebSocket).
//! - [`error`]: the one API error type and its table of codes.
//! - [`telemetry`]: structured logging.

// The OpenAPI components are one large `json!` literal.
#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod domain;
pub mod error;
pub mod grading;
pub mod live;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
