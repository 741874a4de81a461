//! `limit`/`offset` pagination as DRF's `LimitOffsetPagination` answers it.
//!
//! A list endpoint called without `limit` or `offset` answers a plain JSON array (what the
//! seed documents); with either, `{count, next, previous, results}` where `next` and
//! `previous` are absolute links or `null`.
//!
//! A plain array is streamed: read from the store, presented and encoded [`STREAM_BATCH`]
//! documents at a time in id order, so the server's memory does not grow with the list
//! (a test with 20,000 completions answers megabytes).

use std::future::{ready, Future, Ready};

use actix_web::web::Bytes;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

use crate::error::{ApiError, Validator};
use crate::store::{Document, Filter, Page, Store};

/// How many documents a streamed list reads, presents and encodes at a time.
pub const STREAM_BATCH: u64 = 500;

/// `limit` when only `offset` is given.
pub const DEFAULT_LIMIT: u64 = 100;
/// Larger limits are cut to this, as DRF's `max_limit` does.
pub const MAX_LIMIT: u64 = 1000;

/// The pagination a list request asked for, if any.
#[derive(Debug, Clone, Copy)]
pub struct ListParams {
    pub page: Option<Page>,
}

fn parse(query: &str) -> Result<ListParams, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| ApiError::field("query", "Malformed query string."))?;
    let mut v = Validator::new();
    let mut number = |name: &str, min: u64| -> Option<u64> {
        let (_, raw) = pairs.iter().rev().find(|(k, _)| k == name)?;
        match raw.trim().parse::<u64>() {
            Ok(n) if n >= min => Some(n),
            _ => {
                v.add(
                    name,
                    format!("Ensure this value is a whole number of at least {min}."),
                );
                None
            }
        }
    };
    let limit = number("limit", 1);
    let mut offset = number("offset", 0);
    // The stores count in signed 64-bit integers.
    if offset.is_some_and(|n| i64::try_from(n).is_err()) {
        v.add(
            "offset",
            "Ensure this value is at most 9223372036854775807.",
        );
        offset = None;
    }
    v.finish()?;
    let page = (limit.is_some() || offset.is_some()).then(|| Page {
        limit: limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT),
        offset: offset.unwrap_or(0),
    });
    Ok(ListParams { page })
}

impl FromRequest for ListParams {
    type Error = ApiError;
    type Future = Ready<Result<ListParams, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()))
    }
}

fn link(req: &HttpRequest, page: Page, offset: u64) -> String {
    let mut url = req.full_url();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "limit" && k != "offset")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("limit", &page.limit.to_string())
        .append_pair("offset", &offset.to_string());
    url.to_string()
}

/// Answers one page of `count` items, or all of them when no page was asked for.
pub fn respond<T: Serialize>(
    req: &HttpRequest,
    params: ListParams,
    count: u64,
    items: Vec<T>,
) -> HttpResponse {
    let Some(page) = params.page else {
        return HttpResponse::Ok().json(items);
    };
    let end = page.offset.saturating_add(page.limit);
    let next = (end < count).then(|| link(req, page, end));
    let previous =
        (page.offset > 0).then(|| link(req, page, page.offset.saturating_sub(page.limit)));
    HttpResponse::Ok().json(json!({
        "count": count,
        "next": next,
        "previous": previous,
        "results": items,
    }))
}

/// Answers the documents `filter` selects, presented by `present` (which gets a batch of
/// documents and answers their views): the page asked for, or all of them streamed.
pub async fn list<T, V, F, Fut>(
    req: &HttpRequest,
    params: ListParams,
    store: &Store,
    filter: Filter,
    present: F,
) -> Result<HttpResponse, ApiError>
where
    T: Document,
    V: Serialize + 'static,
    F: Fn(Store, Vec<T>) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<V>, ApiError>> + 'static,
{
    match params.page {
        Some(page) => {
            let listing = store.repo::<T>().list(&filter, Some(page)).await?;
            let views = present(store.clone(), listing.items).await?;
            Ok(respond(req, params, listing.count, views))
        }
        None => Ok(stream(store.clone(), filter, present)),
    }
}

/// Where a streamed list is.
struct Cursor<F> {
    store: Store,
    filter: Filter,
    present: F,
    /// The id of the last document sent.
    last: Option<i64>,
    done: bool,
}

/// One JSON array of every selected document, sent batch by batch. An error after the first
/// bytes can no longer change the status: it is logged and the body is cut short, which the
/// client sees as a broken response, never as a shorter list.
fn stream<T, V, F, Fut>(store: Store, filter: Filter, present: F) -> HttpResponse
where
    T: Document,
    V: Serialize + 'static,
    F: Fn(Store, Vec<T>) -> Fut + 'static,
    Fut: Future<Output = Result<Vec<V>, ApiError>> + 'static,
{
    let start = Cursor {
        store,
        filter,
        present,
        last: None,
        done: false,
    };
    let body = futures_util::stream::unfold(start, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        let chunk = next_chunk(&mut cursor).await.map_err(|err| {
            tracing::error!(%err, "a streamed list failed part way");
            cursor.done = true;
            std::io::Error::other("the list could not be read to its end")
        });
        Some((chunk, cursor))
    });
    HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body)
}

/// The next batch as JSON text: `[` before the first, `,` between items, `]` after the last.
async fn next_chunk<T, V, F, Fut>(cursor: &mut Cursor<F>) -> Result<Bytes, ApiError>
where
    T: Document,
    V: Serialize,
    F: Fn(Store, Vec<T>) -> Fut,
    Fut: Future<Output = Result<Vec<V>, ApiError>>,
{
    let filter = match cursor.last {
        Some(id) => Filter::And(vec![cursor.filter.clone(), Filter::IdAfter(id)]),
        None => cursor.filter.clone(),
    };
    let page = Page {
        offset: 0,
        limit: STREAM_BATCH,
    };
    let docs = cursor.store.repo::<T>().find(&filter, Some(page)).await?;
    let first = cursor.last.is_none();
    cursor.done = (docs.len() as u64) < STREAM_BATCH;
    cursor.last = docs.last().map(Document::id).or(cursor.last);
    let views = (cursor.present)(cursor.store.clone(), docs).await?;
    let mut out = Vec::with_capacity(views.len() * 256 + 2);
    if first {
        out.push(b'[');
    }
    for (i, view) in views.iter().enumerate() {
        if !(first && i == 0) {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, view).map_err(ApiError::internal)?;
    }
    if cursor.done {
        out.push(b']');
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_means_no_pagination() {
        assert_eq!(parse("").unwrap().page, None);
        assert_eq!(parse("other=1").unwrap().page, None);
    }

    #[test]
    fn limits_are_bounded_and_offsets_default_to_zero() {
        assert_eq!(
            parse("limit=5").unwrap().page,
            Some(Page {
                limit: 5,
                offset: 0
            })
        );
        assert_eq!(
            parse("offset=3").unwrap().page,
            Some(Page {
                limit: DEFAULT_LIMIT,
                offset: 3
            })
        );
        assert_eq!(parse("limit=99999").unwrap().page.unwrap().limit, MAX_LIMIT);
    }

    #[test]
    fn offsets_past_what_the_store_counts_are_refused() {
        assert!(parse("offset=18446744073709551615").is_err());
        assert!(parse("offset=9223372036854775807").is_ok());
    }

    #[test]
    fn malformed_values_are_named() {
        let ApiError::Validation(errors) = parse("limit=abc&offset=-1").unwrap_err() else {
            panic!()
        };
        assert!(errors.contains_key("limit") && errors.contains_key("offset"));
        assert!(parse("limit=0").is_err());
    }
}
