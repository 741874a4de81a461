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

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// One counted limit: the counter, and the keys refused until a moment (a key is refused
/// once a counted event found no room, until the counter has room again).
struct Limit<K: Hash + Eq + Clone> {
    counter: Keyed<K>,
    refused: Mutex<HashMap<K, Instant>>,
}

fn quota(count: u32, per: Duration) -> Quota {
    let count = NonZeroU32::new(count.max(1)).unwrap_or(NonZeroU32::MIN);
    let period = (per / count.get()).max(Duration::from_millis(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(count)
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(count: u32, per: Duration) -> Self {
        Limit {
            counter: RateLimiter::keyed(quota(count, per)),
            refused: Mutex::new(HashMap::new()),
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
fn per_address(limit: &Limit<IpAddr>, address: Option<IpAddr>) -> Result<(), ApiError> {
    let Some(address) = address else {
        return Ok(());
    };
    match limit
        .refused_for(&address)
        .or_else(|| limit.count(&address))
    {
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
        Throttle {
            failures_per_account: Limit::new(limits.failures_per_account, limits.failure_window),
            failures_per_address: Limit::new(limits.failures_per_address, limits.failure_window),
            attempts_per_address: Limit::new(limits.attempts_per_address_per_minute, minute),
            signups_per_address: Limit::new(limits.signups_per_address_per_hour, 60 * minute),
            // As many code requests as sign-ups: each sign-up may need its code again.
            code_requests_per_address: Limit::new(limits.signups_per_address_per_hour, 60 * minute),
        }
    }

    /// Before a sign-in with `login` (an email or a username, any case) from `address`:
    /// refuses (429) while either has run out, and counts the attempt for the address.
    pub fn before_sign_in(&self, login: &str, address: Option<IpAddr>) -> Result<(), ApiError> {
        let account = account_key(login);
        if let Some(wait) = self.failures_per_account.refused_for(&account) {
            return Err(throttled(wait));
        }
        if let Some(address) = address {
            let refused = self
                .failures_per_address
                .refused_for(&address)
                .or_else(|| self.attempts_per_address.refused_for(&address))
                .or_else(|| self.attempts_per_address.count(&address));
            if let Some(wait) = refused {
                return Err(throttled(wait));
            }
        }
        Ok(())
    }

    /// After a failed sign-in (or a wrong one-time code) for `login` from `address`: counts
    /// it, and answers the 429 to send instead of the failure when it was one too many.
    pub fn failed(&self, login: &str, address: Option<IpAddr>) -> Option<ApiError> {
        let account = account_key(login);
        let mut refused = self.failures_per_account.count(&account);
        if refused.is_some() {
            tracing::warn!("sign-in failures for one login over the limit: refused for now");
        }
        if let Some(address) = address {
            if let Some(wait) = self.failures_per_address.count(&address) {
                tracing::warn!(%address, "sign-in failures from one address over the limit");
                refused = Some(refused.map_or(wait, |w| w.max(wait)));
            }
        }
        refused.map(throttled)
    }

    /// Before a lookup of a group's join code from `address`: refused (429) while the
    /// address has run out of sign-in failures or attempts (a wrong code counts as a failed
    /// sign-in, so guessing codes is limited as guessing passwords is); counts the attempt.
    pub fn before_join(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(address) = address else {
            return Ok(());
        };
        let refused = self
            .failures_per_address
            .refused_for(&address)
            .or_else(|| self.attempts_per_address.refused_for(&address))
            .or_else(|| self.attempts_per_address.count(&address));
        refused.map_or(Ok(()), |wait| Err(throttled(wait)))
    }

    /// After a join code that opened nothing from `address`: counts the failure, answering
    /// the 429 to send instead when it was one too many.
    pub fn join_failed(&self, address: Option<IpAddr>) -> Option<ApiError> {
        let address = address?;
        let wait = self.failures_per_address.count(&address)?;
        tracing::warn!(%address, "wrong join codes from one address over the limit");
        Some(throttled(wait))
    }

    /// Before creating an account from `address`: counts it, refusing (429) past the limit.
    pub fn sign_up(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        per_address(&self.signups_per_address, address)
    }

    /// Before sending a new one-time code on request from `address`: counts it, refusing
    /// (429) past the limit (as many per hour as sign-ups).
    pub fn code_request(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        per_address(&self.code_requests_per_address, address)
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

    #[test]
    fn failures_run_an_account_out_and_successes_do_not() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..50 {
            assert!(throttle.before_sign_in("ada", address).is_ok());
        }
        for _ in 0..3 {
            assert!(throttle.before_sign_in("Ada", address).is_ok());
            assert!(throttle.failed("ada", address).is_none());
        }
        assert!(throttle.failed("ada", address).is_some());
        let refused = throttle.before_sign_in("ADA ", address).unwrap_err();
        assert_eq!(refused.error_code(), crate::error::ErrorCode::Throttled);
        assert!(throttle.before_sign_in("grace", address).is_ok());
    }

    #[test]
    fn an_address_guessing_across_accounts_runs_out() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 2]));
        for n in 0..5 {
            assert!(throttle.failed(&format!("user{n}"), address).is_none());
        }
        assert!(throttle.failed("user5", address).is_some());
        assert!(throttle.before_sign_in("someone", address).is_err());
        assert!(throttle
            .before_sign_in("someone", Some(IpAddr::from([10, 0, 0, 3])))
            .is_ok());
    }

    #[test]
    fn code_requests_per_address_are_limited() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 5]));
        assert!(throttle.code_request(address).is_ok());
        assert!(throttle.code_request(address).is_ok());
        assert!(throttle.code_request(address).is_err());
        assert!(throttle
            .code_request(Some(IpAddr::from([10, 0, 0, 6])))
            .is_ok());
    }

    #[test]
    fn wrong_join_codes_run_an_address_out_like_wrong_passwords() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 7]));
        for _ in 0..5 {
            assert!(throttle.before_join(address).is_ok());
            assert!(throttle.join_failed(address).is_none());
        }
        assert!(throttle.join_failed(address).is_some());
        assert!(throttle.before_join(address).is_err());
        assert!(throttle.before_sign_in("someone", address).is_err());
        assert!(throttle
            .before_join(Some(IpAddr::from([10, 0, 0, 8])))
            .is_ok());
    }

    #[test]
    fn sign_ups_per_address_are_limited() {
        let throttle = Throttle::new(tight());
        let address = Some(IpAddr::from([10, 0, 0, 4]));
        assert!(throttle.sign_up(address).is_ok());
        assert!(throttle.sign_up(address).is_ok());
        assert!(throttle.sign_up(address).is_err());
    }
}
