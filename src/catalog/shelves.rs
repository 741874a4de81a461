//! Each user's shelves: favorite teachers, courses, videos and collections, viewed videos
//! and signature courses. Adding and removing are idempotent set operations, each one
//! atomic write on the user's document, so two devices adding at once lose nothing.

use serde_json::Value;

use crate::error::ApiError;
use crate::store::{Course, CourseCollection, Document, FieldPath, Store, Teacher, User, Video};

/// The most things one shelf holds: each is nested in the user's answers.
pub const MAX_SHELVED: usize = 500;

/// A shelf, and the kind of thing it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    FavoriteTeachers,
    FavoriteCourses,
    FavoriteVideos,
    FavoriteCollections,
    ViewedVideos,
    SignatureCourses,
}

impl Shelf {
    /// The user document's field that holds it.
    fn field(self) -> &'static str {
        match self {
            Shelf::FavoriteTeachers => "favorite_teachers",
            Shelf::FavoriteCourses => "favorite_courses",
            Shelf::FavoriteVideos => "favorite_videos",
            Shelf::FavoriteCollections => "favorite_collections",
            Shelf::ViewedVideos => "viewed_videos",
            Shelf::SignatureCourses => "signature_courses",
        }
    }

    fn held(self, user: &User) -> &[i64] {
        match self {
            Shelf::FavoriteTeachers => &user.favorite_teachers,
            Shelf::FavoriteCourses => &user.favorite_courses,
            Shelf::FavoriteVideos => &user.favorite_videos,
            Shelf::FavoriteCollections => &user.favorite_collections,
            Shelf::ViewedVideos => &user.viewed_videos,
            Shelf::SignatureCourses => &user.signature_courses,
        }
    }

    /// The favorites shelf a path segment names (`/api/v1/user/favorites/{kind}/…`).
    pub fn favorites(kind: &str) -> Option<Shelf> {
        match kind {
            "teachers" => Some(Shelf::FavoriteTeachers),
            "courses" => Some(Shelf::FavoriteCourses),
            "videos" => Some(Shelf::FavoriteVideos),
            "collections" => Some(Shelf::FavoriteCollections),
            _ => None,
        }
    }

    async fn holds_existing(self, store: &Store, id: i64) -> Result<bool, ApiError> {
        async fn exists<T: Document>(store: &Store, id: i64) -> Result<bool, ApiError> {
            Ok(store.repo::<T>().get(id).await?.is_some())
        }
        match self {
            Shelf::FavoriteTeachers => exists::<Teacher>(store, id).await,
            Shelf::FavoriteCourses | Shelf::SignatureCourses => exists::<Course>(store, id).await,
            Shelf::FavoriteVideos | Shelf::ViewedVideos => exists::<Video>(store, id).await,
            Shelf::FavoriteCollections => exists::<CourseCollection>(store, id).await,
        }
    }
}

/// Puts a thing on the user's shelf (`keep`) or takes it off; doing either twice changes
/// nothing more. Putting a thing that does not exist is 404; taking one off never is.
pub async fn keep(
    store: &Store,
    user: &User,
    shelf: Shelf,
    id: i64,
    keep: bool,
) -> Result<(), ApiError> {
    if keep && !shelf.holds_existing(store, id).await? {
        return Err(ApiError::not_found());
    }
    let held = shelf.held(user);
    if keep && held.len() >= MAX_SHELVED && !held.contains(&id) {
        return Err(ApiError::field(
            shelf.field(),
            format!("A shelf holds at most {MAX_SHELVED} things; remove some first."),
        ));
    }
    let field = FieldPath::parse([shelf.field()])?;
    store
        .users()
        .set_membership(user.id, &field, Value::from(id), keep)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(())
}
