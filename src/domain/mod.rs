//! Domain types that are parsed once at the edge and trusted afterwards, the scoring of
//! answers, [`input::Input`], which reads request fields the way a DRF serializer does, and
//! [`clock`], the one clock.

pub mod clock;
mod country;
mod email;
pub mod grading;
pub mod input;
pub mod moment;
mod name;
mod password;
mod profile;
pub mod text;
mod username;

pub use country::Country;
pub use email::Email;
pub use name::{Name, MAX_NAME_CHARS};
pub use password::{Password, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
pub use profile::{Address, Birthday, Gender, Phone, MAX_ADDRESS_CHARS};
pub use username::{Username, MAX_USERNAME_CHARS};
