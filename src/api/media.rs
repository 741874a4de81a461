//! Catalog files: `/api/v1/catalog/files/…` (upload, list, read, delete) and the bytes at
//! `/media/files/{id}/{name}`. The kinds, limits and storage are in
//! [`crate::catalog::files`].

use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::body::{push_field, Pace, Parts};
use super::links::answer_base;
use super::pagination::{self, ListParams};
use crate::accounts::permissions::{holds, Permission};
use crate::catalog::files::{safe_name, users_of, MediaKind, SaveError, Saved};
use crate::catalog::views::file_out;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::store::{Filter, MediaFile};

/// The longest title accepted, in characters.
pub(super) const MAX_TITLE_CHARS: usize = 255;
/// Bytes of a text part read at most (a title is far shorter).
const MAX_TEXT_PART_BYTES: usize = 4 * 1024;
/// The bytes under an id never change (ids are not reused), but a deleted file should stop
/// being served from caches within a day.
const CACHE_CONTROL: &str = "public, max-age=86400";

/// The upload form, for the OpenAPI document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CatalogFileUpload)]
pub struct FileUpload {
    /// The bytes: a JPEG, PNG, GIF or WebP image, or an MP4 or WebM video, told by its first
    /// bytes (the name and declared type are not trusted).
    #[schema(format = Binary)]
    pub file: String,
    /// Defaults to the file's name.
    pub title: Option<String>,
}

fn may_manage(auth: &AuthUser) -> Result<(), ApiError> {
    if holds(&auth.user, Permission::ManageCatalog) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "Managing the catalog needs the manage_catalog permission.",
        ))
    }
}

/// A text part, up to [`MAX_TEXT_PART_BYTES`].
async fn text_part(
    parts: &Parts,
    field: &mut actix_multipart::Field,
    name: &str,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|err| parts.fail(err))?;
        if bytes.len() + chunk.len() > MAX_TEXT_PART_BYTES {
            return Err(ApiError::field(
                name,
                format!("Ensure this field has no more than {MAX_TEXT_PART_BYTES} bytes."),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::field(name, "Send text in UTF-8."))
}

/// A file part kept by [`read_form`]: its bytes are in the file store, with no document yet.
pub struct Upload {
    pub saved: Saved,
    /// The name the client gave the file (not trusted; see [`safe_name`]).
    pub filename: String,
}

impl Upload {
    /// Removes the bytes, once the request that brought them fails: no document will ever
    /// name them.
    pub async fn discard(&self, state: &AppState) {
        if let Err(err) = state.files.delete(&self.saved.storage_key).await {
            tracing::warn!(%err, "the bytes of a refused upload could not be removed");
        }
    }

    /// Records the kept bytes as a [`MediaFile`] titled `title`; on failure the bytes are
    /// removed.
    pub async fn record(
        self,
        state: &AppState,
        title: String,
        created_by: i64,
    ) -> Result<MediaFile, ApiError> {
        let file = MediaFile {
            id: 0,
            title,
            name: safe_name(&self.filename),
            content_type: self.saved.content_type.to_owned(),
            size: self.saved.size,
            sha256: self.saved.sha256.clone(),
            created_at: crate::domain::clock::now(),
            created_by,
            storage_key: self.saved.storage_key.clone(),
        };
        match state.store.repo::<MediaFile>().insert(file).await {
            Ok(file) => Ok(file),
            Err(err) => {
                self.discard(state).await;
                Err(err.into())
            }
        }
    }
}

/// Removes a recorded file whose request failed after it was recorded: the document first,
/// so no answer links to bytes that are gone, then the bytes.
pub async fn forget(state: &AppState, file: &MediaFile) {
    if let Err(err) = state.store.repo::<MediaFile>().delete(file.id).await {
        tracing::warn!(%err, id = file.id, "the document of a refused upload could not be removed");
        // Bytes a document still names must stay.
        return;
    }
    if let Err(err) = state.files.delete(&file.storage_key).await {
        tracing::warn!(%err, id = file.id, "the bytes of a refused upload could not be removed");
    }
}

/// A multipart/form-data body read by [`read_form`].
pub struct Form {
    /// The text parts, as form data's fields are read: a repeated name is a list.
    pub fields: Map<String, Value>,
    /// The part named as the file, its bytes kept in the file store.
    pub file: Option<Upload>,
}

/// Reads a multipart/form-data body: the part named `file_part` goes straight to the file
/// store (sniffed; `only` narrows the kinds accepted), every other part is a text field.
/// Parts come in any order. When the body is refused, bytes already kept are removed before
/// the error is returned; once it is read, the caller owns the [`Upload`] and must record or
/// discard it.
pub async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    file_part: &str,
    only: Option<MediaKind>,
) -> Result<Form, ApiError> {
    // An upload is held to its own pace: large videos over slow links, but never a stall.
    let (body, watch) = super::body::guard(req, payload.into_inner(), Pace::Upload)?;
    // Part count and head size bounded; the file part has its kind's limit.
    let mut parts = Parts::new(req, body, None);
    let mut form = Form {
        fields: Map::new(),
        file: None,
    };
    let outcome: Result<(), ApiError> = async {
        while let Some(mut field) = parts.next().await? {
            let name = field.name().unwrap_or("").to_owned();
            if name == file_part {
                if form.file.is_some() {
                    return Err(ApiError::field(file_part, "Send one file."));
                }
                let filename = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .unwrap_or("")
                    .to_owned();
                let saved = state
                    .files
                    .save(&mut field, state.media_limits, only)
                    .await
                    .map_err(|err| match err {
                        SaveError::Refused(message) => ApiError::field(file_part, message),
                        SaveError::Upload(cause) => ApiError::with_detail(
                            ErrorCode::ParseError,
                            format!("Malformed multipart body: {cause}."),
                        ),
                        SaveError::Store(cause) => ApiError::internal(cause),
                    })?;
                form.file = Some(Upload { saved, filename });
            } else {
                let text = text_part(&parts, &mut field, &name).await?;
                push_field(&mut form.fields, name, text);
            }
        }
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => Ok(form),
        Err(err) => {
            if let Some(upload) = &form.file {
                upload.discard(state).await;
            }
            // The rest of the body is not wanted: the connection closes after the answer.
            super::body::stop_reading(req);
            let limits = req
                .app_data::<web::Data<super::body::Bodies>>()
                .map(|bodies| bodies.limits())
                .unwrap_or_default();
            Err(watch.overdue(limits).unwrap_or(err))
        }
    }
}

