//! D1 calls made through one copy each: every awaited call of the `worker` crate is a
//! state machine of its own in the wasm, so the adapters run their statements through
//! these rather than awaiting D1 themselves.

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use super::platform::OrFault;
use crate::domain::error::{Backend, Fault};

/// `sql` with `values` bound to `?1`, `?2`, ...; `doing` names it in a fault.
pub fn statement(
    db: &D1Database,
    sql: &str,
    values: &[JsValue],
    doing: &str,
) -> Result<D1PreparedStatement, Fault> {
    db.prepare(sql).bind(values).or_fault(Backend::D1, doing)
}

/// Runs a statement for its effect.
pub async fn execute(statement: D1PreparedStatement, doing: &str) -> Result<(), Fault> {
    statement.run().await.map(|_| ()).or_fault(Backend::D1, doing)
}

/// Runs a statement for its rows.
pub async fn rows(statement: D1PreparedStatement, doing: &str) -> Result<D1Result, Fault> {
    statement.all().await.or_fault(Backend::D1, doing)
}

/// Runs statements in one transaction, for each one's rows.
pub async fn batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    doing: &str,
) -> Result<Vec<D1Result>, Fault> {
    db.batch(statements).await.or_fault(Backend::D1, doing)
}
