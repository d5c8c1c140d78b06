-- Migration 0005: the account centre. A user's sessions ("your devices"), the one
-- session a "log out everywhere else" keeps, and a deletion waiting out its grace.

-- One row per session opened by a login, written after the answer. A session ended by
-- its id stays as a row with `ended` set until it would have expired, so that a record
-- arriving late cannot bring it back. `epoch` is the user's session epoch it was opened
-- under (session_cutoffs): a session of an older epoch is over, whatever its row says.
CREATE TABLE sessions (
    sid          TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    epoch        INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    -- The last refresh, written at most once a minute.
    last_used_ms INTEGER NOT NULL,
    -- When its refresh token expires: the row may go then.
    expires_ms   INTEGER NOT NULL,
    -- The first 256 characters of the User-Agent, the country Cloudflare saw, and the
    -- address masked to its /24 (IPv4) or /48 (IPv6).
    user_agent   TEXT    NOT NULL,
    country      TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    ended        INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sessions_of_user ON sessions (user_id, created_ms);
CREATE INDEX sessions_by_expiry ON sessions (expires_ms);

-- "Log out everywhere else" moves the epoch like "everywhere" does, and keeps one
-- session alive, by its id: the one that asked.
ALTER TABLE session_cutoffs ADD COLUMN kept_sid TEXT;

-- A deletion the user asked for (Unix ms): from then on the Cron Trigger removes the
-- user; until then a code sign-in cancels it. NULL: none asked for.
ALTER TABLE users ADD COLUMN delete_after_ms INTEGER;

CREATE INDEX users_deletions ON users (delete_after_ms) WHERE delete_after_ms IS NOT NULL;
