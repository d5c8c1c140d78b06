//! What an import writes, decided before anything is written: against the users and roles
//! D1 already holds, which rows go in, which are skipped and why, which roles are made
//! or filled in, and which role new registrations get. An import that cannot decide the
//! last stops here, with nothing written.

use std::collections::{HashMap, HashSet};

use super::legacy::{Legacy, LegacyRole, LegacyUser, Skipped};
use crate::domain::username::{username_key, UnicodeFacts};

/// The role the original service gives new users, by name.
pub const ORIGINAL_DEFAULT_ROLE: &str = "默认角色";

/// A user D1 already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentUser {
    pub id: u64,
    pub account: String,
    pub account_key: Option<String>,
    pub phone: String,
}

/// A role D1 already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentRole {
    pub id: u64,
    pub name: String,
    pub is_default: bool,
    pub super_admin: bool,
    /// How many users hold it.
    pub holders: u64,
}

/// What D1 holds before the import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Present {
    pub users: Vec<PresentUser>,
    pub roles: Vec<PresentRole>,
}

/// A role to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleWrite {
    pub id: u64,
    pub name: String,
    pub super_admin: bool,
    /// What D1 calls it now, when it has the id: the write then renames it, and only if
    /// it is still called that.
    pub replaces: Option<String>,
}

/// A user to write, with the key its account is unique by (none for a name outside the
/// username profile: such an account logs in by its exact name, as those made before
/// keys do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWrite {
    pub user: LegacyUser,
    pub account_key: Option<String>,
}

/// Something written that the operator should know of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub table: String,
    pub line: u64,
    pub id: String,
    pub name: String,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub roles: Vec<RoleWrite>,
    /// The one role new registrations get, when that changes.
    pub default_role: Option<u64>,
    /// The role new registrations get after the import.
    pub default_role_after: Option<(u64, String)>,
    pub users: Vec<UserWrite>,
    pub skipped: Vec<Skipped>,
    pub notices: Vec<Notice>,
    /// Rows already imported (same id and name): left as they are.
    pub users_present: usize,
    pub roles_present: usize,
}

/// The name of a role that users of the dump hold but the dump does not have.
pub fn placeholder_name(id: u64) -> String {
    format!("role {id} (not in the dump)")
}

/// Decides the import of `legacy` into `present`. `default_role` is the operator's
/// `DEFAULT_ROLE`; without it, the role named [`ORIGINAL_DEFAULT_ROLE`] is the default.
/// `Err` says why the import cannot go on; nothing is to be written then.
pub fn plan(
    legacy: Legacy,
    present: &Present,
    default_role: Option<u64>,
    names: &dyn UnicodeFacts,
) -> Result<Plan, String> {
    let mut plan = Plan { skipped: legacy.skipped, ..Plan::default() };
    // The roles as they will be: id -> (name, super_admin).
    let mut roles: HashMap<u64, (String, bool)> =
        present.roles.iter().map(|role| (role.id, (role.name.clone(), role.super_admin))).collect();
    plan_roles(&legacy.roles, present, &mut roles, &mut plan)?;
    plan_users(legacy.users, present, names, &mut plan);
    // Roles that imported users hold but neither the dump nor D1 has.
    let mut referenced: Vec<u64> =
        plan.users.iter().flat_map(|write| write.user.role_ids.iter().copied()).collect();
    referenced.sort_unstable();
    referenced.dedup();
    for id in referenced {
        if roles.contains_key(&id) {
            continue;
        }
        let name = placeholder_name(id);
        roles.insert(id, (name.clone(), false));
        plan.roles.push(RoleWrite { id, name: name.clone(), super_admin: false, replaces: None });
        plan.notices.push(Notice {
            table: "roles".into(),
            line: 0,
            id: id.to_string(),
            name,
            what: "held by imported users but not in the dump: made as a placeholder".into(),
        });
    }
    let mut by_name: HashMap<&str, u64> = HashMap::new();
    for (id, (name, _)) in &roles {
        if let Some(other) = by_name.insert(name.as_str(), *id) {
            let (a, b) = (other.min(*id), other.max(*id));
            return Err(format!(
                "roles {a} and {b} would both be named {name:?}, and role names are unique here"
            ));
        }
    }
    let chosen = choose_default_role(&legacy.roles, present, &roles, &plan, default_role)?;
    let present_defaults: Vec<u64> = present.roles.iter().filter(|r| r.is_default).map(|r| r.id).collect();
    if let Some(id) = chosen {
        if present_defaults != [id] {
            plan.default_role = Some(id);
        }
    }
    let after = chosen.or_else(|| present_defaults.first().copied());
    plan.default_role_after = after.and_then(|id| roles.get(&id).map(|(name, _)| (id, name.clone())));
    Ok(plan)
}

