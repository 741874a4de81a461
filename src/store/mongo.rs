//! The MongoDB backend (production, `docker compose up`).
//!
//! One shared [`mongodb::Client`]. A collection per collection; a document's integer id is
//! its `_id` (and is also kept as `id`, so documents read the same on both backends). Ids come
//! from a `counters` collection with one atomic `$inc` per id. Unique indexes are created at
//! start. Each primitive is one driver call, so each write is atomic on its document;
//! optimistic concurrency (`_v`) is the filter of `replace_one`.

use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{self, doc, Bson, Document as BsonDocument};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};
use serde_json::Value;

use super::shared::{Feed, FeedItem, Shared, EVENTS_KEPT};
use super::{
    Backend, Counted, CounterAdd, FieldPath, Filter, IndexSpec, Page, StoreError, StoreResult,
    VERSION_FIELD,
};

const DEFAULT_DATABASE: &str = "testit";
/// Connection settings, unless the URI sets them (README, "Storage").
const APP_NAME: &str = "testit";
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per server: the driver's default of 10 queues a class's submissions behind
/// each other; more than this mostly adds contention on the server.
const MAX_POOL_SIZE: u32 = 32;
const DUPLICATE_KEY: i32 = 11000;
const COUNTERS: &str = "counters";
/// The shared feed of live events ([`Shared`]), and counters that expire.
const EVENTS: &str = "events";
const EXPIRING: &str = "expiring_counters";
const CLAIMS: &str = "claims";
/// The pause before a broken change stream is opened again.
const REOPEN_AFTER: Duration = Duration::from_millis(500);
/// Events read from the stream that wait for the process to take them.
const FEED_QUEUE: usize = 4096;

/// Whether a database URL names MongoDB (anything else is the embedded store's file).
pub fn names_mongodb(url: &str) -> bool {
    url.starts_with("mongodb://") || url.starts_with("mongodb+srv://")
}

pub struct MongoBackend {
    db: Database,
}

