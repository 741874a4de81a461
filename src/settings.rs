//! Configuration from environment variables (see the README's configuration table).

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (the tests use it).
    pub bind: String,
    /// `mongodb://…` selects MongoDB; anything else is the embedded store's file.
    pub database_url: String,
    /// Where the server keeps its own files (embedded store, generated JWT secret).
    pub data_dir: PathBuf,
    /// HS256 signing secret; `None` means: generated once and kept in the data dir.
    pub jwt_secret: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Lifetime of an opaque API key (`Token <key>`, seeds 000 and 001).
    pub api_key_ttl: Duration,
    /// Rate limits on sign-in and sign-up.
    pub throttle: ThrottleLimits,
    /// A header a trusted reverse proxy sets to the client's address (`X-Forwarded-For`:
    /// its last entry; `X-Real-IP`); unset, the peer's address is the client's.
    pub client_address_header: Option<String>,
    /// Refresh answers a new refresh token and a reused old one revokes its family.
    pub rotate_refresh_tokens: bool,
    /// Where the compiled Python runtime is kept (built there on first use).
    pub runtime_dir: PathBuf,
    /// The interpreter that installs componentize-py into a private venv on first use.
    pub python: String,
    /// Threads grading code answers.
    pub grader_workers: usize,
    /// How long `POST /api/completions/` waits for code answers to be graded.
    pub grading_wait: Duration,
    /// How long after a timed attempt's deadline a REST submission of it is still
    /// accepted (`TESTIT_TIME_LIMIT_GRACE`): the network and a slow client's last click.
    pub time_limit_grace: Duration,
    /// How long a server's claim on grading a completion lasts unless renewed
    /// (`TESTIT_CLAIM_LEASE`, seconds): with several servers, how soon another one finishes
    /// the grading of a server that died. Renewed every third of it while grading.
    pub claim_lease: Duration,
    /// Origins whose pages may call the API (`TESTIT_CORS_ORIGINS`); `None`: no CORS.
    pub cors_origins: Option<CorsOrigins>,
    /// Where `GET /metrics` (Prometheus) listens; `None`: nowhere.
    pub metrics_bind: Option<String>,
    /// What a WebSocket client may cost before it is disconnected.
    pub live: LiveLimits,
    /// `smtp://…` or `smtps://…` (lettre's URL syntax) of the server that delivers email;
    /// `None`: each message is written to `<data dir>/outbox/` instead.
    pub smtp_url: Option<String>,
    /// The sender of the server's email, `Name <address>` or a bare address.
    pub mail_from: String,
    /// How long an emailed one-time code lives and how often one may be sent.
    pub codes: CodeRules,
    /// The server's address as clients reach it (`https://school.example`), for links in
    /// email and file URLs; `None`: links are built from each request's own address, and
    /// emailed links (which must not trust a request's `Host`) from the bind address.
    pub public_url: Option<String>,
    /// Seed 000's course platform: password-reset links, Facebook log-in, Stripe customers.
    pub platform: PlatformSettings,
    /// The largest catalog file accepted per kind (`TESTIT_MAX_IMAGE_BYTES`,
    /// `TESTIT_MAX_VIDEO_BYTES`).
    pub media: MediaLimits,
    /// How fast request bodies must arrive, and how many one address may send at once.
    pub bodies: BodyLimits,
}

/// Seed 000's settings. Facebook log-in works once both its app id and secret are set; Stripe
/// customers are created once its secret key is set.
#[derive(Clone, PartialEq, Eq)]
pub struct PlatformSettings {
    /// How long an emailed password-reset link works.
    pub password_reset_ttl: Duration,
    pub facebook_app_id: Option<String>,
    pub facebook_app_secret: Option<String>,
    /// The Graph API's base URL (a stub's in tests).
    pub facebook_graph_url: String,
    pub stripe_secret_key: Option<String>,
    /// Stripe's API base URL (a stub's in tests).
    pub stripe_api_url: String,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            password_reset_ttl: Duration::from_secs(60 * 60),
            facebook_app_id: None,
            facebook_app_secret: None,
            facebook_graph_url: "https://graph.facebook.com".to_owned(),
            stripe_secret_key: None,
            stripe_api_url: "https://api.stripe.com".to_owned(),
        }
    }
}

