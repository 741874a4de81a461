//! The embedded backend: one SQLite file (bundled SQLite, WAL mode), so `cargo run` works on
//! a machine with no database server.
//!
//! Each collection is a table `(id INTEGER PRIMARY KEY, doc TEXT)` holding the document as
//! JSON; indexed fields get expression indexes on `json_extract(doc, '$.field')`, and queries
//! use the very same expression so SQLite's planner picks them. Every primitive is a single
//! statement, so every write is atomic. rusqlite is blocking: calls run on tokio's blocking
//! pool, never on the async workers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, ErrorCode, OptionalExtension};
use serde_json::Value;

use super::{Backend, Filter, IndexSpec, Page, StoreError, StoreResult};

pub struct SqliteBackend {
    conn: Arc<Mutex<Connection>>,
}

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
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> StoreResult<Connection> {
            let conn = Connection::open(&path)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // WAL: readers never block the writer; NORMAL sync survives a killed process.
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
            )?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))??;
        Ok(SqliteBackend {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a statement half-done (SQLite rolls
            // it back), so a poisoned lock is still safe to use.
            let guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&guard)
        })
        .await
        .map_err(|e| StoreError::Other(format!("store task failed: {e}")))?
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
        self.with_conn(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
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

    async fn reserve_ids(&self, counter: &'static str, count: u32) -> StoreResult<i64> {
        self.with_conn(move |c| {
            let last: i64 = c.query_row(
                "INSERT INTO counters (name, seq) VALUES (?1, ?2) \
                 ON CONFLICT (name) DO UPDATE SET seq = seq + ?2 RETURNING seq",
                rusqlite::params![counter, count],
                |row| row.get(0),
            )?;
            Ok(last - i64::from(count) + 1)
        })
        .await
    }

    async fn insert(&self, collection: &'static str, id: i64, doc: Value) -> StoreResult<()> {
        self.with_conn(move |c| {
            c.execute(
                &format!("INSERT INTO {collection} (id, doc) VALUES (?1, ?2)"),
                rusqlite::params![id, doc.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn get(&self, collection: &'static str, id: i64) -> StoreResult<Option<Value>> {
        self.with_conn(move |c| {
            let text: Option<String> = c
                .query_row(
                    &format!("SELECT doc FROM {collection} WHERE id = ?1"),
                    [id],
                    |row| row.get(0),
                )
                .optional()?;
            text.as_deref().map(parse_doc).transpose()
        })
        .await
    }

    async fn find(
        &self,
        collection: &'static str,
        filter: &Filter,
        page: Option<Page>,
    ) -> StoreResult<Vec<Value>> {
        let filter = filter.clone();
        self.with_conn(move |c| {
            let mut params = Vec::new();
            let clause = where_clause(&filter, &mut params);
            let mut sql = format!("SELECT doc FROM {collection} WHERE {clause} ORDER BY id");
            if let Some(page) = page {
                sql.push_str(&format!(" LIMIT {} OFFSET {}", page.limit, page.offset));
            }
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(params), |row| row.get::<_, String>(0))?;
            rows.map(|text| parse_doc(&text?)).collect()
        })
        .await
    }

    async fn count(&self, collection: &'static str, filter: &Filter) -> StoreResult<u64> {
        let filter = filter.clone();
        self.with_conn(move |c| {
            let mut params = Vec::new();
            let clause = where_clause(&filter, &mut params);
            let sql = format!("SELECT COUNT(*) FROM {collection} WHERE {clause}");
            let n: i64 = c.query_row(&sql, params_from_iter(params), |row| row.get(0))?;
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
        self.with_conn(move |c| {
            let changed = c.execute(
                &format!(
                    "UPDATE {collection} SET doc = ?1 \
                     WHERE id = ?2 AND json_extract(doc, '$._v') = ?3"
                ),
                rusqlite::params![doc.to_string(), id, version],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete(&self, collection: &'static str, id: i64) -> StoreResult<bool> {
        self.with_conn(move |c| {
            let changed = c.execute(&format!("DELETE FROM {collection} WHERE id = ?1"), [id])?;
            Ok(changed == 1)
        })
        .await
    }
}
