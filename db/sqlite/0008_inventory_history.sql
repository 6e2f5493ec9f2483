-- 0008: inventory over time (same version in db/mssql/). Once a day one instance records,
-- for every ERP customer and part, what was on hand; the history page, the days of cover
-- and the run-out forecasts read it. Additive: the old portal does not know these tables.

-- Each ERP customer's part once, so a day's rows carry a small number, not two names.
CREATE TABLE IF NOT EXISTS HistoryParts (
    part_key           INTEGER PRIMARY KEY AUTOINCREMENT,
    erp_customer_name  TEXT NOT NULL,
    part               TEXT NOT NULL,
    UNIQUE (erp_customer_name, part)
);
-- One part's history, whichever customers hold it.
CREATE INDEX IF NOT EXISTS IX_HistoryParts_part ON HistoryParts (part);

-- One row a part a day. `day` is the portal's calendar day (PORTAL_TIMEZONE), YYYY-MM-DD.
-- `received_qty`: on hand in lots received since the capture before (a delivery), so the
-- forecast can leave delivery days out. `demo`: generated for the demo, not captured.
CREATE TABLE IF NOT EXISTS InventoryHistory (
    part_key      INTEGER NOT NULL REFERENCES HistoryParts (part_key),
    day           TEXT NOT NULL,
    on_hand       REAL NOT NULL,
    lots          INTEGER NOT NULL,
    expired_qty   REAL NOT NULL,
    expiring_qty  REAL NOT NULL,
    received_qty  REAL NOT NULL,
    demo          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (part_key, day)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS IX_InventoryHistory_day ON InventoryHistory (day);

-- Each ERP customer's totals a day: the scope's chart sums a few of these, not every part.
CREATE TABLE IF NOT EXISTS HistoryTotals (
    erp_customer_name  TEXT NOT NULL,
    day                TEXT NOT NULL,
    on_hand            REAL NOT NULL,
    lots               INTEGER NOT NULL,
    expired_qty        REAL NOT NULL,
    expiring_qty       REAL NOT NULL,
    received_qty       REAL NOT NULL,
    parts              INTEGER NOT NULL,
    demo               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (erp_customer_name, day)
) WITHOUT ROWID;

-- Who captures a day: the first instance to insert the day's row (or to take over a
-- lapsed lease) writes it; `finished_at` set once every row is in.
CREATE TABLE IF NOT EXISTS HistoryCaptures (
    day          TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    lease_until  TEXT NOT NULL,
    finished_at  TEXT NULL,
    parts        INTEGER NOT NULL DEFAULT 0
);
