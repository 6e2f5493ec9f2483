-- 0007: a sign-in attempt is recorded before its password is checked, marked in flight
-- until it is settled (a wrong password clears the mark, a right one deletes the row), so
-- attempts being checked count against their account but never against their address.
-- Additive: the old portal does not know this table.

ALTER TABLE LoginFailures ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
