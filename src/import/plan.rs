//! What an import writes, decided before anything is written: against the users and roles
//! D1 already holds, which rows go in, which are skipped and why, which roles are made
//! or filled in, and which role new registrations get. An import that cannot decide the
//! last stops here, with nothing written.
//!
//! A role id means what the original service's roles table says it means. Each role here
//! records where it comes from ([`Origin`]), so that a later import (the users after the
//! roles, or a second export) knows which ids are described, which are placeholders, and
//! which were made here and mean something else.

use std::collections::HashMap;

use super::dump::Place;
use super::legacy::{Legacy, LegacyRole, LegacyUser, Notice, Skipped};
use crate::domain::username::{username_key, UnicodeFacts};

/// The role the original service gives new users, by name.
pub const ORIGINAL_DEFAULT_ROLE: &str = "默认角色";

/// Where a role comes from (`roles.origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Made in this database, such as the role 1 (`user`) a new one starts with.
    Here,
    /// A role of the original service, as its roles table describes it.
    Dump,
    /// A role id the original's users hold that no dump has described yet.
    Placeholder,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Here => "here",
            Origin::Dump => "dump",
            Origin::Placeholder => "placeholder",
        }
    }

    pub fn parse(text: &str) -> Origin {
        match text {
            "dump" => Origin::Dump,
            "placeholder" => Origin::Placeholder,
            _ => Origin::Here,
        }
    }
}

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
    pub origin: Origin,
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
    pub origin: Origin,
    /// What D1 calls the role now, when it has the id: the write renames it, only if it
    /// is still called that.
    pub replaces: Option<String>,
    /// The rename also needs the role to be held by nobody, as the plan saw it (a role
    /// made here takes the original's meaning only while no user of this database has it).
    pub only_if_unheld: bool,
}

/// A user to write, with the key its account is unique by (none for a name outside the
/// username profile: such an account logs in by its exact name, as those made before
/// keys do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWrite {
    pub user: LegacyUser,
    pub account_key: Option<String>,
}

/// The role of new registrations after the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultRole {
    /// As it is: these roles (none, or those an operator set here).
    Unchanged(Vec<(u64, String)>),
    /// This role alone.
    Set(u64, String),
    /// No role (`DEFAULT_ROLE=none`).
    Nothing,
}

#[derive(Debug)]
pub struct Plan {
    pub roles: Vec<RoleWrite>,
    pub default_role: DefaultRole,
    pub users: Vec<UserWrite>,
    pub skipped: Vec<Skipped>,
    pub notices: Vec<Notice>,
    /// Rows already imported (same id and name): left as they are.
    pub users_present: usize,
    pub roles_present: usize,
}

impl Plan {
    /// The highest id imported: new registrations' ids are to come after it, so that none
    /// takes an id of the original service meanwhile.
    pub fn reserve_ids_through(&self) -> Option<u64> {
        self.users.iter().map(|write| write.user.id).max()
    }
}

/// The operator's choice of the role of new registrations (`DEFAULT_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultRoleChoice {
    Role(u64),
    /// `none`: new registrations get no role.
    Nothing,
}

/// The name of a role that users of the dump hold but no dump describes.
pub fn placeholder_name(id: u64) -> String {
    format!("role {id} (not in the dump)")
}

/// A role as it will be after the import.
#[derive(Debug, Clone)]
struct FinalRole {
    name: String,
    super_admin: bool,
    origin: Origin,
}

/// Decides the import of `legacy` into `present`. `choice` is the operator's
/// `DEFAULT_ROLE`; without it, the role named [`ORIGINAL_DEFAULT_ROLE`] is the default.
/// `Err` says why the import cannot go on; nothing is to be written then.
pub fn plan(
    legacy: Legacy,
    present: &Present,
    choice: Option<DefaultRoleChoice>,
    names: &dyn UnicodeFacts,
) -> Result<Plan, String> {
    let mut plan = Plan {
        roles: Vec::new(),
        default_role: DefaultRole::Nothing,
        users: Vec::new(),
        skipped: legacy.skipped,
        notices: legacy.notices,
        users_present: 0,
        roles_present: 0,
    };
    let mut roles: HashMap<u64, FinalRole> = present
        .roles
        .iter()
        .map(|role| {
            (
                role.id,
                FinalRole { name: role.name.clone(), super_admin: role.super_admin, origin: role.origin },
            )
        })
        .collect();
    let described = plan_described_roles(&legacy.roles, present, &mut roles, &mut plan)?;
    plan_users(legacy.users, present, names, &mut plan);
    plan_placeholders(present, &described, &mut roles, &mut plan)?;
    let mut by_name: HashMap<&str, u64> = HashMap::new();
    for (id, role) in &roles {
        if let Some(other) = by_name.insert(role.name.as_str(), *id) {
            let (a, b) = (other.min(*id), other.max(*id));
            return Err(format!(
                "roles {a} and {b} would both be named {:?}, and role names are unique here",
                role.name
            ));
        }
    }
    plan.default_role = match choose_default_role(present, &roles, choice)? {
        // Already the one default: nothing to write.
        DefaultRole::Set(id, name)
            if present.roles.iter().filter(|r| r.is_default).map(|r| r.id).eq([id]) =>
        {
            DefaultRole::Unchanged(vec![(id, name)])
        }
        other => other,
    };
    Ok(plan)
}

