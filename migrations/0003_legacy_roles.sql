-- Migration 0003: roles imported from the original service (`make import`) say whether
-- they make a super administrator there, so that no such role is ever given to new
-- registrations, whatever marks it as a default.
ALTER TABLE roles ADD COLUMN super_admin INTEGER NOT NULL DEFAULT 0;
