-- Migration 0003: roles imported from the original service (`make import`). They say
-- whether they make a super administrator there, so that no such role is ever given to
-- new registrations, whatever marks it as a default; and where they come from, so that
-- a later import knows what each role id means.
ALTER TABLE roles ADD COLUMN super_admin INTEGER NOT NULL DEFAULT 0;
-- 'here': made in this database (such as the starting role 1, `user`); 'dump': a role of
-- the original service, as its roles table describes it; 'placeholder': a role id that
-- its users hold but no dump has described yet.
ALTER TABLE roles ADD COLUMN origin TEXT NOT NULL DEFAULT 'here';
