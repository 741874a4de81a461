//! Email delivery: through SMTP (`TESTIT_SMTP_URL`), or, when no server is configured, as
//! `.eml` files in `<data dir>/outbox/` (each path logged), so a fresh machine works and the
//! tests read what was sent.
//!
//! A request never waits for delivery: [`Mailer::send`] puts the message on a bounded queue
//! and returns; a background task delivers it, retrying a failed attempt a few times with
//! growing pauses. A message that still cannot be delivered (or that does not fit in the
//! queue) is logged and dropped: the request that asked for it has already been answered, and
//! the user can ask for another one-time code.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{mpsc, Semaphore};

/// Messages waiting for delivery; past this many, new ones are dropped (and logged) rather
/// than holding memory or a request worker.
const QUEUE: usize = 1024;
/// Messages delivered at once: SMTP round trips overlap, and a slow server holds no more
/// than this many connections.
const CONCURRENT_DELIVERIES: usize = 4;
/// Attempts per message, and the pause before the first retry (quadrupled for each next one:
/// 0.5 s, 2 s, 8 s), which rides out a restarting mail server without hammering it.
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// How long one SMTP exchange may take (lettre's default is a minute).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// The name of the folder under the data dir that holds undelivered-by-SMTP messages.
pub const OUTBOX: &str = "outbox";

/// Whether `url` is an SMTP URL lettre can use (checked once, at start).
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|err| format!("not an smtp:// or smtps:// URL ({err})"))
}

/// Whether `from` is a mailbox (`Name <address>` or an address).
pub fn check_mailbox(from: &str) -> Result<(), String> {
    from.parse::<Mailbox>()
        .map(|_| ())
        .map_err(|err| format!("not an email address or `Name <address>` ({err})"))
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
}

#[derive(Clone)]
enum Delivery {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// The server's mailer (cheap to clone: a queue's sending end).
#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Outgoing>,
}

impl Mailer {
    /// Starts the delivery task on the current tokio runtime, sending as `from` through
    /// `smtp_url`, or into `<data_dir>/outbox` without one. Fails only on a bad setting.
    /// (It takes the settings it needs rather than `Settings`, which checks these two
    /// values with this module's functions: neither module then depends on the other.)
    pub fn start(from: &str, smtp_url: Option<&str>, data_dir: &Path) -> Result<Mailer, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|err| format!("TESTIT_MAIL_FROM: {err}"))?;
        let delivery = match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| format!("TESTIT_SMTP_URL: {err}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Delivery::Smtp(transport)
            }
            None => Delivery::Outbox(data_dir.join(OUTBOX)),
        };
        let (queue, mut waiting) = mpsc::channel::<Outgoing>(QUEUE);
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(CONCURRENT_DELIVERIES));
            while let Some(outgoing) = waiting.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (delivery, from) = (delivery.clone(), from.clone());
                tokio::spawn(async move {
                    deliver(&delivery, from, outgoing).await;
                    drop(slot);
                });
            }
        });
        Ok(Mailer { queue })
    }

    /// Queues a message and returns at once; delivery problems are logged, never returned.
    pub fn send(&self, outgoing: Outgoing) {
        match self.queue.try_send(outgoing) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(lost)) => {
                tracing::error!(to = %lost.to, "mail queue full: message dropped");
            }
            Err(mpsc::error::TrySendError::Closed(lost)) => {
                tracing::error!(to = %lost.to, "mail task stopped: message dropped");
            }
        }
    }
}

fn build(from: Mailbox, outgoing: &Outgoing) -> Result<Message, String> {
    let to: Mailbox = outgoing
        .to
        .parse()
        .map_err(|err| format!("recipient: {err}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(outgoing.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(outgoing.body.clone())
        .map_err(|err| err.to_string())
}

/// Tries to deliver one message, a few times; logs the outcome.
async fn deliver(delivery: &Delivery, from: Mailbox, outgoing: Outgoing) {
    let message = match build(from, &outgoing) {
        Ok(message) => message,
        Err(err) => {
            // Nothing to retry: the message cannot be written.
            tracing::error!(to = %outgoing.to, %err, "cannot build email: dropped");
            return;
        }
    };
    let mut pause = FIRST_PAUSE;
    for attempt in 1..=ATTEMPTS {
        let outcome = match delivery {
            Delivery::Smtp(transport) => match transport.send(message.clone()).await {
                Ok(_) => {
                    tracing::info!(to = %outgoing.to, "email sent over SMTP");
                    return;
                }
                // A permanent refusal (5xx: no such mailbox, …) will not change on retry.
                Err(err) if err.is_permanent() => {
                    tracing::error!(to = %outgoing.to, %err, "SMTP server refused the email");
                    return;
                }
                Err(err) => err.to_string(),
            },
            Delivery::Outbox(dir) => match write_to_outbox(dir, message.formatted()).await {
                Ok(path) => {
                    tracing::info!(to = %outgoing.to, path = %path.display(), "email written to the outbox");
                    return;
                }
                Err(err) => err,
            },
        };
        if attempt == ATTEMPTS {
            tracing::error!(to = %outgoing.to, err = %outcome, attempt, "email not delivered: dropped");
            return;
        }
        tracing::warn!(to = %outgoing.to, err = %outcome, attempt, "email not delivered yet: retrying");
        tokio::time::sleep(pause).await;
        pause *= 4;
    }
}

/// Writes one message as `<dir>/<unix ms>-<n>.eml`, through a temporary name and a rename,
/// so a reader never sees half a message. On the blocking pool: file I/O blocks.
async fn write_to_outbox(dir: &Path, bytes: Vec<u8>) -> Result<PathBuf, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let dir = dir.to_owned();
    let name = format!("{millis}-{n}.eml");
    tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        let partial = dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, bytes)?;
        let path = dir.join(name);
        std::fs::rename(&partial, &path)?;
        Ok::<_, std::io::Error>(path)
    })
    .await
    .map_err(|err| err.to_string())?
    .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert!(check_smtp_url("smtp://127.0.0.1:2525").is_ok());
        assert!(check_smtp_url("smtps://user:pass@mail.example.org").is_ok());
        assert!(check_smtp_url("http://mail.example.org").is_err());
        assert!(check_mailbox("TestIT <no-reply@testit.localhost>").is_ok());
        assert!(check_mailbox("nobody").is_err());
    }

    #[tokio::test]
    async fn without_smtp_messages_land_in_the_outbox_whole() {
        let dir = tempfile::tempdir().unwrap();
        let settings = crate::settings::Settings::with_data_dir(dir.path());
        let mailer = Mailer::start(
            &settings.mail_from,
            settings.smtp_url.as_deref(),
            &settings.data_dir,
        )
        .unwrap();
        mailer.send(Outgoing {
            to: "ann@example.org".into(),
            subject: "Hello".into(),
            body: "Your code: 123456".into(),
        });
        let outbox = dir.path().join(OUTBOX);
        for _ in 0..200 {
            let files: Vec<_> = std::fs::read_dir(&outbox)
                .into_iter()
                .flatten()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                .collect();
            if let Some(file) = files.first() {
                let text = std::fs::read_to_string(file.path()).unwrap();
                assert!(text.contains("To: ann@example.org"), "{text}");
                assert!(text.contains("Subject: Hello"), "{text}");
                assert!(text.contains("Your code: 123456"), "{text}");
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("nothing written to {}", outbox.display());
    }
}
