//! The embedded backend: one SQLite file (bundled SQLite, WAL mode), so `cargo run` works on
//! a machine with no database server.
//!
//! Each collection is a table `(id INTEGER PRIMARY KEY, doc TEXT)` holding the document as
//! JSON; indexed fields get expression indexes on `json_extract(doc, '$.field')`, and queries
//! use the very same expression so SQLite's planner picks them. Every primitive is a single
//! statement, so every write is atomic.
//!
//! rusqlite is blocking, so the connection lives on a thread of its own and calls are sent
//! to it as jobs. The thread runs whatever jobs are queued as one transaction (group
//! commit), each job inside its own savepoint so a failing job undoes only itself, and
//! answers the callers once the transaction is committed. Under load this turns thousands
//! of small commits and thread hand-offs into a few dozen; alone, a job runs as before.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension};
use serde_json::Value;
use tokio::sync::oneshot;

use super::{
    Backend, Counted, CounterAdd, FieldPath, Filter, IndexSpec, Page, StoreError, StoreResult,
    VERSION_FIELD,
};

/// Most jobs committed together: bounds how long the first of a batch waits for the rest.
const MAX_BATCH: usize = 256;

/// What a job leaves for after its batch's commit: whether it succeeded (else its savepoint
/// is rolled back), and how to hand its result to the caller given the commit's outcome.
struct Done {
    ok: bool,
    deliver: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

type Job = Box<dyn FnOnce(&Connection) -> Done + Send>;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

pub struct SqliteBackend {
    jobs: mpsc::Sender<Job>,
    /// The reader thread, with a connection of its own. In WAL mode a reader never waits
    /// for the writer, so reads (most of a request's store calls) neither queue behind a
    /// batch of writes nor wait for its commit, as they did when every call went through
    /// the store thread; a read sees whatever was committed when it starts, which includes
    /// every write already acknowledged to anybody.
    reads: mpsc::Sender<ReadJob>,
    /// Dropped with the backend, which tells the checkpoint thread to stop.
    _closed: mpsc::Sender<()>,
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// The WAL size past which the checkpoint thread empties the file (see [`checkpoint`]).
const WAL_TRUNCATE_AT: u64 = 64 * 1024 * 1024;

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(ErrorCode::ConstraintViolation) => StoreError::Duplicate,
            Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::SystemIoFailure) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Other(err.to_string()),
        }
    }
}

impl SqliteBackend {
    /// Opens (creating if needed) the database file and its parent folder.
    pub async fn open(path: &Path) -> StoreResult<SqliteBackend> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let (path, checkpoint_path) = (path.to_owned(), path.to_owned());
        let conn = tokio::task::spawn_blocking(move || -> StoreResult<Connection> {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // WAL: readers never block the writer; NORMAL sync survives a killed process.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // Checkpoints (copying the WAL back into the database, with an fsync) run on a
            // thread of their own, not in the middle of somebody's write.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
            )?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))??;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite".to_owned())
            .spawn(move || serve(conn, queue))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the store thread: {e}")))?;
        let (reads, read_queue) = mpsc::channel();
        let reader_path = checkpoint_path.clone();
        let reader = tokio::task::spawn_blocking(move || -> StoreResult<Connection> {
            let conn = Connection::open(&reader_path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // Reads only: a write here would bypass the store thread's ordering.
            conn.pragma_update(None, "query_only", true)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))??;
        std::thread::Builder::new()
            .name("sqlite-read".to_owned())
            .spawn(move || serve_reads(reader, read_queue))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the reader thread: {e}")))?;
        let (closed, closing) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpoint(&checkpoint_path, &closing))
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(SqliteBackend {
            jobs,
            reads,
            _closed: closed,
        })
    }

    /// Runs `f` on a reader connection: it sees every write acknowledged before the call
    /// and waits for no batch to commit.
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        let stopped = || StoreError::Unavailable("the store readers stopped".to_owned());
        self.reads.send(job).map_err(|_| stopped())?;
        result
            .await
            .map_err(|_| StoreError::Other("a store read failed".to_owned()))?
    }

    /// Runs `f` with the connection on the store's thread; answers once it is committed.
    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let outcome = f(conn);
            Done {
                ok: outcome.is_ok(),
                deliver: Box::new(move |committed| {
                    let _ = reply.send(committed.and(outcome));
                }),
            }
        });
        let stopped = || StoreError::Unavailable("the store thread stopped".to_owned());
        self.jobs.send(job).map_err(|_| stopped())?;
        // A job that panicked drops its reply: its caller gets an error, the others go on.
        result
            .await
            .map_err(|_| StoreError::Other("a store call failed".to_owned()))?
    }
}

