//! Every T-SQL statement the SQL Server app-database backend sends, in one place, so that a
//! test can hand each of them to a real T-SQL parser (sqlfluff, `tsql` dialect).
//! Every transaction that touches more than one of them locks the customer's rows in one
//! order — `Customers`, then `ActiveSessions`, then `PasswordResetTokens`, then
//! `AuditLog` — so two of them can never wait for each other (a deadlock); a batch chosen
//! as a deadlock victim anyway (error 1205) is run again once.
//!
//! Multi-step changes run as one batch under `SET XACT_ABORT ON` in a transaction: all or
//! nothing, in one round trip.

pub const CUSTOMER_COLUMNS: &str = "c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date";

pub const CUSTOMER_BY_EMAIL: &str = "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date FROM dbo.Customers AS c WHERE c.email = @P1";

pub const CUSTOMER_BY_ID: &str = "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date FROM dbo.Customers AS c WHERE c.customer_id = @P1";

/// @P1..@P6 customer, @P7..@P11 audit (timestamp, admin, action, email, details).
pub const INSERT_CUSTOMER: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @id INT;
INSERT INTO dbo.Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, must_reset_password)
VALUES (@P1, @P2, @P3, @P4, @P5, 1, @P6);
SET @id = CAST(SCOPE_IDENTITY() AS INT);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P7, @P8, @P9, @id, @P10, @P11);
COMMIT TRANSACTION;
SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, c.erp_customer_name, c.is_active,
       c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.Customers AS c WHERE c.customer_id = @id;";

pub const COUNT_BY_STATUS: &str = "SELECT CAST(COALESCE(SUM(CASE WHEN is_active = 1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN is_active = 1 THEN 0 ELSE 1 END), 0) AS BIGINT) FROM dbo.Customers";

/// @P1 is_active filter (NULL = all), @P2 LIKE pattern (NULL = no search).
pub const LIST_CUSTOMERS: &str = "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.Customers AS c
WHERE (@P1 IS NULL OR c.is_active = @P1)
  AND (@P2 IS NULL OR LOWER(c.first_name + N' ' + COALESCE(c.last_name, N'') + N' ' + c.email + N' ' + c.erp_customer_name) LIKE @P2 ESCAPE '\\')
ORDER BY LOWER(COALESCE(c.last_name, N'')), LOWER(c.first_name), c.email";

/// `{ids}` is replaced by `@P1, …, @Pn` (every id bound).
pub const CUSTOMERS_BY_IDS: &str = "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date FROM dbo.Customers AS c WHERE c.customer_id IN ({ids})";

/// @P1..@P6 changes + id, @P7 end sessions (bit); `{audits}` is replaced by audit inserts.
/// Nothing is written or audited when no customer row matched (then no row is returned);
/// `{audits}` is empty or an `IF @n > 0 BEGIN … END;` block.
pub const UPDATE_CUSTOMER: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.Customers SET first_name = @P1, last_name = @P2, email = @P3, erp_customer_name = @P4, is_active = @P5
WHERE customer_id = @P6;
SET @n = @@ROWCOUNT;
IF @n > 0 AND @P7 = 1 DELETE FROM dbo.ActiveSessions WHERE customer_id = @P6;
{audits}
COMMIT TRANSACTION;
SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, c.erp_customer_name, c.is_active,
       c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.Customers AS c WHERE c.customer_id = @P6 AND @n > 0;";

/// @P1 customer, @P2 token hash, @P3 expiry (UTC), @P4 now (UTC): the new link replaces
/// every unused one of the account; expired links go.
pub const ISSUE_RESET_TOKEN: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DELETE FROM dbo.PasswordResetTokens WHERE expiry_date <= @P4;
UPDATE dbo.PasswordResetTokens SET is_used = 1 WHERE customer_id = @P1 AND is_used = 0;
INSERT INTO dbo.PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) VALUES (@P1, @P2, @P3, 0);
COMMIT TRANSACTION;";

/// @P1 token hash, @P2 now (UTC).
pub const RESET_TOKEN_CUSTOMER: &str =
    "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.PasswordResetTokens AS t JOIN dbo.Customers AS c ON c.customer_id = t.customer_id
WHERE t.token_hash = @P1 AND t.is_used = 0 AND t.expiry_date > @P2 AND c.is_active = 1";

/// @P1 token hash, @P2 customer, @P3 now (UTC), @P4 new password hash, @P5..@P10 audit.
/// Returns 1 when this batch used the link, 0 when it was used, expired or the account
/// inactive (then nothing is written).
pub const USE_RESET_TOKEN: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT = 0;
DECLARE @active BIT;
-- The customer's row first, as every other transaction takes it.
SELECT @active = is_active FROM dbo.Customers WITH (UPDLOCK, ROWLOCK) WHERE customer_id = @P2;
-- Two uses of one link wait here for each other; the second then finds it used.
IF @active = 1
    SELECT @n = COUNT(*) FROM dbo.PasswordResetTokens
    WHERE token_hash = @P1 AND customer_id = @P2 AND is_used = 0 AND expiry_date > @P3;
IF @n > 0
BEGIN
    UPDATE dbo.Customers SET password_hash = @P4, must_reset_password = 0 WHERE customer_id = @P2;
    DELETE FROM dbo.ActiveSessions WHERE customer_id = @P2;
    UPDATE dbo.PasswordResetTokens SET is_used = 1 WHERE customer_id = @P2 AND is_used = 0;
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P5, @P6, @P7, @P8, @P9, @P10);
END;
COMMIT TRANSACTION;
SELECT @n;";

pub const PART_MINIMUMS_ALL: &str = "SELECT erp_customer_name, part, minimum_qty, updated_at, updated_by \
     FROM dbo.PartMinimums ORDER BY erp_customer_name, part";

/// `{names}` is replaced by `@P1, …, @Pn` (every name bound).
pub const PART_MINIMUMS_IN: &str = "SELECT erp_customer_name, part, minimum_qty, updated_at, updated_by \
     FROM dbo.PartMinimums WHERE erp_customer_name IN ({names}) ORDER BY erp_customer_name, part";

/// @P1 customer, @P2 part, @P3 minimum, @P4 when (UTC), @P5 by.
pub const SET_PART_MINIMUM: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
UPDATE dbo.PartMinimums SET minimum_qty = @P3, updated_at = @P4, updated_by = @P5
WHERE erp_customer_name = @P1 AND part = @P2;
IF @@ROWCOUNT = 0
    INSERT INTO dbo.PartMinimums (erp_customer_name, part, minimum_qty, updated_at, updated_by)
    VALUES (@P1, @P2, @P3, @P4, @P5);
COMMIT TRANSACTION;";

pub const REMOVE_PART_MINIMUM: &str =
    "DELETE FROM dbo.PartMinimums WHERE erp_customer_name = @P1 AND part = @P2";

pub const SAVED_VIEWS: &str = "SELECT view_id, customer_id, name, query, created_at, updated_at \
     FROM dbo.SavedViews WHERE customer_id = @P1 ORDER BY name, view_id";

pub const SAVED_VIEW: &str = "SELECT view_id, customer_id, name, query, created_at, updated_at \
     FROM dbo.SavedViews WHERE view_id = @P1 AND customer_id = @P2";

