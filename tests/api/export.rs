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
        &header[..6],
        [
            "Email",
            "Name",
            "Group",
            "Score",
            "Max score",
            "Submitted at (UTC)"
        ]
    );
    assert_eq!(header[6], "1. Capital of France?");
    assert_eq!(header.len(), 6 + 5);

    let ann_row = &rows[1];
    assert_eq!(ann_row[0].to_string(), "ann@school.org");
    assert_eq!(ann_row[1].to_string(), "First Last");
    assert_eq!(ann_row[2].to_string(), "Class");
    assert_eq!(ann_row[3], Data::Float(3.0));
    assert_eq!(ann_row[4], Data::Float(13.0));
    assert!(ann_row[5].to_string().ends_with('Z'));
    assert_eq!(ann_row[6], Data::Float(2.0));
    assert_eq!(ann_row[7], Data::Float(1.0));
    assert_eq!(ann_row[8], Data::Float(0.0));
    assert_eq!(rows[2][0].to_string(), "bob@school.org");
    assert_eq!(rows[2][3], Data::Float(0.0));
}
