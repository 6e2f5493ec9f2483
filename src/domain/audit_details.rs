//! What goes into `AuditLog.details`.
//!
//! The old portal wrote a sentence for its own action types ("Login from IP: 10.0.0.5"),
//! and its analytics and any report built on the table read those sentences. Both portals
//! share the table during and after a switch-over, so rows of the old action types keep
//! that shape here too: one line of text that carries every fact the row records. Action
//! types the old portal never had are written as JSON, which the audit page shows as
//! `key: value` lines.

use serde_json::Value;

/// The old portal's action types, whose `details` stay sentences.
pub const OLD_ACTION_TYPES: [&str; 7] = [
    "CUSTOMER_CREATE",
    "CUSTOMER_UPDATE",
    "CUSTOMER_DEACTIVATE",
    "ADMIN_PW_RESET_EMAIL",
    "CUSTOMER_LOGIN",
    "CUSTOMER_LOGOUT",
    "CUSTOMER_SESSION_KICK",
];

/// The `details` text for a row of `action` recording `data`.
pub fn details_text(action: &str, data: &Value) -> String {
    let text = |key: &str| -> String {
        match data.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "unknown".to_owned(),
            Some(other) => other.to_string(),
        }
    };
    match action {
        "CUSTOMER_LOGIN" => format!("Login from IP: {}", text("ip_address")),
        "CUSTOMER_LOGOUT" => format!("Logout from IP: {}", text("ip_address")),
        "CUSTOMER_SESSION_KICK" => format!(
            "Session from IP: {} (started {}) ended by admin",
            text("ip_address"),
            text("session_created_at")
        ),
        "CUSTOMER_CREATE" => {
            let name = [text("first_name"), text_or_empty(data, "last_name")]
                .join(" ")
                .trim()
                .to_owned();
            let erp = text_or_empty(data, "erp_customer_name");
            format!(
                "Created customer {name} with ERP customer: {}",
                if erp.is_empty() { "(none)" } else { &erp }
            )
        }
        "CUSTOMER_UPDATE" => match data.as_object() {
            Some(changes) if !changes.is_empty() => {
                let list: Vec<String> = changes
                    .iter()
                    .map(|(field, change)| {
                        format!(
                            "{}: {} → {}",
                            field_label(field),
                            plain(change.get("from")),
                            plain(change.get("to"))
                        )
                    })
                    .collect();
                format!("Updated customer: {}", list.join("; "))
            }
            _ => "Updated customer".to_owned(),
        },
        "CUSTOMER_DEACTIVATE" => "Deactivated customer".to_owned(),
        "ADMIN_PW_RESET_EMAIL" => "Password reset email sent".to_owned(),
        _ => data.to_string(),
    }
}

fn text_or_empty(data: &Value, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn field_label(field: &str) -> &str {
    match field {
        "first_name" => "First name",
        "last_name" => "Last name",
        "email" => "Email",
        "erp_customer_name" => "ERP customer",
        "is_active" => "Active",
        other => other,
    }
}

fn plain(v: Option<&Value>) -> String {
    match v {
        Some(Value::Bool(true)) => "Yes".to_owned(),
        Some(Value::Bool(false)) => "No".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "(empty)".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "(empty)".to_owned(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn old_action_types_read_as_the_old_portal_wrote_them() {
        assert_eq!(
            details_text(
                "CUSTOMER_LOGIN",
                &json!({"ip_address": "203.0.113.7", "user_agent": "x"})
            ),
            "Login from IP: 203.0.113.7"
        );
        assert_eq!(
            details_text("CUSTOMER_LOGOUT", &json!({"ip_address": null})),
            "Logout from IP: unknown"
        );
        assert_eq!(
            details_text(
                "CUSTOMER_CREATE",
                &json!({"first_name": "Ann", "last_name": null, "erp_customer_name": "Acme|Beta"})
            ),
            "Created customer Ann with ERP customer: Acme|Beta"
        );
        assert_eq!(
            details_text(
                "CUSTOMER_UPDATE",
                &json!({"email": {"from": "a@x.com", "to": "b@x.com"}, "is_active": {"from": true, "to": false}})
            ),
            "Updated customer: Email: a@x.com → b@x.com; Active: Yes → No"
        );
        assert_eq!(
            details_text("CUSTOMER_DEACTIVATE", &json!({})),
            "Deactivated customer"
        );
        for action in OLD_ACTION_TYPES {
            assert!(
                !details_text(action, &json!({"ip_address": "1.2.3.4"})).starts_with('{'),
                "{action} is a sentence"
            );
        }
    }

    #[test]
    fn new_action_types_stay_json() {
        let data = json!({"mail": "welcome", "error": "timeout"});
        let text = details_text("EMAIL_SEND_FAILED", &data);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), data);
    }
}
