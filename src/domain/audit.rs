//! What the audit log records: every action type in one place, and what goes into
//! `AuditLog.details`.
//!
//! The old portal wrote a fixed sentence for most of its action types and JSON for
//! `CUSTOMER_UPDATE`; its analytics, and any report or person reading the table, read
//! exactly those. Both portals share the table during and after a switch, so rows of the
//! old action types are written word for word as the old portal wrote them. Action types
//! the old portal never had are written as JSON, which the audit page shows as
//! `key: value` lines.

use serde_json::Value;

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, old: $old:literal; )*) => {
        /// An audit action type, as `AuditLog.action_type` spells it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $( $(#[$doc])* $variant, )*
        }

        impl Action {
            /// Every action type, in the order the audit page lists them.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name stored in `AuditLog.action_type`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// Whether the old portal wrote this action type (its rows keep the old
            /// `details`).
            pub const fn is_old(self) -> bool {
                match self { $(Action::$variant => $old,)* }
            }
        }
    };
}

actions! {
    CustomerCreate = "CUSTOMER_CREATE", old: true;
    CustomerUpdate = "CUSTOMER_UPDATE", old: true;
    CustomerDeactivate = "CUSTOMER_DEACTIVATE", old: true;
    CustomerReactivate = "CUSTOMER_REACTIVATE", old: true;
    /// An admin reset a customer's password: written before the mail is sent.
    AdminPwResetEmail = "ADMIN_PW_RESET_EMAIL", old: true;
    CustomerLogin = "CUSTOMER_LOGIN", old: true;
    CustomerLogout = "CUSTOMER_LOGOUT", old: true;
    CustomerSessionKick = "CUSTOMER_SESSION_KICK", old: true;
    /// Written by earlier versions of this portal for an admin's reset (now
    /// `ADMIN_PW_RESET_EMAIL`, as the old portal wrote it); still read.
    AdminPwReset = "ADMIN_PW_RESET", old: false;
    CustomerPasswordChange = "CUSTOMER_PASSWORD_CHANGE", old: false;
    CustomerPwResetSelf = "CUSTOMER_PW_RESET_SELF", old: false;
    /// A session ended after too many wrong current passwords in a row.
    CustomerSessionGuessing = "CUSTOMER_SESSION_GUESSING", old: false;
    /// A customer signed out one or all of their other browsers ("Your sessions").
    CustomerSessionRevoke = "CUSTOMER_SESSION_REVOKE", old: false;
    /// Two-step sign-in turned on (an authenticator app enrolled).
    TwoFactorEnable = "TWO_FACTOR_ENABLE", old: false;
    /// Two-step sign-in turned off by the account itself.
    TwoFactorDisable = "TWO_FACTOR_DISABLE", old: false;
    /// A recovery code was used instead of the app's code.
    TwoFactorRecoveryUsed = "TWO_FACTOR_RECOVERY_USED", old: false;
    /// Every "trusted" browser of the account must give a code again.
    TwoFactorTrustReset = "TWO_FACTOR_TRUST_RESET", old: false;
    /// An admin turned an account's two-step sign-in off (a lost phone).
    TwoFactorReset = "TWO_FACTOR_RESET", old: false;
    /// Staff made an account the team manager of its scope, or stopped it.
    TeamManagerOn = "TEAM_MANAGER_ON", old: false;
    TeamManagerOff = "TEAM_MANAGER_OFF", old: false;
    /// A team manager invited a colleague (a new account) or mailed them a new link.
    TeamInvite = "TEAM_INVITE", old: false;
    TeamInviteResend = "TEAM_INVITE_RESEND", old: false;
    /// A colleague set their password through their invitation.
    TeamInviteAccept = "TEAM_INVITE_ACCEPT", old: false;
    /// A team manager changed a colleague's scope.
    TeamScopeChange = "TEAM_SCOPE_CHANGE", old: false;
    /// A colleague's scope was cut down to their manager's, narrowed by staff.
    TeamScopeNarrowed = "TEAM_SCOPE_NARROWED", old: false;
    /// A team manager deactivated or reactivated a colleague.
    TeamMemberDeactivate = "TEAM_MEMBER_DEACTIVATE", old: false;
    TeamMemberReactivate = "TEAM_MEMBER_REACTIVATE", old: false;
    AdminLogin = "ADMIN_LOGIN", old: false;
    AdminLoginFailed = "ADMIN_LOGIN_FAILED", old: false;
    AdminLogout = "ADMIN_LOGOUT", old: false;
    EmailSendFailed = "EMAIL_SEND_FAILED", old: false;
    ApiTokenCreate = "API_TOKEN_CREATE", old: false;
    ApiTokenRevoke = "API_TOKEN_REVOKE", old: false;
    ApiTokenRefused = "API_TOKEN_REFUSED", old: false;
    ReportSent = "REPORT_SENT", old: false;
    ReportFailed = "REPORT_FAILED", old: false;
}

