//! Writing the catalog: what each kind of thing reads from a request, which other things it
//! may point at, and what deleting it does to those that point at it.
//!
//! Every kind is a [`Thing`]; the rules that are the same for all (references must exist and
//! files must be of the right kind, the search index follows every write, deletes are
//! refused while something else nests the thing) are written once, over the trait.

use std::collections::BTreeSet;

use serde_json::Value;

use super::files::{kind_of, MediaKind};
use super::search;
use super::views::{CategoryOut, CollectionOut, CourseOut, Nest, Roots, TeacherOut, VideoOut};
use crate::domain::clock::now_micros;
use crate::domain::input::{missing_pk, Input};
use crate::domain::text::check_single_line;
use crate::error::ApiError;
use crate::store::{
    Category, Course, CourseCollection, Document, Filter, MediaFile, Store, Teacher, Video,
};

/// The longest title or name, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description or overview, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// What a file field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Image,
    Video,
    /// Either (a teacher's promo files).
    Any,
}

impl FileKind {
    fn admits(self, content_type: &str) -> bool {
        matches!(
            (self, kind_of(content_type)),
            (FileKind::Any, _)
                | (FileKind::Image, MediaKind::Image)
                | (FileKind::Video, MediaKind::Video)
        )
    }

    fn noun(self) -> &'static str {
        match self {
            FileKind::Image => "an image",
            FileKind::Video => "a video (MP4 or WebM)",
            FileKind::Any => "a file",
        }
    }
}

/// Another thing a field points at.
#[derive(Debug, Clone, Copy)]
pub enum Ref {
    File(FileKind),
    Teacher,
    Category,
    Course,
    Video,
}

/// A kind of catalog thing.
// The futures of `before_delete` need no `Send` bound: handlers await them on actix's
// single-threaded workers.
#[allow(async_fn_in_trait)]
pub trait Thing: Document + Clone + Default {
    /// The kind's name in search results and messages (`course`).
    const KIND: &'static str;
    type Out: serde::Serialize + 'static;

