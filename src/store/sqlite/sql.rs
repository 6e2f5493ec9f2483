//! Every statement of the SQLite app database, in one place (as `mssql/sql.rs` holds
//! SQL Server's): the store's methods use these, `customer-portal preflight` prepares
//! each of them against a database without running it (`EXPLAIN`), and a test prepares
//! each against this version's migrations. Every value is a bound parameter; statements
//! whose shape depends on a count (an `IN` list) are made by the functions at the end.

/// The ten customer columns, as `customer_from_row` reads them.
macro_rules! customer_columns {
    () => {
        "c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
         c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password, c.created_date"
    };
}

macro_rules! view_columns {
    () => {
        "view_id, customer_id, name, query, created_at, updated_at"
    };
}

macro_rules! sub_select {
    () => {
        "SELECT s.subscription_id, s.customer_id, s.kind, s.view_id, s.frequency, s.weekday, \
         s.hour, s.format, s.paused, s.paused_by, s.created_at, s.next_run_at, s.lease_owner, s.lease_until, \
         s.attempts, s.last_sent_at, s.last_status, s.last_error, s.sent_count, v.name
         FROM ReportSubscriptions s LEFT JOIN SavedViews v ON v.view_id = s.view_id"
    };
}

macro_rules! audit_columns {
    () => {
        "log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details"
    };
}

/// The audit page's filter: ?1 admin, ?2 action, ?3 email pattern, ?4 customer id.
macro_rules! audit_filter {
    () => {
        "WHERE (?1 IS NULL OR admin_username = ?1) AND (?2 IS NULL OR action_type = ?2)
         AND ((?3 IS NULL AND ?4 IS NULL) OR lower(COALESCE(target_customer_email, '')) LIKE ?3 ESCAPE '\\' OR target_customer_id = ?4)"
    };
}

macro_rules! token_columns {
    () => {
        "token_id, name, token_hash, scopes, erp_customer_name, created_by, \
         created_at, expires_at, last_used_at, revoked_at, revoked_by, rows_per_minute"
    };
}

macro_rules! part_minimums {
    () => {
        "SELECT erp_customer_name, part, minimum_qty, updated_at, updated_by FROM PartMinimums"
    };
}

pub const INSERT_AUDIT: &str = "INSERT INTO AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub const CUSTOMER_BY_EMAIL: &str = concat!(
    "SELECT ",
    customer_columns!(),
    " FROM Customers c WHERE c.email = ?1 COLLATE NOCASE"
);
pub const CUSTOMER_BY_ID: &str = concat!(
    "SELECT ",
    customer_columns!(),
    " FROM Customers c WHERE c.customer_id = ?1"
);
pub const INSERT_CUSTOMER: &str = "INSERT INTO Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, must_reset_password, created_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7)";
pub const COUNT_CUSTOMERS_BY_STATUS: &str =
    "SELECT COALESCE(SUM(is_active), 0), COALESCE(SUM(1 - is_active), 0) FROM Customers";
pub const LIST_CUSTOMERS: &str = concat!("SELECT ", customer_columns!(), " FROM Customers c
                     WHERE (?1 IS NULL OR c.is_active = ?1)
                       AND (?2 IS NULL OR lower(c.first_name || ' ' || COALESCE(c.last_name, '') || ' ' || c.email || ' ' || c.erp_customer_name) LIKE ?2 ESCAPE '\\')
                     ORDER BY lower(COALESCE(c.last_name, '')), lower(c.first_name), c.email");
pub const UPDATE_CUSTOMER: &str = "UPDATE Customers SET first_name = ?1, last_name = ?2, email = ?3, erp_customer_name = ?4, is_active = ?5
                 WHERE customer_id = ?6";
pub const END_CUSTOMER_SESSIONS: &str = "DELETE FROM ActiveSessions WHERE customer_id = ?1";
pub const UPGRADE_PASSWORD_HASH: &str =
    "UPDATE Customers SET password_hash = ?1 WHERE customer_id = ?2";
pub const SET_PASSWORD: &str =
    "UPDATE Customers SET password_hash = ?1, must_reset_password = ?2 WHERE customer_id = ?3";
pub const END_OTHER_SESSIONS: &str =
    "DELETE FROM ActiveSessions WHERE customer_id = ?1 AND (?2 IS NULL OR session_id <> ?2)";
pub const USE_UP_RESET_TOKENS: &str =
    "UPDATE PasswordResetTokens SET is_used = 1 WHERE customer_id = ?1 AND is_used = 0";
pub const PING: &str = "SELECT 1";
pub const SET_PART_MINIMUM: &str = "INSERT INTO PartMinimums (erp_customer_name, part, minimum_qty, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (erp_customer_name, part) DO UPDATE SET
                   minimum_qty = excluded.minimum_qty, updated_at = excluded.updated_at, updated_by = excluded.updated_by";
pub const REMOVE_PART_MINIMUM: &str =
    "DELETE FROM PartMinimums WHERE erp_customer_name = ?1 AND part = ?2";
pub const SAVED_VIEWS: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM SavedViews WHERE customer_id = ?1 ORDER BY name COLLATE NOCASE, view_id"
);
pub const SAVED_VIEW: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM SavedViews WHERE view_id = ?1 AND customer_id = ?2"
);
pub const COUNT_SAVED_VIEWS: &str = "SELECT COUNT(*) FROM SavedViews WHERE customer_id = ?1";
pub const INSERT_SAVED_VIEW: &str = "INSERT INTO SavedViews (customer_id, name, query, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)";
pub const SAVED_VIEW_BY_ID: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM SavedViews WHERE view_id = ?1"
);
pub const RENAME_SAVED_VIEW: &str =
    "UPDATE SavedViews SET name = ?1, updated_at = ?2 WHERE view_id = ?3 AND customer_id = ?4";
