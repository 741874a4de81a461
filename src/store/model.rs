//! The stored documents. These are storage shapes, not wire shapes: the API module decides
//! what a client sees (a password hash, for one, never leaves the server).

use serde::{Deserialize, Serialize};

use super::Document;

macro_rules! document {
    ($ty:ty, $collection:literal) => {
        impl Document for $ty {
            const COLLECTION: &'static str = $collection;
            fn id(&self) -> i64 {
                self.id
            }
            fn set_id(&mut self, id: i64) {
                self.id = id;
            }
        }
    };
}

/// A registered user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: i64,
    /// As typed at registration.
    pub email: String,
    /// Lower-cased, for the case-insensitive unique index and log-in.
    pub email_lower: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub photo: Option<String>,
    /// Teacher rights in their organization, granted (by owning it or by its owner's
    /// confirmation).
    pub is_teacher: bool,
    /// Asked for teacher rights that the organization's owner has not confirmed yet.
    #[serde(default)]
    pub teacher_requested: bool,
    pub organization_id: Option<i64>,
    /// Bumped to revoke every token issued before (password change); tokens carry it.
    #[serde(default)]
    pub token_generation: i64,
    /// Unix seconds.
    pub date_joined: i64,
}
document!(User, "users");

/// An organization: teachers, students, their groups and tests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub owner_id: i64,
}
document!(Organization, "organizations");

/// A group of users of one organization; tests are made available to groups.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// User ids, in the order they were added.
    #[serde(default)]
    pub members: Vec<i64>,
}
document!(Group, "groups");

/// A revoked token (by its `jti`), kept until it would have expired anyway.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevokedToken {
    pub id: i64,
    pub jti: String,
    /// Unix seconds.
    pub expires_at: i64,
}
document!(RevokedToken, "revoked_tokens");

/// A revoked refresh-token family: every refresh token descended from one log-in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RevokedFamily {
    pub id: i64,
    pub family: String,
    /// Unix seconds.
    pub expires_at: i64,
}
document!(RevokedFamily, "revoked_families");

/// A refresh token already exchanged under rotation; a second use is a reuse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UsedRefreshToken {
    pub id: i64,
    pub jti: String,
    pub family: String,
    /// Unix seconds.
    pub expires_at: i64,
}
document!(UsedRefreshToken, "used_refresh_tokens");
