//! Users and roles in D1 (`schema.sql`).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::d1;
use super::platform::OrFault;
use crate::app::ports::{Created, KeptSession, NewUser, PhoneChange, StoredUser, UserStore};
use crate::domain::account::AccountLookup;
use crate::domain::error::{Backend, Fault};
use crate::domain::password::PasswordHash;
use crate::domain::phone::Phone;

/// The binding name in `wrangler.toml`.
pub const D1_BINDING: &str = "DB";

pub struct D1UserStore(pub D1Database);

/// One user with its role ids, as `SELECT_USER` returns it.
#[derive(Deserialize)]
struct UserRow {
    id: u64,
    account: String,
    phone: String,
    password_hash: String,
    disabled: i64,
    roles: Option<String>,
    not_before_ms: f64,
    kept_sid: Option<String>,
    delete_after_ms: Option<f64>,
}

const SELECT_USER: &str =
    "SELECT u.id AS id, u.account AS account, u.phone AS phone, u.password_hash AS password_hash, u.disabled AS disabled, \
     (SELECT group_concat(role_id) FROM user_roles WHERE user_id = u.id) AS roles, \
     COALESCE(c.not_before_ms, 0) AS not_before_ms, c.kept_sid AS kept_sid, \
     u.delete_after_ms AS delete_after_ms \
     FROM users u LEFT JOIN session_cutoffs c ON c.user_id = u.id";

impl From<UserRow> for StoredUser {
    fn from(row: UserRow) -> StoredUser {
        let mut roles: Vec<u64> =
            row.roles.unwrap_or_default().split(',').filter_map(|id| id.trim().parse().ok()).collect();
        roles.sort_unstable();
        StoredUser {
            id: row.id,
            account: row.account,
            phone: row.phone,
            password_hash: row.password_hash,
            disabled: row.disabled != 0,
            roles: roles.into_iter().map(|id| id.to_string()).collect(),
            sessions_not_before_ms: row.not_before_ms.max(0.0) as u64,
            kept_sid: row.kept_sid,
            delete_after_ms: row.delete_after_ms.map(|ms| ms.max(0.0) as u64),
        }
    }
}

impl D1UserStore {
    async fn first_user(&self, statement: D1PreparedStatement) -> Result<Option<StoredUser>, Fault> {
        let row = statement.first::<UserRow>(None).await.or_fault(Backend::D1, "read a user")?;
        Ok(row.map(StoredUser::from))
    }

    /// `write` and the end of every session of the user, in one transaction (a batch);
    /// returns the new epoch.
    async fn ending_sessions(
        &self,
        write: D1PreparedStatement,
        id: u64,
        not_before_ms: u64,
        doing: &str,
    ) -> Result<u64, Fault> {
        let results =
            d1::batch(&self.0, vec![write, self.set_epoch(id, not_before_ms, None)?], doing).await?;
        epoch_of(results.get(1))
    }

    /// Moves the user's session epoch to `not_before_ms`, or just past the current one
    /// if that is later (so it never moves back, and every write gives a new epoch),
    /// returning the new epoch. With `kept`, that session goes on, and the write goes
    /// through only while it is still the user's (returning no row otherwise).
    fn set_epoch(
        &self,
        id: u64,
        not_before_ms: u64,
        kept: Option<&KeptSession>,
    ) -> Result<D1PreparedStatement, Fault> {
        let (kept_sid, kept_epoch) = match kept {
            Some(kept) => (kept.sid.as_str().into(), (kept.epoch as f64).into()),
            None => (JsValue::NULL, JsValue::NULL),
        };
        self.0
            .prepare(
                "INSERT INTO session_cutoffs (user_id, not_before_ms, kept_sid) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (user_id) DO UPDATE SET not_before_ms = max(not_before_ms + 1, excluded.not_before_ms), \
                 kept_sid = excluded.kept_sid \
                 WHERE ?4 IS NULL OR not_before_ms = ?4 OR kept_sid = ?3 \
                 RETURNING not_before_ms AS id",
            )
            .bind(&[(id as f64).into(), (not_before_ms as f64).into(), kept_sid, kept_epoch])
            .or_fault(Backend::D1, "prepare a session cutoff")
    }
}

