//! The HTTP API: one table of endpoints that both registers the routes and documents them
//! (the OpenAPI document is built from the same table, so the two cannot disagree).
//!
//! Paths are written as the seed documents them; each routes with and without its trailing
//! slash. A path that exists with another
//! method answers 405, one that does not exist 404 `route_not_found`, both as JSON.

pub mod auth;
pub mod body;
pub mod completions;
pub mod errors;
pub mod export;
pub mod groups;
pub mod health;
pub mod languages;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod organizations;
pub mod pagination;
pub mod requests;
pub mod tests;
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
    /// Needs an access token.
    pub auth: bool,
    /// Component schema of the request body.
    pub request: Option<&'static str>,
    /// Answers 401 for credentials in its body (the token endpoints), not only for a
    /// missing or bad access token.
    pub checks_credentials: bool,
    pub status: u16,
    pub answer: Answer,
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
            request: None,
            checks_credentials: false,
            status: 200,
            answer: Answer::Empty,
        };
        Endpoint { doc, route }
    }

    fn summary(mut self, summary: &'static str) -> Self {
        self.doc.summary = summary;
        self
    }

    fn auth(mut self) -> Self {
        self.doc.auth = true;
        self
    }

    /// Answers 401 when the credentials in the body are wrong.
    fn checks_credentials(mut self) -> Self {
        self.doc.checks_credentials = true;
        self
    }

    fn body(mut self, schema: &'static str) -> Self {
        self.doc.request = Some(schema);
        self
    }

    fn answers(mut self, status: u16, answer: Answer) -> Self {
        self.doc.status = status;
        self.doc.answer = answer;
        self
    }
}

/// Every endpoint, in routing order (fixed paths before parametrised ones they overlap).
pub fn endpoints() -> Vec<Endpoint> {
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
            .summary("List users: a teacher sees their organization's users, anyone else only themself.")
            .auth()
            .answers(200, List("User")),
        Endpoint::new(M::POST, "/api/users/", "users", users::register)
            .summary("Create new user. (register)")
            .body("UserRequest")
            .answers(201, Object("User")),
        Endpoint::new(M::GET, "/api/users/me", "users", users::me)
            .summary("Get info about current user.")
            .auth()
            .answers(200, Object("User")),
        Endpoint::new(M::PUT, "/api/users/me", "users", users::change_me::<false>)
            .summary("Update current user. A new password or email needs current_password; a new password revokes every earlier token.")
            .auth()
            .body("UserUpdateRequest")
            .answers(200, Object("User")),
        Endpoint::new(M::PATCH, "/api/users/me", "users", users::change_me::<true>)
            .summary("Partially update current user. A new password or email needs current_password.")
            .auth()
            .body("PatchedUserRequest")
            .answers(200, Object("User")),
        Endpoint::new(M::POST, "/api/users/token/obtain/", "users", users::token_obtain)
            .summary("Takes a set of user credentials and returns an access and refresh JSON web token pair.")
            .body("TokenObtainPairRequest")
            .checks_credentials()
            .answers(200, Object("TokenObtainPair")),
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
        Endpoint::new(M::GET, "/api/users/me/completions/", "users", completions::mine)
            .summary("Get all completions of current user.")
            .auth()
            .answers(200, List("Completion")),
        Endpoint::new(M::GET, "/api/users/{id}/", "users", users::retrieve)
            .summary("Return user")
            .auth()
            .answers(200, Object("User")),
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
        Endpoint::new(M::GET, "/api/tests/{id}/completions/export/", "tests", export::export)
            .summary("Get completions of test in xlsx format. Also accepts the HttpOnly testit_export cookie that log-in and refresh set, so a plain download link works.")
            .auth()
            .answers(200, File(crate::testing::export::XLSX_MEDIA_TYPE)),
        // Completions.
        Endpoint::new(M::POST, "/api/completions/", "completions", completions::create)
            .summary("Create new completion: submit answers to a test, graded at once.")
            .auth()
            .body("CompletionRequest")
            .answers(201, Object("Completion")),
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
