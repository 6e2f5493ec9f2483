-- 0006: what customers keep for themselves (same version in db/mssql/): minimum on-hand
-- quantities per part (shared by every account of the ERP customer), saved views of the
-- inventory grid (per account), and scheduled reports with the lease that lets several
-- portal instances share one app database without sending a report twice.

CREATE TABLE IF NOT EXISTS PartMinimums (
    minimum_id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- As the ERP spells the customer (the inventory rows' Customer).
    erp_customer_name  TEXT NOT NULL,
    part               TEXT NOT NULL,
    minimum_qty        REAL NOT NULL CHECK (minimum_qty >= 0),
    updated_at         TEXT NOT NULL,
    updated_by         TEXT NOT NULL,
    UNIQUE (erp_customer_name, part)
);

CREATE TABLE IF NOT EXISTS SavedViews (
    view_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id  INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- The view's URL parameters (q, part, bin, status, expiry, below, sort, dir).
    query        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (customer_id, name)
);

CREATE TABLE IF NOT EXISTS ReportSubscriptions (
    subscription_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id      INTEGER NOT NULL REFERENCES Customers (customer_id) ON DELETE CASCADE,
    -- `report` (the view's rows attached) or `alert` (expired / expiring / below minimum).
    kind             TEXT NOT NULL CHECK (kind IN ('report', 'alert')),
    -- NULL: the whole scope. A deleted view takes its reports with it.
    view_id          INTEGER REFERENCES SavedViews (view_id) ON DELETE CASCADE,
    frequency        TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    -- 0 = Monday … 6 = Sunday; weekly only.
    weekday          INTEGER CHECK (weekday BETWEEN 0 AND 6),
    -- The hour in PORTAL_TIMEZONE.
    hour             INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    format           TEXT NOT NULL CHECK (format IN ('xlsx', 'csv')),
    paused           INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    paused_by        TEXT,
    created_at       TEXT NOT NULL,
    -- When it is due next (UTC); a missed time stays due until one instance sends it.
    next_run_at      TEXT NOT NULL,
    -- The lease: the instance sending it now, and until when its claim holds.
    lease_owner      TEXT,
    lease_until      TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_sent_at     TEXT,
    last_status      TEXT,
    last_error       TEXT,
    sent_count       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS IX_ReportSubscriptions_due ON ReportSubscriptions (next_run_at);
CREATE INDEX IF NOT EXISTS IX_ReportSubscriptions_customer ON ReportSubscriptions (customer_id);
