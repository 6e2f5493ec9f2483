//! Managing customer accounts (admins only): create with a temporary password and a
//! welcome mail, edit, deactivate / reactivate, reset the password, end a session.
//! Every change is audited in the same transaction as the change itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::Rng;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::AdminIdentity;
use crate::auth::access::AdminGrant;
use crate::auth::passwords::PasswordHasher;
use crate::domain::audit::Action;
use crate::domain::{CustomerId, Email, ErpScope};
use crate::erp::ErpSource;
use crate::mail::{Mailer, templates};
mod team;
pub use team::{Colleague, ColleagueInput, INVITATION_LIFETIME, InviteOutcome};

use crate::store::{
    ActiveSessionStore, AuditStore, Customer, CustomerChanges, CustomerStore, NewAuditEntry,
    NewCustomer, StoreError,
};

/// Length of generated temporary passwords (the policy asks for at least 12).
pub const TEMP_PASSWORD_LEN: usize = 16;
/// No 0/O, 1/l/I: temporary passwords get read off a screen or an email and typed.
const TEMP_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

pub fn temporary_password() -> String {
    let mut rng = rand::rng();
    (0..TEMP_PASSWORD_LEN)
        .map(|_| TEMP_ALPHABET[rng.random_range(0..TEMP_ALPHABET.len())] as char)
        .collect()
}

/// What an admin typed in the Add / Edit form.
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `["All"]` or ERP customer names.
    pub erp_customer_names: Vec<String>,
    /// Edit only.
    pub is_active: Option<bool>,
}

/// The longest scope an account or token may have (see `store::fits::ERP_SCOPE`).
pub const MAX_SCOPE_CHARS: usize = crate::store::fits::ERP_SCOPE.chars;

/// Field → message, for inline errors that keep what was typed.
pub type FieldErrors = BTreeMap<&'static str, String>;

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("no such customer")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CustomerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DuplicateEmail => {
                let mut f = FieldErrors::new();
                f.insert(
                    "email",
                    "Another account already uses this email.".to_owned(),
                );
                CustomerError::Invalid(f)
            }
            StoreError::NotFound => CustomerError::NotFound,
            other => CustomerError::Store(other),
        }
    }
}

/// The result of an action that issues a temporary password.
#[derive(Debug, Clone)]
pub struct PasswordIssued {
    pub customer: Customer,
    pub email_sent: bool,
    /// Demo mode: the mail was written to the outbox folder, not sent to anyone.
    pub kept_in_outbox: bool,
    /// Shown to the admin only when the mail could not be sent.
    pub temporary_password: Option<String>,
}

pub struct CustomerAdmin {
    store: Arc<dyn CustomerStore>,
    sessions: Arc<dyn ActiveSessionStore>,
    audit_log: Arc<dyn AuditStore>,
    hasher: PasswordHasher,
    mailer: Arc<Mailer>,
    erp: Arc<dyn ErpSource>,
    login_url: String,
    /// Customers' own teams and where invitation links lead (`APP_BASE_URL`); `None`:
    /// no teams (tests that build the service bare).
    teams: Option<(Arc<dyn crate::store::TeamStore>, String)>,
}

impl std::fmt::Debug for CustomerAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerAdmin")
            .field("mailer", &self.mailer)
            .finish_non_exhaustive()
    }
}

fn audit(
    actor: &AdminIdentity,
    action: Action,
    id: Option<CustomerId>,
    email: &str,
    details: String,
) -> NewAuditEntry {
    NewAuditEntry {
        timestamp: OffsetDateTime::now_utc(),
        admin_username: actor.username.clone(),
        action_type: action.as_str().to_owned(),
        target_customer_id: id,
        target_customer_email: Some(email.to_owned()),
        details: Some(details),
    }
}

/// The name facts the old portal's sentences name a customer by.
fn names(first: &str, last: Option<&str>) -> Value {
    json!({ "first_name": first, "last_name": last.unwrap_or("") })
}

impl CustomerAdmin {
    pub fn new(
        store: Arc<dyn CustomerStore>,
        sessions: Arc<dyn ActiveSessionStore>,
        audit_log: Arc<dyn AuditStore>,
        hasher: PasswordHasher,
        mailer: Arc<Mailer>,
        erp: Arc<dyn ErpSource>,
        login_url: String,
    ) -> Self {
        CustomerAdmin {
            store,
            sessions,
            audit_log,
            hasher,
            mailer,
            erp,
            login_url,
            teams: None,
        }
    }