impl Action {
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.as_str() == name)
    }

    /// What the action means, for people (the audit page).
    pub fn label(self) -> &'static str {
        match self {
            Action::CustomerLogin => "Customer signed in",
            Action::CustomerLogout => "Customer signed out",
            Action::CustomerPasswordChange => "Customer changed password",
            Action::CustomerPwResetSelf => "Customer reset password by mail link",
            Action::CustomerSessionGuessing => "Session ended: wrong passwords",
            Action::CustomerSessionRevoke => "Customer signed out another browser",
            Action::TwoFactorEnable => "Two-step sign-in turned on",
            Action::TwoFactorDisable => "Two-step sign-in turned off",
            Action::TwoFactorRecoveryUsed => "Recovery code used to sign in",
            Action::TwoFactorTrustReset => "Trusted browsers forgotten",
            Action::TwoFactorReset => "Two-step sign-in reset by admin",
            Action::TeamManagerOn => "Made team manager",
            Action::TeamManagerOff => "No longer team manager",
            Action::TeamInvite => "Colleague invited",
            Action::TeamInviteResend => "Invitation sent again",
            Action::TeamInviteAccept => "Invitation accepted",
            Action::TeamScopeChange => "Colleague's ERP customers changed",
            Action::TeamScopeNarrowed => "Colleague's ERP customers cut to the manager's",
            Action::TeamMemberDeactivate => "Colleague deactivated",
            Action::TeamMemberReactivate => "Colleague reactivated",
            Action::CustomerCreate => "Account created",
            Action::CustomerUpdate => "Account edited",
            Action::CustomerDeactivate => "Account deactivated",
            Action::CustomerReactivate => "Account reactivated",
            Action::CustomerSessionKick => "Session ended by admin",
            Action::AdminPwReset => "Password reset by admin",
            Action::AdminPwResetEmail => "Password reset by admin",
            Action::EmailSendFailed => "Mail not sent",
            Action::AdminLogin => "Admin signed in",
            Action::AdminLoginFailed => "Admin sign-in refused",
            Action::AdminLogout => "Admin signed out",
            Action::ApiTokenCreate => "API token created",
            Action::ApiTokenRevoke => "API token revoked",
            Action::ApiTokenRefused => "API token refused",
            Action::ReportSent => "Scheduled mail sent",
            Action::ReportFailed => "Scheduled mail failed",
        }
    }

    /// The `details` of a row of this action recording `data`. Old action types read
    /// the fields they name from `data` (`first_name`, `last_name`, `erp_customer_name`,
    /// `ip_address`, `admin_username`, `automatic`); the others are `data` as JSON.
    /// `CUSTOMER_UPDATE` takes [`Action::update_details`] instead.
    pub fn details(self, data: &Value) -> String {
        let text = |key: &str| -> String {
            match data.get(key) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        };
        // Python's f"{first_name} {last_name}": an empty last name leaves its space.
        let name = || format!("{} {}", text("first_name"), text("last_name"));
        match self {
            Action::CustomerCreate => format!(
                "Created customer {} with ERP names: '{}'",
                name(),
                text("erp_customer_name")
            ),
            Action::CustomerDeactivate => format!("Deactivated customer {}", name()),
            Action::CustomerReactivate => format!("Reactivated customer {}", name()),
            Action::AdminPwResetEmail => {
                format!("Admin initiated password reset email for {}", name())
            }
            Action::CustomerLogin => format!("Login from IP: {}", text("ip_address")),
            Action::CustomerLogout => "Customer logged out.".to_owned(),
            Action::CustomerSessionKick if data.get("automatic") == Some(&Value::Bool(true)) => {
                "Auto-kicked session: inactive for > 3 hours.".to_owned()
            }
            Action::CustomerSessionKick => {
                format!("Admin {} remotely ended session.", text("admin_username"))
            }
            _ => data.to_string(),
        }
    }

    /// `CUSTOMER_UPDATE`'s details as the old portal wrote them: JSON of the fields that
    /// changed, in its order (first_name, last_name, email, erp_customer_name, is_active),
    /// with Python's `json.dumps` spacing and escapes. `None` when nothing changed (the
    /// old portal then wrote no row).
    pub fn update_details(changes: &[(&str, Value, Value)]) -> Option<String> {
        const ORDER: [&str; 5] = [
            "first_name",
            "last_name",
            "email",
            "erp_customer_name",
            "is_active",
        ];
        let mut parts = Vec::new();
        for field in ORDER {
            if let Some((_, from, to)) = changes
                .iter()
                .find(|(f, from, to)| *f == field && from != to)
            {
                parts.push(format!(
                    "{}: {{\"from\": {}, \"to\": {}}}",
                    python_json(&Value::String(field.to_owned())),
                    python_json(from),
                    python_json(to)
                ));
            }
        }
        (!parts.is_empty()).then(|| format!("{{{}}}", parts.join(", ")))
    }
}