/// @P1 customer, @P2 name, @P3 query, @P4 when (UTC).
/// @P5 the most views an account may keep: counted and inserted in one transaction (the
/// count's range lock holds off a concurrent save); no row back when the limit is reached.
pub const INSERT_SAVED_VIEW: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @id INT = NULL;
IF (SELECT COUNT(*) FROM dbo.SavedViews WITH (UPDLOCK, HOLDLOCK) WHERE customer_id = @P1) < @P5
BEGIN
    INSERT INTO dbo.SavedViews (customer_id, name, query, created_at, updated_at) VALUES (@P1, @P2, @P3, @P4, @P4);
    SET @id = CAST(SCOPE_IDENTITY() AS INT);
END;
COMMIT TRANSACTION;
SELECT view_id, customer_id, name, query, created_at, updated_at
FROM dbo.SavedViews WHERE view_id = @id;";

/// @P1 name, @P2 when, @P3 view, @P4 customer: no row back when the account has no such view.
pub const RENAME_SAVED_VIEW: &str = "SET NOCOUNT ON;
UPDATE dbo.SavedViews SET name = @P1, updated_at = @P2 WHERE view_id = @P3 AND customer_id = @P4;
SELECT view_id, customer_id, name, query, created_at, updated_at
FROM dbo.SavedViews WHERE view_id = @P3 AND customer_id = @P4;";

/// @P1 view, @P2 customer: the view's reports go with it (no cascading key on SQL Server,
/// where two paths from Customers would be refused).
pub const DELETE_SAVED_VIEW: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.ReportSubscriptions WHERE view_id = @P1 AND customer_id = @P2;
DELETE FROM dbo.SavedViews WHERE view_id = @P1 AND customer_id = @P2;
SET @n = @@ROWCOUNT;
COMMIT TRANSACTION;
SELECT @n;";

// Subscriptions are read with their saved view's name (a list names them without a query
// per view).

/// @P1..@P9 customer, kind, view, frequency, weekday, hour, format, created, next run.
/// @P10 the most subscriptions an account may have: counted and inserted in one
/// transaction; no row back when the limit is reached.
pub const INSERT_SUBSCRIPTION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @id INT = NULL;
IF (SELECT COUNT(*) FROM dbo.ReportSubscriptions WITH (UPDLOCK, HOLDLOCK) WHERE customer_id = @P1) < @P10
BEGIN
    INSERT INTO dbo.ReportSubscriptions (customer_id, kind, view_id, frequency, weekday, hour, format, created_at, next_run_at)
    VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8, @P9);
    SET @id = CAST(SCOPE_IDENTITY() AS INT);
END;
COMMIT TRANSACTION;
SELECT s.subscription_id, s.customer_id, s.kind, s.view_id, s.frequency, s.weekday, s.hour, s.format, \
     s.paused, s.paused_by, s.created_at, s.next_run_at, s.lease_owner, s.lease_until, s.attempts, \
     s.last_sent_at, s.last_status, s.last_error, s.sent_count, v.name
FROM dbo.ReportSubscriptions AS s LEFT JOIN dbo.SavedViews AS v ON v.view_id = s.view_id
WHERE s.subscription_id = @id;";

/// @P1 customer (NULL: all).
pub const SUBSCRIPTIONS: &str = "SELECT s.subscription_id, s.customer_id, s.kind, s.view_id, s.frequency, s.weekday, s.hour, s.format, \
     s.paused, s.paused_by, s.created_at, s.next_run_at, s.lease_owner, s.lease_until, s.attempts, \
     s.last_sent_at, s.last_status, s.last_error, s.sent_count, v.name
FROM dbo.ReportSubscriptions AS s LEFT JOIN dbo.SavedViews AS v ON v.view_id = s.view_id
WHERE @P1 IS NULL OR s.customer_id = @P1 ORDER BY s.customer_id, s.subscription_id";

pub const SUBSCRIPTION: &str = "SELECT s.subscription_id, s.customer_id, s.kind, s.view_id, s.frequency, s.weekday, s.hour, s.format, \
     s.paused, s.paused_by, s.created_at, s.next_run_at, s.lease_owner, s.lease_until, s.attempts, \
     s.last_sent_at, s.last_status, s.last_error, s.sent_count, v.name
FROM dbo.ReportSubscriptions AS s LEFT JOIN dbo.SavedViews AS v ON v.view_id = s.view_id
WHERE s.subscription_id = @P1";

/// @P1 id, @P2 customer (NULL: any).
pub const DELETE_SUBSCRIPTION: &str = "DELETE FROM dbo.ReportSubscriptions WHERE subscription_id = @P1 AND (@P2 IS NULL OR customer_id = @P2)";

/// @P1 paused, @P2 by, @P3 id, @P4 customer (NULL: any).
pub const SET_SUBSCRIPTION_PAUSED: &str = "UPDATE dbo.ReportSubscriptions SET paused = @P1, paused_by = @P2 \
     WHERE subscription_id = @P3 AND (@P4 IS NULL OR customer_id = @P4)";

/// @P1 now (UTC), @P2 how many.
pub const DUE_SUBSCRIPTIONS: &str = "SELECT TOP (@P2) subscription_id FROM dbo.ReportSubscriptions
WHERE paused = 0 AND next_run_at <= @P1 AND (lease_until IS NULL OR lease_until <= @P1)
ORDER BY next_run_at, subscription_id";

/// @P1 owner, @P2 lease until, @P3 id, @P4 now: one conditional update, one winner.
pub const CLAIM_SUBSCRIPTION: &str =
    "UPDATE dbo.ReportSubscriptions SET lease_owner = @P1, lease_until = @P2
WHERE subscription_id = @P3 AND paused = 0 AND next_run_at <= @P4
  AND (lease_until IS NULL OR lease_until <= @P4)";

/// @P1 lease until, @P2 id, @P3 owner: only the holder moves its lease.
pub const RENEW_SUBSCRIPTION_LEASE: &str = "UPDATE dbo.ReportSubscriptions SET lease_until = @P1 WHERE subscription_id = @P2 AND lease_owner = @P3";

/// @P1 day, @P2 owner, @P3 lease until, @P4 now: a new day, or one whose capture lapsed
/// unfinished. Returns 1 when `owner` now holds it.
pub const CLAIM_HISTORY_DAY: &str = "SET NOCOUNT ON;
DECLARE @n INT = 0;
BEGIN TRY
    INSERT INTO dbo.HistoryCaptures (day, owner, lease_until) VALUES (@P1, @P2, @P3);
    SET @n = 1;
END TRY
BEGIN CATCH
    IF ERROR_NUMBER() NOT IN (2601, 2627) THROW;
    UPDATE dbo.HistoryCaptures SET owner = @P2, lease_until = @P3
    WHERE day = @P1 AND finished_at IS NULL AND lease_until <= @P4;
    SET @n = @@ROWCOUNT;
END CATCH;
SELECT @n;";

/// @P1 day, @P2 owner: 1 while `owner` holds the unfinished day.
pub const HISTORY_DAY_HELD: &str = "SELECT COUNT(*) FROM dbo.HistoryCaptures WHERE day = @P1 AND owner = @P2 AND finished_at IS NULL";

/// @P1 day, @P2 owner, @P3 now, @P4 parts.
pub const FINISH_HISTORY_DAY: &str = "UPDATE dbo.HistoryCaptures SET finished_at = @P3, parts = @P4
WHERE day = @P1 AND owner = @P2 AND finished_at IS NULL";

