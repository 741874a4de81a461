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
    /// Where `GET /metrics` (Prometheus) listens; `None`: nowhere.
    pub metrics_bind: Option<String>,
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
            rotate_refresh_tokens: false,
            runtime_dir: data_dir.join("runtimes"),
            python: "python3".to_owned(),
            grader_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            grading_wait: Duration::from_secs(5),
            metrics_bind: None,
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