// By hand, so that the secrets never reach a log that prints the settings.
impl std::fmt::Debug for PlatformSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |secret: &Option<String>| if secret.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("PlatformSettings")
            .field("password_reset_ttl", &self.password_reset_ttl)
            .field("facebook_app_id", &self.facebook_app_id)
            .field("facebook_app_secret", &set(&self.facebook_app_secret))
            .field("facebook_graph_url", &self.facebook_graph_url)
            .field("stripe_secret_key", &set(&self.stripe_secret_key))
            .field("stripe_api_url", &self.stripe_api_url)
            .finish()
    }
}

/// The largest upload accepted for each kind of catalog file, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub image_bytes: u64,
    pub video_bytes: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        MediaLimits {
            image_bytes: 10 * 1024 * 1024,
            video_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// How request bodies must arrive (README, Hardening): a client that opens a body and then
/// stalls or trickles must not hold a connection, nor memory, for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// A JSON, form or multipart body without a file must arrive whole within this time
    /// (`TESTIT_BODY_TIMEOUT`).
    pub timeout: Duration,
    /// Such a body may pause this long at most (`TESTIT_BODY_IDLE_TIMEOUT`).
    pub idle_timeout: Duration,
    /// An upload (a catalog file, a photo) may pause this long at most
    /// (`TESTIT_UPLOAD_IDLE_TIMEOUT`); it is also the upload's grace before its rate counts.
    pub upload_idle_timeout: Duration,
    /// Bytes per second an upload must average once its grace is over
    /// (`TESTIT_UPLOAD_MIN_RATE`).
    pub upload_min_rate: u64,
    /// Bodies one client address may be sending at once (`TESTIT_BODIES_PER_ADDRESS`).
    pub per_address: u32,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            // 1 MiB (the largest JSON body) in 10 s is 0.8 Mbit/s; real forms are a few KB.
            timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(5),
            // A phone on a weak link stalls for seconds, not half a minute.
            upload_idle_timeout: Duration::from_secs(30),
            // 128 kbit/s: below a weak 3G or EDGE uplink, far above a trickle.
            upload_min_rate: 16 * 1024,
            // A school behind one NAT address submits at once; its bodies arrive in
            // milliseconds, so even a large class rarely has many in flight together.
            per_address: 64,
        }
    }
}

impl BodyLimits {
    /// The longest an accepted upload of `max_bytes` can take under these rules: anything
    /// an upload left behind that is older than this belongs to no upload in flight.
    pub fn longest_upload(&self, max_bytes: u64) -> Duration {
        self.upload_idle_timeout
            + Duration::from_secs(max_bytes.div_ceil(self.upload_min_rate.max(1)))
    }
}

/// The lifetimes of emailed one-time codes (`accounts::codes`). Settings, so that tests can
/// shorten them instead of waiting minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRules {
    /// How long a code can be used after it is sent.
    pub lifetime: Duration,
    /// The least time between two codes sent to one address.
    pub resend_interval: Duration,
}

impl Default for CodeRules {
    fn default() -> Self {
        CodeRules {
            lifetime: Duration::from_secs(10 * 60),
            resend_interval: Duration::from_secs(60),
        }
    }
}

/// The sender when `TESTIT_MAIL_FROM` is unset: `.localhost` is reserved, so it can never be
/// somebody else's domain.
pub const DEFAULT_MAIL_FROM: &str = "TestIT <no-reply@testit.localhost>";

