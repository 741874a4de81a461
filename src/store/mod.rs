//! Document storage: one interface, two backends.
//!
//! Each aggregate (user, organization, group, later test and completion) is one JSON
//! document in a collection, under an integer id (the seed API exposes integer ids). The
//! backends only know a handful of primitives over such documents ([`Backend`]); everything
//! typed lives once, here, in [`Repo`] and [`Store`], so the two backends cannot drift apart:
//!
//! - [`sqlite::SqliteBackend`], the embedded default: one SQLite file, a table per collection
//!   (`id INTEGER PRIMARY KEY, doc TEXT`), expression indexes on queried JSON fields.
//! - [`mongo::MongoBackend`], production: a collection per collection, `_id` = the integer id,
//!   ids drawn from a `counters` collection, unique indexes created at start.
//!
//! Concurrent writers are handled with optimistic concurrency: every stored document carries
//! a version (`_v`), and [`Repo::update`] retries its read-modify-write when another writer
//! got there first. Uniqueness (emails, token ids) is enforced by unique indexes.

pub mod model;
pub mod mongo;
pub mod shared;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use model::{
    Answer, ApiKey, Attempt, Category, CheckResult, CodeSend, Completion, Course, CourseCollection,
    Group, GroupWindow, Language, MediaFile, OneTimeCode, Organization, PasswordReset, Question,
    QuestionKind, Regrade, RegradeResult, Response, RevokedFamily, RevokedToken, SearchTerm,
    Teacher, Test, TestCase, UsedRefreshToken, User, Variant, Video,
};