/// Rows of parts for one day, in one transaction: @P1 day, @P2 demo (1: keep what is
/// there), then seven parameters a row from @P3 (customer, part, on hand, lots, expired,
/// expiring, received). Idempotent: running it again writes the same rows.
pub fn upsert_history_days(rows: usize) -> String {
    let values = (0..rows)
        .map(|i| {
            let b = 3 + i * 7;
            format!(
                "(@P{}, @P{}, @P{}, @P{}, @P{}, @P{}, @P{})",
                b,
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @rows TABLE (c NVARCHAR(255), p NVARCHAR(100), oh FLOAT, l INT, ex FLOAT, es FLOAT, rc FLOAT);
INSERT INTO @rows (c, p, oh, l, ex, es, rc) VALUES {values};
INSERT INTO dbo.HistoryParts (erp_customer_name, part)
SELECT DISTINCT r.c, r.p FROM @rows r
WHERE NOT EXISTS (SELECT 1 FROM dbo.HistoryParts hp WITH (UPDLOCK, HOLDLOCK)
                  WHERE hp.erp_customer_name = r.c AND hp.part = r.p);
MERGE dbo.InventoryHistory WITH (HOLDLOCK) AS h
USING (SELECT hp.part_key, r.oh, r.l, r.ex, r.es, r.rc FROM @rows r
       JOIN dbo.HistoryParts hp ON hp.erp_customer_name = r.c AND hp.part = r.p) AS s
ON h.part_key = s.part_key AND h.day = @P1
WHEN MATCHED AND @P2 = 0 THEN UPDATE SET on_hand = s.oh, lots = s.l, expired_qty = s.ex,
    expiring_qty = s.es, received_qty = s.rc, demo = 0
WHEN NOT MATCHED THEN INSERT (part_key, day, on_hand, lots, expired_qty, expiring_qty, received_qty, demo)
    VALUES (s.part_key, @P1, s.oh, s.l, s.ex, s.es, s.rc, @P2);
COMMIT TRANSACTION;"
    )
}

/// Totals for one day: @P1 day, @P2 demo, then seven parameters a row from @P3
/// (customer, on hand, lots, expired, expiring, received, parts).
pub fn upsert_history_totals(rows: usize) -> String {
    let values = (0..rows)
        .map(|i| {
            let b = 3 + i * 7;
            format!(
                "(@P{}, @P{}, @P{}, @P{}, @P{}, @P{}, @P{})",
                b,
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @rows TABLE (c NVARCHAR(255), oh FLOAT, l INT, ex FLOAT, es FLOAT, rc FLOAT, n INT);
INSERT INTO @rows (c, oh, l, ex, es, rc, n) VALUES {values};
MERGE dbo.HistoryTotals WITH (HOLDLOCK) AS t
USING @rows AS s
ON t.erp_customer_name = s.c AND t.day = @P1
WHEN MATCHED AND @P2 = 0 THEN UPDATE SET on_hand = s.oh, lots = s.l, expired_qty = s.ex,
    expiring_qty = s.es, received_qty = s.rc, parts = s.n, demo = 0
WHEN NOT MATCHED THEN INSERT (erp_customer_name, day, on_hand, lots, expired_qty, expiring_qty, received_qty, parts, demo)
    VALUES (s.c, @P1, s.oh, s.l, s.ex, s.es, s.rc, s.n, @P2);
COMMIT TRANSACTION;"
    )
}

pub const HAS_HISTORY: &str =
    "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM dbo.InventoryHistory) THEN 1 ELSE 0 END AS INT)";

/// @P1 before, @P2 batch: part rows deleted.
pub const PRUNE_HISTORY: &str = "SET NOCOUNT ON;
DELETE TOP (@P2) FROM dbo.InventoryHistory WHERE day < @P1;
DECLARE @n INT = @@ROWCOUNT;
DELETE TOP (@P2) FROM dbo.HistoryTotals WHERE day < @P1;
DELETE FROM dbo.HistoryCaptures WHERE day < @P1;
SELECT @n;";

/// A part's (or every part's) days: @P1 the part (when `part`), @P2..@P3 the days,
/// @P4..@P6 the key to start after (when `after`), @P7 the most rows; then the
/// customers' names from @P8 when `customers` is `Some(n)`. One statement per variant
/// (not `@P1 IS NULL OR …`) so each gets a plan that seeks: by part through
/// IX_HistoryParts_part, by key through the parts' unique key, and each part's days by
/// the primary key.
pub fn part_history(customers: Option<usize>, part: bool, after: bool) -> String {
    let mut filter = String::new();
    if part {
        filter.push_str(" AND hp.part = @P1");
    }
    if after {
        filter.push_str(
            " AND (hp.erp_customer_name > @P4
       OR (hp.erp_customer_name = @P4 AND hp.part > @P5)
       OR (hp.erp_customer_name = @P4 AND hp.part = @P5 AND h.day > @P6))",
        );
    }
    if let Some(n) = customers {
        filter.push_str(&format!(
            " AND hp.erp_customer_name IN ({})",
            (8..8 + n.max(1))
                .map(|i| format!("@P{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!(
        "SELECT TOP (@P7) hp.erp_customer_name, hp.part, h.day, h.on_hand, h.lots, h.expired_qty,
       h.expiring_qty, h.received_qty, h.demo
FROM dbo.HistoryParts hp JOIN dbo.InventoryHistory h ON h.part_key = hp.part_key
WHERE h.day BETWEEN @P2 AND @P3{filter}
ORDER BY hp.erp_customer_name, hp.part, h.day"
    )
}

/// @P1..@P2 days; then the customers from @P3 when `customers` is `Some(n)`.
pub fn customer_history(customers: Option<usize>) -> String {
    let filter = match customers {
        None => String::new(),
        Some(n) => format!(
            " AND erp_customer_name IN ({})",
            (3..3 + n.max(1))
                .map(|i| format!("@P{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "SELECT erp_customer_name, day, on_hand, lots, expired_qty, expiring_qty, received_qty,
       parts, demo
FROM dbo.HistoryTotals WHERE day BETWEEN @P1 AND @P2{filter}
ORDER BY erp_customer_name, day"
    )
}

/// @P1 next run, @P2 attempts, @P3 status, @P4 error, @P5 sent at (NULL: none), @P6 id,
/// @P7 owner, @P8 write the audit row (bit), @P9..@P14 audit. Returns 1 when recorded.
pub const FINISH_SUBSCRIPTION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.ReportSubscriptions SET next_run_at = @P1, attempts = @P2, last_status = @P3, last_error = @P4,
    last_sent_at = COALESCE(@P5, last_sent_at),
    sent_count = sent_count + (CASE WHEN @P5 IS NULL THEN 0 ELSE 1 END),
    lease_owner = NULL, lease_until = NULL
WHERE subscription_id = @P6 AND lease_owner = @P7;
SET @n = @@ROWCOUNT;
IF @n > 0 AND @P8 = 1
BEGIN
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P9, @P10, @P11, @P12, @P13, @P14);
END;
COMMIT TRANSACTION;
SELECT @n;";

/// One audit insert inside a batch; `{n}` is the first parameter index of six.
pub const AUDIT_INSERT_TEMPLATE: &str = "INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details) \
     VALUES (@P{a}, @P{b}, @P{c}, @P{d}, @P{e}, @P{f});";

/// @P1 hash, @P2 must reset, @P3 id, @P4 session to keep (NULL = none), @P5..@P10 audit.
/// Returns the number of customer rows changed: 0 means no such customer, and then
/// nothing was written or audited.
pub const CHANGE_PASSWORD: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.Customers SET password_hash = @P1, must_reset_password = @P2 WHERE customer_id = @P3;
SET @n = @@ROWCOUNT;
IF @n > 0
BEGIN
    DELETE FROM dbo.ActiveSessions WHERE customer_id = @P3 AND (@P4 IS NULL OR session_id <> @P4);
    UPDATE dbo.PasswordResetTokens SET is_used = 1 WHERE customer_id = @P3 AND is_used = 0;
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P5, @P6, @P7, @P8, @P9, @P10);
END;
COMMIT TRANSACTION;
SELECT @n;";

/// @P1..@P6 session (UTC), @P7..@P12 audit, @P13 the sign-in in APP_DB_TIME_ZONE.
pub const BEGIN_CUSTOMER_SESSION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
UPDATE dbo.Customers SET last_login_date = @P13 WHERE customer_id = @P2;
INSERT INTO dbo.ActiveSessions (session_id, customer_id, last_seen, ip_address, user_agent, created_at)
VALUES (@P1, @P2, @P3, @P4, @P5, @P6);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P7, @P8, @P9, @P10, @P11, @P12);
COMMIT TRANSACTION;";

pub const SESSION_WITH_CUSTOMER: &str = "SELECT s.session_id, s.customer_id, s.last_seen, s.ip_address, s.user_agent, s.created_at, \
     c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, c.erp_customer_name, c.is_active, \
     c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.ActiveSessions AS s JOIN dbo.Customers AS c ON c.customer_id = s.customer_id
WHERE s.session_id = @P1";

pub const TOUCH_SESSION: &str =
    "UPDATE dbo.ActiveSessions SET last_seen = @P1 WHERE session_id = @P2";

/// @P1 session, @P2 write audit (bit), @P3..@P8 audit. Returns the rows deleted.
pub const END_CUSTOMER_SESSION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.ActiveSessions WHERE session_id = @P1;
SET @n = @@ROWCOUNT;
IF @n > 0 AND @P2 = 1
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P3, @P4, @P5, @P6, @P7, @P8);
COMMIT TRANSACTION;
SELECT @n;";

pub const LIST_ACTIVE_SESSIONS: &str = "SELECT session_id, customer_id, last_seen, ip_address, user_agent, created_at \
     FROM dbo.ActiveSessions ORDER BY last_seen DESC";

pub const TWO_FACTOR: &str = "SELECT account_key, secret_sealed, confirmed_at, last_step, created_at, trusted_since \
     FROM dbo.TwoFactor WHERE account_key = @P1";

/// @P1 account, @P2 at, @P3..@P8 audit. Returns 1 when two-step sign-in was on.
pub const FORGET_TRUSTED_BROWSERS: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.TwoFactor SET trusted_since = @P2 WHERE account_key = @P1 AND confirmed_at IS NOT NULL;
SET @n = @@ROWCOUNT;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P3, @P4, @P5, @P6, @P7, @P8);
COMMIT TRANSACTION;
SELECT @n;";

/// @P1 account, @P2 sealed secret, @P3 at. Returns 1 when written, 0 when the account has
/// a confirmed second factor.
pub const BEGIN_TWO_FACTOR: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.TwoFactor WITH (UPDLOCK, HOLDLOCK)
SET secret_sealed = @P2, last_step = NULL, created_at = @P3
WHERE account_key = @P1 AND confirmed_at IS NULL;
SET @n = @@ROWCOUNT;
IF @n = 0 AND NOT EXISTS (SELECT 1 FROM dbo.TwoFactor WITH (UPDLOCK, HOLDLOCK) WHERE account_key = @P1)
BEGIN
    INSERT INTO dbo.TwoFactor (account_key, secret_sealed, confirmed_at, last_step, created_at)
    VALUES (@P1, @P2, NULL, NULL, @P3);
    SET @n = 1;
END;
COMMIT TRANSACTION;
SELECT @n;";

/// The recovery codes' insert for `n` codes bound from `@P<first>` on (account `@P1`).
fn insert_codes(n: usize, first: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let rows: Vec<String> = (0..n)
        .map(|i| format!("(@P1, @P{}, NULL)", first + i))
        .collect();
    format!(
        "INSERT INTO dbo.TwoFactorRecoveryCodes (account_key, code_hash, used_at) VALUES {};",
        rows.join(", ")
    )
}

/// @P1 account, @P2 at, @P3 step, @P4..@P9 audit, @P10.. the `n` code hashes. Returns 1
/// when confirmed, 0 when there was no enrolment to confirm.
pub fn confirm_two_factor(n: usize) -> String {
    format!(
        "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.TwoFactor SET confirmed_at = @P2, trusted_since = @P2, last_step = @P3
WHERE account_key = @P1 AND confirmed_at IS NULL;
SET @n = @@ROWCOUNT;
IF @n > 0
BEGIN
    DELETE FROM dbo.TwoFactorRecoveryCodes WHERE account_key = @P1;
    {}
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P4, @P5, @P6, @P7, @P8, @P9);
END;
COMMIT TRANSACTION;
SELECT @n;",
        insert_codes(n, 10)
    )
}

/// @P1 account, @P2.. the `n` code hashes.
pub fn replace_recovery_codes(n: usize) -> String {
    format!(
        "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DELETE FROM dbo.TwoFactorRecoveryCodes WHERE account_key = @P1;
{}
COMMIT TRANSACTION;",
        insert_codes(n, 2)
    )
}

/// @P1 step, @P2 account: one conditional update, so a code is accepted once.
pub const USE_TWO_FACTOR_STEP: &str = "UPDATE dbo.TwoFactor SET last_step = @P1 \
     WHERE account_key = @P2 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < @P1)";

/// @P1 at, @P2 account, @P3 code hash, @P4..@P9 audit. Returns 1 when the code was used now.
pub const USE_RECOVERY_CODE: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE TOP (1) dbo.TwoFactorRecoveryCodes SET used_at = @P1
WHERE account_key = @P2 AND code_hash = @P3 AND used_at IS NULL;
SET @n = @@ROWCOUNT;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P4, @P5, @P6, @P7, @P8, @P9);
COMMIT TRANSACTION;
SELECT @n;";

pub const RECOVERY_CODES_LEFT: &str =
    "SELECT COUNT(*) FROM dbo.TwoFactorRecoveryCodes WHERE account_key = @P1 AND used_at IS NULL";

/// @P1 account, @P2..@P7 audit. Returns the rows of `TwoFactor` deleted.
pub const REMOVE_TWO_FACTOR: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.TwoFactorRecoveryCodes WHERE account_key = @P1;
DELETE FROM dbo.TwoFactor WHERE account_key = @P1;
SET @n = @@ROWCOUNT;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P2, @P3, @P4, @P5, @P6, @P7);
COMMIT TRANSACTION;
SELECT @n;";

/// @P1 customer.
pub const CUSTOMER_SESSIONS: &str = "SELECT session_id, customer_id, last_seen, ip_address, user_agent, created_at \
     FROM dbo.ActiveSessions WHERE customer_id = @P1 ORDER BY last_seen DESC";

/// @P1 customer, @P2 the session kept, @P3..@P8 audit. Returns the rows deleted.
pub const END_OTHER_CUSTOMER_SESSIONS: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.ActiveSessions WHERE customer_id = @P1 AND session_id <> @P2;
SET @n = @@ROWCOUNT;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P3, @P4, @P5, @P6, @P7, @P8);
COMMIT TRANSACTION;
SELECT @n;";

pub const PURGE_SESSIONS: &str =
    "DELETE FROM dbo.ActiveSessions WHERE last_seen < @P1 OR created_at < @P2";

pub const APPEND_AUDIT: &str = "SET NOCOUNT ON;
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P1, @P2, @P3, @P4, @P5, @P6);
SELECT CAST(SCOPE_IDENTITY() AS BIGINT);";