/// Runs a job, turning a panic into a failed job.
fn run(job: Job, conn: &Connection) -> Option<Done> {
    catch_unwind(AssertUnwindSafe(|| job(conn))).ok()
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// The checkpoint thread: a PASSIVE checkpoint (it never waits for, nor blocks, the store
/// thread) every [`CHECKPOINT_INTERVAL`] until the backend is dropped.
///
/// Under a steady stream of writes a PASSIVE checkpoint never catches up with the end of
/// the WAL, so SQLite never starts the WAL over and the file only grows (hundreds of MB in
/// minutes of submissions). Once it passes [`WAL_TRUNCATE_AT`], a TRUNCATE checkpoint waits
/// for the store thread's current transaction, holds off the next one while it copies what
/// is left, and empties the file: a pause of a few milliseconds, once per that many bytes.
fn checkpoint(path: &Path, closing: &mpsc::Receiver<()>) {
    let conn = match Connection::open(path) {
        Ok(conn) => conn,
        Err(err) => {
            tracing::error!(%err, "no checkpoint connection: the WAL file will grow");
            return;
        }
    };
    // Waits (rather than failing) for the store thread's transaction to end.
    if let Err(err) = conn.busy_timeout(std::time::Duration::from_secs(5)) {
        tracing::warn!(%err, "no busy timeout on the checkpoint connection");
    }
    let wal = wal_path(path);
    while let Err(mpsc::RecvTimeoutError::Timeout) = closing.recv_timeout(CHECKPOINT_INTERVAL) {
        let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
        let mode = if size > WAL_TRUNCATE_AT {
            "TRUNCATE"
        } else {
            "PASSIVE"
        };
        let done = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
            row.get::<_, i64>(0)
        });
        match done {
            Ok(0) => {}
            Ok(_) => tracing::debug!(mode, size, "checkpoint could not finish (busy)"),
            Err(err) => tracing::warn!(%err, mode, "checkpoint failed"),
        }
    }
}

/// The WAL file beside a database file.
fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// The reader thread: runs read jobs, one at a time, until the backend is dropped.
fn serve_reads(conn: Connection, queue: mpsc::Receiver<ReadJob>) {
    while let Ok(job) = queue.recv() {
        // A job that panics drops its reply: its caller gets an error, the others go on.
        let _ = catch_unwind(AssertUnwindSafe(|| job(&conn)));
    }
}

/// The store thread: runs jobs until every handle to the backend is dropped.
fn serve(conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() == 1 || exec(&conn, "BEGIN IMMEDIATE").is_err() {
            // Alone (or when a transaction cannot start): each job commits by itself.
            for job in batch {
                if let Some(done) = run(job, &conn) {
                    (done.deliver)(Ok(()));
                }
            }
            continue;
        }
        let mut delivered = Vec::with_capacity(batch.len());
        for job in batch {
            if let Err(err) = exec(&conn, "SAVEPOINT job") {
                tracing::error!(%err, "store savepoint failed");
                continue; // the job is dropped: its caller gets an error
            }
            let done = run(job, &conn);
            let ok = done.as_ref().is_some_and(|done| done.ok);
            delivered.extend(done.map(|done| done.deliver));
            let end = if ok {
                exec(&conn, "RELEASE job")
            } else {
                exec(&conn, "ROLLBACK TO job").and_then(|()| exec(&conn, "RELEASE job"))
            };
            if let Err(err) = end {
                tracing::error!(%err, "store savepoint failed");
            }
        }
        let committed = exec(&conn, "COMMIT");
        if committed.is_err() {
            let _ = exec(&conn, "ROLLBACK");
        }
        for deliver in delivered {
            deliver(committed.clone());
        }
    }
}

fn field_expr(field: &str) -> String {
    if field == "id" {
        "id".to_owned()
    } else {
        format!("json_extract(doc, '$.{field}')")
    }
}

/// How a JSON scalar compares with what `json_extract` returns.
fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

/// Turns a filter into a `WHERE` clause and its parameters.
fn where_clause(filter: &Filter, params: &mut Vec<SqlValue>) -> String {
    match filter {
        Filter::All => "1".to_owned(),
        Filter::Eq(field, Value::Null) => format!("{} IS NULL", field_expr(field)),
        Filter::Eq(field, value) => {
            params.push(sql_value(value));
            format!("{} = ?", field_expr(field))
        }
        Filter::In(_, values) if values.is_empty() => "0".to_owned(),
        Filter::In(field, values) => {
            params.extend(values.iter().map(sql_value));
            let marks = vec!["?"; values.len()].join(", ");
            format!("{} IN ({marks})", field_expr(field))
        }
        Filter::Contains(field, value) => {
            params.push(sql_value(value));
            format!("EXISTS (SELECT 1 FROM json_each(doc, '$.{field}') WHERE value = ?)")
        }
        Filter::IdAfter(id) => {
            params.push(SqlValue::Integer(*id));
            "id > ?".to_owned()
        }
        Filter::Prefix(field, prefix) => {
            // A range, not LIKE: SQLite uses the expression index for it (text compares
            // bytewise, and no UTF-8 string that starts with the prefix sorts past it
            // followed by the last code point).
            params.push(SqlValue::Text(prefix.clone()));
            params.push(SqlValue::Text(format!("{prefix}\u{10FFFF}")));
            let expr = field_expr(field);
            format!("{expr} >= ? AND {expr} < ?")
        }
        Filter::And(filters) if filters.is_empty() => "1".to_owned(),
        Filter::And(filters) => filters
            .iter()
            .map(|f| format!("({})", where_clause(f, params)))
            .collect::<Vec<_>>()
            .join(" AND "),
    }
}

