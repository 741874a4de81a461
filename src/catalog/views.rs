//! What clients see of the catalog, nested the way seed 000 shows it, and the loader that
//! builds those nests from batched reads.
//!
//! A user of seed 000 nests a few hundred objects (collections hold courses, which hold a
//! teacher, a category and videos, which hold files). [`Nest::load`] reads them level by
//! level, one query per kind of thing (videos take two: by id and by course), however many
//! there are; rendering is then plain lookups in memory.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::domain::moment::{timestamp, timestamp_micros};
use crate::error::ApiError;
use crate::store::{
    Category, Course, CourseCollection, Document, Filter, MediaFile, Store, Teacher, User, Video,
};

/// An uploaded file: an image or a video rendition.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogFile)]
pub struct FileOut {
    pub id: i64,
    pub title: String,
    /// Absolute URL of the bytes (`…/media/files/{id}/{name}`).
    pub file: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogCategory)]
pub struct CategoryOut {
    pub id: i64,
    pub title: String,
    pub image: Option<FileOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogVideo)]
pub struct VideoOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub file720p: Option<FileOut>,
    pub file1080p: Option<FileOut>,
    pub thumbnail: Option<FileOut>,
    /// The course's id.
    pub course: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogTeacher)]
pub struct TeacherOut {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub description: String,
    pub avatar: Option<FileOut>,
    pub facebook: Option<String>,
    pub instagram: Option<String>,
    pub location: Option<String>,
    pub promo_files: Vec<FileOut>,
    pub promo_videos: Vec<VideoOut>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogCourse)]
pub struct CourseOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub overview: String,
    pub category: Option<CategoryOut>,
    pub teacher: Option<TeacherOut>,
    pub image: Option<FileOut>,
    /// In id order.
    pub videos: Vec<VideoOut>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = CatalogCollection)]
pub struct CollectionOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    /// Whether the caller keeps this collection among their favorites.
    pub is_favorite: bool,
    pub image: Option<FileOut>,
    /// In the curator's order.
    pub courses: Vec<CourseOut>,
}

/// A user's shelves, nested (seed 000's user shape beyond its five plain fields).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = UserShelves)]
pub struct ShelvesOut {
    pub signature_courses: Vec<CourseOut>,
    pub favorite_teachers: Vec<TeacherOut>,
    pub favorite_courses: Vec<CourseOut>,
    pub favorite_videos: Vec<VideoOut>,
    pub is_viewed_videos: Vec<VideoOut>,
    pub favorite_collections: Vec<CollectionOut>,
}

/// The ids a response nests at its top level, by kind.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    pub teachers: BTreeSet<i64>,
    pub categories: BTreeSet<i64>,
    pub courses: BTreeSet<i64>,
    pub videos: BTreeSet<i64>,
    pub collections: BTreeSet<i64>,
    pub files: BTreeSet<i64>,
}

impl Roots {
    /// Everything on the users' shelves.
    pub fn of_shelves(users: &[User]) -> Roots {
        let mut roots = Roots::default();
        for user in users {
            roots.courses.extend(&user.signature_courses);
            roots.courses.extend(&user.favorite_courses);
            roots.teachers.extend(&user.favorite_teachers);
            roots.videos.extend(&user.favorite_videos);
            roots.videos.extend(&user.viewed_videos);
            roots.collections.extend(&user.favorite_collections);
        }
        roots
    }
}

/// Everything one response nests, loaded with one query per kind.
pub struct Nest {
    /// Scheme and authority that file URLs start with (`http://host:port`).
    base: String,
    /// The caller's favorite collections (`is_favorite`).
    favorites: HashSet<i64>,
    files: HashMap<i64, MediaFile>,
    teachers: HashMap<i64, Teacher>,
    categories: HashMap<i64, Category>,
    courses: HashMap<i64, Course>,
    videos: HashMap<i64, Video>,
    /// Video ids of each loaded course, in id order.
    course_videos: HashMap<i64, Vec<i64>>,
    collections: HashMap<i64, CourseCollection>,
}

fn ids_filter(ids: &BTreeSet<i64>) -> Filter {
    Filter::In("id", ids.iter().map(|&id| Value::from(id)).collect())
}

async fn by_ids<T: Document>(
    store: &Store,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, T>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = store.repo::<T>().find(&ids_filter(ids), None).await?;
    Ok(found.into_iter().map(|doc| (doc.id(), doc)).collect())
}