pub const AUDIT_COLUMNS: &str = "log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details";

/// @P1 admin, @P2 action, @P3 email pattern, @P4 id (each NULL = not filtered).
pub const AUDIT_COUNT: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM dbo.AuditLog
WHERE (@P1 IS NULL OR admin_username = @P1) AND (@P2 IS NULL OR action_type = @P2)
  AND ((@P3 IS NULL AND @P4 IS NULL) OR LOWER(COALESCE(target_customer_email, N'')) LIKE @P3 ESCAPE '\\' OR target_customer_id = @P4)";

/// As AUDIT_COUNT, then @P5 the id to start below (NULL = newest) and @P6 page size.
pub const AUDIT_PAGE: &str = "SELECT TOP (@P6) log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details
FROM dbo.AuditLog
WHERE (@P1 IS NULL OR admin_username = @P1) AND (@P2 IS NULL OR action_type = @P2)
  AND ((@P3 IS NULL AND @P4 IS NULL) OR LOWER(COALESCE(target_customer_email, N'')) LIKE @P3 ESCAPE '\\' OR target_customer_id = @P4)
  AND (@P5 IS NULL OR log_id < @P5)
ORDER BY log_id DESC";

pub const AUDIT_ADMINS: &str =
    "SELECT DISTINCT admin_username FROM dbo.AuditLog ORDER BY admin_username";
