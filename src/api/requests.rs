//! The documented shapes of request bodies, for the OpenAPI document.
//!
//! Bodies are read field by field with [`crate::domain::input::Input`] (so one 400 names
//! every bad field, as DRF does, and numbers may come as strings in form data); these types
//! say what those readers accept. The derive takes literal limits only: a test below checks
//! each against the readers' own constant.

#![allow(dead_code)] // Fields are read by the schema derive only.

use utoipa::ToSchema;

use crate::testing::views::Kind;

/// Registration.
#[derive(ToSchema)]
pub struct UserRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: String,
    #[schema(max_length = 150)]
    first_name: String,
    #[schema(max_length = 150)]
    last_name: String,
    #[schema(max_length = 2048)]
    photo: Option<String>,
    /// Ask for teacher rights (granted by the organization's owner).
    is_teacher: Option<bool>,
    #[schema(write_only)]
    organization_id: Option<i64>,
}

/// `PUT /api/users/me`: a new password or email needs `current_password`.
#[derive(ToSchema)]
pub struct UserUpdateRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: Option<String>,
    #[schema(max_length = 150)]
    first_name: String,
    #[schema(max_length = 150)]
    last_name: String,
    #[schema(max_length = 2048)]
    photo: Option<String>,
    is_teacher: Option<bool>,
    #[schema(write_only)]
    organization_id: Option<i64>,
    /// The account's password: required to change the password or the email.
    #[schema(write_only)]
    current_password: Option<String>,
}

/// `PATCH /api/users/me`: any of the fields; a new password or email needs
/// `current_password`.
#[derive(ToSchema)]
pub struct PatchedUserRequest {
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    #[schema(max_length = 2048)]
    photo: Option<String>,
    is_teacher: Option<bool>,
    #[schema(write_only)]
    organization_id: Option<i64>,
    /// The account's password: required to change the password or the email.
    #[schema(write_only)]
    current_password: Option<String>,
}

/// `POST /api/users/signup` (seed 001): a username and a password; the rest optional.
#[derive(ToSchema)]
pub struct SignUpRequest {
    #[schema(min_length = 1, max_length = 150, pattern = r"^[\w.@+-]+$")]
    username: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: String,
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
}

/// `POST /api/users/signin` (seed 001): a username (or, for an account without one, its
/// email) and the password.
#[derive(ToSchema)]
pub struct SignInRequest {
    username: String,
    #[schema(write_only)]
    password: String,
}

/// `PUT /api/users/{id}` (seed 001): any of the fields. `person` is for superusers; a
/// password (with `current_password`, also needed for a new email) for the owner only.
#[derive(ToSchema)]
pub struct UserChangeRequest {
    #[schema(min_length = 1, max_length = 150, pattern = r"^[\w.@+-]+$")]
    username: Option<String>,
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    #[schema(max_length = 2048)]
    photo: Option<String>,
    person: Option<i64>,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: Option<String>,
    #[schema(write_only)]
    current_password: Option<String>,
}

/// Permission ids (`GET /api/permissions/` lists them).
#[derive(ToSchema)]
pub struct PermissionsRequest {
    #[schema(min_items = 1)]
    permissions: Vec<i64>,
}

/// Seed 002's sign-up: `confirm_password` must equal `password`.
#[derive(ToSchema)]
pub struct AccountRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: String,
    #[schema(write_only)]
    confirm_password: String,
    #[schema(max_length = 150)]
    first_name: String,
    #[schema(max_length = 150)]
    last_name: String,
    /// E.164: `+` and 8 to 15 digits, the first not 0.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+1234567890")]
    phone: String,
    gender: crate::accounts::profile_views::GenderChoice,
    /// ISO 3166-1 alpha-2 (an assigned code; any case, answered upper-case).
    #[schema(example = "US", min_length = 2, max_length = 2)]
    country: String,
    /// `YYYY-MM-DD`, not in the future, not before 1900.
    #[schema(format = Date)]
    birthday: Option<String>,
    #[schema(max_length = 255)]
    address: Option<String>,
}

