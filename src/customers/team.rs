//! A customer's own team: staff make an account the team manager of its scope; the
//! manager invites colleagues by mail (a single-use link, 72 hours, only its hash kept),
//! gives each all or part of the manager's own scope (never wider: checked on every change
//! here, and on every request when the colleague's session is read), deactivates and
//! reactivates them and mails invitations again. Every change is audited in the same
//! transaction, naming the manager (by email) as the actor.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;

use super::{CustomerAdmin, CustomerError, FieldErrors, audit};
use crate::auth::access::{AdminGrant, TeamGrant};
use crate::domain::audit::Action;
use crate::domain::{CustomerId, Email, ErpScope};
use crate::mail::templates;
use crate::store::{Customer, CustomerChanges, NewAuditEntry, NewCustomer, StoreError, TeamLinks};

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(72 * 3600);

/// What a manager typed to invite a colleague.
#[derive(Debug, Clone, Default)]
pub struct ColleagueInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `["All"]` or ERP customer names: all or part of the manager's own.
    pub erp_customer_names: Vec<String>,
}

/// A colleague as their manager sees them.
#[derive(Debug, Clone)]
pub struct Colleague {
    pub customer: Customer,
    /// The invitation was not accepted yet (no password of their own).
    pub invitation_pending: bool,
}

impl From<Customer> for Colleague {
    fn from(customer: Customer) -> Self {
        Colleague {
            invitation_pending: customer.must_reset_password,
            customer,
        }
    }
}

/// An invitation made: the colleague's account, and whether the mail went out.
#[derive(Debug, Clone)]
pub struct InviteOutcome {
    pub colleague: Colleague,
    pub email_sent: bool,
}

/// An audit row of a manager's action on a colleague.
fn manager_audit(
    grant: &TeamGrant<'_>,
    action: Action,
    colleague: Option<CustomerId>,
    email: &str,
    data: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        timestamp: OffsetDateTime::now_utc(),
        admin_username: grant.manager().email.clone(),
        action_type: action.as_str().to_owned(),
        target_customer_id: colleague,
        target_customer_email: Some(email.to_owned()),
        details: Some(action.details(&data)),
    }
}

fn scope_error(message: &str) -> CustomerError {
    let mut f = FieldErrors::new();
    f.insert("erp_customer_names", message.to_owned());
    CustomerError::Invalid(f)
}

const WIDER: &str = "A colleague can be given only ERP customers your own account sees.";

impl CustomerAdmin {
    fn teams(
        &self,
    ) -> Result<&(std::sync::Arc<dyn crate::store::TeamStore>, String), CustomerError> {
        self.teams
            .as_ref()
            .ok_or_else(|| CustomerError::Store(StoreError::Backend("teams are not set up".into())))
    }

    /// The stored scope for `names` if it is within the manager's own, or the field error.
    async fn colleague_scope(
        &self,
        grant: &TeamGrant<'_>,
        names: &[String],
    ) -> Result<String, CustomerError> {
        let stored = self
            .erp_scope_of(names)
            .await
            .map_err(|m| scope_error(&m))?;
        if !ErpScope::parse(&stored).within(grant.scope()) {
            tracing::warn!(manager = %grant.manager().customer_id, "a team manager asked for a colleague scope wider than their own: refused");
            return Err(scope_error(WIDER));
        }
        Ok(stored)
    }