pub const AUDIT_ACTIONS: &str =
    "SELECT DISTINCT action_type FROM dbo.AuditLog ORDER BY action_type";

pub const AUDIT_SINCE: &str = "SELECT log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details
FROM dbo.AuditLog WHERE action_type = @P1 AND timestamp >= @P2 ORDER BY timestamp, log_id";

pub const TOP_AUDIT_TARGETS: &str =
    "SELECT TOP (@P2) target_customer_email, CAST(COUNT(*) AS BIGINT) AS n FROM dbo.AuditLog
WHERE action_type = @P1 AND target_customer_email IS NOT NULL
GROUP BY target_customer_email ORDER BY n DESC, target_customer_email";

pub const LATEST_AUDIT: &str = "SELECT TOP (@P2) log_id, timestamp, admin_username, action_type, target_customer_id, \
     target_customer_email, details FROM dbo.AuditLog WHERE action_type = @P1 ORDER BY timestamp DESC, log_id DESC";

/// @P1..@P8 session, @P9..@P14 audit.
pub const BEGIN_ADMIN_SESSION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
INSERT INTO dbo.AdminSessions (session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen)
VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P9, @P10, @P11, @P12, @P13, @P14);
COMMIT TRANSACTION;";

pub const ADMIN_SESSION: &str = "SELECT session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen \
     FROM dbo.AdminSessions WHERE session_id = @P1";

pub const TOUCH_ADMIN_SESSION: &str =
    "UPDATE dbo.AdminSessions SET last_seen = @P1 WHERE session_id = @P2";

/// @P1 session, @P2 write audit (bit), @P3..@P8 audit.
pub const END_ADMIN_SESSION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.AdminSessions WHERE session_id = @P1;
SET @n = @@ROWCOUNT;
IF @n > 0 AND @P2 = 1
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P3, @P4, @P5, @P6, @P7, @P8);
COMMIT TRANSACTION;
SELECT @n;";

pub const PURGE_ADMIN_SESSIONS: &str =
    "DELETE FROM dbo.AdminSessions WHERE last_seen < @P1 OR created_at < @P2";

/// Inserts unless the id exists; returns 1 when inserted.
pub const CREATE_WEB_SESSION: &str = "SET NOCOUNT ON;
IF EXISTS (SELECT 1 FROM dbo.WebSessions WITH (UPDLOCK, HOLDLOCK) WHERE id = @P1)
    SELECT 0;
ELSE
BEGIN
    INSERT INTO dbo.WebSessions (id, data, expiry_date) VALUES (@P1, @P2, @P3);
    SELECT 1;
END;";

pub const SAVE_WEB_SESSION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
UPDATE dbo.WebSessions WITH (UPDLOCK, SERIALIZABLE) SET data = @P2, expiry_date = @P3 WHERE id = @P1;
IF @@ROWCOUNT = 0 INSERT INTO dbo.WebSessions (id, data, expiry_date) VALUES (@P1, @P2, @P3);
COMMIT TRANSACTION;";

pub const LOAD_WEB_SESSION: &str =
    "SELECT id, data, expiry_date FROM dbo.WebSessions WHERE id = @P1 AND expiry_date > @P2";
pub const DELETE_WEB_SESSION: &str = "DELETE FROM dbo.WebSessions WHERE id = @P1";
pub const PURGE_WEB_SESSIONS: &str = "DELETE FROM dbo.WebSessions WHERE expiry_date <= @P1";

pub const SETTING: &str = "SELECT setting_value FROM dbo.PortalSettings WHERE setting_key = @P1";

pub const SETTING_INSERT_IF_ABSENT: &str = "SET NOCOUNT ON;
IF NOT EXISTS (SELECT 1 FROM dbo.PortalSettings WITH (UPDLOCK, HOLDLOCK) WHERE setting_key = @P1)
    INSERT INTO dbo.PortalSettings (setting_key, setting_value) VALUES (@P1, @P2);
SELECT setting_value FROM dbo.PortalSettings WHERE setting_key = @P1;";

/// @P1 key, @P2 value: update, or insert when there is none.
pub const SET_SETTING: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
UPDATE dbo.PortalSettings WITH (UPDLOCK, HOLDLOCK) SET setting_value = @P2 WHERE setting_key = @P1;
IF @@ROWCOUNT = 0
    INSERT INTO dbo.PortalSettings (setting_key, setting_value) VALUES (@P1, @P2);
COMMIT TRANSACTION;";

pub const UPGRADE_PASSWORD_HASH: &str =
    "UPDATE dbo.Customers SET password_hash = @P1 WHERE customer_id = @P2";

pub const RECORD_LOGIN_FAILURE: &str =
    "INSERT INTO dbo.LoginFailures (attempted_at, login_name, ip_address) VALUES (@P1, @P2, @P3)";

/// @P1 name, @P2 address (NULL = none), @P3 since, @P4 settled before, @P5 now, @P6 the
/// name's lock, @P7 the address's lock (NULL = none). The counts from before the attempt,
/// then its id. Application locks on the name and then the address (always in that
/// order) make read-and-record one step across every instance; they are released with
/// the transaction.
pub const BEGIN_LOGIN_ATTEMPT: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @lock INT;
EXEC @lock = sp_getapplock @Resource = @P6, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 5000;
IF @lock < 0 THROW 51001, 'the sign-in throttle lock timed out', 1;
IF @P7 IS NOT NULL
BEGIN
    EXEC @lock = sp_getapplock @Resource = @P7, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 5000;
    IF @lock < 0 THROW 51001, 'the sign-in throttle lock timed out', 1;
