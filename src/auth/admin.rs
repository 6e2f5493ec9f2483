//! Admin sign-in: the local admin first (`ADMIN_USERNAME` + Werkzeug `ADMIN_PASSWORD_HASH`),
//! then Active Directory when `AD_SERVER` is set. Sessions are rows of `AdminSessions`,
//! re-checked on every request like customer sessions, so they can be revoked.
//!
//! Whatever fails, the caller gets one answer: the message never says which method failed.

use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use serde_json::json;
use time::OffsetDateTime;

use super::ldap::{ActiveDirectory, AdOutcome};
use super::passwords::PasswordHasher;
use super::service::CodeError;
use super::service::LAST_SEEN_GRANULARITY;
use super::sessions::PendingStaffCode;
use super::throttle::{self, Throttle};
use super::two_factor::{AuditTarget, TwoFactor, TwoFactorError, staff_account};
use super::{AdminIdentity, ClientInfo};
use crate::domain::audit::Action;
use crate::store::fits;
use crate::store::{
    AdminSession, AdminSessionStore, AuditStore, LoginThrottleStore, NewAuditEntry, StoreError,
};

/// Usernames as typed: `user`, or `user@domain.com` (trimmed to `user`).
pub const MAX_USERNAME: usize = 64;

/// `user@domain.com` → `user`; then only `[A-Za-z0-9._-]{1,64}` is accepted. Anything else
/// is refused before any password check or directory bind.
pub fn normalise_username(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let user = trimmed.split('@').next().unwrap_or("");
    let ok = !user.is_empty()
        && user.len() <= MAX_USERNAME
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then(|| user.to_owned())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminLoginError {
    Refused,
    /// Too many recent failures for this username or from this address: refused without
    /// asking the directory, so bots cannot lock the real person out of Active Directory.
    Throttled(std::time::Duration),
    Unavailable,
}

#[derive(Debug, Clone)]
pub struct AdminLogin {
    pub session_id: String,
    pub display_name: String,
}

/// A right password: signed in, or (two-step sign-in on, browser not trusted) waiting for
/// the app's code, with no session yet.
#[derive(Debug, Clone)]
pub enum AdminLoginOutcome {
    SignedIn(AdminLogin),
    CodeNeeded(PendingStaffCode),
}

/// Who passed the password step, and how.
struct Admitted {
    username: String,
    display_name: String,
    method: &'static str,
}

pub struct AdminAuth {
    sessions: Arc<dyn AdminSessionStore>,
    audit_log: Arc<dyn AuditStore>,
    hasher: PasswordHasher,
    local_username: String,
    local_hash: Arc<crate::config::Secret>,
    directory: Option<ActiveDirectory>,
    /// Demo mode only (production refuses to start with it): AD is bypassed, as the old
    /// portal's TEST_MODE did, and any well-formed username with a password is admitted.
    test_mode: bool,
    session_lifetime: Duration,
    throttle: Throttle,
    /// Two-step sign-in for staff; `None`: passwords alone (tests that build it bare).
    two_factor: Option<Arc<TwoFactor>>,
    /// `REQUIRE_2FA` covers staff: an admin without it signs in once (the grace sign-in)
    /// and can reach nothing but enrolment until it is on.
    require_two_factor: bool,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth")
            .field("local_username", &self.local_username)
            .field("directory", &self.directory.is_some())
            .field("test_mode", &self.test_mode)
            .finish_non_exhaustive()
    }
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl AdminAuth {
    /// Staff sign-ins the throttle refused, for `/metrics`.
    pub fn throttle_refusals(&self) -> &super::throttle::ThrottleCounts {
        self.throttle.refused()
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        sessions: Arc<dyn AdminSessionStore>,
        audit_log: Arc<dyn AuditStore>,
        throttle: Arc<dyn LoginThrottleStore>,
        hasher: PasswordHasher,
        local_username: String,
        local_hash: Arc<crate::config::Secret>,
        directory: Option<ActiveDirectory>,
        test_mode: bool,
        session_lifetime: Duration,
    ) -> Self {
        AdminAuth {
            throttle: Throttle::new(throttle),
            sessions,
            audit_log,
            hasher,
            local_username,
            local_hash,
            directory,
            test_mode,
            session_lifetime,
            two_factor: None,
            require_two_factor: false,
        }
    }

    /// Asks staff who turned two-step sign-in on for their app's code; `required`
    /// (`REQUIRE_2FA=staff` or `both`): staff without it reach nothing but enrolment.
    pub fn with_two_factor(mut self, two_factor: Arc<TwoFactor>, required: bool) -> Self {
        self.two_factor = Some(two_factor);
        self.require_two_factor = required;
        self
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// A bot filled the honeypot: it counts as a failed attempt for that name and address.
    pub async fn count_failure(&self, raw_username: &str, client: &ClientInfo) {
        // Logged inside; the bot is answered the same way either way.
        let _ = self
            .throttle
            .failed(&throttle::admin_key(raw_username), client.throttle_ip())
            .await;
    }

    fn audit(&self, action: Action, admin: &str, details: serde_json::Value) -> NewAuditEntry {
        NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: admin.to_owned(),
            action_type: action.as_str().to_owned(),
            target_customer_id: None,
            target_customer_email: None,
            details: Some(details.to_string()),
        }
    }

    async fn refuse(
        &self,
        username: Option<&str>,
        client: &ClientInfo,
        reason: &str,
    ) -> AdminLoginError {
        tracing::info!(
            username,
            reason,
            ip = client.ip.as_deref(),
            "admin sign-in refused"
        );
        let who = username.unwrap_or("(invalid username)");
        let entry = self.audit(
            Action::AdminLoginFailed,
            who,
            json!({ "ip_address": client.ip }),
        );
        if let Err(e) = self.audit_log.append_audit(&entry).await {
            tracing::error!(error = %e, "could not audit a failed admin sign-in");
        }
        AdminLoginError::Refused
    }

    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn login(
        &self,
        raw_username: &str,
        password: &str,
        client: &ClientInfo,
        known_device: bool,
        trust_mark: Option<&str>,
    ) -> Result<AdminLoginOutcome, AdminLoginError> {
        let key = throttle::admin_key(raw_username);
        let ip = client.throttle_ip();
        let throttle = &self.throttle;
        let attempt = throttle
            .begin(&key, ip, known_device)
            .await
            .map_err(|r| match r {
                throttle::Refusal::TooMany { retry_after } => {
                    AdminLoginError::Throttled(retry_after)
                }
                throttle::Refusal::Unavailable => AdminLoginError::Unavailable,
            })?;
        match self.attempt(raw_username, password, client).await {
            Ok(admitted) => {
                throttle.succeeded(attempt).await;
                self.after_password(admitted, client, &key, trust_mark)
                    .await
            }
            Err(AdminLoginError::Refused) => {
                throttle.failed_attempt(attempt).await;
                Err(AdminLoginError::Refused)
            }
            Err(e) => {
                throttle.abandoned(attempt).await;
                Err(e)
            }
        }
    }

    async fn attempt(
        &self,
        raw_username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Admitted, AdminLoginError> {
        // The local admin's name is matched exactly, as typed, whatever it holds (the old
        // portal accepted any name): no case folding and no `@domain` trimming, which are
        // for directory names.
        let local = raw_username == self.local_username;
        let username = if local {
            Some(self.local_username.clone())
        } else {
            normalise_username(raw_username)
        };
        let Some(username) = username else {
            self.hasher.verify_dummy(password).await;
            return Err(self.refuse(None, client, "malformed username").await);
        };
        // An empty password would be an anonymous bind, which a directory may "accept".
        if password.trim().is_empty() || password.len() > 1024 {
            self.hasher.verify_dummy("").await;
            return Err(self.refuse(Some(&username), client, "empty password").await);
        }
        let mut method = None;
        let mut display_name = username.clone();
        if local {
            if self.hasher.verify(password, self.local_hash.expose()).await {
                method = Some("local");
                display_name = self.local_username.clone();
            }
        } else {
            self.hasher.verify_dummy(password).await;
        }
        if method.is_none() && self.test_mode {
            method = Some("test_mode");
            display_name = format!("{username} (test mode)");
        }
        if method.is_none()
            && let Some(ad) = &self.directory
        {
            match ad.authenticate(&username, password).await {
                AdOutcome::Admitted { display_name: name } => {
                    method = Some("ad");
                    display_name = name.unwrap_or_else(|| username.clone());
                }
                AdOutcome::Refused(reason) => {
                    tracing::info!(%username, reason, "directory refused the admin");
                }
                AdOutcome::Unreachable(e) => {
                    tracing::warn!(error = %e, "directory unreachable during admin sign-in");
                }
            }
        }
        let Some(method) = method else {
            return Err(self
                .refuse(Some(&username), client, "bad credentials")
                .await);
        };
        Ok(Admitted {
            username,
            display_name,
            method,
        })
    }

    /// The password was right: asks for the code when the account has two-step sign-in on
    /// and this browser is not trusted for it, and signs in otherwise.
    async fn after_password(
        &self,
        admitted: Admitted,
        client: &ClientInfo,
        device_key: &str,
        trust_mark: Option<&str>,
    ) -> Result<AdminLoginOutcome, AdminLoginError> {
        if let Some(two_factor) = &self.two_factor {
            let account = staff_account(admitted.method, &admitted.username);
            let needs = two_factor
                .needs_code(&account, trust_mark)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "could not read two-step sign-in");
                    AdminLoginError::Unavailable
                })?;
            if needs {
                tracing::info!(username = %admitted.username, "staff password right; two-step code asked");
                return Ok(AdminLoginOutcome::CodeNeeded(PendingStaffCode::new(
                    admitted.username,
                    admitted.display_name,
                    admitted.method.to_owned(),
                    device_key.to_owned(),
                )));
            }
        }
        self.start_session(
            &admitted.username,
            &admitted.display_name,
            admitted.method,
            client,
        )
        .await
        .map(AdminLoginOutcome::SignedIn)
    }

    /// The second step of a staff sign-in: the app's code (or a recovery code) of the
    /// account whose password was right a moment ago.
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn finish_with_code(
        &self,
        pending: &PendingStaffCode,
        code: &str,
        client: &ClientInfo,
    ) -> Result<AdminLogin, CodeError> {
        let two_factor = self.two_factor.as_ref().ok_or(CodeError::Expired)?;
        // Only the methods a password step can yield; the record is the portal's own
        // (kept server-side), so anything else means it was not made here.
        let method = match pending.auth_method.as_str() {
            "local" => "local",
            "ad" => "ad",
            "test_mode" => "test_mode",
            _ => return Err(CodeError::Expired),
        };
        two_factor
            .check(
                &staff_account(method, &pending.username),
                code,
                AuditTarget::staff(&pending.username),
                client,
            )
            .await
            .map_err(|e| match e {
                TwoFactorError::NotOn => CodeError::Expired,
                e => CodeError::Code(e),
            })?;
        self.start_session(&pending.username, &pending.display_name, method, client)
            .await
            .map_err(|_| CodeError::Code(TwoFactorError::Unavailable))
    }

    /// A "trust this browser" mark for the staff account (after its code was right).
    pub fn trust_mark(&self, pending: &PendingStaffCode) -> Option<String> {
        self.two_factor
            .as_ref()
            .map(|t| t.trust_mark(&staff_account(&pending.auth_method, &pending.username)))
    }

    /// Records the session of a sign-in that passed every step, audited as the old portal
    /// did (`ADMIN_LOGIN` with the method and address).
    async fn start_session(
        &self,
        username: &str,
        display_name: &str,
        method: &str,
        client: &ClientInfo,
    ) -> Result<AdminLogin, AdminLoginError> {
        let now = OffsetDateTime::now_utc();
        let session = AdminSession {
            session_id: new_session_id(),
            username: fits::ADMIN_USERNAME.cut(username),
            display_name: fits::ADMIN_DISPLAY_NAME.cut(display_name),
            auth_method: method.to_owned(),
            ip_address: fits::ADMIN_IP.cut_opt(client.ip.as_deref()),
            user_agent: fits::ADMIN_USER_AGENT.cut_opt(client.user_agent.as_deref()),
            created_at: now,
            last_seen: now,
        };
        let entry = self.audit(
            Action::AdminLogin,
            username,
            json!({ "method": method, "ip_address": client.ip }),
        );
        self.sessions
            .begin_admin_session(&session, &entry)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not record the admin session");
                AdminLoginError::Unavailable
            })?;
        tracing::info!(%username, method, "admin signed in");
        Ok(AdminLogin {
            session_id: session.session_id,
            display_name: display_name.to_owned(),
        })
    }

    /// The admin behind a session row, or `None` if it was revoked or has expired.
    pub async fn resolve(&self, session_id: &str) -> Result<Option<AdminIdentity>, StoreError> {
        let Some(s) = self.sessions.admin_session(session_id).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        if now - s.last_seen >= self.session_lifetime
            || now - s.created_at >= super::service::absolute_cap(self.session_lifetime)
        {
            self.sessions.end_admin_session(session_id, None).await?;
            return Ok(None);
        }
        if now - s.last_seen >= LAST_SEEN_GRANULARITY {
            self.sessions.touch_admin_session(session_id, now).await?;
        }
        // Read on every request while required, so enrolling in one browser opens every
        // other browser of the account at once.
        let must_enrol_two_factor = match (&self.two_factor, self.require_two_factor) {
            (Some(two_factor), true) => {
                !two_factor
                    .is_on(&staff_account(&s.auth_method, &s.username))
                    .await?
            }
            _ => false,
        };
        Ok(Some(AdminIdentity {
            username: s.username,
            display_name: s.display_name,
            session_id: s.session_id,
            auth_method: s.auth_method,
            must_enrol_two_factor,
        }))
    }

    pub async fn logout(&self, who: &AdminIdentity, client: &ClientInfo) -> Result<(), StoreError> {
        let entry = self.audit(
            Action::AdminLogout,
            &who.username,
            json!({ "ip_address": client.ip }),
        );
        self.sessions
            .end_admin_session(&who.session_id, Some(&entry))
            .await?;
        Ok(())
    }

    /// Removes admin sessions past `SESSION_HOURS`.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = OffsetDateTime::now_utc();
        self.sessions
            .purge_admin_sessions(
                now - self.session_lifetime,
                now - super::service::absolute_cap(self.session_lifetime),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_checked() {
        assert_eq!(
            normalise_username("  alice@example.local "),
            Some("alice".into())
        );
        assert_eq!(normalise_username("j.doe-2_x"), Some("j.doe-2_x".into()));
        for bad in [
            "",
            "   ",
            "@example.com",
            "*",
            "x)(|(objectClass=*)",
            "a b",
            "ümlaut",
            &"a".repeat(65),
            "a\\b",
            "cn=admin",
        ] {
            assert_eq!(normalise_username(bad), None, "{bad:?}");
        }
    }
}
