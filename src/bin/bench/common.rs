//! What the server benchmarks share: a store seeded with a class before the server starts,
//! the `testit` binary run as its own process on that store, and the statistics.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testit::store::mongo::MongoBackend;
use testit::store::{Group, Organization, Question, QuestionKind, Store, Test, User, Variant};

/// The JWT secret the benchmarks sign tokens with and give the server.
pub const SECRET: &str = "bench secret, never used elsewhere";

/// The password of every seeded account (hashed once, for the log-in benchmark).
pub const PASSWORD: &str = "correct horse battery";

/// Where a benchmark's server keeps its data: the embedded store in a fresh folder, or a
/// fresh database on the MongoDB server of `--store mongodb://…`.
pub struct Place {
    pub data_dir: PathBuf,
    pub database_url: String,
    mongodb: bool,
}

impl Place {
    /// `store`: `None` for the embedded store, else a MongoDB URI without a database.
    pub fn new(name: &str, store: Option<&str>) -> Place {
        let data_dir =
            std::env::temp_dir().join(format!("testit-bench-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let (database_url, mongodb) = match store {
            Some(uri) => {
                let (base, query) = uri.split_once('?').unwrap_or((uri, ""));
                let database = format!("testit_bench_{name}_{}", std::process::id());
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                (
                    format!("{}/{database}{query}", base.trim_end_matches('/')),
                    true,
                )
            }
            None => (
                data_dir
                    .join("testit.sqlite3")
                    .to_str()
                    .expect("utf-8 path")
                    .to_owned(),
                false,
            ),
        };
        Place {
            data_dir,
            database_url,
            mongodb,
        }
    }

    /// The label of the store in result tables.
    pub fn label(&self) -> &'static str {
        if self.mongodb {
            "MongoDB (SecantusDB)"
        } else {
            "embedded"
        }
    }

    pub async fn open(&self) -> Store {
        Store::open(&self.database_url).await.expect("store")
    }

    /// Sizes of the embedded store's database and WAL files, MiB.
    pub fn file_sizes(&self) -> Option<(f64, f64)> {
        if self.mongodb {
            return None;
        }
        let size = |suffix: &str| {
            let path = self.data_dir.join(format!("testit.sqlite3{suffix}"));
            std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / 1048576.0)
        };
        Some((size(""), size("-wal")))
    }

    /// Removes what the run wrote: its folder, and its MongoDB database.
    pub async fn clean_up(self) {
        if self.mongodb {
            let dropped = match MongoBackend::connect(&self.database_url).await {
                Ok(backend) => backend.database().drop().await.map_err(|e| e.to_string()),
                Err(err) => Err(err.to_string()),
            };
            if let Err(err) = dropped {
                eprintln!("could not drop the bench database: {err}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub fn user(email: String, organization_id: Option<i64>, is_teacher: bool) -> User {
    User {
        id: 0,
        email_lower: Some(email.clone()),
        email: Some(email),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$unused$unused".to_owned(),
        first_name: "Bench".to_owned(),
        last_name: "User".to_owned(),
        photo: None,
        is_teacher,
        teacher_requested: false,
        organization_id,
        token_generation: 0,
        date_joined: 0,
        ..User::default()
    }
}

/// An organization with its owner and one group of `students`.
pub struct Class {
    pub owner: User,
    pub organization: i64,
    pub group: i64,
    pub students: Vec<i64>,
}

pub async fn seed_class(store: &Store, students: usize) -> Class {
    let owner = store
        .users()
        .insert(user("owner@bench.org".into(), None, true))
        .await
        .expect("owner");
    let org = store
        .organizations()
        .insert(Organization {
            id: 0,
            name: "Bench".into(),
            description: String::new(),
            owner_id: owner.id,
        })
        .await
        .expect("org");
    let owner = store
        .users()
        .update(owner.id, |u| {
            u.organization_id = Some(org.id);
            Ok::<_, testit::store::StoreError>(())
        })
        .await
        .expect("owner joins")
        .expect("owner exists");
    let mut members = Vec::with_capacity(students);
    for i in 0..students {
        let student = store
            .users()
            .insert(user(format!("s{i}@bench.org"), Some(org.id), false))
            .await
            .expect("student");
        members.push(student.id);
    }
    let group = Group {
        id: 0,
        organization_id: org.id,
        name: "All".into(),
        description: String::new(),
        members: members.clone(),
        join_code: None,
    };
    let group = store.groups().insert(group).await.expect("group");
    Class {
        owner,
        organization: org.id,
        group: group.id,
        students: members,
    }
}

/// A test of `questions` radio questions (two variants, the first right), the last `code`
/// of them code questions instead, available to the class's group.
pub async fn make_test(store: &Store, class: &Class, questions: usize, code: usize) -> Test {
    let question_ids = store
        .reserve_ids("questions", questions)
        .await
        .expect("ids");
    let variant_ids = store
        .reserve_ids("variants", questions * 2)
        .await
        .expect("ids");
    let made = (0..questions)
        .map(|i| {
            let is_code = i >= questions - code;
            Question {
                id: question_ids[i],
                text: format!("Question {i}"),
                kind: if is_code {
                    QuestionKind::Code
                } else {
                    QuestionKind::Radio
                },
                number_in_test: i as i64 + 1,
                points: 1,
                variants: if is_code {
                    vec![]
                } else {
                    vec![
                        Variant {
                            id: variant_ids[2 * i],
                            text: "right".into(),
                            is_correct: true,
                        },
                        Variant {
                            id: variant_ids[2 * i + 1],
                            text: "wrong".into(),
                            is_correct: false,
                        },
                    ]
                },
                testing_code: is_code.then(|| "assert add(1, 2) == 3\n".to_owned()),
                strict_score: true,
                version: 0,
                language: Default::default(),
                test_cases: Vec::new(),
            }
        })
        .collect();
    let test = Test {
        id: 0,
        organization_id: class.organization,
        creator_id: class.owner.id,
        name: if code == 0 {
            format!("{questions} radio questions")
        } else {
            format!("{} radio + {code} code questions", questions - code)
        },
        public_uuid: testit::testing::authoring::new_public_uuid(),
        questions: made,
        available_for: vec![class.group],
        time_limit_seconds: None,
        max_attempts: None,
        opens_at: None,
        closes_at: None,
        group_windows: Vec::new(),
        created_at: 0,
    };
    store.tests().insert(test).await.expect("test stored")
}

pub fn rss_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

/// The `q` quantile of sorted durations, in milliseconds.
pub fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)].as_secs_f64() * 1e3
}

