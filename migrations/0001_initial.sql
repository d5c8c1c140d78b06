-- Migration 0001: the schema as it was before migrations (when schema.sql was applied
-- as it is). Idempotent, so that it changes nothing in a database made that way.

CREATE TABLE IF NOT EXISTS roles (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    -- New users get every default role.
    is_default INTEGER NOT NULL DEFAULT 0
);

INSERT OR IGNORE INTO roles (id, name, is_default) VALUES (1, 'user', 1);

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Unique ignoring ASCII case: "Foo" and "foo" are one account.
    account       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    -- E.164, e.g. +8613911119999.
    phone         TEXT    NOT NULL UNIQUE,
    -- $pbkdf2-sha256$i=<iterations>$<salt>$<hash>
    password_hash TEXT    NOT NULL,
    -- A disabled user cannot log in or refresh.
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

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
    not_before_ms INTEGER NOT NULL
);
