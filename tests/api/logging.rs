//! The request log: credentials in URLs never reach it.
//!
//! The server logs through the global subscriber, which the suite must not depend on; so this
//! drives the server's own request-log middleware (`telemetry::request_logger()`, the one
//! `startup.rs` wraps every request in) under a subscriber scoped to this test's thread.

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::{test, web, App, HttpResponse};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[actix_web::test]
async fn the_request_log_redacts_credentials_in_the_url_and_keeps_the_rest() {
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_span_events(FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _scoped = tracing::subscriber::set_default(subscriber);
    let app = test::init_service(
        App::new()
            .wrap(testit::telemetry::request_logger())
            .route("/ws", web::get().to(HttpResponse::Ok)),
    )
    .await;

    let target = "/ws?token=eyJhbGci.c2VjcmV0.c2ln&limit=2&refresh=r3fr3sh&password=hunter22";
    let resp = test::call_service(&app, test::TestRequest::get().uri(target).to_request()).await;
    assert!(resp.status().is_success());
    // The request's span closes, and its line is written, once the response is consumed.
    test::read_body(resp).await;

    let text = log.text();
    assert!(
        text.contains("/ws?token=[redacted]&limit=2&refresh=[redacted]&password=[redacted]"),
        "{text}"
    );
    for secret in ["eyJhbGci", "c2VjcmV0", "r3fr3sh", "hunter22"] {
        assert!(!text.contains(secret), "{secret} logged: {text}");
    }
}
