//! Revoked log-ins (refresh-token families), in memory, so that every request can refuse
//! an access token of a revoked family without reading the store.
//!
//! The store's `RevokedFamily` collection stays the record (refresh checks it, and it
//! survives restarts); this set mirrors it: filled from it at start, added to on each
//! revocation by this server. Access tokens carry their family (`family` claim), and the
//! [`AuthUser`](super::AuthUser) extractor looks it up here.
//!
//! Several processes on one store each keep such a set: each reads what the others
//! revoked with [`RevokedFamilies::catch_up`] (`cluster.rs` calls it every 250 ms).

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use crate::store::{Filter, RevokedFamily, Store, StoreError};

/// How many ids below the largest one read [`RevokedFamilies::catch_up`] reads again.
const CATCH_UP_OVERLAP: i64 = 64;

/// Families revoked recently enough that tokens of theirs may still be unexpired.
pub struct RevokedFamilies {
    /// Family → Unix second after which no token of it can still be valid.
    families: RwLock<HashMap<String, i64>>,
    /// How long after a revocation a token of the family may live: every access token of
    /// the family was issued before it, and lives at most the longer token lifetime.
    keep: i64,
}

impl RevokedFamilies {
    pub fn new(access_ttl: Duration, refresh_ttl: Duration) -> RevokedFamilies {
        RevokedFamilies {
            families: RwLock::new(HashMap::new()),
            keep: access_ttl.max(refresh_ttl).as_secs() as i64,
        }
    }

    /// The set as the store records it at `now`. A stored revocation happened before its
    /// `expires_at` (the revoked refresh token was still valid), so a family whose
    /// `expires_at` is more than `keep` ago has no live token left and is not loaded.
    pub async fn load(
        store: &Store,
        access_ttl: Duration,
        refresh_ttl: Duration,
        now: i64,
    ) -> Result<RevokedFamilies, StoreError> {
        let set = RevokedFamilies::new(access_ttl, refresh_ttl);
        let stored = store
            .repo::<RevokedFamily>()
            .find(&Filter::All, None)
            .await?;
        {
            let mut families = set.write();
            for doc in stored {
                let until = doc.expires_at + set.keep;
                if until > now {
                    let entry = families.entry(doc.family).or_insert(until);
                    *entry = (*entry).max(until);
                }
            }
        }
        Ok(set)
    }

    /// Records a revocation made at `now`, dropping entries that can no longer matter.
    pub fn insert(&self, family: String, now: i64) {
        let mut families = self.write();
        families.retain(|_, until| *until > now);
        families.insert(family, now + self.keep);
    }

    /// Adds the revocations stored since the last call (`seen`: the largest id read so far,
    /// 0 at first). Ids are drawn before their documents are written, so a revocation may
    /// land just below one already read: the last [`CATCH_UP_OVERLAP`] ids are read again.
    pub async fn catch_up(&self, store: &Store, seen: &mut i64) -> Result<(), StoreError> {
        let after = if *seen == 0 {
            0
        } else {
            (*seen - CATCH_UP_OVERLAP).max(0)
        };
        let stored = store
            .repo::<RevokedFamily>()
            .find(&Filter::IdAfter(after), None)
            .await?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        for doc in stored {
            *seen = (*seen).max(doc.id);
            if doc.expires_at + self.keep > now && !self.contains(&doc.family) {
                self.insert(doc.family, now);
            }
        }
        Ok(())
    }

    pub fn contains(&self, family: &str) -> bool {
        self.families
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains_key(family)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, i64>> {
        // The map is never left half-updated, so a panic elsewhere does not spoil it.
        self.families
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.families.read().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_dropped_once_no_token_of_theirs_can_be_alive() {
        let set = RevokedFamilies::new(Duration::from_secs(300), Duration::from_secs(1000));
        set.insert("old".into(), 0);
        assert!(set.contains("old"));
        set.insert("new".into(), 999);
        assert!(set.contains("old"), "still within the refresh lifetime");
        set.insert("newer".into(), 1001);
        assert!(!set.contains("old"));
        assert!(set.contains("new") && set.contains("newer"));
        assert_eq!(set.len(), 2);
    }
}