fn plan_roles(
    dump_roles: &[LegacyRole],
    present: &Present,
    roles: &mut HashMap<u64, (String, bool)>,
    plan: &mut Plan,
) -> Result<(), String> {
    let mut seen: HashMap<u64, u64> = HashMap::new();
    for role in dump_roles {
        if let Some(line) = seen.insert(role.id, role.line) {
            plan.skipped.push(Skipped {
                table: "roles".into(),
                line: role.line,
                id: role.id.to_string(),
                name: role.name.clone(),
                reason: format!("id {} is on line {line} of the dump already", role.id),
            });
            continue;
        }
        let write =
            RoleWrite { id: role.id, name: role.name.clone(), super_admin: role.super_admin, replaces: None };
        match present.roles.iter().find(|present| present.id == role.id) {
            None => plan.roles.push(write),
            Some(here) if here.name == role.name && here.super_admin == role.super_admin => {
                plan.roles_present += 1
            }
            // A placeholder of an earlier import, or a role nobody holds yet (such as the
            // `user` role a new database starts with): it takes the dump's name.
            Some(here)
                if here.name == placeholder_name(here.id) || here.holders == 0 || here.name == role.name =>
            {
                plan.roles.push(RoleWrite { replaces: Some(here.name.clone()), ..write })
            }
            Some(here) => {
                return Err(format!(
                    "role {} is {:?} here, held by {} users, but {:?} in the dump: the import would change \
                     what their role means. Import into a database whose role {} nobody holds",
                    role.id, here.name, here.holders, role.name, role.id
                ))
            }
        }
        roles.insert(role.id, (role.name.clone(), role.super_admin));
    }
    Ok(())
}

fn plan_users(users: Vec<LegacyUser>, present: &Present, names: &dyn UnicodeFacts, plan: &mut Plan) {
    let by_id: HashMap<u64, &PresentUser> = present.users.iter().map(|user| (user.id, user)).collect();
    // What the accounts are unique by here: the key, and (for the accounts without one)
    // the name ignoring ASCII case, as the `account` column's COLLATE NOCASE has it.
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut nocase: HashMap<String, String> = HashMap::new();
    let mut phones: HashMap<String, String> = HashMap::new();
    for user in &present.users {
        let here = "an account here".to_string();
        if let Some(key) = &user.account_key {
            keys.insert(key.clone(), here.clone());
        }
        nocase.insert(user.account.to_ascii_lowercase(), here.clone());
        phones.insert(user.phone.clone(), here);
    }
    let mut ids: HashMap<u64, u64> = HashMap::new();
    let mut without_key = HashSet::new();
    for user in users {
        let skip = |reason: String| Skipped {
            table: "users".into(),
            line: user.line,
            id: user.id.to_string(),
            name: user.account.as_str().to_string(),
            reason,
        };
        if let Some(line) = ids.insert(user.id, user.line) {
            plan.skipped.push(skip(format!("id {} is on line {line} of the dump already", user.id)));
            continue;
        }
        if let Some(here) = by_id.get(&user.id) {
            match here.account == user.account.as_str() {
                true => plan.users_present += 1,
                false => plan.skipped.push(skip(format!("id {} is {:?} here", user.id, here.account))),
            }
            continue;
        }
        let account_key = username_key(user.account.as_str(), names).ok();
        let folded = user.account.as_str().to_ascii_lowercase();
        let taken = account_key.as_ref().and_then(|key| keys.get(key)).or_else(|| nocase.get(&folded));
        if let Some(holder) = taken {
            plan.skipped.push(skip(format!("the account is taken by {holder} (ignoring case and width)")));
            continue;
        }
        if let Some(holder) = phones.get(user.phone.e164()) {
            plan.skipped.push(skip(format!("phone {} is taken by {holder}", user.phone)));
            continue;
        }
        let earlier = format!("the account on line {} of the dump", user.line);
        if let Some(key) = &account_key {
            keys.insert(key.clone(), earlier.clone());
        } else {
            without_key.insert(user.id);
            plan.notices.push(Notice {
                table: "users".into(),
                line: user.line,
                id: user.id.to_string(),
                name: user.account.as_str().to_string(),
                what: "a name outside the username profile: imported without a key, it logs in by its exact name"
                    .into(),
            });
        }
        nocase.insert(folded, earlier.clone());
        phones.insert(user.phone.e164().to_string(), earlier);
        plan.users.push(UserWrite { user, account_key });
    }
}

