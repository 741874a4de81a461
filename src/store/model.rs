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

/// A registered user: one account for every API family (seed 003's `/api/users/`, seed
/// 001's `/api/users` with `username`, seed 002's `/api/v1/accounts/users/` with its profile
/// fields, seed 000's `/api/v1/user/`). Fields a family does not know default when absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub id: i64,
    /// As typed; `None` for a seed-001 account created without one, and once deleted.
    #[serde(default)]
    pub email: Option<String>,
    /// Lower-cased, for the case-insensitive unique index and log-in; absent with the email
    /// (the unique index holds for present values only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_lower: Option<String>,
    /// Seed 001's sign-in name; `None` for accounts from the other doors.
    #[serde(default)]
    pub username: Option<String>,
    /// Lower-cased username, unique when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_lower: Option<String>,
    /// PHC string (argon2id); empty once the account is deleted (nothing verifies against it).
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
    /// Bumped to revoke every token issued before (password change, deletion); tokens
    /// carry it.
    #[serde(default)]
    pub token_generation: i64,
    /// Unix seconds.
    pub date_joined: i64,
    /// Unix seconds of the last change of the profile (seed 002's `updated_at`); 0 when
    /// never changed (then `date_joined` stands for it).
    #[serde(default)]
    pub updated_at: i64,
    /// Seed 001's link to a person record, set by administrators only.
    #[serde(default)]
    pub person: Option<i64>,
    /// Granted permission ids (`accounts::permissions::CATALOG`), sorted.
    #[serde(default)]
    pub permissions: Vec<i64>,
    /// Holds every permission, and alone may grant them.
    #[serde(default)]
    pub is_superuser: bool,
    /// Unix seconds of the account's deletion: personal fields erased, no sign-in, shown to
    /// teachers as a deleted student. Stored as `null` while active, so "active" is a plain
    /// equality with null (which also matches documents written before the field existed).
    #[serde(default)]
    pub deleted_at: Option<i64>,
    /// The email waits for its one-time code (accounts made through seed 002's door, or an
    /// email changed there): such an account cannot sign in through any door.
    #[serde(default)]
    pub email_unverified: bool,
    /// A seed-002 sign-up never verified: it holds nothing but what its sign-up sent, so a
    /// new sign-up for its address replaces it (whoever made the first one, perhaps not the
    /// mailbox's owner). Cleared by verification.
    #[serde(default)]
    pub signup_pending: bool,
    /// Seed 002's profile fields, each as validated: E.164 phone, gender choice, ISO 3166-1
    /// alpha-2 country, `YYYY-MM-DD` birthday, free-form address.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub birthday: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// Seed 000: the customer id Stripe gave the account, once it has one.
    #[serde(default)]
    pub stripe_customer_id: Option<String>,
    /// Seed 000: the Facebook user id the account signs in with (linked by this id, never
    /// by email alone); unique when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facebook_id: Option<String>,
    /// Seed 000's shelves: ids of catalog things the user keeps, each a set in added order.
    #[serde(default)]
    pub favorite_teachers: Vec<i64>,
    #[serde(default)]
    pub favorite_courses: Vec<i64>,
    #[serde(default)]
    pub favorite_videos: Vec<i64>,
    #[serde(default)]
    pub favorite_collections: Vec<i64>,
    #[serde(default)]
    pub viewed_videos: Vec<i64>,
    #[serde(default)]
    pub signature_courses: Vec<i64>,
}

impl User {
    /// Whether the account may sign in (through any door) and use its tokens.
    pub fn can_sign_in(&self) -> bool {
        self.deleted_at.is_none() && !self.email_unverified && !self.password_hash.is_empty()
    }

    /// The email, or `""` when the account has none.
    pub fn email_str(&self) -> &str {
        self.email.as_deref().unwrap_or("")
    }
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
    /// The code students join the group with (`organizations::joins`); unique when present,
    /// absent while the group has none or its teachers turned it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_code: Option<String>,
}
document!(Group, "groups");

/// An opaque API key (`Authorization: Token <key>`), stored by its SHA-256 only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    /// Lowercase hex SHA-256 of the key.
    pub key_hash: String,
    pub user_id: i64,
    /// The user's token generation at issue; a later one revokes the key.
    pub generation: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}
