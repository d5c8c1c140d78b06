//! A plan as SQL for D1, in batches: each batch is one file that `wrangler d1 execute`
//! runs as one transaction (locally, one D1 batch; remotely, one import).
//!
//! Every statement is guarded, so that a batch run twice, or beside registrations that
//! the running worker takes meanwhile, writes nothing twice and nothing half: a user row
//! goes in only if neither its id, account nor phone is taken (`OR IGNORE`, row by row),
//! and its roles only if that user row is the one this batch wrote (its hash, with a salt
//! of its own, says so).

use super::plan::{Plan, RoleWrite, UserWrite};

/// Users per batch: D1 takes statements up to 100 KB each (ours are under 1 KB) and files
/// of any size, but a batch is a transaction that holds the database meanwhile. 2,000
/// users (about 1 MB of SQL) take a second or two locally, and few batches keep
/// wrangler's start-up (about a second each) a small part of an import.
pub const USERS_PER_BATCH: usize = 2_000;

/// A text as an SQLite string literal (SQLite has no backslash escapes: only `'` doubles).
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn role_statement(role: &RoleWrite) -> String {
    let (id, name, admin) = (role.id, quote(&role.name), role.super_admin as u8);
    match &role.replaces {
        None => {
            format!("INSERT OR IGNORE INTO roles (id, name, super_admin) VALUES ({id}, {name}, {admin});")
        }
        Some(old) => format!(
            "UPDATE roles SET name = {name}, super_admin = {admin} WHERE id = {id} AND name = {};",
            quote(old)
        ),
    }
}

/// The roles' statements, written before any user's: renames first (a starting role may give
/// up a name that a new one takes), then new roles, then the default role.
pub fn roles_statements(plan: &Plan) -> Vec<String> {
    let (renames, inserts): (Vec<&RoleWrite>, Vec<&RoleWrite>) =
        plan.roles.iter().partition(|role| role.replaces.is_some());
    let mut statements: Vec<String> = renames.into_iter().chain(inserts).map(role_statement).collect();
    if let Some(id) = plan.default_role {
        statements.push(format!("UPDATE roles SET is_default = (id = {id} AND super_admin = 0);"));
    }
    statements
}

/// Rows per statement: wrangler and D1 cost about 1.5 ms a statement locally, so the
/// rows go many to an INSERT, while a statement stays under D1's 100 KB (a row is at most
/// about 700 bytes).
pub const ROWS_PER_STATEMENT: usize = 100;

/// Users with their wrapped hashes, and their roles; `now` (Unix seconds) for a user
/// without a `create_time`.
pub fn users_statements(users: &[(&UserWrite, &str)], now: u64) -> Vec<String> {
    let mut statements = Vec::new();
    for chunk in users.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(write, hash)| {
                let user = &write.user;
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    user.id,
                    quote(user.account.as_str()),
                    write.account_key.as_deref().map_or("NULL".to_string(), quote),
                    quote(user.phone.e164()),
                    quote(hash),
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
        let grants: Vec<String> = chunk
            .iter()
            .flat_map(|(write, hash)| {
                write
                    .user
                    .role_ids
                    .iter()
                    .map(move |role| format!("({}, {role}, {})", write.user.id, quote(hash)))
            })
            .collect();
        if !grants.is_empty() {
            statements.push(format!(
                "INSERT OR IGNORE INTO user_roles (user_id, role_id) \
                 SELECT grant_.column1, grant_.column2 FROM (VALUES {}) AS grant_ \
                 JOIN users u ON u.id = grant_.column1 AND u.password_hash = grant_.column3;",
                grants.join(", ")
            ));
        }
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Account;
    use crate::domain::password::LegacyMd5;
    use crate::domain::phone::Phone;
    use crate::import::legacy::LegacyUser;

    #[test]
    fn texts_are_quoted_as_sqlite_reads_them() {
        assert_eq!(quote("O'Brien; --"), "'O''Brien; --'");
        assert_eq!(quote("back\\slash"), "'back\\slash'");
    }

    #[test]
    fn a_user_and_its_roles_are_written_only_together() {
        let write = UserWrite {
            user: LegacyUser {
                line: 1,
                id: 7,
                account: Account::parse("O'Brien").unwrap(),
                md5: LegacyMd5::of("x"),
                phone: Phone::parse("13911119999").unwrap(),
                banned: true,
                role_ids: vec![2, 3],
                created_at: None,
            },
            account_key: Some("o'brien".into()),
        };
        let hash = "$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA";
        let statements = users_statements(&[(&write, hash)], 1_700_000_000);
        assert_eq!(statements.len(), 2);
        assert!(statements[0].ends_with("VALUES (7, 'O''Brien', 'o''brien', '+8613911119999', '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA', 1, 1700000000);"), "{}", statements[0]);
        assert!(statements[1].contains("(VALUES (7, 2, '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA'), (7, 3, '$pbkdf2-sha256-md5$i=1$c2FsdA$aGFzaA')) AS grant_"), "{}", statements[1]);
        assert!(
            statements[1]
                .ends_with("JOIN users u ON u.id = grant_.column1 AND u.password_hash = grant_.column3;"),
            "{}",
            statements[1]
        );
        let many: Vec<(&UserWrite, &str)> = vec![(&write, hash); 250];
        assert_eq!(users_statements(&many, 0).len(), 6, "100 rows a statement");
    }

    #[test]
    fn renames_go_before_new_roles_and_the_default_last() {
        let plan = Plan {
            roles: vec![
                RoleWrite { id: 5, name: "user".into(), super_admin: false, replaces: None },
                RoleWrite {
                    id: 1,
                    name: "超级管理员".into(),
                    super_admin: true,
                    replaces: Some("user".into()),
                },
            ],
            default_role: Some(5),
            ..Plan::default()
        };
        assert_eq!(
            roles_statements(&plan),
            [
                "UPDATE roles SET name = '超级管理员', super_admin = 1 WHERE id = 1 AND name = 'user';",
                "INSERT OR IGNORE INTO roles (id, name, super_admin) VALUES (5, 'user', 0);",
                "UPDATE roles SET is_default = (id = 5 AND super_admin = 0);",
            ]
        );
    }
}
