//! Accounts: users, their passwords and log-in sessions. Plain rules over the store; the
//! REST adapter (and its `AuthUser` extractor) lives in `api`.
//!
//! # Layout
//!
//! - [`identity`]: the one identity core behind the four account doors: `register`,
//!   `sign_in`, `change(UserChange)` and `delete`, each rule of who an account is and who
//!   may move it written once; [`identity::fields`] reads the fields several doors share.
//!   The doors below read their documented input, call the core, and answer their shape.
//! - [`users`]: seed 003's door: registration, the caller's profile, who sees whom.
//! - [`directory`]: seed 001's door, accounts with usernames: sign-up, sign-in with API
//!   keys, changing and deleting accounts, granting permissions.
//! - [`tokens`]: obtaining, refreshing and revoking JSON web token pairs.
//! - [`keys`]: opaque API keys (`Token <key>`), stored as SHA-256 digests.
//! - [`jwt`]: signing and verifying tokens; [`revoked`]: the in-memory set of revoked log-ins.
//! - [`password`]: argon2id hashing, off the async workers.
//! - [`throttle`]: rate limits on sign-in, sign-up and one-time codes.
//! - [`permissions`]: the fixed permission catalog and who holds what.
//! - [`views`]: the typed wire shape of a user.
//! - [`profiles`]: seed 002's door: sign-up with a profile, email verification by emailed
//!   one-time codes ([`codes`]), and profiles read and changed by id; their wire shapes are
//!   in [`profile_views`].
//! - [`platform`]: seed 000's door, course-platform accounts: registration, sign-in with an email
//!   or by Facebook ([`facebook`]), who sees and changes whom; Stripe customers made in the
//!   background ([`stripe`]); password resets by emailed link ([`resets`]). Their wire
//!   shapes nest the catalog's shelves, so they live with the adapter (`api::user_v1`).

pub mod codes;
pub mod directory;
pub mod facebook;
pub mod identity;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod permissions;
pub mod platform;
pub mod profile_views;
pub mod profiles;
pub mod resets;
pub mod revoked;
pub mod stripe;
pub mod throttle;
pub mod tokens;
pub mod users;
pub mod views;

pub use jwt::{Claims, JwtKeys, TokenType};
pub use revoked::RevokedFamilies;
