//! The store contract: what every backend must do, checked on the embedded store always and
//! on MongoDB whenever `TEST_MONGODB_URI` is set (`scripts/test-mongodb` does so).

use std::sync::Arc;

use serde_json::Value;
use testit::store::mongo::MongoBackend;

use crate::helpers::{fresh_database_name, mongodb_uri, MONGODB_VAR};
use testit::store::{Attempt, FieldPath, Filter, Group, Page, Store, StoreError, User};

fn user(email: &str, org: Option<i64>, teacher: bool) -> User {
    User {
        id: 0,
        email: Some(email.to_owned()),
        email_lower: Some(email.to_lowercase()),
        password_hash: "$argon2id$stub".to_owned(),
        first_name: "F".to_owned(),
        last_name: "L".to_owned(),
        photo: None,
        is_teacher: teacher,
        teacher_requested: false,
        organization_id: org,
        token_generation: 0,
        date_joined: 0,
        ..User::default()
    }
}

fn group(org: i64, name: &str, members: Vec<i64>) -> Group {
    Group {
        id: 0,
        organization_id: org,
        name: name.to_owned(),
        description: String::new(),
        members,
        join_code: None,
    }
}

fn ids<T: testit::store::Document>(docs: &[T]) -> Vec<i64> {
    docs.iter().map(|d| d.id()).collect()
}