END;
DECLARE @by_name BIGINT = (SELECT COUNT_BIG(*) FROM dbo.LoginFailures WHERE login_name = @P1 AND attempted_at >= @P3);
DECLARE @by_address BIGINT = (SELECT COUNT_BIG(*) FROM dbo.LoginFailures
    WHERE @P2 IS NOT NULL AND ip_address = @P2 AND attempted_at >= @P3 AND (in_flight = 0 OR attempted_at < @P4));
DECLARE @by_pair BIGINT = (SELECT COUNT_BIG(*) FROM dbo.LoginFailures
    WHERE login_name = @P1 AND @P2 IS NOT NULL AND ip_address = @P2 AND attempted_at >= @P3);
DECLARE @in_flight BIGINT = (SELECT COUNT_BIG(*) FROM dbo.LoginFailures
    WHERE @P2 IS NOT NULL AND ip_address = @P2 AND in_flight = 1 AND attempted_at >= @P4);
DECLARE @last DATETIME2 = (SELECT MAX(attempted_at) FROM dbo.LoginFailures WHERE login_name = @P1 AND attempted_at >= @P3);
INSERT INTO dbo.LoginFailures (attempted_at, login_name, ip_address, in_flight) VALUES (@P5, @P1, @P2, 1);
DECLARE @id BIGINT = CAST(SCOPE_IDENTITY() AS BIGINT);
COMMIT TRANSACTION;
SELECT @by_name, @by_address, @by_pair, @in_flight, @last, @id;";

pub const REFUSED_LOGIN_ATTEMPT: &str = "DELETE FROM dbo.LoginFailures WHERE failure_id = @P1";
pub const FAILED_LOGIN_ATTEMPT: &str =
    "UPDATE dbo.LoginFailures SET in_flight = 0 WHERE failure_id = @P1";
/// @P1 the attempt, @P2 its name: the attempt and the name's failures go.
pub const SUCCEEDED_LOGIN_ATTEMPT: &str =
    "DELETE FROM dbo.LoginFailures WHERE failure_id = @P1 OR login_name = @P2";

/// @P1 name, @P2 limit, @P3 since, @P4 now, @P5 the name's lock: how many before; one more
/// is recorded only below the limit, in the same step.
pub const COUNT_EVENT_BELOW: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @lock INT;
EXEC @lock = sp_getapplock @Resource = @P5, @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 5000;
IF @lock < 0 THROW 51001, 'the request counter lock timed out', 1;
DECLARE @n BIGINT = (SELECT COUNT_BIG(*) FROM dbo.LoginFailures WHERE login_name = @P1 AND attempted_at >= @P3);
IF @n < @P2
    INSERT INTO dbo.LoginFailures (attempted_at, login_name, ip_address, in_flight) VALUES (@P4, @P1, NULL, 0);
COMMIT TRANSACTION;
SELECT @n;";

pub const CLEAR_LOGIN_FAILURES: &str = "DELETE FROM dbo.LoginFailures WHERE login_name = @P1";
pub const PURGE_LOGIN_FAILURES: &str = "DELETE FROM dbo.LoginFailures WHERE attempted_at < @P1";

/// @P1..@P8 token, @P9..@P14 audit; returns the new row.
pub const INSERT_API_TOKEN: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @id INT;
INSERT INTO dbo.ApiTokens (name, token_hash, scopes, erp_customer_name, created_by, created_at, expires_at, rows_per_minute)
VALUES (@P1, @P2, @P3, @P4, @P5, @P6, @P7, @P8);
SET @id = CAST(SCOPE_IDENTITY() AS INT);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P9, @P10, @P11, @P12, @P13, @P14);
COMMIT TRANSACTION;
SELECT token_id, name, token_hash, scopes, erp_customer_name, created_by, created_at, expires_at,
       last_used_at, revoked_at, revoked_by, rows_per_minute
FROM dbo.ApiTokens WHERE token_id = @id;";

pub const LIST_API_TOKENS: &str = "SELECT token_id, name, token_hash, scopes, erp_customer_name, created_by, \
     created_at, expires_at, last_used_at, revoked_at, revoked_by, rows_per_minute FROM dbo.ApiTokens \
     ORDER BY created_at DESC, token_id DESC";

pub const API_TOKEN_BY_HASH: &str = "SELECT token_id, name, token_hash, scopes, erp_customer_name, created_by, \
     created_at, expires_at, last_used_at, revoked_at, revoked_by, rows_per_minute FROM dbo.ApiTokens \
     WHERE token_hash = @P1";

pub const TOUCH_API_TOKEN: &str =
    "UPDATE dbo.ApiTokens SET last_used_at = @P1 WHERE token_id = @P2";

/// @P1 id, @P2 at, @P3 by, @P4..@P9 audit. Returns -1 when there is no such token, else
/// the rows revoked (0 when it was revoked already; then nothing is audited).
pub const REVOKE_API_TOKEN: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
UPDATE dbo.ApiTokens SET revoked_at = @P2, revoked_by = @P3 WHERE token_id = @P1 AND revoked_at IS NULL;
SET @n = @@ROWCOUNT;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P4, @P5, @P6, @P7, @P8, @P9);
IF @n = 0 AND NOT EXISTS (SELECT 1 FROM dbo.ApiTokens WHERE token_id = @P1) SET @n = -1;
COMMIT TRANSACTION;
SELECT @n;";

pub const PING: &str = "SELECT 1";

pub const MIGRATIONS_TABLE: &str = "IF OBJECT_ID(N'dbo.SchemaMigrations', N'U') IS NULL
    CREATE TABLE dbo.SchemaMigrations (
        version INT NOT NULL PRIMARY KEY,
        name NVARCHAR(200) NOT NULL,
        applied_at DATETIME2 NOT NULL
    );";

pub const MIGRATION_DONE: &str =
    "SELECT CAST(COUNT(*) AS INT) FROM dbo.SchemaMigrations WHERE version = @P1";
pub const MIGRATION_RECORD: &str =
    "INSERT INTO dbo.SchemaMigrations (version, name, applied_at) VALUES (@P1, @P2, @P3)";

/// `AUDIT_APPEND_ONLY=True`: a trigger refuses updates and deletes of audit rows.
pub const AUDIT_APPEND_ONLY_ON: &str = "IF OBJECT_ID(N'dbo.AuditLog_append_only', N'TR') IS NULL
    EXEC (N'CREATE TRIGGER dbo.AuditLog_append_only ON dbo.AuditLog INSTEAD OF UPDATE, DELETE AS BEGIN THROW 50001, N''AuditLog is append-only'', 1; END');";

/// The default: no trigger, so the old portal's retention jobs keep working.
pub const AUDIT_APPEND_ONLY_OFF: &str =
    "IF OBJECT_ID(N'dbo.AuditLog_append_only', N'TR') IS NOT NULL
    DROP TRIGGER dbo.AuditLog_append_only;";

// A customer's own team.

/// @P1 customer. Whether it manages a team, and its manager (id, email, scope) if any.
pub const TEAM_PLACE: &str =
    "SELECT CAST(CASE WHEN EXISTS (SELECT 1 FROM dbo.TeamManagers WHERE customer_id = @P1) \
     THEN 1 ELSE 0 END AS BIT), m.customer_id, m.email, m.erp_customer_name
FROM (SELECT 1 AS one) AS o
LEFT JOIN dbo.TeamMembers AS tm ON tm.customer_id = @P1
LEFT JOIN dbo.Customers AS m ON m.customer_id = tm.manager_id";

