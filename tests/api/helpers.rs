//! `spawn_app()` and typed helpers: a real server on a free port over a fresh store.

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use testit::settings::Settings;
use testit::startup::Application;

/// The password every helper-made account uses.
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub address: String,
    /// Where `GET /metrics` answers, when the settings asked for it.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    /// The attempt actors' registry, to evict an actor as a crash would.
    pub attempts: actix::Addr<actors::attempt::Registry>,
    /// The server's store, for what no endpoint does (e.g. granting a permission).
    pub store: testit::store::Store,
    // Kept alive for the test's duration; deleted on drop.
    _data_dir: TempDir,
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub access: String,
    pub refresh: String,
    pub org: Option<i64>,
}

/// The environment variable that runs the suite on MongoDB: a server URI without a database
/// (e.g. `mongodb://127.0.0.1:27017`); each test then gets a database of its own there.
/// Unset, every test runs on a fresh embedded store.
pub const MONGODB_VAR: &str = "TEST_MONGODB_URI";

/// The MongoDB server the suite runs on, if any.
pub fn mongodb_uri() -> Option<String> {
    std::env::var(MONGODB_VAR)
        .ok()
        .filter(|uri| !uri.is_empty())
}

/// A database name no other test of any run on this server uses.
pub fn fresh_database_name(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// `uri` with `database` as its path: `mongodb://h:1/?x=y` → `mongodb://h:1/db?x=y`.
pub fn with_database(uri: &str, database: &str) -> String {
    let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
    let base = base.trim_end_matches('/');
    assert!(
        base.matches('/').count() == 2,
        "{MONGODB_VAR} must name no database: {uri}"
    );
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{base}/{database}{query}")
}

/// The store kind `/health` reports for the suite's backend.
pub fn store_kind() -> &'static str {
    if mongodb_uri().is_some() {
        "mongodb"
    } else {
        "embedded"
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app with settings changed by `configure` (data dir, bind and secret are fresh).
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    testit::telemetry::init_for_tests();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::with_data_dir(data_dir.path());
    settings.bind = "127.0.0.1:0".to_owned();
    // One Python runtime for every test run on this machine (built on first use).
    settings.runtime_dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("testit-runtimes");
    settings.grader_workers = 2;
    if let Some(uri) = mongodb_uri() {
        settings.database_url = with_database(&uri, &fresh_database_name("testit"));
    }
    configure(&mut settings);
    let (address, metrics_address, handle, attempts, store) = start(&settings).await;
    TestApp {
        attempts,
        store,
        address,
        metrics_address,
        client: reqwest::Client::builder().build().unwrap(),
        settings,
        handle,
        _data_dir: data_dir,
    }
}

async fn start(
    settings: &Settings,
) -> (
    String,
    Option<String>,
    actix_web::dev::ServerHandle,
    actix::Addr<actors::attempt::Registry>,
    testit::store::Store,
) {
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let (handle, attempts, store) = (app.handle(), app.attempts().clone(), app.store().clone());
    tokio::spawn(app.run_until_stopped());
    (address, metrics, handle, attempts, store)
}

impl TestApp {
    /// Stops the server and starts a new one on the same data dir (a new port).
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let (address, metrics_address, handle, attempts, store) = start(&self.settings).await;
        self.store = store;
        self.address = address;
        self.metrics_address = metrics_address;
        self.handle = handle;
        self.attempts = attempts;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Any request with an optional JSON body and bearer token.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn register(&self, body: &Value) -> Response {
        self.post("/api/users/", None, body).await
    }

    pub async fn obtain_tokens(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/users/token/obtain/",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers and logs in a user; `teacher` asks for teacher rights.
    pub async fn user(&self, email: &str, teacher: bool, org: Option<i64>) -> Account {
        let body = json!({
            "email": email, "password": PASSWORD, "first_name": "First", "last_name": "Last",
            "is_teacher": teacher, "organization_id": org,
        });
        let resp = self.register(&body).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "register {email}: {}",
            resp.text().await.unwrap()
        );
        let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        self.login(id, email, org).await
    }

    pub async fn login(&self, id: i64, email: &str, org: Option<i64>) -> Account {
        let resp = self.obtain_tokens(email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let tokens: Value = resp.json().await.unwrap();
        Account {
            id,
            email: email.to_owned(),
            access: tokens["access"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh"].as_str().unwrap().to_owned(),
            org,
        }
    }

    /// A teacher who created (and so owns) an organization named after them.
    pub async fn owner(&self, email: &str) -> Account {
        let mut teacher = self.user(email, true, None).await;
        let resp = self
            .post(
                "/api/organizations/",
                Some(&teacher.access),
                &json!({"name": format!("Org of {email}")}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        teacher.org = resp.json::<Value>().await.unwrap()["id"].as_i64();
        teacher
    }

    /// A student of `org`.
    pub async fn student(&self, email: &str, org: i64) -> Account {
        self.user(email, false, Some(org)).await
    }

    /// A confirmed (non-owner) teacher of the owner's organization.
    pub async fn teacher_of(&self, owner: &Account, email: &str) -> Account {
        let org = owner.org.expect("owner has an organization");
        let teacher = self.user(email, true, Some(org)).await;
        let resp = self
            .post(
                &format!("/api/organizations/{org}/confirm_teacher/"),
                Some(&owner.access),
                &json!({"user": teacher.id}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        teacher
    }

    /// Creates a group as `teacher` and answers its id.
    pub async fn group(&self, teacher: &Account, name: &str, members: &[i64]) -> i64 {
        let resp = self
            .post(
                "/api/groups/",
                Some(&teacher.access),
                &json!({"name": name, "description": "", "members": members}),
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "{}",
            resp.text().await.unwrap()
        );
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }
}

/// A test with one question of each non-code kind and one code question:
/// 1. text "Capital of France?" (2 points; accepts "Paris")
/// 2. radio "2 + 2?" (1 point; variants "3", "4" correct, "5")
/// 3. check "Primes?" (3 points, strict; "2" and "3" correct, "4" wrong)
/// 4. check "Even?" (2 points, not strict; "2" and "4" correct, "5" wrong)
/// 5. code "Write add(a, b)" (5 points)
pub fn sample_test() -> Value {
    json!({
        "name": "Sample",
        "questions": [
            {"text": "Capital of France?", "type": "text", "number_in_test": 1, "points": 2,
             "body": {"variants": [{"text": "Paris", "is_correct": true}]}},
            {"text": "2 + 2?", "type": "radio", "number_in_test": 2, "points": 1,
             "body": {"variants": [{"text": "3", "is_correct": false}, {"text": "4", "is_correct": true},
                                   {"text": "5", "is_correct": false}]}},
            {"text": "Primes?", "type": "check", "number_in_test": 3, "points": 3,
             "body": {"variants": [{"text": "2", "is_correct": true}, {"text": "3", "is_correct": true},
                                   {"text": "4", "is_correct": false}], "strict_score": true}},
            {"text": "Even?", "type": "check", "number_in_test": 4, "points": 2,
             "body": {"variants": [{"text": "2", "is_correct": true}, {"text": "4", "is_correct": true},
                                   {"text": "5", "is_correct": false}], "strict_score": false}},
            {"text": "Write add(a, b)", "type": "code", "number_in_test": 5, "points": 5,
             "body": {"testing_code": "assert add(1, 2) == 3", "strict_score": true}},
        ],
    })
}

/// The id of the variant with `text` in question `number` (1-based) of a teacher's test view.
pub fn variant_id(test: &Value, number: usize, text: &str) -> i64 {
    test["questions"][number - 1]["body"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["text"] == text)
        .unwrap_or_else(|| panic!("question {number} has no variant {text:?}"))["id"]
        .as_i64()
        .unwrap()
}

/// The id of question `number` (1-based) of a test view.
pub fn question_id(test: &Value, number: usize) -> i64 {
    test["questions"][number - 1]["id"].as_i64().unwrap()
}

impl TestApp {
    /// Creates a test as `teacher` and answers its teacher view.
    pub async fn create_test(&self, teacher: &Account, body: &Value) -> Value {
        let (status, test) =
            status_json(self.post("/api/tests/", Some(&teacher.access), body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{test}");
        test
    }

    /// The owner's sample test, available to a group holding `students`; answers the
    /// teacher view.
    pub async fn sample_test_for(&self, owner: &Account, students: &[i64]) -> Value {
        let group = self.group(owner, "Class", students).await;
        let mut body = sample_test();
        body["available_for"] = json!([group]);
        self.create_test(owner, &body).await
    }

    /// Submits answers to the test behind `uuid` as `student`.
    pub async fn submit(&self, student: &Account, uuid: &str, answers: Value) -> Response {
        self.post(
            "/api/completions/",
            Some(&student.access),
            &json!({"test": uuid, "answers": answers}),
        )
        .await
    }
}

/// Status and JSON body of a response.
pub async fn status_json(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, body)
}

/// A seed-001 account: its id and an API key.
pub struct Member {
    pub id: i64,
    pub key: String,
}

impl TestApp {
    /// A request with `Authorization: Token <key>`.
    pub async fn with_key(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(key) = key {
            req = req.header("Authorization", format!("Token {key}"));
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    pub async fn sign_up(&self, body: &Value) -> Response {
        self.with_key(Method::POST, "/api/users/signup", None, Some(body))
            .await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Response {
        let body = json!({"username": username, "password": password});
        self.with_key(Method::POST, "/api/users/signin", None, Some(&body))
            .await
    }

    /// Signs up `username` and signs in.
    pub async fn member(&self, username: &str) -> Member {
        let body = json!({"username": username, "password": PASSWORD,
                          "email": format!("{username}@example.org")});
        let (status, user) = status_json(self.sign_up(&body).await).await;
        assert_eq!(status, StatusCode::CREATED, "{user}");
        let (status, signed) = status_json(self.sign_in(username, PASSWORD).await).await;
        assert_eq!(status, StatusCode::OK, "{signed}");
        Member {
            id: user["id"].as_i64().unwrap(),
            key: signed["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Runs the server binary's `createsuperuser` against this app's store, as an operator
    /// would beside the running server, and signs the superuser in.
    pub async fn superuser(&self, username: &str) -> Member {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_testit"))
            .args(["createsuperuser", "--username", username])
            .args(["--email", &format!("{username}@example.org")])
            .env("TESTIT_DATA_DIR", &self.settings.data_dir)
            .env("TESTIT_DATABASE_URL", &self.settings.database_url)
            .env("TESTIT_SUPERUSER_PASSWORD", PASSWORD)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("createsuperuser runs");
        assert!(
            output.status.success(),
            "createsuperuser: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (status, signed) = status_json(self.sign_in(username, PASSWORD).await).await;
        assert_eq!(status, StatusCode::OK, "{signed}");
        Member {
            id: signed["id"].as_i64().unwrap(),
            key: signed["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Grants permissions (by codename) as `admin`.
    pub async fn grant(&self, admin: &Member, to: &Member, ids: &[i64]) {
        let path = format!("/api/users/{}/permissions", to.id);
        let body = json!({ "permissions": ids });
        let (status, answer) = status_json(
            self.with_key(Method::PUT, &path, Some(&admin.key), Some(&body))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}

impl TestApp {
    /// A request with `Authorization: Basic base64(login:password)` (seed 003's `basicAuth`).
    pub async fn with_basic(
        &self,
        method: Method,
        path: &str,
        login: &str,
        password: &str,
    ) -> Response {
        self.client
            .request(method, self.url(path))
            .basic_auth(login, Some(password))
            .send()
            .await
            .expect("request sent")
    }
}
