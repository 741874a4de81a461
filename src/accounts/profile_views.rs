//! What clients see of accounts through seed 002's `/api/v1/accounts/users/…` (typed; the
//! OpenAPI schemas derive from these types).

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::User;

use crate::domain::moment::timestamp;

/// The gender choices (`domain::Gender`), for the document only.
#[derive(ToSchema)]
#[schema(as = GenderChoice)]
#[allow(dead_code)] // Read by the schema derive only.
pub enum GenderChoice {
    /// Male.
    M,
    /// Female.
    F,
    /// Other, or rather not say.
    O,
}

/// The account as `POST` and `PATCH /api/v1/accounts/users/…` answer it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountSummary)]
pub struct AccountSummaryOut {
    pub id: i64,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// E.164: `+` and 8 to 15 digits.
    #[schema(example = "+1234567890")]
    pub phone: Option<String>,
    #[schema(value_type = Option<GenderChoice>)]
    pub gender: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "US")]
    pub country: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The account as `GET /api/v1/accounts/users/{id}/` answers it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub struct AccountOut {
    pub id: i64,
    /// `""` for an account without one (seed 001's sign-up without an email, a Facebook
    /// user who shares none): the field is a string, as the seeds type it.
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[schema(example = "+1234567890")]
    pub phone: Option<String>,
    /// A URL or path, as the client set it through `/api/users/me`.
    pub photo: Option<String>,
    pub address: Option<String>,
    #[schema(value_type = Option<GenderChoice>)]
    pub gender: Option<String>,
    #[schema(example = "US")]
    pub country: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub birthday: Option<String>,
    /// The profile a course needs is complete: first and last name, phone, gender and
    /// country are all set (accounts made through other doors may lack them).
    pub has_initial_profile: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `POST /api/v1/accounts/users/`'s answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AccountCreated)]
pub struct AccountCreatedOut {
    /// Always `Email sent successfully!`: the code is on its way (delivery happens in the
    /// background).
    pub msg: &'static str,
    pub data: AccountSummaryOut,
}

/// The 404 answer of `/api/v1/accounts/users/{id}/`, the same for a missing id and for an
/// account the caller may not see (so ids cannot be probed).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UserNotFound)]
pub struct UserNotFoundOut {
    #[schema(example = "User not found")]
    pub error: &'static str,
}

pub const USER_NOT_FOUND: UserNotFoundOut = UserNotFoundOut {
    error: "User not found",
};

/// `POST /api/v1/accounts/users/resend/`'s answer, whatever the address.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CodeResent)]
pub struct CodeResentOut {
    pub msg: &'static str,
}

pub const CODE_RESENT: CodeResentOut = CodeResentOut {
    msg: "If an account with this email waits for verification, a new code was sent to it.",
};

fn updated_at(user: &User) -> i64 {
    if user.updated_at > 0 {
        user.updated_at
    } else {
        user.date_joined
    }
}

/// The profile fields a course needs are all set.
pub fn has_initial_profile(user: &User) -> bool {
    !user.first_name.is_empty()
        && !user.last_name.is_empty()
        && user.phone.is_some()
        && user.gender.is_some()
        && user.country.is_some()
}

pub fn summary(user: &User) -> AccountSummaryOut {
    AccountSummaryOut {
        id: user.id,
        email: user.email.clone().unwrap_or_default(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        phone: user.phone.clone(),
        gender: user.gender.clone(),
        country: user.country.clone(),
        created_at: timestamp(user.date_joined),
        updated_at: timestamp(updated_at(user)),
    }
}

pub fn account(user: &User) -> AccountOut {
    AccountOut {
        id: user.id,
        email: user.email.clone().unwrap_or_default(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        phone: user.phone.clone(),
        photo: user.photo.clone(),
        address: user.address.clone(),
        gender: user.gender.clone(),
        country: user.country.clone(),
        birthday: user.birthday.clone(),
        has_initial_profile: has_initial_profile(user),
        created_at: timestamp(user.date_joined),
        updated_at: timestamp(updated_at(user)),
    }
}

pub fn created(user: &User) -> AccountCreatedOut {
    AccountCreatedOut {
        msg: "Email sent successfully!",
        data: summary(user),
    }
}