async fn keeps_the_contract(store: Store) {
    let users = store.users();
    // Ids are fresh and increasing; documents read back as written.
    let a = users
        .insert(user("A@example.org", Some(7), true))
        .await
        .unwrap();
    let b = users
        .insert(user("b@example.org", Some(7), false))
        .await
        .unwrap();
    let c = users
        .insert(user("c@example.org", None, false))
        .await
        .unwrap();
    assert!(a.id > 0 && b.id > a.id && c.id > b.id);
    assert_eq!(users.get(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(users.get(c.id + 1000).await.unwrap(), None);

    // Unique indexes refuse duplicates, on insert and on update.
    let dup = users.insert(user("a@EXAMPLE.org", None, false)).await;
    assert!(matches!(dup, Err(StoreError::Duplicate)), "{dup:?}");
    let moved = users
        .update(b.id, |u| {
            u.email_lower = Some("a@example.org".to_owned());
            Ok::<_, StoreError>(())
        })
        .await;
    assert!(matches!(moved, Err(StoreError::Duplicate)), "{moved:?}");
    assert_eq!(
        store
            .user_by_email("A@Example.ORG")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(a.id)
    );

    // Filters: equality (numbers, booleans, null), membership, conjunction.
    let in_org = Filter::Eq("organization_id", 7.into());
    assert_eq!(
        ids(&users.find(&in_org, None).await.unwrap()),
        vec![a.id, b.id]
    );
    assert_eq!(users.count(&in_org).await.unwrap(), 2);
    assert_eq!(
        ids(&users
            .find(&Filter::Eq("organization_id", Value::Null), None)
            .await
            .unwrap()),
        vec![c.id]
    );
    assert_eq!(
        ids(&users
            .find(&Filter::Eq("is_teacher", true.into()), None)
            .await
            .unwrap()),
        vec![a.id]
    );
    let some = Filter::In("id", vec![c.id.into(), a.id.into(), 99_999.into()]);
    assert_eq!(
        ids(&users.find(&some, None).await.unwrap()),
        vec![a.id, c.id]
    );
    assert_eq!(users.count(&Filter::In("id", vec![])).await.unwrap(), 0);
    let both = Filter::And(vec![in_org.clone(), Filter::Eq("is_teacher", false.into())]);
    assert_eq!(ids(&users.find(&both, None).await.unwrap()), vec![b.id]);

    // Pages are slices of the id order.
    let groups = store.groups();
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(
            groups
                .insert(group(7, &format!("g{i}"), vec![a.id, i]))
                .await
                .unwrap()
                .id,
        );
    }
    let page = groups
        .find(
            &Filter::All,
            Some(Page {
                offset: 1,
                limit: 2,
            }),
        )
        .await
        .unwrap();
    assert_eq!(ids(&page), made[1..3].to_vec());
    // Keyset batches: the ids after one, in order, a page at a time.
    let after = Filter::IdAfter(made[1]);
    let first = Some(Page {
        offset: 0,
        limit: 2,
    });
    assert_eq!(
        ids(&groups.find(&after, first).await.unwrap()),
        made[2..4].to_vec()
    );
    assert_eq!(groups.count(&after).await.unwrap() as usize, made.len() - 2);
    let holding = Filter::Contains("members", 3.into());
    assert_eq!(
        ids(&groups.find(&holding, None).await.unwrap()),
        vec![made[3]]
    );

    // Concurrent read-modify-writes lose nothing.
    let target = made[0];
    let tasks: Vec<_> = (100..132)
        .map(|member| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .groups()
                    .update(target, |g| {
                        g.members.push(member);
                        Ok::<_, StoreError>(())
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap().unwrap();
    }
    let members = groups.get(target).await.unwrap().unwrap().members;
    assert!((100..132).all(|m| members.contains(&m)), "{members:?}");

    // A refused change writes nothing; a missing document is `None`.
    let refused: Result<_, StoreError> = groups
        .update(target, |g| {
            g.name = "changed".to_owned();
            Err(StoreError::Other("no".to_owned()))
        })
        .await;
    assert!(refused.is_err());
    assert_eq!(groups.get(target).await.unwrap().unwrap().name, "g0");
    assert!(groups
        .update(99_999, |_| Ok::<_, StoreError>(()))
        .await
        .unwrap()
        .is_none());

    // Set membership: one atomic add (idempotent) or remove, the others kept in order.
    let members = FieldPath::parse(["members"]).unwrap();
    let set = made[4]; // members [a, 4]
    let change = |value: i64, present: bool| {
        let store = store.clone();
        let members = members.clone();
        async move {
            store
                .groups()
                .set_membership(set, &members, value.into(), present)
                .await
                .unwrap()
                .map(|g| g.members)
        }
    };
    assert_eq!(change(42, true).await, Some(vec![a.id, 4, 42]));
    assert_eq!(change(42, true).await, Some(vec![a.id, 4, 42]));
    assert_eq!(change(4, false).await, Some(vec![a.id, 42]));
    assert_eq!(change(999, false).await, Some(vec![a.id, 42]));
    assert_eq!(
        groups
            .set_membership(99_999, &members, 1.into(), true)
            .await
            .unwrap(),
        None
    );
    // Racing adds and removes of different members lose none of each other's changes.
    for old in 300..316 {
        change(old, true).await;
    }
    let racing: Vec<_> = (0..16)
        .flat_map(|i| {
            [
                tokio::spawn(change(200 + i, true)),
                tokio::spawn(change(300 + i, false)),
            ]
        })
        .collect();
    for task in racing {
        task.await.unwrap();
    }
    let mut after = groups.get(set).await.unwrap().unwrap().members;
    after.sort_unstable();
    let mut expected: Vec<i64> = (200..216).chain([a.id, 42]).collect();
    expected.sort_unstable();
    assert_eq!(after, expected);
    // Membership writes race read-modify-writes of the same document without losses.
    let racing: Vec<_> = (0..16)
        .flat_map(|i| {
            let store = store.clone();
            [
                tokio::spawn(async move {
                    store
                        .groups()
                        .update(set, |g| {
                            g.description = format!("edit {i}");
                            Ok::<_, StoreError>(())
                        })
                        .await
                        .unwrap();
                    None
                }),
                tokio::spawn(change(400 + i, true)),
            ]
        })
        .collect();
    for task in racing {
        task.await.unwrap();
    }
    let after = groups.get(set).await.unwrap().unwrap();
    assert!((400..416).all(|m| after.members.contains(&m)), "{after:?}");
    assert!(after.description.starts_with("edit "));

    // Sequences: one atomic write per number, capped, seeded from existing data once.
    let next = |cap: Option<i64>, seed: i64| {
        let store = store.clone();
        async move {
            store
                .next_in_sequence("attempts:1:2", cap, || async move { Ok(seed) })
                .await
                .unwrap()
        }
    };
    assert_eq!(next(Some(3), 1).await, Some(2));
    assert_eq!(next(Some(3), 100).await, Some(3), "seeded only once");
    assert_eq!(next(Some(3), 100).await, None, "capped");
    assert_eq!(next(Some(3), 100).await, None, "a refusal takes nothing");
    assert_eq!(next(Some(5), 100).await, Some(4), "a raised cap goes on");
    assert_eq!(next(None, 100).await, Some(5));
    // Reading a sequence takes nothing; a fresh one is seeded like a taken one.
    let value = |name: &'static str, seed: i64| {
        let store = store.clone();
        async move {
            store
                .sequence_value(name, || async move { Ok(seed) })
                .await
                .unwrap()
        }
    };
    assert_eq!(value("attempts:1:2", 100).await, 5);
    assert_eq!(value("attempts:1:2", 100).await, 5);
    assert_eq!(value("attempts:5:6", 7).await, 7);
    assert_eq!(next(None, 100).await, Some(6));
    // 32 racing takers of a fresh sequence capped at 20 get 1..=20 once each.
    let takers: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .next_in_sequence("attempts:3:4", Some(20), || async { Ok(0) })
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut taken = Vec::new();
    for taker in takers {
        taken.extend(taker.await.unwrap());
    }
    taken.sort_unstable();
    assert_eq!(taken, (1..=20).collect::<Vec<i64>>());

    // Id blocks for nested documents never overlap.
    let first = store.reserve_ids("questions", 3).await.unwrap();
    let second = store.reserve_ids("questions", 2).await.unwrap();
    assert_eq!(first.len(), 3);
    assert!(second[0] > first[2], "{first:?} then {second:?}");
    assert!(store.reserve_ids("questions", 0).await.unwrap().is_empty());

    // One field set in place: nested objects are created, other fields kept, and the version
    // moves, so a read-modify-write that started before it retries instead of undoing it.
    let attempts = store.repo::<Attempt>();
    let attempt = attempts
        .insert(Attempt {
            id: 0,
            test_id: 1,
            user_id: 2,
            organization_id: 3,
            started_at: 0,
            deadline: None,
            answers: Default::default(),
            submitted: false,
            completion_id: None,
            open_key: "1:2".to_owned(),
            live: true,
        })
        .await
        .unwrap();
    let twelve = FieldPath::parse(["answers", "12"]).unwrap();
    let body = serde_json::json!({"picked_variant": {"id": 7}, "note": "ü \"quoted\""});
    assert!(attempts
        .set_field(attempt.id, &twelve, body.clone())
        .await
        .unwrap());
    let thirteen = FieldPath::parse(["answers", "13"]).unwrap();
    assert!(attempts
        .set_field(attempt.id, &thirteen, Value::from("x"))
        .await
        .unwrap());
    assert!(attempts
        .set_field(attempt.id, &twelve, body.clone())
        .await
        .unwrap());
    let updated = attempts
        .update(attempt.id, |a| {
            a.submitted = true;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.answers.len(), 2);
    let read = attempts.get(attempt.id).await.unwrap().unwrap();
    assert_eq!(read.answers["12"], body);
    assert_eq!(read.answers["13"], "x");
    assert!(read.submitted);
    assert_eq!(read.open_key, "1:2");
    // Racing read-modify-writes lose none of the fields set meanwhile.
    let tasks: Vec<_> = (0..20)
        .flat_map(|i| {
            let (store_a, store_b) = (store.clone(), store.clone());
            let id = attempt.id;
            [
                tokio::spawn(async move {
                    let path = FieldPath::parse(["answers".to_owned(), format!("s{i}")]).unwrap();
                    assert!(store_a
                        .repo::<Attempt>()
                        .set_field(id, &path, Value::from(i))
                        .await
                        .unwrap());
                }),
                tokio::spawn(async move {
                    store_b
                        .repo::<Attempt>()
                        .update(id, |a| {
                            a.answers.insert(format!("u{i}"), Value::from(i));
                            Ok::<_, StoreError>(())
                        })
                        .await
                        .unwrap();
                }),
            ]
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let answers = attempts.get(attempt.id).await.unwrap().unwrap().answers;
    assert_eq!(answers.len(), 42, "{answers:?}");
    assert!(!attempts
        .set_field(99_999, &twelve, Value::Null)
        .await
        .unwrap());
    assert!(FieldPath::parse(["answers", "1'); DROP"]).is_err());
    assert!(FieldPath::parse(["_v"]).is_err());
    assert!(FieldPath::parse(Vec::<String>::new()).is_err());

    // Deletes say whether there was something.
    assert!(groups.delete(target).await.unwrap());
    assert!(!groups.delete(target).await.unwrap());
    assert_eq!(groups.get(target).await.unwrap(), None);
    store.ping().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("contract.sqlite3").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(store.kind(), "embedded");
    keeps_the_contract(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mongodb_store_keeps_the_contract() {
    let Some(uri) = mongodb_uri() else {
        eprintln!("skipped: {MONGODB_VAR} is not set, so the MongoDB contract suite did not run");
        return;
    };
    let name = fresh_database_name("contract");
    let backend = MongoBackend::connect_to(&uri, Some(&name)).await.unwrap();
    let db = backend.database().clone();
    let store = Store::with_backend(Arc::new(backend)).await.unwrap();
    assert_eq!(store.kind(), "mongodb");
    keeps_the_contract(store).await;
    db.drop().await.unwrap();
}