document!(ApiKey, "api_keys");

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

/// An emailed one-time code that verifies a user's email (`accounts::codes`): one per user,
/// replaced when another is sent. The code itself is never stored, only SHA-256 of a random
/// salt and the code.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OneTimeCode {
    pub id: i64,
    /// Unique: a new code replaces the user's previous one.
    pub user_id: i64,
    /// The address the code was sent to (lower-cased): it verifies that address only, so a
    /// code sent before an email change cannot verify the new one.
    pub email_lower: String,
    /// Hex of 16 random bytes.
    pub salt: String,
    /// Hex of SHA-256(salt ‖ code).
    pub hash: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Tries spent (right or wrong); at the limit the code is dead.
    pub tries: i64,
}
document!(OneTimeCode, "one_time_codes");

/// When a one-time code was last sent to an address (lower-cased), whether or not an
/// account has it: the once-a-minute limit is kept per address string, so its answers say
/// nothing about which accounts exist.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeSend {
    pub id: i64,
    /// Unique.
    pub email_lower: String,
    /// Unix seconds.
    pub sent_at: i64,
}
document!(CodeSend, "code_sends");

/// A pending password reset (seed 000's `password/reset/`): the emailed link's token is kept
/// as its SHA-256 only, so a copy of the database resets no one's password.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PasswordReset {
    pub id: i64,
    pub user_id: i64,
    /// Lowercase hex SHA-256 of the token; unique.
    pub token_hash: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    /// The account's email and token generation when the link was sent: a link dies once
    /// the email moves or the password changes (both leave a link in the wrong hands).
    #[serde(default)]
    pub email_lower: String,
    #[serde(default)]
    pub generation: i64,
}
document!(PasswordReset, "password_resets");

/// The kinds of question the seed documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// Free text compared with the correct variants.
    Text,
    /// Exactly one correct variant; the student picks one.
    Radio,
    /// One or more correct variants; the student picks any.
    Check,
    /// Code run against `testing_code` in the sandbox.
    Code,
}

impl QuestionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Text => "text",
            QuestionKind::Radio => "radio",
            QuestionKind::Check => "check",
            QuestionKind::Code => "code",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Variant {
    pub id: i64,
    pub text: String,
    pub is_correct: bool,
}

/// A question, nested in its test (and copied into each completion that answers it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Question {
    pub id: i64,
    pub text: String,
    pub kind: QuestionKind,
    pub number_in_test: i64,
    pub points: i64,
    #[serde(default)]
    pub variants: Vec<Variant>,
    #[serde(default)]
    pub testing_code: Option<String>,
    #[serde(default = "default_true")]
    pub strict_score: bool,
    /// Bumped by every edit that changes the question (`testing::authoring`): a completion's
    /// copy says which version it was answered against, and a regrade brings it to the test's.
    #[serde(default)]
    pub version: i64,
    /// Code questions: the language answers are written in.
    #[serde(default)]
    pub language: Language,
    /// Code questions: input/output cases, each run on its own and scored by its points.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_cases: Vec<TestCase>,
}

fn default_true() -> bool {
    true
}

pub use actors::sandbox::Language;

/// An input/output test case of a code question: the answer, run with `stdin` as its
/// standard input, passes when its standard output matches `expected_output` (trailing
/// whitespace of each line and trailing empty lines aside). A hidden case's input and
/// expected output are never shown to students.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestCase {
    #[serde(default)]
    pub stdin: String,
    pub expected_output: String,
    pub points: i64,
    #[serde(default)]
    pub hidden: bool,
}

/// How one scored unit of a code answer went (a test function, the top-level asserts, or a
/// test case), for teachers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    /// Its weight among the answer's units (a test case's points; 1 for asserts).
    pub weight: i64,
    /// Why it failed: the first differing line, the error or the limit hit.
    #[serde(default)]
    pub detail: Option<String>,
}