fn choose_default_role(
    dump_roles: &[LegacyRole],
    present: &Present,
    roles: &HashMap<u64, (String, bool)>,
    plan: &Plan,
    operator_choice: Option<u64>,
) -> Result<Option<u64>, String> {
    if let Some(id) = operator_choice {
        return match roles.get(&id) {
            None => Err(format!("DEFAULT_ROLE={id}: there is no role {id} in the dump or the database")),
            Some((name, true)) => Err(format!(
                "DEFAULT_ROLE={id}: role {id} ({name:?}) is a super administrator's, which new users never get"
            )),
            Some(_) => Ok(Some(id)),
        };
    }
    let mut named: Vec<u64> =
        roles.iter().filter(|(_, (name, _))| name == ORIGINAL_DEFAULT_ROLE).map(|(id, _)| *id).collect();
    named.sort_unstable();
    match named[..] {
        [id] if roles[&id].1 => Err(format!(
            "role {id}, named {ORIGINAL_DEFAULT_ROLE}, is a super administrator's: name the role of new users \
             with DEFAULT_ROLE=<id>"
        )),
        [id] => Ok(Some(id)),
        [] => {
            // No such role: the default stays only if the import leaves it alone: no role
            // of the dump has its id, and no imported user holds it (a user's role 1 is
            // the original service's super administrator).
            let defaults: Vec<&PresentRole> = present.roles.iter().filter(|role| role.is_default).collect();
            let touched = |id: u64| {
                dump_roles.iter().any(|role| role.id == id)
                    || plan.users.iter().any(|write| write.user.role_ids.contains(&id))
            };
            match defaults.iter().find(|role| touched(role.id)) {
                None if !defaults.is_empty() || plan.users.is_empty() => Ok(None),
                _ => Err(format!(
                    "no role is named {ORIGINAL_DEFAULT_ROLE}, so the role of new registrations cannot be decided \
                     (the original service's role ids mean something else than this database's): name it with \
                     DEFAULT_ROLE=<id>{}",
                    match defaults.first() {
                        Some(role) => format!(", or import the roles too; it is now {} ({:?})", role.id, role.name),
                        None => String::new(),
                    }
                )),
            }
        }
        _ => Err(format!(
            "roles {} are all named {ORIGINAL_DEFAULT_ROLE}: name the role of new users with DEFAULT_ROLE=<id>",
            named.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::username::native::NativeUnicode;
    use crate::import::dump::read_sql;

    const MD5: &str = "fcea920f7412b5da7be0cf42b8c93759";

    fn legacy(users: &[(u64, &str, &str, &str)], roles: &[(u64, &str, &str)]) -> Legacy {
        let mut sql = String::new();
        if !users.is_empty() {
            let rows: Vec<String> = users
                .iter()
                .map(|(id, account, phone, role_id)| {
                    format!("({id}, '{account}', '{MD5}', '{phone}', '{role_id}')")
                })
                .collect();
            sql += &format!(
                "INSERT INTO users (id, account, password, phone, role_id) VALUES {};\n",
                rows.join(",\n")
            );
        }
        if !roles.is_empty() {
            let rows: Vec<String> =
                roles.iter().map(|(id, name, admin)| format!("({id}, '{name}', '{admin}')")).collect();
            sql += &format!("INSERT INTO roles (id, role_name, super_admin) VALUES {};\n", rows.join(",\n"));
        }
        Legacy::read(&read_sql(&sql).unwrap()).unwrap()
    }

    /// A new database: the role it starts with, held by nobody.
    fn fresh() -> Present {
        Present {
            users: vec![],
            roles: vec![PresentRole {
                id: 1,
                name: "user".into(),
                is_default: true,
                super_admin: false,
                holders: 0,
            }],
        }
    }

    fn original_roles() -> Vec<(u64, &'static str, &'static str)> {
        vec![(1, "超级管理员", "yes"), (2, "默认角色", "no"), (3, "编辑", "no")]
    }

    fn run(legacy: Legacy, present: &Present, default_role: Option<u64>) -> Result<Plan, String> {
        plan(legacy, present, default_role, &NativeUnicode)
    }

    fn reasons(plan: &Plan) -> Vec<(String, String)> {
        plan.skipped.iter().map(|s| (s.id.clone(), s.reason.clone())).collect()
    }

    #[test]
    fn the_original_roles_replace_the_starting_one_and_its_default_role_becomes_the_default() {
        let users = [(1, "Jerry", "15361158702", "1,3"), (2, "Foo", "13939265073", "2")];
        let plan = run(legacy(&users, &original_roles()), &fresh(), None).unwrap();
        assert_eq!(plan.roles.len(), 3);
        assert_eq!(plan.roles[0].replaces.as_deref(), Some("user"));
        assert!(plan.roles[0].super_admin);
        assert_eq!(plan.default_role, Some(2));
        assert_eq!(plan.default_role_after, Some((2, "默认角色".into())));
        assert_eq!(plan.users.len(), 2);
        assert!(plan.skipped.is_empty() && plan.notices.is_empty());
    }

    #[test]
    fn without_a_role_named_as_the_originals_default_the_import_stops_unless_told() {
        // The original repository's roles.sql: only the super administrator.
        let users = [(1, "Jerry", "15361158702", "1,3,4")];
        let roles = [(1, "超级管理员", "yes")];
        let stop = run(legacy(&users, &roles), &fresh(), None).unwrap_err();
        assert!(stop.contains("DEFAULT_ROLE=<id>"), "{stop}");
        let stop = run(legacy(&users, &roles), &fresh(), Some(1)).unwrap_err();
        assert!(stop.contains("super administrator"), "{stop}");
        assert!(run(legacy(&users, &roles), &fresh(), Some(9)).unwrap_err().contains("no role 9"));
        let plan = run(legacy(&users, &roles), &fresh(), Some(3)).unwrap();
        assert_eq!(plan.default_role, Some(3));
        let placeholders: Vec<&str> = plan.notices.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(placeholders, ["role 3 (not in the dump)", "role 4 (not in the dump)"]);
        // Users alone, holding role 1, which here is the starting default: undecidable.
        assert!(run(legacy(&users, &[]), &fresh(), None).is_err());
        // Users holding no role the database gives new users: the default stays.
        let plan = run(legacy(&[(5, "Solo", "13939265079", "7")], &[]), &fresh(), None).unwrap();
        assert_eq!((plan.default_role, plan.default_role_after), (None, Some((1, "user".into()))));
    }

    #[test]
    fn a_super_administrators_role_named_as_the_default_or_two_defaults_stop_the_import() {
        let admin_default = [(1, "默认角色", "yes")];
        assert!(run(legacy(&[], &admin_default), &fresh(), None)
            .unwrap_err()
            .contains("super administrator"));
        let two = [(2, "默认角色", "no"), (5, "默认角色", "no")];
        assert!(run(legacy(&[], &two), &fresh(), None).unwrap_err().contains("would both be named"));
    }

    #[test]
    fn a_role_that_users_here_hold_is_not_renamed() {
        let mut present = fresh();
        present.roles[0].holders = 3;
        let stop = run(legacy(&[], &original_roles()), &present, None).unwrap_err();
        assert!(stop.contains("role 1 is \"user\" here, held by 3 users"), "{stop}");
    }

    #[test]
    fn accounts_and_phones_taken_here_or_earlier_in_the_dump_are_skipped() {
        let present = Present {
            users: vec![PresentUser {
                id: 100,
                account: "Taken".into(),
                account_key: Some("taken".into()),
                phone: "+8613900000000".into(),
            }],
            ..fresh()
        };
        let users = [
            (1, "TAKEN", "13939265071", "2"),
            (2, "Ｆｏｏ", "13939265072", "2"),
            (3, "foo", "13939265073", "2"),
            (4, "bar", "13900000000", "2"),
            (5, "baz", "13939265072", "2"),
            (2, "again", "13939265076", "2"),
            (100, "Taken", "13900000000", "2"),
            (7, "zero\u{200b}width", "13939265077", "2"),
        ];
        let plan = run(legacy(&users, &original_roles()), &present, None).unwrap();
        assert_eq!(
            reasons(&plan),
            [
                ("1".into(), "the account is taken by an account here (ignoring case and width)".into()),
                (
                    "3".into(),
                    "the account is taken by the account on line 2 of the dump (ignoring case and width)"
                        .into()
                ),
                ("4".into(), "phone +8613900000000 is taken by an account here".into()),
                ("5".into(), "phone +8613939265072 is taken by the account on line 2 of the dump".into()),
                ("2".into(), "id 2 is on line 2 of the dump already".into()),
            ]
        );
        assert_eq!(plan.users_present, 1, "the same id and name: imported before");
        let imported: Vec<(u64, Option<&str>)> =
            plan.users.iter().map(|w| (w.user.id, w.account_key.as_deref())).collect();
        assert_eq!(imported, [(2, Some("foo")), (7, None)]);
        assert!(plan.notices[0].what.contains("without a key"));
    }

    #[test]
    fn importing_what_is_there_already_writes_nothing() {
        let present = Present {
            users: vec![PresentUser {
                id: 1,
                account: "Jerry".into(),
                account_key: Some("jerry".into()),
                phone: "+8615361158702".into(),
            }],
            roles: vec![
                PresentRole {
                    id: 1,
                    name: "超级管理员".into(),
                    is_default: false,
                    super_admin: true,
                    holders: 1,
                },
                PresentRole {
                    id: 2,
                    name: "默认角色".into(),
                    is_default: true,
                    super_admin: false,
                    holders: 0,
                },
                PresentRole {
                    id: 3, name: "编辑".into(), is_default: false, super_admin: false, holders: 1
                },
            ],
        };
        let plan =
            run(legacy(&[(1, "Jerry", "15361158702", "1,3")], &original_roles()), &present, None).unwrap();
        assert!(plan.roles.is_empty() && plan.users.is_empty() && plan.skipped.is_empty());
        assert_eq!((plan.users_present, plan.roles_present, plan.default_role), (1, 3, None));
    }

    #[test]
    fn a_placeholder_is_filled_in_by_a_later_dump_of_the_roles() {
        let mut present = fresh();
        present.roles.push(PresentRole {
            id: 3,
            name: placeholder_name(3),
            is_default: false,
            super_admin: false,
            holders: 4,
        });
        let plan = run(legacy(&[], &original_roles()), &present, None).unwrap();
        let editor = plan.roles.iter().find(|r| r.id == 3).unwrap();
        assert_eq!(
            (editor.name.as_str(), editor.replaces.as_deref()),
            ("编辑", Some("role 3 (not in the dump)"))
        );
    }
}
