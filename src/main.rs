use std::process::ExitCode;

use testit::admin;
use testit::settings::Settings;
use testit::startup::Application;
use testit::telemetry;

/// mimalloc instead of glibc's allocator: glibc kept every argon2 hash's 19 MiB working
/// buffer (RSS grew by hundreds of MB with logins and never came back), and under load its
/// malloc and free were a sixth of the server's CPU. mimalloc returns freed memory to the
/// system and allocates faster; the numbers are in the README's benchmarks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    telemetry::init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!(%err, "bad configuration");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("serve") => serve(settings).await,
        Some("createsuperuser") => match admin::create_superuser(&settings, &args[1..]).await {
            Ok(done) => {
                println!("{done}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        },
        Some(_) => {
            eprintln!("{}", admin::USAGE);
            ExitCode::from(2)
        }
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let app = match Application::build(settings.clone()).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(%err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let host = settings
        .bind
        .rsplit_once(':')
        .map_or(settings.bind.as_str(), |(host, _)| host);
    tracing::info!(
        store = app.store().kind(),
        "listening on http://{host}:{}",
        app.port()
    );
    let shutdown = app.shutdown();
    actix_web::rt::spawn(async move {
        testit::startup::stop_signal().await;
        shutdown.begin().await;
    });
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::FAILURE
        }
    }
}
