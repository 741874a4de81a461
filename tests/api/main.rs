//! Black-box tests of the API: a real server on a free port, a fresh store each, real HTTP.

mod accounts_v1;
mod attempts;
mod auth;
mod authoring;
mod completions;
mod concurrency;
mod directory;
mod errors;
mod export;
mod grading;
mod groups;
mod helpers;
mod live;
mod live_bounds;
mod logging;
mod metrics;
mod organizations;
mod persistence;
mod schema;
mod shutdown;
mod store_contract;
mod text_fields;
mod throttle;
mod user_v1;
mod users;
mod webapp;