/// What a WebSocket client may cost before it is disconnected (`docs/websocket.md`,
/// "Slow clients"). A client that stops reading must not hold the server's memory, nor its
/// connection, for long: these bound both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// Bytes owed to one client (queued for it and not yet taken by its socket) past which
    /// it is disconnected as too slow.
    pub outstanding_bytes: usize,
    /// How long bytes owed to a client may wait without any of them draining to its socket
    /// before it is disconnected.
    pub drain_timeout: Duration,
}

impl Default for LiveLimits {
    fn default() -> Self {
        LiveLimits {
            // A teacher watching 1,000 students gets bursts of a thousand events (everyone
            // starting, everyone's graded completion, about 2 KB each); a client cannot cost
            // more than this, and the memory is only taken as the queue fills.
            outstanding_bytes: 8 * 1024 * 1024,
            // A client that reads at all, however slowly, keeps draining; one that reads
            // nothing for this long is gone or hostile (a real one reconnects and resumes).
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Rate limits on sign-in and sign-up (`accounts::throttle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Failed sign-ins one account may take within `failure_window` (then one per
    /// `failure_window / failures_per_account`).
    pub failures_per_account: u32,
    /// Failed sign-ins one client address may make within `failure_window`.
    pub failures_per_address: u32,
    pub failure_window: Duration,
    /// Sign-in attempts (any outcome) one client address may make per minute.
    pub attempts_per_address_per_minute: u32,
    /// Accounts one client address may create per hour.
    pub signups_per_address_per_hour: u32,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            failures_per_account: 10,
            failures_per_address: 100,
            failure_window: Duration::from_secs(10 * 60),
            attempts_per_address_per_minute: 300,
            signups_per_address_per_hour: 200,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct SettingsError {
    name: &'static str,
    problem: String,
}

impl Settings {
    /// Defaults for a data directory: embedded store inside it, generated secret.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Settings {
        let data_dir = data_dir.into();
        Settings {
            bind: "127.0.0.1:8000".to_owned(),
            database_url: data_dir.join("testit.sqlite3").display().to_string(),
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(5 * 60),
            refresh_token_ttl: Duration::from_secs(24 * 60 * 60),
            api_key_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            throttle: ThrottleLimits::default(),
            client_address_header: None,
            rotate_refresh_tokens: false,
            runtime_dir: data_dir.join("runtimes"),
            python: "python3".to_owned(),
            grader_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            grading_wait: Duration::from_secs(5),
            time_limit_grace: Duration::from_secs(30),
            claim_lease: Duration::from_secs(30),
            cors_origins: None,
            metrics_bind: None,
            live: LiveLimits::default(),
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            codes: CodeRules::default(),
            public_url: None,
            platform: PlatformSettings::default(),
            media: MediaLimits::default(),
            bodies: BodyLimits::default(),
            data_dir,
        }
    }

    /// Reads the `TESTIT_*` variables over the defaults.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let data_dir = get("TESTIT_DATA_DIR").unwrap_or_else(|| "./data".to_owned());
        let mut settings = Settings::with_data_dir(data_dir);
        if let Some(bind) = get("TESTIT_BIND") {
            settings.bind = bind;
        }
        if let Some(url) = get("TESTIT_DATABASE_URL") {
            settings.database_url = url;
        }
        settings.jwt_secret = get("TESTIT_JWT_SECRET");
        settings.metrics_bind = get("TESTIT_METRICS_BIND");
        if let Some(secs) = get("TESTIT_ACCESS_TOKEN_TTL") {
            settings.access_token_ttl = seconds("TESTIT_ACCESS_TOKEN_TTL", &secs)?;
        }
        if let Some(secs) = get("TESTIT_REFRESH_TOKEN_TTL") {
            settings.refresh_token_ttl = seconds("TESTIT_REFRESH_TOKEN_TTL", &secs)?;
        }
        if let Some(secs) = get("TESTIT_API_KEY_TTL") {
            settings.api_key_ttl = seconds("TESTIT_API_KEY_TTL", &secs)?;
        }
        for (name, field) in [
            (
                "TESTIT_SIGNIN_FAILURES_PER_ACCOUNT",
                &mut settings.throttle.failures_per_account,
            ),
            (
                "TESTIT_SIGNIN_FAILURES_PER_ADDRESS",
                &mut settings.throttle.failures_per_address,
            ),
            (
                "TESTIT_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE",
                &mut settings.throttle.attempts_per_address_per_minute,
            ),
            (
                "TESTIT_SIGNUPS_PER_ADDRESS_PER_HOUR",
                &mut settings.throttle.signups_per_address_per_hour,
            ),
        ] {
            if let Some(value) = get(name) {
                *field = match value.parse::<u32>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(SettingsError {
                            name,
                            problem: format!("expected a positive number, got {value:?}"),
                        })
                    }
                };
            }
        }
        if let Some(secs) = get("TESTIT_SIGNIN_FAILURE_WINDOW") {
            settings.throttle.failure_window = seconds("TESTIT_SIGNIN_FAILURE_WINDOW", &secs)?;
        }
        settings.client_address_header = get("TESTIT_CLIENT_ADDRESS_HEADER");
        if let Some(dir) = get("TESTIT_RUNTIME_DIR") {
            settings.runtime_dir = dir.into();
        }
        if let Some(python) = get("TESTIT_PYTHON") {
            settings.python = python;
        }
        if let Some(workers) = get("TESTIT_GRADER_WORKERS") {
            settings.grader_workers = match workers.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_GRADER_WORKERS",
                        problem: format!("expected a positive number, got {workers:?}"),
                    })
                }
            };
        }
        if let Some(secs) = get("TESTIT_CLAIM_LEASE") {
            settings.claim_lease = seconds("TESTIT_CLAIM_LEASE", &secs)?;
        }
        if let Some(ms) = get("TESTIT_GRADING_WAIT_MS") {
            settings.grading_wait = match ms.parse::<u64>() {
                Ok(ms) => Duration::from_millis(ms),
                Err(_) => {
                    return Err(SettingsError {
                        name: "TESTIT_GRADING_WAIT_MS",
                        problem: format!("expected milliseconds, got {ms:?}"),
                    })
                }
            };
        }
        if let Some(secs) = get("TESTIT_TIME_LIMIT_GRACE") {
            settings.time_limit_grace = match secs.parse::<u64>() {
                Ok(secs) if secs <= 3600 => Duration::from_secs(secs),
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_TIME_LIMIT_GRACE",
                        problem: format!("expected 0 to 3600 seconds, got {secs:?}"),
                    })
                }
            };
        }
        if let Some(origins) = get("TESTIT_CORS_ORIGINS") {
            settings.cors_origins =
                Some(
                    CorsOrigins::parse(&origins).map_err(|problem| SettingsError {
                        name: "TESTIT_CORS_ORIGINS",
                        problem,
                    })?,
                );
        }
        if let Some(bytes) = get("TESTIT_WS_OUTSTANDING_BYTES") {
            settings.live.outstanding_bytes = match bytes.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_WS_OUTSTANDING_BYTES",
                        problem: format!("expected a positive number of bytes, got {bytes:?}"),
                    })
                }
            };
        }
        if let Some(ms) = get("TESTIT_WS_DRAIN_TIMEOUT_MS") {
            settings.live.drain_timeout = match ms.parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_WS_DRAIN_TIMEOUT_MS",
                        problem: format!("expected a positive number of milliseconds, got {ms:?}"),
                    })
                }
            };
        }
        if let Some(url) = get("TESTIT_SMTP_URL") {
            // Checked here so that a typo stops the server at start, naming the variable.
            crate::mail::check_smtp_url(&url).map_err(|problem| SettingsError {
                name: "TESTIT_SMTP_URL",
                problem,
            })?;
            settings.smtp_url = Some(url);
        }
        if let Some(from) = get("TESTIT_MAIL_FROM") {
            crate::mail::check_mailbox(&from).map_err(|problem| SettingsError {
                name: "TESTIT_MAIL_FROM",
                problem,
            })?;
            settings.mail_from = from;
        }
        if let Some(url) = get("TESTIT_PUBLIC_URL") {
            let parsed = url::Url::parse(&url).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
            });
            if parsed.is_none() {
                return Err(SettingsError {
                    name: "TESTIT_PUBLIC_URL",
                    problem: format!("expected an http(s) URL without a query, got {url:?}"),
                });
            }
            settings.public_url = Some(url.trim_end_matches('/').to_owned());
        }
        if let Some(secs) = get("TESTIT_CODE_TTL") {
            settings.codes.lifetime = seconds("TESTIT_CODE_TTL", &secs)?;
        }
        if let Some(secs) = get("TESTIT_CODE_RESEND_INTERVAL") {
            settings.codes.resend_interval = seconds("TESTIT_CODE_RESEND_INTERVAL", &secs)?;
        }
        if let Some(secs) = get("TESTIT_PASSWORD_RESET_TTL") {
            settings.platform.password_reset_ttl = seconds("TESTIT_PASSWORD_RESET_TTL", &secs)?;
        }
        settings.platform.facebook_app_id = get("TESTIT_FACEBOOK_APP_ID");
        settings.platform.facebook_app_secret = get("TESTIT_FACEBOOK_APP_SECRET");
        if let Some(url) = get("TESTIT_FACEBOOK_GRAPH_URL") {
            settings.platform.facebook_graph_url = base_url("TESTIT_FACEBOOK_GRAPH_URL", &url)?;
        }
        settings.platform.stripe_secret_key = get("TESTIT_STRIPE_SECRET_KEY");
        if let Some(url) = get("TESTIT_STRIPE_API_URL") {
            settings.platform.stripe_api_url = base_url("TESTIT_STRIPE_API_URL", &url)?;
        }
        for (name, field) in [
            ("TESTIT_MAX_IMAGE_BYTES", &mut settings.media.image_bytes),
            ("TESTIT_MAX_VIDEO_BYTES", &mut settings.media.video_bytes),
        ] {
            if let Some(value) = get(name) {
                *field = match value.parse::<u64>() {
                    Ok(n) if n > 0 => n,
                    _ => {
                        return Err(SettingsError {
                            name,
                            problem: format!("expected a positive number of bytes, got {value:?}"),
                        })
                    }
                };
            }
        }
        for (name, field) in [
            ("TESTIT_BODY_TIMEOUT", &mut settings.bodies.timeout),
            (
                "TESTIT_BODY_IDLE_TIMEOUT",
                &mut settings.bodies.idle_timeout,
            ),
            (
                "TESTIT_UPLOAD_IDLE_TIMEOUT",
                &mut settings.bodies.upload_idle_timeout,
            ),
        ] {
            if let Some(secs) = get(name) {
                *field = seconds(name, &secs)?;
            }
        }
        if let Some(rate) = get("TESTIT_UPLOAD_MIN_RATE") {
            settings.bodies.upload_min_rate = match rate.parse::<u64>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_UPLOAD_MIN_RATE",
                        problem: format!(
                            "expected a positive number of bytes per second, got {rate:?}"
                        ),
                    })
                }
            };
        }
        if let Some(n) = get("TESTIT_BODIES_PER_ADDRESS") {
            settings.bodies.per_address = match n.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_BODIES_PER_ADDRESS",
                        problem: format!("expected a positive number, got {n:?}"),
                    })
                }
            };
        }
        if let Some(flag) = get("TESTIT_ROTATE_REFRESH_TOKENS") {
            settings.rotate_refresh_tokens = match flag.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(SettingsError {
                        name: "TESTIT_ROTATE_REFRESH_TOKENS",
                        problem: format!("expected true or false, got {flag:?}"),
                    })
                }
            };
        }
        Ok(settings)
    }
}

/// An http(s) URL that paths are appended to, without its trailing slash.
fn base_url(name: &'static str, value: &str) -> Result<String, SettingsError> {
    let parsed = url::Url::parse(value).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.query().is_none()
    });
    match parsed {
        Some(_) => Ok(value.trim_end_matches('/').to_owned()),
        None => Err(SettingsError {
            name,
            problem: format!("expected an http(s) URL without a query, got {value:?}"),
        }),
    }
}

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `*`: any origin (answered `Access-Control-Allow-Origin: *`, never with credentials).
    Any,
    /// Exact origins, `scheme://host[:port]`.
    List(Vec<String>),
}

impl CorsOrigins {
    /// `*`, or a comma-separated list of origins (`https://app.example, http://localhost:5173`).
    pub fn parse(value: &str) -> Result<CorsOrigins, String> {
        if value.trim() == "*" {
            return Ok(CorsOrigins::Any);
        }
        let mut origins = Vec::new();
        for origin in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let host_ok = rest.is_some_and(|host| {
                !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
            });
            if !host_ok {
                return Err(format!(
                    "expected `*` or origins like https://app.example (scheme, host, optional port; no path), got {origin:?}"
                ));
            }
            origins.push(origin.to_ascii_lowercase());
        }
        if origins.is_empty() {
            return Err("expected `*` or a comma-separated list of origins".to_owned());
        }
        Ok(CorsOrigins::List(origins))
    }
}

fn seconds(name: &'static str, value: &str) -> Result<Duration, SettingsError> {
    match value.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(SettingsError {
            name,
            problem: format!("expected a positive number of seconds, got {value:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_put_the_embedded_store_in_the_data_dir() {
        let s = from(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8000");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert!(s.database_url.ends_with("testit.sqlite3"));
        assert!(!s.rotate_refresh_tokens);
    }

    #[test]
    fn the_embedded_store_follows_the_data_dir_unless_named() {
        let s = from(&[("TESTIT_DATA_DIR", "/srv/testit")]).unwrap();
        assert_eq!(s.database_url, "/srv/testit/testit.sqlite3");
        let s = from(&[
            ("TESTIT_DATA_DIR", "/srv"),
            ("TESTIT_DATABASE_URL", "mongodb://db"),
        ])
        .unwrap();
        assert_eq!(s.database_url, "mongodb://db");
    }

    #[test]
    fn cors_origins_are_any_or_a_list_of_plain_origins() {
        assert_eq!(from(&[]).unwrap().cors_origins, None);
        let any = from(&[("TESTIT_CORS_ORIGINS", "*")]).unwrap();
        assert_eq!(any.cors_origins, Some(CorsOrigins::Any));
        let list = from(&[(
            "TESTIT_CORS_ORIGINS",
            "https://App.example, http://localhost:5173",
        )])
        .unwrap();
        assert_eq!(
            list.cors_origins,
            Some(CorsOrigins::List(vec![
                "https://app.example".into(),
                "http://localhost:5173".into()
            ]))
        );
        for bad in ["app.example", "https://app.example/", "ftp://x", "https://"] {
            assert!(from(&[("TESTIT_CORS_ORIGINS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn websocket_limits_are_read_and_must_be_positive() {
        let s = from(&[
            ("TESTIT_WS_OUTSTANDING_BYTES", "65536"),
            ("TESTIT_WS_DRAIN_TIMEOUT_MS", "1500"),
        ])
        .unwrap();
        assert_eq!(
            s.live,
            LiveLimits {
                outstanding_bytes: 65536,
                drain_timeout: Duration::from_millis(1500),
            }
        );
        assert_eq!(from(&[]).unwrap().live, LiveLimits::default());
        let err = from(&[("TESTIT_WS_DRAIN_TIMEOUT_MS", "0")]).unwrap_err();
        assert!(err.to_string().starts_with("TESTIT_WS_DRAIN_TIMEOUT_MS"));
        assert!(from(&[("TESTIT_WS_OUTSTANDING_BYTES", "lots")]).is_err());
    }

    #[test]
    fn platform_settings_are_read_and_secrets_are_never_printed() {
        let s = from(&[]).unwrap();
        assert_eq!(s.platform, PlatformSettings::default());
        let s = from(&[
            ("TESTIT_PASSWORD_RESET_TTL", "90"),
            ("TESTIT_FACEBOOK_APP_ID", "1234"),
            ("TESTIT_FACEBOOK_APP_SECRET", "fb-secret"),
            ("TESTIT_FACEBOOK_GRAPH_URL", "http://127.0.0.1:9/graph/"),
            ("TESTIT_STRIPE_SECRET_KEY", "sk_test_secret"),
        ])
        .unwrap();
        assert_eq!(s.platform.password_reset_ttl, Duration::from_secs(90));
        assert_eq!(s.platform.facebook_graph_url, "http://127.0.0.1:9/graph");
        assert_eq!(s.platform.stripe_api_url, "https://api.stripe.com");
        let printed = format!("{:?}", s.platform);
        assert!(!printed.contains("fb-secret") && !printed.contains("sk_test_secret"));
        let err = from(&[("TESTIT_STRIPE_API_URL", "ftp://stripe")]).unwrap_err();
        assert!(err.to_string().starts_with("TESTIT_STRIPE_API_URL"));
    }

    #[test]
    fn mail_settings_default_to_the_outbox_and_are_checked_at_start() {
        let s = from(&[]).unwrap();
        assert_eq!(s.smtp_url, None);
        assert_eq!(s.mail_from, DEFAULT_MAIL_FROM);
        assert_eq!(s.codes, CodeRules::default());
        let s = from(&[
            ("TESTIT_SMTP_URL", "smtp://127.0.0.1:2525"),
            ("TESTIT_MAIL_FROM", "school@example.org"),
            ("TESTIT_CODE_TTL", "30"),
            ("TESTIT_CODE_RESEND_INTERVAL", "5"),
        ])
        .unwrap();
        assert_eq!(s.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
        assert_eq!(s.mail_from, "school@example.org");
        assert_eq!(s.codes.lifetime, Duration::from_secs(30));
        assert_eq!(s.codes.resend_interval, Duration::from_secs(5));
        let err = from(&[("TESTIT_SMTP_URL", "http://mail")]).unwrap_err();
        assert!(err.to_string().starts_with("TESTIT_SMTP_URL"), "{err}");
        let err = from(&[("TESTIT_MAIL_FROM", "not an address")]).unwrap_err();
        assert!(err.to_string().starts_with("TESTIT_MAIL_FROM"), "{err}");
        assert!(from(&[("TESTIT_CODE_TTL", "0")]).is_err());
    }

    #[test]
    fn media_limits_default_to_10_mib_and_2_gib_and_must_be_positive() {
        assert_eq!(from(&[]).unwrap().media, MediaLimits::default());
        let s = from(&[
            ("TESTIT_MAX_IMAGE_BYTES", "1024"),
            ("TESTIT_MAX_VIDEO_BYTES", "4096"),
        ])
        .unwrap();
        assert_eq!((s.media.image_bytes, s.media.video_bytes), (1024, 4096));
        let err = from(&[("TESTIT_MAX_VIDEO_BYTES", "0")]).unwrap_err();
        assert!(
            err.to_string().starts_with("TESTIT_MAX_VIDEO_BYTES"),
            "{err}"
        );
        assert!(from(&[("TESTIT_MAX_IMAGE_BYTES", "10MB")]).is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = from(&[("TESTIT_ACCESS_TOKEN_TTL", "soon")]).unwrap_err();
        assert!(err.to_string().starts_with("TESTIT_ACCESS_TOKEN_TTL"));
        assert!(from(&[("TESTIT_ROTATE_REFRESH_TOKENS", "maybe")]).is_err());
        assert!(
            from(&[("TESTIT_ROTATE_REFRESH_TOKENS", "true")])
                .unwrap()
                .rotate_refresh_tokens
        );
    }
}
