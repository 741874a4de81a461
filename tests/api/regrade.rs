//! Regrading: a fixed key reaches every completion, once, atomically, with events.

use std::io::Cursor;
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    question_id, spawn_app, spawn_app_with, status_json, variant_id, Account, TestApp,
};
use crate::live::Live;

/// 1. radio "2 + 2?" (2 points) whose key is wrong: "5" is marked correct, "4" is not.
/// 2. text "Capital of France?" (1 point; "Paris").
fn wrong_key(group: i64) -> Value {
    json!({
        "name": "Regrade",
        "available_for": [group],
        "questions": [
            {"text": "2 + 2?", "type": "radio", "number_in_test": 1, "points": 2,
             "body": {"variants": [{"text": "4", "is_correct": false}, {"text": "5", "is_correct": true}]}},
            {"text": "Capital of France?", "type": "text", "number_in_test": 2, "points": 1,
             "body": {"variants": [{"text": "Paris", "is_correct": true}]}},
        ],
    })
}

struct Class {
    app: TestApp,
    owner: Account,
    students: Vec<Account>,
    test: Value,
}

impl Class {
    async fn new(students: usize) -> Class {
        let app = spawn_app().await;
        let owner = app.owner("owner@regrade.test").await;
        let mut accounts = Vec::new();
        for n in 0..students {
            accounts.push(
                app.student(&format!("s{n}@regrade.test"), owner.org.unwrap())
                    .await,
            );
        }
        let ids: Vec<i64> = accounts.iter().map(|s| s.id).collect();
        let group = app.group(&owner, "Class", &ids).await;
        let test = app.create_test(&owner, &wrong_key(group)).await;
        Class {
            app,
            owner,
            students: accounts,
            test,
        }
    }

    fn id(&self) -> i64 {
        self.test["id"].as_i64().unwrap()
    }

    /// Submission `k`: even ones pick "4" (right, once the key is fixed), odd ones "5".
    async fn submit(app: &TestApp, test: &Value, student: &Account, k: usize) {
        let pick = if k % 2 == 0 { "4" } else { "5" };
        let answers = json!([
            {"question": question_id(test, 1), "body": {"picked_variant": {"id": variant_id(test, 1, pick)}}},
            {"question": question_id(test, 2), "body": {"picked_variant": {"text": "Paris"}}},
        ]);
        let uuid = test["public_uuid"].as_str().unwrap();
        let (status, body) = status_json(app.submit(student, uuid, answers).await).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Submissions `from..to`, spread over the students, up to 8 at once.
    async fn submit_range(&self, from: usize, to: usize) {
        let mut running = tokio::task::JoinSet::new();
        let chunks: Vec<Vec<usize>> = (from..to)
            .collect::<Vec<_>>()
            .chunks(8)
            .map(<[usize]>::to_vec)
            .collect();
        for chunk in chunks {
            for k in chunk {
                let (app_test, student) = (
                    self.test.clone(),
                    self.students[k % self.students.len()].clone(),
                );
                let client = self.app.client.clone();
                let address = self.app.address.clone();
                running.spawn(async move {
                    let pick = if k % 2 == 0 { "4" } else { "5" };
                    let answers = json!([
                        {"question": question_id(&app_test, 1), "body": {"picked_variant": {"id": variant_id(&app_test, 1, pick)}}},
                        {"question": question_id(&app_test, 2), "body": {"picked_variant": {"text": "Paris"}}},
                    ]);
                    let body = json!({"test": app_test["public_uuid"], "answers": answers});
                    let resp = client
                        .post(format!("{address}/api/completions/"))
                        .bearer_auth(&student.access)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::CREATED);
                });
            }
            while running.join_next().await.is_some() {}
        }
    }

    /// Marks "4" correct and "5" wrong, keeping every id.
    async fn fix_key(&self) {
        let mut question = self.test["questions"][0].clone();
        for variant in question["body"]["variants"].as_array_mut().unwrap() {
            variant["is_correct"] = json!(variant["text"] == "4");
        }
        let questions = json!([question, self.test["questions"][1].clone()]);
        let url = format!("/api/tests/{}/", self.id());
        let resp = self
            .app
            .request(
                reqwest::Method::PATCH,
                &url,
                Some(&self.owner.access),
                Some(&json!({"questions": questions})),
            )
            .await;
        let (status, body) = status_json(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["questions"][0]["id"], self.test["questions"][0]["id"]);
    }

    async fn start(&self, body: Value) -> Value {
        let url = format!("/api/tests/{}/regrade/", self.id());
        let (status, started) =
            status_json(self.app.post(&url, Some(&self.owner.access), &body).await).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{started}");
        started
    }

    async fn regrade(&self, body: Value) -> Value {
        let started = self.start(body).await;
        self.wait(&started).await
    }

