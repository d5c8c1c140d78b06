-- Migration 0004: where each role comes from, so that an import (`make import`) knows
-- what a role id means: 'here' (made in this database, such as the starting role 1,
-- `user`), 'dump' (a role of the original service, as its roles table describes it), or
-- 'placeholder' (a role id its users hold that no dump has described yet).
ALTER TABLE roles ADD COLUMN origin TEXT NOT NULL DEFAULT 'here';
