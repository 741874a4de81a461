//! The bytes of catalog files: what kinds are accepted, and where they are kept.
//!
//! [`FileStore`] has one interface and two backends, chosen with the database: plain files
//! under `<data dir>/media/` beside the embedded store, GridFS (bucket `media`) beside
//! MongoDB. Bytes are kept under a random storage key, not the file's id, because they are
//! written before the metadata document (and so its id) exists: a refused or broken upload
//! then leaves no document behind, only bytes that are removed at once.
//!
//! Nothing holds a whole file in memory: uploads go through in the chunks the client sends
//! (hashed and counted on the way, cut off past the size limit), downloads in
//! [`READ_CHUNK`]-sized pieces.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::web::Bytes;
use futures_util::io::{AsyncReadExt as _, AsyncWriteExt as _};
use futures_util::{Stream, StreamExt as _};
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::gridfs::{GridFsBucket, GridFsUploadStream};
use mongodb::options::GridFsBucketOptions;
use mongodb::Collection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};

use crate::domain::text::hex;
use crate::settings::MediaLimits;
use crate::store::{
    Category, Course, CourseCollection, Document, Filter, Store, StoreResult, Teacher, Video,
};

/// The GridFS bucket (`media.files`, `media.chunks`).
const BUCKET: &str = "media";
/// How many bytes a download reads from the store at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Enough of a file's start to tell every accepted kind apart.
const SNIFF_LEN: usize = 12;

/// What a catalog file shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
}

/// The kind of a stored (sniffed) content type, so that catalog code can insist, say, that
/// an avatar is an image.
pub fn kind_of(content_type: &str) -> MediaKind {
    if content_type.starts_with("video/") {
        MediaKind::Video
    } else {
        MediaKind::Image
    }
}

/// The content type the first bytes of a file announce, among the accepted ones. The name and
/// type the client sent are never trusted: a renamed executable is not an image.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some("video/mp4"),
        [0x1A, 0x45, 0xDF, 0xA3, ..] => Some("video/webm"),
        _ => None,
    }
}

/// The limit for a kind, and how it is said to the client.
fn limit_of(kind: MediaKind, limits: MediaLimits) -> (u64, &'static str) {
    match kind {
        MediaKind::Image => (limits.image_bytes, "images"),
        MediaKind::Video => (limits.video_bytes, "videos"),
    }
}

/// `12 MiB`, `300 KiB`, `17 bytes`: limits as people read them.
fn human(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * KIB;
    const GIB: u64 = 1024 * MIB;
    match bytes {
        b if b >= GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// Bytes kept by [`FileStore::save`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub storage_key: String,
    pub content_type: &'static str,
    pub size: u64,
    /// Hex SHA-256.
    pub sha256: String,
}

/// Why an upload was not kept.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The bytes are not acceptable (kind, size): the message is for the client, about `file`.
    #[error("{0}")]
    Refused(String),
    /// The client's stream broke (malformed multipart, a dropped connection).
    #[error("the upload broke off: {0}")]
    Upload(String),
    /// The store could not keep the bytes.
    #[error("the file store failed: {0}")]
    Store(String),
}

/// A stream of a file's bytes, for a response body.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>>>>;

/// Where catalog files' bytes are kept. Cheap to clone.
#[derive(Clone)]
pub enum FileStore {
    /// `<dir>/<key>`, written as `<dir>/<key>.part` and renamed once complete, so a reader
    /// never sees half a file.
    Disk(Arc<PathBuf>),
    GridFs {
        bucket: GridFsBucket,
        /// The bucket's chunks (`{files_id, n, data}`, as the GridFS spec lays them out),
        /// read directly to start a range at the chunk holding its first byte: the driver's
        /// download stream can only start at the file's first byte.
        chunks: Collection<BsonDocument>,
    },
}

/// An upload being written.
enum Sink {
    Disk {
        file: tokio::fs::File,
        part: PathBuf,
        done: PathBuf,
    },
    GridFs(Box<GridFsUploadStream>),
}

