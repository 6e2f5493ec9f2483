//! Customer sign-in, session validation, sign-out and password change.
//!
//! Sign-in and sign-out are the handshakes that create and end the identity the schema
//! reads, so their pages call this service directly; the password change runs through
//! the schema's `changePassword`, which calls it.

use std::sync::Arc;
use std::time::Duration;

use rand::RngCore;
use serde_json::json;
use time::OffsetDateTime;

use super::passwords::PasswordHasher;
use super::throttle::{self, Throttle};
use super::two_factor::{AuditTarget, TwoFactor, TwoFactorError, customer_account};
use super::{ClientInfo, CustomerIdentity, SYSTEM_ACTOR};
use crate::domain::audit::Action;
use crate::domain::{CustomerId, Email, NewPassword, PasswordPolicyError};
use crate::store::{
    ActiveSession, ActiveSessionStore, Customer, CustomerStore, LoginThrottleStore, NewAuditEntry,
    StoreError, WebSessionStore,
};

/// How often `last_seen` is written back: often enough for the admin's live view, rare
/// enough that ordinary browsing does not write to the database on every click.
pub const LAST_SEEN_GRANULARITY: Duration = Duration::from_secs(60);
/// However active, a sign-in ends this long after it began (or after `SESSION_HOURS`, if
/// that is longer): `SESSION_HOURS` is an idle timeout, as in the old portal, and a
/// stolen cookie that is kept busy must still expire.
pub const ABSOLUTE_SESSION_CAP: Duration = Duration::from_secs(7 * 24 * 3600);

/// When a session with this idle timeout ends at the latest, counted from its start.
pub fn absolute_cap(idle: Duration) -> Duration {
    idle.max(ABSOLUTE_SESSION_CAP)
}
/// Passwords longer than this are not even hashed (the form allows 128).
const MAX_LOGIN_PASSWORD_BYTES: usize = 1024;

/// Wrong current passwords in a row, in one session, before the session ends.
pub const MAX_WRONG_CURRENT_PASSWORDS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown email, wrong password or inactive account: deliberately one case.
    InvalidCredentials,
    /// Too many recent failures for this email or from this address: wait this long.
    Throttled(Duration),
    /// The app database did not answer.
    Unavailable,
}

#[derive(Debug, Clone)]
pub struct CustomerLogin {
    pub session_id: String,
    pub must_reset_password: bool,
}

/// A right password: signed in, or (two-step sign-in on) a code to ask for first.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    SignedIn(CustomerLogin),
    /// No session yet: [`AuthService::finish_with_code`] signs in with the app's code.
    CodeNeeded {
        customer_id: CustomerId,
    },
}

/// Why the second step of a sign-in did not sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    /// The code was refused (wrong, used, throttled, or the database did not answer).
    Code(TwoFactorError),
    /// The account is gone, inactive, or no longer has two-step sign-in: sign in again.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChangeError {
    Policy(PasswordPolicyError),
    CurrentPasswordWrong,
    SameAsCurrent,
    Unavailable,
    /// Too many wrong passwords for this account or from this address: wait this long.
    Throttled(Duration),
    /// Too many wrong current passwords in a row: the session has ended.
    SessionEnded,
}

impl PasswordChangeError {
    pub fn message(&self) -> &'static str {
        match self {
            PasswordChangeError::Policy(p) => p.message(),
            PasswordChangeError::CurrentPasswordWrong => "Your current password is not correct.",
            PasswordChangeError::SameAsCurrent => {
                "The new password must be different from your current one."
            }
            PasswordChangeError::Unavailable => {
                "The portal could not save your password. Please try again shortly."
            }
            PasswordChangeError::Throttled(_) => {
                "Too many wrong passwords. Please wait before trying again."
            }
            PasswordChangeError::SessionEnded => {
                "Too many wrong passwords: you have been signed out. Please sign in again."
            }
        }
    }
}