/// The roles the dump's roles table describes; returns their ids.
fn plan_described_roles(
    dump_roles: &[LegacyRole],
    present: &Present,
    roles: &mut HashMap<u64, FinalRole>,
    plan: &mut Plan,
) -> Result<Vec<u64>, String> {
    let mut seen: HashMap<u64, Place> = HashMap::new();
    for role in dump_roles {
        if let Some(place) = seen.get(&role.id) {
            plan.skipped.push(Skipped {
                table: "roles".into(),
                place: role.place.clone(),
                id: role.id.to_string(),
                name: role.name.clone(),
                reason: format!("id {} is at {place} already", role.id),
            });
            continue;
        }
        seen.insert(role.id, role.place.clone());
        let write = RoleWrite {
            id: role.id,
            name: role.name.clone(),
            super_admin: role.super_admin,
            origin: Origin::Dump,
            replaces: None,
            only_if_unheld: false,
        };
        match present.roles.iter().find(|here| here.id == role.id) {
            None => plan.roles.push(write),
            Some(here) if here.origin == Origin::Dump && here.name == role.name && here.super_admin == role.super_admin => {
                plan.roles_present += 1
            }
            // Filled in: its holders are the original's users, who held this very role.
            // A default role is never a placeholder (see `choose_default_role`), so no
            // super administrator's role becomes one this way.
            Some(here) if here.origin == Origin::Placeholder => {
                plan.roles.push(RoleWrite { replaces: Some(here.name.clone()), ..write })
            }
            Some(here) if here.holders == 0 => {
                plan.roles.push(RoleWrite { replaces: Some(here.name.clone()), only_if_unheld: true, ..write })
            }
            Some(here) => {
                return Err(format!(
                    "role {} is {:?} here, held by {} users{}, but {:?}{} in the dump: importing it would change \
                     what the role means to them",
                    role.id,
                    here.name,
                    here.holders,
                    if here.is_default { " and given to new ones" } else { "" },
                    role.name,
                    if role.super_admin { ", a super administrator's," } else { "" },
                ))
            }
        }
        roles.insert(
            role.id,
            FinalRole { name: role.name.clone(), super_admin: role.super_admin, origin: Origin::Dump },
        );
    }
    Ok(seen.into_keys().collect())
}

/// Roles that imported users hold and no dump describes: placeholders, made or taken over.
fn plan_placeholders(
    present: &Present,
    described: &[u64],
    roles: &mut HashMap<u64, FinalRole>,
    plan: &mut Plan,
) -> Result<(), String> {
    let mut held: Vec<u64> =
        plan.users.iter().flat_map(|write| write.user.role_ids.iter().copied()).collect();
    held.sort_unstable();
    held.dedup();
    for id in held.into_iter().filter(|id| !described.contains(id)) {
        let name = placeholder_name(id);
        let placeholder = RoleWrite {
            id,
            name: name.clone(),
            super_admin: false,
            origin: Origin::Placeholder,
            replaces: None,
            only_if_unheld: false,
        };
        match present.roles.iter().find(|here| here.id == id) {
            None => plan.roles.push(placeholder),
            Some(here) if here.origin != Origin::Here => continue,
            // A role made here with an id the original's users hold means something else
            // to them: it becomes their placeholder while nobody here holds it.
            Some(here) if here.holders == 0 => plan.roles.push(RoleWrite {
                replaces: Some(here.name.clone()),
                only_if_unheld: true,
                ..placeholder
            }),
            Some(here) => {
                return Err(format!(
                    "the dump's users hold role {id}, which here is {:?}, held by {} users: import the original's \
                     roles table too, so that role {id} is known",
                    here.name, here.holders
                ))
            }
        }
        roles.insert(id, FinalRole { name: name.clone(), super_admin: false, origin: Origin::Placeholder });
        plan.notices.push(Notice {
            table: "roles".into(),
            place: None,
            id: id.to_string(),
            name,
            what: "held by imported users but described by no dump: a placeholder, which an import of the roles \
                   fills in"
                .into(),
        });
    }
    Ok(())
}

