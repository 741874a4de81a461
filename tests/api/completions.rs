//! `/api/completions/…`: students submit answers to a test named by its public link; answers
//! are graded on submission, and the test's managers read them with correctness.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{question_id, sample_test, spawn_app, status_json, variant_id};
use crate::helpers::{Account, TestApp};

type Answer = (StatusCode, Value);

const SUBMIT: &str = "/api/completions/";
const MINE: &str = "/api/users/me/completions/";
const CODE: &str = "def add(a, b):\n    return a + b\n";

/// An app with an organization's owner, a student, and the owner's sample test open to them.
struct School {
    app: TestApp,
    owner: Account,
    student: Account,
    test: Value,
}

async fn school() -> School {
    let app = spawn_app().await;
    let owner = app.owner("owner@example.com").await;
    let student = app.student("student@example.com", owner.org.unwrap()).await;
    let test = app.sample_test_for(&owner, &[student.id]).await;
    School {
        app,
        owner,
        student,
        test,
    }
}

/// A school whose sample test is also open to a classmate of the student.
async fn school_with_classmate() -> (School, Account) {
    let mut s = school().await;
    let classmate = s.user("classmate@example.com").await;
    let students = [s.student.id, classmate.id];
    s.test = s.app.sample_test_for(&s.owner, &students).await;
    (s, classmate)
}

impl School {
    /// Another student of the organization.
    async fn user(&self, email: &str) -> Account {
        self.app.student(email, self.owner.org.unwrap()).await
    }

    /// A test of the owner's holding only `question`, open to the student.
    async fn one_question_test(&self, question: Value) -> Value {
        let students = [self.student.id];
        let group = self.app.group(&self.owner, "Solo", &students).await;
        let body = json!({"name": "Solo", "questions": [question], "available_for": [group]});
        self.app.create_test(&self.owner, &body).await
    }

    /// A request with an optional bearer and a JSON body unless `body` is null.
    async fn call(&self, m: Method, path: &str, who: Option<&Account>, body: Value) -> Answer {
        let token = who.map(|w| w.access.as_str());
        let body = (!body.is_null()).then_some(body);
        status_json(self.app.request(m, path, token, body.as_ref()).await).await
    }

    async fn get(&self, path: &str, who: &Account) -> Answer {
        self.call(Method::GET, path, Some(who), Value::Null).await
    }

    async fn post(&self, path: &str, who: &Account, body: Value) -> Answer {
        self.call(Method::POST, path, Some(who), body).await
    }

    async fn submit(&self, who: &Account, test: &Value, answers: Value) -> Answer {
        self.post(SUBMIT, who, submission(test, answers)).await
    }

