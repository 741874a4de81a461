//! The metrics adapter: the middleware that counts and times every request, and the
//! separate server answering `GET /metrics`.

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, App, HttpResponse, HttpServer};

use crate::metrics::{metrics, render};

/// Counts each request by method, route pattern (not the concrete path, so ids do not make
/// new series) and status, and times it.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16().to_string();
    let m = metrics();
    m.http_requests
        .with_label_values(&[&method, &route, &status])
        .inc();
    m.http_duration
        .with_label_values(&[&method, &route])
        .observe(started.elapsed().as_secs_f64());
    Ok(res)
}

async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render())
}

/// The metrics server on its own address (one worker: it answers a scraper), and its port.
pub fn server(address: &str) -> std::io::Result<(Server, u16)> {
    let server = HttpServer::new(|| {
        App::new()
            .route("/metrics", web::get().to(serve))
            .default_service(web::to(super::route_not_found))
    })
    .workers(1)
    // Stopped with the main server (`Application::run_until_stopped`), not by signals.
    .disable_signals()
    .bind(address)?;
    let port = server
        .addrs()
        .first()
        .map(|addr| addr.port())
        .ok_or_else(|| std::io::Error::other("metrics bound to no address"))?;
    Ok((server.run(), port))
}