/// The title a file gets from the name it was uploaded under (or, without one, the safe
/// name's default). A file name is the client's too: what no line of text may hold is left
/// out.
pub fn title_from_name(uploaded: &str) -> String {
    match uploaded.trim() {
        "" => safe_name(""),
        name => name
            .chars()
            .filter(|c| !crate::domain::text::is_forbidden_in_line(*c))
            .collect(),
    }
}

/// Whether the request's body is multipart/form-data (else it is read as [`super::body::Body`]).
pub fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("multipart/form-data"))
}

/// `POST /api/v1/catalog/files/`: multipart parts `file` and (optional) `title`, in any
/// order; the file's bytes go straight to the file store.
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    may_manage(&auth)?;
    let form = read_form(&req, payload, &state, "file", None).await?;
    let Some(upload) = form.file else {
        return Err(ApiError::field("file", "No file was submitted."));
    };
    // The last of repeated titles counts, as it did before parts were read as a form.
    let given = match form.fields.get("title") {
        Some(Value::Array(items)) => items.last().and_then(Value::as_str),
        Some(other) => other.as_str(),
        None => None,
    };
    let title = match given.map(str::trim) {
        Some(given) if !given.is_empty() => given.to_owned(),
        _ => title_from_name(&upload.filename),
    };
    let problem = if title.chars().count() > MAX_TITLE_CHARS {
        Some(format!(
            "Ensure this field has no more than {MAX_TITLE_CHARS} characters."
        ))
    } else {
        crate::domain::text::check_single_line(&title)
            .err()
            .map(str::to_owned)
    };
    if let Some(problem) = problem {
        upload.discard(&state).await;
        return Err(ApiError::field("title", problem));
    }
    let file = upload.record(&state, title, auth.id()).await?;
    let base = answer_base(&req, &state);
    Ok(HttpResponse::Created().json(file_out(&base, &file)))
}

/// `GET /api/v1/catalog/files/`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    _auth: AuthUser,
    params: ListParams,
) -> Result<HttpResponse, ApiError> {
    let base = answer_base(&req, &state);
    pagination::list(
        &req,
        params,
        &state.store,
        Filter::All,
        move |_, files: Vec<MediaFile>| {
            let views = files.iter().map(|f| file_out(&base, f)).collect();
            async move { Ok(views) }
        },
    )
    .await
}

/// `GET /api/v1/catalog/files/{id}/`.
pub async fn retrieve(
    req: HttpRequest,
    state: web::Data<AppState>,
    _auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let file = state
        .store
        .repo::<MediaFile>()
        .get(path.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(file_out(&answer_base(&req, &state), &file)))
}

