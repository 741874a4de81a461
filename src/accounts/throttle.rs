//! Rate limits on the doors an attacker knocks at: sign-in (every door), sign-up, one-time
//! codes. Counting is `governor`'s (GCRA: a burst, then a steady rate); this module decides
//! what is counted, so that a class of forty behind one school address signing in within a
//! minute is never refused while a password guesser is:
//!
//! - **failures per account** (a wrong password for one login): the guesser's signal;
//! - **failures per address**: one client guessing across many accounts;
//! - **attempts per address**, successful or not, with a burst far beyond a class's: floods;
//! - **sign-ups per address**.
//!
//! A limit that runs out refuses the next requests of that key with 429 and `Retry-After`
//! until it has room again, before any password is checked (so a refused guess learns
//! nothing, and costs no argon2 hash).
//!
//! Several servers on one MongoDB count failures and sign-ups together: beside its own
//! counter, each of those limits keeps one in the store per key and fixed window (created
//! with its expiry, removed by a TTL index), so eleven wrong passwords spread over two
//! servers are refused as they would be on one. The window starts on each server's clock
//! (`now` rounded down to the window's length): a skew of a few seconds shifts it a little,
//! which a limit measured in minutes does not notice. The flood limit (attempts per address)
//! stays per process: it guards each process's own work.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::error::ApiError;
pub use crate::settings::ThrottleLimits as Limits;
use crate::store::Store;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// One counted limit: the counter, and the keys refused until a moment (a key is refused
/// once a counted event found no room, until the counter has room again).
struct Limit<K: Hash + Eq + Clone> {
    counter: Keyed<K>,
    refused: Mutex<HashMap<K, Instant>>,
    /// The limit's name in the store's counters, when it is shared by several servers.
    shared: Option<&'static str>,
    count: u32,
    per: Duration,
}

