//! The `.xlsx` export of a test's completions, opened and read back.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{question_id, spawn_app, variant_id};

#[tokio::test]
async fn the_export_is_a_workbook_with_a_row_per_completion() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let bob = app.student("bob@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[ann.id, bob.id]).await;
    let uuid = test["public_uuid"].as_str().unwrap();
    let answers = json!([
        {"question": question_id(&test, 1), "body": {"picked_variant": {"text": "paris"}}},
        {"question": question_id(&test, 2), "body": {"picked_variant": {"id": variant_id(&test, 2, "4")}}},
    ]);
    assert_eq!(
        app.submit(&ann, uuid, answers).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.submit(&bob, uuid, json!([])).await.status(),
        StatusCode::CREATED
    );

    let resp = app
        .get(
            &format!("/api/tests/{}/completions/export/", test["id"]),
            Some(&owner.access),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment") && disposition.contains(".xlsx"),
        "{disposition}"
    );
    let bytes = resp.bytes().await.unwrap();

    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a valid xlsx");
    let sheet = workbook.worksheet_range("Completions").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    assert_eq!(rows.len(), 3, "a header and two completions");
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        &header[..7],
        [
            "Email",
            "Name",
            "Group",
            "Score",
            "Max score",
            "Started at (UTC)",
            "Submitted at (UTC)"
        ]
    );
    assert_eq!(header[7], "1. Capital of France?");
    assert_eq!(header.len(), 7 + 5);

    let ann_row = &rows[1];
    assert_eq!(ann_row[0].to_string(), "ann@school.org");
    assert_eq!(ann_row[1].to_string(), "First Last");
    assert_eq!(ann_row[2].to_string(), "Class");
    assert_eq!(ann_row[3], Data::Float(3.0));
    assert_eq!(ann_row[4], Data::Float(13.0));
    // An untimed test submitted over REST: no attempt on record, so no start.
    assert_eq!(ann_row[5], Data::Empty);
    assert!(ann_row[6].to_string().ends_with('Z'));
    assert_eq!(ann_row[7], Data::Float(2.0));
    assert_eq!(ann_row[8], Data::Float(1.0));
    assert_eq!(ann_row[9], Data::Float(0.0));
    assert_eq!(rows[2][0].to_string(), "bob@school.org");
    assert_eq!(rows[2][3], Data::Float(0.0));
}

/// The `testit_export` cookie a response sets, with its attributes.
fn export_cookie(resp: &reqwest::Response) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("testit_export="))
        .expect("a testit_export cookie is set")
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("testit_export=")
        .to_owned()
}

#[tokio::test]
async fn a_plain_download_link_exports_with_the_cookie_log_in_set_and_nowhere_else() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let ann = app.student("ann@school.org", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[ann.id]).await;
    let export = format!("/api/tests/{}/completions/export/", test["id"]);

    let login = app
        .obtain_tokens("owner@school.org", crate::helpers::PASSWORD)
        .await;
    let set_cookie = export_cookie(&login);
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/tests/",
        "Max-Age=",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    let cookie = format!("testit_export={}", cookie_value(&set_cookie));

    // A link: no Authorization header, only the cookie the browser keeps.
    let link = app
        .client
        .get(app.url(&export))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::OK);
    assert!(link.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));

    // The cookie is no credential anywhere else.
    let elsewhere = app
        .client
        .get(app.url("/api/tests/"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);

    // A student's cookie gets the same refusal as the student's header.
    let ann_login = app
        .obtain_tokens("ann@school.org", crate::helpers::PASSWORD)
        .await;
    let ann_cookie = format!("testit_export={}", cookie_value(&export_cookie(&ann_login)));
    let refused = app
        .client
        .get(app.url(&export))
        .header("Cookie", &ann_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Log-out clears the cookie, and revokes the token it held.
    let token = cookie_value(&set_cookie);
    let revoke = app
        .client
        .post(app.url("/api/users/token/revoke/"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    let cleared = export_cookie(&revoke);
    assert!(cleared.starts_with("testit_export=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = app
        .client
        .get(app.url(&export))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let without_anything = app.get(&export, None).await;
    assert_eq!(without_anything.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn export_headers_show_question_text_without_markup_numbered_as_the_teacher_sees_them() {
    let app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    // As the original client writes them: Quill HTML, numbered from 0.
    let body = json!({
        "name": "Quill",
        "questions": [
            {"text": "<p><span class=\"ql-size-huge\">Вопрос 1</span></p>", "type": "text",
             "number_in_test": 0, "points": 1,
             "body": {"variants": [{"text": "a", "is_correct": true}]}},
            {"text": "<p>2 &lt; 3?</p><p><br></p>", "type": "text", "number_in_test": 1,
             "points": 1, "body": {"variants": [{"text": "yes", "is_correct": true}]}},
        ],
    });
    let test = app.create_test(&owner, &body).await;
    let resp = app
        .get(
            &format!("/api/tests/{}/completions/export/", test["id"]),
            Some(&owner.access),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.unwrap();
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("a valid xlsx");
    let sheet = workbook.worksheet_range("Completions").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(&header[7..], ["1. Вопрос 1", "2. 2 < 3?"]);
}
