//! Authentication: password hashing, JSON web tokens and the [`AuthUser`] extractor.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod revoked;

pub use extractor::AuthUser;
pub use jwt::{Claims, JwtKeys, TokenType};
pub use revoked::RevokedFamilies;