impl Nest {
    /// Loads the roots and everything they nest. `viewer` is the caller (for `is_favorite`).
    pub async fn load(
        store: &Store,
        base: &str,
        viewer: &User,
        mut roots: Roots,
    ) -> Result<Nest, ApiError> {
        let collections: HashMap<i64, CourseCollection> = by_ids(store, &roots.collections).await?;
        for collection in collections.values() {
            roots.courses.extend(&collection.courses);
            roots.files.extend(collection.image);
        }
        let courses: HashMap<i64, Course> = by_ids(store, &roots.courses).await?;
        for course in courses.values() {
            roots.teachers.extend(course.teacher_id);
            roots.categories.extend(course.category_id);
            roots.files.extend(course.image);
        }
        let teachers: HashMap<i64, Teacher> = by_ids(store, &roots.teachers).await?;
        for teacher in teachers.values() {
            roots.videos.extend(&teacher.promo_videos);
            roots.files.extend(teacher.avatar);
            roots.files.extend(&teacher.promo_files);
        }
        let categories: HashMap<i64, Category> = by_ids(store, &roots.categories).await?;
        roots
            .files
            .extend(categories.values().filter_map(|c| c.image));

        let mut videos: HashMap<i64, Video> = by_ids(store, &roots.videos).await?;
        if !courses.is_empty() {
            let filter = Filter::In(
                "course_id",
                courses.keys().map(|&id| Value::from(id)).collect(),
            );
            for video in store.repo::<Video>().find(&filter, None).await? {
                videos.insert(video.id, video);
            }
        }
        let mut course_videos: HashMap<i64, Vec<i64>> = HashMap::new();
        for video in videos.values() {
            roots.files.extend(
                [video.file720p, video.file1080p, video.thumbnail]
                    .into_iter()
                    .flatten(),
            );
            if let Some(course) = video.course_id.filter(|id| courses.contains_key(id)) {
                course_videos.entry(course).or_default().push(video.id);
            }
        }
        for ids in course_videos.values_mut() {
            ids.sort_unstable();
        }
        let files: HashMap<i64, MediaFile> = by_ids(store, &roots.files).await?;
        Ok(Nest {
            base: base.trim_end_matches('/').to_owned(),
            favorites: viewer.favorite_collections.iter().copied().collect(),
            files,
            teachers,
            categories,
            courses,
            videos,
            course_videos,
            collections,
        })
    }

    pub fn file(&self, id: Option<i64>) -> Option<FileOut> {
        let file = self.files.get(&id?)?;
        Some(file_out(&self.base, file))
    }

    fn files(&self, ids: &[i64]) -> Vec<FileOut> {
        ids.iter().filter_map(|&id| self.file(Some(id))).collect()
    }

    pub fn category(&self, id: i64) -> Option<CategoryOut> {
        let category = self.categories.get(&id)?;
        Some(CategoryOut {
            id,
            title: category.title.clone(),
            image: self.file(category.image),
        })
    }

    pub fn video(&self, id: i64) -> Option<VideoOut> {
        let video = self.videos.get(&id)?;
        Some(VideoOut {
            id,
            title: video.title.clone(),
            description: video.description.clone(),
            file720p: self.file(video.file720p),
            file1080p: self.file(video.file1080p),
            thumbnail: self.file(video.thumbnail),
            course: video.course_id,
        })
    }

    fn videos(&self, ids: &[i64]) -> Vec<VideoOut> {
        ids.iter().filter_map(|&id| self.video(id)).collect()
    }

    pub fn teacher(&self, id: i64) -> Option<TeacherOut> {
        let teacher = self.teachers.get(&id)?;
        Some(TeacherOut {
            id,
            first_name: teacher.first_name.clone(),
            last_name: teacher.last_name.clone(),
            description: teacher.description.clone(),
            avatar: self.file(teacher.avatar),
            facebook: teacher.facebook.clone(),
            instagram: teacher.instagram.clone(),
            location: teacher.location.clone(),
            promo_files: self.files(&teacher.promo_files),
            promo_videos: self.videos(&teacher.promo_videos),
        })
    }

    pub fn course(&self, id: i64) -> Option<CourseOut> {
        let course = self.courses.get(&id)?;
        let videos = self
            .course_videos
            .get(&id)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        Some(CourseOut {
            id,
            title: course.title.clone(),
            description: course.description.clone(),
            overview: course.overview.clone(),
            category: course.category_id.and_then(|id| self.category(id)),
            teacher: course.teacher_id.and_then(|id| self.teacher(id)),
            image: self.file(course.image),
            videos: self.videos(videos),
            created_at: timestamp_micros(course.created_at),
            updated_at: timestamp_micros(course.updated_at),
        })
    }

    fn courses(&self, ids: &[i64]) -> Vec<CourseOut> {
        ids.iter().filter_map(|&id| self.course(id)).collect()
    }

    pub fn collection(&self, id: i64) -> Option<CollectionOut> {
        let collection = self.collections.get(&id)?;
        Some(CollectionOut {
            id,
            title: collection.title.clone(),
            description: collection.description.clone(),
            is_favorite: self.favorites.contains(&id),
            image: self.file(collection.image),
            courses: self.courses(&collection.courses),
        })
    }

    /// A user's shelves; things deleted since they were shelved are left out.
    pub fn shelves(&self, user: &User) -> ShelvesOut {
        ShelvesOut {
            signature_courses: self.courses(&user.signature_courses),
            favorite_teachers: user
                .favorite_teachers
                .iter()
                .filter_map(|&id| self.teacher(id))
                .collect(),
            favorite_courses: self.courses(&user.favorite_courses),
            favorite_videos: self.videos(&user.favorite_videos),
            is_viewed_videos: self.videos(&user.viewed_videos),
            favorite_collections: user
                .favorite_collections
                .iter()
                .filter_map(|&id| self.collection(id))
                .collect(),
        }
    }
}

/// The URL path a file's bytes are served at.
pub fn file_path(file: &MediaFile) -> String {
    format!("/media/files/{}/{}", file.id, file.name)
}

pub fn file_out(base: &str, file: &MediaFile) -> FileOut {
    FileOut {
        id: file.id,
        title: file.title.clone(),
        file: format!("{}{}", base.trim_end_matches('/'), file_path(file)),
        created_at: timestamp(file.created_at),
    }
}

/// The shelves of each user, in order, from one batched load. `viewer` is the caller.
pub async fn shelves_of(
    store: &Store,
    base: &str,
    viewer: &User,
    users: &[User],
) -> Result<Vec<ShelvesOut>, ApiError> {
    let nest = Nest::load(store, base, viewer, Roots::of_shelves(users)).await?;
    Ok(users.iter().map(|user| nest.shelves(user)).collect())
}
