//! Building and running the server: [`Application::build`] is used by `main.rs` and by the
//! tests alike.

use actix::Addr;
use actix_web::dev::Server;
use actix_web::middleware::Compress;
use actix_web::{web, App, HttpServer};
use actors::attempt::Registry;
use actors::grader::{GraderPool, PoolConfig};

use crate::accounts::{jwt, password, JwtKeys, RevokedFamilies};
use crate::api::{self, body::MAX_BODY_BYTES, openapi};
use crate::catalog::files::FileStore;
use crate::error::{ApiError, ErrorCode};
use crate::settings::Settings;
use crate::state::AppState;
use crate::store::{Store, StoreError};
use crate::testing::grading::{self, Grading};

/// Connections waiting to be accepted (capped by the kernel's `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// On SIGTERM or SIGINT the server stops accepting at once and gives the requests it has
/// started this long to finish. Submissions are stored before they are acknowledged and code
/// answers still grading stay pending in the store, graded at the next start.
const SHUTDOWN_SECONDS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The document store the settings name and the file store that goes with it: GridFS in
/// the same database beside MongoDB (one client for both), `<data dir>/media/` beside the
/// embedded store.
async fn open_stores(settings: &Settings) -> Result<(Store, FileStore), StartupError> {
    if crate::store::mongo::names_mongodb(&settings.database_url) {
        let backend = crate::store::mongo::MongoBackend::connect(&settings.database_url).await?;
        let files = FileStore::gridfs(backend.database());
        let store = Store::with_backend(std::sync::Arc::new(backend)).await?;
        Ok((store, files))
    } else {
        let store = Store::open(&settings.database_url).await?;
        let files = FileStore::on_disk(settings.data_dir.join("media")).await?;
        Ok((store, files))
    }
}

/// Sweeps what interrupted uploads left in the file store (GridFS chunks of no file after a
/// `kill -9`; stray `.part` files), at start and then every hour: only what is older than the
/// longest upload the settings allow, so never an upload in flight.
fn sweep_upload_leftovers(files: &FileStore, settings: &Settings) {
    let media = settings.media;
    let longest = settings
        .bodies
        .longest_upload(media.image_bytes.max(media.video_bytes));
    let files = files.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60 * 60));
        loop {
            every.tick().await;
            match files.sweep_leftovers(longest).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "upload leftovers removed"),
                Err(err) => tracing::warn!(%err, "cannot sweep upload leftovers"),
            }
        }
    });
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    /// The metrics endpoint's own server, when `metrics_bind` is set.
    metrics: Option<(Server, u16)>,
    going_away: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    store: Store,
    attempts: Addr<Registry>,
    server: Server,
    /// The embedded store's file, locked for this process while it serves.
    _lock: Option<crate::store::ServerLock>,
}