    /// The regrade once it is done.
    async fn wait(&self, started: &Value) -> Value {
        let url = format!("/api/tests/{}/regrades/{}/", self.id(), started["id"]);
        for _ in 0..1200 {
            let (status, regrade) =
                status_json(self.app.get(&url, Some(&self.owner.access)).await).await;
            assert_eq!(status, StatusCode::OK, "{regrade}");
            if regrade["status"] == "done" {
                return regrade;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the regrade did not finish within a minute");
    }

    /// Every completion's (id, score), as the teacher's list shows them.
    async fn scores(&self) -> Vec<(i64, i64, String)> {
        let url = format!("/api/tests/{}/completions/", self.id());
        let (status, list) = status_json(self.app.get(&url, Some(&self.owner.access)).await).await;
        assert_eq!(status, StatusCode::OK);
        let mut scores: Vec<(i64, i64, String)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let picked = c["answers"][0]["body"]["picked_variant"]["id"]
                    .as_i64()
                    .unwrap();
                let text = if picked == variant_id(&self.test, 1, "4") {
                    "4"
                } else {
                    "5"
                };
                (
                    c["id"].as_i64().unwrap(),
                    c["score"].as_i64().unwrap(),
                    text.to_owned(),
                )
            })
            .collect();
        scores.sort();
        scores
    }
}

/// With the fixed key, "4" earns 2 + 1 and "5" earns 0 + 1.
fn right_score(pick: &str) -> i64 {
    if pick == "4" {
        3
    } else {
        1
    }
}