pub const DELETE_SAVED_VIEW: &str =
    "DELETE FROM SavedViews WHERE view_id = ?1 AND customer_id = ?2";
pub const DELETE_VIEW_SUBSCRIPTIONS: &str = "DELETE FROM ReportSubscriptions WHERE view_id = ?1";
pub const COUNT_SUBSCRIPTIONS: &str =
    "SELECT COUNT(*) FROM ReportSubscriptions WHERE customer_id = ?1";
pub const INSERT_SUBSCRIPTION: &str = "INSERT INTO ReportSubscriptions (customer_id, kind, view_id, frequency, weekday, hour, format, created_at, next_run_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
pub const SUBSCRIPTION: &str = concat!(sub_select!(), " WHERE s.subscription_id = ?1");
pub const SUBSCRIPTIONS: &str = concat!(
    sub_select!(),
    " WHERE ?1 IS NULL OR s.customer_id = ?1
                     ORDER BY s.customer_id, s.subscription_id"
);
pub const DELETE_SUBSCRIPTION: &str = "DELETE FROM ReportSubscriptions WHERE subscription_id = ?1 AND (?2 IS NULL OR customer_id = ?2)";
pub const SET_SUBSCRIPTION_PAUSED: &str =
    "UPDATE ReportSubscriptions SET paused = ?1, paused_by = ?2
                 WHERE subscription_id = ?3 AND (?4 IS NULL OR customer_id = ?4)";
pub const DUE_SUBSCRIPTIONS: &str = "SELECT subscription_id FROM ReportSubscriptions
                     WHERE paused = 0 AND next_run_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_run_at, subscription_id LIMIT ?2";
pub const CLAIM_SUBSCRIPTION: &str =
    "UPDATE ReportSubscriptions SET lease_owner = ?1, lease_until = ?2
                 WHERE subscription_id = ?3 AND paused = 0 AND next_run_at <= ?4
                   AND (lease_until IS NULL OR lease_until <= ?4)";
pub const RENEW_SUBSCRIPTION_LEASE: &str = "UPDATE ReportSubscriptions SET lease_until = ?1 WHERE subscription_id = ?2 AND lease_owner = ?3";
pub const FINISH_SUBSCRIPTION: &str =
    "UPDATE ReportSubscriptions SET next_run_at = ?1, attempts = ?2, last_status = ?3,
                       last_error = ?4, last_sent_at = COALESCE(?5, last_sent_at),
                       sent_count = sent_count + (CASE WHEN ?5 IS NULL THEN 0 ELSE 1 END),
                       lease_owner = NULL, lease_until = NULL
                     WHERE subscription_id = ?6 AND lease_owner = ?7";
pub const AUDIT_ADMINS: &str =
    "SELECT DISTINCT admin_username FROM AuditLog ORDER BY admin_username";
pub const AUDIT_ACTIONS: &str = "SELECT DISTINCT action_type FROM AuditLog ORDER BY action_type";
pub const AUDIT_SINCE: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM AuditLog WHERE action_type = ?1 AND timestamp >= ?2 ORDER BY timestamp, log_id"
);
pub const TOP_AUDIT_TARGETS: &str = "SELECT target_customer_email, COUNT(*) AS n FROM AuditLog
                     WHERE action_type = ?1 AND target_customer_email IS NOT NULL
                     GROUP BY target_customer_email ORDER BY n DESC, target_customer_email LIMIT ?2";
pub const LATEST_AUDIT: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM AuditLog WHERE action_type = ?1 ORDER BY timestamp DESC, log_id DESC LIMIT ?2"
);
pub const RECORD_LOGIN_FAILURE: &str =
    "INSERT INTO LoginFailures (attempted_at, login_name, ip_address) VALUES (?1, ?2, ?3)";