    /// The colleague `id` of this manager, or `NotFound` (another manager's colleague, or
    /// any other account, is not theirs to see).
    async fn own_colleague(
        &self,
        grant: &TeamGrant<'_>,
        id: CustomerId,
    ) -> Result<Customer, CustomerError> {
        let (teams, _) = self.teams()?;
        let place = teams.team_place(id).await?;
        if place.managed_by.map(|l| l.id) != Some(grant.manager().customer_id) {
            return Err(CustomerError::NotFound);
        }
        self.store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)
    }

    /// Makes the account its scope's team manager (`on`) or stops it; its colleagues are
    /// then nobody's (their accounts and scopes stay). A colleague cannot manage a team.
    pub async fn set_team_manager(
        &self,
        grant: &AdminGrant<'_>,
        id: CustomerId,
        on: bool,
    ) -> Result<Customer, CustomerError> {
        let (teams, _) = self.teams()?;
        let actor = grant.admin();
        let customer = self
            .store
            .customer_by_id(id)
            .await?
            .ok_or(CustomerError::NotFound)?;
        if on && teams.team_place(id).await?.managed_by.is_some() {
            let mut f = FieldErrors::new();
            f.insert(
                "team_manager",
                "This account is a colleague in another account's team; it cannot manage one."
                    .to_owned(),
            );
            return Err(CustomerError::Invalid(f));
        }
        let action = if on {
            Action::TeamManagerOn
        } else {
            Action::TeamManagerOff
        };
        let entry = audit(
            actor,
            action,
            Some(id),
            &customer.email,
            action.details(&json!({ "erp_customer_name": customer.erp_customer_name })),
        );
        let changed = teams
            .set_team_manager(id, on, &actor.username, OffsetDateTime::now_utc(), &entry)
            .await?;
        tracing::info!(customer_id = %id, on, changed, admin = %actor.username, "team manager set");
        Ok(customer)
    }

    /// Every team, for staff.
    pub async fn team_links(&self, _grant: &AdminGrant<'_>) -> Result<TeamLinks, CustomerError> {
        let (teams, _) = self.teams()?;
        Ok(teams.team_links().await?)
    }

    /// The ERP customers the manager may give a colleague: their own, or every ERP
    /// customer when they see all.
    pub async fn assignable_names(
        &self,
        grant: &TeamGrant<'_>,
    ) -> Result<Vec<String>, CustomerError> {
        match grant.scope() {
            ErpScope::All => self.erp.customer_names().await.map_err(|e| {
                tracing::warn!(error = %e, "ERP names for a team manager: ERP unavailable");
                CustomerError::Store(StoreError::Unavailable("the ERP did not answer".into()))
            }),
            ErpScope::Customers(names) => Ok(names.clone()),
            ErpScope::Nothing => Ok(Vec::new()),
        }
    }

    /// The manager's colleagues.
    pub async fn colleagues(&self, grant: &TeamGrant<'_>) -> Result<Vec<Colleague>, CustomerError> {
        let (teams, _) = self.teams()?;
        Ok(teams
            .colleagues(grant.manager().customer_id)
            .await?
            .into_iter()
            .map(Colleague::from)
            .collect())
    }

    /// Invites a colleague: a new account within the manager's scope, with no usable
    /// password until the mailed link is used.
    pub async fn invite_colleague(
        &self,
        grant: &TeamGrant<'_>,
        input: &ColleagueInput,
    ) -> Result<InviteOutcome, CustomerError> {
        let (teams, base_url) = self.teams()?;
        let (first, last, email, _) = self
            .validate(&super::CustomerInput {
                first_name: input.first_name.clone(),
                last_name: input.last_name.clone(),
                email: input.email.clone(),
                // Checked below against the manager's own scope.
                erp_customer_names: vec!["All".to_owned()],
                is_active: None,
            })
            .await?;
        let erp = self
            .colleague_scope(grant, &input.erp_customer_names)
            .await?;
        // Nobody knows this password: the account opens through the link only.
        let unusable = self.hasher.hash(&crate::auth::reset::new_secret()).await;
        let new = NewCustomer {
            first_name: first,
            last_name: last,
            email: email.clone(),
            password_hash: unusable,
            erp_customer_name: erp.clone(),
            must_reset_password: true,
        };
        let secret = crate::auth::reset::new_secret();
        let now = OffsetDateTime::now_utc();
        let expiry = now + time::Duration::try_from(INVITATION_LIFETIME).expect("small duration");
        let mut facts = super::names(&new.first_name, new.last_name.as_deref());
        facts["erp_customer_name"] = json!(erp);
        let entry = manager_audit(grant, Action::TeamInvite, None, email.as_str(), facts);
        let customer = teams
            .invite_colleague(
                grant.manager().customer_id,
                &new,
                &crate::auth::tokens::hash_secret(&secret),
                expiry,
                now,
                &entry,
            )
            .await?;
        tracing::info!(manager = %grant.manager().customer_id, colleague = %customer.id, "colleague invited");
        let email_sent = self
            .mail_invitation(grant, &customer, base_url, &secret)
            .await;
        Ok(InviteOutcome {
            colleague: customer.into(),
            email_sent,
        })
    }

    async fn mail_invitation(
        &self,
        grant: &TeamGrant<'_>,
        colleague: &Customer,
        base_url: &str,
        secret: &str,
    ) -> bool {
        let link = format!("{base_url}/invitation?token={secret}");
        let manager = grant.manager();
        let mail = templates::team_invitation(
            &colleague.first_name,
            &colleague.email,
            &format!("{} ({})", manager.display_name(), manager.email),
            &link,
            INVITATION_LIFETIME,
        );
        match self.mailer.send(&mail).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, colleague = %colleague.id, "invitation mail not sent");
                false
            }
        }
    }

    /// A new invitation link for a colleague who has not accepted yet (earlier links stop
    /// working).
    pub async fn resend_invitation(
        &self,
        grant: &TeamGrant<'_>,
        id: CustomerId,
    ) -> Result<InviteOutcome, CustomerError> {
        let (teams, base_url) = self.teams()?;
        let colleague = self.own_colleague(grant, id).await?;
        if !colleague.must_reset_password || !colleague.is_active {
            let mut f = FieldErrors::new();
            f.insert(
                "invitation",
                if colleague.is_active {
                    "This colleague already accepted the invitation."
                } else {
                    "Reactivate this colleague before inviting them again."
                }
                .to_owned(),
            );
            return Err(CustomerError::Invalid(f));
        }
        let secret = crate::auth::reset::new_secret();
        let now = OffsetDateTime::now_utc();
        let expiry = now + time::Duration::try_from(INVITATION_LIFETIME).expect("small duration");
        let entry = manager_audit(
            grant,
            Action::TeamInviteResend,
            Some(id),
            &colleague.email,
            json!({}),
        );
        teams
            .reissue_invitation(
                id,
                &crate::auth::tokens::hash_secret(&secret),
                expiry,
                now,
                &entry,
            )
            .await?;
        let email_sent = self
            .mail_invitation(grant, &colleague, base_url, &secret)
            .await;
        Ok(InviteOutcome {
            colleague: colleague.into(),
            email_sent,
        })
    }

    /// Gives a colleague all or part of the manager's own scope.
    pub async fn set_colleague_scope(
        &self,
        grant: &TeamGrant<'_>,
        id: CustomerId,
        names: &[String],
    ) -> Result<Colleague, CustomerError> {
        let before = self.own_colleague(grant, id).await?;
        let erp = self.colleague_scope(grant, names).await?;
        if erp == before.erp_customer_name {
            return Ok(before.into());
        }
        let entry = manager_audit(
            grant,
            Action::TeamScopeChange,
            Some(id),
            &before.email,
            json!({ "before": before.erp_customer_name, "after": erp }),
        );
        let changes = changes_of(&before, Some(erp), None)?;
        Ok(self
            .store
            .update_customer(id, &changes, false, &[entry])
            .await?
            .into())
    }

    /// Deactivates (every session ends at once) or reactivates a colleague.
    pub async fn set_colleague_active(
        &self,
        grant: &TeamGrant<'_>,
        id: CustomerId,
        active: bool,
    ) -> Result<Colleague, CustomerError> {
        let before = self.own_colleague(grant, id).await?;
        if before.is_active == active {
            return Ok(before.into());
        }
        let action = if active {
            Action::TeamMemberReactivate
        } else {
            Action::TeamMemberDeactivate
        };
        let entry = manager_audit(
            grant,
            action,
            Some(id),
            &before.email,
            super::names(&before.first_name, before.last_name.as_deref()),
        );
        let changes = changes_of(&before, None, Some(active))?;
        Ok(self
            .store
            .update_customer(id, &changes, !active, &[entry])
            .await?
            .into())
    }

    /// After staff changed a manager's scope: every colleague's stored scope is cut to
    /// the manager's new one (audited under the admin's name), so the stored value is
    /// true for the old portal too. Sessions read the cut scope on their next request
    /// whatever happens here.
    pub(super) async fn narrow_team_to(
        &self,
        actor: &crate::auth::AdminIdentity,
        manager: &Customer,
    ) -> Result<(), CustomerError> {
        let Some((teams, _)) = self.teams.as_ref() else {
            return Ok(());
        };
        if !teams.team_place(manager.id).await?.manager {
            return Ok(());
        }
        let outer = ErpScope::parse(&manager.erp_customer_name);
        for colleague in teams.colleagues(manager.id).await? {
            let cut = ErpScope::parse(&colleague.erp_customer_name)
                .intersection(&outer)
                .to_stored();
            if cut == colleague.erp_customer_name {
                continue;
            }
            let entry = audit(
                actor,
                Action::TeamScopeNarrowed,
                Some(colleague.id),
                &colleague.email,
                Action::TeamScopeNarrowed.details(&json!({
                    "before": colleague.erp_customer_name,
                    "after": cut,
                    "manager": manager.email,
                })),
            );
            let changes = changes_of(&colleague, Some(cut), None)?;
            self.store
                .update_customer(colleague.id, &changes, false, &[entry])
                .await?;
        }
        Ok(())
    }
}

/// The account as it is, with its scope or its active flag changed.
fn changes_of(
    c: &Customer,
    erp: Option<String>,
    active: Option<bool>,
) -> Result<CustomerChanges, CustomerError> {
    Ok(CustomerChanges {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone(),
        email: Email::parse(&c.email)
            .map_err(|m| StoreError::Backend(format!("stored email invalid: {m}")))?,
        erp_customer_name: erp.unwrap_or_else(|| c.erp_customer_name.clone()),
        is_active: active.unwrap_or(c.is_active),
    })
}
