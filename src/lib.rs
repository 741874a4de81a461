//! TestIT's server: the REST API and the WebSocket endpoint over the document store. It is
//! the only crate that knows HTTP, JSON wire shapes, JWT and the storage drivers; the live
//! parts are actors from the `actors` crate.
//!
//! # Layout
//!
//! Modules in dependency order (each uses only those above it):
//!
//! - [`error`]: the one error type and its table of codes; [`settings`]: `TESTIT_*`
//!   configuration; [`telemetry`]: structured logging; [`metrics`]: Prometheus series;
//!   [`mail`]: email delivery (SMTP, or an outbox folder) off the request path.
//! - [`store`]: the document store interface and its embedded (SQLite) and MongoDB backends.
//! - [`domain`]: types parsed once at the edge (`Email`, `Password`, `Name`), answer scoring,
//!   and the field reader [`domain::input::Input`].
//! - Areas of the product, plain rules over the store that know nothing of HTTP:
//!   [`organizations`] (organizations, groups), [`accounts`] (users, passwords, tokens),
//!   [`testing`] (tests, completions, grading, live attempts, export), [`catalog`] (seed
//!   000's teachers, courses, videos, collections, files, shelves and search).
//! - [`cluster`]: what several server processes on one MongoDB share (live events through
//!   the store's change stream, revoked log-ins); nothing on the embedded store.
//! - [`state`]: what every adapter can reach ([`state::AppState`]).
//! - [`api`]: the adapters: the endpoint table (routes and OpenAPI document from one list),
//!   thin REST handlers, the WebSocket session, extractors.
//! - [`startup`]: [`startup::Application::build`], shared by `main.rs` and the tests;
//!   [`admin`]: the binary's administration commands (`createsuperuser`).

pub mod accounts;
pub mod admin;
pub mod api;
pub mod catalog;
pub mod cluster;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod organizations;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod testing;
