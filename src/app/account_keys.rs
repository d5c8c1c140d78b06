//! The keys of the accounts made before keys. Migration 0002 could give a key only to a
//! name whose key SQL can compute (printable ASCII: its lower case); every other account
//! made before it has none, and is found by its exact name. A look-alike of such a name
//! (`Cafe` with a combining accent beside `Café`, `张三ａｂｃ` beside `张三abc`) has the
//! same key, yet nothing stored said so, and it could be registered. So before a
//! registration, the accounts without a key are given theirs, where no other account
//! holds it: the look-alike then meets the unique key, and is 50007 as any taken name is.
//! An account whose key another holds (two look-alikes made before keys) keeps none, and
//! the key's holder keeps the name from being registered again.
//!
//! Accounts without keys are never made any more, so once one pass found none left to
//! give, this isolate does not look again; the few that can have no key (a name the
//! profile refuses, a key held by another) are read again by each isolate's first
//! registration only.

use super::platform::{App, Platform};
use super::ports::UserStore;
use crate::domain::error::ApiError;
use crate::domain::username::username_key;

/// Accounts read and keyed at a time: one D1 batch of updates each.
const BATCH: u32 = 100;

/// Gives every account made before keys its key, unless this isolate did so already.
pub async fn give_missing_keys<P: Platform>(app: &App<P>) -> Result<(), ApiError> {
    if app.keys_given.get() {
        return Ok(());
    }
    let mut after = 0;
    loop {
        let keyless = app.users.keyless(after, BATCH).await?;
        let keys: Vec<(u64, String)> = keyless
            .iter()
            .filter_map(|(id, name)| Some((*id, username_key(name.trim(), &app.names).ok()?)))
            .collect();
        app.users.give_keys(&keys).await?;
        match keyless.last() {
            Some((id, _)) if keyless.len() == BATCH as usize => after = *id,
            _ => break,
        }
    }
    app.keys_given.set(true);
    Ok(())
}