#[tokio::test]
async fn a_fixed_key_regrades_200_completions_to_the_right_scores_with_events() {
    let c = Class::new(4).await;
    c.submit_range(0, 200).await;
    let before = c.scores().await;
    assert_eq!(before.len(), 200);
    assert!(before
        .iter()
        .all(|(_, score, pick)| *score == if pick == "4" { 1 } else { 3 }));

    let mut teacher = Live::connect(&c.app, &c.owner).await;
    teacher.watch(&c.test).await;
    let mut student = Live::connect(&c.app, &c.students[0]).await;
    c.fix_key().await;

    // A dry run reports every change and stores none.
    let dry = c.regrade(json!({"dry_run": true})).await;
    assert_eq!(
        (
            dry["dry_run"].clone(),
            dry["changed"].clone(),
            dry["total"].clone()
        ),
        (json!(true), json!(200), json!(200))
    );
    assert_eq!(c.scores().await, before, "a dry run changes nothing");

    let done = c.regrade(json!({})).await;
    assert_eq!(
        (done["changed"].clone(), done["processed"].clone()),
        (json!(200), json!(200))
    );
    let after = c.scores().await;
    assert_eq!(after.len(), 200);
    for (id, score, pick) in &after {
        assert_eq!(*score, right_score(pick), "completion {id} picked {pick}");
    }
    // Each result says the old and the new score, as the dry run foresaw.
    let results = done["results"].as_array().unwrap();
    for ((id, score, pick), result) in after.iter().zip(results) {
        assert_eq!(result["completion"], *id);
        assert_eq!(result["new_score"].as_f64(), Some(*score as f64));
        assert_eq!(
            result["old_score"].as_f64(),
            Some(if pick == "4" { 1.0 } else { 3.0 })
        );
    }
    assert_eq!(dry["results"], done["results"]);

    // Watching teachers hear every completion graded again; the student hears theirs.
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < 200 {
        let event = teacher.expect("completion_graded").await;
        heard.insert(event["completion"]["id"].as_i64().unwrap());
    }
    let event = student.expect("completion_graded").await;
    assert_eq!(event["completion"]["user"], c.students[0].id);

    // The export shows the new scores.
    let resp = c
        .app
        .get(
            &format!("/api/tests/{}/completions/export/", c.id()),
            Some(&c.owner.access),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let mut workbook: Xlsx<_> =
        Xlsx::new(Cursor::new(resp.bytes().await.unwrap().to_vec())).unwrap();
    let rows: Vec<Vec<Data>> = workbook
        .worksheet_range("Completions")
        .unwrap()
        .rows()
        .map(|r| r.to_vec())
        .collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let column = header
        .iter()
        .position(|h| h == "Score")
        .expect("a Score column");
    let mut exported: Vec<f64> = rows[1..]
        .iter()
        .map(|r| match &r[column] {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            other => panic!("score cell {other:?}"),
        })
        .collect();
    exported.sort_by(f64::total_cmp);
    let mut expected: Vec<f64> = after.iter().map(|(_, s, _)| *s as f64).collect();
    expected.sort_by(f64::total_cmp);
    assert_eq!(exported, expected);

    // A second regrade of the same version changes nothing.
    let again = c.regrade(json!({})).await;
    assert_eq!(
        (again["changed"].clone(), again["processed"].clone()),
        (json!(0), json!(200))
    );
    assert_eq!(c.scores().await, after);
}

#[tokio::test]
async fn a_regrade_while_students_keep_submitting_loses_nothing() {
    let c = Class::new(4).await;
    c.submit_range(0, 60).await;
    c.fix_key().await;
    let started = c.start(json!({})).await;
    // New submissions (graded against the fixed key) while the regrade runs.
    c.submit_range(60, 120).await;
    let done = c.wait(&started).await;
    let scores = c.scores().await;
    assert_eq!(scores.len(), 120, "every submission is stored");
    for (id, score, pick) in &scores {
        assert_eq!(*score, right_score(pick), "completion {id} picked {pick}");
    }
    let processed = done["processed"].as_u64().unwrap();
    assert!((60..=120).contains(&processed), "{done}");
    assert_eq!(done["total"], done["processed"]);
}

#[tokio::test]
async fn a_regrade_of_chosen_questions_leaves_the_others_and_refuses_strangers() {
    let c = Class::new(1).await;
    Class::submit(&c.app, &c.test, &c.students[0], 0).await;
    c.fix_key().await;
    // Only the text question: the radio keeps its old (wrong) grade.
    let text_only = c
        .regrade(json!({"questions": [question_id(&c.test, 2)]}))
        .await;
    assert_eq!(text_only["changed"], 0);
    assert_eq!(c.scores().await[0].1, 1);
    let radio = c
        .regrade(json!({"questions": [question_id(&c.test, 1)]}))
        .await;
    assert_eq!(radio["changed"], 1);
    assert_eq!(c.scores().await[0].1, 3);

    let url = format!("/api/tests/{}/regrade/", c.id());
    let (status, body) = status_json(
        c.app
            .post(&url, Some(&c.owner.access), &json!({"questions": [999999]}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("questions"), "{body}");
    let (status, _) = status_json(
        c.app
            .post(&url, Some(&c.students[0].access), &json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = c.app.owner("stranger@regrade.test").await;
    let (status, _) = status_json(c.app.post(&url, Some(&stranger.access), &json!({})).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let rid = radio["id"].as_i64().unwrap();
    let other = format!("/api/tests/{}/regrades/{rid}/", c.id());
    let (status, _) = status_json(c.app.get(&other, Some(&stranger.access)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_fixed_code_check_regrades_code_answers_in_the_sandbox() {
    code_regrade(true).await;
}

#[tokio::test]
async fn a_regrade_started_while_the_first_grading_runs_ends_with_the_new_checks_verdict() {
    code_regrade(false).await;
}

/// A right answer failed by a wrong check, then regraded with the fixed check, after its
/// first grading (`graded_first`) or while it may still run.
async fn code_regrade(graded_first: bool) {
    let app = spawn_app_with(|s| s.grading_wait = Duration::ZERO).await;
    let owner = app.owner("owner@code-regrade.test").await;
    let student = app.student("s@code-regrade.test", owner.org.unwrap()).await;
    let group = app.group(&owner, "Coders", &[student.id]).await;
    let question = |check: &str| {
        json!({"text": "Write add", "type": "code", "number_in_test": 1,
        "points": 6, "body": {"testing_code": check, "strict_score": true}})
    };
    let body = json!({"name": "Code", "questions": [question("assert add(1, 2) == 4\n")],
                      "available_for": [group]});
    let test = app.create_test(&owner, &body).await;
    let answers = json!([{"question": question_id(&test, 1),
                          "body": {"code": "def add(a, b):\n    return a + b\n"}}]);
    let uuid = test["public_uuid"].as_str().unwrap();
    let (status, completion) = status_json(app.submit(&student, uuid, answers).await).await;
    assert_eq!(status, StatusCode::CREATED, "{completion}");
    let path = format!("/api/completions/{}/", completion["id"]);
    let graded = async || {
        for _ in 0..240 {
            let (_, current) = status_json(app.get(&path, Some(&student.access)).await).await;
            if current["status"] == "graded" {
                return current;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("never graded");
    };
    if graded_first {
        assert_eq!(
            graded().await["score"],
            0,
            "the wrong check fails a right answer"
        );
    }

    let mut fixed = question("assert add(1, 2) == 3\n");
    fixed["id"] = test["questions"][0]["id"].clone();
    let url = format!("/api/tests/{}/", test["id"]);
    let resp = app
        .request(
            reqwest::Method::PATCH,
            &url,
            Some(&owner.access),
            Some(&json!({"questions": [fixed]})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let c = Class {
        app,
        owner,
        students: vec![student],
        test,
    };
    let done = c.regrade(json!({})).await;
    assert_eq!(done["changed"], 1, "{done}");
    assert_eq!(
        done["results"][0]["new_score"].as_f64(),
        Some(6.0),
        "{done}"
    );
    let (_, current) = status_json(c.app.get(&path, Some(&c.students[0].access)).await).await;
    assert_eq!(
        (current["score"].clone(), current["status"].clone()),
        (json!(6), json!("graded"))
    );
}
