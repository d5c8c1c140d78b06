//! The original service's users and roles, from the rows of its tables: each row becomes
//! one, or a [`Skipped`] that says why not.

use chrono::{FixedOffset, NaiveDateTime, TimeZone};

use super::dump::{Cell, DumpError, Place, Row, Rows, Table};
use crate::domain::account::{Account, AccountError};
use crate::domain::password::LegacyMd5;
use crate::domain::phone::Phone;

/// A user of the original service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUser {
    /// Where it is in the files (`users.sql:12`).
    pub place: Place,
    pub id: u64,
    pub account: Account,
    pub md5: LegacyMd5,
    pub phone: Phone,
    /// `status = 'ban'`.
    pub banned: bool,
    /// `role_id`, a comma list there.
    pub role_ids: Vec<u64>,
    /// `create_time` (the service's local time, UTC+08:00) as Unix seconds; `None` when
    /// the dump has none.
    pub created_at: Option<u64>,
}

/// A role of the original service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyRole {
    pub place: Place,
    pub id: u64,
    pub name: String,
    pub super_admin: bool,
}

/// A row left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `users` or `roles`.
    pub table: String,
    pub place: Place,
    /// The row's id and name (account or role name) as the dump has them, when it has.
    pub id: String,
    pub name: String,
    pub reason: String,
}

/// Something imported that the operator should know of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub table: String,
    /// `None` for what no row says (a placeholder role).
    pub place: Option<Place>,
    pub id: String,
    pub name: String,
    pub what: String,
}

/// The rows of a dump's `users` and `roles` tables, read.
#[derive(Debug, Default)]
pub struct Legacy {
    pub users: Vec<LegacyUser>,
    pub roles: Vec<LegacyRole>,
    pub skipped: Vec<Skipped>,
    pub notices: Vec<Notice>,
}

/// The original service's clock: `create_time` is local time there.
const ORIGINAL_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

fn text<'a>(table: &Table, row: &'a Row, column: &str) -> Option<&'a str> {
    match table.cell(row, column) {
        Some(Cell::Text(text)) => Some(text.as_str()),
        _ => None,
    }
}

fn positive_id(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok().filter(|&id| id > 0 && id < (1 << 53))
}

/// `2023-12-04 01:40:33` (fractions of a second and a `T` allowed) at UTC+08:00, as Unix
/// seconds.
pub fn created_at(text: &str) -> Option<u64> {
    let text = text.trim().replacen('T', " ", 1);
    let local = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    let offset = FixedOffset::east_opt(ORIGINAL_UTC_OFFSET_SECONDS)?;
    let seconds = offset.from_local_datetime(&local).single()?.timestamp();
    u64::try_from(seconds).ok()
}

/// `1,3,4` (spaces and empty entries aside) as role ids.
fn role_ids(text: &str) -> Option<Vec<u64>> {
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let id = positive_id(part)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Some(ids)
}

fn require_columns(table: &Table, columns: &[&str]) -> Result<(), DumpError> {
    let missing: Vec<&str> =
        columns.iter().copied().filter(|c| !table.columns.iter().any(|have| have == c)).collect();
    match missing.is_empty() {
        true => Ok(()),
        false => Err(DumpError(format!("the {} table has no column {}", table.name, missing.join(", ")))),
    }
}

/// The columns a user or a role is made from: a value there that is no UTF-8 keeps the
/// row out (any other column may hold what it likes).
const USER_COLUMNS: [&str; 7] = ["id", "account", "password", "phone", "status", "role_id", "create_time"];
const ROLE_COLUMNS: [&str; 3] = ["id", "role_name", "super_admin"];

/// Why a row is not read, if one of its `columns` is no UTF-8. Never quotes the value.
fn not_utf8(table: &Table, row: &Row, columns: &[&str]) -> Result<(), String> {
    match columns.iter().find(|column| matches!(table.cell(row, column), Some(Cell::NotUtf8(_)))) {
        Some(column) => {
            Err(format!("{column} is not UTF-8 text (was the file saved in another encoding, such as GBK?)"))
        }
        None => Ok(()),
    }
}

/// A dump's `users` and `roles` rows become users and roles (or skipped rows) as they are
/// read; other tables are not the import's.
impl Rows for Legacy {
    fn table(&mut self, table: &Table) -> Result<(), DumpError> {
        match table.name.as_str() {
            "users" => require_columns(table, &["id", "account", "password", "phone"]),
            "roles" => require_columns(table, &["id", "role_name"]),
            _ => Ok(()),
        }
    }

    fn row(&mut self, table: &Table, row: Row) {
        match table.name.as_str() {
            "users" => match legacy_user(table, &row) {
                Ok(user) => {
                    let time = text(table, &row, "create_time").map(str::trim).unwrap_or_default();
                    let zero = time.is_empty() || time.starts_with("0000-00-00");
                    if user.created_at.is_none() && !zero {
                        self.notices.push(Notice {
                            table: table.name.clone(),
                            place: Some(user.place.clone()),
                            id: user.id.to_string(),
                            name: user.account.as_str().to_string(),
                            what: format!("create_time {time:?} is no time: created_at is the import's"),
                        });
                    }
                    self.users.push(user)
                }
                Err(reason) => self.skipped.push(skipped(table, &row, "account", reason)),
            },
            "roles" => match legacy_role(table, &row) {
                Ok(role) => self.roles.push(role),
                Err(reason) => self.skipped.push(skipped(table, &row, "role_name", reason)),
            },
            _ => {}
        }
    }
}

