-- Migration 0002: account names are compared by their key under the PRECIS username
-- profile (RFC 8265, UsernameCaseMapped: width-mapped, lower-cased, NFC), which the
-- worker computes (src/domain/username.rs) and registrations store.
ALTER TABLE users ADD COLUMN account_key TEXT;

-- The key of a name of printable ASCII without spaces is its lower case (SQLite's
-- lower() folds ASCII only), so most existing accounts get theirs here. No two such
-- names collide: `account` is unique ignoring ASCII case. Other accounts made before
-- keep none and are found by their name as before.
UPDATE users SET account_key = lower(account) WHERE account NOT GLOB '*[^!-~]*';

CREATE UNIQUE INDEX users_account_key ON users (account_key);
