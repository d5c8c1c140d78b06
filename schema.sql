-- The whole schema of the /login API's D1 database, for reading and for new databases.
-- Databases are made and upgraded by the migrations in migrations/ (`wrangler d1
-- migrations apply DB`, which `make dev` and the deploy guide run); a database made from
-- this file instead has them all applied, and says so in wrangler's table of applied
-- migrations below, so that a later `migrations apply` runs only newer ones. The
-- end-to-end tests hold this file and the migrations to the same tables.

CREATE TABLE IF NOT EXISTS roles (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    -- New users get every default role.
    is_default INTEGER NOT NULL DEFAULT 0,
    -- A super administrator's role in the original service (`make import`): never given
    -- to new users.
    super_admin INTEGER NOT NULL DEFAULT 0,
    -- 'here' (made in this database), 'dump' (a role of the original service, as its
    -- roles table describes it) or 'placeholder' (held by its users, not yet described).
    origin      TEXT    NOT NULL DEFAULT 'here'
);

INSERT OR IGNORE INTO roles (id, name, is_default) VALUES (1, 'user', 1);

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The name as registered. Unique ignoring ASCII case too, as before keys.
    account       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    -- E.164, e.g. +8613911119999.
    phone         TEXT    NOT NULL UNIQUE,
    -- $pbkdf2-sha256$i=<iterations>$<salt>$<hash>
    password_hash TEXT    NOT NULL,
    -- A disabled user cannot log in or refresh.
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    -- The name's key under the PRECIS username profile (src/domain/username.rs), which
    -- uniqueness is on; none for some accounts made before keys (migrations/0002).
    account_key   TEXT,
    -- A deletion the user asked for (Unix ms): from then on the Cron Trigger removes the
    -- user; until then a code sign-in cancels it. NULL: none asked for.
    delete_after_ms INTEGER
);

CREATE UNIQUE INDEX IF NOT EXISTS users_account_key ON users (account_key);
CREATE INDEX IF NOT EXISTS users_deletions ON users (delete_after_ms) WHERE delete_after_ms IS NOT NULL;

CREATE TABLE IF NOT EXISTS user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id INTEGER NOT NULL REFERENCES roles (id),
    PRIMARY KEY (user_id, role_id)
);

-- "Log out everywhere" (and, when they exist, a password change or disabling the user):
-- tokens of the user issued before not_before_ms (Unix milliseconds) no longer verify.
-- A table of its own rather than a column of users, so that this file stays idempotent
-- for databases made before it (SQLite has no ADD COLUMN IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS session_cutoffs (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    not_before_ms INTEGER NOT NULL,
    -- "Log out everywhere else" moves the epoch and keeps this one session alive.
    kept_sid      TEXT
);

-- One row per session opened by a login, written after the answer ("your devices"). A
-- session ended by its id stays, `ended`, until it would have expired, so that a record
-- arriving late cannot bring it back; one of an older epoch than its user's is over.
CREATE TABLE IF NOT EXISTS sessions (
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

CREATE INDEX IF NOT EXISTS sessions_of_user ON sessions (user_id, created_ms);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_ms);

-- wrangler's record of applied migrations (as `wrangler d1 migrations apply` keeps it).
CREATE TABLE IF NOT EXISTS d1_migrations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);
INSERT OR IGNORE INTO d1_migrations (name) VALUES ('0001_initial.sql'), ('0002_account_keys.sql'), ('0003_legacy_roles.sql'), ('0004_role_origin.sql'), ('0005_account_centre.sql');
