//! The course catalog of seed 000: teachers, categories, courses, videos, collections and
//! the files they show, each user's shelves (favorites, viewed videos, signature courses),
//! and the search over names and titles.
//!
//! # Layout
//!
//! - [`views`]: the nested wire shapes and [`views::Nest`], which loads everything a
//!   response nests with one query per kind of thing.
//! - [`things`]: writing each kind ([`things::Thing`]): fields, references that must
//!   exist, what a delete is refused for or brings along; the search index follows.
//! - [`shelves`]: adding to and removing from a user's shelves, one atomic write each.
//! - [`files`]: the bytes of uploaded files (sniffed kinds, size limits, on disk or in
//!   GridFS) and what refers to a file.
//! - [`search`]: folding names and titles into search words, keeping the word index, and
//!   answering `global_search/` from it.
//!
//! Catalog things are written by holders of the `manage_catalog` permission and read by
//! anyone signed in.

pub mod files;
pub mod search;
pub mod shelves;
pub mod things;
pub mod views;