/// Failures of the store, as the rest of the server needs to tell them apart.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique index refused the write.
    #[error("a unique index refused the write")]
    Duplicate,
    /// The backend cannot be reached (server down, file unreadable).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: corrupt document, driver error, too much contention.
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which documents a query selects. Fields are trusted names from this crate, never input.
#[derive(Debug, Clone)]
pub enum Filter {
    All,
    /// `field == value` (`null` matches a missing or null field).
    Eq(&'static str, Value),
    /// `field` is one of the values.
    In(&'static str, Vec<Value>),
    /// An array `field` contains `value`.
    Contains(&'static str, Value),
    /// The id is greater than this one (reading a large result in id order, batch by batch).
    IdAfter(i64),
    /// A string `field` starts with the prefix (an index range scan on both backends).
    Prefix(&'static str, String),
    /// Every filter holds.
    And(Vec<Filter>),
}

/// Awaits one backend call, recording its duration (`store_call_duration_seconds`).
async fn timed<R>(
    op: &'static str,
    collection: &'static str,
    call: impl std::future::Future<Output = R>,
) -> R {
    let started = std::time::Instant::now();
    let out = call.await;
    crate::metrics::store_call(op, collection, started.elapsed());
    out
}

/// Some of the documents that match a filter, and how many match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub count: u64,
    pub items: Vec<T>,
}

/// A slice of a result set ordered by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// An index a collection needs; declared once in [`INDEXES`], created by each backend at start.
#[derive(Debug, Clone, Copy)]
pub struct IndexSpec {
    pub collection: &'static str,
    pub field: &'static str,
    pub unique: bool,
}

/// The name of the version field every stored document carries.
pub const VERSION_FIELD: &str = "_v";

/// The primitives a storage backend provides. Documents are JSON objects; the backend owns
/// the mapping to its native format and keeps `id` as the primary key.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// A short name for logs and `/health`.
    fn kind(&self) -> &'static str;
    /// Succeeds when the store answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Creates collections and indexes if missing.
    async fn migrate(&self, collections: &[&'static str], indexes: &[IndexSpec])
        -> StoreResult<()>;
    /// Adds `by` to a named counter in one atomic write and answers its new value; see
    /// [`CounterAdd`] for what happens to a missing counter and the cap. Counters serve ids
    /// (1, 2, …; never handed out twice) and per-key sequences such as attempt numbers.
    async fn counter_add(&self, name: &str, by: i64, how: CounterAdd) -> StoreResult<Counted>;
    /// Creates a counter at `value` unless it exists (then nothing changes); `Ok(true)` when
    /// this call created it.
    async fn counter_init(&self, name: &str, value: i64) -> StoreResult<bool>;
    /// Inserts a new document under the next id of the collection's id counter (the counter
    /// named after the collection), with its `id` field set to it, and answers the id;
    /// [`StoreError::Duplicate`] when a unique index refuses it.
    async fn insert(&self, collection: &'static str, doc: Value) -> StoreResult<i64>;
    async fn get(&self, collection: &'static str, id: i64) -> StoreResult<Option<Value>>;
    /// Matching documents ordered by id, optionally one page of them.
    async fn find(
        &self,
        collection: &'static str,
        filter: &Filter,
        page: Option<Page>,
    ) -> StoreResult<Vec<Value>>;
    async fn count(&self, collection: &'static str, filter: &Filter) -> StoreResult<u64>;
    /// Replaces the document when its stored version is still `version`; `Ok(false)` when it
    /// is not (another writer won) or the document is gone.
    async fn replace(
        &self,
        collection: &'static str,
        id: i64,
        version: i64,
        doc: Value,
    ) -> StoreResult<bool>;
    /// Deletes a document; `Ok(false)` when there was none.
    async fn delete(&self, collection: &'static str, id: i64) -> StoreResult<bool>;
    /// Sets fields of a document, each at a [`FieldPath`] of object keys (creating missing
    /// objects on the way), and bumps its version: one atomic write instead of a
    /// read-modify-write, for hot paths such as saving an answer. `Ok(false)` when the
    /// document is gone.
    async fn set_fields(
        &self,
        collection: &'static str,
        id: i64,
        fields: Vec<(FieldPath, Value)>,
    ) -> StoreResult<bool>;
    /// Adds `value` to the array at `field` unless an equal element is there (`present`), or
    /// removes every element equal to it (`!present`), and bumps the version: one atomic write
    /// with set semantics, so concurrent adds and removes of different elements never undo each
    /// other. Elements are JSON scalars. Answers the document as written, `None` when it is gone.
    async fn set_membership(
        &self,
        collection: &'static str,
        id: i64,
        field: &FieldPath,
        value: Value,
        present: bool,
    ) -> StoreResult<Option<Value>>;
    /// What several processes on this store share ([`shared`]); `None` for a store that
    /// only one process uses (the embedded one).
    fn shared(&self) -> Option<&dyn shared::Shared> {
        None
    }
}

/// How [`Backend::counter_add`] treats a missing counter and a cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterAdd {
    /// Create a missing counter at 0 before adding (ids); without, a missing counter is
    /// [`Counted::Missing`] and nothing is written (sequences seeded from existing data).
    pub create: bool,
    /// Refuse ([`Counted::Capped`], nothing written) when the sum would pass this value.
    pub at_most: Option<i64>,
}

/// What [`Backend::counter_add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Added; the counter's new value.
    Value(i64),
    /// Not added: the cap would be passed.
    Capped,
    /// Not added: no such counter, and it was not to be created.
    Missing,
}

/// A path of object keys into a document, e.g. `answers.12`. Keys are limited to ASCII
/// letters, digits and `_`, so they need no quoting in either backend's path syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    pub fn parse<S: Into<String>>(keys: impl IntoIterator<Item = S>) -> StoreResult<FieldPath> {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        let valid =
            |k: &String| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if keys.is_empty() || !keys.iter().all(valid) || keys[0] == VERSION_FIELD || keys[0] == "id"
        {
            return Err(StoreError::Other(format!(
                "not a settable field path: {keys:?}"
            )));
        }
        Ok(FieldPath(keys))
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }
}

/// A type stored as one document of a collection.
pub trait Document: Serialize + DeserializeOwned + Send + Sync + 'static {
    const COLLECTION: &'static str;
    fn id(&self) -> i64;
    fn set_id(&mut self, id: i64);
}

/// Every collection the server stores.
pub const COLLECTIONS: &[&str] = &[
    User::COLLECTION,
    ApiKey::COLLECTION,
    Organization::COLLECTION,
    Group::COLLECTION,
    RevokedToken::COLLECTION,
    RevokedFamily::COLLECTION,
    UsedRefreshToken::COLLECTION,
    Test::COLLECTION,
    Completion::COLLECTION,
    Attempt::COLLECTION,
    OneTimeCode::COLLECTION,
    CodeSend::COLLECTION,
    PasswordReset::COLLECTION,
    MediaFile::COLLECTION,
    Teacher::COLLECTION,
    Category::COLLECTION,
    Course::COLLECTION,
    Video::COLLECTION,
    CourseCollection::COLLECTION,
    SearchTerm::COLLECTION,
    Regrade::COLLECTION,
];

const fn unique(collection: &'static str, field: &'static str) -> IndexSpec {
    IndexSpec {
        collection,
        field,
        unique: true,
    }
}

const fn lookup(collection: &'static str, field: &'static str) -> IndexSpec {
    IndexSpec {
        collection,
        field,
        unique: false,
    }
}

/// Every index the server relies on: uniqueness rules and the fields it queries by.
pub const INDEXES: &[IndexSpec] = &[
    unique(User::COLLECTION, "email_lower"),
    unique(User::COLLECTION, "username_lower"),
    unique(ApiKey::COLLECTION, "key_hash"),
    lookup(ApiKey::COLLECTION, "user_id"),
    lookup(User::COLLECTION, "organization_id"),
    lookup(Organization::COLLECTION, "owner_id"),
    lookup(Group::COLLECTION, "organization_id"),
    unique(Group::COLLECTION, "join_code"),
    unique(RevokedToken::COLLECTION, "jti"),
    unique(RevokedFamily::COLLECTION, "family"),
    unique(UsedRefreshToken::COLLECTION, "jti"),
    unique(Test::COLLECTION, "public_uuid"),
    lookup(Test::COLLECTION, "creator_id"),
    lookup(Test::COLLECTION, "organization_id"),
    lookup(Completion::COLLECTION, "test_id"),
    lookup(Completion::COLLECTION, "user_id"),
    lookup(Completion::COLLECTION, "pending"),
    unique(Completion::COLLECTION, "attempt_key"),
    unique(Attempt::COLLECTION, "open_key"),
    lookup(Attempt::COLLECTION, "test_id"),
    lookup(Attempt::COLLECTION, "submitted"),
    unique(OneTimeCode::COLLECTION, "user_id"),
    unique(CodeSend::COLLECTION, "email_lower"),
    unique(User::COLLECTION, "facebook_id"),
    unique(PasswordReset::COLLECTION, "token_hash"),
    lookup(PasswordReset::COLLECTION, "user_id"),
    lookup(Video::COLLECTION, "course_id"),
    lookup(Course::COLLECTION, "teacher_id"),
    lookup(Course::COLLECTION, "category_id"),
    lookup(SearchTerm::COLLECTION, "word"),
    lookup(SearchTerm::COLLECTION, "target"),
    unique(SearchTerm::COLLECTION, "key"),
    lookup(Regrade::COLLECTION, "test_id"),
];

/// How long [`Repo::update`] keeps retrying a read-modify-write that loses races. Far past
/// any real contention (dozens of writers on one document settle in milliseconds): reaching
/// it means the store is overwhelmed, which is answered as unavailable, never as lost data.
const UPDATE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
/// The first and the largest pause between two tries of a lost read-modify-write. Each pause
/// is drawn uniformly below a cap that doubles per lost race ("full jitter"), so writers
/// that collided once spread out instead of colliding again in lockstep.
const BACKOFF_FIRST: std::time::Duration = std::time::Duration::from_micros(500);
const BACKOFF_MAX: std::time::Duration = std::time::Duration::from_millis(50);

/// The pause before the `tries`-th retry (1, 2, …) of a lost compare-and-swap.
fn backoff(tries: u32) -> std::time::Duration {
    use rand::Rng;
    let cap = BACKOFF_FIRST
        .saturating_mul(1 << tries.min(10))
        .min(BACKOFF_MAX);
    cap.mul_f64(rand::thread_rng().gen::<f64>())
}

/// Typed access to one collection.
pub struct Repo<'a, T> {
    backend: &'a dyn Backend,
    _doc: std::marker::PhantomData<fn() -> T>,
}

fn encode<T: Document>(doc: &T, version: i64) -> StoreResult<Value> {
    let mut value = serde_json::to_value(doc).map_err(|e| StoreError::Other(e.to_string()))?;
    match value.as_object_mut() {
        Some(object) => {
            object.insert(VERSION_FIELD.to_owned(), Value::from(version));
            Ok(value)
        }
        None => Err(StoreError::Other(format!(
            "{} is not stored as an object",
            T::COLLECTION
        ))),
    }
}

fn decode<T: Document>(value: Value) -> StoreResult<(T, i64)> {
    let version = value
        .get(VERSION_FIELD)
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let doc = serde_json::from_value(value)
        .map_err(|e| StoreError::Other(format!("corrupt {} document: {e}", T::COLLECTION)))?;
    Ok((doc, version))
}

impl<T: Document> Repo<'_, T> {
    /// Stores a new document under a fresh id and returns it with that id.
    pub async fn insert(&self, mut doc: T) -> StoreResult<T> {
        let id = timed(
            "insert",
            T::COLLECTION,
            self.backend.insert(T::COLLECTION, encode(&doc, 1)?),
        )
        .await?;
        doc.set_id(id);
        Ok(doc)
    }

    pub async fn get(&self, id: i64) -> StoreResult<Option<T>> {
        match timed("get", T::COLLECTION, self.backend.get(T::COLLECTION, id)).await? {
            Some(value) => Ok(Some(decode(value)?.0)),
            None => Ok(None),
        }
    }

    pub async fn find(&self, filter: &Filter, page: Option<Page>) -> StoreResult<Vec<T>> {
        let values = timed(
            "find",
            T::COLLECTION,
            self.backend.find(T::COLLECTION, filter, page),
        )
        .await?;
        values
            .into_iter()
            .map(|v| decode(v).map(|(doc, _)| doc))
            .collect()
    }

    pub async fn find_one(&self, filter: &Filter) -> StoreResult<Option<T>> {
        let page = Page {
            offset: 0,
            limit: 1,
        };
        Ok(self.find(filter, Some(page)).await?.into_iter().next())
    }

    pub async fn count(&self, filter: &Filter) -> StoreResult<u64> {
        timed(
            "count",
            T::COLLECTION,
            self.backend.count(T::COLLECTION, filter),
        )
        .await
    }

    /// One page of the matching documents (all of them without a page) and how many match.
    pub async fn list(&self, filter: &Filter, page: Option<Page>) -> StoreResult<Listing<T>> {
        let count = self.count(filter).await?;
        let items = self.find(filter, page).await?;
        Ok(Listing { count, items })
    }

    /// Reads, changes and writes back one document, retrying when a concurrent writer got
    /// there first, so no update is lost. `change` may refuse with its own error (and is
    /// called again on each retry, with the document as it is then). Returns `Ok(None)` when
    /// the document does not exist. Lost races are retried after a jittered backoff until
    /// [`UPDATE_DEADLINE`]; the hottest writes use atomic primitives and never get here.
    pub async fn update<E>(
        &self,
        id: i64,
        mut change: impl FnMut(&mut T) -> Result<(), E>,
    ) -> Result<Option<T>, E>
    where
        E: From<StoreError>,
    {
        let started = std::time::Instant::now();
        let mut tries = 0;
        loop {
            let Some(value) =
                timed("get", T::COLLECTION, self.backend.get(T::COLLECTION, id)).await?
            else {
                return Ok(None);
            };
            let (mut doc, version) = decode::<T>(value)?;
            change(&mut doc)?;
            let encoded = encode(&doc, version + 1)?;
            if self
                .backend
                .replace(T::COLLECTION, id, version, encoded)
                .await?
            {
                return Ok(Some(doc));
            }
            tries += 1;
            if started.elapsed() >= UPDATE_DEADLINE {
                return Err(StoreError::Unavailable(format!(
                    "{} {id}: still contended after {tries} tries",
                    T::COLLECTION
                ))
                .into());
            }
            tokio::time::sleep(backoff(tries)).await;
        }
    }

    pub async fn delete(&self, id: i64) -> StoreResult<bool> {
        timed(
            "delete",
            T::COLLECTION,
            self.backend.delete(T::COLLECTION, id),
        )
        .await
    }

    /// Sets one field in place ([`Backend::set_fields`]); `Ok(false)` when the document is gone.
    pub async fn set_field(&self, id: i64, path: &FieldPath, value: Value) -> StoreResult<bool> {
        self.set_fields(id, vec![(path.clone(), value)]).await
    }

    /// Adds `value` to (or removes it from) the set held in the array `field`, in one atomic
    /// write ([`Backend::set_membership`]); answers the document as written, `None` when it
    /// is gone.
    pub async fn set_membership(
        &self,
        id: i64,
        field: &FieldPath,
        value: Value,
        present: bool,
    ) -> StoreResult<Option<T>> {
        let written = self
            .backend
            .set_membership(T::COLLECTION, id, field, value, present)
            .await?;
        written.map(|v| decode(v).map(|(doc, _)| doc)).transpose()
    }

    /// Sets fields in place, in one atomic write; `Ok(false)` when the document is gone.
    pub async fn set_fields(&self, id: i64, fields: Vec<(FieldPath, Value)>) -> StoreResult<bool> {
        if fields.is_empty() {
            return Ok(self.get(id).await?.is_some());
        }
        timed(
            "set_fields",
            T::COLLECTION,
            self.backend.set_fields(T::COLLECTION, id, fields),
        )
        .await
    }
}

/// The store every handler and actor uses. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    /// Names this server among those sharing the store (the holder of its claims).
    instance: Arc<str>,
}