pub struct AuthService {
    customers: Arc<dyn CustomerStore>,
    sessions: Arc<dyn ActiveSessionStore>,
    web_sessions: Arc<dyn WebSessionStore>,
    hasher: PasswordHasher,
    session_lifetime: Duration,
    throttle: Throttle,
    /// Mails "a new sign-in to your account" (`NEW_SIGNIN_MAIL`); `None`: off.
    notices: Option<super::notices::SignInNotices>,
    /// Two-step sign-in; `None`: passwords alone (tests that build the service bare).
    two_factor: Option<Arc<TwoFactor>>,
    /// `REQUIRE_2FA` covers customers: an account without it signs in once (the grace
    /// sign-in) and can reach nothing but enrolment until it is on.
    require_two_factor: bool,
    /// Customers' own teams: a colleague's scope is cut to their manager's on every
    /// request. `None`: no teams (tests that build the service bare).
    teams: Option<Arc<dyn crate::store::TeamStore>>,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService")
            .field("session_lifetime", &self.session_lifetime)
            .finish_non_exhaustive()
    }
}

/// What a customer's own session list calls a session: a digest of its id, so the page
/// and the API never show the id itself (which authorises the browser that holds it).
pub fn public_session_id(session_id: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(format!("public-session:{session_id}"))[..16])
}

fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn identity(customer: &Customer, session_id: &str) -> CustomerIdentity {
    CustomerIdentity {
        customer_id: customer.id,
        session_id: session_id.to_owned(),
        email: customer.email.clone(),
        first_name: customer.first_name.clone(),
        last_name: customer.last_name.clone(),
        scope: crate::domain::ErpScope::parse(&customer.erp_customer_name),
        must_reset_password: customer.must_reset_password,
        must_enrol_two_factor: false,
        team: Default::default(),
    }
}

/// The audit row of a customer signing out `what` of their other browsers.
fn own_sign_out_audit(who: &CustomerIdentity, client: &ClientInfo, what: &str) -> NewAuditEntry {
    NewAuditEntry {
        timestamp: OffsetDateTime::now_utc(),
        admin_username: SYSTEM_ACTOR.to_owned(),
        action_type: Action::CustomerSessionRevoke.as_str().to_owned(),
        target_customer_id: Some(who.customer_id),
        target_customer_email: Some(who.email.clone()),
        details: Some(
            Action::CustomerSessionRevoke
                .details(&json!({ "ip_address": client.ip, "signed_out": what })),
        ),
    }
}

fn truncate(s: Option<&str>, max: usize) -> Option<String> {
    s.map(|s| s.chars().take(max).collect())
}

impl AuthService {
    /// Customer sign-ins the throttle refused, for `/metrics`.
    pub fn throttle_refusals(&self) -> &super::throttle::ThrottleCounts {
        self.throttle.refused()
    }

    pub fn new(
        customers: Arc<dyn CustomerStore>,
        sessions: Arc<dyn ActiveSessionStore>,
        web_sessions: Arc<dyn WebSessionStore>,
        throttle: Arc<dyn LoginThrottleStore>,
        hasher: PasswordHasher,
        session_lifetime: Duration,
    ) -> Self {
        AuthService {
            throttle: Throttle::new(throttle),
            customers,
            sessions,
            web_sessions,
            hasher,
            session_lifetime,
            notices: None,
            two_factor: None,
            require_two_factor: false,
            teams: None,
        }
    }

    /// Reads each signed-in customer's place in a team with the session, and cuts a
    /// colleague's scope to their manager's.
    pub fn with_teams(mut self, teams: Arc<dyn crate::store::TeamStore>) -> Self {
        self.teams = Some(teams);
        self
    }

    /// Asks accounts that turned two-step sign-in on for their app's code; `required`
    /// (`REQUIRE_2FA=customers`): accounts without it reach nothing but enrolment.
    pub fn with_two_factor(mut self, two_factor: Arc<TwoFactor>, required: bool) -> Self {
        self.two_factor = Some(two_factor);
        self.require_two_factor = required;
        self
    }