/// A session, its customer and the customer's team place (TEAM_PLACE's columns after
/// SESSION_WITH_CUSTOMER's).
pub const SESSION_IN_TEAM: &str = "SELECT s.session_id, s.customer_id, s.last_seen, s.ip_address, s.user_agent, s.created_at, \
     c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, c.erp_customer_name, c.is_active, \
     c.last_login_date, c.must_reset_password, c.created_date, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM dbo.TeamManagers AS tmg WHERE tmg.customer_id = s.customer_id) \
     THEN 1 ELSE 0 END AS BIT), m.customer_id, m.email, m.erp_customer_name
FROM dbo.ActiveSessions AS s JOIN dbo.Customers AS c ON c.customer_id = s.customer_id
LEFT JOIN dbo.TeamMembers AS tm ON tm.customer_id = s.customer_id
LEFT JOIN dbo.Customers AS m ON m.customer_id = tm.manager_id
WHERE s.session_id = @P1";

/// @P1 customer, @P2 made by, @P3 at, @P4..@P9 audit. Returns 1 when it became a
/// manager, 0 when it was one already (nothing written).
pub const MAKE_TEAM_MANAGER: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT = 0;
IF NOT EXISTS (SELECT 1 FROM dbo.TeamManagers WITH (UPDLOCK, HOLDLOCK) WHERE customer_id = @P1)
BEGIN
    INSERT INTO dbo.TeamManagers (customer_id, made_by, made_at) VALUES (@P1, @P2, @P3);
    SET @n = 1;
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P4, @P5, @P6, @P7, @P8, @P9);
END;
COMMIT TRANSACTION;
SELECT @n;";

/// @P1 customer, @P2..@P7 audit. Returns 1 when it stopped being a manager (its
/// colleagues are then nobody's), 0 when it was none.
pub const STOP_TEAM_MANAGER: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @n INT;
DELETE FROM dbo.TeamManagers WHERE customer_id = @P1;
SET @n = @@ROWCOUNT;
DELETE FROM dbo.TeamMembers WHERE manager_id = @P1;
IF @n > 0
    INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
    VALUES (@P2, @P3, @P4, @P5, @P6, @P7);
COMMIT TRANSACTION;
SELECT @n;";

/// @P1..@P6 the new account (as INSERT_CUSTOMER), @P7 manager, @P8 token hash, @P9 expiry,
/// @P10 now (UTC), @P11..@P15 audit (its target is the new account).
pub const INVITE_COLLEAGUE: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DECLARE @id INT;
INSERT INTO dbo.Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, must_reset_password)
VALUES (@P1, @P2, @P3, @P4, @P5, 1, @P6);
SET @id = CAST(SCOPE_IDENTITY() AS INT);
INSERT INTO dbo.TeamMembers (customer_id, manager_id, invited_at) VALUES (@id, @P7, @P10);
DELETE FROM dbo.PasswordResetTokens WHERE expiry_date <= @P10;
INSERT INTO dbo.PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) VALUES (@id, @P8, @P9, 0);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P11, @P12, @P13, @id, @P14, @P15);
COMMIT TRANSACTION;
SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, c.erp_customer_name, c.is_active,
       c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.Customers AS c WHERE c.customer_id = @id;";

/// @P1 colleague, @P2 token hash, @P3 expiry, @P4 now (UTC), @P5..@P10 audit.
pub const REISSUE_INVITATION: &str = "SET NOCOUNT ON; SET XACT_ABORT ON; BEGIN TRANSACTION;
DELETE FROM dbo.PasswordResetTokens WHERE expiry_date <= @P4;
UPDATE dbo.PasswordResetTokens SET is_used = 1 WHERE customer_id = @P1 AND is_used = 0;
INSERT INTO dbo.PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) VALUES (@P1, @P2, @P3, 0);
INSERT INTO dbo.AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
VALUES (@P5, @P6, @P7, @P8, @P9, @P10);
COMMIT TRANSACTION;";

/// @P1 manager.
pub const COLLEAGUES: &str =
    "SELECT c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date
FROM dbo.TeamMembers AS tm JOIN dbo.Customers AS c ON c.customer_id = tm.customer_id
WHERE tm.manager_id = @P1
ORDER BY LOWER(COALESCE(c.last_name, N'')), LOWER(c.first_name), c.email";

pub const TEAM_MANAGERS: &str = "SELECT customer_id FROM dbo.TeamManagers ORDER BY customer_id";

pub const TEAM_MEMBERS: &str =
    "SELECT customer_id, manager_id FROM dbo.TeamMembers ORDER BY manager_id, customer_id";

