//! Data and tokens survive a restart of the server on the embedded store.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{spawn_app, status_json, PASSWORD};

#[tokio::test]
async fn users_groups_and_tokens_survive_a_restart() {
    let mut app = spawn_app().await;
    let owner = app.owner("owner@school.org").await;
    let student = app.student("s@school.org", owner.org.unwrap()).await;
    let group = app.group(&owner, "Class A", &[student.id]).await;

    app.restart().await;

    // The generated JWT secret was kept, so the old token still works.
    let (status, me) = status_json(app.get("/api/users/me", Some(&owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["organization"]["id"], Value::from(owner.org));
    let (status, body) = status_json(
        app.get(&format!("/api/groups/{group}/"), Some(&owner.access))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["members"][0]["id"], student.id);
    assert_eq!(
        app.obtain_tokens("s@school.org", PASSWORD).await.status(),
        StatusCode::OK
    );
    // New ids do not reuse old ones.
    let newcomer = app.student("new@school.org", owner.org.unwrap()).await;
    assert!(newcomer.id > student.id);
}