/// A test: its questions nested, ordered by `number_in_test`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Test {
    pub id: i64,
    pub organization_id: i64,
    pub creator_id: i64,
    pub name: String,
    /// The secret of the student link `/api/tests/p/{public_uuid}/`.
    pub public_uuid: String,
    pub questions: Vec<Question>,
    /// Ids of the groups whose members may take the test.
    #[serde(default)]
    pub available_for: Vec<i64>,
    /// Seconds an attempt may last (live attempts are submitted at their deadline).
    #[serde(default)]
    pub time_limit_seconds: Option<i64>,
    /// Completions a student may submit.
    #[serde(default)]
    pub max_attempts: Option<i64>,
    /// Unix seconds: before it, the test cannot be taken (`None`: open from the start).
    #[serde(default)]
    pub opens_at: Option<i64>,
    /// Unix seconds: from it, the test cannot be taken, and live attempts still open are
    /// submitted (`None`: never closes).
    #[serde(default)]
    pub closes_at: Option<i64>,
    /// Sittings of their own for some groups of `available_for` (a group's window replaces
    /// the test's for its members).
    #[serde(default)]
    pub group_windows: Vec<GroupWindow>,
    /// Unix seconds.
    pub created_at: i64,
}
document!(Test, "tests");

/// The window in which a group's members may take a test, replacing the test's own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupWindow {
    pub group: i64,
    /// Unix seconds, as the test's `opens_at`.
    #[serde(default)]
    pub opens_at: Option<i64>,
    /// Unix seconds, as the test's `closes_at`.
    #[serde(default)]
    pub closes_at: Option<i64>,
}

/// What a student answered to one question.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Response {
    /// Skipped, or an empty answer.
    Unanswered,
    Text(String),
    /// A radio question's picked variant id.
    Single(i64),
    /// A check question's picked variant ids.
    Multiple(Vec<i64>),
    Code(String),
}

/// One graded (or, for code, pending) answer, with the question as it was when answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Answer {
    pub question: Question,
    pub response: Response,
    /// `None` while not graded (code answers until the sandbox grades them).
    pub is_correct: Option<bool>,
    pub points: f64,
    #[serde(default)]
    pub runtime_errors: Option<String>,
    /// Code answers once graded: each scored unit's result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// A text answer that matches no variant of its question: the answer's own id, taken
    /// from the variants' id sequence (so never a variant's id), shown as
    /// `picked_variant.id`. The question itself is never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<i64>,
}

/// A student's submitted test: self-contained, so editing or deleting the test later never
/// changes how it was graded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Completion {
    pub id: i64,
    pub test_id: i64,
    /// The test's link at submission.
    pub test_uuid: String,
    pub test_name: String,
    pub organization_id: i64,
    /// The test's creator, who (with the organization's owner) sees correctness.
    pub creator_id: i64,
    pub user_id: i64,
    /// Names of the student's groups that gave access to the test, at submission.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Unix seconds.
    pub submitted_at: i64,
    /// Unix seconds: when its attempt started (the test was first shown to the student, or
    /// the live attempt began); `None` for a submission with no attempt on record (an
    /// untimed test submitted over REST).
    #[serde(default)]
    pub started_at: Option<i64>,
    /// In the test's question order, one per question of the test at submission.
    pub answers: Vec<Answer>,
    pub score: f64,
    pub max_score: f64,
    /// Code answers wait for the sandbox; a restarted server grades them first thing.
    #[serde(default)]
    pub pending: bool,
    /// `{test}:{user}:{n}` for the student's n-th completion of the test: unique, so two
    /// concurrent submissions cannot both take the last allowed attempt.
    #[serde(default)]
    pub attempt_key: Option<String>,
}
document!(Completion, "completions");

/// An attempt at a test: started when the server first showed the student a timed test
/// (REST) or when a live attempt began (WebSocket), with the answers saved live so far,
/// until it is submitted. Its `started_at` is the clock of the time limit on every path.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Attempt {
    pub id: i64,
    pub test_id: i64,
    pub user_id: i64,
    pub organization_id: i64,
    /// Unix seconds.
    pub started_at: i64,
    /// Unix seconds: the server submits the attempt then.
    pub deadline: Option<i64>,
    /// Question id (as text) to the answer body last saved for it.
    #[serde(default)]
    pub answers: std::collections::BTreeMap<String, serde_json::Value>,
    pub submitted: bool,
    pub completion_id: Option<i64>,
    /// `{test}:{user}` while open, so a student has at most one open attempt per test;
    /// `done:{id}` once submitted.
    pub open_key: String,
    /// Started or resumed over the WebSocket: the server submits it at its deadline (an
    /// attempt only shown over REST waits for its REST submission, until the grace ends).
    /// Attempts stored before REST ones existed were all live.
    #[serde(default = "default_true")]
    pub live: bool,
}
document!(Attempt, "attempts");