/// Seed 002's profile change: any of the fields. A new email is unverified until its code is
/// entered; changing one's own email needs `current_password`.
#[derive(ToSchema)]
pub struct PatchedAccountRequest {
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+1234567890")]
    phone: Option<String>,
    gender: Option<crate::accounts::profile_views::GenderChoice>,
    #[schema(example = "US", min_length = 2, max_length = 2)]
    country: Option<String>,
    /// `YYYY-MM-DD`; null or blank clears it.
    #[schema(format = Date)]
    birthday: Option<String>,
    /// Null or blank clears it.
    #[schema(max_length = 255)]
    address: Option<String>,
    /// The account's password: required to change one's own email.
    #[schema(write_only)]
    current_password: Option<String>,
}

/// `PUT /api/users/me` as multipart/form-data: the fields as text parts, the photo as a
/// file (an image, told by its bytes; the account then holds the file's URL).
#[derive(ToSchema)]
pub struct UserUpdateMultipartRequest {
    #[schema(format = Email)]
    email: String,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: Option<String>,
    #[schema(max_length = 150)]
    first_name: String,
    #[schema(max_length = 150)]
    last_name: String,
    /// A JPEG, PNG, GIF or WebP image.
    #[schema(format = Binary)]
    photo: Option<String>,
    is_teacher: Option<bool>,
    #[schema(write_only)]
    organization_id: Option<i64>,
    #[schema(write_only)]
    current_password: Option<String>,
}

/// `PATCH /api/users/me` as multipart/form-data: any of the fields as text parts, the
/// photo as a file.
#[derive(ToSchema)]
pub struct PatchedUserMultipartRequest {
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(write_only, min_length = 8, max_length = 128)]
    password: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    /// A JPEG, PNG, GIF or WebP image.
    #[schema(format = Binary)]
    photo: Option<String>,
    is_teacher: Option<bool>,
    #[schema(write_only)]
    organization_id: Option<i64>,
    #[schema(write_only)]
    current_password: Option<String>,
}

/// Seed 002's profile change as multipart/form-data: the fields as text parts, and the
/// photo, which only this form sets, as a file.
#[derive(ToSchema)]
pub struct PatchedAccountMultipartRequest {
    #[schema(format = Email)]
    email: Option<String>,
    #[schema(max_length = 150)]
    first_name: Option<String>,
    #[schema(max_length = 150)]
    last_name: Option<String>,
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$", example = "+1234567890")]
    phone: Option<String>,
    gender: Option<crate::accounts::profile_views::GenderChoice>,
    #[schema(example = "US", min_length = 2, max_length = 2)]
    country: Option<String>,
    /// `YYYY-MM-DD`; blank clears it.
    #[schema(format = Date)]
    birthday: Option<String>,
    /// Blank clears it.
    #[schema(max_length = 255)]
    address: Option<String>,
    /// A JPEG, PNG, GIF or WebP image.
    #[schema(format = Binary)]
    photo: Option<String>,
    #[schema(write_only)]
    current_password: Option<String>,
}

/// The emailed code, with the address it was sent to.
#[derive(ToSchema)]
pub struct VerifyEmailRequest {
    #[schema(format = Email)]
    email: String,
    /// 6 digits.
    #[schema(pattern = "^[0-9]{6}$", example = "123456")]
    code: String,
    /// The account's password: the one its sign-up (the last one, if several) chose. A
    /// verification without it fails, so an unverified account never keeps a password its
    /// mailbox's owner did not choose.
    #[schema(format = Password)]
    password: String,
}

#[derive(ToSchema)]
pub struct ResendCodeRequest {
    #[schema(format = Email)]
    email: String,
}

#[derive(ToSchema)]
pub struct UserRefRequest {
    user: i64,
}

#[derive(ToSchema)]
pub struct OrganizationRequest {
    #[schema(max_length = 150)]
    name: String,
    description: Option<String>,
}