impl Sink {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), SaveError> {
        let store = |e: std::io::Error| SaveError::Store(e.to_string());
        match self {
            Sink::Disk { file, .. } => file.write_all(bytes).await.map_err(store),
            Sink::GridFs(upload) => upload.write_all(bytes).await.map_err(store),
        }
    }

    async fn finish(self) -> Result<(), SaveError> {
        let store = |e: std::io::Error| SaveError::Store(e.to_string());
        match self {
            Sink::Disk {
                mut file,
                part,
                done,
            } => {
                file.flush().await.map_err(store)?;
                file.sync_all().await.map_err(store)?;
                drop(file);
                tokio::fs::rename(&part, &done).await.map_err(store)
            }
            Sink::GridFs(mut upload) => upload.close().await.map_err(store),
        }
    }

    async fn abort(self) {
        let outcome = match self {
            Sink::Disk { file, part, .. } => {
                drop(file);
                tokio::fs::remove_file(&part)
                    .await
                    .map_err(|e| e.to_string())
            }
            Sink::GridFs(mut upload) => upload.abort().await.map_err(|e| e.to_string()),
        };
        if let Err(err) = outcome {
            tracing::warn!(%err, "the bytes of an abandoned upload could not be removed");
        }
    }
}

fn new_key() -> String {
    hex(&rand::random::<[u8; 16]>())
}

