//! The one clock of the server: wall-clock time since the Unix epoch, in the three units the
//! stored documents use (seconds for accounts, tokens and attempts; milliseconds for one-time
//! codes, send limits and reset links, whose minute-long limits need better than seconds;
//! microseconds for seed 000's course times). One source, so the units never disagree.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the epoch (zero if the system clock is set before it).
fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix seconds.
pub fn now() -> i64 {
    i64::try_from(since_epoch().as_secs()).unwrap_or(i64::MAX)
}

/// Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(since_epoch().as_millis()).unwrap_or(i64::MAX)
}

/// Unix microseconds.
pub fn now_micros() -> i64 {
    i64::try_from(since_epoch().as_micros()).unwrap_or(i64::MAX)
}