#[derive(ToSchema)]
pub struct GroupRequest {
    #[schema(max_length = 150)]
    name: String,
    description: Option<String>,
    /// User ids (or user objects with an id) of the organization.
    members: Option<Vec<i64>>,
}

#[derive(ToSchema)]
pub struct GroupRefRequest {
    group: i64,
    /// `allow_for_group` only: the group's own window, replacing the test's for its
    /// members (RFC 3339). Allowing without either drops the group's window.
    #[schema(format = DateTime)]
    opens_at: Option<String>,
    #[schema(format = DateTime)]
    closes_at: Option<String>,
}

/// `POST /api/tests/import/`.
#[derive(ToSchema)]
pub struct ImportRequest {
    /// The file's text: Moodle XML or GIFT.
    #[schema(max_length = 524288)]
    file: String,
    /// `moodle_xml` or `gift`; absent: XML when the file starts with `<`.
    format: Option<String>,
    /// The test's name; absent: the file's category, else "Imported questions".
    #[schema(max_length = 150)]
    name: Option<String>,
    /// Group ids the test is available for.
    available_for: Option<Vec<i64>>,
}

/// `POST /api/tests/{id}/regrade/`.
#[derive(ToSchema)]
pub struct RegradeRequest {
    /// Ids of the test's questions to regrade; absent or empty: all.
    questions: Option<Vec<i64>>,
    /// Report what would change and store nothing.
    dry_run: Option<bool>,
}

#[derive(ToSchema)]
pub struct TokenObtainPairRequest {
    #[schema(write_only)]
    email: String,
    #[schema(write_only)]
    password: String,
}

#[derive(ToSchema)]
pub struct TokenRefreshRequest {
    refresh: String,
}

/// Log-out: the refresh token to revoke, or none when an access token is sent in
/// `Authorization`.
#[derive(ToSchema)]
pub struct TokenRevokeRequest {
    refresh: Option<String>,
}

#[derive(ToSchema)]
pub struct VariantRequest {
    /// Keeps the variant's id when it names one the question has.
    id: Option<i64>,
    #[schema(max_length = 10000)]
    text: String,
    is_correct: Option<bool>,
}

#[derive(ToSchema)]
pub struct QuestionBodyRequest {
    #[schema(max_items = 100)]
    variants: Option<Vec<VariantRequest>>,
    /// Code questions only: checked in the sandbox as the test is saved.
    testing_code: Option<String>,
    /// Code questions: all points or none (true), or points for each passing check.
    strict_score: Option<bool>,
    /// Code questions: the answers' language (default python); one whose runtime is
    /// unavailable is refused.
    language: Option<CodeLanguage>,
    /// Code questions: input/output test cases (required for languages other than Python).
    #[schema(max_items = 50)]
    test_cases: Option<Vec<TestCaseRequest>>,
}

#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // documents the accepted values only
pub enum CodeLanguage {
    Python,
    Javascript,
    C,
    Cpp,
}

/// An input/output test case: the answer run with `stdin` must print `expected_output`
/// (trailing whitespace of each line and trailing empty lines aside).
#[derive(ToSchema)]
pub struct TestCaseRequest {
    #[schema(max_length = 65536)]
    stdin: Option<String>,
    #[schema(max_length = 65536)]
    expected_output: String,
    /// Its weight among the question's units (default 1).
    #[schema(minimum = 0, maximum = 32767)]
    points: Option<i64>,
    /// Input and expected output never shown to students (default false).
    hidden: Option<bool>,
}

#[derive(ToSchema)]
pub struct QuestionRequest {
    /// Keeps the question's id when it names one the test has.
    id: Option<i64>,
    #[schema(max_length = 10000)]
    text: String,
    #[schema(rename = "type")]
    kind: Kind,
    #[schema(minimum = 0, maximum = 32767)]
    number_in_test: Option<i64>,
    #[schema(minimum = 0, maximum = 32767)]
    points: Option<i64>,
    body: Option<QuestionBodyRequest>,
}