impl Application {
    /// Opens the store the settings name and binds the listener (port 0: any free port).
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        // One server process per embedded store: a second one stops here.
        let lock = Store::lock_for_server(&settings.database_url)?;
        let (store, files) = open_stores(&settings).await?;
        sweep_upload_leftovers(&files, &settings);
        let secret =
            jwt::load_or_create_secret(settings.jwt_secret.as_deref(), &settings.data_dir)?;
        let grader = GraderPool::start_detached(PoolConfig {
            workers: settings.grader_workers,
            runtime_dir: settings.runtime_dir.clone(),
            python: settings.python.clone(),
        })?;
        // One hub per process; with a shared store, fed by the store's change stream.
        let (hub, events) = crate::cluster::start_hub(&store).await?;
        let grading = Grading {
            store: store.clone(),
            grader,
            hub: hub.clone(),
            wait: settings.grading_wait,
            grace: settings.time_limit_grace.as_secs() as i64,
            lease: settings.claim_lease,
        };
        let port = crate::testing::live::port(grading.clone());
        let attempts = actors::on_own_system("attempts", move || {
            actix::Supervisor::start(move |_| Registry::new(port, hub))
        })?;
        // Work a stopped server left: half-graded completions, attempts with deadlines.
        grading::resume(&grading).await?;
        crate::testing::live::resume(&store, &attempts).await?;
        let registry = attempts.clone();
        let revoked_families = RevokedFamilies::load(
            &store,
            settings.access_token_ttl,
            settings.refresh_token_ttl,
            crate::domain::clock::now(),
        )
        .await?;
        let mailer = crate::mail::Mailer::start(
            &settings.mail_from,
            settings.smtp_url.as_deref(),
            &settings.data_dir,
        )
        .map_err(std::io::Error::other)?;
        let platform = crate::accounts::platform::Platform::new(&settings.platform)
            .map_err(std::io::Error::other)?;
        let (going_away, going_away_rx) = tokio::sync::watch::channel(false);
        let state = web::Data::new(AppState {
            store: store.clone(),
            jwt: JwtKeys::new(
                &secret,
                settings.access_token_ttl,
                settings.refresh_token_ttl,
            ),
            revoked_families,
            rotate_refresh_tokens: settings.rotate_refresh_tokens,
            api_key_ttl: settings.api_key_ttl,
            throttle: crate::accounts::throttle::Throttle::sharing(settings.throttle, &store),
            client_address_header: settings.client_address_header.clone(),
            mailer,
            codes: settings.codes,
            public_url: std::sync::OnceLock::new(),
            public_url_configured: settings.public_url.is_some(),
            platform,
            grading,
            attempts,
            going_away: going_away_rx,
            files,
            media_limits: settings.media,
            events,
        });
        if store.shared().is_some() {
            // Other processes' log-outs reach this one's in-memory set.
            crate::cluster::follow_revocations(
                store.clone(),
                std::sync::Arc::downgrade(&state.clone().into_inner()),
                |state: &AppState| &state.revoked_families,
            );
            // Grading a server that died left pending is finished by whoever claims it.
            let alive = std::sync::Arc::downgrade(&state.clone().into_inner());
            grading::sweep(state.grading.clone(), move || alive.strong_count() > 0);
            // So does the deadline of an attempt whose server died.
            let alive = std::sync::Arc::downgrade(&state.clone().into_inner());
            crate::testing::live::sweep_deadlines(
                store.clone(),
                registry.clone(),
                settings.claim_lease,
                move || alive.strong_count() > 0,
            );
        }
        let docs: Vec<api::OpDoc> = api::endpoints().into_iter().map(|e| e.doc).collect();
        let openapi = web::Data::new(openapi::OpenApi(openapi::document(&docs)));
        let challenges = web::Data::new(api::auth::Challenges::new(&docs));
        let bodies = web::Data::new(api::body::Bodies::new(settings.bodies));
        // Rate-limit counters of keys idle for a while are dropped, so memory follows the
        // keys active within a window, not every login ever tried.
        let swept = std::sync::Arc::downgrade(&state.clone().into_inner());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                match swept.upgrade() {
                    Some(state) => state.throttle.sweep(),
                    None => break,
                }
            }
        });
        // The first log-in should not pay for the dummy hash.
        password::warm_up()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;

        let live = settings.live;
        let cors = settings.cors_origins.clone();
        let bound_state = state.clone();
        let server = HttpServer::new(move || {
            use actix_web::middleware::{from_fn, Condition};
            App::new()
                .wrap(Compress::default())
                .wrap(from_fn(api::auth::challenge))
                .wrap(from_fn(api::metrics::track))
                .wrap(Condition::new(
                    cors.is_some(),
                    api::cors::middleware(cors.as_ref()),
                ))
                .wrap(Condition::new(cors.is_some(), from_fn(api::cors::refusals)))
                .wrap(crate::telemetry::request_logger())
                .app_data(state.clone())
                .app_data(openapi.clone())
                .app_data(challenges.clone())
                .app_data(bodies.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .app_data(live)
                // A path that does not parse (`/api/groups/abc/`) names no object: 404.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()),
                )
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    ApiError::with_detail(ErrorCode::InvalidQuery, err.to_string()).into()
                }))
                .configure(|cfg| api::configure(cfg, api::endpoints))
                // The web app: `/` and `/app/…`, beside the API's table.
                .configure(api::webapp::configure)
                .default_service(web::to(api::route_not_found))
        })
        // Replies and live events are small writes in quick succession: without NODELAY,
        // Nagle's algorithm holds the second until the client's delayed ACK, 40 ms later.
        .on_connect(|conn, data| {
            if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
                // So that a WebSocket client that stops reading can be cut off (api/live.rs).
                data.insert(api::live::ConnectionSocket::of(tcp));
                if let Err(err) = tcp.set_nodelay(true) {
                    tracing::warn!(%err, "cannot set TCP_NODELAY");
                }
            }
        })
        // A class opening a test connects at once: std's default backlog (128) would drop
        // the SYNs of the rest, which then retry a second later.
        .backlog(LISTEN_BACKLOG)
        .shutdown_timeout(SHUTDOWN_SECONDS)
        // `main.rs` listens for the signals and stops through [`Shutdown`], which tells live
        // clients first; servers started by the tests are stopped through their handle.
        .disable_signals()
        .bind(&settings.bind)?;
        let port = server
            .addrs()
            .first()
            .map(|addr| addr.port())
            .ok_or_else(|| std::io::Error::other("bound to no address"))?;
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| api::links::bound_url(&settings.bind, port));
        // Set once, here: nothing reads it before the server runs.
        let _ = bound_state.public_url.set(public_url);
        let server = server.run();
        let metrics = match &settings.metrics_bind {
            Some(address) => Some(api::metrics::server(address)?),
            None => None,
        };
        Ok(Application {
            port,
            going_away: std::sync::Arc::new(going_away),
            metrics,
            store,
            attempts: registry,
            server,
            _lock: lock,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of `GET /metrics`, when it is served.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The registry of attempt actors (tests evict actors through it).
    pub fn attempts(&self) -> &Addr<Registry> {
        &self.attempts
    }

    /// A handle to stop the server once it runs (tests restart it with it).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// What stops the server gracefully (see [`Shutdown`]).
    pub fn shutdown(&self) -> Shutdown {
        Shutdown {
            server: self.server.handle(),
            going_away: self.going_away.clone(),
            store: self.store.clone(),
        }
    }

    /// Serves until stopped (by [`Shutdown::begin`] or a handle), then drains requests.
    /// The metrics server runs alongside and stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let served = self.server.await;
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        served
    }
}

/// Stops a running server the graceful way: live sessions are told first (close 1001, going
/// away, so their clients reconnect), then the server stops accepting and gives the requests
/// it has started [`SHUTDOWN_SECONDS`] to finish.
#[derive(Clone)]
pub struct Shutdown {
    server: actix_web::dev::ServerHandle,
    going_away: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
    store: Store,
}

impl Shutdown {
    pub async fn begin(&self) {
        tracing::info!("stopping: live clients told to go away, requests in flight finishing");
        self.going_away.send_replace(true);
        self.server.stop(true).await;
        // With several servers: the grading this one was doing is left to the others at
        // once, not when its leases run out.
        if let Err(err) = self.store.release_claims().await {
            tracing::warn!(%err, "grading claims not handed back; they expire");
        }
    }
}

/// Waits for SIGTERM (how service managers and `docker stop` ask) or SIGINT (Ctrl-C).
pub async fn stop_signal() {
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = terminate => {}
        interrupted = tokio::signal::ctrl_c() => {
            if let Err(err) = interrupted {
                tracing::warn!(%err, "cannot listen for SIGINT");
                std::future::pending::<()>().await;
            }
        }
    }
}