    /// Mails the customer when a browser the account does not know signs in.
    pub fn with_sign_in_notices(mut self, notices: super::notices::SignInNotices) -> Self {
        self.notices = Some(notices);
        self
    }

    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    pub fn session_lifetime(&self) -> Duration {
        self.session_lifetime
    }

    /// Checks the credentials and, on success, records a brand-new session. Failures are
    /// counted; too many for this email or from this address are refused unchecked.
    /// `known_device`: the browser has signed in to this account before (no per-account
    /// delay; see `throttle`). `trust_mark`: the browser's "trust this browser" cookie,
    /// which skips the two-step code while it is live.
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn login_customer(
        &self,
        raw_email: &str,
        password: &str,
        client: &ClientInfo,
        known_device: bool,
        trust_mark: Option<&str>,
    ) -> Result<LoginOutcome, LoginError> {
        let key = throttle::customer_key(raw_email);
        let ip = client.throttle_ip();
        // Decided and counted in one step, before the password is checked.
        let attempt = self
            .throttle
            .begin(&key, ip, known_device)
            .await
            .map_err(|r| match r {
                throttle::Refusal::TooMany { retry_after } => LoginError::Throttled(retry_after),
                throttle::Refusal::Unavailable => LoginError::Unavailable,
            })?;
        let customer = match self.check_credentials(raw_email, password).await {
            Ok(c) => c,
            Err(LoginError::InvalidCredentials) => {
                self.throttle.failed_attempt(attempt).await;
                return Err(LoginError::InvalidCredentials);
            }
            Err(e) => {
                self.throttle.abandoned(attempt).await;
                return Err(e);
            }
        };
        self.throttle.succeeded(attempt).await;
        if let Some(two_factor) = &self.two_factor {
            let on = two_factor
                .needs_code(&customer_account(customer.id), trust_mark)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "could not read two-step sign-in");
                    LoginError::Unavailable
                })?;
            if on {
                tracing::info!(customer_id = %customer.id, "password right; two-step code asked");
                return Ok(LoginOutcome::CodeNeeded {
                    customer_id: customer.id,
                });
            }
        }
        self.signed_in(&customer, client, known_device)
            .await
            .map(LoginOutcome::SignedIn)
    }

    /// The second step of a sign-in: the app's code (or a recovery code) of the account
    /// whose password was right a moment ago.
    #[tracing::instrument(skip_all, fields(ip = client.ip.as_deref()))]
    pub async fn finish_with_code(
        &self,
        customer_id: CustomerId,
        code: &str,
        client: &ClientInfo,
        known_device: bool,
    ) -> Result<CustomerLogin, CodeError> {
        let two_factor = self.two_factor.as_ref().ok_or(CodeError::Expired)?;
        let customer = self
            .customers
            .customer_by_id(customer_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "customer lookup failed");
                CodeError::Code(TwoFactorError::Unavailable)
            })?
            .filter(|c| c.is_active)
            .ok_or(CodeError::Expired)?;
        two_factor
            .check(
                &customer_account(customer.id),
                code,
                AuditTarget::customer(customer.id, &customer.email),
                client,
            )
            .await
            .map_err(|e| match e {
                // Turned off meanwhile (or reset by an admin): sign in again.
                TwoFactorError::NotOn => CodeError::Expired,
                e => CodeError::Code(e),
            })?;
        self.signed_in(&customer, client, known_device)
            .await
            .map_err(|_| CodeError::Code(TwoFactorError::Unavailable))
    }

    /// A "trust this browser" mark for the account (after its code was right).
    pub fn trust_mark(&self, customer_id: CustomerId) -> Option<String> {
        self.two_factor
            .as_ref()
            .map(|t| t.trust_mark(&customer_account(customer_id)))
    }

    /// Starts the session of a sign-in that passed every step, and mails the owner when
    /// the browser was new to the account.
    async fn signed_in(
        &self,
        customer: &Customer,
        client: &ClientInfo,
        known_device: bool,
    ) -> Result<CustomerLogin, LoginError> {
        let login = self.start_session(customer, client).await?;
        // Not for an account's first sign-in, nor one on a temporary password: its owner
        // was just mailed that password, and every first sign-in is from a new browser.
        let worth_a_mail = customer.last_login_date.is_some() && !customer.must_reset_password;
        if !known_device
            && worth_a_mail
            && let Some(notices) = &self.notices
        {
            notices.notify(
                super::notices::SignedIn {
                    first_name: customer.first_name.clone(),
                    email: customer.email.clone(),
                    at: OffsetDateTime::now_utc(),
                },
                client,
            );
        }
        Ok(login)
    }

    /// A bot filled the honeypot: it counts as a failed attempt from its address.
    pub async fn count_failure(&self, raw_email: &str, client: &ClientInfo) {
        // Logged inside; the bot is answered the same way either way.
        let _ = self
            .throttle
            .failed(&throttle::customer_key(raw_email), client.throttle_ip())
            .await;
    }

    /// Checks email and password; a failure never answers before the hasher's floor, so
    /// every kind of failed sign-in takes the same time.
    async fn check_credentials(
        &self,
        raw_email: &str,
        password: &str,
    ) -> Result<Customer, LoginError> {
        let started = tokio::time::Instant::now();
        let result = self.check_credentials_unpadded(raw_email, password).await;
        if matches!(result, Err(LoginError::InvalidCredentials)) {
            tokio::time::sleep_until(started + self.hasher.failure_floor()).await;
        }
        result
    }

    async fn check_credentials_unpadded(
        &self,
        raw_email: &str,
        password: &str,
    ) -> Result<Customer, LoginError> {
        let email = Email::parse(raw_email).ok();
        let customer = match &email {
            Some(e) => self.customers.customer_by_email(e).await.map_err(|e| {
                tracing::error!(error = %e, "customer lookup failed");
                LoginError::Unavailable
            })?,
            None => None,
        };
        let Some(customer) = customer else {
            // Same cost as a real check, so response time does not reveal which emails exist.
            self.hasher.verify_dummy(password).await;
            tracing::info!("customer login refused: unknown email");
            return Err(LoginError::InvalidCredentials);
        };
        let plausible = !password.is_empty() && password.len() <= MAX_LOGIN_PASSWORD_BYTES;
        let password_ok = if plausible {
            self.hasher.verify(password, &customer.password_hash).await
        } else {
            self.hasher.verify_dummy("").await;
            false
        };
        if !password_ok {
            tracing::info!(customer_id = %customer.id, "customer login refused: wrong password");
            return Err(LoginError::InvalidCredentials);
        }
        if !customer.is_active {
            tracing::info!(customer_id = %customer.id, "customer login refused: account inactive");
            return Err(LoginError::InvalidCredentials);
        }
        // A hash carried over from the old portal at a lower cost is replaced by one at
        // today's cost (still a Werkzeug hash the old portal reads). Best effort.
        if PasswordHasher::is_weaker_than_today(&customer.password_hash) {
            let stronger = self.hasher.hash(password).await;
            match self
                .customers
                .upgrade_password_hash(customer.id, &stronger)
                .await
            {
                Ok(()) => {
                    tracing::info!(customer_id = %customer.id, "legacy password hash upgraded")
                }
                Err(e) => tracing::warn!(error = %e, "could not upgrade a legacy password hash"),
            }
        }
        Ok(customer)
    }

    async fn start_session(
        &self,
        customer: &Customer,
        client: &ClientInfo,
    ) -> Result<CustomerLogin, LoginError> {
        let now = OffsetDateTime::now_utc();
        let session = ActiveSession {
            session_id: new_session_id(),
            customer_id: customer.id,
            last_seen: now,
            ip_address: truncate(client.ip.as_deref(), super::MAX_IP_CHARS),
            user_agent: truncate(client.user_agent.as_deref(), super::MAX_USER_AGENT_CHARS),
            created_at: now,
        };
        let audit = NewAuditEntry {
            timestamp: now,
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: Action::CustomerLogin.as_str().to_owned(),
            target_customer_id: Some(customer.id),
            target_customer_email: Some(customer.email.clone()),
            details: Some(Action::CustomerLogin.details(
                &json!({ "ip_address": session.ip_address.as_deref().unwrap_or("unknown") }),
            )),
        };
        self.sessions
            .begin_customer_session(&session, &audit)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not record the new session");
                LoginError::Unavailable
            })?;
        tracing::info!(customer_id = %customer.id, "customer signed in");
        Ok(CustomerLogin {
            session_id: session.session_id,
            must_reset_password: customer.must_reset_password,
        })
    }

    /// A bot filled the honeypot: spend the time a real check would, and log it.
    pub async fn honeypot_tripped(&self, raw_email: &str, password: &str, client: &ClientInfo) {
        self.hasher.verify_dummy(password).await;
        tracing::warn!(
            ip = client.ip.as_deref(),
            user_agent = client.user_agent.as_deref(),
            email = %raw_email.chars().take(100).collect::<String>(),
            "login honeypot filled: attempt silently refused"
        );
    }

    /// The identity behind an `ActiveSessions` row, or `None` when the row is gone,
    /// expired, or its customer was deactivated (the row is then removed).
    pub async fn resolve_customer_session(
        &self,
        session_id: &str,
    ) -> Result<Option<CustomerIdentity>, StoreError> {
        // With teams, the team place comes in the same read as the session.
        let found = match &self.teams {
            Some(teams) => teams.session_in_team(session_id).await?,
            None => self
                .sessions
                .session_with_customer(session_id)
                .await?
                .map(|(s, c)| (s, c, crate::store::TeamPlace::default())),
        };
        self.judge_customer_session(session_id, found).await
    }

    /// [`resolve_customer_session`](Self::resolve_customer_session) for a sign-in read
    /// already (with the browser session, in the same trip to the database).
    pub async fn resolve_read_customer_session(
        &self,
        session_id: &str,
        found: Option<(ActiveSession, Customer, crate::store::TeamPlace)>,
    ) -> Result<Option<CustomerIdentity>, StoreError> {
        // Without teams (a bare service in tests) nobody has a place in one.
        let found = match self.teams {
            Some(_) => found,
            None => found.map(|(s, c, _)| (s, c, crate::store::TeamPlace::default())),
        };
        self.judge_customer_session(session_id, found).await
    }

    /// The identity behind a sign-in as read, or `None` when it is gone, expired or its
    /// account deactivated (the row is then removed).
    async fn judge_customer_session(
        &self,
        session_id: &str,
        found: Option<(ActiveSession, Customer, crate::store::TeamPlace)>,
    ) -> Result<Option<CustomerIdentity>, StoreError> {
        let Some((session, customer, place)) = found else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        let idle = now - session.last_seen >= self.session_lifetime;
        let expired = idle || now - session.created_at >= absolute_cap(self.session_lifetime);
        if expired || !customer.is_active {
            self.sessions.end_customer_session(session_id, None).await?;
            tracing::info!(customer_id = %customer.id, expired, "customer session ended by validation");
            return Ok(None);
        }
        if now - session.last_seen >= LAST_SEEN_GRANULARITY {
            self.sessions.touch_session(session_id, now).await?;
        }
        let mut who = identity(&customer, session_id);
        // Never wider than the manager's scope as it is now, whatever is stored (the
        // manager's own scope may have been narrowed since, by any road).
        if let Some(lead) = &place.managed_by {
            who.scope = who
                .scope
                .intersection(&crate::domain::ErpScope::parse(&lead.erp_customer_name));
            who.team = super::TeamRole::Colleague { manager: lead.id };
        } else if place.manager {
            who.team = super::TeamRole::Manager;
        }
        // Read on every request while required, so enrolling in one browser opens every
        // other browser of the account at once.
        if self.require_two_factor
            && let Some(two_factor) = &self.two_factor
        {
            who.must_enrol_two_factor = !two_factor.is_on(&customer_account(customer.id)).await?;
        }
        Ok(Some(who))
    }

    pub async fn logout_customer(
        &self,
        who: &CustomerIdentity,
        client: &ClientInfo,
    ) -> Result<(), StoreError> {
        tracing::info!(customer_id = %who.customer_id, ip = client.ip.as_deref(), "customer signing out");
        let audit = NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: Action::CustomerLogout.as_str().to_owned(),
            target_customer_id: Some(who.customer_id),
            target_customer_email: Some(who.email.clone()),
            details: Some(Action::CustomerLogout.details(&json!({}))),
        };
        self.sessions
            .end_customer_session(&who.session_id, Some(&audit))
            .await?;
        tracing::info!(customer_id = %who.customer_id, "customer signed out");
        Ok(())
    }

    /// Changes the password of the signed-in customer. `current` is required unless the
    /// account is on a temporary password (then the session itself proves it).
    pub async fn change_password(
        &self,
        who: &CustomerIdentity,
        current: Option<&str>,
        new: &str,
        confirm: &str,
        client: &ClientInfo,
    ) -> Result<(), PasswordChangeError> {
        let new = NewPassword::parse(new, confirm).map_err(PasswordChangeError::Policy)?;
        let customer = self
            .customers
            .customer_by_id(who.customer_id)
            .await
            .map_err(|_| PasswordChangeError::Unavailable)?
            .ok_or(PasswordChangeError::Unavailable)?;
        if !customer.must_reset_password {
            self.check_current_password(who, &customer, current.unwrap_or(""), client)
                .await?;
        }
        if self
            .hasher
            .verify(new.expose(), &customer.password_hash)
            .await
        {
            return Err(PasswordChangeError::SameAsCurrent);
        }
        let hash = self.hasher.hash(new.expose()).await;
        let audit = NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: Action::CustomerPasswordChange.as_str().to_owned(),
            target_customer_id: Some(customer.id),
            target_customer_email: Some(customer.email.clone()),
            details: Some(
                json!({ "forced": customer.must_reset_password, "other_sessions_ended": true })
                    .to_string(),
            ),
        };
        self.customers
            .change_password(customer.id, &hash, false, Some(&who.session_id), &audit)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not save the new password");
                PasswordChangeError::Unavailable
            })?;
        tracing::info!(customer_id = %customer.id, "customer changed password");
        Ok(())
    }

    /// Checks the current password as a sign-in is checked: counted by the throttle (so a
    /// stolen session cannot guess faster than the sign-in page allows), and after
    /// [`MAX_WRONG_CURRENT_PASSWORDS`] wrong ones in a row the session ends, audited.
    async fn check_current_password(
        &self,
        who: &CustomerIdentity,
        customer: &Customer,
        current: &str,
        client: &ClientInfo,
    ) -> Result<(), PasswordChangeError> {
        // This session's checks since its last right one, counted before checking (in one
        // step, so concurrent requests and aliases cannot all pass): once the limit is
        // reached the session is over and nothing more is checked.
        let in_session = throttle::fit(format!("password-change:{}", who.session_id));
        let before = self
            .throttle
            .count_below(&in_session, MAX_WRONG_CURRENT_PASSWORDS)
            .await
            .map_err(|_| PasswordChangeError::Unavailable)?;
        if before >= MAX_WRONG_CURRENT_PASSWORDS {
            return Err(PasswordChangeError::SessionEnded);
        }
        let attempt = self
            .throttle
            .begin(
                &throttle::customer_key(&customer.email),
                client.throttle_ip(),
                false,
            )
            .await
            .map_err(|r| match r {
                throttle::Refusal::TooMany { retry_after } => {
                    PasswordChangeError::Throttled(retry_after)
                }
                throttle::Refusal::Unavailable => PasswordChangeError::Unavailable,
            })?;
        let plausible = !current.is_empty() && current.len() <= MAX_LOGIN_PASSWORD_BYTES;
        let right = plausible && self.hasher.verify(current, &customer.password_hash).await;
        if right {
            self.throttle.succeeded(attempt).await;
            self.throttle.forget(&in_session).await;
            return Ok(());
        }
        self.throttle.failed_attempt(attempt).await;
        let wrong = before + 1;
        tracing::info!(customer_id = %customer.id, wrong, "wrong current password");
        if wrong < MAX_WRONG_CURRENT_PASSWORDS {
            return Err(PasswordChangeError::CurrentPasswordWrong);
        }
        let audit = NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: Action::CustomerSessionGuessing.as_str().to_owned(),
            target_customer_id: Some(customer.id),
            target_customer_email: Some(customer.email.clone()),
            details: Some(
                json!({ "ip_address": client.ip, "wrong_current_passwords": wrong }).to_string(),
            ),
        };
        self.sessions
            .end_customer_session(&who.session_id, Some(&audit))
            .await
            .map_err(|_| PasswordChangeError::Unavailable)?;
        tracing::warn!(customer_id = %customer.id, "session ended: too many wrong current passwords");
        Err(PasswordChangeError::SessionEnded)
    }

    /// The signed-in customer's own browsers, most recently seen first.
    pub async fn own_sessions(
        &self,
        who: &CustomerIdentity,
    ) -> Result<Vec<ActiveSession>, StoreError> {
        self.sessions.customer_sessions(who.customer_id).await
    }

    /// Signs out one of the customer's other browsers, named by its public id (never the
    /// session's secret id). `Ok(false)` when the customer has no such session (ended
    /// meanwhile, or someone else's); the current browser signs out with "Sign out".
    pub async fn end_own_session(
        &self,
        who: &CustomerIdentity,
        public_id: &str,
        client: &ClientInfo,
    ) -> Result<bool, StoreError> {
        let sessions = self.sessions.customer_sessions(who.customer_id).await?;
        let Some(target) = sessions.iter().find(|s| {
            s.session_id != who.session_id && public_session_id(&s.session_id) == public_id
        }) else {
            return Ok(false);
        };
        let what = format!(
            "{} at {}",
            crate::domain::describe_browser(target.user_agent.as_deref()),
            target.ip_address.as_deref().unwrap_or("an unknown address")
        );
        let audit = own_sign_out_audit(who, client, &what);
        let ended = self
            .sessions
            .end_customer_session(&target.session_id, Some(&audit))
            .await?;
        tracing::info!(customer_id = %who.customer_id, ended, "customer signed out one of their browsers");
        Ok(ended)
    }

    /// Signs out every other browser of the customer; how many there were.
    pub async fn end_other_own_sessions(
        &self,
        who: &CustomerIdentity,
        client: &ClientInfo,
    ) -> Result<u64, StoreError> {
        let audit = own_sign_out_audit(who, client, "every other browser");
        let n = self
            .sessions
            .end_other_customer_sessions(who.customer_id, &who.session_id, &audit)
            .await?;
        tracing::info!(customer_id = %who.customer_id, ended = n, "customer signed out their other browsers");
        Ok(n)
    }

    /// Removes customer sessions past `SESSION_HOURS`, expired browser records and old
    /// sign-in failures. Admin sessions are purged by `AdminAuth`.
    pub async fn purge_expired(&self) -> Result<(u64, u64), StoreError> {
        let now = OffsetDateTime::now_utc();
        let sessions = self
            .sessions
            .purge_sessions(
                now - self.session_lifetime,
                now - absolute_cap(self.session_lifetime),
            )
            .await?;
        let web = self.web_sessions.purge_expired_web_sessions(now).await?;
        self.throttle.purge().await?;
        Ok((sessions, web))
    }
}
