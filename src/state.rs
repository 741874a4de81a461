//! [`AppState`]: what every adapter (REST handler, WebSocket session) can reach. It imports
//! no adapter, so the handlers can depend on it without a cycle through `startup`.

use actix::Addr;
use actors::attempt::Registry;

use crate::accounts::{JwtKeys, RevokedFamilies};
use crate::catalog::files::FileStore;
use crate::mail::Mailer;
use crate::settings::{CodeRules, MediaLimits};
use crate::store::Store;
use crate::testing::grading::Grading;

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    pub jwt: JwtKeys,
    /// Revoked log-ins, checked by every authenticated request.
    pub revoked_families: RevokedFamilies,
    pub rotate_refresh_tokens: bool,
    /// Lifetime of a new API key (`Token <key>`).
    pub api_key_ttl: std::time::Duration,
    /// Rate limits on sign-in and sign-up.
    pub throttle: crate::accounts::throttle::Throttle,
    /// The header a trusted proxy puts the client's address in, if any.
    pub client_address_header: Option<String>,
    /// Sends email (one-time codes) in the background.
    pub mailer: Mailer,
    /// How long one-time codes live and how often one may be sent.
    pub codes: CodeRules,
    /// The server's address for links in email: `TESTIT_PUBLIC_URL`, or the bound
    /// address; set once the listener is bound (see [`crate::api::links`]).
    pub public_url: std::sync::OnceLock<String>,
    /// Whether `public_url` was configured (then file URLs use it too).
    pub public_url_configured: bool,
    /// Seed 000's third parties (Facebook, Stripe) and password-reset lifetime.
    pub platform: crate::accounts::platform::Platform,
    /// The grader pool, the event hub, and how long a submission waits for its verdicts.
    pub grading: Grading,
    /// The attempt actors' registry (live test-taking).
    pub attempts: Addr<Registry>,
    /// Turns true when the server begins to stop: live sessions close with 1001 (going away),
    /// so their clients reconnect, instead of being cut when the drain time runs out.
    pub going_away: tokio::sync::watch::Receiver<bool>,
    /// The bytes of catalog files (on disk or in GridFS, beside the store).
    pub files: FileStore,
    /// The largest catalog file accepted per kind.
    pub media_limits: MediaLimits,
    /// Live events shared with other processes through the store (MongoDB replica set);
    /// `None` when they stay in this process.
    pub events: Option<crate::cluster::Events>,
}