pub const LOGIN_FAILURE_COUNTS: &str = "SELECT (SELECT COUNT(*) FROM LoginFailures WHERE login_name = ?1 AND attempted_at >= ?3),
                            (SELECT COUNT(*) FROM LoginFailures WHERE ?2 IS NOT NULL AND ip_address = ?2 AND attempted_at >= ?3
                                 AND (in_flight = 0 OR attempted_at < ?4)),
                            (SELECT COUNT(*) FROM LoginFailures WHERE login_name = ?1 AND ?2 IS NOT NULL AND ip_address = ?2 AND attempted_at >= ?3),
                            (SELECT COUNT(*) FROM LoginFailures WHERE ?2 IS NOT NULL AND ip_address = ?2 AND in_flight = 1 AND attempted_at >= ?4),
                            (SELECT MAX(attempted_at) FROM LoginFailures WHERE login_name = ?1 AND attempted_at >= ?3)";
pub const INSERT_LOGIN_ATTEMPT: &str = "INSERT INTO LoginFailures (attempted_at, login_name, ip_address, in_flight) VALUES (?1, ?2, ?3, 1)";
pub const REFUSED_LOGIN_ATTEMPT: &str = "DELETE FROM LoginFailures WHERE failure_id = ?1";
pub const FAILED_LOGIN_ATTEMPT: &str =
    "UPDATE LoginFailures SET in_flight = 0 WHERE failure_id = ?1";
pub const SUCCEEDED_LOGIN_ATTEMPT: &str =
    "DELETE FROM LoginFailures WHERE failure_id = ?1 OR login_name = ?2";
pub const COUNT_EVENTS: &str =
    "SELECT COUNT(*) FROM LoginFailures WHERE login_name = ?1 AND attempted_at >= ?2";
pub const INSERT_EVENT: &str =
    "INSERT INTO LoginFailures (attempted_at, login_name, ip_address) VALUES (?1, ?2, NULL)";
pub const CLEAR_LOGIN_FAILURES: &str = "DELETE FROM LoginFailures WHERE login_name = ?1";
pub const PURGE_LOGIN_FAILURES_BEFORE: &str = "DELETE FROM LoginFailures WHERE attempted_at < ?1";
pub const SETTING: &str = "SELECT setting_value FROM PortalSettings WHERE setting_key = ?1";
pub const INSERT_SETTING_IF_ABSENT: &str = "INSERT INTO PortalSettings (setting_key, setting_value) VALUES (?1, ?2) ON CONFLICT (setting_key) DO NOTHING";
pub const SET_SETTING: &str =
    "INSERT INTO PortalSettings (setting_key, setting_value) VALUES (?1, ?2)
                 ON CONFLICT (setting_key) DO UPDATE SET setting_value = excluded.setting_value";
pub const DELETE_EXPIRED_RESET_TOKENS: &str =
    "DELETE FROM PasswordResetTokens WHERE expiry_date <= ?1";
pub const INSERT_RESET_TOKEN: &str = "INSERT INTO PasswordResetTokens (customer_id, token_hash, expiry_date, is_used) VALUES (?1, ?2, ?3, 0)";
pub const RESET_TOKEN_CUSTOMER: &str = concat!("SELECT ", customer_columns!(), " FROM PasswordResetTokens t
                     JOIN Customers c ON c.customer_id = t.customer_id
                     WHERE t.token_hash = ?1 AND t.is_used = 0 AND t.expiry_date > ?2 AND c.is_active = 1");
pub const USE_RESET_TOKEN: &str = "UPDATE PasswordResetTokens SET is_used = 1
                     WHERE token_hash = ?1 AND customer_id = ?2 AND is_used = 0 AND expiry_date > ?3
                       AND EXISTS (SELECT 1 FROM Customers c WHERE c.customer_id = ?2 AND c.is_active = 1)";
pub const SET_PASSWORD_FROM_RESET: &str =
    "UPDATE Customers SET password_hash = ?1, must_reset_password = 0 WHERE customer_id = ?2";
pub const RECORD_LAST_LOGIN: &str =
    "UPDATE Customers SET last_login_date = ?1 WHERE customer_id = ?2";
pub const INSERT_ACTIVE_SESSION: &str = "INSERT INTO ActiveSessions (session_id, customer_id, last_seen, ip_address, user_agent, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub const SESSION_WITH_CUSTOMER: &str = concat!(
    "SELECT s.session_id, s.customer_id, s.last_seen, s.ip_address, s.user_agent, s.created_at, ",
    customer_columns!(),
    "
                     FROM ActiveSessions s JOIN Customers c ON c.customer_id = s.customer_id
                     WHERE s.session_id = ?1"
);
pub const TOUCH_SESSION: &str = "UPDATE ActiveSessions SET last_seen = ?1 WHERE session_id = ?2";
pub const END_CUSTOMER_SESSION: &str = "DELETE FROM ActiveSessions WHERE session_id = ?1";
pub const LIST_ACTIVE_SESSIONS: &str =
    "SELECT session_id, customer_id, last_seen, ip_address, user_agent, created_at
                     FROM ActiveSessions ORDER BY last_seen DESC";
pub const PURGE_SESSIONS: &str =
    "DELETE FROM ActiveSessions WHERE last_seen < ?1 OR created_at < ?2";
pub const TWO_FACTOR: &str =
    "SELECT account_key, secret_sealed, confirmed_at, last_step, created_at, trusted_since
                     FROM TwoFactor WHERE account_key = ?1";