/// Whether a storage key is one this module made (it becomes a file name on disk).
fn valid_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FileStore {
    /// Files under `dir`, which is created if missing. Uploads a stopped server left half
    /// written (`*.part`) are removed: nothing refers to them, and no upload is in flight yet.
    pub async fn on_disk(dir: PathBuf) -> std::io::Result<FileStore> {
        tokio::fs::create_dir_all(&dir).await?;
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if entry.file_name().to_string_lossy().ends_with(".part") {
                tokio::fs::remove_file(entry.path()).await?;
            }
        }
        Ok(FileStore::Disk(Arc::new(dir)))
    }

    /// GridFS in the store's own database.
    pub fn gridfs(db: &mongodb::Database) -> FileStore {
        let options = GridFsBucketOptions::builder()
            .bucket_name(BUCKET.to_owned())
            .build();
        FileStore::GridFs {
            bucket: db.gridfs_bucket(options),
            chunks: db.collection(&format!("{BUCKET}.chunks")),
        }
    }

    async fn open_sink(&self, key: &str) -> Result<Sink, SaveError> {
        match self {
            FileStore::Disk(dir) => {
                let part = dir.join(format!("{key}.part"));
                let file = tokio::fs::File::create(&part)
                    .await
                    .map_err(|e| SaveError::Store(e.to_string()))?;
                Ok(Sink::Disk {
                    file,
                    part,
                    done: dir.join(key),
                })
            }
            FileStore::GridFs { bucket, .. } => {
                let upload = bucket
                    .open_upload_stream(key)
                    .id(Bson::String(key.to_owned()))
                    .await
                    .map_err(|e| SaveError::Store(e.to_string()))?;
                Ok(Sink::GridFs(Box::new(upload)))
            }
        }
    }

    /// Keeps the bytes of `upload` under a new storage key: sniffed from their first bytes,
    /// hashed and counted as they arrive, refused (and whatever was written removed) when
    /// of no accepted kind or past their kind's limit. `only` narrows the accepted kinds
    /// (a photo is an image): the kind is refused from the first bytes, before a large
    /// video is written only to be removed.
    pub async fn save<S, E>(
        &self,
        mut upload: S,
        limits: MediaLimits,
        only: Option<MediaKind>,
    ) -> Result<Saved, SaveError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        // The kind, and so the limit, is known once the first bytes are in.
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
        let mut pending: Option<Bytes> = None;
        // Some streams (multipart fields) must not be polled again once they have ended.
        let mut ended = false;
        while head.len() < SNIFF_LEN {
            match upload.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| SaveError::Upload(e.to_string()))?;
                    let take = (SNIFF_LEN - head.len()).min(chunk.len());
                    head.extend_from_slice(&chunk[..take]);
                    if take < chunk.len() {
                        pending = Some(chunk.slice(take..));
                    }
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        let content_type = sniff(&head)
            .filter(|ct| only.is_none_or(|kind| kind_of(ct) == kind))
            .ok_or_else(|| {
                SaveError::Refused(
                    match only {
                        Some(MediaKind::Image) => "Upload a JPEG, PNG, GIF or WebP image.",
                        Some(MediaKind::Video) => "Upload an MP4 or WebM video.",
                        None => "Upload a JPEG, PNG, GIF or WebP image, or an MP4 or WebM video.",
                    }
                    .to_owned(),
                )
            })?;
        let (limit, kind_name) = limit_of(kind_of(content_type), limits);
        let key = new_key();
        let mut sink = self.open_sink(&key).await?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut next = Some(Bytes::from(head)).into_iter().chain(pending);
        let written: Result<(), SaveError> = async {
            loop {
                let chunk = match next.next() {
                    Some(chunk) => chunk,
                    None if ended => return Ok(()),
                    None => match upload.next().await {
                        Some(chunk) => chunk.map_err(|e| SaveError::Upload(e.to_string()))?,
                        None => return Ok(()),
                    },
                };
                size += chunk.len() as u64;
                if size > limit {
                    return Err(SaveError::Refused(format!(
                        "The file is too large: {kind_name} may have at most {}.",
                        human(limit)
                    )));
                }
                hasher.update(&chunk);
                sink.write(&chunk).await?;
            }
        }
        .await;
        match written {
            Ok(()) => sink.finish().await?,
            Err(err) => {
                sink.abort().await;
                return Err(err);
            }
        }
        Ok(Saved {
            storage_key: key,
            content_type,
            size,
            sha256: hex(&hasher.finalize()),
        })
    }

    /// `len` bytes of a stored file from byte `start` on, streamed.
    pub async fn open(&self, key: &str, start: u64, len: u64) -> std::io::Result<ByteStream> {
        if !valid_key(key) {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        match self {
            FileStore::Disk(dir) => {
                let mut file = tokio::fs::File::open(dir.join(key)).await?;
                file.seek(std::io::SeekFrom::Start(start)).await?;
                let stream =
                    futures_util::stream::unfold((file, len), |(mut file, left)| async move {
                        if left == 0 {
                            return None;
                        }
                        let want = usize::try_from(left).unwrap_or(usize::MAX).min(READ_CHUNK);
                        let mut buf = vec![0u8; want];
                        match file.read(&mut buf).await {
                            Ok(0) => Some((Err(truncated()), (file, 0))),
                            Ok(n) => {
                                buf.truncate(n);
                                Some((Ok(Bytes::from(buf)), (file, left - n as u64)))
                            }
                            Err(err) => Some((Err(err), (file, 0))),
                        }
                    });
                Ok(Box::pin(stream))
            }
            FileStore::GridFs { bucket, chunks } => {
                let id = Bson::String(key.to_owned());
                let stored = bucket
                    .find_one(doc! { "_id": &id })
                    .await
                    .map_err(std::io::Error::other)?
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
                let chunk_size = u64::from(stored.chunk_size_bytes.max(1));
                if start < chunk_size {
                    let download = bucket
                        .open_download_stream(id)
                        .await
                        .map_err(std::io::Error::other)?;
                    return Ok(gridfs_stream(download, start, len));
                }
                let first = i32::try_from(start / chunk_size).map_err(std::io::Error::other)?;
                let cursor = chunks
                    .find(doc! { "files_id": &id, "n": { "$gte": first } })
                    .sort(doc! { "n": 1 })
                    .await
                    .map_err(std::io::Error::other)?;
                Ok(chunk_stream(cursor, start % chunk_size, len))
            }
        }
    }

    /// Removes what uploads left behind that are older than `older_than` (the longest an
    /// accepted upload can take, so nothing an upload in flight is writing, on this server or
    /// another on the same store): GridFS chunks of no file (a server killed mid-upload
    /// never aborted them; a chunk's age is its ObjectId's), `.part` files on disk. Answers
    /// how many chunks or files went.
    pub async fn sweep_leftovers(&self, older_than: std::time::Duration) -> std::io::Result<u64> {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(std::time::UNIX_EPOCH);
        match self {
            FileStore::Disk(dir) => {
                let mut removed = 0;
                let mut entries = tokio::fs::read_dir(dir.as_ref()).await?;
                while let Some(entry) = entries.next_entry().await? {
                    if !entry.file_name().to_string_lossy().ends_with(".part") {
                        continue;
                    }
                    let modified = entry.metadata().await?.modified()?;
                    if modified < cutoff {
                        tokio::fs::remove_file(entry.path()).await?;
                        removed += 1;
                    }
                }
                Ok(removed)
            }
            FileStore::GridFs { bucket, chunks } => {
                let secs = cutoff
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
                    .min(u64::from(u32::MAX)) as u32;
                // The least ObjectId of the cutoff's second: every older chunk's is below.
                let mut bytes = [0u8; 12];
                bytes[..4].copy_from_slice(&secs.to_be_bytes());
                let before =
                    doc! { "_id": { "$lt": mongodb::bson::oid::ObjectId::from_bytes(bytes) } };
                let mut owners = std::collections::BTreeSet::new();
                let mut cursor = chunks
                    .find(before.clone())
                    .projection(doc! { "files_id": 1 })
                    .await
                    .map_err(std::io::Error::other)?;
                while let Some(chunk) = cursor.next().await {
                    let chunk = chunk.map_err(std::io::Error::other)?;
                    if let Some(owner) = chunk.get("files_id") {
                        owners.insert(OrderedBson(owner.clone()));
                    }
                }
                let mut removed = 0;
                for OrderedBson(owner) in owners {
                    let file = bucket
                        .find_one(doc! { "_id": owner.clone() })
                        .await
                        .map_err(std::io::Error::other)?;
                    if file.is_some() {
                        continue;
                    }
                    let mut orphans = before.clone();
                    orphans.insert("files_id", owner);
                    removed += chunks
                        .delete_many(orphans)
                        .await
                        .map_err(std::io::Error::other)?
                        .deleted_count;
                }
                Ok(removed)
            }
        }
    }

    /// Removes a stored file's bytes; gone already is fine.
    pub async fn delete(&self, key: &str) -> std::io::Result<()> {
        if !valid_key(key) {
            return Ok(());
        }
        match self {
            FileStore::Disk(dir) => match tokio::fs::remove_file(dir.join(key)).await {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            },
            FileStore::GridFs { bucket, .. } => {
                let id = Bson::String(key.to_owned());
                if bucket
                    .find_one(doc! { "_id": &id })
                    .await
                    .map_err(std::io::Error::other)?
                    .is_none()
                {
                    return Ok(());
                }
                bucket.delete(id).await.map_err(std::io::Error::other)
            }
        }
    }
}

