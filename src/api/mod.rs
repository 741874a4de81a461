//! The HTTP API: one table of endpoints that both registers the routes and documents them
//! (the OpenAPI document is built from the same table, so the two cannot disagree).
//!
//! Paths are written as the seed documents them; each routes with and without its trailing
//! slash. A path that exists with another
//! method answers 405, one that does not exist 404 `route_not_found`, both as JSON.

pub mod accounts_v1;
pub mod auth;
pub mod body;
pub mod catalog;
pub mod completions;
pub mod cors;
pub mod directory;
pub mod errors;
pub mod export;
pub mod groups;
pub mod health;
pub mod languages;
pub mod links;
pub mod live;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod photos;
pub mod question_files;
pub mod regrade;
pub mod requests;
pub mod statistics;
pub mod tests;
pub mod user_v1;
pub mod users;
pub mod webapp;
pub mod ws_auth;

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, HttpRequest, HttpResponse, Responder, Route};

use crate::error::{ApiError, ErrorCode};

/// What an endpoint answers on success, for the OpenAPI document.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// No body (204).
    Empty,
    /// One object of the named component schema.
    Object(&'static str),
    /// A list of the named schema; `limit`/`offset` turn it into a page.
    List(&'static str),
    /// A list of the first schema, or, with `limit`/`offset`, a page of the second (seed
    /// 000's users: flat in the list, nested in a page).
    ListOrPage(&'static str, &'static str),
    /// A file of the given media type.
    File(&'static str),
    /// A JSON document of the given media type that has no component schema (the OpenAPI
    /// document itself).
    Json(&'static str),
}

/// The documentation of one operation.
#[derive(Debug, Clone)]
pub struct OpDoc {
    pub method: Method,
    /// As documented, e.g. `/api/groups/{id}/add_user/`.
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// Needs credentials (an access token or an API key).
    pub auth: bool,
    /// The credentials the route documents (and names in its 401 challenge).
    pub schemes: auth::Schemes,
    /// Component schema of the request body.
    pub request: Option<&'static str>,
    /// Required query parameters (strings): name and description. A request without one,
    /// or with a bad one, is a 400 naming it.
    pub query: Vec<(&'static str, &'static str)>,
    /// Component schema of a multipart/form-data body (an upload). With `request` too, the
    /// operation reads either.
    pub multipart: Option<&'static str>,
    /// Answers 401 for credentials in its body (the token endpoints), not only for a
    /// missing or bad access token.
    pub checks_credentials: bool,
    pub status: u16,
    pub answer: Answer,
    /// Answers documented beyond the usual ones (or instead of one): status, description,
    /// component schema.
    pub responses: Vec<(u16, &'static str, &'static str)>,
}

/// One operation: its documentation and its handler.
pub struct Endpoint {
    pub doc: OpDoc,
    route: Route,
}

impl Endpoint {
    fn new<F, Args>(method: Method, path: &'static str, tag: &'static str, handler: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let route = web::route().method(method.clone()).to(handler);
        let doc = OpDoc {
            method,
            path,
            tag,
            summary: "",
            auth: false,
            schemes: auth::Schemes::Bearer,
            request: None,
            query: Vec::new(),
            multipart: None,
            checks_credentials: false,
            status: 200,
            answer: Answer::Empty,
            responses: Vec::new(),
        };
        Endpoint { doc, route }
    }

    fn summary(mut self, summary: &'static str) -> Self {
        self.doc.summary = summary;
        self
    }

    /// Needs credentials; documents `Bearer <jwt>` (seed 003).
    fn auth(mut self) -> Self {
        self.doc.auth = true;
        self
    }

    /// Needs credentials; documents `Token <key>` (seeds 000 and 001).
    fn auth_token(mut self) -> Self {
        self.doc.auth = true;
        self.doc.schemes = auth::Schemes::Token;
        self
    }

    /// Needs credentials; documents both schemes (a path two API families share).
    fn auth_both(mut self) -> Self {
        self.doc.auth = true;
        self.doc.schemes = auth::Schemes::Both;
        self
    }

    /// Answers 401 when the credentials in the body are wrong.
    fn checks_credentials(mut self) -> Self {
        self.doc.checks_credentials = true;
        self
    }

    fn query(mut self, name: &'static str, description: &'static str) -> Self {
        self.doc.query.push((name, description));
        self
    }

    fn body(mut self, schema: &'static str) -> Self {
        self.doc.request = Some(schema);
        self
    }

    /// A multipart/form-data body of the named schema (uploads); after [`Endpoint::body`],
    /// a second way to send the body.
    fn multipart(mut self, schema: &'static str) -> Self {
        self.doc.multipart = Some(schema);
        self
    }

    fn answers(mut self, status: u16, answer: Answer) -> Self {
        self.doc.status = status;
        self.doc.answer = answer;
        self
    }

    /// Documents another answer (or replaces the usual one of this status).
    fn or(mut self, status: u16, description: &'static str, schema: &'static str) -> Self {
        self.doc.responses.push((status, description, schema));
        self
    }
}

/// Every endpoint, in routing order (fixed paths before parametrised ones they overlap).
/// The five routes of one kind of catalog thing.
fn catalog_kind<T: crate::catalog::things::Thing>(
    list: &'static str,
    item: &'static str,
    schema: &'static str,
    request: &'static str,
) -> [Endpoint; 5] {
    use Answer::*;
    use Method as M;
    const MANAGERS: (u16, &str, &str) = (
        403,
        "The caller lacks the manage_catalog permission",
        "Error",
    );
    [
        Endpoint::new(M::GET, list, "catalog", catalog::list::<T>)
            .summary("List, in id order, nested as seed 000 shows it (anyone signed in).")
            .auth_token()
            .answers(200, List(schema)),
        Endpoint::new(M::POST, list, "catalog", catalog::create::<T>)
            .summary("Create (manage_catalog). Referenced ids must exist; file fields take files of their kind.")
            .auth_token()
            .body(request)
            .answers(201, Object(schema))
            .or(MANAGERS.0, MANAGERS.1, MANAGERS.2),
        Endpoint::new(M::GET, item, "catalog", catalog::retrieve::<T>)
            .summary("Retrieve, nested (anyone signed in).")
            .auth_token()
            .answers(200, Object(schema)),
        Endpoint::new(M::PUT, item, "catalog", catalog::change::<T>)
            .summary("Change (manage_catalog): required fields must be sent; optional ones left out keep their values.")
            .auth_token()
            .body(request)
            .answers(200, Object(schema))
            .or(MANAGERS.0, MANAGERS.1, MANAGERS.2),
        Endpoint::new(M::DELETE, item, "catalog", catalog::destroy::<T>)
            .summary("Delete (manage_catalog). Refused with 400 naming what still nests it; a course takes its videos along.")
            .auth_token()
            .answers(204, Empty)
            .or(400, "Still nested by other catalog things (named)", "Error")
            .or(MANAGERS.0, MANAGERS.1, MANAGERS.2),
    ]
}

pub fn endpoints() -> Vec<Endpoint> {
    use crate::store::{Category, Course, CourseCollection, Teacher, Video};
    use Answer::*;
    use Method as M;
    let catalog = [
        catalog_kind::<Teacher>(
            "/api/v1/catalog/teachers/",
            "/api/v1/catalog/teachers/{id}/",
            "CatalogTeacher",
            "TeacherRequest",
        ),
        catalog_kind::<Category>(
            "/api/v1/catalog/categories/",
            "/api/v1/catalog/categories/{id}/",
            "CatalogCategory",
            "CategoryRequest",
        ),
        catalog_kind::<Course>(
            "/api/v1/catalog/courses/",
            "/api/v1/catalog/courses/{id}/",
            "CatalogCourse",
            "CourseRequest",
        ),
        catalog_kind::<Video>(
            "/api/v1/catalog/videos/",
            "/api/v1/catalog/videos/{id}/",
            "CatalogVideo",
            "VideoRequest",
        ),
        catalog_kind::<CourseCollection>(
            "/api/v1/catalog/collections/",
            "/api/v1/catalog/collections/{id}/",
            "CatalogCollection",
            "CollectionRequest",
        ),
    ];
    let shelves = [
        Endpoint::new(M::GET, "/api/v1/user/global_search/", "catalog", catalog::global_search)
            .summary("Global search: teachers (by name), collections, categories and courses (by title) with a word starting with each word of search_value, case- and accent-insensitively; each kind in id order, at most 100.")
            .query("search_value", "Words to find the starts of; at least one letter or digit.")
            .auth_token()
            .answers(200, Object("GlobalSearch")),
        Endpoint::new(M::PUT, "/api/v1/user/favorites/{kind}/{id}/", "shelves", catalog::favorite::<true>)
            .summary("Add a teacher, course, video or collection (kind: teachers, courses, videos, collections) to the caller's favorites; adding twice is harmless.")
            .auth_token()
            .answers(204, Empty)
            .or(400, "The shelf already holds 500 things", "ValidationError"),
        Endpoint::new(M::DELETE, "/api/v1/user/favorites/{kind}/{id}/", "shelves", catalog::favorite::<false>)
            .summary("Remove from the caller's favorites; removing what is not there is harmless.")
            .auth_token()
            .answers(204, Empty),
        Endpoint::new(M::PUT, "/api/v1/user/viewed_videos/{id}/", "shelves", catalog::viewed::<true>)
            .summary("Mark a video viewed by the caller.")
            .auth_token()
            .answers(204, Empty)
            .or(400, "The shelf already holds 500 things", "ValidationError"),
        Endpoint::new(M::DELETE, "/api/v1/user/viewed_videos/{id}/", "shelves", catalog::viewed::<false>)
            .summary("Unmark a viewed video.")
            .auth_token()
            .answers(204, Empty),
        Endpoint::new(M::PUT, "/api/v1/user/signature_courses/{id}/", "shelves", catalog::signature::<true>)
            .summary("Add a course to the caller's signature courses.")
            .auth_token()
            .answers(204, Empty)
            .or(400, "The shelf already holds 500 things", "ValidationError"),
        Endpoint::new(M::DELETE, "/api/v1/user/signature_courses/{id}/", "shelves", catalog::signature::<false>)
            .summary("Remove a course from the caller's signature courses.")
            .auth_token()
            .answers(204, Empty),
    ];
    // Before the table: actix matches paths in the order they are registered, and
    // `global_search/` must win over seed 000's `/api/v1/user/{id}/`.
    let mut all: Vec<Endpoint> = shelves.into_iter().collect();
    all.extend(catalog.into_iter().flatten());
    all.extend(table());
    all
}

fn table() -> Vec<Endpoint> {
    use Answer::*;
    use Method as M;
    vec![
        Endpoint::new(M::GET, "/health", "health", health::health)
            .summary("Answers once the store is reachable.")
            .answers(200, Object("Health")),
        Endpoint::new(M::GET, "/api/schema/", "schema", openapi::schema)
            .summary("This OpenAPI 3 document (JSON, which is also YAML).")
            .answers(200, Json("application/vnd.oai.openapi+json")),
        Endpoint::new(M::GET, "/api/schema/json/", "schema", openapi::schema_json)
            .summary("This OpenAPI 3 document as JSON.")
            .answers(200, Json("application/json")),
        Endpoint::new(M::GET, "/ws", "live", live::connect)
            .summary("WebSocket for live test-taking and live results (protocol: docs/websocket.md). Token in Authorization, a bearer.<token> subprotocol next to testit, or ?token=.")
            .auth()
            .answers(101, Empty),
        Endpoint::new(M::GET, "/api/languages/", "languages", languages::list)
            .summary("The runtimes code answers can be written in, their state and limits.")
            .answers(200, List("Language")),
        // Users. `me` and `token/…` come before `{id}`.
        Endpoint::new(M::GET, "/api/users/", "users", users::list)
            .summary("List users: a holder of view_user sees everyone; a teacher, their organization's users; anyone else, only themself.")
            .auth_both()
            .answers(200, List("User")),
        Endpoint::new(M::POST, "/api/users/", "users", users::register)
            .summary("Create new user. (register)")
            .body("UserRequest")
            .answers(201, Object("User"))
            .or(429, "Too many accounts created from this address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::GET, "/api/users/me", "users", users::me)
            .summary("Get info about current user.")
            .auth()
            .answers(200, Object("User")),
        Endpoint::new(M::PUT, "/api/users/me", "users", users::change_me::<false>)
            .summary("Update current user. A new password or email needs current_password; a new password revokes every earlier token. As multipart/form-data, photo is an image file, kept in the file store; the account then holds its URL.")
            .auth()
            .body("UserUpdateRequest")
            .multipart("UserUpdateMultipartRequest")
            .answers(200, Object("User")),
        Endpoint::new(M::PATCH, "/api/users/me", "users", users::change_me::<true>)
            .summary("Partially update current user. A new password or email needs current_password. As multipart/form-data, photo is an image file, kept in the file store; the account then holds its URL.")
            .auth()
            .body("PatchedUserRequest")
            .multipart("PatchedUserMultipartRequest")
            .answers(200, Object("User")),
        Endpoint::new(M::POST, "/api/users/token/obtain/", "users", users::token_obtain)
            .summary("Takes a set of user credentials and returns an access and refresh JSON web token pair.")
            .body("TokenObtainPairRequest")
            .checks_credentials()
            .answers(200, Object("TokenObtainPair"))
            .or(429, "Too many failed sign-ins for this login or address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/users/token/refresh/", "users", users::token_refresh)
            .summary("Takes a refresh type JSON web token and returns an access type JSON web token if the refresh token is valid.")
            .body("TokenRefreshRequest")
            .checks_credentials()
            .answers(200, Object("TokenObtainPair")),
        Endpoint::new(M::POST, "/api/users/token/revoke/", "users", users::token_revoke)
            .summary("Log out: revokes a refresh token (with every token refreshed from it) and the access token sent in Authorization.")
            .body("TokenRevokeRequest")
            .checks_credentials()
            .answers(204, Empty),
        Endpoint::new(M::POST, "/api/users/signup", "users", directory::sign_up)
            .summary("Sign up with a username (seed 001); email and names optional.")
            .body("SignUpRequest")
            .answers(201, Object("User"))
            .or(429, "Too many accounts created from this address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/users/signin", "users", directory::sign_in)
            .summary("Sign in with a username (or, lacking one, an email) and a password: the user, their groups and permissions, and a new API key for `Authorization: Token <key>`. A wrong pair is 400 non_field_errors.")
            .body("SignInRequest")
            .answers(200, Object("SignIn"))
            .or(429, "Too many failed sign-ins for this login or address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::GET, "/api/users/me/completions/", "users", completions::mine)
            .summary("Get all completions of current user.")
            .auth()
            .answers(200, List("Completion")),
        Endpoint::new(M::GET, "/api/users/me/tests/", "users", tests::open_to_me)
            .summary("The tests open to current user: their organization's tests available for any group they are in, in id order, with the attempts they have used at each.")
            .auth()
            .answers(200, List("OpenTest")),
        Endpoint::new(M::GET, "/api/users/{id}/", "users", users::retrieve)
            .summary("Return user")
            .auth_both()
            .answers(200, Object("User")),
        Endpoint::new(M::PUT, "/api/users/{id}/", "users", directory::change)
            .summary("Change a user, partially (seed 001): one's own account, or anyone's with change_user. person only by superusers; a password only by the owner, with current_password.")
            .auth_both()
            .body("UserChangeRequest")
            .answers(200, Object("User")),
        Endpoint::new(M::DELETE, "/api/users/{id}/", "users", directory::destroy)
            .summary("Delete a user: one's own account, or anyone's with delete_user. Personal fields are erased and every token revoked; completions stay with the student shown as deleted.")
            .auth_both()
            .answers(204, Empty)
            .or(400, "The owner of an organization cannot be deleted", "Error"),
        Endpoint::new(M::GET, "/api/users/{id}/permissions", "permissions", directory::permissions)
            .summary("The user's permission ids: one's own, or anyone's with view_permission.")
            .auth_token()
            .answers(200, Object("UserPermissions")),
        Endpoint::new(M::PUT, "/api/users/{id}/permissions", "permissions", directory::change_permissions::<true>)
            .summary("Grant permissions (superusers only); answers the resulting list. Unknown ids are 400.")
            .auth_token()
            .body("PermissionsRequest")
            .answers(200, Object("UserPermissions")),
        Endpoint::new(M::DELETE, "/api/users/{id}/permissions", "permissions", directory::change_permissions::<false>)
            .summary("Remove permissions (superusers only), ids in the body or the permissions query parameter; answers the resulting list.")
            .auth_token()
            .body("PermissionsRequest")
            .answers(200, Object("UserPermissions")),
        Endpoint::new(M::GET, "/api/permissions/", "permissions", directory::catalog)
            .summary("The permission catalog: id, codename, name.")
            .auth_token()
            .answers(200, List("Permission")),
        // Seed 002's accounts. `verify/` and `resend/` come before `{id}`.
        Endpoint::new(M::POST, "/api/v1/accounts/users/", "accounts", accounts_v1::register)
            .summary("Sign up with a profile. The account cannot sign in until the 6-digit code emailed to it is entered at verify/.")
            .body("AccountRequest")
            .answers(201, Object("AccountCreated"))
            .or(429, "Too many accounts created from this address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/accounts/users/verify/", "accounts", accounts_v1::verify)
            .summary("Verify the email with its emailed code: answers a log-in (access and refresh tokens). Wrong, expired, used or dead codes, and unknown emails, all answer one 400 naming code; 5 tries per code.")
            .body("VerifyEmailRequest")
            .answers(200, Object("TokenObtainPair"))
            .or(429, "Too many failed sign-ins for this login or address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/accounts/users/resend/", "accounts", accounts_v1::resend)
            .summary("Send a new code (the earlier one stops working) to an account waiting for verification. The same 202 whether or not such an account exists; at most once a minute per address.")
            .body("ResendCodeRequest")
            .answers(202, Object("CodeResent"))
            .or(429, "A code went to this address less than a minute ago, or this client asked for too many codes; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::GET, "/api/v1/accounts/users/{id}/", "accounts", accounts_v1::retrieve)
            .summary("Retrieve a user's profile: one's own, or anyone's with the view_user permission.")
            .auth()
            .answers(200, Object("Account"))
            .or(404, "No such user, or not one the caller may see", "UserNotFound"),
        Endpoint::new(M::PATCH, "/api/v1/accounts/users/{id}/", "accounts", accounts_v1::change)
            .summary("Change some of a user's profile: one's own, or anyone's with the change_user permission. A new email must be verified again (a code is sent to it; until then the account cannot sign in and its tokens stop working); changing one's own email needs current_password. As multipart/form-data, a photo part (an image file, kept in the file store) sets the photo to its URL.")
            .auth()
            .body("PatchedAccountRequest")
            .multipart("PatchedAccountMultipartRequest")
            .answers(200, Object("AccountSummary"))
            .or(404, "No such user, or not one the caller may see", "UserNotFound"),
        // Seed 000's course-platform users. Fixed paths come before `{id}`.
        Endpoint::new(M::GET, "/api/v1/user/", "user", user_v1::list)
            .summary("List users: the caller only, or every active account with view_user. Flat users; with limit/offset, a page of users with their shelves nested.")
            .auth_token()
            .answers(200, ListOrPage("PlatformUserBrief", "PlatformUser")),
        Endpoint::new(M::POST, "/api/v1/user/", "user", user_v1::register)
            .summary("Create new user: the user with their shelves and a new API key (`token`: `Token <key>`). Email and password required.")
            .body("PlatformRegistrationRequest")
            .answers(201, Object("PlatformSession"))
            .or(429, "Too many accounts created from this address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/user/registration/", "user", user_v1::register)
            .summary("Registration of a new user; the same as POST /api/v1/user/.")
            .body("PlatformRegistrationRequest")
            .answers(201, Object("PlatformSession"))
            .or(429, "Too many accounts created from this address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/user/login/", "user", user_v1::login)
            .summary("Log in with email and password: the user and a new API key. An unknown email and a wrong password are the same 400 non_field_errors.")
            .body("PlatformLoginRequest")
            .answers(200, Object("PlatformSession"))
            .or(429, "Too many failed sign-ins for this login or address; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/user/login/facebook/", "user", user_v1::login_facebook)
            .summary("Log in with a Facebook access token, verified with Facebook (valid, issued to this app). The account linked to that Facebook user, made on first log-in; an unlinked Facebook user whose email has an account is refused (400). 503 when Facebook log-in is not configured.")
            .body("FacebookLoginRequest")
            .answers(200, Object("PlatformSession"))
            .or(429, "Too many failed sign-ins for this login or address; Retry-After gives the seconds to wait", "Error")
            .or(503, "Facebook log-in is not configured, or Facebook could not be reached", "Error"),
        Endpoint::new(M::POST, "/api/v1/user/logout/", "user", user_v1::logout)
            .summary("Log out: revokes the API key sent in Authorization; with an access token (JWT), that token's whole log-in, refresh tokens included.")
            .auth_token()
            .answers(200, Object("EmptyObject")),
        Endpoint::new(M::POST, "/api/v1/user/password/reset/", "user", user_v1::password_reset)
            .summary("Email a password-reset link (valid 1 hour by default, once) when an account has this address. The same 200 {} whether or not one has.")
            .body("PasswordResetRequest")
            .answers(200, Object("EmptyObject"))
            .or(429, "This client asked for too many emails; Retry-After gives the seconds to wait", "Error"),
        Endpoint::new(M::POST, "/api/v1/user/password/reset/confirm/", "user", user_v1::password_reset_confirm)
            .summary("Set a new password with the emailed link's uid and token. Every API key and token issued before stops working. A bad, used or expired link is 400 naming token; mismatched passwords, 400 naming new_password2.")
            .body("PasswordResetConfirmRequest")
            .answers(200, Object("EmptyObject")),
        Endpoint::new(M::GET, "/api/v1/user/{id}/", "user", user_v1::retrieve)
            .summary("Retrieve a user with their shelves: oneself, or anyone with view_user (else 404).")
            .auth_token()
            .answers(200, Object("PlatformUser")),
        Endpoint::new(M::PUT, "/api/v1/user/{id}/", "user", user_v1::change::<false>)
            .summary("Update a user: oneself, or anyone with change_user. email required; moving one's own email needs current_password; only a superuser moves another account's email.")
            .auth_token()
            .body("PlatformUserUpdateRequest")
            .answers(200, Object("PlatformUser")),
        Endpoint::new(M::PATCH, "/api/v1/user/{id}/", "user", user_v1::change::<true>)
            .summary("Partially update a user: as PUT, every field optional.")
            .auth_token()
            .body("PatchedPlatformUserUpdateRequest")
            .answers(200, Object("PlatformUser")),
        // Seed 000's catalog files, and their bytes (public, as Django serves media).
        Endpoint::new(M::GET, "/api/v1/catalog/files/", "catalog", media::list)
            .summary("List uploaded catalog files (anyone signed in).")
            .auth_token()
            .answers(200, List("CatalogFile")),
        Endpoint::new(M::POST, "/api/v1/catalog/files/", "catalog", media::upload)
            .summary("Upload a file (manage_catalog): multipart parts file and title (optional, default the file's name). The kind is told from the bytes: JPEG, PNG, GIF or WebP images, MP4 or WebM videos; anything else, or a file over its kind's size limit, is 400 naming file.")
            .auth_token()
            .multipart("CatalogFileUpload")
            .answers(201, Object("CatalogFile")),
        Endpoint::new(M::GET, "/api/v1/catalog/files/{id}/", "catalog", media::retrieve)
            .summary("Retrieve an uploaded file's title and URL (anyone signed in).")
            .auth_token()
            .answers(200, Object("CatalogFile")),
        Endpoint::new(M::DELETE, "/api/v1/catalog/files/{id}/", "catalog", media::destroy)
            .summary("Delete a file and its bytes (manage_catalog); refused with 400 naming what still shows it (teacher, category, course, video or collection).")
            .auth_token()
            .answers(204, Empty)
            .or(400, "A teacher, category, course, video or collection still shows the file", "Error"),
        Endpoint::new(M::GET, "/media/files/{id}/{name}", "catalog", media::download)
            .summary("A file's bytes, public. ETag (the SHA-256), If-None-Match (304), Range (one range: 206 with Content-Range; past the end: 416 with Content-Range: bytes */size; several: the whole file).")
            .answers(200, File("application/octet-stream"))
            .or(206, "The range asked for, with Content-Range", "")
            .or(304, "Not modified: the client's copy (If-None-Match) is current", "")
            .or(416, "The range starts past the end; Content-Range: bytes */size", ""),
        // Tests. `p/…` comes before `{id}`.
        Endpoint::new(M::GET, "/api/tests/", "tests", tests::list)
            .summary("List all tests created by current teacher (all of the organization's for its owner).")
            .auth()
            .answers(200, List("Test")),
        Endpoint::new(M::POST, "/api/tests/", "tests", tests::create)
            .summary("Create new test.")
            .auth()
            .body("TestRequest")
            .answers(201, Object("Test")),
        Endpoint::new(M::POST, "/api/tests/import/", "tests", question_files::import)
            .summary("Create a test from a Moodle XML (multichoice, truefalse, shortanswer, coderunner) or GIFT file. Answers the test and what the file holds that it does not (skipped questions, notes), each with its line. A file that cannot be read is a 400 naming the line; nothing is created then.")
            .auth()
            .body("ImportRequest")
            .answers(201, Object("ImportResult")),
        Endpoint::new(M::GET, "/api/tests/p/{public_uuid}/", "tests", tests::public_retrieve)
            .summary("Get test for completion: members of a group it is available for.")
            .auth()
            .answers(200, Object("StudentTest")),
        Endpoint::new(M::GET, "/api/tests/p/{public_uuid}/completions/", "tests", completions::mine_of_public_test)
            .summary("Get all completions of current student of current test.")
            .auth()
            .answers(200, List("Completion")),
        Endpoint::new(M::GET, "/api/tests/{id}/", "tests", tests::retrieve)
            .summary("Return test (teachers only!)")
            .auth()
            .answers(200, Object("Test")),
        Endpoint::new(M::PUT, "/api/tests/{id}/", "tests", tests::change::<false>)
            .summary("Replace a test. Submitted completions keep the questions they were graded against.")
            .auth()
            .body("TestRequest")
            .answers(200, Object("Test")),
        Endpoint::new(M::PATCH, "/api/tests/{id}/", "tests", tests::change::<true>)
            .summary("Change some of a test's fields.")
            .auth()
            .body("PatchedTestRequest")
            .answers(200, Object("Test")),
        Endpoint::new(M::DELETE, "/api/tests/{id}/", "tests", tests::destroy)
            .summary("Delete a test; its completions stay readable by their students.")
            .auth()
            .answers(204, Empty),
        Endpoint::new(M::POST, "/api/tests/{id}/allow_for_group/", "tests", tests::set_group_access::<true>)
            .summary("Allow test completion for group.")
            .auth()
            .body("GroupRefRequest")
            .answers(200, Object("Test")),
        Endpoint::new(M::POST, "/api/tests/{id}/disallow_for_group/", "tests", tests::set_group_access::<false>)
            .summary("Disallow test completion for group.")
            .auth()
            .body("GroupRefRequest")
            .answers(200, Object("Test")),
        Endpoint::new(M::POST, "/api/tests/{id}/regenerate_uuid/", "tests", tests::regenerate_uuid)
            .summary("Regenerate uuid, that used in link for test completion.")
            .auth()
            .answers(200, Object("Test")),
        Endpoint::new(M::GET, "/api/tests/{id}/completions/", "tests", completions::of_test)
            .summary("Get all completions of test.")
            .auth()
            .answers(200, List("CompletionWithCorrectness")),
        Endpoint::new(M::POST, "/api/tests/{id}/regrade/", "tests", regrade::start)
            .summary("Regrade the test's completions against its current questions (all, or those named), in the background; idempotent, atomic per completion. With dry_run, report what would change and store nothing. Answers the regrade, whose progress GET /api/tests/{id}/regrades/{rid}/ shows.")
            .auth()
            .body("RegradeRequest")
            .answers(202, Object("Regrade")),
        Endpoint::new(M::GET, "/api/tests/{id}/regrades/{rid}/", "tests", regrade::retrieve)
            .summary("A regrade's progress and, per changed completion, its old and new score.")
            .auth()
            .answers(200, Object("Regrade")),
        Endpoint::new(M::GET, "/api/tests/{id}/export.xml", "tests", question_files::export)
            .summary("The test as Moodle XML, which POST /api/tests/import/ reads back to the same test.")
            .auth()
            .answers(200, File(crate::testing::import::XML_MEDIA_TYPE)),
        Endpoint::new(M::GET, "/api/tests/{id}/statistics/", "tests", statistics::retrieve)
            .summary("Item statistics of the test (its teachers): per question facility, discrimination (point-biserial with the rest of the test), answered/unanswered and the share picking each variant; for the test mean, median, standard deviation and Cronbach's alpha.")
            .auth()
            .answers(200, Object("TestStatistics")),
        Endpoint::new(M::GET, "/api/tests/{id}/completions/export/", "tests", export::export)
            .summary("Get completions of test in xlsx format. Also accepts the HttpOnly testit_export cookie that log-in and refresh set, so a plain download link works.")
            .auth()
            .answers(200, File(crate::testing::export::XLSX_MEDIA_TYPE)),
        // Completions.
        Endpoint::new(M::POST, "/api/completions/", "completions", completions::create)
            .summary("Create new completion: submit answers to a test, graded at once. A timed test's submission is accepted within its attempt's time limit plus the grace (else 403 time_limit_passed, or attempt_not_started when the test was never shown), and within its open/close window.")
            .auth()
            .body("CompletionRequest")
            .answers(201, Object("Completion"))
            .or(200, "The attempt was already submitted at or after its deadline: its completion", "Completion"),
        Endpoint::new(M::GET, "/api/completions/{id}/", "completions", completions::retrieve)
            .summary("Return completion")
            .auth()
            .answers(200, Object("Completion")),
        Endpoint::new(M::GET, "/api/completions/{id}/with_correctness/", "completions", completions::with_correctness)
            .summary("Return completion with is_correct in answers (the test's teachers).")
            .auth()
            .answers(200, Object("CompletionWithCorrectness")),
        // Organizations.
        Endpoint::new(M::GET, "/api/organizations/", "organizations", organizations::list)
            .summary("List organizations (open to anonymous users, for registration forms).")
            .answers(200, List("Organization")),
        Endpoint::new(M::POST, "/api/organizations/", "organizations", organizations::create)
            .summary("Create an organization: the calling teacher owns it and joins it.")
            .auth()
            .body("OrganizationRequest")
            .answers(201, Object("Organization")),
        Endpoint::new(M::POST, "/api/organizations/{id}/confirm_teacher/", "organizations", organizations::confirm_teacher)
            .summary("The owner grants teacher rights to a member who asked for them.")
            .auth()
            .body("UserRefRequest")
            .answers(200, Object("User")),
        // Groups.
        Endpoint::new(M::GET, "/api/groups/", "groups", groups::list)
            .summary("List all groups in organization")
            .auth()
            .answers(200, List("Group")),
        Endpoint::new(M::POST, "/api/groups/", "groups", groups::create)
            .summary("Create a group in the caller's organization (teachers).")
            .auth()
            .body("GroupRequest")
            .answers(201, Object("Group")),
        Endpoint::new(M::GET, "/api/groups/{id}/", "groups", groups::retrieve)
            .summary("Returns group.")
            .auth()
            .answers(200, Object("Group")),
        Endpoint::new(M::DELETE, "/api/groups/{id}/", "groups", groups::destroy)
            .summary("Deletes group.")
            .auth()
            .answers(204, Empty),
        Endpoint::new(M::POST, "/api/groups/{id}/add_user/", "groups", groups::change_membership::<true>)
            .summary("Adds user to group.")
            .auth()
            .body("UserRefRequest")
            .answers(200, Object("Group")),
        Endpoint::new(M::POST, "/api/groups/{id}/remove_user/", "groups", groups::change_membership::<false>)
            .summary("Removes user from group.")
            .auth()
            .body("UserRefRequest")
            .answers(200, Object("Group")),
        // Joining a group by its code.
        Endpoint::new(M::GET, "/api/groups/{id}/join_code/", "groups", groups::join_code)
            .summary("The group's join code, or null while it has none (its teachers).")
            .auth()
            .answers(200, Object("JoinCode")),
        Endpoint::new(M::POST, "/api/groups/{id}/join_code/", "groups", groups::rotate_join_code)
            .summary("Gives the group a new join code; the previous one stops working (its teachers).")
            .auth()
            .answers(200, Object("JoinCode")),
        Endpoint::new(M::DELETE, "/api/groups/{id}/join_code/", "groups", groups::turn_off_join_code)
            .summary("Turns the group's join code off: joins with it are refused (its teachers).")
            .auth()
            .answers(204, Empty),
        Endpoint::new(M::GET, "/api/join/{code}/", "groups", groups::invitation)
            .summary("What a join code opens: the organization (and its owner's name) and the group. An unknown or turned-off code is 404; rate-limited per address like sign-ins.")
            .answers(200, Object("JoinInvitation")),
        Endpoint::new(M::POST, "/api/join/{code}/", "groups", groups::join)
            .summary("The caller (a student) joins the code's organization and group. An unknown or turned-off code is 404; rate-limited per address like sign-ins.")
            .auth()
            .answers(200, Object("Joined")),
    ]
}

/// Registers the endpoints, one resource per path and spelling (with and without the
/// trailing slash, so links built from the request keep the client's spelling), each
/// answering 405 for other methods. `endpoints` is called once per spelling.
///
/// Resources are single-pattern and static paths come first: actix matches a static
/// pattern by comparing strings, while a multi-pattern or parameterised one runs a regex,
/// and the router tries resources in order on every request. (Two-pattern resources made
/// regex matching a tenth of the server's CPU under load.) Static first is also the right
/// precedence: `/api/users/me` before `/api/users/{id}`.
pub fn configure(cfg: &mut web::ServiceConfig, endpoints: impl Fn() -> Vec<Endpoint>) {
    let mut resources: Vec<(String, Vec<Route>)> = Vec::new();
    for with_slash in [false, true] {
        for Endpoint { doc, route } in endpoints() {
            let bare = doc.path.trim_end_matches('/');
            let path = if with_slash {
                format!("{bare}/")
            } else {
                bare.to_owned()
            };
            match resources.iter_mut().find(|(known, _)| *known == path) {
                Some((_, routes)) => routes.push(route),
                None => resources.push((path, vec![route])),
            }
        }
    }
    // Stable: among static and among parameterised paths, the table's order holds.
    resources.sort_by_key(|(path, _)| path.contains('{'));
    for (path, routes) in resources {
        let resource = web::resource(path).default_service(web::to(method_not_allowed));
        cfg.service(
            routes
                .into_iter()
                .fold(resource, |resource, route| resource.route(route)),
        );
    }
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let detail = format!("Method \"{}\" not allowed.", req.method());
    Err(ApiError::with_detail(ErrorCode::MethodNotAllowed, detail))
}

/// The app's default service: no route has this path.
pub async fn route_not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::code(ErrorCode::RouteNotFound))
}
