//! Self-service "forgot password": a mailed single-use link, valid 30 minutes.
//!
//! Asking for a link answers the same, in the same time, whether or not the email has an
//! account: the answer is decided (and the request counted) before anything about the
//! account is read, and the lookup, the link and the mail happen afterwards in a bounded
//! background task. Only a SHA-256 of the link's 256-bit secret is stored; a newer link
//! replaces older ones; using one sets the password, ends every session of the account,
//! clears the temporary-password flag and is audited, in one transaction.

use std::sync::Arc;
use std::time::Duration;

use rand::TryRngCore;
use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::passwords::PasswordHasher;
use super::service::PasswordChangeError;
use super::throttle::WINDOW;
use super::{ClientInfo, SYSTEM_ACTOR};
use crate::domain::audit::Action;
use crate::domain::{Email, NewPassword, PasswordPolicyError};
use crate::mail::{Mailer, templates};
use crate::store::{CustomerStore, LoginThrottleStore, NewAuditEntry, ResetTokenStore, StoreError};

/// How long a mailed link works.
pub const LINK_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Links mailed for one email per throttle window (15 minutes); further requests are
/// answered alike but send nothing, so nobody can flood a mailbox.
pub const MAX_PER_EMAIL: u64 = 3;
/// Requests from one address per window before it is told to wait.
pub const MAX_PER_ADDRESS: u64 = 10;
/// Background lookups and mails at once; more requests than this are answered but dropped
/// (and logged), so a flood cannot queue unbounded work.
const MAX_PENDING: usize = 32;
/// The deadline of one background job (lookup, link, mail).
const JOB_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestError {
    /// Too many requests from this address: try again after this long.
    Throttled(Duration),
    /// The request could not be counted (the app database cannot write): fail closed.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetError {
    /// Unknown, used, replaced or expired link (deliberately one case).
    InvalidLink,
    Policy(PasswordPolicyError),
    SameAsCurrent,
    Unavailable,
}

impl ResetError {
    pub fn message(&self) -> &'static str {
        match self {
            ResetError::InvalidLink => {
                "This link has expired or was already used. Ask for a new one below."
            }
            ResetError::Policy(p) => p.message(),
            // The forced change's own words: the same rules, said the same way.
            ResetError::SameAsCurrent => PasswordChangeError::SameAsCurrent.message(),
            ResetError::Unavailable => PasswordChangeError::Unavailable.message(),
        }
    }
}

pub struct PasswordResets {
    customers: Arc<dyn CustomerStore>,
    tokens: Arc<dyn ResetTokenStore>,
    counts: Arc<dyn LoginThrottleStore>,
    hasher: PasswordHasher,
    mailer: Arc<Mailer>,
    /// `APP_BASE_URL` (or the address the portal listens on), without a trailing slash.
    base_url: String,
    pending: Arc<Semaphore>,
}

impl std::fmt::Debug for PasswordResets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordResets")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A link's secret: 32 random bytes (256 bits), hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator works");
    hex::encode(bytes)
}

