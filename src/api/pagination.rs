//! `limit`/`offset` pagination as DRF's `LimitOffsetPagination` answers it.
//!
//! A list endpoint called without `limit` or `offset` answers a plain JSON array (what the
//! seed documents); with either, `{count, next, previous, results}` where `next` and
//! `previous` are absolute links or `null`.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;

use crate::error::{ApiError, Validator};
use crate::store::Page;

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

/// Pages a list already in memory.
pub fn respond_vec<T: Serialize>(
    req: &HttpRequest,
    params: ListParams,
    items: Vec<T>,
) -> HttpResponse {
    let count = items.len() as u64;
    let items = match params.page {
        Some(page) => items
            .into_iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
            .collect(),
        None => items,
    };
    respond(req, params, count, items)
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
