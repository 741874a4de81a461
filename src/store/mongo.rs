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

use super::{Backend, FieldPath, Filter, IndexSpec, Page, StoreError, StoreResult, VERSION_FIELD};

const DEFAULT_DATABASE: &str = "testit";
const DUPLICATE_KEY: i32 = 11000;

pub struct MongoBackend {
    db: Database,
}

impl From<mongodb::error::Error> for StoreError {
    fn from(err: mongodb::error::Error) -> Self {
        match err.kind.as_ref() {
            ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY => {
                StoreError::Duplicate
            }
            ErrorKind::ServerSelection { .. } | ErrorKind::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
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
        let mut options = ClientOptions::parse(uri).await?;
        options.app_name.get_or_insert_with(|| "testit".to_owned());
        // Fail a request in seconds, not the driver's default 30, when the server is gone.
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(5));
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
            let options = IndexOptions::builder()
                .name(format!(
                    "{}_{}",
                    index.field,
                    if index.unique { "unique" } else { "idx" }
                ))
                .unique(index.unique)
                .build();
            let model = IndexModel::builder()
                .keys(doc! { index.field: 1 })
                .options(options)
                .build();
            self.collection(index.collection)
                .create_index(model)
                .await?;
        }
        Ok(())
    }

    async fn reserve_ids(&self, counter: &'static str, count: u32) -> StoreResult<i64> {
        let count = i64::from(count);
        let doc = self
            .collection("counters")
            .find_one_and_update(doc! { "_id": counter }, doc! { "$inc": { "seq": count } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| StoreError::Other("counter upsert returned nothing".to_owned()))?;
        let last = doc
            .get_i64("seq")
            .map_err(|e| StoreError::Other(e.to_string()))?;
        Ok(last - count + 1)
    }

    async fn insert(&self, collection: &'static str, id: i64, doc: Value) -> StoreResult<()> {
        self.collection(collection)
            .insert_one(to_stored(id, &doc)?)
            .await?;
        Ok(())
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
}
