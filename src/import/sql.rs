//! A plan as SQL for D1, in batches: each batch is one file that `wrangler d1 execute`
//! runs as one transaction locally (one D1 batch); remotely it goes through D1's import.
//!
//! Every statement is guarded, so that a batch run twice, or beside registrations that
//! the running worker takes meanwhile, writes nothing twice and nothing half: a user row
//! goes in only if neither its id, account nor phone is taken (`OR IGNORE`, row by row),
//! and its roles only if that user row is the one this batch wrote (its hash, with a salt
//! of its own, says so). A role made here is renamed only while nobody holds it.
//!
//! Every text that comes from the dump is written as the hex of its UTF-8
//! (`CAST(X'...' AS TEXT)`): wrangler edits a file's text before it splits it (it drops
//! `BEGIN TRANSACTION;` and `COMMIT;` wherever they are), and an account may be called
//! that.

use super::plan::{DefaultRole, Plan, RoleWrite, UserWrite};

/// Users per batch: D1 takes statements up to 100 KB each and files of any size, but a
/// batch is a transaction that holds the database meanwhile. Each batch is a run of
/// wrangler, which costs more than the batch's SQL: few batches keep the writing a small
/// part of an import (docs/performance.md, "Import batches").
pub const USERS_PER_BATCH: usize = 5_000;

/// Rows per statement: wrangler and D1 take time for each statement (docs/performance.md,
/// "Rows per statement"), so rows go many to an INSERT, while a statement stays well
/// under D1's 100 KB: a user row is at most about 1.5 KB (a 64-character name and its key
/// as hex, the hash), a role grant about 120 bytes.
pub const USERS_PER_STATEMENT: usize = 50;
pub const GRANTS_PER_STATEMENT: usize = 400;

/// A text from the dump, as SQL.
pub fn text(text: &str) -> String {
    let hex: String = text.bytes().map(|byte| format!("{byte:02X}")).collect();
    format!("CAST(X'{hex}' AS TEXT)")
}

/// A text the importer made (E.164 phones, hashes: no quote, no space), as an SQL string.
fn literal(text: &str) -> String {
    debug_assert!(text.bytes().all(|b| b.is_ascii_graphic() && b != b'\'' && b != b';'));
    format!("'{text}'")
}

fn role_statement(role: &RoleWrite) -> String {
    let (id, name, admin, origin) = (role.id, text(&role.name), role.super_admin as u8, role.origin.as_str());
    match &role.replaces {
        None => format!(
            "INSERT OR IGNORE INTO roles (id, name, super_admin, origin) VALUES ({id}, {name}, {admin}, '{origin}');"
        ),
        Some(old) => format!(
            "UPDATE roles SET name = {name}, super_admin = {admin}, origin = '{origin}' WHERE id = {id} AND name = {}{};",
            text(old),
            match role.only_if_unheld {
                true => format!(" AND NOT EXISTS (SELECT 1 FROM user_roles WHERE role_id = {id})"),
                false => String::new(),
            }
        ),
    }
}