pub const BEGIN_TWO_FACTOR: &str = "INSERT INTO TwoFactor (account_key, secret_sealed, confirmed_at, last_step, created_at)
                 VALUES (?1, ?2, NULL, NULL, ?3)
                 ON CONFLICT (account_key) DO UPDATE
                 SET secret_sealed = excluded.secret_sealed, last_step = NULL, created_at = excluded.created_at
                 WHERE TwoFactor.confirmed_at IS NULL";
pub const CONFIRM_TWO_FACTOR: &str =
    "UPDATE TwoFactor SET confirmed_at = ?1, trusted_since = ?1, last_step = ?2
                 WHERE account_key = ?3 AND confirmed_at IS NULL";
pub const FORGET_TRUSTED_BROWSERS: &str = "UPDATE TwoFactor SET trusted_since = ?1
                 WHERE account_key = ?2 AND confirmed_at IS NOT NULL";
pub const USE_TWO_FACTOR_STEP: &str = "UPDATE TwoFactor SET last_step = ?1
                 WHERE account_key = ?2 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?1)";
pub const DELETE_RECOVERY_CODES: &str = "DELETE FROM TwoFactorRecoveryCodes WHERE account_key = ?1";
pub const INSERT_RECOVERY_CODE: &str =
    "INSERT INTO TwoFactorRecoveryCodes (account_key, code_hash, used_at) VALUES (?1, ?2, NULL)";
pub const USE_RECOVERY_CODE: &str = "UPDATE TwoFactorRecoveryCodes SET used_at = ?1
                 WHERE code_id = (SELECT code_id FROM TwoFactorRecoveryCodes
                                  WHERE account_key = ?2 AND code_hash = ?3 AND used_at IS NULL LIMIT 1)";
pub const RECOVERY_CODES_LEFT: &str =
    "SELECT COUNT(*) FROM TwoFactorRecoveryCodes WHERE account_key = ?1 AND used_at IS NULL";
pub const REMOVE_TWO_FACTOR: &str = "DELETE FROM TwoFactor WHERE account_key = ?1";
pub const CUSTOMER_SESSIONS: &str =
    "SELECT session_id, customer_id, last_seen, ip_address, user_agent, created_at
                     FROM ActiveSessions WHERE customer_id = ?1 ORDER BY last_seen DESC";
pub const BEGIN_ADMIN_SESSION: &str = "INSERT INTO AdminSessions (session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
pub const ADMIN_SESSION: &str = "SELECT session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen
                 FROM AdminSessions WHERE session_id = ?1";
pub const TOUCH_ADMIN_SESSION: &str =
    "UPDATE AdminSessions SET last_seen = ?1 WHERE session_id = ?2";
pub const END_ADMIN_SESSION: &str = "DELETE FROM AdminSessions WHERE session_id = ?1";
pub const PURGE_ADMIN_SESSIONS: &str =
    "DELETE FROM AdminSessions WHERE last_seen < ?1 OR created_at < ?2";
pub const CREATE_WEB_SESSION: &str = "INSERT INTO WebSessions (id, data, expiry_date) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING";
pub const SAVE_WEB_SESSION: &str = "INSERT INTO WebSessions (id, data, expiry_date) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date";
pub const LOAD_WEB_SESSION: &str =
    "SELECT id, data, expiry_date FROM WebSessions WHERE id = ?1 AND expiry_date > ?2";
pub const DELETE_WEB_SESSION: &str = "DELETE FROM WebSessions WHERE id = ?1";
pub const PURGE_EXPIRED_WEB_SESSIONS: &str = "DELETE FROM WebSessions WHERE expiry_date <= ?1";
pub const INSERT_API_TOKEN: &str = "INSERT INTO ApiTokens (name, token_hash, scopes, erp_customer_name, created_by, created_at, expires_at, rows_per_minute)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
pub const API_TOKEN_BY_ID: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM ApiTokens WHERE token_id = ?1"
);
pub const LIST_API_TOKENS: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM ApiTokens ORDER BY created_at DESC, token_id DESC"
);
pub const API_TOKEN_BY_HASH: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM ApiTokens WHERE token_hash = ?1"
);
pub const TOUCH_API_TOKEN: &str = "UPDATE ApiTokens SET last_used_at = ?1 WHERE token_id = ?2";
pub const API_TOKEN_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM ApiTokens WHERE token_id = ?1)";
pub const REVOKE_API_TOKEN: &str = "UPDATE ApiTokens SET revoked_at = ?1, revoked_by = ?2 WHERE token_id = ?3 AND revoked_at IS NULL";

pub const PART_MINIMUMS_ALL: &str = concat!(part_minimums!(), " ORDER BY erp_customer_name, part");
pub const AUDIT_COUNT: &str = concat!("SELECT COUNT(*) FROM AuditLog ", audit_filter!());
/// ?5 limit, ?6 before this id.
pub const AUDIT_PAGE: &str = concat!(
    "SELECT ",
    audit_columns!(),
    " FROM AuditLog ",
    audit_filter!(),
    " AND (?6 IS NULL OR log_id < ?6) ORDER BY log_id DESC LIMIT ?5"
);

