//! The users' sessions in D1 (`sessions`, migrations/0005), for "your devices".

use serde::Deserialize;
use worker::D1Database;

use super::d1;
use super::platform::OrFault;
use crate::app::ports::{SessionRecord, SessionStore, SESSIONS_LISTED};
use crate::domain::device::Device;
use crate::domain::error::{Backend, Fault};

pub struct D1Sessions(pub D1Database);

/// A row of `sessions` as the list reads it.
#[derive(Deserialize)]
struct SessionRow {
    sid: String,
    user_id: f64,
    epoch: f64,
    created_ms: f64,
    last_used_ms: f64,
    expires_ms: f64,
    user_agent: String,
    country: String,
    address: String,
}

impl From<SessionRow> for SessionRecord {
    fn from(row: SessionRow) -> SessionRecord {
        let whole = |value: f64| value.max(0.0) as u64;
        SessionRecord {
            sid: row.sid,
            uid: whole(row.user_id),
            epoch: whole(row.epoch),
            created_ms: whole(row.created_ms),
            last_used_ms: whole(row.last_used_ms),
            expires_ms: whole(row.expires_ms),
            device: Device { user_agent: row.user_agent, country: row.country, address: row.address },
        }
    }
}

impl SessionStore for D1Sessions {
    async fn record(&self, session: &SessionRecord) -> Result<(), Fault> {
        // DO NOTHING: a session ended before its record arrived keeps its ended row.
        let sql = "INSERT INTO sessions (sid, user_id, epoch, created_ms, last_used_ms, expires_ms, user_agent, country, address) \
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (sid) DO NOTHING";
        let values = [
            session.sid.as_str().into(),
            (session.uid as f64).into(),
            (session.epoch as f64).into(),
            (session.created_ms as f64).into(),
            (session.expires_ms as f64).into(),
            session.device.user_agent.as_str().into(),
            session.device.country.as_str().into(),
            session.device.address.as_str().into(),
        ];
        let statement = d1::statement(&self.0, sql, &values, "prepare a session's record")?;
        d1::execute(statement, "record a session").await
    }

    async fn touch(&self, sid: &str, now_ms: u64, expires_ms: u64, epoch: u64) -> Result<(), Fault> {
        let sql = "UPDATE sessions SET last_used_ms = ?2, expires_ms = max(expires_ms, ?3), epoch = max(epoch, ?4) \
                   WHERE sid = ?1 AND ended = 0 AND (last_used_ms <= ?2 - 60000 OR epoch < ?4)";
        let values = [sid.into(), (now_ms as f64).into(), (expires_ms as f64).into(), (epoch as f64).into()];
        let statement = d1::statement(&self.0, sql, &values, "prepare a session's use")?;
        d1::execute(statement, "mark a session used").await
    }

    async fn end(&self, uid: u64, sid: &str, until_ms: u64) -> Result<(), Fault> {
        let sql = "INSERT INTO sessions (sid, user_id, epoch, created_ms, last_used_ms, expires_ms, user_agent, country, address, ended) \
                   VALUES (?1, ?2, 0, 0, 0, ?3, '', '', '', 1) \
                   ON CONFLICT (sid) DO UPDATE SET ended = 1, expires_ms = max(expires_ms, excluded.expires_ms)";
        let values = [sid.into(), (uid as f64).into(), (until_ms as f64).into()];
        let statement = d1::statement(&self.0, sql, &values, "prepare a session's end")?;
        d1::execute(statement, "end a session's record").await
    }

    async fn of_user(&self, uid: u64, now_ms: u64) -> Result<Vec<SessionRecord>, Fault> {
        let sql =
            "SELECT sid, user_id, epoch, created_ms, last_used_ms, expires_ms, user_agent, country, address \
                   FROM sessions WHERE user_id = ?1 AND ended = 0 AND expires_ms > ?2 \
                   ORDER BY created_ms DESC LIMIT ?3";
        let values = [(uid as f64).into(), (now_ms as f64).into(), (SESSIONS_LISTED as f64).into()];
        let statement = d1::statement(&self.0, sql, &values, "prepare a read of sessions")?;
        let rows = d1::rows(statement, "read a user's sessions").await?;
        let rows = rows.results::<SessionRow>().or_fault(Backend::D1, "read a user's sessions")?;
        Ok(rows.into_iter().map(SessionRecord::from).collect())
    }

    async fn forget_expired(&self, now_ms: u64) -> Result<(), Fault> {
        let sql = "DELETE FROM sessions WHERE expires_ms <= ?1";
        let statement =
            d1::statement(&self.0, sql, &[(now_ms as f64).into()], "prepare a removal of expired sessions")?;
        d1::execute(statement, "forget expired sessions").await
    }
}