/// What goes first, before any user and before the hashing, in one transaction: the
/// default role is cleared, roles are renamed (a starting role may give up a name that a
/// new one takes), made, and the default set; and the ids of new registrations are moved
/// past the highest imported id (a row with that id, made and deleted: AUTOINCREMENT
/// never hands out an id at or below one it has seen).
///
/// A rename is guarded (the role is still as the plan saw it, held by nobody if it was
/// made here); if a guard stops it, a last statement fails on purpose (a role with no
/// name), so that the whole transaction, default and reservation included, is undone.
pub fn first_statements(plan: &Plan) -> Vec<String> {
    let mut statements = Vec::new();
    if plan.roles.is_empty()
        && plan.reserve_ids_through().is_none()
        && matches!(plan.default_role, DefaultRole::Unchanged(_))
    {
        return statements;
    }
    // A reservation an interrupted import may have left (remotely, where a batch might not
    // be all or nothing).
    statements.push("DELETE FROM users WHERE phone = '+0';".to_string());
    if !matches!(plan.default_role, DefaultRole::Unchanged(_)) {
        statements.push("UPDATE roles SET is_default = 0 WHERE is_default = 1;".to_string());
    }
    let (renames, inserts): (Vec<&RoleWrite>, Vec<&RoleWrite>) =
        plan.roles.iter().partition(|role| role.replaces.is_some());
    statements.extend(renames.into_iter().chain(inserts).map(role_statement));
    for role in &plan.roles {
        statements.push(format!(
            "INSERT INTO roles (id, name) SELECT {id}, NULL WHERE NOT EXISTS (SELECT 1 FROM roles WHERE id = {id} \
             AND name = {} AND super_admin = {} AND origin = '{}');",
            text(&role.name),
            role.super_admin as u8,
            role.origin.as_str(),
            id = role.id,
        ));
    }
    if let DefaultRole::Set(id, name) = &plan.default_role {
        statements.push(format!(
            "UPDATE roles SET is_default = 1 WHERE id = {id} AND name = {} AND super_admin = 0;",
            text(name)
        ));
    }
    if let Some(id) = plan.reserve_ids_through() {
        statements.push(format!(
            "INSERT OR IGNORE INTO users (id, account, phone, password_hash, disabled, created_at) \
             VALUES ({id}, ' ids reserved by make import', '+0', '', 1, 0);"
        ));
        statements.push(format!("DELETE FROM users WHERE id = {id} AND phone = '+0';"));
    }
    statements
}

/// What wrangler says when [`first_statements`] undid itself: a role changed meanwhile.
pub const ROLE_CHANGED_MEANWHILE: &str = "NOT NULL constraint failed: roles.name";