/// A server's hold on the embedded store's file ([`Store::lock_for_server`]); released when
/// the last one of the process is dropped, or when the process ends.
pub struct ServerLock(#[allow(dead_code)] Arc<std::fs::File>);

/// The file an embedded store's URL names (an optional `sqlite://` prefix).
fn embedded_path(database_url: &str) -> &std::path::Path {
    std::path::Path::new(
        database_url
            .strip_prefix("sqlite://")
            .unwrap_or(database_url),
    )
}

/// An exclusive `flock` on `file`, or `WouldBlock` when another open file holds one.
/// (`std::fs::File::try_lock` does this from Rust 1.89; the workspace supports 1.85.)
#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    const LOCK_EX: std::ffi::c_int = 2;
    const LOCK_NB: std::ffi::c_int = 4;
    extern "C" {
        fn flock(fd: std::ffi::c_int, operation: std::ffi::c_int) -> std::ffi::c_int;
    }
    // SAFETY: `flock` only reads the descriptor, which `file` keeps open during the call.
    if unsafe { flock(file.as_raw_fd(), LOCK_EX | LOCK_NB) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere the embedded store is not locked (the server runs on Linux).
#[cfg(not(unix))]
fn try_lock(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Locks the embedded store's file for this process (`<file>.lock`, an advisory `flock`),
/// so that a second server process on the same data is refused at start instead of
/// corrupting it: the embedded store is one process by design (several servers: MongoDB).
/// Stores of one process share the lock (the tests restart servers in process); the kernel
/// releases it when the process ends, however it ends.
fn lock_embedded(path: &std::path::Path) -> StoreResult<Arc<std::fs::File>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock, Weak};
    static HELD: OnceLock<Mutex<HashMap<std::path::PathBuf, Weak<std::fs::File>>>> =
        OnceLock::new();
    let lock_path = std::path::PathBuf::from(format!("{}.lock", path.display()));
    if let Some(parent) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", parent.display())))?;
    }
    let mut held = HELD
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    held.retain(|_, file| file.strong_count() > 0);
    if let Some(file) = held.get(&lock_path).and_then(Weak::upgrade) {
        return Ok(file);
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", lock_path.display())))?;
    match try_lock(&file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            return Err(StoreError::Unavailable(format!(
                "{} is in use by another server process; the embedded store serves one \
                 process (run several servers on MongoDB: README, \"Running several servers\")",
                path.display()
            )))
        }
        Err(e) => {
            return Err(StoreError::Unavailable(format!(
                "cannot lock {}: {e}",
                lock_path.display()
            )))
        }
    }
    let file = Arc::new(file);
    held.insert(lock_path, Arc::downgrade(&file));
    Ok(file)
}

