//! Authentication: Werkzeug password hashes, customer login and database-decided
//! sessions, CSRF tokens, and who is asking (`Viewer`).

pub mod access;
pub mod admin;
pub mod csrf;
pub mod device;
pub mod ldap;
pub mod notices;
pub mod passwords;
pub mod reset;
pub mod service;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod two_factor;

use crate::domain::{CustomerId, ErpScope};

/// Who is asking. Built once per request from the session and re-validated against the
/// app database; GraphQL guards and the web extractors both read it.
#[derive(Debug, Clone, Default)]
pub enum Viewer {
    #[default]
    Anonymous,
    Customer(CustomerIdentity),
    Admin(AdminIdentity),
    /// An internal tool with an API token (`Authorization: Bearer`), on `/graphql` and
    /// the exports only.
    Token(tokens::TokenIdentity),
}

#[derive(Debug, Clone)]
pub struct CustomerIdentity {
    pub customer_id: CustomerId,
    /// The `ActiveSessions.session_id` this request runs under.
    pub session_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: Option<String>,
    /// The account's ERP scope, parsed once from `erp_customer_name` when the session is
    /// resolved; everything that scopes rows reads it from here.
    pub scope: ErpScope,
    pub must_reset_password: bool,
    /// Two-step sign-in is required of customers (`REQUIRE_2FA`) and this account has not
    /// turned it on: until it does, only enrolling is open.
    pub must_enrol_two_factor: bool,
    /// The account's place in a customer's own team, read with the session.
    pub team: TeamRole,
}

/// Where a signed-in customer stands in their company's own team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TeamRole {
    #[default]
    None,
    /// Staff made this account its scope's team manager: it may invite and manage
    /// colleagues within its own scope.
    Manager,
    /// A colleague of this manager: the account's scope is already cut to the manager's.
    Colleague { manager: CustomerId },
}

impl CustomerIdentity {
    pub fn display_name(&self) -> String {
        match &self.last_name {
            Some(l) if !l.trim().is_empty() => format!("{} {}", self.first_name, l),
            _ => self.first_name.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminIdentity {
    pub username: String,
    pub display_name: String,
    /// The `AdminSessions.session_id` this request runs under.
    pub session_id: String,
    /// `local`, `ad` or `test_mode`.
    pub auth_method: String,
    /// Two-step sign-in is required of staff (`REQUIRE_2FA`) and this admin has not turned
    /// it on: until they do, only enrolling is open.
    pub must_enrol_two_factor: bool,
}

impl Viewer {
    pub fn display_name(&self) -> Option<String> {
        match self {
            Viewer::Anonymous => None,
            Viewer::Customer(c) => Some(c.display_name()),
            Viewer::Admin(a) => Some(a.display_name.clone()),
            Viewer::Token(t) => Some(t.name.clone()),
        }
    }
}

/// The longest user agent kept (`ActiveSessions.user_agent`).
pub const MAX_USER_AGENT_CHARS: usize = crate::store::fits::SESSION_USER_AGENT.chars;
/// The longest client address kept (an IPv6 address with a zone fits).
pub const MAX_IP_CHARS: usize = crate::store::fits::SESSION_IP.chars;

/// The client facts recorded with a session and in audit rows.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The address failed sign-ins and other per-address limits are counted under.
    pub fn throttle_ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }
}

/// What the audit log calls actions of customers and of the portal itself.
pub const SYSTEM_ACTOR: &str = "SYSTEM";