/// `DELETE /api/v1/catalog/files/{id}/`: refused while anything in the catalog shows the
/// file; the document goes first, so no answer ever links to bytes that are gone.
pub async fn destroy(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    may_manage(&auth)?;
    let id = path.into_inner();
    let repo = state.store.repo::<MediaFile>();
    let file = repo.get(id).await?.ok_or_else(ApiError::not_found)?;
    // A catalog write attaching the file between this check and the deletion would keep a
    // dangling id; views show a missing file as null, so it is an empty slot, not an error.
    let users = users_of(&state.store, id).await?;
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "The file is in use by {}; change those first.",
            users.join(", ")
        )));
    }
    if !repo.delete(id).await? {
        return Err(ApiError::not_found());
    }
    if let Err(err) = state.files.delete(&file.storage_key).await {
        tracing::warn!(%err, id, "the bytes of a deleted file could not be removed");
    }
    Ok(HttpResponse::NoContent().finish())
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file (no range, one that cannot be parsed, or several ranges).
    All,
    /// Bytes `first..=last`.
    Part(u64, u64),
    /// A range that starts past the end.
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.1.2): one range in any of its three forms; a
/// header that is malformed or of another unit is ignored, as the RFC allows.
pub fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match number(last) {
            Some(0) => Wanted::Unsatisfiable,
            Some(_) if size == 0 => Wanted::Unsatisfiable,
            Some(n) => Wanted::Part(size - n.min(size), size - 1),
            None => Wanted::All,
        },
        // `a-`: from a to the end.
        (false, true) => match number(first) {
            Some(a) if a >= size => Wanted::Unsatisfiable,
            Some(a) => Wanted::Part(a, size - 1),
            None => Wanted::All,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b => {
                if a >= size {
                    Wanted::Unsatisfiable
                } else {
                    Wanted::Part(a, b.min(size - 1))
                }
            }
            _ => Wanted::All,
        },
        (true, true) => Wanted::All,
    }
}

/// Whether an `If-None-Match` value names this entity tag (weak comparison, as RFC 9110
/// asks for this header).
fn none_match(header: &str, etag: &str) -> bool {
    header
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// `GET /media/files/{id}/{name}`: public, as Django serves media. Answers ranges, and 304
/// to a cache that holds the same bytes.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(i64, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let file = state
        .store
        .repo::<MediaFile>()
        .get(id)
        .await?
        .filter(|file| file.name == name && !file.storage_key.is_empty())
        .ok_or_else(ApiError::not_found)?;
    let etag = format!("\"{}\"", file.sha256);
    let modified = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(file.created_at).unwrap_or(0));
    let last_modified = header::HttpDate::from(modified).to_string();
    let headers = req.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());

    let answer = |status: StatusCode| {
        let mut builder = HttpResponse::build(status);
        builder
            .insert_header((header::ETAG, etag.clone()))
            .insert_header((header::LAST_MODIFIED, last_modified.clone()))
            .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            // Uploaded bytes are only ever what was sniffed: a browser must not guess again.
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
        builder
    };
    if text(header::IF_NONE_MATCH).is_some_and(|h| none_match(h, &etag)) {
        return Ok(answer(StatusCode::NOT_MODIFIED).finish());
    }
    // A range is only meant for the version the client already has part of.
    let range_applies = match text(header::IF_RANGE) {
        None => true,
        Some(v) => v.trim() == etag || v.trim() == last_modified,
    };
    let range = if range_applies {
        wanted(text(header::RANGE), file.size)
    } else {
        Wanted::All
    };
    let (status, first, len) = match range {
        Wanted::All => (StatusCode::OK, 0, file.size),
        Wanted::Part(first, last) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
        Wanted::Unsatisfiable => {
            let mut builder = answer(StatusCode::RANGE_NOT_SATISFIABLE);
            builder.insert_header((header::CONTENT_RANGE, format!("bytes */{}", file.size)));
            // No body: Content-Range says what there is, and the error table has no code
            // for a header no JSON client sends.
            return Ok(builder.finish());
        }
    };
    let bytes = state
        .files
        .open(&file.storage_key, first, len)
        .await
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found(),
            _ => ApiError::internal(format!("file {id}: {err}")),
        })?;
    let mut builder = answer(status);
    builder.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    ));
    if status == StatusCode::PARTIAL_CONTENT {
        builder.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {first}-{}/{}", first + len - 1, file.size),
        ));
    }
    Ok(builder.body(SizedStream::new(len, bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_in_their_three_forms() {
        assert_eq!(wanted(None, 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0, 9));
        assert_eq!(wanted(Some("bytes=90-200"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=10-"), 100), Wanted::Part(10, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=100-120"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=9-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=a-b"), 100), Wanted::All);
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("W/\"abc\", \"x\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
    }
}
