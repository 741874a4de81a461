//! The course catalog (`/api/v1/catalog/…`), shelves and `global_search/` (seed 000).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testit::store::User;

use crate::helpers::{spawn_app, status_json, Member, TestApp};
use crate::media::{file, mp4, png, title, upload};

/// Keys of an object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

const FILE: &[&str] = &["id", "title", "file", "created_at"];
const CATEGORY: &[&str] = &["id", "title", "image"];
const VIDEO: &[&str] = &[
    "id",
    "title",
    "description",
    "file720p",
    "file1080p",
    "thumbnail",
    "course",
];
const TEACHER: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "description",
    "avatar",
    "facebook",
    "instagram",
    "location",
    "promo_files",
    "promo_videos",
];
const COURSE: &[&str] = &[
    "id",
    "title",
    "description",
    "overview",
    "category",
    "teacher",
    "image",
    "videos",
    "created_at",
    "updated_at",
];
const COLLECTION: &[&str] = &[
    "id",
    "title",
    "description",
    "is_favorite",
    "image",
    "courses",
];

impl TestApp {
    async fn call(
        &self,
        method: Method,
        path: &str,
        who: &Member,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        status_json(self.with_key(method, path, Some(&who.key), body).await).await
    }

    /// Creates a catalog thing as `who`, asserting 201, and answers it.
    async fn made(&self, who: &Member, kind: &str, body: Value) -> Value {
        let path = format!("/api/v1/catalog/{kind}/");
        let (status, made) = self.call(Method::POST, &path, who, Some(&body)).await;
        assert_eq!(status, StatusCode::CREATED, "{kind}: {made}");
        made
    }

    /// Uploads a small image (`image/…`) or video through the files endpoint.
    async fn file_of(&self, who: &Member, name: &str, content_type: &str) -> i64 {
        let bytes = if content_type.starts_with("video/") {
            mp4(4096)
        } else {
            png(512)
        };
        let filename = format!("{name}.bin");
        let parts = [file(&filename, &bytes), title(name)];
        upload(self, &who.key, &parts).await["id"].as_i64().unwrap()
    }

    async fn stored_user(&self, id: i64) -> User {
        self.store.users().get(id).await.unwrap().unwrap()
    }
}

/// A small catalog: a category, a teacher with a promo video, a course with two videos, a
/// collection. Answers the course and the collection as created.
async fn small_catalog(app: &TestApp, admin: &Member) -> (Value, Value) {
    let image = app.file_of(admin, "cover", "image/jpeg").await;
    let clip = app.file_of(admin, "clip", "video/mp4").await;
    let category = app
        .made(
            admin,
            "categories",
            json!({"title": "Category #1", "image": image}),
        )
        .await;
    let teacher = app
        .made(
            admin,
            "teachers",
            json!({"first_name": "Lina", "last_name": "Koctenko",
                                          "description": "poetic", "avatar": image,
                                          "promo_files": [image]}),
        )
        .await;
    let course = app
        .made(
            admin,
            "courses",
            json!({"title": "course title", "description": "number one",
                                         "overview": "short", "category": category["id"],
                                         "teacher": teacher["id"], "image": image}),
        )
        .await;
    let mut videos = Vec::new();
    for n in 1..=2 {
        let video = app
            .made(
                admin,
                "videos",
                json!({"title": format!("video #{n}"), "description": "asd",
                                           "file720p": clip, "file1080p": clip,
                                           "thumbnail": image, "course": course["id"]}),
            )
            .await;
        videos.push(video["id"].clone());
    }
    // The teacher shows the first video as a promo; fields left out keep their values.
    let path = format!("/api/v1/catalog/teachers/{}/", teacher["id"]);
    let body = json!({"first_name": "Lina", "last_name": "Koctenko", "promo_videos": [videos[0]]});
    let (status, changed) = app.call(Method::PUT, &path, admin, Some(&body)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["description"], "poetic");
    let collection = app
        .made(
            admin,
            "collections",
            json!({"title": "first title", "description": "qwerty",
                                             "image": image, "courses": [course["id"]]}),
        )
        .await;
    let (_, course) = app
        .call(
            Method::GET,
            &format!("/api/v1/catalog/courses/{}/", course["id"]),
            admin,
            None,
        )
        .await;
    (course, collection)
}