fn plan_users(users: Vec<LegacyUser>, present: &Present, names: &dyn UnicodeFacts, plan: &mut Plan) {
    let by_id: HashMap<u64, &PresentUser> = present.users.iter().map(|user| (user.id, user)).collect();
    // What the accounts are unique by here: the key, and (for the accounts without one)
    // the name ignoring ASCII case, as the `account` column's COLLATE NOCASE has it. Each
    // holder is an account here (`None`) or the place of an earlier one in the dump.
    let mut keys: HashMap<String, Option<Place>> = HashMap::new();
    let mut nocase: HashMap<String, Option<Place>> = HashMap::new();
    let mut phones: HashMap<String, Option<Place>> = HashMap::new();
    for user in &present.users {
        if let Some(key) = &user.account_key {
            keys.insert(key.clone(), None);
        }
        nocase.insert(user.account.to_ascii_lowercase(), None);
        phones.insert(user.phone.clone(), None);
    }
    let holder = |place: &Option<Place>| match place {
        None => "an account here".to_string(),
        Some(place) => format!("the account at {place}"),
    };
    let mut ids: HashMap<u64, Place> = HashMap::new();
    for user in users {
        let skip = |reason: String| Skipped {
            table: "users".into(),
            place: user.place.clone(),
            id: user.id.to_string(),
            name: user.account.as_str().to_string(),
            reason,
        };
        if let Some(place) = ids.get(&user.id) {
            plan.skipped.push(skip(format!("id {} is at {place} already", user.id)));
            continue;
        }
        ids.insert(user.id, user.place.clone());
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
        if let Some(place) = taken {
            plan.skipped
                .push(skip(format!("the account is taken by {} (ignoring case and width)", holder(place))));
            continue;
        }
        if let Some(place) = phones.get(user.phone.e164()) {
            plan.skipped.push(skip(format!("phone {} is taken by {}", user.phone, holder(place))));
            continue;
        }
        let earlier = Some(user.place.clone());
        match &account_key {
            Some(key) => {
                keys.insert(key.clone(), earlier.clone());
            }
            None => plan.notices.push(Notice {
                table: "users".into(),
                place: earlier.clone(),
                id: user.id.to_string(),
                name: user.account.as_str().to_string(),
                what: "a name outside the username profile: imported without a key, it logs in by its exact name"
                    .into(),
            }),
        }
        nocase.insert(folded, earlier.clone());
        phones.insert(user.phone.e164().to_string(), earlier);
        plan.users.push(UserWrite { user, account_key });
    }
}

