//! Instants as every view writes them: RFC 3339, UTC.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Unix seconds as RFC 3339 UTC (`2026-11-22T11:29:36Z`).
pub fn timestamp(unix_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An RFC 3339 instant (any offset) as Unix seconds (a fraction of a second is dropped).
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| "Expected an RFC 3339 date and time, e.g. 2026-12-24T09:00:00Z.".to_owned())
}

/// Unix microseconds as RFC 3339 UTC with six decimals (`2020-11-12T20:34:15.732636Z`), the
/// way seed 000 writes a course's times.
pub fn timestamp_micros(unix_micros: i64) -> String {
    let seconds = unix_micros.div_euclid(1_000_000);
    let micros = unix_micros.rem_euclid(1_000_000);
    let whole = timestamp(seconds);
    match whole.strip_suffix('Z') {
        Some(head) => format!("{head}.{micros:06}Z"),
        None => whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_are_written_with_six_decimals() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            timestamp_micros(1_605_213_255_732_636),
            "2020-11-12T20:34:15.732636Z"
        );
        assert_eq!(timestamp_micros(5), "1970-01-01T00:00:00.000005Z");
    }
}
