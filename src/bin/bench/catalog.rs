//! `bench catalog [COURSES] [USERS]`: seed 000's nested reads and its search.
//!
//! The store gets a catalog of COURSES courses (default 10,000; titles of three words from a
//! vocabulary with accented words, each course with a video), 200 teachers, 50 categories
//! and 200 collections of 5 courses, plus USERS users (default 100) with 10 things on each
//! shelf (favorite teachers, courses, videos, collections, viewed videos, signature
//! courses). Measured, over 4 keep-alive connections:
//!
//! - `GET /api/v1/user/?limit=100` by a holder of `view_user`: every user nested (a few
//!   hundred objects each), built from one batched read per kind of thing;
//! - `GET /api/v1/user/global_search/?search_value=…` for a word start from the vocabulary,
//!   read from the folded word index.

use std::sync::Arc;
use std::time::Duration;

use testit::accounts::jwt::{random_id, JwtKeys};
use testit::catalog::search;
use testit::store::{Category, Course, CourseCollection, MediaFile, Store, Teacher, User, Video};

use crate::common::{percentile, start_server, user, Place, SECRET};
use crate::rest::{load, request, MakeRequest, Stop};

/// The words course titles are made of.
const WORDS: &[&str] = &[
    "algebra",
    "biology",
    "café",
    "chemistry",
    "drawing",
    "élan",
    "economics",
    "français",
    "geometry",
    "guitar",
    "history",
    "italiano",
    "jazz",
    "kotlin",
    "literature",
    "music",
    "ñandú",
    "physics",
    "python",
    "rust",
    "sculpture",
    "statistics",
    "théâtre",
    "writing",
    "yoga",
    "zoology",
    "advanced",
    "basic",
    "complete",
    "first",
    "modern",
    "practical",
];

fn title(n: usize) -> String {
    let pick = |k: usize| WORDS[(n / k + n * 7 / (k + 3)) % WORDS.len()];
    format!("{} {} {n}", pick(1), pick(5))
}

async fn seed(store: &Store, courses: usize, users: usize) -> i64 {
    let image = store
        .repo::<MediaFile>()
        .insert(MediaFile {
            title: "cover".into(),
            name: "cover.jpg".into(),
            content_type: "image/jpeg".into(),
            size: 1,
            ..MediaFile::default()
        })
        .await
        .expect("file");
    let mut categories = Vec::new();
    for n in 0..50 {
        let category = Category {
            id: 0,
            title: format!("Category {n}"),
            image: Some(image.id),
        };
        let category = store
            .repo::<Category>()
            .insert(category)
            .await
            .expect("category");
        search::index(store, "category", category.id, Some(&category.title))
            .await
            .expect("index");
        categories.push(category.id);
    }
    let mut teachers = Vec::new();
    for n in 0..200 {
        let teacher = Teacher {
            first_name: format!("Teacher{n}"),
            last_name: WORDS[n % WORDS.len()].to_owned(),
            description: "Teaches.".into(),
            avatar: Some(image.id),
            promo_files: vec![image.id],
            ..Teacher::default()
        };
        let teacher = store
            .repo::<Teacher>()
            .insert(teacher)
            .await
            .expect("teacher");
        let name = format!("{} {}", teacher.first_name, teacher.last_name);
        search::index(store, "teacher", teacher.id, Some(&name))
            .await
            .expect("index");
        teachers.push(teacher.id);
    }
    let (mut course_ids, mut video_ids) = (Vec::new(), Vec::new());
    for n in 0..courses {
        let course = Course {
            title: title(n),
            description: "A course.".into(),
            overview: "Short.".into(),
            category_id: Some(categories[n % categories.len()]),
            teacher_id: Some(teachers[n % teachers.len()]),
            image: Some(image.id),
            created_at: 1_600_000_000_000_000,
            updated_at: 1_600_000_000_000_000,
            ..Course::default()
        };
        let course = store.repo::<Course>().insert(course).await.expect("course");
        search::index(store, "course", course.id, Some(&course.title))
            .await
            .expect("index");
        let video = Video {
            title: format!("Lesson {n}"),
            thumbnail: Some(image.id),
            course_id: Some(course.id),
            ..Video::default()
        };
        video_ids.push(store.repo::<Video>().insert(video).await.expect("video").id);
        course_ids.push(course.id);
        if n % 1000 == 999 {
            eprintln!("{} courses stored", n + 1);
        }
    }
    let mut collections = Vec::new();
    for n in 0..200 {
        let collection = CourseCollection {
            title: format!("Collection {n}"),
            image: Some(image.id),
            courses: (0..5)
                .map(|k| course_ids[(n * 5 + k) % course_ids.len()])
                .collect(),
            ..CourseCollection::default()
        };
        collections.push(
            store
                .repo::<CourseCollection>()
                .insert(collection)
                .await
                .expect("collection")
                .id,
        );
    }
    let ten = |ids: &[i64], n: usize| -> Vec<i64> {
        (0..10).map(|k| ids[(n * 13 + k * 7) % ids.len()]).collect()
    };
    for n in 0..users {
        let shelved = User {
            favorite_teachers: ten(&teachers, n),
            favorite_courses: ten(&course_ids, n),
            favorite_videos: ten(&video_ids, n),
            favorite_collections: ten(&collections, n),
            viewed_videos: ten(&video_ids, n + 1),
            signature_courses: ten(&course_ids, n + 1),
            ..user(format!("u{n}@bench.org"), None, false)
        };
        store.users().insert(shelved).await.expect("user");
    }
    let viewer = User {
        permissions: vec![1], // view_user
        ..user("viewer@bench.org".into(), None, false)
    };
    store.users().insert(viewer).await.expect("viewer").id
}

fn report(what: &str, outcome: &crate::rest::Outcome) {
    let sorted = outcome.sorted();
    println!(
        "{what}: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, {:.0} KB per answer, {} failures",
        outcome.per_second(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        outcome.body_len as f64 / 1e3,
        outcome.failures
    );
}

pub async fn run(courses: usize, users: usize, store: Option<&str>) {
    let place = Place::new("catalog", store);
    let opened = place.open().await;
    let started = std::time::Instant::now();
    let viewer = seed(&opened, courses.max(1), users).await;
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    drop(opened);

    let (server, port) = start_server(&place).await;
    let keys = JwtKeys::new(SECRET, Duration::from_secs(3600), Duration::from_secs(3600));
    let token = Arc::new(keys.access_token(viewer, 0, &random_id()));
    println!(
        "store: {}; {courses} courses, {users} users with 10 things per shelf",
        place.label()
    );

    let listing: MakeRequest = {
        let token = Arc::clone(&token);
        Arc::new(move |_, _| request("GET", "/api/v1/user/?limit=100", Some(&token), None))
    };
    let outcome = load(port, 4, Stop::requests(200), 200, listing).await;
    report("GET /api/v1/user/?limit=100 (nested)", &outcome);

    let searching: MakeRequest = {
        let token = Arc::clone(&token);
        Arc::new(move |conn, n| {
            let word = WORDS[(conn * 31 + n * 7) % WORDS.len()];
            let start: String = word.chars().take(3 + n % 3).collect();
            let query: String = url::form_urlencoded::byte_serialize(start.as_bytes()).collect();
            let path = format!("/api/v1/user/global_search/?search_value={query}");
            request("GET", &path, Some(&token), None)
        })
    };
    let outcome = load(port, 4, Stop::requests(400), 200, searching).await;
    report("GET /api/v1/user/global_search/ (word starts)", &outcome);
    drop(server);
    place.clean_up().await;
}
