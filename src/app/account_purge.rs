//! The Cron Trigger's work (`[triggers] crons` in wrangler.toml): removing the accounts
//! whose deletion is due ([`super::account_delete`]), and the records of expired
//! sessions.

use super::events::{about, report_now};
use super::platform::{log_if_failed, App, Platform};
use super::ports::{Clock, SessionStore, StoredUser, UserStore};
use crate::domain::error::ApiError;
use crate::domain::events::EventType;

/// Accounts are read 100 at a time, by id, and one run reads at most 10 such batches;
/// the rest wait for the next run. By id, each batch after the last: an account whose
/// removal keeps failing holds up no other.
const BATCH: u32 = 100;
const BATCHES_PER_RUN: usize = 10;

/// What a run did, for its log line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Accounts removed.
    pub removed: u32,
    /// Accounts whose removal failed (logged each): they stay due for the next run.
    pub failed: u32,
}

/// Removes every account whose deletion is due: its row, roles, session epoch and
/// sessions, in one write each. Its failed-login counts, kept by the user's id (never
/// given to another user), need no removal: each window's object deletes its storage
/// once the 15-minute window has passed (`RateWindow`'s alarm). A failure on one account
/// is logged and the run goes on. Running it twice, even at once, removes each account
/// once: a removal only removes what is still due. Then the records of expired sessions
/// go.
pub async fn purge_due<P: Platform>(app: &App<P>) -> Result<Purged, ApiError> {
    let now = app.clock.now_millis();
    let mut purged = Purged::default();
    let mut after = 0;
    for _ in 0..BATCHES_PER_RUN {
        let due = app.users.due_for_deletion(now, after, BATCH).await?;
        let Some(last) = due.last() else { break };
        after = last.id;
        for user in due {
            purge_one(app, user, now, &mut purged).await;
        }
    }
    log_if_failed::<P>("forget expired sessions", app.sessions.forget_expired(now).await.map_err(Into::into));
    Ok(purged)
}

/// Removes `user` and reports `user.deleted`, with the account and phone the removal
/// erases.
async fn purge_one<P: Platform>(app: &App<P>, user: StoredUser, now: u64, purged: &mut Purged) {
    match app.users.purge(user.id, now).await {
        Ok(true) => {
            purged.removed += 1;
            app.recent_users.forget(user.id);
            log_if_failed::<P>("queue an event", report_now(app, about(EventType::UserDeleted, &user)).await);
        }
        // Removed meanwhile by another run, or cancelled by a code sign-in.
        Ok(false) => {}
        Err(fault) => {
            purged.failed += 1;
            P::log_failure(&format!("remove user {}, due for deletion", user.id), &fault.into());
        }
    }
}