    /// Lets staff make team managers and managers run their team; invitation links lead
    /// to `base_url`.
    pub fn with_teams(mut self, teams: Arc<dyn crate::store::TeamStore>, base_url: String) -> Self {
        self.teams = Some((teams, base_url.trim_end_matches('/').to_owned()));
        self
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Checks the form; returns the parsed values or every problem at once.
    async fn validate(
        &self,
        input: &CustomerInput,
    ) -> Result<(String, Option<String>, Email, String), CustomerError> {
        let mut errors = FieldErrors::new();
        let first = input.first_name.trim().to_owned();
        if first.is_empty() {
            errors.insert("first_name", "First name is required.".to_owned());
        } else if !crate::store::fits::FIRST_NAME.holds(&first) {
            errors.insert(
                "first_name",
                "First name is too long (100 characters at most).".to_owned(),
            );
        }
        let last = input.last_name.trim().to_owned();
        if !crate::store::fits::LAST_NAME.holds(&last) {
            errors.insert(
                "last_name",
                "Last name is too long (100 characters at most).".to_owned(),
            );
        }
        let email = match Email::parse(&input.email) {
            Ok(e) => Some(e),
            Err(m) => {
                errors.insert("email", m.to_owned());
                None
            }
        };
        let erp = match self.erp_scope_of(&input.erp_customer_names).await {
            Ok(stored) => Some(stored),
            Err(message) => {
                errors.insert("erp_customer_names", message);
                None
            }
        };
        if !errors.is_empty() {
            return Err(CustomerError::Invalid(errors));
        }
        // An empty last name is stored as '', never NULL (the old portal's column is NOT NULL).
        Ok((
            first,
            Some(last),
            email.expect("checked"),
            erp.expect("checked"),
        ))
    }

    /// The stored scope (`All`, or the sorted `|` list as the ERP spells each name) for
    /// the ERP customer names an admin chose, or what is wrong with them. The one check
    /// for every scope an admin gives (accounts and API tokens): `All` exactly, otherwise
    /// only names the ERP knows, compared trimmed and case-insensitively (accounts carried
    /// over from the old portal may differ in case or spacing), so a typo or a look-alike
    /// (a Cyrillic `Аll`) cannot silently show an empty portal or mislead whoever reads
    /// the list; and a list that fits the old portal's column and its index (850 characters).
    pub async fn erp_scope_of(&self, raw: &[String]) -> Result<String, String> {
        let mut names: Vec<String> = raw
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if names.iter().any(|n| n == "All") {
            return Ok(ErpScope::All.to_stored());
        }
        if names.is_empty() {
            return Err("Choose at least one ERP customer, or All.".to_owned());
        }
        if names.iter().any(|n| n.contains('|')) {
            return Err("ERP customer names cannot contain |.".to_owned());
        }
        match self.erp.customer_names().await {
            Ok(known) => {
                let mut unknown: Vec<String> = Vec::new();
                for n in names.iter_mut() {
                    let wanted = n.to_lowercase();
                    match known.iter().find(|k| k.trim().to_lowercase() == wanted) {
                        Some(k) => *n = k.clone(),
                        None => unknown.push(n.clone()),
                    }
                }
                if !unknown.is_empty() {
                    return Err(format!("Not an ERP customer: {}", unknown.join(", ")));
                }
            }
            Err(e) => tracing::warn!(error = %e, "ERP names not checked: ERP unavailable"),
        }
        let stored = ErpScope::parse(&ErpScope::Customers(names).to_stored()).to_stored();
        if stored.chars().count() > MAX_SCOPE_CHARS {
            return Err(format!(
                "Too many ERP customers for one account or token: the list is {} characters, at most {MAX_SCOPE_CHARS} fit. Choose fewer, or All.",
                stored.chars().count()
            ));
        }
        Ok(stored)
    }

    async fn mail(
        &self,
        actor: &AdminIdentity,
        customer: &Customer,
        password: &str,
        welcome: bool,
    ) -> bool {
        let mail = if welcome {
            templates::welcome(
                &customer.first_name,
                &customer.email,
                password,
                &self.login_url,
            )
        } else {
            templates::password_reset(
                &customer.first_name,
                &customer.email,
                password,
                &self.login_url,
            )
        };
        // Sending and auditing the outcome run in their own task: an admin who gives up
        // (the request is dropped) cannot leave a sent-or-not mail unrecorded. The send is
        // bounded by SMTP_TIMEOUT, so the task always ends.
        let mailer = self.mailer.clone();
        let audit_log = self.audit_log.clone();
        let (actor, id, email) = (actor.clone(), customer.id, customer.email.clone());
        let task = tokio::spawn(async move {
            let outcome = mailer.send(&mail).await;
            // The reset itself was audited with the new password, before the mail (as
            // the old portal did); a mail that did not go out is recorded too.
            let entry = match &outcome {
                Ok(()) => None,
                Err(e) => Some(audit(
                    &actor,
                    Action::EmailSendFailed,
                    Some(id),
                    &email,
                    Action::EmailSendFailed.details(&json!({ "mail": if welcome { "welcome" } else { "password_reset" }, "error": e.to_string() })),
                )),
            };
            if let Some(entry) = entry
                && let Err(e) = audit_log.append_audit(&entry).await
            {
                tracing::error!(error = %e, "could not audit the mail's outcome");
            }
            outcome.is_ok()
        });
        task.await.unwrap_or(false)
    }

    pub async fn create(
        &self,
        grant: &AdminGrant<'_>,
        input: &CustomerInput,
    ) -> Result<PasswordIssued, CustomerError> {
        let actor = grant.admin();
        let (first, last, email, erp) = self.validate(input).await?;
        let password = temporary_password();
        let new = NewCustomer {
            first_name: first,
            last_name: last,
            email: email.clone(),
            password_hash: self.hasher.hash(&password).await,
            erp_customer_name: erp.clone(),
            must_reset_password: true,
        };
        let mut facts = names(&new.first_name, new.last_name.as_deref());
        facts["erp_customer_name"] = json!(erp);
        let entry = audit(
            actor,
            Action::CustomerCreate,
            None,
            email.as_str(),
            Action::CustomerCreate.details(&facts),
        );
        let customer = self.store.insert_customer(&new, &entry).await?;
        let email_sent = self.mail(actor, &customer, &password, true).await;
        Ok(PasswordIssued {
            customer,
            email_sent,
            kept_in_outbox: self.mailer.outbox().is_some(),
            temporary_password: (!email_sent).then_some(password),
        })
    }

    pub async fn update(
        &self,
        grant: &AdminGrant<'_>,
        id: CustomerId,
        input: &CustomerInput,
    ) -> Result<Customer, CustomerError> {
        let actor = grant.admin();
        let before = self
            .store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        let (first, last, email, erp) = self.validate(input).await?;
        let changes = CustomerChanges {
            first_name: first,
            last_name: last,
            email,
            erp_customer_name: erp,
            is_active: input.is_active.unwrap_or(before.is_active),
        };
        let last = |l: &Option<String>| json!(l.clone().unwrap_or_default());
        let diff = Action::update_details(&[
            (
                "first_name",
                json!(before.first_name),
                json!(changes.first_name),
            ),
            (
                "last_name",
                last(&before.last_name),
                last(&changes.last_name),
            ),
            ("email", json!(before.email), json!(changes.email.as_str())),
            (
                "erp_customer_name",
                json!(before.erp_customer_name),
                json!(changes.erp_customer_name),
            ),
            (
                "is_active",
                json!(before.is_active),
                json!(changes.is_active),
            ),
        ]);
        // Nothing changed: nothing written, no row (as the old portal).
        let Some(diff) = diff else {
            return Ok(before);
        };
        let deactivating = before.is_active && !changes.is_active;
        let mut audits = vec![audit(
            actor,
            Action::CustomerUpdate,
            Some(id),
            changes.email.as_str(),
            diff,
        )];
        if before.is_active != changes.is_active {
            let action = if deactivating {
                Action::CustomerDeactivate
            } else {
                Action::CustomerReactivate
            };
            audits.push(audit(
                actor,
                action,
                Some(id),
                changes.email.as_str(),
                action.details(&names(&changes.first_name, changes.last_name.as_deref())),
            ));
        }
        let updated = self
            .store
            .update_customer(id, &changes, deactivating, &audits)
            .await?;
        if updated.erp_customer_name != before.erp_customer_name {
            // A narrower manager: their colleagues' stored scopes follow.
            self.narrow_team_to(actor, &updated).await?;
        }
        Ok(updated)
    }

    /// Deactivating ends the account's sessions at once.
    pub async fn set_active(
        &self,
        grant: &AdminGrant<'_>,
        id: CustomerId,
        active: bool,
    ) -> Result<Customer, CustomerError> {
        let actor = grant.admin();
        let before = self
            .store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        if before.is_active == active {
            return Ok(before);
        }
        let changes = CustomerChanges {
            first_name: before.first_name.clone(),
            last_name: before.last_name.clone(),
            email: Email::parse(&before.email)
                .map_err(|m| StoreError::Backend(format!("stored email invalid: {m}")))?,
            erp_customer_name: before.erp_customer_name.clone(),
            is_active: active,
        };
        let action = if active {
            Action::CustomerReactivate
        } else {
            Action::CustomerDeactivate
        };
        let entry = audit(
            actor,
            action,
            Some(id),
            &before.email,
            action.details(&names(&before.first_name, before.last_name.as_deref())),
        );
        Ok(self
            .store
            .update_customer(id, &changes, !active, &[entry])
            .await?)
    }

    /// A new temporary password, the reset flag set, every session ended, a reset mail.
    pub async fn reset_password(
        &self,
        grant: &AdminGrant<'_>,
        id: CustomerId,
    ) -> Result<PasswordIssued, CustomerError> {
        let actor = grant.admin();
        let mut customer = self
            .store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        let password = temporary_password();
        let hash = self.hasher.hash(&password).await;
        let entry = audit(
            actor,
            Action::AdminPwResetEmail,
            Some(id),
            &customer.email,
            Action::AdminPwResetEmail
                .details(&names(&customer.first_name, customer.last_name.as_deref())),
        );
        self.store
            .change_password(id, &hash, true, None, &entry)
            .await?;
        // What the store just wrote; no need to read the row back.
        customer.password_hash = hash;
        customer.must_reset_password = true;
        let email_sent = self.mail(actor, &customer, &password, false).await;
        Ok(PasswordIssued {
            customer,
            email_sent,
            kept_in_outbox: self.mailer.outbox().is_some(),
            temporary_password: (!email_sent).then_some(password),
        })
    }

    /// Turns the account's two-step sign-in off without its code (a lost phone): audited
    /// under the admin's name and mailed to the customer. Whether it was on (nothing is
    /// mailed when it was not).
    pub async fn reset_two_factor(
        &self,
        grant: &AdminGrant<'_>,
        id: CustomerId,
        two_factor: &crate::auth::two_factor::TwoFactor,
    ) -> Result<(Customer, bool), CustomerError> {
        let actor = grant.admin();
        let customer = self
            .store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        let target = crate::auth::two_factor::AuditTarget {
            customer_id: Some(id),
            email: Some(&customer.email),
            actor: &actor.username,
        };
        let was_on = two_factor
            .reset(&crate::auth::two_factor::customer_account(id), target)
            .await
            .map_err(|_| {
                CustomerError::Store(crate::store::StoreError::Unavailable(
                    "two-step sign-in could not be reset".into(),
                ))
            })?;
        if was_on {
            let mail = crate::mail::templates::two_factor_reset(
                &customer.first_name,
                &customer.email,
                &self.login_url,
            );
            if let Err(e) = self.mailer.send(&mail).await {
                tracing::warn!(error = %e, customer_id = %id, "two-step reset mail not sent");
            }
        }
        Ok((customer, was_on))
    }

    /// Ends one customer session; `false` if it was already gone.
    pub async fn kick(
        &self,
        grant: &AdminGrant<'_>,
        session_id: &str,
    ) -> Result<bool, CustomerError> {
        let actor = grant.admin();
        let Some((session, customer)) = self.sessions.session_with_customer(session_id).await?
        else {
            return Ok(false);
        };
        tracing::info!(
            customer_id = %customer.id,
            ip = session.ip_address.as_deref(),
            started = %crate::store::format_ts(session.created_at),
            admin = %actor.username,
            "session ended by an admin"
        );
        let entry = audit(
            actor,
            Action::CustomerSessionKick,
            Some(customer.id),
            &customer.email,
            Action::CustomerSessionKick.details(&json!({ "admin_username": actor.username })),
        );
        Ok(self
            .sessions
            .end_customer_session(session_id, Some(&entry))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_meet_the_policy() {
        let a = temporary_password();
        assert_eq!(a.chars().count(), TEMP_PASSWORD_LEN);
        assert!(a.chars().count() >= crate::domain::NewPassword::MIN_CHARS);
        assert_ne!(a, temporary_password());
        assert!(!a.contains(['0', 'O', '1', 'l', 'I']));
    }
}