/// A regrade of a test's completions against the test's current questions
/// (`testing::regrade`), with its progress and each completion's old and new score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Regrade {
    pub id: i64,
    pub test_id: i64,
    pub requested_by: i64,
    /// The question ids regraded; empty: every question of the test.
    #[serde(default)]
    pub questions: Vec<i64>,
    /// Reports what would change without storing it.
    pub dry_run: bool,
    /// Completions finished so far, of `total` (which grows if submissions arrive meanwhile).
    pub total: u64,
    pub processed: u64,
    pub finished: bool,
    /// Unix seconds.
    pub created_at: i64,
    #[serde(default)]
    pub finished_at: Option<i64>,
    /// One per completion the regrade changed (or, in a dry run, would change).
    #[serde(default)]
    pub results: Vec<RegradeResult>,
}
document!(Regrade, "regrades");

/// What a regrade did to one completion.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegradeResult {
    pub completion_id: i64,
    pub user_id: i64,
    pub old_score: f64,
    /// `None`: a code answer the sandbox has yet to grade (always, in a dry run).
    pub new_score: Option<f64>,
}

/// An uploaded file of the course catalog (an image or a video rendition): its metadata.
/// The bytes live in the file store ([`crate::catalog::files`]), under the file's id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MediaFile {
    pub id: i64,
    pub title: String,
    /// The uploaded file's name, reduced to safe characters; the last segment of its URL.
    pub name: String,
    /// Sniffed from the bytes at upload, never taken from the client.
    pub content_type: String,
    pub size: u64,
    /// Hex SHA-256 of the bytes: the strong `ETag`.
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
    pub created_by: i64,
    /// Where the file store keeps the bytes (a random name, chosen before the id exists);
    /// empty for a file whose bytes were never stored.
    #[serde(default)]
    pub storage_key: String,
}
document!(MediaFile, "media_files");

/// A teacher of the course catalog (seed 000), optionally linked to a user account.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Teacher {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub description: String,
    /// Media file ids.
    pub avatar: Option<i64>,
    pub facebook: Option<String>,
    pub instagram: Option<String>,
    pub location: Option<String>,
    #[serde(default)]
    pub promo_files: Vec<i64>,
    /// Video ids.
    #[serde(default)]
    pub promo_videos: Vec<i64>,
    #[serde(default)]
    pub user_id: Option<i64>,
}
document!(Teacher, "teachers");

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Category {
    pub id: i64,
    pub title: String,
    pub image: Option<i64>,
}
document!(Category, "categories");

/// A course; its videos are the videos whose `course_id` names it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Course {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub overview: String,
    pub category_id: Option<i64>,
    pub teacher_id: Option<i64>,
    pub image: Option<i64>,
    /// Unix microseconds (the seed shows microseconds).
    pub created_at: i64,
    pub updated_at: i64,
}
document!(Course, "courses");

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Video {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub file720p: Option<i64>,
    pub file1080p: Option<i64>,
    pub thumbnail: Option<i64>,
    pub course_id: Option<i64>,
}
document!(Video, "videos");

/// A curated collection of courses (seed 000's `collections`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CourseCollection {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub image: Option<i64>,
    /// Course ids, in the curator's order.
    #[serde(default)]
    pub courses: Vec<i64>,
}
document!(CourseCollection, "course_collections");

/// One word of a searchable name or title, folded (case and accents), pointing at what it
/// names: the index `global_search/` reads by prefix instead of scanning the catalog.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchTerm {
    pub id: i64,
    /// `teacher`, `collection`, `category` or `course`.
    pub kind: String,
    pub target: i64,
    pub word: String,
    /// `{kind}:{target}:{word}`, unique: two writers indexing one thing at once cannot
    /// store a word twice.
    #[serde(default)]
    pub key: String,
}
document!(SearchTerm, "search_terms");