/// Every statement above with the template parts filled as the code fills them, for the
/// static T-SQL check.
pub fn all_for_parsing() -> Vec<(&'static str, String)> {
    let audit = AUDIT_INSERT_TEMPLATE
        .replace("{a}", "8")
        .replace("{b}", "9")
        .replace("{c}", "10")
        .replace("{d}", "11")
        .replace("{e}", "12")
        .replace("{f}", "13");
    vec![
        ("CUSTOMER_BY_EMAIL", CUSTOMER_BY_EMAIL.into()),
        ("CUSTOMER_BY_ID", CUSTOMER_BY_ID.into()),
        ("INSERT_CUSTOMER", INSERT_CUSTOMER.into()),
        ("COUNT_BY_STATUS", COUNT_BY_STATUS.into()),
        ("LIST_CUSTOMERS", LIST_CUSTOMERS.into()),
        (
            "CUSTOMERS_BY_IDS",
            CUSTOMERS_BY_IDS.replace("{ids}", &crate::mssql::placeholders(1, 3)),
        ),
        (
            "UPDATE_CUSTOMER",
            UPDATE_CUSTOMER.replace("{audits}", &format!("IF @n > 0\nBEGIN\n{audit}\nEND;")),
        ),
        ("CHANGE_PASSWORD", CHANGE_PASSWORD.into()),
        ("BEGIN_CUSTOMER_SESSION", BEGIN_CUSTOMER_SESSION.into()),
        ("SESSION_WITH_CUSTOMER", SESSION_WITH_CUSTOMER.into()),
        ("TOUCH_SESSION", TOUCH_SESSION.into()),
        ("END_CUSTOMER_SESSION", END_CUSTOMER_SESSION.into()),
        ("LIST_ACTIVE_SESSIONS", LIST_ACTIVE_SESSIONS.into()),
        ("CUSTOMER_SESSIONS", CUSTOMER_SESSIONS.into()),
        ("TWO_FACTOR", TWO_FACTOR.into()),
        ("TEAM_PLACE", TEAM_PLACE.into()),
        ("SESSION_IN_TEAM", SESSION_IN_TEAM.into()),
        ("MAKE_TEAM_MANAGER", MAKE_TEAM_MANAGER.into()),
        ("STOP_TEAM_MANAGER", STOP_TEAM_MANAGER.into()),
        ("INVITE_COLLEAGUE", INVITE_COLLEAGUE.into()),
        ("REISSUE_INVITATION", REISSUE_INVITATION.into()),
        ("COLLEAGUES", COLLEAGUES.into()),
        ("TEAM_MANAGERS", TEAM_MANAGERS.into()),
        ("TEAM_MEMBERS", TEAM_MEMBERS.into()),
        ("FORGET_TRUSTED_BROWSERS", FORGET_TRUSTED_BROWSERS.into()),
        ("BEGIN_TWO_FACTOR", BEGIN_TWO_FACTOR.into()),
        ("CONFIRM_TWO_FACTOR", confirm_two_factor(10)),
        ("CONFIRM_TWO_FACTOR_NO_CODES", confirm_two_factor(0)),
        ("REPLACE_RECOVERY_CODES", replace_recovery_codes(10)),
        ("USE_TWO_FACTOR_STEP", USE_TWO_FACTOR_STEP.into()),
        ("USE_RECOVERY_CODE", USE_RECOVERY_CODE.into()),
        ("RECOVERY_CODES_LEFT", RECOVERY_CODES_LEFT.into()),
        ("REMOVE_TWO_FACTOR", REMOVE_TWO_FACTOR.into()),
        (
            "END_OTHER_CUSTOMER_SESSIONS",
            END_OTHER_CUSTOMER_SESSIONS.into(),
        ),
        ("PURGE_SESSIONS", PURGE_SESSIONS.into()),
        ("APPEND_AUDIT", APPEND_AUDIT.into()),
        ("AUDIT_COUNT", AUDIT_COUNT.into()),
        ("AUDIT_PAGE", AUDIT_PAGE.into()),
        ("AUDIT_ADMINS", AUDIT_ADMINS.into()),
        ("AUDIT_ACTIONS", AUDIT_ACTIONS.into()),
        ("AUDIT_SINCE", AUDIT_SINCE.into()),
        ("TOP_AUDIT_TARGETS", TOP_AUDIT_TARGETS.into()),
        ("LATEST_AUDIT", LATEST_AUDIT.into()),
        ("BEGIN_ADMIN_SESSION", BEGIN_ADMIN_SESSION.into()),
        ("ADMIN_SESSION", ADMIN_SESSION.into()),
        ("TOUCH_ADMIN_SESSION", TOUCH_ADMIN_SESSION.into()),
        ("END_ADMIN_SESSION", END_ADMIN_SESSION.into()),
        ("PURGE_ADMIN_SESSIONS", PURGE_ADMIN_SESSIONS.into()),
        ("CREATE_WEB_SESSION", CREATE_WEB_SESSION.into()),
        ("SAVE_WEB_SESSION", SAVE_WEB_SESSION.into()),
        ("LOAD_WEB_SESSION", LOAD_WEB_SESSION.into()),
        ("DELETE_WEB_SESSION", DELETE_WEB_SESSION.into()),
        ("PURGE_WEB_SESSIONS", PURGE_WEB_SESSIONS.into()),
        ("SETTING", SETTING.into()),
        ("SETTING_INSERT_IF_ABSENT", SETTING_INSERT_IF_ABSENT.into()),
        ("SET_SETTING", SET_SETTING.into()),
        ("UPGRADE_PASSWORD_HASH", UPGRADE_PASSWORD_HASH.into()),
        ("AUDIT_APPEND_ONLY_ON", AUDIT_APPEND_ONLY_ON.into()),
        ("AUDIT_APPEND_ONLY_OFF", AUDIT_APPEND_ONLY_OFF.into()),
        ("RECORD_LOGIN_FAILURE", RECORD_LOGIN_FAILURE.into()),
        ("BEGIN_LOGIN_ATTEMPT", BEGIN_LOGIN_ATTEMPT.into()),
        ("REFUSED_LOGIN_ATTEMPT", REFUSED_LOGIN_ATTEMPT.into()),
        ("FAILED_LOGIN_ATTEMPT", FAILED_LOGIN_ATTEMPT.into()),
        ("SUCCEEDED_LOGIN_ATTEMPT", SUCCEEDED_LOGIN_ATTEMPT.into()),
        ("COUNT_EVENT_BELOW", COUNT_EVENT_BELOW.into()),
        ("CLEAR_LOGIN_FAILURES", CLEAR_LOGIN_FAILURES.into()),
        ("PURGE_LOGIN_FAILURES", PURGE_LOGIN_FAILURES.into()),
        ("INSERT_API_TOKEN", INSERT_API_TOKEN.into()),
        ("LIST_API_TOKENS", LIST_API_TOKENS.into()),
        ("API_TOKEN_BY_HASH", API_TOKEN_BY_HASH.into()),
        ("TOUCH_API_TOKEN", TOUCH_API_TOKEN.into()),
        ("REVOKE_API_TOKEN", REVOKE_API_TOKEN.into()),
        ("ISSUE_RESET_TOKEN", ISSUE_RESET_TOKEN.into()),
        ("RESET_TOKEN_CUSTOMER", RESET_TOKEN_CUSTOMER.into()),
        ("USE_RESET_TOKEN", USE_RESET_TOKEN.into()),
        ("PART_MINIMUMS_ALL", PART_MINIMUMS_ALL.into()),
        (
            "PART_MINIMUMS_IN",
            PART_MINIMUMS_IN.replace("{names}", &crate::mssql::placeholders(1, 2)),
        ),
        ("SET_PART_MINIMUM", SET_PART_MINIMUM.into()),
        ("REMOVE_PART_MINIMUM", REMOVE_PART_MINIMUM.into()),
        ("SAVED_VIEWS", SAVED_VIEWS.into()),
        ("SAVED_VIEW", SAVED_VIEW.into()),
        ("INSERT_SAVED_VIEW", INSERT_SAVED_VIEW.into()),
        ("RENAME_SAVED_VIEW", RENAME_SAVED_VIEW.into()),
        ("DELETE_SAVED_VIEW", DELETE_SAVED_VIEW.into()),
        ("INSERT_SUBSCRIPTION", INSERT_SUBSCRIPTION.into()),
        ("SUBSCRIPTIONS", SUBSCRIPTIONS.into()),
        ("SUBSCRIPTION", SUBSCRIPTION.into()),
        ("DELETE_SUBSCRIPTION", DELETE_SUBSCRIPTION.into()),
        ("SET_SUBSCRIPTION_PAUSED", SET_SUBSCRIPTION_PAUSED.into()),
        ("DUE_SUBSCRIPTIONS", DUE_SUBSCRIPTIONS.into()),
        ("CLAIM_SUBSCRIPTION", CLAIM_SUBSCRIPTION.into()),
        ("RENEW_SUBSCRIPTION_LEASE", RENEW_SUBSCRIPTION_LEASE.into()),
        ("CLAIM_HISTORY_DAY", CLAIM_HISTORY_DAY.into()),
        ("HISTORY_DAY_HELD", HISTORY_DAY_HELD.into()),
        ("FINISH_HISTORY_DAY", FINISH_HISTORY_DAY.into()),
        ("UPSERT_HISTORY_DAYS", upsert_history_days(2)),
        ("UPSERT_HISTORY_TOTALS", upsert_history_totals(2)),
        ("HAS_HISTORY", HAS_HISTORY.into()),
        ("PRUNE_HISTORY", PRUNE_HISTORY.into()),
        ("PART_HISTORY_ALL", part_history(None, false, false)),
        (
            "PART_HISTORY_OF_PART_AFTER",
            part_history(Some(3), true, true),
        ),
        ("PART_HISTORY_AFTER", part_history(None, false, true)),
        ("CUSTOMER_HISTORY_ALL", customer_history(None)),
        ("CUSTOMER_HISTORY_OF", customer_history(Some(3))),
        ("FINISH_SUBSCRIPTION", FINISH_SUBSCRIPTION.into()),
        ("PING", PING.into()),
        ("MIGRATIONS_TABLE", MIGRATIONS_TABLE.into()),
        ("MIGRATION_DONE", MIGRATION_DONE.into()),
        ("MIGRATION_RECORD", MIGRATION_RECORD.into()),
    ]
}