/// The id a write returned (`RETURNING id`): what it created or changed, if anything.
/// Read as rows rather than from the result's `meta`, whose reader would cost wasm.
#[derive(Deserialize)]
struct Id {
    id: u64,
}

impl Id {
    fn first(result: &D1Result) -> Option<u64> {
        result.results::<Id>().ok().and_then(|rows| rows.first().map(|row| row.id))
    }
}

/// The epoch `set_epoch` returned (`RETURNING not_before_ms AS id`: read as an id, the
/// wasm needs no reader of its own for it).
fn epoch_of(result: Option<&D1Result>) -> Result<u64, Fault> {
    result.and_then(Id::first).ok_or_else(|| Fault::Protocol("D1 returned no session epoch".into()))
}

impl UserStore for D1UserStore {
    async fn create(&self, user: &NewUser, now_seconds: u64) -> Result<Created, Fault> {
        let account = user.account.as_str();
        let insert_user = self
            .0
            .prepare(
                "INSERT INTO users (account, account_key, phone, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            )
            .bind(&[
                account.into(),
                user.account_key.as_str().into(),
                user.phone.e164().into(),
                PasswordHash::stored(user.password_hash.as_ref()).into(),
                (now_seconds as f64).into(),
            ])
            .or_fault(Backend::D1, "prepare a new user")?;
        let grant_default_roles = self
            .0
            .prepare(
                "INSERT INTO user_roles (user_id, role_id) \
                 SELECT u.id, r.id FROM users u, roles r WHERE u.account = ?1 AND r.is_default = 1 AND r.super_admin = 0",
            )
            .bind(&[account.into()])
            .or_fault(Backend::D1, "prepare a new user's roles")?;
        // A batch is one transaction: the user never exists without its roles. The UNIQUE
        // constraints (account_key, phone; and account COLLATE NOCASE, for the accounts
        // made before keys) settle racing registrations.
        match self.0.batch(vec![insert_user, grant_default_roles]).await {
            Ok(results) => Ok(Created::User(results.first().and_then(Id::first).unwrap_or_default())),
            Err(error) if error.to_string().contains("UNIQUE constraint failed") => Ok(Created::Taken),
            Err(error) => Err(Fault::backend(Backend::D1, "create a user", error)),
        }
    }

    async fn find_by_account(&self, account: &AccountLookup) -> Result<Option<StoredUser>, Fault> {
        // An account made before keys has none (migrations/0002 gave one to every name
        // whose key is plain lower case), and is found by its name as before. Its name
        // may have a key that another account holds (`Ｆoo` made before keys beside
        // `Foo`, which COLLATE NOCASE told apart): the account of exactly the name typed
        // (ASCII case aside) comes first, so each still logs in as itself.
        let legacy = "u.account_key IS NULL AND u.account = ?1";
        let statement = match &account.key {
            Some(key) => self
                .0
                .prepare(format!(
                    "{SELECT_USER} WHERE u.account_key = ?2 OR ({legacy}) ORDER BY u.account = ?1 DESC LIMIT 1"
                ))
                .bind(&[account.name.as_str().into(), key.as_str().into()]),
            None => self.0.prepare(format!("{SELECT_USER} WHERE {legacy}")).bind(&[account.name.as_str().into()]),
        };
        self.first_user(statement.or_fault(Backend::D1, "find a user")?).await
    }

    async fn upgrade_password_hash(
        &self,
        id: u64,
        verified: &str,
        stronger: &PasswordHash,
    ) -> Result<(), Fault> {
        let sql = "UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3";
        let values = [stronger.encode().into(), (id as f64).into(), verified.into()];
        let statement = d1::statement(&self.0, sql, &values, "prepare a hash upgrade")?;
        d1::execute(statement, "upgrade a password hash").await
    }

    async fn replace_password(&self, id: u64, hash: &PasswordHash, not_before_ms: u64) -> Result<u64, Fault> {
        let set_hash = self
            .0
            .prepare("UPDATE users SET password_hash = ?1 WHERE id = ?2")
            .bind(&[hash.encode().into(), (id as f64).into()])
            .or_fault(Backend::D1, "prepare a new password hash")?;
        // One transaction: the new password never works while the sessions opened with
        // the old one still do.
        self.ending_sessions(set_hash, id, not_before_ms, "replace a password").await
    }

    async fn end_sessions(
        &self,
        id: u64,
        not_before_ms: u64,
        kept: Option<&KeptSession>,
    ) -> Result<Option<u64>, Fault> {
        let statement = self.set_epoch(id, not_before_ms, kept)?;
        let epoch = epoch_of(Some(&d1::rows(statement, "end a user's sessions").await?));
        match kept {
            // No row: the write did not go through, the kept session being no longer the
            // user's.
            Some(_) => Ok(epoch.ok()),
            None => epoch.map(Some),
        }
    }

    async fn schedule_deletion(
        &self,
        id: u64,
        delete_after_ms: u64,
        not_before_ms: u64,
    ) -> Result<(), Fault> {
        let schedule = self
            .0
            .prepare("UPDATE users SET delete_after_ms = ?1 WHERE id = ?2")
            .bind(&[(delete_after_ms as f64).into(), (id as f64).into()])
            .or_fault(Backend::D1, "prepare a deletion")?;
        // One transaction: the account is never waiting to be deleted with a session alive.
        self.ending_sessions(schedule, id, not_before_ms, "schedule a deletion").await.map(|_| ())
    }

    async fn change_phone(
        &self,
        id: u64,
        phone: &Phone,
        not_before_ms: u64,
        kept: &KeptSession,
    ) -> Result<PhoneChange, Fault> {
        // One transaction, read in order: the epoch moves (keeping `kept`) only while no
        // user has the phone and `kept` is still the user's; the phone moves only if the
        // epoch did, which leaves the kept session and the new epoch in the row; then
        // whether the phone was taken, to tell the two refusals apart. The UNIQUE index
        // on the phone stands behind the check.
        let free = "NOT EXISTS (SELECT 1 FROM users WHERE phone = ?5)";
        let statements = [
            format!(
                "INSERT INTO session_cutoffs (user_id, not_before_ms, kept_sid) SELECT ?1, ?2, ?3 WHERE {free} \
                 ON CONFLICT (user_id) DO UPDATE SET not_before_ms = max(not_before_ms + 1, excluded.not_before_ms), \
                 kept_sid = excluded.kept_sid WHERE not_before_ms = ?4 OR kept_sid = ?3 \
                 RETURNING not_before_ms"
            ),
            format!(
                "UPDATE users SET phone = ?5 WHERE id = ?1 AND {free} AND EXISTS (SELECT 1 FROM session_cutoffs \
                 WHERE user_id = ?1 AND kept_sid = ?3 AND not_before_ms >= ?2) RETURNING id"
            ),
            "SELECT ?1 AS id FROM users WHERE phone = ?5 LIMIT 1".to_string(),
        ];
        let values = [
            (id as f64).into(),
            (not_before_ms as f64).into(),
            kept.sid.as_str().into(),
            (kept.epoch as f64).into(),
            phone.e164().into(),
        ];
        let statements = statements
            .into_iter()
            .map(|sql| self.0.prepare(sql).bind(&values).or_fault(Backend::D1, "prepare a phone change"))
            .collect::<Result<Vec<_>, Fault>>()?;
        let results = d1::batch(&self.0, statements, "change a phone").await?;
        let row_of = |index: usize| results.get(index).and_then(Id::first);
        Ok(match (row_of(1), row_of(2)) {
            (Some(_), _) => PhoneChange::Changed,
            (None, Some(_)) => PhoneChange::Taken,
            (None, None) => PhoneChange::SessionEnded,
        })
    }

    async fn cancel_deletion(&self, id: u64, now_ms: u64) -> Result<bool, Fault> {
        let statement = self
            .0
            .prepare(
                "UPDATE users SET delete_after_ms = NULL WHERE id = ?1 AND delete_after_ms > ?2 RETURNING id",
            )
            .bind(&[(id as f64).into(), (now_ms as f64).into()])
            .or_fault(Backend::D1, "prepare a cancelled deletion")?;
        let result = d1::rows(statement, "cancel a deletion").await?;
        Ok(Id::first(&result).is_some())
    }

    async fn due_for_deletion(
        &self,
        now_ms: u64,
        after_id: u64,
        limit: u32,
    ) -> Result<Vec<StoredUser>, Fault> {
        // The rows as every user is read: its reader is in the wasm already.
        let statement = self
            .0
            .prepare(format!(
                "{SELECT_USER} WHERE u.delete_after_ms <= ?1 AND u.id > ?2 ORDER BY u.id LIMIT ?3"
            ))
            .bind(&[(now_ms as f64).into(), (after_id as f64).into(), (limit as f64).into()])
            .or_fault(Backend::D1, "prepare a read of deletions due")?;
        let rows = d1::rows(statement, "read deletions due").await?;
        let rows = rows.results::<UserRow>().or_fault(Backend::D1, "read deletions due")?;
        Ok(rows.into_iter().map(StoredUser::from).collect())
    }

    async fn purge(&self, id: u64, now_ms: u64) -> Result<bool, Fault> {
        // Each statement removes only while the user's deletion is due, so a cancel that
        // lands first leaves everything; the user's row goes last, in one transaction.
        let due = "EXISTS (SELECT 1 FROM users WHERE id = ?1 AND delete_after_ms <= ?2)";
        let statements = [
            format!("DELETE FROM sessions WHERE user_id = ?1 AND {due}"),
            format!("DELETE FROM user_roles WHERE user_id = ?1 AND {due}"),
            format!("DELETE FROM session_cutoffs WHERE user_id = ?1 AND {due}"),
            "DELETE FROM users WHERE id = ?1 AND delete_after_ms <= ?2 RETURNING id".to_string(),
        ]
        .into_iter()
        .map(|sql| {
            self.0
                .prepare(sql)
                .bind(&[(id as f64).into(), (now_ms as f64).into()])
                .or_fault(Backend::D1, "prepare a user's removal")
        })
        .collect::<Result<Vec<_>, Fault>>()?;
        let results = d1::batch(&self.0, statements, "remove a user").await?;
        Ok(results.last().and_then(Id::first).is_some())
    }

    async fn find_by_id(&self, id: u64) -> Result<Option<StoredUser>, Fault> {
        let query = format!("{SELECT_USER} WHERE u.id = ?1");
        let statement =
            self.0.prepare(query).bind(&[(id as f64).into()]).or_fault(Backend::D1, "find a user")?;
        self.first_user(statement).await
    }

    async fn keyless(&self, after_id: u64, limit: u32) -> Result<Vec<(u64, String)>, Fault> {
        // The rows as every user is read (its reader is in the wasm already; one for two
        // columns would be more of it), for a read that an isolate makes once.
        let statement = self
            .0
            .prepare(format!(
                "{SELECT_USER} WHERE u.account_key IS NULL AND u.id > ?1 ORDER BY u.id LIMIT ?2"
            ))
            .bind(&[(after_id as f64).into(), (limit as f64).into()])
            .or_fault(Backend::D1, "prepare a read of accounts without keys")?;
        let rows = d1::rows(statement, "read accounts without keys").await?;
        let rows = rows.results::<UserRow>().or_fault(Backend::D1, "read accounts without keys")?;
        Ok(rows.into_iter().map(|row| (row.id, row.account)).collect())
    }

    async fn give_keys(&self, keys: &[(u64, String)]) -> Result<(), Fault> {
        // OR IGNORE: a key another account holds (or one given earlier in the batch) is
        // not an error, it stays where it is; the rest of the batch goes on.
        let statements = keys
            .iter()
            .map(|(id, key)| {
                self.0
                    .prepare(
                        "UPDATE OR IGNORE users SET account_key = ?1 WHERE id = ?2 AND account_key IS NULL",
                    )
                    .bind(&[key.as_str().into(), (*id as f64).into()])
                    .or_fault(Backend::D1, "prepare a key for an account")
            })
            .collect::<Result<Vec<_>, Fault>>()?;
        if statements.is_empty() {
            return Ok(());
        }
        d1::batch(&self.0, statements, "give accounts their keys").await.map(|_| ())
    }

    async fn find_by_phone(&self, phone: &Phone) -> Result<Option<StoredUser>, Fault> {
        let query = format!("{SELECT_USER} WHERE u.phone = ?1");
        let statement =
            self.0.prepare(query).bind(&[phone.e164().into()]).or_fault(Backend::D1, "find a user")?;
        self.first_user(statement).await
    }
}