/// Whether a unique index refused the write: a write error on insert or update, a command
/// error from `findAndModify`.
fn is_duplicate(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

impl From<mongodb::error::Error> for StoreError {
    fn from(err: mongodb::error::Error) -> Self {
        if is_duplicate(&err) {
            return StoreError::Duplicate;
        }
        match err.kind.as_ref() {
            // No server, or the connection broke: the client is told to retry (503), not
            // that the server is faulty.
            ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Other(err.to_string()),
        }
    }
}

impl MongoBackend {
    /// Parses the URI and builds the client; the database is the URI's, or `testit`.
    pub async fn connect(uri: &str) -> StoreResult<MongoBackend> {
        Self::connect_to(uri, None).await
    }

    /// Like [`MongoBackend::connect`], with the database named (test suites use a fresh one).
    pub async fn connect_to(uri: &str, database: Option<&str>) -> StoreResult<MongoBackend> {
        // Defaults for what the URI leaves unset (its own options win).
        let mut options = ClientOptions::parse(uri).await?;
        options.app_name.get_or_insert_with(|| APP_NAME.to_owned());
        // Fail a request in seconds, not the driver's default 30, when the server is gone.
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.max_pool_size.get_or_insert(MAX_POOL_SIZE);
        let client = Client::with_options(options)?;
        let db = match database {
            Some(name) => client.database(name),
            None => client
                .default_database()
                .unwrap_or_else(|| client.database(DEFAULT_DATABASE)),
        };
        Ok(MongoBackend { db })
    }

    /// The database itself, for test suites that want a throw-away one.
    pub fn database(&self) -> &Database {
        &self.db
    }

    fn collection(&self, name: &str) -> Collection<BsonDocument> {
        self.db.collection(name)
    }
}

fn field_name(field: &str) -> &str {
    if field == "id" {
        "_id"
    } else {
        field
    }
}

fn to_bson(value: &Value) -> StoreResult<Bson> {
    bson::to_bson(value).map_err(|e| StoreError::Other(e.to_string()))
}

fn filter_doc(filter: &Filter) -> StoreResult<BsonDocument> {
    Ok(match filter {
        Filter::All => doc! {},
        // `{field: null}` matches a null or a missing field, as the SQLite backend does.
        Filter::Eq(field, value) | Filter::Contains(field, value) => {
            doc! { field_name(field): to_bson(value)? }
        }
        Filter::In(field, values) => {
            let values = values
                .iter()
                .map(to_bson)
                .collect::<StoreResult<Vec<_>>>()?;
            doc! { field_name(field): { "$in": values } }
        }
        Filter::IdAfter(id) => doc! { "_id": { "$gt": *id } },
        // A range, as in the embedded store: an index scan, and no regex to escape.
        Filter::Prefix(field, prefix) => {
            doc! { field_name(field): { "$gte": prefix.as_str(), "$lt": format!("{prefix}\u{10FFFF}") } }
        }
        Filter::And(filters) if filters.is_empty() => doc! {},
        Filter::And(filters) => {
            let parts = filters
                .iter()
                .map(filter_doc)
                .collect::<StoreResult<Vec<_>>>()?;
            doc! { "$and": parts }
        }
    })
}

fn to_stored(id: i64, doc: &Value) -> StoreResult<BsonDocument> {
    let mut stored = bson::to_document(doc).map_err(|e| StoreError::Other(e.to_string()))?;
    stored.insert("_id", id);
    Ok(stored)
}

fn from_stored(mut stored: BsonDocument) -> StoreResult<Value> {
    stored.remove("_id");
    bson::from_document(stored).map_err(|e| StoreError::Other(format!("corrupt document: {e}")))
}

#[async_trait]
impl Backend for MongoBackend {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    async fn migrate(
        &self,
        _collections: &[&'static str],
        indexes: &[IndexSpec],
    ) -> StoreResult<()> {
        // MongoDB creates collections on first write; only the indexes need declaring.
        for index in indexes {
            // Unique indexes are partial: they hold for documents where the field is a string
            // (every unique field is one), so absent or null values never collide, as in the
            // embedded store, where a unique index ignores NULLs.
            let partial = index
                .unique
                .then(|| doc! { index.field: { "$type": "string" } });
            let name = if index.unique {
                format!("{}_unique_present", index.field)
            } else {
                format!("{}_idx", index.field)
            };
            if index.unique {
                // Before partial indexes, unique ones were total and named `<field>_unique`;
                // a total index would still refuse a second null. Gone or never made: fine.
                let legacy = format!("{}_unique", index.field);
                let _ = self.collection(index.collection).drop_index(legacy).await;
            }
            let options = IndexOptions::builder()
                .name(name)
                .unique(index.unique)
                .partial_filter_expression(partial)
                .build();
            let model = IndexModel::builder()
                .keys(doc! { index.field: 1 })
                .options(options)
                .build();
            self.collection(index.collection)
                .create_index(model)
                .await?;
        }
        // What processes share: events and counters leave by themselves (TTL indexes).
        let ttl = |field: &str, after: Duration| {
            IndexModel::builder()
                .keys(doc! { field: 1 })
                .options(
                    IndexOptions::builder()
                        .name(format!("{field}_ttl"))
                        .expire_after(after)
                        .build(),
                )
                .build()
        };
        self.collection(EVENTS)
            .create_index(ttl("at", EVENTS_KEPT))
            .await?;
        self.collection(EXPIRING)
            .create_index(ttl("expires_at", Duration::ZERO))
            .await?;
        Ok(())
    }

    async fn counter_add(&self, name: &str, by: i64, how: CounterAdd) -> StoreResult<Counted> {
        let counters = self.collection(COUNTERS);
        let below = how.at_most.map(|cap| cap.saturating_sub(by));
        let mut filter = doc! { "_id": name };
        if let Some(below) = below {
            filter.insert("seq", doc! { "$lte": below });
        }
        loop {
            let added = counters
                .find_one_and_update(filter.clone(), doc! { "$inc": { "seq": by } })
                .upsert(how.create)
                .return_document(ReturnDocument::After)
                .await;
            match added {
                Ok(Some(counter)) => return Ok(Counted::Value(seq(&counter)?)),
                // An upsert whose cap did not match tried to create the existing counter.
                Err(err) if is_duplicate(&err) => {}
                Err(err) => return Err(err.into()),
                Ok(None) => {}
            }
            // No counter matched: tell "capped" from "missing" by reading it. A counter
            // created between the update and this read (by a racing seeder or upsert) is
            // neither: the update is tried again.
            match counters.find_one(doc! { "_id": name }).await? {
                None if !how.create => return Ok(Counted::Missing),
                None => {}
                Some(counter) => {
                    let value = seq(&counter)?;
                    if below.is_some_and(|below| value > below) {
                        return Ok(Counted::Capped);
                    }
                }
            }
        }
    }

    async fn counter_init(&self, name: &str, value: i64) -> StoreResult<bool> {
        let created = self
            .collection(COUNTERS)
            .update_one(
                doc! { "_id": name },
                doc! { "$setOnInsert": { "seq": value } },
            )
            .upsert(true)
            .await;
        match created {
            Ok(result) => Ok(result.upserted_id.is_some()),
            // Two concurrent upserts of one new `_id`: the other one created it.
            Err(err) if is_duplicate(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    async fn insert(&self, collection: &'static str, mut doc: Value) -> StoreResult<i64> {
        let how = CounterAdd {
            create: true,
            at_most: None,
        };
        let Counted::Value(id) = self.counter_add(collection, 1, how).await? else {
            return Err(StoreError::Other(format!("no id for a new {collection}")));
        };
        if let Some(fields) = doc.as_object_mut() {
            fields.insert("id".to_owned(), Value::from(id));
        }
        self.collection(collection)
            .insert_one(to_stored(id, &doc)?)
            .await?;
        Ok(id)
    }

    async fn get(&self, collection: &'static str, id: i64) -> StoreResult<Option<Value>> {
        let found = self
            .collection(collection)
            .find_one(doc! { "_id": id })
            .await?;
        found.map(from_stored).transpose()
    }

    async fn find(
        &self,
        collection: &'static str,
        filter: &Filter,
        page: Option<Page>,
    ) -> StoreResult<Vec<Value>> {
        let handle = self.collection(collection);
        let mut query = handle.find(filter_doc(filter)?).sort(doc! { "_id": 1 });
        if let Some(page) = page {
            query = query
                .skip(page.offset)
                .limit(i64::try_from(page.limit).unwrap_or(i64::MAX));
        }
        let mut cursor = query.await?;
        let mut docs = Vec::new();
        while cursor.advance().await? {
            let stored: BsonDocument = cursor.deserialize_current()?;
            docs.push(from_stored(stored)?);
        }
        Ok(docs)
    }

    async fn count(&self, collection: &'static str, filter: &Filter) -> StoreResult<u64> {
        Ok(self
            .collection(collection)
            .count_documents(filter_doc(filter)?)
            .await?)
    }

    async fn replace(
        &self,
        collection: &'static str,
        id: i64,
        version: i64,
        doc: Value,
    ) -> StoreResult<bool> {
        let result = self
            .collection(collection)
            .replace_one(
                doc! { "_id": id, VERSION_FIELD: version },
                to_stored(id, &doc)?,
            )
            .await?;
        Ok(result.matched_count == 1)
    }

    async fn delete(&self, collection: &'static str, id: i64) -> StoreResult<bool> {
        let result = self
            .collection(collection)
            .delete_one(doc! { "_id": id })
            .await?;
        Ok(result.deleted_count == 1)
    }

    async fn set_fields(
        &self,
        collection: &'static str,
        id: i64,
        fields: Vec<(FieldPath, Value)>,
    ) -> StoreResult<bool> {
        // `$set` on a dotted path creates missing embedded documents, as `json_set` does.
        let mut set = BsonDocument::new();
        for (path, value) in &fields {
            set.insert(path.keys().join("."), to_bson(value)?);
        }
        let update = doc! { "$set": set, "$inc": { VERSION_FIELD: 1 } };
        let result = self
            .collection(collection)
            .update_one(doc! { "_id": id }, update)
            .await?;
        Ok(result.matched_count == 1)
    }

    async fn set_membership(
        &self,
        collection: &'static str,
        id: i64,
        field: &FieldPath,
        value: Value,
        present: bool,
    ) -> StoreResult<Option<Value>> {
        let (op, path) = (
            if present { "$addToSet" } else { "$pull" },
            field.keys().join("."),
        );
        let update = doc! { op: { path: to_bson(&value)? }, "$inc": { VERSION_FIELD: 1 } };
        let written = self
            .collection(collection)
            .find_one_and_update(doc! { "_id": id }, update)
            .return_document(ReturnDocument::After)
            .await?;
        written.map(from_stored).transpose()
    }

    fn shared(&self) -> Option<&dyn Shared> {
        Some(self)
    }
}

#[async_trait]
impl Shared for MongoBackend {
    async fn append_events(&self, events: Vec<String>) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let at = bson::DateTime::now();
        let docs = events.into_iter().map(|e| doc! { "at": at, "e": e });
        // Ordered (the default): the stream sees them in this order.
        self.collection(EVENTS).insert_many(docs).await?;
        Ok(())
    }

    async fn follow_events(&self) -> StoreResult<Feed> {
        let events = self.collection(EVENTS);
        // The first stream opens here, so that the process hears everything appended once
        // it serves requests, and a store that cannot stream says so at start.
        let stream = open_stream(&events, None).await?;
        let (sender, items) = tokio::sync::mpsc::channel(FEED_QUEUE);
        let live = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        tokio::spawn(follow(events, stream, sender, live.clone()));
        Ok(Feed { items, live })
    }

    async fn count_until(&self, key: &str, by: i64, expires_at: i64) -> StoreResult<i64> {
        let counters = self.collection(EXPIRING);
        let found = if by == 0 {
            counters.find_one(doc! { "_id": key }).await?
        } else {
            let expires = bson::DateTime::from_millis(expires_at.saturating_mul(1000));
            counters
                .find_one_and_update(
                    doc! { "_id": key },
                    doc! { "$inc": { "n": by }, "$setOnInsert": { "expires_at": expires } },
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await?
        };
        Ok(match found.as_ref().and_then(|d| d.get("n")) {
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            _ => 0,
        })
    }

    async fn claim(&self, key: &str, owner: &str, lease: Duration) -> StoreResult<bool> {
        // The lease is measured on this server's clock (README, "Running several servers").
        let now = bson::DateTime::now();
        let until = bson::DateTime::from_millis(now.timestamp_millis() + lease.as_millis() as i64);
        // Matches only an expired claim; otherwise the upsert inserts, and the unique `_id`
        // of a running one refuses it: one atomic write either way.
        let taken = self
            .collection(CLAIMS)
            .update_one(
                doc! { "_id": key, "until": { "$lt": now } },
                doc! { "$set": { "owner": owner, "until": until } },
            )
            .upsert(true)
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(err) if is_duplicate(&err) => Ok(false),
            Err(err) => Err(err.into()),
        }
    }

    async fn renew(&self, key: &str, owner: &str, lease: Duration) -> StoreResult<bool> {
        let now = bson::DateTime::now().timestamp_millis();
        let until = bson::DateTime::from_millis(now + lease.as_millis() as i64);
        let renewed = self
            .collection(CLAIMS)
            .update_one(
                doc! { "_id": key, "owner": owner },
                doc! { "$set": { "until": until } },
            )
            .await?;
        Ok(renewed.matched_count == 1)
    }

    async fn release(&self, key: &str, owner: &str) -> StoreResult<()> {
        self.collection(CLAIMS)
            .delete_one(doc! { "_id": key, "owner": owner })
            .await?;
        Ok(())
    }

    async fn release_all(&self, owner: &str) -> StoreResult<()> {
        self.collection(CLAIMS)
            .delete_many(doc! { "owner": owner })
            .await?;
        Ok(())
    }
}

type EventStream = mongodb::change_stream::ChangeStream<
    mongodb::change_stream::event::ChangeStreamEvent<BsonDocument>,
>;

async fn open_stream(
    events: &Collection<BsonDocument>,
    resume: Option<mongodb::change_stream::event::ResumeToken>,
) -> StoreResult<EventStream> {
    let watch = events
        .watch()
        .pipeline([doc! { "$match": { "operationType": "insert" } }]);
    Ok(match resume {
        Some(token) => watch.resume_after(token).await?,
        None => watch.await?,
    })
}

/// Follows the feed until the process stops taking items: forwards each event, and when the
/// stream breaks opens it again after the last event seen; when that is refused (the event
/// expired, or the store lost its history) it opens a fresh one and sends a gap.
async fn follow(
    events: Collection<BsonDocument>,
    mut stream: EventStream,
    sender: tokio::sync::mpsc::Sender<FeedItem>,
    live: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use futures_util::StreamExt;
    use std::sync::atomic::Ordering;
    loop {
        loop {
            let next = tokio::select! {
                _ = sender.closed() => return,
                next = stream.next() => next,
            };
            match next {
                Some(Ok(change)) => {
                    let text = change
                        .full_document
                        .as_ref()
                        .and_then(|d| d.get_str("e").ok())
                        .map(str::to_owned);
                    if let Some(text) = text {
                        if sender.send(FeedItem::Event(text)).await.is_err() {
                            return;
                        }
                    }
                }
                Some(Err(err)) => {
                    tracing::warn!(%err, "the events change stream broke; reopening");
                    break;
                }
                None => break,
            }
        }
        live.store(false, Ordering::Relaxed);
        let mut token = stream.resume_token();
        loop {
            tokio::time::sleep(REOPEN_AFTER).await;
            if sender.is_closed() {
                return;
            }
            match open_stream(&events, token.clone()).await {
                Ok(opened) => {
                    if token.is_none() {
                        // Not resumed: what was appended meanwhile is not coming.
                        let _ = sender.send(FeedItem::Gap).await;
                    }
                    stream = opened;
                    break;
                }
                Err(StoreError::Unavailable(err)) => {
                    tracing::warn!(%err, "events change stream: store unavailable");
                }
                Err(err) => {
                    tracing::warn!(%err, "events change stream cannot resume; starting afresh");
                    token = None;
                }
            }
        }
        live.store(true, Ordering::Relaxed);
    }
}

fn seq(counter: &BsonDocument) -> StoreResult<i64> {
    // `$inc` keeps the stored type: an Int64 from here, but be lenient with Int32.
    match counter.get("seq") {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        other => Err(StoreError::Other(format!(
            "counter without a seq: {other:?}"
        ))),
    }
}