/// Users with their wrapped hashes, and their roles; `now` (Unix seconds) for a user
/// without a `create_time`.
pub fn users_statements(users: &[(&UserWrite, &str)], now: u64) -> Vec<String> {
    let mut statements = Vec::new();
    for chunk in users.chunks(USERS_PER_STATEMENT) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(write, hash)| {
                let user = &write.user;
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    user.id,
                    text(user.account.as_str()),
                    write.account_key.as_deref().map_or("NULL".to_string(), text),
                    literal(user.phone.e164()),
                    literal(hash),
                    user.banned as u8,
                    user.created_at.unwrap_or(now),
                )
            })
            .collect();
        statements.push(format!(
            "INSERT OR IGNORE INTO users (id, account, account_key, phone, password_hash, disabled, created_at) \
             VALUES {};",
            rows.join(", ")
        ));
    }
    let grants: Vec<String> = users
        .iter()
        .flat_map(|(write, hash)| {
            write
                .user
                .role_ids
                .iter()
                .map(move |role| format!("({}, {role}, {})", write.user.id, literal(hash)))
        })
        .collect();
    for chunk in grants.chunks(GRANTS_PER_STATEMENT) {
        statements.push(format!(
            "INSERT OR IGNORE INTO user_roles (user_id, role_id) \
             SELECT grant_.column1, grant_.column2 FROM (VALUES {}) AS grant_ \
             JOIN users u ON u.id = grant_.column1 AND u.password_hash = grant_.column3;",
            chunk.join(", ")
        ));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Account;
    use crate::domain::password::LegacyMd5;
    use crate::domain::phone::Phone;
    use crate::import::dump::Place;
    use crate::import::legacy::LegacyUser;
    use crate::import::plan::Origin;

    #[test]
    fn texts_from_the_dump_are_hex_that_nothing_can_edit() {
        assert_eq!(text("O'B; COMMIT;"), "CAST(X'4F27423B20434F4D4D49543B' AS TEXT)");
        assert_eq!(text("张"), "CAST(X'E5BCA0' AS TEXT)");
    }

    fn plan() -> Plan {
        Plan {
            roles: vec![],
            default_role: DefaultRole::Unchanged(vec![]),
            users: vec![],
            skipped: vec![],
            notices: vec![],
            users_present: 0,
            roles_present: 0,
        }
    }

    /// User `id`, named `Ob`, banned, with roles 2 and 3.
    fn user(id: u64) -> UserWrite {
        UserWrite {
            user: LegacyUser {
                place: Place { source: "u.sql".into(), line: 1, nth: 1 },
                id,
                account: Account::parse("Ob").unwrap(),
                md5: LegacyMd5::of("x"),
                phone: Phone::parse("13911119999").unwrap(),
                banned: true,
                role_ids: vec![2, 3],
                created_at: None,
            },
            account_key: Some("ob".into()),
        }
    }

    #[test]
    fn a_user_and_its_roles_are_written_only_together() {
        let write = user(7);
        let hash = "$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA";
        let statements = users_statements(&[(&write, hash)], 1_700_000_000);
        assert_eq!(statements.len(), 2);
        assert!(statements[0].ends_with("VALUES (7, CAST(X'4F62' AS TEXT), CAST(X'6F62' AS TEXT), '+8613911119999', '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA', 1, 1700000000);"), "{}", statements[0]);
        assert!(statements[1].contains("(VALUES (7, 2, '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA'), (7, 3, '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA')) AS grant_"), "{}", statements[1]);
        assert!(statements[1]
            .ends_with("JOIN users u ON u.id = grant_.column1 AND u.password_hash = grant_.column3;"));
        let many: Vec<(&UserWrite, &str)> = vec![(&write, hash); 250];
        assert_eq!(users_statements(&many, 0).len(), 5 + 2, "50 users and 400 grants a statement");
        assert!(users_statements(&many, 0).iter().all(|statement| statement.len() < 100_000));
    }

    #[test]
    fn the_default_is_cleared_first_renames_go_before_new_roles_and_ids_are_reserved() {
        let plan = Plan {
            roles: vec![
                RoleWrite {
                    id: 5,
                    name: "user".into(),
                    super_admin: false,
                    origin: Origin::Dump,
                    replaces: None,
                    only_if_unheld: false,
                },
                RoleWrite {
                    id: 1,
                    name: "超级管理员".into(),
                    super_admin: true,
                    origin: Origin::Dump,
                    replaces: Some("user".into()),
                    only_if_unheld: true,
                },
            ],
            default_role: DefaultRole::Set(5, "user".into()),
            users: vec![user(300), user(20)],
            ..plan()
        };
        let statements = first_statements(&plan);
        assert_eq!(
            statements,
            [
                "DELETE FROM users WHERE phone = '+0';",
                "UPDATE roles SET is_default = 0 WHERE is_default = 1;",
                "UPDATE roles SET name = CAST(X'E8B685E7BAA7E7AEA1E79086E59198' AS TEXT), super_admin = 1, origin = 'dump' WHERE id = 1 AND name = CAST(X'75736572' AS TEXT) AND NOT EXISTS (SELECT 1 FROM user_roles WHERE role_id = 1);",
                "INSERT OR IGNORE INTO roles (id, name, super_admin, origin) VALUES (5, CAST(X'75736572' AS TEXT), 0, 'dump');",
                "INSERT INTO roles (id, name) SELECT 5, NULL WHERE NOT EXISTS (SELECT 1 FROM roles WHERE id = 5 AND name = CAST(X'75736572' AS TEXT) AND super_admin = 0 AND origin = 'dump');",
                "INSERT INTO roles (id, name) SELECT 1, NULL WHERE NOT EXISTS (SELECT 1 FROM roles WHERE id = 1 AND name = CAST(X'E8B685E7BAA7E7AEA1E79086E59198' AS TEXT) AND super_admin = 1 AND origin = 'dump');",
                "UPDATE roles SET is_default = 1 WHERE id = 5 AND name = CAST(X'75736572' AS TEXT) AND super_admin = 0;",
                "INSERT OR IGNORE INTO users (id, account, phone, password_hash, disabled, created_at) VALUES (300, ' ids reserved by make import', '+0', '', 1, 0);",
                "DELETE FROM users WHERE id = 300 AND phone = '+0';",
            ]
        );
        assert!(first_statements(&super::tests::plan()).is_empty(), "nothing to do, nothing written");
    }
}