fn quota(count: u32, per: Duration) -> Quota {
    let count = NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = (per / count.get()).max(Duration::from_millis(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(count)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl<K: Hash + Eq + Clone + std::fmt::Display> Limit<K> {
    fn new(count: u32, per: Duration) -> Self {
        Limit {
            counter: RateLimiter::keyed(quota(count, per)),
            refused: Mutex::new(HashMap::new()),
            shared: None,
            count,
            per,
        }
    }

    /// The same limit, counted in the store too (under `name`) when there is one to share.
    fn shared_as(mut self, name: &'static str) -> Self {
        self.shared = Some(name);
        self
    }

    /// The store counter of `key` for the window holding `now`, and when that window ends.
    fn window(&self, name: &str, key: &K, now: i64) -> (String, i64) {
        let per = self.per.as_secs().max(1) as i64;
        let start = now - now.rem_euclid(per);
        (format!("{name}:{key}:{start}"), start + per)
    }

    /// Reads (`by == 0`) or adds to the shared counter of `key`; answers how long the key is
    /// refused when the counter is past the limit. A store that fails leaves the process's
    /// own counter in charge.
    async fn shared_count(&self, store: Option<&Store>, key: &K, by: i64) -> Option<Duration> {
        let (name, shared) = (self.shared?, store?.shared()?);
        let now = unix_now();
        let (counter, ends) = self.window(name, key, now);
        match shared.count_until(&counter, by, ends).await {
            Ok(n) if n > i64::from(self.count) => {
                Some(Duration::from_secs((ends - now).max(1) as u64))
            }
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(%err, "shared rate-limit counter unavailable");
                None
            }
        }
    }

    /// [`Limit::refused_for`], then the shared counter.
    async fn refused(&self, store: Option<&Store>, key: &K) -> Option<Duration> {
        match self.refused_for(key) {
            Some(wait) => Some(wait),
            None => self.shared_count(store, key, 0).await,
        }
    }

    /// [`Limit::count`], and the shared counter; the longer refusal wins.
    async fn counted(&self, store: Option<&Store>, key: &K) -> Option<Duration> {
        let here = self.count(key);
        let everywhere = self.shared_count(store, key, 1).await;
        match (here, everywhere) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long `key` is still refused, if it is.
    fn refused_for(&self, key: &K) -> Option<Duration> {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        let until = *refused.get(key)?;
        let now = Instant::now();
        if until > now {
            Some(until - now)
        } else {
            refused.remove(key);
            None
        }
    }

    /// Counts an event of `key`; answers how long the key is refused when there was no room.
    fn count(&self, key: &K) -> Option<Duration> {
        match self.counter.check_key(key) {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
                refused.insert(key.clone(), Instant::now() + wait);
                Some(wait)
            }
        }
    }

    /// Forgets keys whose counters are full again and refusals that are over.
    fn sweep(&self) {
        self.counter.retain_recent();
        self.counter.shrink_to_fit();
        let now = Instant::now();
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.retain(|_, until| *until > now);
        refused.shrink_to_fit();
    }
}

/// Every limit of the server; shared by all workers.
pub struct Throttle {
    failures_per_account: Limit<String>,
    failures_per_address: Limit<IpAddr>,
    attempts_per_address: Limit<IpAddr>,
    signups_per_address: Limit<IpAddr>,
    code_requests_per_address: Limit<IpAddr>,
    /// The store whose counters several servers share (MongoDB), if any.
    store: Option<Store>,
}

/// The longest login kept as a key: longer than any email; a longer one is cut (it matches
/// no account anyway), so a client cannot fill memory with megabyte-long keys.
const MAX_LOGIN_CHARS: usize = 320;

/// The key a login is counted under: as sign-in compares it (trimmed, any case), bounded.
fn account_key(login: &str) -> String {
    login
        .trim()
        .chars()
        .take(MAX_LOGIN_CHARS)
        .collect::<String>()
        .to_lowercase()
}

/// The login a sign-in body names in `field`, read as the sign-in reads it (numbers too).
pub fn login_of(input: &crate::domain::input::Input, field: &str) -> String {
    match input.raw(field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Counts an event of `address` under `limit`, refusing (429) while it has no room.
async fn per_address(
    limit: &Limit<IpAddr>,
    store: Option<&Store>,
    address: Option<IpAddr>,
) -> Result<(), ApiError> {
    let Some(address) = address else {
        return Ok(());
    };
    let refused = match limit.refused(store, &address).await {
        Some(wait) => Some(wait),
        None => limit.counted(store, &address).await,
    };
    match refused {
        Some(wait) => Err(throttled(wait)),
        None => Ok(()),
    }
}

fn throttled(wait: Duration) -> ApiError {
    ApiError::throttled(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
}

impl Throttle {
    pub fn new(limits: Limits) -> Throttle {
        let minute = Duration::from_secs(60);
        let (failures, window) = (limits.failures_per_account, limits.failure_window);
        Throttle {
            failures_per_account: Limit::new(failures, window).shared_as("failures_per_account"),
            failures_per_address: Limit::new(limits.failures_per_address, window)
                .shared_as("failures_per_address"),
            attempts_per_address: Limit::new(limits.attempts_per_address_per_minute, minute),
            signups_per_address: Limit::new(limits.signups_per_address_per_hour, 60 * minute)
                .shared_as("signups_per_address"),
            // As many code requests as sign-ups: each sign-up may need its code again.
            code_requests_per_address: Limit::new(limits.signups_per_address_per_hour, 60 * minute)
                .shared_as("code_requests_per_address"),
            store: None,
        }
    }

    /// The limits, counted in `store` too when several servers share it (MongoDB); on the
    /// embedded store, the same as [`Throttle::new`].
    pub fn sharing(limits: Limits, store: &Store) -> Throttle {
        Throttle {
            store: store.shared().is_some().then(|| store.clone()),
            ..Throttle::new(limits)
        }
    }

    /// Before a sign-in with `login` (an email or a username, any case) from `address`:
    /// refuses (429) while either has run out, and counts the attempt for the address.
    pub async fn before_sign_in(
        &self,
        login: &str,
        address: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let store = self.store.as_ref();
        let account = account_key(login);
        if let Some(wait) = self.failures_per_account.refused(store, &account).await {
            return Err(throttled(wait));
        }
        if let Some(address) = address {
            let refused = match self.failures_per_address.refused(store, &address).await {
                Some(wait) => Some(wait),
                None => self
                    .attempts_per_address
                    .refused_for(&address)
                    .or_else(|| self.attempts_per_address.count(&address)),
            };
            if let Some(wait) = refused {
                return Err(throttled(wait));
            }
        }
        Ok(())
    }

    /// After a failed sign-in (or a wrong one-time code) for `login` from `address`: counts
    /// it, and answers the 429 to send instead of the failure when it was one too many.
    pub async fn failed(&self, login: &str, address: Option<IpAddr>) -> Option<ApiError> {
        let store = self.store.as_ref();
        let account = account_key(login);
        let mut refused = self.failures_per_account.counted(store, &account).await;
        if refused.is_some() {
            tracing::warn!("sign-in failures for one login over the limit: refused for now");
        }
        if let Some(address) = address {
            if let Some(wait) = self.failures_per_address.counted(store, &address).await {
                tracing::warn!(%address, "sign-in failures from one address over the limit");
                refused = Some(refused.map_or(wait, |w| w.max(wait)));
            }
        }
        refused.map(throttled)
    }

    /// Before a lookup of a group's join code from `address`: refused (429) while the
    /// address has run out of sign-in failures or attempts (a wrong code counts as a failed
    /// sign-in, so guessing codes is limited as guessing passwords is); counts the attempt.
    pub async fn before_join(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(address) = address else {
            return Ok(());
        };
        let refused = match self
            .failures_per_address
            .refused(self.store.as_ref(), &address)
            .await
        {
            Some(wait) => Some(wait),
            None => self
                .attempts_per_address
                .refused_for(&address)
                .or_else(|| self.attempts_per_address.count(&address)),
        };
        refused.map_or(Ok(()), |wait| Err(throttled(wait)))
    }

    /// After a join code that opened nothing from `address`: counts the failure, answering
    /// the 429 to send instead when it was one too many.
    pub async fn join_failed(&self, address: Option<IpAddr>) -> Option<ApiError> {
        let address = address?;
        let wait = self
            .failures_per_address
            .counted(self.store.as_ref(), &address)
            .await?;
        tracing::warn!(%address, "wrong join codes from one address over the limit");
        Some(throttled(wait))
    }

    /// Before creating an account from `address`: counts it, refusing (429) past the limit.
    pub async fn sign_up(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        per_address(&self.signups_per_address, self.store.as_ref(), address).await
    }

    /// Before sending a new one-time code on request from `address`: counts it, refusing
    /// (429) past the limit (as many per hour as sign-ups).
    pub async fn code_request(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        per_address(
            &self.code_requests_per_address,
            self.store.as_ref(),
            address,
        )
        .await
    }

    /// Forgets what no longer limits anyone; run now and then so that memory stays bounded
    /// by the keys active within a window, not by every key ever seen.
    pub fn sweep(&self) {
        self.failures_per_account.sweep();
        self.failures_per_address.sweep();
        self.attempts_per_address.sweep();
        self.signups_per_address.sweep();
        self.code_requests_per_address.sweep();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> Limits {
        Limits {
            failures_per_account: 3,
            failures_per_address: 5,
            failure_window: Duration::from_secs(600),
            attempts_per_address_per_minute: 1000,
            signups_per_address_per_hour: 2,
        }
    }

    #[tokio::test]
    async fn failures_run_an_account_out_and_successes_do_not() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..50 {
            assert!(throttle.before_sign_in("ada", address).await.is_ok());
        }
        for _ in 0..3 {
            assert!(throttle.before_sign_in("Ada", address).await.is_ok());
            assert!(throttle.failed("ada", address).await.is_none());
        }
        assert!(throttle.failed("ada", address).await.is_some());
        let refused = throttle.before_sign_in("ADA ", address).await.unwrap_err();
        assert_eq!(refused.error_code(), crate::error::ErrorCode::Throttled);
        assert!(throttle.before_sign_in("grace", address).await.is_ok());
    }

    #[tokio::test]
    async fn an_address_guessing_across_accounts_runs_out() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 2]));
        for n in 0..5 {
            assert!(throttle
                .failed(&format!("user{n}"), address)
                .await
                .is_none());
        }
        assert!(throttle.failed("user5", address).await.is_some());
        assert!(throttle.before_sign_in("someone", address).await.is_err());
        assert!(throttle
            .before_sign_in("someone", Some(IpAddr::from([10, 0, 0, 3])))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn code_requests_per_address_are_limited() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 5]));
        assert!(throttle.code_request(address).await.is_ok());
        assert!(throttle.code_request(address).await.is_ok());
        assert!(throttle.code_request(address).await.is_err());
        assert!(throttle
            .code_request(Some(IpAddr::from([10, 0, 0, 6])))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn wrong_join_codes_run_an_address_out_like_wrong_passwords() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 7]));
        for _ in 0..5 {
            assert!(throttle.before_join(address).await.is_ok());
            assert!(throttle.join_failed(address).await.is_none());
        }
        assert!(throttle.join_failed(address).await.is_some());
        assert!(throttle.before_join(address).await.is_err());
        assert!(throttle.before_sign_in("someone", address).await.is_err());
        assert!(throttle
            .before_join(Some(IpAddr::from([10, 0, 0, 8])))
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn sign_ups_per_address_are_limited() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 4]));
        assert!(throttle.sign_up(address).await.is_ok());
        assert!(throttle.sign_up(address).await.is_ok());
        assert!(throttle.sign_up(address).await.is_err());
    }
}