/// A test: PUT and POST send `name` and `questions`.
#[derive(ToSchema)]
pub struct TestRequest {
    #[schema(max_length = 150)]
    name: String,
    /// Replaces the questions; one sent with the id of an existing question keeps its id.
    #[schema(max_items = 500)]
    questions: Vec<QuestionRequest>,
    /// Group ids (or group objects with an id) of the organization.
    available_for: Option<Vec<i64>>,
    /// Seconds a live attempt may last; null: no limit.
    #[schema(minimum = 1, maximum = 604800)]
    time_limit_seconds: Option<i64>,
    /// Completions a student may submit; null: no limit.
    #[schema(minimum = 1, maximum = 1000)]
    max_attempts: Option<i64>,
    /// Before it the test cannot be taken (RFC 3339); null: open from the start.
    #[schema(format = DateTime)]
    opens_at: Option<String>,
    /// From it the test cannot be taken and live attempts are submitted; null: never.
    #[schema(format = DateTime)]
    closes_at: Option<String>,
}

/// PATCH: any of a test's fields.
#[derive(ToSchema)]
pub struct PatchedTestRequest {
    #[schema(max_length = 150)]
    name: Option<String>,
    #[schema(max_items = 500)]
    questions: Option<Vec<QuestionRequest>>,
    available_for: Option<Vec<i64>>,
    #[schema(minimum = 1, maximum = 604800)]
    time_limit_seconds: Option<i64>,
    #[schema(minimum = 1, maximum = 1000)]
    max_attempts: Option<i64>,
    #[schema(format = DateTime)]
    opens_at: Option<String>,
    #[schema(format = DateTime)]
    closes_at: Option<String>,
}

#[derive(ToSchema)]
pub struct PickedVariantRequest {
    id: Option<i64>,
    text: Option<String>,
}

/// An answer in the shape of its question's kind.
#[derive(ToSchema)]
pub struct AnswerBodyRequest {
    picked_variant: Option<PickedVariantRequest>,
    picked_variants: Option<Vec<PickedVariantRequest>>,
    code: Option<String>,
}

#[derive(ToSchema)]
pub struct AnswerRequest {
    question: i64,
    body: Option<AnswerBodyRequest>,
}

#[derive(ToSchema)]
pub struct CompletionRequest {
    /// The test's public_uuid.
    test: String,
    answers: Vec<AnswerRequest>,
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::domain::{MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
    use crate::testing::authoring::{
        MAX_ATTEMPTS, MAX_QUESTIONS, MAX_SMALL, MAX_TEXT_CHARS, MAX_TIME_LIMIT, MAX_VARIANTS,
    };

    fn schema<T: utoipa::PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn documented_limits_are_the_limits_the_readers_enforce() {
        let user = schema::<super::UserRequest>();
        let password = &user["properties"]["password"];
        assert_eq!(password["minLength"], MIN_PASSWORD_CHARS);
        assert_eq!(password["maxLength"], MAX_PASSWORD_CHARS);
        assert_eq!(
            user["properties"]["first_name"]["maxLength"],
            MAX_NAME_CHARS
        );
        let signup = schema::<super::SignUpRequest>();
        assert_eq!(
            signup["properties"]["username"]["maxLength"],
            crate::domain::MAX_USERNAME_CHARS
        );
        let test = schema::<super::TestRequest>();
        assert_eq!(test["properties"]["name"]["maxLength"], MAX_NAME_CHARS);
        assert_eq!(test["properties"]["questions"]["maxItems"], MAX_QUESTIONS);
        assert_eq!(
            test["properties"]["time_limit_seconds"]["maximum"],
            MAX_TIME_LIMIT
        );
        assert_eq!(test["properties"]["max_attempts"]["maximum"], MAX_ATTEMPTS);
        let question = schema::<super::QuestionRequest>();
        assert_eq!(question["properties"]["text"]["maxLength"], MAX_TEXT_CHARS);
        assert_eq!(question["properties"]["points"]["maximum"], MAX_SMALL);
        let body = schema::<super::QuestionBodyRequest>();
        assert_eq!(body["properties"]["variants"]["maxItems"], MAX_VARIANTS);
    }
}