/// The server process; killed when dropped.
pub struct Server(Child);

impl Server {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the `testit` binary beside this one on the place's store and waits until it
/// listens; answers it and its port.
pub async fn start_server(place: &Place) -> (Server, u16) {
    start_server_with(place, &[]).await
}

/// [`start_server`] with more environment variables.
pub async fn start_server_with(place: &Place, env: &[(&str, &str)]) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let binary = std::env::current_exe()
        .expect("bench path")
        .with_file_name("testit");
    assert!(
        binary.exists(),
        "build the server first: cargo build --release"
    );
    let runtime_dir = std::env::var_os("TESTIT_RUNTIME_DIR")
        .map_or_else(|| PathBuf::from("data/runtimes"), PathBuf::from);
    let child = Command::new(binary)
        .env("TESTIT_BIND", format!("127.0.0.1:{port}"))
        .env("TESTIT_DATA_DIR", &place.data_dir)
        .env("TESTIT_DATABASE_URL", &place.database_url)
        .env("TESTIT_JWT_SECRET", SECRET)
        .env("TESTIT_RUNTIME_DIR", runtime_dir)
        .env("RUST_LOG", "warn")
        // One load generator on one address is not a guesser: the sign-in and sign-up limits
        // would measure their 429s instead of the routes.
        .env("TESTIT_SIGNIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "100000000")
        .env("TESTIT_SIGNIN_FAILURES_PER_ADDRESS", "100000000")
        .env("TESTIT_SIGNUPS_PER_ADDRESS_PER_HOUR", "100000000")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("server starts");
    let server = Server(child);
    wait_until_up(port).await;
    (server, port)
}

async fn wait_until_up(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not start");
}

/// `--store URL` taken out of the arguments, if there.
pub fn take_store_option(args: &mut Vec<String>) -> Option<String> {
    let at = args.iter().position(|a| a == "--store")?;
    args.remove(at);
    (at < args.len()).then(|| args.remove(at))
}