/// A row left out; its id and name as the dump has them (with U+FFFD where that is no
/// UTF-8), for the operator to find it.
fn skipped(table: &Table, row: &Row, name_column: &str, reason: String) -> Skipped {
    let shown = |column| match table.cell(row, column) {
        Some(Cell::Text(text) | Cell::NotUtf8(text)) => text.clone(),
        _ => String::new(),
    };
    Skipped {
        table: table.name.clone(),
        place: table.place(row),
        id: shown("id"),
        name: shown(name_column),
        reason,
    }
}

fn legacy_user(table: &Table, row: &Row) -> Result<LegacyUser, String> {
    not_utf8(table, row, &USER_COLUMNS)?;
    let id_text = text(table, row, "id").unwrap_or_default();
    let id = positive_id(id_text).ok_or_else(|| format!("id {id_text:?} is not a positive whole number"))?;
    let account =
        Account::parse(text(table, row, "account").unwrap_or_default()).map_err(|error| match error {
            AccountError::Empty => "the account is empty".to_string(),
            AccountError::TooLong => "the account is longer than 64 characters".to_string(),
            AccountError::ControlCharacter => "the account has a control character".to_string(),
        })?;
    let md5 = LegacyMd5::parse(text(table, row, "password").unwrap_or_default())
        .ok_or("the password is not an md5 (32 hex digits)")?;
    let phone_text = text(table, row, "phone").unwrap_or_default();
    let phone =
        Phone::parse(phone_text).ok_or_else(|| format!("phone {phone_text:?} is not a valid number"))?;
    // MySQL keeps an enum value it could not take as '', which the original reads as not
    // banned.
    let banned = match text(table, row, "status").map(str::trim) {
        None | Some("active") | Some("") => false,
        Some("ban") => true,
        Some(other) => return Err(format!("status {other:?} is neither ban nor active")),
    };
    let roles_text = text(table, row, "role_id").unwrap_or_default();
    let role_ids =
        role_ids(roles_text).ok_or_else(|| format!("role_id {roles_text:?} is not a list of role ids"))?;
    let created_at = text(table, row, "create_time").and_then(created_at);
    Ok(LegacyUser { place: table.place(row), id, account, md5, phone, banned, role_ids, created_at })
}

