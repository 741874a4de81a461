//! Domain types that are parsed once at the edge and trusted afterwards.

mod email;
pub mod grading;
mod name;
mod password;
pub mod text;

pub use email::Email;
pub use name::Name;
pub use password::Password;
