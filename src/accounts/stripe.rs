//! Stripe customers for seed 000's accounts: each new account gets one, created in the
//! background so that Stripe being slow or down never fails nor slows a registration; the
//! customer id is written into the account once Stripe answers.

use std::fmt;
use std::time::Duration;

use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::text::hex;
use crate::store::{FieldPath, Store, User};

/// Pauses before each retry of a customer creation that failed.
const RETRY_DELAYS: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
];

/// The Stripe account customers are created in.
#[derive(Clone)]
pub struct Stripe {
    secret_key: String,
    /// Stripe's API base URL, without a trailing slash.
    api_url: String,
}

// By hand: the secret key stays out of logs.
impl fmt::Debug for Stripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stripe")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Customer {
    id: String,
}

impl Stripe {
    /// Stripe, when its secret key is configured.
    pub fn from_settings(settings: &crate::settings::PlatformSettings) -> Option<Stripe> {
        Some(Stripe {
            secret_key: settings.stripe_secret_key.clone()?,
            api_url: settings.stripe_api_url.clone(),
        })
    }

    /// One try at `POST /v1/customers`. The idempotency key makes a retry after a lost
    /// answer return the customer the first try made instead of a second one.
    async fn create(
        &self,
        http: &reqwest::Client,
        email: &str,
        name: &str,
        idempotency_key: &str,
    ) -> Result<String, String> {
        let resp = http
            .post(format!("{}/v1/customers", self.api_url))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", idempotency_key)
            .form(&[("email", email), ("name", name)])
            .send()
            .await
            .map_err(|err| err.without_url().to_string())?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("Stripe answered {status}"));
        }
        let customer: Customer = resp.json().await.map_err(|err| err.to_string())?;
        if customer.id.is_empty() {
            return Err("Stripe answered a customer without an id".to_owned());
        }
        Ok(customer.id)
    }

    /// Creates the user's customer in the background, retrying with growing pauses, and
    /// stores its id into the account (one atomic field write: nothing else of the account
    /// is touched, so no concurrent change of it is lost).
    pub fn create_customer_later(&self, http: &reqwest::Client, store: &Store, user: &User) {
        let stripe = self.clone();
        let http = http.clone();
        let store = store.clone();
        let user_id = user.id;
        let email = user.email_str().to_owned();
        let name = format!("{} {}", user.first_name, user.last_name)
            .trim()
            .to_owned();
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let idempotency_key = format!("testit-customer-{user_id}-{}", hex(&bytes));
        tokio::spawn(async move {
            let mut delays = RETRY_DELAYS.iter();
            loop {
                match stripe.create(&http, &email, &name, &idempotency_key).await {
                    Ok(customer) => {
                        let stored = match FieldPath::parse(["stripe_customer_id"]) {
                            Ok(path) => store
                                .users()
                                .set_fields(user_id, vec![(path, Value::String(customer))])
                                .await
                                .map_err(|err| err.to_string()),
                            Err(err) => Err(err.to_string()),
                        };
                        match stored {
                            Ok(_) => tracing::info!(user_id, "Stripe customer created"),
                            Err(err) => {
                                tracing::error!(user_id, %err, "Stripe customer id not stored")
                            }
                        }
                        return;
                    }
                    Err(err) => match delays.next() {
                        Some(delay) => {
                            tracing::warn!(user_id, %err, "Stripe customer not created; retrying");
                            tokio::time::sleep(*delay).await;
                        }
                        None => {
                            tracing::error!(user_id, %err, "Stripe customer not created; gave up");
                            return;
                        }
                    },
                }
            }
        });
    }
}
