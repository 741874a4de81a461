use std::process::ExitCode;

use testit::settings::Settings;
use testit::startup::Application;
use testit::telemetry;

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
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "server failed");
            ExitCode::FAILURE
        }
    }
}
