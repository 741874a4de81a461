//! Who may do what with tests and completions.
//!
//! A teacher manages the tests they created; the organization's owner manages all of the
//! organization's. Students get 403 on what only teachers do; users of another organization
//! get 404 (existence is not revealed). A student takes a test when they are in a group it is
//! available for.

use crate::error::ApiError;
use crate::store::{Completion, Filter, Group, Store, Test, User};

pub fn require_teacher(me: &User) -> Result<i64, ApiError> {
    match me.organization_id.filter(|_| me.is_teacher) {
        Some(org) => Ok(org),
        None => Err(ApiError::forbidden("Only teachers can manage tests.")),
    }
}

pub async fn owns_organization(store: &Store, me: &User, org: i64) -> Result<bool, ApiError> {
    Ok(store
        .organizations()
        .get(org)
        .await?
        .is_some_and(|o| o.owner_id == me.id))
}

/// Whether `me` manages `test`: its creator, or the owner of its organization.
pub async fn manages(
    store: &Store,
    me: &User,
    creator_id: i64,
    org: i64,
) -> Result<bool, ApiError> {
    if !me.is_teacher || me.organization_id != Some(org) {
        return Ok(false);
    }
    Ok(creator_id == me.id || owns_organization(store, me, org).await?)
}

/// The test, when the caller is a teacher who manages it: else 403 (students) or 404.
pub async fn managed_test(store: &Store, me: &User, id: i64) -> Result<Test, ApiError> {
    require_teacher(me)?;
    let test = store
        .tests()
        .get(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if manages(store, me, test.creator_id, test.organization_id).await? {
        Ok(test)
    } else {
        Err(ApiError::not_found())
    }
}

/// The test behind a public link, for a caller of its organization (else 404).
pub async fn test_by_uuid(store: &Store, me: &User, uuid: &str) -> Result<Option<Test>, ApiError> {
    let filter = Filter::Eq("public_uuid", uuid.into());
    let test = store.tests().find_one(&filter).await?;
    Ok(test.filter(|t| me.organization_id == Some(t.organization_id)))
}

/// The caller's groups that the test is available for.
pub async fn access_groups(store: &Store, me: &User, test: &Test) -> Result<Vec<Group>, ApiError> {
    if test.available_for.is_empty() {
        return Ok(Vec::new());
    }
    let filter = Filter::And(vec![
        Filter::In(
            "id",
            test.available_for.iter().map(|&id| id.into()).collect(),
        ),
        Filter::Contains("members", me.id.into()),
    ]);
    Ok(store.groups().find(&filter, None).await?)
}

/// A test by its public link, for a caller who may take or preview it (else 404 or 403),
/// and whether the caller takes it as a student (the test's managers preview it).
pub async fn takeable_test(store: &Store, me: &User, uuid: &str) -> Result<(Test, bool), ApiError> {
    let test = test_by_uuid(store, me, uuid)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if manages(store, me, test.creator_id, test.organization_id).await? {
        return Ok((test, false));
    }
    if access_groups(store, me, &test).await?.is_empty() {
        Err(ApiError::forbidden("This test is not available to you."))
    } else {
        Ok((test, true))
    }
}

/// The completion if the caller may read it (its student, or the test's managers), and
/// whether the caller manages it; else 404.
pub async fn readable_completion(
    store: &Store,
    me: &User,
    id: i64,
) -> Result<(Completion, bool), ApiError> {
    let completion = store
        .completions()
        .get(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let manager = manages(store, me, completion.creator_id, completion.organization_id).await?;
    if manager || completion.user_id == me.id {
        Ok((completion, manager))
    } else {
        Err(ApiError::not_found())
    }
}

/// The tests open to `me`: those of their organization available for any group they belong
/// to, in id order, each once. The same rule as [`takeable_test`] (a member of a group the
/// test is available for), so every test listed opens by its link. A user without an
/// organization, or in no group, has none.
pub async fn open_tests(store: &Store, me: &User) -> Result<Vec<Test>, ApiError> {
    let Some(org) = me.organization_id else {
        return Ok(Vec::new());
    };
    let mine = Filter::Contains("members", me.id.into());
    let groups = store.groups().find(&mine, None).await?;
    // One query per group: the stores have no "array contains any of" filter, and a
    // student is in a handful of groups. A map keyed by id dedupes a test open to several
    // of them and keeps id order.
    let mut tests = std::collections::BTreeMap::new();
    for group in groups.iter().filter(|g| g.organization_id == org) {
        let filter = Filter::And(vec![
            Filter::Eq("organization_id", org.into()),
            Filter::Contains("available_for", group.id.into()),
        ]);
        for test in store.tests().find(&filter, None).await? {
            tests.entry(test.id).or_insert(test);
        }
    }
    Ok(tests.into_values().collect())
}