    /// Submits `answers` and answers the 201 student view.
    async fn submitted(&self, who: &Account, test: &Value, answers: Value) -> Value {
        let (status, body) = self.submit(who, test, answers).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    async fn graded(&self, completion: &Value, who: &Account) -> Answer {
        let path = format!("/api/completions/{}/with_correctness/", completion["id"]);
        self.get(&path, who).await
    }

    /// The items of a list endpoint, asserting 200.
    async fn list(&self, path: &str, who: &Account) -> Vec<Value> {
        let (status, body) = self.get(path, who).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().expect("a list").clone()
    }

    /// The owner regenerates the test's uuid; answers the test.
    async fn regenerate_uuid(&self) -> Value {
        let path = test_path(&self.test, "regenerate_uuid/");
        let (status, test) = self.post(&path, &self.owner, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{test}");
        test
    }

    /// Asserts that answering question `number` of `test` with each body alone scores its
    /// points. (`json!(2)` never equals a float `2.0`, so whole scores must be integers.)
    async fn assert_scores<C>(&self, test: &Value, number: usize, cases: C)
    where
        C: IntoIterator<Item = (Value, i64)>,
    {
        for (body, points) in cases {
            let answers = json!([answer(test, number, body.clone())]);
            let completion = self.submitted(&self.student, test, answers).await;
            assert_eq!(completion["score"], json!(points), "{body}");
        }
    }

    /// Asserts that submitting `body` is a 400 naming exactly `field` and stores nothing.
    async fn assert_rejected(&self, body: Value, field: &str) {
        let (status, body) = self.post(SUBMIT, &self.student, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(keys(&body), field);
        assert!(body[field][0].is_string(), "{body}");
        assert!(self.list(MINE, &self.student).await.is_empty());
    }
}

fn submission(test: &Value, answers: Value) -> Value {
    json!({"test": test["public_uuid"], "answers": answers})
}

fn uuid(test: &Value) -> &str {
    test["public_uuid"].as_str().unwrap()
}

/// The public link of a test.
fn link(test: &Value) -> String {
    format!("/api/tests/p/{}/", uuid(test))
}

/// `/api/tests/{id}/{rest}`.
fn test_path(test: &Value, rest: &str) -> String {
    format!("/api/tests/{}/{rest}", test["id"])
}

fn completion_path(completion: &Value) -> String {
    format!("/api/completions/{}/", completion["id"])
}

/// An answer with `body` to question `number` of `test`.
fn answer(test: &Value, number: usize, body: Value) -> Value {
    json!({"question": question_id(test, number), "body": body})
}

fn text(answer: &str) -> Value {
    json!({"picked_variant": {"text": answer}})
}

fn radio(id: i64) -> Value {
    json!({"picked_variant": {"id": id}})
}

/// Picks the variants with `texts` of check question `number`.
fn checks(test: &Value, number: usize, texts: &[&str]) -> Value {
    let pick = |t: &&str| json!({"id": variant_id(test, number, t)});
    json!({"picked_variants": texts.iter().map(pick).collect::<Vec<_>>()})
}

/// Every sample question answered right (13 points).
fn all_right(test: &Value) -> Value {
    json!([
        answer(test, 1, text("Paris")),
        answer(test, 2, radio(variant_id(test, 2, "4"))),
        answer(test, 3, checks(test, 3, &["2", "3"])),
        answer(test, 4, checks(test, 4, &["2", "4"])),
        answer(test, 5, json!({"code": CODE})),
    ])
}

/// A graded answer: `answer` with its points.
fn marked(test: &Value, number: usize, points: i64, body: Value) -> Value {
    let mut marked = answer(test, number, body);
    marked["points"] = json!(points);
    marked["points_exact"] = json!(points);
    marked
}

/// An object's keys, sorted, space-separated.
fn keys(object: &Value) -> String {
    let mut keys: Vec<_> = object.as_object().unwrap().keys().cloned().collect();
    keys.sort_unstable();
    keys.join(" ")
}

/// The object with only the `fields` (space-separated) of `object`.
fn only(object: &Value, fields: &str) -> Value {
    fields
        .split(' ')
        .map(|f| (f.to_owned(), object[f].clone()))
        .collect()
}

fn ids(items: &[Value]) -> Vec<Value> {
    items.iter().map(|c| c["id"].clone()).collect()
}

/// Asserts an error response's status and `code`.
fn assert_error((status, body): &Answer, expected: StatusCode, code: &str) {
    assert_eq!(
        (*status, body["code"].as_str()),
        (expected, Some(code)),
        "{body}"
    );
}

fn assert_forbidden(answer: &Answer) {
    assert_error(answer, StatusCode::FORBIDDEN, "permission_denied");
}

fn assert_not_found(answer: &Answer) {
    assert_error(answer, StatusCode::NOT_FOUND, "not_found");
}

/// Asserts a 400 naming only `test` (no such test for the caller).
fn assert_unknown_test((status, body): &Answer) {
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(keys(body), "test");
}

#[tokio::test]
async fn a_submission_answers_the_student_view_with_one_answer_per_question_in_order() {
    let s = school().await;
    let t = &s.test;
    let answers = json!([
        answer(t, 4, checks(t, 4, &["2", "4"])),
        answer(t, 2, radio(variant_id(t, 2, "4"))),
        answer(t, 1, text("Paris")),
    ]);
    let c = s.submitted(&s.student, t, answers).await;
    let fields = "answers id max_score score score_exact status submitted_at test user";
    assert_eq!(keys(&c), fields);
    assert!(c["id"].is_i64() && c["submitted_at"].is_string(), "{c}");
    let totals = json!({"user": s.student.id, "test": uuid(t), "score": 5, "max_score": 13});
    assert_eq!(only(&c, "user test score max_score"), totals);
    let pick = |n, text| json!({"id": variant_id(t, n, text), "text": text});
    let paris = json!({"id": variant_id(t, 1, "Paris"), "text": "Paris"});
    let expected = json!([
        {"question": question_id(t, 1), "body": {"picked_variant": paris}},
        {"question": question_id(t, 2), "body": {"picked_variant": pick(2, "4")}},
        {"question": question_id(t, 3), "body": {"picked_variants": []}},
        {"question": question_id(t, 4), "body": {"picked_variants": [pick(4, "2"), pick(4, "4")]}},
        {"question": question_id(t, 5), "body": {"code": ""}},
    ]);
    assert_eq!(c["answers"], expected);
    assert!(!c.to_string().contains("is_correct"), "{c}");
}

#[tokio::test]
async fn text_answers_match_after_trimming_collapsing_whitespace_composing_and_folding_case() {
    let s = school().await;
    let given = ["  paris ", "PARIS", "\tpArIs\n", "Pari s", "Lyon"].map(text);
    s.assert_scores(&s.test, 1, given.into_iter().zip([2, 2, 2, 0, 0]))
        .await;
    let body = json!({"variants": [{"text": "Café", "is_correct": true}]});
    let q = json!({"text": "Coffee shop?", "type": "text", "points": 3, "body": body});
    let cafe = s.one_question_test(q).await;
    let given = ["CAFE\u{301}", "café", " CAFÉ", "Cafe"].map(text);
    s.assert_scores(&cafe, 1, given.into_iter().zip([3, 3, 3, 0]))
        .await;
    let (status, test) = s.get(&test_path(&s.test, ""), &s.owner).await;
    assert_eq!(status, StatusCode::OK, "{test}");
    let paris = variant_id(&s.test, 1, "Paris");
    let only_paris = json!([{"id": paris, "text": "Paris", "is_correct": true}]);
    assert_eq!(test["questions"][0]["body"]["variants"], only_paris);
}

#[tokio::test]
async fn radio_answers_score_full_points_or_nothing_by_id_or_exact_text() {
    let s = school().await;
    let t = &s.test;
    let cases = [
        (radio(variant_id(t, 2, "4")), 1),
        (text("4"), 1),
        (json!({"picked_variant": {"id": null, "text": "4"}}), 1),
        (radio(variant_id(t, 2, "3")), 0),
        (text("5"), 0),
    ];
    s.assert_scores(t, 2, cases).await;
}

#[tokio::test]
async fn strict_check_answers_score_only_the_exact_correct_set() {
    let s = school().await;
    let t = &s.test;
    let cases = [
        (checks(t, 3, &["2", "3"]), 3),
        (checks(t, 3, &["3", "2"]), 3),
        (checks(t, 3, &["2"]), 0),
        (checks(t, 3, &["2", "3", "4"]), 0),
    ];
    s.assert_scores(t, 3, cases).await;
}

#[tokio::test]
async fn non_strict_check_answers_share_points_by_right_minus_wrong_picks() {
    let s = school().await;
    let t = &s.test;
    let cases = [
        (checks(t, 4, &["2"]), 1),
        (checks(t, 4, &["2", "5"]), 0),
        (checks(t, 4, &["2", "4"]), 2),
        (checks(t, 4, &["2", "4", "5"]), 1),
        (checks(t, 4, &["5"]), 0),
    ];
    s.assert_scores(t, 4, cases).await;
}

#[tokio::test]
async fn fractional_scores_answer_the_truncated_integer_and_keep_every_digit_beside_it() {
    let s = school().await;
    let variants = ["a", "e", "i"].map(|v| json!({"text": v, "is_correct": true}));
    let body = json!({"variants": variants, "strict_score": false});
    let q = json!({"text": "Vowels?", "type": "check", "points": 1, "body": body});
    let t = s.one_question_test(q).await;
    let answers = json!([answer(&t, 1, checks(&t, 1, &["e"]))]);
    let c = s.submitted(&s.student, &t, answers).await;
    let third = json!(0.3333333333333333);
    let totals = json!({"score": 0, "score_exact": third, "max_score": 1});
    assert_eq!(only(&c, "score score_exact max_score"), totals);
    let (status, g) = s.graded(&c, &s.owner).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    let points = only(&g["answers"][0], "points points_exact");
    assert_eq!(points, json!({"points": 0, "points_exact": third}));
    assert_eq!(only(&g, "score score_exact max_score"), totals);
}

#[tokio::test]
async fn code_answers_are_graded_in_the_sandbox_before_the_answer() {
    let s = school().await;
    let answers = json!([answer(&s.test, 5, json!({"code": CODE}))]);
    let c = s.submitted(&s.student, &s.test, answers).await;
    // The student sees the score, not which answer was right.
    assert_eq!(
        (&c["answers"][4]["body"], &c["score"], &c["status"]),
        (&json!({"code": CODE}), &json!(5), &json!("graded"))
    );
    let (status, g) = s.graded(&c, &s.owner).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    let body = &g["answers"][4]["body"];
    assert_eq!(keys(body), "checks code errors is_correct runtime_errors");
    assert_eq!(
        only(body, "code is_correct runtime_errors"),
        json!({"code": CODE, "is_correct": true, "runtime_errors": null})
    );
    assert_eq!(g["answers"][4]["points"], json!(5));
}

#[tokio::test]
async fn a_wrong_code_answer_scores_nothing_and_teachers_see_why() {
    let s = school().await;
    let wrong = "def add(a, b):\n    return a - b\n";
    let c = s
        .submitted(
            &s.student,
            &s.test,
            json!([answer(&s.test, 5, json!({"code": wrong}))]),
        )
        .await;
    assert_eq!(c["score"], json!(0));
    assert!(
        !c.to_string().contains("add(1, 2)"),
        "the student sees no check: {c}"
    );
    let (_, g) = s.graded(&c, &s.owner).await;
    let body = &g["answers"][4]["body"];
    assert_eq!(body["is_correct"], json!(false));
    let why = body["runtime_errors"].as_str().unwrap();
    assert!(
        why.contains("assert add(1, 2) == 3") && why.contains("got -1"),
        "{why}"
    );
    assert_eq!(body["errors"], body["runtime_errors"]);
}

#[tokio::test]
async fn empty_answers_count_as_unanswered_and_score_nothing() {
    let s = school().await;
    let t = &s.test;
    let answers = json!([
        answer(t, 1, text("")),
        {"question": question_id(t, 2)},
        answer(t, 3, json!({"picked_variants": []})),
        answer(t, 4, json!({"picked_variants": [{"text": ""}]})),
        answer(t, 5, json!({"code": ""})),
    ]);
    let c = s.submitted(&s.student, t, answers).await;
    let answers = c["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 5, "{c}");
    let nothing = json!({"picked_variant": {"id": 0, "text": ""}});
    let bodies: Vec<&Value> = answers.iter().map(|a| &a["body"]).collect();
    let shapes = [
        &nothing,
        &nothing,
        &json!({"picked_variants": []}),
        &json!({"picked_variants": []}),
        &json!({"code": ""}),
    ];
    assert_eq!(bodies, shapes, "{c}");
    assert_eq!(c["score"], json!(0));
}

#[tokio::test]
async fn an_unanswered_question_keeps_the_shape_of_its_kind_in_every_completion_view() {
    let s = school().await;
    let t = &s.test;
    let c = s
        .submitted(&s.student, t, json!([answer(t, 1, text(""))]))
        .await;
    let nothing = json!({"picked_variant": {"id": 0, "text": ""}});
    let student_shapes = json!([nothing, nothing, {"picked_variants": []},
                                {"picked_variants": []}, {"code": ""}]);
    let bodies = |c: &Value| -> Value {
        c["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["body"].clone())
            .collect()
    };
    let (_, one) = s.get(&completion_path(&c), &s.student).await;
    let mine = s.list(MINE, &s.student).await.remove(0);
    let public = s
        .list(&format!("{}completions/", link(t)), &s.student)
        .await;
    for view in [&c, &one, &mine, &public[0]] {
        assert_eq!(bodies(view), student_shapes, "{view}");
    }

    let unmarked = json!({"id": 0, "text": "", "is_correct": false});
    let teacher_shapes = json!([
        {"picked_variant": unmarked, "is_correct": false},
        {"picked_variant": unmarked, "is_correct": false},
        {"picked_variants": [], "is_correct": false},
        {"picked_variants": [], "is_correct": false},
        {"code": "", "is_correct": false, "runtime_errors": null, "errors": null},
    ]);
    let (_, graded) = s.graded(&c, &s.owner).await;
    let listed = s.list(&test_path(t, "completions/"), &s.owner).await;
    for view in [&graded, &listed[0]] {
        assert_eq!(bodies(view), teacher_shapes, "{view}");
        assert_eq!(view["score"], json!(0));
    }
}

#[tokio::test]
async fn extra_fields_inside_answer_bodies_are_ignored() {
    let s = school().await;
    let t = &s.test;
    let echo = &t["questions"][2]["body"]["variants"];
    let (two, three) = (variant_id(t, 3, "2"), variant_id(t, 3, "3"));
    let four = variant_id(t, 2, "4");
    let picks = json!([{"id": two, "is_correct": false}, {"id": three}]);
    let wrong = json!([{"id": variant_id(t, 4, "5"), "is_correct": true}]);
    let answers = json!([
        answer(
            t,
            1,
            json!({"picked_variant": {"id": null, "text": "Paris"}, "variants": []})
        ),
        answer(
            t,
            2,
            json!({"picked_variant": {"id": four, "text": "5"}, "variants": echo})
        ),
        answer(t, 3, json!({"picked_variants": picks, "variants": echo})),
        answer(t, 4, json!({"picked_variants": wrong})),
    ]);
    let c = s.submitted(&s.student, t, answers).await;
    assert_eq!(c["score"], json!(6));
    let picked = json!({"picked_variant": {"id": four, "text": "4"}});
    assert_eq!(c["answers"][1]["body"], picked);
}

#[tokio::test]
async fn answering_a_question_of_another_test_is_rejected() {
    let s = school().await;
    let other = s.app.create_test(&s.owner, &sample_test()).await;
    let answers = json!([answer(&other, 1, text("Paris"))]);
    let body = submission(&s.test, answers);
    s.assert_rejected(body, "answers[0].question").await;
}

#[tokio::test]
async fn answering_the_same_question_twice_is_rejected() {
    let s = school().await;
    let (paris, lyon) = (
        answer(&s.test, 1, text("Paris")),
        answer(&s.test, 1, text("Lyon")),
    );
    let body = submission(&s.test, json!([paris, lyon]));
    s.assert_rejected(body, "answers[1].question").await;
}

#[tokio::test]
async fn picking_a_variant_of_another_question_is_rejected() {
    let s = school().await;
    let answers = json!([answer(&s.test, 2, radio(variant_id(&s.test, 3, "2")))]);
    let body = submission(&s.test, answers);
    s.assert_rejected(body, "answers[0].body").await;
}

#[tokio::test]
async fn a_radio_text_matching_no_variant_is_rejected() {
    let s = school().await;
    let answers = json!([answer(&s.test, 2, text("four"))]);
    let body = submission(&s.test, answers);
    s.assert_rejected(body, "answers[0].body").await;
}

#[tokio::test]
async fn a_submission_without_a_known_test_is_rejected() {
    let s = school().await;
    s.assert_rejected(json!({"answers": []}), "test").await;
    let unknown = json!({"public_uuid": "00000000-0000-4000-8000-000000000000"});
    s.assert_rejected(submission(&unknown, json!([])), "test")
        .await;
}

#[tokio::test]
async fn a_submission_without_a_list_of_answers_is_rejected() {
    let s = school().await;
    s.assert_rejected(json!({"test": uuid(&s.test)}), "answers")
        .await;
    let one = answer(&s.test, 1, text("Paris"));
    for not_a_list in [json!("Paris"), one, Value::Null] {
        s.assert_rejected(submission(&s.test, not_a_list), "answers")
            .await;
    }
}

#[tokio::test]
async fn a_malformed_json_body_is_rejected() {
    let s = school().await;
    let request = s.app.client.post(s.app.url(SUBMIT));
    let request = request.bearer_auth(&s.student.access);
    let request = request.header("Content-Type", "application/json");
    let truncated = format!("{{\"test\": \"{}\", \"answers\": [", uuid(&s.test));
    let answer = status_json(request.body(truncated).send().await.unwrap()).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "parse_error");
    assert!(s.list(MINE, &s.student).await.is_empty());
}

#[tokio::test]
async fn students_outside_the_tests_groups_get_403() {
    let s = school().await;
    let outsider = s.user("outsider@example.com").await;
    assert_forbidden(&s.submit(&outsider, &s.test, all_right(&s.test)).await);
    assert_forbidden(&s.get(&link(&s.test), &outsider).await);
    assert!(s.list(MINE, &outsider).await.is_empty());
}

#[tokio::test]
async fn students_of_another_organization_cannot_find_the_test() {
    let s = school().await;
    let other = s.app.owner("other@example.com").await;
    let alien = s.app.student("alien@example.com", other.org.unwrap()).await;
    assert_unknown_test(&s.submit(&alien, &s.test, all_right(&s.test)).await);
    assert_not_found(&s.get(&link(&s.test), &alien).await);
}

#[tokio::test]
async fn anonymous_callers_get_401() {
    let s = school().await;
    let body = submission(&s.test, all_right(&s.test));
    let submitted = s.call(Method::POST, SUBMIT, None, body).await;
    assert_error(&submitted, StatusCode::UNAUTHORIZED, "not_authenticated");
    let opened = s.call(Method::GET, &link(&s.test), None, Value::Null).await;
    assert_error(&opened, StatusCode::UNAUTHORIZED, "not_authenticated");
}

#[tokio::test]
async fn disallowing_the_group_closes_the_test_to_its_students() {
    let s = school().await;
    let path = test_path(&s.test, "disallow_for_group/");
    let group = json!({"group": s.test["available_for"][0]["id"]});
    let (status, test) = s.post(&path, &s.owner, group).await;
    let none = json!([]);
    assert_eq!((status, &test["available_for"]), (StatusCode::OK, &none));
    assert_forbidden(&s.submit(&s.student, &s.test, all_right(&s.test)).await);
    assert_forbidden(&s.get(&link(&s.test), &s.student).await);
}

#[tokio::test]
async fn regenerating_the_uuid_retires_the_old_link() {
    let s = school().await;
    let renewed = s.regenerate_uuid().await;
    assert_ne!(uuid(&renewed), uuid(&s.test));
    assert_not_found(&s.get(&link(&s.test), &s.student).await);
    assert_unknown_test(&s.submit(&s.student, &s.test, all_right(&s.test)).await);
    let c = s.submitted(&s.student, &renewed, all_right(&renewed)).await;
    assert_eq!(c["test"], renewed["public_uuid"]);
}

#[tokio::test]
async fn completions_name_their_test_by_its_current_uuid() {
    let s = school().await;
    let c = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    let renewed = s.regenerate_uuid().await;
    let new = &renewed["public_uuid"];
    let (status, body) = s.get(&completion_path(&c), &s.student).await;
    assert_eq!((status, &body["test"]), (StatusCode::OK, new));
    let path = format!("{}completions/", link(&renewed));
    assert_eq!(&s.list(&path, &s.student).await[0]["test"], new);
}

#[tokio::test]
async fn a_student_reads_their_own_completion_and_classmates_get_404() {
    let (s, classmate) = school_with_classmate().await;
    let c = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    let path = completion_path(&c);
    assert_eq!(s.get(&path, &s.student).await, (StatusCode::OK, c));
    assert_not_found(&s.get(&path, &classmate).await);
}

#[tokio::test]
async fn the_tests_creator_and_the_organizations_owner_read_completions_with_correctness() {
    let s = school().await;
    let teacher = s.app.teacher_of(&s.owner, "teacher@example.com").await;
    let bystander = s.app.teacher_of(&s.owner, "bystander@example.com").await;
    let group = s.app.group(&teacher, "Teacher's", &[s.student.id]).await;
    let mut body = sample_test();
    body["available_for"] = json!([group]);
    let t = s.app.create_test(&teacher, &body).await;
    let answers = json!([
        answer(&t, 1, text("Lyon")),
        answer(&t, 2, radio(variant_id(&t, 2, "4"))),
        answer(&t, 3, checks(&t, 3, &["2", "4"])),
        answer(&t, 4, checks(&t, 4, &["2"])),
    ]);
    let c = s.submitted(&s.student, &t, answers).await;
    let pick = |n, text, ok| json!({"id": variant_id(&t, n, text), "text": text, "is_correct": ok});
    // Lyon matches no variant: the answer's own id, never a variant's.
    let lyon_id = c["answers"][0]["body"]["picked_variant"]["id"]
        .as_i64()
        .unwrap();
    let variant_ids = t["questions"].as_array().unwrap().iter();
    let mut variant_ids = variant_ids.flat_map(|q| q["body"]["variants"].as_array().unwrap());
    assert!(
        lyon_id > 0 && !variant_ids.any(|v| v["id"] == lyon_id),
        "{c}"
    );
    let lyon = json!({"id": lyon_id, "text": "Lyon", "is_correct": false});
    let primes = json!([pick(3, "2", true), pick(3, "4", false)]);
    let q1 = json!({"picked_variant": lyon, "is_correct": false});
    let q2 = json!({"picked_variant": pick(2, "4", true), "is_correct": true});
    let q3 = json!({"picked_variants": primes, "is_correct": false});
    let q4 = json!({"picked_variants": [pick(4, "2", true)], "is_correct": false});
    let q5 = json!({"code": "", "is_correct": false, "runtime_errors": null, "errors": null});
    let expected = json!([
        marked(&t, 1, 0, q1),
        marked(&t, 2, 1, q2),
        marked(&t, 3, 0, q3),
        marked(&t, 4, 1, q4),
        marked(&t, 5, 0, q5),
    ]);
    let user = json!({"id": s.student.id, "email": s.student.email, "first_name": "First",
                      "last_name": "Last", "photo": null, "is_teacher": false});
    let want = json!({"id": c["id"], "user": user, "test": t["id"], "answers": expected,
                      "score": 2, "max_score": 13});
    for reader in [&teacher, &s.owner] {
        let (status, g) = s.graded(&c, reader).await;
        assert_eq!(status, StatusCode::OK, "{g}");
        assert_eq!(only(&g, "id user test answers score max_score"), want);
    }
    assert_forbidden(&s.graded(&c, &s.student).await);
    assert_not_found(&s.graded(&c, &bystander).await);
}

#[tokio::test]
async fn my_completions_list_only_the_callers_own() {
    let (s, classmate) = school_with_classmate().await;
    let first = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    let theirs = s.submitted(&classmate, &s.test, json!([])).await;
    let second = s.submitted(&s.student, &s.test, json!([])).await;
    assert_eq!(s.list(MINE, &s.student).await, [first, second]);
    assert_eq!(s.list(MINE, &classmate).await, [theirs]);
}

#[tokio::test]
async fn a_public_tests_completions_list_only_the_callers_own_of_that_test() {
    let (s, classmate) = school_with_classmate().await;
    let other = s.app.sample_test_for(&s.owner, &[s.student.id]).await;
    let first = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    s.submitted(&s.student, &other, all_right(&other)).await;
    s.submitted(&classmate, &s.test, all_right(&s.test)).await;
    let second = s.submitted(&s.student, &s.test, json!([])).await;
    let path = format!("{}completions/", link(&s.test));
    assert_eq!(s.list(&path, &s.student).await, [first, second]);
}

#[tokio::test]
async fn the_tests_creator_lists_every_students_completions_graded() {
    let (s, classmate) = school_with_classmate().await;
    let mine = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    let theirs = s.submitted(&classmate, &s.test, json!([])).await;
    let path = test_path(&s.test, "completions/");
    let all = s.list(&path, &s.owner).await;
    assert_eq!(ids(&all), ids(&[mine.clone(), theirs.clone()]));
    assert_eq!(all[0], s.graded(&mine, &s.owner).await.1);
    assert_eq!(all[1], s.graded(&theirs, &s.owner).await.1);
    assert_eq!(all[1]["user"]["email"], json!(classmate.email));
    assert_forbidden(&s.get(&path, &s.student).await);
}

#[tokio::test]
async fn editing_a_test_after_submission_leaves_its_completions_unchanged() {
    let s = school().await;
    let c = s.submitted(&s.student, &s.test, all_right(&s.test)).await;
    let (_, before) = s.graded(&c, &s.owner).await;
    assert_eq!(before["score"], json!(13));
    let mut edited = s.test.clone();
    let questions = &mut edited["questions"];
    questions[0]["body"]["variants"][0]["text"] = json!("Lyon");
    questions[1]["points"] = json!(10);
    questions[1]["body"]["variants"][0]["is_correct"] = json!(true);
    questions[1]["body"]["variants"][1]["is_correct"] = json!(false);
    questions[2]["body"]["variants"][2]["is_correct"] = json!(true);
    let path = test_path(&s.test, "");
    let (status, body) = s.call(Method::PUT, &path, Some(&s.owner), edited).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.graded(&c, &s.owner).await, (StatusCode::OK, before));
    let path = completion_path(&c);
    assert_eq!(s.get(&path, &s.student).await, (StatusCode::OK, c));
    // The edit took effect: the same answers now score only "Even?" and the code.
    let again = s.submitted(&s.student, &body, all_right(&s.test)).await;
    let totals = json!({"score": 7, "max_score": 22});
    assert_eq!(only(&again, "score max_score"), totals);
}

#[tokio::test]
async fn two_students_submitting_at_once_both_get_their_completions() {
    let (s, classmate) = school_with_classmate().await;
    let (client, url) = (&s.app.client, s.app.url(SUBMIT));
    let body = submission(&s.test, all_right(&s.test));
    let tasks = [&s.student, &classmate].map(|who| {
        let request = client.post(&url).bearer_auth(&who.access).json(&body);
        tokio::spawn(async move { status_json(request.send().await.unwrap()).await })
    });
    let mut created = Vec::new();
    for (task, who) in tasks.into_iter().zip([&s.student, &classmate]) {
        let (status, c) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{c}");
        assert_eq!(only(&c, "user score"), json!({"user": who.id, "score": 13}));
        created.push(c["id"].clone());
    }
    created.sort_by_key(|id| id.as_i64());
    let all = s.list(&test_path(&s.test, "completions/"), &s.owner).await;
    assert_eq!(ids(&all), created);
}

#[tokio::test]
async fn a_test_is_named_by_its_secret_link_never_by_its_guessable_id() {
    let s = school().await;
    let body = json!({"test": s.test["id"], "answers": []});
    let (status, errors) =
        status_json(s.app.post(SUBMIT, Some(&s.student.access), &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors, json!({"test": ["No test has this public_uuid."]}));
}

#[tokio::test]
async fn a_whole_list_longer_than_a_stream_batch_arrives_complete_in_id_order() {
    // Two full batches: the closing bracket then comes in a batch of its own, the edge case.
    let count = 2 * testit::api::pagination::STREAM_BATCH as usize;
    let s = school().await;
    let uuid = s.test["public_uuid"].as_str().unwrap().to_owned();
    for _ in 0..count / 50 {
        let submissions = (0..50).map(|_| s.app.submit(&s.student, &uuid, json!([])));
        for resp in futures_util::future::join_all(submissions).await {
            assert_eq!(resp.status(), StatusCode::CREATED);
        }
    }
    let of_test = format!("/api/tests/{}/completions/", s.test["id"]);
    let (status, all) = status_json(s.app.get(&of_test, Some(&s.owner.access)).await).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<i64> = all
        .as_array()
        .expect("a plain array")
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), count);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids in order, none twice"
    );
    assert_eq!(all[count - 1]["user"]["email"], "student@example.com");

    let (_, page) = status_json(
        s.app
            .get(&format!("{of_test}?limit=1"), Some(&s.owner.access))
            .await,
    )
    .await;
    assert_eq!(page["count"], count);
    let (_, mine) = status_json(s.app.get(MINE, Some(&s.student.access)).await).await;
    assert_eq!(mine.as_array().unwrap().len(), count);
}