    /// Reads the request's fields into `doc`: required ones must be there, optional ones
    /// left out keep the value `doc` has.
    fn read(input: &mut Input, doc: &mut Self);
    /// Every reference the document holds, by field.
    fn refs(&self) -> Vec<(&'static str, Ref, i64)>;
    /// What a response about these things nests.
    fn roots(ids: BTreeSet<i64>) -> Roots;
    fn render(nest: &Nest, id: i64) -> Option<Self::Out>;
    /// The text `global_search/` finds it by, if it is searchable.
    fn searchable(&self) -> Option<String>;
    /// Refuses the delete while others nest it (naming them), or does what the delete
    /// brings along (a course's videos go with it).
    async fn before_delete(&self, store: &Store) -> Result<(), ApiError>;
}

fn text(input: &mut Input, field: &str, max: usize, line: bool, required: bool) -> Option<String> {
    let value = if required {
        input.required_str(field)
    } else {
        input.optional_str(field)
    }?;
    let value = value.trim().to_owned();
    if required && value.is_empty() {
        input.error(field, "This field may not be blank.");
        return None;
    }
    if value.chars().count() > max {
        input.error(
            field,
            format!("Ensure this field has no more than {max} characters."),
        );
        return None;
    }
    if line {
        if let Err(problem) = check_single_line(&value) {
            input.error(field, problem);
            return None;
        }
    }
    Some(value)
}

fn title(input: &mut Input, field: &str) -> Option<String> {
    text(input, field, MAX_TITLE_CHARS, true, true)
}

fn long_text(input: &mut Input, field: &str) -> Option<String> {
    text(input, field, MAX_TEXT_CHARS, false, false)
}

/// A nullable single-line text (a link, a place): blank is null.
fn nullable_line(input: &mut Input, field: &str) -> Option<Option<String>> {
    let value = input.nullable_str(field)?;
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Some(None);
    };
    if value.chars().count() > MAX_TITLE_CHARS {
        input.error(
            field,
            format!("Ensure this field has no more than {MAX_TITLE_CHARS} characters."),
        );
        return None;
    }
    match check_single_line(&value) {
        Ok(()) => Some(Some(value)),
        Err(problem) => {
            input.error(field, problem);
            None
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn set_list(input: &mut Input, field: &str, slot: &mut Vec<i64>) {
    if input.has(field) {
        let mut seen = BTreeSet::new();
        *slot = input
            .id_list(field)
            .into_iter()
            .filter(|id| seen.insert(*id))
            .collect();
    }
}

fn one(field: &'static str, kind: Ref, id: Option<i64>) -> Option<(&'static str, Ref, i64)> {
    id.map(|id| (field, kind, id))
}

fn many(field: &'static str, kind: Ref, ids: &[i64]) -> Vec<(&'static str, Ref, i64)> {
    ids.iter().map(|&id| (field, kind, id)).collect()
}

impl Thing for Teacher {
    const KIND: &'static str = "teacher";
    type Out = TeacherOut;

    fn read(input: &mut Input, doc: &mut Self) {
        set(&mut doc.first_name, title(input, "first_name"));
        set(&mut doc.last_name, title(input, "last_name"));
        set(&mut doc.description, long_text(input, "description"));
        set(&mut doc.avatar, input.nullable_int("avatar"));
        set(&mut doc.facebook, nullable_line(input, "facebook"));
        set(&mut doc.instagram, nullable_line(input, "instagram"));
        set(&mut doc.location, nullable_line(input, "location"));
        set_list(input, "promo_files", &mut doc.promo_files);
        set_list(input, "promo_videos", &mut doc.promo_videos);
    }

    fn refs(&self) -> Vec<(&'static str, Ref, i64)> {
        let mut refs: Vec<_> = one("avatar", Ref::File(FileKind::Image), self.avatar)
            .into_iter()
            .collect();
        // Promo material may be a picture or a clip.
        refs.extend(many(
            "promo_files",
            Ref::File(FileKind::Any),
            &self.promo_files,
        ));
        refs.extend(many("promo_videos", Ref::Video, &self.promo_videos));
        refs
    }

    fn roots(ids: BTreeSet<i64>) -> Roots {
        Roots {
            teachers: ids,
            ..Roots::default()
        }
    }

    fn render(nest: &Nest, id: i64) -> Option<TeacherOut> {
        nest.teacher(id)
    }

    fn searchable(&self) -> Option<String> {
        Some(format!("{} {}", self.first_name, self.last_name))
    }

    async fn before_delete(&self, store: &Store) -> Result<(), ApiError> {
        let courses = store
            .repo::<Course>()
            .find(&Filter::Eq("teacher_id", Value::from(self.id)), None)
            .await?;
        refuse_if_used("courses", courses.iter().map(|c| c.id))
    }
}

impl Thing for Category {
    const KIND: &'static str = "category";
    type Out = CategoryOut;

    fn read(input: &mut Input, doc: &mut Self) {
        set(&mut doc.title, title(input, "title"));
        set(&mut doc.image, input.nullable_int("image"));
    }

    fn refs(&self) -> Vec<(&'static str, Ref, i64)> {
        one("image", Ref::File(FileKind::Image), self.image)
            .into_iter()
            .collect()
    }

    fn roots(ids: BTreeSet<i64>) -> Roots {
        Roots {
            categories: ids,
            ..Roots::default()
        }
    }

    fn render(nest: &Nest, id: i64) -> Option<CategoryOut> {
        nest.category(id)
    }

    fn searchable(&self) -> Option<String> {
        Some(self.title.clone())
    }

    async fn before_delete(&self, store: &Store) -> Result<(), ApiError> {
        let courses = store
            .repo::<Course>()
            .find(&Filter::Eq("category_id", Value::from(self.id)), None)
            .await?;
        refuse_if_used("courses", courses.iter().map(|c| c.id))
    }
}

impl Thing for Course {
    const KIND: &'static str = "course";
    type Out = CourseOut;

    fn read(input: &mut Input, doc: &mut Self) {
        set(&mut doc.title, title(input, "title"));
        set(&mut doc.description, long_text(input, "description"));
        set(&mut doc.overview, long_text(input, "overview"));
        set(&mut doc.category_id, input.nullable_int("category"));
        set(&mut doc.teacher_id, input.nullable_int("teacher"));
        set(&mut doc.image, input.nullable_int("image"));
        let now = now_micros();
        if doc.created_at == 0 {
            doc.created_at = now;
        }
        doc.updated_at = now;
    }

    fn refs(&self) -> Vec<(&'static str, Ref, i64)> {
        [
            one("category", Ref::Category, self.category_id),
            one("teacher", Ref::Teacher, self.teacher_id),
            one("image", Ref::File(FileKind::Image), self.image),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn roots(ids: BTreeSet<i64>) -> Roots {
        Roots {
            courses: ids,
            ..Roots::default()
        }
    }

    fn render(nest: &Nest, id: i64) -> Option<CourseOut> {
        nest.course(id)
    }

    fn searchable(&self) -> Option<String> {
        Some(self.title.clone())
    }

    /// Refused while a collection lists the course or a teacher shows one of its videos;
    /// otherwise its videos go with it.
    async fn before_delete(&self, store: &Store) -> Result<(), ApiError> {
        let collections = store
            .repo::<CourseCollection>()
            .find(&Filter::Contains("courses", Value::from(self.id)), None)
            .await?;
        refuse_if_used("collections", collections.iter().map(|c| c.id))?;
        let videos = store
            .repo::<Video>()
            .find(&Filter::Eq("course_id", Value::from(self.id)), None)
            .await?;
        for video in &videos {
            video.before_delete(store).await?;
        }
        for video in videos {
            store.repo::<Video>().delete(video.id).await?;
        }
        Ok(())
    }
}

impl Thing for Video {
    const KIND: &'static str = "video";
    type Out = VideoOut;

    fn read(input: &mut Input, doc: &mut Self) {
        set(&mut doc.title, title(input, "title"));
        set(&mut doc.description, long_text(input, "description"));
        set(&mut doc.file720p, input.nullable_int("file720p"));
        set(&mut doc.file1080p, input.nullable_int("file1080p"));
        set(&mut doc.thumbnail, input.nullable_int("thumbnail"));
        set(&mut doc.course_id, input.nullable_int("course"));
    }

    fn refs(&self) -> Vec<(&'static str, Ref, i64)> {
        [
            one("file720p", Ref::File(FileKind::Video), self.file720p),
            one("file1080p", Ref::File(FileKind::Video), self.file1080p),
            one("thumbnail", Ref::File(FileKind::Image), self.thumbnail),
            one("course", Ref::Course, self.course_id),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn roots(ids: BTreeSet<i64>) -> Roots {
        Roots {
            videos: ids,
            ..Roots::default()
        }
    }

    fn render(nest: &Nest, id: i64) -> Option<VideoOut> {
        nest.video(id)
    }

    fn searchable(&self) -> Option<String> {
        None
    }

    async fn before_delete(&self, store: &Store) -> Result<(), ApiError> {
        let teachers = store
            .repo::<Teacher>()
            .find(
                &Filter::Contains("promo_videos", Value::from(self.id)),
                None,
            )
            .await?;
        refuse_if_used("teachers", teachers.iter().map(|t| t.id))
    }
}

impl Thing for CourseCollection {
    const KIND: &'static str = "collection";
    type Out = CollectionOut;

    fn read(input: &mut Input, doc: &mut Self) {
        set(&mut doc.title, title(input, "title"));
        set(&mut doc.description, long_text(input, "description"));
        set(&mut doc.image, input.nullable_int("image"));
        set_list(input, "courses", &mut doc.courses);
    }

    fn refs(&self) -> Vec<(&'static str, Ref, i64)> {
        let mut refs: Vec<_> = one("image", Ref::File(FileKind::Image), self.image)
            .into_iter()
            .collect();
        refs.extend(many("courses", Ref::Course, &self.courses));
        refs
    }

    fn roots(ids: BTreeSet<i64>) -> Roots {
        Roots {
            collections: ids,
            ..Roots::default()
        }
    }

    fn render(nest: &Nest, id: i64) -> Option<CollectionOut> {
        nest.collection(id)
    }

    fn searchable(&self) -> Option<String> {
        Some(self.title.clone())
    }

    async fn before_delete(&self, _store: &Store) -> Result<(), ApiError> {
        Ok(())
    }
}

/// The 400 of a delete refused because others nest the thing, naming them.
fn refuse_if_used(by: &str, ids: impl Iterator<Item = i64>) -> Result<(), ApiError> {
    let ids: Vec<String> = ids.map(|id| id.to_string()).collect();
    if ids.is_empty() {
        return Ok(());
    }
    // `{detail, code}` as the files' delete answers: the request has no field to blame.
    Err(ApiError::bad_request(format!(
        "Still used by {by} {}; change or delete them first.",
        ids.join(", ")
    )))
}

async fn existing<T: Document>(store: &Store, ids: &BTreeSet<i64>) -> Result<Vec<T>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::In("id", ids.iter().map(|&id| Value::from(id)).collect());
    Ok(store.repo::<T>().find(&filter, None).await?)
}

async fn existing_ids<T: Document>(
    store: &Store,
    ids: &BTreeSet<i64>,
) -> Result<BTreeSet<i64>, ApiError> {
    Ok(existing::<T>(store, ids)
        .await?
        .iter()
        .map(Document::id)
        .collect())
}

/// Checks that every reference names an existing thing (and every file one of the kind its
/// field shows), with one read per kind referred to.
async fn check_refs(store: &Store, refs: &[(&'static str, Ref, i64)]) -> Result<(), ApiError> {
    let wanted = |pick: fn(Ref) -> bool| -> BTreeSet<i64> {
        refs.iter()
            .filter(|(_, kind, _)| pick(*kind))
            .map(|(_, _, id)| *id)
            .collect()
    };
    let files: Vec<MediaFile> = existing(store, &wanted(|k| matches!(k, Ref::File(_)))).await?;
    let teachers = existing_ids::<Teacher>(store, &wanted(|k| matches!(k, Ref::Teacher))).await?;
    let categories =
        existing_ids::<Category>(store, &wanted(|k| matches!(k, Ref::Category))).await?;
    let courses = existing_ids::<Course>(store, &wanted(|k| matches!(k, Ref::Course))).await?;
    let videos = existing_ids::<Video>(store, &wanted(|k| matches!(k, Ref::Video))).await?;
    let mut input = Input::new(serde_json::Map::new());
    for &(field, kind, id) in refs {
        let found = match kind {
            Ref::File(want) => match files.iter().find(|f| f.id == id) {
                Some(file) if want.admits(&file.content_type) => true,
                Some(file) => {
                    input.error(
                        field,
                        format!(
                            "File {id} is {}; this field takes {}.",
                            file.content_type,
                            want.noun()
                        ),
                    );
                    continue;
                }
                None => false,
            },
            Ref::Teacher => teachers.contains(&id),
            Ref::Category => categories.contains(&id),
            Ref::Course => courses.contains(&id),
            Ref::Video => videos.contains(&id),
        };
        if !found {
            input.error(field, missing_pk(id));
        }
    }
    input.finish()
}

/// Creates a thing from a request body.
pub async fn create<T: Thing>(store: &Store, mut input: Input) -> Result<T, ApiError> {
    let mut doc = T::default();
    T::read(&mut input, &mut doc);
    input.finish()?;
    check_refs(store, &doc.refs()).await?;
    let doc = store.repo::<T>().insert(doc).await?;
    search::index(store, T::KIND, doc.id(), doc.searchable().as_deref()).await?;
    Ok(doc)
}

/// Changes a thing: required fields must be sent, optional ones left out stay.
pub async fn change<T: Thing>(store: &Store, id: i64, mut input: Input) -> Result<T, ApiError> {
    let Some(current) = store.repo::<T>().get(id).await? else {
        return Err(ApiError::not_found());
    };
    let fields = input.clone();
    let mut doc = current.clone();
    T::read(&mut input, &mut doc);
    input.finish()?;
    check_refs(store, &doc.refs()).await?;
    // The fields are applied to the document as stored when the write happens, so that
    // a concurrent change of other fields is kept, not overwritten with this snapshot.
    let written = store
        .repo::<T>()
        .update(id, |stored: &mut T| -> Result<(), ApiError> {
            T::read(&mut fields.clone(), stored);
            Ok(())
        })
        .await?
        .ok_or_else(ApiError::not_found)?;
    if written.searchable() != current.searchable() {
        search::index(store, T::KIND, id, written.searchable().as_deref()).await?;
    }
    Ok(written)
}

/// Deletes a thing unless others nest it.
pub async fn delete<T: Thing>(store: &Store, id: i64) -> Result<(), ApiError> {
    let Some(doc) = store.repo::<T>().get(id).await? else {
        return Err(ApiError::not_found());
    };
    doc.before_delete(store).await?;
    search::index(store, T::KIND, id, None).await?;
    if !store.repo::<T>().delete(id).await? {
        return Err(ApiError::not_found());
    }
    Ok(())
}

/// Things of one kind, nested, in the order of `docs`.
pub async fn present<T: Thing>(
    store: &Store,
    base: &str,
    viewer: &crate::store::User,
    docs: &[T],
) -> Result<Vec<T::Out>, ApiError> {
    let ids: BTreeSet<i64> = docs.iter().map(Document::id).collect();
    let nest = Nest::load(store, base, viewer, T::roots(ids)).await?;
    Ok(docs
        .iter()
        .filter_map(|doc| T::render(&nest, doc.id()))
        .collect())
}