/// The role of new registrations: the operator's choice, or the role named as the
/// original's default, or the present default if the import leaves it alone. Never a
/// super administrator's, and never a role whose meaning no dump has given.
fn choose_default_role(
    present: &Present,
    roles: &HashMap<u64, FinalRole>,
    choice: Option<DefaultRoleChoice>,
) -> Result<DefaultRole, String> {
    let chosen = |id: u64, how: &str| -> Result<DefaultRole, String> {
        let role = roles
            .get(&id)
            .ok_or_else(|| format!("{how}: there is no role {id} in the dump or the database"))?;
        if role.super_admin {
            return Err(format!(
                "{how}: role {id} ({:?}) is a super administrator's, which new users never get",
                role.name
            ));
        }
        if role.origin == Origin::Placeholder {
            return Err(format!(
                "{how}: role {id} is described by no dump, so what it means to the original service is unknown: \
                 import its roles table too, or choose DEFAULT_ROLE=none"
            ));
        }
        Ok(DefaultRole::Set(id, role.name.clone()))
    };
    match choice {
        Some(DefaultRoleChoice::Role(id)) => return chosen(id, &format!("DEFAULT_ROLE={id}")),
        Some(DefaultRoleChoice::Nothing) => return Ok(DefaultRole::Nothing),
        None => {}
    }
    let mut named: Vec<u64> = roles
        .iter()
        .filter(|(_, role)| role.name == ORIGINAL_DEFAULT_ROLE && role.origin == Origin::Dump)
        .map(|(id, _)| *id)
        .collect();
    named.sort_unstable();
    match named[..] {
        [id] => return chosen(id, &format!("the role named {ORIGINAL_DEFAULT_ROLE}")),
        [] => {}
        _ => unreachable!("role names are unique"),
    }
    // No such role: the present default stays if the import leaves it as it is.
    let defaults: Vec<&PresentRole> = present.roles.iter().filter(|role| role.is_default).collect();
    let unchanged = defaults.iter().all(|here| {
        roles.get(&here.id).is_some_and(|after| {
            after.name == here.name
                && after.origin == here.origin
                && !after.super_admin
                && after.origin != Origin::Placeholder
        })
    });
    match unchanged {
        true => Ok(DefaultRole::Unchanged(defaults.iter().map(|role| (role.id, role.name.clone())).collect())),
        false => Err(format!(
            "no role of the dump is named {ORIGINAL_DEFAULT_ROLE}, and the import takes over role {}, which new \
             registrations get now: name their role with DEFAULT_ROLE=<id of a role in the dump>, or DEFAULT_ROLE=none",
            defaults.iter().map(|role| role.id.to_string()).collect::<Vec<_>>().join(", ")
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
        let mut legacy = Legacy::default();
        read_sql("dump.sql", sql.as_bytes(), &mut legacy).unwrap();
        legacy
    }

    fn role(id: u64, name: &str, origin: Origin, holders: u64) -> PresentRole {
        PresentRole { id, name: name.into(), is_default: false, super_admin: false, origin, holders }
    }

    /// A new database: the role it starts with, held by nobody, given to new users.
    fn fresh() -> Present {
        Present {
            users: vec![],
            roles: vec![PresentRole { is_default: true, ..role(1, "user", Origin::Here, 0) }],
        }
    }

    fn user_here(id: u64, account: &str, phone: &str) -> PresentUser {
        PresentUser {
            id,
            account: account.into(),
            account_key: Some(account.to_lowercase()),
            phone: phone.into(),
        }
    }

    fn original_roles() -> Vec<(u64, &'static str, &'static str)> {
        vec![(1, "超级管理员", "yes"), (2, "默认角色", "no"), (3, "编辑", "no")]
    }

    fn run(legacy: Legacy, present: &Present, choice: Option<DefaultRoleChoice>) -> Result<Plan, String> {
        plan(legacy, present, choice, &NativeUnicode)
    }

    fn reasons(plan: &Plan) -> Vec<(String, String)> {
        plan.skipped.iter().map(|s| (s.id.clone(), s.reason.clone())).collect()
    }

    #[test]
    fn the_original_roles_replace_the_starting_one_and_its_default_role_becomes_the_default() {
        let users = [(1, "Jerry", "15361158702", "1,3"), (7, "Foo", "13939265073", "2")];
        let plan = run(legacy(&users, &original_roles()), &fresh(), None).unwrap();
        assert_eq!(plan.roles.len(), 3);
        let admin = &plan.roles[0];
        assert_eq!(
            (admin.replaces.as_deref(), admin.only_if_unheld, admin.super_admin),
            (Some("user"), true, true)
        );
        assert_eq!(plan.default_role, DefaultRole::Set(2, "默认角色".into()));
        assert_eq!(plan.users.len(), 2);
        assert_eq!(plan.reserve_ids_through(), Some(7));
        assert!(plan.skipped.is_empty() && plan.notices.is_empty());
    }

    #[test]
    fn without_a_described_default_role_the_import_stops_unless_told() {
        // The original repository's roles.sql: only the super administrator.
        let users = [(1, "Jerry", "15361158702", "1,3,4")];
        let roles = [(1, "超级管理员", "yes")];
        let stop = run(legacy(&users, &roles), &fresh(), None).unwrap_err();
        assert!(stop.contains("DEFAULT_ROLE=<id of a role in the dump>"), "{stop}");
        let to = |id| Some(DefaultRoleChoice::Role(id));
        assert!(run(legacy(&users, &roles), &fresh(), to(1)).unwrap_err().contains("super administrator"));
        assert!(run(legacy(&users, &roles), &fresh(), to(9)).unwrap_err().contains("no role 9"));
        let stop = run(legacy(&users, &roles), &fresh(), to(3)).unwrap_err();
        assert!(stop.contains("described by no dump"), "a placeholder's meaning is unknown: {stop}");
        let plan = run(legacy(&users, &roles), &fresh(), Some(DefaultRoleChoice::Nothing)).unwrap();
        assert_eq!(plan.default_role, DefaultRole::Nothing);
        let placeholders: Vec<&str> = plan.notices.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(placeholders, ["role 3 (not in the dump)", "role 4 (not in the dump)"]);
    }

    #[test]
    fn users_alone_make_placeholders_of_the_roles_they_hold_even_of_one_made_here() {
        // Role 1 of the original is its super administrator; role 1 here is `user`.
        let users = [(1, "Jerry", "15361158702", "1")];
        let stop = run(legacy(&users, &[]), &fresh(), None).unwrap_err();
        assert!(stop.contains("takes over role 1"), "{stop}");
        assert!(run(legacy(&users, &[]), &fresh(), Some(DefaultRoleChoice::Role(1))).is_err());
        let plan = run(legacy(&users, &[]), &fresh(), Some(DefaultRoleChoice::Nothing)).unwrap();
        let taken = &plan.roles[0];
        assert_eq!(
            (taken.name.as_str(), taken.origin, taken.only_if_unheld),
            ("role 1 (not in the dump)", Origin::Placeholder, true)
        );
        // Held here: the import cannot tell what its users' role 1 is.
        let mut held = fresh();
        held.roles[0].holders = 2;
        assert!(run(legacy(&users, &[]), &held, None).unwrap_err().contains("held by 2 users"));
        // Users holding no role made here: the default stays.
        let plan = run(legacy(&[(5, "Solo", "13939265079", "7")], &[]), &fresh(), None).unwrap();
        assert_eq!(plan.default_role, DefaultRole::Unchanged(vec![(1, "user".into())]));
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
        assert!(stop.contains("role 1 is \"user\" here, held by 3 users and given to new ones"), "{stop}");
    }

    #[test]
    fn accounts_and_phones_taken_here_or_earlier_in_the_dump_are_skipped() {
        let present = Present { users: vec![user_here(100, "Taken", "+8613900000000")], ..fresh() };
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
                    "the account is taken by the account at dump.sql:2, row 2 (ignoring case and width)"
                        .into()
                ),
                ("4".into(), "phone +8613900000000 is taken by an account here".into()),
                ("5".into(), "phone +8613939265072 is taken by the account at dump.sql:2, row 2".into()),
                ("2".into(), "id 2 is at dump.sql:2, row 2 already".into()),
            ]
        );
        assert_eq!(plan.skipped[1].place.to_string(), "dump.sql:3, row 3");
        assert_eq!(plan.users_present, 1, "the same id and name: imported before");
        let imported: Vec<(u64, Option<&str>)> =
            plan.users.iter().map(|w| (w.user.id, w.account_key.as_deref())).collect();
        assert_eq!(imported, [(2, Some("foo")), (7, None)]);
        assert!(plan.notices[0].what.contains("without a key"));
    }

    fn imported_before() -> Present {
        Present {
            users: vec![user_here(1, "Jerry", "+8615361158702")],
            roles: vec![
                PresentRole { super_admin: true, ..role(1, "超级管理员", Origin::Dump, 1) },
                PresentRole { is_default: true, ..role(2, "默认角色", Origin::Dump, 0) },
                role(3, "编辑", Origin::Dump, 1),
            ],
        }
    }

    #[test]
    fn importing_what_is_there_already_writes_nothing() {
        let dump = || legacy(&[(1, "Jerry", "15361158702", "1,3")], &original_roles());
        let plan = run(dump(), &imported_before(), None).unwrap();
        assert!(plan.roles.is_empty() && plan.users.is_empty() && plan.skipped.is_empty());
        assert_eq!((plan.users_present, plan.roles_present), (1, 3));
        assert_eq!(plan.default_role, DefaultRole::Unchanged(vec![(2, "默认角色".into())]));
        assert!(crate::import::sql::first_statements(&plan).is_empty(), "nothing to write");
        // The users alone, later: the roles imported before are known.
        let plan = run(legacy(&[(1, "Jerry", "15361158702", "1,3")], &[]), &imported_before(), None).unwrap();
        assert!(plan.roles.is_empty() && plan.notices.is_empty());
    }

    #[test]
    fn a_placeholder_is_filled_in_by_a_later_dump_of_the_roles() {
        let mut present = fresh();
        present.roles.push(role(3, &placeholder_name(3), Origin::Placeholder, 4));
        let plan = run(legacy(&[], &original_roles()), &present, None).unwrap();
        let editor = plan.roles.iter().find(|r| r.id == 3).unwrap();
        assert_eq!(
            (editor.name.as_str(), editor.replaces.as_deref()),
            ("编辑", Some("role 3 (not in the dump)"))
        );
        assert_eq!((editor.origin, editor.only_if_unheld), (Origin::Dump, false));
    }
}
