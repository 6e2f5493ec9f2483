//! The longest value each text column of the app database holds on SQL Server, and so the
//! longest the portal ever binds to it. SQL Server refuses a longer value ("string or
//! binary data would be truncated") where SQLite stores it, so a value that fits the demo
//! could fail in production — and inside a transaction it fails the whole step (a sign-in,
//! a report run). Every value is therefore validated where a person types it (with a
//! message) or cut to its column here, whatever the backend; a test reads the old
//! portal's DDL and the migrations and checks every entry, and that every text column
//! the portal writes has one.

/// One column and the most characters the portal writes to it.
#[derive(Debug, Clone, Copy)]
pub struct Fit {
    pub table: &'static str,
    pub column: &'static str,
    pub chars: usize,
}

const fn fit(table: &'static str, column: &'static str, chars: usize) -> Fit {
    Fit {
        table,
        column,
        chars,
    }
}

pub const FIRST_NAME: Fit = fit("Customers", "first_name", 100);
pub const LAST_NAME: Fit = fit("Customers", "last_name", 100);
pub const EMAIL: Fit = fit("Customers", "email", 254);
pub const PASSWORD_HASH: Fit = fit("Customers", "password_hash", 255);
/// `erp_customer_name` is NVARCHAR(4000), but the old portal's index on it
/// (`IX_Customers_ErpName`) holds 1,700 bytes: 850 characters of NVARCHAR.
pub const ERP_SCOPE: Fit = fit("Customers", "erp_customer_name", 850);
pub const SESSION_ID: Fit = fit("ActiveSessions", "session_id", 64);
pub const SESSION_IP: Fit = fit("ActiveSessions", "ip_address", 64);
pub const SESSION_USER_AGENT: Fit = fit("ActiveSessions", "user_agent", 500);
pub const AUDIT_ACTOR: Fit = fit("AuditLog", "admin_username", 100);
pub const AUDIT_ACTION: Fit = fit("AuditLog", "action_type", 50);
pub const AUDIT_EMAIL: Fit = fit("AuditLog", "target_customer_email", 254);
pub const RESET_TOKEN_HASH: Fit = fit("PasswordResetTokens", "token_hash", 64);
pub const WEB_SESSION_ID: Fit = fit("WebSessions", "id", 64);
pub const SETTING_KEY: Fit = fit("PortalSettings", "setting_key", 128);
pub const ADMIN_SESSION_ID: Fit = fit("AdminSessions", "session_id", 64);
pub const ADMIN_USERNAME: Fit = fit("AdminSessions", "username", 255);
pub const ADMIN_DISPLAY_NAME: Fit = fit("AdminSessions", "display_name", 255);
pub const ADMIN_AUTH_METHOD: Fit = fit("AdminSessions", "auth_method", 32);
pub const ADMIN_IP: Fit = fit("AdminSessions", "ip_address", 64);
pub const ADMIN_USER_AGENT: Fit = fit("AdminSessions", "user_agent", 500);
pub const LOGIN_NAME: Fit = fit("LoginFailures", "login_name", 255);
pub const LOGIN_IP: Fit = fit("LoginFailures", "ip_address", 64);
pub const TOKEN_NAME: Fit = fit("ApiTokens", "name", 100);
pub const TOKEN_HASH: Fit = fit("ApiTokens", "token_hash", 64);
pub const TOKEN_SCOPES: Fit = fit("ApiTokens", "scopes", 400);
pub const TOKEN_ERP_SCOPE: Fit = fit("ApiTokens", "erp_customer_name", 850);
pub const TOKEN_CREATED_BY: Fit = fit("ApiTokens", "created_by", 100);
pub const TOKEN_REVOKED_BY: Fit = fit("ApiTokens", "revoked_by", 100);
pub const MINIMUM_CUSTOMER: Fit = fit("PartMinimums", "erp_customer_name", 255);
pub const MINIMUM_PART: Fit = fit("PartMinimums", "part", 100);
pub const MINIMUM_UPDATED_BY: Fit = fit("PartMinimums", "updated_by", 255);
/// `customer:<id>` or `staff:<username>` (a username holds 255).
pub const TWO_FACTOR_ACCOUNT: Fit = fit("TwoFactor", "account_key", 300);
/// A sealed secret: 52 bytes in base64 (70 characters).
pub const TWO_FACTOR_SECRET: Fit = fit("TwoFactor", "secret_sealed", 200);
pub const RECOVERY_ACCOUNT: Fit = fit("TwoFactorRecoveryCodes", "account_key", 300);
/// The admin who made an account a team manager.
pub const TEAM_MADE_BY: Fit = fit("TeamManagers", "made_by", 255);
/// Hex SHA-256.
pub const RECOVERY_CODE_HASH: Fit = fit("TwoFactorRecoveryCodes", "code_hash", 64);
/// History keeps a part only while its customer and part numbers fit (they are never cut:
/// a cut name would merge two parts).
pub const HISTORY_CUSTOMER: Fit = fit("HistoryParts", "erp_customer_name", 255);
pub const HISTORY_PART: Fit = fit("HistoryParts", "part", 100);
pub const HISTORY_TOTALS_CUSTOMER: Fit = fit("HistoryTotals", "erp_customer_name", 255);
pub const HISTORY_OWNER: Fit = fit("HistoryCaptures", "owner", 64);
pub const VIEW_NAME: Fit = fit("SavedViews", "name", 60);
pub const VIEW_QUERY: Fit = fit("SavedViews", "query", 2000);
pub const REPORT_KIND: Fit = fit("ReportSubscriptions", "kind", 10);
pub const REPORT_FREQUENCY: Fit = fit("ReportSubscriptions", "frequency", 10);
pub const REPORT_FORMAT: Fit = fit("ReportSubscriptions", "format", 10);
pub const REPORT_PAUSED_BY: Fit = fit("ReportSubscriptions", "paused_by", 255);
pub const REPORT_LEASE_OWNER: Fit = fit("ReportSubscriptions", "lease_owner", 64);
pub const REPORT_STATUS: Fit = fit("ReportSubscriptions", "last_status", 20);
pub const REPORT_ERROR: Fit = fit("ReportSubscriptions", "last_error", 1000);