fn parse_doc(text: &str) -> StoreResult<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Other(format!("corrupt document: {e}")))
}

#[async_trait]
impl Backend for SqliteBackend {
    fn kind(&self) -> &'static str {
        "embedded"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn migrate(
        &self,
        collections: &[&'static str],
        indexes: &[IndexSpec],
    ) -> StoreResult<()> {
        let (collections, indexes) = (collections.to_vec(), indexes.to_vec());
        self.with_conn(move |c| {
            for collection in collections {
                c.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {collection} \
                     (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)"
                ))?;
            }
            for index in indexes {
                let unique = if index.unique { "UNIQUE" } else { "" };
                c.execute_batch(&format!(
                    "CREATE {unique} INDEX IF NOT EXISTS {c}_{f} ON {c} ({expr})",
                    c = index.collection,
                    f = index.field,
                    expr = field_expr(index.field),
                ))?;
            }
            Ok(())
        })
        .await
    }

    async fn counter_add(&self, name: &str, by: i64, how: CounterAdd) -> StoreResult<Counted> {
        let name = name.to_owned();
        // `seq <= cap - by` rather than `seq + by <= cap`: no overflow near i64::MAX.
        let below = how.at_most.unwrap_or(i64::MAX).saturating_sub(by);
        self.with_conn(move |c| {
            if how.create {
                c.prepare_cached(
                    "INSERT INTO counters (name, seq) VALUES (?1, 0) ON CONFLICT (name) DO NOTHING",
                )?
                .execute([&name])?;
            }
            let added: Option<i64> = c
                .prepare_cached(
                    "UPDATE counters SET seq = seq + ?2 WHERE name = ?1 AND seq <= ?3 RETURNING seq",
                )?
                .query_row(rusqlite::params![name, by, below], |row| row.get(0))
                .optional()?;
            if let Some(value) = added {
                return Ok(Counted::Value(value));
            }
            let exists = c
                .prepare_cached("SELECT 1 FROM counters WHERE name = ?1")?
                .query_row([&name], |_| Ok(()))
                .optional()?
                .is_some();
            Ok(if exists {
                Counted::Capped
            } else {
                Counted::Missing
            })
        })
        .await
    }

    async fn counter_init(&self, name: &str, value: i64) -> StoreResult<bool> {
        let name = name.to_owned();
        self.with_conn(move |c| {
            let created = c
                .prepare_cached(
                    "INSERT INTO counters (name, seq) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                )?
                .execute(rusqlite::params![name, value])?;
            Ok(created == 1)
        })
        .await
    }

    async fn insert(&self, collection: &'static str, doc: Value) -> StoreResult<i64> {
        // Encoding (and, below, parsing) happens on the caller's thread: the store thread
        // is the one everybody waits for. The id is drawn and the row written in one job:
        // one round trip. (An insert refused by a unique index may leave its id unused,
        // which is harmless: ids are never handed out twice, gaps are allowed.)
        let (sql, doc) = (
            format!("INSERT INTO {collection} (id, doc) VALUES (?1, json_set(?2, '$.id', ?1))"),
            doc.to_string(),
        );
        self.with_conn(move |c| {
            let id: i64 = c
                .prepare_cached(
                    "INSERT INTO counters (name, seq) VALUES (?1, 1) \
                     ON CONFLICT (name) DO UPDATE SET seq = seq + 1 RETURNING seq",
                )?
                .query_row([collection], |row| row.get(0))?;
            c.prepare_cached(&sql)?
                .execute(rusqlite::params![id, doc])?;
            Ok(id)
        })
        .await
    }

    async fn get(&self, collection: &'static str, id: i64) -> StoreResult<Option<Value>> {
        let sql = format!("SELECT doc FROM {collection} WHERE id = ?1");
        let text: Option<String> = self
            .read(move |c| {
                Ok(c.prepare_cached(&sql)?
                    .query_row([id], |row| row.get(0))
                    .optional()?)
            })
            .await?;
        text.as_deref().map(parse_doc).transpose()
    }

    async fn find(
        &self,
        collection: &'static str,
        filter: &Filter,
        page: Option<Page>,
    ) -> StoreResult<Vec<Value>> {
        let mut params = Vec::new();
        let clause = where_clause(filter, &mut params);
        let mut sql = format!("SELECT doc FROM {collection} WHERE {clause} ORDER BY id");
        if let Some(page) = page {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", page.limit, page.offset));
        }
        let texts = self
            .read(move |c| {
                let mut stmt = c.prepare_cached(&sql)?;
                let rows =
                    stmt.query_map(params_from_iter(params), |row| row.get::<_, String>(0))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        texts.iter().map(|text| parse_doc(text)).collect()
    }

    async fn count(&self, collection: &'static str, filter: &Filter) -> StoreResult<u64> {
        let mut params = Vec::new();
        let clause = where_clause(filter, &mut params);
        let sql = format!("SELECT COUNT(*) FROM {collection} WHERE {clause}");
        self.read(move |c| {
            let n: i64 = c
                .prepare_cached(&sql)?
                .query_row(params_from_iter(params), |row| row.get(0))?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn replace(
        &self,
        collection: &'static str,
        id: i64,
        version: i64,
        doc: Value,
    ) -> StoreResult<bool> {
        let sql = format!(
            "UPDATE {collection} SET doc = ?1 WHERE id = ?2 AND json_extract(doc, '$._v') = ?3"
        );
        let doc = doc.to_string();
        self.with_conn(move |c| {
            let changed = c
                .prepare_cached(&sql)?
                .execute(rusqlite::params![doc, id, version])?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete(&self, collection: &'static str, id: i64) -> StoreResult<bool> {
        let sql = format!("DELETE FROM {collection} WHERE id = ?1");
        self.with_conn(move |c| Ok(c.prepare_cached(&sql)?.execute([id])? == 1))
            .await
    }

    async fn set_fields(
        &self,
        collection: &'static str,
        id: i64,
        fields: Vec<(FieldPath, Value)>,
    ) -> StoreResult<bool> {
        // json_set(doc, path1, json(value1), path2, json(value2), …, '$._v', version + 1)
        let pairs = vec!["?, json(?)"; fields.len()].join(", ");
        let sql = format!(
            "UPDATE {collection} SET doc = json_set(doc, {pairs}, \
             '$.{VERSION_FIELD}', coalesce(json_extract(doc, '$.{VERSION_FIELD}'), 0) + 1) \
             WHERE id = ?"
        );
        let mut params: Vec<SqlValue> = Vec::with_capacity(2 * fields.len() + 1);
        for (path, value) in &fields {
            params.push(SqlValue::Text(json_path(path)));
            params.push(SqlValue::Text(value.to_string()));
        }
        params.push(SqlValue::Integer(id));
        self.with_conn(move |c| Ok(c.prepare_cached(&sql)?.execute(params_from_iter(params))? == 1))
            .await
    }

    async fn set_membership(
        &self,
        collection: &'static str,
        id: i64,
        field: &FieldPath,
        value: Value,
        present: bool,
    ) -> StoreResult<Option<Value>> {
        // ?2 is the array's path. Adding appends unless an equal element is there; removing
        // rebuilds the array from the other elements, in their order. `json(…)` around the
        // CASE keeps the result JSON (not a string) for json_set.
        let sql = format!(
            "UPDATE {collection} SET doc = json_set(doc, ?2, json(CASE WHEN ?5 THEN \
               (CASE WHEN EXISTS (SELECT 1 FROM json_each(doc, ?2) WHERE value = ?3) \
                 THEN coalesce(json_extract(doc, ?2), '[]') \
                 ELSE json_insert(coalesce(json_extract(doc, ?2), '[]'), '$[#]', json(?4)) END) \
             ELSE (SELECT json_group_array(value ORDER BY key) FROM json_each(doc, ?2) \
                   WHERE value IS NOT ?3) END), \
             '$.{VERSION_FIELD}', coalesce(json_extract(doc, '$.{VERSION_FIELD}'), 0) + 1) \
             WHERE id = ?1 RETURNING doc"
        );
        let params = [
            SqlValue::Integer(id),
            SqlValue::Text(json_path(field)),
            sql_value(&value),
            SqlValue::Text(value.to_string()),
            SqlValue::Integer(i64::from(present)),
        ];
        let text: Option<String> = self
            .with_conn(move |c| {
                Ok(c.prepare_cached(&sql)?
                    .query_row(params_from_iter(params), |row| row.get(0))
                    .optional()?)
            })
            .await?;
        text.as_deref().map(parse_doc).transpose()
    }
}

/// A [`FieldPath`] in SQLite's JSON path syntax: `$."answers"."12"`.
fn json_path(path: &FieldPath) -> String {
    let keys: String = path.keys().iter().map(|k| format!(".\"{k}\"")).collect();
    format!("${keys}")
}