/// A claim on some work held in the store ([`Store::claim`]), so that one server of several
/// does it. On the embedded store (one process) every claim is granted and costs nothing.
pub struct Claim {
    key: String,
    lease: std::time::Duration,
}

impl Claim {
    /// Extends the lease; `Ok(false)` when it ran out and another server took the work.
    pub async fn renew(&self, store: &Store) -> StoreResult<bool> {
        match store.shared() {
            Some(shared) => shared.renew(&self.key, &store.instance, self.lease).await,
            None => Ok(true),
        }
    }

    /// Gives the work back (done, or handed to whoever claims it next).
    pub async fn release(self, store: &Store) -> StoreResult<()> {
        match store.shared() {
            Some(shared) => shared.release(&self.key, &store.instance).await,
            None => Ok(()),
        }
    }

    pub fn lease(&self) -> std::time::Duration {
        self.lease
    }
}

impl Store {
    /// Opens the backend a database URL names: `mongodb://…` or `mongodb+srv://…` selects
    /// MongoDB; anything else is the path of the embedded SQLite file (an optional
    /// `sqlite://` prefix is accepted). A server locks the embedded file first
    /// ([`Store::lock_for_server`]).
    pub async fn open(database_url: &str) -> StoreResult<Store> {
        let backend: Arc<dyn Backend> = if mongo::names_mongodb(database_url) {
            Arc::new(mongo::MongoBackend::connect(database_url).await?)
        } else {
            Arc::new(sqlite::SqliteBackend::open(embedded_path(database_url)).await?)
        };
        Store::with_backend(backend).await
    }