/// A well-formed secret (64 hex digits), before anything is looked up.
pub fn plausible_secret(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Counter names fit the table's 255 characters whatever was typed.
fn email_key(raw_email: &str) -> String {
    let email: String = raw_email.trim().to_lowercase().chars().take(240).collect();
    format!("reset:{email}")
}

fn address_key(ip: &str) -> String {
    super::throttle::fit(format!("reset-ip:{ip}"))
}

fn since(now: OffsetDateTime) -> OffsetDateTime {
    now - time::Duration::try_from(WINDOW).expect("small duration")
}

impl PasswordResets {
    pub fn new(
        customers: Arc<dyn CustomerStore>,
        tokens: Arc<dyn ResetTokenStore>,
        counts: Arc<dyn LoginThrottleStore>,
        hasher: PasswordHasher,
        mailer: Arc<Mailer>,
        base_url: String,
    ) -> Self {
        PasswordResets {
            customers,
            tokens,
            counts,
            hasher,
            mailer,
            base_url: base_url.trim_end_matches('/').to_owned(),
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
        }
    }

    /// Counts a request from `client` for `raw_email` and, unless the email has had its
    /// share of links, starts the background job. The caller answers the same whatever
    /// happens here, except when this address must wait.
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn request(&self, raw_email: &str, client: &ClientInfo) -> Result<(), RequestError> {
        let now = OffsetDateTime::now_utc();
        let unavailable = |e: StoreError| {
            tracing::error!(error = %e, "could not count a password reset request");
            RequestError::Unavailable
        };
        // Requests are kept in the sign-in failure table under their own names (no address
        // column), so they neither count against sign-ins nor against each other's keys.
        // Each limit is decided and counted in one step of the app database.
        if let Some(ip) = client.throttle_ip() {
            let before = self
                .counts
                .count_event_below(&address_key(ip), MAX_PER_ADDRESS, since(now), now)
                .await
                .map_err(unavailable)?;
            if before >= MAX_PER_ADDRESS {
                tracing::warn!(ip, "password reset requests throttled for this address");
                return Err(RequestError::Throttled(WINDOW));
            }
        }
        let for_email = self
            .counts
            .count_event_below(&email_key(raw_email), MAX_PER_EMAIL, since(now), now)
            .await
            .map_err(unavailable)?;
        if for_email >= MAX_PER_EMAIL {
            tracing::info!("password reset request answered without a mail: enough links sent");
            return Ok(());
        }
        let Ok(email) = Email::parse(raw_email) else {
            return Ok(());
        };
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            tracing::warn!("password reset request dropped: too many under way");
            return Ok(());
        };
        let job = self.job();
        tokio::spawn(async move {
            let _permit = permit;
            if tokio::time::timeout(JOB_DEADLINE, job.send_link(email))
                .await
                .is_err()
            {
                tracing::warn!("password reset mail abandoned after {JOB_DEADLINE:?}");
            }
        });
        Ok(())
    }

    fn job(&self) -> Job {
        Job {
            customers: self.customers.clone(),
            tokens: self.tokens.clone(),
            mailer: self.mailer.clone(),
            base_url: self.base_url.clone(),
        }
    }

    /// Whether `secret` is a link that can still be used.
    pub async fn link_is_valid(&self, secret: &str) -> Result<bool, StoreError> {
        if !plausible_secret(secret) {
            return Ok(false);
        }
        let hash = crate::auth::tokens::hash_secret(secret);
        Ok(self
            .tokens
            .reset_token_customer(&hash, OffsetDateTime::now_utc())
            .await?
            .is_some())
    }

    /// Sets a new password through the link `secret`.
    pub async fn complete(
        &self,
        secret: &str,
        new: &str,
        confirm: &str,
        client: &ClientInfo,
    ) -> Result<(), ResetError> {
        self.complete_as(secret, new, confirm, client, Action::CustomerPwResetSelf)
            .await
    }

    /// Sets a new password through the link `secret`, audited as `action` (a reset, or a
    /// colleague accepting a team invitation: the same kind of link).
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn complete_as(
        &self,
        secret: &str,
        new: &str,
        confirm: &str,
        client: &ClientInfo,
        action: Action,
    ) -> Result<(), ResetError> {
        if !plausible_secret(secret) {
            return Err(ResetError::InvalidLink);
        }
        let hash = crate::auth::tokens::hash_secret(secret);
        let unavailable = |e: StoreError| {
            tracing::error!(error = %e, "password reset: app database error");
            ResetError::Unavailable
        };
        let customer = self
            .tokens
            .reset_token_customer(&hash, OffsetDateTime::now_utc())
            .await
            .map_err(unavailable)?
            .ok_or(ResetError::InvalidLink)?;
        let new = NewPassword::parse(new, confirm).map_err(ResetError::Policy)?;
        if self
            .hasher
            .verify(new.expose(), &customer.password_hash)
            .await
        {
            return Err(ResetError::SameAsCurrent);
        }
        let password_hash = self.hasher.hash(new.expose()).await;
        let now = OffsetDateTime::now_utc();
        let audit = NewAuditEntry {
            timestamp: now,
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: action.as_str().to_owned(),
            target_customer_id: Some(customer.id),
            target_customer_email: Some(customer.email.clone()),
            details: Some(
                action.details(&json!({ "ip_address": client.ip, "sessions_ended": true })),
            ),
        };
        let used = self
            .tokens
            .use_reset_token(&hash, customer.id, now, &password_hash, &audit)
            .await
            .map_err(unavailable)?;
        if !used {
            // Used or replaced a moment ago by another request.
            return Err(ResetError::InvalidLink);
        }
        tracing::info!(customer_id = %customer.id, "customer reset their password by mail link");
        Ok(())
    }
}

/// What the background part of a request needs.
struct Job {
    customers: Arc<dyn CustomerStore>,
    tokens: Arc<dyn ResetTokenStore>,
    mailer: Arc<Mailer>,
    base_url: String,
}

impl Job {
    async fn send_link(self, email: Email) {
        let customer = match self.customers.customer_by_email(&email).await {
            Ok(Some(c)) if c.is_active => c,
            Ok(Some(c)) => {
                tracing::info!(customer_id = %c.id, "password reset not sent: account inactive");
                return;
            }
            Ok(None) => {
                tracing::info!("password reset not sent: no such account");
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "password reset: customer lookup failed");
                return;
            }
        };
        let secret = new_secret();
        let now = OffsetDateTime::now_utc();
        let expiry = now + time::Duration::try_from(LINK_LIFETIME).expect("small duration");
        if let Err(e) = self
            .tokens
            .issue_reset_token(
                customer.id,
                &crate::auth::tokens::hash_secret(&secret),
                expiry,
                now,
            )
            .await
        {
            tracing::error!(error = %e, "password reset: could not store the link");
            return;
        }
        let link = format!("{}/reset-password?token={secret}", self.base_url);
        let mail =
            templates::reset_link(&customer.first_name, &customer.email, &link, LINK_LIFETIME);
        if self.mailer.send(&mail).await.is_ok() {
            tracing::info!(customer_id = %customer.id, "password reset link sent");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_of_hex_and_differ() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(a.len(), 64);
        assert!(plausible_secret(&a) && plausible_secret(&b));
        assert_ne!(a, b);
        assert!(!plausible_secret(&a[..63]));
        assert!(!plausible_secret(&format!("{}g", &a[..63])));
    }

    #[test]
    fn request_counters_have_their_own_names() {
        assert_eq!(email_key("  Jane@Example.COM "), "reset:jane@example.com");
        assert_eq!(address_key("10.0.0.1"), "reset-ip:10.0.0.1");
        assert_ne!(
            email_key("jane@example.com"),
            super::super::throttle::customer_key("jane@example.com")
        );
    }
}