/// A BSON value ordered by its extended-JSON text, to collect distinct ones.
#[derive(PartialEq)]
struct OrderedBson(Bson);

impl Eq for OrderedBson {}

impl PartialOrd for OrderedBson {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedBson {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.to_string().cmp(&other.0.to_string())
    }
}

/// `len` bytes of a GridFS download from `skip` (within the first chunk) on.
fn gridfs_stream(
    download: mongodb::gridfs::GridFsDownloadStream,
    skip: u64,
    len: u64,
) -> ByteStream {
    let stream = futures_util::stream::unfold(
        (download, skip, len),
        |(mut download, mut skip, left)| async move {
            let mut buf = vec![0u8; READ_CHUNK];
            loop {
                if left == 0 {
                    return None;
                }
                let n = match download.read(&mut buf).await {
                    Ok(0) => return Some((Err(truncated()), (download, 0, 0))),
                    Ok(n) => n,
                    Err(err) => return Some((Err(err), (download, 0, 0))),
                };
                let dropped = usize::try_from(skip).unwrap_or(usize::MAX).min(n);
                skip -= dropped as u64;
                let take = usize::try_from(left).unwrap_or(usize::MAX).min(n - dropped);
                if take > 0 {
                    let piece = Bytes::copy_from_slice(&buf[dropped..dropped + take]);
                    return Some((Ok(piece), (download, skip, left - take as u64)));
                }
            }
        },
    );
    Box::pin(stream)
}