#[tokio::test]
async fn a_course_reads_nested_exactly_as_the_seed_shows_it_for_anyone_signed_in() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let reader = app.member("reader").await;
    let (course, _) = small_catalog(&app, &admin).await;

    let path = format!("/api/v1/catalog/courses/{}/", course["id"]);
    let (status, seen) = app.call(Method::GET, &path, &reader, None).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(keys(&seen), sorted(COURSE));
    assert_eq!(keys(&seen["category"]), sorted(CATEGORY));
    assert_eq!(keys(&seen["category"]["image"]), sorted(FILE));
    assert_eq!(keys(&seen["teacher"]), sorted(TEACHER));
    assert_eq!(keys(&seen["teacher"]["promo_files"][0]), sorted(FILE));
    assert_eq!(keys(&seen["teacher"]["promo_videos"][0]), sorted(VIDEO));
    assert_eq!(keys(&seen["videos"][0]), sorted(VIDEO));
    assert_eq!(keys(&seen["videos"][0]["file720p"]), sorted(FILE));
    let titles: Vec<&str> = seen["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["video #1", "video #2"]);
    assert_eq!(seen["videos"][0]["course"], course["id"]);
    // Files are absolute URLs; times are RFC 3339 (courses with microseconds, as the seed).
    let url = seen["image"]["file"].as_str().unwrap();
    assert!(
        url.starts_with(&app.address) && url.contains("/media/files/"),
        "{url}"
    );
    let created = seen["image"]["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2020-11-12T17:23:14Z".len(),
        "{created}"
    );
    let bytes = app.client.get(url).send().await.unwrap();
    assert_eq!(bytes.status(), StatusCode::OK);
    assert_eq!(bytes.bytes().await.unwrap().as_ref(), png(512).as_slice());
    let updated = seen["updated_at"].as_str().unwrap();
    assert!(
        updated.ends_with('Z') && updated.len() == "2020-11-12T20:34:15.732636Z".len(),
        "{updated}"
    );

    let (status, list) = app
        .call(Method::GET, "/api/v1/catalog/courses/", &reader, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, page) = app
        .call(
            Method::GET,
            "/api/v1/catalog/collections/?limit=1",
            &reader,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 1);
    assert_eq!(keys(&page["results"][0]), sorted(COLLECTION));
    assert_eq!(keys(&page["results"][0]["courses"][0]), sorted(COURSE));
}

