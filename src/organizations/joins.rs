//! Joining a group by its code: each group may have a short, unguessable join code (shown
//! by its teachers, rotated or turned off by them); a student who has it joins the group's
//! organization and the group in one step. An unknown or turned-off code is a 404 that says
//! what to do; the REST handlers rate-limit lookups per address like sign-ins.

use rand::Rng;

use crate::error::{ApiError, ErrorCode};
use crate::store::{FieldPath, Filter, Group, Organization, Store, StoreError, User};

use super::groups::visible_group;

/// The code's alphabet: capitals and digits a reader cannot mistake for one another (no
/// 0/O, 1/I/L); 32 symbols, so each carries 5 bits.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Symbols in a code: 10 × 5 = 50 bits, shown as two halves (`ABCDE-FGHJK`).
pub const CODE_LEN: usize = 10;

/// What a join with a code that does not work answers.
pub const DEAD_CODE: &str =
    "This join code does not work: it was mistyped, turned off or replaced. Ask your teacher for the current link or code.";

/// A fresh random code (stored without its dash).
pub fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A code as typed (any case, with dashes or spaces) in its stored form, if it can be one.
pub fn normalize(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// A stored code as shown: `ABCDE-FGHJK`.
pub fn display(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(CODE_LEN / 2));
    format!("{a}-{b}")
}

/// The group, if the caller teaches in its organization (else 404 or 403).
async fn taught_group(store: &Store, me: &User, group_id: i64) -> Result<Group, ApiError> {
    let group = visible_group(store, me, group_id).await?;
    if !me.is_teacher {
        return Err(ApiError::forbidden(
            "Only teachers of the organization can see and change join codes.",
        ));
    }
    Ok(group)
}

/// A teacher reads the group's code (`None` while it has none or it was turned off).
pub async fn code_of(store: &Store, me: &User, group_id: i64) -> Result<Option<String>, ApiError> {
    Ok(taught_group(store, me, group_id).await?.join_code)
}

/// A teacher gives the group a new code; the previous one stops working at once.
pub async fn rotate(store: &Store, me: &User, group_id: i64) -> Result<String, ApiError> {
    let group = taught_group(store, me, group_id).await?;
    let path = FieldPath::parse(["join_code"])?;
    // 50 random bits: a clash with another group's code (refused by the unique index) is
    // all but impossible, and answered by drawing again.
    for _ in 0..3 {
        let code = new_code();
        match store
            .groups()
            .set_field(group.id, &path, code.clone().into())
            .await
        {
            Ok(true) => {
                tracing::info!(group_id = group.id, by = me.id, "join code made");
                return Ok(code);
            }
            Ok(false) => return Err(ApiError::not_found()),
            Err(StoreError::Duplicate) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(ApiError::internal("three join codes in a row clashed"))
}

/// A teacher turns the group's code off: joins with it are refused until a new one is made.
pub async fn turn_off(store: &Store, me: &User, group_id: i64) -> Result<(), ApiError> {
    let group = taught_group(store, me, group_id).await?;
    let path = FieldPath::parse(["join_code"])?;
    store
        .groups()
        .set_field(group.id, &path, serde_json::Value::Null)
        .await?;
    tracing::info!(group_id = group.id, by = me.id, "join code turned off");
    Ok(())
}

/// The group a code opens and its organization; 404 with [`DEAD_CODE`] when none.
pub async fn find(store: &Store, raw: &str) -> Result<(Group, Organization), ApiError> {
    let dead = || ApiError::with_detail(ErrorCode::NotFound, DEAD_CODE);
    let code = normalize(raw).ok_or_else(dead)?;
    let group = store
        .groups()
        .find_one(&Filter::Eq("join_code", code.into()))
        .await?
        .ok_or_else(dead)?;
    let org = store
        .organizations()
        .get(group.organization_id)
        .await?
        .ok_or_else(dead)?;
    Ok((group, org))
}

/// The caller joins the code's organization (unless they are in it already) and its group.
/// Teachers are refused: a code must not make anyone a teacher of an organization without
/// its owner's confirmation.
pub async fn join(
    store: &Store,
    me: &User,
    raw: &str,
) -> Result<(Group, Organization, User), ApiError> {
    let (group, org) = find(store, raw).await?;
    if me.organization_id != Some(org.id) {
        if me.is_teacher || me.teacher_requested {
            return Err(ApiError::forbidden(
                "Join codes are for students. A teacher asks the organization's owner to confirm them.",
            ));
        }
        if me.organization_id.is_some() {
            return Err(ApiError::bad_request(
                "You belong to another organization: a join code cannot move you to this one.",
            ));
        }
    }
    let user = store
        .users()
        .update(me.id, |user| {
            match user.organization_id {
                Some(id) if id == org.id => {}
                None if !(user.is_teacher || user.teacher_requested) => {
                    user.organization_id = Some(org.id);
                }
                _ => return Err(ApiError::bad_request(
                    "You belong to another organization: a join code cannot move you to this one.",
                )),
            }
            Ok(())
        })
        .await?
        .ok_or_else(|| ApiError::code(ErrorCode::TokenNotValid))?;
    let members = FieldPath::parse(["members"])?;
    let group = store
        .groups()
        .set_membership(group.id, &members, me.id.into(), true)
        .await?
        .ok_or_else(|| ApiError::with_detail(ErrorCode::NotFound, DEAD_CODE))?;
    tracing::info!(group_id = group.id, user_id = me.id, "joined by code");
    Ok((group, org, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_symbols_of_the_alphabet_and_read_back_as_typed() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(normalize(&code).as_deref(), Some(code.as_str()));
        let shown = display(&code);
        assert_eq!(shown.len(), CODE_LEN + 1);
        assert_eq!(
            normalize(&shown.to_lowercase()).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalize(&format!(" {shown} ")), Some(code.clone()));
        assert!(normalize("ABCDE-FGHJ").is_none());
        assert!(normalize("ABCDE-FGHJ0").is_none());
        assert!(normalize("ABCDE-FGHJKL").is_none());
        assert_ne!(new_code(), new_code());
    }
}