    /// Before a server opens the embedded store: locks its file for this process, so that a
    /// second server process on it stops at start with a clear message (administration
    /// commands such as `createsuperuser` may still open it: SQLite serializes their few
    /// writes). Nothing to lock on MongoDB, which any number of servers share.
    pub fn lock_for_server(database_url: &str) -> StoreResult<Option<ServerLock>> {
        if mongo::names_mongodb(database_url) {
            return Ok(None);
        }
        Ok(Some(ServerLock(lock_embedded(embedded_path(
            database_url,
        ))?)))
    }

    /// Wraps a backend, creating its collections and indexes.
    pub async fn with_backend(backend: Arc<dyn Backend>) -> StoreResult<Store> {
        backend.migrate(COLLECTIONS, INDEXES).await?;
        let instance = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        Ok(Store {
            backend,
            instance: instance.into(),
        })
    }

    /// Gives back every claim this server holds (it is stopping); nothing on the embedded
    /// store.
    pub async fn release_claims(&self) -> StoreResult<()> {
        match self.shared() {
            Some(shared) => shared.release_all(&self.instance).await,
            None => Ok(()),
        }
    }

    /// Claims `key` for `lease` unless another server holds it (or this one already does);
    /// `None` when someone does.
    pub async fn claim(&self, key: &str, lease: std::time::Duration) -> StoreResult<Option<Claim>> {
        let taken = match self.shared() {
            Some(shared) => shared.claim(key, &self.instance, lease).await?,
            None => true,
        };
        Ok(taken.then(|| Claim {
            key: key.to_owned(),
            lease,
        }))
    }

    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// The feed and counters several server processes share, when this store has them.
    pub fn shared(&self) -> Option<&dyn shared::Shared> {
        self.backend.shared()
    }

