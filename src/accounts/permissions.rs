//! Permissions: a fixed catalog (`GET /api/permissions/`), granted per user by superusers.
//! A superuser holds every permission; everyone else holds what they were granted.

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::User;

/// What a permission lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List and read every user (not only those the TestIT rules show).
    ViewUsers,
    /// Change anyone's profile.
    ChangeUsers,
    /// Delete anyone's account.
    DeleteUsers,
    /// Read anyone's permissions. Changing them stays with superusers.
    ViewPermissions,
    /// Create, change and delete the course catalog (teachers, courses, videos, files…).
    ManageCatalog,
}

/// One entry of the catalog, as `GET /api/permissions/` answers it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[schema(as = Permission)]
pub struct PermissionOut {
    pub id: i64,
    pub codename: &'static str,
    pub name: &'static str,
}

/// Every permission, by id. Ids are part of the API (clients send them): never renumber.
pub const CATALOG: &[(Permission, PermissionOut)] = &[
    (
        Permission::ViewUsers,
        PermissionOut {
            id: 1,
            codename: "view_user",
            name: "Can view users",
        },
    ),
    (
        Permission::ChangeUsers,
        PermissionOut {
            id: 2,
            codename: "change_user",
            name: "Can change users",
        },
    ),
    (
        Permission::DeleteUsers,
        PermissionOut {
            id: 3,
            codename: "delete_user",
            name: "Can delete users",
        },
    ),
    (
        Permission::ViewPermissions,
        PermissionOut {
            id: 4,
            codename: "view_permission",
            name: "Can view users' permissions",
        },
    ),
    (
        Permission::ManageCatalog,
        PermissionOut {
            id: 5,
            codename: "manage_catalog",
            name: "Can manage the course catalog",
        },
    ),
];

impl Permission {
    pub fn id(self) -> i64 {
        CATALOG
            .iter()
            .find(|(p, _)| *p == self)
            .map_or(0, |(_, out)| out.id)
    }
}

/// Whether the catalog has a permission of this id.
pub fn exists(id: i64) -> bool {
    CATALOG.iter().any(|(_, out)| out.id == id)
}

/// Whether `user` holds `permission` (superusers hold all).
pub fn holds(user: &User, permission: Permission) -> bool {
    user.is_superuser || user.permissions.contains(&permission.id())
}

/// Whether `me` may change `target`'s sign-in identity (email, username): their own, or, as
/// a superuser, anyone's. A holder of "change users" may not: a new email would receive the
/// verification code (or a password reset) and so hand them the account, superusers' too.
pub fn may_change_identity(me: &User, target: &User) -> bool {
    me.id == target.id || me.is_superuser
}

/// Whether `me` may change or delete `target` at all with `permission`: superusers' accounts
/// only by superusers (no one takes what they lack).
pub fn may_manage(me: &User, target: &User, permission: Permission) -> bool {
    me.id == target.id || (holds(me, permission) && (me.is_superuser || !target.is_superuser))
}

/// The permission ids `user` holds, in id order.
pub fn held(user: &User) -> Vec<i64> {
    if user.is_superuser {
        CATALOG.iter().map(|(_, out)| out.id).collect()
    } else {
        user.permissions.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_each_permission_has_one() {
        let mut ids: Vec<i64> = CATALOG.iter().map(|(_, out)| out.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CATALOG.len());
        for (permission, out) in CATALOG {
            assert_eq!(permission.id(), out.id);
        }
    }

    #[test]
    fn superusers_hold_every_permission_and_others_what_they_were_granted() {
        let mut user = User {
            permissions: vec![Permission::ViewUsers.id()],
            ..User::default()
        };
        assert!(holds(&user, Permission::ViewUsers));
        assert!(!holds(&user, Permission::DeleteUsers));
        user.is_superuser = true;
        assert!(holds(&user, Permission::DeleteUsers));
        assert_eq!(held(&user).len(), CATALOG.len());
    }
}