fn marks(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// The minimums of `n` ERP customers.
pub fn part_minimums_of(n: usize) -> String {
    concat!(
        part_minimums!(),
        " WHERE erp_customer_name IN ({marks}) ORDER BY erp_customer_name, part"
    )
    .replace("{marks}", &marks(n))
}

/// `n` customers by id.
pub fn customers_by_ids(n: usize) -> String {
    concat!(
        "SELECT ",
        customer_columns!(),
        " FROM Customers c WHERE c.customer_id IN ({marks})"
    )
    .replace("{marks}", &marks(n))
}

pub const CLAIM_HISTORY_DAY: &str =
    "INSERT INTO HistoryCaptures (day, owner, lease_until) VALUES (?1, ?2, ?3)
     ON CONFLICT (day) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
     WHERE HistoryCaptures.finished_at IS NULL AND HistoryCaptures.lease_until <= ?4";
pub const HISTORY_DAY_HELD: &str =
    "SELECT COUNT(*) FROM HistoryCaptures WHERE day = ?1 AND owner = ?2 AND finished_at IS NULL";
pub const FINISH_HISTORY_DAY: &str = "UPDATE HistoryCaptures SET finished_at = ?3, parts = ?4
     WHERE day = ?1 AND owner = ?2 AND finished_at IS NULL";
pub const HISTORY_PART_KEY_INSERT: &str =
    "INSERT INTO HistoryParts (erp_customer_name, part) VALUES (?1, ?2) ON CONFLICT DO NOTHING";
pub const HISTORY_PART_KEY: &str =
    "SELECT part_key FROM HistoryParts WHERE erp_customer_name = ?1 AND part = ?2";
/// `?8`: 1 keeps a row already there (demo rows never overwrite a captured day).
pub const UPSERT_HISTORY_DAY: &str = "INSERT INTO InventoryHistory
     (part_key, day, on_hand, lots, expired_qty, expiring_qty, received_qty, demo)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (part_key, day) DO UPDATE SET on_hand = excluded.on_hand, lots = excluded.lots,
         expired_qty = excluded.expired_qty, expiring_qty = excluded.expiring_qty,
         received_qty = excluded.received_qty, demo = excluded.demo
     WHERE excluded.demo = 0";
pub const UPSERT_HISTORY_TOTAL: &str = "INSERT INTO HistoryTotals
     (erp_customer_name, day, on_hand, lots, expired_qty, expiring_qty, received_qty, parts, demo)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (erp_customer_name, day) DO UPDATE SET on_hand = excluded.on_hand,
         lots = excluded.lots, expired_qty = excluded.expired_qty,
         expiring_qty = excluded.expiring_qty, received_qty = excluded.received_qty,
         parts = excluded.parts, demo = excluded.demo
     WHERE excluded.demo = 0";
pub const HAS_HISTORY: &str = "SELECT EXISTS (SELECT 1 FROM InventoryHistory)";
pub const PRUNE_HISTORY: &str = "DELETE FROM InventoryHistory WHERE (part_key, day) IN
     (SELECT part_key, day FROM InventoryHistory WHERE day < ?1 LIMIT ?2)";
pub const PRUNE_HISTORY_TOTALS: &str = "DELETE FROM HistoryTotals WHERE (erp_customer_name, day) IN
     (SELECT erp_customer_name, day FROM HistoryTotals WHERE day < ?1 LIMIT ?2)";
pub const PRUNE_HISTORY_CAPTURES: &str = "DELETE FROM HistoryCaptures WHERE day < ?1";

/// A part's (or every part's) days: `?1` the part (when `part`), `?2`..`?3` the days,
/// `?4`..`?6` the key to start after (when `after`), `?7` the most rows; then the
/// customers' names from `?8` when `customers` is `Some(n)`. Parameters a variant leaves
/// out are bound and unused. Written per variant, not with `?1 IS NULL OR …`, so that
/// SQLite walks the parts in key order and reads each one's days by its primary key
/// (`CROSS JOIN` fixes that order): two years of one part read 730 rows, not the day
/// index's millions.
pub fn part_history(customers: Option<usize>, part: bool, after: bool) -> String {
    let mut filter = String::new();
    if part {
        filter.push_str(" AND hp.part = ?1");
    }
    if after {
        filter.push_str(" AND (hp.erp_customer_name, hp.part, h.day) > (?4, ?5, ?6)");
    }
    if let Some(n) = customers {
        filter.push_str(&format!(
            " AND hp.erp_customer_name IN ({})",
            (8..8 + n.max(1))
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!(
        "SELECT hp.erp_customer_name, hp.part, h.day, h.on_hand, h.lots, h.expired_qty,
                h.expiring_qty, h.received_qty, h.demo
         FROM HistoryParts hp CROSS JOIN InventoryHistory h ON h.part_key = hp.part_key
         WHERE h.day BETWEEN ?2 AND ?3{filter}
         ORDER BY hp.erp_customer_name, hp.part, h.day LIMIT ?7"
    )
}

/// The totals of every customer (`None`) or of `n` customers from `?3`, days `?1`..`?2`.
pub fn customer_history(customers: Option<usize>) -> String {
    let filter = match customers {
        None => String::new(),
        Some(n) => format!(
            " AND erp_customer_name IN ({})",
            (3..3 + n.max(1))
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "SELECT erp_customer_name, day, on_hand, lots, expired_qty, expiring_qty, received_qty,
                parts, demo
         FROM HistoryTotals WHERE day BETWEEN ?1 AND ?2{filter}
         ORDER BY erp_customer_name, day"
    )
}

// A customer's own team.
/// Whether ?1 manages a team, and its manager (id, email, scope) if it is a colleague.
pub const TEAM_PLACE: &str = "SELECT EXISTS (SELECT 1 FROM TeamManagers WHERE customer_id = ?1),
                m.customer_id, m.email, m.erp_customer_name
         FROM (SELECT 1) AS one
         LEFT JOIN TeamMembers tm ON tm.customer_id = ?1
         LEFT JOIN Customers m ON m.customer_id = tm.manager_id";
pub const SESSION_IN_TEAM: &str = concat!(
    "SELECT s.session_id, s.customer_id, s.last_seen, s.ip_address, s.user_agent, s.created_at, ",
    customer_columns!(),
    ", EXISTS (SELECT 1 FROM TeamManagers WHERE customer_id = s.customer_id),
                m.customer_id, m.email, m.erp_customer_name
         FROM ActiveSessions s JOIN Customers c ON c.customer_id = s.customer_id
         LEFT JOIN TeamMembers tm ON tm.customer_id = s.customer_id
         LEFT JOIN Customers m ON m.customer_id = tm.manager_id
         WHERE s.session_id = ?1"
);
pub const INSERT_TEAM_MANAGER: &str =
    "INSERT OR IGNORE INTO TeamManagers (customer_id, made_by, made_at) VALUES (?1, ?2, ?3)";
pub const DELETE_TEAM_MANAGER: &str = "DELETE FROM TeamManagers WHERE customer_id = ?1";
pub const RELEASE_TEAM: &str = "DELETE FROM TeamMembers WHERE manager_id = ?1";
pub const INSERT_TEAM_MEMBER: &str =
    "INSERT INTO TeamMembers (customer_id, manager_id, invited_at) VALUES (?1, ?2, ?3)";
pub const COLLEAGUES: &str = concat!(
    "SELECT ",
    customer_columns!(),
    " FROM TeamMembers tm
                     JOIN Customers c ON c.customer_id = tm.customer_id
                     WHERE tm.manager_id = ?1
                     ORDER BY lower(COALESCE(c.last_name, '')), lower(c.first_name), c.email"
);
pub const TEAM_MANAGERS: &str = "SELECT customer_id FROM TeamManagers ORDER BY customer_id";
pub const TEAM_MEMBERS: &str =
    "SELECT customer_id, manager_id FROM TeamMembers ORDER BY manager_id, customer_id";

/// Every statement, filled as the code fills it, for preparing without running.
pub fn all_for_parsing() -> Vec<(&'static str, String)> {
    let mut all: Vec<(&'static str, String)> = vec![
        ("PART_HISTORY_ALL", part_history(None, false, false)),
        (
            "PART_HISTORY_OF_PART_AFTER",
            part_history(Some(3), true, true),
        ),
        ("PART_HISTORY_AFTER", part_history(None, false, true)),
        ("CUSTOMER_HISTORY_ALL", customer_history(None)),
        ("CUSTOMER_HISTORY_OF", customer_history(Some(3))),
        ("INSERT_AUDIT", INSERT_AUDIT.to_owned()),
        ("CUSTOMER_BY_EMAIL", CUSTOMER_BY_EMAIL.to_owned()),
        ("CUSTOMER_BY_ID", CUSTOMER_BY_ID.to_owned()),
        ("INSERT_CUSTOMER", INSERT_CUSTOMER.to_owned()),
        (
            "COUNT_CUSTOMERS_BY_STATUS",
            COUNT_CUSTOMERS_BY_STATUS.to_owned(),
        ),
        ("LIST_CUSTOMERS", LIST_CUSTOMERS.to_owned()),
        ("UPDATE_CUSTOMER", UPDATE_CUSTOMER.to_owned()),
        ("END_CUSTOMER_SESSIONS", END_CUSTOMER_SESSIONS.to_owned()),
        ("UPGRADE_PASSWORD_HASH", UPGRADE_PASSWORD_HASH.to_owned()),
        ("SET_PASSWORD", SET_PASSWORD.to_owned()),
        ("END_OTHER_SESSIONS", END_OTHER_SESSIONS.to_owned()),
        ("USE_UP_RESET_TOKENS", USE_UP_RESET_TOKENS.to_owned()),
        ("PING", PING.to_owned()),
        ("SET_PART_MINIMUM", SET_PART_MINIMUM.to_owned()),
        ("REMOVE_PART_MINIMUM", REMOVE_PART_MINIMUM.to_owned()),
        ("SAVED_VIEWS", SAVED_VIEWS.to_owned()),
        ("SAVED_VIEW", SAVED_VIEW.to_owned()),
        ("COUNT_SAVED_VIEWS", COUNT_SAVED_VIEWS.to_owned()),
        ("INSERT_SAVED_VIEW", INSERT_SAVED_VIEW.to_owned()),
        ("SAVED_VIEW_BY_ID", SAVED_VIEW_BY_ID.to_owned()),
        ("RENAME_SAVED_VIEW", RENAME_SAVED_VIEW.to_owned()),
        ("DELETE_SAVED_VIEW", DELETE_SAVED_VIEW.to_owned()),
        (
            "DELETE_VIEW_SUBSCRIPTIONS",
            DELETE_VIEW_SUBSCRIPTIONS.to_owned(),
        ),
        ("COUNT_SUBSCRIPTIONS", COUNT_SUBSCRIPTIONS.to_owned()),
        ("INSERT_SUBSCRIPTION", INSERT_SUBSCRIPTION.to_owned()),
        ("SUBSCRIPTION", SUBSCRIPTION.to_owned()),
        ("SUBSCRIPTIONS", SUBSCRIPTIONS.to_owned()),
        ("DELETE_SUBSCRIPTION", DELETE_SUBSCRIPTION.to_owned()),
        (
            "SET_SUBSCRIPTION_PAUSED",
            SET_SUBSCRIPTION_PAUSED.to_owned(),
        ),
        ("DUE_SUBSCRIPTIONS", DUE_SUBSCRIPTIONS.to_owned()),
        ("CLAIM_SUBSCRIPTION", CLAIM_SUBSCRIPTION.to_owned()),
        (
            "RENEW_SUBSCRIPTION_LEASE",
            RENEW_SUBSCRIPTION_LEASE.to_owned(),
        ),
        ("FINISH_SUBSCRIPTION", FINISH_SUBSCRIPTION.to_owned()),
        ("AUDIT_ADMINS", AUDIT_ADMINS.to_owned()),
        ("AUDIT_ACTIONS", AUDIT_ACTIONS.to_owned()),
        ("AUDIT_SINCE", AUDIT_SINCE.to_owned()),
        ("TOP_AUDIT_TARGETS", TOP_AUDIT_TARGETS.to_owned()),
        ("LATEST_AUDIT", LATEST_AUDIT.to_owned()),
        ("RECORD_LOGIN_FAILURE", RECORD_LOGIN_FAILURE.to_owned()),
        ("LOGIN_FAILURE_COUNTS", LOGIN_FAILURE_COUNTS.to_owned()),
        ("INSERT_LOGIN_ATTEMPT", INSERT_LOGIN_ATTEMPT.to_owned()),
        ("REFUSED_LOGIN_ATTEMPT", REFUSED_LOGIN_ATTEMPT.to_owned()),
        ("FAILED_LOGIN_ATTEMPT", FAILED_LOGIN_ATTEMPT.to_owned()),
        (
            "SUCCEEDED_LOGIN_ATTEMPT",
            SUCCEEDED_LOGIN_ATTEMPT.to_owned(),
        ),
        ("COUNT_EVENTS", COUNT_EVENTS.to_owned()),
        ("INSERT_EVENT", INSERT_EVENT.to_owned()),
        ("CLEAR_LOGIN_FAILURES", CLEAR_LOGIN_FAILURES.to_owned()),
        (
            "PURGE_LOGIN_FAILURES_BEFORE",
            PURGE_LOGIN_FAILURES_BEFORE.to_owned(),
        ),
        ("SETTING", SETTING.to_owned()),
        (
            "INSERT_SETTING_IF_ABSENT",
            INSERT_SETTING_IF_ABSENT.to_owned(),
        ),
        ("SET_SETTING", SET_SETTING.to_owned()),
        (
            "DELETE_EXPIRED_RESET_TOKENS",
            DELETE_EXPIRED_RESET_TOKENS.to_owned(),
        ),
        ("INSERT_RESET_TOKEN", INSERT_RESET_TOKEN.to_owned()),
        ("RESET_TOKEN_CUSTOMER", RESET_TOKEN_CUSTOMER.to_owned()),
        ("USE_RESET_TOKEN", USE_RESET_TOKEN.to_owned()),
        (
            "SET_PASSWORD_FROM_RESET",
            SET_PASSWORD_FROM_RESET.to_owned(),
        ),
        ("RECORD_LAST_LOGIN", RECORD_LAST_LOGIN.to_owned()),
        ("INSERT_ACTIVE_SESSION", INSERT_ACTIVE_SESSION.to_owned()),
        ("SESSION_WITH_CUSTOMER", SESSION_WITH_CUSTOMER.to_owned()),
        ("TOUCH_SESSION", TOUCH_SESSION.to_owned()),
        ("END_CUSTOMER_SESSION", END_CUSTOMER_SESSION.to_owned()),
        ("LIST_ACTIVE_SESSIONS", LIST_ACTIVE_SESSIONS.to_owned()),
        ("PURGE_SESSIONS", PURGE_SESSIONS.to_owned()),
        ("CUSTOMER_SESSIONS", CUSTOMER_SESSIONS.to_owned()),
        ("TEAM_PLACE", TEAM_PLACE.to_owned()),
        ("SESSION_IN_TEAM", SESSION_IN_TEAM.to_owned()),
        ("INSERT_TEAM_MANAGER", INSERT_TEAM_MANAGER.to_owned()),
        ("DELETE_TEAM_MANAGER", DELETE_TEAM_MANAGER.to_owned()),
        ("RELEASE_TEAM", RELEASE_TEAM.to_owned()),
        ("INSERT_TEAM_MEMBER", INSERT_TEAM_MEMBER.to_owned()),
        ("COLLEAGUES", COLLEAGUES.to_owned()),
        ("TEAM_MANAGERS", TEAM_MANAGERS.to_owned()),
        ("TEAM_MEMBERS", TEAM_MEMBERS.to_owned()),
        ("TWO_FACTOR", TWO_FACTOR.to_owned()),
        ("BEGIN_TWO_FACTOR", BEGIN_TWO_FACTOR.to_owned()),
        ("CONFIRM_TWO_FACTOR", CONFIRM_TWO_FACTOR.to_owned()),
        (
            "FORGET_TRUSTED_BROWSERS",
            FORGET_TRUSTED_BROWSERS.to_owned(),
        ),
        ("USE_TWO_FACTOR_STEP", USE_TWO_FACTOR_STEP.to_owned()),
        ("DELETE_RECOVERY_CODES", DELETE_RECOVERY_CODES.to_owned()),
        ("INSERT_RECOVERY_CODE", INSERT_RECOVERY_CODE.to_owned()),
        ("USE_RECOVERY_CODE", USE_RECOVERY_CODE.to_owned()),
        ("RECOVERY_CODES_LEFT", RECOVERY_CODES_LEFT.to_owned()),
        ("REMOVE_TWO_FACTOR", REMOVE_TWO_FACTOR.to_owned()),
        ("BEGIN_ADMIN_SESSION", BEGIN_ADMIN_SESSION.to_owned()),
        ("ADMIN_SESSION", ADMIN_SESSION.to_owned()),
        ("TOUCH_ADMIN_SESSION", TOUCH_ADMIN_SESSION.to_owned()),
        ("END_ADMIN_SESSION", END_ADMIN_SESSION.to_owned()),
        ("PURGE_ADMIN_SESSIONS", PURGE_ADMIN_SESSIONS.to_owned()),
        ("CREATE_WEB_SESSION", CREATE_WEB_SESSION.to_owned()),
        ("SAVE_WEB_SESSION", SAVE_WEB_SESSION.to_owned()),
        ("LOAD_WEB_SESSION", LOAD_WEB_SESSION.to_owned()),
        ("DELETE_WEB_SESSION", DELETE_WEB_SESSION.to_owned()),
        (
            "PURGE_EXPIRED_WEB_SESSIONS",
            PURGE_EXPIRED_WEB_SESSIONS.to_owned(),
        ),
        ("INSERT_API_TOKEN", INSERT_API_TOKEN.to_owned()),
        ("API_TOKEN_BY_ID", API_TOKEN_BY_ID.to_owned()),
        ("LIST_API_TOKENS", LIST_API_TOKENS.to_owned()),
        ("API_TOKEN_BY_HASH", API_TOKEN_BY_HASH.to_owned()),
        ("TOUCH_API_TOKEN", TOUCH_API_TOKEN.to_owned()),
        ("API_TOKEN_EXISTS", API_TOKEN_EXISTS.to_owned()),
        ("REVOKE_API_TOKEN", REVOKE_API_TOKEN.to_owned()),
        ("PART_MINIMUMS_ALL", PART_MINIMUMS_ALL.to_owned()),
        ("AUDIT_COUNT", AUDIT_COUNT.to_owned()),
        ("AUDIT_PAGE", AUDIT_PAGE.to_owned()),
    ];
    all.push(("PART_MINIMUMS_OF", part_minimums_of(3)));
    all.push(("CUSTOMERS_BY_IDS", customers_by_ids(3)));
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_statement_prepares_against_this_versions_migrations() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrations::apply(&mut c).unwrap();
        let all = super::all_for_parsing();
        assert!(all.len() > 70, "{}", all.len());
        for (name, sql) in all {
            c.prepare(&format!("EXPLAIN {sql}"))
                .unwrap_or_else(|e| panic!("{name}: {e}\n{sql}"));
        }
    }
}
