-- 0010: a customer's own team (same version in db/mssql/). Additive: the old portal does
-- not know these tables, and a colleague is an ordinary `Customers` row whose stored scope
-- is never wider than their manager's, so switching back keeps every account as it is.

-- The accounts staff made team managers (`made_by`: the admin's username).
CREATE TABLE IF NOT EXISTS TeamManagers (
    customer_id  INTEGER PRIMARY KEY,
    made_by      TEXT NOT NULL,
    made_at      TEXT NOT NULL
);

-- Each colleague's manager: one manager per colleague.
CREATE TABLE IF NOT EXISTS TeamMembers (
    customer_id  INTEGER PRIMARY KEY,
    manager_id   INTEGER NOT NULL,
    invited_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS IX_TeamMembers_manager ON TeamMembers (manager_id);