#[tokio::test]
async fn only_catalog_managers_write_and_nobody_reads_without_credentials() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let reader = app.member("reader").await;
    let body = json!({"title": "Maths"});
    let (status, error) = app
        .call(
            Method::POST,
            "/api/v1/catalog/categories/",
            &reader,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert!(
        error["detail"].as_str().unwrap().contains("manage_catalog"),
        "{error}"
    );

    app.grant(&admin, &reader, &[5]).await; // manage_catalog
    let made = app.made(&reader, "categories", body).await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/catalog/categories/"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let path = format!("/api/v1/catalog/categories/{}/", made["id"]);
    let (status, _) = app.call(Method::DELETE, &path, &reader, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call(Method::GET, &path, &reader, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn references_must_exist_and_file_fields_take_files_of_their_kind() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let image = app.file_of(&admin, "cover", "image/png").await;
    let body = json!({"title": "Course", "teacher": 999, "category": 998, "image": image});
    let (status, error) = app
        .call(
            Method::POST,
            "/api/v1/catalog/courses/",
            &admin,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(
        error["teacher"][0],
        "Invalid pk \"999\" - object does not exist."
    );
    assert_eq!(
        error["category"][0],
        "Invalid pk \"998\" - object does not exist."
    );
    assert!(error.get("image").is_none(), "{error}");

    let body = json!({"title": "Intro", "file720p": image});
    let (status, error) = app
        .call(Method::POST, "/api/v1/catalog/videos/", &admin, Some(&body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(
        error["file720p"][0].as_str().unwrap().contains("image/png"),
        "{error}"
    );

    let (status, error) = app
        .call(
            Method::POST,
            "/api/v1/catalog/teachers/",
            &admin,
            Some(&json!({"first_name": " "})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["first_name"].is_array() && error["last_name"].is_array(),
        "{error}"
    );
    let (status, listed) = app
        .call(Method::GET, "/api/v1/catalog/teachers/", &admin, None)
        .await;
    assert_eq!((status, listed), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn deleting_what_others_nest_is_refused_naming_them_and_a_course_takes_its_videos_along() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let (course, collection) = small_catalog(&app, &admin).await;
    let teacher = format!("/api/v1/catalog/teachers/{}/", course["teacher"]["id"]);
    let (status, error) = app.call(Method::DELETE, &teacher, &admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("courses {}", course["id"])),
        "{error}"
    );

    let course_path = format!("/api/v1/catalog/courses/{}/", course["id"]);
    let (status, error) = app.call(Method::DELETE, &course_path, &admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let detail = error["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("collections {}", collection["id"])),
        "{error}"
    );

    let collection_path = format!("/api/v1/catalog/collections/{}/", collection["id"]);
    assert_eq!(
        app.call(Method::DELETE, &collection_path, &admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // The teacher still shows video 1 as a promo video.
    let (status, error) = app.call(Method::DELETE, &course_path, &admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["detail"].as_str().unwrap().contains("teachers"),
        "{error}"
    );
    let body = json!({"first_name": "Lina", "last_name": "Koctenko", "promo_videos": []});
    assert_eq!(
        app.call(Method::PUT, &teacher, &admin, Some(&body)).await.0,
        StatusCode::OK
    );

    assert_eq!(
        app.call(Method::DELETE, &course_path, &admin, None).await.0,
        StatusCode::NO_CONTENT
    );
    for video in course["videos"].as_array().unwrap() {
        let path = format!("/api/v1/catalog/videos/{}/", video["id"]);
        assert_eq!(
            app.call(Method::GET, &path, &admin, None).await.0,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        app.call(Method::DELETE, &teacher, &admin, None).await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn shelves_are_sets_and_is_favorite_is_answered_for_the_caller() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let reader = app.member("reader").await;
    let (course, collection) = small_catalog(&app, &admin).await;
    let fav_collection = format!("/api/v1/user/favorites/collections/{}/", collection["id"]);
    for _ in 0..2 {
        assert_eq!(
            app.call(Method::PUT, &fav_collection, &reader, None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
    }
    let fav_course = format!("/api/v1/user/favorites/courses/{}/", course["id"]);
    assert_eq!(
        app.call(Method::PUT, &fav_course, &reader, None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(
            Method::PUT,
            "/api/v1/user/favorites/courses/999/",
            &reader,
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::PUT, "/api/v1/user/favorites/pets/1/", &reader, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let viewed = format!("/api/v1/user/viewed_videos/{}/", course["videos"][0]["id"]);
    assert_eq!(
        app.call(Method::PUT, &viewed, &reader, None).await.0,
        StatusCode::NO_CONTENT
    );

    // The user's own nested shape shows the shelves, each thing once, and the collection
    // as a favorite even inside their favorites (the original answered false there).
    let me = format!("/api/v1/user/{}/", reader.id);
    let (status, user) = app.call(Method::GET, &me, &reader, None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["favorite_collections"].as_array().unwrap().len(), 1);
    assert_eq!(user["favorite_collections"][0]["id"], collection["id"]);
    assert_eq!(user["favorite_collections"][0]["is_favorite"], true);
    assert_eq!(keys(&user["favorite_collections"][0]), sorted(COLLECTION));
    assert_eq!(user["favorite_courses"][0]["id"], course["id"]);
    assert_eq!(keys(&user["favorite_courses"][0]), sorted(COURSE));
    assert_eq!(user["is_viewed_videos"][0]["id"], course["videos"][0]["id"]);
    assert_eq!(keys(&user["is_viewed_videos"][0]), sorted(VIDEO));
    assert_eq!(user["favorite_teachers"], json!([]));

    let path = format!("/api/v1/catalog/collections/{}/", collection["id"]);
    let (_, mine) = app.call(Method::GET, &path, &reader, None).await;
    assert_eq!(mine["is_favorite"], true);
    let (_, theirs) = app.call(Method::GET, &path, &admin, None).await;
    assert_eq!(theirs["is_favorite"], false);

    for _ in 0..2 {
        assert_eq!(
            app.call(Method::DELETE, &fav_collection, &reader, None)
                .await
                .0,
            StatusCode::NO_CONTENT
        );
    }
    assert!(app
        .stored_user(reader.id)
        .await
        .favorite_collections
        .is_empty());
}

#[tokio::test]
async fn thirty_two_favorites_added_at_once_are_all_kept() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let reader = app.member("reader").await;
    let mut ids = Vec::new();
    for n in 0..32 {
        ids.push(
            app.made(&admin, "categories", json!({"title": format!("c{n}")}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
        let course = app
            .made(&admin, "courses", json!({"title": format!("course {n}")}))
            .await;
        ids.push(course["id"].as_i64().unwrap());
    }
    let courses: Vec<i64> = ids.iter().skip(1).step_by(2).copied().collect();
    let adds = courses.iter().map(|id| {
        let path = format!("/api/v1/user/favorites/courses/{id}/");
        let app = &app;
        let reader = &reader;
        async move { app.call(Method::PUT, &path, reader, None).await.0 }
    });
    let statuses = futures_util::future::join_all(adds).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::NO_CONTENT),
        "{statuses:?}"
    );
    let mut kept = app.stored_user(reader.id).await.favorite_courses;
    kept.sort();
    assert_eq!(kept, courses);
}

#[tokio::test]
async fn global_search_finds_word_starts_ignoring_case_and_accents_in_id_order() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let reader = app.member("reader").await;
    let elan = app
        .made(&admin, "courses", json!({"title": "Élan vital"}))
        .await;
    let first = app
        .made(&admin, "courses", json!({"title": "First steps"}))
        .await;
    app.made(
        &admin,
        "collections",
        json!({"title": "first title", "courses": [first["id"]]}),
    )
    .await;
    app.made(
        &admin,
        "teachers",
        json!({"first_name": "Ôscar", "last_name": "Élan"}),
    )
    .await;
    app.made(&admin, "categories", json!({"title": "Other"}))
        .await;

    let search = |q: &str| {
        let path = format!("/api/v1/user/global_search/?search_value={}", urlencode(q));
        let app = &app;
        let reader = &reader;
        async move { app.call(Method::GET, &path, reader, None).await }
    };
    let (status, found) = search("elan").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        keys(&found),
        sorted(&["teachers", "collections", "categories", "courses"])
    );
    assert_eq!(found["courses"].as_array().unwrap().len(), 1);
    assert_eq!(found["courses"][0]["id"], elan["id"]);
    assert_eq!(found["teachers"][0]["last_name"], "Élan");
    assert_eq!(found["categories"], json!([]));

    let (_, found) = search("FIR").await;
    assert_eq!(found["courses"][0]["id"], first["id"]);
    assert_eq!(found["collections"][0]["title"], "first title");
    assert_eq!(keys(&found["collections"][0]["courses"][0]), sorted(COURSE));
    let (_, found) = search("first TIT").await;
    assert_eq!(found["courses"], json!([]));
    assert_eq!(found["collections"].as_array().unwrap().len(), 1);
    let (_, found) = search("élan  VITAL").await;
    assert_eq!(found["courses"][0]["id"], elan["id"]);
    assert_eq!(found["teachers"], json!([]));

    // Renaming moves a thing in the index.
    let path = format!("/api/v1/catalog/courses/{}/", elan["id"]);
    app.call(
        Method::PUT,
        &path,
        &admin,
        Some(&json!({"title": "Renamed"})),
    )
    .await;
    assert_eq!(search("elan").await.1["courses"], json!([]));
    assert_eq!(search("renamed").await.1["courses"][0]["id"], elan["id"]);

    for blank in ["", "  ", "?!"] {
        let (status, error) = search(blank).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{blank:?}");
        assert!(error["search_value"].is_array(), "{error}");
    }
    let (status, error) = app
        .call(Method::GET, "/api/v1/user/global_search/", &reader, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error["search_value"].is_array(), "{error}");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn file_titles_follow_the_single_line_rule_of_every_title() {
    let app = spawn_app().await;
    let admin = app.superuser("curator").await;
    let bytes = png(64);
    let parts = [file("cover.png", &bytes), title("moc.elgoog\u{202E}")];
    let resp = crate::media::post_form(&app, Some(&admin.key), &parts).await;
    let (status, error) = status_json(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["title"].is_array(), "{error}");
    // Without a title, the file's name stands for it, without what no line may hold.
    let parts = [file("a\u{202E}b.png", &bytes)];
    let made = upload(&app, &admin.key, &parts).await;
    assert_eq!(made["title"], "ab.png");
}