fn legacy_role(table: &Table, row: &Row) -> Result<LegacyRole, String> {
    not_utf8(table, row, &ROLE_COLUMNS)?;
    let id_text = text(table, row, "id").unwrap_or_default();
    let id = positive_id(id_text).ok_or_else(|| format!("id {id_text:?} is not a positive whole number"))?;
    let name = text(table, row, "role_name").unwrap_or_default().trim().to_string();
    if name.is_empty() || name.contains('\0') {
        return Err("the role has no name".into());
    }
    let super_admin = match text(table, row, "super_admin").map(str::trim) {
        None | Some("no") => false,
        Some("yes") => true,
        Some(other) => return Err(format!("super_admin {other:?} is neither yes nor no")),
    };
    Ok(LegacyRole { place: table.place(row), id, name, super_admin })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::dump::{read_csv, read_sql};

    fn from_sql(text: &str) -> Result<Legacy, DumpError> {
        let mut legacy = Legacy::default();
        read_sql("dump.sql", text.as_bytes(), &mut legacy).map(|()| legacy)
    }

    fn from_csv(text: &str) -> Legacy {
        let mut legacy = Legacy::default();
        read_csv("users.csv", text.as_bytes(), &mut legacy).unwrap();
        legacy
    }

    #[test]
    fn the_original_rows_become_users_with_e164_phones_roles_and_utc_times() {
        let legacy = from_sql(
            "INSERT INTO users (id, account, password, phone, status, role_id, create_time) VALUES \
             (1, ' Jerry ', '0B2952B0D93576DD24B49DCB66A9C7D8', '15361158702', 'active', '1, 3,,4,3', '2023-12-04 01:40:33'), \
             (2, 'Foo', 'fcea920f7412b5da7be0cf42b8c93759', '+8613939265073', 'ban', '', NULL), \
             (3, 'Bar', 'fcea920f7412b5da7be0cf42b8c93759', '+14155550123', NULL, '', '0000-00-00 00:00:00');",
        )
        .unwrap();
        assert!(legacy.skipped.is_empty(), "{:?}", legacy.skipped);
        let [jerry, foo, bar] = &legacy.users[..] else { panic!("{:?}", legacy.users) };
        assert_eq!((jerry.id, jerry.account.as_str(), jerry.phone.e164()), (1, "Jerry", "+8615361158702"));
        assert_eq!(jerry.md5.as_str(), "0b2952b0d93576dd24b49dcb66a9c7d8");
        assert_eq!(jerry.role_ids, [1, 3, 4]);
        // 2023-12-04 01:40:33 at +08:00 is 2023-12-03 17:40:33 UTC.
        assert_eq!(jerry.created_at, Some(1_701_625_233));
        assert!(!jerry.banned && foo.banned && !bar.banned);
        assert_eq!((foo.created_at, bar.created_at), (None, None));
        assert!(legacy.notices.is_empty(), "NULL and the zero date are no time, and no surprise");
        assert_eq!(created_at("2023-12-04T01:40:33.250"), Some(1_701_625_233));
        assert_eq!(created_at("04/12/2023"), None);
        assert_eq!(bar.phone.e164(), "+14155550123");
    }

    #[test]
    fn rows_that_cannot_be_users_are_skipped_with_their_reasons() {
        let csv = "id,account,password,phone,status,role_id\n\
                   x,a1,fcea920f7412b5da7be0cf42b8c93759,13939265073,active,\n\
                   2,,fcea920f7412b5da7be0cf42b8c93759,13939265073,active,\n\
                   3,a3,secret,13939265073,active,\n\
                   4,a4,fcea920f7412b5da7be0cf42b8c93759,12345,active,\n\
                   5,a5,fcea920f7412b5da7be0cf42b8c93759,13939265073,gone,\n\
                   6,a6,fcea920f7412b5da7be0cf42b8c93759,13939265073,active,\"1,admin\"\n\
                   7,a7,fcea920f7412b5da7be0cf42b8c93759,+86013368822062,active,\n";
        let legacy = from_csv(csv);
        assert!(legacy.users.is_empty());
        let reasons: Vec<(&str, &str)> =
            legacy.skipped.iter().map(|s| (s.id.as_str(), s.reason.as_str())).collect();
        assert_eq!(
            reasons,
            [
                ("x", "id \"x\" is not a positive whole number"),
                ("2", "the account is empty"),
                ("3", "the password is not an md5 (32 hex digits)"),
                ("4", "phone \"12345\" is not a valid number"),
                ("5", "status \"gone\" is neither ban nor active"),
                ("6", "role_id \"1,admin\" is not a list of role ids"),
                ("7", "phone \"+86013368822062\" is not a valid number"),
            ]
        );
        assert_eq!(legacy.skipped[2].name, "a3");
        assert_eq!(legacy.skipped[2].place.to_string(), "users.csv:4");
    }

    #[test]
    fn a_user_or_role_whose_text_is_no_utf8_is_skipped_and_said_so() {
        let mut dump = b"INSERT INTO users (id, account, password, phone) VALUES \
            (1, 'Jerry', 'fcea920f7412b5da7be0cf42b8c93759', '13939265071'), (2, '"
            .to_vec();
        dump.extend(b"\xd5\xc5\xc8\xfd', 'fcea920f7412b5da7be0cf42b8c93759', '13939265072');\n");
        dump.extend(b"INSERT INTO roles (id, role_name) VALUES (3, '\xb1\xe0\xbc\xad');");
        let mut legacy = Legacy::default();
        read_sql("dump.sql", &dump[..], &mut legacy).unwrap();
        assert_eq!(legacy.users.len(), 1);
        let skipped: Vec<(&str, &str, &str)> =
            legacy.skipped.iter().map(|s| (s.id.as_str(), s.name.as_str(), s.reason.as_str())).collect();
        let reason = |column| {
            format!("{column} is not UTF-8 text (was the file saved in another encoding, such as GBK?)")
        };
        assert_eq!(
            skipped,
            [
                ("2", "\u{fffd}\u{fffd}\u{fffd}\u{fffd}", reason("account").as_str()),
                ("3", "\u{fffd}\u{f2d}", reason("role_name").as_str())
            ]
        );
        // Only the columns the import reads count.
        let csv =
            b"id,account,password,phone,jwt_token\n4,Tom,fcea920f7412b5da7be0cf42b8c93759,13939265074,\xff\n";
        let mut legacy = Legacy::default();
        read_csv("users.csv", &csv[..], &mut legacy).unwrap();
        assert_eq!((legacy.users.len(), legacy.skipped.len()), (1, 0));
    }

    #[test]
    fn roles_keep_their_ids_names_and_super_admin_mark() {
        let legacy = from_sql(
            "INSERT INTO `roles` VALUES (1,'超级管理员','yes','','','active',NULL,NULL),(2,' 默认角色 ','no','','','active',NULL,NULL),(3,'','no','','','active',NULL,NULL);",
        )
        .unwrap();
        assert_eq!(legacy.roles.len(), 2);
        assert!(legacy.roles[0].super_admin && !legacy.roles[1].super_admin);
        assert_eq!(legacy.roles[1].name, "默认角色");
        assert_eq!(legacy.skipped[0].reason, "the role has no name");
    }

    #[test]
    fn a_table_without_the_needed_columns_is_an_error() {
        let error = from_sql("INSERT INTO users (id, account) VALUES (1, 'a');").unwrap_err();
        assert_eq!(error.0, "the users table has no column password, phone");
    }
}