/// Every entry, for the test that checks them against the DDL.
pub const ALL: &[Fit] = &[
    FIRST_NAME,
    LAST_NAME,
    EMAIL,
    PASSWORD_HASH,
    ERP_SCOPE,
    SESSION_ID,
    SESSION_IP,
    SESSION_USER_AGENT,
    AUDIT_ACTOR,
    AUDIT_ACTION,
    AUDIT_EMAIL,
    RESET_TOKEN_HASH,
    WEB_SESSION_ID,
    SETTING_KEY,
    ADMIN_SESSION_ID,
    ADMIN_USERNAME,
    ADMIN_DISPLAY_NAME,
    ADMIN_AUTH_METHOD,
    ADMIN_IP,
    ADMIN_USER_AGENT,
    LOGIN_NAME,
    LOGIN_IP,
    TOKEN_NAME,
    TOKEN_HASH,
    TOKEN_SCOPES,
    TOKEN_ERP_SCOPE,
    TOKEN_CREATED_BY,
    TOKEN_REVOKED_BY,
    MINIMUM_CUSTOMER,
    MINIMUM_PART,
    HISTORY_CUSTOMER,
    HISTORY_PART,
    HISTORY_TOTALS_CUSTOMER,
    HISTORY_OWNER,
    MINIMUM_UPDATED_BY,
    TWO_FACTOR_ACCOUNT,
    TWO_FACTOR_SECRET,
    RECOVERY_ACCOUNT,
    TEAM_MADE_BY,
    RECOVERY_CODE_HASH,
    VIEW_NAME,
    VIEW_QUERY,
    REPORT_KIND,
    REPORT_FREQUENCY,
    REPORT_FORMAT,
    REPORT_PAUSED_BY,
    REPORT_LEASE_OWNER,
    REPORT_STATUS,
    REPORT_ERROR,
];

impl Fit {
    /// `value` cut to the column (whole characters).
    pub fn cut(self, value: &str) -> String {
        match value.char_indices().nth(self.chars) {
            Some((at, _)) => value[..at].to_owned(),
            None => value.to_owned(),
        }
    }

    /// [`Fit::cut`] for an optional value.
    pub fn cut_opt(self, value: Option<&str>) -> Option<String> {
        value.map(|v| self.cut(v))
    }

    /// Whether `value` fits without cutting.
    pub fn holds(self, value: &str) -> bool {
        value.chars().nth(self.chars).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_keeps_whole_characters() {
        let f = fit("T", "c", 3);
        assert_eq!(f.cut("abcdef"), "abc");
        assert_eq!(f.cut("éé"), "éé");
        assert_eq!(f.cut("ééé🙂"), "ééé");
        assert!(f.holds("abc") && !f.holds("abcd"));
    }
}