    pub async fn ping(&self) -> StoreResult<()> {
        self.backend.ping().await
    }

    pub fn repo<T: Document>(&self) -> Repo<'_, T> {
        Repo {
            backend: self.backend.as_ref(),
            _doc: std::marker::PhantomData,
        }
    }

    pub fn users(&self) -> Repo<'_, User> {
        self.repo()
    }

    pub fn organizations(&self) -> Repo<'_, Organization> {
        self.repo()
    }

    pub fn groups(&self) -> Repo<'_, Group> {
        self.repo()
    }

    pub fn tests(&self) -> Repo<'_, Test> {
        self.repo()
    }

    pub fn completions(&self) -> Repo<'_, Completion> {
        self.repo()
    }

    /// Reserves `count` fresh ids of a counter, for documents nested in others (questions,
    /// variants), which the API also exposes by integer id.
    pub async fn reserve_ids(&self, counter: &'static str, count: usize) -> StoreResult<Vec<i64>> {
        if count == 0 {
            return Ok(Vec::new());
        }
        let count =
            i64::try_from(count).map_err(|_| StoreError::Other("too many ids".to_owned()))?;
        let how = CounterAdd {
            create: true,
            at_most: None,
        };
        match self.backend.counter_add(counter, count, how).await? {
            Counted::Value(last) => Ok((last - count + 1..=last).collect()),
            other => Err(StoreError::Other(format!(
                "id counter {counter}: {other:?}"
            ))),
        }
    }

    /// The next number of a per-key sequence (1, 2, …), taken in one atomic write, or `None`
    /// when it would pass `at_most`. A sequence that does not exist yet starts after `seed`,
    /// which counts what already exists (data written before the sequence was kept); `seed`
    /// runs once per sequence, not per call.
    pub async fn next_in_sequence<F>(
        &self,
        name: &str,
        at_most: Option<i64>,
        seed: impl FnOnce() -> F,
    ) -> StoreResult<Option<i64>>
    where
        F: std::future::Future<Output = StoreResult<i64>>,
    {
        self.sequence_add(name, 1, at_most, seed).await
    }

    /// How far a per-key sequence has gone (0 before its first number), seeded like
    /// [`Store::next_in_sequence`], so both read the same count.
    pub async fn sequence_value<F>(&self, name: &str, seed: impl FnOnce() -> F) -> StoreResult<i64>
    where
        F: std::future::Future<Output = StoreResult<i64>>,
    {
        let value = self.sequence_add(name, 0, None, seed).await?;
        Ok(value.unwrap_or(0))
    }

    async fn sequence_add<F>(
        &self,
        name: &str,
        by: i64,
        at_most: Option<i64>,
        seed: impl FnOnce() -> F,
    ) -> StoreResult<Option<i64>>
    where
        F: std::future::Future<Output = StoreResult<i64>>,
    {
        let how = CounterAdd {
            create: false,
            at_most,
        };
        let mut seed = Some(seed);
        loop {
            match self.backend.counter_add(name, by, how).await? {
                Counted::Value(n) => return Ok(Some(n)),
                Counted::Capped => return Ok(None),
                Counted::Missing => {
                    let Some(seed) = seed.take() else {
                        return Err(StoreError::Other(format!("sequence {name} vanished")));
                    };
                    // Racing seeders count the same data; the first one's value stands.
                    self.backend.counter_init(name, seed().await?).await?;
                }
            }
        }
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let filter = Filter::Eq("email_lower", Value::from(email.to_lowercase()));
        self.users().find_one(&filter).await
    }

    /// Users with the given ids, in id order; ids that do not exist are skipped.
    pub async fn users_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<User>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let filter = Filter::In("id", ids.iter().map(|&id| Value::from(id)).collect());
        self.users().find(&filter, None).await
    }
}