/// `len` bytes of GridFS chunks read in order, from `skip` bytes into the first one.
fn chunk_stream(cursor: mongodb::Cursor<BsonDocument>, skip: u64, len: u64) -> ByteStream {
    let stream =
        futures_util::stream::unfold((cursor, skip, len), |(mut cursor, skip, left)| async move {
            if left == 0 {
                return None;
            }
            let mut chunk = match cursor.next().await {
                None => return Some((Err(truncated()), (cursor, 0, 0))),
                Some(Err(err)) => return Some((Err(std::io::Error::other(err)), (cursor, 0, 0))),
                Some(Ok(chunk)) => chunk,
            };
            let data = match chunk.remove("data") {
                Some(Bson::Binary(binary)) => Bytes::from(binary.bytes),
                _ => {
                    let err = std::io::Error::other("a GridFS chunk without data");
                    return Some((Err(err), (cursor, 0, 0)));
                }
            };
            let from = usize::try_from(skip).unwrap_or(usize::MAX).min(data.len());
            let take = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(data.len() - from);
            Some((
                Ok(data.slice(from..from + take)),
                (cursor, 0, left - take as u64),
            ))
        });
    Box::pin(stream)
}

fn truncated() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "the stored file is shorter than its metadata says",
    )
}

/// A file name as uploaded, reduced to what is safe as the last segment of a URL and on any
/// file system: letters, digits, `.`, `-` and `_` (others become `_`), no leading dot, at
/// most 100 characters; `file` when nothing is left.
pub fn safe_name(uploaded: &str) -> String {
    // Browsers on Windows have sent whole paths.
    let base = uploaded.rsplit(['/', '\\']).next().unwrap_or("");
    let mapped: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches('.');
    let cut: String = trimmed.chars().take(100).collect();
    if cut.trim_matches(['_', '.']).is_empty() {
        "file".to_owned()
    } else {
        cut
    }
}

/// What refers to a file, as `kind id (field)`, so that a deletion can say what to change
/// first.
pub async fn users_of(store: &Store, id: i64) -> StoreResult<Vec<String>> {
    let value = Value::from(id);
    let mut users = Vec::new();
    async fn by<T: Document>(
        store: &Store,
        out: &mut Vec<String>,
        kind: &str,
        field: &'static str,
        filter: Filter,
    ) -> StoreResult<()> {
        for doc in store.repo::<T>().find(&filter, None).await? {
            out.push(format!("{kind} {} ({field})", doc.id()));
        }
        Ok(())
    }
    let eq = |field: &'static str| Filter::Eq(field, value.clone());
    by::<Teacher>(store, &mut users, "teacher", "avatar", eq("avatar")).await?;
    let promo = Filter::Contains("promo_files", value.clone());
    by::<Teacher>(store, &mut users, "teacher", "promo_files", promo).await?;
    by::<Category>(store, &mut users, "category", "image", eq("image")).await?;
    by::<Course>(store, &mut users, "course", "image", eq("image")).await?;
    for field in ["file720p", "file1080p", "thumbnail"] {
        by::<Video>(store, &mut users, "video", field, eq(field)).await?;
    }
    by::<CourseCollection>(store, &mut users, "collection", "image", eq("image")).await?;
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_kinds_are_told_by_their_first_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\r"), Some("image/png"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Some("video/mp4"));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]), Some("video/webm"));
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(kind_of("video/webm"), MediaKind::Video);
        assert_eq!(kind_of("image/png"), MediaKind::Image);
    }

    #[test]
    fn names_keep_safe_characters_only() {
        assert_eq!(safe_name("photo 1.jpeg"), "photo_1.jpeg");
        assert_eq!(safe_name("C:\\Users\\x\\a.png"), "a.png");
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("фото"), "file");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name(&"a".repeat(300)).len(), 100);
    }

    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(human(10 * 1024 * 1024), "10 MiB");
        assert_eq!(human(2 * 1024 * 1024 * 1024), "2 GiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