/// A JSON scalar as Python's `json.dumps` writes it by default: non-ASCII characters
/// escaped as `\uXXXX` (`ensure_ascii`), `null`/`true`/`false`, numbers as they are.
fn python_json(v: &Value) -> String {
    match v {
        Value::String(s) => {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
                    c => {
                        let mut units = [0u16; 2];
                        for u in c.encode_utf16(&mut units) {
                            out.push_str(&format!("\\u{u:04x}"));
                        }
                    }
                }
            }
            out.push('"');
            out
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_unique_and_parse_back() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert_eq!(Action::parse("NOT_AN_ACTION"), None);
    }

    #[test]
    fn old_action_types_read_word_for_word_as_the_old_portal_wrote_them() {
        let ann =
            json!({"first_name": "Ann", "last_name": "Lee", "erp_customer_name": "Acme|Beta"});
        assert_eq!(
            Action::CustomerCreate.details(&ann),
            "Created customer Ann Lee with ERP names: 'Acme|Beta'"
        );
        assert_eq!(
            Action::CustomerCreate
                .details(&json!({"first_name": "Ann", "last_name": "", "erp_customer_name": ""})),
            "Created customer Ann  with ERP names: ''"
        );
        assert_eq!(
            Action::CustomerDeactivate.details(&ann),
            "Deactivated customer Ann Lee"
        );
        assert_eq!(
            Action::CustomerReactivate.details(&ann),
            "Reactivated customer Ann Lee"
        );
        assert_eq!(
            Action::AdminPwResetEmail.details(&ann),
            "Admin initiated password reset email for Ann Lee"
        );
        assert_eq!(
            Action::CustomerLogin.details(&json!({"ip_address": "203.0.113.7"})),
            "Login from IP: 203.0.113.7"
        );
        assert_eq!(
            Action::CustomerLogout.details(&json!({"ip_address": "203.0.113.7"})),
            "Customer logged out."
        );
        assert_eq!(
            Action::CustomerSessionKick.details(&json!({"admin_username": "cp_admin"})),
            "Admin cp_admin remotely ended session."
        );
        assert_eq!(
            Action::CustomerSessionKick.details(&json!({"automatic": true})),
            "Auto-kicked session: inactive for > 3 hours."
        );
    }

    #[test]
    fn an_update_is_python_json_in_the_old_key_order() {
        let changes = [
            ("is_active", json!(true), json!(false)),
            ("email", json!("a@x.com"), json!("a@x.com")),
            ("first_name", json!("A"), json!("B")),
            ("last_name", json!("Lee"), json!("José")),
        ];
        assert_eq!(
            Action::update_details(&changes).unwrap(),
            r#"{"first_name": {"from": "A", "to": "B"}, "last_name": {"from": "Lee", "to": "Jos\u00e9"}, "is_active": {"from": true, "to": false}}"#
        );
        assert_eq!(
            Action::update_details(&[("email", json!("a@x.com"), json!("a@x.com"))]),
            None,
            "no row when nothing changed"
        );
        assert_eq!(
            python_json(&json!("say \"hi\"\n🙂")),
            r#""say \"hi\"\n\ud83d\ude42""#
        );
    }

    #[test]
    fn new_action_types_stay_json() {
        let data = json!({"mail": "welcome", "error": "timeout"});
        let text = Action::EmailSendFailed.details(&data);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
        assert!(!Action::EmailSendFailed.is_old() && Action::CustomerLogin.is_old());
    }
}
