//! Facebook log-in (seed 000's `login/facebook/`): the client's access token is checked by the
//! server with Facebook's Graph API, never trusted as sent.
//!
//! 1. `GET {graph}/debug_token?input_token=<token>&access_token=<app id>|<app secret>`: the
//!    token must be valid and issued to *our* app (a token another app obtained from its
//!    user would otherwise sign that user in here: the "confused deputy").
//! 2. `GET {graph}/me?fields=id,email,first_name,last_name&access_token=<token>`: who it is.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};

/// The Facebook app the server verifies tokens for.
#[derive(Clone)]
pub struct FacebookApp {
    app_id: String,
    app_secret: String,
    /// The Graph API's base URL, without a trailing slash.
    graph_url: String,
}

// By hand: the app secret stays out of logs.
impl fmt::Debug for FacebookApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FacebookApp")
            .field("app_id", &self.app_id)
            .field("graph_url", &self.graph_url)
            .finish_non_exhaustive()
    }
}

/// Who a verified token belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct FacebookProfile {
    /// The app-scoped Facebook user id: what an account is linked by.
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Deserialize)]
struct DebugToken {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    is_valid: bool,
    /// A string in Facebook's answers; a number is accepted too.
    #[serde(default)]
    app_id: Value,
    #[serde(default)]
    user_id: Value,
}

/// A string or a number as text (`None` for anything else).
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub const NOT_VALID: &str = "This Facebook access token is not valid for this application.";

fn not_valid() -> ApiError {
    ApiError::field("access_token", NOT_VALID)
}

fn unreachable_graph(err: reqwest::Error) -> ApiError {
    // Without its URL: the URL carries the app secret and the user's token.
    tracing::warn!(error = %err.without_url(), "Facebook's Graph API did not answer");
    ApiError::with_detail(
        ErrorCode::Unavailable,
        "Facebook could not be reached; try again later.",
    )
}

impl FacebookApp {
    /// The app, when both its id and its secret are configured.
    pub fn from_settings(settings: &crate::settings::PlatformSettings) -> Option<FacebookApp> {
        Some(FacebookApp {
            app_id: settings.facebook_app_id.clone()?,
            app_secret: settings.facebook_app_secret.clone()?,
            graph_url: settings.facebook_graph_url.clone(),
        })
    }

    /// GETs a Graph API path: `Ok(None)` when Facebook refused the request (4xx: a bad
    /// token), 503 when it could not answer.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, ApiError> {
        let url = format!("{}/{path}", self.graph_url);
        let resp = http
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(unreachable_graph)?;
        let status = resp.status();
        if status.is_client_error() {
            return Ok(None);
        }
        let resp = resp.error_for_status().map_err(unreachable_graph)?;
        // An answer of another shape is a token we cannot vouch for.
        Ok(resp.json::<T>().await.ok())
    }

    /// Verifies `token` and answers its user's profile; 400 naming `access_token` for a
    /// token that is invalid, expired or another app's.
    pub async fn profile(
        &self,
        http: &reqwest::Client,
        token: &str,
    ) -> Result<FacebookProfile, ApiError> {
        let app_token = format!("{}|{}", self.app_id, self.app_secret);
        let debug: Option<DebugToken> = self
            .get(
                http,
                "debug_token",
                &[("input_token", token), ("access_token", &app_token)],
            )
            .await?;
        let data = debug.ok_or_else(not_valid)?.data;
        if !data.is_valid || id_text(&data.app_id).as_deref() != Some(self.app_id.as_str()) {
            return Err(not_valid());
        }
        let profile: FacebookProfile = self
            .get(
                http,
                "me",
                &[
                    ("fields", "id,email,first_name,last_name"),
                    ("access_token", token),
                ],
            )
            .await?
            .ok_or_else(not_valid)?;
        // The profile must be of the user the token was issued to; a token that names no
        // user (an app or page token) logs no one in.
        if id_text(&data.user_id).is_none_or(|user| user != profile.id) || profile.id.is_empty() {
            return Err(not_valid());
        }
        Ok(profile)
    }
}
